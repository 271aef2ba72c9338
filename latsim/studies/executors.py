"""Where the runs of a study execute: in this process, in a local process pool, or on Dask.

A ``Task`` carries everything one run needs — design point index, replication, seed and the
scenario as plain data — and ``run_task`` gives back a compact record: the run's summary dict
(never raw samples) or the error it raised. Every executor yields those records as runs finish,
in whatever order; the study sorts them, so the tables are byte-identical whatever the executor
and however many workers.

Ctrl-C: the executors cancel what has not started and stop the workers; only the runs in flight
are lost (a study appends each finished run to its results file as soon as it arrives).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from latsim.errors import RunAborted, UsageError


@dataclass(frozen=True)
class Task:
    point: int
    replication: int
    seed: int
    data: dict[str, Any]
    base_dir: str | None = None


def run_task(task: Task) -> dict[str, Any]:
    """Run one replication of one design point; errors are recorded, not raised."""
    from latsim.engine import simulate
    from latsim.errors import ScenarioError
    from latsim.scenario import scenario_from_data

    t0 = time.perf_counter()
    record: dict[str, Any] = {"point": task.point, "replication": task.replication, "seed": task.seed}
    data = dict(task.data)
    data["seed"] = task.seed
    try:
        scn = scenario_from_data(data)
        result = simulate(scn, base_dir=task.base_dir, series=False)  # a summary is all a study keeps
    except ScenarioError as exc:
        record.update(summary=None, error="; ".join(p.format() for p in exc.problems))
    except Exception as exc:  # noqa: BLE001  (a failing run is recorded and the study goes on)
        record.update(summary=None, error=f"{type(exc).__name__}: {exc}")
    else:
        if result.summary.get("partial"):
            # the engine stops early on Ctrl-C and returns what it had: not a finished run
            raise KeyboardInterrupt
        record.update(summary=result.summary, error=None)
    record["wall_s"] = round(time.perf_counter() - t0, 3)
    return record


class Executor(Protocol):
    """Runs tasks and yields their records as they finish."""

    name: str

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """One run after another in this process (the reference, and the easiest to debug)."""

    name = "serial"

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        for task in tasks:
            yield run_task(task)

    def close(self) -> None:
        pass


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the parent decides, the workers just stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor:
    """A local pool of ``jobs`` worker processes (spawned, so no state leaks from the parent)."""

    name = "processes"

    def __init__(self, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = jobs
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_ignore_sigint)

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        from concurrent.futures import FIRST_COMPLETED, Future, wait
        from concurrent.futures.process import BrokenProcessPool

        pending: set[Future[dict[str, Any]]] = set()
        queue = list(reversed(tasks))
        try:
            while queue or pending:
                # keep a short queue per worker: a cancelled study leaves little submitted work
                while queue and len(pending) < 2 * self.jobs:
                    task = queue.pop()
                    try:
                        fut = self.pool.submit(run_task, task)
                    except BrokenProcessPool as exc:
                        raise RunAborted(f"the worker processes stopped: {exc}",
                                         hint="run with --jobs 1 to see what fails") from None
                    fut.task = task  # type: ignore[attr-defined]
                    pending.add(fut)
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: (f.task.point, f.task.replication)):  # type: ignore[attr-defined]
                    yield _result_or_error(fut, fut.task)  # type: ignore[attr-defined]
        except BaseException:
            for fut in pending:
                fut.cancel()
            self._terminate()
            raise

    def _terminate(self) -> None:
        # ProcessPoolExecutor has no public way to stop running work; its worker processes are
        # reachable through ``_processes`` (stable since Python 3.2). Without this, Ctrl-C would
        # wait for every run in flight to finish.
        for proc in list(getattr(self.pool, "_processes", {}).values()):
            if proc.is_alive():
                proc.terminate()
        # wait for the pool's manager thread (quick: its workers are gone). Left running, it closes
        # its wake-up pipe while the interpreter's exit hook writes to it (a race of CPython 3.11's
        # concurrent.futures): "OSError: Bad file descriptor" printed after a clean Ctrl-C
        self.pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _result_or_error(fut: Any, task: Task) -> dict[str, Any]:
    """A worker that died (killed, out of memory) is recorded as that run's error."""
    try:
        record: dict[str, Any] = fut.result()
        return record
    except Exception as exc:  # noqa: BLE001
        return {"point": task.point, "replication": task.replication, "seed": task.seed, "summary": None,
                "error": f"worker failed: {type(exc).__name__}: {exc}", "wall_s": 0.0}


class DaskExecutor:
    """Runs on a Dask cluster: ``local`` starts a LocalCluster of two single-threaded worker
    processes; ``tcp://host:8786`` connects to a running scheduler (its workers need latsim)."""

    name = "dask"

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--dask needs the dask extra", hint="pip install 'latsim[dask]'") from None
        import logging

        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"--dask {address}: cannot connect to the scheduler ({exc})",
                                 hint="start one with 'dask scheduler' and workers with 'dask worker ADDRESS'"
                                 ) from None

    def run(self, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        from distributed import as_completed

        futures = self.client.map(run_task, list(tasks), pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        try:
            for fut in as_completed(futures):
                yield _result_or_error(fut, by_key[fut.key])
        except BaseException:
            self.client.cancel(futures)
            raise

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(*, jobs: int | None = None, dask: str | None = None) -> Executor:
    """``--dask`` wins; else ``--jobs`` (default: the number of cores; 1 = in this process)."""
    if dask:
        return DaskExecutor(dask)
    n = jobs if jobs is not None else (os.cpu_count() or 1)
    if n < 1:
        raise UsageError(f"--jobs must be at least 1, got {n}")
    if n == 1:
        return SerialExecutor()
    return ProcessExecutor(n)
