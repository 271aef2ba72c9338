"""Services that call services: the engine's call graphs against hand-computed values and queueing
theory (zero hop latency and Lattice overhead throughout, so every figure is the targets' own)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latsim.engine import simulate
from latsim.engine.simulation import Simulation
from latsim.theory import mmc_mean_response
from tests.builders import build, call_graph


def call(name: str, path: str = "/", **kw: object) -> dict[str, object]:
    return {"call": f"http://{name}.internal{path}", **kw}


def hops(summary: dict, client: str = "client") -> dict[str, float]:
    """The critical path of the client's only request class: 'hop/kind' -> mean ms."""
    (only,) = summary["critical_path"][client].values()
    return {f"{h['hop']}/{h['kind']}": h["mean_ms"] for h in only["hops"]}


# --- exact values with constant times -------------------------------------------------------------

def test_a_chain_takes_the_sum_of_its_work_and_its_calls():
    data = call_graph({"front": {"calls": [{"work": {"constant": "5ms"}}, call("back"), {"work": {"constant": "2ms"}}]},
                       "back": {"latency": {"constant": "10ms"}}}, entry="front", rate=20, duration="20s")
    s = simulate(build(data)).summary
    rt = s["clients"]["client"]["RequestTime"]
    assert rt["mean"] == pytest.approx(17.0, abs=1e-6)
    assert rt["max"] == pytest.approx(17.0, abs=1e-6)
    assert s["edges"]["front-tg->back"]["RequestTime"]["mean"] == pytest.approx(10.0, abs=1e-6)
    # the callee's and the caller's own metrics count the downstream requests like any other
    assert s["services"]["back"]["TotalRequestCount"] == s["services"]["front"]["TotalRequestCount"]
    path = hops(s)
    assert path["front-tg/work"] == pytest.approx(7.0, abs=1e-6)
    assert path["back-tg/work"] == pytest.approx(10.0, abs=1e-6)
    assert sum(path.values()) == pytest.approx(17.0, abs=1e-6)


def test_parallel_waits_for_its_slowest_branch_and_the_critical_path_goes_through_it():
    data = call_graph({"front": {"calls": [{"work": {"constant": "1ms"}},
                                           {"parallel": [call("fast"), call("slow")]}]},
                       "fast": {"latency": {"constant": "10ms"}}, "slow": {"latency": {"constant": "25ms"}}},
                      entry="front", rate=20, duration="20s")
    s = simulate(build(data)).summary
    assert s["clients"]["client"]["RequestTime"]["max"] == pytest.approx(26.0, abs=1e-6)
    path = hops(s)
    assert path["slow-tg/work"] == pytest.approx(25.0, abs=1e-6)
    assert "fast-tg/work" not in path  # off the critical path
    assert s["edges"]["front-tg->fast"]["RequestTime"]["mean"] == pytest.approx(10.0, abs=1e-6)


def test_a_step_runs_only_for_requests_its_when_matches():
    data = call_graph({"front": {"calls": [call("pay", "/charge", method="POST", when={"method": "POST"}),
                                           call("status", when={"path": {"prefix": "/status"}})]},
                       "pay": {"latency": {"constant": "3ms"}}, "status": {"latency": {"constant": "1ms"}}},
                      entry="front", rate=50, duration="30s",
                      requests=[{"weight": 1, "method": "POST", "path": "/buy"},
                                {"weight": 1, "method": "GET", "path": "/status/x"}])
    s = simulate(build(data)).summary
    e = s["edges"]
    posts = s["clients"]["client"]["requests"]
    assert e["front-tg->pay"]["requests"] + e["front-tg->status"]["requests"] == posts
    assert 0 < e["front-tg->pay"]["requests"] < posts


def test_a_call_with_probability_happens_that_often():
    n_sd = 4.0
    data = call_graph({"front": {"calls": [call("back", probability=0.3)]}, "back": {"latency": {"constant": "1ms"}}},
                      entry="front", rate=200, duration="60s")
    s = simulate(build(data)).summary
    n = s["clients"]["client"]["requests"]
    k = s["edges"]["front-tg->back"]["requests"]
    sd = math.sqrt(n * 0.3 * 0.7)  # binomial
    assert abs(k - 0.3 * n) < n_sd * sd, (k, n)


