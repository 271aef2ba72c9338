"""The figures of a run directory (``plots/``): which are still fresh, and drawing the others.

``update_figures`` is what ``write_report`` calls. A figure is *fresh* when ``plots/plots.json``
(written beside the figures) records the same digest of their inputs — the summary, the
per-minute and fine series, the histograms, the scenario, latsim's and matplotlib's versions and
the drawing code — and its PNG and SVG still have the bytes recorded there; a fresh figure is
reused as it is (``latsim report DIR`` of an untouched directory draws nothing). Any other figure
is drawn again, missing or stale ones alike.

Drawing is matplotlib's (0.1-0.4 s a figure, 0.4 s to import). ``Painter`` draws in worker
processes (``fork``; ``LATSIM_PLOT_WORKERS``, else 2 when there are 2 CPUs and one is idle, 0 draws
in this process): ``latsim run --out`` starts them before the simulation, so that they import
matplotlib and draw the topology (it needs only the scenario) while the simulation runs, and
hands them the result when it is ready, before it writes its tables; they then take the figures
one at a time. Output is the same bytes whichever process draws a figure.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

MANIFEST = "plots.json"
_SCN_ONLY = ("topology",)  # figures drawn from the scenario alone (a worker draws them during the run)


def inputs_digest(result: Any, scenario_text: str, histograms_text: str) -> str:
    """sha256 of everything the figures are drawn from and of what draws them."""
    from importlib.metadata import PackageNotFoundError, version

    from latsim import __version__
    h = hashlib.sha256()
    try:
        mpl = version("matplotlib")
    except PackageNotFoundError:  # pragma: no cover - the report needs it anyway
        mpl = "-"
    h.update(f"latsim {__version__} matplotlib {mpl}\n".encode())
    here = Path(__file__).parent
    for module in ("plots.py", "plots_callgraph.py"):
        try:
            h.update(hashlib.sha256((here / module).read_bytes()).digest())
        except OSError:  # no source beside the package: its version stands for it
            h.update(module.encode())
    h.update(result.to_json().encode())
    # as the run directory stores them (metrics.parquet: floats and strings), so that a run and
    # the same run read back from its directory agree
    h.update(json.dumps([[float(t), k, n, az, m, float(v)] for t, k, n, az, m, v in result.metric_rows]).encode())
    h.update(json.dumps([int(getattr(result, "series_step", 60) or 60)]
                        + [[float(t), k, n, m, float(v)] for t, k, n, m, v in (result.series or [])]).encode())
    h.update(scenario_text.encode())
    h.update(histograms_text.encode())
    return h.hexdigest()


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def fresh_figures(plots_dir: Path, digest: str) -> dict[str, tuple[Path, ...]]:
    """name -> its files (empty: the figure had nothing to draw) for every figure that
    ``plots.json`` records for ``digest`` and whose files still have the recorded bytes."""
    try:
        manifest = json.loads((plots_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("inputs") != digest:
        return {}
    out: dict[str, tuple[Path, ...]] = {}
    for name, files in (manifest.get("figures") or {}).items():
        if not isinstance(files, dict):
            continue
        paths = tuple(plots_dir / f for f in sorted(files))
        if all(p.parent == plots_dir and _sha(p) == files[p.name] for p in paths):
            out[str(name)] = paths
    return out


def write_manifest(plots_dir: Path, digest: str, figures: dict[str, tuple[Path, ...]]) -> None:
    from latsim.atomic_write import atomic_write_text
    record = {"inputs": digest,
              "figures": {name: {p.name: _sha(p) for p in paths} for name, paths in sorted(figures.items())}}
    atomic_write_text(plots_dir / MANIFEST, json.dumps(record, indent=1, sort_keys=True) + "\n")


def update_figures(result: Any, scn: Any, plots_dir: Path, *, scenario_text: str, histograms_text: str,
                   painter: Painter | None = None, redraw: bool = False) -> tuple[list[Any], int, int]:
    """(the figures of the report in its order, how many were drawn, how many reused): fresh
    figures reused (all drawn again with ``redraw``), the rest drawn (by ``painter`` when given)."""
    from latsim.plots import RenderedPlot
    plots_dir.mkdir(parents=True, exist_ok=True)
    digest = inputs_digest(result, scenario_text, histograms_text)
    fresh = {} if redraw else fresh_figures(plots_dir, digest)
    specs = figure_specs()
    todo = [s.name for s in specs if s.name not in fresh]
    reused = sum(1 for s in specs if fresh.get(s.name))
    if todo:
        own = painter is None
        if own:
            painter = Painter(workers=_workers() if len(todo) > 1 else 0)
        assert painter is not None
        try:
            drawn = painter.draw(result, scn, todo, plots_dir)
        finally:
            if own:
                painter.close()
        fresh.update(drawn)
    figures = {s.name: fresh.get(s.name, ()) for s in specs}
    for s in specs:  # a figure with nothing to draw now leaves no file of an earlier one behind
        if not figures[s.name]:
            for ext in (".png", ".svg"):
                (plots_dir / f"{s.name}{ext}").unlink(missing_ok=True)
    write_manifest(plots_dir, digest, figures)
    rendered = [RenderedPlot(s.name, s.title, s.caption, figures[s.name]) for s in specs if figures[s.name]]
    return rendered, sum(1 for n in todo if figures[n]), reused


# -- drawing, in worker processes when it pays ----------------------------------------------------------
def _workers() -> int:
    """Worker processes to draw with: ``LATSIM_PLOT_WORKERS`` (0 = this process); else 2 where
    ``fork`` exists, there are 2 CPUs and one of them is idle (the 1-minute load average below
    the CPU count - 0.5: on a busy machine workers only add their own imports), and this process
    runs no other thread."""
    import threading
    raw = os.environ.get("LATSIM_PLOT_WORKERS")
    if raw is not None:
        try:
            n = int(raw)
        except ValueError:
            n = -1
        if n < 0:
            from latsim.errors import UsageError
            raise UsageError(f"LATSIM_PLOT_WORKERS={raw!r}: expected a whole number >= 0 (0 draws the figures "
                             "in latsim's own process)")
    else:
        cpus = os.cpu_count() or 1
        try:
            idle = os.getloadavg()[0] < cpus - 0.5
        except OSError:  # no load average on this system
            idle = True
        # never fork a process that runs other threads (a notebook's Dask client, a study's pool):
        # a lock one of them holds would stay held in the child, and the drawing would wait forever
        n = 2 if cpus >= 2 and idle and threading.active_count() == 1 else 0
    if n and (sys.platform == "win32" or "fork" not in _start_methods()):
        return 0
    return n


def _start_methods() -> list[str]:
    import multiprocessing
    return multiprocessing.get_all_start_methods()


def figure_specs() -> tuple[Any, ...]:
    """Every figure a report can hold (``latsim.plots.PlotSpec``), in its order: ``PLOTS``, then
    the call-graph figures."""
    from latsim.plots import PLOTS, PlotSpec
    from latsim.plots_callgraph import CALLGRAPH_PLOTS
    return PLOTS + tuple(PlotSpec(*spec) for spec in CALLGRAPH_PLOTS)


def _draw(name: str, result: Any, scn: Any, plots_dir: Path) -> tuple[Path, ...]:
    spec = next(s for s in figure_specs() if s.name == name)
    return tuple(spec.fn(result, scn, plots_dir / name))


def _worker(conn: Any, scn: Any, plots_dir: Path | None, first: bool) -> None:
    """A drawing process: imports matplotlib and, forked with a scenario, draws the
    scenario-only figures (``first``); then takes ``("job", result, scenario or None, directory)``
    and ``("draw", name)`` requests. An exception goes back as text."""
    import signal
    import traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run, which then still wants its figures
    done: dict[str, tuple[Path, ...]] = {}
    try:  # the imports (0.4-0.6 s) overlap the parent's loading and simulation
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.backends.backend_svg  # noqa: F401
        import matplotlib.figure  # noqa: F401
        if scn is None:  # the scenario comes with the result: its model classes unpickle it
            import latsim.model.graph  # noqa: F401
            import latsim.scenario  # noqa: F401
        elif first and plots_dir is not None:
            for name in _SCN_ONLY:
                done[name] = _draw(name, None, scn, plots_dir)
    except Exception:  # noqa: BLE001 - the parent draws it again and reports the error itself
        done = {}
    result = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        if msg[0] == "job":
            _, result, new_scn, new_dir = msg
            if new_scn is not None or new_dir != plots_dir:
                done = {}  # drawn for another scenario or directory
            scn = new_scn if new_scn is not None else scn
            plots_dir = new_dir
            continue
        name = msg[1]
        try:
            assert plots_dir is not None
            paths = done.pop(name) if name in done else _draw(name, result, scn, plots_dir)
            conn.send(("ok", name, paths))
        except Exception:  # noqa: BLE001
            conn.send(("error", name, traceback.format_exc()))


class _Job:
    """One result's figures among the workers: what is left, who draws what, what is done."""

    def __init__(self, result: Any, scn: Any, plots_dir: Path, todo: list[str]) -> None:
        self.result, self.scn, self.plots_dir, self.todo, self.names = result, scn, plots_dir, todo, set(todo)
        self.busy: dict[Any, str] = {}
        self.here: list[str] = []
        self.out: dict[str, tuple[Path, ...]] = {}

    def give(self, conn: Any) -> None:
        if self.todo:
            self.busy[conn] = self.todo.pop(0)
            conn.send(("draw", self.busy[conn]))


