"""What every ``latsim`` sub-command shares: the consoles, located error messages and exit codes
(``handle_errors``), the scenario argument and options, and loading a scenario."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from latsim.errors import LatsimError, Problem, ScenarioError

out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:
    out = Console(highlight=False, soft_wrap=True, width=140)
err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def print_problems(problems: list[Problem], *, limit: int = 200) -> None:
    errors = [p for p in problems if p.severity == "error"]
    for p in problems[:limit]:
        style = {"error": "red", "warning": "yellow"}.get(p.severity, "cyan")
        err.print(p.format(), style=style, markup=False)
    if len(problems) > limit:
        err.print(f"... and {len(problems) - limit} more", markup=False)
    if errors:
        err.print(f"{len(errors)} error{'s' if len(errors) != 1 else ''}", style="bold red", markup=False)


def handle_errors(fn: F) -> F:
    """Turn LatsimErrors into located messages and exit codes; Ctrl-C into exit 130."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as exc:
            print_problems(exc.all_problems)
            raise typer.Exit(exc.exit_code) from None
        except LatsimError as exc:
            print_problems(exc.problems)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(130) from None
    return wrapper  # type: ignore[return-value]


FileArg = Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).", show_default=False)]
OverlayOpt = Annotated[list[Path] | None, typer.Option("--overlay", help="Merge this file on top (repeatable).")]


def load(path: Path, overlays: list[Path] | None = None, **overrides: Any) -> Any:
    from latsim.scenario import load_scenario
    return load_scenario(path, overrides=overrides, overlays=list(overlays or []))
