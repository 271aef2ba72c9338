"""``latsim verify``: properties of a topology, checked over every class of request and caller.

Assertions live in the scenario's ``assertions:`` section (or come from ``--assert``); their
models and the check of their names against the scenario are in ``latsim.model.assertions``.
Each has an optional ``name`` and exactly one property:

``no_access``        nobody selected may access (get a forwarded or fixed response from) the services
                     selected: ``{no_access: {principal: anonymous, service: admin}}``
``only``             every access to ``reach`` comes from a caller matching ``vpcs``/``principals``/
                     ``clients`` (all given ones): ``{only: {vpcs: [shop], reach: checkout}}``
``always_forwarded`` every request selected is forwarded to a target group:
                     ``{always_forwarded: {service: checkout, path_prefix: /api}}``
``never_denied``     no request selected gets a 403: ``{never_denied: {service: checkout}}``
``never_reaches``    no chain of forwarded requests starting at the callers named reaches the service,
                     directly or through the calls of target groups (call graphs):
                     ``{never_reaches: {from: [reporting, checkout-tg], service: ledger}}``. A client
                     may send any request class to any service; a target group makes the calls of its
                     ``calls:``; a forwarded request sets off the calls of every group it may go to
                     (``when`` evaluated on it), and so on (latsim.analysis.callgraph).
``only_through``     every such chain that reaches the service goes through the code of one of the
                     target groups named: ``{only_through: {service: ledger, through: [payments-tg]}}``
                     (``from``: the callers checked, by default every client and every calling target
                     group but those of ``through``).

Selectors (all optional): ``service``/``services``, ``listener``, ``target_group`` (then access
means "forwarded to this target group", and the services default to those that use it),
``path_prefix`` or ``path``,
``method``/``methods``; callers: ``vpcs``, ``clients``, ``principal``/``principals`` -- each item
``anonymous``, ``signed``, ``any``, ``org`` (a principal of the organisation that owns the
services; ``org:o-...`` for a given one), ``outside-org``, a principal ARN or a 12-digit account id. ``no_access`` and ``only`` range over every synthetic caller by default;
``always_forwarded`` and ``never_denied`` over the scenario's clients unless callers are selected.

The request space is split into equivalence classes, each evaluated once with
``Topology.route``: methods mentioned by rules, policies or clients plus one other; paths from
rule matches (each exact, each prefix with its boundary and case variants), policy
``RequestPath``/``Resource`` constants and client mixes, plus ``/`` and one other; header and
query values mentioned by rules and policies, plus absent and one other. Callers are every
principal class (each client's principal, anonymous, another principal of each organisation, a
principal outside it, each principal a policy names, a principal with each tag a policy tests)
from every network position (each VPC; each client's position, hosts inside and outside every
CIDR a security group or ``aws:SourceIp`` condition mentions, hosts in each security group an
association rule references). A counterexample is printed as the ``latsim explain`` command
line that reproduces it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from latsim.analysis.callgraph import CallGraph, CallSite
from latsim.analysis.endpoints import Endpoint, all_endpoints, at, client_requests
from latsim.analysis.equivalence import Caller, CallerKeyer, RouteCache, Verdict, verdict_of
from latsim.analysis.explain import CallerSpec, caller_client, explain_command, request_dict, request_url
from latsim.auth.context import K_HEADER, K_METHOD, K_PATH, K_QUERY
from latsim.compile import DENIED, FIXED, FORWARDED, CompiledClient, RequestClass, Route, Topology
from latsim.errors import ScenarioError, UsageError
from latsim.model.assertions import (
    KINDS,
    Assertion,
    NeverReaches,
    OnlySelector,
    OnlyThrough,
    Selector,
    parse_assertions,
)
from latsim.model.calls import walk_steps
from latsim.model.client import split_url
from latsim.model.scenario import Scenario
from latsim.model.service import Match

OTHER_METHODS = ("PATCH", "DELETE", "PUT", "OPTIONS", "HEAD", "TRACE", "CONNECT", "PROPFIND")
OTHER_PATH = "/latsim-other"
OTHER_VALUE = "latsim-other"
MAX_HEADER_COMBINATIONS = 256
COUNTEREXAMPLES = 5


# --- callers --------------------------------------------------------------------------------------

@dataclass
class CallerInfo:
    """What a caller is, for selectors and reports."""

    spec: CallerSpec
    vpc: str
    arn: str | None
    account: str | None
    org_id: str | None
    client: str | None  # exactly this scenario client (its position and its principal)
    principal_client: str | None = None  # the client whose principal it uses


@dataclass
class _Principal:
    arn: str | None
    org_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    client: str | None = None  # a client's own principal (identity policy included)


def _orgs(scn: Scenario) -> set[str]:
    orgs = {a.org_id for a in scn.accounts if a.org_id}
    orgs |= {c.principal.org_id for c in scn.clients if c.principal and c.principal.org_id}
    return orgs


def home_orgs(scn: Scenario) -> set[str]:
    """The organisation(s) of the accounts that own the service networks and services (all
    known organisations when those accounts name none): what ``org``/``outside-org`` refer to."""
    ix = scn.index
    owners = {ix.account_id(sn.account) for sn in scn.service_networks}
    owners |= {ix.account_id(svc.account) for svc in scn.services}
    orgs = {a.org_id for a in scn.accounts if a.org_id and a.id in owners}
    return orgs or _orgs(scn)


def _outsider_account(scn: Scenario) -> str:
    used = {a.id for a in scn.accounts} | {c.principal.account for c in scn.clients if c.principal}
    return next(a for a in (f"9999999999{i:02d}" for i in range(99, -1, -1)) if a not in used)


def _policies(topo: Topology) -> list[Any]:
    pols = [s.policy for s in topo.services.values()] + [n.policy for n in topo.networks.values()]
    pols += [c.identity_policy for c in topo.clients.values()]
    return [p for p in pols if p is not None]


def principal_classes(topo: Topology) -> list[_Principal]:
    """Each client's principal, anonymous, another principal of each organisation, one outside,
    each principal a policy names and a principal of the org with each tag a policy tests."""
    scn = topo.scn
    out: list[_Principal] = []
    seen: set[Any] = set()

    def add(p: _Principal) -> None:
        key = (p.arn, p.org_id, p.tags, p.client)
        if key not in seen:
            seen.add(key)
            out.append(p)
    for c in scn.clients:
        if c.principal is not None:
            add(_Principal(c.principal.arn, c.principal.org_id, tuple(sorted(c.principal.tags.items())), c.name))
    add(_Principal(None))
    orgs = _orgs(scn) | {v for pol in _policies(topo) for v in pol.constants("aws:PrincipalOrgID") if "*" not in v}
    account_org = {a.id: a.org_id for a in scn.accounts}
    for c in scn.clients:
        if c.principal is not None and c.principal.org_id:
            account_org.setdefault(c.principal.account, c.principal.org_id)
    for org in sorted(orgs):
        acct = next((a for a, o in account_org.items() if o == org), "000000000000")
        add(_Principal(f"arn:aws:iam::{acct}:role/latsim-other-principal", org))
    add(_Principal(f"arn:aws:iam::{_outsider_account(scn)}:role/latsim-outsider"))
    for pol in _policies(topo):
        for st in pol.statements:
            for spec in (st.principal, st.not_principal):
                if spec is None or spec.any:
                    continue
                for arn in sorted(spec.arns):
                    add(_Principal(arn, account_org.get(arn.split(":")[4])))
                for acct, role in sorted(spec.roles):
                    add(_Principal(f"arn:aws:iam::{acct}:role/{role}", account_org.get(acct)))
                for acct in sorted(spec.accounts):
                    add(_Principal(f"arn:aws:iam::{acct}:role/latsim-any-role", account_org.get(acct)))
    for pol in _policies(topo):
        for value in sorted(pol.constants("aws:PrincipalAccount")):
            if value.isdigit() and len(value) == 12:
                add(_Principal(f"arn:aws:iam::{value}:role/latsim-any-role", account_org.get(value)))
        for value in sorted(pol.constants("aws:PrincipalArn")):
            if "*" not in value and "?" not in value and value.startswith("arn:aws") and ":iam::" in value:
                add(_Principal(value, account_org.get(value.split(":")[4])))
    first_org = sorted(orgs)[0] if orgs else None
    acct = next((a for a, o in account_org.items() if o == first_org), "000000000000") if first_org else \
        (scn.accounts[0].id if scn.accounts else "000000000000")
    for pol in _policies(topo):
        for key in sorted(pol.referenced_keys):
            if key.startswith("aws:principaltag/"):
                tag = key.split("/", 1)[1]
                for value in sorted(pol.constants(key)):
                    for inst in sorted(_instances(value)):
                        add(_Principal(f"arn:aws:iam::{acct}:role/latsim-tagged", first_org, ((tag, inst),)))
    return out


def network_positions(topo: Topology, keyer: CallerKeyer) -> list[tuple[str, CallerSpec]]:
    """(VPC, caller spec without a principal) for each candidate network position: every client's,
    hosts inside and outside the CIDRs that matter, hosts in each SG an association rule names."""
    scn = topo.scn
    out: list[tuple[str, CallerSpec]] = []
    ix = scn.index
    referenced: set[str] = set()
    for sn in scn.service_networks:
        for assoc in sn.vpc_associations:
            for sg_name in assoc.security_groups:
                sg = ix.security_groups.get(sg_name)
                for rule in sg.ingress if sg is not None else []:
                    ref = ix.security_groups.get(rule.peer)
                    if ref is not None:
                        referenced.add(ref.name)
    nets = list(keyer.sg_networks) + list(keyer.policy_networks)
    for vpc in scn.vpcs:
        for c in scn.clients:
            if c.vpc == vpc.name:
                out.append((vpc.name, CallerSpec(client=c.name)))
        ips = _hosts(vpc.networks(), nets)
        sg_sets: list[tuple[str, ...]] = [()] + [(sg.name,) for sg in scn.security_groups
                                                 if sg.vpc in (vpc.name, vpc.vpc_id) and sg.name in referenced]
        for ip in ips:
            for sgs in sg_sets:
                out.append((vpc.name, CallerSpec(vpc=vpc.name, source_ip=ip, security_groups=sgs)))
    return out


def _hosts(cidrs: Sequence[Any], nets: Sequence[Any]) -> list[str]:
    """Host addresses of a VPC: one inside each relevant network that overlaps it, and a few
    others (so that 'outside every relevant network' is represented when it exists)."""
    cands: list[Any] = []
    for cidr in cidrs:
        size = cidr.num_addresses
        for off in (4, size // 2 + 4, size - 6):
            if 0 <= off < size:
                cands.append(cidr[off])
        for n in nets:
            if n.version == cidr.version and n.overlaps(cidr):
                inner = n if n.prefixlen >= cidr.prefixlen else cidr
                off = 4 if inner.num_addresses > 8 else 0
                cands.append(inner[off])
    return [str(a) for a in dict.fromkeys(cands)]


def build_callers(topo: Topology, keyer: CallerKeyer) -> list[tuple[Caller, CallerInfo]]:
    """Every principal class from every distinct network position, one per equivalence class;
    every scenario client comes first and as itself, so that reports name it."""
    out: list[tuple[Caller, CallerInfo]] = []
    seen: set[tuple[int, int]] = set()

    def add(vpc: str, spec: CallerSpec, client: str | None, lender: str | None, *, keep: bool = False) -> None:
        cc = topo.clients[client] if client is not None else caller_client(topo, spec)
        caller = keyer.caller(cc, spec)
        key = (caller.net, caller.post)
        if key in seen and not keep:
            return
        seen.add(key)
        pr = cc.principal
        out.append((caller, CallerInfo(spec, vpc, pr.arn if pr else None, pr.account if pr else None,
                                       pr.org_id if pr else None, client, lender)))

    for c in topo.scn.clients:
        add(c.vpc, CallerSpec(client=c.name), c.name, c.name if c.principal else None, keep=True)
    # positions that differ in nothing route can see are one position
    positions: dict[tuple[int, int], tuple[str, CallerSpec]] = {}
    for vpc, pos in network_positions(topo, keyer):
        probe = keyer.caller(caller_client(topo, replace(pos, principal="anonymous")))
        positions.setdefault((probe.net, probe.post), (vpc, pos))
    for (vpc, pos), p in itertools.product(positions.values(), principal_classes(topo)):
        if p.client is not None:
            if p.client == pos.client:
                continue  # the client itself, already in
            spec = replace(pos, principal_of=p.client)
        else:
            spec = replace(pos, principal=p.arn or "anonymous", org_id=p.org_id, principal_tags=p.tags)
        add(vpc, spec, None, p.client)
    return out


def _principal_matches(item: str, info: CallerInfo, orgs: set[str]) -> bool:
    word = item.lower()
    if word in ("any", "*"):
        return True
    if word == "anonymous":
        return info.arn is None
    if word == "signed":
        return info.arn is not None
    if word == "org":
        return info.org_id is not None and info.org_id in orgs
    if item.startswith("org:"):
        return info.org_id == item[4:]
    if word == "outside-org":
        return info.arn is not None and (info.org_id is None or info.org_id not in orgs)
    if item.isdigit():
        return info.account == item
    if info.arn is None:
        return False
    from latsim.auth import Principal
    want = Principal(arn=item)
    have = Principal(arn=info.arn)
    return have.arn == want.arn or (want.role_arn is not None and have.role_arn == want.role_arn)


def _caller_selected(sel: Selector, info: CallerInfo, orgs: set[str]) -> bool:
    if sel.vpcs is not None and info.vpc not in sel.vpcs:
        return False
    if sel.client_names is not None and info.client not in sel.client_names:
        return False
    items = sel.principal_items
    if items is not None and not any(_principal_matches(i, info, orgs) for i in items):
        return False
    return True


# --- the request space --------------------------------------------------------------------------

def _instances(value: str) -> set[str]:
    """Concrete values a (possibly wildcarded) policy constant stands for."""
    if "*" not in value and "?" not in value:
        return {value}
    return {value.replace("*", "").replace("?", "x"), value.replace("*", "x").replace("?", "x"),
            value.replace("*", "/x").replace("?", "x")}


def _path_variants(value: str, *, prefix: bool) -> set[str]:
    out = {value, value.upper(), value.lower()}
    if prefix:
        out |= {value + "x", value.rstrip("/") + "/x"}
    else:
        out |= {value + "/", value + "x"}
    return {p for p in out if p.startswith("/")}


def client_mixes(topo: Topology) -> list[RequestClass]:
    """Every distinct request of every client's mix (without URL)."""
    return list(dict.fromkeys(rc for c in topo.clients.values() for rc in client_requests(c.model)))


