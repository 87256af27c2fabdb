"""Every committed notebook runs top to bottom with its defaults, in a fresh kernel.

This is what ``pytest --nbval-lax`` asserts of a notebook (each code cell runs without an
error, in order), checked on the session's one default run of each notebook instead of a
second execution: with no parameters papermill injects nothing, so the run is the committed
notebook exactly as a user opens it.
"""

from __future__ import annotations

import nbformat
import pytest
from conftest import NOTEBOOKS

from s3forensics.reports import find_notebook

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def test_the_kit_ships_seven_notebooks() -> None:
    assert NOTEBOOKS == (
        "00_setup_audit",
        "01_anomaly_investigation",
        "02_playbook_unauthorized_access",
        "03_playbook_data_exfiltration",
        "04_periodic_report",
        "05_training_lab",
        "06_alarm_tuning",
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_code_cell_ran_in_order_without_error(default_runs, name: str) -> None:
    committed = nbformat.read(find_notebook(name), as_version=4)
    executed = nbformat.read(default_runs[name].executed, as_version=4)
    sources = [c.source for c in committed.cells if c.cell_type == "code"]
    # The kernel skips an empty cell, as Jupyter does: only cells with code get a number.
    ran = [c for c in executed.cells if c.cell_type == "code" and c.source.strip()]
    assert [c.source for c in ran] == [s for s in sources if s.strip()], f"{name}: the executed copy is not the committed notebook"
    assert len(executed.cells) == len(committed.cells), f"{name}: cells were added (parameters injected?)"
    assert [c.execution_count for c in ran] == list(range(1, len(ran) + 1)), f"{name}: cells skipped or run out of order"
    errors = [(i, o.get("ename")) for i, c in enumerate(ran) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{name}: cells raised {errors}"
    assert all(c.metadata.get("papermill", {}).get("status") == "completed" for c in ran)
