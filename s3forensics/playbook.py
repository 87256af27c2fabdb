"""The incident-response playbooks' library: NIST SP 800-61 phases for S3 buckets.

What the playbook notebooks need, so that they stay thin:

- **Preparation**: which failing setup check to fix first (:func:`fix_first`), the dry
  fix plans (:func:`fix_plans`), and the request metrics an alarm is tuned on
  (:func:`alarm_metrics`, :func:`alarm_catches`).
- **Detection and analysis**: the suspects behind a set of findings (:func:`suspects`),
  the facts containment depends on (:func:`incident_facts`), and the questions an
  exfiltration investigation must answer (:func:`exfiltration_answers`).
- **Evidence before anything changes**: :func:`write_evidence` writes every table to a
  case folder with its SHA-256 in a manifest; :func:`verify_evidence` re-hashes it.
  Containment refuses to run without a verified manifest.
- **Containment**: a decision tree (:func:`containment_decisions`) whose leaves are the
  response actions of :mod:`s3forensics.actions`, run dry unless ``apply=True``
  (:func:`contain`). Presigned URLs cannot be revoked one by one: the tree rotates the
  credential that signed them.
- **Eradication, recovery, lessons learned**: follow-up steps derived from the facts, and
  the incident report (:func:`write_incident_report`), Markdown plus JSON.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.config import home_dir
from s3forensics.errors import ActionError, ParameterError, S3ForensicsError
from s3forensics.vocabulary import BucketProfile, severity_rank

log = logging.getLogger(__name__)

#: NIST SP 800-61 phases, in order, as the reports name them.
PHASES: tuple[str, ...] = ("preparation", "detection and analysis", "containment", "eradication", "recovery", "lessons learned")

#: Detections that mean someone reached (or tried to reach) what they should not.
UNAUTHORIZED_ACCESS: tuple[str, ...] = (
    "anonymous_access_private",
    "access_denied_burst",
    "secret_file_probing",
    "scanner_user_agent",
    "bucket_made_public",
    "logging_evasion",
    "new_principal_or_ip_reading",
    "presigned_url_abuse",
    "enumeration",
    "cross_account_copy",
    "insecure_transport",
    "ssec_reencryption",
    "mass_delete",
)
#: Detections that mean data may have left.
EXFILTRATION: tuple[str, ...] = (
    "large_egress",
    "new_principal_or_ip_reading",
    "presigned_url_abuse",
    "cross_account_copy",
    "anonymous_access_private",
    "request_rate_spike",
)
#: Operations that read an object (a website endpoint GET is a read too).
READ_OPERATIONS: tuple[str, ...] = ("REST.GET.OBJECT", "WEBSITE.GET.OBJECT", "REST.COPY.OBJECT_GET")


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(value: Any) -> str | None:
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _plain(value: Any) -> Any:
    """JSON-ready scalars: timestamps as ISO text, NA as None, numpy numbers as Python's."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return _iso(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value


_KIND_NAMES = {bool: "True or False", int: "a whole number", float: "a number", str: "text in quotes", list: 'a list like ["a", "b"]'}


def expect(**parameters: tuple[Any, type | tuple[type, ...]]) -> None:
    """Check notebook parameters' types: ``expect(BUCKETS=(BUCKETS, list), TOP=(TOP, int))``.

    Raises:
        ParameterError: one sentence naming the first parameter of the wrong type.
    """
    for name, (value, kinds) in parameters.items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise ParameterError(f"Parameter {name} must be {wanted}, got {type(value).__name__} {value!r}: change it in the parameters cell or -p {name} ...")


# == preparation ==========================================================================


def require_reachable(results: Sequence[Any]) -> Sequence[Any]:
    """Stop with one sentence when no setup check could reach the account.

    Raises:
        S3ForensicsError: every result is UNKNOWN (unreachable endpoint, no credentials,
            or no permission at all); the message quotes the first reason.
    """
    if not results:
        raise S3ForensicsError("No setup check ran: set BUCKETS to buckets of this account, or leave it empty to check them all.")
    if all(str(getattr(r, "status", "")) == "UNKNOWN" for r in results):
        reason = results[0].message
        raise S3ForensicsError(
            f"The account could not be checked ({reason}): check the AWS credentials, profile and region, "
            "or the permissions listed by `s3forensics check --iam-policy`."
        )
    return results


