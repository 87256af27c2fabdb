"""``s3forensics detect`` as scripts use it: validation before work, exit codes, output formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from s3forensics.cli import main
from s3forensics.cli.detect import EXIT_DETECTION_FAILED
from s3forensics.detections import FINDING_COLUMNS
from s3forensics.detections.base import CASE_START, Case, access, case_tables
from s3forensics.schema import CLOUDTRAIL_SCHEMA
from s3forensics.sources.s3_access_format import format_line

FLOOD = access(700, every=dt.timedelta(milliseconds=100), bucket="s3f-case-site", remote_ip="203.0.113.9")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@pytest.fixture()
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs" / "2026-11-18-10-00-00-0123456789ABCDEF"
    path.parent.mkdir()
    path.write_text("\n".join(format_line(r) for r in FLOOD) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("param", "named"),
    [
        ("large_egress.min_bytes=abc", "min_bytes"),
        ("large_egress.no_such_parameter=1", "no_such_parameter"),
        ("request_rate_spike.period_minutes=0", "out of range"),
        ("no_such_detection.min_bytes=1", "no_such_detection"),
    ],
)
def test_an_invalid_param_exits_1_before_anything_runs(logs: Path, tmp_path: Path, param: str, named: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "findings.json"
    assert main(["detect", "--s3-access", str(logs), "--format", "json", "-o", str(out), "--param", param]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and named in err
    assert not out.exists(), "nothing may run (or be written) when a parameter is invalid"


def test_an_unknown_only_id_exits_1(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--s3-access", str(logs), "--only", "request_rate_spike", "no_such_detection"]) == 1
    assert "no_such_detection" in capsys.readouterr().err


def test_output_into_a_missing_folder_is_a_clear_error(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "folder" / "findings.json"
    assert main(["detect", "--s3-access", str(logs), "--format", "json", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and "does not exist" in err and "Traceback" not in err
    assert main(["detect", "--list", "-o", str(target)]) == 1
    assert str(target.parent) in capsys.readouterr().err


def test_csv_times_are_iso_utc_with_z_like_json(logs: Path, tmp_path: Path) -> None:
    common = ["detect", "--s3-access", str(logs), "--profile", "s3f-case-site=public_site", "--param", "request_rate_spike.max_requests_per_ip=500"]
    assert main([*common, "--format", "csv", "-o", str(tmp_path / "f.csv")]) == 0
    assert main([*common, "--format", "json", "-o", str(tmp_path / "f.json")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text())))
    as_json = json.loads((tmp_path / "f.json").read_text())
    assert rows and len(rows) == len(as_json)
    assert list(rows[0]) == list(FINDING_COLUMNS)
    for row, record in zip(rows, as_json, strict=True):
        for column in ("first_seen", "last_seen"):
            assert ISO_Z.match(row[column]), row[column]
            assert row[column] == record[column]
        assert json.loads(row["evidence"]) == record["evidence"]


def test_a_detection_failing_at_run_time_exits_3_and_the_others_still_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A cache whose CloudTrail file has a text event_time: every CloudTrail detection
    # fails in the engine, the access-log detections still run on good data.
    cache = tmp_path / "cache"
    good = case_tables(Case("flood", True, s3_access=FLOOD))["s3_access"]
    (cache / "s3_access" / "date=2026-11-18").mkdir(parents=True)
    pq.write_table(good, cache / "s3_access" / "date=2026-11-18" / "part-0.parquet")
    columns = {f.name: pa.array([None], type=f.type) for f in CLOUDTRAIL_SCHEMA}
    columns["event_time"] = pa.array(["not a time"])
    (cache / "cloudtrail" / "date=2026-11-18").mkdir(parents=True)
    pq.write_table(pa.table(columns), cache / "cloudtrail" / "date=2026-11-18" / "part-0.parquet")

    out = tmp_path / "findings.json"
    start, end = CASE_START.strftime("%Y-%m-%dT00:00:00Z"), (CASE_START + dt.timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    code = main(["detect", "--cache-dir", str(cache), "--start", start, "--end", end, "--format", "json", "-o", str(out),
                 "--profile", "s3f-case-site=public_site", "--param", "request_rate_spike.max_requests_per_ip=500"])
    assert code == EXIT_DETECTION_FAILED == 3
    err = capsys.readouterr().err
    assert "FAILED mass_delete" in err and "failed at run time" in err
    findings = json.loads(out.read_text())
    assert any(f["detection_id"] == "request_rate_spike" and f["source_ip"] == "203.0.113.9" for f in findings)


def test_skipped_for_lack_of_a_source_still_exits_0(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--s3-access", str(logs), "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert "skipped bucket_made_public" in err and "FAILED" not in err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["detect", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text and re.search(r"^\s+3\s+one or more detections failed", text, re.M)
