"""Target servers (concurrency + FIFO queue), target-group state (health, round robin, fail-open)."""

from __future__ import annotations

from collections import deque
from heapq import heapreplace
from typing import Any

from latsim.metrics.recorder import BufferedHistogram

HEALTHY = "HEALTHY"
UNHEALTHY = "UNHEALTHY"
INITIAL = "INITIAL"
UNAVAILABLE = "UNAVAILABLE"
DRAINING = "DRAINING"
UNUSED = "UNUSED"
ROUTABLE_WHEN_CHECKED = {HEALTHY}


class TargetServer:
    """A target: ``concurrency`` workers, a FIFO queue (optionally bounded), a service time.

    ``up`` is False while the target (or its AZ) has failed; ``registered`` is False once it is
    deregistered (it drains, then is removed)."""

    __slots__ = ("ct", "tg", "id", "az", "concurrency", "queue_limit", "busy", "queue", "inflight", "up",
                 "registered", "health", "service", "error_rate", "error_status", "error_u", "slowdown",
                 "extra", "inject_rate", "inject_status", "fails", "passes", "health_log", "requests", "kind",
                 "warm", "cold_start", "idle_expiry", "az_down", "self_down", "ip", "port", "hc_index", "free",
                 "queued", "hop_same", "hop_cross", "plain", "cursor", "program", "stream_suffix",
                 "steps", "time", "peers", "fast", "runs")

    def __init__(self, ct: Any, tg: Any, kind: str) -> None:
        m = ct.model
        self.ct = ct
        self.tg = tg
        self.id = ct.id
        self.az = ct.az
        self.ip = ct.ip
        self.port = ct.port
        self.kind = kind
        # (numbers typed and converted where they are set: the compiled build keeps them as C values)
        self.concurrency: int = int(m.concurrency)
        self.queue_limit: int | None = m.queue
        self.busy = 0
        self.queue: deque[Any] = deque()
        self.free: list[float] = [0.0] * self.concurrency  # when each worker is next free (a heap)
        self.queued: deque[float] = deque()  # start times of requests waiting (for queue limits)
        self.inflight: set[Any] = set()
        self.self_down = False
        self.az_down = False
        self.up = True
        self.registered = True
        self.health = HEALTHY
        self.service: Any = None
        self.error_rate: float = float(m.errors.rate) if m.errors else 0.0
        self.error_status = m.errors.status if m.errors else 500
        self.error_u: Any = None
        self.slowdown: float = float(m.slowdown)
        self.extra: Any = None  # injected latency sampler (timeline)
        self.inject_rate = 0.0
        self.inject_status = 500
        self.fails = 0
        self.passes = 0
        self.health_log: list[list[Any]] = []
        self.requests = 0
        self.time = BufferedHistogram()  # the RequestTime of its requests after the warm-up (the group's, per target)
        self.warm: list[float] = []  # Lambda: idle execution environments (time they became idle)
        self.cold_start: Any = None
        self.idle_expiry = m.idle_expiry
        self.hc_index = 0
        self.hop_same: Any = None  # Lattice -> target hop samplers (same AZ as the entry, other AZ)
        self.hop_cross: Any = None
        self.cursor: Any = None  # recorder cursor of (target group, this target's AZ)
        self.program: Any = None  # the group's calls (latsim.engine.calls.Program), if it has any
        self.steps: Any = None  # its draws and caller views per step of the program (latsim.engine.calls)
        self.stream_suffix = ""  # "#n" for the n-th re-registration of the same id (its own streams)
        self.peers: list[TargetServer] = [self]  # registrations on the same machine (share_machine)
        # what never changes during a run and lets the engine's fast path serve this target: no ALB
        # hop, no Lambda environments, a security group that admits Lattice
        self.plain = kind != "ALB" and kind != "LAMBDA" and bool(ct.sg_allows_traffic[0])
        self.fast = self.plain  # plain, up and no injected latency: kept by refresh()
        self.runs = False  # a program's target that is up, reached with no ALB hop: kept by refresh()

    def refresh(self) -> None:
        """Recompute ``fast`` and ``runs`` after ``plain``, ``up`` or ``extra`` changed (the flags
        the fast path reads for all three)."""
        self.fast = self.plain and self.up and self.extra is None
        self.runs = (self.program is not None and self.up and self.kind != "ALB"
                     and bool(self.ct.sg_allows_traffic[0]))

    def log_health(self, t: float, state: str) -> None:
        """``state`` from ``t`` on, in the health log (time 0 written as the int 0, as it always has
        been: ``now`` is a float in the compiled build, latsim/native.py)."""
        self.health_log.append([t or 0, state])

    def enqueue(self, start: float, now: float) -> bool:
        """A request arriving at ``now`` waits until ``start`` in a queue bounded by ``queue``:
        False when the queue is full (the requests still waiting at ``now`` fill it)."""
        starts = self.queued
        while starts and starts[0] <= now:
            starts.popleft()
        if len(starts) >= self.queue_limit:  # type: ignore[operator]  # (called only with a limit)
            return False
        starts.append(start)
        return True

    def start_at(self, arrival: float) -> float | None:
        """When a job arriving at ``arrival`` starts (FIFO over the workers' free times: the
        earliest free worker, or at once), or None when it finds the queue full; the caller then
        draws its service time and puts its end in ``free`` (``heapreplace``). ``Simulation._serve``
        and ``take_worker`` use it; the pump's fast path writes it out."""
        f = self.free[0]
        if f > arrival:
            if self.queue_limit is not None and not self.enqueue(f, arrival):
                return None
            return f
        return arrival

    def take_worker(self, arrival: float, service_time: float) -> float | None:
        """A job that is not a client request (a health-check probe) arrives at ``arrival`` and
        waits its turn like one (FIFO, the same workers and queue bound): when it ends, or None
        when the queue is full."""
        start = self.start_at(arrival)
        if start is None:
            return None
        end = start + service_time
        heapreplace(self.free, end)
        return end

    def set_down(self, *, self_down: bool | None = None, az_down: bool | None = None) -> bool:
        """Update the failure flags; return True if the target just went down."""
        was = self.up
        if self_down is not None:
            self.self_down = self_down
        if az_down is not None:
            self.az_down = az_down
        self.up = not (self.self_down or self.az_down)
        self.refresh()
        return was and not self.up


