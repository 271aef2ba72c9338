"""Equivalence keying for the static analyses: callers and requests that Lattice cannot tell
apart share one ``Topology.route`` call.

Scale comes from equivalence classes, not from a second decision procedure. ``route`` decides
in Lattice's stage order (docs/lattice.md §12), and each stage sees only part of the caller, so one
``route`` call stands for every caller that provably gets the same answer:

1. DNS and "service not in the caller's network" -- the host and the service networks the VPC
   reaches, and how (its *DNS class*: VPCs with the same associations and service-network
   endpoints are one class). Where this stage fails, its reason names the VPC, so that verdict
   is routed per VPC; where it passes, the class tells the network used;
2. the security-group stages -- the client's side (its security groups, and its address as far
   as any security-group CIDR tells it apart), the association security groups of the caller's
   VPC in that network (or none: an endpoint), the port and the service network -- not the VPC;
3. no listener on the port, or the wrong protocol -- the endpoint only;
4. after that, when neither the service network nor the service uses AWS_IAM -- the endpoint
   and the request only;
5. otherwise the *auth class* too: anonymous or not, the identity policy, which Principal /
   NotPrincipal elements of the network and service policies name the caller, and the values
   of every condition key those policies read -- the source address by ``aws:SourceIp`` CIDR,
   the source VPC and its owner by which of the policies' conditions on them they satisfy
   (exactly, unless a policy uses them in a policy variable). VPCs that no policy tells apart
   share their auth classes.

What stays per VPC is the DNS stage's failures: "not in your service networks" names the VPC
and the service, so a 500-VPC matrix holds that many distinct verdicts per service and routes
each once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from latsim.analysis.endpoints import Endpoint, at
from latsim.auth import build_context
from latsim.auth.context import K_SERVICE_ARN, K_SOURCE_IP, K_SOURCE_VPC, K_SOURCE_VPC_OWNER
from latsim.compile import FIXED, FORWARDED, TARGET_FAILURE, CompiledClient, RequestClass, Route, Topology
from latsim.delivery import decide

_NETWORK_ONLY = frozenset({"dns_failure", "NonExistentService"})
_LISTENER = frozenset({"connection_refused", "ClientProtocolError"})
_VPC_KEYS = (K_SOURCE_VPC, K_SOURCE_VPC_OWNER)


# --- equivalence classes of callers ---------------------------------------------------------------

@dataclass
class Caller:
    """A compiled client (real or synthetic) with the keys of its equivalence classes.

    ``net`` (VPC and client side of the security-group stages) and ``post`` (VPC, source IP as
    the auth policies can tell it apart, principal, identity policy) name a caller's network
    position and identity; ``verify`` keeps one caller per pair. The route cache uses coarser
    keys: ``dns``, the VPC's DNS class; ``sg``, the client side of the security-group stages
    without the VPC; ``assoc``, the VPC's association security groups per service network it
    reaches (None: reached through an endpoint); ``authkey``, the principal, identity policy and
    ``auth_values`` (the values of every condition key any policy reads, VPC keys projected on
    the policies' conditions). ``values``: the condition-key values the caller puts into every
    request context."""

    client: CompiledClient
    net: int
    post: int
    vpc: str
    auth: int = 0
    values: Mapping[str, Any] = field(default_factory=dict)
    identity: str | None = None
    spec: Any = None  # explain.CallerSpec that rebuilds it (verify)
    dns: int = -1
    sg: int = -1
    authkey: int = -1
    assoc: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    auth_values: Mapping[str, Any] = field(default_factory=dict)


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
        present = [pol for pol in policies if pol is not None]
        self.auth_keys = tuple(sorted({k for pol in present for k in pol.referenced_keys}))
        self.vpc_conditions = {key: _conditions_on(present, key) for key in _VPC_KEYS}
        self.ids: dict[Any, int] = {}
        self._vpcs: dict[str, tuple[int, dict[str, tuple[str, ...] | None]]] = {}

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

    def vpc_classes(self, vpc: str) -> tuple[int, dict[str, tuple[str, ...] | None]]:
        """A VPC's DNS class (the service networks it reaches, in ``route``'s order, and how) and
        its association security groups in each of them (None: reached through an endpoint)."""
        hit = self._vpcs.get(vpc)
        if hit is None:
            reach = self.topo.networks_of(vpc)
            assoc = {n.name: tuple(n.associations[vpc]) if vpc in n.associations else None for n, _ in reach}
            hit = self._vpcs[vpc] = (self._id(("dns", tuple((n.name, via) for n, via in reach))), assoc)
        return hit

    def _project(self, key: str, value: Any) -> Any:
        """A VPC key's value as the policies can tell it apart: which of their conditions on the
        key it satisfies (each condition tests one value by its own matcher), or itself."""
        conds = self.vpc_conditions.get(key)
        if conds is None or not isinstance(value, str) or not value:
            return value
        return ("satisfies", tuple(bool(c.match(value)) for c in conds))

    def caller(self, cc: CompiledClient, spec: Any = None) -> Caller:
        p = cc.principal
        pkey = None if p is None else (p.arn, p.account, p.org_id, tuple(p.org_paths), tuple(sorted(p.tags.items())))
        ikey = None if cc.identity_policy is None else cc.identity_policy.to_json()
        sgs = tuple(cc.model.security_groups)
        sig = self._signature(cc.ip, self.sg_networks)
        net = self._id(("net", cc.vpc, sgs, cc.sg_ids, sig))
        sg = self._id(("sg", sgs, cc.sg_ids, sig))
        ip = cc.ip if self.exact_ip else self._signature(cc.ip, self.policy_networks)
        auth = self._id(("auth", pkey, ikey))
        post = self._id(("post", cc.vpc, ip, auth))
        ctx = build_context(service_arn="-", principal=p, source_vpc=cc.vpc_id, source_vpc_owner=cc.vpc_owner)
        values: dict[str, Any] = dict(ctx.values)
        values.pop(K_SERVICE_ARN, None)
        values[K_SOURCE_IP] = ip  # as finely as any policy can tell source addresses apart
        seen = {k: self._project(k, values.get(k)) for k in self.auth_keys}
        authkey = self._id(("authv", auth, tuple(seen.values())))
        dns, assoc = self.vpc_classes(cc.vpc)
        return Caller(cc, net, post, cc.vpc, auth, values, ikey, spec, dns, sg, authkey, assoc, seen)


def _conditions_on(policies: Sequence[Any], key: str) -> list[Any] | None:
    """Every condition of ``policies`` on ``key`` (except ``Null``, which sees only presence),
    or None when a value of the key could matter otherwise: a condition whose values hold
    policy variables, a policy variable naming the key, a resource with policy variables."""
    out: list[Any] = []
    for pol in policies:
        if key not in pol.referenced_keys:
            continue
        for st in pol.statements:
            if any("${" in r for r in st.resources):
                return None
            for cond in st.conditions:
                if key in cond.variable_keys:
                    return None
                if cond.key_lc != key or cond.spec.family == "null":
                    continue
                if cond.templates or cond.match is None:
                    return None
                out.append(cond)
    return out


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
        if r.target_failures:  # some targets fail it: say which
            reason += "; failing: " + ", ".join(
                f"{f['target_group']}{'/' + f['target'] if f['target'] else ''} ({f['status']} {f['failure']})"
                for f in r.target_failures)
    elif r.outcome == TARGET_FAILURE:
        stop = r.steps[-1]
        reason = f"rule {r.rule} -> {r.component}: {stop.detail}"
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


def summary(results: Sequence[Verdict]) -> tuple[Any, ...]:
    """A cell's columns after client, service, listener, port (``CSV_COLUMNS[4:]``)."""
    v0 = results[0]
    if all(v is v0 for v in results):
        return uniform_summary(v0, len(results))
    first = v0.outcome
    verdict = first if all(v.outcome == first for v in results) else "mixed"
    main = next((v for v in results if v.outcome != FORWARDED), results[0])
    forwarded = sum(1 for v in results if v.outcome == FORWARDED)
    reason = main.reason
    if verdict == "mixed":
        reason = f"{forwarded}/{len(results)} requests forwarded; " + _mixed_reason(results)
    return (verdict, main.status, main.failure, main.auth_denied_reason, main.rule,
            ";".join(f"{k}:{w}" for k, w in main.target_groups), forwarded, len(results), reason)


