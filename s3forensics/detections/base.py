"""Detection metadata, test cases and canonical-row builders shared by every detection.

A detection is one frozen :class:`Detection`: its metadata (id, title, severity, MITRE
ATT&CK technique, sources, runbook, known false positives), the library query that holds
its logic (``queries/detect__<id>.sql``, so it runs on Athena too), the ranges its
parameters must stay within, and its test cases: at least one that fires and one near
miss that must not. Cases are small lists of canonical rows built with :func:`access` and
:func:`trail`, so a reader sees the whole story of the case beside the detection; a firing
case also states, with :func:`finding` (or :func:`run_finding` for one evenly spaced run of
rows), the findings it must produce (actor, bucket, window and counts), worked out from its rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3forensics.queries import WINDOW_PARAMS, Param
from s3forensics.vocabulary import SEVERITIES

if TYPE_CHECKING:
    import pandas as pd

    from s3forensics.detections.config import DetectionConfig

UTC = dt.UTC
#: Default analysed window of a test case: one day.
CASE_START = dt.datetime(2026, 11, 18, tzinfo=UTC)
CASE_END = CASE_START + dt.timedelta(days=1)
#: Time of the first row :func:`access` and :func:`trail` build unless given ``at``.
CASE_AT = CASE_START + dt.timedelta(hours=10)
CASE_ACCOUNT = "111122223333"
CASE_SITE = "s3f-case-site"
CASE_DATA = "s3f-case-data"
#: Remote IP of :func:`access` rows, and ``bytes_sent`` / ``object_size`` of each, unless told otherwise.
CASE_IP = "198.51.100.7"
CASE_BYTES = 1000
#: Source IP and identity (ARN) of :func:`trail` rows unless told otherwise.
CASE_TRAIL_IP = "203.0.113.10"
CASE_ADMIN = f"arn:aws:iam::{CASE_ACCOUNT}:user/ops-admin"


@dataclass(frozen=True)
class Case:
    """One test case of a detection.

    Attributes:
        name: short readable id (used as the pytest id).
        fires: True when the detection must report findings (those of ``expect``).
        s3_access: canonical S3 access rows (column -> value; missing columns are null).
        cloudtrail: canonical CloudTrail rows.
        params: parameter overrides for this detection.
        start: analysed window start (default :data:`CASE_START`).
        end: analysed window end (default :data:`CASE_END`).
        allow: extra allowlist entries for the case config, e.g. ``{"cidrs": ("192.0.2.0/24",)}``.
        expect: the findings a firing case must produce, exactly: one :func:`finding` each
            (actor, bucket, first and last time, event and byte counts), in any order.
            Required when ``fires``; empty for a near miss.
    """

    name: str
    fires: bool
    s3_access: tuple[Mapping[str, Any], ...] = ()
    cloudtrail: tuple[Mapping[str, Any], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    start: dt.datetime = CASE_START
    end: dt.datetime = CASE_END
    allow: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expect: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.expect and not self.fires:
            raise ValueError(f"case {self.name}: a near miss expects no findings, got expect={self.expect!r}")


def finding(
    *,
    bucket: str | None,
    source_ip: str | None,
    principal: str | None,
    first_seen: dt.datetime,
    last_seen: dt.datetime,
    event_count: int,
    bytes: int,
) -> dict[str, Any]:
    """One finding a firing case must produce (:attr:`Case.expect`).

    Every field of :data:`ROW_FIELDS` must be given, ``None`` where the finding has none
    (no principal for an anonymous caller, no IP for a bucket-wide finding), so that an
    expectation says all a responder reads first.

    Args:
        bucket: bucket of the finding.
        source_ip: IP the finding names.
        principal: requester or CloudTrail identity ARN the finding names.
        first_seen: time of its first event (timezone-aware).
        last_seen: time of its last event (timezone-aware).
        event_count: events it counts.
        bytes: bytes it reports (``0`` from detections that do not measure bytes).

    Raises:
        ValueError: a naive time, or ``last_seen`` before ``first_seen``.
    """
    for name, value in (("first_seen", first_seen), ("last_seen", last_seen)):
        if value.tzinfo is None:
            raise ValueError(f"expected finding: {name}={value!r} must be timezone-aware")
    if last_seen < first_seen:
        raise ValueError(f"expected finding: last_seen {last_seen} is before first_seen {first_seen}")
    return {
        "bucket": bucket,
        "source_ip": source_ip,
        "principal": principal,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "event_count": event_count,
        "bytes": bytes,
    }


@dataclass(frozen=True)
class Detection:
    """One detection: metadata, where its logic lives, parameter ranges and test cases.

    Attributes:
        id: stable id (see ``DETECTION_IDS``).
        title: one line naming what was seen.
        severity: one of :data:`SEVERITIES`.
        technique: MITRE ATT&CK technique, ``"T1530 Data from Cloud Storage"``.
        sources: logical tables read (``s3_access``, ``cloudtrail``).
        summary: text template over the query's columns, e.g. ``"{event_count} requests"``.
        runbook: what a responder does next.
        false_positives: known benign causes.
        limits: ``(param, low, high)`` ranges; a value outside is a ParameterError.
        cases: test cases (>= 1 that fires, >= 1 near miss).
        extra_params: parameters consumed in Python (not by the query).
        analyse: turns the query's rows into finding rows (Python detections only).
        history_days_param: parameter holding a lookback in days: the query then starts
            that many days before the analysed window (Python-side history).
    """

    id: str
    title: str
    severity: str
    technique: str
    sources: tuple[str, ...]
    summary: str
    runbook: str
    false_positives: tuple[str, ...]
    limits: tuple[tuple[str, float | None, float | None], ...] = ()
    cases: tuple[Case, ...] = ()
    extra_params: tuple[Param, ...] = ()
    analyse: Callable[[pd.DataFrame, Mapping[str, Any], DetectionConfig], pd.DataFrame] | None = None
    history_days_param: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"detection {self.id}: severity {self.severity!r} not in {SEVERITIES}")

    @property
    def query_id(self) -> str:
        """The library query holding the logic: ``queries/detect__<id>.sql``."""
        return f"detect__{self.id}"

    def parameters(self) -> tuple[Param, ...]:
        """Every tunable parameter with its default (the window ``start``/``end`` excluded)."""
        from s3forensics.queries import load_query

        query = load_query(self.query_id)
        window = {w.name for w in WINDOW_PARAMS}
        return tuple(p for p in (*query.params, *self.extra_params) if p.name not in window)

    def defaults(self) -> dict[str, Any]:
        """Parameter name -> default value."""
        return {p.name: p.default for p in self.parameters()}



def run_finding(
    n: int,
    *,
    bucket: str | None,
    source_ip: str | None,
    principal: str | None,
    every: dt.timedelta = dt.timedelta(seconds=1),
    size: int = CASE_BYTES,
    at: dt.datetime = CASE_AT,
) -> dict[str, Any]:
    """The :func:`finding` of one run of ``n`` events as :func:`access` and :func:`trail` lay
    them out: one every ``every`` from ``at``, ``size`` bytes each (``0`` for a detection that
    does not measure bytes)."""
    return finding(
        bucket=bucket,
        source_ip=source_ip,
        principal=principal,
        first_seen=at,
        last_seen=at + (n - 1) * every,
        event_count=n,
        bytes=n * size,
    )


def _fill(template: Any, i: int) -> Any:
    if isinstance(template, str) and "{i}" in template:
        return template.replace("{i}", str(i))
    if callable(template):
        return template(i)
    return template


def access(
    n: int = 1,
    *,
    at: dt.datetime | None = None,
    every: dt.timedelta = dt.timedelta(seconds=1),
    **fields: Any,
) -> tuple[dict[str, Any], ...]:
    """``n`` S3 access rows, one every ``every`` from ``at`` (default :data:`CASE_AT`); ``{i}`` in text fields counts.

    Defaults describe an authenticated-by-nobody GET of a small object over TLS 1.3 on the
    case's private bucket. Any canonical column can be overridden.
    """
    start = at or CASE_AT
    base: dict[str, Any] = {
        "bucket_owner": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        "bucket": CASE_DATA,
        "remote_ip": CASE_IP,
        "requester": None,
        "request_id": "REQ{i}",
        "operation": "REST.GET.OBJECT",
        "key": "reports/file-{i}.csv",
        "request_uri": None,
        "http_status": 200,
        "error_code": None,
        "bytes_sent": CASE_BYTES,
        "object_size": CASE_BYTES,
        "total_time": 20,
        "turn_around_time": 10,
        "referer": None,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "signature_version": None,
        "cipher_suite": "TLS_AES_128_GCM_SHA256",
        "authentication_type": None,
        "host_header": f"{CASE_DATA}.s3.us-east-1.amazonaws.com",
        "tls_version": "TLSv1.3",
    }
    base.update(fields)
    rows = []
    for i in range(n):
        row = {name: _fill(value, i) for name, value in base.items()}
        row["time"] = start + every * i
        if row.get("request_uri") is None and row.get("key") is not None:
            verb = str(row["operation"]).split(".")[1] if "." in str(row["operation"]) else "GET"
            row["request_uri"] = f"{verb} /{row['key']} HTTP/1.1"
        rows.append(row)
    return tuple(rows)


def trail(
    n: int = 1,
    *,
    at: dt.datetime | None = None,
    every: dt.timedelta = dt.timedelta(seconds=1),
    **fields: Any,
) -> tuple[dict[str, Any], ...]:
    """``n`` CloudTrail rows (S3 API calls by an IAM user of the case account)."""
    start = at or CASE_AT
    base: dict[str, Any] = {
        "event_version": "1.09",
        "event_source": "s3.amazonaws.com",
        "event_name": "GetObject",
        "aws_region": "us-east-1",
        "source_ip_address": CASE_TRAIL_IP,
        "user_agent": "aws-cli/2.15.0 Python/3.11",
        "user_identity_type": "IAMUser",
        "user_identity_arn": CASE_ADMIN,
        "user_identity_account_id": CASE_ACCOUNT,
        "user_identity_principal_id": "AIDAEXAMPLE",
        "user_identity_user_name": "ops-admin",
        "bucket_name": CASE_DATA,
        "object_key": None,
        "error_code": None,
        "read_only": False,
        "management_event": True,
        "event_category": "Management",
        "event_type": "AwsApiCall",
        "recipient_account_id": CASE_ACCOUNT,
        "request_id": "CTREQ{i}",
        "event_id": "evt-{i}",
        "request_parameters": None,
    }
    base.update(fields)
    rows = []
    for i in range(n):
        row = {name: _fill(value, i) for name, value in base.items()}
        row["event_time"] = start + every * i
        rows.append(row)
    return tuple(rows)


def case_tables(case: Case) -> dict[str, object]:
    """The case's rows as Arrow tables with the canonical schemas (missing columns null)."""
    from s3forensics.schema import CLOUDTRAIL_SCHEMA, S3_ACCESS_SCHEMA

    return {
        "s3_access": _table(case.s3_access, S3_ACCESS_SCHEMA),
        "cloudtrail": _table(case.cloudtrail, CLOUDTRAIL_SCHEMA),
    }


