"""The training lab: pick an injected incident of the demo world, ask, check, hint, score.

The demo world's ``ground_truth.json`` says, for each injected scenario, which addresses
and principals acted, when, on which bucket, which objects and how many bytes were
involved, and which detections must fire. The lab briefs the trainee with a symptom and a
day (never the answer), asks the questions an investigation must answer, and checks each
answer against the ground truth: right answers earn a point, empty or wrong ones get a hint
that says where to look (and, for wrong ones, how far off they are).

Example:
    >>> truth = load_ground_truth()                                  # doctest: +SKIP
    >>> scenario = pick_scenario(truth, "role_exfiltration")         # doctest: +SKIP
    >>> result = check_answers(scenario, Answers(source_ip="203.0.113.88"))  # doctest: +SKIP
    >>> result.line                                                  # doctest: +SKIP
    'Score: 1/6'
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.config import home_dir
from s3forensics.errors import ParameterError, SourceError
from s3forensics.vocabulary import utc_time

log = logging.getLogger(__name__)

#: An answered start time counts when it is this close to the true start.
START_TOLERANCE = timedelta(minutes=5)
#: An answered byte count counts when it is within this fraction of the true count.
BYTES_TOLERANCE = 0.10
#: Share of the scenario's objects an object answer must cover.
OBJECTS_RECALL = 0.9
#: Literal characters a wildcard pattern needs (``*`` alone would match everything).
MIN_PATTERN_LITERALS = 3

#: The symptom each scenario is reported with (what a real trainee would hear first).
BRIEFINGS: dict[str, str] = {
    "get_flood": "The site owner says the website was slow for a while one night and the bill for data transfer jumped.",
    "role_exfiltration": "The data team received a data-transfer cost alert for the private data bucket.",
    "secret_scanner": "A colleague noticed odd 403 and 404 answers on the public website.",
    "archive_made_public": "A posture scanner reports that the archive bucket is readable by anyone.",
    "mass_delete": "Finance cannot find this year's invoices in the data bucket.",
}
#: What happened to a scenario's objects (the wording of the objects question).
OBJECT_VERBS: dict[str, str] = {"mass_delete": "deleted", "secret_scanner": "probed for", "get_flood": "requested"}


def ground_truth_path(path: str | Path = "") -> Path:
    """``path``, or the sandbox demo world's ``<home>/demo-world/ground_truth.json``."""
    return Path(path) if str(path).strip() else home_dir() / "demo-world" / "ground_truth.json"


