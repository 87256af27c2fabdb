"""CloudTrail checks: multi-region logging, log file validation, S3 data events, CloudWatch Logs.

Data-event coverage is computed from both selector kinds: classic ``EventSelectors``
(``ReadWriteType`` + ``DataResources``) and ``AdvancedEventSelectors`` (field selectors on
``eventCategory``, ``resources.type``, ``readOnly``, ``eventName``, ``resources.ARN``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from s3forensics.checks.base import Check, CheckUnavailable, Context, Status, Verdict

DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide"
#: The operation that must be recorded for each kind of access.
KEY_EVENTS = {"read": ("GetObject",), "write": ("PutObject", "DeleteObject")}


def trails(ctx: Context) -> list[dict[str, Any]]:
    """Every trail visible from the context's region, with status and selectors added.

    Each item is the ``DescribeTrails`` entry plus ``Status`` (GetTrailStatus) and
    ``Selectors`` (GetEventSelectors, without metadata).
    """

    def fetch() -> list[dict[str, Any]]:
        listed = ctx.call("cloudtrail", "describe_trails", includeShadowTrails=True).get("trailList", [])
        out = []
        for trail in listed:
            home = trail.get("HomeRegion") or ctx.region
            name = trail.get("TrailARN") or trail["Name"]
            item = dict(trail)
            item["Status"] = ctx.call("cloudtrail", "get_trail_status", region=home, Name=name)
            selectors = ctx.call("cloudtrail", "get_event_selectors", region=home, TrailName=name)
            item["Selectors"] = {
                "EventSelectors": selectors.get("EventSelectors") or [],
                "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or [],
            }
            out.append(item)
        return out

    return ctx.cached("trails", fetch)


def _trail_label(trail: Mapping[str, Any]) -> str:
    return f"trail {trail.get('Name')} ({trail.get('HomeRegion', '?')})"


def _logging(trail: Mapping[str, Any]) -> bool:
    return bool(trail.get("Status", {}).get("IsLogging"))


def _covers_region(trail: Mapping[str, Any], region: str) -> bool:
    return bool(trail.get("IsMultiRegionTrail")) or trail.get("HomeRegion") == region


# -- selector logic (pure) --------------------------------------------------------------

def _field_matches(selector: Mapping[str, Any], value: str) -> bool:
    """Does one advanced field selector accept ``value``? Operators are ANDed."""
    tests = {
        "Equals": lambda v: value == v,
        "StartsWith": value.startswith,
        "EndsWith": value.endswith,
    }
    for op, test in tests.items():
        if op in selector and not any(test(v) for v in selector[op]):
            return False
        negated = "Not" + op
        if negated in selector and any(test(v) for v in selector[negated]):
            return False
    return True


def _arn_coverage(selector: Mapping[str, Any] | None, bucket: str) -> str:
    """How a ``resources.ARN`` field selector covers a bucket's objects: full/partial/none."""
    if selector is None:
        return "full"
    prefix = f"arn:aws:s3:::{bucket}/"
    if any(prefix.startswith(v) for v in selector.get("NotStartsWith", [])):
        return "none"
    excludes_some = (
        any(v.startswith(prefix) for v in selector.get("NotStartsWith", []))
        or any(v.startswith(prefix) for v in selector.get("NotEquals", []))
        or bool(selector.get("NotEndsWith"))
    )
    if not any(op in selector for op in ("Equals", "StartsWith", "EndsWith")):
        return "partial" if excludes_some else "full"
    level = "none"
    if any(prefix.startswith(v) for v in selector.get("StartsWith", [])):
        level = "full"
    elif (
        any(v.startswith(prefix) for v in selector.get("StartsWith", []))
        or any(v.startswith(prefix) for v in selector.get("Equals", []))
        or selector.get("EndsWith")
    ):
        level = "partial"
    # Operators in one field selector are ANDed: a bucket-wide StartsWith narrowed by
    # Equals or EndsWith covers only some keys.
    if level == "full" and (excludes_some or selector.get("Equals") or selector.get("EndsWith")):
        return "partial"
    return level


