"""Specification of latsim.distributions: the vocabulary, the maths, errors, sampling, pydantic."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from latsim.distributions import (
    Z99,
    Constant,
    Distribution,
    DistributionError,
    DistributionField,
    EmpiricalPercentiles,
    Exponential,
    Gamma,
    LogNormal,
    Mixture,
    Normal,
    NumberDistributionField,
    Shifted,
    SizeDistributionField,
    Uniform,
    Weibull,
    distribution_json_schema,
    parse_distribution,
)
from latsim.engine.sampling import sampler
from latsim.streams import BLOCK

LOGNORMAL = {"lognormal": {"median": "18ms", "sigma": 0.5}}

SPECS = {
    "constant": {"constant": "5ms"},
    "exponential": {"exponential": {"mean": "10ms"}},
    "lognormal_median_sigma": LOGNORMAL,
    "lognormal_mean_p99": {"lognormal": {"mean": "20ms", "p99": "60ms"}},
    "lognormal_mean_sigma": {"lognormal": {"mean": "20ms", "sigma": 0.5}},
    "gamma": {"gamma": {"mean": "20ms", "cv": 0.7}},
    "weibull": {"weibull": {"scale": "20ms", "shape": 1.5}},
    "uniform": {"uniform": {"low": "5ms", "high": "15ms"}},
    "normal": {"normal": {"mean": "20ms", "sd": "10ms"}},
    "empirical_samples": {"empirical": {"samples": ["1ms", "2ms", "7ms", "30ms"]}},
    "empirical_points": {"empirical": {"p50": "12ms", "p90": "30ms", "p99": "80ms"}},
    "mixture": {"mixture": [{"weight": 0.95, "of": LOGNORMAL}, {"weight": 0.05, "of": {"constant": "200ms"}}]},
    "shifted": {"shifted": {"by": "2ms", "of": {"gamma": {"mean": "20ms", "cv": 0.7}}}},
}


def rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- vocabulary ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_family_round_trips_through_to_spec(name: str) -> None:
    d = parse_distribution(SPECS[name])
    assert parse_distribution(d.to_spec()) == d
    assert parse_distribution(json.loads(json.dumps(d.to_spec()))) == d


def test_a_bare_duration_string_is_a_constant() -> None:
    assert parse_distribution("5ms") == Constant(0.005)


def test_durations_are_written_back_with_units() -> None:
    assert parse_distribution(LOGNORMAL).to_spec() == {"lognormal": {"median": "18ms", "sigma": 0.5}}
    assert Exponential(0.25).to_spec() == {"exponential": {"mean": "250ms"}}


def test_computed_durations_round_trip_exactly() -> None:
    d = LogNormal(0.017347972660592231, 0.5333978318706414)
    assert parse_distribution(d.to_spec()) == d


def test_size_kind_parses_units_to_bytes() -> None:
    d = parse_distribution({"uniform": {"low": "2KB", "high": "1MiB"}}, kind="size")
    assert d == Uniform(2000.0, 1048576.0, kind="size")
    assert parse_distribution(d.to_spec(), kind="size") == d
    assert parse_distribution(512, kind="size") == Constant(512.0, kind="size")


def test_number_kind_takes_plain_numbers() -> None:
    d = parse_distribution({"exponential": {"mean": 3}}, kind="number")
    assert d.mean == 3.0 and d.kind == "number"


def test_a_distribution_of_another_kind_is_refused() -> None:
    with pytest.raises(DistributionError, match="expected a duration distribution"):
        parse_distribution(Constant(3.0, kind="number"))


def test_distributions_are_immutable() -> None:
    d = parse_distribution(LOGNORMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.sigma = 1.0  # type: ignore[misc]


def test_describe_is_short_text() -> None:
    assert parse_distribution(LOGNORMAL).describe().startswith("lognormal median 18ms sigma 0.5")


# -- exact means and quantiles against samples -----------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_sample_mean_matches_exact_mean(name: str) -> None:
    d = parse_distribution(SPECS[name])
    x = d.sample(rng(), 200_000)
    assert x.shape == (200_000,) and x.dtype == np.float64 and x.min() >= 0
    stderr = x.std() / math.sqrt(x.size)
    assert abs(x.mean() - d.mean) <= 5 * stderr + 1e-12


@pytest.mark.parametrize("name", sorted(SPECS))
def test_quantile_inverts_cdf_and_matches_samples(name: str) -> None:
    d = parse_distribution(SPECS[name])
    x = np.sort(d.sample(rng(3), 200_000))
    for q in (0.1, 0.5, 0.9, 0.99):
        v = d.quantile(q)
        assert d.cdf(v) >= q - 1e-9
        empirical = np.searchsorted(x, v, side="right") / x.size
        p = d.cdf(v)
        sigma = math.sqrt(p * (1 - p) / x.size)  # Binomial(n, p) / n; at most 0.11 % here
        assert abs(empirical - p) <= 5 * sigma + 1e-12, (q, empirical, p, sigma)


def test_lognormal_quantiles_are_analytic() -> None:
    d = parse_distribution(LOGNORMAL)
    assert d.quantile(0.5) == pytest.approx(0.018)
    assert d.quantile(0.99) == pytest.approx(0.018 * math.exp(0.5 * Z99))
    assert d.mean == pytest.approx(0.018 * math.exp(0.125))


def test_lognormal_mean_and_p99_are_both_met() -> None:
    d = parse_distribution({"lognormal": {"mean": "20ms", "p99": "60ms"}})
    assert d.mean == pytest.approx(0.020, rel=1e-12)
    assert d.quantile(0.99) == pytest.approx(0.060, rel=1e-12)
    assert d.sigma < Z99  # the light-tailed root


def test_lognormal_pairs_describe_the_same_distribution() -> None:
    base = LogNormal(0.018, 0.5)
    mean, p99 = f"{base.mean!r}s", f"{base.quantile(0.99)!r}s"
    for pair in ({"mean": mean, "sigma": 0.5}, {"median": "18ms", "p99": p99}, {"median": "18ms", "mean": mean},
                 {"p99": p99, "sigma": 0.5}, {"mean": mean, "p99": p99}):
        d = parse_distribution({"lognormal": pair})
        assert d.median == pytest.approx(0.018, rel=1e-9) and d.sigma == pytest.approx(0.5, rel=1e-9)


@pytest.mark.parametrize("p99", ["20ms", "15ms", "300ms"])
def test_lognormal_mean_p99_outside_the_solvable_range_is_refused(p99: str) -> None:
    # solvable iff mean < p99 <= exp(z²/2)·mean ≈ 14.97·mean
    with pytest.raises(DistributionError) as err:
        parse_distribution({"lognormal": {"mean": "20ms", "p99": p99}})
    assert err.value.path == ("lognormal", "p99")


def test_lognormal_needs_exactly_two_parameters() -> None:
    with pytest.raises(DistributionError, match="exactly two"):
        parse_distribution({"lognormal": {"median": "18ms"}})


def test_gamma_has_the_requested_mean_and_cv() -> None:
    d = parse_distribution({"gamma": {"mean": "20ms", "cv": 0.7}})
    assert isinstance(d, Gamma) and d.shape * d.scale == pytest.approx(0.02)
    assert math.sqrt(d.shape) * d.scale / (d.shape * d.scale) == pytest.approx(0.7)


def test_weibull_mean_uses_the_gamma_function() -> None:
    assert Weibull(0.02, 1.5).mean == pytest.approx(0.02 * math.gamma(1 + 1 / 1.5))


def test_normal_is_truncated_at_zero_not_clipped() -> None:
    d = parse_distribution({"normal": {"mean": "5ms", "sd": "10ms"}})
    x = d.sample(rng(), 100_000)
    assert x.min() > 0 and np.count_nonzero(x == 0) == 0
    assert d.mean > 0.005 and d.cdf(0.0) == 0.0


def test_empirical_samples_are_resampled_from_the_given_values() -> None:
    d = parse_distribution({"empirical": {"samples": ["1ms", "2ms", "7ms"]}})
    assert set(d.sample(rng(), 1000).tolist()) == {0.001, 0.002, 0.007}


def test_empirical_points_interpolate_linearly_through_zero() -> None:
    d = parse_distribution({"empirical": {"p50": "12ms", "p90": "30ms", "p99": "80ms"}})
    assert d.quantile(0.25) == pytest.approx(0.006)
    assert d.quantile(0.5) == pytest.approx(0.012)
    assert d.quantile(0.7) == pytest.approx(0.021)
    assert d.quantile(0.99) == pytest.approx(0.080)


def test_empirical_points_have_an_exponential_tail_matching_the_last_slope() -> None:
    d = parse_distribution({"empirical": {"p90": "30ms", "p99": "80ms"}})
    assert isinstance(d, EmpiricalPercentiles)
    theta = (0.080 - 0.030) / 0.09 * 0.01
    assert d.quantile(0.999) == pytest.approx(0.080 + theta * math.log(10))
    assert d.quantile(1.0) == math.inf


def test_empirical_p100_caps_the_distribution() -> None:
    d = parse_distribution({"empirical": {"p50": "12ms", "p100": "40ms"}})
    assert d.quantile(1.0) == pytest.approx(0.04)
    assert d.sample(rng(), 10_000).max() <= 0.04


def test_empirical_points_must_not_decrease() -> None:
    with pytest.raises(DistributionError) as err:
        parse_distribution({"empirical": {"p50": "12ms", "p90": "10ms"}})
    assert err.value.path == ("empirical", "p90")


def test_mixture_weights_are_normalised() -> None:
    d = parse_distribution({"mixture": [{"weight": 19, "of": "10ms"}, {"weight": 1, "of": "200ms"}]})
    assert isinstance(d, Mixture) and d.probabilities == pytest.approx((0.95, 0.05))
    assert d.mean == pytest.approx(0.95 * 0.01 + 0.05 * 0.2)
    x = d.sample(rng(), 100_000)
    assert np.mean(x == 0.2) == pytest.approx(0.05, abs=0.005)
    assert d.quantile(0.99) == pytest.approx(0.2)


# -- scaling, shifting, arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_scaling_multiplies_mean_and_quantiles_and_keeps_the_family(name: str) -> None:
    d = parse_distribution(SPECS[name])
    s = d.scaled(3.0)
    assert type(s) is type(d)
    assert s.mean == pytest.approx(3 * d.mean)
    assert s.quantile(0.9) == pytest.approx(3 * d.quantile(0.9))
    assert parse_distribution(s.to_spec()) == s


@pytest.mark.parametrize("name", sorted(SPECS))
def test_shifting_adds_to_mean_and_quantiles(name: str) -> None:
    d = parse_distribution(SPECS[name])
    s = d.shifted(0.005)
    assert s.mean == pytest.approx(d.mean + 0.005)
    assert s.quantile(0.9) == pytest.approx(d.quantile(0.9) + 0.005)
    assert s.sample(rng(), 1000).min() >= 0.005
    assert parse_distribution(s.to_spec()) == s


def test_shift_closed_families_stay_in_their_family() -> None:
    assert Uniform(0.005, 0.015).shifted(0.001) == Uniform(0.006, 0.016)
    assert isinstance(LogNormal(0.018, 0.5).shifted(0.001), Shifted)


def test_a_shift_that_makes_values_negative_is_refused() -> None:
    assert Constant(0.005).shifted(-0.002).mean == pytest.approx(0.003)
    with pytest.raises(DistributionError):
        LogNormal(0.018, 0.5).shifted(-0.001)


def test_arithmetic_maps_to_scaled_and_shifted() -> None:
    d = parse_distribution(LOGNORMAL)
    assert d * 2.0 == d.scaled(2.0) == 2.0 * d == np.float64(2.0) * d
    assert d / 2 == d.scaled(0.5)
    assert d + 0.005 == d.shifted(0.005) == 0.005 + d
    assert (d + 0.005) - 0.005 == d
    with pytest.raises(TypeError):
        _ = d + d  # type: ignore[operator]


def test_scaling_by_a_non_positive_factor_is_refused() -> None:
    with pytest.raises(DistributionError):
        Exponential(0.01).scaled(0.0)


@settings(max_examples=60, deadline=None)
@given(median=st.floats(1e-5, 100.0), sigma=st.floats(0.01, 3.0), factor=st.floats(0.01, 100.0),
       offset=st.floats(0.0, 10.0))
def test_law_any_lognormal_round_trips_and_scales(median: float, sigma: float, factor: float,
                                                  offset: float) -> None:
    d = LogNormal(median, sigma)
    for variant in (d, d * factor, (d + offset) * factor):
        assert parse_distribution(variant.to_spec()) == variant
    assert (d * factor).quantile(0.9) == pytest.approx(factor * d.quantile(0.9), rel=1e-9)


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "path", "hint"),
    [
        ({"lognormol": {"median": "18ms", "sigma": 0.5}}, ("lognormol",), "lognormal"),
        ({"lognormal": {"median": "18ms", "sigmaa": 0.5}}, ("lognormal", "sigmaa"), "sigma"),
        ({"gamma": {"mean": "20ms", "cv": 0}}, ("gamma", "cv"), None),
        ({"lognormal": {"median": "18ms", "sigma": -1}}, ("lognormal", "sigma"), None),
        ({"lognormal": {"median": "18ms", "sigma": float("nan")}}, ("lognormal", "sigma"), None),
        ({"uniform": {"low": "15ms", "high": "5ms"}}, ("uniform", "high"), None),
        ({"exponential": {"mean": "-5ms"}}, ("exponential", "mean"), None),
        ({"mixture": [{"weight": 1, "of": "1ms"}, {"weight": 0, "of": "2ms"}]}, ("mixture", 1, "weight"), None),
        ({"mixture": [{"weight": 1, "of": {"gama": {"mean": "1ms", "cv": 1}}}]}, ("mixture", 0, "of", "gama"),
         "gamma"),
        ({"empirical": {"samples": ["1ms", "oops"]}}, ("empirical", "samples", 1), None),
        ({"empirical": {"p5O": "1ms"}}, ("empirical", "p5O"), None),
        ({"weibull": {"scale": "20ms"}}, ("weibull",), None),
        ({"exponential": {"mean": "10ms"}, "gamma": {}}, (), None),
    ],
)
def test_bad_specs_are_located(spec: object, path: tuple, hint: str | None) -> None:
    with pytest.raises(DistributionError) as err:
        parse_distribution(spec)
    assert err.value.path == path
    assert err.value.allowed
    if hint:
        assert err.value.hint == f"did you mean '{hint}'?"


def test_a_bare_number_is_an_ambiguous_duration() -> None:
    with pytest.raises(DistributionError, match="ambiguous"):
        parse_distribution(5)


def test_nan_is_refused_for_plain_numbers() -> None:
    with pytest.raises(DistributionError, match="finite"):
        parse_distribution({"constant": float("nan")}, kind="number")


def test_distribution_error_is_a_value_error_with_a_dotted_message() -> None:
    with pytest.raises(ValueError, match=r"^mixture\[0\]\.of\.gamma\.cv: must be > 0"):
        parse_distribution({"mixture": [{"weight": 1, "of": {"gamma": {"mean": "1ms", "cv": -1}}}]})


# -- sampling one value at a time (the engine's sampler; its block order: tests/test_streams.py) ------


def test_the_engine_sampler_is_reproducible_for_a_seed_and_follows_sample() -> None:
    d = parse_distribution(SPECS["mixture"])
    a = sampler(d, rng(5))
    b = sampler(d, rng(5))
    got = [a() for _ in range(BLOCK + 500)]
    assert got == [b() for _ in range(BLOCK + 500)]
    assert got[:BLOCK] == d.sample(rng(5), BLOCK).tolist()  # a mixture is drawn in whole blocks
    assert {sampler(parse_distribution("7ms"), rng(1))() for _ in range(3)} == {0.007}


# -- pydantic -------------------------------------------------------------------------------------


class Target(BaseModel):
    latency: DistributionField
    size: SizeDistributionField = Constant(1000.0, kind="size")
    retries: NumberDistributionField = Constant(0.0, kind="number")


def test_pydantic_field_parses_and_serialises_the_spec() -> None:
    t = Target(latency={"lognormal": {"median": "18ms", "sigma": 0.5}}, size="2KB")
    assert t.latency == LogNormal(0.018000000000000002, 0.5)
    assert t.size == Constant(2000.0, kind="size")
    dumped = t.model_dump()
    assert dumped["latency"] == {"lognormal": {"median": "18ms", "sigma": 0.5}}
    assert Target.model_validate_json(t.model_dump_json()) == t


def test_pydantic_error_carries_the_relative_path_and_what_is_allowed() -> None:
    with pytest.raises(ValidationError) as err:
        Target(latency={"lognormal": {"median": "18ms", "sigmaa": 0.5}})
    (e,) = err.value.errors()
    assert e["type"] == "distribution" and e["loc"] == ("latency",)
    assert e["ctx"]["path_parts"] == ("lognormal", "sigmaa")
    assert e["msg"].startswith("lognormal.sigmaa: unknown parameter 'sigmaa' (lognormal takes")
    assert e["msg"].endswith("did you mean 'sigma'?")


def test_json_schema_accepts_the_vocabulary() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = Target.model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for spec in SPECS.values():
        validator.validate({"latency": spec})
    for d in (parse_distribution(SPECS["mixture"]) + 0.001, LogNormal(0.0173, 0.53)):
        validator.validate({"latency": d.to_spec()})
    for bad in ({"lognormol": {}}, {"lognormal": {"median": "18ms"}}, 5, {"gamma": {"mean": "1ms"}}):
        assert not validator.is_valid({"latency": bad})
    validator.validate({"latency": "5ms", "size": "2KB", "retries": {"uniform": {"low": 0, "high": 3}}})


def test_json_schema_is_one_of_the_families() -> None:
    titles = {alt.get("title") for alt in distribution_json_schema()["oneOf"]}
    assert {"constant", "lognormal", "mixture", "empirical", "shifted"} <= titles


def test_every_family_class_is_a_distribution() -> None:
    for cls in (Constant, Exponential, LogNormal, Gamma, Weibull, Uniform, Normal, Mixture, Shifted):
        assert issubclass(cls, Distribution)


# -- against scipy.stats: an oracle that shares no code with latsim -----------------------------------

def _scipy_reference(name: str) -> Any:
    """The scipy.stats law of ``SPECS[name]``, parameterised from the spec's text by hand."""
    from scipy import stats as ss
    k = 1 / 0.7**2  # gamma: shape 1/cv², scale mean/shape
    return {
        "exponential": ss.expon(scale=0.010),
        "lognormal_median_sigma": ss.lognorm(s=0.5, scale=0.018),
        "lognormal_mean_sigma": ss.lognorm(s=0.5, scale=0.020 * math.exp(-0.5**2 / 2)),
        "gamma": ss.gamma(a=k, scale=0.020 / k),
        "weibull": ss.weibull_min(c=1.5, scale=0.020),
        "uniform": ss.uniform(loc=0.005, scale=0.010),
        "normal": ss.truncnorm(a=-2.0, b=math.inf, loc=0.020, scale=0.010),
        "shifted": ss.gamma(a=k, loc=0.002, scale=0.020 / k),
    }[name]


