"""The engine uses SimPy through its public API only (``env.timeout``, ``env.peek``, ``env.run``):
no ``env._eid`` (its ``__reduce__`` is gone in Python 3.14), no ``env._queue``, no ``env._now``.
Events are counted by latsim itself, and scheduling at an absolute time stays exact."""

from __future__ import annotations

import ast
import math
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsim.engine.simulation import Simulation, _delay_to
from latsim.scenario import load_scenario
from tests.conftest import ROOT
from tests.test_health_timers import evented_timer

SIMPY_PRIVATE = {"_eid", "_queue", "_now"}


def test_no_module_of_latsim_reads_simpys_private_attributes():
    found = []
    for path in sorted((ROOT / "latsim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in SIMPY_PRIVATE:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert found == []


@given(st.floats(0.0, 1e7, allow_nan=False), st.floats(0.0, 1e7, allow_nan=False))
def test_a_delay_lands_on_the_absolute_time(a: float, b: float):
    now, t = min(a, b), max(a, b)
    d = _delay_to(now, t)
    assert d >= 0.0
    assert abs((now + d) - t) <= math.ulp(t)
    if now + d != t:  # only a rounding tie can leave it one ulp off: no neighbouring delay does better
        assert all(now + math.nextafter(d, direction) != t for direction in (-math.inf, math.inf))
        assert now < t / 2


@given(st.floats(1e-3, 1e6, allow_nan=False), st.floats(0.0, 1.0, allow_nan=False))
def test_a_delay_from_a_nearby_time_is_exact(t: float, frac: float):
    now = t * (0.5 + frac / 2)  # Sterbenz: t - now is exact, so now + d == t
    assert now + _delay_to(now, t) == t


def counted_run(inline_timers: bool) -> tuple[Simulation, int]:
    """The quickstart run, and the events SimPy's own scheduler was asked for (the oracle)."""
    sim = Simulation(load_scenario(Path(ROOT / "scenarios" / "quickstart.yaml")))
    if not inline_timers:  # every health probe and result its own SimPy event
        sim.timer = partial(evented_timer, sim)  # type: ignore[method-assign]
    scheduled = [0]
    schedule = sim.env.schedule

    def counting(*args, **kwargs):  # every call of SimPy's own scheduler
        scheduled[0] += 1
        return schedule(*args, **kwargs)

    sim.env.schedule = counting  # type: ignore[method-assign]
    sim.run()
    return sim, scheduled[0]


@pytest.mark.pure  # replaces Simulation.timer
def test_events_counted_are_the_events_simpy_scheduled_plus_arrivals_handled_inline():
    """With every timer a SimPy event, the count is SimPy's; with health checks run inline by the
    pump (``Simulation.timer``), it is the same count: the events the model has, wherever they run."""
    sim, scheduled = counted_run(inline_timers=False)
    assert sim.pumped > 0 and scheduled > 0 and sim.health.probes > 0
    assert sim.events_run == scheduled + sim.pumped
    inline, scheduled_inline = counted_run(inline_timers=True)
    assert inline.events_run == sim.events_run and inline.pumped == sim.pumped
    assert scheduled_inline < scheduled  # fewer SimPy events did the same work
    assert not math.isnan(sim.now)
