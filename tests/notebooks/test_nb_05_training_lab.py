"""05_training_lab: right answers score full marks, wrong ones do not (the acceptance test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import assert_charts_drawn
from nb_outputs import assert_ran_clean, joined, last_line

from s3forensics.reports import run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

NOTEBOOK = "05_training_lab"


@pytest.fixture(scope="module")
def scenario(demo_world: Path) -> dict:
    data = json.loads((demo_world / "ground_truth.json").read_text())
    return next(s for s in data["scenarios"] if s["id"] == "role_exfiltration")


def params(demo_world: Path, **answers: object) -> dict:
    return {"GROUND_TRUTH": str(demo_world / "ground_truth.json"), **answers}


def test_right_answers_score_full_marks(demo_sandbox, demo_world: Path, scenario: dict, tmp_path: Path) -> None:
    report = run_report(
        NOTEBOOK,
        params(
            demo_world,
            ANSWER_SOURCE_IP=scenario["source_ips"][0],
            ANSWER_START=scenario["start"],
            ANSWER_PRINCIPAL="analytics-export",
            ANSWER_OBJECTS=["exports/"],
            ANSWER_BYTES=scenario["bytes"],
            ANSWER_DETECTION="large_egress",
        ),
        tmp_path,
    )
    assert last_line(report.executed) == "Score: 6/6"


def test_wrong_answers_do_not(demo_sandbox, demo_world: Path, scenario: dict, tmp_path: Path) -> None:
    report = run_report(
        NOTEBOOK,
        params(
            demo_world,
            ANSWER_SOURCE_IP="198.51.100.20",
            ANSWER_START=scenario["start"],
            ANSWER_PRINCIPAL="site-deploy",
            ANSWER_OBJECTS=["invoices/"],
            ANSWER_BYTES=1000,
            ANSWER_DETECTION="mass_delete",
        ),
        tmp_path,
    )
    line = last_line(report.executed)
    assert line.startswith("Score: ") and line != "Score: 6/6"
    assert line == "Score: 1/6"  # only the start time was right
    text = joined(report.executed)
    assert "wrong" in text and "s3_access__" in text  # hints point at the queries


@pytest.fixture()
def default_run(default_runs):
    return default_runs[NOTEBOOK]  # the sandbox's own ground truth


def test_default_empty_answers_brief_and_hint(default_run) -> None:
    report = default_run
    text = joined(report.executed)
    assert last_line(report.executed) == "Score: 0/6"
    assert "Bucket: s3f-demo-data. Day: 2026-11-19" in text
    assert "not answered" in text
    assert report.html.read_text().count('class="plotly-graph-div"') == 1


def test_nothing_gives_an_answer_away_before_its_question_is_answered(default_run, scenario: dict) -> None:
    """05 showed the day's actors and findings before any answer: the address, the role and
    the detection were on the page. Unanswered, none of them is."""
    html = default_run.html.read_text()
    text = joined(default_run.executed)
    for answer in (scenario["source_ips"][0], scenario["principals"][0].split("/")[1], *scenario["expected_detections"]):
        assert answer not in html and answer not in text, answer
    assert "Answer `ANSWER_SOURCE_IP` first" in text and "Answer `ANSWER_DETECTION` first" in text


def test_answered_questions_open_their_tables(demo_sandbox, demo_world: Path, scenario: dict, tmp_path: Path) -> None:
    report = run_report(NOTEBOOK, params(demo_world, ANSWER_SOURCE_IP="198.51.100.20", ANSWER_DETECTION="large_egress"), tmp_path)
    text = joined(report.executed)
    assert "Remote IPs that day" in text and "Findings that day" in text and scenario["source_ips"][0] in text
    assert "Configuration changes that day" not in text  # ANSWER_PRINCIPAL not given yet


@pytest.mark.chromium
def test_charts_draw_offline_in_chromium(default_run, browser) -> None:
    assert_charts_drawn(browser, default_run.html, charts=1)


def test_every_code_cell_ran_in_order_without_error(default_run) -> None:
    assert_ran_clean(NOTEBOOK, default_run.executed)
