"""Run detections over an engine and shape their rows into findings.

Each detection runs on its own: a bad parameter, a missing source or an engine error
becomes a message in :attr:`DetectionRun.errors` and the others still run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from s3forensics.detections.base import Detection
from s3forensics.detections.config import DetectionConfig
from s3forensics.display import human_bytes
from s3forensics.errors import ParameterError, S3ForensicsError
from s3forensics.queries import coerce_value, load_query
from s3forensics.vocabulary import FINDING_COLUMNS, FINDING_COUNTS, FINDING_TIMES, ROW_FIELDS, Window

log = logging.getLogger(__name__)

#: Most sample keys / request ids kept in a finding's evidence.
MAX_SAMPLES = 10

_SOURCE_NAMES = {"s3_access": "S3 server access logs", "cloudtrail": "CloudTrail logs"}


@dataclass(frozen=True)
class DetectionRun:
    """The result of :func:`run_detections`.

    Attributes:
        findings: one row per grouped finding, columns :data:`FINDING_COLUMNS`.
        errors: detection id -> why it did not run (or ran incompletely).
        warnings: input problems that do not stop a detection (an empty window...).
        start: analysed window start (UTC).
        end: analysed window end (UTC).
        seconds: detection id -> wall-clock seconds.
        profiles: bucket -> its profile and why (given, inferred from evidence, or default).
    """

    findings: pd.DataFrame
    errors: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    seconds: Mapping[str, float] = field(default_factory=dict)
    profiles: Mapping[str, Any] = field(default_factory=dict)


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and the contract's columns and dtypes."""
    frame = pd.DataFrame({name: pd.Series([], dtype="object") for name in FINDING_COLUMNS})
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in FINDING_COLUMNS:
        if column in FINDING_TIMES:
            out[column] = pd.to_datetime(out[column], utc=True)
        elif column in FINDING_COUNTS:
            out[column] = pd.array(out[column], dtype="Int64")
        else:
            out[column] = out[column].astype("object").where(out[column].notna(), None)
    return out[list(FINDING_COLUMNS)]


