"""The scenario library: every file in scenarios/ validates, runs, and shows what its header
promises (one test per lesson, on the summary of ``latsim run --json``)."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import pytest

from latsim.compile import RequestClass, Topology
from latsim.engine import simulate
from latsim.model.validate import notes
from latsim.scenario import load_data, load_scenario
from tests.conftest import ROOT

SCENARIOS_DIR = ROOT / "scenarios"
SCENARIOS = sorted(SCENARIOS_DIR.glob("*.yaml"))
LIBRARY = ("multi-account-overlapping-cidrs", "zero-trust", "blue-green", "canary-progressive", "az-failure",
           "retry-storm", "lambda-cold-start", "grpc-service", "capacity-planning", "tls-passthrough")
SHORT = {"duration": "20s", "warmup": "0s"}


def path_of(name: str) -> Path:
    return SCENARIOS_DIR / f"{name}.yaml"


@functools.cache
def full_run(name: str) -> Any:
    """The scenario's Result at its own default duration (each scenario is run once)."""
    path = path_of(name)
    return simulate(load_scenario(path), base_dir=str(path.parent))


def summary(name: str) -> dict[str, Any]:
    return full_run(name).summary  # type: ignore[no-any-return]


def per_minute(name: str, dimension: str, metric: str, subject: str) -> dict[float, float]:
    """A per-minute series of the run, summed over AZs."""
    out: dict[float, float] = {}
    for row in full_run(name).metrics():
        if row["dimension"] == dimension and row["name"] == subject and row["metric"] == metric:
            out[row["time_s"]] = out.get(row["time_s"], 0.0) + row["value"]
    return out


# --- every scenario -----------------------------------------------------------------------------

def test_the_library_is_complete():
    names = {p.stem for p in SCENARIOS}
    assert set(LIBRARY) <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates_without_errors_or_warnings(path: Path):
    scn = load_scenario(path)  # raises on any error
    warnings = [p.format() for p in notes(scn) if p.severity == "warning"]
    assert warnings == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_runs_with_a_short_duration(path: Path):
    scn = load_scenario(path, overrides=SHORT)
    s = simulate(scn, base_dir=str(path.parent)).summary
    assert s["duration_s"] == 20.0
    assert not s["partial"]
    assert s["requests"] > 0
    assert sum(c["completed"] for c in s["clients"].values()) > 0


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_opens_with_the_schema_hint_and_a_teaching_header(path: Path):
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# yaml-language-server: $schema=")
    header = "\n".join(ln for ln in lines[: lines.index(next(ln for ln in lines if not ln.startswith("#")))])
    assert "What it teaches" in header
    assert "What to look at" in header
    assert f"name: {path.stem}" in lines


@pytest.mark.parametrize("name", LIBRARY)
def test_scenario_default_duration_is_modest(name: str):
    scn = load_scenario(path_of(name))
    assert scn.duration <= 600


# --- what each scenario teaches ----------------------------------------------------------------

def test_quickstart_api_rule_splits_about_90_10():
    split = summary("quickstart")["rules"]["checkout/https/api"]
    n = split["hits"]
    # Binomial(n, 0.1): sigma = sqrt(0.1 x 0.9 / n) of the share (about 0.4 % at this run's n)
    sigma = math.sqrt(0.1 * 0.9 / n)
    assert abs(split["target_groups"]["checkout-canary"] / n - 0.10) < 4.5 * sigma


def test_overlapping_cidrs_every_vpc_client_gets_only_200s():
    scn = load_scenario(path_of("multi-account-overlapping-cidrs"))
    assert {tuple(v.cidr) for v in scn.vpcs} == {("10.0.0.0/16",)}
    assert len({scn.index.account_id(v.account) for v in scn.vpcs}) == 3
    s = summary("multi-account-overlapping-cidrs")
    client_vpcs = {c.vpc for c in scn.clients}
    assert client_vpcs == {v.name for v in scn.vpcs}
    for name, c in s["clients"].items():
        assert set(c["status"]) == {"200"}, name
        assert c["succeeded"] > 0 and c["failed"] == 0, name
    # the same private address in two VPCs, each serving its own service
    for tg in ("payments-api", "shipping-api"):
        assert s["target_groups"][tg]["targets"]["10.0.1.10"]["TotalRequestCount"] > 0


