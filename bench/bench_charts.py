"""Benchmark: the findings timeline against the baseline of one plotly layout shape per finding.

    python -m bench.bench_charts [--findings 100 200 400 10000] [--rows 10000000]

The baseline is how the timeline drew findings before: a shaded ``add_vrect`` per finding
(plotly's cost grows with the square of the layout shapes). Each line builds the figure and
serialises it to HTML (what a report does), in a child process of its own so that each
time and peak RSS is that drawing's alone. The baseline is skipped above ``--baseline-max``
findings (400 took a minute). Synthetic data: documentation addresses, no real account.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

T0 = pd.Timestamp("2026-11-16", tz="UTC")


def _inputs(rows: int, findings: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    counts = pd.DataFrame(
        {
            "period": T0 + pd.to_timedelta(rng.integers(0, 7 * 86400, rows), unit="s"),
            "status": rng.choice(["2xx", "3xx", "4xx", "5xx"], rows),
            "requests": np.ones(rows, dtype=np.int64),
        }
    )
    first = T0 + pd.to_timedelta(rng.integers(0, 7 * 86400, findings), unit="s")
    frame = pd.DataFrame(
        {
            "first_seen": first,
            "last_seen": first + pd.to_timedelta(rng.integers(0, 3600, findings), unit="s"),
            "severity": rng.choice(["critical", "high", "medium", "low", "info"], findings),
            "detection_id": rng.choice([f"detection_{i:02d}" for i in range(18)], findings),
            "summary": "a finding",
            "source_ip": "192.0.2.10",
            "principal": None,
            "bucket": "example-bucket",
        }
    )
    return counts, frame


def _baseline(counts: pd.DataFrame, findings: pd.DataFrame):
    """The timeline as it was: px.bar, then one add_vrect per finding, then the markers."""
    import plotly.express as px
    import plotly.graph_objects as go

    series = counts.assign(period=counts["period"].dt.floor("h")).groupby(["period", "status"], as_index=False)["requests"].sum()
    fig = px.bar(series, x="period", y="requests", color="status")
    top = float(series.groupby("period")["requests"].sum().max())
    for row in findings.itertuples(index=False):
        fig.add_vrect(x0=row.first_seen, x1=row.last_seen, fillcolor="#d62728", opacity=0.15, line_width=0)
    fig.add_trace(go.Scatter(x=findings["first_seen"], y=[top * 1.05] * len(findings), mode="markers"))
    return fig


def measure(kind: str, rows: int, findings: int) -> dict:
    from s3forensics import plots

    counts, frame = _inputs(rows, findings)
    started = time.perf_counter()
    if kind == "baseline":
        fig = _baseline(counts, frame)
    else:
        series = counts.assign(period=counts["period"].dt.floor("h")).groupby(["period", "status"], as_index=False)["requests"].sum() if kind == "kit-hourly" else counts
        fig = plots.timeline(series, time_col="period", value_col="requests", color_col="status", findings=frame)
    html = fig.to_html(include_plotlyjs=False)
    return {
        "kind": kind,
        "rows": rows,
        "findings": findings,
        "seconds": round(time.perf_counter() - started, 2),
        "traces": len(fig.data),
        "shapes": len(fig.layout.shapes),
        "html_kb": len(html) // 1024,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, nargs="+", default=[100, 200, 400, 10_000])
    parser.add_argument("--rows", type=int, default=10_000_000, help="history rows handed to the kit's timeline as they are")
    parser.add_argument("--baseline-max", type=int, default=400)
    parser.add_argument("--one", nargs=3, metavar=("KIND", "ROWS", "FINDINGS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), int(args.one[2]))))
        return 0
    for n in args.findings:
        runs = [("kit", args.rows, n)]
        if n <= args.baseline_max:
            runs = [("baseline", 100_000, n), ("kit-hourly", 100_000, n), *runs]
        for kind, rows, findings in runs:
            child = subprocess.run([sys.executable, "-m", "bench.bench_charts", "--one", kind, str(rows), str(findings)], capture_output=True, text=True, check=False)
            if child.returncode:
                print(child.stderr, file=sys.stderr)
                return child.returncode
            print(child.stdout.strip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
