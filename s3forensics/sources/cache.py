"""The local Parquet cache: ``<cache_dir>/<table>/date=YYYY-MM-DD/*.parquet``.

``sync`` parses log files into the cache, streaming (rows are buffered per date and
flushed in bounded batches). A manifest remembers which files/objects were ingested (by
name and ETag or size+mtime), which part files hold their rows, and which windows of
each S3 location were fully listed, so loading the same window again reads nothing from
S3 and a later window fetches only new objects. Each part file records, in its Parquet
metadata, which source file each run of its rows came from; when a source file changes,
its earlier rows are removed from those parts before it is parsed again, so it is never
cached twice. A window is recorded as complete only once its end plus the delivery lag
has passed and its listing found at least one object (an empty listing may only mean
the logs were not uploaded yet, so it is listed again next time). Whole files are cached (every row, whatever the window), so a later, wider
window never misses rows of a file already ingested. The manifest lives outside the
table folders (``<cache_dir>/_manifests/``) so engines globbing ``date=*/*.parquet``
never see it.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from s3forensics.config import default_cache_dir
from s3forensics.errors import ConfigError
from s3forensics.schema import TABLES
from s3forensics.sources import inputs as inp
from s3forensics.sources.convert import iter_tables, table_kind
from s3forensics.sources.listing import expand_inputs
from s3forensics.sources.report import LoadReport, LoadResult, ReportBuilder
from s3forensics.sources.tables import filter_window, to_pandas
from s3forensics.vocabulary import Window

log = logging.getLogger(__name__)

#: Rows buffered before the per-date buffers are written out.
FLUSH_ROWS = 500_000


def _manifest_path(cache_dir: Path, table: str) -> Path:
    return cache_dir / "_manifests" / f"{table}.jsonl"


#: Parquet metadata key of a part file's (source file, rows) runs, in row order.
RUNS_KEY = b"s3forensics.source_runs"


def _read_manifest(path: Path) -> tuple[dict[str, str], dict[str, list[str]], list[dict[str, Any]]]:
    """(file -> version, file -> part files holding its rows, listed windows)."""
    files: dict[str, str] = {}
    parts: dict[str, list[str]] = {}
    windows: list[dict[str, Any]] = []
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if "file" in entry:
                    files[entry["file"]] = entry["version"]
                    parts[entry["file"]] = entry.get("parts") or []
                elif "location" in entry:
                    windows.append(entry)
    return files, parts, windows


def _version(sf: inp.SourceFile) -> str:
    if sf.bucket is not None:
        return f"etag:{sf.etag}:{sf.size}"
    stat = sf.path.stat() if sf.path is not None else None
    return f"local:{stat.st_size}:{stat.st_mtime_ns}" if stat else "unknown"


def _covered(windows: list[dict[str, Any]], location: str, start: datetime | None, end: datetime | None) -> bool:
    if start is None or end is None:
        return False
    for w in windows:
        if w["location"] == location and w["start"] <= start.isoformat() and end.isoformat() <= w["end"] and w.get("complete"):
            return True
    return False


def sync(
    kind: str,
    inputs: Sequence[str | Path] | str | Path,
    cache_dir: str | Path | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    session: Any = None,
    progress: bool = False,
    lag: timedelta = inp.DEFAULT_DELIVERY_LAG,
) -> LoadReport:
    """Parse new log files of ``inputs`` (pruned to the window by key name) into the cache.

    Returns the report of what was read now (``rows`` = rows written to the cache).
    """
    table = table_kind(kind)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    start, end = Window.parse(start, end)
    manifest = _manifest_path(cache_dir, table)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    known, parts_of, windows = _read_manifest(manifest)
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    todo: list[inp.SourceFile] = []
    listed: list[str] = []
    found: dict[str, int] = {}  # objects (or log rows) each listed location had
    report = ReportBuilder(table)
    logs_inputs: list[str] = []
    for value in inputs:
        if inp.is_logs(value):
            # Log groups are read for the window (rows of that window only, without those
            # of windows already cached for the same group, so nothing is cached twice).
            if start is None or end is None:
                raise ConfigError(f"{value}: syncing a CloudWatch Logs group needs both start and end")
            if _covered(windows, str(value), start, end):
                log.info("%s: window already cached; nothing read", value)
            else:
                logs_inputs.append(str(value))
                listed.append(str(value))
            continue
        if inp.is_s3(value) and _covered(windows, str(value), start, end):
            log.info("%s: window already cached; nothing read from S3", value)
            continue
        expanded = expand_inputs([value], start, end, session=session, lag=lag)
        files = expanded.files
        for location, reason in expanded.skipped:
            report.skip(location, reason)
        todo.extend(sf for sf in files if known.get(sf.name) != _version(sf))
        if inp.is_s3(value):
            listed.append(str(value))
            found[str(value)] = found.get(str(value), 0) + len(files)
    root = cache_dir / table
    for sf in todo:
        if sf.name in known:  # changed since it was cached: drop its earlier rows first
            _remove_rows(root, parts_of.get(sf.name, []), sf.name, report)
    writer = _DateWriter(root, TABLES[table][1])
    done: list[dict[str, Any]] = []
    latest_runs: list[list[tuple[str, int]]] = []

    def finish(batch: Sequence[inp.SourceFile]) -> None:
        nonlocal done
        done.extend({"file": sf.name, "version": _version(sf)} for sf in batch)
        if writer.buffered >= FLUSH_ROWS:
            writer.flush()
            _append_manifest(manifest, _with_parts(done, writer))
            done = []

    for batch, parsed in iter_tables(kind, [], None, None, report, session, progress, files=todo, on_runs=latest_runs.append):
        if table == "s3_access":
            runs: list[tuple[str | None, int]] = list(latest_runs.pop()) if latest_runs else []
        else:
            runs = [(batch[0].name, parsed.num_rows)] if len(batch) == 1 else []
        writer.add(parsed, runs)
        finish(batch)
    for url, parsed in _logs_tables(kind, logs_inputs, windows, start, end, report, session):
        found[url] = found.get(url, 0) + parsed.num_rows
        writer.add(parsed, [])
        finish([])
    writer.flush()
    # Files that yielded no table (skipped digests, unreadable) are not remembered, so a
    # later sync retries them; files that parsed (even with rejects) are.
    _append_manifest(manifest, _with_parts(done, writer))
    now = datetime.now(UTC)
    _append_manifest(
        manifest,
        [
            {
                "location": loc,
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                # Logs may still arrive for a window until its end + delivery lag has passed,
                # and an empty listing may mean they were not uploaded yet: list it again.
                "complete": bool(end and now > end + lag and found.get(loc, 0) > 0),
                "objects": found.get(loc, 0),
                "listed_at": now.isoformat(),
            }
            for loc in listed
        ],
    )
    built = report.build()
    log.info("sync %s: %s", table, built.summary())
    return built


def _with_parts(entries: list[dict[str, Any]], writer: _DateWriter) -> list[dict[str, Any]]:
    """Manifest file entries with the part files (relative to the table folder) of their rows."""
    return [{**e, "parts": sorted(writer.parts_of.get(e["file"], ()))} for e in entries]


def _runs_of(path: Path) -> list[tuple[str | None, int]] | None:
    meta = pq.read_schema(path).metadata or {}
    if RUNS_KEY not in meta:
        return None
    return [(name, int(n)) for name, n in json.loads(meta[RUNS_KEY])]


def _remove_rows(root: Path, parts: Sequence[str], name: str, report: ReportBuilder) -> None:
    """Rewrite the part files ``parts`` without the rows that came from source file ``name``."""
    removed = 0
    for rel in parts:
        path = root / rel
        if not path.exists():
            continue
        runs = _runs_of(path)
        if runs is None:
            report.note(f"{name}: changed since it was cached, but {path} does not record which rows came from it "
                        "(written by an older version); delete the cache folder to avoid duplicate rows")
            continue
        keep = np.repeat(np.array([run != name for run, _ in runs], dtype=bool), [n for _, n in runs])
        if keep.all():
            continue
        removed += int((~keep).sum())
        kept_runs = [(run, n) for run, n in runs if run != name]
        if not kept_runs:
            path.unlink()
            continue
        part = pq.read_table(path).filter(pa.array(keep))
        _write_part(part, path, kept_runs)
    if removed:
        log.info("%s changed since it was cached: %d earlier rows removed from the cache", name, removed)
        report.note(f"{name}: changed since it was cached; its {removed} earlier rows were replaced")


def _merge_runs(runs: Sequence[tuple[str | None, int]]) -> list[tuple[str | None, int]]:
    out: list[tuple[str | None, int]] = []
    for name, n in runs:
        if n <= 0:
            continue
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + n)
        else:
            out.append((name, n))
    return out


def _write_part(part: pa.Table, target: Path, runs: Sequence[tuple[str | None, int]]) -> None:
    """Write one part file atomically, with its (source file, rows) runs in its metadata."""
    meta = dict(part.schema.metadata or {})
    meta[RUNS_KEY] = json.dumps(_merge_runs(runs)).encode()
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(part.replace_schema_metadata(meta), tmp, compression="zstd")
    os.replace(tmp, target)


def _logs_tables(
    kind: str, urls: list[str], windows: list[dict[str, Any]], start: datetime | None, end: datetime | None,
    report: ReportBuilder, session: Any,
) -> Any:
    """Tables of ``logs://`` inputs for the window, minus rows of windows already cached."""
    time_column = TABLES[table_kind(kind)][1]
    for url in urls:
        done = [(w["start"], w["end"]) for w in windows if w["location"] == url and w.get("start") and w.get("end")]
        for _, parsed in iter_tables(kind, [url], start, end, report, session, files=[]):
            for lo, hi in done:
                col = parsed[time_column]
                inside = pc.and_(pc.greater_equal(col, pa.scalar(datetime.fromisoformat(lo), col.type)),
                                 pc.less(col, pa.scalar(datetime.fromisoformat(hi), col.type)))
                dropped = pc.sum(pc.cast(inside, pa.int64())).as_py() or 0
                if dropped:
                    parsed = parsed.filter(pc.invert(inside))
                    report.rows -= dropped
                    report.outside_window += dropped
                    report.note(f"{url}: {dropped} rows of [{lo}, {hi}) were already in the cache")
            yield url, parsed


