"""Same scenario, same seed: the same summary, byte for byte, wherever and however often it runs.

Two feature-rich library scenarios (progressive canaries with a rollback; an AZ failure on the
timeline with health checks, retries and SLOs) run twice in this process, in a pool of spawned
worker processes and on a Dask LocalCluster, directly (what ``latsim run --json`` prints) and
through ``latsim.studies``. Then common random numbers: changing one client leaves the draws of a
client that shares nothing with it exactly where they were.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import latsim
from latsim.scenario import load_data, scenario_from_data
from latsim.studies import DaskExecutor, ProcessExecutor, SerialExecutor, StudyOptions, build_study, run_study
from tests.conftest import ROOT

#: scenario -> --duration: long enough for the canary steps (30 s apart) and the AZ failure (at 3 m)
CASES = {"canary-progressive": "150s", "az-failure": "4m"}

pytestmark = pytest.mark.xdist_group("determinism")  # one worker: the pools below share the two cores


def path_of(name: str) -> str:
    return str(ROOT / "scenarios" / f"{name}.yaml")


def summary_json(path: str, duration: str) -> str:
    """What ``latsim run PATH --duration D --json`` prints (module level: workers import it)."""
    return latsim.simulate(latsim.load(path, duration=duration)).to_json()


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    return {name: summary_json(path_of(name), d) for name, d in CASES.items()}


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        yield client


def test_the_scenarios_exercise_canaries_timeline_retries_and_health_checks(reference):
    canary = json.loads(reference["canary-progressive"])
    outcomes = {c["name"]: c["outcome"] for c in canary["canary"]}
    assert outcomes == {"cart-v2": "running", "search-v2": "rolled_back"}
    assert canary["clients"]["storefront"]["retries"] > 0
    az = json.loads(reference["az-failure"])
    assert [e["kind"] for e in az["timeline"]] == ["fail_az"]
    health = az["target_groups"]["orders-pool"]["targets"]["i-0orders1a"]["health"]
    assert [state for _, state in health] == ["HEALTHY", "UNHEALTHY"]
    assert az["clients"]["reporting"]["retries"] > 0 and az["slo"]


def test_a_second_run_in_the_same_process_gives_the_same_bytes(reference):
    for name, duration in CASES.items():
        assert summary_json(path_of(name), duration) == reference[name], name


def test_a_pool_of_spawned_processes_gives_the_same_bytes(reference):
    names = list(CASES) * 2  # each scenario twice, on whichever worker is free
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        outputs = list(pool.map(summary_json, [path_of(n) for n in names], [CASES[n] for n in names]))
    for name, text in zip(names, outputs, strict=True):
        assert text == reference[name], name


def test_a_dask_local_cluster_gives_the_same_bytes(reference, dask_client):
    names = list(CASES) * 2
    futures = [dask_client.submit(summary_json, path_of(n), CASES[n], pure=False) for n in names]
    for name, text in zip(names, dask_client.gather(futures), strict=True):
        assert text == reference[name], name


def test_a_study_gives_the_same_runs_on_every_executor(dask_client):
    """Through latsim.studies: serial, local processes and Dask give identical run records."""
    data, pos = load_data(path_of("canary-progressive"))
    study = build_study(data, pos, source="canary-progressive.yaml", options=StudyOptions(
        params=["clients.storefront.arrival.poisson=x0.5,x1"], replications=2, duration="90s",
        metrics=["services.cart.RequestTime.p99", "clients.storefront.failed"]))
    runs = {}
    for name, make in (("serial", SerialExecutor), ("processes", lambda: ProcessExecutor(2)),
                       ("dask", lambda: DaskExecutor(dask_client.scheduler.address))):
        executor = make()
        try:
            result = run_study(study, executor, quiet=True)
        finally:
            executor.close()
        assert not result.errors, result.errors
        runs[name] = [json.dumps(r["summary"]) for r in sorted(result.records, key=lambda r: (r["point"],
                                                                                              r["replication"]))]
    assert len(runs["serial"]) == 4 and len(set(runs["serial"])) == 4  # four different runs ...
    assert runs["serial"] == runs["processes"] == runs["dask"]  # ... the same everywhere


# --- common random numbers ------------------------------------------------------------------------

def two_tenants() -> dict[str, Any]:
    """Two clients, each with its own VPC, service network, service, target group and targets:
    nothing in common but the scenario (and its seed)."""
    data: dict[str, Any] = {"name": "two-tenants", "seed": 11, "duration": "60s", "warmup": "0s",
                            "accounts": [{"id": "111111111111", "name": "acct"}],
                            "vpcs": [], "service_networks": [], "services": [], "target_groups": [], "clients": []}
    for t, cidr in (("a", "10.0.0.0/16"), ("b", "10.1.0.0/16")):
        data["vpcs"].append({"name": f"vpc-{t}", "account": "acct", "cidr": cidr, "azs": ["use1-az1", "use1-az2"]})
        data["service_networks"].append({"name": f"net-{t}", "account": "acct", "services": [f"shop-{t}"],
                                         "vpc_associations": [{"vpc": f"vpc-{t}"}]})
        data["services"].append({"name": f"shop-{t}", "account": "acct", "custom_domain": f"shop-{t}.example.internal",
                                 "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                                "default_action": {"forward": [{"target_group": f"tg-{t}"}]}}]})
        data["target_groups"].append({
            "name": f"tg-{t}", "type": "INSTANCE", "vpc": f"vpc-{t}", "protocol": "HTTP", "port": 8080,
            "health_check": {"path": "/health", "interval": "5s"},
            "targets": [{"id": f"i-{t}{i}", "az": f"use1-az{i}", "concurrency": 2,
                         "latency": {"lognormal": {"median": "20ms", "sigma": 0.6}},
                         "errors": {"rate": "2%", "status": 503}} for i in (1, 2)]})
        data["clients"].append({"name": f"client-{t}", "vpc": f"vpc-{t}", "az": "use1-az1",
                                "url": f"http://shop-{t}.example.internal", "arrival": {"poisson": "80/s"},
                                "requests": [{"weight": 3, "method": "GET", "path": "/read"},
                                             {"weight": 1, "method": "POST", "path": "/write", "body": "1KB"}],
                                "timeout": "1s", "retries": {"max": 2, "backoff": "20ms"}})
    return data


def tenant_b(data: dict[str, Any]) -> dict[str, str]:
    summary = latsim.simulate(scenario_from_data(copy.deepcopy(data))).summary
    return {"client": json.dumps(summary["clients"]["client-b"]), "service": json.dumps(summary["services"]["shop-b"]),
            "target_group": json.dumps(summary["target_groups"]["tg-b"]),
            "client-a": json.dumps(summary["clients"]["client-a"])}


CHANGES_TO_A = {
    "its arrival rate": lambda d: d["clients"][0].update(arrival={"poisson": "200/s"}),
    "its timeout": lambda d: d["clients"][0].update(timeout="40ms"),
    "its retries": lambda d: d["clients"][0].update(retries={"max": 0}),
    "its targets' latency": lambda d: [t.update(latency={"exponential": {"mean": "50ms"}})
                                      for t in d["target_groups"][0]["targets"]],
    "a third client beside it": lambda d: d["clients"].append({**d["clients"][0], "name": "client-a2"}),
}


@pytest.fixture(scope="module")
def baseline() -> dict[str, str]:
    return tenant_b(two_tenants())


@pytest.mark.parametrize("change", sorted(CHANGES_TO_A))
def test_changing_one_client_leaves_the_draws_of_an_unrelated_client_unchanged(baseline, change):
    data = two_tenants()
    CHANGES_TO_A[change](data)
    after = tenant_b(data)
    if change != "a third client beside it":
        assert after["client-a"] != baseline["client-a"], "the change must change client a"
    for part in ("client", "service", "target_group"):
        assert after[part] == baseline[part], f"{part} of tenant b moved when client a changed {change}"


def test_the_progress_bar_does_not_change_the_summary():
    # a terminal run steps the loop for its progress bar: the summary (events included) must be
    # the same bytes as the run without one
    from latsim.engine.simulation import Simulation
    from latsim.scenario import load_scenario
    scn = load_scenario("scenarios/quickstart.yaml", overrides={"duration": "20s"})
    plain = Simulation(scn).run().to_json()
    seen: list[float] = []
    stepped = Simulation(scn, progress=lambda t, until, sim: seen.append(t)).run().to_json()
    assert len(seen) > 100
    assert stepped == plain
