"""The compiled engine (latsim/native.py): used only while it was built from the very sources beside
it, and byte-identical to the pure-Python modules.

`make test` builds it (``python -m latsim.native_build build --if-stale``) and runs the suite twice:
compiled, then pure Python (``LATSIM_NATIVE=0``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from latsim import native
from tests.conftest import ROOT


def _manifest(tmp: Path, **change: Any) -> dict[str, Any]:
    files = {}
    for name in native.MODULES:
        rel = Path(*name.split(".")).with_suffix(".cpython-311-x86_64-linux-gnu.so")
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(b"not loaded by this test")
        files[name] = str(rel)
    m = {"python": sys.version, "files": files,
         "sources": {name: native.digest(native.source(name)) for name in native.MODULES}}
    m.update(change)
    return m


def test_a_build_is_used_only_for_the_sources_it_was_built_from(tmp_path: Path) -> None:
    name = native.MODULES[1]
    good = native._Finder(tmp_path, _manifest(tmp_path))
    spec = good.find_spec(name)
    assert spec is not None and spec.origin == str(tmp_path / good.manifest["files"][name])
    assert good.find_spec("latsim.engine.timeline") is None  # not a compiled module
    edited = dict(_manifest(tmp_path)["sources"], **{native.MODULES[3]: "0" * 64})  # one source changed since
    for manifest in (_manifest(tmp_path, sources=edited), _manifest(tmp_path, python="3.11.0 (other)"),
                     _manifest(tmp_path, sources={k: v for k, v in edited.items() if k != native.MODULES[3]})):
        assert native._Finder(tmp_path, manifest).find_spec(name) is None
    (tmp_path / good.manifest["files"][native.MODULES[4]]).unlink()  # a file of the build missing
    assert native._Finder(tmp_path, _manifest(tmp_path)).usable()  # (rewritten by _manifest)
    m = _manifest(tmp_path)
    (tmp_path / m["files"][native.MODULES[4]]).unlink()
    assert not native._Finder(tmp_path, m).usable()


def _cli(args: list[str], native_on: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LATSIM_NATIVE="1" if native_on else "0", PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_latsim_native_0_runs_the_pure_python_modules() -> None:
    out = _cli(["-m", "latsim.native_build", "status"], native_on=False)
    assert out.returncode == 0 and out.stdout.strip() == "compiled: none (pure Python)"
    said = _cli(["-c", "from latsim import native; print(native.describe())"], native_on=False)
    assert "pure Python" in said.stdout  # (what the benchmarks print in their headers)
    if native.current():
        said = _cli(["-c", "from latsim import native; print(native.describe())"], native_on=True)
        assert "compiled by mypyc" in said.stdout


@pytest.mark.skipif(not native.current(), reason="no compiled build of these sources: "
                    "python -m latsim.native_build build (make test does)")
@pytest.mark.parametrize("scenario", ["scenarios/quickstart.yaml", "scenarios/microservices.yaml",
                                      "benchmarks/callgraph.yaml"])
def test_the_compiled_engine_gives_the_same_bytes(scenario: str, tmp_path: Path) -> None:
    status = _cli(["-m", "latsim.native_build", "status"], native_on=True)
    assert status.stdout.strip() == "compiled: " + ", ".join(native.MODULES)
    args = ["-m", "latsim.cli", "run", scenario, "--json", "--quiet"]
    if scenario.startswith("benchmarks/"):
        args += ["--duration", "60s"]
    compiled, pure = _cli(args, native_on=True), _cli(args, native_on=False)
    assert compiled.returncode == pure.returncode and compiled.stdout == pure.stdout, compiled.stderr[-2000:]
    summary = json.loads(pure.stdout)
    assert summary["clients"] and summary["services"]
