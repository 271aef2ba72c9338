"""Absurd inputs are refused or bounded with a clear message; Ctrl-C loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from latsim.cli import app
from latsim.errors import RunAborted, ScenarioError
from latsim.estimate import check_size
from latsim.scenario import MAX_FILE_BYTES, load_scenario, parse_document
from tests.builders import build, one_service
from tests.conftest import ROOT, default_sigint

runner = CliRunner()


def test_yaml_alias_bomb_is_refused_before_memory_explodes():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(ScenarioError, match="alias bomb"):
        parse_document("\n".join(lines), "bomb.yaml")


def test_deeply_nested_document_is_refused():
    text = "name: x\ndescription: " + "[" * 200 + "]" * 200 + "\n"
    with pytest.raises(ScenarioError, match="nested deeper|cannot read"):
        parse_document(text, "deep.yaml")


def test_huge_file_is_refused_by_size(tmp_path):
    f = tmp_path / "huge.yaml"
    with f.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ScenarioError, match="MB"):
        load_scenario(f)


def test_a_billion_requests_per_second_is_refused_with_the_estimate():
    scn = build(one_service(rate=1e9, duration="60s"))
    with pytest.raises(RunAborted, match=r"about 6e\+10 requests") as info:
        check_size(scn)
    assert "--force" in (info.value.problem.hint or "")


def test_a_hundred_year_run_is_refused():
    scn = build(one_service(rate=1, duration="876000h", health={"enabled": True}))
    with pytest.raises(RunAborted, match="simulated minutes|events"):
        check_size(scn)


def test_a_million_targets_is_a_quota_error():
    data = one_service(targets=1)
    data["target_groups"][0]["targets"] = [{"id": f"i-{i}", "az": "use1-az1"} for i in range(1001)]
    with pytest.raises(ScenarioError, match="targets_per_target_group"):
        build(data)


def test_a_million_targets_with_raised_quota_is_refused_by_the_estimate():
    data = one_service(targets=1, quotas={"targets_per_target_group": 2_000_000})
    scn = build(data)
    from latsim.estimate import MAX_TARGETS
    big = scn.model_copy(update={"target_groups": [scn.target_groups[0].model_copy(
        update={"targets": [scn.target_groups[0].targets[0]] * (MAX_TARGETS + 1)})]})
    with pytest.raises(RunAborted, match="targets"):
        check_size(big)


@pytest.mark.parametrize("field,value,message", [
    ("timeout", "-5s", "cannot be negative"),
    ("timeout", ".nan", "not"),
])
def test_negative_and_nan_numbers_are_refused(tmp_path, field, value, message):
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text().replace(
        "    timeout: 2s\n    retries", f"    timeout: {value}\n    retries")
    f = tmp_path / "s.yaml"
    f.write_text(text)
    res = runner.invoke(app, ["validate", str(f)])
    assert res.exit_code == 2
    assert "clients.storefront.timeout" in res.stderr
    assert res.stderr.count("error") >= 1 and message.split("|")[0] in res.stderr or message == "not"


def test_nan_rate_is_refused():
    from latsim.units import parse_rate
    with pytest.raises(ValueError, match="finite"):
        parse_rate(float("nan"))


def test_a_one_megabyte_policy_is_refused_with_its_size():
    data = one_service()
    big = [{"Sid": f"S{i}", "Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
            "Resource": f"arn:aws:vpc-lattice:us-east-1:111111111111:service/svc-0123456789abcdefg/{'x' * 200}{i}"}
           for i in range(4000)]
    data["services"][0]["auth_type"] = "AWS_IAM"
    data["services"][0]["auth_policy"] = {"Version": "2012-10-17", "Statement": big}
    with pytest.raises(ScenarioError) as info:
        build(data)
    text = "\n".join(p.format() for p in info.value.problems)
    assert "10" in text and ("KB" in text or "characters" in text or "bytes" in text)


def test_force_runs_an_oversized_scenario_anyway():
    scn = build(one_service(rate=10, duration="10s"))
    check_size(scn, force=True, limit=1)
    with pytest.raises(RunAborted):
        check_size(scn, limit=1)


@pytest.mark.slow
def test_ctrl_c_during_run_writes_a_partial_summary_and_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "latsim.cli", "run", str(ROOT / "benchmarks" / "ref1.yaml"),
                             "--duration", "3000s", "--out", str(out), "--no-report", "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    # no fixed sleep: wait for the line latsim writes as its event loop starts (a blocking read)
    assert proc.stderr is not None
    started = proc.stderr.readline()
    assert started.startswith("simulating 3000s of "), started
    proc.send_signal(signal.SIGINT)
    stdout, rest = proc.communicate(timeout=300)
    stderr = started + rest
    assert proc.returncode == 130, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is True
    assert 0 < summary["simulated_s"] < 3000  # the line comes once simulated time has moved
    assert "Traceback" not in stderr
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
