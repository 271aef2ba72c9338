"""Swept parameters and experimental designs.

A parameter is a PATH (see ``paths``) and its VALUES, written on the command line as
``PATH=VALUES`` or in a scenario's ``study.params`` mapping:

- a list: ``2,4,8`` or ``100/s,200/s`` (or a YAML list), each item taken literally
  (integers, decimals, ``true``/``false``, strings with units such as ``250ms``);
- a range: ``2..16:2`` (2, 4, ..., 16); units are allowed when all three share one kind
  (``100/s..400/s:100/s``, ``50ms..200ms:50ms``); ``lo..hi`` without a step is continuous for
  the random and latin designs (integers stay integers) and a step of 1 in a grid;
- a scale: ``x0.5,x1,x2`` multiplies the value the scenario already has; rates (``300/s``),
  durations (``10ms``), percentages (``1%``), sizes (``2KB``) and plain numbers all scale, and
  keep their unit.

A design turns the parameters into design points (one value per parameter):
``grid`` (the cartesian product, the first parameter varying slowest), ``random:K`` (K points,
each value drawn uniformly) and ``latin:K`` (a Latin hypercube of K points: every parameter's
range cut into K strata, each stratum used once). Random designs draw from a generator seeded
by the study seed, so the same study gives the same points.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from latsim.studies.paths import Keys
from latsim.units import (
    parse_duration,
    parse_percent,
    parse_rate,
    parse_size,
)

MAX_POINTS = 100_000
_NUMBER_RE = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_INT_RE = re.compile(r"^[-+]?\d+$")
_SCALE_RE = re.compile(r"^[x×]\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)$")


class ValuesError(ValueError):
    """VALUES that cannot be read (with what is allowed)."""

    def __init__(self, message: str, allowed: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.allowed = allowed


VALUES_ALLOWED = "a list '2,4,8', a range '2..16:2' or a scale 'x0.5,x1,x2'"


# --- quantities: numbers with the units latsim reads ---------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A number and the unit kind it was written in (number, duration, rate, percent, size)."""

    kind: str
    magnitude: float
    was_int: bool = False

    def format(self, magnitude: float | None = None) -> Any:
        """The value written back in the same kind of unit (plain numbers stay numbers)."""
        x = self.magnitude if magnitude is None else magnitude
        x = _tidy(x)
        if self.kind == "duration":
            return _duration_text(x)
        if self.kind == "rate":
            return f"{_num_text(x)}/s"
        if self.kind == "percent":
            return f"{_num_text(_tidy(x * 100))}%"
        if self.kind == "size":
            return int(round(x))
        if float(x).is_integer() and abs(x) < 2**53:
            return int(x)
        return x


def _tidy(x: float) -> float:
    """Round away binary noise (0.30000000000000004 -> 0.3) so labels and files stay readable."""
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.12g}")


def _duration_text(seconds: float) -> str:
    """Like units.format_duration, without binary noise: 0.0206389704448 -> '20.6389704448ms'."""
    if seconds == 0:
        return "0s"
    for unit, factor in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        q = _tidy(seconds / factor)
        if abs(q) >= 1 and q.is_integer():
            return f"{int(q)}{unit}"
    ms = _tidy(seconds * 1000)
    return f"{_num_text(ms)}ms" if abs(ms) >= 0.001 else f"{_num_text(_tidy(seconds * 1e6))}us"


