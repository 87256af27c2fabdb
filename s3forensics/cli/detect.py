"""``s3forensics detect``: run the detection catalogue and print findings.

Output contract (scripts rely on it): ``--format json`` prints a JSON array of findings,
each with ``detection_id, title, severity, first_seen, last_seen, bucket, source_ip,
principal, event_count, bytes, summary, evidence`` (times ISO-8601 UTC with ``Z``;
evidence is an object with ``sample_keys`` and ``request_ids``). ``--format csv`` has
the same columns, times in the same ISO-8601 form and evidence as JSON text.

Exit codes: 0 every detection ran (findings or not; detections skipped for lack of a
source are listed on stderr); 1 a user error (bad --param, --only, path, window...),
nothing run; 3 one or more detections failed at run time (the others' findings are
still written; the failures are on stderr). ``--evaluate`` exits 1 when a scenario is
missed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.errors import ConfigError, ParameterError
from s3forensics.findings import to_csv, to_records, to_table
from s3forensics.vocabulary import EARLIEST, LATEST

FORMATS = ("json", "table", "csv")
#: Exit code when at least one detection failed at run time (argparse uses 2).
EXIT_DETECTION_FAILED = 3
EXIT_CODES = """exit codes:
  0  every detection ran (findings or not); detections skipped for lack of a source
     are listed on stderr
  1  user error (bad --param, --only, path, window...): nothing was run
  3  one or more detections failed at run time: the others' findings are still
     written, the failures are listed on stderr
  with --evaluate: 1 when a scenario is missed
