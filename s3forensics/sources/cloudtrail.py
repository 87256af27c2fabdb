"""CloudTrail log files -> rows in the canonical ``cloudtrail`` schema.

Accepted shapes: ``{"Records": [...]}`` files (gzip or plain, as CloudTrail delivers
them), a JSON array of records, a single record, and JSON lines (one record per line, as
exports and CloudWatch Logs give them). Digest files and CloudTrail Insights files that
share the delivery bucket are skipped and counted, never parsed as events.

The schema is fixed (no type guessing from samples). ``requestParameters``,
``responseElements`` and ``additionalEventData`` are kept as their original JSON text,
byte for byte as the file has them (located by a numpy index of the file's strings and
brackets); records that come without a file (``parse_records``, CloudWatch Logs) get
compact JSON of exactly the keys they had. Unknown keys are ignored, missing keys are
null. A "line" in the report is one record (or one unparseable line/file).

Speed: JSON is read by orjson where it gives what ``json`` gives (see ``_loads``); each
record's values are read in one pass and typed column by column. Loads of 8 MB or more
of files (as stored) are parsed by two forked worker processes (JSON parsing holds the
GIL), each file with a report of its own, added to the load's in input order.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import logging
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.schema import CLOUDTRAIL_COLUMNS, CLOUDTRAIL_SCHEMA
from s3forensics.sources import cloudwatch
from s3forensics.sources import inputs as inp
from s3forensics.sources.listing import resolve_inputs
from s3forensics.sources.report import LoadResult, Reject, ReportBuilder
from s3forensics.sources.tables import TEXT_POOL, keep_window, progress_bar, to_pandas
from s3forensics.vocabulary import Window

try:  # a pinned dependency; absent where only the loader of access logs is shipped (Lambda)
    import orjson
except ImportError:  # pragma: no cover - json is then the reader, with the same results
    orjson = None

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
    if (isinstance(value, float) and value.is_integer()) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        value = int(value)
    else:
        return None
    return value if -(2**63) <= value < 2**63 else None


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


_EMPTY: dict[str, Any] = {}
_TEXT = CLOUDTRAIL_SCHEMA.field("event_version").type
_TEXT_LIST = CLOUDTRAIL_SCHEMA.field("resource_arns").type


def _utf8(value: Any) -> Any:
    """Text that UTF-8 can hold: JSON allows lone surrogates (``"\\ud800"``), which are
    written back as that escape; lists are done item by item."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_utf8(v) for v in value]
    return value


def _text_array(values: Sequence[Any], typ: pa.DataType = _TEXT) -> pa.Array:
    """``pa.array(values, typ)`` of text (or lists of text) that may hold lone surrogates."""
    try:
        return pa.array(values, type=typ)
    except UnicodeEncodeError:
        return pa.array([_utf8(v) for v in values], type=typ)


def _strings(values: Sequence[Any]) -> pa.Array:
    """Text column with ``_text`` semantics (strings as they are, other values as JSON)."""
    try:
        return _text_array(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return _text_array([_text(v) for v in values])


def _resources(values: Sequence[Any]) -> tuple[pa.Array, pa.Array]:
    """``resources`` -> (ARNs, types) list columns (``_text`` of each, null when no list)."""
    try:
        # The usual shape: a list of objects whose ARN and type are strings or absent.
        arns = [[r.get("ARN") for r in res] if res.__class__ is list else None for res in values]
        types = [[r.get("type") for r in res] if res.__class__ is list else None for res in values]
        return _text_array(arns, _TEXT_LIST), _text_array(types, _TEXT_LIST)
    except (AttributeError, pa.ArrowTypeError, pa.ArrowInvalid):
        arns = [[_text(_get(r, "ARN")) for r in res] if res.__class__ is list else None for res in values]
        types = [[_text(_get(r, "type")) for r in res] if res.__class__ is list else None for res in values]
        return _text_array(arns, _TEXT_LIST), _text_array(types, _TEXT_LIST)


def _bools(values: Sequence[Any]) -> pa.Array:
    try:  # pyarrow takes only True, False and None here (not 1, 0.0 or "true")
        return pa.array(values, type=pa.bool_())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_bool(v) for v in values], type=pa.bool_())


