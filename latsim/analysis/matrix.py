"""``latsim matrix``: could each client reach each service (and listener), and if not, why not.

A cell is one client x one endpoint (a service's listener, called by its custom domain or DNS
name on the listener's port and scheme) and holds the verdict of every distinct request of the
client's mix (method, path, headers, query, protocol), or of the ``--path``/``--method``
override. Every verdict is ``Topology.route``'s.

Scale comes from equivalence classes, not from a second decision procedure. ``route`` decides
in Lattice's stage order (LATTICE.md §12), and each stage sees only part of the caller, so one
``route`` call stands for every caller that provably gets the same answer:

1. DNS and "service not in the caller's network" -- the VPC and the host only;
2. the security-group stages -- the *network class* (VPC, client security groups, the client's
   address as far as any security-group CIDR tells it apart), the port and the service network;
3. no listener on the port, or the wrong protocol -- the endpoint only;
4. after that, when neither the service network nor the service uses AWS_IAM -- the endpoint
   and the request only;
5. otherwise the *auth class* too: anonymous or not, the identity policy, which Principal /
   NotPrincipal elements of the network and service policies name the caller, and the values
   of every condition key those policies read (the source address by ``aws:SourceIp`` CIDR).

Identical verdicts and cells are interned, so a 1 000 x 2 000 matrix is a grid of references.
``compute_matrix(..., group=False)`` routes every caller on its own; the tests hold the two
equal (tests/test_matrix.py).
"""

from __future__ import annotations

import csv
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from latsim.auth import build_context
from latsim.auth.context import K_SERVICE_ARN, K_SOURCE_IP
from latsim.compile import FIXED, FORWARDED, CompiledClient, RequestClass, Route, Topology
from latsim.model.client import Client, split_url

LISTENER_SCHEME = {"HTTP": "http", "HTTPS": "https", "TLS_PASSTHROUGH": "tls"}
VERDICTS = ("forwarded", "fixed_response", "denied", "unreachable", "mixed")
CSV_COLUMNS = ("client", "service", "listener", "port", "verdict", "status", "failure", "auth_denied_reason",
               "rule", "target_groups", "forwarded", "requests", "reason")
_NETWORK_ONLY = frozenset({"dns_failure", "NonExistentService"})
_LISTENER = frozenset({"connection_refused", "ClientProtocolError"})


# --- endpoints and requests -----------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """A service's listener as a client calls it."""

    service: str
    listener: str
    port: int
    scheme: str
    host: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def label(self) -> str:
        return f"{self.service}/{self.listener}"


def service_host(topo: Topology, service: str) -> str:
    svc = topo.services[service]
    return svc.model.custom_domain.lower().rstrip(".") if svc.model.custom_domain else svc.dns_name


def all_endpoints(topo: Topology, services: Iterable[str] | None = None) -> list[Endpoint]:
    """Every listener of every service (or of ``services``), in scenario order."""
    out = []
    for name in services if services is not None else topo.services:
        svc = topo.services[name]
        host = service_host(topo, name)
        for lst in svc.listeners_by_name.values():
            out.append(Endpoint(name, lst.name, lst.port, LISTENER_SCHEME.get(lst.protocol, "https"), host))
    return out


def client_requests(client: Client, *, path: str | None = None, method: str | None = None) -> tuple[RequestClass, ...]:
    """The distinct requests of a client's mix, without their URL (``url=""``), in mix order;
    ``path``/``method`` replace the mix's."""
    seen: dict[RequestClass, None] = {}
    for spec in client.requests:
        rc = RequestClass.of(client, spec)
        _, _, _, url_path = split_url(rc.url)
        p = rc.path if rc.path != "/" or url_path == "/" else url_path
        rc = RequestClass("", method or rc.method, path or p, rc.headers, rc.query, rc.protocol)
        seen.setdefault(rc, None)
    if not seen:
        seen[RequestClass("", method or "GET", path or "/")] = None
    return tuple(seen)