def test_zero_trust_denies_anonymous_outsiders_and_writes():
    s = summary("zero-trust")
    clients = s["clients"]
    assert set(clients["batch-anonymous"]["status"]) == {"403"}
    assert set(clients["partner-sync"]["status"]) == {"403"}
    reader = clients["order-reader"]["status"]
    assert set(reader) == {"200", "403"}
    # the POST share of its mix (weights 7 GET : 3 POST): Binomial(n, 0.3), 4.5 sigma
    n = reader["200"] + reader["403"]
    assert abs(reader["403"] / n - 0.3) < 4.5 * math.sqrt(0.3 * 0.7 / n)
    # denied requests never reach the targets
    assert s["target_groups"]["orders-api"]["TotalRequestCount"] == reader["200"]


def test_zero_trust_denial_reasons():
    scn = load_scenario(path_of("zero-trust"))
    topo = Topology(scn)
    verdicts = {}
    for c in scn.clients:
        for r in c.requests:
            route = topo.route(topo.clients[c.name], RequestClass.of(c, r))
            verdicts[(c.name, r.method)] = (route.status, route.auth_denied_reason)
    assert verdicts[("order-reader", "GET")] == (None, None)
    assert verdicts[("order-reader", "POST")] == (403, "Service")
    assert verdicts[("batch-anonymous", "GET")] == (403, "Network")
    assert verdicts[("partner-sync", "GET")] == (403, "Network")


def test_blue_green_shifts_traffic_without_errors():
    s = summary("blue-green")
    rule = s["rules"]["checkout/https/default"]
    blue = rule["target_groups"]["checkout-blue"] / rule["hits"]
    assert 0.44 < blue < 0.52  # time-average of 100, 90, 50, 0, 0 % over five minutes = 48 %
    assert s["services"]["checkout"]["HTTPCode_5XX_Count"] == 0
    assert [e["kind"] for e in s["timeline"]].count("set_weights") == 3
    for t in s["target_groups"]["checkout-blue"]["targets"].values():
        assert [state for _, state in t["health"]] == ["HEALTHY", "DRAINING", "REMOVED"]
    green = s["target_groups"]["checkout-green"]["RequestTime"]["p99"]
    assert green < s["target_groups"]["checkout-blue"]["RequestTime"]["p99"]


def test_canary_one_promoted_one_rolled_back():
    s = summary("canary-progressive")
    outcomes = {c["name"]: c["outcome"] for c in s["canary"]}
    assert outcomes == {"cart-v2": "promoted", "search-v2": "rolled_back"}
    tgs = s["target_groups"]
    assert tgs["search-canary"]["HTTPCode_5XX_Count"] > 0
    assert tgs["search-canary"]["TotalRequestCount"] < 0.05 * tgs["search-primary"]["TotalRequestCount"]


def test_az_failure_targets_turn_unhealthy_and_the_service_keeps_answering():
    s = summary("az-failure")
    pool = s["target_groups"]["orders-pool"]["targets"]
    for tid, t in pool.items():
        states = [state for _, state in t["health"]]
        if t["az"] == "use1-az1":
            assert states == ["HEALTHY", "UNHEALTHY", "HEALTHY"], tid
            went_down = t["health"][1][0] / 1000
            assert 180 < went_down <= 191  # detected within two 5 s intervals of the 3m failure
        else:
            assert states == ["HEALTHY"], tid
    orders = s["services"]["orders"]
    assert orders["HTTPCode_2XX_Count"] / orders["TotalRequestCount"] > 0.98
    verdicts = {v["slo"]: v["ok"] for v in s["slo"]}
    assert verdicts["client:storefront-az1"] and verdicts["client:storefront-az2"]
    assert not verdicts["client:reporting"]


def test_az_failure_single_az_group_fails_open():
    s = summary("az-failure")
    legacy = s["target_groups"]["reports-legacy"]
    assert all("UNHEALTHY" in [state for _, state in t["health"]] for t in legacy["targets"].values())
    # fail-open: with every target UNHEALTHY Lattice still picks one (and cannot connect to it);
    # without fail-open no target would be picked and the group would record nothing
    assert legacy["ConnectionErrorCount"] > 1000
    assert sum(t["TotalRequestCount"] for t in legacy["targets"].values()) == legacy["TotalRequestCount"]
    assert s["services"]["reports"]["HTTPCode_VpcLattice_500_Count"] > 1000


