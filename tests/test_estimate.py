"""Size estimates (``latsim.estimate``) for every arrival kind: the expected number of requests
is the integral of the arrival rate over the run, computed here by hand, and a simulated run's
count lies within the Poisson sampling error of it (sigma = sqrt(expected))."""

from __future__ import annotations

import math
from typing import Any

import pytest

from latsim.engine import simulate
from latsim.errors import RunAborted
from latsim.estimate import check_size, estimate, expected_requests
from tests.builders import build, one_service


def scenario(arrival: dict[str, Any], duration: str = "600s", **kw: Any) -> Any:
    data = one_service(duration=duration, concurrency=64, latency={"constant": "1ms"}, **kw)
    data["clients"][0]["arrival"] = arrival
    return build(data)


# (arrival, duration, expected requests by hand)
CASES = {
    "poisson": ({"poisson": 20}, "600s", 20 * 600),
    "constant": ({"constant": 20}, "600s", 20 * 600),
    # 0 -> 40/s over 300 s (average 20), then 40/s for 300 s
    "ramp": ({"ramp": {"from": 0, "to": 40, "over": "300s"}}, "600s", 20 * 300 + 40 * 300),
    # the run ends half-way up the ramp: 10 -> 30/s over 200 s of a 400 s ramp
    "ramp_cut": ({"ramp": {"from": 10, "to": 50, "over": "400s"}}, "200s", (10 + 30) / 2 * 200),
    # 0 -> 30/s in 100 s, 30/s for 200 s, down to 10/s in 100 s, 10/s held for the last 200 s
    "stages": ({"stages": [{"duration": "100s", "target": 30}, {"duration": "200s", "target": 30},
                           {"duration": "100s", "target": 10}]}, "600s", 15 * 100 + 30 * 200 + 20 * 100 + 10 * 200),
    # nothing for 60 s, 5/s to 300 s, 50/s for 10 s, then 5/s again
    "steps": ({"steps": [{"at": "60s", "rate": 5}, {"at": "300s", "rate": 50}, {"at": "310s", "rate": 5}]},
              "600s", 5 * 240 + 50 * 10 + 5 * 290),
    # whole periods: the cosine integrates to 0
    "diurnal": ({"diurnal": {"mean": 20, "peak": 35, "period": "200s"}}, "600s", 20 * 600),
    # a quarter period from the peak: mean·T/4 + amplitude·T/(2π)
    "diurnal_quarter": ({"diurnal": {"mean": 20, "peak": 35, "period": "800s"}}, "200s",
                        20 * 200 + 15 * 800 / (2 * math.pi)),
    # fixed on/off periods, 10 whole cycles of 60 s: 30 s at 40/s and 30 s at 4/s
    "bursts": ({"bursts": {"rate": 40, "base": 4, "on": "30s", "off": "30s", "random": False}}, "600s",
               (40 * 30 + 4 * 30) * 10),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_estimate_is_the_integral_of_the_rate(name: str) -> None:
    arrival, duration, expected = CASES[name]
    assert expected_requests(scenario(arrival, duration)) == pytest.approx(expected, rel=1e-9)


def test_a_clipped_diurnal_rate_is_integrated_numerically() -> None:
    """peak 30 around a mean of 10: the cosine goes below 0 and is clipped, so the average is
    above the mean; the integral over one period, by a fine midpoint sum here."""
    arrival, period = {"diurnal": {"mean": 10, "peak": 30, "period": "100s"}}, 100.0
    n = 200_000
    exact = sum(max(0.0, 10 + 20 * math.cos(2 * math.pi * (i + 0.5) / n)) for i in range(n)) * period / n
    assert exact > 10 * period
    assert expected_requests(scenario(arrival, "100s")) == pytest.approx(exact, rel=1e-6)
    # half a period that starts 20 s after a peak: the phase matters
    arrival["diurnal"]["phase"] = "20s"
    part = sum(max(0.0, 10 + 20 * math.cos(2 * math.pi * ((i + 0.5) * 50 / n - 20) / period))
               for i in range(n)) * 50 / n
    assert expected_requests(scenario(arrival, "50s")) == pytest.approx(part, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_simulated_run_sends_about_the_estimate(name: str) -> None:
    """The count of a (non-homogeneous) Poisson process is Poisson(expected): 5 sigma. Constant
    and fixed-period arrivals vary less, so the bound holds for them a fortiori."""
    arrival, duration, expected = CASES[name]
    sent = simulate(scenario(arrival, duration)).summary["clients"]["client"]["requests"]
    assert abs(sent - expected) <= 5 * math.sqrt(expected), (sent, expected)


def test_a_closed_loop_estimate_uses_think_time_plus_a_hundredth_of_the_timeout() -> None:
    """10 users, 1 s think, 10 s timeout: a cycle is guessed at 1 s + 0.1 s. A target answering in
    100 ms makes that guess exact: each user sends every 1.1 s from its start, 54 or 55 requests
    in 60 s depending on when it starts."""
    data = one_service(duration="60s", concurrency=64, latency={"constant": "100ms"}, timeout="10s")
    data["clients"][0]["arrival"] = {"closed": {"users": 10, "think": "1s"}}
    scn = build(data)
    assert expected_requests(scn) == pytest.approx(10 * 60 / 1.1)
    sent = simulate(scn).summary["clients"]["client"]["requests"]
    assert 540 <= sent <= 550 and abs(sent - 10 * 60 / 1.1) <= 10  # within one cycle per user


def test_events_add_retries_and_health_probes() -> None:
    """events = requests x (1 + 0.1 x max retries) x 1.2 + probes (targets x duration / interval)."""
    scn = scenario({"constant": 10}, "600s", targets=3, retries={"max": 2},
                   health={"enabled": True, "interval": "30s"})
    est = estimate(scn)
    assert est["requests"] == pytest.approx(6000)
    assert est["events"] == pytest.approx(6000 * 1.2 * 1.2 + 3 * 600 / 30)
    assert est["targets"] == 3


def test_a_short_burst_of_steps_is_not_refused_as_if_it_lasted_the_whole_run() -> None:
    """20 000 requests/s for one second of a day: ~86 000 requests in all, not 1.7 billion (the
    estimate used to take the highest step for the whole run and refuse this scenario)."""
    scn = scenario({"steps": [{"at": "3600s", "rate": 20000}, {"at": "3601s", "rate": 1}]}, "86400s")
    est = check_size(scn)
    assert est["requests"] == pytest.approx(20000 + 82799)
    with pytest.raises(RunAborted):
        check_size(scenario({"constant": 20000}, "86400s"))
