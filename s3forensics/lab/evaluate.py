"""Score the catalogue on the demo world: which detection found each injected scenario,
and how many findings per day fire on benign traffic (false positives).

A finding matches a scenario when their time windows overlap (with ``slack`` either side),
they name the same bucket (when both name one; an incident's ``other_buckets`` count too), and the finding's actor is the scenario's:
its source IP is one of the scenario's, or its principal is (or names) one of the
scenario's principals. A finding naming no actor at all (a bucket-wide spike) matches on
bucket and time alone. Findings that match no scenario are false positives.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.detections.config import DetectionConfig
from s3forensics.detections.runner import DetectionRun, run_detections
from s3forensics.errors import SourceError
from s3forensics.lab.demo.world import demo_config
from s3forensics.vocabulary import utc_time

log = logging.getLogger(__name__)

#: Tolerance on time-window overlap (periods and hourly baselines round to their period).
DEFAULT_SLACK = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ScenarioScore:
    """How one injected scenario fared.

    Attributes:
        id: scenario id.
        title: scenario title.
        expected: detection ids the scenario should trigger.
        found_by: detection ids with at least one matching finding.
        missing: expected ids that did not match.
    """

    id: str
    title: str
    expected: tuple[str, ...]
    found_by: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def found(self) -> bool:
        """True when at least one finding matched the scenario."""
        return bool(self.found_by)


@dataclass(frozen=True)
class Evaluation:
    """The score of a detection run on the demo world.

    Attributes:
        scenarios: one score per scenario of the ground truth.
        false_positives: findings that match no scenario.
        days: length of the world, in days.
        run: the detection run itself.
    """

    scenarios: tuple[ScenarioScore, ...]
    false_positives: pd.DataFrame
    days: float
    run: DetectionRun = field(repr=False)

    @property
    def false_positives_per_day(self) -> float:
        """False-positive findings per day of logs."""
        return len(self.false_positives) / self.days if self.days else float(len(self.false_positives))

    @property
    def all_found(self) -> bool:
        """True when every scenario was found by at least one detection."""
        return all(s.found for s in self.scenarios)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary."""
        return {
            "scenarios": [
                {"id": s.id, "found": s.found, "found_by": list(s.found_by), "expected": list(s.expected), "missing": list(s.missing)}
                for s in self.scenarios
            ],
            "false_positives": len(self.false_positives),
            "false_positive_findings": [
                {"detection_id": r["detection_id"], "bucket": r["bucket"], "source_ip": r["source_ip"], "summary": r["summary"]}
                for r in self.false_positives.to_dict("records")
            ],
            "false_positives_per_day": round(self.false_positives_per_day, 2),
            "days": self.days,
            "errors": dict(self.run.errors),
        }


def _principal_matches(principal: str | None, principals: list[str]) -> bool:
    if not principal:
        return False
    for known in principals:
        if principal == known:
            return True
        # arn:aws:iam::ACCOUNT:role/NAME matches assumed-role/NAME/<any session>
        name = known.rsplit("/", 1)[-1] if ":role/" in known else None
        if name and f":assumed-role/{name}/" in principal:
            return True
    return False


def matches(finding: Mapping[str, Any], scenario: Mapping[str, Any], slack: dt.timedelta = DEFAULT_SLACK) -> bool:
    """True when ``finding`` (a findings row) belongs to ``scenario`` (ground truth)."""
    start, end = pd.Timestamp(utc_time(scenario["start"])) - slack, pd.Timestamp(utc_time(scenario["end"])) + slack
    first, last = pd.Timestamp(finding["first_seen"]), pd.Timestamp(finding["last_seen"])
    if pd.isna(first) or pd.isna(last) or last < start or first > end:
        return False
    bucket = finding.get("bucket")
    # An incident may touch more than its own bucket (a copy into the attacker's bucket).
    buckets = {scenario.get("bucket"), *scenario.get("other_buckets", ())} - {None}
    if bucket and buckets and bucket not in buckets:
        return False
    ip, principal = finding.get("source_ip"), finding.get("principal")
    if not ip and not principal:
        return bool(bucket) and bucket in buckets
    return (ip in scenario.get("source_ips", [])) or _principal_matches(principal, scenario.get("principals", []))


