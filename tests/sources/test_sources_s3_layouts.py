"""S3 inputs of any layout: every object in the window is loaded, nothing outside it is fetched.

A bucket of its own in the sandbox holds both server access log layouts (date-partitioned
under ``s3-access/site/``, simple under ``s3-access/data/``) and, in another bucket,
CloudTrail with digest files. GetObject calls are counted with a botocore event hook.
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime

import pytest

from s3forensics import aws
from s3forensics.schema import S3_ACCESS_COLUMNS
from s3forensics.sources import listing, load_cloudtrail, load_s3_access
from s3forensics.sources.cache import sync
from s3forensics.sources.s3_access_format import format_line

pytestmark = pytest.mark.sandbox

ACCOUNT = "111122223333"
DAYS = range(10, 21)  # one object per day, 2026-11-10 .. 2026-11-20, written at 12:00
START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 18, tzinfo=UTC)


def _line(moment: datetime, request_id: str) -> str:
    rec = {name: None for name in S3_ACCESS_COLUMNS}
    rec.update(bucket_owner="o", bucket="s3f-demo-site", time=moment, remote_ip="198.51.100.7", request_id=request_id,
               operation="REST.GET.OBJECT", key="index.html", request_uri="GET /index.html HTTP/1.1", http_status=200,
               bytes_sent=10, user_agent="Mozilla/5.0")
    return format_line(rec) + "\n"


def _day(d: int) -> datetime:
    return datetime(2026, 11, d, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def mixed(sandbox):
    """(log bucket, trail bucket, keys expected to be fetched for the window)."""
    s3 = aws.client("s3")
    logs, trail = f"s3f-test-mixed-{uuid.uuid4().hex[:10]}", f"s3f-test-trail-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=logs)
    s3.create_bucket(Bucket=trail)
    wanted: dict[str, set[str]] = {"site": set(), "data": set(), "odd": set(), "trail": set()}
    for d in DAYS:
        t = _day(d)
        name = f"{t:%Y-%m-%d-%H-%M-%S}-{d:016X}"
        site = f"s3-access/site/{ACCOUNT}/us-east-1/s3f-demo-site/{t:%Y/%m/%d}/{name}"
        data = f"s3-access/data/{name}"
        s3.put_object(Bucket=logs, Key=site, Body=_line(t, f"P{d}").encode())
        s3.put_object(Bucket=logs, Key=data, Body=_line(t, f"S{d}").encode())
        trail_key = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{t:%Y/%m/%d}/{ACCOUNT}_CloudTrail_us-east-1_{t:%Y%m%dT%H%M}Z_{d:016d}.json.gz"
        record = {"eventVersion": "1.09", "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": "s3.amazonaws.com",
                  "eventName": "GetObject", "eventID": f"E{d}", "requestParameters": {"bucketName": "b", "key": "k"}}
        s3.put_object(Bucket=trail, Key=trail_key, Body=gzip.compress(json.dumps({"Records": [record]}).encode()))
        digest = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/{t:%Y/%m/%d}/{ACCOUNT}_CloudTrail-Digest_us-east-1_x_us-east-1_{t:%Y%m%dT%H%M%S}Z.json.gz"
        s3.put_object(Bucket=trail, Key=digest, Body=gzip.compress(b'{"digestStartTime": "x", "logFiles": []}'))
        if START <= t < END:
            wanted["site"].add(site)
            wanted["data"].add(data)
            wanted["trail"].add(trail_key)
    # Old simple-layout keys, then a partitioned folder whose name sorts among them
    # ("2025" + digits sorts between "2025-..." and "2026-..."): a listing that jumps
    # from 2025 to the window still finds it.
    for day in (29, 30, 31):
        s3.put_object(Bucket=logs, Key=f"s3-access/data/2025-12-{day}-12-00-00-00000000000000{day}",
                      Body=_line(datetime(2025, 12, day, 12, tzinfo=UTC), f"OLD{day}").encode())
    odd = "s3-access/data/202512340000/us-east-1/s3f-demo-data/2026/11/17/2026-11-17-12-00-00-00000000000000AA"
    s3.put_object(Bucket=logs, Key=odd, Body=_line(_day(17), "ODD").encode())
    wanted["odd"].add(odd)
    return logs, trail, wanted


def _counting_session():
    sess = aws.session()
    fetched: list[str] = []
    sess.events.register("provide-client-params.s3.GetObject", lambda params, **_: fetched.append(params["Key"]))
    return sess, fetched


@pytest.mark.parametrize("page_keys", [None, 2], ids=["one-page", "two-key-pages"])
@pytest.mark.parametrize(
    "prefix, parts",
    [
        ("", ("site", "data", "odd")),
        ("s3-access/", ("site", "data", "odd")),
        ("s3-access", ("site", "data", "odd")),
        ("s3-access/site/", ("site",)),
        (f"s3-access/site/{ACCOUNT}/us-east-1/s3f-demo-site/", ("site",)),
        ("s3-access/data/", ("data", "odd")),
    ],
    ids=["bucket-root", "base-prefix", "base-no-slash", "site-partitioned", "site-bucket-folder", "data-simple"],
)
def test_any_prefix_loads_window_and_fetches_nothing_else(mixed, monkeypatch, prefix, parts, page_keys):
    logs, _, wanted = mixed
    monkeypatch.setattr(listing, "PAGE_KEYS", page_keys)
    sess, fetched = _counting_session()
    result = load_s3_access(f"s3://{logs}/{prefix}", START, END, session=sess)
    expected_keys = set().union(*(wanted[p] for p in parts))
    assert sorted(fetched) == sorted(expected_keys)  # each in-window object once, nothing else
    expected_ids = {f"{'P' if p == 'site' else 'S'}{d}" for p in parts if p != "odd" for d in (16, 17)}
    expected_ids |= {"ODD"} if "odd" in parts else set()
    assert set(result.frame["request_id"]) == expected_ids
    rep = result.report
    assert rep.balanced and rep.rejected == 0 and rep.files == len(expected_keys)


@pytest.mark.parametrize("prefix", ["", "AWSLogs/", f"AWSLogs/{ACCOUNT}/CloudTrail/"], ids=["root", "awslogs", "cloudtrail"])
def test_cloudtrail_prefixes_skip_digests_by_name(mixed, prefix):
    _, trail, wanted = mixed
    sess, fetched = _counting_session()
    result = load_cloudtrail(f"s3://{trail}/{prefix}", START, END, session=sess)
    assert sorted(fetched) == sorted(wanted["trail"])
    assert set(result.frame["event_id"]) == {"E16", "E17"}
    skipped = [s.file for s in result.report.skipped_files]
    if prefix == f"AWSLogs/{ACCOUNT}/CloudTrail/":
        assert skipped == []
    else:
        assert skipped == [f"s3://{trail}/AWSLogs/{ACCOUNT}/CloudTrail-Digest/"]


def test_no_window_lists_everything_and_counts_digests(mixed):
    _, trail, _ = mixed
    sess, fetched = _counting_session()
    result = load_cloudtrail(f"s3://{trail}/", session=sess)
    assert len(fetched) == len(DAYS) and result.report.rows == len(DAYS)
    (skip,) = result.report.skipped_files
    assert f"{len(DAYS)} objects not read" in skip.reason


def test_sync_of_base_prefix_is_complete_and_few_files(mixed, tmp_path):
    logs, _, wanted = mixed
    report = sync("s3_access", [f"s3://{logs}/s3-access/"], tmp_path, START, END)
    assert report.files == len(wanted["site"] | wanted["data"] | wanted["odd"]) and report.balanced
    days = sorted(p.name for p in (tmp_path / "s3_access").iterdir())
    assert days == ["date=2026-11-16", "date=2026-11-17"]
    assert all(len(list((tmp_path / "s3_access" / d).glob("*.parquet"))) == 1 for d in days)
