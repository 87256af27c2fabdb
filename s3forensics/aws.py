"""boto3 sessions and clients built from the standard AWS configuration chain.

Profiles, ``AWS_REGION``/``AWS_DEFAULT_REGION`` and ``AWS_ENDPOINT_URL`` (which botocore
reads itself) decide where calls go, so the same code runs against AWS and the sandbox.
boto3 is imported lazily: a DuckDB-only run never loads it.
"""

from __future__ import annotations

import enum
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

#: Codes that mean "this service or operation is not available here".
UNAVAILABLE_CODES = frozenset(
    {"UnknownOperationException", "NotImplemented", "InvalidAction", "UnsupportedOperation", "OptInRequired"}
)
#: Codes that mean "too many requests" (still, after botocore's retries).
THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}
)
#: Codes that mean the service failed on its side.
SERVICE_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable"})


class Problem(enum.StrEnum):
    """What kind of failure a call to AWS met: the one classification checks and actions share."""

    NO_CREDENTIALS = "no credentials"
    UNREACHABLE = "endpoint unreachable"
    NO_REGION = "no region"
    ACCESS_DENIED = "access denied"
    SUBSCRIPTION = "support plan required"
    UNAVAILABLE = "not available here"
    THROTTLED = "throttled"
    SERVICE = "service failure"
    AWS = "AWS answered with an error"
    OTHER = "other"


def classify(exc: BaseException) -> Problem:
    """The kind of ``exc`` (a botocore error, or anything else: ``OTHER``)."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return Problem.NO_CREDENTIALS
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return Problem.UNREACHABLE
    if isinstance(exc, bx.NoRegionError):
        return Problem.NO_REGION
    if isinstance(exc, bx.UnknownEndpointError):
        return Problem.UNAVAILABLE
    code = error_code(exc)
    if code is None:
        return Problem.OTHER
    if code == "SubscriptionRequiredException":
        return Problem.SUBSCRIPTION
    if code in ACCESS_DENIED_CODES:
        return Problem.ACCESS_DENIED
    if code in UNAVAILABLE_CODES:
        return Problem.UNAVAILABLE
    if code in THROTTLE_CODES:
        return Problem.THROTTLED
    if code.isdigit() or code in SERVICE_CODES:
        return Problem.SERVICE
    return Problem.AWS


def explain(exc: BaseException) -> str:
    """What went wrong talking to AWS, in words an operator can act on.

    AWS's own answer (a ClientError) is shown as it is; botocore's own errors (unreachable
    endpoint, no credentials, no region...) get a hint where to look.
    """
    kind = classify(exc)
    if kind is Problem.NO_CREDENTIALS:
        return f"no AWS credentials found ({exc}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in (aws sso login)"
    if kind is Problem.UNREACHABLE:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        where = f" (AWS_ENDPOINT_URL={endpoint})" if endpoint else ""
        return f"the AWS endpoint is unreachable{where}: {exc}; check the network, the region and AWS_ENDPOINT_URL"
    if kind is Problem.NO_REGION:
        return f"no AWS region configured ({exc}); set AWS_REGION or a profile region"
    from botocore.exceptions import BotoCoreError

    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)