SCIPY_FAMILIES = ["exponential", "gamma", "lognormal_mean_sigma", "lognormal_median_sigma", "normal", "shifted",
                  "uniform", "weibull"]


@pytest.mark.parametrize("name", SCIPY_FAMILIES)
def test_engine_draws_follow_the_scipy_law_at_its_quantiles(name: str) -> None:
    """200 000 draws through the engine's own sampler (blocks, as a target draws its latency).
    At scipy's q-quantile x_q the empirical CDF is Binomial(n, q)/n: sigma = sqrt(q(1 − q)/n)
    (0.022 % at q = 0.01, 0.11 % at the median); accept 5 sigma at each of seven levels. The
    Kolmogorov–Smirnov statistic must also stay below the DKW bound sqrt(ln(2/α)/2n) at α = 1e-6
    (0.58 %). An exponential scale off by 2 % moves the CDF at the median by ~6 sigma."""
    from scipy import stats as ss

    from latsim.engine.sampling import sampler
    ref = _scipy_reference(name)
    draw = sampler(parse_distribution(SPECS[name]), rng(11))
    n = 200_000
    x = np.sort(np.fromiter((draw() for _ in range(n)), dtype=float, count=n))
    for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99):
        xq = float(ref.ppf(q))
        fn = np.searchsorted(x, xq, side="right") / n
        sigma = math.sqrt(q * (1 - q) / n)
        assert abs(fn - q) <= 5 * sigma, (q, fn, sigma)
    ks = ss.kstest(x, ref.cdf).statistic
    assert ks < math.sqrt(math.log(2 / 1e-6) / (2 * n)), ks


