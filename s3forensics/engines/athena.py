"""Amazon Athena through pyathena: the same queries, at the scale of a whole log bucket.

Workgroup, database and output location come from ``Settings`` (``S3FORENSICS_ATHENA_*``);
credentials, region and endpoint from the standard AWS chain (pyathena's internal S3
client ignores an ``endpoint_url`` argument, so the sandbox is reached through
``AWS_ENDPOINT_URL``, which botocore reads itself). Every run reports bytes scanned,
engine time and a cost estimate in ``last_stats``. ``max_bytes_scanned`` stops a query
(StopQueryExecution) as soon as Athena reports more bytes scanned than allowed, and fails
it if the final figure is above; set the workgroup's ``BytesScannedCutoffPerQuery`` too
for a limit Athena enforces itself. ``unload=True`` fetches results through UNLOAD to
Parquet (pyathena's PandasCursor), for large results.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.config import Settings, validate_bucket_name, validate_identifier
from s3forensics.engines.base import Engine, ExecResult
from s3forensics.errors import ConfigError, EngineError

log = logging.getLogger(__name__)

#: Athena's price per TB scanned (USD, us-east-1), billed per MB with a 10 MB minimum.
PRICE_PER_TB_USD = 5.0
MIN_BILLED_BYTES = 10 * 1024 * 1024


def cost_estimate(bytes_scanned: int | None, price_per_tb: float = PRICE_PER_TB_USD) -> float | None:
    """Estimated cost of a query that scanned ``bytes_scanned`` bytes (None if unknown).

    Athena rounds up to the next megabyte with a 10 MB minimum; queries that scan
    nothing (DDL, failed queries) are not charged.
    """
    if bytes_scanned is None:
        return None
    if bytes_scanned <= 0:
        return 0.0
    billed = max(MIN_BILLED_BYTES, math.ceil(bytes_scanned / 2**20) * 2**20)
    return billed / 2**40 * price_per_tb


class BytesScannedLimitError(EngineError):
    """A query scanned more bytes than the engine's ``max_bytes_scanned`` allows."""


