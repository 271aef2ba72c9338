"""Open-loop arrival processes: each gives the absolute time of the next arrival.

Time-varying rates (ramp, stages, steps, diurnal, bursts) are non-homogeneous Poisson processes
drawn by thinning (Lewis and Shedler): candidates at the peak rate, each kept with probability
rate(t) / peak. ``set_rate`` on the timeline scales a process by a factor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from latsim.streams import Streams

INF = float("inf")


class Arrivals:
    """Base: ``next(now)`` -> absolute time of the next arrival, or inf when there is none."""

    scale = 1.0

    def next(self, now: float) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def set_rate(self, rate: float) -> None:
        base = self.base_rate()
        self.scale = rate / base if base > 0 else 0.0

    def base_rate(self) -> float:
        return 1.0


class Poisson(Arrivals):
    def __init__(self, rate: float, streams: Streams, name: str) -> None:
        self.rate = rate
        self.exp = streams.exponential(f"{name}/arrival")

    def base_rate(self) -> float:
        return self.rate

    def set_rate(self, rate: float) -> None:
        self.rate = rate

    def next(self, now: float) -> float:
        if self.rate <= 0:
            return INF
        return now + self.exp() / self.rate


class Constant(Arrivals):
    def __init__(self, rate: float, streams: Streams, name: str) -> None:
        self.rate = rate
        # a random phase so that many constant-rate clients do not arrive in lock step
        self.phase = streams.uniform(f"{name}/arrival")() / rate if rate > 0 else 0.0
        self.first = True

    def base_rate(self) -> float:
        return self.rate

    def set_rate(self, rate: float) -> None:
        self.rate = rate

    def next(self, now: float) -> float:
        if self.rate <= 0:
            return INF
        if self.first:
            self.first = False
            return now + self.phase
        return now + 1.0 / self.rate


class Thinned(Arrivals):
    """A Poisson process of rate ``fn(t)`` (bounded by ``peak``) by thinning."""

    def __init__(self, fn: Callable[[float], float], peak: float, streams: Streams, name: str) -> None:
        self.fn = fn
        self.peak = peak
        self.exp = streams.exponential(f"{name}/arrival")
        self.u = streams.uniform(f"{name}/thinning")
        self._base = peak

    def base_rate(self) -> float:
        return self._base

    def next(self, now: float) -> float:
        peak = self.peak * self.scale
        if peak <= 0:
            return INF
        t = now
        for _ in range(1_000_000):
            t += self.exp() / peak
            if self.u() * peak <= self.fn(t) * self.scale:
                return t
        return INF


def piecewise_linear(points: list[tuple[float, float]]) -> Callable[[float], float]:
    """Rate through (t, rate) points, linear in between, constant after the last."""
    def fn(t: float) -> float:
        if t <= points[0][0]:
            return points[0][1]
        for (t0, r0), (t1, r1) in zip(points, points[1:], strict=False):
            if t <= t1:
                return r0 + (r1 - r0) * (t - t0) / (t1 - t0) if t1 > t0 else r1
        return points[-1][1]
    return fn


class Bursts(Arrivals):
    """A two-state MMPP: ``rate`` while on, ``base`` while off; on/off periods exponential
    (or fixed when ``random`` is false)."""

    def __init__(self, spec: Any, streams: Streams, name: str) -> None:
        self.spec = spec
        self.exp = streams.exponential(f"{name}/arrival")
        self.switch = streams.exponential(f"{name}/bursts")
        self.on = True
        self.until = self._period(True)

    def base_rate(self) -> float:
        s = self.spec
        return (s.rate * s.on + s.base * s.off) / (s.on + s.off)

    def _period(self, on: bool) -> float:
        mean = self.spec.on if on else self.spec.off
        return mean * self.switch() if self.spec.random else mean

    def next(self, now: float) -> float:
        t = now
        while True:
            while t >= self.until:
                self.on = not self.on
                self.until += self._period(self.on)
            rate = (self.spec.rate if self.on else self.spec.base) * self.scale
            if rate > 0:
                cand = t + self.exp() / rate
                if cand < self.until:
                    return cand
            t = self.until
            if t == INF:
                return INF


def make_arrivals(arrival: Any, streams: Streams, name: str) -> Arrivals | None:
    """The arrival model of a client (None for closed-loop and replay, handled by the engine)."""
    kind = arrival.kind
    if kind == "poisson":
        return Poisson(arrival.poisson, streams, name)
    if kind == "constant":
        return Constant(arrival.constant, streams, name)
    if kind == "ramp":
        r = arrival.ramp
        fn = piecewise_linear([(0.0, r.start), (r.over, r.to)])
        return Thinned(fn, max(r.start, r.to), streams, name)
    if kind == "stages":
        pts = [(0.0, 0.0)]
        t = 0.0
        for st in arrival.stages:
            t += st.duration
            pts.append((t, st.target))
        return Thinned(piecewise_linear(pts), max(p[1] for p in pts), streams, name)
    if kind == "steps":
        steps = sorted(arrival.steps, key=lambda s: s.at)

        def step_fn(t: float) -> float:
            rate = 0.0
            for s in steps:
                if t >= s.at:
                    rate = s.rate
            return rate
        return Thinned(step_fn, max(s.rate for s in steps), streams, name)
    if kind == "diurnal":
        d = arrival.diurnal
        amp = d.peak - d.mean

        def diurnal_fn(t: float) -> float:
            return max(0.0, d.mean + amp * math.cos(2 * math.pi * (t - d.phase) / d.period))
        return Thinned(diurnal_fn, max(d.peak, 2 * d.mean - d.peak, d.mean), streams, name)
    if kind == "bursts":
        return Bursts(arrival.bursts, streams, name)
    return None