def _ints(values: Sequence[Any]) -> pa.Array:
    if {v.__class__ for v in values} <= {int, type(None)}:
        try:
            return pa.array(values, type=pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            pass
    return pa.array([_int(v) for v in values], type=pa.int64())


def _event_times(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(UTC times, mask of records whose time is missing or not ISO-8601) of a text column."""
    typ = CLOUDTRAIL_SCHEMA.field("event_time").type
    # The usual spelling at C speed; anything else through pandas' ISO-8601 parser.
    times = pc.strptime(texts, format="%Y-%m-%dT%H:%M:%SZ", unit="us", error_is_null=True)
    missing = times.is_null().to_numpy(zero_copy_only=False)
    if missing.any():
        idx = np.flatnonzero(missing)
        raw = pd.Series(texts.take(pa.array(idx)).to_pylist(), dtype="object")
        parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
        micros = pc.fill_null(times.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).copy()
        fixed = parsed.dt.as_unit("us").array.asi8 if len(parsed) else np.empty(0, np.int64)
        micros[idx] = np.where(parsed.isna().to_numpy(), 0, fixed)
        missing[idx] = parsed.isna().to_numpy()
        return pa.array(micros, type=pa.int64()).cast(typ), missing
    return times.cast(typ), missing


#: Canonical columns read from each record by ``_row``, in its order (``resources`` gives
#: ``resource_arns`` and ``resource_types``; the free-form JSON columns are read apart).
_ROW_COLUMNS = (
    "event_version", "event_source", "event_name", "aws_region", "source_ip_address", "user_agent",
    "user_identity_type", "user_identity_arn", "user_identity_account_id", "user_identity_principal_id",
    "user_identity_user_name", "user_identity_access_key_id", "user_identity_invoked_by",
    "session_issuer_arn", "session_issuer_user_name", "mfa_authenticated", "bucket_name", "object_key",
    "error_code", "error_message", "read_only", "management_event", "event_category", "event_type",
    "recipient_account_id", "request_id", "event_id", "tls_version", "vpc_endpoint_id",
    "event_time", "bytes_transferred_in", "bytes_transferred_out", "resources",
)


def _row(r: dict[str, Any]) -> tuple[Any, ...]:
    """The raw values of one record, in ``_ROW_COLUMNS`` order (one pass while it is in
    the CPU cache; typing is done column by column afterwards)."""
    get = r.get
    ui = get("userIdentity")
    if ui.__class__ is not dict:
        ui = _EMPTY
    sc = ui.get("sessionContext")
    if sc.__class__ is not dict:
        sc = _EMPTY
    si = sc.get("sessionIssuer")
    if si.__class__ is not dict:
        si = _EMPTY
    attrs = sc.get("attributes")
    if attrs.__class__ is not dict:
        attrs = _EMPTY
    rp = get("requestParameters")
    if rp.__class__ is not dict:
        rp = _EMPTY
    aed = get("additionalEventData")
    if aed.__class__ is not dict:
        aed = _EMPTY
    tls = get("tlsDetails")
    if tls.__class__ is not dict:
        tls = _EMPTY
    event_time = get("eventTime")
    if event_time is None:  # Logstash-style exports rename eventTime
        event_time = get("@timestamp")
    bytes_in = aed.get("bytesTransferredIn")
    if bytes_in is None:
        bytes_in = get("bytesTransferredIn")
    bytes_out = aed.get("bytesTransferredOut")
    if bytes_out is None:
        bytes_out = get("bytesTransferredOut")
    return (
        get("eventVersion"), get("eventSource"), get("eventName"), get("awsRegion"), get("sourceIPAddress"),
        get("userAgent"), ui.get("type"), ui.get("arn"), ui.get("accountId"), ui.get("principalId"),
        ui.get("userName"), ui.get("accessKeyId"), ui.get("invokedBy"), si.get("arn"), si.get("userName"),
        attrs.get("mfaAuthenticated"), rp.get("bucketName"), rp.get("key"), get("errorCode"),
        get("errorMessage"), get("readOnly"), get("managementEvent"), get("eventCategory"), get("eventType"),
        get("recipientAccountId"), get("requestID"), get("eventID"), tls.get("tlsVersion"), get("vpcEndpointId"),
        event_time, bytes_in, bytes_out, get("resources"),
    )


def _python_columns(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """Canonical columns of record dicts, typed as the schema types them (``_text``/``_bool``/
    ``_int`` semantics); ``event_time`` stays text, parsed by ``_event_times``."""
    columns = dict(zip(_ROW_COLUMNS, zip(*map(_row, recs))))  # tuples, one per column
    out: dict[str, Any] = {}
    for name, values in columns.items():
        if name == "resources":
            out["resource_arns"], out["resource_types"] = _resources(values)
        elif name == "event_time":
            out[name] = _text_array([v if v.__class__ is str else None for v in values])
        elif pa.types.is_boolean(typ := CLOUDTRAIL_SCHEMA.field(name).type):
            out[name] = _bools(values)
        elif pa.types.is_integer(typ):
            out[name] = _ints(values)
        else:
            out[name] = _strings(values)
    return out


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

    arrays = _python_columns(recs)
    event_time = arrays.pop("event_time")
    times, bad = _event_times(event_time)
    if json_texts is None:
        free = {
            "request_parameters": [_json_text(r.get("requestParameters")) for r in recs],
            "response_elements": [_json_text(r.get("responseElements")) for r in recs],
            "additional_event_data": [_json_text(r.get("additionalEventData")) for r in recs],
        }
    else:
        free = {name: json_texts[name] for name in _JSON_TEXT}
    for name in _JSON_TEXT:
        arrays[name] = free[name] if isinstance(free[name], pa.Array) else _text_array(free[name])
    arrays["event_time"] = times
    table = pa.table({name: arrays[name] for name in CLOUDTRAIL_COLUMNS}, schema=CLOUDTRAIL_SCHEMA)
    if bad.any():
        for idx in bad.nonzero()[0].tolist():
            value = recs[idx].get("eventTime")
            if value is None:
                value = recs[idx].get("@timestamp")
            reason = "eventTime missing" if value is None else f"eventTime {value!r} is not an ISO-8601 time"
            report.reject(file, kept_lines[idx], reason, _json_text(recs[idx]) or "")
        table = table.filter(pa.array(~bad))
    return table


# ----------------------------------------------------------------------------- original JSON text

_FREE_KEYS = {b"requestParameters": "request_parameters", b"responseElements": "response_elements",
              b"additionalEventData": "additional_event_data"}
_SCALAR_RE = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_WS = b" \t\r\n"
_BACKSLASHES_QUOTE_RE = re.compile(rb'\\+"')


class _Structure:
    """Where the strings and brackets of a JSON text are (numpy, one pass per byte class)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        b = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(b == ord('"'))
        if data.find(b"\\") >= 0:  # a quote is escaped when preceded by an odd run of backslashes
            escaped = [m.end() - 1 for m in _BACKSLASHES_QUOTE_RE.finditer(data) if (m.end() - m.start()) % 2 == 0]
            if escaped:
                quotes = np.setdiff1d(quotes, np.array(escaped, dtype=np.int64), assume_unique=True)
        self.quotes = quotes
        folded = b & 0xDF  # { and [ -> 91, } and ] -> 93
        is_bracket = folded == 91
        is_bracket |= folded == 93
        brackets = np.flatnonzero(is_bracket)
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
        at = data.find(b'"Records"')
        while at >= 0:  # the last key at depth 1 wins, as in json.loads
            after = at + 9
            if st.is_string_at(at, after) and st.depth_at(at) == 1:
                span = st.value_at(after)
                after = span[1] if span is not None else after
            at = data.find(b'"Records"', after)
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
    null = np.zeros(len(pos), dtype=bool)
    window = np.lib.stride_tricks.sliding_window_view(b, 4) if size >= 4 else np.zeros((1, 4), dtype=np.uint8)
    plain = np.flatnonzero(~nested & ~string)
    if len(plain):
        null[plain] = (window[np.minimum(pos[plain], len(window) - 1)] == np.frombuffer(b"null", dtype=np.uint8)).all(axis=1)
        stop[null] = pos[null] + 4
    for i in np.flatnonzero(~nested & ~string & ~null).tolist():  # numbers, true, false, odd nulls
        m = _SCALAR_RE.match(data, int(pos[i]))
        if m is None:
            return None
        stop[i] = m.end()
    present = ~((stop - pos == 4) & (first == ord("n")))  # null stays null
    # The data cut at every value's start and end (values are in order and do not
    # overlap): value i is piece 2i; each column takes its records' pieces.
    bounds = np.empty(2 * len(pos), dtype=np.int64)
    bounds[0::2], bounds[1::2] = pos, stop
    if not len(bounds):
        return {name: [None] * count for name in names}
    pieces = pa.Array.from_buffers(pa.large_string(), len(bounds) - 1, [None, pa.py_buffer(bounds), pa.py_buffer(data)])
    out: dict[str, Any] = {}
    for k, name in enumerate(names):
        index = np.full(count, -1, dtype=np.int64)
        mine = np.flatnonzero((key_of == k) & present)
        index[rec[mine]] = 2 * mine  # a repeated key: the last one wins, as in json.loads
        nulls = index < 0
        out[name] = pc.take(pieces, pa.array(np.where(nulls, 0, index), mask=nulls), memory_pool=TEXT_POOL)
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


#: Every digit becomes ``0`` and every other byte a space (to find runs of digits).
_DIGITS_AS_ZEROS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))


