"""Latency per rule and per target (the report's tables): exact values on constant latencies."""

from __future__ import annotations

import copy

import pytest

from latsim.engine.simulation import Simulation
from tests.builders import build, one_service


def scenario() -> dict:
    # rule "slow" (/slow) -> group tg-slow (one target, 20 ms); the default -> tg-main, whose two
    # targets take 5 ms and 15 ms and alternate (round robin): the default's mean is exactly 10 ms
    data = one_service(targets=2, concurrency=64, latency={"constant": "5ms"}, rate=50, duration="40s",
                       warmup="5s")
    data["target_groups"][0]["targets"][1]["latency"] = {"constant": "15ms"}
    slow = copy.deepcopy(data["target_groups"][0])
    slow.update(name="tg-slow", targets=[{"id": "i-slow", "az": "use1-az1", "concurrency": 64,
                                           "latency": {"constant": "20ms"}}])
    data["target_groups"].append(slow)
    data["services"][0]["listeners"][0]["rules"] = [
        {"name": "slow", "priority": 1, "match": {"path": {"prefix": "/slow"}},
         "action": {"forward": [{"target_group": "tg-slow"}]}}]
    data["clients"][0]["requests"] = [{"weight": 1, "path": "/slow/x"}, {"weight": 3, "path": "/fast"}]
    return data


@pytest.mark.parametrize("fast_path", [True, False])
def test_each_rule_and_each_target_has_its_own_latency(fast_path):
    s = Simulation(build(scenario()), fast_path=fast_path).run().summary
    rules = s["rules"]
    assert rules["svc/http/slow"]["RequestTime"]["max"] == pytest.approx(20.0, abs=1e-3)
    assert rules["svc/http/slow"]["RequestTime"]["mean"] == pytest.approx(20.0, abs=1e-3)
    default = rules["svc/http/default"]
    hits = default["hits"]
    targets = s["target_groups"]["tg-main"]["targets"]
    n5, n15 = targets["i-0000"]["TotalRequestCount"], targets["i-0001"]["TotalRequestCount"]
    assert abs(n5 - n15) <= 1 and n5 + n15 == hits
    assert default["RequestTime"]["mean"] == pytest.approx((5.0 * n5 + 15.0 * n15) / hits, abs=1e-3)
    assert targets["i-0000"]["RequestTime"]["max"] == pytest.approx(5.0, abs=1e-3)
    assert targets["i-0001"]["RequestTime"]["mean"] == pytest.approx(15.0, abs=1e-3)
    assert s["target_groups"]["tg-slow"]["targets"]["i-slow"]["RequestTime"]["p50"] == pytest.approx(20.0, rel=0.01)


def test_the_report_shows_latency_per_rule_and_per_target(tmp_path):
    from latsim.report import _rules_table, _targets_table
    s = Simulation(build(scenario())).run().summary
    rules = _rules_table(s)
    assert "svc/http/slow" in rules and "20.0" in rules
    targets = _targets_table(s)
    for tid in ("i-0000", "i-0001", "i-slow"):
        assert tid in targets
