"""Other containment on the sandbox: Block Public Access, revoke sessions, deactivate a key, WAF, notify."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from s3forensics.actions import audit
from s3forensics.actions.containment import plan_block_public_access, plan_deactivate_key, plan_revoke_sessions
from s3forensics.actions.notify import Notification, publish
from s3forensics.actions.resources import execute
from s3forensics.actions.rollback import rollback
from s3forensics.actions.waf import plan_waf_block, plan_waf_unblock
from s3forensics.cli import main
from s3forensics.errors import ActionError, ParameterError, RefusedError
from s3forensics.lab.demo import world

pytestmark = pytest.mark.sandbox


@pytest.fixture()
def audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("S3FORENSICS_AUDIT_LOG", str(path))
    monkeypatch.delenv("S3FORENSICS_MY_IP", raising=False)
    return path


def test_block_public_access_and_rollback(fresh_sandbox: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s3 = boto3.client("s3")
    bucket = world.SITE_BUCKET
    before = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert main(["respond", "block-public-access", "--bucket", bucket, "--apply"]) == 0
    action_id = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("action_id: ")
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    }
    assert audit.get(action_id).before == before
    rollback(action_id, apply=True)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == before

    # The archive bucket has no configuration at all: rollback deletes it again.
    applied = execute(plan_block_public_access(world.ARCHIVE_BUCKET), apply=True)
    assert applied.record.before is None
    rollback(applied.action_id, apply=True)
    with pytest.raises(ClientError) as missing:
        s3.get_public_access_block(Bucket=world.ARCHIVE_BUCKET)
    assert missing.value.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"


def test_revoke_sessions_denies_older_tokens_and_rolls_back(fresh_sandbox: object, audit_log: Path) -> None:
    iam = boto3.client("iam")
    now = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    result = execute(plan_revoke_sessions(world.ANALYTICS_ROLE, now=now), apply=True)
    doc = iam.get_role_policy(RoleName=world.ANALYTICS_ROLE, PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert doc["Statement"][0]["Condition"] == {"DateLessThan": {"aws:TokenIssueTime": "2026-11-16T12:00:00Z"}}
    assert result.record.before is None
    rollback(result.action_id, apply=True)
    assert iam.list_role_policies(RoleName=world.ANALYTICS_ROLE)["PolicyNames"] == []
    with pytest.raises(ParameterError, match="role name"):
        plan_revoke_sessions(world.role_arn(world.ANALYTICS_ROLE))


def test_deactivate_key_and_rollback_refuses_after_a_manual_change(fresh_sandbox: object, audit_log: Path) -> None:
    iam = boto3.client("iam")
    key_id = iam.list_access_keys(UserName=world.ADMIN_USER)["AccessKeyMetadata"][0]["AccessKeyId"]
    result = execute(plan_deactivate_key(world.ADMIN_USER, key_id), apply=True)
    assert result.record.before == "Active" and result.record.after == "Inactive"
    assert iam.list_access_keys(UserName=world.ADMIN_USER)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    iam.update_access_key(UserName=world.ADMIN_USER, AccessKeyId=key_id, Status="Active")
    with pytest.raises(ActionError, match="changed outside this kit"):
        rollback(result.action_id, apply=True)
    with pytest.raises(ActionError, match="has no access key"):
        plan_deactivate_key(world.ADMIN_USER, "AKIAEXAMPLE000000000")


def test_waf_ip_set_block_is_merged_idempotent_and_rolled_back(fresh_sandbox: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waf = boto3.client("wafv2", region_name="us-east-1")
    created = waf.create_ip_set(Name="site-blocklist", Scope="CLOUDFRONT", IPAddressVersion="IPV4", Addresses=["192.0.2.0/28"])["Summary"]
    name, ip_set_id = created["Name"], created["Id"]
    assert main(["respond", "waf-block-ip", "--ip-set-name", name, "--ip-set-id", ip_set_id, "203.0.113.50", "192.0.2.1", "--apply"]) == 0
    action_id = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("action_id: ")
    addresses = waf.get_ip_set(Name=name, Scope="CLOUDFRONT", Id=ip_set_id)["IPSet"]["Addresses"]
    assert sorted(addresses) == ["192.0.2.0/28", "203.0.113.50/32"]
    assert audit.get(action_id).details["already_blocked"] == ["192.0.2.1/32"]
    assert not plan_waf_block(name, ip_set_id, ["203.0.113.50"]).changes
    with pytest.raises(ParameterError, match="other family"):
        plan_waf_block(name, ip_set_id, ["2001:db8::1"])
    with pytest.raises(RefusedError, match="every IPv4"):
        plan_waf_block(name, ip_set_id, ["0.0.0.0/0"])
    # A stale lock token (the set changed after planning) fails instead of overwriting.
    stale = plan_waf_block(name, ip_set_id, ["198.51.100.7"])
    execute(plan_waf_unblock(name, ip_set_id, ["192.0.2.0/28"]), apply=True)
    with pytest.raises(ActionError, match="changed since the plan"):
        execute(stale, apply=True)
    with pytest.raises(ActionError, match="later actions on it"):
        rollback(action_id, apply=True)


def test_notify_publishes_a_structured_message(fresh_sandbox: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="s3f-demo-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    assert main(["respond", "block-ip", "--bucket", world.SITE_BUCKET, "203.0.113.50", "--apply"]) == 0
    action_id = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("action_id: ")
    args = ["respond", "notify", "--topic-arn", topic, "--summary", "GET flood on s3f-demo-site from 203.0.113.50",
            "--detection", "request_rate_spike", "--evidence", '{"requests": 2400}', "--action-id", action_id]
    assert main(args) == 0
    assert "dry run" in capsys.readouterr().out
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", []) == []
    assert main([*args, "--apply"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # The action_id contract holds for notify too: the message id comes before it.
    assert lines[-1].startswith("action_id: ") and lines[-3].startswith("message_id: ")
    notify_id, message_id = lines[-1].removeprefix("action_id: "), lines[-3].removeprefix("message_id: ")
    (msg,) = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert message_id and message_id != "None"
    record = audit.get(notify_id)
    assert (record.action, record.kind, record.status) == ("notify", "sns:publish", "applied")
    assert record.target == {"topic_arn": topic} and record.after["message_id"] == message_id
    assert record.details["reports_actions"] == [action_id]
    assert [r.status for r in audit.iter_records() if r.action == "notify"] == ["dry-run", "applied"]
    # A sent message cannot be taken back: rollback refuses clearly (through the CLI, exit 1).
    with pytest.raises(ActionError, match="cannot be rolled back"):
        rollback(notify_id, apply=True)
    assert main(["respond", "rollback", notify_id, "--apply"]) == 1
    assert "cannot be rolled back" in capsys.readouterr().err
    assert main(["respond", "list"]) == 0
    assert f"SNS topic {topic}" in capsys.readouterr().out
    body = json.loads(msg["Body"])
    assert body["summary"] == "GET flood on s3f-demo-site from 203.0.113.50"
    assert body["detected"] == [{"detection_id": "request_rate_spike"}]
    assert body["evidence"] == [{"evidence": {"requests": 2400}}]
    assert body["actions"][0]["action_id"] == action_id and body["actions"][0]["details"]["added"] == ["203.0.113.50/32"]
    assert body["rollback"] == [f"s3forensics respond rollback {action_id} --apply"]
    long = Notification(summary="x" * 300)
    assert len(long.subject()) == 100
    with pytest.raises(ActionError, match="not an SNS topic ARN"):
        publish("s3f-demo-alerts", long)
