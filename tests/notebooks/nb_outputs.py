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
