"""The ``latsim`` command: the typer app and every sub-command, registered here in the order
``latsim --help`` lists them. Each module of this package holds one group of commands (and
imports the library it drives inside the command, so that start-up stays light); no module
registers itself. Every sub-command reports user mistakes as located errors (exit 2), never as a
traceback."""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer

from latsim import __version__
from latsim.cli import analysis, importers, new, report, run, scenario, studies
from latsim.cli.common import out

app = typer.Typer(
    name="latsim",
    help="Simulate Amazon VPC Lattice before you deploy it: check who can reach what, play every "
         "request through a discrete-event model, and run what-if studies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"latsim {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """latsim: a discrete-event simulator of Amazon VPC Lattice."""


# the sub-commands, in the order `latsim --help` lists them
app.command()(scenario.validate)
app.command()(scenario.show)
app.command()(scenario.schema)
app.command()(run.run)
app.command()(analysis.explain)
app.command()(analysis.matrix)
app.command()(analysis.diff)
app.command()(analysis.verify)
app.command()(studies.sweep)
app.command()(studies.compare)
app.command("canary-stats")(studies.canary_stats)
app.add_typer(importers.import_app, name="import")
app.command()(report.report)
app.command()(new.new)


def main() -> None:
    """Entry point of the ``latsim`` script."""
    # latsim does no linear algebra: numpy's OpenBLAS need not start a thread per core when it is
    # imported (0.04-0.06 s of every command that imports numpy, and a second core kept busy
    # beside a run's drawing process); a user's own setting wins, and a notebook's import of
    # latsim does not come here
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    run.fork_painter_early(sys.argv[1:])
    try:
        app()
    finally:
        run.close_early_painter()
        # the process ends: the interpreter's last collection would walk every object a run left
        # (a REF-1 process: 0.28 G of its 6.0 G instructions at 60 s simulated); frozen objects
        # are still released and their finalizers still run, only the cycle search is skipped
        gc.freeze()
