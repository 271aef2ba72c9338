"""The arrivals of the open-loop Poisson clients, merged a window at a time.

A Poisson client's arrival times are ``t_k = t_(k-1) + e_k / rate``, with ``e_k`` the client's own
standard-exponential stream. Instead of a heap entry per arrival (a tuple, a draw and a
``heapreplace`` for each), every client's times are generated a block at a time with the same
recurrence (``numpy.cumsum`` adds left to right: the same doubles as the scalar loop) and the
clients' times below a horizon are merged by one stable ``argsort``. The engine's pump then reads
the window as two plain lists.

A rate change (``restart``) follows the scalar semantics exactly: the client's pending arrival is
dropped (its draw is spent), the draws it had already made for later arrivals are kept, in order,
for the arrivals at the new rate, which start from the time of the change; a rate of 0 draws
nothing. Ties between clients at exactly the same time go to the client listed first.
"""

from __future__ import annotations

import math
from itertools import islice
from typing import Any

import numpy as np

WINDOW = 4096  # arrivals per merged window (about; more with many clients: see next_window)
CHUNK = 64  # smallest block of times generated for one client


class _Client:
    """One Poisson client's generated but not yet merged arrival times, and their draws."""

    __slots__ = ("cs", "arrivals", "draws", "ts", "es", "p", "base", "spare")

    def __init__(self, cs: Any) -> None:
        self.cs = cs
        self.arrivals = cs.arrivals
        exp = cs.arrivals.exp  # the client's standard-exponential stream
        # read as the iterator it is the ``__next__`` of (``streams.draws``), the same state without
        # a call per value; any other callable through ``iter``
        it = getattr(exp, "__self__", None)
        self.draws = it if it is not None and getattr(it, "__next__", None) == exp else iter(exp, None)
        self.ts = np.empty(0)  # generated arrival times; those before index p are merged
        self.es = np.empty(0)  # the draw behind each time
        self.p = 0
        self.base = 0.0  # the last generated time (or of the rate change): the next gap starts there
        self.spare = np.empty(0)  # draws made but not used yet (kept over a rate change)

    def generate(self, horizon: float) -> None:
        """Extend the times until one is at or beyond ``horizon`` (nothing at a rate of 0)."""
        rate = self.arrivals.rate
        if rate <= 0:
            return
        while len(self.ts) == self.p or self.ts[-1] < horizon:
            last = self.base
            # about four windows' worth at a time: a generation's few numpy calls are paid once
            # for four windows (the same times: each block continues from the last exact time)
            need = (horizon - last) * rate * 4.0 if horizon > last else 0.0
            k = max(CHUNK, int(math.ceil(min(need, 1e7))) + 1)
            fresh = max(0, k - len(self.spare))
            es = self.spare[:k]
            if fresh:
                es = np.concatenate((es, np.fromiter(islice(self.draws, fresh), dtype=float, count=fresh)))
            self.spare = self.spare[k:]
            ts = np.cumsum(np.concatenate(((last,), es / rate)))[1:]
            self.ts = np.concatenate((self.ts[self.p:], ts))
            self.es = np.concatenate((self.es[self.p:], es))
            self.p = 0
            self.base = float(ts[-1])

    def restart(self, now: float) -> None:
        """The rate changed at ``now``: drop the pending arrival, keep the later draws."""
        if len(self.ts) > self.p:
            self.spare = np.concatenate((self.es[self.p + 1:], self.spare))
        self.ts = self.ts[:0]
        self.es = self.es[:0]
        self.p = 0
        self.base = now


class PoissonFeed:
    """The merged arrivals of the open-loop Poisson clients, a window at a time.

    ``times[i]`` and ``owners[i]`` (a ``ClientState``) are the window's arrivals in time order;
    the pump consumes them from ``i``. ``next_window`` builds the next one."""

    def __init__(self, clients: list[Any], duration: float) -> None:
        """Start the clients at time 0: each draws its first gap, as the scalar process does."""
        self.clients = [_Client(cs) for cs in clients]
        for c in self.clients:
            c.generate(-math.inf)
        self.by_cs = {id(c.cs): c for c in self.clients}
        self.duration = duration
        self.times: list[float] = []
        self.owners: list[Any] = []
        self.index: np.ndarray = np.empty(0, dtype=np.int64)  # client index of each window entry
        self.i = 0
        self._owner_objs = np.empty(len(self.clients), dtype=object)
        for k, c in enumerate(self.clients):
            self._owner_objs[k] = c.cs

    def next_window(self) -> bool:
        """Merge the next window; False when no client has an arrival before the end of the run."""
        self.times, self.owners, self.index, self.i = [], [], self.index[:0], 0
        clients = self.clients
        for c in clients:  # every client knows its next arrival
            if c.p == len(c.ts):
                c.generate(-math.inf)
        start = min([float(c.ts[c.p]) for c in clients if len(c.ts) > c.p], default=math.inf)
        if start >= self.duration:
            return False
        total = sum(max(0.0, c.arrivals.rate) for c in clients)
        # at least past the first arrival (so that the window is never empty), at most the end
        # a window holds at least CHUNK arrivals per client on average, 4 CHUNK up to 16 WINDOW
        # (65 536 arrivals, 2.5 MB of lists): each client's share of the merge costs a few numpy
        # calls, whatever its size (200 clients at 0.5 req/s: 3.8 % of the run's instructions less
        # with 4 CHUNK than with CHUNK)
        n = len(clients)
        span = max(WINDOW, CHUNK * n, min(4 * CHUNK * n, 16 * WINDOW)) / total if total > 0 else self.duration
        horizon = min(max(start + span, float(np.nextafter(start, math.inf))), self.duration)
        parts, counts = [], []
        for c in clients:
            ts = c.ts
            p = c.p
            if p == len(ts) or ts[-1] < horizon:  # (generate's own test: a call less per client)
                c.generate(horizon)
                ts, p = c.ts, c.p
            # the times before p were merged, below an earlier horizon: the first at or beyond
            # this one is at p or later
            m = int(ts.searchsorted(horizon, side="left")) - p
            if m > 0:
                parts.append(ts[p:p + m])
                c.p = p + m
            counts.append(max(m, 0))
        ts = np.concatenate(parts)
        idx = np.repeat(np.arange(len(clients), dtype=np.int64), counts)
        order = np.argsort(ts, kind="stable")
        self.index = idx[order]
        self.times = ts[order].tolist()
        self.owners = self._owner_objs[self.index].tolist()
        return True

    def restart(self, cs: Any, now: float) -> None:
        """``cs`` changed rate at ``now``: hand the window's unconsumed arrivals back to their
        clients (the window is rebuilt on the next read) and restart ``cs``."""
        rest = self.index[self.i:]
        if len(rest):
            back = np.bincount(rest, minlength=len(self.clients))
            for k, c in enumerate(self.clients):
                c.p -= int(back[k])
        self.times, self.owners, self.index, self.i = [], [], self.index[:0], 0
        self.by_cs[id(cs)].restart(now)

    def peek(self) -> float:
        """The time of the next arrival (inf if none), building a window if needed."""
        if self.i >= len(self.times) and not self.next_window():
            return math.inf
        return self.times[self.i]
