"""Traffic detections over S3 server access logs: volume, denials, egress, first-seen readers."""

from __future__ import annotations

import datetime as dt

from s3forensics.detections.base import (
    CASE_ACCOUNT,
    CASE_AT,
    CASE_DATA,
    CASE_IP,
    CASE_SITE,
    CASE_START,
    Case,
    Detection,
    access,
    finding,
    run_finding,
)

_ROLE = f"arn:aws:sts::{CASE_ACCOUNT}:assumed-role/analytics-export/export-job"
_MIB = 1024 * 1024
#: Another session of the same role (instance credentials, a new session name each time).
_ROLE_TONIGHT = f"arn:aws:sts::{CASE_ACCOUNT}:assumed-role/analytics-export/i-0b2c3d4e5f6071829"
_SEC = dt.timedelta(seconds=1)

# Row counts of the firing cases, shared by their rows and their expected findings.
#: GETs of the flood, one every 100 ms: 200 s, all inside one 5-minute period.
_FLOOD, _FLOOD_EVERY = 2000, dt.timedelta(milliseconds=100)
_DENIED = 30
_ANONYMOUS = 3
#: 600 reads of 1 MiB in 10 minutes: 600 MiB in one hour, above the 256 MiB threshold.
_EXPORTS = 600
_NEW_READS = 10
#: HEADs, one every 5 s (20 min 45 s), and ACL reads, one a second, in one hour.
_HEADS, _HEAD_EVERY, _ACL_READS = 250, dt.timedelta(seconds=5), 5

#: Yesterday's nightly batch read at the same hour: the role's other session, a VPC address.
_FAST_NIGHTLY = access(_FLOOD, at=CASE_AT - dt.timedelta(days=1), every=_FLOOD_EVERY, requester=_ROLE, remote_ip="10.20.1.5", request_id="Y{i}")

REQUEST_RATE_SPIKE = Detection(
    id="request_rate_spike",
    title="Request-rate spike from one IP or on a bucket",
    severity="medium",
    technique="T1499.002 Endpoint Denial of Service: Service Exhaustion Flood",
    sources=("s3_access",),
    summary="{scope} spike on {bucket} from {source_ip}: {event_count} GETs in {periods} hot period(s), peak {peak} per period, {bytes_h} sent",
    runbook=(
        "Check whether the source is a known crawler, monitoring probe or CDN; look at the keys "
        "it asked for (evidence) and its user agents (s3_access__operations_by_user_agent). A "
        "flood from one IP on a public site: rate-limit or block it at CloudFront/WAF; on a "
        "private bucket: find the principal and revoke its credentials."
    ),
    false_positives=("Search-engine crawlers and uptime probes", "A CDN origin fetch storm after a cache purge", "Load tests the team forgot to announce"),
    limits=(("period_minutes", 1, 1440), ("max_requests_per_ip", 1, None), ("max_requests_total", 1, None)),
    cases=(
        Case(
            "one_ip_floods_gets",
            True,
            s3_access=access(_FLOOD, every=_FLOOD_EVERY, bucket=CASE_SITE),
            expect=(
                run_finding(_FLOOD, bucket=CASE_SITE, source_ip=CASE_IP, principal=None, every=_FLOOD_EVERY),
            ),
        ),
        Case("busy_but_under_threshold", False, s3_access=access(550, every=dt.timedelta(milliseconds=500), bucket=CASE_SITE)),
        # A nightly batch read: the same role (another session) from the VPC as fast at the
        # same hour yesterday. Routine; the same role from a public address is not.
        Case(
            "nightly_batch_reads_from_the_vpc",
            False,
            s3_access=_FAST_NIGHTLY + access(_FLOOD, every=_FLOOD_EVERY, requester=_ROLE_TONIGHT, remote_ip="10.20.3.7", request_id="T{i}"),
        ),
        Case(
            "batch_role_as_fast_from_a_public_address",
            True,
            s3_access=_FAST_NIGHTLY + access(_FLOOD, every=_FLOOD_EVERY, requester=_ROLE_TONIGHT, remote_ip="203.0.113.50", request_id="T{i}"),
            expect=(run_finding(_FLOOD, bucket=CASE_DATA, source_ip="203.0.113.50", principal=_ROLE_TONIGHT, every=_FLOOD_EVERY),),
        ),
        Case("flood_of_heads_not_gets", False, s3_access=access(2000, every=dt.timedelta(milliseconds=100), bucket=CASE_SITE, operation="REST.HEAD.OBJECT")),
        Case(
            "allowlisted_monitoring_network",
            False,
            s3_access=access(2000, every=dt.timedelta(milliseconds=100), bucket=CASE_SITE, remote_ip="192.0.2.44"),
            allow={"cidrs": ("192.0.2.0/26",)},
        ),
    ),
)

