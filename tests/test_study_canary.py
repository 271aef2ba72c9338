"""Studies: canary statistics over replications, and paired comparisons of two scenarios."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from latsim.cli import app
from latsim.studies.canary_stats import canary_statistics
from latsim.studies.examples import canary_scenario, mmc_scenario

runner = CliRunner()
ERRORS = "target_groups.checkout-v2.targets.0.errors.rate"


def test_a_clean_canary_promotes_and_a_failing_one_rolls_back():
    frame = canary_statistics(canary_scenario(), replications=4, params={ERRORS: [0.0, 0.2]})
    assert list(frame[ERRORS]) == [0.0, 0.2]
    clean, bad = frame.iloc[0], frame.iloc[1]
    assert clean["runs"] == bad["runs"] == 4
    assert clean["p_promote"] == 1.0 and clean["p_rollback"] == 0.0 and clean["p_promote_low"] > 0.4
    assert bad["p_rollback"] == 1.0 and bad["p_promote"] == 0.0
    # the clean canary needs every step (3 weights, 5 s apart, from t = 1 s): decision at 16 s;
    # the failing one is rolled back at its first check, at 6 s
    assert clean["t_decision_mean_s"] == 16.0 and bad["t_decision_mean_s"] == 6.0
    assert bad["requests_before_rollback_mean"] > 0
    assert bad["requests_before_rollback_low"] <= bad["requests_before_rollback_mean"] \
        <= bad["requests_before_rollback_high"]


def test_canary_stats_sweeps_the_canarys_own_settings():
    frame = canary_statistics(canary_scenario(canary_error_rate=0.02), replications=3,
                              params=["canaries.v2-rollout.checks.success_rate=90%,99.9%"])
    lenient, strict = frame.iloc[0], frame.iloc[1]
    assert lenient["p_promote"] == 1.0 and strict["p_rollback"] == 1.0


def test_canary_stats_cli_writes_its_table(tmp_path):
    f = tmp_path / "canary.json"
    f.write_text(json.dumps(canary_scenario(canary_error_rate=0.2)))
    res = runner.invoke(app, ["canary-stats", str(f), "-r", "2", "-j", "1", "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader((tmp_path / "o" / "canary_stats.csv").open()))
    assert len(rows) == 1 and rows[0]["canary"] == "v2-rollout" and rows[0]["rolled_back"] == "2"
    no_canary = tmp_path / "plain.json"
    no_canary.write_text(json.dumps(mmc_scenario(duration="2s")))
    res = runner.invoke(app, ["canary-stats", str(no_canary), "-r", "2", "-j", "1"])
    assert res.exit_code == 2 and "no canaries" in res.stderr


def test_compare_reports_a_paired_difference_with_its_ci(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(mmc_scenario(rate="50/s", servers=1, duration="5s", warmup="1s")))
    b.write_text(json.dumps(mmc_scenario(rate="50/s", servers=2, duration="5s", warmup="1s")))
    res = runner.invoke(app, ["compare", str(a), str(b), "-r", "4", "-m", "services.checkout.RequestTime.mean",
                              "-m", "clients.storefront.requests", "-j", "1", "--json"])
    assert res.exit_code == 0, res.stderr
    mean, requests = json.loads(res.stdout)
    assert mean["diff"] < 0 and mean["ci_high"] < 0 and mean["significant"]
    # same seeds: both scenarios receive exactly the same arrivals
    assert requests["diff"] == 0 and requests["diff_sd"] == 0 and not requests["significant"]
