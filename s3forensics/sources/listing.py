"""Inputs expanded into the files to read; ``s3://bucket/prefix`` listed for a time window.

``expand_inputs`` turns folders, files and S3 locations into ``SourceFile`` entries in a
stable order; ``resolve_inputs`` also sets CloudWatch Logs groups apart. An S3 location
is listed whatever the log layout under it:

A log bucket's base prefix may hold both server access log layouts and CloudTrail:

* simple: ``<prefix>YYYY-mm-DD-HH-MM-SS-<id>`` keys directly in a folder;
* date-partitioned: ``<prefix><account>/<region>/<bucket>/YYYY/MM/DD/<name>``;
* CloudTrail: ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz``, beside
  ``CloudTrail-Digest/`` and ``CloudTrail-Insight/`` folders that hold no API events.

With a time window, each folder is listed with ``Delimiter='/'`` (concurrently, level by
level). Dated keys directly in a folder sort by time, so the listing jumps with
``StartAfter`` to just before the window, and past its end (a year at a time); the key
ranges jumped over are probed for anything that is not a dated key, so that a folder
whose name sorts among the dates is never missed. A folder holding ``YYYY/`` folders is
not walked: only the day folders in the window are listed. ``YYYY/``, ``YYYY/MM/`` and
``YYYY/MM/DD/`` folders outside the window are never listed. Digest and Insights folders
are skipped by name and reported. Objects are then kept or pruned by the time in their
names (``inputs.in_window_by_name``); nothing is downloaded here.

Without a window the prefix is listed flat (one paginated listing).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from s3forensics.errors import SourceError
from s3forensics.sources import inputs as inp

log = logging.getLogger(__name__)

#: Folders (by name) that never hold events; skipped and reported, never listed or read.
SKIP_FOLDERS = {
    "CloudTrail-Digest": "CloudTrail digest files (not events)",
    "CloudTrail-Insight": "CloudTrail Insights files (not API events)",
}
#: Concurrent listing requests.
LIST_WORKERS = 8
#: Windows up to this many days list day folders directly; longer ones walk year/month.
MAX_DAY_PREFIXES = 400
#: Keys per listing page (None: the S3 default of 1000); tests lower it to exercise jumps.
PAGE_KEYS: int | None = None

_DATED = re.compile(r"^(\d{4})-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-Za-z]+$")
_YEAR = re.compile(r"^\d{4}$")
_TWO = re.compile(r"^\d{2}$")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class S3Listing:
    """What listing one ``s3://`` location found.

    Attributes:
        files: objects that may hold records in the window, in key order.
        pruned: objects seen and left out by the date in their names (objects in folders or
            key ranges never listed are not counted).
        skipped: (location, reason) of folders skipped by name (digest, Insights).
        requests: ListObjectsV2 calls made.
    """

    files: tuple[inp.SourceFile, ...]
    pruned: int
    skipped: tuple[tuple[str, str], ...]
    requests: int


class _Lister:
    def __init__(
        self, client: Any, bucket: str, start: datetime | None, end: datetime | None, lag: timedelta, slack: timedelta
    ) -> None:
        self.client, self.bucket = client, bucket
        self.start, self.end, self.lag, self.slack = start, end, lag, slack
        self.lock = threading.Lock()
        self.files: dict[str, inp.SourceFile] = {}
        self.pruned = 0
        self.requests = 0
        self.skipped: dict[str, str] = {}
        self.skipped_counts: dict[str, int] = {}

    # -------------------------------------------------------------------------- helpers

    def _call(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self.requests += 1
        if PAGE_KEYS:
            kwargs["MaxKeys"] = PAGE_KEYS
        return self.client.list_objects_v2(Bucket=self.bucket, **kwargs)

    def _skip_reason(self, key: str) -> tuple[str, str] | None:
        parts = key.split("/")
        for i, part in enumerate(parts[:-1]):
            if part in SKIP_FOLDERS:
                return "/".join(parts[: i + 1]) + "/", SKIP_FOLDERS[part]
        return None

    def _take(self, objects: list[dict[str, Any]]) -> None:
        kept: list[inp.SourceFile] = []
        pruned = 0
        skipped: list[tuple[str, str]] = []
        for obj in objects:
            key = obj["Key"]
            if key.endswith("/"):
                continue
            skip = self._skip_reason(key)
            if skip is not None:
                skipped.append(skip)
                continue
            if not inp.in_window_by_name(key, self.start, self.end, self.lag, self.slack):
                pruned += 1
                continue
            kept.append(
                inp.SourceFile(
                    name=f"s3://{self.bucket}/{key}",
                    bucket=self.bucket,
                    key=key,
                    size=obj.get("Size"),
                    etag=(obj.get("ETag") or "").strip('"') or None,
                )
            )
        with self.lock:
            self.pruned += pruned
            for sf in kept:
                self.files[sf.key or ""] = sf
            for folder, reason in skipped:
                self.skipped.setdefault(folder, reason)
                self.skipped_counts[folder] = self.skipped_counts.get(folder, 0) + 1

    def _skip_folder(self, folder: str, reason: str) -> None:
        with self.lock:
            self.skipped.setdefault(folder, reason)

    # -------------------------------------------------------------------------- listings

    def flat(self, prefix: str, start_after: str | None = None) -> None:
        """Every object under ``prefix`` (no delimiter), pruned by name."""
        kwargs: dict[str, Any] = {"Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            resp = self._call(**kwargs)
            self._take(resp.get("Contents", []))
            if not resp.get("IsTruncated"):
                return
            kwargs.pop("StartAfter", None)
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]

    def folder(self, prefix: str) -> list[str]:
        """List one folder with ``Delimiter='/'`` (jumping over dated keys outside the
        window); take its objects and return its sub-folders."""
        subfolders: list[str] = []
        kwargs: dict[str, Any] = {"Prefix": prefix, "Delimiter": "/"}
        while True:
            resp = self._call(**kwargs)
            subfolders.extend(cp["Prefix"] for cp in resp.get("CommonPrefixes", []))
            contents = resp.get("Contents", [])
            self._take(contents)
            if not resp.get("IsTruncated"):
                return subfolders
            names = [o["Key"] for o in contents] + [cp["Prefix"] for cp in resp.get("CommonPrefixes", [])]
            last = max(names) if names else ""
            jump = self._jump(prefix, contents, last, subfolders)
            if jump is not None:
                kwargs.pop("ContinuationToken", None)
                kwargs["StartAfter"] = jump
            else:
                kwargs.pop("StartAfter", None)
                kwargs["ContinuationToken"] = resp["NextContinuationToken"]

    def _jump(self, prefix: str, contents: list[dict[str, Any]], last: str, subfolders: list[str]) -> str | None:
        """Where to resume a folder listing whose last dated key lies outside the window."""
        stamp = None
        for obj in reversed(contents):
            name = obj["Key"][len(prefix) :]
            if _DATED.match(name):
                stamp = inp.name_time(obj["Key"])
                break
        if stamp is None:
            return None
        if self.start is not None and stamp < self.start - self.slack:
            target = prefix + (self.start - self.slack - timedelta(seconds=1)).strftime("%Y-%m-%d-%H-%M-%S")
            if target <= last:
                return None
            # Keys between here and the target that are not dated keys (say, an account
            # folder "2025xxxxxxxx/") sort as "<year><not '-'>": probe each year passed.
            for year in range(stamp.year, self.start.year):
                subfolders.extend(self._probe(prefix, year))
            return target
        if self.end is not None and stamp > self.end + self.lag:
            target = f"{prefix}{stamp.year:04d}."  # "." sorts right after "-": rest of the year
            return target if target > last else None
        return None

    def _probe(self, prefix: str, year: int) -> list[str]:
        """Everything under ``<prefix><year>`` that is not a ``<year>-...`` dated key."""
        folders: list[str] = []
        kwargs: dict[str, Any] = {"Prefix": f"{prefix}{year:04d}", "Delimiter": "/", "StartAfter": f"{prefix}{year:04d}."}
        while True:
            resp = self._call(**kwargs)
            folders.extend(cp["Prefix"] for cp in resp.get("CommonPrefixes", []))
            self._take(resp.get("Contents", []))
            if not resp.get("IsTruncated"):
                return folders
            kwargs.pop("StartAfter", None)
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]

    # -------------------------------------------------------------------------- planning

    def _date_range(self, folder: str) -> tuple[datetime, datetime] | None:
        """[first, after) of a ``.../YYYY/``, ``.../YYYY/MM/`` or ``.../YYYY/MM/DD/`` folder."""
        parts = folder.rstrip("/").split("/")
        try:
            if len(parts) >= 3 and _YEAR.match(parts[-3]) and _TWO.match(parts[-2]) and _TWO.match(parts[-1]):
                first = datetime(int(parts[-3]), int(parts[-2]), int(parts[-1]), tzinfo=UTC)
                return first, first + _ONE_DAY
            if len(parts) >= 2 and _YEAR.match(parts[-2]) and _TWO.match(parts[-1]):
                year, month = int(parts[-2]), int(parts[-1])
                first = datetime(year, month, 1, tzinfo=UTC)
                after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
                return first, after
            if _YEAR.match(parts[-1]):
                year = int(parts[-1])
                return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        except ValueError:
            return None
        return None

    def _folder_in_window(self, rng: tuple[datetime, datetime]) -> bool:
        # A day folder may be by event time or by delivery time: keep a day of margin.
        first, after = rng
        if self.start is not None and after <= self.start - _ONE_DAY:
            return False
        return not (self.end is not None and first > self.end + self.lag + _ONE_DAY)

    def _days(self) -> list[datetime] | None:
        if self.start is None or self.end is None:
            return None
        first = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) - _ONE_DAY
        last = self.end + self.lag + _ONE_DAY
        count = (last - first).days + 1
        if count > MAX_DAY_PREFIXES or count <= 0:
            return None
        return [first + i * _ONE_DAY for i in range(count) if first + i * _ONE_DAY <= last]

    def plan(self, parent: str, subfolders: list[str]) -> tuple[list[str], list[str]]:
        """(folders to list with a delimiter, prefixes to list flat) below ``parent``."""
        walk: list[str] = []
        flat: list[str] = []
        days = self._days()
        for sub in subfolders:
            name = sub.rstrip("/").rsplit("/", 1)[-1]
            if name in SKIP_FOLDERS:
                self._skip_folder(sub, SKIP_FOLDERS[name])
                continue
            rng = self._date_range(sub)
            if rng is not None and not self._folder_in_window(rng):
                continue
            if _YEAR.match(name) and rng is not None and days is not None:
                year = int(name)
                flat.extend(f"{sub}{d:%m}/{d:%d}/" for d in days if d.year == year)
            elif rng is not None and rng[1] - rng[0] == _ONE_DAY:
                flat.append(sub)
            else:
                walk.append(sub)
        return walk, flat


def list_location(
    client: Any,
    bucket: str,
    prefix: str,
    start: datetime | None,
    end: datetime | None,
    *,
    lag: timedelta,
    slack: timedelta,
    workers: int = LIST_WORKERS,
) -> S3Listing:
    """List ``s3://bucket/prefix`` for the window ``[start, end)`` (see the module doc)."""
    lister = _Lister(client, bucket, start, end, lag, slack)
    if start is None and end is None:
        lister.flat(prefix)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            frontier = [prefix]
            while frontier:
                walk: list[str] = []
                flat: list[str] = []
                for parent, subs in zip(frontier, pool.map(lister.folder, frontier)):
                    w, f = lister.plan(parent, subs)
                    walk.extend(w)
                    flat.extend(f)
                list(pool.map(lister.flat, flat))
                frontier = walk
    skipped = tuple(
        (f"s3://{bucket}/{folder}", reason + (f"; {lister.skipped_counts[folder]} objects not read" if folder in lister.skipped_counts else "; not listed or read"))
        for folder, reason in sorted(lister.skipped.items())
    )
    files = tuple(lister.files[k] for k in sorted(lister.files))
    log.info(
        "s3://%s/%s: %d objects kept, %d pruned by name, %d folders skipped, %d list requests",
        bucket, prefix, len(files), lister.pruned, len(skipped), lister.requests,
    )
    return S3Listing(files=files, pruned=lister.pruned, skipped=skipped, requests=lister.requests)


