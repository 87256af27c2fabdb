"""S3 bucket and account checks: access logging, Block Public Access, policy, ACL, versioning."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from s3forensics.aws import error_code
from s3forensics.checks.base import Check, CheckUnavailable, Context, Status, Verdict

PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone (AllUsers)",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account (AuthenticatedUsers)",
}
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide"


# -- shared collectors (cached per context) ----------------------------------------

def bucket_logging(ctx: Context, bucket: str) -> dict[str, Any] | None:
    """``LoggingEnabled`` of a bucket, or None when access logging is off."""
    return ctx.cached(
        ("logging", bucket), lambda: ctx.call("s3", "get_bucket_logging", Bucket=bucket).get("LoggingEnabled")
    )


def bucket_pab(ctx: Context, bucket: str) -> dict[str, bool] | None:
    """A bucket's Block Public Access flags, or None when it has no configuration."""

    def fetch() -> dict[str, bool] | None:
        try:
            return ctx.call("s3", "get_public_access_block", Bucket=bucket)["PublicAccessBlockConfiguration"]
        except Exception as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                return None
            raise

    return ctx.cached(("pab", bucket), fetch)


def account_pab(ctx: Context) -> dict[str, bool] | None:
    """The account's Block Public Access flags (S3 Control), or None when not set."""

    def fetch() -> dict[str, bool] | None:
        try:
            return ctx.call("s3control", "get_public_access_block", AccountId=ctx.account_id())[
                "PublicAccessBlockConfiguration"
            ]
        except Exception as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                return None
            raise

    return ctx.cached("account_pab", fetch)


def _optional_account_pab(ctx: Context) -> dict[str, bool] | None:
    """The account flags when readable; None (unknown) otherwise, for checks that only use them as a bonus."""
    try:
        return account_pab(ctx)
    except CheckUnavailable:
        return None


def policy_is_public(ctx: Context, bucket: str) -> bool | None:
    """S3's own verdict (``GetBucketPolicyStatus``); None when the bucket has no policy."""

    def fetch() -> bool | None:
        try:
            return bool(ctx.call("s3", "get_bucket_policy_status", Bucket=bucket)["PolicyStatus"]["IsPublic"])
        except Exception as exc:
            if error_code(exc) == "NoSuchBucketPolicy":
                return None
            raise

    return ctx.cached(("policy_status", bucket), fetch)


def public_grants(ctx: Context, bucket: str) -> list[dict[str, str]]:
    """ACL grants to AllUsers / AuthenticatedUsers (``GetBucketAcl``)."""
    grants = ctx.cached(("acl", bucket), lambda: ctx.call("s3", "get_bucket_acl", Bucket=bucket).get("Grants", []))
    return [
        {"group": PUBLIC_GROUPS[g["Grantee"]["URI"]], "permission": g.get("Permission", "")}
        for g in grants
        if g.get("Grantee", {}).get("URI") in PUBLIC_GROUPS
    ]


def _effective(bucket_flags: Mapping[str, bool] | None, account_flags: Mapping[str, bool] | None, flag: str) -> bool:
    return bool((bucket_flags or {}).get(flag)) or bool((account_flags or {}).get(flag))


def _policy_public_statements(policy_text: str | None) -> list[str]:
    """Sids (or indexes) of Allow statements with a wildcard principal and no condition."""
    if not policy_text:
        return []
    try:
        statements = json.loads(policy_text).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for index, st in enumerate(statements):
        principal = st.get("Principal")
        wildcard = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
        if st.get("Effect") == "Allow" and wildcard and not st.get("Condition"):
            found.append(str(st.get("Sid") or f"#{index}"))
    return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# -- s3_access_logging_enabled -----------------------------------------------------