def uniform_summary(v: Verdict, k: int) -> tuple[Any, ...]:
    """``summary`` of a cell whose ``k`` requests all got verdict ``v``."""
    return (v.outcome, v.status, v.failure, v.auth_denied_reason, v.rule,
            ";".join(f"{n}:{w}" for n, w in v.target_groups), k if v.outcome == FORWARDED else 0, k, v.reason)


def _mixed_reason(results: Sequence[Verdict]) -> str:
    seen: list[str] = []
    for v in results:
        if v.outcome != FORWARDED and v.reason not in seen:
            seen.append(v.reason)
    return "; ".join(seen[:2]) + (" ..." if len(seen) > 2 else "")


class CellTable:
    """Distinct verdicts and mixed cells; a cell code is ``~v`` (every request got verdict
    ``v``) or the index of a mixed cell."""

    def __init__(self, verdicts: list[Verdict], mixed: list[tuple[int, ...]]) -> None:
        self.verdicts = verdicts
        self.mixed = mixed
        self._cells: dict[tuple[int, int], Cell] = {}

    def results(self, code: int, k: int) -> tuple[Verdict, ...]:
        if code < 0:
            return (self.verdicts[~code],) * k
        return tuple(self.verdicts[v] for v in self.mixed[code])

    def cell(self, code: int, k: int) -> Cell:
        c = self._cells.get((code, k))
        if c is None:
            c = self._cells[code, k] = Cell(self.results(code, k))
        return c

    def outcome(self, code: int, k: int) -> str:
        if code < 0:
            return self.verdicts[~code].outcome
        outcomes = {self.verdicts[v].outcome for v in self.mixed[code]}
        return outcomes.pop() if len(outcomes) == 1 else "mixed"


