"""Mutated scenarios give a located LatsimError or a valid model, never another exception."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from latsim.errors import LatsimError, ScenarioError
from latsim.scenario import scenario_from_data
from tests.conftest import ROOT, load_yaml

BASE = load_yaml(ROOT / "scenarios" / "quickstart.yaml")
DESIGN = load_yaml(ROOT / "tests" / "data" / "design_example.yaml")


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, prefix + (i,))
    return out


def get(node: Any, path: tuple) -> Any:
    for k in path:
        node = node[k]
    return node


WEIRD = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                  st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
                  st.sampled_from(["250ms", "-5s", "1e400", "10.0.0.0/8", "checkout", "nan", "x" * 300, "300/s",
                                   "0.1%", "vpc-lattice", "AWS_IAM", "HTTPS", "use1-az3"]))


@st.composite
def mutated(draw: Any) -> dict[str, Any]:
    base = copy.deepcopy(draw(st.sampled_from([BASE, DESIGN])))
    for _ in range(draw(st.integers(1, 4))):
        all_paths = [p for p in paths(base) if p]
        path = draw(st.sampled_from(all_paths))
        parent = get(base, path[:-1])
        op = draw(st.sampled_from(["drop", "rename", "retype", "duplicate"]))
        key = path[-1]
        if op == "drop":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[key + draw(st.sampled_from(["x", "_", "s"]))] = parent.pop(key)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = draw(WEIRD)
    return base


@settings(max_examples=150)
@given(mutated())
def test_mutated_scenarios_fail_with_located_errors(data):
    try:
        scenario_from_data(data)
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError carries at least one problem"
        for p in exc.problems:
            assert p.message
            assert p.location.path or p.location.keys == () or p.location.line is not None
    except LatsimError as exc:
        assert str(exc)