class Painter:
    """Draws figures in ``workers`` forked processes (0, or none left: in this one). Forked
    before the result exists — ``latsim run --out`` forks them before it loads the scenario —
    the workers import matplotlib meanwhile, and, given the scenario and the directory, draw
    what needs nothing else; ``start`` hands them the result, ``draw`` collects."""

    def __init__(self, scn: Any = None, plots_dir: Path | None = None, *, workers: int | None = None) -> None:
        self.scn = scn
        self.plots_dir = plots_dir
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.job: _Job | None = None
        n = _workers() if workers is None else workers
        if n:
            import multiprocessing
            ctx = multiprocessing.get_context("fork")
            if plots_dir is not None:
                plots_dir.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_worker, args=(child, scn, plots_dir, i == 0), daemon=True,
                                   name=f"latsim-plots-{i}")
                proc.start()
                child.close()
                self.conns.append(parent)
                self.procs.append(proc)

    def start(self, result: Any, scn: Any, names: Sequence[str], plots_dir: Path) -> None:
        """Hand the workers ``result`` (and ``scn`` unless they were forked with it) and their
        first figures, and return: the caller writes its tables meanwhile; ``draw`` collects."""
        plots_dir.mkdir(parents=True, exist_ok=True)
        # the scenario-only figures first, to the first worker: it may have drawn them already
        self.job = _Job(result, scn, plots_dir, sorted(names, key=lambda n: n not in _SCN_ONLY))
        for conn in self.conns:
            try:
                conn.send(("job", result, None if scn is self.scn else scn, plots_dir))
                self.job.give(conn)
            except Exception:  # noqa: BLE001 - a worker gone, or a result it cannot be sent
                continue

    def draw(self, result: Any, scn: Any, names: Sequence[str], plots_dir: Path) -> dict[str, tuple[Path, ...]]:
        """name -> written files (empty when the figure had nothing to draw), for ``names``;
        a figure a worker could not draw is drawn here (so that its error is this process's)."""
        from multiprocessing.connection import wait
        job = self.job
        if (job is None or job.result is not result or job.scn is not scn or job.plots_dir != plots_dir
                or not set(names) <= job.names):
            self.start(result, scn, names, plots_dir)
            job = self.job
        assert job is not None
        self.job = None
        while job.busy:
            for ready in wait(list(job.busy)):
                conn = cast(Any, ready)
                name = job.busy.pop(conn)
                try:
                    kind, _, payload = conn.recv()
                except (EOFError, OSError):  # the worker died: its figure is drawn here
                    job.here.append(name)
                    continue
                if kind == "ok":
                    job.out[name] = tuple(payload)
                else:
                    job.here.append(name)
                job.give(conn)
        for name in job.here + job.todo:
            job.out[name] = _draw(name, result, scn, plots_dir)
        return {name: job.out[name] for name in names}

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
                conn.close()
            except (OSError, ValueError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        self.conns, self.procs = [], []