def fix_first(results: Sequence[Any], top: int = 10) -> pd.DataFrame:
    """Failing checks ranked by what fixing them gains: severity, then questions unlocked.

    Args:
        results: setup check results (``run_checks``).
        top: how many rows to return.

    Returns:
        Columns ``rank, check_id, severity, resources, unlocks, automatic_fix, title,
        remediation``; one row per failing check (its failing resources joined).
    """
    from s3forensics.checks import get_check
    from s3forensics.checks.coverage import QUESTIONS, SOURCES
    from s3forensics.checks.remediation import PLANNERS

    failing: dict[str, list[str]] = {}
    for r in results:
        if str(r.status) == "FAIL":
            failing.setdefault(r.check_id, []).append(r.resource)
    source_of = {check: source for source, check in SOURCES.items()}
    rows = []
    for check_id, resources in failing.items():
        check = get_check(check_id)
        source = source_of.get(check_id)
        unlocks = [q.text for q in QUESTIONS if source and source in (*q.full, *q.partial, *q.all_of)]
        rows.append(
            {
                "check_id": check_id,
                "severity": check.severity,
                "resources": ", ".join(sorted(set(resources))),
                "unlocks": "; ".join(unlocks),
                "automatic_fix": check_id in PLANNERS,
                "title": check.title,
                "remediation": check.remediation,
                "_order": (severity_rank(check.severity), -len(unlocks), -len(resources)),
            }
        )
    rows.sort(key=lambda row: row["_order"])
    frame = pd.DataFrame(rows, columns=["check_id", "severity", "resources", "unlocks", "automatic_fix", "title", "remediation", "_order"])
    frame = frame.drop(columns="_order").head(top).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def fix_plans(check_ids: Sequence[str], *, buckets: Sequence[str] | None = None, session: Any | None = None) -> pd.DataFrame:
    """The API calls that would fix each check (read-only planning; nothing is applied).

    Returns:
        Columns ``check_id, step, call, note``; a check without an automatic fix, or whose
        plan needs a choice, gets one row whose note says what to do by hand.
    """
    from s3forensics.checks.remediation import plan_fix

    rows: list[dict[str, Any]] = []
    for check_id in check_ids:
        try:
            plan = plan_fix(check_id, session=session, buckets=buckets)
        except ActionError as exc:
            rows.append({"check_id": check_id, "step": 0, "call": None, "note": str(exc)})
            continue
        for i, step in enumerate(plan.steps, 1):
            rows.append({"check_id": check_id, "step": i, "call": step.call.describe(), "note": None})
        for note in plan.notes:
            rows.append({"check_id": check_id, "step": 0, "call": None, "note": note})
        if not plan.steps and not plan.notes:
            rows.append({"check_id": check_id, "step": 0, "call": None, "note": "nothing to fix"})
    return pd.DataFrame(rows, columns=["check_id", "step", "call", "note"])


#: ``s3_access__request_metrics`` columns -> CloudWatch S3 metric names.
_METRIC_NAMES = {
    "all_requests": "AllRequests",
    "get_requests": "GetRequests",
    "put_requests": "PutRequests",
    "delete_requests": "DeleteRequests",
    "head_requests": "HeadRequests",
    "list_requests": "ListRequests",
    "errors_4xx": "4xxErrors",
    "errors_5xx": "5xxErrors",
    "bytes_downloaded": "BytesDownloaded",
    "bytes_uploaded": "BytesUploaded",
}


def alarm_metrics(investigation: Any, period_seconds: int = 300) -> pd.DataFrame:
    """S3 request metrics per bucket and period (CloudWatch names) over the investigation window.

    The shape :func:`s3forensics.detections.alarm_backtest.replay` takes, computed by the
    engine (``s3_access__request_metrics``) instead of in memory.
    """
    if isinstance(period_seconds, bool) or not isinstance(period_seconds, int) or period_seconds <= 0 or period_seconds % 60:
        raise ParameterError(f"PERIOD_SECONDS must be a positive multiple of 60, got {period_seconds!r}")
    frame = investigation.run("s3_access__request_metrics", period_seconds=period_seconds).rename(columns=_METRIC_NAMES)
    frame["period"] = pd.to_datetime(frame["period"], utc=True)
    for name in _METRIC_NAMES.values():
        frame[name] = pd.to_numeric(frame[name], errors="coerce").fillna(0).astype("int64")
    return frame.sort_values(["bucket", "period"]).reset_index(drop=True)


def alarm_catches(alarms: pd.DataFrame, findings: pd.DataFrame, *, bucket: str, detection_ids: Sequence[str] = ("request_rate_spike", "baseline_deviation")) -> pd.DataFrame:
    """Would the alarm have paged during each incident the detections found on ``bucket``?

    Args:
        alarms: a backtest's ALARM episodes (``start, end``).
        findings: detection findings.
        bucket: the alarm's bucket.
        detection_ids: findings that an alarm on request counts should catch.

    Returns:
        One row per finding: ``detection_id, source_ip, first_seen, last_seen, caught,
        alarm_start`` (the first overlapping episode, or None).
    """
    wanted = findings[(findings["bucket"] == bucket) & findings["detection_id"].isin(list(detection_ids))]
    rows = []
    for f in wanted.to_dict("records"):
        first, last = pd.Timestamp(f["first_seen"]), pd.Timestamp(f["last_seen"])
        hit = alarms[(pd.to_datetime(alarms["start"], utc=True) <= last) & (pd.to_datetime(alarms["end"], utc=True) >= first)] if len(alarms) else alarms
        rows.append(
            {
                "detection_id": f["detection_id"],
                "source_ip": f.get("source_ip"),
                "first_seen": first,
                "last_seen": last,
                "caught": bool(len(hit)),
                "alarm_start": hit["start"].iloc[0] if len(hit) else None,
            }
        )
    return pd.DataFrame(rows, columns=["detection_id", "source_ip", "first_seen", "last_seen", "caught", "alarm_start"])


# == detection and analysis ===============================================================


def relevant_findings(findings: pd.DataFrame, *, bucket: str = "", detections: Sequence[str] = UNAUTHORIZED_ACCESS) -> pd.DataFrame:
    """Findings of ``detections`` on ``bucket`` (empty: every bucket), most severe first."""
    keep = findings["detection_id"].isin(list(detections))
    if bucket:
        keep &= findings["bucket"] == bucket
    out = findings[keep].copy()
    out["_rank"] = out["severity"].map(severity_rank)
    return out.sort_values(["_rank", "first_seen"]).drop(columns="_rank").reset_index(drop=True)


