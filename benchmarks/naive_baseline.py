"""REF-1 written the straightforward SimPy way: the honest baseline latsim is measured against.

One process per request, a ``simpy.Resource`` per target, an ``env.timeout`` per hop, latencies
kept in a list. Same model as latsim's REF-1 run: Poisson arrivals per client, a fixed path per
client spread uniformly over the services, rule match by path prefix, network auth by source VPC,
a 90/10 weighted split per request, round robin over the healthy targets, health-check
processes, lognormal service times (mean 20 ms, sigma 0.5), 0.5 ms and 0.3 ms hops each way.
Nothing here is slowed down on purpose: it is what a careful engineer writes in an afternoon.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import numpy as np
import simpy

SIGMA = 0.5
MEAN = 0.020
MU = math.log(MEAN) - SIGMA**2 / 2
HOP_CLIENT = 0.0005
HOP_TARGET = 0.0003


class Target:
    def __init__(self, env: simpy.Environment, concurrency: int) -> None:
        self.resource = simpy.Resource(env, capacity=concurrency)
        self.healthy = True


class TargetGroup:
    def __init__(self, env: simpy.Environment, n: int, concurrency: int) -> None:
        self.targets = [Target(env, concurrency) for _ in range(n)]
        self.rr = 0

    def pick(self) -> Target:
        healthy = [t for t in self.targets if t.healthy] or self.targets
        t = healthy[self.rr % len(healthy)]
        self.rr += 1
        return t


def run(duration: float = 600.0, total_rate: float = 2000.0, seed: int = 1, n_services: int = 20,
        n_clients: int = 10) -> dict[str, Any]:
    rnd = random.Random(seed)
    env = simpy.Environment()
    services = []
    for _ in range(n_services):
        blue, green = TargetGroup(env, 4, 8), TargetGroup(env, 4, 8)
        rules = [("/api/v2/", [(blue, 90), (green, 10)]), ("/api/", [(blue, 90), (green, 10)]),
                 ("", [(blue, 90), (green, 10)])]
        services.append(rules)
    allowed_vpcs = {f"vpc-{i}" for i in range(n_clients)}
    paths = ["/api/v2/items", "/api/orders", "/home"]
    latencies: list[float] = []
    counts = {"requests": 0, "denied": 0}

    def health_checker(target: Target) -> Any:
        yield env.timeout(rnd.random() * 30.0)
        while True:
            target.healthy = True  # probes always pass in REF-1
            yield env.timeout(30.0)

    def request(vpc: str, service: list[Any], path: str) -> Any:
        t0 = env.now
        yield env.timeout(HOP_CLIENT)
        if vpc not in allowed_vpcs:
            counts["denied"] += 1
            return
        for prefix, forward in service:  # noqa: B007  (the matching rule is used after the loop)
            if path.startswith(prefix):
                break
        total = sum(w for _, w in forward)
        u = rnd.random() * total
        for tg, w in forward:  # noqa: B007  (the chosen group is used after the loop)
            if u < w:
                break
            u -= w
        target = tg.pick()
        yield env.timeout(HOP_TARGET)
        with target.resource.request() as req:
            yield req
            yield env.timeout(rnd.lognormvariate(MU, SIGMA))
        yield env.timeout(HOP_TARGET)
        yield env.timeout(HOP_CLIENT)
        latencies.append(env.now - t0)

    def client(i: int) -> Any:
        rate = total_rate / n_clients
        vpc = f"vpc-{i}"
        path = paths[i % len(paths)]
        while True:
            yield env.timeout(rnd.expovariate(rate))
            counts["requests"] += 1
            env.process(request(vpc, services[rnd.randrange(n_services)], path))

    for rules in services:
        for _, forward in rules[:1]:
            for tg, _ in forward:
                for t in tg.targets:
                    env.process(health_checker(t))
    for i in range(n_clients):
        env.process(client(i))
    wall0 = time.perf_counter()
    env.run(until=duration)
    wall = time.perf_counter() - wall0
    lat = np.asarray(latencies) * 1000.0
    return {"requests": counts["requests"], "completed": len(latencies), "wall_seconds": wall,
            "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
            "events": env._eid.__next__()}  # type: ignore[attr-defined]


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(duration=float(sys.argv[1]) if len(sys.argv) > 1 else 60.0), indent=2))
