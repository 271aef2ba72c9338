"""Health checks run inline by the pump (``Simulation.timer``) are the same as health checks run
as one SimPy event each (``Simulation.at``, the event-per-probe path kept here as the oracle):
the same health timelines, the same results, the same event count in the summary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from latsim.engine.simulation import Simulation
from tests.builders import build, one_service

pytestmark = pytest.mark.pure  # replaces Simulation.timer

HC = {"enabled": True, "interval": "5s", "timeout": "1s", "healthy_threshold": 2, "unhealthy_threshold": 2}


def evented_timer(sim: Simulation, t: float, fn: Any, value: Any = None) -> None:
    """``Simulation.timer`` the event-per-timer way: a SimPy event (``Simulation.at``) each."""
    sim.at(t, lambda call: fn(call._value), value)


def both_ways(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Simulation]:
    """(inline summary, event-per-probe summary, the inline run's simulation)."""
    inline = Simulation(build(data))
    a = inline.run()
    with monkeypatch.context() as m:
        m.setattr(Simulation, "timer", evented_timer)  # every probe and result its own SimPy event
        evented = Simulation(build(data))
        b = evented.run()
    assert not evented.timers  # nothing went through the inline path
    return a, b, inline


def targets_health(summary: dict[str, Any]) -> dict[str, Any]:
    return {tid: t["health"] for tg in summary["target_groups"].values() for tid, t in tg["targets"].items()}


SCENARIOS = {
    "faults": one_service(
        targets=4, concurrency=2, rate=80, duration="150s", health=HC, queue=4,
        latency={"lognormal": {"mean": "15ms", "sigma": 0.8}},
        timeline=[{"at": "20s", "fail_targets": ["i-0000"], "for": "30s"},
                  {"at": "40s", "fail_az": "use1-az2", "for": "25s"},
                  {"at": "70s", "inject_latency": {"target_group": "tg-main", "factor": 200.0}, "for": "15s"},
                  {"at": "90s", "inject_errors": {"targets": ["i-0001"], "rate": 0.9, "status": 503}, "for": "20s"},
                  {"at": "100s", "deregister_targets": {"target_group": "tg-main", "targets": ["i-0003"]}},
                  {"at": "105s", "register_targets": {"target_group": "tg-main", "targets": [
                      {"id": "i-0009", "az": "use1-az1", "concurrency": 2}]}},
                  {"at": "110s", "set_rate": {"client": "client", "rate": 5}},
                  {"at": "130s", "set_rate": {"client": "client", "rate": 300}}]),
    # faults that start and end between arrivals, among probes: the pump must leave for each
    # (a SimPy event) and run the probes due after it only once it has happened
    "interleaved": one_service(
        targets=6, concurrency=1, rate=2, duration="120s", health=HC,
        timeline=[{"at": f"{5 + 3.7 * k:.3f}s", "fail_az": "use1-az1" if k % 2 else "use1-az2", "for": "2.9s"}
                  for k in range(30)]),
    # arrivals rarer than probes: the timer runner (no pump to run them) does most of the work
    "sparse": one_service(targets=3, concurrency=1, rate=0.2, duration="120s", health=HC,
                          timeline=[{"at": "30s", "fail_targets": ["i-0002"], "for": "40s"}]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_inline_health_checks_are_the_event_per_probe_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    inline, evented, sim = both_ways(SCENARIOS[name], monkeypatch)
    assert targets_health(inline.summary) == targets_health(evented.summary)
    assert json.dumps(inline.summary, sort_keys=True) == json.dumps(evented.summary, sort_keys=True)
    assert inline.summary["events"] == evented.summary["events"]
    assert list(inline.metric_rows) == list(evented.metric_rows)
    assert sim.health.probes > 0


def test_the_fault_scenario_moves_health_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above is not vacuous: targets turn unhealthy and healthy again, a new target
    joins, and most probes ran inline in the pump rather than through the runner."""
    inline, _, sim = both_ways(SCENARIOS["faults"], monkeypatch)
    states = {state for log in targets_health(inline.summary).values() for _, state in log}
    assert {"HEALTHY", "UNHEALTHY", "INITIAL", "DRAINING"} <= states
    assert sim.health.probes >= 4 * 150 / 5 * 0.9
    assert sim.timers_inline > sim.health.probes


@pytest.mark.parametrize("errors, fixed, fails", [
    (None, None, False),  # a request's answer, no error to draw: 200, passes
    ({"rate": 1.0, "status": 500}, None, True),  # every request fails: so does every probe
    ({"rate": 1.0, "status": 500}, 200, False),  # the target's fixed answer to probes wins
    (None, 503, True),
])
def test_probe_outcomes_against_the_streams(errors: Any, fixed: Any, fails: bool) -> None:
    """A probe's status (``HealthChecker._probe``: a request's answer, the target's
    ``health_status``, or an error drawn) and the time its result takes effect, derived here
    from the health-check streams and the constant latency: a failing target turns UNHEALTHY
    at its second failed probe's answer (phase + interval + latency), a passing one never."""
    from latsim.streams import Streams

    hc = {"enabled": True, "interval": "5s", "timeout": "1s", "healthy_threshold": 2, "unhealthy_threshold": 2}
    data = one_service(targets=1, rate=1, duration="60s", health=hc, latency={"constant": "10ms"})
    target = data["target_groups"][0]["targets"][0]
    if errors is not None:
        target["errors"] = errors
    if fixed is not None:
        target["health_status"] = fixed
    sim = Simulation(build(data))
    sim.run()
    srv = sim.targets_by_id["i-0000"][0]
    phase = Streams(1).uniform("health/tg-main/i-0000/1/phase")() * 5.0
    want = [[0.0, "HEALTHY"]] + ([[phase + 5.0 + 0.01, "UNHEALTHY"]] if fails else [])
    assert [[pytest.approx(t, abs=1e-9), s] for t, s in srv.health_log] == want
    assert sim.health.probes == int((60.0 - phase) // 5.0) + 1
