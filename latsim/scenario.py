"""Reading scenario files (YAML or JSON) into the model, with every error located.

The loader keeps the position of every key and value, validates the whole document with
pydantic (all structural errors at once), then runs the semantic checks on the items that
parsed (so one broken item does not hide the problems of the others, nor cause a cascade of
"unknown reference" errors), and reports everything as ``FILE:LINE:COL: dotted.path: message``.
Nothing the user wrote is executed: the YAML loader builds plain data only.
"""

from __future__ import annotations

import copy
import io
import json
import typing
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from latsim.errors import Location, Problem, ScenarioError, suggest
from latsim.gcpause import gc_paused
from latsim.model.scenario import Scenario
from latsim.model.validate import readable_path
from latsim.source import MAX_DEPTH, MAX_NODES, Positions, parse  # noqa: F401  (re-exported)

MAX_FILE_BYTES = 32 * 1024 * 1024
LIST_SECTIONS = ("accounts", "vpcs", "security_groups", "service_networks", "services", "target_groups",
                 "clients", "timeline", "canaries", "slo")
Keys = tuple[str | int, ...]


@gc_paused
def parse_document(text: str, filename: str | None = None) -> tuple[Any, Positions]:
    """YAML/JSON text -> (plain data, positions). Syntax errors are located ScenarioErrors
    (``latsim.source``: JSON by the standard library, YAML by libyaml, YAML 1.2 scalars)."""
    return parse(text, filename)


def read_text(path: str | Path) -> str:
    """Read a user file: size-bounded, UTF-8 with a located error for bad bytes."""
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ScenarioError([Problem(f"cannot read file: {exc.strerror or exc}", Location(name), code="io")]) from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError([Problem(f"file is {size / 1e6:.1f} MB; latsim reads scenario files up to "
                                     f"{MAX_FILE_BYTES / 1e6:.0f} MB", Location(name), code="too-large")])
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(f"cannot read file: {exc.strerror or exc}", Location(name), code="io")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError([Problem(f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", Location(name, line, col),
                                     allowed="save the file as UTF-8", code="encoding")]) from None


# --- pydantic errors -> problems ------------------------------------------------------------

def _model_at(keys: list[str | int]) -> type[BaseModel] | None:
    """The model class whose fields live at ``keys`` (for 'did you mean' on unknown keys)."""
    tp: Any = Scenario
    for key in keys:
        tp = _unwrap(tp)
        if isinstance(key, int):
            args = typing.get_args(tp)
            tp = args[0] if args else None
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            field = _field(tp, key)
            tp = field.annotation if field else None
        else:
            args = typing.get_args(tp)
            tp = args[1] if len(args) == 2 else None
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _field(model: type[BaseModel], key: str) -> Any:
    for name, f in model.model_fields.items():
        if name == key or f.alias == key:
            return f
    return None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(_unwrap(a), type) and issubclass(_unwrap(a), BaseModel)]
            lists = [a for a in args if typing.get_origin(_unwrap(a)) in (list, dict)]
            pick = models or lists or args
            if len(pick) >= 1:
                tp = pick[0]
                continue
        return tp


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _real_keys(data: Any, loc: tuple[Any, ...], err_type: str) -> list[str | int]:
    """Drop pydantic's union-branch tags from ``loc``, keeping the keys that exist in the data."""
    keys: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            keys.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            keys.append(part)
            node = node[part]
        elif last and err_type in ("missing", "extra_forbidden") and isinstance(part, str):
            keys.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part.isidentifier() and err_type == "missing":
            keys.append(part)
            node = None
    return keys


