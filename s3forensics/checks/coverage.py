"""Evidence coverage per bucket: which sources exist, and which investigation questions
this account can answer today. Computed from check results (pure), and from the logs in
hand where the checks could not decide (no credentials, no permission): a bucket whose
access logs are in the window has access logs, whatever the account lets us read."""

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
#: A source the checks could not confirm but the logs in hand show: it answers like PASS.
SEEN = "SEEN IN LOGS"
YES_FROM_LOGS = "yes (logs)"


def seen_in_logs(bucket_sources: Any) -> dict[str, set[str]]:
    """``{bucket: {source, ...}}`` from the ``coverage__bucket_sources`` rows: access logs
    where a bucket has server access log rows, CloudTrail management, data-read and
    data-write events where it has those events."""
    seen: dict[str, set[str]] = {}
    if bucket_sources is None or len(bucket_sources) == 0:
        return seen
    for row in bucket_sources.to_dict("records"):
        found = seen.setdefault(str(row["bucket"]), set())
        if row["source"] == "s3_access" and row["row_count"]:
            found.add("access_logs")
        elif row["source"] == "cloudtrail":
            for source, column in (("cloudtrail_management", "management_events"), ("cloudtrail_data_read", "data_read_events"), ("cloudtrail_data_write", "data_write_events")):
                if row.get(column):
                    found.add(source)
    return seen


def with_logs(status: Mapping[str, Mapping[str, str]], seen: Mapping[str, set[str]]) -> dict[str, dict[str, str]]:
    """``status`` with each source the checks left undecided (``UNKNOWN`` or ``-``) but the
    logs show marked :data:`SEEN`; buckets only in the logs are added. A failing check
    stays failing: it says what the account does today."""
    out = {bucket: dict(row) for bucket, row in status.items()}
    for bucket, sources in seen.items():
        row = out.setdefault(bucket, dict.fromkeys(SOURCES, "-"))
        for source in sources:
            if row.get(source) in ("UNKNOWN", "-"):
                row[source] = SEEN
    return out


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
    if any(sources.get(s) == SEEN for s in question.full):
        return YES_FROM_LOGS
    if any(sources.get(s) == "PASS" for s in question.partial):
        return PARTIAL
    if any(sources.get(s) in ("UNKNOWN", "-") for s in (*question.full, *question.partial)):
        return UNKNOWN
    return NO


def coverage(results: Iterable[CheckResult], seen: Mapping[str, set[str]] | None = None) -> dict[str, dict[str, str]]:
    """``{bucket: {question: answer}}``; ``seen`` (:func:`seen_in_logs`) answers what the checks could not."""
    status = with_logs(source_status(results), seen or {})
    return {bucket: {q.text: answer(q, row) for q in QUESTIONS} for bucket, row in sorted(status.items())}


def sources_frame(results: Iterable[CheckResult], seen: Mapping[str, set[str]] | None = None) -> Any:
    """Buckets x evidence sources (check status, or ``SEEN IN LOGS``), as a pandas DataFrame."""
    import pandas as pd

    table = with_logs(source_status(results), seen or {})
    return pd.DataFrame.from_dict(table, orient="index", columns=list(SOURCES)).rename_axis("bucket")


def coverage_frame(results: Iterable[CheckResult], seen: Mapping[str, set[str]] | None = None) -> Any:
    """Buckets x investigation questions (yes/yes (logs)/partial/no/unknown), as a pandas DataFrame."""
    import pandas as pd

    table = coverage(results, seen)
    return pd.DataFrame.from_dict(table, orient="index", columns=[q.text for q in QUESTIONS]).rename_axis("bucket")


def _bucket_scoped() -> frozenset[str]:
    from s3forensics.checks import CHECKS

    return frozenset(c.id for c in CHECKS if c.scope == "bucket")
