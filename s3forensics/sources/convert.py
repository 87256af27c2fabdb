"""Streaming conversion of logs to JSON lines or Parquet, with rejects beside the output.

The output contract (relied on by other tools): JSON lines hold one object per row in
input order, canonical column names, timestamps ISO-8601 UTC (``2019-02-06T00:00:38Z``),
missing values null. Rejected lines go to ``<OUT stem>.rejects.jsonl`` as
``{file, line, reason, text}``. Tables are written as they are parsed, so memory stays
bounded whatever the input size.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from s3forensics.errors import ConfigError
from s3forensics.schema import TABLES
from s3forensics.sources.report import LoadReport, ReportBuilder, reject_dicts

log = logging.getLogger(__name__)

#: Rows turned into JSON text at once.
JSON_SLICE_ROWS = 200_000

KINDS = {"s3-access": "s3_access", "s3_access": "s3_access", "cloudtrail": "cloudtrail"}


def table_kind(kind: str) -> str:
    """``s3-access``/``s3_access``/``cloudtrail`` -> logical table name."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ConfigError(f"unknown log kind {kind!r}; expected s3-access or cloudtrail") from None


def iter_tables(
    kind: str,
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None,
    end: datetime | str | None,
    report: ReportBuilder,
    session: Any = None,
    progress: bool = False,
    files: Sequence[Any] | None = None,
    on_runs: Any = None,
) -> Iterator[tuple[Any, pa.Table]]:
    """(source files, canonical table) pairs for either kind, streaming (the files are those
    whose rows the table completes).

    ``on_runs`` (S3 access logs only) receives each table's (file, rows) runs before it
    is yielded (see ``iter_s3_access_tables``); a CloudTrail table is one file's rows.
    """
    if table_kind(kind) == "s3_access":
        from s3forensics.sources.s3_access import iter_s3_access_tables

        return iter_s3_access_tables(inputs, start, end, report=report, session=session, progress=progress, files=files,
                                     on_runs=on_runs)
    from s3forensics.sources.cloudtrail import iter_cloudtrail_tables

    return iter_cloudtrail_tables(inputs, start, end, report=report, session=session, progress=progress, files=files)


def rejects_path(out: str | Path) -> Path:
    """``OUT.jsonl``/``OUT.parquet`` -> ``OUT.rejects.jsonl``."""
    out = Path(out)
    return out.with_name(out.name.rsplit(".", 1)[0] + ".rejects.jsonl")


def _iso_times(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """UTC timestamps -> ISO-8601 UTC text, decided row by row (null stays null).

    A time with a zero fraction is ``YYYY-mm-ddTHH:MM:SSZ``; any other has six digits of
    microseconds, ``YYYY-mm-ddTHH:MM:SS.ffffffZ``. The choice never depends on the
    other rows of the table, slice or file.
    """
    micros_ts = pc.cast(col, pa.timestamp("us"))
    micros = pc.cast(micros_ts, pa.int64())
    fraction = pc.subtract(micros, pc.multiply(pc.divide(micros, 1_000_000), 1_000_000))
    whole = pc.strftime(pc.cast(micros_ts, pa.timestamp("s"), safe=False), format="%Y-%m-%dT%H:%M:%S")
    fine = pc.strftime(micros_ts, format="%Y-%m-%dT%H:%M:%S")
    text = pc.if_else(pc.equal(fraction, 0), whole, fine)
    return pc.binary_join_element_wise(text, pa.scalar("Z"), "")


def json_lines(table: pa.Table, con: Any = None) -> list[str]:
    """Rows of a canonical table as JSON texts (input order, ISO UTC times, nulls)."""
    import duckdb

    if table.num_rows == 0:
        return []
    cols = {}
    for name in table.column_names:
        col = table[name]
        cols[name] = _iso_times(col) if pa.types.is_timestamp(col.type) else col
    view = pa.table(cols)
    con = con or duckdb.connect()
    con.register("_rows", view)
    try:
        result = con.sql("SELECT to_json(_rows)::VARCHAR FROM _rows").to_arrow_table()
    finally:
        con.unregister("_rows")
    return result.column(0).to_pylist()


def convert(
    kind: str,
    inputs: Sequence[str | Path] | str | Path,
    out: str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    session: Any = None,
    progress: bool = False,
) -> LoadReport:
    """Convert logs to ``OUT.jsonl`` or ``OUT.parquet`` (streaming) and ``OUT.rejects.jsonl``.

    Args:
        kind: ``s3-access`` or ``cloudtrail``.
        inputs: files, folders or ``s3://`` locations.
        out: output path ending in ``.jsonl`` or ``.parquet``.
        start: keep rows at or after this time (UTC).
        end: keep rows before this time.
        session: boto3 session for ``s3://`` inputs.
        progress: progress bar over files.

    Returns:
        The load report (also describes rejects written beside the output).
    """
    table_name = table_kind(kind)
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise ConfigError(f"output {str(out)!r} must end in .jsonl or .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    schema, _ = TABLES[table_name]
    report = ReportBuilder(table_name)
    partial = out.with_name(out.name + ".partial")
    tables = iter_tables(kind, inputs, start, end, report, session, progress)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(partial, schema, compression="zstd") as writer:
                for _, table in tables:
                    if table.num_rows:
                        writer.write_table(table)
        else:
            import duckdb

            con = duckdb.connect()
            with open(partial, "w", encoding="utf-8", newline="\n") as fh:
                for _, table in tables:
                    for start_row in range(0, table.num_rows, JSON_SLICE_ROWS):
                        lines = json_lines(table.slice(start_row, JSON_SLICE_ROWS), con)
                        if lines:
                            fh.write("\n".join(lines))
                            fh.write("\n")
        os.replace(partial, out)
    finally:
        if partial.exists():
            partial.unlink()
    built = report.build()
    with open(rejects_path(out), "w", encoding="utf-8", newline="\n") as fh:
        for item in reject_dicts(built):
            fh.write(json.dumps(item, ensure_ascii=False))
            fh.write("\n")
    log.info("%s -> %s: %s", kind, out, built.summary())
    return built
