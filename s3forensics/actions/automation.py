"""Deploy the responder Lambda: package, plan, deploy.

``plan(config)`` lists, in order, every call ``deploy`` makes: the SNS topic, the
function's role and its least-privilege inline policy, the function, the bucket's
request-metrics filter and GetRequests alarm, and two EventBridge rules (the alarm's
state change, and a schedule for expiry sweeps) targeting the function.

``package(out)`` zips this package and the ``queries/`` folder. The handler's path
(log loader + detections on DuckDB) also needs pandas, numpy, pyarrow and duckdb, which
the Lambda runtime lacks and which are too large to zip with the code (well over the
250 MB unzipped limit together): attach the AWS SDK for pandas managed layer
(pandas, numpy, pyarrow) and vendor duckdb with ``--wheels`` (a folder of Lambda-platform
wheels), or build a container image instead.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3forensics import aws
from s3forensics.actions import policy as pol
from s3forensics.config import validate_bucket_name
from s3forensics.errors import ActionError, ParameterError

log = logging.getLogger(__name__)

HANDLER = "s3forensics.actions.lambda_handler.handler"
RUNTIME = "python3.11"
METRICS_FILTER_ID = "EntireBucket"
LAYER_NOTE = (
    "the handler needs pandas, numpy, pyarrow (attach the AWS SDK for pandas layer, "
    "AWSSDKPandas-Python311) and duckdb (vendor it: `pip download duckdb==2.0.1 --platform "
    "manylinux2014_x86_64 --python-version 3.11 --only-binary=:all: -d wheels/` then "
    "`s3forensics automate package --wheels wheels/`)"
)


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(\S+( \S+){5}\)")


def _valid_schedule(text: str) -> bool:
    """An EventBridge schedule expression: ``rate(value unit)`` (value >= 1, the unit
    singular exactly when the value is 1) or ``cron(...)`` with six fields."""
    rate = _RATE.fullmatch(text)
    if rate:
        value = int(rate.group(1))
        return value >= 1 and (value == 1) == (not rate.group(2).endswith("s"))
    return bool(_CRON.fullmatch(text))


@dataclass(frozen=True)
class AutomationConfig:
    """What to deploy.

    Attributes:
        name: prefix of every created resource (function, role, rules, alarm).
        bucket: the bucket to protect.
        log_uri: ``s3://log-bucket/prefix/`` of its access logs (for the partitioned
            layout, down to ``<account>/<region>/<bucket>/``).
        topic_name: SNS topic (default ``<name>-alerts``).
        alarm_threshold: GetRequests per period that raises the alarm.
        alarm_period: alarm period, seconds.
        schedule: EventBridge schedule expression of the sweep.
        block_expires: how long automatic blocks last.
        allow_cidrs: never blocked.
        lookback_minutes: window analysed per event.
        dry_run_blocks: notify only.
        memory_mb: function memory.
        timeout_s: function timeout.
        layers: layer ARNs to attach (e.g. AWS SDK for pandas).
    """

    name: str
    bucket: str
    log_uri: str
    topic_name: str | None = None
    alarm_threshold: int = 5000
    alarm_period: int = 300
    schedule: str = "rate(15 minutes)"
    block_expires: str = "24h"
    allow_cidrs: tuple[str, ...] = ()
    lookback_minutes: int = 60
    dry_run_blocks: bool = False
    memory_mb: int = 1024
    timeout_s: int = 300
    layers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_bucket_name(self.bucket)
        if not self.log_uri.startswith("s3://") or len(self.log_uri) < 6:
            raise ParameterError(f"--log-uri {self.log_uri!r} must be s3://bucket/prefix/")
        validate_bucket_name(self.log_bucket)
        if not self.name.replace("-", "").replace("_", "").isalnum() or len(self.name) > 50:
            raise ParameterError(f"--name {self.name!r} must be letters, digits, - or _ (at most 50)")
        if self.alarm_period % 60:
            raise ParameterError(f"--period {self.alarm_period} must be a multiple of 60 seconds")
        if self.alarm_threshold < 1:
            raise ParameterError("--threshold must be at least 1")
        for cidr in self.allow_cidrs:
            pol.parse_network(cidr, "--allow-cidr")
        pol.parse_duration(self.block_expires)
        if not _valid_schedule(self.schedule):
            raise ParameterError(
                f"--schedule {self.schedule!r} is not an EventBridge schedule expression: "
                "rate(N minutes|hours|days) (singular for 1: rate(1 hour)) or cron(6 fields)"
            )

    @property
    def log_bucket(self) -> str:
        """The log bucket of ``log_uri``."""
        return self.log_uri[5:].split("/", 1)[0]

    @property
    def log_prefix(self) -> str:
        """The key prefix of ``log_uri``."""
        parts = self.log_uri[5:].split("/", 1)
        return parts[1] if len(parts) > 1 else ""

    @property
    def topic(self) -> str:
        """The SNS topic name."""
        return self.topic_name or f"{self.name}-alerts"

    @property
    def function_name(self) -> str:
        """The Lambda function name."""
        return self.name

    @property
    def role_name(self) -> str:
        """The function's IAM role."""
        return f"{self.name}-role"

    @property
    def alarm_name(self) -> str:
        """The GetRequests alarm."""
        return f"{self.name}-get-requests"


