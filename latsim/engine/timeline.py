"""The timeline: changes and faults at simulated times, and progressive canary controllers.

Every change goes through the compiled tables (weights, auth, associations) or the target
state (failures, injections, registrations), the same structures the request path reads.
"""

from __future__ import annotations

from typing import Any

from latsim.engine.sampling import sampler
from latsim.engine.target import DRAINING, TargetServer
from latsim.metrics.histogram import LogHistogram

# Events that can cut short a request already under way (the engine delivers such requests by an
# event at their end instead of at once).
DISRUPTIVE = ("fail_targets", "fail_az", "deregister_targets", "inject_latency", "inject_errors")


class Window:
    """Requests seen by one target group since the last reset (for canary checks)."""

    __slots__ = ("count", "errors", "hist")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.errors = 0
        self.hist = LogHistogram()

    def add(self, dur: float, status: int) -> None:
        self.count += 1
        if status >= 500:
            self.errors += 1
        self.hist.record(dur)


class Timeline:
    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.log: list[dict[str, Any]] = []

    def start(self) -> None:
        sim = self.sim
        for i, ev in enumerate(sim.scn.timeline):
            sim.at(ev.at, self._fire, (i, ev))
        for can in sim.scn.canaries:
            Canary(sim, can).start()

    def _fire(self, e: Any) -> None:
        i, ev = e._value
        undo = self.apply(ev, i)
        if ev.kind in DISRUPTIVE:
            self.sim.disrupted(self.sim.now)
        self.log.append({"t_ms": round(self.sim.now * 1000, 3), "event": i, "kind": ev.kind})
        if ev.for_ is not None and undo is not None:
            self.sim.at(self.sim.now + ev.for_, self._undo, (ev, undo))

    def _undo(self, e: Any) -> None:
        ev, undo = e._value
        undo()
        if ev.kind in DISRUPTIVE:
            self.sim.disrupted(self.sim.now)

    def _servers(self, target_group: str | None, ids: list[str]) -> list[TargetServer]:
        sim = self.sim
        out: list[TargetServer] = []
        if target_group is not None:
            out += [t for t in sim.tgs[target_group].targets if t.registered]
        for tid in ids:
            out += [t for t in sim.targets_by_id.get(tid, []) if t.registered]
        return out

    def apply(self, ev: Any, index: int = 0) -> Any:
        """Apply one event; return a function that undoes it (for ``for:``), or None."""
        sim = self.sim
        kind = ev.kind
        body = getattr(ev, kind)
        if kind == "set_weights":
            action = sim.topo.action(body.service, body.listener, body.rule)
            before = action.describe()
            action.set_weights(body.weights)
            return lambda: action.set_weights(before)
        if kind == "fail_az":
            return self.fail_az(body)
        if kind == "recover_az":
            self.recover_az(body)
            return None
        if kind in ("fail_targets", "recover_targets"):
            servers = [t for tid in body for t in sim.targets_by_id.get(tid, [])]
            down = kind == "fail_targets"
            for srv in servers:
                self.set_target_down(srv, down)
            if not down:
                return None

            def revive() -> None:
                for s in servers:
                    self.set_target_down(s, False)
            return revive
        if kind == "inject_latency":
            servers = self._servers(body.target_group, body.targets)
            for srv in servers:
                add = sampler(body.add, sim.streams.rng(f"inject/{index}/{srv.tg.name}/{srv.id}")) \
                    if body.add is not None else None
                srv.extra = (body.factor, add)
                srv.refresh()
            def clear_latency() -> None:
                for s in servers:
                    s.extra = None
                    s.refresh()
            return clear_latency
        if kind == "inject_errors":
            servers = self._servers(body.target_group, body.targets)
            for srv in servers:
                srv.inject_rate = float(body.rate)
                srv.inject_status = body.status
            def clear_errors() -> None:
                for s in servers:
                    s.inject_rate = 0.0
            return clear_errors
        if kind == "register_targets":
            st = sim.tgs[body.target_group]
            for t in body.targets:
                ct = sim.topo.compile_target(st.model, t, len(st.targets))
                srv = sim._add_target(st, ct, initial=True)
                if st.checked:
                    sim.health.schedule_first(srv)
            return None
        if kind == "deregister_targets":
            st = sim.tgs[body.target_group]
            for tid in body.targets:
                srv = st.by_id.get(tid)
                if srv is None or not srv.registered:
                    continue
                srv.registered = False
                sim.set_health(srv, DRAINING)
                st.refresh()
                sim.at(sim.now + st.model.draining, self._drained, srv)
            return None
        if kind == "set_auth_policy":
            sim.topo.set_auth(service=body.service, service_network=body.service_network,
                              auth_type=body.auth_type, policy=body.policy)
            return None
        if kind == "set_rate":
            cs = sim.clients[body.client]
            before = cs.arrivals.base_rate() * cs.arrivals.scale if cs.arrivals else None
            self.set_rate(cs, body.rate)
            return (lambda: self.set_rate(cs, before)) if before is not None else None
        if kind == "associate_vpc":
            sim.topo.associate(body.service_network, body.vpc, body.security_groups)
            return lambda: sim.topo.disassociate(body.service_network, body.vpc)
        if kind == "disassociate_vpc":
            sgs = list(sim.topo.networks[body.service_network].associations.get(body.vpc, []))
            sim.topo.disassociate(body.service_network, body.vpc)
            return lambda: sim.topo.associate(body.service_network, body.vpc, sgs)
        raise AssertionError(f"unhandled timeline event {kind}")

    def set_rate(self, cs: Any, rate: float) -> None:
        sim = self.sim
        if cs.arrivals is None:
            return
        cs.arrivals.set_rate(rate)
        sim.restart_arrivals(cs)  # the pending arrival is dropped; the new rate applies now

    def set_target_down(self, srv: TargetServer, down: bool) -> None:
        if srv.set_down(self_down=down):
            self.sim.fail_inflight(srv)

    def fail_az(self, az: str) -> Any:
        sim = self.sim
        sim.failed_azs.add(az)
        for servers in sim.targets_by_id.values():
            for srv in servers:
                if srv.az == az and srv.set_down(az_down=True):
                    sim.fail_inflight(srv)
        return lambda: self.recover_az(az)

    def recover_az(self, az: str) -> None:
        sim = self.sim
        sim.failed_azs.discard(az)
        for servers in sim.targets_by_id.values():
            for srv in servers:
                if srv.az == az:
                    srv.set_down(az_down=False)

    def _drained(self, e: Any) -> None:
        srv: TargetServer = e._value
        self.sim.fail_inflight(srv)
        self.sim.disrupted(self.sim.now)
        srv.tg.targets = [t for t in srv.tg.targets if t is not srv]
        srv.tg.refresh()
        srv.log_health(self.sim.now, "REMOVED")


