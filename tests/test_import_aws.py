"""`latsim import aws` (live, boto3, read-only) and `latsim import aws-json DIR` (saved CLI outputs).

The folder fixture (tests/data/aws/multi-account) is two accounts' `aws vpc-lattice` / `aws ec2` /
`aws ram` outputs: account 111111111111 owns the AWS_IAM service network ``prod`` (shared through
RAM with 222222222222), the ``web`` client VPC and the ``inventory`` service; account
222222222222 owns the ``payments`` service (beta-header rule, 90/10 canary, a gRPC rule, an
AWS_IAM policy) and its ``pay`` VPC, whose CIDR overlaps ``web``'s.

The live importer runs against moto's ``mock_aws``. moto 5.2 lacks ``ListRules``, ``GetRule``,
``RegisterTargets``, ``ListTargets``, ``GetServiceNetworkVpcAssociation`` and
``ListServiceNetworkVpcEndpointAssociations``, and cannot RAM-share Lattice resources: those are
covered by ``LatticeGapShim``, a small test-only shim that answers them through botocore's
``before-call`` event (the hook botocore's Stubber uses) from moto's own backend (rules and
associations created with moto's ``create_rule`` / ``create_service_network_vpc_association``)
and from targets registered through the shim; ``ListTargets`` is served in pages of two to
exercise pagination.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.vpclattice.models import vpclattice_backends

from latsim.compile import RequestClass, Topology
from latsim.errors import ScenarioError
from latsim.importers.aws import import_aws, import_aws_json
from latsim.scenario import dump_scenario, parse_document, scenario_from_data

FIXTURE = Path(__file__).resolve().parent / "data" / "aws" / "multi-account"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
STOREFRONT = {"arn": "arn:aws:iam::111111111111:role/storefront", "org_id": "o-shop12345"}


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


# --- the folder of CLI outputs ------------------------------------------------------------------

@pytest.fixture(scope="module")
def folder() -> Any:
    return import_aws_json(FIXTURE)


def test_json_maps_services_rules_and_weights(folder: Any) -> None:
    pay = _by_name(folder.data["services"], "payments")
    assert (pay["account"], pay["id"], pay["custom_domain"]) == ("222222222222", "svc-0b1c2d3e4f5a60002",
                                                                 "payments.shop.internal")
    lst = pay["listeners"][0]
    assert (lst["name"], lst["port"], lst["default_action"]) == ("https", 443, {"fixed_response": 404})
    assert [(r["name"], r["priority"]) for r in lst["rules"]] == [("beta-testers", 5), ("api", 10),
                                                                   ("ledger-grpc", 20)]
    assert lst["rules"][0]["match"] == {"path": {"prefix": "/api", "case_sensitive": False},
                                        "headers": [{"name": "x-beta", "exact": "1", "case_sensitive": False}]}
    assert lst["rules"][1]["action"] == {"forward": [{"target_group": "payments-v1", "weight": 90},
                                                     {"target_group": "payments-v2", "weight": 10}]}
    assert lst["rules"][2]["match"]["method"] == "POST"
    assert pay["auth_type"] == "AWS_IAM" and pay["tags"] == {"team": "payments", "cost-center": "4711"}


def test_json_maps_target_groups_targets_and_health_checks(folder: Any) -> None:
    tgs = {t["name"]: t for t in folder.data["target_groups"]}
    assert sorted(tgs) == ["inventory", "payments-grpc", "payments-v1", "payments-v2"]
    v1 = tgs["payments-v1"]
    assert (v1["type"], v1["vpc"], v1["account"]) == ("INSTANCE", "pay", "222222222222")
    assert v1["targets"] == [{"id": "i-0b1c2d3e4f5a00001", "az": "use1-az1", "ip": "10.0.3.10"},
                             {"id": "i-0b1c2d3e4f5a00002", "az": "use1-az2", "ip": "10.0.4.10"}]
    assert tgs["payments-grpc"]["protocol_version"] == "GRPC"
    assert tgs["payments-grpc"]["health_check"]["protocol_version"] == "HTTP2"
    inv = tgs["inventory"]
    assert inv["health_check"] == {"enabled": True, "protocol": "HTTP", "protocol_version": "HTTP1", "path": "/health",
                                   "interval": "10s", "timeout": "2s", "healthy_threshold": 3,
                                   "unhealthy_threshold": 2, "matcher": "200-299"}
    assert [t["id"] for t in inv["targets"]] == ["10.1.1.10", "10.1.2.10"]  # the draining one is left out
    assert any("draining" in w.message and w.location.line for w in folder.warnings)


def test_json_multi_account_share_and_associations(folder: Any) -> None:
    sn = _by_name(folder.data["service_networks"], "prod")
    assert (sn["account"], sn["auth_type"], sn["shared_with"]) == ("111111111111", "AWS_IAM", ["222222222222"])
    assert sn["vpc_associations"] == [{"vpc": "web", "security_groups": ["lattice-clients"]},
                                      {"vpc": "pay", "security_groups": ["pay-lattice-clients"]}]
    assert sn["services"] == ["inventory", "payments"]
    vpcs = {v["name"]: v for v in folder.data["vpcs"]}
    assert vpcs["web"]["cidr"] == vpcs["pay"]["cidr"] == ["10.0.0.0/16"]  # overlapping, and fine
    assert vpcs["pay"]["account"] == "222222222222"
    assert [a["id"] for a in folder.data["accounts"]] == ["111111111111", "222222222222"]
    assert folder.data["access_logs"] == {"service_networks": ["prod"]}  # enabled: the model's default


def test_json_security_groups_keep_peers_and_disambiguate_default_names(folder: Any) -> None:
    sgs = {s["name"]: s for s in folder.data["security_groups"]}
    assert {"web-default", "backend-default", "pay-default"} <= set(sgs)
    assert sgs["web-default"]["ingress"] == [{"protocol": "all", "ports": "all", "source": "web-default"}]
    assert sgs["app-targets"]["ingress"] == [{"protocol": "tcp", "ports": 8080, "source": "pl-0123456789abcdef0",
                                              "description": "VPC Lattice"}]


def test_json_import_validates_and_round_trips(folder: Any) -> None:
    text = folder.to_yaml()
    data, pos = parse_document(text, "imported.yaml")
    assert dump_scenario(scenario_from_data(data, pos), header=folder.header()) == text
    assert import_aws_json(FIXTURE).to_yaml() == text


def test_json_explain_verdicts(folder: Any) -> None:
    overlay = {
        "vpcs": [{"name": "lonely", "account": "111111111111", "cidr": "10.9.0.0/16", "azs": ["use1-az1"]}],
        "clients": [
            {"name": "storefront", "vpc": "web", "az": "use1-az1", "url": "https://payments.shop.internal",
             "principal": STOREFRONT},
            {"name": "anonymous", "vpc": "web", "az": "use1-az2", "url": "https://payments.shop.internal"},
            {"name": "auditor", "vpc": "web", "az": "use1-az1", "url": "https://payments.shop.internal",
             "principal": {"arn": "arn:aws:iam::111111111111:role/auditor", "org_id": "o-shop12345"}},
            {"name": "stray", "vpc": "lonely", "az": "use1-az1", "url": "https://payments.shop.internal"}]}
    topo = Topology(folder.scenario(overlay))
    sf = topo.clients["storefront"]
    url = "https://payments.shop.internal"
    canary = topo.route(sf, RequestClass(url=url, method="GET", path="/api/cart"))
    assert (canary.outcome, canary.rule, canary.target_groups) == ("forwarded", "api",
                                                                   {"payments-v1": 90, "payments-v2": 10})
    beta = topo.route(sf, RequestClass(url=url, method="GET", path="/api/cart", headers=(("x-beta", "1"),)))
    assert (beta.rule, beta.target_groups) == ("beta-testers", {"payments-v2": 100})
    grpc = topo.route(sf, RequestClass(url=url, method="POST", path="/payments.v1.Ledger/Post", protocol="gRPC"))
    assert (grpc.rule, grpc.target_groups) == ("ledger-grpc", {"payments-grpc": 1})
    assert topo.route(sf, RequestClass(url=url, path="/")).status == 404
    anon = topo.route(topo.clients["anonymous"], RequestClass(url=url, path="/api/cart"))
    assert (anon.outcome, anon.auth_denied_reason) == ("denied", "Network")
    auditor = topo.route(topo.clients["auditor"], RequestClass(url=url, path="/api/cart"))
    assert (auditor.outcome, auditor.auth_denied_reason) == ("denied", "Service")
    inventory = topo.route(sf, RequestClass(url="http://inventory.shop.internal", path="/stock"))
    assert (inventory.outcome, inventory.target_groups) == ("forwarded", {"inventory": 100})
    assert topo.route(topo.clients["stray"], RequestClass(url=url, path="/")).outcome == "unreachable"


def _copy_fixture(tmp_path: Path) -> Path:
    dst = tmp_path / "outputs"
    shutil.copytree(FIXTURE, dst)
    return dst


def test_json_shape_mismatch_is_a_located_error(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path)
    bad = root / "222222222222" / "list-targets--tg-0b1c2d3e4f5a60202.json"
    bad.write_text('{\n  "items": [\n    {"id": "10.0.3.15", "port": "8080"}\n  ]\n}\n')
    rule = root / "222222222222" / "get-rule--svc-0b1c2d3e4f5a60002--listener-0b1c2d3e4f5a60302--rule-0b1c2d3e4f5a60411.json"
    doc = json.loads(rule.read_text())
    doc["action"] = {"forward": {"targetGroups": [{"weight": 1}]}, "fixedResponse": {"statusCode": 404}}
    rule.write_text(json.dumps(doc, indent=2))
    with pytest.raises(ScenarioError) as exc:
        import_aws_json(root)
    found = {(Path(p.location.file or "").name, p.location.line, p.message) for p in exc.value.problems}
    assert (bad.name, 3, "expected an integer (Port), got str '8080'") in found
    assert any(name == rule.name and "missing required member 'targetGroupIdentifier'" in msg
               for name, _, msg in found)
    assert any(name == rule.name and "RuleAction needs exactly one of" in msg for name, _, msg in found)


def test_json_syntax_error_and_unknown_files(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path)
    (root / "notes.json").write_text('{"hello": "world"}')
    moved = root / "111111111111" / "services-of-account-a.json"
    (root / "111111111111" / "list-services.json").rename(moved)  # recognised by its content
    res = import_aws_json(root)
    assert any("not a recognised AWS CLI output" in w.message and w.location.file.endswith("notes.json")
               for w in res.warnings)
    assert "inventory" in [s["name"] for s in res.data["services"]]
    (root / "broken.json").write_text('{\n  "items": [\n    {"id": 1,,}\n  ]\n}\n')
    with pytest.raises(ScenarioError) as exc:
        import_aws_json(root)
    (p,) = exc.value.problems
    assert p.location.file.endswith("broken.json") and p.location.line == 3


def test_json_missing_details_are_warnings_not_guesses(tmp_path: Path) -> None:
    root = _copy_fixture(tmp_path)
    (root / "111111111111" / "get-service-network-vpc-association--snva-0a1b2c3d4e5f60901.json").unlink()
    (root / "222222222222" / "list-targets--tg-0b1c2d3e4f5a60202.json").rename(
        root / "222222222222" / "list-targets.json")
    res = import_aws_json(root)
    sn = _by_name(res.data["service_networks"], "prod")
    assert sn["vpc_associations"][0] == {"vpc": "web"}
    assert any("security groups are unknown" in w.message for w in res.warnings)
    assert any("does not name its target group" in w.message for w in res.warnings)
    assert "targets" not in _by_name(res.data["target_groups"], "payments-v2") or \
        _by_name(res.data["target_groups"], "payments-v2")["targets"] == []


def test_json_not_a_directory_or_empty(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not a directory"):
        import_aws_json(tmp_path / "nope")
    with pytest.raises(ScenarioError, match="no \\*.json files"):
        import_aws_json(tmp_path)


# --- the live importer against moto ----------------------------------------------------------------

class LatticeGapShim:
    """Answers the VPC Lattice (and RAM) calls moto 5.2 does not implement; see the module docstring."""

    LATTICE = {"ListRules", "GetRule", "RegisterTargets", "ListTargets", "GetServiceNetworkVpcAssociation",
               "ListServiceNetworkVpcEndpointAssociations"}

    def __init__(self, page_size: int = 2) -> None:
        self.page_size = page_size
        self.targets: dict[str, list[dict[str, Any]]] = {}
        self.params: dict[str, dict[str, Any]] = {}
        self.ram: dict[str, Any] | None = None  # {"share": arn, "resources": [...], "principals": [...]}
        self.errors: dict[str, str] = {}  # operation -> error code to answer with

    def attach(self, session: boto3.Session) -> None:
        session.events.register("before-parameter-build.vpc-lattice", self._remember)
        session.events.register("before-parameter-build.ram", self._remember)
        session.events.register("before-call.vpc-lattice", self._answer)
        session.events.register("before-call.ram", self._answer)

    @property
    def backend(self) -> Any:
        return vpclattice_backends[ACCOUNT][REGION]

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.params[model.name] = dict(params)

    def _answer(self, model: Any, **_: Any) -> Any:
        params = self.params.pop(model.name, {})
        if model.name in self.errors:
            return AWSResponse(None, 403, {}, None), {"Error": {"Code": self.errors[model.name],
                                                               "Message": "not authorized (shim)"}}
        handler = getattr(self, model.name, None)
        if handler is None or (model.service_model.service_name == "ram" and self.ram is None):
            return None
        if model.service_model.service_name == "vpc-lattice" and model.name not in self.LATTICE:
            return None
        return AWSResponse(None, 200, {}, None), handler(params)

    def ListRules(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"items": [{"arn": r.arn, "id": r.id, "name": r.name, "priority": r.priority, "isDefault": False}
                          for r in self.backend.rules.values() if r.listener_identifier == p["listenerIdentifier"]]}

    def GetRule(self, p: dict[str, Any]) -> dict[str, Any]:
        r = self.backend.rules[p["ruleIdentifier"]]
        return {"arn": r.arn, "id": r.id, "name": r.name, "priority": r.priority, "isDefault": False,
                "match": r.match, "action": r.action}

    def RegisterTargets(self, p: dict[str, Any]) -> dict[str, Any]:
        self.targets.setdefault(p["targetGroupIdentifier"], []).extend(p["targets"])
        return {"successful": p["targets"], "unsuccessful": []}

    def ListTargets(self, p: dict[str, Any]) -> dict[str, Any]:
        items = [{"id": t["id"], "port": t.get("port", 8080), "status": "HEALTHY"}
                 for t in self.targets.get(p["targetGroupIdentifier"], [])]
        start = int(p.get("nextToken") or 0)
        out: dict[str, Any] = {"items": items[start: start + self.page_size]}
        if start + self.page_size < len(items):
            out["nextToken"] = str(start + self.page_size)
        return out

    def GetServiceNetworkVpcAssociation(self, p: dict[str, Any]) -> dict[str, Any]:
        assoc = self.backend.service_network_vpc_associations[p["serviceNetworkVpcAssociationIdentifier"]]
        return {k: v for k, v in assoc.to_dict().items() if k not in ("createdAt", "lastUpdatedAt")}

    def ListServiceNetworkVpcEndpointAssociations(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"items": []}

    def GetResourceShares(self, p: dict[str, Any]) -> dict[str, Any]:
        assert self.ram is not None
        return {"resourceShares": [{"resourceShareArn": self.ram["share"], "name": "prod", "status": "ACTIVE",
                                    "owningAccountId": ACCOUNT}]}

    def GetResourceShareAssociations(self, p: dict[str, Any]) -> dict[str, Any]:
        assert self.ram is not None
        kind = p["associationType"]
        entities = self.ram["resources"] if kind == "RESOURCE" else self.ram["principals"]
        return {"resourceShareAssociations": [{"resourceShareArn": self.ram["share"], "associatedEntity": e,
                                               "associationType": kind, "status": "ASSOCIATED"} for e in entities]}


@pytest.fixture(scope="module")
def moto_account() -> Iterator[tuple[LatticeGapShim, dict[str, Any]]]:
    """A moto account, built once: a client VPC and a backend VPC (overlapping CIDRs), the
    network ``prod`` (VPC association with a security group), the service ``checkout`` with a
    beta-header rule and a 90/10 canary rule, two IP target groups."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        shim = LatticeGapShim()
        shim.attach(session)
        ec2, lat = session.client("ec2"), session.client("vpc-lattice")
        web = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "web"}]}])["Vpc"]["VpcId"]
        back = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "backend"}]}])["Vpc"]["VpcId"]
        for vpc, third, az in ((web, 1, "a"), (web, 2, "b"), (back, 11, "a"), (back, 12, "b")):
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{third}.0/24", AvailabilityZone=f"{REGION}{az}")
        sg = ec2.create_security_group(GroupName="lattice-clients", Description="clients", VpcId=web)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
        sn = lat.create_service_network(name="prod", authType="NONE")
        lat.create_service_network_vpc_association(serviceNetworkIdentifier=sn["id"], vpcIdentifier=web,
                                                   securityGroupIds=[sg])
        svc = lat.create_service(name="checkout", authType="NONE", customDomainName="checkout.shop.internal")
        lat.create_service_network_service_association(serviceNetworkIdentifier=sn["id"], serviceIdentifier=svc["id"])
        hc = {"enabled": True, "path": "/health", "healthCheckIntervalSeconds": 10, "healthCheckTimeoutSeconds": 2}
        stable = lat.create_target_group(name="checkout-stable", type="IP", config={
            "port": 8080, "protocol": "HTTP", "vpcIdentifier": back, "healthCheck": hc})
        canary = lat.create_target_group(name="checkout-canary", type="IP", config={
            "port": 8080, "protocol": "HTTP", "vpcIdentifier": back})
        lat.register_targets(targetGroupIdentifier=stable["id"], targets=[
            {"id": f"10.0.{11 + i % 2}.{10 + i}"} for i in range(5)])
        lat.register_targets(targetGroupIdentifier=canary["id"], targets=[{"id": "10.0.11.99", "port": 9090}])
        lst = lat.create_listener(serviceIdentifier=svc["id"], name="https", protocol="HTTPS", port=443,
                                  defaultAction={"fixedResponse": {"statusCode": 404}})
        lat.create_rule(serviceIdentifier=svc["id"], listenerIdentifier=lst["id"], name="beta", priority=5,
                        match={"httpMatch": {"pathMatch": {"match": {"prefix": "/api"}},
                                             "headerMatches": [{"name": "x-beta", "match": {"exact": "1"}}]}},
                        action={"forward": {"targetGroups": [{"targetGroupIdentifier": canary["id"]}]}})
        lat.create_rule(serviceIdentifier=svc["id"], listenerIdentifier=lst["id"], name="api", priority=10,
                        match={"httpMatch": {"pathMatch": {"match": {"prefix": "/api"}}}},
                        action={"forward": {"targetGroups": [
                            {"targetGroupIdentifier": stable["id"], "weight": 90},
                            {"targetGroupIdentifier": canary["arn"], "weight": 10}]}})
        yield shim, {"sn": sn, "svc": svc, "stable": stable, "canary": canary, "web": web, "back": back, "sg": sg}


