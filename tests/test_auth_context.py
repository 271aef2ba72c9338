"""The request context: which condition keys a Lattice request carries."""

from __future__ import annotations

import pytest

from latsim.auth import CONNECT, Principal, build_context, invoke_resource
from latsim.errors import LatsimError

ACCT = "111122223333"
SVC = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:service/svc-0123456789abcdef0"
SN = f"arn:aws:vpc-lattice:us-east-1:{ACCT}:servicenetwork/sn-0123456789abcdef0"


def test_anonymous_callers_have_principal_type_anonymous_and_no_principal_keys() -> None:
    c = build_context(service_arn=SVC)
    assert c.get("aws:PrincipalType") == "Anonymous"
    for key in ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID",
                "aws:PrincipalOrgPaths", "aws:PrincipalTag/team"):
        assert c.get(key) is None
    assert c.anonymous and c.who == "anonymous"


@pytest.mark.parametrize(("arn", "ptype", "principal_arn"), [
    (f"arn:aws:sts::{ACCT}:assumed-role/rates-client/i-1", "AssumedRole",
     f"arn:aws:iam::{ACCT}:role/rates-client"),
    (f"arn:aws:iam::{ACCT}:role/team/rates-client", "AssumedRole",
     f"arn:aws:iam::{ACCT}:role/team/rates-client"),
    (f"arn:aws:iam::{ACCT}:user/bob", "User", f"arn:aws:iam::{ACCT}:user/bob"),
    (f"arn:aws:iam::{ACCT}:root", "Account", f"arn:aws:iam::{ACCT}:root"),
    (ACCT, "Account", f"arn:aws:iam::{ACCT}:root"),
    (f"arn:aws:sts::{ACCT}:federated-user/carol", "FederatedUser",
     f"arn:aws:sts::{ACCT}:federated-user/carol"),
])
def test_signed_callers_get_principal_type_arn_and_account(arn: str, ptype: str, principal_arn: str) -> None:
    c = build_context(service_arn=SVC, principal=Principal(arn))
    assert c.get("aws:PrincipalType") == ptype
    assert c.get("aws:PrincipalArn") == principal_arn
    assert c.get("aws:PrincipalAccount") == ACCT


def test_principal_org_tags_and_explicit_account() -> None:
    p = Principal(f"arn:aws:iam::{ACCT}:user/bob", account="999988887777", org_id="o-1",
                  org_paths=("o-1/r-ab/ou-1/",), tags={"Team": "Payments"})
    c = build_context(service_arn=SVC, principal=p)
    assert c.get("aws:PrincipalAccount") == "999988887777"
    assert c.get("aws:PrincipalOrgID") == "o-1"
    assert c.get("aws:PrincipalOrgPaths") == ("o-1/r-ab/ou-1/",)
    assert c.get("aws:principaltag/team") == "Payments"
    assert hash(p) == hash(Principal(p.arn, account="999988887777", org_id="o-1",
                                     org_paths=("o-1/r-ab/ou-1/",), tags={"Team": "Payments"}))


def test_a_malformed_principal_is_a_user_error() -> None:
    with pytest.raises(LatsimError, match="not an IAM"):
        Principal("bob")


def test_http_request_keys() -> None:
    c = build_context(service_arn=SVC, service_network_arn=SN, port=443, method="get",
                      path="/rates?x=1", headers={"X-Tenant": "blue", "Accept": ["a", "b"]},
                      query={"quux": ["corge", "grault"], "one": "1"}, source_vpc="vpc-1",
                      source_vpc_owner=ACCT, source_ip="10.0.0.7", service_tags={"Env": "Gamma"})
    assert c.get("vpc-lattice-svcs:Port") == "443"
    assert c.get("vpc-lattice-svcs:RequestMethod") == "GET"
    assert c.get("vpc-lattice-svcs:RequestPath") == "/rates"
    assert c.get("vpc-lattice-svcs:RequestHeader/x-tenant") == "blue"
    assert c.get("vpc-lattice-svcs:RequestHeader/accept") == "a,b"
    assert c.get("vpc-lattice-svcs:RequestQueryString/quux") == ("corge", "grault")
    assert c.get("vpc-lattice-svcs:RequestQueryString/one") == ("1",)
    assert c.get("vpc-lattice-svcs:ServiceArn") == SVC
    assert c.get("vpc-lattice-svcs:ServiceNetworkArn") == SN
    assert c.get("vpc-lattice-svcs:SourceVpc") == "vpc-1"
    assert c.get("vpc-lattice-svcs:SourceVpcOwnerAccount") == ACCT
    assert c.get("aws:SourceIp") == "10.0.0.7"
    assert c.get("aws:ResourceTag/Env") == "Gamma"
    assert c.resource == f"{SVC}/rates"


def test_key_names_are_case_insensitive() -> None:
    c = build_context(service_arn=SVC, headers={"X-Tenant": "blue"})
    assert c.get("VPC-LATTICE-SVCS:REQUESTHEADER/X-TENANT") == "blue"
    assert "Vpc-Lattice-Svcs:ServiceArn" in c


def test_grpc_requests_are_post_and_carry_no_query_string() -> None:
    c = build_context(service_arn=SVC, method="GET", path="/api.parking/GetRates", grpc=True,
                      query={"a": ["b"]})
    assert c.get("vpc-lattice-svcs:RequestMethod") == "POST"
    assert c.get("vpc-lattice-svcs:RequestQueryString/a") is None
    assert c.resource == f"{SVC}/api.parking/GetRates"


def test_connect_requests_carry_no_http_keys_and_target_the_service_arn() -> None:
    c = build_context(action=CONNECT, service_arn=SVC, port=5432, method="GET", path="/x",
                      headers={"a": "b"})
    assert c.resource == SVC
    assert c.get("vpc-lattice-svcs:Port") == "5432"
    assert all(not k.startswith("vpc-lattice-svcs:request") for k in c.values)


@pytest.mark.parametrize(("path", "resource"), [
    ("/", f"{SVC}/"),
    (None, f"{SVC}/"),
    ("/parking", f"{SVC}/parking"),
    ("/a/b/", f"{SVC}/a/b/"),
])
def test_invoke_resource_is_the_service_arn_plus_the_path(path: str | None, resource: str) -> None:
    assert invoke_resource(SVC, path) == resource


def test_unknown_action_is_refused() -> None:
    with pytest.raises(LatsimError, match="unknown Lattice action"):
        build_context(service_arn=SVC, action="vpc-lattice:Invoke")


def test_project_reads_the_values_of_given_keys() -> None:
    c = build_context(service_arn=SVC, method="PUT")
    assert c.project(["vpc-lattice-svcs:RequestMethod", "aws:PrincipalOrgID"]) == ("PUT", None)
