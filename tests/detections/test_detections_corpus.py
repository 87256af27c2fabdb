"""Detections on public CloudTrail records they were not written next to.

Records: ``../shared/corpus/cloudtrail/panther-analysis/aws_cloudtrail-rule-test-records-selected.json``
(panther-labs/panther-analysis rule tests, Apache-2.0; see the corpus's SOURCES.md): each
record comes with the rule that reads it and whether that rule fires. The event names and
the empty ``errorCode`` are CloudTrail's as those records have them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from s3forensics.detections import run_detections
from s3forensics.engines.duckdb_engine import DuckDBEngine
from s3forensics.schema import S3_ACCESS_SCHEMA
from s3forensics.sources import parse_records

RECORDS = "cloudtrail/panther-analysis/aws_cloudtrail-rule-test-records-selected.json"


def _tests(corpus_dir: Path, source_file: str) -> dict[str, dict]:
    data = json.loads((corpus_dir / RECORDS).read_text())
    return {t["test_name"]: t for t in data if t["source_file"].endswith(source_file)}


def _findings(records: list[dict], detection: str) -> pd.DataFrame:
    frame = parse_records(records).frame
    engine = DuckDBEngine(frames={"cloudtrail": frame, "s3_access": S3_ACCESS_SCHEMA.empty_table()})
    times = frame["event_time"]
    run = run_detections(engine, times.min().floor("h"), times.max().floor("h") + pd.Timedelta(hours=1), ids=[detection])
    assert not run.errors, run.errors
    return run.findings


def test_bucket_public_access_block_deleted_is_a_bucket_made_public(corpus_dir: Path) -> None:
    tests = _tests(corpus_dir, "aws_s3_delete_public_access_block.yml")
    deleted = tests["Public Access Block Deleted Successfully"]
    assert deleted["expected_rule_result"] and deleted["log"]["eventName"] == "DeleteBucketPublicAccessBlock"
    found = _findings([deleted["log"]], "bucket_made_public")
    assert found[["bucket", "source_ip", "event_count"]].to_dict("records") == [
        {"bucket": deleted["log"]["requestParameters"]["bucketName"], "source_ip": deleted["log"]["sourceIPAddress"], "event_count": 1}
    ]
    assert "public access block removed" in found["summary"].iloc[0]
    # The refused attempt and a PutBucketPublicAccessBlock that relaxes nothing stay quiet.
    quiet = [tests["Public Access Block Deletion Failed"]["log"], tests["Different S3 Event"]["log"]]
    assert _findings(quiet, "bucket_made_public").empty


def test_an_empty_error_code_is_a_success(corpus_dir: Path) -> None:
    tests = _tests(corpus_dir, "aws_s3_bucket_deleted.yml")
    deleted = next(t for t in tests.values() if t["expected_rule_result"] and t["log"].get("errorCode") == "")
    assert deleted["log"]["eventName"] == "DeleteBucket"
    found = _findings([deleted["log"]], "mass_delete")
    assert len(found) == 1 and found["event_count"].iloc[0] == 1
    assert found["bucket"].iloc[0] == deleted["log"]["requestParameters"]["bucketName"]


@pytest.mark.parametrize("name", ["DeleteBucketPublicAccessBlock", "PutBucketPublicAccessBlock"])
def test_the_corpus_names_bucket_level_block_public_access_calls_as_the_query_does(corpus_dir: Path, name: str) -> None:
    names = {t["log"].get("eventName") for t in json.loads((corpus_dir / RECORDS).read_text())}
    assert name in names and name.replace("Bucket", "", 1) not in names
    assert f"'{name}'" in Path(__file__).resolve().parents[2].joinpath("queries", "detect__bucket_made_public.sql").read_text()


def test_logging_disabled_only_when_the_record_says_so(corpus_dir: Path) -> None:
    """PutBucketLogging with an empty BucketLoggingStatus turns logging off; one without it, or
    with LoggingEnabled, does not (the records of panther-analysis' S3 bucket logging rule)."""
    data = json.loads((corpus_dir / RECORDS).read_text())
    logging = {t["test_name"]: t["log"] for t in data if t["log"].get("eventName") == "PutBucketLogging"}
    disabled = logging["Bucket Logging Disabled Successfully"]
    found = _findings([disabled], "logging_evasion")
    assert found["bucket"].tolist() == [disabled["requestParameters"]["bucketName"]]
    assert "server access logging disabled" in found["summary"].iloc[0]
    assert _findings([logging["Logging Field Missing"], logging["Bucket Logging Enabled"]], "logging_evasion").empty


#: Rule tests whose expected result recovery_weakened must reproduce, record by record.
_RECOVERY_RULES = ("AWS.S3.SuspendVersioning", "AWS.S3.DisableMfaDelete", "AWS.S3.SecurityControlDisabling", "AWS.CloudTrail.ShortLifecycle")


def test_recovery_weakened_agrees_with_public_rule_tests(corpus_dir: Path) -> None:
    """Versioning suspended (or "Disabled"), MFA Delete off, a one-day lifecycle rule fire; an
    enabled versioning, a missing MfaDelete, a refused call, a disabled rule and a 730-day
    rule stay quiet. The lifecycle records carry the bucket only in ``Host``."""
    data = json.loads((corpus_dir / RECORDS).read_text())
    names = ("PutBucketVersioning", "PutBucketLifecycle", "PutBucketLifecycleConfiguration")
    tests = [t for t in data if t["rule_id"] in _RECOVERY_RULES and t["log"].get("eventName") in names]
    assert len(tests) >= 15
    for test in tests:
        found = _findings([test["log"]], "recovery_weakened")
        assert (not found.empty) == test["expected_rule_result"], (test["rule_id"], test["test_name"], found.get("summary"))


def test_reencryption_with_another_accounts_kms_key_agrees_with_public_rule_tests(corpus_dir: Path) -> None:
    """An in-place copy naming a KMS key of another account fires; the same copy with the
    account's own key, and an SSE-C copy's counterpart without SSE-C, stay quiet."""
    data = json.loads((corpus_dir / RECORDS).read_text())
    rules = ("AWS.S3.CopyObject.CrossAccount.Encryption.KMS", "AWS.S3.CopyObjectWithClientSideEncryption")
    tests = [t for t in data if t["rule_id"] in rules]
    assert len(tests) == 4
    for test in tests:
        frame = parse_records([test["log"]]).frame
        engine = DuckDBEngine(frames={"cloudtrail": frame, "s3_access": S3_ACCESS_SCHEMA.empty_table()})
        times = frame["event_time"]
        run = run_detections(engine, times.min().floor("h"), times.max().floor("h") + pd.Timedelta(hours=1), ids=["ssec_reencryption"],
                             params={"ssec_reencryption": {"min_objects": 1}})
        assert (not run.findings.empty) == test["expected_rule_result"], (test["test_name"], run.findings.get("summary"))


def test_resource_accounts_are_kept(corpus_dir: Path) -> None:
    """resources[].accountId becomes resource_account_ids, aligned with resource_arns (the
    copy to an external account's bucket names that account there)."""
    data = json.loads((corpus_dir / RECORDS).read_text())
    test = next(t for t in data if t["test_name"] == "S3 CopyObject to External Account Bucket")
    row = parse_records([test["log"]]).frame.iloc[0]
    resources = test["log"]["resources"]
    assert list(row["resource_account_ids"]) == [r.get("accountId") for r in resources]
    assert list(row["resource_arns"]) == [r.get("ARN", r.get("arn")) for r in resources]


def test_copy_into_an_external_accounts_bucket_agrees_with_public_rule_tests(corpus_dir: Path) -> None:
    """CopyObject whose destination bucket belongs to another account (resources[].accountId)
    fires cross_account_copy; the same copy between the account's own buckets does not."""
    tests = [t for t in json.loads((corpus_dir / RECORDS).read_text()) if t["rule_id"] == "AWS.S3.CopyObjectToExternalAccountBucket"]
    assert len(tests) == 2
    for test in tests:
        found = _findings([test["log"]], "cross_account_copy")
        assert (not found.empty) == test["expected_rule_result"], test["test_name"]
        if test["expected_rule_result"]:
            assert "copied into another account's bucket" in found["summary"].iloc[0] and "111111111111" in found["summary"].iloc[0]
