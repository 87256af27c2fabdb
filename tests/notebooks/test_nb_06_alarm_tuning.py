"""06_alarm_tuning replays an alarm, suggests a threshold and checks it still catches the flood."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import assert_charts_drawn
from nb_outputs import assert_ran_clean, joined

from s3forensics.reports import run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

NOTEBOOK = "06_alarm_tuning"


@pytest.fixture()
def default_run(default_runs):
    return default_runs[NOTEBOOK]


def test_default_suggests_a_threshold_that_still_catches_the_flood(default_run) -> None:
    report = default_run
    text = joined(report.executed)
    assert "suggested threshold" in text and "'Threshold':" in text
    html = report.html.read_text()
    # The flood the detections found falls inside an ALARM episode of the suggested threshold.
    assert re.search(r"<td>request_rate_spike</td>\s*<td>203\.0\.113\.66</td>\s*<td>[^<]+</td>\s*<td>[^<]+</td>\s*<td>True</td>", html)
    assert html.count('class="plotly-graph-div"') == 2


def test_a_tight_budget_on_one_minute_periods(demo_sandbox, tmp_path: Path) -> None:
    report = run_report(NOTEBOOK, {"PERIOD_SECONDS": 60, "THRESHOLD": 50, "TARGET_PER_WEEK": 0.0, "ALARM_ACTIONS": ["arn:aws:sns:us-east-1:111122223333:s3f-demo-alerts"]}, tmp_path)
    text = joined(report.executed)
    assert "threshold 50:" in text
    assert "'Period': 60" in text and "'ActionsEnabled': True" in text
    # With no alarm allowed, the suggestion sits above every datapoint: 0.0 alarms per week.
    assert "0.0 alarm(s) per week" in text


@pytest.mark.chromium
def test_charts_draw_offline_in_chromium(default_run, browser) -> None:
    assert_charts_drawn(browser, default_run.html, charts=2)


def test_every_code_cell_ran_in_order_without_error(default_run) -> None:
    assert_ran_clean(NOTEBOOK, default_run.executed)
