"""The kit's vocabulary: one time parser, one window, one severity scale, one profile set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd
import pytest

from s3forensics.errors import ConfigError, ParameterError
from s3forensics.vocabulary import (
    FINDING_COLUMNS,
    FINDING_COUNTS,
    FINDING_TIMES,
    PROFILES,
    ROW_FIELDS,
    SEVERITIES,
    BucketProfile,
    Severity,
    Window,
    severity_rank,
    utc_time,
)

TEN = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-17T10:00:00Z",
        "2026-11-17T10:00:00z",
        " 2026-11-17T10:00:00+00:00 ",
        "2026-11-17T10:00:00+0000",  # CloudWatch alarm state timestamps
        "2026-11-17T11:30:00+01:30",
        "2026-11-17T05:00:00-05:00",
        "2026-11-17 10:00",  # no offset: UTC
        datetime(2026, 11, 17, 10, 0),  # naive: UTC
        datetime(2026, 11, 17, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        pd.Timestamp("2026-11-17T10:00:00Z"),
    ],
)
def test_every_way_of_writing_a_time_gives_the_same_utc_instant(value: object) -> None:
    parsed = utc_time(value)
    assert parsed == TEN and parsed.utcoffset() == timedelta(0) and parsed.tzinfo is UTC


def test_a_date_is_its_midnight_in_utc() -> None:
    assert utc_time("2026-11-17") == utc_time(date(2026, 11, 17)) == datetime(2026, 11, 17, tzinfo=UTC)


@pytest.mark.parametrize(("value", "message"), [
    ("yesterday", r"--start: 'yesterday' is not an ISO-8601 timestamp"),
    ("2026-13-01", r"--start: '2026-13-01' is not an ISO-8601"),
    ("", r"--start: '' is not an ISO-8601"),
    (1700000000, r"--start: expected a timestamp, got int 1700000000"),
    (None, r"--start: expected a timestamp, got NoneType"),
])
def test_a_bad_time_names_the_parameter(value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        utc_time(value, "--start")


def test_a_window_parses_both_bounds_and_unpacks() -> None:
    window = Window.parse("2026-11-17T10:00:00Z", "2026-11-18")
    start, end = window
    assert (start, end) == (TEN, datetime(2026, 11, 18, tzinfo=UTC))
    assert window.bounded and TEN in window and end not in window and start - timedelta(seconds=1) not in window
    assert Window.parse(window) == window


@pytest.mark.parametrize("end", ["2026-11-17T10:00:00Z", "2026-11-17T09:59:59Z"])
def test_a_window_must_end_after_it_starts(end: str) -> None:
    with pytest.raises(ParameterError, match=r"^detect: the window ends before it starts: END \(2026-11-17T(10:00:00|09:59:59)\+00:00\) must be after START \(2026-11-17T10:00:00\+00:00\)$"):
        Window.parse("2026-11-17T10:00:00Z", end, names=("START", "END"), context="detect")


def test_open_bounds_stay_open_unless_both_are_required() -> None:
    assert tuple(Window.parse(None, "2026-11-17T10:00:00Z")) == (None, TEN)
    assert tuple(Window.parse("", None)) == (None, None) and not Window.parse().bounded
    assert datetime(1970, 1, 1, tzinfo=UTC) in Window.parse(None, "2026-11-17T10:00:00Z")
    with pytest.raises(ParameterError, match=r"^--end is required"):
        Window.parse("2026-11-17", None, names=("--start", "--end"), bounded=True)


def test_one_severity_scale_most_severe_first() -> None:
    assert SEVERITIES == ("critical", "high", "medium", "low", "info")
    assert sorted(["low", "critical", "info", "high", "medium"], key=severity_rank) == list(SEVERITIES)
    assert [s.rank for s in Severity] == [0, 1, 2, 3, 4]
    assert severity_rank("HIGH") == 1 and severity_rank(" critical ") == 0
    assert severity_rank("informational") == severity_rank(None) == severity_rank(float("nan")) == 5
    assert Severity.parse("Medium") is Severity.MEDIUM and Severity.MEDIUM == "medium"
    with pytest.raises(ParameterError, match=r"severity 'severe' is not one of critical, high, medium, low, info"):
        Severity.parse("severe")


def test_checks_and_detections_are_held_to_the_one_scale() -> None:
    from s3forensics.checks import CHECKS
    from s3forensics.detections import DETECTIONS

    assert {c.severity for c in CHECKS} <= set(SEVERITIES)
    assert {d.severity for d in DETECTIONS} <= set(SEVERITIES)


def test_bucket_profiles() -> None:
    from s3forensics.detections import BucketConfig, DetectionConfig

    assert PROFILES == ("public_site", "private_data", "cloudfront")
    assert BucketProfile.parse("public_site") is BucketProfile.PUBLIC_SITE
    assert BucketConfig(profile="public_site").profile is BucketProfile.PUBLIC_SITE
    assert DetectionConfig().profile("any-bucket") == "private_data"
    with pytest.raises(ConfigError, match=r"bucket profile 'website' is not one of public_site, private_data, cloudfront"):
        BucketConfig(profile="website")
    with pytest.raises(ParameterError, match=r"BUCKET_PROFILE 'x' is not one of"):
        BucketProfile.parse("x", "BUCKET_PROFILE")


def test_the_finding_columns_are_the_detect_contract() -> None:
    """`detect --format json` and CSV carry these columns in this order; columns are added, never renamed."""
    assert FINDING_COLUMNS[:3] == ("detection_id", "title", "severity")
    assert set(ROW_FIELDS) | set(FINDING_TIMES) | set(FINDING_COUNTS) <= set(FINDING_COLUMNS)
    assert len(set(FINDING_COLUMNS)) == len(FINDING_COLUMNS) == 12


def test_the_sources_refuse_a_window_that_ends_first(tmp_path) -> None:
    from s3forensics.sources import load_cloudtrail, load_s3_access

    for load in (load_s3_access, load_cloudtrail):
        with pytest.raises(ParameterError, match="the window ends before it starts"):
            load([tmp_path], "2026-11-18", "2026-11-17")


@pytest.mark.parametrize(("start", "end", "name"), [
    ("0001-01-01", "9999-12-31", "start"),  # `detect --start 0001-01-01 --end 9999-12-31` overflowed a timedelta
    ("0999-01-01", "1000-01-01", "start"),  # partition names of year 999 matched nothing on Athena
    ("2026-11-16", "9999-12-31", "end"),
])
def test_a_window_bound_outside_the_supported_span_is_refused(start: str, end: str, name: str) -> None:
    with pytest.raises(ParameterError, match=rf"^detect: {name} \(.*\) is outside the times a window may span \(1970-01-01 to 2200-01-01\)$"):
        Window.parse(start, end, context="detect")
    assert Window.parse("1970-01-01", "2200-01-01").bounded  # the widest window there is
