"""The ``latsim`` command. Every sub-command reports user mistakes as located errors (exit 2),
never as a traceback."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.tree import Tree

from latsim import __version__
from latsim.errors import LatsimError, Problem, ScenarioError

app = typer.Typer(
    name="latsim",
    help="Simulate Amazon VPC Lattice before you deploy it: check who can reach what, play every "
         "request through a discrete-event model, and run what-if studies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
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


FileArg = Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).", show_default=False)]
OverlayOpt = Annotated[list[Path] | None, typer.Option("--overlay", help="Merge this file on top (repeatable).")]


def load(path: Path, overlays: list[Path] | None = None, **overrides: Any) -> Any:
    from latsim.scenario import load_scenario
    return load_scenario(path, overrides=overrides, overlays=list(overlays or []))


@app.command()
@handle_errors
def validate(
    file: FileArg,
    overlay: OverlayOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as failures: exit 1 if there is "
                                         "any (for CI).")] = False,
) -> None:
    """Check a scenario against Lattice's rules; print 'ok' and an inventory, or every error."""
    from latsim.model.validate import notes
    if as_json:
        try:
            scn = load(file, overlay)
        except ScenarioError as exc:
            out.print(json.dumps({"ok": False, "problems": [p.to_dict() for p in exc.all_problems]}, indent=2),
                      markup=False)
            raise typer.Exit(2) from None
        problems = notes(scn)
        failed = strict and any(p.severity == "warning" for p in problems)
        out.print(json.dumps({"ok": not failed, "inventory": scn.summary_line(),
                              "problems": [p.to_dict() for p in problems]}, indent=2), markup=False)
        if failed:
            raise typer.Exit(1)
        return
    scn = load(file, overlay)
    problems = notes(scn)
    warnings = [p for p in problems if p.severity == "warning"]
    if not quiet or (strict and warnings):
        print_problems(problems if not quiet else warnings)
    if strict and warnings:
        err.print(f"--strict: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}", style="bold red",
                  markup=False)
        raise typer.Exit(1)
    out.print(f"ok: {file}: {scn.summary_line()}", markup=False)


@app.command()
@handle_errors
def show(file: FileArg, overlay: OverlayOpt = None) -> None:
    """Print the topology as a tree: accounts, VPCs, service networks, services, target groups."""
    from latsim.model.naming import service_dns_name
    scn = load(file, overlay)
    ix = scn.index
    root = Tree(f"[bold]{scn.name}[/bold]  ({scn.region}, seed {scn.seed}, {scn.duration:g}s)")
    for acct in scn.accounts:
        a = root.add(f"account {acct.label} ({acct.id})")
        for vpc in (v for v in scn.vpcs if ix.account_id(v.account) == acct.id):
            v = a.add(f"VPC {vpc.name} {vpc.vpc_id} {', '.join(vpc.cidr)} [{', '.join(vpc.azs)}]")
            for cl in (c for c in scn.clients if c.vpc == vpc.name):
                who = cl.principal.arn if cl.principal else "anonymous"
                v.add(f"client {cl.name} ({cl.az}, {who}) -> {cl.url}")
        for sn in (s for s in scn.service_networks if ix.account_id(s.account) == acct.id):
            s = a.add(f"service network {sn.name} (auth {sn.auth_type})")
            for assoc in sn.vpc_associations:
                sgs = f" SGs {', '.join(assoc.security_groups)}" if assoc.security_groups else ""
                s.add(f"VPC association {assoc.vpc}{sgs}")
            for name in sn.services:
                s.add(f"service {name}")
        for svc in (s for s in scn.services if ix.account_id(s.account) == acct.id):
            s = a.add(f"service {svc.name} (auth {svc.auth_type}) {svc.custom_domain or ''}")
            s.add(f"dns {service_dns_name(scn, svc)}")
            for lst in svc.listeners:
                node = s.add(f"listener {lst.listener_name} {lst.protocol}:{lst.effective_port}")
                for r in lst.sorted_rules():
                    node.add(f"rule {r.name} (priority {r.priority}) -> {_action_text(r.action)}")
                node.add(f"default -> {_action_text(lst.default_action)}")
        for tg in (t for t in scn.target_groups if ix.tg_account(t, scn) == acct.id):
            t = a.add(f"target group {tg.name} {tg.type} {tg.effective_protocol}:{tg.effective_port} "
                      f"({tg.protocol_version}, health checks {'on' if tg.health_check_enabled else 'off'})")
            for target in tg.targets:
                t.add(f"target {target.id} {target.az or ''} concurrency {target.concurrency}")
    out.print(root)


def _action_text(action: Any) -> str:
    if action.fixed_response is not None:
        return f"fixed {action.fixed_response}"
    return ", ".join(f"{tg}:{w}" for tg, w in action.weights.items())


@app.command()
@handle_errors
def schema(
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of the scenario format (for editor autocompletion)."""
    from latsim.schema import scenario_schema
    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if output:
        from latsim.atomic_write import atomic_write_text
        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)


def main() -> None:
    """Entry point of the ``latsim`` script."""
    from latsim import commands  # noqa: F401  (registers the sub-commands of later layers)
    app()


if __name__ == "__main__":
    # run the canonical module, so that sub-commands register on the same app
    from latsim.cli import main as _main
    _main()
