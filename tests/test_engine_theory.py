"""The engine against queueing theory: M/M/1 and M/M/c at rho = 0.8 through a one-service
topology with zero hop latency and exponential service times (Erlang C)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latsim.engine import simulate
from latsim.theory import mmc_mean_response, mmck_blocking
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
    assert rt["p50"] == pytest.approx(10.0, rel=0.005)  # the histograms keep 0.5 %
    assert rt["max"] == pytest.approx(10.0, rel=0.005)


@pytest.mark.slow
@pytest.mark.parametrize(("c", "queue", "load"), [(1, 2, 0.9), (2, 3, 1.0), (4, 4, 1.2)])
def test_bounded_queue_blocks_as_often_as_mmck_theory(c, queue, load):
    """Poisson arrivals, exponential service, ``c`` workers and ``queue`` waiting places: by PASTA
    the share of 503s is M/M/c/K's P(K) with K = c + queue. Ten independent replications of
    ~40 000 arrivals; the tolerance is 4.8 standard errors of their mean (t with 9 df at 99.9 %,
    two-sided), with the standard error estimated from the replications (batches are independent,
    blocked arrivals within one run are not). K one larger or smaller is far outside it."""
    lam = load * c * MU
    duration = 40_000 / lam
    shares = []
    for r in range(10):
        data = one_service(concurrency=c, queue=queue, rate=lam, duration=f"{duration:.3f}s", warmup="2s",
                           seed=500 + r, timeout="600s")
        cl = simulate(build(data)).summary["clients"]["client"]
        shares.append(cl["status"].get("503", 0) / cl["sent"])
    mean = float(np.mean(shares))
    se = float(np.std(shares, ddof=1)) / math.sqrt(len(shares))
    k = c + queue
    theory = mmck_blocking(lam, MU, c, k)
    assert abs(mean - theory) < 4.8 * se, (mean, se, theory)
    for wrong in (k - 1, k + 1):  # the test has power against an off-by-one bound
        assert abs(mean - mmck_blocking(lam, MU, c, wrong)) > 4.8 * se, (wrong, mean, se)


def test_littles_law_holds_on_a_per_minute_average_within_its_sampling_error():
    """ActiveRequestCount per minute is (requests in that minute) x W / 60 s: with Poisson arrivals
    at 100/s and W = 50 ms exactly, N ~ Poisson(6000), so L = 5 with sigma = sqrt(6000) x 0.05 / 60
    = 0.065; accept 5 sigma."""
    result = simulate(build(one_service(rate=100, duration="180s", concurrency=100,
                                        latency={"constant": "50ms"})))
    rows = [r for r in result.metrics() if r["dimension"] == "target_group" and r["metric"] == "ActiveRequestCount"]
    assert len(rows) == 3
    sigma = math.sqrt(6000) * 0.05 / 60
    for r in rows:
        assert abs(r["value"] - 5.0) < 5 * sigma, r