def suspects(findings: pd.DataFrame, *, ips: Sequence[str] = ()) -> pd.DataFrame:
    """One row per actor (source IP and principal) behind ``findings``.

    Args:
        findings: the findings of the incident.
        ips: restrict to these addresses (empty: every address the findings name).

    Returns:
        Columns ``source_ip, principal, buckets, detections, severity, first_seen,
        last_seen, events, bytes``; most severe first.
    """
    columns = ["source_ip", "principal", "buckets", "detections", "severity", "first_seen", "last_seen", "events", "bytes"]
    frame = findings.copy()
    if ips:
        frame = frame[frame["source_ip"].isin(list(ips))]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["source_ip"] = frame["source_ip"].astype("object").where(frame["source_ip"].notna(), None)
    frame["principal"] = frame["principal"].astype("object").where(frame["principal"].notna(), None)
    rows = []
    for (ip, principal), part in frame.groupby(["source_ip", "principal"], dropna=False, sort=False):
        ip = None if ip is None or (isinstance(ip, float) and pd.isna(ip)) else ip
        principal = None if principal is None or (isinstance(principal, float) and pd.isna(principal)) else principal
        if ip is None and principal is None:
            continue
        ranks = part["severity"].map(severity_rank)
        rows.append(
            {
                "source_ip": ip,
                "principal": principal,
                "buckets": ", ".join(sorted(set(part["bucket"].dropna()))),
                "detections": ", ".join(sorted(set(part["detection_id"]))),
                "severity": part["severity"].iloc[int(ranks.to_numpy().argmin())],
                "first_seen": pd.to_datetime(part["first_seen"], utc=True).min(),
                "last_seen": pd.to_datetime(part["last_seen"], utc=True).max(),
                "events": int(part["event_count"].max()),
                "bytes": int(part["bytes"].max()),
                "_rank": int(ranks.min()),
            }
        )
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows).sort_values(["_rank", "first_seen"]).drop(columns="_rank").reset_index(drop=True)[columns]


@dataclass(frozen=True)
class IncidentFacts:
    """What containment depends on, established from the evidence.

    Attributes:
        bucket: the bucket under investigation.
        profile: ``public_site`` or ``private_data``.
        source_ips: addresses of the suspects.
        principals: IAM principals the suspects used (ARNs).
        access_keys: ``(user name, access key id)`` pairs seen from the suspect addresses.
        anonymous: some suspect requests carried no credentials.
        presigned: some suspect requests were presigned URLs (query-string auth).
        made_public: the bucket's policy or ACL was opened to everyone.
        logging_disabled: the bucket's access logging was switched off.
        deleted: objects were deleted in bulk.
    """

    bucket: str
    profile: str
    source_ips: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    access_keys: tuple[tuple[str, str], ...] = ()
    anonymous: bool = False
    presigned: bool = False
    made_public: bool = False
    logging_disabled: bool = False
    deleted: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _plain(asdict(self))


def _access_keys(investigation: Any, ips: Sequence[str], principals: Sequence[str]) -> list[tuple[str, str]]:
    if "cloudtrail" not in getattr(investigation, "reports", {}):
        return []
    rows = investigation.run("cloudtrail__access_keys_by_source")
    if rows.empty:
        return []
    # Long-term keys (AKIA...) used from a suspect address; temporary ASIA keys expire on
    # their own and are revoked with their session, not deactivated.
    rows = rows[
        (rows["user_identity_type"] == "IAMUser")
        & rows["source_ip_address"].isin(list(ips))
        & rows["user_identity_arn"].isin(list(principals))
        & rows["user_identity_access_key_id"].astype(str).str.startswith("AKIA")
    ]
    pairs = {(str(r.user_identity_user_name), str(r.user_identity_access_key_id)) for r in rows.itertuples() if r.user_identity_user_name}
    return sorted(pairs)


def incident_facts(investigation: Any, findings: pd.DataFrame, *, bucket: str, profile: str = "private_data", ips: Sequence[str] = ()) -> IncidentFacts:
    """Establish the facts of an incident on ``bucket`` from its findings and the logs.

    Args:
        investigation: the open :class:`~s3forensics.investigation.Investigation`.
        findings: the incident's findings (:func:`relevant_findings`).
        bucket: the bucket under investigation.
        profile: ``public_site`` or ``private_data``.
        ips: suspect addresses (empty: every address the findings name).
    """
    profile = BucketProfile.parse(profile, "BUCKET_PROFILE")
    who = suspects(findings, ips=ips)
    source_ips = tuple(dict.fromkeys(str(ip) for ip in (list(ips) or who["source_ip"].dropna().tolist())))
    principals = tuple(dict.fromkeys(str(p) for p in who["principal"].dropna().tolist()))
    ids = set(findings["detection_id"])
    presigned = "presigned_url_abuse" in ids
    if not presigned and source_ips:
        signed = investigation.run("s3_access__presigned_url_access")
        if not signed.empty:
            ip_col = "remote_ip" if "remote_ip" in signed.columns else None
            presigned = bool(ip_col and signed[ip_col].isin(list(source_ips)).any())
    anonymous = bool((who["principal"].isna()).any()) if len(who) else False
    return IncidentFacts(
        bucket=bucket,
        profile=profile,
        source_ips=source_ips,
        principals=principals,
        access_keys=tuple(_access_keys(investigation, source_ips, principals)),
        anonymous=anonymous,
        presigned=presigned,
        made_public="bucket_made_public" in ids,
        logging_disabled="logging_evasion" in ids,
        deleted="mass_delete" in ids,
    )


