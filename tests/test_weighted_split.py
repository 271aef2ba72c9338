"""The weighted split, a block at a time, is the per-request law of ``ActionState.pick``.

``ActionState.pick`` is the one function that decides a rule's target group for a uniform
draw; ``pick_many`` must give exactly ``[pick(u) for u in us]``, and ``WeightedSplit`` (what the
engine calls per request) must give, through any sequence of weight changes, exactly what
drawing one uniform per request and calling ``pick`` gives — drawing nothing while the action
has a single target group, as the engine always has.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from latsim.compile import ActionState
from latsim.engine.sampling import END, Leg, WeightedSplit
from latsim.model.service import Action
from latsim.streams import BLOCK

names = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=5, unique=True)
weight = st.integers(min_value=0, max_value=999)
unit = st.one_of(st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
                 st.sampled_from([0.0, 0.5, 1.0 - 2.0**-53, 2.0**-60]))


def action_of(ws: dict[str, int], policy: str) -> ActionState:
    fwd = [{"target_group": n, "weight": w} for n, w in ws.items()]
    return ActionState("svc/http/r", Action.model_validate({"forward": fwd}), policy)


@settings(max_examples=300, deadline=None)
@given(names.flatmap(lambda ns: st.fixed_dictionaries({n: weight for n in ns})),
       st.sampled_from(["fixed_500", "equal_split"]), st.lists(unit, min_size=1, max_size=50))
def test_pick_many_is_pick(ws: dict[str, int], policy: str, us: list[float]) -> None:
    a = action_of(ws, policy)
    assert a.pick_many(np.asarray(us)) == [a.pick(u) for u in us]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), weight, min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(min_value=0, max_value=3 * BLOCK),
                          st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), weight, min_size=1, max_size=2)),
                max_size=6),
       st.sampled_from(["fixed_500", "equal_split"]), st.integers(min_value=0, max_value=2**32))
def test_weighted_split_is_one_pick_per_request(start: dict[str, int], changes: list[tuple[int, dict[str, int]]],
                                                policy: str, seed: int) -> None:
    n = 2 * BLOCK + 100
    at = {}
    for i, ws in changes:
        at.setdefault(i, []).append(ws)
    # the reference: one uniform per request while the action has several groups, pick() on it
    ref_action = action_of(start, policy)
    uniforms = iter(np.random.default_rng(seed).random(4 * BLOCK).tolist())
    expected = []
    for i in range(n):
        for ws in at.get(i, []):
            ref_action.set_weights(ws)
        expected.append(ref_action.pick(next(uniforms)) if len(ref_action.names) > 1 else ref_action.pick(0.0))
    # the engine's way
    action = action_of(start, policy)
    legs: dict[str, Leg] = {}
    split = WeightedSplit(action, np.random.default_rng(seed), lambda name: legs.setdefault(name, Leg(name, None)))
    got = []
    for i in range(n):
        for ws in at.get(i, []):
            action.set_weights(ws)
        choice = split.next()
        if choice is END:
            choice = split.refill()
        got.append(None if choice is None else choice.name)
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(names.flatmap(lambda ns: st.fixed_dictionaries({n: weight for n in ns})),
       st.sampled_from(["fixed_500", "equal_split"]))
def test_pick_over_an_even_grid_gives_each_group_its_weight_share(ws: dict[str, int], policy: str) -> None:
    """The oracle is the weights alone: over N evenly spaced uniforms, a group with weight w gets
    N·w/W of them, to within one (the grid's rounding at each of the group's two boundaries).
    A reversed, shifted or renormalised split fails this; so does dropping a group."""
    a = action_of(ws, policy)
    n = 10_007
    grid = (np.arange(n) + 0.5) / n
    got: dict[str | None, int] = {}
    for name in a.pick_many(grid):
        got[name] = got.get(name, 0) + 1
    total = sum(ws.values())
    if total == 0:
        expected = {None: float(n)} if policy == "fixed_500" else {g: n / len(ws) for g in ws}
    else:
        expected = {g: n * w / total for g, w in ws.items() if w > 0}
    assert set(got) == set(expected)
    for g, share in expected.items():
        assert abs(got[g] - share) <= 1.0, (g, got[g], share)
