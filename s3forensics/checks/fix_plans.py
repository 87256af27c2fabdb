"""Fix plans: the exact API calls that would fix a failing check, found by reading only.

``plan_fix`` runs the check and asks its planner (:data:`PLANNERS`) for the calls that fix
each FAIL result; nothing is written. :mod:`s3forensics.checks.remediation` applies a plan
(after saving the previous configuration) and restores it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from s3forensics.actions.kinds import ApiCall
from s3forensics.checks.base import CheckResult, Context, Status
from s3forensics.errors import ActionError

log = logging.getLogger(__name__)

ALL_PAB = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


METRICS_ID = "EntireBucket"


DEFAULT_TOPIC = "s3forensics-alerts"


@dataclass(frozen=True)
class FixStep:
    """An API call that fixes something, the call that reads what it replaces, and the
    setting it changes (a key of :data:`s3forensics.checks.remediation.CHANGES`, which
    names its resource kind)."""

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
        public_sites: buckets public by design (profile ``public_site``), besides those
            with a website configuration.
        block_public_sites: plan Block Public Access on public sites too (it takes them
            offline); by default they are left out, and the plan says why.
    """

    log_bucket: str | None = None
    topic_arn: str | None = None
    trail: str | None = None
    get_requests_threshold: int = 10_000
    public_sites: tuple[str, ...] = ()
    block_public_sites: bool = False


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
    if results and len(unknown) == len(results):
        # Nothing could be read: "nothing to fix" would be a claim nobody checked.
        raise ActionError(f"cannot plan a fix for {check.id}: nothing could be read ({unknown[0].resource}: {unknown[0].message})")
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


def _public_site(ctx: Context, bucket: str, options: FixOptions) -> str | None:
    """Why ``bucket`` is a public site (its profile, or its website configuration), or None."""
    if bucket in options.public_sites:
        return "its profile is public_site"
    try:
        ctx.call("s3", "get_bucket_website", Bucket=bucket)
    except Exception:  # noqa: BLE001 (no website configuration, or not readable: not known as a site)
        return None
    return "it has a website configuration"


_SITE_BREAKS = (
    "Block Public Access would take it offline (its website endpoint and anonymous reads answer 403 "
    "to every visitor)"
)


def _plan_bucket_pab(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    notes = []
    steps = []
    for r in failing:
        why = _public_site(ctx, r.resource, options)
        if why and not options.block_public_sites:
            notes.append(
                f"{r.resource} not planned: {why}, and {_SITE_BREAKS}. To close it anyway, serve it through "
                "CloudFront with origin access control first, then run the fix with --block-public-sites."
            )
            continue
        steps.append(_bucket_pab_step(r.resource))
        if why:
            notes.append(f"{r.resource}: {why}; {_SITE_BREAKS}. Planned because --block-public-sites was given.")
    return steps, notes


def _plan_account_pab(ctx: Context, failing: list[CheckResult], options: FixOptions) -> tuple[list[FixStep], list[str]]:
    from s3forensics.checks import list_buckets

    account = ctx.account_id()
    sites = []
    for name in list_buckets(ctx):
        why = _public_site(ctx, name, options)
        if why:
            sites.append(f"{name} ({why})")
    if sites and not options.block_public_sites:
        return [], [
            f"account-wide Block Public Access not planned: it would take the public site(s) {', '.join(sites)} offline. "
            "Block each other bucket instead (s3_block_public_access_bucket leaves sites out), or run the fix with "
            "--block-public-sites once the sites are served through CloudFront."
        ]
    step = FixStep(
        ApiCall("s3control", "put_public_access_block", {"AccountId": account, "PublicAccessBlockConfiguration": ALL_PAB}),
        ApiCall("s3control", "get_public_access_block", {"AccountId": account}),
        "account_pab",
        f"account {account}",
    )
    if sites:
        return [step], [f"Account-wide Block Public Access takes the public site(s) {', '.join(sites)} offline. Planned because --block-public-sites was given."]
    return [step], ["Account-wide Block Public Access makes every public bucket private; no bucket of this account has a website configuration or a public_site profile."]


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
