"""Security groups (docs/lattice.md §6): client egress, association ingress and target ingress, seen
through explain (which stage fails) and through a short engine run (what the client sees)."""

from __future__ import annotations

import copy
from typing import Any

from latsim.analysis import explain
from latsim.engine import simulate
from latsim.scenario import scenario_from_data
from tests.test_explain import URL, base_scenario


def step(d: dict[str, Any], stage: str) -> dict[str, str]:
    return next(s for s in d["steps"] if s["stage"] == stage)


def with_association_sg(ports: Any, source: str = "10.0.0.0/16") -> dict[str, Any]:
    data = base_scenario()
    data["security_groups"].append({"name": "assoc-web", "vpc": "web",
                                    "ingress": [{"protocol": "tcp", "ports": ports, "source": source}]})
    data["service_networks"][0]["vpc_associations"][0]["security_groups"] = ["assoc-web"]
    return data


def short_run(data: dict[str, Any], client: str = "payments", seconds: str = "5s") -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["duration"] = seconds
    data["clients"] = [c for c in data["clients"] if c["name"] == client]
    data["clients"][0].update({"arrival": {"poisson": 20}, "timeout": "2s", "retries": {"max": 0}})
    return simulate(scenario_from_data(data)).summary  # type: ignore[no-any-return]


def test_association_sg_without_the_listener_port_blocks():
    scn = scenario_from_data(with_association_sg(443))
    d = explain(scn, "payments", URL)
    assert step(d, "association_security_group")["verdict"] == "fail"
    assert "tcp/80" in step(d, "association_security_group")["detail"]
    assert (d["outcome"], d["status"], d["failure"]) == ("unreachable", None, "connect_timeout")
    assert [s["stage"] for s in d["steps"]][-1] == "association_security_group"  # nothing after the drop


def test_association_sg_block_is_a_client_connect_timeout_in_the_engine():
    s = short_run(with_association_sg(443), seconds="6s")
    c = s["clients"]["payments"]
    assert c["failures"].get("connect_timeout", 0) > 0
    assert c["status"] == {}
    assert s["services"]["rates"]["TotalRequestCount"] == 0  # dropped before Lattice logs anything


def test_association_sg_with_the_listener_port_admits():
    d = explain(scenario_from_data(with_association_sg([80, 443])), "payments", URL)
    assert step(d, "association_security_group")["verdict"] == "pass"
    assert d["outcome"] == "forwarded"


def test_association_sg_only_admits_sources_it_names():
    data = with_association_sg(80, source="10.0.128.0/17")
    data["clients"][0]["source_ip"] = "10.0.200.5"
    data["clients"][1]["source_ip"] = "10.0.5.5"
    scn = scenario_from_data(data)
    assert explain(scn, "payments", URL)["outcome"] == "forwarded"
    assert explain(scn, "batch", URL)["failure"] == "connect_timeout"


def test_association_sg_referencing_the_client_sg():
    data = with_association_sg(80, source="app-sg")
    data["security_groups"].append({"name": "app-sg", "vpc": "web"})
    data["clients"][0]["security_groups"] = ["app-sg"]
    scn = scenario_from_data(data)
    assert explain(scn, "payments", URL)["outcome"] == "forwarded"  # carries app-sg
    d = explain(scn, "batch", URL)  # same VPC, no app-sg
    assert (d["outcome"], d["failure"]) == ("unreachable", "connect_timeout")


def test_restricted_client_egress_blocks_before_the_association():
    data = base_scenario()
    data["security_groups"].append({"name": "locked", "vpc": "web",
                                    "egress": [{"protocol": "tcp", "ports": 443, "destination": "vpc-lattice"}]})
    data["clients"][0]["security_groups"] = ["locked"]
    d = explain(scenario_from_data(data), "payments", URL)
    assert step(d, "client_security_group")["verdict"] == "fail"
    assert (d["outcome"], d["failure"]) == ("unreachable", "connect_timeout")


def test_egress_to_the_lattice_prefix_list_passes():
    data = base_scenario()
    data["security_groups"].append({"name": "open", "vpc": "web",
                                    "egress": [{"protocol": "tcp", "ports": 80, "destination": "vpc-lattice"}]})
    data["clients"][0]["security_groups"] = ["open"]
    d = explain(scenario_from_data(data), "payments", URL)
    assert step(d, "client_security_group")["verdict"] == "pass"


def target_sg_without_prefix_list() -> dict[str, Any]:
    data = base_scenario()
    data["security_groups"][0]["ingress"] = [{"protocol": "tcp", "ports": 8080, "source": "10.0.0.0/16"}]
    return data


def test_target_sg_without_the_lattice_prefix_list_fails_health_checks():
    s = short_run(target_sg_without_prefix_list(), seconds="20s")
    for tid in ("i-01", "i-02"):
        assert s["target_groups"]["rates-tg"]["targets"][tid]["health"][-1][1] == "UNHEALTHY"


def test_all_unhealthy_targets_fail_open_into_connection_errors():
    s = short_run(target_sg_without_prefix_list(), seconds="20s")
    c = s["clients"]["payments"]
    assert set(c["status"]) == {"500"}  # fail-open: sent anyway, dropped by the target SG
    assert s["target_groups"]["rates-tg"]["ConnectionErrorCount"] > 0
    assert sum(t["TotalRequestCount"] for t in s["target_groups"]["rates-tg"]["targets"].values()) > 0


def test_explain_predicts_the_target_sg_failure():
    d = explain(scenario_from_data(target_sg_without_prefix_list()), "payments", URL)
    # Lattice forwards, the target SG drops every connection: a target failure (issue 15)
    assert (d["outcome"], d["status"], d["failure"]) == ("target_failure", 500, "TargetConnectionError")
    g = d["target_group_details"]["rates-tg"]
    assert g["verdict"] == "failing"
    assert all(not t["traffic"]["allowed"] and not t["health_check"]["allowed"] for t in g["targets"])


def test_health_check_port_blocked_but_traffic_port_open():
    data = base_scenario()
    data["target_groups"][0]["health_check"]["port"] = 9090
    d = explain(scenario_from_data(data), "payments", URL)
    g = d["target_group_details"]["rates-tg"]
    assert all(t["traffic"]["allowed"] and not t["health_check"]["allowed"] for t in g["targets"])
    assert g["verdict"] == "degraded" and "fail-open" in g["detail"]
    s = short_run(data, seconds="20s")
    assert s["clients"]["payments"]["status"] == {"200": s["clients"]["payments"]["completed"]}
