"""CloudTrail reader: file shapes, skipped digest/Insights files, JSON text kept, bad files."""

from __future__ import annotations

import gzip
import json

import pandas as pd

from s3forensics.schema import CLOUDTRAIL_COLUMNS
from s3forensics.sources import load_cloudtrail


def event(**overrides):
    rec = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"},
        "eventTime": "2026-11-16T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "curl/8.0",
        "requestParameters": {"bucketName": "s3f-demo-data", "key": "exports/a.csv", "Host": "s3f-demo-data.s3.amazonaws.com"},
        "responseElements": None,
        "additionalEventData": {"bytesTransferredIn": 0, "bytesTransferredOut": 1234, "x-amz-id-2": "abc"},
        "requestID": "REQ1",
        "eventID": "EV1",
        "readOnly": True,
        "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::s3f-demo-data/exports/a.csv"}],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "111122223333",
        "eventCategory": "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3"},
        "someFutureKey": {"nested": 1},
    }
    rec.update(overrides)
    return rec


def test_records_file_gz_and_canonical_columns(tmp_path):
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [event()]}).encode()))
    result = load_cloudtrail(tmp_path)
    frame = result.frame
    assert tuple(frame.columns) == CLOUDTRAIL_COLUMNS
    row = frame.iloc[0]
    assert row["event_time"] == pd.Timestamp("2026-11-16T10:00:00Z")
    assert row["user_identity_type"] == "AWSAccount" and row["user_identity_account_id"] == "ANONYMOUS_PRINCIPAL"
    assert row["bucket_name"] == "s3f-demo-data" and row["object_key"] == "exports/a.csv"
    assert row["bytes_transferred_out"] == 1234 and row["tls_version"] == "TLSv1.3"
    assert list(row["resource_arns"]) == ["arn:aws:s3:::s3f-demo-data/exports/a.csv"]
    assert list(row["resource_types"]) == ["AWS::S3::Object"]
    # resources[].accountId kept (the CloudTrail record reference: each resource's ARN,
    # accountId and type); absent here, so null, aligned with the ARNs.
    assert list(row["resource_account_ids"]) == [None]
    assert bool(row["read_only"]) is True and bool(row["management_event"]) is False
    # Original keys only: no null keys added, values intact, null object stays null.
    assert json.loads(row["request_parameters"]) == event()["requestParameters"]
    assert json.loads(row["additional_event_data"]) == event()["additionalEventData"]
    assert pd.isna(row["response_elements"])


def test_json_text_never_gains_keys_across_records(tmp_path):
    records = [event(requestParameters={"a": 1}), event(requestParameters={"b": [1, {"c": None}]})]
    (tmp_path / "f.json").write_text(json.dumps({"Records": records}))
    texts = list(load_cloudtrail(tmp_path).frame["request_parameters"])
    # The original text of each object, as written (json.dumps puts a space after : and ,).
    assert texts == ['{"a": 1}', '{"b": [1, {"c": null}]}']


def test_aws_service_and_string_mfa(tmp_path):
    svc = event(userIdentity={"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"})
    role = event(userIdentity={"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/analytics-export/s",
                               "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/analytics-export", "userName": "analytics-export"},
                                                  "attributes": {"mfaAuthenticated": "false"}}})
    (tmp_path / "f.json").write_text(json.dumps([svc, role]))
    frame = load_cloudtrail(tmp_path).frame
    assert pd.isna(frame["user_identity_arn"].iloc[0]) and frame["user_identity_invoked_by"].iloc[0] == "cloudtrail.amazonaws.com"
    assert frame["mfa_authenticated"].iloc[1] == "false"
    assert frame["session_issuer_user_name"].iloc[1] == "analytics-export"


def test_json_lines_with_bad_line(tmp_path):
    lines = [json.dumps(event(eventID="1")), "{not json", json.dumps(event(eventID="3", eventTime="garbage")), json.dumps(event(eventID="4"))]
    (tmp_path / "export.jsonl").write_text("\n".join(lines) + "\n")
    rep = load_cloudtrail(tmp_path).report
    assert rep.lines_read == 4 and rep.rows == 2 and rep.rejected == 2 and rep.balanced
    assert list(rep.rejects["line"]) == [2, 3]


