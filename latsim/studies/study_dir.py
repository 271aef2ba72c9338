"""What a study leaves in its directory besides ``results.jsonl`` and ``study.json``.

- ``runs.csv`` (and ``runs.parquet`` on request): tidy, one row per run × metric —
  ``point, <one column per swept PATH>, replication, seed, metric, value``.
- ``aggregate.csv``: one row per point × metric — ``point, <PATHs>, metric, n, mean, sd, ci_low,
  ci_high, ci_method, errors`` (95 % intervals; ``t`` or ``wilson``).
- ``plots/<metric>__<PATH>.png``: each metric against each swept parameter, one line per
  combination of the other parameters, with the CI as a band.
- ``find_min.json`` for ``--find-min``.

Rows are in point, then replication / metric order; floats are written with ``%.10g`` and a
missing value as an empty cell, so the files are byte-identical for identical runs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

from latsim.atomic_write import atomic_write_text
from latsim.studies.design import label, magnitude

MAX_LINES_PER_PLOT = 8


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.10g}"
    return label(value)


def csv_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([fmt(row.get(c)) for c in columns])
    return buf.getvalue()


def aggregate_columns(param_columns: list[str]) -> list[str]:
    return ["point", *param_columns, "metric", "n", "mean", "sd", "ci_low", "ci_high", "ci_method", "errors"]


def runs_columns(param_columns: list[str]) -> list[str]:
    return ["point", *param_columns, "replication", "seed", "metric", "value"]


def write_tables(result: Any, out_dir: Path, *, parquet: bool = False) -> list[Path]:
    cols = result.study.columns
    runs = result.runs()
    written = [out_dir / "runs.csv", out_dir / "aggregate.csv"]
    atomic_write_text(written[0], csv_text(runs, runs_columns(cols)))
    atomic_write_text(written[1], csv_text(result.aggregate(), aggregate_columns(cols)))
    if parquet:
        import pandas as pd

        frame = pd.DataFrame(runs, columns=runs_columns(cols))
        for c in cols:
            frame[c] = frame[c].map(label)
        path = out_dir / "runs.parquet"
        frame.to_parquet(path, index=False)
        written.append(path)
    return written


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:120]


def write_plots(result: Any, out_dir: Path) -> list[Path]:
    """One PNG per metric × swept parameter (matplotlib, Agg backend). A grid draws one line per
    combination of the other parameters with its CI band; a random or latin design, whose
    points share no lines, draws every point with its CI as an error bar."""
    study = result.study
    if not study.columns:
        return []
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    rows = result.aggregate()
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    written = []
    for metric in study.metrics:
        mrows = [r for r in rows if r["metric"] == metric]
        for param in study.columns:
            fig, ax = plt.subplots(figsize=(6.4, 4.0))
            _draw(ax, mrows, param, [c for c in study.columns if c != param], grid=study.design.kind == "grid")
            ax.set_ylabel(metric)
            ax.set_title("\n".join(textwrap.wrap(f"{metric} vs {param} (mean, 95% CI)", 90)), fontsize=8)
            ax.grid(alpha=0.3)
            fig.tight_layout()
            path = plots / f"{_safe(metric)}__{_safe(param)}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
    return written


def _draw(ax: Any, rows: list[dict[str, Any]], param: str, others: list[str], *, grid: bool) -> None:
    values = [r[param] for r in rows]
    numbers = [magnitude(v) for v in values]
    categories = list(dict.fromkeys(label(v) for v in values))

    def x_of(r: dict[str, Any]) -> float:
        m = magnitude(r[param])
        return m if m is not None and all(n is not None for n in numbers) else float(categories.index(label(r[param])))

    def band(r: dict[str, Any], key: str) -> float:
        return float(r[key]) if math.isfinite(r[key]) else float(r["mean"])

    if all(n is not None for n in numbers):
        ax.set_xlabel(param + _unit_hint(values))
    else:
        ax.set_xlabel(param)
        ax.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
    if not grid:
        xs = [x_of(r) for r in rows]
        ys = [float(r["mean"]) for r in rows]
        err = [[y - band(r, "ci_low") for r, y in zip(rows, ys, strict=True)],
               [band(r, "ci_high") - y for r, y in zip(rows, ys, strict=True)]]
        ax.errorbar(xs, ys, yerr=err, fmt="o", capsize=3)
        return
    lines: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        lines.setdefault(", ".join(f"{c}={label(r[c])}" for c in others), []).append(r)
    for name, lrows in list(lines.items())[:MAX_LINES_PER_PLOT]:
        lrows = sorted(lrows, key=x_of)
        x = [x_of(r) for r in lrows]
        ax.plot(x, [float(r["mean"]) for r in lrows], marker="o", label=name or None)
        ax.fill_between(x, [band(r, "ci_low") for r in lrows], [band(r, "ci_high") for r in lrows], alpha=0.2)
    if len(lines) > 1:
        ax.legend(fontsize=7, title=None if len(lines) <= MAX_LINES_PER_PLOT else
                  f"first {MAX_LINES_PER_PLOT} of {len(lines)}")


def _unit_hint(values: list[Any]) -> str:
    from latsim.studies.design import parse_quantity

    kinds = {q.kind for q in (parse_quantity(v) for v in values) if q is not None}
    unit = {"duration": " (s)", "rate": " (per s)", "percent": " (fraction)", "size": " (bytes)"}
    return unit.get(next(iter(kinds)), "") if len(kinds) == 1 else ""
