"""Regression tests of issue 15 ("answers an architect can trust"): each test is named after
the defect it protects against and failed before its fix."""

from __future__ import annotations

from typing import Any

import pytest
from builders import build, one_service, run


def _engine() -> Any:
    from latsim.engine import simulate
    return simulate


# --- 6: per-minute figures of a partial minute ------------------------------------------------

def test_active_request_count_of_a_partial_last_minute_is_not_halved() -> None:
    """A 90 s run: the last minute holds 30 s. Constant arrivals of 100/s served in exactly
    50 ms with no queueing: L = lambda * W = 5 in every minute, the partial one included."""
    data = one_service(rate=100, duration="90s", concurrency=100, latency={"constant": "50ms"})
    data["clients"][0]["arrival"] = {"constant": "100/s"}
    result = _engine()(build(data))
    rows = {r["time_s"]: r["value"] for r in result.metrics()
            if r["dimension"] == "target_group" and r["metric"] == "ActiveRequestCount"}
    assert sorted(rows) == [0.0, 60.0]
    # exact up to the one request that straddles the run's end (1 of 3 000: 50 ms / 30 s)
    assert abs(rows[0.0] - 5.0) < 0.01
    assert abs(rows[60.0] - 5.0) < 0.01


# --- 11: interrupted runs say so everywhere ------------------------------------------------------

def _ctrl_c_at(monkeypatch: Any, t: float) -> None:
    """Ctrl-C at simulated time ``t``: a KeyboardInterrupt raised inside the event loop, where a
    real one lands."""
    from latsim.engine.simulation import Simulation
    start = Simulation.start

    def start_then_interrupt(self: Simulation) -> None:
        start(self)

        def interrupt(_ev: Any) -> None:
            raise KeyboardInterrupt
        self.at(t, interrupt)
    monkeypatch.setattr(Simulation, "start", start_then_interrupt)


@pytest.mark.pure  # replaces Simulation.start
def test_an_interrupted_run_gives_no_slo_verdict_and_says_how_far_it_got(monkeypatch: Any, tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from latsim.cli import app
    data = one_service(rate=50, duration="60s", slo=[{"service": "svc", "p99": "1s"}])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    _ctrl_c_at(monkeypatch, 30.0)
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 130
    text = res.output
    assert "interrupted at 30 of 60 simulated seconds" in text
    assert "60s simulated" not in text and "met" not in text.replace("not judged", "")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["interrupted"] == "interrupted at 30 of 60 simulated seconds"
    assert [v["ok"] for v in summary["slo"]] == [None]
    assert summary["slo"][0]["verdict"] == "not_judged"
    html = (tmp_path / "out" / "report.html").read_text()
    assert "interrupted at 30 of 60 simulated seconds" in html and "SLOs met" not in html


# --- 2: the SLO gate does not pass a total denial -------------------------------------------------

def _denied_by_typo(tmp_path: Any) -> Any:
    import json
    data = one_service(rate=50, duration="20s", slo=[{"service": "svc", "error_rate": "0.1%"}])
    data["services"][0]["auth_type"] = "AWS_IAM"
    data["services"][0]["auth_policy"] = {"Statement": [{"Effect": "Allow", "Principal": "*",
                                                         "Action": "vpc-lattice-svc:Invoke", "Resource": "*"}]}
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(data))
    return path


