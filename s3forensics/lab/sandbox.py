"""A local sandbox AWS account: a moto server on 127.0.0.1, seeded with the demo world.

``start`` picks a free loopback port, runs ``python -m moto.server`` in its own process
group, waits until it answers, records its endpoint in a state file and seeds the demo
account. Library code never needs to know: it follows ``AWS_ENDPOINT_URL`` like any
boto3 code does, so exporting the lines that ``env_lines`` prints is all it takes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from s3forensics.config import home_dir
from s3forensics.errors import SandboxError
from s3forensics.lab.demo import world

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: Dummy credentials moto accepts; they are not, and cannot be, real AWS credentials.
SANDBOX_ENV_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
}


@dataclass(frozen=True)
class SandboxState:
    """What ``start`` recorded: enough for another process to find and stop the server."""

    endpoint: str
    port: int
    pid: int
    account_id: str
    region: str
    started_at: float
    log_file: str

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and pyathena) at this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **SANDBOX_ENV_CREDENTIALS,
        }


def state_file() -> Path:
    """The sandbox state file, under the kit's home folder."""
    return home_dir() / "sandbox.json"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _answers(endpoint: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_line(pid: int) -> str | None:
    """The command line of process ``pid`` (None when it cannot be read)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def is_sandbox_server(state: SandboxState) -> bool:
    """True when ``state.pid`` is the moto server this state describes (its module and port
    on the command line): after a reboot or a crash the pid may belong to anything."""
    command = _command_line(state.pid)
    return command is not None and "moto.server" in command and f"-p {state.port}" in command


def read_state() -> SandboxState | None:
    """The recorded sandbox, or None when none is recorded."""
    path = state_file()
    if not path.exists():
        return None
    try:
        return SandboxState(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise SandboxError(f"sandbox state file {path} is unreadable: {exc}") from exc


def status() -> tuple[str, SandboxState | None]:
    """``("running"|"stale"|"stopped", state)``: stale means recorded but not answering."""
    state = read_state()
    if state is None:
        return "stopped", None
    if _alive(state.pid) and is_sandbox_server(state) and _answers(state.endpoint):
        return "running", state
    return "stale", state


def start(seed: bool = True, timeout: float = 30.0) -> SandboxState:
    """Start the sandbox (or return the running one) and seed the demo account.

    Raises:
        SandboxError: the server did not answer within ``timeout`` seconds.
    """
    current, state = status()
    if current == "running" and state is not None:
        return state
    if current == "stale":
        state_file().unlink(missing_ok=True)
    home_dir().mkdir(parents=True, exist_ok=True)
    port = free_port()
    endpoint = f"http://{HOST}:{port}"
    log_path = home_dir() / "sandbox.log"
    env = {**os.environ, "MOTO_ACCOUNT_ID": world.ACCOUNT_ID, **SANDBOX_ENV_CREDENTIALS}
    env.pop("AWS_ENDPOINT_URL", None)
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while not _answers(endpoint):
        if proc.poll() is not None:
            raise SandboxError(f"moto server exited with code {proc.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            _terminate(proc.pid)
            raise SandboxError(f"moto server did not answer on {endpoint} within {timeout:.0f}s; see {log_path}")
        time.sleep(0.1)
    state = SandboxState(
        endpoint=endpoint,
        port=port,
        pid=proc.pid,
        account_id=world.ACCOUNT_ID,
        region=world.REGION,
        started_at=time.time(),
        log_file=str(log_path),
    )
    state_file().write_text(json.dumps(asdict(state), indent=2))
    if seed:
        seed_demo_account(state)
    return state


def _terminate(pid: int, grace: float = 5.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = pid if not _alive(pid) else 0
        if finished:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def stop() -> bool:
    """Stop the recorded sandbox; True if one was running.

    Raises:
        SandboxError: the recorded pid is alive but is not the sandbox's moto server (the
            state is stale and the pid reused): nothing is signalled; the message says how
            to clear the state.
    """
    state = read_state()
    if state is None:
        return False
    was_running = _alive(state.pid)
    if was_running and not is_sandbox_server(state):
        command = _command_line(state.pid) or "unknown"
        raise SandboxError(
            f"process {state.pid} recorded in {state_file()} is not the sandbox's moto server on port {state.port} "
            f"(it runs: {command[:120]}); nothing was stopped. The record is stale: delete {state_file()}"
        )
    if was_running:
        _terminate(state.pid)
    state_file().unlink(missing_ok=True)
    return was_running


def env_lines(state: SandboxState) -> list[str]:
    """``export NAME=value`` lines for a shell (``eval "$(s3forensics sandbox env)"``)."""
    return [f"export {name}={value}" for name, value in state.env().items()]


def boto_session(state: SandboxState) -> Any:
    """A boto3 session pointed at the sandbox without touching ``os.environ``."""
    import boto3

    return boto3.Session(
        aws_access_key_id=SANDBOX_ENV_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SANDBOX_ENV_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=SANDBOX_ENV_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=state.region,
    )


def client(state: SandboxState, service: str) -> Any:
    """A client for ``service`` on the sandbox endpoint."""
    return boto_session(state).client(service, endpoint_url=state.endpoint)


# --- the demo account -------------------------------------------------------------

SITE_FILES: dict[str, tuple[str, bytes]] = {
    "index.html": ("text/html", b"<!doctype html><title>Example Shop</title><h1>Welcome</h1>\n"),
    "about.html": ("text/html", b"<!doctype html><title>About</title><p>About us.</p>\n"),
    "404.html": ("text/html", b"<!doctype html><title>Not found</title>\n"),
    "css/site.css": ("text/css", b"body{font-family:sans-serif}\n"),
    "js/app.js": ("application/javascript", b"console.log('ready');\n"),
    "img/logo.png": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 2048),
    "robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n"),
}


def _public_read_policy(bucket: str, deny_hidden: bool = False) -> str:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PublicReadForWebsite",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    ]
    if deny_hidden:
        # Dot files and key material are never served, even if someone uploads them.
        statements.append(
            {
                "Sid": "DenyHiddenAndKeyFiles",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [
                    f"arn:aws:s3:::{bucket}/.*",
                    f"arn:aws:s3:::{bucket}/*/.*",
                    f"arn:aws:s3:::{bucket}/*.pem",
                    f"arn:aws:s3:::{bucket}/*id_rsa*",
                ],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _log_delivery_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "S3ServerAccessLogsPolicy",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{world.LOG_BUCKET}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": world.ACCOUNT_ID}},
                }
            ],
        }
    )


def _trail_bucket_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{world.TRAIL_BUCKET}",
                },
                {
                    "Sid": "AWSCloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{world.TRAIL_BUCKET}/AWSLogs/{world.ACCOUNT_ID}/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
            ],
        }
    )


def seed_demo_account(state: SandboxState) -> None:
    """Create the demo account's buckets, trail, roles and topic (idempotent).

    Deliberate gaps for the setup checks: the trail is single-region, without log file
    validation or CloudWatch Logs delivery, and records only write data events (site and
    data buckets); the archive bucket is public (policy and ACL) with no access logging; no
    bucket has versioning; the site's GetRequests alarm notifies a topic with no confirmed
    subscription; account-level Block Public Access is off.
    """
    s3 = client(state, "s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (world.LOG_BUCKET, world.TRAIL_BUCKET, world.SITE_BUCKET, world.DATA_BUCKET, world.ARCHIVE_BUCKET):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=world.LOG_BUCKET, Policy=_log_delivery_policy())
    s3.put_bucket_policy(Bucket=world.TRAIL_BUCKET, Policy=_trail_bucket_policy())

    # The website: public read, website hosting, partitioned access logs.
    s3.put_public_access_block(
        Bucket=world.SITE_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(Bucket=world.SITE_BUCKET, Policy=_public_read_policy(world.SITE_BUCKET, deny_hidden=True))
    s3.put_bucket_website(
        Bucket=world.SITE_BUCKET,
        WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}},
    )
    for key, (content_type, body) in SITE_FILES.items():
        s3.put_object(Bucket=world.SITE_BUCKET, Key=key, Body=body, ContentType=content_type)
    s3.put_bucket_metrics_configuration(
        Bucket=world.SITE_BUCKET, Id="EntireBucket", MetricsConfiguration={"Id": "EntireBucket"}
    )
    # Logging last: moto, like S3, would log the seeding requests themselves otherwise.
    _put_logging(s3, world.SITE_BUCKET, world.SITE_LOG_PREFIX, partitioned=True)

    # Private data: fully blocked, simple-layout access logs.
    s3.put_public_access_block(
        Bucket=world.DATA_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    for i in range(12):
        s3.put_object(Bucket=world.DATA_BUCKET, Key=f"exports/customers-{i:02d}.csv", Body=b"id,email\n")
    _put_logging(s3, world.DATA_BUCKET, world.DATA_LOG_PREFIX, partitioned=False)

    # The archive: made public and left without logging (the incident's end state).
    s3.put_bucket_policy(Bucket=world.ARCHIVE_BUCKET, Policy=_public_read_policy(world.ARCHIVE_BUCKET))
    s3.put_bucket_acl(Bucket=world.ARCHIVE_BUCKET, ACL="public-read")
    for i in range(5):
        s3.put_object(Bucket=world.ARCHIVE_BUCKET, Key=f"backups/2025-{i + 1:02d}.tar.gz", Body=b"\x1f\x8b")

    trail = client(state, "cloudtrail")
    names = {t["Name"] for t in trail.describe_trails().get("trailList", [])}
    if world.TRAIL_NAME not in names:
        trail.create_trail(
            Name=world.TRAIL_NAME,
            S3BucketName=world.TRAIL_BUCKET,
            IsMultiRegionTrail=False,
            EnableLogFileValidation=False,
        )
    trail.put_event_selectors(
        TrailName=world.TRAIL_NAME,
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [
                    {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{world.SITE_BUCKET}/", f"arn:aws:s3:::{world.DATA_BUCKET}/"]}
                ],
            }
        ],
    )
    trail.start_logging(Name=world.TRAIL_NAME)

    iam = client(state, "iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{world.ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}],
        }
    )
    existing_roles = {r["RoleName"] for r in iam.list_roles().get("Roles", [])}
    for role in (world.DEPLOY_ROLE, world.ANALYTICS_ROLE):
        if role not in existing_roles:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    users = {u["UserName"] for u in iam.list_users().get("Users", [])}
    if world.ADMIN_USER not in users:
        iam.create_user(UserName=world.ADMIN_USER)
        iam.create_access_key(UserName=world.ADMIN_USER)

    # A GetRequests alarm on the site whose only action is a topic nobody subscribed to:
    # it would fire, and reach no one.
    topic = client(state, "sns").create_topic(Name="s3f-demo-alerts")["TopicArn"]
    client(state, "cloudwatch").put_metric_alarm(
        AlarmName="s3f-demo-site-get-requests",
        Namespace="AWS/S3",
        MetricName="GetRequests",
        Dimensions=[
            {"Name": "BucketName", "Value": world.SITE_BUCKET},
            {"Name": "FilterId", "Value": "EntireBucket"},
        ],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=5000.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )
    log.info("seeded demo account %s on %s", world.ACCOUNT_ID, state.endpoint)


def _put_logging(s3: Any, bucket: str, prefix: str, partitioned: bool) -> None:
    enabled: dict[str, Any] = {"TargetBucket": world.LOG_BUCKET, "TargetPrefix": prefix}
    if partitioned:
        enabled["TargetObjectKeyFormat"] = {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}
    else:
        enabled["TargetObjectKeyFormat"] = {"SimplePrefix": {}}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled})
