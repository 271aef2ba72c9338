"""Shared pieces of the model: the frozen base class, unit-carrying field types, id helpers.

Every model class is a frozen pydantic model that forbids unknown keys, so a typo in a
scenario is an error with a suggestion rather than a silently ignored setting.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from latsim import units


class Model(BaseModel):
    """Base of every model noun: immutable once validated, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              arbitrary_types_allowed=True, validate_default=False)


def _wrap(fn: Any) -> Any:
    def check(value: Any) -> Any:
        try:
            return fn(value)
        except ValueError as exc:  # re-raise with a clean message for the located error
            raise ValueError(str(exc)) from None
    return check


Duration = Annotated[
    float,
    BeforeValidator(_wrap(units.parse_duration)),
    PlainSerializer(units.format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*(us|µs|ms|s|sec|m|min|h|d)\s*$",
                    "description": "a duration such as '250ms', '2s', '5m', '1h'"}),
]
Rate = Annotated[
    float,
    BeforeValidator(_wrap(units.parse_rate)),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0},
                              {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*(/|per\s*)(s|sec|m|min|h)\s*$"}],
                    "description": "requests per second, or a rate such as '300/s', '18000/m'"}),
]
Percent = Annotated[
    float,
    BeforeValidator(_wrap(units.parse_percent)),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                              {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*%\s*$"}],
                    "description": "a percentage such as '0.1%', or a fraction between 0 and 1"}),
]
Size = Annotated[
    int,
    BeforeValidator(_wrap(units.parse_size)),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0},
                              {"type": "string", "pattern": r"(?i)^\s*[0-9.eE+-]+\s*(b|kb|mb|gb|kib|mib|gib)\s*$"}],
                    "description": "a size such as '512B', '2KB', '1MiB', or a number of bytes"}),
]


def as_list(value: Any) -> Any:
    """Accept a single item where a list is expected (``ports: 443`` and ``azs: use1-az1``)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


StrList = Annotated[
    list[str],
    BeforeValidator(as_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                    "description": "one value or a list"}),
]


def stable_hex(*parts: str, length: int = 17) -> str:
    """A stable lower-case hex id derived from names, so generated ids never change between runs."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:length]
