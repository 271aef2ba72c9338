"""The figures of a run directory: reused by ``latsim report`` while their inputs are unchanged,
drawn again when missing, altered or stale; the same bytes whichever process draws them; one
draw for both formats; the tables written and read without pandas."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from builders import build, one_service
from typer.testing import CliRunner

from latsim.cli import app
from latsim.figures import MANIFEST, Painter, figure_specs
from latsim.run_dir import simulate_with_outputs

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def _scenario() -> Any:
    data = one_service(targets=2, concurrency=4, rate=40.0, duration="90s", warmup="10s",
                       health={"interval": "10s", "timeout": "2s"})
    data["timeline"] = [{"at": "40s", "fail_targets": ["i-0001"], "for": "20s"}]
    return build(data)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fig") / "run"
    simulate_with_outputs(_scenario(), out_dir=out)
    return out


@pytest.fixture
def run_dir(original: Path, tmp_path: Path) -> Path:
    d = tmp_path / "run"
    shutil.copytree(original, d)  # copies keep their bytes; each test changes its own copy
    return d


def _files(d: Path) -> dict[str, tuple[int, int, bytes]]:
    """plots/NAME -> (inode, mtime ns, bytes): a reused file keeps its inode, a redrawn one is a new file."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted((d / "plots").iterdir()) if p.suffix in (".png", ".svg")}


