"""Preparation: which failing setup check to fix first, and the metrics an alarm is tuned on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from s3forensics.errors import ActionError, ParameterError
from s3forensics.vocabulary import severity_rank


def fix_first(results: Sequence[Any], top: int = 10) -> pd.DataFrame:
    """Failing checks ranked by what fixing them gains: severity, then questions unlocked.

    Args:
        results: setup check results (``run_checks``).
        top: how many rows to return.

    Returns:
        Columns ``rank, check_id, severity, resources, unlocks, automatic_fix, title,
        remediation``; one row per failing check (its failing resources joined).
    """
    from s3forensics.checks import get_check
    from s3forensics.checks.coverage import QUESTIONS, SOURCES
    from s3forensics.checks.fix_plans import PLANNERS

    failing: dict[str, list[str]] = {}
    for r in results:
        if str(r.status) == "FAIL":
            failing.setdefault(r.check_id, []).append(r.resource)
    source_of = {check: source for source, check in SOURCES.items()}
    rows = []
    for check_id, resources in failing.items():
        check = get_check(check_id)
        source = source_of.get(check_id)
        unlocks = [q.text for q in QUESTIONS if source and source in (*q.full, *q.partial, *q.all_of)]
        rows.append(
            {
                "check_id": check_id,
                "severity": check.severity,
                "resources": ", ".join(sorted(set(resources))),
                "unlocks": "; ".join(unlocks),
                "automatic_fix": check_id in PLANNERS,
                "title": check.title,
                "remediation": check.remediation,
                "_order": (severity_rank(check.severity), -len(unlocks), -len(resources)),
            }
        )
    rows.sort(key=lambda row: row["_order"])
    frame = pd.DataFrame(rows, columns=["check_id", "severity", "resources", "unlocks", "automatic_fix", "title", "remediation", "_order"])
    frame = frame.drop(columns="_order").head(top).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def fix_plans(check_ids: Sequence[str], *, buckets: Sequence[str] | None = None, session: Any | None = None) -> pd.DataFrame:
    """The API calls that would fix each check (read-only planning; nothing is applied).

    Returns:
        Columns ``check_id, step, call, note``; a check without an automatic fix, or whose
        plan needs a choice, gets one row whose note says what to do by hand.
    """
    from s3forensics.checks.fix_plans import plan_fix

    rows: list[dict[str, Any]] = []
    for check_id in check_ids:
        try:
            plan = plan_fix(check_id, session=session, buckets=buckets)
        except ActionError as exc:
            rows.append({"check_id": check_id, "step": 0, "call": None, "note": str(exc)})
            continue
        for i, step in enumerate(plan.steps, 1):
            rows.append({"check_id": check_id, "step": i, "call": step.call.describe(), "note": None})
        for note in plan.notes:
            rows.append({"check_id": check_id, "step": 0, "call": None, "note": note})
        if not plan.steps and not plan.notes:
            rows.append({"check_id": check_id, "step": 0, "call": None, "note": "nothing to fix"})
    return pd.DataFrame(rows, columns=["check_id", "step", "call", "note"])


#: ``s3_access__request_metrics`` columns -> CloudWatch S3 metric names.
_METRIC_NAMES = {
    "all_requests": "AllRequests",
    "get_requests": "GetRequests",
    "put_requests": "PutRequests",
    "delete_requests": "DeleteRequests",
    "head_requests": "HeadRequests",
    "list_requests": "ListRequests",
    "errors_4xx": "4xxErrors",
    "errors_5xx": "5xxErrors",
    "bytes_downloaded": "BytesDownloaded",
    "bytes_uploaded": "BytesUploaded",
}


def alarm_metrics(investigation: Any, period_seconds: int = 300) -> pd.DataFrame:
    """S3 request metrics per bucket and period (CloudWatch names) over the investigation window.

    The shape :func:`s3forensics.detections.alarm_backtest.replay` takes, computed by the
    engine (``s3_access__request_metrics``) instead of in memory.
    """
    if isinstance(period_seconds, bool) or not isinstance(period_seconds, int) or period_seconds <= 0 or period_seconds % 60:
        raise ParameterError(f"PERIOD_SECONDS must be a positive multiple of 60, got {period_seconds!r}")
    frame = investigation.run("s3_access__request_metrics", period_seconds=period_seconds).rename(columns=_METRIC_NAMES)
    frame["period"] = pd.to_datetime(frame["period"], utc=True)
    for name in _METRIC_NAMES.values():
        frame[name] = pd.to_numeric(frame[name], errors="coerce").fillna(0).astype("int64")
    return frame.sort_values(["bucket", "period"]).reset_index(drop=True)


def alarm_catches(alarms: pd.DataFrame, findings: pd.DataFrame, *, bucket: str, detection_ids: Sequence[str] = ("request_rate_spike", "baseline_deviation")) -> pd.DataFrame:
    """Would the alarm have paged during each incident the detections found on ``bucket``?

    Args:
        alarms: a backtest's ALARM episodes (``start, end``).
        findings: detection findings.
        bucket: the alarm's bucket.
        detection_ids: findings that an alarm on request counts should catch.

    Returns:
        One row per finding: ``detection_id, source_ip, first_seen, last_seen, caught,
        alarm_start`` (the first overlapping episode, or None).
    """
    wanted = findings[(findings["bucket"] == bucket) & findings["detection_id"].isin(list(detection_ids))]
    rows = []
    for f in wanted.to_dict("records"):
        first, last = pd.Timestamp(f["first_seen"]), pd.Timestamp(f["last_seen"])
        hit = alarms[(pd.to_datetime(alarms["start"], utc=True) <= last) & (pd.to_datetime(alarms["end"], utc=True) >= first)] if len(alarms) else alarms
        rows.append(
            {
                "detection_id": f["detection_id"],
                "source_ip": f.get("source_ip"),
                "first_seen": first,
                "last_seen": last,
                "caught": bool(len(hit)),
                "alarm_start": hit["start"].iloc[0] if len(hit) else None,
            }
        )
    return pd.DataFrame(rows, columns=["detection_id", "source_ip", "first_seen", "last_seen", "caught", "alarm_start"])
