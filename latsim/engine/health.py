"""Health checks (docs/lattice.md §4.2): an independent probe per target every interval.

A probe is an HTTP request to the health-check path: it fails at once when the target is down
or its security group does not admit the health-check port from the Lattice prefix list;
otherwise it waits in the target's queue like any request (the same workers, the same queue
bound: an overloaded target fails its checks by timeout), takes a draw of the target's latency
(slowdown and injected latency included), and passes when it answers within the timeout with a
status the ``matcher`` accepts. The status is the target's ``health_status`` when set, else what
a request would get (its error rate and injected errors, drawn from the probe's own stream).
A new target turns HEALTHY after one pass; then ``unhealthy_threshold`` consecutive failures
take it out of rotation and ``healthy_threshold`` consecutive passes bring it back. (A pass of a
healthy target, which changes nothing but the pass and failure counts, is counted when the probe
is sent when nothing can come between: a timer, and an event in the summary's count, less.) Targets
present at t=0 are assumed to have been registered long ago and start HEALTHY (a documented
assumption).
"""

from __future__ import annotations

from typing import Any

from latsim.delivery import matcher_accepts
from latsim.engine.sampling import sampler
from latsim.engine.target import HEALTHY, INITIAL, UNHEALTHY, TargetServer


class _Probe:
    """One target's health checks: what each probe reads, drawn and looked up once."""

    __slots__ = ("srv", "draw", "status_u", "interval", "timeout", "ok_200", "fixed", "probe")

    def __init__(self, srv: TargetServer, draw: Any, status_u: Any, probe: Any) -> None:
        self.srv = srv
        self.draw = draw
        self.status_u = status_u
        hc = srv.tg.model.health_check
        self.interval = hc.interval
        self.timeout = hc.timeout
        self.ok_200 = matcher_accepts(srv.tg.model, 200)  # the usual answer, decided once
        self.fixed = srv.ct.model.health_status  # the target's fixed answer to probes (None: a request's)
        self.probe = probe  # HealthChecker._probe, bound once


class HealthChecker:
    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.probes = 0

    def start(self) -> None:
        for st in self.sim.tgs.values():
            if not st.checked:
                continue
            for srv in list(st.targets):
                self.schedule_first(srv)

    def schedule_first(self, srv: TargetServer) -> None:
        sim = self.sim
        hc = srv.tg.model.health_check
        name = f"health/{srv.tg.name}/{srv.id}/{sim.reg_count.get(f'{srv.tg.name}/{srv.id}', 1)}"
        phase = sim.streams.uniform(f"{name}/phase")() * hc.interval
        draw = sampler(srv.ct.model.latency, sim.streams.rng(f"{name}/latency"))
        status_u = sim.streams.uniform(f"{name}/status")
        # a timer, not a SimPy event: the pump runs probes inline between arrivals (Simulation.timer)
        sim.timer(sim.now + phase, self._probe, _Probe(srv, draw, status_u, self._probe))

    def _probe(self, p: _Probe) -> None:
        srv = p.srv
        if not srv.registered:
            return
        sim = self.sim
        self.probes += 1
        now = sim.now
        sim.timer(now + p.interval, p.probe, p)  # a slow answer does not shift the schedule
        if not (srv.up and srv.ct.sg_allows_health[0]):
            self.result(srv, False)
            return
        answer = p.draw() * srv.slowdown
        if srv.extra is not None:
            answer = answer * srv.extra[0] + (srv.extra[1]() if srv.extra[1] is not None else 0.0)
        end = srv.take_worker(now, answer)
        if end is None:  # the queue is full: the target turns the probe away
            self.result(srv, False)
            return
        ok = False
        if end - now < p.timeout:
            if p.fixed is None and not srv.error_rate + srv.inject_rate > 0.0:
                ok = p.ok_200  # (as _status: a request's answer, no error to draw)
            else:
                status = self._status(srv, p.status_u)
                ok = p.ok_200 if status == 200 else matcher_accepts(srv.tg.model, status)
        # the result is known when the probe returns (or times out)
        deadline = now + p.timeout
        at = deadline if deadline < end else end
        if ok and srv.health == HEALTHY and at < sim.next_disruption and at < sim.duration:
            # a pass of a healthy target changes no state but these counters, which nothing else
            # reads or writes until ``at``: no other probe of it is in flight (the timeout is
            # shorter than the interval), and no timeline event comes first to deregister it or
            # move its health. Applied now, as it would be then: a timer less per probe.
            self.result(srv, True)
            return
        sim.timer(at, self._on_result, (srv, ok))

    @staticmethod
    def _status(srv: TargetServer, u: Any) -> int:
        """The probe's HTTP status: the target's ``health_status``, else a request's."""
        fixed = srv.ct.model.health_status
        if fixed is not None:
            return int(fixed)
        rate = srv.error_rate + srv.inject_rate
        if rate > 0.0 and u() < rate:
            return srv.inject_status if srv.inject_rate and u() < srv.inject_rate / rate else srv.error_status
        return 200

    def _on_result(self, value: tuple[TargetServer, bool]) -> None:
        srv, ok = value
        if srv.registered:
            self.result(srv, ok)

    def result(self, srv: TargetServer, ok: bool) -> None:
        if ok:
            srv.passes += 1
            srv.fails = 0
            if srv.health == INITIAL or (srv.health == UNHEALTHY and
                                         srv.passes >= srv.tg.model.health_check.healthy_threshold):
                self.sim.set_health(srv, HEALTHY)
        else:
            srv.fails += 1
            srv.passes = 0
            if srv.health in (HEALTHY, INITIAL) and srv.fails >= srv.tg.model.health_check.unhealthy_threshold:
                self.sim.set_health(srv, UNHEALTHY)

    def finish(self) -> None:
        pass
