"""An append-only spool of closed minutes: an anonymous temporary file owned by one run.

The recorder writes the minutes it has closed here in blocks (one block per dimension and spill)
and reads them back, block by block, when the per-minute rows are read. The file is created
with ``tempfile.TemporaryFile``: it has no name in the temporary directory (on Linux and other
POSIX systems it is unlinked as it is created), so nothing is left behind whether the run ends,
fails or is killed; its space is freed when the spool is closed or garbage collected with the
``Result`` that reads it.

Blocks are compressed pickles of plain tuples, lists, floats and histograms that this process
wrote itself and reads back (never a file from elsewhere).
"""

from __future__ import annotations

import pickle
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
        # zlib's fastest level: a closed minute is mostly zeros and small counts (8x smaller;
        # the 24 h slow workload: 200 MB of pickles, 25 MB spooled, for 0.4 s of CPU)
        data = zlib.compress(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), 1)
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
        return pickle.loads(zlib.decompress(data))  # noqa: S301 - written by this process, above

    def close(self) -> None:
        self.file.close()

    @property
    def closed(self) -> bool:
        return bool(self.file.closed)
