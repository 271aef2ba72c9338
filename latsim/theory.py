"""Queueing formulas (M/M/1, M/M/c) used to check the simulator against theory.

Rates are per second, times in seconds. ``lam`` is the arrival rate, ``mu`` the service rate of
one server, ``c`` the number of servers; the offered load is a = lam/mu Erlangs and the
utilisation rho = a/c. FCFS, infinite queue. An unstable system (a >= c) has an infinite mean
wait; the functions return ``math.inf`` rather than raising so that sweeps can plot it.

Response time T = W + S: the wait W is 0 with probability 1 − C (C = Erlang C) and otherwise
exponential with rate θ = cμ − λ; the service S is exponential with rate μ and independent of
W. Hence P(T > t) = (1 − C)·e^(−μt) + C·P(Exp(θ) + Exp(μ) > t), a mixture of an exponential
and a hypoexponential; its quantiles are found numerically (scipy's brentq, imported lazily).
"""

from __future__ import annotations

import math

__all__ = [
    "erlang_b",
    "erlang_c",
    "min_servers_for",
    "mmck_blocking",
    "mm1_mean_response",
    "mm1_mean_wait",
    "mm1_response_quantile",
    "mmc_mean_response",
    "mmc_mean_wait",
    "mmc_response_quantile",
    "mmc_response_tail",
    "mmc_wait_quantile",
    "mmc_wait_tail",
]


def _check_rates(lam: float, mu: float, c: int) -> None:
    if not (lam >= 0 and math.isfinite(lam)):
        raise ValueError(f"arrival rate must be finite and >= 0, got {lam}")
    if not (mu > 0 and math.isfinite(mu)):
        raise ValueError(f"service rate must be finite and > 0, got {mu}")
    if isinstance(c, bool) or int(c) != c or c < 1:
        raise ValueError(f"number of servers must be a positive integer, got {c}")


def erlang_b(c: int, offered_load: float) -> float:
    """Erlang B blocking probability, by the stable recursion B_k = aB_{k−1}/(k + aB_{k−1})."""
    if isinstance(c, bool) or int(c) != c or c < 0:
        raise ValueError(f"number of servers must be a non-negative integer, got {c}")
    if offered_load < 0 or not math.isfinite(offered_load):
        raise ValueError(f"offered load must be finite and >= 0, got {offered_load}")
    a = float(offered_load)
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def _erlang_c_from_b(c: int, a: float, b: float) -> float:
    if a >= c:
        return 1.0
    return c * b / (c - a * (1.0 - b))


