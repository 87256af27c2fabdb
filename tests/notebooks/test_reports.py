"""Notebooks run with papermill on the demo world and render reports that draw offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import assert_charts_drawn

from s3forensics.errors import NotebookError, ParameterError
from s3forensics.reports import coerce_parameters, find_notebook, run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


@pytest.fixture()
def investigation_report(default_runs):
    return default_runs["01_anomaly_investigation"]


def test_report_is_written_with_its_charts(investigation_report) -> None:
    html = investigation_report.html.read_text()
    assert investigation_report.html.suffix == ".html"
    assert html.count('class="plotly-graph-div"') >= 2
    # plotly.js is inlined once, and nothing is fetched from the internet.
    assert "plotly.js v" in html or "Plotly=" in html or "window.Plotly" in html
    assert not re.search(r"<script[^>]+src=[\"']https?://", html)


def test_report_shows_the_flood_ip_on_top(investigation_report, demo_world: Path) -> None:
    import json

    truth = json.loads((demo_world / "ground_truth.json").read_text())
    flood = next(s for s in truth["scenarios"] if s["id"] == "get_flood")
    html = investigation_report.html.read_text()
    assert flood["source_ips"][0] in html


@pytest.mark.chromium
def test_charts_draw_in_headless_chromium_offline(investigation_report, browser) -> None:
    assert_charts_drawn(browser, investigation_report.html, minimum=4)


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(ParameterError, match="no parameter 'NOPE'"):
        coerce_parameters(find_notebook("01_anomaly_investigation"), [("NOPE", "1")])


def test_ill_typed_parameter_is_refused() -> None:
    with pytest.raises(ParameterError, match="SANDBOX"):
        coerce_parameters(find_notebook("01_anomaly_investigation"), [("SANDBOX", "perhaps")])


def test_failing_notebook_names_the_cell(demo_sandbox, tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match=r"failed in cell \d+.*END .* must be after START"):
        run_report("01_anomaly_investigation", {"START": "2026-11-20T00:00:00Z", "END": "2026-11-19T00:00:00Z"}, tmp_path)
    assert not (tmp_path / "01_anomaly_investigation.html").exists()


def test_timed_out_cell_is_named_and_leaves_no_report(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("import time\nx = 1"), new_code_cell("time.sleep(60)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match=r"slow\.ipynb failed in cell 1 \(`time\.sleep\(60\)`\): CellTimeoutError"):
        run_report(path, {}, tmp_path / "out", timeout=2)
    assert not (tmp_path / "out" / "slow.html").exists()
    assert not (tmp_path / "out" / "slow.ipynb").exists()
    assert (tmp_path / "out" / "slow.failed.ipynb").exists()
