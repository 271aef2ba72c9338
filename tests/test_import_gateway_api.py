"""`latsim import gateway-api`: Kubernetes Gateway API manifests mapped as the AWS Gateway API
controller maps them (docs/lattice.md §11).

The fixture (tests/data/k8s) is three clusters: ``east`` (the shop's Gateway, IAMAuthPolicies at
Gateway and route level, a VpcAssociationPolicy, a 90/10 canary HTTPRoute with a header match and
priority annotations, a GRPCRoute, a TLSRoute, a ServiceImport and a route the controller
refuses), ``west`` (same account, overlapping CIDR, exports inventory) and ``partner`` (another
account, so the network must be shared through RAM).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from latsim.compile import RequestClass, Topology
from latsim.errors import ScenarioError
from latsim.importers.gateway_api import import_gateway_api
from latsim.scenario import dump_scenario, parse_document, scenario_from_data
from latsim.source import split_documents

K8S = Path(__file__).resolve().parent / "data" / "k8s"
EAST, WEST, PARTNER = (str(K8S / f) for f in ("east.yaml", "west.yaml", "partner.yaml"))
CLUSTERS = [f"east={EAST}", f"west={WEST}", f"partner={PARTNER}"]
VPCS = {
    "east": {"name": "east", "id": "vpc-0e0e0e0e0e0e0e0e1", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"],
             "account": "111111111111"},
    "west": {"name": "west", "cidr": "10.0.0.0/16", "azs": ["use1-az4", "use1-az5"], "account": "111111111111"},
    "partner": {"name": "partner", "cidr": "172.20.0.0/16", "azs": ["use1-az1"], "account": "222222222222"},
}
STOREFRONT = {"arn": "arn:aws:iam::111111111111:role/storefront", "org_id": "o-shop12345"}
AUDITOR = {"arn": "arn:aws:iam::111111111111:role/auditor", "org_id": "o-shop12345"}


@pytest.fixture(scope="module")
def imported() -> Any:
    return import_gateway_api(CLUSTERS, pods_per_service=3, cluster_vpc=VPCS)


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def _tg_of(data: dict[str, Any], service: str, rule: str) -> dict[str, int]:
    lst = _by_name(data["services"], service)["listeners"][0]
    r = _by_name(lst["rules"], rule)
    return {f["target_group"]: f["weight"] for f in r["action"]["forward"]}


def _topology(imported: Any, clients: list[dict[str, Any]]) -> Topology:
    return Topology(imported.scenario({"clients": clients}))


def _client(name: str, vpc: str, url: str, principal: dict[str, Any] | None = None,
            az: str = "use1-az1") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "vpc": vpc, "az": az, "url": url}
    if principal:
        out["principal"] = principal
    return out


# --- what is mapped ------------------------------------------------------------------------------

def test_gateway_becomes_a_service_network_with_the_same_name_and_every_cluster_vpc(imported: Any) -> None:
    sn = _by_name(imported.data["service_networks"], "shop")
    assert sn["account"] == "111111111111"
    assert [a["vpc"] for a in sn["vpc_associations"]] == ["east", "west", "partner"]
    assert sn["vpc_associations"][0]["security_groups"] == ["sg-0e1a2b3c4d5e6f708"]


def test_routes_become_services_named_route_dash_namespace(imported: Any) -> None:
    names = [s["name"] for s in imported.data["services"]]
    assert names == ["checkout-shop", "inventory-shop", "reviews-partner", "rates-shop", "ledger-finance"]
    assert "search-shop" not in names  # refused by the controller (query-parameter match)
    sn = _by_name(imported.data["service_networks"], "shop")
    assert sorted(sn["services"]) == sorted(names)
    checkout = _by_name(imported.data["services"], "checkout-shop")
    assert checkout["custom_domain"] == "checkout.shop.internal"
    assert checkout["certificate_arn"].startswith("arn:aws:acm:")
    assert checkout["listeners"][0]["name"] == "checkout-shop-443-https"
    assert checkout["listeners"][0]["default_action"] == {"fixed_response": 404}


def test_rule_priorities_follow_the_annotations_then_come_after_them(imported: Any) -> None:
    rules = _by_name(imported.data["services"], "checkout-shop")["listeners"][0]["rules"]
    assert [(r["name"], r["priority"]) for r in rules] == [("rule-0", 5), ("rule-1", 10), ("rule-2", 11)]
    assert rules[0]["match"] == {"path": {"prefix": "/api"}, "headers": [{"name": "x-beta", "exact": "1"}]}
    assert rules[2]["match"] == {"path": {"exact": "/health"}, "method": "GET"}


def test_backend_weights_become_the_canary_split(imported: Any) -> None:
    split = _tg_of(imported.data, "checkout-shop", "rule-1")
    assert sorted(split.values()) == [10, 90]
    v1 = next(tg for tg, w in split.items() if w == 90)
    assert v1.startswith("k8s-shop-checkout-v1-")
    assert list(_tg_of(imported.data, "checkout-shop", "rule-0").values()) == [1]  # weight defaults to 1


def test_grpc_methods_become_post_with_exact_or_prefix_paths(imported: Any) -> None:
    rules = _by_name(imported.data["services"], "rates-shop")["listeners"][0]["rules"]
    assert rules[0]["match"] == {"method": "POST", "path": {"exact": "/rates.v1.Rates/GetRate"}}
    assert rules[1]["match"] == {"method": "POST", "path": {"prefix": "/rates.v1.Rates/"}}
    tg = _by_name(imported.data["target_groups"], next(iter(_tg_of(imported.data, "rates-shop", "rule-0"))))
    assert tg["protocol_version"] == "GRPC"


def test_tls_route_forwards_by_default_to_a_tcp_target_group(imported: Any) -> None:
    lst = _by_name(imported.data["services"], "ledger-finance")["listeners"][0]
    assert lst["protocol"] == "TLS_PASSTHROUGH" and lst["port"] == 8443 and "rules" not in lst
    tg = _by_name(imported.data["target_groups"], lst["default_action"]["forward"][0]["target_group"])
    assert tg["protocol"] == "TCP"


def test_target_groups_hold_pod_ips_inside_the_cluster_vpc(imported: Any) -> None:
    for tg in imported.data["target_groups"]:
        vpc = VPCS[tg["tags"]["K8SClusterName"]]
        assert tg["type"] == "IP" and tg["vpc"] == vpc["name"]
        assert len(tg["targets"]) == 3
        for t in tg["targets"]:
            assert ipaddress.ip_address(t["id"]) in ipaddress.ip_network(vpc["cidr"])
            assert t["az"] in vpc["azs"]
    v2 = next(tg for tg in imported.data["target_groups"] if tg["tags"]["K8SServiceName"] == "checkout-v2")
    assert {t.get("port") for t in v2["targets"]} == {9090}  # the Service's targetPort


def test_target_group_policy_sets_the_health_check(imported: Any) -> None:
    v1 = next(tg for tg in imported.data["target_groups"] if tg["tags"]["K8SServiceName"] == "checkout-v1")
    assert v1["health_check"] == {"enabled": True, "interval": "10s", "timeout": "2s", "healthy_threshold": 3,
                                  "unhealthy_threshold": 2, "path": "/health", "matcher": "200-299"}


def test_service_import_resolves_to_the_export_of_the_other_cluster(imported: Any) -> None:
    (tg_name,) = _tg_of(imported.data, "inventory-shop", "rule-0")
    tg = _by_name(imported.data["target_groups"], tg_name)
    assert tg["vpc"] == "west" and tg["port"] == 80
    assert {t["port"] for t in tg["targets"]} == {8080}


def test_iam_auth_policies_at_gateway_and_route_level(imported: Any) -> None:
    sn = _by_name(imported.data["service_networks"], "shop")
    assert sn["auth_type"] == "AWS_IAM"
    assert sn["auth_policy"]["Statement"][0]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-shop12345"}}
    checkout = _by_name(imported.data["services"], "checkout-shop")
    assert checkout["auth_type"] == "AWS_IAM"
    assert checkout["auth_policy"]["Statement"][0]["Principal"] == {"AWS": [STOREFRONT["arn"]]}
    assert "auth_type" not in _by_name(imported.data["services"], "rates-shop")


def test_another_accounts_cluster_needs_the_network_shared(imported: Any) -> None:
    sn = _by_name(imported.data["service_networks"], "shop")
    assert sn["shared_with"] == ["222222222222"]
    assert _by_name(imported.data["services"], "reviews-partner")["account"] == "222222222222"
    assert any("AWS RAM" in w.message and w.severity == "info" for w in imported.warnings)


def test_access_log_policy_becomes_the_access_logs_section(imported: Any) -> None:
    assert imported.data["access_logs"] == {"services": ["checkout-shop"]}


# --- it validates, round-trips and explains as the manifests intend ----------------------------

def test_import_validates_and_round_trips(imported: Any) -> None:
    text = imported.to_yaml()
    data, pos = parse_document(text, "imported.yaml")
    again = dump_scenario(scenario_from_data(data, pos), header=imported.header())
    assert again == text
    assert import_gateway_api(CLUSTERS, pods_per_service=3, cluster_vpc=VPCS).to_yaml() == text


def test_explain_canary_and_beta_header(imported: Any) -> None:
    topo = _topology(imported, [_client("web", "east", "https://checkout.shop.internal", STOREFRONT)])
    web = topo.clients["web"]
    api = topo.route(web, RequestClass(url="https://checkout.shop.internal", method="GET", path="/api/cart"))
    assert api.outcome == "forwarded" and api.rule == "rule-1"
    assert sorted(api.target_groups.values()) == [10, 90]
    beta = topo.route(web, RequestClass(url="https://checkout.shop.internal", method="GET", path="/api/cart",
                                        headers=(("x-beta", "1"),)))
    assert beta.rule == "rule-0" and len(beta.target_groups) == 1
    other = topo.route(web, RequestClass(url="https://checkout.shop.internal", method="GET", path="/about"))
    assert (other.outcome, other.status) == ("fixed_response", 404)


def test_explain_auth_at_network_and_service(imported: Any) -> None:
    topo = _topology(imported, [
        _client("anonymous", "east", "https://checkout.shop.internal"),
        _client("auditor", "east", "https://checkout.shop.internal", AUDITOR),
        _client("storefront", "east", "https://checkout.shop.internal", STOREFRONT)])
    rc = RequestClass(url="https://checkout.shop.internal", method="GET", path="/api/cart")
    anon = topo.route(topo.clients["anonymous"], rc)
    assert (anon.outcome, anon.status, anon.auth_denied_reason) == ("denied", 403, "Network")
    auditor = topo.route(topo.clients["auditor"], rc)
    assert (auditor.outcome, auditor.auth_denied_reason) == ("denied", "Service")
    assert topo.route(topo.clients["storefront"], rc).outcome == "forwarded"


def test_explain_grpc_cross_cluster_and_cross_account(imported: Any) -> None:
    topo = _topology(imported, [_client("east-app", "east", "https://rates.shop.internal", STOREFRONT),
                                _client("partner-app", "partner", "http://reviews.partner.internal", STOREFRONT)])
    east, partner = topo.clients["east-app"], topo.clients["partner-app"]
    grpc = topo.route(east, RequestClass(url="https://rates.shop.internal", method="POST",
                                         path="/rates.v1.Rates/GetRate", protocol="gRPC"))
    assert grpc.outcome == "forwarded" and grpc.rule == "rule-0"
    inventory = topo.route(east, RequestClass(url="http://inventory.shop.internal", path="/stock"))
    assert inventory.outcome == "forwarded"
    assert topo.target_groups[next(iter(inventory.target_groups))].model.vpc == "west"
    reviews = topo.route(partner, RequestClass(url="http://reviews.partner.internal", path="/"))
    assert reviews.outcome == "forwarded" and reviews.service_network == "shop"


# --- warnings for what the controller refuses or Lattice lacks ----------------------------------

def _warnings_with(result: Any, text: str) -> list[Any]:
    return [w for w in result.warnings if text in w.message]


def test_refused_route_warns_at_the_query_param_field(imported: Any) -> None:
    (w,) = _warnings_with(imported, "query-parameter")
    assert w.location.file == EAST and w.location.path == "spec.rules.0.matches.0.queryParams"
    assert w.location.line == EAST_LINES.index("        - queryParams:") + 1


EAST_LINES = Path(EAST).read_text().splitlines()


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shop-gw}
spec:
  gatewayClassName: amazon-vpc-lattice
  listeners: [{name: http, protocol: HTTP, port: 80}]
"""


