"""Roll an applied action back to the state it saved, only if nothing changed since."""

from __future__ import annotations

from typing import Any

from s3forensics.actions import audit
from s3forensics.actions.resources import ActionResult, Plan, default_session, execute, kind
from s3forensics.errors import ActionError


def later_actions(record: audit.AuditRecord, audit_log: Any | None = None) -> list[audit.AuditRecord]:
    """Applied actions on the same resource recorded after ``record``."""
    out: list[audit.AuditRecord] = []
    seen = False
    for rec in audit.iter_records(audit_log):
        if rec.id == record.id:
            seen = True
            continue
        if seen and rec.status == audit.APPLIED and rec.kind == record.kind and rec.target == record.target:
            out.append(rec)
    return out


def plan_rollback(action_id: str, *, session: Any | None = None, audit_log: Any | None = None) -> Plan:
    """Plan restoring the state ``action_id`` saved.

    Raises:
        ActionError: unknown id; the action was never applied or was already rolled back;
            or the resource changed since (the message names the later actions).
    """
    record = audit.get(action_id, audit_log)
    if record.status != audit.APPLIED:
        raise ActionError(f"action {action_id} was not applied (status {record.status}); there is nothing to roll back")
    spec = kind(record.kind)
    name = spec.name(record.target)
    if not spec.reversible:
        raise ActionError(
            f"action {action_id} ({record.action} to {name}) cannot be rolled back: a sent message cannot be "
            "taken back; send a correction with `s3forensics respond notify` instead"
        )
    for rec in audit.iter_records(audit_log):
        if rec.rollback_of == action_id and rec.status == audit.APPLIED:
            raise ActionError(f"action {action_id} was already rolled back by {rec.id} at {rec.time}")
    try:
        current = spec.read(record.target, session)
    except (KeyError, TypeError) as exc:
        raise ActionError(f"action {action_id}'s audit record names no {exc} in its target {record.target}: it cannot be rolled back") from exc
    if not spec.same(current, record.after):
        later = later_actions(record, audit_log)
        hint = (
            "; later actions on it: " + ", ".join(f"{r.id} ({r.action})" for r in later) + " (roll those back first, newest first)"
            if later
            else "; it was changed outside this kit"
        )
        raise ActionError(
            f"refusing to roll back {action_id}: {name} is no longer what that action left{hint}. "
            f"Nothing was changed; the saved previous state is in the audit log ({audit.audit_path(audit_log)})"
        )
    return Plan(
        "rollback",
        record.kind,
        dict(record.target),
        current,
        record.before,
        {"restores": action_id, "original_action": record.action},
        rollback_of=action_id,
    )


def rollback(action_id: str, *, apply: bool = False, session: Any | None = None, audit_log: Any | None = None) -> ActionResult:
    """Plan and record (dry run) or apply a rollback; see :func:`plan_rollback`."""
    session = session or default_session()
    plan = plan_rollback(action_id, session=session, audit_log=audit_log)
    return execute(plan, apply=apply, session=session, audit_log=audit_log)
