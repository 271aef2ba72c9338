"""Canary statistics: how a progressive canary behaves over many replications.

One run of a scenario with ``canaries:`` ends each canary ``promoted``, ``rolled_back``,
``completed`` (no promotion asked) or still ``running``. Over N replications (each its own seed,
shared across design points), per design point and canary:

- the probability of promoting and of rolling back, with Wilson 95 % intervals;
- the time to decision (seconds from the start of the run, over the runs that decided), mean
  and t-interval;
- the requests the canary served before a rollback (the sum of the observed request counts of
  its analysis steps, over the runs that rolled back), mean and t-interval.

Sweep the canary's own settings to see the trade-off, e.g.
``--param canaries.NAME.step_weight=5,10,20 --param canaries.NAME.checks.success_rate=99%,99.5%``.
``canary_statistics`` is the notebook entry point and returns a pandas DataFrame.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from latsim.errors import UsageError
from latsim.studies import stats
from latsim.studies.executors import Executor, make_executor
from latsim.studies.metrics import canary_requests
from latsim.studies.study import StudyOptions, StudyResult, build_study, run_study

COLUMNS = ["canary", "runs", "promoted", "completed", "rolled_back", "running",
           "p_promote", "p_promote_low", "p_promote_high", "p_rollback", "p_rollback_low", "p_rollback_high",
           "t_decision_mean_s", "t_decision_low_s", "t_decision_high_s", "requests_before_rollback_mean",
           "requests_before_rollback_low", "requests_before_rollback_high", "errors"]


def canary_names(data: dict[str, Any]) -> list[str]:
    return [str(c.get("name")) for c in data.get("canaries") or [] if isinstance(c, dict)]


def canary_metrics(names: list[str]) -> list[str]:
    """The per-run metrics a canary study records (also in runs.csv / aggregate.csv)."""
    out = []
    for n in names:
        out += [f"canary.{n}.promoted", f"canary.{n}.rolled_back", f"canary.{n}.t_decision_s",
                f"canary.{n}.canary_requests"]
    return out


def canary_rows(result: StudyResult) -> list[dict[str, Any]]:
    """One row per design point × canary (see COLUMNS), in point order."""
    rows = []
    names = canary_names(result.study.points[0].data) if result.study.points else []
    for p in result.study.points:
        recs = result.records_of(p.index)
        errors = sum(1 for r in recs if r.get("summary") is None)
        for name in names:
            found = [_record(r["summary"], name) for r in recs if r.get("summary") is not None]
            runs = [c for c in found if c is not None]
            outcomes = [c.get("outcome") for c in runs]
            promoted = [1.0 if o == "promoted" else 0.0 for o in outcomes]
            rolled = [1.0 if o == "rolled_back" else 0.0 for o in outcomes]
            p_prom, p_roll = stats.wilson(promoted), stats.wilson(rolled)
            t_dec = stats.t_interval([float(c["t_decision_ms"]) / 1000.0 for c in runs
                                      if c.get("t_decision_ms") is not None])
            served = stats.t_interval([float(canary_requests(c)) for c in runs if c.get("outcome") == "rolled_back"])
            rows.append({"point": p.index, **p.values, "canary": name, "runs": len(runs),
                         "promoted": outcomes.count("promoted"), "completed": outcomes.count("completed"),
                         "rolled_back": outcomes.count("rolled_back"), "running": outcomes.count("running"),
                         "p_promote": p_prom.mean, "p_promote_low": p_prom.ci_low, "p_promote_high": p_prom.ci_high,
                         "p_rollback": p_roll.mean, "p_rollback_low": p_roll.ci_low,
                         "p_rollback_high": p_roll.ci_high,
                         "t_decision_mean_s": t_dec.mean, "t_decision_low_s": t_dec.ci_low,
                         "t_decision_high_s": t_dec.ci_high,
                         "requests_before_rollback_mean": served.mean, "requests_before_rollback_low": served.ci_low,
                         "requests_before_rollback_high": served.ci_high, "errors": errors})
    return rows


def _record(summary: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((c for c in summary.get("canary", []) if c.get("name") == name), None)


def canary_study(data: dict[str, Any], pos: Any = None, *, source: str | None = None, base_dir: str | None = None,
                 options: StudyOptions | None = None) -> Any:
    """A Study whose metrics are the canary metrics of every canary in the scenario."""
    names = canary_names(data)
    if not names:
        raise UsageError("the scenario has no canaries: section",
                         hint="add a progressive canary (canaries: [{name, service, primary, canary, "
                              "step_weight, ...}])")
    opts = copy.copy(options) if options is not None else StudyOptions()
    opts.metrics = canary_metrics(names)
    return build_study(data, pos, source=source, options=opts, base_dir=base_dir)


def canary_statistics(scenario_path_or_data: str | Path | dict[str, Any], replications: int,
                      params: dict[str, Any] | list[str] | None = None, *, seed: int | None = None,
                      duration: str | None = None, design: str | None = None, jobs: int | None = 1,
                      executor: Executor | None = None, out_dir: str | Path | None = None,
                      resume: bool = False, quiet: bool = True) -> Any:
    """Canary outcome statistics over ``replications`` runs per design point, as a DataFrame.

    ``params``: ``{"canaries.NAME.step_weight": [5, 10, 20]}`` or ``["PATH=VALUES", ...]``
    (None: the scenario as written, or its ``study.params``).
    """
    import pandas as pd

    pos = None
    source = None
    base_dir = None
    if isinstance(scenario_path_or_data, (str, Path)):
        from latsim.scenario import load_data

        data, pos = load_data(scenario_path_or_data)
        source = str(scenario_path_or_data)
        base_dir = str(Path(scenario_path_or_data).resolve().parent)
    else:
        data = copy.deepcopy(scenario_path_or_data)
    opts = StudyOptions(replications=replications, seed=seed, duration=duration, design=design)
    if isinstance(params, dict):
        data = dict(data)
        data["study"] = {**(data.get("study") or {}), "params": params}
    elif params is not None:
        opts.params = list(params)
    study = canary_study(data, pos, source=source, base_dir=base_dir, options=opts)
    own = executor is None
    ex = executor or make_executor(jobs=jobs)
    try:
        result = run_study(study, ex, out_dir=out_dir, resume=resume, quiet=quiet)
    finally:
        if own:
            ex.close()
    return pd.DataFrame(canary_rows(result), columns=["point", *study.columns, *COLUMNS])
