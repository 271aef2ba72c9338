"""Write benchmarks/ref1.yaml, the reference workload REF-1 (see benchmarks/README.md).

20 services, each with one HTTP listener and three rules (/api/v2/ prefix, /api/ prefix,
default), each forwarding 90/10 to the service's blue and green target groups of 4 targets;
targets: concurrency 8, unbounded FIFO queue, lognormal service time with mean 20 ms and
sigma 0.5; 10 clients in 10 VPCs, Poisson, 2 000 req/s in total, each client with one fixed
path, spread uniformly over the services; hops 0.5 ms (client -> Lattice) and 0.3 ms
(Lattice -> target); a network auth policy allowing the 10 VPCs by SourceVpc; health checks
on; 600 s simulated.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

N_SERVICES = 20
N_CLIENTS = 10
TOTAL_RATE = 2000.0
PATHS = ["/api/v2/items", "/api/orders", "/home"]


def ref1(rate: float = TOTAL_RATE, duration: str = "600s") -> dict[str, Any]:
    vpcs = [{"name": f"client-{i:02d}", "account": "bench", "cidr": "10.0.0.0/16", "azs": ["use1-az1", "use1-az2"]}
            for i in range(N_CLIENTS)]
    vpcs.append({"name": "targets", "account": "bench", "cidr": "10.1.0.0/16", "azs": ["use1-az1", "use1-az2"]})
    services, tgs = [], []
    for s in range(N_SERVICES):
        name = f"app-{s:02d}"
        fwd = [{"target_group": f"{name}-blue", "weight": 90}, {"target_group": f"{name}-green", "weight": 10}]
        services.append({
            "name": name, "account": "bench", "custom_domain": f"{name}.bench.internal",
            "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "default_action": {"forward": fwd},
                           "rules": [
                               {"name": "api-v2", "priority": 10, "match": {"path": {"prefix": "/api/v2/"}},
                                "action": {"forward": fwd}},
                               {"name": "api", "priority": 20, "match": {"path": {"prefix": "/api/"}},
                                "action": {"forward": fwd}}]}]})
        for color in ("blue", "green"):
            tgs.append({"name": f"{name}-{color}", "type": "INSTANCE", "vpc": "targets", "protocol": "HTTP",
                        "port": 8080, "health_check": {"enabled": True, "path": "/health"},
                        "targets": [{"id": f"i-{s:02d}{color[0]}{k}", "az": f"use1-az{1 + k % 2}", "concurrency": 8,
                                     "latency": {"lognormal": {"mean": "20ms", "sigma": 0.5}}} for k in range(4)]})
    vpc_ids = [f"vpc-{i:08x}" for i in range(1, N_CLIENTS + 1)]
    for v, vid in zip(vpcs, vpc_ids, strict=False):
        v["id"] = vid
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "ClientVpcsOnly", "Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
        "Resource": "*", "Condition": {"StringEquals": {"vpc-lattice-svcs:SourceVpc": vpc_ids}}}]}
    clients = []
    for i in range(N_CLIENTS):
        clients.append({
            "name": f"client-{i:02d}", "vpc": f"client-{i:02d}", "az": f"use1-az{1 + i % 2}",
            "url": "http://app-00.bench.internal", "arrival": {"poisson": rate / N_CLIENTS}, "timeout": "10s",
            "requests": [{"path": PATHS[i % len(PATHS)], "url": f"http://app-{s:02d}.bench.internal"}
                         for s in range(N_SERVICES)]})
    return {
        "name": "ref1", "description": "REF-1 reference workload (benchmarks/make_ref1.py)", "seed": 1,
        "duration": duration, "accounts": [{"id": "123456789012", "name": "bench"}], "vpcs": vpcs,
        "service_networks": [{"name": "bench-net", "account": "bench", "auth_type": "AWS_IAM", "auth_policy": policy,
                              "vpc_associations": [{"vpc": v["name"]} for v in vpcs[:N_CLIENTS]],
                              "services": [s["name"] for s in services]}],
        "services": services, "target_groups": tgs, "clients": clients,
        "network": {"same_az": "0.3ms", "cross_az": "0.3ms", "client_hop": "0.5ms", "target_hop": "0.3ms",
                    "lattice_overhead": "0ms"},
        "quotas": {"rules_per_listener": 10},
    }


def ref1_many(rate_each: float = TOTAL_RATE / (N_CLIENTS * N_SERVICES), duration: str = "600s") -> dict[str, Any]:
    """REF-1 as 200 small clients: in each of the 10 client VPCs one client entry per service,
    sending its VPC's path to that service only, Poisson at ``rate_each`` (10 req/s: the same
    superposition as REF-1's 10 clients spreading 200 req/s uniformly over 20 services; 0.5 req/s:
    the slow workload of 100 req/s in all)."""
    data = ref1(duration=duration)
    clients = []
    for i in range(N_CLIENTS):
        for s in range(N_SERVICES):
            url = f"http://app-{s:02d}.bench.internal"
            clients.append({
                "name": f"client-{i:02d}-{s:02d}", "vpc": f"client-{i:02d}", "az": f"use1-az{1 + i % 2}",
                "url": url, "arrival": {"poisson": rate_each}, "timeout": "10s",
                "requests": [{"path": PATHS[i % len(PATHS)], "url": url}]})
    data["name"] = "ref1-many"
    data["description"] = "REF-1 as 200 client entries (benchmarks/make_ref1.py ref1_many)"
    data["clients"] = clients
    return data


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("ref1.yaml")
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    with out.open("w") as fh:
        fh.write("# REF-1, generated by benchmarks/make_ref1.py: do not edit by hand.\n")
        yaml.dump(ref1(), fh)
    print(f"wrote {out}")
