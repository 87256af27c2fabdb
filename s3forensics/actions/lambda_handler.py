"""The responder Lambda: on an alarm (or a schedule), detect, block within limits, notify.

Events it handles (through EventBridge):

- ``CloudWatch Alarm State Change`` with ``detail.state.value == "ALARM"`` (the bucket's
  GetRequests alarm): analyse the last ``S3FORENSICS_LOOKBACK_MINUTES`` before the state
  change, block offending source IPs, notify.
- ``Scheduled Event``: remove expired blocks, then the same analysis ending now.

Anything else (an alarm going back to OK, an unknown event) is acknowledged and ignored.

What it needs at run time: boto3 (the Lambda runtime has it), this package and the
``queries/`` folder (in the zip), and pandas, pyarrow, numpy and duckdb, which the log
loader and the detections use: these come from a layer (see
:func:`s3forensics.actions.automation.package`).

Settings are environment variables (set by ``s3forensics automate deploy``):

=================================  ==========================================================
``S3FORENSICS_BUCKET``              bucket to protect (its policy receives the blocks)
``S3FORENSICS_LOG_URI``             ``s3://log-bucket/prefix/`` of its server access logs
``S3FORENSICS_TOPIC_ARN``           SNS topic to notify
``S3FORENSICS_LOOKBACK_MINUTES``    window analysed (default 60)
``S3FORENSICS_BLOCK_DETECTIONS``    detection ids whose source IPs are blocked
``S3FORENSICS_BLOCK_EXPIRES``       how long automatic blocks last (default 24h; "" = forever)
``S3FORENSICS_MAX_BLOCKS``          most addresses blocked per run (default 20)
``S3FORENSICS_ALLOW_CIDRS``         comma-separated networks never blocked nor reported
``S3FORENSICS_BUCKET_PROFILE``      ``public_site``, ``private_data`` or ``cloudfront``; unset: inferred
                                    as ``detect`` does (S3's website and policy status first)
``S3FORENSICS_DETECTION_PARAMS``    JSON: detection id -> parameter overrides
``S3FORENSICS_DRY_RUN``             ``true``: notify what would be blocked, change nothing
=================================  ==========================================================
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from s3forensics.errors import ConfigError, ParameterError
from s3forensics.vocabulary import utc_time

log = logging.getLogger(__name__)

ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
SCHEDULE_DETAIL_TYPE = "Scheduled Event"
#: Detections whose source IP a public site may block automatically.
DEFAULT_BLOCK_DETECTIONS = ("request_rate_spike", "secret_file_probing", "scanner_user_agent", "access_denied_burst", "enumeration")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HandlerSettings:
    """The function's settings (see the module docstring for the variables)."""

    bucket: str
    log_uri: str
    topic_arn: str | None = None
    lookback_minutes: int = 60
    block_detections: tuple[str, ...] = DEFAULT_BLOCK_DETECTIONS
    block_expires: str | None = "24h"
    max_blocks: int = 20
    allow_cidrs: tuple[str, ...] = ()
    bucket_profile: str = ""
    detection_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dry_run: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HandlerSettings:
        """Read and validate the settings.

        Raises:
            ConfigError: a required variable is missing or a value is unreadable (named).
        """
        env = os.environ if env is None else env

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigError(f"Lambda setting {name} is not set")
            return value

        def listed(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = env.get(name)
            if raw is None:
                return default
            return tuple(p.strip() for p in raw.split(",") if p.strip())

        def integer(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                raise ConfigError(f"Lambda setting {name}={raw!r} is not an integer") from None
            if value < 1:
                raise ConfigError(f"Lambda setting {name}={raw!r} must be at least 1")
            return value

        raw_params = env.get("S3FORENSICS_DETECTION_PARAMS", "").strip()
        try:
            params = json.loads(raw_params) if raw_params else {}
        except ValueError as exc:
            raise ConfigError(f"Lambda setting S3FORENSICS_DETECTION_PARAMS is not JSON: {exc}") from exc
        expires = env.get("S3FORENSICS_BLOCK_EXPIRES", "24h").strip() or None
        return cls(
            bucket=required("S3FORENSICS_BUCKET"),
            log_uri=required("S3FORENSICS_LOG_URI"),
            topic_arn=env.get("S3FORENSICS_TOPIC_ARN", "").strip() or None,
            lookback_minutes=integer("S3FORENSICS_LOOKBACK_MINUTES", 60),
            block_detections=listed("S3FORENSICS_BLOCK_DETECTIONS", DEFAULT_BLOCK_DETECTIONS),
            block_expires=expires,
            max_blocks=integer("S3FORENSICS_MAX_BLOCKS", 20),
            allow_cidrs=listed("S3FORENSICS_ALLOW_CIDRS", ()),
            bucket_profile=env.get("S3FORENSICS_BUCKET_PROFILE", "").strip(),
            detection_params=params,
            dry_run=env.get("S3FORENSICS_DRY_RUN", "").strip().lower() in _TRUE,
        )


def _parse_time(value: Any) -> datetime | None:
    """The event's time (CloudWatch writes ``+0000`` offsets), or None when it has none that parses."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return utc_time(value, "event time")
    except ParameterError:
        return None


def classify(event: Mapping[str, Any]) -> tuple[str, datetime | None, str]:
    """``(kind, time, why)``: kind is ``alarm``, ``schedule`` or ``ignore``."""
    detail_type = event.get("detail-type")
    if detail_type == ALARM_DETAIL_TYPE:
        detail = event.get("detail") or {}
        state = (detail.get("state") or {}).get("value")
        name = detail.get("alarmName", "?")
        if state != "ALARM":
            return "ignore", None, f"alarm {name} went to {state}, not ALARM"
        when = _parse_time((detail.get("state") or {}).get("timestamp")) or _parse_time(event.get("time"))
        return "alarm", when, f"alarm {name} in ALARM"
    if detail_type == SCHEDULE_DETAIL_TYPE:
        return "schedule", _parse_time(event.get("time")), "scheduled sweep"
    return "ignore", None, f"unhandled event detail-type {detail_type!r}"


def _prepare_runtime() -> None:
    """In Lambda only /tmp is writable: keep the kit's home (audit log, cache) there."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and not os.environ.get("S3FORENSICS_HOME"):
        os.environ["S3FORENSICS_HOME"] = os.path.join(tempfile.gettempdir(), "s3forensics")


def _s3_only_detections() -> list[str]:
    from s3forensics.detections import DETECTIONS

    return [d.id for d in DETECTIONS if set(d.sources) <= {"s3_access"}]


def analyse(settings: HandlerSettings, start: datetime, end: datetime, session: Any) -> tuple[Any, Any]:
    """Load the bucket's access logs for ``[start, end)`` and run the detections.

    Returns:
        ``(findings for the protected bucket, the DetectionRun)``.
    """
    from s3forensics.detections import Allowlist, BucketConfig, DetectionConfig, run_detections
    from s3forensics.engines.duckdb_engine import DuckDBEngine
    from s3forensics.sources import load_s3_access

    loaded = load_s3_access([settings.log_uri], start, end, session=session)
    frame = loaded.frame
    log.info("loaded %d access-log rows from %s (%d files)", len(frame), settings.log_uri, loaded.report.files)
    # The profile: given, else what S3's configuration proves, else inferred from the logs
    # by run_detections like detect does.
    buckets = {}
    if settings.bucket_profile:
        buckets[settings.bucket] = BucketConfig(profile=settings.bucket_profile)
    else:
        from s3forensics.detections.profiles import account_profile

        proven = account_profile(settings.bucket, session)
        if proven is not None:
            log.info("profile of %s", proven.describe())
            buckets[settings.bucket] = BucketConfig(profile=proven.profile)
    config = DetectionConfig(buckets=buckets, allow=Allowlist(cidrs=settings.allow_cidrs))
    with tempfile.TemporaryDirectory(prefix="s3f-cache-") as empty_cache:
        engine = DuckDBEngine(cache_dir=empty_cache, frames={"s3_access": frame})
        try:
            run = run_detections(
                engine,
                start,
                end,
                ids=_s3_only_detections(),
                params=settings.detection_params,
                config=config,
                sources={"s3_access"},
            )
        finally:
            close = getattr(engine, "close", None)
            if close:
                close()
    findings = run.findings
    findings = findings[findings["bucket"] == settings.bucket]
    return findings, run


def choose_blocks(findings: Any, settings: HandlerSettings) -> tuple[list[str], dict[str, str]]:
    """Source IPs to block (most events first, at most ``max_blocks``) and why others are not."""
    import ipaddress

    from s3forensics.actions import policy as pol

    allow = [pol.parse_network(c, "S3FORENSICS_ALLOW_CIDRS entry") for c in settings.allow_cidrs]
    totals: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for row in findings.to_dict("records"):
        ip = row.get("source_ip")
        if not ip or row.get("detection_id") not in settings.block_detections:
            continue
        try:
            net = ipaddress.ip_network(str(ip))
        except ValueError:
            skipped[str(ip)] = "not an IP address"
            continue
        if any(net.version == a.version and net.subnet_of(a) for a in allow):  # type: ignore[arg-type]
            skipped[str(net)] = "in S3FORENSICS_ALLOW_CIDRS"
            continue
        problems = pol.safety_problems([net])
        if problems:
            skipped[str(net)] = "; ".join(problems)
            continue
        totals[str(net)] = totals.get(str(net), 0) + int(row.get("event_count") or 0)
    ranked = sorted(totals, key=lambda k: (-totals[k], k))
    for extra in ranked[settings.max_blocks :]:
        skipped[extra] = f"over S3FORENSICS_MAX_BLOCKS={settings.max_blocks} for one run"
    return ranked[: settings.max_blocks], skipped


def handle(event: Mapping[str, Any], settings: HandlerSettings, *, session: Any | None = None) -> dict[str, Any]:
    """Process one event; returns a JSON-able summary (also logged)."""
    from s3forensics.actions import notify
    from s3forensics.actions.block import plan_block_ip, plan_expire
    from s3forensics.actions.resources import default_session, execute
    from s3forensics.vocabulary import iso_utc, utc_now

    session = session or default_session()
    kind, when, why = classify(event)
    summary: dict[str, Any] = {"event": kind, "reason": why, "bucket": settings.bucket}
    if kind == "ignore":
        log.info("ignoring event: %s", why)
        return summary
    end = (when or utc_now()).replace(microsecond=0)
    start = end - timedelta(minutes=settings.lookback_minutes)
    summary.update(start=iso_utc(start), end=iso_utc(end))
    actions: list[Any] = []

    if kind == "schedule":
        expire = execute(plan_expire(settings.bucket, session=session, now=end), apply=not settings.dry_run, session=session)
        summary["expired"] = expire.record.details.get("removed", [])
        if summary["expired"]:
            actions.append(expire.record)

    findings, run = analyse(settings, start, end, session)
    summary["findings"] = len(findings)
    summary["detection_errors"] = dict(run.errors)
    to_block, skipped = choose_blocks(findings, settings)
    summary["skipped"] = skipped
    blocked: list[str] = []
    if to_block:
        # Expiry counts from the event, so a redelivered event changes nothing; a new
        # alarm while the source is still flooding extends its block.
        def make() -> Any:
            return plan_block_ip(
                settings.bucket, to_block, expires=settings.block_expires, extend=True, max_new=settings.max_blocks, session=session, now=end
            )

        # A concurrent invocation may change the policy first: plan again under the lock.
        result = execute(make(), apply=not settings.dry_run, session=session, replan=make)
        actions.append(result.record)
        blocked = list(result.record.details.get("added", []))
        summary["action_id"] = result.action_id
        summary["status"] = result.record.status
    summary["blocked"] = blocked

    if settings.topic_arn and (len(findings) or actions):
        message = notify.from_findings(
            findings.to_dict("records"),
            actions,
            source=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "s3forensics lambda"),
        )
        # The function's audit log lives in its /tmp; undo by address, which needs no record.
        undo = [f"s3forensics respond unblock-ip --bucket {settings.bucket} {' '.join(blocked)} --apply"] if blocked else []
        message = notify.Notification(
            summary=f"{why}: {message.summary}" + (" (dry run: nothing blocked)" if settings.dry_run and to_block else ""),
            detected=message.detected,
            evidence=message.evidence + ([{"detection_errors": dict(run.errors)}] if run.errors else []),
            actions=message.actions,
            rollback=undo,
            source=message.source,
        )
        summary["message_id"] = notify.publish(settings.topic_arn, message, session=session)
    log.info("responder summary: %s", json.dumps(summary, default=str))
    return summary


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``s3forensics.actions.lambda_handler.handler``)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO)
    logging.getLogger("s3forensics").setLevel(logging.INFO)
    _prepare_runtime()
    return handle(event, HandlerSettings.from_env())