class RouteCache:
    """``Topology.route`` behind layers of sharing (see the module docstring); verdicts are
    integers (``vid``) indexing ``verdicts``."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.verdicts: list[Verdict] = []
        self._vids: dict[Verdict, int] = {}
        self.mixed: list[tuple[int, ...]] = []
        self._mixed_ids: dict[tuple[int, ...], int] = {}
        self.dns: dict[tuple[str, str], int] = {}                  # (VPC, host): DNS / not in the network
        self.net_of: dict[tuple[int, str], str | None] = {}        # (DNS class, host) -> network; None: fails
        self.gate: dict[tuple[Any, ...], int] = {}                 # SG stages -> vid; -1: they pass
        self.listener: dict[int, int] = {}                         # endpoint: no listener / wrong protocol; -1: ok
        self.auth_off: dict[tuple[str, str], bool] = {}            # (network, host): no AWS_IAM anywhere
        self.post: dict[tuple[int, ...], int] = {}                 # after the SG and listener stages
        self.auth_classes: dict[tuple[int, str, str], int] = {}    # (caller authkey, network, host)
        self.auth_ids: dict[Any, int] = {}
        self._sites: dict[tuple[str, str], tuple[tuple[Any, ...], frozenset[str]]] = {}
        self._matches: dict[tuple[int, int], tuple[bool, ...]] = {}
        self.req_ids: dict[RequestClass, int] = {}
        self._at: dict[tuple[int, int], RequestClass] = {}
        self.routes = 0
        self.endpoints: list[Endpoint] = []

    def endpoint_ids(self, eps: Sequence[Endpoint]) -> list[int]:
        self.endpoints = list(eps)
        return list(range(len(eps)))

    def request_id(self, req: RequestClass) -> int:
        return self.req_ids.setdefault(req, len(self.req_ids))

    def table(self) -> CellTable:
        return CellTable(self.verdicts, self.mixed)

    def intern(self, v: Verdict) -> int:
        i = self._vids.get(v)
        if i is None:
            i = self._vids[v] = len(self.verdicts)
            self.verdicts.append(v)
        return i

    def verdict(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> Verdict:
        return self.verdicts[self.vid(caller, ep, req, rid)]

    def vid(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> int:
        e = self.endpoints[ep]
        host = e.host
        v = self.dns.get((caller.vpc, host))
        if v is not None:
            return v
        net = self.net_of.get((caller.dns, host))
        if net is not None:
            g = self.gate.get((caller.sg, e.port, net, caller.assoc.get(net)))
            if g is not None:
                if g >= 0:
                    return g
                v = self.listener.get(ep)
                if v is not None:
                    if v >= 0:
                        return v
                    off = self.auth_off.get((net, host))
                    if off is not None:
                        v = self.post.get((ep, rid) if off else (self.auth_class(caller, net, host), ep, rid))
                        if v is not None:
                            return v
        return self._route(caller, ep, req, rid)

    def _route(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> int:
        """One ``route`` call; its answer fills the layer that decided it."""
        e = self.endpoints[ep]
        rc = self._at.get((ep, rid))
        if rc is None:
            rc = self._at[ep, rid] = at(req, e.url)
        r = decide(self.topo, caller.client, rc)
        self.routes += 1
        v = self.intern(verdict_of(r))
        host = e.host
        if r.failure in _NETWORK_ONLY:  # the reason names the VPC: one per VPC
            self.dns[caller.vpc, host] = v
            self.net_of[caller.dns, host] = None
            return v
        net = r.service_network or ""
        self.net_of[caller.dns, host] = net
        gk = (caller.sg, e.port, net, caller.assoc.get(net))
        if r.failure == "connect_timeout":  # dropped by a security group
            self.gate[gk] = v
            return v
        self.gate[gk] = -1
        if r.failure in _LISTENER:
            self.listener[ep] = v
            return v
        self.listener[ep] = -1
        off = all(s.verdict == "skipped" for s in r.steps if s.stage.startswith("auth_"))
        self.auth_off[net, host] = off
        self.post[(ep, rid) if off else (self.auth_class(caller, net, host), ep, rid)] = v
        return v

    def dns_stage(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> int:
        """The verdict if the caller's request to ``ep`` stops at DNS (or is not in its
        networks), else -1."""
        host = self.endpoints[ep].host
        v = self.dns.get((caller.vpc, host))
        if v is not None:
            return v
        if self.net_of.get((caller.dns, host)) is not None:
            return -1
        self._route(caller, ep, req, rid)
        return self.dns.get((caller.vpc, host), -1)

    def dns_failure(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> int:
        """The verdict of a request its DNS class says stops at the DNS stage: routed (the reason
        names the VPC), not interned (it is the VPC's own) and not remembered (asked once)."""
        rc = self._at.get((ep, rid))
        if rc is None:
            rc = self._at[ep, rid] = at(req, self.endpoints[ep].url)
        r = decide(self.topo, caller.client, rc)
        self.routes += 1
        if r.failure not in _NETWORK_ONLY:
            raise AssertionError(f"VPC {caller.vpc}'s DNS class stops {rc.url} at DNS, route does not")
        self.verdicts.append(verdict_of(r))
        return len(self.verdicts) - 1

    def gate_stage(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> int:
        """The security-group stages' verdict for a request that passed DNS (-1: they pass)."""
        e = self.endpoints[ep]
        net = self.net_of[caller.dns, e.host]
        assert net is not None, "gate_stage is for requests past DNS"
        gk = (caller.sg, e.port, net, caller.assoc.get(net))
        g = self.gate.get(gk)
        if g is None:
            self._route(caller, ep, req, rid)
            g = self.gate[gk]
        return g

    def auth_decides(self, caller: Caller, ep: int) -> bool:
        """Did the caller's requests to ``ep`` pass every stage before auth, with auth on?"""
        e = self.endpoints[ep]
        net = self.net_of.get((caller.dns, e.host))
        return net is not None and self.gate.get((caller.sg, e.port, net, caller.assoc.get(net))) == -1 and \
            self.listener.get(ep) == -1 and self.auth_off.get((net, e.host)) is False

    def auth_class(self, caller: Caller, net: str, host: str) -> int:
        """Callers in one class get the same auth decision for every request to ``host`` through
        ``net``: same anonymity and identity policy, same Principal/NotPrincipal matches in the
        network and service policies, same values for every condition key those policies read."""
        k = (caller.authkey, net, host)
        c = self.auth_classes.get(k)
        if c is None:
            site = self._sites.get((net, host))
            if site is None:
                nw = self.topo.networks.get(net)
                svc = self.topo.services[self.topo.hosts[host]]
                owners = tuple(o.policy for o in (nw, svc)
                               if o is not None and o.auth_type == "AWS_IAM" and o.policy is not None)
                site = self._sites[net, host] = (owners, frozenset(k for p in owners for k in p.referenced_keys))
            owners, keyset = site
            principal = caller.client.principal
            matches = []
            for pol in owners:
                mk = (caller.auth, id(pol))
                m = self._matches.get(mk)
                if m is None:
                    m = self._matches[mk] = tuple(st.principal_matches(principal) for st in pol.statements)
                matches.append(m)
            identity = caller.client.identity_policy
            keys = sorted(keyset if identity is None else keyset | identity.referenced_keys)
            seen, values = caller.auth_values, caller.values
            sig = (net, host, principal is None, caller.identity, tuple(matches),
                   tuple(seen[key] if key in seen else values.get(key) for key in keys))
            c = self.auth_classes[k] = self.auth_ids.setdefault(sig, len(self.auth_ids))
        return c

    def code(self, caller: Caller, ep: int, reqs: Sequence[RequestClass], rids: Sequence[int]) -> int:
        """The cell code of ``caller`` x ``ep`` for ``reqs``."""
        first = self.vid(caller, ep, reqs[0], rids[0])
        if len(reqs) == 1:
            return ~first
        vids = (first,) + tuple(self.vid(caller, ep, r, i) for r, i in zip(reqs[1:], rids[1:], strict=True))
        if all(v == first for v in vids):
            return ~first
        c = self._mixed_ids.get(vids)
        if c is None:
            c = self._mixed_ids[vids] = len(self.mixed)
            self.mixed.append(vids)
        return c

    def cell(self, caller: Caller, ep: int, reqs: Sequence[RequestClass], rids: Sequence[int]) -> Cell:
        return self.table().cell(self.code(caller, ep, reqs, rids), len(reqs))


class UncachedRoutes(RouteCache):
    """One ``route`` call per caller x endpoint x request: the reference the grouping is tested against."""

    def vid(self, caller: Caller, ep: int, req: RequestClass, rid: int) -> int:
        r = decide(self.topo, caller.client, at(req, self.endpoints[ep].url))
        self.routes += 1
        return self.intern(verdict_of(r))


__all__ = ["Caller", "CallerKeyer", "Cell", "CellTable", "RouteCache", "UncachedRoutes", "Verdict", "summary",
           "uniform_summary", "verdict_of"]
