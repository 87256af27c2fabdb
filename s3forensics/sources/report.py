"""Load reports: every line read is a row, a rejected line, or outside the time window.

``LoadReport`` is the frozen account of one load; ``ReportBuilder`` collects it while
files stream past, so no part of the kit has to keep all rows to know the totals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from s3forensics.schema import REJECT_COLUMNS

log = logging.getLogger(__name__)

#: Longest reject text kept (a 1 MB garbage line is cut, and the reason says how long it was).
MAX_REJECT_TEXT = 4096
#: Lines of one unparseable file kept in ``rejects`` (all of them are counted).
MAX_FILE_REJECTS = 100


@dataclass(frozen=True)
class Reject:
    """One line (or record) that could not be parsed."""

    file: str
    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class SkippedFile:
    """A file that was seen but deliberately not parsed (digest, Insights, unreadable)."""

    file: str
    reason: str


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="int64" if name == "line" else "str") for name in REJECT_COLUMNS})


@dataclass(frozen=True)
class LoadReport:
    """What one load read, kept, rejected and skipped.

    The invariant ``lines_read == rows + rejected + outside_window`` always holds (see
    ``balanced``). For CloudTrail a "line" is one record of a parsed file (a JSON
    document or JSON lines), or one text line of a file that could not be parsed as
    CloudTrail JSON at all (not JSON, not UTF-8, a truncated document): every text line
    of such a file is counted in ``lines_read`` and ``rejected``, with one reason for the
    whole file, but only its first ``MAX_FILE_REJECTS`` lines are kept in ``rejects``
    (a message says how many were left out). So ``len(rejects) <= rejected``; they are
    equal unless such a file had more lines than that.

    Attributes:
        kind: ``s3_access`` or ``cloudtrail``.
        files: files (or objects) parsed.
        lines_read: lines (records) read from those files.
        rows: rows produced (inside the time window).
        rejected: lines that could not be parsed; see ``rejects``.
        outside_window: parsed rows dropped because their time is outside ``[start, end)``.
        skipped_files: files not parsed on purpose (digest/Insights files, unreadable files).
        messages: per-file notes (empty file, truncated gzip, nothing parsed...).
        cached_rows: rows in the result that came from the Parquet cache, not this read.
        rejects: DataFrame with columns file, line, reason, text.
    """

    kind: str
    files: int = 0
    lines_read: int = 0
    rows: int = 0
    rejected: int = 0
    outside_window: int = 0
    skipped_files: tuple[SkippedFile, ...] = ()
    messages: tuple[str, ...] = ()
    cached_rows: int = 0
    rejects: pd.DataFrame = field(default_factory=_empty_rejects, compare=False, repr=False)

    @property
    def balanced(self) -> bool:
        """True when every line read is accounted for."""
        return self.lines_read == self.rows + self.rejected + self.outside_window

    def summary(self) -> str:
        """One line for humans, e.g. for the CLI's stderr."""
        parts = [
            f"{self.kind}: {self.files} files",
            f"{self.lines_read} lines read",
            f"{self.rows} rows",
            f"{self.rejected} rejected",
        ]
        if self.outside_window:
            parts.append(f"{self.outside_window} outside the time window")
        if self.cached_rows:
            parts.append(f"{self.cached_rows} rows from the cache")
        if self.skipped_files:
            parts.append(f"{len(self.skipped_files)} files skipped")
        check = "lines read == rows + rejected" + (" + outside window" if self.outside_window else "")
        parts.append(f"{check}: {'yes' if self.balanced else 'NO'}")
        return ", ".join(parts)


@dataclass(frozen=True)
class LoadResult:
    """A DataFrame in the canonical schema and the report of how it was made."""

    frame: pd.DataFrame
    report: LoadReport


