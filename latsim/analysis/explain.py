"""``latsim explain``: one request, every stage Lattice goes through, and where it ends.

The decision itself is ``Topology.route`` (latsim.compile) -- the function the engine calls per
request class -- so an explanation and a simulated request agree by construction. What this
module adds is presentation and the static per-target-group view the engine decides only at run
time: each target's security-group verdict for traffic and for health checks, and what that
means (healthy, failing health checks, fail-open, connection errors).

A caller is either a client of the scenario or a synthetic one (``vpc=`` with an optional
principal, source IP and security groups); ``verify`` uses synthetic callers for counterexamples
and prints the ``latsim explain`` command line that reproduces them.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError

from latsim import auth
from latsim.analysis.callgraph import CallGraph, Hop, hop_counts
from latsim.compile import (
    DENIED,
    FORWARDED,
    TARGET_FAILURE,
    CompiledClient,
    RequestClass,
    Route,
    Topology,
    protocol_error,
)
from latsim.delivery import decide, probe_passes
from latsim.errors import UsageError, suggest
from latsim.model.client import Client, split_url
from latsim.model.client import Principal as PrincipalModel
from latsim.model.scenario import Scenario

ANONYMOUS = "anonymous"
PROTOCOLS = ("HTTP/1.1", "HTTP/2", "gRPC")
SYNTHETIC_URL = "https://synthetic.caller.invalid"
FAILING_VERDICTS = frozenset({"fail", "deny", "implicit-deny"})


# --- callers ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallerSpec:
    """Who sends a request: a scenario client, possibly with its principal replaced, or a
    synthetic caller in ``vpc``. ``principal``: None keeps the client's (anonymous for a
    synthetic caller), ``"anonymous"`` removes it, an ARN signs as that principal."""

    client: str | None = None
    vpc: str | None = None
    az: str | None = None
    principal: str | None = None
    principal_of: str | None = None
    org_id: str | None = None
    principal_tags: tuple[tuple[str, str], ...] = ()
    source_ip: str | None = None
    security_groups: tuple[str, ...] | None = None
    target_group: bool = False  # ``client`` names a target group whose code is the caller (call graphs)

    def cli_args(self) -> list[str]:
        """The ``latsim explain`` options that rebuild this caller."""
        args: list[str] = []
        if self.client is not None:
            args += ["--client", self.client]
        if self.vpc is not None:
            args += ["--vpc", self.vpc]
        if self.az is not None:
            args += ["--az", self.az]
        if self.principal is not None:
            args += ["--principal", self.principal]
        if self.principal_of is not None:
            args += ["--principal-of", self.principal_of]
        if self.org_id is not None:
            args += ["--org-id", self.org_id]
        for k, v in self.principal_tags:
            args += ["--principal-tag", f"{k}={v}"]
        if self.source_ip is not None:
            args += ["--source-ip", self.source_ip]
        for sg in self.security_groups or ():
            args += ["--security-group", sg]
        return args

    def describe(self) -> str:
        if self.client is not None and self == CallerSpec(client=self.client, target_group=self.target_group):
            return f"target group {self.client}'s code" if self.target_group else f"client {self.client}"
        who = self.principal or (f"{self.principal_of}'s principal" if self.principal_of else None) or \
            (f"{self.client}'s principal" if self.client else ANONYMOUS)
        org = f" of org {self.org_id}" if self.org_id else ""
        tags = "".join(f" tag {k}={v}" for k, v in self.principal_tags)
        if self.vpc is not None:
            where = f"a host in VPC {self.vpc}" + (f" ({self.source_ip})" if self.source_ip else "")
        else:
            where = f"target group {self.client}'s host" if self.target_group else f"client {self.client}'s host"
        sgs = f" with SGs {', '.join(self.security_groups)}" if self.security_groups else ""
        return f"{who}{org}{tags} from {where}{sgs}"


def caller_client(topo: Topology, spec: CallerSpec) -> CompiledClient:
    """Compile the caller ``spec`` describes (UsageError, with a suggestion, for unknown names)."""
    scn = topo.scn
    ix = scn.index
    base: Client | None = None
    if spec.client is not None:
        base = ix.clients.get(spec.client)
        if base is None:
            group = group_caller(topo, spec.client)
            base = group.model
            if spec == CallerSpec(client=spec.client, target_group=spec.target_group):
                return group
        elif spec == CallerSpec(client=spec.client):
            return topo.clients[spec.client]
    vpc_name = spec.vpc or (base.vpc if base else None)
    if vpc_name is None:
        raise UsageError("say who sends the request: --client NAME, or --vpc NAME for a synthetic caller")
    vpc = ix.vpcs.get(vpc_name)
    if vpc is None:
        names = [v.name for v in scn.vpcs]
        raise UsageError(f"unknown VPC '{vpc_name}'", hint=suggest(vpc_name, names), allowed=_known("VPCs", names))
    az = spec.az or (base.az if base is not None and base.vpc == vpc.name else vpc.azs[0])
    if az not in vpc.azs:
        raise UsageError(f"AZ '{az}' is not an AZ of VPC {vpc.name}", hint=suggest(az, vpc.azs),
                         allowed=", ".join(vpc.azs))
    moved = base is not None and base.vpc != vpc.name  # the client's SGs and address stay behind
    sgs = list(spec.security_groups) if spec.security_groups is not None else \
        (list(base.security_groups) if base is not None and not moved else [])
    for sg in sgs:
        if sg not in ix.security_groups:
            raise UsageError(f"unknown security group '{sg}'", hint=suggest(sg, [s.name for s in scn.security_groups]))
    if spec.source_ip is not None:
        try:
            ipaddress.ip_address(spec.source_ip)
        except ValueError:
            raise UsageError(f"'{spec.source_ip}' is not an IP address") from None
    principal = base.principal if base is not None else None
    if spec.principal_of is not None:
        lender = ix.clients.get(spec.principal_of)
        principal = lender.principal if lender is not None else group_caller(topo, spec.principal_of).model.principal
    if spec.principal is not None:
        principal = None if spec.principal.lower() == ANONYMOUS else _principal(
            spec.principal, spec.org_id, dict(spec.principal_tags))
    elif (spec.org_id or spec.principal_tags) and principal is not None:
        tags = {**principal.tags, **dict(spec.principal_tags)}
        principal = principal.model_copy(update={"org_id": spec.org_id or principal.org_id, "tags": tags})
    try:
        model = Client(name=spec.client or "synthetic-caller", vpc=vpc.name, az=az,
                       url=base.url if base is not None else SYNTHETIC_URL,
                       principal=principal, source_ip=spec.source_ip or (base.source_ip if base and not moved else None),
                       security_groups=sgs)
    except ValidationError as exc:
        raise UsageError(f"invalid caller: {exc.errors()[0]['msg']}") from None
    try:
        return topo._compile_client(model)
    except ValueError as exc:
        raise UsageError(f"invalid caller: {exc}") from None


def group_caller(topo: Topology, name: str) -> CompiledClient:
    """A target group's code as a caller (``--client TG``): UsageError, with a suggestion, when
    ``name`` is neither a client nor a target group that can call services."""
    ix = topo.scn.index
    ctg = topo.target_groups.get(name)
    if ctg is None:
        callers = [t.name for t in topo.scn.target_groups if topo.is_caller(t.name)]
        raise UsageError(f"unknown client '{name}'", hint=suggest(name, [*ix.clients, *callers]),
                         allowed=_known("clients", ix.clients) + "; " + _known("calling target groups", callers))
    if ctg.model.vpc is None:
        raise UsageError(f"target group {name} names no vpc: its code cannot call Lattice services",
                         hint="give the target group the vpc its calls leave from")
    if not topo.is_caller(name):
        raise UsageError(f"target group {name} has no calls: and no principal:, so its code calls nothing",
                         hint=f"add a principal: to {name}, or send from a synthetic host: --vpc {ctg.model.vpc}")
    return topo.caller(name)


def _principal(arn: str, org_id: str | None, tags: dict[str, str]) -> PrincipalModel:
    try:
        return PrincipalModel(arn=arn, org_id=org_id, tags=tags)
    except ValidationError:
        raise UsageError(f"'{arn}' is not an IAM principal ARN",
                         hint="e.g. arn:aws:iam::111122223333:role/rates-client, or 'anonymous'") from None


def _known(kind: str, names: Iterable[str]) -> str:
    names = sorted(names)
    return f"known {kind}: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}" if names else f"no {kind}"


# --- requests -----------------------------------------------------------------------------------

def request_class(url: str, method: str = "GET", headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
                  query: Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]] | None = None,
                  protocol: str = "HTTP/1.1") -> RequestClass:
    """The RequestClass of a URL (its path and query string included) and the other parts."""
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol '{protocol}'", allowed=" | ".join(PROTOCOLS),
                         hint=suggest(protocol, PROTOCOLS))
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
    except ValueError as exc:  # an unclosed IPv6 bracket: 'http://[::1'
        raise UsageError(f"'{url}' is not a URL: {exc}") from None
    if not parts.hostname:
        raise UsageError(f"'{url}' has no host name", hint="e.g. https://checkout.shop.internal/api/cart")
    if parts.scheme not in ("http", "https", "grpc", "grpcs", "tcp", "tls"):
        raise UsageError(f"url scheme '{parts.scheme}' is not one of http, https, grpc, grpcs, tls, tcp")
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path or "/"
    q: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        q.setdefault(k, []).append(v)
    items = query.items() if isinstance(query, Mapping) else (query or ())
    for k, val in items:
        q.setdefault(k, []).extend([val] if isinstance(val, str) else list(val))
    hitems = headers.items() if isinstance(headers, Mapping) else (headers or ())
    hdrs = tuple(sorted((k.lower(), v) for k, v in hitems))
    return RequestClass(url=base, method=method, path=path, headers=hdrs,
                        query=tuple(sorted((k, tuple(v)) for k, v in q.items())), protocol=protocol)


def request_url(rc: RequestClass) -> str:
    """The full URL of a request class (path and query string included)."""
    from urllib.parse import urlencode
    scheme, host, port, url_path = split_url(rc.url)
    path = rc.path if rc.path != "/" or url_path == "/" else url_path
    default = 80 if scheme == "http" else 443
    netloc = host if port == default else f"{host}:{port}"
    qs = urlencode([(k, v) for k, vs in rc.query for v in vs])
    return f"{scheme}://{netloc}{path}" + (f"?{qs}" if qs else "")


def explain_command(source: str | None, caller: CallerSpec, rc: RequestClass) -> str:
    """The ``latsim explain`` command line that reproduces this request."""
    args = ["latsim", "explain", source or "SCENARIO", *caller.cli_args(), "--url", request_url(rc)]
    if rc.method != "GET":
        args += ["--method", rc.method]
    for k, v in rc.headers:
        args += ["--header", f"{k}={v}"]
    if rc.protocol != "HTTP/1.1":
        args += ["--protocol", rc.protocol]
    return shlex.join(args)


# --- the explanation ----------------------------------------------------------------------------

def explain(scn: Scenario, client: str | None, url: str, method: str = "GET",
            headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
            query: Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]] | None = None,
            protocol: str = "HTTP/1.1", *, caller: CallerSpec | None = None,
            topology: Topology | None = None) -> dict[str, Any]:
    """Explain one request from ``client`` (or from the synthetic ``caller``) to ``url``.

    Returns Route's JSON shape (``outcome``, ``status``, ``failure``, ``service``, ``listener``,
    ``rule``, ``target_groups``, ``auth_denied_reason``, ``steps``) plus ``client``, ``caller``,
    ``request``, ``address``, ``resolved_user``, ``auth_body``, ``target_group_details`` and
    ``command`` (the CLI line that reproduces it)."""
    topo = topology or Topology(scn)
    spec = caller if caller is not None else CallerSpec(client=client)
    if caller is not None and client is not None and caller.client is None:
        spec = replace(caller, client=client)
    if spec.client is not None and spec.client not in scn.index.clients and spec.client in topo.target_groups:
        spec = replace(spec, target_group=True)
    cc = caller_client(topo, spec)
    rc = request_class(url, method, headers, query, protocol)
    return explain_route(topo, cc, rc, caller=spec)


def explain_route(topo: Topology, cc: CompiledClient, rc: RequestClass, *, caller: CallerSpec | None = None,
                  route: Route | None = None) -> dict[str, Any]:
    """The explanation of an already compiled caller and request class (``route`` if known)."""
    r = route if route is not None else decide(topo, cc, rc)
    d = r.to_dict()
    spec = caller or CallerSpec(client=cc.name)
    d.update({
        "client": cc.name,
        "caller": spec.describe(),
        "request": request_dict(rc),
        "address": r.address,
        "resolved_user": r.resolved_user,
        "auth_body": r.auth_body,
        "auth_hint": auth_hint(topo, cc, rc, r),
        "target_group_details": target_group_details(topo, r, rc) if r.outcome in (FORWARDED, TARGET_FAILURE)
        else {},
        "command": explain_command(getattr(topo.scn, "__latsim_source__", None), spec, rc),
    })
    d.update(explain_calls(topo, r, rc))
    return d


def request_dict(rc: RequestClass) -> dict[str, Any]:
    """A request class as ``explain`` shows it."""
    return {"url": request_url(rc), "method": rc.method, "path": _path_of(rc), "headers": dict(rc.headers),
            "query": {k: list(v) for k, v in rc.query}, "protocol": rc.protocol}


# --- call graphs: the chain of calls a forwarded request sets off ------------------------------

def explain_calls(topo: Topology, route: Route, rc: RequestClass, graph: CallGraph | None = None) -> dict[str, Any]:
    """``calls`` (every call the code of the groups ``route`` forwards ``rc`` to makes, each hop
    decided from its group's caller view, recursively) and ``calls_summary``."""
    graph = graph or CallGraph(topo)
    hops, fails = graph.chain(route, rc) if route.outcome == FORWARDED else ([], False)
    calls = [hop_dict(topo, h) for h in hops]
    counts = hop_counts(hops)
    first = counts["first_failure"]
    return {"calls": calls, "calls_summary": {
        "calls": counts["calls"], "by_outcome": counts["by_outcome"], "answers_500": fails,
        "first_failure": None if first is None else _hop_brief(topo, first)}}


def _decided_by(topo: Topology, h: Hop) -> str:
    """The rule that forwarded a hop, or the statement, rule or stage that stopped it."""
    r = h.route
    if r.outcome == FORWARDED:
        return f"rule {r.rule} of {r.service}/{r.listener}"
    hint = auth_hint(topo, h.view, h.site.rc, r)
    if hint:
        return hint
    stop = first_failure(r.steps)
    if stop is not None:
        return stop.detail
    return f"rule {r.rule}: fixed response {r.status}" if r.rule else (r.failure or r.outcome)


def _hop_brief(topo: Topology, h: Hop) -> dict[str, Any]:
    r = h.route
    return {"caller": h.site.tg, "service": h.site.service, "step": h.site.label, "step_path": h.site.path,
            "outcome": r.outcome, "status": r.status, "failure": r.failure,
            "auth_denied_reason": r.auth_denied_reason, "decided_by": _decided_by(topo, h)}


def hop_dict(topo: Topology, h: Hop) -> dict[str, Any]:
    """One hop of a chain as JSON: the calling group and step, the request, the hop's route (with
    the deciding statement or rule) and the calls of the groups it reaches."""
    site, r = h.site, h.route
    route = r.to_dict()
    route.update({"address": r.address, "resolved_user": r.resolved_user, "auth_body": r.auth_body,
                  "auth_hint": auth_hint(topo, h.view, site.rc, r)})
    when = site.step.when
    return {
        "caller": site.tg, "step": site.label, "step_path": site.path, "service": site.service,
        "probability": round(site.probability, 9), "conditional": site.conditional,
        "when": when.model_dump(mode="json", exclude_none=True, exclude_defaults=True) if when is not None else None,
        "on_error": site.step.on_error, "request": request_dict(site.rc),
        "outcome": r.outcome, "status": r.status, "decided_by": _decided_by(topo, h), "note": h.note,
        "route": route,
        "command": explain_command(getattr(topo.scn, "__latsim_source__", None),
                                   CallerSpec(client=site.tg, target_group=True), site.rc),
        "calls": [hop_dict(topo, c) for c in h.calls],
    }


def auth_hint(topo: Topology, cc: CompiledClient, rc: RequestClass, r: Route) -> str | None:
    """For a denied request: the statement that denied it, or the Allow statement that came
    closest and what it lacks. Presentation only -- the decision is the Route's; this re-reads
    the deciding level's policy with the auth module's own context builder."""
    if r.outcome != DENIED or r.service is None or r.service_network is None:
        return None
    svc, net = topo.services[r.service], topo.networks[r.service_network]
    level = r.auth_denied_reason
    policy = {"Network": net.policy, "Service": svc.policy, "Identity": cc.identity_policy}.get(level or "")
    if policy is None:
        return f"the {(level or '').lower()} level uses AWS_IAM without a policy: every request is denied"
    _, _, port, _ = split_url(rc.url)
    lst = svc.listeners.get(port)
    tcp = lst is not None and lst.protocol == "TLS_PASSTHROUGH"
    ctx = auth.build_context(
        service_arn=svc.arn, action=auth.CONNECT if tcp else auth.INVOKE, principal=None if tcp else cc.principal,
        service_network_arn=net.arn, service_tags=svc.model.tags, source_vpc=cc.vpc_id,
        source_vpc_owner=cc.vpc_owner, source_ip=cc.ip, port=port, method=rc.method, path=_path_of(rc),
        headers=dict(rc.headers), query={k: list(v) for k, v in rc.query}, grpc=rc.protocol == "gRPC")
    res = policy.evaluate(ctx)
    if res.verdict == "deny" and res.statement is not None:
        return f"{policy.source}: {res.statement.describe()}"
    st, why = policy.nearest_allow(ctx)
    if st is None:
        return f"{policy.source} has no Allow statement"
    return f"{policy.source}: closest Allow is statement {st.label}, which {why}"


def _path_of(rc: RequestClass) -> str:
    _, _, _, url_path = split_url(rc.url)
    return rc.path if rc.path != "/" or url_path == "/" else url_path


def first_failure(steps: Sequence[Any]) -> Any:
    """The step that stopped a request (fail, deny or implicit-deny), or None."""
    for s in steps:
        if s.verdict in FAILING_VERDICTS:
            return s
    return None


# --- target groups (static view of what the engine decides per request) -------------------------

@dataclass
class _TgVerdict:
    verdict: str = "ok"
    notes: list[str] = field(default_factory=list)


def target_group_details(topo: Topology, route: Route, rc: RequestClass) -> dict[str, Any]:
    """For each target group of a forward action: weight, share, health-check configuration and
    every target's security-group verdicts, with what they mean for the request."""
    shares = route.target_groups
    total = sum(shares.values())
    out: dict[str, Any] = {}
    for name, weight in shares.items():
        ctg = topo.target_groups.get(name)
        if ctg is None:
            out[name] = {"weight": weight, "verdict": "failing", "detail": "unknown target group"}
            continue
        tg = ctg.model
        hc = tg.health_check
        checked = tg.health_check_enabled
        targets = []
        tv = _TgVerdict()
        healthy: list[Any] = []
        for ct in ctg.targets:
            t_ok, t_why = ct.sg_allows_traffic
            h_ok, h_why = probe_passes(ct, tg)
            if checked:
                expected = "would be healthy" if h_ok else "would fail health checks"
            else:
                expected = "not health-checked: always in rotation"
            if not checked or h_ok:
                healthy.append(ct)
            targets.append({
                "id": ct.id, "az": ct.az, "ip": ct.ip, "port": ct.port, "security_groups": list(ct.sgs),
                "traffic": {"allowed": t_ok, "detail": t_why},
                "health_check": {"allowed": h_ok, "detail": h_why} if checked else None,
                "expected": expected,
            })
        rotation = healthy or list(ctg.targets)
        perr = protocol_error(rc.protocol, tg, rc.method)
        if weight == 0 and total > 0:
            tv.notes.append("weight 0: receives no requests")
        if perr is not None:
            tv.verdict = "failing"
            tv.notes.append(f"{perr}: TargetProtocolError (502)")
        if not ctg.targets:
            tv.verdict = "failing"
            tv.notes.append("no targets registered: requests fail with TargetConnectionError (5xx)")
        elif checked and not healthy:
            tv.verdict = "failing" if not any(ct.sg_allows_traffic[0] for ct in ctg.targets) else "degraded"
            tv.notes.append("every target would fail health checks -> fail-open: requests go to all targets")
        elif checked and len(healthy) < len(ctg.targets):
            tv.verdict = "degraded"
            tv.notes.append(f"{len(ctg.targets) - len(healthy)} of {len(ctg.targets)} targets would fail health "
                            "checks and leave the rotation")
        blocked = [ct.id for ct in rotation if not ct.sg_allows_traffic[0]]
        if blocked:
            tv.verdict = "failing" if len(blocked) == len(rotation) else "degraded"
            tv.notes.append(f"the security group drops traffic to {', '.join(blocked)}: those requests fail with "
                            "TargetConnectionError (5xx) after the connect timeout")
        if not tv.notes:
            tv.notes.append(f"{len(rotation)} target{'s' if len(rotation) != 1 else ''} in rotation")
        out[name] = {
            "weight": weight, "share": round(weight / total, 6) if total else None,
            "type": tg.type, "protocol": tg.effective_protocol, "protocol_version": tg.protocol_version,
            "port": tg.effective_port, "protocol_error": perr,
            "health_check": {"enabled": checked, "protocol": hc.protocol, "port": hc.port or tg.effective_port,
                             "path": hc.path, "interval_s": hc.interval, "timeout_s": hc.timeout,
                             "healthy_threshold": hc.healthy_threshold,
                             "unhealthy_threshold": hc.unhealthy_threshold, "matcher": hc.matcher},
            "targets": targets, "verdict": tv.verdict, "detail": "; ".join(tv.notes),
        }
    return out


# --- text rendering -----------------------------------------------------------------------------

_STYLE = {"pass": "green", "allow": "green", "skipped": "dim", "fail": "red", "deny": "red",
          "implicit-deny": "red", "degraded": "yellow"}
_MARK = {"pass": "✓", "allow": "✓", "skipped": "·", "fail": "✗", "deny": "✗", "implicit-deny": "✗", "degraded": "!"}
_OUTCOME_STYLE = {"forwarded": "bold green", "fixed_response": "bold yellow", "denied": "bold red",
                  "unreachable": "bold red", "target_failure": "bold red"}


def render(d: Mapping[str, Any], console: Any) -> None:
    """Print an explanation as a readable, coloured listing."""
    from rich.markup import escape as e
    req = d["request"]
    verdict = f"[{_OUTCOME_STYLE[d['outcome']]}]{d['outcome']}[/{_OUTCOME_STYLE[d['outcome']]}]" + \
        (f" {d['status']}" if d["status"] is not None else "") + (f" {e(d['failure'])}" if d["failure"] else "")
    # the verdict leads: a reader of the first line must not take a target failure for "forwarded"
    console.print(f"[bold]{e(d['caller'])}[/bold] -> {e(req['method'])} {e(req['url'])} ({e(req['protocol'])}): "
                  f"{verdict}")
    width = max(len(s["stage"]) for s in d["steps"]) if d["steps"] else 10
    for s in d["steps"]:
        style = _STYLE.get(s["verdict"], "")
        mark = _MARK.get(s["verdict"], "?")
        console.print(f"  [{style}]{mark} {s['stage']:<{width}}  {s['verdict']:<13}[/{style}] {e(s['detail'])}")
    outcome = d["outcome"]
    line = f"[{_OUTCOME_STYLE[outcome]}]{outcome}[/{_OUTCOME_STYLE[outcome]}]"
    if d["status"] is not None:
        line += f" {d['status']}"
    if d["failure"]:
        line += f" {e(d['failure'])}"
    if d["auth_denied_reason"]:
        line += f" (authDeniedReason {d['auth_denied_reason']})"
    if outcome in (FORWARDED, TARGET_FAILURE):
        line += f": rule {e(d['rule'] or '')} of {e(d['service'] or '')}/{e(d['listener'] or '')}"
    if outcome == TARGET_FAILURE:
        line += f", decided by {e(d.get('component') or '')}"
    elif d.get("target_failures"):
        failing = ", ".join(f"{f['target_group']}{'/' + f['target'] if f['target'] else ''} ({f['status']} "
                            f"{f['failure']})" for f in d["target_failures"])
        line += f" [yellow]but some requests fail: {e(failing)}[/yellow]"
    console.print(line)
    if d.get("auth_hint"):
        console.print(f"  why: {e(d['auth_hint'])}")
    if d.get("auth_body"):
        console.print(f"  [dim]{e(d['auth_body'])}[/dim]")
    details = d.get("target_group_details") or {}
    if details:
        console.print("target groups:")
    for name, g in details.items():
        vstyle = {"ok": "green", "degraded": "yellow", "failing": "red"}.get(g.get("verdict", ""), "")
        share = f" ({100 * g['share']:.0f}%)" if g.get("share") is not None else ""
        hc = g.get("health_check") or {}
        hc_text = (f"health check {hc['protocol']}:{hc['port']} {hc['path']} every {hc['interval_s']:g}s, "
                   f"timeout {hc['timeout_s']:g}s, {hc['unhealthy_threshold']} fails out / "
                   f"{hc['healthy_threshold']} passes in") if hc.get("enabled") else "no health checks"
        console.print(f"  [bold]{e(name)}[/bold] weight {g['weight']}{share}  {g.get('type', '')} "
                      f"{g.get('protocol', '')}:{g.get('port', '')} {g.get('protocol_version', '')}  {e(hc_text)}")
        console.print(f"    [{vstyle}]{g.get('verdict', '')}[/{vstyle}]: {e(g.get('detail', ''))}")
        for t in g.get("targets", []):
            ok = t["traffic"]["allowed"] and (t["health_check"] is None or t["health_check"]["allowed"])
            style = "green" if ok else "red"
            why = t["health_check"]["detail"] if t["health_check"] is not None and not t["health_check"]["allowed"] \
                else t["traffic"]["detail"]
            console.print(f"    [{style}]{'✓' if ok else '✗'} {e(t['id'])}[/{style}] {e(t['az'])} "
                          f"{e(str(t['ip']))}:{t['port']}  {e(t['expected'])}"
                          + ("" if t["traffic"]["allowed"] else ", [red]traffic port blocked[/red]")
                          + f"  [dim]({e(why)})[/dim]")


def calls_headline(d: Mapping[str, Any]) -> str | None:
    """One line on the chain of calls a forwarded request sets off, naming its first call that is
    not forwarded (shown first, so that a denied hop deep in the chain is seen at once)."""
    summary = d.get("calls_summary") or {}
    n = summary.get("calls", 0)
    if not n:
        return None
    counts = summary.get("by_outcome", {})
    bad = n - counts.get(FORWARDED, 0)
    text = f"{d['outcome']}; "
    if not bad:
        text += f"{n} downstream call{'s' if n != 1 else ''}, all forwarded"
    else:
        kinds = {k for k in counts if k != FORWARDED}
        word = next(iter(kinds)).replace("fixed_response", "answered with a fixed response") \
            if len(kinds) == 1 else "not forwarded"
        f = summary["first_failure"]
        status = f" {f['status']}" if f["status"] is not None else ""
        failure = f" {f['failure']}" if f["failure"] else ""
        text += (f"{bad} of {n} downstream call{'s' if n != 1 else ''} {word}: {f['caller']} -> "
                 f"{f['service']} {f['outcome']}{status}{failure} ({f['decided_by']})")
    if summary.get("answers_500"):
        text += "; a failed call with on_error: fail makes the request answer 500"
    return text


def render_calls(d: Mapping[str, Any], console: Any) -> None:
    """The chain of calls, indented by depth: each hop's request, verdict and deciding rule or statement."""
    from rich.markup import escape as e
    if not d.get("calls"):
        return
    console.print("calls (made by the code of the target groups the request reaches):")

    def show(hops: Sequence[Mapping[str, Any]], depth: int) -> None:
        for h in hops:
            pad = "  " * depth
            outcome = h["outcome"]
            style = _OUTCOME_STYLE.get(outcome, "")
            status = f" {h['status']}" if h["status"] is not None else ""
            failure = f" {h['route']['failure']}" if h["route"]["failure"] else ""
            chance = f" [dim](probability {h['probability']:g})[/dim]" if h["conditional"] else ""
            req = h["request"]
            console.print(f"{pad}{e(h['caller'])} -> {e(h['service'] or '?')}: {e(req['method'])} {e(req['url'])}"
                          f"  [{style}]{outcome}{status}{e(failure)}[/{style}]{chance}")
            console.print(f"{pad}    [dim]{e(h['decided_by'])}[/dim]")
            if h.get("note"):
                console.print(f"{pad}    [yellow]{e(h['note'])}[/yellow]")
            show(h["calls"], depth + 1)
    show(d["calls"], 1)


def render_explanation(d: Mapping[str, Any], console: Any) -> None:
    """``latsim explain``'s text: the chain's headline (if the request sets off calls), the
    request's stages, then the chain of calls."""
    head = calls_headline(d)
    if head is not None:
        from rich.markup import escape as e
        style = "bold red" if d["calls_summary"]["first_failure"] else "bold green"
        console.print(f"[{style}]chain:[/{style}] {e(head)}")
    render(d, console)
    render_calls(d, console)


__all__ = ["ANONYMOUS", "CallerSpec", "caller_client", "calls_headline", "explain", "explain_calls",
           "explain_command", "explain_route", "first_failure", "group_caller", "hop_dict", "render", "render_calls",
           "render_explanation", "request_class", "request_dict", "request_url", "target_group_details"]