def score(run: DetectionRun, truth: Mapping[str, Any], slack: dt.timedelta = DEFAULT_SLACK) -> Evaluation:
    """Score ``run`` against a ground truth (``ground_truth.json`` content)."""
    findings = run.findings
    matched = pd.Series(False, index=findings.index)
    scores = []
    records = findings.to_dict("index")
    for scenario in truth["scenarios"]:
        hits = [i for i, row in records.items() if matches(row, scenario, slack)]
        matched[hits] = True
        found_by = tuple(sorted({records[i]["detection_id"] for i in hits}))
        expected = tuple(scenario.get("expected_detections", ()))
        scores.append(
            ScenarioScore(
                id=scenario["id"],
                title=scenario.get("title", scenario["id"]),
                expected=expected,
                found_by=found_by,
                missing=tuple(d for d in expected if d not in found_by),
            )
        )
    days = (utc_time(truth["end"]) - utc_time(truth["start"])) / dt.timedelta(days=1)
    return Evaluation(scenarios=tuple(scores), false_positives=findings[~matched].reset_index(drop=True), days=float(days), run=run)


def load_demo_world(demo_dir: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Ground truth and canonical frames (``s3_access``, ``cloudtrail``) of a demo-world folder."""
    from s3forensics.sources import load_cloudtrail, load_s3_access

    truth_path = demo_dir / "ground_truth.json"
    if not truth_path.is_file():
        raise SourceError(f"{truth_path}: no ground truth here; is {demo_dir} a demo world (s3forensics demo)?")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    access_dirs = sorted(p for p in demo_dir.glob("*/s3-access") if p.is_dir())
    trail_dirs = sorted(p for p in demo_dir.glob("*/AWSLogs") if p.is_dir())
    frames = {
        "s3_access": load_s3_access([str(p) for p in access_dirs]).frame,
        "cloudtrail": load_cloudtrail([str(p) for p in trail_dirs]).frame,
    }
    return truth, frames


def evaluate_shape(
    shape_id: str,
    *,
    days: int | None = None,
    seed: int = 7,
    config: DetectionConfig | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> Evaluation:
    """Generate one benign world shape (``lab.demo.shapes``) with its incidents and score the
    catalogue on it, as a new user would run it: no profile, allowlist or account given
    unless ``config`` says otherwise. ``days`` defaults to the shape's own (3; 2 for the busy
    bucket)."""
    from s3forensics.lab.demo.shapes import generate_shape

    with tempfile.TemporaryDirectory(prefix=f"s3f-shape-{shape_id}-") as tmp:
        generate_shape(shape_id, tmp, days=days, seed=seed)
        return evaluate(tmp, config=config or DetectionConfig(), params=params)


def evaluate(demo_dir: str | Path | None = None, *, config: DetectionConfig | None = None, params: Mapping[str, Mapping[str, Any]] | None = None) -> Evaluation:
    """Run every detection on the demo world and score it.

    Args:
        demo_dir: a generated demo world (with ``ground_truth.json``); default: generate
            one (7 days, seed 7) in a temporary folder.
        config: detection configuration; default :func:`demo_config`.
        params: detection id -> parameter overrides.
    """
    from s3forensics.engines.duckdb_engine import DuckDBEngine

    with tempfile.TemporaryDirectory(prefix="s3f-demo-") as tmp:
        if demo_dir is None:
            from s3forensics.lab.demo.generate import generate

            demo_dir = Path(tmp)
            generate(demo_dir, days=7, seed=7)
        truth, frames = load_demo_world(Path(demo_dir))
    engine = DuckDBEngine(frames=frames)
    try:
        run = run_detections(engine, truth["start"], truth["end"], config=config or demo_config(), params=params)
    finally:
        engine.close()
    return score(run, truth)
