"""``latsim validate``, ``show`` and ``schema``: check a scenario, print its topology, print the
scenario format's JSON Schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.tree import Tree

from latsim.cli.common import FileArg, OverlayOpt, err, handle_errors, load, out, print_problems
from latsim.errors import ScenarioError


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
