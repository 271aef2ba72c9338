"""The engine's fast path: where it hands a request over to the general path, and how.

The common request — forwarded by a cached route (``Simulation._plan``) to a plain target
(``TargetServer.fast``) that answers 200 in time, nothing due to disturb it — is handled by the
pump in one piece of code with local variables (``Simulation._pump``): a client's request as it
arrives, and a call of a target's program as it enters Lattice (the pump takes those from the
call graph's agenda). It does what ``Simulation._enter`` → ``_to_target_group`` → ``_to_target``
→ ``_serve`` → ``_complete`` → ``lattice_response`` would: the same draws from the same streams
in the same order, the same records. It is written out there, once, because it runs for nearly
every request: as a function of its own it cost REF-1 8-10 % (one Python call a request).

At the first sign of anything else it stops at one of the hand-over points below, with what it
has drawn so far, and ``hand_over`` runs the general stage from there with the request's
``Request``, so that nothing is drawn twice or skipped. ``record_ok`` is the fast path's records
of a 200 for the one case the pump does not see: a target's program answering
(``CallGraph._answer``).

``tests/test_fast_path.py`` runs scenarios both ways (``Simulation(fast_path=False)``: every
request on the general path) and requires byte-identical results.
"""

from __future__ import annotations

from typing import Any

from latsim.engine.target import TargetServer
from latsim.metrics.recorder import HTTP_2XX, BufferedHistogram

# (the simulation and its requests are ``Any`` here: this module sits below
# ``latsim.engine.simulation``, which imports it, as ``latsim.engine.calls`` does)
Simulation = Any
Request = Any

# the hand-over points: where the general path takes over (what had been drawn by then)
RATE_LIMITED = 1  # the token bucket is empty: Lattice answers 429 (drawn: overhead, body)
NO_TARGET_GROUP = 2  # every weight of the rule is 0: a 500 (drawn: overhead, body)
PROTOCOL = 3  # the request's protocol needs the group's check (drawn: ... and the leg)
TARGET = 4  # no plain target that is up to take it: ``_to_target`` (drawn: ... and the pick)
QUEUE_FULL = 5  # the target's queue is full: ``_serve`` (drawn: ... and the target hop)
SERVED = 6  # served, but not a 200 that nothing disturbs: ``_complete`` or ``_defer`` (... the service time)
LATE = 7  # a 200 after its sender gave up: ``_complete`` (lattice_response says how)


def record_ok(sim: Simulation, c: Any, srv: TargetServer, t_entry: float, t_tg: float, t: float, body: int,
              resp: int, rule_time: BufferedHistogram) -> None:
    """Lattice's records of a target's 200 that it passes on at ``t``, as the pump's fast path
    writes them out (``lattice_response`` for that case, with no access log): the service's
    counters and latency (cursor ``c``, from ``t_entry``), the rule's and the target's RequestTime
    after the warm-up, the target group's counters and latency (from ``t_tg``, when Lattice sent it
    on), a canary's watcher. For a program's 200 (``CallGraph._answer``), which the pump does not see."""
    warmup = sim.warmup
    c.count(t_entry, t - t_entry, HTTP_2XX, body, resp)
    if t_entry >= warmup:
        rule_time.add(t - t_entry)
    dur = t - t_tg
    if t_tg >= warmup:
        srv.requests += 1
        srv.time.add(dur)
    srv.cursor.count(t_tg, dur, HTTP_2XX, body, resp)
    watchers = sim.rec.watchers
    if watchers and srv.tg.name in watchers:
        watchers[srv.tg.name].add(dur, 200)


def hand_over(sim: Simulation, req: Request, out: tuple[Any, ...], t: float) -> None:
    """The general path takes ``req`` over at hand-over point ``out[0]``, with what the fast path
    drew: ``(point, overhead, body, group, target, hop_t, ta, deadline, start, end)``, cut after
    what ``point`` had. ``req`` is as ``Simulation._enter`` leaves it before its draws: entered at
    ``t``, its route, service and client deadline set; its body is set here."""
    point = out[0]
    overhead = out[1]
    req.body = out[2]
    if point == RATE_LIMITED:
        sim.lattice_response(req, t + overhead, sim.assumptions.rate_limit_status, lattice=True,
                             failure="ClientRateLimited")
    elif point == NO_TARGET_GROUP:  # (an assumption: a fixed 500)
        sim.rec.unforwarded(req.route.action.key, t)
        sim.lattice_response(req, t + overhead, 500, lattice=True, failure="InternalError")
    elif point == PROTOCOL:
        sim._to_target_group(req, out[3], t, overhead)
    elif point == TARGET:
        req.tg = out[3]
        sim._to_target(req, out[4], t, overhead)
    else:
        srv = out[4]
        hop_t, ta, deadline = out[5], out[6], out[7]
        if point == QUEUE_FULL:
            sim._serve(srv, sim._at_target(req, srv, hop_t, ta, deadline), ta)
            return
        start, end = out[8], out[9]
        sim._served(req, srv, hop_t, ta, deadline, start, end)
        respond = end if end <= deadline else deadline
        if point == LATE or (respond < sim.next_disruption and respond <= sim.duration):
            sim._complete(req, srv)
        else:
            sim._defer(req, srv, respond)


__all__ = ["LATE", "NO_TARGET_GROUP", "PROTOCOL", "QUEUE_FULL", "RATE_LIMITED", "SERVED", "TARGET", "hand_over",
           "record_ok"]
