"""DataFrame in, plotly Figure out: no I/O, no queries.

Reports must draw with no internet: ``use_offline_renderer`` makes every figure carry
plotly.js inline (the ``notebook`` renderer) besides plotly's own mimetype, so nbconvert's
HTML shows the chart offline and JupyterLab still renders it natively.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from s3forensics.vocabulary import SEVERITIES, SEVERITY_COLORS, severity_rank

__all__ = ["SEVERITY_COLORS", "alarm_replay", "bar", "cumulative", "heatmap", "status_matrix", "timeline", "use_offline_renderer"]

#: Most bars a timeline draws per category: longer histories are summed into coarser periods.
MAX_BARS = 1500
#: Most bars of a bar chart, rows of a heatmap: the largest are kept, and the title says so.
MAX_ROWS = 60
#: Most points a line chart draws: longer series are sampled evenly (the last point kept).
MAX_POINTS = 5000
#: Period lengths a timeline may coarsen to, shortest first.
_STEPS = tuple(pd.Timedelta(s) for s in ("1s", "10s", "1min", "5min", "15min", "1h", "3h", "6h", "12h", "1D", "7D", "30D"))


_RENDERER = "s3f_offline"


def use_offline_renderer() -> str:
    """Make plotly figures self-contained in notebooks and their HTML exports.

    plotly's own ``notebook`` renderer inlines plotly.js once per notebook but also adds a
    MathJax ``<script>`` from a CDN to every figure; this renderer is the same without it,
    so a report fetches nothing. JupyterLab still uses plotly's native mimetype.
    """
    import plotly.io as pio
    from plotly.io._base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, str]:
            html = pio.to_html(
                fig_dict,
                config=self.config,
                include_plotlyjs=False,
                include_mathjax=False,
                full_html=False,
                default_width="100%",
                default_height=525,
                validate=False,
            )
            return {"text/html": html}

    if _RENDERER not in pio.renderers:
        pio.renderers[_RENDERER] = OfflineNotebookRenderer(connected=False)
    pio.renderers.default = f"plotly_mimetype+{_RENDERER}"
    return pio.renderers.default


def _empty(title: str, message: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(title=title, annotations=[{"text": message, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper"}])
    return fig


def _period(times: pd.Series) -> pd.Timedelta:
    """The counting period of a series of period starts: the smallest gap between them."""
    unique = pd.Series(pd.to_datetime(times).dropna().unique()).sort_values()
    gaps = unique.diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    return gaps.min() if len(gaps) else pd.Timedelta("1h")


def _coarsen(counts: pd.DataFrame, time_col: str, value_col: str, color_col: str | None) -> tuple[pd.DataFrame, pd.Timedelta]:
    """``counts`` summed into periods long enough that at most :data:`MAX_BARS` remain."""
    times = pd.to_datetime(counts[time_col])
    period = _period(times)
    span = times.max() - times.min()
    if span / period <= MAX_BARS:
        return counts, period
    step = next((s for s in _STEPS if s >= period and span / s <= MAX_BARS), _STEPS[-1])
    keys = [times.dt.floor(step).rename(time_col)] + ([counts[color_col]] if color_col else [])
    summed = counts[value_col].groupby(keys, sort=True, observed=True, dropna=False).sum().reset_index()
    return summed, step


def _spans(findings: pd.DataFrame, top: float) -> list[Any]:
    """Each finding's time span as a shaded band: one filled trace per severity, not a shape
    each (plotly's cost grows with the square of layout shapes)."""
    import plotly.graph_objects as go

    traces = []
    severity = findings.get("severity", pd.Series("info", index=findings.index)).astype(str).str.lower()
    for level in (*SEVERITIES, "other"):
        rows = findings[severity == level] if level != "other" else findings[~severity.isin(SEVERITIES)]
        if rows.empty:
            continue
        x0 = pd.to_datetime(rows["first_seen"]).tolist()
        x1 = pd.to_datetime(rows["last_seen"].fillna(rows["first_seen"])).tolist()
        xs: list[Any] = []
        ys: list[Any] = []
        for a, b in zip(x0, x1, strict=True):
            xs += [a, a, b, b, a, None]
            ys += [0, top, top, 0, 0, None]
        traces.append(
            go.Scatter(
                x=xs, y=ys, mode="lines", fill="toself", line={"width": 0}, opacity=0.15,
                fillcolor=SEVERITY_COLORS.get(level, "#7f7f7f"), hoverinfo="skip",
                name=f"{level} finding spans", legendgroup="spans", showlegend=False,
            )
        )
    return traces


def timeline(
    counts: pd.DataFrame,
    *,
    time_col: str,
    value_col: str,
    color_col: str | None = None,
    findings: pd.DataFrame | None = None,
    title: str = "Requests over time",
) -> Any:
    """A stacked bar timeline, with findings drawn as shaded spans and hoverable markers.

    Each bar covers its period, from its start (a daily bar spans the day, not midnight
    +/- 12 h). Any size draws in seconds: more than :data:`MAX_BARS` periods are summed into
    longer ones, findings' spans are one trace per severity and their markers one trace per
    detection (10,000 findings are about 25 traces).

    Args:
        counts: one row per (period, category) with the value to plot.
        time_col: column with the period start (timestamps).
        value_col: column with the count or sum.
        color_col: optional category column (status class, bucket...).
        findings: optional findings (``first_seen``, ``last_seen``, ``title``, ``severity``...).
        title: chart title.
    """
    import plotly.graph_objects as go

    if counts.empty:
        return _empty(title, "no requests in this window")
    counts, period = _coarsen(counts, time_col, value_col, color_col)
    width_ms = period / pd.Timedelta("1ms")
    fig = go.Figure()
    groups = counts.groupby(color_col, sort=True, dropna=False, observed=True) if color_col else [("", counts)]
    for category, group in groups:
        name = str(category) if color_col else value_col
        fig.add_trace(
            go.Bar(
                x=pd.to_datetime(group[time_col]), y=group[value_col], name=name, offset=0, width=width_ms,
                hovertemplate=f"%{{x}}<br>{name}: %{{y:,}}<extra></extra>",
            )
        )
    fig.update_layout(title=title, barmode="stack", bargap=0, hovermode="closest", legend_title_text=color_col or "")
    fig.update_xaxes(title_text=f"{time_col} (bars of {_describe(period)})")
    fig.update_yaxes(title_text=value_col)
    if findings is not None and not findings.empty:
        top = float(counts.groupby(time_col)[value_col].sum().max() or 1)
        for trace in _spans(findings, top * 1.05):
            fig.add_trace(trace)
        detection = findings.get("detection_id", pd.Series("finding", index=findings.index)).astype(str)
        order = sorted(detection.unique(), key=lambda d: (min(severity_rank(s) for s in findings.loc[detection == d].get("severity", ["info"])), d))
        for name in order:
            rows = findings[detection == name]
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime(rows["first_seen"]),
                    y=[top * 1.05] * len(rows),
                    mode="markers",
                    marker={"symbol": "triangle-down", "size": 12, "color": [SEVERITY_COLORS.get(str(s).lower(), "#7f7f7f") for s in rows.get("severity", ["info"] * len(rows))]},
                    name=f"{name} ({len(rows):,})",
                    text=[_finding_hover(r) for r in rows.to_dict("records")],
                    hoverinfo="text",
                )
            )
    return fig


