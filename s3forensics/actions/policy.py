"""Pure policy arithmetic for response actions: no AWS, no files.

Blocking an address must never cost the bucket a statement. Everything here takes a
policy document (already parsed) and returns a new one, leaving every statement it does
not own exactly as it was, in the same place. The statements it does own carry a Sid
starting with :data:`BLOCK_SID_PREFIX`, so a repeat block merges into them and an
operator reading the policy knows where they came from.

Expiry is written into the Sid itself (``S3ForensicsBlockUntil20261117T120000Z``): the
policy then says on its own what may be removed and when, so ``respond expire`` and the
scheduled Lambda need no other record to clean up.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from s3forensics.errors import ActionError, ParameterError, RefusedError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Sid prefix of the Deny statements this kit writes.
BLOCK_SID_PREFIX = "S3ForensicsBlock"
#: Sid of the statement holding blocks without expiry.
PERMANENT_SID = BLOCK_SID_PREFIX
_EXPIRY_SID = re.compile(rf"^{BLOCK_SID_PREFIX}Until(\d{{8}}T\d{{6}}Z)$")
_SID_TIME = "%Y%m%dT%H%M%SZ"

#: S3 rejects bucket policies larger than 20 KB.
MAX_POLICY_BYTES = 20 * 1024
#: Without ``force``, one call blocks at most this many new addresses.
DEFAULT_MAX_NEW_ADDRESSES = 200
#: Without ``force``, refuse ranges broader than these prefix lengths.
MIN_PREFIX = {4: 8, 6: 32}
POLICY_VERSION = "2012-10-17"

#: Addresses a bucket policy's ``aws:SourceIp`` never sees from the internet.
PRIVATE_RANGES: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


# --- addresses ----------------------------------------------------------------------


def parse_network(text: str, what: str = "address") -> IPNetwork:
    """An IPv4/IPv6 address or CIDR as a network (a host becomes /32 or /128).

    An IPv4 range written in IPv4-mapped IPv6 form (``::ffff:203.0.113.0/120``) comes
    back in its IPv4 form (``203.0.113.0/24``): that is what ``aws:SourceIp`` compares
    an IPv4 client with, and what the safeguards must judge.

    Raises:
        ParameterError: not an address, or a CIDR with host bits set.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"{what} {text!r} is empty or not text")
    value = text.strip()
    if "%" in value:
        # A zone id names a local interface; aws:SourceIp never carries one, and Python
        # would keep it in the address, out of reach of the own-address safeguard.
        raise ParameterError(f"{what} {value!r} has an IPv6 zone id (%...): give the address without it")
    try:
        return ipv4_form(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ParameterError(f"{what} {value!r} is not an IPv4/IPv6 address or CIDR: {exc}") from exc
        raise ParameterError(f"{what} {value!r} has host bits set; did you mean {loose}?") from exc


def parse_networks(items: Iterable[str], what: str = "address") -> list[IPNetwork]:
    """Parse and de-duplicate addresses, keeping the order they were given in."""
    seen: dict[IPNetwork, None] = {}
    for item in items:
        seen.setdefault(parse_network(item, what), None)
    if not seen:
        raise ParameterError(f"no {what} given")
    return list(seen)


#: IPv4 addresses written as IPv6 (``::ffff:a.b.c.d``).
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
#: IPv6 ranges that carry an IPv4 address in their bits: name, range, bit offset of the
#: IPv4 address from the left.
IPV4_EMBEDDING: tuple[tuple[str, ipaddress.IPv6Network, int], ...] = (
    ("6to4", ipaddress.IPv6Network("2002::/16"), 16),
    ("NAT64", ipaddress.IPv6Network("64:ff9b::/96"), 96),
)


def _embedded_ipv4(net: ipaddress.IPv6Network, offset: int) -> ipaddress.IPv4Network:
    """The IPv4 range held by bits ``offset..offset+32`` of ``net``."""
    value = (int(net.network_address) >> (128 - offset - 32)) & 0xFFFFFFFF
    return ipaddress.IPv4Network((value, max(0, min(32, net.prefixlen - offset))), strict=False)


def ipv4_form(net: IPNetwork) -> IPNetwork:
    """``net`` itself, or its IPv4 form when it is an IPv4-mapped IPv6 range.

    ``::ffff:0.0.0.0/96`` is every IPv4 address (``0.0.0.0/0``); ``::ffff:203.0.113.0/120``
    is ``203.0.113.0/24``. A range wider than /96 that holds the mapped block is
    left as IPv6 (:func:`safety_problems` refuses it).
    """
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(IPV4_MAPPED):
        return ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
    return net


_BROADCAST = ipaddress.IPv4Network("255.255.255.255/32")


def _is_private(net: IPNetwork) -> bool:
    return any(net.version == p.version and (net.subnet_of(p) or net.supernet_of(p)) for p in PRIVATE_RANGES)  # type: ignore[arg-type]


def safety_problems(
    networks: Sequence[IPNetwork],
    *,
    my_ips: Sequence[str] = (),
    max_new: int = DEFAULT_MAX_NEW_ADDRESSES,
) -> list[str]:
    """Reasons to refuse blocking ``networks`` (empty when it is safe).

    Args:
        networks: what is about to be blocked.
        my_ips: the caller's own public addresses; a range holding one is refused.
        max_new: most addresses one call may block.
    """
    mine = [parse_network(ip, "--my-ip address") for ip in my_ips]
    problems: list[str] = []
    for given in networks:
        # An IPv4 range written in IPv6 form is judged (and blocked) as the IPv4 range it is.
        net = ipv4_form(given)
        shown = str(net) if net == given else f"{given} (IPv4 {net})"
        if net.version == 6 and net.prefixlen > 0 and net.supernet_of(IPV4_MAPPED):  # type: ignore[arg-type]
            problems.append(f"{shown} holds {IPV4_MAPPED}, every IPv4 address in IPv6 form: it would block everyone")
        for name, block, offset in IPV4_EMBEDDING:
            if net.version == 6 and net.subnet_of(block):  # type: ignore[arg-type]
                inner = _embedded_ipv4(net, offset)  # type: ignore[arg-type]
                problems.append(
                    f"{shown} is a {name} range embedding IPv4 {inner}, which hides that IPv4 range from these "
                    f"checks; to block IPv4 clients give {inner} (aws:SourceIp sees the IPv4 address)"
                )
        if net.prefixlen == 0:
            problems.append(f"{shown} is every {('IPv4' if net.version == 4 else 'IPv6')} address: it would block everyone")
        elif net.prefixlen < MIN_PREFIX[net.version]:
            problems.append(f"{shown} is broader than /{MIN_PREFIX[net.version]}: it would block a large part of the internet")
        first = net.network_address
        if first.is_multicast or first.is_unspecified or (net.version == 4 and net.subnet_of(_BROADCAST)):  # type: ignore[arg-type]
            problems.append(f"{shown} is a multicast, broadcast or unspecified address: no client sends requests from it")
        if _is_private(net):
            problems.append(
                f"{shown} is a private, loopback or link-local range: a bucket policy's aws:SourceIp only "
                "sees public addresses (private ones arrive only through a VPC endpoint, where blocking "
                "may lock out your own workloads)"
            )
        for own in mine:
            if own.version == net.version and (own.subnet_of(net) or net.subnet_of(own)):  # type: ignore[arg-type]
                problems.append(f"{shown} contains your own address {own}: you would lock yourself out")
    if len(networks) > max_new:
        problems.append(f"{len(networks)} addresses in one call is more than the limit of {max_new}")
    return problems


def check_safety(
    networks: Sequence[IPNetwork],
    *,
    my_ips: Sequence[str] = (),
    force: bool = False,
    max_new: int = DEFAULT_MAX_NEW_ADDRESSES,
) -> list[str]:
    """Raise RefusedError listing every problem, unless ``force``; returns the problems."""
    problems = safety_problems(networks, my_ips=my_ips, max_new=max_new)
    if problems and not force:
        raise RefusedError("refused to block: " + "; ".join(problems) + " (use force to override)")
    return problems


# --- expiry -------------------------------------------------------------------------

#: The longest expiry a block may have (longer: leave it out, the block is permanent).
MAX_DURATION = timedelta(days=3650)
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"24h"``, ``"7d"``, ``"1d12h"`` -> timedelta.

    Raises:
        ParameterError: unreadable or not positive.
    """
    value = (text or "").strip().lower()
    parts = _DURATION.findall(value)
    if not parts or _DURATION.sub("", value).strip():
        raise ParameterError(f"duration {text!r} is not like 30m, 24h, 7d or 1d12h")
    try:
        delta = sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    except OverflowError:
        delta = MAX_DURATION * 2
    if delta <= timedelta(0):
        raise ParameterError(f"duration {text!r} must be positive")
    if delta > MAX_DURATION:
        raise ParameterError(f"duration {text!r} is longer than {MAX_DURATION.days} days: leave the expiry out for a block that lasts until removed")
    return delta


def expiry_sid(expires_at: datetime | None) -> str:
    """The Sid holding blocks that expire at ``expires_at`` (whole seconds, UTC)."""
    if expires_at is None:
        return PERMANENT_SID
    if expires_at.tzinfo is None:
        raise ParameterError(f"expiry {expires_at!r} has no timezone")
    return f"{BLOCK_SID_PREFIX}Until{expires_at.astimezone(UTC).strftime(_SID_TIME)}"


def sid_expiry(sid: str) -> datetime | None:
    """The expiry a block Sid carries, or None for the permanent one."""
    match = _EXPIRY_SID.match(sid)
    if not match:
        return None
    return datetime.strptime(match.group(1), _SID_TIME).replace(tzinfo=UTC)


def _floor_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


# --- policy documents ---------------------------------------------------------------


def load_policy(text: str | None, where: str = "bucket policy") -> dict[str, Any] | None:
    """Parse a policy's JSON text (None stays None).

    Raises:
        ActionError: not JSON, or not an object with a Statement.
    """
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ActionError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise ActionError(f"{where} is not a policy document (no Statement)")
    return doc


def dump_policy(policy: Mapping[str, Any]) -> str:
    """The compact JSON sent to AWS (and measured against the size limit)."""
    return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)


def policy_size(policy: Mapping[str, Any]) -> int:
    """Bytes of :func:`dump_policy`."""
    return len(dump_policy(policy).encode("utf-8"))


def pretty(policy: Mapping[str, Any] | None) -> str:
    """Pretty-printed JSON for diffs and display (``(no policy)`` for None)."""
    return "(no policy)\n" if policy is None else json.dumps(policy, indent=2, ensure_ascii=False) + "\n"


def policy_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, name: str = "policy") -> str:
    """Unified diff of the pretty-printed JSON of two policies ("" when equal)."""
    return "".join(
        difflib.unified_diff(
            pretty(before).splitlines(keepends=True),
            pretty(after).splitlines(keepends=True),
            fromfile=f"{name} (before)",
            tofile=f"{name} (after)",
        )
    )


def _statements(policy: Mapping[str, Any] | None) -> list[Any]:
    if policy is None:
        return []
    stmts = policy.get("Statement")
    if isinstance(stmts, list):
        return list(stmts)
    return [stmts]


def is_block_statement(stmt: Any) -> bool:
    """True for a statement this kit owns (Sid prefix); raises if its shape was edited."""
    if not isinstance(stmt, dict) or not str(stmt.get("Sid", "")).startswith(BLOCK_SID_PREFIX):
        return False
    sid = stmt["Sid"]
    if sid != PERMANENT_SID and not _EXPIRY_SID.match(sid):
        raise ActionError(f"statement {sid!r} uses the kit's Sid prefix but not its naming; rename it")
    cond = stmt.get("Condition")
    ok = (
        stmt.get("Effect") == "Deny"
        and isinstance(cond, dict)
        and list(cond) == ["IpAddress"]
        and isinstance(cond["IpAddress"], dict)
        and list(cond["IpAddress"]) == ["aws:SourceIp"]
    )
    if not ok:
        raise ActionError(
            f"statement {sid!r} has the kit's Sid but not its shape (Deny on IpAddress aws:SourceIp); "
            "it was edited by hand: fix or rename it before blocking"
        )
    return True


def block_addresses(stmt: Mapping[str, Any]) -> list[str]:
    """The ``aws:SourceIp`` values of a block statement, as a list."""
    value = stmt["Condition"]["IpAddress"]["aws:SourceIp"]
    return [value] if isinstance(value, str) else list(value)


def blocked(policy: Mapping[str, Any] | None) -> dict[str, datetime | None]:
    """Every address the kit's statements block -> its expiry (None = permanent)."""
    out: dict[str, datetime | None] = {}
    for stmt in _statements(policy):
        if is_block_statement(stmt):
            for addr in block_addresses(stmt):
                out[addr] = sid_expiry(stmt["Sid"])
    return out


def block_statement(bucket: str, sid: str, addresses: Sequence[str]) -> dict[str, Any]:
    """A Deny on every S3 action on the bucket and its objects from ``addresses``."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"IpAddress": {"aws:SourceIp": list(addresses)}},
    }


@dataclass(frozen=True)
class MergeResult:
    """The outcome of a pure merge.

    Attributes:
        policy: the new policy (None when nothing remains).
        added: addresses newly blocked (or moved to a later expiry).
        unchanged: requested addresses already covered until at least the requested time.
        removed: addresses taken out (unblock/expire).
    """

    policy: dict[str, Any] | None
    added: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the policy differs from the input."""
        return bool(self.added or self.removed)


def _later_or_equal(a: datetime | None, b: datetime | None) -> bool:
    """Does expiry ``a`` last at least as long as ``b`` (None = forever)?"""
    if a is None:
        return True
    if b is None:
        return False
    return a >= b


def _rebuild(policy: Mapping[str, Any] | None, bucket: str, owned: dict[str, list[str]]) -> dict[str, Any] | None:
    """Put the kit's statements back: each owned Sid stays where it was, new ones go last."""
    base: dict[str, Any] = copy.deepcopy(dict(policy)) if policy is not None else {"Version": POLICY_VERSION}
    placed: set[str] = set()
    out: list[Any] = []
    for stmt in _statements(policy):
        if is_block_statement(stmt):
            sid = stmt["Sid"]
            if owned.get(sid):
                kept = copy.deepcopy(stmt)
                kept["Condition"]["IpAddress"]["aws:SourceIp"] = list(owned[sid])
                out.append(kept)
            placed.add(sid)
        else:
            out.append(copy.deepcopy(stmt))
    for sid in sorted(owned, key=lambda s: (s != PERMANENT_SID, s)):
        if sid not in placed and owned[sid]:
            out.append(block_statement(bucket, sid, owned[sid]))
    if not out:
        return None
    if policy is not None and not isinstance(policy.get("Statement"), list) and len(out) == 1:
        base["Statement"] = out[0]
    else:
        base["Statement"] = out
    return base


def _owned(policy: Mapping[str, Any] | None) -> dict[str, list[str]]:
    owned: dict[str, list[str]] = {}
    for stmt in _statements(policy):
        if is_block_statement(stmt):
            owned.setdefault(stmt["Sid"], []).extend(block_addresses(stmt))
    return owned


def _same(addr: str, net: IPNetwork) -> bool:
    return _parsed(addr) == net


def _index(owned: Mapping[str, list[str]]) -> dict[IPNetwork, list[datetime | None]]:
    """Blocked network -> the expiries it is blocked until (None = forever)."""
    index: dict[IPNetwork, list[datetime | None]] = {}
    for sid, addrs in owned.items():
        exp = sid_expiry(sid)
        for addr in addrs:
            have = _parsed(addr)
            if have is not None:
                index.setdefault(have, []).append(exp)
    return index


def _covering(index: Mapping[IPNetwork, list[datetime | None]], net: IPNetwork) -> datetime | bool | None:
    """Longest expiry among blocked networks covering ``net``; False when none does."""
    best: datetime | bool | None = False
    for prefix in range(net.prefixlen, -1, -1):
        for exp in index.get(net.supernet(new_prefix=prefix), ()):
            if best is False or (best is not None and _later_or_equal(exp, best)):  # type: ignore[arg-type]
                best = exp
    return best


_PARSED: dict[str, IPNetwork | None] = {}


def _parsed(addr: str) -> IPNetwork | None:
    """A policy entry as a network (memoised; entries repeat across calls), None if unreadable."""
    if addr not in _PARSED:
        if len(_PARSED) > 100_000:
            _PARSED.clear()
        try:
            _PARSED[addr] = ipv4_form(ipaddress.ip_network(addr, strict=False))
        except ValueError:
            _PARSED[addr] = None
    return _PARSED[addr]


def merge_block(
    policy: Mapping[str, Any] | None,
    bucket: str,
    networks: Sequence[IPNetwork],
    *,
    expires_at: datetime | None = None,
    extend: bool = False,
    max_bytes: int = MAX_POLICY_BYTES,
) -> MergeResult:
    """Add Deny-by-``aws:SourceIp`` for ``networks`` to ``policy``, preserving the rest.

    An address already covered (itself or a wider range) is left alone, so repeating a
    block changes nothing, with two exceptions: a permanent block replaces an expiring
    one, and with ``extend`` an expiring block is moved to a later ``expires_at``.

    Raises:
        RefusedError: the merged policy would exceed ``max_bytes`` (S3's hard limit).
    """
    if expires_at is not None:
        expires_at = _floor_seconds(expires_at)
    owned = _owned(policy)
    index = _index(owned)
    target_sid = expiry_sid(expires_at)
    added: list[str] = []
    unchanged: list[str] = []
    for net in networks:
        cover = _covering(index, net)
        text = str(net)
        if cover is not False and (_later_or_equal(cover, expires_at) or (expires_at is not None and not extend)):  # type: ignore[arg-type]
            unchanged.append(text)
            continue
        owned.setdefault(target_sid, [])
        if net in index:  # listed already, with a shorter expiry: move it
            for sid, addrs in owned.items():
                if sid != target_sid:
                    addrs[:] = [a for a in addrs if not _same(a, net)]
        if net not in index or not any(_same(a, net) for a in owned[target_sid]):
            owned[target_sid].append(text)
        index.setdefault(net, []).append(expires_at)
        added.append(text)
    if not added:
        return MergeResult(copy.deepcopy(dict(policy)) if policy is not None else None, (), tuple(unchanged))
    merged = _rebuild(policy, bucket, owned)
    assert merged is not None
    size = policy_size(merged)
    if size > max_bytes:
        raise RefusedError(
            f"blocking {len(added)} more addresses on bucket {bucket} would make its policy {size} bytes, "
            f"over the {max_bytes}-byte limit S3 enforces; block fewer, wider ranges or at the edge (WAF)"
        )
    return MergeResult(merged, tuple(added), tuple(unchanged))


def remove_blocks(
    policy: Mapping[str, Any] | None,
    bucket: str,
    *,
    networks: Sequence[IPNetwork] | None = None,
    expired_at: datetime | None = None,
) -> MergeResult:
    """Take addresses out of the kit's statements (nothing else is touched).

    Args:
        policy: the current policy.
        bucket: its bucket (for new statements; none are created here).
        networks: exact entries to remove; None with ``expired_at`` removes expired ones.
        expired_at: remove every entry whose statement expired at or before this time.
    """
    owned = _owned(policy)
    wanted = {str(n) for n in networks} if networks is not None else None
    removed: list[str] = []
    for sid, addrs in owned.items():
        expiry = sid_expiry(sid)
        expired = expired_at is not None and expiry is not None and expiry <= expired_at
        keep: list[str] = []
        for addr in addrs:
            try:
                key = str(ipaddress.ip_network(addr, strict=False))
            except ValueError:
                key = addr
            if expired or (wanted is not None and key in wanted):
                removed.append(addr)
            else:
                keep.append(addr)
        owned[sid] = keep
    if not removed:
        return MergeResult(copy.deepcopy(dict(policy)) if policy is not None else None)
    return MergeResult(_rebuild(policy, bucket, owned), removed=tuple(removed))


def other_statements(policy: Mapping[str, Any] | None) -> list[Any]:
    """Every statement the kit does not own, in order (what a merge must preserve)."""
    return [s for s in _statements(policy) if not is_block_statement(s)]


# --- other containment documents ----------------------------------------------------

#: Inline policy name the IAM console uses for "Revoke active sessions".
REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"


def revoke_sessions_policy(now: datetime) -> dict[str, Any]:
    """Deny everything to sessions whose credentials were issued before ``now``."""
    stamp = _floor_seconds(now).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": stamp}},
            }
        ],
    }


FULL_BLOCK_PUBLIC_ACCESS: dict[str, bool] = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
