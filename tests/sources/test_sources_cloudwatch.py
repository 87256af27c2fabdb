"""``logs://GROUP[/STREAM_PREFIX]`` inputs: S3 access logs (CloudWatch JSON format) and
CloudTrail read through the CloudWatch Logs API for a time window (on the sandbox).

CloudWatch Logs refuses events more than 14 days old or more than 2 hours ahead of now
(PutLogEvents, Amazon CloudWatch Logs API Reference), and the sandbox does the same, so the
events are stamped from the current time: the tests hold on any date, a year ahead included.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from s3forensics import aws
from s3forensics.errors import SourceError
from s3forensics.sources import load_cloudtrail, load_s3_access
from s3forensics.sources.cache import read_cache, sync
from s3forensics.sources.convert import convert

pytestmark = pytest.mark.sandbox

#: Three hours of events starting two days before now, on the hour: in the past (and their
#: windows complete), and well within the 14 days CloudWatch Logs accepts.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _access(t: datetime, rid: str, **extra) -> str:
    rec = {"schema_version_id": "V_1_0", "bucket_arn": "arn:aws:s3:::s3f-demo-site", "bucket_name": "s3f-demo-site",
           "request_time": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "bucket_owner_id": "79a59df9", "remote_ip": "198.51.100.7",
           "requester": None, "request_id": rid, "operation": "REST.GET.OBJECT", "key_name": "index.html",
           "request_uri": "GET /index.html HTTP/1.1", "http_status": 200, "error_code": None, "bytes_sent": 512,
           "object_size": 512, "total_time": 12, "turn_around_time": 3, "referrer": None, "user_agent": 'curl/8 "x"',
           "signature_version": "SigV4", "tls_version": "TLSv1.3", "host_header": "s3f-demo-site.s3.amazonaws.com"}
    rec.update(extra)
    return json.dumps(rec)


@pytest.fixture(scope="module")
def groups(sandbox):
    logs = aws.client("logs")
    access_group = f"/aws/s3/s3f-test-{uuid.uuid4().hex[:8]}"
    trail_group = f"s3f-test-trail-{uuid.uuid4().hex[:8]}"
    for group in (access_group, trail_group):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=access_group, logStreamName="site/a")
    logs.create_log_stream(logGroupName=access_group, logStreamName="data/b")
    site = [(T0 + timedelta(minutes=i), _access(T0 + timedelta(minutes=i), f"S{i}")) for i in range(0, 180, 10)]
    site.append((T0 + timedelta(minutes=31), "{not json"))
    site.append((T0 + timedelta(minutes=32), _access(T0, "BAD", http_status="two hundred")))
    site.sort(key=lambda x: x[0])
    logs.put_log_events(logGroupName=access_group, logStreamName="site/a",
                        logEvents=[{"timestamp": _ms(t), "message": m} for t, m in site])
    logs.put_log_events(logGroupName=access_group, logStreamName="data/b",
                        logEvents=[{"timestamp": _ms(T0 + timedelta(minutes=5)), "message": _access(T0 + timedelta(minutes=5), "D1", bucket_name="s3f-demo-data")}])
    logs.create_log_stream(logGroupName=trail_group, logStreamName="111122223333_CloudTrail_us-east-1")
    events = []
    for i in range(0, 180, 15):
        t = T0 + timedelta(minutes=i)
        events.append({"timestamp": _ms(t), "message": json.dumps({
            "eventVersion": "1.09", "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": "s3.amazonaws.com",
            "eventName": "PutBucketPolicy", "eventID": f"E{i}", "awsRegion": "us-east-1",
            "requestParameters": {"bucketName": "s3f-demo-archive", "policy": {"Statement": [{"Principal": "*"}]}}})})
    events.append({"timestamp": _ms(T0 + timedelta(minutes=16)), "message": json.dumps({"eventTime": "yesterday", "eventID": "X"})})
    events.sort(key=lambda e: e["timestamp"])
    logs.put_log_events(logGroupName=trail_group, logStreamName="111122223333_CloudTrail_us-east-1", logEvents=events)
    return access_group, trail_group


def test_access_logs_window_columns_and_rejects(groups):
    access_group, _ = groups
    start, end = T0 + timedelta(minutes=30), T0 + timedelta(minutes=90)
    result = load_s3_access(f"logs://{access_group}", start, end)
    frame, rep = result.frame, result.report
    assert sorted(frame["request_id"]) == ["S30", "S40", "S50", "S60", "S70", "S80"]
    row = frame.iloc[0]
    assert row["bucket"] == "s3f-demo-site" and row["key"] == "index.html" and row["http_status"] == 200
    assert row["bytes_sent"] == 512 and row["user_agent"] == 'curl/8 "x"' and str(row["time"].tz) == "UTC"
    assert rep.balanced and rep.rejected == 2
    reasons = dict(zip(rep.rejects["file"].str.rsplit("#", n=1).str[0], rep.rejects["reason"]))
    assert set(reasons) == {f"logs://{access_group}/site/a"}
    assert all("#" in f and f.rsplit("#", 1)[1] for f in rep.rejects["file"])  # event ids
    assert any("http_status" in r for r in rep.rejects["reason"]) and any("invalid JSON" in r for r in rep.rejects["reason"])


def test_stream_prefix_selects_streams(groups):
    access_group, _ = groups
    result = load_s3_access(f"logs://{access_group}/data", T0, T0 + timedelta(hours=3))
    assert list(result.frame["request_id"]) == ["D1"] and result.report.balanced


def test_cloudtrail_log_group_keeps_policy_text(groups):
    _, trail_group = groups
    result = load_cloudtrail(f"logs://{trail_group}", T0, T0 + timedelta(minutes=45))
    assert sorted(result.frame["event_id"]) == ["E0", "E15", "E30"]
    policy = json.loads(result.frame["request_parameters"].iloc[0])
    assert policy["policy"]["Statement"][0]["Principal"] == "*"
    rep = result.report
    assert rep.balanced and rep.rejected == 1 and rep.rejects["file"].iloc[0].startswith(f"logs://{trail_group}/111122223333_CloudTrail_us-east-1#")


def test_sync_and_convert_read_log_groups_once(groups, tmp_path):
    access_group, _ = groups
    url = f"logs://{access_group}"
    first = sync("s3_access", [url], tmp_path, T0, T0 + timedelta(hours=1))
    assert first.rows == 7 and first.balanced  # S0..S50 and D1
    again = sync("s3_access", [url], tmp_path, T0, T0 + timedelta(hours=2))
    assert again.rows == 6 and again.balanced  # only the new hour
    assert read_cache("s3_access", tmp_path).num_rows == 13
    out = tmp_path / "out.jsonl"
    rep = convert("s3-access", [url], out, T0, T0 + timedelta(minutes=15))
    assert sorted(json.loads(x)["request_id"] for x in out.read_text().splitlines()) == ["D1", "S0", "S10"] and rep.balanced


def test_unknown_group_is_a_clear_error(sandbox):
    with pytest.raises(SourceError, match="no CloudWatch Logs log group"):
        load_s3_access("logs://s3f-no-such-group/x", T0, T0 + timedelta(hours=1))