@dataclass(frozen=True)
class Step:
    """One AWS call of a deployment."""

    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    def render(self) -> str:
        """``service.operation`` with its parameters as JSON (the zip shown by size)."""
        shown = {k: (f"<zip, {len(v)} bytes>" if isinstance(v, bytes) else v) for k, v in self.params.items()}
        if "Code" in shown:
            shown["Code"] = {k: (f"<zip, {len(v)} bytes>" if isinstance(v, bytes) else v) for k, v in shown["Code"].items()}
        return f"# {self.why}\n{self.service}.{self.operation} {json.dumps(shown, indent=2, default=str)}\n"


def trust_policy() -> dict[str, Any]:
    """Only Lambda may assume the function's role."""
    return {
        "Version": pol.POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def role_policy(config: AutomationConfig, account: str, region: str) -> dict[str, Any]:
    """Least privilege: read the logs, edit one bucket policy, publish to one topic, log."""
    prefix = config.log_prefix
    return {
        "Version": pol.POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ListAccessLogs",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{config.log_bucket}",
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
            {"Sid": "ReadAccessLogs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{config.log_bucket}/{prefix}*"},
            {
                "Sid": "EditProtectedBucketPolicy",
                "Effect": "Allow",
                "Action": ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
                "Resource": f"arn:aws:s3:::{config.bucket}",
            },
            {
                # The bucket's profile: a website, or a policy S3 judges public (profiles.account_profile).
                "Sid": "ReadBucketProfile",
                "Effect": "Allow",
                "Action": ["s3:GetBucketWebsite", "s3:GetBucketPolicyStatus"],
                "Resource": f"arn:aws:s3:::{config.bucket}",
            },
            {"Sid": "Notify", "Effect": "Allow", "Action": "sns:Publish", "Resource": f"arn:aws:sns:{region}:{account}:{config.topic}"},
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{config.function_name}",
                    f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{config.function_name}:*",
                ],
            },
        ],
    }


def function_environment(config: AutomationConfig, topic_arn: str) -> dict[str, str]:
    """The handler's settings (see :mod:`s3forensics.actions.lambda_handler`)."""
    env = {
        "S3FORENSICS_BUCKET": config.bucket,
        "S3FORENSICS_LOG_URI": config.log_uri,
        "S3FORENSICS_TOPIC_ARN": topic_arn,
        "S3FORENSICS_LOOKBACK_MINUTES": str(config.lookback_minutes),
        "S3FORENSICS_BLOCK_EXPIRES": config.block_expires,
        "S3FORENSICS_ALLOW_CIDRS": ",".join(config.allow_cidrs),
    }
    if config.dry_run_blocks:
        env["S3FORENSICS_DRY_RUN"] = "true"
    return env


