"""Trace replay: a CSV (``time,method,path[,headers]``) or Lattice access logs (JSON lines,
optionally gzip), read lazily one request at a time — never the whole file in memory.

CSV ``time`` is seconds from the start of the trace (or a duration with a unit); ``headers`` is
``name=value;name2=value2``. Access-log ``startTime`` has one-second precision, so requests
within one second are spread evenly across it, in file order. Times are divided by ``speed``;
``loop`` starts the trace again when it ends. Paths are resolved relative to the scenario file
and are never URLs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from latsim.compile import RequestClass
from latsim.errors import Location, Problem, ScenarioError
from latsim.model.client import RequestSpec
from latsim.units import parse_duration


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115


def _csv_rows(path: Path) -> Iterator[tuple[float, str, str, tuple[tuple[str, str], ...]]]:
    with _open(path) as fh:
        reader = csv.reader(fh)
        for lineno, row in enumerate(reader, start=1):
            if not row or row[0].startswith("#") or (lineno == 1 and row[0].strip().lower() == "time"):
                continue
            try:
                text = row[0].strip()
                t = float(text) if text.replace(".", "", 1).isdigit() else parse_duration(text)
                method = row[1].strip() if len(row) > 1 and row[1].strip() else "GET"
                req_path = row[2].strip() if len(row) > 2 and row[2].strip() else "/"
                headers: tuple[tuple[str, str], ...] = ()
                if len(row) > 3 and row[3].strip():
                    headers = tuple(sorted((k.strip().lower(), v.strip()) for k, _, v in
                                           (h.partition("=") for h in row[3].split(";")) if k.strip()))
            except (ValueError, IndexError) as exc:
                raise ScenarioError([Problem(f"cannot read this replay line: {exc}", Location(str(path), lineno, 1),
                                             allowed="time,method,path[,headers]")]) from None
            yield t, method, req_path, headers


def _log_rows(path: Path) -> Iterator[tuple[float, str, str, tuple[tuple[str, str], ...]]]:
    first: float | None = None
    bucket: list[tuple[str, str]] = []
    second: float | None = None

    def flush() -> Iterator[tuple[float, str, str, tuple[tuple[str, str], ...]]]:
        n = len(bucket)
        for i, (m, p) in enumerate(bucket):
            yield (second or 0.0) + i / n, m, p, ()

    with _open(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                ts = datetime.strptime(rec["startTime"], "%Y-%m-%dT%H:%M:%SZ").timestamp()
            except (ValueError, KeyError, TypeError) as exc:
                raise ScenarioError([Problem(f"not a Lattice access-log record: {exc}",
                                             Location(str(path), lineno, 1))]) from None
            if first is None:
                first = ts
            rel = ts - first
            if second is not None and rel != second:
                yield from flush()
                bucket = []
            second = rel
            bucket.append((str(rec.get("requestMethod") or "GET"), str(rec.get("requestPath") or "/")))
    if bucket:
        yield from flush()


class Replayer:
    """Feeds a client from a trace file, one scheduled event per request."""

    def __init__(self, sim: Any, cs: Any, spec: Any) -> None:
        self.sim = sim
        self.cs = cs
        self.spec = spec
        base = Path(sim.base_dir) if sim.base_dir else Path.cwd()
        self.path = (base / spec.file).resolve()
        if not self.path.is_file():
            raise ScenarioError([Problem(f"replay file {spec.file} not found (looked in {base})",
                                         Location(path=f"clients.{cs.name}.arrival.replay.file"))])
        fmt = spec.format or ("access_log" if ".jsonl" in self.path.name or ".json" in self.path.name else "csv")
        self.reader = _log_rows if fmt == "access_log" else _csv_rows
        self.offset = 0.0
        self.rows = self.reader(self.path)
        self.classes: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = {}
        self.last = 0.0

    def start(self) -> None:
        self._next()

    def _spec_index(self, method: str, path: str, headers: tuple[tuple[str, str], ...]) -> int:
        key = (method, path, headers)
        idx = self.classes.get(key)
        if idx is None:
            cs = self.cs
            base = cs.specs[0]
            spec = RequestSpec(method=method, path=path, headers=dict(headers), url=base.url,
                               protocol=base.protocol)
            cs.specs.append(spec)
            cs.classes.append(RequestClass.of(cs.model, spec))
            cs.body.append(cs.body[0])
            cs.resp.append(cs.resp[0])
            cs.routes.append(None)
            idx = self.classes[key] = len(cs.specs) - 1
        return idx

    def _next(self) -> None:
        sim = self.sim
        try:
            t, method, path, headers = next(self.rows)
        except StopIteration:
            if not self.spec.loop or self.last <= 0:
                return
            self.offset += self.last
            self.rows = self.reader(self.path)
            try:
                t, method, path, headers = next(self.rows)
            except StopIteration:
                return
        self.last = max(self.last, t)
        at = (self.offset + t) / self.spec.speed
        if at >= sim.scn.duration:
            return
        at = max(at, sim.now)
        sim.at(at, self._fire, self._spec_index(method, path, headers))

    def _fire(self, ev: Any) -> None:
        self.sim.send_new(self.cs, -1, self.sim.now, spec=ev._value)
        self._next()
