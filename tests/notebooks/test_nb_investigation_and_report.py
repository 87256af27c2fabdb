"""01_anomaly_investigation and 04_periodic_report, run with papermill on the demo world."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import assert_charts_drawn
from nb_outputs import assert_ran_clean, joined

from s3forensics.reports import run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def _truth(demo_world: Path) -> dict[str, dict]:
    return {s["id"]: s for s in json.loads((demo_world / "ground_truth.json").read_text())["scenarios"]}


@pytest.fixture()
def reports(demo_sandbox: object, tmp_path: Path) -> Path:
    """An empty output folder, with the demo account ready."""
    return tmp_path


@pytest.fixture()
def investigation_report(default_runs):
    """The default run of 01 (the demo world's week)."""
    return default_runs["01_anomaly_investigation"]


def test_report_is_written_with_its_charts(investigation_report) -> None:
    html = investigation_report.html.read_text()
    assert investigation_report.html.suffix == ".html"
    assert html.count('class="plotly-graph-div"') == 4
    # plotly.js is inlined once (its banner names the version), and nothing is fetched from the internet.
    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", html)) == 1
    assert not re.search(r"<script[^>]+src=[\"']https?://", html)


def test_report_shows_the_flood_ip_on_top(investigation_report, demo_world: Path) -> None:
    truth = json.loads((demo_world / "ground_truth.json").read_text())
    flood = next(s for s in truth["scenarios"] if s["id"] == "get_flood")
    html = investigation_report.html.read_text()
    assert flood["source_ips"][0] in html


@pytest.mark.chromium
def test_charts_draw_in_headless_chromium_offline(investigation_report, browser) -> None:
    assert_charts_drawn(browser, investigation_report.html, charts=4)


def test_investigation_shows_every_incident_and_drills_into_the_worst(investigation_report, demo_world: Path) -> None:
    result = investigation_report
    text = joined(result.executed)
    truth = _truth(demo_world)
    for detection in ("request_rate_spike", "secret_file_probing", "large_egress", "bucket_made_public", "mass_delete"):
        assert detection in text, f"{detection} not shown"
    assert truth["get_flood"]["source_ips"][0] in text
    assert "### Actor: `" in text


def test_investigation_focus_on_the_exfiltration_ip(reports: Path, demo_world: Path) -> None:
    exfil = _truth(demo_world)["role_exfiltration"]
    ip = exfil["source_ips"][0]
    result = run_report("01_anomaly_investigation", {"FOCUS": ip, "INTERVAL": "day"}, reports, stem="01-focus")
    text = joined(result.executed)
    assert f"### Actor: `{ip}`" in text
    assert f"{len(exfil['objects'])} objects read" in text
    assert f"of {len(exfil['objects'])} (page 1 of" in text
    shown = [key for key in exfil["objects"] if key in text]
    assert len(shown) >= 10, "the largest objects read should be on the first page"


@pytest.fixture()
def periodic(default_runs):
    """The default run: the week of the demo world (END 2026-11-23, DAYS 7)."""
    return default_runs["04_periodic_report"]


def test_periodic_report_lists_findings_and_coverage_gaps(periodic) -> None:
    result = periodic
    text = joined(result.executed)
    assert "Report for 2026-11-16 00:00 to 2026-11-23 00:00 UTC (7 days)" in text
    assert "mass_delete" in text and "critical" in text
    # The demo account's deliberate gaps show up as failing checks.
    assert "cloudtrail_s3_data_events_read" in text
    assert "who read this object" in text.lower()
    assert result.html.stat().st_size > 100_000


def test_scheduled_report_on_an_empty_window_exits_non_zero(reports: Path) -> None:
    """As cron runs it: exit 1, the failing cell and the reason on stderr, no page, the failed copy kept."""
    exe = str(Path(sys.executable).with_name("s3forensics"))
    out = subprocess.run(
        [exe, "report", "04_periodic_report", "-p", "END", "2026-10-01T00:00:00Z", "-p", "DAYS", "1", "--output", str(reports)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert out.returncode == 1
    assert "failed in cell" in out.stderr and "No access-log rows between 2026-09-30 00:00 and 2026-10-01 00:00 UTC" in out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    assert not (reports / "04_periodic_report.html").exists()
    assert not (reports / "04_periodic_report.ipynb").exists()
    assert (reports / "04_periodic_report.failed.ipynb").exists()


def test_wrong_parameter_type_stops_before_running(reports: Path) -> None:
    exe = str(Path(sys.executable).with_name("s3forensics"))
    out = subprocess.run([exe, "report", "04_periodic_report", "-p", "DAYS", "seven", "--output", str(reports)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "parameter DAYS of 04_periodic_report.ipynb expects int, got 'seven'" in out.stderr


def test_report_window_rejects_bad_days() -> None:
    from s3forensics.errors import ParameterError
    from s3forensics.investigation import report_window

    with pytest.raises(ParameterError, match="DAYS must be a whole number"):
        report_window("2026-11-23T00:00:00Z", 0)
    start, end = report_window("2026-11-23T00:00:00Z", 1)
    assert (end - start).days == 1 and end.isoformat() == "2026-11-23T00:00:00+00:00"


@pytest.mark.chromium
def test_periodic_report_charts_draw_offline_in_chromium(periodic, browser) -> None:
    assert_charts_drawn(browser, periodic.html, charts=2)


def test_every_code_cell_ran_in_order_without_error(investigation_report, periodic) -> None:
    assert_ran_clean("01_anomaly_investigation", investigation_report.executed)
    assert_ran_clean("04_periodic_report", periodic.executed)
