"""Probing and misuse detections: scanner user agents, secret-file probes, presigned URLs, transport."""

from __future__ import annotations

import datetime as dt
from typing import Any

from s3forensics.detections.base import (
    CASE_ACCOUNT,
    CASE_DATA,
    CASE_IP,
    CASE_SITE,
    Case,
    Detection,
    access,
    run_finding,
)

_NUCLEI = "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"
_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
_USER = f"arn:aws:iam::{CASE_ACCOUNT}:user/reporter"
_SECRETS = (".env", ".git/config", "id_rsa", "certs/server.pem", ".aws/credentials")
_SEC = dt.timedelta(seconds=1)
# Row counts of the firing cases, shared by their rows and their expected findings.
_SCANS = 5
_SHARED_IPS = 5
_INSECURE = 2


def _signed_uri(signature: str, expires: int = 3600) -> str:
    return (
        "GET /reports/q3.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261118%2Fus-east-1%2Fs3%2Faws4_request"
        f"&X-Amz-Date=20261118T100000Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature={signature} HTTP/1.1"
    )


_SIG = "a3f1" * 16


def _insecure_finding() -> dict[str, Any]:
    """The finding of ``_INSECURE`` signed requests by ``_USER`` over a weak transport."""
    return run_finding(_INSECURE, bucket=CASE_DATA, source_ip=CASE_IP, principal=_USER)


SCANNER_USER_AGENT = Detection(
    id="scanner_user_agent",
    title="Scanner or offensive-tool user agent",
    severity="medium",
    technique="T1595.002 Active Scanning: Vulnerability Scanning",
    sources=("s3_access", "cloudtrail"),
    summary="{event_count} request(s) to {bucket} from {source_ip} with tool user agent '{user_agent}' ({errors} errors)",
    runbook=(
        "Tools announce themselves: see what the source asked for (evidence) and whether anything "
        "succeeded. Block the IP at the edge if the scan goes on; for a CloudTrail call with such "
        "an agent, the credentials are in an attacker's hands: revoke them."
    ),
    false_positives=("The team's own authorised scans (allowlist their user agent)", "Security vendors' internet-wide surveys"),
    limits=(("min_requests", 1, None),),
    cases=(
        Case(
            "nuclei_scan",
            True,
            s3_access=access(_SCANS, bucket=CASE_SITE, user_agent=_NUCLEI, http_status=404, error_code="NoSuchKey"),
            # The detection reports no bytes (0).
            expect=(
                run_finding(_SCANS, bucket=CASE_SITE, source_ip=CASE_IP, principal=None, size=0),
            ),
        ),
        Case("browser_traffic", False, s3_access=access(5, bucket=CASE_SITE, user_agent=_BROWSER)),
        Case("two_requests_only", False, s3_access=access(2, bucket=CASE_SITE, user_agent=_NUCLEI)),
        Case("authorised_scanner", False, s3_access=access(5, bucket=CASE_SITE, user_agent=_NUCLEI), allow={"user_agents": ("*projectdiscovery*",)}),
    ),
)

SECRET_FILE_PROBING = Detection(
    id="secret_file_probing",
    title="Probing for secret files",
    severity="high",
    technique="T1552.001 Unsecured Credentials: Credentials In Files",
    sources=("s3_access",),
    summary="{source_ip} asked {bucket} for {keys} secret-looking key(s) ({event_count} requests, {served} served)",
    runbook=(
        "If any probe was served (served > 0), treat the file as leaked: rotate what it holds and "
        "delete it from the bucket. Otherwise block the source and check the site build never "
        "uploads dotfiles or keys."
    ),
    false_positives=("A developer checking that .env is not deployed",),
    limits=(("min_distinct_keys", 1, None),),
    cases=(
        Case(
            "dotfiles_and_keys_probed",
            True,
            s3_access=access(len(_SECRETS), bucket=CASE_SITE, key=lambda i: _SECRETS[i], http_status=404, error_code="NoSuchKey"),
            # Every key of _SECRETS looks secret; the 404s still carry bytes_sent.
            expect=(
                run_finding(len(_SECRETS), bucket=CASE_SITE, source_ip=CASE_IP, principal=None),
            ),
        ),
        Case(
            "look_alike_pages",
            False,
            s3_access=access(4, bucket=CASE_SITE, key=lambda i: ("environment.html", "docs/git-guide.md", "keys.html", "blog/pem-files.html")[i]),
        ),
        Case("single_probe", False, s3_access=access(1, bucket=CASE_SITE, key=".env", http_status=404)),
        Case("deploy_uploads_a_certificate", False, s3_access=access(3, bucket=CASE_SITE, operation="REST.PUT.OBJECT", key=lambda i: ("a.pem", "b.pem", "c.pem")[i])),
    ),
)

