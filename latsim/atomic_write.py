"""Crash-safe file output: write to a temporary file beside the target, fsync it, then rename it
over the target (``atomic_write_text``, ``atomic_write_bytes``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from latsim.errors import LatsimError, Location


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Raises LatsimError when the file cannot be written (a directory there, no permission, ...)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as exc:
        raise _cannot_write(p, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _cannot_write(p, exc) from None
        raise


def _cannot_write(path: Path, exc: OSError) -> LatsimError:
    return LatsimError(f"cannot write the file: {exc.strerror or exc}", location=Location(str(path)))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
