"""The first hour's CLI niceties: sweep tables that never cut a metric name, "did you mean"
before any complaint about a parameter's values."""

from __future__ import annotations

from typer.testing import CliRunner

from latsim.cli import app
from latsim.cli.studies import short_names
from tests.conftest import ROOT

runner = CliRunner()
QUICKSTART = str(ROOT / "scenarios" / "quickstart.yaml")


def test_short_names_are_unique_suffixes():
    names = ["services.payments.RequestTime.p50", "services.payments.RequestTime.p99",
             "services.ledger.RequestTime.p99"]
    assert short_names(names) == {"services.payments.RequestTime.p50": "RequestTime.p50",
                                  "services.payments.RequestTime.p99": "payments.RequestTime.p99",
                                  "services.ledger.RequestTime.p99": "ledger.RequestTime.p99"}
    assert short_names(["a.b", "b"], min_segments=1) == {"a.b": "a.b", "b": "b"}


def test_sweep_table_shows_whole_metric_names_in_a_narrow_terminal(tmp_path):
    metrics = ["services.checkout.RequestTime.p50", "services.checkout.RequestTime.p99"]
    args = ["sweep", QUICKSTART, "--param", "target_groups.checkout-stable.targets.0.concurrency=4,8",
            "--replications", "1", "--duration", "20s"]
    for m in metrics:
        args += ["--metric", m]
    res = runner.invoke(app, args, terminal_width=80)
    assert res.exit_code == 0, res.output
    assert "…" not in res.output
    for m in metrics:
        assert f" = {m}" in res.output
    assert "concurrency = target_groups.checkout-stable.targets.0.concurrency" in res.output
    rows = [line for line in res.output.splitlines() if "RequestTime.p" in line and "│" in line]
    assert len(rows) == 4 and sum("RequestTime.p50" in r for r in rows) == 2


def test_sweep_misspelled_path_says_did_you_mean_before_complaining_about_relative_values():
    res = runner.invoke(app, ["sweep", QUICKSTART, "--param", "clients.storefront.arrival.poison=x0.5,x2"])
    assert res.exit_code == 2
    assert "did you mean 'poisson'" in res.output
    assert "absolute" not in res.output


def test_sweep_may_still_set_a_key_the_file_leaves_out():
    # `queue` is not in quickstart's target but is a key of the format: not a typo
    res = runner.invoke(app, ["sweep", QUICKSTART, "--param", "target_groups.checkout-stable.targets.0.queue=5,50",
                              "--replications", "1", "--duration", "20s"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "did you mean" not in res.output
