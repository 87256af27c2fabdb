"""What every log source shares once its lines are rows: Arrow tables and their window.

The parsers (``s3_access``, ``cloudtrail``) and the cache build on these: the memory pool
text columns are allocated from, the time-window mask and filter (with the report's
counts), where a line of a batch came from, the progress bar, and the one conversion of a
canonical table to pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.sources.report import ReportBuilder

#: Text columns are allocated by the C library's allocator: they are kept (a load is
#: mostly text), and on the project's machine mimalloc took twice as long to hand out
#: that much fresh memory (bench/README.md).
TEXT_POOL = pa.system_memory_pool()


def window_mask(table: pa.Table, column: str, start: datetime | None, end: datetime | None) -> pa.Array | None:
    """Boolean mask of rows with ``start <= column < end`` (None when there is no bound)."""
    col = table[column]
    mask = None
    if start is not None:
        mask = pc.greater_equal(col, pa.scalar(start, col.type))
    if end is not None:
        upper = pc.less(col, pa.scalar(end, col.type))
        mask = upper if mask is None else pc.and_(mask, upper)
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    return None if mask is None else pc.fill_null(mask, False)


def filter_window(table: pa.Table, column: str, start: datetime | None, end: datetime | None) -> pa.Table:
    """Rows with ``start <= column < end`` (either bound optional)."""
    mask = window_mask(table, column, start, end)
    return table if mask is None else table.filter(mask)


def keep_window(table: pa.Table, column: str, report: ReportBuilder, start: datetime | None, end: datetime | None) -> pa.Table:
    """The rows of ``table`` inside the window; ``report`` counts them, and the rest as outside it."""
    if start is not None or end is not None:
        before = table.num_rows
        table = filter_window(table, column, start, end)
        report.outside_window += before - table.num_rows
    report.rows += table.num_rows
    return table


class Locator:
    """Maps a line's index in a batch to (file, line number in that file)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.first_lines: list[int] = []
        self.starts: list[int] = []

    @classmethod
    def single(cls, file: str, first_line: int) -> Locator:
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


def progress_bar(files: Sequence[Any], enabled: bool, what: str) -> Any:
    """A tqdm bar over ``files`` when ``enabled`` and there is more than one file, else None."""
    if not enabled or len(files) < 2:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=len(files), desc=what, unit="file")


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