def problems_from_validation(exc: ValidationError, data: Any, pos: Positions) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[Keys, str]] = set()
    for err in exc.errors(include_url=False):
        etype = err["type"]
        keys = _real_keys(data, tuple(err["loc"]), etype)
        msg = str(err["msg"])
        allowed = hint = None
        if etype == "extra_forbidden":
            name = keys[-1] if keys else "?"
            model = _model_at(keys[:-1])
            choices = _field_names(model) if model else []
            msg = f"unknown key '{name}'"
            hint = suggest(str(name), choices)
            if not hint and choices:
                allowed = f"allowed: {', '.join(choices)}"
        elif etype == "missing":
            msg = f"missing required key '{keys[-1] if keys else '?'}'"
        elif etype == "literal_error":
            expected = str(err.get("ctx", {}).get("expected", ""))
            options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
            msg = f"'{err.get('input')}' is not allowed"
            allowed = f"one of {', '.join(options)}"
            hint = suggest(str(err.get("input")), options)
        elif etype == "distribution":
            ctx = err.get("ctx", {})
            keys = keys + [k for k in ctx.get("path_parts", ())]
            msg = str(ctx.get("message", msg))
            allowed = str(ctx.get("allowed") or "") or None
            hint = str(ctx.get("hint") or "") or None
        elif etype.startswith("value_error") or etype == "assertion_error":
            msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        elif etype in ("string_pattern_mismatch",):
            msg = f"'{err.get('input')}' does not have the expected form"
            allowed = f"pattern {err.get('ctx', {}).get('pattern')}"
        elif etype.endswith("_type") or etype.endswith("_parsing"):
            msg = f"{msg.lower()}, got {type(err.get('input')).__name__} {_short(err.get('input'))}"
        elif etype in _BOUND_ERRORS:
            msg = f"{_short(err.get('input'))}: {msg[0].lower()}{msg[1:]}"
            allowed = _field_range(keys)
        at_key = etype in ("extra_forbidden", "missing")
        loc_keys: Keys = tuple(keys[:-1]) if etype == "missing" else tuple(keys)
        display = readable_path(data, keys)
        location = pos.locate(loc_keys, at_key=at_key, data=data, display=display)
        sig = (tuple(keys), msg)
        if sig in seen:
            continue
        seen.add(sig)
        out.append(Problem(msg, location, allowed=allowed, hint=hint, code=etype))
    return out


_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_from_float")


def _field_range(keys: list[Any]) -> str | None:
    """'an integer 0-999' for a field with both bounds (what a bound error should say is allowed)."""
    if not keys or not isinstance(keys[-1], str):
        return None
    model = _model_at(list(keys[:-1]))
    f = _field(model, keys[-1]) if model is not None else None
    if f is None:
        return None
    lo = hi = None
    for m in f.metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    if lo is None and hi is None:
        return None
    kind = "an integer" if "int" in str(f.annotation) and "float" not in str(f.annotation) else "a number"
    if lo is not None and hi is not None:
        return f"{kind} {lo}-{hi}"
    return f"{kind} >= {lo}" if lo is not None else f"{kind} <= {hi}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- the loader ------------------------------------------------------------------------------

def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    if not overrides:
        return data
    data = dict(data)
    for k, v in overrides.items():
        if v is not None:
            data[k] = v
    return data


