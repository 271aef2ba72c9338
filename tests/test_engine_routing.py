"""Routing as Lattice does it: weighted splits per request, rule priority and matching,
fixed responses, service-network reachability with overlapping CIDRs."""

from __future__ import annotations

import copy
import math

import pytest

from latsim.compile import RequestClass, Topology
from tests.builders import build, one_service, run


def split_scenario(weights: dict[str, int], rate: float = 400, duration: str = "50s") -> dict:
    data = one_service(rate=rate, duration=duration, concurrency=64, latency={"constant": "1ms"})
    base_tg = data["target_groups"][0]
    data["target_groups"] = []
    for name in weights:
        tg = copy.deepcopy(base_tg)
        tg["name"] = name
        tg["targets"] = [{"id": f"{name}-1", "az": "use1-az1", "concurrency": 64, "latency": {"constant": "1ms"}}]
        data["target_groups"].append(tg)
    data["services"][0]["listeners"][0]["default_action"] = {
        "forward": [{"target_group": n, "weight": w} for n, w in weights.items()]}
    return data


@pytest.mark.parametrize("weights", [{"blue": 90, "green": 10}, {"blue": 10, "green": 20}, {"blue": 0, "green": 100}],
                         ids=["90-10", "10-20", "0-100"])
def test_weighted_split_is_binomial(weights):
    s = run(split_scenario(weights))
    counts = s["rules"]["svc/http/default"]["target_groups"]
    n = s["rules"]["svc/http/default"]["hits"]
    total_w = sum(weights.values())
    assert n > 15000
    for name, w in weights.items():
        p = w / total_w
        got = counts.get(name, 0)
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(got - n * p) <= 4 * sigma + 1e-9, (name, got, n * p, sigma)
    if weights["blue"] == 0:
        assert counts.get("blue", 0) == 0
    for name in weights:  # what the groups served agrees with the rule's tally
        assert s["target_groups"][name]["TotalRequestCount"] == counts.get(name, 0)


def test_a_three_way_split_is_multinomial_with_the_weights_shares():
    """Weights 1:2:7 over ~20 000 requests: each count is Binomial(n, w/W) marginally; 4.5 sigma each
    (sigma = sqrt(n p (1 - p)), 45-80 requests here), and a Pearson chi-square with 2 df below its
    99.9 % point (13.82). Any permutation of the weights is off by more than 40 sigma."""
    weights = {"tg-a": 1, "tg-b": 2, "tg-c": 7}
    s = run(split_scenario(weights))
    counts = {g: s["target_groups"][g]["TotalRequestCount"] for g in weights}
    n = sum(counts.values())
    assert n == s["rules"]["svc/http/default"]["hits"] > 15000
    chi2 = 0.0
    for g, w in weights.items():
        p = w / 10
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(counts[g] - n * p) <= 4.5 * sigma, (g, counts[g], n * p, sigma)
        chi2 += (counts[g] - n * p) ** 2 / (n * p)
    assert chi2 < 13.82, chi2


def test_all_zero_weights_answer_500_by_default():
    data = split_scenario({"blue": 0, "green": 0}, rate=50, duration="10s")
    s = run(data)
    assert s["services"]["svc"]["HTTPCode_5XX_Count"] == s["services"]["svc"]["TotalRequestCount"] > 0
    data["assumptions"] = {"all_zero_weights": "equal_split"}
    s = run(data)
    assert s["services"]["svc"]["HTTPCode_2XX_Count"] == s["services"]["svc"]["TotalRequestCount"]


def rules_scenario() -> dict:
    data = split_scenario({"v1-pool": 1, "v2-pool": 1, "api-pool": 1, "hdr-pool": 1}, rate=10, duration="5s")
    lst = data["services"][0]["listeners"][0]
    lst["default_action"] = {"fixed_response": 404}
    lst["rules"] = [
        {"name": "beta-header", "priority": 5, "match": {"path": {"prefix": "/api"},
                                                          "headers": [{"name": "X-Beta", "exact": "yes"}]},
         "action": {"forward": [{"target_group": "hdr-pool"}]}},
        {"name": "exact-v1", "priority": 10, "match": {"path": {"exact": "/api/v1"}},
         "action": {"forward": [{"target_group": "v1-pool"}]}},
        {"name": "prefix-api", "priority": 20, "match": {"path": {"prefix": "/api"}},
         "action": {"forward": [{"target_group": "api-pool"}]}},
        {"name": "post-only", "priority": 30, "match": {"method": "POST"},
         "action": {"forward": [{"target_group": "v2-pool"}]}},
        {"name": "contains", "priority": 40, "match": {"headers": [{"name": "user-agent", "contains": "Bot",
                                                                     "case_sensitive": True}]},
         "action": {"fixed_response": 500}},
        {"name": "case-path", "priority": 50, "match": {"path": {"prefix": "/Admin", "case_sensitive": True}},
         "action": {"fixed_response": 500}},
        {"name": "header-prefix", "priority": 60, "match": {"headers": [{"name": "x-tenant", "prefix": "acme"}]},
         "action": {"forward": [{"target_group": "v1-pool"}]}},
    ]
    return data


