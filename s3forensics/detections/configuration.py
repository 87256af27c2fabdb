"""Control-plane and destruction detections over CloudTrail (and access logs for deletes)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from s3forensics.detections.base import (
    CASE_ACCOUNT,
    CASE_ADMIN,
    CASE_AT,
    CASE_DATA,
    CASE_IP,
    CASE_SITE,
    CASE_TRAIL_IP,
    Case,
    Detection,
    access,
    run_finding,
    trail,
)
from s3forensics.detections.policy_grants import made_public
from s3forensics.queries import Param

_ADMIN = CASE_ADMIN
#: AWS documentation's second example account, standing for "not ours".
_FOREIGN = "444455556666"
_FOREIGN_ROLE = f"arn:aws:sts::{_FOREIGN}:assumed-role/copier/s"
_SEC = dt.timedelta(seconds=1)
# Row counts of the firing cases, shared by their rows and their expected findings.
_FOREIGN_READS = 3
_BATCH_DELETES = 80
_SSEC_WRITES = 6


def _one_call(bucket: str | None = CASE_DATA) -> dict[str, Any]:
    """The finding of one default :func:`trail` call (the case admin, at :data:`CASE_AT`), no bytes."""
    return run_finding(1, bucket=bucket, source_ip=CASE_TRAIL_IP, principal=_ADMIN, size=0)


def _policy(principal: object, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{CASE_DATA}/*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"bucketName": CASE_DATA, "bucketPolicy": {"Version": "2012-10-17", "Statement": [statement]}, "policy": [""]})


def _pab(value: bool) -> str:
    """requestParameters of PutBucketPublicAccessBlock with all four settings at ``value``."""
    config = {name: value for name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    return json.dumps({"publicAccessBlock": "", "bucketName": CASE_DATA, "PublicAccessBlockConfiguration": config})


def _ssec(i: int) -> str:
    return json.dumps({"bucketName": CASE_DATA, "key": f"reports/file-{i}.csv", "x-amz-server-side-encryption-customer-algorithm": "AES256"})


def _kms(i: int, key_account: str | None = None) -> str:
    params = {"bucketName": CASE_DATA, "key": f"reports/file-{i}.csv", "x-amz-server-side-encryption": "aws:kms"}
    if key_account:
        params["x-amz-server-side-encryption-aws-kms-key-id"] = f"arn:aws:kms:us-east-1:{key_account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return json.dumps(params)


BUCKET_MADE_PUBLIC = Detection(
    id="bucket_made_public",
    title="Bucket made public or opened to another account",
    severity="critical",
    technique="T1562.007 Impair Defenses: Disable or Modify Cloud Firewall",
    sources=("cloudtrail",),
    summary="{principal} opened {bucket} from {source_ip}: {changes} ({operation_names})",
    runbook=(
        "Restore Block Public Access on the bucket (s3forensics respond), then roll the policy or "
        "ACL back. Ask the principal whether the change was intended; read the access logs of the "
        "bucket from the change on (anonymous_access_private) to see what was read."
    ),
    false_positives=(
        "Intended publication of a new static site: give the bucket the public_site profile",
        "A partner's account granted on purpose (add it to own_accounts)",
    ),
    extra_params=(Param("public_buckets", "array(varchar)", (), False, "buckets public by design (profile public_site): only grants to other accounts reported"),),
    analyse=made_public,
    cases=(
        Case("policy_grants_everyone", True, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy("*")), expect=(_one_call(),)),
        Case("policy_grants_aws_star", True, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy({"AWS": "*"})), expect=(_one_call(),)),
        Case(
            "public_access_block_removed",
            True,
            cloudtrail=trail(1, event_name="DeleteBucketPublicAccessBlock", request_parameters=json.dumps({"bucketName": CASE_DATA})),
            expect=(_one_call(),),
        ),
        # CloudTrail names bucket-level Block Public Access calls Put/DeleteBucketPublicAccessBlock
        # and account-level ones Put/DeleteAccountPublicAccessBlock (not the SDK's method names);
        # an errorCode of "" is a success (as in the public rule-test records of the corpus).
        Case("public_access_block_relaxed", True, cloudtrail=trail(1, event_name="PutBucketPublicAccessBlock", request_parameters=_pab(False)), expect=(_one_call(),)),
        Case(
            "account_public_access_block_removed",
            True,
            cloudtrail=trail(1, event_name="DeleteAccountPublicAccessBlock", bucket_name=None, request_parameters=None),
            expect=(_one_call(bucket=None),),
        ),
        Case(
            "removed_with_an_empty_error_code",
            True,
            cloudtrail=trail(1, event_name="DeleteBucketPublicAccessBlock", error_code="", request_parameters=json.dumps({"bucketName": CASE_DATA})),
            expect=(_one_call(),),
        ),
        Case("public_access_block_tightened", False, cloudtrail=trail(1, event_name="PutBucketPublicAccessBlock", request_parameters=_pab(True))),
        Case("policy_grants_one_role", False, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy({"AWS": f"arn:aws:iam::{CASE_ACCOUNT}:role/reader"}))),
        Case("public_site_policy_updated", False, cloudtrail=trail(1, event_name="PutBucketPolicy", bucket_name=CASE_SITE, request_parameters=_policy("*").replace(CASE_DATA, CASE_SITE))),
        Case("refused_attempt", False, cloudtrail=trail(1, event_name="PutBucketPolicy", error_code="AccessDenied", request_parameters=_policy("*"))),
        # Principal "*" held to fixed callers by a condition is not public (S3 API Reference,
        # PublicAccessBlockConfiguration: "Amazon S3 considers a bucket policy public unless...").
        Case("everyone_in_our_organisation", False, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy("*", {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}}))),
        Case("everyone_through_our_vpc_endpoint", False, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))),
        Case("everyone_from_our_office", False, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy({"AWS": "*"}, {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}}))),
        Case("everyone_from_every_address", True, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})), expect=(_one_call(),)),
        Case("everyone_with_a_wildcard_org", True, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy("*", {"StringLike": {"aws:PrincipalOrgID": "o-*"}})), expect=(_one_call(),)),
        # A backdoor: the policy lets another account in, reported even on a public site.
        Case("policy_grants_a_foreign_account", True, cloudtrail=trail(1, event_name="PutBucketPolicy", request_parameters=_policy({"AWS": f"arn:aws:iam::{_FOREIGN}:root"})), expect=(_one_call(),)),
        Case(
            "public_site_opened_to_a_foreign_account",
            True,
            cloudtrail=trail(1, event_name="PutBucketPolicy", bucket_name=CASE_SITE, request_parameters=_policy({"AWS": [_FOREIGN]}).replace(CASE_DATA, CASE_SITE)),
            expect=(_one_call(bucket=CASE_SITE),),
        ),
    ),
)

LOGGING_EVASION = Detection(
    id="logging_evasion",
    title="Logging disabled or changed",
    severity="high",
    technique="T1562.008 Impair Defenses: Disable or Modify Cloud Logs",
    sources=("cloudtrail",),
    summary="{principal} from {source_ip}: {changes} on {targets} ({refused} refused)",
    runbook=(
        "Re-enable the logging at once (PutBucketLogging / StartLogging), then treat everything the "
        "principal did in the hour around it as hostile until explained: an attacker blinds the "
        "logs before acting."
    ),
    false_positives=("Planned trail reorganisation", "Moving access logs to a new target bucket (a disable then an enable)"),
    cases=(
        Case(
            "access_logging_disabled",
            True,
            cloudtrail=trail(1, event_name="PutBucketLogging", request_parameters=json.dumps({"bucketName": CASE_DATA, "BucketLoggingStatus": {}})),
            expect=(_one_call(),),
        ),
        Case(
            "trail_stopped",
            True,
            cloudtrail=trail(1, event_source="cloudtrail.amazonaws.com", event_name="StopLogging", bucket_name=None, request_parameters=json.dumps({"name": "s3f-case-trail"})),
            # A trail is no bucket: the finding has none.
            expect=(_one_call(bucket=None),),
        ),
        Case(
            "access_logging_enabled",
            False,
            cloudtrail=trail(1, event_name="PutBucketLogging", request_parameters=json.dumps({"bucketName": CASE_DATA, "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "a/"}}})),
        ),
        Case("trail_started", False, cloudtrail=trail(1, event_source="cloudtrail.amazonaws.com", event_name="StartLogging", bucket_name=None)),
        # A PutBucketLogging record without BucketLoggingStatus (as in the corpus's "Logging Field
        # Missing" record) does not say logging was turned off.
        Case("logging_status_not_recorded", False, cloudtrail=trail(1, event_name="PutBucketLogging", request_parameters=json.dumps({"bucketName": CASE_DATA}))),
        Case("logging_parameters_absent", False, cloudtrail=trail(1, event_name="PutBucketLogging", request_parameters=None)),
        Case("stop_logging_of_another_service", False, cloudtrail=trail(1, event_source="example.amazonaws.com", event_name="StopLogging", bucket_name=None)),
    ),
)

_DROP_BUCKET = "drop-bucket-of-another-account"


def _copy_into_drop(i: int) -> str:
    """CopyObject's requestParameters: the destination as bucketName, the source as x-amz-copy-source."""
    key = f"exports/part-{i}.parquet"
    return json.dumps({"bucketName": _DROP_BUCKET, "key": key, "x-amz-copy-source": f"{CASE_DATA}/{key}"})