def test_a_failed_call_makes_the_request_answer_500_unless_ignored():
    for on_error, status in (("fail", "500"), ("ignore", "200")):
        data = call_graph({"front": {"calls": [call("back", on_error=on_error), {"work": {"constant": "1ms"}}]},
                           "back": {"latency": {"constant": "1ms"}, "errors": {"rate": 1.0, "status": 503}}},
                          entry="front", rate=20, duration="10s")
        s = simulate(build(data)).summary
        c = s["clients"]["client"]
        assert list(c["status"]) == [status], (on_error, c["status"])
        assert s["edges"]["front-tg->back"]["status"] == {"503": c["requests"]}


def test_retries_multiply_across_layers_exactly():
    # every layer retries twice on 5xx; the bottom always fails: 3 sends reach mid and 9 reach back
    # for each entry request (constant arrivals 1/s, each chain over long before the next)
    retry = {"max": 2, "backoff": "10ms", "jitter": "none"}
    data = call_graph({"front": {"calls": [call("mid", retries=retry)]},
                       "mid": {"calls": [call("back", retries=retry)]},
                       "back": {"latency": {"constant": "1ms"}, "errors": {"rate": 1.0, "status": 500}}},
                      entry="front", arrival={"constant": 1.0}, duration="10.5s")
    s = simulate(build(data)).summary
    n = s["clients"]["client"]["requests"]
    assert n >= 10
    assert s["edges"]["front-tg->mid"]["sent"] == 3 * n
    assert s["edges"]["front-tg->mid"]["retries"] == 2 * n
    assert s["edges"]["mid-tg->back"]["sent"] == 9 * n
    assert s["target_groups"]["back-tg"]["TotalRequestCount"] == 9 * n
    assert s["clients"]["client"]["status"] == {"500": n}


def test_a_call_times_out_after_its_own_timeout():
    data = call_graph({"front": {"calls": [call("back", timeout="50ms")]}, "back": {"latency": {"constant": "200ms"}}},
                      entry="front", rate=10, duration="10s")
    s = simulate(build(data)).summary
    edge = s["edges"]["front-tg->back"]
    assert edge["succeeded"] == 0 and edge["failures"] == {"client_timeout": edge["failed"]}
    assert edge["failed"] >= edge["requests"] - 1  # the last one may still be waiting at the end
    assert s["clients"]["client"]["RequestTime"]["max"] == pytest.approx(50.0, abs=1e-6)
    assert s["clients"]["client"]["status"] == {"500": s["clients"]["client"]["completed"]}


# --- queueing theory ------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_caller_with_unlimited_workers_adds_the_erlang_c_response_of_its_callee():
    mu, c, w = 100.0, 4, 0.005  # callee: M/M/4 with 10 ms mean service; caller: 5 ms of own work
    lam = 0.8 * c * mu
    reps = 4
    means = []
    for r in range(reps):
        data = call_graph({"front": {"calls": [{"work": {"constant": "5ms"}}, call("back")]},
                           "back": {"concurrency": c, "latency": {"exponential": {"mean": "10ms"}}}},
                          entry="front", rate=lam, duration="300s", warmup="20s", seed=500 + r)
        s = simulate(build(data)).summary
        means.append(s["clients"]["client"]["RequestTime"]["mean"])
        # exact: the client's time is the caller's work plus the call, as the caller saw it
        edge = s["edges"]["front-tg->back"]["RequestTime"]["mean"]
        assert s["critical_path"]["client"]["GET http://front.internal"]["mean_ms"] == pytest.approx(
            means[-1], rel=1e-6)
        assert abs(means[-1] - 5.0 - edge) < 0.05, (means[-1], edge)
    analytic = (w + mmc_mean_response(lam, mu, c)) * 1000.0
    m, sd = float(np.mean(means)), float(np.std(means, ddof=1))
    half = 5.841 * sd / math.sqrt(reps)  # 99 % t-interval, 3 degrees of freedom
    assert abs(m - analytic) / analytic < 0.03, (m, analytic, means)
    assert m - half <= analytic <= m + half, (m, half, analytic, means)


