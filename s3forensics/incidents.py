"""The verdict first: findings grouped into incidents, and where the evidence is blind.

A responder reads incidents, not findings. One actor doing one thing (a role reading a
bucket empty, then deleting it) trips several detections over several periods; shown as
findings that is a page of rows, shown as an incident it is one row that answers: what
happened, who, from where, how much, and is it still going on.

:func:`group_incidents` joins two findings into one incident when they share an actor (the
same source address, or the same principal, an assumed role by its role whatever the
session) and their times are within ``gap`` of each other; a finding with no actor (a whole
bucket's traffic) is grouped with the same detection on the same bucket. Each incident
carries the worst detection's runbook and known false positives. How much is the largest
finding's events and bytes: the findings of one incident often count the same requests.

:func:`blind_spots` says what the logs in hand cannot show: a source missing, logs that
end before the window does, a bucket whose access logs stop while the others go on (the
shape of logging switched off), a bucket seen in CloudTrail with no access logs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from s3forensics.display import human_bytes, human_time
from s3forensics.vocabulary import SEVERITIES, severity_rank

#: Two findings of one actor this close in time are one incident.
DEFAULT_GAP = dt.timedelta(hours=2)
#: An incident whose last finding is this close to the end of the logs is still going on.
STILL_GOING = dt.timedelta(minutes=30)
#: Logs that end this long before the window does have a gap worth saying.
LOGS_END_SLACK = dt.timedelta(hours=1)
#: A bucket whose access logs stop this long before the other buckets' has gone dark.
BUCKET_DARK = dt.timedelta(hours=6)

INCIDENT_COLUMNS = (
    "incident",
    "severity",
    "what",
    "who",
    "from_where",
    "buckets",
    "first_seen",
    "last_seen",
    "still_going",
    "events",
    "bytes",
    "findings",
    "detections",
    "headline",
    "next_step",
    "false_positives",
)

_ROLE = re.compile(r"^(arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+)/")


def actor_of(principal: Any) -> str | None:
    """The principal an incident is keyed by: an assumed role by its role (sessions change
    every hour on many platforms), anything else as written; None when anonymous."""
    if principal is None or (not isinstance(principal, str) and pd.isna(principal)) or not str(principal).strip():
        return None
    match = _ROLE.match(str(principal))
    return match.group(1) if match else str(principal)


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _listed(values: list[str], most: int = 3) -> str:
    unique = list(dict.fromkeys(v for v in values if v))
    if not unique:
        return "-"
    shown = ", ".join(unique[:most])
    return shown if len(unique) <= most else f"{shown} and {len(unique) - most:,} more"


class _Groups:
    """Union-find over row positions."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _metadata() -> Mapping[str, Any]:
    from s3forensics.detections.registry import DETECTIONS

    return {d.id: d for d in DETECTIONS}


