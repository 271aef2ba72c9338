"""``latsim report DIR``: rebuild the figures and ``report.html`` of a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from latsim.cli.common import handle_errors, out


@handle_errors
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `latsim run --out DIR`.",
                                            show_default=False)],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write the report here instead of into DIR.")] = None,
) -> None:
    """Rebuild plots/ and report.html from DIR/summary.json and DIR/metrics.parquet|csv
    (plus DIR/scenario.json and DIR/histograms.json when present)."""
    from latsim.report import load_run, write_report
    result, scn = load_run(run_dir)
    path = write_report(result, scn, out_dir if out_dir is not None else run_dir)
    out.print(f"wrote {path}", markup=False)
