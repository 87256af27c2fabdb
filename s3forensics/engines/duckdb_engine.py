"""Embedded DuckDB over the local Parquet cache: the default engine.

Each logical table is a view over ``<cache_dir>/<table>/date=YYYY-MM-DD/*.parquet`` that
selects exactly the canonical columns (the hive ``date`` folder never leaks into it);
when the cache holds no file for a table, the view is an empty table with the canonical
schema. DataFrames or Arrow tables given as ``frames`` (or with ``register``) replace a
table for this connection only. The session runs with ``TimeZone = 'UTC'``.

With ``database`` set to a file, the views persist in that DuckDB database, so other
tools (the DuckDB CLI, a notebook) can open it; the Parquet files stay the only data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from s3forensics.config import Settings
from s3forensics.engines.base import Engine, ExecResult
from s3forensics.errors import EngineError, QueryError
from s3forensics.schema import TABLES

log = logging.getLogger(__name__)

_DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "large_string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "double": "DOUBLE",
}


def duckdb_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type name for a canonical Arrow type."""
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_list(arrow_type):
        return f"{duckdb_type(arrow_type.value_type)}[]"
    name = str(arrow_type)
    if name not in _DUCKDB_TYPES:
        raise EngineError(f"no DuckDB type for Arrow type {arrow_type}")
    return _DUCKDB_TYPES[name]


def _set_statement(setting: str, value: exp.Literal) -> str:
    """``SET setting = value`` built as a tree (the value is a bound literal)."""
    return exp.Set(expressions=[exp.EQ(this=exp.column(setting), expression=value)]).sql("duckdb")


def _table_node(physical: str) -> exp.Table:
    return exp.to_table(physical, dialect="duckdb")


def cache_files(cache_dir: Path, table: str) -> list[Path]:
    """The Parquet files of ``table`` in the cache, sorted."""
    root = Path(cache_dir) / table
    return sorted(root.glob("date=*/*.parquet")) if root.is_dir() else []


def view_sql(physical: str, table: str, cache_dir: Path | None, *, temporary: bool = False) -> str:
    """``CREATE OR REPLACE VIEW`` over the cache (or an empty typed table), built as a tree."""
    schema, _ = TABLES[table]
    files = cache_files(cache_dir, table) if cache_dir is not None else []
    if files:
        pattern = str(Path(cache_dir) / table / "date=*" / "*.parquet")
        source = exp.Table(
            this=exp.Anonymous(
                this="read_parquet",
                expressions=[
                    exp.Literal.string(pattern),
                    exp.EQ(this=exp.column("hive_partitioning"), expression=exp.false()),
                    exp.EQ(this=exp.column("union_by_name"), expression=exp.true()),
                ],
            )
        )
        select = exp.select(*[exp.column(exp.to_identifier(f.name, quoted=True)) for f in schema]).from_(source)
    else:
        columns = [
            exp.alias_(exp.cast(exp.null(), exp.DataType.build(duckdb_type(f.type), dialect="duckdb")), f.name, quoted=True)
            for f in schema
        ]
        select = exp.select(*columns).where(exp.false())
    create = exp.Create(
        this=_table_node(physical),
        kind="VIEW",
        expression=select,
        replace=True,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None,
    )
    return create.sql(dialect="duckdb")


class DuckDBEngine(Engine):
    """Runs the SQL library on embedded DuckDB.

    Args:
        cache_dir: Parquet cache root; default from settings (``S3FORENSICS_CACHE``).
        database: DuckDB database file, or ``":memory:"`` (default).
        frames: logical table -> DataFrame or Arrow table, replacing the cache.
        settings: Settings (table names, cache dir); default ``Settings.from_env()``.
        tables: logical -> physical table names (validated), overriding settings.
        threads: DuckDB worker threads (default: DuckDB's, one per core).
        memory_limit: DuckDB memory limit, e.g. ``"3GB"``.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        database: str | Path = ":memory:",
        frames: Mapping[str, Any] | None = None,
        *,
        settings: Settings | None = None,
        tables: Mapping[str, str] | None = None,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        settings = settings or Settings.from_env()
        super().__init__(tables if tables is not None else settings.table_map)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else Path(settings.cache_dir)
        self.database = str(database)
        if self.database != ":memory:":
            Path(self.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.database)
        except duckdb.Error as exc:
            raise EngineError(f"duckdb: cannot open database {self.database}: {exc}") from exc
        self.con.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            self.con.execute(_set_statement("threads", exp.Literal.number(int(threads))))
        if memory_limit is not None:
            self.con.execute(_set_statement("memory_limit", exp.Literal.string(memory_limit)))
        self._frames: dict[str, Any] = {}
        self.refresh()
        for table, data in (frames or {}).items():
            self.register(table, data)

    def refresh(self) -> None:
        """(Re)create each table's view over the cache, e.g. after the cache grew."""
        for table, physical in self.tables.items():
            if table in self._frames:
                continue
            node = _table_node(physical)
            if node.args.get("db"):
                self.con.execute(exp.Create(this=exp.to_identifier(node.db), kind="SCHEMA", exists=True).sql("duckdb"))
            sql = view_sql(physical, table, self.cache_dir)
            log.debug("duckdb: %s", sql)
            self.con.execute(sql)

    def register(self, table: str, data: Any) -> None:
        """Use ``data`` (DataFrame or Arrow table with the canonical columns) as ``table``.

        Extra columns are ignored; missing ones are an error naming the table.
        """
        if table not in TABLES:
            raise QueryError(f"unknown logical table {table!r} (known: {', '.join(TABLES)})")
        schema, _ = TABLES[table]
        columns = list(schema.names)
        present = list(data.column_names) if isinstance(data, pa.Table) else list(getattr(data, "columns", []))
        missing = [c for c in columns if c not in present]
        if missing:
            raise QueryError(f"data for table {table} lacks canonical columns: {', '.join(missing)}")
        try:
            if isinstance(data, pa.Table):
                arrow = data.select(columns).cast(schema)
            else:
                arrow = pa.Table.from_pandas(pd.DataFrame(data)[columns], schema=schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise QueryError(f"data for table {table} does not fit the canonical schema: {exc}") from exc
        self._frames[table] = arrow
        physical = self.tables[table]
        frame_name = f"__s3f_frame_{table}"
        self.con.register(frame_name, arrow)
        select = exp.select(*[exp.column(exp.to_identifier(c, quoted=True)) for c in columns]).from_(frame_name)
        node = _table_node(physical)
        # In a database file the view is temporary, so a frame never persists there.
        temporary = self.database != ":memory:"
        if node.args.get("db"):
            if temporary:
                raise QueryError(f"frames for a persistent database need an unqualified table name, got {physical!r}")
            self.con.execute(exp.Create(this=exp.to_identifier(node.db), kind="SCHEMA", exists=True).sql("duckdb"))
        properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
        self.con.execute(exp.Create(this=node, kind="VIEW", expression=select, replace=True, properties=properties).sql("duckdb"))

    def _execute(self, sql: str, query_id: str) -> ExecResult:
        frame = self.con.execute(sql).df()
        return ExecResult(frame=frame, bytes_scanned=None, cost_usd=0.0)

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()
