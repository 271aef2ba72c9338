"""`latsim schema`: the JSON Schema editors use; every bundled scenario validates against it."""

from __future__ import annotations

import json

import pytest

from latsim.schema import scenario_schema
from tests.conftest import DATA, ROOT, load_yaml


def test_committed_schema_is_current():
    committed = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    assert committed == json.loads(json.dumps(scenario_schema())), \
        "run `latsim schema -o docs/scenario.schema.json` after changing the model"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")) + [DATA / "design_example.yaml"],
                         ids=lambda p: p.name)
def test_bundled_scenarios_validate_against_the_schema(path):
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(json.dumps(load_yaml(path), default=str))
    jsonschema.validate(data, scenario_schema())


def test_schema_catches_a_typo():
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(json.dumps(load_yaml(ROOT / "scenarios" / "quickstart.yaml"), default=str))
    data["clients"][0]["timout"] = "2s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, scenario_schema())