def _table(rows: tuple[Mapping[str, Any], ...], schema: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)


def request_parameters(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A CloudTrail row's ``request_parameters`` as a mapping (``{}`` when absent), or
    ``None`` when its text is not JSON or not a JSON object."""
    try:
        params = json.loads(row.get("request_parameters") or "{}")
    except ValueError:
        return None
    return params if isinstance(params, Mapping) else None


def calls_by_actor(calls: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Control-plane calls judged one by one (each with ``changes``, ``event_name``,
    ``event_time`` and ``request_id``) as finding rows: one per (bucket, source, principal),
    their changes and operations listed once each, no bytes."""
    import pandas as pd

    columns = ["bucket", "source_ip", "principal", "first_seen", "last_seen", "event_count", "bytes", "changes", "operation_names", "sample_request_ids"]
    if not calls:
        return pd.DataFrame(columns=columns)
    keys = ["bucket", "source_ip", "principal"]
    out = []
    for key, group in pd.DataFrame(calls).groupby(keys, dropna=False, sort=True):
        out.append(
            {
                **dict(zip(keys, key)),
                "first_seen": group["event_time"].min(),
                "last_seen": group["event_time"].max(),
                "event_count": len(group),
                "bytes": 0,
                "changes": "; ".join(dict.fromkeys("; ".join(group["changes"]).split("; "))),
                "operation_names": ", ".join(sorted(set(group["event_name"]))),
                "sample_request_ids": list(dict.fromkeys(group["request_id"].dropna()))[:10],
            }
        )
    return pd.DataFrame(out, columns=columns)