def test_digest_and_insights_skipped_and_counted(tmp_path):
    trail = tmp_path / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/16"
    trail.mkdir(parents=True)
    (trail / "111122223333_CloudTrail_us-east-1_20261116T1005Z_abc.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [event()]}).encode()))
    digest = tmp_path / "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/16"
    digest.mkdir(parents=True)
    (digest / "d.json.gz").write_bytes(gzip.compress(json.dumps({"digestStartTime": "x", "logFiles": []}).encode()))
    (tmp_path / "insight.json").write_text(json.dumps({"Records": [{"eventType": "AwsCloudTrailInsight", "eventTime": "2026-11-16T10:00:00Z"}]}))
    rep = load_cloudtrail(tmp_path).report
    assert rep.rows == 1 and len(rep.skipped_files) == 2 and rep.lines_read == 1


def test_bad_files_named_and_others_load(tmp_path):
    (tmp_path / "good.json").write_text(json.dumps({"Records": [event()]}))
    full = gzip.compress(json.dumps({"Records": [event() for _ in range(50)]}).encode())
    (tmp_path / "trunc.json.gz").write_bytes(full[: len(full) // 2])
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "text.txt").write_text("hello\n")
    result = load_cloudtrail(tmp_path)
    rep = result.report
    assert rep.rows == 1 and rep.balanced
    notes = "\n".join(rep.messages)
    for name in ("trunc.json.gz", "empty.json", "binary.bin", "text.txt"):
        assert name in notes
    assert "truncated" in notes


def test_window(tmp_path):
    recs = [event(eventTime=f"2026-11-16T{h:02d}:00:00Z", eventID=str(h)) for h in range(5)]
    (tmp_path / "f.json").write_text(json.dumps({"Records": recs}))
    result = load_cloudtrail(tmp_path, start="2026-11-16T01:00:00Z", end="2026-11-16T03:00:00Z")
    assert list(result.frame["event_id"]) == ["1", "2"] and result.report.outside_window == 3


def test_values_read_as_pythons_json_reads_them(tmp_path):
    """orjson reads most files; where it would differ from ``json`` (an integer beyond
    64 bits, NaN, a byte-order mark) the result is still json's."""
    big = 123456789012345678901234
    (tmp_path / "big.json").write_text('{"Records": [' + json.dumps(event(requestID="R-BIG"))[:-1] + f', "eventVersion": {big}}}]}}')
    (tmp_path / "nan.json").write_text(json.dumps({"Records": [event(requestID="R-NAN", additionalEventData={"bytesTransferredOut": float("nan")})]}))
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"Records": [event(requestID="R-BOM")]}).encode())
    (tmp_path / "twice.json").write_text('{"Records": [' + json.dumps(event(requestID="R-FIRST")) + '], "Records": ['
                                         + json.dumps(event(requestID="R-LAST")) + "]}")
    result = load_cloudtrail(tmp_path)
    assert result.report.balanced and result.report.rejected == 0
    rows = result.frame.set_index("request_id")
    assert sorted(rows.index) == ["R-BIG", "R-BOM", "R-LAST", "R-NAN"]
    assert rows.loc["R-BIG", "event_version"] == str(big)
    assert pd.isna(rows.loc["R-NAN", "bytes_transferred_out"])
    assert '"bytesTransferredOut": NaN' in rows.loc["R-NAN", "additional_event_data"]
    assert json.loads(rows.loc["R-BOM", "request_parameters"]) == event()["requestParameters"]


def test_values_of_unusual_types_follow_the_documented_rules(tmp_path):
    odd = event(
        requestID="R-ODD", eventVersion=1.09, readOnly="true", managementEvent=1,
        userIdentity=[["type", "Root"]], resources=[{"ARN": "arn:aws:s3:::b"}, "not-an-object", {"ARN": 7}],
        additionalEventData={"bytesTransferredIn": 1.5, "bytesTransferredOut": "12"}, tlsDetails="TLSv1.3",
    )
    odd["userIdentity"] = {"type": "IAMUser", "sessionContext": {"attributes": {"mfaAuthenticated": True}}}
    usual = event(requestID="R-USUAL")
    (tmp_path / "a.json").write_text(json.dumps({"Records": [usual, odd]}))
    rows = load_cloudtrail(tmp_path).frame.set_index("request_id")
    row = rows.loc["R-ODD"]
    assert row["event_version"] == "1.09" and bool(row["read_only"]) is True and pd.isna(row["management_event"])
    assert row["mfa_authenticated"] == "true" and row["user_identity_type"] == "IAMUser"
    assert list(row["resource_arns"]) == ["arn:aws:s3:::b", None, "7"]
    assert pd.isna(row["bytes_transferred_in"]) and row["bytes_transferred_out"] == 12
    assert pd.isna(row["tls_version"])
    assert rows.loc["R-USUAL", "tls_version"] == "TLSv1.3" and rows.loc["R-USUAL", "bytes_transferred_out"] == 1234


