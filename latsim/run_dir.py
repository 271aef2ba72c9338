"""The run directory of `latsim run --out`: summary.json, per-minute metrics, and (when available)
plots and a report."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from latsim.atomic_write import atomic_write_bytes, atomic_write_text

METRIC_COLUMNS = (("time_s", "float"), ("dimension", "str"), ("name", "str"), ("az", "str"), ("metric", "str"),
                  ("value", "float"))
SERIES_COLUMNS = (("time_s", "float"), ("step_s", "float"), ("dimension", "str"), ("name", "str"),
                  ("metric", "str"), ("value", "float"))


def write_metrics(result: Any, out_dir: Path) -> Path:
    """metrics.parquet (per minute, long format) when pyarrow is installed, else metrics.csv."""
    return _write_table(result.metrics(), METRIC_COLUMNS, out_dir, "metrics")


def write_series(result: Any, out_dir: Path) -> Path | None:
    """series.parquet (or .csv): the report's finer-than-a-minute series, when the run has one."""
    if not getattr(result, "series", None):
        return None
    return _write_table(result.series_records(), SERIES_COLUMNS, out_dir, "series")


def _write_table(rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...], out_dir: Path, stem: str) -> Path:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=[c for c, _ in columns])
        w.writeheader()
        w.writerows(rows)
        path = out_dir / f"{stem}.csv"
        atomic_write_text(path, buf.getvalue())
        return path
    types = {"float": pa.float64(), "str": pa.string()}
    table = pa.Table.from_pylist(rows, schema=pa.schema([(c, types[t]) for c, t in columns]))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    path = out_dir / f"{stem}.parquet"
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


def write_run_dir(result: Any, scn: Any, out_dir: Path, *, report: bool = True) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(result, out_dir)
    write_series(result, out_dir)
    if report:
        from latsim.report import write_report
        write_report(result, scn, out_dir)
    atomic_write_text(out_dir / "summary.json", result.to_json())
