"""The Scenario: the root of the model, tying every noun together, with lookups by name."""

from __future__ import annotations

from pydantic import ValidationInfo, model_validator

from latsim.model.scenario_fields import AccessLogs, Assumptions, ScenarioFields, ScenarioIndex
from latsim.model.validate import check_scenario


class Scenario(ScenarioFields):
    """A whole scenario: topology, workload, timeline, objectives. Immutable once validated."""

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo) -> Scenario:
        ctx = info.context or {}
        if not ctx.get("skip_semantics"):
            check_scenario(self, broken=ctx.get("broken", {}))
        return self


__all__ = ["AccessLogs", "Assumptions", "Scenario", "ScenarioFields", "ScenarioIndex"]
