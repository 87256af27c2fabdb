"""The responder Lambda, invoked in-process against the sandbox with a realistic alarm event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from s3forensics.actions import lambda_handler as lh
from s3forensics.errors import ConfigError
from s3forensics.lab.demo import world
from s3forensics.sources.s3_access_format import format_line

FLOOD_IP = "203.0.113.50"
ALARM_TIME = datetime(2026, 11, 16, 12, 10, tzinfo=UTC)
LOG_PREFIX = f"{world.SITE_LOG_PREFIX}{world.ACCOUNT_ID}/{world.REGION}/{world.SITE_BUCKET}/"


def record(when: datetime, ip: str, key: str, n: int, ua: str = "Mozilla/5.0 (X11; Linux x86_64)") -> dict:
    return {
        "bucket_owner": world.CANONICAL_OWNER_ID,
        "bucket": world.SITE_BUCKET,
        "time": when,
        "remote_ip": ip,
        "requester": None,
        "request_id": f"REQ{n:012X}",
        "operation": "WEBSITE.GET.OBJECT",
        "key": key,
        "request_uri": f"GET /{key} HTTP/1.1",
        "http_status": 200,
        "error_code": None,
        "bytes_sent": 2048,
        "object_size": 2048,
        "total_time": 12,
        "turn_around_time": 11,
        "referer": None,
        "user_agent": ua,
        "version_id": None,
        "host_id": "aG9zdA==",
        "signature_version": None,
        "cipher_suite": None,
        "authentication_type": None,
        "host_header": f"{world.SITE_BUCKET}.s3-website-us-east-1.amazonaws.com",
        "tls_version": None,
        "access_point_arn": None,
        "acl_required": None,
        "source_region": None,
    }


def seed_access_logs(s3: object) -> int:
    """Normal browsing from a few visitors, and a GET flood from FLOOD_IP (2,400 in 4 minutes)."""
    start = ALARM_TIME - timedelta(minutes=12)
    lines: list[str] = []
    n = 0
    for i in range(60):
        ip = f"198.51.100.{10 + i % 6}"
        lines.append(format_line(record(start + timedelta(seconds=10 * i), ip, "index.html", n)))
        n += 1
    for i in range(2400):
        lines.append(format_line(record(start + timedelta(minutes=2, milliseconds=100 * i), FLOOD_IP, "img/logo.png", n, ua="python-requests/2.32")))
        n += 1
    lines.sort(key=lambda line: line.split("[", 1)[1][:26])
    # S3 delivers a window of records in several objects; two are enough here.
    half = len(lines) // 2
    for part, chunk in enumerate((lines[:half], lines[half:])):
        name = (start + timedelta(minutes=5 + part)).strftime("%Y-%m-%d-%H-%M-%S")
        key = f"{LOG_PREFIX}{start:%Y/%m/%d}/{name}-{part:016X}"
        s3.put_object(Bucket=world.LOG_BUCKET, Key=key, Body=("\n".join(chunk) + "\n").encode())  # type: ignore[attr-defined]
    return len(lines)


def alarm_event(state: str = "ALARM") -> dict:
    """As EventBridge delivers a CloudWatch alarm state change."""
    alarm = "s3forensics-responder-get-requests"
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": world.ACCOUNT_ID,
        "time": ALARM_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": world.REGION,
        "resources": [f"arn:aws:cloudwatch:{world.REGION}:{world.ACCOUNT_ID}:alarm:{alarm}"],
        "detail": {
            "alarmName": alarm,
            "state": {
                "value": state,
                "reason": "Threshold Crossed: 1 out of the last 1 datapoints [2460.0 (16/11/26 12:00:00)] was greater than the threshold (1000.0).",
                "reasonData": '{"version":"1.0","queryDate":"2026-11-16T12:10:00.000+0000","statistic":"Sum","period":300,"threshold":1000.0}',
                "timestamp": ALARM_TIME.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            },
            "previousState": {"value": "OK", "timestamp": "2026-11-16T11:00:00.000+0000"},
            "configuration": {
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {"namespace": "AWS/S3", "name": "GetRequests", "dimensions": {"BucketName": world.SITE_BUCKET, "FilterId": "EntireBucket"}},
                            "period": 300,
                            "stat": "Sum",
                        },
                        "returnData": True,
                    }
                ]
            },
        },
    }


@pytest.fixture()
def responder_env(fresh_sandbox: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="s3f-demo-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    env = {
        "S3FORENSICS_BUCKET": world.SITE_BUCKET,
        "S3FORENSICS_LOG_URI": f"s3://{world.LOG_BUCKET}/{LOG_PREFIX}",
        "S3FORENSICS_TOPIC_ARN": topic,
        "S3FORENSICS_LOOKBACK_MINUTES": "30",
        "S3FORENSICS_BLOCK_EXPIRES": "24h",
        "S3FORENSICS_ALLOW_CIDRS": "192.0.2.0/24",
        "AWS_LAMBDA_FUNCTION_NAME": "s3forensics-responder",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("S3FORENSICS_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    return {"topic": topic, "queue_url": queue_url, "sqs": sqs}


def received(env: dict) -> list[dict]:
    got = env["sqs"].receive_message(QueueUrl=env["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


@pytest.mark.sandbox
def test_alarm_blocks_the_flooding_ip_and_notifies(responder_env: dict) -> None:
    s3 = boto3.client("s3")
    seed_access_logs(s3)
    before = json.loads(s3.get_bucket_policy(Bucket=world.SITE_BUCKET)["Policy"])

    summary = lh.handler(alarm_event(), None)

    # The flood (2,400 GETs from one IP, all in the 12:00-12:05 period) is one request_rate_spike
    # finding; the browsing of the others reaches no threshold of any S3 detection.
    assert summary["event"] == "alarm" and summary["findings"] == 1, summary
    assert summary["blocked"] == [f"{FLOOD_IP}/32"], summary
    policy = json.loads(s3.get_bucket_policy(Bucket=world.SITE_BUCKET)["Policy"])
    assert policy["Statement"][: len(before["Statement"])] == before["Statement"]
    (deny,) = [s for s in policy["Statement"] if s.get("Sid", "").startswith("S3ForensicsBlockUntil")]
    assert deny["Condition"]["IpAddress"]["aws:SourceIp"] == [f"{FLOOD_IP}/32"]
    # S3FORENSICS_BLOCK_EXPIRES=24h counts from the alarm's time, not the clock.
    assert deny["Sid"] == f"S3ForensicsBlockUntil{ALARM_TIME + timedelta(hours=24):%Y%m%dT%H%M%SZ}" == "S3ForensicsBlockUntil20261117T121000Z"
    assert not any("198.51.100" in json.dumps(s) for s in policy["Statement"])

    (message,) = received(responder_env)
    assert FLOOD_IP in message["summary"] and "alarm s3forensics-responder-get-requests" in message["summary"]
    assert [(d["detection_id"], d["source_ip"]) for d in message["detected"]] == [("request_rate_spike", FLOOD_IP)]
    assert message["actions"][0]["status"] == "applied" and message["actions"][0]["details"]["added"] == [f"{FLOOD_IP}/32"]
    assert message["rollback"] == [f"s3forensics respond unblock-ip --bucket {world.SITE_BUCKET} {FLOOD_IP}/32 --apply"]

    # The same alarm again blocks nothing new (idempotent) and the policy is unchanged.
    again = lh.handler(alarm_event(), None)
    assert again["status"] == "no-op"
    assert json.loads(s3.get_bucket_policy(Bucket=world.SITE_BUCKET)["Policy"]) == policy


def test_alarm_back_to_ok_and_unknown_events_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ignored before any AWS call: the offline environment would fail any call loudly.
    monkeypatch.setenv("S3FORENSICS_BUCKET", world.SITE_BUCKET)
    monkeypatch.setenv("S3FORENSICS_LOG_URI", f"s3://{world.LOG_BUCKET}/{LOG_PREFIX}")
    summary = lh.handle(alarm_event(state="OK"), lh.HandlerSettings.from_env(), session=object())
    assert summary["event"] == "ignore" and "OK" in summary["reason"]
    summary = lh.handle({"detail-type": "Object Created"}, lh.HandlerSettings.from_env(), session=object())
    assert summary["event"] == "ignore" and "Object Created" in summary["reason"]
    assert lh.classify(alarm_event())[1] == ALARM_TIME


@pytest.mark.sandbox
def test_dry_run_and_allowlist_block_nothing(responder_env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3")
    seed_access_logs(s3)
    before = s3.get_bucket_policy(Bucket=world.SITE_BUCKET)["Policy"]
    monkeypatch.setenv("S3FORENSICS_ALLOW_CIDRS", "203.0.113.0/24")
    summary = lh.handler(alarm_event(), None)
    assert summary["blocked"] == [] and "status" not in summary
    monkeypatch.setenv("S3FORENSICS_ALLOW_CIDRS", "")
    monkeypatch.setenv("S3FORENSICS_DRY_RUN", "true")
    summary = lh.handler(alarm_event(), None)
    assert summary["status"] == "dry-run" and summary["blocked"] == [f"{FLOOD_IP}/32"]
    assert s3.get_bucket_policy(Bucket=world.SITE_BUCKET)["Policy"] == before
    messages = received(responder_env)
    assert any("dry run: nothing blocked" in m["summary"] for m in messages)


@pytest.mark.sandbox
def test_schedule_expires_old_blocks(responder_env: dict) -> None:
    from s3forensics.actions.block import plan_block_ip
    from s3forensics.actions.resources import execute

    s3 = boto3.client("s3")
    execute(plan_block_ip(world.SITE_BUCKET, ["198.51.100.99"], expires="1h", now=ALARM_TIME - timedelta(hours=3)), apply=True)
    execute(plan_block_ip(world.SITE_BUCKET, ["198.51.100.98"]), apply=True)
    event = {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "account": world.ACCOUNT_ID,
             "time": ALARM_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": world.REGION, "resources": [], "detail": {}}
    summary = lh.handler(event, None)
    assert summary["expired"] == ["198.51.100.99/32"]
    text = s3.get_bucket_policy(Bucket=world.SITE_BUCKET)["Policy"]
    assert "198.51.100.99" not in text and "198.51.100.98/32" in text


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="Lambda setting S3FORENSICS_BUCKET is not set"):
        lh.HandlerSettings.from_env({})
    with pytest.raises(ConfigError, match="Lambda setting S3FORENSICS_MAX_BLOCKS='many' is not an integer"):
        lh.HandlerSettings.from_env({"S3FORENSICS_BUCKET": "b-1", "S3FORENSICS_LOG_URI": "s3://l/", "S3FORENSICS_MAX_BLOCKS": "many"})
