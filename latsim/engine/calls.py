"""Call graphs in the engine: targets whose code calls other services.

A target group with ``calls:`` runs a small program for each request it serves: ``work`` steps
hold the worker for a drawn time, ``call`` steps send a downstream request through Lattice like
any client's (``Simulation._send``: DNS, association, security groups, auth with the group's
principal, rules, split, health, queueing, timeouts and retries of the step) and wait for its
outcome, ``parallel`` steps wait for all their branches. The worker is held for the whole
program (synchronous calls), so a slow dependency backs up its callers.

Such a target is an exact FIFO multi-server queue driven by events: a request arrives at the
target (an event at its arrival time), starts when a worker is free, and frees the worker when
its program ends. Plain targets keep the engine's closed-form queue (``Simulation._serve``);
downstream requests are ordinary requests of the general path whose "client" is a
``CallerState``: one per (calling target, call step), sharing the statistics of its call edge
(caller target group -> service).

The request lifecycle, end to end: ``_send`` -> ``_enter`` (Lattice decides) ->
``_to_target_group`` -> ``_to_target`` -> ``_serve`` (plain: closed form; program:
``CallGraph.arrive`` -> ``Execution`` -> ``Frame`` steps -> ``CallGraph.finish``) ->
``_complete`` -> ``lattice_response`` -> ``client_outcome`` (a call: ``CallGraph.call_done``
resumes the waiting frame).

Every program also keeps its critical path: the time of each hop on the path that decided its
end (own work, waiting for a worker, Lattice and the network, earlier attempts and backoff), so
that the end-to-end time of an entry request can be broken down by hop.
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from latsim.compile import RequestClass, call_applies, compile_match
from latsim.engine.fastpath import record_ok
from latsim.engine.sampling import int_sampler, sampler
from latsim.engine.simulation import Sender
from latsim.metrics.recorder import FLUSH
from latsim.model.calls import CallStep
from latsim.model.client import RequestSpec, split_url
from latsim.workload.arrivals import INF

if TYPE_CHECKING:
    from latsim.engine.simulation import Request, Simulation
    from latsim.engine.target import TargetServer


class CompiledStep:
    """A call step compiled once per target group (the draws are per target: ``StepState``)."""

    __slots__ = ("index", "path", "model", "kind", "when", "probability", "branches", "branch_steps", "gated", "rc",
                 "spec", "service", "label", "on_error_fail")

    def __init__(self, index: int, path: str, model: CallStep, services_by_host: dict[str, str]) -> None:
        self.index = index  # position in the group's flat list of steps (state per target is indexed by it)
        self.path = path  # "2", "2.parallel.0": where the step is written below ``calls``
        self.model = model
        self.kind = model.kind
        self.when = compile_match(model.when) if model.when is not None else None
        self.probability = model.probability
        self.gated = self.when is not None or self.probability < 1.0  # it may be skipped
        self.branches: list[CompiledStep] = []
        self.branch_steps: list[list[CompiledStep]] = []  # each branch as the steps of its frame
        self.on_error_fail = model.on_error == "fail"
        self.label = model.label
        self.rc: RequestClass | None = None
        self.spec: RequestSpec | None = None
        self.service: str | None = None
        if model.call is not None:
            _, host, _, url_path = split_url(model.call)
            self.service = services_by_host.get(host)
            self.rc = RequestClass.of_call(model)
            self.spec = RequestSpec.model_construct(
                weight=1.0, method=model.method, path=model.path or url_path, url=model.call, headers=model.headers,
                query=model.query, body=model.body, response=model.response, protocol=model.protocol,
                name=model.name)


class Program:
    """A target group's ``calls:`` compiled: the steps, flat (for per-target state) and as a tree."""

    def __init__(self, tg: str, steps: list[CallStep], services_by_host: dict[str, str]) -> None:
        self.tg = tg
        self.flat: list[CompiledStep] = []
        self.steps = self._compile(steps, "", services_by_host)
        self.work_key = f"{tg}/work"
        self.queue_key = f"{tg}/queue"

    def _compile(self, steps: list[CallStep], prefix: str, hosts: dict[str, str]) -> list[CompiledStep]:
        out = []
        for i, st in enumerate(steps):
            cs = CompiledStep(len(self.flat), f"{prefix}{i}", st, hosts)
            self.flat.append(cs)
            if st.parallel is not None:
                cs.branches = self._compile(st.parallel, f"{prefix}{i}.parallel.", hosts)
                cs.branch_steps = [[b] for b in cs.branches]
            out.append(cs)
        return out


