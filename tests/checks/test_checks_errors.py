"""Bad input: no credentials, unreachable endpoint, AccessDenied, throttling, unknown ids.

AccessDenied and throttling cannot be produced by the shared moto server (IAM enforcement
is server-wide), so those responses are queued with botocore's Stubber in the error shape
AWS documents; the rest of the run is real.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from s3forensics.checks import CHECKS, get_check, run_checks
from s3forensics.checks.base import Context, Status
from s3forensics.errors import ConfigError


def _stubbed(service: str) -> tuple[Context, Stubber]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    ctx = Context(session, max_attempts=1)
    # The account id is known: the run reaches only the stubbed service (the offline chain's
    # dead endpoint would otherwise answer the STS call, and the context then knows that
    # endpoint, the stubbed client's too, is unreachable).
    ctx._cache["account_id"] = (True, "111122223333")
    stub = Stubber(ctx.client(service))
    stub.activate()
    return ctx, stub


def test_access_denied_names_missing_permission() -> None:
    ctx, stub = _stubbed("s3")
    stub.add_client_error("get_bucket_versioning", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403)
    stub.add_response("get_bucket_logging", {})
    results = run_checks(buckets=["s3f-demo-site"], ids=["s3_bucket_versioning_enabled", "s3_access_logging_enabled"], context=ctx)
    denied, other = results
    assert denied.status is Status.UNKNOWN and "missing permission s3:GetBucketVersioning" in denied.message
    assert other.status is Status.FAIL  # the next check still reports


def test_throttling_after_retries_is_unknown() -> None:
    ctx, stub = _stubbed("s3")
    stub.add_client_error("get_bucket_versioning", service_error_code="SlowDown", http_status_code=503)
    result = run_checks(buckets=["s3f-demo-site"], ids=["s3_bucket_versioning_enabled"], context=ctx)[0]
    assert result.status is Status.UNKNOWN and "throttled" in result.message


def test_support_plan_without_trusted_advisor() -> None:
    ctx, stub = _stubbed("support")
    stub.add_client_error("describe_trusted_advisor_check_result", service_error_code="SubscriptionRequiredException", http_status_code=400)
    result = run_checks(ids=["trusted_advisor_s3_permissions"], context=ctx)[0]
    assert result.status is Status.UNKNOWN and "support plan" in result.message


def test_region_without_cloudtrail_endpoint() -> None:
    ctx, stub = _stubbed("cloudtrail")
    stub.add_client_error("describe_trails", service_error_code="UnknownOperationException", http_status_code=400)
    result = run_checks(ids=["cloudtrail_multi_region_logging"], context=ctx)[0]
    assert result.status is Status.UNKNOWN and "not available in us-east-1" in result.message


def test_no_credentials_every_check_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    session = boto3.Session(region_name="us-east-1")
    results = run_checks(session=session, max_attempts=1)
    # Every check of the registry reports exactly once, in registry order (bucket checks once
    # for "all buckets", as the bucket list itself cannot be read).
    assert [r.check_id for r in results] == [c.id for c in CHECKS]
    assert all(r.status is Status.UNKNOWN for r in results)
    assert all("no AWS credentials" in r.message for r in results), {r.message for r in results}
    assert [r.resource for r in results if get_check(r.check_id).scope == "bucket"] == ["all buckets"] * sum(c.scope == "bucket" for c in CHECKS)


def test_unreachable_endpoint_is_unknown_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 (discard) on loopback: nothing listens there. Set it here, as an earlier
    # test may already have pointed the session at the sandbox.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    results = run_checks(buckets=["s3f-demo-site"], ids=["s3_bucket_versioning_enabled", "guardduty_s3_protection_enabled"], max_attempts=1)
    assert [r.status for r in results] == [Status.UNKNOWN, Status.UNKNOWN]
    assert all("could not be reached" in r.message for r in results)


def test_bad_ids_and_bucket_names() -> None:
    with pytest.raises(ConfigError, match="unknown check id 'nope'"):
        get_check("nope")
    with pytest.raises(ConfigError, match="Bad_Bucket"):
        run_checks(buckets=["Bad_Bucket"], ids=["s3_bucket_versioning_enabled"])


def test_one_classification_of_aws_failures_for_checks_and_actions() -> None:
    """Checks (UNKNOWN with a reason) and actions (one sentence) read botocore errors through one map.

    Error codes from the AWS documentation's common error lists (AccessDenied,
    ThrottlingException, InternalError, OptInRequired) and botocore's own exceptions.
    """
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

    from s3forensics.aws import Problem, classify, explain
    from s3forensics.checks.base import CheckUnavailable, _classify

    def client_error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetBucketPolicy")

    cases = {
        NoCredentialsError(): Problem.NO_CREDENTIALS,
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"): Problem.UNREACHABLE,
        NoRegionError(): Problem.NO_REGION,
        client_error("AccessDenied"): Problem.ACCESS_DENIED,
        client_error("SubscriptionRequiredException"): Problem.SUBSCRIPTION,
        client_error("OptInRequired"): Problem.UNAVAILABLE,
        client_error("ThrottlingException"): Problem.THROTTLED,
        client_error("InternalError"): Problem.SERVICE,
        client_error("503"): Problem.SERVICE,
        client_error("NoSuchBucketPolicy"): Problem.AWS,
        ValueError("x"): Problem.OTHER,
    }
    for exc, kind in cases.items():
        assert classify(exc) is kind, exc
        mapped = _classify(exc, "s3", "GetBucketPolicy", "us-east-1")
        # Every failure that leaves no fact to judge is UNKNOWN for a check; AWS's own answer is not.
        assert isinstance(mapped, CheckUnavailable) == (kind not in (Problem.AWS, Problem.OTHER)), exc
    assert "set AWS_PROFILE" in explain(NoCredentialsError())
    assert "check the network" in explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert explain(client_error("AccessDenied")) == str(client_error("AccessDenied"))
