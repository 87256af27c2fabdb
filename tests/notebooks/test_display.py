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
