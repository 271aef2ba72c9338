"""Counts the engine must get exactly right on deterministic workloads: sends and retries of a
failing service, per-minute counters of a constant-rate client, and which requests a bounded
queue turns away (compared with a hand-written D/D/1/K queue)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from latsim.engine import simulate
from tests.builders import build, one_service


def replay_csv(path: Path, times: list[float]) -> str:
    path.write_text("".join(f"{t!r},GET,/\n" for t in times))
    return str(path)


def test_every_request_to_a_failing_service_is_sent_exactly_max_plus_one_times(tmp_path):
    """100 replayed requests, every answer a 503, ``retries.max = 3``, no jitter: exactly four
    sends each, and the request time is exactly 4 x 1 ms + 10 + 20 + 40 ms of backoff."""
    times = [0.05 + 0.1 * k for k in range(100)]
    data = one_service(duration="20s", concurrency=8, latency={"constant": "1ms"},
                       retries={"max": 3, "backoff": "10ms", "multiplier": 2, "jitter": "none", "on": ["5xx"]})
    data["target_groups"][0]["targets"][0]["errors"] = {"rate": "100%", "status": 503}
    data["clients"][0]["arrival"] = {"replay": {"file": replay_csv(tmp_path / "t.csv", times)}}
    s = simulate(build(data)).summary
    c = s["clients"]["client"]
    assert (c["requests"], c["sent"], c["completed"], c["retries"]) == (100, 400, 400, 300)
    assert (c["succeeded"], c["failed"], c["status"]) == (0, 100, {"503": 400})
    tg = s["target_groups"]["tg-main"]
    assert tg["TotalRequestCount"] == tg["HTTPCode_5XX_Count"] == 400
    assert s["services"]["svc"]["TotalRequestCount"] == 400
    # the histograms keep 0.5 % relative accuracy
    assert c["RequestTime"]["p50"] == pytest.approx(74.0, rel=0.005)
    assert c["RequestTime"]["max"] == pytest.approx(74.0, rel=0.005)
    assert c["AttemptTime"]["max"] == pytest.approx(1.0, rel=0.005)


def test_a_request_that_succeeds_on_its_second_send_counts_one_retry(tmp_path):
    """Errors at 100 % for the first 5 s only (an injection with ``for``), 50 ms backoff: the
    four requests sent well inside the window fail all four sends; the one sent at 4.97 s fails
    once and succeeds on its retry at 5.021 s; the three sent later succeed at once."""
    times = [0.5, 1.5, 2.5, 3.5, 4.97, 5.5, 6.5, 7.5]
    data = one_service(duration="20s", concurrency=8, latency={"constant": "1ms"},
                       retries={"max": 3, "backoff": "50ms", "jitter": "none", "on": ["5xx"]},
                       timeline=[{"at": "0s", "for": "5s", "inject_errors": {"target_group": "tg-main",
                                                                          "rate": "100%", "status": 500}}])
    data["clients"][0]["arrival"] = {"replay": {"file": replay_csv(tmp_path / "t.csv", times)}}
    c = simulate(build(data)).summary["clients"]["client"]
    assert (c["requests"], c["sent"], c["retries"], c["succeeded"], c["failed"]) == (8, 4 * 4 + 2 + 3, 13, 4, 4)
    assert c["status"] == {"500": 17, "200": 4}


def test_per_minute_counters_of_a_constant_rate_client_are_exact():
    """10 requests/s at a constant rate (random phase), 3 minutes, 5 ms answers, no warm-up:
    every minute holds exactly 600 requests and 600 2XX answers, on the service and its group."""
    data = one_service(duration="180s", concurrency=4, latency={"constant": "5ms"})
    data["clients"][0]["arrival"] = {"constant": 10}
    result = simulate(build(data))
    rows: dict[tuple[str, str, float], float] = {}
    for r in result.metrics():
        if r["metric"] in ("TotalRequestCount", "HTTPCode_2XX_Count", "HTTPCode_5XX_Count"):
            key = (r["dimension"], r["metric"], r["time_s"])
            rows[key] = rows.get(key, 0.0) + r["value"]
    for dim in ("service", "target_group"):
        for minute in (0.0, 60.0, 120.0):
            assert rows[(dim, "TotalRequestCount", minute)] == 600, (dim, minute)
            assert rows[(dim, "HTTPCode_2XX_Count", minute)] == 600, (dim, minute)
            assert rows.get((dim, "HTTPCode_5XX_Count", minute), 0) == 0
    assert result.summary["services"]["svc"]["TotalRequestCount"] == 1800


def dd1k_accepted(n: int, gap: float, service: float, queue: int) -> int:
    """A hand-written D/D/1 queue with ``queue`` waiting places, arrivals every ``gap``: how many of
    the first ``n`` arrivals are admitted. Admitted request j starts at j x service (the server never
    idles in overload); an arrival is turned away when ``queue`` admitted requests have not started."""
    accepted = 0
    for i in range(n):
        a = i * gap
        started = min(accepted, math.floor(a / service) + 1)
        if accepted - started < queue:
            accepted += 1
    return accepted


@pytest.mark.parametrize("queue", [1, 2, 5])
def test_a_bounded_queue_turns_away_exactly_the_requests_a_dd1k_queue_does(queue):
    """200 requests/s at a constant rate into one worker taking 19.3137 ms (no ties between
    arrivals and service starts): the number of 503s is exactly what the hand-written D/D/1/K
    model says for this bound (a bound one larger or smaller changes it by about 1 in 4000)."""
    n, gap, service = 4000, 0.005, 0.0193137
    data = one_service(duration="20s", concurrency=1, queue=queue, latency={"constant": f"{service * 1000}ms"},
                       timeout="600s")
    data["clients"][0]["arrival"] = {"constant": 1 / gap}
    c = simulate(build(data)).summary["clients"]["client"]
    assert c["sent"] == n
    blocked = n - dd1k_accepted(n, gap, service, queue)
    assert c["status"]["503"] == blocked
    assert blocked != n - dd1k_accepted(n, gap, service, queue + 1)
