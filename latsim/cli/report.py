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
    redraw: Annotated[bool, typer.Option("--redraw", help="Draw every figure again, even those still fresh "
                                                          "(plots/plots.json records what they were drawn "
                                                          "from).")] = False,
) -> None:
    """Rebuild plots/ and report.html from DIR/summary.json and DIR/metrics.parquet|csv
    (plus DIR/scenario.json and DIR/histograms.json when present). Figures whose inputs did not
    change are reused; missing or stale ones are drawn again."""
    from latsim.report import build_report, load_run
    result, scn = load_run(run_dir)
    path, drawn, reused = build_report(result, scn, out_dir if out_dir is not None else run_dir, redraw=redraw)
    out.print(f"wrote {path} ({drawn} figure{'s' if drawn != 1 else ''} drawn, {reused} reused)", markup=False)
