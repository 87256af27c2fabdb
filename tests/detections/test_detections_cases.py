"""Every detection's own cases: each firing case fires, each near miss stays silent."""

from __future__ import annotations

import pytest

from s3forensics.detections import DETECTIONS, Allowlist, BucketConfig, DetectionConfig, run_detections
from s3forensics.detections.base import CASE_ACCOUNT, CASE_DATA, CASE_SITE, FINDING_COLUMNS, Case, Detection, case_tables
from s3forensics.engines.duckdb_engine import DuckDBEngine

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
        assert len(found) >= 1, f"{detection.id}: case {case.name} should fire"
        assert set(found["detection_id"]) == {detection.id}
        assert found["first_seen"].notna().all() and (found["first_seen"] <= found["last_seen"]).all()
        assert (found["event_count"] >= 1).all()
        assert found["summary"].str.len().gt(10).all()
        assert "{" not in " ".join(found["summary"])
    else:
        assert found.empty, f"{detection.id}: near miss {case.name} fired: {found[['summary']].to_dict('records')}"