def _classic_coverage(selectors: Sequence[Mapping[str, Any]], bucket: str, kind: str) -> str:
    best = "none"
    prefix = f"arn:aws:s3:::{bucket}/"
    for sel in selectors:
        rw = sel.get("ReadWriteType", "All")
        if rw not in ("All", "ReadOnly" if kind == "read" else "WriteOnly"):
            continue
        for resource in sel.get("DataResources", []):
            if resource.get("Type") != "AWS::S3::Object":
                continue
            for value in resource.get("Values", []):
                # "arn:aws:s3" and "arn:aws:s3:::" mean every bucket; "arn:aws:s3:::b/" the whole bucket.
                if value in ("arn:aws:s3", "arn:aws:s3:::") or value in (prefix, prefix[:-1]):
                    return "full"
                if value.startswith(prefix):
                    best = "partial"
    return best


def _advanced_coverage(selectors: Sequence[Mapping[str, Any]], bucket: str, kind: str) -> str:
    best = "none"
    readonly_value = "true" if kind == "read" else "false"
    for sel in selectors:
        fields = {fs.get("Field"): fs for fs in sel.get("FieldSelectors", [])}
        category = fields.get("eventCategory")
        if category is None or not _field_matches(category, "Data"):
            continue
        rtype = fields.get("resources.type")
        if rtype is None or not _field_matches(rtype, "AWS::S3::Object"):
            continue
        if "readOnly" in fields and not _field_matches(fields["readOnly"], readonly_value):
            continue
        if "eventName" in fields and not all(_field_matches(fields["eventName"], e) for e in KEY_EVENTS[kind]):
            if any(_field_matches(fields["eventName"], e) for e in KEY_EVENTS[kind]):
                best = "partial" if best == "none" else best
            continue
        coverage = _arn_coverage(fields.get("resources.ARN"), bucket)
        if coverage == "full":
            return "full"
        if coverage == "partial":
            best = "partial"
    return best


def data_event_coverage(selectors: Mapping[str, Any], bucket: str, kind: str) -> str:
    """``"full"``, ``"partial"`` or ``"none"``: does a trail's selector set record ``kind``
    (``"read"``/``"write"``) data events for every object of ``bucket``?"""
    classic = _classic_coverage(selectors.get("EventSelectors") or [], bucket, kind)
    advanced = _advanced_coverage(selectors.get("AdvancedEventSelectors") or [], bucket, kind)
    for level in ("full", "partial"):
        if level in (classic, advanced):
            return level
    return "none"


def management_events_recorded(selectors: Mapping[str, Any]) -> bool:
    """Does the selector set record write management events (PutBucketPolicy and the like)?"""
    classic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    if not classic and not advanced:
        return True  # no custom selectors: the default records all management events
    for sel in classic:
        if sel.get("IncludeManagementEvents", True) and sel.get("ReadWriteType", "All") in ("All", "WriteOnly"):
            return True
    for sel in advanced:
        fields = {fs.get("Field"): fs for fs in sel.get("FieldSelectors", [])}
        management = "eventCategory" in fields and _field_matches(fields["eventCategory"], "Management")
        if management and ("readOnly" not in fields or _field_matches(fields["readOnly"], "false")):
            return True
    return False


# -- checks -------------------------------------------------------------------------------

def collect_trails(ctx: Context, bucket: str | None) -> dict[str, Any]:
    return {"region": ctx.region, "trails": trails(ctx)}


def evaluate_multi_region(facts: Mapping[str, Any]) -> list[Verdict]:
    all_trails = facts.get("trails") or []
    good = [t for t in all_trails if t.get("IsMultiRegionTrail") and _logging(t) and management_events_recorded(t.get("Selectors", {}))]
    if good:
        return [Verdict(Status.PASS, f"{_trail_label(good[0])} is multi-region and logging management events.", good[0].get("TrailARN"))]
    if not all_trails:
        return [Verdict(Status.FAIL, f"No CloudTrail trail exists (seen from {facts.get('region')}): API activity is kept only 90 days in Event history, without data events.")]
    notes = []
    for t in all_trails:
        problems = []
        if not t.get("IsMultiRegionTrail"):
            problems.append("single-region")
        if not _logging(t):
            problems.append("not logging")
        if not management_events_recorded(t.get("Selectors", {})):
            problems.append("no write management events")
        notes.append(f"{_trail_label(t)}: {', '.join(problems)}")
    return [Verdict(Status.FAIL, "No multi-region trail is logging management events; " + "; ".join(notes) + ".")]


