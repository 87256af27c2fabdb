"""Remediation on request: a fix plan (:mod:`s3forensics.checks.fix_plans`) applied only
when asked, with the previous configuration saved first so that it can be restored.

``apply_plan`` saves the
previous configuration of everything the plan touches to a JSON backup under
``<home>/backups/`` *before* the first write, applies, then records the state the fix left
("after") in the same backup. ``restore_plan`` lists the calls a restore would make (reads
only); ``restore`` makes them, after checking that nothing changed since the fix (it
refuses otherwise, unless forced).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from s3forensics.aws import error_code
from s3forensics.checks.base import CheckUnavailable, Context
from s3forensics.checks.fix_plans import ApiCall, FixPlan, FixStep
from s3forensics.errors import ActionError, RefusedError

log = logging.getLogger(__name__)

#: ``(service, read operation)`` -> the error codes that mean "not configured" (the
#: previous state is "absent"). Reads not listed return an empty answer when nothing is
#: configured, so any error from them (and any other code from these) aborts a fix.
ABSENT_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("s3", "get_public_access_block"): frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    ("s3control", "get_public_access_block"): frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    ("s3", "get_bucket_metrics_configuration"): frozenset({"NoSuchConfiguration"}),
    ("s3", "get_bucket_policy"): frozenset({"NoSuchBucketPolicy"}),
    ("sns", "get_topic_attributes"): frozenset({"NotFound", "NotFoundException"}),
}

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


# -- applying and restoring ------------------------------------------------------------------

def _execute(ctx: Context, call: ApiCall) -> dict[str, Any]:
    return ctx.call(call.service, call.operation, region=call.region, **dict(call.params))


def apply_plan(plan: FixPlan, *, session: Any | None = None, context: Context | None = None) -> Path | None:
    """Save the previous configuration of every step, apply the plan, then record the
    configuration it left ("after", used by :func:`restore` to detect later changes).

    Only the "not configured" error codes of each read (:data:`ABSENT_CODES`) are saved
    as an absent previous configuration; any other failure to read aborts before the
    first write.

    Returns:
        The backup file (JSON), or None when the plan has no steps.

    Raises:
        ActionError: reading the previous configuration or applying a call failed (the
            message names the call and the resource; the backup, when written, is kept
            and named).
    """
    if not plan.steps:
        return None
    ctx = context or Context(session)
    saved = []
    for step in plan.steps:
        entry: dict[str, Any] = {"call": asdict(step.call), "restore": step.restore, "resource": step.resource, "previous": None, "previous_error": None}
        if step.read is not None:
            entry["read"] = asdict(step.read)
            entry["previous"], entry["previous_error"] = _read_state(ctx, step, "save the previous configuration of", "; nothing was changed")
        saved.append(entry)
    folder = backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"{stamp}-{plan.check_id}-{time.monotonic_ns() % 10**6:06d}.json"
    backup = {"check_id": plan.check_id, "created": stamp, "steps": saved}
    _write_backup(path, backup)
    log.info("saved previous configuration to %s", path)
    for step in plan.steps:
        try:
            _execute(ctx, step.call)
        except Exception as exc:
            raise ActionError(f"{step.call.describe()} failed: {exc}; previous configuration saved in {path} (s3forensics check --restore {path} --apply)") from exc
    # Record what the fix left, so that a restore can tell whether anyone changed it since.
    for step, entry in zip(plan.steps, saved):
        if step.read is None:
            continue
        try:
            after, after_error = _read_state(ctx, step, "read the fixed configuration of")
        except ActionError as exc:
            log.warning("%s; a restore will need --force", exc)
            entry["after_unreadable"] = str(exc)
            continue
        entry["after"] = _comparable(after) if after_error is None else None
        entry["after_error"] = after_error
    _write_backup(path, backup)
    return path


def _write_backup(path: Path, backup: Mapping[str, Any]) -> None:
    try:
        path.write_text(json.dumps(backup, indent=2, default=str))
    except OSError as exc:
        raise ActionError(f"cannot write backup {path}: {exc}; the fix was stopped there") from exc


def _read_state(ctx: Context, step: FixStep, doing: str, suffix: str = "") -> tuple[dict[str, Any] | None, str | None]:
    """``(response, None)``, or ``(None, code)`` when the read says "not configured"
    (a code listed in :data:`ABSENT_CODES` for that read).

    Raises:
        ActionError: the read failed any other way (names the call and the resource).
    """
    read = step.read
    assert read is not None
    try:
        return _execute(ctx, read), None
    except CheckUnavailable as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 (only documented "not configured" codes are a state)
        code = error_code(exc)
        if code is not None and code in ABSENT_CODES.get((read.service, read.operation), frozenset()):
            return None, code
        reason = f"{code}: {exc}" if code else str(exc)
    raise ActionError(f"cannot {doing} {step.resource} ({read.describe()}): {reason}{suffix}")


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


def changes_since_fix(path: str | Path, *, session: Any | None = None, context: Context | None = None) -> list[str]:
    """What changed on each fixed resource since the fix was applied (reads only).

    Compares the state recorded right after the fix (``after`` in the backup) with the
    current state, ignoring :data:`VOLATILE_KEYS`.

    Returns:
        One line per difference, naming the resource; empty when nothing changed.

    Raises:
        ActionError: the backup is unreadable, or a current state cannot be read.
    """
    data = load_backup(path)
    ctx = context or Context(session)
    changes: list[str] = []
    for entry in data["steps"]:
        read = entry.get("read")
        if read is None:
            continue
        resource = entry.get("resource", "?")
        if "after" not in entry:
            why = entry.get("after_unreadable") or "the backup does not record the state after the fix"
            changes.append(f"{resource}: cannot tell whether it changed since the fix ({why})")
            continue
        step = FixStep(ApiCall(**entry["call"]), ApiCall(**read), entry.get("restore", ""), resource)
        now, now_error = _read_state(ctx, step, "read the current configuration of")
        if (now_error or None) != (entry.get("after_error") or None):
            changes.append(f"{resource}: after the fix {entry.get('after_error') or 'configured'}, now {now_error or 'configured'}")
            continue
        if now_error is None:
            changes.extend(f"{resource} ({read['service']}.{read['operation']}): {d}" for d in _differences(entry["after"], _comparable(now)))
    return changes


def _restore_bucket_logging(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    previous = (step.get("previous") or {}).get("LoggingEnabled")
    status = {"LoggingEnabled": previous} if previous else {}
    return [ApiCall("s3", "put_bucket_logging", {"Bucket": step["call"]["params"]["Bucket"], "BucketLoggingStatus": status})]


def _restore_pab(service: str, key: str) -> Callable[[Mapping[str, Any], Context], list[ApiCall]]:
    def restore(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
        ident = {key: step["call"]["params"][key]}
        if step.get("previous_error") == "NoSuchPublicAccessBlockConfiguration" or not step.get("previous"):
            return [ApiCall(service, "delete_public_access_block", ident)]
        return [ApiCall(service, "put_public_access_block", {**ident, "PublicAccessBlockConfiguration": step["previous"]["PublicAccessBlockConfiguration"]})]

    return restore


def _restore_versioning(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    if (step.get("previous") or {}).get("Status") == "Enabled":
        return []
    # S3 cannot return a bucket to "never versioned"; Suspended is the closest state.
    return [ApiCall("s3", "put_bucket_versioning", {"Bucket": step["call"]["params"]["Bucket"], "VersioningConfiguration": {"Status": "Suspended"}})]


def _restore_trail(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    trails = (step.get("previous") or {}).get("trailList") or []
    if not trails:
        return []
    prev, region = trails[0], step["call"].get("region")
    return [ApiCall("cloudtrail", "update_trail", {"Name": prev["Name"], "IsMultiRegionTrail": bool(prev.get("IsMultiRegionTrail")), "EnableLogFileValidation": bool(prev.get("LogFileValidationEnabled"))}, region)]


def _restore_trail_logging(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    if (step.get("previous") or {}).get("IsLogging"):
        return []
    return [ApiCall("cloudtrail", "stop_logging", {"Name": step["call"]["params"]["Name"]}, step["call"].get("region"))]


def _restore_selectors(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    prev = step.get("previous") or {}
    name = step["call"]["params"]["TrailName"]
    region = step["call"].get("region")
    if prev.get("AdvancedEventSelectors"):
        return [ApiCall("cloudtrail", "put_event_selectors", {"TrailName": name, "AdvancedEventSelectors": prev["AdvancedEventSelectors"]}, region)]
    return [ApiCall("cloudtrail", "put_event_selectors", {"TrailName": name, "EventSelectors": prev.get("EventSelectors") or []}, region)]


def _restore_metrics(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    params = step["call"]["params"]
    prev = (step.get("previous") or {}).get("MetricsConfiguration")
    if step.get("previous_error") or not prev:
        return [ApiCall("s3", "delete_bucket_metrics_configuration", {"Bucket": params["Bucket"], "Id": params["Id"]})]
    return [ApiCall("s3", "put_bucket_metrics_configuration", {"Bucket": params["Bucket"], "Id": params["Id"], "MetricsConfiguration": {**prev, "Id": params["Id"]}})]


_ALARM_KEYS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
    "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm",
    "Threshold", "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
)


def _restore_alarm(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    name, region = step["call"]["params"]["AlarmName"], step["call"].get("region")
    previous = (step.get("previous") or {}).get("MetricAlarms") or []
    if not previous:
        return [ApiCall("cloudwatch", "delete_alarms", {"AlarmNames": [name]}, region)]
    return [ApiCall("cloudwatch", "put_metric_alarm", {k: v for k, v in previous[0].items() if k in _ALARM_KEYS}, region)]


def _restore_topic(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    if step.get("previous_error") in {"NotFound", "NotFoundException"}:
        return [ApiCall("sns", "delete_topic", {"TopicArn": step["read"]["params"]["TopicArn"]})]
    return []


def _restore_guardduty_create(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    before = set((step.get("previous") or {}).get("DetectorIds") or [])
    now = ctx.paginate("guardduty", "list_detectors", "DetectorIds")
    return [ApiCall("guardduty", "delete_detector", {"DetectorId": d}) for d in now if d not in before]


def _restore_guardduty_update(step: Mapping[str, Any], ctx: Context) -> list[ApiCall]:
    prev = step.get("previous") or {}
    features = {f.get("Name"): f.get("Status") for f in prev.get("Features") or []}
    s3_status = features.get("S3_DATA_EVENTS") or ((prev.get("DataSources") or {}).get("S3Logs") or {}).get("Status") or "DISABLED"
    return [ApiCall("guardduty", "update_detector", {"DetectorId": step["call"]["params"]["DetectorId"], "Enable": prev.get("Status") == "ENABLED", "Features": [{"Name": "S3_DATA_EVENTS", "Status": s3_status}]})]


#: restore kind -> builder of the calls that put the saved configuration back.
RESTORERS: dict[str, Callable[[Mapping[str, Any], Context], list[ApiCall]]] = {
    "bucket_logging": _restore_bucket_logging,
    "bucket_pab": _restore_pab("s3", "Bucket"),
    "account_pab": _restore_pab("s3control", "AccountId"),
    "bucket_versioning": _restore_versioning,
    "trail": _restore_trail,
    "trail_logging": _restore_trail_logging,
    "event_selectors": _restore_selectors,
    "metrics_config": _restore_metrics,
    "alarm": _restore_alarm,
    "topic": _restore_topic,
    "guardduty_create": _restore_guardduty_create,
    "guardduty_update": _restore_guardduty_update,
}


def load_backup(path: str | Path) -> dict[str, Any]:
    """Read a backup written by :func:`apply_plan`.

    Raises:
        ActionError: the file is missing or not a backup.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        if not isinstance(data.get("steps"), list):
            raise ValueError("no 'steps' list")
    except (OSError, ValueError, AttributeError) as exc:
        raise ActionError(f"backup {path} is not readable: {exc}") from exc
    return data


