"""Check fixes applied through the one change engine, and undone through it.

A fix plan (:mod:`s3forensics.checks.fix_plans`) names the API calls that fix a failing
check. Applying it turns each call into a :class:`~s3forensics.actions.resources.Plan` of
the setting it changes (a resource kind of :mod:`s3forensics.actions.settings`): every
previous state is read first (a read that fails stops the fix before the first write),
the fix's backup file is written, and each plan goes through
:func:`~s3forensics.actions.resources.execute` like every response action: the kit's lock
on the resource, the audit log's ``started`` and ``applied`` records, the previous state
saved, the state read back and checked.

The backup (``<home>/backups/<time>-<check>-<n>.json``) lists each change: its resource
kind and target, the state before, the state read back after, and its audit action id.
``restore`` puts every ``before`` back (newest first) through the same engine, after
checking that nothing changed since the fix. Backups written by earlier versions (raw read
answers per step) are read too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from s3forensics.actions import audit, settings
from s3forensics.actions.kinds import ApiCall
from s3forensics.actions.resources import Plan, execute, kind
from s3forensics.checks.base import Context
from s3forensics.checks.fix_plans import FixPlan, FixStep
from s3forensics.errors import ActionError, RefusedError

log = logging.getLogger(__name__)

#: The "not configured" codes of each read (kept here for readers of earlier versions).
ABSENT_CODES = settings.ABSENT_CODES

#: Backup format written by :func:`apply_plan` (1: raw read answers, before the engine).
BACKUP_FORMAT = 2

#: Keys whose values change without anyone changing the configuration (delivery times,
#: alarm state, timestamps); ignored when comparing the state after a fix with now.
VOLATILE_KEYS = frozenset(
    {
        "ResponseMetadata",
        "LatestDeliveryTime", "LatestDeliveryAttemptTime", "LatestDeliveryAttemptSucceeded", "LatestDeliveryError",
        "LatestNotificationTime", "LatestNotificationAttemptTime", "LatestNotificationAttemptSucceeded", "LatestNotificationError",
        "LatestDigestDeliveryTime", "LatestDigestDeliveryError", "LatestCloudWatchLogsDeliveryTime", "LatestCloudWatchLogsDeliveryError",
        "TimeLoggingStarted", "TimeLoggingStopped", "StartLoggingTime", "StopLoggingTime",
        "StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp", "StateTransitionedTimestamp",
        "AlarmConfigurationUpdatedTimestamp", "UpdatedAt",
    }
)


def backups_dir() -> Path:
    """``<home>/backups``, where previous configurations are saved before a fix."""
    from s3forensics.config import home_dir

    return home_dir() / "backups"


# -- a fix step as a change of one setting -------------------------------------------------


def _region(call: ApiCall, ctx: Context | None) -> str | None:
    return call.region or (ctx.region if ctx is not None else None)


def _trail_after(p: Mapping[str, Any], before: Any) -> Any:
    after = dict(before or {})
    if "IsMultiRegionTrail" in p:
        after["IsMultiRegionTrail"] = bool(p["IsMultiRegionTrail"])
    if "EnableLogFileValidation" in p:
        after["LogFileValidationEnabled"] = bool(p["EnableLogFileValidation"])
    return after


def _detector_after(p: Mapping[str, Any], before: Any) -> Any:
    features = {f.get("Name"): f.get("Status") for f in p.get("Features") or []}
    return {**(before or {}), "Status": "ENABLED" if p.get("Enable") else "DISABLED", "S3_DATA_EVENTS": features.get("S3_DATA_EVENTS") or "DISABLED"}


#: A step's ``restore`` key -> (resource kind, target from the step, state the call leaves
#: from the state before). The key is what backups of every version name.
CHANGES: dict[str, tuple[str, Callable[[FixStep, Context | None], dict[str, Any]], Callable[[Mapping[str, Any], Any], Any]]] = {
    "bucket_logging": ("s3:bucket-logging", lambda st, c: {"bucket": st.call.params["Bucket"]}, lambda p, b: dict(p["BucketLoggingStatus"])),
    "bucket_pab": ("s3:public-access-block", lambda st, c: {"bucket": st.call.params["Bucket"]}, lambda p, b: dict(p["PublicAccessBlockConfiguration"])),
    "account_pab": ("s3control:public-access-block", lambda st, c: {"account_id": st.call.params["AccountId"]}, lambda p, b: dict(p["PublicAccessBlockConfiguration"])),
    "bucket_versioning": ("s3:bucket-versioning", lambda st, c: {"bucket": st.call.params["Bucket"]}, lambda p, b: {"Status": p["VersioningConfiguration"]["Status"]}),
    "trail": ("cloudtrail:trail", lambda st, c: {"name": st.call.params["Name"], "region": _region(st.call, c)}, _trail_after),
    "trail_logging": ("cloudtrail:trail-logging", lambda st, c: {"name": st.call.params["Name"], "region": _region(st.call, c)}, lambda p, b: {"IsLogging": True}),
    "event_selectors": (
        "cloudtrail:event-selectors",
        lambda st, c: {"name": st.call.params["TrailName"], "region": _region(st.call, c)},
        lambda p, b: {k: v for k, v in p.items() if k != "TrailName"},
    ),
    "metrics_config": (
        "s3:metrics-configuration", lambda st, c: {"bucket": st.call.params["Bucket"], "id": st.call.params["Id"]}, lambda p, b: dict(p["MetricsConfiguration"])
    ),
    "alarm": ("cloudwatch:alarm", lambda st, c: {"name": st.call.params["AlarmName"], "region": _region(st.call, c)}, lambda p, b: dict(p)),
    "topic": (
        "sns:topic",
        lambda st, c: {"name": st.call.params["Name"], "arn": (st.read.params if st.read else {})["TopicArn"]},
        lambda p, b: {"TopicArn": None},  # completed with the target's ARN below
    ),
    "guardduty_create": ("guardduty:detector", lambda st, c: {"region": _region(st.call, c)}, _detector_after),
    "guardduty_update": ("guardduty:detector", lambda st, c: {"region": _region(st.call, c)}, _detector_after),
}


def _change(step: FixStep, ctx: Context | None) -> tuple[str, dict[str, Any], Callable[[Any], Any]]:
    try:
        kind_name, target_of, after_of = CHANGES[step.restore]
    except KeyError:
        raise ActionError(f"fix step {step.call.describe()}: unknown setting {step.restore!r}") from None
    target = target_of(step, ctx)
    if kind_name == "sns:topic":
        return kind_name, target, lambda before: {"TopicArn": target["arn"]}
    return kind_name, target, lambda before: after_of(step.call.params, before)


def plans_for(plan: FixPlan, ctx: Context, *, check_id: str | None = None) -> list[tuple[FixStep, Plan]]:
    """Each step of ``plan`` as an engine plan, its previous state read now (reads only).

    Raises:
        ActionError: a previous state cannot be read (names the resource and the read;
            nothing was changed).
    """
    out = []
    for step in plan.steps:
        kind_name, target, after_of = _change(step, ctx)
        spec = kind(kind_name)
        try:
            before = spec.read(target, ctx)
        except ActionError as exc:
            read = step.read.describe() if step.read else kind_name
            raise ActionError(f"cannot save the previous configuration of {step.resource} ({read}): {exc}; nothing was changed") from exc
        details = {"check_id": check_id or plan.check_id, "resource": step.resource, "call": asdict(step.call)}
        out.append((step, Plan("fix", kind_name, target, before, after_of(before), details)))
    return out


# -- applying --------------------------------------------------------------------------------


def _caller(ctx: Context) -> str:
    try:
        arn = ctx.call("sts", "get_caller_identity")["Arn"]
    except Exception as exc:  # noqa: BLE001 (identity is best effort; the fix itself fails loudly)
        log.warning("could not read the caller identity from STS: %s", exc)
        arn = "unknown-caller"
    return audit.actor(arn=arn)


def apply_plan(plan: FixPlan, *, session: Any | None = None, context: Context | None = None) -> Path | None:
    """Read every previous state, write the backup, then apply each step through the engine.

    Returns:
        The backup file (JSON), or None when the plan has no steps.

    Raises:
        ActionError: a previous state cannot be read (nothing was changed, no backup
            written), or a step failed (the message names the call; the backup, holding
            the steps already applied, is named with the command that restores it).
    """
    if not plan.steps:
        return None
    ctx = context or Context(session)
    changes = plans_for(plan, ctx)
    folder = backups_dir()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"{stamp}-{plan.check_id}-{time.monotonic_ns() % 10**6:06d}.json"
    entries = [
        {"resource": step.resource, "kind": change.kind, "target": change.target, "call": asdict(step.call), "before": change.before, "action_id": None}
        for step, change in changes
    ]
    backup = {"format": BACKUP_FORMAT, "check_id": plan.check_id, "created": stamp, "audit_log": str(audit.audit_path()), "changes": entries}
    _write_backup(path, backup)
    log.info("saved previous configuration to %s", path)
    who = _caller(ctx)
    for (step, change), entry in zip(changes, entries):
        try:
            result = execute(change, apply=True, session=ctx, actor=who)
        except ActionError as exc:
            _write_backup(path, backup)
            raise ActionError(f"{step.call.describe()} failed: {exc}; previous configuration saved in {path} (s3forensics check --restore {path} --apply)") from exc
        entry["action_id"] = result.action_id
        entry["after"] = _comparable(result.record.after)
        _write_backup(path, backup)
    return path


def _write_backup(path: Path, backup: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(backup, indent=2, default=str))
        tmp.replace(path)
    except OSError as exc:
        raise ActionError(f"cannot write backup {path}: {exc.strerror or exc}; the fix was stopped there") from exc


def _comparable(value: Any) -> Any:
    """``value`` as its JSON form (what a backup holds) without :data:`VOLATILE_KEYS`."""
    value = json.loads(json.dumps(value, default=str))

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in VOLATILE_KEYS}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(value)


def _differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Paths where ``actual`` differs from ``expected`` (``a.b[0].c: was X, now Y``)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(set(expected) | set(actual)):
            path = f"{where}.{key}" if where else key
            if key not in actual:
                out.append(f"{path} removed (was {json.dumps(expected[key], default=str)})")
            elif key not in expected:
                out.append(f"{path} added ({json.dumps(actual[key], default=str)})")
            else:
                out.extend(_differences(expected[key], actual[key], path))
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in _differences(e, a, f"{where}[{i}]")]
    if expected != actual:
        return [f"{where or 'configuration'}: after the fix {json.dumps(expected, default=str)}, now {json.dumps(actual, default=str)}"]
    return []


def load_backup(path: str | Path) -> dict[str, Any]:
    """Read a fix's backup, of this version or an earlier one, as this version's form:
    ``{"check_id", "created", "changes": [{"resource", "kind", "target", "before", "after", ...}]}``.

    Raises:
        ActionError: the file is missing, not a backup, or names an unknown setting.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if isinstance(data.get("changes"), list):
            return data
        if not isinstance(data.get("steps"), list):
            raise ValueError("no 'changes' or 'steps' list")
        return {**data, "format": 1, "changes": [_from_step(step) for step in data["steps"]]}
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
        raise ActionError(f"backup {path} is not readable: {exc}") from exc


