"""S3 server access logs (text format) -> rows in the canonical ``s3_access`` schema.

The fast path is vectorised with numpy over blocks of about 4 MB of whole lines: one
pass finds the newlines, quotes and spaces; each line's fields are located from them
(lines with quoted request-URI, referer and user agent, and bare-dash lines without any
quote); numbers and times are decoded from the bytes; text columns are cut from the block
by Arrow ``take``. A line is accepted only where its layout leaves no choice, so the
result equals ``parse_line``'s (tested line by line on mutated input).

AWS does not escape ``"`` or ``\\`` inside the request-URI, referer and user agent, so any
other line goes to a pure-Python parser (``parse_line``) that anchors on the structure:
the request-URI runs to the first ``"`` followed by a status, an error code and four
numbers-or-dashes; the user agent runs to the last ``"`` of the line (no later field is
ever quoted); the referer lies between. It parses the line or says exactly why not, and
those lines become rejects. Every line read is a row, a reject, or outside the window.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pyarrow as pa

from s3forensics.schema import S3_ACCESS_COLUMNS, S3_ACCESS_MIN_FIELDS, S3_ACCESS_SCHEMA
from s3forensics.sources import cloudwatch
from s3forensics.sources import inputs as inp
from s3forensics.sources.listing import resolve_inputs
from s3forensics.sources.report import LoadResult, ReportBuilder
from s3forensics.sources.s3_access_scan import Scan, fast_parse, is_ascii
from s3forensics.sources.tables import Locator, keep_window, progress_bar, to_pandas, window_mask
from s3forensics.vocabulary import Window

log = logging.getLogger(__name__)

#: Fields after the user agent, in order; each is optional (17..27 fields per line).
_TAIL = S3_ACCESS_COLUMNS[17:]
_QUOTED = ("request_uri", "referer", "user_agent")
_INT64 = ("bytes_sent", "object_size", "total_time", "turn_around_time")


_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
_INT64_MAX = 2**63 - 1

#: Tolerant fallback: any non-space tokens where the fast path wants numbers, and any
#: run of spaces between fields; values are then checked one by one for a clear reason.
_STRUCTURED = re.compile(
    r"^(\S+) +(\S+) +\[([^\]]*)\] +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\".*?\"|-) +(\d+|-) +(\S+) +"
    r"(\d+|-) +(\d+|-) +(\d+|-) +(\d+|-) +(\".*?\"|-) +(\".*\"|-)([^\"]*)$",
    re.S,
)
_FALLBACK = re.compile(
    r"^(\S+) +(\S+) +\[([^\]]*)\] +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\".*?\"|\S+) +(\S+) +(\S+) +"
    r"(\S+) +(\S+) +(\S+) +(\S+) +(\".*?\"|\S+) +(\".*\"|\S+)(.*)$",
    re.S,
)


def key_decoded(key: str | None) -> str | None:
    """The object key as S3 meant it: the logged ``key`` is URL-encoded (``+``/``%20`` = space)."""
    if key is None:
        return None
    return unquote(key.replace("+", " "))


# ----------------------------------------------------------------------------- fallback


def parse_line(line: str) -> dict[str, Any] | str:
    """Parse one line in pure Python: a record (canonical names, typed) or the reason it fails.

    Used for lines the vectorised path does not match, and as a readable reference.
    """
    text = line.rstrip("\r\n")
    if not text.strip():
        return "empty line"
    m = _STRUCTURED.match(text) or _FALLBACK.match(text)
    if not m:
        fields = len(text.split())
        if fields < S3_ACCESS_MIN_FIELDS + 2:  # the time is two tokens; be generous
            return (
                f"not an S3 server access log line: about {fields} space-separated fields, "
                f"at least {S3_ACCESS_MIN_FIELDS} expected"
            )
        return "not an S3 server access log line: fields are not in the documented order"
    g = m.groups()
    record: dict[str, Any] = {}
    head = ("bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id", "operation", "key",
            "request_uri", "http_status", "error_code", "bytes_sent", "object_size", "total_time",
            "turn_around_time", "referer", "user_agent")
    for name, value in zip(head, g[:17]):
        if name == "time":
            try:
                record[name] = datetime.strptime(value, _TIME_FORMAT)
            except ValueError:
                return f"time [{value}] is not a [dd/Mon/yyyy:HH:MM:SS +zzzz] timestamp"
        elif name in _QUOTED:
            if value in ("-", '"-"'):
                record[name] = None
            elif len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                record[name] = value[1:-1]
            else:
                return f"{name} {value!r} is neither quoted nor -"
        elif value == "-":
            record[name] = None
        elif name == "http_status":
            if not value.isdigit() or len(value) > 3:
                return f"http_status {value!r} is not a 3-digit number or -"
            record[name] = int(value)
        elif name in _INT64:
            if not value.isdigit():
                return f"{name} {value!r} is not a whole number or -"
            number = int(value)
            if number > _INT64_MAX:
                return f"{name} {value} does not fit in 64 bits"
            record[name] = number
        else:
            record[name] = value
    rest = g[17]
    if rest and not rest[0].isspace():
        return "no space after the user agent"
    if '"' in rest:
        return "a quote after the user agent (fields after it are never quoted)"
    for name, value in zip(_TAIL, rest.split()):
        record[name] = None if value == "-" else value
    for name in _TAIL:
        record.setdefault(name, None)
    return record


# ----------------------------------------------------------------------------- chunks


def parse_chunk(
    data: bytes,
    file: str,
    first_line: int,
    report: ReportBuilder,
    start: datetime | None = None,
    end: datetime | None = None,
    locate: Locator | None = None,
) -> pa.Table:
    """Parse whole lines of one file into a canonical table; rejects go to ``report``.

    Args:
        data: whole lines (UTF-8; invalid bytes are replaced and then usually rejected).
        file: the file name used in rejects.
        first_line: line number of the first line in ``data`` (1-based).
        report: receives lines_read, rows, rejected, outside_window.
        start: keep rows with ``time >= start`` (UTC).
        end: keep rows with ``time < end`` (UTC).
        locate: for a batch of several files' lines, maps a line's index in ``data`` to
            (file, line number); ``file`` and ``first_line`` are then unused.
    """
    if not data:
        return S3_ACCESS_SCHEMA.empty_table()
    blocks = map(_scan_and_parse, _blocks([_valid_utf8(data)], BLOCK_BYTES))
    return _collect(blocks, report, start, end, lambda _: locate or Locator.single(file, first_line))


def _valid_utf8(data: bytes | memoryview) -> bytes | memoryview:
    """``data``, or its text with invalid UTF-8 replaced (then usually rejected)."""
    if not is_ascii(data):
        data = bytes(data)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("utf-8", errors="replace").encode("utf-8")
    return data


#: Lines are scanned in blocks of about this size (numpy's and Arrow's passes over a
#: block then stay in the CPU cache; on the project's machine 4 MB was fastest of 1-8 MB).
BLOCK_BYTES = 4 * 1024 * 1024


def _blocks(parts: Sequence[bytes | memoryview], size: int) -> Iterator[tuple[bytes | memoryview, int]]:
    """Blocks of whole lines of about ``size`` bytes, and their offset in the joined parts.

    Each part holds whole lines; a part of about ``size`` is a block as it is (no copy),
    small parts are joined, large ones cut at newlines.
    """
    pending: list[bytes | memoryview] = []
    pending_size = offset = 0

    def flush() -> tuple[bytes | memoryview, int]:
        return (pending[0] if len(pending) == 1 else b"".join(pending)), offset - pending_size

    for part in parts:
        if pending and pending_size + len(part) > size:
            yield flush()
            pending, pending_size = [], 0
        if len(part) <= size:
            pending.append(part)
            pending_size += len(part)
            offset += len(part)
            continue
        whole = bytes(part)  # rare: a part bigger than a block (one long line, or parse_chunk)
        view = memoryview(whole)
        lo = 0
        while lo < len(whole):
            hi = inp.line_cut(whole, lo, lo + size)
            yield (whole if (lo, hi) == (0, len(whole)) else view[lo:hi]), offset + lo
            lo = hi
        offset += len(part)
    if pending:
        yield flush()


#: Blocks parsed at once (numpy and Arrow release the GIL in their loops).
PARSE_THREADS = max(1, min(2, os.cpu_count() or 1))

_BlockResult = tuple[tuple[Scan, int], tuple[np.ndarray, pa.Table]]


def _scan_and_parse(block: tuple[bytes | memoryview, int]) -> _BlockResult:
    scan = Scan(block[0])
    return (scan, block[1]), fast_parse(scan)


def _collect(
    results: Iterable[_BlockResult],
    report: ReportBuilder,
    start: datetime | None,
    end: datetime | None,
    locator: Callable[[np.ndarray], Locator],
    row_lines: list[np.ndarray] | None = None,
) -> pa.Table:
    """The table of parsed blocks (in order), with the lines the fast path left.

    ``locator(newline offsets in the joined parts)`` names the lines for rejects. When
    ``row_lines`` is given, the index (in the joined parts) of each row's line is
    appended to it, in row order.
    """
    tables: list[pa.Table] = []
    positions: list[np.ndarray] = []
    stops: list[np.ndarray] = []
    leftovers: list[tuple[Scan, np.ndarray, int]] = []
    lines = 0
    for (scan, offset), (rows, table) in results:
        tables.append(table)
        positions.append(rows + lines)
        stops.append(scan.newlines + offset)
        if len(rows) < scan.n:
            ok = np.zeros(scan.n, dtype=bool)
            ok[rows] = True
            leftovers.append((scan, np.flatnonzero(~ok), lines))
        lines += scan.n
    report.lines_read += lines
    locate = locator(np.concatenate(stops) if stops else np.empty(0, dtype=np.int64))
    table = pa.concat_tables(tables) if tables else S3_ACCESS_SCHEMA.empty_table()
    done = np.concatenate(positions) if positions else np.empty(0, dtype=np.int64)
    if leftovers:
        table, done = _fallback(leftovers, table, done, locate, report)
        order = np.argsort(done, kind="stable")
        table, done = table.take(pa.array(order)), done[order]
    if start is not None or end is not None:
        before = table.num_rows
        mask = window_mask(table, "time", start, end)
        if mask is not None:
            table = table.filter(mask)
            done = done[mask.to_numpy(zero_copy_only=False)]
        report.outside_window += before - table.num_rows
    report.rows += table.num_rows
    if row_lines is not None:
        row_lines.append(done)
    return table


def _fallback(
    leftovers: Sequence[tuple[Scan, np.ndarray, int]],
    table: pa.Table,
    positions: np.ndarray,
    locate: Locator,
    report: ReportBuilder,
) -> tuple[pa.Table, np.ndarray]:
    """Lines the fast path left (per block: scan, line indices, first line's index)."""
    rescued: list[dict[str, Any]] = []
    rescued_at: list[int] = []
    for scan, bad, first in leftovers:
        data, starts, stops = scan.data, scan.starts, scan.newlines
        for i in bad.tolist():
            text = str(data[starts[i] : stops[i]], "utf-8").rstrip("\r\n")
            parsed = parse_line(text)
            if isinstance(parsed, str):
                report.reject(*locate(first + i), parsed, text)
            else:
                rescued.append(parsed)
                rescued_at.append(first + i)
    if not rescued:
        return table, positions
    extra = pa.Table.from_pylist(rescued, schema=S3_ACCESS_SCHEMA)
    return pa.concat_tables([table, extra]), np.concatenate([positions, np.asarray(rescued_at, dtype=np.int64)])


#: Files are read in chunks of this size: a chunk of a large file is a block as it is.
READ_BYTES = BLOCK_BYTES
#: Lines of many small files are parsed together (per-call overhead dominates otherwise).
BATCH_BYTES = 16 * 1024 * 1024


class _Batch:
    """Whole lines of several files, parsed in one go; per-file notes kept exact.

    ``submit`` hands the blocks to the parsing threads and returns at once; ``finish``
    waits for them. Batches are finished in order: line numbers of rejects continue from
    ``lines_before`` (lines of each read of a file in earlier batches, by the read's
    key: the same file given twice is numbered from 1 twice), which ``finish`` updates.
    """

    def __init__(self, lines_before: dict[int, int]) -> None:
        self.parts: list[bytes | memoryview] = []
        self.pieces: list[tuple[str, int, int]] = []  # (file, read's key, byte offset in the batch)
        self.size = 0
        self.files: list[inp.SourceFile] = []
        self.lines_before = lines_before
        self.results: Iterable[_BlockResult] = ()
        #: After ``finish``: (file, number of rows) runs, in row order.
        self.runs: list[tuple[str, int]] = []

    def add(self, sf: inp.SourceFile, key: int, data: bytes | memoryview) -> None:
        if not data:
            return
        data = _valid_utf8(data)
        if data[-1] != 10:
            data = bytes(data) + b"\n"
        self.pieces.append((sf.name, key, self.size))
        self.parts.append(data)
        self.size += len(data)

    def submit(self, pool: ThreadPoolExecutor | None) -> None:
        blocks = _blocks(self.parts, BLOCK_BYTES)
        if pool is None:
            self.results = map(_scan_and_parse, blocks)
        else:
            futures = [pool.submit(_scan_and_parse, block) for block in blocks]
            self.results = (f.result() for f in futures)

    def finish(self, report: ReportBuilder, start: datetime | None, end: datetime | None) -> pa.Table:
        rejects_before = len(report.rejects)
        file_lines: dict[str, int] = {}
        piece_lines: list[int] = []

        def locator(newlines: np.ndarray) -> Locator:
            # Line index of each piece's first byte: the newlines before it.
            firsts = np.searchsorted(newlines, [offset for _, _, offset in self.pieces]).tolist()
            piece_lines.extend(firsts)
            locate = Locator()
            for (name, key, _), index, after in zip(self.pieces, firsts, [*firsts[1:], len(newlines)]):
                locate.add(name, self.lines_before.get(key, 0) + 1, index)
                self.lines_before[key] = self.lines_before.get(key, 0) + after - index
                file_lines[name] = file_lines.get(name, 0) + after - index
            return locate

        row_lines: list[np.ndarray] = []
        table = _collect(self.results, report, start, end, locator, row_lines)
        self.results = ()
        self.runs = _runs([name for name, _, _ in self.pieces], piece_lines, row_lines[0])
        rejected: dict[str, int] = {}
        for r in report.rejects[rejects_before:]:
            rejected[r.file] = rejected.get(r.file, 0) + 1
        for name, count in rejected.items():
            if count == file_lines.get(name):
                report.note(f"{name}: not an S3 server access log (none of its {count} lines parsed)")
        return table


def _runs(names: Sequence[str], piece_lines: Sequence[int], row_lines: np.ndarray) -> list[tuple[str, int]]:
    """(file, rows) runs in row order, from each piece's first line index and each row's line."""
    if not len(row_lines):
        return []
    piece = np.searchsorted(np.asarray(piece_lines, dtype=np.int64), row_lines, side="right") - 1
    runs: list[tuple[str, int]] = []
    bounds = np.flatnonzero(np.diff(piece)) + 1
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(piece)]):
        name = names[int(piece[lo])]
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + hi - lo)
        else:
            runs.append((name, hi - lo))
    return runs


