"""Specification of latsim.theory against textbook M/M/1 and M/M/c values."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from latsim.theory import (
    erlang_b,
    erlang_c,
    min_servers_for,
    mm1_mean_response,
    mm1_mean_wait,
    mm1_response_quantile,
    mmc_mean_response,
    mmc_mean_wait,
    mmc_response_quantile,
    mmc_response_tail,
    mmc_wait_quantile,
    mmc_wait_tail,
    mmck_blocking,
)


def erlang_c_exact(c: int, a: Fraction) -> Fraction:
    """The textbook sum formula in exact arithmetic (small c only)."""
    top = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def erlang_c_logspace(c: int, a: float) -> float:
    """An independent log-space evaluation for large c."""
    log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    log_top = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    m = max(*log_terms, log_top)
    total = sum(math.exp(t - m) for t in log_terms) + math.exp(log_top - m)
    return math.exp(log_top - m) / total


def test_mm1_probability_of_waiting_is_the_utilisation() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7)


def test_mm2_at_half_load_waits_a_third_of_the_time() -> None:
    # P(wait) = 2ρ²/(1 + ρ) for M/M/2
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_mm3_textbook_example() -> None:
    # λ = 2, μ = 1, c = 3: P0 = 1/9, C = 4/9, Lq = 8/9, Wq = 4/9, W = 13/9
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert mmc_mean_wait(2.0, 1.0, 3) == pytest.approx(4 / 9)
    assert mmc_mean_response(2.0, 1.0, 3) == pytest.approx(13 / 9)


@pytest.mark.parametrize(("c", "a"), [(1, "1/2"), (5, "3"), (10, "8"), (20, "19"), (30, "1/10")])
def test_erlang_c_matches_the_exact_sum_formula(c: int, a: str) -> None:
    assert erlang_c(c, float(Fraction(a))) == pytest.approx(float(erlang_c_exact(c, Fraction(a))), rel=1e-12)


@pytest.mark.parametrize(("c", "a"), [(200, 180.0), (1000, 950.0), (1000, 999.0), (1000, 10.0)])
def test_erlang_c_is_stable_for_many_servers(c: int, a: float) -> None:
    value = erlang_c(c, a)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(erlang_c_logspace(c, a), rel=1e-9, abs=1e-300)


def test_erlang_b_textbook_value() -> None:
    # a classic table entry: 10 trunks, 5 Erlangs -> 1.84 % blocking
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)


def test_an_overloaded_system_always_waits_forever() -> None:
    assert erlang_c(4, 4.0) == 1.0
    assert mmc_mean_wait(10.0, 1.0, 4) == math.inf
    assert mmc_response_quantile(10.0, 1.0, 4, 0.99) == math.inf


def test_mm1_conveniences() -> None:
    lam, mu = 8.0, 10.0
    assert mm1_mean_wait(lam, mu) == pytest.approx(0.8 / 2.0)
    assert mm1_mean_response(lam, mu) == pytest.approx(0.5)
    assert mm1_response_quantile(lam, mu, 0.99) == pytest.approx(math.log(100) / 2.0)


def test_mmc_wait_tail_and_quantile() -> None:
    lam, mu, c = 2.0, 1.0, 3
    assert mmc_wait_tail(lam, mu, c, 0.0) == pytest.approx(4 / 9)
    assert mmc_wait_tail(lam, mu, c, 1.5) == pytest.approx(4 / 9 * math.exp(-1.5))
    assert mmc_wait_quantile(lam, mu, c, 0.5) == 0.0  # more than half the arrivals never wait
    t = mmc_wait_quantile(lam, mu, c, 0.99)
    assert mmc_wait_tail(lam, mu, c, t) == pytest.approx(0.01)


def test_mm1_response_time_is_exponential_with_rate_mu_minus_lambda() -> None:
    lam, mu = 7.0, 10.0
    for t in (0.01, 0.3, 2.0):
        assert mmc_response_tail(lam, mu, 1, t) == pytest.approx(math.exp(-(mu - lam) * t), rel=1e-12)
    assert mmc_response_quantile(lam, mu, 1, 0.99) == pytest.approx(math.log(100) / 3.0, rel=1e-10)


def test_response_tail_is_continuous_where_wait_and_service_rates_meet() -> None:
    # c·μ − λ = μ makes the hypoexponential degenerate (Erlang-2); the formula must not blow up.
    lam, mu, c = 1.0, 1.0, 2
    t = 1.3
    big_c = erlang_c(c, lam / mu)
    expected = (1 - big_c) * math.exp(-mu * t) + big_c * (1 + mu * t) * math.exp(-mu * t)
    assert mmc_response_tail(lam, mu, c, t) == pytest.approx(expected, rel=1e-12)
    assert mmc_response_tail(lam, mu * (1 + 1e-13), c, t) == pytest.approx(expected, rel=1e-9)


def test_response_quantile_matches_simulated_wait_plus_service() -> None:
    lam, mu, c = 9.0, 1.0, 10
    rng = np.random.default_rng(1)
    n = 400_000
    waits = np.where(rng.random(n) < erlang_c(c, lam / mu), rng.exponential(1 / (c * mu - lam), n), 0.0)
    response = waits + rng.exponential(1 / mu, n)
    response.sort()
    for q in (0.5, 0.9, 0.99):
        # the share of simulated responses below the analytic q-quantile is Binomial(n, q) / n:
        # sigma = sqrt(q(1 - q)/n), 0.016 % at q = 0.99; 5 sigma
        share = np.searchsorted(response, mmc_response_quantile(lam, mu, c, q), side="right") / n
        assert abs(share - q) < 5 * math.sqrt(q * (1 - q) / n), (q, share)


def test_min_servers_for_a_mean_response_is_the_first_c_that_meets_it() -> None:
    lam, mu, bound = 100.0, 10.0, 0.11
    c = min_servers_for(lam, mu, mean_response=bound)
    assert mmc_mean_response(lam, mu, c) <= bound < mmc_mean_response(lam, mu, c - 1)


def test_min_servers_for_a_p99_response_is_the_first_c_that_meets_it() -> None:
    lam, mu, bound = 950.0, 1.0, 4.8
    c = min_servers_for(lam, mu, response_quantile=bound, q=0.99)
    assert mmc_response_quantile(lam, mu, c, 0.99) <= bound < mmc_response_quantile(lam, mu, c - 1, 0.99)


def test_min_servers_for_is_at_least_the_stable_minimum() -> None:
    assert min_servers_for(10.0, 1.0, mean_wait=1e9) == 11


def test_min_servers_for_refuses_a_bound_no_capacity_can_meet() -> None:
    with pytest.raises(ValueError, match="service"):
        min_servers_for(10.0, 1.0, mean_response=0.9)
    with pytest.raises(ValueError, match="service"):
        min_servers_for(10.0, 1.0, response_quantile=math.log(100) * 0.999)


def mmck_exact(c: int, k: int, a: Fraction) -> Fraction:
    """The textbook stationary distribution of M/M/c/K in exact arithmetic."""
    p = [a**n / math.factorial(n) if n <= c else a**c / math.factorial(c) * (a / c) ** (n - c)
         for n in range(k + 1)]
    return p[k] / sum(p)


@pytest.mark.parametrize(("c", "k", "a"), [(1, 1, "1/2"), (1, 4, "3/4"), (2, 5, "2"), (4, 10, "7/2"), (3, 3, "5")])
def test_mmck_blocking_matches_the_exact_distribution(c: int, k: int, a: str) -> None:
    exact = mmck_exact(c, k, Fraction(a))
    assert mmck_blocking(float(Fraction(a)) * 10.0, 10.0, c, k) == pytest.approx(float(exact), rel=1e-12)


def test_mmck_blocking_special_cases() -> None:
    assert mmck_blocking(30.0, 10.0, 5, 5) == pytest.approx(erlang_b(5, 3.0), rel=1e-12)
    rho, k = 0.8, 6  # M/M/1/K: (1 − ρ)ρ^K / (1 − ρ^(K+1))
    assert mmck_blocking(8.0, 10.0, 1, k) == pytest.approx((1 - rho) * rho**k / (1 - rho ** (k + 1)), rel=1e-12)
    assert mmck_blocking(10.0, 10.0, 1, 4) == pytest.approx(1 / 5, rel=1e-12)  # ρ = 1: uniform over 0..K
    assert 0.0 < mmck_blocking(1e6, 1.0, 2000, 4000) < 1.0  # huge terms are rescaled, not inf/inf
    with pytest.raises(ValueError):
        mmck_blocking(1.0, 1.0, 3, 2)
