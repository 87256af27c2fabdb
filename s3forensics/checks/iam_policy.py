"""The least-privilege IAM policy the checks (and, separately, the fixes) need.

Generated from each check's declared ``calls`` so it cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable

from s3forensics.checks.base import Check, iam_action

#: Write actions the remediation plans may call (only needed with ``--fix ... --apply``).
FIX_CALLS: tuple[tuple[str, str], ...] = (
    ("s3", "PutBucketLogging"),
    ("s3", "PutPublicAccessBlock"),
    ("s3", "DeletePublicAccessBlock"),
    ("s3", "PutBucketVersioning"),
    ("s3", "PutBucketMetricsConfiguration"),
    ("s3", "DeleteBucketMetricsConfiguration"),
    ("s3", "GetBucketMetricsConfiguration"),
    ("s3control", "PutPublicAccessBlock"),
    ("s3control", "DeletePublicAccessBlock"),
    ("cloudtrail", "PutEventSelectors"),
    ("cloudtrail", "UpdateTrail"),
    ("cloudtrail", "StartLogging"),
    ("cloudtrail", "StopLogging"),
    ("cloudwatch", "PutMetricAlarm"),
    ("cloudwatch", "DeleteAlarms"),
    ("sns", "CreateTopic"),
    ("sns", "GetTopicAttributes"),
    ("sns", "DeleteTopic"),
    ("guardduty", "CreateDetector"),
    ("guardduty", "UpdateDetector"),
    ("guardduty", "DeleteDetector"),
)


def required_actions(checks: Iterable[Check] | None = None, include_fixes: bool = False) -> list[str]:
    """Sorted IAM actions the given checks (default: all) need, plus ListAllMyBuckets."""
    if checks is None:
        from s3forensics.checks import CHECKS

        checks = CHECKS
    actions = {"s3:ListAllMyBuckets", "sts:GetCallerIdentity"}
    for check in checks:
        actions.update(check.permissions)
    if include_fixes:
        actions.update(iam_action(service, op) for service, op in FIX_CALLS)
    return sorted(actions)


def policy_document(checks: Iterable[Check] | None = None, include_fixes: bool = False) -> dict[str, object]:
    """An IAM policy document granting exactly :func:`required_actions`.

    The actions are read-only ``Get``/``List``/``Describe`` calls; they take no resource
    narrower than ``*`` in a useful way across buckets, trails and alarms.
    """
    actions = required_actions(checks)
    statements: list[dict[str, object]] = [
        {"Sid": "S3ForensicsSetupChecksReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}
    ]
    if include_fixes:
        fixes = sorted({iam_action(s, o) for s, o in FIX_CALLS} - set(actions))
        statements.append({"Sid": "S3ForensicsSetupFixes", "Effect": "Allow", "Action": fixes, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
