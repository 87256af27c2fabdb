"""How the kit installs: one lock (requirements.lock) for the whole environment, used by
``make install`` (uv, or pip) and by conda's environment.yml alike, and the console command."""

from __future__ import annotations

import ensurepip
import re
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"

#: A pin line of the lock (``uv pip compile --universal --generate-hashes``): ``name==version``,
#: an optional environment marker after `` ; ``, and the continuation backslash.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==(\S+?)(?:\s*;\s*(.+?))?\s*\\$")


def _lock_entries() -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker, hashes) for every package of the lock, in file order."""
    entries: list[tuple[str, str, str | None, list[str]]] = []
    for number, raw in enumerate(LOCK.read_text().splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace():
            hashed = re.fullmatch(r"\s+--hash=(sha256:[0-9a-f]{64})\s*\\?", raw)
            assert hashed and entries, f"requirements.lock line {number}: {raw!r} is not a hash of a pin above"
            entries[-1][3].append(hashed.group(1))
            continue
        match = _PIN.match(raw)
        assert match, f"requirements.lock line {number}: {raw!r} is not 'name==version [; marker] \\'"
        entries.append((canonicalize_name(match.group(1)), match.group(2), match.group(3), []))
    return entries


def _locked_here() -> dict[str, str]:
    """The lock's pins whose marker holds for this interpreter and platform."""
    return {name: version for name, version, marker, _ in _lock_entries() if marker is None or Marker(marker).evaluate()}


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [s for extra in project["optional-dependencies"].values() for s in extra]
    pins: dict[str, str] = {}
    for spec in specs:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?==([^\s;]+)", spec)
        assert match, f"pyproject.toml dependency {spec!r} is not an exact pin (name==version)"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_lock_pins_every_package_once_with_hashes() -> None:
    entries = _lock_entries()
    assert len(entries) > 100, "the lock holds the transitive packages too, not only the direct pins"
    for name, version, _, hashes in entries:
        assert hashes, f"requirements.lock: {name}=={version} has no --hash"
    # One version per package, except where the lock forks on disjoint markers (3.11 / 3.12+).
    unconditioned = [name for name, _, marker, _ in entries if marker is None]
    assert len(unconditioned) == len(set(unconditioned)), "a package pinned twice without markers"


def test_lock_holds_pyproject_pins() -> None:
    """The lock was made from pyproject.toml as it is now (run `make lock` after editing it)."""
    locked = _locked_here()
    for name, pinned in _pyproject_pins().items():
        assert locked.get(name) == pinned, f"{name}: pyproject.toml pins {pinned}, requirements.lock has {locked.get(name)}"


def test_installed_environment_is_the_lock() -> None:
    """Every installed distribution is the locked one, at the locked version, and nothing else is
    installed but the project (editable) and the pip that ``python -m venv`` puts in every venv."""
    locked = _locked_here()
    installed: dict[str, str] = {}
    for dist in distributions():
        name = canonicalize_name(dist.metadata["Name"])
        assert name not in installed or installed[name] == dist.version, f"{name} installed twice"
        installed[name] = dist.version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert installed.pop(canonicalize_name(project["name"]), None) == project["version"]
    if "pip" not in locked and "pip" in installed:
        assert installed.pop("pip") == ensurepip.version(), "pip is not the one the venv was created with"
    missing = {name: version for name, version in locked.items() if name not in installed}
    extra = {name: version for name, version in installed.items() if name not in locked}
    wrong = {name: (installed[name], version) for name, version in locked.items() if installed.get(name, version) != version}
    assert not missing and not extra and not wrong, (
        f"the environment differs from requirements.lock (run `make install`): missing {missing}, "
        f"not in the lock {extra}, installed vs locked {wrong}"
    )


def test_environment_yml_installs_the_lock() -> None:
    """conda provides Python and pip; pip installs the lock itself, hashes checked."""
    text = (ROOT / "environment.yml").read_text()
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    lines = [line.strip() for line in lines if line.strip()]
    deps = lines[lines.index("dependencies:") + 1 :]
    assert deps == ["- python=3.11", "- pip", "- pip:", "- --require-hashes", "- -r requirements.lock"]


def test_makefile_installs_the_lock_and_the_project_without_dependencies() -> None:
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK\s*:=\s*requirements\.lock$", text, re.M)
    assert "uv pip sync" in text and "--require-hashes --compile-bytecode $(LOCK)" in text
    assert "--require-hashes -r $(LOCK)" in text  # the pip fallback installs the same file
    assert text.count("--no-deps --no-build-isolation -e .") == 2
    assert re.search(r"^test-future:.*\n\tfaketime -f ", text, re.M)


def test_installed_modules_come_with_their_bytecode() -> None:
    """make install compiles every module (uv --compile-bytecode, pip by default, compileall for
    the kit): with PYTHONDONTWRITEBYTECODE set, nothing would write it later, and every kernel
    and worker would compile pandas, plotly and the rest from source again."""
    import importlib.util

    import pandas
    import plotly.io._renderers
    import pyarrow

    import s3forensics.investigation

    for module in (pandas, plotly.io._renderers, pyarrow, s3forensics.investigation):
        cached = Path(importlib.util.cache_from_source(module.__file__))
        assert cached.is_file(), f"{module.__name__} has no bytecode at {cached}: run make install again"


def test_python_requirement() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert project["scripts"]["s3forensics"] == "s3forensics.cli:main"


def test_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    assert "make demo" in first_block and "make test" in first_block


def test_ci_runs_lint_then_make_test_and_the_year_ahead() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^make [\w-]+$", ci, re.M)
    assert commands == ["make lint", "make test", "make test-future"]
    assert "faketime" in ci and "chromium" in ci


def test_duckdb_run_does_not_import_aws_sdks() -> None:
    code = (
        "import sys, s3forensics.cli, s3forensics.config, s3forensics.schema, s3forensics.lab.sandbox;"
        "s3forensics.cli.build_parser();"
        "bad = [m for m in ('boto3', 'botocore', 'pyathena') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"


@pytest.mark.parametrize("command", [["--help"], ["sandbox", "--help"], ["report", "--help"]])
def test_console_command_runs(command: list[str]) -> None:
    exe = Path(sys.executable).with_name("s3forensics")
    out = subprocess.run([str(exe), *command], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "usage: s3forensics" in out.stdout


def test_every_command_module_registers_its_commands() -> None:
    from s3forensics.cli import COMMANDS, build_parser

    parser = build_parser("*")
    choices = parser._subparsers._group_actions[0].choices
    for name in COMMANDS:
        assert choices[name].add_help, f"{name} is listed but its module did not register it"


def test_light_commands_do_not_import_pandas() -> None:
    code = (
        "import sys; from s3forensics.cli import build_parser; build_parser('sandbox');"
        "print(','.join(m for m in ('pandas', 'duckdb', 'sqlglot', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
