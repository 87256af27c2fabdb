"""Generate the demo world's logs, byte-deterministically, laid out as AWS delivers them.

``generate(out_dir)`` writes one folder per bucket under ``out_dir``: server access log
objects under ``s3f-demo-logs/`` (date-partitioned layout for the site, simple layout for
the data and archive buckets, one object per ~15 minutes), CloudTrail files and a couple
of digest files under ``s3f-demo-cloudtrail/AWSLogs/...``, and ``ground_truth.json`` with
the five injected incidents. The same seed gives the same bytes (gzip headers carry no
time and no file name). ``upload(out_dir)`` puts the files into the buckets they name.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from s3forensics.errors import ConfigError, S3ForensicsError, SandboxError
from s3forensics.lab.demo import fakes, world
from s3forensics.lab.demo.context import build_context
from s3forensics.lab.demo.scenarios import archive_logging_off, plan, run_scenarios
from s3forensics.lab.demo.traffic import generate_benign
from s3forensics.sources.s3_access_format import format_line
from s3forensics.vocabulary import utc_time

log = logging.getLogger(__name__)

DEFAULT_START = datetime(2026, 11, 16, tzinfo=UTC)
MAX_DAYS = 92
#: Server access logs: one object per bucket per this much time (S3 delivers every few minutes
#: to hours; a quarter of an hour keeps objects of a few hundred lines).
ACCESS_LOG_PERIOD = timedelta(minutes=15)
#: CloudTrail delivers a file about every five minutes.
TRAIL_PERIOD = timedelta(minutes=5)
DIGEST_FILES = 2
GZIP_LEVEL = 6

_SOURCE_BUCKET_PREFIX = {
    world.SITE_BUCKET: world.SITE_LOG_PREFIX,
    world.DATA_BUCKET: world.DATA_LOG_PREFIX,
    world.ARCHIVE_BUCKET: world.ARCHIVE_LOG_PREFIX,
}
_PARTITIONED = frozenset({world.SITE_BUCKET})


def parse_start(value: str | date | datetime | None) -> datetime:
    """The window start as an aware UTC datetime (naive values and dates are taken as UTC).

    Raises:
        ParameterError: ``value`` is not an ISO-8601 date or time.
    """
    return DEFAULT_START if value is None else utc_time(value, "start")


def generate(out_dir: str | Path, days: int = 7, seed: int = 7, start: str | date | datetime | None = None) -> dict[str, Any]:
    """Write the demo world's logs and ground truth under ``out_dir``; return a summary.

    Folders this function owns (``s3f-demo-logs``, ``s3f-demo-cloudtrail``) are replaced,
    nothing else in ``out_dir`` is touched.

    Args:
        out_dir: destination folder (created when missing).
        days: length of the window in days (1..92).
        seed: any integer; the same seed and start give byte-identical output.
        start: window start (UTC); default 2026-11-16T00:00:00Z.

    Raises:
        ConfigError: ``days``, ``seed`` or ``start`` is invalid.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"days must be an integer from 1 to {MAX_DAYS}, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    t0 = parse_start(start).replace(microsecond=0)
    out = Path(out_dir)
    ctx = build_context(seed, t0, days)
    plans = plan(t0, days)
    ctx.archive_logging_off = archive_logging_off(plans)
    generate_benign(ctx)
    truths = run_scenarios(ctx, plans)

    out.mkdir(parents=True, exist_ok=True)
    for bucket in (world.LOG_BUCKET, world.TRAIL_BUCKET):
        shutil.rmtree(out / bucket, ignore_errors=True)
    access = write_access_logs(ctx, out, _SOURCE_BUCKET_PREFIX, _PARTITIONED, {world.ARCHIVE_BUCKET: ctx.archive_logging_off})
    trail = write_trail(ctx, out)
    truth = {
        "seed": seed,
        "start": fakes.iso(t0),
        "end": fakes.iso(ctx.end),
        "account_id": world.ACCOUNT_ID,
        "scenarios": truths,
    }
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    summary = {
        "out_dir": str(out),
        "seed": seed,
        "start": truth["start"],
        "end": truth["end"],
        "days": days,
        "access_log_files": {b: n for b, (n, _) in access.items()},
        "access_log_lines": {b: lines for b, (_, lines) in access.items()},
        **trail,
        "scenarios": [s["id"] for s in truths],
        "ground_truth": str(out / "ground_truth.json"),
    }
    log.info("demo world written to %s: %s", out, summary)
    return summary


# --- server access logs -------------------------------------------------------------


def access_log_key(
    bucket: str, delivered: datetime, event_day: date, suffix: str, prefix: str | None = None, partitioned: bool | None = None
) -> str:
    """Key of a server access log object in the log bucket, in the bucket's layout (the demo
    buckets' own when ``prefix`` and ``partitioned`` are not given)."""
    name = f"{delivered:%Y-%m-%d-%H-%M-%S}-{suffix}"
    prefix = _SOURCE_BUCKET_PREFIX[bucket] if prefix is None else prefix
    if (bucket in _PARTITIONED) if partitioned is None else partitioned:
        return f"{prefix}{world.ACCOUNT_ID}/{world.REGION}/{bucket}/{event_day:%Y/%m/%d}/{name}"
    return prefix + name