def _describe(period: pd.Timedelta) -> str:
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"1 {unit}" if n == 1 else f"{n} {unit}s"
    return f"{seconds} s"


def _finding_hover(row: dict[str, Any]) -> str:
    parts = [f"<b>{row.get('detection_id', '')}</b> ({row.get('severity', '')})", str(row.get("summary") or row.get("title") or "")]
    for key in ("source_ip", "principal", "bucket"):
        if row.get(key) is not None and not pd.isna(row.get(key)):
            parts.append(f"{key}: {row[key]}")
    return "<br>".join(parts)


def heatmap(frame: pd.DataFrame, *, x: str, y: str, z: str, title: str, log_color: bool = False) -> Any:
    """A heatmap of ``z`` over ``x`` (e.g. hour) and ``y`` (e.g. status code)."""
    import numpy as np
    import plotly.graph_objects as go

    if frame.empty:
        return _empty(title, "no data in this window")
    if pd.api.types.is_datetime64_any_dtype(frame[x]) and frame[x].nunique() > MAX_BARS:
        # As the timeline: more than MAX_BARS columns are summed into longer periods.
        frame, step = _coarsen(frame[[x, y, z]], x, z, y)
        title = f"{title} ({_describe(step)} per column)"
    if frame[y].nunique() > MAX_ROWS:
        top = frame.groupby(y)[z].sum().nlargest(MAX_ROWS).index
        frame = frame[frame[y].isin(top)]
        title = f"{title} (the {MAX_ROWS} largest {y} rows)"
    grid = frame.pivot_table(index=y, columns=x, values=z, aggfunc="sum", fill_value=0).sort_index()
    values = np.log10(grid.to_numpy(dtype=float) + 1) if log_color else grid.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=list(grid.columns),
            y=[str(v) for v in grid.index],
            customdata=grid.to_numpy(),
            hovertemplate=f"{x}: %{{x}}<br>{y}: %{{y}}<br>{z}: %{{customdata}}<extra></extra>",
            colorscale="Reds",
            colorbar={"title": f"log10({z}+1)" if log_color else z},
        )
    )
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y)
    return fig