@pytest.fixture
def account(moto_account: Any) -> tuple[boto3.Session, LatticeGapShim, dict[str, Any]]:
    """A fresh session on the moto account (hooks registered by one test stay with it)."""
    shim, ids = moto_account
    shim.errors.clear()
    shim.ram = None
    session = boto3.Session(region_name=REGION)
    shim.attach(session)
    return session, shim, ids


def test_live_import_maps_the_account(account: Any) -> None:
    session, _shim, _ids = account
    res = import_aws(session=session, region=REGION)
    data = res.data
    (svc,) = data["services"]
    rules = svc["listeners"][0]["rules"]
    assert [(r["name"], r["priority"]) for r in rules] == [("beta", 5), ("api", 10)]
    assert rules[1]["action"]["forward"] == [{"target_group": "checkout-stable", "weight": 90},
                                             {"target_group": "checkout-canary", "weight": 10}]
    assert rules[0]["match"]["headers"] == [{"name": "x-beta", "exact": "1"}]
    tgs = {t["name"]: t for t in data["target_groups"]}
    assert len(tgs["checkout-stable"]["targets"]) == 5  # three pages of ListTargets
    assert {t["az"] for t in tgs["checkout-stable"]["targets"]} == {"use1-az6", "use1-az1"}
    assert tgs["checkout-stable"]["health_check"] == {"enabled": True, "path": "/health", "interval": "10s",
                                                      "timeout": "2s"}
    assert tgs["checkout-canary"]["targets"] == [{"id": "10.0.11.99", "az": "use1-az6", "port": 9090}]
    (sn,) = data["service_networks"]
    assert sn["vpc_associations"] == [{"vpc": "web", "security_groups": ["lattice-clients"]}]
    assert sn["services"] == ["checkout"]
    assert sorted(v["name"] for v in data["vpcs"]) == ["backend", "web"]
    text = res.to_yaml()
    parsed, pos = parse_document(text, "live.yaml")
    assert dump_scenario(scenario_from_data(parsed, pos), header=res.header()) == text


