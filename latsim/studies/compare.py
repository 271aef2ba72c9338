"""``latsim compare A B``: paired differences between two scenarios, with common random numbers.

Replication r of A and of B run with the same seed, so every named random stream (arrivals,
service times, splits) draws the same numbers in both wherever the two scenarios agree; the
difference B_r − A_r then measures the change, not the luck. The table gives, per metric, the
means of A and B, and the mean of the paired differences with its 95 % t-interval; a CI that
excludes 0 is a difference the replications can tell apart. ``crn=False`` (``--no-crn``) runs
B with independent seeds, to see what CRN buys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latsim.errors import Location, Problem, ScenarioError
from latsim.studies import stats
from latsim.studies.executors import Executor
from latsim.studies.metrics import check_all, default_metrics, skeleton_summary
from latsim.studies.study import StudyResult, run_study, study_of_points


@dataclass
class Comparison:
    result: StudyResult
    labels: tuple[str, str]

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for expr in self.result.study.metrics:
            a = self.result.values(0, expr)
            b = self.result.values(1, expr)
            ea, eb = stats.t_interval(a), stats.t_interval(b)
            d = stats.paired(a, b)
            significant = d.n >= 2 and (d.ci_low > 0 or d.ci_high < 0)
            out.append({"metric": expr, "n": d.n, "mean_a": ea.mean, "mean_b": eb.mean, "diff": d.mean,
                        "diff_sd": d.sd, "ci_low": d.ci_low, "ci_high": d.ci_high, "significant": significant})
        return out

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows())


COLUMNS = ["metric", "n", "mean_a", "mean_b", "diff", "diff_sd", "ci_low", "ci_high", "significant"]


def compare(a: tuple[dict[str, Any], str | None, str], b: tuple[dict[str, Any], str | None, str], *,
            replications: int, metrics: list[str] | None = None, seed: int | None = None,
            duration: str | None = None, crn: bool = True, executor: Executor | None = None,
            out_dir: str | Path | None = None, resume: bool = False, quiet: bool = True) -> Comparison:
    """Compare two scenarios given as (data, base_dir, label)."""
    from latsim.scenario import scenario_from_data

    datas = []
    for data, base_dir, name in (a, b):
        d = {k: v for k, v in data.items() if k != "study"}
        if duration is not None:
            d["duration"] = duration
        scenario_from_data(dict(d))
        datas.append(({"scenario": name}, d, base_dir))
    skel_a = skeleton_summary(datas[0][1], datas[0][2])
    skel_b = skeleton_summary(datas[1][1], datas[1][2])
    chosen = list(metrics) if metrics else default_metrics(skel_a)
    problems = []
    what = "--metric" if metrics else "default metric"
    for skel, name in ((skel_a, a[2]), (skel_b, b[2])):
        for _expr, err in check_all(chosen, skel):
            problems.append(Problem(f"{what} {err.message} (in {name})", Location(None), hint=err.hint,
                                    allowed=err.allowed))
    if problems:
        raise ScenarioError(problems)
    study_seed = seed if seed is not None else int(a[0].get("seed", 1))
    study = study_of_points(datas, replications=replications, metrics=chosen, seed=study_seed,
                            name=f"{a[2]} vs {b[2]}", crn=crn)
    result = run_study(study, executor, out_dir=out_dir, resume=resume, quiet=quiet)
    return Comparison(result, (a[2], b[2]))
