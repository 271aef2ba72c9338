"""Does a forwarded request reach a target that can serve it? (the decision past the target group)

``Topology.route`` decides up to the forward action; this module follows the request to the
targets, statically, with the tables the engine uses at run time: the protocol translation
(``latsim.compile.protocol_error``), each target's security-group verdicts, the health-check
probe's expected answer (``probe_passes``), targets that answer every request with an error,
groups with no targets and forward actions whose weights are all 0. ``decide`` is the one
function ``explain``, ``matrix``, ``verify`` and ``diff`` ask: a route whose every reachable
target fails the request becomes ``outcome: "target_failure"`` (with the status, the failure
and the deciding component); where only some fail, ``target_failures`` names them.

What the engine adds at run time (queueing, timeouts, faults of the timeline, health that
changes with load) is not static and stays the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from latsim.compile import (
    FORWARDED,
    TARGET_FAILURE,
    CompiledTarget,
    CompiledTargetGroup,
    RequestClass,
    Route,
    Step,
    Topology,
    protocol_error,
)
from latsim.model.target_group import HealthCheck, TargetGroup


@dataclass(frozen=True)
class TargetFailure:
    """Why requests sent to a target group (``target`` None) or to one target fail."""

    target_group: str
    target: str | None
    status: int | None
    failure: str
    component: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"target_group": self.target_group, "target": self.target, "status": self.status,
                "failure": self.failure, "component": self.component, "detail": self.detail}


def matcher_accepts(tg: TargetGroup, status: int) -> bool:
    """Does the health check's ``matcher`` ("200", "200-299", "200,202") accept ``status``?"""
    return any(lo <= status <= hi for lo, hi in _ranges(tg.health_check.matcher))


@lru_cache(maxsize=1024)
def _ranges(matcher: str) -> tuple[tuple[int, int], ...]:
    """The matcher's ranges, parsed once (every health probe asks)."""
    return tuple(HealthCheck(matcher=matcher).matcher_ranges())


def probe_status(target: Any) -> int | None:
    """The status a target answers its health path with when that answer is certain: its
    ``health_status``, else its error status when every request fails (None: it varies)."""
    if target.health_status is not None:
        return int(target.health_status)
    if target.errors is not None and target.errors.rate >= 1.0:
        return int(target.errors.status)
    return None if target.errors is not None and target.errors.rate > 0 else 200


def probe_passes(ct: CompiledTarget, tg: TargetGroup) -> tuple[bool, str]:
    """Would this target pass its health checks (static: security group and answer status)?"""
    ok, why = ct.sg_allows_health
    if not ok:
        return False, f"health-check port blocked ({why})"
    status = probe_status(ct.model)
    if status is not None and not matcher_accepts(tg, status):
        return False, f"its health path answers {status}, which the matcher '{tg.health_check.matcher}' rejects"
    return True, why


def target_fails(ct: CompiledTarget, status_on_connect_error: int) -> TargetFailure | None:
    """How every request sent to this target fails, or None if some can succeed."""
    ok, why = ct.sg_allows_traffic
    if not ok:
        return TargetFailure(ct.tg, ct.id, status_on_connect_error, "TargetConnectionError",
                             f"target {ct.id}'s security groups ({', '.join(ct.sgs)})",
                             f"Lattice's SYNs are dropped: {why}; every request fails after the connect timeout")
    err = ct.model.errors
    if err is not None and err.rate >= 1.0:
        return TargetFailure(ct.tg, ct.id, int(err.status), "TargetErrorResponse", f"target {ct.id}",
                             f"the target answers every request with {err.status}")
    return None


def group_failures(topo: Topology, ctg: CompiledTargetGroup, rc: RequestClass) -> tuple[list[TargetFailure], bool]:
    """The failures of requests sent to one target group, and whether every request does fail."""
    tg = ctg.model
    status = topo.scn.assumptions.target_connection_error_status
    perr = protocol_error(rc.protocol, tg, "POST" if rc.protocol == "gRPC" else rc.method)
    if perr is not None:
        return [TargetFailure(ctg.name, None, 502, "TargetProtocolError",
                              f"target group {ctg.name} ({tg.protocol_version})", perr)], True
    if not ctg.targets:
        return [TargetFailure(ctg.name, None, status, "TargetConnectionError", f"target group {ctg.name}",
                              "no targets registered")], True
    rotation = list(ctg.targets)
    if tg.health_check_enabled:
        healthy = [ct for ct in ctg.targets if probe_passes(ct, tg)[0]]
        rotation = healthy or rotation  # fail-open when none would pass
    failures = [f for f in (target_fails(ct, status) for ct in rotation) if f is not None]
    return failures, len(failures) == len(rotation)


def decide(topo: Topology, client: Any, rc: RequestClass, route: Route | None = None) -> Route:
    """``Topology.route`` followed to the targets (see the module docstring)."""
    r = route if route is not None else topo.route(client, rc)
    if r.outcome != FORWARDED or r.action is None:
        return r
    action = r.action
    shares = action.describe()
    if sum(shares.values()) <= 0 and action.all_zero_policy != "equal_split":
        where = f"rule {r.rule} of {r.service}/{r.listener}"
        return replace(r, outcome=TARGET_FAILURE, status=500, failure="InternalError", component=where,
                       steps=r.steps + [Step("targets", "fail", f"{where}: every weight is 0, so Lattice answers "
                                             "500 (assumptions.all_zero_weights: fixed_500)")])
    reachable = [n for n, w in shares.items() if w > 0] or list(shares)
    failures: list[TargetFailure] = []
    failing_groups = 0
    for name in reachable:
        ctg = topo.target_groups.get(name)
        if ctg is None:
            continue
        fs, all_fail = group_failures(topo, ctg, rc)
        failures += fs
        failing_groups += all_fail
    if not failures:
        return r
    listed = "; ".join(f"{f.component}: {f.detail}" for f in failures)
    if failing_groups == len(reachable):
        first = failures[0]
        return replace(r, outcome=TARGET_FAILURE, status=first.status, failure=first.failure,
                       component=first.component, target_failures=[f.to_dict() for f in failures],
                       steps=r.steps + [Step("targets", "fail", f"every target the request can reach fails it: "
                                             f"{listed}")])
    return replace(r, target_failures=[f.to_dict() for f in failures],
                   steps=r.steps + [Step("targets", "degraded", f"some requests fail: {listed}")])


__all__ = ["TargetFailure", "decide", "group_failures", "matcher_accepts", "probe_passes", "probe_status",
           "target_fails"]
