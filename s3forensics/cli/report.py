"""``s3forensics report``: run a notebook with papermill and render offline HTML (for cron)."""

from __future__ import annotations

import argparse
import sys

from s3forensics.lab import sandbox
from s3forensics.reports import coerce_parameters, find_notebook, run_report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    report = subparsers.add_parser(
        "report",
        help="run a notebook with papermill and render offline HTML (for cron)",
        description="Exit status: 0 when the report was written; 1 when the notebook failed "
        "(the failing cell is named on stderr; no HTML of an earlier run is left beside it) or a "
        "parameter is invalid. A sandbox the notebook started (SANDBOX true) is stopped after.",
    )
    report.add_argument("notebook", help="path, or a name like 01_anomaly_investigation")
    report.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    report.add_argument("--output", default="reports", help="folder for the .ipynb and .html (default: reports)")
    report.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    report.add_argument("--show-code", action="store_true", help="keep the code cells in the HTML (default: text, tables and charts only)")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    path = find_notebook(args.notebook)
    params = coerce_parameters(path, [tuple(p) for p in args.parameter])
    # A notebook whose SANDBOX parameter is true starts the local sandbox when none runs;
    # a report leaves the machine as it found it (a sandbox it started is stopped).
    was_running = sandbox.status()[0] == "running"
    try:
        result = run_report(path, params, args.output, timeout=args.timeout, show_code=args.show_code)
    finally:
        if not was_running and sandbox.status()[0] == "running":
            sandbox.stop()
            print("s3forensics report: stopped the sandbox this report started (SANDBOX true)", file=sys.stderr)
    print(f"{result.html}  ({result.seconds:.1f}s)")
    return 0
