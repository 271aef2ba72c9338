"""Studies: results are appended run by run; an interrupted study resumes to the same tables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from latsim.cli import app
from latsim.studies.examples import mmc_scenario
from latsim.studies.store import ResultsLog
from tests.conftest import default_sigint

runner = CliRunner()
LATSIM = [sys.executable, "-m", "latsim.cli"]
CONC = "target_groups.checkout-v1.targets.0.concurrency"


def sweep_args(scenario: Path, out: Path) -> list[str]:
    return ["sweep", str(scenario), "-p", f"{CONC}=1,2,3", "-r", "8", "-m", "services.checkout.RequestTime.mean",
            "-m", "services.checkout.RequestTime.p99", "--out", str(out), "--no-plots", "--quiet"]


def test_interrupted_study_resumes_to_the_same_table_without_duplicates(tmp_path):
    scenario = tmp_path / "mmc.json"
    scenario.write_text(json.dumps(mmc_scenario(rate="100/s", duration="20s", warmup="1s")))
    interrupted = tmp_path / "interrupted"
    results = interrupted / "results.jsonl"
    proc = subprocess.Popen([*LATSIM, *sweep_args(scenario, interrupted), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    # wait for the event (a fourth result on disk) or for the study to end, however long either takes:
    # no deadline, so a slow machine cannot change the verdict
    while (not results.exists() or results.read_text().count("\n") < 4) and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the study ended before it wrote four results"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate()
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    kept = results.read_text().count("\n")
    assert 4 <= kept < 24
    assert not (interrupted / "aggregate.csv").exists()

    with results.open("ab") as fh:  # a crash in the middle of writing a line
        fh.write(b'{"point": 2, "replication": 7, "seed": 1, "summ')
    resumed = runner.invoke(app, [*sweep_args(scenario, interrupted), "--resume", "--jobs", "1"])
    assert resumed.exit_code == 0, resumed.stderr
    keys = [(r["point"], r["replication"]) for r in ResultsLog(results).read()]
    assert len(keys) == len(set(keys)) == 24
    assert results.read_bytes().endswith(b"\n")

    whole = tmp_path / "whole"
    straight = runner.invoke(app, [*sweep_args(scenario, whole), "--jobs", "1"])
    assert straight.exit_code == 0, straight.stderr
    assert (interrupted / "aggregate.csv").read_bytes() == (whole / "aggregate.csv").read_bytes()
    assert (interrupted / "runs.csv").read_bytes() == (whole / "runs.csv").read_bytes()


def test_resume_refuses_a_different_study_in_the_same_directory(tmp_path):
    scenario = tmp_path / "mmc.json"
    scenario.write_text(json.dumps(mmc_scenario(duration="2s", warmup="0s")))
    out = tmp_path / "o"
    args = ["sweep", str(scenario), "-p", f"{CONC}=1,2", "-r", "1", "--out", str(out), "--no-plots", "-q", "-j", "1"]
    assert runner.invoke(app, args).exit_code == 0
    other = [a if a != f"{CONC}=1,2" else f"{CONC}=1,3" for a in args]
    res = runner.invoke(app, [*other, "--resume"])
    assert res.exit_code == 2 and "different study" in res.stderr


def test_resume_with_more_replications_runs_only_the_new_ones(tmp_path):
    scenario = tmp_path / "mmc.json"
    scenario.write_text(json.dumps(mmc_scenario(duration="2s", warmup="0s")))
    out = tmp_path / "o"
    base = ["sweep", str(scenario), "-p", f"{CONC}=1,2", "--out", str(out), "--no-plots", "-q", "-j", "1"]
    assert runner.invoke(app, [*base, "-r", "2"]).exit_code == 0
    before = (out / "results.jsonl").read_text().splitlines()
    assert runner.invoke(app, [*base, "-r", "3", "--resume"]).exit_code == 0
    after = (out / "results.jsonl").read_text().splitlines()
    assert after[:4] == before and len(after) == 6


def test_results_log_ignores_only_a_partial_last_line(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append({"point": 0, "replication": 0})
    log.append({"point": 0, "replication": 1})
    log.close()
    with open(log.path, "ab") as fh:
        fh.write(b'{"point": 0, "repl')
    assert [r["replication"] for r in log.read()] == [0, 1]
    log.open()
    log.append({"point": 0, "replication": 2})
    log.close()
    assert [r["replication"] for r in log.read()] == [0, 1, 2]
    assert os.path.getsize(log.path) == len(log.path.read_bytes())
