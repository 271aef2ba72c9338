"""latsim's benchmark suite (``make bench``): every figure is measured in this invocation, each
run in its own subprocess so that its peak memory is its own.

Prints REF-1 (and REF-1x12) for latsim and the naive SimPy baseline — simulated requests per
second of CPU time and of wall time, their ratios, peak memory, p50/p99 of both (the same model: they must agree
within 2 %), events per request — plus latsim's memory at 60 s vs 600 s simulated, the wall time
of 10 M requests, a 60 s simulation of a 2 000-service topology, its compile time and the
`latsim matrix` time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def child(kind: str, duration: float, rate: float) -> dict[str, Any]:
    """Runs inside the subprocess: one measurement, printed as JSON."""
    if kind == "compile":
        from latsim.analysis.matrix import compute_matrix
        from latsim.compile import Topology
        from latsim.scenario import scenario_from_data

        from matrix_bench import topology
        data = _wrap_addresses(topology(n_clients=1000, n_services=2000, n_vpcs=500))
        t0 = time.perf_counter()
        scn = scenario_from_data(data)
        t1 = time.perf_counter()
        topo = Topology(scn)
        t2 = time.perf_counter()
        m = compute_matrix(topo)
        t3 = time.perf_counter()
        return {"validate_s": round(t1 - t0, 2), "compile_s": round(t2 - t1, 2), "matrix_s": round(t3 - t2, 2),
                "cells": m.stats()["cells"],
                "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
    if kind == "big":
        from latsim.engine.simulation import Simulation
        from latsim.scenario import scenario_from_data

        from matrix_bench import topology
        data = _wrap_addresses(topology(n_clients=1000, n_services=2000, n_vpcs=500))
        for client in data["clients"]:
            client["arrival"] = {"poisson": rate / len(data["clients"])}
        data["duration"] = f"{duration}s"
        scn = scenario_from_data(data)
        t0, c0 = time.perf_counter(), time.process_time()
        result = Simulation(scn).run()
        return {"requests": result.summary["requests"], "wall": time.perf_counter() - t0,
                "cpu": time.process_time() - c0,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if kind == "latsim":
        from latsim.engine.simulation import Simulation
        from latsim.scenario import scenario_from_data

        from make_ref1 import ref1
        scn = scenario_from_data(ref1(rate=rate, duration=f"{duration}s"))
        t0, c0 = time.perf_counter(), time.process_time()
        sim = Simulation(scn)
        result = sim.run()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        s = result.summary
        merged = None
        for name in sorted(sim.clients):
            h = sim.clients[name].stats.attempt_hist
            merged = h.copy() if merged is None else merged + h
        assert merged is not None
        out = {"requests": s["requests"], "wall": wall, "cpu": cpu, "p50_ms": merged.percentile(50) * 1000,
               "p99_ms": merged.percentile(99) * 1000, "events": sim.events_run}
    else:
        import naive_baseline
        c0 = time.process_time()
        b = naive_baseline.run(duration=duration, total_rate=rate)
        out = {"requests": b["requests"], "wall": b["wall_seconds"], "cpu": time.process_time() - c0,
               "p50_ms": b["p50_ms"], "p99_ms": b["p99_ms"], "events": b["events"]}
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def _wrap_addresses(node: Any) -> Any:
    """500 client VPCs do not fit in 10.0-255.x: reuse (overlap) second octets, as Lattice allows."""
    import re
    if isinstance(node, dict):
        return {k: _wrap_addresses(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_wrap_addresses(v) for v in node]
    if isinstance(node, str):
        return re.sub(r"^10\.(\d+)\.", lambda m: f"10.{int(m.group(1)) % 250}.", node)
    return node


def measure(kind: str, duration: float, rate: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, str(duration), str(rate)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compile_and_matrix() -> dict[str, Any]:
    return measure("compile", 0.0, 0.0)


def row(label: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    ra, rb = a["requests"] / a["cpu"], b["requests"] / b["cpu"]
    wa, wb = a["requests"] / a["wall"], b["requests"] / b["wall"]
    print(f"{label}")
    print(f"  {'':24}{'latsim':>14}{'naive SimPy':>14}")
    print(f"  {'requests':24}{a['requests']:>14,}{b['requests']:>14,}")
    print(f"  {'requests / wall second':24}{wa:>14,.0f}{wb:>14,.0f}   ratio {wa / wb:.2f}x")
    print(f"  {'requests / CPU second':24}{ra:>14,.0f}{rb:>14,.0f}   ratio {ra / rb:.2f}x")
    print(f"  {'wall seconds':24}{a['wall']:>14.2f}{b['wall']:>14.2f}")
    print(f"  {'peak memory (MB)':24}{a['peak_mb']:>14.1f}{b['peak_mb']:>14.1f}")
    print(f"  {'p50 / p99 (ms)':24}{a['p50_ms']:>7.2f}/{a['p99_ms']:<6.2f}{b['p50_ms']:>7.2f}/{b['p99_ms']:<6.2f}"
          f"   differ {abs(a['p50_ms'] / b['p50_ms'] - 1):.1%} / {abs(a['p99_ms'] / b['p99_ms'] - 1):.1%}")
    print(f"  {'events per request':24}{a['events'] / a['requests']:>14.2f}{b['events'] / b['requests']:>14.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="60 s of REF-1 instead of 600 s, no 10 M run")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, duration, rate = args.child
        print(json.dumps(child(kind, float(duration), float(rate))))
        return
    duration = 60.0 if args.quick else 600.0
    print(f"REF-1: 20 services, 40 target groups, 160 targets, 10 clients, 2 000 req/s, {duration:.0f} s simulated\n")
    a, b = measure("latsim", duration, 2000.0), measure("naive", duration, 2000.0)
    row("REF-1", a, b)
    a12, b12 = measure("latsim", 60.0, 24000.0), measure("naive", 60.0, 24000.0)
    row("REF-1x12 (24 000 req/s, 60 s: queues form)", a12, b12)
    short = measure("latsim", 60.0, 2000.0) if duration != 60.0 else a
    long_ = a if duration == 600.0 else measure("latsim", 600.0, 2000.0)
    print(f"\nmemory: 60 s run {short['peak_mb']:.1f} MB, 600 s run {long_['peak_mb']:.1f} MB, "
          f"ratio {long_['peak_mb'] / short['peak_mb']:.2f} (target <= 1.2)")
    if not args.quick:
        big = measure("latsim", 5000.0, 2000.0)
        print(f"10 M requests: {big['requests']:,} in {big['wall']:.1f} s wall (target < 60 s)")
    large = measure("big", 60.0, 5000.0)
    print(f"2 000 services / 2 000 targets / 1 000 clients simulated, 60 s at 5 000 req/s: {large['requests']:,} "
          f"requests in {large['wall']:.1f} s wall (build, run and results), peak {large['peak_mb']:.0f} MB")
    import auth_decision
    auth_decision.main()
    cm = compile_and_matrix()
    print(f"2 000 services / 500 VPCs / 1 000 clients: validate {cm['validate_s']} s, compile {cm['compile_s']} s "
          f"(target < 2 s), matrix {cm['matrix_s']} s for {cm['cells']:,} cells (target < 30 s)")


if __name__ == "__main__":
    main()
