"""Setup checks: can this account detect and investigate an S3 incident?

``CHECKS`` is the explicit registry; ``run_checks`` runs them and returns one
:class:`CheckResult` per check and resource. Nothing here touches AWS at import time.

Example:
    >>> from s3forensics.checks import run_checks, results_frame
    >>> results = run_checks(buckets=["s3f-demo-site"])      # doctest: +SKIP
    >>> results_frame(results)                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from s3forensics.checks import cloudtrail, cloudwatch, s3, services
from s3forensics.checks.base import Check, CheckResult, CheckUnavailable, Context, Status, Verdict, run
from s3forensics.config import validate_bucket_name
from s3forensics.errors import ConfigError

log = logging.getLogger(__name__)

#: Every setup check, in report order.
CHECKS: tuple[Check, ...] = (*s3.CHECKS, *cloudtrail.CHECKS, *cloudwatch.CHECKS, *services.CHECKS)
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
_BY_ID = {c.id: c for c in CHECKS}
assert len(_BY_ID) == len(CHECKS), "duplicate check id"


def get_check(check_id: str) -> Check:
    """The check with this id.

    Raises:
        ConfigError: no such check (the message lists the known ids).
    """
    try:
        return _BY_ID[check_id]
    except KeyError:
        raise ConfigError(f"unknown check id {check_id!r}; known: {', '.join(CHECK_IDS)}") from None


def list_buckets(ctx: Context) -> list[str]:
    """Names of every bucket the credentials can list (``s3:ListAllMyBuckets``)."""
    return sorted(b["Name"] for b in ctx.paginate("s3", "list_buckets", "Buckets"))


def run_checks(
    session: Any | None = None,
    buckets: Iterable[str] | None = None,
    ids: Iterable[str] | None = None,
    *,
    region: str | None = None,
    max_attempts: int = 8,
    context: Context | None = None,
) -> list[CheckResult]:
    """Run the setup checks and return one result per check and resource.

    Args:
        session: a boto3 Session; default: the standard AWS chain.
        buckets: buckets to check; default: every bucket in the account (ListBuckets).
        ids: check ids to run; default: all of :data:`CHECKS`.
        region: region for regional services (CloudTrail, CloudWatch, Athena, GuardDuty).
        max_attempts: botocore attempts per call (throttling is retried with backoff).
        context: an existing :class:`Context` (tests use it to see the calls made).

    Returns:
        Results in registry order, then bucket order. Access denied, missing APIs,
        unknown buckets or throttling give UNKNOWN results naming the reason; one
        failing check never stops the others.

    Raises:
        ConfigError: an unknown check id or an invalid bucket name.
    """
    selected: Sequence[Check] = CHECKS if ids is None else [get_check(i) for i in dict.fromkeys(ids)]
    bucket_list = None if buckets is None else [validate_bucket_name(b) for b in dict.fromkeys(buckets)]
    ctx = context or Context(session, region=region, max_attempts=max_attempts)
    bucket_error = None
    if bucket_list is None and any(c.scope == "bucket" for c in selected):
        try:
            bucket_list = list_buckets(ctx)
        except CheckUnavailable as exc:
            bucket_error = f"the bucket list could not be read: {exc}"
        except Exception as exc:  # noqa: BLE001
            from s3forensics.checks.base import describe_exception

            bucket_error = f"the bucket list could not be read: {describe_exception(exc)}"
    return run(selected, ctx, bucket_list, bucket_error=bucket_error)


def results_json(results: Iterable[CheckResult]) -> list[dict[str, str]]:
    """The stable JSON shape: ``[{check_id, resource, status, severity, message, remediation}]``."""
    return [r.as_dict() for r in results]


def results_frame(results: Iterable[CheckResult]) -> Any:
    """Results as a pandas DataFrame (one row per check and resource, plus ``title``)."""
    import pandas as pd

    columns = ["check_id", "resource", "status", "severity", "message", "remediation", "title"]
    rows = [{**r.as_dict(), "title": r.title} for r in results]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "CHECKS",
    "CHECK_IDS",
    "Check",
    "CheckResult",
    "Context",
    "Status",
    "Verdict",
    "get_check",
    "list_buckets",
    "results_frame",
    "results_json",
    "run_checks",
]
