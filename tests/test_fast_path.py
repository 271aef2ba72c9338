"""The engine's fast path (``Simulation._pump``) must not change a single byte of any result.

Every scenario here runs twice, with the fast path and with every request on the general path
(``Simulation(fast_path=False)``); the summaries (JSON text) and the per-minute series must be
identical. The variants drive requests off the fast path at each of its hand-over points: rate
limiting, all-zero weights, protocol mismatch, ALB and Lambda targets, queue limits, failed and
deregistered targets, injected latency and errors, target error rates, Lattice idle timeouts,
client timeouts and retries, deferred delivery around timeline faults, closed loops, a warm-up
that ends inside a minute, canary controllers watching a target group, and access logs (which
switch the fast path off).
"""

from __future__ import annotations

import copy
import glob
import heapq
import math
import os
from typing import Any

import numpy as np
import pytest

from latsim.engine.simulation import Simulation
from latsim.scenario import load_scenario
from tests.builders import build, call_graph, one_service

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def raw_state(sim: Simulation) -> Any:
    """Everything recorded, unrounded: counters to the last bit, histogram internals."""
    # every minute as it closed (per-AZ counters, the minute's histogram) and the whole-run fold
    dims = {key: ([(m, rows, h.to_dict() if h is not None else None, cold) for m, rows, h, _, cold in d.records()],
                  d.total, d.whole.to_dict(), d.lattice_codes)
            for key, d in sim.rec.dims.items()}
    clients = {n: (c.stats.hist.to_dict(), c.stats.attempt_hist.to_dict()) for n, c in sim.clients.items()}
    targets = {(srv.tg.name, srv.id, i): (srv.requests, srv.free) for i, srv in
               enumerate(s for ts in sim.targets_by_id.values() for s in ts)}
    rules = {k: v for k, v in sim.rec.rules.items() if v}  # the fast path creates a rule's table early
    return dims, clients, targets, dict(sim.rec.rule_hits), rules


def assert_identical(scn: Any, **kw: Any) -> None:
    fast = Simulation(scn, fast_path=True, **kw)
    general = Simulation(scn, fast_path=False, **kw)
    a, b = fast.run(), general.run()
    assert a.to_json() == b.to_json()
    assert a.metric_rows == b.metric_rows
    assert raw_state(fast) == raw_state(general)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))),
                         ids=lambda p: os.path.basename(p))
def test_bundled_scenarios_identical(path: str) -> None:
    assert_identical(load_scenario(path))


def test_ref1_identical_and_all_fast() -> None:
    scn = load_scenario(os.path.join(ROOT, "benchmarks", "ref1.yaml"), overrides={"duration": "10s"})
    assert_identical(scn)
    sim = Simulation(scn)
    sim.run()
    # only the requests still in flight when the run ends are handed over (delivered by an event)
    assert sim.pumped_fast == sim.pumped > 19_000 and sim.handed_over < 100


