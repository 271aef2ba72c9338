"""The engine: SimPy event loop, request lifecycle, targets, health checks, timeline."""

from __future__ import annotations

from typing import Any

from latsim.model.scenario import Scenario


def simulate(scn: Scenario, **kwargs: Any) -> Any:
    """Run one scenario and return its ``latsim.results.Result``."""
    from latsim.engine.simulation import Simulation
    return Simulation(scn, **kwargs).run()


__all__ = ["simulate"]