def test_retry_storm_retries_amplify_a_slowdown_into_an_outage():
    s = summary("retry-storm")
    c = s["clients"]["checkout"]
    assert c["retries"] > 1.5 * c["requests"]
    assert c["sent"] > 2.5 * c["requests"]
    assert c["failures"]["client_timeout"] > 1000
    assert c["status"]["503"] > 1000
    errors = per_minute("retry-storm", "service", "HTTPCode_5XX_Count", "inventory")
    sent = per_minute("retry-storm", "service", "TotalRequestCount", "inventory")
    assert errors[0.0] == 0
    assert errors[60.0] > 1000 and errors[120.0] > 1000  # still failing after the cause is gone
    assert sent[120.0] > 3 * sent[0.0]


def test_lambda_max_request_time_includes_the_cold_start():
    rt = summary("lambda-cold-start")["services"]["media"]["RequestTime"]
    assert rt["max"] >= 400  # the cold start's lower bound
    assert rt["p50"] < 60  # most requests find a warm environment
    health = summary("lambda-cold-start")["target_groups"]["thumbnailer"]["targets"]
    assert all(t["health"] == [[0, "UNAVAILABLE"]] for t in health.values())


def test_grpc_rules_get_the_method_calls():
    s = summary("grpc-service")
    rules = s["rules"]
    get_cart, writes = rules["cart/grpcs/get-cart"], rules["cart/grpcs/cart-writes"]
    assert set(get_cart["target_groups"]) == {"cart-read"}
    assert set(writes["target_groups"]) == {"cart-write"}
    assert get_cart["hits"] > 3 * writes["hits"] > 0
    bff = s["clients"]["web-bff"]["status"]
    assert bff["200"] > 0.97 * sum(bff.values())
    assert set(s["clients"]["legacy-rest"]["status"]) == {"502"}  # HTTP/1.1 cannot reach a GRPC group


def test_tls_passthrough_forwards_everything():
    s = summary("tls-passthrough")
    for name, c in s["clients"].items():
        assert set(c["status"]) == {"200"}, name
    svc = s["services"]["ledger"]
    assert svc["HTTPCode_2XX_Count"] == svc["TotalRequestCount"] > 0
    rule = s["rules"]["ledger/tls/default"]
    n = rule["hits"]
    sigma = math.sqrt(0.8 * 0.2 / n)  # Binomial(n, 0.8), the share's standard deviation
    assert abs(rule["target_groups"]["ledger-tcp"] / n - 0.80) < 4.5 * sigma


def test_tls_passthrough_callers_are_anonymous():
    scn = load_scenario(path_of("tls-passthrough"))
    topo = Topology(scn)
    signed = scn.index.clients["reconciler"]
    route = topo.route(topo.clients["reconciler"], RequestClass.of(signed, signed.requests[0]))
    assert route.resolved_user == "Anonymous"
    assert any(step.stage.startswith("auth") for step in route.steps)


def test_capacity_planning_slo_is_evaluated_and_close_to_theory():
    from latsim.theory import mmc_response_quantile
    s = summary("capacity-planning")
    (verdict,) = s["slo"]
    assert verdict["slo"] == "service:api" and verdict["ok"]
    p99 = next(c for c in verdict["checks"] if c["metric"] == "p99")
    theory = mmc_response_quantile(120, 20, 8, 0.99) * 1000
    assert abs(p99["value"] - theory) < 0.1 * theory
    assert p99["limit"] == 300.0


def test_capacity_planning_has_a_study_sketch():
    scn = load_scenario(path_of("capacity-planning"))
    assert scn.study is not None
    param = "target_groups.api-pool.targets.0.concurrency"
    assert scn.study["params"] == {param: "2..12:2"}
    assert scn.study["find_min"] == param
    assert scn.study["replications"] == 5


def test_capacity_planning_study_is_accepted_by_the_study_runner():
    try:
        from latsim.studies.study import build_study
    except ImportError:
        pytest.skip("the study runner is not available")
    path = path_of("capacity-planning")
    data, pos = load_data(path)
    study = build_study(data, pos, source=str(path), base_dir=str(path.parent))
    assert [p.values["target_groups.api-pool.targets.0.concurrency"] for p in study.points] == [2, 4, 6, 8, 10, 12]
    assert study.find_min == "target_groups.api-pool.targets.0.concurrency"
