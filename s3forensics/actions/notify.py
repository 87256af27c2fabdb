"""Tell the team: a structured message (detected, evidence, action, rollback) on SNS.

The message body is JSON so that a chat integration or a ticketing rule can read it; the
subject is a one-line summary (SNS allows at most 100 characters). Subscribers that only
show text still get the readable ``summary`` field first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from s3forensics import aws
from s3forensics.errors import ActionError
from s3forensics.vocabulary import iso_utc, utc_now

log = logging.getLogger(__name__)

SUBJECT_MAX = 100
#: SNS message size limit (bytes).
MESSAGE_MAX = 256 * 1024


@dataclass(frozen=True)
class Notification:
    """What the team needs to act.

    Attributes:
        summary: one sentence: what happened where.
        detected: detections that fired (id, title, severity, source_ip, bucket...).
        evidence: supporting facts (counts, sample keys, request ids).
        actions: actions taken (action id, action, target, status).
        rollback: commands that undo the actions.
        source: what produced the message (CLI, Lambda function name...).
        time: ISO-8601 UTC.
    """

    summary: str
    detected: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    rollback: list[str] = field(default_factory=list)
    source: str = "s3forensics"
    time: str = field(default_factory=lambda: iso_utc(utc_now()))

    def subject(self) -> str:
        """A subject line within SNS's 100 characters."""
        text = f"[s3forensics] {self.summary}".replace("\n", " ")
        return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3] + "..."

    def body(self) -> str:
        """The JSON body (trimmed evidence if it would exceed SNS's size limit)."""
        data = asdict(self)
        text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
        while len(text.encode()) > MESSAGE_MAX and data["evidence"]:
            data["evidence"] = data["evidence"][: len(data["evidence"]) // 2]
            data["evidence_truncated"] = True
            text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
        return text


def action_summary(record: Any) -> dict[str, Any]:
    """The part of an audit record a notification carries."""
    return {
        "action_id": record.id,
        "action": record.action,
        "target": record.target,
        "status": record.status,
        "details": record.details,
    }


def rollback_command(action_id: str) -> str:
    """The command that undoes an applied action."""
    return f"s3forensics respond rollback {action_id} --apply"


def publish(topic_arn: str, notification: Notification, *, session: Any | None = None) -> str:
    """Publish ``notification`` to ``topic_arn``; returns the SNS message id.

    Raises:
        ActionError: SNS refused (names the topic).
    """
    if not topic_arn.startswith("arn:"):
        raise ActionError(f"--topic-arn {topic_arn!r} is not an SNS topic ARN")
    from botocore.exceptions import BotoCoreError, ClientError

    from s3forensics.actions.resources import default_session
    from s3forensics.aws import explain

    try:
        resp = aws.client("sns", session or default_session()).publish(
            TopicArn=topic_arn,
            Subject=notification.subject(),
            Message=notification.body(),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "s3forensics.notification"}},
        )
    except (ClientError, BotoCoreError) as exc:
        raise ActionError(f"could not publish to SNS topic {topic_arn}: {explain(exc)}") from exc
    log.info("published notification %s to %s", resp["MessageId"], topic_arn)
    return str(resp["MessageId"])


#: Audit resource kind of a published notification (never rolled back).
KIND = "sns:publish"


def notify(
    topic_arn: str,
    notification: Notification,
    *,
    apply: bool = False,
    session: Any | None = None,
    audit_log: Any | None = None,
) -> tuple[Any, str | None]:
    """Record (dry run) or publish ``notification`` and record that in the audit log.

    The record's target is the topic; ``after`` holds the message id and subject; its
    details name the summary and the actions reported. A failed publish is recorded
    as ``failed`` before the error is raised. Rollback of such a record is refused: a
    sent message cannot be taken back.

    Returns:
        the audit record, and the SNS message id (None on a dry run).

    Raises:
        ActionError: not a topic ARN, or SNS refused (names the topic).
    """
    from s3forensics.actions import audit
    from s3forensics.actions.resources import default_session

    if not topic_arn.startswith("arn:"):
        raise ActionError(f"--topic-arn {topic_arn!r} is not an SNS topic ARN")
    session = session or default_session()
    now = utc_now()
    action_id = audit.new_action_id(now)
    who = audit.actor(session)
    details: dict[str, Any] = {"summary": notification.summary, "reports_actions": [a.get("action_id") for a in notification.actions]}

    def record(status: str, after: Any, **extra: Any) -> audit.AuditRecord:
        rec = audit.AuditRecord(
            id=action_id,
            time=iso_utc(now),
            actor=who,
            action="notify",
            kind=KIND,
            target={"topic_arn": topic_arn},
            before=None,
            after=after,
            status=status,
            details={**details, **extra},
        )
        audit.append(rec, audit_log)
        return rec

    if not apply:
        return record(audit.DRY_RUN, {"subject": notification.subject(), "message_id": None}), None
    try:
        message_id = publish(topic_arn, notification, session=session)
    except ActionError as exc:
        record(audit.FAILED, None, error=str(exc))
        raise
    return record(audit.APPLIED, {"subject": notification.subject(), "message_id": message_id}), message_id


def from_findings(
    findings: Sequence[Mapping[str, Any]],
    actions: Sequence[Any] = (),
    *,
    source: str = "s3forensics",
    summary: str | None = None,
) -> Notification:
    """Build a notification from detection findings rows and audit records of actions."""
    detected = [
        {k: _plain(row.get(k)) for k in ("detection_id", "title", "severity", "bucket", "source_ip", "principal", "event_count", "bytes", "first_seen", "last_seen", "summary")}
        for row in findings
    ]
    evidence = []
    for row in findings:
        raw = row.get("evidence")
        try:
            parsed = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            parsed = raw
        evidence.append({"detection_id": row.get("detection_id"), "source_ip": row.get("source_ip"), "evidence": _plain(parsed)})
    applied = [a for a in actions if getattr(a, "status", None) == "applied"]
    if summary is None:
        ips = sorted({str(d["source_ip"]) for d in detected if d.get("source_ip")})
        buckets = sorted({str(d["bucket"]) for d in detected if d.get("bucket")})
        summary = f"{len(detected)} finding(s) on {', '.join(buckets) or 'the account'}"
        if ips:
            summary += f" from {', '.join(ips[:5])}{' ...' if len(ips) > 5 else ''}"
        if applied:
            summary += f"; {len(applied)} action(s) applied"
    return Notification(
        summary=summary,
        detected=detected,
        evidence=evidence,
        actions=[action_summary(a) for a in actions],
        rollback=[rollback_command(a.id) for a in applied],
        source=source,
    )


def _plain(value: Any) -> Any:
    """JSON-friendly scalars (timestamps as ISO text, NA as None)."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        try:
            return iso_utc(value)
        except (TypeError, ValueError, AttributeError):
            return value.isoformat()
    try:
        import math

        if isinstance(value, float) and math.isnan(value):
            return None
    except TypeError:
        pass
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
