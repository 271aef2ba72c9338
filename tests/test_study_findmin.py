"""Studies: --find-min finds the capacity that queueing theory predicts."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from latsim.cli import app
from latsim.studies.examples import mmc_scenario
from latsim.studies.findmin import point_verdict
from latsim.theory import min_servers_for, mmc_mean_response

runner = CliRunner()
CONC = "target_groups.checkout-v1.targets.0.concurrency"


def test_find_min_gives_the_analytic_minimum_server_count_of_mmc(tmp_path):
    """λ = 250/s, μ = 100/s, SLO mean response <= 16 ms: c = 3 gives 24.0 ms, c = 4 gives 12.1 ms,
    so theory's answer is c* = 4 with a wide margin on both sides."""
    lam, mu, bound = 250.0, 100.0, 0.016
    expected = min_servers_for(lam, mu, mean_response=bound)
    assert expected == 4
    assert mmc_mean_response(lam, mu, expected - 1) > 1.4 * bound > 1.25 * mmc_mean_response(lam, mu, expected)
    f = tmp_path / "mmc.json"
    f.write_text(json.dumps(mmc_scenario(rate="250/s", mean_service="10ms", duration="8s", warmup="1s",
                                         slo=[{"target_group": "checkout-v1", "mean": "16ms"}])))
    out = tmp_path / "study"
    res = runner.invoke(app, ["sweep", str(f), "-p", f"{CONC}=2..6:1", "-r", "3", "--find-min", CONC, "--slo",
                              "-m", "target_groups.checkout-v1.RequestTime.mean", "--jobs", "1", "--out", str(out),
                              "--no-plots", "--quiet"])
    assert res.exit_code == 0, res.stderr
    assert f"find-min {CONC}: {expected}" in res.stdout
    answer = json.loads((out / "find_min.json").read_text())
    assert answer["groups"][0]["min_value"] == expected
    holds = {row["value"]: row["holds"] for row in answer["groups"][0]["table"]}
    assert holds == {2: False, 3: False, 4: True, 5: True, 6: True}


def test_find_min_needs_a_swept_parameter_and_an_slo_criterion(tmp_path):
    f = tmp_path / "mmc.json"
    f.write_text(json.dumps(mmc_scenario(duration="2s", warmup="0s", slo=[{"service": "checkout", "p99": "1s"}])))
    res = runner.invoke(app, ["sweep", str(f), "-p", f"{CONC}=1,2", "--find-min", "target_groups.checkout-v1.targets.0.concurency",
                              "-r", "1", "-j", "1"])
    assert res.exit_code == 2
    assert "not one of the swept parameters" in res.stderr and f"did you mean '{CONC}'?" in res.stderr
    res = runner.invoke(app, ["sweep", str(f), "-p", f"{CONC}=1,2", "--find-min", CONC, "-r", "1", "-j", "1"])
    assert res.exit_code == 2 and "--slo" in res.stderr


def test_a_point_holds_only_when_the_whole_ci_is_within_the_bound():
    def rec(value: float | None) -> dict:
        return {"summary": {"slo": [{"slo": "s", "checks": [{"metric": "p99", "limit": 100.0, "value": value}]}]}}
    assert point_verdict([rec(80.0), rec(85.0), rec(90.0)])["holds"]
    assert not point_verdict([rec(60.0), rec(95.0), rec(99.0)])["holds"]  # mean < 100 but CI crosses it
    assert not point_verdict([rec(80.0), rec(None), rec(90.0)])["holds"]  # a run measured nothing
    assert not point_verdict([rec(80.0), {"summary": None, "error": "x"}])["holds"]