def _variant(name: str) -> dict[str, Any]:
    d = one_service(targets=4, concurrency=2, rate=300, duration="150s", warmup="45s", hop="1ms",
                    latency={"lognormal": {"median": "5ms", "sigma": 0.8}}, timeout="2s")
    svc = d["services"][0]
    tg = d["target_groups"][0]
    cl = d["clients"][0]
    if name == "plain":
        pass
    elif name == "two_specs_and_split":
        d["target_groups"].append(copy.deepcopy(tg) | {"name": "tg-green"})
        svc["listeners"][0]["rules"] = [{"name": "api", "priority": 1, "match": {"path": {"prefix": "/api"}},
                                         "action": {"forward": [{"target_group": "tg-main", "weight": 80},
                                                                {"target_group": "tg-green", "weight": 20}]}}]
        cl["requests"] = [{"path": "/api/x", "weight": 3}, {"path": "/other", "weight": 1}]
        d["timeline"] = [{"at": "60s", "set_weights": {"service": "svc", "listener": "http", "rule": "api",
                                                       "weights": {"tg-main": 0, "tg-green": 0}}},
                         {"at": "90s", "set_weights": {"service": "svc", "listener": "http", "rule": "api",
                                                       "weights": {"tg-main": 50, "tg-green": 50}}}]
    elif name == "rate_limited":
        d["quotas"] = {"requests_per_second_per_service_per_az": 250}
    elif name == "queue_limit_and_client_timeouts":
        for t in tg["targets"]:
            t["queue"] = 3
            t["latency"] = {"exponential": {"mean": "12ms"}}
        cl["timeout"] = "30ms"
        cl["retries"] = {"max": 2, "on": ["5xx", "timeout"], "backoff": "5ms"}
    elif name == "errors_and_retries":
        for t in tg["targets"][:2]:
            t["errors"] = {"rate": 0.2, "status": 503}
        cl["retries"] = {"max": 3, "on": ["5xx"], "backoff": "1ms"}
    elif name == "faults_and_injections":
        tg["health_check"] = {"enabled": True, "interval": "5s", "unhealthy_threshold": 2,
                              "healthy_threshold": 2}
        d["timeline"] = [{"at": "20s", "fail_targets": ["i-0000"], "for": "30s"},
                         {"at": "70s", "inject_latency": {"target_group": "tg-main", "add": {"constant": "40ms"}},
                          "for": "10s"},
                         {"at": "100s", "inject_errors": {"target_group": "tg-main", "rate": 0.3, "status": 500},
                          "for": "10s"},
                         {"at": "120s", "fail_az": "use1-az2", "for": "15s"}]
    elif name == "idle_timeout":
        svc["idle_timeout"] = "60s"
        for t in tg["targets"]:
            t["concurrency"] = 1
            t["latency"] = {"exponential": {"mean": "20s"}}
        d["clients"][0]["arrival"] = {"poisson": 2}
        cl["timeout"] = "90s"
    elif name == "alb_and_lambda":
        d["target_groups"] = [
            {"name": "tg-main", "type": "ALB", "vpc": "target-vpc", "protocol": "HTTP", "port": 80,
             "health_check": {"enabled": False},
             "targets": [{"id": "alb-1", "az": "use1-az1", "concurrency": 50,
                          "latency": {"exponential": {"mean": "5ms"}}}]},
            {"name": "tg-fn", "type": "LAMBDA", "targets": [{"id": "fn", "concurrency": 5,
                                                             "latency": {"exponential": {"mean": "5ms"}},
                                                             "cold_start": {"constant": "200ms"}}]}]
        svc["listeners"][0]["default_action"] = {"forward": [{"target_group": "tg-main", "weight": 1},
                                                             {"target_group": "tg-fn", "weight": 1}]}
    elif name == "rate_changes_and_mixed_arrivals":
        d["clients"].append({"name": "ramp", "vpc": "client-vpc", "az": "use1-az2", "url": "http://svc.example.internal",
                             "arrival": {"ramp": {"from": "10/s", "to": "200/s", "over": "100s"}}})
        d["clients"].append({"name": "steady", "vpc": "client-vpc", "az": "use1-az1",
                             "url": "http://svc.example.internal", "arrival": {"constant": "40/s"}})
        d["timeline"] = [{"at": "30s", "set_rate": {"client": "client", "rate": "0/s"}},
                         {"at": "40s", "set_rate": {"client": "client", "rate": "900/s"}},
                         {"at": "41s", "set_rate": {"client": "ramp", "rate": "50/s"}},
                         {"at": "60s", "set_rate": {"client": "client", "rate": "100/s"}}]
    elif name == "closed_loop":
        cl["arrival"] = {"closed": {"users": 20, "think": {"exponential": {"mean": "50ms"}}}}
    else:  # pragma: no cover
        raise AssertionError(name)
    return d


VARIANTS = ("plain", "two_specs_and_split", "rate_limited", "queue_limit_and_client_timeouts",
            "errors_and_retries", "faults_and_injections", "idle_timeout", "alb_and_lambda",
            "rate_changes_and_mixed_arrivals", "closed_loop")


@pytest.mark.parametrize("name", VARIANTS)
def test_variants_identical(name: str) -> None:
    assert_identical(build(_variant(name)))


def test_variants_reach_their_hand_over_points() -> None:
    """The variants are not vacuous: each one's distinctive outcome happens."""
    s = {n: Simulation(build(_variant(n))).run().summary for n in
         ("rate_limited", "queue_limit_and_client_timeouts", "errors_and_retries", "idle_timeout")}
    assert s["rate_limited"]["services"]["svc"].get("HTTPCode_VpcLattice_429_Count", 0) > 0
    assert s["queue_limit_and_client_timeouts"]["clients"]["client"]["failures"].get("client_timeout", 0) > 0
    assert s["queue_limit_and_client_timeouts"]["services"]["svc"]["HTTPCode_5XX_Count"] > 0
    assert s["errors_and_retries"]["clients"]["client"]["retries"] > 0
    assert s["idle_timeout"]["services"]["svc"]["RequestTimeoutCount"] > 0
    for name in VARIANTS:
        if name in ("closed_loop", "rate_changes_and_mixed_arrivals"):
            continue
        sim = Simulation(build(_variant(name)))
        sim.run()
        # the fast path ran, and handed over at least once (the plain variant: client timeouts)
        assert sim.pumped_fast > 0 and sim.handed_over > 0, name


