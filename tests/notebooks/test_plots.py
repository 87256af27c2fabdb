"""Charts that scale: every chart of the kit draws 10,000 findings and 10M rows of history.

The timeline once added a plotly layout shape per finding; plotly's cost grows with the
square of the shapes, so a report on 400 findings took a minute and one on real logs never
finished. These tests hold the structure that keeps it linear (a bounded number of traces,
no shape per finding, at most ``MAX_BARS`` bars per category) and draw the result in
headless Chromium, offline. Timing is measured in ``bench/``, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from s3forensics import plots
from s3forensics.vocabulary import SEVERITIES, SEVERITY_COLORS
from tests.notebooks.browser import assert_charts_drawn

T0 = pd.Timestamp("2026-11-16", tz="UTC")


def _findings(n: int, rng: np.random.Generator) -> pd.DataFrame:
    first = T0 + pd.to_timedelta(rng.integers(0, 7 * 86400, n), unit="s")
    return pd.DataFrame(
        {
            "first_seen": first,
            "last_seen": first + pd.to_timedelta(rng.integers(0, 3600, n), unit="s"),
            "severity": rng.choice(list(SEVERITIES), n),
            "detection_id": rng.choice([f"detection_{i:02d}" for i in range(18)], n),
            "summary": "a finding",
            "source_ip": "192.0.2.10",
            "principal": None,
            "bucket": "example-bucket",
        }
    )


@pytest.fixture(scope="module")
def big_timeline() -> tuple[object, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    rows = 10_000_000
    counts = pd.DataFrame(
        {
            "period": T0 + pd.to_timedelta(rng.integers(0, 7 * 86400, rows), unit="s"),
            "status": rng.choice(["2xx", "3xx", "4xx", "5xx"], rows),
            "requests": np.ones(rows, dtype=np.int64),
        }
    )
    findings = _findings(10_000, rng)
    return plots.timeline(counts, time_col="period", value_col="requests", color_col="status", findings=findings), counts, findings


def test_ten_thousand_findings_are_a_few_traces_and_no_shapes(big_timeline) -> None:
    fig, _, findings = big_timeline
    assert len(fig.layout.shapes) == 0
    bars = [t for t in fig.data if t.type == "bar"]
    spans = [t for t in fig.data if t.type == "scatter" and t.fill == "toself"]
    markers = [t for t in fig.data if t.type == "scatter" and t.mode == "markers"]
    assert len(bars) == 4 and len(spans) == 5 and len(markers) == 18
    # Every finding keeps its marker and its span (5 points and a gap each), in its colour.
    assert sum(len(t.x) for t in markers) == len(findings)
    assert sum(len(t.x) for t in spans) == 6 * len(findings)
    assert {t.fillcolor for t in spans} == set(SEVERITY_COLORS.values())
    # The markers' legend names the detection and its count, worst detections first.
    assert all(t.name.startswith("detection_") and "(" in t.name for t in markers)


def test_ten_million_rows_of_history_are_summed_into_longer_bars_losing_nothing(big_timeline) -> None:
    fig, counts, _ = big_timeline
    bars = [t for t in fig.data if t.type == "bar"]
    assert all(len(t.x) <= plots.MAX_BARS for t in bars)
    assert sum(int(np.sum(t.y)) for t in bars) == int(counts["requests"].sum())
    # Seven days in at most 1,500 bars: 15-minute bars, each starting at its period.
    assert {t.width for t in bars} == {15 * 60 * 1000} and {t.offset for t in bars} == {0}
    assert "15 minutes" in fig.layout.xaxis.title.text


def test_a_daily_bar_spans_its_day_not_midnight_plus_or_minus_twelve_hours() -> None:
    """04's daily bars were centred on midnight, so a marker sat on the wrong day."""
    days = pd.DataFrame({"period": pd.date_range(T0, periods=3, freq="D"), "bucket": "b", "requests": [5, 7, 9]})
    fig = plots.timeline(days, time_col="period", value_col="requests", color_col="bucket")
    (bar,) = fig.data
    assert bar.offset == 0 and bar.width == 86_400_000
    assert list(pd.to_datetime(bar.x, utc=True)) == list(days["period"])


