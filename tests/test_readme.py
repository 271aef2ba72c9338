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


def quickstart_commands() -> list[str]:
    """The command lines of the first ```sh block under the quickstart heading, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING)
    section = text[start:]
    nxt = re.search(r"^## ", section[len(HEADING):], flags=re.M)
    if nxt:
        section = section[:len(HEADING) + nxt.start()]
    block = re.search(r"^```sh\n(.*?)^```", section, flags=re.M | re.S)
    assert block, f"no ```sh block under {HEADING!r} in README.md"
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
