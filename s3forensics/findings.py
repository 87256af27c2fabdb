"""Findings: what the detections report, in one shape, and its JSON and CSV contract.

A finding has the columns of :data:`s3forensics.vocabulary.FINDING_COLUMNS`, in that order
(scripts rely on them: columns are added, never renamed). :func:`to_records` gives the
``detect --format json`` objects: times ISO-8601 UTC with ``Z`` (fractions only when
present), counts as integers, evidence as an object (``sample_keys``, ``request_ids``...),
missing values as null. :func:`to_csv` gives the same columns, times in the same form and
evidence as JSON text. :func:`to_table` is the view people read (``detect --format
table``): worst first, with a total line; it is not a contract.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from s3forensics.display import human_time, readable
from s3forensics.vocabulary import FINDING_COUNTS, FINDING_TIMES, SEVERITIES, severity_rank


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


#: The table view's columns: (heading, finding column).
TABLE_COLUMNS = (
    ("SEVERITY", "severity"),
    ("DETECTION", "detection_id"),
    ("FIRST SEEN (UTC)", "first_seen"),
    ("LAST SEEN", "last_seen"),
    ("BUCKET", "bucket"),
    ("SOURCE IP", "source_ip"),
    ("PRINCIPAL", "principal"),
    ("EVENTS", "event_count"),
    ("BYTES", "bytes"),
    ("SUMMARY", "summary"),
)


def sort_worst_first(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings by severity (critical first), then by first seen, then by detection."""
    if findings.empty:
        return findings
    rank = findings["severity"].map(severity_rank)
    order = pd.DataFrame({"rank": rank, "first": pd.to_datetime(findings["first_seen"], utc=True), "id": findings["detection_id"]})
    return findings.loc[order.sort_values(["rank", "first", "id"], kind="stable").index]


def total_line(findings: pd.DataFrame) -> str:
    """``1,204 finding(s): 2 critical, 10 high, ...; 6 detection(s), 3 bucket(s), 14 source IP(s)``."""
    if findings.empty:
        return "0 findings"
    counts = findings["severity"].str.lower().value_counts()
    levels = ", ".join(f"{int(counts.get(level, 0)):,} {level}" for level in SEVERITIES)
    return (
        f"{len(findings):,} finding(s): {levels}; {findings['detection_id'].nunique():,} detection(s), "
        f"{findings['bucket'].nunique():,} bucket(s), {findings['source_ip'].nunique():,} source IP(s), "
        f"{human_time(findings['first_seen'].min(), seconds=False)} to "
        f"{human_time(max(findings['first_seen'].max(), findings['last_seen'].fillna(findings['first_seen']).max()), seconds=False)} UTC"
    )


def to_table(findings: pd.DataFrame) -> str:
    """Findings as aligned text, worst first, each value whole, ending with the total line."""
    if findings.empty:
        return "no findings\n"
    shown = readable(sort_worst_first(findings)[[column for _, column in TABLE_COLUMNS]], seconds=False)
    rows = [[" ".join(str(value).split()) for value in row] for row in shown.itertuples(index=False, name=None)]
    headings = [heading for heading, _ in TABLE_COLUMNS]
    widths = [max(len(headings[i]), *(len(r[i]) for r in rows)) for i in range(len(headings) - 1)]
    numeric = {i for i, (_, column) in enumerate(TABLE_COLUMNS) if column in FINDING_COUNTS or column == "bytes"}

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))]
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join([line(headings), *(line(r) for r in rows), "", total_line(findings)]) + "\n"