def _num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def parse_quantity(value: Any) -> Quantity | None:
    """A number or a unit string -> Quantity; None for anything else (names, mappings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Quantity("number", float(value), was_int=True)
    if isinstance(value, float):
        return Quantity("number", value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _NUMBER_RE.match(text):
        return Quantity("number", float(text), was_int=bool(_INT_RE.match(text)))
    for kind, parser in (("duration", parse_duration), ("rate", parse_rate), ("size", parse_size)):
        if kind == "size" and not re.search(r"[bB]$", text):
            continue
        try:
            return Quantity(kind, float(parser(text)))
        except ValueError:
            continue
    if text.endswith("%"):
        try:
            return Quantity("percent", parse_percent(text))
        except ValueError:
            return None
    return None


def magnitude(value: Any) -> float | None:
    """A value's number in latsim's base unit (seconds, per second, fraction, bytes), or None."""
    q = parse_quantity(value)
    return None if q is None else q.magnitude


def literal(text: str) -> Any:
    """One item of a VALUES list: int, float, bool or the string as written."""
    t = text.strip()
    if _INT_RE.match(t):
        return int(t)
    if _NUMBER_RE.match(t):
        return float(t)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lower() in ("null", "none"):
        return None
    return t


def label(value: Any) -> str:
    """How a value is written in tables and files: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# --- parameters -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One swept parameter: its PATH, raw keys, and its finite values or a continuous range."""

    path: str
    keys: Keys
    spec: str
    values: tuple[Any, ...] = ()
    low: Quantity | None = None
    high: Quantity | None = None

    @property
    def continuous(self) -> bool:
        return not self.values


def parse_values(spec: Any, original: Any, *, missing: bool = False) -> tuple[tuple[Any, ...], Quantity | None,
                                                                               Quantity | None]:
    """VALUES (a string or a list) -> (finite values, low, high); a continuous range has no values."""
    if isinstance(spec, list):
        if not spec:
            raise ValuesError("the list of values is empty", VALUES_ALLOWED)
        return tuple(_item(v, original, missing) for v in spec), None, None
    if isinstance(spec, bool) or spec is None or isinstance(spec, dict):
        raise ValuesError(f"cannot read {label(spec)} as values", VALUES_ALLOWED)
    if isinstance(spec, (int, float)):
        return (spec,), None, None
    text = str(spec).strip()
    if not text:
        raise ValuesError("no values given", VALUES_ALLOWED)
    if ".." in text and "," not in text:
        return _range(text)
    items = [t for t in text.split(",")]
    if any(not t.strip() for t in items):
        raise ValuesError(f"'{text}' has an empty item", VALUES_ALLOWED)
    return tuple(_item(t, original, missing) for t in items), None, None


def _item(item: Any, original: Any, missing: bool) -> Any:
    if not isinstance(item, str):
        return item
    m = _SCALE_RE.match(item.strip())
    if m:
        return scale(original, float(m.group(1)), missing=missing, text=item.strip())
    return literal(item)


def scale(original: Any, factor: float, *, missing: bool = False, text: str = "") -> Any:
    """The original value multiplied by ``factor``, in the original's unit."""
    if missing:
        raise ValuesError(f"'{text}' scales the scenario's value, but the scenario does not set one here",
                          "give absolute values instead")
    q = parse_quantity(original)
    if q is None:
        what = "a mapping" if isinstance(original, dict) else label(original)
        raise ValuesError(f"'{text}' cannot scale {what}: only numbers, rates, durations, percentages and sizes "
                          "scale", "address a number, e.g. ...latency.exponential.mean")
    return q.format(q.magnitude * factor)


