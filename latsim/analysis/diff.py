"""``latsim diff``: what a change to a topology does.

Three views of OLD -> NEW:

* **flipped verdicts** -- by default the requests each client sends, each at its own URL (the
  union of both sides' request mixes; ``latsim.analysis.sent``), decided on both sides; with
  ``view="reach"`` (``--reach``) the reachability matrix of both topologies over the same clients,
  endpoints (the union of both sides' services and listener ports: a removed listener or service
  shows up as a flip to unreachable) and requests (the union of both sides' request mixes), with
  the explanation of each flipped request on both sides; ``rerouted`` lists requests that stay
  forwarded but now match another rule or another weighted split;
* **resource changes** -- every rule, weight, target, listener, association, policy, security
  group ... added, removed or changed, as dotted paths into the scenario (items matched by name; the
  ids AWS assigns to VPCs, groups, networks and services are not compared: ``ASSIGNED_IDS``);
* **problems** -- validation warnings and notes that NEW has and OLD did not (and the reverse).

Call graphs add **call edges** (each call step of a target group: caller group -> service, with
the step) added or removed, and **flipped calls**: a call whose verdict from its group's caller
view changed (forwarded -> denied ...; ``rerouted_calls`` when it stays forwarded elsewhere).

``--fail-on-change`` makes a CI gate of it: exit 1 when any verdict flips, a call's included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from latsim.analysis.callgraph import CallGraph, CallSite
from latsim.analysis.endpoints import Endpoint, all_endpoints, at, client_requests, service_host
from latsim.analysis.equivalence import Verdict, verdict_of
from latsim.analysis.explain import explain_route, request_dict, request_url
from latsim.analysis.matrix import compute_matrix
from latsim.compile import FORWARDED, RequestClass, Topology
from latsim.delivery import decide
from latsim.model.client import split_url
from latsim.model.scenario import Scenario

SECTIONS = ("accounts", "vpcs", "security_groups", "service_networks", "services", "target_groups", "clients")
SETTINGS = ("quotas", "assumptions", "region")
LIST_KEYS = ("name", "id", "vpc", "target_group")
EXPLANATION_LIMIT = 100


# --- verdicts ---------------------------------------------------------------------------------------

def _endpoint_union(old: Topology, new: Topology) -> tuple[list[Endpoint], list[Endpoint]]:
    """The same endpoints on both sides, keyed by (service, port); a side that lacks the
    service or listener calls it anyway (and learns it is gone)."""
    o = {(e.service, e.port): e for e in all_endpoints(old)}
    n = {(e.service, e.port): e for e in all_endpoints(new)}
    keys = list(dict.fromkeys(list(o) + list(n)))
    olds, news = [], []
    for key in keys:
        eo, en = o.get(key), n.get(key)
        ref = eo or en
        assert ref is not None
        olds.append(eo or Endpoint(ref.service, ref.listener, ref.port, ref.scheme,
                                   service_host(old, ref.service) if ref.service in old.services else ref.host))
        news.append(en or Endpoint(ref.service, ref.listener, ref.port, ref.scheme,
                                   service_host(new, ref.service) if ref.service in new.services else ref.host))
    return olds, news


def _verdict_dict(v: Verdict) -> dict[str, Any]:
    return {"outcome": v.outcome, "status": v.status, "failure": v.failure, "auth_denied_reason": v.auth_denied_reason,
            "rule": v.rule, "target_groups": dict(v.target_groups), "reason": v.reason}


def _flipped(a: Verdict, b: Verdict) -> bool:
    return (a.outcome, a.status, a.failure, a.auth_denied_reason) != (b.outcome, b.status, b.failure,
                                                                       b.auth_denied_reason)


def _direction(a: Verdict, b: Verdict) -> str:
    if a.outcome == FORWARDED and b.outcome != FORWARDED:
        return "lost"
    if b.outcome == FORWARDED and a.outcome != FORWARDED:
        return "gained"
    return "changed"


def verdict_changes(old: Topology, new: Topology, *, path: str | None = None, method: str | None = None,
                    explanations: int = EXPLANATION_LIMIT) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(flipped, rerouted): every client x endpoint x request whose verdict differs."""
    clients = [c for c in old.clients if c in new.clients]
    eps_old, eps_new = _endpoint_union(old, new)

    def requests_for(name: str) -> tuple[RequestClass, ...]:
        both = client_requests(old.clients[name].model, path=path, method=method) + \
            client_requests(new.clients[name].model, path=path, method=method)
        return tuple(dict.fromkeys(both))

    m_old = compute_matrix(old, clients=clients, endpoints=eps_old, requests_for=requests_for)
    m_new = compute_matrix(new, clients=clients, endpoints=eps_new, requests_for=requests_for)
    flipped: list[dict[str, Any]] = []
    rerouted: list[dict[str, Any]] = []
    for name in clients:
        go, gn = m_old._by_client[name], m_new._by_client[name]
        reqs = go.requests
        for i, (eo, en) in enumerate(zip(eps_old, eps_new, strict=True)):
            co, cn = go.cells[i], gn.cells[i]
            for k, (a, b) in enumerate(zip(co.results, cn.results, strict=True)):
                if a == b:
                    continue
                entry = {"client": name, "service": eo.service, "listener": en.listener, "port": eo.port,
                         "request": {"method": reqs[k].method, "path": reqs[k].path,
                                     "headers": dict(reqs[k].headers), "protocol": reqs[k].protocol,
                                     "url": request_url(at(reqs[k], en.url))},
                         "old": _verdict_dict(a), "new": _verdict_dict(b)}
                if _flipped(a, b):
                    entry["direction"] = _direction(a, b)
                    if len(flipped) < explanations:
                        entry["old_explanation"] = explain_route(old, old.clients[name], at(reqs[k], eo.url))
                        entry["new_explanation"] = explain_route(new, new.clients[name], at(reqs[k], en.url))
                    flipped.append(entry)
                elif (a.rule, a.target_groups) != (b.rule, b.target_groups):
                    rerouted.append(entry)
    return flipped, rerouted


