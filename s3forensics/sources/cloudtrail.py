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
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from s3forensics.schema import CLOUDTRAIL_SCHEMA
from s3forensics.sources import cloudwatch
from s3forensics.sources import inputs as inp
from s3forensics.sources.cloudtrail_records import records_to_table
from s3forensics.sources.cloudtrail_text import original_texts
from s3forensics.sources.listing import resolve_inputs
from s3forensics.sources.report import LoadResult, Reject, ReportBuilder
from s3forensics.sources.tables import keep_window, progress_bar, to_pandas
from s3forensics.vocabulary import Window

try:  # a pinned dependency; absent where only the loader of access logs is shipped (Lambda)
    import orjson
except ImportError:  # pragma: no cover - json is then the reader, with the same results
    orjson = None

log = logging.getLogger(__name__)

INSIGHT_EVENT_TYPE = "AwsCloudTrailInsight"
_DIGEST_KEYS = frozenset({"digestStartTime", "digestEndTime", "logFiles", "digestS3Object"})
class _NotJson(Exception):
    def __init__(self, line: int, reason: str, text: str) -> None:
        super().__init__(reason)
        self.line, self.reason, self.text = line, reason, text


#: Keys every CloudTrail event record has (a document where no object has one is not CloudTrail).
_EVENT_KEYS = frozenset({"eventTime", "eventName", "eventSource"})


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
    if records and not any(isinstance(r, dict) and _EVENT_KEYS & r.keys() for r in records):
        raise _NotJson(1, f"JSON with no CloudTrail record (none of {len(records)} objects has eventTime, eventName or eventSource)", "")
    return "events", records


def _texts_of(data: bytes, doc: Any, records: list[Any]) -> dict[str, Any] | None:
    """Original text of the free-form objects, aligned with the record objects."""
    shape = "records" if isinstance(doc, dict) and isinstance(doc.get("Records"), list) else (
        "array" if isinstance(doc, list) else "single")
    objects = [r for r in records if isinstance(r, dict)]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        texts = original_texts(data, shape, len(objects))
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
        if b"\0" in data[:65536]:
            count = report.reject_file(name, data, f"not CloudTrail JSON: not UTF-8 text ({exc.reason} at byte {exc.start})")
            report.note(f"{name}: not a CloudTrail file (binary data); its {count} lines were rejected")
            return CLOUDTRAIL_SCHEMA.empty_table()
        # Text with a few bytes that are not UTF-8: those become U+FFFD, the records are kept.
        text = data.decode("utf-8-sig", errors="replace")
        data = text.encode("utf-8")
        report.note(f"{name}: bytes that are not UTF-8 (first at byte {exc.start}) were read as U+FFFD")
    stripped = text.strip()
    if not stripped:
        report.note(f"{name}: empty file (no records)")
        return CLOUDTRAIL_SCHEMA.empty_table()
    try:
        doc = _loads(data, stripped)
    except RecursionError:
        count = report.reject_file(name, data, "not CloudTrail JSON: nested deeper than the JSON reader allows; file not parsed")
        report.note(f"{name}: JSON nested deeper than the reader allows (CloudTrail records are shallow); its {count} lines were rejected")
        return CLOUDTRAIL_SCHEMA.empty_table()
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
        except RecursionError:
            report.lines_read += 1
            report.reject(name, no, "JSON nested deeper than the reader allows", line)
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
    try:
        with _gc_paused():
            if problem:
                table = _parse_damaged(content, problem, sf.name, report, start, end)
            else:
                table = parse_document(content, sf.name, report, start, end)
    except RecursionError:
        report.skip(sf.name, "JSON nested deeper than the reader allows")
        report.note(f"{sf.name}: JSON nested deeper than the reader allows; other files still load")
        return None
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
