"""Incidents and blind spots: the verdict that 01 and 04 open with.

Findings are built as the runner writes them (``FINDING_COLUMNS``); principals take the
shapes CloudTrail documents for ``userIdentity.arn`` (an IAM user, and an assumed role as
``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``: "CloudTrail userIdentity element",
AWS CloudTrail User Guide).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from s3forensics.detections.registry import DETECTIONS
from s3forensics.incidents import actor_of, blind_spots, group_incidents, incident_lines
from s3forensics.vocabulary import FINDING_COLUMNS

T = pd.Timestamp("2026-11-18T10:00:00Z")
ROLE = "arn:aws:sts::111122223333:assumed-role/analytics-export"
USER = "arn:aws:iam::111122223333:user/ops-admin"
META = {d.id: d for d in DETECTIONS}


def _finding(detection_id: str, *, at: pd.Timestamp = T, minutes: int = 5, ip: str | None = None, principal: str | None = None,
             bucket: str = "example-data", events: int = 10, nbytes: int | None = 1000) -> dict:
    row = dict.fromkeys(FINDING_COLUMNS)
    row.update(detection_id=detection_id, title=META[detection_id].title, severity=META[detection_id].severity, first_seen=at,
               last_seen=at + pd.Timedelta(minutes=minutes), bucket=bucket, source_ip=ip, principal=principal,
               event_count=events, bytes=nbytes, summary=f"{detection_id} summary", evidence="{}")
    return row


def _frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(FINDING_COLUMNS))


def test_an_assumed_role_is_one_actor_whatever_the_session() -> None:
    assert actor_of(f"{ROLE}/i-0a1b2c3d4e5f60718") == ROLE == actor_of(f"{ROLE}/another-session")
    assert actor_of(USER) == USER and actor_of(None) is None and actor_of(float("nan")) is None and actor_of("  ") is None


def test_one_actor_close_in_time_is_one_incident_worst_first() -> None:
    findings = _frame(
        _finding("large_egress", ip="203.0.113.88", principal=f"{ROLE}/s1", nbytes=400 * 1024**2),
        _finding("new_principal_or_ip_reading", at=T + pd.Timedelta(minutes=30), ip="203.0.113.88", principal=f"{ROLE}/s1"),
        # The same role from another address an hour later: joined by the role.
        _finding("mass_delete", at=T + pd.Timedelta(minutes=90), ip="203.0.113.99", principal=f"{ROLE}/s2", events=480),
        # Another actor at the same time: its own incident.
        _finding("secret_file_probing", ip="192.0.2.201", bucket="example-site"),
        # The first actor's address again, a day later: a new incident.
        _finding("access_denied_burst", at=T + pd.Timedelta(days=1), ip="203.0.113.88"),
    )
    incidents = group_incidents(findings, logs_end=T + pd.Timedelta(days=1, minutes=10))
    assert list(incidents["incident"]) == [1, 2, 3]
    first = incidents.iloc[0]
    assert first["severity"] == "critical" and first["findings"] == 3
    assert first["detections"] == "mass_delete, large_egress, new_principal_or_ip_reading"
    assert first["what"].startswith(META["mass_delete"].title)
    assert first["who"] == ROLE and first["from_where"] == "203.0.113.99, 203.0.113.88"
    assert first["events"] == 480 and first["bytes"] == 400 * 1024**2 and first["first_seen"] == T and first["last_seen"] == T + pd.Timedelta(minutes=95)
    assert first["next_step"] == META["mass_delete"].runbook and first["false_positives"] == "; ".join(META["mass_delete"].false_positives)
    assert first["still_going"].startswith("no: last seen")
    assert sorted(first["findings_of"]) == [0, 1, 2]
    assert incidents.iloc[1]["detections"] == "secret_file_probing" and incidents.iloc[1]["who"] == "anonymous"
    last = incidents.iloc[2]
    assert last["detections"] == "access_denied_burst" and last["still_going"].startswith("yes")


def test_findings_without_an_actor_group_by_bucket_and_detection() -> None:
    findings = _frame(
        _finding("baseline_deviation", bucket="a"),
        _finding("baseline_deviation", at=T + pd.Timedelta(hours=1), bucket="a"),
        _finding("baseline_deviation", bucket="b"),
    )
    incidents = group_incidents(findings)
    assert sorted(incidents["findings"]) == [1, 2] and set(incidents["buckets"]) == {"a", "b"}
    assert set(incidents["who"]) == {"-"}


def test_the_verdict_reads_what_who_where_how_much_and_if_it_goes_on() -> None:
    findings = _frame(_finding("large_egress", ip="203.0.113.88", principal=f"{ROLE}/s1", nbytes=5 * 1024**3, events=55))
    text = incident_lines(group_incidents(findings, logs_end=T + pd.Timedelta(minutes=6)))
    assert text.startswith("**1 incident(s)** (1 high), from 1 finding(s).")
    assert f"Who: {ROLE}, from 203.0.113.88, on example-data" in text and "55 event(s), 5.0 GiB" in text
    assert "Still going on? yes" in text
    assert incident_lines(group_incidents(_frame())) .startswith("**No incident.**")


def _coverage(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"bucket": b, "source": s, "row_count": 10, "first_time": pd.Timestamp("2026-11-16T00:00:00Z"), "last_time": pd.Timestamp(t)} for b, s, t in rows]
    )


def test_blind_spots_name_each_gap_in_the_evidence() -> None:
    start, end = pd.Timestamp("2026-11-16T00:00:00Z"), pd.Timestamp("2026-11-19T00:00:00Z")
    coverage = _coverage(
        ("site", "s3_access", "2026-11-18T23:59:00Z"),
        ("data", "s3_access", "2026-11-17T18:43:59Z"),  # goes dark while the site's logs go on
        ("archive", "s3_access", "2026-11-18T23:00:00Z"),  # an hour early: a quiet hour, not dark
        ("vault", "cloudtrail", "2026-11-18T12:00:00Z"),  # CloudTrail only
    )
    spots = blind_spots(coverage, start=start, end=end, now=end + pd.Timedelta(days=30))
    kinds = {(r.kind, r.where) for r in spots.itertuples()}
    assert kinds == {("bucket goes dark", "data"), ("no access logs", "vault"), ("logs end early", "all buckets")}
    dark = spots[spots["kind"] == "bucket goes dark"].iloc[0]
    assert dark["since"] == pd.Timestamp("2026-11-17T18:43:59Z") and "blind since then" in dark["detail"]
    # CloudTrail ending 12 h early is said once, for all buckets.
    assert "CloudTrail end at 2026-11-18 12:00:00 UTC, 12 h before the window does" in set(spots["detail"])


def test_a_missing_source_and_logging_switched_off_are_blind_spots() -> None:
    start, end = pd.Timestamp("2026-11-16T00:00:00Z"), pd.Timestamp("2026-11-19T00:00:00Z")
    coverage = _coverage(("site", "s3_access", "2026-11-18T23:59:00Z"), ("data", "s3_access", "2026-11-17T18:43:59Z"))
    evasion = _finding("logging_evasion", at=pd.Timestamp("2026-11-17T18:43:59Z"), ip="203.0.113.77", principal=USER, bucket="data")
    spots = blind_spots(coverage, start=start, end=end, sources={"cloudtrail": False}, findings=_frame(evasion), now=end)
    assert list(spots["kind"]) == ["source missing", "logging switched off"]
    assert "no CloudTrail given" in spots.iloc[0]["detail"]
    # The switched-off row explains the dark bucket: it is not said twice.
    assert spots.iloc[1]["where"] == "data" and spots.iloc[1]["detail"].endswith("Blind since 2026-11-17 18:43:59 UTC.")


def test_a_window_ending_in_the_future_is_not_logs_ending_early() -> None:
    now = pd.Timestamp("2026-11-18T12:00:00Z")
    coverage = _coverage(("site", "s3_access", "2026-11-18T11:50:00Z"), ("site", "cloudtrail", "2026-11-18T11:40:00Z"))
    assert blind_spots(coverage, start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1), now=now).empty


def test_ten_thousand_findings_group_without_losing_one() -> None:
    """A verdict over 10,000 findings (each actor apart, then one actor for all): every
    finding in exactly one incident, and the verdict names the ten worst. (A pandas group
    per incident once took a minute here; the time is measured, not asserted.)"""
    n = 10_000
    rows = [_finding("request_rate_spike" if i % 3 else "mass_delete", at=T + pd.Timedelta(minutes=i), ip=f"2001:db8::{i:x}") for i in range(n)]
    apart = group_incidents(_frame(*rows))
    assert len(apart) == n and sorted(i for part in apart["findings_of"] for i in part) == list(range(n))
    assert set(apart["severity"].iloc[: n // 3 + 1]) == {"critical"}
    text = incident_lines(apart)
    assert text.count("\n\n") == 11 and f"and {n - 10:,} more" in text
    together = group_incidents(_frame(*[{**r, "source_ip": "192.0.2.1"} for r in rows]))
    assert len(together) == 1 and together["findings"].iloc[0] == n
