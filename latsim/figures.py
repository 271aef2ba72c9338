"""The figures of a run directory (``plots/``): which are still fresh, and drawing the others.

``update_figures`` is what ``write_report`` calls. A figure is *fresh* when ``plots/plots.json``
(written beside the figures) records the same digest of their inputs — the summary, the
per-minute and fine series, the histograms, the scenario, latsim's and matplotlib's versions and
the drawing code — and its PNG and SVG still have the bytes recorded there; a fresh figure is
reused as it is (``latsim report DIR`` of an untouched directory draws nothing). Any other figure
is drawn again, missing or stale ones alike.

Drawing is matplotlib's (0.06-0.15 s a figure, 0.2 s to import). ``Painter`` draws in worker
processes (``fork``; ``LATSIM_PLOT_WORKERS``, else one per usable CPU up to 4 when there are 2 or
more, 0 draws in this process): ``latsim run --out`` forks the first as it starts, before it
reads its command line and loads the scenario, so that it imports matplotlib meanwhile; it forks
the others from itself once matplotlib is imported. Given the scenario's ``Scene`` (plain data:
no worker imports pydantic or latsim's models) as soon as it is loaded, the first draws the
topology while latsim simulates. They get the result when it is ready, before this process writes
its tables, and take the figures one at a time, the costliest first. Output is the same bytes
whichever process draws a figure.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
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
MAX_WORKERS = 4


def _workers() -> int:
    """Worker processes to draw with: ``LATSIM_PLOT_WORKERS`` (0 = this process); else one per CPU
    this process may run on (up to ``MAX_WORKERS``) when there are at least 2, ``fork`` exists and
    this process runs no other thread. The workers cost no more CPU than drawing here (only the
    first one imports matplotlib, the others are forked from it), so a busy machine is no reason
    to draw in one process."""
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
        cpus = _usable_cpus()
        # never fork a process that runs other threads (a notebook's Dask client, a study's pool):
        # a lock one of them holds would stay held in the child, and the drawing would wait forever
        n = min(cpus, MAX_WORKERS) if cpus >= 2 and threading.active_count() == 1 else 0
    if n and (sys.platform == "win32" or "fork" not in _start_methods()):
        return 0
    return n


def _start_methods() -> list[str]:
    import multiprocessing
    return multiprocessing.get_all_start_methods()


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask: a container's or taskset's limit)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on this system
        return os.cpu_count() or 1


def figure_specs() -> tuple[Any, ...]:
    """Every figure a report can hold (``latsim.plots.PlotSpec``), in its order: ``PLOTS``, then
    the call-graph figures."""
    from latsim.plots import PLOTS, PlotSpec
    from latsim.plots_callgraph import CALLGRAPH_PLOTS
    return PLOTS + tuple(PlotSpec(*spec) for spec in CALLGRAPH_PLOTS)


def _scene(scn: Any) -> Any:
    from latsim.plots import Scene
    return Scene.of(scn)


def _draw(name: str, result: Any, scene: Any, plots_dir: Path) -> tuple[Path, ...]:
    spec = next(s for s in figure_specs() if s.name == name)
    return tuple(spec.fn(result, scene, plots_dir / name))


# the order in which figures are handed out: about the costliest first (CPU seconds measured on
# the quickstart: target-group latency 0.14, CDFs 0.12, request rates 0.09, latency 0.09, heatmap
# 0.07, health 0.06; the first worker starts with the topology, 0.14), arranged so that the two
# workers end together: the heatmap before the request rates, else one of them waited 0.02 s for
# the other at the end (the same in each of 6 timelines); figures not named here come last
_COST_ORDER = ("topology", "target_group_latency", "latency_cdf", "latency", "canary", "az_heatmap",
               "request_rates", "target_health")


def _by_cost(names: Sequence[str]) -> list[str]:
    rank = {n: i for i, n in enumerate(_COST_ORDER)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))


def _lead(conns: list[Any], theirs: list[Any], scene: Any, plots_dir: Path | None, shared: int) -> None:
    """The first drawing process (forked by latsim): imports matplotlib, then forks the other
    workers from itself (they start with matplotlib imported: its import is paid once), draws
    the scene-only figures and serves ``conns[0]``; waits for the others before it ends.
    ``theirs``, latsim's ends of the pipes, are closed first: a worker holding one would never
    see latsim end (were it killed) and would wait for it forever. It needs neither pydantic nor
    latsim's models: the scenario comes as its ``Scene``."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run, which then still wants its figures
    for conn in theirs:
        conn.close()
    ok = True
    try:  # the imports (0.2-0.3 s) overlap the parent's loading and simulation
        _skip_property_docs()
        with _without_3d():
            import matplotlib.backends.backend_agg  # noqa: F401
            import matplotlib.backends.backend_svg  # noqa: F401
            import matplotlib.figure  # noqa: F401

        import latsim.plots  # noqa: F401
        import latsim.results  # noqa: F401  (what a result unpickles into)
    except Exception:  # noqa: BLE001 - the parent draws everything and reports the error itself
        ok = False
    # what is imported stays: out of the collector's sight, its full collections no longer walk
    # (and, in a forked worker, copy the pages of) matplotlib's modules — 0.03-0.05 s of a
    # worker's first figure
    gc.freeze()
    children = []
    for i, conn in enumerate(conns[1:], start=1):
        pid = os.fork() if ok else -1
        if pid == 0:  # a worker: serves its own connection only
            for j, other in enumerate(conns):
                if j != i:
                    other.close()
            try:
                _serve(conn, scene, plots_dir, shared, ok, first=False)
            finally:
                os._exit(0)
        conn.close()  # the worker's (or, without one, the parent sees the end of it and draws its share)
        if pid > 0:
            children.append(pid)
    try:
        _serve(conns[0], scene, plots_dir, shared, ok, first=True)
    finally:
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)  # their CPU time is counted with this process's, as a user's shell sees it


