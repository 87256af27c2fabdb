"""``s3forensics demo-data``: generate the demo world's logs, to a folder or into the sandbox."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from s3forensics.errors import ConfigError, SandboxError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo-data`` and ``demo`` commands."""
    parser = subparsers.add_parser(
        "demo-data",
        help="generate the demo world's access logs, CloudTrail files and ground truth",
        description=(
            "Generate deterministic traffic with five injected incidents for the demo account, "
            "laid out as AWS delivers it. Same seed, same bytes."
        ),
    )
    parser.add_argument("--days", type=int, default=7, help="length of the window in days (default 7)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--start", default=None, help="window start, ISO date or time in UTC (default 2026-11-16)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None, help="folder to write (default: <S3FORENSICS_HOME>/demo-world)")
    where.add_argument(
        "--upload",
        action="store_true",
        help=(
            "also put the logs into the running sandbox's buckets (or wherever AWS_ENDPOINT_URL points); "
            "the files stay in the default folder"
        ),
    )
    parser.set_defaults(handler=_demo_data)

    demo = subparsers.add_parser(
        "demo", help="the main job on the embedded default: sandbox, demo world, all notebooks, reports"
    )
    demo.add_argument("--output", default="reports")
    demo.add_argument("--days", type=int, default=7)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--only", action="append", default=[], help="run only these notebooks (names)")
    demo.add_argument("--keep-sandbox", action="store_true", help="leave the sandbox running afterwards")
    demo.set_defaults(handler=_demo)


def _upload_target() -> tuple[Any, str | None, str]:
    """(session, endpoint_url, description) for --upload; never real AWS by accident."""
    from s3forensics import aws
    from s3forensics.lab import sandbox

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return aws.session(), None, endpoint
    current, state = sandbox.status()
    if current == "running" and state is not None:
        return sandbox.boto_session(state), state.endpoint, f"sandbox {state.endpoint}"
    raise SandboxError(
        "--upload needs a running sandbox (`s3forensics sandbox start`) or AWS_ENDPOINT_URL pointing at an S3 endpoint"
    )


def _demo_data(args: argparse.Namespace) -> int:
    from s3forensics.config import home_dir
    from s3forensics.lab.demo.generate import generate, upload

    if args.days < 1:
        raise ConfigError(f"--days must be at least 1, got {args.days}")
    # Find the upload target first: no point generating for a sandbox that is not there.
    target = _upload_target() if args.upload else None
    out = args.out if args.out is not None else home_dir() / "demo-world"
    began = time.perf_counter()
    summary = generate(out, days=args.days, seed=args.seed, start=args.start)
    _print_summary(summary, time.perf_counter() - began)
    if target is not None:
        session, endpoint_url, where = target
        counts = upload(out, session, endpoint_url=endpoint_url)
        for bucket, count in counts.items():
            print(f"  uploaded {count} objects to s3://{bucket}/ ({where})", file=sys.stderr)
    print(summary["out_dir"])
    return 0


def _print_summary(summary: dict[str, Any], seconds: float) -> None:
    lines = summary["access_log_lines"]
    files = summary["access_log_files"]
    print(
        f"demo world {summary['start']} .. {summary['end']} (seed {summary['seed']}) generated in {seconds:.1f}s",
        file=sys.stderr,
    )
    for bucket in lines:
        print(f"  access logs of {bucket}: {lines[bucket]} lines in {files[bucket]} objects", file=sys.stderr)
    print(
        f"  CloudTrail: {summary['cloudtrail_records']} records in {summary['cloudtrail_files']} files "
        f"(+{summary['cloudtrail_digest_files']} digest files)",
        file=sys.stderr,
    )
    print(f"  incidents: {', '.join(summary['scenarios'])}; ground truth: {summary['ground_truth']}", file=sys.stderr)


def _demo(args: argparse.Namespace) -> int:
    from s3forensics.lab.demo.job import run_demo

    reports = run_demo(
        output_dir=Path(args.output),
        days=args.days,
        seed=args.seed,
        only=args.only or None,
        keep_sandbox=args.keep_sandbox,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    for report in reports:
        print(report.html.resolve())
    return 0
