"""Distributions: one interface for every latency, think-time and size draw.

A scenario writes a distribution in a small vocabulary (durations carry units)::

    5ms                                        # a bare value is a constant
    {constant: 5ms}
    {exponential: {mean: 10ms}}
    {lognormal: {median: 18ms, sigma: 0.5}}    # or any two of median, mean, p99, sigma
    {gamma: {mean: 20ms, cv: 0.7}}
    {weibull: {scale: 20ms, shape: 1.5}}
    {uniform: {low: 5ms, high: 15ms}}
    {normal: {mean: 20ms, sd: 5ms}}            # conditioned on >= 0 (resampled, not clipped)
    {empirical: {samples: [12ms, 15ms, 40ms]}} # resampled uniformly
    {empirical: {p50: 12ms, p90: 30ms, p99: 80ms}}
    {mixture: [{weight: 0.95, of: {...}}, {weight: 0.05, of: {...}}]}
    {shifted: {by: 2ms, of: {...}}}            # what ``d.shifted(0.002)`` writes back

One module per job:

* ``families`` -- the ``Distribution`` interface and its families (sampling, mean, quantile,
  CDF, scaling, the spec each writes back), and ``DistributionError``;
* ``spec`` -- ``parse_distribution``: the vocabulary above → a ``Distribution``, located errors;
* ``schema`` -- the JSON schema of the vocabulary and the pydantic field types the model uses.

Sampling one value at a time (the engine's way) is ``latsim.engine.sampling.sampler``.
"""

from latsim.distributions.families import (
    KINDS,
    Z99,
    Constant,
    Distribution,
    DistributionError,
    EmpiricalPercentiles,
    EmpiricalSamples,
    Exponential,
    Gamma,
    Kind,
    LogNormal,
    Mixture,
    Normal,
    Shifted,
    Uniform,
    Weibull,
)
from latsim.distributions.schema import (
    DistributionField,
    NumberDistributionField,
    SizeDistributionField,
    distribution_json_schema,
)
from latsim.distributions.spec import parse_distribution

__all__ = [
    "KINDS",
    "Z99",
    "Constant",
    "Distribution",
    "DistributionError",
    "DistributionField",
    "EmpiricalPercentiles",
    "EmpiricalSamples",
    "Exponential",
    "Gamma",
    "Kind",
    "LogNormal",
    "Mixture",
    "Normal",
    "NumberDistributionField",
    "Shifted",
    "SizeDistributionField",
    "Uniform",
    "Weibull",
    "distribution_json_schema",
    "parse_distribution",
]