def _range(text: str) -> tuple[tuple[Any, ...], Quantity | None, Quantity | None]:
    body, _, step_text = text.partition(":")
    lo_text, _, hi_text = body.partition("..")
    lo, hi = parse_quantity(lo_text.strip()), parse_quantity(hi_text.strip())
    allowed = "a range such as '2..16:2', '0.5..2:0.25' or '100/s..400/s:100/s'"
    if lo is None or hi is None:
        raise ValuesError(f"'{text}' is not a range of numbers", allowed)
    if lo.kind != hi.kind:
        raise ValuesError(f"'{text}' mixes a {lo.kind} and a {hi.kind}", allowed)
    if hi.magnitude < lo.magnitude:
        raise ValuesError(f"'{text}' ends below its start", allowed)
    if not step_text.strip():
        return (), lo, hi  # continuous for random/latin; a grid walks integers in steps of 1
    step = parse_quantity(step_text.strip())
    if step is None or step.kind != lo.kind:
        raise ValuesError(f"the step of '{text}' is not a {lo.kind}", allowed)
    if step.magnitude <= 0:
        raise ValuesError(f"the step of '{text}' must be positive", allowed)
    n = int(math.floor((hi.magnitude - lo.magnitude) / step.magnitude * (1 + 1e-12) + 1e-9)) + 1
    if n > MAX_POINTS:
        raise ValuesError(f"'{text}' has {n:,} values (at most {MAX_POINTS:,})", allowed)
    like = Quantity(lo.kind, lo.magnitude, was_int=lo.was_int and step.was_int)
    values = tuple(like.format(lo.magnitude + k * step.magnitude) for k in range(n))
    return values, None, None


def grid_values(p: Param) -> tuple[Any, ...]:
    """The values a grid uses: the finite list, or an integer range walked in steps of 1."""
    if p.values:
        return p.values
    assert p.low is not None and p.high is not None
    if p.low.was_int and p.high.was_int:
        n = int(p.high.magnitude - p.low.magnitude) + 1
        if n > MAX_POINTS:
            raise ValuesError(f"{p.path}: the range has {n:,} values", "give a step: lo..hi:step")
        return tuple(int(p.low.magnitude) + k for k in range(n))
    raise ValuesError(f"{p.path}: a grid needs a step for the range '{p.spec}'", "write lo..hi:step")


# --- designs -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Design:
    kind: str  # grid | random | latin
    size: int | None = None

    @property
    def text(self) -> str:
        return self.kind if self.size is None else f"{self.kind}:{self.size}"


DESIGN_ALLOWED = "grid, random:K or latin:K (K points)"


def parse_design(text: str | None) -> Design:
    t = (text or "grid").strip().lower()
    if t == "grid":
        return Design("grid")
    kind, _, k = t.partition(":")
    if kind in ("random", "latin") and k.strip().isdigit() and int(k) >= 1:
        if int(k) > MAX_POINTS:
            raise ValuesError(f"design '{text}' asks for more than {MAX_POINTS:,} points", DESIGN_ALLOWED)
        return Design(kind, int(k))
    raise ValuesError(f"unknown design '{text}'", DESIGN_ALLOWED)


def design_points(params: list[Param], design: Design, seed: int) -> list[tuple[Any, ...]]:
    """The design points: one tuple of values (in ``params`` order) per point."""
    if not params:
        return [()]
    if design.kind == "grid":
        axes = [grid_values(p) for p in params]
        n = math.prod(len(a) for a in axes)
        if n > MAX_POINTS:
            raise ValuesError(f"the grid has {n:,} points (at most {MAX_POINTS:,})", "use random:K or latin:K")
        return list(itertools.product(*axes))
    import numpy as np

    assert design.size is not None
    k = design.size
    # a stream of its own: the design does not shift with the replications' seeds
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0x5EED_D351])))
    columns: list[list[Any]] = []
    for p in params:
        if design.kind == "latin":
            u = (rng.permutation(k) + rng.random(k)) / k
        else:
            u = rng.random(k)
        columns.append([_at_fraction(p, float(x)) for x in u])
    return [tuple(col[i] for col in columns) for i in range(k)]


def _at_fraction(p: Param, u: float) -> Any:
    """The value at fraction ``u`` in [0, 1) of a parameter's values or range."""
    if p.values:
        return p.values[min(int(u * len(p.values)), len(p.values) - 1)]
    assert p.low is not None and p.high is not None
    lo, hi = p.low.magnitude, p.high.magnitude
    if p.low.was_int and p.high.was_int:
        return int(lo) + min(int(u * (hi - lo + 1)), int(hi - lo))
    return p.low.format(float(f"{lo + u * (hi - lo):.6g}"))  # 6 digits: readable, still continuous
