"""Distributions: one interface for every latency, think-time and size draw.

A scenario writes a distribution in a small vocabulary (durations carry units)::

    5ms                                        # a bare value is a constant
    {constant: 5ms}
    {exponential: {mean: 10ms}}
    {lognormal: {median: 18ms, sigma: 0.5}}    # or any two of median, mean, p99, sigma
    {gamma: {mean: 20ms, cv: 0.7}}
    {weibull: {scale: 20ms, shape: 1.5}}
    {uniform: {low: 5ms, high: 15ms}}
    {normal: {mean: 20ms, sd: 5ms}}            # conditioned on >= 0 (resampled, not clipped)
    {empirical: {samples: [12ms, 15ms, 40ms]}} # resampled uniformly
    {empirical: {p50: 12ms, p90: 30ms, p99: 80ms}}
    {mixture: [{weight: 0.95, of: {...}}, {weight: 0.05, of: {...}}]}
    {shifted: {by: 2ms, of: {...}}}            # what ``d.shifted(0.002)`` writes back

``parse_distribution(spec, kind=...)`` turns it into an immutable ``Distribution``. ``kind`` says
what the values are: ``"duration"`` (unit strings such as ``"18ms"`` → seconds; a bare number
other than 0 is refused as ambiguous), ``"size"`` (``"2KB"`` or a number of bytes → bytes, kept
as floats) or ``"number"`` (plain numbers). Every distribution lives on [0, ∞): negative values
are refused.

Solvable lognormal pairs (z = Φ⁻¹(0.99) ≈ 2.326): any two of ``median``, ``mean``, ``p99``,
``sigma``. ``median + p99`` needs p99 > median; ``median + mean`` needs mean > median;
``mean + p99`` needs mean < p99 ≤ exp(z²/2)·mean ≈ 14.97·mean. (ln(p99/mean) = z·σ − σ²/2 has
two roots for σ; we take the one with σ ≤ z, on which p99/mean grows with σ. A p99 below the
mean would need σ > 2z, a pathological tail, and is refused.)

Empirical percentiles: the inverse CDF is piecewise linear through (0, 0) (or the given ``p0``)
and the given points. Beyond the last point p_k (unless it is ``p100``) the tail is exponential,
x(q) = x_k + θ·ln((1 − q_k)/(1 − q)) with θ = slope of the last segment × (1 − q_k), so the
density is continuous at p_k and the tail is unbounded but light. Give ``p100`` to cap it.

Errors raise ``DistributionError`` (a ``ValueError`` and a ``LatsimError``) with ``.path``, the
position of the bad item *relative to the distribution spec* (e.g. ``("lognormal", "sigma")`` or
``("mixture", 1, "of", "gamma", "cv")``), ``.message``, ``.allowed`` and ``.hint`` (a "did you
mean" suggestion for a misspelt family or parameter).

Pydantic fields: ``DistributionField`` (durations), ``SizeDistributionField`` and
``NumberDistributionField`` validate with ``parse_distribution``, serialise with ``to_spec`` and
publish a JSON schema of the vocabulary. A bad spec raises, inside pydantic's
``ValidationError``, one error of ``type == "distribution"`` whose ``loc`` is the field's
location and whose ``ctx`` holds ``path`` (dotted relative path, e.g. ``"lognormal.sigma"`` or
``"mixture[1].of"``; ``""`` at the root), ``path_parts`` (the tuple), ``message``, ``allowed``
and ``hint`` (``""`` when none). Its ``msg`` reads ``"{path}: {message} ({allowed}); {hint}"``
(parts left out when empty). A scenario loader builds the full location as
``loc + ctx["path_parts"]`` and uses ``message``/``allowed``/``hint`` for its ``Problem``.

Sampling is vectorised (``sample(rng, n)``); the engine draws one value at a time through
``BlockSampler``, which pre-draws blocks of 4096. The block size is part of the random-stream
definition: mixtures and the truncated normal consume the generator differently for different
block sizes, so keep it fixed (the default) wherever results must be reproducible.
"""

from __future__ import annotations

import itertools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from latsim.errors import LatsimError, Location, suggest
from latsim.units import (
    DURATION_ALLOWED,
    SIZE_ALLOWED,
    format_duration,
    parse_duration,
    parse_size,
)

if TYPE_CHECKING:
    import numpy as np
else:
    class _LazyNumpy:
        """numpy, imported when a distribution first draws or summarises: reading and validating a
        scenario (``latsim validate``) needs none of it."""

        def __getattr__(self, name: str) -> Any:
            import numpy
            globals()["np"] = numpy  # later uses find the module itself
            return getattr(numpy, name)

    np = _LazyNumpy()

__all__ = [
    "BlockSampler",
    "Constant",
    "Distribution",
    "DistributionError",
    "DistributionField",
    "EmpiricalPercentiles",
    "EmpiricalSamples",
    "Exponential",
    "Gamma",
    "Kind",
    "LogNormal",
    "Mixture",
    "Normal",
    "NumberDistributionField",
    "Shifted",
    "SizeDistributionField",
    "Uniform",
    "Weibull",
    "distribution_json_schema",
    "parse_distribution",
]

Kind = Literal["duration", "size", "number"]
KINDS: tuple[str, ...] = ("duration", "size", "number")
Path = tuple[str | int, ...]

_STD = NormalDist()
Z99 = _STD.inv_cdf(0.99)

FAMILIES_ALLOWED = (
    "a value (constant) or a mapping with one key: constant, exponential, lognormal, gamma, "
    "weibull, uniform, normal, empirical, mixture or shifted"
)