def load_ground_truth(path: str | Path = "", *, generate_if_missing: bool = True, days: int = 7, seed: int = 7) -> dict[str, Any]:
    """Read a demo world's ground truth.

    Args:
        path: a ``ground_truth.json``; empty for the sandbox demo world's.
        generate_if_missing: with the default path, generate the demo world (``days``,
            ``seed``: the sandbox's defaults) when it is not there yet.
        days: demo-world length when generating.
        seed: demo-world seed when generating.

    Raises:
        SourceError: the file is missing or is not a ground truth.
    """
    target = ground_truth_path(path)
    if not target.is_file() and not str(path).strip() and generate_if_missing:
        from s3forensics.lab.demo.generate import generate

        log.info("no demo world at %s; generating it (days=%d, seed=%d)", target.parent, days, seed)
        generate(target.parent, days=days, seed=seed)
    if not target.is_file():
        raise SourceError(f"{target}: no ground truth there; set GROUND_TRUTH to a demo world's ground_truth.json")
    try:
        truth = json.loads(target.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SourceError(f"{target}: not JSON ({exc})") from exc
    if not isinstance(truth, dict) or not isinstance(truth.get("scenarios"), list) or not truth["scenarios"]:
        raise SourceError(f"{target}: has no 'scenarios' list; is it a demo world's ground_truth.json?")
    return truth


def scenario_ids(truth: Mapping[str, Any]) -> list[str]:
    """The scenario ids of a ground truth, in order."""
    return [str(s["id"]) for s in truth["scenarios"]]


def pick_scenario(truth: Mapping[str, Any], scenario_id: str = "", *, seed: int = 0) -> dict[str, Any]:
    """The scenario ``scenario_id``; empty for one picked at random (reproducible by ``seed``).

    Raises:
        ParameterError: no scenario has that id (the message lists them).
    """
    if not isinstance(scenario_id, str):
        raise ParameterError(f"SCENARIO must be a scenario id (text), got {type(scenario_id).__name__}")
    scenarios = list(truth["scenarios"])
    if not scenario_id.strip():
        return dict(random.Random(seed).choice(scenarios))
    for scenario in scenarios:
        if scenario["id"] == scenario_id.strip():
            return dict(scenario)
    raise ParameterError(f"SCENARIO {scenario_id!r} is not in the demo world; choose one of: {', '.join(scenario_ids(truth))}")


def focus_window(scenario: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The UTC day on which the scenario started (what the trainee is told to look at)."""
    start = utc_time(scenario["start"])
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day + timedelta(days=1)


def briefing(scenario: Mapping[str, Any]) -> str:
    """What the trainee is told: a symptom, the bucket and the day; never the answer."""
    day, _ = focus_window(scenario)
    symptom = BRIEFINGS.get(str(scenario["id"]), "Something unusual happened.")
    return f"{symptom} Bucket: {scenario['bucket']}. Day: {day:%Y-%m-%d} (UTC). Find out who did what, and when."


def findings_in_focus(findings: pd.DataFrame, scenario: Mapping[str, Any]) -> pd.DataFrame:
    """Findings on the scenario's bucket (or naming no bucket) that overlap its day."""
    if findings.empty:
        return findings
    start, end = focus_window(scenario)
    first = pd.to_datetime(findings["first_seen"], utc=True)
    last = pd.to_datetime(findings["last_seen"], utc=True)
    bucket = findings["bucket"].astype("object")
    keep = (last >= pd.Timestamp(start)) & (first < pd.Timestamp(end)) & (bucket.isna() | (bucket == scenario["bucket"]))
    return findings[keep].reset_index(drop=True)


# -- answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """The trainee's answers; empty values mean "not answered yet".

    Attributes:
        source_ip: the address the incident came from.
        start: when it started (ISO-8601, UTC).
        objects: keys, prefixes ending in ``/``, or wildcard patterns.
        bytes: how many bytes were involved (0: not answered).
        principal: the IAM identity used (ARN, role or user name).
        detection: a detection id that fired on it.
    """

    source_ip: str = ""
    start: str = ""
    objects: tuple[str, ...] = ()
    bytes: int = 0
    principal: str = ""
    detection: str = ""

    @classmethod
    def from_params(
        cls,
        *,
        source_ip: Any = "",
        start: Any = "",
        objects: Any = (),
        bytes: Any = 0,
        principal: Any = "",
        detection: Any = "",
    ) -> Answers:
        """Answers from notebook parameters, refusing wrong types with the parameter's name.

        Raises:
            ParameterError: a parameter has the wrong type.
        """
        texts = {"ANSWER_SOURCE_IP": source_ip, "ANSWER_START": start, "ANSWER_PRINCIPAL": principal, "ANSWER_DETECTION": detection}
        for name, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise ParameterError(f"{name} must be text (a string in quotes), got {type(value).__name__} {value!r}")
        if isinstance(objects, str):
            objects = [objects] if objects.strip() else []
        if objects is None:
            objects = []
        if not isinstance(objects, (list, tuple)) or not all(isinstance(o, str) for o in objects):
            raise ParameterError(f"ANSWER_OBJECTS must be a list of keys or prefixes (strings), got {objects!r}")
        if bytes is None or bytes == "":
            bytes = 0
        if isinstance(bytes, bool) or not isinstance(bytes, (int, float)) or bytes < 0:
            raise ParameterError(f"ANSWER_BYTES must be a whole number of bytes (0 if unknown), got {bytes!r}")
        return cls(
            source_ip=(source_ip or "").strip(),
            start=(start or "").strip(),
            objects=tuple(o.strip() for o in objects if o.strip()),
            bytes=int(bytes),
            principal=(principal or "").strip(),
            detection=(detection or "").strip(),
        )


@dataclass(frozen=True)
class Question:
    """A question of the lab for one scenario."""

    id: str
    text: str
    parameter: str
    points: int = 1


@dataclass(frozen=True)
class Mark:
    """How one answer fared.

    Attributes:
        question: the question.
        answer: the answer as given (text).
        answered: False when the answer was empty.
        correct: True when it matches the ground truth.
        points: points earned.
        feedback: why it is right or wrong (never the right answer).
        hint: where to look (empty when correct).
    """

    question: Question
    answer: str
    answered: bool
    correct: bool
    points: int
    feedback: str
    hint: str


@dataclass(frozen=True)
class Score:
    """The marks of one attempt."""

    scenario_id: str
    marks: tuple[Mark, ...] = field(default_factory=tuple)

    @property
    def score(self) -> int:
        """Points earned."""
        return sum(m.points for m in self.marks)

    @property
    def max_score(self) -> int:
        """Points available."""
        return sum(m.question.points for m in self.marks)

    @property
    def full_marks(self) -> bool:
        """Every question answered correctly."""
        return self.score == self.max_score

    @property
    def line(self) -> str:
        """``Score: X/Y`` (what the lab's last cell prints)."""
        return f"Score: {self.score}/{self.max_score}"

    def frame(self) -> pd.DataFrame:
        """One row per question: question, parameter, answer, result, feedback, hint."""
        rows = [
            {
                "question": m.question.text,
                "parameter": m.question.parameter,
                "answer": m.answer,
                "result": "correct" if m.correct else ("wrong" if m.answered else "not answered"),
                "points": m.points,
                "feedback": m.feedback,
                "hint": m.hint,
            }
            for m in self.marks
        ]
        return pd.DataFrame(rows, columns=["question", "parameter", "answer", "result", "points", "feedback", "hint"])

    def markdown(self) -> str:
        """The marks as a Markdown list: question, answer, result, feedback and hint in full."""
        lines = []
        for m in self.marks:
            result = "correct" if m.correct else ("wrong" if m.answered else "not answered")
            line = f"- **{m.question.text}** (`{m.question.parameter}`): {m.answer or '-'} → **{result}**"
            if m.answered:
                line += f": {m.feedback}"
            if m.hint:
                line += f"  \n  _Hint: {m.hint}_"
            lines.append(line)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Machine-readable result: ``scenario``, ``score``, ``max_score``, per-question results."""
        return {
            "scenario": self.scenario_id,
            "score": self.score,
            "max_score": self.max_score,
            "questions": [{"id": m.question.id, "correct": m.correct, "answered": m.answered} for m in self.marks],
        }


def _taken(scenario: Mapping[str, Any]) -> bool:
    return str(scenario["id"]) not in OBJECT_VERBS


def questions(scenario: Mapping[str, Any]) -> list[Question]:
    """The questions that apply to ``scenario`` (an incident without objects has no objects question)."""
    out = [
        Question("source_ip", "Which IP address did it come from?", "ANSWER_SOURCE_IP"),
        Question("start", "When did it start (UTC, to within 5 minutes)?", "ANSWER_START"),
    ]
    if scenario.get("principals"):
        out.append(Question("principal", "Which IAM identity (role or user) was used?", "ANSWER_PRINCIPAL"))
    if scenario.get("objects"):
        verb = OBJECT_VERBS.get(str(scenario["id"]), "taken")
        out.append(Question("objects", f"What was {verb}? (keys, or a prefix ending in '/')", "ANSWER_OBJECTS"))
    if scenario.get("bytes") and _taken(scenario):
        out.append(Question("bytes", "How many bytes left the bucket (to within 10%)?", "ANSWER_BYTES"))
    out.append(Question("detection", "Which detection fired on it (a detection id)?", "ANSWER_DETECTION"))
    return out


# -- checking ----------------------------------------------------------------------------


def _check_ip(scenario: Mapping[str, Any], answer: str) -> tuple[bool, str, str]:
    hint = (
        f"Rank the remote IPs on {scenario['bucket']} that day (query s3_access__top_remote_ips, or "
        "s3_access__egress_by_actor for bytes) and look for one that breaks the usual pattern."
    )
    try:
        given = ipaddress.ip_address(answer)
    except ValueError:
        return False, f"{answer!r} is not an IP address", hint
    truth = [ipaddress.ip_address(ip) for ip in scenario.get("source_ips", [])]
    if given in truth:
        return True, f"{given} is the source", ""
    known = {str(ip) for ip in truth}
    nudge = next((f"; the address you want is IPv{ip.version} and starts with {str(ip).split('.')[0].split(':')[0]}" for ip in truth), "")
    return False, f"{given} is not the source of this incident ({len(known)} address(es) are){nudge}", hint


def _check_start(scenario: Mapping[str, Any], answer: str) -> tuple[bool, str, str]:
    hint = (
        "Take the address you found and ask for its first request (query s3_access__first_last_seen "
        "with actor=<IP>, or the first_seen of its finding)."
    )
    try:
        given = utc_time(answer, "the start")
    except ParameterError:
        return False, f"{answer!r} is not an ISO-8601 time like 2026-11-19T22:18:00Z", hint
    delta = given - utc_time(scenario["start"])
    if abs(delta) <= START_TOLERANCE:
        return True, "within 5 minutes of the first request", ""
    minutes = abs(delta).total_seconds() / 60
    return False, f"{minutes:,.0f} minutes too {'late' if delta > timedelta(0) else 'early'}", hint


def _principal_names(principal: str) -> set[str]:
    names = {principal}
    if ":assumed-role/" in principal:
        names.add(principal.split(":assumed-role/", 1)[1].split("/", 1)[0])
    elif ":role/" in principal or ":user/" in principal:
        names.add(principal.rsplit("/", 1)[-1])
    return {n.lower() for n in names}


def _check_principal(scenario: Mapping[str, Any], answer: str) -> tuple[bool, str, str]:
    hint = "Look at the requester column of that address's requests, or at userIdentity in CloudTrail."
    wanted = set().union(*(_principal_names(p) for p in scenario.get("principals", [])))
    given = _principal_names(answer) if answer.startswith("arn:") else {answer.lower()}
    if given & wanted:
        return True, "that identity was used", ""
    return False, f"{answer!r} is not the identity used", hint


def pattern_matches(pattern: str, key: str) -> bool:
    """A key matches a prefix ending in ``/``, a wildcard pattern, or itself."""
    if pattern.endswith("/"):
        return key.startswith(pattern)
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(key, pattern)
    return key == pattern


def _check_objects(scenario: Mapping[str, Any], answer: Sequence[str]) -> tuple[bool, str, str]:
    keys = [str(k) for k in scenario.get("objects", [])]
    hint = (
        f"List what the address did to {scenario['bucket']} (query s3_access__objects_read_by_actor with "
        f"actor=<IP>); {len(keys)} distinct key(s) are involved. Answer keys, a prefix ending in '/' or patterns like '*.pem'."
    )
    broad = [p for p in answer if sum(c not in "*?[]/." for c in p) < MIN_PATTERN_LITERALS and p not in keys]
    if broad:
        return False, f"too broad to count: {', '.join(repr(p) for p in broad)}", hint
    idle = [p for p in answer if not any(pattern_matches(p, k) for k in keys)]
    covered = sum(any(pattern_matches(p, k) for p in answer) for k in keys)
    recall = covered / len(keys) if keys else 0.0
    if not idle and recall >= OBJECTS_RECALL:
        return True, f"covers {covered} of {len(keys)} keys", ""
    parts = [f"covers {covered} of {len(keys)} keys"]
    if idle:
        parts.append(f"matches none of them: {', '.join(repr(p) for p in idle[:5])}")
    return False, "; ".join(parts), hint


def _check_bytes(scenario: Mapping[str, Any], answer: int) -> tuple[bool, str, str]:
    truth = int(scenario["bytes"])
    hint = "Sum the bytes sent to that address (query s3_access__egress_by_actor: bytes_sent)."
    off = (answer - truth) / truth
    if abs(off) <= BYTES_TOLERANCE:
        return True, f"within {abs(off):.1%} of the bytes sent", ""
    return False, f"{abs(off):.0%} too {'high' if off > 0 else 'low'}", hint


def naming_detection(scenario: Mapping[str, Any]) -> str:
    """The detection that names the incident: the first of its ``expected_detections`` (the
    others fire as side effects: a flood also breaks the bucket's baseline)."""
    expected = list(scenario.get("expected_detections", []))
    return str(expected[0]) if expected else ""


def _check_detection(scenario: Mapping[str, Any], answer: str, findings: pd.DataFrame | None) -> tuple[bool, str, str]:
    from s3forensics.detections import DETECTION_IDS

    expected = list(scenario.get("expected_detections", []))
    hint = (
        f"Run the detections over the day and keep the findings about that address or {scenario['bucket']}; "
        "several may fire on one incident: which one names what happened?"
    )
    if answer not in DETECTION_IDS:
        return False, f"{answer!r} is not a detection id (the findings table's detection_id column)", hint
    if answer == naming_detection(scenario):
        return True, f"{answer} names this incident", ""
    side = answer in expected
    if not side and findings is not None and not findings.empty:
        from s3forensics.lab.evaluate import matches

        fired = findings[findings["detection_id"] == answer]
        side = any(matches(row, scenario) for row in fired.to_dict("records"))
    if side:
        return False, f"{answer} fired on this incident, but as a side effect: another detection names it", hint
    return False, f"{answer} did not fire on this incident", hint


def check_answers(scenario: Mapping[str, Any], answers: Answers, *, findings: pd.DataFrame | None = None) -> Score:
    """Mark ``answers`` against ``scenario`` (a ground-truth entry).

    Args:
        scenario: one entry of the ground truth's ``scenarios``.
        answers: the trainee's answers.
        findings: the detection findings shown to the trainee, to tell a side effect (a
            detection that fired on the incident without naming it) from a miss; only the
            detection that names the incident (:func:`naming_detection`) counts.
    """
    marks = []
    for q in questions(scenario):
        value: Any = getattr(answers, q.id)
        shown = ", ".join(value) if isinstance(value, tuple) else ("" if value in ("", 0) else str(value))
        if not shown:
            marks.append(Mark(q, "", False, False, 0, "not answered yet", _hint_for(q.id, scenario, findings)))
            continue
        if q.id == "source_ip":
            ok, feedback, hint_text = _check_ip(scenario, value)
        elif q.id == "start":
            ok, feedback, hint_text = _check_start(scenario, value)
        elif q.id == "principal":
            ok, feedback, hint_text = _check_principal(scenario, value)
        elif q.id == "objects":
            ok, feedback, hint_text = _check_objects(scenario, value)
        elif q.id == "bytes":
            ok, feedback, hint_text = _check_bytes(scenario, value)
        else:
            ok, feedback, hint_text = _check_detection(scenario, value, findings)
        marks.append(Mark(q, shown, True, ok, q.points if ok else 0, feedback, hint_text))
    return Score(scenario_id=str(scenario["id"]), marks=tuple(marks))


def _hint_for(question_id: str, scenario: Mapping[str, Any], findings: pd.DataFrame | None) -> str:
    """The hint of a question, without judging an answer."""
    probes: dict[str, Any] = {
        "source_ip": lambda: _check_ip(scenario, "")[2],
        "start": lambda: _check_start(scenario, "")[2],
        "principal": lambda: _check_principal(scenario, "")[2],
        "objects": lambda: _check_objects(scenario, ())[2],
        "bytes": lambda: "Sum the bytes sent to that address (query s3_access__egress_by_actor: bytes_sent).",
        "detection": lambda: _check_detection(scenario, "", findings)[2],
    }
    return str(probes[question_id]())
