"""The SLO checks the README documents beyond the whole-run bounds: the worst window of
``window`` minutes (``error_rate_worst_Nm_window``) and ``min_throughput``, on a deterministic
workload whose every per-minute count is known by hand."""

from __future__ import annotations

from typing import Any

import pytest

from latsim.engine import simulate
from tests.builders import build, one_service


def run_with(slo: list[dict[str, Any]], warmup: str = "0s") -> list[dict[str, Any]]:
    """10 requests/s at a constant rate for 5 minutes, 1 ms answers; every answer between 119.5 s
    and 180.5 s is a 503 (an injection). Per minute: 600 requests; minute 2 (120-180 s) all 503,
    minutes 1 and 3 exactly 5 each (the half second of injection on their side), the rest none."""
    data = one_service(duration="300s", warmup=warmup, concurrency=4, latency={"constant": "1ms"},
                       timeline=[{"at": "119.5s", "for": "61s",
                                  "inject_errors": {"target_group": "tg-main", "rate": "100%", "status": 503}}])
    data["clients"][0]["arrival"] = {"constant": 10}
    data["slo"] = slo
    return simulate(build(data)).summary["slo"]  # type: ignore[no-any-return]


def checks(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["metric"]: c for c in verdict["checks"]}


def test_the_worst_one_minute_window_fails_a_bound_the_whole_run_meets():
    [v] = run_with([{"target_group": "tg-main", "error_rate": "25%", "window": "1m"}])
    c = checks(v)
    assert c["error_rate"]["value"] == round(610 / 3000, 6) and c["error_rate"]["ok"]
    assert c["error_rate_worst_1m_window"]["value"] == 1.0 and not c["error_rate_worst_1m_window"]["ok"]
    assert v["ok"] is False and v["requests"] == 3000


def test_a_two_minute_window_averages_the_bad_minute_with_its_worse_neighbour():
    [v] = run_with([{"target_group": "tg-main", "error_rate": "51%", "window": "2m"}])
    c = checks(v)["error_rate_worst_2m_window"]
    assert c["value"] == round(605 / 1200, 6) and c["ok"]  # 0.504167 <= 0.51
    [v] = run_with([{"target_group": "tg-main", "error_rate": "50%", "window": "2m"}])
    assert not checks(v)["error_rate_worst_2m_window"]["ok"] and not v["ok"]


def test_a_window_on_a_service_counts_the_same_requests():
    [v] = run_with([{"service": "svc", "error_rate": "100%", "window": "1m"}])
    c = checks(v)
    assert c["error_rate_worst_1m_window"]["value"] == 1.0 and c["error_rate_worst_1m_window"]["ok"] and v["ok"]


@pytest.mark.parametrize(("limit", "ok"), [("10/s", True), ("9.9/s", True), ("10.1/s", False), ("600/m", True)])
def test_min_throughput_is_requests_over_the_measured_span(limit, ok):
    """3 000 requests in 300 s: exactly 10 requests/s."""
    [v] = run_with([{"service": "svc", "min_throughput": limit}])
    c = checks(v)["min_throughput"]
    assert c["value"] == 10.0 and c["unit"] == "req/s" and c["ok"] is ok and v["ok"] is ok


def test_min_throughput_leaves_the_warm_up_out():
    """With a 60 s warm-up: 2 400 requests over the 240 s measured."""
    [v] = run_with([{"service": "svc", "min_throughput": "10/s"}], warmup="60s")
    assert checks(v)["min_throughput"]["value"] == 10.0 and v["requests"] == 2400


@pytest.mark.parametrize(("limit", "ok"), [("79%", True), ("80%", False)])
def test_availability_is_one_minus_the_5xx_share(limit, ok):
    """610 answers of 3 000 are 503s: availability 2 390 / 3 000 = 0.796667."""
    [v] = run_with([{"service": "svc", "availability": limit}])
    c = checks(v)["availability"]
    assert c["value"] == round(2390 / 3000, 6) and c["ok"] is ok and v["ok"] is ok
