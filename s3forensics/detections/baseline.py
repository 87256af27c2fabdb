"""Robust hour-of-week baselines per bucket, and the ``baseline_deviation`` detection.

Method (simpler than MSTICPy's STL decomposition, and explainable in one paragraph):
hourly counts per bucket are put on a complete hour grid (an hour without requests is 0).
Each hour is compared with the *median* of the hours in the same slot, and the spread is
the *MAD* (median absolute deviation, x1.4826 so it estimates a standard deviation). The
slot is the hour of the week when the history holds at least ``min_samples`` weeks, else
the hour of the day, else all hours: a week of logs cannot give an hour-of-week baseline.
Medians ignore the few anomalous hours themselves, so the analysed window may be part of
the baseline population. The spread is floored (``sqrt(median)`` for counts, 10% of the
median for bytes) so that a perfectly flat history does not make every wobble infinite.
An hour deviates when its robust z-score ``(x - median) / spread`` reaches ``z_threshold``,
it is at least ``min_ratio`` times the median, and above an absolute floor. Consecutive
deviating hours of one bucket form one finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from s3forensics.detections.base import (
    CASE_BYTES,
    CASE_DATA,
    CASE_START,
    Case,
    Detection,
    access,
    finding,
)
from s3forensics.detections.config import DetectionConfig
from s3forensics.queries import Param

#: Scale of the MAD for a normal distribution.
MAD_SCALE = 1.4826


def hourly_grid(hourly: pd.DataFrame, start: dt.datetime, end: dt.datetime, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Complete ``bucket x hour`` grid from ``start`` to ``end`` with missing hours as 0."""
    if hourly.empty:
        return pd.DataFrame(columns=["bucket", "hour", *metrics])
    frame = hourly.copy()
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    hours = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end) - pd.Timedelta(microseconds=1), freq="h", tz="UTC")
    index = pd.MultiIndex.from_product([sorted(frame["bucket"].unique()), hours], names=["bucket", "hour"])
    grid = frame.set_index(["bucket", "hour"])[list(metrics)].groupby(level=[0, 1]).sum().reindex(index, fill_value=0)
    return grid.reset_index()


def robust_scores(grid: pd.DataFrame, metric: str, *, min_samples: int = 3, floor: str = "sqrt") -> pd.DataFrame:
    """Median, spread and robust z-score of ``metric`` per hour, by the richest slot possible.

    Returns ``grid`` with columns ``<metric>_median``, ``<metric>_spread``, ``<metric>_z``
    and ``baseline`` (``hour-of-week``, ``hour-of-day`` or ``all-hours``).
    """
    out = grid.copy()
    out["how"] = out["hour"].dt.day_of_week * 24 + out["hour"].dt.hour
    out["hod"] = out["hour"].dt.hour
    medians = pd.Series(np.nan, index=out.index)
    spreads = pd.Series(np.nan, index=out.index)
    level = pd.Series("", index=out.index, dtype="object")
    for _bucket, part in out.groupby("bucket", sort=False):
        weeks = part.groupby("how")[metric].size().min()
        days = part.groupby("hod")[metric].size().min()
        if weeks >= min_samples:
            key, name = part["how"], "hour-of-week"
        elif days >= min_samples:
            key, name = part["hod"], "hour-of-day"
        else:
            key, name = pd.Series(0, index=part.index), "all-hours"
        values = part[metric].astype("float64")
        median = values.groupby(key).transform("median")
        mad = (values - median).abs().groupby(key).transform("median") * MAD_SCALE
        base_floor = np.sqrt(median.clip(lower=1.0)) if floor == "sqrt" else (median * 0.1).clip(lower=1.0)
        medians[part.index] = median
        spreads[part.index] = np.maximum(mad, base_floor)
        level[part.index] = name
    out[f"{metric}_median"] = medians
    out[f"{metric}_spread"] = spreads
    out[f"{metric}_z"] = (out[metric] - medians) / spreads
    out["baseline"] = level
    return out.drop(columns=["how", "hod"])