def restore_plan(path: str | Path, *, session: Any | None = None, context: Context | None = None) -> list[ApiCall]:
    """The calls that would put back the configuration saved in ``path`` (reverse order)."""
    data = load_backup(path)
    ctx = context or Context(session)
    calls: list[ApiCall] = []
    for step in reversed(data["steps"]):
        builder = RESTORERS.get(step.get("restore"))
        if builder is None:
            raise ActionError(f"backup {path}: unknown restore kind {step.get('restore')!r}")
        calls.extend(builder(step, ctx))
    return calls


def restore(path: str | Path, *, session: Any | None = None, context: Context | None = None, force: bool = False) -> list[ApiCall]:
    """Put back the configuration saved in a backup; returns the calls made.

    First compares each resource with the state the fix left (see
    :func:`changes_since_fix`): restoring over a later change would silently undo it.

    Args:
        path: a backup written by :func:`apply_plan`.
        session: boto3 session (default: the standard chain).
        context: a :class:`Context` to reuse instead of ``session``.
        force: restore even when a resource changed since the fix (the change is lost).

    Raises:
        RefusedError: a resource changed since the fix and ``force`` is False (names the
            resource and what differs; nothing was changed).
        ActionError: one or more calls failed (the message names each); the other
            calls were still made.
    """
    ctx = context or Context(session)
    changes = changes_since_fix(path, context=ctx)
    if changes and not force:
        raise RefusedError(
            f"restore from {path} refused: changed since the fix: " + "; ".join(changes)
            + "; nothing was changed. Restore anyway (losing those changes) with force=True (CLI: --force)"
        )
    for change in changes:
        log.warning("restoring over a change made since the fix: %s", change)
    calls = restore_plan(path, context=ctx)
    done, failures = [], []
    for call in calls:
        # Keep going: put back as much as possible, then report every call that failed.
        try:
            _execute(ctx, call)
            done.append(call)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{call.describe()} failed: {exc}")
    if failures:
        raise ActionError(f"restore from {path}: {len(done)} call(s) made, {len(failures)} failed: " + "; ".join(failures))
    return calls


__all__ = ["ABSENT_CODES", "RESTORERS", "apply_plan", "backups_dir", "changes_since_fix", "load_backup", "restore", "restore_plan"]
