"""CloudTrail log files -> rows in the canonical ``cloudtrail`` schema.

Accepted shapes: ``{"Records": [...]}`` files (gzip or plain, as CloudTrail delivers
them), a JSON array of records, a single record, and JSON lines (one record per line, as
exports and CloudWatch Logs give them). Digest files and CloudTrail Insights files that
share the delivery bucket are skipped and counted, never parsed as events.

The schema is fixed (no type guessing from samples). ``requestParameters``,
``responseElements`` and ``additionalEventData`` are kept as their original JSON text,
byte for byte as the file has them (located by a numpy index of the file's strings and
brackets); records that come without a file (``parse_records``, CloudWatch Logs) get
compact JSON of exactly the keys they had. Columns are extracted column by column, not
record by record. Unknown keys are ignored, missing keys are null. A "line" in the
report is one record (or one unparseable line/file).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.schema import CLOUDTRAIL_COLUMNS, CLOUDTRAIL_SCHEMA
from s3forensics.sources import inputs as inp
from s3forensics.sources.report import LoadResult, ReportBuilder
from s3forensics.sources.s3_access import _progress, filter_window, load_tables, to_pandas

log = logging.getLogger(__name__)

INSIGHT_EVENT_TYPE = "AwsCloudTrailInsight"
_DIGEST_KEYS = frozenset({"digestStartTime", "digestEndTime", "logFiles", "digestS3Object"})
_JSON_TEXT = ("request_parameters", "response_elements", "additional_event_data")


class _NotJson(Exception):
    def __init__(self, line: int, reason: str, text: str) -> None:
        super().__init__(reason)
        self.line, self.reason, self.text = line, reason, text


def _text(value: Any) -> str | None:
    """Strings stay as they are; numbers/bools become their JSON text; objects JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return _json_text(value)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return low == "true"
    return None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def flatten_record(rec: dict[str, Any]) -> tuple[Any, ...]:
    """One CloudTrail record -> canonical values (event_time still ISO text)."""
    ui = rec.get("userIdentity")
    if not isinstance(ui, dict):
        ui = {}
    sc = ui.get("sessionContext")
    si = _get(sc, "sessionIssuer")
    attrs = _get(sc, "attributes")
    rp = rec.get("requestParameters")
    aed = rec.get("additionalEventData")
    resources = rec.get("resources")
    if isinstance(resources, list):
        arns = [_text(_get(r, "ARN")) for r in resources]
        types = [_text(_get(r, "type")) for r in resources]
    else:
        arns = types = None
    bytes_in = _get(aed, "bytesTransferredIn")
    if bytes_in is None:
        bytes_in = rec.get("bytesTransferredIn")
    bytes_out = _get(aed, "bytesTransferredOut")
    if bytes_out is None:
        bytes_out = rec.get("bytesTransferredOut")
    event_time = rec.get("eventTime")
    if event_time is None:
        event_time = rec.get("@timestamp")  # Logstash-style exports rename eventTime
    return (
        event_time,
        _text(rec.get("eventVersion")),
        _text(rec.get("eventSource")),
        _text(rec.get("eventName")),
        _text(rec.get("awsRegion")),
        _text(rec.get("sourceIPAddress")),
        _text(rec.get("userAgent")),
        _text(ui.get("type")),
        _text(ui.get("arn")),
        _text(ui.get("accountId")),
        _text(ui.get("principalId")),
        _text(ui.get("userName")),
        _text(ui.get("accessKeyId")),
        _text(ui.get("invokedBy")),
        _text(_get(si, "arn")),
        _text(_get(si, "userName")),
        _text(_get(attrs, "mfaAuthenticated")),
        _text(_get(rp, "bucketName")),
        _text(_get(rp, "key")),
        _text(rec.get("errorCode")),
        _text(rec.get("errorMessage")),
        _bool(rec.get("readOnly")),
        _bool(rec.get("managementEvent")),
        _text(rec.get("eventCategory")),
        _text(rec.get("eventType")),
        _text(rec.get("recipientAccountId")),
        _text(rec.get("requestID")),
        _text(rec.get("eventID")),
        arns,
        types,
        _int(bytes_in),
        _int(bytes_out),
        _text(_get(rec.get("tlsDetails"), "tlsVersion")),
        _text(rec.get("vpcEndpointId")),
        _json_text(rp),
        _json_text(rec.get("responseElements")),
        _json_text(aed),
    )


