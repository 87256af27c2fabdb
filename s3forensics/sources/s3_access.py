"""S3 server access logs (text format) -> rows in the canonical ``s3_access`` schema.

The fast path is vectorised: a chunk of whole lines becomes one Arrow string array
(zero-copy, split at newlines with numpy). Lines whose only ``"`` are the six around the
request-URI, referer and user agent (nearly all lines), and lines with no ``"`` at all
(the bare-dash records of BATCH.DELETE.OBJECT and REST.COPY.OBJECT_GET), are split on
``"`` and on spaces by Arrow kernels, and every value is checked (numbers, status, time).

AWS does not escape ``"`` or ``\\`` inside the request-URI, referer and user agent, so any
other line goes to a pure-Python parser (``parse_line``) that anchors on the structure:
the request-URI runs to the first ``"`` followed by a status, an error code and four
numbers-or-dashes; the user agent runs to the last ``"`` of the line (no later field is
ever quoted); the referer lies between. It parses the line or says exactly why not, and
those lines become rejects. Every line read is a row, a reject, or outside the window.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.schema import S3_ACCESS_COLUMNS, S3_ACCESS_MIN_FIELDS, S3_ACCESS_SCHEMA
from s3forensics.sources import inputs as inp
from s3forensics.sources.report import LoadResult, ReportBuilder

log = logging.getLogger(__name__)

_NUM = r"\d{1,18}|-"
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


# ----------------------------------------------------------------------------- fast path


def _lines_array(data: bytes) -> pa.LargeStringArray:
    """Zero-copy Arrow array of the lines in ``data`` (each keeps its newline)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10) + 1
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(data))
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends
    return pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))


_NULL_STR = pa.scalar(None, pa.large_string())


def _nullify(col: pa.Array) -> pa.Array:
    """``-`` (and empty, for optional trailing fields) -> null."""
    mask = pc.or_(pc.equal(col, "-"), pc.equal(col, ""))
    return pc.if_else(mask, _NULL_STR, col)


def _unquote(col: pa.Array) -> pa.Array:
    """``"-"`` and bare ``-`` -> null; ``"text"`` -> ``text`` (nothing unescaped)."""
    mask = pc.or_(pc.equal(col, "-"), pc.equal(col, '"-"'))
    return pc.if_else(mask, _NULL_STR, pc.utf8_slice_codeunits(col, 1, -1))


_PAD = pa.scalar(" -" * len(_TAIL), pa.large_string())
_SPACE = pa.scalar(" ", pa.large_string())
_EMPTY = pa.scalar("", pa.large_string())
_NUMERIC_RE = r"^(?:\d{1,18}|-)$"
_STATUS_RE = r"^(?:\d{1,3}|-)$"


class _Split:
    """Positional access to a list array (from ``split_pattern``) without per-row Python."""

    def __init__(self, lists: pa.Array) -> None:
        self.values = lists.values
        offsets = np.asarray(lists.offsets)
        self.starts = offsets[:-1]
        self.lengths = offsets[1:] - offsets[:-1]

    def __getitem__(self, i: int) -> pa.Array:
        # Clipped so that rows with too few parts still index safely (they are masked out).
        idx = self.starts + np.minimum(i, np.maximum(self.lengths - 1, 0))
        return self.values.take(pa.array(idx))

    def subset(self, rows: np.ndarray) -> "_Split":
        """The same lists restricted to ``rows`` (no copy of the strings)."""
        other = object.__new__(_Split)
        other.values, other.starts, other.lengths = self.values, self.starts[rows], self.lengths[rows]
        return other


def _eq(col: pa.Array, text: str) -> np.ndarray:
    return pc.fill_null(pc.equal(col, text), False).to_numpy(zero_copy_only=False)


