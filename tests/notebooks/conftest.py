"""Each notebook runs once per session with its defaults, and one browser checks every chart.

A default run is the committed notebook executed as it stands (papermill injects nothing
when no parameter is given), on the demo account, the way `make demo` and a scheduled
job run it. Every test about a notebook's default behaviour reads that one run's executed
copy and HTML; tests that need other parameters run their own.

``make test`` spreads the suite over pytest-xdist workers file by file (``--dist loadfile``),
so the tests of one notebook's default run must live in one module: that module's worker
runs the notebook, once. :class:`DefaultRuns` refuses a second module asking for the same
notebook, which would run it again on the other worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, chromium

from s3forensics.reports import Report, list_notebooks, run_report

#: Every notebook the kit ships, by name.
NOTEBOOKS = tuple(path.stem for path in list_notebooks())


class DefaultRuns:
    """Notebook name -> its one default run this session (executed on first request)."""

    def __init__(self, account: object, out: Path) -> None:
        self._account = account
        self._out = out
        self._done: dict[str, Report] = {}
        self._cases: dict[str, list[Path]] = {}
        self._owner: dict[str, str] = {}

    def get(self, name: str, module: str) -> Report:
        """The default run of ``name``, asked for by test module ``module``."""
        if name not in NOTEBOOKS:
            raise KeyError(f"no notebook {name!r}; the kit has {NOTEBOOKS}")
        owner = self._owner.setdefault(name, module)
        if owner != module:
            raise AssertionError(
                f"the default run of {name} is read by {owner} and {module}: keep the tests of one "
                "notebook's default run in one module, or another xdist worker runs it again"
            )
        if name not in self._done:
            from s3forensics.config import home_dir

            cases = home_dir() / "cases"  # where CASE_DIR = "" (the default) puts case folders
            before = set(cases.iterdir()) if cases.is_dir() else set()
            self._account.ready()  # type: ignore[attr-defined]
            self._done[name] = run_report(name, {}, self._out / name)
            after = set(cases.iterdir()) if cases.is_dir() else set()
            self._cases[name] = sorted(p for p in after - before if p.is_dir())
        return self._done[name]

    def cases(self, name: str, module: str) -> list[Path]:
        """The case folders the default run of ``name`` wrote."""
        self.get(name, module)
        return self._cases[name]


class ModuleRuns:
    """The session's default runs as one test module sees them: ``default_runs[name]``."""

    def __init__(self, runs: DefaultRuns, module: str) -> None:
        self._runs = runs
        self._module = module

    def __getitem__(self, name: str) -> Report:
        return self._runs.get(name, self._module)

    def cases(self, name: str) -> list[Path]:
        return self._runs.cases(name, self._module)


@pytest.fixture(scope="session")
def session_default_runs(demo_account: object, tmp_path_factory: pytest.TempPathFactory) -> DefaultRuns:
    """The session's default run of each notebook (on this worker)."""
    return DefaultRuns(demo_account, tmp_path_factory.mktemp("default-runs"))


@pytest.fixture()
def default_runs(session_default_runs: DefaultRuns, request: pytest.FixtureRequest) -> ModuleRuns:
    """The default runs, for the requesting test's module."""
    return ModuleRuns(session_default_runs, request.module.__name__)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every chart check of the session (skips without chromium)."""
    instance = Browser(chromium())
    try:
        yield instance
    finally:
        instance.close()
