"""run_detections: bad input, missing sources, allowlists, the finding shape, the CLI contract."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from s3forensics.cli import main
from s3forensics.detections import (
    DETECTION_IDS,
    DETECTIONS,
    FINDING_COLUMNS,
    DetectionConfig,
    baseline,
    configuration,
    probing,
    recovery,
    resolve_params,
    run_detections,
    traffic,
)
from s3forensics.detections.base import CASE_START, Case, Detection, access, case_tables
from s3forensics.detections.config import Allowlist, BucketConfig
from s3forensics.engines.duckdb_engine import DuckDBEngine
from s3forensics.errors import ConfigError, ParameterError
from s3forensics.lab.demo.world import ACCOUNT_ID
from s3forensics.queries import QUERIES_DIR
from s3forensics.schema import empty_table
from s3forensics.sources.s3_access_format import format_line

FLOOD = access(2000, every=dt.timedelta(milliseconds=100), bucket="s3f-case-site", remote_ip="203.0.113.9")


def engine_for(rows: tuple[dict, ...]) -> DuckDBEngine:
    return DuckDBEngine(frames=case_tables(Case("x", True, s3_access=rows)))


def test_catalogue_ids_and_metadata() -> None:
    # The registry is written by hand: it must hold every Detection the modules define, once.
    defined = {id(v): v for module in (traffic, probing, configuration, recovery, baseline) for v in vars(module).values() if isinstance(v, Detection)}
    assert sorted(DETECTION_IDS) == sorted(d.id for d in defined.values())
    assert len(set(DETECTION_IDS)) == len(DETECTION_IDS) == len(DETECTIONS)
    # Every detect__ query file is the logic of exactly one detection, and each detection's
    # query is its own id's: metadata, SQL and cases are found from the id alone.
    query_files = {path.stem for path in QUERIES_DIR.glob("detect__*.sql")}
    assert sorted(d.query_id for d in DETECTIONS) == sorted(query_files)
    for detection in DETECTIONS:
        assert detection.technique.startswith("T1"), detection.id
        assert detection.runbook and detection.false_positives
        for param in detection.parameters():
            assert not param.required, f"{detection.id}.{param.name} has no default"
        for name, _, _ in detection.limits:
            assert name in detection.defaults(), f"{detection.id}: limit on unknown parameter {name}"


def test_out_of_range_parameter_is_reported_and_others_still_run() -> None:
    engine = engine_for(FLOOD)
    run = run_detections(engine, CASE_START, CASE_START + dt.timedelta(days=1), params={"request_rate_spike": {"period_minutes": 0}})
    assert "request_rate_spike" in run.errors and "period_minutes" in run.errors["request_rate_spike"]
    assert "out of range" in run.errors["request_rate_spike"]
    assert len(run.errors) == 1
    assert "baseline_deviation" in run.seconds


def test_unknown_parameter_and_detection() -> None:
    with pytest.raises(ParameterError, match="unknown parameter"):
        resolve_params(DETECTIONS[0], {"nope": 1}, DetectionConfig())
    with pytest.raises(ParameterError, match="unknown detection"):
        run_detections(engine_for(FLOOD), CASE_START, CASE_START + dt.timedelta(days=1), ids=["no_such_detection"])


def test_hostile_parameter_value_stays_a_value() -> None:
    engine = engine_for(FLOOD)
    run = run_detections(
        engine, CASE_START, CASE_START + dt.timedelta(days=1), ids=["scanner_user_agent"], params={"scanner_user_agent": {"user_agent_pattern": "x' OR 1=1 --"}}
    )
    assert not run.errors and run.findings.empty


def test_empty_window_warns_and_missing_source_skips() -> None:
    engine = DuckDBEngine(frames={"s3_access": empty_table("s3_access"), "cloudtrail": empty_table("cloudtrail")})
    run = run_detections(engine, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z", sources={"s3_access"})
    assert any("no S3 server access logs rows" in w for w in run.warnings)
    assert run.errors["bucket_made_public"].startswith("skipped: needs CloudTrail")
    assert "request_rate_spike" not in run.errors
    assert run.findings.empty and list(run.findings.columns) == list(FINDING_COLUMNS)


def test_window_must_be_ordered() -> None:
    with pytest.raises(ParameterError, match="ends before it starts"):
        run_detections(engine_for(FLOOD), "2026-11-19T00:00:00Z", "2026-11-18T00:00:00Z")


def test_cidr_allowlist_per_bucket_only_applies_to_that_bucket() -> None:
    rows = FLOOD + access(2000, every=dt.timedelta(milliseconds=100), bucket="s3f-case-data", remote_ip="203.0.113.9", request_id="D{i}")
    config = DetectionConfig(buckets={"s3f-case-site": BucketConfig("public_site", Allowlist(cidrs=("203.0.113.0/24",)))})
    run = run_detections(engine_for(rows), CASE_START, CASE_START + dt.timedelta(days=1), ids=["request_rate_spike"], config=config)
    ip_findings = run.findings[run.findings["source_ip"].notna()]
    assert list(ip_findings["bucket"]) == ["s3f-case-data"]


def test_bad_allowlist_names_the_value() -> None:
    with pytest.raises(ConfigError, match="not-a-cidr"):
        Allowlist(cidrs=("not-a-cidr",))
    with pytest.raises(ConfigError, match="profile"):
        BucketConfig("website")


def test_finding_evidence_and_grouping() -> None:
    run = run_detections(engine_for(FLOOD), CASE_START, CASE_START + dt.timedelta(days=1), ids=["request_rate_spike"])
    ip = run.findings[run.findings["source_ip"] == "203.0.113.9"]
    assert len(ip) == 1, "one flood is one finding, not one per period"
    row = ip.iloc[0]
    assert row["event_count"] == 2000 and row["bytes"] == 2000 * 1000
    evidence = json.loads(row["evidence"])
    assert evidence["sample_keys"] and evidence["request_ids"] and len(evidence["request_ids"]) <= 10
    assert row["first_seen"] == pd.Timestamp(FLOOD[0]["time"])


def _write_logs(folder: Path, rows: tuple[dict, ...]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "2026-11-18-10-00-00-0123456789ABCDEF"
    path.write_text("\n".join(format_line({**r, "bucket_owner": r["bucket_owner"]}) for r in rows) + "\n", encoding="utf-8")
    return path


def test_cli_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = _write_logs(tmp_path / "logs", FLOOD[:700])
    out = tmp_path / "findings.json"
    code = main(["detect", "--s3-access", str(logs), "--format", "json", "-o", str(out), "--profile", "s3f-case-site=public_site", "--param", "request_rate_spike.max_requests_per_ip=500"])
    assert code == 0
    findings = json.loads(out.read_text())
    assert isinstance(findings, list) and findings
    assert all(list(f) == list(FINDING_COLUMNS) for f in findings)
    spike = [f for f in findings if f["detection_id"] == "request_rate_spike"]
    assert spike and spike[0]["source_ip"] == "203.0.113.9" and spike[0]["first_seen"].endswith("Z")
    assert "no cloudtrail logs given" in capsys.readouterr().err


def test_cli_bad_parameter_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = _write_logs(tmp_path / "logs", FLOOD[:10])
    assert main(["detect", "--s3-access", str(logs), "--param", "oops"]) == 1
    assert "DETECTION.PARAMETER=VALUE" in capsys.readouterr().err


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--list"]) == 0
    text = capsys.readouterr().out
    assert all(d in text for d in DETECTION_IDS)
    assert ACCOUNT_ID == "111122223333"
    # Each detection says where its SQL and its cases are: one id finds all three.
    for d in DETECTIONS:
        fire = sum(c.fires for c in d.cases)
        assert f"    sql: queries/detect__{d.id}.sql; cases: {fire} that fire, {len(d.cases) - fire} near misses\n" in text
        assert (QUERIES_DIR / f"detect__{d.id}.sql").is_file() and fire >= 1 and len(d.cases) > fire


def test_noisy_private_bucket_gets_a_profile_hint() -> None:
    rows = access(60, bucket="s3f-case-site", remote_ip="198.51.100.{i}")
    run = run_detections(engine_for(rows), CASE_START, CASE_START + dt.timedelta(days=1), ids=["anonymous_access_private"])
    assert len(run.findings) == 60
    assert any("--profile s3f-case-site=public_site" in w for w in run.warnings)
    quiet = run_detections(
        engine_for(rows), CASE_START, CASE_START + dt.timedelta(days=1), ids=["anonymous_access_private"], config=DetectionConfig(buckets={"s3f-case-site": BucketConfig("public_site")})
    )
    assert quiet.findings.empty and not quiet.warnings
