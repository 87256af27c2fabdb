"""Loading a source's logs into one DataFrame, parsed here or through the Parquet cache.

``load_s3_access`` and ``load_cloudtrail`` are the two entry points (re-exported by
``s3forensics.sources``); with ``cache`` they sync into the cache and read the window back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from s3forensics.schema import CLOUDTRAIL_SCHEMA, S3_ACCESS_SCHEMA
from s3forensics.sources.cache import load_via_cache
from s3forensics.sources.cloudtrail import iter_cloudtrail_tables
from s3forensics.sources.inputs import SourceFile
from s3forensics.sources.report import LoadResult, ReportBuilder
from s3forensics.sources.s3_access import iter_s3_access_tables
from s3forensics.sources.tables import to_pandas


def load_s3_access(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    cache: str | Path | bool | None = None,
    session: Any = None,
    progress: bool = False,
) -> LoadResult:
    """Load S3 server access logs into a DataFrame with the canonical columns.

    Args:
        inputs: files, folders (recursive, gzip or not) and ``s3://bucket/prefix`` locations.
        start: keep records at or after this time (UTC; naive means UTC; ISO text accepted).
        end: keep records before this time.
        cache: a Parquet cache folder (``True`` for the default one): S3 objects are parsed
            into it once, and later loads of the same window read nothing from S3.
        session: a boto3 session for ``s3://`` inputs (default: the standard chain).
        progress: show a progress bar over files.

    Returns:
        LoadResult with ``frame`` (canonical columns, input order) and ``report``.
    """
    return load_tables("s3_access", iter_s3_access_tables, S3_ACCESS_SCHEMA, inputs, start, end, cache=cache, session=session, progress=progress)


def load_cloudtrail(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    cache: str | Path | bool | None = None,
    session: Any = None,
    progress: bool = False,
) -> LoadResult:
    """Load CloudTrail records into a DataFrame with the canonical columns.

    Args:
        inputs: files, folders (recursive, gzip or not) and ``s3://bucket/prefix`` locations.
        start: keep events at or after this time (UTC).
        end: keep events before this time.
        cache: a Parquet cache folder (``True`` for the default), as in ``load_s3_access``.
        session: a boto3 session for ``s3://`` inputs.
        progress: show a progress bar over files.
    """
    return load_tables("cloudtrail", iter_cloudtrail_tables, CLOUDTRAIL_SCHEMA, inputs, start, end, cache=cache, session=session, progress=progress)


def load_tables(
    kind: str,
    iter_tables: Callable[..., Iterator[tuple[list[SourceFile], pa.Table]]],
    schema: pa.Schema,
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None,
    end: datetime | str | None,
    *,
    cache: str | Path | bool | None,
    session: Any,
    progress: bool,
) -> LoadResult:
    """What ``load_s3_access`` and ``load_cloudtrail`` share: through the cache, or parsed here."""
    if cache:
        return load_via_cache(kind, inputs, start, end, cache=cache, session=session, progress=progress)
    report = ReportBuilder(kind)
    tables = [t for _, t in iter_tables(inputs, start, end, report=report, session=session, progress=progress)]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return LoadResult(frame=to_pandas(table), report=report.build())
