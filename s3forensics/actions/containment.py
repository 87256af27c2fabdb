"""Other containment steps from the AWS incident-response playbooks, each reversible.

- Block Public Access on a bucket (all four settings on).
- Revoke a role's active sessions: an inline Deny of everything to credentials issued
  before now (``aws:TokenIssueTime``), as the IAM console's "Revoke active sessions" does.
- Deactivate an IAM user's access key.

Each returns a :class:`~s3forensics.actions.resources.Plan`; ``execute`` records or
applies it and saves the previous state for rollback.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from s3forensics.actions import policy as pol
from s3forensics.actions.kinds import client, read_or_absent
from s3forensics.actions.resources import Plan, kind
from s3forensics.config import validate_bucket_name
from s3forensics.errors import ActionError, ParameterError
from s3forensics.vocabulary import iso_utc, utc_now


def plan_block_public_access(bucket: str, *, session: Any | None = None) -> Plan:
    """Plan turning on all four Block Public Access settings of ``bucket``."""
    target = {"bucket": validate_bucket_name(bucket)}
    before = kind("s3:public-access-block").read(target, session)
    return Plan("block-public-access", "s3:public-access-block", target, before, dict(pol.FULL_BLOCK_PUBLIC_ACCESS))


def plan_revoke_sessions(role: str, *, session: Any | None = None, now: datetime | None = None) -> Plan:
    """Plan denying every session of ``role`` issued before ``now`` (new sessions still work)."""
    if not role or "/" in role or ":" in role:
        raise ParameterError(f"--role {role!r} must be a role name (not an ARN or path)")
    when = (now or utc_now()).replace(microsecond=0)
    # get_role_policy answers NoSuchEntity both for a missing policy and a missing role.
    iam = client("iam", session)
    if read_or_absent("read role", role, lambda: iam.get_role(RoleName=role), absent="NoSuchEntity") is None:
        raise ActionError(f"role {role} does not exist in this account: nothing to revoke (check the name; roles are case-sensitive)")
    target = {"role": role, "policy_name": pol.REVOKE_POLICY_NAME}
    before = kind("iam:role-policy").read(target, session)
    return Plan("revoke-sessions", "iam:role-policy", target, before, pol.revoke_sessions_policy(when), {"issued_before": iso_utc(when)})


def plan_deactivate_key(user: str, access_key_id: str, *, session: Any | None = None) -> Plan:
    """Plan setting the status of ``access_key_id`` of ``user`` to Inactive."""
    if not user or not access_key_id:
        raise ParameterError("--user and --access-key-id are both required")
    target = {"user": user, "access_key_id": access_key_id}
    before = kind("iam:access-key").read(target, session)
    return Plan("deactivate-access-key", "iam:access-key", target, before, "Inactive")
