"""One test per validation rule: the bundled scenarios are the good cases; each mutation below
is a bad case whose message and location (file line, dotted path) are asserted."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from latsim.errors import ScenarioError
from latsim.scenario import load_scenario, parse_document, scenario_from_data
from tests.conftest import DATA, ROOT, problems_of

Mut = Callable[[dict[str, Any]], None]


def svc(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in d["services"] if s["name"] == name)


def tg(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in d["target_groups"] if t["name"] == name)


def api_rule(d: dict[str, Any]) -> dict[str, Any]:
    return svc(d, "checkout")["listeners"][0]["rules"][0]


def set_(obj: dict[str, Any], key: str, value: Any) -> None:
    obj[key] = value


CASES: list[tuple[str, Mut, str, str]] = [
    ("service network name pattern",
     lambda d: set_(d["service_networks"][0], "name", "Shop_Net"), "service network name 'Shop_Net' is not valid",
     "service_networks.Shop_Net.name"),
    ("service name length",
     lambda d: set_(svc(d, "inventory"), "name", "ab"), "service name 'ab' is not valid", "services.ab.name"),
    ("service name may not start with svc-",
     lambda d: set_(svc(d, "inventory"), "name", "svc-inventory"), "may not start with 'svc-'", "services.svc-inventory"),
    ("listener name pattern",
     lambda d: set_(svc(d, "checkout")["listeners"][0], "name", "HTTPS--x"), "listener name 'HTTPS--x' is not valid",
     "services.checkout.listeners.HTTPS--x.name"),
    ("rule name pattern",
     lambda d: set_(api_rule(d), "name", "-api"), "rule name '-api' is not valid", "rules.-api.name"),
    ("target group name pattern",
     lambda d: set_(tg(d, "inventory"), "name", "Inventory_TG"), "target group name 'Inventory_TG' is not valid",
     "target_groups.Inventory_TG.name"),
    ("distribution parameters located",
     lambda d: set_(tg(d, "inventory")["targets"][0], "latency", {"gama": {"mean": "8ms", "cv": 0.8}}),
     "did you mean 'gamma'?", "target_groups.inventory.targets.10.1.1.10.latency"),
    ("rule priority range",
     lambda d: set_(api_rule(d), "priority", 2001), "priority 2001 is out of range (1-2000)", "rules.api.priority"),
    ("rule priority unique per listener",
     lambda d: svc(d, "checkout")["listeners"][0]["rules"].append(
         {"name": "api2", "priority": 10, "match": {"method": "GET"}, "action": {"fixed_response": 404}}),
     "duplicate rule priority '10'", "rules.api2.priority"),
    ("weights 0-999",
     lambda d: set_(api_rule(d)["action"]["forward"][0], "weight", 1000), "less than or equal to 999",
     "forward.0.weight"),
    ("weights required with several target groups",
     lambda d: api_rule(d)["action"]["forward"][0].pop("weight"), "weights are required", "forward.0"),
    ("1-10 target groups per forward",
     lambda d: set_(api_rule(d)["action"], "forward",
                    [{"target_group": f"tg-{i:02d}x", "weight": 1} for i in range(11)]),
     "11 target groups in one forward action (1-10)", "rules.api.action.forward"),
    ("at most 5 header matches",
     lambda d: set_(api_rule(d)["match"], "headers", [{"name": f"x-h{i}", "exact": "1"} for i in range(6)]),
     "6 header matches (at most 5 per rule)", "rules.api.match.headers"),
    ("fixed response only 404 or 500",
     lambda d: set_(svc(d, "checkout")["listeners"][0], "default_action", {"fixed_response": 503}),
     "fixed response 503 is not supported (404 or 500)", "default_action.fixed_response"),
    ("one service-network association per VPC",
     lambda d: d["service_networks"].append({"name": "other", "account": "shop", "vpc_associations": [{"vpc": "web"}]}),
     "already has a service-network association", "service_networks.other.vpc_associations.0.vpc"),
    ("at most 5 security groups per association",
     lambda d: set_(d["service_networks"][0]["vpc_associations"][0], "security_groups", ["lattice-clients"] * 6),
     "6 security groups on one VPC association", "vpc_associations.0.security_groups"),
    ("TLS passthrough needs a custom domain",
     lambda d: (svc(d, "inventory").pop("custom_domain"),
                set_(svc(d, "inventory")["listeners"][0], "protocol", "TLS_PASSTHROUGH")),
     "needs the service to have a custom_domain", "services.inventory.listeners.http.protocol"),
    ("TLS passthrough forwards to TCP target groups only",
     lambda d: set_(svc(d, "inventory")["listeners"][0], "protocol", "TLS_PASSTHROUGH"),
     "forwards only to TCP target groups", "default_action.forward.0.target_group"),
    ("TLS passthrough has only the default rule",
     lambda d: set_(svc(d, "checkout")["listeners"][0], "protocol", "TLS_PASSTHROUGH"),
     "has only its default rule", "services.checkout.listeners.https.rules"),
    ("HTTP2/GRPC target groups only behind HTTPS listeners",
     lambda d: set_(tg(d, "inventory"), "protocol_version", "GRPC"), "needs an HTTPS listener",
     "services.inventory.listeners.http.default_action.forward.0.target_group"),
    ("target group in the same account as its service",
     lambda d: (d["accounts"].append({"id": "222222222222", "name": "other"}), set_(tg(d, "inventory"), "account", "other")),
     "must be in the same account as its service", "forward.0.target_group"),
    ("TG VPC required for INSTANCE/IP/ALB",
     lambda d: tg(d, "inventory").pop("vpc"), "an IP target group needs a vpc", "target_groups.inventory.vpc"),
    ("IP targets inside the TG VPC CIDR",
     lambda d: set_(tg(d, "inventory")["targets"][0], "id", "192.168.1.1"), "lies outside VPC backend's CIDR",
     "target_groups.inventory.targets.192.168.1.1.id"),
    ("CIDRs valid",
     lambda d: set_(d["vpcs"][0], "cidr", "10.0.0.0/33"), "'10.0.0.0/33' is not a valid CIDR block", "vpcs.web.cidr"),
    ("references resolve (with a suggestion)",
     lambda d: set_(api_rule(d)["action"]["forward"][0], "target_group", "checkout-stabel"),
     "unknown target group 'checkout-stabel'; did you mean 'checkout-stable'?", "forward.0.target_group"),
    ("client AZ belongs to its VPC",
     lambda d: set_(d["clients"][0], "az", "use1-az9"), "unknown AZ of VPC web 'use1-az9'", "clients.storefront.az"),
    ("quota: rules per listener (named)",
     lambda d: set_(svc(d, "checkout")["listeners"][0], "rules", [
         {"name": f"r{i:02d}x", "priority": i + 1, "match": {"method": "GET"}, "action": {"fixed_response": 404}}
         for i in range(11)]),
     "exceeds the quota rules_per_listener = 10", "services.checkout.listeners.https.rules"),
    ("quota: listeners per service",
     lambda d: svc(d, "inventory")["listeners"].extend([
         {"name": f"l{i}xx", "protocol": "HTTP", "port": 8000 + i, "default_action": {"fixed_response": 404}}
         for i in range(2)]),
     "exceeds the quota listeners_per_service = 2", "services.inventory.listeners"),
    ("quota: targets per target group",
     lambda d: set_(d, "quotas", {"targets_per_target_group": 1}), "exceeds the quota targets_per_target_group = 1",
     "target_groups.checkout-stable.targets"),
    ("unknown quota name",
     lambda d: set_(d, "quotas", {"rules_per_listner": 20}), "did you mean 'rules_per_listener'?", "quotas"),
    ("cross-account association needs a RAM share",
     lambda d: (d["accounts"].append({"id": "222222222222", "name": "other"}), set_(d["vpcs"][0], "account", "other")),
     "which is not shared with it", "service_networks.shop.vpc_associations.0.vpc"),
    ("unknown key with suggestion",
     lambda d: set_(d["clients"][0], "timout", "2s"), "unknown key 'timout'; did you mean 'timeout'?",
     "clients.storefront.timout"),
    ("literal with suggestion",
     lambda d: set_(svc(d, "checkout")["listeners"][0], "protocol", "HTTPX"), "'HTTPX' is not allowed (one of HTTP, "
     "HTTPS, TLS_PASSTHROUGH); did you mean 'HTTP'?", "services.checkout.listeners.https.protocol"),
    ("bare duration refused",
     lambda d: set_(d["clients"][0], "timeout", 2), "a bare number is ambiguous", "clients.storefront.timeout"),
    ("custom domain unique within a service network",
     lambda d: set_(svc(d, "inventory"), "custom_domain", "checkout.shop.internal"),
     "custom domain checkout.shop.internal is used by checkout and inventory", "service_networks.shop.services"),
    ("LAMBDA target groups take one function",
     lambda d: d["target_groups"].append({"name": "fn", "type": "LAMBDA", "targets": [{"id": "a"}, {"id": "b"}]}),
     "exactly one function target", "target_groups.fn.targets"),
    ("warmup shorter than duration",
     lambda d: set_(d, "warmup", "5m"), "warmup must be shorter than duration", "warmup"),
    ("timeline references",
     lambda d: set_(d, "timeline", [{"at": "1m", "fail_targets": ["i-0stabel1"]}]),
     "unknown target 'i-0stabel1'; did you mean 'i-0stable1'?", "timeline.0.fail_targets.0"),
    ("canary groups must be in the rule",
     lambda d: set_(d, "canaries", [{"name": "c1", "service": "checkout", "rule": "api", "primary": "checkout-stable",
                                     "canary": "inventory", "step_weight": 10}]),
     "target group inventory is not in the forward action of rule api", "canaries.c1.canary"),
    ("SLO subject exists",
     lambda d: set_(d, "slo", [{"service": "checkot", "p99": "1s"}]), "unknown service 'checkot'", "slo.0.service"),
    ("auth policy checked",
     lambda d: set_(svc(d, "checkout"), "auth_policy", {"Statement": [{"Effect": "Alow", "Principal": "*",
                                                                       "Action": "*", "Resource": "*"}]}),
     "Alow", "services.checkout.auth_policy.Statement.0.Effect"),
]


@pytest.mark.parametrize("label,mutate,message,path", CASES, ids=[c[0] for c in CASES])
def test_validation_rule(quickstart_data, label, mutate, message, path):
    assert problems_of(quickstart_data) == []  # the good case
    data = copy.deepcopy(quickstart_data)
    mutate(data)
    # dump to YAML text and load it from a "file" so line numbers are real
    import io

    from ruamel.yaml import YAML
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    data2, pos = parse_document(buf.getvalue(), "scenario.yaml")
    try:
        scenario_from_data(data2, pos)
        problems = []
    except ScenarioError as exc:
        problems = exc.problems
    if message is None:
        assert problems == []
        return
    texts = [p.format() for p in problems]
    hits = [p for p in problems if message in p.format()]
    assert hits, f"expected {message!r} in {texts}"
    p = hits[0]
    assert p.location.file == "scenario.yaml"
    assert p.location.line is not None and p.location.line >= 1
    assert path in p.location.path, (p.location.path, path)
    assert p.format().startswith(f"scenario.yaml:{p.location.line}:")


def test_design_example_validates_as_written():
    scn = load_scenario(DATA / "design_example.yaml")
    assert scn.name == "checkout-canary"
    assert [s.name for s in scn.services] == ["checkout"]


def test_bundled_scenarios_validate():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_scenario(path)


def test_overlapping_cidrs_are_information_not_errors():
    from latsim.model.validate import notes
    scn = load_scenario(DATA / "design_example.yaml")
    infos = [p for p in notes(scn) if p.code == "overlapping-cidr"]
    assert infos and infos[0].severity == "info"
    assert "fine with Lattice" in infos[0].message


def test_three_mistakes_give_three_located_errors(tmp_path):
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text()
    text = text.replace("    timeout: 2s\n    retries", "    timout: 2s\n    retries").replace("priority: 10", "priority: 0").replace(
        "target_group: checkout-canary, weight: 10", "target_group: checkout-canari, weight: 10")
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    problems = info.value.problems
    assert len(problems) == 3, [p.format() for p in problems]
    lines = text.splitlines()
    for p, needle in zip(sorted(problems, key=lambda p: p.location.line), ["priority: 0", "checkout-canari",
                                                                          "timout"], strict=True):
        assert needle in lines[p.location.line - 1], (p.format(), needle)


def test_a_broken_item_does_not_cascade(quickstart_data):
    data = copy.deepcopy(quickstart_data)
    tg(data, "inventory")["port"] = "eighty"  # structural error in the target group
    problems = problems_of(data)
    assert len(problems) == 1, [p.format() for p in problems]  # no "unknown target group 'inventory'"


def test_syntax_error_is_located(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nservices: [\n  {name: a\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    p = info.value.problems[0]
    assert p.location.file == str(f) and p.location.line is not None
    assert "syntax error" in p.message


def test_duplicate_keys_are_errors(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nname: y\n")
    with pytest.raises(ScenarioError, match="duplicate key"):
        load_scenario(f)


def test_non_utf8_is_located(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_bytes(b"name: x\ndescription: caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    p = info.value.problems[0]
    assert (p.location.line, p.location.column) == (2, 17)
    assert "not valid UTF-8" in p.message


def test_json_scenarios_load(tmp_path, quickstart_data):
    import json
    f = tmp_path / "s.json"
    f.write_text(json.dumps(quickstart_data, indent=2))
    scn = load_scenario(f)
    assert scn.name == "quickstart"


def test_python_api_builds_the_same_model():
    import latsim
    from latsim.model import Account, Listener, Service, ServiceNetwork, Vpc
    scn = latsim.Scenario(
        name="api", accounts=[Account(id="111111111111", name="a")],
        vpcs=[Vpc(name="v", account="a", cidr="10.0.0.0/16", azs=["use1-az1"])],
        service_networks=[ServiceNetwork(name="net", account="a", vpc_associations=[{"vpc": "v"}], services=["svc1"])],
        services=[Service(name="svc1", account="a", listeners=[Listener(protocol="HTTP",
                                                                         default_action={"fixed_response": 404})])])
    assert scn.services[0].listeners[0].effective_port == 80
    with pytest.raises(ScenarioError, match="unknown service 'svc2'"):
        latsim.Scenario(name="api", accounts=[Account(id="111111111111", name="a")],
                        service_networks=[ServiceNetwork(name="net", account="a", services=["svc2"])])


def test_model_is_immutable(quickstart_data):
    from pydantic import ValidationError
    scn = scenario_from_data(quickstart_data)
    with pytest.raises(ValidationError):
        scn.services[0].name = "other"  # type: ignore[misc]


def test_tls_passthrough_policy_without_connect_is_a_warning(quickstart_data):
    from latsim.model.validate import notes
    data = copy.deepcopy(quickstart_data)
    inv = svc(data, "inventory")
    inv["listeners"][0]["protocol"] = "TLS_PASSTHROUGH"
    inv["auth_type"] = "AWS_IAM"
    inv["auth_policy"] = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
                                         "Resource": "*"}]}
    tg(data, "inventory")["protocol"] = "TCP"
    tg(data, "inventory")["health_check"] = {"enabled": False}
    scn = scenario_from_data(data)
    warnings = [p for p in notes(scn) if p.code == "tls-passthrough-auth"]
    assert warnings and "vpc-lattice-svcs:Connect" in warnings[0].message
    inv["auth_policy"]["Statement"][0]["Action"] = "vpc-lattice-svcs:Connect"
    assert not [p for p in notes(scenario_from_data(data)) if p.code == "tls-passthrough-auth"]


def test_overlap_notes_are_one_line_per_group_of_overlapping_cidrs():
    from latsim.model.validate import notes
    from tests.builders import build, one_service
    data = one_service()
    data["vpcs"] = [{"name": f"v{i}", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]}
                    for i in range(10)]
    data["vpcs"] += [{"name": "client-vpc", "account": "acct", "cidr": "172.16.0.0/16", "azs": ["use1-az1"]},
                     {"name": "target-vpc", "account": "acct", "cidr": ["172.16.4.0/24", "192.168.0.0/16"],
                      "azs": ["use1-az1"]}]
    infos = [p for p in notes(build(data)) if p.code == "overlapping-cidr"]
    assert len(infos) == 2, [p.message for p in infos]  # not 45 + 1 lines
    ten = next(p for p in infos if p.message.startswith("10.0.0.0/16"))
    assert "used by VPCs " + ", ".join(f"v{i}" for i in range(10)) + ";" in ten.message
    nested = next(p for p in infos if p.message.startswith("172.16.0.0/16"))
    assert "172.16.4.0/24 (overlapping): used by VPCs client-vpc, target-vpc" in nested.message
    assert all(p.severity == "info" and "fine with Lattice" in p.message for p in infos)


def test_inventory_uses_singular_for_one():
    from tests.builders import build, one_service
    line = build(one_service()).summary_line()
    assert line.startswith("1 account, 2 VPCs, 1 service network, 1 service, 1 listener, 0 rules, ")
    assert line.endswith("1 target group, 1 target, 1 client, 0 timeline events")
