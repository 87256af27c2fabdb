"""What a bucket policy put through ``PutBucketPolicy`` opens, read statement by statement.

S3 calls a policy public unless each statement that allows to everyone (``Principal`` ``"*"``
or ``{"AWS": "*"}``) is held to fixed values by a condition: a set of CIDRs in
``aws:SourceIp``, or a fixed ``aws:SourceArn``, ``aws:SourceVpc``, ``aws:SourceVpce``,
``aws:SourceOwner``, ``aws:SourceAccount``, ``s3:x-amz-server-side-encryption-aws-kms-key-id``
or ``aws:userid`` (the S3 API Reference, ``PublicAccessBlockConfiguration``). The
organisation and principal keys (``aws:PrincipalOrgID``, ``aws:PrincipalAccount``,
``aws:PrincipalArn``) hold a statement to known principals as well.

A statement that allows a principal of another account (its ARN or account id) opens the
bucket to that account: the backdoor an attacker leaves behind.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

#: Condition keys that hold an allow-to-everyone statement to fixed callers (lower case).
RESTRICTING_KEYS = frozenset(
    {
        "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:userid",
        "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:principalorgpaths",
    }
)
#: Operators whose values are patterns, not fixed values (a wildcard restricts nothing).
_PATTERN_OPERATORS = ("like",)
_ACCOUNT = re.compile(r"(?:^|:)(\d{12})(?::|$)")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_of(params: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The policy document of PutBucketPolicy's ``requestParameters`` (object or JSON text)."""
    policy = params.get("bucketPolicy", params.get("policy"))
    if isinstance(policy, list):
        policy = next((p for p in policy if p), None)
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return None
    return policy if isinstance(policy, Mapping) else None


def _statements(policy: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for statement in _listed(policy.get("Statement")):
        if isinstance(statement, Mapping) and str(statement.get("Effect", "")).lower() == "allow":
            yield statement


def _principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return [str(p) for p in _listed(principal.get("AWS", [])) if p is not None]
    return []


def _fixed(values: Any) -> bool:
    return all(isinstance(v, str) and "*" not in v and "?" not in v for v in _listed(values))


def _restricted(statement: Mapping[str, Any]) -> bool:
    """True when a condition holds the statement to fixed callers (see the module)."""
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, Mapping) or str(operator).lower().startswith("stringnot") or "ifexists" in str(operator).lower():
            continue
        for key, values in tests.items():
            key = str(key).lower()
            if key not in RESTRICTING_KEYS:
                continue
            if key == "aws:sourceip":
                if _narrow_networks(values):
                    return True
                continue
            if not any(p in str(operator).lower() for p in _PATTERN_OPERATORS) and _fixed(values):
                return True
    return False


def _narrow_networks(values: Any) -> bool:
    """Every value is a CIDR narrower than /8 (IPv4) or /32 (IPv6): ``0.0.0.0/0`` is everyone."""
    try:
        networks = [ipaddress.ip_network(str(v), strict=False) for v in _listed(values)]
    except ValueError:
        return False
    return bool(networks) and all(n.prefixlen >= (8 if n.version == 4 else 32) for n in networks)


def grants(params: Mapping[str, Any], own_accounts: Collection[str]) -> list[str]:
    """What the policy opens: ``policy grants Principal "*"``, ``policy grants account N``."""
    policy = policy_of(params)
    if policy is None:
        return []
    found: list[str] = []
    for statement in _statements(policy):
        principals = _principals(statement)
        if "*" in principals and not _restricted(statement):
            found.append('policy grants Principal "*"')
        for principal in principals:
            match = _ACCOUNT.search(principal)
            if match and match.group(1) not in own_accounts:
                found.append(f"policy grants account {match.group(1)}")
    return list(dict.fromkeys(found))


def made_public(rows: Any, values: Mapping[str, Any], config: Any) -> Any:
    """bucket_made_public's analysis: each call's changes (policies read here), then one
    finding row per (bucket, source, principal). On a bucket public by design (profile
    ``public_site``) only a grant to another account is reported."""
    from s3forensics.detections.base import calls_by_actor, request_parameters

    public = set(values.get("public_buckets") or config.public_buckets())
    own = {*config.own_accounts}
    kept = []
    for row in rows.to_dict("records"):
        found = [row["change"]] if isinstance(row.get("change"), str) else []
        if row.get("event_name") == "PutBucketPolicy":
            mine = own | ({str(row["recipient_account_id"])} if row.get("recipient_account_id") else set())
            found += grants(request_parameters(row) or {}, mine)
        if row.get("bucket") in public:
            found = [f for f in found if f.startswith("policy grants account")]
        if found:
            kept.append({**row, "changes": "; ".join(found)})
    return calls_by_actor(kept)
