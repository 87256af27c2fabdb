"""Synthetic canonical-schema rows, generated with vectorised numpy (tests and bench).

Documentation values only: account 111122223333, IPs from 192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from s3forensics.schema import CLOUDTRAIL_SCHEMA, S3_ACCESS_SCHEMA

ACCOUNT = "111122223333"
START = pd.Timestamp("2026-11-16T00:00:00Z")
BUCKETS = np.array(["s3f-demo-site", "s3f-demo-data", "s3f-demo-archive"], dtype=object)
IPS = np.array(
    [f"192.0.2.{i}" for i in range(1, 60)]
    + [f"198.51.100.{i}" for i in range(1, 60)]
    + [f"203.0.113.{i}" for i in range(1, 60)]
    + [f"2001:db8::{i:x}" for i in range(1, 20)],
    dtype=object,
)
REQUESTERS = np.array(
    [
        None,
        f"arn:aws:iam::{ACCOUNT}:role/site-deploy",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/analytics-export/session-1",
        f"arn:aws:iam::{ACCOUNT}:user/ops-admin",
        "svc:logging.s3.amazonaws.com",
    ],
    dtype=object,
)
OPERATIONS = np.array(
    [
        "WEBSITE.GET.OBJECT",
        "REST.GET.OBJECT",
        "REST.HEAD.OBJECT",
        "REST.PUT.OBJECT",
        "REST.GET.BUCKET",
        "REST.COPY.OBJECT_GET",
        "BATCH.DELETE.OBJECT",
    ],
    dtype=object,
)
STATUSES = np.array([200, 200, 200, 206, 304, 403, 404, 500], dtype=np.int32)
USER_AGENTS = np.array(
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        "curl/8.5.0",
        "aws-cli/2.15.0 Python/3.11.6",
        "python-requests/2.31.0",
        "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
        None,
    ],
    dtype=object,
)
KEYS = np.array(
    [f"index-{i}.html" for i in range(40)]
    + [f"exports/customers-{i:02d}.csv" for i in range(12)]
    + [".env", ".git/config", "id_rsa", None],
    dtype=object,
)
AUTH = np.array(["AuthHeader", "QueryString", None], dtype=object)


def s3_access(rows: int, seed: int = 7, days: int = 3, start: pd.Timestamp = START) -> pa.Table:
    """``rows`` S3 access-log rows in the canonical schema, spread over ``days`` days."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, days * 86400, rows))
    time = pd.DatetimeIndex(start + pd.to_timedelta(seconds, unit="s"))
    status = STATUSES[rng.integers(0, len(STATUSES), rows)]
    error = np.full(rows, None, dtype=object)
    error[status == 403] = "AccessDenied"
    error[status == 404] = "NoSuchKey"
    error[status == 500] = "InternalError"
    bytes_sent = rng.integers(0, 200_000, rows).astype(np.int64)
    bytes_mask = rng.random(rows) < 0.1  # some "-" (null) byte counts
    requester = REQUESTERS[rng.choice(len(REQUESTERS), rows, p=[0.55, 0.1, 0.15, 0.1, 0.1])]
    ip_index = np.minimum(rng.zipf(1.6, rows) - 1, len(IPS) - 1)
    status_mask = rng.random(rows) < 0.01
    columns = {
        "bucket_owner": np.full(rows, "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", dtype=object),
        "bucket": BUCKETS[rng.integers(0, len(BUCKETS), rows)],
        "time": pa.array(time.as_unit("us"), type=S3_ACCESS_SCHEMA.field("time").type),
        "remote_ip": IPS[ip_index],
        "requester": requester,
        "request_id": np.char.add("R", np.arange(rows).astype(str)).astype(object),
        "operation": OPERATIONS[rng.integers(0, len(OPERATIONS), rows)],
        "key": KEYS[rng.integers(0, len(KEYS), rows)],
        "request_uri": np.full(rows, "GET /index.html HTTP/1.1", dtype=object),
        "http_status": pa.array(status, mask=status_mask, type=pa.int32()),
        "error_code": error,
        "bytes_sent": pa.array(bytes_sent, mask=bytes_mask, type=pa.int64()),
        "object_size": pa.array(bytes_sent, type=pa.int64()),
        "total_time": pa.array(rng.integers(1, 500, rows), type=pa.int64()),
        "turn_around_time": pa.array(rng.integers(1, 100, rows), type=pa.int64()),
        "referer": np.full(rows, None, dtype=object),
        "user_agent": USER_AGENTS[rng.integers(0, len(USER_AGENTS), rows)],
        "version_id": np.full(rows, None, dtype=object),
        "host_id": np.full(rows, "hostid", dtype=object),
        "signature_version": np.full(rows, "SigV4", dtype=object),
        "cipher_suite": np.full(rows, "TLS_AES_128_GCM_SHA256", dtype=object),
        "authentication_type": AUTH[rng.choice(len(AUTH), rows, p=[0.4, 0.05, 0.55])],
        "host_header": np.full(rows, "s3f-demo-site.s3.us-east-1.amazonaws.com", dtype=object),
        "tls_version": np.full(rows, "TLSv1.3", dtype=object),
        "access_point_arn": np.full(rows, None, dtype=object),
        "acl_required": np.full(rows, None, dtype=object),
        "source_region": np.full(rows, None, dtype=object),
    }
    arrays = [pa.array(columns[f.name], type=f.type) if not isinstance(columns[f.name], pa.Array) else columns[f.name] for f in S3_ACCESS_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=S3_ACCESS_SCHEMA)


