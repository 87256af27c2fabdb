"""boto3 sessions and clients built from the standard AWS configuration chain.

Profiles, ``AWS_REGION``/``AWS_DEFAULT_REGION`` and ``AWS_ENDPOINT_URL`` (which botocore
reads itself) decide where calls go, so the same code runs against AWS and the sandbox.
boto3 is imported lazily: a DuckDB-only run never loads it.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_REGION = "us-east-1"


def session(profile: str | None = None, region: str | None = None) -> Any:
    """A boto3 Session from the standard chain; region falls back to us-east-1."""
    import boto3

    sess = boto3.Session(profile_name=profile) if profile else boto3.Session()
    if region or not sess.region_name:
        sess = boto3.Session(
            profile_name=profile,
            region_name=region or os.environ.get("AWS_REGION") or DEFAULT_REGION,
        )
    return sess


def client(service: str, sess: Any | None = None, **kwargs: Any) -> Any:
    """A client with botocore's standard retry mode (throttling retried with backoff)."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 8}, **kwargs.pop("config_kwargs", {}))
    return (sess or session()).client(service, config=config, **kwargs)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SubscriptionRequiredException",
    }
)