def actor_activity(investigation: Any, actors: Sequence[str], *, bucket: str = "") -> pd.DataFrame:
    """Objects each actor (IP or principal ARN) touched, with requests, bytes, first and last time."""
    frames = []
    for actor in actors:
        part = investigation.run("s3_access__objects_read_by_actor", actor=actor, operations=list(READ_OPERATIONS))
        if bucket:
            part = part[part["bucket"] == bucket]
        frames.append(part.assign(actor=actor))
    if not frames:
        return pd.DataFrame(columns=["actor", "bucket", "key", "requests", "successful", "bytes_sent", "first_read", "last_read"])
    out = pd.concat(frames, ignore_index=True)
    return out[["actor", *[c for c in out.columns if c != "actor"]]]


# == exfiltration ==========================================================================


def pick_actor(who: pd.DataFrame, actor: str = "") -> str:
    """The actor to follow: ``actor`` when given, else the suspect that sent the most bytes.

    Raises:
        S3ForensicsError: no suspect and no actor given.
    """
    if not isinstance(actor, str):
        raise ParameterError(f"ACTOR must be an IP address or principal ARN (text), got {type(actor).__name__}")
    if actor.strip():
        return actor.strip()
    named = who[who["source_ip"].notna()]
    if named.empty:
        raise S3ForensicsError("No exfiltration finding names an address in this window: set ACTOR to the IP or principal to follow.")
    return str(named.sort_values("bytes", ascending=False)["source_ip"].iloc[0])


def by_prefix(objects: pd.DataFrame, depth: int = 1) -> pd.DataFrame:
    """Objects and bytes per key prefix (the first ``depth`` folders), largest first."""
    if objects.empty:
        return pd.DataFrame(columns=["prefix", "objects", "bytes_sent", "requests"])
    parts = objects["key"].astype(str).str.split("/")
    prefix = parts.map(lambda p: "/".join(p[:depth]) + "/" if len(p) > depth else "(top level)")
    out = (
        objects.assign(prefix=prefix)
        .groupby("prefix", as_index=False)
        .agg(objects=("key", "nunique"), bytes_sent=("bytes_sent", "sum"), requests=("requests", "sum"))
        .sort_values("bytes_sent", ascending=False)
        .reset_index(drop=True)
    )
    return out


def cumulative_egress(objects: pd.DataFrame) -> pd.DataFrame:
    """Bytes taken over time: each object's first read, and the running total."""
    if objects.empty:
        return pd.DataFrame(columns=["time", "key", "bytes_sent", "cumulative_bytes"])
    out = objects[["first_read", "key", "bytes_sent"]].rename(columns={"first_read": "time"}).sort_values("time").reset_index(drop=True)
    out["cumulative_bytes"] = out["bytes_sent"].cumsum()
    return out


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def exfiltration_answers(
    investigation: Any,
    actor: str,
    *,
    bucket: str = "",
    findings: pd.DataFrame | None = None,
    allow_cidrs: Sequence[str] = (),
) -> pd.DataFrame:
    """The questions an exfiltration investigation must answer, answered for ``actor``.

    Args:
        investigation: the open investigation.
        actor: remote IP or principal ARN to follow.
        bucket: restrict to this bucket (empty: every bucket).
        findings: the window's findings (for "which detections fired").
        allow_cidrs: your own networks (a destination inside them is yours).

    Returns:
        Columns ``question, answer, evidence`` (evidence: the query or finding behind it).
    """
    import ipaddress

    objects = actor_activity(investigation, [actor], bucket=bucket)
    taken = objects[objects["successful"].fillna(0) > 0] if "successful" in objects else objects
    seen = investigation.run("s3_access__first_last_seen", actor=actor)
    egress = investigation.run("s3_access__egress_by_actor", top=1000)
    rows: list[dict[str, str]] = []

    prefixes = by_prefix(taken)
    total = int(taken["bytes_sent"].sum()) if len(taken) else 0
    if taken.empty:
        what = f"no object was read successfully by {actor} in the window"
    else:
        top = ", ".join(f"{p.prefix} ({p.objects} objects)" for p in prefixes.head(3).itertuples())
        what = f"{taken['key'].nunique()} objects in {taken['bucket'].nunique()} bucket(s): {top}"
    rows.append({"question": "What was taken?", "answer": what, "evidence": "s3_access__objects_read_by_actor"})

    if seen.empty:
        by_whom = f"{actor} made no request in the window"
    else:
        principals = sorted({str(p) for p in seen["requester"].dropna()}) or ["anonymous (no credentials)"]
        ips = sorted({str(p) for p in seen["remote_ip"].dropna()})
        by_whom = f"{', '.join(principals)} from {', '.join(ips)}"
    rows.append({"question": "By whom (which identity, from which address)?", "answer": by_whom, "evidence": "s3_access__first_last_seen"})

    if len(taken):
        first, last = taken["first_read"].min(), taken["last_read"].max()
        minutes = max((last - first).total_seconds() / 60, 1 / 60)
        how_much = f"{_human_bytes(total)} ({total:,} bytes) in {minutes:,.1f} minutes, {total / minutes / 1e6:,.1f} MB per minute"
        usual = egress[(egress["requester"].isin(seen["requester"].dropna().tolist())) & (egress["remote_ip"] != actor)] if len(seen) else egress.iloc[0:0]
        if len(usual):
            how_much += f"; the same identity's other addresses sent {_human_bytes(int(usual['bytes_sent'].sum()))} in the whole window"
    else:
        how_much = "nothing"
    rows.append({"question": "How much?", "answer": how_much, "evidence": "s3_access__objects_read_by_actor, s3_access__egress_by_actor"})

    destinations = sorted({str(ip) for ip in seen["remote_ip"].dropna()}) if len(seen) else []
    where = []
    nets = [ipaddress.ip_network(c, strict=False) for c in allow_cidrs]
    for ip in destinations:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            where.append(f"{ip} (not an IP address: an AWS service acting for you?)")
            continue
        inside = any(addr.version == n.version and addr in n for n in nets)
        where.append(f"{ip} ({'inside your allowed networks' if inside else 'outside your allowed networks'})")
    if findings is not None and len(findings):
        cross = findings[(findings["detection_id"] == "cross_account_copy") & ((findings["source_ip"] == actor) | (findings["principal"] == actor))]
        where += [f"copied to another account: {s}" for s in cross["summary"]]
    rows.append({"question": "Where to?", "answer": "; ".join(where) or "unknown", "evidence": "s3_access__first_last_seen, cross_account_copy"})

    if len(seen):
        first_seen, last_seen = seen["first_seen"].min(), seen["last_seen"].max()
        still = pd.Timestamp(investigation.end) - last_seen < pd.Timedelta(hours=1)
        when = f"{_iso(first_seen)} to {_iso(last_seen)}" + ("; still active at the end of the window" if still else "; stopped well before the end of the window")
    else:
        when = "no request in the window"
    rows.append({"question": "When, and is it still going on?", "answer": when, "evidence": "s3_access__first_last_seen"})

    if findings is not None and len(findings):
        fired = findings[(findings["source_ip"] == actor) | (findings["principal"] == actor)]
        detections = ", ".join(sorted(set(fired["detection_id"]))) or "none"
    else:
        detections = "not run"
    rows.append({"question": "Which detections fired?", "answer": detections, "evidence": "run_detections"})

    principals = seen["requester"].dropna().tolist() if len(seen) else []
    how = "no credentials (anonymous): the bucket or object allowed public reads" if not principals else ", ".join(sorted({_credential_kind(str(p)) for p in principals}))
    rows.append({"question": "How (which credential)?", "answer": how, "evidence": "requester column of the access logs"})
    return pd.DataFrame(rows, columns=["question", "answer", "evidence"])


