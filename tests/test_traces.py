"""Sampled request traces (``latsim run --traces``): the OTLP/JSON file, its span tree checked
against times computed by hand on a constant-latency call graph, determinism, and no effect of
tracing on any result."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from latsim.cli import app
from latsim.engine.simulation import Simulation
from latsim.errors import UsageError
from latsim.metrics.traces import FILE, KIND_CLIENT, KIND_INTERNAL, KIND_SERVER, Tracer, parse_rate
from tests.builders import build

ROOT = Path(__file__).resolve().parent.parent
MS = 1_000_000  # ns


def graph(*, d_errors: bool = False, rate: float = 2.0, duration: str = "30s") -> dict[str, Any]:
    """client -> a; a's code: work 3ms, call b, parallel [call c, call d], work 1ms. Every hop 1 ms,
    Lattice's overhead 2 ms, b and c answer in 5 ms, d in 7 ms; plenty of workers (no queueing).
    ``d_errors``: d always answers 500 and a retries it once after 10 ms, ignoring the failure."""
    def svc(name: str) -> dict[str, Any]:
        return {"name": f"api-{name}", "account": "acct", "custom_domain": f"{name}.example.internal",
                "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                               "default_action": {"forward": [{"target_group": f"{name}-tg"}]}}]}

    def tg(name: str, latency: str, **extra: Any) -> dict[str, Any]:
        target: dict[str, Any] = {"id": f"i-{name}", "az": "use1-az1", "concurrency": 100,
                                  "latency": {"constant": latency}}
        if name == "d" and d_errors:
            target["errors"] = {"rate": 1.0, "status": 500}
        return {"name": f"{name}-tg", "vpc": "app", "protocol": "HTTP", "port": 8080,
                "health_check": {"enabled": False}, "targets": [target], **extra}

    d_call: dict[str, Any] = {"call": "http://d.example.internal/score", "method": "POST"}
    if d_errors:
        d_call.update(retries={"max": 1, "backoff": "10ms", "jitter": "none"}, on_error="ignore")
    calls = [{"work": {"constant": "3ms"}},
             {"call": "http://b.example.internal/charge", "method": "POST"},
             {"parallel": [{"call": "http://c.example.internal/check"}, d_call]},
             {"work": {"constant": "1ms"}}]
    return {
        "name": "trace-graph", "seed": 3, "duration": duration, "warmup": "0s",
        "accounts": [{"id": "111111111111", "name": "acct"}],
        "vpcs": [{"name": "edge", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"]},
                 {"name": "app", "account": "acct", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]}],
        "service_networks": [{"name": "net", "account": "acct", "vpc_associations": [{"vpc": "edge"}, {"vpc": "app"}],
                              "services": ["api-a", "api-b", "api-c", "api-d"]}],
        "services": [svc(n) for n in "abcd"],
        "target_groups": [tg("a", "50ms", calls=calls), tg("b", "5ms"), tg("c", "5ms"), tg("d", "7ms")],
        "clients": [{"name": "shop", "vpc": "edge", "az": "use1-az1", "url": "http://a.example.internal/buy",
                     "arrival": {"poisson": rate}, "timeout": "5s", "retries": {"max": 0}}],
        "network": {"same_az": "1ms", "cross_az": "1ms", "lattice_overhead": "2ms"},
    }


def traced(data: dict[str, Any], rate: float, out: Path) -> tuple[Any, dict[str, Any], Tracer]:
    scn = build(data)
    tracer = Tracer(scn, rate)
    sim = Simulation(scn, tracer=tracer)
    result = sim.run()
    path = tracer.write(out, sim.end_time)
    assert path == out / FILE
    return result, json.loads(path.read_text()), tracer


def spans_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for rs in doc["resourceSpans"]:
        (attr,) = [a for a in rs["resource"]["attributes"] if a["key"] == "service.name"]
        (scope,) = rs["scopeSpans"]
        assert scope["scope"]["name"] == "latsim"
        for sp in scope["spans"]:
            out.append({**sp, "service": attr["value"]["stringValue"]})
    return out


def attr(span: dict[str, Any], key: str) -> Any:
    for a in span["attributes"]:
        if a["key"] == key:
            (v,) = a["value"].values()
            return v
    return None


class Tree:
    """One trace: spans by id, children by parent (in start order), times in ns."""

    def __init__(self, spans: list[dict[str, Any]]) -> None:
        self.by_id = {s["spanId"]: s for s in spans}
        assert len(self.by_id) == len(spans), "span ids are unique"
        self.kids: dict[str | None, list[dict[str, Any]]] = collections.defaultdict(list)
        for s in spans:
            assert s.get("parentSpanId") is None or s["parentSpanId"] in self.by_id, "every parent is in the trace"
            self.kids[s.get("parentSpanId")].append(s)
        for v in self.kids.values():
            v.sort(key=lambda s: (int(s["startTimeUnixNano"]), s["kind"] != KIND_INTERNAL))
        (self.root,) = self.kids[None]

    def children(self, span: dict[str, Any]) -> list[dict[str, Any]]:
        return self.kids[span["spanId"]]

    def shape(self, span: dict[str, Any], t0: int) -> Any:
        """(service, name, kind, start ms, end ms, [children]) relative to ``t0``."""
        return (span["service"], span["name"], span["kind"], _ms(span["startTimeUnixNano"], t0),
                _ms(span["endTimeUnixNano"], t0), [self.shape(c, t0) for c in self.children(span)])


def _ms(ns: str, t0: int) -> float:
    # times are written in ns from sums of floats: a nanosecond of rounding at most
    v = (int(ns) - t0) / MS
    r = round(v, 3)
    assert abs(v - r) * MS <= 2, v
    return r


def call(caller: str, svc: str, method: str, path: str, start: float, work: float) -> Any:
    """The spans of a call to a plain target answering in ``work`` ms, sent at ``start``: the
    attempt (client hop 1 ms, Lattice 2 ms, target hop 1 ms, work, and back 1 + 1 ms)."""
    end = start + 1 + 2 + 1 + work + 1 + 1
    target = (f"{svc}-tg", f"{method} {path}", KIND_SERVER, start + 4, start + 4 + work,
              [(f"{svc}-tg", "work", KIND_INTERNAL, start + 4, start + 4 + work, [])])
    hop = ("vpc-lattice", f"api-{svc} {method} {path}", KIND_SERVER, start + 1, end - 1, [target])
    return (caller, f"{method} {path}", KIND_CLIENT, start, end, [hop])


def test_the_span_tree_of_a_call_graph_matches_times_computed_by_hand(tmp_path: Path) -> None:
    result, doc, tracer = traced(graph(), 1.0, tmp_path)
    spans = spans_of(doc)
    traces = collections.defaultdict(list)
    for s in spans:
        traces[s["traceId"]].append(s)
    assert len(traces) == result.summary["clients"]["shop"]["requests"] > 30
    assert all(len(tid) == 32 and int(tid, 16) for tid in traces)
    assert all(len(s["spanId"]) == 16 and int(s["spanId"], 16) for s in spans)
    for trace_spans in traces.values():
        tree = Tree(trace_spans)
        t0 = int(tree.root["startTimeUnixNano"])
        # a (the program): arrives at 4 ms, works 3, calls b (11 ms), then c and d in parallel
        # (11 and 13 ms), works 1: done at 32; Lattice answers at 33, the client learns at 34
        b = ("a-tg", "call api-b", KIND_INTERNAL, 7, 18, [call("a-tg", "b", "POST", "/charge", 7, 5)])
        c = ("a-tg", "call api-c", KIND_INTERNAL, 18, 29, [call("a-tg", "c", "GET", "/check", 18, 5)])
        d = ("a-tg", "call api-d", KIND_INTERNAL, 18, 31, [call("a-tg", "d", "POST", "/score", 18, 7)])
        a = ("a-tg", "GET /buy", KIND_SERVER, 4, 32,
             [("a-tg", "work", KIND_INTERNAL, 4, 7, []), b, c, d, ("a-tg", "work", KIND_INTERNAL, 31, 32, [])])
        hop = ("vpc-lattice", "api-a GET /buy", KIND_SERVER, 1, 33, [a])
        attempt = ("shop", "GET /buy", KIND_CLIENT, 0, 34, [hop])
        assert tree.shape(tree.root, t0) == ("shop", "GET http://a.example.internal/buy", KIND_INTERNAL, 0, 34, [attempt])
        assert all(s["status"] == {} for s in trace_spans)
    # Lattice's ids and names on the hop a -> b: the calling group's VPC, the service's ARN
    hop_b = next(s for s in spans if s["name"] == "api-b POST /charge")
    scn = build(graph())
    from latsim.compile import Topology
    topo = Topology(scn)
    assert attr(hop_b, "aws.vpc_lattice.service.arn") == topo.services["api-b"].arn
    assert attr(hop_b, "aws.vpc_lattice.service.name") == "api-b"
    assert attr(hop_b, "aws.vpc_lattice.target_group.name") == "b-tg"
    assert attr(hop_b, "aws.vpc_lattice.target.id") == "i-b"
    assert attr(hop_b, "aws.vpc_lattice.source_vpc.name") == "app"
    assert attr(hop_b, "aws.vpc_lattice.source_vpc.id") == topo.caller("a-tg").vpc_id
    assert attr(hop_b, "aws.vpc_lattice.caller_principal") == "-"  # a-tg signs nothing
    assert attr(hop_b, "http.response.status_code") == "200"
    assert attr(hop_b, "aws.vpc_lattice.failure_reason") == "-"
    # the times are the scenario's start_time plus simulated seconds
    epoch = int(scn.start_time.timestamp()) * 10**9
    first = min(int(s["startTimeUnixNano"]) for s in spans)
    assert epoch <= first < epoch + 10**9 * 30


def test_retries_are_sibling_attempts_with_their_backoff(tmp_path: Path) -> None:
    _, doc, _ = traced(graph(d_errors=True, duration="10s"), 1.0, tmp_path)
    traces = collections.defaultdict(list)
    for s in spans_of(doc):
        traces[s["traceId"]].append(s)
    assert traces
    for trace_spans in traces.values():
        tree = Tree(trace_spans)
        t0 = int(tree.root["startTimeUnixNano"])
        a = tree.children(tree.children(tree.children(tree.root)[0])[0])[0]
        (d,) = [s for s in tree.children(a) if s["name"] == "call api-d"]
        first, second = tree.children(d)
        # attempt 1 at 18 ms answers 500 at 31; the retry leaves 10 ms later, answers at 54
        assert tree.shape(first, t0)[1:5] == ("POST /score", KIND_CLIENT, 18, 31)
        assert tree.shape(second, t0)[1:5] == ("POST /score", KIND_CLIENT, 41, 54)
        assert attr(first, "http.request.resend_count") is None
        assert attr(second, "http.request.resend_count") == "1"
        for sp in (first, second, d):
            assert sp["status"] == {"code": 2, "message": "HTTP 500"}
            assert attr(sp, "http.response.status_code") == "500"
        assert attr(d, "latsim.attempts") == "2"
        # on_error: ignore — a carries on (work 1 ms after the retry) and answers 200
        assert tree.shape(a, t0)[3:5] == (4, 55)
        assert attr(a, "http.response.status_code") == "200" and a["status"] == {}
        assert tree.shape(tree.root, t0)[3:5] == (0, 57)


def test_sampling_is_deterministic_and_tracing_changes_no_result(tmp_path: Path) -> None:
    data = graph(rate=40.0, duration="20s")
    plain = Simulation(build(data)).run()
    r1, _, t1 = traced(data, 0.1, tmp_path / "one")
    r2, _, _ = traced(data, 0.1, tmp_path / "two")
    assert (tmp_path / "one" / FILE).read_bytes() == (tmp_path / "two" / FILE).read_bytes()
    assert r1.to_json() == plain.to_json() == r2.to_json()
    assert r1.metric_rows == plain.metric_rows
    # about 10% of the entry requests: n ~ 800, sigma of the count = sqrt(n p (1-p)) ~ 8.5; 5 sigma
    n = plain.summary["clients"]["shop"]["requests"]
    assert abs(len(t1.traces) - 0.1 * n) <= 5 * (n * 0.1 * 0.9) ** 0.5
    # another seed samples other requests
    other = dict(data, seed=4)
    _, _, t3 = traced(other, 0.1, tmp_path / "three")
    assert [tr.trace_id for tr in t3.traces] != [tr.trace_id for tr in t1.traces]


def test_microservices_traces_nest_through_the_graph_with_identities(tmp_path: Path) -> None:
    from latsim.scenario import load_scenario
    scn = load_scenario(str(ROOT / "scenarios" / "microservices.yaml"), overrides={"duration": "15s"})
    tracer = Tracer(scn, 0.05)
    sim = Simulation(scn, tracer=tracer)
    plain = Simulation(load_scenario(str(ROOT / "scenarios" / "microservices.yaml"),
                                     overrides={"duration": "15s"})).run()
    assert sim.run().to_json() == plain.to_json()
    doc = json.loads(tracer.write(tmp_path, sim.end_time).read_text())
    spans = spans_of(doc)
    assert {s["service"] for s in spans} >= {"edge-proxy", "vpc-lattice", "storefront-tg", "checkout-tg",
                                            "payments-tg", "fraud-tg", "ledger-tg", "reporting"}
    by_id = {s["spanId"]: s for s in spans}
    for hop in (s for s in spans if s["service"] == "vpc-lattice"):
        attempt = by_id[hop["parentSpanId"]]
        caller = attempt["service"]
        principal = attr(hop, "aws.vpc_lattice.caller_principal")
        role = {"edge-proxy": "111111111111:role/edge-proxy", "reporting": "111111111111:role/reporting",
                "storefront-tg": "111111111111:role/storefront", "checkout-tg": "111111111111:role/checkout",
                "payments-tg": "222222222222:role/payments"}[caller]
        assert principal == f"arn:aws:iam::{role}"
        vpc = {"edge-proxy": "edge", "reporting": "shop-app", "storefront-tg": "shop-app",
               "checkout-tg": "shop-app", "payments-tg": "pay"}[caller]
        assert attr(hop, "aws.vpc_lattice.source_vpc.name") == vpc
        if caller == "reporting":  # the ledger admits only payments: a 403, an error span
            assert attr(hop, "aws.vpc_lattice.failure_reason") == "ClientAccessDenied"
            assert hop["status"]["code"] == 2
            assert attr(hop, "aws.vpc_lattice.auth_denied_reason")
    # a buy goes edge-proxy -> storefront -> checkout -> payments -> {fraud, ledger}: depth of services
    buys = [s for s in spans if s.get("parentSpanId") is None and s["name"] == "buy"]
    assert buys
    kids = collections.defaultdict(list)
    for s in spans:
        kids[s.get("parentSpanId")].append(s)

    def services(span: dict[str, Any]) -> set[str]:
        out = {span["service"]}
        for c in kids[span["spanId"]]:
            out |= services(c)
        return out
    assert any({"fraud-tg", "ledger-tg"} <= services(b) for b in buys)


@pytest.mark.parametrize(("text", "rate"), [("5%", 0.05), ("0.25", 0.25), ("1", 1.0), ("0", 0.0), ("100%", 1.0)])
def test_parse_rate(text: str, rate: float) -> None:
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text", ["1.5", "-1%", "abc", "nan", "150%"])
def test_parse_rate_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_rate(text)


def test_cli_writes_the_trace_file_and_refuses_without_out(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "s.json"
    path.write_text(json.dumps(graph(duration="5s")))
    res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "run"), "--traces", "50%", "-q",
                              "--no-report"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "run" / "traces" / "traces.otlp.json").read_text())
    assert doc["resourceSpans"]
    res = runner.invoke(app, ["run", str(path), "--traces", "5%"])
    assert res.exit_code != 0
    assert "--traces needs --out" in res.output
    res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "x"), "--traces", "2"])
    assert res.exit_code != 0 and "between 0 and 1" in res.output


@pytest.mark.parametrize(("name", "duration"), [("retry-storm", "80s"), ("lambda-cold-start", None),
                                              ("az-failure", "200s")])
def test_bundled_scenarios_trace_without_changing_results(name: str, duration: str | None, tmp_path: Path) -> None:
    """Retries, Lambda cold starts, an AZ failure (requests cut in flight): the same summary with
    tracing, every span's parent in its trace, no span ending before it starts."""
    from latsim.scenario import load_scenario
    path = str(ROOT / "scenarios" / f"{name}.yaml")
    over = {"duration": duration} if duration else {}  # past the incident (the latency, the AZ failure)
    scn = load_scenario(path, overrides=over)
    tracer = Tracer(scn, 0.2)
    sim = Simulation(scn, tracer=tracer)
    assert sim.run().to_json() == Simulation(load_scenario(path, overrides=over)).run().to_json()
    spans = spans_of(json.loads(tracer.write(tmp_path, sim.end_time).read_text()))
    assert len(tracer.traces) > 100
    ids = {(s["traceId"], s["spanId"]) for s in spans}
    assert all((s["traceId"], s["parentSpanId"]) in ids for s in spans if "parentSpanId" in s)
    assert all(int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]) for s in spans)
    roots = [s for s in spans if "parentSpanId" not in s]
    assert len(roots) == len(tracer.traces)


