"""``latsim run``: simulate a scenario and print (or write) what happened."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from latsim.cli.common import FileArg, OverlayOpt, err, handle_errors, load, out
from latsim.units import parse_duration

EXIT_EMPTY = 3
"""``latsim run``'s exit code when nothing was simulated (no clients, or no request sent)."""


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    from latsim.errors import UsageError
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--duration: {exc}") from None


@handle_errors
def run(
    file: FileArg,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the scenario's seed.")] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="Override the duration, e.g. 30s, 5m.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write summary.json, metrics, plots and "
                                                 "report.html to this directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no table.")] = False,
    overlay: OverlayOpt = None,
    access_logs: Annotated[bool, typer.Option("--access-logs", help="Write Lattice access logs for every "
                                              "service (needs --out).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Run even if the estimated size is over the limit.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="With --out: skip plots and report.html.")] = False,
    traces: Annotated[str | None, typer.Option("--traces", metavar="RATE", help="With --out: write sampled "
                                               "request traces (OpenTelemetry OTLP/JSON) to DIR/traces/"
                                               "traces.otlp.json; RATE a fraction (0.05) or a percentage "
                                               "(5%) of entry requests.")] = None,
    workload: Annotated[str | None, typer.Option("--workload", help="'auto': add one client per associated VPC "
                                                 "and AZ calling every service it can resolve.")] = None,
    rate: Annotated[str | None, typer.Option("--rate", help="Rate of each --workload auto client (default "
                                             "10/s).")] = None,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Exit 0 even if the scenario has no clients "
                                              "or sent no request (else exit 3).")] = False,
) -> None:
    """Simulate a scenario; exit 1 if an SLO is breached."""
    painter = _take_early_painter()
    if painter is None and out_dir is not None and not no_report:
        # forked first: the drawing process imports matplotlib (0.25 s) while this one loads the
        # scenario, then draws the topology while this one simulates
        from latsim.figures import Painter
        painter = Painter()
    elif painter is not None and (out_dir is None or no_report):
        painter.close()  # forked for nothing (the command line said otherwise on a closer reading)
        painter = None
    try:
        _run(file, seed, duration, out_dir, as_json, quiet, overlay, access_logs, force, no_report, traces, workload,
             rate, allow_empty, painter)
    finally:
        if painter is not None:
            painter.close()


def _run(file: Path, seed: int | None, duration: str | None, out_dir: Path | None, as_json: bool, quiet: bool,
         overlay: Any, access_logs: bool, force: bool, no_report: bool, traces: str | None, workload: str | None,
         rate: str | None, allow_empty: bool, painter: Any) -> None:
    from latsim.estimate import check_size
    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = seed
    d = _duration(duration)
    if d is not None:
        overrides["duration"] = duration
    trace_rate = None
    if traces is not None:
        from latsim.errors import UsageError
        from latsim.metrics.traces import parse_rate
        trace_rate = parse_rate(traces)
        if out_dir is None:
            raise UsageError("--traces needs --out DIR (the traces go to DIR/traces/traces.otlp.json)")
    scn = load(file, overlay, **overrides)
    if workload is not None or rate is not None:
        from latsim.cli.importers import _workload
        from latsim.scenario import scenario_from_data
        from latsim.workload.auto import DEFAULT_RATE, with_auto_workload
        _workload(workload, rate)
        data = scn.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        scn = scenario_from_data(with_auto_workload(data, rate or DEFAULT_RATE))
    if not scn.clients and not allow_empty:
        err.print(f"{file}: the scenario has no clients, so nothing would be simulated; add clients with an "
                  "overlay or --workload auto (--allow-empty runs it anyway)", style="bold red", markup=False)
        raise typer.Exit(EXIT_EMPTY)
    check_size(scn, force=force)
    from latsim.run_dir import simulate_with_outputs
    watcher = _Watcher(scn.duration, show=not (quiet or as_json))
    result = simulate_with_outputs(scn, out_dir=out_dir, access_logs=access_logs, report=not no_report,
                                   source=file, traces=trace_rate, progress=watcher.progress,
                                   running=watcher.running, notify=watcher.notify, painter=painter)
    if as_json:
        sys.stdout.write(result.to_json())
    elif not quiet:
        print_summary(result)
        if out_dir is not None:
            out.print(f"wrote {out_dir}/", markup=False)
    from latsim.slo import only_4xx_warnings
    for warning in only_4xx_warnings(result.summary):
        err.print(f"warning: {warning}", style="yellow", markup=False)
    if result.summary.get("partial"):
        err.print(f"{result.summary['interrupted']}: SLOs not judged on a partial run", markup=False)
        raise typer.Exit(130)
    if not result.summary.get("requests") and not allow_empty:
        err.print(f"{file}: no request was sent in {scn.duration:g}s simulated (clients: "
                  f"{', '.join(c.name for c in scn.clients)}); --allow-empty accepts an empty run",
                  style="bold red", markup=False)
        raise typer.Exit(EXIT_EMPTY)
    if not result.slo_ok:
        if not as_json:
            err.print("SLO breached", style="bold red", markup=False)
        raise typer.Exit(1)


