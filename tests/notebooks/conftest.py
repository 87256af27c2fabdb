"""Each notebook runs once per session with its defaults, and one browser checks every chart.

A default run is the committed notebook executed as it stands (papermill injects nothing
when no parameter is given), on the demo account, the way `make demo` and a scheduled
job run it. Every test about a notebook's default behaviour reads that one run's executed
copy and HTML; tests that need other parameters run their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, chromium

from s3forensics.reports import Report, list_notebooks, run_report

#: Every notebook the kit ships, by name.
NOTEBOOKS = tuple(path.stem for path in list_notebooks())

#: Under ``make test`` (pytest-xdist, two workers) every test that reads a notebook's runs
#: stays in that notebook's group, so a default run executes on one worker only. Two groups
#: of about equal execution time: each notebook module's runs, measured on this machine.
_GROUPS = {
    "00_setup_audit": "notebooks-a",
    "01_anomaly_investigation": "notebooks-a",
    "04_periodic_report": "notebooks-a",
    "06_alarm_tuning": "notebooks-a",
    "02_playbook_unauthorized_access": "notebooks-b",
    "03_playbook_data_exfiltration": "notebooks-b",
    "05_training_lab": "notebooks-b",
}
_MODULE_NOTEBOOKS = {
    "test_nb_00_setup_audit": "00_setup_audit",
    "test_nb_02_playbook_unauthorized_access": "02_playbook_unauthorized_access",
    "test_nb_03_playbook_data_exfiltration": "03_playbook_data_exfiltration",
    "test_nb_05_training_lab": "05_training_lab",
    "test_nb_06_alarm_tuning": "06_alarm_tuning",
    "test_nb_investigation_and_report": "01_anomaly_investigation",
    "test_reports": "01_anomaly_investigation",
}


def notebook_group(name: str) -> str:
    """The xdist group of the tests about notebook ``name``."""
    return _GROUPS[name]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put each test of a notebook into that notebook's xdist group."""
    assert set(_GROUPS) == set(NOTEBOOKS), f"every notebook needs a group: {sorted(set(NOTEBOOKS) ^ set(_GROUPS))}"
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""
        name = _MODULE_NOTEBOOKS.get(module)
        if module == "test_default_runs" and hasattr(item, "callspec"):
            name = item.callspec.params.get("name")
        if name:
            item.add_marker(pytest.mark.xdist_group(notebook_group(name)))


class DefaultRuns:
    """Notebook name -> its one default run this session (executed on first request)."""

    def __init__(self, account: object, out: Path) -> None:
        self._account = account
        self._out = out
        self._done: dict[str, Report] = {}
        self._cases: dict[str, list[Path]] = {}

    def __getitem__(self, name: str) -> Report:
        if name not in NOTEBOOKS:
            raise KeyError(f"no notebook {name!r}; the kit has {NOTEBOOKS}")
        if name not in self._done:
            from s3forensics.config import home_dir

            cases = home_dir() / "cases"  # where CASE_DIR = "" (the default) puts case folders
            before = set(cases.iterdir()) if cases.is_dir() else set()
            self._account.ready()  # type: ignore[attr-defined]
            self._done[name] = run_report(name, {}, self._out / name)
            after = set(cases.iterdir()) if cases.is_dir() else set()
            self._cases[name] = sorted(p for p in after - before if p.is_dir())
        return self._done[name]

    def cases(self, name: str) -> list[Path]:
        """The case folders the default run of ``name`` wrote."""
        self[name]
        return self._cases[name]


@pytest.fixture(scope="session")
def default_runs(demo_account: object, tmp_path_factory: pytest.TempPathFactory) -> DefaultRuns:
    """The session's default run of each notebook."""
    return DefaultRuns(demo_account, tmp_path_factory.mktemp("default-runs"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every chart check of the session (skips without chromium)."""
    instance = Browser(chromium())
    try:
        yield instance
    finally:
        instance.close()
