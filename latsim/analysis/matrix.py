"""``latsim matrix``: could each client reach each service (and listener), and if not, why not.

A cell is one client x one endpoint (a service's listener, called by its custom domain or DNS
name on the listener's port and scheme) and holds the verdict of every distinct request of the
client's mix (method, path, headers, query, protocol), or of the ``--path``/``--method``
override. Every verdict is ``Topology.route``'s.

Scale comes from equivalence classes (``latsim.analysis.equivalence``), not from a second
decision procedure: one ``route`` call stands for every caller that provably gets the same answer.

Verdicts are integers indexing a table of distinct verdicts, and a row of the matrix is an
array of integers: ``~v`` when every request of the cell got verdict ``v`` (the common case),
else the index of a mixed cell (a tuple of verdict indices). Callers of one DNS class with the
same security-group outcomes and requests share the part of their rows past the DNS stage but
for the cells auth decides, which they share with callers of the same auth key too. CSV and
JSON are written from those tables; ``Cell`` objects exist only on demand.

``compute_matrix(..., group=False)`` routes every caller on its own; the tests hold the two
equal (tests/test_matrix.py). Writing a matrix (CSV, JSON, a table) is
``latsim.analysis.matrix_output``.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from latsim.analysis.callgraph import CallGraph, CallSite
from latsim.analysis.endpoints import Endpoint, all_endpoints, client_requests
from latsim.analysis.equivalence import (
    Caller,
    CallerKeyer,
    Cell,
    CellTable,
    RouteCache,
    UncachedRoutes,
    Verdict,
    summary,
    uniform_summary,
    verdict_of,
)
from latsim.analysis.explain import request_url
from latsim.compile import FORWARDED, RequestClass, Topology
from latsim.gcpause import paused
from latsim.model.client import split_url

VERDICTS = ("forwarded", "fixed_response", "denied", "unreachable", "target_failure", "mixed")
CSV_COLUMNS = ("client", "service", "listener", "port", "verdict", "status", "failure", "auth_denied_reason",
               "rule", "target_groups", "forwarded", "requests", "reason")


# --- the matrix -----------------------------------------------------------------------------------

@dataclass
class Group:
    """Clients that are indistinguishable to Lattice and send the same requests; ``row`` holds
    a cell code (see ``CellTable``) per endpoint."""

    caller: Caller
    requests: tuple[RequestClass, ...]
    clients: list[str] = field(default_factory=list)
    row: Sequence[int] = field(default_factory=list)
    table: CellTable | None = field(default=None, repr=False, compare=False)

    @cached_property
    def cells(self) -> list[Cell]:
        assert self.table is not None
        k = len(self.requests)
        return [self.table.cell(code, k) for code in self.row]


@dataclass
class CallRow:
    """A calling target group as a row (call graphs): for each endpoint it calls, the verdict of
    each call step sent there, from the group's caller view, with the step's own URL and request."""

    name: str
    cells: dict[int, list[tuple[CallSite, RequestClass, Verdict]]]


def call_rows(topo: Topology, endpoints: Sequence[Endpoint]) -> list[CallRow]:
    """A row per target group that can call services (latsim.analysis.callgraph), in scenario
    order; a call goes to the column of the listener that decided it (else of its service and port,
    else the service's first listener)."""
    graph = CallGraph(topo)
    by_listener = {(e.service, e.listener): i for i, e in enumerate(endpoints)}
    by_port = {(e.service, e.port): i for i, e in enumerate(endpoints)}
    first: dict[str, int] = {}
    for i, e in enumerate(endpoints):
        first.setdefault(e.service, i)
    rows = []
    for tg in graph.callers():
        view = graph.view(tg)
        cells: dict[int, list[tuple[CallSite, RequestClass, Verdict]]] = {}
        for site in graph.sites(tg):
            r = graph.route(site, view)
            svc = r.service or site.service
            col = by_listener.get((svc or "", r.listener or ""))
            if col is None:
                col = by_port.get((svc or "", split_url(site.rc.url)[2]), first.get(svc or ""))
            if col is not None:
                cells.setdefault(col, []).append((site, site.rc, verdict_of(r)))
        rows.append(CallRow(tg, dict(sorted(cells.items()))))
    return rows


@dataclass
class Matrix:
    """Verdicts of every client x endpoint; ``rows()`` expands the groups client by client."""

    endpoints: list[Endpoint]
    groups: list[Group]
    clients: list[str]
    routes_evaluated: int = 0
    table: CellTable = field(default_factory=lambda: CellTable([], []), repr=False)
    _by_client: dict[str, Group] = field(default_factory=dict, repr=False)
    _tails: dict[tuple[int, int], tuple[Any, ...]] = field(default_factory=dict, repr=False)
    call_rows: list[CallRow] = field(default_factory=list)  # calling target groups, after the clients

    def __post_init__(self) -> None:
        for g in self.groups:
            g.table = self.table
            for c in g.clients:
                self._by_client[c] = g

    def cell(self, client: str, service: str, listener: str | None = None) -> Cell:
        g = self._by_client[client]
        for ep, code in zip(self.endpoints, g.row, strict=True):
            if ep.service == service and (listener is None or ep.listener == listener):
                return self.table.cell(code, len(g.requests))
        raise KeyError(f"{service}/{listener}")

    def calls_of(self, target_group: str, service: str, listener: str | None = None) -> list[Verdict]:
        """The verdicts of a calling target group's calls to ``service`` (and ``listener``), in step order."""
        row = next(r for r in self.call_rows if r.name == target_group)
        return [v for i, items in row.cells.items() for _, _, v in items
                if self.endpoints[i].service == service and (listener is None or self.endpoints[i].listener == listener)]

    def call_cells(self) -> list[dict[str, Any]]:
        """The calling target groups' cells as JSON: one per group x endpoint it calls."""
        out = []
        for row in self.call_rows:
            for i, items in row.cells.items():
                ep = self.endpoints[i]
                results = [v for _, _, v in items]
                d: dict[str, Any] = {"client": row.name, "service": ep.service, "listener": ep.listener,
                                     "port": ep.port}
                d.update(dict(zip(CSV_COLUMNS[4:], summary(results), strict=True)))
                d["target_groups"] = dict(next((v for v in results if v.outcome != FORWARDED), results[0]).target_groups)
                d["requests"] = [{"step": site.label, "step_path": site.path, "url": request_url(rc),
                                  "method": rc.method, "path": rc.route_path, "headers": dict(rc.headers),
                                  "protocol": rc.protocol, "outcome": v.outcome, "status": v.status,
                                  "failure": v.failure, "rule": v.rule, "auth_denied_reason": v.auth_denied_reason,
                                  "reason": v.reason} for site, rc, v in items]
                d["caller_type"] = "target_group"
                out.append(d)
        return out

    def group(self, client: str) -> Group:
        """The group a client belongs to (its requests and its row of cell codes)."""
        return self._by_client[client]

    def requests_of(self, client: str) -> tuple[RequestClass, ...]:
        return self._by_client[client].requests

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for g in self.groups:
            n, k = len(g.clients), len(g.requests)
            for code, times in Counter(g.row).items():
                out[self.table.outcome(code, k)] += n * times
        return out

    def stats(self) -> dict[str, Any]:
        nets = {g.caller.net for g in self.groups}
        auths = {g.caller.auth for g in self.groups}
        posts = {g.caller.post for g in self.groups}
        return {"clients": len(self.clients), "endpoints": len(self.endpoints),
                "services": len({e.service for e in self.endpoints}),
                "cells": len(self.clients) * len(self.endpoints), "caller_groups": len(self.groups),
                "network_classes": len(nets), "auth_classes": len(auths), "post_classes": len(posts),
                "dns_classes": len({g.caller.dns for g in self.groups}),
                "distinct_verdicts": len(self.table.verdicts),
                "routes_evaluated": self.routes_evaluated, "by_verdict": self.counts()}

    # -- rows ----------------------------------------------------------------------------------
    def row_tail(self, c: Cell) -> tuple[Any, ...]:
        """The per-cell columns after client, service, listener, port (cached on the cell)."""
        if c._summary is None:
            c._summary = summary(c.results)
        return c._summary

    def tail(self, code: int, k: int) -> tuple[Any, ...]:
        """``row_tail`` of a cell code for ``k`` requests (cached)."""
        t = self._tails.get((code, k))
        if t is None:
            t = self._tails[code, k] = self._tail(code, k)
        return t

    def _tail(self, code: int, k: int) -> tuple[Any, ...]:
        if code < 0:
            return uniform_summary(self.table.verdicts[~code], k)
        return summary(self.table.results(code, k))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """One tuple per client x endpoint, columns as ``CSV_COLUMNS``, clients in scenario order."""
        heads = [(ep.service, ep.listener, ep.port) for ep in self.endpoints]
        for name in self.clients:
            g = self._by_client[name]
            k = len(g.requests)
            tail = self.tail
            for head, code in zip(heads, g.row, strict=True):
                yield (name, *head) + tail(code, k)
        for row in self.call_rows:
            for i, items in row.cells.items():
                yield (row.name, *heads[i]) + summary([v for _, _, v in items])

    def json_cell(self, code: int, requests: tuple[RequestClass, ...]) -> dict[str, Any]:
        """A cell's JSON members after client, service, listener and port."""
        results = self.table.results(code, len(requests))
        d: dict[str, Any] = dict(zip(CSV_COLUMNS[4:], summary(results), strict=True))
        d["target_groups"] = dict(next((v for v in results if v.outcome != FORWARDED), results[0]).target_groups)
        d["requests"] = [{"method": r.method, "path": r.path, "headers": dict(r.headers),
                          "protocol": r.protocol, "outcome": v.outcome, "status": v.status,
                          "failure": v.failure, "rule": v.rule, "auth_denied_reason": v.auth_denied_reason,
                          "reason": v.reason}
                         for r, v in zip(requests, results, strict=True)]
        return d

    def head(self) -> dict[str, Any]:
        return {"clients": list(self.clients),
                "endpoints": [{"service": e.service, "listener": e.listener, "port": e.port, "scheme": e.scheme,
                               "url": e.url} for e in self.endpoints]}

    def to_dict(self) -> dict[str, Any]:
        cells = []
        for name in self.clients:
            g = self._by_client[name]
            for ep, code in zip(self.endpoints, g.row, strict=True):
                d: dict[str, Any] = {"client": name, "service": ep.service, "listener": ep.listener, "port": ep.port}
                d.update(self.json_cell(code, g.requests))
                cells.append(d)
        cells += self.call_cells()
        return {**self.head(), "cells": cells, "summary": self.stats()}


def compute_matrix(topo: Topology, *, clients: Iterable[str] | None = None,
                   endpoints: Sequence[Endpoint] | None = None, path: str | None = None,
                   method: str | None = None,
                   requests_for: Callable[[str], tuple[RequestClass, ...]] | None = None,
                   group: bool = True, target_groups: bool = True) -> Matrix:
    """The verdict of every client x endpoint. ``requests_for(client)`` overrides the requests
    taken from the mix; ``group=False`` routes every client on its own (for testing the grouping).
    With every client (``clients`` None) and ``target_groups``, the calling target groups follow
    as rows of their own calls (``call_rows``; ``path``/``method`` do not apply to them)."""
    eps = list(endpoints) if endpoints is not None else all_endpoints(topo)
    names = list(clients) if clients is not None else list(topo.clients)
    cache = RouteCache(topo) if group else UncachedRoutes(topo)
    ep_ids = cache.endpoint_ids(eps)
    keyer = CallerKeyer(topo)
    groups: dict[Any, Group] = {}
    for name in names:
        cc = topo.clients[name]
        reqs = requests_for(name) if requests_for is not None else client_requests(cc.model, path=path, method=method)
        caller = keyer.caller(cc)
        key = (caller.net, caller.post, reqs) if group else name
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(caller, reqs)
        g.clients.append(name)
    with paused():
        if group:
            _fill_rows(cache, list(groups.values()))
        else:
            for g in groups.values():
                rids = [cache.request_id(r) for r in g.requests]
                g.row = array("q", [cache.code(g.caller, i, g.requests, rids) for i in ep_ids])
    m = Matrix(eps, list(groups.values()), names, cache.routes, cache.table())
    if clients is None and target_groups:
        m.call_rows = call_rows(topo, eps)
    return m


def _fill_rows(cache: RouteCache, groups: Sequence[Group]) -> None:
    """Each group's row: the DNS stage once per VPC (its failures name the VPC), the rest once
    per (DNS class, security-group outcomes, auth class, requests)."""
    n = len(cache.endpoints)
    eps = cache.endpoints
    firsts: dict[str, tuple[Caller, RequestClass, int]] = {}  # VPC -> a caller in it, a request
    for g in groups:
        if g.caller.vpc not in firsts:
            firsts[g.caller.vpc] = (g.caller, g.requests[0], cache.request_id(g.requests[0]))
    # The DNS stage, host by host (consecutive calls parse the same URL). Its outcome is the
    # DNS class's; where it fails, the reason names the VPC, so each VPC of the class is routed.
    hosts: dict[str, list[int]] = {}
    for i, e in enumerate(eps):
        hosts.setdefault(e.host, []).append(i)
    classes: dict[int, list[tuple[Caller, RequestClass, int]]] = {}
    for first in firsts.values():
        classes.setdefault(first[0].dns, []).append(first)
    base = {vpc: [0] * n for vpc in firsts}
    past: dict[int, list[int]] = {d: [] for d in classes}  # DNS class -> endpoints past DNS
    dns_stage = cache.dns_stage
    for idx in hosts.values():
        i = idx[0]
        for d, members in classes.items():
            c, r0, i0 = members[0]
            if dns_stage(c, i, r0, i0) < 0:
                past[d] += idx
                continue
            for k, (c, r0, i0) in enumerate(members):
                v = dns_stage(c, i, r0, i0) if k == 0 else cache.dns_failure(c, i, r0, i0)
                row = base[c.vpc]
                for j in idx:
                    row[j] = ~v
    probes: dict[int, list[int]] = {}  # DNS class -> an endpoint past DNS per (network, port)
    rests: dict[tuple[Any, ...], list[int]] = {}  # (DNS class, SG outcomes, auth key, requests) -> codes past DNS
    shared: dict[tuple[Any, ...], tuple[list[int], list[int]]] = {}  # the same without the auth key
    for g in groups:
        c, reqs = g.caller, g.requests
        row = base[c.vpc].copy()
        todo = past[c.dns]
        if todo:
            rids = [cache.request_id(r) for r in reqs]
            pr = probes.get(c.dns)
            if pr is None:
                seen: dict[tuple[str | None, int], int] = {}
                for i in todo:
                    seen.setdefault((cache.net_of[c.dns, eps[i].host], eps[i].port), i)
                pr = probes[c.dns] = list(seen.values())
            gates = tuple(cache.gate_stage(c, i, reqs[0], rids[0]) for i in pr)
            rk = (c.dns, gates, c.authkey, reqs)
            rest = rests.get(rk)
            if rest is None:
                sk = rk[:2] + rk[3:]
                sh = shared.get(sk)
                if sh is None:  # the first auth class: every cell, and which of them auth decides
                    rest = [cache.code(c, i, reqs, rids) for i in todo]
                    shared[sk] = (rest, [j for j, i in enumerate(todo) if cache.auth_decides(c, i)])
                else:  # another one: only the cells auth decides
                    rest = sh[0].copy()
                    for j in sh[1]:
                        rest[j] = cache.code(c, todo[j], reqs, rids)
                rests[rk] = rest
            for i, code in zip(todo, rest, strict=True):
                row[i] = code
        g.row = array("q", row)


__all__ = ["CSV_COLUMNS", "VERDICTS", "CallRow", "Group", "Matrix", "call_rows", "compute_matrix"]