@contextlib.contextmanager
def _without_3d() -> Iterator[None]:
    """matplotlib registers its 3D axes when it is imported (mpl_toolkits.mplot3d: 0.01 s, on the
    way to the first figure); a drawing process never draws in 3D, so that import is skipped
    (matplotlib then warns that 3D is unavailable, which is true and not worth saying here).
    Afterwards mpl_toolkits.mplot3d imports as usual again."""
    import warnings
    name = "mpl_toolkits.mplot3d"
    if "matplotlib.projections" in sys.modules or name in sys.modules:
        yield  # imported already: nothing left to save
        return
    sys.modules[name] = None  # type: ignore[assignment]  # importing it now raises ImportError
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unable to import Axes3D")
            yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


def _skip_property_docs() -> None:
    """matplotlib writes, for every Artist class it defines, a docstring listing every property
    and its valid values (parsed from the setters' docstrings): 0.08 s of its 0.28 s import. A
    drawing process never shows a docstring, so it skips them (the signatures stay)."""
    if "matplotlib.figure" in sys.modules:
        return  # imported already: nothing left to save
    try:
        import matplotlib.artist
    except ImportError:
        return
    if callable(getattr(matplotlib.artist, "kwdoc", None)):
        matplotlib.artist.kwdoc = lambda artist: ""


def _serve(conn: Any, scene: Any, plots_dir: Path | None, shared: int, ok: bool, *, first: bool) -> None:
    """A drawing process's loop: with a scene and a directory, draws the scene-only figures
    first (``first``); then takes ``("scene", offset, size)`` — the pickled (``Scene``, directory)
    at that place of the file ``shared``, whose scene-only figures it draws at once —, ``("job",
    offset, size)`` — the pickled (result, ``Scene`` or None, directory) — and ``("draw", name)``
    requests, and answers each draw with ``("ok", name, paths)`` or ``("error", name, traceback)``."""
    import pickle
    import traceback
    done: dict[str, tuple[Path, ...]] = {}

    def early() -> dict[str, tuple[Path, ...]]:
        out: dict[str, tuple[Path, ...]] = {}
        if ok and scene is not None and plots_dir is not None:
            try:
                for name in _SCN_ONLY:
                    out[name] = _draw(name, None, scene, plots_dir)
            except Exception:  # noqa: BLE001 - drawn again on request, where the error is reported
                return {}
        return out

    if first:
        done = early()
    result = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        if msg[0] in ("scene", "job"):
            try:
                loaded = pickle.loads(os.pread(shared, msg[2], msg[1]))
            except Exception:  # noqa: BLE001 - every figure of this job then fails here
                loaded = (None, None, None) if msg[0] == "job" else (None, None)
            if msg[0] == "scene":
                scene, plots_dir = loaded
                done = early()
                continue
            result, new_scene, new_dir = loaded
            if new_scene != scene or new_dir != plots_dir:
                done = {}  # drawn for another scenario or directory
            scene, plots_dir = new_scene, new_dir
            continue
        name = msg[1]
        try:
            if not ok or plots_dir is None:
                raise RuntimeError("this worker cannot draw (matplotlib did not import)")
            paths = done.pop(name) if name in done else _draw(name, result, scene, plots_dir)
            conn.send(("ok", name, paths))
        except Exception:  # noqa: BLE001
            conn.send(("error", name, traceback.format_exc()))