_FOREIGN_ROLE_TONIGHT = _FOREIGN_ROLE.rsplit("/", 1)[0] + "/sync-29"


def _partner_reads(at: dt.datetime, principal: str = _FOREIGN_ROLE_TONIGHT, request: str = "P") -> tuple[dict[str, Any], ...]:
    return trail(
        _FOREIGN_READS, at=at, event_name="GetObject", management_event=False, event_category="Data", object_key="exports/part-{i}.parquet",
        user_identity_type="AssumedRole", user_identity_arn=principal, user_identity_account_id=_FOREIGN, request_id=request + "{i}",
    )  # fmt: skip


_PARTNER_YESTERDAY = _partner_reads(CASE_AT - dt.timedelta(days=1), _FOREIGN_ROLE, "Y")

CROSS_ACCOUNT_COPY = Detection(
    id="cross_account_copy",
    title="Data copied or replicated to another account",
    severity="high",
    technique="T1537 Transfer Data to Cloud Account",
    sources=("cloudtrail", "s3_access"),
    summary="{kind} on {bucket}: {principal} (account {account}) {operation_names}, {objects} object(s), {bytes_h}",
    runbook=(
        "Find which policy or ACL lets the foreign account in (bucket policy, access point, "
        "replication role) and remove it; ask whether the account belongs to a partner. A "
        "replication rule to an unknown account copies every new object: delete it first."
    ),
    false_positives=("Partners' accounts reading shared data (add them to own_accounts)", "Organisation backup accounts"),
    limits=(("min_objects", 1, None),),
    # Identities: AWSAccount callers of another account count; AWSAccount with accountId
    # ANONYMOUS_PRINCIPAL (anonymous) and AWSService do not.
    cases=(
        Case(
            "foreign_account_reads_objects",
            True,
            cloudtrail=trail(
                _FOREIGN_READS,
                event_name="GetObject",
                management_event=False,
                event_category="Data",
                object_key="exports/part-{i}.parquet",
                user_identity_type="AssumedRole",
                user_identity_arn=_FOREIGN_ROLE,
                user_identity_account_id=_FOREIGN,
            ),
            # The rows carry no bytes_transferred_out: 0 bytes.
            expect=(
                run_finding(_FOREIGN_READS, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_FOREIGN_ROLE, size=0),
            ),
        ),
        # A partner's daily sync: the same foreign role (another session) from the same
        # address at the same hour yesterday is routine; the first day it is reported.
        Case("partner_daily_sync", False, cloudtrail=_PARTNER_YESTERDAY + _partner_reads(CASE_AT)),
        Case(
            "partner_role_at_another_hour",
            True,
            cloudtrail=_PARTNER_YESTERDAY + _partner_reads(CASE_AT + dt.timedelta(hours=6)),
            expect=(
                run_finding(_FOREIGN_READS, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_FOREIGN_ROLE_TONIGHT, size=0, at=CASE_AT + dt.timedelta(hours=6)),
            ),
        ),
        Case(
            "replication_configured",
            True,
            cloudtrail=trail(1, event_name="PutBucketReplication", request_parameters=json.dumps({"bucketName": CASE_DATA, "ReplicationConfiguration": {"Rule": {"Destination": {"Account": _FOREIGN}}}})),
            expect=(_one_call(),),
        ),
        Case("own_account_reads", False, cloudtrail=trail(3, event_name="GetObject", management_event=False, event_category="Data", object_key="exports/part-{i}.parquet")),
        Case("aws_service_reads", False, cloudtrail=trail(3, event_name="GetObject", user_identity_type="AWSService", user_identity_arn=None, user_identity_account_id=_FOREIGN, object_key="k{i}")),
        # A copy by our own role into a bucket another account owns: CloudTrail names each
        # bucket's owner in resources[].accountId (kept as resource_account_ids).
        Case(
            "copied_into_a_foreign_bucket",
            True,
            cloudtrail=trail(
                _FOREIGN_READS, event_name="CopyObject", management_event=False, event_category="Data", object_key="exports/part-{i}.parquet",
                resource_account_ids=[CASE_ACCOUNT, None, _FOREIGN, None],
            ),
            expect=(run_finding(_FOREIGN_READS, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_ADMIN, size=0),),
        ),
        # As CloudTrail records it: bucketName is the destination, x-amz-copy-source names the
        # bucket the data left (S3 API reference, CopyObject); the finding names that bucket.
        Case(
            "copied_into_a_foreign_bucket_named_as_destination",
            True,
            cloudtrail=trail(
                _FOREIGN_READS, event_name="CopyObject", management_event=False, event_category="Data", object_key="exports/part-{i}.parquet",
                bucket_name=_DROP_BUCKET, resource_account_ids=[CASE_ACCOUNT, None, _FOREIGN, None], request_parameters=_copy_into_drop,
            ),
            expect=(run_finding(_FOREIGN_READS, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_ADMIN, size=0),),
        ),
        Case(
            "copied_within_our_account",
            False,
            cloudtrail=trail(3, event_name="CopyObject", management_event=False, event_category="Data", object_key="k{i}", resource_account_ids=[CASE_ACCOUNT, None, CASE_ACCOUNT, None]),
        ),
        # Anonymous requests: CloudTrail records userIdentity {"type": "AWSAccount",
        # "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"} (CloudTrail User Guide,
        # userIdentity element; the public honey-bucket data events in ../shared/corpus).
        # Nobody's account: anonymous_access_private judges them, not this detection.
        Case(
            "anonymous_rest_reads",
            False,
            cloudtrail=trail(
                5, event_name="GetObject", management_event=False, event_category="Data", object_key="dl/file-{i}.zip",
                user_identity_type="AWSAccount", user_identity_arn=None, user_identity_principal_id="",
                user_identity_account_id="ANONYMOUS_PRINCIPAL", source_ip_address="203.0.113.{i}",
            ),
        ),
    ),
)

