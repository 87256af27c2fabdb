"""CloudWatch checks: S3 request metrics, a GetRequests alarm, a bucket-policy-change
metric filter with an alarm, and alarm actions that reach a confirmed SNS subscription."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from s3forensics.aws import error_code
from s3forensics.checks.base import Check, Context, Status, Verdict
from s3forensics.checks.cloudtrail import TRAIL_CALLS, trails

DOC_S3 = "https://docs.aws.amazon.com/AmazonS3/latest/userguide"
DOC_CW = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring"
#: API calls that change who can reach a bucket; the filter must at least catch the first.
POLICY_EVENTS = ("PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketPublicAccessBlock")


def alarms(ctx: Context, region: str | None = None) -> list[dict[str, Any]]:
    """Every metric alarm in ``region`` (DescribeAlarms, all pages)."""
    region = region or ctx.region
    return ctx.cached(
        ("alarms", region),
        lambda: ctx.paginate("cloudwatch", "describe_alarms", "MetricAlarms", region=region, AlarmTypes=["MetricAlarm"]),
    )


def _alarm_metrics(alarm: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``{Namespace, MetricName, Dimensions}`` for a plain or metric-math alarm."""
    if alarm.get("MetricName"):
        return [{"Namespace": alarm.get("Namespace"), "MetricName": alarm["MetricName"], "Dimensions": alarm.get("Dimensions") or []}]
    out = []
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric")
        if metric:
            out.append({"Namespace": metric.get("Namespace"), "MetricName": metric.get("MetricName"), "Dimensions": metric.get("Dimensions") or []})
    return out


def _notifies(alarm: Mapping[str, Any]) -> bool:
    return bool(alarm.get("ActionsEnabled", True)) and bool(alarm.get("AlarmActions"))


# -- cloudwatch_s3_request_metrics_enabled --------------------------------------------------

