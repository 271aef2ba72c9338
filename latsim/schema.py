"""The JSON Schema of the scenario format, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from latsim.model.scenario import Scenario


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "latsim scenario"
    return schema