def _route(rules: str, kind: str = "HTTPRoute", extra: str = "") -> str:
    return GATEWAY + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: {kind}
metadata:
  name: api
{extra}spec:
  parentRefs: [{{name: shop-gw}}]
  rules:
{rules}"""


def test_more_than_five_headers_refuses_the_route(tmp_path: Path) -> None:
    headers = "".join(f"            - {{name: h{i}, value: v}}\n" for i in range(6))
    res = import_gateway_api([_write(tmp_path, _route("    - matches:\n        - headers:\n" + headers
                                                      + "      backendRefs: [{name: a, port: 80}]\n"))])
    (w,) = _warnings_with(res, "header matches")
    assert "LATTICE_EXCEED_MAX_HEADER_MATCHES" in w.message and w.location.line == 22  # the sixth header
    assert res.data.get("services", []) == []  # the builder leaves an empty section out


def test_regex_header_and_multiple_matches_refuse_the_route(tmp_path: Path) -> None:
    regex = _route("    - matches:\n        - headers: [{name: x, value: 'a.*', type: RegularExpression}]\n"
                   "      backendRefs: [{name: a, port: 80}]\n")
    assert _warnings_with(import_gateway_api([_write(tmp_path, regex)]), "Exact only")
    two = _route("    - matches: [{path: {value: /a}}, {path: {value: /b}}]\n      backendRefs: [{name: a, port: 80}]\n")
    assert _warnings_with(import_gateway_api([_write(tmp_path, two, "two.yaml")]), "MULTIPLE_MATCHES")


def test_filters_and_unsupported_kinds_are_ignored_with_a_warning(tmp_path: Path) -> None:
    text = _route("    - filters: [{type: RequestHeaderModifier}]\n      backendRefs: [{name: a, port: 80}]\n") + """---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db}