def test_severity_bars_use_the_one_palette_worst_first() -> None:
    """04 drew critical in green: px's default colours, assigned in order of appearance."""
    frame = pd.DataFrame({"detection_id": ["a", "b", "c"], "findings": [3, 2, 1], "severity": ["low", "critical", "high"]})
    fig = plots.bar(frame, x="detection_id", y="findings", color="severity", title="t")
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {s: SEVERITY_COLORS[s] for s in ("critical", "high", "low")}
    assert [t.name for t in fig.data] == ["critical", "high", "low"]


def test_many_alarm_episodes_are_one_trace() -> None:
    periods = pd.date_range(T0, periods=20_000, freq="5min")
    states = pd.DataFrame({"period": periods, "value": np.arange(20_000) % 7, "breaching": False, "in_alarm": False})
    starts = periods[::4][:5000]
    alarms = pd.DataFrame({"start": starts, "end": starts + pd.Timedelta("5min"), "periods": 1, "peak": 6.0})
    fig = plots.alarm_replay(states, threshold=5, alarms=alarms, title="t")
    assert len(fig.layout.shapes) == 1  # the threshold line alone
    assert len(fig.data) == 3  # metric, episodes, ALARM markers


@pytest.mark.chromium
def test_the_big_timeline_draws_offline_in_chromium(big_timeline, browser, tmp_path: Path) -> None:
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    fig, _, _ = big_timeline
    html = tmp_path / "timeline.html"
    body = pio.to_html(fig, include_plotlyjs=False, full_html=False)
    html.write_text(f"<html><head><script>{get_plotlyjs()}</script></head><body>{body}</body></html>", encoding="utf-8")
    assert_charts_drawn(browser, html, charts=1)


def test_a_running_total_of_a_million_rows_is_sampled_keeping_its_end() -> None:
    """03 draws the bytes an actor took, one point per request: a million requests drew a
    million markers."""
    n = 1_000_000
    frame = pd.DataFrame({"time": pd.date_range(T0, periods=n, freq="s"), "cumulative_bytes": np.arange(1, n + 1) * 10, "key": "k"})
    fig = plots.cumulative(frame, time_col="time", value_col="cumulative_bytes", title="taken")
    (line,) = fig.data
    assert len(line.x) <= plots.MAX_POINTS + 1 and line.y[-1] == n * 10 and "1 point in" in fig.layout.title.text
    small = plots.cumulative(frame.head(10), time_col="time", value_col="cumulative_bytes", title="taken")
    assert len(small.data[0].x) == 10 and small.layout.title.text == "taken"


def test_a_heatmap_and_a_bar_chart_of_ten_million_rows_stay_readable() -> None:
    rng = np.random.default_rng(5)
    n = 10_000_000
    frame = pd.DataFrame({"minute": T0 + pd.to_timedelta(rng.integers(0, 7 * 86400, n) // 60 * 60, unit="s"),
                          "status_code": rng.choice(["200", "304", "403", "404", "503"], n), "requests": np.ones(n, dtype=np.int64)})
    heat = plots.heatmap(frame, x="minute", y="status_code", z="requests", title="t")
    (grid,) = heat.data
    assert len(grid.x) <= plots.MAX_BARS and int(np.sum(grid.customdata)) == n and "per column" in heat.layout.title.text
    talkers = pd.DataFrame({"remote_ip": [f"2001:db8::{i:x}" for i in range(100_000)], "requests": np.arange(100_000)})
    bars = plots.bar(talkers, x="remote_ip", y="requests", title="t")
    assert sum(len(t.y) for t in bars.data) == plots.MAX_ROWS and max(max(t.x) for t in bars.data) == 99_999
