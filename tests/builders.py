"""Small scenario builders for engine tests (plain dicts, validated by the real loader)."""

from __future__ import annotations

import copy
from typing import Any

from latsim.scenario import scenario_from_data


def one_service(*, targets: int = 1, concurrency: int = 1, latency: Any = None, rate: float = 50.0,
                duration: str = "60s", warmup: str = "0s", seed: int = 1, health: dict | None = None,
                hop: str = "0ms", timeout: str = "60s", retries: dict | None = None, queue: int | None = None,
                extra_clients: list[dict] | None = None, **top: Any) -> dict[str, Any]:
    """One VPC, one service network, one service with one HTTP listener forwarding to one
    target group of ``targets`` targets, one Poisson client."""
    tgt = []
    for i in range(targets):
        t: dict[str, Any] = {"id": f"i-{i:04d}", "az": "use1-az1" if i % 2 == 0 else "use1-az2",
                             "concurrency": concurrency,
                             "latency": latency if latency is not None else {"exponential": {"mean": "10ms"}}}
        if queue is not None:
            t["queue"] = queue
        tgt.append(t)
    data: dict[str, Any] = {
        "name": "one-service", "seed": seed, "duration": duration, "warmup": warmup,
        "accounts": [{"id": "111111111111", "name": "acct"}],
        "vpcs": [{"name": "client-vpc", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"]},
                 {"name": "target-vpc", "account": "acct", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]}],
        "service_networks": [{"name": "net", "account": "acct", "vpc_associations": [{"vpc": "client-vpc"}],
                              "services": ["svc"]}],
        "services": [{"name": "svc", "account": "acct", "custom_domain": "svc.example.internal",
                      "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                     "default_action": {"forward": [{"target_group": "tg-main"}]}}]}],
        "target_groups": [{"name": "tg-main", "type": "INSTANCE", "vpc": "target-vpc", "protocol": "HTTP", "port": 8080,
                           "health_check": health if health is not None else {"enabled": False},
                           "targets": tgt}],
        "clients": [{"name": "client", "vpc": "client-vpc", "az": "use1-az1", "url": "http://svc.example.internal",
                     "arrival": {"poisson": rate}, "timeout": timeout,
                     "retries": retries if retries is not None else {"max": 0}}
                    ] + (extra_clients or []),
        "network": {"same_az": hop, "cross_az": hop, "lattice_overhead": "0ms"},
    }
    data.update(top)
    return data


def build(data: dict[str, Any]) -> Any:
    return scenario_from_data(copy.deepcopy(data))


def run(data: dict[str, Any]) -> dict[str, Any]:
    from latsim.engine import simulate
    return simulate(build(data)).summary  # type: ignore[no-any-return]


def call_graph(groups: dict[str, dict[str, Any]], *, entry: str, rate: float = 20.0, duration: str = "60s",
               warmup: str = "0s", seed: int = 1, timeout: str = "60s", retries: dict | None = None,
               requests: list[dict] | None = None, arrival: dict | None = None, **top: Any) -> dict[str, Any]:
    """Services that call services: one service per entry of ``groups`` (name -> its target group's
    ``calls``, ``latency``, ``concurrency``, ``targets``, ``queue``, ``principal``, ``errors``), each
    reachable as ``http://NAME.internal`` from the app VPC, where every group runs; one Poisson
    client in its own VPC calls ``entry``. Zero hop latency and Lattice overhead."""
    services, tgs = [], []
    for name, g in groups.items():
        services.append({"name": name, "account": "acct", "custom_domain": f"{name}.internal",
                         "listeners": [{"name": "http", "protocol": "HTTP", "port": 80,
                                        "default_action": {"forward": [{"target_group": f"{name}-tg"}]}}]})
        targets = []
        for i in range(g.get("targets", 1)):
            t: dict[str, Any] = {"id": f"i-{name}-{i}", "az": "use1-az1" if i % 2 == 0 else "use1-az2",
                                 "concurrency": g.get("concurrency", 1000)}
            for key in ("latency", "queue", "errors"):
                if key in g:
                    t[key] = g[key]
            targets.append(t)
        tg: dict[str, Any] = {"name": f"{name}-tg", "vpc": "app", "protocol": "HTTP", "port": 8080,
                              "health_check": {"enabled": False}, "targets": targets}
        for key in ("calls", "principal"):
            if key in g:
                tg[key] = g[key]
        tgs.append(tg)
    data: dict[str, Any] = {
        "name": "call-graph", "seed": seed, "duration": duration, "warmup": warmup,
        "accounts": [{"id": "111111111111", "name": "acct"}],
        "vpcs": [{"name": "client-vpc", "account": "acct", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"]},
                 {"name": "app", "account": "acct", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]}],
        "service_networks": [{"name": "net", "account": "acct",
                              "vpc_associations": [{"vpc": "client-vpc"}, {"vpc": "app"}],
                              "services": list(groups)}],
        "services": services,
        "target_groups": tgs,
        "clients": [{"name": "client", "vpc": "client-vpc", "az": "use1-az1", "url": f"http://{entry}.internal",
                     "arrival": arrival or {"poisson": rate}, "timeout": timeout,
                     "retries": retries if retries is not None else {"max": 0},
                     **({"requests": requests} if requests else {})}],
        "network": {"same_az": "0ms", "cross_az": "0ms", "lattice_overhead": "0ms"},
    }
    data.update(top)
    return data