def plan(config: AutomationConfig, account: str = "<account>", region: str = "<region>", zip_bytes: bytes | None = None) -> list[Step]:
    """Every call ``deploy`` makes, in order (placeholders where ids are not known yet)."""
    topic_arn = f"arn:aws:sns:{region}:{account}:{config.topic}"
    role_arn = f"arn:aws:iam::{account}:role/{config.role_name}"
    function_arn = f"arn:aws:lambda:{region}:{account}:function:{config.function_name}"
    alarm_arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{config.alarm_name}"
    code: dict[str, Any] = {"ZipFile": zip_bytes if zip_bytes is not None else b""}
    alarm_rule = f"{config.name}-alarm"
    sweep_rule = f"{config.name}-sweep"
    function: dict[str, Any] = {
        "FunctionName": config.function_name,
        "Runtime": RUNTIME,
        "Role": role_arn,
        "Handler": HANDLER,
        "Code": code,
        "Timeout": config.timeout_s,
        "MemorySize": config.memory_mb,
        "Environment": {"Variables": function_environment(config, topic_arn)},
        "Description": f"s3forensics responder for bucket {config.bucket}",
    }
    if config.layers:
        function["Layers"] = list(config.layers)
    return [
        Step("sns", "create_topic", {"Name": config.topic}, "the team's alert topic (subscribe people to it)"),
        Step("iam", "create_role", {"RoleName": config.role_name, "AssumeRolePolicyDocument": json.dumps(trust_policy())}, "the function's role"),
        Step(
            "iam",
            "put_role_policy",
            {"RoleName": config.role_name, "PolicyName": "s3forensics-responder", "PolicyDocument": json.dumps(role_policy(config, account, region))},
            "least privilege: read the logs, edit the one bucket policy, publish, write its own logs",
        ),
        Step("lambda", "create_function", function, "the responder"),
        Step(
            "s3",
            "put_bucket_metrics_configuration",
            {"Bucket": config.bucket, "Id": METRICS_FILTER_ID, "MetricsConfiguration": {"Id": METRICS_FILTER_ID}},
            "request metrics (GetRequests) for the whole bucket",
        ),
        Step(
            "cloudwatch",
            "put_metric_alarm",
            {
                "AlarmName": config.alarm_name,
                "AlarmDescription": f"GetRequests on {config.bucket} above {config.alarm_threshold} per {config.alarm_period}s",
                "Namespace": "AWS/S3",
                "MetricName": "GetRequests",
                "Dimensions": [{"Name": "BucketName", "Value": config.bucket}, {"Name": "FilterId", "Value": METRICS_FILTER_ID}],
                "Statistic": "Sum",
                "Period": config.alarm_period,
                "EvaluationPeriods": 1,
                "Threshold": float(config.alarm_threshold),
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [topic_arn],
            },
            "the GetRequests alarm",
        ),
        Step(
            "events",
            "put_rule",
            {
                "Name": alarm_rule,
                "EventPattern": json.dumps(
                    {
                        "source": ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        "resources": [alarm_arn],
                        "detail": {"state": {"value": ["ALARM"]}},
                    }
                ),
                "State": "ENABLED",
                "Description": f"{config.alarm_name} in ALARM -> {config.function_name}",
            },
            "route the alarm's state change to the function",
        ),
        Step("events", "put_targets", {"Rule": alarm_rule, "Targets": [{"Id": "responder", "Arn": function_arn}]}, "alarm rule -> function"),
        Step(
            "lambda",
            "add_permission",
            {
                "FunctionName": config.function_name,
                "StatementId": f"{alarm_rule}-invoke",
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": f"arn:aws:events:{region}:{account}:rule/{alarm_rule}",
            },
            "let the alarm rule invoke the function",
        ),
        Step(
            "events",
            "put_rule",
            {"Name": sweep_rule, "ScheduleExpression": config.schedule, "State": "ENABLED", "Description": f"expire blocks, re-check {config.bucket}"},
            "the periodic sweep (expiry of blocks, detection)",
        ),
        Step("events", "put_targets", {"Rule": sweep_rule, "Targets": [{"Id": "responder", "Arn": function_arn}]}, "sweep rule -> function"),
        Step(
            "lambda",
            "add_permission",
            {
                "FunctionName": config.function_name,
                "StatementId": f"{sweep_rule}-invoke",
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": f"arn:aws:events:{region}:{account}:rule/{sweep_rule}",
            },
            "let the sweep rule invoke the function",
        ),
    ]


_ALREADY = {"EntityAlreadyExists", "ResourceConflictException"}


