"""The analysis API used by the engine's decision cache and by the verifier, plus output and speed."""

from __future__ import annotations

import json

import pytest

from latsim.auth import Principal, authorize, build_context, parse_policy

ACCT = "111122223333"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
INVOKE = "vpc-lattice-svcs:Invoke"

DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "OrgGet", "Effect": "Allow", "Principal": "*", "Action": INVOKE, "Resource": "*/rates",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-a", "o-b"],
                                        "vpc-lattice-svcs:RequestMethod": "GET"},
                       "StringLike": {"vpc-lattice-svcs:RequestPath": "/rates*"}}},
        {"Effect": "Deny", "Principal": "*", "Action": INVOKE, "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                       "StringEquals": {"vpc-lattice-svcs:RequestHeader/X-Tenant": "${aws:PrincipalTag/tenant}"}}},
    ],
}


def test_referenced_keys_are_the_lower_cased_condition_keys_and_variables() -> None:
    p = parse_policy(DOC)
    assert p.referenced_keys == frozenset({
        "aws:principalorgid", "vpc-lattice-svcs:requestmethod", "vpc-lattice-svcs:requestpath",
        "aws:sourceip", "vpc-lattice-svcs:requestheader/x-tenant", "aws:principaltag/tenant"})


def test_constants_are_the_literals_each_key_is_compared_against() -> None:
    p = parse_policy(DOC)
    assert p.constants("aws:PrincipalOrgID") == {"o-a", "o-b"}
    assert p.constants("AWS:SOURCEIP") == {"10.0.0.0/8"}
    assert p.constants("vpc-lattice-svcs:RequestHeader/x-tenant") == set()  # a variable, not a literal
    assert p.constants("vpc-lattice-svcs:RequestPath") == {"/rates*", "/rates"}  # condition + Resource
    assert p.constants("aws:unused") == set()


@pytest.mark.parametrize(("resources", "uses_path"), [
    (["*"], False),
    (["*/*"], False),
    ([f"{SVC}/*"], False),
    ([f"{SVC}*"], False),
    ([f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/*"], False),
    (["arn:aws:vpc-lattice:*:*:service/*/*"], False),
    ([SVC], False),  # Connect resource: no path at all
    (["*/rates"], True),
    ([f"{SVC}/rates"], True),
    ([f"{SVC}/api.parking/*"], True),
    (["*", f"{SVC}/admin*"], True),
])
def test_uses_resource_path(resources: list[str], uses_path: bool) -> None:
    p = parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": INVOKE,
                                     "Resource": resources}]})
    assert p.uses_resource_path is uses_path


def test_path_independent_policies_decide_every_path_alike() -> None:
    for resource in ("*", "*/*", f"{SVC}/*", f"{SVC}*"):
        p = parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": INVOKE,
                                         "Resource": resource}]})
        verdicts = {p.evaluate(build_context(service_arn=SVC, path=path)).verdict
                    for path in ("/", "/rates", "/a/b/c", "/svc-1/x", "/:x")}
        assert len(verdicts) == 1


def test_to_json_round_trips_through_parse() -> None:
    p = parse_policy(DOC)
    again = parse_policy(p.to_json())
    assert again.to_dict() == DOC == p.to_dict()
    assert json.loads(p.to_json(indent=2)) == DOC
    assert p.size == len(p.to_json())


def test_describe_is_one_line_per_statement() -> None:
    text = parse_policy(DOC, source="svc-rates auth policy").describe()
    lines = text.splitlines()
    assert lines[0].startswith("svc-rates auth policy (2 statements")
    assert lines[1].strip().startswith("'OrgGet' Allow principal * action vpc-lattice-svcs:Invoke on */rates if")
    assert "aws:PrincipalOrgID = one of [o-a, o-b]" in lines[1]
    assert lines[2].strip().startswith("#1 Deny")


def test_a_small_policy_allows_its_caller_at_both_levels() -> None:
    """(How long this decision takes is measured by benchmarks/auth_decision.py, not asserted here.)"""
    p = parse_policy(DOC)
    caller = Principal(f"arn:aws:sts::{ACCT}:assumed-role/r/s", org_id="o-a", tags={"tenant": "t1"})
    ctx = build_context(service_arn=SVC, principal=caller, path="/rates", method="GET",
                        source_ip="10.1.2.3", headers={"X-Tenant": "t1"})
    d = authorize(sn_auth_type="AWS_IAM", sn_policy=p, svc_auth_type="AWS_IAM", svc_policy=p,
                  identity_policy=None, ctx=ctx)
    assert d.allowed
    outside = build_context(service_arn=SVC, principal=caller, path="/rates", method="GET",
                            source_ip="192.0.2.1", headers={"X-Tenant": "t1"})
    assert not authorize(sn_auth_type="AWS_IAM", sn_policy=p, svc_auth_type="NONE", svc_policy=None,
                         identity_policy=None, ctx=outside).allowed  # the Deny: outside 10/8, own tenant
