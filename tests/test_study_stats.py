"""Studies: confidence intervals, their coverage against theory, CRN, sequential replications."""

from __future__ import annotations

import dataclasses
import math

import pytest

from latsim.studies import stats
from latsim.studies.compare import compare
from latsim.studies.examples import mmc_scenario
from latsim.studies.study import StudyOptions, build_study, run_study
from latsim.theory import mm1_mean_response

TG_MEAN = "target_groups.checkout-v1.RequestTime.mean"


def test_t_interval_matches_the_textbook():
    est = stats.t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert est.mean == 3.0 and est.sd == pytest.approx(math.sqrt(2.5))
    assert est.half_width == pytest.approx(2.776445105 * math.sqrt(2.5) / math.sqrt(5), rel=1e-9)


def test_missing_values_are_left_out_and_one_value_has_no_interval():
    est = stats.t_interval([1.0, math.nan, 3.0])
    assert est.n == 2 and est.mean == 2.0
    one = stats.t_interval([4.0])
    assert one.n == 1 and one.mean == 4.0 and math.isnan(one.ci_low)


def test_wilson_interval_is_not_degenerate_at_zero_and_one():
    all_ok = stats.wilson([1.0] * 10)
    assert all_ok.ci_high == 1.0 and 0.65 < all_ok.ci_low < 0.75
    none_ok = stats.wilson([0.0] * 10)
    assert none_ok.ci_low == 0.0 and 0.25 < none_ok.ci_high < 0.35


def test_paired_difference_uses_the_per_replication_differences():
    d = stats.paired([10.0, 20.0, 30.0], [11.0, 21.0, 31.5])
    assert d.mean == pytest.approx(7 / 6) and d.n == 3


def test_sequential_rule_adds_replications_until_the_target_then_stops():
    assert stats.needed_replications([10.0, 10.1, 9.9], 1.0, relative=False, n_max=50) is None
    grow = stats.needed_replications([1.0, 9.0, 5.0], 0.5, relative=False, n_max=50)
    assert grow == 6  # wants many more, but at most doubles per step
    assert stats.needed_replications([1.0, 9.0, 5.0], 0.5, relative=False, n_max=4) == 4
    assert stats.needed_replications([1.0, 9.0, 5.0, 3.0], 0.5, relative=False, n_max=4) is None


def test_sequential_study_reaches_the_ci_target_or_the_cap():
    data = mmc_scenario(rate="50/s", duration="4s", warmup="1s")
    study = build_study(data, options=StudyOptions(
        params=["target_groups.checkout-v1.targets.0.concurrency=1,4"], replications=3, metrics=[TG_MEAN],
        ci_target="10%", max_replications=20))
    result = run_study(study)
    for p in study.points:
        est = stats.t_interval(result.values(p.index, TG_MEAN))
        n = result.targets[p.index]
        assert 3 <= n <= 20 and est.n == n
        assert est.half_width <= 0.10 * est.mean or n == 20
    assert result.targets[0] > result.targets[1]  # the busy queue is noisier and needs more
    assert run_study(study).targets == result.targets


def test_common_random_numbers_reduce_the_variance_of_a_paired_difference():
    a = mmc_scenario(rate="50/s", mean_service="10ms", duration="6s", warmup="1s")
    b = mmc_scenario(rate="50/s", mean_service="11ms", duration="6s", warmup="1s")
    kw = {"replications": 12, "metrics": [TG_MEAN], "seed": 11}
    with_crn = compare((a, None, "a"), (b, None, "b"), crn=True, **kw).rows()[0]
    without = compare((a, None, "a"), (b, None, "b"), crn=False, **kw).rows()[0]
    ratio = (with_crn["diff_sd"] / without["diff_sd"]) ** 2
    print(f"CRN variance ratio of the paired difference: {ratio:.4f}")
    assert ratio < 1
    assert with_crn["significant"] and with_crn["ci_low"] > 0


@pytest.mark.slow
def test_ci_of_the_mm1_mean_response_covers_theory_95_percent_of_the_time():
    """200 independent studies of 5 replications each: the 95 % t-interval of the mean response
    time of an M/M/1 queue (λ = 50/s, μ = 100/s, 60 s runs) should contain E[T] = 1/(μ − λ) =
    20 ms in Binomial(200, 0.95) of them (mean 190, sigma 3.1). Two-sided: accept the central
    99 % of that law, [181, 197] (size 0.5 %), so intervals that are too narrow *and* intervals
    that are too wide fail. Power (exact binomial): 98.5 % against a true coverage of 85 %,
    92 % against 99.5 %, 100 % against intervals that always cover."""
    lam, mu = 50.0, 100.0
    truth = mm1_mean_response(lam, mu) * 1000.0
    data = mmc_scenario(rate="50/s", mean_service="10ms", servers=1, duration="60s", warmup="2s")
    base = build_study(data, options=StudyOptions(replications=5, metrics=[TG_MEAN]))
    studies, covered = 200, 0
    for k in range(studies):
        result = run_study(dataclasses.replace(base, seed=1000 + k))
        est = stats.t_interval(result.values(0, TG_MEAN))
        covered += est.ci_low <= truth <= est.ci_high
    lo, hi = stats.binomial_interval(studies, 0.95, 0.99)
    assert (lo, hi) == (181, 197)
    print(f"CI coverage: {covered}/{studies} (accept {lo}..{hi})")
    assert lo <= covered <= hi
