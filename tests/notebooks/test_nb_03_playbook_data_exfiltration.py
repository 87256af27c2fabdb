"""03_playbook_data_exfiltration answers what, who, how much, where to, when, how."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import assert_charts_drawn
from nb_outputs import assert_ran_clean, joined

from s3forensics.errors import NotebookError
from s3forensics.reports import run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

NOTEBOOK = "03_playbook_data_exfiltration"


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> dict:
    data = json.loads((demo_world / "ground_truth.json").read_text())
    return {s["id"]: s for s in data["scenarios"]}


@pytest.fixture()
def default_run(default_runs):
    """The case folders the session's default run wrote (CASE_DIR "": <home>/cases), and the run."""
    return default_runs.cases(NOTEBOOK), default_runs[NOTEBOOK]


def test_default_follows_the_role_exfiltration(default_run, truth) -> None:
    scenario = truth["role_exfiltration"]
    cases, report = default_run
    text = joined(report.executed)
    assert f"following {scenario['source_ips'][0]}" in text
    assert f"{len(scenario['objects'])} objects" in text and "exports/" in text
    assert f"{scenario['bytes']:,} bytes" in text
    assert "analytics-export" in text and "revoke its sessions" in text
    (case,) = cases
    manifest = case / "evidence" / "manifest.json"
    items = {i["name"]: i for i in json.loads(manifest.read_text())["items"]}
    assert items["objects_taken"]["rows"] == len(scenario["objects"])
    assert report.html.read_text().count('class="plotly-graph-div"') == 3


def test_following_the_flood_on_the_site(demo_sandbox, truth, tmp_path: Path) -> None:
    scenario = truth["get_flood"]
    ip = scenario["source_ips"][0]
    report = run_report(
        NOTEBOOK, {"BUCKET": "s3f-demo-site", "BUCKET_PROFILE": "public_site", "ACTOR": ip, "CASE_DIR": str(tmp_path)}, tmp_path / "out"
    )
    text = joined(report.executed)
    assert f"following {ip}" in text
    assert "anonymous" in text
    assert f"{scenario['bytes']:,} bytes" in text


def test_a_window_without_logs_stops_with_one_sentence(demo_sandbox, tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="No bytes sent between 2025-01-01"):
        run_report(NOTEBOOK, {"START": "2025-01-01T00:00:00Z", "END": "2025-01-02T00:00:00Z", "ACTOR": "203.0.113.88"}, tmp_path)
    assert not (tmp_path / f"{NOTEBOOK}.html").exists()


@pytest.mark.chromium
def test_charts_draw_offline_in_chromium(default_run, browser) -> None:
    assert_charts_drawn(browser, default_run[1].html, charts=3)


def test_every_code_cell_ran_in_order_without_error(default_run) -> None:
    assert_ran_clean(NOTEBOOK, default_run[1].executed)