def write_access_logs(
    ctx: Any,
    out: Path,
    prefixes: dict[str, str],
    partitioned: frozenset[str] = frozenset(),
    logging_off: dict[str, datetime | None] | None = None,
) -> dict[str, tuple[int, int]]:
    """Write the sink's access log rows of each bucket in ``prefixes`` as S3 delivers them.

    Args:
        ctx: the world's context (``start``, ``sink``, ``rng``).
        out: the world's folder; objects go under ``<out>/<log bucket>/<prefix>``.
        prefixes: source bucket -> log prefix.
        partitioned: buckets whose logs use the date-partitioned layout.
        logging_off: bucket -> when its logging stops (nothing logged after).

    Returns:
        bucket -> (objects written, lines written).
    """
    written: dict[str, tuple[int, int]] = {}
    period = ACCESS_LOG_PERIOD.total_seconds()
    origin = ctx.start.timestamp()
    for bucket, log_prefix in prefixes.items():
        records = ctx.sink.access.get(bucket, [])
        cutoff = (logging_off or {}).get(bucket)
        if cutoff is not None:
            # Nothing is logged once logging is off (the incident's own last line is before).
            records = [r for r in records if r["time"] <= cutoff]
        rng = ctx.rng(f"delivery:{bucket}")
        windows: dict[int, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        for record in records:
            ts = record["time"].timestamp()
            # A record now and then misses its object and lands in the next one, as with S3.
            windows[int((ts - origin + rng.uniform(0, 45)) // period)].append((ts + rng.gauss(0, 1.2), record))
        files = lines = 0
        for index in sorted(windows):
            rows = sorted(windows[index], key=lambda pair: pair[0])
            window_start = ctx.start + index * ACCESS_LOG_PERIOD
            delivered = window_start + ACCESS_LOG_PERIOD + timedelta(seconds=rng.randrange(40, 600))
            key = access_log_key(bucket, delivered, window_start.date(), fakes.log_suffix(rng), log_prefix, bucket in partitioned)
            path = out / world.LOG_BUCKET / key
            path.parent.mkdir(parents=True, exist_ok=True)
            text = "".join(format_line(record) + "\n" for _, record in rows)
            path.write_bytes(text.encode("utf-8"))
            files += 1
            lines += len(rows)
        written[bucket] = (files, lines)
    return written


# --- CloudTrail -----------------------------------------------------------------------


def trail_key(delivered: datetime, suffix: str) -> str:
    """Key of a CloudTrail log file in the trail bucket."""
    return (
        f"AWSLogs/{world.ACCOUNT_ID}/CloudTrail/{world.REGION}/{delivered:%Y/%m/%d}/"
        f"{world.ACCOUNT_ID}_CloudTrail_{world.REGION}_{delivered:%Y%m%dT%H%M}Z_{suffix}.json.gz"
    )


def digest_key(end: datetime) -> str:
    """Key of a CloudTrail digest file in the trail bucket."""
    return (
        f"AWSLogs/{world.ACCOUNT_ID}/CloudTrail-Digest/{world.REGION}/{end:%Y/%m/%d}/"
        f"{world.ACCOUNT_ID}_CloudTrail-Digest_{world.REGION}_{world.TRAIL_NAME}_{world.REGION}_{end:%Y%m%dT%H%M%S}Z.json.gz"
    )


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def write_trail(ctx: Any, out: Path) -> dict[str, int]:
    """Write the sink's CloudTrail events as five-minute files, with a couple of digests."""
    rng = ctx.rng("delivery:cloudtrail")
    period = TRAIL_PERIOD.total_seconds()
    origin = ctx.start.timestamp()
    windows: dict[int, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    for t, event in sorted(ctx.sink.trail, key=lambda pair: pair[0]):
        ts = t.timestamp()
        windows[int((ts - origin + rng.uniform(0, 50)) // period)].append((ts + rng.gauss(0, 2), event))
    files: list[dict[str, Any]] = []
    records = 0
    base = out / world.TRAIL_BUCKET
    for index in sorted(windows):
        rows = sorted(windows[index], key=lambda pair: pair[0])
        delivered = ctx.start + (index + 1) * TRAIL_PERIOD + timedelta(minutes=rng.randrange(0, 4))
        key = trail_key(delivered, fakes.trail_suffix(rng))
        body = _gzip(json.dumps({"Records": [e for _, e in rows]}, separators=(",", ":")).encode("utf-8"))
        path = base / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        times = [e["eventTime"] for _, e in rows]
        files.append({"key": key, "hour": delivered.replace(minute=0, second=0), "sha256": hashlib.sha256(body).hexdigest(),
                      "oldest": min(times), "newest": max(times)})  # fmt: skip
        records += len(rows)
    digests = _write_digests(ctx, base, files, rng)
    return {"cloudtrail_files": len(files), "cloudtrail_records": records, "cloudtrail_digest_files": digests}


def _write_digests(ctx: Any, base: Path, files: list[dict[str, Any]], rng: Any) -> int:
    by_hour: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for f in files:
        by_hour[f["hour"]].append(f)
    previous: tuple[str, str, str] | None = None
    written = 0
    for hour in sorted(by_hour)[:DIGEST_FILES]:
        logs = by_hour[hour]
        end = hour + timedelta(hours=1, seconds=rng.randrange(60, 120))
        key = digest_key(end)
        digest: dict[str, Any] = {
            "awsAccountId": world.ACCOUNT_ID,
            "digestStartTime": fakes.iso(end - timedelta(hours=1)),
            "digestEndTime": fakes.iso(end),
            "digestS3Bucket": world.TRAIL_BUCKET,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": f"{rng.getrandbits(128):032x}",
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": max(f["newest"] for f in logs),
            "oldestEventTime": min(f["oldest"] for f in logs),
            "previousDigestS3Bucket": world.TRAIL_BUCKET if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": previous[1] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[2] if previous else None,
            "logFiles": [
                {
                    "s3Bucket": world.TRAIL_BUCKET,
                    "s3Object": f["key"],
                    "hashValue": f["sha256"],
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": f["newest"],
                    "oldestEventTime": f["oldest"],
                }
                for f in logs
            ],
        }
        body = _gzip(json.dumps(digest, separators=(",", ":")).encode("utf-8"))
        path = base / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        previous = (key, hashlib.sha256(body).hexdigest(), f"{rng.getrandbits(2048):0512x}")
        written += 1
    return written


# --- upload ---------------------------------------------------------------------------


def iter_objects(out_dir: str | Path) -> Iterator[tuple[str, str, Path]]:
    """``(bucket, key, path)`` for every file under a bucket folder of ``out_dir``, sorted."""
    root = Path(out_dir)
    if not root.is_dir():
        raise ConfigError(f"demo world folder {root} does not exist (run `s3forensics demo-data --out {root}`)")
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            yield folder.name, path.relative_to(folder).as_posix(), path


def upload(
    out_dir: str | Path,
    session: Any | None = None,
    *,
    endpoint_url: str | None = None,
    allow_aws: bool = False,
    workers: int = 8,
) -> dict[str, int]:
    """Put every file under ``out_dir`` into the bucket named by its first folder.

    The endpoint is ``endpoint_url``, else ``AWS_ENDPOINT_URL`` (the standard chain), else
    the running sandbox's; real AWS only with ``allow_aws=True``.

    Args:
        out_dir: a folder written by ``generate``.
        session: a boto3 Session; default: the standard AWS chain (or the sandbox's).
        endpoint_url: S3 endpoint override.
        allow_aws: upload through the plain AWS chain when no endpoint is configured.
        workers: parallel uploads.

    Returns:
        bucket -> number of objects uploaded.

    Raises:
        S3ForensicsError: a bucket is missing or a put failed (names the bucket and key).
        SandboxError: no endpoint is configured, no sandbox runs and ``allow_aws`` is false.
    """
    import os

    from s3forensics import aws
    from s3forensics.lab import sandbox

    if not endpoint_url and not os.environ.get("AWS_ENDPOINT_URL") and not allow_aws:
        # Never write demo logs into a real account by accident: find the sandbox instead.
        current, state = sandbox.status()
        if current != "running" or state is None:
            raise SandboxError(
                "no S3 endpoint to upload the demo world to: start the sandbox (`s3forensics sandbox start`), "
                "set AWS_ENDPOINT_URL, or pass allow_aws=True to write into the account of the AWS chain"
            )
        endpoint_url = state.endpoint
        session = session or sandbox.boto_session(state)
    kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    s3 = aws.client("s3", session, **kwargs)
    objects = list(iter_objects(out_dir))
    buckets = sorted({bucket for bucket, _, _ in objects})
    for bucket in buckets:
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception as exc:  # botocore ClientError; imported lazily
            raise S3ForensicsError(
                f"cannot upload the demo world: bucket {bucket} is not reachable ({aws.error_code(exc) or exc}); "
                "is the sandbox running and seeded (`s3forensics sandbox start`)?"
            ) from exc

    def put(item: tuple[str, str, Path]) -> str:
        bucket, key, path = item
        content_type = "application/json" if key.endswith(".json.gz") else "text/plain"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type)
        except Exception as exc:
            raise S3ForensicsError(f"upload of s3://{bucket}/{key} failed: {exc}") from exc
        return bucket

    counts: dict[str, int] = dict.fromkeys(buckets, 0)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for bucket in pool.map(put, objects):
            counts[bucket] += 1
    log.info("uploaded %d objects from %s: %s", len(objects), out_dir, counts)
    return counts
