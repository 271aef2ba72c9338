"""The request lifecycle on a SimPy event loop.

How a request costs so little:

* **Arrivals are pumped.** One SimPy callback takes open-loop arrivals in time order and handles
  each inline for as long as no other SimPy event is due first, then hands control back to the
  loop. Order is exactly what one event per arrival would give. Poisson clients' arrivals come
  from ``latsim.engine.feed.PoissonFeed`` (generated and merged a block at a time); other
  open-loop processes share a heap.
* **Targets are FIFO multi-server queues solved by the Kiefer-Wolfowitz recursion.** A target
  keeps a heap of the times its ``concurrency`` workers become free; an arriving request starts
  at ``max(arrival, earliest free)`` and ends one service time later. This is exact for FIFO
  service with service times drawn at arrival, so no completion event is needed.
* **Outcomes are delivered eagerly** when nothing can disturb the request before it ends (no
  target failure, drain or injection is due before its end): the service, target-group and client
  records are made at once with their own (future) timestamps, and only what the future holds
  (a retry, a closed-loop user's next request) is scheduled. Requests that could be disturbed
  are delivered by an event at their end instead, so failures cut them as Lattice would.
* **Decisions are compiled per request class** (``latsim.compile.Topology.route``), random numbers
  come in numpy blocks from named streams, and latencies go to streaming histograms.
* **The common request takes a fast path** in the pump: one piece of code with local variables
  and a per-route plan, the same draws and records as the general stages, for a client's request
  as it arrives and for a call as it enters Lattice (taken from the call graph's agenda) alike;
  at the first sign of anything uncommon it hands over at a named point
  (``latsim.engine.fastpath.hand_over``; ``tests/test_fast_path.py``).
"""

from __future__ import annotations

import gc
import os
import time
from array import array
from bisect import bisect_right
from heapq import heappop, heappush, heapreplace
from typing import Any

import numpy as np
import simpy

from latsim.compile import (
    DENIED,
    FIXED,
    FORWARDED,
    ActionState,
    RequestClass,
    Route,
    Topology,
    protocol_error,
)
from latsim.engine.fastpath import (
    LATE,
    NO_TARGET_GROUP,
    PROTOCOL,
    QUEUE_FULL,
    RATE_LIMITED,
    SERVED,
    TARGET,
    hand_over,
)
from latsim.engine.feed import PoissonFeed
from latsim.engine.sampling import END, Draw, Leg, WeightedSplit, int_sampler, sampler
from latsim.engine.target import (
    DRAINING,
    HEALTHY,
    INITIAL,
    UNAVAILABLE,
    TargetGroupState,
    TargetServer,
    machine_key,
    share_machine,
)
from latsim.engine.timeline import DISRUPTIVE
from latsim.gcpause import paused
from latsim.metrics.recorder import (
    BYTES_IN,
    BYTES_OUT,
    FLUSH,
    HTTP_2XX,
    TIME_SUM,
    TOTAL,
    BufferedHistogram,
    Cursor,
    Recorder,
    resolution_s,
)
from latsim.model.scenario import Scenario
from latsim.streams import Streams, draws
from latsim.workload.arrivals import INF, Poisson, make_arrivals

NORMAL = 1

__all__ = ["DRAINING", "HEALTHY", "INITIAL", "UNAVAILABLE", "Request", "Simulation"]


# the cyclic collector's young-generation threshold while a simulation runs (Python's: 700). A run
# makes little cyclic garbage; what it keeps for a while is large (``Simulation.run``).
YOUNG_GC = 10_000


class _Call:
    """What ``Simulation.at`` scheduled: ``fn(call)`` runs at ``t``; the payload travels in ``_value``
    (this object's own attribute: nothing here reads SimPy's internals)."""

    __slots__ = ("sim", "t", "fn", "_value")

    def __init__(self, sim: Simulation, t: float, fn: Any, value: Any) -> None:
        self.sim = sim
        self.t = t
        self.fn = fn
        self._value = value

    def fire(self, _ev: Any) -> None:
        self.sim.now = self.t  # the SimPy event fires at exactly t (Simulation.at)
        self.fn(self)


def _delay_to(now: float, t: float) -> float:
    """The delay that lands a SimPy event (scheduled at ``now + delay``) on ``t``. ``t - now`` is
    the best there is: exact when ``now >= t / 2`` (Sterbenz), else ``now + d`` may be a rounding
    tie one ulp off ``t`` for every d (``tests/test_simpy_public.py``); ``_Call`` then still sets
    the simulated time to ``t`` exactly, and only an exact tie with another event could reorder."""
    return t - now


class Request:
    """One attempt of one logical request (a retry is a new attempt of the same logical one)."""

    __slots__ = ("client", "spec", "t_send", "t_first", "attempt", "user", "t_entry", "route", "svc", "tg",
                 "target", "t_target", "t_start", "t_end", "client_deadline", "lattice_deadline", "client_done",
                 "lattice_done", "dead", "hop_c", "hop_t", "entry_az", "body", "status", "t_resp", "parent", "run",
                 "crit", "watch", "trace")
    t_entry: float
    t_start: float
    t_end: float
    client_deadline: float
    hop_c: float
    hop_t: float
    entry_az: str | None
    status: int

    def __init__(self, client: Sender, spec: int, t_send: float, t_first: float, attempt: int, user: int) -> None:
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
        self.svc: str | None = None
        self.t_target = 0.0
        self.lattice_deadline = INF
        self.body = 0
        self.t_start = 0.0
        self.t_end = 0.0
        self.t_resp = 0.0  # when Lattice answered
        self.parent: Any = None  # a call's: the frame of the program waiting for it (latsim.engine.calls)
        self.run: Any = None  # at a program target: its execution
        self.crit: dict[str, float] | None = None  # ... and the program's critical path
        self.watch = 0  # ... and its key among the watched deadlines (0: none)
        self.trace: Any = None  # a sampled request's spans (latsim.metrics.traces.Attempt)


class ClientStats:
    """A client's whole-run statistics (requests first sent after the warm-up).

    Latencies go to two histograms: attempts (``attempt_hist``) and logical requests, retries
    included (``hist``). A request answered at its first attempt and not retried has the same
    value in both: it is buffered once, in ``both``."""

    __slots__ = ("ok", "both", "requests", "sent", "status", "failures", "retries", "succeeded", "failed",
                 "attempt_bh", "bh")

    def __init__(self) -> None:
        # the pump's two, first (the compiled object's first cache line)
        self.ok = 0  # the fast path's 200s at the first attempt, not yet in requests, sent, status, succeeded
        self.both = array("d")  # 8 bytes a value (a list of floats: 32; 200 clients x FLUSH: 26 MB)
        self.requests = 0
        self.sent = 0
        self.status: dict[int, int] = {}  # attempts answered, by status
        self.failures: dict[str, int] = {}
        self.retries = 0
        self.succeeded = 0
        self.failed = 0
        self.attempt_bh = BufferedHistogram()
        self.bh = BufferedHistogram()

    def settle(self) -> None:
        """Count the fast path's 200s in ``requests``, ``sent``, ``status`` and ``succeeded`` (one
        increment per request in the pump instead of four; ``Simulation.settle`` calls this before
        results are read)."""
        ok = self.ok
        if ok:
            self.requests += ok
            self.sent += ok
            self.status[200] = self.status.get(200, 0) + ok
            self.succeeded += ok
            self.ok = 0

    @property
    def completed(self) -> int:
        """Attempts answered (with any status)."""
        return sum(self.status.values())

    def flush_both(self) -> None:
        both = self.both
        if both:
            arr = np.array(both, dtype=float)  # converted once for the two histograms
            self.attempt_bh.hist.record_many(arr)
            self.bh.hist.record_many(arr)
            del both[:]

    @property
    def hist(self) -> Any:
        self.flush_both()
        return self.bh.flushed()

    @property
    def attempt_hist(self) -> Any:
        self.flush_both()
        return self.attempt_bh.flushed()


