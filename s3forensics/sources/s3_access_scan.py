"""The fast path of the S3 server access log parser: whole blocks of lines, vectorised.

One pass of numpy over the chunk finds every byte <= ``"`` (newlines, quotes, spaces,
control characters). Each line's fields are then located from the positions of its
quotes and spaces, without copying text: every line whose layout is unambiguous gets
the field boundaries that ``parse_line`` would find (its first regex alternative at
every choice: lazy request-URI and referer, greedy user agent, one space between
fields). Anything else (control characters, other whitespace or non-ASCII bytes outside
the quoted fields, runs of spaces, an odd number of fields, a value that does not
check) is left to ``parse_line``. Text columns are cut from the chunk by one Arrow
``take`` each; numbers and times are decoded from the bytes with numpy.

A line is accepted only where its layout leaves no choice, so the result equals
``s3_access.parse_line``'s (tested line by line on mutated input); ``fast_parse`` returns
which lines it left to that parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.schema import S3_ACCESS_COLUMNS, S3_ACCESS_SCHEMA
from s3forensics.sources.tables import TEXT_POOL

#: Fields after the user agent, in order; each is optional (17..27 fields per line).
_TAIL = S3_ACCESS_COLUMNS[17:]
_INT64 = ("bytes_sent", "object_size", "total_time", "turn_around_time")

_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")
_MONTH_CODES = np.array([(m[0] << 16) | (m[1] << 8) | m[2] for m in _MONTHS], dtype=np.int64)
_MONTH_ORDER = np.argsort(_MONTH_CODES)
_MONTH_SORTED = _MONTH_CODES[_MONTH_ORDER]
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
#: ``[dd/Mon/yyyy:HH:MM:SS +zzzz]``: literal bytes and digit positions.
_TIME_LITERALS = ((0, ord("[")), (3, ord("/")), (7, ord("/")), (12, ord(":")), (15, ord(":")), (18, ord(":")),
                  (21, ord(" ")), (27, ord("]")))
_TIME_DIGITS = np.array([1, 2, 8, 9, 10, 11, 13, 14, 16, 17, 19, 20, 23, 24, 25, 26])
_TIME_WIDTH = 28
#: Field indices (schema order) of the text columns, in the order they appear on a line.
_TEXT_FIELDS = tuple(i for i, t in enumerate(S3_ACCESS_SCHEMA.types) if pa.types.is_large_string(t))
_INT_FIELDS = tuple(S3_ACCESS_COLUMNS.index(name) for name in _INT64)
_STATUS_FIELD = S3_ACCESS_COLUMNS.index("http_status")
_TIME_FIELD = S3_ACCESS_COLUMNS.index("time")
_NUMBER_FIELDS = (_STATUS_FIELD, *_INT_FIELDS)
#: Longest digit strings the fast path reads (longer numbers go to ``parse_line``).
_NUMBER_WIDTH = {f: 3 if f == _STATUS_FIELD else 18 for f in _NUMBER_FIELDS}
_POWERS = {w: 10 ** np.arange(w - 1, -1, -1, dtype=np.int64) for w in range(1, 19)}
_N_FIELDS = len(S3_ACCESS_COLUMNS)
_N_TAIL = len(_TAIL)
_TAIL_FIELDS = list(range(_N_FIELDS - _N_TAIL, _N_FIELDS))
_DASH = ord("-")
#: Widest run of spaces the layouts look at (a line without quotes: 18 + 10 fields).
_MAX_WIDTH = 18 + len(_TAIL)
_SPACE_BYTE = ord(" ")


class Scan:
    """Lines of a chunk and the positions of its spaces and quotes (numpy, no copies)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.b = b = np.frombuffer(data, dtype=np.uint8)
        special = np.flatnonzero(b <= ord('"'))
        kind = b[special]
        newlines = special[kind == 10]
        if data and data[-1] != 10:
            newlines = np.append(newlines, len(data))
        self.newlines = newlines
        self.n = n = len(newlines)
        starts = np.empty(n, dtype=np.int64)
        starts[:1] = 0
        starts[1:] = newlines[:-1] + 1
        ends = newlines.copy()
        ends -= (ends > starts) & (b[np.maximum(ends - 1, 0)] == 13)  # one CR before LF
        self.starts, self.ends = starts, ends
        # Sentinels beyond the data keep gathers in bounds; counts never include them.
        is_space, is_quote = kind == ord(" "), kind == ord('"')
        self.spaces = np.append(special[is_space], np.full(_MAX_WIDTH, len(data) + 2))
        self.quotes = np.append(special[is_quote], [len(data) + 2])
        # Counts of spaces/quotes before each line start and end, and before each quote,
        # from the (few) special bytes that are not spaces: no binary searches.
        other = np.flatnonzero(~is_space)
        other_kind = kind[other]
        spaces_before = other - np.arange(len(other))
        at_newline, at_quote = other_kind == 10, other_kind == ord('"')
        quote_rank = np.cumsum(at_quote)
        spaces_to_nl = np.append(spaces_before[at_newline], [len(self.spaces) - _MAX_WIDTH])[:n]
        quotes_to_nl = np.append(quote_rank[at_newline], [len(self.quotes) - 1])[:n]
        self.spaces_before_end = spaces_to_nl
        self.spaces_before_start = np.concatenate([[0], spaces_to_nl[:-1]]).astype(np.int64)
        self.quotes_before_end = quotes_to_nl
        self.quotes_before_start = np.concatenate([[0], quotes_to_nl[:-1]]).astype(np.int64)
        self.spaces_before_quote = spaces_before[at_quote]
        self.fine = np.ones(n, dtype=bool)
        ctrl = special[(kind < 32) & (kind != 10)]
        if len(ctrl):
            line = np.searchsorted(newlines, ctrl)
            self.fine[line[ctrl != ends[line]]] = False

    def spaces_at(self, index: np.ndarray, width: int) -> np.ndarray:
        """``spaces[index + 0..width-1]`` (sentinels past the end), shape (len(index), width)."""
        windows = np.lib.stride_tricks.sliding_window_view(self.spaces, width)
        return windows[np.minimum(index, len(windows) - 1)]


