"""Studies: parameter paths, values, designs, metrics and the shape of a study's tables."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from latsim.cli import app
from latsim.errors import ScenarioError
from latsim.scenario import parse_document
from latsim.studies.design import Design, Param, ValuesError, design_points, parse_design, parse_values
from latsim.studies.examples import mmc_scenario
from latsim.studies.metrics import evaluate
from latsim.studies.paths import PathError, resolve
from latsim.studies.study import StudyOptions, build_study, replication_seed, run_study
from latsim.studies.study_dir import write_tables
from tests.conftest import ROOT

runner = CliRunner()
QUICK = ROOT / "scenarios" / "quickstart.yaml"
CONC = "target_groups.checkout-v1.targets.0.concurrency"


def quick_data() -> dict:
    data, _ = parse_document(QUICK.read_text(), str(QUICK))
    return data


# --- paths ---------------------------------------------------------------------------------------------

def test_path_addresses_list_items_by_name_or_index():
    data = quick_data()
    assert resolve(data, "target_groups.checkout-stable.targets.0.concurrency") == \
        ("target_groups", 0, "targets", 0, "concurrency")
    assert resolve(data, "target_groups.checkout-stable.targets.i-0stable2.concurrency") == \
        ("target_groups", 0, "targets", 1, "concurrency")
    assert resolve(data, "clients.storefront.arrival.poisson") == ("clients", 0, "arrival", "poisson")


def test_path_item_names_may_contain_dots():
    assert resolve(quick_data(), "target_groups.inventory.targets.10.1.2.10.concurrency") == \
        ("target_groups", 2, "targets", 1, "concurrency")


def test_misspelt_item_name_suggests_the_right_one():
    with pytest.raises(PathError) as exc:
        resolve(quick_data(), "target_groups.checkout-stabel.targets.0.concurrency")
    assert exc.value.hint == "did you mean 'checkout-stable'?"
    assert exc.value.keys == ("target_groups",)


def test_path_past_a_scalar_is_refused():
    with pytest.raises(PathError, match="goes past"):
        resolve(quick_data(), "seed.x")


# --- values ----------------------------------------------------------------------------------------------

def test_values_list_range_and_scale():
    assert parse_values("2,4,8", 1)[0] == (2, 4, 8)
    assert parse_values("2..16:2", 1)[0] == (2, 4, 6, 8, 10, 12, 14, 16)
    assert parse_values("0.1..0.3:0.1", 1)[0] == (0.1, 0.2, 0.3)
    assert parse_values("x0.5,x1,x2,x3", "300/s")[0] == ("150/s", "300/s", "600/s", "900/s")
    assert parse_values("x0.5,x2", "10ms")[0] == ("5ms", "20ms")
    assert parse_values("x2", 8)[0] == (16,)
    assert parse_values("100/s..300/s:100/s", 1)[0] == ("100/s", "200/s", "300/s")
    assert parse_values([1, "x2"], 4)[0] == (1, 8)


def test_values_that_cannot_be_read_say_what_is_allowed():
    for bad, original in (("x2", {"exponential": {}}), ("5..1:1", 1), ("1..5:0", 1), ("1,,2", 1),
                          ("1ms..5/s:1", 1)):
        with pytest.raises(ValuesError):
            parse_values(bad, original)


def test_random_and_latin_designs_are_reproducible_and_latin_is_stratified():
    p = Param("a", ("a",), "0..1", (), *parse_values("0.0..1.0", None)[1:])
    q = Param("b", ("b",), "1..10:1", parse_values("1..10:1", None)[0])
    latin = design_points([p, q], parse_design("latin:10"), seed=3)
    assert latin == design_points([p, q], Design("latin", 10), seed=3)
    assert sorted(int(x * 10) for x, _ in latin) == list(range(10))  # one value per stratum
    assert sorted(y for _, y in latin) == list(range(1, 11))
    assert len(design_points([p, q], parse_design("random:7"), seed=3)) == 7
    with pytest.raises(ValuesError):
        parse_design("sobol:8")


def test_replication_seeds_are_shared_across_points_and_differ_across_replications():
    seeds = {replication_seed(7, r) for r in range(20)}
    assert len(seeds) == 20
    assert replication_seed(7, 3) == replication_seed(7, 3)
    assert replication_seed(7, 3, point=1) != replication_seed(7, 3, point=2)


# --- metrics ---------------------------------------------------------------------------------------------

def test_derived_metrics():
    s = {"duration_s": 12.0, "warmup_s": 2.0,
         "services": {"a": {"TotalRequestCount": 200, "HTTPCode_2XX_Count": 190, "HTTPCode_4XX_Count": 5,
                            "HTTPCode_5XX_Count": 5}},
         "clients": {"c": {"succeeded": 90, "failed": 10}},
         "slo": [{"slo": "service:a", "name": "a", "ok": True}, {"slo": "x", "name": "b", "ok": False}],
         "canary": [{"name": "k", "outcome": "rolled_back", "t_decision_ms": 6000.0,
                     "steps": [{"observed": None}, {"observed": {"requests": 82}}]}]}
    assert evaluate("services.a.error_rate", s) == 0.05  # what callers experience: 4xx and 5xx
    assert evaluate("services.a.server_error_rate", s) == 0.025
    assert evaluate("services.a.throughput", s) == 20.0
    assert evaluate("clients.c.error_rate", s) == 0.1
    assert evaluate("slo.ok", s) == 0.0
    assert evaluate("slo.service:a.ok", s) == 1.0
    assert evaluate("canary.k.rolled_back", s) == 1.0
    assert evaluate("canary.k.t_decision_s", s) == 6.0
    assert evaluate("canary.k.canary_requests", s) == 82.0


# --- a study's tables ----------------------------------------------------------------------------------------

def test_grid_times_replications_gives_the_expected_runs_and_rows(tmp_path):
    data = mmc_scenario(rate="20/s", duration="3s", warmup="0s")
    opts = StudyOptions(params=[f"{CONC}=1,2,3", "clients.storefront.arrival.poisson=x1,x2"], replications=3,
                        metrics=["services.checkout.RequestTime.mean", "clients.storefront.failed"])
    study = build_study(data, options=opts)
    assert len(study.points) == 6
    result = run_study(study, out_dir=tmp_path)
    assert len(result.records) == 6 * 3
    write_tables(result, tmp_path)
    runs = list(csv.DictReader((tmp_path / "runs.csv").open()))
    agg = list(csv.DictReader((tmp_path / "aggregate.csv").open()))
    assert len(runs) == 6 * 3 * 2
    assert len(agg) == 6 * 2
    assert list(agg[0]) == ["point", CONC, "clients.storefront.arrival.poisson", "metric", "n", "mean", "sd",
                            "ci_low", "ci_high", "ci_method", "errors"]
    assert {r["n"] for r in agg} == {"3"}
    assert [r["clients.storefront.arrival.poisson"] for r in agg[:4]] == ["20/s", "20/s", "40/s", "40/s"]
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 18


def test_same_replication_uses_the_same_seed_at_every_point():
    study = build_study(mmc_scenario(duration="2s", warmup="0s"),
                        options=StudyOptions(params=[f"{CONC}=1,2"], replications=2,
                                             metrics=["clients.storefront.requests"]))
    result = run_study(study)
    by_rep = {}
    for rec in result.records:
        by_rep.setdefault(rec["replication"], set()).add(rec["seed"])
    assert all(len(s) == 1 for s in by_rep.values())
    # same seed, same arrival stream: the client sends the same requests whatever the concurrency
    assert result.values(0, "clients.storefront.requests") == result.values(1, "clients.storefront.requests")


def test_study_section_is_read_and_checked_with_locations(tmp_path):
    f = tmp_path / "s.yaml"
    data = mmc_scenario(duration="2s", warmup="0s")
    data["study"] = {"params": {CONC: "1,2"}, "replications": 2, "metrics": ["services.checkout.RequestTime.mean"]}
    f.write_text(json.dumps(data))
    doc, pos = parse_document(f.read_text(), str(f))
    study = build_study(doc, pos, source=str(f))
    assert [p.values[CONC] for p in study.points] == [1, 2] and study.replications == 2
    doc["study"]["replicatons"] = 3
    doc["study"]["params"] = {"target_groups.checkout-v2.targets.0.concurrency": "1,2"}
    with pytest.raises(ScenarioError) as exc:
        build_study(doc, pos, source=str(f))
    text = "\n".join(p.format() for p in exc.value.problems)
    assert "unknown key 'replicatons'; did you mean 'replications'?" in text
    assert "did you mean 'checkout-v1'?" in text
    assert all(p.location.line is not None for p in exc.value.problems)


def test_cli_reports_every_bad_param_and_metric_located_before_running(tmp_path):
    res = runner.invoke(app, ["sweep", str(QUICK), "-p", "target_groups.checkout-stabel.targets.0.concurrency=2,4",
                              "-p", "clients.storefront.arival.poisson=x1,x2", "-r", "1", "--jobs", "1",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert f"{QUICK}:" in res.stderr
    assert "did you mean 'checkout-stable'?" in res.stderr and "did you mean 'arrival'?" in res.stderr
    assert not (tmp_path / "o").exists()
    res = runner.invoke(app, ["sweep", str(QUICK), "-p", "target_groups.checkout-stable.targets.0.concurrency=2",
                              "-m", "services.chekout.RequestTime.p99", "-r", "1", "--jobs", "1"])
    assert res.exit_code == 2
    assert "did you mean 'checkout'?" in res.stderr


def test_cli_sweep_writes_the_study_directory(tmp_path):
    f = tmp_path / "mmc.json"
    f.write_text(json.dumps(mmc_scenario(duration="2s", warmup="0s")))
    out = tmp_path / "study"
    res = runner.invoke(app, ["sweep", str(f), "-p", f"{CONC}=1,2", "-r", "2", "-m",
                              "services.checkout.RequestTime.mean", "--jobs", "1", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.stderr
    names = {p.name for p in out.iterdir()}
    assert {"study.json", "results.jsonl", "runs.csv", "aggregate.csv", "plots"} <= names
    assert [p.name for p in (out / "plots").iterdir()] == \
        [f"services.checkout.RequestTime.mean__{CONC}.png"]
    again = runner.invoke(app, ["sweep", str(f), "-p", f"{CONC}=1,2", "-r", "2", "--jobs", "1", "--out", str(out)])
    assert again.exit_code == 2 and "--resume" in again.stderr