def test_live_import_explains_the_canary(account: Any) -> None:
    session, _shim, _ids = account
    res = import_aws(session=session, region=REGION)
    topo = Topology(res.scenario({"clients": [
        {"name": "web", "vpc": "web", "az": "use1-az1", "url": "https://checkout.shop.internal"}]}))
    web = topo.clients["web"]
    api = topo.route(web, RequestClass(url="https://checkout.shop.internal", method="GET", path="/api/cart"))
    assert (api.outcome, api.rule, api.target_groups) == ("forwarded", "api",
                                                          {"checkout-stable": 90, "checkout-canary": 10})
    beta = topo.route(web, RequestClass(url="https://checkout.shop.internal", path="/api", headers=(("x-beta", "1"),)))
    assert beta.rule == "beta"


def test_live_import_calls_only_read_operations(account: Any) -> None:
    session, _shim, _ids = account
    calls: list[str] = []
    session.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    import_aws(session=session, region=REGION)
    assert calls, "the importer made no AWS calls"
    assert all(c.startswith(("Get", "List", "Describe")) for c in calls), sorted(set(calls))
    assert {"ListRules", "GetRule", "ListTargets", "GetServiceNetworkVpcAssociation", "DescribeVpcs",
            "DescribeSubnets", "DescribeSecurityGroups", "GetResourceShares"} <= set(calls)


