"""Detection configuration: bucket profiles and allowlists that change what is anomalous.

A bucket's *profile* says what normal looks like:

- ``public_site``: served to anonymous browsers by design (anonymous reads, plain HTTP on
  the website endpoint and new IPs are normal; egress thresholds are higher).
- ``private_data``: everyone must authenticate; an anonymous success, a new reader or
  plain HTTP is suspicious.

Allowlists (principals, CIDRs, user agents) exist globally and per bucket. How they are
applied, so that the same query runs on Athena and DuckDB:

- Global principals and user agents without wildcards are passed to the queries as
  ``array(varchar)`` parameters and removed before aggregation (``contains``).
- CIDRs, wildcard patterns (``fnmatch``: ``arn:aws:sts::111122223333:assumed-role/deploy/*``)
  and per-bucket entries are applied in Python to the grouped findings, which are few.
  DuckDB has no CIDR type without its ``inet`` extension, and Trino's ``contains(cidr,
  ip)`` needs ``IPADDRESS``; matching on the grouped rows works the same on both.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from s3forensics.errors import ConfigError
from s3forensics.vocabulary import BucketProfile


def _networks(cidrs: Iterable[str], where: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for cidr in cidrs:
        try:
            out.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError as exc:
            raise ConfigError(f"{where}: {cidr!r} is not an IP network (CIDR): {exc}") from exc
    return tuple(out)


@dataclass(frozen=True)
class Allowlist:
    """Sources never reported.

    Attributes:
        principals: ARNs or ``fnmatch`` patterns of requesters / CloudTrail identities.
        cidrs: IPv4/IPv6 networks (``192.0.2.0/24``) or single addresses.
        user_agents: exact user agents or ``fnmatch`` patterns.
    """

    principals: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("principals", "cidrs", "user_agents"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"allowlist {name} must be a list of strings, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        _networks(self.cidrs, "allowlist cidrs")

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The CIDRs as network objects."""
        return _networks(self.cidrs, "allowlist cidrs")


@dataclass(frozen=True)
class BucketConfig:
    """How one bucket is judged.

    Attributes:
        profile: ``public_site`` or ``private_data``.
        allow: sources never reported on this bucket.
    """

    profile: str = "private_data"
    allow: Allowlist = field(default_factory=Allowlist)

    def __post_init__(self) -> None:
        object.__setattr__(self, "profile", BucketProfile.parse(self.profile))


@dataclass(frozen=True)
class DetectionConfig:
    """Bucket profiles, allowlists and parameter overrides for a detection run.

    Attributes:
        buckets: bucket name -> BucketConfig; buckets not listed use ``default_profile``.
        default_profile: profile of unlisted buckets (``private_data``: the cautious choice).
        allow: sources never reported on any bucket.
        own_accounts: account ids that are ours (cross-account detections).
        params: detection id -> parameter overrides.
    """

    buckets: Mapping[str, BucketConfig] = field(default_factory=dict)
    default_profile: str = "private_data"
    allow: Allowlist = field(default_factory=Allowlist)
    own_accounts: tuple[str, ...] = ()
    params: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_profile", BucketProfile.parse(self.default_profile, "default profile"))
        for name, bucket in self.buckets.items():
            if not isinstance(bucket, BucketConfig):
                raise ConfigError(f"bucket {name}: expected a BucketConfig, got {type(bucket).__name__}")

    def profile(self, bucket: str | None) -> str:
        """The profile of ``bucket`` (the default for unlisted or unknown buckets)."""
        if bucket and bucket in self.buckets:
            return self.buckets[bucket].profile
        return self.default_profile

    def public_buckets(self) -> tuple[str, ...]:
        """Buckets whose profile is ``public_site``, sorted."""
        return tuple(sorted(name for name, b in self.buckets.items() if b.profile == "public_site"))

    def query_params(self) -> dict[str, tuple[str, ...]]:
        """The array parameters queries may declare, from this configuration.

        Only exact (wildcard-free) global entries go into SQL; everything else is applied
        in Python by :meth:`allowed`.
        """

        def exact(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(v for v in values if not any(ch in v for ch in "*?["))

        return {
            "public_buckets": self.public_buckets(),
            "allow_principals": exact(self.allow.principals),
            "allow_user_agents": exact(self.allow.user_agents),
            "own_accounts": tuple(self.own_accounts),
        }

    def allowed(self, bucket: str | None, source_ip: str | None, principal: str | None, user_agent: str | None = None) -> bool:
        """True when a grouped finding comes from an allowlisted source for ``bucket``."""
        lists = [self.allow]
        if bucket and bucket in self.buckets:
            lists.append(self.buckets[bucket].allow)
        address = None
        if source_ip:
            try:
                address = ipaddress.ip_address(source_ip)
            except ValueError:
                address = None
        for allow in lists:
            if principal and any(fnmatch.fnmatchcase(principal, p) for p in allow.principals):
                return True
            if user_agent and any(fnmatch.fnmatchcase(user_agent, p) for p in allow.user_agents):
                return True
            if address is not None and any(address.version == net.version and address in net for net in allow.networks()):
                return True
        return False
