"""Schema glue: the JSON schema of the distribution vocabulary and the pydantic field types.

``DistributionField`` (durations), ``SizeDistributionField`` and ``NumberDistributionField``
validate with ``parse_distribution``, serialise with ``to_spec`` and publish a JSON schema of the
vocabulary. A bad spec raises, inside pydantic's ``ValidationError``, one error of ``type ==
"distribution"`` whose ``loc`` is the field's location and whose ``ctx`` holds ``path`` (dotted
relative path, e.g. ``"lognormal.sigma"`` or ``"mixture[1].of"``; ``""`` at the root),
``path_parts`` (the tuple), ``message``, ``allowed`` and ``hint`` (``""`` when none). Its ``msg``
reads ``"{path}: {message} ({allowed}); {hint}"`` (parts left out when empty). A scenario loader
builds the full location as ``loc + ctx["path_parts"]`` and uses ``message``/``allowed``/``hint``
for its ``Problem``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from latsim.distributions.families import FAMILIES_ALLOWED, Distribution, DistributionError
from latsim.distributions.spec import parse_distribution
from latsim.units import DURATION_ALLOWED, SIZE_ALLOWED

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
