"""latsim explain: the JSON contract, the documented auth examples (docs/lattice.md §5.6) end to end,
the static target-group view, synthetic callers, and agreement with the engine."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from latsim.analysis import explain
from latsim.analysis.explain import CallerSpec
from latsim.cli import app
from latsim.errors import UsageError
from latsim.scenario import scenario_from_data
from tests.conftest import ROOT

runner = CliRunner()
QUICK = str(ROOT / "scenarios" / "quickstart.yaml")
SVC_ID = "svc-0a1b2c3d4e5f6a7b8"
SVC_ARN = f"arn:aws:vpc-lattice:us-east-1:111111111111:service/{SVC_ID}"
ROLE = "arn:aws:iam::111111111111:role/rates-client"
OTHER_ROLE = "arn:aws:iam::111111111111:role/batch"
URL = "http://rates.shop.internal"


def base_scenario() -> dict[str, Any]:
    """One service network (web and ops VPCs associated) and one HTTP service ``rates`` with a
    target group in a third VPC; clients: signed org members, an outsider, an anonymous one."""
    return {
        "name": "auth-examples", "duration": "5s",
        "accounts": [{"id": "111111111111", "name": "shop", "org_id": "o-example"},
                     {"id": "222222222222", "name": "partner"}],
        "vpcs": [{"name": "web", "id": "vpc-1a2b3c4d", "account": "shop", "cidr": "10.0.0.0/16",
                  "azs": ["use1-az1", "use1-az2"]},
                 {"name": "ops", "account": "shop", "cidr": "10.2.0.0/16", "azs": ["use1-az1", "use1-az2"]},
                 {"name": "backend", "account": "shop", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]}],
        "security_groups": [{"name": "targets-sg", "vpc": "backend",
                             "ingress": [{"protocol": "tcp", "ports": 8080, "source": "vpc-lattice"}]}],
        "service_networks": [{"name": "prod", "account": "shop", "services": ["rates"],
                              "vpc_associations": [{"vpc": "web"}, {"vpc": "ops"}]}],
        "services": [{"name": "rates", "id": SVC_ID, "account": "shop", "custom_domain": "rates.shop.internal",
                      "tags": {"Environment": "Gamma"},
                      "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                     "default_action": {"forward": "rates-tg"}}]}],
        "target_groups": [{"name": "rates-tg", "type": "INSTANCE", "vpc": "backend", "protocol": "HTTP",
                           "port": 8080, "security_groups": ["targets-sg"],
                           "health_check": {"enabled": True, "interval": "5s", "timeout": "2s"},
                           "targets": [{"id": "i-01", "az": "use1-az1",
                                        "latency": {"constant": "5ms"}},
                                       {"id": "i-02", "az": "use1-az2", "latency": {"constant": "5ms"}}]}],
        "clients": [
            {"name": "payments", "vpc": "web", "az": "use1-az1", "url": URL,
             "principal": {"arn": ROLE, "org_id": "o-example", "tags": {"Team": "Payments"}}},
            {"name": "batch", "vpc": "web", "az": "use1-az2", "url": URL,
             "principal": {"arn": OTHER_ROLE, "org_id": "o-example", "tags": {"Team": "Batch"}}},
            {"name": "ops-payments", "vpc": "ops", "az": "use1-az1", "url": URL,
             "principal": {"arn": ROLE, "org_id": "o-example", "tags": {"Team": "Payments"}}},
            {"name": "partner", "vpc": "web", "az": "use1-az1", "url": URL,
             "principal": {"arn": "arn:aws:iam::222222222222:role/partner"}},
            {"name": "anonymous", "vpc": "web", "az": "use1-az1", "url": URL},
        ],
    }


def with_auth(data: dict[str, Any], policy: dict[str, Any], *, level: str = "service") -> Any:
    data = copy.deepcopy(data)
    owner = data["services"][0] if level == "service" else data["service_networks"][0]
    owner["auth_type"] = "AWS_IAM"
    owner["auth_policy"] = policy
    return scenario_from_data(data)


def allow(condition: dict[str, Any] | None = None, principal: Any = "*", resource: str = "*") -> dict[str, Any]:
    st_: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "vpc-lattice-svcs:Invoke",
                           "Resource": resource}
    if condition:
        st_["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st_]}


def outcome(scn: Any, client: str, path: str = "/", method: str = "GET", **kw: Any) -> tuple[str, str | None]:
    d = explain(scn, client, URL + path, method, **kw)
    return d["outcome"], d["auth_denied_reason"]


FORWARDED = ("forwarded", None)


# --- the JSON contract ------------------------------------------------------------------------------

def test_explain_json_has_the_documented_shape():
    res = runner.invoke(app, ["explain", QUICK, "--client", "storefront", "--url",
                              "https://checkout.shop.internal/api/cart", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert {"outcome", "status", "failure", "service", "listener", "rule", "target_groups",
            "auth_denied_reason", "steps"} <= set(d)
    assert d["outcome"] == "forwarded" and d["status"] is None and d["failure"] is None
    assert (d["service"], d["listener"], d["rule"]) == ("checkout", "https", "api")
    assert d["target_groups"] == {"checkout-stable": 90, "checkout-canary": 10}
    assert all(set(s) == {"stage", "verdict", "detail"} for s in d["steps"])


def test_explain_walks_every_stage_in_lattice_order():
    scn = with_auth(base_scenario(), allow())
    d = explain(scn, "payments", URL + "/rates")
    stages = [s["stage"] for s in d["steps"]]
    assert stages == ["dns", "address", "client_security_group", "association_security_group", "listener",
                      "auth_network", "auth_service", "auth_identity", "rule", "target_groups"]


def test_dns_step_names_the_link_local_address_of_the_clients_az():
    scn = scenario_from_data(base_scenario())
    d = explain(scn, "payments", URL)
    address = d["address"]
    assert address.startswith("169.254.171.")
    detail = next(s["detail"] for s in d["steps"] if s["stage"] == "address")
    assert address in detail and "use1-az1" in detail


def test_unknown_client_is_a_usage_error_with_a_suggestion():
    scn = scenario_from_data(base_scenario())
    with pytest.raises(UsageError, match="did you mean 'payments'"):
        explain(scn, "paymnts", URL)


def test_cli_unknown_client_exits_2_with_a_suggestion():
    res = runner.invoke(app, ["explain", QUICK, "--client", "storefrnt", "--url", "https://checkout.shop.internal/"])
    assert res.exit_code == 2
    assert "did you mean 'storefront'" in res.stderr


def test_text_output_lists_stages_and_target_groups():
    res = runner.invoke(app, ["explain", QUICK, "--client", "storefront", "--url",
                              "https://checkout.shop.internal/api/cart"])
    assert res.exit_code == 0, res.output
    for text in ("dns", "association_security_group", "rule api", "checkout-canary", "would be healthy"):
        assert text in res.stdout


def test_query_string_in_the_url_reaches_policy_conditions():
    scn = with_auth(base_scenario(), allow({"StringEquals": {"vpc-lattice-svcs:RequestQueryString/v": "2"}}))
    assert outcome(scn, "anonymous", "/x?v=2") == FORWARDED
    assert outcome(scn, "anonymous", "/x?v=1") == ("denied", "Service")
    assert outcome(scn, "anonymous", "/x", query={"v": "2"}) == FORWARDED


# --- docs/lattice.md §5.6, through explain ----------------------------------------------------------------

def test_doc_example_1_org_policy_admits_only_signed_callers_of_the_org():
    scn = with_auth(base_scenario(), allow({"StringEquals": {"aws:PrincipalOrgID": ["o-example"]}}))
    assert outcome(scn, "payments") == FORWARDED
    assert outcome(scn, "partner") == ("denied", "Service")
    assert outcome(scn, "anonymous") == ("denied", "Service")
    assert "aws:PrincipalOrgID" in explain(scn, "partner", URL)["auth_hint"]


def test_doc_example_2_one_role_get_only():
    policy = allow({"StringEquals": {"vpc-lattice-svcs:RequestMethod": "GET"}}, principal={"AWS": [ROLE]},
                   resource=f"{SVC_ARN}/*")
    scn = with_auth(base_scenario(), policy)
    assert outcome(scn, "payments", "/rates") == FORWARDED
    assert outcome(scn, "payments", "/rates", "POST") == ("denied", "Service")
    assert outcome(scn, "batch", "/rates") == ("denied", "Service")


def test_doc_example_3_signed_callers_from_one_vpc():
    scn = with_auth(base_scenario(), allow({"StringNotEqualsIgnoreCase": {"aws:PrincipalType": "Anonymous"},
                                            "StringEquals": {"vpc-lattice-svcs:SourceVpc": "vpc-1a2b3c4d"}}))
    assert outcome(scn, "payments") == FORWARDED
    assert outcome(scn, "anonymous") == ("denied", "Service")
    assert outcome(scn, "ops-payments") == ("denied", "Service")


def test_doc_example_4_resource_and_principal_tags():
    gamma = with_auth(base_scenario(), allow({"StringEquals": {"aws:ResourceTag/Environment": "Gamma"}}))
    assert outcome(gamma, "anonymous") == FORWARDED
    data = base_scenario()
    data["services"][0]["tags"] = {"Environment": "Prod"}
    assert outcome(with_auth(data, allow({"StringEquals": {"aws:ResourceTag/Environment": "Gamma"}})),
                   "anonymous") == ("denied", "Service")
    team = with_auth(base_scenario(), allow({"StringEquals": {"aws:PrincipalTag/Team": "Payments"}}))
    assert outcome(team, "payments") == FORWARDED
    assert outcome(team, "batch") == ("denied", "Service")


def test_doc_example_5_network_level_header_condition():
    scn = with_auth(base_scenario(), allow({"StringEquals": {"vpc-lattice-svcs:RequestHeader/header1": "value1"}}),
                    level="network")
    assert outcome(scn, "anonymous", headers={"header1": "value1"}) == FORWARDED
    assert outcome(scn, "anonymous") == ("denied", "Network")
    d = explain(scn, "anonymous", URL)
    assert d["status"] == 403 and d["failure"] == "ClientAccessDenied"
    assert "network-based policy" in d["auth_body"]


def test_iam_without_a_policy_denies_everyone():
    data = base_scenario()
    data["services"][0]["auth_type"] = "AWS_IAM"
    assert outcome(scenario_from_data(data), "payments") == ("denied", "Service")


# --- the static target-group view -----------------------------------------------------------------

def test_target_group_view_flags_targets_that_would_fail_health_checks():
    data = base_scenario()
    data["security_groups"][0]["ingress"] = [{"protocol": "tcp", "ports": 8080, "source": "10.0.0.0/16"}]
    d = explain(scenario_from_data(data), "payments", URL)
    g = d["target_group_details"]["rates-tg"]
    assert g["verdict"] == "failing"
    assert "fail-open" in g["detail"]
    assert {t["expected"] for t in g["targets"]} == {"would fail health checks"}
    assert g["health_check"]["enabled"] is True and g["health_check"]["port"] == 8080


def test_target_group_view_of_a_healthy_group():
    d = explain(scenario_from_data(base_scenario()), "payments", URL)
    g = d["target_group_details"]["rates-tg"]
    assert g["verdict"] == "ok" and g["weight"] == 1 and g["share"] == 1.0
    assert [t["expected"] for t in g["targets"]] == ["would be healthy"] * 2


def test_target_group_view_flags_a_protocol_mismatch():
    d = explain(scenario_from_data(base_scenario()), "payments", URL, protocol="gRPC")
    g = d["target_group_details"]["rates-tg"]
    assert g["verdict"] == "failing" and "TargetProtocolError" in g["detail"]


# --- synthetic callers ---------------------------------------------------------------------------------

def test_synthetic_anonymous_caller_in_a_vpc():
    scn = with_auth(base_scenario(), allow({"StringEquals": {"aws:PrincipalOrgID": "o-example"}}))
    d = explain(scn, None, URL, caller=CallerSpec(vpc="ops", principal="anonymous"))
    assert (d["outcome"], d["auth_denied_reason"]) == ("denied", "Service")
    assert "--vpc ops --principal anonymous" in d["command"]


def test_client_with_a_replaced_principal():
    scn = with_auth(base_scenario(), allow({"StringEquals": {"aws:PrincipalOrgID": "o-example"}}))
    d = explain(scn, "partner", URL, caller=CallerSpec(client="partner", principal=ROLE, org_id="o-example"))
    assert d["outcome"] == "forwarded"


def test_cli_synthetic_caller_needs_a_vpc_or_client():
    res = runner.invoke(app, ["explain", QUICK, "--url", "https://checkout.shop.internal/"])
    assert res.exit_code == 2
    assert "--client" in res.stderr


def test_cli_unknown_vpc_suggests():
    res = runner.invoke(app, ["explain", QUICK, "--vpc", "webb", "--url", "https://checkout.shop.internal/"])
    assert res.exit_code == 2 and "did you mean 'web'" in res.stderr


# --- agreement with the engine ----------------------------------------------------------------------

class Recorder:
    """An access_log that keeps what the engine decided for each request."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int, str | None, str | None, str | None]] = []

    def write(self, sim: Any, req: Any, t: float, status: int, failure: str | None, resp_bytes: int) -> None:
        self.rows.append((req.client.name, req.spec, status, failure, req.route.rule,
                          req.tg.name if req.tg else None))


