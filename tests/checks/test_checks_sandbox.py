"""``collect`` + ``evaluate`` against the sandbox (moto server on loopback).

The demo account fails some checks on purpose (see ``seed_demo_account``); the first test
pins those gaps so the setup notebook always has something real to show. The others
change the account (``fresh_sandbox``) to get a PASS and a near miss per check where moto
stores the state; see test_checks_evaluate.py for the gaps moto cannot show.
"""

from __future__ import annotations

import json

import pytest

from s3forensics.checks import CHECKS, get_check, run_checks
from s3forensics.checks.base import Context, Status
from s3forensics.lab import sandbox as sb
from s3forensics.lab.demo import world

pytestmark = pytest.mark.sandbox


_SESSION: list[object] = []


def _ctx() -> Context:
    """A context on one shared boto3 session (client creation dominates run time)."""
    if not _SESSION:
        from s3forensics import aws

        _SESSION.append(aws.session())
    return Context(_SESSION[0], max_attempts=1)


def _status(results, check_id, resource=None):
    matches = [r for r in results if r.check_id == check_id and (resource is None or r.resource == resource)]
    assert matches, f"no result for {check_id} {resource}"
    return matches[0].status if len(matches) == 1 else {r.resource: r.status for r in matches}


def test_demo_account_gaps(fresh_sandbox: sb.SandboxState) -> None:
    """Exactly the demo account: reset first, since other modules on this worker add buckets."""
    ctx = _ctx()
    results = run_checks(context=ctx)
    buckets = {world.SITE_BUCKET, world.DATA_BUCKET, world.ARCHIVE_BUCKET, world.LOG_BUCKET, world.TRAIL_BUCKET}
    assert {r.resource for r in results if r.check_id == "s3_bucket_versioning_enabled"} == buckets
    # Every call a collect step made is declared, so the generated IAM policy is complete.
    declared = {call for check in CHECKS for call in check.calls} | {("s3", "ListBuckets")}
    assert set(ctx.calls) <= declared, set(ctx.calls) - declared
    s, site, data, archive = _status, world.SITE_BUCKET, world.DATA_BUCKET, world.ARCHIVE_BUCKET
    assert s(results, "s3_access_logging_enabled", site) is Status.PASS
    assert s(results, "s3_access_logging_enabled", archive) is Status.FAIL
    assert s(results, "s3_access_logging_target_protected", data) is Status.PASS
    assert s(results, "s3_block_public_access_account") is Status.FAIL
    assert s(results, "s3_block_public_access_bucket", data) is Status.PASS
    assert s(results, "s3_block_public_access_bucket", site) is Status.FAIL  # BlockPublicPolicy off
    assert s(results, "s3_bucket_policy_not_public", archive) is Status.FAIL
    assert s(results, "s3_bucket_policy_not_public", world.LOG_BUCKET) is Status.PASS  # service principal only
    assert s(results, "s3_bucket_acl_not_public", archive) is Status.FAIL  # public-read ACL
    assert s(results, "s3_bucket_acl_not_public", data) is Status.PASS
    assert s(results, "s3_bucket_versioning_enabled", data) is Status.FAIL
    assert s(results, "cloudtrail_multi_region_logging") is Status.FAIL
    assert s(results, "cloudtrail_log_file_validation") is Status.FAIL
    assert s(results, "cloudtrail_management_events_bucket", archive) is Status.PASS
    # The trail's selector is WriteOnly: writes recorded, reads not.
    assert s(results, "cloudtrail_s3_data_events_write", site) is Status.PASS
    assert s(results, "cloudtrail_s3_data_events_read", site) is Status.FAIL
    assert s(results, "cloudtrail_s3_data_events_write", archive) is Status.FAIL
    assert s(results, "cloudtrail_cloudwatch_logs_delivery") is Status.FAIL
    assert s(results, "cloudwatch_s3_request_metrics_enabled", site) is Status.FAIL
    # The site has a GetRequests alarm with an action, but the topic has no subscriber.
    assert s(results, "cloudwatch_alarm_s3_get_requests", site) is Status.PASS
    assert s(results, "cloudwatch_alarm_s3_get_requests", data) is Status.FAIL
    assert s(results, "cloudwatch_metric_filter_bucket_policy_changes") is Status.FAIL
    assert s(results, "cloudwatch_alarm_actions_notify") is Status.FAIL
    assert s(results, "athena_workgroup_ready") is Status.FAIL
    assert s(results, "guardduty_s3_protection_enabled") is Status.FAIL
    # moto's DescribeTrustedAdvisorCheckResult answers HTTP 500: UNKNOWN, with the reason.
    ta = next(r for r in results if r.check_id == "trusted_advisor_s3_permissions")
    assert ta.status is Status.UNKNOWN and "DescribeTrustedAdvisorCheckResult" in ta.message
    for r in results:
        assert r.resource and r.message
        assert (r.remediation == "") == (r.status is Status.PASS)


