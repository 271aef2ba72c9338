"""latsim verify: assertions checked over every request and caller class, counterexamples that
``latsim explain`` reproduces, located validation errors, exit codes."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from latsim.analysis import verify
from latsim.analysis.verify import principal_classes, request_space
from latsim.cli import app
from latsim.compile import Topology
from latsim.errors import ScenarioError
from latsim.scenario import dump_scenario, scenario_from_data
from tests.test_explain import ROLE, allow, base_scenario

runner = CliRunner()
NO_ANONYMOUS_ADMIN = {"name": "admin is for signed callers", "no_access": {"principal": "anonymous",
                                                                           "service": "admin"}}


def with_admin(principal: Any) -> dict[str, Any]:
    """An ``admin`` service whose auth policy is meant to admit the payments role only."""
    data = base_scenario()
    data["services"].append({
        "name": "admin", "account": "shop", "custom_domain": "admin.shop.internal", "auth_type": "AWS_IAM",
        "auth_policy": allow(principal=principal),
        "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "default_action": {"forward": "admin-tg"}}]})
    data["target_groups"].append({"name": "admin-tg", "type": "IP", "vpc": "backend", "protocol": "HTTP",
                                  "port": 8080, "targets": [{"id": "10.1.0.50"}]})
    data["service_networks"][0]["services"].append("admin")
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(dump_scenario(scenario_from_data(copy.deepcopy(data))))
    return str(path)


def test_too_broad_principal_star_has_a_counterexample():
    report = verify(scenario_from_data(with_admin("*")), [NO_ANONYMOUS_ADMIN])
    assert not report.ok
    [res] = report.results
    assert res.failures > 0
    ce = res.counterexamples[0]
    assert ce.verdict.outcome == "forwarded"
    assert "anonymous" in ce.caller
    assert "--principal anonymous" in ce.command or "--client anonymous" in ce.command


def test_the_intended_policy_holds():
    report = verify(scenario_from_data(with_admin({"AWS": [ROLE]})), [NO_ANONYMOUS_ADMIN])
    assert report.ok, report.to_dict()
    assert report.results[0].checked > 0


def test_cli_counterexample_reproduces_with_explain(tmp_path):
    path = write(tmp_path, {**with_admin("*"), "assertions": [NO_ANONYMOUS_ADMIN]})
    res = runner.invoke(app, ["verify", path, "--json"])
    assert res.exit_code == 1, res.output
    import json
    d = json.loads(res.stdout)
    for ce in d["assertions"][0]["counterexamples"]:
        argv = shlex.split(ce["command"])
        assert argv[:3] == ["latsim", "explain", path]
        again = runner.invoke(app, argv[1:] + ["--json"])
        assert again.exit_code == 0, again.output
        e = json.loads(again.stdout)
        assert (e["outcome"], e["status"]) == (ce["verdict"]["outcome"], ce["verdict"]["status"])


def test_cli_exit_0_when_every_assertion_holds(tmp_path):
    path = write(tmp_path, {**with_admin({"AWS": [ROLE]}), "assertions": [NO_ANONYMOUS_ADMIN]})
    res = runner.invoke(app, ["verify", path])
    assert res.exit_code == 0, res.output
    assert "1 of 1 assertions hold" in res.stdout


def test_only_some_vpcs_reach_a_service():
    data = base_scenario()
    only_web = {"only": {"vpcs": ["web"], "reach": "rates"}}
    report = verify(scenario_from_data(data), [only_web])
    assert not report.ok
    assert all("ops" in c.caller or "ops-payments" in c.caller for c in report.results[0].counterexamples)
    data["services"][0]["auth_type"] = "AWS_IAM"
    data["services"][0]["auth_policy"] = allow({"StringEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-1a2b3c4d"}})
    assert verify(scenario_from_data(data), [only_web]).ok


def test_always_forwarded_under_a_prefix():
    data = base_scenario()
    lst = data["services"][0]["listeners"][0]
    lst["default_action"] = {"fixed_response": 404}
    lst["rules"] = [{"name": "api", "priority": 1, "match": {"path": {"prefix": "/api"}},
                     "action": {"forward": "rates-tg"}}]
    scn = scenario_from_data(data)
    assert verify(scn, [{"always_forwarded": {"service": "rates", "path_prefix": "/api"}}]).ok
    report = verify(scn, [{"always_forwarded": {"service": "rates"}}])
    assert not report.ok
    assert report.results[0].counterexamples[0].verdict.outcome == "fixed_response"


def test_never_denied_fails_for_callers_the_policy_leaves_out():
    scn = scenario_from_data(with_admin({"AWS": [ROLE]}))
    report = verify(scn, [{"never_denied": {"service": "admin"}}])
    assert not report.ok
    callers = {c.caller for c in report.results[0].counterexamples}
    assert "client payments" not in callers and "client batch" in callers
    assert verify(scn, [{"never_denied": {"service": "admin", "clients": ["payments", "ops-payments"]}}]).ok


def test_case_insensitive_rule_slips_past_a_case_sensitive_deny():
    data = base_scenario()
    data["target_groups"].append({"name": "admin-tg", "type": "IP", "vpc": "backend", "protocol": "HTTP",
                                  "port": 8080, "targets": [{"id": "10.1.0.50"}]})
    data["services"][0]["listeners"][0]["rules"] = [
        {"name": "admin", "priority": 1, "match": {"path": {"prefix": "/admin"}}, "action": {"forward": "admin-tg"}}]
    data["services"][0]["auth_type"] = "AWS_IAM"
    data["services"][0]["auth_policy"] = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke", "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": ["111111111111", ROLE]}, "Action": "vpc-lattice-svcs:Invoke",
         "Resource": "*/admin*"}]}
    report = verify(scenario_from_data(data), [{"only": {"principals": [ROLE], "reach": "rates",
                                                         "target_group": "admin-tg"}}])
    assert not report.ok
    paths = {c.request["url"].split("rates.shop.internal", 1)[1] for c in report.results[0].counterexamples}
    assert any(p.startswith("/ADMIN") for p in paths), paths


def test_request_space_covers_rule_and_policy_constants():
    data = with_admin("*")
    data["services"][0]["listeners"][0]["rules"] = [
        {"name": "beta", "priority": 1, "match": {"method": "PUT", "path": {"exact": "/beta"},
                                                 "headers": [{"name": "x-beta", "exact": "1"}]},
         "action": {"forward": "rates-tg"}}]
    data["services"][0]["auth_type"] = "AWS_IAM"
    data["services"][0]["auth_policy"] = allow({"StringEquals": {"vpc-lattice-svcs:RequestPath": "/rates",
                                                                 "vpc-lattice-svcs:RequestMethod": "PATCH"}})
    topo = Topology(scenario_from_data(data))
    from latsim.model.assertions import Selector
    reqs = request_space(topo, "rates", Selector()).requests
    assert {"GET", "PUT", "PATCH"} <= {r.method for r in reqs}
    assert len({r.method for r in reqs}) == 4  # and one method nobody mentions
    assert {"/", "/beta", "/BETA", "/rates"} <= {r.path for r in reqs}
    assert {(), (("x-beta", "1"),)} <= {r.headers for r in reqs}


def test_principal_classes_include_anonymous_org_and_outsider():
    topo = Topology(scenario_from_data(with_admin({"AWS": ["arn:aws:iam::111111111111:role/auditor"]})))
    arns = {p.arn for p in principal_classes(topo)}
    assert None in arns and ROLE in arns
    assert "arn:aws:iam::999999999999:role/latsim-outsider" in arns
    assert "arn:aws:iam::111111111111:role/auditor" in arns  # named by a policy
    assert any(p.org_id == "o-example" and p.client is None for p in principal_classes(topo))


def test_assertion_errors_are_located_in_the_file(tmp_path):
    data = {**with_admin("*"), "assertions": [{"no_access": {"principal": "anonymous", "service": "admn"}},
                                              {"no_acess": {"service": "admin"}}]}
    path = tmp_path / "bad.yaml"
    path.write_text(dump_scenario(scenario_from_data(data)))
    res = runner.invoke(app, ["verify", str(path)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith(f"{path}:")]
    assert len(lines) == 2, res.stderr
    assert "unknown service 'admn'" in res.stderr and "did you mean 'admin'" in res.stderr
    assert "unknown key 'no_acess'" in res.stderr and "did you mean 'no_access'" in res.stderr


def test_exactly_one_property_per_assertion():
    scn = scenario_from_data(base_scenario())
    with pytest.raises(ScenarioError, match="exactly one of"):
        verify(scn, [{"no_access": {"service": "rates"}, "never_denied": {"service": "rates"}}])


def test_bad_principal_selector_is_explained():
    with pytest.raises(ScenarioError, match="not a principal selector"):
        verify(scenario_from_data(base_scenario()), [{"no_access": {"principal": "anonymus"}}])


def test_assert_on_the_command_line(tmp_path):
    path = write(tmp_path, with_admin("*"))
    res = runner.invoke(app, ["verify", path, "--assert", "no_access: {principal: anonymous, service: admin}"])
    assert res.exit_code == 1, res.output
    assert "FAIL" in res.stdout and "latsim explain" in res.stdout
    res = runner.invoke(app, ["verify", path, "--assert", "no_access: {principal: anonymous, service: admn}"])
    assert res.exit_code == 2 and "did you mean 'admin'" in res.stderr


def test_counterexamples_n_shows_up_to_n_with_the_clients_real_requests_first():
    from latsim.scenario import load_scenario
    scn = load_scenario(Path(__file__).parent.parent / "scenarios" / "quickstart.yaml")
    fails = {"no_access": {"vpcs": ["web"], "service": "checkout"}}
    for n in (1, 5, 8):
        [r] = verify(scn, [fails], max_counterexamples=n).results
        assert r.failures > 8 and len(r.counterexamples) == n
    [r] = verify(scn, [fails], max_counterexamples=5).results
    storefront = [c for c in r.counterexamples if c.caller == "client storefront"]
    # the client's own requests (quickstart: GET /api/cart, POST /api/pay) come before synthetic ones
    assert [(c.request["method"], c.request["url"]) for c in storefront if c.real] == [
        ("GET", "https://checkout.shop.internal/api/cart"), ("POST", "https://checkout.shop.internal/api/pay")]
    assert storefront[0].real and storefront[0].to_dict()["from_client_mix"] is True
    # /stock goes to inventory in the mix: against checkout it is not the client's real request
    assert not any(c.real for c in r.counterexamples if c.request["url"].endswith("/stock"))
