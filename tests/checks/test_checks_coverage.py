"""Coverage matrix, IAM policy and rendering: pure functions of results and metadata."""

from __future__ import annotations

import json

from s3forensics.checks import CHECKS, results_frame
from s3forensics.checks.base import CheckResult, Status, iam_action
from s3forensics.checks.coverage import QUESTIONS, coverage, coverage_frame, sources_frame
from s3forensics.checks.iam_policy import policy_document, required_actions
from s3forensics.checks.render import to_html, to_json, to_table


def r(check_id: str, resource: str, status: Status) -> CheckResult:
    return CheckResult(check_id, resource, status, "high", f"{resource} {status.value}", "" if status is Status.PASS else "fix it")


RESULTS = [
    r("s3_access_logging_enabled", "site", Status.PASS),
    r("s3_access_logging_enabled", "archive", Status.FAIL),
    r("cloudtrail_s3_data_events_read", "site", Status.FAIL),
    r("cloudtrail_s3_data_events_read", "archive", Status.FAIL),
    r("cloudtrail_s3_data_events_write", "archive", Status.FAIL),
    r("cloudtrail_management_events_bucket", "archive", Status.PASS),
    r("cloudwatch_s3_request_metrics_enabled", "archive", Status.PASS),
    r("cloudwatch_alarm_s3_get_requests", "archive", Status.PASS),
    r("cloudwatch_alarm_actions_notify", "alarm x", Status.UNKNOWN),
    r("cloudwatch_metric_filter_bucket_policy_changes", "account 111122223333", Status.FAIL),
]


def test_coverage_answers() -> None:
    matrix = coverage(RESULTS)
    assert set(matrix) == {"site", "archive"}
    assert matrix["site"]["Who read this object?"] == "yes"  # access logs
    assert matrix["archive"]["Who read this object?"] == "no"
    assert matrix["archive"]["How many bytes left?"] == "partial"  # request metrics only
    assert matrix["archive"]["Who changed the policy?"] == "yes"
    assert matrix["site"]["Who changed the policy?"] == "unknown"  # not checked for site
    assert matrix["archive"]["Would a GET flood raise an alarm?"] == "unknown"  # notify unknown
    assert matrix["archive"]["Would a policy change raise an alarm?"] == "no"


def test_frames() -> None:
    cov = coverage_frame(RESULTS)
    assert list(cov.columns) == [q.text for q in QUESTIONS] and cov.index.name == "bucket"
    src = sources_frame(RESULTS)
    assert src.loc["archive", "access_logs"] == "FAIL" and src.loc["site", "access_logs"] == "PASS"
    frame = results_frame(RESULTS)
    assert len(frame) == len(RESULTS) and frame.loc[0, "status"] == "PASS"


def test_iam_policy_lists_every_declared_call() -> None:
    actions = set(required_actions())
    for check in CHECKS:
        for service, op in check.calls:
            assert iam_action(service, op) in actions
    assert "s3:GetAccountPublicAccessBlock" in actions and "s3:GetMetricsConfiguration" in actions
    assert not any(a.split(":")[1].startswith(("Put", "Delete", "Create", "Update")) for a in actions)
    doc = policy_document(include_fixes=True)
    assert "s3:PutBucketLogging" in doc["Statement"][1]["Action"]


def test_renderers() -> None:
    hostile = [r("s3_bucket_policy_not_public", "<script>alert(1)</script>", Status.FAIL), *RESULTS]
    page = to_html(hostile)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "http://" not in page.replace("http://acs", "") and "<link" not in page and "src=" not in page
    rows = json.loads(to_json(hostile))
    assert rows[0]["resource"] == "<script>alert(1)</script>" and list(rows[0]) == ["check_id", "resource", "status", "severity", "message", "remediation"]
    text = to_table(RESULTS)
    assert "4 passed, 5 failed, 1 unknown" in text
    assert "Who read this object?" in text


def test_what_the_checks_cannot_decide_the_logs_in_hand_answer() -> None:
    """04 with no credentials said "unknown" to every question although the logs it had just
    read answer most of them. A failing check stays failing: it says what the account does today."""
    import pandas as pd

    from s3forensics.checks.coverage import SEEN, YES_FROM_LOGS, seen_in_logs

    logs = pd.DataFrame(
        [
            {"bucket": "site", "source": "s3_access", "row_count": 10, "management_events": 0, "data_read_events": 0, "data_write_events": 0},
            {"bucket": "site", "source": "cloudtrail", "row_count": 3, "management_events": 3, "data_read_events": 0, "data_write_events": 0},
            {"bucket": "archive", "source": "s3_access", "row_count": 5, "management_events": 0, "data_read_events": 0, "data_write_events": 0},
            {"bucket": "vault", "source": "cloudtrail", "row_count": 9, "management_events": 0, "data_read_events": 4, "data_write_events": 5},
        ]
    )
    seen = seen_in_logs(logs)
    assert seen == {"site": {"access_logs", "cloudtrail_management"}, "archive": {"access_logs"}, "vault": {"cloudtrail_data_read", "cloudtrail_data_write"}}
    # No credentials: every check unknown, so the logs answer.
    matrix = coverage([], seen)
    assert matrix["site"]["Who read this object?"] == YES_FROM_LOGS and matrix["site"]["Who changed the policy?"] == YES_FROM_LOGS
    assert matrix["vault"]["Who changed or deleted objects?"] == YES_FROM_LOGS and matrix["vault"]["Who changed the policy?"] == "unknown"
    assert matrix["site"]["Would a GET flood raise an alarm?"] == "unknown"  # no log shows an alarm
    # With the checks: archive's logging FAILs today, though the window has its logs; site's policy question is answered by its CloudTrail.
    checked = coverage(RESULTS, seen)
    assert checked["archive"]["Who read this object?"] == "no"
    assert checked["site"]["Who changed the policy?"] == YES_FROM_LOGS and checked["site"]["Who read this object?"] == "yes"
    assert sources_frame([], seen).loc["archive", "access_logs"] == SEEN
    assert list(coverage_frame([], seen).index) == ["archive", "site", "vault"]
