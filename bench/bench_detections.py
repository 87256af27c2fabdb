"""Benchmark: the whole detection catalogue over a synthetic Parquet cache.

    python -m bench.bench_detections --rows 10000000 --ct-rows 1000000

Synthetic, vectorised data (numpy/pyarrow; documentation IPs, account 111122223333) is
written once into a cache folder with the engine's layout
(``<cache>/<table>/date=YYYY-MM-DD/part-0.parquet``); then a child process runs every
detection on the DuckDB engine over that cache, so its peak RSS is the catalogue's alone.
Prints seconds per detection, total seconds and peak RSS (goal: < 30 s, < 4 GB).

``--config none`` (the default) runs as a new user does, with no profile, allowlist or own
account, so every bucket's profile is inferred from the logs (profile inference is part of
the time); ``--config demo`` gives the demo world's profiles. ``--worst`` writes the input
that costs the catalogue most: every access-log row from its own address, for its own key,
as its own principal session (nothing groups, every source is new).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from s3forensics.schema import CLOUDTRAIL_SCHEMA, S3_ACCESS_SCHEMA

START = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
DAYS = 7
BUCKETS = np.array(["s3f-demo-site", "s3f-demo-data", "s3f-demo-archive"])
ACCOUNT = "111122223333"


def _pool_ips(n: int, rng: np.random.Generator) -> np.ndarray:
    v4 = [f"{net}.{i}" for net in ("192.0.2", "198.51.100", "203.0.113") for i in range(1, 255)]
    v6 = [f"2001:db8:{rng.integers(0, 65535):x}::{rng.integers(1, 65535):x}" for _ in range(max(0, n - len(v4)))]
    return np.array(v4 + v6, dtype=object)


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string())


def write_s3_access(cache: Path, rows: int, seed: int = 7, worst: bool = False) -> None:
    rng = np.random.default_rng(seed)
    ips = _pool_ips(20000, rng)
    keys = np.array([f"{p}/file-{i:05d}.{e}" for i, (p, e) in enumerate(zip(np.resize(["assets", "blog", "img", "exports", "invoices"], 8000), np.resize(["html", "css", "png", "csv", "pdf"], 8000)))] + [".env", ".git/config", "id_rsa"], dtype=object)
    ops = np.array(["REST.GET.OBJECT", "WEBSITE.GET.OBJECT", "REST.HEAD.OBJECT", "REST.PUT.OBJECT", "REST.GET.BUCKET", "REST.DELETE.OBJECT"], dtype=object)
    op_p = np.array([0.55, 0.35, 0.05, 0.03, 0.015, 0.005])
    agents = np.array(["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (iPhone)", "aws-cli/2.15.0", "curl/8.5.0", "Nuclei - Open-source project"], dtype=object)
    roles = np.array([None, None, None, None, f"arn:aws:sts::{ACCOUNT}:assumed-role/analytics-export/s", f"arn:aws:iam::{ACCOUNT}:user/ops-admin"], dtype=object)
    per_day = rows // DAYS
    for day in range(DAYS):
        n = per_day + (rows - per_day * DAYS if day == DAYS - 1 else 0)
        base = int((START + dt.timedelta(days=day)).timestamp() * 1_000_000)
        times = np.sort(base + rng.integers(0, 86_400_000_000, n))
        status = rng.choice(np.array([200, 304, 404, 403], dtype=np.int32), n, p=[0.9, 0.05, 0.04, 0.01])
        sent = rng.integers(200, 200_000, n).astype(np.int64)
        columns = {
            "bucket_owner": pa.array(np.full(n, "79a59df9" * 8, dtype=object), type=pa.string()),
            "bucket": _strings(rng.choice(BUCKETS, n, p=[0.9, 0.08, 0.02]).astype(object)),
            "time": pa.array(times, type=pa.timestamp("us", tz="UTC")),
            "remote_ip": _strings(_unique_ips(day, n) if worst else ips[rng.zipf(1.3, n) % len(ips)]),
            "requester": _strings(_unique_sessions(day, n) if worst else rng.choice(roles, n)),
            "request_id": _strings(np.char.add("R", np.arange(n).astype(str)).astype(object)),
            "operation": _strings(rng.choice(ops, n, p=op_p)),
            "key": _strings(np.char.add(f"d{day}/k-", np.arange(n).astype(str)).astype(object) if worst else keys[rng.zipf(1.2, n) % len(keys)]),
            "request_uri": pa.nulls(n, pa.string()),
            "http_status": pa.array(status, type=pa.int32()),
            "error_code": pa.nulls(n, pa.string()),
            "bytes_sent": pa.array(sent, type=pa.int64()),
            "object_size": pa.array(sent, type=pa.int64()),
            "total_time": pa.array(rng.integers(1, 200, n), type=pa.int64()),
            "turn_around_time": pa.array(rng.integers(1, 50, n), type=pa.int64()),
            "referer": pa.nulls(n, pa.string()),
            "user_agent": _strings(rng.choice(agents, n, p=[0.6, 0.3, 0.07, 0.029, 0.001])),
            "version_id": pa.nulls(n, pa.string()),
            "host_id": pa.nulls(n, pa.string()),
            "signature_version": pa.nulls(n, pa.string()),
            "cipher_suite": pa.nulls(n, pa.string()),
            "authentication_type": pa.nulls(n, pa.string()),
            "host_header": pa.nulls(n, pa.string()),
            "tls_version": _strings(rng.choice(np.array(["TLSv1.3", "TLSv1.2", None], dtype=object), n, p=[0.7, 0.29, 0.01])),
            "access_point_arn": pa.nulls(n, pa.string()),
            "acl_required": pa.nulls(n, pa.string()),
            "source_region": pa.nulls(n, pa.string()),
        }
        table = pa.table(columns).cast(S3_ACCESS_SCHEMA)
        folder = cache / "s3_access" / f"date={(START + dt.timedelta(days=day)):%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-0.parquet", row_group_size=1_000_000)


def _unique_ips(day: int, n: int) -> np.ndarray:
    """A documentation IPv6 address per row (2001:db8::/32), none repeated across the days."""
    i = np.arange(n, dtype=np.int64)
    return np.array([f"2001:db8:{day:x}:{a:x}::{b:x}" for a, b in zip(i >> 16, i & 0xFFFF, strict=True)], dtype=object)


def _unique_sessions(day: int, n: int) -> np.ndarray:
    """Every row its own session of one role: the role-level grouping's worst case."""
    return np.char.add(f"arn:aws:sts::{ACCOUNT}:assumed-role/app/d{day}-", np.arange(n).astype(str)).astype(object)


