"""Health checks (docs/lattice.md §4.2): an independent probe per target every interval.

A probe passes when the target is up, its security group admits the health-check port from
the Lattice prefix list, and it answers within the timeout (the answer time is drawn from the
target's own latency distribution, slowdown and injected latency included). A new target turns
HEALTHY after one pass; then ``unhealthy_threshold`` consecutive failures take it out of
rotation and ``healthy_threshold`` consecutive passes bring it back. Targets present at t=0 are
assumed to have been registered long ago and start HEALTHY (a documented assumption).
"""

from __future__ import annotations

from typing import Any

from latsim.engine.sampling import sampler
from latsim.engine.target import HEALTHY, INITIAL, UNHEALTHY, TargetServer


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
        sim.at(sim.now + phase, self._probe, (srv, draw))

    def _probe(self, ev: Any) -> None:
        srv, sampler = ev._value
        sim = self.sim
        if not srv.registered:
            return
        hc = srv.tg.model.health_check
        self.probes += 1
        ok = srv.up and srv.ct.sg_allows_health[0]
        if ok:
            answer = sampler() * srv.slowdown
            if srv.extra is not None:
                answer = answer * srv.extra[0] + (srv.extra[1]() if srv.extra[1] is not None else 0.0)
            ok = answer < hc.timeout
        # the result is known when the probe returns (or times out)
        self.result(srv, ok)
        sim.at(sim.now + hc.interval, self._probe, (srv, sampler))

    def result(self, srv: TargetServer, ok: bool) -> None:
        hc = srv.tg.model.health_check
        if ok:
            srv.passes += 1
            srv.fails = 0
            if srv.health == INITIAL or (srv.health == UNHEALTHY and srv.passes >= hc.healthy_threshold):
                self.sim.set_health(srv, HEALTHY)
        else:
            srv.fails += 1
            srv.passes = 0
            if srv.health in (HEALTHY, INITIAL) and srv.fails >= hc.unhealthy_threshold:
                self.sim.set_health(srv, UNHEALTHY)

    def finish(self) -> None:
        pass
