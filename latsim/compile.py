"""Compile a Scenario into the lookup tables that decide every request.

Everything Lattice decides is decided here, once: DNS and service-network reachability,
security-group verdicts, listener selection, auth, rule match, the weighted target-group split
and the target choice. Static analysis (``explain``, ``matrix``, ``diff``, ``verify``) and the
engine call the same functions, so an explanation and a simulated request never disagree.

A ``Topology`` holds the tables plus the little state Lattice itself holds (current weights,
associations, auth policies); the engine mutates that state through the timeline.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from latsim import auth
from latsim.gcpause import gc_paused
from latsim.model.base import stable_hex
from latsim.model.calls import CallStep, walk_steps
from latsim.model.client import Client, RequestSpec, split_url
from latsim.model.naming import (
    LINK_LOCAL_V4,
    LINK_LOCAL_V6,
    listener_arn,
    listener_id,
    service_address,
    service_arn,
    service_dns_name,
    service_network_arn,
    target_group_arn,
    vpc_arn,
)
from latsim.model.network import LATTICE_PREFIX_LIST, SecurityGroup
from latsim.model.scenario import Scenario
from latsim.model.service import Action, HeaderMatch, Listener, Match, Service
from latsim.model.service_network import ServiceNetwork
from latsim.model.target_group import Target, TargetGroup

# Outcomes of a route decision
FORWARDED = "forwarded"
FIXED = "fixed_response"
DENIED = "denied"
UNREACHABLE = "unreachable"
TARGET_FAILURE = "target_failure"  # forwarded, but every target it can reach fails it (latsim.delivery)


@dataclass(frozen=True, slots=True)
class Step:
    """One stage of a decision, for ``explain``: stage name, verdict, what decided it."""

    stage: str
    verdict: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "verdict": self.verdict, "detail": self.detail}


# --- security groups --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Peer:
    """The other end of a connection as a security group sees it."""

    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    sg_ids: frozenset[str] = frozenset()
    lattice: bool = False  # the Lattice managed prefix list range


def _peer_matches(rule_peer: str, peer: Peer, ix_sgs: Mapping[str, SecurityGroup]) -> bool:
    if rule_peer == LATTICE_PREFIX_LIST or rule_peer.startswith("pl-") or rule_peer.startswith("com.amazonaws."):
        return peer.lattice
    sg = ix_sgs.get(rule_peer)
    if sg is not None:
        return sg.sg_id in peer.sg_ids
    try:
        net = ipaddress.ip_network(rule_peer, strict=False)
    except ValueError:
        return False
    if peer.lattice:
        lattice_net = LINK_LOCAL_V4 if net.version == 4 else LINK_LOCAL_V6
        return lattice_net.subnet_of(net)  # type: ignore[arg-type]
    return peer.ip is not None and peer.ip.version == net.version and peer.ip in net


def sg_verdict(scn: Scenario, sg_names: Sequence[str], direction: str, protocol: str, port: int,
               peer: Peer) -> tuple[bool, str]:
    """Does any of these security groups allow this connection? (verdict, deciding item).

    No security group at all means "not restricted" (latsim's assumption for clients and
    targets whose groups the scenario does not declare; AWS's own rule for associations)."""
    if not sg_names:
        return True, "no security groups: not restricted"
    sgs = scn.index.security_groups
    for name in sg_names:
        sg = sgs.get(name)
        if sg is None:
            continue
        for i, rule in enumerate(getattr(sg, direction)):
            if rule.covers_port(protocol, port) and _peer_matches(rule.peer, peer, sgs):
                return True, f"{sg.name} {direction}[{i}] allows {protocol}/{port} from {rule.peer}" if \
                    direction == "ingress" else f"{sg.name} {direction}[{i}] allows {protocol}/{port} to {rule.peer}"
    return False, f"no {direction} rule of {', '.join(sg_names)} allows {protocol}/{port}"


# --- rules ------------------------------------------------------------------------------------

def _header_fn(h: HeaderMatch) -> Any:
    name = h.name.lower()
    if h.exact is not None:
        want, op = h.exact, "exact"
    elif h.prefix is not None:
        want, op = h.prefix, "prefix"
    else:
        want, op = h.contains or "", "contains"
    if not h.case_sensitive:
        want = want.lower()

    def check(headers: Mapping[str, str]) -> bool:
        value = headers.get(name)
        if value is None:
            return False
        if not h.case_sensitive:
            value = value.lower()
        if op == "exact":
            return value == want
        if op == "prefix":
            return value.startswith(want)
        return want in value
    return check


def compile_match(match: Match) -> Any:
    """A Match -> fn(method, path, headers_lower) -> bool; all conditions ANDed."""
    method = match.method
    path = match.path
    exact = prefix = None
    cs = True
    if path is not None:
        cs = path.case_sensitive
        exact = path.exact if cs or path.exact is None else path.exact.lower()
        prefix = path.prefix if cs or path.prefix is None else path.prefix.lower()
    headers = [_header_fn(h) for h in match.headers]

    def matches(m: str, p: str, hdrs: Mapping[str, str]) -> bool:
        if method is not None and m != method:  # methods are case-sensitive
            return False
        if path is not None:
            pp = p.split("?", 1)[0]
            if not cs:
                pp = pp.lower()
            if exact is not None and pp != exact:
                return False
            if prefix is not None and not pp.startswith(prefix):
                return False
        return all(h(hdrs) for h in headers)
    return matches


class ActionState:
    """A rule's (or default action's) current action: weights change through the timeline."""

    __slots__ = ("key", "fixed_response", "names", "weights", "cum", "total", "all_zero_policy", "listeners")

    def __init__(self, key: str, action: Action, all_zero_policy: str) -> None:
        self.key = key
        self.listeners: list[Callable[[], None]] = []  # called after every weight change
        self.fixed_response = action.fixed_response
        self.all_zero_policy = all_zero_policy
        self.names: list[str] = []
        self.weights: list[int] = []
        self.cum: list[int] = []
        self.total = 0
        if action.forward is not None:
            self.set_weights(action.weights)

    def set_weights(self, weights: Mapping[str, int]) -> None:
        merged = dict(zip(self.names, self.weights, strict=True))
        merged.update(weights)
        self.names = list(merged)
        self.weights = [int(merged[n]) for n in self.names]
        self.cum = []
        acc = 0
        for w in self.weights:
            acc += w
            self.cum.append(acc)
        self.total = acc
        for fn in self.listeners:
            fn()

    def pick(self, u: float) -> str | None:
        """The target group for a uniform draw ``u`` in [0, 1): share = weight / sum of weights.
        All weights 0: None (a fixed 500) or an equal split, per ``assumptions.all_zero_weights``."""
        n = len(self.names)
        if self.total <= 0:
            if self.all_zero_policy == "equal_split" and n:
                return self.names[min(int(u * n), n - 1)]
            return None
        if n == 1:
            return self.names[0]
        return self.names[min(bisect.bisect_right(self.cum, u * self.total), n - 1)]

    def pick_many(self, us: np.ndarray, values: Sequence[Any] | None = None) -> list[Any]:
        """``[self.pick(u) for u in us]``, vectorised: the same comparisons on the same doubles.
        ``values``: what to give for each target group instead of its name (in ``names`` order)."""
        n = len(self.names)
        out = self.names if values is None else values
        if self.total <= 0:
            if self.all_zero_policy == "equal_split" and n:
                idx = np.minimum((us * n).astype(np.int64), n - 1)
            else:
                return [None] * len(us)
        elif n == 1:
            return [out[0]] * len(us)
        else:
            idx = np.minimum(np.searchsorted(np.asarray(self.cum, dtype=float), us * float(self.total),
                                             side="right"), n - 1)
        return np.asarray(out, dtype=object)[idx].tolist()

    def describe(self) -> dict[str, int]:
        return dict(zip(self.names, self.weights, strict=True))


@dataclass
class CompiledRule:
    name: str
    priority: int
    matches: Any
    action: ActionState
    model: Any


@dataclass
class CompiledListener:
    service: str
    name: str
    protocol: str
    port: int
    arn: str
    id: str
    rules: list[CompiledRule]
    default: ActionState
    model: Listener

    def match(self, method: str, path: str, headers: Mapping[str, str]) -> tuple[str, ActionState, list[str]]:
        """First rule by priority whose conditions all match, else the default action.
        Returns (rule name, action, names of the rules that did not match, in order)."""
        tried: list[str] = []
        for r in self.rules:
            if r.matches(method, path, headers):
                return r.name, r.action, tried
            tried.append(r.name)
        return "default", self.default, tried

    def actions(self) -> dict[str, ActionState]:
        out = {r.name: r.action for r in self.rules}
        out["default"] = self.default
        return out


@dataclass
class CompiledService:
    name: str
    model: Service
    arn: str
    dns_name: str
    account_id: str
    listeners: dict[int, CompiledListener]
    listeners_by_name: dict[str, CompiledListener]
    auth_type: str
    policy: Any  # auth.Policy | None


@dataclass
class CompiledNetwork:
    name: str
    model: ServiceNetwork
    arn: str
    services: set[str]
    auth_type: str
    policy: Any
    associations: dict[str, list[str]]  # vpc name -> association SGs


@dataclass
class CompiledTarget:
    tg: str
    index: int
    model: Target
    id: str
    az: str
    port: int
    ip: str
    sgs: list[str]
    sg_allows_traffic: tuple[bool, str]
    sg_allows_health: tuple[bool, str]


@dataclass
class CompiledTargetGroup:
    name: str
    model: TargetGroup
    arn: str
    vpc_id: str | None
    targets: list[CompiledTarget]
    health_port: int


@dataclass
class CompiledClient:
    name: str
    model: Client
    vpc: str
    vpc_id: str
    vpc_owner: str
    ip: str
    sg_ids: frozenset[str]
    principal: Any  # auth.Principal | None
    identity_policy: Any


@dataclass
class Route:
    """The decision for one request class: everything before the per-request draws."""

    outcome: str
    status: int | None = None
    failure: str | None = None
    service: str | None = None
    service_network: str | None = None
    listener: str | None = None
    rule: str | None = None
    action: ActionState | None = None
    address: str | None = None
    auth_denied_reason: str | None = None
    auth_body: str | None = None
    resolved_user: str | None = None
    steps: list[Step] = field(default_factory=list)
    component: str | None = None  # what decided a target_failure (latsim.delivery)
    target_failures: list[dict[str, Any]] = field(default_factory=list)  # failing groups and targets

    @property
    def target_groups(self) -> dict[str, int]:
        return self.action.describe() if self.action is not None and self.outcome in (FORWARDED, TARGET_FAILURE) \
            else {}

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "status": self.status, "failure": self.failure,
                "service": self.service, "service_network": self.service_network, "listener": self.listener,
                "rule": self.rule, "target_groups": self.target_groups,
                "auth_denied_reason": self.auth_denied_reason, "component": self.component,
                "target_failures": self.target_failures, "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True)
class RequestClass:
    """What a route depends on: the request as the client sends it."""

    url: str
    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, tuple[str, ...]], ...] = ()
    protocol: str = "HTTP/1.1"

    @staticmethod
    def of(client: Client, spec: RequestSpec) -> RequestClass:
        query = tuple(sorted((k, (v,) if isinstance(v, str) else tuple(v)) for k, v in spec.query.items()))
        return RequestClass(url=spec.url or client.url, method=spec.method, path=spec.path,
                            headers=tuple(sorted((k.lower(), v) for k, v in spec.headers.items())),
                            query=query, protocol=spec.protocol)

    @staticmethod
    def of_call(step: CallStep) -> RequestClass:
        """The request a ``call`` step of a target group's code sends (the engine's and the
        analysis' one reading of a step)."""
        query = tuple(sorted((k, (v,) if isinstance(v, str) else tuple(v)) for k, v in step.query.items()))
        return RequestClass(url=step.call or "", method=step.method, path=step.path or "/",
                            headers=tuple(sorted((k.lower(), v) for k, v in step.headers.items())),
                            query=query, protocol=step.protocol)

    @cached_property
    def route_path(self) -> str:
        """The path Lattice sees: the class's own, else its URL's (as ``Topology.route`` reads it)."""
        if self.path != "/":
            return self.path
        return split_url(self.url)[3]