def erlang_c(c: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c with ``offered_load`` = λ/μ Erlangs.

    Computed from Erlang B (no factorials), stable for thousands of servers; 1.0 when a >= c.
    """
    if isinstance(c, bool) or int(c) != c or c < 1:
        raise ValueError(f"number of servers must be a positive integer, got {c}")
    return _erlang_c_from_b(int(c), float(offered_load), erlang_b(c, offered_load))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """E[W] = C / (cμ − λ): mean time in queue (inf when unstable)."""
    _check_rates(lam, mu, c)
    if lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_mean_response(lam: float, mu: float, c: int) -> float:
    """E[T] = E[W] + 1/μ."""
    return mmc_mean_wait(lam, mu, c) + 1.0 / mu


def mm1_mean_wait(lam: float, mu: float) -> float:
    """M/M/1: E[W] = ρ/(μ − λ)."""
    return mmc_mean_wait(lam, mu, 1)


def mm1_mean_response(lam: float, mu: float) -> float:
    """M/M/1: E[T] = 1/(μ − λ)."""
    return mmc_mean_response(lam, mu, 1)


def mm1_response_quantile(lam: float, mu: float, q: float) -> float:
    """M/M/1 response time is exponential with rate μ − λ: −ln(1 − q)/(μ − λ)."""
    _check_rates(lam, mu, 1)
    _check_level(q)
    if lam >= mu:
        return math.inf
    return math.inf if q == 1.0 else -math.log1p(-q) / (mu - lam)


def _check_level(q: float) -> None:
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level must be in [0, 1], got {q}")


def mmc_wait_tail(lam: float, mu: float, c: int, t: float) -> float:
    """P(W > t) = C·exp(−(cμ − λ)t) for t >= 0."""
    _check_rates(lam, mu, c)
    if lam >= c * mu:
        return 1.0
    if t < 0:
        return 1.0
    return erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def mmc_wait_quantile(lam: float, mu: float, c: int, q: float) -> float:
    """Smallest t with P(W <= t) >= q: 0 when q <= 1 − C, else ln(C/(1 − q))/(cμ − λ)."""
    _check_rates(lam, mu, c)
    _check_level(q)
    if lam >= c * mu:
        return math.inf
    big_c = erlang_c(c, lam / mu)
    if 1.0 - q >= big_c:
        return 0.0
    if q == 1.0:
        return math.inf
    return math.log(big_c / (1.0 - q)) / (c * mu - lam)


def _hypoexp_tail(a: float, b: float, t: float) -> float:
    """P(Exp(a) + Exp(b) > t), written without cancellation or overflow (symmetric in a, b)."""
    lo, hi = min(a, b), max(a, b)
    d = hi - lo
    # (hi·e^(−lo t) − lo·e^(−hi t))/(hi − lo) = e^(−lo t)·(1 + lo·(1 − e^(−d t))/d)
    factor = lo * t if d * t < 1e-12 else lo * (-math.expm1(-d * t)) / d
    return math.exp(-lo * t) * (1.0 + factor)


def mmc_response_tail(lam: float, mu: float, c: int, t: float) -> float:
    """P(T > t) for the response time T = W + S of M/M/c (FCFS)."""
    _check_rates(lam, mu, c)
    if lam >= c * mu:
        return 1.0
    if t <= 0:
        return 1.0
    return _response_tail(lam, mu, c, erlang_c(c, lam / mu), t)


def _response_tail(lam: float, mu: float, c: int, big_c: float, t: float) -> float:
    return (1.0 - big_c) * math.exp(-mu * t) + big_c * _hypoexp_tail(c * mu - lam, mu, t)


def mmc_response_quantile(lam: float, mu: float, c: int, q: float) -> float:
    """The q-quantile of M/M/c response time, solving P(T > t) = 1 − q with brentq."""
    _check_rates(lam, mu, c)
    _check_level(q)
    if lam >= c * mu or q == 1.0:
        return math.inf
    if q == 0.0:
        return 0.0
    from scipy.optimize import brentq

    eps = 1.0 - q
    # P(W + S > tw + ts) <= P(W > tw) + P(S > ts) = eps/2 + eps/2 gives an upper bracket.
    hi = mmc_wait_quantile(lam, mu, c, 1.0 - eps / 2) + -math.log(eps / 2) / mu
    f = lambda t: mmc_response_tail(lam, mu, c, t) - eps  # noqa: E731
    if f(hi) >= 0:  # only by rounding
        return hi
    return float(brentq(f, 0.0, hi, xtol=1e-15, rtol=1e-13, maxiter=200))


def min_servers_for(lam: float, mu: float, *, mean_response: float | None = None,
                    response_quantile: float | None = None, q: float = 0.99,
                    mean_wait: float | None = None, max_servers: int = 100_000) -> int:
    """The smallest c for which M/M/c is stable and meets every bound given.

    ``mean_response`` bounds E[T]; ``response_quantile`` bounds the q-quantile of T (e.g. the
    p99 with the default q = 0.99); ``mean_wait`` bounds E[W]. Every metric falls as c grows,
    so the first c that meets all bounds is the answer. A bound that no number of servers can
    meet (E[T] → 1/μ and T's quantile → −ln(1 − q)/μ as c → ∞) raises ``ValueError``.
    """
    _check_rates(lam, mu, 1)
    _check_level(q)
    if mean_response is None and response_quantile is None and mean_wait is None:
        raise ValueError("give at least one of mean_response, response_quantile, mean_wait")
    if mean_response is not None and mean_response <= 1.0 / mu:
        raise ValueError(f"mean response {mean_response} is not above the mean service time {1.0 / mu}: "
                         "no number of servers meets it")
    if response_quantile is not None and (q == 1.0 or response_quantile <= -math.log1p(-q) / mu):
        raise ValueError(f"the {q} quantile of response cannot go below that of service alone "
                         f"({-math.log1p(-q) / mu if q < 1 else math.inf}): no number of servers meets it")
    if mean_wait is not None and mean_wait < 0:
        raise ValueError("mean_wait must be >= 0")
    a = lam / mu
    # Walk c upwards carrying Erlang B along (O(c) in total instead of O(c²)).
    b = erlang_b(int(math.floor(a)), a)
    for c in range(int(math.floor(a)) + 1, max_servers + 1):
        b = a * b / (c + a * b)
        big_c = _erlang_c_from_b(c, a, b)
        wait = big_c / (c * mu - lam)
        if mean_wait is not None and wait > mean_wait:
            continue
        if mean_response is not None and wait + 1.0 / mu > mean_response:
            continue
        if response_quantile is not None and _response_tail(lam, mu, c, big_c, response_quantile) > 1.0 - q:
            continue
        return c
    raise ValueError(f"no c <= {max_servers} meets the bounds")


def mmck_blocking(lam: float, mu: float, c: int, k: int) -> float:
    """Blocking probability of M/M/c/K (``k`` >= ``c`` requests in the system at most: ``c`` in
    service, ``k − c`` waiting); by PASTA, the share of arrivals turned away.

    P(n) ∝ aⁿ/n! for n <= c and a^c/c!·ρ^(n−c) above; the terms are built by ratios from P(0) = 1
    (no factorials), so large c and a stay finite. ``k == c`` is Erlang B.
    """
    _check_rates(lam, mu, c)
    if isinstance(k, bool) or int(k) != k or k < c:
        raise ValueError(f"system capacity must be an integer >= c ({c}), got {k}")
    a = lam / mu
    term, total = 1.0, 1.0
    for n in range(1, int(k) + 1):
        term *= a / (n if n <= c else c)
        if term > 1e250:  # rescale: only the ratio P(K) = term_K / sum matters
            total /= term
            term = 1.0
        total += term
    return term / total