def evaluate_log_validation(facts: Mapping[str, Any]) -> list[Verdict]:
    all_trails = facts.get("trails") or []
    if not all_trails:
        return [Verdict(Status.FAIL, "No CloudTrail trail exists, so there are no log files to validate.")]
    out = []
    for t in all_trails:
        resource = t.get("TrailARN") or t.get("Name")
        if t.get("LogFileValidationEnabled"):
            out.append(Verdict(Status.PASS, f"{_trail_label(t)} writes signed digest files (log file validation on).", resource))
        else:
            out.append(Verdict(Status.FAIL, f"{_trail_label(t)} has log file validation off: tampering with its log files could not be proven.", resource))
    return out


def collect_bucket_trails(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    return {"bucket": bucket, "bucket_region": ctx.bucket_region(bucket), "trails": trails(ctx)}


def _evaluate_data_events(facts: Mapping[str, Any], kind: str) -> list[Verdict]:
    bucket, region = facts["bucket"], facts["bucket_region"]
    what = "reads (GetObject)" if kind == "read" else "writes (PutObject, DeleteObject)"
    partial_notes = []
    for t in facts.get("trails") or []:
        coverage = data_event_coverage(t.get("Selectors", {}), bucket, kind)
        usable = _logging(t) and _covers_region(t, region)
        if coverage == "full" and usable:
            return [Verdict(Status.PASS, f"{_trail_label(t)} records S3 data-event {what} for every object of bucket {bucket}.")]
        if coverage == "full":
            partial_notes.append(f"{_trail_label(t)} selects them but is {'not logging' if not _logging(t) else 'not covering ' + region}")
        elif coverage == "partial":
            partial_notes.append(f"{_trail_label(t)} selects only some keys or events")
    detail = f" ({'; '.join(partial_notes)})" if partial_notes else ""
    return [Verdict(Status.FAIL, f"No logging trail records S3 data-event {what} for bucket {bucket}{detail}.")]


def evaluate_data_read(facts: Mapping[str, Any]) -> list[Verdict]:
    return _evaluate_data_events(facts, "read")


def evaluate_data_write(facts: Mapping[str, Any]) -> list[Verdict]:
    return _evaluate_data_events(facts, "write")


def evaluate_management_bucket(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, region = facts["bucket"], facts["bucket_region"]
    for t in facts.get("trails") or []:
        if _logging(t) and _covers_region(t, region) and management_events_recorded(t.get("Selectors", {})):
            return [Verdict(Status.PASS, f"{_trail_label(t)} records management events in {region}, where bucket {bucket} lives (policy, ACL and logging changes).")]
    return [Verdict(Status.FAIL, f"No logging trail records management events in {region}, so changes to bucket {bucket}'s policy, ACL or logging are not kept beyond 90 days of Event history.")]


def evaluate_cloudwatch_logs(facts: Mapping[str, Any]) -> list[Verdict]:
    all_trails = facts.get("trails") or []
    failures = []
    for t in all_trails:
        group = t.get("CloudWatchLogsLogGroupArn")
        status = t.get("Status", {})
        if group and _logging(t) and not status.get("LatestCloudWatchLogsDeliveryError"):
            return [Verdict(Status.PASS, f"{_trail_label(t)} delivers events to CloudWatch Logs group {group.split(':log-group:')[-1].rstrip(':*')}.", t.get("TrailARN"))]
        if group and status.get("LatestCloudWatchLogsDeliveryError"):
            failures.append(f"{_trail_label(t)} has a delivery error: {status['LatestCloudWatchLogsDeliveryError']}")
        elif group:
            failures.append(f"{_trail_label(t)} is not logging")
    if not all_trails:
        return [Verdict(Status.FAIL, "No CloudTrail trail exists, so nothing reaches CloudWatch Logs.")]
    detail = f" ({'; '.join(failures)})" if failures else ""
    return [Verdict(Status.FAIL, f"No trail delivers events to CloudWatch Logs{detail}: metric filters and alarms on API activity cannot work.")]


#: The calls ``trails()`` makes (other modules' checks built on it declare them too).
TRAIL_CALLS = (("cloudtrail", "DescribeTrails"), ("cloudtrail", "GetTrailStatus"), ("cloudtrail", "GetEventSelectors"))
_BUCKET_TRAIL_CALLS = (*TRAIL_CALLS, ("s3", "GetBucketLocation"))

CHECKS: tuple[Check, ...] = (
    Check(
        id="cloudtrail_multi_region_logging",
        title="A multi-region CloudTrail trail is logging management events.",
        severity="high",
        rationale="Event history keeps 90 days of management events in one region; a logging multi-region trail keeps them in S3 for as long as needed, from every region an attacker might use.",
        remediation="Make a trail multi-region (UpdateTrail IsMultiRegionTrail=true) and start logging (StartLogging).",
        references=(f"{DOC}/cloudtrail-create-and-update-a-trail.html",),
        scope="account",
        calls=TRAIL_CALLS,
        collect=collect_trails,
        evaluate=evaluate_multi_region,
    ),
    Check(
        id="cloudtrail_log_file_validation",
        title="CloudTrail log file validation is enabled.",
        severity="medium",
        rationale="Digest files let you prove that the log files used as evidence were not modified or deleted after delivery.",
        remediation="Enable log file validation on the trail (UpdateTrail EnableLogFileValidation=true).",
        references=(f"{DOC}/cloudtrail-log-file-validation-intro.html",),
        scope="account",
        calls=TRAIL_CALLS,
        collect=collect_trails,
        evaluate=evaluate_log_validation,
    ),
    Check(
        id="cloudtrail_management_events_bucket",
        title="A logging trail records management events in the bucket's region.",
        severity="high",
        rationale="Who changed the bucket policy, ACL or logging is answered only by CloudTrail management events.",
        remediation="Create or update a trail that logs management events (multi-region, or homed in the bucket's region).",
        references=(f"{DOC}/logging-management-events-with-cloudtrail.html",),
        scope="bucket",
        calls=_BUCKET_TRAIL_CALLS,
        collect=collect_bucket_trails,
        evaluate=evaluate_management_bucket,
    ),
    Check(
        id="cloudtrail_s3_data_events_read",
        title="CloudTrail records S3 data-event reads (GetObject) for the bucket.",
        severity="high",
        rationale="Data-event reads name the IAM principal, access key and source IP of each GetObject: the answer to 'who read this object?' for signed requests.",
        remediation="Add a data-event selector for AWS::S3::Object reads of the bucket (PutEventSelectors; advanced selector with readOnly=true, or classic ReadWriteType=All).",
        references=(f"{DOC}/logging-data-events-with-cloudtrail.html",),
        scope="bucket",
        calls=_BUCKET_TRAIL_CALLS,
        collect=collect_bucket_trails,
        evaluate=evaluate_data_read,
    ),
    Check(
        id="cloudtrail_s3_data_events_write",
        title="CloudTrail records S3 data-event writes (PutObject, DeleteObject) for the bucket.",
        severity="high",
        rationale="Data-event writes show who replaced or deleted site files, with principal and source IP.",
        remediation="Add a data-event selector for AWS::S3::Object writes of the bucket (PutEventSelectors; advanced selector with readOnly=false, or classic ReadWriteType=All).",
        references=(f"{DOC}/logging-data-events-with-cloudtrail.html",),
        scope="bucket",
        calls=_BUCKET_TRAIL_CALLS,
        collect=collect_bucket_trails,
        evaluate=evaluate_data_write,
    ),
    Check(
        id="cloudtrail_cloudwatch_logs_delivery",
        title="A logging trail delivers its events to CloudWatch Logs.",
        severity="medium",
        rationale="Metric filters and alarms on API activity (a bucket made public, logging turned off) need the trail's events in CloudWatch Logs.",
        remediation="Give the trail a CloudWatch Logs group and delivery role (UpdateTrail CloudWatchLogsLogGroupArn, CloudWatchLogsRoleArn).",
        references=(f"{DOC}/send-cloudtrail-events-to-cloudwatch-logs.html",),
        scope="account",
        calls=TRAIL_CALLS,
        collect=collect_trails,
        evaluate=evaluate_cloudwatch_logs,
    ),
)

__all__ = ["CHECKS", "CheckUnavailable", "data_event_coverage", "management_events_recorded", "trails"]