ACCESS_DENIED_BURST = Detection(
    id="access_denied_burst",
    title="Burst of access-denied answers",
    severity="medium",
    technique="T1619 Cloud Storage Object Discovery",
    sources=("s3_access",),
    summary="{event_count} requests from {actor} denied on {bucket} ({periods} burst period(s), peak {peak})",
    runbook=(
        "Denials in bursts across many keys mean someone probes for objects or permissions. Read "
        "the denied keys (evidence); if a principal is named, check what it was trying to do and "
        "whether its credentials leaked. Denials from one broken deploy job usually hit one prefix."
    ),
    false_positives=("A misconfigured job after a policy change", "Browsers following dead links on a site with a private bucket behind it"),
    limits=(("period_minutes", 1, 1440), ("min_denied", 1, None), ("min_distinct_keys", 1, None)),
    cases=(
        Case(
            "many_keys_denied",
            True,
            s3_access=access(_DENIED, http_status=403, error_code="AccessDenied", bytes_sent=243),
            # The detection reports no bytes (0) for denials.
            expect=(
                run_finding(_DENIED, bucket=CASE_DATA, source_ip=CASE_IP, principal=None, size=0),
            ),
        ),
        Case("retry_loop_on_one_key", False, s3_access=access(30, http_status=403, error_code="AccessDenied", key="reports/q3.csv")),
        Case("few_denials", False, s3_access=access(15, http_status=403, error_code="AccessDenied")),
    ),
)

ANONYMOUS_ACCESS_PRIVATE = Detection(
    id="anonymous_access_private",
    title="Anonymous access succeeded on a bucket that needs authentication",
    severity="high",
    technique="T1530 Data from Cloud Storage",
    sources=("s3_access",),
    summary="{event_count} anonymous request(s) from {source_ip} succeeded on {profile} bucket {bucket} ({bytes_h} sent)",
    runbook=(
        "The bucket answers unauthenticated requests: check its policy, ACLs and Block Public "
        "Access now (s3forensics check). Restore the block, then list what was read (evidence and "
        "s3_access__objects_read_by_actor) to judge the exposure."
    ),
    false_positives=("A bucket that is really public but whose profile says private: fix the profile",),
    limits=(("min_requests", 1, None),),
    cases=(
        Case(
            "anonymous_read_on_private_bucket",
            True,
            s3_access=access(_ANONYMOUS),
            expect=(
                run_finding(_ANONYMOUS, bucket=CASE_DATA, source_ip=CASE_IP, principal=None),
            ),
        ),
        Case("anonymous_read_on_public_site", False, s3_access=access(3, bucket=CASE_SITE)),
        Case("anonymous_attempt_denied", False, s3_access=access(3, http_status=403, error_code="AccessDenied")),
    ),
)

#: Yesterday's run of a nightly job: the analytics role, another session, a VPC address.
_NIGHTLY = access(
    _EXPORTS, at=CASE_AT - dt.timedelta(days=1), requester=_ROLE, remote_ip="10.20.1.5", bytes_sent=_MIB, object_size=_MIB,
    key="exports/old-{i}.parquet", request_id="NIGHT{i}",
)

