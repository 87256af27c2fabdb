"""The findings' JSON and CSV contract (``detect --format json|csv``), from the findings module."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd

from s3forensics.findings import iso_time, to_csv, to_records
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
