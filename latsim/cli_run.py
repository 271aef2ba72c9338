"""``latsim run``: simulate a scenario and print (or write) what happened."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from latsim.cli import FileArg, OverlayOpt, app, err, handle_errors, load, out
from latsim.units import parse_duration


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    from latsim.errors import UsageError
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--duration: {exc}") from None


@app.command()
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
) -> None:
    """Simulate a scenario; exit 1 if an SLO is breached."""
    from latsim.estimate import check_size
    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = seed
    d = _duration(duration)
    if d is not None:
        overrides["duration"] = duration
    scn = load(file, overlay, **overrides)
    check_size(scn, force=force)
    result = simulate_with_outputs(scn, out_dir=out_dir, access_logs=access_logs, quiet=quiet or as_json,
                                   report=not no_report, source=file)
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
    if not result.slo_ok:
        if not as_json:
            err.print("SLO breached", style="bold red", markup=False)
        raise typer.Exit(1)


def simulate_with_outputs(scn: Any, *, out_dir: Path | None = None, access_logs: bool = False, quiet: bool = True,
                          report: bool = True, source: Path | None = None) -> Any:
    """Run one scenario with the optional outputs of a run directory (``latsim.outputs.RunDir``)."""
    from latsim.outputs import RunDir
    run_dir = RunDir(out_dir) if out_dir is not None else None
    stage = run_dir.open() if run_dir is not None else None  # everything is written there, then swapped in
    try:
        return _simulate_into(scn, run_dir, stage, access_logs=access_logs, quiet=quiet, report=report,
                              source=source)
    finally:
        if run_dir is not None:
            run_dir.close()


def _simulate_into(scn: Any, run_dir: Any, stage: Path | None, *, access_logs: bool, quiet: bool, report: bool,
                   source: Path | None) -> Any:
    from latsim.engine.simulation import Simulation
    writer = None
    if stage is not None:
        if access_logs or (scn.access_logs is not None and scn.access_logs.enabled):
            from latsim.metrics.access_log import AccessLogWriter
            writer = AccessLogWriter.for_run(scn, stage, all_services=access_logs)
    progress = None
    bar = None
    if not quiet and sys.stdout.isatty():
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
        bar = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.fields[t]}"),
                       TimeRemainingColumn(), console=err, transient=True)
        task = bar.add_task("run", total=scn.duration, t="")
        bar.start()

        def progress(t: float, until: float, sim: Any) -> None:
            n = sum(c.stats.sent for c in sim.clients.values())
            bar.update(task, completed=t, t=f"{t:.0f}/{until:.0f}s simulated, {n:,} requests")
    try:
        sim = Simulation(scn, access_log=writer, progress=progress,
                         base_dir=str(source.parent) if source is not None else None)
        result = sim.run()
    finally:
        if bar is not None:
            bar.stop()
        if writer is not None:
            writer.close()
    if stage is not None:
        from latsim import __version__
        from latsim.outputs import write_run_dir
        write_run_dir(result, scn, stage, report=report)
        run_dir.commit({"latsim": __version__, "scenario": scn.name, "seed": scn.seed,
                        "partial": bool(result.summary.get("partial"))})
    return result


def print_summary(result: Any) -> None:
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
    for col in ("target group", "requests", "5xx", "p50 ms", "p99 ms", "targets (requests, health)"):
        t.add_column(col, justify="right" if col not in ("target group", "targets (requests, health)") else "left")
    for name, d in s["target_groups"].items():
        rt = d["RequestTime"]
        tgt = ", ".join(f"{tid} {v['TotalRequestCount']:,} {v['health'][-1][1] if v['health'] else ''}"
                        for tid, v in d["targets"].items())
        t.add_row(name, f"{d['TotalRequestCount']:,}", f"{d['HTTPCode_5XX_Count']:,}", _f(rt["p50"]), _f(rt["p99"]), tgt)
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


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"