LARGE_EGRESS = Detection(
    id="large_egress",
    title="Large egress to one source",
    severity="high",
    technique="T1530 Data from Cloud Storage",
    sources=("s3_access",),
    summary="{bytes_h} of {bucket} sent to {actor} from {source_ip} ({event_count} requests, {objects} objects, {periods} heavy period(s))",
    runbook=(
        "Confirm whether the principal and IP are expected to move this much data (a backup, an "
        "export job). If not, revoke the principal's sessions, block the IP, and list the objects "
        "read (s3_access__objects_read_by_actor) for the breach assessment."
    ),
    false_positives=("Backups, replication and analytics exports", "Large media downloads from a public site"),
    limits=(("period_minutes", 1, 1440), ("min_bytes", 1, None), ("min_bytes_public", 1, None)),
    cases=(
        Case(
            "role_downloads_600_mib_in_an_hour",
            True,
            s3_access=access(_EXPORTS, requester=_ROLE, remote_ip="203.0.113.50", bytes_sent=_MIB, object_size=_MIB, key="exports/part-{i}.parquet"),
            expect=(
                run_finding(_EXPORTS, bucket=CASE_DATA, source_ip="203.0.113.50", principal=_ROLE, size=_MIB),
            ),
        ),
        Case("same_volume_from_public_site", False, s3_access=access(600, bucket=CASE_SITE, bytes_sent=_MIB, object_size=_MIB)),
        Case("spread_over_many_hours", False, s3_access=access(600, every=dt.timedelta(seconds=30), requester=_ROLE, bytes_sent=_MIB, object_size=_MIB)),
        # A nightly job: the same role, a new session name and a new worker address inside
        # the VPC, heavy at the same hour yesterday. Routine, not a leak.
        Case("nightly_job_new_session_in_the_vpc", False, s3_access=_NIGHTLY + access(_EXPORTS, requester=_ROLE_TONIGHT, remote_ip="10.20.3.7", bytes_sent=_MIB, object_size=_MIB)),
        # The same role at the same hour, but from a public address it never used: reported.
        Case(
            "nightly_job_role_from_a_new_public_address",
            True,
            s3_access=_NIGHTLY + access(_EXPORTS, requester=_ROLE_TONIGHT, remote_ip="203.0.113.50", bytes_sent=_MIB, object_size=_MIB),
            expect=(run_finding(_EXPORTS, bucket=CASE_DATA, source_ip="203.0.113.50", principal=_ROLE_TONIGHT, size=_MIB),),
        ),
        # CloudFront filling its caches from an origin (origin access control signs as the
        # service principal, CloudFront developer guide): the bytes go to the CDN.
        Case(
            "cloudfront_cache_fill_from_its_origin",
            False,
            s3_access=access(
                _EXPORTS, requester="svc:cloudfront.amazonaws.com", remote_ip="198.51.100.170", user_agent="Amazon CloudFront", bytes_sent=_MIB, object_size=_MIB
            ),
        ),
    ),
)

#: The role seen from the VPC before the window.
_NIGHTLY_VPC = access(3, at=CASE_START - dt.timedelta(days=2), requester=_ROLE, remote_ip="10.20.1.5", key="exports/vpc-{i}.csv", request_id="VPC{i}")
_HISTORY = access(20, at=CASE_START - dt.timedelta(days=3), every=dt.timedelta(minutes=5), requester=_ROLE, remote_ip="192.0.2.10", key="exports/old-{i}.csv", request_id="OLD{i}")

