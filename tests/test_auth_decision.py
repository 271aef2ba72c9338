"""Auth decisions: docs/lattice.md §5.2 (levels, explicit deny) and §5.6 (documented example policies)."""

from __future__ import annotations

from typing import Any

import pytest

from latsim.auth import (
    CONNECT,
    AuthDecision,
    Policy,
    Principal,
    RequestContext,
    authorize,
    build_context,
    parse_policy,
)

ACCT = "111122223333"
OTHER = "444455556666"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
SN = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:servicenetwork/sn-0123456789abcdef0"
INVOKE = "vpc-lattice-svcs:Invoke"
ROLE = f"arn:aws:iam::{ACCT}:role/rates-client"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/rates-client/i-0abc"
OTHER_SESSION = f"arn:aws:sts::{ACCT}:assumed-role/billing/i-0abc"


def policy(*statements: dict[str, Any], source: str = "policy") -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, source=source)


def allow_all(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": INVOKE, "Resource": "*", **extra}


def deny_all(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": INVOKE, "Resource": "*", **extra}


def ctx(principal: Principal | None = None, **kw: Any) -> RequestContext:
    kw.setdefault("service_arn", SVC)
    kw.setdefault("service_network_arn", SN)
    kw.setdefault("path", "/rates")
    kw.setdefault("method", "GET")
    kw.setdefault("port", 443)
    return build_context(principal=principal, **kw)


def svc_only(p: Policy | None, c: RequestContext, **kw: Any) -> AuthDecision:
    return authorize(sn_auth_type="NONE", sn_policy=None, svc_auth_type="AWS_IAM", svc_policy=p,
                     identity_policy=kw.pop("identity_policy", None), ctx=c, **kw)


def both(sn: Policy | None, svc: Policy | None, c: RequestContext, **kw: Any) -> AuthDecision:
    return authorize(sn_auth_type="AWS_IAM", sn_policy=sn, svc_auth_type="AWS_IAM", svc_policy=svc,
                     identity_policy=kw.pop("identity_policy", None), ctx=c, **kw)


def session(arn: str = SESSION, **kw: Any) -> Principal:
    return Principal(arn, **kw)


# --- §5.6 documented example policies -----------------------------------------------------------


ORG_POLICY = policy(allow_all(Sid="OrgOnly", Condition={
    "StringEquals": {"aws:PrincipalOrgID": ["o-example"]}}))


def test_org_policy_allows_signed_callers_from_the_org() -> None:
    assert svc_only(ORG_POLICY, ctx(session(org_id="o-example"))).allowed


def test_org_policy_denies_anonymous_callers() -> None:
    d = svc_only(ORG_POLICY, ctx())
    assert not d.allowed and d.auth_denied_reason == "Service"
    assert d.explanation.startswith(
        "service policy: no statement allows anonymous callers; statement 'OrgOnly' requires "
        "aws:PrincipalOrgID = o-example")


def test_org_policy_denies_callers_from_another_org() -> None:
    assert not svc_only(ORG_POLICY, ctx(session(org_id="o-other"))).allowed


ROLE_GET_POLICY = policy({
    "Effect": "Allow", "Principal": {"AWS": [ROLE]}, "Action": INVOKE, "Resource": f"{SVC}/*",
    "Condition": {"StringEquals": {"vpc-lattice-svcs:RequestMethod": "GET"}}})


def test_role_policy_allows_that_role_for_get() -> None:
    assert svc_only(ROLE_GET_POLICY, ctx(session(), method="GET")).allowed


def test_role_policy_denies_that_role_for_post() -> None:
    assert not svc_only(ROLE_GET_POLICY, ctx(session(), method="POST")).allowed


def test_role_policy_denies_other_roles_and_anonymous() -> None:
    assert not svc_only(ROLE_GET_POLICY, ctx(session(OTHER_SESSION))).allowed
    assert not svc_only(ROLE_GET_POLICY, ctx()).allowed


def test_role_principal_given_as_role_arn_matches() -> None:
    assert svc_only(ROLE_GET_POLICY, ctx(Principal(ROLE))).allowed


VPC_POLICY = policy(allow_all(Condition={
    "StringNotEquals": {"aws:PrincipalType": "Anonymous"},
    "StringEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-1a2b3c4d"}}))


def test_vpc_policy_allows_signed_callers_from_that_vpc() -> None:
    assert svc_only(VPC_POLICY, ctx(session(), source_vpc="vpc-1a2b3c4d")).allowed


def test_vpc_policy_denies_anonymous_callers_from_that_vpc() -> None:
    assert not svc_only(VPC_POLICY, ctx(source_vpc="vpc-1a2b3c4d")).allowed


def test_vpc_policy_denies_signed_callers_from_another_vpc() -> None:
    assert not svc_only(VPC_POLICY, ctx(session(), source_vpc="vpc-99999999")).allowed


def test_resource_tag_policy_allows_only_services_tagged_gamma() -> None:
    p = policy(allow_all(Condition={"StringEquals": {"aws:ResourceTag/Environment": "Gamma"}}))
    assert svc_only(p, ctx(service_tags={"Environment": "Gamma"})).allowed
    assert not svc_only(p, ctx(service_tags={"Environment": "Prod"})).allowed
    assert not svc_only(p, ctx()).allowed


def test_principal_tag_policy_allows_only_callers_tagged_payments() -> None:
    p = policy(allow_all(Condition={"StringEquals": {"aws:PrincipalTag/Team": "Payments"}}))
    assert svc_only(p, ctx(session(tags={"Team": "Payments"}))).allowed
    assert not svc_only(p, ctx(session(tags={"Team": "Search"}))).allowed
    assert not svc_only(p, ctx()).allowed


def test_gateway_header_policy_requires_the_header() -> None:
    p = policy(allow_all(Condition={
        "StringEquals": {"vpc-lattice-svcs:RequestHeader/header1": "value1"}}))
    d = authorize(sn_auth_type="AWS_IAM", sn_policy=p, svc_auth_type="NONE", svc_policy=None,
                  identity_policy=None, ctx=ctx(headers={"HEADER1": "value1"}))
    assert d.allowed
    d = authorize(sn_auth_type="AWS_IAM", sn_policy=p, svc_auth_type="NONE", svc_policy=None,
                  identity_policy=None, ctx=ctx(headers={"header1": "other"}))
    assert not d.allowed and d.auth_denied_reason == "Network"


# --- §5.4 console templates ---------------------------------------------------------------------


AUTHENTICATED_ONLY = policy(allow_all(Condition={
    "StringNotEqualsIgnoreCase": {"aws:PrincipalType": "anonymous"}}))
AUTH_AND_UNAUTH = policy(allow_all())


def test_authenticated_only_template_denies_anonymous() -> None:
    assert not svc_only(AUTHENTICATED_ONLY, ctx()).allowed


def test_authenticated_only_template_allows_any_signed_caller() -> None:
    assert svc_only(AUTHENTICATED_ONLY, ctx(session())).allowed
    assert svc_only(AUTHENTICATED_ONLY, ctx(Principal(f"arn:aws:iam::{OTHER}:user/bob"))).allowed


def test_authenticated_and_unauthenticated_template_allows_anonymous() -> None:
    assert svc_only(AUTH_AND_UNAUTH, ctx()).allowed
    assert svc_only(AUTH_AND_UNAUTH, ctx(session())).allowed


# --- §5.1/§5.2 levels --------------------------------------------------------------------------


def test_both_levels_none_allow_without_evaluation() -> None:
    deny = policy(deny_all())
    d = authorize(sn_auth_type="NONE", sn_policy=deny, svc_auth_type="NONE", svc_policy=deny,
                  identity_policy=deny, ctx=ctx())
    assert d.allowed and d.auth_denied_reason is None and d.body is None
    assert all(s.verdict == "skipped" for s in d.steps)


def test_aws_iam_without_a_policy_denies_every_request_at_the_service() -> None:
    d = svc_only(None, ctx(session()))
    assert not d.allowed and d.auth_denied_reason == "Service"
    assert "no auth policy attached" in d.explanation


def test_aws_iam_without_a_policy_denies_every_request_at_the_network() -> None:
    d = both(None, AUTH_AND_UNAUTH, ctx())
    assert not d.allowed and d.auth_denied_reason == "Network"


def test_network_allows_but_service_denies_gives_reason_service() -> None:
    d = both(AUTH_AND_UNAUTH, ORG_POLICY, ctx(session(org_id="o-other")))
    assert not d.allowed and d.auth_denied_reason == "Service"
    assert [s.verdict for s in d.steps] == ["allow", "implicit-deny", "allow"]


def test_network_denies_first_when_both_levels_deny_implicitly() -> None:
    d = both(ORG_POLICY, ORG_POLICY, ctx())
    assert d.auth_denied_reason == "Network"


def test_explicit_deny_in_the_network_policy_beats_a_service_allow() -> None:
    sn = policy(allow_all(), deny_all(Sid="NoPost", Condition={
        "StringEquals": {"vpc-lattice-svcs:RequestMethod": "POST"}}), source="sn-1 auth policy")
    d = both(sn, AUTH_AND_UNAUTH, ctx(method="POST"))
    assert not d.allowed and d.auth_denied_reason == "Network"
    assert d.deciding is not None and d.deciding.sid == "NoPost" and d.deciding.effect == "Deny"
    assert d.deciding.source == "sn-1 auth policy"
    assert "explicitly denies" in d.explanation
    assert both(sn, AUTH_AND_UNAUTH, ctx(method="GET")).allowed


def test_explicit_deny_in_the_service_policy_beats_allows_everywhere() -> None:
    svc = policy(allow_all(), deny_all(Condition={"StringLike": {"vpc-lattice-svcs:RequestPath": "/admin*"}}))
    d = both(AUTH_AND_UNAUTH, svc, ctx(path="/admin/users"))
    assert not d.allowed and d.auth_denied_reason == "Service"
    assert d.body is not None and d.body.endswith("with an explicit deny in a service-based policy")


def test_explicit_deny_beats_an_implicit_deny_at_an_earlier_level() -> None:
    d = both(ORG_POLICY, policy(deny_all()), ctx())
    assert d.auth_denied_reason == "Service"
    assert d.body is not None and "explicit deny" in d.body


def test_identity_policy_deny_gives_reason_identity() -> None:
    ident = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": INVOKE, "Resource": f"{SVC}/*"}]}, kind="identity")
    d = svc_only(AUTH_AND_UNAUTH, ctx(session()), identity_policy=ident)
    assert not d.allowed and d.auth_denied_reason == "Identity"
    assert d.body is not None and d.body.endswith("with an explicit deny in an identity-based policy")


def test_identity_policy_that_allows_nothing_gives_reason_identity() -> None:
    ident = parse_policy({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
                         kind="identity")
    d = svc_only(AUTH_AND_UNAUTH, ctx(session()), identity_policy=ident)
    assert not d.allowed and d.auth_denied_reason == "Identity"
    assert d.body is not None and d.body.endswith(
        "because no identity-based policy allows the vpc-lattice-svcs:Invoke action")


def test_undeclared_identity_policy_is_assumed_to_allow() -> None:
    assert svc_only(AUTH_AND_UNAUTH, ctx(session())).allowed


def test_undeclared_identity_policy_denies_when_default_allow_is_off() -> None:
    d = svc_only(AUTH_AND_UNAUTH, ctx(session()), identity_default_allow=False)
    assert not d.allowed and d.auth_denied_reason == "Identity"


def test_identity_policy_is_not_checked_for_anonymous_callers() -> None:
    deny = parse_policy({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
                        kind="identity")
    d = svc_only(AUTH_AND_UNAUTH, ctx(), identity_policy=deny, identity_default_allow=False)
    assert d.allowed
    assert d.steps[2].verdict == "skipped"


def test_identity_policy_is_not_checked_when_no_level_uses_aws_iam() -> None:
    deny = parse_policy({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
                        kind="identity")
    d = authorize(sn_auth_type="NONE", sn_policy=None, svc_auth_type="NONE", svc_policy=None,
                  identity_policy=deny, ctx=ctx(session()))
    assert d.allowed


def test_unknown_auth_type_is_an_error() -> None:
    from latsim.errors import LatsimError
    with pytest.raises(LatsimError, match="AWS_IAM"):
        authorize(sn_auth_type="IAM", sn_policy=None, svc_auth_type="NONE", svc_policy=None,
                  identity_policy=None, ctx=ctx())


# --- §5.5 denial bodies ------------------------------------------------------------------------


def test_network_denial_body_matches_aws() -> None:
    d = both(ORG_POLICY, AUTH_AND_UNAUTH, ctx(path="/parking"))
    assert d.body == (
        "AccessDeniedException: User: anonymous is not authorized to perform: "
        f"vpc-lattice-svcs:Invoke on resource: {SVC}/parking because no network-based policy "
        "allows the vpc-lattice-svcs:Invoke action")


def test_service_denial_body_names_the_signed_principal_and_trailing_slash_resource() -> None:
    d = svc_only(ORG_POLICY, ctx(session(), path="/"))
    assert d.body == (
        f"AccessDeniedException: User: {SESSION} is not authorized to perform: "
        f"vpc-lattice-svcs:Invoke on resource: {SVC}/ because no service-based policy "
        "allows the vpc-lattice-svcs:Invoke action")


def test_explicit_network_deny_body() -> None:
    d = both(policy(deny_all()), AUTH_AND_UNAUTH, ctx())
    assert d.body is not None
    assert d.body.endswith(f"on resource: {SVC}/rates with an explicit deny in a network-based policy")


def test_allowed_decision_has_no_body_and_names_the_deciding_statement() -> None:
    p = policy(allow_all(Sid="Everyone"), source="svc-rates auth policy")
    d = svc_only(p, ctx())
    assert d.allowed and d.body is None and d.auth_denied_reason is None
    assert d.deciding is not None and d.deciding.sid == "Everyone"
    assert "service policy statement 'Everyone' allows" in d.explanation


def test_describe_lists_every_level() -> None:
    text = both(AUTH_AND_UNAUTH, ORG_POLICY, ctx()).describe()
    assert text.startswith("DENY (Service)")
    assert "Network" in text and "Service" in text and "Identity" in text


# --- resources and actions -----------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "path", "allowed"), [
    ("*", "/anything", True),
    ("*/*", "/anything", True),
    ("*/rates", "/rates", True),
    ("*/rates", "/parking", False),
    (f"{SVC}/*", "/", True),
    (f"{SVC}/", "/", True),
    (f"{SVC}/rates", "/rates", True),
    (f"{SVC}/rates", "/rates/today", False),
    (f"{SVC}/rates*", "/rates/today", True),
    (f"{SVC}/Rates", "/rates", False),
    (f"{SVC.replace('svc-0123', 'svc-9999')}/*", "/rates", False),
])
def test_resource_patterns_match_the_request_path(resource: str, path: str, allowed: bool) -> None:
    p = policy({"Effect": "Allow", "Principal": "*", "Action": INVOKE, "Resource": resource})
    assert svc_only(p, ctx(path=path)).allowed is allowed


def test_grpc_method_paths_are_resources() -> None:
    p = policy({"Effect": "Allow", "Principal": "*", "Action": INVOKE,
                "Resource": f"{SVC}/api.parking/*"})
    assert svc_only(p, ctx(path="/api.parking/GetRates", grpc=True)).allowed
    assert not svc_only(p, ctx(path="/api.billing/Pay", grpc=True)).allowed


def test_connect_uses_the_service_arn_and_needs_the_connect_action() -> None:
    invoke_only = policy(allow_all())
    connect = policy({"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Connect",
                      "Resource": SVC})
    c = build_context(action=CONNECT, service_arn=SVC, port=5432)
    assert c.resource == SVC
    assert not svc_only(invoke_only, c).allowed
    assert svc_only(connect, c).allowed
    d = svc_only(invoke_only, c)
    assert d.body is not None and "perform: vpc-lattice-svcs:Connect on resource: " + SVC in d.body


def test_action_names_are_case_insensitive() -> None:
    p = policy({"Effect": "Allow", "Principal": "*", "Action": "VPC-LATTICE-SVCS:invoke",
                "Resource": "*"})
    assert svc_only(p, ctx()).allowed
    p = policy({"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:*", "Resource": "*"})
    assert svc_only(p, ctx()).allowed
