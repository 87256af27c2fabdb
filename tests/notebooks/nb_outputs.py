"""Read what an executed notebook showed: its printed text and its tables' plain text."""

from __future__ import annotations

from pathlib import Path

import nbformat


def texts(executed: Path) -> list[str]:
    """Every stream and text/plain output of the notebook, in order."""
    nb = nbformat.read(executed, as_version=4)
    out: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                out.append(output["text"])
            elif "data" in output:
                out.append(output["data"].get("text/plain", ""))
                out.append(output["data"].get("text/markdown", ""))
    return out


def joined(executed: Path) -> str:
    """All outputs as one text."""
    return "\n".join(texts(executed))


def last_line(executed: Path) -> str:
    """The last non-empty line printed by the last code cell."""
    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    lines = [ln for o in code[-1].get("outputs", []) if o.get("output_type") == "stream" for ln in o["text"].splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def assert_ran_clean(name: str, executed: Path) -> None:
    """What ``pytest --nbval-lax`` asserts of a notebook, read from one executed copy.

    Every code cell of the committed notebook ran, in order, without an error, and nothing
    was injected (a default run gets no parameters, so it is the notebook as a user opens it).
    """
    from s3forensics.reports import find_notebook

    committed = nbformat.read(find_notebook(name), as_version=4)
    ran_nb = nbformat.read(executed, as_version=4)
    sources = [c.source for c in committed.cells if c.cell_type == "code"]
    # The kernel skips an empty cell, as Jupyter does: only cells with code get a number.
    ran = [c for c in ran_nb.cells if c.cell_type == "code" and c.source.strip()]
    assert [c.source for c in ran] == [s for s in sources if s.strip()], f"{name}: the executed copy is not the committed notebook"
    assert len(ran_nb.cells) == len(committed.cells), f"{name}: cells were added (parameters injected?)"
    assert [c.execution_count for c in ran] == list(range(1, len(ran) + 1)), f"{name}: cells skipped or run out of order"
    errors = [(i, o.get("ename")) for i, c in enumerate(ran) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{name}: cells raised {errors}"
    assert all(c.metadata.get("papermill", {}).get("status") == "completed" for c in ran), f"{name}: a cell did not complete"
