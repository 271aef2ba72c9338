"""Block samplers: one Python call per draw, numpy fills the blocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from latsim.engine.streams import BLOCK


class Sampler:
    """Draw one value of ``dist`` per call from blocks of ``BLOCK`` values."""

    __slots__ = ("dist", "rng", "buf", "i", "const")

    def __init__(self, dist: Any, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0
        mean = getattr(dist, "mean", None)
        self.const = mean if type(dist).__name__ == "Constant" else None

    def __call__(self) -> float:
        if self.const is not None:
            return self.const
        i = self.i
        buf = self.buf
        if i >= len(buf):
            buf = self.buf = self.dist.sample(self.rng, BLOCK).tolist()
            i = 0
        self.i = i + 1
        return buf[i]


def constant(value: float) -> Callable[[], float]:
    return lambda: value