_EMPTY: dict[str, Any] = {}


def _dicts(values: list[Any]) -> list[dict[str, Any]]:
    """Each value if it is an object, else an empty one (so ``.get`` gives None)."""
    return [v if v.__class__ is dict else _EMPTY for v in values]


def _strings(values: list[Any]) -> pa.Array:
    """Text column with ``_text`` semantics (strings as they are, other values as JSON)."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_text(v) for v in values], type=pa.string())


def _bools(values: list[Any]) -> pa.Array:
    if {v.__class__ for v in values} <= {bool, type(None)}:
        return pa.array(values, type=pa.bool_())
    return pa.array([_bool(v) for v in values], type=pa.bool_())


def _ints(values: list[Any]) -> pa.Array:
    if {v.__class__ for v in values} <= {int, type(None)}:
        try:
            return pa.array(values, type=pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            pass
    return pa.array([_int(v) for v in values], type=pa.int64())


def _event_times(values: list[Any]) -> tuple[pa.Array, np.ndarray]:
    """(UTC times, mask of records whose time is missing or not ISO-8601)."""
    typ = CLOUDTRAIL_SCHEMA.field("event_time").type
    texts = [v if v.__class__ is str else None for v in values]
    arr = pa.array(texts, type=pa.string())
    # The usual spelling at C speed; anything else through pandas' ISO-8601 parser.
    times = pc.strptime(arr, format="%Y-%m-%dT%H:%M:%SZ", unit="us", error_is_null=True)
    missing = times.is_null().to_numpy(zero_copy_only=False)
    if missing.any():
        idx = np.flatnonzero(missing)
        raw = pd.Series([texts[i] for i in idx], dtype="object")
        parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
        micros = pc.fill_null(times.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).copy()
        fixed = parsed.dt.as_unit("us").array.asi8 if len(parsed) else np.empty(0, np.int64)
        micros[idx] = np.where(parsed.isna().to_numpy(), 0, fixed)
        missing[idx] = parsed.isna().to_numpy()
        return pa.array(micros, type=pa.int64()).cast(typ), missing
    return times.cast(typ), missing


def records_to_table(
    records: Iterable[Any],
    file: str = "<records>",
    report: ReportBuilder | None = None,
    line_numbers: Sequence[int] | None = None,
    *,
    json_texts: Mapping[str, Sequence[str | None] | pa.Array] | None = None,
) -> pa.Table:
    """CloudTrail record dicts -> canonical Arrow table; bad records go to ``report``.

    Counts every record as a line read; a record that is not an object, or whose
    ``eventTime`` is missing or not ISO-8601, is rejected. ``json_texts`` gives, per
    free-form column, the original JSON text of each record that is an object (in
    order); without it those objects are written as compact JSON.
    """
    report = report if report is not None else ReportBuilder("cloudtrail")
    records = records if isinstance(records, list) else list(records)
    report.lines_read += len(records)
    recs: list[dict[str, Any]] = []
    kept_lines: list[int] = []
    for i, rec in enumerate(records):
        if rec.__class__ is dict or isinstance(rec, dict):
            recs.append(rec)
            kept_lines.append(line_numbers[i] if line_numbers is not None else i + 1)
        else:
            line = line_numbers[i] if line_numbers is not None else i + 1
            report.reject(file, line, f"record is a JSON {type(rec).__name__}, not an object", _json_text(rec) or "null")
    if not recs:
        return CLOUDTRAIL_SCHEMA.empty_table()

    def top(key: str) -> list[Any]:
        return [r.get(key) for r in recs]

    ui = _dicts(top("userIdentity"))
    sc = _dicts([u.get("sessionContext") for u in ui])
    si = _dicts([s.get("sessionIssuer") for s in sc])
    attrs = _dicts([s.get("attributes") for s in sc])
    rp_raw = top("requestParameters")
    aed_raw = top("additionalEventData")
    rp, aed = _dicts(rp_raw), _dicts(aed_raw)
    resources = top("resources")
    arns = [[_text(_get(r, "ARN")) for r in res] if res.__class__ is list else None for res in resources]
    types = [[_text(_get(r, "type")) for r in res] if res.__class__ is list else None for res in resources]
    bytes_in = [a.get("bytesTransferredIn") for a in aed]
    bytes_in = [v if v is not None else r.get("bytesTransferredIn") for v, r in zip(bytes_in, recs)]
    bytes_out = [a.get("bytesTransferredOut") for a in aed]
    bytes_out = [v if v is not None else r.get("bytesTransferredOut") for v, r in zip(bytes_out, recs)]
    event_time = top("eventTime")
    if any(v is None for v in event_time):  # Logstash-style exports rename eventTime
        event_time = [v if v is not None else r.get("@timestamp") for v, r in zip(event_time, recs)]
    times, bad = _event_times(event_time)
    if json_texts is None:
        free = {
            "request_parameters": [_json_text(v) for v in rp_raw],
            "response_elements": [_json_text(v) for v in top("responseElements")],
            "additional_event_data": [_json_text(v) for v in aed_raw],
        }
    else:
        free = {name: json_texts[name] for name in _JSON_TEXT}
    arrays: dict[str, Any] = {
        "event_time": times,
        "event_version": _strings(top("eventVersion")),
        "event_source": _strings(top("eventSource")),
        "event_name": _strings(top("eventName")),
        "aws_region": _strings(top("awsRegion")),
        "source_ip_address": _strings(top("sourceIPAddress")),
        "user_agent": _strings(top("userAgent")),
        "user_identity_type": _strings([u.get("type") for u in ui]),
        "user_identity_arn": _strings([u.get("arn") for u in ui]),
        "user_identity_account_id": _strings([u.get("accountId") for u in ui]),
        "user_identity_principal_id": _strings([u.get("principalId") for u in ui]),
        "user_identity_user_name": _strings([u.get("userName") for u in ui]),
        "user_identity_access_key_id": _strings([u.get("accessKeyId") for u in ui]),
        "user_identity_invoked_by": _strings([u.get("invokedBy") for u in ui]),
        "session_issuer_arn": _strings([s.get("arn") for s in si]),
        "session_issuer_user_name": _strings([s.get("userName") for s in si]),
        "mfa_authenticated": _strings([a.get("mfaAuthenticated") for a in attrs]),
        "bucket_name": _strings([r.get("bucketName") for r in rp]),
        "object_key": _strings([r.get("key") for r in rp]),
        "error_code": _strings(top("errorCode")),
        "error_message": _strings(top("errorMessage")),
        "read_only": _bools(top("readOnly")),
        "management_event": _bools(top("managementEvent")),
        "event_category": _strings(top("eventCategory")),
        "event_type": _strings(top("eventType")),
        "recipient_account_id": _strings(top("recipientAccountId")),
        "request_id": _strings(top("requestID")),
        "event_id": _strings(top("eventID")),
        "resource_arns": pa.array(arns, type=pa.list_(pa.string())),
        "resource_types": pa.array(types, type=pa.list_(pa.string())),
        "bytes_transferred_in": _ints(bytes_in),
        "bytes_transferred_out": _ints(bytes_out),
        "tls_version": _strings([_get(t, "tlsVersion") for t in top("tlsDetails")]),
        "vpc_endpoint_id": _strings(top("vpcEndpointId")),
        **{name: free[name] if isinstance(free[name], pa.Array) else pa.array(free[name], type=pa.string())
           for name in _JSON_TEXT},
    }
    table = pa.table(arrays, schema=CLOUDTRAIL_SCHEMA)
    if bad.any():
        for idx in bad.nonzero()[0].tolist():
            value = event_time[idx]
            reason = "eventTime missing" if value is None else f"eventTime {value!r} is not an ISO-8601 time"
            report.reject(file, kept_lines[idx], reason, _json_text(recs[idx]) or "")
        table = table.filter(pa.array(~bad))
    return table


# ----------------------------------------------------------------------------- original JSON text

_FREE_KEYS = {b"requestParameters": "request_parameters", b"responseElements": "response_elements",
              b"additionalEventData": "additional_event_data"}
_FREE_KEY_RE = re.compile(rb'"(requestParameters|responseElements|additionalEventData)"')
_RECORDS_KEY_RE = re.compile(rb'"Records"')
_SCALAR_RE = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_WS = b" \t\r\n"


class _Structure:
    """Where the strings and brackets of a JSON text are (numpy, one pass per byte class)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        b = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(b == ord('"'))
        after_backslash = quotes[(quotes > 0) & (b[np.maximum(quotes - 1, 0)] == ord("\\"))]
        if len(after_backslash):  # escaped when preceded by an odd run of backslashes
            escaped = []
            for p in after_backslash.tolist():
                k = p - 1
                while k >= 0 and data[k] == 92:
                    k -= 1
                escaped.append((p - 1 - k) % 2 == 1)
            quotes = np.setdiff1d(quotes, after_backslash[np.array(escaped, dtype=bool)], assume_unique=True)
        self.quotes = quotes
        folded = b & 0xDF  # { and [ -> 91, } and ] -> 93
        brackets = np.flatnonzero((folded == 91) | (folded == 93))
        brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]  # not inside strings
        self.brackets = brackets
        self.opening = folded[brackets] == 91
        delta = np.where(self.opening, 1, -1)
        self.depth_after = np.cumsum(delta)
        depth_before = self.depth_after - delta
        # Matching bracket of each one: at each depth, openings and closings alternate.
        level = np.where(self.opening, depth_before, self.depth_after)
        order = np.argsort(level.astype(np.int32), kind="stable")
        if len(order) % 2 or (len(order) and (self.depth_after[-1] != 0 or level.min() < 0)):
            raise ValueError("unbalanced brackets")
        self.match = np.empty(len(brackets), dtype=np.int64)
        self.match[order[0::2]] = order[1::2]
        self.match[order[1::2]] = order[0::2]
        self.level = level

    def depth_at(self, pos: int) -> int:
        i = int(np.searchsorted(self.brackets, pos)) - 1
        return int(self.depth_after[i]) if i >= 0 else 0

    def is_string_at(self, start: int, end: int) -> bool:
        """Whether ``data[start:end]`` is one whole JSON string."""
        i = int(np.searchsorted(self.quotes, start))
        return i % 2 == 0 and i + 1 < len(self.quotes) and self.quotes[i] == start and self.quotes[i + 1] == end - 1

    def value_at(self, pos: int) -> tuple[int, int] | None:
        """Start and end of the value after a key's colon, or None when not a key."""
        data = self.data
        n = len(data)
        while pos < n and data[pos] in _WS:
            pos += 1
        if pos >= n or data[pos] != 58:  # ':'
            return None
        pos += 1
        while pos < n and data[pos] in _WS:
            pos += 1
        if pos >= n:
            return None
        first = data[pos]
        if first in (123, 91):
            i = int(np.searchsorted(self.brackets, pos))
            return pos, int(self.brackets[self.match[i]]) + 1
        if first == 34:
            i = int(np.searchsorted(self.quotes, pos))
            return pos, int(self.quotes[i + 1]) + 1
        m = _SCALAR_RE.match(data, pos)
        return (pos, m.end()) if m else None


