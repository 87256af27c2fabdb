"""Regressions from review: truncated gzip, empty S3 listings, changed files in the cache,
unparseable CloudTrail files counted by their lines, one time format in JSON lines."""

from __future__ import annotations

import gzip
import json
import random
import zlib
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from s3forensics.schema import S3_ACCESS_COLUMNS
from s3forensics.sources import load_cloudtrail, load_s3_access
from s3forensics.sources.cache import read_cache, sync
from s3forensics.sources.convert import json_lines
from s3forensics.sources.report import MAX_FILE_REJECTS
from s3forensics.sources.s3_access_format import format_line

T0 = datetime(2020, 3, 1, tzinfo=UTC)


def line(moment, request_id, ua="Mozilla/5.0"):
    rec = {name: None for name in S3_ACCESS_COLUMNS}
    rec.update(bucket_owner="o", bucket="s3f-demo-site", time=moment, remote_ip="198.51.100.7", request_id=request_id,
               operation="REST.GET.OBJECT", key="index.html", request_uri="GET /index.html HTTP/1.1", http_status=200,
               bytes_sent=10, user_agent=ua)
    return format_line(rec)


def _varied_lines(n, seed=3):
    rng = random.Random(seed)
    return [line(T0 + timedelta(seconds=i), f"R{i:05d}", ua=f"agent/{rng.getrandbits(160):040x}") for i in range(n)]


def _complete_lines(cut: bytes) -> int:
    """Lines fully contained in a cut gzip stream, as zcat would recover them."""
    return zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")


# ----------------------------------------------------------------------------- 1. truncated gzip