class CallerState(Sender):
    """A calling target's view of one call step, as the general path expects of a client: the
    request it sends (one class), its samplers, its retry policy, its route cache; statistics
    are the call edge's (shared by every target of the group that calls the same service)."""

    def __init__(self, sim: Simulation, srv: TargetServer, step: CompiledStep, stats: Any) -> None:
        self.closed = None
        self.think = None
        self.mix = None
        self.arrivals = None
        self.poisson = False
        self.think_mean = 0.0
        streams = sim.streams
        tg = srv.tg.name
        base = f"call/{tg}/{srv.id}{srv.stream_suffix}/{step.path}"
        self.name = f"{tg}@{srv.id}#{step.path}"  # unique per caller (access-log cache keys)
        self.edge = f"{tg}->{step.service}"
        self.tg = tg
        self.step = step
        self.server = srv
        self.cc = sim.topo.caller(tg, srv.ct)
        self.model = self.cc.model
        assert step.rc is not None  # a call step's request (CompiledStep)
        self.classes = [step.rc]
        self.specs = [step.spec]
        m = step.model
        self.body = [int_sampler(m.body, streams.rng(f"{base}/body"))]
        self.resp = [int_sampler(m.response, streams.rng(f"{base}/response"))]
        self._sender(sim, base, m.timeout, m.retries)
        self.stats = stats
        vpc = sim.scn.index.vpcs[self.cc.vpc]
        self.vpc_azs = vpc.azs
        self.az = self.cc.model.az


class StepState:
    """What one target draws for one step: work times, the probability and its caller view."""

    __slots__ = ("work", "chance", "caller")

    def __init__(self) -> None:
        self.work: Any = None
        self.chance: Any = None
        self.caller: CallerState | None = None


class Execution:
    """One request being served by a program target."""

    __slots__ = ("req", "srv", "dead", "root")

    def __init__(self, req: Request, srv: TargetServer) -> None:
        self.req = req
        self.srv = srv
        self.dead = False
        self.root: Frame | None = None


class Frame:
    """A sequence of steps being run (the program, or one branch of a parallel step)."""

    __slots__ = ("run", "steps", "i", "parent", "crit", "failed", "pending", "children", "t_end", "pend")

    def __init__(self, run: Execution, steps: list[CompiledStep], parent: Frame | None) -> None:
        self.run = run
        self.steps = steps
        self.i = 0
        self.parent = parent
        self.crit: dict[str, float] = {}  # the critical path so far: hop/kind -> seconds
        self.failed = False
        self.pending = 0
        self.children: Sequence[Frame] = ()  # a parallel step's branches, while it runs
        self.t_end = 0.0
        self.pend: tuple[Any, ...] | None = None  # a branch's last call, its part of the path not yet added


