"""latsim's benchmark suite (``make bench``): every figure is measured in this invocation, each run
in its own process (its CPU time and peak memory are its own, read with ``os.wait4``).

The referee is ``../shared/bench/naive_simpy.py`` (REF-1 the straightforward SimPy way; see
``../shared/bench/REF1.md``). Runs of latsim and of the reference are interleaved and each
figure is the median of ``--reps`` runs; CPU seconds are printed beside wall seconds because the
machine is shared (its wall times are noisy, its CPU times much less so).

Sections: REF-1 as a user runs it (``latsim run ref1.yaml --json --quiet``, the whole process),
the engine alone (build, run and results, no start-up nor loading), the 200-client shape of REF-1,
REF-1x12 (queues form), the slow 200-client workload for 1 h and 24 h simulated (peak memory,
requests per second), start-up (``--help``, ``--version``, ``validate``), outputs (``run --out``,
``report``), loading a 2 MB scenario (JSON and YAML), and the large-topology figures
(2 000 services: a 60 s simulation, compile, matrix).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE = ROOT.parent / "shared" / "bench" / "naive_simpy.py"
# the `latsim` script beside this Python (as a user runs it), else the module
_SCRIPT = Path(sys.executable).with_name("latsim")
LATSIM = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "latsim"]
sys.path.insert(0, str(HERE))


# --- one process, measured ------------------------------------------------------------------------

# Children run with compiled bytecode, as an installed package does (pip byte-compiles what it
# installs): a shell that sets PYTHONDONTWRITEBYTECODE would make every latsim process compile its
# ~60 modules again (0.2 s of CPU each), which a user never pays. The cache lives in a temporary
# directory (``main`` fills it before measuring), never in the source tree.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

def engine_build() -> str:
    """Which build of the engine the measured processes run (asked of a child: importing latsim here
    would add to every child's peak memory, which Linux carries over exec)."""
    out = subprocess.run([sys.executable, "-c", "from latsim import native; print(native.describe())"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "the engine's build unknown"


def use_compiled_bytecode(tmp: Path) -> None:
    """Children from now on keep their bytecode under ``tmp`` (``CHILD_ENV``), latsim's compiled first,
    then everything a run with its outputs imports (numpy, pydantic, matplotlib, pyarrow...): with a
    prefix, Python looks for every module's bytecode there, so the first measured process would
    otherwise compile the libraries' too (about 1 s more for `--quick`'s single REF-1 run)."""
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    run_process([sys.executable, "-m", "compileall", "-q", str(ROOT / "latsim")])
    run_process([*LATSIM, "run", str(ROOT / "scenarios" / "quickstart.yaml"), "--out", str(tmp / "warm-up"),
                 "--quiet"])


def run_process(cmd: list[str], cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``cmd``; its wall time, CPU time (user + system, its own and its children's), peak RSS."""
    busy0 = _busy_seconds()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=CHILD_ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode not in (0, 1):  # 1: an SLO breached, still a run
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    # CPU seconds that other processes used meanwhile (the machine's busy time minus this one's)
    busy1 = _busy_seconds()
    others = busy1 - busy0 - cpu if busy0 is not None and busy1 is not None else float("nan")
    return {"wall": wall, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024.0, "stdout": stdout, "others": others}


def _busy_seconds() -> float | None:
    """CPU seconds every CPU has spent busy since boot (/proc/stat), None where unknown."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def child(kind: str, args: list[str]) -> dict[str, Any]:
    """Runs inside a measured process: one in-process measurement, printed as JSON."""
    if kind == "engine":  # latsim's engine alone: build, run, results (no start-up, no loading)
        from latsim.engine.simulation import Simulation
        from latsim.scenario import load_scenario
        scn = load_scenario(args[0])
        c0, t0 = time.process_time(), time.perf_counter()
        sim = Simulation(scn, series=False)  # as `latsim run --json`: CloudWatch's minute, no report series
        result = sim.run()
        return {"requests": result.summary["requests"], "cpu": time.process_time() - c0,
                "wall": time.perf_counter() - t0, "events": sim.events_run}
    if kind == "reference":  # the reference model, timed as latsim's engine is (after its imports)
        import contextlib
        import importlib.util
        import io
        spec = importlib.util.spec_from_file_location("naive_simpy", REFERENCE)
        assert spec is not None and spec.loader is not None
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
        sys.argv = ["naive_simpy.py", *args]
        buf = io.StringIO()
        c0, t0 = time.process_time(), time.perf_counter()
        with contextlib.redirect_stdout(buf):
            ref.main()
        out = json.loads(buf.getvalue())
        return {"requests": out["requests_completed"], "cpu": time.process_time() - c0,
                "wall": time.perf_counter() - t0, "p50_ms": out["p50_ms"], "p99_ms": out["p99_ms"]}
    if kind == "load":  # a scenario file read and validated (after the imports)
        from latsim.scenario import load_scenario
        c0, t0 = time.process_time(), time.perf_counter()
        load_scenario(args[0])
        return {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0}
    if kind == "big":  # 2 000 services / 2 000 targets / 1 000 clients, simulated
        from latsim.engine.simulation import Simulation
        from latsim.scenario import scenario_from_data
        data = big_topology()
        for client in data["clients"]:
            client["arrival"] = {"poisson": float(args[1]) / len(data["clients"])}
        data["duration"] = f"{args[0]}s"
        scn = scenario_from_data(data)
        c0, t0 = time.process_time(), time.perf_counter()
        result = Simulation(scn).run()
        return {"requests": result.summary["requests"], "cpu": time.process_time() - c0,
                "wall": time.perf_counter() - t0}
    if kind == "compile":
        from latsim.analysis.matrix import compute_matrix
        from latsim.compile import Topology
        from latsim.scenario import scenario_from_data
        data = big_topology()
        c0 = time.process_time()
        scn = scenario_from_data(data)
        c1 = time.process_time()
        topo = Topology(scn)
        c2 = time.process_time()
        m = compute_matrix(topo)
        c3 = time.process_time()
        return {"validate_s": c1 - c0, "compile_s": c2 - c1, "matrix_s": c3 - c2, "cells": m.stats()["cells"]}
    if kind == "inputs":  # the generated scenarios, written by a child: the parent stays small
        write_inputs(Path(args[0]))
        return {}
    raise SystemExit(f"unknown child {kind}")


def measured_child(kind: str, *args: str) -> dict[str, Any]:
    r = run_process([sys.executable, __file__, "--child", kind, *args])
    out = json.loads(r["stdout"].strip().splitlines()[-1])
    out["peak_mb"] = r["peak_mb"]
    out["process_cpu"], out["process_wall"] = r["cpu"], r["wall"]
    return out


def big_topology() -> dict[str, Any]:
    from matrix_bench import topology
    return _wrap_addresses(topology(n_clients=1000, n_services=2000, n_vpcs=500))


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


# --- medians of interleaved runs ------------------------------------------------------------------

def interleaved(runs: dict[str, Any], reps: int, *, alone: bool = False) -> dict[str, dict[str, float]]:
    """Run every measurement ``reps`` times, one of each in turn; the median of each figure.
    ``alone``: keep only rounds during which no other process used the CPU (on a shared machine
    another agent's work stretches a whole process's wall time); up to 10x ``reps`` rounds are
    tried, and all of them are kept if fewer than ``reps`` were alone."""
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    tried: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    for _ in range(10 * reps if alone else reps):
        got = {name: fn() for name, fn in runs.items()}
        for name, r in got.items():
            tried[name].append(r)
        # a tick of /proc/stat is 10 ms: up to 5 % of the wall time (or 2 ticks) is noise
        if not alone or not any(r.get("others", 0.0) > 0.05 * r.get("wall", 0.0) + 0.02 for r in got.values()):
            for name, r in got.items():
                samples[name].append(r)
        if len(samples[next(iter(runs))]) >= reps:
            break
    if alone:
        kept = len(samples[next(iter(runs))])
        print(f"  ({kept} of {len(tried[next(iter(runs))])} rounds ran alone"
              + (f"; fewer than {reps}: every round counted)" if kept < reps else ")"))
        if kept < reps:
            samples = tried
    out = {}
    for name, rows in samples.items():
        keys = [k for k, v in rows[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out[name] = {k: statistics.median(r[k] for r in rows) for k in keys}
    return out


def ratio_line(label: str, a: dict[str, float], b: dict[str, float], requests: float, goal: str = "") -> None:
    """latsim (a) against the reference (b), same work: wall and CPU seconds, their ratios."""
    print(f"  {label:34}{a['wall']:>8.2f} s wall {a['cpu']:>7.2f} s CPU | reference {b['wall']:>7.2f} s wall "
          f"{b['cpu']:>7.2f} s CPU | ratio {b['wall'] / a['wall']:.2f}x wall, {b['cpu'] / a['cpu']:.2f}x CPU"
          f"{goal} | {requests / a['cpu']:,.0f} req/CPU s")


INPUTS = {"many": "many.json", "slow1h": "slow1h.json", "slow24h": "slow24h.json", "ref1x12": "ref1x12.json",
          "big_json": "big.json", "big_yaml": "big.yaml"}


def write_inputs(tmp: Path) -> None:
    import yaml as pyyaml

    from make_ref1 import ref1_many
    for name, data in (("many", ref1_many()), ("slow1h", ref1_many(0.5, "3600s")),
                       ("slow24h", ref1_many(0.5, "86400s")), ("ref1x12", _ref1x12())):
        (tmp / INPUTS[name]).write_text(json.dumps(data))
    big = big_topology()
    (tmp / INPUTS["big_json"]).write_text(json.dumps(big))
    (tmp / INPUTS["big_yaml"]).write_text(pyyaml.safe_dump(big, sort_keys=False))


def _ref1x12() -> dict[str, Any]:
    from make_ref1 import ref1
    return ref1(rate=24000.0, duration="60s")


def startup(tmp: Path, reps: int, alone: bool = False) -> None:
    """Start-up and outputs: --help, --version, validate, run, run --out, report, report --redraw
    (the quickstart; whole processes, medians of at least 3)."""
    quick = str(ROOT / "scenarios" / "quickstart.yaml")
    out_dir = tmp / "quickstart-run"
    st = interleaved({
        "--help": lambda: run_process([*LATSIM, "--help"]),
        "--version": lambda: run_process([*LATSIM, "--version"]),
        "validate": lambda: run_process([*LATSIM, "validate", quick]),
        "run": lambda: run_process([*LATSIM, "run", quick, "--json", "--quiet"]),
        "run --out": lambda: run_process([*LATSIM, "run", quick, "--quiet", "--out", str(out_dir)]),
        "report": lambda: run_process([*LATSIM, "report", str(out_dir)]),  # reuses the run's figures
        "report --redraw": lambda: run_process([*LATSIM, "report", str(out_dir), "--redraw"]),
    }, max(reps, 3), alone=alone)
    print("\nstart-up and outputs (quickstart; whole processes)")
    goals = {"--help": "<= 0.3 s", "--version": "<= 0.3 s", "validate": "<= 0.6 s",
             "run --out": f"<= 2x run = {2 * st['run']['wall']:.2f} s", "report": "<= 2 s", "run": "",
             "report --redraw": "(every figure drawn again)"}
    for name, r in st.items():
        print(f"  latsim {name:18}{r['wall']:>6.2f} s wall {r['cpu']:>6.2f} s CPU {r['peak_mb']:>5.0f} MB"
              f"   {goals[name]}")
    print(f"  run --out / run: {st['run --out']['wall'] / st['run']['wall']:.2f}x wall, "
          f"{st['run --out']['cpu'] / st['run']['cpu']:.2f}x CPU")


def slow(paths: dict[str, Path], ref1_yaml: str, reps: int, quick: bool) -> None:
    """The slow workload (200 clients x 0.5 req/s) for 1 h and 24 h simulated: peak memory, and
    its requests per CPU second against REF-1's, each 24 h run interleaved with a REF-1 run of
    the same kind (the engine alone, then whole `latsim run` processes as the issue measured
    both): a shared machine's speed drifts by 10-20 % over the minutes a 24 h run takes, and
    REF-1 measured minutes earlier was not the same machine."""
    print("\nslow workload: 200 clients x 0.5 req/s (100 req/s), engine alone")
    s1 = measured_child("engine", str(paths["slow1h"]))
    print(f"  1 h simulated:  {s1['requests']:>10,.0f} requests, {s1['requests'] / s1['cpu']:>9,.0f} req/CPU s, "
          f"peak {s1['peak_mb']:.0f} MB")
    if quick:
        return
    e = interleaved({"slow24h": lambda: measured_child("engine", str(paths["slow24h"])),
                     "ref1": lambda: measured_child("engine", ref1_yaml)}, reps)
    s24, r1 = e["slow24h"], e["ref1"]
    rate24, rate_ref1 = s24["requests"] / s24["cpu"], r1["requests"] / r1["cpu"]
    print(f"  24 h simulated: {s24['requests']:>10,.0f} requests, {rate24:>9,.0f} req/CPU s, "
          f"peak {s24['peak_mb']:.0f} MB (medians of {reps}, each beside a REF-1 engine run: {rate_ref1:,.0f} "
          "req/CPU s)")
    print(f"  peak memory 24 h / 1 h: {s24['peak_mb'] / s1['peak_mb']:.2f} (goal <= 1.2); req/CPU s "
          f"{rate24 / rate_ref1:.0%} of REF-1's engine (goal >= 80 %)")
    # as the issue measured both ("the 24 h run runs at 84 000 requests per second", REF-1
    # "8.4 s"): whole `latsim run FILE --json --quiet` processes, start-up and loading included
    w = interleaved({"slow24h": lambda: run_process([*LATSIM, "run", str(paths["slow24h"]), "--json", "--quiet"]),
                     "ref1": lambda: run_process([*LATSIM, "run", ref1_yaml, "--json", "--quiet"])}, reps)
    n24, n1 = s24["requests"], r1["requests"]  # the same scenarios and seeds as the engine runs
    w24, w1 = w["slow24h"], w["ref1"]
    print(f"  whole process: 24 h {n24 / w24['wall']:,.0f} req/s wall, {n24 / w24['cpu']:,.0f} req/CPU s; "
          f"REF-1 {n1 / w1['wall']:,.0f} req/s wall, {n1 / w1['cpu']:,.0f} req/CPU s: "
          f"{(n24 / w24['wall']) / (n1 / w1['wall']):.0%} wall, {(n24 / w24['cpu']) / (n1 / w1['cpu']):.0%} CPU "
          "(goal >= 80 %)")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":  # a measured child (its arguments may look like options)
        print(json.dumps(child(sys.argv[2], sys.argv[3:])))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one run each, no 24 h slow workload, no large topology")
    ap.add_argument("--reps", type=int, default=3, help="interleaved runs per figure (median; default 3)")
    ap.add_argument("--only", choices=["startup", "slow"], help="run one block alone: 'startup' = start-up and "
                    "outputs, 'slow' = the slow workload (each 24 h run beside a REF-1 run)")
    ap.add_argument("--alone", action="store_true", help="start-up block: count only rounds during which no other "
                    "process used the CPU (a shared machine)")
    args = ap.parse_args()
    reps = 1 if args.quick else args.reps
    if not REFERENCE.exists():
        raise SystemExit(f"the reference model is missing: {REFERENCE}")
    ref1_yaml = str(HERE / "ref1.yaml")
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        use_compiled_bytecode(tmp)
        if args.only == "startup":
            print(f"start-up and outputs alone; medians of {max(reps, 3)} interleaved runs, {os.cpu_count()} cores, "
                  f"load {os.getloadavg()[0]:.1f}; {engine_build()}")
            startup(tmp, reps, args.alone)
            return
        # written by a child process: Linux carries a process's peak RSS over exec, so a large
        # parent would inflate every measured child's peak memory
        run_process([sys.executable, __file__, "--child", "inputs", str(tmp)])
        paths = {name: tmp / file for name, file in INPUTS.items()}
        if args.only == "slow":
            print(f"the slow workload alone; medians of {reps} interleaved runs, {os.cpu_count()} cores, load "
                  f"{os.getloadavg()[0]:.1f}; {engine_build()}")
            slow(paths, ref1_yaml, reps, args.quick)
            return
        print(f"REF-1 (600 s simulated, 2 000 req/s) against {REFERENCE.relative_to(ROOT.parent)}; "
              f"medians of {reps} interleaved run(s), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
              f"{engine_build()}\n")
        m = interleaved({
            "latsim": lambda: run_process([*LATSIM, "run", ref1_yaml, "--json", "--quiet"]),
            "reference": lambda: run_process([sys.executable, str(REFERENCE), "--sim-seconds", "600"]),
            "many": lambda: run_process([*LATSIM, "run", str(paths["many"]), "--json", "--quiet"]),
            "engine": lambda: measured_child("engine", ref1_yaml),
            "ref_engine": lambda: measured_child("reference", "--sim-seconds", "600"),
        }, reps)
        requests = m["ref_engine"]["requests"]
        print("whole process (`latsim run FILE --json --quiet` against `python naive_simpy.py`)")
        ratio_line("REF-1", m["latsim"], m["reference"], requests, " (goal >= 3.5x, aim 5x)")
        ratio_line("REF-1 as 200 clients", m["many"], m["reference"], requests, " (goal >= 3.5x)")
        print(f"  peak memory: latsim {m['latsim']['peak_mb']:.0f} MB, 200 clients {m['many']['peak_mb']:.0f} MB, "
              f"reference {m['reference']['peak_mb']:.0f} MB")
        print("engine alone (build, run, results; the reference's model build, run and statistics)")
        ratio_line("REF-1", m["engine"], m["ref_engine"], m["engine"]["requests"])
        print(f"  SimPy events per request: latsim {m['engine']['events'] / m['engine']['requests']:.2f} "
              f"(arrivals handled inline count as one)")

        x12 = interleaved({"latsim": lambda: measured_child("engine", str(paths["ref1x12"])),
                           "reference": lambda: measured_child("reference", "--sim-seconds", "60",
                                                               "--load-scale", "12")}, reps)
        print("\nREF-1x12 (24 000 req/s, 60 s: queues form), engine alone")
        ratio_line("REF-1x12", x12["latsim"], x12["reference"], x12["latsim"]["requests"])

        slow(paths, ref1_yaml, reps, args.quick)

        startup(tmp, reps, args.alone)

        size = paths["big_json"].stat().st_size / 1e6
        ld = interleaved({"json": lambda: measured_child("load", str(paths["big_json"])),
                          "yaml": lambda: measured_child("load", str(paths["big_yaml"]))}, reps)
        print(f"\nloading a {size:.1f} MB scenario (2 000 services, 1 000 clients; read and validated)")
        print(f"  JSON {ld['json']['wall']:.2f} s wall {ld['json']['cpu']:.2f} s CPU (goal <= 1 s)")
        print(f"  YAML {ld['yaml']['wall']:.2f} s wall {ld['yaml']['cpu']:.2f} s CPU (goal <= 3 s)")

        if not args.quick:
            large = measured_child("big", "60", "5000")
            print(f"\n2 000 services / 2 000 targets / 1 000 clients simulated, 60 s at 5 000 req/s: "
                  f"{large['requests']:,} requests in {large['wall']:.1f} s wall {large['cpu']:.1f} s CPU "
                  f"(build, run and results), peak {large['peak_mb']:.0f} MB")
            cm = measured_child("compile")
            print(f"2 000 services / 500 VPCs / 1 000 clients: validate {cm['validate_s']:.2f} s, compile "
                  f"{cm['compile_s']:.2f} s (target < 2 s), matrix {cm['matrix_s']:.2f} s for {cm['cells']:,} "
                  f"cells (target < 30 s), CPU")
    import auth_decision  # the auth decision's own time (moved out of the tests: no clock in a verdict)
    auth_decision.main()


if __name__ == "__main__":
    main()
