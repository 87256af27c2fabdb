"""Block addresses at the edge: add them to a WAFv2 IP set (sites served through CloudFront).

The IP set must already be referenced by a Block rule of the distribution's web ACL; this
module only changes the set's addresses, with the lock token read while planning, so a
concurrent change makes the update fail instead of being overwritten. The same
safeguards as bucket-policy blocks apply; an IP set holds one address family and at most
10,000 addresses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s3forensics.actions import policy as pol
from s3forensics.actions.block import env_my_ips
from s3forensics.actions.resources import ActionResult, Plan, default_session, execute, read_ip_set
from s3forensics.errors import ParameterError, RefusedError

KIND = "wafv2:ip-set"
#: WAFv2's limit on addresses in one IP set.
MAX_IP_SET_ADDRESSES = 10_000
SCOPES = ("CLOUDFRONT", "REGIONAL")


def ip_set_target(name: str, ip_set_id: str, scope: str = "CLOUDFRONT") -> dict[str, str]:
    """The target of an IP set action (validated)."""
    if scope not in SCOPES:
        raise ParameterError(f"--scope {scope!r} must be one of {', '.join(SCOPES)}")
    if not name or not ip_set_id:
        raise ParameterError("an IP set needs both a name and an id")
    return {"name": name, "id": ip_set_id, "scope": scope}


def plan_waf_block(
    name: str,
    ip_set_id: str,
    addresses: Sequence[str],
    *,
    scope: str = "CLOUDFRONT",
    my_ips: Sequence[str] = (),
    force: bool = False,
    max_new: int = pol.DEFAULT_MAX_NEW_ADDRESSES,
    session: Any | None = None,
) -> Plan:
    """Plan adding ``addresses`` to the IP set (those already covered are skipped).

    Raises:
        RefusedError: a safeguard fired or the set would exceed 10,000 addresses.
        ParameterError: an address of the other family than the set's.
    """
    target = ip_set_target(name, ip_set_id, scope)
    networks = pol.parse_networks(addresses)
    problems = pol.check_safety(networks, my_ips=tuple(my_ips) + env_my_ips(), force=force, max_new=max_new)
    before, token = read_ip_set(target, session)
    family = 4 if before["version"] == "IPV4" else 6
    wrong = [str(n) for n in networks if n.version != family]
    if wrong:
        raise ParameterError(f"IP set {name} holds {before['version']} addresses; {', '.join(wrong)} belong in a set of the other family")
    existing = [pol.parse_network(a, f"IP set {name} entry") for a in before["addresses"]]
    added: list[str] = []
    unchanged: list[str] = []
    for net in networks:
        if any(net.subnet_of(have) for have in existing):  # type: ignore[arg-type]
            unchanged.append(str(net))
        else:
            added.append(str(net))
            existing.append(net)
    after = {"version": before["version"], "addresses": sorted(before["addresses"] + added)}
    if len(after["addresses"]) > MAX_IP_SET_ADDRESSES:
        raise RefusedError(f"IP set {name} would hold {len(after['addresses'])} addresses, over WAF's limit of {MAX_IP_SET_ADDRESSES}")
    details: dict[str, Any] = {"addresses": [str(n) for n in networks], "added": added, "already_blocked": unchanged}
    if problems:
        details["forced_past"] = problems
    return Plan("waf-block-ip", KIND, target, before, after, details, token=token)


def plan_waf_unblock(name: str, ip_set_id: str, addresses: Sequence[str], *, scope: str = "CLOUDFRONT", session: Any | None = None) -> Plan:
    """Plan removing exact ``addresses`` from the IP set."""
    target = ip_set_target(name, ip_set_id, scope)
    wanted = {str(n) for n in pol.parse_networks(addresses)}
    before, token = read_ip_set(target, session)
    keep = [a for a in before["addresses"] if str(pol.parse_network(a)) not in wanted]
    removed = [a for a in before["addresses"] if a not in keep]
    after = {"version": before["version"], "addresses": keep}
    return Plan("waf-unblock-ip", KIND, target, before, after, {"removed": removed}, token=token)


def waf_block_ip(
    name: str,
    ip_set_id: str,
    addresses: Sequence[str],
    *,
    scope: str = "CLOUDFRONT",
    apply: bool = False,
    my_ips: Sequence[str] = (),
    force: bool = False,
    session: Any | None = None,
    audit_log: Any | None = None,
) -> ActionResult:
    """Plan and record (dry run) or apply an edge block; see :func:`plan_waf_block`."""
    session = session or default_session()
    plan = plan_waf_block(name, ip_set_id, addresses, scope=scope, my_ips=my_ips, force=force, session=session)
    return execute(plan, apply=apply, session=session, audit_log=audit_log)
