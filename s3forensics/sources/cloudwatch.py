"""Logs read through the CloudWatch Logs API: ``logs://LOG_GROUP[/STREAM_PREFIX]``.

Two sources land in a log group:

* S3 server access logs delivered to CloudWatch Logs (vended logs), one structured JSON
  object per event (AWS user guide, "Log format in CloudWatch Logs"). Its field names
  differ from the text format's (``bucket_name``, ``bucket_owner_id``, ``request_time``
  in ISO 8601, ``key_name``...); ``FIELD_ALIASES`` maps them to the canonical columns.
  An event whose message is a text-format line is parsed as one.
* CloudTrail delivered to a log group: one CloudTrail record (JSON) per event.

Events are read with ``FilterLogEvents`` for the time window (milliseconds, paginated),
a little wider than the window since an event's timestamp may differ from the record's
time; rows are then kept by the record's own time (the rest count as outside the
window). A rejected event names ``logs://group/stream#event-id``.

Log group names may contain ``/``: the longest leading part of the path that names an
existing log group is the group, the rest is the stream-name prefix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa

from s3forensics.errors import SourceError
from s3forensics.schema import S3_ACCESS_COLUMNS, S3_ACCESS_SCHEMA
from s3forensics.sources import inputs as inp
from s3forensics.sources.report import Reject, ReportBuilder

log = logging.getLogger(__name__)

SCHEME = "logs://"
#: Events are fetched this much beyond the window on each side (event vs record time).
EVENT_MARGIN = timedelta(minutes=15)
#: Events parsed at once.
BATCH_EVENTS = 50_000

#: Canonical column <- field names of the CloudWatch Logs JSON format (first present wins).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "bucket_owner": ("bucket_owner_id", "bucket_owner"),
    "bucket": ("bucket_name", "bucket"),
    "time": ("request_time", "time"),
    "remote_ip": ("remote_ip",),
    "requester": ("requester",),
    "request_id": ("request_id",),
    "operation": ("operation",),
    "key": ("key_name", "key"),
    "request_uri": ("request_uri",),
    "http_status": ("http_status",),
    "error_code": ("error_code",),
    "bytes_sent": ("bytes_sent",),
    "object_size": ("object_size",),
    "total_time": ("total_time",),
    "turn_around_time": ("turn_around_time",),
    "referer": ("referrer", "referer"),
    "user_agent": ("user_agent",),
    "version_id": ("version_id",),
    "host_id": ("host_id",),
    "signature_version": ("signature_version",),
    "cipher_suite": ("cipher_suite",),
    "authentication_type": ("authentication_type",),
    "host_header": ("host_header",),
    "tls_version": ("tls_version",),
    "access_point_arn": ("access_point_arn",),
    "acl_required": ("acl_required",),
    "source_region": ("source_region",),
}
_INTS = {"http_status": 2**31, "bytes_sent": 2**63, "object_size": 2**63, "total_time": 2**63, "turn_around_time": 2**63}


def is_logs(value: Any) -> bool:
    """True for ``logs://`` inputs."""
    return isinstance(value, str) and value.startswith(SCHEME)


def _resolve(client: Any, url: str) -> tuple[str, str | None]:
    """(log group, stream prefix or None) of a ``logs://`` input."""
    path = url[len(SCHEME) :]
    if not path.strip("/"):
        raise SourceError(f"{url!r} names no log group (expected logs://LOG_GROUP[/STREAM_PREFIX])")
    parts = path.split("/")
    for cut in range(len(parts), 0, -1):
        group = "/".join(parts[:cut])
        if not group.strip("/"):
            continue
        try:
            found = client.describe_log_groups(logGroupNamePrefix=group, limit=50).get("logGroups", [])
        except Exception as exc:
            raise SourceError(f"cannot read log group of {url}: {exc}") from exc
        if any(g.get("logGroupName") == group for g in found):
            rest = "/".join(parts[cut:])
            return group, rest or None
    raise SourceError(f"{url}: no CloudWatch Logs log group named {path!r} (or a leading part of it)")


