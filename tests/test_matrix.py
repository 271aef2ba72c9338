"""latsim matrix: CSV/JSON shapes, verdicts and reasons, overrides, and the law that grouping
clients into equivalence classes never changes a verdict."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from latsim.analysis.matrix import CSV_COLUMNS, compute_matrix
from latsim.cli import app
from latsim.commands import __name__ as _registered  # noqa: F401  (registers sub-commands)
from latsim.compile import Topology
from latsim.scenario import scenario_from_data
from tests.conftest import ROOT
from tests.test_explain import OTHER_ROLE, ROLE, allow, base_scenario, variations, with_auth

runner = CliRunner()
QUICK = str(ROOT / "scenarios" / "quickstart.yaml")


def matrix_of(scn: Any, **kw: Any) -> Any:
    return compute_matrix(Topology(scn), **kw)


def test_csv_has_one_row_per_client_and_listener():
    res = runner.invoke(app, ["matrix", QUICK, "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["client"], r["service"], r["listener"], r["port"]) for r in rows] == [
        ("storefront", "checkout", "https", "443"), ("storefront", "inventory", "http", "80")]
    inv = rows[1]
    assert (inv["verdict"], inv["rule"], inv["target_groups"]) == ("forwarded", "default", "inventory:1")


def test_json_shape():
    res = runner.invoke(app, ["matrix", QUICK, "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert set(d) == {"clients", "endpoints", "cells", "summary"}
    assert d["clients"] == ["storefront"]
    assert {e["service"] for e in d["endpoints"]} == {"checkout", "inventory"}
    cell = d["cells"][0]
    assert set(CSV_COLUMNS) <= set(cell)
    assert isinstance(cell["target_groups"], dict) and isinstance(cell["requests"], list)
    assert {"method", "path", "outcome", "status", "failure", "rule", "auth_denied_reason", "reason"} <= \
        set(cell["requests"][0])
    assert d["summary"]["cells"] == 2


def test_mix_paths_that_miss_every_rule_make_a_mixed_cell():
    m = matrix_of(scenario_from_data(_quick()))
    c = m.cell("storefront", "checkout")
    assert c.verdict == "mixed" and c.forwarded == 2 and len(c.results) == 3
    assert "fixed response 404" in m.row_tail(c)[-1]


def test_path_and_method_override_the_mix():
    m = matrix_of(scenario_from_data(_quick()), path="/api/x", method="PUT")
    assert m.requests_of("storefront")[0].path == "/api/x"
    assert {r.method for r in m.requests_of("storefront")} == {"PUT"}
    assert m.cell("storefront", "checkout").verdict == "forwarded"


def test_denied_cell_names_the_policy_level():
    scn = with_auth(base_scenario(), allow({"StringEquals": {"aws:PrincipalOrgID": "o-example"}}))
    m = matrix_of(scn)
    cell = m.cell("anonymous", "rates")
    assert cell.verdict == "denied"
    tail = dict(zip(CSV_COLUMNS[4:], m.row_tail(cell), strict=True))
    assert (tail["status"], tail["auth_denied_reason"]) == (403, "Service")
    assert tail["reason"].startswith("Service policy")
    assert m.cell("payments", "rates").verdict == "forwarded"


def test_unreachable_cells_say_which_stage():
    data = base_scenario()
    data["service_networks"][0]["vpc_associations"] = [{"vpc": "web"}]
    m = matrix_of(scenario_from_data(data))
    row = dict(zip(CSV_COLUMNS[4:], m.row_tail(m.cell("ops-payments", "rates")), strict=True))
    assert (row["verdict"], row["failure"]) == ("unreachable", "dns_failure")
    assert "no service-network association" in row["reason"]


def test_table_output_is_a_grid_with_reasons(tmp_path):
    out = tmp_path / "m.txt"
    res = runner.invoke(app, ["matrix", QUICK, "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "storefront" in text and "inventory" in text and "fixed response 404" in text


def test_unknown_format_is_a_usage_error():
    res = runner.invoke(app, ["matrix", QUICK, "--format", "cvs"])
    assert res.exit_code == 2 and "did you mean 'csv'" in res.stderr


def test_csv_to_a_file(tmp_path):
    out = tmp_path / "m.csv"
    res = runner.invoke(app, ["matrix", QUICK, "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0
    assert out.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)


def test_clients_that_look_alike_share_one_class():
    data = base_scenario()
    for i in range(6):
        data["clients"].append({"name": f"twin-{i}", "vpc": "web", "az": "use1-az1", "url": "http://x.invalid",
                                "principal": {"arn": ROLE, "org_id": "o-example"}})
    m = matrix_of(scenario_from_data(data))
    twins = {id(m._by_client[f"twin-{i}"]) for i in range(6)}
    assert len(twins) == 1


def _quick() -> dict[str, Any]:
    from tests.conftest import load_yaml
    return load_yaml(ROOT / "scenarios" / "quickstart.yaml")  # type: ignore[no-any-return]


# --- the grouping law -----------------------------------------------------------------------------

def hard_cases() -> dict[str, Any]:
    """Callers that differ in exactly one thing route can see: principal named or not, source
    address inside or outside a policy's CIDR, security group referenced by the association."""
    data = base_scenario()
    data["security_groups"] += [
        {"name": "app-sg", "vpc": "web"},
        {"name": "assoc-web", "vpc": "web", "ingress": [{"protocol": "tcp", "ports": 80, "source": "10.0.0.0/16"},
                                                        {"protocol": "tcp", "ports": 443, "source": "app-sg"}]}]
    data["service_networks"][0]["vpc_associations"][0]["security_groups"] = ["assoc-web"]
    open_svc = {"name": "open", "account": "shop", "custom_domain": "open.shop.internal",
                "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "default_action": {"forward": "tg-v1"}},
                              {"name": "https", "protocol": "HTTPS", "port": 443,
                               "default_action": {"fixed_response": 404}}]}
    named = {"name": "named", "account": "shop", "custom_domain": "named.shop.internal", "auth_type": "AWS_IAM",
             "auth_policy": allow(principal={"AWS": [ROLE]}),
             "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "default_action": {"forward": "tg-v2"}}]}
    by_ip = {"name": "by-ip", "account": "shop", "custom_domain": "by-ip.shop.internal", "auth_type": "AWS_IAM",
             "auth_policy": allow({"IpAddress": {"aws:SourceIp": "10.0.0.0/17"}}),
             "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "default_action": {"forward": "tg-v3"}}]}
    data["services"] += [open_svc, named, by_ip]
    data["service_networks"][0]["services"] += ["open", "named", "by-ip"]
    for tg in ("tg-v1", "tg-v2", "tg-v3"):
        data["target_groups"].append({"name": tg, "type": "IP", "vpc": "backend", "protocol": "HTTP", "port": 8080,
                                      "targets": [{"id": "10.1.0.9"}]})
    for i, (ip, sgs, arn) in enumerate([("10.0.1.1", [], ROLE), ("10.0.1.2", [], OTHER_ROLE),
                                        ("10.0.200.1", [], ROLE), ("10.0.1.3", ["app-sg"], ROLE),
                                        ("10.0.200.2", ["app-sg"], None)]):
        c: dict[str, Any] = {"name": f"hard-{i}", "vpc": "web", "az": "use1-az1", "url": "http://x.invalid",
                             "source_ip": ip, "security_groups": sgs}
        if arn:
            c["principal"] = {"arn": arn, "org_id": "o-example"}
        data["clients"].append(c)
    return data


def test_grouping_keeps_apart_callers_that_differ_in_one_thing():
    topo = Topology(scenario_from_data(hard_cases()))
    grouped = compute_matrix(topo)
    assert list(grouped.rows()) == list(compute_matrix(topo, group=False).rows())
    v = {(c, s, lst): grouped.cell(c, s, lst).verdict for c in ("hard-0", "hard-1", "hard-2", "hard-3", "hard-4")
         for s, lst in (("named", "http"), ("by-ip", "http"), ("open", "https"))}
    assert (v["hard-0", "named", "http"], v["hard-1", "named", "http"]) == ("forwarded", "denied")
    assert (v["hard-0", "by-ip", "http"], v["hard-2", "by-ip", "http"]) == ("forwarded", "denied")
    assert (v["hard-3", "open", "https"], v["hard-0", "open", "https"]) == ("fixed_response", "unreachable")


@st.composite
def crowded(draw: Any) -> dict[str, Any]:
    """A variation of the base topology with more clients, sources and policy keys."""
    data = draw(variations())
    data["security_groups"].append({"name": "app-sg", "vpc": "web"})
    data["security_groups"].append({"name": "assoc-ops", "vpc": "ops", "ingress": [
        {"protocol": "tcp", "ports": 80, "source": draw(st.sampled_from(["10.2.0.0/17", "10.2.0.0/16"]))},
        {"protocol": "tcp", "ports": [80, 443], "source": "app-sg"}]})
    data["service_networks"][0]["vpc_associations"][1]["security_groups"] = ["assoc-ops"]
    extra = data["services"][0]["listeners"][0]
    data["services"][0]["listeners"].append({"name": "https", "protocol": "HTTPS", "port": 443,
                                             "default_action": extra["default_action"]})
    if draw(st.integers(0, 3)):
        data["services"][0]["auth_type"] = "AWS_IAM"
        data["services"][0]["auth_policy"] = {"Statement": [
            {"Effect": "Allow", "Principal": draw(st.sampled_from(["*", {"AWS": [ROLE]}, {"AWS": "111111111111"}])),
             "Action": "vpc-lattice-svcs:Invoke", "Resource": "*",
             "Condition": draw(st.sampled_from([
                 {"IpAddress": {"aws:SourceIp": "10.0.0.0/17"}},
                 {"StringEquals": {"aws:PrincipalTag/Team": "Payments"}},
                 {"StringLike": {"vpc-lattice-svcs:RequestPath": "/a*"}},
                 {}]))},
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["111111111111", ROLE]}, "Action": "*",
             "Resource": "*/admin*"}]}
    for i in range(draw(st.integers(2, 6))):
        vpc = draw(st.sampled_from(["web", "ops"]))
        client: dict[str, Any] = {
            "name": f"extra-{i}", "vpc": vpc, "az": "use1-az1", "url": "http://rates.shop.internal",
            "source_ip": draw(st.sampled_from(["10.{}.1.1", "10.{}.200.9", "10.{}.129.3"])).format(
                0 if vpc == "web" else 2),
            "security_groups": ["app-sg"] if vpc == "web" and draw(st.booleans()) else [],
            "requests": [{"method": draw(st.sampled_from(["GET", "POST"])),
                          "path": draw(st.sampled_from(["/", "/a", "/admin", "/b"]))}]}
        who = draw(st.sampled_from(["anon", "role", "other", "tagged"]))
        if who == "role":
            client["principal"] = {"arn": ROLE, "org_id": "o-example"}
        elif who == "other":
            client["principal"] = {"arn": f"arn:aws:iam::111111111111:role/r{i}", "org_id": "o-example"}
        elif who == "tagged":
            client["principal"] = {"arn": f"arn:aws:iam::111111111111:role/t{i}", "tags": {"Team": "Payments"}}
        data["clients"].append(client)
    return data


@settings(max_examples=25, deadline=None)
@given(crowded())
def test_grouping_never_changes_a_verdict(data):
    topo = Topology(scenario_from_data(data))
    grouped = compute_matrix(topo)
    alone = compute_matrix(topo, group=False)
    assert list(grouped.rows()) == list(alone.rows())
    assert grouped.routes_evaluated <= alone.routes_evaluated