def deviations(hourly: pd.DataFrame, values: Mapping[str, Any], config: DetectionConfig | None = None) -> pd.DataFrame:
    """Finding rows for hours of ``[start, end)`` far above their bucket's baseline.

    Args:
        hourly: rows of ``detect__baseline_deviation`` (bucket, hour, requests, bytes...)
            over ``[start - lookback, end)``.
        values: parameters (``start``, ``end``, ``lookback_days``, ``z_threshold``,
            ``min_ratio``, ``min_requests``, ``min_bytes``, ``min_samples``).
        config: unused (the baseline is per bucket whatever its profile).
    """
    start, end = pd.Timestamp(values["start"]), pd.Timestamp(values["end"])
    history_start = start - pd.Timedelta(days=int(values["lookback_days"]))
    columns = [
        "bucket", "source_ip", "principal", "first_seen", "last_seen", "event_count", "bytes", "metrics", "peak_requests",
        "median_requests", "peak_z", "hours", "baseline", "top_source", "top_source_share", "top_source_measure",
    ]
    if hourly.empty:
        return pd.DataFrame(columns=columns)
    data_start = pd.to_datetime(hourly["hour"], utc=True).min()
    grid = hourly_grid(hourly, max(history_start, data_start), end, ("requests", "bytes"))
    scored = robust_scores(grid, "requests", min_samples=int(values["min_samples"]), floor="sqrt")
    scored = robust_scores(scored.drop(columns=["baseline"]), "bytes", min_samples=int(values["min_samples"]), floor="ratio").assign(
        baseline=scored["baseline"]
    )
    z, ratio = float(values["z_threshold"]), float(values["min_ratio"])
    hot_requests = (scored["requests_z"] >= z) & (scored["requests"] >= ratio * scored["requests_median"]) & (scored["requests"] >= int(values["min_requests"]))
    hot_bytes = (scored["bytes_z"] >= z) & (scored["bytes"] >= ratio * scored["bytes_median"]) & (scored["bytes"] >= int(values["min_bytes"]))
    scored["hot_requests"], scored["hot_bytes"] = hot_requests, hot_bytes
    hot = scored[(hot_requests | hot_bytes) & (scored["hour"] >= start) & (scored["hour"] < end)].sort_values(["bucket", "hour"])
    rows = []
    for bucket, part in hot.groupby("bucket", sort=True):
        run_id = (part["hour"].diff() != pd.Timedelta(hours=1)).cumsum()
        for _, run in part.groupby(run_id):
            metrics = [name for name, flag in (("requests", run["hot_requests"].any()), ("bytes", run["hot_bytes"].any())) if flag]
            # A run hot in bytes alone names who took the bytes; otherwise who sent the requests.
            measure = "bytes" if metrics == ["bytes"] else "requests"
            source, share = _top_source(hourly, bucket, run["hour"], int(run[measure].sum()), measure)
            rows.append(
                {
                    "bucket": bucket,
                    # The finding names its actor when one address made most of the run's requests.
                    "source_ip": source if share >= TOP_SOURCE_SHARE else None,
                    "principal": None,
                    "first_seen": run["hour"].min(),
                    "last_seen": run["hour"].max() + pd.Timedelta(hours=1) - pd.Timedelta(microseconds=1),
                    "event_count": int(run["requests"].sum()),
                    "bytes": int(run["bytes"].sum()),
                    "metrics": " and ".join(metrics),
                    "peak_requests": int(run["requests"].max()),
                    "median_requests": float(run["requests_median"].median()),
                    "peak_z": round(float(np.nanmax(run[["requests_z", "bytes_z"]].to_numpy())), 1),
                    "hours": len(run),
                    "baseline": str(run["baseline"].iloc[0]),
                    "top_source": source,
                    "top_source_share": f"{share:.0%}",
                    "top_source_measure": measure,
                }
            )
    return pd.DataFrame(rows, columns=columns)


#: Share of a run's requests from one address above which the finding names that address.
TOP_SOURCE_SHARE = 0.5


def _top_source(hourly: pd.DataFrame, bucket: str, hours: pd.Series, total: int, measure: str = "requests") -> tuple[str | None, float]:
    """The address with most ``measure`` (requests or bytes) over the run's hours (from each
    hour's busiest) and its share of the run's total."""
    name, value = ("top_source", "top_source_requests") if measure == "requests" else ("top_bytes_source", "top_bytes_source_bytes")
    if name not in hourly.columns or total <= 0:
        return None, 0.0
    stamps = pd.to_datetime(hourly["hour"], utc=True)
    rows = hourly[(hourly["bucket"] == bucket) & stamps.isin(pd.to_datetime(hours, utc=True))]
    if rows.empty:
        return None, 0.0
    counts = rows.groupby(name)[value].sum().sort_index().sort_values(ascending=False, kind="stable")
    source = str(counts.index[0])
    return (None if source == "-" else source), float(counts.iloc[0]) / total


