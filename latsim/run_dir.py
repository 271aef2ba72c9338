"""The run directory of `latsim run --out`: summary.json, per-minute metrics, and (when available)
plots and a report."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from latsim.atomic_write import atomic_write_bytes, atomic_write_text


def write_metrics(result: Any, out_dir: Path) -> Path:
    """metrics.parquet (long format) when pyarrow is installed, else metrics.csv."""
    rows = result.metrics()
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["time_s", "dimension", "name", "az", "metric", "value"])
        w.writeheader()
        w.writerows(rows)
        path = out_dir / "metrics.csv"
        atomic_write_text(path, buf.getvalue())
        return path
    table = pa.Table.from_pylist(rows, schema=pa.schema([
        ("time_s", pa.float64()), ("dimension", pa.string()), ("name", pa.string()), ("az", pa.string()),
        ("metric", pa.string()), ("value", pa.float64())]))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    path = out_dir / "metrics.parquet"
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


def write_run_dir(result: Any, scn: Any, out_dir: Path, *, report: bool = True) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_metrics(result, out_dir)
    if report:
        from latsim.report import write_report
        write_report(result, scn, out_dir)
    atomic_write_text(out_dir / "summary.json", result.to_json())
