"""Shared fixtures: paths, loading helpers and the hypothesis profiles."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Profiles (``HYPOTHESIS_PROFILE``; ``CI=true`` selects ``ci``): ``default`` for a developer's run,
# ``ci`` the same size but derandomized (a CI failure reproduces), ``long`` for a night run that looks
# much further (randomized, 10x the property examples, 20x the fuzz examples).
_BASE = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=100, **_BASE)
settings.register_profile("ci", max_examples=100, derandomize=True, **_BASE)
settings.register_profile("long", max_examples=1000, **_BASE)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
settings.load_profile(PROFILE)

#: The slow fuzz tests (``tests/test_fuzz_*.py``), on top of the loaded profile (so CI stays
#: derandomized): 1 000 examples each under ``default`` and ``ci`` (about a minute of the suite on
#: two workers), 20 000 under ``long``; ``LATSIM_FUZZ_EXAMPLES=N`` overrides both.
FUZZ_EXAMPLES = int(os.environ.get("LATSIM_FUZZ_EXAMPLES", "20000" if PROFILE == "long" else "1000"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example, HealthCheck.filter_too_much])
#: Fuzzers whose examples go through ruamel.yaml's pure-Python reader (Gateway API manifests and
#: saved AWS CLI outputs, 25-50 ms an example): a quarter of the examples.
FUZZ_SLOW_READER = settings(FUZZ, max_examples=max(1, FUZZ_EXAMPLES // 4))


def default_sigint() -> None:
    """In the child, before exec: Ctrl-C back to its default. pytest-xdist workers ignore SIGINT and
    children inherit that, so Python would never raise KeyboardInterrupt and the run would go on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


def _engine_compiled() -> list[str]:
    from latsim import native
    return native.compiled()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked ``pure`` replace functions or methods of the engine's hot modules (a monkeypatch):
    where those are compiled (latsim/native.py) the compiled code calls its own functions directly,
    so such a test would check nothing. They are skipped then; `make test` runs them in its second,
    pure-Python pass (``LATSIM_NATIVE=0``)."""
    pure = [item for item in items if item.get_closest_marker("pure") is not None]
    if pure and _engine_compiled():
        skip = pytest.mark.skip(reason="replaces a compiled engine function: run with LATSIM_NATIVE=0 (make test does)")
        for item in pure:
            item.add_marker(skip)

