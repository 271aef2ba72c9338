"""Every third-party module latsim imports is a declared dependency: a core one, or one of the
extra that the feature needing it documents. scipy is core (confidence intervals of
``latsim sweep``/``compare`` and the gamma quantile need it), so a fresh ``pip install latsim``
computes them."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# import name -> the extra that installs it (imported lazily by the feature that needs it)
OPTIONAL = {"boto3": "aws", "botocore": "aws", "cfnlint": "cfn", "yaml": "cfn", "tfparse": "terraform", "dask": "dask",
            "distributed": "dask", "pandas": "export", "pyarrow": "export"}
# import name -> distribution name, where they differ
DISTRIBUTION = {"ruamel": "ruamel.yaml", "pydantic_core": "pydantic", "cfnlint": "cfn-lint", "yaml": "cfn-lint",
                "botocore": "boto3"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "latsim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "latsim"}


def test_every_module_latsim_imports_is_a_core_dependency_or_in_its_extra() -> None:
    project = _project()
    core = _names(project["dependencies"])
    extras = {name: _names(reqs) for name, reqs in project["optional-dependencies"].items()}
    for module in sorted(_third_party_imports()):
        dist = DISTRIBUTION.get(module, module).lower()
        if module in OPTIONAL:
            assert dist in extras[OPTIONAL[module]], f"{module}: not in the '{OPTIONAL[module]}' extra"
        else:
            assert dist in core, f"latsim imports {module} but {dist} is not a core dependency"


def test_scipy_is_a_core_dependency_and_gives_the_textbook_t_and_z_quantiles() -> None:
    assert "scipy" in _names(_project()["dependencies"])
    from latsim.studies.stats import t_quantile, z_quantile

    assert round(t_quantile(4), 4) == 2.7764 and round(t_quantile(29), 4) == 2.0452  # tables of Student's t
    assert round(z_quantile(), 4) == 1.9600