def _from_step(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A step of a format-1 backup (raw read answers) as a change."""
    call = ApiCall(**entry["call"])
    read = ApiCall(**entry["read"]) if entry.get("read") else None
    step = FixStep(call, read, entry.get("restore", ""), entry.get("resource", "?"))
    if step.restore not in CHANGES:
        raise ValueError(f"unknown setting {step.restore!r}")
    kind_name, target_of, _ = CHANGES[step.restore]
    target = target_of(step, None)
    state_of = settings.STATE_OF[kind_name]
    previous = None if entry.get("previous_error") else entry.get("previous")
    if step.restore == "guardduty_update" and previous is not None:
        previous = {**previous, "DetectorId": call.params["DetectorId"]}
    change = {"resource": step.resource, "kind": kind_name, "target": target, "call": entry["call"], "before": state_of(previous, target), "action_id": None}
    if "after" in entry:
        after = None if entry.get("after_error") else entry["after"]
        if step.restore == "guardduty_update" and after is not None:
            after = {**after, "DetectorId": call.params["DetectorId"]}
        change["after"] = _comparable(state_of(after, target))
    else:
        change["after_unreadable"] = entry.get("after_unreadable") or "the backup does not record the state after the fix"
    return change


# -- restoring -------------------------------------------------------------------------------


def changes_since_fix(path: str | Path, *, session: Any | None = None, context: Context | None = None) -> list[str]:
    """What changed on each fixed resource since the fix was applied (reads only).

    Returns:
        One line per difference, naming the resource; empty when nothing changed.

    Raises:
        ActionError: the backup is unreadable, or a current state cannot be read.
    """
    data = load_backup(path)
    ctx = context or Context(session)
    changes: list[str] = []
    for entry in data["changes"]:
        resource = entry.get("resource", "?")
        if "after" not in entry:
            why = entry.get("after_unreadable") or "the fix stopped before this change was made"
            changes.append(f"{resource}: cannot tell whether it changed since the fix ({why})")
            continue
        spec = kind(entry["kind"])
        now = _comparable(spec.read(entry["target"], ctx))
        if not spec.same(now, entry["after"]):
            diffs = _differences(entry["after"], now) or [f"after the fix {json.dumps(entry['after'])}, now {json.dumps(now)}"]
            changes.extend(f"{resource} ({spec.name(entry['target'])}): {d}" for d in diffs)
    return changes


def _undone(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The changes a restore puts back, newest first (a change never made is left alone)."""
    return [e for e in reversed(data["changes"]) if "after" in e or e.get("after_unreadable")]


def restore_plan(path: str | Path, *, session: Any | None = None, context: Context | None = None) -> list[ApiCall]:
    """The calls that would put back the configuration saved in ``path`` (reads only)."""
    data = load_backup(path)
    ctx = context or Context(session)
    calls: list[ApiCall] = []
    for entry in _undone(data):
        spec = kind(entry["kind"])
        if spec.calls is None:
            raise ActionError(f"backup {path}: {entry['kind']} cannot be shown as calls")
        if not spec.same(_comparable(entry["before"]), entry.get("after")):
            calls.extend(spec.calls(entry["target"], entry["before"], ctx))
    return calls


def restore(path: str | Path, *, session: Any | None = None, context: Context | None = None, force: bool = False) -> list[ApiCall]:
    """Put back the configuration saved in a backup, through the engine; returns the calls.

    First compares each resource with the state the fix left (see
    :func:`changes_since_fix`): restoring over a later change would silently undo it.

    Args:
        path: a backup written by :func:`apply_plan` (this version or an earlier one).
        session: boto3 session (default: the standard chain).
        context: a :class:`Context` to reuse instead of ``session``.
        force: restore even when a resource changed since the fix (the change is lost).

    Raises:
        RefusedError: a resource changed since the fix and ``force`` is False (names the
            resource and what differs; nothing was changed).
        ActionError: one or more changes failed (the message names each); the others
            were still put back.
    """
    ctx = context or Context(session)
    changed = changes_since_fix(path, context=ctx)
    if changed and not force:
        raise RefusedError(
            f"restore from {path} refused: changed since the fix: " + "; ".join(changed)
            + "; nothing was changed. Restore anyway (losing those changes) with force=True (CLI: --force)"
        )
    for change in changed:
        log.warning("restoring over a change made since the fix: %s", change)
    data = load_backup(path)
    who = _caller(ctx)
    done: list[ApiCall] = []
    failures: list[str] = []
    for entry in _undone(data):
        spec = kind(entry["kind"])
        # Keep going: put back as much as possible, then report every change that failed.
        try:
            current = spec.read(entry["target"], ctx)
            if spec.same(_comparable(current), _comparable(entry["before"])):
                continue
            calls = spec.calls(entry["target"], entry["before"], ctx) if spec.calls else []
            details = {"check_id": data.get("check_id"), "resource": entry.get("resource"), "backup": str(path)}
            plan = Plan("restore", entry["kind"], dict(entry["target"]), current, entry["before"], details, rollback_of=entry.get("action_id"))
            execute(plan, apply=True, session=ctx, actor=who)
            done.extend(calls)
        except ActionError as exc:
            failures.append(str(exc))
    if failures:
        raise ActionError(f"restore from {path}: {len(done)} call(s) made, {len(failures)} failed: " + "; ".join(failures))
    return done


__all__ = ["ABSENT_CODES", "BACKUP_FORMAT", "CHANGES", "apply_plan", "backups_dir", "changes_since_fix", "load_backup", "plans_for", "restore", "restore_plan"]
