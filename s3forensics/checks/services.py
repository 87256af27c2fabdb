"""Account services around S3: Trusted Advisor's bucket permissions check, the Athena
workgroup the kit queries with, and GuardDuty S3 Protection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s3forensics.aws import error_code
from s3forensics.checks.base import Check, CheckUnavailable, Context, Status, Verdict

#: Trusted Advisor "Amazon S3 Bucket Permissions" (a documented, stable check id).
TA_S3_PERMISSIONS_CHECK_ID = "Pfx0RwqBli"
#: The AWS Support API is served from us-east-1 only.
SUPPORT_REGION = "us-east-1"


# -- trusted_advisor_s3_permissions -----------------------------------------------------

def collect_trusted_advisor(ctx: Context, bucket: str | None) -> dict[str, Any]:
    result = ctx.call(
        "support", "describe_trusted_advisor_check_result", region=SUPPORT_REGION, checkId=TA_S3_PERMISSIONS_CHECK_ID, language="en"
    ).get("result", {})
    return {
        "status": result.get("status"),
        "timestamp": result.get("timestamp"),
        "flagged": [
            {"status": r.get("status"), "metadata": r.get("metadata") or [], "suppressed": r.get("isSuppressed", False)}
            for r in result.get("flaggedResources") or []
        ],
    }


def evaluate_trusted_advisor(facts: Mapping[str, Any]) -> list[Verdict]:
    status = facts.get("status")
    when = f" (refreshed {facts['timestamp']})" if facts.get("timestamp") else ""
    if status in (None, "not_available"):
        return [Verdict(Status.UNKNOWN, f"Trusted Advisor has no result for Amazon S3 Bucket Permissions{when}.", "trusted-advisor Pfx0RwqBli")]
    flagged = [r for r in facts.get("flagged") or [] if r.get("status") in ("warning", "error") and not r.get("suppressed")]
    if status == "ok" or not flagged:
        return [Verdict(Status.PASS, f"Trusted Advisor reports no bucket with open access permissions{when}.", "trusted-advisor Pfx0RwqBli")]
    out = []
    for r in flagged:
        # metadata: [Region, Region API param, Bucket Name, ACL allows List, ACL allows Upload/Delete, Status, Policy allows access, ...]
        meta = r.get("metadata") or []
        bucket = meta[2] if len(meta) > 2 else "unknown bucket"
        out.append(Verdict(Status.FAIL, f"Trusted Advisor flags bucket {bucket} ({r['status']}): its ACL or policy allows open access{when}.", bucket))
    return out


# -- athena_workgroup_ready ------------------------------------------------------------------

def collect_athena(ctx: Context, bucket: str | None) -> dict[str, Any]:
    from s3forensics.config import Settings

    name = Settings.from_env().athena_workgroup
    try:
        group = ctx.call("athena", "get_work_group", WorkGroup=name).get("WorkGroup", {})
    except CheckUnavailable:
        raise
    except Exception as exc:
        if error_code(exc) in {"InvalidRequestException", "ResourceNotFoundException"}:
            return {"name": name, "exists": False}
        raise
    return {"name": name, "exists": True, "state": group.get("State"), "configuration": group.get("Configuration") or {}}


def evaluate_athena(facts: Mapping[str, Any]) -> list[Verdict]:
    name = facts["name"]
    resource = f"workgroup {name}"
    if not facts.get("exists"):
        return [Verdict(Status.FAIL, f"Athena workgroup {name} does not exist (set S3FORENSICS_ATHENA_WORKGROUP or create it).", resource)]
    config = facts.get("configuration") or {}
    result = config.get("ResultConfiguration") or {}
    managed = (config.get("ManagedQueryResultsConfiguration") or {}).get("Enabled")
    missing = []
    if facts.get("state") not in (None, "ENABLED"):
        missing.append("it is disabled")
    if not (result.get("OutputLocation") or managed):
        missing.append("no query result location")
    if not (result.get("EncryptionConfiguration") or managed):
        missing.append("query results not encrypted")
    if not config.get("BytesScannedCutoffPerQuery"):
        missing.append("no bytes-scanned limit per query")
    if missing:
        return [Verdict(Status.FAIL, f"Athena workgroup {name} is not ready: {', '.join(missing)}.", resource)]
    limit_gb = config["BytesScannedCutoffPerQuery"] / 1024**3
    return [Verdict(Status.PASS, f"Athena workgroup {name} writes encrypted results to {result.get('OutputLocation') or 'managed storage'} and stops queries above {limit_gb:.1f} GiB scanned.", resource)]


# -- guardduty_s3_protection_enabled -------------------------------------------------------

def collect_guardduty(ctx: Context, bucket: str | None) -> dict[str, Any]:
    detectors = []
    for detector_id in ctx.paginate("guardduty", "list_detectors", "DetectorIds"):
        detail = ctx.call("guardduty", "get_detector", DetectorId=detector_id)
        detectors.append(
            {
                "id": detector_id,
                "status": detail.get("Status"),
                "features": {f.get("Name"): f.get("Status") for f in detail.get("Features") or []},
                "s3_logs": ((detail.get("DataSources") or {}).get("S3Logs") or {}).get("Status"),
            }
        )
    return {"region": ctx.region, "detectors": detectors}


def evaluate_guardduty(facts: Mapping[str, Any]) -> list[Verdict]:
    region = facts.get("region")
    detectors = facts.get("detectors") or []
    if not detectors:
        return [Verdict(Status.FAIL, f"GuardDuty is not enabled in {region}: no detector exists.", f"guardduty {region}")]
    for d in detectors:
        s3_on = d["features"].get("S3_DATA_EVENTS") == "ENABLED" or (
            "S3_DATA_EVENTS" not in d["features"] and d.get("s3_logs") == "ENABLED"
        )
        if d.get("status") == "ENABLED" and s3_on:
            return [Verdict(Status.PASS, f"GuardDuty detector {d['id']} in {region} has S3 Protection on.", f"guardduty {d['id']}")]
    d = detectors[0]
    why = "is suspended" if d.get("status") != "ENABLED" else "has S3 Protection (S3_DATA_EVENTS) off"
    return [Verdict(Status.FAIL, f"GuardDuty detector {d['id']} in {region} {why}.", f"guardduty {d['id']}")]


CHECKS: tuple[Check, ...] = (
    Check(
        id="trusted_advisor_s3_permissions",
        title="Trusted Advisor flags no bucket with open access permissions.",
        severity="high",
        rationale="A second opinion from AWS on public buckets; available through the Support API on Business, Enterprise On-Ramp and Enterprise support plans only.",
        remediation="Review each flagged bucket's ACL and policy; turn on Block Public Access where public access is not intended.",
        references=("https://docs.aws.amazon.com/awssupport/latest/user/security-checks.html",),
        scope="account",
        calls=(("support", "DescribeTrustedAdvisorCheckResult"),),
        collect=collect_trusted_advisor,
        evaluate=evaluate_trusted_advisor,
    ),
    Check(
        id="athena_workgroup_ready",
        title="The Athena workgroup has a result location, encryption and a bytes-scanned limit.",
        severity="low",
        rationale="Investigations query months of logs in a hurry; a workgroup with encrypted results and a per-query scan limit keeps evidence private and a mistyped query cheap.",
        remediation="Update the workgroup: ResultConfiguration OutputLocation and EncryptionConfiguration (SSE_S3 or SSE_KMS), BytesScannedCutoffPerQuery, EnforceWorkGroupConfiguration.",
        references=("https://docs.aws.amazon.com/athena/latest/ug/workgroups-manage-queries-control-costs.html",),
        scope="account",
        calls=(("athena", "GetWorkGroup"),),
        collect=collect_athena,
        evaluate=evaluate_athena,
    ),
    Check(
        id="guardduty_s3_protection_enabled",
        title="GuardDuty S3 Protection is enabled.",
        severity="medium",
        rationale="GuardDuty S3 Protection analyses S3 data events for anomalous access (unusual locations, Tor, known-bad IPs) without a trail of your own.",
        remediation="Enable GuardDuty with the S3_DATA_EVENTS feature (CreateDetector or UpdateDetector Features=[{Name: S3_DATA_EVENTS, Status: ENABLED}]).",
        references=("https://docs.aws.amazon.com/guardduty/latest/ug/s3-protection.html",),
        scope="account",
        calls=(("guardduty", "ListDetectors"), ("guardduty", "GetDetector")),
        collect=collect_guardduty,
        evaluate=evaluate_guardduty,
    ),
)