def call_applies(when: Callable[[str, str, Mapping[str, str]], bool] | None, served: RequestClass) -> bool:
    """Does a call step whose ``when`` compiled to ``when`` (``compile_match``) run for the request
    ``served`` (as its caller sent it)? The engine and the analysis ask this one function."""
    return when is None or when(served.method, served.route_path, dict(served.headers))


class Topology:
    """The compiled scenario: lookup tables plus Lattice's mutable state."""

    @gc_paused
    def __init__(self, scn: Scenario) -> None:
        self.scn = scn
        ix = scn.index
        a0 = scn.assumptions
        self.services: dict[str, CompiledService] = {}
        self.hosts: dict[str, str] = {}
        for svc in scn.services:
            listeners: dict[int, CompiledListener] = {}
            by_name: dict[str, CompiledListener] = {}
            for lst in svc.listeners:
                base = f"{svc.name}/{lst.listener_name}"
                rules = [CompiledRule(r.name, r.priority, compile_match(r.match),
                                      ActionState(f"{base}/{r.name}", r.action, a0.all_zero_weights), r)
                         for r in lst.sorted_rules()]
                cl = CompiledListener(svc.name, lst.listener_name, lst.protocol, lst.effective_port,
                                      listener_arn(scn, svc, lst), listener_id(svc, lst), rules,
                                      ActionState(f"{base}/default", lst.default_action, a0.all_zero_weights), lst)
                listeners[cl.port] = cl
                by_name[cl.name] = cl
            dns = service_dns_name(scn, svc)
            cs = CompiledService(svc.name, svc, service_arn(scn, svc), dns, ix.account_id(svc.account), listeners,
                                 by_name, svc.auth_type, _policy(svc.auth_policy, f"service {svc.name}", "resource"))
            self.services[svc.name] = cs
            self.hosts[dns] = svc.name
            if svc.custom_domain:
                self.hosts[svc.custom_domain.lower().rstrip(".")] = svc.name
        self.networks: dict[str, CompiledNetwork] = {}
        for sn in scn.service_networks:
            self.networks[sn.name] = CompiledNetwork(
                sn.name, sn, service_network_arn(scn, sn), set(sn.services), sn.auth_type,
                _policy(sn.auth_policy, f"service network {sn.name}", "resource"),
                {a.vpc if a.vpc in ix.vpcs and ix.vpcs[a.vpc].name == a.vpc else ix.vpcs[a.vpc].name:
                 list(a.security_groups) for a in sn.vpc_associations})
        self.target_groups: dict[str, CompiledTargetGroup] = {}
        for tg in scn.target_groups:
            self.target_groups[tg.name] = self._compile_tg(tg)
        self.clients: dict[str, CompiledClient] = {c.name: self._compile_client(c) for c in scn.clients}
        self._callers: dict[tuple[str, str | None], CompiledClient] = {}
        self.version = 0  # bumped on every change that can alter a Route

    # -- compile helpers --------------------------------------------------------------------
    def _compile_tg(self, tg: TargetGroup) -> CompiledTargetGroup:
        scn = self.scn
        vpc = scn.index.vpcs.get(tg.vpc) if tg.vpc else None
        hc_port = tg.health_check.port or 0
        ctg = CompiledTargetGroup(tg.name, tg, target_group_arn(scn, tg), vpc.vpc_id if vpc else None, [], hc_port)
        for i, t in enumerate(tg.targets):
            ctg.targets.append(self.compile_target(tg, t, i))
        return ctg

    def compile_target(self, tg: TargetGroup, t: Target, index: int) -> CompiledTarget:
        scn = self.scn
        vpc = scn.index.vpcs.get(tg.vpc) if tg.vpc else None
        az = t.az or (vpc.azs[0] if vpc is not None and tg.type != "LAMBDA" else "lambda")
        port = t.port or tg.effective_port
        if tg.type == "IP":
            ip = t.ip or t.id
        elif t.ip:
            ip = t.ip
        elif vpc is not None:
            ip = _host_in(vpc.cidr[0], "target", tg.name, t.id)
        else:
            ip = "-"
        sgs = list(t.security_groups if t.security_groups is not None else tg.security_groups)
        lattice = Peer(lattice=True)
        proto = "tcp"
        traffic = sg_verdict(scn, sgs, "ingress", proto, port, lattice)
        hc_port = tg.health_check.port or port
        health = sg_verdict(scn, sgs, "ingress", proto, hc_port, lattice)
        return CompiledTarget(tg.name, index, t, t.id, az, port, ip, sgs, traffic, health)

    def _compile_client(self, c: Client) -> CompiledClient:
        vpc = self.scn.index.vpcs[c.vpc]
        return self._caller(c, c.source_ip or _host_in(vpc.cidr[0], "client", c.name))

    def _caller(self, c: Client, ip: str) -> CompiledClient:
        """A caller as Lattice sees it: VPC, address, security groups, principal."""
        scn = self.scn
        vpc = scn.index.vpcs[c.vpc]
        sg_ids = frozenset(scn.index.security_groups[s].sg_id for s in c.security_groups
                           if s in scn.index.security_groups)
        principal = identity = None
        if c.principal is not None:
            p = c.principal
            principal = auth.Principal(arn=p.arn, org_id=p.org_id, org_paths=tuple(p.org_paths), tags=dict(p.tags))
            identity = _policy(p.identity_policy, f"identity policy of {c.name}", "identity")
        return CompiledClient(c.name, c, vpc.name, vpc.vpc_id, scn.index.account_id(vpc.account), ip, sg_ids,
                              principal, identity)

    def is_caller(self, tg: str) -> bool:
        """Whether a target group can call services: it names a VPC and has calls or a principal."""
        ctg = self.target_groups.get(tg)
        return ctg is not None and ctg.model.vpc is not None and (bool(ctg.model.calls) or
                                                                  ctg.model.principal is not None)

    def caller(self, tg: str, target: CompiledTarget | None = None) -> CompiledClient:
        """A target group's code as the caller of other services (call graphs): from the group's VPC,
        in the target's AZ and from its address, with the target's security groups (egress) and the
        group's principal. Without ``target``: the group's first target (what ``explain`` shows)."""
        key = (tg, target.id if target is not None else None)
        cached = self._callers.get(key)
        if cached is not None:
            return cached
        ctg = self.target_groups[tg]
        model = ctg.model
        vpc = self.scn.index.vpcs[model.vpc or ""]
        t = target if target is not None else (ctg.targets[0] if ctg.targets else None)
        az = t.az if t is not None and t.az in vpc.azs else vpc.azs[0]  # a Lambda function: its VPC's first AZ
        ip = t.ip if t is not None and t.ip != "-" else _host_in(vpc.cidr[0], "function", model.name)
        sgs = list(t.sgs) if t is not None else list(model.security_groups)
        first = next((s.call for _, s in walk_steps(model.calls) if s.call), None) or "https://localhost"
        client = Client.model_construct(name=model.name, vpc=vpc.name, az=az, principal=model.principal,
                                        source_ip=ip, security_groups=sgs, url=first)
        cc = self._callers[key] = self._caller(client, ip)
        return cc

    # -- state changes (timeline) --------------------------------------------------------------
    def action(self, service: str, listener: str | None, rule: str) -> ActionState:
        svc = self.services[service]
        lst = svc.listeners_by_name[listener] if listener else next(iter(svc.listeners.values()))
        return lst.actions()[rule]

    def set_auth(self, *, service: str | None = None, service_network: str | None = None,
                 auth_type: str | None = None, policy: Any = None) -> None:
        owner: Any = self.services[service] if service else self.networks[service_network or ""]
        if auth_type is not None:
            owner.auth_type = auth_type
        owner.policy = _policy(policy, f"policy of {owner.name}", "resource")
        self.version += 1

    def associate(self, sn: str, vpc: str, sgs: list[str] | None = None) -> None:
        self.networks[sn].associations[vpc] = list(sgs or [])
        self.version += 1

    def disassociate(self, sn: str, vpc: str) -> None:
        self.networks[sn].associations.pop(vpc, None)
        self.version += 1

    # -- the decisions --------------------------------------------------------------------------
    def networks_of(self, vpc: str) -> list[tuple[CompiledNetwork, str]]:
        """Service networks a VPC reaches: its association first, then its SN endpoints."""
        out = [(n, "association") for n in self.networks.values() if vpc in n.associations]
        model = self.scn.index.vpcs[vpc]
        out += [(self.networks[s], "endpoint") for s in model.service_network_endpoints if s in self.networks]
        return out

    def resolve(self, client: CompiledClient, host: str) -> tuple[CompiledService | None, CompiledNetwork | None,
                                                                  str | None, Step]:
        """DNS + service-network reachability. Returns (service, network, failure, step)."""
        name = self.hosts.get(host.lower().rstrip("."))
        if name is None:
            return None, None, "dns_failure", Step("dns", "fail", f"no service answers to {host}: NXDOMAIN")
        svc = self.services[name]
        nets = self.networks_of(client.vpc)
        if not nets:
            return svc, None, "dns_failure", Step(
                "dns", "fail", f"VPC {client.vpc} has no service-network association or endpoint, so {host} "
                "does not resolve to an address it can reach")
        for net, via in nets:
            if name in net.services:
                return svc, net, None, Step("dns", "pass", f"{host} -> service {name} via service network "
                                            f"{net.name} ({via} of VPC {client.vpc})")
        return svc, None, "not_in_network", Step(
            "dns", "fail", f"service {name} is not associated with {', '.join(n.name for n, _ in nets)}, the service "
            f"network(s) of VPC {client.vpc}: Lattice answers 404 Non Existent Service")

    def route(self, client: CompiledClient, rc: RequestClass) -> Route:
        """Decide a request class, stage by stage, in Lattice's order (docs/lattice.md §12)."""
        scheme, host, port, url_path = split_url(rc.url)
        path = rc.path if rc.path != "/" or url_path == "/" else url_path
        steps: list[Step] = []
        svc, net, failure, step = self.resolve(client, host)
        steps.append(step)
        if failure == "dns_failure":
            return Route(UNREACHABLE, None, "dns_failure", svc.name if svc else None, steps=steps)
        assert svc is not None
        address = service_address(svc.model, client.model.az)
        steps.append(Step("address", "pass", f"{host} resolves to {address} (link-local, AZ {client.model.az})"))
        if failure == "not_in_network":
            return Route(UNREACHABLE, 404, "NonExistentService", svc.name, address=address, steps=steps)
        assert net is not None
        # client security group egress toward the Lattice address
        ok, detail = sg_verdict(self.scn, client.model.security_groups, "egress", "tcp", port,
                                Peer(ip=ipaddress.ip_address(address), lattice=True))
        steps.append(Step("client_security_group", "pass" if ok else "fail", detail))
        if not ok:
            return Route(UNREACHABLE, None, "connect_timeout", svc.name, net.name, address=address, steps=steps)
        if client.vpc in net.associations:
            ok, detail = sg_verdict(self.scn, net.associations[client.vpc], "ingress", "tcp", port,
                                    Peer(ip=ipaddress.ip_address(client.ip), sg_ids=client.sg_ids))
            steps.append(Step("association_security_group", "pass" if ok else "fail", detail))
            if not ok:
                return Route(UNREACHABLE, None, "connect_timeout", svc.name, net.name, address=address, steps=steps)
        lst = svc.listeners.get(port)
        if lst is None:
            ports = ", ".join(f"{x.protocol}:{p}" for p, x in svc.listeners.items()) or "none"
            steps.append(Step("listener", "fail", f"service {svc.name} has no listener on port {port} "
                              f"(listeners: {ports}); the connection is refused"))
            return Route(UNREACHABLE, None, "connection_refused", svc.name, net.name, address=address, steps=steps)
        want_tls = scheme in ("https", "grpcs", "grpc", "tls")
        if (lst.protocol == "HTTP") == want_tls and lst.protocol != "TLS_PASSTHROUGH":
            steps.append(Step("listener", "fail", f"listener {lst.name} speaks {lst.protocol} but the client uses "
                              f"{scheme}"))
            return Route(UNREACHABLE, 400, "ClientProtocolError", svc.name, net.name, lst.name, address=address,
                         steps=steps)
        steps.append(Step("listener", "pass", f"listener {lst.name} ({lst.protocol}:{lst.port})"))
        grpc = rc.protocol == "gRPC"
        tcp = lst.protocol == "TLS_PASSTHROUGH"
        ctx = auth.build_context(
            service_arn=svc.arn, action=auth.CONNECT if tcp else auth.INVOKE, principal=None if tcp else client.principal,
            service_network_arn=net.arn, service_tags=svc.model.tags, source_vpc=client.vpc_id,
            source_vpc_owner=client.vpc_owner, source_ip=client.ip, port=port, method=rc.method, path=path,
            headers=dict(rc.headers), query={k: list(v) for k, v in rc.query}, grpc=grpc)
        decision = auth.authorize(
            sn_auth_type=net.auth_type, sn_policy=net.policy, svc_auth_type=svc.auth_type, svc_policy=svc.policy,
            identity_policy=client.identity_policy, ctx=ctx,
            identity_default_allow=self.scn.assumptions.identity_default_allow)
        for s in decision.steps:
            steps.append(Step(f"auth_{s.level.lower()}", s.verdict, s.detail))
        resolved = "Anonymous" if client.principal is None or tcp else client.principal.arn
        if not decision.allowed:
            if tcp:  # Lattice does not terminate this TLS: it cannot answer 403, it closes the connection
                steps.append(Step("tls_passthrough", "fail", "Lattice closes the TLS connection: no HTTP status "
                                  "(it cannot write a 403 inside TLS it does not terminate)"))
            return Route(DENIED, None if tcp else 403, "ClientAccessDenied", svc.name, net.name, lst.name,
                         address=address,
                         auth_denied_reason=decision.auth_denied_reason, auth_body=decision.body,
                         resolved_user=resolved, steps=steps)
        headers = dict(rc.headers)
        method = "POST" if grpc else rc.method
        rule, action, tried = lst.match(method, path, headers) if not tcp else ("default", lst.default, [])
        skipped = f" (did not match: {', '.join(tried)})" if tried else ""
        steps.append(Step("rule", "pass", f"rule {rule}{skipped}"))
        if action.fixed_response is not None:
            steps.append(Step("action", "pass", f"fixed response {action.fixed_response}"))
            return Route(FIXED, action.fixed_response, None, svc.name, net.name, lst.name, rule, action, address,
                         resolved_user=resolved, steps=steps)
        shares = action.describe()
        total = sum(shares.values())
        text = ", ".join(f"{k} {w}" + (f" ({100 * w / total:.0f}%)" if total else "") for k, w in shares.items())
        steps.append(Step("target_groups", "pass" if total or action.all_zero_policy == "equal_split" else "fail",
                          f"forward {text}"))
        return Route(FORWARDED, None, None, svc.name, net.name, lst.name, rule, action, address,
                     resolved_user=resolved, steps=steps)


