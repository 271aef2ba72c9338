"""The README's "Five minutes with the quickstart" walk-through works verbatim.

The fenced ``sh`` block under that heading is parsed and each ``latsim ...`` line is run through
the shell exactly as written (comments, redirections and all) in a temporary working directory
holding a copy of ``scenarios/``. The only substitution is the program: the ``latsim`` installed
beside the interpreter running the tests, so the commands exercise this checkout. The
``. .venv/bin/activate`` line is skipped — the venv is already the one running.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HEADING = "## Five minutes with the quickstart"
LATSIM = Path(sys.executable).parent / "latsim"


def quickstart_commands(heading: str = HEADING) -> list[str]:
    """The command lines of the first ```sh block under ``heading``, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    section = text[start:]
    nxt = re.search(r"^## ", section[len(heading):], flags=re.M)
    if nxt:
        section = section[:len(heading) + nxt.start()]
    block = re.search(r"^```sh\n(.*?)^```", section, flags=re.M | re.S)
    assert block, f"no ```sh block under {heading!r} in README.md"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


COMMANDS = quickstart_commands()
LATSIM_COMMANDS = [c for c in COMMANDS if c.startswith("latsim ")]


def test_the_quickstart_block_is_activate_then_latsim_commands():
    assert COMMANDS[0] == ". .venv/bin/activate"
    assert len(LATSIM_COMMANDS) == len(COMMANDS) - 1 >= 5
    assert any(" --out " in c for c in LATSIM_COMMANDS)
    assert any(c.startswith("latsim report ") for c in LATSIM_COMMANDS)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A scratch directory standing in for the repository root: scenarios/ copied, nothing else."""
    d = tmp_path_factory.mktemp("quickstart")
    shutil.copytree(ROOT / "scenarios", d / "scenarios")
    return d


@pytest.mark.slow
def test_quickstart_commands_work_verbatim(workdir):
    assert LATSIM.exists(), f"{LATSIM} is not installed (pip install -e .)"
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    # Run in order: `latsim report out/quick` needs the run directory the line before writes.
    for command in LATSIM_COMMANDS:
        line = str(LATSIM) + command[len("latsim"):]
        proc = subprocess.run(line, shell=True, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (f"README command failed with exit code {proc.returncode}:\n  {command}\n"
                                      f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}")
    run_dir = workdir / "out" / "quick"
    assert (run_dir / "summary.json").is_file()
    assert (run_dir / "report.html").is_file()


NEW_HEADING = "## Your first scenario: `latsim new`"


def test_the_readme_starts_with_latsim_new_then_the_walk_and_your_own_topology():
    text = README.read_text(encoding="utf-8")
    first, walk, own = (text.index(h) for h in (NEW_HEADING, HEADING, "## Your own topology in ten minutes"))
    assert first < walk < own < text.index("## Commands")
    new = quickstart_commands(NEW_HEADING)
    assert new[0] == ". .venv/bin/activate" and new[1].startswith("latsim new ")


@pytest.mark.slow
def test_latsim_new_commands_work_verbatim(tmp_path):
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    for command in quickstart_commands(NEW_HEADING)[1:]:
        line = str(LATSIM) + command[len("latsim"):]
        proc = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert (tmp_path / "first.yaml").is_file()


def test_the_package_builds_without_a_license_warning_and_ships_jupyter():
    import tomllib
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    # an SPDX string (PEP 639): the table form makes setuptools >= 77 print a deprecation warning
    assert project["license"] == "Apache-2.0"
    assert any(r.startswith("setuptools>=77") for r in meta["build-system"]["requires"])
    extras = project["optional-dependencies"]
    assert any(r.startswith("jupyterlab") for r in extras["notebooks"])
    assert "notebooks" in extras["all"][0]
    readme = README.read_text(encoding="utf-8")
    assert "jupyter lab notebooks/" in readme and "`notebooks` extra" in readme
    assert (Path(sys.executable).parent / "jupyter-lab").exists(), "jupyterlab is not in the venv"
