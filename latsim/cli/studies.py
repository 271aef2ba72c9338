"""``latsim sweep``, ``latsim compare`` and ``latsim canary-stats``: what-if studies from the shell.

Every option can also be written in the scenario's ``study:`` section (``params``, ``replications``,
``design``, ``metrics``, ``seed``, ``duration``, ``ci_target``, ``max_replications``, ``find_min``,
``jobs``, ``dask``, ``out``); the command line wins (any ``--param`` replaces the section's
``params`` as a whole). Exit codes: 0 done, 1 some runs failed (or
``--find-min`` found no value), 2 a mistake in the scenario or the options, 130 interrupted
(the finished runs are kept: continue with ``--resume``).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from latsim.cli.common import FileArg, OverlayOpt, err, handle_errors, out
from latsim.errors import UsageError

ParamOpt = Annotated[list[str] | None, typer.Option(
    "--param", "-p", help="PATH=VALUES to sweep (repeatable): a list '2,4,8', a range '2..16:2' or a scale "
                          "'x0.5,x1,x2' of the scenario's value.")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-r", help="Replications per design point "
                                             "(independent seeds, shared across points). Default 5.")]
MetricOpt = Annotated[list[str] | None, typer.Option(
    "--metric", "-m", help="Summary path to measure (repeatable), e.g. services.NAME.RequestTime.p99, "
                           "clients.NAME.failed, services.NAME.error_rate, slo.ok.")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", help="Local worker processes (default: the number "
                                             "of cores; 1 runs in this process).")]
DaskOpt = Annotated[str | None, typer.Option("--dask", help="Run on Dask: 'local' (a LocalCluster of 2 "
                                             "workers) or a scheduler address tcp://host:8786.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Study directory: results.jsonl (each run as "
                                             "it finishes), runs.csv, aggregate.csv, plots/.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue the study in --out, skipping finished runs.")]
DurationOpt = Annotated[str | None, typer.Option("--duration", help="Override the simulated duration, e.g. 30s.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Study seed (default: the scenario's seed).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result table as JSON.")]
DesignOpt = Annotated[str | None, typer.Option("--design", help="grid (default), random:K or latin:K.")]


def _load(file: Path, overlays: list[Path] | None) -> tuple[dict[str, Any], Any, str]:
    from latsim.errors import Location, Problem, ScenarioError
    from latsim.scenario import load_data, merge_overlay

    data, pos = load_data(file)
    if not isinstance(data, dict):
        raise ScenarioError([Problem("a scenario is a mapping of sections", Location(str(file)))])
    for ov in overlays or []:
        odata, _ = load_data(ov)
        if not isinstance(odata, dict):
            raise ScenarioError([Problem("an overlay is a mapping of sections", Location(str(ov)))])
        data = merge_overlay(data, odata)
    return data, pos, str(file.resolve().parent)


def _section(data: dict[str, Any]) -> dict[str, Any]:
    s = data.get("study")
    return s if isinstance(s, dict) else {}


def _executor(jobs: int | None, dask: str | None, section: dict[str, Any]) -> Any:
    from latsim.studies.executors import make_executor

    if jobs is None and isinstance(section.get("jobs"), int):
        jobs = section["jobs"]
    if dask is None and isinstance(section.get("dask"), str):
        dask = section["dask"]
    return make_executor(jobs=jobs, dask=dask)


def _out_dir(out_dir: Path | None, section: dict[str, Any], file: Path) -> Path | None:
    if out_dir is not None:
        return out_dir
    if isinstance(section.get("out"), str):
        return file.resolve().parent / section["out"]
    return None


def _interrupted(out_dir: Path | None) -> typer.Exit:
    if out_dir is not None:
        err.print(f"interrupted: finished runs are kept in {out_dir / 'results.jsonl'}; continue with --resume",
                  markup=False)
    else:
        err.print("interrupted (use --out DIR to keep finished runs and --resume to continue)", markup=False)
    return typer.Exit(130)


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


@handle_errors
def sweep(
    file: FileArg,
    param: ParamOpt = None,
    replications: RepsOpt = None,
    design: DesignOpt = None,
    metric: MetricOpt = None,
    jobs: JobsOpt = None,
    dask: DaskOpt = None,
    out_dir: OutOpt = None,
    resume: ResumeOpt = False,
    duration: DurationOpt = None,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    find_min: Annotated[str | None, typer.Option("--find-min", help="Report the smallest swept value of this "
                                                 "PATH at which the criterion holds (needs --slo).")] = None,
    slo: Annotated[bool, typer.Option("--slo", help="With --find-min: every SLO of the scenario holds (95% CI "
                                      "of each bound within its limit).")] = False,
    ci_target: Annotated[str | None, typer.Option("--ci-target", help="Add replications until the 95% CI "
                                                  "half-width of the first metric is below this (e.g. 2, or 5% "
                                                  "of the mean).")] = None,
    max_replications: Annotated[int | None, typer.Option("--max-replications", help="Upper bound for "
                                                         "--ci-target (default 50).")] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
    parquet: Annotated[bool, typer.Option("--parquet", help="Also write runs.parquet (needs pyarrow).")] = False,
    overlay: OverlayOpt = None,
) -> None:
    """Run a scenario over a design of parameter values × replications; print mean and 95% CI per
    point and metric; exit 1 if runs failed."""
    from latsim.studies.findmin import find_min as find_minimum
    from latsim.studies.study import StudyOptions, build_study, run_study
    from latsim.studies.study_dir import aggregate_columns, write_json, write_plots, write_tables

    data, pos, base_dir = _load(file, overlay)
    section = _section(data)
    options = StudyOptions(params=param, replications=replications, design=design, metrics=metric, seed=seed,
                           duration=duration, ci_target=ci_target, max_replications=max_replications,
                           find_min=find_min, slo=slo)
    study = build_study(data, pos, source=str(file), options=options, base_dir=base_dir)
    directory = _out_dir(out_dir, section, file)
    if resume and directory is None:
        raise UsageError("--resume needs --out DIR (the study directory to continue)")
    executor = _executor(jobs, dask, section)
    try:
        result = run_study(study, executor, out_dir=directory, resume=resume, quiet=quiet or as_json)
    except KeyboardInterrupt:
        raise _interrupted(directory) from None
    finally:
        executor.close()
    answer = find_minimum(result, study.find_min) if study.find_min else None
    if directory is not None:
        write_tables(result, directory, parquet=parquet)
        if not no_plots:
            write_plots(result, directory)
        if answer is not None:
            write_json(directory / "find_min.json", answer)
    rows = result.aggregate()
    if as_json:
        sys.stdout.write(json.dumps({"aggregate": [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                                    for k, v in r.items()} for r in rows],
                                     "find_min": answer}, indent=2, default=str) + "\n")
    elif not quiet:
        _print_aggregate(rows, aggregate_columns(study.columns), study.columns)
        if directory is not None:
            out.print(f"wrote {directory}/", markup=False)
    if answer is not None and not as_json:
        _print_find_min(answer)
    _report_errors(result)
    if result.errors or (answer is not None and any(g["min_value"] is None for g in answer["groups"])):
        raise typer.Exit(1)


def short_names(names: list[str], min_segments: int = 2) -> dict[str, str]:
    """Each dotted name -> its shortest suffix (of at least ``min_segments`` segments) that no other
    name ends with, so that a table column stays narrow and nothing is cut in the middle."""
    out: dict[str, str] = {}
    for name in names:
        parts = name.split(".")
        for k in range(min(min_segments, len(parts)), len(parts) + 1):
            tail = ".".join(parts[-k:])
            if not any(o != name and (o == tail or o.endswith("." + tail)) for o in names):
                out[name] = tail
                break
        else:
            out[name] = name
    return out


def _print_aggregate(rows: list[dict[str, Any]], columns: list[str], params: list[str], limit: int = 200) -> None:
    from latsim.studies.design import label

    metrics = list(dict.fromkeys(str(r["metric"]) for r in rows))
    short = short_names(params + metrics, min_segments=1)
    short.update(short_names(metrics))
    t = Table(title="mean and 95% CI per design point", title_justify="left")
    t.add_column("point", justify="right", no_wrap=True)
    for p in params:
        t.add_column(short[p], overflow="fold")
    t.add_column("metric", no_wrap=True, min_width=max((len(short[m]) for m in metrics), default=6))
    for c in ("n", "mean"):
        t.add_column(c, justify="right", no_wrap=True)
    t.add_column("95% CI", no_wrap=True)
    for r in rows[:limit]:
        ci = f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]"
        t.add_row(str(r["point"]), *[label(r[p]) for p in params], short[str(r["metric"])], str(r["n"]),
                  _num(r["mean"]), ci)
    out.print(t)
    legend = [(short[n], n) for n in params + metrics if short[n] != n]
    for s, n in legend:  # whole names, never cut: a legend line each
        out.print(f"  {s} = {n}", markup=False, soft_wrap=True)
    if len(rows) > limit:
        out.print(f"... {len(rows) - limit} more rows in aggregate.csv", markup=False)


def _print_find_min(answer: dict[str, Any]) -> None:
    from latsim.studies.design import label

    for g in answer["groups"]:
        fixed = ", ".join(f"{k}={v}" for k, v in g["fixed"].items())
        where = f" (with {fixed})" if fixed else ""
        if g["min_value"] is None:
            out.print(f"find-min {answer['param']}{where}: no swept value meets every SLO", markup=False)
        else:
            out.print(f"find-min {answer['param']}{where}: {label(g['min_value'])}", markup=False)


def _report_errors(result: Any) -> None:
    errors = result.errors
    if errors:
        first = errors[0]
        err.print(f"{len(errors)} run{'s' if len(errors) != 1 else ''} failed; first: point {first['point']} "
                  f"replication {first['replication']}: {first['error']}", style="red", markup=False)


@handle_errors
def compare(
    file_a: Annotated[Path, typer.Argument(help="Scenario A (the baseline).", show_default=False)],
    file_b: Annotated[Path, typer.Argument(help="Scenario B (the change).", show_default=False)],
    replications: Annotated[int, typer.Option("--replications", "-r", min=2,
                                              help="Replications; replication r of A and B share a seed.")] = 10,
    metric: MetricOpt = None,
    jobs: JobsOpt = None,
    dask: DaskOpt = None,
    out_dir: OutOpt = None,
    resume: ResumeOpt = False,
    duration: DurationOpt = None,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    no_crn: Annotated[bool, typer.Option("--no-crn", help="Independent seeds for B (to see what common random "
                                         "numbers buy).")] = False,
) -> None:
    """Paired differences B − A per metric with 95% CIs (common random numbers)."""
    from latsim.studies.compare import COLUMNS
    from latsim.studies.compare import compare as run_compare
    from latsim.studies.study_dir import csv_text

    a_data, _, a_dir = _load(file_a, None)
    b_data, _, b_dir = _load(file_b, None)
    if resume and out_dir is None:
        raise UsageError("--resume needs --out DIR")
    executor = _executor(jobs, dask, {})
    try:
        cmp = run_compare((a_data, a_dir, file_a.name), (b_data, b_dir, file_b.name), replications=replications,
                          metrics=metric, seed=seed, duration=duration, crn=not no_crn, executor=executor,
                          out_dir=out_dir, resume=resume, quiet=quiet or as_json)
    except KeyboardInterrupt:
        raise _interrupted(out_dir) from None
    finally:
        executor.close()
    rows = cmp.rows()
    if out_dir is not None:
        from latsim.atomic_write import atomic_write_text

        atomic_write_text(out_dir / "compare.csv", csv_text(rows, COLUMNS))
    if as_json:
        sys.stdout.write(json.dumps([{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                      for k, v in r.items()} for r in rows], indent=2) + "\n")
    elif not quiet:
        t = Table(title=f"B − A: {file_b.name} − {file_a.name} ({replications} paired replications)",
                  title_justify="left")
        for c in ("metric", "A", "B", "B − A", "95% CI", ""):
            t.add_column(c, justify="left" if c in ("metric", "95% CI", "") else "right")
        for r in rows:
            t.add_row(r["metric"], _num(r["mean_a"]), _num(r["mean_b"]), _num(r["diff"]),
                      f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]", "differs" if r["significant"] else "")
        out.print(t)
    _report_errors(cmp.result)
    if cmp.result.errors:
        raise typer.Exit(1)


@handle_errors
def canary_stats(
    file: FileArg,
    replications: Annotated[int, typer.Option("--replications", "-r", min=1, help="Replications per point.")] = 20,
    param: ParamOpt = None,
    design: DesignOpt = None,
    jobs: JobsOpt = None,
    dask: DaskOpt = None,
    out_dir: OutOpt = None,
    resume: ResumeOpt = False,
    duration: DurationOpt = None,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    overlay: OverlayOpt = None,
) -> None:
    """Probability of promotion and rollback, time to decision and requests served before a
    rollback of the scenario's canaries, over many replications (optionally swept)."""
    from latsim.studies.canary_stats import COLUMNS, canary_rows, canary_study
    from latsim.studies.study import StudyOptions, run_study
    from latsim.studies.study_dir import csv_text, write_tables

    data, pos, base_dir = _load(file, overlay)
    options = StudyOptions(params=param, replications=replications, design=design, seed=seed, duration=duration)
    study = canary_study(data, pos, source=str(file), base_dir=base_dir, options=options)
    if resume and out_dir is None:
        raise UsageError("--resume needs --out DIR")
    executor = _executor(jobs, dask, {})
    try:
        result = run_study(study, executor, out_dir=out_dir, resume=resume, quiet=quiet or as_json)
    except KeyboardInterrupt:
        raise _interrupted(out_dir) from None
    finally:
        executor.close()
    rows = canary_rows(result)
    columns = ["point", *study.columns, *COLUMNS]
    if out_dir is not None:
        from latsim.atomic_write import atomic_write_text

        write_tables(result, out_dir)
        atomic_write_text(out_dir / "canary_stats.csv", csv_text(rows, columns))
    if as_json:
        sys.stdout.write(json.dumps([{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                      for k, v in r.items()} for r in rows], indent=2, default=str) + "\n")
    elif not quiet:
        from latsim.studies.design import label

        t = Table(title=f"canary outcomes over {replications} replications", title_justify="left")
        for c in ["point", *study.columns, "canary", "runs", "P(promote) [95% CI]", "P(rollback) [95% CI]",
                  "decision s", "served before rollback"]:
            t.add_column(c)
        for r in rows:
            t.add_row(str(r["point"]), *[label(r[c]) for c in study.columns], r["canary"], str(r["runs"]),
                      f"{_num(r['p_promote'])} [{_num(r['p_promote_low'])}, {_num(r['p_promote_high'])}]",
                      f"{_num(r['p_rollback'])} [{_num(r['p_rollback_low'])}, {_num(r['p_rollback_high'])}]",
                      _num(r["t_decision_mean_s"]), _num(r["requests_before_rollback_mean"]))
        out.print(t)
    _report_errors(result)
    if result.errors:
        raise typer.Exit(1)
