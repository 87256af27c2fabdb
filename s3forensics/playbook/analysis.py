"""Detection and analysis: who is behind the findings, and what containment depends on.

The suspects behind a set of findings, the facts of an incident, an actor's activity, and the
questions an exfiltration investigation must answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from s3forensics.display import human_bytes
from s3forensics.errors import ParameterError, S3ForensicsError
from s3forensics.playbook.values import iso, plain
from s3forensics.vocabulary import BucketProfile, severity_rank

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
        return plain(asdict(self))


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
        how_much = f"{human_bytes(total)} ({total:,} bytes) in {minutes:,.1f} minutes, {human_bytes(total / minutes)} per minute"
        usual = egress[(egress["requester"].isin(seen["requester"].dropna().tolist())) & (egress["remote_ip"] != actor)] if len(seen) else egress.iloc[0:0]
        if len(usual):
            how_much += f"; the same identity's other addresses sent {human_bytes(int(usual['bytes_sent'].sum()))} in the whole window"
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
        when = f"{iso(first_seen)} to {iso(last_seen)}" + ("; still active at the end of the window" if still else "; stopped well before the end of the window")
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