"""


def register(subparsers: Any) -> None:
    """Add the ``detect`` command."""
    parser = subparsers.add_parser(
        "detect",
        help="run the anomaly detections over access logs and CloudTrail",
        description="Run the detection catalogue over S3 access logs and CloudTrail (paths, or the Parquet cache).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument("--profile", action="append", default=[], metavar="BUCKET=PROFILE", help="bucket profile: public_site, private_data or cloudfront (default: inferred from the logs, shown on stderr)")
    parser.add_argument("--allow-cidr", action="append", default=[], metavar="CIDR", help="never report these source networks")
    parser.add_argument("--allow-principal", action="append", default=[], metavar="ARN", help="never report this principal (fnmatch patterns allowed)")
    parser.add_argument("--demo-config", action="store_true", help="use the demo world's bucket profiles")
    parser.add_argument("--list", action="store_true", help="list the detections and their parameters, and exit")
    parser.add_argument("--evaluate", action="store_true", help="score the catalogue on the demo world (exit 1 if a scenario is missed)")
    parser.add_argument("--demo-dir", type=Path, help="with --evaluate: an existing demo world (default: generate one)")
    parser.add_argument(
        "--shape",
        action="append",
        metavar="SHAPE",
        help="with --evaluate: score a generated world of this shape (website, downloads, data_platform, cloudfront, busy, "
        "or all) with no profile or allowlist, instead of the demo world; repeatable",
    )
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
    from s3forensics.detections.config import Allowlist, BucketConfig, DetectionConfig
    from s3forensics.lab.demo.world import demo_config

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


def _window(engine: Any, start: str | None, end: str | None) -> tuple[Any, Any]:
    if start and end:
        return start, end
    span = engine.run("coverage__window_rows", start=EARLIEST, end=LATEST)  # every row a window may hold
    firsts = pd.to_datetime(span["first_time"], utc=True).dropna()
    lasts = pd.to_datetime(span["last_time"], utc=True).dropna()
    if firsts.empty:
        raise ParameterError("detect: no log rows at all; give --s3-access/--cloudtrail paths or fill the cache (s3forensics sync)")
    return start or firsts.min().floor("h"), end or (lasts.max().floor("h") + pd.Timedelta(hours=1))


def _check_output(output: Path | None) -> None:
    """Refuse an ``-o`` file whose folder does not exist, before any work is done."""
    if output is not None and not output.parent.is_dir():
        raise ConfigError(f"-o {output}: folder {output.parent} does not exist")


def _emit(text: str, output: Path | None) -> None:
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"-o {output}: cannot write the output file: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(text)


def check_params(params: dict[str, dict[str, str]], config: Any, only: list[str] | None = None) -> None:
    """Validate ``--only`` and every ``--param`` before anything runs.

    Raises:
        ParameterError: an unknown detection id, an unknown parameter, or an ill-typed or
            out-of-range value (the message names the detection and the parameter).
    """
    from s3forensics.detections import resolve_params
    from s3forensics.detections.registry import get_detection

    for detection_id in only or ():
        get_detection(detection_id)
    for detection_id, overrides in params.items():
        try:
            detection = get_detection(detection_id)
        except ParameterError as exc:
            raise ParameterError(f"--param {detection_id}.{next(iter(overrides))}: {exc}") from exc
        resolve_params(detection, overrides, config)


def _score_lines(result: Any) -> list[str]:
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
    return lines


def _evaluate_shapes(args: argparse.Namespace, params: dict[str, dict[str, Any]]) -> int:
    from s3forensics.lab.demo.shapes import SHAPES
    from s3forensics.lab.evaluate import evaluate_shape

    wanted = list(SHAPES) if "all" in args.shape else list(dict.fromkeys(args.shape))
    unknown = [s for s in wanted if s not in SHAPES]
    if unknown:
        raise ParameterError(f"--shape {unknown[0]}: unknown shape; choose from {', '.join(SHAPES)} or all")
    results = {shape: evaluate_shape(shape, params=params or None) for shape in wanted}
    if args.format == "json":
        shapes = {k: {"title": SHAPES[k].title, **r.to_dict()} for k, r in results.items()}
        _emit(json.dumps({"shapes": shapes}, indent=2) + "\n", args.output)
    else:
        lines = [f"{'shape':<14} {'incidents found':>15} {'false alarms':>12} {'per day':>8}"]
        for shape, r in results.items():
            found = sum(s.found and not s.missing for s in r.scenarios)
            lines.append(f"{shape:<14} {f'{found}/{len(r.scenarios)}':>15} {len(r.false_positives):>12} {r.false_positives_per_day:>8.2f}")
        for shape, r in results.items():
            lines += ["", f"== {shape}: {SHAPES[shape].title}", *_score_lines(r)]
        _emit("\n".join(lines) + "\n", args.output)
    return 0 if all(r.all_found for r in results.values()) else 1


def _evaluate(args: argparse.Namespace) -> int:
    from s3forensics.lab.evaluate import evaluate

    params = _params(args.param)
    check_params(params, _config(args))
    if args.shape:
        return _evaluate_shapes(args, params)
    result = evaluate(args.demo_dir, params=params or None)
    if args.format == "json":
        _emit(json.dumps(result.to_dict(), indent=2) + "\n", args.output)
    else:
        _emit("\n".join(_score_lines(result)) + "\n", args.output)
    return 0 if result.all_found else 1


def run(args: argparse.Namespace) -> int:
    """Handler of ``s3forensics detect``."""
    from s3forensics.detections import DETECTIONS, run_detections
    from s3forensics.detections.registry import get_detection

    _check_output(args.output)
    if args.list:
        lines = []
        for d in DETECTIONS:
            lines.append(f"{d.id} [{d.severity}] {d.title} ({d.technique}; {', '.join(d.sources)})")
            fire = sum(c.fires for c in d.cases)
            lines.append(f"    sql: queries/{d.query_id}.sql; cases: {fire} that fire, {len(d.cases) - fire} near misses")
            for p in d.parameters():
                lines.append(f"    {p.name}: {p.type} = {p.default!r} -- {p.description}")
        _emit("\n".join(lines) + "\n", args.output)
        return 0
    if args.evaluate:
        return _evaluate(args)

    from s3forensics.engines.duckdb_engine import DuckDBEngine
    from s3forensics.schema import empty_table

    # Every user error surfaces here, before a log is loaded or a detection runs.
    params = _params(args.param)
    config = _config(args)
    check_params(params, config, args.only)

    sources: set[str] | None = None
    if args.s3_access or args.cloudtrail:
        from s3forensics.sources import load_cloudtrail, load_s3_access

        frames: dict[str, Any] = {"s3_access": empty_table("s3_access"), "cloudtrail": empty_table("cloudtrail")}
        sources = set()
        read: list[Any] = []
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
            read.append(result.report)
        if read and not any(r.rows for r in read):
            lines = sum(r.lines_read for r in read)
            rejected = sum(r.rejected for r in read)
            skipped = sum(len(r.skipped_files) for r in read)
            outside = sum(r.outside_window for r in read)
            raise ParameterError(
                f"detect: the logs given hold no row to analyse ({lines} lines read, {rejected} rejected, "
                f"{skipped} files skipped, {outside} rows outside the window); "
                "`s3forensics convert` on the same paths names each reason"
            )
        engine = DuckDBEngine(frames=frames)
    else:
        engine = DuckDBEngine(cache_dir=args.cache_dir)
    try:
        start, end = _window(engine, args.start, args.end)
        result = run_detections(
            engine, start, end, ids=args.only, params=params, config=config, sources=sources
        )
    finally:
        engine.close()
    for found in result.profiles.values():
        # Which profile judged each bucket, and why (--profile BUCKET=PROFILE overrides).
        print(f"s3forensics detect: profile of {found.bucket}: {found.profile} ({found.source}: {found.reason})", file=sys.stderr)
    for warning in result.warnings:
        print(f"s3forensics detect: warning: {warning}", file=sys.stderr)
    chosen = args.only if args.only is not None else [d.id for d in DETECTIONS]
    skipped = {d for d in chosen if sources is not None and not set(get_detection(d).sources) & sources}
    failed = [d for d in result.errors if d not in skipped]
    for detection_id, message in result.errors.items():
        label = "skipped" if detection_id in skipped else "FAILED"
        print(f"s3forensics detect: {label} {detection_id}: {message}", file=sys.stderr)
    findings = result.findings
    if args.format == "json":
        text = json.dumps(to_records(findings), indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv(findings)
    else:
        text = to_table(findings)
    _emit(text, args.output)
    if failed:
        print(
            f"s3forensics detect: {len(failed)} detection(s) failed at run time: {', '.join(failed)} "
            f"(exit {EXIT_DETECTION_FAILED}; the other detections' findings were written)",
            file=sys.stderr,
        )
        return EXIT_DETECTION_FAILED
    return 0
