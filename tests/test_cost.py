"""Cost estimate: docs/lattice.md §10's us-east-1 prices applied to the simulated traffic, by hand."""

from __future__ import annotations

from typing import Any

import pytest

from latsim.cost import BYTES_PER_GB, HOURS_PER_MONTH, PRICES, PRICES_AS_OF, estimate_cost
from latsim.scenario import scenario_from_data


def services_scenario(n: int, *, tls: bool = False) -> Any:
    """``n`` services with one HTTP listener answering a fixed 404 (nothing else is needed to price them)."""
    listener = {"name": "lst", "protocol": "HTTP", "port": 80, "default_action": {"fixed_response": 404}}
    if tls:
        listener = {"name": "lst", "protocol": "TLS_PASSTHROUGH", "port": 443,
                    "default_action": {"forward": [{"target_group": "tcp"}]}}
    data: dict[str, Any] = {
        "name": "cost", "accounts": [{"id": "111111111111", "name": "acct"}],
        "services": [{"name": f"service-{i:03d}", "account": "acct", "custom_domain": f"s{i}.example.internal",
                      "listeners": [listener]} for i in range(n)],
    }
    if tls:
        data["vpcs"] = [{"name": "v", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]}]
        data["target_groups"] = [{"name": "tcp", "type": "IP", "vpc": "v", "protocol": "TCP", "port": 443,
                                  "targets": [{"id": "10.0.0.9", "az": "use1-az1"}]}]
    return scenario_from_data(data)


def summary(requests: int, *, duration: float = 3600.0, warmup: float = 0.0, sent: int = 0,
            received: int = 0, name: str = "service-000") -> dict[str, Any]:
    return {"duration_s": duration, "warmup_s": warmup,
            "services": {name: {"TotalRequestCount": requests, "TotalReceivedBytes": received,
                                "TotalSentBytes": sent}}}


def test_one_service_at_100_requests_per_second_for_an_hour():
    # 360,000 requests/hour: 60,000 beyond the free 300,000, every hour of a 730-hour month.
    resp = 360_000 * 1024  # 1 KiB per response
    cost = estimate_cost(services_scenario(1), summary(360_000, sent=resp))
    svc = cost["services"]["service-000"]
    assert svc["requests_per_hour"] == 360_000
    assert svc["billable_requests_per_month"] == 60_000 * 730 == 43_800_000
    assert svc["requests_usd"] == pytest.approx(4.38)
    assert svc["service_hours_usd"] == pytest.approx(730 * 0.025) == pytest.approx(18.25)
    gb_month = resp / 2**30 * 730
    assert svc["gb_per_month"] == pytest.approx(gb_month, rel=1e-6)
    assert svc["data_processing_usd"] == pytest.approx(gb_month * 0.025, abs=1e-4)
    assert cost["monthly_usd"] == pytest.approx(18.25 + 4.38 + gb_month * 0.025, abs=1e-3)
    assert cost["monthly_usd"] == pytest.approx(28.8956, abs=1e-4)


def test_traffic_under_the_free_tier_pays_no_request_charge():
    cost = estimate_cost(services_scenario(1), summary(299_999))
    assert cost["services"]["service-000"]["requests_usd"] == 0.0
    assert cost["monthly_usd"] == pytest.approx(18.25)


def test_the_hourly_rate_is_measured_after_the_warm_up():
    # 10 minutes after a 5-minute warm-up, 60,000 requests: 360,000 per hour.
    cost = estimate_cost(services_scenario(1), summary(60_000, duration=900.0, warmup=300.0))
    assert cost["services"]["service-000"]["requests_per_hour"] == pytest.approx(360_000)
    assert cost["services"]["service-000"]["requests_usd"] == pytest.approx(4.38)


def test_a_hundred_idle_services_cost_aws_worked_example():
    # docs/lattice.md §10: 100 services x 730 h x $0.025 = $1,825 per month.
    cost = estimate_cost(services_scenario(100), {"duration_s": 60.0, "warmup_s": 0.0, "services": {}})
    assert len(cost["services"]) == 100
    assert cost["monthly_usd"] == pytest.approx(1825.0)
    assert cost["totals"]["service_hours_usd"] == pytest.approx(1825.0)


def test_prices_can_be_overridden_and_unknown_keys_are_refused():
    cost = estimate_cost(services_scenario(1), summary(360_000), prices={"service_hour": 0.05,
                                                                         "per_million_requests": 0.2})
    svc = cost["services"]["service-000"]
    assert svc["service_hours_usd"] == pytest.approx(36.5)
    assert svc["requests_usd"] == pytest.approx(8.76)
    assert cost["prices"]["service_hour"] == 0.05 and PRICES["service_hour"] == 0.025
    with pytest.raises(ValueError, match="unknown price"):
        estimate_cost(services_scenario(1), summary(1), prices={"per_request": 1.0})


def test_tls_passthrough_services_pay_no_request_charge_and_say_why():
    cost = estimate_cost(services_scenario(1, tls=True), summary(3_600_000))
    svc = cost["services"]["service-000"]
    assert svc["requests_usd"] == 0.0 and "TLS_PASSTHROUGH" in svc["note"]


def test_the_estimate_is_dated_and_shaped_for_the_summary():
    cost = estimate_cost(services_scenario(2), summary(10))
    assert cost["prices_as_of"] == PRICES_AS_OF and cost["region"] == "us-east-1"
    assert list(cost["services"]) == ["service-000", "service-001"]
    assert {"prices_as_of", "monthly_usd", "services", "assumptions"} <= set(cost)
    assert cost["hours_per_month"] == HOURS_PER_MONTH == 730 and BYTES_PER_GB == 2**30
    assert all(isinstance(a, str) for a in cost["assumptions"])


def test_a_run_summary_carries_the_cost():
    from latsim.engine import simulate
    data = {
        "name": "tiny", "seed": 1, "duration": "5s",
        "accounts": [{"id": "111111111111", "name": "acct"}],
        "vpcs": [{"name": "v", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]}],
        "service_networks": [{"name": "net", "account": "acct", "vpc_associations": [{"vpc": "v"}],
                              "services": ["svc"]}],
        "services": [{"name": "svc", "account": "acct", "custom_domain": "svc.internal",
                      "listeners": [{"name": "lst", "protocol": "HTTP", "port": 80,
                                     "default_action": {"fixed_response": 404}}]}],
        "clients": [{"name": "c", "vpc": "v", "az": "use1-az1", "url": "http://svc.internal",
                     "arrival": {"constant": 10}}],
    }
    s = simulate(scenario_from_data(data)).summary
    n = s["services"]["svc"]["TotalRequestCount"]
    assert n > 0
    assert s["cost"]["services"]["svc"]["requests_per_hour"] == pytest.approx(n / 5 * 3600)
    assert s["cost"]["monthly_usd"] == pytest.approx(18.25, abs=0.5)