def _relevant_policies(topo: Topology, service: str) -> list[Any]:
    svc = topo.services[service]
    pols = [svc.policy] + [n.policy for n in topo.networks.values() if service in n.services]
    pols += [c.identity_policy for c in topo.clients.values()]
    return [p for p in pols if p is not None]


@dataclass
class RequestSpace:
    requests: list[RequestClass]
    capped: bool = False


def request_space(topo: Topology, service: str, sel: Selector,
                  mixes: Sequence[RequestClass] | None = None, extra_matches: Sequence[Match] = ()) -> RequestSpace:
    """Representatives of every request class that the rules and policies of ``service`` (and
    the clients' mixes, and ``extra_matches``: the ``when`` of call steps) can tell apart, within
    the selector's method/path restriction."""
    svc = topo.services[service]
    pols = _relevant_policies(topo, service)
    rules = [r.model.match for lst in svc.listeners.values() for r in lst.rules] + list(extra_matches)
    if mixes is None:
        mixes = client_mixes(topo)
    # methods
    methods: list[str] = list(sel.method_names or [])
    if not methods:
        found: dict[str, None] = {}
        for r in rules:
            if r.method:
                found[r.method] = None
        for pol in pols:
            for v in sorted(pol.constants(K_METHOD)):
                for inst in sorted(_instances(v)):
                    if inst.isalpha():
                        found[inst.upper()] = None
        for rc in mixes:
            found[rc.method] = None
        found.setdefault("GET", None)
        other = next((m for m in OTHER_METHODS if m not in found), "LATSIMOTHER")
        methods = list(found) + [other]
    # paths
    paths: dict[str, None] = {}
    if sel.path is not None:
        paths[sel.path] = None
    else:
        cands: set[str] = {"/", OTHER_PATH}
        for r in rules:
            if r.path is not None:
                pm = r.path
                if pm.exact is not None:
                    cands |= _path_variants(pm.exact, prefix=False)
                if pm.prefix is not None:
                    cands |= _path_variants(pm.prefix, prefix=True)
        for pol in pols:
            for v in pol.constants(K_PATH):
                for inst in _instances(v):
                    if inst.startswith("/"):
                        cands |= _path_variants(inst, prefix="*" in v)
        cands |= {rc.path for rc in mixes}
        if sel.path_prefix is not None:
            pre = sel.path_prefix
            cands = {p for p in cands if p.startswith(pre)} | {pre, pre.rstrip("/") + OTHER_PATH}
        for p in sorted(cands):
            paths[p] = None
    # headers and query strings
    header_values: dict[str, set[str | None]] = {}
    for r in rules:
        for h in r.headers:
            vals = header_values.setdefault(h.name.lower(), {None, OTHER_VALUE})
            for v in (h.exact, h.prefix, h.contains):
                if v is not None:
                    vals |= {v, v.upper(), v + "x", "x" + v + "x"}
    query_values: dict[str, set[str | None]] = {}
    for pol in pols:
        for key in pol.referenced_keys:
            if key.startswith(K_HEADER):
                vals = header_values.setdefault(key[len(K_HEADER):], {None, OTHER_VALUE})
                for v in pol.constants(key):
                    vals |= _instances(v) | {v.upper()}
            elif key.startswith(K_QUERY):
                vals = query_values.setdefault(key[len(K_QUERY):], {None, OTHER_VALUE})
                for v in pol.constants(key):
                    vals |= _instances(v)
    for rc in mixes:
        for k, v in rc.headers:
            if k in header_values:
                header_values[k].add(v)
    header_combos = _combinations(header_values)
    query_combos = _combinations(query_values)
    capped = False
    if len(header_combos) * len(query_combos) > MAX_HEADER_COMBINATIONS:
        capped = True
        header_combos = header_combos[:MAX_HEADER_COMBINATIONS]
        query_combos = query_combos[:max(1, MAX_HEADER_COMBINATIONS // len(header_combos))]
    protocols = list(dict.fromkeys(["HTTP/1.1"] + [rc.protocol for rc in mixes]))
    out = [RequestClass("", m, p, h, tuple((k, (v,)) for k, v in q), proto)
           for m in methods for p in paths for h in header_combos for q in query_combos for proto in protocols]
    return RequestSpace(out, capped)


def _combinations(values: Mapping[str, set[str | None]]) -> list[tuple[tuple[str, str], ...]]:
    names = sorted(values)
    choices = [sorted(values[n], key=lambda v: (v is not None, v or "")) for n in names]
    out = []
    for combo in itertools.product(*choices):
        out.append(tuple((n, v) for n, v in zip(names, combo, strict=True) if v is not None))
    return out or [()]


# --- checking -----------------------------------------------------------------------------------

@dataclass
class Counterexample:
    caller: str
    request: dict[str, Any]
    verdict: Verdict
    command: str
    chain: list[dict[str, Any]] | None = None  # never_reaches: the hops from the caller to the service
    real: bool = False  # the request is one the client sends (from its mix), not a synthetic class

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict
        d: dict[str, Any] = {"caller": self.caller, "request": self.request, "from_client_mix": self.real,
                             "verdict": {"outcome": v.outcome, "status": v.status, "failure": v.failure,
                                         "rule": v.rule, "auth_denied_reason": v.auth_denied_reason,
                                         "reason": v.reason},
                             "command": self.command}
        if self.chain is not None:
            d["chain"] = self.chain
        return d


@dataclass
class AssertionResult:
    name: str
    kind: str
    ok: bool
    checked: int
    failures: int
    counterexamples: list[Counterexample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _seen: dict[Any, Counterexample] = field(default_factory=dict, repr=False)

    def pick_counterexamples(self, limit: int) -> None:
        """Up to ``limit``: one per (caller, verdict) first — forwarded requests first, one per
        caller before a second of the same caller — then further requests of those pairs; within a
        pair a request the client really sends (from its mix) comes before a synthetic one."""
        groups: dict[tuple[str, Any], list[Counterexample]] = {}
        for c in sorted(self._seen.values(), key=lambda c: (c.verdict.outcome != FORWARDED, not c.real)):
            groups.setdefault((c.caller, c.verdict), []).append(c)
        rank: dict[str, int] = {}
        keyed: list[tuple[int, int, bool, int, Counterexample]] = []
        for members in groups.values():
            head = members[0]
            n = rank[head.caller] = rank.get(head.caller, -1) + 1
            for depth, c in enumerate(members):
                keyed.append((depth, n, c.verdict.outcome != FORWARDED, len(keyed), c))
        self.counterexamples = [c for *_, c in sorted(keyed, key=lambda k: k[:4])][:limit]
        self._seen = {}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "ok": self.ok, "checked": self.checked,
                "failures": self.failures, "counterexamples": [c.to_dict() for c in self.counterexamples],
                "notes": self.notes}


@dataclass
class VerifyReport:
    results: list[AssertionResult]
    callers: int
    routes: int

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "callers": self.callers, "route_decisions": self.routes,
                "assertions": [r.to_dict() for r in self.results]}


def _services_using(topo: Topology, target_group: str | None) -> list[str]:
    if target_group is None:
        return []
    return [name for name, svc in topo.services.items()
            if any(target_group in a.names for lst in svc.listeners.values() for a in lst.actions().values())]


def _violates(kind: str, v: Verdict, allowed: bool, target_group: str | None) -> bool:
    if target_group is not None:
        forwarded = v.outcome == FORWARDED and dict(v.target_groups).get(target_group, 0) > 0
        access = forwarded
    else:
        forwarded = v.outcome == FORWARDED
        access = v.outcome in (FORWARDED, FIXED)
    if kind == "no_access":
        return access
    if kind == "only":
        return access and not allowed
    if kind == "always_forwarded":
        return not forwarded
    return v.outcome == DENIED  # never_denied (a TLS-passthrough denial has no 403: the connection closes)


def verify(scn: Scenario, assertions: Sequence[Assertion | Mapping[str, Any]] | None = None, *,
           topology: Topology | None = None, source: str | None = None,
           max_counterexamples: int = COUNTEREXAMPLES) -> VerifyReport:
    """Check ``assertions`` (default: the scenario's) over every request and caller class."""
    topo = topology or Topology(scn)
    items = list(assertions) if assertions is not None else list(scn.assertions)
    parsed = [a if isinstance(a, Assertion) else None for a in items]
    if any(p is None for p in parsed):
        raw = [a.model_dump(exclude_none=True) if isinstance(a, Assertion) else a for a in items]
        parsed = list(parse_assertions(raw, scn, source=source))
    keyer = CallerKeyer(topo)
    callers = build_callers(topo, keyer)
    clients_only = [(c, i) for c, i in callers if i.client is not None]
    cache = RouteCache(topo)
    eps_all = all_endpoints(topo)
    cache.endpoint_ids(eps_all)
    orgs = home_orgs(scn)
    src = source or getattr(scn, "__latsim_source__", None)
    results = []
    spaces: dict[tuple[str, Any], RequestSpace] = {}
    mixes = client_mixes(topo)
    graph: CallGraph | None = None
    # what each client really sends, to show its own requests as counterexamples first
    real = {name: _own_requests(c.model) for name, c in topo.clients.items()}
    for n, a in enumerate(parsed, 1):
        assert a is not None
        chains = a.never_reaches if a.never_reaches is not None else a.only_through
        if chains is not None:
            graph = graph or CallGraph(topo)
            results.append(check_never_reaches(graph, chains, a.label(n), mixes, src, max_counterexamples))
            continue
        sel = a.selector
        kind = a.kind
        services = sel.reach if isinstance(sel, OnlySelector) else \
            (sel.service_names or _services_using(topo, sel.target_group) or list(topo.services))
        if kind == "only":
            population = callers
        elif kind == "no_access" or sel.selects_callers:
            population = [(c, i) for c, i in callers if _caller_selected(sel, i, orgs)]
        else:
            population = clients_only
        res = AssertionResult(a.label(n), kind, True, 0, 0)
        for service in services:
            space_key = (service, (sel.method_names and tuple(sel.method_names), sel.path, sel.path_prefix))
            space = spaces.get(space_key)
            if space is None:
                space = spaces[space_key] = request_space(topo, service, sel, mixes)
            if space.capped:
                res.notes.append(f"{service}: more than {MAX_HEADER_COMBINATIONS} header/query combinations; "
                                 "checked the first ones only")
            for ep_i, ep in enumerate(eps_all):
                if ep.service != service or (sel.listener is not None and ep.listener != sel.listener):
                    continue
                _check_endpoint(cache, ep_i, ep, space.requests, population, kind, sel, orgs, res,
                                max_counterexamples, src, real)
        res.ok = res.failures == 0
        res.pick_counterexamples(max_counterexamples)
        results.append(res)
    return VerifyReport(results, len(callers), cache.routes)


def _own_requests(client: Any) -> set[tuple[Any, ...]]:
    """The requests of a client's mix, keyed by ``_request_key`` (host included)."""
    out = set()
    for spec in client.requests:
        rc = RequestClass.of(client, spec)
        url_path = split_url(rc.url)[3]
        path = rc.path if rc.path != "/" or url_path == "/" else url_path
        out.add(_request_key(replace(rc, path=path), rc.url))
    return out


def _request_key(rc: RequestClass, url: str) -> tuple[Any, ...]:
    """A request to ``url``'s host (request classes of the search space carry no URL)."""
    return (split_url(url)[1], rc.method, rc.path, tuple(sorted(rc.headers)), rc.query, rc.protocol)


def _check_endpoint(cache: RouteCache, ep_i: int, ep: Endpoint, requests: Sequence[RequestClass],
                    population: Sequence[tuple[Caller, CallerInfo]], kind: str, sel: Selector, orgs: set[str],
                    res: AssertionResult, limit: int, source: str | None,
                    real: Mapping[str, set[tuple[Any, ...]]] | None = None) -> None:
    """Evaluate every caller x request class of one endpoint; record violations."""
    rids = [cache.request_id(r) for r in requests]
    for caller, info in population:
        own = (real or {}).get(info.client or "", set())
        allowed = kind == "only" and _caller_selected(sel, info, orgs)
        if kind == "only" and allowed:
            res.checked += len(requests)
            continue
        for rc, rid in zip(requests, rids, strict=True):
            v = cache.verdict(caller, ep_i, rc, rid)
            res.checked += 1
            if _violates(kind, v, allowed, sel.target_group):
                res.failures += 1
                # examples per (caller, verdict, request): varied, and the strongest (forwarded) and
                # the client's own requests shown first (``pick_counterexamples``)
                key = (id(caller), v, rid)
                if key not in res._seen and len(res._seen) < limit * 20:
                    full = at(rc, ep.url)
                    res._seen[key] = Counterexample(
                        info.spec.describe(),
                        {"url": request_url(full), "method": rc.method, "headers": dict(rc.headers),
                         "query": {k: list(val) for k, val in rc.query}, "protocol": rc.protocol},
                        v, explain_command(source, info.spec, full), real=_request_key(rc, ep.url) in own)


# --- never_reaches: chains of calls -------------------------------------------------------------

Chain = list[tuple[CallSite, CompiledClient, Route]]


def _chain_hops(chain: Chain) -> list[dict[str, Any]]:
    return [{"caller": site.tg, "step": site.label, "step_path": site.path, "request": request_dict(site.rc),
             "service": r.service, "outcome": r.outcome, "rule": r.rule, "target_groups": r.target_groups,
             "source": f"{view.ip} ({view.model.az})"} for site, view, r in chain]


def _group_matches(topo: Topology, service: str) -> list[Match]:
    """The ``when`` of every step of the groups ``service`` may forward to: what tells its
    requests apart for the calls they set off."""
    groups = {g for lst in topo.services[service].listeners.values() for a in lst.actions().values() for g in a.names}
    out = []
    for g in sorted(groups):
        ctg = topo.target_groups.get(g)
        for _, step in walk_steps(ctg.model.calls if ctg is not None else []):
            if step.when is not None:
                out.append(step.when)
    return out


def check_never_reaches(graph: CallGraph, sel: NeverReaches, label: str, mixes: Sequence[RequestClass],
                        source: str | None, limit: int) -> AssertionResult:
    """No chain of forwarded requests from a caller of ``sel.from_`` reaches a service of ``sel``:
    a client's every request class to every service (``request_space``, split by the ``when`` of
    the groups each service forwards to as well), a target group's every call, each followed
    through the calls of the groups it is forwarded to (``CallGraph.reach``). For
    ``only_through``, the code of the ``through`` groups is not followed (a chain through them is
    allowed) and the callers default to every client and calling target group but those."""
    topo = graph.topo
    targets = set(sel.service_names)
    through = frozenset(getattr(sel, "through", ()))
    kind = "only_through" if isinstance(sel, OnlyThrough) else "never_reaches"
    callers = list(sel.from_) or [*topo.clients, *(g for g in graph.callers() if g not in topo.clients)]
    callers = [c for c in callers if c not in through or c in topo.clients]
    res = AssertionResult(label, kind, True, 0, 0)
    eps = all_endpoints(topo)
    spaces = {svc: request_space(topo, svc, Selector(), mixes, _group_matches(topo, svc)) for svc in topo.services}

    def violation(who: CallerSpec, name: str, entry_rc: RequestClass, entry: tuple[RequestClass, Route] | None,
                  chain: Chain, target: str) -> None:
        res.failures += 1
        hops = [(s.tg, s.keys, r.service) for s, _, r in chain]
        key = (name, entry[1].service if entry is not None else None, tuple(hops), target)
        if key in res._seen or len(res._seen) >= limit * 20:
            return
        last = chain[-1][2] if chain else entry[1] if entry is not None else None
        assert last is not None
        n = len(chain)
        v = verdict_of(last)._replace(reason=f"reaches {target}" + (f" through {n} call{'s' if n != 1 else ''} of "
                                                                     "target groups" if n else " directly"))
        full_chain = ([{"caller": name, "step": None, "step_path": None, "request": request_dict(entry[0]),
                        "service": entry[1].service, "outcome": entry[1].outcome, "rule": entry[1].rule,
                        "target_groups": entry[1].target_groups, "source": None}] if entry is not None else [])
        res._seen[key] = Counterexample(who.describe(), request_dict(entry_rc), v,
                                        explain_command(source, who, entry_rc), full_chain + _chain_hops(chain))

    for name in callers:
        if name in topo.clients:
            who = CallerSpec(client=name)
            cc = topo.clients[name]
            for ep in eps:
                for rc in spaces[ep.service].requests:
                    full = at(rc, ep.url)
                    r = topo.route(cc, full)
                    res.checked += 1
                    if r.outcome != FORWARDED:
                        continue
                    for target in sorted(targets):
                        chain = [] if r.service == target else graph.reach_from(r, full, target, through)
                        if chain is not None:
                            violation(who, name, full, (full, r), chain, target)
                            break
            continue
        who = CallerSpec(client=name, target_group=True)
        starts = graph.starts(name)
        if not starts:
            res.notes.append(f"target group {name} makes no calls: nothing to follow")
        for site, view, r in starts:
            res.checked += 1
            if r.outcome != FORWARDED:
                continue
            for target in sorted(targets):
                rest = [] if r.service == target else graph.reach_from(r, site.rc, target, through)
                if rest is not None:
                    violation(who, name, site.rc, None, [(site, view, r), *rest], target)
                    break
    res.ok = res.failures == 0
    res.pick_counterexamples(limit)
    return res


def render(report: VerifyReport, console: Any) -> None:
    """Print each assertion's verdict and its counterexamples (with the explain command)."""
    from rich.markup import escape as e
    for r in report.results:
        if r.ok:
            console.print(f"[green]ok  [/green] {e(r.name)}  [dim]({r.checked:,} request classes)[/dim]")
        else:
            console.print(f"[red]FAIL[/red] {e(r.name)}  [dim]({r.failures:,} of {r.checked:,} request classes "
                          "violate it)[/dim]")
        for note in r.notes:
            console.print(f"     [yellow]{e(note)}[/yellow]")
        for c in r.counterexamples:
            v = c.verdict
            status = f" {v.status}" if v.status is not None else ""
            console.print(f"     {e(c.caller)}: {e(c.request['method'])} {e(c.request['url'])}"
                          + "".join(f" {e(k)}={e(val)}" for k, val in c.request["headers"].items())
                          + f" -> {v.outcome}{status} ({e(v.reason)})")
            for hop in c.chain or []:
                req = hop["request"]
                console.print(f"       {e(hop['caller'])}: {e(req['method'])} {e(req['url'])} -> {e(str(hop['service']))} "
                              f"(rule {e(str(hop['rule']))}, forwarded to {e(', '.join(hop['target_groups']))})")
            console.print(f"       [dim]{e(c.command)}[/dim]")
        if r.failures > len(r.counterexamples) and r.counterexamples:
            console.print(f"     [dim]... and {r.failures - len(r.counterexamples):,} more[/dim]")
    bad = sum(1 for r in report.results if not r.ok)
    style = "bold red" if bad else "bold green"
    console.print(f"[{style}]{len(report.results) - bad} of {len(report.results)} assertions hold[/{style}] "
                  f"[dim]({report.callers} caller classes, {report.routes:,} route decisions)[/dim]")


def parse_cli_assertion(text: str, index: int) -> dict[str, Any]:
    """``--assert`` text: a YAML mapping, e.g. ``"no_access: {principal: anonymous, service: admin}"``."""
    from latsim.scenario import parse_document
    try:
        data, _ = parse_document(text, f"--assert #{index}")
    except ScenarioError as exc:
        raise UsageError(f"--assert #{index}: {exc.problem.message}",
                         hint="e.g. --assert 'no_access: {principal: anonymous, service: admin}'") from None
    if not isinstance(data, dict):
        raise UsageError(f"--assert #{index}: expected a mapping like 'no_access: {{service: admin}}'",
                         allowed=", ".join(KINDS))
    data.setdefault("name", f"--assert #{index}")
    return data


__all__ = ["Assertion", "AssertionResult", "CallerInfo", "Counterexample", "NeverReaches", "OnlySelector",
           "OnlyThrough", "Selector",
           "check_never_reaches",
           "VerifyReport", "build_callers", "parse_assertions", "parse_cli_assertion", "principal_classes",
           "render", "request_space", "verify"]
