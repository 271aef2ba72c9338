"""The deadline watch of call graphs (``latsim.engine.calls.Watch``) against a reference: the heap
it replaced, written here from its definition (every deadline pushed on a heap; when the armed
event fires, stale deadlines are popped, due ones expired in (time, order) order, and the event is
armed again at the first live one). Random programs of adds, answers and deaths must give the same
SimPy events (times, in order) and the same expiries (request, kind, time)."""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from latsim.engine.calls import CLIENT, LATTICE, Watch

INF = float("inf")


class Req:
    def __init__(self, name: int) -> None:
        self.name = name
        self.watch = 0
        self.dead = False
        self.lattice_done = False
        self.client_done = False


class Events:
    """What the watch asks of the simulation and the call graph, in the order it asks it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.queue: list[tuple[float, int, Any, Any]] = []  # (t, order, fn, token): SimPy's heap
        self.order = 0
        self.log: list[tuple[Any, ...]] = []

    def at(self, t: float, fn: Any, token: Any) -> None:
        self.order += 1
        heappush(self.queue, (t, self.order, fn, token))
        self.log.append(("at", t))

    def expire(self, req: Req, kind: int) -> None:
        """As the engine: Lattice's 504 reaches the caller at once (its other deadline goes stale);
        the caller giving up leaves Lattice's deadline live."""
        self.log.append(("expire", req.name, kind, self.now))
        if kind == LATTICE:
            req.lattice_done = req.client_done = True
        else:
            req.client_done = True

    @property
    def sim(self) -> Events:
        return self


class Ev:
    def __init__(self, value: Any) -> None:
        self._value = value


class HeapWatch:
    """The reference: the heap it replaced."""

    def __init__(self, graph: Events) -> None:
        self.graph = graph
        self.heap: list[tuple[float, int, int]] = []
        self.live: dict[int, Req] = {}
        self.armed = INF
        self.token = 0
        self.seq = 0

    def add(self, req: Req, deadlines: tuple[tuple[float, int], ...]) -> None:
        self.seq += 1
        seq = req.watch = self.seq
        self.live[seq] = req
        for t, kind in deadlines:
            heappush(self.heap, (t, seq, kind))
            if t < self.armed:
                self._arm(t)

    def forget(self, req: Req) -> None:
        if req.watch:
            self.live.pop(req.watch, None)
            req.watch = 0

    def _arm(self, t: float) -> None:
        self.armed = t
        self.token += 1
        self.graph.at(t, self._fire, self.token)

    def _fire(self, ev: Any) -> None:
        if ev._value != self.token:
            return
        now = self.graph.now
        self.armed = INF
        while self.heap:
            t, seq, kind = self.heap[0]
            req = self.live.get(seq)
            if req is None or req.dead or (req.lattice_done if kind == LATTICE else req.client_done):
                heappop(self.heap)
                continue
            if t > now:
                self._arm(t)
                return
            heappop(self.heap)
            self.graph.expire(req, kind)


# a program: at increasing times, a request arrives (with one or two deadlines), or one is
# answered (forget), answered by Lattice only, or dies
step = st.tuples(st.sampled_from(["add1", "add2", "forget", "lattice", "dead"]),
                 st.integers(0, 40),  # which request (by arrival order, modulo those there are)
                 st.integers(1, 30),  # time to the next step, in 0.1 s
                 st.integers(0, 60), st.integers(0, 60))  # deadlines after now, in 0.1 s (ties likely)


def play(watch_cls: Any, program: list[tuple[str, int, int, int, int]]) -> list[tuple[Any, ...]]:
    ev = Events()
    w = watch_cls(ev)
    reqs: list[Req] = []

    def run_until(t: float) -> None:
        while ev.queue and ev.queue[0][0] <= t:
            when, _, fn, token = heappop(ev.queue)
            ev.now = when
            fn(Ev(token))
        ev.now = t

    now = 0.0
    for op, which, gap, d1, d2 in program:
        run_until(now)
        if op.startswith("add"):
            r = Req(len(reqs))
            reqs.append(r)
            if op == "add1":
                w.add(r, ((now + d1 / 10, CLIENT),))
            else:
                w.add(r, ((now + d1 / 10, LATTICE), (now + d2 / 10, CLIENT)))
        elif reqs:
            r = reqs[which % len(reqs)]
            if op == "forget":
                r.lattice_done = r.client_done = True
                w.forget(r)
            elif op == "lattice":
                r.lattice_done = True
            else:
                r.dead = True
        now += gap / 10
    run_until(INF)
    return ev.log


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=80))
def test_the_watch_fires_and_expires_as_the_heap_did(program: list[tuple[str, int, int, int, int]]) -> None:
    assert play(Watch, program) == play(HeapWatch, program)


def test_the_programs_reach_what_matters() -> None:
    # request 0 (deadlines 1.0 and 2.0) is answered at 0.6; request 1's deadline (0.5 + 0.3) expires
    log = play(Watch, [("add2", 0, 5, 10, 20), ("add1", 0, 1, 3, 0), ("forget", 0, 50, 0, 0)])
    assert ("expire", 1, CLIENT, 0.8) in log
    assert not any(e[0] == "expire" and e[1] == 0 for e in log)
    # Lattice's deadline expires first: the caller's then no longer matters, and the watch is not
    # armed for it again (the event at 2.0 the heap would have skipped)
    log = play(Watch, [("add2", 0, 50, 10, 20)])
    assert log == [("at", 1.0), ("expire", 0, LATTICE, 1.0)]