def _call_graph_variant(name: str) -> dict[str, Any]:
    """A depth-3 call graph with a parallel fan-out (front -> mid -> {leaf-a, leaf-b}), as CG-1,
    with hop latencies; ``faults`` drives calls off the fast path (the pump's, for a call entering Lattice;
    ``CallGraph._answer``) at each of its hand-over points: rate limiting, queue limits, target
    error rates and retries of calls, a failed call that fails its caller, a call timeout, a
    caller's client timeout, failed targets and AZs, injected latency and errors."""
    def call(svc: str, **kw: Any) -> dict[str, Any]:
        return {"call": f"http://{svc}.internal/x", **kw}
    groups: dict[str, dict[str, Any]] = {
        "front": {"targets": 2, "concurrency": 16,
                  "calls": [{"work": {"lognormal": {"median": "2ms", "sigma": 0.5}}}, call("mid")]},
        "mid": {"targets": 2, "concurrency": 8,
                "calls": [{"work": {"constant": "1ms"}}, {"parallel": [call("leaf-a"), call("leaf-b")]}]},
        "leaf-a": {"targets": 2, "concurrency": 4, "latency": {"lognormal": {"median": "8ms", "sigma": 0.5}}},
        "leaf-b": {"targets": 2, "concurrency": 4, "latency": {"lognormal": {"median": "12ms", "sigma": 0.5}}}}
    top: dict[str, Any] = {"network": {"same_az": "0.3ms", "cross_az": "0.8ms", "client_hop": "0.5ms",
                                       "lattice_overhead": {"exponential": {"mean": "0.2ms"}}}}
    if name == "faults":
        groups["leaf-a"] |= {"errors": {"rate": 0.05, "status": 503}, "queue": 6}
        groups["mid"]["calls"][1]["parallel"] = [call("leaf-a", retries={"max": 2, "on": ["5xx"]}, on_error="fail"),
                                                 call("leaf-a"), call("leaf-b", timeout="40ms")]
        top["quotas"] = {"requests_per_second_per_service_per_az": 100}  # leaf-a: ~120/s per AZ
        top["timeline"] = [{"at": "20s", "fail_targets": ["i-leaf-b-0"], "for": "10s"},
                           {"at": "35s", "inject_latency": {"target_group": "leaf-a-tg", "add": {"constant": "30ms"}},
                            "for": "10s"},
                           {"at": "50s", "inject_errors": {"target_group": "mid-tg", "rate": 0.2, "status": 500},
                            "for": "10s"},
                           {"at": "65s", "fail_az": "use1-az2", "for": "10s"}]
    return call_graph(groups, entry="front", rate=120, duration="90s", warmup="25s",
                      timeout="150ms" if name == "faults" else "60s",
                      retries={"max": 1, "on": ["5xx", "timeout"]} if name == "faults" else None, **top)


@pytest.mark.pure  # counts Simulation.lattice_response's calls by replacing it
@pytest.mark.parametrize("name", ("plain", "faults"))
def test_call_graphs_identical_and_their_fast_path_taken(name: str) -> None:
    scn = build(_call_graph_variant(name))
    assert_identical(scn)
    sim = Simulation(scn)
    general = 0
    lattice_response = sim.lattice_response

    def counted(*a: Any, **kw: Any) -> None:
        nonlocal general
        general += 1
        lattice_response(*a, **kw)
    sim.lattice_response = counted  # type: ignore[method-assign]
    s = sim.run().summary
    answered = {"fast": sim.calls.calls_fast, "general": general}
    assert answered["fast"] > (20_000 if name == "plain" else 10_000)  # 120 entry requests a second, 3 calls each
    if name == "plain":
        # the rest: the first requests (route plans), those still in flight at the end, and calls that
        # entered while no arrival was pumped (the agenda's own event runs them on the general path)
        assert answered["general"] < 0.01 * answered["fast"]
    else:  # every kind of hand-over happened
        assert answered["general"] > 1_000
        assert s["services"]["leaf-a"].get("HTTPCode_VpcLattice_429_Count", 0) > 0
        assert s["edges"]["mid-tg->leaf-a"]["retries"] > 0
        assert s["edges"]["mid-tg->leaf-b"]["failures"].get("client_timeout", 0) > 0
        assert s["clients"]["client"]["failures"].get("client_timeout", 0) > 0


