"""The SQL library: loads ``queries/*.sql``, validates and binds parameters, transpiles.

Each query is one file in Athena's (Trino) dialect, with a header of one-line comments::

    -- description: Requests per hour per bucket and HTTP status.
    -- sources: s3_access
    -- param top: integer = 20 -- how many rows to return

A query over logs (any ``sources``) takes the time window ``:start``/``:end`` (timestamps;
see :data:`WINDOW_PARAMS`), declared here once; a header restates one only to describe it
otherwise (``-- param start: timestamp -- first hour of history``).

Values enter only through ``:name`` placeholders and are bound as literals on the sqlglot
syntax tree; logical tables (``s3_access``, ``cloudtrail``) are mapped to validated
physical names on the same tree. Nothing is ever formatted into SQL text.

Partition pruning on Athena: the Athena views (``queries/ddl/``) expose the raw table's
date partition as a column ``"date"`` (``'yyyy/MM/dd'`` text). When rendering for Athena,
every reference to a logical log table in a query with a ``start``/``end`` window becomes
``(SELECT * FROM <physical> WHERE "date" BETWEEN '<start day>' AND '<end day>') AS <name>``,
so partition projection reads only the days of the window. On DuckDB the Parquet
row-group statistics on the time column do the same job and ``date`` is never exposed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from s3forensics.config import validate_identifier, validate_qualified_name
from s3forensics.errors import ParameterError, QueryError
from s3forensics.schema import TABLES
from s3forensics.vocabulary import Window, utc_time

log = logging.getLogger(__name__)

#: Where the query files live (``S3FORENSICS_QUERIES`` overrides, for users' own queries).
QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"

#: Parameter types a header may declare.
PARAM_TYPES: tuple[str, ...] = ("timestamp", "integer", "bigint", "double", "varchar", "boolean", "array(varchar)")

#: The dialects ``render`` produces.
DIALECTS: tuple[str, ...] = ("athena", "duckdb")

#: Name of the Athena views' partition column (``'yyyy/MM/dd'`` text).
PARTITION_COLUMN = "date"
PARTITION_FORMAT = "%Y/%m/%d"


def partition_day(when: Any) -> str:
    """``yyyy/MM/dd`` of a date, the year always four digits (``%Y`` gives ``999`` for the
    year 999 on glibc, and such a filter would match nothing)."""
    return f"{when.year:04d}/{when.month:02d}/{when.day:02d}"

_QUERY_ID = re.compile(r"^[a-z][a-z0-9_]*__[a-z0-9_]+$")
_PARAM_LINE = re.compile(
    r"^param\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<type>[a-z]+(?:\(varchar\))?)"
    r"\s*(?:=\s*(?P<default>.*?))?\s*--\s*(?P<description>.+)$"
)
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
_READ_DIALECT = "trino"


@dataclass(frozen=True)
class Param:
    """One declared parameter of a query.

    Attributes:
        name: placeholder name (``:name`` in the SQL).
        type: one of ``PARAM_TYPES``.
        default: the typed default, or None when the parameter is required.
        required: True when the header gives no default.
        description: one line for humans.
    """

    name: str
    type: str
    default: Any
    required: bool
    description: str


#: The time window every query over logs takes, first among its parameters.
WINDOW_PARAMS: tuple[Param, ...] = (
    Param("start", "timestamp", None, True, "window start, inclusive (UTC)"),
    Param("end", "timestamp", None, True, "window end, exclusive (UTC)"),
)


@dataclass(frozen=True)
class Query:
    """One query file.

    Attributes:
        id: the file stem, e.g. ``s3_access__top_remote_ips``.
        description: what question it answers.
        sources: logical tables it reads.
        params: declared parameters, in header order.
        sql: the SQL text after the header (Athena/Trino dialect).
        path: the file it was read from.
    """

    id: str
    description: str
    sources: tuple[str, ...]
    params: tuple[Param, ...]
    sql: str
    path: Path

    def param(self, name: str) -> Param:
        """The declared parameter ``name``."""
        for param in self.params:
            if param.name == name:
                return param
        raise ParameterError(f"query {self.id}: no parameter {name!r} (declared: {', '.join(self.param_names) or 'none'})")

    @property
    def param_names(self) -> tuple[str, ...]:
        """Declared parameter names, in header order."""
        return tuple(p.name for p in self.params)

    @property
    def has_window(self) -> bool:
        """True when the query takes a ``start``/``end`` time window."""
        names = set(self.param_names)
        return {"start", "end"} <= names


def queries_dir() -> Path:
    """The folder queries are loaded from."""
    env = os.environ.get("S3FORENSICS_QUERIES")
    return Path(env).expanduser() if env else QUERIES_DIR


# --- loading ------------------------------------------------------------------------


def _parse_default(raw: str, type_: str, where: str) -> Any:
    text = raw.strip()
    if type_ == "array(varchar)":
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise QueryError(f"{where}: default {text!r} for array(varchar) must be a JSON list of strings") from exc
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise QueryError(f"{where}: default {text!r} for array(varchar) must be a JSON list of strings")
        return tuple(value)
    if type_ == "varchar" and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    try:
        return coerce_value(type_, text, "default")
    except ParameterError as exc:
        raise QueryError(f"{where}: {exc}") from exc


def parse_query_text(text: str, query_id: str, path: Path) -> Query:
    """Parse a query file's header and SQL, and check it (names ``path:line`` on error)."""
    description: str | None = None
    sources: tuple[str, ...] | None = None
    params: list[Param] = []
    lines = text.splitlines()
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            body_start = number - 1
            break
        content = stripped[2:].strip()
        where = f"{path}:{number}"
        if content.startswith("description:"):
            description = content.split(":", 1)[1].strip()
        elif content.startswith("sources:"):
            sources = tuple(s.strip() for s in content.split(":", 1)[1].split(",") if s.strip())
            for source in sources:
                if source not in TABLES:
                    raise QueryError(f"{where}: unknown source {source!r} (known: {', '.join(TABLES)})")
        elif content.startswith("param "):
            match = _PARAM_LINE.match(content)
            if not match:
                raise QueryError(
                    f"{where}: parameter line must read 'param NAME: TYPE [= DEFAULT] -- description', got {content!r}"
                )
            name, type_ = match["name"], match["type"]
            if type_ not in PARAM_TYPES:
                raise QueryError(f"{where}: parameter {name}: unknown type {type_!r} (known: {', '.join(PARAM_TYPES)})")
            if any(p.name == name for p in params):
                raise QueryError(f"{where}: parameter {name} declared twice")
            raw_default = match["default"]
            default = None if raw_default is None else _parse_default(raw_default, type_, f"{where}: parameter {name}")
            params.append(Param(name, type_, default, raw_default is None, match["description"].strip()))
        # Any other comment line in the header is free text.
    if not description:
        raise QueryError(f"{path}: header has no '-- description:' line")
    if sources is None:
        raise QueryError(f"{path}: header has no '-- sources:' line")
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not sql:
        raise QueryError(f"{path}: no SQL after the header")
    if sources:
        for window in WINDOW_PARAMS:
            restated = next((p for p in params if p.name == window.name), None)
            if restated is not None and (restated.type != window.type or not restated.required):
                raise QueryError(f"{path}: the window parameter {window.name} is a required timestamp; "
                                 f"drop its '-- param' line or declare '-- param {window.name}: timestamp -- ...'")
        window_names = {w.name for w in WINDOW_PARAMS}
        explicit = {p.name: p for p in params}
        params = [explicit.get(w.name, w) for w in WINDOW_PARAMS] + [p for p in params if p.name not in window_names]
    query = Query(query_id, description, sources, tuple(params), sql, path)
    _check(query, body_start)
    return query


