"""Conformance against the public sample corpus (../shared/corpus, see SOURCES.md)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from s3forensics.sources import load_cloudtrail, load_s3_access, parse_lines, parse_records

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
LOG_FILES = sorted(
    p for p in (CORPUS / "s3-access").rglob("*")
    if p.is_file() and p.suffix not in (".md", ".jsonl", ".tsv", ".json")
) if CORPUS.is_dir() else []


def _row(frame: pd.DataFrame, i: int = 0) -> dict:
    return {k: (None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v) for k, v in frame.iloc[i].to_dict().items()}


@pytest.mark.parametrize("path", LOG_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_log_line_parses(corpus_dir, path):
    result = load_s3_access(path)
    rep = result.report
    assert rep.balanced
    assert rep.rejected == 0, rep.rejects.to_dict("records")
    assert rep.rows == len(path.read_text().splitlines())


def test_whole_s3_folder_accounts_for_every_line(corpus_dir):
    result = load_s3_access(corpus_dir / "s3-access")
    assert result.report.balanced and result.report.rows == 56


def test_elastic_integrations_expected_values(corpus_dir):
    path = corpus_dir / "s3-access/elastic-integrations/test-s3-server-access.log-expected-subset.jsonl"
    cases = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(cases) == 6
    for case in cases:
        row = _row(parse_lines([case["line"]]).frame)
        expected = case["expected"]["aws"]["s3access"]
        for name, value in expected.items():
            assert row[name] == value, name
        # Elastic omits a field that is "-": ours is null, never 0 or "".
        for name in ("error_code", "object_size", "turn_around_time", "version_id", "referer"):
            if name not in expected:
                assert row[name] is None, name


def test_logstash_grok_expected_values(corpus_dir):
    path = corpus_dir / "s3-access/logstash-patterns-core/aws_spec-S3_ACCESS_LOG-cases.jsonl"
    names = {"owner": "bucket_owner", "bucket": "bucket", "clientip": "remote_ip", "requester": "requester",
             "request_id": "request_id", "operation": "operation", "key": "key", "response": "http_status",
             "bytes": "bytes_sent", "object_size": "object_size", "request_time_ms": "total_time",
             "turnaround_time_ms": "turn_around_time", "error_code": "error_code", "version_id": "version_id"}
    for line in path.read_text().splitlines():
        case = json.loads(line)
        row = _row(parse_lines([case["line"]]).frame)
        exp = case["expected_legacy_mode"]
        for grok, ours in names.items():
            if grok in exp:
                assert row[ours] == (None if exp[grok] == "-" else exp[grok]), grok
        for grok in case.get("expected_nil_legacy_mode", []):
            if grok in names:
                assert row[names[grok]] is None, grok
        assert row["request_uri"] == f"{exp['verb']} {exp['request']} HTTP/{exp['httpversion']}"
        assert row["user_agent"] == exp["agent"][1:-1]
        assert row["referer"] is None  # grok keeps "\"-\"": that is a null referer
        assert row["time"] == pd.Timestamp(pd.to_datetime(exp["timestamp"], format="%d/%b/%Y:%H:%M:%S %z")).tz_convert("UTC")


@pytest.mark.parametrize("example", ["reduction_example_0", "reduction_example_2"])
def test_dandi_reduced_output(corpus_dir, example):
    base = corpus_dir / "s3-access/dandi-s3-log-parser" / example
    frame = load_s3_access(base / "raw_logs").frame
    with open(next((base / "expected_output").rglob("*.tsv"))) as fh:
        expected = list(csv.DictReader(fh, delimiter="\t"))
    assert expected
    for exp in expected:
        when = pd.Timestamp(exp["timestamp"], tz="UTC")
        match = frame[(frame["time"] == when) & (frame["remote_ip"] == exp["ip_address"])]
        assert len(match) >= 1, exp
        assert any(str(k).startswith(exp["object_key"]) for k in match["key"])
        assert int(exp["bytes_sent"]) in set(match["bytes_sent"].dropna())


def test_dandi_hard_lines(corpus_dir):
    frame = load_s3_access(corpus_dir / "s3-access/dandi-s3-log-extraction/2022-01-01-05-06-35-0123456789ABCDEF").frame
    assert len(frame) == 7
    assert frame["user_agent"].iloc[0].startswith('"Mozilla/5.0')
    probe = _row(frame, 1)
    assert '"xinba"' in probe["request_uri"] and "\\think\\template" in probe["request_uri"]
    assert probe["referer"].startswith("https://dandiarchive.s3.amazonaws.com//?s=index/") and '"xinba"' in probe["referer"]
    assert probe["user_agent"].startswith("Mozilla/5.0 (compatible; Baiduspider/2.0")
    assert probe["http_status"] == 404 and probe["error_code"] == "NoSuchKey"
    presigned = _row(frame, 3)
    assert 'filename="dataset_description.json"' in presigned["request_uri"]
    assert presigned["signature_version"] == "SigV4" and presigned["authentication_type"] == "QueryString"
    double_space = _row(frame, 6)
    assert double_space["remote_ip"] == "192.0.2.0"
    assert double_space["requester"] == "arn:aws:iam::123:user/dandi-api-heroku"
    easy = load_s3_access(corpus_dir / "s3-access/dandi-s3-log-parser/reduction_example_2/raw_logs").frame
    assert easy["object_size"].max() == 422868123111


def test_lnav_17_fields_and_offset(corpus_dir):
    row = _row(load_s3_access(corpus_dir / "s3-access/lnav/s3_log-format-samples.log").frame)
    assert row["operation"] == "WEBSITE.GET.OBJECT"
    assert row["time"] == pd.Timestamp("2012-02-10T21:42:07Z")
    assert row["user_agent"].startswith("Mozilla/5.0 (X11; Linux x86_64)")
    assert all(row[name] is None for name in ("version_id", "host_id", "source_region"))


def test_atlantis_27_fields(corpus_dir):
    frame = load_s3_access(corpus_dir / "s3-access/atlantis-tutorials").frame
    first, second = _row(frame, 0), _row(frame, 1)
    assert first["remote_ip"] == "xx.xx.41.39" and first["source_region"] is None
    assert first["cipher_suite"] == "TLS_CHACHA20_POLY1305_SHA256"
    assert second["source_region"] == "us-east-2" and second["host_id"] == "0e...B4lA="
    assert second["user_agent"].endswith("md/command#s3.sync")


def test_aws_docs_trailing_space_and_26_fields(corpus_dir):
    frame = load_s3_access(corpus_dir / "s3-access/aws-docs/s3-userguide-2023-LogFormat-example.log").frame
    assert frame["access_point_arn"].iloc[0] == "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP"
    assert frame["acl_required"].iloc[2] == "Yes" and pd.isna(frame["source_region"].iloc[2])


def test_elastic_special_lines(corpus_dir):
    frame = load_s3_access(corpus_dir / "s3-access/elastic-integrations/test-s3-server-access.log").frame
    batch = frame[frame["operation"] == "BATCH.DELETE.OBJECT"]
    assert len(batch) == 2 and batch["request_uri"].isna().all() and batch["user_agent"].isna().all()
    expire = _row(frame[frame["operation"] == "S3.EXPIRE.OBJECT"])
    assert expire["requester"] == "AmazonS3" and expire["request_uri"] is None and expire["http_status"] is None
    assert expire["object_size"] == 317 and expire["version_id"] == "qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij"
    assert frame["remote_ip"].isna().sum() == 4
    beats = load_s3_access(corpus_dir / "s3-access/elastic-beats/test.log").frame
    assert beats["time"].iloc[5] == pd.Timestamp("2021-02-09T12:48:42Z")
    assert beats["request_uri"].iloc[5] == "OPTIONS * HTTP/1.0"


# ----------------------------------------------------------------------------- CloudTrail

CT_FILES = sorted(p for p in (CORPUS / "cloudtrail").rglob("*.json")) if CORPUS.is_dir() else []


def _record_count(path: Path) -> int:
    """Records in a CloudTrail sample, read with json alone: a log file, one bare record, a list, or JSON lines."""
    text = path.read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return sum(1 for line in text.splitlines() if line.strip())
    if isinstance(doc, dict):
        return len(doc["Records"]) if "Records" in doc else 1
    return len(doc)


@pytest.mark.parametrize("path", CT_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_cloudtrail_file_loads_or_is_accounted_for(corpus_dir, path):
    rep = load_cloudtrail(path).report
    assert rep.balanced
    if "malformed" in path.parts:
        # Every text line of an unparseable file is read and rejected (not "1 line").
        lines = len(path.read_bytes().splitlines())
        assert rep.lines_read == rep.rejected == lines > 1 and rep.rows == 0
        assert "invalid JSON" in rep.rejects.iloc[0]["reason"]
    elif "digest-files" in path.parts or "insights" in path.name:
        assert len(rep.skipped_files) == 1 and rep.lines_read == 0
    elif "panther-analysis" not in path.parts:
        assert rep.rejected == 0 and rep.rows == _record_count(path), rep.rejects.to_dict("records")


def test_cloudtrail_folder_never_crashes(corpus_dir):
    rep = load_cloudtrail(corpus_dir / "cloudtrail").report
    assert rep.balanced
    assert {Path(s.file).name for s in rep.skipped_files} == {"digest-example-0.json", "digest-example-1.json", "06-insights-event-pair.json"}


def test_s3_userguide_records(corpus_dir):
    frame = load_cloudtrail(corpus_dir / "cloudtrail/aws-docs/s3-userguide").frame
    acl = frame[frame["event_name"] == "PutBucketAcl"].iloc[0]
    # The three records of ListBuckets-PutBucketAcl-GetBucketVersioning.json all carry userAgent "[]".
    page = frame[frame["event_name"].isin(["ListBuckets", "PutBucketAcl", "GetBucketVersioning"])]
    assert acl["source_ip_address"] == "" and page["user_agent"].tolist() == ["[]"] * 3
    assert json.loads(acl["request_parameters"])["host"] == [json.loads(acl["request_parameters"])["host"][0]]
    outposts = frame[frame["event_name"] == "PutObject"].iloc[0]
    original = json.loads((corpus_dir / "cloudtrail/aws-docs/s3-userguide/s3-outposts-PutObject.json").read_text())
    # "managementEvent": false, in pandas' nullable boolean column (missing would be NA, not False).
    assert frame["management_event"].dtype == pd.BooleanDtype()
    assert frame.loc[frame["event_name"] == "PutObject", "management_event"].tolist() == [False]
    assert outposts["event_category"] == "Data"
    assert outposts["bytes_transferred_in"] == original["additionalEventData"]["bytesTransferredIn"] == 10
    assert list(outposts["resource_arns"]) == [r["ARN"] for r in original["resources"]]
    assert json.loads(outposts["additional_event_data"]) == original["additionalEventData"]
    assert json.loads(outposts["request_parameters"]) == original["requestParameters"]


def test_console_sign_in_records(corpus_dir):
    frame = load_cloudtrail(corpus_dir / "cloudtrail/aws-docs/cloudtrail-userguide/console-sign-in-events").frame
    assert len(frame) == 10
    failed = frame[frame["error_message"] == "Failed authentication"]
    assert sorted(failed["user_identity_type"]) == ["IAMUser", "Root"]  # 02-ConsoleLogin-IAMUser, 07-ConsoleLogin-Root
    assert all(json.loads(t)["ConsoleLogin"] == "Failure" for t in failed["response_elements"])
    root = frame[frame["user_identity_type"] == "Root"]
    assert root["user_identity_user_name"].isna().all()
    # "accessKeyId": "" in 02-07 and 09 (kept as text), absent in 00 and 01, "EXAMPLE" in 08.
    assert (frame["user_identity_access_key_id"] == "").sum() == 7
    failed_iam = failed[failed["user_identity_type"] == "IAMUser"]
    assert failed_iam["user_identity_arn"].isna().tolist() == [True]


def test_otrf_json_lines(corpus_dir):
    frame = load_cloudtrail(corpus_dir / "cloudtrail/otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json").frame
    assert len(frame) == 103 and frame["event_time"].notna().all()
    attacker = frame[frame["source_ip_address"] == "1.2.3.4"]
    counts = attacker["event_name"].value_counts()
    assert counts["ListObjects"] == 7 and counts["GetObject"] == 2 and counts["ListBuckets"] == 2
    lines = [json.loads(line) for line in (corpus_dir / "cloudtrail/otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json").read_text().splitlines()]
    assert counts.to_dict() == dict(Counter(r["eventName"] for r in lines if r["sourceIPAddress"] == "1.2.3.4"))
    assert (frame["user_identity_type"] == "IAMUser").sum() == 87
    service = frame[frame["user_identity_type"] == "AWSService"]
    assert len(service) == 5 and service["user_identity_arn"].isna().all()
    assert set(frame["mfa_authenticated"].dropna()) <= {"true", "false"}


def test_stratus_arrays_and_odd_values(corpus_dir):
    folder = corpus_dir / "cloudtrail/stratus-red-team/detonation-logs"
    result = load_cloudtrail(folder)
    assert result.report.files == 12 and result.report.rejected == 0
    steal = load_cloudtrail(folder / "aws.credential-access.ec2-steal-instance-credentials.json").frame
    assert len(steal) == 45
    assert result.frame["source_ip_address"].str.contains(r"(?:^|\.)0\d", regex=True, na=False).any()
    assert result.frame["tls_version"].notna().any()


def test_panther_records_shape_variety(corpus_dir):
    wrapped = json.loads((corpus_dir / "cloudtrail/panther-analysis/aws_cloudtrail-rule-test-records-selected.json").read_text())
    assert len(wrapped) == 160
    result = parse_records([w["log"] for w in wrapped])
    rep = result.report
    assert rep.lines_read == 160 and rep.balanced
    # Hand-made records without a usable eventTime are rejected, each with its reason.
    timed = [w["log"] for w in wrapped if str(w["log"].get("eventTime", ""))[:4].isdigit()]
    assert rep.rows == len(timed) and rep.rejected == 160 - len(timed) > 0
    assert rep.rejects["reason"].str.startswith("eventTime").all()
    counts = result.frame["event_name"].value_counts()
    assert counts["GetObject"] == sum(1 for r in timed if r.get("eventName") == "GetObject") == 9
    assert counts["ConsoleLogin"] == sum(1 for r in timed if r.get("eventName") == "ConsoleLogin")
    # Anonymous S3 callers keep AWS's own spelling.
    anon = result.frame[result.frame["user_identity_account_id"] == "ANONYMOUS_PRINCIPAL"]
    assert (anon["user_identity_type"] == "AWSAccount").all()
