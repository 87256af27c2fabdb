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

from s3forensics.errors import SourceError
from s3forensics.sources import inputs as inp

log = logging.getLogger(__name__)

SCHEME = inp.LOGS_SCHEME
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


def event_name(group: str, event: dict[str, Any]) -> str:
    """How a rejected event is named: ``logs://group/stream#event-id``."""
    return f"logs://{group}/{event.get('logStreamName', '')}#{event.get('eventId', '')}"


def event_batches(url: str, start: datetime | None, end: datetime | None, session: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The window's events of a ``logs://`` input as (group, event) pairs, in batches of
    about ``BATCH_EVENTS``."""
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


# ----------------------------------------------------------------------------- CloudTrail


