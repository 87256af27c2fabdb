"""The canonical columns and types of each log source, in one place.

Every loader produces exactly these columns in this order; queries in ``queries/`` read
them through the logical tables ``s3_access`` and ``cloudtrail``; the Parquet cache stores
them with these Arrow types. Missing values are null, never sentinels.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

#: S3 server access log fields, in the order AWS writes them (27 documented fields).
S3_ACCESS_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("bucket_owner", pa.string()),
    ("bucket", pa.string()),
    ("time", UTC_TS),
    ("remote_ip", pa.string()),
    ("requester", pa.string()),
    ("request_id", pa.string()),
    ("operation", pa.string()),
    ("key", pa.string()),
    ("request_uri", pa.string()),
    ("http_status", pa.int32()),
    ("error_code", pa.string()),
    ("bytes_sent", pa.int64()),
    ("object_size", pa.int64()),
    ("total_time", pa.int64()),
    ("turn_around_time", pa.int64()),
    ("referer", pa.string()),
    ("user_agent", pa.string()),
    ("version_id", pa.string()),
    ("host_id", pa.string()),
    ("signature_version", pa.string()),
    ("cipher_suite", pa.string()),
    ("authentication_type", pa.string()),
    ("host_header", pa.string()),
    ("tls_version", pa.string()),
    ("access_point_arn", pa.string()),
    ("acl_required", pa.string()),
    ("source_region", pa.string()),
)
S3_ACCESS_COLUMNS: tuple[str, ...] = tuple(name for name, _ in S3_ACCESS_FIELDS)
S3_ACCESS_SCHEMA = pa.schema(list(S3_ACCESS_FIELDS))
#: The fewest fields a server access log line has ever had (through ``user_agent``... and
#: ``version_id``/``host_id`` were added later; AWS's oldest lines end at field 17).
S3_ACCESS_MIN_FIELDS = 17

CLOUDTRAIL_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("event_time", UTC_TS),
    ("event_version", pa.string()),
    ("event_source", pa.string()),
    ("event_name", pa.string()),
    ("aws_region", pa.string()),
    ("source_ip_address", pa.string()),
    ("user_agent", pa.string()),
    ("user_identity_type", pa.string()),
    ("user_identity_arn", pa.string()),
    ("user_identity_account_id", pa.string()),
    ("user_identity_principal_id", pa.string()),
    ("user_identity_user_name", pa.string()),
    ("user_identity_access_key_id", pa.string()),
    ("user_identity_invoked_by", pa.string()),
    ("session_issuer_arn", pa.string()),
    ("session_issuer_user_name", pa.string()),
    ("mfa_authenticated", pa.string()),
    ("bucket_name", pa.string()),
    ("object_key", pa.string()),
    ("error_code", pa.string()),
    ("error_message", pa.string()),
    ("read_only", pa.bool_()),
    ("management_event", pa.bool_()),
    ("event_category", pa.string()),
    ("event_type", pa.string()),
    ("recipient_account_id", pa.string()),
    ("request_id", pa.string()),
    ("event_id", pa.string()),
    ("resource_arns", pa.list_(pa.string())),
    ("resource_types", pa.list_(pa.string())),
    ("bytes_transferred_in", pa.int64()),
    ("bytes_transferred_out", pa.int64()),
    ("tls_version", pa.string()),
    ("vpc_endpoint_id", pa.string()),
    ("request_parameters", pa.string()),
    ("response_elements", pa.string()),
    ("additional_event_data", pa.string()),
)
CLOUDTRAIL_COLUMNS: tuple[str, ...] = tuple(name for name, _ in CLOUDTRAIL_FIELDS)
CLOUDTRAIL_SCHEMA = pa.schema(list(CLOUDTRAIL_FIELDS))

#: Logical table -> (schema, time column). Queries, engines and the cache share this map.
TABLES: dict[str, tuple[pa.Schema, str]] = {
    "s3_access": (S3_ACCESS_SCHEMA, "time"),
    "cloudtrail": (CLOUDTRAIL_SCHEMA, "event_time"),
}

#: Columns of a rejected line, wherever it was read.
REJECT_COLUMNS: tuple[str, ...] = ("file", "line", "reason", "text")


def empty_table(name: str) -> pa.Table:
    """An empty Arrow table with the canonical schema of logical table ``name``."""
    schema, _ = TABLES[name]
    return schema.empty_table()
