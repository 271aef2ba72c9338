"""CloudFormation import: three stacks in two accounts (RAM share, cross-stack exports), mapped onto
the model, validated, round-tripped, and checked for what their auth policies allow; malformed
templates give located errors or warnings, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from latsim.compile import DENIED, FORWARDED, UNREACHABLE, RequestClass, Topology
from latsim.errors import ScenarioError
from latsim.importers import cloudformation
from latsim.importers.cloudformation import import_cloudformation
from latsim.importers.common import ImportResult, az_id, lattice_name, region_code
from latsim.scenario import dump_scenario, parse_document, scenario_from_data

CFN = Path(__file__).resolve().parent / "data" / "cfn"
FILES = [str(CFN / "network.yaml"), str(CFN / "payments.yaml"), str(CFN / "inventory.json")]
PARAMS = {"payments/AWS::AccountId": "222222222222"}
STOREFRONT = "arn:aws:iam::111111111111:role/storefront"
CLIENTS = {"clients": [
    {"name": "storefront", "vpc": "web", "az": "use1-az1", "url": "https://checkout.shop.internal",
     "principal": {"arn": STOREFRONT, "org_id": "o-exampleorg1"}},
    {"name": "reports", "vpc": "web", "az": "use1-az2", "url": "https://checkout.shop.internal",
     "principal": {"arn": "arn:aws:iam::111111111111:role/reports", "org_id": "o-exampleorg1"}},
    {"name": "anonymous", "vpc": "web", "az": "use1-az1", "url": "https://checkout.shop.internal"},
]}


@pytest.fixture(scope="module")
def result() -> ImportResult:
    return import_cloudformation(FILES, PARAMS)


@pytest.fixture(scope="module")
def topo(result: ImportResult) -> Topology:
    return Topology(result.scenario(CLIENTS))


def named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def problems(exc: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [p.format() for p in exc.value.all_problems]


# --- the mapping -------------------------------------------------------------------------------

def test_accounts_come_from_the_account_parameter_and_the_default(result: ImportResult) -> None:
    assert result.data["accounts"] == [{"id": "111111111111"}, {"id": "222222222222"}]  # a stack is not its account
    assert result.data["region"] == "us-east-1"


def test_vpcs_keep_overlapping_cidrs_and_get_az_ids_from_their_subnets(result: ImportResult) -> None:
    web, pay, backend = (named(result.data["vpcs"], n) for n in ("web", "pay", "backend"))
    assert web["cidr"] == pay["cidr"] == ["10.0.0.0/16"]
    assert (web["account"], pay["account"], backend["account"]) == ("111111111111", "222222222222", "111111111111")
    assert web["azs"] == ["use1-az1", "use1-az2"]       # !Select [0, !GetAZs ""] and an AvailabilityZoneId
    assert backend["azs"] == ["use1-az1", "use1-az2"]   # us-east-1a and the second of !GetAZs
    assert web["id"].startswith("vpc-")


def test_security_groups_merge_standalone_rules_and_name_the_lattice_prefix_list(result: ImportResult) -> None:
    sgs = result.data["security_groups"]
    clients = named(sgs, "lattice-clients")
    assert [(r["ports"], r["source"]) for r in clients["ingress"]] == [(443, "10.0.0.0/16"), (80, "10.0.0.0/16")]
    assert "egress" not in clients  # CloudFormation keeps AWS's allow-all egress
    targets = named(sgs, "pay-targets")
    assert {r["source"] for r in targets["ingress"]} == {"vpc-lattice"}   # parameter named LatticePrefixListId
    alb = named(sgs, "alb-sg")
    assert alb["egress"] == [{"protocol": "tcp", "ports": 8080, "destination": "10.1.0.0/16"}]
    stock = named(sgs, "stock-sg")
    assert stock["ingress"][0]["source"] == "alb-sg"
    assert stock["ingress"][1] == {"protocol": "all", "ports": "all", "source": "vpc-lattice"}


def test_service_network_carries_policy_share_association_and_services(result: ImportResult) -> None:
    sn = named(result.data["service_networks"], "shop-prod")
    assert sn["account"] == "111111111111" and sn["auth_type"] == "AWS_IAM"
    assert sn["shared_with"] == ["222222222222"]
    assert sn["vpc_associations"] == [{"vpc": "web", "security_groups": ["lattice-clients"]}]
    assert sn["services"] == ["checkout", "inventory", "ledger"]   # via Fn::ImportValue of the network stack
    condition = sn["auth_policy"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1"}}
    assert result.data["access_logs"] == {"services": ["inventory"], "service_networks": ["shop-prod"]}


def test_services_listeners_and_rules(result: ImportResult) -> None:
    checkout = named(result.data["services"], "checkout")
    assert checkout["account"] == "222222222222"
    assert checkout["custom_domain"] == "checkout.shop.internal" and checkout["auth_type"] == "AWS_IAM"
    resources = checkout["auth_policy"]["Statement"][0]["Resource"]
    assert resources == [f"arn:aws:vpc-lattice:us-east-1:222222222222:service/{checkout['id']}/api/*",
                         f"arn:aws:vpc-lattice:us-east-1:222222222222:service/{checkout['id']}/rates"]
    (https,) = checkout["listeners"]
    assert (https["name"], https["protocol"], https["port"]) == ("https", "HTTPS", 443)
    assert https["default_action"] == {"fixed_response": 404}
    beta, api, rates = https["rules"]
    assert beta == {"name": "beta-testers", "priority": 5,
                    "match": {"path": {"prefix": "/api"}, "headers": [{"name": "x-beta", "exact": "1"}]},
                    "action": {"forward": [{"target_group": "checkout-v2"}]}}
    assert api["name"] == "api-rule"   # no Name: derived from the logical id
    assert api["match"] == {"path": {"prefix": "/api", "case_sensitive": True}}
    assert api["action"]["forward"] == [{"target_group": "checkout-v1", "weight": 90},
                                        {"target_group": "checkout-v2", "weight": 10}]
    assert rates["match"] == {"method": "GET", "path": {"exact": "/rates"}}
    ledger = named(result.data["services"], "ledger")
    assert ledger["listeners"] == [{"name": "ledger-tls", "protocol": "TLS_PASSTHROUGH", "port": 8443,
                                    "default_action": {"forward": [{"target_group": "ledger-tcp"}]}}]
    inventory = named(result.data["services"], "inventory")
    assert inventory["listeners"][0]["rules"][0]["match"] == {"method": "POST", "path": {"prefix": "/stock"}}


def test_target_groups_and_their_targets(result: ImportResult) -> None:
    tgs = result.data["target_groups"]
    v1 = named(tgs, "checkout-v1")
    assert v1["health_check"] == {"enabled": True, "path": "/health", "interval": "10s", "timeout": "2s",
                                  "healthy_threshold": 3, "unhealthy_threshold": 2, "matcher": "200-299"}
    # the auto-scaling group: DesiredCapacity from a mapping, spread over both subnets, SGs of its template
    assert [(t["az"], t["security_groups"]) for t in v1["targets"]] == [("use1-az1", ["pay-targets"]),
                                                                       ("use1-az2", ["pay-targets"])]
    v2 = named(tgs, "checkout-v2")
    assert v2["targets"] == [{"id": "10.0.1.15", "az": "use1-az1"}, {"id": "10.0.2.15", "az": "use1-az2"}]  # on the group's port: written without one
    rates = named(tgs, "rates-targets")
    assert rates["type"] == "LAMBDA" and rates["targets"] == [{"id": "rates"}] and "vpc" not in rates
    ledger = named(tgs, "ledger-tcp")
    assert (ledger["protocol"], ledger["port"]) == ("TCP", 8443)
    alb = named(tgs, "inventory-alb")
    assert alb["targets"] == [{"id": "inventory-alb", "az": "use1-az1", "security_groups": ["alb-sg"]}]
    stock = named(tgs, "stock")
    assert stock["targets"][0]["ip"] == "10.1.2.50" and stock["targets"][0]["az"] == "use1-az2"
    assert all("latency" not in t and "concurrency" not in t for tg in tgs for t in tg.get("targets", []))


def test_what_is_not_simulated_is_a_located_warning(result: ImportResult) -> None:
    by_code = {(w.code, w.location.path): w for w in result.warnings}
    rc = by_code[("not-simulated", "Resources.StockConfig")]
    assert rc.location.file.endswith("inventory.json") and rc.location.line == 132
    role = by_code[("unmapped-resource", "Resources.RatesRole")]
    assert role.severity == "warning" and role.location.line is not None
    assert not [w for w in result.warnings if w.severity == "error"]


# --- validation, round trip, stability -----------------------------------------------------------

def test_the_import_validates_and_round_trips(result: ImportResult) -> None:
    text = result.to_yaml()
    assert text.startswith("# Imported by latsim from CloudFormation templates")
    assert "#   " in text and "Resources.StockConfig" in text  # the warnings, as comments
    data, pos = parse_document(text, "imported.yaml")
    again = dump_scenario(scenario_from_data(data, pos), header=result.header())
    assert again == text


def test_importing_twice_gives_the_same_text(result: ImportResult) -> None:
    assert import_cloudformation(FILES, PARAMS).to_yaml() == result.to_yaml()


def test_an_overlay_adds_clients_and_overrides_values(result: ImportResult) -> None:
    scn = result.scenario({**CLIENTS, "target_groups": [{"name": "stock", "targets": [
        {"id": result.data["target_groups"][-1]["targets"][0]["id"], "concurrency": 2}]}]})
    assert [c.name for c in scn.clients] == ["storefront", "reports", "anonymous"]
    assert scn.index.target_groups["stock"].targets[0].concurrency == 2
    assert "clients" not in result.data   # the import itself has none


# --- what the auth policies allow -----------------------------------------------------------------

@pytest.mark.parametrize(("client", "method", "path", "headers", "outcome", "detail"), [
    ("storefront", "GET", "/api/cart", (), FORWARDED, {"checkout-v1": 90, "checkout-v2": 10}),
    ("storefront", "GET", "/api/cart", (("x-beta", "1"),), FORWARDED, {"checkout-v2": 1}),
    ("storefront", "GET", "/rates", (), FORWARDED, {"rates-targets": 1}),
    ("storefront", "GET", "/admin/users", (), DENIED, "Service"),       # explicit deny in the service policy
    ("reports", "GET", "/api/cart", (), DENIED, "Service"),             # in the org, not the allowed role
    ("anonymous", "GET", "/api/cart", (), DENIED, "Network"),           # the network wants an org principal
])
def test_auth_policies_allow_and_deny_what_the_templates_say(topo: Topology, client: str, method: str, path: str,
                                                             headers: tuple[tuple[str, str], ...], outcome: str,
                                                             detail: Any) -> None:
    route = topo.route(topo.clients[client], RequestClass(url="https://checkout.shop.internal", method=method,
                                                          path=path, headers=headers))
    assert route.outcome == outcome
    if outcome == FORWARDED:
        assert route.target_groups == detail
    else:
        assert route.status == 403 and route.auth_denied_reason == detail


def test_inventory_rule_matches_method_and_path_prefix(topo: Topology) -> None:
    client = topo.clients["storefront"]
    post = topo.route(client, RequestClass(url="http://inventory.shop.internal", method="POST", path="/stock/7"))
    get = topo.route(client, RequestClass(url="http://inventory.shop.internal", method="GET", path="/stock/7"))
    assert (post.rule, post.target_groups) == ("stock-updates", {"stock": 100})
    assert (get.rule, get.target_groups) == ("default", {"inventory-alb": 1})


def test_association_security_group_admits_only_80_and_443(topo: Topology) -> None:
    route = topo.route(topo.clients["anonymous"], RequestClass(url="tls://ledger.shop.internal:8443"))
    assert route.outcome == UNREACHABLE and route.failure == "connect_timeout"


# --- parameters and conditions --------------------------------------------------------------------

def test_parameters_and_conditions_change_the_result() -> None:
    res = import_cloudformation(FILES, {**PARAMS, "Env": "staging", "payments/CanaryWeight": "0"})
    assert [sn["name"] for sn in res.data["service_networks"]] == ["shop-staging"]
    assert res.data["access_logs"] == {"services": ["inventory"]}      # NetworkLogs has Condition IsProd
    api = named(named(res.data["services"], "checkout")["listeners"][0]["rules"], "api-rule")
    assert api["action"] == {"forward": [{"target_group": "checkout-v1"}]}   # !If [HasCanary, ...]


def test_parameter_mistakes_are_warnings() -> None:
    res = import_cloudformation(FILES, {**PARAMS, "Evn": "prod", "paymnets/CanaryWeight": "5",
                                        "network/Env": "qa"})
    text = [w.format() for w in res.warnings]
    assert any("'Evn' is not declared" in t and "did you mean 'Env'" in t for t in text)
    assert any(t.startswith("--param paymnets/CanaryWeight: warning: --param for unknown stack 'paymnets'")
               and "did you mean 'payments'" in t for t in text)
    assert any("'qa' is not one of its AllowedValues" in t and "network.yaml:7:3: Parameters.Env" in t for t in text)


def test_bad_account_id_is_an_error() -> None:
    with pytest.raises(ScenarioError) as exc:
        import_cloudformation(FILES, {"AWS::AccountId": "12345"})
    assert any("--param network/AWS::AccountId" in t and "12-digit" in t for t in problems(exc))


# --- malformed input -----------------------------------------------------------------------------

MINIMAL = """\
Resources:
  Net:
    Type: AWS::VpcLattice::ServiceNetwork
    Properties:
      Name: {name}
