"""Bucket profiles inferred from the logs themselves, each with the reason it was chosen.

A profile says what normal looks like on a bucket (:class:`~s3forensics.vocabulary.BucketProfile`).
Asking the user for it made the default wrong on the very buckets this kit is for: a public
static site judged as private data raises an alarm for every visitor. So each bucket's
profile is read from evidence, strongest first; a profile given by the user (``--profile``,
``BucketConfig``) always wins:

1. **Website endpoint**: requests through the S3 website endpoint (``WEBSITE.*``
   operations in the access logs), or a website configuration put (``PutBucketWebsite`` in
   CloudTrail): ``public_site``.
2. **CloudFront origin**: most requests come from CloudFront (origin access control signs
   as ``svc:cloudfront.amazonaws.com``; an origin access identity is a CloudFront user), or
   a bucket policy naming CloudFront was put: ``cloudfront``. Anonymous requests straight to
   such a bucket stay suspicious.
3. **Anonymous readers**: successful anonymous reads from many addresses on several days
   and a large share of the successes (access logs: requester ``-``; CloudTrail data events:
   ``userIdentity.accountId`` ``ANONYMOUS_PRINCIPAL``): ``public_site``.
4. Otherwise the configured default (``private_data``, the cautious choice).

Where the account can be read (the Lambda), :func:`account_profile` asks S3 itself first:
a website configuration (``GetBucketWebsite``) or a policy S3 judges public
(``GetBucketPolicyStatus``) make a ``public_site``.

The evidence spans :data:`EVIDENCE_DAYS` before the window as well as the window, so that a
bucket's usual traffic, not one day's, decides. A bucket made public during an incident can
pass for a public site on rule 3; the configuration detections (``bucket_made_public``,
Block Public Access removed) report that change itself, and every finding names the profile
and its reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from s3forensics.detections.config import BucketConfig, DetectionConfig
from s3forensics.errors import S3ForensicsError

log = logging.getLogger(__name__)

#: Days of logs before the window read as evidence of a bucket's usual traffic.
EVIDENCE_DAYS = 14
#: Rule 2: fewest requests from CloudFront, and their least share of all requests.
MIN_CLOUDFRONT_REQUESTS = 10
MIN_CLOUDFRONT_SHARE = 0.5
#: Rule 3: fewest anonymous reader addresses, days with anonymous reads, and least share of
#: successful requests that were anonymous (access logs).
MIN_ANONYMOUS_ADDRESSES = 5
MIN_ANONYMOUS_DAYS = 2
MIN_ANONYMOUS_SHARE = 0.2


@dataclass(frozen=True)
class InferredProfile:
    """A bucket's profile and why.

    Attributes:
        bucket: the bucket.
        profile: ``public_site``, ``private_data`` or ``cloudfront``.
        reason: one sentence naming the evidence.
        source: ``given`` (configured), ``inferred`` (from evidence) or ``default``.
    """

    bucket: str
    profile: str
    reason: str
    source: str

    def describe(self) -> str:
        """``bucket: profile (source: reason)``."""
        return f"{self.bucket}: {self.profile} ({self.source}: {self.reason})"


def _int(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name)
    return 0 if value is None or pd.isna(value) else int(value)


def _evidence(engine: Any, query: str, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, Any]]:
    try:
        frame = engine.run(query, start=start, end=end)
    except S3ForensicsError as exc:
        log.warning("profile evidence %s not read: %s", query, exc)
        return {}
    return {str(row["bucket"]): row for row in frame.to_dict("records") if row.get("bucket")}


def judge(bucket: str, access: Mapping[str, Any], trail: Mapping[str, Any], default: str) -> InferredProfile:
    """The profile the evidence of one bucket supports (rules 1 to 4 of the module)."""
    website = _int(access, "website_requests")
    if website:
        return InferredProfile(bucket, "public_site", f"{website} request(s) through the S3 website endpoint", "inferred")
    if _int(trail, "website_puts"):
        return InferredProfile(bucket, "public_site", "a website configuration was put (PutBucketWebsite in CloudTrail)", "inferred")
    requests, cloudfront = _int(access, "requests"), _int(access, "cloudfront_requests")
    if cloudfront >= MIN_CLOUDFRONT_REQUESTS and cloudfront >= MIN_CLOUDFRONT_SHARE * requests:
        return InferredProfile(bucket, "cloudfront", f"{cloudfront} of {requests} requests came from CloudFront", "inferred")
    if _int(trail, "cloudfront_policies"):
        return InferredProfile(bucket, "cloudfront", "a bucket policy naming CloudFront was put (PutBucketPolicy in CloudTrail)", "inferred")
    successes, anonymous = _int(access, "successes"), _int(access, "anonymous_successes")
    addresses, days = _int(access, "anonymous_addresses"), _int(access, "anonymous_days")
    if addresses >= MIN_ANONYMOUS_ADDRESSES and days >= MIN_ANONYMOUS_DAYS and anonymous >= MIN_ANONYMOUS_SHARE * max(successes, 1):
        share = anonymous / max(successes, 1)
        return InferredProfile(
            bucket, "public_site", f"{share:.0%} of successful requests were anonymous, from {addresses} addresses on {days} days", "inferred"
        )
    reads, addresses, days = _int(trail, "anonymous_reads"), _int(trail, "anonymous_addresses"), _int(trail, "anonymous_days")
    if addresses >= MIN_ANONYMOUS_ADDRESSES and days >= MIN_ANONYMOUS_DAYS:
        return InferredProfile(
            bucket, "public_site", f"{reads} anonymous object reads in CloudTrail from {addresses} addresses on {days} days", "inferred"
        )
    return InferredProfile(bucket, default, "no website endpoint, CloudFront or widespread anonymous reading in the logs", "default")


def infer_profiles(
    engine: Any,
    start: dt.datetime,
    end: dt.datetime,
    config: DetectionConfig,
    sources: Collection[str] | None = None,
) -> dict[str, InferredProfile]:
    """Every bucket in the logs of ``[start - EVIDENCE_DAYS, end)`` with its profile.

    Buckets configured in ``config`` keep their profile (source ``given``).
    """
    since = start - dt.timedelta(days=EVIDENCE_DAYS)
    access = _evidence(engine, "s3_access__bucket_profile_evidence", since, end) if sources is None or "s3_access" in sources else {}
    trail = _evidence(engine, "cloudtrail__bucket_profile_evidence", since, end) if sources is None or "cloudtrail" in sources else {}
    out: dict[str, InferredProfile] = {}
    for bucket in sorted(set(access) | set(trail) | set(config.buckets)):
        if bucket in config.buckets:
            out[bucket] = InferredProfile(bucket, config.buckets[bucket].profile, "given in the configuration", "given")
        else:
            out[bucket] = judge(bucket, access.get(bucket, {}), trail.get(bucket, {}), config.default_profile)
    return out


def with_profiles(config: DetectionConfig, profiles: Mapping[str, InferredProfile]) -> DetectionConfig:
    """``config`` with each inferred (not given) profile added as that bucket's configuration."""
    import dataclasses

    buckets = dict(config.buckets)
    for bucket, found in profiles.items():
        if bucket not in buckets and found.source == "inferred":
            buckets[bucket] = BucketConfig(profile=found.profile)
    return dataclasses.replace(config, buckets=buckets)


def account_profile(bucket: str, session: Any) -> InferredProfile | None:
    """The profile S3's own configuration proves, or None when it proves nothing (or cannot
    be read: the logs then decide).

    A website configuration (``GetBucketWebsite``) or a bucket policy S3 judges public
    (``GetBucketPolicyStatus``: ``IsPublic``) make a ``public_site``.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from s3forensics import aws

    s3 = aws.client("s3", session)
    try:
        s3.get_bucket_website(Bucket=bucket)
        return InferredProfile(bucket, "public_site", "it has a website configuration (GetBucketWebsite)", "inferred")
    except (ClientError, BotoCoreError) as exc:
        log.debug("GetBucketWebsite %s: %s", bucket, exc)
    try:
        if s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"].get("IsPublic"):
            return InferredProfile(bucket, "public_site", "S3 judges its bucket policy public (GetBucketPolicyStatus)", "inferred")
    except (ClientError, BotoCoreError, KeyError) as exc:
        log.debug("GetBucketPolicyStatus %s: %s", bucket, exc)
    return None
