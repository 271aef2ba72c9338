"""Block samplers: numpy fills blocks of ``BLOCK`` values, Python takes them one at a time.

``sampler(dist, rng)`` returns a zero-argument callable. For a non-constant distribution it is
the ``__next__`` of a C-level iterator chained over the blocks, so a draw costs no Python frame;
the draws are exactly those of ``dist.sample(rng, BLOCK)`` block after block.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, repeat
from typing import Any

import numpy as np

from latsim.engine.streams import BLOCK

Draw = Callable[[], float]


def sampler(dist: Any, rng: np.random.Generator) -> Draw:
    """One draw of ``dist`` per call."""
    if type(dist).__name__ == "Constant":
        return repeat(float(dist.mean)).__next__
    blocks = iter(lambda: dist.sample(rng, BLOCK).tolist(), None)
    return chain.from_iterable(blocks).__next__


def int_sampler(dist: Any, rng: np.random.Generator) -> Callable[[], int]:
    """One draw of ``dist`` per call, truncated to an int as ``int(x)`` would (byte counts)."""
    if type(dist).__name__ == "Constant":
        return repeat(int(float(dist.mean))).__next__

    def block() -> list[int]:
        arr = np.asarray(dist.sample(rng, BLOCK), dtype=float)
        if arr.size and float(np.abs(arr).max()) < 2.0**62:
            return arr.astype(np.int64).tolist()
        return [int(x) for x in arr.tolist()]
    return chain.from_iterable(iter(block, None)).__next__


def constant_of(dist: Any) -> float | None:
    """The value of a constant distribution, else None (lets callers skip a draw)."""
    return float(dist.mean) if type(dist).__name__ == "Constant" else None


