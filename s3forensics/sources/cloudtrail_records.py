"""CloudTrail records (dicts) -> the canonical ``cloudtrail`` Arrow table.

The schema is fixed (no type guessing from samples): each record's values are read in one
pass (``_row``) and typed column by column as ``s3forensics.schema`` types them. Unknown
keys are ignored, missing keys are null; ``requestParameters``, ``responseElements`` and
``additionalEventData`` are kept as JSON text (the file's own, when the caller found it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.schema import CLOUDTRAIL_COLUMNS, CLOUDTRAIL_SCHEMA
from s3forensics.sources.report import ReportBuilder

_JSON_TEXT = ("request_parameters", "response_elements", "additional_event_data")


_EMPTY: dict[str, Any] = {}


_TEXT = CLOUDTRAIL_SCHEMA.field("event_version").type


_TEXT_LIST = CLOUDTRAIL_SCHEMA.field("resource_arns").type


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


def _resources(values: Sequence[Any]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """``resources`` -> (ARNs, types, account ids) list columns (``_text`` of each, null when no list)."""
    try:
        # The usual shape: a list of objects whose ARN, type and accountId are strings or absent.
        # CloudTrail writes "ARN"; hand-written records (rule tests) sometimes "arn".
        arns = [[r.get("ARN", r.get("arn")) for r in res] if res.__class__ is list else None for res in values]
        types = [[r.get("type") for r in res] if res.__class__ is list else None for res in values]
        accounts = [[r.get("accountId") for r in res] if res.__class__ is list else None for res in values]
        return _text_array(arns, _TEXT_LIST), _text_array(types, _TEXT_LIST), _text_array(accounts, _TEXT_LIST)
    except (AttributeError, pa.ArrowTypeError, pa.ArrowInvalid):
        arns = [[_text(_get(r, "ARN") if _get(r, "ARN") is not None else _get(r, "arn")) for r in res] if res.__class__ is list else None for res in values]
        types = [[_text(_get(r, "type")) for r in res] if res.__class__ is list else None for res in values]
        accounts = [[_text(_get(r, "accountId")) for r in res] if res.__class__ is list else None for res in values]
        return _text_array(arns, _TEXT_LIST), _text_array(types, _TEXT_LIST), _text_array(accounts, _TEXT_LIST)


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
#: ``resource_arns``, ``resource_types`` and ``resource_account_ids``; the free-form JSON
#: columns are read apart).
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
            out["resource_arns"], out["resource_types"], out["resource_account_ids"] = _resources(values)
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
