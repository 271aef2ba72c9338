"""Condition operators, missing keys, IfExists, set qualifiers, and the Principal/Not* elements."""

from __future__ import annotations

from typing import Any

import pytest

from latsim.auth import Principal, RequestContext, build_context, parse_policy

ACCT = "111122223333"
OTHER = "444455556666"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
INVOKE = "vpc-lattice-svcs:Invoke"
K = "test:Key"


def raw_ctx(values: dict[str, Any], principal: Principal | None = None) -> RequestContext:
    vals = {k.lower(): (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
    return RequestContext(action=INVOKE, resource=f"{SVC}/x", principal=principal, values=vals)


def holds(operator: str, policy_values: Any, request_value: Any = None, *, key: str = K,
          version: str = "2012-10-17") -> bool:
    """Does ``{operator: {key: policy_values}}`` hold when the request has ``key = request_value``?"""
    p = parse_policy({"Version": version, "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {operator: {key: policy_values}}}]})
    values = {} if request_value is None else {key: request_value}
    return p.evaluate(raw_ctx(values)).verdict == "allow"


MISSING = None


# --- string operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("StringEquals", "GET", "GET", True),
    ("StringEquals", "GET", "get", False),
    ("StringEquals", ["GET", "HEAD"], "HEAD", True),
    ("StringEquals", "GET", MISSING, False),
    ("StringNotEquals", "GET", "POST", True),
    ("StringNotEquals", "GET", "GET", False),
    ("StringNotEquals", ["GET", "HEAD"], "HEAD", False),  # NOR across values
    ("StringNotEquals", ["GET", "HEAD"], "PUT", True),
    ("StringNotEquals", "GET", MISSING, True),  # negated operator, missing key
    ("StringEqualsIgnoreCase", "get", "GET", True),
    ("StringEqualsIgnoreCase", "get", "PUT", False),
    ("StringEqualsIgnoreCase", "get", MISSING, False),
    ("StringNotEqualsIgnoreCase", "anonymous", "Anonymous", False),
    ("StringNotEqualsIgnoreCase", "anonymous", "AssumedRole", True),
    ("StringNotEqualsIgnoreCase", "anonymous", MISSING, True),
    ("StringLike", "/api/*", "/api/v1/x", True),
    ("StringLike", "/api/*", "/API/v1", False),
    ("StringLike", "/v?/x", "/v1/x", True),
    ("StringLike", "/v?/x", "/v10/x", False),
    ("StringLike", "*", "", True),
    ("StringLike", "a*", MISSING, False),
    ("StringLike", "[ab]", "[ab]", True),  # '[' is literal in IAM
    ("StringLike", "[ab]", "a", False),
    ("StringNotLike", ["/admin*", "/internal*"], "/internal/x", False),
    ("StringNotLike", ["/admin*", "/internal*"], "/public", True),
    ("StringNotLike", "/admin*", MISSING, True),
])
def test_string_operators(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


# --- numeric and date -----------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("NumericEquals", "443", "443", True),
    ("NumericEquals", 443, "443", True),
    ("NumericEquals", ["80", "443"], "80", True),
    ("NumericEquals", "443", "8443", False),
    ("NumericEquals", "443", MISSING, False),
    ("NumericEquals", "1.5", "1.50", True),
    ("NumericNotEquals", ["80", "443"], "443", False),
    ("NumericNotEquals", ["80", "443"], "8080", True),
    ("NumericNotEquals", "443", MISSING, True),
    ("NumericLessThan", "1024", "443", True),
    ("NumericLessThan", "1024", "1024", False),
    ("NumericLessThanEquals", "1024", "1024", True),
    ("NumericGreaterThan", "1024", "8080", True),
    ("NumericGreaterThan", "1024", "1024", False),
    ("NumericGreaterThanEquals", "1024", "1024", True),
    ("NumericGreaterThanEquals", "1024", MISSING, False),
    ("NumericEquals", "443", "not-a-number", False),
])
def test_numeric_operators(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("DateEquals", "2025-01-31T00:00:00Z", "2025-01-31T00:00:00Z", True),
    ("DateEquals", "2025-01-31", "2025-01-31T00:00:00+00:00", True),
    ("DateNotEquals", "2025-01-31T00:00:00Z", "2025-02-01T00:00:00Z", True),
    ("DateNotEquals", "2025-01-31T00:00:00Z", MISSING, True),
    ("DateLessThan", "2025-06-01T00:00:00Z", "2025-05-31T23:59:59Z", True),
    ("DateLessThan", "2025-06-01T00:00:00Z", "2025-06-01T00:00:00Z", False),
    ("DateLessThanEquals", "2025-06-01T00:00:00Z", "2025-06-01T00:00:00Z", True),
    ("DateGreaterThan", "2025-06-01T00:00:00Z", "2025-06-01T00:00:01Z", True),
    ("DateGreaterThanEquals", "2025-06-01T00:00:00Z", "2025-06-01T00:00:00Z", True),
    ("DateGreaterThan", "1748736000", "2025-06-01T00:00:01Z", True),  # epoch seconds
    ("DateLessThan", "2025-06-01T00:00:00Z", MISSING, False),
])
def test_date_operators(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


def test_current_time_from_build_context_drives_date_conditions() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:CurrentTime": "2025-06-01T00:00:00Z"}}}]})
    before = build_context(service_arn=SVC, now=1748735999.0)
    after = build_context(service_arn=SVC, now=1748736001.0)
    assert p.evaluate(before).verdict == "allow"
    assert p.evaluate(after).verdict == "none"


# --- bool, binary, null -------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("Bool", "true", "true", True),
    ("Bool", True, "true", True),
    ("Bool", "TRUE", "true", True),
    ("Bool", "true", "false", False),
    ("Bool", "false", MISSING, False),
    ("BoolIfExists", "false", MISSING, True),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", True),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "b3RoZXI=", False),
    ("Null", "true", MISSING, True),
    ("Null", "true", "x", False),
    ("Null", "false", "x", True),
    ("Null", "false", MISSING, False),
    ("Null", "true", [], True),  # an empty multi-valued key counts as absent
])
def test_bool_binary_and_null(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


# --- IP addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("IpAddress", "10.0.0.0/16", "10.0.42.7", True),
    ("IpAddress", "10.0.0.0/16", "10.1.0.1", False),
    ("IpAddress", "192.0.2.7", "192.0.2.7", True),
    ("IpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "192.168.1.1", True),
    ("IpAddress", "2001:db8::/32", "2001:db8:1::5", True),
    ("IpAddress", "2001:db8::/32", "2001:db9::5", False),
    ("IpAddress", "10.0.0.0/8", "2001:db8::1", False),  # v4 block never holds a v6 address
    ("IpAddress", "10.0.0.0/8", MISSING, False),
    ("IpAddress", "10.0.0.0/8", "not-an-ip", False),
    ("NotIpAddress", "10.0.0.0/8", "192.0.2.1", True),
    ("NotIpAddress", "10.0.0.0/8", "10.2.3.4", False),
    ("NotIpAddress", "10.0.0.0/8", MISSING, True),
    ("NotIpAddress", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", False),
])
def test_ip_operators(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value, key="aws:SourceIp") is expected


# --- ARN operators ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("ArnEquals", f"arn:aws:iam::{ACCT}:role/a", f"arn:aws:iam::{ACCT}:role/a", True),
    ("ArnEquals", f"arn:aws:iam::{ACCT}:role/a", f"arn:aws:iam::{ACCT}:role/b", False),
    ("ArnLike", "arn:aws:iam::*:role/rates-*", f"arn:aws:iam::{ACCT}:role/rates-client", True),
    ("ArnLike", "arn:aws:iam::*:role/rates-*", f"arn:aws:iam::{ACCT}:role/billing", False),
    ("ArnLike", "arn:aws:iam::1111*:role/x", f"arn:aws:iam::{ACCT}:role/x", True),
    # '*' in an ARN part stays inside that part
    ("ArnLike", "arn:aws:iam::*:role/x", f"arn:aws:iam::{ACCT}:{OTHER}:role/x", False),
    ("ArnNotEquals", f"arn:aws:iam::{ACCT}:role/a", f"arn:aws:iam::{ACCT}:role/b", True),
    ("ArnNotLike", "arn:aws:iam::*:role/admin*", f"arn:aws:iam::{ACCT}:role/admin-1", False),
    ("ArnNotLike", "arn:aws:iam::*:role/admin*", MISSING, True),
    ("ArnLike", "arn:aws:iam::*:role/*", MISSING, False),
])
def test_arn_operators(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value, key="aws:PrincipalArn") is expected


