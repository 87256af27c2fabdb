"""Plain values for JSON and reports: times as ISO text, missing values as None."""

from __future__ import annotations

from typing import Any

import pandas as pd

from s3forensics.vocabulary import iso_utc


def iso(value: Any) -> str | None:
    """A time as ISO text (``2026-11-16T12:00:00Z``), None for a missing value, anything else as text."""
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return iso_utc(value)
    return str(value)


def plain(value: Any) -> Any:
    """JSON-ready scalars: timestamps as ISO text, NA as None, numpy numbers as Python's."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return iso(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value