def deploy(config: AutomationConfig, zip_path: Path, *, session: Any | None = None) -> dict[str, str]:
    """Make every call of :func:`plan` (re-running updates what exists).

    Returns:
        created resource -> ARN or name.

    Raises:
        ActionError: a call failed (names the step).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from s3forensics.actions.resources import default_session
    from s3forensics.aws import explain

    session = session or default_session()
    try:
        account = aws.client("sts", session).get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        raise ActionError(f"deploy: could not read the account id from STS: {explain(exc)}") from exc
    region = session.region_name or aws.DEFAULT_REGION
    s3 = aws.client("s3", session)
    for bucket, role in ((config.bucket, "the bucket to protect"), (config.log_bucket, "the log bucket")):
        try:
            s3.head_bucket(Bucket=bucket)
        except (ClientError, BotoCoreError) as exc:
            raise ActionError(f"deploy: {role} {bucket} cannot be reached ({explain(exc)}); nothing was created") from exc
    try:
        zip_bytes = Path(zip_path).read_bytes()
    except OSError as exc:
        raise ActionError(f"deploy: cannot read the package {zip_path}: {exc.strerror or exc}") from exc
    clients: dict[str, Any] = {}
    out: dict[str, str] = {}
    for step in plan(config, account, region, zip_bytes):
        client = clients.setdefault(step.service, aws.client(step.service, session))
        try:
            resp = getattr(client, step.operation)(**step.params)
        except (ClientError, BotoCoreError) as exc:
            code = aws.error_code(exc)
            if code in _ALREADY and step.operation == "create_function":
                client.update_function_code(FunctionName=config.function_name, ZipFile=zip_bytes)
                resp = client.update_function_configuration(
                    **{k: v for k, v in step.params.items() if k not in ("Code", "Runtime", "FunctionName")},
                    FunctionName=config.function_name,
                )
            elif code in _ALREADY:
                log.info("%s.%s: already exists", step.service, step.operation)
                continue
            else:
                raise ActionError(f"deploy step {step.service}.{step.operation} ({step.why}) failed: {explain(exc)}") from exc
        if step.operation == "create_topic":
            out["topic_arn"] = resp["TopicArn"]
        elif step.operation == "create_role":
            out["role_arn"] = resp["Role"]["Arn"]
        elif step.operation == "create_function":
            out["function_arn"] = resp["FunctionArn"]
        elif step.operation == "put_metric_alarm":
            out["alarm"] = config.alarm_name
        elif step.operation == "put_rule":
            out[f"rule:{step.params['Name']}"] = resp["RuleArn"]
    return out


@dataclass(frozen=True)
class PackageResult:
    """The built zip."""

    path: Path
    size: int
    files: int
    notes: tuple[str, ...] = ()


def package(out: Path, *, wheels_dir: Path | None = None) -> PackageResult:
    """Zip the ``s3forensics`` package and ``queries/`` for Lambda (deterministic order).

    Args:
        out: zip file to write.
        wheels_dir: folder of ``.whl`` files built for Lambda's platform; their contents
            are unpacked into the zip root (how duckdb is vendored).

    Raises:
        ActionError: the package or queries folder is missing, or a wheel is unreadable.
    """
    from s3forensics.queries import queries_dir

    root = Path(__file__).resolve().parents[1]
    queries = queries_dir()
    if not (root / "__init__.py").is_file():
        raise ActionError(f"cannot find the s3forensics package at {root}")
    if not queries.is_dir():
        raise ActionError(f"cannot find the queries folder at {queries} (set S3FORENSICS_QUERIES)")
    notes: list[str] = []
    count = 0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fixed_time = (2020, 1, 1, 0, 0, 0)

    def add(zf: zipfile.ZipFile, arcname: str, data: bytes) -> None:
        info = zipfile.ZipInfo(arcname, date_time=fixed_time)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                add(zf, f"s3forensics/{path.relative_to(root).as_posix()}", path.read_bytes())
                count += 1
        for path in sorted(queries.glob("*.sql")):
            add(zf, f"queries/{path.name}", path.read_bytes())
            count += 1
        vendored: list[str] = []
        if wheels_dir is not None:
            wheels = sorted(Path(wheels_dir).glob("*.whl"))
            if not wheels:
                raise ActionError(f"--wheels {wheels_dir}: no .whl files there")
            for wheel in wheels:
                try:
                    with zipfile.ZipFile(wheel) as wz:
                        for name in sorted(wz.namelist()):
                            if not name.endswith("/"):
                                add(zf, name, wz.read(name))
                                count += 1
                except zipfile.BadZipFile as exc:
                    raise ActionError(f"wheel {wheel} is not a zip: {exc}") from exc
                vendored.append(wheel.name.split("-")[0].lower())
    if "duckdb" not in vendored:
        notes.append(LAYER_NOTE)
    size = out.stat().st_size
    if size > 50 * 1024 * 1024:
        notes.append(f"the zip is {size} bytes, over Lambda's 50 MB direct-upload limit: upload it to S3 and deploy from there")
    return PackageResult(out, size, count, tuple(notes))