spec: {}
"""
    res = import_gateway_api([_write(tmp_path, text)])
    assert _warnings_with(res, "rules[0].filters has no VPC Lattice equivalent")
    (w,) = _warnings_with(res, "TCPRoute")
    assert w.location.line == 19 and "HTTPRoute, GRPCRoute and TLSRoute" in (w.hint or "")
    assert [s["name"] for s in res.data["services"]] == ["api-default"]


def test_grpc_method_without_service_refuses_the_route(tmp_path: Path) -> None:
    text = _route("    - matches: [{method: {method: Get}}]\n      backendRefs: [{name: a, port: 80}]\n", kind="GRPCRoute")
    res = import_gateway_api([_write(tmp_path, text)])
    assert _warnings_with(res, "without a service")


def test_unannotated_rules_come_after_the_highest_annotated_priority(tmp_path: Path) -> None:
    rules = "".join(f"    - matches: [{{path: {{value: /r{i}}}}}]\n      backendRefs: [{{name: a, port: 80}}]\n"
                    for i in range(3))
    extra = "  annotations: {application-networking.k8s.aws/rule-1-priority: '50'}\n"
    res = import_gateway_api([_write(tmp_path, _route(rules, extra=extra))])
    got = [(r["name"], r["priority"]) for r in res.data["services"][0]["listeners"][0]["rules"]]
    assert got == [("rule-0", 51), ("rule-1", 50), ("rule-2", 52)]


def test_default_cluster_vpc_is_documented_eksctl_range(tmp_path: Path) -> None:
    res = import_gateway_api([_write(tmp_path, _route("    - backendRefs: [{name: a, port: 80}]\n"))],
                             pods_per_service=4)
    assert res.data["vpcs"] == [{"name": "cluster-vpc", "account": "111111111111", "cidr": ["192.168.0.0/16"],
                                 "azs": ["use1-az1", "use1-az2"]}]
    (tg,) = res.data["target_groups"]
    assert len(tg["targets"]) == 4
    assert all(ipaddress.ip_address(t["id"]) in ipaddress.ip_network("192.168.0.0/16") for t in tg["targets"])


def test_cluster_vpc_can_come_from_an_overlay(tmp_path: Path) -> None:
    overlay = {"vpcs": [{"name": "cluster-vpc", "account": "333333333333", "cidr": "10.42.0.0/16",
                         "azs": ["use1-az4"]}],
               "clients": [{"name": "pod", "vpc": "cluster-vpc", "az": "use1-az4", "url": "http://api.example.internal"}]}
    text = _route("    - backendRefs: [{name: a, port: 80}]\n").replace(
        "spec:\n  parentRefs", "spec:\n  hostnames: [api.example.internal]\n  parentRefs")
    res = import_gateway_api([_write(tmp_path, text)], cluster_vpc=overlay)
    (tg,) = res.data["target_groups"]
    assert tg["account"] == "333333333333"
    assert all(ipaddress.ip_address(t["id"]) in ipaddress.ip_network("10.42.0.0/16") for t in tg["targets"])
    topo = Topology(res.scenario(overlay))
    route = topo.route(topo.clients["pod"], RequestClass(url="http://api.example.internal", path="/"))
    assert (route.outcome, route.rule) == ("forwarded", "rule-0")


# --- malformed input: located errors, nothing executed ------------------------------------------

def test_yaml_syntax_error_in_a_later_document_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path, GATEWAY + "---\nkind: HTTPRoute\nmetadata: {name: x\nspec: {}\n")
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([path])
    (p,) = exc.value.problems
    assert p.location.file == path and p.location.line is not None and p.location.line >= 9


def test_invalid_auth_policy_is_a_located_error(tmp_path: Path) -> None:
    text = GATEWAY + """---