def _fast_split(lines: pa.Array) -> tuple[np.ndarray, dict[str, pa.Array], list[str]]:
    """Split well-shaped lines without regex submatches.

    Lines whose only ``"`` are the six delimiting the request-URI, referer and user agent
    (the common case), and lines with no ``"`` at all (bare-dash records), are split on
    ``"`` and spaces. Returns (row positions, raw text columns, names of quoted columns
    whose text is still inside the quotes) for the rows that fit; others are left to the
    fallback.
    """
    quoted = _Split(pc.split_pattern(lines, '"'))
    positions: list[np.ndarray] = []
    parts: list[dict[str, pa.Array]] = []

    rows7 = np.flatnonzero(quoted.lengths == 7)
    if len(rows7):
        q = quoted if len(rows7) == len(lines) else quoted.subset(rows7)
        head = _Split(pc.split_pattern(q[0], " "))
        mid = _Split(pc.split_pattern(q[2], " "))
        tail = _Split(pc.split_pattern(pc.binary_join_element_wise(q[6], _PAD, _EMPTY), " "))
        ok = (head.lengths == 10) & (mid.lengths == 8) & _eq(head[9], "") & _eq(mid[0], "") & _eq(mid[7], "")
        ok &= _eq(q[4], " ") & _eq(tail[0], "")
        cols = {
            "bucket_owner": head[0], "bucket": head[1], "time": pc.binary_join_element_wise(head[2], head[3], _SPACE),
            "remote_ip": head[4], "requester": head[5], "request_id": head[6], "operation": head[7], "key": head[8],
            "request_uri": q[1], "http_status": mid[1], "error_code": mid[2], "bytes_sent": mid[3],
            "object_size": mid[4], "total_time": mid[5], "turn_around_time": mid[6], "referer": q[3], "user_agent": q[5],
        }
        for i, name in enumerate(_TAIL, start=1):
            cols[name] = tail[i]
        keep = pa.array(ok)
        positions.append(rows7[ok])
        parts.append({k: v.filter(keep) for k, v in cols.items()})

    rows1 = np.flatnonzero(quoted.lengths == 1)
    if len(rows1):
        padded = pc.binary_join_element_wise(lines.take(pa.array(rows1)), _PAD, _EMPTY)
        tok = _Split(pc.split_pattern(padded, " "))
        ok = (tok.lengths >= 18 + len(_TAIL)) & _eq(tok[9], "-") & _eq(tok[16], "-") & _eq(tok[17], "-")
        names = ("bucket_owner", "bucket", None, None, "remote_ip", "requester", "request_id", "operation", "key",
                 "request_uri", "http_status", "error_code", "bytes_sent", "object_size", "total_time",
                 "turn_around_time", "referer", "user_agent", *_TAIL)
        cols = {name: tok[i] for i, name in enumerate(names) if name}
        cols["time"] = pc.binary_join_element_wise(tok[2], tok[3], _SPACE)
        keep = pa.array(ok)
        positions.append(rows1[ok])
        parts.append({k: v.filter(keep) for k, v in cols.items()})

    if not parts:
        return np.empty(0, dtype=np.int64), {}, []
    merged = {name: pa.concat_arrays([p[name] for p in parts]) for name in parts[0]}
    return np.concatenate(positions), merged, []


def _typed_table(cols: dict[str, pa.Array]) -> tuple[pa.Table, np.ndarray]:
    """Raw text columns -> canonical table, and a mask of rows whose values are valid."""
    ok = np.ones(len(cols["bucket_owner"]), dtype=bool)
    time_text = cols["time"]
    bracketed = pc.and_(pc.starts_with(time_text, "["), pc.ends_with(time_text, "]"))
    times = _parse_time(pc.utf8_slice_codeunits(time_text, 1, -1))
    ok &= pc.and_(bracketed, times.is_valid()).to_numpy(zero_copy_only=False)
    for name in _INT64:
        ok &= pc.fill_null(pc.match_substring_regex(cols[name], _NUMERIC_RE), False).to_numpy(zero_copy_only=False)
    ok &= pc.fill_null(pc.match_substring_regex(cols["http_status"], _STATUS_RE), False).to_numpy(zero_copy_only=False)
    keep = pa.array(ok)
    out: dict[str, pa.Array] = {}
    for name, typ in zip(S3_ACCESS_SCHEMA.names, S3_ACCESS_SCHEMA.types):
        if name == "time":
            out[name] = times.filter(keep)
            continue
        col = cols[name].filter(keep)
        if name in _QUOTED:  # `"-"` and bare `-` are null; `""` is an empty string
            col = pc.if_else(pc.equal(col, "-"), _NULL_STR, col)
        else:
            col = _nullify(col)
        out[name] = pc.cast(col, typ)
    return pa.table(out, schema=S3_ACCESS_SCHEMA), ok


