"""Paged tables show one page and where it is, never the whole frame."""

from __future__ import annotations

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
    assert html.count("<tr") == 21  # header + 20 rows, not 4,559
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
    assert "<script>" not in html and "&lt;b&gt;t&lt;/b&gt;" in html


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
