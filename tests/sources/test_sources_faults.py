"""Per-file faults never abort a load: every file that can be read is read, and each fault is
named in the load report with its reason.

Record shapes follow the CloudTrail log file examples of the AWS CloudTrail User Guide
("CloudTrail log file examples": a ``Records`` array of events with ``eventTime``,
``eventSource``, ``eventName``); the access-log line follows the S3 User Guide's "Amazon S3
server access log format" example. Addresses are documentation ranges (RFC 5737).
"""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest

from s3forensics.cli import main
from s3forensics.sources import inputs, load_cloudtrail, load_s3_access

EVENT = {
    "eventVersion": "1.09",
    "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
    "eventTime": "2026-11-16T10:00:00Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.9",
    "userAgent": "curl/8.0",
    "requestParameters": {"bucketName": "s3f-demo-data", "key": "a.csv"},
    "responseElements": None,
    "requestID": "REQ1",
    "eventID": "EV1",
    "eventType": "AwsApiCall",
    "recipientAccountId": "111122223333",
}

ACCESS_LINE = (
    '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be s3f-demo-site [16/Nov/2026:10:00:00 +0000] '
    '203.0.113.9 - 3E57427F3EXAMPLE REST.GET.OBJECT index.html "GET /s3f-demo-site/index.html HTTP/1.1" 200 - '
    '113 113 7 6 "-" "curl/8.0" - HOSTIDEXAMPLE SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader s3f-demo-site.s3.us-east-1.amazonaws.com TLSv1.2 - -\n'
)


def _good(folder: Path) -> None:
    (folder / "good.json").write_text(json.dumps({"Records": [EVENT]}))


def test_a_depth_bomb_is_one_rejected_file_and_the_others_load(tmp_path: Path) -> None:
    """Before: RecursionError from the JSON reader aborted the whole load."""
    _good(tmp_path)
    (tmp_path / "bomb.json").write_text("[" * 200_000 + "]" * 200_000)
    (tmp_path / "bomb-lines.json").write_text(json.dumps(EVENT) + "\n" + "[" * 200_000 + "]" * 200_000 + "\n")
    result = load_cloudtrail(tmp_path)
    rep = result.report
    assert rep.balanced and rep.rows == 2  # good.json, and the first line of bomb-lines.json
    reasons = "\n".join(rep.rejects["reason"])
    assert "nested deeper than the JSON reader allows" in reasons and "nested deeper than the reader allows" in reasons
    assert "bomb.json" in "\n".join(rep.messages)


def test_one_invalid_utf8_byte_keeps_the_file(tmp_path: Path) -> None:
    """Before: one byte that is not UTF-8 rejected every record of the file."""
    data = json.dumps({"Records": [EVENT, {**EVENT, "eventID": "EV2", "userAgent": "agent-XX"}]}).encode()
    (tmp_path / "one-bad-byte.json").write_bytes(data.replace(b"XX", b"\xff\xfe"))
    rep = load_cloudtrail(tmp_path)
    assert rep.report.rows == 2 and rep.report.rejected == 0 and rep.report.balanced
    assert "\ufffd" in rep.frame.set_index("event_id").loc["EV2", "user_agent"]
    assert any("not UTF-8" in m for m in rep.report.messages)


def test_json_that_is_not_cloudtrail_is_one_reason_not_one_per_record(tmp_path: Path) -> None:
    """Before: each object was rejected as "eventTime missing"."""
    (tmp_path / "package.json").write_text(json.dumps([{"name": "x", "version": "1"}, {"name": "y"}]))
    rep = load_cloudtrail(tmp_path).report
    assert rep.rows == 0 and rep.balanced
    assert set(rep.rejects["reason"]) == {"not CloudTrail JSON: JSON with no CloudTrail record (none of 2 objects has eventTime, eventName or eventSource)"}


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Files that raise PermissionError on open (tests run as root, where chmod 000 reads)."""
    names: set[str] = set()
    real = builtins.open

    def guarded(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) in names:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(inputs, "open", guarded, raising=False)
    return names


def test_an_unreadable_file_is_skipped_by_name_and_the_others_load(tmp_path: Path, unreadable: set[str]) -> None:
    """Before: SourceError from opening one file aborted convert, sync and detect."""
    ct, s3 = tmp_path / "ct", tmp_path / "s3"
    ct.mkdir()
    s3.mkdir()
    _good(ct)
    (ct / "locked.json").write_text(json.dumps({"Records": [EVENT]}))
    (s3 / "good.log").write_text(ACCESS_LINE)
    (s3 / "locked.log").write_text(ACCESS_LINE)
    unreadable.update({str(ct / "locked.json"), str(s3 / "locked.log")})
    for result, name in ((load_cloudtrail(ct), "locked.json"), (load_s3_access(s3), "locked.log")):
        assert result.report.rows == 1
        skipped = {Path(f.file).name: f.reason for f in result.report.skipped_files}
        assert "Permission denied" in skipped[name]


def test_convert_with_an_unreadable_file_exits_0_and_names_it(tmp_path: Path, unreadable: set[str], capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.log").write_text(ACCESS_LINE)
    (tmp_path / "locked.log").write_text(ACCESS_LINE)
    unreadable.add(str(tmp_path / "locked.log"))
    out = tmp_path / "out.jsonl"
    assert main(["convert", "s3-access", str(tmp_path / "good.log"), str(tmp_path / "locked.log"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "locked.log" in err and "Traceback" not in err
    assert len(out.read_text().splitlines()) == 1