def iter_s3_access_tables(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    report: ReportBuilder,
    session: Any = None,
    progress: bool = False,
    files: Sequence[inp.SourceFile] | None = None,
    batch_bytes: int = BATCH_BYTES,
    on_runs: Callable[[list[tuple[str, int]]], None] | None = None,
) -> Iterator[tuple[list[inp.SourceFile], pa.Table]]:
    """Stream canonical tables, in input order, into ``report``.

    Lines of consecutive files are parsed in batches of about ``batch_bytes``; each table
    comes with the files whose lines it completes (a large file may span several tables,
    and is listed with its last one). ``on_runs``, if given, is called just before each
    table is yielded with its rows' files as (file name, number of rows) runs in row order
    (empty for rows without a file, from CloudWatch Logs).

    While the threads parse one batch, the next is read: a batch is finished (and its
    table yielded) once the batch after it has been handed to the threads.
    """
    start, end = Window.parse(start, end)
    logs_inputs, files = resolve_inputs(inputs, start, end, report, session=session, files=files)
    bar = progress_bar(files, progress, "s3 access logs")
    lines_before: dict[int, int] = {}
    pool = ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="s3f-parse") if PARSE_THREADS > 1 else None
    submitted: list[_Batch] = []  # handed to the threads, not yet finished (at most two)

    def finish(done: _Batch) -> tuple[list[inp.SourceFile], pa.Table]:
        table = done.finish(report, start, end) if done.parts else S3_ACCESS_SCHEMA.empty_table()
        if on_runs is not None:
            on_runs(done.runs)
        return list(done.files), table

    def hand_over(full: _Batch) -> Iterator[tuple[list[inp.SourceFile], pa.Table]]:
        full.submit(pool)
        submitted.append(full)
        while len(submitted) > 1:
            yield finish(submitted.pop(0))

    def drain() -> Iterator[tuple[list[inp.SourceFile], pa.Table]]:
        while submitted:
            yield finish(submitted.pop(0))

    try:
        batch = _Batch(lines_before)
        for key, (sf, data, error) in enumerate(inp.iter_file_data(files, session)):
            if bar is not None:
                bar.update(1)
            if error is not None:
                report.skip(sf.name, f"cannot download: {error}")
                report.note(f"{sf.name}: cannot download ({error}); other files still load")
                continue
            report.files += 1
            try:
                seen = False
                holder = batch  # the batch with this file's last lines (it lists the file)
                for chunk in inp.iter_chunks(sf, data, chunk_bytes=READ_BYTES):
                    seen = seen or bool(chunk.data) or bool(chunk.truncated)
                    if chunk.truncated:
                        partial = bytes(chunk.data)
                        cut = partial.rfind(b"\n") + 1
                        if cut:
                            batch.add(sf, key, partial[:cut])
                            holder = batch
                        holder.files.append(sf)
                        holder = None
                        # Every earlier line of this file must be counted before the
                        # incomplete one is named: finish all batches first.
                        if batch.parts or batch.files:
                            yield from hand_over(batch)
                        yield from drain()
                        batch = _Batch(lines_before)
                        complete = lines_before.get(key, 0)
                        tail = partial[cut:]
                        if tail:
                            report.lines_read += 1
                            report.reject(sf.name, complete + 1, f"truncated: incomplete last line ({chunk.truncated})",
                                          tail.decode("utf-8", errors="replace"))
                        report.note(f"{sf.name}: {chunk.truncated}; the {complete} complete lines before the damage "
                                    f"were read" + ("; the incomplete last line was rejected" if tail else ""))
                        break
                    batch.add(sf, key, chunk.data)
                    holder = batch
                    if batch.size >= batch_bytes:
                        yield from hand_over(batch)
                        batch = _Batch(lines_before)
                if not seen:
                    report.note(f"{sf.name}: empty file (no lines)")
            except OSError as exc:
                report.skip(sf.name, f"cannot read: {exc}")
                report.note(f"{sf.name}: cannot read ({exc}); other files still load")
                continue
            if holder is not None:  # not yet finished: finishing waits for a later batch
                holder.files.append(sf)
        if batch.parts or batch.files:
            yield from hand_over(batch)
        yield from drain()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    for url in logs_inputs:
        for table in _logs_tables(str(url), start, end, report, session):
            if on_runs is not None:
                on_runs([])
            yield [], table  # no file to remember: the cache re-reads log groups
    if bar is not None:
        bar.close()


