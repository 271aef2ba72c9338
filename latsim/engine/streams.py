"""Named random streams derived from the run seed.

Every component draws from its own stream, named after what it is (``client/storefront/arrival``,
``target/checkout-v1/i-0a/service``, ``split/checkout/https/api``). A stream's numbers depend only
on the run seed and its name, so the same seed gives byte-identical results and changing one
client does not reshuffle the draws of another (common random numbers for A/B comparisons).
Draws are made in numpy blocks; the block size is part of the stream definition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import chain, repeat
from operator import call
from typing import Any

import numpy as np

BLOCK = 4096


def stream_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


class Streams:
    """Factory of independent numpy Generators, one per name, for one run seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._made: set[str] = set()

    def rng(self, name: str) -> np.random.Generator:
        if name in self._made:
            raise ValueError(f"random stream {name!r} requested twice: two components would share draws")
        self._made.add(name)
        ss = np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name),))
        return np.random.Generator(np.random.PCG64(ss))

    def uniform(self, name: str) -> Callable[[], float]:
        """Uniform [0, 1) draws, one per call."""
        return _blocks(self.rng(name).random)

    def exponential(self, name: str) -> Callable[[], float]:
        """Standard exponential draws (mean 1), one per call."""
        return _blocks(self.rng(name).standard_exponential)


def _blocks(fill: Callable[[int], np.ndarray]) -> Callable[[], float]:
    """``fill(BLOCK)`` block after block, one value per call."""
    return draws(lambda: fill(BLOCK))


PIECE = 256  # values turned into Python objects at a time


def draws(block: Callable[[], np.ndarray]) -> Callable[[], Any]:
    """The values of ``block()``, block after block, one per call: the ``__next__`` of a C-level
    iterator, so a draw costs no Python frame. A block becomes Python numbers ``PIECE`` values at
    a time: a stream that is barely used holds one numpy block (32 KB) and one small list, not
    4 096 Python floats (130 KB) — it matters with thousands of targets and clients."""
    pieces = chain.from_iterable(map(_split, map(call, repeat(block))))
    return chain.from_iterable(map(np.ndarray.tolist, pieces)).__next__


def _split(arr: np.ndarray) -> list[np.ndarray]:
    return [arr[i:i + PIECE] for i in range(0, len(arr), PIECE)]
