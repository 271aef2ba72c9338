"""The static-analysis commands: ``latsim explain``, ``matrix``, ``diff`` and ``verify``.

Exit codes: 0 fine, 1 a finding the user asked to gate on (a verdict flipped with
``--fail-on-change``, an assertion failed, a request denied or unreachable with
``explain --fail-on-deny``), 2 a usage or scenario error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from latsim.cli.common import FileArg, OverlayOpt, handle_errors, load, out
from latsim.errors import UsageError

FORMATS = ("table", "csv", "json")


def _pairs(items: list[str] | None, flag: str) -> list[tuple[str, str]]:
    """``K=V`` (or ``K: V`` for headers) -> (K, V)."""
    out_: list[tuple[str, str]] = []
    for item in items or []:
        if "=" in item:
            k, _, v = item.partition("=")
        elif ":" in item:
            k, _, v = item.partition(":")
        else:
            raise UsageError(f"{flag} '{item}' is not K=V", hint=f"e.g. {flag} x-beta=1")
        if not k.strip():
            raise UsageError(f"{flag} '{item}' has an empty name")
        out_.append((k.strip(), v.strip()))
    return out_


@handle_errors
def explain(
    file: FileArg,
    url: Annotated[str, typer.Option("--url", help="The URL the client calls (path and query string included).",
                                     show_default=False)],
    client: Annotated[str | None, typer.Option("--client", help="The scenario client that sends the request, or a "
                                               "target group whose code calls services (calls: or principal:).")] = None,
    method: Annotated[str, typer.Option("--method", help="HTTP method (case-sensitive, as rules compare it).")] = "GET",
    header: Annotated[list[str] | None, typer.Option("--header", help="A request header K=V (repeatable).")] = None,
    query: Annotated[list[str] | None, typer.Option("--query", help="A query-string parameter K=V (repeatable).")] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="HTTP/1.1, HTTP/2 or gRPC.")] = "HTTP/1.1",
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
    vpc: Annotated[str | None, typer.Option("--vpc", help="Send from a synthetic host in this VPC "
                                            "(or move --client there).")] = None,
    az: Annotated[str | None, typer.Option("--az", help="The caller's AZ.")] = None,
    principal: Annotated[str | None, typer.Option("--principal", help="Sign as this IAM ARN, or 'anonymous'.")] = None,
    principal_of: Annotated[str | None, typer.Option("--principal-of", help="Sign as this client's principal "
                                                     "(identity policy included).")] = None,
    org_id: Annotated[str | None, typer.Option("--org-id", help="The principal's organisation id.")] = None,
    principal_tag: Annotated[list[str] | None, typer.Option("--principal-tag", help="A principal tag K=V "
                                                            "(repeatable).")] = None,
    source_ip: Annotated[str | None, typer.Option("--source-ip", help="The caller's IP address.")] = None,
    security_group: Annotated[list[str] | None, typer.Option("--security-group", help="The caller's security "
                                                             "groups (repeatable).")] = None,
    overlay: OverlayOpt = None,
    fail_on_deny: Annotated[bool, typer.Option("--fail-on-deny", help="Exit 1 when the request is denied "
                                               "(auth, 403) or unreachable (DNS, security group, no "
                                               "association); 0 when forwarded or answered by a fixed "
                                               "response.")] = False,
) -> None:
    """Explain one request stage by stage: DNS, AZ address, security groups, listener, auth,
    rule, target groups (with each target's security-group and health-check verdict), then the
    chain of calls the code of those target groups makes, hop by hop. Exit 0, or 1 with
    --fail-on-deny when the request, or a call of its chain, is denied or unreachable."""
    from latsim.analysis.explain import CallerSpec, render_explanation
    from latsim.analysis.explain import explain as run_explain
    scn = load(file, overlay)
    if client is None and vpc is None:
        raise UsageError("say who sends the request: --client NAME, or --vpc NAME for a synthetic caller",
                         hint=f"clients: {', '.join(c.name for c in scn.clients[:8])}" if scn.clients else None)
    spec = CallerSpec(client=client, vpc=vpc, az=az, principal=principal, principal_of=principal_of, org_id=org_id,
                      principal_tags=tuple(_pairs(principal_tag, "--principal-tag")), source_ip=source_ip,
                      security_groups=tuple(security_group) if security_group else None)
    d = run_explain(scn, client, url, method, _pairs(header, "--header"), _pairs(query, "--query"), protocol,
                    caller=spec)
    if as_json:
        sys.stdout.write(json.dumps(d, indent=2) + "\n")
    else:
        render_explanation(d, out)
    if fail_on_deny and (d["outcome"] in ("denied", "unreachable") or _chain_denied(d)):
        raise typer.Exit(1)


@handle_errors
def matrix(
    file: FileArg,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Use this path instead of the clients' mixes.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="Use this method instead of the clients' "
                                               "mixes.")] = None,
    reach: Annotated[bool, typer.Option("--reach", help="The reachability view: what each client COULD reach "
                                        "(its whole mix replayed against every listener of every service), "
                                        "instead of what its requests get.")] = False,
    overlay: OverlayOpt = None,
) -> None:
    """What each client's requests get: a cell per client x endpoint it sends to (each request at
    its own url), with the verdict and its reason, then each target group whose code calls services,
    with the verdicts of the calls it makes; --reach: every client x service (x listener)."""
    from latsim.analysis.matrix import compute_matrix
    from latsim.analysis.matrix_output import render_table, write_csv, write_json
    from latsim.analysis.sent import render_sent, sent_matrix
    from latsim.compile import Topology
    if fmt not in FORMATS:
        from latsim.errors import suggest
        raise UsageError(f"unknown --format '{fmt}'", allowed=" | ".join(FORMATS), hint=suggest(fmt, FORMATS))
    if path is not None and not path.startswith("/"):
        raise UsageError(f"--path '{path}' must start with '/'")
    scn = load(file, overlay)
    m: Any = compute_matrix(Topology(scn), path=path, method=method) if reach else \
        sent_matrix(Topology(scn), path=path, method=method)
    draw = render_table if reach else render_sent
    if fmt == "table":
        if output is not None:
            from rich.console import Console
            with output.open("w", encoding="utf-8") as text:
                draw(m, Console(file=text, width=200, highlight=False, soft_wrap=True))
        else:
            draw(m, out)
        return
    fh: Any = output.open("w", encoding="utf-8", newline="") if output is not None else sys.stdout
    try:
        if fmt == "csv":
            m.write_csv(fh) if not reach else write_csv(m, fh)
        else:
            m.write_json(fh) if not reach else write_json(m, fh)
    finally:
        if output is not None:
            fh.close()


@handle_errors
def diff(
    old: Annotated[Path, typer.Argument(help="The topology before the change.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The topology after the change.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    fail_on_change: Annotated[bool, typer.Option("--fail-on-change", help="Exit 1 when any verdict flips, "
                                                 "a call of a target group's included (a CI gate).")] = False,
    path: Annotated[str | None, typer.Option("--path", help="Compare this path instead of the clients' "
                                             "mixes.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="Compare this method instead of the clients' "
                                               "mixes.")] = None,
    reach: Annotated[bool, typer.Option("--reach", help="Compare the reachability views (every client x "
                                        "every listener) instead of the requests the clients send.")] = False,
) -> None:
    """What changed from OLD to NEW: flipped verdicts of the requests the clients send (with both
    explanations), rerouted requests, added/removed/changed resources and new validation problems."""
    from latsim.analysis.diff import diff_scenarios, render
    d = diff_scenarios(load(old), load(new), path=path, method=method, view="reach" if reach else "sent")
    if as_json:
        sys.stdout.write(json.dumps(d, indent=2, default=str) + "\n")
    else:
        render(d, out)
    if fail_on_change and (d["flipped"] or d["flipped_calls"]):
        raise typer.Exit(1)


@handle_errors
def verify(
    file: FileArg,
    assertion: Annotated[list[str] | None, typer.Option(
        "--assert", help="An assertion as YAML, e.g. 'no_access: {principal: anonymous, service: admin}' or "
                         "'never_reaches: {from: [reporting], service: ledger}' (repeatable; checked with the "
                         "scenario's own).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    counterexamples: Annotated[int, typer.Option("--counterexamples", help="Counterexamples shown per "
                                                 "assertion.")] = 5,
    overlay: OverlayOpt = None,
) -> None:
    """Check the scenario's assertions (and --assert ones) over every class of request and caller;
    exit 1 if any fails, printing counterexamples as 'latsim explain' command lines."""
    from latsim.analysis.verify import parse_assertions, parse_cli_assertion, render
    from latsim.analysis.verify import verify as run_verify
    from latsim.scenario import load_data
    scn = load(file, overlay)
    positions = None
    if not overlay:
        _, positions = load_data(file)
    items = parse_assertions(scn.assertions, scn, positions=positions, source=str(file))
    cli_items = [parse_cli_assertion(text, i) for i, text in enumerate(assertion or [], 1)]
    items += parse_assertions(cli_items, scn, section=("--assert",), first_index=1, source="command line")
    if not items:
        out.print("no assertions: add an 'assertions:' section or pass --assert", markup=False)
        return
    report = run_verify(scn, items, source=str(file), max_counterexamples=counterexamples)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        render(report, out)
    if not report.ok:
        raise typer.Exit(1)


def _chain_denied(d: dict[str, Any]) -> bool:
    """A call of the request's chain (call graphs) that is denied or unreachable."""
    def walk(calls: list[dict[str, Any]]) -> bool:
        # the outcomes latsim.compile names DENIED and UNREACHABLE (not imported: start-up stays light)
        return any(c.get("outcome") in ("denied", "unreachable") or walk(c.get("calls") or []) for c in calls)
    return walk(d.get("calls") or [])
