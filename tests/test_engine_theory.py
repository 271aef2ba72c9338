"""The engine against queueing theory: M/M/1 and M/M/c at rho = 0.8 through a one-service
topology with zero hop latency and exponential service times (Erlang C)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latsim.engine import simulate
from latsim.theory import mmc_mean_response
from tests.builders import build, one_service

MU = 100.0  # 10 ms mean service time
REPLICATIONS = 5


@pytest.mark.slow
@pytest.mark.parametrize("c", [1, 4, 8])
def test_mean_response_time_matches_erlang_c(c):
    lam = 0.8 * c * MU
    # ~400k requests per replication: 5 replications give a standard error of the grand mean
    # of about 0.6 % (M/M/1, Daley's asymptotic variance), far below the 2 % bound.
    duration = 400_000 / lam
    means, counts = [], []
    for r in range(REPLICATIONS):
        data = one_service(concurrency=c, rate=lam, duration=f"{duration:.3f}s", warmup="20s", seed=1000 + r)
        s = simulate(build(data)).summary
        tg = s["target_groups"]["tg-main"]
        means.append(tg["RequestTime"]["mean"])
        counts.append(tg["TotalRequestCount"])
    analytic = mmc_mean_response(lam, MU, c) * 1000.0
    grand = float(np.average(means, weights=counts))
    assert abs(grand - analytic) / analytic < 0.02, (grand, analytic, means)
    # the analytic value lies inside the 99 % t-interval of the replications
    m, sd = float(np.mean(means)), float(np.std(means, ddof=1))
    t99 = 4.604  # t_{0.995, 4}
    half = t99 * sd / math.sqrt(REPLICATIONS)
    assert m - half <= analytic <= m + half, (m, half, analytic, means)


def test_a_lightly_loaded_server_has_no_queueing_delay():
    # rho = 0.05 with constant service: every response takes exactly the service time
    data = one_service(concurrency=4, rate=20, duration="30s", latency={"constant": "10ms"})
    s = simulate(build(data)).summary
    rt = s["target_groups"]["tg-main"]["RequestTime"]
    assert rt["p50"] == pytest.approx(10.0, rel=0.01)
    assert rt["max"] == pytest.approx(10.0, rel=0.01)