def add_path(into: dict[str, float], more: dict[str, float]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + v


LATTICE = 0  # kinds of deadline (Watch)
CLIENT = 1


class Watch:
    """The deadlines of requests at program targets (Lattice's idle timeout, the caller's timeout),
    watched by one armed event at the earliest that may still matter: a request answered in time
    costs no event of its own. Deadlines wait in a plain list (a request answered in time is only
    dropped from ``live``, ``forget``); when the armed event fires, one pass drops the deadlines of
    requests answered since, expires the due ones in time order and arms at the earliest left.
    Each deadline is looked at about once, instead of a heap's log-n moves to pop it (CG-1 keeps
    some 50 000 a minute), and the events are the same as a heap's would be."""

    __slots__ = ("graph", "pending", "live", "armed", "token", "seq")

    def __init__(self, graph: Any) -> None:  # a CallGraph (tests: a stand-in with sim, expire)
        self.graph = graph
        self.pending: list[tuple[float, int, int]] = []  # (deadline, key in live, kind)
        self.live: dict[int, Any] = {}
        self.armed = INF
        self.token = 0
        self.seq = 0

    # (requests are ``Any`` here: tests/test_call_watch.py plays the watch with stand-ins)
    def add(self, req: Any, deadlines: tuple[tuple[float, int], ...]) -> None:
        self.seq += 1
        seq = req.watch = self.seq
        self.live[seq] = req
        for t, kind in deadlines:
            self.pending.append((t, seq, kind))
            if t < self.armed:
                self._arm(t)

    def forget(self, req: Any) -> None:
        if req.watch:
            self.live.pop(req.watch, None)
            req.watch = 0

    def _arm(self, t: float) -> None:
        self.armed = t
        self.token += 1
        self.graph.sim.at(t, self._fire, self.token)

    def _live(self, seq: int, kind: int) -> Any:
        """The request of a deadline that still matters, or None (answered, or dead)."""
        req = self.live.get(seq)
        if req is None or req.dead or (req.lattice_done if kind == LATTICE else req.client_done):
            return None
        return req

    def _fire(self, ev: Any) -> None:
        if ev._value != self.token:  # superseded by an earlier deadline
            return
        now = self.graph.sim.now
        self.armed = INF
        keep: list[tuple[float, int, int]] = []
        due: list[tuple[float, int, int]] = []
        live = self._live
        for d in self.pending:
            if live(d[1], d[2]) is not None:
                (due if d[0] <= now else keep).append(d)
        self.pending = keep
        due.sort()  # time order (then the order they were added)
        for _, seq, kind in due:
            req = live(seq, kind)  # (an expiry may have answered it: its other deadline)
            if req is not None:
                self.graph.expire(req, kind)
        keep[:] = [d for d in keep if live(d[1], d[2]) is not None]
        if keep:
            self._arm(min(keep)[0])


class CallGraph:
    """The engine's side of call graphs (one per simulation)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        topo = sim.topo
        hosts = dict(topo.hosts)
        self.programs: dict[str, Program] = {
            name: Program(name, ctg.model.calls, hosts)
            for name, ctg in topo.target_groups.items() if ctg.model.calls}
        self.edges: dict[str, Any] = {}  # "caller-tg->service" -> ClientStats
        self.critical: dict[tuple[str, int], list[Any]] = {}  # (client, spec) -> [n, total s, {hop/kind: s}]
        from latsim.engine.simulation import Request
        self.Request: Any = Request
        self.watch = Watch(self)
        self.agenda: list[tuple[float, int, Any, Any]] = []  # the call graph's own events (see ``later``)
        self.armed = INF
        self.token = 0
        self.seq = 0
        self.running = False
        # a call entering Lattice (``Simulation._enter``, bound once): the pump takes these items up
        # itself, through its fast path, as it does clients' arrivals (``Simulation._pump``)
        self.enter = sim._enter
        self.keys: dict[tuple[str, str], tuple[str, str, str, str]] = {}  # (service, group): critical-path keys
        self.calls_fast = 0  # calls whose 200 the fast paths answered (tests/test_fast_path.py)

    @staticmethod
    def step_states(program: Program) -> list[StepState]:
        return [StepState() for _ in program.flat]

    # -- the agenda -------------------------------------------------------------------------------
    def later(self, t: float, fn: Any, arg: Any) -> None:
        """Call ``fn(arg)`` at time ``t`` (>= now). The call graph's many small events (a request
        reaching a program target, a work step ending, a call entering Lattice, a caller resuming)
        wait in this agenda rather than in SimPy's queue; one SimPy event, armed at the earliest,
        runs them in time order for as long as no SimPy event is due first, as the pump does for
        arrivals. Events of equal time run in the order they were scheduled."""
        self.seq += 1
        heappush(self.agenda, (t, self.seq, fn, arg))
        if t < self.armed and not self.running and t < self.sim.pump_at:  # else the pump runs it (run_due)
            self._arm(t)

    def rearm(self) -> None:
        """Arm the agenda's SimPy event at its earliest item, unless it is armed for then already or
        the pump, scheduled before it, will run it."""
        agenda = self.agenda
        if agenda:
            t = agenda[0][0]
            if t < self.armed and t < self.sim.pump_at:
                self._arm(t)

    def run_due(self, t: float, stop: Any = None) -> None:
        """Run the agenda's items due before ``t`` (an arrival the pump is about to handle; INF: all),
        in time order, for as long as no SimPy event is due first and the next item is not a call
        of ``stop`` (a call entering Lattice, which the pump takes up itself): the pump calls this,
        so that the two take turns without a SimPy event each time."""
        agenda = self.agenda
        sim = self.sim
        while agenda:
            item = agenda[0]
            head = item[0]
            if head >= t or sim.next_event <= head or item[2] is stop:
                return
            _, _, fn, arg = heappop(agenda)
            sim.now = head
            fn(arg)

    def _arm(self, t: float) -> None:
        self.armed = t
        self.token += 1
        self.sim.at(t, self._run, self.token)

    def _run(self, ev: Any) -> None:
        if ev._value != self.token:  # superseded by an earlier arming
            return
        self.armed = INF
        sim = self.sim
        sim.next_event = sim.env.peek()  # as the pump does: lowered by Simulation.at while this runs
        self.running = True
        try:
            self.run_due(INF)  # until a SimPy event (the pump, a timeline event...) comes first
        finally:
            self.running = False
        self.rearm()

    # -- a request arrives at a program target -------------------------------------------------
    def arrive(self, srv: TargetServer, req: Request, ta: float) -> None:
        """Called where the closed-form queue would serve ``req`` (at its entry time): the request
        reaches the target at ``ta``, an event."""
        self.later(ta, self._on_arrival, req)

    def _on_arrival(self, req: Request) -> None:
        sim = self.sim
        now = sim.now
        srv = req.target
        assert srv is not None
        if req.dead or req.lattice_done:
            return
        if not srv.up:  # the target failed while the request was on its way: the connection is refused
            sim.lattice_response(req, now + req.hop_t, sim.assumptions.target_connection_error_status, lattice=True,
                                 failure="TargetConnectionError", conn_error=True)
            return
        # the caller's deadline is watched; Lattice's idle timeout only where it comes first (after
        # the caller has given up, Lattice's 504 is recorded when the program ends, at its time)
        client_deadline = req.client_deadline if not req.client_done else INF
        if client_deadline < sim.duration:
            if req.lattice_deadline < client_deadline:
                self.watch.add(req, ((req.lattice_deadline, LATTICE), (max(now, client_deadline), CLIENT)))
            else:
                self.watch.add(req, ((max(now, client_deadline), CLIENT),))
        elif req.lattice_deadline < sim.duration:
            self.watch.add(req, ((req.lattice_deadline, LATTICE),))
        srv.inflight.add(req)
        if srv.busy < srv.concurrency:
            self._start(srv, req, now)
            return
        if srv.queue_limit is not None and len(srv.queue) >= srv.queue_limit:
            srv.inflight.discard(req)
            self.watch.forget(req)
            if srv.kind == "LAMBDA":
                sim.lattice_response(req, now + req.hop_t, 429, lattice=False, failure="TargetProtocolError")
            else:
                sim.lattice_response(req, now + req.hop_t, sim.assumptions.queue_overflow_status, lattice=True,
                                     failure="TargetConnectionError", conn_error=True)
            return
        srv.queue.append(req)

    def expire(self, req: Request, kind: int) -> None:
        """A deadline of a request at a program target passed before it was answered."""
        sim = self.sim
        if kind == LATTICE:  # Lattice's idle timeout: it answers 504, the worker goes on
            sim.lattice_response(req, sim.now, sim.assumptions.target_timeout_status, lattice=True,
                                 failure="TargetDataTimeout", timeout=True)
        else:  # the caller gives up
            sim.client_outcome(req, sim.now, None, "client_timeout")

    def _start(self, srv: TargetServer, req: Request, now: float) -> None:
        srv.busy += 1
        req.t_start = now
        run = Execution(req, srv)
        req.run = run
        root = run.root = Frame(run, srv.program.steps, None)
        root.crit[srv.program.queue_key] = now - req.t_target
        lead = 0.0  # a Lambda cold start and injected latency come first
        if srv.cold_start is not None:
            lead += self.sim._lambda_env(srv, now)
        if srv.extra is not None and srv.extra[1] is not None:
            lead += srv.extra[1]()
        if req.trace is not None:
            self.sim.tracer.start(req, srv, now)
            if lead > 0.0:
                self.sim.tracer.work(req, now, lead, "startup")  # a cold start, injected latency
        if lead > 0.0:
            root.crit[srv.program.work_key] = lead
            self.later(now + lead, self._resume, root)
        else:
            self._advance(root)

    # -- running the steps ------------------------------------------------------------------------
    def _resume(self, frame: Frame) -> None:
        if not frame.run.dead:
            self._advance(frame)

    def _end(self, frame: Frame) -> None:
        """``_resume`` of a frame that has no step left (``_advance`` would end it at once)."""
        if not frame.run.dead:
            self._frame_done(frame, self.sim.now)

    def _advance(self, frame: Frame) -> None:
        """Run the frame's steps from where it is until one has to wait (or the frame ends)."""
        sim = self.sim
        run = frame.run
        srv = run.srv
        now = sim.now
        steps = frame.steps
        n = len(steps)
        i = frame.i
        while i < n and not frame.failed:
            step = steps[i]
            i += 1
            frame.i = i  # (before anything that may come back to this frame)
            st: StepState = srv.steps[step.index]
            if step.gated:
                if step.when is not None and not call_applies(step.when, run.req.client.classes[run.req.spec]):
                    continue
                if step.probability < 1.0:
                    if st.chance is None:
                        st.chance = sim.streams.uniform(
                            f"call/{srv.tg.name}/{srv.id}{srv.stream_suffix}/{step.path}/probability")
                    if st.chance() >= step.probability:
                        continue
            kind = step.kind
            if kind == "work":
                if st.work is None:
                    st.work = sampler(step.model.work, sim.streams.rng(
                        f"call/{srv.tg.name}/{srv.id}{srv.stream_suffix}/{step.path}/work"))
                d = st.work() * srv.slowdown
                if srv.extra is not None:
                    d *= srv.extra[0]
                if run.req.trace is not None:
                    sim.tracer.work(run.req, now, d, step.model.name or "work")
                if d > 0.0:
                    key = srv.program.work_key
                    crit = frame.crit
                    crit[key] = crit.get(key, 0.0) + d
                    self.later(now + d, self._resume, frame)
                    return
                continue
            if kind == "call":
                self._call(frame, srv, step, st, now)
                return
            frame.pending = len(step.branches)
            children = frame.children = [Frame(run, branch, frame) for branch in step.branch_steps]
            for child in children:
                self._advance(child)
                if run.dead:
                    return
            return  # the last child to end resumes the frame (_frame_done)
        self._frame_done(frame, now)

    def _frame_done(self, frame: Frame, now: float) -> None:
        frame.t_end = now
        if frame.parent is not None:
            self._join(frame.parent)
        else:
            self.finish(frame.run, now)

    def _call(self, frame: Frame, srv: TargetServer, step: CompiledStep, st: StepState, now: float) -> None:
        sim = self.sim
        caller = st.caller
        if caller is None:
            edge = f"{srv.tg.name}->{step.service}"
            stats = self.edges.get(edge)
            if stats is None:
                from latsim.engine.simulation import ClientStats
                stats = self.edges[edge] = ClientStats()
            caller = st.caller = CallerState(sim, srv, step, stats)
        if now >= sim.warmup:
            caller.stats.requests += 1
        req = self.Request(caller, 0, now, now, 1, -1)  # a CallerState acts as a client
        req.parent = frame
        if sim.failed_azs:  # as Simulation._send, on the agenda
            req.entry_az, hop = sim._client_hop(caller)
        else:
            req.entry_az = caller.az
            hop = caller.hop_same()
        req.hop_c = hop
        self.later(now + hop, self.enter, req)

    def _call_ok(self, req: Request, t: float, t_l: float, t_end: float, t_start: float, t_target: float,
                 crit: dict[str, float] | None, keys: tuple[str, str, str, str]) -> None:
        """A call's caller learns at ``t`` that Lattice answered 200 at ``t_l`` (``client_outcome``
        and ``call_done`` for that case): the call edge's statistics, the caller's critical path, and
        its program goes on at ``t``. ``t_end``, ``t_start``, ``t_target``, ``crit``: the target's,
        ``keys`` its critical-path keys (``served_path``, ``crit_keys``). A branch of a parallel step
        that ends with this call keeps what ``served_path`` needs: the join adds it for the branch
        that ends last only (``_join``), the same sums in the same order."""
        req.client_done = True
        self.calls_fast += 1
        stats = req.client.stats
        t_send = req.t_send
        t_first = req.t_first
        if t_first >= self.sim.warmup:
            status = stats.status
            status[200] = status.get(200, 0) + 1
            stats.succeeded += 1
            if req.attempt == 1:
                both = stats.both
                both.append(t - t_send)
                if len(both) >= FLUSH:
                    stats.flush_both()
            else:
                stats.attempt_bh.add(t - t_send)
                stats.bh.add(t - t_first)
        frame: Frame = req.parent
        if frame.run.dead:
            return
        if frame.parent is not None and frame.i == len(frame.steps) and t_send == t_first:
            frame.pend = (t, t_send, t_l, req.hop_c, t_end, t_start, t_target, crit, keys)  # (_join)
        else:
            fcrit = frame.crit
            served_path(fcrit, t, t_send, t_l, req.hop_c, t_end, t_start, t_target, crit, keys)
            if t_send > t_first:
                retries = keys[3]
                fcrit[retries] = fcrit.get(retries, 0.0) + t_send - t_first
        self._go_on(frame, t)

    def crit_keys(self, svc: str, tg: str) -> tuple[str, str, str, str]:
        """The critical-path keys of a call to ``svc`` served by group ``tg``: its queue, its work,
        Lattice's part and the caller's retries."""
        keys = self.keys.get((svc, tg))
        if keys is None:
            keys = self.keys[(svc, tg)] = (f"{tg}/queue", f"{tg}/work", f"{svc}/lattice", f"{svc}/retries")
        return keys

    def call_done(self, req: Request, t: float, status: int | None) -> None:
        """The final outcome of a call (after its retries) reaches its caller at ``t``."""
        frame: Frame = req.parent
        if frame.run.dead:
            return
        ok = status is not None and status < 400
        step: CompiledStep = req.client.step  # type: ignore[attr-defined]
        crit = frame.crit
        attempt_path(req, t, crit)
        retried = req.t_send - req.t_first
        if retried > 0.0:
            key = f"{step.service}/retries"
            crit[key] = crit.get(key, 0.0) + retried
        if not ok and step.on_error_fail:
            frame.failed = True
        self._go_on(frame, t)

    def _go_on(self, frame: Frame, t: float) -> None:
        """The frame's call ends at ``t`` (known now, or earlier than ``t``): its program goes on
        then. A branch of a parallel step whose call was its last step just ends: nothing of it is
        left to run, so no event resumes it; its parent goes on when its last branch ends
        (``_join``). A program with no step left ends at ``t`` (``_end``)."""
        if frame.i < len(frame.steps):
            self.later(t, self._resume, frame)
        elif frame.parent is not None:
            frame.t_end = t
            self._join(frame.parent)
        else:
            self.later(t, self._end, frame)

    def _join(self, parent: Frame) -> None:
        """One branch of ``parent``'s parallel step ended (or its end is known): when it was the last, the
        critical path goes through the branch that ends last (the first of equals), and the parent
        goes on when that one ends."""
        parent.pending -= 1
        if parent.pending:
            return
        children = parent.children
        last = children[0]
        failed = parent.failed
        for f in children:
            if f.t_end > last.t_end:
                last = f
            failed = failed or f.failed
        if last.pend is not None:  # its call's part (_call_ok)
            served_path(last.crit, *last.pend)
        add_path(parent.crit, last.crit)
        parent.failed = failed
        parent.children = ()
        if last.t_end > self.sim.now:  # a branch whose end was known before it came
            self.later(last.t_end, self._resume if parent.i < len(parent.steps) else self._end, parent)
        else:
            self._advance(parent)

    # -- the end of a program ---------------------------------------------------------------------
    def finish(self, run: Execution, now: float) -> None:
        srv = run.srv
        req = run.req
        sim = self.sim
        req.t_end = now
        req.crit = run.root.crit if run.root is not None else None
        if req.trace is not None:
            sim.tracer.finish(req, now, run.root is not None and run.root.failed)
        srv.busy -= 1
        srv.inflight.discard(req)
        queue = srv.queue
        while queue and srv.busy < srv.concurrency:
            nxt = queue.popleft()
            if not nxt.dead and not nxt.lattice_done:
                self._start(srv, nxt, now)
        if not req.lattice_done:  # else Lattice gave up on it (idle timeout) while the worker went on
            failed = run.root is not None and run.root.failed
            if failed or not sim.fast or not self._answer(req, srv, now):
                sim._complete(req, srv, failed=failed)
        self.watch.forget(req)  # answered now, and its caller told (or gone)

    def _answer(self, req: Request, srv: TargetServer, now: float) -> bool:
        """``Simulation._complete`` of a program that ran to its end with no failed call, written out
        for the common case: a 200 that Lattice passes on and its caller gets in time (as
        ``lattice_response``, then ``client_outcome``). False, having done nothing, otherwise."""
        if (srv.cold_start is not None or srv.error_rate + srv.inject_rate > 0.0 or now > req.lattice_deadline
                or req.client_done):
            return False
        t_l = now + req.hop_t
        t_c = t_l + req.hop_c
        if t_c > req.client_deadline:
            return False
        sim = self.sim
        req.lattice_done = True
        req.status = 200
        req.t_resp = t_l
        svc: str = req.svc  # type: ignore[assignment]
        record_ok(sim, sim.svc_dims[svc].cursor(req.entry_az), srv, req.t_entry,  # type: ignore[arg-type]
                  req.t_target - req.hop_t, t_l, req.body, req.client.resp[req.spec](),
                  sim.rec.rule_time(req.route.action.key))  # type: ignore[union-attr]
        if req.parent is None:  # an entry request: its client learns it
            sim.client_outcome(req, t_c, 200, None)
        else:
            self._call_ok(req, t_c, t_l, now, req.t_start, req.t_target, req.crit, self.crit_keys(svc, srv.tg.name))
        return True

    def kill(self, srv: TargetServer) -> None:
        """The target failed: its programs stop (their calls in flight are abandoned)."""
        for req in srv.inflight:
            if req.run is not None:
                req.run.dead = True
                if req.trace is not None:
                    self.sim.tracer.killed(req, self.sim.now)
            self.watch.forget(req)  # Simulation.fail_inflight answers them all now
        srv.busy = 0
        srv.queue.clear()

    # -- critical paths ---------------------------------------------------------------------------
    def entry_done(self, req: Request, t: float) -> None:
        """An entry request that went through a program ended (final outcome at ``t``)."""
        key = (req.client.name, req.spec)
        acc = self.critical.get(key)
        if acc is None:
            acc = self.critical[key] = [0, 0.0, {}]
        parts = acc[2]
        attempt_path(req, t, parts)
        retried = req.t_send - req.t_first
        if retried > 0.0:
            retries = f"{req.svc}/retries"
            parts[retries] = parts.get(retries, 0.0) + retried
        acc[0] += 1
        acc[1] += t - req.t_first


