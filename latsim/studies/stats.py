"""Statistics over replications: mean, standard deviation and 95 % confidence intervals.

- ``t`` intervals for means and rates: mean ± t(0.975, n−1)·sd/√n, the replications being
  independent (each has its own seed). A percentile metric (``...RequestTime.p99``) is treated
  the same way: each replication gives one estimate of the percentile, and the interval is for
  the mean of that estimator over replications.
  An interval is clipped to what the expectation can be: not below 0 for a quantity that is
  never negative (latencies, counts), not above 1 for a fraction (error rates).
- ``wilson`` intervals for 0/1 metrics (``slo.ok``, ``canary.X.promoted``): the Wilson score
  interval of the proportion, which stays inside [0, 1] and is not degenerate at 0 % or 100 %.
- Paired differences (common random numbers): the t-interval of the per-replication
  differences B_r − A_r.

scipy (a core dependency: sweeps, comparisons and the gamma quantile need it) is imported
lazily, so that ``import latsim`` stays quick.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

LEVEL = 0.95
NAN = math.nan


@dataclass(frozen=True)
class Estimate:
    """What a sample of replication values says about their expectation."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    method: str = "t"

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2.0


@lru_cache(maxsize=256)
def t_quantile(df: int, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2.0, df))


@lru_cache(maxsize=8)
def z_quantile(level: float = LEVEL) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


def finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n − 1), by a two-pass sum in the given order."""
    xs = finite(values)
    n = len(xs)
    if n == 0:
        return NAN, NAN
    m = math.fsum(xs) / n
    if n == 1:
        return m, NAN
    var = math.fsum((x - m) ** 2 for x in xs) / (n - 1)
    return m, math.sqrt(var)


def t_interval(values: Sequence[float], level: float = LEVEL) -> Estimate:
    xs = finite(values)
    n = len(xs)
    m, sd = mean_sd(xs)
    if n < 2:
        return Estimate(n, m, sd, NAN, NAN, "t")
    half = t_quantile(n - 1, level) * sd / math.sqrt(n)
    return Estimate(n, m, sd, m - half, m + half, "t")


def wilson(values: Sequence[float], level: float = LEVEL) -> Estimate:
    """Wilson score interval for the proportion of 1s among 0/1 values."""
    xs = finite(values)
    n = len(xs)
    m, sd = mean_sd(xs)
    if n == 0:
        return Estimate(0, NAN, NAN, NAN, NAN, "wilson")
    z = z_quantile(level)
    p = m
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if p == 0 else max(0.0, centre - half)  # exact ends: no 5e-17 from rounding
    hi = 1.0 if p == 1 else min(1.0, centre + half)
    return Estimate(n, m, sd, lo, hi, "wilson")


def estimate(values: Sequence[float], *, binary: bool = False, fraction: bool = False,
             level: float = LEVEL) -> Estimate:
    """Wilson for 0/1 values, else a t-interval clipped to where the expectation can lie: at or
    above 0 when no value is negative, and at most 1 for a ``fraction`` (an error rate)."""
    if binary:
        return wilson(values, level)
    est = t_interval(values, level)
    xs = finite(values)
    if est.n < 2 or any(x < 0 for x in xs):
        return est
    return Estimate(est.n, est.mean, est.sd, max(est.ci_low, 0.0),
                    min(est.ci_high, 1.0) if fraction else est.ci_high, est.method)


def paired(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Estimate:
    """The t-interval of B − A over the replications where both have a value."""
    diffs = [y - x for x, y in zip(a, b, strict=True)
             if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    return t_interval(diffs, level)


def needed_replications(values: Sequence[float], target: float, *, relative: bool, n_max: int,
                        level: float = LEVEL) -> int | None:
    """Sequential rule: None when the CI half-width already meets ``target`` (absolute, or a
    fraction of |mean| when ``relative``); else how many replications to have next: enough by
    the current sd, at least one more, at most twice as many, never above ``n_max``."""
    est = t_interval(values, level)
    n = len(values)
    if est.n < 2 or n >= n_max:
        return None
    goal = target * abs(est.mean) if relative else target
    if est.half_width <= goal:
        return None
    if goal <= 0 or est.sd == 0:
        want = n + 1
    else:
        want = math.ceil((t_quantile(est.n - 1, level) * est.sd / goal) ** 2)
    return int(min(n_max, max(n + 1, min(want, 2 * n))))


def binomial_interval(n: int, p: float, level: float) -> tuple[int, int]:
    """Central interval [lo, hi] of Binomial(n, p) holding at least ``level`` of its mass."""
    from scipy.stats import binom

    lo, hi = binom.interval(level, n, p)
    return int(lo), int(hi)
