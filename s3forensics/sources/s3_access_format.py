"""Render S3 server access log records exactly as S3 writes them.

Used by the demo world generator and by the round-trip tests of the parser. AWS quotes
request-URI, referer and user agent without escaping anything inside them; on
BATCH.DELETE.OBJECT and REST.COPY.OBJECT_GET records those three are a bare ``-``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from s3forensics.schema import S3_ACCESS_COLUMNS

#: Fields written between double quotes.
QUOTED_FIELDS = frozenset({"request_uri", "referer", "user_agent"})
#: Operations whose quoted fields are written as a bare, unquoted ``-``.
BARE_DASH_OPERATIONS = frozenset({"BATCH.DELETE.OBJECT", "REST.COPY.OBJECT_GET"})

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_time(value: datetime) -> str:
    """``[06/Feb/2019:00:00:38 +0000]`` for a timezone-aware datetime (converted to UTC)."""
    if value.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone; S3 access log times are UTC")
    t = value.astimezone(UTC)
    return f"[{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year:04d}:{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000]"


def format_line(record: Mapping[str, Any], fields: int = 27) -> str:
    """One log line (without newline) from a record keyed by canonical column names.

    Args:
        record: canonical column -> value; missing or None values are written as ``-``.
        fields: how many leading fields to write (17..27), as older log formats did.
    """
    if not 17 <= fields <= len(S3_ACCESS_COLUMNS):
        raise ValueError(f"fields must be between 17 and {len(S3_ACCESS_COLUMNS)}, got {fields}")
    bare = record.get("operation") in BARE_DASH_OPERATIONS
    out: list[str] = []
    for name in S3_ACCESS_COLUMNS[:fields]:
        value = record.get(name)
        if name == "time":
            out.append(format_time(value))
        elif name in QUOTED_FIELDS:
            if value is None:
                out.append("-" if bare else '"-"')
            else:
                out.append(f'"{value}"')
        elif value is None:
            out.append("-")
        else:
            text = str(value)
            if not text or " " in text:
                raise ValueError(f"field {name} must be non-empty and without spaces, got {text!r}")
            out.append(text)
    return " ".join(out)