"""


def test_bad_yaml_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "Resources:\n  Net:\n    Type: [unclosed\n")
    with pytest.raises(ScenarioError) as exc:
        import_cloudformation([path])
    (msg,) = problems(exc)
    assert msg.startswith(f"{path}:4:1:") and "cannot read the template" in msg


def test_bad_json_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{\n\t"Resources": {\n\t\t"Net": {"Type" "AWS::VpcLattice::ServiceNetwork"}\n}}\n')
    with pytest.raises(ScenarioError) as exc:
        import_cloudformation([path])
    (msg,) = problems(exc)
    # the standard library's column: the '"' where the ':' is missing (cfn-lint's reader said 19)
    assert msg.startswith(f"{path}:3:18:") and "Expecting ':' delimiter" in msg


def test_tab_indented_json_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "tabs.json", '{\n\t"Resources": {\n\t\t"Net": {"Type": "AWS::VpcLattice::ServiceNetwork",'
                                        ' "Properties": {"Name": "tabbed"}},\n\t\t"Bucket": {"Type": "AWS::S3::Bucket"}'
                                        '\n\t}\n}\n')
    res = import_cloudformation([path])
    assert res.data["service_networks"][0]["name"] == "tabbed"
    (w,) = res.warnings
    assert (w.location.line, w.location.path) == (4, "Resources.Bucket")


def test_unknown_intrinsic_function_is_a_located_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", MINIMAL.format(name="!Frobnicate [a, b]"))
    res = import_cloudformation([path])
    (w,) = [w for w in res.warnings if w.code == "unsupported-intrinsic"]
    assert w.format().startswith(f"{path}:5:13: Resources.Net.Properties.Name.Fn::Frobnicate: warning: "
                                 "unsupported intrinsic function 'Fn::Frobnicate'")
    assert res.data["service_networks"][0]["name"] == "net"   # falls back to the logical id


def test_transforms_are_reported_not_run(tmp_path: Path) -> None:
    text = "Transform: AWS::Serverless-2016-10-31\n" + MINIMAL.format(name="!Transform {Name: Upper}")
    res = import_cloudformation([write(tmp_path, "t.yaml", text)])
    codes = {w.code for w in res.warnings}
    assert {"transform", "unsupported-intrinsic"} <= codes


def test_dangling_ref_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", MINIMAL.format(name="!Ref NetName") + "  Svc:\n    Type: AWS::VpcLattice::Service\n"
                 "    Properties:\n      Name: !GetAtt Nett.Name\n")
    with pytest.raises(ScenarioError) as exc:
        import_cloudformation([path])
    msgs = problems(exc)
    assert any(m.startswith(f"{path}:5:13:") and "unresolved reference 'NetName'" in m for m in msgs)
    assert any(m.startswith(f"{path}:9:") and "no resource named 'Nett'" in m and "did you mean 'Net'" in m
               for m in msgs)


def test_template_shape_errors_are_located(tmp_path: Path) -> None:
    cases = {
        "list.yaml": ("- just\n- a list\n", "a mapping with a Resources section"),
        "nores.yaml": ("Description: nothing\n", "no Resources section"),
        "notype.yaml": ("Resources:\n  Net:\n    Properties: {}\n", "resource Net has no Type"),
        "props.yaml": ("Resources:\n  Net:\n    Type: AWS::VpcLattice::ServiceNetwork\n    Properties: [1]\n",
                       "Properties of Net must be a mapping"),
    }
    for name, (text, message) in cases.items():
        path = write(tmp_path, name, text)
        with pytest.raises(ScenarioError) as exc:
            import_cloudformation([path])
        assert any(m.startswith(path + ":") and message in m for m in problems(exc)), (name, problems(exc))


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        import_cloudformation([str(tmp_path / "nope.yaml")])
    assert "cannot read file" in problems(exc)[0]


def test_unresolvable_values_degrade_to_warnings(tmp_path: Path) -> None:
    text = """\
