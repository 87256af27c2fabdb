"""``s3forensics detect``: run the detection catalogue and print findings.

Output contract (scripts rely on it): ``--format json`` prints a JSON array of findings,
each with ``detection_id, title, severity, first_seen, last_seen, bucket, source_ip,
principal, event_count, bytes, summary, evidence`` (times ISO-8601 UTC with ``Z``;
evidence is an object with ``sample_keys`` and ``request_ids``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.errors import ParameterError

FORMATS = ("json", "table", "csv")


def register(subparsers: Any) -> None:
    """Add the ``detect`` command."""
    parser = subparsers.add_parser(
        "detect",
        help="run the anomaly detections over access logs and CloudTrail",
        description="Run the detection catalogue over S3 access logs and CloudTrail (paths, or the Parquet cache).",
    )
    parser.add_argument("--s3-access", nargs="+", action="extend", default=[], metavar="PATH", help="S3 server access log files or folders")
    parser.add_argument("--cloudtrail", nargs="+", action="extend", default=[], metavar="PATH", help="CloudTrail log files or folders")
    parser.add_argument("--cache-dir", type=Path, default=None, help="Parquet cache to read when no paths are given")
    parser.add_argument("--start", help="window start, ISO-8601 (default: first log record)")
    parser.add_argument("--end", help="window end, exclusive, ISO-8601 (default: after the last record)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    parser.add_argument("--only", nargs="+", action="extend", metavar="ID", help="run only these detections")
    parser.add_argument("--param", action="append", default=[], metavar="ID.NAME=VALUE", help="override a detection parameter")
    parser.add_argument("--profile", action="append", default=[], metavar="BUCKET=PROFILE", help="bucket profile: public_site or private_data")
    parser.add_argument("--allow-cidr", action="append", default=[], metavar="CIDR", help="never report these source networks")
    parser.add_argument("--allow-principal", action="append", default=[], metavar="ARN", help="never report this principal (fnmatch patterns allowed)")
    parser.add_argument("--demo-config", action="store_true", help="use the demo world's bucket profiles")
    parser.add_argument("--list", action="store_true", help="list the detections and their parameters, and exit")
    parser.add_argument("--evaluate", action="store_true", help="score the catalogue on the demo world (exit 1 if a scenario is missed)")
    parser.add_argument("--demo-dir", type=Path, help="with --evaluate: an existing demo world (default: generate one)")
    parser.set_defaults(handler=run)


def _params(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        detection, dot, param = name.partition(".")
        if not sep or not dot or not detection or not param:
            raise ParameterError(f"--param {item!r}: expected DETECTION.PARAMETER=VALUE")
        out.setdefault(detection, {})[param] = value
    return out


def _config(args: argparse.Namespace) -> Any:
    from s3forensics.detections.config import Allowlist, BucketConfig, DetectionConfig, demo_config

    base = demo_config() if args.demo_config else DetectionConfig()
    buckets = dict(base.buckets)
    for item in args.profile:
        bucket, sep, profile = item.partition("=")
        if not sep:
            raise ParameterError(f"--profile {item!r}: expected BUCKET=PROFILE")
        buckets[bucket] = BucketConfig(profile=profile)
    allow = Allowlist(
        principals=(*base.allow.principals, *args.allow_principal),
        cidrs=(*base.allow.cidrs, *args.allow_cidr),
        user_agents=base.allow.user_agents,
    )
    return DetectionConfig(buckets=buckets, default_profile=base.default_profile, allow=allow, own_accounts=base.own_accounts)


def findings_records(findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Findings as JSON-ready dicts (the ``detect --format json`` contract)."""
    records = []
    for row in findings.to_dict("records"):
        record: dict[str, Any] = {}
        for name, value in row.items():
            if name in ("first_seen", "last_seen"):
                record[name] = None if pd.isna(value) else pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
            elif name == "evidence":
                record[name] = json.loads(value) if value else {}
            elif name in ("event_count", "bytes"):
                record[name] = None if pd.isna(value) else int(value)
            else:
                record[name] = None if value is None or (not isinstance(value, str) and pd.isna(value)) else value
        records.append(record)
    return records


