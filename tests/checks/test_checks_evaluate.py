"""Pure ``evaluate`` tests on facts shaped as AWS documents its responses.

Each check has a PASS, a FAIL and a near miss (a case that looks right at a glance but is
not, or looks wrong but is fine). Where moto does not behave like AWS, the case is marked
with the gap it covers:

* MOTO-GAP-METRICS: moto accepts PutBucketMetricsConfiguration but does not store it.
* MOTO-GAP-BPA: moto stores Block Public Access but does not enforce it (RestrictPublicBuckets,
  IgnorePublicAcls have no effect on policy status or ACL reads).
* MOTO-GAP-TA: moto's DescribeTrustedAdvisorCheckResult returns HTTP 500.
* MOTO-GAP-CT-STATUS: moto's GetTrailStatus never reports CloudWatch Logs delivery errors.
* MOTO-GAP-SELECTORS: shapes of advanced selectors moto stores but never evaluates.
"""

from __future__ import annotations

from typing import Any

import pytest

from s3forensics.checks import CHECKS, get_check
from s3forensics.checks.base import Status

ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
B = "s3f-demo-site"
TOPIC = "arn:aws:sns:us-east-1:111122223333:alerts"


def trail(**kw: Any) -> dict[str, Any]:
    base = {
        "Name": "t",
        "TrailARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
        "HomeRegion": "us-east-1",
        "IsMultiRegionTrail": True,
        "LogFileValidationEnabled": True,
        "Status": {"IsLogging": True},
        "Selectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}], "AdvancedEventSelectors": []},
    }
    base.update(kw)
    return base


def classic(rw: str, *values: str) -> dict[str, Any]:
    return {"EventSelectors": [{"ReadWriteType": rw, "IncludeManagementEvents": True, "DataResources": [{"Type": "AWS::S3::Object", "Values": list(values)}]}], "AdvancedEventSelectors": []}


def advanced(*fields: dict[str, Any]) -> dict[str, Any]:
    base = [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]
    return {"EventSelectors": [], "AdvancedEventSelectors": [{"Name": "s3", "FieldSelectors": base + list(fields)}]}


def alarm(name: str = "a", bucket: str = B, actions: list[str] | None = None, enabled: bool = True, metric: str = "GetRequests") -> dict[str, Any]:
    return {
        "AlarmName": name,
        "ActionsEnabled": enabled,
        "AlarmActions": [TOPIC] if actions is None else actions,
        "Namespace": "AWS/S3",
        "MetricName": metric,
        "Dimensions": [{"Name": "BucketName", "Value": bucket}, {"Name": "FilterId", "Value": "EntireBucket"}],
    }