def attempt_path(req: Request, t: float, into: dict[str, float]) -> None:
    """One attempt's time, ``t - t_send``, by hop and kind: ``lattice`` (Lattice and the network to
    the service and back), ``queue`` (waiting for a worker), ``work`` (the target's own time; its
    program's critical path where it has one), ``unfinished`` (a program still running when the
    caller gave up), ``retries`` (earlier attempts and backoff, added by the caller); added into
    ``into``."""
    srv = req.target
    if srv is None or not req.t_start:
        key = f"{req.svc or 'dns'}/lattice"
        into[key] = into.get(key, 0.0) + t - req.t_send
        return
    kind = "unfinished" if req.run is not None and req.t_end == 0.0 else "work"  # still running?
    served_path(into, t, req.t_send, req.t_resp, req.hop_c, req.t_end, req.t_start, req.t_target, req.crit,
                (f"{srv.tg.name}/queue", f"{srv.tg.name}/{kind}", f"{req.svc}/lattice", ""))


def served_path(into: dict[str, float], t: float, t_send: float, t_resp: float, hop_c: float, t_end: float,
                t_start: float, t_target: float, crit: dict[str, float] | None, keys: tuple[str, str, str, str]) -> None:
    """``attempt_path`` of an attempt that reached a target and started there (``t_start``): the
    target's part ends when it answered (``t_end``; 0: still running), or when it stopped counting
    for the caller (Lattice's answer, ``t_resp``, or the caller's end less its hop)."""
    # (min and max written as comparisons, the same values: this runs for every call)
    queue_key, work_key, lattice_key, _ = keys  # (crit_keys)
    total = t - t_send
    cut = t - hop_c  # when the target's part stopped counting for the caller: min(t_resp, t - hop_c)
    if t_resp and t_resp <= cut:
        cut = t_resp
    end = t_end if t_end and t_end < cut else cut
    start = t_target if t_target > t_start else t_start
    if end < start:
        start = end
    queue = start - t_target
    if not queue > 0.0:
        queue = 0.0
    served = end - start
    if not served > 0.0:
        served = 0.0
    if crit is not None and t_end <= cut:  # a program that ran to its end
        for k, v in crit.items():  # (add_path) its queue time included
            into[k] = into.get(k, 0.0) + v
    else:
        into[queue_key] = into.get(queue_key, 0.0) + queue
        into[work_key] = into.get(work_key, 0.0) + served
    rest = total - queue - served
    into[lattice_key] = into.get(lattice_key, 0.0) + (rest if rest > 0.0 else 0.0)


__all__ = ["CallGraph", "CallerState", "Execution", "Frame", "Program", "attempt_path"]