def _check(query: Query, body_start: int) -> None:
    tree = _parse(query)
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    if any(not p.name for p in tree.find_all(exp.Placeholder)):
        raise QueryError(f"{query.path}: positional placeholder '?' is not allowed; use :name")
    declared = set(query.param_names)
    if query.sources and not {w.name for w in WINDOW_PARAMS} <= used:
        raise QueryError(f"{query.path}: a query over logs must filter on its window :start and :end")
    if used - declared:
        raise QueryError(f"{query.path}: placeholders used but not declared: {', '.join(sorted(used - declared))}")
    if declared - used:
        raise QueryError(f"{query.path}: parameters declared but not used: {', '.join(sorted(declared - used))}")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = {t.name for t in tree.find_all(exp.Table) if not t.args.get("db")} - ctes
    unknown = tables - set(query.sources)
    if unknown:
        raise QueryError(f"{query.path}: reads tables not declared in '-- sources:': {', '.join(sorted(unknown))}")


def _parse(query: Query) -> exp.Expression:
    try:
        statements = sqlglot.parse(query.sql, read=_READ_DIALECT)
    except ParseError as exc:
        raise QueryError(f"{query.path}: SQL does not parse as Trino: {exc}") from exc
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise QueryError(f"{query.path}: expected exactly one SQL statement, found {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise QueryError(f"{query.path}: only SELECT queries are allowed, found {tree.key.upper()}")
    return tree


@lru_cache(maxsize=256)
def _load_path(path: Path, mtime: float) -> Query:
    return parse_query_text(path.read_text(encoding="utf-8"), path.stem, path)


#: Query ids that were renamed -> their names now; scripts using the old ones keep working.
RENAMED: dict[str, str] = {
    "detect__window_rows": "coverage__window_rows",
    "detect__request_metrics": "s3_access__request_metrics",
    "detect__hourly_activity": "detect__baseline_deviation",
}


def load_query(query_id: str) -> Query:
    """Load and check one query by id (the file stem).

    Raises:
        QueryError: the id is unknown or the file is ill-formed (names the file and line).
    """
    if isinstance(query_id, str) and query_id in RENAMED and not (queries_dir() / f"{query_id}.sql").is_file():
        log.warning("query %s is now called %s", query_id, RENAMED[query_id])
        query_id = RENAMED[query_id]
    if not isinstance(query_id, str) or not _QUERY_ID.match(query_id):
        raise QueryError(f"query id {query_id!r} is not of the form source__what (lowercase, digits, underscores)")
    path = queries_dir() / f"{query_id}.sql"
    if not path.is_file():
        known = ", ".join(q.stem for q in sorted(queries_dir().glob("*.sql")))
        raise QueryError(f"unknown query {query_id!r} (no {path}); known: {known}")
    return _load_path(path, path.stat().st_mtime)


def list_queries() -> list[Query]:
    """Every query in the library, sorted by id (each one loaded and checked)."""
    return [load_query(path.stem) for path in sorted(queries_dir().glob("*.sql"))]


# --- parameter values ---------------------------------------------------------------


def coerce_value(type_: str, value: Any, name: str) -> Any:
    """Check and convert ``value`` to a parameter of SQL type ``type_``.

    Strings are accepted for every type (as typed on a command line): ISO-8601 times,
    decimal numbers, ``true``/``false``, and comma-separated or JSON lists.

    Raises:
        ParameterError: the value does not fit the type (names the parameter).
    """
    if value is None:
        raise ParameterError(f"parameter {name}: a value is required, got None")
    if type_ == "timestamp":
        return utc_time(value, f"parameter {name}")
    if type_ in ("integer", "bigint"):
        if isinstance(value, bool):
            raise ParameterError(f"parameter {name}: expected {type_}, got a boolean")
        if isinstance(value, str):
            try:
                value = int(value.strip(), 10)
            except ValueError as exc:
                raise ParameterError(f"parameter {name}: {value!r} is not an {type_}") from exc
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) and type(value).__name__.startswith("int"):
            value = int(value)  # numpy integers
        if not isinstance(value, int):
            raise ParameterError(f"parameter {name}: expected {type_}, got {type(value).__name__} {value!r}")
        low, high = _INT_RANGE[type_]
        if not low <= value <= high:
            raise ParameterError(f"parameter {name}: {value} is out of range for {type_}")
        return value
    if type_ == "double":
        if isinstance(value, bool):
            raise ParameterError(f"parameter {name}: expected double, got a boolean")
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"parameter {name}: {value!r} is not a number") from exc
        if not math.isfinite(number):
            raise ParameterError(f"parameter {name}: {value!r} is not a finite number")
        return number
    if type_ == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ParameterError(f"parameter {name}: expected true or false, got {value!r}")
    if type_ == "varchar":
        if not isinstance(value, str):
            raise ParameterError(f"parameter {name}: expected text, got {type(value).__name__} {value!r}")
        if "\x00" in value:
            raise ParameterError(f"parameter {name}: text must not contain NUL characters")
        return value
    if type_ == "array(varchar)":
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError as exc:
                    raise ParameterError(f"parameter {name}: {value!r} is not a JSON list") from exc
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
            items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
            for item in items:
                coerce_value("varchar", item, name)
            return tuple(items)
        raise ParameterError(f"parameter {name}: expected a list of strings, got {value!r}")
    raise ParameterError(f"parameter {name}: unknown type {type_!r}")