Parameters:
  Secret: {Type: "AWS::SSM::Parameter::Value<String>", Default: /shop/name}
  NoDefault: {Type: String}
Resources:
  Net:
    Type: AWS::VpcLattice::ServiceNetwork
    Properties:
      Name: !Ref Secret
      AuthType: !Select [5, [NONE]]
  Svc:
    Type: AWS::VpcLattice::Service
    Properties:
      Name: !Sub "${NoDefault}-svc"
      CustomDomainName: !GetAtt Net.Colour
  Assoc:
    Type: AWS::VpcLattice::ServiceNetworkServiceAssociation
    Properties:
      ServiceNetworkIdentifier: sn-0123456789abcdef0
      ServiceIdentifier: !Ref Svc
"""
    res = import_cloudformation([write(tmp_path, "t.yaml", text)])
    codes = {w.code: w for w in res.warnings}
    assert {"ssm-parameter", "parameter-value", "intrinsic-shape", "unknown-attribute", "unknown-reference"} <= set(codes)
    assert codes["unknown-reference"].location.line == 15
    assert [s["name"] for s in res.data["services"]] == ["svc"]
    res.scenario()   # what remains still validates


def test_validation_problems_point_into_the_template(tmp_path: Path) -> None:
    text = """\
Resources:
  Svc:
    Type: AWS::VpcLattice::Service
    Properties: {Name: raw-tcp}
  Tls:
    Type: AWS::VpcLattice::Listener
    Properties:
      ServiceIdentifier: !Ref Svc
      Protocol: TLS_PASSTHROUGH
      DefaultAction: {FixedResponse: {StatusCode: 404}}
