"""Health checks, fail-open, draining, AZ failure, timeouts, queue limits and retries."""

from __future__ import annotations

import pytest

from tests.builders import one_service, run

HC = {"enabled": True, "interval": "10s", "timeout": "2s", "healthy_threshold": 3, "unhealthy_threshold": 2}


def health_log(s: dict, target: str) -> list[tuple[float, str]]:
    return [(t / 1000.0, state) for t, state in s["target_groups"]["tg-main"]["targets"][target]["health"]]


def first(log: list[tuple[float, str]], state: str, after: float) -> float:
    return next(t for t, st in log if st == state and t >= after)


def test_killed_target_leaves_and_rejoins_rotation_on_threshold_times():
    data = one_service(targets=2, concurrency=8, rate=50, duration="200s", health=HC,
                       timeline=[{"at": "60s", "fail_targets": ["i-0000"], "for": "60s"}])
    s = run(data)
    log = health_log(s, "i-0000")
    down = first(log, "UNHEALTHY", 60)
    # two consecutive failed probes, 10 s apart, the first within 10 s of the failure
    assert 60 + 10 <= down <= 60 + 20, log
    up = first(log, "HEALTHY", 120)
    assert 120 + 20 <= up <= 120 + 30, log
    # while it is down but not yet unhealthy, requests to it fail; afterwards they do not
    assert s["clients"]["client"]["status"].get("500", 0) > 0


def test_all_targets_down_fails_open_over_every_target():
    data = one_service(targets=2, concurrency=8, rate=40, duration="120s", health=HC,
                       timeline=[{"at": "30s", "fail_targets": ["i-0000", "i-0001"]}])
    s = run(data)
    for tid in ("i-0000", "i-0001"):
        assert health_log(s, tid)[-1][1] == "UNHEALTHY"
        # still receiving requests (round robin over all) after being marked unhealthy
        assert s["target_groups"]["tg-main"]["targets"][tid]["TotalRequestCount"] > 40 * 60 / 2 * 0.8
    assert s["target_groups"]["tg-main"]["ConnectionErrorCount"] > 0


def test_target_sg_without_lattice_prefix_list_makes_targets_unhealthy():
    data = one_service(targets=1, concurrency=8, rate=10, duration="60s", health=HC)
    data["security_groups"] = [{"name": "targets-sg", "vpc": "target-vpc",
                                "ingress": [{"protocol": "tcp", "ports": 8080, "source": "10.0.0.0/16"}]}]
    data["target_groups"][0]["security_groups"] = ["targets-sg"]
    s = run(data)
    assert health_log(s, "i-0000")[-1][1] == "UNHEALTHY"
    assert set(s["clients"]["client"]["status"]) == {"500"}
    # connection errors are counted on the target group too, with Lattice's connect timeout as their time
    tg = s["target_groups"]["tg-main"]
    assert tg["ConnectionErrorCount"] == tg["HTTPCode_5XX_Count"] == s["services"]["svc"]["HTTPCode_5XX_Count"] > 0
    assert tg["RequestTime"]["max"] == pytest.approx(1000.0, rel=0.005)  # the histograms keep 0.5 %


def test_deregistered_target_drains_then_is_removed():
    data = one_service(targets=2, concurrency=8, rate=50, duration="150s", health=HC,
                       timeline=[{"at": "30s", "deregister_targets": {"target_group": "tg-main",
                                                                       "targets": ["i-0000"]}}])
    s = run(data)
    log = health_log(s, "i-0000")
    assert ("DRAINING" in [st for _, st in log]) and log[-1][1] == "REMOVED"
    assert first(log, "REMOVED", 0) == pytest.approx(90.0)
    t1 = s["target_groups"]["tg-main"]["targets"]["i-0001"]["TotalRequestCount"]
    t0 = s["target_groups"]["tg-main"]["targets"]["i-0000"]["TotalRequestCount"]
    assert t1 > 3 * t0  # no new requests after 30 s


def test_registered_target_starts_initial_and_joins_after_one_check():
    data = one_service(targets=1, concurrency=8, rate=50, duration="60s", health=HC,
                       timeline=[{"at": "10s", "register_targets": {"target_group": "tg-main", "targets": [
                           {"id": "i-new", "az": "use1-az2", "concurrency": 8}]}}])
    s = run(data)
    log = [(t / 1000, st) for t, st in s["target_groups"]["tg-main"]["targets"]["i-new"]["health"]]
    assert log[0] == (10.0, "INITIAL")
    assert 10 < log[1][0] <= 20 and log[1][1] == "HEALTHY"
    assert s["target_groups"]["tg-main"]["targets"]["i-new"]["TotalRequestCount"] > 0