def _has_long_integer(data: bytes) -> bool:
    """Whether ``data`` may hold an integer literal of 19 or more digits (runs of digits
    inside strings, such as IDs, do not count: they follow a letter or a quote)."""
    digits = data.translate(_DIGITS_AS_ZEROS)
    at = digits.find(b"0" * 19)
    while at >= 0:
        start = digits.rfind(b" ", 0, at) + 1
        if start == 0 or data[start - 1] in b":,[ \t\r\n-":
            return True
        end = digits.find(b" ", at)  # the end of this run
        if end < 0:
            return False
        at = digits.find(b"0" * 19, end)
    return False


def _loads(data: bytes, text: str) -> Any:
    """``json.loads(text)``, through orjson where it gives the same objects (1.8x as fast here).

    orjson accepts a subset of what ``json`` does, with one difference: it reads an
    integer outside [-2**63, 2**64) as a float. So it is skipped for files with a number
    of 19 or more digits, and anything it refuses (NaN, lone surrogates, ...) goes to
    ``json``, whose error message is the one reported.
    """
    if orjson is not None and not _has_long_integer(data):
        try:
            return orjson.loads(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


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
        doc = _loads(data, stripped)
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
    return keep_window(table, "event_time", report, start, end)


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


def _prepare(sf: inp.SourceFile, data: bytes | None, error: Exception | None) -> tuple[inp.SourceFile, Exception | None, Any]:
    """(file, download error, (content, truncation problem) or OSError)."""
    if error is not None:
        return sf, error, None
    try:
        content, problem = inp.read_all(sf, data)
    except OSError as exc:
        return sf, None, exc
    return sf, None, (content, problem)


def _parse_prepared(sf: inp.SourceFile, error: Exception | None, prepared: Any, report: ReportBuilder,
                    start: datetime | None, end: datetime | None) -> pa.Table | None:
    """The table of one file from ``_prepare``'s result, into ``report`` (None: no table)."""
    if error is not None:
        report.skip(sf.name, f"cannot download: {error}")
        report.note(f"{sf.name}: cannot download ({error}); other files still load")
        return None
    if isinstance(prepared, OSError):
        report.skip(sf.name, f"cannot read: {prepared}")
        report.note(f"{sf.name}: cannot read ({prepared}); other files still load")
        return None
    content, problem = prepared
    with _gc_paused():
        if problem:
            table = _parse_damaged(content, problem, sf.name, report, start, end)
        else:
            table = parse_document(content, sf.name, report, start, end)
    if table is not None:
        report.files += 1
    return table


#: Worker processes for large loads (JSON parsing holds the GIL: threads do not help).
PARSE_PROCESSES = max(1, min(2, os.cpu_count() or 1))
#: Below this many bytes of input (as stored), files are parsed in this process.
PROCESS_MIN_BYTES = 8 * 1024 * 1024


def _parse_file(sf: inp.SourceFile, data: bytes | None, error: Exception | None, start: datetime | None,
                end: datetime | None) -> tuple[ReportBuilder, pa.Table | None]:
    """One file, in a worker process, with a report of its own."""
    report = ReportBuilder("cloudtrail")
    return report, _parse_prepared(*_prepare(sf, data, error), report, start, end)


def _parse_in_processes(files: Sequence[inp.SourceFile], session: Any, start: datetime | None,
                        end: datetime | None) -> Iterator[tuple[inp.SourceFile, tuple[ReportBuilder, pa.Table | None]]]:
    """(file, (its report, its table)) in input order, parsed by ``PARSE_PROCESSES`` workers.

    The workers are forked (they import nothing and run none of the caller's code) before
    any download or progress-bar thread starts, with the objects of this process frozen
    out of their garbage collector (so that its pages stay shared), and read local files
    themselves. If they cannot start, or one dies, the files not yet done are parsed here.
    """
    pending: deque[tuple[tuple[Any, ...], Any]] = deque()
    items: Iterator[tuple[Any, ...]] = iter(())
    pool = None
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(PARSE_PROCESSES, mp_context=multiprocessing.get_context("fork"))
        pool.submit(int).result()  # all workers forked now
    except (ValueError, OSError, BrokenProcessPool) as exc:  # no fork on this platform
        log.info("CloudTrail files parsed in this process (%s)", exc)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        pool = None
    finally:
        gc.unfreeze()
    try:
        items = iter(inp.iter_file_data(files, session))
        if pool is not None:
            try:
                for item in items:
                    if item[2] is not None:  # a download error: noted here (nothing to parse)
                        done: Future[Any] = Future()
                        done.set_result(_parse_file(*item, start, end))
                        pending.append((item, done))
                        continue
                    pending.append((item, None))  # in ``pending`` before ``submit`` can fail
                    pending[-1] = (item, pool.submit(_parse_file, *item, start, end))
                    while len(pending) > 2 * PARSE_PROCESSES or (pending and pending[0][1].done()):
                        yield _next_done(pending)
                while pending:
                    yield _next_done(pending)
            except BrokenProcessPool as exc:
                log.warning("CloudTrail worker processes failed (%s); parsing the rest here", exc)
        for item in itertools.chain([i for i, _ in pending], items):
            yield item[0], _parse_file(*item, start, end)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _next_done(pending: deque[tuple[tuple[Any, ...], Any]]) -> tuple[inp.SourceFile, tuple[ReportBuilder, pa.Table | None]]:
    """The first pending file's result (it leaves ``pending`` only once it has one)."""
    item, future = pending[0]
    result = future.result()
    pending.popleft()
    return item[0], result


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file's records are built: they are many
    containers that all stay alive until the file is done, and collections that find
    nothing to free took a fifth of the time (bench/README.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _logs_tables(
    url: str, start: datetime | None, end: datetime | None, report: ReportBuilder, session: Any = None
) -> Iterator[pa.Table]:
    """Canonical ``cloudtrail`` tables of a ``logs://`` input, into ``report``."""
    for batch in cloudwatch.event_batches(url, start, end, session):
        by_stream: dict[str, tuple[list[Any], list[str]]] = {}
        for group, event in batch:
            message = event.get("message") or ""
            name = cloudwatch.event_name(group, event)
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
    start, end = Window.parse(start, end)
    logs_inputs, files = resolve_inputs(inputs, start, end, report, session=session, files=files)
    if PARSE_PROCESSES > 1 and len(files) > 1 and sum(sf.size or 0 for sf in files) >= PROCESS_MIN_BYTES:
        parsed = _parse_in_processes(files, session, start, end)
    else:
        parsed = ((sf, _parse_prepared(sf, error, prepared, report, start, end))
                  for sf, error, prepared in (_prepare(*item) for item in inp.iter_file_data(files, session)))
    bar = None
    for n, (sf, table) in enumerate(parsed):
        if n == 0:  # after the first file: any worker process has been forked by then
            bar = progress_bar(files, progress, "cloudtrail")
        if bar is not None:
            bar.update(1)
        if isinstance(table, tuple):  # from a worker: its report, its table
            part, table = table
            report.merge(part)
        if table is not None:
            yield [sf], table
    for url in logs_inputs:
        for table in _logs_tables(str(url), start, end, report, session):
            yield [], table  # no file to remember: the cache re-reads log groups
    if bar is not None:
        bar.close()


def parse_records(records: Iterable[Any], file: str = "<records>") -> LoadResult:
    """Records already parsed from JSON (dicts) -> LoadResult."""
    report = ReportBuilder("cloudtrail")
    report.files = 1
    table = _window(records_to_table(list(records), file, report), report, None, None)
    return LoadResult(frame=to_pandas(table), report=report.build())
