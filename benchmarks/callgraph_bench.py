"""CG-1: a call graph of depth 3 with a parallel fan-out, latsim against a straightforward SimPy model.

CG-1 (``cg1()`` below; ``benchmarks/callgraph.yaml`` is the same scenario as a file):

* one client sends Poisson requests (400/s) to ``front``;
* ``front`` (2 targets x 32 workers): own work lognormal(median 2 ms, sigma 0.5), then calls ``mid``;
* ``mid`` (2 targets x 16 workers): 1 ms of work, then calls ``leaf-a`` and ``leaf-b`` in parallel
  and waits for both;
* ``leaf-a`` / ``leaf-b`` (2 targets x 8 workers each): lognormal service, mean 10 ms / 15 ms, sigma 0.5;
* every hop: caller -> Lattice 0.5 ms, Lattice -> target 0.3 ms, the same back; no Lattice overhead,
  no auth, no health checks, no timeouts or retries; round robin per target group; FIFO queues.

The straightforward model (``naive_callgraph``) is written the way SimPy's documentation teaches:
a process per request, a ``simpy.Resource`` per target, a sub-process per call, ``env.all_of`` for
the parallel fan-out, latencies kept in a list. Each figure is measured in its own subprocess, in one
invocation, interleaved: requests (entry requests) per wall second and per CPU second, the ratio,
and the client's end-to-end p50 / p99 of both (the same model: they must agree within 1 %).
Repetition k runs both models with seed k: a single pair of runs differs in p99 by sampling
alone (about 0.7 % at 300 s), so the percentiles are compared as means over the repetitions, with
the standard error of their difference from the repetitions' spread.

Run: ``python benchmarks/callgraph_bench.py [--duration 300] [--repeat 3]`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RATE = 400.0
HOP1 = 0.0005  # caller -> Lattice
HOP2 = 0.0003  # Lattice -> target
SIGMA = 0.5
GROUPS = {  # name: (targets, workers per target)
    "front": (2, 32), "mid": (2, 16), "leaf-a": (2, 8), "leaf-b": (2, 8)}
LEAF_MEAN = {"leaf-a": 0.010, "leaf-b": 0.015}
FRONT_MEDIAN = 0.002
MID_WORK = 0.001


def cg1(rate: float = RATE, duration: str = "300s", seed: int = 1) -> dict[str, Any]:
    """CG-1 as a latsim scenario (plain data)."""
    def url(name: str) -> str:
        return f"http://{name}.cg.internal"

    def lognormal_mean(mean: float) -> dict[str, Any]:
        return {"lognormal": {"median": f"{mean * math.exp(-SIGMA * SIGMA / 2) * 1000:.9f}ms", "sigma": SIGMA}}
    calls: dict[str, list[dict[str, Any]]] = {
        "front": [{"work": {"lognormal": {"median": f"{FRONT_MEDIAN * 1000:g}ms", "sigma": SIGMA}}},
                  {"call": url("mid") + "/work", "timeout": "60s"}],
        "mid": [{"work": {"constant": f"{MID_WORK * 1000:g}ms"}},
                {"parallel": [{"call": url("leaf-a") + "/score", "timeout": "60s"},
                              {"call": url("leaf-b") + "/entry", "timeout": "60s"}]}]}
    services, tgs = [], []
    for name, (n, workers) in GROUPS.items():
        services.append({"name": name, "account": "cg", "custom_domain": f"{name}.cg.internal",
                         "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                        "default_action": {"forward": [{"target_group": f"{name}-tg"}]}}]})
        targets = []
        for i in range(n):
            t: dict[str, Any] = {"id": f"i-{name}-{i}", "az": "use1-az1", "concurrency": workers}
            if name in LEAF_MEAN:
                t["latency"] = lognormal_mean(LEAF_MEAN[name])
            targets.append(t)
        tg: dict[str, Any] = {"name": f"{name}-tg", "vpc": "app", "protocol": "HTTP", "port": 8080,
                              "health_check": {"enabled": False}, "targets": targets}
        if name in calls:
            tg["calls"] = calls[name]
        tgs.append(tg)
    return {
        "name": "cg1", "seed": seed, "duration": duration,
        "description": "CG-1: a call graph of depth 3 with a parallel fan-out (benchmarks/callgraph_bench.py)",
        "accounts": [{"id": "123456789012", "name": "cg"}],
        "vpcs": [{"name": "edge", "account": "cg", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]},
                 {"name": "app", "account": "cg", "cidr": "10.1.0.0/16", "azs": ["use1-az1"]}],
        "service_networks": [{"name": "cg-net", "account": "cg",
                              "vpc_associations": [{"vpc": "edge"}, {"vpc": "app"}], "services": list(GROUPS)}],
        "services": services, "target_groups": tgs,
        "clients": [{"name": "entry", "vpc": "edge", "az": "use1-az1", "url": url("front") + "/checkout",
                     "arrival": {"poisson": rate}, "timeout": "60s"}],
        "network": {"client_hop": f"{HOP1 * 1000:g}ms", "target_hop": f"{HOP2 * 1000:g}ms",
                    "lattice_overhead": "0ms"},
    }


# --- the straightforward SimPy model -----------------------------------------------------------------

def naive_callgraph(duration: float, rate: float = RATE, seed: int = 1) -> dict[str, Any]:
    import simpy

    env = simpy.Environment()

    class Group:
        def __init__(self, name: str) -> None:
            n, workers = GROUPS[name]
            self.name = name
            self.targets = [simpy.Resource(env, capacity=workers) for _ in range(n)]
            self.rngs = [random.Random(f"{seed}-{name}-{i}") for i in range(n)]
            self.rr = 0

    groups = {name: Group(name) for name in GROUPS}
    mu = {name: math.log(mean) - SIGMA * SIGMA / 2 for name, mean in LEAF_MEAN.items()}
    front_mu = math.log(FRONT_MEDIAN)
    latencies: list[float] = []

    def program(name: str, rng: random.Random) -> Any:
        if name == "front":
            yield env.timeout(rng.lognormvariate(front_mu, SIGMA))
            yield env.process(call("mid"))
        elif name == "mid":
            yield env.timeout(MID_WORK)
            yield env.all_of([env.process(call("leaf-a")), env.process(call("leaf-b"))])
        else:
            yield env.timeout(rng.lognormvariate(mu[name], SIGMA))

    def call(name: str) -> Any:
        """A request through Lattice: caller -> Lattice -> target (FIFO slot, its program) -> back."""
        g = groups[name]
        i = g.rr % len(g.targets)
        g.rr += 1
        yield env.timeout(HOP1)
        yield env.timeout(HOP2)
        with g.targets[i].request() as slot:
            yield slot
            yield env.process(program(name, g.rngs[i]))
        yield env.timeout(HOP2)
        yield env.timeout(HOP1)

    def entry() -> Any:
        t0 = env.now
        yield env.process(call("front"))
        latencies.append(env.now - t0)

    def client() -> Any:
        rng = random.Random(f"{seed}-arrivals")
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(entry())

    env.process(client())
    env.run(until=duration)
    return {"latencies": latencies}


# --- measurement -------------------------------------------------------------------------------------

def child(kind: str, duration: float, seed: int = 1) -> dict[str, Any]:
    import numpy as np
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "naive":
        lat = np.asarray(naive_callgraph(duration, seed=seed)["latencies"])
        out = {"requests": int(lat.size), "p50_ms": float(np.percentile(lat, 50)) * 1000,
               "p99_ms": float(np.percentile(lat, 99)) * 1000}
    elif kind == "engine":
        from latsim.engine.simulation import Simulation
        from latsim.scenario import scenario_from_data
        scn = scenario_from_data(cg1(duration=f"{duration}s", seed=seed))
        t0, c0 = time.perf_counter(), time.process_time()  # the engine alone: build and run
        sim = Simulation(scn, series=False)  # as `latsim run --json`: CloudWatch's minute, no report series
        result = sim.run()
        h = sim.clients["entry"].stats.hist
        out = {"requests": result.summary["clients"]["entry"]["succeeded"], "p50_ms": h.percentile(50) * 1000,
               "p99_ms": h.percentile(99) * 1000, "events": sim.events_run}
    else:  # the whole process, as a user runs it
        path = HERE / f"_cg1_{duration:g}_{seed}.json"
        path.write_text(json.dumps(cg1(duration=f"{duration}s", seed=seed)))
        try:
            proc = subprocess.run([sys.executable, "-m", "latsim.cli", "run", str(path), "--json", "--quiet"],
                                  capture_output=True, text=True)
        finally:
            path.unlink()
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr)
        s = json.loads(proc.stdout)["clients"]["entry"]
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {"requests": s["succeeded"], "p50_ms": s["RequestTime"]["p50"], "p99_ms": s["RequestTime"]["p99"]}
        out["cpu"] = ru.ru_utime + ru.ru_stime
        out["peak_mb"] = ru.ru_maxrss / 1024.0  # the latsim process's own peak
    out["wall"] = time.perf_counter() - t0
    out.setdefault("cpu", time.process_time() - c0)
    out.setdefault("peak_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    return out


def measure(kind: str, duration: float, seed: int) -> dict[str, Any]:
    from run import CHILD_ENV  # compiled bytecode, as an installed latsim has it (benchmarks/run.py)
    proc = subprocess.run([sys.executable, __file__, "--child", kind, str(duration), str(seed)], capture_output=True,
                          text=True, check=True, env=CHILD_ENV)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=300.0, help="simulated seconds (default 300)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repetitions (medians are printed)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], float(args.child[1]), int(args.child[2]))))
        return
    from run import engine_build, use_compiled_bytecode
    runs: dict[str, list[dict[str, Any]]] = {"naive": [], "engine": [], "process": []}
    with tempfile.TemporaryDirectory() as tmp:
        use_compiled_bytecode(Path(tmp))
        for rep in range(args.repeat):  # repetition k: seed k + 1 in both models
            for kind in runs:
                runs[kind].append(measure(kind, args.duration, rep + 1))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("requests", "wall", "cpu", "peak_mb", "p50_ms",
                                                                 "p99_ms")} for k, v in runs.items()}
    print(f"CG-1 ({args.duration:g} s simulated, {RATE:g} entry req/s, depth 3 with a parallel fan-out; "
          f"medians of {args.repeat} interleaved runs, seeds 1-{args.repeat}; {engine_build()})")
    print(f"{'':34}{'req/wall s':>12}{'req/CPU s':>12}{'x naive (wall)':>16}{'p50 ms':>9}{'p99 ms':>9}{'peak MB':>9}")
    base = med["naive"]
    for kind, label in (("naive", "naive SimPy (process per request)"), ("engine", "latsim engine alone"),
                        ("process", "latsim run --json --quiet")):
        m = med[kind]
        rw, rc = m["requests"] / m["wall"], m["requests"] / m["cpu"]
        ratio = rw / (base["requests"] / base["wall"])
        print(f"{label:34}{rw:12,.0f}{rc:12,.0f}{ratio:15.2f}x{m['p50_ms']:9.3f}{m['p99_ms']:9.3f}{m['peak_mb']:9.1f}")
    # the percentiles: each repetition runs both models with its own seed, so the difference of
    # their means over the repetitions has a standard error from the repetitions' spread
    n = args.repeat
    for q in ("p50_ms", "p99_ms"):
        a = [r[q] for r in runs["engine"]]
        b = [r[q] for r in runs["naive"]]
        mb = statistics.fmean(b)
        diff = (statistics.fmean(a) - mb) / mb
        se = math.sqrt((statistics.variance(a) + statistics.variance(b)) / n) / mb if n > 1 else math.nan
        print(f"  end-to-end {q[:3]} over {n} seeds: latsim {statistics.fmean(a):.3f} ms, naive {mb:.3f} ms, "
              f"difference {100 * diff:+.2f} % (standard error {100 * se:.2f} %; goal: within 1 %)")
    if runs["engine"][0].get("events"):
        print(f"  latsim events per entry request: {runs['engine'][0]['events'] / runs['engine'][0]['requests']:.2f}")


if __name__ == "__main__":
    main()