# --- IfExists -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("StringEqualsIfExists", "GET", MISSING, True),
    ("StringEqualsIfExists", "GET", "GET", True),
    ("StringEqualsIfExists", "GET", "POST", False),
    ("StringNotEqualsIfExists", "GET", MISSING, True),
    ("StringNotEqualsIfExists", "GET", "GET", False),
    ("StringLikeIfExists", "/a*", MISSING, True),
    ("NumericLessThanIfExists", "10", MISSING, True),
    ("NumericLessThanIfExists", "10", "11", False),
    ("DateGreaterThanIfExists", "2025-01-01", MISSING, True),
    ("IpAddressIfExists", "10.0.0.0/8", MISSING, True),
    ("IpAddressIfExists", "10.0.0.0/8", "11.0.0.1", False),
    ("ArnLikeIfExists", "arn:aws:iam::*:role/*", MISSING, True),
    ("BinaryEqualsIfExists", "QQ==", MISSING, True),
])
def test_if_exists_makes_a_missing_key_true_and_tests_a_present_one(
        operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


# --- ForAnyValue / ForAllValues ---------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "b"], True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "y"], False),
    ("ForAnyValue:StringEquals", ["a", "b"], MISSING, False),
    ("ForAnyValue:StringEquals", ["a", "b"], [], False),
    ("ForAnyValue:StringEquals", ["a"], "a", True),  # a single value is a one-element set
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "x"], False),
    ("ForAllValues:StringEquals", ["a", "b"], MISSING, True),
    ("ForAllValues:StringEquals", ["a", "b"], [], True),
    ("ForAnyValue:StringLike", ["o-a/r-1/ou-*"], ["o-a/r-1/ou-x/", "o-b/"], True),
    ("ForAllValues:StringLike", ["o-a/*"], ["o-a/1", "o-b/2"], False),
    ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "c"], True),
    ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"], False),
    ("ForAnyValue:StringNotEquals", ["a", "b"], MISSING, False),
    ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "d"], True),
    ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "a"], False),
    ("ForAllValues:StringNotEquals", ["a", "b"], MISSING, True),
    ("ForAnyValue:StringEqualsIfExists", ["a"], MISSING, True),
    ("ForAnyValue:NumericGreaterThan", "10", ["5", "20"], True),
    ("ForAllValues:NumericGreaterThan", "10", ["5", "20"], False),
])
def test_set_qualifiers(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


@pytest.mark.parametrize(("operator", "policy_values", "request_value", "expected"), [
    ("StringEquals", "corge", ["corge"], True),
    ("StringEquals", "corge", ["quux", "corge"], True),
    ("StringEquals", "corge", ["quux"], False),
    ("StringNotEquals", "corge", ["quux", "corge"], False),
    ("StringNotEquals", "corge", ["quux", "grault"], True),
])
def test_multi_valued_key_without_a_qualifier(operator: str, policy_values: Any, request_value: Any,
                                              expected: bool) -> None:
    assert holds(operator, policy_values, request_value) is expected


def test_query_string_values_are_a_set() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": INVOKE, "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"vpc-lattice-svcs:RequestQueryString/quux": "grault"}}}]})
    c = build_context(service_arn=SVC, path="/", query={"quux": ["corge", "grault"]})
    assert p.evaluate(c).verdict == "allow"
    assert p.evaluate(build_context(service_arn=SVC, path="/", query={"quux": ["corge"]})).verdict == "none"
    # gRPC requests carry no query string
    grpc = build_context(service_arn=SVC, path="/a.B/C", query={"quux": ["grault"]}, grpc=True)
    assert p.evaluate(grpc).verdict == "none"


