"""latsim's modules import each other without a circle: module-level, function-level and
``TYPE_CHECKING`` imports alike, and also between layers (subpackages and top-level modules).

The graph is read from the source with ``ast`` (``tools/import_graph.py``), so a circle that
only a rarely-run function closes is caught as surely as one at import time."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import import_graph as ig  # noqa: E402


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / "pkg" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


# Circles that exist today, each with where it comes from. The tests below fail on any circle not
# listed here and on a listed one that is gone (delete its entry then): the list can only shrink.
KNOWN_MODULE_CIRCLES = {
    ("latsim.engine.calls", "latsim.engine.simulation", "latsim.results"):
        "call graphs: engine/calls.py needs simulation's Request, ClientState and ClientStats, and "
        "results.edge_summaries needs ClientStats; moving those classes below simulation.py ends it",
}
KNOWN_LAYER_CIRCLES = {
    ("latsim.engine", "latsim.metrics", "latsim.results"):
        "metrics/traces.py imports results.request_labels (writing traces is a results-level job) and "
        "results.edge_summaries imports engine.simulation.ClientStats",
}


def _check(found: list[list[str]], known: dict[tuple[str, ...], str]) -> None:
    found_set = {tuple(c) for c in found}
    new = found_set - set(known)
    assert not new, "new import circle(s): " + "; ".join(" <-> ".join(c) for c in sorted(new))
    gone = set(known) - found_set
    assert not gone, "circle(s) gone, delete them from the known list: " + "; ".join(map(str, sorted(gone)))


def test_latsim_has_no_new_import_circle_between_modules() -> None:
    _check(ig.circles(ig.graph()), KNOWN_MODULE_CIRCLES)


def test_latsim_has_no_new_import_circle_between_layers() -> None:
    _check(ig.circles(ig.layer_graph(ig.graph())), KNOWN_LAYER_CIRCLES)


def test_the_check_names_a_new_circle_and_a_vanished_one() -> None:
    with pytest.raises(AssertionError, match=r"new import circle\(s\): a <-> b"):
        _check([["a", "b"]], {})
    with pytest.raises(AssertionError, match="gone"):
        _check([], {("a", "b"): "why"})


def test_the_committed_picture_of_the_layers_is_the_code_s() -> None:
    committed = (ROOT / "docs" / "import-graph.dot").read_text(encoding="utf-8")
    assert committed == ig.to_dot(ig.layer_graph(ig.graph())), \
        "the layers' imports changed: run `make import-graph` and commit docs/import-graph.*"


def test_every_module_parses_and_the_graph_sees_them_all() -> None:
    mods = ig.modules()
    assert len(mods) > 50 and "latsim.engine.simulation" in mods and "latsim" in mods
    for path in mods.values():
        ast.parse(path.read_text(encoding="utf-8"))


def test_a_circle_closed_by_a_function_level_import_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.b import thing\n",
        "b.py": "def thing():\n    from pkg import a\n    return a\n",
    })
    assert ig.circles(ig.graph(root, "pkg")) == [["pkg.a", "pkg.b"]]


def test_a_circle_through_type_checking_and_relative_imports_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "",
        "sub/__init__.py": "",
        "sub/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..y import Y\n",
        "y.py": "import pkg.sub.x\n",
    })
    assert ig.circles(ig.graph(root, "pkg")) == [["pkg.sub.x", "pkg.y"]]


def test_a_package_reexporting_its_modules_is_no_circle(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "__init__.py": "",
        "d/__init__.py": "from pkg.d.fam import F\nfrom pkg.d.spec import parse\n",
        "d/fam.py": "class F: ...\n",
        "d/spec.py": "from pkg.d.fam import F\ndef parse(): return F()\n",
    })
    g = ig.graph(root, "pkg")
    assert g["pkg.d"] == {"pkg.d.fam", "pkg.d.spec"} and ig.circles(g) == []


def test_two_layers_importing_each_other_through_different_modules_is_a_circle() -> None:
    g = {"pkg.low.a": {"pkg.high"}, "pkg.high": {"pkg.low.b"}, "pkg.low.b": set()}
    assert ig.circles(g) == []  # no circle between modules ...
    assert ig.circles(ig.layer_graph(g, "pkg")) == [["pkg.high", "pkg.low"]]  # ... but between layers


def test_only_the_entry_points_import_the_cli_and_the_cli_package_registers_every_command() -> None:
    """The CLI sits on top: no library module imports ``latsim.cli`` (a command module that a lower
    layer imported to register itself would put it below them), and the sub-commands are the ones
    ``latsim.cli`` registers, each module of the package imported by it."""
    g = ig.graph()
    importers_of_cli = sorted(m for m, deps in g.items() if not m.startswith("latsim.cli")
                              and any(d == "latsim.cli" or d.startswith("latsim.cli.") for d in deps))
    assert importers_of_cli == ["latsim.__main__"]
    command_modules = {m for m in g if m.startswith("latsim.cli.") and m not in ("latsim.cli.common",
                                                                                  "latsim.cli.__main__")}
    assert command_modules <= g["latsim.cli"]
    assert command_modules == {f"latsim.cli.{n}" for n in ("analysis", "importers", "new", "report", "run",
                                                          "scenario", "studies")}