class DistributionError(LatsimError, ValueError):
    """A distribution spec that cannot be used; ``path`` is relative to the spec."""

    def __init__(self, message: str, *, path: Sequence[str | int] = (), allowed: str = "",
                 hint: str | None = None) -> None:
        self.path: Path = tuple(path)
        self.message = message
        self.allowed = allowed
        self.hint = hint
        super().__init__(message, location=Location(path=dotted_path(self.path)), hint=hint,
                         allowed=allowed or None)

    def to_pydantic(self) -> Exception:
        """This error as a ``PydanticCustomError`` (see the module docstring)."""
        from pydantic_core import PydanticCustomError

        template = "{path}: " if self.path else ""
        template += "{message} ({allowed})" if self.allowed else "{message}"
        if self.hint:
            template += "; {hint}"
        ctx = {"path": dotted_path(self.path), "path_parts": self.path, "message": self.message,
               "allowed": self.allowed, "hint": self.hint or ""}
        return PydanticCustomError("distribution", template, ctx)


def dotted_path(path: Sequence[str | int]) -> str:
    """``("mixture", 1, "of")`` -> ``"mixture[1].of"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# --------------------------------------------------------------------------------------------
# Value formatting (to_spec, describe)


def _spec_value(x: float, kind: str) -> str | int | float:
    """A value written back so that parsing it again gives exactly ``x``."""
    if kind == "duration":
        # format_duration rounds to 6 digits; fall back to exact reprs, milliseconds first.
        candidates = [format_duration(x)]
        if 1e-3 <= abs(x) < 1:
            candidates.append(f"{x * 1e3!r}ms")
        for text in candidates:
            if parse_duration(text) == x:
                return text
        return f"{x!r}s"
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


def _show(x: float, kind: str) -> str:
    """A short human rendering (3 significant digits)."""
    if math.isinf(x):
        return "inf"
    if kind == "duration":
        a = abs(x)
        if a == 0:
            return "0s"
        if a < 1e-3:
            return f"{x * 1e6:.3g}us"
        if a < 1:
            return f"{x * 1e3:.3g}ms"
        if a < 120:
            return f"{x:.3g}s"
        return f"{x / 60:.3g}m"
    if kind == "size":
        for unit, factor in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
            if abs(x) >= factor:
                return f"{x / factor:.3g}{unit}"
        return f"{x:.3g}B"
    return f"{x:.4g}"


def _check_q(q: float) -> float:
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level must be in [0, 1], got {q}")
    return q


def _number_arg(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number")
    x = float(value)
    if not math.isfinite(x):
        raise DistributionError(f"{what} must be finite, got {x}", allowed="a finite number")
    return x


# --------------------------------------------------------------------------------------------
# The interface


class Distribution(ABC):
    """A non-negative random quantity; immutable, comparable, round-trips through its spec."""

    __slots__ = ()
    __array_ufunc__ = None  # so that ``np.float64(2) * d`` defers to ``d.__rmul__``
    # True when ``sample(rng, a)`` then ``sample(rng, b)`` gives exactly ``sample(rng, a + b)``:
    # the engine may then draw small blocks first (``tests/test_streams.py`` checks each claim)
    block_invariant: ClassVar[bool] = False

    kind: str

    @property
    @abstractmethod
    def mean(self) -> float:
        """The exact mean."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws as a float64 array (vectorised)."""

    @abstractmethod
    def quantile(self, q: float) -> float:
        """The inverse CDF at level ``q`` in [0, 1] (smallest x with P(X <= x) >= q)."""

    @abstractmethod
    def cdf(self, x: float) -> float:
        """P(X <= x)."""

    @abstractmethod
    def to_spec(self) -> Any:
        """The spec (plain data) that ``parse_distribution`` turns back into an equal object."""

    @abstractmethod
    def describe(self) -> str:
        """A short human description, e.g. ``lognormal median 18ms sigma 0.5``."""

    @property
    def support_min(self) -> float:
        """The smallest value the distribution can produce."""
        return 0.0

    @abstractmethod
    def _scaled(self, factor: float) -> Distribution: ...

    def _shifted(self, offset: float) -> Distribution:
        return Shifted(self, offset)

    def scaled(self, factor: float) -> Distribution:
        """The distribution of ``factor * X`` (``factor > 0``); stays in the same family."""
        f = _number_arg(factor, "a scale factor")
        if f <= 0:
            raise DistributionError(f"a scale factor must be > 0, got {f}", allowed="a positive number")
        return self if f == 1.0 else self._scaled(f)

    def shifted(self, offset: float) -> Distribution:
        """The distribution of ``X + offset`` (offset in seconds, bytes or plain units).

        A negative offset is allowed as long as every value stays non-negative.
        """
        o = _number_arg(offset, "an offset")
        if abs(o) < 1e-15:  # below a femtosecond (or byte): no shift that a unit can even write
            return self
        if self.support_min + o < 0:
            raise DistributionError(
                f"shifting by {_show(o, self.kind)} would make values negative "
                f"(smallest value {_show(self.support_min, self.kind)})",
                allowed="an offset no smaller than minus the smallest value")
        return self._shifted(o)

    def sampler(self, rng: np.random.Generator, block: int = 4096) -> BlockSampler:
        """A ``BlockSampler`` drawing from this distribution."""
        return BlockSampler(self, rng, block)

    def __mul__(self, other: object) -> Distribution:
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return self.scaled(float(other))
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Distribution:
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return self.scaled(1.0 / float(other))
        return NotImplemented

    def __add__(self, other: object) -> Distribution:
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return self.shifted(float(other))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Distribution:
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return self.shifted(-float(other))
        return NotImplemented

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        # A bare ``Distribution`` annotation accepts instances; the *Field aliases parse specs first.
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(source if isinstance(source, type) else Distribution)


# --------------------------------------------------------------------------------------------
# Families


