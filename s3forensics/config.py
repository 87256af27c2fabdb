"""Settings, read once from the environment, with every identifier validated at the edge.

AWS itself is configured only through the standard chain (profiles, ``AWS_REGION``,
``AWS_ENDPOINT_URL``...): the same code runs against AWS and the local sandbox.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from s3forensics.errors import ConfigError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def validate_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise ConfigError."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ConfigError(
            f"{what} {name!r} is not a plain name (letters, digits, underscore; "
            "not starting with a digit; at most 128 characters)"
        )
    return name


def validate_qualified_name(name: str, what: str = "table") -> str:
    """Return ``name`` if it is ``ident`` or ``schema.ident`` made of plain names."""
    parts = name.split(".") if isinstance(name, str) else [name]
    if not 1 <= len(parts) <= 3:
        raise ConfigError(f"{what} {name!r} must be name, schema.name or catalog.schema.name")
    for part in parts:
        validate_identifier(part, what)
    return name


def validate_bucket_name(name: str) -> str:
    """Return ``name`` if it is a valid S3 bucket name, else raise ConfigError."""
    if not isinstance(name, str) or not _BUCKET.match(name) or ".." in name:
        raise ConfigError(f"bucket name {name!r} is not a valid S3 bucket name")
    return name


def home_dir() -> Path:
    """The kit's working folder: ``$S3FORENSICS_HOME`` or ``~/.s3forensics``."""
    env = os.environ.get("S3FORENSICS_HOME")
    return Path(env).expanduser() if env else Path.home() / ".s3forensics"


def default_cache_dir() -> Path:
    """Where parsed logs are cached as Parquet, partitioned by source and date."""
    env = os.environ.get("S3FORENSICS_CACHE")
    return Path(env).expanduser() if env else home_dir() / "cache"


def notebook_cache_dir(target: str = "default") -> Path:
    """The Parquet cache notebooks use for one target account (``sandbox``, ``default``, ...).

    Kept apart so that the demo world's rows never mix with a real account's.
    """
    if not target or not all(c.isalnum() or c in "-_" for c in target):
        raise ValueError(f"a cache target is a plain name (letters, digits, - and _), got {target!r}")
    return default_cache_dir() / target


@dataclass(frozen=True)
class Settings:
    """Frozen settings for engines and queries.

    Attributes:
        cache_dir: Parquet cache root (``<cache>/<source>/date=YYYY-MM-DD/*.parquet``).
        duckdb_path: DuckDB database file, or ``":memory:"``.
        tables: logical table name -> physical (validated) table name.
        athena_workgroup: Athena workgroup (``S3FORENSICS_ATHENA_WORKGROUP``).
        athena_database: Athena database (``S3FORENSICS_ATHENA_DATABASE``).
        athena_output: S3 output location (``S3FORENSICS_ATHENA_OUTPUT``), optional.
    """

    cache_dir: Path = field(default_factory=default_cache_dir)
    duckdb_path: str = ""
    tables: tuple[tuple[str, str], ...] = (("s3_access", "s3_access"), ("cloudtrail", "cloudtrail"))
    athena_workgroup: str = "primary"
    athena_database: str = "s3forensics"
    athena_output: str | None = None

    def __post_init__(self) -> None:
        for logical, physical in self.tables:
            validate_identifier(logical, "logical table")
            validate_qualified_name(physical, "physical table")
        validate_identifier(self.athena_workgroup.replace("-", "_").replace(".", "_"), "workgroup")
        validate_identifier(self.athena_database, "database")

    @property
    def table_map(self) -> dict[str, str]:
        """Logical -> physical table names."""
        return dict(self.tables)

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``S3FORENSICS_*`` environment variables, with defaults."""
        return cls(
            cache_dir=default_cache_dir(),
            duckdb_path=os.environ.get("S3FORENSICS_DUCKDB", ""),
            athena_workgroup=os.environ.get("S3FORENSICS_ATHENA_WORKGROUP", "primary"),
            athena_database=os.environ.get("S3FORENSICS_ATHENA_DATABASE", "s3forensics"),
            athena_output=os.environ.get("S3FORENSICS_ATHENA_OUTPUT") or None,
        )
