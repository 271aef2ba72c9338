"""The request lifecycle on a SimPy event loop.

A request costs two events in the common case: its arrival at Lattice (which, for open-loop
clients, is also the arrival process's own event) and its completion at the target. Everything
between is decided by the compiled tables (``latsim.compile``): DNS, security groups, listener,
auth, rule, weighted split and round robin. Client-side outcomes (responses, timeouts, retries)
are processed at their own absolute time without an event, because nothing else can observe the
client in between; an extra "expire" event is scheduled only for requests that may outlive the
client's timeout or Lattice's idle timeout.

Callbacks are plain SimPy events carrying a function: no generator per request.
"""

from __future__ import annotations

import time
from heapq import heappush
from itertools import count
from typing import Any

import simpy

from latsim.compile import DENIED, FIXED, FORWARDED, RequestClass, Route, Topology, protocol_error
from latsim.engine.sampling import Sampler
from latsim.engine.streams import Streams
from latsim.engine.target import (
    HEALTHY,
    INITIAL,
    UNAVAILABLE,
    TargetGroupState,
    TargetServer,
)
from latsim.metrics.histogram import LogHistogram
from latsim.metrics.recorder import Recorder
from latsim.model.scenario import Scenario
from latsim.workload.arrivals import INF, make_arrivals

NORMAL = 1
URGENT = 0


class _Call:
    """A bare SimPy event that calls ``fn(event)``; the payload travels in ``_value``."""

    __slots__ = ("callbacks", "_ok", "_value", "_defused")

    def __init__(self, fn: Any, value: Any) -> None:
        self.callbacks = [fn]
        self._ok = True
        self._value = value


class Request:
    """One attempt of one logical request (retries are new attempts of the same logical one)."""

    __slots__ = ("client", "spec", "t_send", "t_first", "attempt", "user", "t_entry", "route", "svc", "tg",
                 "target", "t_target", "client_deadline", "lattice_deadline", "client_done", "lattice_done",
                 "dead", "hop_c", "hop_t", "entry_az", "body", "resp", "rule_key", "seq", "t_start")

    def __init__(self, client: ClientState, spec: int, t_send: float, t_first: float, attempt: int, user: int) -> None:
        self.client = client
        self.spec = spec
        self.t_send = t_send
        self.t_first = t_first
        self.attempt = attempt
        self.user = user
        self.client_done = False
        self.lattice_done = False
        self.dead = False
        self.target: TargetServer | None = None
        self.tg: TargetGroupState | None = None
        self.route: Route | None = None
        self.t_target = 0.0
        self.lattice_deadline = INF


class ClientStats:
    __slots__ = ("requests", "sent", "completed", "status", "failures", "retries", "succeeded", "failed",
                 "attempt_hist", "hist")

    def __init__(self) -> None:
        self.requests = 0
        self.sent = 0
        self.completed = 0
        self.status: dict[int, int] = {}
        self.failures: dict[str, int] = {}
        self.retries = 0
        self.succeeded = 0
        self.failed = 0
        self.attempt_hist = LogHistogram()
        self.hist = LogHistogram()


