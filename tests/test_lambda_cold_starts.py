"""Lambda target groups: health as Lattice shows it (UNAVAILABLE: not health checked, still
routed) and cold starts counted per target group after the warm-up."""

from __future__ import annotations

from typing import Any

from latsim.results import cold_start_label, target_health_label
from tests.builders import one_service, run


def lambda_service(*, idle_expiry: str, warmup: str = "0s", rate: str = "constant") -> dict[str, Any]:
    data = one_service(duration="60s", warmup=warmup)
    data["target_groups"] = [{"name": "fn-group", "type": "LAMBDA", "targets": [
        {"id": "arn:aws:lambda:us-east-1:111111111111:function:fn", "concurrency": 10,
         "latency": "10ms", "cold_start": "200ms", "idle_expiry": idle_expiry}]}]
    data["services"][0]["listeners"][0]["default_action"] = {"forward": [{"target_group": "fn-group"}]}
    data["clients"][0]["arrival"] = {"constant": "1/s"}  # one request a second: gaps of exactly 1 s
    return data


def test_every_request_is_cold_when_environments_expire_between_requests():
    s = run(lambda_service(idle_expiry="500ms"))
    tg = s["target_groups"]["fn-group"]
    n = tg["TotalRequestCount"]
    assert n == 60
    assert tg["cold_starts"]["count"] == n
    assert tg["cold_starts"]["added_ms"]["mean"] == 200.0
    assert tg["cold_starts"]["added_total_ms"] == 200.0 * n


def test_one_cold_start_when_the_environment_stays_warm():
    tg = run(lambda_service(idle_expiry="10m"))["target_groups"]["fn-group"]
    assert tg["cold_starts"]["count"] == 1
    assert tg["RequestTime"]["max"] >= 210.0 > tg["RequestTime"]["p50"]


def test_cold_starts_in_the_warm_up_are_left_out_like_every_other_figure():
    tg = run(lambda_service(idle_expiry="10m", warmup="10s"))["target_groups"]["fn-group"]
    assert tg["cold_starts"]["count"] == 0  # the only cold start happened at t=0
    assert cold_start_label(tg) == "0"
    cold = run(lambda_service(idle_expiry="500ms", warmup="10s"))["target_groups"]["fn-group"]
    assert cold["cold_starts"]["count"] == cold["TotalRequestCount"] == 50


def test_lambda_targets_show_unavailable_with_what_it_means():
    s = run(lambda_service(idle_expiry="10m"))
    tg = s["target_groups"]["fn-group"]
    assert tg["health_checks"] == "not supported"
    [(tid, t)] = tg["targets"].items()
    assert [state for _, state in t["health"]] == ["UNAVAILABLE"]  # as ListTargets reports it
    assert t["TotalRequestCount"] == 60
    assert target_health_label(tg, t) == "UNAVAILABLE (health checks not supported; receives traffic)"
    assert cold_start_label(tg) == "1 (+200 ms mean, p99 200 ms)"


def test_instance_groups_have_no_cold_starts_and_say_whether_they_are_checked():
    s = run(one_service())
    tg = s["target_groups"]["tg-main"]
    assert "cold_starts" not in tg and tg["health_checks"] == "disabled"
    assert cold_start_label(tg) == "-"
    [t] = tg["targets"].values()
    assert target_health_label(tg, t) == "UNAVAILABLE (health checks disabled; receives traffic)"