@pytest.mark.slow
def test_a_parallel_call_to_two_exponential_services_waits_for_the_maximum():
    # E[max of two independent exponentials of mean m] = 1.5 m; Var = 1.25 m^2
    data = call_graph({"front": {"calls": [{"parallel": [call("one"), call("two")]}]},
                       "one": {"latency": {"exponential": {"mean": "10ms"}}},
                       "two": {"latency": {"exponential": {"mean": "10ms"}}}},
                      entry="front", rate=400, duration="100s", seed=3)
    s = simulate(build(data)).summary
    n = s["clients"]["client"]["succeeded"]
    mean = s["clients"]["client"]["RequestTime"]["mean"]
    se = 10.0 * math.sqrt(1.25 / n)
    assert abs(mean - 15.0) < 4 * se, (mean, se, n)  # 4 sigma
    # each branch alone still has the exponential's mean
    for name in ("one", "two"):
        edge = s["edges"][f"front-tg->{name}"]
        assert abs(edge["RequestTime"]["mean"] - 10.0) < 4 * 10.0 / math.sqrt(edge["succeeded"])


def test_a_slow_callee_fills_its_callers_workers_and_the_entry_times_out():
    # caller: 4 workers, 1 ms of work, then a 9 ms call; 20 req/s use 10 % of it. From 20 s the callee
    # takes 300 ms more for 20 s: each request holds a worker ~310 ms, the caller can serve 4 / 0.31
    # ~= 12.9 req/s < 20 req/s, its queue grows by ~7 requests a second, and after ~3.6 s the wait
    # passes the client's 2 s timeout (2 * 12.9 / 7.1): most later requests of the incident time out.
    groups = {"front": {"concurrency": 4, "calls": [{"work": {"constant": "1ms"}}, call("back")]},
              "back": {"latency": {"constant": "9ms"}}}
    slow = [{"at": "20s", "inject_latency": {"target_group": "back-tg", "add": {"constant": "300ms"}}, "for": "20s"}]
    base = simulate(build(call_graph(groups, entry="front", rate=20, duration="60s", timeout="2s"))).summary
    hit = simulate(build(call_graph(groups, entry="front", rate=20, duration="60s", timeout="2s",
                                    timeline=slow))).summary
    assert base["clients"]["client"]["failures"] == {}
    assert base["clients"]["client"]["RequestTime"]["max"] < 15.0
    timeouts = hit["clients"]["client"]["failures"].get("client_timeout", 0)
    # ~ (20 - 3.6) s x 20 req/s = 330 requests time out; at least 250 must
    assert timeouts >= 250, hit["clients"]["client"]
    # the callee itself never got slow beyond the injected 300 ms: the time went to the caller's queue
    assert hit["target_groups"]["back-tg"]["RequestTime"]["max"] < 310.0
    crit = hit["critical_path"]["client"]["GET http://front.internal"]
    parts = {f"{h['hop']}/{h['kind']}": h["mean_ms"] for h in crit["hops"]}
    assert parts["front-tg/queue"] > parts["back-tg/work"]


# --- engine guarantees ----------------------------------------------------------------------------

def test_call_graph_runs_are_deterministic_and_the_fast_path_changes_nothing():
    from latsim.scenario import load_scenario
    scn = load_scenario("scenarios/microservices.yaml")
    a = Simulation(scn).run().to_json()
    b = Simulation(scn).run().to_json()
    c = Simulation(scn, fast_path=False).run().to_json()
    assert a == b == c


def test_auth_is_decided_per_hop_with_the_calling_groups_principal():
    from latsim.scenario import load_scenario
    s = simulate(load_scenario("scenarios/microservices.yaml")).summary
    e = s["edges"]
    assert set(e["payments-tg->ledger"]["status"]) == {"200"}
    assert s["clients"]["reporting"]["status"] == {"403": s["clients"]["reporting"]["requests"]}
    # checkout's role may POST to payments: every charge got through
    assert set(e["checkout-tg->payments"]["status"]) == {"200"}


# --- studies ----------------------------------------------------------------------------------------

