"""Packaging, planning and deploying the responder Lambda (deploy against the sandbox)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import boto3
import pytest

from s3forensics.actions.automation import AutomationConfig, deploy, package, plan, role_policy
from s3forensics.cli import main
from s3forensics.errors import ParameterError
from s3forensics.lab.demo import world

LOG_URI = f"s3://{world.LOG_BUCKET}/{world.SITE_LOG_PREFIX}{world.ACCOUNT_ID}/{world.REGION}/{world.SITE_BUCKET}/"


def config(**kw: object) -> AutomationConfig:
    return AutomationConfig(name="s3f-responder", bucket=world.SITE_BUCKET, log_uri=LOG_URI, **kw)  # type: ignore[arg-type]


def test_package_holds_the_handler_and_queries_and_is_deterministic(tmp_path: Path) -> None:
    first = package(tmp_path / "a.zip")
    second = package(tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    names = zipfile.ZipFile(first.path).namelist()
    assert "s3forensics/actions/lambda_handler.py" in names and "s3forensics/detections/__init__.py" in names
    assert "queries/detect__request_rate_spike.sql" in names
    assert not any("__pycache__" in n for n in names)
    assert any("duckdb" in note and "layer" in note for note in first.notes)


def test_package_vendors_wheels(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "duckdb-2.0.1-cp311-cp311-manylinux2014_x86_64.whl", "w") as wz:
        wz.writestr("duckdb/__init__.py", "# vendored\n")
    result = package(tmp_path / "f.zip", wheels_dir=wheels)
    assert "duckdb/__init__.py" in zipfile.ZipFile(result.path).namelist()
    assert not any("duckdb==" in note for note in result.notes)


def test_role_policy_is_least_privilege() -> None:
    doc = role_policy(config(), world.ACCOUNT_ID, world.REGION)
    actions = {a for s in doc["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {
        "s3:ListBucket", "s3:GetObject", "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
        "s3:GetBucketWebsite", "s3:GetBucketPolicyStatus", "sns:Publish", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
    }
    # Every statement names exactly its own resources: the log prefix, the protected bucket,
    # the "<name>-alerts" topic and the function's own log group (name "s3f-responder").
    logs = f"{world.SITE_LOG_PREFIX}{world.ACCOUNT_ID}/{world.REGION}/{world.SITE_BUCKET}/"
    log_group = f"arn:aws:logs:{world.REGION}:{world.ACCOUNT_ID}:log-group:/aws/lambda/s3f-responder"
    assert {s["Sid"]: s["Resource"] for s in doc["Statement"]} == {
        "ListAccessLogs": f"arn:aws:s3:::{world.LOG_BUCKET}",
        "ReadAccessLogs": f"arn:aws:s3:::{world.LOG_BUCKET}/{logs}*",
        "EditProtectedBucketPolicy": f"arn:aws:s3:::{world.SITE_BUCKET}",
        "ReadBucketProfile": f"arn:aws:s3:::{world.SITE_BUCKET}",
        "Notify": f"arn:aws:sns:{world.REGION}:{world.ACCOUNT_ID}:s3f-responder-alerts",
        "OwnLogs": [log_group, f"{log_group}:*"],
    }
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ListAccessLogs"]["Condition"] == {"StringLike": {"s3:prefix": [f"{logs}*"]}}


def test_plan_routes_the_alarm_and_the_schedule_to_the_function() -> None:
    steps = plan(config(), world.ACCOUNT_ID, world.REGION)
    rules = [s for s in steps if s.operation == "put_rule"]
    pattern = json.loads(rules[0].params["EventPattern"])
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["resources"] == [f"arn:aws:cloudwatch:{world.REGION}:{world.ACCOUNT_ID}:alarm:s3f-responder-get-requests"]
    assert rules[1].params["ScheduleExpression"] == "rate(15 minutes)"
    (alarm,) = [s for s in steps if s.operation == "put_metric_alarm"]
    assert alarm.params["MetricName"] == "GetRequests" and {"Name": "FilterId", "Value": "EntireBucket"} in alarm.params["Dimensions"]
    (fn,) = [s for s in steps if s.operation == "create_function"]
    assert fn.params["Handler"] == "s3forensics.actions.lambda_handler.handler"
    assert fn.params["Environment"]["Variables"]["S3FORENSICS_LOG_URI"] == LOG_URI


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"log_uri": "logs/site/"}, "--log-uri"), ({"name": "bad name!"}, "--name"), ({"alarm_period": 90}, "--period"), ({"allow_cidrs": ("nope",)}, "--allow-cidr")],
)
def test_config_is_validated(kw: dict, message: str) -> None:
    base = {"name": "s3f-responder", "bucket": world.SITE_BUCKET, "log_uri": LOG_URI, **kw}
    with pytest.raises(ParameterError, match=message):
        AutomationConfig(**base)  # type: ignore[arg-type]


def test_cli_plan_prints_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["automate", "plan", "--bucket", world.SITE_BUCKET, "--log-uri", LOG_URI]) == 0
    out = capsys.readouterr().out
    for call in ("sns.create_topic", "iam.create_role", "iam.put_role_policy", "lambda.create_function", "cloudwatch.put_metric_alarm", "events.put_rule", "events.put_targets", "lambda.add_permission"):
        assert call in out


@pytest.mark.sandbox
def test_deploy_creates_everything_and_can_rerun(fresh_sandbox: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zip_path = package(tmp_path / "fn.zip").path
    created = deploy(config(), zip_path)
    assert created["topic_arn"].endswith(":s3f-responder-alerts")
    fn = boto3.client("lambda").get_function(FunctionName="s3f-responder")["Configuration"]
    assert fn["Handler"] == "s3forensics.actions.lambda_handler.handler" and fn["Role"] == created["role_arn"]
    iam = boto3.client("iam")
    assert iam.list_role_policies(RoleName="s3f-responder-role")["PolicyNames"] == ["s3forensics-responder"]
    (alarm,) = boto3.client("cloudwatch").describe_alarms(AlarmNames=["s3f-responder-get-requests"])["MetricAlarms"]
    assert alarm["MetricName"] == "GetRequests" and alarm["Threshold"] == 5000.0
    events = boto3.client("events")
    targets = events.list_targets_by_rule(Rule="s3f-responder-alarm")["Targets"]
    assert targets[0]["Arn"] == fn["FunctionArn"]
    assert events.describe_rule(Name="s3f-responder-sweep")["ScheduleExpression"] == "rate(15 minutes)"
    # Deploying again updates in place.
    again = deploy(config(alarm_threshold=100), zip_path)
    assert again["topic_arn"] == created["topic_arn"]
    (alarm,) = boto3.client("cloudwatch").describe_alarms(AlarmNames=["s3f-responder-get-requests"])["MetricAlarms"]
    assert alarm["Threshold"] == 100.0
    # Without --apply the CLI creates nothing.
    assert main(["automate", "deploy", "--bucket", world.SITE_BUCKET, "--log-uri", LOG_URI, "--name", "other-responder"]) == 0
    assert "dry run" in capsys.readouterr().out
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="other-responder")
