"""The benchmark workloads run (timing is the job of `make bench`, never of a test)."""

from __future__ import annotations

import sys

from latsim.engine.simulation import Simulation
from latsim.scenario import load_scenario, scenario_from_data
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))


def test_ref1_committed_file_matches_its_generator():
    from make_ref1 import ref1
    committed = load_scenario(ROOT / "benchmarks" / "ref1.yaml")
    generated = scenario_from_data(ref1())
    assert committed.model_dump() == generated.model_dump()


def test_ref1_runs_for_ten_seconds_and_agrees_with_the_naive_baseline():
    import naive_baseline
    scn = load_scenario(ROOT / "benchmarks" / "ref1.yaml", overrides={"duration": "10s"})
    sim = Simulation(scn)
    s = sim.run().summary
    assert s["requests"] > 18_000
    assert all(c["failed"] == 0 for c in s["clients"].values())
    merged = None
    for cs in sim.clients.values():
        merged = cs.stats.attempt_hist.copy() if merged is None else merged + cs.stats.attempt_hist
    b = naive_baseline.run(duration=10.0)
    # the same model: medians agree within sampling noise of ~20 000 requests each
    assert abs(merged.percentile(50) * 1000 / b["p50_ms"] - 1) < 0.03
    assert abs(merged.percentile(99) * 1000 / b["p99_ms"] - 1) < 0.08
    assert sim.events_run / s["requests"] < 1.5  # pumped arrivals: about one event per request


def test_cg1_committed_file_matches_its_generator():
    from callgraph_bench import cg1
    committed = load_scenario(ROOT / "benchmarks" / "callgraph.yaml")
    assert committed.model_dump() == scenario_from_data(cg1()).model_dump()


def test_cg1_agrees_with_the_straightforward_simpy_model_of_the_same_graph():
    import numpy as np
    from callgraph_bench import cg1, naive_callgraph
    sim = Simulation(scenario_from_data(cg1(duration="30s")))
    s = sim.run().summary
    h = sim.clients["entry"].stats.hist
    naive = np.asarray(naive_callgraph(30.0)["latencies"])
    n = s["clients"]["entry"]["succeeded"]
    assert n > 11_000 and len(naive) > 11_000
    # end-to-end medians of ~12 000 requests each: the relative standard error of a median here is
    # ~0.4 % (lognormal-like spread), so 2 % is ~4 sigma of the difference
    assert abs(h.percentile(50) / float(np.percentile(naive, 50)) - 1) < 0.02
    assert abs(h.percentile(90) / float(np.percentile(naive, 90)) - 1) < 0.03
    # the floor of the end-to-end time: 4 hops of 1.6 ms on the critical path and 1 ms of mid's work
    assert h.min * 1000 > 4 * 1.6 + 1.0 and float(naive.min()) * 1000 > 4 * 1.6 + 1.0