# --- AND / OR structure ---------------------------------------------------------------------------------


def test_keys_and_operators_are_anded_values_are_ored() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {
            "StringEquals": {"a:x": ["1", "2"], "a:y": "3"},
            "StringLike": {"a:z": "p*"}}}]})
    assert p.evaluate(raw_ctx({"a:x": "2", "a:y": "3", "a:z": "pq"})).verdict == "allow"
    assert p.evaluate(raw_ctx({"a:x": "2", "a:y": "4", "a:z": "pq"})).verdict == "none"
    assert p.evaluate(raw_ctx({"a:x": "2", "a:y": "3", "a:z": "qq"})).verdict == "none"


def test_condition_key_names_are_case_insensitive() -> None:
    assert holds("StringEquals", "GET", "GET", key="VPC-Lattice-Svcs:requestMETHOD")
    p = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"vpc-lattice-svcs:RequestHeader/X-Tenant": "blue"}}}]})
    c = build_context(service_arn=SVC, headers={"x-TENANT": "blue"})
    assert p.evaluate(c).verdict == "allow"


def test_operator_names_are_accepted_in_any_case() -> None:
    assert holds("stringequals", "a", "a")
    assert holds("foranyvalue:stringequalsifexists", "a", None)


# --- policy variables ---------------------------------------------------------------------------------