def _parse_time(col: pa.Array) -> pa.Array:
    return pc.cast(
        pc.strptime(col, format=_TIME_FORMAT, unit="us", error_is_null=True), S3_ACCESS_SCHEMA.field("time").type
    )


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
    locate: "_Locator | None" = None,
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
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    lines = pc.utf8_rtrim(_lines_array(data), characters="\r\n")
    n = len(lines)
    report.lines_read += n
    positions, cols, _ = _fast_split(lines)
    if len(positions):
        table, valid = _typed_table(cols)
        positions = positions[valid]
    else:
        table = S3_ACCESS_SCHEMA.empty_table()
    ok_np = np.zeros(n, dtype=bool)
    ok_np[positions] = True
    bad = np.flatnonzero(~ok_np)
    if len(bad):
        locate = locate or _Locator.single(file, first_line)
        table, positions = _fallback(lines, bad, table, positions, locate, report)
    if len(positions) > 1 and np.any(np.diff(positions) < 0):
        table = table.take(pa.array(np.argsort(positions, kind="stable")))
    if start is not None or end is not None:
        before = table.num_rows
        table = filter_window(table, "time", start, end)
        report.outside_window += before - table.num_rows
    report.rows += table.num_rows
    return table


def _fallback(
    lines: pa.Array, bad: np.ndarray, table: pa.Table, positions: np.ndarray, locate: "_Locator", report: ReportBuilder
) -> tuple[pa.Table, np.ndarray]:
    rescued: list[dict[str, Any]] = []
    rescued_at: list[int] = []
    for i in bad.tolist():
        text = lines[i].as_py()
        parsed = parse_line(text)
        if isinstance(parsed, str):
            report.reject(*locate(i), parsed, text)
        else:
            rescued.append(parsed)
            rescued_at.append(i)
    if not rescued:
        return table, positions
    extra = pa.Table.from_pylist(rescued, schema=S3_ACCESS_SCHEMA)
    return pa.concat_tables([table, extra]), np.concatenate([positions, np.asarray(rescued_at, dtype=np.int64)])


def filter_window(table: pa.Table, column: str, start: datetime | None, end: datetime | None) -> pa.Table:
    """Rows with ``start <= column < end`` (either bound optional)."""
    col = table[column]
    mask = None
    if start is not None:
        mask = pc.greater_equal(col, pa.scalar(start, col.type))
    if end is not None:
        upper = pc.less(col, pa.scalar(end, col.type))
        mask = upper if mask is None else pc.and_(mask, upper)
    return table if mask is None else table.filter(mask)


class _Locator:
    """Maps a line's index in a batch to (file, line number in that file)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.first_lines: list[int] = []
        self.starts: list[int] = []

    @classmethod
    def single(cls, file: str, first_line: int) -> "_Locator":
        loc = cls()
        loc.add(file, first_line, 0)
        return loc

    def add(self, file: str, first_line: int, start_index: int) -> None:
        self.names.append(file)
        self.first_lines.append(first_line)
        self.starts.append(start_index)

    def __call__(self, index: int) -> tuple[str, int]:
        piece = int(np.searchsorted(self.starts, index, side="right")) - 1
        return self.names[piece], self.first_lines[piece] + index - self.starts[piece]


#: Lines of many small files are parsed together (per-call overhead dominates otherwise).
BATCH_BYTES = 16 * 1024 * 1024


class _Batch:
    """Whole lines of several files, parsed in one call; per-file notes kept exact."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.locate = _Locator()
        self.lines = 0
        self.size = 0
        self.files: list[inp.SourceFile] = []
        self.file_lines: dict[str, int] = {}

    def add(self, sf: inp.SourceFile, data: bytes, first_line: int) -> None:
        if not data:
            return
        if not data.endswith(b"\n"):
            data += b"\n"
        count = data.count(b"\n")
        self.locate.add(sf.name, first_line, self.lines)
        self.parts.append(data)
        self.lines += count
        self.size += len(data)
        self.file_lines[sf.name] = self.file_lines.get(sf.name, 0) + count

    def parse(self, report: ReportBuilder, start: datetime | None, end: datetime | None) -> pa.Table:
        rejects_before = len(report.rejects)
        data = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        table = parse_chunk(data, "", 1, report, start, end, locate=self.locate)
        rejected: dict[str, int] = {}
        for r in report.rejects[rejects_before:]:
            rejected[r.file] = rejected.get(r.file, 0) + 1
        for name, count in rejected.items():
            if count == self.file_lines.get(name):
                report.note(f"{name}: not an S3 server access log (none of its {count} lines parsed)")
        return table


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
) -> Iterator[tuple[list[inp.SourceFile], pa.Table]]:
    """Stream canonical tables, in input order, into ``report``.

    Lines of consecutive files are parsed in batches of about ``batch_bytes``; each table
    comes with the files whose lines it completes (a large file may span several tables,
    and is listed with its last one).
    """
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
    bar = _progress(files, progress, "s3 access logs")
    batch = _Batch()
    for sf, data, error in inp.iter_file_data(files, session):
        if bar is not None:
            bar.update(1)
        if error is not None:
            report.skip(sf.name, f"cannot download: {error}")
            report.note(f"{sf.name}: cannot download ({error}); other files still load")
            continue
        report.files += 1
        try:
            seen = False
            for chunk in inp.iter_chunks(sf, data):
                seen = seen or bool(chunk.data)
                if chunk.truncated:
                    partial = chunk.data
                    cut = partial.rfind(b"\n") + 1
                    batch.add(sf, partial[:cut], chunk.first_line)
                    tail = partial[cut:]
                    if tail:
                        report.lines_read += 1
                        line_no = chunk.first_line + partial[:cut].count(b"\n")
                        report.reject(sf.name, line_no, f"incomplete last line: {chunk.truncated}",
                                      tail.decode("utf-8", errors="replace"))
                    report.note(f"{sf.name}: {chunk.truncated}; lines before the damage were read")
                    break
                batch.add(sf, chunk.data, chunk.first_line)
                if batch.size >= batch_bytes:
                    table = batch.parse(report, start, end)
                    done, batch = batch, _Batch()
                    yield [f for f in done.files], table
            if not seen:
                report.note(f"{sf.name}: empty file (no lines)")
        except OSError as exc:
            report.skip(sf.name, f"cannot read: {exc}")
            report.note(f"{sf.name}: cannot read ({exc}); other files still load")
            continue
        batch.files.append(sf)
    if batch.parts or batch.files:
        yield batch.files, (batch.parse(report, start, end) if batch.parts else S3_ACCESS_SCHEMA.empty_table())
    for url in logs_inputs:
        for table in cloudwatch.load_tables("s3_access", str(url), start, end, report, session):
            yield [], table  # no file to remember: the cache re-reads log groups
    if bar is not None:
        bar.close()


