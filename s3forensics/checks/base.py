"""The shape of a setup check, the AWS context its ``collect`` step uses, and the runner.

A check is metadata plus two functions: ``collect(ctx, bucket) -> facts`` makes every
boto3 call (through :class:`Context`, which names the missing permission on AccessDenied)
and ``evaluate(facts) -> list[Verdict]`` is pure, so it can be tested on facts shaped as
AWS documents its responses. The runner turns any failure of one check into UNKNOWN
results for that check only; the others still report.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from s3forensics.aws import Problem, classify, error_code
from s3forensics.vocabulary import SEVERITIES

log = logging.getLogger(__name__)


class Status(str, enum.Enum):
    """Outcome of a check on one resource."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


#: IAM actions whose name differs from ``<prefix>:<OperationName>``.
_IAM_ACTION_OVERRIDES: dict[tuple[str, str], str] = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "DeletePublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "ListBucketMetricsConfigurations"): "s3:GetMetricsConfiguration",
    ("s3", "GetBucketMetricsConfiguration"): "s3:GetMetricsConfiguration",
    ("s3", "PutBucketMetricsConfiguration"): "s3:PutMetricsConfiguration",
    ("s3", "DeleteBucketMetricsConfiguration"): "s3:PutMetricsConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("s3control", "PutPublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
    ("s3control", "DeletePublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity",
}
_IAM_PREFIX: dict[str, str] = {"s3control": "s3", "logs": "logs", "cloudwatch": "cloudwatch"}

def iam_action(service: str, operation: str) -> str:
    """The IAM action that allows ``operation`` (PascalCase) of a boto3 ``service``."""
    return _IAM_ACTION_OVERRIDES.get((service, operation), f"{_IAM_PREFIX.get(service, service)}:{operation}")


