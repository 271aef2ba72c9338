"""``--workload auto`` (latsim.workload.auto): who gets a client, what it calls, at which rate."""

from __future__ import annotations

import pytest

from latsim.errors import UsageError
from latsim.model.naming import service_dns_name
from latsim.scenario import scenario_from_data
from latsim.workload.auto import auto_clients, with_auto_workload

TOPOLOGY = {
    "name": "auto", "region": "us-east-1",
    "accounts": [{"id": "111111111111", "name": "a", "org_id": "o-abcd1234"}, {"id": "222222222222"}],
    "vpcs": [
        {"name": "front", "account": "a", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]},
        {"name": "edge", "account": "222222222222", "cidr": "10.2.0.0/16", "azs": ["use1-az3"],
         "service_network_endpoints": ["net"]},
        {"name": "alone", "account": "a", "cidr": "10.3.0.0/16", "azs": ["use1-az1"]},
        {"name": "back", "account": "a", "cidr": "10.4.0.0/16", "azs": ["use1-az1"]},
    ],
    "service_networks": [{"name": "net", "account": "a", "vpc_associations": [{"vpc": "front"}],
                          "shared_with": ["222222222222"],
                          "services": ["api", "web"]}],
    "services": [
        {"name": "api", "account": "a", "listeners": [
            {"name": "plain", "protocol": "HTTP", "port": 8080, "default_action": {"fixed_response": 404}},
            {"name": "tls", "protocol": "HTTPS", "port": 443, "default_action": {"fixed_response": 404}}]},
        {"name": "web", "account": "a", "custom_domain": "web.example.internal", "listeners": [
            {"name": "tls", "protocol": "HTTPS", "port": 443, "default_action": {"fixed_response": 404}}]},
        {"name": "orphan", "account": "a", "listeners": [
            {"name": "tls", "protocol": "HTTPS", "default_action": {"fixed_response": 404}}]},
    ],
    "clients": [{"name": "mine", "vpc": "back", "az": "use1-az1", "url": "https://x.invalid/"}],
}


def test_one_client_per_associated_vpc_and_az_calling_every_service_it_resolves() -> None:
    scn = scenario_from_data(TOPOLOGY)
    clients = auto_clients(scn, "7/s")
    # front (association) x 2 AZs, edge (service-network endpoint) x 1; alone and back reach nothing
    assert [(c["name"], c["vpc"], c["az"]) for c in clients] == [
        ("auto-front-use1-az1", "front", "use1-az1"), ("auto-front-use1-az2", "front", "use1-az2"),
        ("auto-edge-use1-az3", "edge", "use1-az3")]
    api = service_dns_name(scn, scn.index.services["api"])
    # one request entry per service and listener, equal weights; default ports left out; the custom domain
    assert [(r["name"], r["url"], r["weight"]) for r in clients[0]["requests"]] == [
        ("api/tls", f"https://{api}/", 1), ("api/plain", f"http://{api}:8080/", 1),
        ("web/tls", "https://web.example.internal/", 1)]
    assert clients[0]["arrival"] == {"poisson": "7/s"}
    # signed as the account's latsim-auto role, in the account's organization when it has one
    assert clients[0]["principal"] == {"arn": "arn:aws:sts::111111111111:assumed-role/latsim-auto/front",
                                       "org_id": "o-abcd1234"}
    assert clients[2]["principal"] == {"arn": "arn:aws:sts::222222222222:assumed-role/latsim-auto/edge"}


def test_existing_clients_are_kept_and_the_result_validates() -> None:
    data = with_auto_workload(TOPOLOGY, "2/s")
    assert [c["name"] for c in data["clients"]][0] == "mine"
    scn = scenario_from_data(data)
    assert len(scn.clients) == 4
    again = with_auto_workload(data, "2/s")  # idempotent: auto clients replaced, not doubled
    assert len(again["clients"]) == 4


@pytest.mark.parametrize("rate", ["0/s", "fast", "-3/s"])
def test_a_bad_rate_is_a_usage_error(rate: str) -> None:
    with pytest.raises(UsageError):
        auto_clients(scenario_from_data(TOPOLOGY), rate)
