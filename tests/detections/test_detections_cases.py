"""Every detection's own cases: each firing case gives exactly its expected findings, each near miss stays silent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest

from s3forensics.detections import (
    DETECTIONS,
    Allowlist,
    BucketConfig,
    DetectionConfig,
    run_detections,
)
from s3forensics.detections.base import (
    CASE_ACCOUNT,
    CASE_DATA,
    CASE_SITE,
    Case,
    Detection,
    case_tables,
)
from s3forensics.engines.duckdb_engine import DuckDBEngine
from s3forensics.vocabulary import FINDING_COLUMNS, ROW_FIELDS

CASES = [pytest.param(d, c, id=f"{d.id}-{'fires' if c.fires else 'quiet'}-{c.name}") for d in DETECTIONS for c in d.cases]


def case_config(case: Case) -> DetectionConfig:
    allow = Allowlist(**{k: tuple(v) for k, v in case.allow.items()})
    return DetectionConfig(
        buckets={CASE_SITE: BucketConfig("public_site"), CASE_DATA: BucketConfig("private_data")},
        allow=allow,
        own_accounts=(CASE_ACCOUNT,),
    )


def run_case(detection: Detection, case: Case):
    engine = DuckDBEngine(frames=case_tables(case))
    try:
        return run_detections(engine, case.start, case.end, ids=[detection.id], params={detection.id: dict(case.params)}, config=case_config(case))
    finally:
        engine.close()


def _plain(name: str, value: Any) -> Any:
    """A finding field comparable with an expectation: UTC Timestamps, ints, None for nulls."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if name in ("first_seen", "last_seen"):
        stamp = pd.Timestamp(value)
        assert stamp.tzinfo is not None, f"{name}={value!r} is not timezone-aware"
        return stamp.tz_convert("UTC")
    if name in ("event_count", "bytes"):
        return int(value)
    return value


def _normal(finding: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(name, finding[name]) for name in ROW_FIELDS}


def _order(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    """A total order over findings (None sorts first)."""
    return tuple((value is not None, value if value is not None else 0) for value in (finding[name] for name in ROW_FIELDS))


def test_every_detection_has_a_firing_case_and_a_near_miss() -> None:
    for detection in DETECTIONS:
        kinds = {case.fires for case in detection.cases}
        assert kinds == {True, False}, f"{detection.id} needs >= 1 firing case and >= 1 near miss"


@pytest.mark.parametrize(("detection", "case"), CASES)
def test_case(detection: Detection, case: Case) -> None:
    run = run_case(detection, case)
    assert not run.errors, run.errors
    found = run.findings
    assert list(found.columns) == list(FINDING_COLUMNS)
    if case.fires:
        assert case.expect, f"{detection.id}: firing case {case.name} has no expect: state the findings it must produce"
        for wanted in case.expect:
            assert set(wanted) == set(ROW_FIELDS), f"{detection.id}: case {case.name}: an expectation needs exactly {ROW_FIELDS}, got {sorted(wanted)}"
        assert len(found) >= 1, f"{detection.id}: case {case.name} should fire"
        assert set(found["detection_id"]) == {detection.id}
        assert found["first_seen"].notna().all() and (found["first_seen"] <= found["last_seen"]).all()
        assert (found["event_count"] >= 1).all()
        assert found["summary"].str.len().gt(10).all()
        assert "{" not in " ".join(found["summary"])
        got = sorted((_normal(row) for row in found.to_dict("records")), key=_order)
        want = sorted((_normal(row) for row in case.expect), key=_order)
        assert got == want, f"{detection.id}: case {case.name}: findings differ from expect"
    else:
        assert not case.expect, f"{detection.id}: near miss {case.name} must not expect findings"
        assert found.empty, f"{detection.id}: near miss {case.name} fired: {found[['summary']].to_dict('records')}"