@dataclass(frozen=True, slots=True)
class Constant(Distribution):
    """Always ``value``."""

    value: float
    kind: str = "duration"

    @property
    def mean(self) -> float:
        return self.value

    @property
    def support_min(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=float)

    def quantile(self, q: float) -> float:
        _check_q(q)
        return self.value

    def cdf(self, x: float) -> float:
        return 1.0 if x >= self.value else 0.0

    def to_spec(self) -> Any:
        return {"constant": _spec_value(self.value, self.kind)}

    def describe(self) -> str:
        return f"constant {_show(self.value, self.kind)}"

    def _scaled(self, factor: float) -> Distribution:
        return Constant(self.value * factor, self.kind)

    def _shifted(self, offset: float) -> Distribution:
        return Constant(self.value + offset, self.kind)


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    """Exponential with mean ``scale``."""

    block_invariant = True

    scale: float
    kind: str = "duration"

    @property
    def mean(self) -> float:
        return self.scale

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.scale, n)

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        return math.inf if q == 1.0 else -self.scale * math.log1p(-q)

    def cdf(self, x: float) -> float:
        return 0.0 if x <= 0 else -math.expm1(-x / self.scale)

    def to_spec(self) -> Any:
        return {"exponential": {"mean": _spec_value(self.scale, self.kind)}}

    def describe(self) -> str:
        return f"exponential mean {_show(self.scale, self.kind)}"

    def _scaled(self, factor: float) -> Distribution:
        return Exponential(self.scale * factor, self.kind)


@dataclass(frozen=True, slots=True)
class LogNormal(Distribution):
    """ln X ~ Normal(ln median, sigma²)."""

    block_invariant = True

    median: float
    sigma: float
    kind: str = "duration"

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(math.log(self.median), self.sigma, n)

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        if q == 0.0:
            return 0.0
        if q == 1.0:
            return math.inf
        return self.median * math.exp(self.sigma * _STD.inv_cdf(q))

    def cdf(self, x: float) -> float:
        return 0.0 if x <= 0 else _STD.cdf(math.log(x / self.median) / self.sigma)

    def to_spec(self) -> Any:
        return {"lognormal": {"median": _spec_value(self.median, self.kind), "sigma": self.sigma}}

    def describe(self) -> str:
        return (f"lognormal median {_show(self.median, self.kind)} sigma {self.sigma:.3g} "
                f"(mean {_show(self.mean, self.kind)}, p99 {_show(self.quantile(0.99), self.kind)})")

    def _scaled(self, factor: float) -> Distribution:
        return LogNormal(self.median * factor, self.sigma, self.kind)


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    """Gamma with the given mean and coefficient of variation (shape 1/cv², scale mean·cv²)."""

    block_invariant = True

    mean_value: float
    cv: float
    kind: str = "duration"

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def shape(self) -> float:
        return 1.0 / self.cv**2

    @property
    def scale(self) -> float:
        return self.mean_value * self.cv**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, n)

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        if q == 1.0:
            return math.inf
        from scipy.special import gammaincinv

        return float(gammaincinv(self.shape, q)) * self.scale

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        from scipy.special import gammainc

        return float(gammainc(self.shape, x / self.scale))

    def to_spec(self) -> Any:
        return {"gamma": {"mean": _spec_value(self.mean_value, self.kind), "cv": self.cv}}

    def describe(self) -> str:
        return f"gamma mean {_show(self.mean_value, self.kind)} cv {self.cv:.3g}"

    def _scaled(self, factor: float) -> Distribution:
        return Gamma(self.mean_value * factor, self.cv, self.kind)


@dataclass(frozen=True, slots=True)
class Weibull(Distribution):
    """Weibull: P(X > x) = exp(-(x/scale)^shape)."""

    block_invariant = True

    scale: float
    shape: float
    kind: str = "duration"

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, n)

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        return math.inf if q == 1.0 else self.scale * (-math.log1p(-q)) ** (1.0 / self.shape)

    def cdf(self, x: float) -> float:
        return 0.0 if x <= 0 else -math.expm1(-((x / self.scale) ** self.shape))

    def to_spec(self) -> Any:
        return {"weibull": {"scale": _spec_value(self.scale, self.kind), "shape": self.shape}}

    def describe(self) -> str:
        return f"weibull scale {_show(self.scale, self.kind)} shape {self.shape:.3g}"

    def _scaled(self, factor: float) -> Distribution:
        return Weibull(self.scale * factor, self.shape, self.kind)


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """Uniform on [low, high]."""

    block_invariant = True

    low: float
    high: float
    kind: str = "duration"

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def support_min(self) -> float:
        return self.low

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def quantile(self, q: float) -> float:
        return self.low + _check_q(q) * (self.high - self.low)

    def cdf(self, x: float) -> float:
        if x < self.low:
            return 0.0
        if x >= self.high:
            return 1.0
        return (x - self.low) / (self.high - self.low)

    def to_spec(self) -> Any:
        return {"uniform": {"low": _spec_value(self.low, self.kind),
                            "high": _spec_value(self.high, self.kind)}}

    def describe(self) -> str:
        return f"uniform {_show(self.low, self.kind)}..{_show(self.high, self.kind)}"

    def _scaled(self, factor: float) -> Distribution:
        return Uniform(self.low * factor, self.high * factor, self.kind)

    def _shifted(self, offset: float) -> Distribution:
        return Uniform(self.low + offset, self.high + offset, self.kind)