def _report(d: Path, *args: str) -> str:
    res = runner.invoke(app, ["report", str(d), *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_an_untouched_directory_reuses_every_figure(run_dir: Path) -> None:
    before, html = _files(run_dir), (run_dir / "report.html").read_bytes()
    assert len(before) == 2 * 7  # topology, rates, latency, TG latency, CDF, health, heatmap (no canary)
    out = _report(run_dir)
    assert "(0 figures drawn, 7 reused)" in out
    assert _files(run_dir) == before  # same inodes, same mtimes, same bytes
    assert (run_dir / "report.html").read_bytes() == html


def test_a_deleted_figure_is_drawn_again_and_only_it(run_dir: Path) -> None:
    before = _files(run_dir)
    (run_dir / "plots" / "latency.png").unlink()
    assert "(1 figure drawn, 6 reused)" in _report(run_dir)
    after = _files(run_dir)
    for name, (ino, mtime, data) in before.items():
        assert after[name][2] == data, name  # drawn again to the same bytes
        if name.startswith("latency."):
            assert after[name][0] != ino, name  # a new file (its SVG too: a figure is drawn whole)
        else:
            assert after[name][:2] == (ino, mtime), name  # untouched


def test_an_altered_figure_is_drawn_again(run_dir: Path) -> None:
    before = _files(run_dir)
    svg = run_dir / "plots" / "az_heatmap.svg"
    svg.write_text(svg.read_text().replace("availability zone", "somewhere"))
    assert "(1 figure drawn, 6 reused)" in _report(run_dir)
    assert svg.read_bytes() == before["az_heatmap.svg"][2]


def test_a_changed_summary_redraws_every_figure(run_dir: Path) -> None:
    before = _files(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    target = summary["target_groups"]["tg-main"]["targets"]["i-0000"]
    target["TotalRequestCount"] = 987654  # the heatmap shows this number
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    assert "(7 figures drawn, 0 reused)" in _report(run_dir)
    after = _files(run_dir)
    assert all(after[n][0] != before[n][0] for n in before)  # every file written anew
    assert after["az_heatmap.png"][2] != before["az_heatmap.png"][2]
    assert "987,654" in (run_dir / "plots" / "az_heatmap.svg").read_text()
    assert after["latency.svg"][2] == before["latency.svg"][2]  # what did not change draws the same
    # and the next report finds them fresh again
    assert "(0 figures drawn, 7 reused)" in _report(run_dir)


def test_redraw_draws_everything_to_the_same_bytes(run_dir: Path) -> None:
    before = _files(run_dir)
    assert "(7 figures drawn, 0 reused)" in _report(run_dir, "--redraw")
    after = _files(run_dir)
    assert {n: v[2] for n, v in after.items()} == {n: v[2] for n, v in before.items()}
    assert all(after[n][0] != before[n][0] for n in before)


def test_a_manifest_of_other_inputs_reuses_nothing(run_dir: Path) -> None:
    manifest = run_dir / "plots" / MANIFEST
    record = json.loads(manifest.read_text())
    assert set(record["figures"]) == {s.name for s in figure_specs()}
    assert record["figures"]["canary"] == {}  # nothing to draw, recorded as such
    record["inputs"] = "0" * 64
    manifest.write_text(json.dumps(record))
    assert "(7 figures drawn, 0 reused)" in _report(run_dir)


def test_workers_draw_the_same_bytes_as_this_process(original: Path, tmp_path: Path) -> None:
    from latsim.report import load_run
    result, scn = load_run(original)
    names = [s.name for s in figure_specs()]
    here = Painter(workers=0)
    there = Painter(workers=2)  # forked without the scenario: it comes with the result
    try:
        assert len(there.procs) == 1 and len(there.conns) == 2  # the second worker is forked by the first
        a = here.draw(result, scn, names, tmp_path / "here")
        b = there.draw(result, scn, names, tmp_path / "there")
    finally:
        there.close()
    assert {n: [p.name for p in v] for n, v in a.items()} == {n: [p.name for p in v] for n, v in b.items()}
    for paths in a.values():
        for p in paths:
            assert p.read_bytes() == (tmp_path / "there" / p.name).read_bytes(), p.name
    assert {p.name for p in (tmp_path / "there").iterdir()} == {p.name for p in (tmp_path / "here").iterdir()}


def test_a_dead_worker_leaves_its_figures_to_this_process(original: Path, tmp_path: Path) -> None:
    from latsim.report import load_run
    result, scn = load_run(original)
    painter = Painter(scn, tmp_path / "p", workers=2)
    try:
        for proc in painter.procs:
            proc.kill()
            proc.join()
        drawn = painter.draw(result, scn, ["latency", "az_heatmap"], tmp_path / "p")
    finally:
        painter.close()
    assert sorted(p.name for ps in drawn.values() for p in ps) == ["az_heatmap.png", "az_heatmap.svg",
                                                                   "latency.png", "latency.svg"]
    assert (tmp_path / "p" / "latency.png").read_bytes() == (original / "plots" / "latency.png").read_bytes()


def test_the_svg_is_the_png_s_drawing_in_points(original: Path) -> None:
    from PIL import Image
    for spec in figure_specs():
        png, svg = original / "plots" / f"{spec.name}.png", original / "plots" / f"{spec.name}.svg"
        if not png.exists():
            continue
        w_px, h_px = Image.open(png).size
        head = re.search(r"<svg [^>]*>", svg.read_text()).group(0)  # type: ignore[union-attr]
        w_pt, h_pt = (float(x) for x in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', head).groups())  # type: ignore[union-attr]
        view = [float(x) for x in re.search(r'viewBox="([^"]+)"', head).group(1).split()]  # type: ignore[union-attr]
        assert view == [0, 0, w_px, h_px], spec.name  # user units: the PNG's pixels (dpi 100)
        assert (w_pt, h_pt) == pytest.approx((w_px * 0.72, h_px * 0.72), abs=0.01), spec.name
    text = (original / "plots" / "request_rates.svg").read_text()
    assert "Request rate per service" in text and "HTTP 5xx (req/s)" in text


def test_the_tables_are_written_and_read_without_pandas(original: Path, tmp_path: Path) -> None:
    code = ("import sys, shutil\n"
            "from latsim.report import load_run\n"
            "from latsim.run_dir import write_metrics, write_series\n"
            f"result, _ = load_run({str(original)!r})\n"
            f"write_metrics(result, __import__('pathlib').Path({str(tmp_path)!r}))\n"
            f"write_series(result, __import__('pathlib').Path({str(tmp_path)!r}))\n"
            "print('pandas' in sys.modules, len(result.metric_rows), len(result.series))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    imported, rows, series = out.split()
    assert imported == "False"
    assert int(rows) > 0 and int(series) > 0
    for name in ("metrics.parquet", "series.parquet"):  # the same bytes as the run wrote
        assert (tmp_path / name).read_bytes() == (original / name).read_bytes(), name


def test_a_bad_worker_count_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATSIM_PLOT_WORKERS", "two")
    res = runner.invoke(app, ["run", str(ROOT / "scenarios" / "quickstart.yaml"), "--quiet", "--duration", "30s",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "LATSIM_PLOT_WORKERS='two': expected a whole number >= 0" in res.stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.iterdir())  # nothing half-written left


def test_no_drawing_workers_are_forked_beside_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """2 CPUs get two workers (one CPU none, many CPUs at most MAX_WORKERS), unless this process
    runs another thread (a fork would copy the locks that thread holds, and a worker could wait
    on one forever)."""
    import threading

    from latsim import figures
    monkeypatch.delenv("LATSIM_PLOT_WORKERS", raising=False)
    monkeypatch.setattr(figures, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(figures, "_start_methods", lambda: ["fork"])
    monkeypatch.setattr(figures.sys, "platform", "linux")
    with monkeypatch.context() as m:  # this process alone (whatever threads the test runner keeps)
        m.setattr(threading, "active_count", lambda: 1)
        assert figures._workers() == 2
        m.setattr(figures, "_usable_cpus", lambda: 1)
        assert figures._workers() == 0
        m.setattr(figures, "_usable_cpus", lambda: 64)
        assert figures._workers() == figures.MAX_WORKERS
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert figures._workers() == 0
    finally:
        stop.set()
        other.join()


def test_one_painter_draws_several_results_in_turn(original: Path, tmp_path: Path) -> None:
    """Jobs handed over one after the other (a worker may read an older one late, when it drew
    nothing of it) still give each directory the bytes drawn in this process."""
    from latsim.report import load_run
    result, scn = load_run(original)
    painter = Painter(workers=2)
    try:
        first = painter.draw(result, scn, ["latency"], tmp_path / "a")
        second = painter.draw(result, scn, [s.name for s in figure_specs()], tmp_path / "b")
    finally:
        painter.close()
    assert [p.name for p in first["latency"]] == ["latency.png", "latency.svg"]
    for paths in second.values():
        for p in paths:
            assert p.read_bytes() == (original / "plots" / p.name).read_bytes(), p.name
    assert sum(1 for ps in second.values() for _ in ps) == 2 * 7


def test_the_png_writer_keeps_every_pixel_and_the_resolution() -> None:
    """png_bytes against Pillow's decoder: an opaque buffer comes back as RGB, one with any
    transparent pixel as RGBA, pixel for pixel; 100 dpi as Pillow reads the pHYs chunk."""
    import io

    import numpy as np
    from PIL import Image

    from latsim.plots import png_bytes
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    opaque = rgba.copy()
    opaque[:, :, 3] = 255
    for pixels, mode in ((opaque, "RGB"), (rgba, "RGBA")):
        data = png_bytes(pixels, 100)
        assert png_bytes(pixels, 100) == data  # the same pixels, the same bytes
        im = Image.open(io.BytesIO(data))
        assert im.mode == mode and im.size == (53, 37)
        assert np.array_equal(np.asarray(im.convert("RGBA")), pixels)
        assert im.info["dpi"] == pytest.approx((100, 100), abs=0.01)


def test_the_drawing_processes_end_when_latsim_is_killed() -> None:
    """latsim killed outright (no goodbye to its workers): the first worker and the one it forked
    see their pipes end and exit, instead of waiting for latsim forever."""
    psutil = pytest.importorskip("psutil")
    code = ("import time\n"
            "from latsim.figures import Painter\n"
            "painter = Painter(workers=2)\n"
            "print(painter.procs[0].pid, flush=True)\n"
            "time.sleep(120)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lead = psutil.Process(int(proc.stdout.readline()))
        workers = [lead]
        for _ in range(600):  # until the first worker has imported matplotlib and forked the second
            workers = [lead, *lead.children()]
            if len(workers) == 2:
                break
            psutil.wait_procs([lead], timeout=0.1)
        assert len(workers) == 2
    finally:
        proc.kill()
        proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=60)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]  # ended, not yet reaped by init
    assert not alive


def test_drawing_processes_import_matplotlib_without_its_3d_axes() -> None:
    code = ("import sys, warnings\n"
            "warnings.simplefilter('error')\n"
            "from latsim.figures import _without_3d\n"
            "with _without_3d():\n"
            "    import matplotlib.figure\n"
            "skipped = 'mpl_toolkits.mplot3d' not in sys.modules\n"
            "import mpl_toolkits.mplot3d\n"  # still importable by whoever wants it afterwards
            "print(skipped)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "True", out.stderr


# -- the scene: what a drawing process gets of the scenario ---------------------------------------------
def test_a_scene_is_plain_data_that_unpickles_without_pydantic_or_the_models() -> None:
    """Every bundled scenario's Scene, unpickled in a fresh interpreter, imports neither pydantic
    nor latsim's models (which a drawing process forked before the scenario is loaded never has),
    and draws the same figures as the scenario itself."""
    import pickle

    from latsim.plots import Scene
    from latsim.scenario import load_scenario
    scenes = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scn = load_scenario(path)
        scene = Scene.of(scn)
        assert scene is not None and Scene.of(scene) is scene
        assert scene.name == scn.name and len(scene.timeline) == len(scn.timeline)
        scenes[path.stem] = scene
    data = pickle.dumps(scenes, pickle.HIGHEST_PROTOCOL)
    code = ("import pickle, sys\n"
            "scenes = pickle.loads(sys.stdin.buffer.read())\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic' or m.startswith('latsim.model'))\n"
            "print(len(scenes), bad)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, env=env, check=True).stdout
    assert out.decode().split(None, 1) == [str(len(scenes)), "[]\n"]
    zero = scenes["zero-trust"]
    from latsim.plots import denied_pairs
    zero_scn = load_scenario(ROOT / "scenarios" / "zero-trust.yaml")
    assert zero.denied and list(zero.denied) == denied_pairs(zero_scn)
    assert Scene.of(zero_scn) is Scene.of(zero_scn)  # the last scenario's scene is kept: one matrix a run


def test_figures_from_the_scene_are_the_figures_from_the_scenario(tmp_path: Path) -> None:
    from latsim.plots import Scene, plot_topology
    from latsim.scenario import load_scenario
    scn = load_scenario(ROOT / "scenarios" / "zero-trust.yaml")
    a = plot_topology(None, scn, tmp_path / "a" / "topology")
    b = plot_topology(None, Scene.of(scn), tmp_path / "b" / "topology")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert b"403" in b[1].read_bytes()  # the denied pairs are drawn from the scene


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
def test_drawing_processes_forked_before_loading_never_load_pydantic() -> None:
    """``latsim run --out`` forks its drawing process before it loads the scenario; the workers
    get the scenario as its Scene and the result, and draw every figure without ever loading
    pydantic (its compiled core would show in their memory maps) — the 0.15 s they save."""
    psutil = pytest.importorskip("psutil")
    code = ("import os, sys, tempfile, pathlib\n"
            "from latsim.figures import Painter, figure_specs\n"
            "painter = Painter(workers=2)\n"
            "from latsim.scenario import load_scenario\n"
            "from latsim.engine.simulation import Simulation\n"
            f"scn = load_scenario({str(ROOT / 'scenarios' / 'quickstart.yaml')!r})\n"
            "d = pathlib.Path(tempfile.mkdtemp())\n"
            "painter.prepare(scn, d)\n"
            "result = Simulation(scn, series=True).run()\n"
            "drawn = painter.draw(result, scn, [s.name for s in figure_specs()], d)\n"
            "print(painter.procs[0].pid, sum(len(v) for v in drawn.values()), flush=True)\n"
            "sys.stdin.readline()\n"
            "painter.close()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LATSIM_PLOT_WORKERS", None)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        lead_pid, files = proc.stdout.readline().split()
        lead = psutil.Process(int(lead_pid))
        workers = [lead, *lead.children()]
        assert len(workers) == 2 and int(files) == 2 * 7
        assert "pydantic_core" in _maps(proc.pid)  # the oracle sees it where it is loaded
        for w in workers:
            maps = _maps(w.pid)
            assert "matplotlib" in maps and "pydantic_core" not in maps
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("argv", "draws"), [
    (["run", "s.yaml", "--out", "d"], True),
    (["run", "--out=d", "s.yaml", "--seed", "3"], True),
    (["run", "s.yaml"], False),
    (["run", "s.yaml", "--out", "d", "--no-report"], False),
    (["run", "s.yaml", "--out", "d", "--help"], False),
    (["validate", "s.yaml", "--out", "d"], False),
    (["sweep", "s.yaml", "--out", "d"], False),
    ([], False),
])
def test_which_command_lines_fork_the_drawing_process_first(argv: list[str], draws: bool) -> None:
    from latsim.cli.run import draws_figures
    assert draws_figures(argv) is draws


def _session_processes(sid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; a zombie has ended
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_latsim_run_out_draws_with_its_early_process_and_leaves_none_behind(tmp_path: Path) -> None:
    """The real command (``python -m latsim``, through ``main``: the drawing process forked
    before the command line is read) writes the same figures as a run drawn in one process; a
    run that stops at a bad scenario or a usage error says so, writes nothing and leaves no
    drawing process behind (a bad LATSIM_PLOT_WORKERS too: the early fork leaves it to ``run``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LATSIM_PLOT_WORKERS", None)
    quick = str(ROOT / "scenarios" / "quickstart.yaml")
    cli = [sys.executable, "-m", "latsim", "run"]
    done = subprocess.run([*cli, quick, "--quiet", "--duration", "60s", "--out", str(tmp_path / "cli")], env=env,
                          capture_output=True, text=True, start_new_session=True, check=False)
    assert done.returncode == 0, done.stderr
    from latsim.scenario import load_scenario
    old = os.environ.get("LATSIM_PLOT_WORKERS")
    os.environ["LATSIM_PLOT_WORKERS"] = "0"
    try:
        simulate_with_outputs(load_scenario(quick, overrides={"duration": "60s"}), out_dir=tmp_path / "here")
    finally:
        if old is None:
            del os.environ["LATSIM_PLOT_WORKERS"]
        else:
            os.environ["LATSIM_PLOT_WORKERS"] = old
    figures = sorted(p.name for p in (tmp_path / "here" / "plots").iterdir() if p.suffix in (".png", ".svg"))
    assert len(figures) == 2 * 7
    for name in figures:
        assert (tmp_path / "cli" / "plots" / name).read_bytes() == (tmp_path / "here" / "plots" / name).read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(quick).read_text().replace("duration:", "durration:", 1))
    for args, code, says, extra in (([str(bad), "--out", str(tmp_path / "b1")], 2, "durration", {}),
                                    ([quick, "--out", str(tmp_path / "b2"), "--traces", "lots"], 2, "--traces", {}),
                                    ([quick, "--out", str(tmp_path / "b3")], 2, "LATSIM_PLOT_WORKERS='two'",
                                     {"LATSIM_PLOT_WORKERS": "two"})):
        proc = subprocess.Popen([*cli, *args], env={**env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code and says in err and "Traceback" not in err, err
        for _ in range(100):  # the session's processes: latsim's and any drawing process it forked
            if not _session_processes(proc.pid):
                break
            import time
            time.sleep(0.05)
        assert not _session_processes(proc.pid)
        assert not (tmp_path / args[2]).exists()