def _original_texts(data: bytes, shape: str, count: int) -> dict[str, Any] | None:
    """The three free-form objects of each record object, as their text in ``data``.

    ``shape`` is ``records`` (``{"Records": [...]}``), ``array`` or ``single``; ``count``
    is the number of record objects expected. None when the text does not line up (the
    caller then writes compact JSON).
    """
    st = _Structure(data)
    b = np.frombuffer(data, dtype=np.uint8)
    if shape == "records":
        span = None
        for m in _RECORDS_KEY_RE.finditer(data):
            if st.is_string_at(m.start(), m.end()) and st.depth_at(m.start()) == 1:
                span = st.value_at(m.end())
        if span is None or data[span[0]] != 91:
            return None
        lo, hi, depth = span[0], span[1], 2
    else:
        lo, hi, depth = 0, len(data), 1 if shape == "array" else 0
    at_level = (st.level == depth) & (st.brackets > lo) & (st.brackets < hi) & st.opening
    starts = st.brackets[at_level & (b[st.brackets] == 123)]
    if len(starts) != count:
        return None
    ends = st.brackets[st.match[np.searchsorted(st.brackets, starts)]]
    names = list(_FREE_KEYS.values())
    # Keys: whole strings (between unescaped quotes) equal to one of the three names.
    opens, closes = st.quotes[0::2], st.quotes[1::2]
    opens = opens[: len(closes)]
    lengths = closes - opens - 1
    found_at, found_key = [], []
    for k, key in enumerate(_FREE_KEYS):
        cand = opens[(lengths == len(key)) & (opens >= lo) & (opens < hi)]
        if len(cand):
            windows = np.lib.stride_tricks.sliding_window_view(b, len(key))
            cand = cand[(windows[cand + 1] == np.frombuffer(key, dtype=np.uint8)).all(axis=1)]
        found_at.append(cand)
        found_key.append(np.full(len(cand), k, dtype=np.int64))
    at = np.concatenate(found_at)
    key_of = np.concatenate(found_key)
    order = np.argsort(at, kind="stable")
    at, key_of = at[order], key_of[order]
    key_end = at + np.array([len(k) + 2 for k in _FREE_KEYS])[key_of]
    ok = np.ones(len(at), dtype=bool)
    bi = np.searchsorted(st.brackets, at) - 1
    ok &= np.where(bi >= 0, st.depth_after[np.maximum(bi, 0)], 0) == depth + 1
    rec = np.searchsorted(starts, at) - 1
    ok &= (rec >= 0) & (at < ends[np.maximum(rec, 0)])
    at, key_of, key_end, rec = at[ok], key_of[ok], key_end[ok], rec[ok]
    # The value: after optional spaces, a colon and optional spaces.
    size = len(b)

    def skip_spaces(pos: np.ndarray) -> np.ndarray:
        while True:
            more = (pos < size) & np.isin(b[np.minimum(pos, size - 1)], (32, 9, 10, 13))
            if not more.any():
                return pos
            pos = pos + more

    pos = skip_spaces(key_end)
    if len(pos) and not (b[np.minimum(pos, size - 1)] == 58).all():
        return None
    pos = skip_spaces(pos + 1)
    first = b[np.minimum(pos, size - 1)]
    stop = np.zeros(len(pos), dtype=np.int64)
    nested = (first == 123) | (first == 91)
    stop[nested] = st.brackets[st.match[np.searchsorted(st.brackets, pos[nested])]] + 1
    string = first == 34
    stop[string] = st.quotes[np.searchsorted(st.quotes, pos[string]) + 1] + 1
    for i in np.flatnonzero(~nested & ~string).tolist():  # numbers, true, false, null
        m = _SCALAR_RE.match(data, int(pos[i]))
        if m is None:
            return None
        stop[i] = m.end()
    present = ~((stop - pos == 4) & (first == ord("n")))  # null stays null
    # Cut the text once (values are in order and do not overlap), then place it.
    bounds = np.empty(2 * len(pos), dtype=np.int64)
    bounds[0::2], bounds[1::2] = pos, stop
    if not len(bounds):
        return {name: [None] * count for name in names}
    pieces = pa.Array.from_buffers(pa.large_string(), len(bounds) - 1, [None, pa.py_buffer(bounds), pa.py_buffer(data)])
    values = pieces.take(np.arange(0, len(bounds), 2))
    out: dict[str, list[str | None]] = {}
    for k, name in enumerate(names):
        index = np.full(count, -1, dtype=np.int64)
        mine = np.flatnonzero((key_of == k) & present)
        index[rec[mine]] = mine  # a repeated key: the last one wins, as in json.loads
        nulls = index < 0
        out[name] = values.take(pa.array(np.where(nulls, 0, index), mask=nulls)).cast(pa.string())
    return out


