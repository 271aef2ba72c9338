"""Wildcard patterns and policy variables, compiled once at parse time.

IAM wildcards: ``*`` matches any run of characters (including none, including ``/`` and ``:``),
``?`` matches exactly one character; every other character is literal (``[`` is not special).
ARN condition operators match each of the six colon-separated ARN parts separately.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Matcher = Callable[[str], bool]

_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL_VARS = {"*": "*", "?": "?", "$": "$"}


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def glob_regex(pattern: str, *, any_char: str = ".") -> str:
    """Translate one IAM wildcard pattern into regex source (no anchors).

    ``any_char`` is what ``?`` (and each character of ``*``) may match: ``.`` for whole strings,
    ``[^:]`` inside one ARN part.
    """
    star = any_char + "*"
    out: list[str] = []
    for ch in pattern:
        if ch == "*":
            # Collapse runs of '*' so '**' does not cost backtracking.
            if not out or out[-1] != star:
                out.append(star)
        elif ch == "?":
            out.append(any_char)
        else:
            out.append(re.escape(ch))
    return "".join(out)


def compile_globs(patterns: Iterable[str], *, ignore_case: bool = False) -> Matcher:
    """One matcher for "any of these patterns matches the whole string"."""
    pats = list(dict.fromkeys(patterns))
    if not pats:
        return lambda _s: False
    if "*" in pats:
        return lambda _s: True
    if not any(has_wildcard(p) for p in pats):
        if ignore_case:
            lowered = frozenset(p.lower() for p in pats)
            return lambda s: s.lower() in lowered
        exact = frozenset(pats)
        return exact.__contains__
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    rx = re.compile("|".join(f"(?:{glob_regex(p)})" for p in pats), flags)
    fullmatch = rx.fullmatch
    return lambda s: fullmatch(s) is not None


def compile_arn_patterns(patterns: Iterable[str]) -> Matcher:
    """ArnEquals/ArnLike: each of the six ARN parts is matched separately, case-sensitively.

    A policy value with fewer than six parts is matched as a whole-string pattern.
    """
    regexes: list[re.Pattern[str]] = []
    for p in dict.fromkeys(patterns):
        parts = p.split(":", 5)
        if len(parts) == 6:
            src = ":".join(glob_regex(part, any_char="[^:]") if i < 5 else glob_regex(part)
                           for i, part in enumerate(parts))
        else:
            src = glob_regex(p)
        regexes.append(re.compile(src, re.DOTALL))
    if not regexes:
        return lambda _s: False
    rx = re.compile("|".join(f"(?:{r.pattern})" for r in regexes), re.DOTALL)
    fullmatch = rx.fullmatch
    return lambda s: fullmatch(s) is not None


# --- policy variables ---------------------------------------------------------------------------


class Unresolved(Exception):
    """A policy variable whose key is absent (or multi-valued) and has no default.

    IAM: "If AWS cannot resolve a variable, this might cause the entire statement to be
    invalid" -- latsim makes the statement not apply.
    """


@dataclass(frozen=True, slots=True)
class Var:
    """``${key}`` or ``${key, 'default'}`` inside a policy string."""

    key: str  # lower-cased
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Lit:
    """``${*}``, ``${?}`` or ``${$}``: the character itself, never a wildcard."""

    text: str


Part = str | Var | Lit


@dataclass(frozen=True, slots=True)
class Template:
    """A policy string containing variables; literal parts keep their wildcard meaning."""

    text: str
    parts: tuple[Part, ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.parts if isinstance(p, Var))

    def resolve(self, values: Mapping[str, object]) -> tuple[tuple[str, bool], ...]:
        """Return ``(text, is_pattern)`` pieces; substituted text is literal (never a wildcard)."""
        out: list[tuple[str, bool]] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append((part, True))
                continue
            if isinstance(part, Lit):
                out.append((part.text, False))
                continue
            val = values.get(part.key)
            if isinstance(val, tuple):
                val = val[0] if len(val) == 1 else None
            if val is None:
                if part.default is None:
                    raise Unresolved(part.key)
                val = part.default
            out.append((str(val), False))
        return tuple(out)


def parse_template(text: str) -> Template | str | None:
    """Split ``text`` into literal parts and variables; None when a ``${`` is malformed."""
    if "${" not in text:
        return text
    parts: list[Part] = []
    pos = 0
    for m in _VAR_RE.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        body = m.group(1).strip()
        if body in _SPECIAL_VARS:
            parts.append(Lit(_SPECIAL_VARS[body]))
        else:
            key, sep, default = body.partition(",")
            key = key.strip()
            if not key or ":" not in key:
                return None
            dflt: str | None = None
            if sep:
                d = default.strip()
                if len(d) < 2 or d[0] != "'" or d[-1] != "'":
                    return None
                dflt = d[1:-1].replace("''", "'")
            parts.append(Var(key.lower(), dflt))
        pos = m.end()
    rest = text[pos:]
    if "${" in rest:
        return None
    if rest:
        parts.append(rest)
    return Template(text, tuple(parts))


Pieces = tuple[tuple[str, bool], ...]


def compile_pieces(items: Iterable[str | Pieces]) -> Matcher:
    """Like ``compile_globs`` for resolved templates: variable text never acts as a wildcard."""
    srcs: list[str] = []
    for item in items:
        if isinstance(item, str):
            srcs.append(glob_regex(item))
        else:
            srcs.append("".join(glob_regex(t) if is_pattern else re.escape(t)
                                for t, is_pattern in item))
    if not srcs:
        return lambda _s: False
    rx = re.compile("|".join(f"(?:{src})" for src in srcs), re.DOTALL)
    fullmatch = rx.fullmatch
    return lambda s: fullmatch(s) is not None