def merge_overlay(base: Any, overlay: Any) -> Any:
    """Deep-merge ``overlay`` onto ``base``: mappings merge, lists of named items merge by
    ``name`` (or ``id``), other lists and scalars are replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for k, v in overlay.items():
            out[k] = merge_overlay(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(overlay, list):
        def key(item: Any) -> Any:
            if isinstance(item, dict):  # a VPC association is named by its VPC
                return item.get("name", item.get("id", item.get("vpc")))
            return None
        if overlay and all(key(o) is not None for o in overlay) and all(key(b) is not None for b in base):
            out_list = list(base)
            where = {key(b): i for i, b in enumerate(base)}
            # an item also matches by id (an overlay naming an imported account that has only its id)
            by_id = {b["id"]: i for i, b in enumerate(base) if isinstance(b.get("id"), str)}
            for o in overlay:
                i = where.get(key(o))
                if i is None and isinstance(o.get("id"), str):
                    i = by_id.get(o["id"])
                if i is not None:
                    out_list[i] = merge_overlay(out_list[i], o)
                else:
                    out_list.append(copy.deepcopy(o))
            return out_list
    return copy.deepcopy(overlay)


@gc_paused
def scenario_from_data(data: Any, pos: Positions | None = None) -> Scenario:
    """Validate plain data (with optional positions) into a Scenario; raise a ScenarioError
    holding every problem at once."""
    pos = pos or Positions(None)
    if not isinstance(data, dict):
        raise ScenarioError([Problem("a scenario is a mapping of sections (name, services, clients, ...)",
                                     pos.locate(()), code="not-a-mapping")])
    problems: list[Problem] = []
    model: Scenario | None = None
    try:
        model = Scenario.model_validate(data, context={"skip_semantics": True})
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, data, pos))
    first_keys = [p.location.keys for p in problems]  # what the first pass found (and _repair dropped)
    cleaned, index_map, broken = _without_broken(data, problems)
    problems += _missing_replay_files(data, pos)
    try:
        if model is not None:
            # structurally valid as it is: the semantic checks run on that model (what validating
            # the same data again would do, at half the cost for a large scenario)
            from latsim.model.validate import check_scenario
            check_scenario(model, broken=broken)
            scn = model
        else:
            scn = Scenario.model_validate(cleaned, context={"broken": broken})
    except ScenarioError as exc:
        for p in exc.all_problems:
            keys = _remap(p.location.keys, index_map)
            if p.severity == "error" and _follows_on(keys, first_keys, p.code):
                continue  # an echo of a mistake already reported at its place
            display = readable_path(data, keys) if keys else p.location.path
            problems.append(Problem(p.message, pos.locate(keys, data=data, display=display), allowed=p.allowed,
                                    hint=p.hint, severity=p.severity, code=p.code))
        raise ScenarioError(_errors_only(problems)) from None
    except ValidationError as exc:  # should not happen: the broken parts were removed
        problems.extend(problems_from_validation(exc, cleaned, pos))
        raise ScenarioError(_errors_only(problems)) from None
    if problems:
        raise ScenarioError(_errors_only(problems))
    from latsim.model.validate import notes
    object.__setattr__(scn, "__latsim_notes__", _LocatedNotes(notes(scn), pos, scn))
    object.__setattr__(scn, "__latsim_source__", pos.filename)
    return scn


def _follows_on(keys: Keys, first: list[Keys], code: str | None) -> bool:
    """Is a semantic error at ``keys`` an echo of a first-pass mistake? The first pass dropped the
    offending key (``_repair``) so the rest of the item could be checked; an object containing it
    then looks as if the key were missing (a weight of 0.8 or 1000 is not "weights are
    required"), and an item whose ``type`` was dropped is checked as the default type (a
    'LAMDBA' target group is not "an INSTANCE target group needs a vpc")."""
    if len(keys) < 2:
        return False
    for bad in first:
        if len(bad) > len(keys) and tuple(bad[:len(keys)]) == tuple(keys):
            return True
        if bad and bad[-1] == "type" and len(keys) == len(bad) and tuple(keys[:-1]) == tuple(bad[:-1]) and \
                code != "name":
            return True
    return False


def _missing_replay_files(data: dict[str, Any], pos: Positions) -> list[Problem]:
    """A replay trace is read when the run starts; a missing one is a mistake of the scenario,
    reported at its place by ``validate`` (relative paths: beside the scenario file, as the
    engine resolves them)."""
    if not pos.filename or not isinstance(data.get("clients"), list):
        return []
    base = Path(pos.filename).resolve().parent
    out = []
    for i, c in enumerate(data["clients"]):
        replay = c.get("arrival", {}).get("replay") if isinstance(c, dict) and isinstance(c.get("arrival"), dict) \
            else None
        file = replay.get("file") if isinstance(replay, dict) else None
        if isinstance(file, str) and file and not (base / file).is_file():
            keys = ("clients", i, "arrival", "replay", "file")
            out.append(Problem(f"replay file '{file}' not found (looked in {base})",
                               pos.locate(keys, data=data, display=readable_path(data, keys)),
                               hint="paths are relative to the scenario file", code="replay-file"))
    return out


class _LocatedNotes(Sequence[Problem]):
    """A valid scenario's warnings and information, located in its file when first read: finding
    positions costs a second pass over a JSON file, which most runs never need. Paths are read
    from the scenario itself (valid: the same items, names and order as the file's data)."""

    def __init__(self, raw: list[Problem], pos: Positions, scn: Scenario) -> None:
        self._raw: list[Problem] | None = raw
        self._pos: Positions | None = pos if raw else None
        self._scn = scn if raw else None
        self._located: list[Problem] = []

    def _items(self) -> list[Problem]:
        if self._raw is not None:
            pos, scn = self._pos, self._scn
            self._located = [Problem(p.message, pos.locate(p.location.keys, display=readable_path(scn, p.location.keys)),  # type: ignore[union-attr]
                                     allowed=p.allowed, hint=p.hint, severity=p.severity, code=p.code)
                             for p in self._raw]
            self._raw = self._pos = self._scn = None
        return self._located

    def __getitem__(self, i: Any) -> Any:
        return self._items()[i]

    def __len__(self) -> int:
        return len(self._items())

    def __reduce__(self) -> Any:  # a plain list once pickled (positions hold the file's text)
        return (list, (self._items(),))


def _errors_only(problems: list[Problem]) -> list[Problem]:
    """While a file has errors, its warnings wait: some may only be echoes of the errors."""
    return _sorted([p for p in problems if p.severity == "error"] or problems)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.severity != "error", p.location.line or 0, p.location.column or 0))


