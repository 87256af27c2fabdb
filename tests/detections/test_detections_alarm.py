"""CloudWatch alarm backtest on request metrics computed from access-log rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from s3forensics.detections.alarm_backtest import AlarmDefinition, replay, request_metrics, suggest_threshold
from s3forensics.detections.base import CASE_SITE, CASE_START, Case, access, case_tables
from s3forensics.errors import ParameterError


def history() -> pd.DataFrame:
    rows = access(24 * 60, every=dt.timedelta(minutes=1), bucket=CASE_SITE)  # 1 GET a minute for a day
    burst = access(600, at=CASE_START + dt.timedelta(hours=10, minutes=1), every=dt.timedelta(milliseconds=400), bucket=CASE_SITE, request_id="B{i}")
    denied = access(50, at=CASE_START + dt.timedelta(hours=20), bucket=CASE_SITE, http_status=403, error_code="AccessDenied", request_id="D{i}")
    return case_tables(Case("h", True, s3_access=rows + burst + denied))["s3_access"].to_pandas()


def test_metrics_count_like_cloudwatch() -> None:
    metrics = request_metrics(history(), 300)
    assert metrics["GetRequests"].sum() == 24 * 60 + 600 + 50
    assert metrics["4xxErrors"].sum() == 50
    assert metrics["BytesDownloaded"].sum() == (24 * 60 + 600 + 50) * 1000


def test_replay_fires_once_for_one_burst() -> None:
    metrics = request_metrics(history(), 300)
    backtest = replay(metrics, AlarmDefinition(bucket=CASE_SITE, threshold=100))
    assert len(backtest.alarms) == 1
    assert backtest.alarms.iloc[0]["start"] <= pd.Timestamp(CASE_START + dt.timedelta(hours=10, minutes=5))
    strict = replay(metrics, AlarmDefinition(bucket=CASE_SITE, threshold=100, evaluation_periods=3, datapoints_to_alarm=3))
    assert len(strict.alarms) == 0, "a single-period burst must not satisfy 3 of 3"


def test_suggestion_meets_budget_and_gives_put_metric_alarm_params() -> None:
    metrics = request_metrics(history(), 300)
    suggestion = suggest_threshold(metrics, AlarmDefinition(bucket=CASE_SITE), target_per_week=0)
    assert suggestion.expected_alarms_per_week == 0
    assert suggestion.alarm.threshold > metrics["GetRequests"].max()
    params = suggestion.alarm.put_metric_alarm_params()
    assert params["Namespace"] == "AWS/S3" and params["MetricName"] == "GetRequests"
    assert params["Threshold"] == suggestion.alarm.threshold and params["Period"] == 300
    generous = suggest_threshold(metrics, AlarmDefinition(bucket=CASE_SITE), target_per_week=50)
    assert generous.alarm.threshold < suggestion.alarm.threshold


def test_bad_alarm_definitions() -> None:
    with pytest.raises(ParameterError, match="datapoints_to_alarm"):
        AlarmDefinition(bucket=CASE_SITE, evaluation_periods=1, datapoints_to_alarm=2)
    with pytest.raises(ParameterError, match="multiple of 60"):
        request_metrics(history(), 90)
