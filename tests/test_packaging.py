"""The two ways to install (pip/uv from pyproject.toml, conda from environment.yml) agree."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"duckdb": "python-duckdb"}
#: conda-forge packages that stand for a PyPI extra (moto[server] pulls in flask and
#: flask-cors); they are listed without a pin, as the extra itself is.
EXTRA_PACKAGES = {"flask", "flask-cors"}


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [s for extra in project["optional-dependencies"].values() for s in extra]
    pins: dict[str, str] = {}
    for spec in specs:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?==([^\s;]+)", spec)
        assert match, f"pyproject.toml dependency {spec!r} is not an exact pin (name==version)"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def _environment_pins() -> tuple[dict[str, str], set[str], str | None]:
    pins: dict[str, str] = {}
    unpinned: set[str] = set()
    python = None
    in_deps = False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        if not in_deps or not line.strip():
            continue
        match = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)(?:=([^\s=]+))?", line)
        assert match, f"environment.yml line {raw!r} is not 'name' or 'name=version'"
        name, version = match.group(1).lower(), match.group(2)
        if name == "python":
            python = version
        elif version is None:
            unpinned.add(name)
        else:
            pins[name] = version
    return pins, unpinned, python


def test_environment_yml_matches_pyproject() -> None:
    expected = {CONDA_NAMES.get(name, name): version for name, version in _pyproject_pins().items()}
    pins, unpinned, python = _environment_pins()
    assert pins == expected
    assert unpinned == EXTRA_PACKAGES
    assert python == "3.11"


def test_installed_versions_are_the_pinned_ones() -> None:
    from importlib.metadata import version

    for name, pinned in _pyproject_pins().items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned}"


def test_python_requirement() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert project["scripts"]["s3forensics"] == "s3forensics.cli:main"


def test_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    assert "make demo" in first_block and "make test" in first_block


def test_ci_runs_make_test() -> None:
    assert re.search(r"^make test\b", (ROOT / ".ci" / "run").read_text(), re.M)


def test_duckdb_run_does_not_import_aws_sdks() -> None:
    code = (
        "import sys, s3forensics.cli, s3forensics.config, s3forensics.schema, s3forensics.sandbox;"
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
    choices = parser._subparsers._group_actions[0].choices  # noqa: SLF001 (argparse exposes no API)
    for name in COMMANDS:
        assert choices[name].add_help, f"{name} is listed but its module did not register it"


def test_light_commands_do_not_import_pandas() -> None:
    code = (
        "import sys; from s3forensics.cli import build_parser; build_parser('sandbox');"
        "print(','.join(m for m in ('pandas', 'duckdb', 'sqlglot', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