@dataclass(frozen=True, slots=True)
class Normal(Distribution):
    """Normal(loc, sd) conditioned on X >= 0 (negative draws are redrawn, not clipped).

    ``loc`` is what the spec calls ``mean``: the mean *before* truncation; ``.mean`` is the
    exact mean after it, loc + sd·φ(α)/(1 − Φ(α)) with α = −loc/sd.
    """

    loc: float
    sd: float
    kind: str = "duration"

    @property
    def _alpha(self) -> float:
        return -self.loc / self.sd

    @property
    def mean(self) -> float:
        a = self._alpha
        return self.loc + self.sd * _STD.pdf(a) / (1.0 - _STD.cdf(a))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        out = rng.normal(self.loc, self.sd, n)
        bad = np.flatnonzero(out < 0)
        while bad.size:  # acceptance >= 1/2 because loc >= 0
            redraw = rng.normal(self.loc, self.sd, bad.size)
            out[bad] = redraw
            bad = bad[redraw < 0]
        return out

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        if q == 1.0:
            return math.inf
        lo = _STD.cdf(self._alpha)
        p = lo + q * (1.0 - lo)
        return 0.0 if p <= 0.0 else max(0.0, self.loc + self.sd * _STD.inv_cdf(p))

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        lo = _STD.cdf(self._alpha)
        return (_STD.cdf((x - self.loc) / self.sd) - lo) / (1.0 - lo)

    def to_spec(self) -> Any:
        return {"normal": {"mean": _spec_value(self.loc, self.kind), "sd": _spec_value(self.sd, self.kind)}}

    def describe(self) -> str:
        return f"normal mean {_show(self.loc, self.kind)} sd {_show(self.sd, self.kind)} truncated at 0"

    def _scaled(self, factor: float) -> Distribution:
        return Normal(self.loc * factor, self.sd * factor, self.kind)


@dataclass(frozen=True, slots=True)
class EmpiricalSamples(Distribution):
    """Resamples the given values uniformly (the empirical distribution)."""

    samples: tuple[float, ...]
    kind: str = "duration"
    _sorted: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(float(x) for x in self.samples))
        object.__setattr__(self, "_sorted", np.sort(np.asarray(self.samples, dtype=float)))

    @property
    def mean(self) -> float:
        return math.fsum(self.samples) / len(self.samples)

    @property
    def support_min(self) -> float:
        return float(self._sorted[0])

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._sorted[rng.integers(0, self._sorted.size, n)]

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        k = max(math.ceil(q * self._sorted.size) - 1, 0)
        return float(self._sorted[k])

    def cdf(self, x: float) -> float:
        return int(np.searchsorted(self._sorted, x, side="right")) / self._sorted.size

    def to_spec(self) -> Any:
        return {"empirical": {"samples": [_spec_value(x, self.kind) for x in self.samples]}}

    def describe(self) -> str:
        return (f"empirical {len(self.samples)} samples {_show(self.support_min, self.kind)}.."
                f"{_show(float(self._sorted[-1]), self.kind)} (mean {_show(self.mean, self.kind)})")

    def _scaled(self, factor: float) -> Distribution:
        return EmpiricalSamples(tuple(x * factor for x in self.samples), self.kind)

    def _shifted(self, offset: float) -> Distribution:
        return EmpiricalSamples(tuple(x + offset for x in self.samples), self.kind)


@dataclass(frozen=True, slots=True)
class EmpiricalPercentiles(Distribution):
    """Piecewise-linear inverse CDF through (percent, value) points, exponential tail after.

    ``percents`` starts at 0 (the implicit ``p0: 0`` unless given) and is strictly increasing;
    ``values`` is non-decreasing. See the module docstring for the tail.
    """

    block_invariant = True

    percents: tuple[float, ...]
    values: tuple[float, ...]
    kind: str = "duration"
    _q: np.ndarray = field(init=False, repr=False, compare=False)
    _x: np.ndarray = field(init=False, repr=False, compare=False)
    _theta: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        q = np.asarray(self.percents, dtype=float) / 100.0
        x = np.asarray(self.values, dtype=float)
        if q.size < 2 or q[0] != 0.0 or np.any(np.diff(q) <= 0) or np.any(np.diff(x) < 0):
            raise ValueError("percents must start at 0 and increase; values must not decrease")
        object.__setattr__(self, "_q", q)
        object.__setattr__(self, "_x", x)
        tail = 0.0
        if q[-1] < 1.0:
            slope = (x[-1] - x[-2]) / (q[-1] - q[-2])
            tail = float(slope * (1.0 - q[-1]))
        object.__setattr__(self, "_theta", tail)

    @property
    def mean(self) -> float:
        q, x = self._q, self._x
        body = float(np.sum(np.diff(q) * (x[1:] + x[:-1]) / 2))
        return body + (1.0 - float(q[-1])) * (float(x[-1]) + self._theta)

    @property
    def support_min(self) -> float:
        return float(self._x[0])

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.random(n)
        out = np.interp(u, self._q, self._x)
        if self._theta > 0:
            qk = self._q[-1]
            out += self._theta * np.log(np.maximum((1.0 - qk) / (1.0 - u), 1.0))
        return out

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        qk = float(self._q[-1])
        if q <= qk:
            return float(np.interp(q, self._q, self._x))
        if self._theta == 0:
            return float(self._x[-1])
        if q == 1.0:
            return math.inf
        return float(self._x[-1]) + self._theta * math.log((1.0 - qk) / (1.0 - q))

    def cdf(self, x: float) -> float:
        xs, qs = self._x, self._q
        if x < xs[0]:
            return 0.0
        j = int(np.searchsorted(xs, x, side="right")) - 1
        if j < xs.size - 1:
            return float(qs[j] + (x - xs[j]) / (xs[j + 1] - xs[j]) * (qs[j + 1] - qs[j]))
        if self._theta == 0:
            return 1.0
        return 1.0 - (1.0 - float(qs[-1])) * math.exp(-(x - float(xs[-1])) / self._theta)

    def to_spec(self) -> Any:
        points: dict[str, Any] = {}
        for p, x in zip(self.percents, self.values, strict=True):
            if p == 0 and x == 0:
                continue
            points["p" + np.format_float_positional(p, trim="-")] = _spec_value(x, self.kind)
        return {"empirical": points}

    def describe(self) -> str:
        pts = ", ".join(f"p{np.format_float_positional(p, trim='-')} {_show(x, self.kind)}"
                        for p, x in zip(self.percents, self.values, strict=True) if p > 0)
        return f"empirical {pts}" + ("" if self._theta == 0 else " (exponential tail)")

    def _scaled(self, factor: float) -> Distribution:
        return EmpiricalPercentiles(self.percents, tuple(x * factor for x in self.values), self.kind)

    def _shifted(self, offset: float) -> Distribution:
        return EmpiricalPercentiles(self.percents, tuple(x + offset for x in self.values), self.kind)