def at(rc: RequestClass, url: str) -> RequestClass:
    """A URL-less request class sent to ``url``."""
    return RequestClass(url, rc.method, rc.path, rc.headers, rc.query, rc.protocol)


# --- equivalence classes of callers ---------------------------------------------------------------

@dataclass
class Caller:
    """A compiled client (real or synthetic) with the keys of its equivalence classes: ``net``
    for the security-group stages; ``post`` (VPC, source IP as the auth policies can tell it
    apart, principal, identity policy) for everything after them; ``values``, the condition-key
    values the caller puts into every request context, to project on a policy's keys."""

    client: CompiledClient
    net: int
    post: int
    vpc: str
    auth: int = 0
    values: Mapping[str, Any] = field(default_factory=dict)
    identity: str | None = None
    spec: Any = None  # explain.CallerSpec that rebuilds it (verify)


class CallerKeyer:
    """Computes the classes; two callers with equal keys get equal verdicts."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        nets: set[Any] = set()
        for sg in topo.scn.security_groups:
            for rule in sg.ingress:
                net = _network(rule.peer)
                if net is not None:
                    nets.add(net)
        self.sg_networks = _ordered(nets)
        self.exact_ip = False
        policy_nets: set[Any] = set()
        policies = [s.policy for s in topo.services.values()] + [n.policy for n in topo.networks.values()]
        policies += [c.identity_policy for c in topo.clients.values()]
        for pol in policies:
            self._source_ip_constants(pol, policy_nets)
        self.policy_networks = _ordered(policy_nets)
        self.ids: dict[Any, int] = {}

    def _source_ip_constants(self, policy: Any, nets: set[Any]) -> None:
        """Collect a policy's ``aws:SourceIp`` CIDRs; give up summarising addresses when a value is not one."""
        if policy is None or "aws:sourceip" not in policy.referenced_keys:
            return
        values = policy.constants("aws:SourceIp")
        if not values:
            self.exact_ip = True  # only policy variables
        for v in values:
            net = _network(v)
            if net is None:
                self.exact_ip = True
            else:
                nets.add(net)

    @staticmethod
    def _signature(ip: str, networks: Sequence[Any]) -> tuple[int, ...]:
        addr = ipaddress.ip_address(ip)
        return tuple(i for i, n in enumerate(networks) if n.version == addr.version and addr in n)

    def _id(self, key: Any) -> int:
        return self.ids.setdefault(key, len(self.ids))

    def caller(self, cc: CompiledClient, spec: Any = None) -> Caller:
        p = cc.principal
        pkey = None if p is None else (p.arn, p.account, p.org_id, tuple(p.org_paths), tuple(sorted(p.tags.items())))
        ikey = None if cc.identity_policy is None else cc.identity_policy.to_json()
        net = self._id(("net", cc.vpc, tuple(cc.model.security_groups), cc.sg_ids,
                        self._signature(cc.ip, self.sg_networks)))
        ip = cc.ip if self.exact_ip else self._signature(cc.ip, self.policy_networks)
        auth = self._id(("auth", pkey, ikey))
        post = self._id(("post", cc.vpc, ip, auth))
        ctx = build_context(service_arn="-", principal=p, source_vpc=cc.vpc_id, source_vpc_owner=cc.vpc_owner)
        values: dict[str, Any] = dict(ctx.values)
        values.pop(K_SERVICE_ARN, None)
        values[K_SOURCE_IP] = ip  # as finely as any policy can tell source addresses apart
        return Caller(cc, net, post, cc.vpc, auth, values, ikey, spec)


def _ordered(nets: Iterable[Any]) -> list[Any]:
    return sorted(nets, key=lambda n: (n.version, str(n)))


def _network(text: str) -> Any:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


# --- verdicts, cells and the layered route cache ---------------------------------------------------

class Verdict(NamedTuple):
    """One request class's decision, reduced to what a matrix shows (interned)."""

    outcome: str
    status: int | None
    failure: str | None
    rule: str | None
    target_groups: tuple[tuple[str, int], ...]
    auth_denied_reason: str | None
    stage: str | None
    reason: str


