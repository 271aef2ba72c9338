"""The latsim command: versions, help, validate, show, schema, run (exit codes and output)."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from latsim import __version__
from latsim.cli import app
from tests.conftest import DATA, ROOT

runner = CliRunner()
QUICK = str(ROOT / "scenarios" / "quickstart.yaml")


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert __version__ in res.stdout


def test_help_lists_commands():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("validate", "run", "show", "schema"):
        assert cmd in res.stdout


def test_validate_ok_prints_inventory():
    res = runner.invoke(app, ["validate", QUICK])
    assert res.exit_code == 0
    assert res.stdout.startswith("ok: ")
    assert "2 services" in res.stdout


def test_validate_three_errors_exit_2(tmp_path):
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text()
    text = text.replace("priority: 10", "priority: 0").replace("az: use1-az1\n    url", "az: use1-az7\n    url")
    text = text.replace("protocol: HTTPS\n        port: 443", "protocol: HTTPZ\n        port: 443")
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "latsim.cli", "validate", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(str(f))]
    assert len(lines) == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "3 errors" in proc.stderr


def test_validate_missing_file_is_a_clean_error():
    res = runner.invoke(app, ["validate", "/nonexistent/x.yaml"])
    assert res.exit_code == 2
    assert "cannot read file" in res.stderr


def test_show_prints_the_tree():
    res = runner.invoke(app, ["show", str(DATA / "design_example.yaml")])
    assert res.exit_code == 0
    assert "service network prod" in res.stdout
    assert "rule beta-testers (priority 5)" in res.stdout


def test_schema_is_json():
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert "services" in schema["properties"]


def test_run_json_contract():
    res = runner.invoke(app, ["run", QUICK, "--json", "--duration", "20s"])
    assert res.exit_code == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    for key in ("scenario", "seed", "duration_s", "requests", "services", "target_groups", "rules", "clients",
                "canary", "slo"):
        assert key in data
    svc = data["services"]["checkout"]
    for key in ("TotalRequestCount", "HTTPCode_2XX_Count", "HTTPCode_4XX_Count", "HTTPCode_5XX_Count",
                "RequestTimeoutCount"):
        assert isinstance(svc[key], int)
    assert set(svc["RequestTime"]) >= {"mean", "p50", "p90", "p99", "max"}
    tg = data["target_groups"]["checkout-stable"]
    assert "targets" in tg and "health" in tg["targets"]["i-0stable1"]
    assert "checkout/https/api" in data["rules"]
    client = data["clients"]["storefront"]
    assert set(client) >= {"sent", "completed", "status", "failures", "retries", "RequestTime"}
    assert not any("wall" in k for k in data)


def test_run_bad_duration_is_a_clean_error():
    res = runner.invoke(app, ["run", QUICK, "--duration", "soon"])
    assert res.exit_code == 2
    assert "--duration" in res.stderr


def test_python_api_loads_text_and_writes_access_logs(tmp_path):
    import latsim
    from latsim.metrics.access_log import read_access_logs
    scn = latsim.loads((ROOT / "scenarios" / "quickstart.yaml").read_text(), duration="10s", warmup="0s")
    result = latsim.simulate(scn, access_logs=str(tmp_path))
    records = list(read_access_logs(tmp_path))
    assert len(records) == sum(s["TotalRequestCount"] for s in result.summary["services"].values())
