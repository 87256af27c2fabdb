"""Paged tables show one page and where it is; a report's HTML holds every row, paged in the browser."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from s3forensics.display import paged
from s3forensics.errors import ParameterError


def test_a_large_table_shows_one_page_and_its_position() -> None:
    table = paged(pd.DataFrame({"n": range(4559)}), page=2, page_size=20)
    assert list(table.rows["n"]) == list(range(20, 40))
    assert table.caption == "showing rows 21-40 of 4,559 (page 2 of 228)"
    html = table._repr_html_()
    assert "showing rows 21-40 of 4,559" in html
    # Every row is in the HTML, all but page 2 hidden until the browser turns the page.
    assert html.count("<tr") == 1 + 4559 and html.count('<tr style="display:none">') == 4559 - 20
    assert re.findall(r"<tr><td>(\d+)</td></tr>", html) == [str(i) for i in range(20, 40)]
    assert "showing rows 21-40" in repr(table)


def test_past_the_end_shows_the_last_page() -> None:
    table = paged(pd.DataFrame({"n": range(45)}), page=9, page_size=20)
    assert table.current == 3 and list(table.rows["n"]) == list(range(40, 45))


@pytest.mark.parametrize(("rows", "caption"), [(0, "showing 0 of 0 rows (the table is empty)"), (5, "showing all 5 rows")])
def test_small_tables_say_so(rows: int, caption: str) -> None:
    assert paged(pd.DataFrame({"n": range(rows)})).caption == caption


@pytest.mark.parametrize("bad", [0, -1, "2", True, 1.5])
def test_bad_page_size_is_refused(bad: object) -> None:
    with pytest.raises(ParameterError, match="page_size"):
        paged(pd.DataFrame({"n": [1]}), page_size=bad)  # type: ignore[arg-type]


def test_html_is_escaped() -> None:
    html = paged(pd.DataFrame({"k": ["<script>x</script>"]}), title="<b>t</b>")._repr_html_()
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html and "&lt;b&gt;t&lt;/b&gt;" in html
    assert html.count("<script>") == 1  # the pager's own


def test_readable_tables_have_no_index_nan_raw_bytes_or_microseconds() -> None:
    """Report tables showed pandas indexes, `421416209`, NaN for anonymous, `1.0` for counts
    and microsecond timestamps."""
    from s3forensics.display import human_bytes, readable

    frame = pd.DataFrame(
        {
            "first_seen": pd.to_datetime(["2026-11-18T10:05:07.123456Z", None], utc=True),
            "principal": [None, "arn:aws:iam::111122223333:user/ops-admin"],
            "bytes_sent": [421416209, float("nan")],
            "requests": [1.0, 12345.0],
        },
        index=[7, 9],
    )
    shown = readable(frame)
    assert list(shown.index) == [0, 1]
    assert shown.to_dict("list") == {
        "first_seen": ["2026-11-18 10:05:07", "-"],
        "principal": ["-", "arn:aws:iam::111122223333:user/ops-admin"],
        "bytes_sent": ["401.9 MiB", "-"],
        "requests": ["1", "12,345"],
    }
    assert frame["bytes_sent"].iloc[0] == 421416209  # the frame itself is untouched
    assert [human_bytes(v) for v in (0, 1023, 1024, 5 * 1024**3, 3 * 1024**5, None)] == ["0 B", "1,023 B", "1.0 KiB", "5.0 GiB", "3.0 PiB", "-"]


def test_a_very_large_table_says_how_many_rows_the_page_holds() -> None:
    from s3forensics.display import HTML_ROWS

    html = paged(pd.DataFrame({"n": range(HTML_ROWS + 5)}))._repr_html_()
    assert html.count("<tr") == 1 + HTML_ROWS and f"the first {HTML_ROWS:,} rows are in this page" in html


@pytest.mark.chromium
def test_every_page_is_reachable_in_the_report_offline(browser, tmp_path) -> None:
    """`paged()` wrote only page 1 into the HTML ("page 1 of 5", pages 2-5 unreachable)."""
    table = paged(pd.DataFrame({"key": [f"k-{i:03d}" for i in range(95)], "when": pd.Timestamp("2026-11-18T10:05:07.123456Z")}), page_size=20)
    page = tmp_path / "table.html"
    page.write_text(f"<html><body>{table._repr_html_()}</body></html>", encoding="utf-8")
    seen = browser.evaluate(page, """(() => {
        const visible = () => [...document.querySelectorAll("tbody tr")].filter(r => r.style.display !== "none").map(r => r.cells[0].textContent);
        const caption = () => document.querySelector(".s3f-caption em").textContent;
        const out = [[visible(), caption()]];
        for (let i = 0; i < 4; i++) { document.querySelector("button.s3f-next").click(); out.push([visible(), caption()]); }
        document.querySelector("button.s3f-first").click(); out.push([visible(), caption()]);
        return out;
    })()""")
    assert seen[0][0] == [f"k-{i:03d}" for i in range(20)] and seen[0][1] == "showing rows 1-20 of 95 (page 1 of 5)"
    assert seen[4][0] == [f"k-{i:03d}" for i in range(80, 95)] and seen[4][1] == "showing rows 81-95 of 95 (page 5 of 5)"
    assert seen[5][0] == seen[0][0]
    assert "2026-11-18 10:05:07" in page.read_text() and ".123456" not in page.read_text()
