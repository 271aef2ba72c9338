"""The SLO gate: ``latsim run`` exits 1 when an objective is breached and 0 when all are met, so
a CI pipeline can gate on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from latsim.cli import app

runner = CliRunner()


def write_scenario(tmp_path: Path, slo: list[dict[str, Any]]) -> Path:
    """One service whose single target answers in 20 ms, 1% of the time with a 500."""
    data = {
        "name": "gate", "seed": 3, "duration": "5m",
        "accounts": [{"id": "111111111111", "name": "acct"}],
        "vpcs": [{"name": "web", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]},
                 {"name": "app", "account": "acct", "cidr": "10.1.0.0/16", "azs": ["use1-az1"]}],
        "service_networks": [{"name": "net", "account": "acct", "vpc_associations": [{"vpc": "web"}],
                              "services": ["orders"]}],
        "services": [{"name": "orders", "account": "acct", "custom_domain": "orders.internal",
                      "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                     "default_action": {"forward": [{"target_group": "orders"}]}}]}],
        "target_groups": [{"name": "orders", "type": "INSTANCE", "vpc": "app", "protocol": "HTTP", "port": 8080,
                           "health_check": {"enabled": False},
                           "targets": [{"id": "i-0a", "az": "use1-az1", "concurrency": 16, "latency": "20ms",
                                        "errors": {"rate": "1%", "status": 500}}]}],
        "clients": [{"name": "shop", "vpc": "web", "az": "use1-az1", "url": "http://orders.internal",
                     "arrival": {"poisson": 50}, "retries": {"max": 0}}],
        "slo": slo,
    }
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(data))
    return path


def run(path: Path, *extra: str) -> Any:
    return runner.invoke(app, ["run", str(path), "--duration", "10s", *extra])


def test_a_met_slo_exits_0(tmp_path):
    res = run(write_scenario(tmp_path, [{"service": "orders", "p99": "100ms", "error_rate": "5%"}]), "-q")
    assert res.exit_code == 0, res.output


def test_a_breached_latency_slo_exits_1(tmp_path):
    res = run(write_scenario(tmp_path, [{"service": "orders", "p99": "10ms"}]))
    assert res.exit_code == 1, res.output
    assert "SLO breached" in res.stderr


def test_a_breached_error_rate_exits_1_even_when_another_slo_is_met(tmp_path):
    path = write_scenario(tmp_path, [{"service": "orders", "p99": "100ms"},
                                     {"service": "orders", "error_rate": "0.01%"}])
    res = run(path, "--json")
    assert res.exit_code == 1
    verdicts = json.loads(res.stdout)["slo"]
    assert [v["ok"] for v in verdicts] == [True, False]
    assert verdicts[1]["checks"][0]["metric"] == "error_rate"


def test_no_slo_at_all_exits_0(tmp_path):
    res = run(write_scenario(tmp_path, []), "-q")
    assert res.exit_code == 0, res.output