CASES = [
    ("GET", "/api/v1", {}, "exact-v1"),
    ("GET", "/api/v1/x", {}, "prefix-api"),  # exact does not match a longer path
    ("GET", "/api/v1", {"x-beta": "yes"}, "beta-header"),  # priority 5 beats 10
    ("GET", "/api/v1", {"x-beta": "YES"}, "beta-header"),  # header values case-insensitive by default
    ("GET", "/API/v1", {}, "exact-v1"),  # paths case-insensitive by default (documented assumption)
    ("POST", "/other", {}, "post-only"),
    ("post", "/other", {}, "default"),  # methods are case-sensitive
    ("GET", "/x", {"user-agent": "GoodBot/1"}, "contains"),
    ("GET", "/x", {"user-agent": "goodbot/1"}, "default"),  # case_sensitive contains
    ("GET", "/Admin/panel", {}, "case-path"),
    ("GET", "/admin/panel", {}, "default"),
    ("GET", "/x", {"x-tenant": "ACME-eu"}, "header-prefix"),
    ("GET", "/nothing", {}, "default"),
]


@pytest.mark.parametrize("method,path,headers,rule", CASES)
def test_rule_matching(method, path, headers, rule):
    scn = build(rules_scenario())
    topo = Topology(scn)
    route = topo.route(topo.clients["client"], RequestClass(
        url="http://svc.example.internal", method=method, path=path,
        headers=tuple(sorted((k.lower(), v) for k, v in headers.items()))))
    assert route.rule == rule, [s.detail for s in route.steps]


def test_fixed_responses_and_default_in_the_engine():
    data = rules_scenario()
    data["clients"][0]["requests"] = [{"method": "GET", "path": "/nothing"}, {"method": "GET", "path": "/Admin/x"},
                                      {"method": "GET", "path": "/api/v1"}]
    data["clients"][0]["arrival"] = {"poisson": 60}
    s = run(data)
    status = s["clients"]["client"]["status"]
    assert set(status) == {"200", "404", "500"}
    svc = s["services"]["svc"]
    assert svc["HTTPCode_VpcLattice_404_Count"] == status["404"]
    assert svc["HTTPCode_VpcLattice_500_Count"] == status["500"]


def overlapping() -> dict:
    data = one_service(rate=20, duration="10s")
    data["vpcs"] += [{"name": "twin-vpc", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]},
                     {"name": "lonely-vpc", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]},
                     {"name": "elsewhere-vpc", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]}]
    data["service_networks"][0]["vpc_associations"].append({"vpc": "twin-vpc"})
    data["service_networks"].append({"name": "other-net", "account": "acct",
                                     "vpc_associations": [{"vpc": "elsewhere-vpc"}]})
    for name, vpc in (("twin", "twin-vpc"), ("lonely", "lonely-vpc"), ("elsewhere", "elsewhere-vpc")):
        data["clients"].append({"name": name, "vpc": vpc, "az": "use1-az1", "url": "http://svc.example.internal",
                                "arrival": {"poisson": 20}, "timeout": "1s"})
    return data


def test_overlapping_cidrs_reach_the_same_service():
    s = run(overlapping())
    assert s["clients"]["client"]["status"] == {"200": s["clients"]["client"]["completed"]}
    assert s["clients"]["twin"]["status"] == {"200": s["clients"]["twin"]["completed"]}
    assert s["clients"]["twin"]["completed"] > 100


def test_unassociated_vpc_fails_dns_and_other_network_gets_404():
    s = run(overlapping())
    lonely = s["clients"]["lonely"]
    assert lonely["failures"] == {"dns_failure": lonely["sent"]} and lonely["status"] == {}
    elsewhere = s["clients"]["elsewhere"]
    assert elsewhere["status"] == {"404": elsewhere["completed"]}
    # a 404 for a service outside the caller's network is not counted on that service
    assert s["services"]["svc"]["HTTPCode_4XX_Count"] == 0


def test_service_network_endpoint_reaches_a_second_network():
    data = overlapping()
    data["vpcs"][2]["service_network_endpoints"] = ["net"]  # twin-vpc... index 2 is twin
    data["vpcs"][4]["service_network_endpoints"] = ["net"]  # elsewhere-vpc has an association and an endpoint
    s = run(data)
    assert set(s["clients"]["elsewhere"]["status"]) == {"200"}


def test_unknown_host_is_a_client_side_dns_failure():
    data = one_service(rate=20, duration="5s")
    data["clients"][0]["url"] = "http://nope.example.internal"
    s = run(data)
    assert s["clients"]["client"]["failures"] == {"dns_failure": s["clients"]["client"]["sent"]}


def test_protocol_translation_http1_to_grpc_group_fails():
    data = one_service(rate=20, duration="5s")
    lst = data["services"][0]["listeners"][0]
    lst.update({"protocol": "HTTPS", "port": 443, "name": "https"})
    data["clients"][0]["url"] = "https://svc.example.internal"
    data["target_groups"][0]["protocol_version"] = "GRPC"
    data["clients"][0]["requests"] = [{"path": "/a"}, {"path": "/pkg.Svc/Get", "protocol": "gRPC", "method": "POST"}]
    s = run(data)
    st = s["clients"]["client"]["status"]
    assert set(st) == {"200", "502"}


def test_fixed_response_rules_count_their_hits():
    data = rules_scenario()
    data["clients"][0]["requests"] = [{"method": "GET", "path": "/nothing"}]
    s = run(data)
    assert s["rules"]["svc/http/default"]["hits"] == s["clients"]["client"]["status"]["404"] > 0