_COMPACTION_TONIGHT = f"arn:aws:sts::{CASE_ACCOUNT}:assumed-role/emr-batch/emr-batch-26"
#: Yesterday's compaction: the batch role, another session, another VPC address.
_COMPACTED = access(
    _BATCH_DELETES, at=CASE_AT - dt.timedelta(days=1), operation="BATCH.DELETE.OBJECT", http_status=204,
    requester=f"arn:aws:sts::{CASE_ACCOUNT}:assumed-role/emr-batch/emr-batch-2", remote_ip="10.20.1.5", bytes_sent=None,
    key="raw/old-{i}.json.gz", request_id="OLD{i}",
)

#: The request body of a DeleteObjects call of 1,000 keys of about 60 characters.
_FULL_BATCH_BYTES = 1_000 * (len("<Object><Key></Key></Object>") + 60)

MASS_DELETE = Detection(
    id="mass_delete",
    title="Mass deletion of objects",
    severity="critical",
    technique="T1485 Data Destruction",
    sources=("s3_access", "cloudtrail"),
    summary="{objects_deleted} object(s) deleted on {bucket} by {actor} from {source_ip} via {origin} ({event_count} call(s): {operation_names})",
    runbook=(
        "Stop the principal (revoke sessions, deny s3:Delete*), then recover: with versioning, "
        "remove the delete markers; without it, restore from backup. Check for versioning suspended "
        "or a lifecycle rule added at the same time (recovery_weakened)."
    ),
    false_positives=("Planned clean-ups and retention jobs", "Site deploys that sync with --delete"),
    limits=(("period_minutes", 1, 1440), ("min_deletes", 1, None)),
    cases=(
        Case(
            "batch_delete_of_80_objects",
            True,
            s3_access=access(_BATCH_DELETES, operation="BATCH.DELETE.OBJECT", http_status=204, requester=_ADMIN, key="exports/part-{i}.parquet", bytes_sent=None),
            # Bytes deleted: the object_size of each row.
            expect=(
                run_finding(_BATCH_DELETES, bucket=CASE_DATA, source_ip=CASE_IP, principal=_ADMIN),
            ),
        ),
        Case("bucket_deleted_with_an_empty_error_code", True, cloudtrail=trail(1, event_name="DeleteBucket", error_code=""), expect=(_one_call(),)),
        # A nightly compaction: the same role (another session) from the VPC deleting as many
        # at the same hour yesterday is routine; ten times as many is not.
        Case(
            "nightly_compaction_from_the_vpc",
            False,
            s3_access=_COMPACTED + access(_BATCH_DELETES, operation="BATCH.DELETE.OBJECT", http_status=204, requester=_COMPACTION_TONIGHT, remote_ip="10.20.3.7", bytes_sent=None),
        ),
        Case(
            "compaction_role_deletes_ten_times_more",
            True,
            s3_access=_COMPACTED[:8] + access(_BATCH_DELETES, operation="BATCH.DELETE.OBJECT", http_status=204, requester=_COMPACTION_TONIGHT, remote_ip="10.20.3.7", bytes_sent=None),
            expect=(run_finding(_BATCH_DELETES, bucket=CASE_DATA, source_ip="10.20.3.7", principal=_COMPACTION_TONIGHT),),
        ),
        # CloudTrail alone: DeleteObjects names no key (it takes up to 1,000; S3 user guide,
        # logging options compared), so each call counts the keys its request body can hold.
        Case(
            "three_full_batches_seen_in_cloudtrail_only",
            True,
            cloudtrail=trail(3, event_name="DeleteObjects", management_event=False, event_category="Data", bytes_transferred_in=_FULL_BATCH_BYTES, request_id="DEL{i}"),
            expect=(run_finding(3, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_ADMIN, size=0),),
        ),
        Case(
            "one_small_batch_seen_in_cloudtrail_only",
            False,
            cloudtrail=trail(1, event_name="DeleteObjects", management_event=False, event_category="Data", bytes_transferred_in=2_000),
        ),
        Case("thirty_deletes", False, s3_access=access(30, operation="REST.DELETE.OBJECT", http_status=204, requester=_ADMIN, bytes_sent=None)),
        Case("lifecycle_transition_only", False, cloudtrail=trail(1, event_name="PutBucketLifecycleConfiguration", request_parameters=json.dumps({"bucketName": CASE_DATA, "LifecycleConfiguration": {"Rule": {"Transition": {"Days": 30}}}}))),
    ),
)

