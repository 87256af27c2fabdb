"""Recovery weakened: versioning suspended, MFA Delete turned off, or lifecycle rules that
expire objects or their old versions within days. These are the first steps of ransomware on
S3 (take the versions away, then encrypt or delete), and of an attacker erasing a log bucket.

The query returns each successful call with its parameters; :func:`weakened` reads them:
- ``PutBucketVersioning``: ``VersioningConfiguration.Status`` ``Suspended`` (or
  ``Disabled``, as some records carry), ``MfaDelete`` ``Disabled``;
- ``PutBucketLifecycle`` / ``PutBucketLifecycleConfiguration``: ``LifecycleConfiguration.Rule``
  is one object or a list (CloudTrail writes the XML's repeated element both ways); a rule
  counts when its ``Status`` is ``Enabled`` and its ``Expiration.Days`` or
  ``NoncurrentVersionExpiration.NoncurrentDays`` is at most ``max_days`` (numbers may be
  written as text).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from s3forensics.detections.base import (
    CASE_ADMIN,
    CASE_AT,
    CASE_DATA,
    CASE_IP,
    CASE_TRAIL_IP,
    Case,
    Detection,
    access,
    calls_by_actor,
    request_parameters,
    run_finding,
    trail,
)
from s3forensics.detections.config import DetectionConfig
from s3forensics.queries import Param


def _days(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _rules(params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    config = params.get("LifecycleConfiguration") or params.get("lifecycleConfiguration") or {}
    rules = config.get("Rule", config.get("Rules")) if isinstance(config, Mapping) else None
    for rule in rules if isinstance(rules, list) else [rules]:
        if isinstance(rule, Mapping):
            yield rule


def changes(event_name: str, params: Mapping[str, Any], max_days: int) -> list[str]:
    """What one call weakens (empty when it weakens nothing)."""
    found: list[str] = []
    if event_name == "PutBucketVersioning":
        config = params.get("VersioningConfiguration") or {}
        if not isinstance(config, Mapping):
            return found
        if str(config.get("Status", "")).strip() in ("Suspended", "Disabled"):
            found.append("versioning suspended")
        if str(config.get("MfaDelete", config.get("MFADelete", ""))).strip() == "Disabled":
            found.append("MFA Delete turned off")
        return found
    for rule in _rules(params):
        if str(rule.get("Status", "")).strip() != "Enabled":
            continue
        name = rule.get("ID") or rule.get("Id") or "a rule"
        expiration = rule.get("Expiration") if isinstance(rule.get("Expiration"), Mapping) else {}
        days = _days(expiration.get("Days"))
        if days is not None and days <= max_days:
            found.append(f"lifecycle {name} expires objects after {days} day(s)")
        old = rule.get("NoncurrentVersionExpiration") if isinstance(rule.get("NoncurrentVersionExpiration"), Mapping) else {}
        noncurrent = _days(old.get("NoncurrentDays"))
        if noncurrent is not None and noncurrent <= max_days:
            found.append(f"lifecycle {name} deletes old versions after {noncurrent} day(s)")
    return found


def weakened(rows: pd.DataFrame, values: Mapping[str, Any], config: DetectionConfig) -> pd.DataFrame:
    """One finding row per (bucket, source, principal) whose calls weakened recovery."""
    kept = []
    for row in rows.to_dict("records"):
        params = request_parameters(row)
        if params is None:
            continue
        found = changes(str(row.get("event_name")), params, int(values["max_days"]))
        if found:
            kept.append({**row, "changes": "; ".join(found)})
    return calls_by_actor(kept)


def _versioning(status: str | None = None, mfa: str | None = None) -> str:
    config = {k: v for k, v in (("Status", status), ("MfaDelete", mfa)) if v is not None}
    return json.dumps({"bucketName": CASE_DATA, "versioning": [""], "VersioningConfiguration": config})


def _lifecycle(rule: object) -> str:
    return json.dumps({"bucketName": CASE_DATA, "lifecycle": [""], "LifecycleConfiguration": {"Rule": rule}})


def _one() -> dict[str, Any]:
    return run_finding(1, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=trail(1)[0]["user_identity_arn"], size=0)


RECOVERY_WEAKENED = Detection(
    id="recovery_weakened",
    title="Versioning suspended, MFA Delete off, or objects set to expire",
    severity="high",
    technique="T1490 Inhibit System Recovery",
    sources=("cloudtrail",),
    summary="{principal} from {source_ip} on {bucket}: {changes}",
    runbook=(
        "Put the protection back at once (versioning Enabled; remove or lengthen the rule), then "
        "look for what came next from the same principal: mass deletes, SSE-C rewrites, a ransom "
        "note. While versions are kept, deleted or overwritten objects can still be restored."
    ),
    false_positives=(
        "Cost clean-ups that expire temporary prefixes after a day or two (allowlist the deploy role)",
        "Suspending versioning on a scratch bucket",
    ),
    limits=(("max_days", 0, 36500),),
    extra_params=(Param("max_days", "integer", 7, False, "a lifecycle rule expiring objects or old versions within this many days counts"),),
    analyse=weakened,
    cases=(
        # Parameter shapes as CloudTrail records them (public rule-test records in ../shared/corpus).
        Case("versioning_suspended", True, cloudtrail=trail(1, event_name="PutBucketVersioning", request_parameters=_versioning("Suspended")), expect=(_one(),)),
        Case("mfa_delete_turned_off", True, cloudtrail=trail(1, event_name="PutBucketVersioning", request_parameters=_versioning("Enabled", "Disabled")), expect=(_one(),)),
        Case(
            "one_day_expiration_among_rules",
            True,
            cloudtrail=trail(1, event_name="PutBucketLifecycleConfiguration", request_parameters=_lifecycle([
                {"ID": "archive", "Status": "Enabled", "Transition": {"Days": "30", "StorageClass": "GLACIER"}},
                {"ID": "nuke", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": "1"}},
            ])),
            expect=(_one(),),
        ),
        Case(
            "old_versions_deleted_next_day",
            True,
            cloudtrail=trail(1, event_name="PutBucketLifecycle", request_parameters=_lifecycle({"ID": "x", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 1}})),
            expect=(_one(),),
        ),
        Case("versioning_enabled", False, cloudtrail=trail(1, event_name="PutBucketVersioning", request_parameters=_versioning("Enabled", "Enabled"))),
        Case("mfa_delete_field_missing", False, cloudtrail=trail(1, event_name="PutBucketVersioning", request_parameters=_versioning("Enabled"))),
        Case("suspension_refused", False, cloudtrail=trail(1, event_name="PutBucketVersioning", request_parameters=_versioning("Suspended"), error_code="AccessDenied")),
        Case("disabled_one_day_rule", False, cloudtrail=trail(1, event_name="PutBucketLifecycle", request_parameters=_lifecycle({"ID": "x", "Status": "Disabled", "Expiration": {"Days": 1}}))),
        Case("two_year_retention", False, cloudtrail=trail(1, event_name="PutBucketLifecycle", request_parameters=_lifecycle({"ID": "x", "Status": "Enabled", "Expiration": {"Days": 730}, "NoncurrentVersionExpiration": {"NoncurrentDays": 730}}))),
    ),
)


#: The ransom-note cases: the deletes run one a second from CASE_AT; the note comes a minute after.
_WIPED = 40
_NOTE_AT = CASE_AT + dt.timedelta(minutes=1)

RANSOM_NOTE = Detection(
    id="ransom_note",
    title="Ransom note left after mass deletes or rewrites",
    severity="critical",
    technique="T1486 Data Encrypted for Impact",
    sources=("s3_access", "cloudtrail"),
    summary="{actor} from {source_ip} left a ransom note in {bucket} after {destructive} delete(s) or rewrite(s): {sample_keys}",
    runbook=(
        "Treat as an extortion attempt: revoke the principal, block the source, turn on Block Public "
        "Access and versioning if off (recovery_weakened), then restore from versions or backups. "
        "Keep the note and the logs as evidence; do not contact the sender before counsel does."
    ),
    false_positives=(
        "A security exercise or training lab that plants a note (allowlist its principal)",
        "Files about decryption published by a site (a note needs mass deletes or rewrites by the same actor)",
    ),
    limits=(("min_destructive", 1, None),),
    cases=(
        # Note names from public descriptions of S3 ransomware notes (detection rules citing
        # HOW_TO_DECRYPT_FILES.txt, RANSOM_NOTE.txt, .ransom and .lock names; Rhino Security
        # Labs' S3 ransomware research).
        Case(
            "note_after_batch_deletes",
            True,
            s3_access=access(_WIPED, operation="BATCH.DELETE.OBJECT", http_status=204, requester=CASE_ADMIN, key="exports/part-{i}.parquet", bytes_sent=None)
            + access(1, at=_NOTE_AT, operation="REST.PUT.OBJECT", requester=CASE_ADMIN, key="HOW_TO_RECOVER_YOUR_FILES.txt"),
            expect=(run_finding(1, bucket=CASE_DATA, source_ip=CASE_IP, principal=CASE_ADMIN, size=0, at=_NOTE_AT),),
        ),
        Case(
            "note_after_deletes_in_cloudtrail",
            True,
            cloudtrail=trail(12, event_name="DeleteObject", management_event=False, object_key="reports/file-{i}.csv")
            + trail(1, at=_NOTE_AT, event_name="PutObject", management_event=False, object_key="RANSOM_NOTE.txt"),
            expect=(run_finding(1, bucket=CASE_DATA, source_ip=CASE_TRAIL_IP, principal=CASE_ADMIN, size=0, at=_NOTE_AT),),
        ),
        Case("note_name_without_deletes", False, s3_access=access(1, operation="REST.PUT.OBJECT", requester=CASE_ADMIN, key="docs/how-to-decrypt-your-backups.md")),
        Case(
            "readme_after_a_cleanup",
            False,
            s3_access=access(_WIPED, operation="BATCH.DELETE.OBJECT", http_status=204, requester=CASE_ADMIN, key="tmp/part-{i}", bytes_sent=None)
            + access(1, at=_NOTE_AT, operation="REST.PUT.OBJECT", requester=CASE_ADMIN, key="README.md"),
        ),
        Case(
            "note_by_someone_else",
            False,
            s3_access=access(_WIPED, operation="BATCH.DELETE.OBJECT", http_status=204, requester=CASE_ADMIN, key="tmp/part-{i}", bytes_sent=None)
            + access(1, at=_NOTE_AT, operation="REST.PUT.OBJECT", requester=None, remote_ip="203.0.113.77", key="ransom.txt"),
        ),
    ),
)
