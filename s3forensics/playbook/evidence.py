"""Evidence before anything changes.

Every table is written to a case folder with its SHA-256 in a manifest and re-hashed before
containment; the bucket's configuration is read as the "before" of any change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.config import home_dir
from s3forensics.errors import ActionError, ParameterError, S3ForensicsError
from s3forensics.playbook.values import iso, plain
from s3forensics.vocabulary import utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence file: what it holds, where it is, and its SHA-256."""

    name: str
    path: str
    rows: int | None
    bytes: int
    sha256: str


@dataclass(frozen=True)
class EvidenceManifest:
    """The evidence of a case, written before any change.

    Attributes:
        case_id: the case.
        folder: the evidence folder.
        written_at: when the manifest was written (UTC, ISO-8601).
        items: the files and their hashes.
        meta: context (window, bucket, suspects, who collected it).
    """

    case_id: str
    folder: str
    written_at: str
    items: tuple[EvidenceItem, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The manifest file."""
        return Path(self.folder) / "manifest.json"

    def frame(self) -> pd.DataFrame:
        """One row per file: name, file, rows, bytes, sha256."""
        return pd.DataFrame(
            [{"name": i.name, "file": Path(i.path).name, "rows": i.rows, "bytes": i.bytes, "sha256": i.sha256} for i in self.items],
            columns=["name", "file", "rows", "bytes", "sha256"],
        )


def new_case_id(prefix: str = "case", now: datetime | None = None) -> str:
    """A case id like ``case-20261120T013000Z-1a2b`` (time plus 4 random hex digits)."""
    when = now or utc_now()
    return f"{prefix}-{when:%Y%m%dT%H%M%SZ}-{os.urandom(2).hex()}"


def case_folder(case_id: str, base: str | Path = "") -> Path:
    """``base/<case_id>``; ``base`` defaults to ``<home>/cases``."""
    if not case_id or "/" in case_id or case_id.startswith("."):
        raise ParameterError(f"case id {case_id!r} must be a plain name (letters, digits, '-')")
    return (Path(base) if str(base).strip() else home_dir() / "cases") / case_id


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ParameterError(f"evidence name {name!r} must use letters, digits, '-' and '_' only")
    return name


def write_evidence(case_dir: str | Path, tables: Mapping[str, Any], *, case_id: str = "", meta: Mapping[str, Any] | None = None) -> EvidenceManifest:
    """Write evidence tables to ``<case_dir>/evidence/`` with a SHA-256 manifest.

    DataFrames become CSV files; anything else (dicts, lists, texts, AWS states) becomes
    JSON. The folder must not already hold evidence: evidence is written once, and a new
    collection goes to a new case.

    Args:
        case_dir: the case folder.
        tables: name -> DataFrame or JSON-able object.
        case_id: the case id (default: the folder's name).
        meta: context stored in the manifest.

    Raises:
        ActionError: the evidence folder already holds a manifest.
    """
    folder = Path(case_dir) / "evidence"
    if (folder / "manifest.json").exists():
        raise ActionError(f"{folder} already holds evidence; evidence is written once: start a new case (leave CASE_ID empty)")
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for name, value in tables.items():
        _safe_name(name)
        if isinstance(value, pd.DataFrame):
            path = folder / f"{name}.csv"
            value.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
            rows: int | None = len(value)
        else:
            path = folder / f"{name}.json"
            path.write_text(json.dumps(plain(value), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
            rows = len(value) if isinstance(value, (list, tuple)) else None
        items.append(EvidenceItem(name=name, path=str(path), rows=rows, bytes=path.stat().st_size, sha256=_sha256(path)))
    manifest = EvidenceManifest(
        case_id=case_id or Path(case_dir).name,
        folder=str(folder),
        written_at=iso(utc_now()) or "",
        items=tuple(items),
        meta=plain(dict(meta or {})),
    )
    body = {
        "case_id": manifest.case_id,
        "written_at": manifest.written_at,
        "meta": manifest.meta,
        "items": [asdict(i) | {"path": Path(i.path).name} for i in items],
    }
    manifest.path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("wrote %d evidence files to %s", len(items), folder)
    return manifest


def verify_evidence(case_dir: str | Path) -> pd.DataFrame:
    """Re-hash every file of a case's evidence manifest.

    Returns:
        Columns ``name, file, expected, actual, ok`` (``actual`` None when the file is gone).

    Raises:
        ActionError: the case has no evidence manifest.
    """
    manifest = Path(case_dir) / "evidence" / "manifest.json"
    if not manifest.is_file():
        raise ActionError(f"{manifest} does not exist: write the evidence (write_evidence) before anything changes")
    body = json.loads(manifest.read_text(encoding="utf-8"))
    rows = []
    for item in body["items"]:
        path = manifest.parent / item["path"]
        actual = _sha256(path) if path.is_file() else None
        rows.append({"name": item["name"], "file": item["path"], "expected": item["sha256"], "actual": actual, "ok": actual == item["sha256"]})
    return pd.DataFrame(rows, columns=["name", "file", "expected", "actual", "ok"])


def aws_state(bucket: str, *, session: Any | None = None) -> dict[str, Any]:
    """The bucket's current policy and Block Public Access (the 'before' of any change).

    Raises:
        S3ForensicsError: the account cannot be read (the message names the bucket and
            says what to check).
    """
    from s3forensics.actions.resources import kind

    state: dict[str, Any] = {"bucket": bucket, "read_at": iso(utc_now())}
    try:
        policy = kind("s3:bucket-policy").read({"bucket": bucket}, session)
        state["policy"] = json.loads(policy) if policy else None
        state["public_access_block"] = kind("s3:public-access-block").read({"bucket": bucket}, session)
    except S3ForensicsError as exc:
        raise S3ForensicsError(f"Could not read the configuration of bucket {bucket} ({exc}): check the AWS credentials and that they may call s3:GetBucketPolicy.") from exc
    except Exception as exc:
        raise S3ForensicsError(
            f"Could not reach the account to read bucket {bucket} ({type(exc).__name__}: {exc}): check AWS_PROFILE/AWS_ENDPOINT_URL and the network."
        ) from exc
    return state
