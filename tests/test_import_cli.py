"""`latsim import …` writes a scenario that validates and runs (with an overlay for the workload)."""

from __future__ import annotations

from typer.testing import CliRunner

from latsim.cli import app
from latsim.scenario import load_scenario
from tests.conftest import DATA

runner = CliRunner()


def test_cloudformation_import_writes_a_valid_scenario(tmp_path):
    out = tmp_path / "cfn.yaml"
    res = runner.invoke(app, ["import", "cloudformation", str(DATA / "cfn" / "network.yaml"),
                              str(DATA / "cfn" / "payments.yaml"), str(DATA / "cfn" / "inventory.json"),
                              "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "is not simulated" in res.stderr  # warnings are located and reported, not fatal
    res = runner.invoke(app, ["validate", str(out)])
    assert res.exit_code == 0, res.stderr
    again = tmp_path / "again.yaml"
    runner.invoke(app, ["import", "cloudformation", str(DATA / "cfn" / "network.yaml"),
                        str(DATA / "cfn" / "payments.yaml"), str(DATA / "cfn" / "inventory.json"), "-o", str(again)])
    assert again.read_text() == out.read_text()  # stable


def test_terraform_import_with_an_overlay_runs(tmp_path):
    out = tmp_path / "tf.yaml"
    res = runner.invoke(app, ["import", "terraform", str(DATA / "terraform" / "state.json"), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    scn = load_scenario(out)
    vpc = next(v for v in scn.vpcs if any(v.name in [a.vpc for a in sn.vpc_associations]
                                          for sn in scn.service_networks))
    svc = next(s for s in scn.services if s.listeners)
    host = svc.custom_domain or f"{svc.name}.invalid"
    scheme = "http" if svc.listeners[0].protocol == "HTTP" else "https"
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(f"clients:\n  - {{name: probe, vpc: {vpc.name}, az: {vpc.azs[0]}, url: '{scheme}://{host}', "
                       "arrival: {poisson: 5/s}}\nduration: 5s\n")
    res = runner.invoke(app, ["run", str(out), "--overlay", str(overlay), "--json"])
    assert res.exit_code in (0, 1), res.stderr
    assert '"probe"' in res.stdout


def test_unknown_importer_input_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(app, ["import", "terraform", str(bad)])
    assert res.exit_code == 2
    assert "Traceback" not in res.stderr
    assert str(bad) in res.stderr


def test_bad_param_is_a_usage_error():
    res = runner.invoke(app, ["import", "cloudformation", str(DATA / "cfn" / "network.yaml"), "--param", "oops"])
    assert res.exit_code == 2
    assert "KEY=VALUE" in res.stderr
