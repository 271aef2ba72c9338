"""Random streams: the values are those of the numpy blocks, in order, and a barely used stream
stays small (thousands of targets and clients each hold several streams)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from latsim.distributions import parse_distribution
from latsim.engine.sampling import int_sampler, sampler
from latsim.streams import BLOCK, Streams


def test_draws_are_the_blocks_in_order() -> None:
    dist = parse_distribution({"normal": {"mean": "10ms", "sd": "8ms"}}, kind="duration")
    draw = sampler(dist, np.random.default_rng(7))
    got = [draw() for _ in range(2 * BLOCK + 300)]
    rng = np.random.default_rng(7)
    want = np.concatenate([dist.sample(rng, BLOCK) for _ in range(3)])[: len(got)].tolist()
    assert got == want and all(type(x) is float for x in got)
    u = Streams(3).uniform("client/a/mix")
    assert [u() for _ in range(BLOCK + 5)] == Streams(3).rng("client/a/mix").random(2 * BLOCK)[: BLOCK + 5].tolist()
    sizes = int_sampler(parse_distribution({"uniform": {"low": 100, "high": 5000}}, kind="size"),
                        np.random.default_rng(1))
    assert all(type(sizes()) is int for _ in range(1000))


INVARIANT_SPECS = [
    {"exponential": {"mean": "10ms"}},
    {"lognormal": {"median": "20ms", "sigma": 0.5}},
    {"lognormal": {"median": "1s", "sigma": 2.0}},
    {"gamma": {"mean": "20ms", "cv": 0.5}},
    {"gamma": {"mean": "20ms", "cv": 3.0}},  # shape < 1: another algorithm
    {"weibull": {"scale": "10ms", "shape": 0.7}},
    {"uniform": {"low": "1ms", "high": "9ms"}},
    {"empirical": {"p50": "10ms", "p90": "30ms", "p99": "80ms"}},
]


@pytest.mark.parametrize("spec", INVARIANT_SPECS, ids=lambda s: next(iter(s)))
def test_block_invariant_distributions_give_the_same_values_in_any_blocks(spec: dict) -> None:
    """What ``block_invariant`` claims, checked: growing blocks give the values of one block."""
    for dist in (parse_distribution(spec, kind="duration"),
                 parse_distribution(spec, kind="duration") + 0.005):
        assert dist.block_invariant
        whole = dist.sample(np.random.default_rng(11), 64 + 128 + 256 + 5 * BLOCK)
        rng = np.random.default_rng(11)
        parts = np.concatenate([dist.sample(rng, n) for n in (64, 128, 256, BLOCK, BLOCK, 2 * BLOCK, BLOCK)])
        assert np.array_equal(whole, parts)
        draw = sampler(dist, np.random.default_rng(11))
        assert [draw() for _ in range(3 * BLOCK)] == whole[: 3 * BLOCK].tolist()


def test_block_dependent_distributions_are_not_claimed_invariant() -> None:
    for spec in ({"normal": {"mean": "10ms", "sd": "8ms"}}, {"empirical": {"samples": ["1ms", "2ms", "3ms"]}},
                 {"mixture": [{"weight": 0.5, "of": {"constant": "1ms"}},
                              {"weight": 0.5, "of": {"exponential": {"mean": "5ms"}}}]}):
        assert not parse_distribution(spec, kind="duration").block_invariant


def test_a_barely_used_stream_holds_one_block_not_a_list_of_floats() -> None:
    dist = parse_distribution({"lognormal": {"median": "20ms", "sigma": 0.5}}, kind="duration")
    streams = Streams(1)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    draws = [sampler(dist, streams.rng(f"target/t{i}/service")) for i in range(200)]
    for d in draws:
        d()
    per_stream = (tracemalloc.get_traced_memory()[0] - before) / 200
    tracemalloc.stop()
    # a first block of 64 values, its Python floats and the generator; a whole block as a list of
    # Python floats would be about 130 KB
    assert per_stream < 10_000, per_stream


def test_every_kind_of_block_gives_python_numbers_in_order() -> None:
    """Doubles and 64-bit ints are read through typed arrays, other blocks (float32, objects: byte
    counts beyond 2**62) as lists: every kind gives the blocks' values in order, as Python numbers
    of the type ``tolist`` gives, across block boundaries."""
    from latsim.streams import draws
    kinds = {
        "float64": lambda n: np.linspace(0.1, 0.2, n),
        "int64": lambda n: np.arange(n, dtype=np.int64) - 3,
        "float32": lambda n: np.linspace(0.1, 0.2, n, dtype=np.float32),
        "object": lambda n: np.array([2**70 + i for i in range(n)], dtype=object),
        "big-endian": lambda n: np.linspace(0.1, 0.2, n).astype(">f8"),
    }
    for name, fill in kinds.items():
        for grow in (False, True):
            sizes = [64, 128, 256, 512, 1024, 1024] if grow else [BLOCK, BLOCK]
            want = [x for n in sizes for x in fill(n).tolist()][: sum(sizes) - 10]
            draw = draws(fill, grow=grow)
            got = [draw() for _ in want]
            assert got == want, (name, grow)
            assert [type(x) for x in got] == [type(x) for x in want], (name, grow)
