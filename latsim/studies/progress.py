"""The study's progress bar (rich, on stderr): runs done / total, design points done, ETA.

Silent with ``--quiet`` or when stderr is not a terminal, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any


class StudyProgress:
    """A progress bar across the whole study; every method is a no-op when disabled."""

    def __init__(self, *, enabled: bool, label: str = "study") -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.label = label
        self._bar: Any = None
        self._task: Any = None
        self.points_done = 0
        self.points_total = 0

    def __enter__(self) -> StudyProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                                 TextColumn("{task.fields[points]}"), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(self.label, total=None, points="")
            self._bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def set_totals(self, *, runs_done: int, runs_total: int, points_done: int, points_total: int) -> None:
        self.points_done, self.points_total = points_done, points_total
        if self._bar is not None:
            self._bar.update(self._task, completed=runs_done, total=runs_total,
                             points=f"points {points_done}/{points_total}")

    def advance(self, *, point_finished: bool) -> None:
        if point_finished:
            self.points_done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, points=f"points {self.points_done}/{self.points_total}")