def test_policy_variables_compare_against_other_keys() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]})
    same = Principal(f"arn:aws:iam::{ACCT}:user/ann", tags={"team": "blue"})
    other = Principal(f"arn:aws:iam::{ACCT}:user/bob", tags={"team": "red"})
    untagged = Principal(f"arn:aws:iam::{ACCT}:user/cy")
    tags = {"team": "blue"}
    assert p.evaluate(build_context(service_arn=SVC, principal=same, service_tags=tags)).verdict == "allow"
    assert p.evaluate(build_context(service_arn=SVC, principal=other, service_tags=tags)).verdict == "none"
    assert p.evaluate(build_context(service_arn=SVC, principal=untagged, service_tags=tags)).verdict == "none"
    assert "aws:principaltag/team" in p.referenced_keys


def test_policy_variable_default_and_literal_forms() -> None:
    assert holds("StringEquals", "${aws:username, 'nobody'}", "nobody")
    assert holds("StringLike", "a${*}", "a*")
    assert not holds("StringLike", "a${*}", "ab")


def test_policy_variables_are_literal_text_in_version_2008() -> None:
    assert holds("StringEquals", "${aws:username}", "${aws:username}", version="2008-10-17")


def test_policy_variables_in_resources() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*",
        "Resource": f"{SVC}/users/${{aws:username}}/*"}]})
    ann = Principal(f"arn:aws:iam::{ACCT}:user/ann")
    assert p.evaluate(build_context(service_arn=SVC, principal=ann, path="/users/ann/x")).verdict == "allow"
    assert p.evaluate(build_context(service_arn=SVC, principal=ann, path="/users/bob/x")).verdict == "none"
    assert p.evaluate(build_context(service_arn=SVC, path="/users/ann/x")).verdict == "none"
    assert p.uses_resource_path


# --- Principal / NotPrincipal / NotAction / NotResource ---------------------------------------------------


def principal_policy(element: str, value: Any, effect: str = "Allow") -> Any:
    return parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": effect, element: value, "Action": "*", "Resource": "*"}]})


