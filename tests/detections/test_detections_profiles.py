"""Bucket profiles inferred from the logs: with no flag given, a website bucket is judged a
public site, a CloudFront origin is not public, and a private bucket stays private.

Shapes come from AWS's documentation and public samples:
- website endpoint requests are logged as ``WEBSITE.GET.OBJECT`` and are plain HTTP (S3 User
  Guide, "Amazon S3 server access log format", Operation field; "Website endpoints": no HTTPS);
- requests from CloudFront with origin access control are logged with requester
  ``svc:cloudfront.amazonaws.com``, remote IP and user agent ``-`` (public access-log samples
  of a CloudFront-fronted bucket in open-source test fixtures);
- anonymous REST reads recorded as CloudTrail data events carry
  ``userIdentity.accountId = ANONYMOUS_PRINCIPAL`` (CloudTrail User Guide, "CloudTrail
  userIdentity element": AWSAccount).
Addresses are documentation ranges (RFC 5737).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from s3forensics.cli import main
from s3forensics.detections import BucketConfig, DetectionConfig, run_detections
from s3forensics.detections.base import CASE_DATA, CASE_START, Case, access, case_tables, trail
from s3forensics.detections.profiles import account_profile, judge
from s3forensics.engines.duckdb_engine import DuckDBEngine

WWW = "s3f-case-www"
CDN = "s3f-case-cdn"
REST = "s3f-case-downloads"
DAY = dt.timedelta(days=1)
END = CASE_START + DAY


def _website_visitors() -> tuple[dict, ...]:
    """Three days of anonymous browsers on the website endpoint (plain HTTP, many addresses)."""
    return access(
        60, at=CASE_START - 2 * DAY, every=dt.timedelta(hours=1), bucket=WWW, operation="WEBSITE.GET.OBJECT",
        remote_ip="203.0.113.{i}", key="index.html", tls_version=None, cipher_suite=None, host_header=f"{WWW}.s3-website-us-east-1.amazonaws.com",
    )


def _cloudfront_reads() -> tuple[dict, ...]:
    return access(
        40, at=CASE_START - DAY, every=dt.timedelta(hours=1), bucket=CDN, requester="svc:cloudfront.amazonaws.com",
        remote_ip=None, user_agent=None, key="assets/app-{i}.js",
    )


def _run(rows: tuple[dict, ...], trail_rows: tuple[dict, ...] = (), config: DetectionConfig | None = None):  # type: ignore[no-untyped-def]
    engine = DuckDBEngine(frames=case_tables(Case("profiles", False, s3_access=rows, cloudtrail=trail_rows)))
    try:
        return run_detections(engine, CASE_START, END, config=config)
    finally:
        engine.close()


def test_a_website_bucket_is_a_public_site_with_no_flag() -> None:
    """Before: every website visitor was anonymous_access_private and insecure_transport."""
    run = _run(_website_visitors())
    assert run.profiles[WWW].profile == "public_site" and run.profiles[WWW].source == "inferred"
    assert "website endpoint" in run.profiles[WWW].reason
    on_www = run.findings[run.findings["bucket"] == WWW]
    assert not set(on_www["detection_id"]) & {"anonymous_access_private", "insecure_transport"}, on_www[["detection_id", "summary"]]


def test_a_cloudfront_origin_is_not_public_and_a_direct_read_is_reported() -> None:
    direct = access(3, bucket=CDN, remote_ip="192.0.2.50", key="assets/app-1.js")
    run = _run(_cloudfront_reads() + direct)
    assert run.profiles[CDN].profile == "cloudfront" and "CloudFront" in run.profiles[CDN].reason
    anonymous = run.findings[(run.findings["detection_id"] == "anonymous_access_private") & (run.findings["bucket"] == CDN)]
    assert list(anonymous["source_ip"]) == ["192.0.2.50"]
    evidence = json.loads(anonymous.iloc[0]["evidence"])
    assert evidence["bucket_profile"] == "cloudfront" and evidence["bucket_profile_reason"].startswith("inferred: ")


def test_a_private_bucket_stays_private_and_its_anonymous_reader_is_reported() -> None:
    run = _run(access(3))
    assert run.profiles[CASE_DATA].profile == "private_data" and run.profiles[CASE_DATA].source == "default"
    assert "anonymous_access_private" in set(run.findings["detection_id"])


def test_one_days_burst_from_few_addresses_does_not_make_a_bucket_public() -> None:
    """An incident's own anonymous downloads (one day, three addresses) must not flip the
    profile and silence the finding about them."""
    burst = access(300, bucket=CASE_DATA, remote_ip="198.51.100.{i}", every=dt.timedelta(seconds=10))
    burst = tuple({**row, "remote_ip": f"198.51.100.{i % 3 + 1}"} for i, row in enumerate(burst))
    run = _run(burst)
    assert run.profiles[CASE_DATA].profile == "private_data"
    assert "anonymous_access_private" in set(run.findings["detection_id"])


def test_a_given_profile_always_wins() -> None:
    run = _run(_website_visitors(), config=DetectionConfig(buckets={WWW: BucketConfig("private_data")}))
    assert run.profiles[WWW].source == "given" and run.profiles[WWW].profile == "private_data"
    assert "anonymous_access_private" in set(run.findings[run.findings["bucket"] == WWW]["detection_id"])


def test_anonymous_rest_downloads_in_cloudtrail_make_a_public_site() -> None:
    downloads = trail(
        12, at=CASE_START - 2 * DAY, every=dt.timedelta(hours=5), event_name="GetObject", bucket_name=REST, object_key="dl/tool-{i}.zip",
        user_identity_type="AWSAccount", user_identity_account_id="ANONYMOUS_PRINCIPAL", user_identity_arn=None,
        source_ip_address="203.0.113.{i}", read_only=True, management_event=False, event_category="Data",
    )
    run = _run((), downloads)
    assert run.profiles[REST].profile == "public_site" and "ANONYMOUS" not in run.profiles[REST].reason
    assert "anonymous object reads in CloudTrail" in run.profiles[REST].reason


@pytest.mark.parametrize(
    ("access_evidence", "trail_evidence", "profile"),
    [
        ({"website_requests": 1}, {}, "public_site"),
        ({}, {"website_puts": 1}, "public_site"),
        ({"requests": 100, "cloudfront_requests": 60}, {}, "cloudfront"),
        ({"requests": 100, "cloudfront_requests": 40}, {}, "private_data"),  # CloudFront a minority
        ({}, {"cloudfront_policies": 1}, "cloudfront"),
        ({"successes": 100, "anonymous_successes": 30, "anonymous_addresses": 5, "anonymous_days": 2}, {}, "public_site"),
        ({"successes": 100, "anonymous_successes": 30, "anonymous_addresses": 4, "anonymous_days": 9}, {}, "private_data"),
        ({"successes": 100, "anonymous_successes": 30, "anonymous_addresses": 50, "anonymous_days": 1}, {}, "private_data"),
        ({"successes": 1000, "anonymous_successes": 30, "anonymous_addresses": 50, "anonymous_days": 9}, {}, "private_data"),
    ],
)
def test_judge_rules(access_evidence: dict, trail_evidence: dict, profile: str) -> None:
    assert judge("b", access_evidence, trail_evidence, "private_data").profile == profile


def test_detect_prints_each_buckets_profile_and_why(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    line = (
        '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be s3f-case-www [16/Nov/2026:10:00:{s:02d} +0000] 203.0.113.{i} - '
        'REQ{i} WEBSITE.GET.OBJECT index.html "GET /index.html HTTP/1.1" 200 - 113 113 7 6 "-" "Mozilla/5.0" - HOSTID{i} - - - '
        's3f-case-www.s3-website-us-east-1.amazonaws.com - - -\n'
    )
    log = tmp_path / "www.log"
    log.write_text("".join(line.format(i=i, s=i) for i in range(1, 20)))
    assert main(["detect", "--s3-access", str(log), "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert "profile of s3f-case-www: public_site (inferred: 19 request(s) through the S3 website endpoint)" in err


def test_account_profile_reads_s3s_own_configuration(sandbox: object) -> None:
    """In the sandbox, the site bucket has a website configuration; the data bucket has none
    and no public policy."""
    from s3forensics import aws
    from s3forensics.lab.demo import world

    session = aws.session()
    site = account_profile(world.SITE_BUCKET, session)
    assert site is not None and site.profile == "public_site" and "GetBucketWebsite" in site.reason
    assert account_profile(world.DATA_BUCKET, session) is None
