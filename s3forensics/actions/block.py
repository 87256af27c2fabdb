"""Block source addresses on a bucket with a Deny on ``aws:SourceIp``, never losing a statement.

``plan_block_ip`` reads the current policy, checks the safeguards, and merges the kit's
Deny statement into it (:mod:`s3forensics.actions.policy`); :func:`execute` then records
the dry run or applies it. ``plan_unblock_ip`` and ``plan_expire`` take addresses out
again (all other statements untouched).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from s3forensics.actions import policy as pol
from s3forensics.actions.resources import ActionResult, Plan, default_session, execute, kind
from s3forensics.config import validate_bucket_name
from s3forensics.vocabulary import iso_utc, utc_now

log = logging.getLogger(__name__)

KIND = "s3:bucket-policy"


def current_policy(bucket: str, session: Any | None = None) -> str | None:
    """The bucket's policy text, or None when it has none."""
    return kind(KIND).read({"bucket": validate_bucket_name(bucket)}, session)


def plan_block_ip(
    bucket: str,
    addresses: Sequence[str],
    *,
    expires: timedelta | str | None = None,
    my_ips: Sequence[str] = (),
    force: bool = False,
    extend: bool = False,
    max_new: int = pol.DEFAULT_MAX_NEW_ADDRESSES,
    session: Any | None = None,
    now: datetime | None = None,
) -> Plan:
    """Plan a Deny from ``addresses`` (IPs or CIDRs, v4/v6) on ``bucket``.

    Args:
        bucket: the bucket to protect.
        addresses: IPs or CIDRs to block.
        expires: how long the block lasts (``"24h"`` or a timedelta); None = until removed.
        my_ips: the caller's own addresses (also ``$S3FORENSICS_MY_IP``, comma separated).
        force: override the refusals (not the 20 KB limit, which AWS enforces).
        extend: move addresses already blocked until earlier to the new expiry (by
            default a repeat leaves an existing block as it is).
        max_new: most addresses one call may block without ``force``.
        session: boto3 session (standard chain when None).
        now: the current time (tests).

    Raises:
        RefusedError: a safeguard fired, or the policy would exceed 20 KB.
        ParameterError: an address or duration is unreadable.
        ActionError: the current policy is unreadable or the kit's statement was hand-edited.
    """
    validate_bucket_name(bucket)
    networks = pol.parse_networks(addresses)
    problems = pol.check_safety(networks, my_ips=tuple(my_ips) + env_my_ips(), force=force, max_new=max_new)
    when = (now or utc_now()).replace(microsecond=0)
    delta = pol.parse_duration(expires) if isinstance(expires, str) else expires
    expires_at = when + delta if delta is not None else None
    before_text = current_policy(bucket, session)
    before = pol.load_policy(before_text, f"policy of bucket {bucket}")
    merged = pol.merge_block(before, bucket, networks, expires_at=expires_at, extend=extend)
    after_text = before_text if not merged.changed else pol.dump_policy(merged.policy)  # type: ignore[arg-type]
    details: dict[str, Any] = {
        "addresses": [str(n) for n in networks],
        "added": list(merged.added),
        "already_blocked": list(merged.unchanged),
        "expires_at": iso_utc(expires_at) if expires_at else None,
        "policy_bytes": pol.policy_size(merged.policy) if merged.policy else 0,
    }
    if problems:
        details["forced_past"] = problems
    return Plan("block-ip", KIND, {"bucket": bucket}, before_text, after_text, details)


def plan_unblock_ip(bucket: str, addresses: Sequence[str], *, session: Any | None = None) -> Plan:
    """Plan removing ``addresses`` (exact entries) from the kit's Deny statements."""
    validate_bucket_name(bucket)
    networks = pol.parse_networks(addresses)
    before_text = current_policy(bucket, session)
    before = pol.load_policy(before_text, f"policy of bucket {bucket}")
    result = pol.remove_blocks(before, bucket, networks=networks)
    after_text = before_text if not result.changed else (pol.dump_policy(result.policy) if result.policy else None)
    missing = sorted({str(n) for n in networks} - {str(pol.parse_network(a)) for a in result.removed})
    return Plan("unblock-ip", KIND, {"bucket": bucket}, before_text, after_text, {"removed": list(result.removed), "not_blocked": missing})


def plan_expire(bucket: str, *, session: Any | None = None, now: datetime | None = None) -> Plan:
    """Plan removing every block whose expiry (in its Sid) is at or before ``now``."""
    validate_bucket_name(bucket)
    when = now or utc_now()
    before_text = current_policy(bucket, session)
    before = pol.load_policy(before_text, f"policy of bucket {bucket}")
    result = pol.remove_blocks(before, bucket, expired_at=when)
    after_text = before_text if not result.changed else (pol.dump_policy(result.policy) if result.policy else None)
    return Plan("expire-blocks", KIND, {"bucket": bucket}, before_text, after_text, {"removed": list(result.removed), "now": iso_utc(when)})


def block_ip(
    bucket: str,
    addresses: Sequence[str],
    *,
    apply: bool = False,
    expires: timedelta | str | None = None,
    my_ips: Sequence[str] = (),
    force: bool = False,
    extend: bool = False,
    session: Any | None = None,
    audit_log: Any | None = None,
) -> ActionResult:
    """Plan and record (dry run) or apply a block; see :func:`plan_block_ip`."""
    session = session or default_session()

    def make() -> Plan:
        return plan_block_ip(bucket, addresses, expires=expires, my_ips=my_ips, force=force, extend=extend, session=session)

    return execute(make(), apply=apply, session=session, audit_log=audit_log, replan=make)


def env_my_ips() -> tuple[str, ...]:
    """The caller's own addresses from ``$S3FORENSICS_MY_IP`` (comma or space separated)."""
    import os
    import re

    raw = os.environ.get("S3FORENSICS_MY_IP", "")
    return tuple(p for p in re.split(r"[,\s]+", raw) if p)