@dataclass(frozen=True, slots=True)
class Mixture(Distribution):
    """With probability weight_i / Σweights, a draw from component i."""

    weights: tuple[float, ...]
    components: tuple[Distribution, ...]
    kind: str = "duration"
    _cum: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=float)
        if w.size == 0 or w.size != len(self.components) or np.any(w <= 0):
            raise ValueError("a mixture needs one positive weight per component")
        object.__setattr__(self, "_cum", np.cumsum(w) / w.sum())

    @property
    def probabilities(self) -> tuple[float, ...]:
        total = math.fsum(self.weights)
        return tuple(w / total for w in self.weights)

    @property
    def mean(self) -> float:
        return math.fsum(p * c.mean for p, c in zip(self.probabilities, self.components, strict=True))

    @property
    def support_min(self) -> float:
        return min(c.support_min for c in self.components)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        which = np.searchsorted(self._cum, rng.random(n), side="right")
        np.minimum(which, len(self.components) - 1, out=which)
        out = np.empty(n, dtype=float)
        for j, comp in enumerate(self.components):
            mask = which == j
            count = int(np.count_nonzero(mask))
            if count:
                out[mask] = comp.sample(rng, count)
        return out

    def cdf(self, x: float) -> float:
        return math.fsum(p * c.cdf(x) for p, c in zip(self.probabilities, self.components, strict=True))

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        # The mixture quantile lies between the smallest and largest component quantiles.
        qs = [c.quantile(q) for c in self.components]
        lo, hi = min(qs), max(qs)
        if self.cdf(lo) >= q:
            return lo
        if math.isinf(hi):
            return hi
        for _ in range(200):  # invariant: cdf(lo) < q <= cdf(hi)
            mid = (lo + hi) / 2
            if mid <= lo or mid >= hi:
                break
            if self.cdf(mid) >= q:
                hi = mid
            else:
                lo = mid
        return hi

    def to_spec(self) -> Any:
        return {"mixture": [{"weight": w, "of": c.to_spec()}
                            for w, c in zip(self.weights, self.components, strict=True)]}

    def describe(self) -> str:
        parts = [f"{p:.3g}×({c.describe()})" for p, c in zip(self.probabilities, self.components, strict=True)]
        return "mixture " + " + ".join(parts)

    def _scaled(self, factor: float) -> Distribution:
        return Mixture(self.weights, tuple(c.scaled(factor) for c in self.components), self.kind)

    def _shifted(self, offset: float) -> Distribution:
        return Mixture(self.weights, tuple(c.shifted(offset) for c in self.components), self.kind)


@dataclass(frozen=True, slots=True)
class Shifted(Distribution):
    """``base + offset``: latency injection on a family that is not closed under shifting."""

    base: Distribution
    offset: float
    kind: str = "duration"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", self.base.kind)

    @property
    def block_invariant(self) -> bool:  # type: ignore[override]
        return self.base.block_invariant

    @property
    def mean(self) -> float:
        return self.base.mean + self.offset

    @property
    def support_min(self) -> float:
        return self.base.support_min + self.offset

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        out = self.base.sample(rng, n)
        out += self.offset
        return out

    def quantile(self, q: float) -> float:
        return self.base.quantile(q) + self.offset

    def cdf(self, x: float) -> float:
        return self.base.cdf(x - self.offset)

    def to_spec(self) -> Any:
        return {"shifted": {"by": _spec_value(self.offset, self.kind), "of": self.base.to_spec()}}

    def describe(self) -> str:
        return f"{_show(self.offset, self.kind)} + {self.base.describe()}"

    def _scaled(self, factor: float) -> Distribution:
        return Shifted(self.base.scaled(factor), self.offset * factor, self.kind)

    def _shifted(self, offset: float) -> Distribution:
        total = self.offset + offset
        return self.base if total == 0 else Shifted(self.base, total, self.kind)


# --------------------------------------------------------------------------------------------
# Parsing


