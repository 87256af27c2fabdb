"""00_setup_audit runs on the sandbox account: checks, coverage, what to fix first."""

from __future__ import annotations

import pytest
from browser import assert_charts_drawn
from nb_outputs import assert_ran_clean, joined

from s3forensics.reports import run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


@pytest.fixture()
def default_run(default_runs):
    return default_runs["00_setup_audit"]


def test_shows_the_deliberate_gaps_first(default_run) -> None:
    text = joined(default_run.executed)
    # The sandbox's archive is public and unlogged: the critical public-policy check ranks first.
    ranked = text[text.index("rank"):]
    assert "s3_bucket_policy_not_public" in ranked.splitlines()[1]
    assert "s3f-demo-archive" in text
    assert "s3_access_logging_enabled" in text


def test_draws_the_coverage_matrices(default_run) -> None:
    html = default_run.html.read_text()
    assert html.count('class="plotly-graph-div"') == 3
    assert "Investigation questions per bucket" in html and "From which IP?" in html


def test_one_bucket_only(demo_sandbox, tmp_path) -> None:
    report = run_report("00_setup_audit", {"BUCKETS": ["s3f-demo-data"], "TOP": 3}, tmp_path)
    text = joined(report.executed)
    assert "s3f-demo-data" in text
    assert "s3f-demo-archive" not in text.split("Every check and resource")[1].split("Planned API calls")[0]


@pytest.mark.chromium
def test_charts_draw_offline_in_chromium(default_run, browser) -> None:
    assert_charts_drawn(browser, default_run.html, charts=3)


def test_every_code_cell_ran_in_order_without_error(default_run) -> None:
    assert_ran_clean("00_setup_audit", default_run.executed)
