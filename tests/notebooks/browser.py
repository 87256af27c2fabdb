"""Headless Chromium (Debian's ``chromium``) for checking that report charts draw offline."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)


def chromium() -> str:
    """Path of Debian's chromium, or skip the test with the reason."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")


def rendered_dom(html: Path, budget_ms: int = 15000) -> str:
    """The DOM of ``html`` after its scripts ran, in a fresh profile with no network."""
    with tempfile.TemporaryDirectory(prefix="s3f-chromium-") as profile:
        out = subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def screenshot(html: Path, png: Path, budget_ms: int = 15000) -> Path:
    """A PNG of the top of ``html`` once its scripts ran."""
    with tempfile.TemporaryDirectory(prefix="s3f-chromium-") as profile:
        subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--window-size=1280,2400",
                f"--screenshot={png}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    return png


def assert_charts_drawn(html: Path, minimum: int = 1) -> None:
    """Every plotly chart of a report drew in headless Chromium with no network."""
    dom = rendered_dom(html)
    divs = dom.count('class="plotly-graph-div')
    drawn = dom.count('class="main-svg"')
    assert divs >= minimum, f"{html.name}: {divs} charts, expected at least {minimum}"
    # plotly draws two main-svg layers per chart; a chart that did not draw has none.
    assert drawn >= 2 * divs, f"{html.name}: {divs} chart divs but only {drawn} drawn svg layers"