def test_s3_state_changes(fresh_sandbox: sb.SandboxState) -> None:
    s3 = sb.client(fresh_sandbox, "s3")
    arch = world.ARCHIVE_BUCKET
    s3.put_bucket_versioning(Bucket=arch, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_acl(Bucket=world.DATA_BUCKET, ACL="public-read")
    s3.delete_bucket_policy(Bucket=arch)
    s3.put_bucket_versioning(Bucket=world.DATA_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=world.DATA_BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_acl(Bucket=world.SITE_BUCKET, ACL="public-read")  # site blocks public ACLs
    s3.put_bucket_logging(Bucket=arch, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": world.LOG_BUCKET, "TargetPrefix": "s3-access/archive/"}})
    # Near miss for the log target: logs go to a separate bucket, which is then made public.
    policy = json.loads(s3.get_bucket_policy(Bucket=world.LOG_BUCKET)["Policy"])
    policy["Statement"].append({"Sid": "Oops", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{world.LOG_BUCKET}/*"})
    s3.put_bucket_policy(Bucket=world.LOG_BUCKET, Policy=json.dumps(policy))
    ids = ["s3_bucket_versioning_enabled", "s3_bucket_acl_not_public", "s3_bucket_policy_not_public", "s3_access_logging_enabled", "s3_access_logging_target_protected"]
    results = run_checks(buckets=[arch, world.DATA_BUCKET, world.SITE_BUCKET], ids=ids, context=_ctx())
    site_acl = next(r for r in results if r.check_id == "s3_bucket_acl_not_public" and r.resource == world.SITE_BUCKET)
    assert site_acl.status is Status.PASS and "IgnorePublicAcls" in site_acl.message
    assert _status(results, "s3_bucket_versioning_enabled", arch) is Status.PASS
    assert _status(results, "s3_bucket_versioning_enabled", world.DATA_BUCKET) is Status.FAIL  # near miss: suspended
    # public-read ACL on a bucket whose IgnorePublicAcls is on is ignored by S3: near miss, PASS.
    assert _status(results, "s3_bucket_acl_not_public", world.DATA_BUCKET) is Status.PASS
    assert _status(results, "s3_bucket_policy_not_public", arch) is Status.PASS
    assert _status(results, "s3_access_logging_enabled", arch) is Status.PASS
    target = next(r for r in results if r.check_id == "s3_access_logging_target_protected" and r.resource == arch)
    assert target.status is Status.FAIL and world.LOG_BUCKET in target.message and "policy is public" in target.message


def test_account_block_public_access_via_s3control(fresh_sandbox: sb.SandboxState) -> None:
    check = get_check("s3_block_public_access_account")
    ctx = _ctx()
    ctx.client("s3control").put_public_access_block(
        AccountId=world.ACCOUNT_ID,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": False},
    )
    near = check.evaluate(check.collect(_ctx(), None))[0]
    assert near.status is Status.FAIL and "RestrictPublicBuckets" in near.message
    ctx.client("s3control").put_public_access_block(
        AccountId=world.ACCOUNT_ID,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
    results = run_checks(buckets=[world.SITE_BUCKET], ids=["s3_block_public_access_account", "s3_block_public_access_bucket"], context=_ctx())
    assert all(r.status is Status.PASS for r in results), results


def test_cloudtrail_state_changes(fresh_sandbox: sb.SandboxState) -> None:
    ct = sb.client(fresh_sandbox, "cloudtrail")
    logs = sb.client(fresh_sandbox, "logs")
    logs.create_log_group(logGroupName="ct")
    ct.update_trail(
        Name=world.TRAIL_NAME,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{world.ACCOUNT_ID}:log-group:ct:*",
        CloudWatchLogsRoleArn=world.role_arn(world.DEPLOY_ROLE),
    )
    # Advanced selectors: reads of the archive, every key; reads of the data bucket's exports/ only.
    ct.put_event_selectors(
        TrailName=world.TRAIL_NAME,
        AdvancedEventSelectors=[
            {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {
                "Name": "reads",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                    {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{world.ARCHIVE_BUCKET}/", f"arn:aws:s3:::{world.DATA_BUCKET}/exports/"]},
                ],
            },
        ],
    )
    ids = ["cloudtrail_multi_region_logging", "cloudtrail_log_file_validation", "cloudtrail_cloudwatch_logs_delivery", "cloudtrail_s3_data_events_read", "cloudtrail_s3_data_events_write", "cloudtrail_management_events_bucket"]
    results = run_checks(buckets=[world.ARCHIVE_BUCKET, world.DATA_BUCKET], ids=ids, context=_ctx())
    for check_id in ids[:3]:
        assert _status(results, check_id) is Status.PASS, check_id
    assert _status(results, "cloudtrail_s3_data_events_read", world.ARCHIVE_BUCKET) is Status.PASS
    assert _status(results, "cloudtrail_s3_data_events_read", world.DATA_BUCKET) is Status.FAIL  # prefix only
    assert _status(results, "cloudtrail_s3_data_events_write", world.ARCHIVE_BUCKET) is Status.FAIL  # read-only selector
    assert _status(results, "cloudtrail_management_events_bucket", world.DATA_BUCKET) is Status.PASS
    ct.stop_logging(Name=world.TRAIL_NAME)
    stopped = run_checks(buckets=[world.ARCHIVE_BUCKET], ids=["cloudtrail_multi_region_logging", "cloudtrail_s3_data_events_read"], context=_ctx())
    assert all(r.status is Status.FAIL for r in stopped)


def test_cloudwatch_alarm_and_notification(fresh_sandbox: sb.SandboxState) -> None:
    cw = sb.client(fresh_sandbox, "cloudwatch")
    sns = sb.client(fresh_sandbox, "sns")
    topic = sns.create_topic(Name="s3f-demo-alerts")["TopicArn"]
    common = dict(Namespace="AWS/S3", MetricName="GetRequests", Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1000.0, ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(AlarmName="site-get-flood", Dimensions=[{"Name": "BucketName", "Value": world.SITE_BUCKET}, {"Name": "FilterId", "Value": "EntireBucket"}], AlarmActions=[topic], **common)
    cw.put_metric_alarm(AlarmName="data-get-flood", Dimensions=[{"Name": "BucketName", "Value": world.DATA_BUCKET}, {"Name": "FilterId", "Value": "EntireBucket"}], **common)
    ids = ["cloudwatch_alarm_s3_get_requests", "cloudwatch_alarm_actions_notify"]
    results = run_checks(buckets=[world.SITE_BUCKET, world.DATA_BUCKET, world.ARCHIVE_BUCKET], ids=ids, context=_ctx())
    assert _status(results, "cloudwatch_alarm_s3_get_requests", world.SITE_BUCKET) is Status.PASS
    assert _status(results, "cloudwatch_alarm_s3_get_requests", world.DATA_BUCKET) is Status.FAIL  # near miss: no action
    assert _status(results, "cloudwatch_alarm_s3_get_requests", world.ARCHIVE_BUCKET) is Status.FAIL
    # The demo topic has no subscription: the site alarm reaches nobody.
    assert _status(results, "cloudwatch_alarm_actions_notify", "alarm site-get-flood") is Status.FAIL
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{world.ACCOUNT_ID}:oncall")
    results = run_checks(ids=["cloudwatch_alarm_actions_notify"], context=_ctx())
    assert _status(results, "cloudwatch_alarm_actions_notify", "alarm site-get-flood") is Status.PASS
    assert _status(results, "cloudwatch_alarm_actions_notify", "alarm data-get-flood") is Status.FAIL
    ct, logs = (sb.client(fresh_sandbox, s) for s in ("cloudtrail", "logs"))
    logs.create_log_group(logGroupName="ct")
    ct.update_trail(Name=world.TRAIL_NAME, CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{world.ACCOUNT_ID}:log-group:ct:*", CloudWatchLogsRoleArn=world.role_arn(world.DEPLOY_ROLE))
    logs.put_metric_filter(
        logGroupName="ct",
        filterName="s3-policy",
        filterPattern="{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketPolicy) || ($.eventName = DeleteBucketPolicy)) }",
        metricTransformations=[{"metricName": "S3BucketPolicyChanges", "metricNamespace": "CISBenchmark", "metricValue": "1"}],
    )
    check = get_check("cloudwatch_metric_filter_bucket_policy_changes")
    near = check.evaluate(check.collect(_ctx(), None))[0]
    assert near.status is Status.FAIL and "s3-policy" in near.message  # filter, but no alarm yet
    cw.put_metric_alarm(AlarmName="policy-changed", Namespace="CISBenchmark", MetricName="S3BucketPolicyChanges", Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[f"arn:aws:sns:us-east-1:{world.ACCOUNT_ID}:s3f-demo-alerts"])
    good = check.evaluate(check.collect(_ctx(), None))[0]
    assert good.status is Status.PASS and "policy-changed" in good.message




def test_athena_and_guardduty(fresh_sandbox: sb.SandboxState, monkeypatch: pytest.MonkeyPatch) -> None:
    athena, gd = sb.client(fresh_sandbox, "athena"), sb.client(fresh_sandbox, "guardduty")
    athena.create_work_group(Name="ir", Configuration={"ResultConfiguration": {"OutputLocation": "s3://s3f-demo-logs/athena/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}, "BytesScannedCutoffPerQuery": 10 * 1024**3})
    athena.create_work_group(Name="nolimit", Configuration={"ResultConfiguration": {"OutputLocation": "s3://s3f-demo-logs/athena/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}})
    monkeypatch.setenv("S3FORENSICS_ATHENA_WORKGROUP", "ir")
    assert _status(run_checks(ids=["athena_workgroup_ready"], context=_ctx()), "athena_workgroup_ready") is Status.PASS
    monkeypatch.setenv("S3FORENSICS_ATHENA_WORKGROUP", "nolimit")
    assert _status(run_checks(ids=["athena_workgroup_ready"], context=_ctx()), "athena_workgroup_ready") is Status.FAIL
    detector = gd.create_detector(Enable=True, Features=[{"Name": "S3_DATA_EVENTS", "Status": "DISABLED"}])["DetectorId"]
    near = run_checks(ids=["guardduty_s3_protection_enabled"], context=_ctx())[0]
    assert near.status is Status.FAIL and detector in near.message
    gd.update_detector(DetectorId=detector, Features=[{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}])
    assert run_checks(ids=["guardduty_s3_protection_enabled"], context=_ctx())[0].status is Status.PASS


def test_json_contract_from_cli(sandbox: sb.SandboxState, capsys: pytest.CaptureFixture[str]) -> None:
    from s3forensics.cli import main

    assert main(["check", "--bucket", world.SITE_BUCKET, "--format", "json", "--check", "s3_bucket_versioning_enabled", "--check", "s3_access_logging_enabled"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"check_id", "resource", "status", "severity", "message", "remediation"}] * 2
    assert {(r["check_id"], r["status"]) for r in rows} == {("s3_bucket_versioning_enabled", "FAIL"), ("s3_access_logging_enabled", "PASS")}
    assert main(["check", "--bucket", world.SITE_BUCKET, "--check", "s3_bucket_versioning_enabled", "--fail-on", "FAIL", "--format", "json"]) == 3
