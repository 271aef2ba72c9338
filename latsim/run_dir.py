"""The run directory of `latsim run --out`: summary.json, per-minute metrics, and (when available)
plots and a report."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from latsim.atomic_write import atomic_write_bytes, atomic_write_text

METRIC_COLUMNS = (("time_s", "float"), ("dimension", "str"), ("name", "str"), ("az", "str"), ("metric", "str"),
                  ("value", "float"))
SERIES_COLUMNS = (("time_s", "float"), ("step_s", "float"), ("dimension", "str"), ("name", "str"),
                  ("metric", "str"), ("value", "float"))


# rows per Parquet row group when metrics.parquet is written: a long run's rows are streamed from
# its closed minutes a group at a time (a run of fewer rows -- every bundled scenario -- is one
# group, as ``pyarrow.parquet.write_table`` writes it)
ROW_GROUP = 65536


def write_metrics(result: Any, out_dir: Path) -> Path:
    """metrics.parquet (per minute, long format) when pyarrow is installed, else metrics.csv."""
    return _write_table(result.iter_metrics(), METRIC_COLUMNS, out_dir, "metrics")


def write_series(result: Any, out_dir: Path) -> Path | None:
    """series.parquet (or .csv): the report's finer-than-a-minute series, when the run has one."""
    if not getattr(result, "series", None):
        return None
    return _write_table(iter(result.series_records()), SERIES_COLUMNS, out_dir, "series")


def _write_table(rows: Iterator[dict[str, Any]], columns: tuple[tuple[str, str], ...], out_dir: Path,
                 stem: str) -> Path:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=[c for c, _ in columns])
        w.writeheader()
        w.writerows(rows)
        path = out_dir / f"{stem}.csv"
        atomic_write_text(path, buf.getvalue())
        return path
    types = {"float": pa.float64(), "str": pa.string()}
    schema = pa.schema([(c, types[t]) for c, t in columns])
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema) as writer:
        first = True
        while True:
            chunk = list(islice(rows, ROW_GROUP))
            if chunk or first:  # an empty table is written as write_table writes it
                writer.write_table(pa.Table.from_arrays([_arrow_column([r[c] for r in chunk], t)
                                                         for c, t in columns], schema=schema))
            first = False
            if len(chunk) < ROW_GROUP:
                break
    path = out_dir / f"{stem}.parquet"
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


def _arrow_column(values: list[Any], kind: str) -> Any:
    """One column as an Arrow array built from its buffers: ``pa.array`` imports pandas (0.2-0.4 s,
    most of what writing a small run's tables cost) to check for pandas objects that are never here."""
    import numpy as np
    import pyarrow as pa
    n = len(values)
    if kind == "float":
        try:
            data = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):  # a None (a null): let Arrow convert it
            return pa.array(values, type=pa.float64())
        return pa.Array.from_buffers(pa.float64(), n, [None, pa.py_buffer(data)])
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    if offsets[-1] >= 2**31:  # beyond a 32-bit offset: Arrow splits it
        return pa.array([str(v) for v in values], type=pa.string())
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)),
                                                  pa.py_buffer(b"".join(encoded))])


def write_run_dir(result: Any, scn: Any, out_dir: Path, *, report: bool = True, painter: Any = None) -> None:
    """The run's files in ``out_dir``; ``painter`` (``latsim.figures.Painter``) draws the figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if report and painter is not None:  # its workers draw while this process writes the tables
        from latsim.figures import figure_specs
        painter.start(result, scn, [s.name for s in figure_specs()], out_dir / "plots")
    write_metrics(result, out_dir)
    write_series(result, out_dir)
    if report:
        from latsim.report import write_report
        write_report(result, scn, out_dir, painter=painter)
    atomic_write_text(out_dir / "summary.json", result.to_json())


# -- the run directory as a whole ---------------------------------------------------------------------
RUN_MARKER = "latsim-run.json"  # says "this directory is a latsim run" (older runs: summary.json)


class RunDir:
    """``--out DIR`` for one run: the directory describes exactly that run.

    ``open`` refuses a non-empty directory that is not a previous latsim run, and one that another
    live run holds (a lock file beside it, ``.NAME.latsim-lock``, with that run's pid; a lock whose
    process is gone is stale and taken over), then returns a staging directory beside ``DIR``
    where the run writes everything. ``commit`` swaps it in: the previous run is replaced as a
    whole (no access logs or plots of it are left behind). ``close`` removes an uncommitted
    staging directory and releases the lock."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.parent = target.parent
        self.lock = self.parent / f".{target.name}.latsim-lock"
        self.stage = self.parent / f".{target.name}.latsim-new-{os.getpid()}"
        self.locked = False
        self.committed = False

    def open(self) -> Path:
        from latsim.errors import UsageError
        t = self.target
        if t.exists() and not t.is_dir():
            raise UsageError(f"--out {t}: a file of that name exists; a run directory is a directory")
        if t.is_dir() and any(t.iterdir()) and not is_run_dir(t):
            raise UsageError(f"--out {t}: the directory is not empty and holds no latsim run (no {RUN_MARKER} or "
                             "summary.json); a run directory is replaced as a whole, so latsim will not write "
                             "into it", hint="choose a new or empty directory")
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {t}: cannot create the run directory ({exc.strerror or exc})") from None
        self._take_lock()
        shutil.rmtree(self.stage, ignore_errors=True)
        self.stage.mkdir()
        return self.stage

    def _take_lock(self) -> None:
        from latsim.errors import UsageError
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _lock_pid(self.lock)
                if pid is not None and _alive(pid):
                    raise UsageError(f"--out {self.target}: another latsim run (pid {pid}) is writing this "
                                     f"directory (lock {self.lock})", hint="wait for it, or choose another "
                                     "directory") from None
                self.lock.unlink(missing_ok=True)  # stale: its run is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            self.locked = True
            return
        raise UsageError(f"--out {self.target}: cannot take the lock {self.lock}")

    def commit(self, marker: dict[str, Any]) -> None:
        """Swap the staging directory in for ``DIR`` (the previous run, if any, goes as a whole)."""
        atomic_write_text(self.stage / RUN_MARKER, json.dumps(marker, indent=2) + "\n")
        old = self.parent / f".{self.target.name}.latsim-old-{os.getpid()}"
        if self.target.exists():
            os.rename(self.target, old)
        os.rename(self.stage, self.target)
        shutil.rmtree(old, ignore_errors=True)
        self.committed = True

    def close(self) -> None:
        if not self.committed:
            shutil.rmtree(self.stage, ignore_errors=True)
        if self.locked and _lock_pid(self.lock) == os.getpid():
            self.lock.unlink(missing_ok=True)
        self.locked = False