def resolve_params(detection: Detection, overrides: Mapping[str, Any] | None, config: DetectionConfig) -> dict[str, Any]:
    """Typed values of every parameter of ``detection`` (defaults, config, overrides).

    Raises:
        ParameterError: an unknown parameter, an ill-typed value, or one out of range
            (the message names the detection and the parameter).
    """
    declared = {p.name: p for p in detection.parameters()}
    values: dict[str, Any] = {name: p.default for name, p in declared.items()}
    for name, value in config.query_params().items():
        if name in declared:
            values[name] = value
    given = {**dict(config.params.get(detection.id, {})), **dict(overrides or {})}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(
            f"detection {detection.id}: unknown parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(declared))})"
        )
    for name, value in given.items():
        try:
            values[name] = coerce_value(declared[name].type, value, f"{detection.id}.{name}")
        except ParameterError as exc:
            raise ParameterError(f"detection {detection.id}: {exc}") from exc
    for name, low, high in detection.limits:
        value = values.get(name)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{'-inf' if low is None else low}..{'inf' if high is None else high}"
            raise ParameterError(f"detection {detection.id}: parameter {name}={value!r} is out of range ({bounds})")
    return values


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [v for v in value if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return [value]


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() and abs(value) < 2**63 else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return pd.Timestamp(value).tz_convert("UTC").isoformat().replace("+00:00", "Z") if pd.Timestamp(value).tzinfo else pd.Timestamp(value).isoformat()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def to_findings(detection: Detection, rows: pd.DataFrame, config: DetectionConfig, profiles: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Shape a detection's grouped rows into findings, dropping allowlisted sources."""
    records = []
    for row in rows.to_dict("records"):
        bucket = _plain(row.get("bucket"))
        source_ip = _plain(row.get("source_ip"))
        principal = _plain(row.get("principal"))
        user_agent = _plain(row.get("user_agent"))
        if config.allowed(bucket, source_ip, principal, user_agent):
            log.debug("%s: allowlisted %s %s %s", detection.id, bucket, source_ip, principal)
            continue
        keys: set[str] = set()
        request_ids: set[str] = set()
        details: dict[str, Any] = {}
        for name, value in row.items():
            if name.startswith("sample_key"):
                keys.update(str(v) for v in _as_list(value))
            elif name.startswith("sample_request"):
                request_ids.update(str(v) for v in _as_list(value))
            elif name not in ROW_FIELDS:
                details[name] = _plain(value)
        fields = _Fields({k: ("-" if v is None else v) for k, v in {**details, "bucket": bucket, "source_ip": source_ip, "principal": principal}.items()})
        fields["event_count"] = _plain(row.get("event_count"))
        fields["bytes_h"] = human_bytes(_plain(row.get("bytes")))
        fields["profile"] = config.profile(bucket)
        fields["actor"] = principal or source_ip or "-"
        try:
            summary = detection.summary.format_map(fields)
        except (ValueError, KeyError, IndexError) as exc:  # a template bug must not hide the finding
            summary = f"{detection.title} ({exc})"
        evidence = {
            "sample_keys": sorted(keys)[:MAX_SAMPLES],
            "request_ids": sorted(request_ids)[:MAX_SAMPLES],
            **details,
        }
        if profiles and bucket in profiles:
            # Which profile judged this bucket, and why (given, or the evidence it was read from).
            evidence["bucket_profile"] = profiles[bucket].profile
            evidence["bucket_profile_reason"] = f"{profiles[bucket].source}: {profiles[bucket].reason}"
        records.append(
            {
                "detection_id": detection.id,
                "title": detection.title,
                "severity": detection.severity,
                "first_seen": row.get("first_seen"),
                "last_seen": row.get("last_seen"),
                "bucket": bucket,
                "source_ip": source_ip,
                "principal": principal,
                "event_count": _plain(row.get("event_count")),
                "bytes": _plain(row.get("bytes")),
                "summary": summary,
                "evidence": json.dumps(evidence, sort_keys=True, default=str),
            }
        )
    if not records:
        return empty_findings()
    return _typed(pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS)))


def check_window(engine: Any, start: dt.datetime, end: dt.datetime, sources: Collection[str] | None = None) -> tuple[dict[str, int], list[str]]:
    """Rows of each source in the window, and a warning for each source without any."""
    counts: dict[str, int] = {}
    warnings: list[str] = []
    try:
        frame = engine.run("coverage__window_rows", start=start, end=end)
    except S3ForensicsError as exc:
        return counts, [f"could not count input rows: {exc}"]
    for row in frame.to_dict("records"):
        counts[str(row["source"])] = int(row["row_count"])
    for source, rows in counts.items():
        if rows == 0 and (sources is None or source in sources):
            warnings.append(
                f"no {_SOURCE_NAMES.get(source, source)} rows between {start.isoformat()} and {end.isoformat()}"
            )
    return counts, warnings


#: Findings of one detection on one bucket above which the bucket's profile is probably wrong.
PROFILE_HINT_FINDINGS = 50


def _profile_hints(detection: Detection, found: pd.DataFrame, config: DetectionConfig) -> list[str]:
    """Hints when a private-profile bucket behaves like a public site (noisy findings)."""
    if detection.id not in ("anonymous_access_private", "insecure_transport") or found.empty:
        return []
    hints = []
    for bucket, count in found["bucket"].value_counts().items():
        if count > PROFILE_HINT_FINDINGS and config.profile(bucket) == "private_data":
            hints.append(
                f"{detection.id}: {count} findings on {bucket}; if it is a public static site, give it the public_site profile "
                f"(--profile {bucket}=public_site)"
            )
    return hints