def iter_events(
    url: str, start: datetime | None, end: datetime | None, session: Any = None
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(log group, events) pages of ``FilterLogEvents`` for the window (with a margin)."""
    from s3forensics import aws

    client = aws.client("logs", session)
    group, stream_prefix = _resolve(client, url)
    base: dict[str, Any] = {"logGroupName": group}
    if start is not None:
        base["startTime"] = int((start - EVENT_MARGIN).timestamp() * 1000)
    if end is not None:
        base["endTime"] = int((end + EVENT_MARGIN).timestamp() * 1000)
    try:
        if stream_prefix:
            # Streams are named explicitly (FilterLogEvents takes up to 100 names per call).
            streams = _streams(client, group, stream_prefix)
            if not streams:
                log.info("%s: no log stream starts with %r", url, stream_prefix)
            selections = [{"logStreamNames": streams[i : i + 100]} for i in range(0, len(streams), 100)]
        else:
            selections = [{}]
        for selection in selections:
            kwargs = {**base, **selection}
            while True:
                resp = client.filter_log_events(**kwargs)
                yield group, resp.get("events", [])
                token = resp.get("nextToken")
                if not token or token == kwargs.get("nextToken"):
                    break
                kwargs["nextToken"] = token
    except SourceError:
        raise
    except Exception as exc:  # botocore errors carry the code; name the location
        raise SourceError(f"cannot read {url}: {exc}") from exc


def _streams(client: Any, group: str, prefix: str) -> list[str]:
    names: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamNamePrefix": prefix}
    while True:
        resp = client.describe_log_streams(**kwargs)
        names.extend(s["logStreamName"] for s in resp.get("logStreams", []) if s["logStreamName"].startswith(prefix))
        token = resp.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return names
        kwargs["nextToken"] = token


def _event_name(group: str, event: dict[str, Any]) -> str:
    return f"logs://{group}/{event.get('logStreamName', '')}#{event.get('eventId', '')}"


def _batches(url: str, start: datetime | None, end: datetime | None, session: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    batch: list[tuple[str, dict[str, Any]]] = []
    for group, events in iter_events(url, start, end, session):
        batch.extend((group, e) for e in events)
        if len(batch) >= BATCH_EVENTS:
            yield batch
            batch = []
    if batch:
        yield batch


# ----------------------------------------------------------------------------- S3 access


def access_record(obj: dict[str, Any]) -> dict[str, Any] | str:
    """One CloudWatch Logs JSON access log record -> canonical record, or why not."""
    rec: dict[str, Any] = {}
    for column, names in FIELD_ALIASES.items():
        value = None
        for name in names:
            if obj.get(name) is not None:
                value = obj[name]
                break
        if value == "-" or value == "":
            value = None if column not in ("request_uri", "referer", "user_agent") or value == "-" else value
        if value is None:
            rec[column] = None
            continue
        if column == "time":
            if not isinstance(value, str):
                return f"request_time {value!r} is not an ISO-8601 time"
            stamp = pd.to_datetime(value, utc=True, format="ISO8601", errors="coerce")
            if pd.isna(stamp):
                return f"request_time {value!r} is not an ISO-8601 time"
            rec[column] = stamp.to_pydatetime()
        elif column in _INTS:
            if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
                return f"{column} {value!r} is not a whole number"
            number = int(value)
            if not 0 <= number < _INTS[column]:
                return f"{column} {value} is out of range"
            rec[column] = number
        else:
            rec[column] = value if isinstance(value, str) else json.dumps(value)
    if rec["time"] is None:
        return "request_time missing"
    if rec["bucket"] is None and isinstance(obj.get("bucket_arn"), str):
        rec["bucket"] = obj["bucket_arn"].rsplit(":", 1)[-1] or None
    return rec


def iter_access_tables(
    url: str, start: datetime | None, end: datetime | None, report: ReportBuilder, session: Any = None
) -> Iterator[pa.Table]:
    """Canonical ``s3_access`` tables of a ``logs://`` input, into ``report``."""
    from s3forensics.sources.s3_access import _Locator, filter_window, parse_chunk

    for batch in _batches(url, start, end, session):
        records: list[dict[str, Any]] = []
        text_lines: list[bytes] = []
        locate = _Locator()
        for group, event in batch:
            message = event.get("message") or ""
            name = _event_name(group, event)
            if not message.lstrip().startswith("{"):
                # A text-format line (custom pipelines forward those too).
                locate.add(name, 1, len(text_lines))
                text_lines.append(message.replace("\n", " ").encode("utf-8") + b"\n")
                continue
            report.lines_read += 1
            try:
                obj = json.loads(message)
            except json.JSONDecodeError as exc:
                report.reject(name, 1, f"invalid JSON: {exc.msg} (column {exc.colno})", message)
                continue
            if not isinstance(obj, dict):
                report.reject(name, 1, f"a JSON {type(obj).__name__}, not an access log record", message)
                continue
            rec = access_record(obj)
            if isinstance(rec, str):
                report.reject(name, 1, rec, message)
            else:
                records.append(rec)
        tables = []
        if records:
            table = pa.Table.from_pylist(records, schema=S3_ACCESS_SCHEMA)
            if start is not None or end is not None:
                before = table.num_rows
                table = filter_window(table, "time", start, end)
                report.outside_window += before - table.num_rows
            report.rows += table.num_rows
            tables.append(table)
        if text_lines:
            tables.append(parse_chunk(b"".join(text_lines), "", 1, report, start, end, locate=locate))
        for table in tables:
            yield table.select(list(S3_ACCESS_COLUMNS))


# ----------------------------------------------------------------------------- CloudTrail


def iter_cloudtrail_tables(
    url: str, start: datetime | None, end: datetime | None, report: ReportBuilder, session: Any = None
) -> Iterator[pa.Table]:
    """Canonical ``cloudtrail`` tables of a ``logs://`` input, into ``report``."""
    from s3forensics.sources.cloudtrail import INSIGHT_EVENT_TYPE, _window, records_to_table

    for batch in _batches(url, start, end, session):
        by_stream: dict[str, tuple[list[Any], list[str]]] = {}
        for group, event in batch:
            message = event.get("message") or ""
            name = _event_name(group, event)
            try:
                rec = json.loads(message)
            except json.JSONDecodeError as exc:
                report.lines_read += 1
                report.reject(name, 1, f"invalid JSON: {exc.msg} (column {exc.colno})", message)
                continue
            if isinstance(rec, dict) and rec.get("eventType") == INSIGHT_EVENT_TYPE:
                report.skip(name, "CloudTrail Insights event (not an API event)")
                continue
            records, ids = by_stream.setdefault(f"logs://{group}/{event.get('logStreamName', '')}", ([], []))
            records.append(rec)
            ids.append(str(event.get("eventId", "")))
        for stream, (records, ids) in by_stream.items():
            before = len(report.rejects)
            table = records_to_table(records, stream, report, range(1, len(records) + 1))
            # Name rejected events by their event id (records_to_table numbers them).
            for i in range(before, len(report.rejects)):
                r = report.rejects[i]
                report.rejects[i] = Reject(f"{stream}#{ids[r.line - 1]}", 1, r.reason, r.text)
            yield _window(table, report, start, end)


def load_tables(kind: str, url: str, start: datetime | None, end: datetime | None, report: ReportBuilder, session: Any = None) -> Iterator[pa.Table]:
    """Tables of either kind from one ``logs://`` input."""
    if kind == "s3_access":
        return iter_access_tables(url, inp.to_utc(start), inp.to_utc(end), report, session)
    return iter_cloudtrail_tables(url, inp.to_utc(start), inp.to_utc(end), report, session)