def _without_broken(data: dict[str, Any], problems: list[Problem]) -> tuple[dict[str, Any], dict[str, list[int]],
                                                                           dict[str, set[str]]]:
    kinds = {"accounts": "account", "vpcs": "VPC", "security_groups": "security group",
             "service_networks": "service network", "services": "service", "target_groups": "target group",
             "clients": "client", "canaries": "canary", "timeline": "event", "slo": "slo"}
    bad_items: dict[str, set[int]] = defaultdict(set)
    bad_top: set[str] = set()
    for p in problems:
        keys = p.location.keys
        if not keys:
            continue
        if keys[0] in LIST_SECTIONS and len(keys) >= 2 and isinstance(keys[1], int):
            bad_items.setdefault(str(keys[0]), set()).add(keys[1])
        else:
            bad_top.add(str(keys[0]))
    cleaned: dict[str, Any] = {k: v for k, v in data.items() if k not in bad_top}
    index_map: dict[str, list[int]] = {}
    broken: dict[str, set[str]] = {}
    item_errors: dict[tuple[str, int], list[Problem]] = {}
    for p in problems:
        keys = p.location.keys
        if len(keys) >= 2 and keys[0] in LIST_SECTIONS and isinstance(keys[1], int):
            item_errors.setdefault((str(keys[0]), keys[1]), []).append(p)
    repaired: dict[tuple[str, int], Any] = {}
    for (section, i), errs in item_errors.items():
        fixed = _repair(section, data.get(section), i, errs)
        if fixed is not None:
            repaired[(section, i)] = fixed
            bad_items[section].discard(i)
    for section, idxs in bad_items.items():
        items = data.get(section)
        if not isinstance(items, list):
            continue
        if any((section, i) in repaired for i in range(len(items))):
            items = [repaired.get((section, i), it) for i, it in enumerate(items)]
        keep = [i for i in range(len(items)) if i not in idxs]
        cleaned[section] = [items[i] for i in keep]
        index_map[section] = keep
        for i in idxs:
            item = items[i] if i < len(items) else None
            if isinstance(item, dict):
                for attr in ("name", "id"):
                    if isinstance(item.get(attr), str):
                        broken.setdefault(kinds.get(section, section), set()).add(item[attr])
            if section == "target_groups" and isinstance(item, dict):
                targets = item.get("targets")
                for t in targets if isinstance(targets, list) else []:
                    if isinstance(t, dict) and isinstance(t.get("id"), str):
                        broken.setdefault("target", set()).add(t["id"])
            if section == "vpcs" and isinstance(item, dict):
                azs = item.get("azs")
                for az in azs if isinstance(azs, list) else []:
                    if isinstance(az, str):
                        broken.setdefault("AZ", set()).add(az)
    # VPC references use "VPC" for both names and ids
    return cleaned, index_map, broken


def _repair(section: str, items: Any, index: int, errs: list[Problem]) -> Any:
    """Drop the offending optional keys of a broken list item so that the semantic checks can
    still look at the rest of it (an item whose required keys are wrong stays broken)."""
    if not isinstance(items, list) or index >= len(items) or not isinstance(items[index], dict):
        return None
    if any(p.code == "missing" for p in errs):
        return None
    model = _model_at([section, 0])
    if model is None:
        return None
    item = copy.deepcopy(items[index])
    for p in errs:
        rel = p.location.keys[2:]
        if not rel:
            return None
        node = item
        for k in rel[:-1]:
            try:
                node = node[k]
            except (KeyError, IndexError, TypeError):
                return None
        try:
            if isinstance(node, dict):
                del node[rel[-1]]
            else:
                return None
        except (KeyError, TypeError):
            return None
    try:
        model.model_validate(item, context={"skip_semantics": True})
    except (ValidationError, ScenarioError, ValueError):
        return None
    return item


def _remap(keys: Keys, index_map: dict[str, list[int]]) -> Keys:
    if len(keys) >= 2 and isinstance(keys[0], str) and keys[0] in index_map and isinstance(keys[1], int):
        keep = index_map[keys[0]]
        if keys[1] < len(keep):
            return (keys[0], keep[keys[1]]) + tuple(keys[2:])
    return keys


def load_data(path: str | Path) -> tuple[Any, Positions]:
    text = read_text(path)
    return parse_document(text, str(path))


def load_scenario(path: str | Path, *, overrides: Mapping[str, Any] | None = None,
                  overlays: list[str | Path] | None = None) -> Scenario:
    """Read, merge overlays, apply overrides (``duration``, ``seed``, ...) and validate a scenario file."""
    data, pos = load_data(path)
    for ov in overlays or []:
        odata, _ = load_data(ov)
        if not isinstance(odata, dict):
            raise ScenarioError([Problem("an overlay is a mapping of sections", Location(str(ov)))])
        data = merge_overlay(data, odata)
    if isinstance(data, dict):
        data = apply_overrides(data, overrides)
    return scenario_from_data(data, pos)


def dump_scenario(scn: Scenario, *, fmt: str = "yaml", header: str | None = None) -> str:
    """Write a scenario back as YAML (or JSON), units included, defaults omitted."""
    data = scn.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    from ruamel.yaml import YAML
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    if header:
        buf.write("".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()))
    yaml.dump(data, buf)
    return buf.getvalue()
