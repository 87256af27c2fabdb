"""Each notebook is paired with its py:percent text form, and the two say the same thing."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.strip(), tuple(c.get("metadata", {}).get("tags", ()))) for c in nb.cells]


def test_there_are_notebooks() -> None:
    assert PAIRS, f"no notebooks in {NOTEBOOKS}"


@pytest.mark.parametrize("ipynb", PAIRS, ids=lambda p: p.stem)
def test_pair_in_sync(ipynb: Path) -> None:
    script = ipynb.with_suffix(".py")
    assert script.exists(), f"{ipynb.name} has no paired {script.name} (run: jupytext --sync {ipynb})"
    assert _cells(nbformat.read(ipynb, as_version=4)) == _cells(jupytext.read(script)), (
        f"{ipynb.name} and {script.name} differ: run `jupytext --sync notebooks/*.ipynb`"
    )


@pytest.mark.parametrize("ipynb", PAIRS, ids=lambda p: p.stem)
def test_committed_without_outputs(ipynb: Path) -> None:
    nb = nbformat.read(ipynb, as_version=4)
    noisy = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not noisy, f"{ipynb.name}: cells {noisy} carry outputs; clear them before committing"


@pytest.mark.parametrize("ipynb", PAIRS, ids=lambda p: p.stem)
def test_thin_notebook(ipynb: Path) -> None:
    nb = nbformat.read(ipynb, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for banned in ("def ", "class ", "import boto3", "boto3.", "SELECT "):
        assert banned not in code, f"{ipynb.name} contains {banned.strip()!r}: move that into the library"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", ())]
    assert len(tagged) == 1, f"{ipynb.name} needs exactly one cell tagged 'parameters'"


@pytest.mark.parametrize("ipynb", PAIRS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(ipynb: Path) -> None:
    import ast

    import papermill

    nb = nbformat.read(ipynb, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", ()))
    assigned = [t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets]
    declared = papermill.inspect_notebook(str(ipynb))
    assert sorted(declared) == sorted(assigned), "papermill could not parse some parameter lines (quotes in comments?)"
    undocumented = [name for name, info in declared.items() if not info.get("help")]
    assert not undocumented, f"parameters without a comment saying what they are: {undocumented}"