class AthenaEngine(Engine):
    """Runs the SQL library on Amazon Athena.

    Args:
        settings: workgroup, database, output location, table names; default from env.
        workgroup: overrides ``settings.athena_workgroup``.
        database: overrides ``settings.athena_database``.
        output_location: ``s3://bucket/prefix/`` for results; overrides settings
            (optional when the workgroup enforces its own).
        region: AWS region; default from the standard chain.
        session: a boto3 session (default: ``s3forensics.aws.session()``).
        tables: logical -> physical names (validated); default from settings.
        max_bytes_scanned: stop and fail a query that scans more than this.
        unload: fetch results via UNLOAD to Parquet (needs an output location).
        poll_interval: seconds between status polls.
        price_per_tb: USD per TB scanned for the cost estimate.
    """

    name = "athena"
    dialect = "athena"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        workgroup: str | None = None,
        database: str | None = None,
        output_location: str | None = None,
        region: str | None = None,
        session: Any | None = None,
        tables: Mapping[str, str] | None = None,
        max_bytes_scanned: int | None = None,
        unload: bool = False,
        poll_interval: float = 1.0,
        price_per_tb: float = PRICE_PER_TB_USD,
    ) -> None:
        settings = settings or Settings.from_env()
        super().__init__(tables if tables is not None else settings.table_map)
        self.workgroup = workgroup or settings.athena_workgroup
        validate_identifier(self.workgroup.replace("-", "_").replace(".", "_"), "workgroup")
        self.database = validate_identifier(database or settings.athena_database, "database")
        self.output_location = output_location or settings.athena_output
        if self.output_location is not None and not self.output_location.startswith("s3://"):
            raise ConfigError(f"Athena output location {self.output_location!r} must start with s3://")
        if unload and not self.output_location:
            raise ConfigError("unload=True needs an Athena output location (S3FORENSICS_ATHENA_OUTPUT)")
        if max_bytes_scanned is not None and max_bytes_scanned <= 0:
            raise ConfigError(f"max_bytes_scanned must be positive, got {max_bytes_scanned}")
        self.max_bytes_scanned = max_bytes_scanned
        self.unload = unload
        self.poll_interval = poll_interval
        self.price_per_tb = price_per_tb
        self._region = region
        self._session = session
        self._connection: Any | None = None

    def _connect(self) -> Any:
        if self._connection is None:
            from pyathena import connect

            from s3forensics import aws

            session = self._session or aws.session(region=self._region)
            kwargs: dict[str, Any] = {
                "work_group": self.workgroup,
                "schema_name": self.database,
                "region_name": self._region or session.region_name,
                "session": session,
                "poll_interval": self.poll_interval,
            }
            if self.output_location:
                kwargs["s3_staging_dir"] = self.output_location
            if self.unload:
                from pyathena.pandas.cursor import PandasCursor

                kwargs["cursor_class"] = PandasCursor
                kwargs["cursor_kwargs"] = {"unload": True}
            self._connection = connect(**kwargs)
        return self._connection

    def _on_poll(self, cursor_box: dict[str, Any], query_id: str) -> Any:
        def check(execution: Any) -> None:
            scanned = getattr(execution, "data_scanned_in_bytes", None)
            if self.max_bytes_scanned is None or scanned is None or scanned <= self.max_bytes_scanned:
                return
            if execution.state not in ("SUCCEEDED", "FAILED", "CANCELLED"):
                try:
                    self._connect().client.stop_query_execution(QueryExecutionId=execution.query_id)
                except Exception as exc:  # noqa: BLE001 (still report the limit, whatever the stop did)
                    log.warning("athena: could not stop query %s: %s", execution.query_id, exc)
            raise BytesScannedLimitError(
                f"athena: query {query_id} scanned {scanned} bytes, above the limit of "
                f"{self.max_bytes_scanned} (execution {execution.query_id} stopped)"
            )

        return check

    def _execute(self, sql: str, query_id: str) -> ExecResult:
        connection = self._connect()
        cursor = connection.cursor(on_poll=self._on_poll({}, query_id))
        try:
            cursor.execute(sql)
            if self.unload:
                frame = cursor.as_pandas()
            else:
                names = [d[0] for d in cursor.description or []]
                frame = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
            scanned = cursor.data_scanned_in_bytes
            engine_ms = cursor.engine_execution_time_in_millis
            execution_id = cursor.query_id
        finally:
            cursor.close()
        if self.max_bytes_scanned is not None and scanned is not None and scanned > self.max_bytes_scanned:
            raise BytesScannedLimitError(
                f"athena: query {query_id} scanned {scanned} bytes, above the limit of {self.max_bytes_scanned}"
            )
        return ExecResult(
            frame=frame,
            bytes_scanned=scanned,
            engine_seconds=None if engine_ms is None else engine_ms / 1000.0,
            cost_usd=cost_estimate(scanned, self.price_per_tb),
            execution_id=execution_id,
        )

    def close(self) -> None:
        """Close the pyathena connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# --- setup: raw tables with partition projection, and the canonical views ------------

#: The DDL files, in the order they run.
DDL_FILES: tuple[str, ...] = ("01_s3_access_raw.sql", "02_cloudtrail_raw.sql", "03_s3_access_view.sql", "04_cloudtrail_view.sql")
_PREFIX = re.compile(r"^(?:[A-Za-z0-9!_.*'()\-]+/)*$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]$")
_DAY = re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$")


@dataclass(frozen=True)
class AthenaLayout:
    """Where the logs are, for ``setup_statements`` (every part validated).

    Attributes:
        log_bucket: bucket receiving server access logs.
        source_buckets: buckets whose access logs use the date-partitioned layout there.
        access_prefix: target prefix of those logs (``""`` or ending in ``/``).
        account_id: the account that owns the source buckets and the trail.
        regions: regions of the trail (the first is the source buckets' region).
        cloudtrail_bucket: bucket receiving CloudTrail logs (default: ``log_bucket``).
        first_day: first day partition projection covers (``yyyy/MM/dd``).
    """

    log_bucket: str
    source_buckets: tuple[str, ...]
    access_prefix: str = "s3-access/"
    account_id: str = "111122223333"
    regions: tuple[str, ...] = ("us-east-1",)
    cloudtrail_bucket: str | None = None
    first_day: str = "2024/01/01"

    def __post_init__(self) -> None:
        validate_bucket_name(self.log_bucket)
        if self.cloudtrail_bucket is not None:
            validate_bucket_name(self.cloudtrail_bucket)
        if not self.source_buckets:
            raise ConfigError("at least one source bucket is needed for the access-log table")
        for bucket in self.source_buckets:
            validate_bucket_name(bucket)
        if not _PREFIX.match(self.access_prefix):
            raise ConfigError(f"access-log prefix {self.access_prefix!r} must be empty or plain folder names ending in '/'")
        if not _ACCOUNT.match(self.account_id):
            raise ConfigError(f"account id {self.account_id!r} must be 12 digits")
        if not self.regions:
            raise ConfigError("at least one region is needed")
        for region in self.regions:
            if not _REGION.match(region):
                raise ConfigError(f"region {region!r} is not a region name like us-east-1")
        if not _DAY.match(self.first_day):
            raise ConfigError(f"first day {self.first_day!r} must read yyyy/MM/dd")

    def values(self) -> dict[str, dict[str, str]]:
        """Per DDL file, the placeholder values (plain text, bound as literals)."""
        access_root = f"s3://{self.log_bucket}/{self.access_prefix}{self.account_id}/{self.regions[0]}/"
        trail_root = f"s3://{self.cloudtrail_bucket or self.log_bucket}/AWSLogs/"
        date_range = f"{self.first_day},NOW"
        return {
            "01_s3_access_raw.sql": {
                "location": access_root,
                "template": access_root + "${source_bucket}/${date}/",
                "source_buckets": ",".join(self.source_buckets),
                "date_range": date_range,
            },
            "02_cloudtrail_raw.sql": {
                "location": trail_root,
                "template": trail_root + "${account}/CloudTrail/${region}/${date}/",
                "accounts": self.account_id,
                "regions": ",".join(self.regions),
                "date_range": date_range,
            },
        }


def ddl_dir() -> Path:
    """The folder of the Athena DDL files."""
    from s3forensics.queries import queries_dir

    return queries_dir() / "ddl"


def setup_statements(layout: AthenaLayout, database: str = "s3forensics", tables: Mapping[str, str] | None = None) -> list[str]:
    """The DDL that creates the database, the raw tables and the canonical views.

    Values are bound as literals on the sqlglot tree; table names are the validated
    physical names (``tables``, default ``s3_access``/``cloudtrail``), qualified with
    ``database``; raw tables are named ``<view>_raw``.
    """
    import sqlglot
    from sqlglot import exp

    from s3forensics.queries import table_map

    validate_identifier(database, "database")
    physical = table_map(tables)
    names: dict[str, str] = {}
    for logical, name in physical.items():
        qualified = name if "." in name else f"{database}.{name}"
        names[logical] = qualified
        names[f"{logical}_raw"] = qualified + "_raw"
    create_db = exp.Create(this=exp.Table(this=exp.to_identifier(database)), kind="DATABASE", exists=True)
    statements = [create_db.sql(dialect="athena")]
    values = layout.values()
    for file_name in DDL_FILES:
        path = ddl_dir() / file_name
        tree = sqlglot.parse_one(path.read_text(encoding="utf-8"), read="athena")
        bound_values = values.get(file_name, {})

        def transform(node: exp.Expression, bound_values: dict[str, str] = bound_values, path: Path = path) -> exp.Expression:
            if isinstance(node, exp.Placeholder):
                if node.name not in bound_values:
                    raise ConfigError(f"{path}: placeholder :{node.name} has no value")
                return exp.Literal.string(bound_values[node.name])
            if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
                return exp.to_table(names[node.name])
            return node

        bound = tree.transform(transform)
        bound.comments = None
        statements.append(bound.sql(dialect="athena", pretty=True))
    return statements
