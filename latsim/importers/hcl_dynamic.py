"""Nested ``dynamic`` blocks rewritten as ``for`` expressions, for the offline HCL evaluator.

tfparse expands a ``dynamic`` block only at the top of a resource; one inside a nested block --
``default_action { forward { dynamic "target_groups" {…} } }``, the shape of the public Lattice
module's listeners -- would vanish. In the scratch copy of the configuration (never the user's
files) such a block::

    dynamic "target_groups" {
      for_each = EXPR
      iterator = it            # optional
      content {
        target_group_identifier = it.value.id
        nested { a = 1 }
      }
    }

becomes the attribute ``target_groups = [for latsim_it_key, latsim_it_value in (EXPR) : {
target_group_identifier = latsim_it_value.id, nested = [{a = 1}]}]`` -- a list of objects, which is
what a list of blocks reads as -- written on the block's first line, with its other lines left
empty so that every other line keeps its number. Blocks whose text latsim cannot rewrite safely
(heredocs, unbalanced braces) are left alone; the importer then warns that they are missing.
"""

from __future__ import annotations

import re

_DYNAMIC = re.compile(r'dynamic\s+"([A-Za-z0-9_-]+)"\s*\{')
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class _Unsafe(Exception):
    pass


def _skip_string(text: str, i: int) -> int:
    """``text[i]`` is a quote: the index after the closing quote (``${…}`` may hold quotes)."""
    i += 1
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            depth += 1
            i += 2
            continue
        if c == "}" and depth:
            depth -= 1
        elif c == '"' and not depth:
            return i + 1
        elif c == "\n" and not depth:
            raise _Unsafe("a string runs past the end of its line")
        i += 1
    raise _Unsafe("an unterminated string")


def _strip_comments(text: str) -> str:
    """The text with comments replaced by spaces (strings kept), newlines kept."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = _skip_string(text, i)
            out.append(text[i:j])
            i = j
        elif c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            j = len(text) if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise _Unsafe("an unterminated comment")
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j + 2]))
            i = j + 2
        elif text.startswith("<<", i) and re.match(r"<<-?[A-Za-z]", text[i:i + 4]):
            raise _Unsafe("a heredoc")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _close(text: str, i: int) -> int:
    """``text[i]`` is an opening bracket: the index of its closing one (comments already removed)."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = [pairs[text[i]]]
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if not stack or stack.pop() != c:
                raise _Unsafe("unbalanced brackets")
            if not stack:
                return i
        i += 1
    raise _Unsafe("unbalanced brackets")


def _expr_end(text: str, i: int) -> int:
    """The end of an attribute's expression starting at ``i``: a newline outside brackets."""
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c in "{[(":
            i = _close(text, i) + 1
            continue
        if c == "\n":
            return i
        i += 1
    return i


def _scan(text: str) -> list[tuple[str, str, str]]:
    """A block body -> [(kind, name, text)]: ``attr`` (its expression), ``block`` and ``dynamic`` (their bodies)."""
    items: list[tuple[str, str, str]] = []
    i = 0
    while i < len(text):
        if text[i] in " \t\r\n,":
            i += 1
            continue
        m = _DYNAMIC.match(text, i)
        if m:
            end = _close(text, m.end() - 1)
            items.append(("dynamic", m.group(1), text[m.end():end]))
            i = end + 1
            continue
        m = _IDENT.match(text, i)
        if not m:
            raise _Unsafe(f"unexpected {text[i]!r}")
        name, j = m.group(0), m.end()
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "=" and not text.startswith("==", j):
            end = _expr_end(text, j + 1)
            items.append(("attr", name, text[j + 1:end].strip()))
            i = end
        elif j < len(text) and text[j] == "{":
            end = _close(text, j)
            items.append(("block", name, text[j + 1:end]))
            i = end + 1
        else:
            raise _Unsafe(f"cannot read '{name}'")
    return items


def _body(text: str, renames: dict[str, str]) -> list[tuple[str, str]]:
    """A block body -> [(name, HCL expression)], blocks as lists of objects, dynamics as ``for``."""
    out = []
    for kind, name, part in _scan(text):
        if kind == "dynamic":
            out.append((name, _dynamic(name, part, renames)))
        elif kind == "attr":
            out.append((name, _rename(part, renames)))
        else:
            out.append((name, "[" + _object(_body(part, renames)) + "]"))
    return out


def _object(items: list[tuple[str, str]]) -> str:
    merged: dict[str, list[str]] = {}
    for name, expr in items:
        merged.setdefault(name, []).append(expr)
    parts = []
    for name, exprs in merged.items():
        if len(exprs) == 1:
            parts.append(f"{name} = {exprs[0]}")
        else:  # a block written several times: the lists joined
            parts.append(f"{name} = concat({', '.join(exprs)})")
    return "{" + ", ".join(parts) + "}"


def _rename(expr: str, renames: dict[str, str]) -> str:
    """One line; ``ITERATOR.key``/``.value`` -> the ``for`` expression's variables."""
    expr = " ".join(expr.split())
    for old, new in renames.items():
        expr = re.sub(rf"(?<![\w.]){re.escape(old)}\.(key|value)\b", rf"{new}_\1", expr)
    return expr


def _dynamic(name: str, body: str, renames: dict[str, str]) -> str:
    parts = {name: part for kind, name, part in _scan(body) if kind != "dynamic"}
    iterator = parts.get("iterator", name).strip() or name
    if "for_each" not in parts or "content" not in parts:
        raise _Unsafe("a dynamic block needs for_each and content")
    var = f"latsim_{re.sub(r'[^A-Za-z0-9_]', '_', iterator)}"
    inner = {**renames, iterator: var}
    collection = _rename(parts["for_each"], renames)
    content = _object(_body(parts["content"], inner))
    return f"[for {var}_key, {var}_value in ({collection}) : {content}]"


def rewrite_nested_dynamics(source: str) -> tuple[str, int]:
    """-> (the text with every dynamic block below the top of a block rewritten, how many)."""
    try:
        text = _strip_comments(source)
    except _Unsafe:
        return source, 0
    out = list(text)
    count = 0
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            try:
                i = _skip_string(text, i)
            except _Unsafe:
                return source, 0
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth >= 2 and c == "d":
            m = _DYNAMIC.match(text, i)
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_-.")):
                try:
                    end = _close(text, m.end() - 1)
                    expr = _dynamic(m.group(1), text[m.end():end], {})
                except _Unsafe:
                    i += 1
                    continue
                span = text[i:end + 1]
                lines = span.count("\n")
                new = f"{m.group(1)} = {expr}" + "\n" * lines
                for k in range(i, end + 1):
                    out[k] = ""
                out[i] = new
                count += 1
                i = end + 1
                continue
        i += 1
    return ("".join(out), count) if count else (source, 0)


__all__ = ["rewrite_nested_dynamics"]