def qa_markdown(answers: pd.DataFrame) -> str:
    """Question/answer rows as a Markdown list (long answers stay whole, unlike a table)."""
    return "\n".join(f"- **{r.question}** {r.answer} _({r.evidence})_" for r in answers.itertuples())


def _credential_kind(principal: str) -> str:
    if ":assumed-role/" in principal:
        role = principal.split(":assumed-role/", 1)[1].split("/", 1)[0]
        return f"temporary credentials of role {role} (revoke its sessions)"
    if ":user/" in principal:
        return f"access key of IAM user {principal.rsplit('/', 1)[-1]} (deactivate the key)"
    if principal.endswith(":root"):
        return "the account's root user (secure root: MFA, no access keys)"
    return principal


# == evidence ==============================================================================


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence file: what it holds, where it is, and its SHA-256."""

    name: str
    path: str
    rows: int | None
    bytes: int
    sha256: str


@dataclass(frozen=True)
class EvidenceManifest:
    """The evidence of a case, written before any change.

    Attributes:
        case_id: the case.
        folder: the evidence folder.
        written_at: when the manifest was written (UTC, ISO-8601).
        items: the files and their hashes.
        meta: context (window, bucket, suspects, who collected it).
    """

    case_id: str
    folder: str
    written_at: str
    items: tuple[EvidenceItem, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The manifest file."""
        return Path(self.folder) / "manifest.json"

    def frame(self) -> pd.DataFrame:
        """One row per file: name, file, rows, bytes, sha256."""
        return pd.DataFrame(
            [{"name": i.name, "file": Path(i.path).name, "rows": i.rows, "bytes": i.bytes, "sha256": i.sha256} for i in self.items],
            columns=["name", "file", "rows", "bytes", "sha256"],
        )


def new_case_id(prefix: str = "case", now: datetime | None = None) -> str:
    """A case id like ``case-20261120T013000Z-1a2b`` (time plus 4 random hex digits)."""
    when = now or _utc_now()
    return f"{prefix}-{when:%Y%m%dT%H%M%SZ}-{os.urandom(2).hex()}"


def case_folder(case_id: str, base: str | Path = "") -> Path:
    """``base/<case_id>``; ``base`` defaults to ``<home>/cases``."""
    if not case_id or "/" in case_id or case_id.startswith("."):
        raise ParameterError(f"case id {case_id!r} must be a plain name (letters, digits, '-')")
    return (Path(base) if str(base).strip() else home_dir() / "cases") / case_id


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ParameterError(f"evidence name {name!r} must use letters, digits, '-' and '_' only")
    return name


