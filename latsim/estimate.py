"""Estimate the size of a run before it starts, so absurd scenarios are refused with numbers."""

from __future__ import annotations

from typing import Any

MAX_EVENTS = 300_000_000
MAX_MINUTES = 60 * 24 * 31  # per-minute series: a month of simulated time
MAX_TARGETS = 200_000
EVENTS_PER_REQUEST = 1.2


def expected_requests(scn: Any) -> float:
    """Expected number of client requests (first attempts) over the run."""
    return sum(client_requests(scn, c) for c in scn.clients)


def client_requests(scn: Any, c: Any) -> float:
    """Expected number of one client's requests (first attempts) over the run."""
    total = 0.0
    a = c.arrival
    kind = a.kind
    d = scn.duration
    if kind in ("poisson", "constant"):
        total += getattr(a, kind) * d
    elif kind == "ramp":
        r = a.ramp
        ramp_t = min(r.over, d)
        total += (r.start + (r.start + (r.to - r.start) * ramp_t / r.over)) / 2 * ramp_t + r.to * max(0, d - r.over)
    elif kind == "stages":
        total += max(s.target for s in a.stages) * d
    elif kind == "steps":
        total += max(s.rate for s in a.steps) * d
    elif kind == "diurnal":
        total += a.diurnal.mean * d
    elif kind == "bursts":
        b = a.bursts
        total += (b.rate * b.on + b.base * b.off) / (b.on + b.off) * d
    elif kind == "closed":
        think = a.closed.think.mean
        total += a.closed.users * d / max(think + c.timeout / 100.0, 1e-3)
    else:
        total += 0.0
    return total


def call_fanout(scn: Any) -> dict[str, float]:
    """Per service: the downstream requests one request to it makes through call graphs, at most
    (every ``when`` taken as matching, each step's probability, the busiest of its target groups)."""
    from latsim.model.calls import walk_steps
    from latsim.model.validate import call_edges
    edges = call_edges(scn)
    probability = {tg.name: {("target_groups", i, "calls") + keys + ("call",): st.probability
                             for keys, st in walk_steps(tg.calls)} for i, tg in enumerate(scn.target_groups)}
    groups_of: dict[str, set[str]] = {}
    for s in scn.services:
        for lst in s.listeners:
            for action in [lst.default_action] + [r.action for r in lst.rules]:
                groups_of.setdefault(s.name, set()).update(action.weights)
    memo: dict[str, float] = {}

    def of_service(svc: str) -> float:
        if svc not in memo:
            memo[svc] = 0.0  # a cycle (refused by validation) counts nothing more
            memo[svc] = max((of_group(tg) for tg in groups_of.get(svc, ())), default=0.0)
        return memo[svc]

    def of_group(tg: str) -> float:
        return sum(probability[tg].get(keys, 1.0) * (1.0 + of_service(svc)) for keys, svc, _ in edges.get(tg, []))

    return {s.name: of_service(s.name) for s in scn.services}


def expected_hops(scn: Any) -> float:
    """Client requests plus the downstream requests their call graphs make (an upper estimate)."""
    from latsim.model.client import split_url
    fanout = call_fanout(scn) if any(tg.calls for tg in scn.target_groups) else {}
    if not fanout:
        return expected_requests(scn)
    hosts = {}
    from latsim.model.naming import service_dns_name
    for svc in scn.services:
        hosts[service_dns_name(scn, svc)] = svc.name
        if svc.custom_domain:
            hosts[svc.custom_domain.lower().rstrip(".")] = svc.name
    total = 0.0
    for c in scn.clients:
        svc = hosts.get(split_url(c.url)[1])
        total += client_requests(scn, c) * (1.0 + fanout.get(svc or "", 0.0))
    return total


def estimate(scn: Any) -> dict[str, Any]:
    requests = expected_hops(scn)
    retry_factor = 1.0 + max((c.retries.max for c in scn.clients), default=0) * 0.1
    targets = sum(len(tg.targets) for tg in scn.target_groups)
    probes = sum(len(tg.targets) * scn.duration / tg.health_check.interval
                 for tg in scn.target_groups if tg.health_check_enabled)
    events = requests * retry_factor * EVENTS_PER_REQUEST + probes
    return {"requests": requests, "events": events, "targets": targets}


def check_size(scn: Any, *, force: bool = False, limit: float = MAX_EVENTS) -> dict[str, Any]:
    from latsim.errors import RunAborted
    est = estimate(scn)
    if force:
        return est
    minutes = scn.duration / 60.0
    if minutes > MAX_MINUTES:
        raise RunAborted(
            f"this run would simulate {minutes:,.0f} minutes; latsim keeps per-minute series and refuses more "
            f"than {MAX_MINUTES:,} simulated minutes (31 days)",
            hint="shorten 'duration' (or --duration), or pass --force to run it anyway")
    if est["targets"] > MAX_TARGETS:
        raise RunAborted(f"this scenario has {est['targets']:,} targets, more than {MAX_TARGETS:,}",
                         hint="pass --force to run it anyway")
    if est["events"] > limit:
        raise RunAborted(
            f"this run would simulate about {est['requests']:.3g} requests, downstream calls included "
            f"({est['events']:.3g} events), "
            f"more than the limit of {limit:.3g} events",
            hint="shorten 'duration' (or --duration), lower the rates, or pass --force to run it anyway")
    return est
