"""Reading CloudFormation templates: YAML (short-form tags such as ``!Ref`` and ``!GetAtt a.b`` turned
into their long form, YAML 1.1 scalars as CloudFormation reads them) or JSON, through
``latsim.source``, into plain data plus the position of every key path (``Positions``), so that
whatever the later stages say about a template points at its line and column.

The first job of ``latsim import cloudformation``; ``cfn_intrinsics`` evaluates what is read here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from latsim.errors import Location, Problem, ScenarioError
from latsim.source import Positions as SourcePositions
from latsim.source import load_json, parse_json, parse_yaml

Keys = tuple[str | int, ...]
Positions = dict[Keys, tuple[int, int]]


def read_template(text: str, filename: str, notes: list[Problem] | None = None) -> tuple[Any, Positions]:
    """Template text -> (plain data with ``Fn::``/``Ref`` keys, positions of every key).

    Read by ``latsim.source``: JSON by the standard library, YAML by libyaml with YAML 1.1 scalars
    (CloudFormation's), short-form tags (``!Ref``, ``!GetAtt a.b``, ``!Sub``...) turned into their
    long form. A key written twice in one mapping: CloudFormation keeps the last one (its parsers do
    not reject duplicates), so latsim does too and adds a located warning to ``notes``; without
    ``notes`` it stays an error."""
    dups: list[Problem] = []

    def duplicate(key: str, where: Location, last: tuple[int, int]) -> None:
        dups.append(Problem(f"key '{key}' is written again at line {last[0]}; CloudFormation keeps the last one, "
                            "and so does latsim", where, severity="warning", code="duplicate-key"))
    is_json = text.lstrip()[:1] in ("{", "[")
    try:
        parsed = parse_json(text, filename) if is_json else None
        data, found = parsed or parse_yaml(text, filename, yaml11=True, local_tag=_long_form, tagged=_short_value,
                                           on_duplicate=duplicate if notes is not None else None)
    except ScenarioError as exc:
        if is_json:  # a JSON template that is not YAML either: the JSON reader's message says more
            _json_error(text, filename)
        raise ScenarioError([dataclasses.replace(p, message=_template_message(p.message))
                             for p in exc.all_problems]) from None
    if notes is not None:
        notes.extend(dups)
    return data, _positions(data, found)


def _json_error(text: str, filename: str) -> None:
    """Raise the standard library's located JSON error, if it has one."""
    try:
        load_json(text, filename)
    except ScenarioError as exc:
        if all(p.code == "syntax" for p in exc.all_problems):
            raise ScenarioError([dataclasses.replace(p, message=_template_message(p.message))
                                 for p in exc.all_problems]) from None


def _long_form(tag: str) -> str | None:
    """``!Ref`` -> ``Ref``, ``!Sub`` -> ``Fn::Sub``; a bare ``!`` is no function (a located error)."""
    if not tag:
        return None
    return tag if tag in ("Ref", "Condition") else f"Fn::{tag}"


def _short_value(tag: str, value: Any) -> Any:
    return value.split(".", 1) if tag == "GetAtt" and isinstance(value, str) else value


def _template_message(message: str) -> str:
    for old, new in (("syntax error: ", "cannot read the template: "), ("not valid JSON: ", "cannot read the template: "),
                     ("cannot read the document", "cannot read the template"), ("the document ", "the template ")):
        if message.startswith(old):
            return new + message[len(old):]
    return message


def _positions(data: Any, found: SourcePositions) -> Positions:
    """The reader's positions as one table by key path: a key's own position, else its value's, else
    (a ``!GetAtt a.b`` split in two) its parent's."""
    keys, values = found.key, found.value
    pos: Positions = {(): found.root or (1, 1)}
    stack: list[tuple[Any, Keys]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            here = path + (k,)
            pos[here] = keys.get(here) or values.get(here) or pos[path]
            stack.append((v, here))
    return pos


__all__ = ["Keys", "Positions", "read_template"]