def _pascal(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


@dataclass(frozen=True)
class Verdict:
    """What ``evaluate`` says about one resource."""

    status: Status
    message: str
    resource: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """One line of the report; ``as_dict`` is the stable JSON contract."""

    check_id: str
    resource: str
    status: Status
    severity: str
    message: str
    remediation: str
    title: str = ""

    def as_dict(self) -> dict[str, str]:
        """``{check_id, resource, status, severity, message, remediation}``."""
        return {
            "check_id": self.check_id,
            "resource": self.resource,
            "status": self.status.value,
            "severity": self.severity,
            "message": self.message,
            "remediation": self.remediation,
        }


class CheckUnavailable(Exception):
    """Raised inside ``collect`` when the facts cannot be had (permission, API, region)."""

    def __init__(self, message: str, permission: str | None = None) -> None:
        super().__init__(message)
        self.permission = permission


@dataclass(frozen=True)
class Check:
    """A setup check: metadata, ``collect`` (all boto3 calls) and pure ``evaluate``.

    Attributes:
        id: stable identifier (tools depend on it).
        title: the good state, as a sentence.
        severity: one of :data:`SEVERITIES`.
        rationale: why the good state matters to an investigation.
        remediation: how to fix it, in words (``remediation.py`` plans the API calls).
        references: documentation URLs.
        scope: ``"bucket"`` (collect once per bucket) or ``"account"`` (once).
        calls: ``(boto3 service, PascalCase operation)`` pairs ``collect`` may make; the
            IAM policy is generated from them.
        collect: ``collect(ctx, bucket_or_None) -> facts``.
        evaluate: ``evaluate(facts) -> list[Verdict]`` (pure).
    """

    id: str
    title: str
    severity: str
    rationale: str
    remediation: str
    references: tuple[str, ...]
    scope: str
    calls: tuple[tuple[str, str], ...]
    collect: Callable[[Context, str | None], Mapping[str, Any]] = field(repr=False)
    evaluate: Callable[[Mapping[str, Any]], list[Verdict]] = field(repr=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.scope not in ("bucket", "account"):
            raise ValueError(f"check {self.id}: scope {self.scope!r} must be 'bucket' or 'account'")

    @property
    def permissions(self) -> tuple[str, ...]:
        """IAM actions ``collect`` needs, sorted."""
        return tuple(sorted({iam_action(service, op) for service, op in self.calls}))


class Context:
    """What ``collect`` steps share: one session, cached clients, cached facts.

    Every AWS call goes through :meth:`call`/:meth:`paginate`, which retry throttling
    (botocore standard mode) and turn AccessDenied into :class:`CheckUnavailable` naming
    the IAM action that is missing.

    Args:
        session: a boto3 Session; default: the standard chain (``s3forensics.aws``).
        region: region for regional services; default: the session's.
        max_attempts: botocore attempts per call (throttling and 5xx are retried).
    """

    def __init__(self, session: Any | None = None, region: str | None = None, max_attempts: int = 8) -> None:
        if session is None:
            from s3forensics import aws

            session = aws.session(region=region)
        self.session = session
        self.region: str = region or session.region_name or "us-east-1"
        self.max_attempts = max_attempts
        self._clients: dict[tuple[str, str], Any] = {}
        self._cache: dict[Any, tuple[bool, Any]] = {}
        #: every ``(service, operation)`` called, for tests and the IAM policy.
        self.calls: list[tuple[str, str]] = []
        #: what made calls impossible: None -> no credentials; an endpoint URL -> unreachable.
        self._dead: dict[Any, CheckUnavailable] = {}

    # -- clients -----------------------------------------------------------------
    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client for ``service`` in ``region`` (default: the context's)."""
        from botocore.config import Config

        region = region or self.region
        key = (service, region)
        if key not in self._clients:
            attempts = min(self.max_attempts, 3) if service == "support" else self.max_attempts
            config = Config(retries={"mode": "standard", "max_attempts": attempts}, connect_timeout=5, read_timeout=30)
            client = self.session.client(service, region_name=region, config=config)
            if service == "s3control":
                _strip_account_prefix_on_ip_endpoints(client)
            self._clients[key] = client
        return self._clients[key]

    def call(self, service: str, operation: str, region: str | None = None, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (snake_case) and return the response without metadata.

        Raises:
            CheckUnavailable: access denied, API not available, no credentials,
                endpoint unreachable, or still throttled after retries.
            botocore.exceptions.ClientError: any other AWS error (the caller decides).
        """
        pascal = _pascal(operation)
        self.calls.append((service, pascal))
        client = self.client(service, region)
        self._fail_fast(client)
        try:
            response = getattr(client, operation)(**params)
        except Exception as exc:
            raise self._remember(_classify(exc, service, pascal, region or self.region), exc, client) from exc
        response.pop("ResponseMetadata", None)
        return response

    def _fail_fast(self, client: Any) -> None:
        """Raise at once what an earlier call learnt: no credentials at all, or this client's
        endpoint unreachable (every call would wait out its retries again; one endpoint
        serves every service under AWS_ENDPOINT_URL)."""
        known = self._dead.get(None) or self._dead.get(_endpoint(client))
        if known is not None:
            raise CheckUnavailable(str(known), known.permission)

    def _remember(self, problem: BaseException, exc: BaseException, client: Any) -> BaseException:
        kind = classify(exc)
        if isinstance(problem, CheckUnavailable) and kind is Problem.NO_CREDENTIALS:
            self._dead[None] = problem
        elif isinstance(problem, CheckUnavailable) and kind is Problem.UNREACHABLE:
            self._dead[_endpoint(client)] = problem
        return problem

    def paginate(self, service: str, operation: str, key: str, region: str | None = None, **params: Any) -> list[Any]:
        """All items under ``key`` across pages (or the single response when unpaginated)."""
        pascal = _pascal(operation)
        self.calls.append((service, pascal))
        client = self.client(service, region)
        self._fail_fast(client)
        items: list[Any] = []
        try:
            if client.can_paginate(operation):
                for page in client.get_paginator(operation).paginate(**params):
                    items.extend(page.get(key) or [])
            else:
                items.extend(getattr(client, operation)(**params).get(key) or [])
        except Exception as exc:
            raise self._remember(_classify(exc, service, pascal, region or self.region), exc, client) from exc
        return items

    def cached(self, key: Any, fn: Callable[[], Any]) -> Any:
        """``fn()`` once per context; a raised CheckUnavailable is cached and re-raised too."""
        if key not in self._cache:
            try:
                self._cache[key] = (True, fn())
            except CheckUnavailable as exc:
                self._cache[key] = (False, exc)
        ok, value = self._cache[key]
        if not ok:
            raise value
        return value

    # -- shared facts --------------------------------------------------------------
    def account_id(self) -> str:
        """The caller's account id (``sts:GetCallerIdentity``)."""
        return self.cached("account_id", lambda: self.call("sts", "get_caller_identity")["Account"])

    def bucket_region(self, bucket: str) -> str:
        """The bucket's region (``GetBucketLocation``; None means us-east-1)."""

        def fetch() -> str:
            location = self.call("s3", "get_bucket_location", Bucket=bucket).get("LocationConstraint")
            return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)

        return self.cached(("bucket_region", bucket), fetch)


def _strip_account_prefix_on_ip_endpoints(client: Any) -> None:
    """S3 Control puts ``<account>.`` before the host; an IP-literal endpoint (a local
    emulator) cannot take a host prefix, so drop it there. AWS endpoints are unaffected."""
    host = urlsplit(client.meta.endpoint_url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return

    def strip(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith("." + host):
            request.url = request.url.replace(f"//{parts.hostname.split('.', 1)[0]}.{host}", f"//{host}", 1)

    client.meta.events.register("before-send.s3-control", strip)


def _endpoint(client: Any) -> str:
    """The URL a client calls (one per service and region on AWS; one for all under AWS_ENDPOINT_URL)."""
    return str(getattr(getattr(client, "meta", None), "endpoint_url", "") or id(client))


def _classify(exc: BaseException, service: str, operation: str, region: str) -> BaseException:
    """Map a boto3 failure to CheckUnavailable where no fact can be had; else return it."""
    action = iam_action(service, operation)
    code = error_code(exc)
    kind = classify(exc)
    if kind is Problem.NO_CREDENTIALS:
        return CheckUnavailable("no AWS credentials found (set a profile or AWS_* variables)", action)
    if kind is Problem.UNREACHABLE:
        return CheckUnavailable(f"{service} endpoint in {region} could not be reached for {operation}: {exc}")
    if kind is Problem.NO_REGION or (kind is Problem.UNAVAILABLE and code is None):
        return CheckUnavailable(f"{service} is not available in region {region}")
    if kind is Problem.SUBSCRIPTION:
        return CheckUnavailable(
            f"{operation} needs a Business, Enterprise On-Ramp or Enterprise support plan "
            "(this account's plan does not allow it)",
            action,
        )
    if kind is Problem.ACCESS_DENIED:
        return CheckUnavailable(f"missing permission {action} ({code} on {operation} in {region})", action)
    if kind is Problem.UNAVAILABLE:
        return CheckUnavailable(f"{service} {operation} is not available in {region} ({code})")
    if kind is Problem.THROTTLED:
        return CheckUnavailable(f"{service} {operation} still throttled after retries ({code}); run again later")
    if kind is Problem.SERVICE:
        return CheckUnavailable(f"{service} {operation} failed on the service side ({code}); run again later")
    return exc


def describe_exception(exc: BaseException) -> str:
    """A one-line reason for an UNKNOWN result."""
    code = error_code(exc)
    if code in {"NoSuchBucket", "404", "NotFound"}:
        return "the bucket does not exist (or is not visible to these credentials)"
    if code is not None:
        message = exc.response.get("Error", {}).get("Message", "")  # type: ignore[attr-defined]
        return f"AWS error {code}: {message}".strip()
    return f"{type(exc).__name__}: {exc}"


def run(
    checks: Sequence[Check],
    ctx: Context,
    buckets: Iterable[str] | None,
    bucket_error: str | None = None,
) -> list[CheckResult]:
    """Run ``checks`` on ``buckets`` (bucket scope) or once (account scope).

    A failure in one check (or one bucket) gives UNKNOWN for that resource only.
    ``bucket_error`` is used when the bucket list itself could not be had.
    """
    bucket_list = list(buckets or [])
    results: list[CheckResult] = []
    for check in checks:
        if check.scope == "bucket":
            if bucket_error is not None:
                results.append(_result(check, Verdict(Status.UNKNOWN, bucket_error), "all buckets"))
                continue
            targets: list[str | None] = list(bucket_list)
        else:
            targets = [None]
        for bucket in targets:
            default_resource = bucket if bucket is not None else _account_label(ctx)
            started = time.monotonic()
            try:
                facts = check.collect(ctx, bucket)
                verdicts = check.evaluate(facts)
            except CheckUnavailable as exc:
                verdicts = [Verdict(Status.UNKNOWN, f"{default_resource}: could not be checked, {exc}.")]
            except Exception as exc:
                level = logging.INFO if error_code(exc) else logging.WARNING
                log.log(level, "check %s on %s failed: %s", check.id, default_resource, exc, exc_info=log.isEnabledFor(logging.DEBUG))
                verdicts = [Verdict(Status.UNKNOWN, f"{default_resource}: could not be checked, {describe_exception(exc)}")]
            log.debug("check %s on %s took %.3fs", check.id, default_resource, time.monotonic() - started)
            for verdict in verdicts:
                results.append(_result(check, verdict, verdict.resource or default_resource))
    return results


def _account_label(ctx: Context) -> str:
    try:
        return f"account {ctx.account_id()}"
    except Exception:  # noqa: BLE001 (a label only)
        return "account"


def _result(check: Check, verdict: Verdict, resource: str) -> CheckResult:
    return CheckResult(
        check_id=check.id,
        resource=resource,
        status=verdict.status,
        severity=check.severity,
        message=verdict.message,
        remediation="" if verdict.status is Status.PASS else check.remediation,
        title=check.title,
    )