def run_detections(
    engine: Any,
    start: Any,
    end: Any,
    *,
    ids: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    config: DetectionConfig | None = None,
    sources: Collection[str] | None = None,
    infer_profiles: bool = True,
) -> DetectionRun:
    """Run detections over ``[start, end)`` and return their findings.

    Args:
        engine: a query engine (``DuckDBEngine``, ``AthenaEngine``) with ``run``.
        start: window start (ISO text or datetime; naive = UTC), inclusive.
        end: window end, exclusive.
        ids: detection ids to run (default: all of ``DETECTIONS``).
        params: detection id -> parameter overrides.
        config: bucket profiles and allowlists (default: every bucket private, no allowlist).
        sources: logical tables that hold data (None: assume all). A detection whose
            sources are all absent is skipped with a message.
        infer_profiles: read each unconfigured bucket's profile from the logs
            (:mod:`s3forensics.detections.profiles`); False: unconfigured buckets take the
            configured default.

    Raises:
        ParameterError: the window is invalid, or ``ids``/``params`` name unknown detections.
    """
    from s3forensics.detections.registry import DETECTIONS, get_detection

    start_ts, end_ts = Window.parse(start, end, bounded=True, context="detect")
    config = config or DetectionConfig()
    chosen = [get_detection(i) for i in ids] if ids is not None else list(DETECTIONS)
    profiles: dict[str, Any] = {}
    if infer_profiles:
        from s3forensics.detections.profiles import infer_profiles as infer
        from s3forensics.detections.profiles import with_profiles

        profiles = infer(engine, start_ts, end_ts, config, sources)
        config = with_profiles(config, profiles)
    params = dict(params or {})
    unknown = sorted(set(params) - {d.id for d in DETECTIONS})
    if unknown:
        raise ParameterError(f"detect: parameters given for unknown detection(s): {', '.join(unknown)}")

    needed = {s for d in chosen for s in d.sources}
    if sources is not None:
        needed &= set(sources)
    _, warnings = check_window(engine, start_ts, end_ts, needed)
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    frames: list[pd.DataFrame] = []
    for detection in chosen:
        started = time.perf_counter()
        if sources is not None:
            missing = [s for s in detection.sources if s not in sources]
            if len(missing) == len(detection.sources):
                errors[detection.id] = "skipped: needs " + " or ".join(_SOURCE_NAMES.get(s, s) for s in missing) + ", none given"
                continue
            if missing:
                warnings.append(f"{detection.id}: ran without {', '.join(_SOURCE_NAMES.get(s, s) for s in missing)} (none given)")
        try:
            values = resolve_params(detection, params.get(detection.id), config)
            query = load_query(detection.query_id)
            query_values = {p.name: values[p.name] for p in query.params if p.name in values}
            query_start = start_ts
            if detection.history_days_param:
                query_start = start_ts - dt.timedelta(days=int(values[detection.history_days_param]))
            rows = engine.run(detection.query_id, start=query_start, end=end_ts, **query_values)
            if detection.analyse is not None:
                rows = detection.analyse(rows, {**values, "start": start_ts, "end": end_ts}, config)
            found = to_findings(detection, rows, config, profiles)
        except S3ForensicsError as exc:
            log.warning("detection %s failed: %s", detection.id, exc)
            errors[detection.id] = str(exc)
            continue
        finally:
            seconds[detection.id] = time.perf_counter() - started
        log.info("detection %s: %d finding(s) in %.2fs", detection.id, len(found), seconds[detection.id])
        warnings.extend(_profile_hints(detection, found, config))
        if len(found):
            frames.append(found)
    findings = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    findings = findings.sort_values(["first_seen", "detection_id", "bucket", "source_ip"], na_position="last", kind="stable")
    return DetectionRun(
        findings=findings.reset_index(drop=True),
        errors=errors,
        warnings=tuple(warnings),
        start=start_ts,
        end=end_ts,
        seconds=seconds,
        profiles=profiles,
    )