def _trim_spaces(b: np.ndarray, ends: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Line ends with trailing spaces removed (never below ``floor``)."""
    ends = ends.copy()
    idx = np.flatnonzero((ends > floor) & (b[np.maximum(ends - 1, 0)] == _SPACE_BYTE))
    while len(idx):
        ends[idx] -= 1
        idx = idx[(ends[idx] > floor[idx]) & (b[ends[idx] - 1] == _SPACE_BYTE)]
    return ends


def _quoted_layout(sc: Scan, rows: np.ndarray, qi: np.ndarray, q: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Field (start, end) of lines with quoted request-URI, referer and user agent.

    ``qi`` is the index (in ``sc.quotes``) of each line's first quote, ``q`` the
    positions of its first five quotes and of its last one. Returns starts, ends (shape
    (rows, 27)) and a mask of the lines whose layout is unambiguous.
    """
    b, m = sc.b, len(rows)
    before_quote = sc.spaces_before_quote
    line_start = sc.starts[rows]
    q1, q2, q3, q4, q5, q6 = q
    # Head: eight fields and the two halves of the time, each followed by one space.
    h0 = sc.spaces_before_start[rows]
    ok = before_quote[qi] - h0 == 9
    head = sc.spaces_at(h0, 9)
    ok &= head[:, 8] == q1 - 1
    head_start = np.concatenate([line_start[:, None], head[:, :8] + 1], axis=1)
    ok &= (head > head_start).all(axis=1)
    # Between request-URI and referer: status, error code and four numbers.
    m0 = before_quote[qi + 1]
    ok &= before_quote[qi + 2] - m0 == 7
    mid = sc.spaces_at(m0, 7)
    ok &= (mid[:, 0] == q2 + 1) & (mid[:, 6] == q3 - 1)
    ok &= (mid[:, 1:] > mid[:, :6] + 1).all(axis=1)
    # One space between referer and user agent.
    ok &= (q5 == q4 + 2) & (b[np.minimum(q4 + 1, len(b) - 1)] == _SPACE_BYTE)
    # Tail: after the user agent, a space and then single-space separated fields.
    after = q6 + 1
    line_end = sc.ends[rows]
    tail_end = _trim_spaces(b, line_end, after)
    ok &= (tail_end == after) | (b[np.minimum(after, len(b) - 1)] == _SPACE_BYTE)
    t0 = before_quote[qi + sc.quote_count[rows] - 1]
    count = sc.spaces_before_end[rows] - (line_end - tail_end) - t0
    tail = sc.spaces_at(t0, _N_TAIL + 1)
    j = np.arange(_N_TAIL)
    present = j < count[:, None]
    tail_start = np.where(present, tail[:, :_N_TAIL] + 1, tail_end[:, None])
    tail_stop = np.where(j + 1 < count[:, None], tail[:, 1:], tail_end[:, None])
    ok &= (~present | (tail_stop > tail_start)).all(axis=1)

    starts = np.empty((m, _N_FIELDS), dtype=np.int64)
    ends = np.empty((m, _N_FIELDS), dtype=np.int64)
    starts[:, 0:2], ends[:, 0:2] = head_start[:, 0:2], head[:, 0:2]
    starts[:, 2], ends[:, 2] = head_start[:, 2], head[:, 3]
    starts[:, 3:8], ends[:, 3:8] = head_start[:, 4:9], head[:, 4:9]
    starts[:, 8], ends[:, 8] = q1 + 1, q2
    starts[:, 9:15], ends[:, 9:15] = mid[:, :6] + 1, mid[:, 1:]
    starts[:, 15], ends[:, 15] = q3 + 1, q4
    starts[:, 16], ends[:, 16] = q5 + 1, q6
    starts[:, 17:], ends[:, 17:] = tail_start, tail_stop
    return starts, ends, ok


def _bare_layout(sc: Scan, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Field (start, end) of lines without any quote (bare ``-`` request-URI, referer, agent)."""
    b, m = sc.b, len(rows)
    line_start = sc.starts[rows]
    line_end = sc.ends[rows]
    trimmed = _trim_spaces(b, line_end, line_start)
    s0 = sc.spaces_before_start[rows]
    count = sc.spaces_before_end[rows] - (line_end - trimmed) - s0  # tokens = spaces + 1
    line_end = trimmed
    ok = (count >= 17) & (line_end > line_start)
    width = 18 + _N_TAIL
    sp = sc.spaces_at(s0, width)
    j = np.arange(width)
    tok_start = np.concatenate([line_start[:, None], sp[:, : width - 1] + 1], axis=1)
    tok_end = np.where(j < count[:, None], sp, line_end[:, None])
    present = j <= count[:, None]
    tok_start = np.where(present, tok_start, line_end[:, None])
    tok_end = np.where(present, tok_end, line_end[:, None])
    ok &= (~present | (tok_end > tok_start)).all(axis=1)
    for i in (9, 16, 17):
        ok &= (tok_end[:, i] - tok_start[:, i] == 1) & (b[np.minimum(tok_start[:, i], len(b) - 1)] == _DASH)

    starts = np.empty((m, _N_FIELDS), dtype=np.int64)
    ends = np.empty((m, _N_FIELDS), dtype=np.int64)
    starts[:, :2], ends[:, :2] = tok_start[:, :2], tok_end[:, :2]
    starts[:, 2], ends[:, 2] = tok_start[:, 2], tok_end[:, 3]
    starts[:, 3:], ends[:, 3:] = tok_start[:, 4:], tok_end[:, 4:]
    return starts, ends, ok


def _times(b: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(microseconds since the epoch UTC, ok) of ``[dd/Mon/yyyy:HH:MM:SS +zzzz]``.

    Strict: only what ``datetime.strptime`` reads the same way (other spellings, such as
    a lower-case month or a one-digit day, go to the reference parser).
    """
    if len(b) < _TIME_WIDTH:
        return np.zeros(len(start), dtype=np.int64), np.zeros(len(start), dtype=bool)
    windows = np.lib.stride_tricks.sliding_window_view(b, _TIME_WIDTH)
    g = windows[np.minimum(start, len(windows) - 1)]
    ok = end - start == _TIME_WIDTH
    for col, char in _TIME_LITERALS:
        ok &= g[:, col] == char
    ok &= (g[:, 22] == ord("+")) | (g[:, 22] == ord("-"))
    ok &= ((g[:, _TIME_DIGITS] - np.uint8(48)) < 10).all(axis=1)
    d = g.astype(np.int64) - 48
    day = d[:, 1] * 10 + d[:, 2]
    year = d[:, 8] * 1000 + d[:, 9] * 100 + d[:, 10] * 10 + d[:, 11]
    hour, minute, second = d[:, 13] * 10 + d[:, 14], d[:, 16] * 10 + d[:, 17], d[:, 19] * 10 + d[:, 20]
    off_h, off_m = d[:, 23] * 10 + d[:, 24], d[:, 25] * 10 + d[:, 26]
    code = (d[:, 4] + 48 << 16) | (d[:, 5] + 48 << 8) | (d[:, 6] + 48)
    slot = np.minimum(np.searchsorted(_MONTH_SORTED, code), 11)
    ok &= _MONTH_SORTED[slot] == code
    month = _MONTH_ORDER[slot] + 1
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= (day >= 1) & (day <= _DAYS_IN_MONTH[month] + ((month == 2) & leap))
    ok &= (year >= 1000) & (hour <= 23) & (minute <= 59) & (second <= 59) & (off_h <= 23) & (off_m <= 59)
    # Days from the civil date (proleptic Gregorian), as in H. Hinnant's date algorithms.
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    sign = np.where(g[:, 22] == ord("-"), -1, 1)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - sign * (off_h * 3600 + off_m * 60)
    return seconds * 1_000_000, ok


def _take_columns(data: Any, starts: np.ndarray, ends: np.ndarray, fields: Sequence[int]) -> dict[int, pa.Array]:
    """A copy of the given fields' text (no nulls), one ``large_string`` array per field.

    The data cut at every field boundary is one string array (the boundaries of
    successive fields and lines only increase); each column takes every other piece.
    """
    m, k = starts.shape
    bounds = np.empty((m, 2 * k), dtype=np.int64)
    bounds[:, 0::2], bounds[:, 1::2] = starts, ends
    offsets = bounds.ravel() if m else np.zeros(1, dtype=np.int64)
    pieces = pa.Array.from_buffers(pa.large_string(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    base = np.arange(m, dtype=np.int64) * (2 * k)
    return {f: pc.take(pieces, base + 2 * f, memory_pool=TEXT_POOL) for f in fields}


def _numbers(
    b: np.ndarray, end: np.ndarray, length: np.ndarray, dash: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok): each field is ``-`` or 1..``width`` ASCII digits ending at ``end``."""
    ok = dash | ((length >= 1) & (length <= width) & (end >= width))
    width = int(min(width, length.max(initial=1), len(b)))  # the longest field of this block
    windows = np.lib.stride_tricks.sliding_window_view(b, width)
    digits = windows[np.clip(end - width, 0, len(windows) - 1)] - np.uint8(48)  # right-aligned
    used = np.arange(width) >= width - length[:, None]
    ok &= dash | ((digits < 10) | ~used).all(axis=1)
    values = np.where(used, digits, np.uint8(0)).astype(np.int64) @ _POWERS[width]
    return values, ok


def _validity(valid: np.ndarray) -> pa.Buffer | None:
    return None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))


def fast_parse(sc: Scan) -> tuple[np.ndarray, pa.Table]:
    """The lines the vectorised path reads exactly: (line indices, canonical table)."""
    b, n = sc.b, sc.n
    qa = sc.quotes_before_start
    sc.quote_count = nq = sc.quotes_before_end - qa
    last = len(sc.quotes) - 1
    rows_q = np.flatnonzero(sc.fine & (nq >= 6))
    rows_0 = np.flatnonzero(sc.fine & (nq == 0))
    qi = qa[rows_q]
    q = [sc.quotes[np.minimum(qi + k, last)] for k in range(5)]
    q.append(sc.quotes[qi + nq[rows_q] - 1])
    if not is_ascii(sc.data):
        # Non-ASCII bytes are fine inside the quoted fields only (\S and split() see
        # Unicode spaces elsewhere).
        high = np.flatnonzero(b >= 128)
        line = np.searchsorted(sc.newlines, high)
        bad = np.ones(len(high), dtype=bool)
        if len(rows_q):
            where = np.minimum(np.searchsorted(rows_q, line), len(rows_q) - 1)
            hit = rows_q[where] == line
            w, p = where[hit], high[hit]
            inside = ((q[0][w] < p) & (p < q[1][w])) | ((q[2][w] < p) & (p < q[3][w])) | ((q[4][w] < p) & (p < q[5][w]))
            bad[hit] = ~inside
        sc.fine[line[bad]] = False
    if len(rows_q) == n:
        starts, ends, ok = _quoted_layout(sc, rows_q, qi, q)
    elif len(rows_0) == n:
        starts, ends, ok = _bare_layout(sc, rows_0)
    else:
        # Lines of neither shape get empty fields at their start (so that boundaries
        # still only increase) and are left to the reference parser.
        starts = np.repeat(sc.starts[:, None], _N_FIELDS, axis=1)
        ends = starts.copy()
        ok = np.zeros(n, dtype=bool)
        for rows, layout in ((rows_q, lambda r: _quoted_layout(sc, r, qi, q)), (rows_0, lambda r: _bare_layout(sc, r))):
            if len(rows):
                starts[rows], ends[rows], ok[rows] = layout(rows)
    ok &= sc.fine
    if not ok.any():
        return np.empty(0, dtype=np.int64), S3_ACCESS_SCHEMA.empty_table()
    # The time; numbers are checked below, on their text.
    micros, good = _times(b, starts[:, _TIME_FIELD], ends[:, _TIME_FIELD])
    ok &= good
    length = ends - starts
    first = b[np.minimum(starts, len(b) - 1)]
    dash = (length == 1) & (first == _DASH)
    numbers = {}
    for f in _NUMBER_FIELDS:
        numbers[f], good = _numbers(b, ends[:, f], length[:, f], dash[:, f], _NUMBER_WIDTH[f])
        ok &= good
    # ``-`` is null; so are missing trailing fields (empty pieces at the line end), but
    # not an empty quoted field (``""``).
    null = dash
    null[:, _TAIL_FIELDS] |= length[:, _TAIL_FIELDS] == 0
    texts = _take_columns(sc.data, starts, ends, _TEXT_FIELDS)
    rows = np.flatnonzero(ok)
    everything = len(rows) == n
    keep = None if everything else pa.array(ok)
    m = len(rows)
    columns: list[pa.Array] = []
    for f, typ in enumerate(S3_ACCESS_SCHEMA.types):
        if f in texts:
            buffers = texts[f].buffers()
            text = pa.Array.from_buffers(pa.large_string(), n, [_validity(~null[:, f]), buffers[1], buffers[2]])
            columns.append(text if keep is None else text.filter(keep))
            continue
        values, valid = (micros, None) if f == _TIME_FIELD else (numbers[f], ~dash[:, f])
        if not everything:
            values, valid = values[rows], None if valid is None else valid[rows]
        if typ == pa.int32():
            values = values.astype(np.int32)
        columns.append(pa.Array.from_buffers(typ, m, [None if valid is None else _validity(valid), pa.py_buffer(values)]))
    return rows, pa.Table.from_arrays(columns, schema=S3_ACCESS_SCHEMA)


def is_ascii(data: bytes | memoryview) -> bool:
    """True when every byte is ASCII (a memoryview is checked with numpy, without a copy)."""
    if isinstance(data, memoryview):
        return bool(np.frombuffer(data, dtype=np.uint8).max(initial=0) < 128)
    return data.isascii()
