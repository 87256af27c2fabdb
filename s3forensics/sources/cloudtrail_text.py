"""The original JSON text of each CloudTrail record's free-form objects, found in the file.

``requestParameters``, ``responseElements`` and ``additionalEventData`` are kept byte for
byte as the file has them: a numpy index of the file's strings and brackets (one pass per
byte class) locates each record object and, in it, the value of each of those keys at
depth 1, as ``json.loads`` would read it (the last duplicate key wins).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.sources.tables import TEXT_POOL

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


def original_texts(data: bytes, shape: str, count: int) -> dict[str, Any] | None:
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