class _Job:
    """One result's figures among the workers: what is left, who draws what, what is done."""

    def __init__(self, result: Any, scn: Any, scene: Any, plots_dir: Path, todo: list[str]) -> None:
        self.result, self.scn, self.scene, self.plots_dir = result, scn, scene, plots_dir
        self.todo, self.names = todo, set(todo)
        self.busy: dict[Any, str] = {}
        self.here: list[str] = []
        self.out: dict[str, tuple[Path, ...]] = {}

    def give(self, conn: Any) -> None:
        if self.todo:
            self.busy[conn] = self.todo.pop(0)
            conn.send(("draw", self.busy[conn]))


class Painter:
    """Draws figures in ``workers`` processes (0, or none left: in this one). One is forked from
    this process — ``latsim run --out`` forks it before it loads the scenario — and, once it has
    imported matplotlib, forks the others from itself. ``prepare`` (or the constructor) gives it
    the scenario and the directory: it draws what needs nothing else while latsim simulates.
    ``start`` hands them the result (through a temporary file shared by the fork: a pipe would
    make this process wait until a worker reads it), ``draw`` collects. The workers get the
    scenario as its ``Scene`` (plain data): they never import pydantic or latsim's models."""

    def __init__(self, scn: Any = None, plots_dir: Path | None = None, *, workers: int | None = None) -> None:
        self.scn = scn
        self.scene = _scene(scn)
        self.plots_dir = plots_dir
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.job: _Job | None = None
        self.shared: Any = None
        self.served = False  # whether the workers were ever given something to do
        n = _workers() if workers is None else workers
        if n:
            import multiprocessing
            import tempfile
            ctx = multiprocessing.get_context("fork")
            if plots_dir is not None:
                plots_dir.mkdir(parents=True, exist_ok=True)
            self.shared = tempfile.TemporaryFile()  # unlinked already: gone with the last process
            pipes = [ctx.Pipe() for _ in range(n)]
            proc = ctx.Process(target=_lead, args=([c for _, c in pipes], [p for p, _ in pipes], self.scene,
                                                    plots_dir, self.shared.fileno()), daemon=True, name="latsim-plots")
            gc.freeze()  # the worker's collector leaves this process's objects alone (this one's: unfrozen below)
            try:
                proc.start()
            finally:
                gc.unfreeze()
            for parent, child in pipes:
                child.close()
                self.conns.append(parent)
            self.procs.append(proc)

    def _put(self, obj: Any) -> tuple[int, int]:
        """``obj`` pickled into the shared file: (its offset, its size)."""
        import pickle
        data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
        offset = self.shared.seek(0, os.SEEK_END)  # each its own place: a worker may read an older one late
        self.shared.write(data)
        self.shared.flush()
        return offset, len(data)

    def prepare(self, scn: Any, plots_dir: Path) -> None:
        """The scenario and the directory of the figures to come: the first worker draws the
        scene-only figures (the topology) now, while this process simulates."""
        self.scn, self.scene, self.plots_dir = scn, _scene(scn), plots_dir
        plots_dir.mkdir(parents=True, exist_ok=True)
        if not self.conns:
            return
        try:
            offset, size = self._put((self.scene, plots_dir))
            self.conns[0].send(("scene", offset, size))
        except Exception:  # noqa: BLE001 - a worker gone, or a scene that cannot be pickled: drawn later
            return

    def start(self, result: Any, scn: Any, names: Sequence[str], plots_dir: Path) -> None:
        """Hand the workers ``result`` (with ``scn``'s ``Scene``) and their first figures, and
        return: the caller writes its tables meanwhile; ``draw`` collects."""
        plots_dir.mkdir(parents=True, exist_ok=True)
        if scn is not self.scn:
            self.scn, self.scene = scn, _scene(scn)
        # the scene-only figures first, to the first worker: it may have drawn them already
        self.job = _Job(result, scn, self.scene, plots_dir, _by_cost(names))
        if not self.conns:
            return
        try:
            offset, size = self._put((result, self.scene, plots_dir))
        except Exception:  # noqa: BLE001 - a result that cannot be pickled: drawn here
            return
        for conn in self.conns:
            try:
                conn.send(("job", offset, size))
                self.served = True
                self.job.give(conn)
            except Exception:  # noqa: BLE001 - a worker gone
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
            job.out[name] = _draw(name, result, job.scene, plots_dir)
        return {name: job.out[name] for name in names}

    def close(self) -> None:
        """Stop the workers: each ends once it has drawn what it was given (one never given
        anything — latsim stopped before its run, on an error — is stopped at once)."""
        if not self.served:
            for proc in self.procs:
                proc.kill()  # its workers, if it forked them already, see their pipes close and end
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
        if self.shared is not None:
            self.shared.close()
        self.conns, self.procs, self.shared = [], [], None
