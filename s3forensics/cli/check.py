"""``s3forensics check``: run the setup checks, show coverage, plan or apply a fix.

Nothing changes AWS without --apply: ``--fix CHECK_ID`` and ``--restore BACKUP`` alone
print the exact API calls they would make; add ``--apply`` to make them.

Exit codes: 0 the checks ran (whatever they found); 1 a user error (unknown check id,
bad bucket name, missing option for a fix, unreadable backup, output file not writable,
a restore refused because the resource changed since the fix), or nothing could be read
(every check UNKNOWN: no credentials, endpoint unreachable; the report is still written,
and a fix is not planned); 2 a usage error
(argparse); 3 with ``--fail-on FAIL`` when a check failed, or with ``--fail-on UNKNOWN``
when a check failed or could not be decided.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

EXIT_FINDINGS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` command."""
    p = subparsers.add_parser(
        "check",
        help="can this account detect and investigate an S3 incident? (setup checks)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--bucket", action="append", metavar="NAME", help="bucket to check (repeatable; default: every bucket)")
    p.add_argument("--check", action="append", metavar="CHECK_ID", dest="check_ids", help="run only this check (repeatable)")
    p.add_argument("--region", help="region for CloudTrail, CloudWatch, Athena, GuardDuty (default: the AWS chain's)")
    p.add_argument("--format", choices=("json", "table", "html"), default="table", help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--fail-on", choices=("FAIL", "UNKNOWN"), help=f"exit {EXIT_FINDINGS} when a result is FAIL (or FAIL/UNKNOWN)")
    p.add_argument("--coverage", action="store_true", help="print the evidence coverage matrix instead of the results")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("--iam-policy", action="store_true", help="print the least-privilege IAM policy the checks need and exit")
    fix = p.add_argument_group("remediation")
    fix.add_argument("--fix", metavar="CHECK_ID", help="print the API calls that would fix this check's failures")
    fix.add_argument("--apply", action="store_true", help="with --fix: save the previous configuration, then apply; with --restore: restore")
    fix.add_argument(
        "--restore",
        metavar="BACKUP",
        help="print the API calls that would put back the configuration saved in BACKUP (a file written by --fix --apply); add --apply to make them",
    )
    fix.add_argument("--force", action="store_true", help="with --restore --apply: restore even if the resource changed since the fix (that change is lost)")
    fix.add_argument("--log-bucket", help="for s3_access_logging_enabled: the bucket receiving access logs")
    fix.add_argument("--topic-arn", help="for cloudwatch_alarm_s3_get_requests: the SNS topic to notify")
    fix.add_argument("--trail", help="for CloudTrail fixes: the trail to change")
    fix.add_argument("--threshold", type=int, default=10_000, help="GetRequests per 5 minutes that fire the alarm (default 10000)")
    fix.add_argument(
        "--public-site", action="append", default=[], metavar="BUCKET",
        help="a bucket public by design (repeatable): Block Public Access fixes leave it out, like a bucket with a website configuration",
    )
    fix.add_argument("--block-public-sites", action="store_true", help="plan Block Public Access on public sites too (takes them offline)")
    p.set_defaults(handler=_handle)


def _write(text: str, output: str | None) -> None:
    from s3forensics.errors import ConfigError

    if output:
        try:
            Path(output).write_text(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise ConfigError(f"-o/--output {output}: cannot write: {exc.strerror or exc}") from exc
        print(f"wrote {output}", file=sys.stderr)
    else:
        print(text)


def _handle(args: argparse.Namespace) -> int:
    from s3forensics.errors import ConfigError

    if args.fix and args.restore:
        raise ConfigError("--fix and --restore cannot be combined: run one, then the other")
    if args.apply and not (args.fix or args.restore):
        raise ConfigError("--apply needs --fix CHECK_ID or --restore BACKUP")
    if args.force and not (args.restore and args.apply):
        raise ConfigError("--force only applies to --restore BACKUP --apply")
    if args.list:
        return _list(args)
    if args.iam_policy:
        from s3forensics.checks.iam_policy import policy_document

        _write(json.dumps(policy_document(include_fixes=bool(args.fix)), indent=2), args.output)
        return 0
    if args.restore:
        return _restore(args)
    if args.fix:
        return _fix(args)
    from s3forensics.checks import run_checks
    from s3forensics.checks.base import Status
    from s3forensics.checks.render import render

    results = run_checks(buckets=args.bucket, ids=args.check_ids, region=args.region)
    if args.coverage:
        _write(_coverage_text(results, args.format), args.output)
    else:
        _write(render(results, args.format), args.output)
    if results and all(r.status is Status.UNKNOWN for r in results):
        # The report is written (it says why each is unknown), but nothing read is not success.
        first = results[0]
        print(f"s3forensics check: error: nothing could be read, every check is UNKNOWN ({first.resource}: {first.message})", file=sys.stderr)
        return 1
    bad = {"FAIL": {Status.FAIL}, "UNKNOWN": {Status.FAIL, Status.UNKNOWN}}.get(args.fail_on or "", set())
    return EXIT_FINDINGS if any(r.status in bad for r in results) else 0


def _coverage_text(results: list, fmt: str) -> str:
    from s3forensics.checks.coverage import coverage, coverage_frame

    if fmt == "json":
        return json.dumps(coverage(results), indent=2)
    frame = coverage_frame(results)
    return frame.to_html() if fmt == "html" else frame.to_string()


def _list(args: argparse.Namespace) -> int:
    from s3forensics.checks import CHECKS

    if args.format == "json":
        _write(json.dumps([{"check_id": c.id, "title": c.title, "severity": c.severity, "scope": c.scope, "permissions": list(c.permissions)} for c in CHECKS], indent=2), args.output)
    else:
        _write("\n".join(f"{c.id:<48} {c.severity:<8} {c.scope:<8} {c.title}" for c in CHECKS), args.output)
    return 0


def _options(args: argparse.Namespace):
    from s3forensics.checks.fix_plans import FixOptions

    return FixOptions(
        log_bucket=args.log_bucket,
        topic_arn=args.topic_arn,
        trail=args.trail,
        get_requests_threshold=args.threshold,
        public_sites=tuple(args.public_site),
        block_public_sites=args.block_public_sites,
    )


def _fix(args: argparse.Namespace) -> int:
    from s3forensics.checks.base import Context
    from s3forensics.checks.fix_plans import plan_fix
    from s3forensics.checks.remediation import apply_plan

    ctx = Context(region=args.region)
    plan = plan_fix(args.fix, buckets=args.bucket, options=_options(args), context=ctx)
    if args.format == "json":
        _write(json.dumps(plan.as_dict(), indent=2), None if args.apply else args.output)
    else:
        print("\n".join(plan.describe()))
    if not args.apply:
        if plan.steps:
            print("dry run: nothing changed; add --apply to make these calls", file=sys.stderr)
        return 0
    path = apply_plan(plan, context=ctx)
    if path is not None:
        print(f"applied {len(plan.steps)} call(s); previous configuration saved in {path}", file=sys.stderr)
        print(f"undo with: s3forensics check --restore {path} --apply (without --apply: show the calls)", file=sys.stderr)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from s3forensics.checks.base import Context
    from s3forensics.checks.remediation import changes_since_fix, restore, restore_plan

    ctx = Context(region=args.region)
    if not args.apply:
        calls = restore_plan(args.restore, context=ctx)
        if args.format == "json":
            _write(json.dumps([asdict(c) for c in calls], indent=2, default=str), args.output)
        else:
            _write("\n".join([f"restore from {args.restore}: {len(calls)} API call(s):"] + [f"  {i}. {c.describe()}" for i, c in enumerate(calls, 1)]), args.output)
        for change in changes_since_fix(args.restore, context=ctx):
            print(f"changed since the fix (--apply will refuse unless --force): {change}", file=sys.stderr)
        print("dry run: nothing changed; add --apply to make these calls", file=sys.stderr)
        return 0
    calls = restore(args.restore, context=ctx, force=args.force)
    for call in calls:
        print(call.describe())
    print(f"restored {len(calls)} call(s) from {args.restore}", file=sys.stderr)
    return 0