NEW_PRINCIPAL_OR_IP_READING = Detection(
    id="new_principal_or_ip_reading",
    title="New principal or IP reading data",
    severity="medium",
    technique="T1078.004 Valid Accounts: Cloud Accounts",
    sources=("s3_access",),
    summary="{new_what} never seen on {bucket} in the lookback read {event_count} object(s) ({objects} distinct, {bytes_h}) as {actor} from {source_ip}",
    runbook=(
        "A known principal from a new IP may mean stolen credentials; a new principal may be a new "
        "job. Ask the owner of the principal; check CloudTrail for the session (AssumeRole source "
        "IP, user agent). If unexplained, revoke the role's sessions and rotate its keys."
    ),
    false_positives=("New office or VPN egress IPs", "A new job or team member", "Short history: widen lookback_days"),
    limits=(("lookback_days", 1, 366), ("warmup_hours", 0, 24 * 366), ("min_reads", 1, None)),
    cases=(
        Case(
            "known_role_from_new_ip",
            True,
            s3_access=_HISTORY + access(_NEW_READS, requester=_ROLE, remote_ip="203.0.113.66", key="exports/new-{i}.csv"),
            # Only the reads of the window count; the history is before it.
            expect=(
                run_finding(_NEW_READS, bucket=CASE_DATA, source_ip="203.0.113.66", principal=_ROLE),
            ),
        ),
        # A role is one principal whatever its session; its new VPC worker is not a new place.
        Case(
            "known_role_new_session_on_a_new_private_address",
            False,
            s3_access=_HISTORY + access(10, requester=_ROLE_TONIGHT, remote_ip="10.20.3.7", key="exports/new-{i}.csv") + _NIGHTLY_VPC,
        ),
        Case("known_role_from_known_ip", False, s3_access=_HISTORY + access(10, requester=_ROLE, remote_ip="192.0.2.10", key="exports/new-{i}.csv")),
        Case("new_anonymous_visitor_on_public_site", False, s3_access=_HISTORY + access(10, bucket=CASE_SITE, remote_ip="203.0.113.67")),
        Case(
            "everything_new_during_warmup",
            False,
            s3_access=access(10, at=CASE_START + dt.timedelta(hours=1), requester=_ROLE, remote_ip="203.0.113.68"),
        ),
    ),
)

ENUMERATION = Detection(
    id="enumeration",
    title="Enumeration of bucket contents or configuration",
    severity="medium",
    technique="T1619 Cloud Storage Object Discovery",
    sources=("s3_access", "cloudtrail"),
    summary="{event_count} list/HEAD/ACL/policy reads on {bucket} by {actor} from {source_ip} ({operation_names})",
    runbook=(
        "Listing and configuration reads in bulk precede exfiltration. Identify the principal; if it "
        "is not an inventory or audit tool, check what it read next (large_egress, "
        "new_principal_or_ip_reading) and contain its credentials."
    ),
    false_positives=("Backup and sync tools (rclone, aws s3 sync) listing before copying", "Security scanners and CSPM audits"),
    limits=(("period_minutes", 1, 1440), ("min_requests", 1, None), ("min_operations", 1, None)),
    cases=(
        Case(
            "bulk_heads_and_acl_reads",
            True,
            s3_access=access(_HEADS, every=_HEAD_EVERY, operation="REST.HEAD.OBJECT", requester=_ROLE) + access(_ACL_READS, operation="REST.GET.ACL", requester=_ROLE),
            # The last HEAD is the last call (the ACL reads are in the first seconds).
            expect=(
                finding(
                    bucket=CASE_DATA,
                    source_ip=CASE_IP,
                    principal=_ROLE,
                    first_seen=CASE_AT,
                    last_seen=CASE_AT + (_HEADS - 1) * _HEAD_EVERY,
                    event_count=_HEADS + _ACL_READS,
                    bytes=0,
                ),
            ),
        ),
        Case("a_few_listings", False, s3_access=access(150, every=dt.timedelta(seconds=20), operation="REST.GET.BUCKET", key=None, requester=_ROLE)),
    ),
)

DETECTIONS = (REQUEST_RATE_SPIKE, ACCESS_DENIED_BURST, ANONYMOUS_ACCESS_PRIVATE, LARGE_EGRESS, NEW_PRINCIPAL_OR_IP_READING, ENUMERATION)
