"""The study directory: ``study.json`` (what the study is) and ``results.jsonl`` (what has run).

Each finished run is one JSON line appended with a single ``write`` on an ``O_APPEND`` file
descriptor, then fsync'd: a crash or Ctrl-C can at worst leave a partial *last* line, which
``ResultsLog.open`` cuts off before appending again. Lines are never rewritten, so nothing that
finished is ever lost; ``--resume`` reads them back and skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from latsim.atomic_write import atomic_write_text
from latsim.errors import Location, Problem, ScenarioError, UsageError

RESULTS = "results.jsonl"
MANIFEST = "study.json"
FORMAT = 1


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


def fingerprint(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


class ResultsLog:
    """Append-only JSON-lines log of finished runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def read(self) -> list[dict[str, Any]]:
        """Every complete record; a partial last line (no newline, or cut JSON) is ignored."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        records = []
        lines = raw.split(b"\n")
        complete, last = lines[:-1], lines[-1]
        for i, line in enumerate(complete, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if i == len(complete) and not last:
                    break  # the last line is cut: a run interrupted while it was written
                raise ScenarioError([Problem(f"line {i} is not a run record ({exc.msg})",
                                             Location(str(self.path), i, exc.colno), code="corrupt",
                                             hint="remove the line, or start the study in a new --out")]) from None
        return records

    def open(self) -> None:
        """Open for appending, first cutting a partial last line off."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            raw = self.path.read_bytes()
            keep = raw.rfind(b"\n") + 1
            if keep < len(raw):
                with open(self.path, "r+b") as fh:
                    fh.truncate(keep)
            else:
                # a complete but corrupt last line is also cut (only possible after a crash)
                body = raw[:keep].rstrip(b"\n")
                start = body.rfind(b"\n") + 1
                if body and not _is_json(body[start:]):
                    with open(self.path, "r+b") as fh:
                        fh.truncate(start)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            self.open()
        assert self._fd is not None
        line = (json.dumps(record, separators=(",", ":"), allow_nan=False, default=str) + "\n").encode()
        os.write(self._fd, line)
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def check_manifest(out_dir: Path, manifest: dict[str, Any], *, resume: bool) -> None:
    """Refuse to mix two studies in one directory; write the manifest of a new one."""
    path = out_dir / MANIFEST
    results = out_dir / RESULTS
    has_results = results.exists() and results.stat().st_size > 0
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"{path}: cannot read the study manifest ({exc})") from None
        same = old.get("identity") == manifest["identity"]
        if has_results and not resume:
            raise UsageError(f"{out_dir} already holds results of a study",
                             hint="pass --resume to continue it, or choose another --out")
        if has_results and not same:
            changed = [k for k in manifest["identity"] if old.get("identity", {}).get(k) != manifest["identity"][k]]
            raise UsageError(f"{out_dir} holds a different study (changed: {', '.join(changed) or 'format'})",
                             hint="choose another --out, or remove the directory to start over")
    elif has_results:
        raise UsageError(f"{results} exists without {MANIFEST}", hint="choose another --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, or under a file
        raise UsageError(f"--out {out_dir}: cannot create the study directory ({exc.strerror or exc})") from None
    atomic_write_text(path, json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
