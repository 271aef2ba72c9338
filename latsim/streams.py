"""Named random streams derived from the run seed.

Every component draws from its own stream, named after what it is (``client/storefront/arrival``,
``target/checkout-v1/i-0a/service``, ``split/checkout/https/api``). A stream's numbers depend only
on the run seed and its name, so the same seed gives byte-identical results and changing one
client does not reshuffle the draws of another (common random numbers for A/B comparisons).
Draws are made in numpy blocks; where a distribution's values depend on the block size, that
size (``BLOCK``) is part of the stream definition. The engine and the workload both draw from
here, so this module sits below both of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import chain, repeat
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
    """``fill(n)`` block after block, one value per call (``rng.random`` and
    ``rng.standard_exponential`` give the same values whatever the block sizes)."""
    return draws(fill, grow=True)


PIECE = 256  # values turned into Python objects at a time
FIRST = 64  # the first block of a stream whose values do not depend on the block sizes


def draws(fill: Callable[[int], np.ndarray], *, grow: bool = False) -> Callable[[], Any]:
    """The values of ``fill(BLOCK)``, block after block, one per call: the ``__next__`` of a
    C-level iterator, so a draw costs no Python frame.

    A block becomes Python numbers ``PIECE`` values at a time, and with ``grow`` (allowed only
    when ``fill(a)`` then ``fill(b)`` equals ``fill(a + b)``: the same values) the blocks start at
    ``FIRST`` values and double up to ``GROWN``. A stream that is barely used — thousands of
    targets and clients each hold several — then costs a few hundred bytes, not 4 096 numpy
    values and their Python floats (130 KB); a busy one holds at most ``GROWN`` numpy values (8 KB,
    where ``BLOCK`` would be 32 KB: REF-1 as 200 clients has some 1 000 busy streams)."""
    sizes = chain(_GROWTH, repeat(GROWN)) if grow else repeat(BLOCK)
    pieces = chain.from_iterable(map(_split, map(fill, sizes)))
    return chain.from_iterable(map(np.ndarray.tolist, pieces)).__next__


GROWN = 1024  # the largest block of a growing stream (its values do not depend on it)
_GROWTH = tuple(FIRST << k for k in range(BLOCK.bit_length()) if FIRST << k < GROWN)


def _split(arr: np.ndarray) -> list[np.ndarray]:
    return [arr[i:i + PIECE] for i in range(0, len(arr), PIECE)]
