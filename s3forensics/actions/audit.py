"""The audit log: one JSON line per action, dry-run or applied, plus saved previous states.

``<home>/audit.jsonl`` (``$S3FORENSICS_AUDIT_LOG`` overrides it) holds records with
``id, time, actor, action, kind, target, before, after, status, details, rollback_of``.
Before anything is changed, the previous state is written to
``<log dir>/backups/<id>.before.json`` and a ``started`` record is appended; the outcome
(``applied`` or ``failed``) is appended under the same id after. A crash mid-change thus
leaves a ``started`` record and the old state on disk; an audit log that cannot be written
stops the change before it is made. ``<log dir>/locks/`` holds one lock file per resource
changed, so two runs of the kit never interleave their changes to it.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3forensics.config import home_dir
from s3forensics.errors import ActionError

log = logging.getLogger(__name__)

#: Record status values.
DRY_RUN = "dry-run"
APPLIED = "applied"
FAILED = "failed"
NOOP = "no-op"
#: Written before a change is made; the same id's ``applied`` or ``failed`` record
#: completes it. A ``started`` record left alone means the process stopped mid-way: the
#: change may or may not have been made (compare ``before`` and ``after`` with the resource).
STARTED = "started"


def audit_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The audit log file: ``path``, ``$S3FORENSICS_AUDIT_LOG`` or ``<home>/audit.jsonl``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("S3FORENSICS_AUDIT_LOG")
    return Path(env).expanduser() if env else home_dir() / "audit.jsonl"


def backup_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Where previous states are saved: ``backups/`` beside the audit log."""
    return audit_path(path).parent / "backups"


def new_action_id(now: datetime | None = None) -> str:
    """A sortable, unique id: ``a-20261116T120000Z-1f2e3d``."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return f"a-{when.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def actor(session: Any | None = None, *, arn: str | None = None) -> str:
    """Who acts: the caller's ARN (``arn``, or asked of STS) plus the local user
    (``arn (local: name)``)."""
    try:
        local = getpass.getuser()
    except (KeyError, OSError):
        local = os.environ.get("USER") or "unknown"
    if arn is None:
        try:
            from s3forensics import aws

            arn = aws.client("sts", session).get_caller_identity()["Arn"]
        except Exception as exc:  # noqa: BLE001 (identity is best effort; the action itself will fail loudly)
            log.warning("could not read the caller identity from STS: %s", exc)
            arn = "unknown-caller"
    return f"{arn} (local: {local})"


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log.

    Attributes:
        id: action id (``a-<time>-<hex>``).
        time: ISO-8601 UTC.
        actor: caller ARN and local user.
        action: what was done (``block-ip``, ``rollback``...).
        kind: resource kind (see :mod:`s3forensics.actions.resources`).
        target: resource parameters (bucket, role, ip set...).
        before: resource state before (JSON-able; None = absent).
        after: resource state after (or planned, on a dry run).
        status: ``dry-run``, ``started``, ``applied``, ``no-op`` or ``failed``.
        details: action-specific facts (addresses added, expiry, error...).
        rollback_of: the action this one rolled back, if any.
    """

    id: str
    time: str
    actor: str
    action: str
    kind: str
    target: dict[str, Any]
    before: Any
    after: Any
    status: str
    details: dict[str, Any] = field(default_factory=dict)
    rollback_of: str | None = None

    def to_json(self) -> str:
        """The record as one JSON line (no newline)."""
        return json.dumps(asdict(self), sort_keys=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRecord:
        """Build from a parsed line (unknown keys are an error)."""
        return cls(**data)


def save_backup(action_id: str, state: Any, path: str | os.PathLike[str] | None = None) -> Path:
    """Write the previous state of a resource before changing it; returns the file."""
    folder = backup_dir(path)
    out = folder / f"{action_id}.before.json"
    tmp = out.with_suffix(".tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"id": action_id, "before": state}, indent=2, ensure_ascii=False))
        os.replace(tmp, out)
    except OSError as exc:
        raise ActionError(f"cannot save the previous state to {out}: {exc.strerror or exc}; nothing was changed") from exc
    return out


@contextmanager
def resource_lock(kind: str, target: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Hold the kit's lock on one resource (a file lock beside the audit log), so that two
    runs never interleave their read-modify-write of it.

    Raises:
        ActionError: the lock file cannot be created.
    """
    key = hashlib.sha256(json.dumps([kind, target], sort_keys=True, default=str).encode()).hexdigest()[:24]
    folder = audit_path(path).parent / "locks"
    file = folder / f"{key}.lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(file, "a")  # noqa: SIM115 (held open across the yield below)
    except OSError as exc:
        raise ActionError(f"cannot lock {kind} {target} with {file}: {exc.strerror or exc}; nothing was changed") from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append(record: AuditRecord, path: str | os.PathLike[str] | None = None) -> Path:
    """Append one record (locked, flushed and fsynced).

    Raises:
        ActionError: the log cannot be written (names the file and the reason).
    """
    file = audit_path(path)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with open(file, "a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            try:
                out.write(record.to_json() + "\n")
                out.flush()
                os.fsync(out.fileno())
            finally:
                fcntl.flock(out, fcntl.LOCK_UN)
    except OSError as exc:
        raise ActionError(f"cannot write the audit log {file}: {exc.strerror or exc}") from exc
    log.info("audit %s %s %s -> %s", record.id, record.action, record.status, file)
    return file


def iter_records(path: str | os.PathLike[str] | None = None) -> Iterator[AuditRecord]:
    """Every record in file order (an applied change has its ``started`` record first).

    A line that is not a valid record (cut short by a crash, edited by hand) is reported
    as a warning naming the file and line, and skipped: the other records stay usable.

    Raises:
        ActionError: the log exists but cannot be read.
    """
    file = audit_path(path)
    if not file.exists():
        return
    try:
        with open(file, encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield AuditRecord.from_dict(json.loads(line))
                except (ValueError, TypeError, AttributeError) as exc:
                    log.warning("audit log %s line %d is not a valid record, skipped: %s", file, number, exc)
    except OSError as exc:
        raise ActionError(f"cannot read the audit log {file}: {exc.strerror or exc}") from exc


def latest(path: str | os.PathLike[str] | None = None) -> list[AuditRecord]:
    """One record per action, its last (``applied`` over ``started``), in the order the
    actions began."""
    last: dict[str, AuditRecord] = {}
    for record in iter_records(path):
        last[record.id] = record
    return list(last.values())


def get(action_id: str, path: str | os.PathLike[str] | None = None) -> AuditRecord:
    """The last record of ``action_id`` (its outcome).

    Raises:
        ActionError: no such action in the log.
    """
    found = None
    for record in iter_records(path):
        if record.id == action_id:
            found = record
    if found is None:
        raise ActionError(f"no action {action_id!r} in the audit log {audit_path(path)}")
    return found
