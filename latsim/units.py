"""Units users write in scenarios: durations, rates, percentages and sizes.

Internally every duration is in seconds (float), every rate per second, every percentage a
fraction, every size in bytes. Parsers raise ``ValueError`` with a message that says what is
allowed; the scenario loader turns that into a located error.
"""

from __future__ import annotations

import math
import re

_NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"

DURATION_UNITS = {
    "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0,
    "h": 3600.0, "d": 86400.0,
}
_DURATION_RE = re.compile(rf"^\s*{_NUM}\s*(us|µs|ms|sec|s|min|m|h|d)\s*$")
_RATE_RE = re.compile(rf"^\s*{_NUM}\s*(?:/|per\s*)(s|sec|m|min|h)\s*$")
_PERCENT_RE = re.compile(rf"^\s*{_NUM}\s*%\s*$")
SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2,
              "gib": 1024**3}
_SIZE_RE = re.compile(rf"^\s*{_NUM}\s*(b|kb|mb|gb|kib|mib|gib)\s*$", re.IGNORECASE)

DURATION_ALLOWED = "a duration such as '250ms', '2s', '5m', '1h'"
RATE_ALLOWED = "a rate such as '300/s', '18000/m', or a number of requests per second"
PERCENT_ALLOWED = "a percentage such as '0.1%', or a fraction between 0 and 1"
SIZE_ALLOWED = "a size such as '512B', '2KB', '1MiB', or a number of bytes"


def _finite(value: float, what: str) -> float:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{what} must be a finite number")
    return value


def parse_duration(value: object, *, allow_bare_zero: bool = True) -> float:
    """'250ms' -> 0.25. A bare number is refused (ambiguous) except 0."""
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_ALLOWED}, got a boolean")
    if isinstance(value, (int, float)):
        if value == 0 and allow_bare_zero:
            return 0.0
        raise ValueError(f"a bare number is ambiguous: write '{value}s' or '{value}ms' ({DURATION_ALLOWED})")
    if not isinstance(value, str):
        raise ValueError(f"expected {DURATION_ALLOWED}")
    m = _DURATION_RE.match(value)
    if not m:
        raise ValueError(f"'{value}' is not {DURATION_ALLOWED}")
    seconds = float(m.group(1)) * DURATION_UNITS[m.group(2)]
    if seconds < 0:
        raise ValueError(f"'{value}': a duration cannot be negative")
    return _finite(seconds, "a duration")


def format_duration(seconds: float) -> str:
    """Inverse of parse_duration for writing scenarios back: 0.25 -> '250ms'."""
    if seconds == 0:
        return "0s"
    for unit, factor in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        q = seconds / factor
        if abs(q) >= 1 and abs(q - round(q, 6)) < 1e-9:
            return f"{_num(round(q, 6))}{unit}"
    return f"{_num(seconds * 1000)}ms"


def _num(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def parse_rate(value: object) -> float:
    """'300/s' -> 300.0 per second; '18000/m' -> 300.0; a bare number is per second."""
    if isinstance(value, bool):
        raise ValueError(f"expected {RATE_ALLOWED}, got a boolean")
    if isinstance(value, (int, float)):
        return _finite(float(value), "a rate")
    if not isinstance(value, str):
        raise ValueError(f"expected {RATE_ALLOWED}")
    m = _RATE_RE.match(value)
    if not m:
        try:
            return _finite(float(value), "a rate")
        except ValueError:
            raise ValueError(f"'{value}' is not {RATE_ALLOWED}") from None
    per = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}[m.group(2)]
    return _finite(float(m.group(1)) / per, "a rate")


def parse_percent(value: object) -> float:
    """'0.1%' -> 0.001; a bare number in [0, 1] is a fraction."""
    if isinstance(value, bool):
        raise ValueError(f"expected {PERCENT_ALLOWED}, got a boolean")
    if isinstance(value, (int, float)):
        return _finite(float(value), "a fraction")
    if not isinstance(value, str):
        raise ValueError(f"expected {PERCENT_ALLOWED}")
    m = _PERCENT_RE.match(value)
    if not m:
        try:
            return _finite(float(value), "a fraction")
        except ValueError:
            raise ValueError(f"'{value}' is not {PERCENT_ALLOWED}") from None
    return _finite(round(float(m.group(1)) / 100.0, 12), "a percentage")


def parse_size(value: object) -> int:
    """'2KB' -> 2000 bytes; a bare number is bytes."""
    if isinstance(value, bool):
        raise ValueError(f"expected {SIZE_ALLOWED}, got a boolean")
    if isinstance(value, (int, float)):
        return int(_finite(float(value), "a size"))
    if not isinstance(value, str):
        raise ValueError(f"expected {SIZE_ALLOWED}")
    m = _SIZE_RE.match(value)
    if not m:
        try:
            return int(_finite(float(value), "a size"))
        except ValueError:
            raise ValueError(f"'{value}' is not {SIZE_ALLOWED}") from None
    return int(_finite(float(m.group(1)) * SIZE_UNITS[m.group(2).lower()], "a size"))
