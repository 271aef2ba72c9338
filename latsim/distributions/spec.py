"""The spec parser: a scenario's distribution spec (plain data, units) → a ``Distribution``.

``parse_distribution(spec, kind=...)`` reads the vocabulary of ``latsim.distributions``. ``kind``
says what the values are: ``"duration"`` (unit strings such as ``"18ms"`` → seconds; a bare
number other than 0 is refused as ambiguous), ``"size"`` (``"2KB"`` or a number of bytes) or
``"number"`` (plain numbers). Every distribution lives on [0, ∞): negative values are refused.

Errors raise ``DistributionError`` (a ``ValueError`` and a ``LatsimError``) with ``.path``, the
position of the bad item *relative to the distribution spec* (e.g. ``("lognormal", "sigma")`` or
``("mixture", 1, "of", "gamma", "cv")``), ``.message``, ``.allowed`` and ``.hint`` (a "did you
mean" suggestion for a misspelt family or parameter).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from latsim.distributions.families import (
    FAMILIES_ALLOWED,
    KINDS,
    Z99,
    Constant,
    Distribution,
    DistributionError,
    EmpiricalPercentiles,
    EmpiricalSamples,
    Exponential,
    Gamma,
    LogNormal,
    Mixture,
    Normal,
    Path,
    Shifted,
    Uniform,
    Weibull,
)
from latsim.errors import suggest
from latsim.units import DURATION_ALLOWED, SIZE_ALLOWED, parse_duration, parse_size


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
