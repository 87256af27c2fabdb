"""``s3forensics respond ...`` and ``s3forensics automate ...``.

Contract (scripts rely on it): without ``--apply`` a command prints its plan as a
unified diff and changes nothing (the dry run is still audited); with ``--apply`` the
last line printed is ``action_id: <id>``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3forensics.errors import ParameterError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``respond`` and ``automate`` command groups."""
    _register_respond(subparsers)
    _register_automate(subparsers)


# --- respond ------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, safeguards: bool = False) -> None:
    parser.add_argument("--apply", action="store_true", help="make the change (default: print the plan only)")
    parser.add_argument("--audit-log", metavar="FILE", help="audit log (default: $S3FORENSICS_AUDIT_LOG or <home>/audit.jsonl)")
    if safeguards:
        parser.add_argument(
            "--my-ip",
            action="append",
            default=[],
            metavar="IP",
            help="your own public address (repeatable; also $S3FORENSICS_MY_IP): a range holding it is refused",
        )
        parser.add_argument("--force", action="store_true", help="override the refusals (private, broad, own or too many addresses)")


def _register_respond(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("respond", help="response actions: block, contain, notify, roll back (dry run unless --apply)")
    actions = parser.add_subparsers(dest="respond_action", metavar="ACTION", required=True)

    p = actions.add_parser("block-ip", help="deny IPs/CIDRs on a bucket (bucket policy, aws:SourceIp)")
    p.add_argument("--bucket", required=True)
    p.add_argument("addresses", nargs="+", metavar="IP_OR_CIDR")
    p.add_argument("--expires", metavar="DURATION", help="lift the block after e.g. 30m, 24h, 7d (see `respond expire`)")
    p.add_argument("--extend", action="store_true", help="move addresses already blocked until earlier to this expiry")
    _common(p, safeguards=True)
    p.set_defaults(handler=_change(_plan_block_ip, own_address=True))

    p = actions.add_parser("unblock-ip", help="remove IPs/CIDRs from the kit's Deny statements on a bucket")
    p.add_argument("--bucket", required=True)
    p.add_argument("addresses", nargs="+", metavar="IP_OR_CIDR")
    _common(p)
    p.set_defaults(handler=_change(_plan_unblock_ip))

    p = actions.add_parser("expire", help="remove blocks whose --expires time has passed")
    p.add_argument("--bucket", required=True)
    _common(p)
    p.set_defaults(handler=_change(_plan_expire))

    p = actions.add_parser("waf-block-ip", help="add IPs/CIDRs to a WAFv2 IP set (edge block for CloudFront sites)")
    _ip_set_target(p)
    _common(p, safeguards=True)
    p.set_defaults(handler=_change(_plan_waf_block, own_address=True))

    p = actions.add_parser("waf-unblock-ip", help="remove IPs/CIDRs from a WAFv2 IP set")
    _ip_set_target(p)
    _common(p)
    p.set_defaults(handler=_change(_plan_waf_unblock))

    p = actions.add_parser("block-public-access", help="turn on all four Block Public Access settings of a bucket")
    p.add_argument("--bucket", required=True)
    _common(p)
    p.set_defaults(handler=_change(_plan_block_public_access))

    p = actions.add_parser("revoke-sessions", help="deny a role's sessions issued before now (aws:TokenIssueTime)")
    p.add_argument("--role", required=True, help="role name")
    _common(p)
    p.set_defaults(handler=_change(_plan_revoke_sessions))

    p = actions.add_parser("deactivate-key", help="set an IAM user's access key to Inactive")
    p.add_argument("--user", required=True)
    p.add_argument("--access-key-id", required=True)
    _common(p)
    p.set_defaults(handler=_change(_plan_deactivate_key))

    p = actions.add_parser("notify", help="publish a structured message to an SNS topic")
    p.add_argument("--topic-arn", required=True)
    p.add_argument("--summary", required=True, help="one sentence: what happened where")
    p.add_argument("--detection", action="append", default=[], metavar="ID", help="detection id that fired (repeatable)")
    p.add_argument("--evidence", action="append", default=[], metavar="TEXT_OR_JSON", help="evidence item (repeatable)")
    p.add_argument("--action-id", action="append", default=[], metavar="ID", help="audited action to report (repeatable)")
    p.add_argument("--audit-log", metavar="FILE")
    p.add_argument("--apply", action="store_true", help="publish (default: print the message only)")
    p.set_defaults(handler=_notify)

    p = actions.add_parser("rollback", help="restore the state an applied action saved (refused if changed since)")
    p.add_argument("action_id", metavar="ACTION_ID")
    _common(p)
    p.set_defaults(handler=_rollback)

    p = actions.add_parser("list", help="the audit log: every action, dry run or applied")
    p.add_argument("--audit-log", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the raw JSON lines")
    p.add_argument("--all", action="store_true", help="include dry runs and no-ops")
    p.set_defaults(handler=_list)


def _session() -> Any:
    from s3forensics.actions.resources import default_session

    return default_session()


def _print_result(result: Any, apply: bool) -> int:
    from s3forensics.actions.resources import show_state

    rec = result.record
    details = {k: v for k, v in rec.details.items() if k not in ("backup",)}
    if result.diff:
        sys.stdout.write(result.diff)
    else:
        print(f"no change: {rec.action} leaves the resource as it is")
        if not apply:
            sys.stdout.write(show_state(rec.kind, rec.before))
    for key, value in details.items():
        if value not in (None, [], {}):
            print(f"{key}: {json.dumps(value) if not isinstance(value, str) else value}")
    if not apply:
        print(f"dry run (audited as {rec.id}): nothing changed; add --apply to make this change")
        return 0
    print(f"status: {rec.status}")
    print(f"action_id: {rec.id}")
    return 0


#: Shown (and audited) when a block runs without knowing the caller's own address.
OWN_ADDRESS_UNKNOWN = "your own address is unknown: set --my-ip or S3FORENSICS_MY_IP so the kit can refuse to lock you out"


def _warn_own_address(plan: Any, my_ips: list[str]) -> Any:
    """``plan`` with a ``warning`` detail when neither --my-ip nor $S3FORENSICS_MY_IP is set.

    The warning is printed with the plan's details (before ``action_id:``) and kept in
    the audit record: the record then says the lock-out check was off.
    """
    import dataclasses

    from s3forensics.actions.block import env_my_ips

    if my_ips or env_my_ips():
        return plan
    return dataclasses.replace(plan, details={**plan.details, "warning": OWN_ADDRESS_UNKNOWN})


def _ip_set_target(p: argparse.ArgumentParser) -> None:
    """The WAFv2 IP set and the addresses of ``waf-block-ip`` and ``waf-unblock-ip``."""
    p.add_argument("--ip-set-name", required=True)
    p.add_argument("--ip-set-id", required=True)
    p.add_argument("--scope", default="CLOUDFRONT", choices=("CLOUDFRONT", "REGIONAL"))
    p.add_argument("addresses", nargs="+", metavar="IP_OR_CIDR")


def _change(plan_of: Callable[[argparse.Namespace, Any], Any], *, own_address: bool = False) -> Callable[[argparse.Namespace], int]:
    """The handler of one response action: plan it, execute it (a dry run unless --apply), print the result.

    ``own_address``: the action blocks addresses, so a missing --my-ip is warned about and
    audited (:func:`_warn_own_address`).
    """

    def handler(args: argparse.Namespace) -> int:
        from s3forensics.actions.resources import execute

        sess = _session()

        def make() -> Any:
            plan = plan_of(args, sess)
            return _warn_own_address(plan, args.my_ip) if own_address else plan

        plan = make()
        for problem in plan.details.get("forced_past", []):
            print(f"warning (forced): {problem}", file=sys.stderr)
        # Another run may change the resource before this one holds its lock: plan again then.
        return _print_result(execute(plan, apply=args.apply, audit_log=args.audit_log, session=sess, replan=make), args.apply)

    return handler


def _plan_block_ip(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.block import plan_block_ip

    return plan_block_ip(args.bucket, args.addresses, expires=args.expires, my_ips=args.my_ip, force=args.force,
                         extend=args.extend, session=sess)


def _plan_unblock_ip(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.block import plan_unblock_ip

    return plan_unblock_ip(args.bucket, args.addresses, session=sess)


def _plan_expire(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.block import plan_expire

    return plan_expire(args.bucket, session=sess)


def _plan_waf_block(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.waf import plan_waf_block

    return plan_waf_block(args.ip_set_name, args.ip_set_id, args.addresses, scope=args.scope, my_ips=args.my_ip,
                          force=args.force, session=sess)


def _plan_waf_unblock(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.waf import plan_waf_unblock

    return plan_waf_unblock(args.ip_set_name, args.ip_set_id, args.addresses, scope=args.scope, session=sess)


def _plan_block_public_access(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.containment import plan_block_public_access

    return plan_block_public_access(args.bucket, session=sess)


def _plan_revoke_sessions(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.containment import plan_revoke_sessions

    return plan_revoke_sessions(args.role, session=sess)


def _plan_deactivate_key(args: argparse.Namespace, sess: Any) -> Any:
    from s3forensics.actions.containment import plan_deactivate_key

    return plan_deactivate_key(args.user, args.access_key_id, session=sess)


def _rollback(args: argparse.Namespace) -> int:
    from s3forensics.actions.rollback import rollback

    return _print_result(rollback(args.action_id, apply=args.apply, audit_log=args.audit_log), args.apply)


def _notify(args: argparse.Namespace) -> int:
    from s3forensics.actions import audit
    from s3forensics.actions.notify import Notification, action_summary, notify, rollback_command
    from s3forensics.actions.resources import kind

    records = [audit.get(i, args.audit_log) for i in args.action_id]
    evidence = []
    for item in args.evidence:
        try:
            evidence.append({"evidence": json.loads(item)})
        except ValueError:
            evidence.append({"evidence": item})
    message = Notification(
        summary=args.summary,
        detected=[{"detection_id": d} for d in args.detection],
        evidence=evidence,
        actions=[action_summary(r) for r in records],
        rollback=[rollback_command(r.id) for r in records if r.status == audit.APPLIED and kind(r.kind).reversible],
        source="s3forensics respond notify",
    )
    print(f"subject: {message.subject()}")
    print(message.body())
    rec, message_id = notify(args.topic_arn, message, apply=args.apply, session=_session(), audit_log=args.audit_log)
    if not args.apply:
        print(f"dry run (audited as {rec.id}): nothing published; add --apply to publish")
        return 0
    print(f"message_id: {message_id}")
    print(f"status: {rec.status}")
    print(f"action_id: {rec.id}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from s3forensics.actions import audit
    from s3forensics.actions.resources import kind

    # One row per action, its outcome; ``started`` alone: the run stopped mid-change.
    rows = [r for r in audit.latest(args.audit_log) if args.all or r.status in (audit.APPLIED, audit.FAILED, audit.STARTED)]
    if args.json:
        for rec in rows:
            print(rec.to_json())
        return 0
    if not rows:
        print(f"no actions recorded in {audit.audit_path(args.audit_log)}" + ("" if args.all else " (--all shows dry runs)"))
        return 0
    rolled = {r.rollback_of: r.id for r in audit.iter_records(args.audit_log) if r.rollback_of and r.status == audit.APPLIED}
    for rec in rows:
        note = f" (rolled back by {rolled[rec.id]})" if rec.id in rolled else ""
        print(f"{rec.id}  {rec.time}  {rec.status:8}  {rec.action:22} {kind(rec.kind).name(rec.target)}{note}")
    return 0


# --- automate -----------------------------------------------------------------------


def _register_automate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("automate", help="the Lambda that blocks and notifies on alarms: package, plan, deploy")
    actions = parser.add_subparsers(dest="automate_action", metavar="ACTION", required=True)

    p = actions.add_parser("package", help="build the Lambda deployment zip")
    p.add_argument("--out", default="s3forensics-lambda.zip", help="zip to write")
    p.add_argument("--wheels", metavar="DIR", help="folder of Lambda-platform wheels to vendor (e.g. duckdb); see the printed note")
    p.set_defaults(handler=_package)

    for name, helptext in (("plan", "print what deploy would create"), ("deploy", "create the topic, role, function, rule and alarm (--apply)")):
        p = actions.add_parser(name, help=helptext)
        p.add_argument("--bucket", required=True, help="the bucket to protect (its policy gets the blocks)")
        p.add_argument("--log-uri", required=True, help="s3://log-bucket/prefix/ where its server access logs arrive")
        p.add_argument("--name", default="s3forensics-responder", help="name prefix of the created resources")
        p.add_argument("--topic-name", help="SNS topic (default: <name>-alerts)")
        p.add_argument("--zip", dest="zip_path", help="deployment zip (default: build one)")
        p.add_argument("--threshold", type=int, default=5000, help="GetRequests per period that raises the alarm")
        p.add_argument("--period", type=int, default=300, help="alarm period in seconds")
        p.add_argument("--schedule", default="rate(15 minutes)", help="EventBridge schedule for the sweep (expiry, periodic detection)")
        p.add_argument("--block-expires", default="24h", help="how long automatic blocks last")
        p.add_argument("--allow-cidr", action="append", default=[], metavar="CIDR", help="never blocked (repeatable)")
        p.add_argument("--lookback-minutes", type=int, default=60)
        p.add_argument("--dry-run-blocks", action="store_true", help="the function notifies but does not block")
        if name == "deploy":
            p.add_argument("--apply", action="store_true", help="create the resources (default: print the plan)")
        p.set_defaults(handler=_automate_plan if name == "plan" else _automate_deploy)


def _automation_config(args: argparse.Namespace) -> Any:
    from s3forensics.actions.automation import AutomationConfig

    return AutomationConfig(
        name=args.name,
        bucket=args.bucket,
        log_uri=args.log_uri,
        topic_name=args.topic_name,
        alarm_threshold=args.threshold,
        alarm_period=args.period,
        schedule=args.schedule,
        block_expires=args.block_expires,
        allow_cidrs=tuple(args.allow_cidr),
        lookback_minutes=args.lookback_minutes,
        dry_run_blocks=args.dry_run_blocks,
    )


def _package(args: argparse.Namespace) -> int:
    from s3forensics.actions.automation import package

    result = package(Path(args.out), wheels_dir=Path(args.wheels) if args.wheels else None)
    print(f"wrote {result.path} ({result.size} bytes, {result.files} files)")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _automate_plan(args: argparse.Namespace) -> int:
    from s3forensics.actions.automation import plan

    for step in plan(_automation_config(args)):
        print(step.render())
    return 0


def _automate_deploy(args: argparse.Namespace) -> int:
    from s3forensics.actions.automation import deploy, package, plan

    config = _automation_config(args)
    if not args.apply:
        for step in plan(config):
            print(step.render())
        print("dry run: nothing created; add --apply to deploy")
        return 0
    zip_path = Path(args.zip_path) if args.zip_path else None
    if zip_path is None:
        import tempfile

        zip_path = package(Path(tempfile.mkdtemp(prefix="s3forensics-lambda-")) / "function.zip").path
    elif not zip_path.is_file():
        raise ParameterError(f"--zip {zip_path} does not exist")
    created = deploy(config, zip_path)
    for key, value in created.items():
        print(f"{key}: {value}")
    return 0
