"""Builders for the demo world's log records: access log rows and CloudTrail events.

Access log rows are dicts keyed by the canonical columns of ``s3forensics.schema`` (the
renderer ``s3_access_format.format_line`` writes them). CloudTrail events are dicts in
the key order CloudTrail writes. ``Sink`` collects both, drawing every id from one RNG.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from s3forensics.lab.demo import fakes, world

EVENT_VERSION = "1.09"
#: Size of the XML error body S3 returns for NoSuchKey / AccessDenied on the REST endpoint.
ERROR_BODY_BYTES = {"NoSuchKey": 243, "AccessDenied": 243, "NoSuchBucketPolicy": 297}


def rest_host(bucket: str) -> str:
    """Virtual-hosted REST endpoint of ``bucket``."""
    return f"{bucket}.s3.{world.REGION}.amazonaws.com"


def website_host(bucket: str) -> str:
    """Static website endpoint of ``bucket`` (us-east-1 uses the dash form)."""
    return f"{bucket}.s3-website-{world.REGION}.amazonaws.com"


def bucket_arn(bucket: str) -> str:
    """``arn:aws:s3:::bucket``."""
    return f"arn:aws:s3:::{bucket}"


def assumed_role_arn(role: str, session: str) -> str:
    """ARN of a role session, as requester and CloudTrail ``userIdentity.arn`` show it."""
    return f"arn:aws:sts::{world.ACCOUNT_ID}:assumed-role/{role}/{session}"


@dataclass(frozen=True)
class Caller:
    """Who makes a request: identity for CloudTrail, requester and TLS for access logs."""

    ip: str
    user_agent: str
    requester: str | None  # access log requester; None for anonymous
    identity: dict[str, Any]  # CloudTrail userIdentity
    tls_version: str | None = "TLSv1.3"
    cipher_suite: str | None = "TLS_AES_128_GCM_SHA256"
    signature_version: str | None = "SigV4"
    authentication_type: str | None = "AuthHeader"


# --- userIdentity blocks -------------------------------------------------------------


def role_identity(role: str, session: str, access_key: str, created: datetime, ec2: bool = False) -> dict[str, Any]:
    """``userIdentity`` of an assumed-role session."""
    role_id = fakes.stable_principal_id("AROA", role)
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": world.role_arn(role),
            "accountId": world.ACCOUNT_ID,
            "userName": role,
        },
        "attributes": {"creationDate": fakes.iso(created), "mfaAuthenticated": "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": assumed_role_arn(role, session),
        "accountId": world.ACCOUNT_ID,
        "accessKeyId": access_key,
        "sessionContext": context,
    }


def user_identity(user: str, access_key: str, console_created: datetime | None = None, mfa: bool = True) -> dict[str, Any]:
    """``userIdentity`` of an IAM user (with a console session context when signed in)."""
    identity: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": fakes.stable_principal_id("AIDA", user),
        "arn": world.user_arn(user),
        "accountId": world.ACCOUNT_ID,
        "accessKeyId": access_key,
        "userName": user,
    }
    if console_created is not None:
        identity["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": fakes.iso(console_created), "mfaAuthenticated": "true" if mfa else "false"},
        }
    return identity


def anonymous_identity() -> dict[str, Any]:
    """``userIdentity`` CloudTrail writes for unauthenticated S3 callers."""
    return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}


def service_identity(service: str) -> dict[str, Any]:
    """``userIdentity`` of an AWS service acting for the account."""
    return {"type": "AWSService", "invokedBy": service}


def _log_agent(agent: str) -> str:
    """CloudTrail brackets console user agents (``[S3Console/0.4, ...]``); access logs do not."""
    return agent[1:-1] if agent.startswith("[") and agent.endswith("]") else agent


# --- the sink --------------------------------------------------------------------------


class Sink:
    """Collects access log rows per bucket and CloudTrail events; draws ids from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.access: dict[str, list[dict[str, Any]]] = {}
        self.trail: list[tuple[datetime, dict[str, Any]]] = []

    # access logs

    def s3(
        self,
        bucket: str,
        t: datetime,
        caller: Caller,
        operation: str,
        key: str | None,
        request_uri: str | None,
        http_status: int,
        *,
        error_code: str | None = None,
        bytes_sent: int | None = None,
        object_size: int | None = None,
        total_time: int | None = None,
        turn_around_time: int | None = None,
        referer: str | None = None,
        host_header: str | None = None,
        request_id: str | None = None,
        host_id: str | None = None,
        website: bool = False,
    ) -> dict[str, Any]:
        """Append one access log row for ``bucket`` and return it."""
        record = {
            "bucket_owner": world.CANONICAL_OWNER_ID,
            "bucket": bucket,
            "time": t,
            "remote_ip": caller.ip,
            "requester": caller.requester,
            "request_id": request_id or fakes.request_id(self.rng),
            "operation": operation,
            "key": key,
            "request_uri": request_uri,
            "http_status": http_status,
            "error_code": error_code,
            "bytes_sent": bytes_sent,
            "object_size": object_size,
            "total_time": total_time,
            "turn_around_time": turn_around_time,
            "referer": referer,
            "user_agent": None if operation == "BATCH.DELETE.OBJECT" else _log_agent(caller.user_agent),
            "version_id": None,
            "host_id": host_id or fakes.host_id(self.rng),
            # The website endpoint speaks plain HTTP and takes no credentials.
            "signature_version": None if website else caller.signature_version,
            "cipher_suite": None if website else caller.cipher_suite,
            "authentication_type": None if website else caller.authentication_type,
            "host_header": host_header or (website_host(bucket) if website else rest_host(bucket)),
            "tls_version": None if website else caller.tls_version,
            "access_point_arn": None,
            "acl_required": None,
            "source_region": None,
        }
        self.access.setdefault(bucket, []).append(record)
        return record

    # CloudTrail

    def event(self, t: datetime, event: dict[str, Any]) -> dict[str, Any]:
        """Append a finished CloudTrail event."""
        self.trail.append((t, event))
        return event

    def s3_event(
        self,
        t: datetime,
        caller: Caller,
        name: str,
        bucket: str,
        *,
        key: str | None = None,
        data: bool,
        read_only: bool,
        request_id: str,
        host_id: str,
        request_parameters: dict[str, Any] | None = None,
        response_elements: dict[str, Any] | None = None,
        bytes_in: int = 0,
        bytes_out: int = 0,
        error: tuple[str, str] | None = None,
        resources: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Append a CloudTrail S3 event (data or management) and return it."""
        params: dict[str, Any] = {"bucketName": bucket, "Host": rest_host(bucket)}
        if key is not None:
            params["key"] = key
        params.update(request_parameters or {})
        if resources is None:
            resources = []
            if key is not None:
                resources.append({"type": "AWS::S3::Object", "ARN": f"{bucket_arn(bucket)}/{key}"})
            resources.append({"accountId": world.ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": bucket_arn(bucket)})
        additional: dict[str, Any] = {}
        if caller.signature_version:
            additional["SignatureVersion"] = caller.signature_version
        if caller.cipher_suite:
            additional["CipherSuite"] = caller.cipher_suite
        additional["bytesTransferredIn"] = bytes_in
        if caller.authentication_type:
            additional["AuthenticationMethod"] = caller.authentication_type
        additional["x-amz-id-2"] = host_id
        additional["bytesTransferredOut"] = bytes_out
        event = self._envelope(t, caller, "s3.amazonaws.com", name, error)
        event["requestParameters"] = params
        event["responseElements"] = response_elements
        event["additionalEventData"] = additional
        event["requestID"] = request_id
        event["eventID"] = fakes.event_id(self.rng)
        event["readOnly"] = read_only
        event["resources"] = resources
        event["eventType"] = "AwsApiCall"
        event["managementEvent"] = not data
        event["recipientAccountId"] = world.ACCOUNT_ID
        event["eventCategory"] = "Data" if data else "Management"
        if caller.tls_version:
            event["tlsDetails"] = {
                "tlsVersion": caller.tls_version,
                "cipherSuite": caller.cipher_suite,
                "clientProvidedHostHeader": rest_host(bucket),
            }
        if caller.user_agent.startswith("[S3Console"):
            event["sessionCredentialFromConsole"] = "true"
        return self.event(t, event)

    def api_event(
        self,
        t: datetime,
        caller: Caller,
        source: str,
        name: str,
        *,
        read_only: bool,
        request_parameters: dict[str, Any] | None,
        response_elements: dict[str, Any] | None,
        resources: list[dict[str, Any]] | None = None,
        additional: dict[str, Any] | None = None,
        event_type: str = "AwsApiCall",
        tls_host: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Append a non-S3 management event (STS, sign-in...) and return it."""
        event = self._envelope(t, caller, source, name, error)
        event["requestParameters"] = request_parameters
        event["responseElements"] = response_elements
        if additional is not None:
            event["additionalEventData"] = additional
        if event_type == "AwsApiCall":
            event["requestID"] = fakes.event_id(self.rng)
        event["eventID"] = fakes.event_id(self.rng)
        event["readOnly"] = read_only
        if resources is not None:
            event["resources"] = resources
        event["eventType"] = event_type
        event["managementEvent"] = True
        event["recipientAccountId"] = world.ACCOUNT_ID
        event["eventCategory"] = "Management"
        if tls_host and caller.tls_version:
            event["tlsDetails"] = {
                "tlsVersion": caller.tls_version,
                "cipherSuite": caller.cipher_suite,
                "clientProvidedHostHeader": tls_host,
            }
        return self.event(t, event)

    def _envelope(
        self, t: datetime, caller: Caller, source: str, name: str, error: tuple[str, str] | None
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": caller.identity,
            "eventTime": fakes.iso(t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": world.REGION,
            "sourceIPAddress": caller.ip,
            "userAgent": caller.user_agent,
        }
        if error is not None:
            event["errorCode"], event["errorMessage"] = error
        return event