def applies(p: Any, principal: Principal | None) -> bool:
    return p.statements[0].applies(build_context(service_arn=SVC, principal=principal))


USER = Principal(f"arn:aws:iam::{ACCT}:user/bob")
SESSION = Principal(f"arn:aws:sts::{ACCT}:assumed-role/rates-client/i-1")
ROOT = Principal(ACCT)
FOREIGN = Principal(f"arn:aws:sts::{OTHER}:assumed-role/rates-client/i-1")


@pytest.mark.parametrize("value", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_star_principal_includes_anonymous_callers(value: Any) -> None:
    p = principal_policy("Principal", value)
    assert applies(p, None) and applies(p, USER) and applies(p, FOREIGN)


@pytest.mark.parametrize("value", [ACCT, f"arn:aws:iam::{ACCT}:root"])
def test_account_principal_names_every_principal_of_that_account(value: str) -> None:
    p = principal_policy("Principal", {"AWS": value})
    assert applies(p, USER) and applies(p, SESSION) and applies(p, ROOT)
    assert not applies(p, FOREIGN)
    assert not applies(p, None)


def test_role_principal_names_its_sessions_only_in_its_account() -> None:
    p = principal_policy("Principal", {"AWS": f"arn:aws:iam::{ACCT}:role/team/rates-client"})
    assert applies(p, SESSION)
    assert not applies(p, FOREIGN) and not applies(p, USER) and not applies(p, None)


def test_user_and_session_principals_match_exactly() -> None:
    p = principal_policy("Principal", {"AWS": [USER.arn]})
    assert applies(p, USER) and not applies(p, Principal(f"arn:aws:iam::{ACCT}:user/bobby"))
    p = principal_policy("Principal", {"AWS": SESSION.arn})
    assert applies(p, SESSION)
    assert not applies(p, Principal(f"arn:aws:sts::{ACCT}:assumed-role/rates-client/i-2"))


def test_service_principals_never_match_a_lattice_caller() -> None:
    p = principal_policy("Principal", {"Service": "lambda.amazonaws.com"})
    assert not applies(p, USER) and not applies(p, None)


def test_not_principal_applies_to_everyone_it_does_not_name() -> None:
    p = principal_policy("NotPrincipal", {"AWS": [ACCT, USER.arn]}, effect="Deny")
    assert not applies(p, USER)
    assert applies(p, Principal(f"arn:aws:iam::{ACCT}:user/eve"))
    assert applies(p, FOREIGN)
    assert applies(p, None)


def test_not_principal_account_alone_exempts_only_the_root() -> None:
    p = principal_policy("NotPrincipal", {"AWS": ACCT}, effect="Deny")
    assert not applies(p, ROOT)
    assert applies(p, USER)


def test_not_principal_role_without_its_account_does_not_exempt_the_session() -> None:
    role = f"arn:aws:iam::{ACCT}:role/rates-client"
    assert applies(principal_policy("NotPrincipal", {"AWS": role}, effect="Deny"), SESSION)
    assert not applies(principal_policy("NotPrincipal", {"AWS": [role, ACCT]}, effect="Deny"), SESSION)


def test_not_action_matches_every_other_action() -> None:
    p = parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*",
                                     "NotAction": "vpc-lattice-svcs:Connect", "Resource": "*"}]})
    assert p.evaluate(build_context(service_arn=SVC)).verdict == "allow"
    assert p.evaluate(build_context(service_arn=SVC, action="vpc-lattice-svcs:Connect")).verdict == "none"


def test_not_resource_matches_every_other_resource() -> None:
    p = parse_policy({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*",
                                     "NotResource": ["*/public", "*/public/*"]}]})
    assert p.evaluate(build_context(service_arn=SVC, path="/public/x")).verdict == "none"
    assert p.evaluate(build_context(service_arn=SVC, path="/private")).verdict == "deny"