def bucket_ct(trails: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bucket": B, "bucket_region": "us-east-1", "trails": trails}


CASES: list[tuple[str, str, dict[str, Any], Status, str]] = [
    # s3_access_logging_enabled
    ("s3_access_logging_enabled", "pass", {"bucket": B, "logging": {"TargetBucket": "logs", "TargetPrefix": "p/"}, "target_exists": True}, Status.PASS, "s3://logs/p/"),
    ("s3_access_logging_enabled", "fail", {"bucket": B, "logging": None, "target_exists": None}, Status.FAIL, "off"),
    ("s3_access_logging_enabled", "near-target-deleted", {"bucket": B, "logging": {"TargetBucket": "gone", "TargetPrefix": ""}, "target_exists": False}, Status.FAIL, "does not exist"),
    # s3_access_logging_target_protected
    ("s3_access_logging_target_protected", "pass", {"bucket": B, "target": "logs", "target_policy_public": False, "target_public_grants": [], "target_pab": ALL, "account_pab": None}, Status.PASS, "logs"),
    ("s3_access_logging_target_protected", "fail-self", {"bucket": B, "target": B}, Status.FAIL, "into itself"),
    ("s3_access_logging_target_protected", "fail-public-acl", {"bucket": B, "target": "logs", "target_policy_public": None, "target_public_grants": [{"group": "everyone (AllUsers)", "permission": "READ"}], "target_pab": None, "account_pab": None}, Status.FAIL, "AllUsers"),
    # MOTO-GAP-BPA: a public policy neutralised by RestrictPublicBuckets is not public.
    ("s3_access_logging_target_protected", "near-restricted", {"bucket": B, "target": "logs", "target_policy_public": True, "target_public_grants": [], "target_pab": {**ALL, "BlockPublicPolicy": False}, "account_pab": None}, Status.PASS, "not public"),
    ("s3_access_logging_target_protected", "no-logging", {"bucket": B, "target": None}, Status.UNKNOWN, "no access logging"),
    # s3_block_public_access_account
    ("s3_block_public_access_account", "pass", {"account": "111122223333", "flags": ALL}, Status.PASS, "account 111122223333"),
    ("s3_block_public_access_account", "fail", {"account": "111122223333", "flags": None}, Status.FAIL, "not configured"),
    ("s3_block_public_access_account", "near-three-of-four", {"account": "111122223333", "flags": {**ALL, "RestrictPublicBuckets": False}}, Status.FAIL, "RestrictPublicBuckets"),
    # s3_block_public_access_bucket
    ("s3_block_public_access_bucket", "pass", {"bucket": B, "flags": ALL, "account_flags": None}, Status.PASS, B),
    ("s3_block_public_access_bucket", "fail", {"bucket": B, "flags": None, "account_flags": None}, Status.FAIL, B),
    ("s3_block_public_access_bucket", "near-account-covers", {"bucket": B, "flags": None, "account_flags": ALL}, Status.PASS, "account"),
    ("s3_block_public_access_bucket", "near-account-partial", {"bucket": B, "flags": None, "account_flags": {**ALL, "BlockPublicPolicy": False}}, Status.FAIL, "not configured"),
    # s3_bucket_policy_not_public
    ("s3_bucket_policy_not_public", "pass-none", {"bucket": B, "is_public": None, "policy": None, "pab": None, "account_pab": None}, Status.PASS, "no bucket policy"),
    ("s3_bucket_policy_not_public", "fail", {"bucket": B, "is_public": True, "policy": '{"Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::x/*"}]}', "pab": None, "account_pab": None}, Status.FAIL, "Open"),
    ("s3_bucket_policy_not_public", "near-service-principal", {"bucket": B, "is_public": False, "policy": None, "pab": None, "account_pab": None}, Status.PASS, "IsPublic=false"),
    ("s3_bucket_policy_not_public", "near-restricted", {"bucket": B, "is_public": True, "policy": None, "pab": None, "account_pab": {"RestrictPublicBuckets": True}}, Status.PASS, "RestrictPublicBuckets"),  # MOTO-GAP-BPA
    # s3_bucket_acl_not_public
    ("s3_bucket_acl_not_public", "pass", {"bucket": B, "public_grants": [], "pab": None, "account_pab": None}, Status.PASS, B),
    ("s3_bucket_acl_not_public", "fail", {"bucket": B, "public_grants": [{"group": "any AWS account (AuthenticatedUsers)", "permission": "WRITE"}], "pab": None, "account_pab": None}, Status.FAIL, "AuthenticatedUsers"),
    ("s3_bucket_acl_not_public", "near-ignored", {"bucket": B, "public_grants": [{"group": "everyone (AllUsers)", "permission": "READ"}], "pab": {"IgnorePublicAcls": True}, "account_pab": None}, Status.PASS, "IgnorePublicAcls"),  # MOTO-GAP-BPA
    # s3_bucket_versioning_enabled
    ("s3_bucket_versioning_enabled", "pass", {"bucket": B, "status": "Enabled"}, Status.PASS, B),
    ("s3_bucket_versioning_enabled", "fail", {"bucket": B, "status": None}, Status.FAIL, "never"),
    ("s3_bucket_versioning_enabled", "near-suspended", {"bucket": B, "status": "Suspended"}, Status.FAIL, "suspended"),
    # cloudtrail_multi_region_logging
    ("cloudtrail_multi_region_logging", "pass", {"region": "us-east-1", "trails": [trail()]}, Status.PASS, "multi-region"),
    ("cloudtrail_multi_region_logging", "fail-none", {"region": "us-east-1", "trails": []}, Status.FAIL, "No CloudTrail trail"),
    ("cloudtrail_multi_region_logging", "near-stopped", {"region": "us-east-1", "trails": [trail(Status={"IsLogging": False})]}, Status.FAIL, "not logging"),
    ("cloudtrail_multi_region_logging", "near-data-only", {"region": "us-east-1", "trails": [trail(Selectors=advanced({"Field": "readOnly", "Equals": ["true"]}))]}, Status.FAIL, "no write management events"),
    # cloudtrail_log_file_validation
    ("cloudtrail_log_file_validation", "pass", {"trails": [trail()]}, Status.PASS, "digest"),
    ("cloudtrail_log_file_validation", "fail", {"trails": [trail(LogFileValidationEnabled=False)]}, Status.FAIL, "validation off"),
    ("cloudtrail_log_file_validation", "near-no-trail", {"trails": []}, Status.FAIL, "No CloudTrail trail"),
    # cloudtrail_management_events_bucket
    ("cloudtrail_management_events_bucket", "pass", bucket_ct([trail(IsMultiRegionTrail=False)]), Status.PASS, "us-east-1"),
    ("cloudtrail_management_events_bucket", "fail", bucket_ct([]), Status.FAIL, B),
    ("cloudtrail_management_events_bucket", "near-other-region", bucket_ct([trail(IsMultiRegionTrail=False, HomeRegion="eu-west-1")]), Status.FAIL, "us-east-1"),
    # cloudtrail_s3_data_events_read (classic and advanced)
    ("cloudtrail_s3_data_events_read", "pass-classic-all", bucket_ct([trail(Selectors=classic("All", f"arn:aws:s3:::{B}/"))]), Status.PASS, B),
    ("cloudtrail_s3_data_events_read", "pass-classic-every-bucket", bucket_ct([trail(Selectors=classic("ReadOnly", "arn:aws:s3"))]), Status.PASS, B),
    ("cloudtrail_s3_data_events_read", "pass-advanced", bucket_ct([trail(Selectors=advanced({"Field": "readOnly", "Equals": ["true"]}, {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{B}/"]}))]), Status.PASS, B),
    ("cloudtrail_s3_data_events_read", "fail-none", bucket_ct([trail()]), Status.FAIL, B),
    ("cloudtrail_s3_data_events_read", "near-write-only-classic", bucket_ct([trail(Selectors=classic("WriteOnly", f"arn:aws:s3:::{B}/"))]), Status.FAIL, B),
    ("cloudtrail_s3_data_events_read", "near-write-only-advanced", bucket_ct([trail(Selectors=advanced({"Field": "readOnly", "Equals": ["false"]}))]), Status.FAIL, B),
    ("cloudtrail_s3_data_events_read", "near-prefix-only", bucket_ct([trail(Selectors=advanced({"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{B}/exports/"]}))]), Status.FAIL, "only some"),
    ("cloudtrail_s3_data_events_read", "near-other-bucket", bucket_ct([trail(Selectors=classic("All", "arn:aws:s3:::s3f-demo-site-old/"))]), Status.FAIL, B),
    ("cloudtrail_s3_data_events_read", "near-excluded", bucket_ct([trail(Selectors=advanced({"Field": "resources.ARN", "NotStartsWith": [f"arn:aws:s3:::{B}/"]}))]), Status.FAIL, B),  # MOTO-GAP-SELECTORS
    ("cloudtrail_s3_data_events_read", "near-eventname-put-only", bucket_ct([trail(Selectors=advanced({"Field": "eventName", "Equals": ["PutObject"]}))]), Status.FAIL, B),  # MOTO-GAP-SELECTORS
    ("cloudtrail_s3_data_events_read", "near-trail-stopped", bucket_ct([trail(Status={"IsLogging": False}, Selectors=classic("All", "arn:aws:s3"))]), Status.FAIL, "not logging"),
    # cloudtrail_s3_data_events_write
    ("cloudtrail_s3_data_events_write", "pass-advanced-both", bucket_ct([trail(Selectors=advanced())]), Status.PASS, B),
    ("cloudtrail_s3_data_events_write", "fail", bucket_ct([trail()]), Status.FAIL, B),
    ("cloudtrail_s3_data_events_write", "near-read-only", bucket_ct([trail(Selectors=classic("ReadOnly", f"arn:aws:s3:::{B}/"))]), Status.FAIL, B),
    ("cloudtrail_s3_data_events_write", "near-put-without-delete", bucket_ct([trail(Selectors=advanced({"Field": "eventName", "Equals": ["PutObject"]}))]), Status.FAIL, "only some"),
    # cloudtrail_cloudwatch_logs_delivery
    ("cloudtrail_cloudwatch_logs_delivery", "pass", {"trails": [trail(CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:111122223333:log-group:ct:*")]}, Status.PASS, "ct"),
    ("cloudtrail_cloudwatch_logs_delivery", "fail", {"trails": [trail()]}, Status.FAIL, "No trail"),
    ("cloudtrail_cloudwatch_logs_delivery", "near-delivery-error", {"trails": [trail(CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:111122223333:log-group:ct:*", Status={"IsLogging": True, "LatestCloudWatchLogsDeliveryError": "AccessDenied"})]}, Status.FAIL, "delivery error"),  # MOTO-GAP-CT-STATUS
    # cloudwatch_s3_request_metrics_enabled (MOTO-GAP-METRICS: shapes from ListBucketMetricsConfigurations docs)
    ("cloudwatch_s3_request_metrics_enabled", "pass", {"bucket": B, "configurations": [{"Id": "EntireBucket"}]}, Status.PASS, "EntireBucket"),
    ("cloudwatch_s3_request_metrics_enabled", "fail", {"bucket": B, "configurations": []}, Status.FAIL, "no request metrics"),
    ("cloudwatch_s3_request_metrics_enabled", "near-filtered", {"bucket": B, "configurations": [{"Id": "Images", "Filter": {"Prefix": "img/"}}]}, Status.FAIL, "Images"),
    # cloudwatch_alarm_s3_get_requests
    ("cloudwatch_alarm_s3_get_requests", "pass", {"bucket": B, "alarms": [alarm()]}, Status.PASS, "a"),
    ("cloudwatch_alarm_s3_get_requests", "fail", {"bucket": B, "alarms": [alarm(bucket="other-bucket")]}, Status.FAIL, "No CloudWatch alarm"),
    ("cloudwatch_alarm_s3_get_requests", "near-no-action", {"bucket": B, "alarms": [alarm(actions=[])]}, Status.FAIL, "no enabled alarm action"),
    ("cloudwatch_alarm_s3_get_requests", "near-wrong-metric", {"bucket": B, "alarms": [alarm(metric="4xxErrors")]}, Status.FAIL, "No CloudWatch alarm"),
    # cloudwatch_metric_filter_bucket_policy_changes
    ("cloudwatch_metric_filter_bucket_policy_changes", "pass", {"groups": [{"log_group": "ct", "filters": [{"filterName": "bp", "filterPattern": "{ ($.eventSource = s3.amazonaws.com) && ($.eventName = PutBucketPolicy) }", "metricTransformations": [{"metricName": "BucketPolicyChanges", "metricNamespace": "CIS"}]}], "alarms": [{**alarm("bp-alarm"), "Namespace": "CIS", "MetricName": "BucketPolicyChanges", "Dimensions": []}]}]}, Status.PASS, "bp-alarm"),
    ("cloudwatch_metric_filter_bucket_policy_changes", "fail", {"groups": []}, Status.FAIL, "CloudWatch Logs"),
    ("cloudwatch_metric_filter_bucket_policy_changes", "near-filter-without-alarm", {"groups": [{"log_group": "ct", "filters": [{"filterName": "bp", "filterPattern": "{ $.eventName = PutBucketPolicy }", "metricTransformations": [{"metricName": "BucketPolicyChanges", "metricNamespace": "CIS"}]}], "alarms": []}]}, Status.FAIL, "no alarm"),
    ("cloudwatch_metric_filter_bucket_policy_changes", "near-other-event", {"groups": [{"log_group": "ct", "filters": [{"filterName": "acl", "filterPattern": "{ $.eventName = PutBucketPolicyStatusX }", "metricTransformations": []}], "alarms": []}]}, Status.FAIL, "no metric filter"),
    # cloudwatch_alarm_actions_notify
    ("cloudwatch_alarm_actions_notify", "pass", {"region": "us-east-1", "alarms": [alarm()], "topics": {TOPIC: [{"Protocol": "email", "SubscriptionArn": TOPIC + ":1"}]}}, Status.PASS, "1 confirmed"),
    ("cloudwatch_alarm_actions_notify", "fail-no-alarm", {"region": "us-east-1", "alarms": [], "topics": {}}, Status.FAIL, "No S3-related"),
    ("cloudwatch_alarm_actions_notify", "near-pending", {"region": "us-east-1", "alarms": [alarm()], "topics": {TOPIC: [{"Protocol": "email", "SubscriptionArn": "PendingConfirmation"}]}}, Status.FAIL, "unconfirmed"),
    ("cloudwatch_alarm_actions_notify", "near-topic-gone", {"region": "us-east-1", "alarms": [alarm()], "topics": {TOPIC: None}}, Status.FAIL, "does not exist"),
    # trusted_advisor_s3_permissions (MOTO-GAP-TA: shapes from DescribeTrustedAdvisorCheckResult docs)
    ("trusted_advisor_s3_permissions", "pass", {"status": "ok", "timestamp": "2026-11-20T00:00:00Z", "flagged": []}, Status.PASS, "no bucket"),
    ("trusted_advisor_s3_permissions", "fail", {"status": "warning", "flagged": [{"status": "warning", "metadata": ["us-east-1", "us-east-1", "s3f-demo-archive", "No", "No", "Yellow", "Yes"], "suppressed": False}]}, Status.FAIL, "s3f-demo-archive"),
    ("trusted_advisor_s3_permissions", "near-suppressed", {"status": "warning", "flagged": [{"status": "warning", "metadata": ["us-east-1", "us-east-1", "s3f-demo-site"], "suppressed": True}]}, Status.PASS, "no bucket"),
    ("trusted_advisor_s3_permissions", "not-available", {"status": "not_available", "flagged": []}, Status.UNKNOWN, "no result"),
    # athena_workgroup_ready
    ("athena_workgroup_ready", "pass", {"name": "ir", "exists": True, "state": "ENABLED", "configuration": {"ResultConfiguration": {"OutputLocation": "s3://r/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}, "BytesScannedCutoffPerQuery": 10 * 1024**3}}, Status.PASS, "10.0 GiB"),
    ("athena_workgroup_ready", "fail-missing", {"name": "ir", "exists": False}, Status.FAIL, "does not exist"),
    ("athena_workgroup_ready", "near-no-limit", {"name": "ir", "exists": True, "state": "ENABLED", "configuration": {"ResultConfiguration": {"OutputLocation": "s3://r/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}}}, Status.FAIL, "bytes-scanned"),
    # guardduty_s3_protection_enabled
    ("guardduty_s3_protection_enabled", "pass", {"region": "us-east-1", "detectors": [{"id": "d1", "status": "ENABLED", "features": {"S3_DATA_EVENTS": "ENABLED"}, "s3_logs": "DISABLED"}]}, Status.PASS, "d1"),
    ("guardduty_s3_protection_enabled", "fail", {"region": "us-east-1", "detectors": []}, Status.FAIL, "not enabled"),
    ("guardduty_s3_protection_enabled", "near-s3-off", {"region": "us-east-1", "detectors": [{"id": "d1", "status": "ENABLED", "features": {"S3_DATA_EVENTS": "DISABLED"}, "s3_logs": "ENABLED"}]}, Status.FAIL, "S3 Protection"),
]


@pytest.mark.parametrize(("check_id", "facts", "expected", "needle"), [c[0:1] + c[2:] for c in CASES], ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_evaluate(check_id: str, facts: dict[str, Any], expected: Status, needle: str) -> None:
    verdicts = get_check(check_id).evaluate(facts)
    assert verdicts, "evaluate must return at least one verdict"
    assert verdicts[0].status is expected, verdicts[0].message
    assert needle in verdicts[0].message


def test_every_check_has_pass_fail_and_near_miss() -> None:
    for check in CHECKS:
        kinds = [c[1] for c in CASES if c[0] == check.id]
        statuses = {c[3] for c in CASES if c[0] == check.id}
        assert Status.PASS in statuses and Status.FAIL in statuses, check.id
        assert len(kinds) >= 3, f"{check.id} needs a near miss"


def test_evaluate_is_pure_does_not_mutate_facts() -> None:
    import copy

    for check_id, _, facts, _, _ in CASES:
        before = copy.deepcopy(facts)
        get_check(check_id).evaluate(facts)
        assert facts == before, check_id


REQUIRED_IDS = {
    "s3_access_logging_enabled", "s3_access_logging_target_protected", "s3_block_public_access_account",
    "s3_block_public_access_bucket", "s3_bucket_policy_not_public", "s3_bucket_acl_not_public",
    "s3_bucket_versioning_enabled", "cloudtrail_multi_region_logging", "cloudtrail_log_file_validation",
    "cloudtrail_s3_data_events_read", "cloudtrail_s3_data_events_write", "cloudtrail_cloudwatch_logs_delivery",
    "cloudwatch_s3_request_metrics_enabled", "cloudwatch_alarm_s3_get_requests",
    "cloudwatch_metric_filter_bucket_policy_changes", "cloudwatch_alarm_actions_notify",
    "trusted_advisor_s3_permissions", "athena_workgroup_ready", "guardduty_s3_protection_enabled",
}


def test_registry_has_required_ids_and_metadata() -> None:
    ids = [c.id for c in CHECKS]
    assert set(ids) >= REQUIRED_IDS
    assert len(ids) == len(set(ids))
    for check in CHECKS:
        assert check.title.endswith(".") and check.rationale and check.remediation
        assert check.references and all(r.startswith("https://docs.aws.amazon.com/") for r in check.references)
        assert check.calls and check.permissions
