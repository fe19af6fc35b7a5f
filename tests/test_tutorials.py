"""Every tutorial notebook runs top to bottom under the suite's backend."""

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

TUTORIALS = pathlib.Path(__file__).resolve().parent.parent / "tutorials"
NOTEBOOKS = sorted(p.name for p in TUTORIALS.glob("*.ipynb"))


def test_there_are_tutorials():
    assert NOTEBOOKS, f"no notebooks in {TUTORIALS}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, backend, monkeypatch):
    # The kernel inherits the environment: it runs under the suite's backend.
    monkeypatch.setenv("KERAS_BACKEND", backend)
    notebook = nbformat.read(TUTORIALS / name, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{name} is committed with outputs; clear them"
    )
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(TUTORIALS)}}
    )
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    errors = [
        out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"
    ]
    assert not errors
    backend_lines = [
        out.get("text", "") for out in notebook.cells[1].outputs if out.output_type == "stream"
    ]
    assert f"on {backend}" in "".join(backend_lines)
