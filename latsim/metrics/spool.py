"""An append-only spool of closed minutes: an anonymous temporary file owned by one run.

The recorder writes the minutes it has closed here in blocks (one block per dimension and spill)
and reads them back, block by block, when the per-minute rows are read. The file is created
with ``tempfile.TemporaryFile``: it has no name in the temporary directory (on Linux and other
POSIX systems it is unlinked as it is created), so nothing is left behind whether the run ends,
fails or is killed; its space is freed when the spool is closed or garbage collected with the
``Result`` that reads it.

A block is plain data -- tuples, lists, dicts, numbers, strings and bytes (histograms as
``LogHistogram.state()``) -- in ``marshal``'s format, compressed; this process writes it and reads
it back (never a file from elsewhere).
"""

from __future__ import annotations

import marshal
import tempfile
import zlib
from typing import Any


class Spool:
    """Write objects, get back where (``(offset, length)``), read them again."""

    def __init__(self, directory: str | None = None) -> None:
        self.file = tempfile.TemporaryFile(prefix="latsim-minutes-", dir=directory)
        self.size = 0  # bytes written (the end of the file)
        self.blocks = 0

    def write(self, obj: Any) -> tuple[int, int]:
        # zlib's fastest level: a closed minute is mostly zeros and small counts (about 8x smaller,
        # for under 1 % of the run's CPU)
        data = zlib.compress(marshal.dumps(obj), 1)
        at = self.size
        self.file.seek(at)
        self.file.write(data)
        self.size += len(data)
        self.blocks += 1
        return at, len(data)

    def read(self, where: tuple[int, int]) -> Any:
        at, n = where
        self.file.seek(at)
        data = self.file.read(n)
        if len(data) != n:
            raise OSError(f"the minute spool is short: {len(data)} of {n} bytes at {at}")
        return marshal.loads(zlib.decompress(data))

    def close(self) -> None:
        self.file.close()

    @property
    def closed(self) -> bool:
        return bool(self.file.closed)
