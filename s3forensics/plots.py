"""DataFrame in, plotly Figure out: no I/O, no queries.

Reports must draw with no internet: ``use_offline_renderer`` makes every figure carry
plotly.js inline (the ``notebook`` renderer) besides plotly's own mimetype, so nbconvert's
HTML shows the chart offline and JupyterLab still renders it natively.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

SEVERITY_COLORS = {
    "critical": "#7f0000",
    "high": "#d62728",
    "medium": "#ff7f0e",
    "low": "#bcbd22",
    "info": "#7f7f7f",
}


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

    Args:
        counts: one row per (period, category) with the value to plot.
        time_col: column with the period start (timestamps).
        value_col: column with the count or sum.
        color_col: optional category column (status class, bucket...).
        findings: optional findings (``first_seen``, ``last_seen``, ``title``, ``severity``...).
        title: chart title.
    """
    import plotly.express as px
    import plotly.graph_objects as go

    if counts.empty:
        return _empty(title, "no requests in this window")
    fig = px.bar(counts, x=time_col, y=value_col, color=color_col, title=title)
    fig.update_layout(barmode="stack", bargap=0, hovermode="x unified", legend_title_text=color_col or "")
    if findings is not None and not findings.empty:
        top = float(counts.groupby(time_col)[value_col].sum().max())
        for row in findings.itertuples(index=False):
            color = SEVERITY_COLORS.get(str(getattr(row, "severity", "info")).lower(), "#7f7f7f")
            fig.add_vrect(x0=row.first_seen, x1=row.last_seen, fillcolor=color, opacity=0.15, line_width=0)
        fig.add_trace(
            go.Scatter(
                x=findings["first_seen"],
                y=[top * 1.05] * len(findings),
                mode="markers",
                marker={"symbol": "triangle-down", "size": 12, "color": [SEVERITY_COLORS.get(str(s).lower(), "#7f7f7f") for s in findings.get("severity", [])]},
                name="findings",
                text=[_finding_hover(r) for r in findings.to_dict("records")],
                hoverinfo="text",
            )
        )
    return fig


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
    if horizontal:
        fig = px.bar(frame.iloc[::-1], x=y, y=x, color=color, orientation="h", title=title, hover_data=list(hover))
    else:
        fig = px.bar(frame, x=x, y=y, color=color, title=title, hover_data=list(hover))
    return fig


# -- playbook and training figures (added for the notebooks 00, 02, 03, 05, 06) -------------

STATUS_COLORS = {"PASS": "#2ca02c", "yes": "#2ca02c", "partial": "#bcbd22", "UNKNOWN": "#7f7f7f", "unknown": "#7f7f7f", "-": "#d9d9d9", "FAIL": "#d62728", "no": "#d62728"}


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
    fig = px.line(frame, x=time_col, y=value_col, title=title, hover_data=list(hover), markers=True, line_shape="hv")
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
    if alarms is not None:
        for row in alarms.itertuples(index=False):
            fig.add_vrect(x0=row.start, x1=row.end, fillcolor="#d62728", opacity=0.2, line_width=0)
        if len(alarms):
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