def test_a_policy_typo_that_denies_everyone_breaches_the_error_rate_slo(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from latsim.cli import app
    path = _denied_by_typo(tmp_path)
    res = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert res.exit_code == 1
    import json
    s = json.loads(res.stdout)
    svc = s["services"]["svc"]
    assert svc["HTTPCode_4XX_Count"] == svc["TotalRequestCount"] > 500
    assert svc["error_rate"] == 1.0 and svc["server_error_rate"] == 0.0
    (check,) = s["slo"][0]["checks"]
    assert check["metric"] == "error_rate" and check["value"] == 1.0 and check["ok"] is False
    assert "service svc answered all" in res.stderr and "4xx" in res.stderr


def test_validate_strict_fails_on_warnings(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from latsim.cli import app
    path = _denied_by_typo(tmp_path)
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0
    res = CliRunner().invoke(app, ["validate", str(path), "--strict"])
    assert res.exit_code == 1 and "vpc-lattice-svc:Invoke" in res.stderr


def test_error_rate_counts_connection_failures_and_timeouts_server_error_rate_only_5xx() -> None:
    """A target that takes 100 ms for a client with a 50 ms timeout: every attempt times out.
    The service sees each as closed without a response; its 5xx rate stays 0."""
    data = one_service(rate=20, duration="20s", concurrency=100, latency={"constant": "100ms"}, timeout="50ms")
    s = run(data)
    svc = s["services"]["svc"]
    n = svc["TotalRequestCount"]
    assert n > 300 and svc["HTTPCode_2XX_Count"] == 0
    assert svc["ClosedWithoutResponse"] == {"ClientConnectionClosed": n}
    assert svc["error_rate"] == 1.0 and svc["server_error_rate"] == 0.0
    assert s["clients"]["client"]["failures"] == {"client_timeout": n}


# --- 7: requests the client abandoned ------------------------------------------------------------

def test_an_abandoned_request_is_logged_as_client_connection_closed_not_2xx(tmp_path: Any) -> None:
    """Half the requests take 20 ms, half 200 ms, for a client that waits 100 ms: the slow half
    is logged (and counted) as closed by the client at its timeout, never as a 2XX that took
    longer than the client waited."""
    import json

    import latsim
    data = one_service(rate=20, duration="20s", concurrency=100, timeout="100ms",
                       latency={"mixture": [{"weight": 1, "of": {"constant": "20ms"}},
                                            {"weight": 1, "of": {"constant": "200ms"}}]},
                       access_logs={"enabled": True})
    result = latsim.simulate(build(data), access_logs=str(tmp_path / "logs"))
    records = [json.loads(line) for line in (tmp_path / "logs" / "access_logs" / "svc.jsonl").open()]
    assert len(records) == result.summary["services"]["svc"]["TotalRequestCount"] > 300
    for r in records:
        if r["responseCode"] == 200:
            assert r["duration"] <= 100
        else:
            assert (r["responseCode"], r["failureReason"], r["duration"]) == (0, "ClientConnectionClosed", 100)
    closed = sum(1 for r in records if r["responseCode"] == 0)
    assert abs(closed - len(records) / 2) < 4 * (len(records) / 4) ** 0.5  # binomial(n, 1/2): 4 sigma
    svc = result.summary["services"]["svc"]
    assert svc["HTTPCode_2XX_Count"] == len(records) - closed
    assert svc["ClosedWithoutResponse"] == {"ClientConnectionClosed": closed}


# --- 5: a denied TLS-passthrough connection is closed, not answered 403 ---------------------------

def _tls_denying_settlement() -> Any:
    from latsim.scenario import load_scenario
    scn = load_scenario("scenarios/tls-passthrough.yaml")
    data = scn.model_dump(mode="json", exclude_none=True, by_alias=True)
    st = data["services"][0]["auth_policy"]["Statement"][0]
    st["Condition"]["StringEquals"]["vpc-lattice-svcs:SourceVpc"] = ["vpc-0a11ce5eed0000001"]  # payments only
    data["duration"] = "30s"
    return data


def test_a_denied_tls_passthrough_connection_is_closed_without_an_http_status() -> None:
    from latsim.analysis.explain import explain
    data = _tls_denying_settlement()
    d = explain(build(data), "reconciler", "tls://ledger.bank.internal:443")
    assert (d["outcome"], d["status"], d["failure"]) == ("denied", None, "ClientAccessDenied")
    s = run(data)
    svc = s["services"]["ledger"]
    assert "HTTPCode_VpcLattice_403_Count" not in svc and svc["HTTPCode_4XX_Count"] == 0
    denied = svc["ClosedWithoutResponse"]["ClientAccessDenied"]
    rec = s["clients"]["reconciler"]
    assert denied == rec["failures"]["connection_closed"] > 150 and "403" not in rec["status"]
    assert s["clients"]["payment-gateway"]["failed"] == 0


# --- 1: the decision follows the request to the targets ------------------------------------------

def _grpc_group() -> dict[str, Any]:
    """An HTTP/1.1 caller forwarded to a GRPC target group: every request is a 502."""
    data = one_service(rate=20, duration="10s")
    data["target_groups"][0]["protocol_version"] = "GRPC"
    data["services"][0]["listeners"][0].update({"name": "https", "protocol": "HTTPS", "port": 443})
    data["clients"][0]["url"] = "https://svc.example.internal"
    return data


def test_explain_reports_a_target_failure_first_for_an_http1_caller_on_a_grpc_group() -> None:
    import io

    from rich.console import Console

    from latsim.analysis.explain import explain, render
    data = _grpc_group()
    d = explain(build(data), "client", "https://svc.example.internal/")
    assert (d["outcome"], d["status"], d["failure"]) == ("target_failure", 502, "TargetProtocolError")
    assert d["component"] == "target group tg-main (GRPC)"
    buf = io.StringIO()
    render(d, Console(file=buf, width=200, color_system=None))
    lines = buf.getvalue().splitlines()
    assert lines[0].endswith(": target_failure 502 TargetProtocolError")
    last = [line for line in lines if line.startswith("target_failure")]
    assert last and "502 TargetProtocolError" in last[0] and "tg-main" in last[0]
    # the engine agrees: every request is that 502
    svc = run(data)["services"]["svc"]
    assert svc["HTTPCode_VpcLattice_502_Count"] == svc["TotalRequestCount"] > 100


def test_security_group_blocking_lattice_empty_group_and_zero_weights_are_target_failures() -> None:
    from latsim.analysis.explain import explain
    blocked = one_service()
    blocked["security_groups"] = [{"name": "tg-sg", "vpc": "target-vpc",
                                   "ingress": [{"protocol": "tcp", "ports": 8080, "source": "10.0.0.0/8"}]}]
    blocked["target_groups"][0]["security_groups"] = ["tg-sg"]
    empty = one_service(targets=0)
    zero = one_service()
    zero["services"][0]["listeners"][0]["default_action"] = {"forward": [{"target_group": "tg-main", "weight": 0}]}
    got = {name: explain(build(d), "client", "http://svc.example.internal/")
           for name, d in (("blocked", blocked), ("empty", empty), ("zero", zero))}
    assert {k: (v["outcome"], v["status"], v["failure"]) for k, v in got.items()} == {
        "blocked": ("target_failure", 500, "TargetConnectionError"),
        "empty": ("target_failure", 500, "TargetConnectionError"),
        "zero": ("target_failure", 500, "InternalError")}
    assert got["blocked"]["component"] == "target i-0000's security groups (tg-sg)"
    assert got["zero"]["component"] == "rule default of svc/http"


def test_matrix_verify_and_diff_see_a_target_failure() -> None:
    from latsim.analysis.diff import verdict_changes
    from latsim.analysis.matrix import compute_matrix
    from latsim.analysis.verify import verify
    from latsim.compile import Topology
    bad = build(_grpc_group())
    good_data = _grpc_group()
    good_data["target_groups"][0]["protocol_version"] = "HTTP1"
    good = build(good_data)
    cell = compute_matrix(Topology(bad)).cell("client", "svc")
    assert cell.verdict == "target_failure"
    main = cell.main()
    assert main.status == 502 and "target group tg-main (GRPC)" in main.reason
    report = verify(bad, [{"always_forwarded": {"service": "svc"}}])
    assert not report.ok and report.results[0].failures > 0
    assert verify(good, [{"always_forwarded": {"service": "svc"}}]).ok
    changes, _ = verdict_changes(Topology(good), Topology(bad))
    assert [(c["client"], c["direction"], c["new"]["outcome"]) for c in changes] == \
        [("client", "lost", "target_failure")]


def test_partial_target_failures_name_the_failing_targets() -> None:
    from latsim.analysis.explain import explain
    data = one_service(targets=2)
    data["target_groups"][0]["targets"][1]["errors"] = {"rate": 1.0, "status": 503}
    d = explain(build(data), "client", "http://svc.example.internal/")
    assert d["outcome"] == "forwarded"
    assert [(f["target"], f["status"]) for f in d["target_failures"]] == [("i-0001", 503)]


# --- 4: health checks apply the matcher and wait in the target's queue -----------------------------

_HC = {"enabled": True, "path": "/health", "interval": "5s", "timeout": "2s", "healthy_threshold": 2,
       "unhealthy_threshold": 2, "matcher": "200-299"}


def _health_of(summary: dict[str, Any], target: str) -> list[str]:
    return [state for _, state in summary["target_groups"]["tg-main"]["targets"][target]["health"]]


def test_a_target_answering_500_to_everything_fails_its_health_checks() -> None:
    data = one_service(targets=2, rate=50, duration="60s", concurrency=10, health=_HC)
    data["target_groups"][0]["targets"][1]["errors"] = {"rate": 1.0, "status": 500}
    s = run(data)
    assert _health_of(s, "i-0000") == ["HEALTHY"]
    assert _health_of(s, "i-0001") == ["HEALTHY", "UNHEALTHY"]
    # out of rotation after two failed probes (<= 2 intervals + timeout): it served few requests
    assert s["target_groups"]["tg-main"]["targets"]["i-0001"]["TotalRequestCount"] < 0.25 * s["requests"]


def test_the_health_path_status_is_configurable_per_target() -> None:
    data = one_service(targets=2, rate=50, duration="60s", concurrency=10, health=_HC)
    fail_real = data["target_groups"][0]["targets"][0]
    fail_real.update({"errors": {"rate": 1.0, "status": 500}, "health_status": 200})  # healthy, useless
    data["target_groups"][0]["targets"][1]["health_status"] = 503  # serves well, fails its checks
    s = run(data)
    assert _health_of(s, "i-0000") == ["HEALTHY"]
    assert _health_of(s, "i-0001") == ["HEALTHY", "UNHEALTHY"]


def test_an_overloaded_target_fails_its_health_checks_by_timeout() -> None:
    """One worker taking 10 ms, 200 requests/s (rho = 2): the queue grows by 100 requests a second,
    so a probe soon waits longer than the 2 s timeout."""
    data = one_service(targets=1, rate=200, duration="60s", concurrency=1, latency={"constant": "10ms"},
                       health=_HC)
    s = run(data)
    assert _health_of(s, "i-0000")[:2] == ["HEALTHY", "UNHEALTHY"]
    t_unhealthy = s["target_groups"]["tg-main"]["targets"]["i-0000"]["health"][1][0]
    assert t_unhealthy < 40_000  # ms: the backlog passes 2 s after ~20 s, then two failed probes


# --- 3: one instance in two target groups is one machine ----------------------------------------

def _blue_green_one_instance(lam: float, duration: float, seed: int, shared: bool = True) -> dict[str, Any]:
    """Instance i-0000 (one worker, 10 ms constant service) registered in a blue and a green group
    that split the traffic 50/50: one M/D/1 queue at rho = lam / 100."""
    data = one_service(rate=lam, duration=f"{duration:.3f}s", warmup="20s", seed=seed, concurrency=1,
                       latency={"constant": "10ms"})
    blue = data["target_groups"][0]
    blue["name"] = "blue"
    green = {**blue, "name": "green", "port": 8081}
    data["target_groups"] = [blue, green]
    data["services"][0]["listeners"][0]["default_action"] = {
        "forward": [{"target_group": "blue", "weight": 50}, {"target_group": "green", "weight": 50}]}
    if not shared:
        data["assumptions"] = {"shared_instances": False}
    return data


@pytest.mark.slow
def test_one_instance_in_two_target_groups_is_one_md1_queue() -> None:
    """M/D/1 at rho = 0.8 (Pollaczek-Khinchine): mean response = S + rho S / (2 (1 - rho)) =
    10 + 20 = 30 ms. Two separate servers at rho = 0.4 each would give 10 + 3.33 ms. Five
    replications of ~200 000 requests: the 99 % t-interval of the replication means must hold 30."""
    import math

    import numpy as np
    lam = 80.0
    analytic = 10.0 + 0.8 * 10.0 / (2 * (1 - 0.8))
    means = []
    for r in range(5):
        s = run(_blue_green_one_instance(lam, 200_000 / lam, 500 + r))
        tgs = s["target_groups"]
        n = [tgs[g]["TotalRequestCount"] for g in ("blue", "green")]
        m = [tgs[g]["RequestTime"]["mean"] for g in ("blue", "green")]
        means.append(float(np.average(m, weights=n)))
    mean, sd = float(np.mean(means)), float(np.std(means, ddof=1))
    half = 4.604 * sd / math.sqrt(5)  # t_{0.995, 4}
    assert abs(mean - analytic) / analytic < 0.03, (mean, means)
    assert mean - half <= analytic <= mean + half, (mean, half, means)


def test_shared_instances_can_be_switched_off() -> None:
    s = run(_blue_green_one_instance(80.0, 200.0, 7, shared=False))
    tgs = s["target_groups"]
    mean = (tgs["blue"]["RequestTime"]["mean"] + tgs["green"]["RequestTime"]["mean"]) / 2
    assert mean < 15.0  # two M/D/1 queues at rho = 0.4: 13.3 ms


# --- 9: a run directory describes exactly one run -----------------------------------------------

def _cli_run(tmp_path: Any, out: Any, *extra: str) -> Any:
    import json

    from typer.testing import CliRunner

    from latsim.cli import app
    path = tmp_path / "s.json"
    if not path.exists():
        path.write_text(json.dumps(one_service(rate=20, duration="5s")))
    return CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet", "--no-report", *extra])


def test_run_refuses_a_non_empty_directory_that_is_not_a_run(tmp_path: Any) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    res = _cli_run(tmp_path, out)
    assert res.exit_code == 2 and "not empty and holds no latsim run" in res.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]


def test_a_rerun_replaces_the_previous_run_as_a_whole(tmp_path: Any) -> None:
    out = tmp_path / "run"
    assert _cli_run(tmp_path, out, "--access-logs").exit_code == 0
    assert (out / "access_logs").is_dir()
    assert _cli_run(tmp_path, out).exit_code == 0
    assert not (out / "access_logs").exists()
    names = sorted(p.name for p in out.iterdir() if p.name not in ("series.parquet", "series.csv"))
    assert names in (["latsim-run.json", "metrics.parquet", "summary.json"],
                     ["latsim-run.json", "metrics.csv", "summary.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "s.json"]  # no staging, no lock left


def test_run_refuses_a_directory_another_live_run_holds(tmp_path: Any) -> None:
    import subprocess
    import sys
    out = tmp_path / "run"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".run.latsim-lock").write_text(f"{other.pid}\n")
        res = _cli_run(tmp_path, out)
        assert res.exit_code == 2 and f"another latsim run (pid {other.pid})" in res.stderr
        assert not out.exists()
    finally:
        other.kill()
        other.wait()
    assert _cli_run(tmp_path, out).exit_code == 0  # its process is gone: the lock is stale


# --- 8: matrix and diff cells are the requests a client sends ------------------------------------

QUICK = "scenarios/quickstart.yaml"


def test_matrix_cells_are_the_requests_each_client_sends_at_their_own_url() -> None:
    import csv
    import io

    from typer.testing import CliRunner

    from latsim.cli import app
    res = CliRunner().invoke(app, ["matrix", QUICK, "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = [(r["client"], r["service"], r["requests"], r["verdict"], r["status"])
            for r in csv.DictReader(io.StringIO(res.stdout))]
    # the simulation never sends /stock to checkout: no 404 (the reachability view still has it)
    assert rows == [("storefront", "checkout", "2", "forwarded", ""), ("storefront", "inventory", "1", "forwarded", "")]
    reach = CliRunner().invoke(app, ["matrix", QUICK, "--format", "csv", "--reach"])
    assert "404" in reach.stdout and "mixed" in reach.stdout


def test_diff_ignores_a_change_to_a_request_no_client_sends() -> None:
    """Removing checkout's default 404 changes nothing any client sends: no flip in the sent view,
    a flip (404 -> forwarded) in the reachability view."""
    from latsim.analysis.diff import diff_scenarios
    from latsim.scenario import load_scenario
    old = load_scenario(QUICK)
    data = old.model_dump(mode="json", exclude_none=True, by_alias=True)
    lst = data["services"][0]["listeners"][0]
    lst["default_action"] = {"forward": [{"target_group": "checkout-stable"}]}
    new = build(data)
    assert diff_scenarios(old, new)["flipped"] == []
    assert diff_scenarios(old, new, view="reach")["summary"]["flipped"] == 1


# --- 10: one error per mistake, at its place -----------------------------------------------------

def _problems(data: dict[str, Any], tmp_path: Any) -> list[Any]:
    import json

    from latsim.errors import ScenarioError
    from latsim.scenario import load_scenario
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data, indent=1))
    try:
        load_scenario(path)
    except ScenarioError as exc:
        return exc.all_problems
    return []


def _two_groups() -> dict[str, Any]:
    data = one_service()
    data["target_groups"].append({"name": "tg-b", "type": "INSTANCE", "vpc": "target-vpc", "protocol": "HTTP",
                                  "port": 8080, "health_check": {"enabled": False}, "targets": [{"id": "i-b"}]})
    return data


@pytest.mark.parametrize("weight", [0.8, 1000])
def test_a_bad_weight_is_one_error_at_the_weight_with_what_is_allowed(weight: float, tmp_path: Any) -> None:
    data = _two_groups()
    data["services"][0]["listeners"][0]["default_action"] = {
        "forward": [{"target_group": "tg-main", "weight": weight}, {"target_group": "tg-b", "weight": 20}]}
    (p,) = _problems(data, tmp_path)
    assert p.location.path == "services.svc.listeners.http.default_action.forward.0.weight"
    assert p.allowed == "an integer 0-999" and "required" not in p.message


def test_a_misspelt_target_group_type_is_one_error(tmp_path: Any) -> None:
    data = one_service()
    data["target_groups"].append({"name": "fn-x", "type": "LAMDBA",
                                  "targets": [{"id": "arn:aws:lambda:us-east-1:111111111111:function:f"}]})
    (p,) = _problems(data, tmp_path)
    assert p.location.path == "target_groups.fn-x.type" and "did you mean 'LAMBDA'" in p.format()


def test_a_missing_replay_file_is_found_by_validate_at_its_place(tmp_path: Any) -> None:
    data = one_service()
    data["clients"][0]["arrival"] = {"replay": {"file": "trace.csv"}}
    (p,) = _problems(data, tmp_path)
    assert p.location.path == "clients.client.arrival.replay.file" and p.location.line
    assert "trace.csv" in p.message
    (tmp_path / "trace.csv").write_text("timestamp,method,path\n0.1,GET,/\n")
    assert _problems(data, tmp_path) == []


# --- decision: a full target queue is the target's 503, not Lattice's ------------------------------

def test_a_full_target_queue_is_the_targets_503_not_a_lattice_code() -> None:
    data = one_service(rate=200, duration="20s", concurrency=1, queue=2, latency={"constant": "10ms"})
    svc = run(data)["services"]["svc"]
    assert svc["HTTPCode_5XX_Count"] > 500  # rho = 2: about half are turned away
    assert "HTTPCode_VpcLattice_503_Count" not in svc and svc["ConnectionErrorCount"] == 0


# --- decisions: condition-key names match case-insensitively; undeclared identity policies ---------

def _with_service_policy(condition: dict[str, Any]) -> dict[str, Any]:
    data = one_service()
    data["services"][0]["auth_type"] = "AWS_IAM"
    data["services"][0]["auth_policy"] = {"Statement": [{"Effect": "Allow", "Principal": "*",
                                                         "Action": "vpc-lattice-svcs:Invoke", "Resource": "*",
                                                         "Condition": condition}]}
    return data


def test_condition_key_names_match_whatever_their_case() -> None:
    """IAM's Condition reference: context key names are not case-sensitive (values follow the
    operator)."""
    from latsim.analysis.explain import explain
    vpc_id = build(one_service()).index.vpcs["client-vpc"].vpc_id
    for key in ("vpc-lattice-svcs:SourceVpc", "VPC-LATTICE-SVCS:sourcevpc"):
        d = explain(build(_with_service_policy({"StringEquals": {key: vpc_id}})), "client",
                    "http://svc.example.internal/")
        assert d["outcome"] == "forwarded", key


def test_a_signed_caller_without_an_identity_policy_is_allowed_and_explain_says_it_is_assumed() -> None:
    from latsim.analysis.explain import explain
    data = _with_service_policy({})
    data["services"][0]["auth_policy"]["Statement"][0].pop("Condition")
    data["clients"][0]["principal"] = {"arn": "arn:aws:iam::111111111111:role/caller"}
    d = explain(build(data), "client", "http://svc.example.internal/")
    step = next(s for s in d["steps"] if s["stage"] == "auth_identity")
    assert d["outcome"] == "forwarded" and "assumed" in step["detail"]
    data["assumptions"] = {"identity_default_allow": False}
    d = explain(build(data), "client", "http://svc.example.internal/")
    assert (d["outcome"], d["auth_denied_reason"]) == ("denied", "Identity")
