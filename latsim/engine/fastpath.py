"""The engine's fast path: what Lattice and a plain target do for the common request, in one piece.

``forward`` is ``Simulation._enter`` → ``_to_target_group`` → ``_to_target`` → ``_serve`` →
``_complete`` → ``lattice_response`` for a request that a cached route (``Simulation._plan``)
forwards to a plain target (``TargetServer.fast``) answering 200 in time, with nothing due to
disturb it: the same draws from the same streams in the same order, the same records. It is
written out as one function with local variables because it runs for nearly every request.

At the first sign of anything else it stops and says where the general path takes over: one of
the hand-over points below, with what it has drawn so far; ``hand_over`` then runs the general
stage from there with the request's ``Request``, so that nothing is drawn twice or skipped.

Two callers, each with its own sender's side: the pump, for a client's request
(``Simulation._pump``: the client's hop and statistics around it), and the call graph, for a
target's call (``CallGraph._enter``: the call edge's statistics and the caller's program).
``tests/test_fast_path.py`` runs scenarios both ways (``Simulation(fast_path=False)``: every
request on the general path) and requires byte-identical results.
"""

from __future__ import annotations

from heapq import heapreplace
from typing import Any

from latsim.engine.sampling import END
from latsim.engine.target import TargetServer
from latsim.metrics.recorder import BYTES_IN, BYTES_OUT, FLUSH, HTTP_2XX, TIME_SUM, TOTAL, BufferedHistogram

# (the simulation and its requests are ``Any`` here: this module sits below
# ``latsim.engine.simulation``, which imports it, as ``latsim.engine.calls`` does)
Simulation = Any
Request = Any

# what ``forward`` returns first: OK, or the hand-over point where the general path takes over
OK = 0
RATE_LIMITED = 1  # the token bucket is empty: Lattice answers 429 (drawn: overhead, body)
NO_TARGET_GROUP = 2  # every weight of the rule is 0: a 500 (drawn: overhead, body)
PROTOCOL = 3  # the request's protocol needs the group's check (drawn: ... and the leg)
TARGET = 4  # no plain target that is up to take it: ``_to_target`` (drawn: ... and the pick)
QUEUE_FULL = 5  # the target's queue is full: ``_serve`` (drawn: ... and the target hop)
SERVED = 6  # served, but not a 200 that nothing disturbs: ``_complete`` or ``_defer`` (... the service time)
LATE = 7  # a 200 after its sender gave up: ``_complete`` (lattice_response says how)


