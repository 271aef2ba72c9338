"""Start-up stays light: which modules a command imports (never how long it takes: timing is the
job of ``make bench``). `latsim --help` and `--version` load neither the model nor numpy, pydantic
or SimPy; `latsim validate` loads the model but no engine, numpy, plotting or data frames."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = """
import json, sys
sys.argv = ["latsim", *json.loads(sys.argv[1])]
from latsim.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""
HEAVY = ("numpy", "pydantic", "simpy", "matplotlib", "pandas", "pyarrow", "networkx", "ruamel", "yaml")


def imported_by(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True,
                          cwd=ROOT, env=env, check=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("MODULES ")][-1]
    return set(json.loads(line[len("MODULES "):]))


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_model_and_no_heavy_library(flag):
    mods = imported_by(flag)
    assert "latsim.cli" in mods  # the probe did run the command
    assert sorted(m for m in mods if m.split(".")[0] in HEAVY) == []
    loaded = {m for m in mods if m.startswith(("latsim.model", "latsim.engine", "latsim.compile", "latsim.scenario",
                                               "latsim.analysis.", "latsim.studies."))}
    assert sorted(loaded) == []


def test_validate_imports_the_model_but_no_engine_numpy_or_plotting():
    mods = imported_by("validate", str(ROOT / "scenarios" / "quickstart.yaml"))
    assert "latsim.model.validate" in mods and "latsim.source" in mods
    assert sorted(m for m in mods if m.split(".")[0] in ("numpy", "simpy", "matplotlib", "pandas", "pyarrow",
                                                           "networkx", "ruamel")) == []
    assert not any(m.startswith(("latsim.engine", "latsim.plots", "latsim.report.")) for m in mods)