def test_original_text_of_a_json_array_file(tmp_path):
    text = "[\n  " + ",\n  ".join(json.dumps(event(requestID=f"R{i}"), indent=1) for i in range(3)) + "\n]\n"
    (tmp_path / "array.json").write_text(text)
    frame = load_cloudtrail(tmp_path).frame
    assert list(frame["request_id"]) == ["R0", "R1", "R2"]
    assert all(value in text for value in frame["request_parameters"])
    # A value one level down in an indent=1 dump: its inner lines carry one more space.
    assert frame["request_parameters"].iloc[0] == json.dumps(event()["requestParameters"], indent=1).replace("\n", "\n ")


def test_lone_surrogate_escape_is_kept_as_its_escape(tmp_path):
    """JSON allows ``"\\ud800"``, which UTF-8 cannot hold: the file still loads, and the
    value keeps the escape as text."""
    rec = json.dumps(event(requestID="R-SUR", userAgent="agent-X"))
    assert json.loads(rec.replace("agent-X", "agent\\ud800-X"))["userAgent"] == "agent\ud800-X"
    (tmp_path / "a.json").write_text('{"Records": [' + rec.replace("agent-X", "agent\\ud800-X") + "]}")
    (tmp_path / "b.json").write_text(json.dumps({"Records": [event(requestID="R-OK")]}))
    result = load_cloudtrail(tmp_path)
    assert result.report.balanced and result.report.rejected == 0
    rows = result.frame.set_index("request_id")
    assert rows.loc["R-SUR", "user_agent"] == "agent\\ud800-X" and "R-OK" in rows.index


def test_same_frame_with_and_without_orjson(tmp_path, monkeypatch):
    from s3forensics.sources import cloudtrail

    records = [event(requestID=f"R{i}", eventVersion=i if i % 3 == 0 else "1.09", readOnly=["true", True, None][i % 3],
                     additionalEventData={"bytesTransferredOut": [1, 2.0, "3", 1.5][i % 4]}) for i in range(12)]
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(json.dumps({"Records": records}, indent=2).encode()))
    records[0]["additionalEventData"]["bytesTransferredOut"] = 2**70  # this file goes to json
    (tmp_path / "b.json").write_text(json.dumps({"Records": records}))
    with_orjson = load_cloudtrail(tmp_path)
    monkeypatch.setattr(cloudtrail, "orjson", None)
    without = load_cloudtrail(tmp_path)
    pd.testing.assert_frame_equal(with_orjson.frame, without.frame)
    assert with_orjson.report.rows == without.report.rows == 24