def test_fast_path_is_off_with_access_logs(tmp_path: Any) -> None:
    from latsim.metrics.access_log import AccessLogWriter
    scn = build(_variant("plain") | {"duration": "20s", "warmup": "0s"})
    outs = []
    for fast in (True, False):
        d = tmp_path / str(fast)
        w = AccessLogWriter(scn, d, services=["svc"])
        res = Simulation(scn, fast_path=fast, access_log=w).run()
        w.close()
        outs.append((res.to_json(), sorted((p.name, p.read_bytes()) for p in d.rglob("*") if p.is_file())))
    assert outs[0] == outs[1]


def test_canary_watchers_are_fed_by_the_fast_path() -> None:
    """A progressive canary watches its target group all run long: the fast path stays on and
    feeds the watcher (the canary's decisions are part of the identical summaries above)."""
    sim = Simulation(load_scenario(os.path.join(ROOT, "scenarios", "canary-progressive.yaml")))
    result = sim.run()
    assert result.summary["canary"] and sim.pumped_fast == sim.pumped > 20_000


def kw_model(lam: float, n_targets: int, workers: int, median: float, sigma: float, duration: float,
             warmup: float, rng: np.random.Generator) -> float:
    """An independent model of the same system, written from its definition: Poisson arrivals,
    round robin over ``n_targets`` targets (the i-th arrival to target i mod n), each a FIFO queue
    with ``workers`` servers and lognormal service (the Kiefer–Wolfowitz recursion: a request
    starts when the earliest-free worker frees). Returns the mean response time, in ms, of the
    requests arriving after the warm-up. Shares no code (nor random numbers) with latsim."""
    n = int(lam * duration * 1.2) + 100
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    arrivals = arrivals[arrivals < duration]
    service = rng.lognormal(math.log(median), sigma, arrivals.size)
    free = [[0.0] * workers for _ in range(n_targets)]
    total, count = 0.0, 0
    for i, (a, s) in enumerate(zip(arrivals.tolist(), service.tolist(), strict=True)):
        f = free[i % n_targets]
        start = max(a, f[0])
        heapq.heapreplace(f, start + s)
        if a >= warmup and start + s <= duration:
            total += start + s - a
            count += 1
    return 1000.0 * total / count


def test_fast_path_agrees_with_an_independent_queue_model() -> None:
    """The identity tests above compare the fast path with the general path, which share the
    queue (``TargetServer``), the sampling and the recorders: a bug there would pass them. Here
    the fast path's mean response time is compared with ``kw_model``, over 8 independent
    replications of each (60 s at 300 requests/s, two targets of two workers, lognormal 5 ms
    median, sigma 0.8: utilisation 0.52). The difference of the two grand means must lie within
    4.5 standard errors, the SE from the replications' spread (about 0.6 % of the mean here); a
    queue that ignored its second worker, or service times 5 % too long, lands far outside."""
    lam, duration, warmup = 300.0, 60.0, 5.0
    data = one_service(targets=2, concurrency=2, rate=lam, duration=f"{duration:g}s", warmup=f"{warmup:g}s",
                       latency={"lognormal": {"median": "5ms", "sigma": 0.8}})
    data["target_groups"][0]["targets"][1]["az"] = "use1-az1"  # one AZ: no cross-AZ hop to model
    engine, model = [], []
    for r in range(8):
        data["seed"] = 700 + r
        sim = Simulation(build(data))
        s = sim.run().summary
        assert sim.pumped_fast == sim.pumped > 0.9 * lam * duration  # the fast path did the work
        engine.append(s["target_groups"]["tg-main"]["RequestTime"]["mean"])
        model.append(kw_model(lam, 2, 2, 0.005, 0.8, duration, warmup, np.random.default_rng(9000 + r)))
    se = math.sqrt(np.var(engine, ddof=1) / len(engine) + np.var(model, ddof=1) / len(model))
    diff = float(np.mean(engine) - np.mean(model))
    assert abs(diff) < 4.5 * se, (engine, model, se)
    assert se < 0.02 * float(np.mean(model))  # the comparison is sharp enough to matter