SSEC_REENCRYPTION = Detection(
    id="ssec_reencryption",
    title="Objects re-encrypted with keys the owner does not hold (SSE-C, another account's KMS key)",
    severity="critical",
    technique="T1486 Data Encrypted for Impact",
    sources=("cloudtrail",),
    summary="{principal} from {source_ip} rewrote {objects} object(s) of {bucket} with {kind} ({operation_names})",
    runbook=(
        "Ransomware pattern: the attacker encrypts objects with a key only they hold, then deletes "
        "the originals. Revoke the principal now, block s3:PutObject with SSE-C by policy "
        "(s3:x-amz-server-side-encryption-customer-algorithm), restore from versions or backups."
    ),
    false_positives=("Applications that use SSE-C by design (allowlist their principals)", "A partner's KMS key used on purpose (add the account to own_accounts)"),
    limits=(("min_objects", 1, None),),
    cases=(
        Case(
            "six_objects_rewritten_with_ssec",
            True,
            cloudtrail=trail(_SSEC_WRITES, event_name="CopyObject", management_event=False, object_key="reports/file-{i}.csv", request_parameters=_ssec),
            # The rows carry no bytes_transferred_in: 0 bytes.
            expect=(
                run_finding(_SSEC_WRITES, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_ADMIN, size=0),
            ),
        ),
        Case("kms_rewrites", False, cloudtrail=trail(6, event_name="CopyObject", management_event=False, object_key="reports/file-{i}.csv", request_parameters=_kms)),
        # The KMS key named in the request (x-amz-server-side-encryption-aws-kms-key-id, as in
        # the S3 API's CopyObject/PutObject headers) belongs to another account: the owner
        # cannot decrypt once that account withdraws the grant.
        Case(
            "rewritten_with_a_foreign_kms_key",
            True,
            cloudtrail=trail(_SSEC_WRITES, event_name="CopyObject", management_event=False, object_key="reports/file-{i}.csv", request_parameters=lambda i: _kms(i, _FOREIGN)),
            expect=(run_finding(_SSEC_WRITES, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=_ADMIN, size=0),),
        ),
        Case("rewritten_with_our_own_kms_key", False, cloudtrail=trail(6, event_name="CopyObject", management_event=False, object_key="reports/file-{i}.csv", request_parameters=lambda i: _kms(i, CASE_ACCOUNT))),
        Case("two_ssec_objects", False, cloudtrail=trail(2, event_name="PutObject", management_event=False, object_key="reports/file-{i}.csv", request_parameters=_ssec)),
    ),
)

DETECTIONS = (BUCKET_MADE_PUBLIC, LOGGING_EVASION, CROSS_ACCOUNT_COPY, MASS_DELETE, SSEC_REENCRYPTION)