def _classify_document(doc: Any, name: str) -> tuple[str, list[Any]]:
    """('events'|'digest'|'insights', records) for a parsed JSON document."""
    if isinstance(doc, dict):
        if isinstance(doc.get("Records"), list):
            records = doc["Records"]
        elif _DIGEST_KEYS & doc.keys():
            return "digest", []
        else:
            records = [doc]
    elif isinstance(doc, list):
        records = doc
    else:
        raise _NotJson(1, f"a JSON {type(doc).__name__}, not CloudTrail records", str(doc)[:200])
    if records and all(isinstance(r, dict) and r.get("eventType") == INSIGHT_EVENT_TYPE for r in records):
        return "insights", records
    return "events", records


def _texts_of(data: bytes, doc: Any, records: list[Any]) -> dict[str, Any] | None:
    """Original text of the free-form objects, aligned with the record objects."""
    shape = "records" if isinstance(doc, dict) and isinstance(doc.get("Records"), list) else (
        "array" if isinstance(doc, list) else "single")
    objects = [r for r in records if isinstance(r, dict)]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        texts = _original_texts(data, shape, len(objects))
    except (ValueError, IndexError, UnicodeDecodeError) as exc:  # never expected on valid JSON
        log.debug("original JSON text not located (%s); writing compact JSON", exc)
        return None
    if texts is None:
        log.debug("original JSON text not located; writing compact JSON")
    return texts


