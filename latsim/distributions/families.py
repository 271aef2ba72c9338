"""The distribution families: one ``Distribution`` interface and its immutable implementations.

A ``Distribution`` is a non-negative random quantity of one ``kind``: ``"duration"`` (seconds),
``"size"`` (bytes, kept as floats) or ``"number"``. It samples vectorised (``sample(rng, n)``),
knows its exact mean, quantile and CDF, scales and shifts within its family, and writes itself
back as the spec that ``latsim.distributions.spec.parse_distribution`` reads. The engine draws one
value at a time through ``latsim.engine.sampling.sampler``, which pre-draws numpy blocks.

Solvable lognormal pairs (z = Φ⁻¹(0.99) ≈ 2.326): any two of ``median``, ``mean``, ``p99``,
``sigma``. ``median + p99`` needs p99 > median; ``median + mean`` needs mean > median;
``mean + p99`` needs mean < p99 ≤ exp(z²/2)·mean ≈ 14.97·mean. (ln(p99/mean) = z·σ − σ²/2 has
two roots for σ; we take the one with σ ≤ z, on which p99/mean grows with σ. A p99 below the
mean would need σ > 2z, a pathological tail, and is refused.)

Empirical percentiles: the inverse CDF is piecewise linear through (0, 0) (or the given ``p0``)
and the given points. Beyond the last point p_k (unless it is ``p100``) the tail is exponential,
x(q) = x_k + θ·ln((1 − q_k)/(1 − q)) with θ = slope of the last segment × (1 − q_k), so the
density is continuous at p_k and the tail is unbounded but light. Give ``p100`` to cap it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from latsim.errors import LatsimError, Location
from latsim.units import format_duration, parse_duration

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