def parse_distribution(spec: object, *, kind: str = "duration") -> Distribution:
    """Parse a spec (see the module docstring) into a ``Distribution`` of values of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return _parse(spec, kind, ())


def _value_allowed(kind: str) -> str:
    if kind == "duration":
        return DURATION_ALLOWED
    if kind == "size":
        return SIZE_ALLOWED
    return "a non-negative number"


def _parse(spec: object, kind: str, at: Path) -> Distribution:
    if isinstance(spec, Distribution):
        if spec.kind != kind:
            raise DistributionError(f"expected a {kind} distribution, got a {spec.kind} one", path=at,
                                    allowed=f"a distribution of {kind} values")
        return spec
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            keys = ", ".join(map(str, spec)) or "none"
            raise DistributionError(f"a distribution has exactly one family key, got: {keys}",
                                    path=at, allowed=FAMILIES_ALLOWED)
        ((family, body),) = spec.items()
        parser = _FAMILIES.get(family) if isinstance(family, str) else None
        if parser is None:
            raise DistributionError(f"unknown distribution family '{family}'", path=(*at, str(family)),
                                    allowed=FAMILIES_ALLOWED, hint=suggest(str(family), _FAMILIES))
        return parser(body, kind, (*at, family))
    if isinstance(spec, str) and spec.strip() in _FAMILIES:
        raise DistributionError(f"'{spec.strip()}' needs parameters", path=at, allowed=FAMILIES_ALLOWED,
                                hint="write e.g. {exponential: {mean: 10ms}}")
    if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
        try:
            value = _amount(spec, kind, at)
        except DistributionError as exc:
            if isinstance(spec, str):
                hint = exc.hint or suggest(spec.strip(), _FAMILIES)
                raise DistributionError(exc.message, path=at, allowed=FAMILIES_ALLOWED, hint=hint) from None
            raise
        return Constant(value, kind)
    raise DistributionError(f"expected a distribution, got {type(spec).__name__}", path=at,
                            allowed=FAMILIES_ALLOWED)


def _amount(raw: object, kind: str, at: Path, *, positive: bool = False,
            allow_negative: bool = False) -> float:
    """A value in the kind's unit (seconds, bytes or a plain number)."""
    allowed = _value_allowed(kind)
    if isinstance(raw, bool):
        raise DistributionError("expected a value, got a boolean", path=at, allowed=allowed)
    try:
        if kind == "duration":
            x = parse_duration(raw)
        elif kind == "size" and isinstance(raw, str):
            x = float(parse_size(raw))
        elif isinstance(raw, (int, float)):
            x = float(raw)
        else:
            raise ValueError(f"expected {allowed}, got {type(raw).__name__}")
    except ValueError as exc:
        message = str(exc).replace(f" ({allowed})", "")  # the allowed text travels separately
        raise DistributionError(message, path=at, allowed=allowed) from None
    if not math.isfinite(x):
        raise DistributionError(f"must be a finite number, got {raw!r}", path=at, allowed=allowed)
    if positive and x <= 0:
        raise DistributionError(f"must be > 0, got {raw!r}", path=at, allowed=f"{allowed}, greater than 0")
    if x < 0 and not allow_negative:
        raise DistributionError(f"must not be negative, got {raw!r}", path=at,
                                allowed=f"{allowed}, not negative")
    return x


def _positive(raw: object, at: Path) -> float:
    """A dimensionless parameter > 0 (sigma, cv, shape, weight)."""
    allowed = "a finite number greater than 0"
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise DistributionError(f"expected a number, got {raw!r}", path=at, allowed=allowed)
    x = float(raw)
    if not math.isfinite(x) or x <= 0:
        raise DistributionError(f"must be > 0 and finite, got {raw!r}", path=at, allowed=allowed)
    return x