def write_evidence(case_dir: str | Path, tables: Mapping[str, Any], *, case_id: str = "", meta: Mapping[str, Any] | None = None) -> EvidenceManifest:
    """Write evidence tables to ``<case_dir>/evidence/`` with a SHA-256 manifest.

    DataFrames become CSV files; anything else (dicts, lists, texts, AWS states) becomes
    JSON. The folder must not already hold evidence: evidence is written once, and a new
    collection goes to a new case.

    Args:
        case_dir: the case folder.
        tables: name -> DataFrame or JSON-able object.
        case_id: the case id (default: the folder's name).
        meta: context stored in the manifest.

    Raises:
        ActionError: the evidence folder already holds a manifest.
    """
    folder = Path(case_dir) / "evidence"
    if (folder / "manifest.json").exists():
        raise ActionError(f"{folder} already holds evidence; evidence is written once: start a new case (leave CASE_ID empty)")
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for name, value in tables.items():
        _safe_name(name)
        if isinstance(value, pd.DataFrame):
            path = folder / f"{name}.csv"
            value.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
            rows: int | None = len(value)
        else:
            path = folder / f"{name}.json"
            path.write_text(json.dumps(_plain(value), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
            rows = len(value) if isinstance(value, (list, tuple)) else None
        items.append(EvidenceItem(name=name, path=str(path), rows=rows, bytes=path.stat().st_size, sha256=_sha256(path)))
    manifest = EvidenceManifest(
        case_id=case_id or Path(case_dir).name,
        folder=str(folder),
        written_at=_iso(_utc_now()) or "",
        items=tuple(items),
        meta=_plain(dict(meta or {})),
    )
    body = {
        "case_id": manifest.case_id,
        "written_at": manifest.written_at,
        "meta": manifest.meta,
        "items": [asdict(i) | {"path": Path(i.path).name} for i in items],
    }
    manifest.path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("wrote %d evidence files to %s", len(items), folder)
    return manifest


def verify_evidence(case_dir: str | Path) -> pd.DataFrame:
    """Re-hash every file of a case's evidence manifest.

    Returns:
        Columns ``name, file, expected, actual, ok`` (``actual`` None when the file is gone).

    Raises:
        ActionError: the case has no evidence manifest.
    """
    manifest = Path(case_dir) / "evidence" / "manifest.json"
    if not manifest.is_file():
        raise ActionError(f"{manifest} does not exist: write the evidence (write_evidence) before anything changes")
    body = json.loads(manifest.read_text(encoding="utf-8"))
    rows = []
    for item in body["items"]:
        path = manifest.parent / item["path"]
        actual = _sha256(path) if path.is_file() else None
        rows.append({"name": item["name"], "file": item["path"], "expected": item["sha256"], "actual": actual, "ok": actual == item["sha256"]})
    return pd.DataFrame(rows, columns=["name", "file", "expected", "actual", "ok"])


def aws_state(bucket: str, *, session: Any | None = None) -> dict[str, Any]:
    """The bucket's current policy and Block Public Access (the 'before' of any change).

    Raises:
        S3ForensicsError: the account cannot be read (the message names the bucket and
            says what to check).
    """
    from s3forensics.actions.resources import kind

    state: dict[str, Any] = {"bucket": bucket, "read_at": _iso(_utc_now())}
    try:
        policy = kind("s3:bucket-policy").read({"bucket": bucket}, session)
        state["policy"] = json.loads(policy) if policy else None
        state["public_access_block"] = kind("s3:public-access-block").read({"bucket": bucket}, session)
    except S3ForensicsError as exc:
        raise S3ForensicsError(f"Could not read the configuration of bucket {bucket} ({exc}): check the AWS credentials and that they may call s3:GetBucketPolicy.") from exc
    except Exception as exc:
        raise S3ForensicsError(
            f"Could not reach the account to read bucket {bucket} ({type(exc).__name__}: {exc}): check AWS_PROFILE/AWS_ENDPOINT_URL and the network."
        ) from exc
    return state


# == containment ===========================================================================


@dataclass(frozen=True)
class Decision:
    """One branch of the containment decision tree.

    Attributes:
        phase: NIST phase (containment, eradication, recovery).
        question: what was asked of the facts.
        answer: yes / no.
        action: the action chosen (an :mod:`s3forensics.actions` action id, ``manual``
            or ``none``).
        target: what it applies to.
        why: the reasoning, in one sentence.
        params: what the action's plan function takes.
    """

    phase: str
    question: str
    answer: str
    action: str
    target: str
    why: str
    params: dict[str, Any] = field(default_factory=dict)


def containment_decisions(facts: IncidentFacts, *, block_expires: str = "") -> list[Decision]:
    """Walk the containment decision tree for ``facts``.

    The tree, after the AWS incident-response playbook for S3 unauthorized access:

    1. Was the bucket opened to everyone? Private data: turn on Block Public Access.
       A public site: restore the previous policy by hand (blocking would take the site down).
    2. Were credentials used? Role sessions: revoke them. IAM user keys: deactivate them.
       Presigned URLs cannot be revoked one by one: rotate the credential that signed
       them (the same two actions), since a URL stays valid until it expires.
    3. Are there suspect addresses? Deny them on the bucket (``aws:SourceIp``), for a
       limited time on a public site.
    4. Was access logging switched off, or were objects deleted? Recovery steps.
    """
    out: list[Decision] = []
    if facts.made_public:
        if facts.profile == "private_data":
            out.append(Decision("containment", "Was the bucket opened to everyone?", "yes", "block-public-access", facts.bucket,
                                "Private data must not be public: Block Public Access overrides any public policy or ACL at once.",
                                {"bucket": facts.bucket}))
        else:
            out.append(Decision("containment", "Was the bucket opened to everyone?", "yes", "manual", facts.bucket,
                                "A public site is public by design: restore the previous policy from the evidence instead of blocking all public access."))
    else:
        out.append(Decision("containment", "Was the bucket opened to everyone?", "no", "none", facts.bucket, "No policy or ACL change made it public."))

    roles = sorted({p.split(":assumed-role/", 1)[1].split("/", 1)[0] for p in facts.principals if ":assumed-role/" in p})
    users = sorted({p.rsplit("/", 1)[-1] for p in facts.principals if ":user/" in p})
    signed = " Presigned URLs cannot be revoked one by one: the credential that signed them is rotated." if facts.presigned else ""
    question = "Were credentials used (including to sign presigned URLs)?"
    for role in roles:
        out.append(Decision("containment", question, "yes", "revoke-sessions", f"role {role}",
                            f"The suspects used temporary credentials of role {role}: deny every session issued before now (new sessions still work).{signed}",
                            {"role": role}))
    for user in users:
        keys = [key for name, key in facts.access_keys if name == user]
        if not keys:
            out.append(Decision("containment", question, "yes", "manual", f"user {user}",
                                f"User {user}'s credentials were used but no access key id was found in CloudTrail: find it (userIdentity.accessKeyId) and deactivate it.{signed}"))
        for key in keys:
            out.append(Decision("containment", question, "yes", "deactivate-access-key", f"user {user} key {key}",
                                f"User {user}'s access key {key} was used from a suspect address: deactivate it (reversible), then rotate.{signed}",
                                {"user": user, "access_key_id": key}))
    if any(p.endswith(":root") for p in facts.principals):
        out.append(Decision("containment", question, "yes", "manual", "root user",
                            "The root user was used: change its password, enforce MFA, delete its access keys."))
    if not (roles or users) and facts.presigned:
        out.append(Decision("containment", question, "yes", "manual", "signing credential",
                            "Presigned URLs were used but their signer is unknown: presigned URLs cannot be revoked, so find and rotate the signing credential."))
    if not facts.principals and not facts.presigned:
        out.append(Decision("containment", question, "no", "none", "-", "The suspects sent anonymous requests: there is no credential to revoke."))

    if facts.source_ips:
        expiry = block_expires or ("24h" if facts.profile == "public_site" else "")
        out.append(Decision("containment", "Did the activity come from addresses that can be named?", "yes", "block-ip", ", ".join(facts.source_ips),
                            "Deny the suspect addresses on the bucket (aws:SourceIp)" + (f" for {expiry}" if expiry else "") + "; other statements stay untouched.",
                            {"bucket": facts.bucket, "addresses": list(facts.source_ips), "expires": expiry or None}))
    else:
        out.append(Decision("containment", "Did the activity come from addresses that can be named?", "no", "none", "-", "No suspect address to block."))

    if facts.made_public:
        out.append(Decision("eradication", "Is a public statement still in the bucket policy?", "yes", "manual", facts.bucket,
                            "Remove the statement with Principal '*' that the attacker added (compare with the policy saved in the evidence)."))
    if facts.logging_disabled:
        out.append(Decision("recovery", "Was access logging switched off?", "yes", "manual", facts.bucket,
                            f"Turn server access logging back on: `s3forensics check --fix s3_access_logging_enabled --bucket {facts.bucket}` (dry), then --apply."))
    if facts.deleted:
        out.append(Decision("recovery", "Were objects deleted?", "yes", "manual", facts.bucket,
                            "Restore from versions (previous versions or delete markers) or from backups; without versioning the objects are gone."))
    return out


def decisions_frame(decisions: Sequence[Decision]) -> pd.DataFrame:
    """The decision tree as a table: phase, question, answer, action, target, why."""
    return pd.DataFrame([{k: getattr(d, k) for k in ("phase", "question", "answer", "action", "target", "why")} for d in decisions],
                        columns=["phase", "question", "answer", "action", "target", "why"])


_PLANNERS = {
    "block-ip": "s3forensics.actions.block:plan_block_ip",
    "block-public-access": "s3forensics.actions.containment:plan_block_public_access",
    "revoke-sessions": "s3forensics.actions.containment:plan_revoke_sessions",
    "deactivate-access-key": "s3forensics.actions.containment:plan_deactivate_key",
}


def _planner(action: str) -> Any:
    import importlib

    module, name = _PLANNERS[action].split(":")
    return getattr(importlib.import_module(module), name)


def contain(
    decisions: Sequence[Decision],
    evidence: EvidenceManifest,
    *,
    apply: bool = False,
    session: Any | None = None,
    audit_log: Any | None = None,
) -> pd.DataFrame:
    """Plan every containment action of the tree and record it (dry run) or apply it.

    Evidence comes first: the manifest is re-hashed and containment refuses to run if a
    file is missing or changed. An action that cannot be planned (a safeguard refused,
    the key is not found) is reported in its row, never dropped, and does not stop the
    others.

    Returns:
        Columns ``action, target, status, action_id, detail, rollback``.

    Raises:
        ActionError: the evidence is missing or does not verify.
    """
    if not isinstance(apply, bool):
        raise ParameterError(f"APPLY must be True or False, got {apply!r}")
    check = verify_evidence(Path(evidence.folder).parent)
    if not check["ok"].all():
        bad = ", ".join(check.loc[~check["ok"], "file"])
        raise ActionError(f"evidence does not verify ({bad} changed or missing): nothing was changed")
    from s3forensics.actions.notify import rollback_command
    from s3forensics.actions.resources import execute

    rows = []
    for d in decisions:
        if d.phase != "containment" or d.action in ("none", "manual"):
            if d.phase == "containment" and d.action == "manual":
                rows.append({"action": "manual", "target": d.target, "status": "to do by hand", "action_id": None, "detail": d.why, "rollback": None})
            continue
        try:
            plan = _planner(d.action)(**d.params, session=session)
            result = execute(plan, apply=apply, session=session, audit_log=audit_log)
        except S3ForensicsError as exc:
            rows.append({"action": d.action, "target": d.target, "status": "not planned", "action_id": None, "detail": str(exc), "rollback": None})
            continue
        rows.append(
            {
                "action": d.action,
                "target": d.target,
                "status": result.record.status,
                "action_id": result.action_id,
                "detail": result.diff.strip() or "no change needed",
                "rollback": rollback_command(result.action_id) if result.applied else None,
            }
        )
    return pd.DataFrame(rows, columns=["action", "target", "status", "action_id", "detail", "rollback"])


# == lessons and the report ================================================================


def lessons(facts: IncidentFacts, coverage_gaps: Sequence[str] = ()) -> list[str]:
    """Lessons learned that follow from the facts (and from setup checks that failed)."""
    out = []
    if facts.made_public:
        out.append("Turn on account-level Block Public Access, and alarm on PutBucketPolicy/PutBucketAcl (CloudTrail metric filter).")
    if facts.logging_disabled:
        out.append("Alarm on PutBucketLogging, and deny s3:PutBucketLogging to everyone but the admin role (SCP or permission boundary).")
    if any(":user/" in p for p in facts.principals):
        out.append("Replace long-term IAM user keys with roles (IAM Identity Center, OIDC for CI); require MFA for console users.")
    if any(":assumed-role/" in p for p in facts.principals):
        out.append("Pin role sessions to their network (aws:SourceIp / aws:SourceVpc / aws:ec2InstanceSourceVPC conditions) so stolen credentials fail elsewhere.")
    if facts.presigned:
        out.append("Keep presigned URL lifetimes short and sign them with a dedicated role, so rotating it revokes the URLs.")
    if facts.anonymous:
        out.append("Put the site behind CloudFront with WAF rate-based rules, so floods and scanners are stopped before S3.")
    if facts.deleted:
        out.append("Turn on versioning (and MFA delete or Object Lock on critical data), so deletes can be undone.")
    out += [f"Fix the setup gap: {gap}" for gap in coverage_gaps]
    out.append("Review this playbook run: which step was slow, which evidence was missing?")
    return out


def write_incident_report(
    case_dir: str | Path,
    *,
    title: str,
    facts: IncidentFacts,
    window: tuple[Any, Any],
    findings: pd.DataFrame,
    evidence: EvidenceManifest,
    decisions: Sequence[Decision],
    actions: pd.DataFrame,
    lessons_learned: Sequence[str],
    applied: bool,
) -> Path:
    """Write ``incident_report.md`` and ``incident_report.json`` to the case folder.

    Returns:
        The Markdown report's path.
    """
    folder = Path(case_dir)
    folder.mkdir(parents=True, exist_ok=True)
    timeline = findings.sort_values("first_seen")[["first_seen", "detection_id", "severity", "source_ip", "principal", "summary"]] if len(findings) else findings
    data = {
        "case_id": evidence.case_id,
        "title": title,
        "written_at": _iso(_utc_now()),
        "window": {"start": _iso(window[0]), "end": _iso(window[1])},
        "mode": "applied" if applied else "dry run",
        "facts": facts.as_dict(),
        "findings": [_plain(r) for r in timeline.to_dict("records")],
        "evidence": {"manifest": str(evidence.path), "written_at": evidence.written_at, "items": [asdict(i) for i in evidence.items]},
        "decisions": [asdict(d) for d in decisions],
        "actions": [_plain(r) for r in actions.to_dict("records")],
        "lessons": list(lessons_learned),
    }
    (folder / "incident_report.json").write_text(json.dumps(_plain(data), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    lines = [
        f"# Incident report: {title}",
        "",
        f"Case `{evidence.case_id}`, written {data['written_at']}; containment mode: **{data['mode']}**.",
        f"Window: {data['window']['start']} to {data['window']['end']}. Bucket: `{facts.bucket}` ({facts.profile}).",
        "",
        "## Detection and analysis",
        "",
        f"Suspect addresses: {', '.join(facts.source_ips) or 'none'}. Principals: {', '.join(facts.principals) or 'none (anonymous)'}.",
        "",
        "| first seen | detection | severity | source IP | summary |",
        "|---|---|---|---|---|",
    ]
    for r in data["findings"]:
        lines.append(f"| {r['first_seen']} | {r['detection_id']} | {r['severity']} | {r['source_ip'] or ''} | {str(r['summary']).replace('|', '/')} |")
    lines += ["", "## Evidence (written before any change)", "", f"Manifest: `{evidence.path}` ({evidence.written_at}).", "", "| file | rows | sha256 |", "|---|---|---|"]
    lines += [f"| {Path(i.path).name} | {'' if i.rows is None else i.rows} | `{i.sha256}` |" for i in evidence.items]
    for phase in ("containment", "eradication", "recovery"):
        lines += ["", f"## {phase.capitalize()}", ""]
        chosen = [d for d in decisions if d.phase == phase]
        lines += [f"- {d.question} **{d.answer}** → `{d.action}` on {d.target}: {d.why}" for d in chosen] or ["- nothing to do"]
        if phase == "containment" and len(actions):
            lines += ["", "| action | target | status | action id | rollback |", "|---|---|---|---|---|"]
            lines += [f"| {a['action']} | {a['target']} | {a['status']} | {a['action_id'] or ''} | {a['rollback'] or ''} |" for a in data["actions"]]
    lines += ["", "## Lessons learned", ""] + [f"- {lesson}" for lesson in lessons_learned]
    path = folder / "incident_report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