def is_run_dir(d: Path) -> bool:
    return (d / RUN_MARKER).is_file() or (d / "summary.json").is_file()


def _lock_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def simulate_with_outputs(scn: Any, *, out_dir: Path | None = None, access_logs: bool = False, report: bool = True,
                          source: Path | None = None, traces: float | None = None,
                          progress: Callable[[float, float, Any], None] | None = None,
                          running: Callable[[Any], contextlib.AbstractContextManager[Any]] | None = None,
                          notify: Callable[[str], None] | None = None, painter: Any = None) -> Any:
    """Simulate one scenario and, with ``out_dir``, write its run directory (``RunDir``: written
    aside, then swapped in whole): summary, metrics, access logs (``access_logs``: for every
    service), request traces (``traces``: the sampling rate of entry requests) and, with
    ``report``, plots and report.html. ``latsim run`` and the tests call this. The hooks are how a
    caller shows the run: ``progress(t, until, sim)`` as simulated time advances, ``running(sim)``
    a context manager around the event loop, ``notify(text)`` one-line notes. ``painter`` (a
    ``latsim.figures.Painter``, forked by the caller as early as it can: ``latsim run`` forks it
    before it loads the scenario) draws the figures; without one, a painter is started here before
    the simulation (and closed after it)."""
    run_dir = RunDir(out_dir) if out_dir is not None else None
    stage = run_dir.open() if run_dir is not None else None  # everything is written there, then swapped in
    try:
        return _simulate_into(scn, run_dir, stage, access_logs=access_logs, report=report, source=source,
                              traces=traces, progress=progress, running=running, notify=notify, painter=painter)
    finally:
        if run_dir is not None:
            run_dir.close()


def _simulate_into(scn: Any, run_dir: RunDir | None, stage: Path | None, *, access_logs: bool, report: bool,
                   source: Path | None, traces: float | None, progress: Callable[[float, float, Any], None] | None,
                   running: Callable[[Any], contextlib.AbstractContextManager[Any]] | None,
                   notify: Callable[[str], None] | None, painter: Any) -> Any:
    writer = own = None
    if stage is not None and report:
        if painter is None:
            # started before the simulation: its workers import matplotlib and draw the topology
            # meanwhile; forked once numpy is imported (matplotlib needs it too) but before the
            # rest of the engine, which they do not need
            import numpy  # noqa: F401

            from latsim.figures import Painter
            painter = own = Painter(scn, stage / "plots")
        else:  # forked by the caller before it loaded the scenario: it draws the topology now
            painter.prepare(scn, stage / "plots")
        # the tables' writer imported now (0.04 s), while the drawing process imports matplotlib
        # (0.2 s, longer than the simulation), rather than after the run beside the drawing
        with contextlib.suppress(ImportError):
            import pyarrow.parquet  # noqa: F401
    from latsim.engine.simulation import Simulation
    if stage is not None:
        if access_logs or (scn.access_logs is not None and scn.access_logs.enabled):
            from latsim.metrics.access_log import AccessLogWriter
            writer = AccessLogWriter.for_run(scn, stage, all_services=access_logs)
    tracer = None
    if traces is not None and stage is not None:
        from latsim.metrics.traces import Tracer
        tracer = Tracer(scn, traces)
    try:
        try:
            sim = Simulation(scn, access_log=writer, progress=progress,
                             base_dir=str(source.parent) if source is not None else None, tracer=tracer,
                             series=stage is not None)  # the finer series only feeds a run directory
            with running(sim) if running is not None else contextlib.nullcontext():
                result = sim.run()
        finally:
            if writer is not None:
                writer.close()
        if stage is not None and run_dir is not None:
            from latsim import __version__
            write_run_dir(result, scn, stage, report=report, painter=painter)
            if tracer is not None:
                path = tracer.write(stage, sim.end_time)
                if notify is not None:
                    notify(f"{len(tracer.traces):,} traces ({tracer.span_count:,} spans) -> "
                           f"{run_dir.target / path.relative_to(stage)}")
            run_dir.commit({"latsim": __version__, "scenario": scn.name, "seed": scn.seed,
                            "partial": bool(result.summary.get("partial"))})
    finally:
        if own is not None:
            own.close()
    return result
