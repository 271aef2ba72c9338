"""latsim diff: flipped verdicts with both explanations, rerouted requests, resource changes,
new problems, and the CI exit code."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from latsim.analysis import diff_scenarios
from latsim.cli import app
from latsim.scenario import dump_scenario, scenario_from_data
from tests.test_explain import allow, base_scenario

runner = CliRunner()


def without_ops_association() -> dict[str, Any]:
    data = base_scenario()
    data["service_networks"][0]["vpc_associations"] = [{"vpc": "web"}]
    return data


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(dump_scenario(scenario_from_data(copy.deepcopy(data))))
    return str(path)


def test_removing_a_vpc_association_flips_its_clients_verdicts():
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(without_ops_association()))
    assert d["summary"]["flipped"] == 1
    f = d["flipped"][0]
    assert (f["client"], f["service"], f["direction"]) == ("ops-payments", "rates", "lost")
    assert (f["old"]["outcome"], f["new"]["outcome"], f["new"]["failure"]) == ("forwarded", "unreachable",
                                                                               "dns_failure")
    assert f["old_explanation"]["outcome"] == "forwarded"
    assert f["new_explanation"]["steps"][0]["verdict"] == "fail"
    change = next(c for c in d["changes"] if c["category"] == "association")
    assert (change["change"], change["path"]) == ("removed", "service_networks.prod.vpc_associations.ops")


def test_identical_topologies_have_no_diff():
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(base_scenario()))
    assert d["summary"] == {"flipped": 0, "lost": 0, "gained": 0, "rerouted": 0, "changes": 0, "new_problems": 0}


def test_a_new_policy_flips_anonymous_callers_to_denied():
    new = copy.deepcopy(base_scenario())
    new["services"][0]["auth_type"] = "AWS_IAM"
    new["services"][0]["auth_policy"] = allow({"StringEquals": {"aws:PrincipalOrgID": "o-example"}})
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(new))
    flipped = {(f["client"], f["new"]["outcome"], f["new"]["auth_denied_reason"]) for f in d["flipped"]}
    assert flipped == {("anonymous", "denied", "Service"), ("partner", "denied", "Service")}
    assert {c["category"] for c in d["changes"]} == {"policy"}


def test_a_weight_change_reroutes_without_flipping():
    old = base_scenario()
    old["target_groups"].append({"name": "rates-v2", "type": "IP", "vpc": "backend", "protocol": "HTTP",
                                 "port": 8080, "targets": [{"id": "10.1.0.7"}]})
    old["services"][0]["listeners"][0]["default_action"] = {
        "forward": [{"target_group": "rates-tg", "weight": 90}, {"target_group": "rates-v2", "weight": 10}]}
    new = copy.deepcopy(old)
    new["services"][0]["listeners"][0]["default_action"]["forward"][1]["weight"] = 50
    d = diff_scenarios(scenario_from_data(old), scenario_from_data(new))
    assert d["summary"]["flipped"] == 0 and d["summary"]["rerouted"] == 5
    assert d["rerouted"][0]["new"]["target_groups"] == {"rates-tg": 90, "rates-v2": 50}
    [c] = d["changes"]
    assert (c["category"], c["path"], c["old"], c["new"]) == (
        "weight", "services.rates.listeners.http.default_action.forward.rates-v2.weight", 10, 50)


def test_resource_changes_are_named_by_path():
    new = copy.deepcopy(base_scenario())
    new["target_groups"][0]["targets"].pop()
    new["services"][0]["listeners"][0]["rules"] = [
        {"name": "admin", "priority": 1, "match": {"path": {"prefix": "/admin"}}, "action": {"fixed_response": 404}}]
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(new))
    got = {(c["change"], c["category"], c["path"]) for c in d["changes"]}
    assert ("removed", "target", "target_groups.rates-tg.targets.i-02") in got
    assert ("added", "rule", "services.rates.listeners.http.rules.admin") in got


def test_removing_a_listener_flips_to_connection_refused():
    new = copy.deepcopy(base_scenario())
    new["services"][0]["listeners"][0]["port"] = 8080
    # the reachability view: the clients send nothing to 8080, so only it shows the new port gained
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(new), view="reach")
    lost = [f for f in d["flipped"] if f["port"] == 80]
    assert lost and all(f["new"]["failure"] == "connection_refused" for f in lost)
    gained = [f for f in d["flipped"] if f["port"] == 8080]
    assert gained and all(f["direction"] == "gained" for f in gained)


def test_new_validation_warnings_are_reported():
    new = copy.deepcopy(base_scenario())
    new["vpcs"][1]["azs"] = ["use1-az1", "use1-az3"]  # an AZ Lattice does not support
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(new))
    assert d["summary"]["new_problems"] >= 1
    assert any("use1-az3" in p["message"] for p in d["problems"]["new"])


def test_fail_on_change_exits_1_when_a_verdict_flips(tmp_path):
    old, new = write(tmp_path, "old.yaml", base_scenario()), write(tmp_path, "new.yaml", without_ops_association())
    res = runner.invoke(app, ["diff", old, new, "--fail-on-change"])
    assert res.exit_code == 1, res.output
    assert "1 verdict flipped" in res.stdout and "ops-payments" in res.stdout


def test_fail_on_change_exits_0_without_flips(tmp_path):
    old = write(tmp_path, "old.yaml", base_scenario())
    res = runner.invoke(app, ["diff", old, old, "--fail-on-change"])
    assert res.exit_code == 0, res.output


def test_diff_json(tmp_path):
    old, new = write(tmp_path, "old.yaml", base_scenario()), write(tmp_path, "new.yaml", without_ops_association())
    res = runner.invoke(app, ["diff", old, new, "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert set(d) >= {"flipped", "rerouted", "changes", "problems", "summary"}
    assert d["flipped"][0]["new_explanation"]["command"].startswith(f"latsim explain {new} --client ops-payments")


def test_a_policy_edit_is_shown_as_a_unified_diff_of_its_json(tmp_path):
    old = copy.deepcopy(base_scenario())
    old["services"][0]["auth_type"] = "AWS_IAM"
    old["services"][0]["auth_policy"] = allow({"StringEquals": {"aws:PrincipalOrgID": "o-example"}})
    new = copy.deepcopy(old)
    new["services"][0]["auth_policy"]["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"] = "o-other"
    d = diff_scenarios(scenario_from_data(old), scenario_from_data(new))
    [c] = d["changes"]
    assert (c["category"], c["path"]) == ("policy", "services.rates.auth_policy")
    assert c["diff"][:2] == ["--- old/services.rates.auth_policy", "+++ new/services.rates.auth_policy"]
    changed = [line for line in c["diff"][2:] if line[:1] in "+-"]
    assert changed == ['-          "aws:PrincipalOrgID": "o-example"', '+          "aws:PrincipalOrgID": "o-other"']
    res = runner.invoke(app, ["diff", write(tmp_path, "old.yaml", old), write(tmp_path, "new.yaml", new)],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    assert '+          "aws:PrincipalOrgID": "o-other"' in res.output
    assert '-          "aws:PrincipalOrgID": "o-example"' in res.output
    assert "..." not in res.output  # nothing cut


def test_ids_aws_assigns_are_not_changes_but_a_target_id_is():
    """A template has no ids (latsim derives them), the account it was deployed to has the real
    ones: matched by name, the two are equal (latsim.analysis.diff.ASSIGNED_IDS). A target's id is
    its address, and changing it is a change."""
    new = copy.deepcopy(base_scenario())
    new["vpcs"][0]["id"] = "vpc-0123456789abcdef0"
    new["services"][0]["id"] = "svc-0123456789abcdef0"
    new["target_groups"][0]["id"] = "tg-0123456789abcdef0"
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(new))
    assert d["summary"]["changes"] == 0 and d["changes"] == []
    new["target_groups"][0]["targets"][0]["id"] = "10.1.9.9"
    d = diff_scenarios(scenario_from_data(base_scenario()), scenario_from_data(new))
    assert [c["category"] for c in d["changes"]] == ["target", "target"]  # one removed, one added