def bind_values(query: Query, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Typed values for every declared parameter: given ones checked, defaults filled in.

    Raises:
        ParameterError: an unknown, missing or ill-typed parameter, or ``end < start``.
    """
    given = dict(params or {})
    unknown = set(given) - set(query.param_names)
    if unknown:
        raise ParameterError(
            f"query {query.id}: unknown parameter(s) {', '.join(sorted(unknown))} "
            f"(declared: {', '.join(query.param_names) or 'none'})"
        )
    values: dict[str, Any] = {}
    for param in query.params:
        if param.name in given and given[param.name] is not None:
            try:
                values[param.name] = coerce_value(param.type, given[param.name], param.name)
            except ParameterError as exc:
                raise ParameterError(f"query {query.id}: {exc}") from exc
        elif param.required:
            raise ParameterError(f"query {query.id}: missing required parameter {param.name} ({param.type}: {param.description})")
        else:
            values[param.name] = param.default
    if query.has_window:
        Window.parse(values["start"], values["end"], context=f"query {query.id}")
    return values


# --- rendering ----------------------------------------------------------------------


def _timestamp_text(value: dt.datetime) -> str:
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    return naive.isoformat(sep=" ", timespec="microseconds" if naive.microsecond else "seconds")


def literal(type_: str, value: Any) -> exp.Expression:
    """The sqlglot literal node for a typed parameter value."""
    if type_ == "timestamp":
        return exp.cast(exp.Literal.string(_timestamp_text(value)), exp.DataType.build("timestamp"))
    if type_ in ("integer", "bigint"):
        node: exp.Expression = exp.Literal.number(abs(value))
        return exp.Neg(this=node) if value < 0 else node
    if type_ == "double":
        node = exp.Literal.number(repr(abs(value)))
        return exp.Neg(this=node) if value < 0 else node
    if type_ == "boolean":
        return exp.Boolean(this=bool(value))
    if type_ == "varchar":
        return exp.Literal.string(value)
    if type_ == "array(varchar)":
        array = exp.Array(expressions=[exp.Literal.string(v) for v in value])
        return exp.cast(array, exp.DataType.build("array<varchar>", dialect=_READ_DIALECT))
    raise ParameterError(f"unknown parameter type {type_!r}")


def table_map(tables: Mapping[str, str] | None) -> dict[str, str]:
    """Logical -> validated physical table names (identity for tables not mapped)."""
    mapping = {name: name for name in TABLES}
    for logical, physical in (tables or {}).items():
        validate_identifier(logical, "logical table")
        if logical not in TABLES:
            raise QueryError(f"unknown logical table {logical!r} (known: {', '.join(TABLES)})")
        mapping[logical] = validate_qualified_name(physical, f"physical table for {logical}")
    return mapping


def _partition_filter(physical: exp.Table, alias: str, start: dt.datetime, end: dt.datetime) -> exp.Expression:
    """``(SELECT * FROM physical WHERE "date" BETWEEN 'd0' AND 'd1') AS alias``."""
    column = exp.column(exp.to_identifier(PARTITION_COLUMN, quoted=True))
    # The window's end is exclusive: a window ending at midnight does not read that day.
    last = end - dt.timedelta(microseconds=1) if end > start else end
    predicate = exp.Between(
        this=column,
        low=exp.Literal.string(partition_day(start)),
        high=exp.Literal.string(partition_day(last)),
    )
    select = exp.select(exp.Star()).from_(physical).where(predicate)
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def bind(query: Query, params: Mapping[str, Any] | None = None, tables: Mapping[str, str] | None = None, *, partition_filter: bool = False) -> exp.Expression:
    """The query's syntax tree (Trino) with values bound and tables mapped.

    Args:
        query: a loaded query.
        params: parameter values (defaults fill the rest).
        tables: logical -> physical table names (validated).
        partition_filter: wrap each log table in a ``"date"`` partition predicate (Athena).
    """
    values = bind_values(query, params)
    mapping = table_map(tables)
    tree = _parse(query)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}

    def transform(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if node.name not in values:
                raise ParameterError(f"query {query.id}: placeholder :{node.name} is not bound")
            return literal(query.param(node.name).type, values[node.name])
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in mapping and node.name not in ctes:
            alias = node.alias or node.name
            physical = exp.to_table(mapping[node.name])
            if partition_filter and query.has_window:
                return _partition_filter(physical, alias, values["start"], values["end"])
            physical.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            return physical
        return node

    bound = tree.transform(transform)
    leftover = [p.sql() for p in bound.find_all(exp.Placeholder)]
    if leftover:
        raise ParameterError(f"query {query.id}: unbound placeholders remain: {', '.join(leftover)}")
    return bound


def render(
    query_or_id: Query | str,
    params: Mapping[str, Any] | None = None,
    dialect: str = "athena",
    tables: Mapping[str, str] | None = None,
    *,
    pretty: bool = True,
    partition_filter: bool | None = None,
) -> str:
    """Render a query for ``dialect`` with parameters bound on the syntax tree.

    Args:
        query_or_id: a Query or a query id.
        params: parameter values; missing ones take their defaults.
        dialect: ``"athena"`` (Trino) or ``"duckdb"``.
        tables: logical -> physical table names; each physical name must be a plain
            ``name``, ``schema.name`` or ``catalog.schema.name``.
        pretty: indent the SQL.
        partition_filter: add the ``"date"`` partition predicate; default True on Athena.

    Raises:
        QueryError, ParameterError, ConfigError: before anything runs.
    """
    query = load_query(query_or_id) if isinstance(query_or_id, str) else query_or_id
    if dialect not in DIALECTS:
        raise QueryError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})")
    if partition_filter is None:
        partition_filter = dialect == "athena"
    tree = bind(query, params, tables, partition_filter=partition_filter)
    if dialect == "athena":
        return tree.sql(dialect="trino", pretty=pretty)
    from s3forensics.engines.rewrites import to_duckdb

    return to_duckdb(tree, query.id).sql(dialect="duckdb", pretty=pretty)