def collect_logging(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    enabled = bucket_logging(ctx, bucket)
    target_exists: bool | None = None
    if enabled and enabled.get("TargetBucket"):
        try:
            ctx.call("s3", "head_bucket", Bucket=enabled["TargetBucket"])
            target_exists = True
        except CheckUnavailable:
            target_exists = None
        except Exception as exc:
            if error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
                target_exists = False
            elif error_code(exc) in {"403"}:
                target_exists = None
            else:
                raise
    return {"bucket": bucket, "logging": enabled, "target_exists": target_exists}


def evaluate_logging(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, enabled = facts["bucket"], facts.get("logging")
    if not enabled or not enabled.get("TargetBucket"):
        return [Verdict(Status.FAIL, f"Server access logging is off for bucket {bucket}: no record of who requested what.")]
    target = enabled["TargetBucket"]
    where = f"s3://{target}/{enabled.get('TargetPrefix', '')}"
    if facts.get("target_exists") is False:
        return [Verdict(Status.FAIL, f"Bucket {bucket} sends access logs to {where}, but bucket {target} does not exist, so no log is written.")]
    return [Verdict(Status.PASS, f"Bucket {bucket} writes server access logs to {where}.")]


# -- s3_access_logging_target_protected --------------------------------------------

def collect_log_target(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    enabled = bucket_logging(ctx, bucket)
    facts: dict[str, Any] = {"bucket": bucket, "target": (enabled or {}).get("TargetBucket")}
    target = facts["target"]
    if target and target != bucket:
        facts["target_policy_public"] = policy_is_public(ctx, target)
        facts["target_public_grants"] = public_grants(ctx, target)
        facts["target_pab"] = bucket_pab(ctx, target)
        facts["account_pab"] = _optional_account_pab(ctx)
    return facts


def evaluate_log_target(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, target = facts["bucket"], facts.get("target")
    if not target:
        return [Verdict(Status.UNKNOWN, f"Bucket {bucket} has no access logging, so there is no log bucket to check (see s3_access_logging_enabled).")]
    if target == bucket:
        return [Verdict(Status.FAIL, f"Bucket {bucket} writes its access logs into itself: every log delivery is logged again, and whoever controls the bucket controls its evidence.")]
    problems = []
    pab, account = facts.get("target_pab"), facts.get("account_pab")
    if facts.get("target_policy_public") and not _effective(pab, account, "RestrictPublicBuckets"):
        problems.append("its bucket policy is public")
    grants = facts.get("target_public_grants") or []
    if grants and not _effective(pab, account, "IgnorePublicAcls"):
        problems.append("its ACL grants " + ", ".join(f"{g['permission']} to {g['group']}" for g in grants))
    if problems:
        return [Verdict(Status.FAIL, f"Log bucket {target} of bucket {bucket} is public: " + "; ".join(problems) + ".")]
    return [Verdict(Status.PASS, f"Bucket {bucket} logs to {target}, a separate bucket that is not public.")]


# -- s3_block_public_access_account / _bucket ----------------------------------------

def collect_account_pab(ctx: Context, bucket: str | None) -> dict[str, Any]:
    return {"account": ctx.account_id(), "flags": account_pab(ctx)}


def _evaluate_flags(what: str, flags: Mapping[str, bool] | None) -> Verdict:
    if flags is None:
        return Verdict(Status.FAIL, f"Block Public Access is not configured for {what}.")
    off = [flag for flag in PAB_FLAGS if not flags.get(flag)]
    if off:
        return Verdict(Status.FAIL, f"Block Public Access for {what} leaves {', '.join(off)} off.")
    return Verdict(Status.PASS, f"All four Block Public Access settings are on for {what}.")


def evaluate_account_pab(facts: Mapping[str, Any]) -> list[Verdict]:
    return [_evaluate_flags(f"account {facts['account']}", facts.get("flags"))]


def collect_bucket_pab(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    return {"bucket": bucket, "flags": bucket_pab(ctx, bucket), "account_flags": _optional_account_pab(ctx)}


def evaluate_bucket_pab(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, flags, account = facts["bucket"], facts.get("flags"), facts.get("account_flags")
    if account and all(account.get(flag) for flag in PAB_FLAGS):
        return [Verdict(Status.PASS, f"Bucket {bucket} is covered by the account's Block Public Access (all four settings on).")]
    return [_evaluate_flags(f"bucket {bucket}", flags)]


# -- s3_bucket_policy_not_public --------------------------------------------------------

def collect_policy(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    is_public = policy_is_public(ctx, bucket)
    policy = None
    if is_public:
        policy = ctx.call("s3", "get_bucket_policy", Bucket=bucket).get("Policy")
    return {"bucket": bucket, "is_public": is_public, "policy": policy, "pab": bucket_pab(ctx, bucket), "account_pab": _optional_account_pab(ctx)}


def evaluate_policy(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, is_public = facts["bucket"], facts.get("is_public")
    if is_public is None:
        return [Verdict(Status.PASS, f"Bucket {bucket} has no bucket policy.")]
    if not is_public:
        return [Verdict(Status.PASS, f"The bucket policy of {bucket} grants no public access (S3 policy status IsPublic=false).")]
    statements = _policy_public_statements(facts.get("policy"))
    which = f" (statement {', '.join(statements)})" if statements else ""
    if _effective(facts.get("pab"), facts.get("account_pab"), "RestrictPublicBuckets"):
        return [Verdict(Status.PASS, f"The bucket policy of {bucket} is public{which}, but RestrictPublicBuckets blocks it.")]
    return [Verdict(Status.FAIL, f"The bucket policy of {bucket} grants public access{which}.")]


# -- s3_bucket_acl_not_public -----------------------------------------------------------

def collect_acl(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    return {"bucket": bucket, "public_grants": public_grants(ctx, bucket), "pab": bucket_pab(ctx, bucket), "account_pab": _optional_account_pab(ctx)}


def evaluate_acl(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, grants = facts["bucket"], facts.get("public_grants") or []
    if not grants:
        return [Verdict(Status.PASS, f"The ACL of bucket {bucket} grants nothing to AllUsers or AuthenticatedUsers.")]
    listed = ", ".join(f"{g['permission']} to {g['group']}" for g in grants)
    if _effective(facts.get("pab"), facts.get("account_pab"), "IgnorePublicAcls"):
        return [Verdict(Status.PASS, f"The ACL of bucket {bucket} grants {listed}, but IgnorePublicAcls makes S3 ignore it.")]
    return [Verdict(Status.FAIL, f"The ACL of bucket {bucket} grants {listed}.")]


# -- s3_bucket_versioning_enabled -------------------------------------------------------

def collect_versioning(ctx: Context, bucket: str | None) -> dict[str, Any]:
    assert bucket is not None
    response = ctx.call("s3", "get_bucket_versioning", Bucket=bucket)
    return {"bucket": bucket, "status": response.get("Status"), "mfa_delete": response.get("MFADelete")}


def evaluate_versioning(facts: Mapping[str, Any]) -> list[Verdict]:
    bucket, status = facts["bucket"], facts.get("status")
    if status == "Enabled":
        return [Verdict(Status.PASS, f"Versioning is enabled on bucket {bucket}: overwritten and deleted objects can be recovered.")]
    if status == "Suspended":
        return [Verdict(Status.FAIL, f"Versioning on bucket {bucket} was enabled once but is now suspended: new overwrites and deletes are not kept.")]
    return [Verdict(Status.FAIL, f"Versioning has never been enabled on bucket {bucket}: an overwrite or delete destroys the object.")]


CHECKS: tuple[Check, ...] = (
    Check(
        id="s3_access_logging_enabled",
        title="Server access logging is enabled for the bucket.",
        severity="high",
        rationale="Server access logs are the only record of anonymous requests (the usual case for a static site) with source IP, key, status and bytes sent. They cannot be produced after the fact.",
        remediation="Enable server access logging to a separate log bucket (PutBucketLogging), with the date-partitioned key format.",
        references=(f"{DOC}/ServerLogs.html", f"{DOC}/enable-server-access-logging.html"),
        scope="bucket",
        calls=(("s3", "GetBucketLogging"), ("s3", "HeadBucket")),
        collect=collect_logging,
        evaluate=evaluate_logging,
    ),
    Check(
        id="s3_access_logging_target_protected",
        title="Access logs go to a separate bucket that is not public.",
        severity="high",
        rationale="Logs written into the logged bucket are logged again and share its fate; logs in a public bucket leak the requests of every visitor and can be read by an attacker.",
        remediation="Send access logs to a dedicated log bucket with all Block Public Access settings on and no public policy or ACL.",
        references=(f"{DOC}/enable-server-access-logging.html", f"{DOC}/access-control-block-public-access.html"),
        scope="bucket",
        calls=(("s3", "GetBucketLogging"), ("s3", "GetBucketPolicyStatus"), ("s3", "GetBucketAcl"), ("s3", "GetPublicAccessBlock"), ("s3control", "GetPublicAccessBlock"), ("sts", "GetCallerIdentity")),
        collect=collect_log_target,
        evaluate=evaluate_log_target,
    ),
    Check(
        id="s3_block_public_access_account",
        title="All four Block Public Access settings are on for the account.",
        severity="high",
        rationale="Account-level Block Public Access stops any bucket from being made public by a policy or ACL change, the usual first step of an exposure. Serve public sites through CloudFront with origin access control instead.",
        remediation="Turn on all four account-level Block Public Access settings (S3 Control PutPublicAccessBlock).",
        references=(f"{DOC}/configuring-block-public-access-account.html",),
        scope="account",
        calls=(("s3control", "GetPublicAccessBlock"), ("sts", "GetCallerIdentity")),
        collect=collect_account_pab,
        evaluate=evaluate_account_pab,
    ),
    Check(
        id="s3_block_public_access_bucket",
        title="All four Block Public Access settings are on for the bucket.",
        severity="medium",
        rationale="Bucket-level Block Public Access makes a public policy or ACL on this bucket ineffective, even when the account setting is off.",
        remediation="Turn on all four Block Public Access settings for the bucket (PutPublicAccessBlock).",
        references=(f"{DOC}/configuring-block-public-access-bucket.html",),
        scope="bucket",
        calls=(("s3", "GetPublicAccessBlock"), ("s3control", "GetPublicAccessBlock"), ("sts", "GetCallerIdentity")),
        collect=collect_bucket_pab,
        evaluate=evaluate_bucket_pab,
    ),
    Check(
        id="s3_bucket_policy_not_public",
        title="The bucket policy does not grant public access.",
        severity="critical",
        rationale="A policy with Principal \"*\" and no restricting condition lets anyone read (or write) objects; this is how most S3 data exposures happen.",
        remediation="Remove the public statements from the bucket policy, or turn on BlockPublicPolicy and RestrictPublicBuckets for the bucket.",
        references=(f"{DOC}/access-control-block-public-access.html#access-control-block-public-access-policy-status",),
        scope="bucket",
        calls=(("s3", "GetBucketPolicyStatus"), ("s3", "GetBucketPolicy"), ("s3", "GetPublicAccessBlock"), ("s3control", "GetPublicAccessBlock"), ("sts", "GetCallerIdentity")),
        collect=collect_policy,
        evaluate=evaluate_policy,
    ),
    Check(
        id="s3_bucket_acl_not_public",
        title="The bucket ACL grants nothing to AllUsers or AuthenticatedUsers.",
        severity="critical",
        rationale="A public ACL grant exposes the bucket listing or its objects to anyone, outside the bucket policy where reviewers usually look.",
        remediation="Turn on BlockPublicAcls and IgnorePublicAcls for the bucket, and set Object Ownership to BucketOwnerEnforced to disable ACLs.",
        references=(f"{DOC}/acl-overview.html", f"{DOC}/about-object-ownership.html"),
        scope="bucket",
        calls=(("s3", "GetBucketAcl"), ("s3", "GetPublicAccessBlock"), ("s3control", "GetPublicAccessBlock"), ("sts", "GetCallerIdentity")),
        collect=collect_acl,
        evaluate=evaluate_acl,
    ),
    Check(
        id="s3_bucket_versioning_enabled",
        title="Versioning is enabled on the bucket.",
        severity="medium",
        rationale="With versioning, a defaced page or a mass delete can be rolled back and the previous content compared; without it the evidence is gone.",
        remediation="Enable versioning (PutBucketVersioning Status=Enabled) and add a lifecycle rule expiring noncurrent versions.",
        references=(f"{DOC}/Versioning.html",),
        scope="bucket",
        calls=(("s3", "GetBucketVersioning"),),
        collect=collect_versioning,
        evaluate=evaluate_versioning,
    ),
)