def bar(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    color: str | None = None,
    hover: Sequence[str] = (),
    horizontal: bool = True,
) -> Any:
    """A bar chart of the top rows (horizontal by default, largest on top)."""
    import plotly.express as px

    if frame.empty:
        return _empty(title, "nothing to show in this window")
    if len(frame) > MAX_ROWS:
        frame = frame.nlargest(MAX_ROWS, y) if pd.api.types.is_numeric_dtype(frame[y]) else frame.head(MAX_ROWS)
        title = f"{title} (the {MAX_ROWS} largest)"
    # Severity has one palette and one order on every page (critical first, dark red).
    palette: dict[str, Any] = {}
    if color == "severity":
        present = sorted({str(v) for v in frame[color]}, key=severity_rank)
        palette = {"color_discrete_map": SEVERITY_COLORS, "category_orders": {"severity": present}}
    if horizontal:
        fig = px.bar(frame.iloc[::-1], x=y, y=x, color=color, orientation="h", title=title, hover_data=list(hover), **palette)
    else:
        fig = px.bar(frame, x=x, y=y, color=color, title=title, hover_data=list(hover), **palette)
    return fig


# -- playbook and training figures (added for the notebooks 00, 02, 03, 05, 06) -------------

STATUS_COLORS = {"PASS": "#2ca02c", "yes": "#2ca02c", "SEEN IN LOGS": "#98df8a", "yes (logs)": "#98df8a", "partial": "#bcbd22", "UNKNOWN": "#7f7f7f", "unknown": "#7f7f7f", "-": "#d9d9d9", "FAIL": "#d62728", "no": "#d62728"}


def status_matrix(frame: pd.DataFrame, *, title: str) -> Any:
    """A grid of categorical statuses (rows x columns), coloured PASS/yes green, FAIL/no red.

    Args:
        frame: index = rows (e.g. buckets), columns = checks or questions, values =
            ``PASS/FAIL/UNKNOWN/-`` or ``yes/partial/no/unknown``.
        title: chart title.
    """
    import plotly.graph_objects as go

    if frame.empty:
        return _empty(title, "nothing to show")
    labels = list(dict.fromkeys(str(v) for v in frame.to_numpy().ravel()))
    codes = {label: i for i, label in enumerate(labels)}
    z = [[codes[str(v)] for v in row] for row in frame.to_numpy()]
    n = max(len(labels) - 1, 1)
    scale = []
    for label, i in codes.items():
        color = STATUS_COLORS.get(label, "#9467bd")
        scale += [[i / n if len(labels) > 1 else 0.0, color], [i / n if len(labels) > 1 else 1.0, color]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in frame.columns],
            y=[str(i) for i in frame.index],
            text=frame.astype(str).to_numpy(),
            texttemplate="%{text}",
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
            colorscale=scale if len(labels) > 1 else [[0, scale[0][1]], [1, scale[0][1]]],
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(title=title, yaxis={"autorange": "reversed"}, xaxis={"side": "top"})
    return fig


def cumulative(frame: pd.DataFrame, *, time_col: str, value_col: str, title: str, hover: Sequence[str] = ()) -> Any:
    """A step line of a running total over time (e.g. bytes taken), with hover details."""
    import plotly.express as px

    if frame.empty:
        return _empty(title, "nothing in this window")
    if len(frame) > MAX_POINTS:
        # A running total keeps its shape at any sampling: evenly spaced rows, the last one kept.
        step = -(-len(frame) // MAX_POINTS)
        frame = pd.concat([frame.iloc[::step], frame.iloc[[-1]]]).drop_duplicates()
        title = f"{title} (1 point in {step:,})"
    fig = px.line(frame, x=time_col, y=value_col, title=title, hover_data=list(hover), markers=len(frame) <= 500, line_shape="hv")
    return fig


def alarm_replay(states: pd.DataFrame, *, threshold: float, alarms: pd.DataFrame | None = None, title: str) -> Any:
    """A metric's datapoints per period, the alarm threshold, and the ALARM episodes shaded.

    Args:
        states: a backtest's ``states`` (``period, value, breaching, in_alarm``).
        threshold: the threshold line.
        alarms: the backtest's ALARM episodes (``start, end, periods, peak``).
        title: chart title.
    """
    import plotly.graph_objects as go

    if states.empty:
        return _empty(title, "no datapoints in this window")
    fig = go.Figure(
        go.Scatter(x=states["period"], y=states["value"], mode="lines", name="metric (Sum per period)", hovertemplate="%{x}<br>%{y:,.0f}<extra></extra>")
    )
    fig.add_hline(y=threshold, line_dash="dash", line_color="#d62728", annotation_text=f"threshold {threshold:,.0f}")
    if alarms is not None and len(alarms):
        top = float(states["value"].max() or 1)
        for trace in _spans(alarms.assign(first_seen=alarms["start"], last_seen=alarms["end"], severity="high"), max(top, threshold) * 1.05):
            fig.add_trace(trace)
        fig.add_trace(
            go.Scatter(
                x=alarms["start"],
                y=alarms["peak"],
                mode="markers",
                marker={"symbol": "triangle-down", "size": 12, "color": "#d62728"},
                name="ALARM",
                text=[f"ALARM {r.start} - {r.end}<br>{r.periods} period(s), peak {r.peak:,.0f}" for r in alarms.itertuples(index=False)],
                hoverinfo="text",
            )
        )
    fig.update_layout(title=title, hovermode="x unified")
    return fig