def verdict_of(r: Route) -> Verdict:
    """Reduce a Route to a Verdict, with the reason a reader needs."""
    tgs = tuple(r.target_groups.items())
    stop = None
    if r.auth_denied_reason is not None:
        stage = f"auth_{r.auth_denied_reason.lower()}"
        stop = next((s for s in r.steps if s.stage == stage), None)
    if stop is None:
        stop = next((s for s in r.steps if s.verdict in ("fail", "deny", "implicit-deny")), None)
    if r.outcome == FORWARDED:
        total = sum(w for _, w in tgs)
        reason = f"rule {r.rule} -> " + ", ".join(f"{k} {w}" for k, w in tgs)
        if total == 0:
            reason += " (every weight is 0)"
    elif r.outcome == FIXED:
        reason = f"rule {r.rule}: fixed response {r.status}"
    elif r.auth_denied_reason is not None:
        reason = f"{r.auth_denied_reason} policy: {stop.detail if stop else 'denied'}"
    else:
        reason = stop.detail if stop is not None else (r.failure or r.outcome)
    return Verdict(r.outcome, r.status, r.failure, r.rule, tgs, r.auth_denied_reason,
                   stop.stage if stop is not None else None, reason)


@dataclass(eq=False)
class Cell:
    """One caller group x one endpoint: the verdict of each of the group's requests."""

    results: tuple[Verdict, ...]
    _summary: tuple[Any, ...] | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        first = self.results[0].outcome
        return first if all(v.outcome == first for v in self.results) else "mixed"

    @property
    def forwarded(self) -> int:
        return sum(1 for v in self.results if v.outcome == FORWARDED)

    def main(self) -> Verdict:
        """The verdict that speaks for the cell: the first request that was not forwarded."""
        return next((v for v in self.results if v.outcome != FORWARDED), self.results[0])