def write_cloudtrail(cache: Path, rows: int, seed: int = 8) -> None:
    rng = np.random.default_rng(seed)
    names = np.array(["GetObject", "PutObject", "ListObjects", "GetBucketAcl", "GetBucketPolicy", "DeleteObject", "PutBucketPolicy", "CopyObject", "AssumeRole"], dtype=object)
    name_p = np.array([0.5, 0.2, 0.1, 0.05, 0.05, 0.05, 0.0005, 0.0495, 0.05])
    name_p = name_p / name_p.sum()
    per_day = rows // DAYS
    for day in range(DAYS):
        n = per_day + (rows - per_day * DAYS if day == DAYS - 1 else 0)
        base = int((START + dt.timedelta(days=day)).timestamp() * 1_000_000)
        event = rng.choice(names, n, p=name_p)
        columns: dict[str, pa.Array] = {}
        for field in CLOUDTRAIL_SCHEMA:
            columns[field.name] = pa.nulls(n, field.type)
        columns.update(
            {
                "event_time": pa.array(np.sort(base + rng.integers(0, 86_400_000_000, n)), type=pa.timestamp("us", tz="UTC")),
                "event_source": pa.array(np.where(event == "AssumeRole", "sts.amazonaws.com", "s3.amazonaws.com").astype(object), type=pa.string()),
                "event_name": _strings(event),
                "source_ip_address": _strings(np.char.add("198.51.100.", rng.integers(1, 255, n).astype(str)).astype(object)),
                "user_agent": _strings(np.full(n, "aws-cli/2.15.0", dtype=object)),
                "user_identity_arn": _strings(rng.choice(np.array([f"arn:aws:iam::{ACCOUNT}:user/ops-admin", f"arn:aws:sts::{ACCOUNT}:assumed-role/site-deploy/s"], dtype=object), n)),
                "user_identity_account_id": _strings(np.full(n, ACCOUNT, dtype=object)),
                "recipient_account_id": _strings(np.full(n, ACCOUNT, dtype=object)),
                "bucket_name": _strings(rng.choice(BUCKETS, n)),
                "object_key": _strings(np.char.add("exports/part-", rng.integers(0, 5000, n).astype(str)).astype(object)),
                "management_event": pa.array(np.isin(event, ["GetBucketAcl", "GetBucketPolicy", "PutBucketPolicy", "AssumeRole"])),
                "request_id": _strings(np.char.add("C", np.arange(n).astype(str)).astype(object)),
                "request_parameters": _strings(np.where(event == "PutBucketPolicy", '{"bucketPolicy":{"Statement":[{"Principal":{"AWS":"arn:aws:iam::111122223333:root"}}]}}', None).astype(object)),
            }
        )
        table = pa.table(columns).cast(CLOUDTRAIL_SCHEMA)
        folder = cache / "cloudtrail" / f"date={(START + dt.timedelta(days=day)):%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-0.parquet", row_group_size=1_000_000)


