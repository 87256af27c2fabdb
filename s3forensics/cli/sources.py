"""``s3forensics convert`` and ``s3forensics sync``: logs to JSON lines/Parquet, or into the cache."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from s3forensics.sources.report import LoadReport

KIND_CHOICES = ("s3-access", "cloudtrail")


def _print_report(report: LoadReport, extra: str = "") -> None:
    print(report.summary() + extra, file=sys.stderr)
    for message in report.messages[:20]:
        print(f"  note: {message}", file=sys.stderr)
    if len(report.messages) > 20:
        print(f"  ... and {len(report.messages) - 20} more notes", file=sys.stderr)


def _convert(args: argparse.Namespace) -> int:
    from s3forensics.sources.convert import convert, rejects_path

    report = convert(args.kind, args.inputs, args.output, args.start, args.end, progress=args.progress)
    _print_report(report, f"; wrote {args.output}, rejects in {rejects_path(args.output)}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from s3forensics.config import default_cache_dir
    from s3forensics.sources.cache import sync

    cache_dir = args.cache or default_cache_dir()
    report = sync(args.kind, args.inputs, cache_dir, args.start, args.end, progress=args.progress)
    _print_report(report, f"; cache {cache_dir}")
    return 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KIND_CHOICES, help="log format")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders (recursive, .gz or not), s3://bucket/prefix (any layout) or logs://LOG_GROUP[/STREAM_PREFIX]")
    parser.add_argument("--start", help="window start, ISO-8601 (UTC when no offset), inclusive")
    parser.add_argument("--end", help="window end, ISO-8601 (UTC when no offset), exclusive")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")


def register(subparsers: Any) -> None:
    """Add the ``convert`` and ``sync`` commands."""
    conv = subparsers.add_parser(
        "convert",
        help="convert S3 access logs or CloudTrail to JSON lines or Parquet",
        description=(
            "Parse logs into the canonical columns and write OUT.jsonl (one object per row, input "
            "order, ISO-8601 UTC times, nulls) or OUT.parquet. Rejected lines go to "
            "OUT.rejects.jsonl as {file, line, reason, text}. Exit 0 when it ran, even with rejects."
        ),
    )
    _add_common(conv)
    conv.add_argument("-o", "--output", required=True, help="OUT.jsonl or OUT.parquet")
    conv.set_defaults(handler=_convert)

    syn = subparsers.add_parser(
        "sync",
        help="parse logs into the local Parquet cache (only new objects are fetched)",
    )
    _add_common(syn)
    syn.add_argument("--cache", help="cache folder (default: $S3FORENSICS_CACHE or ~/.s3forensics/cache)")
    syn.set_defaults(handler=_sync)