def machine_key(kind: str, ct: Any, vpc_id: str | None) -> tuple[str, ...] | None:
    """What identifies the machine behind a registration: the instance id, or the IP address in
    its VPC (None for Lambda functions and ALBs, which latsim does not share)."""
    if kind == "INSTANCE":
        return ("instance", ct.id)
    if kind == "IP":
        return ("ip", vpc_id or "", ct.ip)
    return None


def share_machine(srv: TargetServer, peer: TargetServer) -> None:
    """``srv`` runs on ``peer``'s machine: the same workers (the free-time heap) and the same
    queue, whatever the group or port they are registered under (the first registration's
    ``concurrency`` and ``queue``)."""
    srv.free = peer.free
    srv.queued = peer.queued
    srv.concurrency = peer.concurrency
    srv.queue_limit = peer.queue_limit
    srv.peers = peer.peers
    srv.peers.append(srv)


class TargetGroupState:
    """Round robin over the healthy targets; fail-open over all when none is healthy."""

    __slots__ = ("name", "ctg", "targets", "rr", "routable", "checked", "kind", "model", "arn", "by_id",
                 "healthy_count", "http1")

    def __init__(self, ctg: Any) -> None:
        self.name = ctg.name
        self.ctg = ctg
        self.model = ctg.model
        self.arn = ctg.arn
        self.kind = ctg.model.type
        self.http1 = ctg.model.protocol_version == "HTTP1"
        self.checked = ctg.model.health_check_enabled
        self.targets: list[TargetServer] = []
        self.by_id: dict[str, TargetServer] = {}
        self.rr = 0
        self.routable: list[TargetServer] = []
        self.healthy_count = 0

    def add(self, server: TargetServer) -> None:
        self.targets.append(server)
        self.by_id[server.id] = server
        self.refresh()

    def refresh(self) -> None:
        """Recompute the rotation after a health, registration or failure change."""
        registered = [t for t in self.targets if t.registered]
        if self.checked:
            healthy = [t for t in registered if t.health == HEALTHY]
        else:
            healthy = registered
        self.healthy_count = len(healthy)
        self.routable = healthy or registered  # fail-open: every registered target

    def pick(self) -> TargetServer | None:
        routable = self.routable
        n = len(routable)
        if n == 0:
            return None
        i = self.rr
        self.rr = i + 1
        return routable[i % n]