def run_catalogue(cache: Path, config_name: str = "none", memory_limit: str | None = None) -> dict:
    """Run every detection over the cache (in this process); returns timings."""
    from s3forensics.detections import run_detections
    from s3forensics.detections.config import DetectionConfig
    from s3forensics.engines.duckdb_engine import DuckDBEngine
    from s3forensics.lab.demo.world import demo_config

    started = time.perf_counter()
    engine = DuckDBEngine(cache_dir=cache, memory_limit=memory_limit)
    config = demo_config() if config_name == "demo" else DetectionConfig()
    run = run_detections(engine, START, START + dt.timedelta(days=DAYS), config=config)
    engine.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "findings": len(run.findings),
        "errors": dict(run.errors),
        "profiles": {b: p.describe() for b, p in (run.profiles or {}).items()},
        "per_detection": {k: round(v, 2) for k, v in sorted(run.seconds.items(), key=lambda kv: -kv[1])},
        # Profile inference and the window checks: the run's time outside the detections.
        "profiles_and_checks_seconds": round(seconds - sum(run.seconds.values()), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="S3 access log rows")
    parser.add_argument("--ct-rows", type=int, default=1_000_000, help="CloudTrail rows")
    parser.add_argument("--cache", type=Path, help="cache folder to (re)use (default: a temporary one)")
    parser.add_argument("--config", choices=("none", "demo"), default="none", help="none: profiles inferred (default); demo: the demo world's")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 3GB (default: DuckDB's, 80%% of RAM)")
    parser.add_argument("--worst", action="store_true", help="every row its own address, key and session")
    parser.add_argument("--run-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_only:
        print(json.dumps(run_catalogue(args.cache, args.config, args.memory_limit)))
        return 0
    with tempfile.TemporaryDirectory(prefix="s3f-bench-") as tmp:
        cache = args.cache or Path(tmp) / "cache"
        if not (cache / "s3_access").is_dir():
            started = time.perf_counter()
            write_s3_access(cache, args.rows, worst=args.worst)
            write_cloudtrail(cache, args.ct_rows)
            print(f"generated {args.rows:,} access rows + {args.ct_rows:,} CloudTrail rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        command = [sys.executable, "-m", "bench.bench_detections", "--run-only", "--cache", str(cache), "--config", args.config]
        if args.memory_limit:
            command += ["--memory-limit", args.memory_limit]
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        if child.returncode:
            print(child.stderr, file=sys.stderr)
            return child.returncode
        result = json.loads(child.stdout.strip().splitlines()[-1])
        result.update({"rows": args.rows, "ct_rows": args.ct_rows, "config": args.config, "worst": args.worst, "memory_limit": args.memory_limit})
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
