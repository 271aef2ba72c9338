"""``latsim new``: a commented starter scenario that validates and runs; never overwrites by accident."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from latsim.cli import app
from latsim.cli.new import scenario_name, starter_text
from latsim.model.validate import notes
from latsim.scenario import load_scenario

runner = CliRunner()


def test_new_writes_a_starter_that_validates_and_runs(tmp_path: Path):
    f = tmp_path / "shop.yaml"
    res = runner.invoke(app, ["new", str(f)])
    assert res.exit_code == 0, res.output
    assert f"wrote {f}" in res.stdout
    scn = load_scenario(f)
    assert scn.name == "shop"
    assert [p.format() for p in notes(scn) if p.severity != "info"] == []
    res = runner.invoke(app, ["run", str(f), "--duration", "20s", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    client = s["clients"]["storefront"]
    assert client["status"]["200"] > 0
    assert s["slo"] and all(v["ok"] for v in s["slo"])


def test_new_starter_opens_with_the_schema_hint(tmp_path: Path):
    f = tmp_path / "x.yaml"
    assert runner.invoke(app, ["new", str(f)]).exit_code == 0
    first = f.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")


def test_new_writes_scenario_yaml_by_default(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["new"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "scenario.yaml").is_file()


def test_new_refuses_to_overwrite(tmp_path: Path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: precious\n")
    res = runner.invoke(app, ["new", str(f)])
    assert res.exit_code == 2
    assert "already exists" in res.stderr
    assert "--force" in res.stderr
    assert "Traceback" not in res.output
    assert f.read_text() == "name: precious\n"


def test_new_force_overwrites(tmp_path: Path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: precious\n")
    res = runner.invoke(app, ["new", str(f), "--force"])
    assert res.exit_code == 0, res.output
    assert load_scenario(f).name == "mine"


def test_new_refuses_a_directory(tmp_path: Path):
    res = runner.invoke(app, ["new", str(tmp_path)])
    assert res.exit_code == 2
    assert "is a directory" in res.stderr


def test_scenario_name_comes_from_the_file_name():
    assert scenario_name(Path("My Test_v2.yaml")) == "my-test-v2"
    assert scenario_name(Path("___.yaml")) == "scenario"
    assert "name: my-test-v2" in starter_text(Path("My Test_v2.yaml"))