def forward(sim: Simulation, cs: Any, spec: int, plan: tuple[Any, ...], t: float, hop: float,
            c_deadline: float) -> tuple[Any, ...]:
    """Lattice handles, at ``t``, a request of sender ``cs`` (request class ``spec``, sent through
    ``cs``'s own AZ, ``hop`` from Lattice, given up at ``c_deadline``) by ``plan``. Returns
    ``(OK, t_l, start, end, ta, group)`` — Lattice passes the target's 200 on at ``t_l``; the
    target started it at ``start``, ended at ``end``, had it at ``ta`` — with every record made, or
    ``(point, overhead, body, group, target, hop_t, ta, deadline, start, end)`` cut after what
    ``point`` has drawn, for ``hand_over``."""
    svc, route, key, split, c, idle, http11, draw_body, draw_resp, bucket, rule_time = plan
    overhead = cs.overhead()
    body = draw_body()
    if bucket is not None:  # as Simulation._take_token: the service's token bucket in the AZ
        rate = sim.rate_limit
        tokens = bucket[0] + (t - bucket[1]) * rate
        if tokens > rate:
            tokens = float(rate)
        bucket[1] = t
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
        else:
            bucket[0] = tokens
            return RATE_LIMITED, overhead, body
    leg = split.next()
    if leg is END:
        leg = split.refill()
    if leg is None:
        return NO_TARGET_GROUP, overhead, body
    warmup = sim.warmup
    if t >= warmup:  # Simulation.settle hands the legs' hits to Recorder.forwarded
        leg.hits += 1
    st = leg.st
    if not (http11 and st.http1) and not sim._protocol_ok(cs, spec, st):
        return PROTOCOL, overhead, body, st
    routable = st.routable  # as TargetGroupState.pick: round robin
    if routable:
        rr = st.rr
        st.rr = rr + 1
        srv = routable[rr % len(routable)]
    else:
        srv = None
    if srv is None or not srv.fast:  # srv.fast: plain, up, no injected latency
        return TARGET, overhead, body, st, srv
    hop_t = srv.hop_same() if srv.az == cs.az else srv.hop_cross()
    ta = t + overhead + hop_t
    deadline = ta + idle
    # the target (as _serve: no Lambda, no injected latency)
    free = srv.free
    f = free[0]
    if f > ta:
        if srv.queue_limit is not None and not srv.enqueue(f, ta):  # the queue is full
            return QUEUE_FULL, overhead, body, st, srv, hop_t, ta, deadline
        start = f
    else:
        start = ta
    end = start + srv.service() * srv.slowdown
    heapreplace(free, end)
    respond = end if end <= deadline else deadline
    if (respond >= sim.next_disruption or respond > sim.duration or end > deadline
            or srv.error_rate + srv.inject_rate > 0.0 or not start):
        return SERVED, overhead, body, st, srv, hop_t, ta, deadline, start, end
    # the answer (as _complete and lattice_response: a 200 from the target)
    t_l = end + hop_t
    if t_l + hop > c_deadline:  # the sender gives up first: lattice_response says how
        return LATE, overhead, body, st, srv, hop_t, ta, deadline, start, end
    resp = draw_resp()
    # the service's and the target group's records (as Recorder.record for a 200, with
    # Cursor.count and BufferedHistogram.add written out: a call each less per request)
    dur = t_l - t
    row = c.row if c.lo <= t < c.hi else c.move(t)
    row[TOTAL] += 1
    row[HTTP_2XX] += 1
    row[TIME_SUM] += dur
    row[BYTES_IN] += body
    row[BYTES_OUT] += resp
    buf = c.buf
    buf.append(dur)
    if len(buf) >= FLUSH:
        c.flush()
    if t >= warmup:  # as Recorder.rule_time
        buf = rule_time.buf
        buf.append(dur)
        if len(buf) >= FLUSH:
            rule_time.flushed()
    t_tg = ta - hop_t
    dur = t_l - t_tg
    if t_tg >= warmup:
        srv.requests += 1
        buf = srv.time.buf
        buf.append(dur)
        if len(buf) >= FLUSH:
            srv.time.flushed()
    cur = srv.cursor
    row = cur.row if cur.lo <= t_tg < cur.hi else cur.move(t_tg)
    row[TOTAL] += 1
    row[HTTP_2XX] += 1
    row[TIME_SUM] += dur
    row[BYTES_IN] += body
    row[BYTES_OUT] += resp
    buf = cur.buf
    buf.append(dur)
    if len(buf) >= FLUSH:
        cur.flush()
    watchers = sim.rec.watchers  # canary controllers' windows
    if watchers and st.name in watchers:
        watchers[st.name].add(dur, 200)
    return OK, t_l, start, end, ta, st


def record_ok(sim: Simulation, c: Any, srv: TargetServer, t_entry: float, t_tg: float, t: float, body: int,
              resp: int, rule_time: BufferedHistogram) -> None:
    """Lattice's records of a target's 200 that it passes on at ``t``, as ``forward`` writes them
    out (``lattice_response`` for that case, with no access log): the service's counters and
    latency (cursor ``c``, from ``t_entry``), the rule's and the target's RequestTime after the
    warm-up, the target group's counters and latency (from ``t_tg``, when Lattice sent it on), a
    canary's watcher. For a program's 200 (``CallGraph._answer``), which ``forward`` does not see."""
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
    """The general path takes ``req`` over where ``forward`` stopped (``out``: what it returned).
    ``req`` is as ``Simulation._enter`` leaves it before its draws: entered at ``t``, its route,
    service and client deadline set; its body is set here."""
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


__all__ = ["OK", "forward", "hand_over", "record_ok"]
