"""One exception tree for the kit; every message names what caused it."""

from __future__ import annotations


class S3ForensicsError(Exception):
    """Root of every error the kit raises on purpose."""


class ConfigError(S3ForensicsError):
    """A setting, identifier or parameter is invalid."""


class SourceError(S3ForensicsError):
    """A log file or location could not be read (names the file)."""


class QueryError(S3ForensicsError):
    """A query is unknown, ill-formed, or its parameters do not bind."""


class ParameterError(QueryError, ConfigError):
    """A parameter is missing, unknown, ill-typed or out of range."""


class EngineError(S3ForensicsError):
    """A query engine failed to run a query."""


class SandboxError(S3ForensicsError):
    """The local sandbox account could not be started, found or stopped."""


class ActionError(S3ForensicsError):
    """A response action could not be planned, applied or rolled back."""


class RefusedError(ActionError):
    """A response action was refused by a safeguard (use force to override)."""


class NotebookError(S3ForensicsError):
    """A notebook run or report render failed (names the notebook and cell)."""