class Sender:
    """What every sender of requests has (a client, or the code of a target group calling a service,
    ``latsim.engine.calls.CallerState``): its hop to Lattice and Lattice's overhead drawn from its own
    streams, its timeout and retry policy, and its route cache (one per request class)."""

    # (declared here, set by each kind: the engine reads them of either kind, and mypyc's compiled
    # build checks them; latsim/native.py). What the pump reads of every request's sender comes
    # first: the compiled object lays its fields out in this order, and 200 clients' objects,
    # read in no particular order, then cost a cache line or two each instead of five.
    mix: Any  # Callable[[], int] | None
    hop_same: Draw
    overhead: Draw
    stats: ClientStats  # (a call's: its edge's, shared)
    plans: list[Any]  # the fast path's, per route (Simulation._plan)
    route_version: int
    az: Any
    timeout: float
    cc: Any
    classes: list[RequestClass]
    specs: list[Any]
    name: str
    model: Any
    closed: Any
    think: Any
    arrivals: Any
    poisson: bool
    think_mean: float
    body: list[Any]
    resp: list[Any]
    vpc_azs: Any

    def pick_spec(self) -> int:
        return 0

    def _sender(self, sim: Simulation, base: str, timeout: float, retries: Any) -> None:
        """Samplers and policy named under ``base`` (``client/NAME``, ``call/TG/TARGET/STEP``)."""
        streams = sim.streams
        net = sim.scn.network
        self.retry_u = streams.uniform(f"{base}/retry")
        self.hop_same = sampler(net.client_hop or net.same_az, streams.rng(f"{base}/hop/same"))
        self.hop_cross = sampler(net.client_hop or net.cross_az, streams.rng(f"{base}/hop/cross"))
        self.overhead = sampler(net.lattice_overhead, streams.rng(f"{base}/lattice_overhead"))
        self.timeout = timeout
        self.retry_max = retries.max
        self.retry_on = set(retries.on)
        self.backoff = retries.backoff
        self.multiplier = retries.multiplier
        self.max_backoff = retries.max_backoff
        self.jitter = retries.jitter
        self.arrival_gen = 0
        self.routes: list[Route | None] = [None] * len(self.specs)
        self.plans = [None] * len(self.specs)
        self.route_version = -1

    def route(self, sim: Simulation, spec: int) -> Route:
        if self.route_version != sim.topo.version:
            self.routes = [None] * len(self.specs)
            self.plans = [None] * len(self.specs)
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


class ClientState(Sender):
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
        # the request mix: one uniform draw per request, mapped to a spec by the cumulative weights
        # (as bisect_right, a block at a time); None: a single spec
        self.mix = None
        if len(self.specs) > 1:
            rng = streams.rng(f"client/{name}/mix")
            cum = np.asarray(self.cum)
            last = len(self.cum) - 1

            def block(n: int) -> np.ndarray:
                return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), last)
            self.mix = draws(block, grow=True)
        self.body = [int_sampler(s.body, streams.rng(f"client/{name}/body/{i}")) for i, s in enumerate(self.specs)]
        self.resp = [int_sampler(s.response, streams.rng(f"client/{name}/response/{i}"))
                     for i, s in enumerate(self.specs)]
        self.think_mean = m.arrival.closed.think.mean if m.arrival.closed else 0.0
        self.arrivals = make_arrivals(m.arrival, streams, f"client/{name}")
        self.poisson = type(self.arrivals) is Poisson  # its arrivals come from the PoissonFeed
        self.closed = m.arrival.closed
        self.think = sampler(self.closed.think, streams.rng(f"client/{name}/think")) if self.closed else None
        self._sender(sim, f"client/{name}", m.timeout, m.retries)
        self.stats = ClientStats()
        self.vpc_azs = sim.scn.index.vpcs[m.vpc].azs
        self.az = m.az

    def pick_spec(self) -> int:
        return 0 if self.mix is None else int(self.mix())