def parse_document(data: bytes, name: str, report: ReportBuilder, start: datetime | None = None, end: datetime | None = None) -> pa.Table | None:
    """Parse one file's (decompressed) bytes; returns None when the file is skipped."""
    lowered = name.replace("\\", "/")
    if "/CloudTrail-Digest/" in lowered or "_CloudTrail-Digest_" in lowered:
        report.skip(name, "CloudTrail digest file (not events)")
        return None
    if "/CloudTrail-Insight/" in lowered:
        report.skip(name, "CloudTrail Insights file (not API events)")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        count = report.reject_file(name, data, f"not CloudTrail JSON: not UTF-8 text ({exc.reason} at byte {exc.start})")
        report.note(f"{name}: not a CloudTrail file (binary data); its {count} lines were rejected")
        return CLOUDTRAIL_SCHEMA.empty_table()
    stripped = text.strip()
    if not stripped:
        report.note(f"{name}: empty file (no records)")
        return CLOUDTRAIL_SCHEMA.empty_table()
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and stripped.startswith("{"):
            return _parse_json_lines(text, name, report, start, end)
        count = report.reject_file(
            name, data, f"not CloudTrail JSON: invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno}); file not parsed")
        report.note(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}; its {count} lines were rejected")
        return CLOUDTRAIL_SCHEMA.empty_table()
    try:
        kind, records = _classify_document(doc, name)
    except _NotJson as exc:
        count = report.reject_file(name, data, f"not CloudTrail JSON: {exc.reason}")
        report.note(f"{name}: {exc.reason}; its {count} lines were rejected")
        return CLOUDTRAIL_SCHEMA.empty_table()
    if kind == "digest":
        report.skip(name, "CloudTrail digest file (not events)")
        return None
    if kind == "insights":
        report.skip(name, f"CloudTrail Insights file ({len(records)} insight events, not API events)")
        return None
    table = records_to_table(records, name, report, json_texts=_texts_of(data, doc, records))
    return _window(table, report, start, end)