_EARLY: list[Any] = []  # the painter ``fork_painter_early`` forked, until ``run`` takes it


def fork_painter_early(argv: list[str]) -> None:
    """``latsim run ... --out DIR`` draws figures: fork their drawing process now, before typer
    reads the command line (0.1 s: it imports pydantic to convert options), so that it imports
    matplotlib (0.3 s with numpy) while this process gets to the scenario and loads it. Decided
    on the raw arguments, conservatively; ``run`` checks again and closes a painter it does not
    need, and a command that never gets to ``run`` (a usage error) closes it on the way out."""
    if draws_figures(argv):
        from latsim.figures import Painter
        try:
            _EARLY.append(Painter())
        except Exception:  # noqa: BLE001 - a bad LATSIM_PLOT_WORKERS, a failed fork: ``run`` makes its
            return  # own painter, where the same error is reported as the command's (exit 2, no traceback)


def draws_figures(argv: list[str]) -> bool:
    """Whether the command line ``latsim ARGV`` is a run that draws figures (``run`` with
    ``--out``, without ``--no-report`` or ``--help``), read as it is written."""
    if not argv or argv[0] != "run" or any(a in ("--no-report", "--help", "-h") for a in argv):
        return False
    return any(a == "--out" or a.startswith("--out=") for a in argv[1:])


def _take_early_painter() -> Any:
    return _EARLY.pop() if _EARLY else None


def close_early_painter() -> None:
    while _EARLY:
        _EARLY.pop().close()


class _Watcher:
    """What a user sees while a run goes: a progress bar on a terminal, else one 'simulating' line
    on stderr once the run has started; and the notes of the run (where the traces went)."""

    def __init__(self, duration: float, *, show: bool) -> None:
        self.show = show
        self.bar: Any = None
        self.progress: Any = None
        if show and sys.stdout.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
            bar = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.fields[t]}"),
                           TimeRemainingColumn(), console=err, transient=True)
            task = bar.add_task("run", total=duration, t="")

            def progress(t: float, until: float, sim: Any) -> None:
                n = sum(c.stats.sent + c.stats.ok for c in sim.clients.values())  # ok: the fast path's, settled at the end
                bar.update(task, completed=t, t=f"{t:.0f}/{until:.0f}s simulated, {n:,} requests")
            self.bar, self.progress = bar, progress

    @contextlib.contextmanager
    def running(self, sim: Any) -> Iterator[None]:
        if self.bar is not None:
            self.bar.start()
        done = _announce_start(sim) if self.show and self.bar is None else None
        try:
            yield
        finally:
            if done is not None:
                done.set()
            if self.bar is not None:
                self.bar.stop()

    def notify(self, text: str) -> None:
        if self.show:
            err.print(text, markup=False)


