"""latsim matrix: CSV/JSON shapes, verdicts and reasons, overrides, and the law that grouping
clients into equivalence classes never changes a verdict."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from latsim.analysis.equivalence import CallerKeyer
from latsim.analysis.matrix import CSV_COLUMNS, compute_matrix
from latsim.analysis.matrix_output import _csv_line, write_csv, write_json
from latsim.cli import app
from latsim.compile import Topology
from latsim.scenario import scenario_from_data
from tests.conftest import ROOT
from tests.test_explain import OTHER_ROLE, ROLE, URL, allow, base_scenario, variations, with_auth

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
    res = runner.invoke(app, ["matrix", QUICK, "--out", str(out), "--reach"])  # the reachability view's grid
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


# --- VPCs as classes: the DNS class, and what the auth policies can tell apart --------------------

WEB2, WEB3, WEB4 = "vpc-2b2b2b2b", "vpc-3c3c3c3c", "vpc-4d4d4d4d"
VPC_IDS = ("vpc-1a2b3c4d", WEB2, WEB3, WEB4)


def more_vpcs() -> dict[str, Any]:
    """The base topology plus VPCs web2 and web3, copies of web but for their ids (their CIDR
    overlaps web's, as Lattice allows), web4 the same in the partner account; a twin of client
    ``payments`` (same AZ, address and principal) in each."""
    data = base_scenario()
    web = data["vpcs"][0]
    twin = next(c for c in data["clients"] if c["name"] == "payments")
    twin["source_ip"] = "10.0.1.1"
    for name, vpc_id, account in (("web2", WEB2, "shop"), ("web3", WEB3, "shop"), ("web4", WEB4, "partner")):
        data["vpcs"].append({**web, "name": name, "id": vpc_id, "account": account})
        data["service_networks"][0]["vpc_associations"].append({"vpc": name})
        data["clients"].append({**twin, "name": f"{name}-payments", "vpc": name})
    data["service_networks"][0]["shared_with"] = ["partner"]
    return data


def _keys(topo: Topology, *clients: str) -> list[Any]:
    keyer = CallerKeyer(topo)
    return [keyer.caller(topo.clients[c]) for c in clients]


def _routes(topo: Topology, *clients: str) -> int:
    return int(compute_matrix(topo, clients=list(clients)).routes_evaluated)


def test_identical_vpcs_share_one_class_and_a_source_vpc_condition_splits_them():
    data = more_vpcs()
    plain = Topology(scenario_from_data(data))
    web, web2, web3 = _keys(plain, "payments", "web2-payments", "web3-payments")
    assert web.dns == web2.dns == web3.dns and web.sg == web2.sg == web3.sg
    assert web.authkey == web2.authkey == web3.authkey
    assert web.net != web2.net  # still told apart where a reason names the VPC
    # a copy of a VPC costs no route decision: every verdict is the first VPC's
    assert _routes(plain, "payments", "web2-payments", "web3-payments") == _routes(plain, "payments")

    topo = Topology(with_auth(data, allow({"StringNotEquals": {"vpc-lattice-svcs:SourceVpc": WEB3}})))
    web, web2, web3 = _keys(topo, "payments", "web2-payments", "web3-payments")
    assert web.dns == web3.dns and web.authkey == web2.authkey != web3.authkey
    assert _routes(topo, "payments", "web2-payments") == _routes(topo, "payments") < \
        _routes(topo, "payments", "web3-payments")
    m = compute_matrix(topo)
    assert [m.cell(c, "rates").verdict for c in ("payments", "web2-payments", "web3-payments")] == \
        ["forwarded", "forwarded", "denied"]
    assert list(m.rows()) == list(compute_matrix(topo, group=False).rows())


def test_source_vpc_constants_split_vpcs_into_few_classes_unless_a_policy_variable_reads_them():
    data = more_vpcs()
    topo = Topology(with_auth(data, allow({"StringEquals": {"vpc-lattice-svcs:SourceVpc": ["vpc-1a2b3c4d"]}})))
    web, web2, web3 = _keys(topo, "payments", "web2-payments", "web3-payments")
    assert web2.authkey == web3.authkey != web.authkey  # named or not: two classes
    for cond in ({"StringEquals": {"aws:PrincipalTag/Team": "${vpc-lattice-svcs:SourceVpc}"}},
                 {"StringLike": {"vpc-lattice-svcs:SourceVpc": "${aws:PrincipalTag/Team}*"}}):
        variable = Topology(with_auth(data, allow(cond)))
        web, web2, web3 = _keys(variable, "payments", "web2-payments", "web3-payments")
        assert len({web.authkey, web2.authkey, web3.authkey}) == 3


VPC_CONDITIONS = [
    {"StringEquals": {"vpc-lattice-svcs:SourceVpc": WEB2}},
    {"StringNotEquals": {"vpc-lattice-svcs:SourceVpc": [WEB2, WEB3]}},
    {"StringEqualsIgnoreCase": {"vpc-lattice-svcs:SourceVpc": WEB3.upper()}},
    {"StringLike": {"vpc-lattice-svcs:SourceVpc": "vpc-[34]*"}},
    {"StringLike": {"vpc-lattice-svcs:SourceVpc": "vpc-?c3c*"}},
    {"ForAnyValue:StringEquals": {"vpc-lattice-svcs:SourceVpc": [WEB4, "vpc-1a2b3c4d"]}},
    {"Null": {"vpc-lattice-svcs:SourceVpc": "false"}},
    {"StringEquals": {"vpc-lattice-svcs:SourceVpcOwnerAccount": "222222222222"}},
    {"StringNotEqualsIfExists": {"vpc-lattice-svcs:SourceVpcOwnerAccount": "111111111111"}},
    {"ArnLike": {"vpc-lattice-svcs:SourceVpc": "vpc-4*"}},
    {"StringEquals": {"aws:PrincipalTag/Home": "${vpc-lattice-svcs:SourceVpc}"}},
    {"StringLike": {"vpc-lattice-svcs:SourceVpc": "${aws:PrincipalTag/Home}*"}},
]


@st.composite
def vpc_crowd(draw: Any) -> dict[str, Any]:
    """More VPCs, clients spread over them, and auth policies on the VPC keys."""
    data = more_vpcs()
    home = draw(st.sampled_from(VPC_IDS))
    for c in data["clients"]:
        if c["name"].endswith("payments"):
            c["principal"] = {**c["principal"], "tags": {"Team": "Payments", "Home": home}}
    levels = draw(st.lists(st.sampled_from(["service", "network"]), min_size=1, max_size=2, unique=True))
    for level in levels:
        owner = data["services"][0] if level == "service" else data["service_networks"][0]
        owner["auth_type"] = "AWS_IAM"
        owner["auth_policy"] = allow(draw(st.sampled_from(VPC_CONDITIONS)))
        if draw(st.booleans()):
            owner["auth_policy"]["Statement"].append({
                "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
                "Condition": draw(st.sampled_from(VPC_CONDITIONS[:10]))})
    for i in range(draw(st.integers(1, 6))):
        client: dict[str, Any] = {"name": f"crowd-{i}", "vpc": draw(st.sampled_from(["web", "web2", "web3",
                                                                                     "web4", "ops"])),
                                  "az": "use1-az1", "url": URL}
        if draw(st.booleans()):
            client["principal"] = {"arn": draw(st.sampled_from([ROLE, OTHER_ROLE])), "org_id": "o-example",
                                   "tags": {"Home": draw(st.sampled_from(VPC_IDS))}}
        data["clients"].append(client)
    return data


@settings(max_examples=40, deadline=None)
@given(vpc_crowd())
def test_grouping_vpcs_never_changes_a_verdict(data):
    topo = Topology(scenario_from_data(data))
    grouped = compute_matrix(topo)
    alone = compute_matrix(topo, group=False)
    assert list(grouped.rows()) == list(alone.rows())
    assert grouped.routes_evaluated <= alone.routes_evaluated


# --- the benchmark topology, and the writers -------------------------------------------------------

def _bench() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import matrix_bench
    return matrix_bench


def test_bench_topology_is_valid_for_any_number_of_vpcs():
    scn = scenario_from_data(_bench().topology(n_clients=10, n_services=12, n_vpcs=260))
    cidrs = [v.cidr[0] for v in scn.vpcs]
    assert len(scn.vpcs) == 261 and len(set(cidrs)) == 251  # 10.0-249 reused, 10.250 for the targets


def test_grouping_holds_on_a_small_bench_topology():
    topo = Topology(scenario_from_data(_bench().topology(n_clients=60, n_services=30, n_vpcs=17, n_roles=12)))
    grouped = compute_matrix(topo)
    alone = compute_matrix(topo, group=False)
    assert list(grouped.rows()) == list(alone.rows())
    s = grouped.stats()
    assert s["dns_classes"] == 5 < s["network_classes"]
    assert grouped.routes_evaluated < alone.routes_evaluated / 4


def _reference_csv(m: Any) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    w.writerows(m.rows())
    return buf.getvalue()


def _written(write: Any, m: Any) -> str:
    buf = io.StringIO()
    write(m, buf)
    return buf.getvalue()


def test_csv_and_json_are_what_the_csv_and_json_modules_write():
    data = hard_cases()
    data["clients"][0]["name"] = 'payments, "the" first'
    bench = _bench().topology(n_clients=12, n_services=8, n_vpcs=6, n_roles=5)
    for scn in (scenario_from_data(_quick()), scenario_from_data(data), scenario_from_data(bench)):
        for m in (matrix_of(scn), matrix_of(scn, clients=[])):
            assert _written(write_csv, m) == _reference_csv(m)
            assert _written(write_json, m) == json.dumps(m.to_dict(), indent=1) + "\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 500), st.text(alphabet=st.sampled_from('ab ,"\r\n\t;\'é')),
                          st.text()), min_size=2, max_size=5))
def test_csv_fields_are_quoted_like_the_csv_module(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    assert _csv_line(fields) + "\n" == buf.getvalue()