def _steady(days: int, per_hour: int, **fields: Any) -> tuple[dict[str, Any], ...]:
    rows: list[dict[str, Any]] = []
    for hour in range(days * 24):
        at = CASE_START - dt.timedelta(days=days - 1) + dt.timedelta(hours=hour)
        rows.extend(access(per_hour, at=at, every=dt.timedelta(seconds=3600 // per_hour), request_id=f"H{hour}-{{i}}", **fields))
    return tuple(rows)


#: Requests per hour of the steady history (every hour of three days before the window and of the window itself).
_PER_HOUR = 40
_STEADY = _steady(4, _PER_HOUR, bucket=CASE_DATA)
#: The spike: requests one a second from 14:00 (41 min 40 s) on the window's day, on top of that hour's steady ones.
_SPIKE, _SPIKE_AT = 2500, CASE_START + dt.timedelta(hours=14)
#: The address of the flood (a documentation address, RFC 5737).
_FLOODER = "203.0.113.90"

#: Five downloads of 400 MiB in the spike's hour: 2 GiB, far above the hour's usual bytes.
_HUGE, _HUGE_BYTES = 5, 400 * 1024 * 1024


def _spike_hour(source_ip: str | None) -> dict[str, Any]:
    """The finding of the spike's hour (steady and spike requests together), naming ``source_ip``."""
    return finding(
        bucket=CASE_DATA,
        source_ip=source_ip,
        principal=None,
        first_seen=_SPIKE_AT,
        last_seen=_SPIKE_AT + dt.timedelta(hours=1) - dt.timedelta(microseconds=1),
        event_count=_PER_HOUR + _SPIKE,
        bytes=(_PER_HOUR + _SPIKE) * CASE_BYTES,
    )


BASELINE_DEVIATION = Detection(
    id="baseline_deviation",
    title="Bucket activity far above its hour-of-week baseline",
    severity="medium",
    technique="T1530 Data from Cloud Storage",
    sources=("s3_access",),
    summary="{bucket}: {metrics} {peak_requests} requests in its busiest hour vs a median of {median_requests} ({baseline} baseline, z={peak_z}) over {hours} hour(s), {bytes_h} sent; busiest source {top_source} ({top_source_share} of the {top_source_measure})",
    runbook=(
        "Open the hours in question with s3_access__top_remote_ips and s3_access__top_requesters; "
        "a single dominant IP or principal points at a flood or an exfiltration (see the other "
        "detections in the same hours). A broad rise across many IPs is usually real traffic: a "
        "release, a link shared widely, a crawler."
    ),
    false_positives=("A site launch, a newsletter or a viral link", "Backfills and batch jobs on a new schedule", "Short logs: with under three days of history the baseline is all-hours"),
    limits=(("lookback_days", 1, 366), ("z_threshold", 1, 1000), ("min_ratio", 1, 1000), ("min_requests", 0, None), ("min_bytes", 0, None), ("min_samples", 1, 52)),
    extra_params=(
        Param("lookback_days", "integer", 28, False, "history before the window that forms the baseline, in days"),
        Param("z_threshold", "double", 8.0, False, "robust z-score (median/MAD) an hour must reach"),
        Param("min_ratio", "double", 4.0, False, "an hour must also be this many times its slot's median"),
        Param("min_requests", "integer", 2000, False, "fewest requests in an hour to report a request deviation"),
        Param("min_bytes", "bigint", 1073741824, False, "fewest bytes in an hour to report a bytes deviation"),
        Param("min_samples", "integer", 3, False, "fewest samples per slot (weeks for hour-of-week, days for hour-of-day)"),
    ),
    analyse=deviations,
    history_days_param="lookback_days",
    cases=(
        Case(
            "hour_far_above_baseline",
            True,
            s3_access=_STEADY + access(_SPIKE, at=_SPIKE_AT, every=dt.timedelta(seconds=1), bucket=CASE_DATA, request_id="SPIKE{i}", remote_ip=_FLOODER),
            # One hot hour, reported as the whole hour; the bytes stay under min_bytes but are
            # reported; the address that made 98% of the hour's requests is named.
            expect=(_spike_hour(source_ip=_FLOODER),),
        ),
        Case(
            "hour_far_above_baseline_from_many_addresses",
            True,
            s3_access=_STEADY + access(_SPIKE, at=_SPIKE_AT, every=dt.timedelta(seconds=1), bucket=CASE_DATA, request_id="WIDE{i}", remote_ip=lambda i: f"203.0.113.{i % 200 + 1}"),
            # No address made most of it (a viral link): the finding names none.
            expect=(_spike_hour(source_ip=None),),
        ),
        # An hour hot in bytes alone: a few huge downloads among the usual requests. The
        # finding names who took the bytes, not the address that sent the most requests.
        Case(
            "hour_of_huge_downloads_names_who_took_the_bytes",
            True,
            s3_access=_STEADY + access(_HUGE, at=_SPIKE_AT, every=dt.timedelta(minutes=1), bucket=CASE_DATA, request_id="HUGE{i}", remote_ip=_FLOODER, bytes_sent=_HUGE_BYTES, object_size=_HUGE_BYTES),
            expect=(
                finding(
                    bucket=CASE_DATA, source_ip=_FLOODER, principal=None, first_seen=_SPIKE_AT,
                    last_seen=_SPIKE_AT + dt.timedelta(hours=1) - dt.timedelta(microseconds=1),
                    event_count=_PER_HOUR + _HUGE, bytes=_PER_HOUR * CASE_BYTES + _HUGE * _HUGE_BYTES,
                ),
            ),
        ),
        Case(
            "busy_hour_below_floor",
            False,
            s3_access=_STEADY + access(200, at=CASE_START + dt.timedelta(hours=14), every=dt.timedelta(seconds=10), bucket=CASE_DATA, request_id="BUSY{i}"),
        ),
    ),
)