CT_EVENTS = np.array(
    [
        "GetObject",
        "PutObject",
        "DeleteObject",
        "DeleteObjects",
        "PutBucketPolicy",
        "PutBucketLogging",
        "PutBucketAcl",
        "PutBucketPublicAccessBlock",
        "GetBucketPolicy",
        "ListBuckets",
        "PutBucketReplication",
        "DeleteBucketLifecycle",
    ],
    dtype=object,
)


def cloudtrail(rows: int, seed: int = 7, days: int = 3, start: pd.Timestamp = START) -> pa.Table:
    """``rows`` CloudTrail rows in the canonical schema (S3 data and management events)."""
    rng = np.random.default_rng(seed + 1)
    seconds = np.sort(rng.integers(0, days * 86400, rows))
    time = pd.DatetimeIndex(start + pd.to_timedelta(seconds, unit="s"))
    names = CT_EVENTS[rng.integers(0, len(CT_EVENTS), rows)]
    data_event = np.isin(names, ["GetObject", "PutObject", "DeleteObject", "DeleteObjects"])
    bucket = BUCKETS[rng.integers(0, len(BUCKETS), rows)].copy()
    bucket[names == "ListBuckets"] = None
    source = np.where(rng.random(rows) < 0.95, "s3.amazonaws.com", "iam.amazonaws.com").astype(object)
    arn = REQUESTERS[1 + rng.integers(0, 3, rows)]
    error = np.where(rng.random(rows) < 0.1, "AccessDenied", None).astype(object)
    none = np.full(rows, None, dtype=object)
    # Access keys on most events (a separate generator, so the other columns do not shift).
    keys = np.array(["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", None], dtype=object)
    access_key = keys[np.random.default_rng(seed + 2).integers(0, len(keys), rows)]
    columns = {
        "event_time": pa.array(time.as_unit("us"), type=CLOUDTRAIL_SCHEMA.field("event_time").type),
        "event_version": np.full(rows, "1.09", dtype=object),
        "event_source": source,
        "event_name": names,
        "aws_region": np.full(rows, "us-east-1", dtype=object),
        "source_ip_address": IPS[rng.integers(0, len(IPS), rows)],
        "user_agent": USER_AGENTS[rng.integers(0, len(USER_AGENTS) - 1, rows)],
        "user_identity_type": np.full(rows, "AssumedRole", dtype=object),
        "user_identity_arn": arn,
        "user_identity_account_id": np.full(rows, ACCOUNT, dtype=object),
        "user_identity_principal_id": none,
        "user_identity_user_name": none,
        "user_identity_access_key_id": access_key,
        "user_identity_invoked_by": none,
        "session_issuer_arn": none,
        "session_issuer_user_name": none,
        "mfa_authenticated": none,
        "bucket_name": bucket,
        "object_key": np.where(data_event, "exports/customers-01.csv", None).astype(object),
        "error_code": error,
        "error_message": none,
        "read_only": pa.array(np.isin(names, ["GetObject", "GetBucketPolicy", "ListBuckets"])),
        "management_event": pa.array(~data_event),
        "event_category": np.where(data_event, "Data", "Management").astype(object),
        "event_type": np.full(rows, "AwsApiCall", dtype=object),
        "recipient_account_id": np.full(rows, ACCOUNT, dtype=object),
        "request_id": np.char.add("CT", np.arange(rows).astype(str)).astype(object),
        "event_id": np.char.add("E", np.arange(rows).astype(str)).astype(object),
        "resource_arns": pa.array([None] * rows, type=pa.list_(pa.string())),
        "resource_types": pa.array([None] * rows, type=pa.list_(pa.string())),
        "bytes_transferred_in": pa.array(np.zeros(rows, dtype=np.int64)),
        "bytes_transferred_out": pa.array(np.zeros(rows, dtype=np.int64)),
        "tls_version": np.full(rows, "TLSv1.3", dtype=object),
        "vpc_endpoint_id": none,
        "request_parameters": np.char.add('{"bucketName":"', bucket.astype(str)).astype(object),
        "response_elements": none,
        "additional_event_data": none,
        "resource_account_ids": pa.array([None] * rows, type=pa.list_(pa.string())),
    }
    arrays = [pa.array(columns[f.name], type=f.type) if not isinstance(columns[f.name], pa.Array) else columns[f.name] for f in CLOUDTRAIL_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=CLOUDTRAIL_SCHEMA)


def write_cache(table: pa.Table, cache_dir: Path, name: str, time_column: str, rows_per_file: int = 2_000_000) -> int:
    """Write ``table`` into ``<cache_dir>/<name>/date=YYYY-MM-DD/part-N.parquet``; returns files written."""
    days = pa.compute.strftime(table[time_column], format="%Y-%m-%d")
    files = 0
    for day in sorted(set(days.unique().to_pylist())):
        part = table.filter(pa.compute.equal(days, day))
        folder = Path(cache_dir) / name / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, offset in enumerate(range(0, part.num_rows, rows_per_file)):
            pq.write_table(part.slice(offset, rows_per_file), folder / f"part-{i}.parquet", row_group_size=256_000)
            files += 1
    return files