def _progress(files: Sequence[inp.SourceFile], enabled: bool, what: str) -> Any:
    if not enabled or len(files) < 2:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=len(files), desc=what, unit="file")


def load_s3_access(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    cache: str | Path | bool | None = None,
    session: Any = None,
    progress: bool = False,
) -> LoadResult:
    """Load S3 server access logs into a DataFrame with the canonical columns.

    Args:
        inputs: files, folders (recursive, gzip or not) and ``s3://bucket/prefix`` locations.
        start: keep records at or after this time (UTC; naive means UTC; ISO text accepted).
        end: keep records before this time.
        cache: a Parquet cache folder (``True`` for the default one): S3 objects are parsed
            into it once, and later loads of the same window read nothing from S3.
        session: a boto3 session for ``s3://`` inputs (default: the standard chain).
        progress: show a progress bar over files.

    Returns:
        LoadResult with ``frame`` (canonical columns, input order) and ``report``.
    """
    if cache:
        from s3forensics.sources.cache import load_via_cache

        return load_via_cache("s3_access", inputs, start, end, cache=cache, session=session, progress=progress)
    report = ReportBuilder("s3_access")
    tables = [t for _, t in iter_s3_access_tables(inputs, start, end, report=report, session=session, progress=progress)]
    table = pa.concat_tables(tables) if tables else S3_ACCESS_SCHEMA.empty_table()
    return LoadResult(frame=to_pandas(table), report=report.build())


def parse_lines(lines: Sequence[str] | str, file: str = "<lines>") -> LoadResult:
    """Parse log lines given as text (a list of lines, or one string with newlines)."""
    text = lines if isinstance(lines, str) else "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    report = ReportBuilder("s3_access")
    report.files = 1
    table = parse_chunk(text.encode("utf-8"), file, 1, report)
    return LoadResult(frame=to_pandas(table), report=report.build())


def _types_mapper(typ: pa.DataType) -> Any:
    import pandas as pd

    if pa.types.is_int64(typ):
        return pd.Int64Dtype()
    if pa.types.is_int32(typ):
        return pd.Int32Dtype()
    if pa.types.is_boolean(typ):
        return pd.BooleanDtype()
    if pa.types.is_list(typ):
        return pd.ArrowDtype(typ)
    return None


def to_pandas(table: pa.Table) -> Any:
    """Canonical Arrow table -> DataFrame (nullable ints/bools, ``str`` text, UTC datetimes).

    Text columns use pandas' ``str`` dtype (missing = NaN, as pandas 3 does), times are
    ``datetime64[us, UTC]``, integers ``Int64``/``Int32`` with ``<NA>``, lists Arrow lists.
    """
    return table.to_pandas(types_mapper=_types_mapper)


def record_from_mapping(record: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical record (missing columns None) from any mapping; for tests and tools."""
    return {name: record.get(name) for name in S3_ACCESS_COLUMNS}
