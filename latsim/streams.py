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
from array import array
from collections.abc import Callable, Iterable
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


PIECE = 256  # values of a block of other numbers (not doubles nor 64-bit ints) made Python objects at a time
FIRST = 64  # the first block of a stream whose values do not depend on the block sizes


def draws(fill: Callable[[int], np.ndarray], *, grow: bool = False) -> Callable[[], Any]:
    """The values of ``fill(BLOCK)``, block after block, one per call: the ``__next__`` of a
    C-level iterator, so a draw costs no Python frame.

    A block of doubles or 64-bit ints is read through a typed ``array`` (``_python``): each draw
    becomes a Python number as it is read (from the allocator's free list, hot in cache), not
    when the block is made (a list of Python floats: 32 bytes a value where the array holds 8,
    cold by the time a slow client reads it, and a container the cyclic collector walks value by
    value). With ``grow`` (allowed only when ``fill(a)`` then ``fill(b)`` equals ``fill(a + b)``:
    the same values) the blocks start at ``FIRST`` values and double up to ``GROWN``: a stream
    that is barely used — thousands of targets and clients each hold several — then costs a few
    hundred bytes, not ``BLOCK`` values."""
    sizes = chain(_GROWTH, repeat(GROWN)) if grow else repeat(BLOCK)
    return chain.from_iterable(map(_python, map(fill, sizes))).__next__


_TYPECODES = {np.dtype(np.float64): "d", np.dtype(np.int64): "q"}


def _python(block: np.ndarray) -> Iterable[Any]:
    """A block as Python numbers, in order: a typed ``array`` (the same doubles or ints) where
    there is one for its type, else lists of ``PIECE`` values made as they are reached."""
    code = _TYPECODES.get(block.dtype)
    if code is not None:
        return array(code, block.tobytes())
    return chain.from_iterable(block[i:i + PIECE].tolist() for i in range(0, len(block), PIECE))


GROWN = 1024  # the largest block of a growing stream (its values do not depend on it)
_GROWTH = tuple(FIRST << k for k in range(BLOCK.bit_length()) if FIRST << k < GROWN)
