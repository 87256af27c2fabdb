"""Evidence coverage per bucket: which sources exist, and which investigation questions
this account can answer today. Computed from check results only (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from s3forensics.checks.base import CheckResult, Status

#: Evidence source -> the check whose PASS means the source exists for a bucket.
SOURCES: dict[str, str] = {
    "access_logs": "s3_access_logging_enabled",
    "cloudtrail_management": "cloudtrail_management_events_bucket",
    "cloudtrail_data_read": "cloudtrail_s3_data_events_read",
    "cloudtrail_data_write": "cloudtrail_s3_data_events_write",
    "request_metrics": "cloudwatch_s3_request_metrics_enabled",
    "get_requests_alarm": "cloudwatch_alarm_s3_get_requests",
    "alarm_notifies": "cloudwatch_alarm_actions_notify",
    "policy_change_alarm": "cloudwatch_metric_filter_bucket_policy_changes",
}


@dataclass(frozen=True)
class Question:
    """An investigation question and the sources that answer it.

    ``full``: any one of these sources answers it; ``partial``: these give a partial or
    aggregate answer; ``all_of``: every one of these is needed (for alarm chains).
    """

    text: str
    full: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()


QUESTIONS: tuple[Question, ...] = (
    Question("Who read this object?", full=("cloudtrail_data_read", "access_logs")),
    Question("From which IP?", full=("access_logs", "cloudtrail_data_read", "cloudtrail_data_write")),
    Question("How many bytes left?", full=("access_logs", "cloudtrail_data_read"), partial=("request_metrics",)),
    Question("Who changed or deleted objects?", full=("cloudtrail_data_write", "access_logs")),
    Question("Who changed the policy?", full=("cloudtrail_management",)),
    Question("Would a GET flood raise an alarm?", all_of=("request_metrics", "get_requests_alarm", "alarm_notifies")),
    Question("Would a policy change raise an alarm?", all_of=("policy_change_alarm",)),
)

YES, PARTIAL, NO, UNKNOWN = "yes", "partial", "no", "unknown"


def source_status(results: Iterable[CheckResult]) -> dict[str, dict[str, str]]:
    """``{bucket: {source: "PASS"|"FAIL"|"UNKNOWN"|"-"}}``; account-wide checks apply to every bucket."""
    results = list(results)
    bucket_scoped = _bucket_scoped()
    buckets = sorted({r.resource for r in results if r.check_id in bucket_scoped})
    account: dict[str, list[Status]] = {}
    per_bucket: dict[tuple[str, str], Status] = {}
    for r in results:
        if r.check_id in bucket_scoped:
            per_bucket[(r.resource, r.check_id)] = r.status
        else:
            account.setdefault(r.check_id, []).append(r.status)
    out: dict[str, dict[str, str]] = {}
    for bucket in buckets:
        row = {}
        for source, check_id in SOURCES.items():
            if check_id in bucket_scoped:
                status = per_bucket.get((bucket, check_id))
            else:
                statuses = account.get(check_id, [])
                status = Status.PASS if Status.PASS in statuses else (Status.UNKNOWN if Status.UNKNOWN in statuses else (Status.FAIL if statuses else None))
            row[source] = status.value if status is not None else "-"
        out[bucket] = row
    return out


def answer(question: Question, sources: Mapping[str, str]) -> str:
    """``yes``/``partial``/``no``/``unknown`` for one bucket's source statuses."""
    if question.all_of:
        statuses = [sources.get(s, "-") for s in question.all_of]
        if all(s == "PASS" for s in statuses):
            return YES
        if any(s == "FAIL" for s in statuses):
            return NO
        return UNKNOWN
    if any(sources.get(s) == "PASS" for s in question.full):
        return YES
    if any(sources.get(s) == "PASS" for s in question.partial):
        return PARTIAL
    if any(sources.get(s) in ("UNKNOWN", "-") for s in (*question.full, *question.partial)):
        return UNKNOWN
    return NO


def coverage(results: Iterable[CheckResult]) -> dict[str, dict[str, str]]:
    """``{bucket: {question: answer}}``."""
    return {bucket: {q.text: answer(q, row) for q in QUESTIONS} for bucket, row in source_status(results).items()}


def sources_frame(results: Iterable[CheckResult]) -> Any:
    """Buckets x evidence sources (check status), as a pandas DataFrame."""
    import pandas as pd

    table = source_status(results)
    return pd.DataFrame.from_dict(table, orient="index", columns=list(SOURCES)).rename_axis("bucket")


def coverage_frame(results: Iterable[CheckResult]) -> Any:
    """Buckets x investigation questions (yes/partial/no/unknown), as a pandas DataFrame."""
    import pandas as pd

    table = coverage(results)
    return pd.DataFrame.from_dict(table, orient="index", columns=[q.text for q in QUESTIONS]).rename_axis("bucket")


def _bucket_scoped() -> frozenset[str]:
    from s3forensics.checks import CHECKS

    return frozenset(c.id for c in CHECKS if c.scope == "bucket")
