"""The kit's words, defined once: a time, a window, a severity, a bucket profile, a finding.

Every layer speaks these: the command line parses ``--start``/``--end`` into a
:class:`Window`, and the same window reaches the sources, the cache, the queries, the
detections, the notebooks and the Lambda without being parsed again. A check and a
detection rank their severities on one :class:`Severity` scale; a bucket is read under
one :class:`BucketProfile`; a finding has the columns of :data:`FINDING_COLUMNS` (the
``detect`` JSON and CSV contract: columns are added, never renamed).

This module imports nothing of the kit but its errors, so anything may import it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from s3forensics.errors import ParameterError

# ----------------------------------------------------------------------------- time


def utc_time(value: Any, name: str = "time") -> datetime:
    """``value`` as an aware UTC datetime: the one parser of times given by people and files.

    Accepted: ISO-8601 text (``Z``/``z``, ``+00:00`` or ``+0000`` offsets; no offset means
    UTC; a date alone is its midnight), a ``datetime`` (naive means UTC), a ``date``, or a
    pandas ``Timestamp``.

    Raises:
        ParameterError: ``value`` is none of these; the message names ``name``.
    """
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ParameterError(
                f"{name}: {value!r} is not an ISO-8601 timestamp (like 2026-11-16T00:00:00Z)"
            ) from None
    elif hasattr(value, "to_pydatetime"):  # pandas.Timestamp, without importing pandas
        value = value.to_pydatetime()
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ParameterError(f"{name}: expected a timestamp, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_now() -> datetime:
    """Now, timezone-aware UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def iso_utc(value: Any) -> str:
    """A time as records and reports write it: ``2026-11-16T12:00:00Z`` (whole seconds, UTC)."""
    return utc_time(value).strftime("%Y-%m-%dT%H:%M:%SZ")


#: The times a window may span: log formats, engines and partition names all hold these
#: (AWS logs begin in 2006; a bound outside is a typo, not a question).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """A period of time, ``[start, end)`` in UTC; either bound may be open (``None``).

    Build one with :meth:`parse`, which checks ``start < end``; unpack it as
    ``start, end = window``.
    """

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(
        cls,
        start: Any = None,
        end: Any = None,
        *,
        names: tuple[str, str] = ("start", "end"),
        bounded: bool = False,
        context: str = "",
    ) -> Window:
        """The window from ``start`` to ``end`` (text, datetimes, dates or ``None``).

        Args:
            start: inclusive start, or None for no lower bound.
            end: exclusive end, or None for no upper bound.
            names: how the two bounds are called where they were given (``("--start",
                "--end")``, ``("START", "END")``), for messages.
            bounded: both bounds are required.
            context: what the window is for (``detect``, ``query X``), to begin messages.

        Raises:
            ParameterError: a bound is not a time, is missing while ``bounded``, lies outside
                :data:`EARLIEST` to :data:`LATEST`, or the window does not end after it starts.
        """
        if isinstance(start, Window) and end is None:
            start, end = start.start, start.end
        lead = f"{context}: " if context else ""
        bounds = [None if v is None or (isinstance(v, str) and not v.strip()) else utc_time(v, lead + n)
                  for v, n in ((start, names[0]), (end, names[1]))]
        if bounded:
            for value, name in zip(bounds, names, strict=True):
                if value is None:
                    raise ParameterError(f"{lead}{name} is required (an ISO-8601 time like 2026-11-16T00:00:00Z)")
        for value, name in zip(bounds, names, strict=True):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise ParameterError(
                    f"{lead}{name} ({value.isoformat()}) is outside the times a window may span "
                    f"({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d})"
                )
        lo, hi = bounds
        if lo is not None and hi is not None and hi <= lo:
            raise ParameterError(
                f"{lead}the window ends before it starts: {names[1]} ({hi.isoformat()}) must be after "
                f"{names[0]} ({lo.isoformat()})"
            )
        return cls(lo, hi)

    def __iter__(self) -> Iterator[datetime | None]:
        return iter((self.start, self.end))

    def __contains__(self, when: datetime) -> bool:
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)

    @property
    def bounded(self) -> bool:
        """Both bounds are set."""
        return self.start is not None and self.end is not None


# ----------------------------------------------------------------------------- severity


class Severity(enum.StrEnum):
    """How bad a finding or a failing check is; one scale for both, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical up to 4 for info: sort ascending to read the worst first."""
        return _SEVERITY_ORDER.index(self)

    @classmethod
    def parse(cls, value: Any, name: str = "severity") -> Severity:
        """The severity named by ``value`` (any case).

        Raises:
            ParameterError: not a severity; the message lists the scale.
        """
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ParameterError(f"{name} {value!r} is not one of {', '.join(SEVERITIES)}") from None


_SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)
#: The scale as text, most severe first.
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)


#: One palette for every page, chart and the CLI: darkest red for critical, grey for info.
SEVERITY_COLORS: dict[str, str] = {
    "critical": "#7f0000",
    "high": "#d62728",
    "medium": "#ff7f0e",
    "low": "#bcbd22",
    "info": "#7f7f7f",
}


def severity_rank(value: Any) -> int:
    """Sort key of a severity given as text: 0 for critical ... 4 for info, 5 for anything else."""
    try:
        return Severity(str(value).strip().lower()).rank
    except ValueError:
        return len(_SEVERITY_ORDER)


# ----------------------------------------------------------------------------- bucket profiles


class BucketProfile(enum.StrEnum):
    """How a bucket is meant to be read, which decides what is unusual there.

    ``public_site``: served to anonymous browsers by design (anonymous reads, plain HTTP on
    the website endpoint, new visitors every hour are normal). ``private_data``: everyone
    must authenticate; an anonymous success or a new reader is worth a look.
    ``cloudfront``: served to the public only through CloudFront (its origin access control
    or identity reads the bucket); a request straight to S3 from anyone else is worth a look.
    """

    PUBLIC_SITE = "public_site"
    PRIVATE_DATA = "private_data"
    CLOUDFRONT = "cloudfront"

    @classmethod
    def parse(cls, value: Any, name: str = "bucket profile") -> BucketProfile:
        """The profile named by ``value``.

        Raises:
            ParameterError: not a profile; the message lists them.
        """
        try:
            return cls(str(value).strip())
        except ValueError:
            raise ParameterError(f"{name} {value!r} is not one of {', '.join(PROFILES)}") from None


#: The profiles as text.
PROFILES: tuple[str, ...] = tuple(p.value for p in BucketProfile)

# ----------------------------------------------------------------------------- findings

#: Columns every finding has, in this order (the ``detect`` JSON and CSV contract).
FINDING_COLUMNS: tuple[str, ...] = (
    "detection_id",
    "title",
    "severity",
    "first_seen",
    "last_seen",
    "bucket",
    "source_ip",
    "principal",
    "event_count",
    "bytes",
    "summary",
    "evidence",
)

#: Finding columns holding times (UTC) and whole numbers; the others are text.
FINDING_TIMES: tuple[str, ...] = ("first_seen", "last_seen")
FINDING_COUNTS: tuple[str, ...] = ("event_count", "bytes")

#: Columns a detection query may return that become finding fields, not evidence.
ROW_FIELDS: tuple[str, ...] = ("bucket", "source_ip", "principal", "first_seen", "last_seen", "event_count", "bytes")
