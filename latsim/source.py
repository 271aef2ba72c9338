"""Reading user documents (YAML or JSON) fast, with every position still at hand for errors.

One reader for scenario files (``latsim.scenario``) and every importer (CloudFormation templates,
Terraform plan/state JSON, saved AWS CLI JSON, Kubernetes manifests):

* **JSON** goes through the standard library (``json.loads``, C speed), duplicate keys refused;
  positions are found only when an error needs one (the text is composed again by libyaml, whose
  nodes carry line and column).
* **YAML** is composed by libyaml's C parser (PyYAML's ``CParser``: nodes only, no constructor
  ever runs) and turned into plain data here, with YAML 1.2 core-schema scalars (``on``, ``yes``,
  ``no`` stay strings; ``0o17`` is octal, ``017`` decimal; ``1_000`` is 1000, as ruamel read them),
  duplicate keys refused, merge keys (``<<``) honoured, any tag outside the core schema refused.

``parse(text, filename) -> (data, Positions)``; every problem is a located ``ScenarioError``.
``parse_yaml``'s options read CloudFormation (YAML 1.1 scalars, short-form tags through a hook, the
last of a duplicated key kept with a warning); ``load_json`` reads strict machine JSON (Terraform);
``parse_documents`` reads a multi-document stream (Kubernetes manifests) one document at a time,
so that a broken document is reported and the others are still read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml._yaml import CParser

from latsim.errors import Location, Problem, ScenarioError

MAX_NODES = 2_000_000
MAX_DEPTH = 64
Keys = tuple[str | int, ...]
_CORE = "tag:yaml.org,2002:"
_MERGE = _CORE + "merge"


class Positions:
    """Line/column (1-based) of every key and value of a document, by key path. The tables are
    built when first read (``fill``: JSON's are found only when an error is reported)."""

    def __init__(self, filename: str | None, fill: Callable[[Positions], None] | None = None) -> None:
        self.filename = filename
        self._fill = fill
        self._value: dict[Keys, tuple[int, int]] = {}
        self._key: dict[Keys, tuple[int, int]] = {}
        self.root: tuple[int, int] | None = None  # where the document starts

    def _ready(self) -> None:
        fill, self._fill = self._fill, None
        if fill is not None:
            fill(self)

    @property
    def value(self) -> dict[Keys, tuple[int, int]]:
        self._ready()
        return self._value

    @value.setter
    def value(self, table: dict[Keys, tuple[int, int]]) -> None:
        self._fill = None
        self._value = table

    @property
    def key(self) -> dict[Keys, tuple[int, int]]:
        self._ready()
        return self._key

    @key.setter
    def key(self, table: dict[Keys, tuple[int, int]]) -> None:
        self._fill = None
        self._key = table

    def locate(self, keys: Keys, *, at_key: bool = False, data: Any = None, display: str | None = None) -> Location:
        from latsim.model.validate import readable_path  # errors only: the model loads anyway
        key_at, value_at = self.key, self.value
        probe = tuple(keys)
        pos = None
        while True:
            pos = (key_at.get(probe) if at_key else None) or value_at.get(probe) or key_at.get(probe)
            if pos is not None or not probe:
                break
            probe = probe[:-1]
        line, col = pos if pos else (None, None)
        path = display if display is not None else readable_path(data, tuple(keys))
        return Location(self.filename, line, col, path, tuple(keys))


# --- YAML 1.2 core schema on libyaml --------------------------------------------------------------

class _Resolver(yaml.resolver.BaseResolver):
    """Implicit tags of plain scalars: YAML 1.2 (as ruamel.yaml's 1.2 resolver)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


for _tag, _regexp, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("float", r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                       |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                       |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
                       |[-+]?\.(?:inf|Inf|INF)
                       |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
        ("int", r"""^(?:[-+]?0b[0-1_]+
                     |[-+]?0o?[0-7_]+
                     |[-+]?[0-9_]+
                     |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
        ("merge", r"^(?:<<)$", "<"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("timestamp", r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                           |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
                           (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
                           (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789")):
    _Resolver.add_implicit_resolver(_CORE + _tag, re.compile(_regexp, re.X), list(_first))


class _Composer(CParser, _Resolver):
    """libyaml's parser and composer: nodes with marks, nothing constructed."""

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        _Resolver.__init__(self)


class _Composer11(CParser, yaml.resolver.Resolver):
    """libyaml with PyYAML's YAML 1.1 resolver (``yes``/``on`` are booleans, ``017`` octal): the
    schema CloudFormation reads templates with."""

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        yaml.resolver.Resolver.__init__(self)


def _int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if t.startswith("0b"):
        return sign * int(t[2:], 2)
    if t.startswith("0x"):
        return sign * int(t[2:], 16)
    if t.startswith("0o"):
        return sign * int(t[2:], 8)
    return sign * int(t)  # YAML 1.2: a leading 0 is decimal


def _float(text: str) -> float:
    t = text.replace("_", "").lower()
    if t.endswith(("inf", "nan")):
        return float(t.replace(".", ""))
    return float(t)


_DATES = yaml.constructor.SafeConstructor()  # only its timestamp reader is used


def _timestamp(node: Any) -> Any:
    if _DATES.timestamp_regexp.match(node.value) is None:  # PyYAML itself would fail on None.groupdict
        raise ValueError(f"'{node.value}' is not a timestamp")
    return _DATES.construct_yaml_timestamp(node)


def _scalar11(node: Any) -> Any:
    """A YAML 1.1 scalar (core tags only) as plain data: dates as ISO text, anything else that is not
    a plain type (``!!binary``) as its text."""
    try:
        value = _DATES.yaml_constructors[node.tag](_DATES, node)  # a scalar's constructor returns, no cache
    except (ArithmeticError, LookupError, yaml.YAMLError) as exc:  # e.g. '!!int ""'
        raise ValueError(str(exc)) from None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


_SCALARS11 = {_CORE + t for t in ("null", "bool", "int", "float", "str", "timestamp", "binary")}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SCALARS: dict[str, Callable[[Any], Any]] = {
    _CORE + "str": lambda n: n.value,
    _CORE + "null": lambda n: None,
    _CORE + "bool": lambda n: _BOOLS[n.value],
    _CORE + "int": lambda n: _int(n.value),
    _CORE + "float": lambda n: _float(n.value),
    _CORE + "timestamp": _timestamp,
}


def _problem(message: str, mark: Any, filename: str | None, code: str = "syntax", keys: Keys | None = None,
             **kw: Any) -> ScenarioError:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    where = Location(filename, line, col)
    if keys:
        from latsim.model.validate import readable_path  # errors only
        where = Location(filename, line, col, readable_path(None, keys), keys)
    return ScenarioError([Problem(message, where, code=code, **kw)])


class _Builder:
    """Nodes -> plain data (and, when asked, positions), bounded in size and depth."""

    def __init__(self, filename: str | None, pos: Positions | None, *, yaml11: bool = False,
                 local_tag: Callable[[str], str | None] | None = None,
                 tagged: Callable[[str, Any], Any] | None = None,
                 on_duplicate: Callable[[str, Location, tuple[int, int]], None] | None = None) -> None:
        self.filename = filename
        self.pos = pos
        self.yaml11 = yaml11
        self.local_tag = local_tag
        self.tagged = tagged
        self.on_duplicate = on_duplicate
        self.budget = MAX_NODES
        self._inherited: set[Any] = set()  # key nodes a merge brought in (the mapping's own keys win)

    def build(self, node: Any, keys: Keys, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _problem(f"the document expands to more than {MAX_NODES:,} values (an alias bomb?)",
                           node.start_mark, self.filename, code="too-large")
        if depth > MAX_DEPTH:
            raise _problem(f"the document is nested deeper than {MAX_DEPTH} levels", node.start_mark,
                           self.filename, code="too-deep")
        tag = node.tag
        if self.local_tag is not None and tag.startswith("!"):
            return self._local(node, keys, depth)
        if isinstance(node, yaml.ScalarNode):
            make = _SCALARS.get(tag) if not self.yaml11 or tag.startswith("!") else \
                (_scalar11 if tag in _SCALARS11 else None)
            if make is None:
                raise self._tag(node, keys)
            try:
                return make(node)
            except (ValueError, TypeError, KeyError):
                raise _problem(f"cannot read the document: '{node.value}' does not fit its tag {tag}",
                               node.start_mark, self.filename, hint="remove the '!!' tags: latsim reads plain YAML") \
                    from None
        if isinstance(node, yaml.SequenceNode):
            if tag != _CORE + "seq":
                raise self._tag(node, keys)
            pos = self.pos
            items = []
            for i, item in enumerate(node.value):
                if pos is not None:
                    m = item.start_mark
                    pos._value[keys + (i,)] = (m.line + 1, m.column + 1)
                items.append(self.build(item, keys + (i,), depth + 1))
            return items
        if tag != _CORE + "map":
            raise self._tag(node, keys)
        return self._mapping(node, keys, depth)

    def _local(self, node: Any, keys: Keys, depth: int) -> dict[str, Any]:
        """A local tag (``!Ref x``) the caller takes: ``{key: value}``, the value read untagged and
        located where the tagged node is."""
        assert self.local_tag is not None
        name = node.tag[1:]
        key = self.local_tag(name)
        if key is None:
            raise self._tag(node, keys)
        here = keys + (key,)
        if self.pos is not None:
            m = node.start_mark
            self.pos._value[here] = (m.line + 1, m.column + 1)
        if isinstance(node, yaml.ScalarNode):
            value: Any = node.value
        elif isinstance(node, yaml.SequenceNode):
            value = self.build(yaml.SequenceNode(_CORE + "seq", node.value, node.start_mark, node.end_mark),
                               here, depth + 1)
        else:
            value = self._mapping(node, here, depth + 1)
        return {key: self.tagged(name, value) if self.tagged is not None else value}

    def _mapping(self, node: Any, keys: Keys, depth: int) -> dict[str, Any]:
        pairs = list(node.value)
        if any(k.tag == _MERGE for k, _ in pairs):
            pairs = self._merged(node)
        out: dict[str, Any] = {}
        seen: set[str] = set()
        pos = self.pos
        last: dict[str, Any] = {}
        if self.on_duplicate is not None:
            last = {k.value: k for k, _ in pairs if isinstance(k, yaml.ScalarNode)}
        for knode, vnode in pairs:
            if not isinstance(knode, yaml.ScalarNode):
                raise _problem("cannot read the document: a key is a list or mapping", knode.start_mark,
                               self.filename, hint="keys are plain names")
            if self.on_duplicate is not None and last[knode.value] is not knode:
                m, w = knode.start_mark, last[knode.value].start_mark  # the last one wins
                self.on_duplicate(knode.value, Location(self.filename, m.line + 1, m.column + 1),
                                  (w.line + 1, w.column + 1))
                continue
            key = self.build(knode, keys, depth + 1)
            skey = key if isinstance(key, str) else str(key)
            if skey in seen:
                if knode in self._inherited:
                    continue  # a merged key that the mapping itself overrides
                raise _problem(f'duplicate key: found duplicate key "{skey}"', knode.start_mark, self.filename)
            seen.add(skey)
            if pos is not None:
                m, v = knode.start_mark, vnode.start_mark
                pos._key[keys + (skey,)] = (m.line + 1, m.column + 1)
                pos._value[keys + (skey,)] = (v.line + 1, v.column + 1)
            out[skey] = self.build(vnode, keys + (skey,), depth + 1)
        return out

    def _merged(self, node: Any) -> list[tuple[Any, Any]]:
        """``<<: *base`` (or a list of them): the mapping's own keys win, then the merged ones in order."""
        own: list[tuple[Any, Any]] = []
        merged: list[tuple[Any, Any]] = []
        for knode, vnode in node.value:
            if knode.tag != _MERGE:
                own.append((knode, vnode))
                continue
            sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    raise _problem("cannot read the document: '<<' merges mappings only", src.start_mark,
                                   self.filename)
                merged.extend(self._merged(src) if any(k.tag == _MERGE for k, _ in src.value) else src.value)
        own_keys = {k.value for k, _ in own}
        inherited, taken = [], set(own_keys)
        for knode, vnode in merged:
            if knode.value not in taken:
                taken.add(knode.value)
                inherited.append((knode, vnode))
        self._inherited.update(k for k, _ in inherited)
        return own + inherited

    def _tag(self, node: Any, keys: Keys) -> ScenarioError:
        return _problem(f"YAML tag '{node.tag}' is not used by latsim: write the value without it", node.start_mark,
                        self.filename, code="yaml-tag", keys=keys)


def _compose(text: str, filename: str | None, yaml11: bool = False) -> Any:
    try:
        loader = _Composer11(text) if yaml11 else _Composer(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = (exc.problem or exc.context or "invalid YAML").strip()
        raise _problem(f"syntax error: {msg}", mark, filename) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ScenarioError([Problem(f"cannot read the document: {exc}", Location(filename), code="syntax")]) from None


def parse_yaml(text: str, filename: str | None = None, *, yaml11: bool = False,
               local_tag: Callable[[str], str | None] | None = None, tagged: Callable[[str, Any], Any] | None = None,
               on_duplicate: Callable[[str, Location, tuple[int, int]], None] | None = None) -> tuple[Any, Positions]:
    """YAML text -> (plain data, positions); ``pos.root`` is where the document starts.

    Options for CloudFormation templates: ``yaml11`` reads scalars by YAML 1.1; ``local_tag`` takes
    local tags (``!Ref x`` -> ``{local_tag("Ref"): "x"}``; None refuses the tag, a located error),
    ``tagged(name, value)`` may rewrite the tagged value; ``on_duplicate(key, where, last)`` makes a
    duplicate key keep its last value (called for each earlier one) instead of an error."""
    pos = Positions(filename)
    node = _compose(text, filename, yaml11)
    if node is None:
        return None, pos
    pos.root = (node.start_mark.line + 1, node.start_mark.column + 1)
    builder = _Builder(filename, pos, yaml11=yaml11, local_tag=local_tag, tagged=tagged, on_duplicate=on_duplicate)
    return builder.build(node, (), 0), pos


# --- JSON: the standard library, positions on demand ----------------------------------------------

class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return out


def _not_json(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _depth_ok(data: Any) -> bool:
    """Whether ``data`` nests at most MAX_DEPTH levels (an iterative walk: no recursion limit)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return True


def load_json(text: str, filename: str | None = None) -> Any:
    """Strict JSON (machine output, no YAML fallback) by the standard library, no positions (a key
    written twice keeps the last, as ``json`` does); a syntax error is a located ScenarioError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError([Problem(f"not valid JSON: {exc.msg}", Location(filename, exc.lineno, exc.colno),
                                     code="syntax")]) from None
    except RecursionError:
        raise ScenarioError([Problem("the JSON is nested too deeply", Location(filename), code="too-deep")]) from None


def parse_json(text: str, filename: str | None = None) -> tuple[Any, Positions] | None:
    """JSON text -> (plain data, positions found on demand); None if the text is not plain JSON
    (the YAML reader then reads it, and reports its errors)."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_not_json)
    except _Duplicate:
        return None  # the YAML reader locates the duplicate
    except (ValueError, RecursionError):
        return None
    if not _depth_ok(data):
        return None

    def fill(pos: Positions) -> None:
        node = _compose(text, filename)
        if node is not None:
            pos.root = (node.start_mark.line + 1, node.start_mark.column + 1)
            _json_positions(node, pos)
    return data, Positions(filename, fill)


def _json_positions(root: Any, pos: Positions) -> None:
    """Record where every key and value of a composed JSON document is (JSON keys are strings:
    a key node's text is the key; no scalar needs constructing)."""
    key_at, value_at = pos._key, pos._value
    stack: list[tuple[Any, Keys]] = [(root, ())]
    while stack:
        node, keys = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for knode, vnode in node.value:
                k = keys + (knode.value,)
                m, v = knode.start_mark, vnode.start_mark
                key_at[k] = (m.line + 1, m.column + 1)
                value_at[k] = (v.line + 1, v.column + 1)
                if not isinstance(vnode, yaml.ScalarNode):
                    stack.append((vnode, k))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                k = keys + (i,)
                m = item.start_mark
                value_at[k] = (m.line + 1, m.column + 1)
                if not isinstance(item, yaml.ScalarNode):
                    stack.append((item, k))


def parse(text: str, filename: str | None = None) -> tuple[Any, Positions]:
    """YAML or JSON text -> (plain data, positions); syntax errors are located ScenarioErrors."""
    if text.lstrip()[:1] in ("{", "["):
        parsed = parse_json(text, filename)
        if parsed is not None:
            return parsed
    return parse_yaml(text, filename)


# --- multi-document streams (Kubernetes manifests) -------------------------------------------------

_SEPARATOR = re.compile(r"^(---|\.\.\.)(?=\s|$)")


def split_documents(text: str) -> list[tuple[int, str]]:
    """Multi-document YAML -> [(line offset, document text)], separators blanked so columns hold.
    Split by line rather than by libyaml's stream, whose first broken document ends the stream."""
    docs: list[tuple[int, str]] = []
    start = 0
    lines: list[str] = []
    for i, line in enumerate(text.splitlines()):
        if _SEPARATOR.match(line):
            docs.append((start, "\n".join(lines)))
            rest = line[3:]
            start, lines = i, ["   " + rest if rest.strip() and not rest.strip().startswith("#") else ""]
            if line.startswith("..."):
                lines = [""]
            continue
        lines.append(line)
    docs.append((start, "\n".join(lines)))
    return [(off, body) for off, body in docs if body.strip()]


def _shifted(pos: Positions, offset: int) -> Positions:
    out = Positions(pos.filename)
    out.key = {k: (line + offset, col) for k, (line, col) in pos.key.items()}
    out.value = {k: (line + offset, col) for k, (line, col) in pos.value.items()}
    return out


def parse_documents(text: str, filename: str | None = None) -> Iterator[tuple[Any, Positions] | list[Problem]]:
    """Multi-document YAML (or JSON) text -> each non-empty document in order, as (data, positions),
    or as the list of its located problems if it cannot be read (the others are still read).
    Positions count lines from the start of the whole text."""
    for offset, body in split_documents(text):
        try:
            data, pos = parse(body, filename)
        except ScenarioError as exc:
            yield [Problem(p.message, Location(p.location.file, (p.location.line or 1) + offset, p.location.column,
                                               p.location.path),
                           allowed=p.allowed, hint=p.hint, severity=p.severity, code=p.code)
                   for p in exc.all_problems]
            continue
        if data is not None:
            yield data, _shifted(pos, offset)