def test_az_failure_moves_clients_to_another_entry_and_fails_targets():
    data = one_service(targets=2, concurrency=8, rate=50, duration="90s", health=HC, hop="1ms",
                       timeline=[{"at": "30s", "fail_az": "use1-az1", "for": "30s"}])
    s = run(data)
    assert health_log(s, "i-0000")[1][1] == "UNHEALTHY"
    c = s["clients"]["client"]
    assert c["status"].get("200", 0) > 0.9 * c["completed"]


def test_slow_target_causes_client_timeouts_and_lattice_504():
    data = one_service(rate=5, duration="200s", latency={"constant": "70s"}, concurrency=100, timeout="90s")
    s = run(data)
    assert s["services"]["svc"]["RequestTimeoutCount"] > 0
    assert s["clients"]["client"]["status"] == {"504": s["clients"]["client"]["completed"]}
    data["clients"][0]["timeout"] = "1s"
    s = run(data)
    assert s["clients"]["client"]["failures"]["client_timeout"] > 0


def test_queue_overflow_is_a_503():
    data = one_service(rate=200, duration="20s", concurrency=1, queue=2)
    s = run(data)
    assert s["clients"]["client"]["status"].get("503", 0) > 0


def test_rate_limit_per_service_per_az_answers_429():
    data = one_service(rate=100, duration="20s", concurrency=100, latency={"constant": "1ms"},
                       quotas={"requests_per_second_per_service_per_az": 50})
    s = run(data)
    st = s["clients"]["client"]["status"]
    # twice the rate the bucket refills: it is empty from the first second on, so exactly its burst
    # (50) plus 50 tokens a second for 20 s get through, less the last fraction of a token
    assert 1048 <= st["200"] <= 1050
    assert st["429"] == s["clients"]["client"]["sent"] - st["200"]
    assert s["services"]["svc"]["HTTPCode_VpcLattice_429_Count"] == st["429"]


def test_retries_amplify_load_on_a_failing_target_group():
    data = one_service(rate=50, duration="60s", concurrency=50, retries={"max": 3, "backoff": "10ms"},
                       timeline=[{"at": "0s", "inject_errors": {"target_group": "tg-main", "rate": "100%",
                                                                 "status": 503}}])
    s = run(data)
    c = s["clients"]["client"]
    # every send fails: three retries per request, except for requests whose chain the end of the
    # run cuts (exact counts on a replayed workload: tests/test_exact_counts.py)
    # a retry decided less than its backoff (<= 40 ms here) before the end is counted but never
    # sent: at 50 requests/s, a handful
    assert 0 <= c["requests"] + c["retries"] - c["sent"] <= 20
    assert 2.9 * c["requests"] < c["retries"] <= 3 * c["requests"]
    assert c["succeeded"] == 0 and c["failed"] <= c["requests"]
    assert s["target_groups"]["tg-main"]["TotalRequestCount"] > 3.5 * c["requests"]


def test_lambda_cold_starts_are_paid_by_new_environments_only():
    data = one_service(rate=20, duration="60s")
    data["target_groups"] = [{"name": "fn-tg", "type": "LAMBDA", "targets": [
        {"id": "my-function", "concurrency": 100, "latency": {"constant": "20ms"},
         "cold_start": {"constant": "500ms"}, "idle_expiry": "5m"}]}]
    data["services"][0]["listeners"][0]["default_action"] = {"forward": [{"target_group": "fn-tg"}]}
    s = run(data)
    rt = s["target_groups"]["fn-tg"]["RequestTime"]
    assert rt["p50"] == pytest.approx(20.0, rel=0.005)  # constant times: only the histograms' 0.5 %
    assert rt["max"] == pytest.approx(520.0, rel=0.005)


def test_requests_still_queued_at_the_end_are_not_answered_from_the_future():
    # rho = 3: the queue grows for the whole run; nothing may be recorded as answered after the end
    data = one_service(rate=300, duration="20s", concurrency=1, latency={"constant": "10ms"}, timeout="60s")
    s = run(data)
    assert s["services"]["svc"]["RequestTime"]["max"] <= 20_000
    c = s["clients"]["client"]
    assert c["sent"] > c["completed"] + 3000  # about two thirds are still queued when the run stops