class Canary:
    """A progressive canary controller (Flagger/Argo dialect)."""

    def __init__(self, sim: Any, model: Any) -> None:
        self.sim = sim
        self.m = model
        self.plan = model.plan()
        self.step = 0
        self.failures = 0
        self.window = Window()
        self.action = sim.topo.action(model.service, model.listener, model.rule)
        self.record: dict[str, Any] = {"name": model.name, "steps": [], "outcome": "running"}
        sim.canary_log.append(self.record)

    def start(self) -> None:
        self.sim.at(self.m.start, self._begin, None)

    def set_weight(self, w: int) -> None:
        self.action.set_weights({self.m.primary: 100 - w, self.m.canary: w})

    def _begin(self, _e: Any) -> None:
        self.sim.rec.watchers[self.m.canary] = self.window
        self.window.reset()
        self.set_weight(self.plan[0])
        self._log("start", self.plan[0], None)
        self.sim.at(self.sim.now + self.m.interval, self._check, None)

    def _log(self, decision: str, weight: int, observed: dict[str, Any] | None) -> None:
        self.record["steps"].append({"t_ms": round(self.sim.now * 1000, 3), "weight": weight,
                                     "decision": decision, "observed": observed})

    def _check(self, _e: Any) -> None:
        m, w = self.m, self.window
        checks = m.checks
        observed: dict[str, Any] = {"requests": w.count}
        if w.count:
            observed["success_rate"] = round(1 - w.errors / w.count, 6)
            observed["p99_ms"] = round(w.hist.percentile(99) * 1000, 3)
            observed["p90_ms"] = round(w.hist.percentile(90) * 1000, 3)
            observed["mean_ms"] = round(w.hist.mean * 1000, 3)
        weight = self.plan[self.step]
        if w.count < checks.min_requests:
            decision = "inconclusive"
        else:
            ok = True
            if checks.success_rate is not None and observed["success_rate"] < checks.success_rate:
                ok = False
            if checks.p99 is not None and observed["p99_ms"] > checks.p99 * 1000:
                ok = False
            if checks.p90 is not None and observed["p90_ms"] > checks.p90 * 1000:
                ok = False
            if checks.mean is not None and observed["mean_ms"] > checks.mean * 1000:
                ok = False
            decision = "pass" if ok else "fail"
        w.reset()
        if decision == "fail":
            self.failures += 1
            if self.failures >= m.failure_limit:
                self.set_weight(0)
                self._log("rollback", 0, observed)
                self.record["outcome"] = "rolled_back"
                self.record["t_decision_ms"] = round(self.sim.now * 1000, 3)
                self.sim.rec.watchers.pop(m.canary, None)
                return
            self._log("fail", weight, observed)
        elif decision == "pass":
            self.step += 1
            if self.step >= len(self.plan):
                if m.promote:
                    self.set_weight(100)
                    self._log("promote", 100, observed)
                    self.record["outcome"] = "promoted"
                else:
                    self._log("complete", weight, observed)
                    self.record["outcome"] = "completed"
                self.record["t_decision_ms"] = round(self.sim.now * 1000, 3)
                self.sim.rec.watchers.pop(m.canary, None)
                return
            self.set_weight(self.plan[self.step])
            self._log("advance", self.plan[self.step], observed)
        else:
            self._log("inconclusive", weight, observed)
        self.sim.at(self.sim.now + m.interval, self._check, None)
