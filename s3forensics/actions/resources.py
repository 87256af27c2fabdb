"""Resources an action changes, and the one way every action is applied.

Each resource kind knows how to read its state and write a state back (a bucket policy,
a bucket's Block Public Access, a role's inline policy, an access key's status, a WAF IP
set). Every action is then the same thing: a :class:`Plan` from a ``before`` state to an
``after`` state, which :func:`execute` records as a dry run or applies: it re-reads the
resource, refuses if it moved since planning, saves the previous state, writes, and
appends the audit record. Rollback is a plan from ``after`` back to ``before``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from s3forensics import aws
from s3forensics.actions import audit, settings
from s3forensics.actions.kinds import ApiCall, ResourceKind, client, default_session, read_or_absent
from s3forensics.actions.policy import load_policy, policy_diff, pretty
from s3forensics.errors import ActionError
from s3forensics.vocabulary import iso_utc, utc_now

log = logging.getLogger(__name__)


def _read_bucket_policy(target: Mapping[str, Any], session: Any) -> str | None:
    s3 = client("s3", session)
    got = read_or_absent("read the policy of bucket", target["bucket"], lambda: s3.get_bucket_policy(Bucket=target["bucket"]),
                absent="NoSuchBucketPolicy")
    return None if got is None else got["Policy"]


def _write_bucket_policy(target: Mapping[str, Any], state: str | None, session: Any, token: Any = None) -> None:
    s3 = client("s3", session)
    if state is None:
        s3.delete_bucket_policy(Bucket=target["bucket"])
    else:
        s3.put_bucket_policy(Bucket=target["bucket"], Policy=state)


def _same_bucket_policy(a: str | None, b: str | None) -> bool:
    return load_policy(a) == load_policy(b)


def _read_pab(target: Mapping[str, Any], session: Any) -> dict[str, bool] | None:
    s3 = client("s3", session)
    got = read_or_absent("read Block Public Access of bucket", target["bucket"], lambda: s3.get_public_access_block(Bucket=target["bucket"]),
                absent="NoSuchPublicAccessBlockConfiguration")
    return None if got is None else got["PublicAccessBlockConfiguration"]


def _write_pab(target: Mapping[str, Any], state: dict[str, bool] | None, session: Any, token: Any = None) -> None:
    s3 = client("s3", session)
    if state is None:
        s3.delete_public_access_block(Bucket=target["bucket"])
    else:
        s3.put_public_access_block(Bucket=target["bucket"], PublicAccessBlockConfiguration=dict(state))


def _pab_calls(target: Mapping[str, Any], state: dict[str, bool] | None, session: Any) -> list[ApiCall]:
    if state is None:
        return [ApiCall("s3", "delete_public_access_block", {"Bucket": target["bucket"]})]
    return [ApiCall("s3", "put_public_access_block", {"Bucket": target["bucket"], "PublicAccessBlockConfiguration": dict(state)})]


def _read_role_policy(target: Mapping[str, Any], session: Any) -> dict[str, Any] | None:
    iam = client("iam", session)
    got = read_or_absent("read an inline policy of role", target["role"],
                lambda: iam.get_role_policy(RoleName=target["role"], PolicyName=target["policy_name"]), absent="NoSuchEntity")
    if got is None:
        return None
    doc = got["PolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else doc


def _write_role_policy(target: Mapping[str, Any], state: dict[str, Any] | None, session: Any, token: Any = None) -> None:
    iam = client("iam", session)
    if state is None:
        iam.delete_role_policy(RoleName=target["role"], PolicyName=target["policy_name"])
    else:
        iam.put_role_policy(RoleName=target["role"], PolicyName=target["policy_name"], PolicyDocument=json.dumps(state))


def _read_access_key(target: Mapping[str, Any], session: Any) -> str:
    iam = client("iam", session)
    keys = read_or_absent("list the access keys of user", target["user"], lambda: iam.list_access_keys(UserName=target["user"]))["AccessKeyMetadata"]
    for key in keys:
        if key["AccessKeyId"] == target["access_key_id"]:
            return str(key["Status"])
    raise ActionError(f"user {target['user']} has no access key {target['access_key_id']}")


def _write_access_key(target: Mapping[str, Any], state: str, session: Any, token: Any = None) -> None:
    client("iam", session).update_access_key(UserName=target["user"], AccessKeyId=target["access_key_id"], Status=state)


def read_ip_set(target: Mapping[str, Any], session: Any) -> tuple[dict[str, Any], str]:
    """A WAF IP set's state (``{"version", "addresses"}``) and its current lock token."""
    waf = _wafclient(target, session)
    got = read_or_absent("read WAF IP set", f"{target['name']} ({target['scope']})",
                lambda: waf.get_ip_set(Name=target["name"], Scope=target["scope"], Id=target["id"]))
    ip_set = got["IPSet"]
    return {"version": ip_set["IPAddressVersion"], "addresses": sorted(ip_set.get("Addresses", []))}, got["LockToken"]