# --- call graphs -------------------------------------------------------------------------------------

def _call_edges(topo: Topology) -> dict[tuple[str, str, str, int], tuple[CallSite, Verdict | None]]:
    """Every call step of every target group, keyed by (group, service, step label, occurrence),
    with its verdict from the group's caller view (None: the group cannot call, no VPC)."""
    graph = CallGraph(topo)
    out: dict[tuple[str, str, str, int], tuple[CallSite, Verdict | None]] = {}
    for tg in topo.target_groups:
        view = graph.view(tg) if topo.is_caller(tg) else None
        seen: dict[tuple[str, str, str], int] = {}
        for site in graph.sites(tg):
            head = (tg, site.service or split_url(site.rc.url)[1], site.label)
            n = seen[head] = seen.get(head, -1) + 1
            out[head + (n,)] = (site, verdict_of(graph.route(site, view)) if view is not None else None)
    return out


def _call_entry(site: CallSite) -> dict[str, Any]:
    return {"caller": site.tg, "service": site.service, "step": site.label, "step_path": site.path,
            "request": request_dict(site.rc)}


def call_changes(old: Topology, new: Topology) -> dict[str, Any]:
    """Call edges (caller target group -> service, with the step) added and removed, calls whose
    verdict flipped (forwarded -> denied ...) and calls still forwarded elsewhere (rerouted)."""
    eo, en = _call_edges(old), _call_edges(new)
    added = [{**_call_entry(site), "verdict": _verdict_dict(v) if v else None}
             for k, (site, v) in en.items() if k not in eo]
    removed = [{**_call_entry(site), "verdict": _verdict_dict(v) if v else None}
               for k, (site, v) in eo.items() if k not in en]
    flipped: list[dict[str, Any]] = []
    rerouted: list[dict[str, Any]] = []
    for k, (site, b) in en.items():
        if k not in eo:
            continue
        a = eo[k][1]
        if a is None or b is None or a == b:
            continue
        entry = {**_call_entry(site), "old": _verdict_dict(a), "new": _verdict_dict(b)}
        if _flipped(a, b):
            entry["direction"] = _direction(a, b)
            flipped.append(entry)
        elif (a.rule, a.target_groups) != (b.rule, b.target_groups):
            rerouted.append(entry)
    return {"call_edges": {"added": added, "removed": removed}, "flipped_calls": flipped, "rerouted_calls": rerouted}