def _append_manifest(path: Path, entries: list[dict[str, Any]]) -> None:
    if not entries:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry) + "\n")


class _DateWriter:
    """Buffers canonical tables and writes them per UTC date partition."""

    def __init__(self, root: Path, time_column: str) -> None:
        self.root = root
        self.time_column = time_column
        self.tables: list[pa.Table] = []
        self.runs: list[tuple[str | None, int]] = []
        self.buffered = 0
        self.run = uuid.uuid4().hex[:12]
        self.seq = 0
        #: Source file -> part files (relative to ``root``) written with its rows.
        self.parts_of: dict[str, set[str]] = {}

    def add(self, table: pa.Table, runs: Sequence[tuple[str | None, int]]) -> None:
        """Buffer ``table``; ``runs`` says which source file its rows came from, in order."""
        if not table.num_rows:
            return
        if sum(n for _, n in runs) != table.num_rows:
            runs = [(None, table.num_rows)]  # rows of no known file (CloudWatch Logs)
        self.tables.append(table)
        self.runs.extend(runs)
        self.buffered += table.num_rows

    def flush(self) -> None:
        if not self.tables:
            return
        table = pa.concat_tables(self.tables)
        names = [name for name, _ in self.runs]
        codes = np.repeat(np.arange(len(names)), [n for _, n in self.runs])
        self.tables, self.runs, self.buffered = [], [], 0
        dates = pc.strftime(table[self.time_column], format="%Y-%m-%d")
        for day in pc.unique(dates).to_pylist():
            mask = pc.equal(dates, day)
            part = table.filter(mask)
            part_codes = codes[mask.to_numpy(zero_copy_only=False)]
            folder = self.root / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"part-{self.run}-{self.seq:05d}.parquet"
            bounds = np.flatnonzero(np.diff(part_codes)) + 1
            runs = [(names[int(part_codes[lo])], hi - lo)
                    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(part_codes)])]
            _write_part(part, target, runs)
            rel = f"{folder.name}/{target.name}"
            for name, _ in runs:
                if name is not None:
                    self.parts_of.setdefault(name, set()).add(rel)
            self.seq += 1


