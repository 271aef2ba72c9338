"""Shared fixtures: paths, loading helpers and the hypothesis profiles."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

#: The slow fuzz tests (``tests/test_fuzz_*.py``): 10 000 examples each, on top of the loaded profile
#: (so CI stays derandomized). ``LATSIM_FUZZ_EXAMPLES=500`` gives a quick local look.
FUZZ = settings(max_examples=int(os.environ.get("LATSIM_FUZZ_EXAMPLES", "10000")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example, HealthCheck.filter_too_much])


def load_yaml(path: Path) -> Any:
    from latsim.scenario import parse_document
    data, _ = parse_document(path.read_text(), str(path))
    return data


@pytest.fixture
def quickstart_data() -> dict[str, Any]:
    return load_yaml(ROOT / "scenarios" / "quickstart.yaml")


@pytest.fixture
def design_data() -> dict[str, Any]:
    return load_yaml(DATA / "design_example.yaml")


def problems_of(data: Any) -> list[Any]:
    """Validate plain data; return the error problems (empty if it validates)."""
    from latsim.errors import ScenarioError
    from latsim.scenario import scenario_from_data
    try:
        scenario_from_data(copy.deepcopy(data))
    except ScenarioError as exc:
        return exc.problems
    return []
