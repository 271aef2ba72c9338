"""The merged Poisson feed gives exactly the arrivals of one heap entry per arrival.

``PoissonFeed`` generates each open-loop Poisson client's arrival times a block at a time and
merges the clients by windows; the reference below is the scalar process the engine used
before (``Poisson.next`` per arrival, a heap across clients, a rate change dropping the pending
arrival and drawing the next from the time of the change). Same seed, same times, same owners,
through rate changes (to 0 and back) and window and block boundaries.
"""

from __future__ import annotations

import heapq
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latsim.engine import feed as feed_mod
from latsim.engine.feed import PoissonFeed
from latsim.streams import Streams
from latsim.workload.arrivals import Poisson

rates = st.floats(min_value=0.5, max_value=400.0)


def clients(seed: int, rs: list[float]) -> list[Any]:
    streams = Streams(seed)
    return [SimpleNamespace(name=f"c{k}", arrivals=Poisson(r, streams, f"client/c{k}")) for k, r in enumerate(rs)]


def reference(seed: int, rs: list[float], changes: list[tuple[float, int, float]], duration: float) -> list[Any]:
    cs = clients(seed, rs)
    gen = [0] * len(cs)
    heap: list[tuple[float, int, int, int]] = []
    seq = 0

    def push(k: int, t: float) -> None:
        nonlocal seq
        if t < duration:
            seq += 1
            heapq.heappush(heap, (t, seq, k, gen[k]))
    for k, c in enumerate(cs):
        push(k, c.arrivals.next(0.0))
    out = []
    pending = sorted(changes)
    while heap or pending:
        if pending and (not heap or pending[0][0] < heap[0][0]):
            at, k, r = pending.pop(0)
            cs[k].arrivals.set_rate(r)
            gen[k] += 1
            push(k, cs[k].arrivals.next(at))
            continue
        t, _, k, g = heapq.heappop(heap)
        if g != gen[k]:
            continue
        out.append((t, k))
        push(k, cs[k].arrivals.next(t))
    return out


def merged(seed: int, rs: list[float], changes: list[tuple[float, int, float]], duration: float) -> list[Any]:
    cs = clients(seed, rs)
    f = PoissonFeed(cs, duration)
    index = {id(c): k for k, c in enumerate(cs)}
    out = []
    pending = sorted(changes)
    while True:
        t = f.peek()
        if pending and pending[0][0] < t:
            at, k, r = pending.pop(0)
            cs[k].arrivals.set_rate(r)
            f.restart(cs[k], at)
            continue
        if t == float("inf"):
            return out
        out.append((t, index[id(f.owners[f.i])]))
        f.i += 1


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=2**31), st.lists(rates, min_size=1, max_size=5),
       st.lists(st.tuples(st.floats(min_value=0.0, max_value=20.0), st.integers(min_value=0, max_value=4),
                          st.one_of(st.just(0.0), rates)), max_size=6),
       st.booleans())
def test_feed_equals_one_heap_entry_per_arrival(seed: int, rs: list[float], changes: list[Any], small: bool) -> None:
    changes = [(at, k % len(rs), r) for at, k, r in changes]
    with pytest.MonkeyPatch.context() as mp:
        if small:  # many windows and blocks
            mp.setattr(feed_mod, "WINDOW", 37)
            mp.setattr(feed_mod, "CHUNK", 5)
        got = merged(seed, rs, changes, 20.0)
    assert got == reference(seed, rs, changes, 20.0)


def test_feed_is_not_vacuous() -> None:
    got = merged(3, [50.0, 5.0], [(2.0, 0, 0.0), (4.0, 0, 500.0)], 10.0)
    first = [t for t, k in got if k == 0]
    assert not any(2.0 <= t < 4.0 for t in first)  # rate 0 between the changes
    assert sum(1 for t in first if t >= 4.0) > 2000  # then 500/s
    assert got == sorted(got)