def read_cache(table: str, cache_dir: str | Path | None = None, start: datetime | None = None, end: datetime | None = None) -> pa.Table:
    """Canonical rows of ``table`` in the cache within ``[start, end)`` (date folders pruned)."""
    root = Path(cache_dir or default_cache_dir()) / table
    schema, time_column = TABLES[table]
    if not root.is_dir():
        return schema.empty_table()
    lo = start.strftime("%Y-%m-%d") if start else None
    hi = end.strftime("%Y-%m-%d") if end else None
    pieces = []
    for folder in sorted(root.glob("date=*")):
        day = folder.name[5:]
        if (lo and day < lo) or (hi and day > hi):
            continue
        for f in sorted(folder.glob("*.parquet")):
            pieces.append(pq.read_table(f, schema=schema))
    if not pieces:
        return schema.empty_table()
    return filter_window(pa.concat_tables(pieces), time_column, start, end)


def load_via_cache(
    table: str,
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | str | None,
    end: datetime | str | None,
    *,
    cache: str | Path | bool,
    session: Any = None,
    progress: bool = False,
) -> LoadResult:
    """Sync ``inputs`` into the cache, then read the window from it.

    The report counts what this call read (``rows`` = rows parsed into the cache now);
    ``cached_rows`` is the number of rows in ``frame``, all read from the cache.
    """
    cache_dir = default_cache_dir() if cache is True else Path(cache)
    start, end = Window.parse(start, end)
    report = sync(table, inputs, cache_dir, start, end, session=session, progress=progress)
    data = read_cache(table, cache_dir, start, end)
    builder = ReportBuilder(table)
    builder.merge(report)
    builder.cached_rows = data.num_rows
    return LoadResult(frame=to_pandas(data), report=builder.build())