class RouteCache:
    """``Topology.route`` behind layers of sharing (see the module docstring)."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.dns: dict[tuple[str, str], Verdict] = {}          # (VPC, host): DNS / not in the network
        self.net_of: dict[tuple[str, str], str] = {}            # (VPC, host) -> service network used
        self.gate: dict[tuple[int, int, str], Verdict | None] = {}  # SG stages; None: they pass
        self.listener_fail: dict[int, Verdict] = {}            # endpoint: no listener / wrong protocol
        self.auth_off: dict[tuple[str, str], bool] = {}         # (network, host): no AWS_IAM anywhere
        self.post: dict[tuple[int, ...], Verdict] = {}          # after the SG stages
        self.auth_classes: dict[tuple[int, str, str], int] = {}  # (caller post class, network, host)
        self.auth_ids: dict[Any, int] = {}
        self.verdicts: dict[Verdict, Verdict] = {}
        self.cells: dict[tuple[int, ...], Cell] = {}
        self.req_ids: dict[RequestClass, int] = {}
        self.routes = 0
        self.endpoints: list[Endpoint] = []

    def endpoint_ids(self, eps: Sequence[Endpoint]) -> list[int]:
        self.endpoints = list(eps)
        return list(range(len(eps)))

    def verdict(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> Verdict:
        e = self.endpoints[ep]
        hk = (caller.vpc, e.host)
        v = self.dns.get(hk)
        if v is not None:
            return v
        net = self.net_of.get(hk)
        if net is not None:
            gk = (caller.net, e.port, net)
            if gk in self.gate:
                g = self.gate[gk]
                if g is not None:
                    return g
                v = self.listener_fail.get(ep)
                if v is not None:
                    return v
                off = self.auth_off.get((net, e.host))
                if off is not None:
                    v = self.post.get((ep, rid) if off else (self.auth_class(caller, net, e.host), ep, rid))
                    if v is not None:
                        return v
        r = self.topo.route(caller.client, at(req, e.url))
        self.routes += 1
        v = verdict_of(r)
        v = self.verdicts.setdefault(v, v)
        if r.failure in _NETWORK_ONLY:
            self.dns[hk] = v
            return v
        net = r.service_network or ""
        self.net_of[hk] = net
        gk = (caller.net, e.port, net)
        if r.failure == "connect_timeout":  # dropped by a security group
            self.gate[gk] = v
            return v
        self.gate[gk] = None
        if r.failure in _LISTENER:
            self.listener_fail[ep] = v
            return v
        off = all(s.verdict == "skipped" for s in r.steps if s.stage.startswith("auth_"))
        self.auth_off[(net, e.host)] = off
        self.post[(ep, rid) if off else (self.auth_class(caller, net, e.host), ep, rid)] = v
        return v

    def auth_class(self, caller: Caller, net: str, host: str) -> int:
        """Callers in one class get the same auth decision for every request to ``host`` through
        ``net``: same anonymity and identity policy, same Principal/NotPrincipal matches in the
        network and service policies, same values for every condition key those policies read."""
        k = (caller.post, net, host)
        c = self.auth_classes.get(k)
        if c is None:
            policies = [caller.client.identity_policy]
            nw = self.topo.networks.get(net)
            svc = self.topo.services[self.topo.hosts[host]]
            matches: list[tuple[bool, ...]] = []
            for owner in (nw, svc):
                if owner is not None and owner.auth_type == "AWS_IAM" and owner.policy is not None:
                    policies.append(owner.policy)
                    matches.append(tuple(st.principal_matches(caller.client.principal)
                                         for st in owner.policy.statements))
            keys = sorted({key for pol in policies if pol is not None for key in pol.referenced_keys})
            values = caller.values
            sig = (net, host, caller.client.principal is None, caller.identity, tuple(matches),
                   tuple(values.get(key) for key in keys))
            c = self.auth_classes[k] = self.auth_ids.setdefault(sig, len(self.auth_ids))
        return c

    def request_id(self, req: RequestClass) -> int:
        return self.req_ids.setdefault(req, len(self.req_ids))

    def cell(self, caller: Caller, ep: int, reqs: Sequence[RequestClass], rids: Sequence[int]) -> Cell:
        v = self.dns.get((caller.vpc, self.endpoints[ep].host))
        if v is not None:  # the common case in a large matrix: one verdict for every request
            results: tuple[Verdict, ...] = (v,) * len(reqs)
        elif len(reqs) == 1:
            results = (self.verdict(caller, ep, reqs[0], rids[0]),)
        else:
            results = tuple(self.verdict(caller, ep, r, i) for r, i in zip(reqs, rids, strict=True))
        key = tuple(map(id, results))
        c = self.cells.get(key)
        if c is None:
            c = self.cells[key] = Cell(results)
        return c


class UncachedRoutes(RouteCache):
    """One ``route`` call per caller x endpoint x request: the reference the grouping is tested against."""

    def verdict(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> Verdict:
        r = self.topo.route(caller.client, at(req, self.endpoints[ep].url))
        self.routes += 1
        v = verdict_of(r)
        return self.verdicts.setdefault(v, v)


# --- the matrix -----------------------------------------------------------------------------------

@dataclass
class Group:
    """Clients that are indistinguishable to Lattice and send the same requests."""

    caller: Caller
    requests: tuple[RequestClass, ...]
    clients: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Matrix:
    """Verdicts of every client x endpoint; ``rows()`` expands the groups client by client."""

    endpoints: list[Endpoint]
    groups: list[Group]
    clients: list[str]
    routes_evaluated: int = 0
    _by_client: dict[str, Group] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for g in self.groups:
            for c in g.clients:
                self._by_client[c] = g

    def cell(self, client: str, service: str, listener: str | None = None) -> Cell:
        g = self._by_client[client]
        for ep, c in zip(self.endpoints, g.cells, strict=True):
            if ep.service == service and (listener is None or ep.listener == listener):
                return c
        raise KeyError(f"{service}/{listener}")

    def requests_of(self, client: str) -> tuple[RequestClass, ...]:
        return self._by_client[client].requests

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for g in self.groups:
            n = len(g.clients)
            for c in g.cells:
                out[c.verdict] += n
        return out

    def stats(self) -> dict[str, Any]:
        nets = {g.caller.net for g in self.groups}
        auths = {g.caller.auth for g in self.groups}
        posts = {g.caller.post for g in self.groups}
        return {"clients": len(self.clients), "endpoints": len(self.endpoints),
                "services": len({e.service for e in self.endpoints}),
                "cells": len(self.clients) * len(self.endpoints), "caller_groups": len(self.groups),
                "network_classes": len(nets), "auth_classes": len(auths), "post_classes": len(posts),
                "routes_evaluated": self.routes_evaluated, "by_verdict": self.counts()}

    # -- rows ----------------------------------------------------------------------------------
    def row_tail(self, c: Cell) -> tuple[Any, ...]:
        """The per-cell columns after client, service, listener, port (cached on the cell)."""
        if c._summary is None:
            m = c.main()
            reason = m.reason
            if c.verdict == "mixed":
                reason = f"{c.forwarded}/{len(c.results)} requests forwarded; " + _mixed_reason(c)
            c._summary = (c.verdict, m.status, m.failure, m.auth_denied_reason, m.rule,
                          ";".join(f"{k}:{w}" for k, w in m.target_groups), c.forwarded, len(c.results), reason)
        return c._summary

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """One tuple per client x endpoint, columns as ``CSV_COLUMNS``, clients in scenario order."""
        for name in self.clients:
            g = self._by_client[name]
            for ep, c in zip(self.endpoints, g.cells, strict=True):
                yield (name, ep.service, ep.listener, ep.port) + self.row_tail(c)

    def write_csv(self, fh: IO[str]) -> None:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        w.writerows(self.rows())

    def to_dict(self) -> dict[str, Any]:
        cells = []
        for name in self.clients:
            g = self._by_client[name]
            for ep, c in zip(self.endpoints, g.cells, strict=True):
                d: dict[str, Any] = dict(zip(CSV_COLUMNS, (name, ep.service, ep.listener, ep.port) + self.row_tail(c),
                                             strict=True))
                d["target_groups"] = dict(c.main().target_groups)
                d["requests"] = [{"method": r.method, "path": r.path, "headers": dict(r.headers),
                                  "protocol": r.protocol, "outcome": v.outcome, "status": v.status,
                                  "failure": v.failure, "rule": v.rule, "auth_denied_reason": v.auth_denied_reason,
                                  "reason": v.reason}
                                 for r, v in zip(g.requests, c.results, strict=True)]
                cells.append(d)
        return {"clients": list(self.clients),
                "endpoints": [{"service": e.service, "listener": e.listener, "port": e.port, "scheme": e.scheme,
                               "url": e.url} for e in self.endpoints],
                "cells": cells, "summary": self.stats()}

    def write_json(self, fh: IO[str]) -> None:
        json.dump(self.to_dict(), fh, indent=1)
        fh.write("\n")


def _mixed_reason(c: Cell) -> str:
    seen: list[str] = []
    for v in c.results:
        if v.outcome != FORWARDED and v.reason not in seen:
            seen.append(v.reason)
    return "; ".join(seen[:2]) + (" ..." if len(seen) > 2 else "")


def compute_matrix(topo: Topology, *, clients: Iterable[str] | None = None,
                   endpoints: Sequence[Endpoint] | None = None, path: str | None = None,
                   method: str | None = None,
                   requests_for: Callable[[str], tuple[RequestClass, ...]] | None = None,
                   group: bool = True) -> Matrix:
    """The verdict of every client x endpoint. ``requests_for(client)`` overrides the requests
    taken from the mix; ``group=False`` routes every client on its own (for testing the grouping)."""
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
    # Cells an earlier group of the same VPC (and number of requests) found unreachable at DNS
    # are the same for every later one: copy that row and compute only the others.
    templates: dict[tuple[str, int], tuple[list[Cell | None], list[int]]] = {}
    cell = cache.cell
    for g in groups.values():
        rids = [cache.request_id(r) for r in g.requests]
        reqs = g.requests
        caller = g.caller
        tkey = (caller.vpc, len(reqs))
        t = templates.get(tkey)
        if t is None:
            g.cells = [cell(caller, i, reqs, rids) for i in ep_ids]
            dns = cache.dns
            row: list[Cell | None] = [c if (caller.vpc, eps[i].host) in dns else None
                                      for i, c in zip(ep_ids, g.cells, strict=True)]
            templates[tkey] = (row, [i for i in ep_ids if row[i] is None])
        else:
            row = t[0].copy()
            for i in t[1]:
                row[i] = cell(caller, i, reqs, rids)
            g.cells = row  # type: ignore[assignment]
    return Matrix(eps, list(groups.values()), names, cache.routes)


# --- rendering -----------------------------------------------------------------------------------

_CELL_STYLE = {"forwarded": ("✓", "green"), "fixed_response": (None, "yellow"), "denied": ("403", "red"),
               "unreachable": ("✗", "red"), "mixed": ("~", "yellow")}
GRID_MAX_ENDPOINTS = 24


def render_table(m: Matrix, console: Any) -> None:
    """A coloured grid (clients x endpoints) with the reasons below it; a long table when wide."""
    from rich.markup import escape as e
    from rich.table import Table
    if len(m.endpoints) <= GRID_MAX_ENDPOINTS:
        multi = {e_.service for e_ in m.endpoints if sum(1 for x in m.endpoints if x.service == e_.service) > 1}
        t = Table(title="reachability (rows: clients, columns: services)", title_justify="left")
        t.add_column("client")
        for ep in m.endpoints:
            t.add_column(ep.label if ep.service in multi else ep.service, justify="center")
        reasons: dict[str, list[str]] = {}
        for name in m.clients:
            g = m._by_client[name]
            cells = []
            for ep, c in zip(m.endpoints, g.cells, strict=True):
                verdict = c.verdict
                mark, style = _CELL_STYLE[verdict]
                main = c.main()
                text = mark or str(main.status)
                cells.append(f"[{style}]{text}[/{style}]")
                if verdict != FORWARDED:
                    reason = m.row_tail(c)[-1]
                    reasons.setdefault(f"{verdict}: {reason}", []).append(f"{name} -> {ep.label}")
            t.add_row(e(name), *cells)
        console.print(t)
        console.print("[green]✓[/green] forwarded  [yellow]404/500[/yellow] fixed response  [red]403[/red] denied  "
                      "[red]✗[/red] unreachable  [yellow]~[/yellow] some requests of the mix only")
        for reason, where in reasons.items():
            shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
            console.print(f"  {e(reason)}  [dim]({e(shown)})[/dim]")
    else:
        t = Table(title="reachability", title_justify="left")
        for col in ("client", "service", "listener", "verdict", "status", "reason"):
            t.add_column(col)
        for row in m.rows():
            verdict = row[4]
            style = _CELL_STYLE[verdict][1]
            t.add_row(e(row[0]), e(row[1]), e(row[2]), f"[{style}]{verdict}[/{style}]",
                      "" if row[5] is None else str(row[5]), e(str(row[-1])))
        console.print(t)
    s = m.stats()
    counts = ", ".join(f"{k} {v:,}" for k, v in s["by_verdict"].items() if v)
    console.print(f"{s['cells']:,} cells ({counts}); {s['caller_groups']:,} caller classes, "
                  f"{s['routes_evaluated']:,} route decisions", markup=False)


__all__ = ["CSV_COLUMNS", "Caller", "CallerKeyer", "Cell", "Endpoint", "Group", "Matrix", "RouteCache",
           "Verdict", "all_endpoints", "at", "client_requests", "compute_matrix", "render_table",
           "service_host", "verdict_of"]
