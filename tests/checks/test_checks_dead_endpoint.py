"""A dead endpoint or missing credentials are learnt once per run: the next calls fail at
once instead of each waiting out its retries (``check`` against a dead AWS_ENDPOINT_URL took
43 s, every check retrying; it now takes one call's retries)."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from s3forensics.checks.base import CheckUnavailable, Context

DEAD = "http://127.0.0.1:9"


class _Client:
    """A client whose every call fails with ``error``, counting the calls made."""

    def __init__(self, endpoint: str, error: Exception) -> None:
        self.meta = SimpleNamespace(endpoint_url=endpoint)
        self.error, self.made = error, 0

    def __getattr__(self, operation: str):  # type: ignore[no-untyped-def]
        def call(**params: object) -> dict:
            self.made += 1
            raise self.error

        return call


def _context(clients: dict[str, _Client]) -> Context:
    ctx = Context(boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"), max_attempts=1)
    for service, client in clients.items():
        ctx._clients[(service, "us-east-1")] = client
    return ctx


def test_an_unreachable_endpoint_is_not_called_again() -> None:
    s3, trail = _Client(DEAD, EndpointConnectionError(endpoint_url=DEAD)), _Client(DEAD, EndpointConnectionError(endpoint_url=DEAD))
    other = _Client("https://monitoring.us-east-1.amazonaws.com", EndpointConnectionError(endpoint_url="x"))
    ctx = _context({"s3": s3, "cloudtrail": trail, "cloudwatch": other})
    with pytest.raises(CheckUnavailable, match="could not be reached"):
        ctx.call("s3", "list_buckets")
    with pytest.raises(CheckUnavailable, match="could not be reached"):
        ctx.call("cloudtrail", "describe_trails")
    assert (s3.made, trail.made) == (1, 0)  # same endpoint: learnt once
    with pytest.raises(CheckUnavailable):
        ctx.call("cloudwatch", "describe_alarms")
    assert other.made == 1  # another endpoint is still tried


def test_missing_credentials_are_learnt_once() -> None:
    s3, trail = _Client("https://s3.amazonaws.com", NoCredentialsError()), _Client("https://cloudtrail.us-east-1.amazonaws.com", NoCredentialsError())
    ctx = _context({"s3": s3, "cloudtrail": trail})
    for service, operation in (("s3", "list_buckets"), ("cloudtrail", "describe_trails")):
        with pytest.raises(CheckUnavailable, match="no AWS credentials"):
            ctx.call(service, operation)
    assert (s3.made, trail.made) == (1, 0)