def _window(table: pa.Table, report: ReportBuilder, start: datetime | None, end: datetime | None) -> pa.Table:
    if start is not None or end is not None:
        before = table.num_rows
        table = filter_window(table, "event_time", start, end)
        report.outside_window += before - table.num_rows
    report.rows += table.num_rows
    return table


def _parse_json_lines(text: str, name: str, report: ReportBuilder, start: datetime | None, end: datetime | None) -> pa.Table:
    records: list[Any] = []
    numbers: list[int] = []
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
            numbers.append(no)
        except json.JSONDecodeError as exc:
            report.lines_read += 1
            report.reject(name, no, f"invalid JSON: {exc.msg} (column {exc.colno})", line)
    table = records_to_table(records, name, report, numbers)
    return _window(table, report, start, end)


def _parse_damaged(content: bytes, problem: str, name: str, report: ReportBuilder, start: datetime | None,
                   end: datetime | None) -> pa.Table:
    """A file whose gzip stream ended early (``content`` is what was decoded).

    JSON lines keep their complete lines (the incomplete last one is rejected as
    truncated); a JSON document cut short cannot be parsed, so all its lines are rejected.
    """
    cut = content.rfind(b"\n") + 1
    whole, tail = content[:cut], content[cut:]
    first = next((ln for ln in whole.splitlines() if ln.strip()), b"")
    try:
        json_lines = isinstance(json.loads(first), dict) if first.lstrip().startswith(b"{") else False
    except (json.JSONDecodeError, UnicodeDecodeError):
        json_lines = False
    if not json_lines:
        count = report.reject_file(name, content, f"truncated: {problem}; the JSON document is incomplete, file not parsed")
        report.note(f"{name}: {problem}; the JSON document is incomplete, so the file was not parsed "
                    f"(its {count} lines were rejected)")
        return CLOUDTRAIL_SCHEMA.empty_table()
    table = _parse_json_lines(whole.decode("utf-8", errors="replace"), name, report, start, end)
    complete = whole.count(b"\n")
    if tail:
        report.reject_file(name, tail, f"truncated: incomplete last line ({problem})", first_line=complete + 1)
    report.note(f"{name}: {problem}; the {complete} complete JSON lines before the damage were read"
                + ("; the incomplete last line was rejected" if tail else ""))
    return table