def _params(body: object, at: Path, keys: Sequence[str], allowed: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise DistributionError(f"expected a mapping of parameters, got {body!r}", path=at, allowed=allowed)
    for key in body:
        if key not in keys:
            raise DistributionError(f"unknown parameter '{key}'", path=(*at, str(key)), allowed=allowed,
                                    hint=suggest(str(key), keys))
    return body


def _require(params: Mapping[str, Any], at: Path, names: Sequence[str], allowed: str) -> None:
    missing = [n for n in names if n not in params]
    if missing:
        raise DistributionError(f"missing {', '.join(repr(m) for m in missing)}", path=at, allowed=allowed)


def _parse_constant(body: object, kind: str, at: Path) -> Distribution:
    return Constant(_amount(body, kind, at), kind)


def _parse_exponential(body: object, kind: str, at: Path) -> Distribution:
    allowed = "exponential takes {mean}"
    p = _params(body, at, ("mean",), allowed)
    _require(p, at, ("mean",), allowed)
    return Exponential(_amount(p["mean"], kind, (*at, "mean"), positive=True), kind)


_LOGNORMAL_ALLOWED = (
    "lognormal takes any two of median, mean, p99, sigma; with mean and p99: "
    "mean < p99 <= 14.97 x mean"
)


def _parse_lognormal(body: object, kind: str, at: Path) -> Distribution:
    allowed = _LOGNORMAL_ALLOWED
    p = _params(body, at, ("median", "mean", "p99", "sigma"), allowed)
    if len(p) != 2:
        raise DistributionError(f"needs exactly two parameters, got {len(p)}", path=at, allowed=allowed)
    v = {k: (_positive(x, (*at, k)) if k == "sigma" else _amount(x, kind, (*at, k), positive=True))
         for k, x in p.items()}

    def bad(key: str, message: str) -> DistributionError:
        return DistributionError(message, path=(*at, key), allowed=allowed)

    if "sigma" in v:
        s = v["sigma"]
        if "median" in v:
            median = v["median"]
        elif "mean" in v:
            median = v["mean"] * math.exp(-s * s / 2)
        else:
            median = v["p99"] * math.exp(-Z99 * s)
    elif "median" in v and "p99" in v:
        if v["p99"] <= v["median"]:
            raise bad("p99", "p99 must be greater than median")
        median, s = v["median"], math.log(v["p99"] / v["median"]) / Z99
    elif "median" in v:  # median and mean
        if v["mean"] <= v["median"]:
            raise bad("mean", "a lognormal's mean must be greater than its median")
        median, s = v["median"], math.sqrt(2 * math.log(v["mean"] / v["median"]))
    else:  # mean and p99: ln(p99/mean) = z·s − s²/2, take the root with s <= z
        r = math.log(v["p99"] / v["mean"])
        if r <= 0:
            raise bad("p99", "p99 must be greater than mean")
        if r > Z99 * Z99 / 2:
            raise bad("p99", f"p99 can be at most {math.exp(Z99 * Z99 / 2):.4g} x mean for a lognormal")
        s = Z99 - math.sqrt(Z99 * Z99 - 2 * r)
        median = v["mean"] * math.exp(-s * s / 2)
    if not (s > 0 and median > 0 and math.isfinite(median)):
        raise DistributionError("parameters give a degenerate lognormal", path=at, allowed=allowed)
    return LogNormal(median, s, kind)


def _parse_gamma(body: object, kind: str, at: Path) -> Distribution:
    allowed = "gamma takes {mean, cv} with mean > 0 and cv > 0"
    p = _params(body, at, ("mean", "cv"), allowed)
    _require(p, at, ("mean", "cv"), allowed)
    return Gamma(_amount(p["mean"], kind, (*at, "mean"), positive=True), _positive(p["cv"], (*at, "cv")), kind)


def _parse_weibull(body: object, kind: str, at: Path) -> Distribution:
    allowed = "weibull takes {scale, shape}, both > 0"
    p = _params(body, at, ("scale", "shape"), allowed)
    _require(p, at, ("scale", "shape"), allowed)
    return Weibull(_amount(p["scale"], kind, (*at, "scale"), positive=True),
                   _positive(p["shape"], (*at, "shape")), kind)


def _parse_uniform(body: object, kind: str, at: Path) -> Distribution:
    allowed = "uniform takes {low, high} with 0 <= low <= high"
    p = _params(body, at, ("low", "high"), allowed)
    _require(p, at, ("low", "high"), allowed)
    low = _amount(p["low"], kind, (*at, "low"))
    high = _amount(p["high"], kind, (*at, "high"))
    if high < low:
        raise DistributionError("high must not be smaller than low", path=(*at, "high"), allowed=allowed)
    return Uniform(low, high, kind)


def _parse_normal(body: object, kind: str, at: Path) -> Distribution:
    allowed = "normal takes {mean, sd} with mean >= 0 and sd > 0; it is truncated at 0"
    p = _params(body, at, ("mean", "sd"), allowed)
    _require(p, at, ("mean", "sd"), allowed)
    return Normal(_amount(p["mean"], kind, (*at, "mean")), _amount(p["sd"], kind, (*at, "sd"), positive=True),
                  kind)


_PCT_KEY = re.compile(r"^p(\d+(?:\.\d+)?)$")
_EMPIRICAL_ALLOWED = (
    "empirical takes {samples: [v, ...]} or percentile points such as {p50: v, p90: v, p99: v} "
    "(keys p0..p100, values not decreasing)"
)


def _parse_empirical(body: object, kind: str, at: Path) -> Distribution:
    allowed = _EMPIRICAL_ALLOWED
    if not isinstance(body, Mapping) or not body:
        raise DistributionError(f"expected a mapping, got {body!r}", path=at, allowed=allowed)
    if "samples" in body:
        if len(body) != 1:
            other = next(k for k in body if k != "samples")
            raise DistributionError("give either samples or percentile points, not both",
                                    path=(*at, str(other)), allowed=allowed)
        raw = body["samples"]
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence) or not raw:
            raise DistributionError("samples must be a non-empty list", path=(*at, "samples"), allowed=allowed)
        values = tuple(_amount(x, kind, (*at, "samples", i)) for i, x in enumerate(raw))
        return EmpiricalSamples(values, kind)
    points: dict[float, float] = {}
    keys: dict[float, str] = {}
    for key, raw in body.items():
        m = _PCT_KEY.match(str(key))
        pct = float(m.group(1)) if m else -1.0
        if not 0.0 <= pct <= 100.0:
            raise DistributionError(f"unknown parameter '{key}'", path=(*at, str(key)), allowed=allowed,
                                    hint=suggest(str(key), ("samples", "p50", "p90", "p99", "p99.9")))
        if pct in points:
            raise DistributionError(f"'{key}' repeats '{keys[pct]}'", path=(*at, str(key)), allowed=allowed)
        points[pct] = _amount(raw, kind, (*at, str(key)))
        keys[pct] = str(key)
    points.setdefault(0.0, 0.0)
    keys.setdefault(0.0, "p0")
    order = sorted(points)
    if len(order) < 2:
        raise DistributionError("needs at least one point above p0", path=at, allowed=allowed)
    for a, b in itertools.pairwise(order):
        if points[b] < points[a]:
            raise DistributionError(f"{keys[b]} must not be smaller than {keys[a]}", path=(*at, keys[b]),
                                    allowed=allowed)
    return EmpiricalPercentiles(tuple(order), tuple(points[p] for p in order), kind)


def _parse_mixture(body: object, kind: str, at: Path) -> Distribution:
    allowed = "mixture takes a non-empty list of {weight: w > 0, of: <distribution>}"
    if isinstance(body, (str, bytes)) or not isinstance(body, Sequence) or not body:
        raise DistributionError("expected a non-empty list of components", path=at, allowed=allowed)
    weights: list[float] = []
    comps: list[Distribution] = []
    for i, item in enumerate(body):
        p = _params(item, (*at, i), ("weight", "of"), allowed)
        _require(p, (*at, i), ("weight", "of"), allowed)
        weights.append(_positive(p["weight"], (*at, i, "weight")))
        comps.append(_parse(p["of"], kind, (*at, i, "of")))
    return Mixture(tuple(weights), tuple(comps), kind)


def _parse_shifted(body: object, kind: str, at: Path) -> Distribution:
    allowed = "shifted takes {by: <offset>, of: <distribution>}; values must stay >= 0"
    p = _params(body, at, ("by", "of"), allowed)
    _require(p, at, ("by", "of"), allowed)
    offset = _amount(p["by"], kind, (*at, "by"), allow_negative=True)
    base = _parse(p["of"], kind, (*at, "of"))
    if base.support_min + offset < 0:
        raise DistributionError("the shift makes values negative", path=(*at, "by"), allowed=allowed)
    return base if offset == 0 else Shifted(base, offset, kind)