def test_a_sweep_over_a_callers_workers_against_a_slow_callee():
    # the callee takes 100 ms: at 30 req/s the caller needs ~3 workers busy on average (Little);
    # with 2 it is overloaded (its queue grows without bound, entries time out at 1 s), with 8 it
    # is not (rho = 3/8) -- the sweep must show it, and an edge metric must be addressable
    from latsim.studies import StudyOptions, build_study, run_study
    data = call_graph({"front": {"concurrency": 2, "calls": [call("back")]},
                       "back": {"latency": {"constant": "100ms"}}},
                      entry="front", rate=30, duration="40s", timeout="1s")
    study = build_study(data, options=StudyOptions(
        params=["target_groups.front-tg.targets.0.concurrency=2,8"], replications=2,
        metrics=["clients.client.error_rate", "edges.front-tg->back.RequestTime.p50",
                 "edges.front-tg->back.error_rate"]))
    rows = {(r["point"], r["metric"]): r for r in run_study(study).aggregate()}
    assert rows[(0, "clients.client.error_rate")]["mean"] > 0.5
    assert rows[(1, "clients.client.error_rate")]["mean"] == 0.0
    for point in (0, 1):  # the callee itself is never the problem
        assert rows[(point, "edges.front-tg->back.RequestTime.p50")]["mean"] == pytest.approx(100.0, rel=0.01)
        assert rows[(point, "edges.front-tg->back.error_rate")]["mean"] == 0.0


def test_failures_at_targets_with_calls_cut_their_requests_and_nothing_hangs():
    # a target of the middle layer dies with requests in its program (waiting on calls) and in its
    # queue; then a whole AZ goes; then a target is deregistered and drains: every request still
    # gets an outcome, the dead target's requests fail with 502, and the run is deterministic
    from latsim.scenario import scenario_from_data
    data = call_graph({"front": {"targets": 2, "concurrency": 8, "calls": [call("mid", retries={"max": 1})]},
                       "mid": {"targets": 2, "concurrency": 2,
                               "calls": [{"work": {"exponential": {"mean": "5ms"}}}, call("back")]},
                       "back": {"targets": 2, "latency": {"exponential": {"mean": "40ms"}}}},
                      entry="front", rate=60, duration="60s", timeout="3s",
                      timeline=[{"at": "10s", "fail_targets": ["i-mid-0"], "for": "10s"},
                                {"at": "30s", "fail_az": "use1-az2", "for": "5s"},
                                {"at": "45s", "deregister_targets": {"target_group": "mid-tg", "targets": ["i-mid-1"]}}])
    a = simulate(scenario_from_data(data)).summary
    b = simulate(scenario_from_data(data)).summary
    assert a == b
    c = a["clients"]["client"]
    # after the deregistration mid is overloaded (2 workers for ~2.8 busy): only the requests of the
    # last 3 s (one client timeout: ~180 at 60/s) may still be in flight when the run ends
    assert c["succeeded"] + c["failed"] >= c["requests"] - 60 * 3 - 4 * math.sqrt(60 * 3)
    assert c["failures"].get("client_timeout", 0) > 0
    assert sum(a["edges"]["front-tg->mid"]["status"].values()) > 0
    assert a["target_groups"]["mid-tg"]["HTTPCode_5XX_Count"] > 0  # refused while i-mid-0 was down
    assert c["succeeded"] > 0.5 * c["requests"]


def test_the_size_estimate_counts_the_calls_each_request_makes():
    from latsim.estimate import call_fanout, estimate
    # front makes one call to mid and one to mid with probability 0.5; mid calls back once:
    # a request to mid makes 1 downstream request, one to front 1 * (1 + 1) + 0.5 * (1 + 1) = 3
    data = call_graph({"front": {"calls": [call("mid"), call("mid", "/maybe", probability=0.5)]},
                       "mid": {"calls": [call("back")]}, "back": {}}, entry="front", rate=10, duration="60s")
    scn = build(data)
    assert call_fanout(scn) == {"front": 3.0, "mid": 1.0, "back": 0.0}
    assert estimate(scn)["requests"] == pytest.approx(600 * 4)
