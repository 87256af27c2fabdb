"""Every committed notebook's default run is checked, by exactly one test module.

Each notebook module checks its own default run with :func:`nb_outputs.assert_ran_clean`
(what ``pytest --nbval-lax`` asserts: each code cell ran in order without an error), on the
session's one run of it. This module checks that none is left out and that no notebook is
read by two modules (which would run it twice under ``make test``'s file-by-file workers).
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import NOTEBOOKS

HERE = Path(__file__).parent


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


def _default_runs_read(text: str) -> set[str]:
    """Notebook names a test module reads the default run of (``default_runs[...]``)."""
    return {_name(ref, text) for ref in re.findall(r"default_runs(?:\[|\.cases\()\s*(\"\w+\"|\w+)", text)}


def _name(ref: str, text: str) -> str:
    """A notebook name written as a literal or as a module constant (``NOTEBOOK = "02_..."``)."""
    if ref.startswith('"'):
        return ref.strip('"')
    constants = dict(re.findall(r'^(\w+) = "(\d\d_\w+)"$', text, flags=re.M))
    return constants.get(ref, ref)


def test_each_default_run_is_read_and_checked_by_one_module() -> None:
    readers: dict[str, list[str]] = {name: [] for name in NOTEBOOKS}
    checked: dict[str, list[str]] = {name: [] for name in NOTEBOOKS}
    for path in sorted(HERE.glob("test_*.py")):
        text = path.read_text()
        for name in _default_runs_read(text):
            assert name in readers, f"{path.name} reads the default run of unknown notebook {name!r}"
            readers[name].append(path.name)
        for ref in re.findall(r"assert_ran_clean\(\s*(\"\w+\"|\w+)", text):
            checked[_name(ref, text)].append(path.name)
    assert {name: len(mods) for name, mods in readers.items()} == dict.fromkeys(NOTEBOOKS, 1), readers
    assert checked == readers, "the module that reads a notebook's default run checks that it ran clean"