def _wafclient(target: Mapping[str, Any], session: Any) -> Any:
    # CloudFront-scope WAF resources live in us-east-1 whatever the default region.
    if target["scope"] == "CLOUDFRONT":
        return client("wafv2", session, region_name="us-east-1")
    return client("wafv2", session)


def _read_ip_set_state(target: Mapping[str, Any], session: Any) -> dict[str, Any]:
    return read_ip_set(target, session)[0]


def _write_ip_set(target: Mapping[str, Any], state: dict[str, Any], session: Any, token: Any = None) -> None:
    from botocore.exceptions import ClientError

    waf = _wafclient(target, session)
    if token is None:
        token = read_ip_set(target, session)[1]
    try:
        waf.update_ip_set(Name=target["name"], Scope=target["scope"], Id=target["id"], Addresses=list(state["addresses"]), LockToken=token)
    except ClientError as exc:
        if aws.error_code(exc) == "WAFOptimisticLockException":
            raise ActionError(f"WAF IP set {target['name']} changed while this action ran (lock token stale); plan again") from exc
        raise


def _not_readable(target: Mapping[str, Any], session: Any) -> None:
    raise ActionError(f"a message published to SNS topic {target.get('topic_arn')} has no state to read back")


def _not_writable(target: Mapping[str, Any], state: Any, session: Any, token: Any = None) -> None:
    raise ActionError(f"a message published to SNS topic {target.get('topic_arn')} cannot be taken back")