def iter_cloudtrail_tables(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    report: ReportBuilder,
    session: Any = None,
    progress: bool = False,
    files: Sequence[inp.SourceFile] | None = None,
) -> Iterator[tuple[list[inp.SourceFile], pa.Table]]:
    """Stream canonical tables (one per file, with ``[file]``, in input order) into ``report``."""
    start, end = inp.to_utc(start, "start"), inp.to_utc(end, "end")
    from s3forensics.sources import cloudwatch

    logs_inputs, files = inp.resolve_inputs(inputs, start, end, report, session=session, files=files)
    bar = _progress(files, progress, "cloudtrail")
    for sf, data, error in inp.iter_file_data(files, session):
        if bar is not None:
            bar.update(1)
        if error is not None:
            report.skip(sf.name, f"cannot download: {error}")
            report.note(f"{sf.name}: cannot download ({error}); other files still load")
            continue
        try:
            content, problem = inp.read_all(sf, data)
        except OSError as exc:
            report.skip(sf.name, f"cannot read: {exc}")
            report.note(f"{sf.name}: cannot read ({exc}); other files still load")
            continue
        if problem:
            table = _parse_damaged(content, problem, sf.name, report, start, end)
            report.files += 1
            yield [sf], table
            continue
        table = parse_document(content, sf.name, report, start, end)
        if table is None:
            continue
        report.files += 1
        yield [sf], table
    for url in logs_inputs:
        for table in cloudwatch.load_tables("cloudtrail", str(url), start, end, report, session):
            yield [], table  # no file to remember: the cache re-reads log groups
    if bar is not None:
        bar.close()


def load_cloudtrail(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    cache: str | Path | bool | None = None,
    session: Any = None,
    progress: bool = False,
) -> LoadResult:
    """Load CloudTrail records into a DataFrame with the canonical columns.

    Args:
        inputs: files, folders (recursive, gzip or not) and ``s3://bucket/prefix`` locations.
        start: keep events at or after this time (UTC).
        end: keep events before this time.
        cache: a Parquet cache folder (``True`` for the default), as in ``load_s3_access``.
        session: a boto3 session for ``s3://`` inputs.
        progress: show a progress bar over files.
    """
    return load_tables("cloudtrail", iter_cloudtrail_tables, CLOUDTRAIL_SCHEMA, inputs, start, end, cache=cache, session=session, progress=progress)


def parse_records(records: Iterable[Any], file: str = "<records>") -> LoadResult:
    """Records already parsed from JSON (dicts) -> LoadResult."""
    report = ReportBuilder("cloudtrail")
    report.files = 1
    table = _window(records_to_table(list(records), file, report), report, None, None)
    return LoadResult(frame=to_pandas(table), report=report.build())