@pytest.mark.parametrize("lines", [1000, 20000])
def test_truncated_gzip_keeps_the_lines_before_the_damage(tmp_path, lines):
    text = ("\n".join(_varied_lines(lines)) + "\n").encode()
    full = gzip.compress(text)
    cut = full[: len(full) // 2]
    (tmp_path / "half.log.gz").write_bytes(cut)
    result = load_s3_access(tmp_path)
    rep = result.report
    expected = _complete_lines(cut)
    assert expected > lines * 0.4
    assert rep.rows == expected and rep.rows + rep.rejected == rep.lines_read and rep.balanced
    assert list(result.frame["request_id"]) == [f"R{i:05d}" for i in range(expected)]
    # The incomplete last line is one reject, said to be truncated; the file is named.
    assert rep.rejected == 1 and rep.rejects.iloc[0]["line"] == expected + 1
    assert "truncated" in rep.rejects.iloc[0]["reason"]
    notes = "\n".join(rep.messages)
    assert "half.log.gz" in notes and "truncated" in notes and "empty file" not in notes


def test_truncated_gzip_cut_at_a_line_end_and_multi_member(tmp_path):
    lines = _varied_lines(300)
    first = gzip.compress(("\n".join(lines[:100]) + "\n").encode())
    second = gzip.compress(("\n".join(lines[100:]) + "\n").encode())
    (tmp_path / "members.gz").write_bytes(first + second + b"\x00" * 8)  # padded, two members: all read
    (tmp_path / "cut.gz").write_bytes(first + second[:10])  # second member cut in its header
    rep = load_s3_access(tmp_path).report
    assert rep.rows == 300 + 100 and rep.rejected == 0 and rep.balanced
    assert any("cut.gz" in m and "truncated" in m for m in rep.messages)


def _event(i):
    return {"eventVersion": "1.08", "eventTime": (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "sourceIPAddress": "203.0.113.9",
            "eventID": f"E{i:05d}-{random.Random(i).getrandbits(128):032x}", "recipientAccountId": "111122223333"}


def test_truncated_cloudtrail_json_lines_keep_complete_lines(tmp_path):
    text = "".join(json.dumps(_event(i)) + "\n" for i in range(2000)).encode()
    full = gzip.compress(text)
    cut = full[: len(full) // 2]
    (tmp_path / "events.jsonl.gz").write_bytes(cut)
    rep = load_cloudtrail(tmp_path).report
    expected = _complete_lines(cut)
    assert expected > 500
    assert rep.rows == expected and rep.rejected == 1 and rep.lines_read == expected + 1 and rep.balanced
    assert "truncated" in rep.rejects.iloc[0]["reason"]
    assert any("events.jsonl.gz" in m and "truncated" in m for m in rep.messages)


def test_truncated_cloudtrail_document_rejected_with_a_clear_reason(tmp_path):
    doc = json.dumps({"Records": [_event(i) for i in range(500)]}, indent=1).encode()
    full = gzip.compress(doc)
    (tmp_path / "trail.json.gz").write_bytes(full[: len(full) // 2])
    rep = load_cloudtrail(tmp_path).report
    assert rep.rows == 0 and rep.balanced
    assert rep.lines_read == rep.rejected == _complete_lines(full[: len(full) // 2]) + 1
    reason = rep.rejects.iloc[0]["reason"]
    assert "truncated" in reason and "not parsed" in reason
    assert any("trail.json.gz" in m and "incomplete" in m for m in rep.messages)


# ----------------------------------------------------------------------------- 4. non-JSON as CloudTrail

def test_access_logs_given_as_cloudtrail_count_every_line(tmp_path):
    sizes = [5, 250, 1]
    for n, size in enumerate(sizes):
        (tmp_path / f"log{n}").write_text("\n".join(_varied_lines(size, seed=n)) + "\n")
    rep = load_cloudtrail(tmp_path).report
    assert rep.files == 3 and rep.rows == 0 and rep.balanced
    assert rep.lines_read == rep.rejected == sum(sizes)
    # Texts of at most MAX_FILE_REJECTS lines per file are kept; all are counted.
    assert len(rep.rejects) == sum(min(s, MAX_FILE_REJECTS) for s in sizes)
    assert rep.rejects["reason"].str.contains("not CloudTrail JSON").all()
    assert any("log1" in m and "250" in m for m in rep.messages)


# ----------------------------------------------------------------------------- 5. one time format

def test_json_lines_time_format_per_row_not_per_slice():
    from s3forensics.schema import S3_ACCESS_SCHEMA

    times = [T0, T0 + timedelta(microseconds=250), T0 + timedelta(seconds=3)]
    rows = [{**{c: None for c in S3_ACCESS_COLUMNS}, "time": t, "request_id": str(i)} for i, t in enumerate(times)]
    table = pa.Table.from_pylist(rows, schema=S3_ACCESS_SCHEMA)
    out = [json.loads(x)["time"] for x in json_lines(table)]
    assert out == ["2020-03-01T00:00:00Z", "2020-03-01T00:00:00.000250Z", "2020-03-01T00:00:03Z"]
    # The same row gives the same text whatever else is in its slice.
    alone = [json.loads(x)["time"] for x in json_lines(table.slice(2, 1))]
    assert alone == out[2:]


def test_convert_output_has_one_format_across_slices(tmp_path, monkeypatch):
    import s3forensics.sources.convert as conv

    src = tmp_path / "logs"
    src.mkdir()
    # Server access logs have whole seconds; the fraction comes from CloudTrail ISO times.
    events = [_event(i) for i in range(6)]
    events[4]["eventTime"] = "2020-03-01T00:00:04.123456Z"
    (src / "e.json").write_text(json.dumps({"Records": events}))
    original = conv.json_lines
    sizes = []

    def spy(table, con=None):
        sizes.append(table.num_rows)
        return original(table, con)

    monkeypatch.setattr(conv, "json_lines", spy)
    monkeypatch.setattr(conv, "JSON_SLICE_ROWS", 2)
    out = tmp_path / "out.jsonl"
    conv.convert("cloudtrail", [src], out)
    assert sizes == [2, 2, 2]  # rows with and without fractions were in different slices
    got = [json.loads(x)["event_time"] for x in out.read_text().splitlines()]
    assert got == [f"2020-03-01T00:00:0{i}Z" for i in range(4)] + ["2020-03-01T00:00:04.123456Z", "2020-03-01T00:00:05Z"]


# ----------------------------------------------------------------------------- 3. changed file

def test_changed_local_file_replaces_its_cached_rows(tmp_path):
    src = tmp_path / "logs"
    src.mkdir()
    other = src / "b.log"
    other.write_text("\n".join(line(T0 + timedelta(minutes=i), f"B{i}") for i in range(4)) + "\n")
    grown = src / "a.log"
    lines = [line(T0 + timedelta(hours=i * 8), f"A{i}") for i in range(8)]  # spans three dates
    grown.write_text("\n".join(lines[:5]) + "\n")
    cache = tmp_path / "cache"
    assert sync("s3-access", [src], cache).rows == 9
    with open(grown, "a") as fh:
        fh.write("\n".join(lines[5:]) + "\n")
    second = sync("s3-access", [src], cache)
    assert second.files == 1 and second.rows == 8
    ids = read_cache("s3_access", cache).column("request_id").to_pylist()
    assert sorted(ids) == sorted([f"A{i}" for i in range(8)] + [f"B{i}" for i in range(4)])
    # Shrinking the file is handled the same way; the other file's rows are untouched.
    grown.write_text(lines[0] + "\n")
    sync("s3-access", [src], cache)
    ids = read_cache("s3_access", cache).column("request_id").to_pylist()
    assert sorted(ids) == ["A0"] + [f"B{i}" for i in range(4)]


def test_changed_cloudtrail_file_replaces_its_cached_rows(tmp_path):
    src = tmp_path / "trail"
    src.mkdir()
    f = src / "t.json"
    f.write_text(json.dumps({"Records": [_event(i) for i in range(5)]}))
    cache = tmp_path / "cache"
    sync("cloudtrail", [src], cache)
    f.write_text(json.dumps({"Records": [_event(i) for i in range(8)]}))
    sync("cloudtrail", [src], cache)
    assert read_cache("cloudtrail", cache).num_rows == 8


# ----------------------------------------------------------------------------- 2. empty listing

@pytest.mark.sandbox
def test_empty_listing_is_not_a_complete_window(sandbox, tmp_path):
    from s3forensics import aws

    s3 = aws.client("s3")
    bucket = "s3f-test-review-empty-listing"
    s3.create_bucket(Bucket=bucket)
    start, end = T0, T0 + timedelta(hours=4)
    cache = tmp_path / "cache"
    url = f"s3://{bucket}/access/"
    first = load_s3_access(url, start, end, cache=cache)
    assert len(first.frame) == 0
    for h in range(3):
        moment = T0 + timedelta(hours=h)
        key = f"access/{(moment + timedelta(minutes=30)).strftime('%Y-%m-%d-%H-%M-%S')}-0123456789ABCDEF"
        s3.put_object(Bucket=bucket, Key=key, Body=(line(moment, f"S{h}") + "\n").encode())
    later = load_s3_access(url, start, end, cache=cache)
    assert sorted(later.frame["request_id"]) == ["S0", "S1", "S2"]
    # Now that objects were found (and the window is long past), it is complete: an
    # object uploaded afterwards is not listed again.
    s3.put_object(Bucket=bucket, Key="access/2020-03-01-03-30-00-0123456789ABCDEF",
                  Body=(line(T0 + timedelta(hours=3), "S3") + "\n").encode())
    again = load_s3_access(url, start, end, cache=cache)
    assert again.report.files == 0 and len(again.frame) == 3


@pytest.mark.sandbox
def test_changed_s3_object_replaces_its_cached_rows(sandbox, tmp_path):
    from s3forensics import aws

    s3 = aws.client("s3")
    bucket = "s3f-test-review-changed-object"
    s3.create_bucket(Bucket=bucket)
    key = "access/2020-03-01-00-30-00-0123456789ABCDEF"
    lines = [line(T0 + timedelta(minutes=i), f"C{i}") for i in range(8)]
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines[:5]) + "\n").encode())
    cache = tmp_path / "cache"
    sync("s3-access", [f"s3://{bucket}/access/"], cache)  # no window: always listed
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
    sync("s3-access", [f"s3://{bucket}/access/"], cache)
    assert sorted(read_cache("s3_access", cache).column("request_id").to_pylist()) == [f"C{i}" for i in range(8)]
