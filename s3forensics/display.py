"""Large tables shown a page at a time, with "showing N of M", never dumped whole.

A notebook cell that ends with a 50,000-row DataFrame makes a report nobody can read and
a file nobody can open. :func:`paged` wraps a frame so that Jupyter and nbconvert show one
page of it, the position ("rows 21-40 of 4,559, page 2 of 228") and how to see more; the
frame itself stays available as ``.frame`` for filtering and export.

Example:
    >>> import pandas as pd
    >>> table = paged(pd.DataFrame({"n": range(100)}), page_size=10, page=3)
    >>> table.caption
    'showing rows 21-30 of 100 (page 3 of 10)'
"""

from __future__ import annotations

import html
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd

from s3forensics.errors import ParameterError

#: Rows per page when a notebook does not say.
DEFAULT_PAGE_SIZE = 20
#: Most rows a paged table writes into a report's HTML (the pages are turned in the browser).
HTML_ROWS = 10_000

#: Turns the pages of one paged table in the browser (no network, no library).
_PAGER_SCRIPT = """(function () {
  var root = document.getElementById("%(id)s"); if (!root) { return; }
  var rows = root.querySelectorAll("tbody tr"), size = %(size)d, total = %(total)d, shown = %(shown)d;
  var pages = Math.max(1, Math.ceil(shown / size)), page = Math.min(%(page)d, pages);
  var caption = root.querySelector(".s3f-caption em"), pager = root.querySelector(".s3f-pager");
  if (pages < 2) { return; }
  function show(p) {
    page = Math.max(1, Math.min(pages, p));
    for (var i = 0; i < rows.length; i++) { rows[i].style.display = Math.floor(i / size) + 1 === page ? "" : "none"; }
    var a = (page - 1) * size + 1, b = Math.min(page * size, shown);
    caption.textContent = "showing rows " + a.toLocaleString("en-US") + "-" + b.toLocaleString("en-US") + " of " +
      total.toLocaleString("en-US") + " (page " + page + " of " + pages + ")" +
      (shown < total ? "; the first " + shown.toLocaleString("en-US") + " rows are in this page" : "");
  }
  [["\u00ab first", function () { show(1); }], ["\u2039 previous", function () { show(page - 1); }],
   ["next \u203a", function () { show(page + 1); }], ["last \u00bb", function () { show(pages); }]].forEach(function (b) {
    var button = document.createElement("button"); button.type = "button"; button.textContent = b[0];
    button.className = "s3f-" + b[0].replace(/[^a-z]/g, ""); button.onclick = b[1]; pager.appendChild(button);
  });
  show(page);
})();"""


