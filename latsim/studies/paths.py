"""Parameter paths: the dotted addresses a study uses to change one value of a scenario.

A PATH is the inverse of ``latsim.model.validate.readable_path``: dict keys by name, list items
by their ``name`` (else ``id``) or by index, e.g. ``target_groups.checkout-v1.targets.0.concurrency``,
``clients.storefront.arrival.poisson``, ``timeline.0.at``. Names may themselves hold dots (a
target id ``10.1.1.10``): the longest run of segments that names an item wins.

``resolve`` turns a PATH into raw keys (``('target_groups', 0, 'targets', 0, 'concurrency')``)
or raises ``PathError`` saying where it stopped and what was there (with "did you mean").
A missing *last* key of a mapping is allowed (it sets an optional key the file leaves at its
default); whether that key exists in the model is then checked by the scenario validator.
"""

from __future__ import annotations

import copy
from typing import Any

from latsim.errors import suggest

Keys = tuple[str | int, ...]
ITEM_NAME_KEYS = ("name", "id")


class PathError(ValueError):
    """A PATH that does not address anything: ``keys`` is how far it resolved."""

    def __init__(self, message: str, keys: Keys, hint: str | None = None, allowed: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.keys = keys
        self.hint = hint
        self.allowed = allowed


def item_label(item: Any, name_keys: tuple[str, ...] = ITEM_NAME_KEYS) -> str | None:
    """The name a list item is addressed by (its ``name``, else ``id``), or None."""
    if not isinstance(item, dict):
        return None
    for key in name_keys:
        value = item.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _section_noun(keys: Keys) -> str:
    last = next((k for k in reversed(keys) if isinstance(k, str)), "")
    return last.rstrip("s").replace("_", " ") if last else "list"


def resolve(data: Any, path: str, *, name_keys: tuple[str, ...] = ITEM_NAME_KEYS,
            allow_new_leaf: bool = True) -> Keys:
    """PATH -> raw keys into ``data``; raises PathError with the keys resolved so far."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("a parameter path is a dotted address such as clients.NAME.arrival.poisson", ())
    segments = path.strip().split(".")
    if any(s == "" for s in segments):
        raise PathError(f"'{path}' has an empty segment (two dots in a row, or a leading/trailing dot)", ())
    keys: list[str | int] = []
    node = data
    i = 0
    while i < len(segments):
        here = tuple(keys)
        if isinstance(node, dict):
            j = _longest_match(segments, i, lambda text, n=node: text in n)
            if j is None:
                if allow_new_leaf and i == len(segments) - 1:
                    keys.append(segments[i])
                    return tuple(keys)
                seg = segments[i]
                hint = suggest(seg, [str(k) for k in node])
                allowed = None if hint else (f"keys here: {', '.join(map(str, node))}" if node else None)
                raise PathError(f"no key '{seg}' here", here, hint=hint, allowed=allowed)
            key = ".".join(segments[i:j])
            keys.append(key)
            node = node[key]
            i = j
        elif isinstance(node, list):
            labels = [item_label(item, name_keys) for item in node]
            j = _longest_match(segments, i, lambda text, ls=labels: text in ls)
            if j is not None:
                text = ".".join(segments[i:j])
                index = labels.index(text)
                i = j
            else:
                seg = segments[i]
                if seg.isdigit() and int(seg) < len(node):
                    index = int(seg)
                    i += 1
                else:
                    names = [str(n) for n in labels if n is not None]
                    noun = _section_noun(here)
                    hint = suggest(seg, names)
                    allowed = (f"names: {', '.join(names)}" if names else "") + \
                              (f"{'; ' if names else ''}or an index 0..{len(node) - 1}" if node else "")
                    what = f"index {seg} is past the end" if seg.isdigit() else f"no {noun} named '{seg}'"
                    raise PathError(what, here, hint=hint, allowed=None if hint else (allowed or "the list is empty"))
            keys.append(index)
            node = node[index]
        else:
            rest = ".".join(segments[i:])
            raise PathError(f"the value here is {_kind(node)}: '{rest}' goes past it", here)
    return tuple(keys)


def _longest_match(segments: list[str], start: int, exists: Any) -> int | None:
    """End index of the longest run segments[start:end] whose dotted join ``exists``."""
    for end in range(len(segments), start, -1):
        if exists(".".join(segments[start:end])):
            return end
    return None


def _kind(node: Any) -> str:
    if node is None:
        return "empty (null)"
    if isinstance(node, bool):
        return f"a boolean ({node})"
    if isinstance(node, (int, float)):
        return f"a number ({node})"
    if isinstance(node, str):
        return f"a string ('{node}')"
    return type(node).__name__


_RAISE = object()
_ABSENT = object()


def get_at(data: Any, keys: Keys, default: Any = _RAISE) -> Any:
    """The value at raw ``keys``; ``default`` (or KeyError) when the last key is absent."""
    node = data
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            if default is _RAISE:
                raise KeyError(keys) from None
            return default
    return node


def has_at(data: Any, keys: Keys) -> bool:
    """Whether the scenario sets a value at raw ``keys``."""
    return get_at(data, keys, _ABSENT) is not _ABSENT


def set_at(data: Any, keys: Keys, value: Any) -> None:
    """Set the value at raw ``keys`` in place (the last mapping key may be new)."""
    if not keys:
        raise ValueError("cannot replace the whole scenario")
    node = data
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = copy.deepcopy(value)


def with_values(data: dict[str, Any], assignments: list[tuple[Keys, Any]]) -> dict[str, Any]:
    """A deep copy of ``data`` with every (keys, value) assignment applied, in order."""
    out = copy.deepcopy(data)
    for keys, value in assignments:
        set_at(out, keys, value)
    return out