class Simulation:
    """One run of one scenario. Build, then ``run()`` -> ``latsim.results.Result``."""

    def __init__(self, scn: Scenario, *, access_log: Any = None, progress: Any = None,
                 base_dir: str | None = None, fast_path: bool = True, tracer: Any = None,
                 series: bool = True) -> None:
        with paused():  # thousands of long-lived objects, no garbage: see latsim.gcpause
            self._build(scn, access_log, progress, base_dir, fast_path, tracer, series)

    def _build(self, scn: Scenario, access_log: Any, progress: Any, base_dir: str | None, fast_path: bool,
               tracer: Any = None, series: bool = True) -> None:
        self.scn = scn
        self.fast_path = fast_path  # False: every request takes the general path (for tests)
        self.env = simpy.Environment()
        # the simulated time: SimPy's at an event, an arrival's while the pump handles it inline
        self.now: float = self.env.now  # (the int 0: it appears in health logs as it did)
        self.next_event = INF  # while the pump runs: the time of the next SimPy event or timer (``_pump``)
        self.scheduled = 0  # SimPy events scheduled (counted here, not read from SimPy's internals)
        self.runs = 0  # env.run calls (each schedules a stop event)
        self.streams = Streams(scn.seed)
        self.topo = Topology(scn)
        # the report's finer series (``series``) costs a histogram flush per bucket and dimension; a
        # run that writes no run directory (a study's, ``run --json``) keeps CloudWatch's minute: its
        # summary and per-minute rows are the same bytes either way (tests/test_report_time.py)
        step = resolution_s(scn.duration, len(scn.services) + len(scn.target_groups)) if series else 60
        self.rec = Recorder(scn.warmup, step)
        self.access_log = access_log
        self.tracer = tracer  # sampled traces (latsim.metrics.traces.Tracer); None: no tracing, no cost
        # the fast paths (the pump's, a program's 200) run unless every request must take the general
        # path: asked for (tests), or access logs and traces being written (a record needs the whole request)
        self.fast = fast_path and access_log is None and tracer is None
        if tracer is not None:
            tracer.bind(self)
        self.progress = progress
        source = getattr(scn, "__latsim_source__", None)
        # trace files are resolved beside the scenario file, whoever runs it
        self.base_dir = base_dir or (os.path.dirname(os.path.abspath(source)) if source else None)
        self.assumptions = scn.assumptions
        self.duration = scn.duration
        self.warmup = scn.warmup
        self.failed_azs: set[str] = set()
        self.rate_buckets: dict[tuple[str, str], list[float]] = {}
        self.rate_limit = scn.quota("requests_per_second_per_service_per_az") if self.assumptions.rate_limit else 0
        self.pumped = 0
        self.pumped_fast = 0  # arrivals the fast path took up ...
        self.handed_over = 0  # ... and handed over to the general path
        self.partial = False
        self.end_time = 0.0
        self.unreached: dict[str, int] = {}  # attempts at a service that failed before Lattice answered
        self.canary_log: list[dict[str, Any]] = []
        self.tgs: dict[str, TargetGroupState] = {}
        self.targets_by_id: dict[str, list[TargetServer]] = {}
        self.reg_count: dict[str, int] = {}
        self.machines: dict[tuple[str, ...], TargetServer] = {}  # machine -> its first registration
        net = scn.network
        self._net = net
        self.alb_hop = sampler(net.alb_hop, self.streams.rng("network/alb_hop"))
        # times at which a timeline event may disturb requests in flight (eager delivery stops there)
        self.disruptions: list[float] = []
        for ev in scn.timeline:
            if ev.kind in DISRUPTIVE:
                heappush(self.disruptions, ev.at)
                if ev.for_ is not None:
                    heappush(self.disruptions, ev.at + ev.for_)
                if ev.kind == "deregister_targets":
                    tg = scn.index.target_groups.get(ev.deregister_targets.target_group)  # type: ignore[union-attr]
                    if tg is not None:
                        heappush(self.disruptions, ev.at + tg.draining)
        self.next_disruption = self.disruptions[0] if self.disruptions else INF
        from latsim.engine.calls import CallGraph
        self.calls = CallGraph(self)  # targets whose code calls other services
        for name, ctg in self.topo.target_groups.items():
            st = TargetGroupState(ctg)
            self.tgs[name] = st
            for ct in ctg.targets:
                self._add_target(st, ct, initial=False)
        self.clients = {name: ClientState(self, name) for name in self.topo.clients}
        self.splits: dict[str, WeightedSplit] = {}
        self.legs: dict[tuple[str, str], Leg] = {}  # (rule, target group) -> its leg (_split)
        self.protocol_ok: dict[tuple[str, str, str], bool] = {}
        self.svc_dims = {name: self.rec.dim("service", name) for name in self.topo.services}
        self.tg_dims = {name: self.rec.dim("target_group", name) for name in self.topo.target_groups}
        self.idle = {name: s.model.idle_timeout for name, s in self.topo.services.items()}
        self.arrival_heap: list[tuple[float, int, ClientState, int]] = []  # other open-loop clients
        self.feed = PoissonFeed([], self.duration)
        self.pump_at = INF  # time of the pump event scheduled (INF: none, or the pump is running)
        self.pump_token = 0  # the scheduled pump event's; older ones are stale
        self._seq = 0
        # timers (health checks): callbacks the pump runs inline between arrivals (``timer``):
        # their times in a sorted list, and their callbacks and values in two lists alongside, in
        # the order of (time, order set): a timer is appended or inserted after its equals
        # (``bisect_right``), the first is popped. A target's next probe is the latest timer set
        # (an append); a list of a few hundred floats moves in a few dozen nanoseconds. (A heap
        # of (time, sequence) tuples cost 2 800 instructions a pop and 1 400 a push among 300
        # probes' timers; a heap of distinct float times with a dict of each time's callbacks,
        # 3 000 a pop and 2 200 a push: hashing floats, a list and a tuple per timer.)
        self.timers: list[float] = []
        self.timer_fns: list[Any] = []
        self.timer_values: list[Any] = []
        self.timing = False  # the pump or the timer runner is running: it runs due timers itself
        self.runner_at = INF  # time of the timer runner's SimPy event (INF: none)
        self.runner_token = 0
        self.timers_inline = 0  # timers the pump ran
        self.gap_token = -1  # the pump event scheduled for an arrival whose wait is counted already
        from latsim.engine.health import HealthChecker
        from latsim.engine.timeline import Timeline
        self.health = HealthChecker(self)
        self.timeline = Timeline(self)

    # -- scheduling ------------------------------------------------------------------------------
    def at(self, t: float, fn: Any, value: Any = None) -> None:
        """Call ``fn(call)`` at time ``t`` (>= now) through SimPy's public API; ``call._value`` is
        ``value``."""
        self.scheduled += 1
        if t < self.next_event:
            self.next_event = t
        self.env.timeout(_delay_to(self.env.now, t)).callbacks.append(_Call(self, t, fn, value).fire)

    def timer(self, t: float, fn: Any, value: Any = None) -> None:
        """``fn(value)`` at time ``t`` (>= now), for callbacks that touch no request in flight
        (health checks): the pump runs them inline, in time order between the arrivals, instead
        of leaving and re-entering for each (160 targets probed every 30 s among 100 arrivals a
        second: a pump event a probe).
        Counted in ``scheduled`` as the SimPy event it was, and so is the pump event the
        event-per-timer path took to let it run (``_pump``): the summary's event count is the same."""
        self.scheduled += 1
        timers = self.timers
        if not timers or t >= timers[-1]:
            timers.append(t)
            self.timer_fns.append(fn)
            self.timer_values.append(value)
        else:
            k = bisect_right(timers, t)
            timers.insert(k, t)
            self.timer_fns.insert(k, fn)
            self.timer_values.insert(k, value)
        if self.timing:
            if t < self.next_event:  # the pump's bound (the runner does not read it)
                self.next_event = t
        elif t < self.runner_at and t < self.pump_at:
            self._schedule_runner(t)

    def _ensure_runner(self) -> None:
        """Neither the pump nor the runner is running: a SimPy event must come no later than the
        first timer (the pump's, or the runner's)."""
        timers = self.timers
        if timers and timers[0] < self.runner_at and timers[0] < self.pump_at:
            self._schedule_runner(timers[0])

    def _pop_timer(self) -> tuple[Any, Any]:
        """The first timer's (fn, value), taken off (its time: ``timers[0]`` before the call)."""
        self.timers.pop(0)
        return self.timer_fns.pop(0), self.timer_values.pop(0)

    def _schedule_runner(self, t: float) -> None:
        self.runner_at = t
        self.runner_token += 1
        if t < self.next_event:  # (as Simulation.at: the call graph's agenda stops there)
            self.next_event = t
        self.env.timeout(_delay_to(self.env.now, t)).callbacks.append(
            _Call(self, t, self._run_timers, self.runner_token).fire)

    def _run_timers(self, ev: Any) -> None:
        """The timer runner (when the pump is not there to run them): due timers in time order
        for as long as no SimPy event comes first."""
        if ev._value != self.runner_token:  # superseded by an earlier one
            return
        self.runner_at = INF
        timers = self.timers
        peek = self.env.peek
        self.timing = True
        try:
            while timers and (timers[0] <= ev.t or timers[0] < peek()):
                self.now = timers[0]
                fn, value = self._pop_timer()
                fn(value)
        finally:
            self.timing = False
        self._ensure_runner()

    def disrupted(self, t: float) -> None:
        """A disruption happens now: eager delivery must stop at the next one."""
        d = self.disruptions
        while d and d[0] <= t:
            heappop(d)
        self.next_disruption = d[0] if d else INF

    # -- targets -----------------------------------------------------------------------------------
    def _add_target(self, st: TargetGroupState, ct: Any, initial: bool) -> TargetServer:
        srv = TargetServer(ct, st, st.kind)
        n = self.reg_count.get(f"{st.name}/{ct.id}", 0)
        self.reg_count[f"{st.name}/{ct.id}"] = n + 1
        srv.stream_suffix = f"#{n}" if n else ""
        base = f"target/{st.name}/{ct.id}{srv.stream_suffix}"
        srv.program = self.calls.programs.get(st.name)
        if srv.program is not None:
            srv.plain = False
            srv.refresh()
            srv.steps = self.calls.step_states(srv.program)
        srv.service = sampler(ct.model.latency, self.streams.rng(f"{base}/service"))
        srv.error_u = self.streams.uniform(f"{base}/errors")
        net = self._net
        srv.hop_same = sampler(net.target_hop or net.same_az, self.streams.rng(f"{base}/hop/same"))
        srv.hop_cross = sampler(net.target_hop or net.cross_az, self.streams.rng(f"{base}/hop/cross"))
        srv.health = (INITIAL if initial else HEALTHY) if st.checked else UNAVAILABLE
        if st.kind == "LAMBDA" and ct.model.cold_start is not None:
            srv.cold_start = sampler(ct.model.cold_start, self.streams.rng(f"{base}/cold_start"))
        # one machine under several registrations shares its workers and queue; a target whose group
        # has calls keeps its own (its workers are event-driven: README, assumptions)
        key = machine_key(st.kind, ct, st.ctg.vpc_id) if self.assumptions.shared_instances and \
            srv.program is None else None
        peer = self.machines.get(key) if key is not None else None
        if peer is not None:
            share_machine(srv, peer)
        else:
            srv.free = [self.now] * srv.concurrency
            if key is not None:
                self.machines[key] = srv
        srv.cursor = self.rec.dim("target_group", st.name).cursor(srv.az)
        st.add(srv)
        self.targets_by_id.setdefault(ct.id, []).append(srv)
        srv.log_health(self.now, srv.health)
        if srv.az in self.failed_azs:
            srv.set_down(az_down=True)
        return srv

    def set_health(self, srv: TargetServer, state: str) -> None:
        if srv.health == state:
            return
        srv.health = state
        srv.log_health(self.now, state)
        srv.tg.refresh()

    def targets_by_id_all(self, tg: str) -> list[TargetServer]:
        return [t for ts in self.targets_by_id.values() for t in ts if t.tg.name == tg]

    # -- clients -----------------------------------------------------------------------------------
    def start(self) -> None:
        poisson: list[ClientState] = []  # open-loop Poisson clients: merged a window at a time
        for cs in self.clients.values():
            m = cs.model
            if cs.closed is not None:
                u = self.streams.uniform(f"client/{cs.name}/start")
                spread = max(cs.think_mean, 0.001)
                for user in range(cs.closed.users):
                    self.at(u() * spread, self._on_user_start, (cs, user))
            elif m.arrival.replay is not None:
                from latsim.workload.replay import Replayer
                Replayer(self, cs, m.arrival.replay).start()
            elif cs.poisson:
                poisson.append(cs)
            elif cs.arrivals is not None:
                self.push_arrival(cs, cs.arrivals.next(0.0))
        self.feed = PoissonFeed(poisson, self.duration)
        self._arm_pump()
        self.health.start()
        self.timeline.start()

    def push_arrival(self, cs: ClientState, t: float) -> None:
        if t < self.duration:
            self._seq += 1
            heappush(self.arrival_heap, (t, self._seq, cs, cs.arrival_gen))

    def restart_arrivals(self, cs: ClientState) -> None:
        """A rate change: drop the client's pending arrival and draw the next from now."""
        if cs.poisson:
            self.feed.restart(cs, self.now)
        else:
            cs.arrival_gen += 1
            self.push_arrival(cs, cs.arrivals.next(self.now))
        self._arm_pump()

    def _arm_pump(self) -> None:
        """Make sure the pump runs at the next arrival (a rate change can bring it forward)."""
        t = self.feed.peek()
        if self.arrival_heap and self.arrival_heap[0][0] < t:
            t = self.arrival_heap[0][0]
        if t < self.duration and t < self.pump_at:
            self._schedule_pump(t)

    def _schedule_pump(self, t: float) -> None:
        """The pump runs at ``t``; a pump scheduled before (later) becomes stale and does nothing."""
        self.pump_token += 1
        self.pump_at = t
        self.at(t, self._pump, self.pump_token)

    def _hand_over(self, t: float, cst: ClientStats | None, *, sent: bool = True) -> None:
        """The pump gives the request arriving at ``t`` to the general path: it counts the hand-over,
        sets the clock the general code reads, and counts the request in its client's statistics
        (``cst``: None when it is not recorded, or not counted yet) as ``requests`` and, once Lattice
        has it (``sent``), ``sent``."""
        self.handed_over += 1
        self.now = t
        if cst is not None:
            cst.requests += 1
            if sent:
                cst.sent += 1

    def _held(self, call: Request | None, t: float, cst: ClientStats | None, cs: Sender, spec: int,
              t_send: float, hop: float, route: Route, body: int) -> Request:
        """The ``Request`` the general path takes over at a hand-over point of the pump's fast path
        (after Lattice drew its overhead and the body): a call's own, or a client's request built
        now (``_hand_over``: counted, the clock set)."""
        if call is not None:
            return call  # (entered, its clock set: the pump took it from the agenda)
        self._hand_over(t, cst)
        return self._request(cs, spec, t_send, hop, t, route, body)

    def _pump(self, _ev: Any) -> None:
        """Handle open-loop arrivals inline, in time order, until another event is due first.

        The common request — forwarded by a cached route to a plain target that answers in time,
        nothing to disturb it, the client's AZ up, no access log being written — is handled here
        in one piece with local variables: the same draws from the same streams in the same
        order, the same records, the same client statistics as the general path (``_arrive`` →
        ``_enter`` → ``_serve`` → ``_complete`` → ``lattice_response`` → ``client_outcome``). So
        is a call of a target's program entering Lattice: the call graph's agenda runs between
        the arrivals here (``CallGraph.run_due``), and its calls take the same fast path, the
        caller learning the answer through ``CallGraph._call_ok``. At the first sign of anything
        else the ``Request`` the general path would hold at that point (``_held``) is handed over
        to the general function for that stage (``_enter``, or a named point of
        ``latsim.engine.fastpath.hand_over``). ``tests/test_fast_path.py`` runs scenarios both
        ways and requires byte-identical results."""
        if _ev._value != self.pump_token:  # superseded by an earlier pump (a rate change)
            return
        heap = self.arrival_heap
        env = self.env
        duration = self.duration
        warmup = self.warmup
        fast = self.fast
        failed_azs = self.failed_azs  # changed by timeline events only
        version = self.topo.version
        watchers = self.rec.watchers  # canary controllers' windows (changed by their events only)
        rate = float(self.rate_limit)
        next_disruption = self.next_disruption  # changed by timeline events only, never inside the pump
        feed = self.feed
        times, owners, i = feed.times, feed.owners, feed.i
        n = len(times)
        feed_live = True
        self.pump_at = INF
        timers = self.timers
        # the next SimPy event or timer, whichever is first: lowered by Simulation.at and
        # Simulation.timer while the pump runs (one test per arrival)
        self.next_event = env.peek()
        if timers and timers[0] < self.next_event:
            self.next_event = timers[0]
        pumped = 0
        # the wait for the next arrival counted as an event already (a timer ran inline, or the pump left)
        waited = self.gap_token == self.pump_token
        self.timing = True
        # the call graph's agenda runs here too, between arrivals (CallGraph.run_due): one SimPy
        # event fewer each time the two take turns
        calls = self.calls
        agenda = calls.agenda if calls.programs else None
        enter = calls.enter  # the agenda's call entries: the pump takes them up as it does arrivals
        if agenda is not None:
            calls.running = True
        # (typed: the compiled build reads these natively, latsim/native.py)
        c: Cursor
        cur: Cursor
        rule_time: BufferedHistogram
        row: list[float]
        idle: float
        try:
            while True:
                # the next arrival: the Poisson window's or the heap's (other processes), earliest first
                if i < n:
                    t = times[i]
                    from_heap = heap and heap[0][0] <= t  # truthy: the heap's arrival comes first
                    if from_heap:
                        t = heap[0][0]
                else:
                    if feed_live:
                        feed.i = i
                        if feed.next_window():
                            times, owners, i = feed.times, feed.owners, 0
                            n = len(times)
                            continue
                        feed_live = False
                    if not heap:
                        return
                    t = heap[0][0]
                    from_heap = True
                call = None
                if agenda and agenda[0][0] < t and agenda[0][0] < self.next_event:
                    if agenda[0][2] is not enter or not fast:
                        calls.run_due(t, enter if fast else None)  # what the call graph has to do first
                        continue
                    # a call enters Lattice (as _enter): through the fast path below, as an arrival
                    t, _, _, call = heappop(agenda)
                    self.now = t
                    cs = call.client
                    if failed_azs or call.entry_az != cs.az:  # (an AZ that failed when it was sent)
                        self._enter(call)
                        continue
                    spec = 0
                    plan: Any = cs.plans[0] if cs.route_version == version else None
                    if plan is None:
                        plan = self._plan(cs, 0)
                    if plan is False:
                        self._enter(call)
                        continue
                    if call.t_first >= warmup:
                        cs.stats.sent += 1
                    hop = call.hop_c
                    t_send = call.t_send
                    call.client_deadline = t_send + cs.timeout
                    call.t_entry = t
                    call.route = plan[1]
                    call.svc = plan[0]
                    recorded = False  # (its statistics are the call edge's, counted where they happen)
                    cst: Any = None
                if call is None:  # the next arrival
                    if self.next_event <= t:  # a SimPy event or a timer comes first
                        nxt = env.peek()
                        if timers and timers[0] <= t and timers[0] < nxt:
                            # a timer: run here, where the event-per-timer path left the pump (an
                            # event scheduled, counted once per arrival waited for) and came back
                            if not waited:
                                self.scheduled += 1
                                waited = True
                            self.timers_inline += 1
                            self.now = timers[0]
                            fn, value = self._pop_timer()
                            fn(value)
                            version = self.topo.version
                            next_disruption = self.next_disruption
                            nxt = env.peek()
                            self.next_event = timers[0] if timers and timers[0] < nxt else nxt
                            continue
                        if nxt <= t:
                            self._schedule_pump(t)
                            if waited:  # that wait was counted when a timer ran
                                self.scheduled -= 1
                            self.gap_token = self.pump_token
                            return
                        self.next_event = timers[0] if timers and timers[0] < nxt else nxt
                    waited = False
                    if from_heap:
                        _, _, cs, gen = heappop(heap)
                        if gen != cs.arrival_gen:
                            continue
                        nxt = cs.arrivals.next(t)
                        if nxt < duration:
                            self._seq += 1
                            heappush(heap, (nxt, self._seq, cs, gen))
                    else:
                        cs = owners[i]
                        i += 1
                    pumped += 1  # self.now is set where general code runs: a handover, a new plan
                    if not fast:
                        self.now = t
                        self._arrive(cs, t)
                        continue
                    if failed_azs and cs.az in failed_azs:  # the client enters through another AZ
                        self._hand_over(t, None)
                        self._arrive(cs, t)
                        continue
                    # the client (as _arrive; its AZ is up)
                    mix = cs.mix
                    spec = 0 if mix is None else mix()
                    hop = cs.hop_same()
                    t_send = t - hop
                    recorded = t_send >= warmup
                    cst = cs.stats  # counted when the request's fate is known: handed over, or ok (settle)
                    # Lattice (as _enter)
                    plan = cs.plans[spec] if cs.route_version == version else None
                    if plan is None:
                        self.now = t
                        plan = self._plan(cs, spec)
                    if plan is False:  # not forwarded
                        self._hand_over(t, cst if recorded else None, sent=False)
                        self._enter(self._request(cs, spec, t_send, hop))
                        continue
                # Lattice and the target: the fast path of a client's request or a call alike (as
                # _enter -> _to_target_group -> _to_target -> _serve -> _complete -> lattice_response
                # for a 200 in time); at a hand-over point the general path takes the request over
                # (latsim.engine.fastpath.hand_over) with what was drawn so far
                svc, route, key, split, c, idle, http11, draw_body, draw_resp, bucket, rule_time = plan
                overhead = cs.overhead()
                body = draw_body()
                if bucket is not None:  # as _take_token: the service's token bucket in the AZ
                    tokens = bucket[0] + (t - bucket[1]) * rate
                    if tokens > rate:
                        tokens = rate
                    bucket[1] = t
                    if tokens >= 1.0:
                        bucket[0] = tokens - 1.0
                    else:
                        bucket[0] = tokens
                        req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                        hand_over(self, req, (RATE_LIMITED, overhead, body), t)
                        continue
                leg = split.next()
                if leg is END:
                    leg = split.refill()
                if leg is None:
                    req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                    hand_over(self, req, (NO_TARGET_GROUP, overhead, body), t)
                    continue
                if t >= warmup:  # Simulation.settle hands the legs' hits to Recorder.forwarded
                    leg.hits += 1
                st: TargetGroupState = leg.st
                if not (http11 and st.http1) and not self._protocol_ok(cs, spec, st):
                    req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                    hand_over(self, req, (PROTOCOL, overhead, body, st), t)
                    continue
                routable = st.routable  # as TargetGroupState.pick: round robin
                if routable:
                    rr = st.rr
                    st.rr = rr + 1
                    srv: TargetServer | None = routable[rr % len(routable)]
                else:
                    srv = None
                if srv is None or not srv.fast:  # srv.fast: plain, up, no injected latency
                    req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                    if srv is not None and srv.runs:  # its program runs (as _to_target -> CallGraph.arrive)
                        req.body = body
                        req.tg = st
                        req.target = srv
                        hop_t = req.hop_t = srv.hop_same() if srv.az == cs.az else srv.hop_cross()
                        ta = req.t_target = t + overhead + hop_t
                        req.lattice_deadline = ta + idle
                        calls.arrive(srv, req, ta)
                        continue
                    hand_over(self, req, (TARGET, overhead, body, st, srv), t)
                    continue
                hop_t = srv.hop_same() if srv.az == cs.az else srv.hop_cross()
                ta = t + overhead + hop_t
                deadline = ta + idle
                # the target (as _serve: no Lambda, no injected latency)
                free = srv.free
                f = free[0]
                if f > ta:
                    if srv.queue_limit is not None and not srv.enqueue(f, ta):  # the queue is full
                        req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                        hand_over(self, req, (QUEUE_FULL, overhead, body, st, srv, hop_t, ta, deadline), t)
                        continue
                    start = f
                else:
                    start = ta
                end = start + srv.service() * srv.slowdown
                heapreplace(free, end)
                respond = end if end <= deadline else deadline
                if (respond >= next_disruption or respond > duration or end > deadline
                        or srv.error_rate + srv.inject_rate > 0.0 or not start):
                    req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                    hand_over(self, req, (SERVED, overhead, body, st, srv, hop_t, ta, deadline, start, end), t)
                    continue
                # the answer (as _complete and lattice_response: a 200 from the target)
                t_l = end + hop_t
                if t_l + hop > t_send + cs.timeout:  # the sender gives up first: lattice_response says how
                    req = self._held(call, t, cst if recorded else None, cs, spec, t_send, hop, route, body)
                    hand_over(self, req, (LATE, overhead, body, st, srv, hop_t, ta, deadline, start, end), t)
                    continue
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
                if watchers and leg.name in watchers:
                    watchers[leg.name].add(dur, 200)
                t_client = t_l + hop
                if call is not None:  # the caller learns it (as client_outcome and call_done)
                    call.lattice_done = True
                    call.status = 200
                    keys = leg.keys
                    if keys is None:
                        keys = leg.keys = calls.crit_keys(svc, st.name)
                    calls._call_ok(call, t_client, t_l, end, start, ta, None, keys)
                    continue
                # the client learns it (as client_outcome: a success, no retry)
                if recorded:
                    cst.ok += 1  # sent, answered 200 at the first attempt: ClientStats.settle counts it
                    buf = cst.both
                    buf.append(t_client - t_send)
                    if len(buf) >= FLUSH:
                        cst.flush_both()
        finally:
            feed.i = i
            self.pumped += pumped
            if fast:
                self.pumped_fast += pumped
            self.timing = False
            self._ensure_runner()
            if agenda is not None:
                calls.running = False
                calls.rearm()

    def _protocol_ok(self, cs: Sender, spec: int, st: TargetGroupState) -> bool:
        """Whether a request class can go to a target group as it is (``protocol_error``, cached:
        it depends on the request's protocol and method and the group's protocol version only)."""
        m = cs.specs[spec]
        key = (m.protocol, m.method, st.name)
        ok = self.protocol_ok.get(key)
        if ok is None:
            ok = self.protocol_ok[key] = protocol_error(m.protocol, st.model, m.method) is None
        return ok

    def _plan(self, cs: Sender, spec: int) -> Any:
        """What the fast path needs to forward a client's request class: the route's service and
        action and everything looked up from them (False: the route does not forward)."""
        route = cs.route(self, spec)
        if route.outcome is not FORWARDED:
            plan: Any = False
        else:
            svc = route.service
            action = route.action
            key = action.key  # type: ignore[union-attr]
            plan = (svc, route, key, self._split(action), self.svc_dims[svc].cursor(cs.az),  # type: ignore[index,arg-type]
                    self.idle[svc], cs.specs[spec].protocol == "HTTP/1.1", cs.body[spec], cs.resp[spec],  # type: ignore[index]
                    self._bucket(svc, cs.az, self.now) if self.rate_limit else None,  # type: ignore[arg-type]
                    self.rec.rule_time(key))
        cs.plans[spec] = plan
        return plan

    def _request(self, cs: Sender, spec: int, t_send: float, hop: float, now: float | None = None,
                 route: Route | None = None, body: int = 0) -> Request:
        """The Request the general path holds for a pumped arrival: after the client's hop, and
        (given ``now``) after Lattice drew its overhead and the body."""
        req = Request(cs, spec, t_send, t_send, 1, -1)
        req.hop_c = hop
        req.entry_az = cs.az
        if now is not None:
            req.client_deadline = t_send + cs.timeout
            req.t_entry = now
            req.route = route
            req.svc = route.service  # type: ignore[union-attr]
            req.body = body
        return req

    @staticmethod
    def _at_target(req: Request, srv: TargetServer, hop_t: float, ta: float, deadline: float) -> Request:
        """... and after ``_to_target`` sent it to target ``srv`` ..."""
        req.tg = srv.tg
        req.target = srv
        req.hop_t = hop_t
        req.t_target = ta
        req.lattice_deadline = deadline
        return req

    def _served(self, req: Request, srv: TargetServer, hop_t: float, ta: float, deadline: float, start: float,
                end: float) -> Request:
        """... and after ``_serve`` queued it there."""
        self._at_target(req, srv, hop_t, ta, deadline)
        req.t_start = start
        req.t_end = end
        return req

    def _arrive(self, cs: ClientState, now: float) -> None:
        """Open-loop arrival: ``now`` is the arrival at Lattice (fused with the client's send)."""
        req = Request(cs, cs.pick_spec(), now, now, 1, -1)
        entry_az, hop = self._client_hop(cs)
        req.t_send = req.t_first = now - hop
        req.hop_c = hop
        req.entry_az = entry_az
        if req.t_first >= self.warmup:
            cs.stats.requests += 1
        self._enter(req)

    def _on_user_start(self, ev: Any) -> None:
        cs, user = ev._value
        self.send_new(cs, user, self.now)

    def send_new(self, cs: ClientState, user: int, t: float, spec: int | None = None) -> None:
        if t >= self.warmup:
            cs.stats.requests += 1
        self._send(Request(cs, cs.pick_spec() if spec is None else spec, t, t, 1, user))

    def _send(self, req: Request) -> None:
        """Send an attempt at ``req.t_send`` (>= now): it reaches Lattice one hop later."""
        entry_az, hop = self._client_hop(req.client)
        req.hop_c = hop
        req.entry_az = entry_az
        self.at(req.t_send + hop, self._on_entry, req)

    def _on_entry(self, ev: Any) -> None:
        self._enter(ev._value)

    def _client_hop(self, cs: Sender) -> tuple[str | None, float]:
        az = cs.az
        if az not in self.failed_azs:
            return az, cs.hop_same()
        for other in cs.vpc_azs:
            if other not in self.failed_azs:
                return other, cs.hop_cross()
        return None, cs.hop_same()

    # -- Lattice --------------------------------------------------------------------------------------
    def _enter(self, req: Request) -> None:
        now = self.now
        cs = req.client
        if self.tracer is not None:
            self.tracer.enter(req, now)
        if req.t_first >= self.warmup:
            cs.stats.sent += 1
        req.client_deadline = req.t_send + cs.timeout
        req.t_entry = now
        route = cs.routes[req.spec] if cs.route_version == self.topo.version else None
        if route is None:
            route = cs.route(self, req.spec)
        req.route = route
        outcome = route.outcome
        if outcome is not FORWARDED and outcome is not FIXED and outcome is not DENIED:
            self._unreachable(req, route)
            return
        if req.entry_az is None:  # every AZ of the client's VPC is down: no entry point
            self._count_unreached(req, route)
            self.client_outcome(req, req.client_deadline, None, "connect_timeout")
            return
        svc = route.service
        req.svc = svc
        overhead = cs.overhead()
        req.body = cs.body[req.spec]()
        if self.rate_limit and not self._admit(svc, req.entry_az, now):  # type: ignore[arg-type]
            self.lattice_response(req, now + overhead, self.assumptions.rate_limit_status, lattice=True,
                                  failure="ClientRateLimited")
            return
        if outcome is DENIED:
            # status None: a TLS-passthrough connection, which Lattice closes (it cannot write an HTTP 403
            # inside TLS it does not terminate); status 0 records "no HTTP status"
            self.lattice_response(req, now + overhead, route.status or 0, lattice=True, failure="ClientAccessDenied")
            return
        if outcome is FIXED:
            self.rec.unforwarded(route.action.key, now)  # type: ignore[union-attr]
            self.lattice_response(req, now + overhead, route.status or 404, lattice=True)
            return
        action = route.action
        key = action.key  # type: ignore[union-attr]
        split = self._split(action)  # type: ignore[arg-type]
        leg = split.next()
        if leg is END:
            leg = split.refill()
        if leg is None:  # every weight is 0 (assumption: a fixed 500)
            self.rec.unforwarded(key, now)
            self.lattice_response(req, now + overhead, 500, lattice=True, failure="InternalError")
            return
        if now >= self.warmup:
            leg.hits += 1
        self._to_target_group(req, leg.st, now, overhead)

    def _to_target_group(self, req: Request, st: TargetGroupState, now: float, overhead: float) -> None:
        """Lattice forwards to target group ``st``: protocol check, then round robin."""
        req.tg = st
        if not self._protocol_ok(req.client, req.spec, st):
            self.lattice_response(req, now + overhead, 502, lattice=True, failure="TargetProtocolError")
            return
        self._to_target(req, st.pick(), now, overhead)

    def _to_target(self, req: Request, srv: TargetServer | None, now: float, overhead: float) -> None:
        """Lattice connects to the target the round robin picked (None: no target to pick)."""
        if srv is None:
            self.lattice_response(req, now + overhead, self.assumptions.target_connection_error_status, lattice=True,
                                  failure="TargetConnectionError", conn_error=True)
            return
        req.target = srv
        hop = srv.hop_same() if srv.az == req.entry_az else srv.hop_cross()
        if srv.kind == "ALB":
            hop += self.alb_hop()
        req.hop_t = hop
        ta = now + overhead + hop
        req.t_target = ta
        if not srv.up or not srv.ct.sg_allows_traffic[0]:
            # connection refused (instance down: one round trip) or SYNs dropped (AZ down, or a target
            # security group without the Lattice prefix list: Lattice's connect timeout)
            refused = srv.up is False and not srv.az_down
            delay = 2 * hop if refused else self.assumptions.target_connect_timeout
            self.lattice_response(req, now + overhead + delay, self.assumptions.target_connection_error_status, lattice=True,
                                  failure="TargetConnectionError", conn_error=True)
            return
        req.lattice_deadline = ta + self.idle[req.svc]  # type: ignore[index]
        self._serve(srv, req, ta)

    def _split(self, action: ActionState) -> WeightedSplit:
        """The weighted split of a rule (its own random stream), giving its legs."""
        split = self.splits.get(action.key)
        if split is None:
            key = action.key
            legs = self.legs

            def leg(name: str) -> Leg:
                lg = legs.get((key, name))
                if lg is None:
                    lg = legs[(key, name)] = Leg(name, self.tgs[name])
                return lg
            split = self.splits[key] = WeightedSplit(action, self.streams.rng(f"split/{key}"), leg)
        return split

    def settle(self) -> None:
        """Hand over the figures that the engine keeps where it uses them, before results are read:
        the clients' fast-path 200s (``ClientStats.settle``) and the rules' forwarded requests per
        target group, counted on their legs, to the recorder."""
        for cs in self.clients.values():
            cs.stats.settle()
        for (key, name), leg in sorted(self.legs.items()):
            if leg.hits:
                self.rec.forwarded(key, name, leg.hits)
                leg.hits = 0

    def _bucket(self, svc: str, az: str, now: float) -> list[float]:
        """The token bucket of a service in an AZ: [tokens, time of the last update], full when new."""
        key = (svc, az)
        b = self.rate_buckets.get(key)
        if b is None:
            b = self.rate_buckets[key] = [float(self.rate_limit), now]
        return b

    def _admit(self, svc: str, az: str, now: float) -> bool:
        return self._take_token(self._bucket(svc, az, now), now)

    def _take_token(self, b: list[float], now: float) -> bool:
        """Token bucket of ``requests_per_second_per_service_per_az`` (burst: one second)."""
        rate = self.rate_limit
        tokens = b[0] + (now - b[1]) * rate
        if tokens > rate:
            tokens = float(rate)
        b[1] = now
        if tokens >= 1.0:
            b[0] = tokens - 1.0
            return True
        b[0] = tokens
        return False

    def _count_unreached(self, req: Request, route: Route) -> None:
        """An attempt at a service that Lattice never answered for it (no service metrics): the
        callers' error rate counts it (``latsim.slo.caller_error_rate``)."""
        if route.service is not None and req.t_send >= self.warmup:
            self.unreached[route.service] = self.unreached.get(route.service, 0) + 1

    def _unreachable(self, req: Request, route: Route) -> None:
        failure = route.failure
        now = self.now
        self._count_unreached(req, route)
        if failure == "dns_failure":
            self.client_outcome(req, req.t_send, None, "dns_failure")
        elif failure == "connect_timeout":
            self.client_outcome(req, req.client_deadline, None, "connect_timeout")
        elif failure == "connection_refused":
            self.client_outcome(req, now + req.hop_c, None, "connection_refused")
        else:  # 404 Non Existent Service or 400 protocol error: answered by Lattice, no service metrics
            self.client_outcome(req, now + req.client.overhead() + req.hop_c, route.status, None)

    # -- targets ----------------------------------------------------------------------------------------
    def _serve(self, srv: TargetServer, req: Request, ta: float) -> None:
        """FIFO c-server queue by the Kiefer-Wolfowitz recursion over the workers' free times
        (a target whose code calls other services runs its program instead: ``latsim.engine.calls``)."""
        if srv.program is not None:
            self.calls.arrive(srv, req, ta)
            return
        start = srv.start_at(ta)  # every worker busy at ta: it waits in the FIFO queue, if there is room
        if start is None:
            if srv.kind == "LAMBDA":
                self.lattice_response(req, ta + req.hop_t, 429, lattice=False, failure="TargetProtocolError")
            else:  # the target turns it away itself (its 503; Lattice has no 503 of its own, docs/lattice.md §7.1)
                self.lattice_response(req, ta + req.hop_t, self.assumptions.queue_overflow_status, lattice=False)
            return
        s = srv.service() * srv.slowdown
        if srv.extra is not None:
            s = s * srv.extra[0] + (srv.extra[1]() if srv.extra[1] is not None else 0.0)
        if srv.cold_start is not None:
            s += self._lambda_env(srv, start)
        end = start + s
        heapreplace(srv.free, end)
        req.t_start = start
        req.t_end = end
        respond = end if end <= req.lattice_deadline else req.lattice_deadline
        if respond < self.next_disruption and respond <= self.duration:
            self._complete(req, srv)
        else:
            self._defer(req, srv, respond)

    def _defer(self, req: Request, srv: TargetServer, respond: float) -> None:
        """The request may be disturbed, or still be in flight when the run ends: deliver it at its
        time, if ever."""
        srv.inflight.add(req)
        self.at(respond, self._on_deferred, req)
        if req.client_deadline < respond:
            self.at(req.client_deadline, self._on_client_deadline, req)

    def _lambda_env(self, srv: TargetServer, start: float) -> float:
        """Lambda: reuse an idle execution environment if one is warm, else pay a cold start."""
        warm = srv.warm
        best = -1
        for i, idle_since in enumerate(warm):
            if idle_since <= start and start - idle_since <= srv.idle_expiry and (
                    best < 0 or idle_since > warm[best]):
                best = i
        if best >= 0:
            warm.pop(best)
            return 0.0
        cold = float(srv.cold_start())
        self.rec.cold_start(srv.tg.name, start, cold)
        return cold

    def _complete(self, req: Request, srv: TargetServer, failed: bool = False) -> None:
        """The target answers at ``req.t_end`` (or Lattice times out first); ``failed``: a call of its
        program failed (``on_error: fail``), so it answers 500."""
        if srv.cold_start is not None:
            srv.warm.append(req.t_end)
            if len(srv.warm) > srv.concurrency:
                srv.warm.sort()
                del srv.warm[0]
        if req.t_end > req.lattice_deadline:
            self.lattice_response(req, req.lattice_deadline, self.assumptions.target_timeout_status, lattice=True,
                                  failure="TargetDataTimeout", timeout=True)
            return
        status = 500 if failed else 200
        rate = srv.error_rate + srv.inject_rate
        if not failed and rate > 0.0 and srv.error_u() < rate:
            status = srv.inject_status if srv.inject_rate and srv.error_u() < srv.inject_rate / rate \
                else srv.error_status
        self.lattice_response(req, req.t_end + req.hop_t, status, lattice=False)

    def _on_deferred(self, ev: Any) -> None:
        req: Request = ev._value
        if req.dead:
            return
        srv = req.target
        srv.inflight.discard(req)  # type: ignore[union-attr]
        self._complete(req, srv)  # type: ignore[arg-type]

    def _on_client_deadline(self, ev: Any) -> None:
        req: Request = ev._value
        if not req.client_done:
            self.client_outcome(req, self.now, None, "client_timeout")

    def fail_inflight(self, srv: TargetServer, status: int = 502, failure: str = "TargetConnectionClosed") -> None:
        """A target died (or finished draining): its requests in flight fail now, its workers are free."""
        now = self.now
        victims = sorted(srv.inflight, key=lambda r: (r.t_target, r.t_entry))
        if srv.program is not None:
            self.calls.kill(srv)
        srv.inflight.clear()
        if not any(p is not srv and p.registered and p.up for p in srv.peers):
            # the machine stops (in place: its registrations share these); a registration that
            # finishes draining while another still serves leaves the machine's work alone
            srv.queued.clear()
            srv.free[:] = [now] * len(srv.free)
        for req in victims:
            if req.dead or req.lattice_done:
                continue
            req.dead = True
            self.lattice_response(req, now, status, lattice=True, failure=failure)

    # -- responses --------------------------------------------------------------------------------------
    def lattice_response(self, req: Request, t: float, status: int, *, lattice: bool, failure: str | None = None,
                         timeout: bool = False, conn_error: bool = False) -> None:
        """Lattice answers at ``t``: record the service and target-group metrics; the client sees it
        one hop later, unless it gave up first.

        A client that gives up (its timeout) closes the connection; when the close reaches Lattice
        before Lattice has an answer, Lattice logs the request then, as ``ClientConnectionClosed``
        with no HTTP status (0), and the target's late answer is discarded (latsim's assumption,
        README; the target still spends the work)."""
        closed = req.client_deadline + req.hop_c
        if t > closed:
            t, status, lattice, failure, timeout, conn_error = closed, 0, True, "ClientConnectionClosed", False, False
        req.lattice_done = True
        req.status = status
        req.t_resp = t
        spec = req.spec
        cs = req.client
        if status < 400 or not lattice:
            resp = cs.resp[spec]()
        else:
            resp = 0
        az = req.entry_az or "-"
        rec = self.rec
        rec.record(self.svc_dims[req.svc], az, req.t_entry, t, status, timeout, False, lattice,  # type: ignore[index]
                   req.body, resp, failure)
        route = req.route
        if route is not None and route.action is not None and req.t_entry >= self.warmup:
            rec.rule_time(route.action.key).add(t - req.t_entry)  # the latency of the rule's requests
        srv = req.target
        if srv is not None:
            if req.t_target - req.hop_t >= self.warmup:
                srv.requests += 1  # the target's share of its group's TotalRequestCount
                srv.time.add(t - (req.t_target - req.hop_t))
            rec.record(self.tg_dims[srv.tg.name], srv.az, req.t_target - req.hop_t, t, status, timeout, conn_error,
                       lattice, req.body, resp, failure)
        if self.access_log is not None:
            self.access_log.write(self, req, t, status, failure, resp)
        if req.trace is not None:
            self.tracer.lattice(req, t, status, failure, lattice)
        if req.client_done:
            return
        t_client = t + req.hop_c
        if status == 0:  # the connection was closed without a response
            if failure == "ClientConnectionClosed" or t_client > req.client_deadline:  # the client gave up
                t_client = req.client_deadline if req.client_deadline > self.now else self.now
                self.client_outcome(req, t_client, None, "client_timeout")
            else:
                self.client_outcome(req, t_client, None, "connection_closed")
            return
        if t_client > req.client_deadline:
            # the client gives up first, at its own deadline
            now = self.now
            self.client_outcome(req, req.client_deadline if req.client_deadline > now else now, None,
                                "client_timeout")
            return
        self.client_outcome(req, t_client, status, failure)

    def client_outcome(self, req: Request, t: float, status: int | None, failure: str | None) -> None:
        """The client learns the outcome of an attempt at time ``t`` (>= now)."""
        if req.client_done:
            return
        req.client_done = True
        cs = req.client
        st = cs.stats
        recorded = req.t_first >= self.warmup
        if status is not None:
            if recorded:
                st.status[status] = st.status.get(status, 0) + 1
            if status < 400:
                retry = False
            else:
                on = cs.retry_on
                retry = ("5xx" in on) if status >= 500 else (("429" in on or "4xx" in on) if status == 429
                                                              else "4xx" in on)
        else:
            if recorded and failure is not None:
                st.failures[failure] = st.failures.get(failure, 0) + 1
            retry = failure != "dns_failure" and (
                "timeout" if failure == "client_timeout" else "connect_error") in cs.retry_on
        again = retry and req.attempt <= cs.retry_max and t < self.duration
        if req.trace is not None:
            self.tracer.outcome(req, t, status, failure, not again)
        if again:
            if recorded:
                if status is not None:
                    st.attempt_bh.add(t - req.t_send)
                st.retries += 1
            nxt = Request(cs, req.spec, t + cs.backoff_delay(req.attempt), req.t_first, req.attempt + 1, req.user)
            nxt.parent = req.parent
            nxt.trace = req.trace
            self._send(nxt)
            return
        if recorded:
            if status is not None and status < 400:
                st.succeeded += 1
            else:
                st.failed += 1
            if status is not None and req.attempt == 1:  # the same latency for the attempt and the request
                both = st.both
                both.append(t - req.t_send)
                if len(both) >= FLUSH:
                    st.flush_both()
            else:
                if status is not None:
                    st.attempt_bh.add(t - req.t_send)
                st.bh.add(t - req.t_first)
            if req.run is not None and req.parent is None:
                self.calls.entry_done(req, t)
        if req.parent is not None:  # a call: its program goes on
            self.calls.call_done(req, t, status)
            return
        if cs.closed is not None and req.user >= 0:
            nxt_t = t + (cs.think() if cs.think is not None else 0.0)
            if nxt_t < self.duration:
                if nxt_t >= self.warmup:
                    st.requests += 1
                self._send(Request(cs, cs.pick_spec(), nxt_t, nxt_t, 1, req.user))

    # -- run --------------------------------------------------------------------------------------------
    @property
    def events_run(self) -> int:
        """SimPy events scheduled so far plus arrivals handled inline (a proxy for work done)."""
        # each env.run schedules its stop event, and schedules it again when it stops the loop
        return self.scheduled + 2 * self.runs + self.pumped

    def run(self) -> Any:
        from latsim.results import Result
        wall0 = time.perf_counter()
        # the scenario, the compiled tables and the simulation's state live through the whole
        # run: frozen, the cyclic collector does not walk them again and again (a 2 000-service
        # run: 3.9 -> 3.6 s); what the run allocates is collected, less often
        frozen = gc.isenabled()
        thresholds = gc.get_threshold()
        if frozen:
            gc.freeze()
            # and a young collection every YOUNG_GC allocations, not 700: the merged arrival
            # windows (with 200 clients, two lists of 51 200 Python objects each) would be walked
            # by a young and a middle collection apiece, reading every float again from memory
            if thresholds[0]:  # (0: automatic collection off, left so)
                gc.set_threshold(max(thresholds[0], YOUNG_GC), *thresholds[1:])
        env = self.env
        until = self.duration
        try:
            self.start()
            # the loop advances in the same 200 steps whether or not a progress bar watches it, so
            # that a run's summary (its event count included) is the same bytes on a terminal and off
            step = max(until / 200.0, 0.001)
            t = 0.0
            while t < until:
                t = min(until, t + step)
                self.runs += 1  # env.run schedules its own stop event
                env.run(until=t)
                if self.progress is not None:
                    self.progress(t, until, self)
        except KeyboardInterrupt:
            self.partial = True
        finally:
            if frozen:
                gc.set_threshold(*thresholds)
                gc.unfreeze()
        self.end_time = env.now
        self.settle()
        wall = time.perf_counter() - wall0
        with paused():
            return Result.from_simulation(self, wall)