def collect_request_metrics(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    configs = ctx.paginate("s3", "list_bucket_metrics_configurations", "MetricsConfigurationList", Bucket=bucket)
    return {"bucket": bucket, "configurations": configs}


def evaluate_request_metrics(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, configs = facts["bucket"], facts.get("configurations") or []
    whole = [c for c in configs if not c.get("Filter")]
    if whole:
        return [Verdict(Status.PASS, f"Bucket {bucket} publishes request metrics for the whole bucket (filter {whole[0].get('Id')}).")]
    if configs:
        ids = ", ".join(str(c.get("Id")) for c in configs)
        return [Verdict(Status.FAIL, f"Bucket {bucket} publishes request metrics only for filtered subsets ({ids}): a flood on other keys would go unseen.")]
    return [Verdict(Status.FAIL, f"Bucket {bucket} publishes no request metrics: GetRequests and BytesDownloaded are not in CloudWatch, so no alarm can fire on a GET flood.")]


# -- cloudwatch_alarm_s3_get_requests ------------------------------------------------------

def collect_get_alarm(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    region = ctx.bucket_region(bucket)
    return {"bucket": bucket, "alarms": alarms(ctx, region)}


def get_request_alarms(all_alarms: list[Mapping[str, Any]], bucket: str) -> list[Mapping[str, Any]]:
    """Alarms watching ``AWS/S3`` ``GetRequests`` of ``bucket``."""
    found = []
    for alarm in all_alarms:
        for metric in _alarm_metrics(alarm):
            dims = {d.get("Name"): d.get("Value") for d in metric["Dimensions"]}
            if metric["Namespace"] == "AWS/S3" and metric["MetricName"] == "GetRequests" and dims.get("BucketName") == bucket:
                found.append(alarm)
                break
    return found


def evaluate_get_alarm(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket = facts["bucket"]
    watching = get_request_alarms(facts.get("alarms") or [], bucket)
    acting = [a for a in watching if _notifies(a)]
    if acting:
        return [Verdict(Status.PASS, f"Alarm {acting[0]['AlarmName']} watches GetRequests of bucket {bucket} and has an action.")]
    if watching:
        names = ", ".join(a["AlarmName"] for a in watching)
        return [Verdict(Status.FAIL, f"Alarm(s) {names} watch GetRequests of bucket {bucket} but have no enabled alarm action: nobody would be told.")]
    return [Verdict(Status.FAIL, f"No CloudWatch alarm watches GetRequests of bucket {bucket}: a GET flood would not be noticed.")]


# -- cloudwatch_metric_filter_bucket_policy_changes ------------------------------------------

def collect_policy_filters(ctx: Context, bucket: str | None) -> dict[str, Any]:
    groups = []
    for trail in trails(ctx):
        arn = trail.get("CloudWatchLogsLogGroupArn")
        if not arn:
            continue
        # arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*
        parts = arn.split(":")
        region, name = parts[3], arn.split(":log-group:", 1)[1].removesuffix(":*")
        filters = ctx.paginate("logs", "describe_metric_filters", "metricFilters", region=region, logGroupName=name)
        groups.append({"trail": trail.get("Name"), "log_group": name, "region": region, "filters": filters, "alarms": alarms(ctx, region)})
    return {"groups": groups}


def catches_policy_changes(pattern: str) -> bool:
    """Does a metric filter pattern match PutBucketPolicy events? (A plain-text test of
    the CIS-style JSON pattern: the event name must appear as a term.)"""
    return re.search(r"\bPutBucketPolicy\b", pattern or "") is not None


def evaluate_policy_filters(facts: Mapping[str, Any]) -> list[Verdict]:
    groups = facts.get("groups") or []
    if not groups:
        return [Verdict(Status.FAIL, "No trail delivers to CloudWatch Logs, so no metric filter can count bucket policy changes.")]
    near = []
    for group in groups:
        for flt in group.get("filters") or []:
            if not catches_policy_changes(flt.get("filterPattern", "")):
                continue
            for transform in flt.get("metricTransformations") or []:
                for alarm in group.get("alarms") or []:
                    for metric in _alarm_metrics(alarm):
                        if metric["MetricName"] == transform.get("metricName") and metric["Namespace"] == transform.get("metricNamespace"):
                            if _notifies(alarm):
                                return [Verdict(Status.PASS, f"Metric filter {flt['filterName']} on log group {group['log_group']} counts bucket policy changes and alarm {alarm['AlarmName']} acts on it.", f"log-group {group['log_group']}")]
                            near.append(f"alarm {alarm['AlarmName']} on filter {flt['filterName']} has no action")
            near.append(f"filter {flt['filterName']} on {group['log_group']} has no alarm with an action")
    detail = "; ".join(dict.fromkeys(near)) if near else "no metric filter matches PutBucketPolicy in " + ", ".join(g["log_group"] for g in groups)
    return [Verdict(Status.FAIL, f"Bucket policy changes would not raise an alarm ({detail}).")]


# -- cloudwatch_alarm_actions_notify ----------------------------------------------------------

def collect_alarm_actions(ctx: Context, bucket: str | None) -> dict[str, Any]:
    relevant = [a for a in alarms(ctx) if _is_s3_related(a)]
    topics: dict[str, Any] = {}
    for alarm in relevant:
        for action in alarm.get("AlarmActions") or []:
            if action.startswith("arn:aws:sns:") and action not in topics:
                region = action.split(":")[3]
                try:
                    subs = ctx.paginate("sns", "list_subscriptions_by_topic", "Subscriptions", region=region, TopicArn=action)
                except Exception as exc:
                    if error_code(exc) in {"NotFound", "NotFoundException"}:
                        topics[action] = None
                        continue
                    raise
                topics[action] = [{"Protocol": s.get("Protocol"), "SubscriptionArn": s.get("SubscriptionArn")} for s in subs]
    return {"region": ctx.region, "alarms": relevant, "topics": topics}


def _is_s3_related(alarm: Mapping[str, Any]) -> bool:
    metrics = _alarm_metrics(alarm)
    return any(m["Namespace"] == "AWS/S3" for m in metrics) or any(
        "s3" in (m.get("MetricName") or "").lower() or "bucket" in (m.get("MetricName") or "").lower() for m in metrics
    )


def _confirmed(subscriptions: list[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    return [s for s in subscriptions or [] if str(s.get("SubscriptionArn", "")).startswith("arn:")]


def evaluate_alarm_actions(facts: Mapping[str, Any]) -> list[Verdict]:
    relevant = facts.get("alarms") or []
    topics = facts.get("topics") or {}
    if not relevant:
        return [Verdict(Status.FAIL, f"No S3-related CloudWatch alarm exists in {facts.get('region')}, so no alarm can notify anyone.")]
    out = []
    for alarm in relevant:
        name = alarm["AlarmName"]
        sns_actions = [a for a in alarm.get("AlarmActions") or [] if a.startswith("arn:aws:sns:")]
        if not alarm.get("ActionsEnabled", True):
            out.append(Verdict(Status.FAIL, f"Alarm {name} has its actions disabled.", f"alarm {name}"))
            continue
        if not sns_actions:
            out.append(Verdict(Status.FAIL, f"Alarm {name} has no SNS action, so it notifies nobody.", f"alarm {name}"))
            continue
        reached = [t for t in sns_actions if _confirmed(topics.get(t))]
        if reached:
            subs = _confirmed(topics[reached[0]])
            out.append(Verdict(Status.PASS, f"Alarm {name} notifies SNS topic {reached[0].split(':')[-1]}, which has {len(subs)} confirmed subscription(s).", f"alarm {name}"))
            continue
        reasons = []
        for t in sns_actions:
            subs = topics.get(t)
            short = t.split(":")[-1]
            if subs is None:
                reasons.append(f"topic {short} does not exist")
            elif not subs:
                reasons.append(f"topic {short} has no subscription")
            else:
                reasons.append(f"topic {short} has only unconfirmed subscriptions")
        out.append(Verdict(Status.FAIL, f"Alarm {name} reaches nobody: {'; '.join(reasons)}.", f"alarm {name}"))
    return out


CHECKS: tuple[Check, ...] = (
    Check(
        id="cloudwatch_s3_request_metrics_enabled",
        title="S3 request metrics are published for the whole bucket.",
        severity="medium",
        rationale="Only request metrics (GetRequests, BytesDownloaded, 4xxErrors, per minute) show a GET flood or bulk download in near real time; the free daily storage metrics do not.",
        remediation="Create a bucket-wide request metrics configuration (PutBucketMetricsConfiguration Id=EntireBucket, no filter).",
        references=(f"{DOC_S3}/configure-request-metrics-bucket.html", f"{DOC_S3}/metrics-dimensions.html"),
        scope="bucket",
        calls=(("s3", "ListBucketMetricsConfigurations"),),
        collect=collect_request_metrics,
        evaluate=evaluate_request_metrics,
    ),
    Check(
        id="cloudwatch_alarm_s3_get_requests",
        title="A CloudWatch alarm with an action watches the bucket's GetRequests.",
        severity="medium",
        rationale="An alarm on GetRequests turns a scraping run, a GET flood or a bulk download into a notification instead of a line on next month's bill.",
        remediation="Create an alarm on AWS/S3 GetRequests (BucketName, FilterId=EntireBucket), Sum over 5 minutes above your normal peak, with an SNS action.",
        references=(f"{DOC_CW}/AlarmThatSendsEmail.html", f"{DOC_S3}/metrics-dimensions.html"),
        scope="bucket",
        calls=(("cloudwatch", "DescribeAlarms"), ("s3", "GetBucketLocation")),
        collect=collect_get_alarm,
        evaluate=evaluate_get_alarm,
    ),
    Check(
        id="cloudwatch_metric_filter_bucket_policy_changes",
        title="A metric filter counts bucket policy changes and an alarm acts on it.",
        severity="medium",
        rationale="A bucket made public is the start of most exposures; a metric filter on PutBucketPolicy with an alarm tells you within minutes (CIS AWS Foundations 4.8).",
        remediation="On the trail's CloudWatch Logs group, add a metric filter matching eventSource s3.amazonaws.com and PutBucketPolicy/DeleteBucketPolicy/PutBucketAcl, and an alarm on its metric with an SNS action.",
        references=(f"{DOC_CW}/MonitoringPolicyExamples.html", "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"),
        scope="account",
        calls=(*TRAIL_CALLS, ("logs", "DescribeMetricFilters"), ("cloudwatch", "DescribeAlarms")),
        collect=collect_policy_filters,
        evaluate=evaluate_policy_filters,
    ),
    Check(
        id="cloudwatch_alarm_actions_notify",
        title="S3 alarms notify an SNS topic with a confirmed subscription.",
        severity="medium",
        rationale="An alarm whose topic has no confirmed subscriber changes state silently; the first person to notice is the attacker.",
        remediation="Subscribe the on-call address or endpoint to the alarm's SNS topic and confirm the subscription.",
        references=("https://docs.aws.amazon.com/sns/latest/dg/sns-create-subscribe-endpoint-to-topic.html",),
        scope="account",
        calls=(("cloudwatch", "DescribeAlarms"), ("sns", "ListSubscriptionsByTopic")),
        collect=collect_alarm_actions,
        evaluate=evaluate_alarm_actions,
    ),
)