PATHS = ["/", "/a", "/a/x", "/b", "/admin"]
METHODS = ["GET", "POST"]


@st.composite
def variations(draw: Any) -> dict[str, Any]:
    data = base_scenario()
    data["duration"] = "4s"
    data["seed"] = draw(st.integers(0, 1000))
    tg2 = copy.deepcopy(data["target_groups"][0])
    tg2["name"] = "rates-v2"
    tg2["targets"] = [{"id": "i-03", "az": "use1-az1", "latency": {"constant": "5ms"}}]
    tg2["health_check"] = {"enabled": False}
    data["target_groups"].append(tg2)
    if draw(st.booleans()):  # the target SG forgets the Lattice prefix list
        data["security_groups"][0]["ingress"][0]["source"] = "10.9.0.0/16"
    if draw(st.booleans()):  # an association SG that may or may not admit port 80
        port = draw(st.sampled_from([80, 443]))
        data["security_groups"].append({"name": "assoc-web", "vpc": "web",
                                        "ingress": [{"protocol": "tcp", "ports": port, "source": "10.0.0.0/16"}]})
        data["service_networks"][0]["vpc_associations"][0]["security_groups"] = ["assoc-web"]

    def action() -> dict[str, Any]:
        if draw(st.integers(0, 4)) == 0:
            return {"fixed_response": draw(st.sampled_from([404, 500]))}
        w1, w2 = draw(st.sampled_from([0, 1, 10])), draw(st.sampled_from([0, 1, 10]))
        return {"forward": [{"target_group": "rates-tg", "weight": w1}, {"target_group": "rates-v2", "weight": w2}]}
    rules = []
    for i in range(draw(st.integers(0, 3))):
        match: dict[str, Any] = {}
        if draw(st.booleans()):
            match["method"] = draw(st.sampled_from(METHODS))
        if draw(st.booleans()) or not match:
            kind = draw(st.sampled_from(["prefix", "exact"]))
            match["path"] = {kind: draw(st.sampled_from(PATHS[1:]))}
        if draw(st.booleans()):
            match["headers"] = [{"name": "x-k", "exact": "1"}]
        rules.append({"name": f"rule-{i}", "priority": i + 1, "match": match, "action": action()})
    lst = data["services"][0]["listeners"][0]
    lst["rules"] = rules
    lst["default_action"] = action()
    for level in ("service", "network"):
        if draw(st.booleans()):
            key, values = draw(st.sampled_from([
                ("vpc-lattice-svcs:RequestMethod", METHODS), ("vpc-lattice-svcs:RequestPath", PATHS),
                ("vpc-lattice-svcs:SourceVpc", ["vpc-1a2b3c4d", "vpc-00000000"]),
                ("aws:PrincipalOrgID", ["o-example"])]))
            op = draw(st.sampled_from(["StringEquals", "StringNotEquals"]))
            owner = data["services"][0] if level == "service" else data["service_networks"][0]
            owner["auth_type"] = "AWS_IAM"
            owner["auth_policy"] = allow({op: {key: draw(st.sampled_from(values))}})
    for c in data["clients"]:
        c["arrival"] = {"poisson": 15}
        c["timeout"] = "5s"
        c["retries"] = {"max": 0}
        c["requests"] = [{"method": draw(st.sampled_from(METHODS)), "path": draw(st.sampled_from(PATHS)),
                          "headers": {"x-k": "1"} if draw(st.booleans()) else {}}
                         for _ in range(draw(st.integers(1, 2)))]
    return data


