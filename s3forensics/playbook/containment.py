"""Containment: a decision tree whose leaves are response actions, run dry unless asked.

Each leaf is planned by an action of :mod:`s3forensics.actions` (:data:`PLANNERS`) and
applied only with ``apply=True``, after the evidence verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.actions.block import plan_block_ip
from s3forensics.actions.containment import plan_block_public_access, plan_deactivate_key, plan_revoke_sessions
from s3forensics.errors import ActionError, ParameterError, S3ForensicsError
from s3forensics.playbook.analysis import IncidentFacts
from s3forensics.playbook.evidence import EvidenceManifest, verify_evidence

#: NIST SP 800-61 phases, in order, as the reports name them.
PHASES: tuple[str, ...] = ("preparation", "detection and analysis", "containment", "eradication", "recovery", "lessons learned")


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


#: Action of a decision -> the function that plans it.
PLANNERS: dict[str, Callable[..., Any]] = {
    "block-ip": plan_block_ip,
    "block-public-access": plan_block_public_access,
    "revoke-sessions": plan_revoke_sessions,
    "deactivate-access-key": plan_deactivate_key,
}




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
            def make(d: Any = d) -> Any:
                return PLANNERS[d.action](**d.params, session=session)

            result = execute(make(), apply=apply, session=session, audit_log=audit_log, replan=make)
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