class ReportBuilder:
    """Mutable accumulator behind a ``LoadReport``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.files = 0
        self.lines_read = 0
        self.rows = 0
        self.rejected = 0
        self.outside_window = 0
        self.cached_rows = 0
        self.skipped: list[SkippedFile] = []
        self.messages: list[str] = []
        self.rejects: list[Reject] = []

    def reject(self, file: str, line: int, reason: str, text: str) -> None:
        """Record one rejected line (counted in ``rejected`` and kept in ``rejects``)."""
        if len(text) > MAX_REJECT_TEXT:
            reason = f"{reason} (line of {len(text)} characters; text cut to {MAX_REJECT_TEXT})"
            text = text[:MAX_REJECT_TEXT]
        if not text.isascii():  # JSON allows lone surrogates, which UTF-8 cannot hold: keep their escape
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        self.rejected += 1
        self.rejects.append(Reject(file, line, reason, text))

    def reject_file(self, file: str, data: bytes, reason: str, first_line: int = 1) -> int:
        """Reject every text line of ``data`` (a file, or its rest from ``first_line``).

        Counts each line as read and rejected; keeps the first ``MAX_FILE_REJECTS`` of
        them in ``rejects`` (a message says how many were left out). Returns the count.
        """
        count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        if count == 0:
            return 0
        self.lines_read += count
        pos = 0
        for i in range(min(count, MAX_FILE_REJECTS)):
            nl = data.find(b"\n", pos)
            stop = len(data) if nl < 0 else nl
            if stop - pos <= 4 * MAX_REJECT_TEXT:
                self.reject(file, first_line + i, reason, data[pos:stop].decode("utf-8", errors="replace").rstrip("\r"))
            else:  # decode only what is kept of a long line
                text = data[pos : pos + MAX_REJECT_TEXT].decode("utf-8", errors="replace")[:MAX_REJECT_TEXT]
                self.reject(file, first_line + i, f"{reason} (line of {stop - pos} bytes; text cut to {len(text)} characters)", text)
            pos = stop + 1
        self.rejected += count - min(count, MAX_FILE_REJECTS)
        if count > MAX_FILE_REJECTS:
            self.note(f"{file}: all {count} lines rejected ({reason}); only the first {MAX_FILE_REJECTS} are kept in rejects")
        return count

    def skip(self, file: str, reason: str) -> None:
        """Record a file deliberately not parsed."""
        log.info("skipped %s: %s", file, reason)
        self.skipped.append(SkippedFile(file, reason))

    def note(self, message: str) -> None:
        """Record (and log) a per-file message."""
        log.info("%s", message)
        self.messages.append(message)

    def merge(self, other: LoadReport | ReportBuilder) -> None:
        """Add another report's counts and kept items (a built report, or the builder of
        one file parsed in a worker process) into this one."""
        self.files += other.files
        self.lines_read += other.lines_read
        self.rows += other.rows
        self.rejected += other.rejected
        self.outside_window += other.outside_window
        self.cached_rows += other.cached_rows
        self.messages.extend(other.messages)
        if isinstance(other, ReportBuilder):
            self.skipped.extend(other.skipped)
            self.rejects.extend(other.rejects)
        else:
            self.skipped.extend(other.skipped_files)
            self.rejects.extend(Reject(**row) for row in other.rejects.to_dict("records"))

    def build(self) -> LoadReport:
        """The frozen report."""
        rejects = (
            pd.DataFrame(
                {
                    "file": pd.Series([r.file for r in self.rejects], dtype="str"),
                    "line": pd.Series([r.line for r in self.rejects], dtype="int64"),
                    "reason": pd.Series([r.reason for r in self.rejects], dtype="str"),
                    "text": pd.Series([r.text for r in self.rejects], dtype="str"),
                }
            )
            if self.rejects
            else _empty_rejects()
        )
        return LoadReport(
            kind=self.kind,
            files=self.files,
            lines_read=self.lines_read,
            rows=self.rows,
            rejected=self.rejected,
            outside_window=self.outside_window,
            skipped_files=tuple(self.skipped),
            messages=tuple(self.messages),
            cached_rows=self.cached_rows,
            rejects=rejects,
        )


def reject_dicts(report: LoadReport) -> list[dict[str, Any]]:
    """The rejects as plain dicts ``{file, line, reason, text}`` (for JSON lines)."""
    return [
        {"file": r["file"], "line": int(r["line"]), "reason": r["reason"], "text": r["text"]}
        for r in report.rejects.to_dict("records")
    ]
