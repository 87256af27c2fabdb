"""``pytest --nbval-lax`` on the committed notebooks, against the sandbox demo world.

nbval runs in a child pytest so that it sees the sandbox this session started (the
environment is inherited) while the notebooks' own folder stays free of test plumbing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def test_committed_notebooks_run_under_nbval(demo_sandbox: object, tmp_path: Path) -> None:
    assert NOTEBOOKS, "no notebooks to validate"
    out = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--nbval-lax", "--sanitize-with", str(SANITIZE),
            "--nbval-cell-timeout", "600", "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path),
            *map(str, NOTEBOOKS),
        ],
        capture_output=True, text=True, cwd=ROOT, env=os.environ.copy(), timeout=1800,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    passed = re.search(r"(\d+) passed", out.stdout)
    code_cells = sum(1 for nb in NOTEBOOKS for cell in nbformat.read(nb, as_version=4).cells if cell.cell_type == "code")
    assert passed and int(passed.group(1)) == code_cells, out.stdout[-2000:]
