"""Random streams: the values are those of the numpy blocks, in order, and a barely used stream
stays small (thousands of targets and clients each hold several streams)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from latsim.distributions import parse_distribution
from latsim.engine.sampling import int_sampler, sampler
from latsim.engine.streams import BLOCK, Streams


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
    # a numpy block (32 KB) and one piece of Python floats; a whole block as a list of Python
    # floats would be about 130 KB
    assert per_stream < 60_000, per_stream
