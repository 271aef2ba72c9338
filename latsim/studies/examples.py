"""Small scenarios whose answers are known, for studies in tests and notebooks.

``mmc_scenario``: one client, one service, one target with ``servers`` workers and exponential
service times, no hop latency, no health checks — an M/M/c queue whose mean and percentiles
``latsim.theory`` gives exactly. ``canary_scenario``: a progressive canary whose canary target
group fails a given fraction of requests. Both return plain scenario data (dicts), ready for
``build_study``, ``scenario_from_data`` or writing to YAML.
"""

from __future__ import annotations

from typing import Any


def _skeleton(name: str, *, seed: int, duration: str, warmup: str) -> dict[str, Any]:
    return {
        "name": name, "seed": seed, "duration": duration, "warmup": warmup,
        "accounts": [{"id": "111111111111", "name": "shop"}],
        "vpcs": [{"name": "web", "account": "shop", "cidr": "10.0.0.0/16", "azs": ["use1-az1"]},
                 {"name": "backend", "account": "shop", "cidr": "10.1.0.0/16", "azs": ["use1-az1"]}],
        "service_networks": [{"name": "shop-net", "account": "shop", "vpc_associations": [{"vpc": "web"}],
                              "services": ["checkout"]}],
        "network": {"same_az": "0ms", "cross_az": "0ms", "lattice_overhead": "0ms"},
    }


def _target(tid: str, servers: int, mean_service: str, error_rate: float = 0.0) -> dict[str, Any]:
    t: dict[str, Any] = {"id": tid, "az": "use1-az1", "concurrency": servers,
                         "latency": {"exponential": {"mean": mean_service}}}
    if error_rate:
        t["errors"] = {"rate": error_rate, "status": 500}
    return t


def _client(rate: str) -> dict[str, Any]:
    return {"name": "storefront", "vpc": "web", "az": "use1-az1", "url": "http://checkout.shop.internal",
            "arrival": {"poisson": rate}, "timeout": "60s", "retries": {"max": 0}}


def mmc_scenario(*, rate: str = "50/s", mean_service: str = "10ms", servers: int = 1, seed: int = 1,
                 duration: str = "20s", warmup: str = "2s", slo: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An M/M/c queue: Poisson ``rate``, exponential service of mean ``mean_service``, ``servers``
    workers in one target (one FIFO queue), target group ``checkout-v1``, service ``checkout``."""
    data = _skeleton("mmc", seed=seed, duration=duration, warmup=warmup)
    data["services"] = [{"name": "checkout", "account": "shop", "custom_domain": "checkout.shop.internal",
                         "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                        "default_action": {"forward": [{"target_group": "checkout-v1"}]}}]}]
    data["target_groups"] = [{"name": "checkout-v1", "type": "INSTANCE", "vpc": "backend", "protocol": "HTTP",
                              "port": 8080, "health_check": {"enabled": False},
                              "targets": [_target("i-0a", servers, mean_service)]}]
    data["clients"] = [_client(rate)]
    if slo:
        data["slo"] = slo
    return data


def canary_scenario(*, canary_error_rate: float = 0.05, rate: str = "100/s", seed: int = 1, duration: str = "20s",
                    step_weight: int = 20, interval: str = "5s", success_rate: str = "99%",
                    min_requests: int = 10) -> dict[str, Any]:
    """A progressive canary from ``checkout-v1`` to ``checkout-v2`` on the default action;
    the canary's targets fail ``canary_error_rate`` of requests with 500."""
    data = _skeleton("canary", seed=seed, duration=duration, warmup="0s")
    data["services"] = [{"name": "checkout", "account": "shop", "custom_domain": "checkout.shop.internal",
                         "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                        "default_action": {"forward": [{"target_group": "checkout-v1", "weight": 100},
                                                                       {"target_group": "checkout-v2",
                                                                        "weight": 0}]}}]}]
    data["target_groups"] = [
        {"name": name, "type": "INSTANCE", "vpc": "backend", "protocol": "HTTP", "port": 8080,
         "health_check": {"enabled": False},
         "targets": [_target(f"i-{name[-2:]}", 8, "5ms", err)]}
        for name, err in (("checkout-v1", 0.0), ("checkout-v2", canary_error_rate))]
    data["clients"] = [_client(rate)]
    data["canaries"] = [{"name": "v2-rollout", "service": "checkout", "listener": "http", "rule": "default",
                         "primary": "checkout-v1", "canary": "checkout-v2", "start": "1s", "interval": interval,
                         "step_weight": step_weight, "max_weight": 60,
                         "checks": {"success_rate": success_rate, "min_requests": min_requests}}]
    return data
