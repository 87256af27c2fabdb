"""`s3forensics convert`, the Parquet cache, and S3 inputs (on the local moto sandbox)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from s3forensics.cli import main
from s3forensics.schema import S3_ACCESS_COLUMNS
from s3forensics.sources import load_s3_access
from s3forensics.sources.cache import sync
from s3forensics.sources.s3_access_format import format_line

T0 = datetime(2020, 3, 1, tzinfo=UTC)


def line(moment, request_id, ua="Mozilla/5.0"):
    rec = {name: None for name in S3_ACCESS_COLUMNS}
    rec.update(bucket_owner="o", bucket="s3f-demo-site", time=moment, remote_ip="198.51.100.7", request_id=request_id,
               operation="REST.GET.OBJECT", key="index.html", request_uri="GET /index.html HTTP/1.1", http_status=200,
               bytes_sent=10, user_agent=ua)
    return format_line(rec)


def test_convert_jsonl_contract(tmp_path, capsys):
    src = tmp_path / "logs"
    src.mkdir()
    (src / "a.log").write_text("\n".join([line(T0, "A", ua='x "quoted" \\ y'), "junk", line(T0 + timedelta(seconds=1), "B")]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["convert", "s3-access", str(src), "-o", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["request_id"] for r in rows] == ["A", "B"]
    assert list(rows[0]) == list(S3_ACCESS_COLUMNS)
    assert rows[0]["time"] == "2020-03-01T00:00:00Z" and rows[0]["referer"] is None
    assert rows[0]["user_agent"] == 'x "quoted" \\ y' and rows[0]["bytes_sent"] == 10
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert rejects == [{"file": str(src / "a.log"), "line": 2, "reason": rejects[0]["reason"], "text": "junk"}]
    err = capsys.readouterr().err
    assert "2 rows" in err and "1 rejected" in err


def test_convert_parquet_with_window(tmp_path):
    src = tmp_path / "a.log"
    src.write_text("\n".join(line(T0 + timedelta(hours=h), f"R{h}") for h in range(4)) + "\n")
    out = tmp_path / "o.parquet"
    assert main(["convert", "s3-access", str(src), "-o", str(out), "--start", "2020-03-01T01:00:00Z", "--end", "2020-03-01T03:00:00"]) == 0
    table = pq.read_table(out)
    assert table.column("request_id").to_pylist() == ["R1", "R2"]
    assert str(table.schema.field("time").type) == "timestamp[us, tz=UTC]"


def test_convert_bad_output_suffix(tmp_path, capsys):
    assert main(["convert", "s3-access", str(tmp_path), "-o", str(tmp_path / "x.csv")]) == 1
    assert "x.csv" in capsys.readouterr().err


def test_cloudtrail_convert_jsonl(tmp_path):
    rec = {"eventTime": "2020-03-01T00:00:00Z", "eventName": "GetObject", "resources": [{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object"}],
           "requestParameters": {"bucketName": "b", "key": "k"}}
    (tmp_path / "ct.json").write_text(json.dumps({"Records": [rec]}, separators=(",", ":")))
    out = tmp_path / "ct.jsonl"
    assert main(["convert", "cloudtrail", str(tmp_path / "ct.json"), "-o", str(out)]) == 0
    row = json.loads(out.read_text())
    assert row["event_time"] == "2020-03-01T00:00:00Z" and row["resource_arns"] == ["arn:aws:s3:::b/k"]
    assert row["request_parameters"] == '{"bucketName":"b","key":"k"}'


def test_local_sync_into_cache_layout(tmp_path):
    src = tmp_path / "logs"
    src.mkdir()
    (src / "a.log").write_text("\n".join(line(T0 + timedelta(hours=h * 12), f"R{h}") for h in range(4)) + "\n")
    cache = tmp_path / "cache"
    rep = sync("s3-access", [src], cache)
    assert rep.rows == 4
    days = sorted(p.name for p in (cache / "s3_access").glob("date=*"))
    assert days == ["date=2020-03-01", "date=2020-03-02"]
    assert sync("s3-access", [src], cache).files == 0  # unchanged file: not read again


@pytest.mark.sandbox
def test_s3_input_pruning_and_cache(sandbox, tmp_path, monkeypatch):
    from s3forensics import aws

    s3 = aws.client("s3")
    bucket = "s3f-test-sources-logs"
    s3.create_bucket(Bucket=bucket)
    for h in range(24):
        moment = T0 + timedelta(hours=h)
        key = f"access/{(moment + timedelta(minutes=30)).strftime('%Y-%m-%d-%H-%M-%S')}-0123456789ABCDEF"
        s3.put_object(Bucket=bucket, Key=key, Body=(line(moment, f"S{h}") + "\n").encode())
    # Date-partitioned layout too.
    s3.put_object(Bucket=bucket, Key="part/111122223333/us-east-1/site/2020/03/05/2020-03-05-10-00-00-0123456789ABCDEF",
                  Body=(line(T0 + timedelta(days=4, hours=10), "P") + "\n").encode())
    start, end = T0 + timedelta(hours=10), T0 + timedelta(hours=12)
    result = load_s3_access(f"s3://{bucket}/access/", start, end)
    assert list(result.frame["request_id"]) == ["S10", "S11"]
    assert result.report.files < 24  # pruned by key name, not downloaded
    part = load_s3_access(f"s3://{bucket}/part/", start, end)
    assert part.report.files == 0
    cache = tmp_path / "cache"
    first = load_s3_access(f"s3://{bucket}/access/", start, end, cache=cache)
    assert list(first.frame["request_id"]) == ["S10", "S11"] and first.report.files > 0
    # Same window again: nothing read from S3 (a dead endpoint proves it).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    again = load_s3_access(f"s3://{bucket}/access/", start, end, cache=cache)
    assert again.report.files == 0 and list(again.frame["request_id"]) == ["S10", "S11"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    later = load_s3_access(f"s3://{bucket}/access/", end, end + timedelta(hours=2), cache=cache)
    assert list(later.frame["request_id"]) == ["S12", "S13"]
    known = {json.loads(x).get("file") for x in (cache / "_manifests" / "s3_access.jsonl").read_text().splitlines()}
    assert later.report.files == len([k for k in known if k]) - first.report.files