def group_incidents(
    findings: pd.DataFrame,
    *,
    gap: dt.timedelta = DEFAULT_GAP,
    logs_end: Any = None,
) -> pd.DataFrame:
    """Findings grouped into incidents, worst first (see the module's docstring).

    Args:
        findings: the run's findings (the columns of ``FINDING_COLUMNS``).
        gap: largest pause between two findings of one actor inside one incident.
        logs_end: when the logs in hand end; with it, ``still_going`` says whether the
            incident was still active then. Without it, the latest finding's end is used.

    Returns:
        One row per incident with :data:`INCIDENT_COLUMNS`; ``incident`` numbers them 1..n
        worst first, and ``findings_of`` (not shown) maps each incident to its findings'
        row labels in ``findings``.
    """
    if findings is None or findings.empty:
        return pd.DataFrame(columns=[*INCIDENT_COLUMNS, "findings_of"])
    rows = findings.copy()
    rows["_first"] = pd.to_datetime(rows["first_seen"], utc=True)
    rows["_last"] = pd.to_datetime(rows["last_seen"], utc=True).fillna(rows["_first"])
    rows = rows.sort_values(["_first", "_last"], kind="stable")
    labels = list(rows.index)
    groups = _Groups(len(rows))
    recent: dict[tuple[str, ...], tuple[int, pd.Timestamp]] = {}
    columns = zip(rows["_first"], rows["_last"], rows["source_ip"], rows["principal"], rows["bucket"], rows["detection_id"], strict=True)
    for position, (first, last, source_ip, principal, bucket, detection_id) in enumerate(columns):
        keys: list[tuple[str, ...]] = []
        ip = _text(source_ip)
        who = actor_of(principal)
        if ip:
            keys.append(("ip", ip))
        if who:
            keys.append(("principal", who))
        if not keys:
            keys.append(("bucket", str(_text(bucket) or "-"), str(detection_id)))
        for key in keys:
            seen = recent.get(key)
            if seen is not None and first <= seen[1] + gap:
                groups.join(position, seen[0])
                recent[key] = (seen[0], max(seen[1], last))
            else:
                recent[key] = (position, last)
    rows["_group"] = [groups.find(i) for i in range(len(rows))]
    rows["_label"] = labels
    rows["_rank"] = rows["severity"].map(severity_rank)
    rows["_events"] = pd.to_numeric(rows["event_count"], errors="coerce")
    rows["_bytes"] = pd.to_numeric(rows["bytes"], errors="coerce")
    # Worst finding first inside each incident; then one pass in plain Python (a pandas
    # group per incident cost a minute for 10,000 incidents).
    rows = rows.sort_values(["_group", "_rank", "_first"], kind="stable")
    members: dict[int, list[dict[str, Any]]] = {}
    for record in rows[["_group", "_label", "_rank", "_first", "_last", "_events", "_bytes", "severity", "detection_id", "source_ip", "principal", "bucket", "summary", "title"]].to_dict("records"):
        members.setdefault(record["_group"], []).append(record)
    end = pd.to_datetime(logs_end, utc=True) if logs_end is not None else rows["_last"].max()
    meta = _metadata()
    out = []
    for part in members.values():
        worst = part[0]
        detection = meta.get(str(worst["detection_id"]))
        ids = list(dict.fromkeys(str(r["detection_id"]) for r in part))
        titles = [meta[i].title if i in meta else i for i in ids]
        first, last = min(r["_first"] for r in part), max(r["_last"] for r in part)
        behind = end - last
        still = (
            f"yes: active until the logs end ({human_time(end, seconds=False)})"
            if behind <= STILL_GOING
            else f"no: last seen {_duration(behind)} before the logs end"
        )
        principals = [str(r["principal"]) for r in part if _text(r["principal"])]
        anonymous = any(not _text(r["principal"]) and _text(r["source_ip"]) for r in part)
        who_text = _listed([actor_of(p) or "" for p in principals])
        if anonymous:
            who_text = "anonymous" if who_text == "-" else f"{who_text}; anonymous"
        events = [r["_events"] for r in part if not pd.isna(r["_events"])]
        sizes = [r["_bytes"] for r in part if not pd.isna(r["_bytes"])]
        out.append(
            {
                "severity": str(worst["severity"]),
                "what": "; ".join(titles),
                "who": who_text,
                "from_where": _listed([str(r["source_ip"]) for r in part if _text(r["source_ip"])]),
                "buckets": _listed([str(r["bucket"]) for r in part if _text(r["bucket"])]),
                "first_seen": first,
                "last_seen": last,
                "still_going": still,
                # The largest finding's count: findings of one incident often count the
                # same requests (a large egress is also a new reader's reads).
                "events": int(max(events)) if events else 0,
                "bytes": int(max(sizes)) if sizes else None,
                "findings": len(part),
                "detections": ", ".join(ids),
                "headline": str(_text(worst["summary"]) or _text(worst["title"]) or ""),
                "next_step": detection.runbook if detection else "",
                "false_positives": "; ".join(detection.false_positives) if detection else "",
                "findings_of": [r["_label"] for r in part],
                "_rank": int(worst["_rank"]),
            }
        )
    frame = pd.DataFrame(out).sort_values(["_rank", "first_seen"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    frame.insert(0, "incident", range(1, len(frame) + 1))
    return frame[[*INCIDENT_COLUMNS, "findings_of"]]


def _duration(delta: pd.Timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def incident_lines(incidents: pd.DataFrame, most: int = 10) -> str:
    """The verdict as Markdown: a count by severity, then one paragraph per incident (worst
    first, at most ``most``) saying what, who, from where, how much and whether it goes on."""
    if incidents.empty:
        return "**No incident.** No detection fired in this window."
    counts = incidents["severity"].value_counts()
    levels = ", ".join(f"{int(counts[s])} {s}" for s in SEVERITIES if s in counts)
    lines = [f"**{len(incidents):,} incident(s)** ({levels}), from {int(incidents['findings'].sum()):,} finding(s)."]
    for row in incidents.head(most).itertuples(index=False):
        amount = f"{row.events:,} event(s)" + (f", {human_bytes(row.bytes)}" if row.bytes else "")
        lines.append(
            f"{row.incident}. **{row.severity}: {row.what}.** Who: {row.who}, from {row.from_where}, on {row.buckets}; "
            f"{human_time(row.first_seen, seconds=False)} to {human_time(row.last_seen, seconds=False)} UTC; {amount}. "
            f"Still going on? {row.still_going}. {row.headline}"
        )
    if len(incidents) > most:
        lines.append(f"... and {len(incidents) - most:,} more in the table below.")
    return "\n\n".join(lines)


def blind_spots(
    coverage: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    sources: Mapping[str, bool] | None = None,
    findings: pd.DataFrame | None = None,
    now: Any = None,
) -> pd.DataFrame:
    """What the logs in hand cannot show, one row each: ``kind, where, since, detail``.

    Args:
        coverage: the ``coverage__bucket_sources`` rows (bucket, source, row_count,
            first_time, last_time).
        start, end: the window.
        sources: source -> whether any location was given (a source not given is blind
            everywhere); default: both given.
        findings: the run's findings: a ``logging_evasion`` finding names when and by whom
            a bucket's logging was switched off.
        now: the current time (a window that ends in the future is not "logs ending").
    """
    start_ts, end_ts = pd.to_datetime(start, utc=True), pd.to_datetime(end, utc=True)
    now_ts = pd.to_datetime(now, utc=True) if now is not None else pd.Timestamp.now(tz="UTC")
    horizon = min(end_ts, now_ts)
    given = {"s3_access": True, "cloudtrail": True, **(sources or {})}
    evasions = findings[findings["detection_id"] == "logging_evasion"] if findings is not None and not findings.empty else pd.DataFrame(columns=["bucket"])
    switched_off = set(evasions["bucket"].dropna().astype(str))
    out: list[dict[str, Any]] = []
    names = {"s3_access": "server access logs", "cloudtrail": "CloudTrail"}
    frame = coverage.copy() if coverage is not None else pd.DataFrame(columns=["bucket", "source", "row_count", "first_time", "last_time"])
    for column in ("first_time", "last_time"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for source, name in names.items():
        rows = frame[frame["source"] == source]
        if not given.get(source):
            what = "who read, wrote or deleted objects" if source == "s3_access" else "who changed policies, logging or versioning, and with which credentials"
            out.append({"kind": "source missing", "where": "all buckets", "since": start_ts, "detail": f"no {name} given: {what} cannot be seen"})
            continue
        if rows.empty:
            out.append({"kind": "source empty", "where": "all buckets", "since": start_ts, "detail": f"the {name} given hold no row in this window"})
            continue
        last = rows["last_time"].max()
        if horizon - last > LOGS_END_SLACK:
            out.append({"kind": "logs end early", "where": "all buckets", "since": last, "detail": f"{name} end at {human_time(last)} UTC, {_duration(horizon - last)} before the window does"})
        if source != "s3_access":
            continue  # CloudTrail's S3 events are sparse: a quiet bucket there is not a dark one
        for row in rows.itertuples(index=False):
            if last - row.last_time > BUCKET_DARK and row.bucket not in switched_off:
                out.append(
                    {
                        "kind": "bucket goes dark",
                        "where": row.bucket,
                        "since": row.last_time,
                        "detail": f"{name} of {row.bucket} stop at {human_time(row.last_time)} UTC while other buckets' go on until {human_time(last)}: blind since then",
                    }
                )
    if given.get("s3_access"):
        logged = set(frame.loc[frame["source"] == "s3_access", "bucket"])
        for bucket in sorted(set(frame.loc[frame["source"] == "cloudtrail", "bucket"]) - logged):
            out.append({"kind": "no access logs", "where": bucket, "since": start_ts, "detail": f"{bucket} has CloudTrail events but no server access log rows in this window"})
    if not evasions.empty:
        for row in evasions.itertuples(index=False):
            out.append(
                {
                    "kind": "logging switched off",
                    "where": str(row.bucket or "-"),
                    "since": pd.to_datetime(row.first_seen, utc=True),
                    "detail": f"{str(row.summary).rstrip('.')}. Blind since {human_time(row.first_seen)} UTC.",
                }
            )
    result = pd.DataFrame(out, columns=["kind", "where", "since", "detail"])
    return result.sort_values(["since", "kind"], kind="stable").reset_index(drop=True)
