"""latsim: a discrete-event simulator of Amazon VPC Lattice.

The public API: build or load a ``Scenario``, ``simulate`` it, ``explain`` a request.
"""

from __future__ import annotations

from typing import Any

from latsim.errors import LatsimError, ScenarioError
from latsim.model import Scenario

__version__ = "0.1.0"


def load(path: str, **overrides: Any) -> Scenario:
    """Read and validate a scenario file (YAML or JSON)."""
    from latsim.scenario import load_scenario
    return load_scenario(path, overrides=overrides or None)


def simulate(scn: Scenario, **kwargs: Any) -> Any:
    """Run a scenario; returns a ``latsim.results.Result``."""
    from latsim.engine import simulate as _simulate
    return _simulate(scn, **kwargs)


__all__ = ["LatsimError", "Scenario", "ScenarioError", "__version__", "load", "simulate"]