def test_live_ram_share_becomes_shared_with(account: Any) -> None:
    session, shim, ids = account
    shim.ram = {"share": f"arn:aws:ram:{REGION}:{ACCOUNT}:resource-share/0f0e0d0c-prod",
                "resources": [ids["sn"]["arn"]],
                "principals": ["222222222222", "arn:aws:organizations::123456789012:organization/o-shop12345"]}
    res = import_aws(session=session, region=REGION)
    assert res.data["service_networks"][0]["shared_with"] == ["222222222222", "o-shop12345"]


def test_live_access_denied(account: Any) -> None:
    session, shim, _ids = account
    shim.errors["GetAuthPolicy"] = "AccessDeniedException"
    res = import_aws(session=session, region=REGION)  # optional reads become warnings
    assert any("GetAuthPolicy: AccessDeniedException" in w.message for w in res.warnings)
    shim.errors["ListServices"] = "AccessDeniedException"
    with pytest.raises(ScenarioError) as exc:
        import_aws(session=session, region=REGION)
    (p,) = exc.value.problems
    assert p.location.file == f"aws:{REGION}" and "ListServices" in p.message and "read-only" in (p.hint or "")


def test_live_and_saved_outputs_map_the_same(account: Any, tmp_path: Path) -> None:
    """The same responses, read live or saved as CLI outputs, give the same scenario sections."""
    session, _shim, _ids = account
    saved: dict[str, dict[str, Any]] = {}
    slots = {"ListTargets": ("targetGroupIdentifier",), "GetAuthPolicy": ("resourceIdentifier",),
             "ListTagsForResource": ("resourceArn",), "ListRules": ("serviceIdentifier", "listenerIdentifier"),
             "GetRule": ("serviceIdentifier", "listenerIdentifier", "ruleIdentifier")}
    pending: dict[str, dict[str, Any]] = {}
    session.events.register("before-parameter-build.*.*",
                            lambda params, model, **_: pending.__setitem__(model.name, dict(params)))

    def keep(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("Error") or model.name.startswith("Describe") and not parsed:
            return
        params = pending.get(model.name, {})
        ids = [str(params[k]).rsplit("/", 1)[-1] for k in slots.get(model.name, ()) if k in params]
        name = "--".join([xform_name(model.name, "-"), *ids, str(len(saved))])
        body = {k: v for k, v in parsed.items() if k not in ("ResponseMetadata", "nextToken", "NextToken")}
        same = next((n for n in saved if n.rsplit("--", 1)[0] == name.rsplit("--", 1)[0]
                     and model.name == "ListTargets"), None)
        if same:  # a later page: the CLI merges pages into one output
            saved[same]["items"].extend(body["items"])
        else:
            saved[name] = body

    session.events.register("after-call.*.*", keep)
    live = import_aws(session=session, region=REGION)
    for name, body in saved.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(body, default=str, indent=1))
    offline = import_aws_json(tmp_path)
    for section in ("vpcs", "security_groups", "service_networks", "services", "target_groups"):
        assert offline.data[section] == live.data[section], section