@settings(max_examples=20, deadline=None)
@given(variations())
def test_every_simulated_request_agrees_with_explain(data):
    from latsim.engine.simulation import Simulation
    scn = scenario_from_data(data)
    rec = Recorder()
    summary = Simulation(scn, access_log=rec).run().summary
    memo: dict[tuple[str, int], dict[str, Any]] = {}

    def expected(client: str, i: int) -> dict[str, Any]:
        if (client, i) not in memo:
            spec = scn.index.clients[client].requests[i]
            memo[(client, i)] = explain(scn, client, URL + spec.path, spec.method, spec.headers, spec.query,
                                        spec.protocol)
        return memo[(client, i)]

    for client, i, status, failure, rule, tg in rec.rows:
        e = expected(client, i)
        assert e["outcome"] != "unreachable"
        if e["outcome"] == "denied":
            assert (status, failure) == (403, "ClientAccessDenied")
        elif e["outcome"] == "fixed_response":
            assert (status, rule) == (e["status"], e["rule"])
        else:
            assert rule == e["rule"]
            if tg is None:  # every weight 0: the documented assumption, a fixed 500
                assert sum(e["target_groups"].values()) == 0 and status == 500
            else:
                assert e["target_groups"][tg] > 0
                verdict = e["target_group_details"][tg]["verdict"]
                if verdict == "ok":
                    assert status == 200
                elif verdict == "failing":
                    assert status >= 500
    for c in scn.clients:
        outcomes = [expected(c.name, i) for i in range(len(c.requests))]
        predicted = {e["failure"] for e in outcomes if e["outcome"] == "unreachable" and e["status"] is None}
        observed = set(summary["clients"][c.name]["failures"])
        assert observed <= predicted, (c.name, observed, predicted)
        answered = {str(r[2]) for r in rec.rows if r[0] == c.name}  # Lattice answered and logged
        unlogged = {str(e["status"]) for e in outcomes if e["outcome"] == "unreachable" and e["status"]}
        assert set(summary["clients"][c.name]["status"]) <= answered | unlogged
        if all(e["outcome"] == "unreachable" for e in outcomes):
            assert not any(r[0] == c.name for r in rec.rows)
            assert observed or summary["clients"][c.name]["requests"] == 0


@pytest.mark.parametrize(("args", "code", "outcome"), [
    (["--client", "batch-anonymous", "--url", "https://orders.acme.internal/orders"], 1, "denied"),
    (["--client", "order-reader", "--url", "https://orders.acme.internal/orders"], 0, "forwarded"),
])
def test_explain_fail_on_deny_exit_code_says_whether_the_request_gets_through(args, code, outcome):
    zt = str(ROOT / "scenarios" / "zero-trust.yaml")
    gated = runner.invoke(app, ["explain", zt, *args, "--fail-on-deny", "--json"])
    assert gated.exit_code == code, gated.output
    assert json.loads(gated.output)["outcome"] == outcome
    assert runner.invoke(app, ["explain", zt, *args]).exit_code == 0  # without the flag: informational


def test_explain_fail_on_deny_exits_1_when_unreachable():
    qs = str(ROOT / "scenarios" / "quickstart.yaml")
    args = ["explain", qs, "--vpc", "backend", "--url", "https://checkout.shop.internal/api/cart", "--json"]
    res = runner.invoke(app, [*args, "--fail-on-deny"])
    assert res.exit_code == 1 and json.loads(res.output)["outcome"] == "unreachable"