class ClientState:
    """A client's compiled view: request mix, samplers, retry policy, route cache."""

    def __init__(self, sim: Simulation, name: str) -> None:
        topo = sim.topo
        self.name = name
        self.cc = topo.clients[name]
        m = self.model = self.cc.model
        streams = sim.streams
        self.classes = [RequestClass.of(m, s) for s in m.requests]
        self.specs = list(m.requests)
        weights = [s.weight for s in m.requests]
        total = sum(weights)
        acc, self.cum = 0.0, []
        for w in weights:
            acc += w / total
            self.cum.append(acc)
        self.mix = streams.uniform(f"client/{name}/mix") if len(self.specs) > 1 else None
        self.retry_u = streams.uniform(f"client/{name}/retry")
        net = sim.scn.network
        self.hop_same = Sampler(net.client_hop or net.same_az, streams.rng(f"client/{name}/hop/same"))
        self.hop_cross = Sampler(net.client_hop or net.cross_az, streams.rng(f"client/{name}/hop/cross"))
        self.overhead = Sampler(net.lattice_overhead, streams.rng(f"client/{name}/lattice_overhead"))
        self.body = [Sampler(s.body, streams.rng(f"client/{name}/body/{i}")) for i, s in enumerate(self.specs)]
        self.resp = [Sampler(s.response, streams.rng(f"client/{name}/response/{i}")) for i, s in enumerate(self.specs)]
        self.timeout = m.timeout
        rp = m.retries
        self.retry_max = rp.max
        self.retry_on = set(rp.on)
        self.backoff = rp.backoff
        self.multiplier = rp.multiplier
        self.max_backoff = rp.max_backoff
        self.jitter = rp.jitter
        self.arrivals = make_arrivals(m.arrival, streams, f"client/{name}")
        self.closed = m.arrival.closed
        self.think = Sampler(self.closed.think, streams.rng(f"client/{name}/think")) if self.closed else None
        self.routes: list[Route | None] = [None] * len(self.specs)
        self.route_version = -1
        self.stats = ClientStats()
        self.arrival_gen = 0
        self.vpc_azs = sim.scn.index.vpcs[m.vpc].azs

    def pick_spec(self) -> int:
        if self.mix is None:
            return 0
        u = self.mix()
        for i, c in enumerate(self.cum):
            if u < c:
                return i
        return len(self.cum) - 1

    def route(self, sim: Simulation, spec: int) -> Route:
        if self.route_version != sim.topo.version:
            self.routes = [None] * len(self.specs)
            self.route_version = sim.topo.version
        r = self.routes[spec]
        if r is None:
            r = self.routes[spec] = sim.topo.route(self.cc, self.classes[spec])
        return r

    def backoff_delay(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * self.multiplier ** (attempt - 1))
        if self.jitter == "full":
            return base * self.retry_u()
        if self.jitter == "equal":
            return base / 2 + base / 2 * self.retry_u()
        return base