def _same_ip_set(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a["version"] == b["version"] and sorted(a["addresses"]) == sorted(b["addresses"])


#: Every resource kind the kit may change: the actions' and the settings a check fix
#: changes (explicit registry).
KINDS: dict[str, ResourceKind] = {
    k.kind: k
    for k in (
        ResourceKind("s3:bucket-policy", lambda t: f"bucket policy of {t['bucket']}", _read_bucket_policy, _write_bucket_policy, _same_bucket_policy),
        ResourceKind("s3:public-access-block", lambda t: f"Block Public Access of bucket {t['bucket']}", _read_pab, _write_pab, calls=_pab_calls),
        ResourceKind(
            "iam:role-policy", lambda t: f"inline policy {t['policy_name']} of role {t['role']}", _read_role_policy, _write_role_policy
        ),
        ResourceKind(
            "iam:access-key", lambda t: f"access key {t['access_key_id']} of user {t['user']}", _read_access_key, _write_access_key
        ),
        ResourceKind(
            "wafv2:ip-set", lambda t: f"WAF IP set {t['name']} ({t['scope']})", _read_ip_set_state, _write_ip_set, _same_ip_set
        ),
        ResourceKind(
            "sns:publish", lambda t: f"SNS topic {t['topic_arn']}", _not_readable, _not_writable, reversible=False
        ),
        *settings.SETTING_KINDS,
    )
}


def kind(name: str) -> ResourceKind:
    """The resource kind ``name``.

    Raises:
        ActionError: unknown kind (an audit record from a newer version?).
    """
    try:
        return KINDS[name]
    except KeyError:
        raise ActionError(f"unknown resource kind {name!r}; known: {', '.join(KINDS)}") from None


def state_diff(kind_name: str, before: Any, after: Any, name: str) -> str:
    """Unified diff of two states, pretty-printed as JSON."""
    if kind_name == "s3:bucket-policy":
        return policy_diff(load_policy(before), load_policy(after), name)
    import difflib

    def show(state: Any) -> list[str]:
        text = "(absent)\n" if state is None else json.dumps(state, indent=2, sort_keys=True) + "\n"
        return text.splitlines(keepends=True)

    return "".join(difflib.unified_diff(show(before), show(after), fromfile=f"{name} (before)", tofile=f"{name} (after)"))


# --- plans and their execution ------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A change from ``before`` to ``after`` of one resource, not yet applied.

    Attributes:
        action: what is being done (``block-ip``...).
        kind: resource kind (a key of :data:`KINDS`).
        target: resource parameters.
        before: state read while planning.
        after: state to write.
        details: facts for the audit record and the operator.
        token: optimistic-lock token read while planning (WAF), if any.
        rollback_of: action id this plan undoes.
    """

    action: str
    kind: str
    target: dict[str, Any]
    before: Any
    after: Any
    details: dict[str, Any] = field(default_factory=dict)
    token: Any = None
    rollback_of: str | None = None

    @property
    def description(self) -> str:
        """Human name of the resource."""
        return kind(self.kind).name(self.target)

    @property
    def changes(self) -> bool:
        """False when applying would change nothing."""
        return not kind(self.kind).same(self.before, self.after)

    @property
    def diff(self) -> str:
        """Unified diff of before and after."""
        return state_diff(self.kind, self.before, self.after, self.description)


@dataclass(frozen=True)
class ActionResult:
    """What happened to a plan: its audit record, and the diff shown to the operator."""

    record: audit.AuditRecord
    diff: str

    @property
    def action_id(self) -> str:
        """The audit id (what ``rollback`` takes)."""
        return self.record.id

    @property
    def applied(self) -> bool:
        """True when the resource was changed."""
        return self.record.status == audit.APPLIED


_PLANNED = object()


def execute(
    plan: Plan,
    *,
    apply: bool = False,
    session: Any | None = None,
    audit_log: Any | None = None,
    actor: str | None = None,
    replan: Callable[[], Plan] | None = None,
) -> ActionResult:
    """Record ``plan`` as a dry run, or apply it safely and record that.

    Applying holds the kit's lock on the resource (two runs of the kit never interleave
    their read-modify-write of one resource), re-reads it and refuses when it no longer
    matches ``plan.before`` (or, given ``replan``, plans again from the state it now
    reads: under the lock no other run of the kit can move it), saves the previous state to the backups folder and appends a
    ``started`` record *before* writing (an audit log that cannot be written stops the
    change before it is made, and a process that dies mid-way still leaves a record), then
    writes ``plan.after``, reads it back, and appends ``applied`` with the state read back.
    A write that fails, or whose read-back does not hold what was written (another writer
    got in between), appends ``failed`` and raises ActionError: it never says applied.
    """
    spec = kind(plan.kind)
    session = session or default_session()
    now = utc_now()
    action_id = audit.new_action_id(now)
    who = actor or audit.actor(session)
    diff = plan.diff

    def record(status: str, before: Any, after: Any = _PLANNED, **extra: Any) -> audit.AuditRecord:
        rec = audit.AuditRecord(
            id=action_id,
            time=iso_utc(now),
            actor=who,
            action=plan.action,
            kind=plan.kind,
            target=dict(plan.target),
            before=before,
            after=plan.after if after is _PLANNED else after,
            status=status,
            details={**plan.details, **extra},
            rollback_of=plan.rollback_of,
        )
        audit.append(rec, audit_log)
        return rec

    if not apply:
        return ActionResult(record(audit.DRY_RUN, plan.before), diff)
    if not plan.changes:
        return ActionResult(record(audit.NOOP, plan.before), diff)
    with audit.resource_lock(plan.kind, plan.target, audit_log):
        current = spec.read(plan.target, session)
        if not spec.same(current, plan.before):
            if replan is None:
                raise ActionError(f"{plan.description} changed since the plan was made; nothing was changed: plan again")
            log.info("%s changed since the plan was made; planning again", plan.description)
            plan = replan()
            diff = plan.diff
            current = plan.before
            if not plan.changes:
                return ActionResult(record(audit.NOOP, plan.before), diff)
        backup = audit.save_backup(action_id, current, audit_log)
        record(audit.STARTED, current, backup=str(backup))
        try:
            spec.write(plan.target, plan.after, session, token=plan.token)
        except Exception as exc:
            record(audit.FAILED, current, error=aws.explain(exc), backup=str(backup))
            if isinstance(exc, ActionError):
                raise
            raise ActionError(f"could not change {plan.description} (action {action_id}): {aws.explain(exc)}") from exc
        after = _read_back(spec, plan, session) if spec.reversible else plan.after
        if not spec.held(after, plan.after):
            record(audit.FAILED, current, after, error="the state read back does not hold what was written", backup=str(backup))
            raise ActionError(
                f"{plan.description} does not hold what action {action_id} wrote (another writer changed it at the same "
                f"time?); it was not applied as planned: look at it, then plan again. Previous state saved in {backup}"
            )
        # Still under the lock: the log lists a resource's changes in the order they were made.
        done = record(audit.APPLIED, current, after, backup=str(backup))
    log.info("applied %s to %s (action %s)", plan.action, plan.description, action_id)
    return ActionResult(done, diff)


#: Seconds between read-backs while a write is not yet visible (AWS settings propagate).
READ_BACK_WAITS = (0.0, 0.5, 1.0, 2.0)


def _read_back(spec: ResourceKind, plan: Plan, session: Any) -> Any:
    """The state after a write: read until it holds ``plan.after`` or the waits run out."""
    import time

    state = None
    for wait in READ_BACK_WAITS:
        time.sleep(wait)
        state = spec.read(plan.target, session)
        if spec.held(state, plan.after):
            break
    return state


def show_state(kind_name: str, state: Any) -> str:
    """A state pretty-printed for display."""
    if kind_name == "s3:bucket-policy":
        return pretty(load_policy(state))
    return json.dumps(state, indent=2, sort_keys=True) + "\n"
