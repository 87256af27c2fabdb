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
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from s3forensics import aws
from s3forensics.actions import audit
from s3forensics.actions.policy import load_policy, policy_diff, pretty
from s3forensics.errors import ActionError
from s3forensics.vocabulary import iso_utc, utc_now

log = logging.getLogger(__name__)


# --- sessions -----------------------------------------------------------------------

_SESSION_ENV = (
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_SESSIONS: dict[tuple[str | None, ...], Any] = {}


def default_session() -> Any:
    """A boto3 session from the standard chain, reused while its environment is unchanged.

    Building a session loads the service models again (a few tenths of a second per
    service); plans, execution and rollback share one, like boto3's own default session.
    """
    key = tuple(os.environ.get(name) for name in _SESSION_ENV)
    if key not in _SESSIONS:
        from botocore.exceptions import BotoCoreError

        _SESSIONS.clear()
        try:
            _SESSIONS[key] = aws.session()
        except BotoCoreError as exc:
            raise ActionError(f"could not set up an AWS session: {aws.explain(exc)}") from exc
    return _SESSIONS[key]


def _client(service: str, session: Any | None, **kwargs: Any) -> Any:
    return aws.client(service, session or default_session(), **kwargs)


# --- kinds --------------------------------------------------------------------------


def _read(what: str, name: str, call: Callable[[], Any], absent: str | None = None) -> Any:
    """``call()``; None when AWS answers with the code ``absent`` (nothing configured), and an
    ActionError naming ``what`` and ``name`` for any other failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        if absent is not None and aws.error_code(exc) == absent:
            return None
        raise _aws_error(what, name, exc) from exc
    except BotoCoreError as exc:
        raise _aws_error(what, name, exc) from exc


def _read_bucket_policy(target: Mapping[str, Any], session: Any) -> str | None:
    s3 = _client("s3", session)
    got = _read("read the policy of bucket", target["bucket"], lambda: s3.get_bucket_policy(Bucket=target["bucket"]),
                absent="NoSuchBucketPolicy")
    return None if got is None else got["Policy"]


def _write_bucket_policy(target: Mapping[str, Any], state: str | None, session: Any, token: Any = None) -> None:
    s3 = _client("s3", session)
    if state is None:
        s3.delete_bucket_policy(Bucket=target["bucket"])
    else:
        s3.put_bucket_policy(Bucket=target["bucket"], Policy=state)


def _same_bucket_policy(a: str | None, b: str | None) -> bool:
    return load_policy(a) == load_policy(b)


def _read_pab(target: Mapping[str, Any], session: Any) -> dict[str, bool] | None:
    s3 = _client("s3", session)
    got = _read("read Block Public Access of bucket", target["bucket"], lambda: s3.get_public_access_block(Bucket=target["bucket"]),
                absent="NoSuchPublicAccessBlockConfiguration")
    return None if got is None else got["PublicAccessBlockConfiguration"]


def _write_pab(target: Mapping[str, Any], state: dict[str, bool] | None, session: Any, token: Any = None) -> None:
    s3 = _client("s3", session)
    if state is None:
        s3.delete_public_access_block(Bucket=target["bucket"])
    else:
        s3.put_public_access_block(Bucket=target["bucket"], PublicAccessBlockConfiguration=dict(state))


def _read_role_policy(target: Mapping[str, Any], session: Any) -> dict[str, Any] | None:
    iam = _client("iam", session)
    got = _read("read an inline policy of role", target["role"],
                lambda: iam.get_role_policy(RoleName=target["role"], PolicyName=target["policy_name"]), absent="NoSuchEntity")
    if got is None:
        return None
    doc = got["PolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else doc


def _write_role_policy(target: Mapping[str, Any], state: dict[str, Any] | None, session: Any, token: Any = None) -> None:
    iam = _client("iam", session)
    if state is None:
        iam.delete_role_policy(RoleName=target["role"], PolicyName=target["policy_name"])
    else:
        iam.put_role_policy(RoleName=target["role"], PolicyName=target["policy_name"], PolicyDocument=json.dumps(state))


def _read_access_key(target: Mapping[str, Any], session: Any) -> str:
    iam = _client("iam", session)
    keys = _read("list the access keys of user", target["user"], lambda: iam.list_access_keys(UserName=target["user"]))["AccessKeyMetadata"]
    for key in keys:
        if key["AccessKeyId"] == target["access_key_id"]:
            return str(key["Status"])
    raise ActionError(f"user {target['user']} has no access key {target['access_key_id']}")


def _write_access_key(target: Mapping[str, Any], state: str, session: Any, token: Any = None) -> None:
    _client("iam", session).update_access_key(UserName=target["user"], AccessKeyId=target["access_key_id"], Status=state)


def read_ip_set(target: Mapping[str, Any], session: Any) -> tuple[dict[str, Any], str]:
    """A WAF IP set's state (``{"version", "addresses"}``) and its current lock token."""
    waf = _waf_client(target, session)
    got = _read("read WAF IP set", f"{target['name']} ({target['scope']})",
                lambda: waf.get_ip_set(Name=target["name"], Scope=target["scope"], Id=target["id"]))
    ip_set = got["IPSet"]
    return {"version": ip_set["IPAddressVersion"], "addresses": sorted(ip_set.get("Addresses", []))}, got["LockToken"]


def _waf_client(target: Mapping[str, Any], session: Any) -> Any:
    # CloudFront-scope WAF resources live in us-east-1 whatever the default region.
    if target["scope"] == "CLOUDFRONT":
        return _client("wafv2", session, region_name="us-east-1")
    return _client("wafv2", session)


def _read_ip_set_state(target: Mapping[str, Any], session: Any) -> dict[str, Any]:
    return read_ip_set(target, session)[0]


def _write_ip_set(target: Mapping[str, Any], state: dict[str, Any], session: Any, token: Any = None) -> None:
    from botocore.exceptions import ClientError

    waf = _waf_client(target, session)
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


def _equal(a: Any, b: Any) -> bool:
    return a == b


@dataclass(frozen=True)
class ResourceKind:
    """How to read, write, compare and name one kind of resource."""

    kind: str
    describe: Callable[[Mapping[str, Any]], str]
    read: Callable[[Mapping[str, Any], Any], Any]
    write: Callable[..., None]
    same: Callable[[Any, Any], bool] = _equal
    #: False for actions that cannot be undone (a published message).
    reversible: bool = True


#: Every resource kind an action may change (explicit registry).
KINDS: dict[str, ResourceKind] = {
    k.kind: k
    for k in (
        ResourceKind("s3:bucket-policy", lambda t: f"bucket policy of {t['bucket']}", _read_bucket_policy, _write_bucket_policy, _same_bucket_policy),
        ResourceKind("s3:public-access-block", lambda t: f"Block Public Access of bucket {t['bucket']}", _read_pab, _write_pab),
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


def _aws_error(what: str, name: str, exc: BaseException) -> ActionError:
    return ActionError(f"could not {what} {name}: {aws.explain(exc)}")


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
        return kind(self.kind).describe(self.target)

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


def execute(
    plan: Plan,
    *,
    apply: bool = False,
    session: Any | None = None,
    audit_log: Any | None = None,
    actor: str | None = None,
) -> ActionResult:
    """Record ``plan`` as a dry run, or apply it safely and record that.

    Applying re-reads the resource and refuses when it no longer matches ``plan.before``,
    saves the previous state to the backups folder, writes ``plan.after``, then appends
    an ``applied`` record (a ``failed`` one, and an ActionError, if the write fails).
    """
    spec = kind(plan.kind)
    session = session or default_session()
    now = utc_now()
    action_id = audit.new_action_id(now)
    who = actor or audit.actor(session)
    diff = plan.diff

    def record(status: str, before: Any, **extra: Any) -> audit.AuditRecord:
        rec = audit.AuditRecord(
            id=action_id,
            time=iso_utc(now),
            actor=who,
            action=plan.action,
            kind=plan.kind,
            target=dict(plan.target),
            before=before,
            after=plan.after,
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
    current = spec.read(plan.target, session)
    if not spec.same(current, plan.before):
        raise ActionError(f"{plan.description} changed since the plan was made; nothing was changed: plan again")
    backup = audit.save_backup(action_id, current, audit_log)
    try:
        spec.write(plan.target, plan.after, session, token=plan.token)
    except Exception as exc:
        record(audit.FAILED, current, error=str(exc), backup=str(backup))
        if isinstance(exc, ActionError):
            raise
        raise ActionError(f"could not change {plan.description} (action {action_id}): {aws.explain(exc)}") from exc
    log.info("applied %s to %s (action %s)", plan.action, plan.description, action_id)
    return ActionResult(record(audit.APPLIED, current, backup=str(backup)), diff)


def show_state(kind_name: str, state: Any) -> str:
    """A state pretty-printed for display."""
    if kind_name == "s3:bucket-policy":
        return pretty(load_policy(state))
    return json.dumps(state, indent=2, sort_keys=True) + "\n"
