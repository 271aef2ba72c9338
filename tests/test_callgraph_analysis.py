"""Static analysis over call graphs: explain walks a chain of calls, matrix has calling target
groups as rows, verify checks never_reaches, diff reports call edges and flipped calls -- and the
verdict of every hop explain gives is what the engine's per-edge statuses show.

The scenario (``graph()``), by hand:

* ``client`` (anonymous, VPC ``edge``) -> ``front`` (auth NONE) -> ``front-tg``, whose code calls
  ``back`` (POST /x; back admits role/front only: forwarded), ``secret`` (admits role/other only:
  403), ``island`` (a service outside the network: 404 NonExistentService) and ``fixed`` (a
  fixed 404), the last three with ``on_error: ignore``;
* ``back-tg`` (role/back) calls ``secret`` for paths under /x (403) and ``deep`` (admits role/back
  only) for GET only -- never, since ``back`` is only called with POST /x.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from latsim import load
from latsim.analysis import compute_matrix, diff_scenarios, explain, verify
from latsim.analysis.callgraph import CallGraph, walk_hops
from latsim.analysis.matrix_output import write_csv, write_json
from latsim.cli import app
from latsim.compile import RequestClass, Topology
from latsim.engine import simulate
from latsim.errors import ScenarioError
from latsim.scenario import dump_scenario, scenario_from_data

runner = CliRunner()
ACCT = "111111111111"
MICRO = Path(__file__).resolve().parent.parent / "scenarios" / "microservices.yaml"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCT}:role/{name}"


def only(*roles: str) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Principal": {"AWS": [role(r) for r in roles]},
                           "Action": "vpc-lattice-svcs:Invoke", "Resource": "*"}]}


def service(name: str, tg: str | None, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    action = {"forward": [{"target_group": tg}]} if tg else {"fixed_response": 404}
    svc: dict[str, Any] = {"name": name, "account": "acct", "custom_domain": f"{name}.test.internal",
                           "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "default_action": action}]}
    if policy is not None:
        svc.update(auth_type="AWS_IAM", auth_policy=policy)
    return svc


def group(name: str, calls: list[dict[str, Any]] | None = None, principal: str | None = None,
          latency: str = "2ms") -> dict[str, Any]:
    tg: dict[str, Any] = {"name": name, "vpc": "app", "protocol": "HTTP", "port": 8080,
                          "health_check": {"enabled": False},
                          "targets": [{"id": f"i-{name}-{i}", "az": "use1-az1", "concurrency": 64}
                                      for i in range(2)]}
    if calls:
        tg["calls"] = calls
    else:
        for t in tg["targets"]:
            t["latency"] = latency
    if principal:
        tg["principal"] = {"arn": role(principal)}
    return tg


def call(svc: str, **kw: Any) -> dict[str, Any]:
    return {"call": f"http://{svc}.test.internal{kw.pop('path', '/')}", "timeout": "1s", **kw}


def graph() -> dict[str, Any]:
    return {
        "name": "call-graph", "seed": 3, "duration": "20s",
        "accounts": [{"id": ACCT, "name": "acct"}],
        "vpcs": [{"name": "edge", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]},
                 {"name": "app", "account": "acct", "cidr": "10.1.0.0/16", "azs": ["use1-az1"]}],
        "service_networks": [{"name": "net", "account": "acct", "vpc_associations": [{"vpc": "edge"}, {"vpc": "app"}],
                              "services": ["front", "back", "secret", "fixed", "deep"]},
                             {"name": "elsewhere", "account": "acct", "services": ["island"]}],
        "services": [service("front", "front-tg"), service("back", "back-tg", only("front")),
                     service("secret", "secret-tg", only("other")), service("fixed", None),
                     service("deep", "deep-tg", only("back")), service("island", "island-tg")],
        "target_groups": [
            group("front-tg", principal="front", calls=[
                {"work": {"constant": "1ms"}},
                call("back", method="POST", path="/x"),
                call("secret", on_error="ignore"),
                {"parallel": [call("island", on_error="ignore"), call("fixed", path="/nothing", on_error="ignore")]},
            ]),
            group("back-tg", principal="back", calls=[
                call("secret", path="/audit", when={"path": {"prefix": "/x"}}, on_error="ignore"),
                call("deep", when={"method": "GET"}),
            ]),
            group("secret-tg"), group("deep-tg"), group("island-tg")],
        "clients": [{"name": "client", "vpc": "edge", "az": "use1-az1", "url": "http://front.test.internal",
                     "arrival": {"poisson": 20}, "timeout": "5s"}],
        "network": {"same_az": "0ms", "cross_az": "0ms", "lattice_overhead": "0ms"},
    }


def scn(data: dict[str, Any] | None = None) -> Any:
    return scenario_from_data(copy.deepcopy(data if data is not None else graph()))


def hops_of(d: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def walk(hs: list[dict[str, Any]]) -> None:
        for h in hs:
            out.append(h)
            walk(h["calls"])
    walk(d["calls"])
    return out


# --- explain ---------------------------------------------------------------------------------------

def test_explain_walks_the_chain_hop_by_hop():
    d = explain(scn(), "client", "http://front.test.internal/")
    assert d["outcome"] == "forwarded"
    got = [(h["caller"], h["service"], h["outcome"], h["status"]) for h in hops_of(d)]
    # depth first: back's own call comes right after the call to back; deep (GET only) is not made
    assert got == [("front-tg", "back", "forwarded", None), ("back-tg", "secret", "denied", 403),
                   ("front-tg", "secret", "denied", 403), ("front-tg", "island", "unreachable", 404),
                   ("front-tg", "fixed", "fixed_response", 404)]
    back = d["calls"][0]
    assert back["request"]["method"] == "POST" and back["request"]["path"] == "/x"
    assert back["route"]["rule"] == "default" and back["route"]["target_groups"] == {"back-tg": 1}
    assert back["step_path"] == "calls.1" and d["calls"][2]["step_path"] == "calls.3.parallel.0"
    secret = back["calls"][0]
    assert secret["route"]["auth_denied_reason"] == "Service"
    assert "role/back" in secret["decided_by"]  # the deciding statement names the caller it lacks
    assert secret["route"]["resolved_user"] == role("back")


def test_explain_summary_names_the_first_call_not_forwarded():
    d = explain(scn(), "client", "http://front.test.internal/")
    s = d["calls_summary"]
    assert s["calls"] == 5
    assert s["by_outcome"] == {"denied": 2, "fixed_response": 1, "forwarded": 1, "unreachable": 1}
    assert (s["first_failure"]["caller"], s["first_failure"]["service"]) == ("back-tg", "secret")
    assert s["answers_500"] is False  # every failing call says on_error: ignore


def test_a_denied_hop_deep_in_the_chain_shows_in_the_first_line(tmp_path):
    data = graph()
    data["target_groups"][0]["calls"] = data["target_groups"][0]["calls"][:2]  # work, then back only
    data["target_groups"][1]["calls"][0].pop("on_error")
    path = tmp_path / "s.yaml"
    path.write_text(dump_scenario(scn(data)))
    res = runner.invoke(app, ["explain", str(path), "--client", "client", "--url", "http://front.test.internal/"])
    assert res.exit_code == 0, res.output
    first = res.output.splitlines()[0]
    assert "1 of 2 downstream calls denied: back-tg -> secret" in first and "403" in first
    assert "answer 500" in first  # on_error: fail on the denied call: back fails, then front
    # and the chain is printed indented below
    assert "    back-tg -> secret: GET http://secret.test.internal/audit" in res.output


def test_a_failing_call_with_on_error_fail_ends_its_sequence():
    data = graph()
    calls = data["target_groups"][0]["calls"]
    calls[2].pop("on_error")  # secret (denied) now fails front's program: the parallel step is never made
    d = explain(scn(data), "client", "http://front.test.internal/")
    assert [(h["caller"], h["service"]) for h in hops_of(d)] == [("front-tg", "back"), ("back-tg", "secret"),
                                                                ("front-tg", "secret")]
    assert d["calls_summary"]["answers_500"] is True


def test_a_call_with_probability_is_shown_as_conditional():
    data = graph()
    data["target_groups"][0]["calls"][2]["probability"] = 0.25
    d = explain(scn(data), "client", "http://front.test.internal/")
    secret = d["calls"][1]
    assert secret["conditional"] is True and secret["probability"] == 0.25
    assert d["calls"][0]["conditional"] is False


def test_explain_accepts_a_calling_target_group_as_the_caller():
    d = explain(scn(), "front-tg", "http://back.test.internal/x", method="POST")
    assert d["outcome"] == "forwarded"
    assert d["caller"] == "target group front-tg's code"
    assert d["resolved_user"] == role("front")
    assert [(h["caller"], h["service"], h["outcome"]) for h in d["calls"]] == [("back-tg", "secret", "denied")]
    # the same request from back-tg's own code is denied: back admits role/front only
    assert explain(scn(), "back-tg", "http://back.test.internal/x", method="POST")["status"] == 403


def test_explain_of_an_unknown_or_silent_caller_is_a_clear_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(dump_scenario(scn()))
    res = runner.invoke(app, ["explain", str(path), "--client", "front-gt", "--url", "http://back.test.internal/"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "unknown client 'front-gt'" in res.output and "front-tg" in res.output
    res = runner.invoke(app, ["explain", str(path), "--client", "deep-tg", "--url", "http://back.test.internal/"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "deep-tg has no calls" in res.output


def test_explain_json_keeps_its_keys_and_adds_calls(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(dump_scenario(scn()))
    res = runner.invoke(app, ["explain", str(path), "--client", "client", "--url", "http://front.test.internal/",
                              "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    for key in ("outcome", "status", "failure", "service", "rule", "target_groups", "steps", "client", "caller",
                "request", "command", "calls", "calls_summary"):
        assert key in d
    hop = d["calls"][0]
    for key in ("caller", "step", "request", "route", "calls", "command"):
        assert key in hop
    assert "--client front-tg" in hop["command"]


# --- the engine agrees with every hop ----------------------------------------------------------------

def test_each_hop_verdict_matches_the_engine_edge_statuses():
    s = scn()
    summary = simulate(s).summary
    edges = summary["edges"]
    d = explain(s, "client", "http://front.test.internal/")
    seen = set()
    for h in hops_of(d):
        key = f"{h['caller']}->{h['service']}"
        seen.add(key)
        e = edges[key]
        assert e["requests"] > 100, key  # 20 s at 20/s, every call made once per request
        if h["outcome"] == "forwarded":
            assert set(e["status"]) == {"200"}, key
        else:
            assert set(e["status"]) == {str(h["status"])}, (key, e["status"])
    # the calls explain does not list are never made
    for key, e in edges.items():
        if key not in seen:
            assert e["requests"] == 0, key
    assert "back-tg->deep" in edges and edges["back-tg->deep"]["requests"] == 0
    # every entry request succeeds: the failing calls say on_error: ignore
    assert set(summary["clients"]["client"]["status"]) == {"200"}


def test_on_error_fail_stops_the_same_calls_in_the_engine():
    data = graph()
    data["target_groups"][0]["calls"][2].pop("on_error")
    s = scn(data)
    summary = simulate(s).summary
    d = explain(s, "client", "http://front.test.internal/")
    made = {f"{h['caller']}->{h['service']}" for h in hops_of(d)}
    for key, e in summary["edges"].items():
        assert (e["requests"] > 0) == (key in made), key
    assert set(summary["clients"]["client"]["status"]) == {"500"}  # answers_500


def test_targets_that_call_differently_are_noted_and_each_counts_for_verify():
    data = graph()
    data["security_groups"] = [{"name": "no-egress", "vpc": "app", "egress": [],
                                "ingress": [{"protocol": "tcp", "ports": 8080, "source": "vpc-lattice"}]}]
    data["target_groups"][0]["targets"][0]["security_groups"] = ["no-egress"]  # the first target cannot call out
    d = explain(scn(data), "client", "http://front.test.internal/")
    back = d["calls"][0]
    assert (back["outcome"], back["route"]["failure"]) == ("unreachable", "connect_timeout")
    assert back["note"] is not None and "other targets of front-tg differ" in back["note"]
    assert "forwarded" in back["note"]
    # the second target's calls reach back: never_reaches follows every target
    report = verify(scn(data), [nr(["front-tg"], "back")])
    assert not report.ok
    assert report.results[0].counterexamples[0].chain[0]["source"].startswith("10.1.")


# --- the walk's building blocks ---------------------------------------------------------------------

def test_a_parallel_step_guards_its_branches():
    data = graph()
    data["target_groups"][0]["calls"][3]["when"] = {"method": "DELETE"}
    topo = Topology(scn(data))
    g = CallGraph(topo)
    sites = {s.path: s for s in g.sites("front-tg")}
    get = RequestClass("http://front.test.internal", "GET", "/")
    assert not sites["calls.3.parallel.0"].applies(get)
    assert sites["calls.3.parallel.0"].applies(RequestClass("http://front.test.internal", "DELETE", "/"))
    assert sites["calls.1"].applies(get)


def test_weighted_forward_follows_every_group_with_weight():
    data = graph()
    data["services"][0]["listeners"][0]["default_action"] = {
        "forward": [{"target_group": "front-tg", "weight": 90}, {"target_group": "alt-tg", "weight": 10}]}
    data["target_groups"].append(group("alt-tg", principal="alt", calls=[call("secret")]))
    topo = Topology(scn(data))
    d = explain(scn(data), "client", "http://front.test.internal/", topology=topo)
    callers = [h["caller"] for h in d["calls"]]
    assert callers == ["front-tg", "front-tg", "front-tg", "front-tg", "alt-tg"]
    g = CallGraph(topo)
    assert sum(1 for _ in walk_hops(g.chain(topo.route(topo.clients["client"], RequestClass(
        "http://front.test.internal", "GET", "/")), RequestClass("http://front.test.internal"))[0])) == 6


# --- matrix -----------------------------------------------------------------------------------------

def test_matrix_has_calling_target_groups_as_rows_of_their_calls():
    m = compute_matrix(Topology(scn()))
    assert [r.name for r in m.call_rows] == ["front-tg", "back-tg"]
    assert [v.outcome for v in m.calls_of("front-tg", "back")] == ["forwarded"]
    assert [v.status for v in m.calls_of("front-tg", "secret")] == [403]
    assert [v.failure for v in m.calls_of("front-tg", "island")] == ["NonExistentService"]
    assert [v.outcome for v in m.calls_of("back-tg", "deep")] == ["forwarded"]  # a call it makes, for GET
    assert m.calls_of("back-tg", "front") == []
    d = m.to_dict()
    cells = [c for c in d["cells"] if c.get("caller_type") == "target_group"]
    assert [(c["client"], c["service"], c["verdict"]) for c in cells] == [
        ("front-tg", "back", "forwarded"), ("front-tg", "secret", "denied"), ("front-tg", "fixed", "fixed_response"),
        ("front-tg", "island", "unreachable"), ("back-tg", "secret", "denied"), ("back-tg", "deep", "forwarded")]
    assert cells[0]["requests"][0]["url"] == "http://back.test.internal/x"
    assert cells[0]["requests"][0]["method"] == "POST"
    import io
    buf = io.StringIO()
    write_json(m, buf)
    assert json.loads(buf.getvalue()) == d  # the streamed JSON is the same document
    buf = io.StringIO()
    write_csv(m, buf)
    lines = buf.getvalue().splitlines()
    assert lines[-1].startswith("back-tg,deep,http,80,forwarded")
    assert len(lines) == 1 + 6 + 6  # header, the client's 6 services, 6 calls


# --- verify: never_reaches --------------------------------------------------------------------------

def nr(frm: list[str], svc: str) -> dict[str, Any]:
    return {"never_reaches": {"from": frm, "service": svc}}


def test_never_reaches_holds_when_every_chain_is_denied():
    report = verify(scn(), [nr(["client", "front-tg", "back-tg"], "secret")])
    assert report.ok, report.to_dict()
    assert report.results[0].checked > 0


def test_never_reaches_fails_with_the_chain_as_counterexample():
    report = verify(scn(), [nr(["client"], "back")])
    [res] = report.results
    assert not res.ok
    ce = res.counterexamples[0]
    assert [(h["caller"], h["service"]) for h in ce.chain] == [("client", "front"), ("front-tg", "back")]
    assert "latsim explain" in ce.command and "--client client" in ce.command


def test_never_reaches_follows_when_on_the_request_served():
    # back-tg calls deep for GET only; front-tg calls back with POST: deep is never reached
    assert verify(scn(), [nr(["front-tg"], "deep")]).ok
    data = graph()
    data["target_groups"][0]["calls"][1]["method"] = "GET"
    data["services"][1]["auth_policy"] = only("front")
    report = verify(scn(data), [nr(["front-tg"], "deep")])
    assert not report.ok
    assert [h["caller"] for h in report.results[0].counterexamples[0].chain] == ["front-tg", "back-tg"]


def test_never_reaches_from_a_client_tries_every_request_class():
    # the client's mix is GET / to front; back-tg calls deep for GET; a client that reached back
    # itself with a GET would reach deep -- but back admits role/front only, so it holds; opening
    # back breaks it, with a request the client's mix never sends
    assert verify(scn(), [nr(["client"], "deep")]).ok
    data = graph()
    data["services"][1].pop("auth_policy")
    data["services"][1].pop("auth_type")
    report = verify(scn(data), [nr(["client"], "deep")])
    assert not report.ok
    chains = [[(h["caller"], h["service"], h["request"]["method"]) for h in c.chain]
              for c in report.results[0].counterexamples]
    assert [("client", "back", "GET"), ("back-tg", "deep", "GET")] in chains


def test_never_reaches_errors_are_located_with_suggestions(tmp_path):
    data = graph()
    data["assertions"] = [nr(["clinet"], "secrt")]
    path = tmp_path / "s.yaml"
    path.write_text(dump_scenario(scn(data)))
    res = runner.invoke(app, ["verify", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "assertions.0.never_reaches.from.0: unknown client or target group 'clinet'; did you mean 'client'" \
        in res.output
    assert "did you mean 'secret'" in res.output
    assert f"{path}:" in res.output  # file:line:col
    good = tmp_path / "good.yaml"
    good.write_text(dump_scenario(scn()))
    res = runner.invoke(app, ["verify", str(good), "--assert", "never_reaches: {from: [client], servce: secret}"])
    assert res.exit_code == 2 and "did you mean 'service'" in res.output


def test_never_reaches_from_the_command_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(dump_scenario(scn()))
    res = runner.invoke(app, ["verify", str(path), "--assert", "never_reaches: {from: [client], service: back}"])
    assert res.exit_code == 1
    assert "front-tg: POST http://back.test.internal/x -> back" in res.output
    res = runner.invoke(app, ["verify", str(path), "--assert", "never_reaches: {from: [client], service: secret}",
                              "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["ok"] is True


def test_only_through_cuts_the_chains_at_the_groups_named():
    assert verify(scn(), [{"only_through": {"service": "back", "through": ["front-tg"]}}]).ok
    report = verify(scn(), [{"only_through": {"service": "back", "through": ["back-tg"]}}])
    [res] = report.results
    assert not res.ok and res.kind == "only_through"
    chains = [[h["caller"] for h in c.chain] for c in res.counterexamples]
    assert ["client", "front-tg"] in chains and ["front-tg"] in chains
    # the callers can be narrowed with from; a missing service is an error
    assert verify(scn(), [{"only_through": {"from": ["back-tg"], "service": "back", "through": ["secret-tg"]}}]).ok
    with pytest.raises(ScenarioError, match="needs 'service'"):
        verify(scn(), [{"only_through": {"through": ["front-tg"]}}])


# --- diff ---------------------------------------------------------------------------------------------

def test_diff_reports_flipped_calls_and_call_edges(tmp_path):
    new = graph()
    new["services"][2]["auth_policy"] = only("front", "other")   # secret now admits front
    del new["target_groups"][1]["calls"][1]                      # back-tg no longer calls deep
    new["target_groups"][1]["calls"].append(call("fixed", path="/y"))
    d = diff_scenarios(scn(), scn(new))
    assert [(f["caller"], f["service"], f["direction"], f["old"]["status"], f["new"]["outcome"])
            for f in d["flipped_calls"]] == [("front-tg", "secret", "gained", 403, "forwarded")]
    assert [(e["caller"], e["service"], e["step_path"]) for e in d["call_edges"]["removed"]] == [
        ("back-tg", "deep", "calls.1")]
    assert [(e["caller"], e["service"], e["verdict"]["status"]) for e in d["call_edges"]["added"]] == [
        ("back-tg", "fixed", 404)]
    assert d["summary"]["flipped_calls"] == 1
    assert d["flipped"] == []  # the client's own verdicts did not change
    old_p, new_p = tmp_path / "a.yaml", tmp_path / "b.yaml"
    old_p.write_text(dump_scenario(scn()))
    new_p.write_text(dump_scenario(scn(new)))
    res = runner.invoke(app, ["diff", str(old_p), str(new_p), "--fail-on-change"])
    assert res.exit_code == 1
    assert "call front-tg -> secret" in res.output and "removed call edge back-tg -> deep" in res.output
    assert runner.invoke(app, ["diff", str(old_p), str(old_p), "--fail-on-change"]).exit_code == 0


# --- the bundled scenario -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def micro() -> Any:
    return load(str(MICRO))


def test_microservices_assertions_hold(micro):
    report = verify(micro)
    assert report.ok, report.to_dict()
    assert [r.kind for r in report.results] == ["never_reaches", "only_through", "always_forwarded"]


def test_microservices_checkout_chain(micro):
    d = explain(micro, "storefront-tg", "https://checkout.shop.internal/checkout", method="POST")
    assert [(h["caller"], h["service"], h["outcome"]) for h in hops_of(d)] == [
        ("checkout-tg", "payments", "forwarded"), ("payments-tg", "fraud", "forwarded"),
        ("payments-tg", "ledger", "forwarded")]
    # a GET to checkout makes no call: payments is called for /checkout only
    assert explain(micro, "storefront-tg", "https://checkout.shop.internal/cart")["calls"] == []


def test_microservices_ledger_is_reached_only_through_payments(micro):
    report = verify(micro, [nr(["edge-proxy", "reporting", "storefront-tg", "checkout-tg"], "ledger")])
    assert not report.ok
    for c in report.results[0].counterexamples:
        assert c.chain[-1]["caller"] == "payments-tg"
    assert verify(micro, [nr(["reporting"], "ledger"), nr(["reporting"], "payments")]).ok
    assert verify(micro, [{"only_through": {"service": "ledger", "through": ["payments-tg"]}}]).ok