def _window(engine: Any, start: str | None, end: str | None) -> tuple[Any, Any]:
    if start and end:
        return start, end
    span = engine.run("detect__window_rows", start="1970-01-01T00:00:00Z", end="2200-01-01T00:00:00Z")
    firsts = pd.to_datetime(span["first_time"], utc=True).dropna()
    lasts = pd.to_datetime(span["last_time"], utc=True).dropna()
    if firsts.empty:
        raise ParameterError("detect: no log rows at all; give --s3-access/--cloudtrail paths or fill the cache (s3forensics sync)")
    return start or firsts.min().floor("h"), end or (lasts.max().floor("h") + pd.Timedelta(hours=1))


def _emit(text: str, output: Path | None) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _evaluate(args: argparse.Namespace) -> int:
    from s3forensics.detections.evaluate import evaluate

    result = evaluate(args.demo_dir, params=_params(args.param) or None)
    if args.format == "json":
        _emit(json.dumps(result.to_dict(), indent=2) + "\n", args.output)
    else:
        lines = []
        for s in result.scenarios:
            status = "FOUND " if s.found else "MISSED"
            extra = f" (expected but silent: {', '.join(s.missing)})" if s.missing else ""
            lines.append(f"{status} {s.id:<22} by {', '.join(s.found_by) or '-'}{extra}")
        lines.append(f"false positives: {len(result.false_positives)} finding(s) over {result.days:g} day(s) = {result.false_positives_per_day:.2f}/day")
        for row in result.false_positives.to_dict("records"):
            lines.append(f"  FP {row['detection_id']}: {row['summary']}")
        for detection_id, message in result.run.errors.items():
            lines.append(f"  error {detection_id}: {message}")
        _emit("\n".join(lines) + "\n", args.output)
    return 0 if result.all_found else 1


def run(args: argparse.Namespace) -> int:
    """Handler of ``s3forensics detect``."""
    from s3forensics.detections import DETECTIONS, run_detections

    if args.list:
        lines = []
        for d in DETECTIONS:
            lines.append(f"{d.id} [{d.severity}] {d.title} ({d.technique}; {', '.join(d.sources)})")
            for p in d.parameters():
                lines.append(f"    {p.name}: {p.type} = {p.default!r} -- {p.description}")
        _emit("\n".join(lines) + "\n", args.output)
        return 0
    if args.evaluate:
        return _evaluate(args)

    from s3forensics.engines.duckdb_engine import DuckDBEngine
    from s3forensics.schema import empty_table

    sources: set[str] | None = None
    if args.s3_access or args.cloudtrail:
        from s3forensics.sources import load_cloudtrail, load_s3_access

        frames: dict[str, Any] = {"s3_access": empty_table("s3_access"), "cloudtrail": empty_table("cloudtrail")}
        sources = set()
        for kind, paths, loader in (("s3_access", args.s3_access, load_s3_access), ("cloudtrail", args.cloudtrail, load_cloudtrail)):
            if not paths:
                print(f"s3forensics detect: no {kind.replace('_', ' ')} logs given; detections needing only them are skipped", file=sys.stderr)
                continue
            result = loader(paths, args.start, args.end)
            rejected = getattr(result.report, "rejected", 0)
            if rejected:
                print(f"s3forensics detect: {rejected} {kind} line(s) rejected (see s3forensics convert for details)", file=sys.stderr)
            frames[kind] = result.frame
            sources.add(kind)
        engine = DuckDBEngine(frames=frames)
    else:
        engine = DuckDBEngine(cache_dir=args.cache_dir)
    try:
        start, end = _window(engine, args.start, args.end)
        result = run_detections(
            engine, start, end, ids=args.only, params=_params(args.param), config=_config(args), sources=sources
        )
    finally:
        engine.close()
    for warning in result.warnings:
        print(f"s3forensics detect: warning: {warning}", file=sys.stderr)
    for detection_id, message in result.errors.items():
        print(f"s3forensics detect: {detection_id}: {message}", file=sys.stderr)
    findings = result.findings
    if args.format == "json":
        text = json.dumps(findings_records(findings), indent=2) + "\n"
    elif args.format == "csv":
        text = findings.to_csv(index=False)
    else:
        if findings.empty:
            text = "no findings\n"
        else:
            shown = findings[["severity", "detection_id", "first_seen", "bucket", "source_ip", "summary"]].copy()
            shown["first_seen"] = shown["first_seen"].dt.strftime("%Y-%m-%d %H:%M")
            text = shown.to_string(index=False, max_colwidth=110) + "\n"
    _emit(text, args.output)
    return 0