def test_a_mixture_follows_the_weighted_scipy_cdfs() -> None:
    """0.95 lognormal(18 ms, 0.5) + 0.05 at 200 ms: the CDF below 200 ms is 0.95 × the lognormal's
    and jumps by 0.05 there; 5 sigma of the binomial share at each point."""
    from scipy import stats as ss

    from latsim.engine.sampling import sampler
    draw = sampler(parse_distribution(SPECS["mixture"]), rng(12))
    n = 200_000
    x = np.sort(np.fromiter((draw() for _ in range(n)), dtype=float, count=n))
    ln = ss.lognorm(s=0.5, scale=0.018)
    for point in (0.010, 0.018, 0.030, 0.060, 0.1999, 0.2):
        p = 0.95 * float(ln.cdf(point)) + (0.05 if point >= 0.2 else 0.0)
        fn = np.searchsorted(x, point, side="right") / n
        assert abs(fn - p) <= 5 * math.sqrt(p * (1 - p) / n), (point, fn, p)


def test_empirical_samples_are_drawn_uniformly() -> None:
    """Four values, each Binomial(n, 1/4): sigma = sqrt(n · 3/16) ≈ 194 at n = 200 000; 5 sigma."""
    from latsim.engine.sampling import sampler
    draw = sampler(parse_distribution(SPECS["empirical_samples"]), rng(13))
    n = 200_000
    values, counts = np.unique(np.fromiter((draw() for _ in range(n)), dtype=float, count=n), return_counts=True)
    assert values.tolist() == [0.001, 0.002, 0.007, 0.030]
    assert np.all(np.abs(counts - n / 4) <= 5 * math.sqrt(n * 3 / 16)), counts
