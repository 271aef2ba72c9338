"""Terraform import: a state (every id known, a module, two accounts, a RAM share) and a plan (ids
unknown, references resolved through a for_each module, count and var), mapped onto the model,
validated, round-tripped and checked for what their auth policies allow; malformed input gives
located errors or warnings, never a traceback."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from latsim.compile import DENIED, FORWARDED, RequestClass, Topology
from latsim.errors import ScenarioError
from latsim.importers.common import ImportResult
from latsim.importers.terraform import import_terraform, parse_address, split_resource_address
from latsim.scenario import dump_scenario, parse_document, scenario_from_data

TF = Path(__file__).resolve().parent / "data" / "terraform"
STATE = str(TF / "state.json")
PLAN = str(TF / "plan.json")


@pytest.fixture(scope="module")
def state() -> ImportResult:
    return import_terraform(STATE)


@pytest.fixture(scope="module")
def plan() -> ImportResult:
    return import_terraform(PLAN)


def named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def client(name: str, *, arn: str | None = None, org: str | None = None, url: str = "https://checkout.shop.internal",
           az: str = "use1-az1") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "vpc": "web", "az": az, "url": url}
    if arn:
        out["principal"] = {"arn": arn, **({"org_id": org} if org else {})}
    return out


def route(topo: Topology, who: str, url: str, method: str = "GET", path: str = "/") -> Any:
    return topo.route(topo.clients[who], RequestClass(url=url, method=method, path=path))


def edited(tmp_path: Path, source: str, change: Any) -> str:
    doc = json.loads(Path(source).read_text())
    change(doc)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc, indent=1))
    return str(path)


def problems(exc: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [p.format() for p in exc.value.all_problems]


# --- addresses ------------------------------------------------------------------------------------

def test_addresses_parse_with_module_keys_and_indices() -> None:
    assert parse_address('module.svc["a.b"].aws_x.y[0].id') == [
        ("module", None), ("svc", "a.b"), ("aws_x", None), ("y", 0), ("id", None)]
    assert split_resource_address('module.svc["checkout"].module.inner[2].data.aws_vpc.main') == (
        (("svc", "checkout"), ("inner", 2)), "data", "aws_vpc", "main", None)
    assert parse_address("aws_x.this[each.key]")[1] == ("this", ("expr", "each.key"))


# --- state ------------------------------------------------------------------------------------------

def test_state_accounts_vpcs_and_subnet_azs(state: ImportResult) -> None:
    d = state.data
    assert d["accounts"] == [{"id": "111111111111"}, {"id": "222222222222"}]
    web, pay = named(d["vpcs"], "web"), named(d["vpcs"], "pay")
    assert (web["id"], web["account"], web["cidr"], web["azs"]) == (
        "vpc-0aa11bb22cc33dd44", "111111111111", ["10.0.0.0/16"], ["use1-az1", "use1-az2"])
    assert (pay["account"], pay["cidr"], pay["azs"]) == ("222222222222", ["10.0.0.0/16"], ["use1-az1", "use1-az2"])


def test_state_security_groups(state: ImportResult) -> None:
    clients = named(state.data["security_groups"], "lattice-clients")
    # the inline rule and the aws_security_group_rule for port 80 are the same rule: kept once
    assert [(r["ports"], r["source"]) for r in clients["ingress"]] == [(443, "10.0.0.0/16"), (80, "10.0.0.0/16")]
    assert clients["egress"] == [{"protocol": "all", "ports": "all", "destination": "0.0.0.0/0"}]
    targets = named(state.data["security_groups"], "pay-targets")
    assert targets["ingress"] == [{"protocol": "tcp", "ports": 8080, "source": "vpc-lattice",
                                   "description": "traffic and health checks from VPC Lattice"}]


def test_state_service_network_share_association_policy_logs(state: ImportResult) -> None:
    (sn,) = state.data["service_networks"]
    assert (sn["name"], sn["id"], sn["account"], sn["auth_type"]) == (
        "shop", "sn-0a1b2c3d4e5f60718", "111111111111", "AWS_IAM")
    assert sn["shared_with"] == ["222222222222"]
    assert sn["vpc_associations"] == [{"vpc": "web", "security_groups": ["lattice-clients"]}]
    assert sn["services"] == ["checkout"]
    assert sn["auth_policy"]["Statement"][0]["Sid"] == "OrgOnly"   # the JSON string became a document
    assert state.data["access_logs"] == {"service_networks": ["shop"]}


def test_state_service_listener_and_rules(state: ImportResult) -> None:
    (svc,) = state.data["services"]
    assert (svc["name"], svc["account"], svc["custom_domain"]) == ("checkout", "222222222222",
                                                                   "checkout.shop.internal")
    (lst,) = svc["listeners"]
    assert (lst["name"], lst["protocol"], lst["port"], lst["default_action"]) == (
        "https", "HTTPS", 443, {"fixed_response": 404})
    rules = {r["name"]: r for r in lst["rules"]}
    assert rules["beta-testers"]["match"]["headers"] == [{"name": "x-beta", "exact": "1", "case_sensitive": False}]
    assert rules["api"]["action"] == {"forward": [{"target_group": "checkout-v1", "weight": 90},
                                                  {"target_group": "checkout-v2", "weight": 10}]}
    assert rules["rates"]["match"] == {"method": "GET", "path": {"exact": "/rates", "case_sensitive": False}}


def test_state_target_groups_and_targets(state: ImportResult) -> None:
    tgs = state.data["target_groups"]
    v1 = named(tgs, "checkout-v1")
    assert v1["health_check"]["matcher"] == "200-299" and v1["health_check"]["interval"] == "10s"
    asg, attached = v1["targets"][:2], v1["targets"][2:]
    # the auto-scaling group (traffic-source attachment): desired_capacity instances over its subnets,
    # with the security groups of its launch template
    assert [(t["az"], t["security_groups"]) for t in asg] == [("use1-az1", ["pay-targets"]),
                                                             ("use1-az2", ["pay-targets"])]
    assert attached == [
        {"id": "i-0a1a1a1a1a1a1a1a1", "ip": "10.0.1.10", "az": "use1-az1",
         "security_groups": ["pay-targets"]},
        {"id": "i-0b2b2b2b2b2b2b2b2", "ip": "10.0.2.11", "az": "use1-az2",
         "security_groups": ["pay-targets"]}]
    v2 = named(tgs, "checkout-v2")   # attached by ARN, registered by id: the same group
    assert [(t["id"], t["az"]) for t in v2["targets"]] == [("10.0.1.15", "use1-az1"), ("10.0.2.15", "use1-az2")]
    rates = named(tgs, "rates")
    assert (rates["type"], rates["targets"]) == ("LAMBDA", [{"id": "rates"}])
    assert "port" not in rates and "vpc" not in rates


def test_state_unsimulated_resources_are_located_warnings(state: ImportResult) -> None:
    by_path = {w.location.path: w for w in state.warnings}
    rgw = by_path["aws_vpclattice_resource_gateway.db"]
    lines = Path(STATE).read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if '"address": "aws_vpclattice_resource_gateway.db"' in text)
    assert rgw.severity == "warning" and rgw.location.file == STATE
    assert (rgw.location.line, rgw.location.column) == (line, 11)
    assert by_path["aws_iam_role.rates"].code == "unmapped-resource"


@pytest.mark.parametrize(("who", "path", "outcome", "detail"), [
    ("storefront", "/api/cart", FORWARDED, {"checkout-v1": 90, "checkout-v2": 10}),
    ("storefront", "/rates", FORWARDED, {"rates": 100}),
    ("storefront", "/admin", DENIED, "Service"),
    ("outsider", "/api/cart", DENIED, "Network"),
])
def test_state_auth_policies(state: ImportResult, who: str, path: str, outcome: str, detail: Any) -> None:
    topo = Topology(state.scenario({"clients": [
        client("storefront", arn="arn:aws:iam::111111111111:role/storefront", org="o-exampleorg1"),
        client("outsider", arn="arn:aws:iam::999999999999:role/storefront", org="o-otherorg99")]}))
    r = route(topo, who, "https://checkout.shop.internal", path=path)
    assert r.outcome == outcome
    assert (r.target_groups if outcome == FORWARDED else r.auth_denied_reason) == detail


# --- plan ----------------------------------------------------------------------------------------------

def test_plan_account_comes_from_the_provider(plan: ImportResult) -> None:
    assert plan.data["accounts"] == [{"id": "333333333333"}]   # allowed_account_ids: no ARN is known yet


def test_plan_resolves_references_through_the_for_each_module(plan: ImportResult) -> None:
    (sn,) = plan.data["service_networks"]
    assert sn["services"] == ["checkout", "inventory"]              # var.service_network_id in each instance
    assert sn["vpc_associations"] == [{"vpc": "web", "security_groups": ["lattice-association"]}]
    checkout = named(plan.data["services"], "checkout")
    (lst,) = checkout["listeners"]
    assert lst["default_action"] == {"forward": [{"target_group": "checkout-stable", "weight": 100}]}
    (canary,) = lst["rules"]                                         # count = 1 in checkout only
    assert canary["action"] == {"forward": [{"target_group": "checkout-stable", "weight": 90},
                                            {"target_group": "checkout-canary", "weight": 10}]}
    inventory = named(plan.data["services"], "inventory")
    assert inventory["listeners"][0]["default_action"]["forward"][0]["target_group"] == "inventory-stable"
    assert "rules" not in inventory["listeners"][0]
    tgs = plan.data["target_groups"]
    assert [tg["name"] for tg in tgs] == ["checkout-stable", "checkout-canary", "inventory-stable"]
    assert {tg["vpc"] for tg in tgs} == {"backend"}                 # var.vpc_id -> aws_vpc.backend
    assert named(tgs, "checkout-stable")["targets"] == [{"id": "10.1.1.10", "az": "use1-az1"},
                                                        {"id": "10.1.2.10", "az": "use1-az2"}]
    assert named(tgs, "checkout-canary")["targets"] == [{"id": "10.1.2.99", "az": "use1-az2"}]


def test_plan_prefix_list_data_source_is_the_lattice_one(plan: ImportResult) -> None:
    sg = named(plan.data["security_groups"], "lattice-targets")
    assert sg["ingress"][0]["source"] == "vpc-lattice"
    assert named(plan.data["security_groups"], "lattice-association")["egress"] == []   # Terraform drops the default


@pytest.mark.parametrize(("who", "url", "method", "path", "outcome", "detail"), [
    ("storefront", "https://checkout.shop.internal", "GET", "/api/cart", FORWARDED,
     {"checkout-stable": 90, "checkout-canary": 10}),
    ("storefront", "https://checkout.shop.internal", "GET", "/", FORWARDED, {"checkout-stable": 100}),
    ("storefront", "https://checkout.shop.internal", "POST", "/api/pay", DENIED, "Service"),
    ("anonymous", "https://checkout.shop.internal", "GET", "/api/cart", DENIED, "Network"),
    ("anonymous", "http://inventory.shop.internal", "GET", "/", DENIED, "Network"),
    ("storefront", "http://inventory.shop.internal", "POST", "/stock", FORWARDED, {"inventory-stable": 100}),
])
def test_plan_auth_policies(plan: ImportResult, who: str, url: str, method: str, path: str, outcome: str,
                            detail: Any) -> None:
    topo = Topology(plan.scenario({"clients": [client("storefront", arn="arn:aws:iam::333333333333:role/storefront"),
                                               client("anonymous")]}))
    r = route(topo, who, url, method, path)
    assert r.outcome == outcome
    assert (r.target_groups if outcome == FORWARDED else r.auth_denied_reason) == detail


# --- validation and round trip ------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["state", "plan"])
def test_imports_validate_and_round_trip(which: str, request: pytest.FixtureRequest) -> None:
    result: ImportResult = request.getfixturevalue(which)
    text = result.to_yaml()
    assert text.startswith(f"# Imported by latsim from Terraform {which}")
    data, pos = parse_document(text, "imported.yaml")
    assert dump_scenario(scenario_from_data(data, pos), header=result.header()) == text
    assert import_terraform(STATE if which == "state" else PLAN).to_yaml() == text


# --- malformed input ------------------------------------------------------------------------------------

def test_not_json_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "values": {\n    "root_module": {resources: []}\n  }\n}\n')
    with pytest.raises(ScenarioError) as exc:
        import_terraform(str(path))
    (msg,) = problems(exc)
    assert msg.startswith(f"{path}:3:21: not valid JSON")


@pytest.mark.parametrize(("doc", "message"), [
    ([1, 2], "not Terraform JSON output"),
    ({"version": 4, "resources": []}, "raw state file"),
    ({"values": "nope"}, "'values' must be an object"),
    ({"values": {"root_module": {"resources": {"a": 1}}}}, "'resources' must be a list"),
    ({"values": {"root_module": {"resources": [{"address": "aws_vpc.x"}]}}}, "needs 'address', 'type'"),
])
def test_wrong_json_shape_is_a_located_error(tmp_path: Path, doc: Any, message: str) -> None:
    path = tmp_path / "shape.json"
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(ScenarioError) as exc:
        import_terraform(str(path))
    assert any(m.startswith(f"{path}:") and message in m for m in problems(exc)), problems(exc)


def test_unknown_references_and_resources_are_warnings(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        mod = doc["values"]["root_module"]["child_modules"][0]["resources"]
        listener = next(r for r in mod if r["type"] == "aws_vpclattice_listener")
        listener["values"]["service_identifier"] = "svc-0000000000000dead"
        listener["values"]["service_arn"] = ""
        doc["values"]["root_module"]["resources"].append(
            {"address": "random_pet.name", "mode": "managed", "type": "random_pet", "name": "name", "values": {}})
    res = import_terraform(edited(tmp_path, STATE, change))
    msgs = [w.format() for w in res.warnings]
    assert any("module.checkout.aws_vpclattice_listener.https" in m and "'svc-0000000000000dead' is not in the input"
               in m for m in msgs)
    assert any("random_pet.name: warning: random_pet is not simulated" in m for m in msgs)
    assert named(res.data["services"], "checkout")["listeners"] == []


def test_a_policy_unknown_until_apply_is_a_warning(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        res = next(r for r in doc["planned_values"]["root_module"]["resources"]
                   if r["type"] == "aws_vpclattice_auth_policy")
        del res["values"]["policy"]
    res = import_terraform(edited(tmp_path, PLAN, change))
    (w,) = [w for w in res.warnings if w.code == "policy-unknown"]
    assert w.location.path == "aws_vpclattice_auth_policy.shop" and w.location.line is not None
    assert "auth_policy" not in res.data["service_networks"][0]


def test_validation_problems_point_into_the_terraform_file(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        mod = doc["values"]["root_module"]["child_modules"][0]["resources"]
        rule = next(r for r in mod if r["address"].endswith("listener_rule.api"))
        rule["values"]["priority"] = 5000
    path = edited(tmp_path, STATE, change)
    with pytest.raises(ScenarioError) as exc:
        import_terraform(path).scenario()
    assert any(m.startswith(f"{path}:") and "(from module.checkout.aws_vpclattice_listener_rule.api)" in m
               and "priority 5000 is out of range" in m for m in problems(exc)), problems(exc)


def test_the_import_data_is_not_shared_with_the_overlay(state: ImportResult) -> None:
    before = copy.deepcopy(state.data)
    state.scenario({"clients": [client("x")], "vpcs": [{"name": "web", "tags": {"env": "prod"}}]})
    assert state.data == before


ODD_VALUES: list[Any] = [None, 0, -1, "", "x", [], {}, [1, "a"], True, {"a": [1]}, "arn:aws:x", [{"id": {}}]]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in children:
        out += _paths(v, prefix + (k,))
    return out


def test_odd_values_anywhere_give_problems_not_tracebacks(tmp_path: Path) -> None:
    import random
    rng = random.Random(11)
    sources = [json.loads(Path(STATE).read_text()), json.loads(Path(PLAN).read_text())]
    paths = [_paths(doc) for doc in sources]
    for n in range(40):
        which = n % 2
        doc = copy.deepcopy(sources[which])
        for _ in range(3):
            path = rng.choice(paths[which])
            node = doc
            try:
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
            except (KeyError, IndexError, TypeError):
                continue  # an earlier mutation removed this path
        target = tmp_path / f"m{n}.json"
        target.write_text(json.dumps(doc))
        try:
            import_terraform(str(target)).to_yaml()
        except ScenarioError as exc:
            assert exc.all_problems