def test_a_program_target_that_fails_mid_request_ends_its_server_span_there(tmp_path: Path) -> None:
    data = graph(rate=40.0, duration="20s")
    data["timeline"] = [{"at": "10s", "fail_targets": ["i-a"], "for": "2s"}]
    _, doc, tracer = traced(data, 1.0, tmp_path)
    assert Simulation(build(data)).run().to_json() == Simulation(build(data), tracer=Tracer(build(data), 1.0)).run().to_json()
    spans = spans_of(doc)
    cut = [s for s in spans if s["service"] == "a-tg" and s["kind"] == KIND_SERVER
           and s["status"].get("message") == "the target failed"]
    assert cut  # a's requests in flight at 10 s
    for s in cut:
        assert int(s["endTimeUnixNano"]) == int(build(data).start_time.timestamp()) * 10**9 + 10 * 10**9
    ids = {(s["traceId"], s["spanId"]) for s in spans}
    assert all((s["traceId"], s["parentSpanId"]) in ids for s in spans if "parentSpanId" in s)
    assert len(tracer.traces) == sum(1 for s in spans if "parentSpanId" not in s)


def test_the_file_is_an_otlp_export_request_by_opentelemetrys_own_schema(tmp_path: Path) -> None:
    """OpenTelemetry's protobuf classes parse the file (unknown or misspelt fields are refused).
    OTLP/JSON writes ids in hex where protobuf's JSON mapping expects base64: converted first."""
    import base64

    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    _, doc, tracer = traced(graph(d_errors=True, duration="5s"), 1.0, tmp_path)
    for rs in doc["resourceSpans"]:
        for sp in rs["scopeSpans"][0]["spans"]:
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in sp:
                    sp[key] = base64.b64encode(bytes.fromhex(sp[key])).decode()
    msg = ParseDict(doc, ExportTraceServiceRequest())
    spans = [sp for rs in msg.resource_spans for ss in rs.scope_spans for sp in ss.spans]
    assert len(spans) == tracer.span_count
    assert all(len(sp.trace_id) == 16 and len(sp.span_id) == 8 for sp in spans)
    assert {sp.kind for sp in spans} == {Span.SPAN_KIND_INTERNAL, Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT}
    assert any(sp.status.code == Status.STATUS_CODE_ERROR for sp in spans)
    assert all(sp.end_time_unix_nano >= sp.start_time_unix_nano > 1.7e18 for sp in spans)
    names = {rs.resource.attributes[0].value.string_value for rs in msg.resource_spans}
    assert names == {"shop", "vpc-lattice", "a-tg", "b-tg", "c-tg", "d-tg"}
