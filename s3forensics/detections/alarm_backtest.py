"""Replay a CloudWatch alarm on S3 request metrics computed from access logs.

S3 request metrics (``AWS/S3`` namespace, dimensions ``BucketName`` and ``FilterId``) are
recomputed from server access logs per period: ``GetRequests``, ``PutRequests``,
``DeleteRequests``, ``HeadRequests``, ``ListRequests``, ``AllRequests``, ``4xxErrors``,
``5xxErrors``, ``BytesDownloaded``, ``BytesUploaded`` (statistic ``Sum``). An alarm
definition (threshold, comparison, period, evaluation periods, datapoints to alarm, missing
data treatment) is replayed over that history: the alarm is in ALARM at a period when at
least ``datapoints_to_alarm`` of the last ``evaluation_periods`` datapoints breach. Each
OK -> ALARM transition is one alarm (one page at night). :func:`suggest_threshold` finds
the lowest threshold whose replay stays within a budget of alarms per week, and
:meth:`AlarmDefinition.put_metric_alarm_params` gives the boto3 parameters (applying them
belongs to the setup commands).

Periods without any request have no S3 datapoint: they are *missing* data, treated per
``treat_missing_data`` (``notBreaching``, ``breaching``, ``ignore``/``missing``: skipped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from s3forensics.errors import ParameterError

#: CloudWatch metric name -> how it is computed from access-log rows.
METRICS: tuple[str, ...] = (
    "AllRequests",
    "GetRequests",
    "PutRequests",
    "DeleteRequests",
    "HeadRequests",
    "ListRequests",
    "4xxErrors",
    "5xxErrors",
    "BytesDownloaded",
    "BytesUploaded",
)
COMPARISONS: tuple[str, ...] = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING: tuple[str, ...] = ("notBreaching", "breaching", "ignore", "missing")

_GET = ("REST.GET.OBJECT", "WEBSITE.GET.OBJECT")
_PUT = ("REST.PUT.OBJECT", "REST.POST.UPLOAD", "REST.PUT.PART", "REST.COPY.OBJECT")
_DELETE = ("REST.DELETE.OBJECT", "REST.POST.MULTI_OBJECT_DELETE")
_HEAD = ("REST.HEAD.OBJECT", "WEBSITE.HEAD.OBJECT")
_LIST = ("REST.GET.BUCKET", "REST.GET.BUCKETVERSIONS")


def request_metrics(access: pd.DataFrame, period_seconds: int = 300, *, bucket: str | None = None) -> pd.DataFrame:
    """S3 request metrics per bucket and period from canonical access-log rows.

    Args:
        access: rows with the canonical columns (``bucket, time, operation, http_status,
            bytes_sent, object_size`` are used).
        period_seconds: metric period (a multiple of 60, as CloudWatch requires).
        bucket: keep only this bucket.

    Returns:
        One row per (bucket, period) that had requests; columns ``bucket, period`` and
        :data:`METRICS`. Internal S3 operations (``BATCH.*``, ``S3.*``) are not requests.
    """
    if period_seconds <= 0 or period_seconds % 60:
        raise ParameterError(f"period_seconds must be a positive multiple of 60, got {period_seconds}")
    frame = access
    if bucket is not None:
        frame = frame[frame["bucket"] == bucket]
    op = frame["operation"].astype("object").fillna("")
    frame = frame[~(op.str.startswith("BATCH.") | op.str.startswith("S3."))]
    if frame.empty:
        return pd.DataFrame(columns=["bucket", "period", *METRICS])
    op = frame["operation"].astype("object").fillna("")
    status = pd.to_numeric(frame["http_status"], errors="coerce").fillna(0)
    sent = pd.to_numeric(frame["bytes_sent"], errors="coerce").fillna(0)
    size = pd.to_numeric(frame["object_size"], errors="coerce").fillna(0)
    is_get = op.isin(_GET)
    is_put = op.isin(_PUT)
    parts = pd.DataFrame(
        {
            "bucket": frame["bucket"].to_numpy(),
            "period": pd.to_datetime(frame["time"], utc=True).dt.floor(f"{period_seconds}s").to_numpy(),
            "AllRequests": 1,
            "GetRequests": is_get.astype("int64").to_numpy(),
            "PutRequests": is_put.astype("int64").to_numpy(),
            "DeleteRequests": op.isin(_DELETE).astype("int64").to_numpy(),
            "HeadRequests": op.isin(_HEAD).astype("int64").to_numpy(),
            "ListRequests": op.isin(_LIST).astype("int64").to_numpy(),
            "4xxErrors": ((status >= 400) & (status < 500)).astype("int64").to_numpy(),
            "5xxErrors": (status >= 500).astype("int64").to_numpy(),
            "BytesDownloaded": np.where(is_get, sent, 0).astype("int64"),
            "BytesUploaded": np.where(is_put, size, 0).astype("int64"),
        }
    )
    out = parts.groupby(["bucket", "period"], as_index=False).sum()
    out["period"] = pd.to_datetime(out["period"], utc=True)
    return out


@dataclass(frozen=True)
class AlarmDefinition:
    """A CloudWatch metric alarm on one S3 request metric.

    Attributes:
        bucket: ``BucketName`` dimension.
        metric: one of :data:`METRICS`.
        threshold: the threshold (Sum per period).
        period_seconds: metric period.
        evaluation_periods: N, the periods looked at.
        datapoints_to_alarm: M, breaching datapoints among the N that raise the alarm.
        comparison: one of :data:`COMPARISONS`.
        treat_missing_data: one of :data:`MISSING`.
        filter_id: ``FilterId`` dimension of the bucket's request-metrics configuration.
    """

    bucket: str
    metric: str = "GetRequests"
    threshold: float = 1000.0
    period_seconds: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    comparison: str = "GreaterThanOrEqualToThreshold"
    treat_missing_data: str = "notBreaching"
    filter_id: str = "EntireBucket"

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ParameterError(f"alarm metric {self.metric!r} is not one of {', '.join(METRICS)}")
        if self.comparison not in COMPARISONS:
            raise ParameterError(f"alarm comparison {self.comparison!r} is not one of {', '.join(COMPARISONS)}")
        if self.treat_missing_data not in MISSING:
            raise ParameterError(f"treat_missing_data {self.treat_missing_data!r} is not one of {', '.join(MISSING)}")
        if self.period_seconds <= 0 or self.period_seconds % 60:
            raise ParameterError(f"alarm period_seconds must be a positive multiple of 60, got {self.period_seconds}")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ParameterError(
                f"alarm needs 1 <= datapoints_to_alarm ({self.datapoints_to_alarm}) <= evaluation_periods ({self.evaluation_periods})"
            )
        if not math.isfinite(self.threshold):
            raise ParameterError(f"alarm threshold must be a finite number, got {self.threshold}")

    def breaches(self, values: pd.Series) -> pd.Series:
        """Boolean: does each value breach the threshold."""
        if self.comparison == "GreaterThanOrEqualToThreshold":
            return values >= self.threshold
        if self.comparison == "GreaterThanThreshold":
            return values > self.threshold
        if self.comparison == "LessThanThreshold":
            return values < self.threshold
        return values <= self.threshold

    def put_metric_alarm_params(self, alarm_name: str | None = None, alarm_actions: tuple[str, ...] = ()) -> dict[str, Any]:
        """Keyword arguments for boto3 ``cloudwatch.put_metric_alarm`` (not applied here)."""
        params: dict[str, Any] = {
            "AlarmName": alarm_name or f"s3f-{self.bucket}-{self.metric}",
            "AlarmDescription": f"{self.metric} on {self.bucket} (threshold backtested from access logs by s3forensics)",
            "Namespace": "AWS/S3",
            "MetricName": self.metric,
            "Dimensions": [{"Name": "BucketName", "Value": self.bucket}, {"Name": "FilterId", "Value": self.filter_id}],
            "Statistic": "Sum",
            "Period": self.period_seconds,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "Threshold": float(self.threshold),
            "ComparisonOperator": self.comparison,
            "TreatMissingData": self.treat_missing_data,
            "ActionsEnabled": bool(alarm_actions),
        }
        if alarm_actions:
            params["AlarmActions"] = list(alarm_actions)
        return params


@dataclass(frozen=True)
class Backtest:
    """What replaying an alarm over history showed.

    Attributes:
        alarm: the replayed definition.
        states: one row per period: ``period, value`` (NaN when missing), ``breaching``,
            ``in_alarm``.
        alarms: one row per ALARM episode: ``start, end, periods, peak``.
        weeks: length of the replayed history, in weeks.
    """

    alarm: AlarmDefinition
    states: pd.DataFrame
    alarms: pd.DataFrame
    weeks: float

    @property
    def alarms_per_week(self) -> float:
        """ALARM transitions per week of history."""
        return len(self.alarms) / self.weeks if self.weeks > 0 else float(len(self.alarms))


def _series(metrics: pd.DataFrame, alarm: AlarmDefinition, start: Any = None, end: Any = None) -> pd.Series:
    rows = metrics[metrics["bucket"] == alarm.bucket]
    values = rows.set_index(pd.to_datetime(rows["period"], utc=True))[alarm.metric].astype("float64")
    first = pd.Timestamp(start) if start is not None else (values.index.min() if len(values) else None)
    last = pd.Timestamp(end) if end is not None else (values.index.max() + pd.Timedelta(seconds=alarm.period_seconds) if len(values) else None)
    if first is None or last is None:
        return pd.Series(dtype="float64")
    first = first.tz_localize("UTC") if first.tzinfo is None else first
    last = last.tz_localize("UTC") if last.tzinfo is None else last
    grid = pd.date_range(first.floor(f"{alarm.period_seconds}s"), last, freq=f"{alarm.period_seconds}s", inclusive="left")
    return values.groupby(level=0).sum().reindex(grid)


def replay(metrics: pd.DataFrame, alarm: AlarmDefinition, *, start: Any = None, end: Any = None) -> Backtest:
    """Replay ``alarm`` over ``metrics`` (from :func:`request_metrics` with the same period).

    Args:
        metrics: request metrics per bucket and period.
        alarm: the alarm definition.
        start: first period (default: the first datapoint).
        end: end of history (default: after the last datapoint).
    """
    values = _series(metrics, alarm, start, end)
    present = values.notna()
    breaching = alarm.breaches(values.fillna(0.0)) & present
    if alarm.treat_missing_data == "breaching":
        breaching = breaching | ~present
    counted = present | (alarm.treat_missing_data in ("notBreaching", "breaching"))
    if alarm.treat_missing_data in ("ignore", "missing"):
        # Missing periods are skipped: evaluate over the last N datapoints that exist.
        kept = breaching[present]
        hits = kept.astype("int64").rolling(alarm.evaluation_periods, min_periods=1).sum()
        in_alarm = (hits >= alarm.datapoints_to_alarm).reindex(values.index).ffill().fillna(False).astype(bool)
    else:
        hits = breaching.astype("int64").rolling(alarm.evaluation_periods, min_periods=1).sum()
        in_alarm = (hits >= alarm.datapoints_to_alarm) & counted
    states = pd.DataFrame({"period": values.index, "value": values.to_numpy(), "breaching": breaching.to_numpy(), "in_alarm": in_alarm.to_numpy()})
    episodes = []
    if len(states):
        run_id = (states["in_alarm"] != states["in_alarm"].shift()).cumsum()
        for _, part in states[states["in_alarm"]].groupby(run_id[states["in_alarm"]]):
            episodes.append(
                {
                    "start": part["period"].iloc[0],
                    "end": part["period"].iloc[-1] + pd.Timedelta(seconds=alarm.period_seconds),
                    "periods": len(part),
                    "peak": float(part["value"].max()) if part["value"].notna().any() else float("nan"),
                }
            )
    alarms = pd.DataFrame(episodes, columns=["start", "end", "periods", "peak"])
    weeks = len(values) * alarm.period_seconds / (7 * 86400)
    return Backtest(alarm=alarm, states=states, alarms=alarms, weeks=weeks)


@dataclass(frozen=True)
class Suggestion:
    """A suggested threshold and what it would have done.

    Attributes:
        alarm: the alarm with the suggested threshold.
        backtest: its replay over the history.
        target_per_week: the budget of alarms per week it was chosen for.
    """

    alarm: AlarmDefinition
    backtest: Backtest
    target_per_week: float

    @property
    def expected_alarms_per_week(self) -> float:
        """Alarms per week the suggestion raised over the history."""
        return self.backtest.alarms_per_week


def _nice(value: float) -> float:
    """Round up to 1, 2 or 5 times a power of ten (thresholds people can read)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def suggest_threshold(
    metrics: pd.DataFrame,
    alarm: AlarmDefinition,
    *,
    target_per_week: float = 1.0,
    margin: float = 1.2,
    start: Any = None,
    end: Any = None,
) -> Suggestion:
    """The lowest readable threshold whose replay raises at most ``target_per_week`` alarms.

    Candidates are the observed values (a threshold between two observed values changes
    nothing); the chosen one is multiplied by ``margin`` and rounded up to 1/2/2.5/5 x 10^k.
    Only ``GreaterThan*`` comparisons are supported (a request alarm watches for floods).
    """
    if not alarm.comparison.startswith("GreaterThan"):
        raise ParameterError("suggest_threshold supports GreaterThan* comparisons only")
    if target_per_week < 0 or margin < 1:
        raise ParameterError(f"target_per_week must be >= 0 and margin >= 1, got {target_per_week} and {margin}")
    values = _series(metrics, alarm, start, end).dropna()
    candidates = np.unique(values.to_numpy())
    chosen = float(candidates.max() + 1) if len(candidates) else 1.0
    low, high = 0, len(candidates) - 1
    # Alarms only fall as the threshold rises: binary search the first candidate within budget.
    while low <= high:
        mid = (low + high) // 2
        trial = replay(metrics, _with(alarm, float(candidates[mid]) + (1 if alarm.comparison == "GreaterThanOrEqualToThreshold" else 0)), start=start, end=end)
        if trial.alarms_per_week <= target_per_week:
            chosen = float(candidates[mid]) + (1 if alarm.comparison == "GreaterThanOrEqualToThreshold" else 0)
            high = mid - 1
        else:
            low = mid + 1
    suggested = _with(alarm, _nice(chosen * margin))
    return Suggestion(alarm=suggested, backtest=replay(metrics, suggested, start=start, end=end), target_per_week=target_per_week)


def _with(alarm: AlarmDefinition, threshold: float) -> AlarmDefinition:
    from dataclasses import replace

    return replace(alarm, threshold=threshold)
