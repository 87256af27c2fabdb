"""One call that turns notebook parameters into loaded logs and a query engine.

Notebooks stay thin: they name where the logs are and which window matters, and get back
an :class:`Investigation` with a DuckDB engine over the Parquet cache, the load reports,
and the window. An investigation is handed where its logs are and which account they belong
to (a :class:`Target`); it starts nothing. The notebooks' offline default, the sandbox
account with the demo world, is the lab's :func:`s3forensics.lab.demo.job.use_sandbox`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.config import notebook_cache_dir
from s3forensics.errors import ParameterError, S3ForensicsError
from s3forensics.vocabulary import SEVERITIES, Window, severity_rank, utc_time

log = logging.getLogger(__name__)


def parse_window(start: str | datetime, end: str | datetime) -> tuple[datetime, datetime]:
    """``(start, end)`` of the notebooks' ``START``/``END`` as UTC datetimes; ``end`` after ``start``."""
    s, e = Window.parse(start, end, names=("START", "END"), bounded=True)
    return s, e


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


@dataclass
class Investigation:
    """Loaded logs for a window, and the engine to query them."""

    engine: Any
    start: datetime
    end: datetime
    reports: dict[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    own_accounts: tuple[str, ...] = ()
    _bucket_sources: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def run(self, query_id: str, **params: Any) -> pd.DataFrame:
        """Run a query from ``queries/`` over this window (``start``/``end`` filled in)."""
        from s3forensics.queries import load_query

        declared = {p.name for p in load_query(query_id).params}
        window = {k: v for k, v in (("start", self.start), ("end", self.end)) if k in declared}
        return self.engine.run(query_id, **{**window, **params})

    def detect(
        self,
        profiles: Mapping[str, str] | None = None,
        *,
        allow_cidrs: Sequence[str] = (),
        allow_principals: Sequence[str] = (),
        params: Mapping[str, Mapping[str, Any]] | None = None,
        ids: Sequence[str] | None = None,
    ) -> Any:
        """Run the detection catalogue over this window.

        Args:
            profiles: bucket -> ``public_site`` | ``private_data`` (unlisted: private).
            allow_cidrs: networks never reported.
            allow_principals: principals (ARNs or fnmatch patterns) never reported.
            params: detection id -> parameter overrides.
            ids: detections to run (default: all).

        Returns:
            A ``DetectionRun`` with ``findings`` and per-detection ``errors``.
        """
        from s3forensics.detections import run_detections
        from s3forensics.detections.config import Allowlist, BucketConfig, DetectionConfig

        config = DetectionConfig(
            buckets={name: BucketConfig(profile=profile) for name, profile in (profiles or {}).items()},
            allow=Allowlist(cidrs=tuple(allow_cidrs), principals=tuple(allow_principals)),
            own_accounts=tuple(self.own_accounts),
        )
        return run_detections(
            self.engine, self.start, self.end, config=config, params=params, ids=ids, sources=tuple(self.reports) or None
        )

    def bucket_sources(self) -> pd.DataFrame:
        """``coverage__bucket_sources`` over this window, queried once (the verdict and the
        setup checks' coverage both read it)."""
        if self._bucket_sources is None:
            self._bucket_sources = self.run("coverage__bucket_sources")
        return self._bucket_sources

    def verdict(self, findings: pd.DataFrame) -> Verdict:
        """The incidents in ``findings`` and the blind spots of the logs in hand.

        "Still going on" is judged against the end of the logs loaded, not of the window.
        """
        from s3forensics.incidents import blind_spots, group_incidents

        coverage = self.bucket_sources()
        ends = pd.to_datetime(coverage["last_time"], utc=True) if not coverage.empty else pd.Series(dtype="datetime64[ns, UTC]")
        logs_end = ends.max() if len(ends) else None
        incidents = group_incidents(findings, logs_end=logs_end)
        given = {source: source in self.reports for source in ("s3_access", "cloudtrail")} if self.reports else None
        spots = blind_spots(coverage, start=self.start, end=self.end, sources=given, findings=findings)
        return Verdict(incidents=incidents, blind_spots=spots, logs_end=logs_end)

    def setup_checks(self, buckets: Sequence[str] = (), *, enabled: bool = True) -> SetupSummary:
        """Run the setup checks (through the standard AWS chain) for these buckets.

        With ``enabled=False`` nothing is called: the checks' tables are empty and the
        coverage is what the logs in hand show.
        """
        from s3forensics.checks import results_frame, run_checks
        from s3forensics.checks.coverage import coverage_frame, seen_in_logs

        results = run_checks(buckets=list(buckets) or None) if enabled else []
        frame = results_frame(results)
        failing = frame[frame["status"] != "PASS"].sort_values(["status", "severity", "check_id"]).reset_index(drop=True)
        # What the checks could not decide (no credentials, no permission), the logs in hand answer.
        seen = seen_in_logs(self.bucket_sources())
        if buckets:
            seen = {b: s for b, s in seen.items() if b in set(buckets)}
        return SetupSummary(results=frame, failing=failing, coverage=coverage_frame(results, seen))

    def load_summary(self) -> pd.DataFrame:
        """One row per source: what this load parsed, and what the window now holds.

        ``files_parsed`` and ``lines_read`` count only what was fetched and parsed now (0
        when the window was already in the cache); ``rows_in_window`` counts what the
        queries will see. ``all_lines_accounted`` checks lines read == rows + rejected +
        rows outside the window.
        """
        held = self.run("coverage__window_rows").set_index("source")
        rows = []
        for source, report in self.reports.items():
            rows.append(
                {
                    "source": source,
                    "files_parsed": report.files,
                    "lines_read": report.lines_read,
                    "rows_parsed": report.rows,
                    "rejected": report.rejected,
                    "outside_window": report.outside_window,
                    "skipped_files": len(report.skipped_files),
                    "all_lines_accounted": report.lines_read
                    == report.rows + report.rejected + report.outside_window,
                    "rows_in_window": int(held.loc[source, "row_count"]) if source in held.index else 0,
                    "first_time": held.loc[source, "first_time"] if source in held.index else None,
                    "last_time": held.loc[source, "last_time"] if source in held.index else None,
                }
            )
        return pd.DataFrame(rows)

    def require_rows(self, frame: pd.DataFrame, what: str = "access-log rows") -> pd.DataFrame:
        """Stop with one clear sentence when a query over the window came back empty."""
        if frame.empty:
            raise S3ForensicsError(
                f"No {what} between {self.start:%Y-%m-%d %H:%M} and {self.end:%Y-%m-%d %H:%M} UTC: "
                "widen the period the report covers (its window parameters) or point the log "
                "parameters at the right location."
            )
        return frame


@dataclass(frozen=True)
class Target:
    """The account an investigation reads.

    Attributes:
        name: keys the Parquet cache, so that two accounts' rows never mix.
        own_accounts: account ids that are yours (cross-account detections).
    """

    name: str = "default"
    own_accounts: tuple[str, ...] = ()


def open_investigation(
    s3_access: str | Sequence[str] | None,
    cloudtrail: str | Sequence[str] | None,
    start: str | datetime,
    end: str | datetime,
    *,
    target: Target | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    own_accounts: Sequence[str] = (),
) -> Investigation:
    """Load the logs of a window into the Parquet cache and open a DuckDB engine over it.

    Args:
        s3_access: access-log locations (folders, files or ``s3://bucket/prefix``).
        cloudtrail: CloudTrail locations, same forms; empty for none.
        start: window start (ISO-8601, UTC).
        end: window end (exclusive).
        target: the account the logs belong to (default: ``Target()``, a real account).
        cache_dir: Parquet cache; defaults to one per target name.
        progress: show a progress bar while downloading.
        own_accounts: account ids that are yours, besides the target's.
    """
    from s3forensics.engines.duckdb_engine import DuckDBEngine
    from s3forensics.sources.cache import sync

    s, e = parse_window(start, end)
    target = target or Target()
    cache = Path(cache_dir) if cache_dir else notebook_cache_dir(target.name)
    reports: dict[str, Any] = {}
    for kind, inputs in (("s3_access", _as_list(s3_access)), ("cloudtrail", _as_list(cloudtrail))):
        if inputs:
            reports[kind] = sync(kind, inputs, cache, start=s, end=e, progress=progress)
    accounts = tuple(dict.fromkeys((*own_accounts, *target.own_accounts)))
    return Investigation(
        engine=DuckDBEngine(cache_dir=cache), start=s, end=e, reports=reports, cache_dir=cache, own_accounts=accounts
    )


def rank_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings ordered most severe first, then by event count and first seen."""
    if findings.empty:
        return findings
    rank = findings["severity"].map(severity_rank)
    ordered = findings.assign(_rank=rank).sort_values(["_rank", "event_count", "first_seen"], ascending=[True, False, True])
    return ordered.drop(columns="_rank").reset_index(drop=True)


def focus_actor(findings: pd.DataFrame, chosen: str = "") -> str | None:
    """The actor to drill into: ``chosen`` when given, else the worst finding's IP or principal."""
    if chosen:
        return chosen
    for row in rank_findings(findings).itertuples(index=False):
        for value in (row.source_ip, row.principal):
            if isinstance(value, str) and value and value != "-":
                return value
    return None


def bucket_profile(run: Any, bucket: str, given: str = "") -> str:
    """The profile a notebook judges ``bucket`` by: ``given`` when set, else the one the run
    inferred from the logs (``private_data`` when the bucket had no rows)."""
    if given:
        return given
    found = (getattr(run, "profiles", None) or {}).get(bucket)
    return str(found.profile) if found is not None else "private_data"


def actor_summary(actor: str | None, activity: pd.DataFrame, calls: pd.DataFrame | None = None) -> str:
    """One paragraph on everything ``actor`` did: first and last seen, then per kind of
    action the requests, objects and bytes, denials apart, then its CloudTrail changes."""
    from s3forensics.display import human_bytes, human_time

    if not actor:
        return "### No actor to drill into (no findings, no FOCUS)"
    lines = [f"### Actor: `{actor}`"]
    if activity.empty and (calls is None or calls.empty):
        return "\n\n".join([*lines, "Nothing by this actor in the window's logs."])
    times = [t for frame in (activity, calls) if frame is not None and not frame.empty for t in (frame["first_seen"].min(), frame["last_seen"].max())]
    lines.append(f"First seen {human_time(min(times))} UTC, last seen {human_time(max(times))} UTC.")
    parts = []
    for action in ("read", "write", "delete", "list", "configure", "other"):
        rows = activity[activity["action"] == action]
        if rows.empty:
            continue
        ok = rows[rows["outcome"] == "ok"]
        refused = int(rows.loc[rows["outcome"] != "ok", "requests"].sum())
        objects = int(ok["objects"].sum())
        text = f"**{action}** {int(ok['requests'].sum()):,} request(s)" + (f" on {objects:,} object(s)" if objects else "")
        if action == "read" and int(ok["bytes_sent"].sum()):
            text += f", {human_bytes(ok['bytes_sent'].sum())} sent"
        if refused:
            text += f", {refused:,} refused (denied, not found or error)"
        parts.append(text)
    if parts:
        lines.append("Access logs: " + "; ".join(parts) + ".")
    if calls is not None and not calls.empty:
        changes = calls[calls["is_change"]]
        names = ", ".join(f"{r.event_name} ({r.events}{'' if r.outcome == 'ok' else ', ' + r.outcome})" for r in changes.head(8).itertuples(index=False))
        lines.append(f"CloudTrail: {int(calls['events'].sum()):,} call(s), {int(changes['events'].sum()):,} of them changes" + (f": {names}." if names else "."))
    return "\n\n".join(lines)


def detection_errors(run: Any) -> pd.DataFrame:
    """Detections that did not run (or ran incompletely) and why, plus input warnings."""
    rows = [{"detection": name, "problem": why} for name, why in sorted(run.errors.items())]
    rows += [{"detection": "(input)", "problem": text} for text in run.warnings]
    return pd.DataFrame(rows, columns=["detection", "problem"])


@dataclass(frozen=True)
class Comparison:
    """A period against the one before it: a sentence, and a table per bucket."""

    summary: str
    table: pd.DataFrame


def _change(now: float, before: float) -> str:
    if before == 0:
        return "new" if now else "0"
    return f"{(now - before) / before:+.0%}"


def compare_periods(now_rows: pd.DataFrame, before_rows: pd.DataFrame, findings: pd.DataFrame, earlier: pd.DataFrame) -> Comparison:
    """Requests, errors (4xx/5xx) and bytes per bucket, and findings by severity, of a
    period against the one before it (usually the same length just before).

    Args:
        now_rows, before_rows: ``s3_access__requests_over_time`` rows of each period (any
            interval: they are summed per bucket).
        findings, earlier: each period's findings.
    """
    from s3forensics.display import human_bytes, human_count, readable

    def totals(rows: pd.DataFrame) -> pd.DataFrame:
        if rows.empty:
            return pd.DataFrame(columns=["requests", "errors", "bytes_sent"], dtype="int64")
        rows = rows.assign(errors=rows["requests"].where(rows["http_status"] >= 400, 0))
        return rows.groupby("bucket")[["requests", "errors", "bytes_sent"]].sum()

    now, then = totals(now_rows), totals(before_rows)
    buckets = sorted(set(now.index) | set(then.index))
    now, then = now.reindex(buckets, fill_value=0), then.reindex(buckets, fill_value=0)
    table = pd.DataFrame(
        {
            "bucket": buckets,
            "requests": now["requests"].to_numpy(),
            "requests_before": then["requests"].to_numpy(),
            "requests_change": [_change(a, b) for a, b in zip(now["requests"], then["requests"], strict=True)],
            "errors": now["errors"].to_numpy(),
            "errors_before": then["errors"].to_numpy(),
            "bytes": now["bytes_sent"].to_numpy(),
            "bytes_before": then["bytes_sent"].to_numpy(),
            "bytes_change": [_change(a, b) for a, b in zip(now["bytes_sent"], then["bytes_sent"], strict=True)],
        }
    )
    if then["requests"].sum() == 0:
        summary = "**The period before holds no access-log rows**: nothing to compare with."
    else:
        r_now, r_then = int(now["requests"].sum()), int(then["requests"].sum())
        b_now, b_then = int(now["bytes_sent"].sum()), int(then["bytes_sent"].sum())
        e_now, e_then = int(now["errors"].sum()), int(then["errors"].sum())
        summary = (
            f"**Against the period before:** requests {human_count(r_now)} vs {human_count(r_then)} ({_change(r_now, r_then)}), "
            f"errors {human_count(e_now)} vs {human_count(e_then)} ({_change(e_now, e_then)}), "
            f"bytes sent {human_bytes(b_now)} vs {human_bytes(b_then)} ({_change(b_now, b_then)})."
        )
    news = sorted(set(findings["detection_id"]) - set(earlier["detection_id"])) if not findings.empty else []
    levels = [(s, int((findings["severity"] == s).sum()) if not findings.empty else 0, int((earlier["severity"] == s).sum()) if not earlier.empty else 0) for s in SEVERITIES]
    if any(a or b for _, a, b in levels):
        summary += " Findings: " + ", ".join(f"{s} {a} vs {b}" for s, a, b in levels if a or b) + "."
    else:
        summary += " No finding in either period."
    if news:
        summary += f" New this period: {', '.join(news)}."
    return Comparison(summary=summary, table=readable(table))


def report_window(end: str | datetime, days: int) -> tuple[datetime, datetime]:
    """The period a scheduled report covers: ``days`` days ending at ``end`` (``"now"``: this hour)."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
        raise ParameterError(f"DAYS must be a whole number of days between 1 and 366, got {days!r}")
    if isinstance(end, str) and end.strip().lower() == "now":
        stop = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    else:
        stop = utc_time(end, "END")
    return stop - timedelta(days=days), stop


@dataclass(frozen=True)
class Verdict:
    """What a report opens with: incidents worst first, and what the logs cannot show."""

    incidents: pd.DataFrame
    blind_spots: pd.DataFrame
    logs_end: Any = None

    def markdown(self, most: int = 10) -> str:
        """The incidents as paragraphs, then the blind spots as a list."""
        from s3forensics.display import human_time
        from s3forensics.incidents import incident_lines

        text = incident_lines(self.incidents, most=most)
        if self.blind_spots.empty:
            return text + "\n\n**Blind spots:** none seen: every source given has rows until the window ends."
        spots = "\n".join(f"- **{r.kind}** ({r.where}, since {human_time(r.since, seconds=False)} UTC): {r.detail}" for r in self.blind_spots.itertuples(index=False))
        return f"{text}\n\n**Blind spots** (what these logs cannot show):\n\n{spots}"

    def table(self) -> pd.DataFrame:
        """The incidents for reading: one row each, times to the second, bytes in units."""
        from s3forensics.display import readable

        columns = ["incident", "severity", "what", "who", "from_where", "buckets", "first_seen", "last_seen", "still_going", "events", "bytes"]
        return readable(self.incidents[columns])

    def next_steps(self, most: int = 10) -> str:
        """Per incident, worst first: the runbook of its worst detection and when it is nothing."""
        if self.incidents.empty:
            return "Nothing to do: no incident."
        lines = []
        for row in self.incidents.head(most).itertuples(index=False):
            fps = f" *Known false positives:* {row.false_positives}." if row.false_positives else ""
            lines.append(f"{row.incident}. **{row.severity}: {row.what}.** {row.next_step}{fps}")
        return "\n\n".join(lines)


@dataclass(frozen=True)
class SetupSummary:
    """Setup checks for a report: the failing ones and the evidence-coverage matrix."""

    results: pd.DataFrame
    failing: pd.DataFrame
    coverage: pd.DataFrame