PRESIGNED_URL_ABUSE = Detection(
    id="presigned_url_abuse",
    title="Presigned URL replayed or long-lived",
    severity="medium",
    technique="T1550.001 Use Alternate Authentication Material: Application Access Token",
    sources=("s3_access",),
    summary="presigned URL {signature_prefix}... signed by {principal} used {event_count} time(s) from {distinct_ips} IP(s) on {bucket} (expires {expires_seconds} s)",
    runbook=(
        "A presigned link used from many places was shared beyond its recipient. Find who signed it "
        "(principal) and why; deactivate the signing key or session to revoke all its links; "
        "shorten X-Amz-Expires in the application that signs them."
    ),
    false_positives=("A link sent to a mailing list on purpose", "Mobile clients changing IPs"),
    limits=(("min_distinct_ips", 2, None), ("min_uses", 1, None), ("max_expires_seconds", 1, 604800)),
    cases=(
        Case(
            "one_link_from_five_ips",
            True,
            s3_access=access(_SHARED_IPS, requester=_USER, authentication_type="QueryString", signature_version="SigV4", remote_ip="203.0.113.{i}", request_uri=_signed_uri(_SIG), key="reports/q3.csv"),
            # Used from several IPs: the finding names none.
            expect=(
                run_finding(_SHARED_IPS, bucket=CASE_DATA, source_ip=None, principal=_USER),
            ),
        ),
        Case(
            "link_used_twice",
            False,
            s3_access=access(2, requester=_USER, authentication_type="QueryString", signature_version="SigV4", remote_ip="203.0.113.{i}", request_uri=_signed_uri(_SIG), key="reports/q3.csv"),
        ),
        Case(
            "week_long_link",
            True,
            s3_access=access(1, requester=_USER, authentication_type="QueryString", signature_version="SigV4", request_uri=_signed_uri(_SIG, expires=604800), key="reports/q3.csv"),
            expect=(run_finding(1, bucket=CASE_DATA, source_ip=CASE_IP, principal=_USER),),
        ),
    ),
)

INSECURE_TRANSPORT = Detection(
    id="insecure_transport",
    title="Insecure transport (plain HTTP or outdated TLS)",
    severity="low",
    technique="T1557 Adversary-in-the-Middle",
    sources=("s3_access",),
    summary="{event_count} request(s) to {bucket} over {transport} from {actor}",
    runbook=(
        "Add a bucket policy statement denying aws:SecureTransport=false (and s3:TlsVersion < 1.2); "
        "find the client (user agent, principal) and upgrade it."
    ),
    false_positives=("The S3 website endpoint of a public site is HTTP-only (profile public_site)", "Old SDKs on legacy hosts"),
    limits=(("min_requests", 1, None),),
    cases=(
        Case(
            "signed_request_over_http",
            True,
            s3_access=access(_INSECURE, requester=_USER, signature_version="SigV4", authentication_type="AuthHeader", tls_version=None, cipher_suite=None),
            expect=(_insecure_finding(),),
        ),
        Case(
            "tls_1_0_client",
            True,
            s3_access=access(_INSECURE, requester=_USER, signature_version="SigV4", authentication_type="AuthHeader", tls_version="TLSv1"),
            expect=(_insecure_finding(),),
        ),
        Case("website_endpoint_over_http", False, s3_access=access(5, bucket=CASE_SITE, operation="WEBSITE.GET.OBJECT", tls_version=None, cipher_suite=None)),
        Case("tls_1_3_client", False, s3_access=access(5, requester=_USER, signature_version="SigV4", authentication_type="AuthHeader")),
    ),
)

DETECTIONS = (SCANNER_USER_AGENT, SECRET_FILE_PROBING, PRESIGNED_URL_ABUSE, INSECURE_TRANSPORT)
