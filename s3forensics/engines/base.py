"""The Engine base class: bookkeeping done once; each engine only runs SQL.

``Engine.run(query_id, **params)`` loads the query, renders it for the engine's dialect
(values bound on the syntax tree, tables mapped), then calls the engine's ``_execute``
and records timing, rows, bytes scanned and cost in ``last_stats``. Errors of the engine
become ``EngineError`` naming the query.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from s3forensics import queries as q
from s3forensics.errors import EngineError, S3ForensicsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryStats:
    """What running one query cost.

    Attributes:
        query_id: the query id, or ``"<sql>"`` for fixed internal SQL.
        engine: engine name (``duckdb`` or ``athena``).
        seconds: wall-clock time of the run, including fetching results.
        rows: rows returned.
        bytes_scanned: bytes the engine read (None when it does not say).
        engine_seconds: engine-side execution time (Athena), else None.
        cost_usd: estimated cost in US dollars (0 for DuckDB).
        execution_id: the engine's id for the run (Athena QueryExecutionId), else None.
        sql: the SQL that ran.
    """

    query_id: str
    engine: str
    seconds: float
    rows: int
    bytes_scanned: int | None = None
    engine_seconds: float | None = None
    cost_usd: float | None = None
    execution_id: str | None = None
    sql: str = field(default="", repr=False)


@dataclass(frozen=True)
class ExecResult:
    """What ``_execute`` returns: the frame and the engine's own statistics."""

    frame: pd.DataFrame
    bytes_scanned: int | None = None
    engine_seconds: float | None = None
    cost_usd: float | None = None
    execution_id: str | None = None


class Engine(ABC):
    """One way of running the SQL library. Subclasses implement ``_execute`` only."""

    #: Engine name, as in ``get_engine(name)``.
    name: ClassVar[str] = ""
    #: Dialect passed to ``queries.render``.
    dialect: ClassVar[str] = ""

    def __init__(self, tables: Mapping[str, str] | None = None) -> None:
        self.tables = q.table_map(tables)
        self.last_stats: QueryStats | None = None
        self.history: list[QueryStats] = []

    # -- what subclasses implement ---------------------------------------------------

    @abstractmethod
    def _execute(self, sql: str, query_id: str) -> ExecResult:
        """Run one SQL statement in this engine's dialect and return its rows."""

    def close(self) -> None:  # noqa: B027 (optional: most engines hold nothing)
        """Release connections (default: nothing to release)."""

    # -- bookkeeping, once ----------------------------------------------------------

    def render(self, query_or_id: q.Query | str, params: Mapping[str, Any] | None = None) -> str:
        """The SQL ``run`` would send, for review (nothing runs)."""
        return q.render(query_or_id, params, dialect=self.dialect, tables=self.tables)

    def run(self, query_or_id: q.Query | str, /, **params: Any) -> pd.DataFrame:
        """Run a library query with parameters; returns its rows as a DataFrame.

        Raises:
            QueryError, ParameterError: bad query id or parameters (before anything runs).
            EngineError: the engine failed (names the query).
        """
        query = q.load_query(query_or_id) if isinstance(query_or_id, str) else query_or_id
        sql = self.render(query, params)
        return self._timed(sql, query.id)

    def sql(self, sql_text: str) -> pd.DataFrame:
        """Run fixed SQL written for this engine's dialect (internal use; no parameters)."""
        return self._timed(sql_text, "<sql>")

    def _timed(self, sql: str, query_id: str) -> pd.DataFrame:
        log.debug("%s: running %s:\n%s", self.name, query_id, sql)
        started = time.perf_counter()
        try:
            result = self._execute(sql, query_id)
        except S3ForensicsError:
            raise
        except Exception as exc:  # the engine's own error types vary; name the query
            raise EngineError(f"{self.name}: query {query_id} failed: {type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - started
        stats = QueryStats(
            query_id=query_id,
            engine=self.name,
            seconds=seconds,
            rows=len(result.frame),
            bytes_scanned=result.bytes_scanned,
            engine_seconds=result.engine_seconds,
            cost_usd=result.cost_usd,
            execution_id=result.execution_id,
            sql=sql,
        )
        self.last_stats = stats
        self.history.append(stats)
        log.info(
            "%s: %s -> %d rows in %.3fs%s",
            self.name,
            query_id,
            stats.rows,
            seconds,
            "" if stats.bytes_scanned is None else f", {stats.bytes_scanned} bytes scanned, ~${stats.cost_usd or 0:.6f}",
        )
        return result.frame

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
