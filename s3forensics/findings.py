"""Findings: what the detections report, in one shape, and its JSON and CSV contract.

A finding has the columns of :data:`s3forensics.vocabulary.FINDING_COLUMNS`, in that order
(scripts rely on them: columns are added, never renamed). :func:`to_records` gives the
``detect --format json`` objects: times ISO-8601 UTC with ``Z`` (fractions only when
present), counts as integers, evidence as an object (``sample_keys``, ``request_ids``...),
missing values as null. :func:`to_csv` gives the same columns, times in the same form and
evidence as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from s3forensics.vocabulary import FINDING_COUNTS, FINDING_TIMES


def iso_time(value: Any) -> str | None:
    """A finding time as ISO-8601 UTC with ``Z`` (fractions only when present); None for NaT."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def to_records(findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Findings as JSON-ready dicts (the ``detect --format json`` contract)."""
    records = []
    for row in findings.to_dict("records"):
        record: dict[str, Any] = {}
        for name, value in row.items():
            if name in FINDING_TIMES:
                record[name] = iso_time(value)
            elif name == "evidence":
                record[name] = json.loads(value) if value else {}
            elif name in FINDING_COUNTS:
                record[name] = None if pd.isna(value) else int(value)
            else:
                record[name] = None if value is None or (not isinstance(value, str) and pd.isna(value)) else value
        records.append(record)
    return records


def to_csv(findings: pd.DataFrame) -> str:
    """Findings as CSV: the JSON contract's columns, times ISO-8601 with ``Z``, evidence as JSON text."""
    frame = findings.copy()
    for column in FINDING_TIMES:
        frame[column] = pd.Series([iso_time(v) for v in findings[column]], index=findings.index, dtype="object")
    return frame.to_csv(index=False)
