"""Where logs come from: local files and folders, and ``s3://bucket/prefix`` locations.

Inputs are expanded into ``SourceFile`` entries (in a stable, sorted order), pruned by the
date in their key names when a time window is given (S3 only: nothing outside the window
is downloaded), and read as chunks of whole lines so that a file of any size streams in
bounded memory. Gzip is recognised by its magic bytes, not by the file name.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from s3forensics.errors import SourceError

log = logging.getLogger(__name__)

#: Bytes of input handed to the parser at once (whole lines; the last line may run over).
CHUNK_BYTES = 32 * 1024 * 1024
#: How long after its records a log object may be written (AWS: "best effort", usually
#: within a few hours); objects named up to this long after the window's end are read.
DEFAULT_DELIVERY_LAG = timedelta(hours=6)
#: How long before the window's start an object's name may be (clock skew, rounding).
DEFAULT_EARLY_SLACK = timedelta(hours=1)
#: Concurrent S3 downloads.
DOWNLOAD_WORKERS = 8

#: ``YYYY-mm-DD-HH-MM-SS-<id>`` (server access log object names, both layouts).
_ACCESS_NAME = re.compile(r"(?:^|/)(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9A-Za-z]+$")
#: ``<account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<id>.json.gz``.
_TRAIL_NAME = re.compile(r"_CloudTrail_[a-z0-9-]+_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[0-9A-Za-z]+\.json(?:\.gz)?$")
#: ``.../YYYY/MM/DD/...`` (date-partitioned access logs and CloudTrail).
_DAY_FOLDER = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")


@dataclass(frozen=True)
class SourceFile:
    """One file or S3 object to read.

    Attributes:
        name: what messages and rejects call it (a path, or ``s3://bucket/key``).
        path: local path, or None for S3 objects.
        bucket: S3 bucket, for S3 objects.
        key: S3 key, for S3 objects.
        size: size in bytes when known.
        etag: S3 ETag when known (the cache uses it to spot changed objects).
    """

    name: str
    path: Path | None = None
    bucket: str | None = None
    key: str | None = None
    size: int | None = None
    etag: str | None = None


@dataclass(frozen=True)
class Chunk:
    """Whole lines of one file; ``truncated`` says why the file ended early, if it did.

    ``data`` is ``bytes`` or a read-only ``memoryview`` of them (plain files are cut into
    chunks without copying); a truncated chunk's data is always ``bytes``.
    """

    data: bytes | memoryview
    truncated: str | None = None


#: How a CloudWatch Logs group is named as an input: ``logs://LOG_GROUP[/STREAM_PREFIX]``.
LOGS_SCHEME = "logs://"


def is_logs(value: Any) -> bool:
    """True for ``logs://`` inputs (CloudWatch Logs groups)."""
    return isinstance(value, str) and value.startswith(LOGS_SCHEME)


def is_s3(value: str | Path) -> bool:
    """True for ``s3://`` locations."""
    return isinstance(value, str) and value.startswith("s3://")


def split_s3(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix)."""
    rest = url[5:]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceError(f"{url!r} names no bucket (expected s3://bucket/prefix)")
    return bucket, prefix


def name_time(key: str) -> datetime | None:
    """The time written in a log object's name (delivery time), or None."""
    match = _ACCESS_NAME.search(key)
    if match:
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
    else:
        match = _TRAIL_NAME.search(key)
        if not match:
            return None
        y, mo, d, h, mi = (int(g) for g in match.groups())
        s = 0
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None


def folder_day(key: str) -> datetime | None:
    """The day of a ``/YYYY/MM/DD/`` folder in a key, as UTC midnight, or None."""
    matches = list(_DAY_FOLDER.finditer("/" + key))
    match = matches[-1] if matches else None
    if match is None:
        return None
    try:
        return datetime(*(int(g) for g in match.groups()), tzinfo=UTC)
    except ValueError:
        return None


def in_window_by_name(
    key: str,
    start: datetime | None,
    end: datetime | None,
    lag: timedelta = DEFAULT_DELIVERY_LAG,
    slack: timedelta = DEFAULT_EARLY_SLACK,
) -> bool:
    """Whether an object may hold records in ``[start, end)``, judging by its key only.

    Keys without a recognisable date are always kept (read and filtered by row time).
    """
    if start is None and end is None:
        return True
    stamp = name_time(key)
    if stamp is not None:
        if start is not None and stamp < start - slack:
            return False
        return not (end is not None and stamp > end + lag)
    day = folder_day(key)
    if day is not None:
        # A day folder may be by event time or by delivery time: keep a day of margin.
        if start is not None and day + timedelta(days=2) <= start:
            return False
        if end is not None and day > end + lag + timedelta(days=1):
            return False
    return True


def expand_local(value: str | Path) -> list[SourceFile]:
    """A file, or every regular file under a folder (recursive, sorted, hidden names skipped)."""
    path = Path(value).expanduser()
    if path.is_file():
        return [SourceFile(name=str(path), path=path, size=path.stat().st_size)]
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        return [SourceFile(name=str(p), path=p, size=p.stat().st_size) for p in files]
    raise SourceError(f"input {str(value)!r} is neither a file, a folder nor an s3:// location")


_CLIENTS: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_CLIENTS_LOCK = threading.Lock()


def s3_client(session: Any = None) -> Any:
    """One S3 client per session and endpoint, shared by listings and downloads (thread-safe;
    building a client costs ~0.2 s)."""
    from s3forensics import aws

    key = (id(session), os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ENDPOINT_URL_S3"),
           os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_PROFILE"), os.environ.get("AWS_REGION"))
    with _CLIENTS_LOCK:
        cached = _CLIENTS.get(key)
        if cached is not None and cached[0] is session:
            return cached[1]
        client = aws.client("s3", session, config_kwargs={"max_pool_connections": max(10, DOWNLOAD_WORKERS * 2)})
        _CLIENTS[key] = (session, client)
        return client


def fetch_s3(files: Iterable[SourceFile], session: Any = None, workers: int = DOWNLOAD_WORKERS) -> Iterator[tuple[SourceFile, bytes | Exception]]:
    """Download S3 objects concurrently, yielding them in input order (bounded read-ahead)."""
    client = s3_client(session)

    def get(sf: SourceFile) -> bytes | Exception:
        try:
            return client.get_object(Bucket=sf.bucket, Key=sf.key)["Body"].read()
        except Exception as exc:  # noqa: BLE001 (reported per object, the others still load)
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[tuple[SourceFile, Any]] = []
        for sf in files:
            pending.append((sf, pool.submit(get, sf)))
            if len(pending) >= workers * 4:
                first, fut = pending.pop(0)
                yield first, fut.result()
        for sf, fut in pending:
            yield sf, fut.result()


class UnreadableFile(SourceError, OSError):
    """A file that cannot be opened: an OSError, so that each loader skips it as one file
    (named in the load report with its reason) and the other files still load."""


def open_raw(sf: SourceFile, data: bytes | None = None) -> BinaryIO:
    """A binary stream of the file's bytes as stored (gzip not yet undone).

    Raises:
        UnreadableFile: the file cannot be opened (missing, permission, a folder...).
    """
    if data is not None:
        return io.BytesIO(data)
    if sf.path is None:
        raise SourceError(f"{sf.name}: no local path and no downloaded data")
    try:
        return open(sf.path, "rb")
    except OSError as exc:
        raise UnreadableFile(f"cannot open {sf.name}: {exc.strerror or exc}") from exc


GZIP_MAGIC = b"\x1f\x8b"

#: Compressed bytes handed to zlib at once, and the most it may return per call (so a
#: truncated or corrupt stream loses nothing decoded before the damage, and a gzip bomb
#: still streams in bounded memory).
GZIP_INPUT_BYTES = 64 * 1024
GZIP_OUTPUT_BYTES = 1024 * 1024


def _gunzip_blocks(raw: Any) -> Iterator[bytes | str]:
    """Decompressed blocks of a gzip stream (several members allowed, zero padding ignored).

    Yields ``bytes`` blocks; if the stream is truncated or corrupt, the last item is a
    ``str`` naming the problem (everything decoded before it has been yielded).
    """
    decomp = zlib.decompressobj(wbits=31)
    data = b""  # compressed bytes not yet consumed
    at_end = False
    in_member = True
    while True:
        if (not data or (not in_member and len(data) < 2)) and not at_end:
            more = raw.read(GZIP_INPUT_BYTES)
            at_end = not more
            data += more
        if not in_member:
            data = data.lstrip(b"\x00")  # zeros may pad a gzip file
            if not data:
                if at_end:
                    return
                continue
            if len(data) < 2 and not at_end:
                continue
            if not data.startswith(GZIP_MAGIC):
                yield "gzip stream corrupt (data after the end of a gzip member is not gzip)"
                return
            decomp, in_member = zlib.decompressobj(wbits=31), True
        if not data:  # input exhausted inside a member
            try:
                out = decomp.flush()
            except zlib.error:
                out = b""
            if out:
                yield out
            if not decomp.eof:
                yield "gzip stream truncated (the compressed data ends before the end of the stream)"
            return
        try:
            out = decomp.decompress(data, GZIP_OUTPUT_BYTES)
        except zlib.error as exc:
            yield f"gzip stream corrupt ({exc})"
            return
        if out:
            yield out
        if decomp.eof:
            data, in_member = decomp.unused_data, False
        else:
            data = decomp.unconsumed_tail


class _Prefixed:
    """A stream whose first bytes were already read (works on unseekable streams)."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self.head, self.raw = head, raw

    def read(self, size: int) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head + self.raw.read(max(0, size - len(head)))
        return self.raw.read(size)


def _blocks_of(raw: BinaryIO, size: int) -> Iterator[bytes | str]:
    """Blocks of the file's text (gzip undone when the magic bytes say so); a ``str``
    last item names a problem that ended the file early."""
    try:
        head = raw.read(2)
        if head == GZIP_MAGIC:
            yield from _gunzip_blocks(_Prefixed(head, raw))
            return
        if head:
            yield head
        while True:
            block = raw.read(size)
            if not block:
                return
            yield block
    except OSError as exc:
        yield f"read error ({exc})"


def iter_chunks(sf: SourceFile, data: bytes | None = None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """The file's text as chunks of whole lines (gzip undone), in order.

    A chunk holds at most ``chunk_bytes`` unless a single line is longer. Plain text is
    cut without copying: downloaded bytes into views, local files read a chunk at a time
    (the incomplete last line is read again with the next chunk). Gzip is decompressed in
    small pieces, so a truncated or corrupt stream loses nothing decoded before the
    damage: the iteration then ends with a chunk whose ``truncated`` names the problem and
    whose data holds everything decoded after the previous chunk (whole lines, then the
    incomplete last line, if any).
    """
    if data is not None and data[:2] != GZIP_MAGIC:
        yield from _cut_views(data, chunk_bytes)
        return
    raw = open_raw(sf, data)
    try:
        head = b""
        try:
            head = raw.read(2)
            if head != GZIP_MAGIC and raw.seekable():
                raw.seek(0)
                yield from _read_chunks(raw, chunk_bytes)
                return
        except OSError as exc:
            yield Chunk(b"", truncated=f"read error ({exc})")
            return
        pending: list[bytes] = []
        size = 0
        for block in _blocks_of(_Prefixed(head, raw), chunk_bytes):
            if isinstance(block, str):
                yield Chunk(b"".join(pending), truncated=block)
                return
            pending.append(block)
            size += len(block)
            if size < chunk_bytes:
                continue
            buf = b"".join(pending)
            cut = buf.rfind(b"\n")
            if cut < 0:
                pending, size = [buf], len(buf)
                continue
            carry = buf[cut + 1 :]
            pending, size = ([carry] if carry else []), len(carry)
            yield Chunk(memoryview(buf)[: cut + 1])
        if pending:
            yield Chunk(b"".join(pending))
    finally:
        raw.close()


def line_cut(data: bytes, lo: int, hi: int) -> int:
    """End (exclusive) of the whole lines in ``data[lo:hi]``, or of the one line that
    starts at ``lo`` when it is longer than that (the end of data, without a newline)."""
    if hi >= len(data):
        return len(data)
    cut = data.rfind(b"\n", lo, hi)
    if cut >= lo:
        return cut + 1
    return data.find(b"\n", hi) + 1 or len(data)


def _cut_views(data: bytes, chunk_bytes: int) -> Iterator[Chunk]:
    view = memoryview(data)
    lo = 0
    while lo < len(data):
        hi = line_cut(data, lo, lo + chunk_bytes)
        yield Chunk(view[lo:hi])
        lo = hi


def _read_chunks(raw: BinaryIO, chunk_bytes: int) -> Iterator[Chunk]:
    """Chunks of a seekable plain file: each read once, its incomplete last line re-read."""
    try:
        while True:
            buf = raw.read(chunk_bytes)
            if not buf:
                return
            if len(buf) == chunk_bytes:
                cut = buf.rfind(b"\n") + 1
                if cut == 0:  # a line longer than a chunk: read on to its end
                    rest = [buf]
                    while True:
                        more = raw.read(chunk_bytes)
                        at = more.find(b"\n")
                        if at >= 0 or not more:
                            rest.append(more[: at + 1] if at >= 0 else more)
                            if at >= 0 and at + 1 < len(more):
                                raw.seek(at + 1 - len(more), 1)
                            break
                        rest.append(more)
                    yield Chunk(b"".join(rest))
                    continue
                if cut < len(buf):
                    raw.seek(cut - len(buf), 1)
                    yield Chunk(memoryview(buf)[:cut])
                    continue
            yield Chunk(buf)
    except OSError as exc:
        yield Chunk(b"", truncated=f"read error ({exc})")


def read_all(sf: SourceFile, data: bytes | None = None) -> tuple[bytes, str | None]:
    """The whole (decompressed) content of a file, and a truncation message if any."""
    parts: list[bytes] = []
    problem = None
    for chunk in iter_chunks(sf, data):
        parts.append(chunk.data)
        problem = chunk.truncated or problem
    return b"".join(parts), problem


def iter_file_data(files: Sequence[SourceFile], session: Any = None) -> Iterator[tuple[SourceFile, bytes | None, Exception | None]]:
    """(file, downloaded bytes or None for local files, download error) in input order."""
    s3_files = [sf for sf in files if sf.bucket is not None]
    downloads = fetch_s3(s3_files, session) if s3_files else iter(())
    for sf in files:
        if sf.bucket is None:
            yield sf, None, None
        else:
            got_sf, payload = next(downloads)
            assert got_sf is sf
            if isinstance(payload, Exception):
                yield sf, None, payload
            else:
                yield sf, payload, None