def _announce_start(sim: Any) -> threading.Event:
    """Without a terminal there is no progress bar: one line on stderr says the simulation is
    running (from then on Ctrl-C stops it and keeps a partial summary; scripts wait for the line).
    A daemon thread writes it once simulated time has moved, i.e. from inside the event loop and
    its KeyboardInterrupt handler; written before ``run()``, a Ctrl-C sent on seeing it could land
    before the handler. The thread only reads the clock and ends with the run."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            if sim.env.now > 0:
                sys.stderr.write(f"simulating {sim.duration:g}s of {sim.scn.name} "
                                 "(Ctrl-C stops it and keeps a partial summary)\n")
                sys.stderr.flush()
                return

    threading.Thread(target=watch, name="latsim-started", daemon=True).start()
    return done


def print_summary(result: Any) -> None:
    from latsim.results import cold_start_label, target_health_label
    s = result.summary
    span = s.get("interrupted") or f"{s['duration_s']:g}s simulated"
    out.print(f"[bold]{s['scenario']}[/bold]  seed {s['seed']}, {span} "
              f"(warm-up {s['warmup_s']:g}s), {s['requests']:,} requests")
    t = Table(title="services", title_justify="left")
    for col in ("service", "requests", "2xx", "4xx", "5xx", "timeouts", "p50 ms", "p99 ms", "max ms"):
        t.add_column(col, justify="right" if col != "service" else "left")
    for name, d in s["services"].items():
        rt = d["RequestTime"]
        t.add_row(name, f"{d['TotalRequestCount']:,}", f"{d['HTTPCode_2XX_Count']:,}", f"{d['HTTPCode_4XX_Count']:,}",
                  f"{d['HTTPCode_5XX_Count']:,}", f"{d['RequestTimeoutCount']:,}", _f(rt["p50"]), _f(rt["p99"]),
                  _f(rt["max"]))
    out.print(t)
    t = Table(title="target groups", title_justify="left")
    lambdas = any("cold_starts" in d for d in s["target_groups"].values())
    cols = ("target group", "requests", "5xx", "p50 ms", "p99 ms") + (("cold starts",) if lambdas else ()) + (
        "targets (requests, health)",)
    for col in cols:
        t.add_column(col, justify="left" if col in ("target group", "targets (requests, health)", "cold starts")
                     else "right")
    for name, d in s["target_groups"].items():
        rt = d["RequestTime"]
        tgt = ", ".join(f"{tid} {v['TotalRequestCount']:,} {target_health_label(d, v)}"
                        for tid, v in d["targets"].items())
        t.add_row(name, f"{d['TotalRequestCount']:,}", f"{d['HTTPCode_5XX_Count']:,}", _f(rt["p50"]), _f(rt["p99"]),
                  *((cold_start_label(d),) if lambdas else ()), tgt)
    out.print(t)
    t = Table(title="rules", title_justify="left")
    for col in ("rule", "hits", "split"):
        t.add_column(col)
    for key, d in s["rules"].items():
        hits = d["hits"]
        split = ", ".join(f"{tg} {n:,} ({100 * n / hits:.1f}%)" for tg, n in d["target_groups"].items()) if hits else ""
        t.add_row(key, f"{hits:,}", split)
    out.print(t)
    t = Table(title="clients", title_justify="left")
    for col in ("client", "requests", "sent", "retries", "ok", "failed", "status", "failures", "p50 ms", "p99 ms"):
        t.add_column(col)
    for name, d in s["clients"].items():
        rt = d["RequestTime"]
        t.add_row(name, f"{d['requests']:,}", f"{d['sent']:,}", f"{d['retries']:,}", f"{d['succeeded']:,}",
                  f"{d['failed']:,}", " ".join(f"{k}:{v:,}" for k, v in d["status"].items()),
                  " ".join(f"{k}:{v:,}" for k, v in d["failures"].items()), _f(rt["p50"]), _f(rt["p99"]))
    out.print(t)
    if "edges" in s:
        print_call_graph(s)
    for c in s.get("canary", []):
        steps = " -> ".join(f"{st['weight']}% {st['decision']}" for st in c["steps"])
        out.print(f"canary {c['name']}: {c['outcome']}  ({steps})", markup=False)
    if s.get("slo"):
        t = Table(title="SLOs", title_justify="left")
        for col in ("slo", "verdict", "checks"):
            t.add_column(col)
        for v in s["slo"]:
            checks = "; ".join(f"{c['metric']} {c['value']} (limit {c['limit']})" for c in v["checks"])
            verdict = ("[yellow]not judged (interrupted)[/yellow]" if v["ok"] is None
                       else "[green]met[/green]" if v["ok"] else "[red]breached[/red]")
            t.add_row(v["slo"], verdict, checks)
        out.print(t)
    if "cost" in s:
        c = s["cost"]
        out.print(f"estimated Lattice cost: ${c['monthly_usd']:,.2f}/month (us-east-1 prices of {c['prices_as_of']})",
                  markup=False)


def print_call_graph(s: dict[str, Any]) -> None:
    """The call edges (caller target group -> service) and the critical path of entry requests."""
    t = Table(title="call edges", title_justify="left")
    for col in ("caller -> service", "requests", "sent", "retries", "ok", "failed", "status", "failures",
                "p50 ms", "p99 ms"):
        t.add_column(col)
    for d in s["edges"].values():
        rt = d["RequestTime"]
        t.add_row(f"{d['caller']} -> {d['service']}", f"{d['requests']:,}", f"{d['sent']:,}", f"{d['retries']:,}",
                  f"{d['succeeded']:,}", f"{d['failed']:,}", " ".join(f"{k}:{v:,}" for k, v in d["status"].items()),
                  " ".join(f"{k}:{v:,}" for k, v in d["failures"].items()), _f(rt["p50"]), _f(rt["p99"]))
    out.print(t)
    if not s.get("critical_path"):
        return
    t = Table(title="critical path (mean per request after the warm-up)", title_justify="left")
    for col in ("client / request", "requests", "mean ms", "working ms", "waiting ms", "where the time goes"):
        t.add_column(col)
    for client, classes in s["critical_path"].items():
        for label, d in classes.items():
            top = ", ".join(f"{h['hop']} {h['kind']} {h['mean_ms']:.1f} ({100 * h['share']:.0f}%)"
                            for h in d["hops"][:4])
            t.add_row(f"{client} / {label}", f"{d['requests']:,}", _f(d["mean_ms"]), _f(d["working_ms"]),
                      _f(d["waiting_ms"]), top)
    out.print(t)


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"
