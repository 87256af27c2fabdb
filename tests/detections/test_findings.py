"""The findings' JSON and CSV contract (``detect --format json|csv``), from the findings module."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd

from s3forensics.findings import iso_time, to_csv, to_records, to_table
from s3forensics.vocabulary import FINDING_COLUMNS


def _frame() -> pd.DataFrame:
    row = {
        "detection_id": "large_egress", "title": "t", "severity": "high",
        "first_seen": pd.Timestamp("2026-11-18T10:00:00Z"), "last_seen": pd.Timestamp("2026-11-18T10:00:01.250Z"),
        "bucket": "s3f-case-data", "source_ip": "198.51.100.7", "principal": None,
        "event_count": 3, "bytes": 3000, "summary": "3 requests", "evidence": json.dumps({"sample_keys": ["a"], "request_ids": ["r1"]}),
    }
    empty = {**row, "detection_id": "mass_delete", "last_seen": pd.NaT, "bytes": pd.NA, "evidence": ""}
    frame = pd.DataFrame([row, empty], columns=list(FINDING_COLUMNS))
    frame["event_count"] = frame["event_count"].astype("Int64")
    frame["bytes"] = pd.array([3000, None], dtype="Int64")
    return frame


def test_json_records_keep_the_columns_and_write_plain_values() -> None:
    first, second = to_records(_frame())
    assert list(first) == list(FINDING_COLUMNS)
    assert first["first_seen"] == "2026-11-18T10:00:00Z" and first["last_seen"] == "2026-11-18T10:00:01.250000Z"
    assert first["bytes"] == 3000 and type(first["bytes"]) is int and first["principal"] is None
    assert first["evidence"] == {"sample_keys": ["a"], "request_ids": ["r1"]}
    assert second["last_seen"] is None and second["bytes"] is None and second["evidence"] == {}
    json.dumps([first, second])  # plain JSON, nothing numpy or pandas left


def test_csv_has_the_same_columns_with_iso_times() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(_frame()))))
    assert list(rows[0]) == list(FINDING_COLUMNS)
    assert rows[0]["first_seen"] == "2026-11-18T10:00:00Z" and rows[1]["last_seen"] == ""
    assert json.loads(rows[0]["evidence"])["request_ids"] == ["r1"]


def test_iso_time_is_utc_with_z() -> None:
    assert iso_time(pd.Timestamp("2026-11-18T11:00:00+01:00")) == "2026-11-18T10:00:00Z"
    assert iso_time(pd.Timestamp("2026-11-18T10:00:00")) == "2026-11-18T10:00:00Z"
    assert iso_time(None) is None and iso_time(pd.NaT) is None


def test_the_table_reads_worst_first_with_a_total_line() -> None:
    """`detect --format table` printed thousands of rows by time (the first critical row at
    line 5,993), with no principal and no total: now worst first, every value whole."""
    frame = _frame()
    low = {**frame.iloc[0].to_dict(), "detection_id": "insecure_transport", "severity": "low", "first_seen": pd.Timestamp("2026-11-17T00:00:00Z")}
    critical = {**frame.iloc[0].to_dict(), "detection_id": "bucket_made_public", "severity": "critical", "first_seen": pd.Timestamp("2026-11-19T00:00:00Z"),
                "principal": "arn:aws:iam::111122223333:user/ops-admin", "bytes": 5 * 1024**3, "summary": "made\npublic"}
    frame = pd.concat([pd.DataFrame([low]), frame, pd.DataFrame([critical])], ignore_index=True)
    lines = to_table(frame).splitlines()
    assert lines[0].split()[:3] == ["SEVERITY", "DETECTION", "FIRST"] and "PRINCIPAL" in lines[0]
    assert [ln.split()[0] for ln in lines[1:5]] == ["critical", "high", "high", "low"]
    # Same severity: earlier first (the large egress at 10:00 before the mass delete, same time: by id).
    assert [ln.split()[1] for ln in lines[1:5]] == ["bucket_made_public", "large_egress", "mass_delete", "insecure_transport"]
    assert "arn:aws:iam::111122223333:user/ops-admin" in lines[1] and "5.0 GiB" in lines[1] and lines[1].endswith("made public")
    assert "2,9" not in lines[2] and "2.9 KiB" in lines[2] and " - " in lines[3]  # no principal, no last seen: "-"
    assert "nan" not in to_table(frame).lower() and "NaT" not in to_table(frame)
    assert lines[-1] == (
        "4 finding(s): 1 critical, 2 high, 0 medium, 1 low, 0 info; 4 detection(s), 1 bucket(s), 1 source IP(s), "
        "2026-11-17 00:00 to 2026-11-19 00:00 UTC"
    )
    assert to_table(frame.iloc[0:0]) == "no findings\n"
