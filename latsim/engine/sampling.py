"""Block samplers: numpy fills blocks of ``BLOCK`` values, Python takes them one at a time.

``sampler(dist, rng)`` returns a zero-argument callable. For a non-constant distribution it is
the ``__next__`` of a C-level iterator chained over the blocks (``streams.draws``), so a draw
costs no Python frame; the draws are exactly those of ``dist.sample(rng, BLOCK)`` block after
block.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from typing import Any

import numpy as np

from latsim.streams import BLOCK, draws

Draw = Callable[[], float]


def sampler(dist: Any, rng: np.random.Generator) -> Draw:
    """One draw of ``dist`` per call."""
    if type(dist).__name__ == "Constant":
        return repeat(float(dist.mean)).__next__
    return draws(lambda n: np.asarray(dist.sample(rng, n), dtype=float), grow=dist.block_invariant)


def int_sampler(dist: Any, rng: np.random.Generator) -> Callable[[], int]:
    """One draw of ``dist`` per call, truncated to an int as ``int(x)`` would (byte counts)."""
    if type(dist).__name__ == "Constant":
        return repeat(int(float(dist.mean))).__next__

    def block(n: int) -> np.ndarray:
        arr = np.asarray(dist.sample(rng, n), dtype=float)
        if arr.size and float(np.abs(arr).max()) < 2.0**62:
            return arr.astype(np.int64)
        return np.array([int(x) for x in arr.tolist()], dtype=object)
    return draws(block, grow=dist.block_invariant)


END: Any = object()  # returned by WeightedSplit.next when its block is used up: call refill()


class Leg:
    """One target group of one rule, as the engine forwards to it: the group's state (``st``) and
    the requests the rule forwarded to it after the warm-up (``hits``; ``Simulation.settle``
    hands them to the recorder), the critical-path keys of calls it serves (``keys``). A split gives
    legs, not names: no lookup per request."""

    __slots__ = ("name", "st", "hits", "keys")

    def __init__(self, name: str, st: Any) -> None:
        self.name = name
        self.st = st
        self.hits = 0
        self.keys: tuple[str, str, str, str] | None = None  # a call's critical-path keys (CallGraph.crit_keys)


class WeightedSplit:
    """The target group chosen for each request of one rule, as its ``Leg`` (``leg(name)``; None
    when no group is chosen): the uniforms of the rule's split stream mapped by
    ``ActionState.pick_many`` a block at a time (the values and the law of ``ActionState.pick``,
    without a Python call per request).

    ``next()`` is a C-level list iterator; it returns ``END`` when the block is used up, and then
    ``refill()`` gives the choice. An action with at most one target group draws nothing (its
    choice is a constant). A weight change maps the rest of the block again, from where it is."""

    __slots__ = ("action", "rng", "leg", "u", "it", "next")

    def __init__(self, action: Any, rng: np.random.Generator, leg: Callable[[str], Leg]) -> None:
        self.action = action
        self.rng = rng
        self.leg = leg
        self.u: np.ndarray = np.empty(0)  # the uniforms not consumed before the last (re)mapping
        self.it: Any = None  # the iterator over the mapped block (None: a constant choice)
        self.next: Callable[[], Any] = iter((END,)).__next__
        action.listeners.append(self.remap)
        self.remap()

    def _consumed(self) -> int:
        """Uniforms of ``self.u`` already handed out by the current iterator."""
        if self.it is None:
            return 0
        left = self.it.__length_hint__() - 1  # the END marker is not a draw
        return max(0, len(self.u) - left)

    def remap(self) -> None:
        """Weights changed (or a new block): map the uniforms still unconsumed."""
        rest = self.u[self._consumed():] if len(self.u) else self.u
        self.u = rest
        action = self.action
        if len(action.names) <= 1:  # no draw: a constant choice; the unconsumed uniforms wait
            self.it = None
            name = action.pick(0.0)
            self.next = repeat(None if name is None else self.leg(name)).__next__
            return
        self.it = iter(action.pick_many(rest, [self.leg(n) for n in action.names]) + [END])
        self.next = self.it.__next__

    def refill(self) -> Any:
        """The current block is used up: draw the next one and return its first choice."""
        self.u = self.rng.random(BLOCK)
        self.it = None
        self.remap()
        return self.next()