def protocol_error(request_protocol: str, tg: TargetGroup, method: str) -> str | None:
    """docs/lattice.md §2 protocol translation: None if the request can reach this group."""
    version = tg.protocol_version
    if tg.type == "LAMBDA" or tg.effective_protocol == "TCP":
        return None
    if request_protocol == "HTTP/1.1" and version in ("HTTP2", "GRPC"):
        return f"an HTTP/1.1 request cannot be sent to a {version} target group"
    if request_protocol == "HTTP/2" and version == "GRPC" and method != "POST":
        return "an HTTP/2 request to a GRPC target group must be a POST"
    if request_protocol == "gRPC" and version == "HTTP1":
        return "a gRPC request cannot be sent to an HTTP1 target group"
    return None


def _policy(doc: Any, label: str, kind: str) -> Any:
    if doc is None:
        return None
    return auth.parse_policy(doc, source=label, kind=kind)


def _host_in(cidr: str, *parts: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    size = net.num_addresses
    if size <= 4:
        return str(net[0])
    offset = 4 + int(stable_hex(*parts, length=12), 16) % max(1, min(size - 5, 2**32))
    return str(net[offset])


def compile_scenario(scn: Scenario) -> Topology:
    return Topology(scn)


__all__ = ["ActionState", "CompiledClient", "CompiledListener", "CompiledService", "CompiledTarget",
           "CompiledTargetGroup", "DENIED", "FIXED", "FORWARDED", "Peer", "RequestClass", "Route", "Step",
           "TARGET_FAILURE", "Topology", "UNREACHABLE", "call_applies", "compile_match", "compile_scenario",
           "protocol_error", "sg_verdict", "vpc_arn"]