def _mixed_folder(root):
    """Files of every kind the reader meets, for comparing its two ways of reading."""
    for i in range(6):
        records = [event(requestID=f"F{i}-{j}", eventTime=f"2026-11-16T1{j % 10}:00:00Z") for j in range(40)]
        records.append(event(requestID=f"F{i}-bad", eventTime="yesterday"))
        (root / f"111122223333_CloudTrail_us-east-1_20261116T1{i}00Z_{i:04d}.json.gz").write_bytes(
            gzip.compress(json.dumps({"Records": records}).encode()))
    (root / "lines.json").write_text("\n".join(json.dumps(event(requestID=f"L{j}")) for j in range(5)) + "\n{broken\n")
    (root / "digest.json").write_text(json.dumps({"digestStartTime": "x", "logFiles": []}))
    (root / "insight.json").write_text(json.dumps({"Records": [event(eventType="AwsCloudTrailInsight")]}))
    whole = gzip.compress(json.dumps({"Records": [event()] * 50}).encode())
    (root / "cut.json.gz").write_bytes(whole[: len(whole) // 2])
    (root / "empty.json").write_text("")


def _same(a, b):
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.report.summary() == b.report.summary()
    assert a.report.messages == b.report.messages and a.report.skipped_files == b.report.skipped_files
    pd.testing.assert_frame_equal(a.report.rejects, b.report.rejects)


def test_worker_processes_give_what_this_process_gives(tmp_path, monkeypatch):
    from s3forensics.sources import cloudtrail

    _mixed_folder(tmp_path)
    monkeypatch.setattr(cloudtrail, "PARSE_PROCESSES", 1)
    here = load_cloudtrail(tmp_path, start="2026-11-16T11:00:00Z")
    monkeypatch.setattr(cloudtrail, "PARSE_PROCESSES", 2)
    monkeypatch.setattr(cloudtrail, "PROCESS_MIN_BYTES", 0)
    calls = []
    original = cloudtrail._parse_in_processes
    monkeypatch.setattr(cloudtrail, "_parse_in_processes", lambda *a: calls.append(1) or original(*a))
    workers = load_cloudtrail(tmp_path, start="2026-11-16T11:00:00Z")
    assert calls, "the worker path was not taken"
    _same(here, workers)
    assert here.report.rows == 6 * 36 and here.report.outside_window == 6 * 4 + 5
    assert here.report.rejected > 6 and here.report.balanced


def test_a_dead_worker_leaves_its_files_to_this_process(tmp_path, monkeypatch, caplog):
    import os

    from s3forensics.sources import cloudtrail

    _mixed_folder(tmp_path)
    monkeypatch.setattr(cloudtrail, "PARSE_PROCESSES", 1)
    here = load_cloudtrail(tmp_path)
    parent = os.getpid()
    original = cloudtrail._prepare

    def dies_in_a_worker(*args):  # the forked workers see this module as patched here
        if os.getpid() != parent:
            os._exit(3)
        return original(*args)

    monkeypatch.setattr(cloudtrail, "_prepare", dies_in_a_worker)
    monkeypatch.setattr(cloudtrail, "PARSE_PROCESSES", 2)
    monkeypatch.setattr(cloudtrail, "PROCESS_MIN_BYTES", 0)
    _same(here, load_cloudtrail(tmp_path))
    assert "worker processes failed" in caplog.text


def test_a_worker_dying_while_files_still_arrive_loses_none(tmp_path, monkeypatch, caplog):
    """The next file is handed over only after the pool broke: it must still be parsed."""
    import os
    import time

    from s3forensics.sources import cloudtrail

    _mixed_folder(tmp_path)
    monkeypatch.setattr(cloudtrail, "PARSE_PROCESSES", 1)
    here = load_cloudtrail(tmp_path)
    parent = os.getpid()
    original_prepare, original_data = cloudtrail._prepare, cloudtrail.inp.iter_file_data

    def dies_in_a_worker(sf, *args):
        if os.getpid() != parent and sf.name.endswith("_0001.json.gz"):
            os._exit(3)
        return original_prepare(sf, *args)

    def slow_downloads(*args):
        for item in original_data(*args):
            time.sleep(0.2)
            yield item

    monkeypatch.setattr(cloudtrail, "_prepare", dies_in_a_worker)
    monkeypatch.setattr(cloudtrail.inp, "iter_file_data", slow_downloads)
    monkeypatch.setattr(cloudtrail, "PARSE_PROCESSES", 2)
    monkeypatch.setattr(cloudtrail, "PROCESS_MIN_BYTES", 0)
    _same(here, load_cloudtrail(tmp_path))
    assert "worker processes failed" in caplog.text


def test_integers_orjson_reads_otherwise_go_to_json(tmp_path):
    """19-digit negatives below -2**63 (orjson: floats) and floats beyond 64 bits."""
    low, lower = -9223372036854775809, -9999999999999999999
    rec = json.dumps(event(requestID="R-NEG", eventVersion=123, additionalEventData={"bytesTransferredIn": 1, "bytesTransferredOut": 2}))
    rec = rec.replace('"eventVersion": 123', f'"eventVersion": {low}').replace('"bytesTransferredIn": 1', f'"bytesTransferredIn": {lower}')
    (tmp_path / "neg.json").write_text('{"Records": [' + rec + "]}")
    (tmp_path / "float.json").write_text(json.dumps({"Records": [event(requestID="R-FLOAT", additionalEventData={
        "bytesTransferredIn": 1e19, "bytesTransferredOut": -1e300})]}))
    result = load_cloudtrail(tmp_path)
    assert result.report.balanced and result.report.rejected == 0
    rows = result.frame.set_index("request_id")
    assert rows.loc["R-NEG", "event_version"] == str(low) and pd.isna(rows.loc["R-NEG", "bytes_transferred_in"])
    assert pd.isna(rows.loc["R-FLOAT", "bytes_transferred_in"]) and pd.isna(rows.loc["R-FLOAT", "bytes_transferred_out"])


def test_reject_text_keeps_a_lone_surrogate_as_its_escape(tmp_path):
    from s3forensics.sources.convert import convert

    rec = json.dumps(event(requestID="R-BAD", eventTime="not a time", userAgent="agent-X"))
    (tmp_path / "a.json").write_text('{"Records": [' + rec.replace("agent-X", "agent\\ud800-X") + "]}")
    result = load_cloudtrail(tmp_path)
    assert result.report.rejected == 1
    text = result.report.rejects.iloc[0]["text"]
    assert "agent\\ud800-X" in text and text.encode("utf-8")
    out = tmp_path / "out" / "ct.parquet"
    out.parent.mkdir()
    convert("cloudtrail", [str(tmp_path / "a.json")], str(out))
    assert "agent\\\\ud800-X" in (tmp_path / "out" / "ct.rejects.jsonl").read_text()
