"""CloudTrail log files -> rows in the canonical ``cloudtrail`` schema.

Accepted shapes: ``{"Records": [...]}`` files (gzip or plain, as CloudTrail delivers
them), a JSON array of records, a single record, and JSON lines (one record per line, as
exports and CloudWatch Logs give them). Digest files and CloudTrail Insights files that
share the delivery bucket are skipped and counted, never parsed as events.

The schema is fixed (no type guessing from samples). ``requestParameters``,
``responseElements`` and ``additionalEventData`` are kept as JSON text of exactly the keys
the record had (compact separators; no keys added). Unknown keys are ignored, missing
keys are null. A "line" in the report is one record (or one unparseable line/file).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from s3forensics.schema import CLOUDTRAIL_COLUMNS, CLOUDTRAIL_SCHEMA
from s3forensics.sources import inputs as inp
from s3forensics.sources.report import LoadResult, ReportBuilder
from s3forensics.sources.s3_access import _progress, filter_window, to_pandas

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


def records_to_table(
    records: Iterable[Any],
    file: str = "<records>",
    report: ReportBuilder | None = None,
    line_numbers: Sequence[int] | None = None,
) -> pa.Table:
    """CloudTrail record dicts -> canonical Arrow table; bad records go to ``report``.

    Counts every record as a line read; a record that is not an object, or whose
    ``eventTime`` is missing or not ISO-8601, is rejected.
    """
    report = report if report is not None else ReportBuilder("cloudtrail")
    rows: list[tuple[Any, ...]] = []
    kept_lines: list[int] = []
    kept: list[dict[str, Any]] = []
    for i, rec in enumerate(records):
        line = line_numbers[i] if line_numbers is not None else i + 1
        report.lines_read += 1
        if not isinstance(rec, dict):
            report.reject(file, line, f"record is a JSON {type(rec).__name__}, not an object", _json_text(rec) or "null")
            continue
        rows.append(flatten_record(rec))
        kept_lines.append(line)
        kept.append(rec)
    if not rows:
        return CLOUDTRAIL_SCHEMA.empty_table()
    columns = list(zip(*rows))
    raw_times = pd.Series(columns[0], dtype="object")
    times = pd.to_datetime(raw_times.where(raw_times.map(lambda v: isinstance(v, str))), utc=True, format="ISO8601", errors="coerce")
    bad = times.isna().to_numpy()
    arrays: dict[str, Any] = {"event_time": pa.array(times.dt.as_unit("us"), type=CLOUDTRAIL_SCHEMA.field("event_time").type)}
    for name, typ, values in zip(CLOUDTRAIL_COLUMNS[1:], CLOUDTRAIL_SCHEMA.types[1:], columns[1:]):
        arrays[name] = pa.array(values, type=typ)
    table = pa.table(arrays, schema=CLOUDTRAIL_SCHEMA)
    if bad.any():
        for idx in bad.nonzero()[0].tolist():
            value = columns[0][idx]
            reason = "eventTime missing" if value is None else f"eventTime {value!r} is not an ISO-8601 time"
            report.reject(file, kept_lines[idx], reason, _json_text(kept[idx]) or "")
        table = table.filter(pa.array(~bad))
    return table


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
        report.lines_read += 1
        report.reject(name, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start}): not a CloudTrail file",
                      data[:200].decode("utf-8", errors="replace"))
        report.note(f"{name}: not a CloudTrail file (binary data)")
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
        report.lines_read += 1
        lines = text.splitlines()
        bad_line = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        report.reject(name, exc.lineno, f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno}); file not parsed", bad_line)
        report.note(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}")
        return CLOUDTRAIL_SCHEMA.empty_table()
    try:
        kind, records = _classify_document(doc, name)
    except _NotJson as exc:
        report.lines_read += 1
        report.reject(name, exc.line, exc.reason, exc.text)
        return CLOUDTRAIL_SCHEMA.empty_table()
    if kind == "digest":
        report.skip(name, "CloudTrail digest file (not events)")
        return None
    if kind == "insights":
        report.skip(name, f"CloudTrail Insights file ({len(records)} insight events, not API events)")
        return None
    table = records_to_table(records, name, report)
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

    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    logs_inputs = [v for v in inputs if cloudwatch.is_logs(v)]
    if files is None:
        expanded = inp.expand_inputs([v for v in inputs if not cloudwatch.is_logs(v)], start, end, session=session)
        files = expanded.files
        if expanded.pruned:
            log.info("skipped %d objects outside the time window by key name", expanded.pruned)
        for location, reason in expanded.skipped:
            report.skip(location, reason)
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
            report.files += 1
            report.lines_read += 1
            report.reject(sf.name, 0, f"{problem}: file not parsed", content[-200:].decode("utf-8", errors="replace"))
            report.note(f"{sf.name}: {problem}; file not parsed")
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
    if cache:
        from s3forensics.sources.cache import load_via_cache

        return load_via_cache("cloudtrail", inputs, start, end, cache=cache, session=session, progress=progress)
    report = ReportBuilder("cloudtrail")
    tables = [t for _, t in iter_cloudtrail_tables(inputs, start, end, report=report, session=session, progress=progress)]
    table = pa.concat_tables(tables) if tables else CLOUDTRAIL_SCHEMA.empty_table()
    return LoadResult(frame=to_pandas(table), report=report.build())


def parse_records(records: Iterable[Any], file: str = "<records>") -> LoadResult:
    """Records already parsed from JSON (dicts) -> LoadResult."""
    report = ReportBuilder("cloudtrail")
    report.files = 1
    table = _window(records_to_table(list(records), file, report), report, None, None)
    return LoadResult(frame=to_pandas(table), report=report.build())
