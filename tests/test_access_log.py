"""Access logs: Lattice's record format, counts that agree with the metrics, gzip, sampling,
the S3 key layout, subscriptions and the reader."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import re
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from latsim.engine.simulation import Simulation
from latsim.errors import LatsimError
from latsim.metrics.access_log import FIELDS, AccessLogWriter, read_access_logs
from latsim.scenario import scenario_from_data

# Every field docs/lattice.md §8.2 documents for a service access-log record.
DOCUMENTED = {
    "startTime", "duration", "requestToTargetDuration", "responseFromTargetDuration", "requestMethod",
    "requestPath", "protocol", "hostHeader", "userAgent", "responseCode", "grpcResponseCode", "bytesReceived",
    "bytesSent", "serviceNetworkArn", "serviceArn", "targetGroupArn", "sourceVpcArn", "sourceVpcId",
    "destinationVpcId", "sourceIpPort", "targetIpPort", "tlsVersion", "sslCipher", "serverNameIndication",
    "resolvedUser", "authDeniedReason", "callerPrincipal", "callerPrincipalOrgID", "callerPrincipalTags",
    "callerX509SubjectCN", "callerX509IssuerOU", "callerX509SANNameCN", "callerX509SANDNS", "callerX509SANURI",
    "failureReason", "requestId", "listenerId", "listenerType",
}
ROLE = "arn:aws:iam::111111111111:role/app"


def scenario_data(**top: Any) -> dict[str, Any]:
    """Two services in one network: ``api`` (HTTPS, IAM auth refusing /secret, a fixed 404 for
    /old) called by a signed client, and ``static`` (HTTP) called anonymously."""
    data: dict[str, Any] = {
        "name": "logs", "seed": 5, "duration": "20s", "warmup": "0s",
        "accounts": [{"id": "111111111111", "name": "acct"}],
        "vpcs": [{"name": "client-vpc", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"]},
                 {"name": "target-vpc", "account": "acct", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]}],
        "service_networks": [{"name": "net", "account": "acct", "vpc_associations": [{"vpc": "client-vpc"}],
                              "services": ["api", "static"]}],
        "services": [
            {"name": "api", "account": "acct", "custom_domain": "api.example.internal", "auth_type": "AWS_IAM",
             "auth_policy": {"Statement": [{
                 "Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke", "Resource": "*",
                 "Condition": {"StringNotLike": {"vpc-lattice-svcs:RequestPath": "/secret*"}}}]},
             "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443,
                            "default_action": {"forward": [{"target_group": "tg-api"}]},
                            "rules": [{"name": "gone", "priority": 1, "match": {"path": {"prefix": "/old"}},
                                       "action": {"fixed_response": 404}}]}]},
            {"name": "static", "account": "acct", "custom_domain": "static.example.internal",
             "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                            "default_action": {"forward": [{"target_group": "tg-static"}]}}]},
        ],
        "target_groups": [
            {"name": "tg-api", "type": "INSTANCE", "vpc": "target-vpc", "protocol": "HTTP", "port": 8080,
             "health_check": {"enabled": False},
             "targets": [{"id": "i-0a", "az": "use1-az1", "concurrency": 4, "latency": "5ms"},
                         {"id": "i-0b", "az": "use1-az2", "concurrency": 4, "latency": "5ms",
                          "errors": {"rate": "5%", "status": 503}}]},
            {"name": "tg-static", "type": "IP", "vpc": "target-vpc", "protocol": "HTTP", "port": 8080,
             "health_check": {"enabled": False},
             "targets": [{"id": "10.1.0.10", "az": "use1-az1", "latency": "2ms"}]},
        ],
        "clients": [
            {"name": "app", "vpc": "client-vpc", "az": "use1-az1", "url": "https://api.example.internal",
             "principal": {"arn": ROLE, "org_id": "o-abc123", "tags": {"team": "web"}},
             "arrival": {"poisson": 40}, "retries": {"max": 0},
             "requests": [
                 {"weight": 6, "method": "GET", "path": "/items", "headers": {"user-agent": "latsim-test/1.0"}},
                 {"weight": 1, "method": "GET", "path": "/secret"},
                 {"weight": 1, "method": "GET", "path": "/old"},
                 {"weight": 2, "method": "POST", "path": "/items", "body": "512B", "query": {"page": "2"}}]},
            {"name": "web", "vpc": "client-vpc", "az": "use1-az2", "url": "http://static.example.internal",
             "arrival": {"poisson": 10}, "retries": {"max": 0}},
        ],
        "network": {"same_az": "0.2ms", "cross_az": "1ms", "lattice_overhead": "0.5ms"},
    }
    data.update(top)
    return data


def build(**top: Any) -> Any:
    return scenario_from_data(copy.deepcopy(scenario_data(**top)))


def run_with_logs(out: Path, *, all_services: bool = True, **top: Any) -> tuple[Any, AccessLogWriter]:
    scn = build(**top)
    writer = AccessLogWriter.for_run(scn, out, all_services=all_services)
    try:
        result = Simulation(scn, access_log=writer).run()
    finally:
        writer.close()
    return result, writer


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, dict[str, list[dict[str, Any]]]]:
    out = tmp_path_factory.mktemp("logs")
    result, _ = run_with_logs(out)
    records = {p.stem: list(read_access_logs(p)) for p in sorted((out / "access_logs").glob("*.jsonl"))}
    return result, out, records


def test_every_line_is_a_json_object_with_every_documented_field(full_run):
    _, out, records = full_run
    assert DOCUMENTED <= set(FIELDS)
    for path in (out / "access_logs").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            assert list(rec) == list(FIELDS)
    assert sum(len(r) for r in records.values()) > 500


def test_line_counts_agree_with_the_service_metrics(full_run):
    result, _, records = full_run
    for name, d in result.summary["services"].items():
        recs = records[name]
        assert len(recs) == d["TotalRequestCount"]
        codes = Counter(r["responseCode"] // 100 for r in recs)
        for klass in (2, 4, 5):
            assert codes[klass] == d[f"HTTPCode_{klass}XX_Count"], (name, klass)
        assert sum(r["bytesReceived"] for r in recs) == d["TotalReceivedBytes"]
        assert sum(r["bytesSent"] for r in recs) == d["TotalSentBytes"]


def test_warmup_requests_are_logged_and_the_rest_match_the_summary(tmp_path):
    result, _ = run_with_logs(tmp_path, warmup="5s")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for name, d in result.summary["services"].items():
        recs = list(read_access_logs(tmp_path / "access_logs" / f"{name}.jsonl"))
        after = [r for r in recs if datetime.strptime(r["startTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                 >= start.replace(second=5)]
        assert len(after) == d["TotalRequestCount"] < len(recs)


def test_a_forwarded_request_names_its_route_target_and_timings(full_run):
    _, _, records = full_run
    scn = build()
    from latsim.compile import Topology
    topo = Topology(scn)
    rec = next(r for r in records["api"] if r["requestPath"] == "/items" and r["responseCode"] == 200)
    assert re.fullmatch(r"2026-01-01T00:00:[0-2]\dZ", rec["startTime"])
    assert rec["requestMethod"] == "GET" and rec["protocol"] == "HTTP/1.1"
    assert rec["hostHeader"] == "api.example.internal" and rec["serverNameIndication"] == "api.example.internal"
    assert rec["userAgent"] == "latsim-test/1.0"
    assert rec["tlsVersion"].startswith("TLSv") and rec["sslCipher"] != "-"
    assert rec["serviceArn"] == topo.services["api"].arn
    assert rec["serviceNetworkArn"] == topo.networks["net"].arn
    assert rec["targetGroupArn"] == topo.target_groups["tg-api"].arn
    assert rec["listenerId"] == topo.services["api"].listeners[443].id and rec["listenerType"] == "HTTPS"
    assert rec["sourceVpcId"] == topo.clients["app"].vpc_id
    assert rec["sourceVpcArn"].endswith(f":vpc/{topo.clients['app'].vpc_id}")
    assert rec["destinationVpcId"] == topo.target_groups["tg-api"].vpc_id
    assert re.fullmatch(r"10\.0\.\d+\.\d+:\d+", rec["sourceIpPort"])
    assert re.fullmatch(r"10\.1\.\d+\.\d+:8080", rec["targetIpPort"])
    assert 0 <= rec["requestToTargetDuration"] <= rec["duration"] and rec["duration"] >= 5
    assert rec["responseFromTargetDuration"] == 0
    assert rec["failureReason"] == "-" and rec["authDeniedReason"] is None
    assert rec["resolvedUser"] == ROLE and rec["callerPrincipal"] == ROLE
    assert rec["callerPrincipalOrgID"] == "o-abc123" and rec["callerPrincipalTags"] == {"team": "web"}
    assert rec["grpcResponseCode"] is None
    post = next(r for r in records["api"] if r["requestMethod"] == "POST")
    assert post["requestPath"] == "/items?page=2" and post["bytesReceived"] == 512


def test_an_auth_denial_says_which_policy_refused(full_run):
    _, _, records = full_run
    rec = next(r for r in records["api"] if r["requestPath"] == "/secret")
    assert rec["responseCode"] == 403
    assert rec["failureReason"] == "ClientAccessDenied" and rec["authDeniedReason"] == "Service"
    assert rec["targetGroupArn"] == "-" and rec["targetIpPort"] == "-"
    assert rec["requestToTargetDuration"] is None and rec["responseFromTargetDuration"] is None


def test_a_fixed_response_has_no_target(full_run):
    _, _, records = full_run
    rec = next(r for r in records["api"] if r["requestPath"] == "/old")
    assert rec["responseCode"] == 404 and rec["targetGroupArn"] == "-" and rec["failureReason"] == "-"


def test_anonymous_http_requests_carry_no_identity_and_no_tls(full_run):
    _, _, records = full_run
    rec = records["static"][0]
    assert rec["resolvedUser"] == "Anonymous" and rec["callerPrincipal"] == "-"
    assert rec["callerPrincipalTags"] == "-" and rec["tlsVersion"] == "-" and rec["serverNameIndication"] == "-"
    assert rec["listenerType"] == "HTTP" and rec["hostHeader"] == "static.example.internal"
    assert rec["targetIpPort"] == "10.1.0.10:8080"


def test_request_ids_are_unique_uuids_and_the_same_seed_writes_the_same_bytes(full_run, tmp_path):
    _, out, records = full_run
    ids = [r["requestId"] for recs in records.values() for r in recs]
    assert len(ids) == len(set(ids))
    assert all(uuid.UUID(i).version == 4 for i in ids[:50])
    run_with_logs(tmp_path)
    for name in records:
        assert (tmp_path / "access_logs" / f"{name}.jsonl").read_bytes() == \
            (out / "access_logs" / f"{name}.jsonl").read_bytes()


def test_gzip_writes_the_same_records_compressed(full_run, tmp_path):
    _, _, records = full_run
    run_with_logs(tmp_path, access_logs={"gzip": True})
    path = tmp_path / "access_logs" / "api.jsonl.gz"
    with gzip.open(path, "rt") as fh:
        assert json.loads(fh.readline()) == records["api"][0]
    assert list(read_access_logs(path)) == records["api"]


def test_sampling_keeps_a_deterministic_subset_chosen_by_request_id(full_run, tmp_path):
    _, _, records = full_run
    run_with_logs(tmp_path / "a", access_logs={"sample": "30%"})
    run_with_logs(tmp_path / "b", access_logs={"sample": "30%"})
    full = [r for recs in records.values() for r in recs]
    kept = list(read_access_logs(tmp_path / "a" / "access_logs"))
    assert kept == list(read_access_logs(tmp_path / "b" / "access_logs"))
    assert {r["requestId"] for r in kept} <= {r["requestId"] for r in full}
    # a hash below the threshold keeps a record: Binomial(n, 0.3), sigma = sqrt(0.3 * 0.7 / n) (~1.4 % here)
    sigma = (0.3 * 0.7 / len(full)) ** 0.5
    assert abs(len(kept) / len(full) - 0.3) < 4 * sigma


def test_s3_layout_uses_the_aws_key_shape(tmp_path):
    run_with_logs(tmp_path, access_logs={"layout": "s3", "gzip": True})
    scn = build()
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 2
    ids = {s.service_id for s in scn.services}
    for f in files:
        m = re.fullmatch(r"AWSLogs/111111111111/VpcLattice/AccessLogs/us-east-1/2026/01/01/(svc-[0-9a-z]{17})/"
                         r"111111111111_vpclatticeaccesslogs_us-east-1_\1_20260101T0000Z_[0-9a-f]{8}\.json\.gz", f)
        assert m is not None, f
        assert m.group(1) in ids
    assert sum(1 for _ in read_access_logs(tmp_path / "AWSLogs")) > 500


def test_the_scenario_subscribes_listed_services_and_service_networks(tmp_path):
    result, _ = run_with_logs(tmp_path / "svc", all_services=False, access_logs={"services": ["static"]})
    assert sorted(p.name for p in (tmp_path / "svc" / "access_logs").rglob("*.jsonl")) == ["static.jsonl"]
    result, _ = run_with_logs(tmp_path / "sn", all_services=False, access_logs={"service_networks": ["net"]})
    files = sorted(p.relative_to(tmp_path / "sn").as_posix() for p in (tmp_path / "sn").rglob("*.jsonl"))
    assert files == ["access_logs/service-networks/net.jsonl"]
    n = sum(1 for _ in read_access_logs(tmp_path / "sn" / files[0]))
    assert n == sum(d["TotalRequestCount"] for d in result.summary["services"].values())


def test_a_disabled_subscription_writes_nothing(tmp_path):
    run_with_logs(tmp_path, all_services=False, access_logs={"enabled": False})
    assert not any(tmp_path.rglob("*.jsonl"))


def test_an_unknown_service_is_a_located_error(tmp_path):
    scn = build()
    with pytest.raises(LatsimError, match="no service named 'nope'"):
        AccessLogWriter(scn, tmp_path, services=["nope"])


def test_the_reader_locates_a_broken_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"startTime": "2026-01-01T00:00:00Z"}\n\n{"oops"\n')
    reader = read_access_logs(path)
    assert next(reader)["startTime"] == "2026-01-01T00:00:00Z"
    with pytest.raises(LatsimError) as exc:
        next(reader)
    assert f"{path}:3:" in str(exc.value)


def test_latsim_run_access_logs_writes_one_file_per_service(tmp_path):
    from typer.testing import CliRunner

    from latsim.cli import app
    src = tmp_path / "s.json"
    src.write_text(json.dumps(scenario_data()))
    res = CliRunner().invoke(app, ["run", str(src), "--out", str(tmp_path / "out"), "--access-logs", "--no-report",
                                   "-q", "--duration", "3s"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out" / "access_logs").iterdir()) == ["api.jsonl", "static.jsonl"]


# -- every field by hand, on a constant-latency fixture -----------------------------------------------
# Network: client -> Lattice 1 ms (client_hop = same_az), Lattice overhead 2 ms, Lattice -> target 1 ms in
# the entry AZ and 3 ms across AZs. Targets: i-0a (az1) answers in 10 ms; i-0b (az2) in 20 ms, always 503;
# 10.1.0.10 (az1) in 2 ms. Replayed arrivals at exact times, one second apart, so no request ever waits.

def _exact_data(tmp: Path) -> dict[str, Any]:
    app_csv = tmp / "app.csv"
    rows = ["time,method,path,headers"]
    for k in range(20):
        method, path, headers = [("GET", "/items", "user-agent=latsim-test/1.0"), ("GET", "/secret", ""),
                                  ("GET", "/old", ""), ("POST", "/items", "")][k % 4]
        rows.append(f"{k + 0.25},{method},{path},{headers}")
    app_csv.write_text("\n".join(rows) + "\n")
    web_csv = tmp / "web.csv"
    web_csv.write_text("".join(f"{k + 0.5},GET,/\n" for k in range(20)))
    data = scenario_data()
    data["network"] = {"same_az": "1ms", "cross_az": "3ms", "lattice_overhead": "2ms"}
    tgs = data["target_groups"]
    tgs[0]["targets"] = [{"id": "i-0a", "az": "use1-az1", "concurrency": 4, "latency": "10ms"},
                         {"id": "i-0b", "az": "use1-az2", "concurrency": 4, "latency": "20ms",
                          "errors": {"rate": "100%", "status": 503}}]
    tgs[1]["targets"][0]["latency"] = "2ms"
    app, web = data["clients"]
    app["arrival"] = {"replay": {"file": str(app_csv)}}
    app["requests"] = [{"method": "GET", "path": "/items", "response": "700B"}]
    web["arrival"] = {"replay": {"file": str(web_csv)}}
    web["requests"] = [{"method": "GET", "path": "/", "response": "300B"}]
    return data


def test_every_field_of_every_record_is_the_hand_computed_value(tmp_path):
    """Each record is compared, field by field, with a dict written from the fixture's constants
    (not from the engine): a timing measured from the wrong instant, a hop counted once instead of
    twice, a status or ARN from the wrong stage all fail here."""
    from latsim.compile import Topology
    scn = scenario_from_data(_exact_data(tmp_path))
    writer = AccessLogWriter.for_run(scn, tmp_path / "out", all_services=True)
    try:
        Simulation(scn, access_log=writer).run()
    finally:
        writer.close()
    topo = Topology(scn)
    api, static = topo.services["api"], topo.services["static"]
    app_vpc, tvpc = topo.clients["app"].vpc_id, topo.target_groups["tg-api"].vpc_id
    got = {name: list(read_access_logs(tmp_path / "out" / "access_logs" / f"{name}.jsonl"))
           for name in ("api", "static")}
    assert len(got["api"]) == len(got["static"]) == 20
    base_api = {
        "protocol": "HTTP/1.1", "hostHeader": "api.example.internal", "userAgent": "-",
        "grpcResponseCode": None, "authDeniedReason": None, "resolvedUser": ROLE, "callerPrincipal": ROLE,
        "callerPrincipalOrgID": "o-abc123", "callerPrincipalTags": {"team": "web"},
        "callerX509SubjectCN": "-", "callerX509IssuerOU": "-", "callerX509SANNameCN": "-",
        "callerX509SANDNS": "-", "callerX509SANURI": "-",
        "serviceNetworkArn": topo.networks["net"].arn, "serviceArn": api.arn, "targetGroupArn": "-",
        "sourceVpcArn": f"arn:aws:ec2:us-east-1:111111111111:vpc/{app_vpc}", "sourceVpcId": app_vpc,
        "destinationVpcId": "-", "targetIpPort": "-", "tlsVersion": "TLSv1.2",
        "sslCipher": "ECDHE-RSA-AES128-GCM-SHA256", "serverNameIndication": "api.example.internal",
        "bytesReceived": 0, "listenerId": api.listeners[443].id, "listenerType": "HTTPS",
        "failureReason": "-", "requestToTargetDuration": None, "responseFromTargetDuration": None,
    }
    ips = {t.id: t.ip for t in topo.target_groups["tg-api"].targets}
    for k, rec in enumerate(got["api"]):
        exp = dict(base_api, startTime=f"2026-01-01T00:00:{k:02d}Z")
        # the writer's counter runs over both services in answer order: app k is the (2k+1)-th record
        exp["sourceIpPort"] = f"{topo.clients['app'].ip}:{32768 + 2 * k + 1}"
        kind = k % 4
        if kind in (0, 3):  # forwarded; round robin: the even forwards go to i-0a, the odd ones to i-0b
            exp.update(requestMethod="GET" if kind == 0 else "POST", requestPath="/items",
                       targetGroupArn=topo.target_groups["tg-api"].arn, destinationVpcId=tvpc,
                       responseFromTargetDuration=0, bytesSent=700)
            if kind == 0:  # i-0a, same AZ: 2 + 1 to the target, 10 there, 1 back
                exp.update(userAgent="latsim-test/1.0", targetIpPort=f"{ips['i-0a']}:8080", responseCode=200,
                           requestToTargetDuration=3, duration=14)
            else:  # i-0b, across AZs: 2 + 3 to the target, 20 there, 3 back; its own 503
                exp.update(targetIpPort=f"{ips['i-0b']}:8080", responseCode=503,
                           requestToTargetDuration=5, duration=28)
        elif kind == 1:  # refused by the service's auth policy after Lattice's overhead
            exp.update(requestMethod="GET", requestPath="/secret", responseCode=403, duration=2, bytesSent=0,
                       failureReason="ClientAccessDenied", authDeniedReason="Service")
        else:  # the fixed 404 rule
            exp.update(requestMethod="GET", requestPath="/old", responseCode=404, duration=2, bytesSent=0)
        exp["requestId"] = str(uuid.UUID(bytes=hashlib.blake2b(f"{scn.seed}:{2 * k + 1}".encode(),
                                                                 digest_size=16).digest(), version=4))
        assert rec == {f: exp[f] for f in FIELDS}, k
    for k, rec in enumerate(got["static"]):
        assert rec["startTime"] == f"2026-01-01T00:00:{k:02d}Z"
        # web is in az2, its target in az1: 2 + 3 to the target, 2 there, 3 back
        assert (rec["duration"], rec["requestToTargetDuration"], rec["responseFromTargetDuration"]) == (10, 5, 0)
        assert (rec["responseCode"], rec["bytesSent"], rec["resolvedUser"]) == (200, 300, "Anonymous")
        assert rec["sourceIpPort"] == f"{topo.clients['web'].ip}:{32768 + 2 * k + 2}"
        assert rec["serviceArn"] == static.arn and rec["targetIpPort"] == "10.1.0.10:8080"
