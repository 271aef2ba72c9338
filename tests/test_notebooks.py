"""The teaching notebooks: committed without outputs, and each runs from top to bottom without an
error and draws at least one figure.

Each notebook is executed by nbclient in the ``python3`` kernel; jupyter_client starts that kernel
with the interpreter running the tests (the venv's), so the notebooks see this checkout of latsim.
The kernel's working directory is a fresh temporary directory: a notebook that read or wrote a file
relative to the repository would fail here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = ["01-first-topology", "02-routing-and-canaries", "03-auth-and-zero-trust", "04-capacity-what-if",
            "05-failures-and-resilience", "06-why-lattice", "07-call-graphs"]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def test_the_teaching_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = _read(path)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_explains_in_prose_between_code_cells(path):
    nb = _read(path)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds[0] == "markdown", f"{path.name} should open with a markdown introduction"
    assert kinds.count("markdown") >= kinds.count("code") / 2, f"{path.name}: too little prose for a tutorial"


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_draws_a_figure(path, tmp_path):
    nb = _read(path)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    errors = [out for out in outputs if out.get("output_type") == "error"]
    assert not errors, f"{path.name}: {[(e['ename'], e['evalue']) for e in errors]}"
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert images, f"{path.name} drew no figure (no image/png output)"