def _logs_tables(
    url: str, start: datetime | None, end: datetime | None, report: ReportBuilder, session: Any = None
) -> Iterator[pa.Table]:
    """Canonical ``s3_access`` tables of a ``logs://`` input, into ``report``."""
    for batch in cloudwatch.event_batches(url, start, end, session):
        records: list[dict[str, Any]] = []
        text_lines: list[bytes] = []
        locate = Locator()
        for group, event in batch:
            message = event.get("message") or ""
            name = cloudwatch.event_name(group, event)
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
            rec = cloudwatch.access_record(obj)
            if isinstance(rec, str):
                report.reject(name, 1, rec, message)
            else:
                records.append(rec)
        tables = []
        if records:
            table = pa.Table.from_pylist(records, schema=S3_ACCESS_SCHEMA)
            tables.append(keep_window(table, "time", report, start, end))
        if text_lines:
            tables.append(parse_chunk(b"".join(text_lines), "", 1, report, start, end, locate=locate))
        for table in tables:
            yield table.select(list(S3_ACCESS_COLUMNS))


def parse_lines(lines: Sequence[str] | str, file: str = "<lines>") -> LoadResult:
    """Parse log lines given as text (a list of lines, or one string with newlines)."""
    text = lines if isinstance(lines, str) else "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    report = ReportBuilder("s3_access")
    report.files = 1
    table = parse_chunk(text.encode("utf-8"), file, 1, report)
    return LoadResult(frame=to_pandas(table), report=report.build())


def record_from_mapping(record: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical record (missing columns None) from any mapping; for tests and tools."""
    return {name: record.get(name) for name in S3_ACCESS_COLUMNS}
