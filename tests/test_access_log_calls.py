"""Access logs of downstream calls (call graphs): a request made by a target's code is logged by
the called service with the calling target group's identity — its principal, its VPC, the
address of the target that called — as Lattice logs any caller (scenarios/microservices.yaml)."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

from latsim.compile import Topology
from latsim.engine.simulation import Simulation
from latsim.metrics.access_log import AccessLogWriter, read_access_logs
from latsim.model.naming import vpc_arn
from latsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, dict[str, list[dict[str, Any]]]]:
    out = tmp_path_factory.mktemp("ms-logs")
    scn = load_scenario(str(ROOT / "scenarios" / "microservices.yaml"), overrides={"duration": "20s", "warmup": "0s"})
    with AccessLogWriter.for_run(scn, out, all_services=True) as writer:
        result = Simulation(scn, access_log=writer).run()
    logs = {p.stem: list(read_access_logs(p)) for p in sorted((out / "access_logs").glob("*.jsonl"))}
    return scn, result, logs


def test_every_service_logs_what_its_metrics_count(logged: Any) -> None:
    _, result, logs = logged
    for svc, d in result.summary["services"].items():
        assert len(logs[svc]) == d["TotalRequestCount"] > 0, svc


@pytest.mark.parametrize(("service", "caller", "role", "method", "path"), [
    ("checkout", "storefront-tg", "arn:aws:iam::111111111111:role/storefront", None, None),
    ("payments", "checkout-tg", "arn:aws:iam::111111111111:role/checkout", "POST", "/charge"),
    ("fraud", "payments-tg", "arn:aws:iam::222222222222:role/payments", "POST", "/score"),
])
def test_a_downstream_call_carries_the_calling_groups_principal_vpc_and_address(
        logged: Any, service: str, caller: str, role: str, method: str | None, path: str | None) -> None:
    scn, _, logs = logged
    topo = Topology(scn)
    ctg = topo.target_groups[caller]
    vpc = ctg.model.vpc
    ips = {t.ip for t in ctg.targets}
    seen_ips: collections.Counter[str] = collections.Counter()
    for rec in logs[service]:
        assert rec["callerPrincipal"] == role
        assert rec["resolvedUser"] == role
        assert rec["callerPrincipalOrgID"] == "o-shop0example"
        assert rec["sourceVpcId"] == topo.caller(caller).vpc_id
        assert rec["sourceVpcArn"] == vpc_arn(scn, vpc)
        ip, port = rec["sourceIpPort"].split(":")
        assert ip in ips and 32768 <= int(port) < 61000
        seen_ips[ip] += 1
        assert rec["destinationVpcId"] == topo.target_groups[f"{service}-tg"].vpc_id
        assert rec["hostHeader"] == scn.index.services[service].custom_domain
        if method is not None:
            assert (rec["requestMethod"], rec["requestPath"]) == (method, path)
    assert set(seen_ips) == ips  # every target of the calling group calls from its own address


def test_the_ledger_logs_payments_calls_and_refuses_the_reporting_job_with_its_own_identity(logged: Any) -> None:
    scn, _, logs = logged
    topo = Topology(scn)
    by_caller = collections.Counter((r["callerPrincipal"], r["sourceVpcId"], r["responseCode"], r["failureReason"])
                                    for r in logs["ledger"])
    pay = ("arn:aws:iam::222222222222:role/payments", topo.caller("payments-tg").vpc_id, 200, "-")
    job = ("arn:aws:iam::111111111111:role/reporting", topo.clients["reporting"].vpc_id, 403, "ClientAccessDenied")
    assert set(by_caller) == {pay, job}
    # the storefront sees only the edge proxy (a client outside the graph)
    assert {r["callerPrincipal"] for r in logs["storefront"]} == {"arn:aws:iam::111111111111:role/edge-proxy"}