_FAMILIES: dict[str, Callable[[object, str, Path], Distribution]] = {
    "constant": _parse_constant,
    "exponential": _parse_exponential,
    "lognormal": _parse_lognormal,
    "gamma": _parse_gamma,
    "weibull": _parse_weibull,
    "uniform": _parse_uniform,
    "normal": _parse_normal,
    "empirical": _parse_empirical,
    "mixture": _parse_mixture,
    "shifted": _parse_shifted,
}


# --------------------------------------------------------------------------------------------
# The hot path


class BlockSampler:
    """One float at a time from pre-drawn blocks: ``sampler.next()`` (~50 ns) or ``next(sampler)``.

    ``next`` is an instance attribute bound to a C-level iterator over ``.tolist()`` blocks, so a
    draw costs one attribute lookup and one C call; a new block is drawn when one runs out.
    The sampler draws ahead, so give it its own generator (a named stream): sharing the generator
    with other consumers interleaves blocks, not values. The block size is part of the stream
    definition (see the module docstring).
    """

    __slots__ = ("block", "dist", "next", "rng")

    def __init__(self, dist: Distribution, rng: np.random.Generator, block: int = 4096) -> None:
        if block < 1:
            raise ValueError("block must be >= 1")
        self.dist = dist
        self.rng = rng
        self.block = int(block)
        self.next: Callable[[], float] = itertools.chain.from_iterable(
            _blocks(dist, rng, self.block)).__next__

    def __iter__(self) -> Iterator[float]:
        return self

    def __next__(self) -> float:
        return self.next()


def _blocks(dist: Distribution, rng: np.random.Generator, block: int) -> Iterator[list[float]]:
    while True:
        yield dist.sample(rng, block).tolist()


# --------------------------------------------------------------------------------------------
# JSON schema and pydantic fields

_NUM_RE = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"


def _value_schema(kind: str) -> dict[str, Any]:
    if kind == "duration":
        return {"anyOf": [{"type": "string", "pattern": rf"^\s*{_NUM_RE}\s*(us|µs|ms|sec|s|min|m|h|d)\s*$"},
                          {"const": 0}],
                "description": DURATION_ALLOWED}
    if kind == "size":
        return {"anyOf": [{"type": "string", "pattern": rf"^\s*{_NUM_RE}\s*([kKmMgG][iI]?)?[bB]\s*$"},
                          {"type": "number", "minimum": 0}],
                "description": SIZE_ALLOWED}
    return {"type": "number", "minimum": 0}


def _family(name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {name: body}, "required": [name], "additionalProperties": False,
            "title": name}


def _obj(props: dict[str, Any], required: Sequence[str] = (), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False,
            **extra}


def distribution_json_schema(kind: str = "duration") -> dict[str, Any]:
    """A JSON schema of the spec vocabulary: ``oneOf`` over the families.

    The schema is self-contained (no ``$ref``): a mixture or shift nests up to two levels deep
    in the schema (the parser has no such limit).
    """
    v = _value_schema(kind)
    pos = {"type": "number", "exclusiveMinimum": 0}
    leaves = [
        v,
        _family("constant", v),
        _family("exponential", _obj({"mean": v}, ["mean"])),
        _family("lognormal", _obj({"median": v, "mean": v, "p99": v, "sigma": pos},
                                  minProperties=2, maxProperties=2)),
        _family("gamma", _obj({"mean": v, "cv": pos}, ["mean", "cv"])),
        _family("weibull", _obj({"scale": v, "shape": pos}, ["scale", "shape"])),
        _family("uniform", _obj({"low": v, "high": v}, ["low", "high"])),
        _family("normal", _obj({"mean": v, "sd": v}, ["mean", "sd"])),
        _family("empirical", {"oneOf": [
            _obj({"samples": {"type": "array", "items": v, "minItems": 1}}, ["samples"]),
            {"type": "object", "patternProperties": {r"^p\d+(\.\d+)?$": v}, "additionalProperties": False,
             "minProperties": 1},
        ]}),
    ]

    def nesting(inner: list[dict[str, Any]]) -> list[dict[str, Any]]:
        of = {"oneOf": inner}
        return [
            _family("mixture", {"type": "array", "minItems": 1,
                                "items": _obj({"weight": pos, "of": of}, ["weight", "of"])}),
            _family("shifted", _obj({"by": v, "of": of}, ["by", "of"])),
        ]

    level1 = leaves + nesting(leaves)
    return {"title": f"{kind} distribution", "description": FAMILIES_ALLOWED,
            "oneOf": leaves + nesting(level1)}


def _validator(kind: str) -> Callable[[Any], Distribution]:
    def validate(value: Any) -> Distribution:
        try:
            return parse_distribution(value, kind=kind)
        except DistributionError as exc:
            raise exc.to_pydantic() from None

    return validate


def _serializer(kind: str) -> Callable[[Any], Any]:
    def to_spec(value: Any) -> Any:
        # An unvalidated default may still be a raw spec; normalise it the same way.
        return parse_distribution(value, kind=kind).to_spec()

    return to_spec


DistributionField = Annotated[
    Distribution,
    BeforeValidator(_validator("duration")),
    PlainSerializer(_serializer("duration"), return_type=Any),
    WithJsonSchema(distribution_json_schema("duration")),
]
SizeDistributionField = Annotated[
    Distribution,
    BeforeValidator(_validator("size")),
    PlainSerializer(_serializer("size"), return_type=Any),
    WithJsonSchema(distribution_json_schema("size")),
]
NumberDistributionField = Annotated[
    Distribution,
    BeforeValidator(_validator("number")),
    PlainSerializer(_serializer("number"), return_type=Any),
    WithJsonSchema(distribution_json_schema("number")),
]