"""
    path = write(tmp_path, "t.yaml", text)
    res = import_cloudformation([path])
    with pytest.raises(ScenarioError) as exc:
        res.scenario()
    msgs = problems(exc)
    assert any(m.startswith(f"{path}:5:3: services.raw-tcp.listeners.tls.protocol (from Resources.Tls)")
               and "custom_domain" in m for m in msgs)


def test_yaml_alias_bombs_are_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
              for i in range(1, 9)]
    with pytest.raises(ScenarioError) as exc:
        import_cloudformation([write(tmp_path, "bomb.yaml", "\n".join(lines) + "\nResources: {}\n")])
    assert any("alias" in m for m in problems(exc))


# --- readers, rules, lint -------------------------------------------------------------------------

def test_the_templates_read_the_same_without_cfn_lint(result: ImportResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader is latsim.source: cfn-lint is needed for --lint only."""
    for name in [m for m in sys.modules if m == "cfnlint" or m.startswith("cfnlint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cfnlint", None)  # any import of it now fails
    alone = import_cloudformation(FILES, PARAMS)
    assert alone.data == result.data
    assert [w.format() for w in alone.warnings] == [w.format() for w in result.warnings]


def test_intrinsic_functions_evaluate_like_cloudformation(tmp_path: Path) -> None:
    text = """\
Mappings:
  Sizes: {prod: {Count: 3}}
Parameters:
  Zones: {Type: CommaDelimitedList, Default: "a, b, c"}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Select [1, !Cidr [10.8.0.0/16, 4, 12]]
      Tags:
        - {Key: b64, Value: !Base64 hello}
        - {Key: split, Value: !Select [1, !Split [",", "x,y,z"]]}
        - {Key: zones, Value: !Join ["+", !Ref Zones]}
        - {Key: map, Value: !FindInMap [Sizes, prod, Count]}
        - {Key: default, Value: !FindInMap [Sizes, test, Count, {DefaultValue: 1}]}
        - {Key: literal, Value: !Sub "${!NotAVar}-${AWS::Region}-${AWS::AccountId}"}
        - {Key: vars, Value: !Sub ["${A}/${Vpc}", {A: !Length [1, 2]}]}
        - {Key: json, Value: !ToJsonString {k: [1]}}
        - {Key: cond, Value: !If [Never, "yes", "no"]}
        - !If [Never, {Key: gone, Value: x}, !Ref "AWS::NoValue"]
Conditions:
  Never: !And [!Equals [1, 1], !Not [!Or [!Equals [a, a], !Condition Other]]]
  Other: !Equals [!Select [0, !GetAZs ""], us-east-1a]
"""
    res = import_cloudformation([write(tmp_path, "t.yaml", text)], {"AWS::AccountId": "123456789012"})
    (vpc,) = res.data["vpcs"]
    assert vpc["cidr"] == ["10.8.16.0/20"]
    vpc_id = vpc["id"]
    assert vpc["tags"] == {"b64": "aGVsbG8=", "split": "y", "zones": "a+b+c", "map": "3", "default": "1",
                           "literal": "${NotAVar}-us-east-1-123456789012", "vars": f"2/{vpc_id}",
                           "json": '{"k":[1]}', "cond": "no"}


def test_az_names_map_to_az_ids_by_a_documented_rule() -> None:
    assert [az_id(a) for a in ("us-east-1a", "us-east-1c", "eu-west-1b", "ap-southeast-2a", "ap-northeast-1d",
                               "us-gov-west-1a", "use1-az4", "local-zone")] == \
        ["use1-az1", "use1-az3", "euw1-az2", "apse2-az1", "apne1-az4", "usgw1-az1", "use1-az4", None]
    assert region_code("eu-central-1") == "euc1"


def test_names_follow_lattice_rules() -> None:
    assert lattice_name("CheckoutServiceV2", "service") == "checkout-service-v2"
    assert lattice_name("HTTPSListener", "listener") == "https-listener"
    assert lattice_name("svc-pay", "service") == "service-pay"
    assert lattice_name("A", "service") == "a00"
    assert len(lattice_name("x" * 90, "service")) == 40


def test_lint_adds_cfn_lint_findings(tmp_path: Path) -> None:
    pytest.importorskip("cfnlint")
    text = MINIMAL.format(name="shop") + "      AuthType: SOMETIMES\n"
    res = import_cloudformation([write(tmp_path, "t.yaml", text)], lint=True)
    lint = [w for w in res.warnings if (w.code or "").startswith("cfn-lint:")]
    assert lint and lint[0].location.line == 6


ODD_VALUES: list[Any] = [None, 0, -1, "", "x", [], {}, [1, "a"], True, {"Ref": "Nope"}, {"Fn::GetAtt": "X"},
                         {"Fn::If": [1]}, {"Fn::Sub": ["${A}", {"A": []}]}, {"Fn::Select": ["a", "b"]},
                         {"Fn::Join": 3}, {"Fn::Cidr": ["10.0.0.0/16", 300, 40]}, {"Fn::FindInMap": ["a"]},
                         {"Fn::Not": [{"Condition": "Nope"}]}, "arn:aws:vpc-lattice:us-east-1:1:service/svc-x"]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for k, v in children:
        out += _paths(v, prefix + (k,))
    return out


def test_odd_values_anywhere_give_problems_not_tracebacks(tmp_path: Path) -> None:
    import copy
    import json
    import random
    rng = random.Random(7)
    docs = [cloudformation.read_template(Path(f).read_text(), f)[0] for f in FILES]
    for n in range(25):
        mutated = copy.deepcopy(docs)
        for _ in range(3):
            doc = rng.choice(mutated)
            path = rng.choice(_paths(doc))
            node = doc
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        files = []
        for i, doc in enumerate(mutated):
            files.append(write(tmp_path, f"m{n}-{i}.json", json.dumps(doc)))
        try:
            import_cloudformation(files, PARAMS).to_yaml()
        except ScenarioError as exc:
            assert exc.all_problems


def test_an_outside_vpc_is_warned_and_can_come_from_an_overlay(tmp_path: Path) -> None:
    text = """\
Parameters:
  VpcId: {Type: "AWS::EC2::VPC::Id", Default: vpc-0123456789abcdef0}
Resources:
  Tg:
    Type: AWS::VpcLattice::TargetGroup
    Properties:
      Name: legacy
      Type: IP
      Config: {Port: 8080, Protocol: HTTP, VpcIdentifier: !Ref VpcId}
      Targets: [{Id: 172.16.0.10}]
"""
    path = write(tmp_path, "t.yaml", text)
    res = import_cloudformation([path])
    (w,) = [w for w in res.warnings if w.code == "placeholder"]
    assert w.format().startswith(f"{path}:4:3: Resources.Tg: warning: target group legacy: VPC "
                                 "'vpc-0123456789abcdef0' is not in the input; latsim puts a placeholder VPC "
                                 "'vpc-0123456789abcdef0' in its place (account 111111111111")
    # the placeholder keeps the target group (it used to be an invalid reference), around its targets ...
    alone = res.scenario()
    assert alone.index.vpcs["vpc-0123456789abcdef0"].cidr == ["172.16.0.0/16"]
    # ... and an overlay that names the VPC by its id completes it (merged by id, not appended)
    scn = res.scenario({"vpcs": [{"name": "legacy", "id": "vpc-0123456789abcdef0", "account": "111111111111",
                                  "cidr": "172.16.0.0/12", "azs": ["use1-az1"]}]})
    assert [v.cidr for v in scn.vpcs] == [["172.16.0.0/12"]]
    assert scn.index.target_groups["legacy"].vpc in ("legacy", "vpc-0123456789abcdef0")
