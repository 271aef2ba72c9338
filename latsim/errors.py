"""The LatsimError hierarchy: every error a user can cause carries a location and a hint.

A message reads ``FILE:LINE:COL: dotted.path: what is wrong (what is allowed)``; the CLI
prints all errors of a file at once and exits with code 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem sits: a file (optional), a line and column (1-based), a dotted path."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str = ""
    keys: tuple[str | int, ...] = ()

    def prefix(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.path:
            parts.append(self.path)
        return ": ".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem; ``severity`` is ``error``, ``warning`` or ``info``."""

    message: str
    location: Location = field(default_factory=Location)
    allowed: str | None = None
    hint: str | None = None
    severity: str = "error"
    code: str | None = None

    def format(self) -> str:
        text = self.message
        if self.allowed:
            text += f" ({self.allowed})"
        if self.hint:
            text += f"; {self.hint}"
        prefix = self.location.prefix()
        if self.severity != "error":
            text = f"{self.severity}: {text}"
        return f"{prefix}: {text}" if prefix else text

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "severity": self.severity,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "path": loc.path,
            "message": self.message,
            "allowed": self.allowed,
            "hint": self.hint,
            "code": self.code,
        }


class LatsimError(Exception):
    """Base class of every error latsim reports to a user (never a traceback)."""

    exit_code = 2

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None,
                 allowed: str | None = None) -> None:
        self.problem = Problem(message, location or Location(), allowed=allowed, hint=hint)
        super().__init__(self.problem.format())

    @property
    def problems(self) -> list[Problem]:
        return [self.problem]


class ScenarioError(LatsimError):
    """A scenario (or policy, or import) with one or more problems; carries them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        errs = [p for p in problems if p.severity == "error"]
        self._problems = list(problems)
        first = errs[0] if errs else (problems[0] if problems else Problem("invalid input"))
        Exception.__init__(self, "\n".join(p.format() for p in errs) or first.format())
        self.problem = first

    @property
    def problems(self) -> list[Problem]:
        return [p for p in self._problems if p.severity == "error"]

    @property
    def all_problems(self) -> list[Problem]:
        return list(self._problems)


class UsageError(LatsimError):
    """Bad command-line usage (wrong flag value, unknown client name, ...)."""


class RunAborted(LatsimError):
    """A run refused before it starts (e.g. estimated event count over the limit)."""


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """Return ``did you mean 'x'?`` for the closest choice, or None."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