def list_s3(
    url: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    session: Any = None,
    lag: timedelta = inp.DEFAULT_DELIVERY_LAG,
    client: Any = None,
) -> Any:
    """Objects under ``s3://bucket/prefix`` that may hold records in the window.

    Any prefix works: the bucket root, a base prefix holding both access log layouts and
    CloudTrail, one layout's folder, or part of a key name (see ``list_location``).

    Returns:
        ``S3Listing`` (kept objects in key order, objects pruned by name,
        folders skipped by name, list requests made).
    """
    bucket, prefix = inp.split_s3(url)
    client = client or inp.s3_client(session)
    try:
        return list_location(client, bucket, prefix, start, end, lag=lag, slack=inp.DEFAULT_EARLY_SLACK)
    except Exception as exc:  # botocore errors carry the code; name the location
        raise SourceError(f"cannot list {url}: {exc}") from exc


@dataclass(frozen=True)
class Expanded:
    """Inputs expanded into files: ``files`` in order, ``pruned`` by key name, ``skipped``
    (location, reason) folders not read by name (digest, Insights)."""

    files: list[inp.SourceFile]
    pruned: int = 0
    skipped: tuple[tuple[str, str], ...] = ()


def expand_inputs(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    session: Any = None,
    lag: timedelta = inp.DEFAULT_DELIVERY_LAG,
) -> Expanded:
    """Every file/object of ``inputs``, in order, with what was pruned or skipped."""
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    files: list[inp.SourceFile] = []
    pruned = 0
    skipped: list[tuple[str, str]] = []
    for value in inputs:
        if inp.is_s3(value):
            listing = list_s3(str(value), start, end, session=session, lag=lag)
            files.extend(listing.files)
            pruned += listing.pruned
            skipped.extend(listing.skipped)
        else:
            files.extend(inp.expand_local(value))
    return Expanded(files, pruned, tuple(skipped))


def resolve_inputs(
    inputs: Sequence[str | Path] | str | Path,
    start: datetime | None,
    end: datetime | None,
    report: Any,
    *,
    session: Any = None,
    files: Sequence[inp.SourceFile] | None = None,
) -> tuple[list[str | Path], Sequence[inp.SourceFile]]:
    """Split inputs into CloudWatch Logs groups and files to read, pruned by key name.

    Objects skipped on purpose (digest and Insights folders...) are recorded in ``report``.
    ``files``, when given, replaces the expansion (the cache passes only what is new).

    Returns:
        ``(logs_inputs, files)``.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    logs_inputs = [v for v in inputs if inp.is_logs(v)]
    if files is None:
        expanded = expand_inputs([v for v in inputs if not inp.is_logs(v)], start, end, session=session)
        files = expanded.files
        if expanded.pruned:
            log.info("skipped %d objects outside the time window by key name", expanded.pruned)
        for location, reason in expanded.skipped:
            report.skip(location, reason)
    return logs_inputs, files
