"""Estimate the size of a run before it starts, so absurd scenarios are refused with numbers."""

from __future__ import annotations

import math
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
        total += _stages_integral(a.stages, d)
    elif kind == "steps":
        total += _steps_integral(a.steps, d)
    elif kind == "diurnal":
        total += _diurnal_integral(a.diurnal, d)
    elif kind == "bursts":
        b = a.bursts
        total += (b.rate * b.on + b.base * b.off) / (b.on + b.off) * d
    elif kind == "closed":
        think = a.closed.think.mean
        total += a.closed.users * d / max(think + c.timeout / 100.0, 1e-3)
    else:
        total += 0.0
    return total


def _stages_integral(stages: Any, d: float) -> float:
    """∫₀ᵈ of the stages' rate: linear from 0 through each stage's target, the last held after."""
    total, t, rate = 0.0, 0.0, 0.0
    for st in stages:
        if t >= d:
            return total
        end = t + st.duration
        if st.duration > 0:
            upto = min(end, d)
            at_upto = rate + (st.target - rate) * (upto - t) / st.duration
            total += (rate + at_upto) / 2 * (upto - t)
        t, rate = end, st.target
    return total + rate * max(0.0, d - t)


def _steps_integral(steps: Any, d: float) -> float:
    """∫₀ᵈ of a step function: 0 before the first step, each rate from its ``at`` on."""
    ordered = sorted(steps, key=lambda s: s.at)
    total = 0.0
    for s, nxt in zip(ordered, [*ordered[1:], None], strict=True):
        end = min(d, nxt.at if nxt is not None else d)
        total += s.rate * max(0.0, end - min(s.at, d))
    return total


def _diurnal_integral(di: Any, d: float) -> float:
    """∫₀ᵈ max(0, mean + (peak − mean)·cos(2π(t − phase)/period)): closed form when the rate never
    reaches 0, else numerically (64 points a period, midpoint rule)."""
    amp = di.peak - di.mean
    w = 2 * math.pi / di.period
    if abs(amp) <= di.mean:
        return di.mean * d + amp / w * (math.sin(w * (d - di.phase)) - math.sin(-w * di.phase))
    n = min(max(4096, int(64 * d / di.period)), 1_000_000)
    h = d / n
    return h * sum(max(0.0, di.mean + amp * math.cos(w * ((i + 0.5) * h - di.phase))) for i in range(n))


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
    from latsim.model.naming import service_hosts
    hosts = service_hosts(scn)
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