class Simulation:
    """One run of one scenario. Build, then ``run()`` -> ``latsim.results.Result``."""

    def __init__(self, scn: Scenario, *, access_log: Any = None, progress: Any = None,
                 base_dir: str | None = None) -> None:
        self.scn = scn
        self.env = simpy.Environment()
        self._queue = self.env._queue
        self._eid = self.env._eid
        self.streams = Streams(scn.seed)
        self.topo = Topology(scn)
        self.rec = Recorder(scn.warmup)
        self.access_log = access_log
        self.progress = progress
        self.base_dir = base_dir
        self.a = scn.assumptions
        self.failed_azs: set[str] = set()
        self.rate_buckets: dict[tuple[str, str], list[float]] = {}
        self.rate_limit = scn.quota("requests_per_second_per_service_per_az") if self.a.rate_limit else 0
        self.seq = count()
        self.events_run = 0
        self.partial = False
        self.canary_log: list[dict[str, Any]] = []
        self.tgs: dict[str, TargetGroupState] = {}
        self.targets_by_id: dict[str, list[TargetServer]] = {}
        self.reg_count: dict[str, int] = {}
        net = scn.network
        self._net = net
        self.hops: dict[TargetServer, tuple[Sampler, Sampler]] = {}
        self.alb_hop = Sampler(net.alb_hop, self.streams.rng("network/alb_hop"))
        for name, ctg in self.topo.target_groups.items():
            st = TargetGroupState(ctg)
            self.tgs[name] = st
            for ct in ctg.targets:
                self._add_target(st, ct, initial=False)
        self.clients = {name: ClientState(self, name) for name in self.topo.clients}
        self.split_u: dict[str, Any] = {}
        from latsim.engine.health import HealthChecker
        from latsim.engine.timeline import Timeline
        self.health = HealthChecker(self)
        self.timeline = Timeline(self)

    # -- scheduling ------------------------------------------------------------------------------
    def at(self, t: float, fn: Any, value: Any = None) -> None:
        heappush(self._queue, (t, NORMAL, next(self._eid), _Call(fn, value)))

    @property
    def now(self) -> float:
        return self.env._now

    # -- targets -----------------------------------------------------------------------------------
    def _add_target(self, st: TargetGroupState, ct: Any, initial: bool) -> TargetServer:
        kind = st.kind
        srv = TargetServer(ct, st, kind)
        n = self.reg_count.get(f"{st.name}/{ct.id}", 0)
        self.reg_count[f"{st.name}/{ct.id}"] = n + 1
        suffix = f"#{n}" if n else ""
        base = f"target/{st.name}/{ct.id}{suffix}"
        srv.service = Sampler(ct.model.latency, self.streams.rng(f"{base}/service"))
        srv.error_u = self.streams.uniform(f"{base}/errors")
        net = self._net
        srv.hc_index = 0
        srv_hops = (Sampler(net.target_hop or net.same_az, self.streams.rng(f"{base}/hop/same")),
                    Sampler(net.target_hop or net.cross_az, self.streams.rng(f"{base}/hop/cross")))
        srv.extra = None
        srv.ct = ct
        srv.health = (INITIAL if initial else HEALTHY) if st.checked else UNAVAILABLE
        if kind == "LAMBDA" and ct.model.cold_start is not None:
            srv.cold_start = Sampler(ct.model.cold_start, self.streams.rng(f"{base}/cold_start"))
        self.hops[srv] = srv_hops
        st.add(srv)
        self.targets_by_id.setdefault(ct.id, []).append(srv)
        srv.health_log.append([self.env.now, srv.health])
        if srv.az in self.failed_azs:
            srv.set_down(az_down=True)
        return srv

    def set_health(self, srv: TargetServer, state: str) -> None:
        if srv.health == state:
            return
        srv.health = state
        srv.health_log.append([self.now, state])
        srv.tg.refresh()

    # -- clients -----------------------------------------------------------------------------------
    def start(self) -> None:
        for cs in self.clients.values():
            m = cs.model
            if cs.closed is not None:
                u = self.streams.uniform(f"client/{cs.name}/start")
                spread = max(cs.think.dist.mean if cs.think else 0.0, 0.001)
                for user in range(cs.closed.users):
                    self.at(u() * spread, self._on_user_start, (cs, user))
            elif m.arrival.replay is not None:
                from latsim.workload.replay import Replayer
                Replayer(self, cs, m.arrival.replay).start()
            elif cs.arrivals is not None:
                t = cs.arrivals.next(0.0)
                if t < self.scn.duration:
                    self.at(t, self._on_arrival, (cs, cs.arrival_gen))
        self.health.start()
        self.timeline.start()

    def _on_user_start(self, ev: Any) -> None:
        cs, user = ev._value
        self.send_new(cs, user, self.now)

    def _on_arrival(self, ev: Any) -> None:
        """Open-loop arrival: the event time is the arrival at Lattice (fused with the send)."""
        cs, gen = ev._value
        if gen != cs.arrival_gen:
            return  # superseded by a rate change
        now = self.env._now
        nxt = cs.arrivals.next(now)  # type: ignore[union-attr]
        if nxt < self.scn.duration:
            self.at(nxt, self._on_arrival, ev._value)
        spec = cs.pick_spec()
        req = Request(cs, spec, now, now, 1, -1)
        entry_az, hop = self._client_hop(cs)
        req.t_send = req.t_first = now - hop
        req.hop_c = hop
        req.entry_az = entry_az
        if req.t_first >= self.rec.warmup:
            cs.stats.requests += 1
        self._enter(req)

    def send_new(self, cs: ClientState, user: int, t: float, spec: int | None = None) -> None:
        if t >= self.rec.warmup:
            cs.stats.requests += 1
        req = Request(cs, cs.pick_spec() if spec is None else spec, t, t, 1, user)
        self._send(req)

    def _send(self, req: Request) -> None:
        """Send an attempt at ``req.t_send`` (>= now): arrival at Lattice one hop later."""
        entry_az, hop = self._client_hop(req.client)
        req.hop_c = hop
        req.entry_az = entry_az
        self.at(req.t_send + hop, self._on_entry, req)

    def _on_entry(self, ev: Any) -> None:
        self._enter(ev._value)

    def _client_hop(self, cs: ClientState) -> tuple[str | None, float]:
        az = cs.model.az
        if az not in self.failed_azs:
            return az, cs.hop_same()
        for other in cs.vpc_azs:
            if other not in self.failed_azs:
                return other, cs.hop_cross()
        return None, cs.hop_same()

    # -- Lattice --------------------------------------------------------------------------------------
    def _enter(self, req: Request) -> None:
        now = self.env._now
        cs = req.client
        if req.t_first >= self.rec.warmup:
            cs.stats.sent += 1
        req.client_deadline = req.t_send + cs.timeout
        req.t_entry = now
        route = cs.route(self, req.spec)
        req.route = route
        if route.outcome != FORWARDED and route.outcome != FIXED and route.outcome != DENIED:
            self._unreachable(req, route)
            return
        if req.entry_az is None:  # every AZ of the client's VPC is down: no entry point
            self.client_outcome(req, req.client_deadline, None, "connect_timeout")
            return
        svc = route.service
        req.svc = svc
        overhead = cs.overhead()
        req.body = int(cs.body[req.spec]())
        if self.rate_limit and not self._admit(svc, req.entry_az, now):  # type: ignore[arg-type]
            self.lattice_response(req, now + overhead, self.a.rate_limit_status, lattice=True,
                                  failure="ClientRateLimited")
            return
        if route.outcome == DENIED:
            self.lattice_response(req, now + overhead, 403, lattice=True, failure="ClientAccessDenied")
            return
        if route.outcome == FIXED:
            self.lattice_response(req, now + overhead, route.status or 404, lattice=True)
            return
        action = route.action
        assert action is not None
        key = action.key
        u = self.split_u.get(key)
        if u is None:
            u = self.split_u[key] = self.streams.uniform(f"split/{key}")
        tg_name = action.pick(u() if len(action.names) > 1 else 0.0)
        req.rule_key = key
        self.rec.rule(key, tg_name, now)
        if tg_name is None:  # every weight is 0 (assumption: fixed 500)
            self.lattice_response(req, now + overhead, 500, lattice=True, failure="InternalError")
            return
        st = self.tgs[tg_name]
        req.tg = st
        spec = cs.specs[req.spec]
        if spec.protocol != "HTTP/1.1" or st.model.protocol_version != "HTTP1":
            if protocol_error(spec.protocol, st.model, spec.method) is not None:
                self.lattice_response(req, now + overhead, 502, lattice=True, failure="TargetProtocolError")
                return
        srv = st.pick()
        if srv is None:
            self.lattice_response(req, now + overhead, self.a.target_connection_error_status, lattice=True,
                                  failure="TargetConnectionError", conn_error=True)
            return
        req.target = srv
        same, cross = self.hops[srv]
        hop = same() if srv.az == req.entry_az else cross()
        if srv.kind == "ALB":
            hop += self.alb_hop()
        req.hop_t = hop
        if now >= self.rec.warmup:
            srv.requests += 1  # requests routed to this target (connection failures included)
        if not srv.up or not srv.ct.sg_allows_traffic[0]:
            # Connection refused, or SYNs dropped by the target's security group.
            delay = self.a.target_connect_timeout if (srv.up and not srv.ct.sg_allows_traffic[0]) or srv.az_down \
                else 2 * hop
            self.lattice_response(req, now + overhead + delay, self.a.target_connection_error_status, lattice=True,
                                  failure="TargetConnectionError", conn_error=True)
            return
        ta = now + overhead + hop
        req.t_target = ta
        req.lattice_deadline = ta + self.topo.services[svc].model.idle_timeout  # type: ignore[index]
        self._offer(srv, req, ta)

    def _admit(self, svc: str, az: str, now: float) -> bool:
        """Token bucket of ``requests_per_second_per_service_per_az`` (burst: one second)."""
        key = (svc, az)
        b = self.rate_buckets.get(key)
        rate = self.rate_limit
        if b is None:
            b = self.rate_buckets[key] = [float(rate), now]
        tokens = min(float(rate), b[0] + (now - b[1]) * rate)
        b[1] = now
        if tokens >= 1.0:
            b[0] = tokens - 1.0
            return True
        b[0] = tokens
        return False

    def _unreachable(self, req: Request, route: Route) -> None:
        failure = route.failure
        now = self.env._now
        if failure == "dns_failure":
            self.client_outcome(req, req.t_send, None, "dns_failure")
        elif failure == "connect_timeout":
            self.client_outcome(req, req.client_deadline, None, "connect_timeout")
        elif failure == "connection_refused":
            self.client_outcome(req, now + req.hop_c, None, "connection_refused")
        else:  # 404 Non Existent Service or 400 protocol error: answered by Lattice, no service metrics
            self.client_outcome(req, now + req.client.overhead() + req.hop_c, route.status, None)

    # -- targets ----------------------------------------------------------------------------------------
    def _offer(self, srv: TargetServer, req: Request, ta: float) -> None:
        if srv.busy < srv.concurrency:
            srv.busy += 1
            self._start(srv, req, ta)
            return
        limit = srv.queue_limit
        if limit is not None and len(srv.queue) >= limit:
            if srv.kind == "LAMBDA":
                self.lattice_response(req, ta + req.hop_t, 429, lattice=False, failure="TargetProtocolError")
            else:
                self.lattice_response(req, ta + req.hop_t, self.a.queue_overflow_status, lattice=True,
                                      failure="TargetConnectionError", conn_error=True)
            return
        srv.queue.append(req)
        self.at(min(req.client_deadline, req.lattice_deadline), self._on_expire, req)

    def _start(self, srv: TargetServer, req: Request, ta: float) -> None:
        start = ta if ta > self.env._now else self.env._now
        s = srv.service() * srv.slowdown
        if srv.extra is not None:
            s = s * srv.extra[0] + (srv.extra[1]() if srv.extra[1] is not None else 0.0)
        if srv.cold_start is not None:
            s += self._lambda_env(srv, start)
        tc = start + s
        srv.inflight.add(req)
        self.at(tc, self._on_complete, req)
        if tc > req.lattice_deadline or tc + req.hop_t + req.hop_c > req.client_deadline:
            if not req.dead and start == ta:  # queued requests already have an expire event
                self.at(min(req.client_deadline, req.lattice_deadline), self._on_expire, req)

    def _lambda_env(self, srv: TargetServer, start: float) -> float:
        """Lambda: reuse an idle execution environment if one is warm, else pay a cold start."""
        warm = srv.warm
        while warm and start - warm[0] > srv.idle_expiry:
            warm.pop(0)
        if warm:
            warm.pop()
            return 0.0
        return srv.cold_start()  # type: ignore[no-any-return]

    def _on_complete(self, ev: Any) -> None:
        req: Request = ev._value
        srv = req.target
        assert srv is not None
        now = self.env._now
        if req.dead:
            return
        srv.inflight.discard(req)
        if srv.cold_start is not None:
            srv.warm.append(now)
        srv.busy -= 1
        q = srv.queue
        while q and srv.busy < srv.concurrency:
            nxt = q.popleft()
            if nxt.dead:
                continue
            srv.busy += 1
            self._start(srv, nxt, nxt.t_target)
        if req.lattice_done:
            return
        if now > req.lattice_deadline:
            # Lattice gave up at its idle timeout while the client had already left.
            req.lattice_done = True
            self._record_lattice(req, req.lattice_deadline, self.a.target_timeout_status, timeout=True,
                                 lattice=True, failure="TargetDataTimeout")
            return
        status = 200
        rate = srv.error_rate + srv.inject_rate
        if rate > 0.0 and srv.error_u() < rate:
            status = srv.inject_status if srv.inject_rate and srv.error_u() < srv.inject_rate / rate \
                else srv.error_status
        self.lattice_response(req, now + req.hop_t, status, lattice=False)

    def _on_expire(self, ev: Any) -> None:
        req: Request = ev._value
        now = self.env._now
        if req.dead or (req.client_done and req.lattice_done):
            return
        if not req.lattice_done and now >= req.lattice_deadline:
            req.lattice_done = True
            if req.target is not None and req in req.target.queue:
                req.dead = True  # never started: drop it from the queue lazily
            self.lattice_response(req, now, self.a.target_timeout_status, lattice=True,
                                  failure="TargetDataTimeout", timeout=True)
            return
        if not req.client_done and now >= req.client_deadline:
            self.client_outcome(req, now, None, "client_timeout")

    def fail_inflight(self, srv: TargetServer, status: int = 502, failure: str = "TargetConnectionClosed") -> None:
        """A target died: its in-flight and queued requests fail now."""
        now = self.env._now
        victims = list(srv.inflight) + list(srv.queue)
        srv.inflight.clear()
        srv.queue.clear()
        srv.busy = 0
        for req in victims:
            if req.dead or req.lattice_done:
                continue
            req.dead = True
            self.lattice_response(req, now, status, lattice=True, failure=failure)

    # -- responses --------------------------------------------------------------------------------------
    def lattice_response(self, req: Request, t: float, status: int, *, lattice: bool, failure: str | None = None,
                         timeout: bool = False, conn_error: bool = False) -> None:
        """Lattice sends a response at ``t``: record the service/target-group metrics, then the
        client sees it one hop later."""
        req.lattice_done = True
        self._record_lattice(req, t, status, timeout=timeout, lattice=lattice, failure=failure, conn_error=conn_error)
        if req.client_done:
            return
        t_client = t + req.hop_c
        if t_client > req.client_deadline:
            # the client gives up first, at its own deadline (processed now: nothing observes it earlier)
            self.client_outcome(req, max(req.client_deadline, self.env._now), None, "client_timeout")
            return
        self.client_outcome(req, t_client, status, failure)

    def _record_lattice(self, req: Request, t: float, status: int, *, timeout: bool, lattice: bool,
                        failure: str | None, conn_error: bool = False) -> None:
        svc = req.svc
        az = req.entry_az or "-"
        resp = 0
        if status < 400 or not lattice:
            resp = int(req.client.resp[req.spec]())
        self.rec.record("service", svc, az, req.t_entry, t, status, timeout=timeout, lattice_generated=lattice,
                        bytes_in=req.body, bytes_out=resp)
        st = req.tg
        if st is not None and req.target is not None:
            self.rec.record("target_group", st.name, req.target.az, req.t_target - req.hop_t,
                            t, status, timeout=timeout, conn_error=conn_error,
                            lattice_generated=lattice, bytes_in=req.body, bytes_out=resp)
        if self.access_log is not None:
            self.access_log.write(self, req, t, status, failure, resp)

    def client_outcome(self, req: Request, t: float, status: int | None, failure: str | None) -> None:
        """The client learns the outcome of an attempt at time ``t`` (>= now)."""
        if req.client_done:
            return
        req.client_done = True
        cs = req.client
        st = cs.stats
        recorded = req.t_first >= self.rec.warmup
        if status is not None:
            if recorded:
                st.completed += 1
                st.status[status] = st.status.get(status, 0) + 1
                st.attempt_hist.record(t - req.t_send)
            klass = "5xx" if status >= 500 else ("429" if status == 429 else ("4xx" if status >= 400 else None))
            retry = klass is not None and (klass in cs.retry_on or (klass == "429" and "4xx" in cs.retry_on))
        else:
            if recorded and failure is not None:
                st.failures[failure] = st.failures.get(failure, 0) + 1
            kind = "timeout" if failure == "client_timeout" else "connect_error"
            retry = failure != "dns_failure" and kind in cs.retry_on
        if retry and req.attempt <= cs.retry_max and t < self.scn.duration:
            if recorded:
                st.retries += 1
            nxt = Request(cs, req.spec, t + cs.backoff_delay(req.attempt), req.t_first, req.attempt + 1, req.user)
            self._send(nxt)
            return
        ok = status is not None and status < 400
        if recorded:
            if ok:
                st.succeeded += 1
            else:
                st.failed += 1
            st.hist.record(t - req.t_first)
        if cs.closed is not None and req.user >= 0:
            nxt_t = t + (cs.think() if cs.think is not None else 0.0)
            if nxt_t < self.scn.duration:
                if nxt_t >= self.rec.warmup:
                    cs.stats.requests += 1
                self._send(Request(cs, cs.pick_spec(), nxt_t, nxt_t, 1, req.user))

    def targets_by_id_all(self, tg: str) -> list[TargetServer]:
        return [t for ts in self.targets_by_id.values() for t in ts if t.tg.name == tg]

    # -- run --------------------------------------------------------------------------------------------
    def run(self) -> Any:
        from latsim.results import Result
        wall0 = time.perf_counter()
        self.start()
        env = self.env
        until = self.scn.duration
        try:
            if self.progress is None:
                env.run(until=until)
            else:
                step = max(until / 200.0, 0.001)
                t = 0.0
                while t < until:
                    t = min(until, t + step)
                    env.run(until=t)
                    self.progress(t, until, self)
        except KeyboardInterrupt:
            self.partial = True
        self.end_time = env.now if not self.partial else env.now
        self.health.finish()
        wall = time.perf_counter() - wall0
        return Result.from_simulation(self, wall)