apiVersion: application-networking.k8s.aws/v1alpha1
kind: IAMAuthPolicy
metadata: {name: p}
spec:
  targetRef: {kind: Gateway, name: shop-gw}
  policy: '{"Statement": [{"Effect": "Allow", "Principal": "*"'
"""
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([path])
    (p,) = exc.value.problems
    assert "not JSON" in p.message and (p.location.file, p.location.line) == (path, 13)


def test_gateway_name_too_short_for_lattice_is_a_located_error(tmp_path: Path) -> None:
    path = _write(tmp_path, GATEWAY.replace("shop-gw", "gw"))
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([path])
    (p,) = exc.value.problems
    assert "cannot name a VPC Lattice service network" in p.message and (p.location.line, p.location.column) == (3, 12)


def test_document_without_kind_and_bad_cluster_vpc_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([_write(tmp_path, "apiVersion: v1\nmetadata: {name: x}\n")])
    assert "missing 'kind'" in exc.value.problems[0].message
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([_write(tmp_path, GATEWAY, "g.yaml")], cluster_vpc={"cidr": "10.0.0.0/33"})
    assert exc.value.problems[0].location.path == "cluster_vpc.cidr"
    with pytest.raises(ScenarioError):
        import_gateway_api([_write(tmp_path, GATEWAY, "g.yaml")], pods_per_service=0)
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([str(tmp_path / "missing.yaml")])
    assert "cannot read file" in exc.value.problems[0].message


def test_wrongly_typed_fields_are_located_errors(tmp_path: Path) -> None:
    text = _route("    - backendRefs: [{name: a, port: 80, weight: '90'}]\n",
                  extra="  annotations: {application-networking.k8s.aws/rule-0-priority: 5}\n")
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([path])
    got = sorted((p.location.line, p.message.split(",")[0]) for p in exc.value.problems)
    assert got == [(12, "expected a string value for 'application-networking.k8s.aws/rule-0-priority'"),
                   (16, "expected an integer")]


def test_yaml_tags_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"!!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ScenarioError):
        import_gateway_api([_write(tmp_path, text)])
    assert not marker.exists()


def test_split_documents_keeps_line_numbers() -> None:
    docs = split_documents("a: 1\n---\nb: 2\n--- # c\n\nc: 3\n...\n")
    assert [(off, body.strip()) for off, body in docs] == [(0, "a: 1"), (1, "b: 2"), (3, "c: 3")]
