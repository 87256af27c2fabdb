"""Remediation on request: a plan of the exact API calls that fix a failing check, applied
only when asked, with the previous configuration saved first so that it can be restored.

``plan_fix`` reads (never writes) and returns a :class:`FixPlan`; ``apply_plan`` saves the
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
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from s3forensics.aws import error_code
from s3forensics.checks.base import CheckResult, CheckUnavailable, Context, Status
from s3forensics.errors import ActionError, RefusedError

log = logging.getLogger(__name__)

ALL_PAB = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
METRICS_ID = "EntireBucket"
DEFAULT_TOPIC = "s3forensics-alerts"

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


@dataclass(frozen=True)
class ApiCall:
    """One boto3 call: ``<service>.<operation>(**params)`` in ``region``."""

    service: str
    operation: str
    params: Mapping[str, Any]
    region: str | None = None

    def describe(self) -> str:
        """``s3.put_bucket_logging(Bucket='x', ...)``-style text with JSON parameters."""
        where = f" [{self.region}]" if self.region else ""
        return f"{self.service}.{self.operation}{where} {json.dumps(dict(self.params), sort_keys=True, default=str)}"


@dataclass(frozen=True)
class FixStep:
    """An API call that fixes something, the call that reads what it replaces, and how
    to put that back (a key of :data:`RESTORERS`)."""

    call: ApiCall
    read: ApiCall | None
    restore: str
    resource: str


@dataclass(frozen=True)
class FixPlan:
    """Everything ``--fix CHECK_ID`` would do; ``steps`` are empty when nothing fails."""

    check_id: str
    steps: tuple[FixStep, ...]
    notes: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        """Human-readable lines: one per API call, then the notes."""
        if not self.steps:
            lines = [f"{self.check_id}: nothing to fix."]
        else:
            lines = [f"{self.check_id}: {len(self.steps)} API call(s):"]
            lines += [f"  {i}. {step.call.describe()}" for i, step in enumerate(self.steps, 1)]
        lines += [f"  note: {note}" for note in self.notes]
        return lines

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form of the plan."""
        return {
            "check_id": self.check_id,
            "calls": [{**asdict(s.call), "resource": s.resource} for s in self.steps],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class FixOptions:
    """Choices a fix needs that a check cannot guess.

    Attributes:
        log_bucket: bucket that receives server access logs (default: the one most
            buckets already log to).
        topic_arn: SNS topic for new alarms (default: create ``s3forensics-alerts``).
        trail: trail to change (default: the only trail, or the only logging one).
        get_requests_threshold: GetRequests per 5 minutes above which the alarm fires.
    """

    log_bucket: str | None = None
    topic_arn: str | None = None
    trail: str | None = None
    get_requests_threshold: int = 10_000


def backups_dir() -> Path:
    """``<home>/backups``, where previous configurations are saved before a fix."""
    from s3forensics.config import home_dir

    return home_dir() / "backups"


# -- planning ----------------------------------------------------------------------------

def plan_fix(
    check_id: str,
    *,
    session: Any | None = None,
    buckets: Iterable[str] | None = None,
    options: FixOptions | None = None,
    context: Context | None = None,
) -> FixPlan:
    """Run ``check_id`` and plan the API calls that fix each FAIL result (reads only).

    Raises:
        ConfigError: unknown check id.
        ActionError: the check has no automatic fix, or a choice (log bucket, trail) is
            needed and cannot be guessed.
    """
    from s3forensics.checks import get_check, run_checks

    check = get_check(check_id)
    planner = PLANNERS.get(check.id)
    if planner is None:
        raise ActionError(f"{check.id} has no automatic fix; do it by hand: {check.remediation}")
    ctx = context or Context(session)
    results = run_checks(buckets=buckets, ids=[check.id], context=ctx)
    unknown = [r for r in results if r.status is Status.UNKNOWN]
    failing = [r for r in results if r.status is Status.FAIL]
    notes = [f"{r.resource} skipped: {r.message}" for r in unknown]
    if not failing:
        return FixPlan(check.id, (), tuple(notes))
    steps, more_notes = planner(ctx, failing, options or FixOptions())
    return FixPlan(check.id, tuple(steps), tuple(notes + more_notes))


Planner = Callable[[Context, list[CheckResult], FixOptions], tuple[list[FixStep], list[str]]]


def _bucket_pab_step(bucket: str) -> FixStep:
    return FixStep(
        ApiCall("s3", "put_public_access_block", {"Bucket": bucket, "PublicAccessBlockConfiguration": ALL_PAB}),
        ApiCall("s3", "get_public_access_block", {"Bucket": bucket}),
        "bucket_pab",
        bucket,
    )


def _plan_bucket_pab(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    notes = []
    steps = []
    for r in failing:
        steps.append(_bucket_pab_step(r.resource))
        try:
            ctx.call("s3", "get_bucket_website", Bucket=r.resource)
            notes.append(f"{r.resource} is a website bucket: Block Public Access stops it being served straight from S3 (serve it through CloudFront with origin access control).")
        except Exception:  # noqa: BLE001, S110 (no website configuration, or not readable: no note)
            pass
    return steps, notes


def _plan_account_pab(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    account = ctx.account_id()
    step = FixStep(
        ApiCall("s3control", "put_public_access_block", {"AccountId": account, "PublicAccessBlockConfiguration": ALL_PAB}),
        ApiCall("s3control", "get_public_access_block", {"AccountId": account}),
        "account_pab",
        f"account {account}",
    )
    return [step], ["Account-wide Block Public Access makes every public bucket private, public websites included."]


def _plan_logging(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    from s3forensics.checks import list_buckets
    from s3forensics.checks.s3 import bucket_logging

    target = options.log_bucket
    if target is None:
        seen = Counter()
        for name in list_buckets(ctx):
            try:
                enabled = bucket_logging(ctx, name)
            except Exception:  # noqa: BLE001, S112 (a guess only)
                continue
            if enabled and enabled.get("TargetBucket"):
                seen[enabled["TargetBucket"]] += 1
        if not seen:
            raise ActionError("no bucket logs anywhere yet: name the log bucket with --log-bucket")
        target = seen.most_common(1)[0][0]
    steps, notes = [], [f"Log bucket {target} must allow logging.s3.amazonaws.com to PutObject (bucket policy)."]
    for r in failing:
        if r.resource == target:
            notes.append(f"{target} skipped: a log bucket must not log into itself; give it its own log bucket.")
            continue
        enabled = {
            "TargetBucket": target,
            "TargetPrefix": f"s3-access/{r.resource}/",
            "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}},
        }
        steps.append(
            FixStep(
                ApiCall("s3", "put_bucket_logging", {"Bucket": r.resource, "BucketLoggingStatus": {"LoggingEnabled": enabled}}),
                ApiCall("s3", "get_bucket_logging", {"Bucket": r.resource}),
                "bucket_logging",
                r.resource,
            )
        )
    return steps, notes


def _plan_log_target(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    from s3forensics.checks.s3 import bucket_logging

    steps, notes = [], []
    for r in failing:
        target = (bucket_logging(ctx, r.resource) or {}).get("TargetBucket")
        if target == r.resource:
            notes.append(f"{r.resource} logs into itself: run --fix s3_access_logging_enabled --log-bucket OTHER after turning its logging off.")
        elif target and target not in {s.resource for s in steps}:
            steps.append(_bucket_pab_step(target))
    return steps, notes


def _plan_versioning(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    steps = [
        FixStep(
            ApiCall("s3", "put_bucket_versioning", {"Bucket": r.resource, "VersioningConfiguration": {"Status": "Enabled"}}),
            ApiCall("s3", "get_bucket_versioning", {"Bucket": r.resource}),
            "bucket_versioning",
            r.resource,
        )
        for r in failing
    ]
    return steps, ["Once enabled, versioning can only be suspended, never removed; add a lifecycle rule for noncurrent versions."]


def _pick_trail(ctx: Context, options: FixOptions) -> dict[str, Any]:
    from s3forensics.checks.cloudtrail import trails

    all_trails = trails(ctx)
    if options.trail:
        for t in all_trails:
            if options.trail in (t.get("Name"), t.get("TrailARN")):
                return t
        raise ActionError(f"trail {options.trail!r} not found; trails: {', '.join(t['Name'] for t in all_trails) or 'none'}")
    logging_trails = [t for t in all_trails if t.get("Status", {}).get("IsLogging")]
    for candidates in (all_trails, logging_trails):
        if len(candidates) == 1:
            return candidates[0]
    if not all_trails:
        raise ActionError("no CloudTrail trail exists: create one (CreateTrail with an S3 bucket policy for cloudtrail.amazonaws.com) first")
    raise ActionError("several trails exist: choose one with --trail NAME")


def _plan_trail_flag(flag: str) -> Planner:
    def planner(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
        from s3forensics.checks.cloudtrail import trails

        if flag == "IsMultiRegionTrail":
            chosen = [_pick_trail(ctx, options)]
        else:
            arns = {r.resource for r in failing}
            chosen = [t for t in trails(ctx) if t.get("TrailARN") in arns or t.get("Name") in arns]
        steps = []
        for t in chosen:
            name, region = t["Name"], t.get("HomeRegion")
            steps.append(FixStep(ApiCall("cloudtrail", "update_trail", {"Name": name, flag: True}, region), ApiCall("cloudtrail", "describe_trails", {"trailNameList": [name]}, region), "trail", name))
            if flag == "IsMultiRegionTrail" and not t.get("Status", {}).get("IsLogging"):
                steps.append(FixStep(ApiCall("cloudtrail", "start_logging", {"Name": name}, region), ApiCall("cloudtrail", "get_trail_status", {"Name": name}, region), "trail_logging", name))
        return steps, []

    return planner


def _plan_data_events(kind: str) -> Planner:
    def planner(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
        trail = _pick_trail(ctx, options)
        name, region = trail["Name"], trail.get("HomeRegion")
        prefixes = [f"arn:aws:s3:::{r.resource}/" for r in failing]
        current = trail.get("Selectors", {})
        advanced = list(current.get("AdvancedEventSelectors") or [])
        if advanced:
            advanced.append(
                {
                    "Name": f"s3forensics S3 data events ({kind})",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                        {"Field": "readOnly", "Equals": ["true" if kind == "read" else "false"]},
                        {"Field": "resources.ARN", "StartsWith": prefixes},
                    ],
                }
            )
            params: dict[str, Any] = {"TrailName": name, "AdvancedEventSelectors": advanced}
        else:
            classic = list(current.get("EventSelectors") or []) or [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]
            if len(classic) >= 5:
                raise ActionError(f"trail {name} already has 5 event selectors (the maximum); convert it to advanced event selectors first")
            classic.append(
                {
                    "ReadWriteType": "ReadOnly" if kind == "read" else "WriteOnly",
                    "IncludeManagementEvents": False,
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": prefixes}],
                }
            )
            params = {"TrailName": name, "EventSelectors": classic}
        step = FixStep(ApiCall("cloudtrail", "put_event_selectors", params, region), ApiCall("cloudtrail", "get_event_selectors", {"TrailName": name}, region), "event_selectors", name)
        return [step], [f"S3 data events are billed per event recorded ({kind}s of {len(prefixes)} bucket(s))."]

    return planner


def _metrics_step(bucket: str) -> FixStep:
    return FixStep(
        ApiCall("s3", "put_bucket_metrics_configuration", {"Bucket": bucket, "Id": METRICS_ID, "MetricsConfiguration": {"Id": METRICS_ID}}),
        ApiCall("s3", "get_bucket_metrics_configuration", {"Bucket": bucket, "Id": METRICS_ID}),
        "metrics_config",
        bucket,
    )


def _plan_request_metrics(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    return [_metrics_step(r.resource) for r in failing], ["Request metrics are billed as CloudWatch custom metrics."]


def _plan_get_alarm(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    steps: list[FixStep] = []
    notes: list[str] = []
    topic = options.topic_arn
    if topic is None:
        topic = f"arn:aws:sns:{ctx.region}:{ctx.account_id()}:{DEFAULT_TOPIC}"
        steps.append(FixStep(ApiCall("sns", "create_topic", {"Name": DEFAULT_TOPIC}), ApiCall("sns", "get_topic_attributes", {"TopicArn": topic}), "topic", topic))
        notes.append(f"Subscribe and confirm an on-call endpoint on {topic}, or the alarm reaches nobody.")
    for r in failing:
        bucket = r.resource
        region = ctx.bucket_region(bucket)
        steps.append(_metrics_step(bucket))
        name = f"s3forensics-{bucket}-GetRequests"
        alarm = {
            "AlarmName": name,
            "AlarmDescription": f"GET flood on s3://{bucket} (s3forensics)",
            "Namespace": "AWS/S3",
            "MetricName": "GetRequests",
            "Dimensions": [{"Name": "BucketName", "Value": bucket}, {"Name": "FilterId", "Value": METRICS_ID}],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": float(options.get_requests_threshold),
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [topic],
        }
        steps.append(FixStep(ApiCall("cloudwatch", "put_metric_alarm", alarm, region), ApiCall("cloudwatch", "describe_alarms", {"AlarmNames": [name]}, region), "alarm", name))
    notes.append(f"Threshold {options.get_requests_threshold} GETs per 5 minutes: set it above your normal peak (--threshold).")
    return steps, notes


def _plan_guardduty(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    features = [{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}]
    detectors = ctx.paginate("guardduty", "list_detectors", "DetectorIds")
    if not detectors:
        step = FixStep(ApiCall("guardduty", "create_detector", {"Enable": True, "Features": features}), ApiCall("guardduty", "list_detectors", {}), "guardduty_create", f"guardduty {ctx.region}")
    else:
        step = FixStep(ApiCall("guardduty", "update_detector", {"DetectorId": detectors[0], "Enable": True, "Features": features}), ApiCall("guardduty", "get_detector", {"DetectorId": detectors[0]}), "guardduty_update", f"guardduty {detectors[0]}")
    return [step], ["GuardDuty is billed by volume of events analysed (30-day free trial per account and region)."]


#: check id -> planner. Checks not listed have no automatic fix (the plan says why).
PLANNERS: dict[str, Planner] = {
    "s3_access_logging_enabled": _plan_logging,
    "s3_access_logging_target_protected": _plan_log_target,
    "s3_block_public_access_account": _plan_account_pab,
    "s3_block_public_access_bucket": _plan_bucket_pab,
    "s3_bucket_policy_not_public": _plan_bucket_pab,
    "s3_bucket_acl_not_public": _plan_bucket_pab,
    "s3_bucket_versioning_enabled": _plan_versioning,
    "cloudtrail_multi_region_logging": _plan_trail_flag("IsMultiRegionTrail"),
    "cloudtrail_log_file_validation": _plan_trail_flag("EnableLogFileValidation"),
    "cloudtrail_s3_data_events_read": _plan_data_events("read"),
    "cloudtrail_s3_data_events_write": _plan_data_events("write"),
    "cloudwatch_s3_request_metrics_enabled": _plan_request_metrics,
    "cloudwatch_alarm_s3_get_requests": _plan_get_alarm,
    "guardduty_s3_protection_enabled": _plan_guardduty,
}


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


__all__ = ["ABSENT_CODES", "PLANNERS", "ApiCall", "FixOptions", "FixPlan", "FixStep", "apply_plan", "backups_dir", "changes_since_fix", "load_backup", "plan_fix", "restore", "restore_plan"]
