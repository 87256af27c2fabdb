"""The training lab's checking: right answers score full marks, wrong ones do not, hints help."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from s3forensics.errors import ParameterError, SourceError
from s3forensics.lab import training

SCENARIOS = ("get_flood", "role_exfiltration", "secret_scanner", "archive_made_public", "mass_delete")


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> dict:
    return training.load_ground_truth(demo_world / "ground_truth.json")


def right_answers(scenario: dict) -> training.Answers:
    """Answers built from the ground truth, the way a trainee who found everything writes them."""
    keys = scenario["objects"]
    common = os.path.commonprefix(keys)  # noqa: RUF071 (by characters on purpose: cut at the last "/" below)
    objects = (common[: common.rfind("/") + 1],) if "/" in common else tuple(keys)
    return training.Answers(
        source_ip=scenario["source_ips"][0],
        start=scenario["start"],
        objects=objects,
        bytes=int(scenario["bytes"]),
        principal=(scenario["principals"] or [""])[0],
        detection=training.naming_detection(scenario),
    )


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_right_answers_score_full_marks(truth: dict, scenario_id: str) -> None:
    scenario = training.pick_scenario(truth, scenario_id)
    result = training.check_answers(scenario, right_answers(scenario))
    assert result.full_marks, result.frame().to_string()
    assert result.line == f"Score: {result.max_score}/{result.max_score}"
    assert result.max_score >= 4


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_one_wrong_answer_costs_a_point(truth: dict, scenario_id: str) -> None:
    from dataclasses import replace

    scenario = training.pick_scenario(truth, scenario_id)
    right = right_answers(scenario)
    result = training.check_answers(scenario, replace(right, source_ip="198.51.100.250"))
    assert result.score == result.max_score - 1
    wrong = result.frame().set_index("parameter").loc["ANSWER_SOURCE_IP"]
    assert wrong["result"] == "wrong" and wrong["hint"]


def test_near_misses_are_wrong_with_how_far_off(truth: dict) -> None:
    scenario = training.pick_scenario(truth, "role_exfiltration")
    start = pd.Timestamp(scenario["start"])
    answers = training.Answers(
        source_ip="198.51.100.20",  # the role's usual host, not the thief
        start=(start + pd.Timedelta(minutes=30)).isoformat(),
        objects=("exports/customers-00.csv",),
        bytes=int(scenario["bytes"] * 0.5),
        principal="site-deploy",
        detection="mass_delete",
    )
    frame = training.check_answers(scenario, answers).frame().set_index("parameter")
    assert (frame["result"] == "wrong").all()
    assert "30 minutes too late" in frame.loc["ANSWER_START", "feedback"]
    assert "covers 1 of" in frame.loc["ANSWER_OBJECTS", "feedback"]
    assert "50% too low" in frame.loc["ANSWER_BYTES", "feedback"]


def test_empty_answers_get_hints_and_no_points(truth: dict) -> None:
    scenario = training.pick_scenario(truth, "secret_scanner")
    result = training.check_answers(scenario, training.Answers())
    assert result.score == 0
    frame = result.frame()
    assert (frame["result"] == "not answered").all()
    assert frame["hint"].str.len().gt(20).all()
    # A hint never gives the answer away.
    assert not frame["hint"].str.contains(scenario["source_ips"][0], regex=False).any()


def test_a_wildcard_that_matches_everything_does_not_count(truth: dict) -> None:
    scenario = training.pick_scenario(truth, "mass_delete")
    for pattern in ("*", "*/*", "in*"):
        mark = training.check_answers(scenario, training.Answers(objects=(pattern,))).frame().set_index("parameter").loc["ANSWER_OBJECTS"]
        assert mark["result"] == "wrong", pattern


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_only_the_detection_that_names_the_incident_counts(truth: dict, scenario_id: str) -> None:
    """05 accepted a side-effect detection (a flood's baseline deviation, a scanner's
    access-denied burst) as the right answer."""
    scenario = training.pick_scenario(truth, scenario_id)
    named = training.naming_detection(scenario)
    assert training.check_answers(scenario, training.Answers(detection=named)).score == 1
    for side in scenario["expected_detections"][1:]:
        mark = training.check_answers(scenario, training.Answers(detection=side)).frame().set_index("parameter").loc["ANSWER_DETECTION"]
        assert mark["result"] == "wrong" and "side effect" in mark["feedback"] and named not in mark["hint"]


def test_a_detection_that_fired_on_the_incident_is_a_side_effect_not_the_answer(truth: dict) -> None:
    scenario = training.pick_scenario(truth, "role_exfiltration")
    fired = pd.DataFrame(
        [{"detection_id": "scanner_user_agent", "first_seen": scenario["start"], "last_seen": scenario["end"], "bucket": scenario["bucket"],
          "source_ip": scenario["source_ips"][0], "principal": None}]
    )
    answers = training.Answers(detection="scanner_user_agent")
    assert "did not fire" in training.check_answers(scenario, answers).frame()["feedback"].iloc[-1]
    marked = training.check_answers(scenario, answers, findings=fired)
    assert marked.score == 0 and "side effect" in marked.frame()["feedback"].iloc[-1]


def test_the_briefing_names_bucket_and_day_but_not_the_answer(truth: dict) -> None:
    scenario = training.pick_scenario(truth, "get_flood")
    text = training.briefing(scenario)
    assert scenario["bucket"] in text and scenario["start"][:10] in text
    assert scenario["source_ips"][0] not in text and "flood" not in text.lower()


def test_random_pick_is_reproducible(truth: dict) -> None:
    picks = {seed: training.pick_scenario(truth, "", seed=seed)["id"] for seed in range(20)}
    # The same seed picks the same scenario again; different seeds reach several of them.
    assert all(training.pick_scenario(truth, "", seed=seed)["id"] == pick for seed, pick in picks.items())
    assert len(set(picks.values())) >= 3, picks
    assert set(picks.values()) <= {s["id"] for s in truth["scenarios"]}


def test_unknown_scenario_lists_the_known_ones(truth: dict) -> None:
    with pytest.raises(ParameterError, match="choose one of: get_flood"):
        training.pick_scenario(truth, "nope")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"source_ip": 203}, "ANSWER_SOURCE_IP"), ({"objects": 5}, "ANSWER_OBJECTS"), ({"bytes": "lots"}, "ANSWER_BYTES"), ({"start": ["x"]}, "ANSWER_START")],
)
def test_wrong_types_are_refused_by_name(kwargs: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=name):
        training.Answers.from_params(**kwargs)


def test_unreadable_time_is_a_wrong_answer_not_a_crash(truth: dict) -> None:
    scenario = training.pick_scenario(truth, "get_flood")
    mark = training.check_answers(scenario, training.Answers(start="yesterday")).frame().set_index("parameter").loc["ANSWER_START"]
    assert mark["result"] == "wrong" and "ISO-8601" in mark["feedback"]


def test_missing_or_foreign_ground_truth_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no ground truth"):
        training.load_ground_truth(tmp_path / "missing.json")
    bad = tmp_path / "ground_truth.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(SourceError, match="scenarios"):
        training.load_ground_truth(bad)