@dataclass(frozen=True)
class PagedTable:
    """One page of a DataFrame, with its position in the whole.

    Attributes:
        frame: the whole table.
        page: the page shown (1-based; clamped to the last page).
        page_size: rows per page.
        title: optional heading shown above the page.
    """

    frame: pd.DataFrame
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    title: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.page_size, int) or isinstance(self.page_size, bool) or self.page_size < 1:
            raise ParameterError(f"page_size must be a positive whole number, got {self.page_size!r}")
        if not isinstance(self.page, int) or isinstance(self.page, bool) or self.page < 1:
            raise ParameterError(f"page must be a whole number from 1, got {self.page!r}")

    @property
    def total(self) -> int:
        """Rows in the whole table."""
        return len(self.frame)

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, even for an empty table)."""
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def current(self) -> int:
        """The page actually shown (``page`` clamped to ``pages``)."""
        return min(self.page, self.pages)

    @property
    def rows(self) -> pd.DataFrame:
        """The rows of the page shown."""
        first = (self.current - 1) * self.page_size
        return self.frame.iloc[first : first + self.page_size]

    @property
    def caption(self) -> str:
        """``showing rows A-B of M (page p of P)``, or ``showing all M rows``."""
        if self.total == 0:
            return "showing 0 of 0 rows (the table is empty)"
        if self.total <= self.page_size:
            return f"showing all {self.total:,} rows"
        first = (self.current - 1) * self.page_size + 1
        last = first + len(self.rows) - 1
        return f"showing rows {first:,}-{last:,} of {self.total:,} (page {self.current} of {self.pages})"

    def _repr_html_(self) -> str:
        """Every row (up to :data:`HTML_ROWS`) in the HTML, the pages turned in the browser.

        Rows off the current page are hidden; a few lines of inline script add the page
        buttons, so a report opened offline reaches every row. Values read as people write
        them (:func:`readable`: times to the second, bytes in units, no ``.0``, ``-`` for
        missing); cell text wraps, aligned left, with no index. Without script (an
        untrusted notebook) the current page shows.
        """
        uid = f"s3f-paged-{uuid.uuid4().hex[:12]}"
        embedded = readable(self.frame.iloc[:HTML_ROWS])
        first = (self.current - 1) * self.page_size
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in embedded.columns)
        body = []
        for i, row in enumerate(embedded.itertuples(index=False, name=None)):
            hidden = "" if first <= i < first + self.page_size else ' style="display:none"'
            cells = "".join(f"<td>{_cell_html(v)}</td>" for v in row)
            body.append(f"<tr{hidden}>{cells}</tr>")
        note = html.escape(self.caption)
        if self.total > HTML_ROWS:
            note += html.escape(f"; the first {HTML_ROWS:,} rows are in this page")
        title = f"<h4>{html.escape(self.title)}</h4>" if self.title else ""
        style = (
            f"<style>#{uid} table{{border-collapse:collapse;font-size:12px}}"
            f"#{uid} th,#{uid} td{{text-align:left;vertical-align:top;white-space:normal;overflow-wrap:break-word;"
            f"max-width:36em;padding:2px 8px;border-bottom:1px solid #ddd}}"
            f"#{uid} .s3f-pager button{{margin:4px 2px}}</style>"
        )
        script = _PAGER_SCRIPT % {"id": uid, "size": self.page_size, "page": self.current, "total": self.total, "shown": len(embedded)}
        return (
            f'<div class="s3f-paged" id="{uid}">{style}{title}<p class="s3f-caption" style="color:#555"><em>{note}</em></p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f'<div class="s3f-pager"></div></div><script>{script}</script>'
        )

    def __repr__(self) -> str:
        title = f"{self.title}\n" if self.title else ""
        with pd.option_context("display.max_rows", self.page_size + 1, "display.width", 200):
            text = self.rows.to_string() if self.total else "(no rows)"
        return f"{title}{text}\n[{self.caption}]"


def _cell_text(value: Any) -> str:
    """A cell as text: missing values as ``-``, times without microseconds."""
    if isinstance(value, (pd.Timestamp,)) and not _missing(value):
        return human_time(value)
    return MISSING if _missing(value) else str(value)


def _cell_html(value: Any) -> str:
    """A cell as escaped HTML; a long word (an ARN, a key) may break after ``/`` or ``:``."""
    words = _cell_text(value).split(" ")
    return " ".join(
        html.escape(w).replace("/", "/<wbr>").replace(":", ":<wbr>") if len(w) > 24 else html.escape(w) for w in words
    )


def paged(frame: pd.DataFrame, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE, title: str = "") -> PagedTable:
    """Wrap ``frame`` so that a notebook shows one page of it and where that page is.

    Args:
        frame: the table.
        page: page to show, from 1 (past the end: the last page).
        page_size: rows per page.
        title: heading above the page.

    Raises:
        ParameterError: ``page`` or ``page_size`` is not a positive whole number.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"paged() needs a pandas DataFrame, got {type(frame).__name__}")
    return PagedTable(frame=frame, page=page, page_size=page_size, title=title)


# -- values people read: one way to write bytes, times and missing values, everywhere ---------

#: What a missing value reads as in tables and text.
MISSING = "-"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def human_bytes(value: Any) -> str:
    """``1.5 GiB`` for a byte count (binary units, as S3's console and billing count), ``-``
    when unknown."""
    if _missing(value):
        return MISSING
    number = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(number) < 1024:
            return f"{number:,.0f} {unit}" if unit == "B" else f"{number:,.1f} {unit}"
        number /= 1024
    return f"{number:,.1f} PiB"


def human_time(value: Any, *, seconds: bool = True) -> str:
    """``2026-11-18 10:05:07`` (UTC, no fraction, no offset), ``-`` when unknown."""
    if _missing(value):
        return MISSING
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo is not None else stamp
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def human_count(value: Any) -> str:
    """``12,345`` for a count (``1.0`` from a float column reads ``1``), ``-`` when unknown."""
    if _missing(value):
        return MISSING
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def readable(frame: pd.DataFrame, *, seconds: bool = True) -> pd.DataFrame:
    """A copy of ``frame`` for people: times as ``YYYY-MM-DD HH:MM:SS`` (``HH:MM`` without
    ``seconds``), columns named like ``bytes`` in KiB/MiB/GiB, counts without ``.0``,
    missing values as ``-``, a fresh index.

    The result is text, for display only; keep ``frame`` for filtering and export.
    """
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        series = out[column]
        name = str(column).lower()
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = [human_time(v, seconds=seconds) for v in series]
        elif "bytes" in name and pd.api.types.is_numeric_dtype(series):
            out[column] = [human_bytes(v) for v in series]
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            out[column] = [human_count(v) for v in series]
        else:
            out[column] = [MISSING if _missing(v) else v for v in series]
    return out
