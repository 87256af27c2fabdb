"""The canonical columns and types of each log source, in one place.

Every loader produces exactly these columns in this order; queries in ``queries/`` read
them through the logical tables ``s3_access`` and ``cloudtrail``; the Parquet cache stores
them with these Arrow types. Missing values are null, never sentinels.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")
#: Text columns: 64-bit offsets, the layout pandas' ``str`` dtype keeps (no copy to hand
#: a table to pandas, and no 2 GiB limit per column).
TEXT = pa.large_string()

#: S3 server access log fields, in the order AWS writes them (27 documented fields).
S3_ACCESS_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("bucket_owner", TEXT),
    ("bucket", TEXT),
    ("time", UTC_TS),
    ("remote_ip", TEXT),
    ("requester", TEXT),
    ("request_id", TEXT),
    ("operation", TEXT),
    ("key", TEXT),
    ("request_uri", TEXT),
    ("http_status", pa.int32()),
    ("error_code", TEXT),
    ("bytes_sent", pa.int64()),
    ("object_size", pa.int64()),
    ("total_time", pa.int64()),
    ("turn_around_time", pa.int64()),
    ("referer", TEXT),
    ("user_agent", TEXT),
    ("version_id", TEXT),
    ("host_id", TEXT),
    ("signature_version", TEXT),
    ("cipher_suite", TEXT),
    ("authentication_type", TEXT),
    ("host_header", TEXT),
    ("tls_version", TEXT),
    ("access_point_arn", TEXT),
    ("acl_required", TEXT),
    ("source_region", TEXT),
)
S3_ACCESS_COLUMNS: tuple[str, ...] = tuple(name for name, _ in S3_ACCESS_FIELDS)
S3_ACCESS_SCHEMA = pa.schema(list(S3_ACCESS_FIELDS))
#: The fewest fields a server access log line has ever had (through ``user_agent``... and
#: ``version_id``/``host_id`` were added later; AWS's oldest lines end at field 17).
S3_ACCESS_MIN_FIELDS = 17

CLOUDTRAIL_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("event_time", UTC_TS),
    ("event_version", TEXT),
    ("event_source", TEXT),
    ("event_name", TEXT),
    ("aws_region", TEXT),
    ("source_ip_address", TEXT),
    ("user_agent", TEXT),
    ("user_identity_type", TEXT),
    ("user_identity_arn", TEXT),
    ("user_identity_account_id", TEXT),
    ("user_identity_principal_id", TEXT),
    ("user_identity_user_name", TEXT),
    ("user_identity_access_key_id", TEXT),
    ("user_identity_invoked_by", TEXT),
    ("session_issuer_arn", TEXT),
    ("session_issuer_user_name", TEXT),
    ("mfa_authenticated", TEXT),
    ("bucket_name", TEXT),
    ("object_key", TEXT),
    ("error_code", TEXT),
    ("error_message", TEXT),
    ("read_only", pa.bool_()),
    ("management_event", pa.bool_()),
    ("event_category", TEXT),
    ("event_type", TEXT),
    ("recipient_account_id", TEXT),
    ("request_id", TEXT),
    ("event_id", TEXT),
    ("resource_arns", pa.list_(TEXT)),
    ("resource_types", pa.list_(TEXT)),
    ("bytes_transferred_in", pa.int64()),
    ("bytes_transferred_out", pa.int64()),
    ("tls_version", TEXT),
    ("vpc_endpoint_id", TEXT),
    ("request_parameters", TEXT),
    ("response_elements", TEXT),
    ("additional_event_data", TEXT),
    # Added after the first release (columns are added, never renamed): the account of
    # each resource, aligned with resource_arns (a copy into another account's bucket).
    ("resource_account_ids", pa.list_(TEXT)),
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