def sent_changes(old: Topology, new: Topology, *, path: str | None = None, method: str | None = None,
                 explanations: int = EXPLANATION_LIMIT) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(flipped, rerouted) over the requests each client sends, at their own URLs."""
    from latsim.analysis.matrix import verdict_of
    from latsim.analysis.sent import endpoint_of, sent_requests
    flipped: list[dict[str, Any]] = []
    rerouted: list[dict[str, Any]] = []
    for name in (c for c in old.clients if c in new.clients):
        co, cn = old.clients[name], new.clients[name]
        reqs = dict.fromkeys(sent_requests(co.model, path=path, method=method) +
                             sent_requests(cn.model, path=path, method=method))
        for rc in reqs:
            ro, rn = decide(old, co, rc), decide(new, cn, rc)
            a, b = verdict_of(ro), verdict_of(rn)
            if a == b:
                continue
            ep = endpoint_of(new, rc)
            entry = {"client": name, "service": ep.service, "listener": ep.listener, "port": ep.port,
                     "request": {"method": rc.method, "path": rc.path, "headers": dict(rc.headers),
                                 "protocol": rc.protocol, "url": request_url(rc)},
                     "old": _verdict_dict(a), "new": _verdict_dict(b)}
            if _flipped(a, b):
                entry["direction"] = _direction(a, b)
                if len(flipped) < explanations:
                    entry["old_explanation"] = explain_route(old, co, rc, route=ro)
                    entry["new_explanation"] = explain_route(new, cn, rc, route=rn)
                flipped.append(entry)
            elif (a.rule, a.target_groups) != (b.rule, b.target_groups):
                rerouted.append(entry)
    return flipped, rerouted


# --- resource changes ---------------------------------------------------------------------------

ASSIGNED_IDS = ("vpcs", "security_groups", "service_networks", "services", "target_groups")
"""Sections whose ``id`` AWS assigns at creation: a template has none (latsim derives one), an account
has the real one. Items are matched by name and their ids are not compared, so a template and the
account it was deployed to diff as equal; where an id decides something (a policy naming a VPC id)
the policy text differs, and a verdict that changes is reported as a flip."""


def _dump(scn: Scenario) -> dict[str, Any]:
    data = scn.model_dump(mode="json", by_alias=True)
    for section in ASSIGNED_IDS:
        for d in data[section]:
            d.pop("id", None)
    for svc, d in zip(scn.services, data["services"], strict=True):
        for lst, ld in zip(svc.listeners, d["listeners"], strict=True):
            ld["name"] = lst.listener_name
    for section in ("services", "service_networks"):
        for d in data[section]:
            if isinstance(d.get("auth_policy"), str):
                try:
                    d["auth_policy"] = json.loads(d["auth_policy"])
                except ValueError:
                    pass  # compared as text
    return data


def _shared_key(old: list[Any], new: list[Any]) -> str | None:
    """A key that names the items of both lists uniquely (so items are matched by name)."""
    if not old and not new:
        return None
    for key in LIST_KEYS:
        if all(_list_key_ok(items, key) for items in (old, new)):
            return key
    return None


def _list_key_ok(items: list[Any], key: str) -> bool:
    if not all(isinstance(x, dict) and x.get(key) is not None for x in items):
        return False
    vals = [str(x[key]) for x in items]
    return len(set(vals)) == len(vals)


POLICY_KEYS = ("auth_policy", "identity_policy")


def _walk(old: Any, new: Any, path: str, out: list[dict[str, Any]]) -> None:
    if old == new:
        return
    if path.rsplit(".", 1)[-1] in POLICY_KEYS and old is not None and new is not None:
        # a policy is read as a document: one change with a unified diff of its JSON, not a
        # scatter of paths into its statements
        change = _change("changed", path, old, new)
        change["diff"] = policy_diff(old, new, path)
        out.append(change)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for k in dict.fromkeys(list(old) + list(new)):
            sub = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append(_change("added", sub, None, new[k]))
            elif k not in new:
                out.append(_change("removed", sub, old[k], None))
            else:
                _walk(old[k], new[k], sub, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        key = _shared_key(old, new)
        if key is not None:
            o = {str(x[key]): x for x in old}
            n = {str(x[key]): x for x in new}
            for k in dict.fromkeys(list(o) + list(n)):
                sub = f"{path}.{k}"
                if k not in o:
                    out.append(_change("added", sub, None, n[k]))
                elif k not in n:
                    out.append(_change("removed", sub, o[k], None))
                else:
                    _walk(o[k], n[k], sub, out)
            return
        if all(isinstance(x, (str, int, float)) for x in old + new):
            for x in old:
                if x not in new:
                    out.append(_change("removed", path, x, None))
            for x in new:
                if x not in old:
                    out.append(_change("added", path, None, x))
            if set(map(str, old)) == set(map(str, new)):
                out.append(_change("changed", path, old, new))  # reordered
            return
    out.append(_change("changed", path, old, new))


def policy_diff(old: Any, new: Any, path: str) -> list[str]:
    """The unified diff (lines, no trailing newlines) of two policy documents as indented JSON
    with sorted keys, so that only what changed is marked, with three lines of context."""
    import difflib

    def lines(doc: Any) -> list[str]:
        text = doc if isinstance(doc, str) else json.dumps(doc, indent=2, sort_keys=True, default=str)
        return text.splitlines()
    return list(difflib.unified_diff(lines(old), lines(new), f"old/{path}", f"new/{path}", lineterm=""))


def _category(path: str) -> str:
    parts = path.split(".")
    if "auth_policy" in parts or "identity_policy" in parts or "auth_type" in parts:
        return "policy"
    if parts[0] == "service_networks" and len(parts) > 2 and parts[2] in ("vpc_associations", "services"):
        return "association"
    if "rules" in parts:
        return "weight" if parts[-1] == "weight" else "rule"
    if "default_action" in parts:
        return "weight" if parts[-1] == "weight" else "listener"
    if "listeners" in parts:
        return "listener"
    if parts[0] == "target_groups" and "targets" in parts:
        return "target"
    if parts[0] in ("security_groups",) or "security_groups" in parts:
        return "security_group"
    return parts[0].rstrip("s") if parts[0] in SECTIONS else parts[0]


def _change(kind: str, path: str, old: Any, new: Any) -> dict[str, Any]:
    return {"change": kind, "category": _category(path), "path": path, "old": old, "new": new}


def resource_changes(old: Scenario, new: Scenario) -> list[dict[str, Any]]:
    """Every added, removed or changed item of the topology, quotas and assumptions."""
    a, b = _dump(old), _dump(new)
    out: list[dict[str, Any]] = []
    for section in SECTIONS + SETTINGS:
        _walk({section: a.get(section)}, {section: b.get(section)}, "", out)
    return out


# --- problems -----------------------------------------------------------------------------------

def problem_changes(old: Scenario, new: Scenario) -> dict[str, list[dict[str, Any]]]:
    """Validation warnings/notes NEW has and OLD had not (``new``), and the reverse (``resolved``)."""
    from latsim.model.validate import notes

    def key(p: Any) -> tuple[Any, ...]:
        return (p.code, p.message, p.location.path)
    po = {key(p): p for p in notes(old)}
    pn = {key(p): p for p in notes(new)}
    return {"new": [p.to_dict() for k, p in pn.items() if k not in po],
            "resolved": [p.to_dict() for k, p in po.items() if k not in pn]}


# --- all together -------------------------------------------------------------------------------

def diff_scenarios(old: Scenario, new: Scenario, *, path: str | None = None, method: str | None = None,
                   explanations: int = EXPLANATION_LIMIT, view: str = "sent") -> dict[str, Any]:
    """Flipped verdicts, rerouted requests, resource changes and new problems, OLD -> NEW.
    ``view``: "sent" (the requests each client sends) or "reach" (every client x endpoint)."""
    t_old, t_new = Topology(old), Topology(new)
    changed = sent_changes if view == "sent" else verdict_changes
    flipped, rerouted = changed(t_old, t_new, path=path, method=method, explanations=explanations)
    changes = resource_changes(old, new)
    problems = problem_changes(old, new)
    clients = {"added": [c for c in t_new.clients if c not in t_old.clients],
               "removed": [c for c in t_old.clients if c not in t_new.clients]}
    calls = call_changes(t_old, t_new)
    summary = {"flipped": len(flipped), "lost": sum(1 for f in flipped if f["direction"] == "lost"),
               "gained": sum(1 for f in flipped if f["direction"] == "gained"),
               "rerouted": len(rerouted), "changes": len(changes), "new_problems": len(problems["new"])}
    if any(tg.calls for s in (old, new) for tg in s.target_groups):  # call graphs: their counts too
        summary.update({"call_edges_added": len(calls["call_edges"]["added"]),
                        "call_edges_removed": len(calls["call_edges"]["removed"]),
                        "flipped_calls": len(calls["flipped_calls"]), "rerouted_calls": len(calls["rerouted_calls"])})
    return {"view": view, "flipped": flipped, "rerouted": rerouted, "changes": changes, "problems": problems,
            "clients": clients, **calls, "summary": summary}


def render(d: Mapping[str, Any], console: Any) -> None:
    """Print a diff for a reader: flips first, then rerouted requests, changes and problems."""
    from rich.markup import escape as e
    s = d["summary"]
    style = "bold red" if s["flipped"] else "bold green"
    console.print(f"[{style}]{s['flipped']} verdict{'s' if s['flipped'] != 1 else ''} flipped[/{style}] "
                  f"({s['lost']} lost, {s['gained']} gained), {s['rerouted']} rerouted, "
                  f"{s['changes']} resource change{'s' if s['changes'] != 1 else ''}, "
                  f"{s['new_problems']} new problem{'s' if s['new_problems'] != 1 else ''}"
                  + (f"; calls: {s['flipped_calls']} flipped, {s['call_edges_added']} edges added, "
                     f"{s['call_edges_removed']} removed" if s.get("flipped_calls") or s.get("call_edges_added")
                     or s.get("call_edges_removed") else ""))
    for f in d["flipped"]:
        colour = {"lost": "red", "gained": "green"}.get(f["direction"], "yellow")
        r = f["request"]
        console.print(f"  [{colour}]{f['direction']:<7}[/{colour}] {e(f['client'])} -> {e(f['service'])}/"
                      f"{e(f['listener'])} {e(r['method'])} {e(r['path'])}: {_short(f['old'])} => {_short(f['new'])}")
        console.print(f"           [dim]old: {e(f['old']['reason'])}[/dim]")
        console.print(f"           [dim]new: {e(f['new']['reason'])}[/dim]")
    for f in d.get("flipped_calls", []):
        colour = {"lost": "red", "gained": "green"}.get(f["direction"], "yellow")
        r = f["request"]
        console.print(f"  [{colour}]{f['direction']:<7}[/{colour}] call {e(f['caller'])} -> {e(str(f['service']))} "
                      f"{e(r['method'])} {e(r['url'])} ({e(f['step_path'])}): {_short(f['old'])} => {_short(f['new'])}")
        console.print(f"           [dim]old: {e(f['old']['reason'])}[/dim]")
        console.print(f"           [dim]new: {e(f['new']['reason'])}[/dim]")
    edges = d.get("call_edges", {})
    for kind, colour in (("added", "green"), ("removed", "red")):
        for c in edges.get(kind, []):
            r = c["request"]
            v = f": {_short(c['verdict'])}" if c["verdict"] else ""
            console.print(f"  [{colour}]{kind} call edge[/{colour}] {e(c['caller'])} -> {e(str(c['service']))} "
                          f"{e(r['method'])} {e(r['url'])} ({e(c['step_path'])}){e(v)}")
    for f in d.get("rerouted_calls", []):
        r = f["request"]
        console.print(f"  [yellow]rerouted[/yellow] call {e(f['caller'])} -> {e(str(f['service']))} {e(r['method'])} "
                      f"{e(r['url'])}: {e(f['old']['reason'])} => {e(f['new']['reason'])}")
    for f in d["rerouted"]:
        r = f["request"]
        console.print(f"  [yellow]rerouted[/yellow] {e(f['client'])} -> {e(f['service'])}/{e(f['listener'])} "
                      f"{e(r['method'])} {e(r['path'])}: {e(f['old']['reason'])} => {e(f['new']['reason'])}")
    if d["changes"]:
        console.print("changes:")
    for c in d["changes"]:
        colour = {"added": "green", "removed": "red"}.get(c["change"], "yellow")
        what = _value(c["new"] if c["change"] == "added" else c["old"]) if c["change"] != "changed" else \
            f"{_value(c['old'])} -> {_value(c['new'])}"
        if c.get("diff"):
            console.print(f"  [{colour}]{c['change']:<8}[/{colour}] {c['category']:<14} {e(c['path'])}:")
            for line in c["diff"]:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                console.print(f"      [{style}]{e(line)}[/{style}]", soft_wrap=True)
            continue
        console.print(f"  [{colour}]{c['change']:<8}[/{colour}] {c['category']:<14} {e(c['path'])}: {e(what)}")
    for p in d["problems"]["new"]:
        console.print(f"  [yellow]new problem[/yellow] {e(str(p['path']))}: {e(str(p['message']))}")
    for p in d["problems"]["resolved"]:
        console.print(f"  [green]resolved problem[/green] {e(str(p['path']))}: {e(str(p['message']))}")
    for c in d["clients"]["added"]:
        console.print(f"  [green]new client[/green] {e(c)} (not compared)")
    for c in d["clients"]["removed"]:
        console.print(f"  [red]removed client[/red] {e(c)}")


def _short(v: Mapping[str, Any]) -> str:
    text = v["outcome"]
    if v["status"] is not None:
        text += f" {v['status']}"
    if v["failure"]:
        text += f" {v['failure']}"
    return text


def _value(v: Any) -> str:
    text = json.dumps(v, separators=(",", ":"), default=str) if not isinstance(v, str) else v
    return text if len(text) <= 100 else text[:97] + "..."


__all__ = ["call_changes", "diff_scenarios", "policy_diff", "problem_changes", "render", "resource_changes",
           "verdict_changes"]
