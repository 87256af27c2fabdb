"""Blocking on the sandbox: statements survive block, repeat and rollback; dry runs change nothing."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from s3forensics.actions import audit
from s3forensics.actions.block import plan_block_ip, plan_expire, plan_unblock_ip
from s3forensics.actions.resources import execute
from s3forensics.actions.rollback import rollback
from s3forensics.cli import main
from s3forensics.errors import ActionError, RefusedError
from s3forensics.lab.demo import world

pytestmark = pytest.mark.sandbox

BUCKET = world.SITE_BUCKET


def multi_statement_policy() -> str:
    doc = {
        "Version": "2012-10-17",
        "Id": "SitePolicy",
        "Statement": [
            {"Sid": "PublicReadForWebsite", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DeployRole",
                "Effect": "Allow",
                "Principal": {"AWS": world.role_arn(world.DEPLOY_ROLE)},
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        ],
    }
    return json.dumps(doc, indent=4)


@pytest.fixture()
def s3(fresh_sandbox: object) -> object:
    client = boto3.client("s3")
    client.put_bucket_policy(Bucket=BUCKET, Policy=multi_statement_policy())
    return client


@pytest.fixture()
def audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("S3FORENSICS_AUDIT_LOG", str(path))
    monkeypatch.delenv("S3FORENSICS_MY_IP", raising=False)
    return path


def policy_of(s3: object) -> dict:
    return json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])  # type: ignore[attr-defined]


def test_block_repeat_and_rollback_preserve_the_policy(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original_text = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]  # type: ignore[attr-defined]
    original = json.loads(original_text)

    assert main(["respond", "block-ip", "--bucket", BUCKET, "203.0.113.50", "2001:db8::/48", "--apply"]) == 0
    out = capsys.readouterr().out
    first_id = out.strip().splitlines()[-1].removeprefix("action_id: ")
    assert out.strip().splitlines()[-1] == f"action_id: {first_id}"
    blocked = policy_of(s3)
    assert blocked["Statement"][:3] == original["Statement"]
    assert blocked["Statement"][3]["Condition"]["IpAddress"]["aws:SourceIp"] == ["203.0.113.50/32", "2001:db8::/48"]

    # A repeat adds nothing and leaves the policy as it was.
    assert main(["respond", "block-ip", "--bucket", BUCKET, "203.0.113.50", "--apply"]) == 0
    out = capsys.readouterr().out
    assert "status: no-op" in out
    assert policy_of(s3) == blocked

    # The previous policy was saved before the change.
    record = audit.get(first_id)
    assert record.status == "applied" and record.before == original_text
    saved = json.loads(Path(record.details["backup"]).read_text())
    assert saved["before"] == original_text
    # audit.actor(): the caller's ARN from STS (in the demo account) plus the local user.
    assert record.actor == f"{boto3.client('sts').get_caller_identity()['Arn']} (local: {getpass.getuser()})"
    assert record.actor.startswith(f"arn:aws:sts::{world.ACCOUNT_ID}:")

    assert main(["respond", "rollback", first_id, "--apply"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("action_id: ")
    restored = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]  # type: ignore[attr-defined]
    assert json.loads(restored) == original
    assert restored == original_text

    # A second rollback of the same action is refused.
    with pytest.raises(ActionError, match="already rolled back"):
        rollback(first_id, apply=True)


def test_dry_run_changes_nothing_and_prints_a_diff(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]  # type: ignore[attr-defined]
    assert main(["respond", "block-ip", "--bucket", BUCKET, "198.51.100.7"]) == 0
    out = capsys.readouterr().out
    assert f"--- bucket policy of {BUCKET} (before)" in out
    assert any(line.startswith("+") and '"198.51.100.7/32"' in line for line in out.splitlines())
    assert not any(line.startswith("-") and not line.startswith("---") for line in out.splitlines())
    assert "action_id:" not in out and "dry run" in out
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == before  # type: ignore[attr-defined]
    (record,) = list(audit.iter_records())
    assert record.status == "dry-run" and record.action == "block-ip"
    with pytest.raises(ActionError, match="not applied"):
        rollback(record.id)


def test_refusals_fire_through_the_cli(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]  # type: ignore[attr-defined]
    for args, message in (
        (["0.0.0.0/0"], "every IPv4 address"),
        (["::/0"], "every IPv6 address"),
        (["10.0.0.0/8"], "VPC endpoint"),
        (["203.0.113.0/24", "--my-ip", "203.0.113.9"], "your own address 203.0.113.9/32"),
    ):
        assert main(["respond", "block-ip", "--bucket", BUCKET, *args, "--apply"]) == 1
        assert message in capsys.readouterr().err
    monkeypatch.setenv("S3FORENSICS_MY_IP", "2001:db8::1")
    assert main(["respond", "block-ip", "--bucket", BUCKET, "2001:db8::/32", "--apply"]) == 1
    assert "your own address 2001:db8::1/128" in capsys.readouterr().err
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == before  # type: ignore[attr-defined]
    assert not audit_log.exists()


def test_overflow_is_refused_even_when_forced(fresh_sandbox: object, audit_log: Path) -> None:
    # The refusal depends on the bucket's live policy: start from the seeded one, not
    # from whatever an earlier test left behind.
    many = [f"203.0.{i // 256}.{i % 256}" for i in range(1500)]
    with pytest.raises(RefusedError, match="limit S3 enforces"):
        plan_block_ip(BUCKET, many, force=True)


def test_rollback_refuses_when_the_policy_changed_since(s3: object, audit_log: Path) -> None:
    first = execute(plan_block_ip(BUCKET, ["203.0.113.50"]), apply=True)
    second = execute(plan_block_ip(BUCKET, ["198.51.100.7"]), apply=True)
    with pytest.raises(ActionError, match=f"later actions on it: {second.action_id}"):
        rollback(first.action_id, apply=True)
    rollback(second.action_id, apply=True)
    rollback(first.action_id, apply=True)
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == multi_statement_policy()  # type: ignore[attr-defined]

    # A change made outside the kit is detected too.
    third = execute(plan_block_ip(BUCKET, ["203.0.113.60"]), apply=True)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=multi_statement_policy())  # type: ignore[attr-defined]
    with pytest.raises(ActionError, match="changed outside this kit"):
        rollback(third.action_id, apply=True)


def test_apply_refuses_a_stale_plan(s3: object, audit_log: Path) -> None:
    plan = plan_block_ip(BUCKET, ["203.0.113.50"])
    s3.delete_bucket_policy(Bucket=BUCKET)  # type: ignore[attr-defined]
    with pytest.raises(ActionError, match="changed since the plan was made"):
        execute(plan, apply=True)
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_policy(Bucket=BUCKET)  # type: ignore[attr-defined]
    assert missing.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_block_on_a_bucket_without_policy_and_unblock_deletes_it(fresh_sandbox: object, audit_log: Path) -> None:
    s3 = boto3.client("s3")
    bucket = world.DATA_BUCKET
    applied = execute(plan_block_ip(bucket, ["203.0.113.50"]), apply=True)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Sid"] == "S3ForensicsBlock"
    unblocked = execute(plan_unblock_ip(bucket, ["203.0.113.50"]), apply=True)
    assert unblocked.record.details["removed"] == ["203.0.113.50/32"]
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_policy(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    # Rolling back the unblock restores the block; then the block's own rollback works.
    rollback(unblocked.action_id, apply=True)
    rollback(applied.action_id, apply=True)
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_policy(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_expire_removes_only_expired_blocks(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import timedelta

    from s3forensics.vocabulary import utc_now

    execute(plan_block_ip(BUCKET, ["203.0.113.50"], expires="1h"), apply=True)
    execute(plan_block_ip(BUCKET, ["198.51.100.7"]), apply=True)
    assert not plan_expire(BUCKET).changes
    plan = plan_expire(BUCKET, now=utc_now() + timedelta(hours=2))
    assert plan.details["removed"] == ["203.0.113.50/32"]
    execute(plan, apply=True)
    stmts = policy_of(s3)["Statement"]
    assert stmts[:3] == json.loads(multi_statement_policy())["Statement"]
    assert [s["Condition"]["IpAddress"]["aws:SourceIp"] for s in stmts[3:]] == [["198.51.100.7/32"]]


def test_list_shows_applied_actions(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    applied = execute(plan_block_ip(BUCKET, ["203.0.113.50"]), apply=True)
    execute(plan_block_ip(BUCKET, ["198.51.100.7"]), apply=False)
    assert main(["respond", "list"]) == 0
    out = capsys.readouterr().out
    assert applied.action_id in out and "block-ip" in out and out.count("\n") == 1
    assert main(["respond", "list", "--all", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in lines] == ["applied", "dry-run"]
    assert set(lines[0]) >= {"id", "time", "actor", "target", "before", "after"}


def test_ipv4_in_ipv6_form_is_refused_and_blocked_as_ipv4(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]  # type: ignore[attr-defined]
    for address, message in (("::ffff:0.0.0.0/96", "every IPv4 address"), ("::ffff:10.0.0.0/104", "VPC endpoint")):
        assert main(["respond", "block-ip", "--bucket", BUCKET, address, "--my-ip", "192.0.2.1", "--apply"]) == 1
        assert message in capsys.readouterr().err
    monkeypatch.setenv("S3FORENSICS_MY_IP", "203.0.113.5")
    assert main(["respond", "block-ip", "--bucket", BUCKET, "::ffff:203.0.113.0/120", "--apply"]) == 1
    assert "your own address 203.0.113.5/32" in capsys.readouterr().err
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == before  # type: ignore[attr-defined]
    assert main(["respond", "block-ip", "--bucket", BUCKET, "::ffff:198.51.100.7", "--apply"]) == 0
    assert policy_of(s3)["Statement"][3]["Condition"]["IpAddress"]["aws:SourceIp"] == ["198.51.100.7/32"]


def test_unknown_own_address_is_warned_before_the_action_id(s3: object, audit_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    warning = "your own address is unknown: set --my-ip or S3FORENSICS_MY_IP so the kit can refuse to lock you out"
    # Dry run: the warning is part of the plan output.
    assert main(["respond", "block-ip", "--bucket", BUCKET, "198.51.100.7"]) == 0
    assert warning in capsys.readouterr().out
    # Applied: still warned (and audited), and action_id: stays the last line.
    assert main(["respond", "block-ip", "--bucket", BUCKET, "198.51.100.7", "--expires", "1h", "--apply"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("action_id: ")
    assert any(warning in line for line in lines[:-1])
    assert audit.get(lines[-1].removeprefix("action_id: ")).details["warning"] == warning
    # Knowing the address (flag or environment) removes the warning.
    assert main(["respond", "block-ip", "--bucket", BUCKET, "198.51.100.8", "--my-ip", "192.0.2.1"]) == 0
    assert "own address is unknown" not in capsys.readouterr().out
    monkeypatch.setenv("S3FORENSICS_MY_IP", "192.0.2.1")
    assert main(["respond", "block-ip", "--bucket", BUCKET, "198.51.100.8"]) == 0
    assert "own address is unknown" not in capsys.readouterr().out


def test_unreachable_endpoint_is_an_error_not_a_traceback(audit_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    assert main(["respond", "block-ip", "--bucket", BUCKET, "198.51.100.7", "--my-ip", "192.0.2.1"]) == 1
    err = capsys.readouterr().err
    assert f"could not read the policy of bucket {BUCKET}" in err and "endpoint is unreachable" in err
    assert "127.0.0.1:9" in err and "Traceback" not in err
    assert not audit_log.exists()


def test_missing_credentials_are_an_error_not_a_traceback(tmp_path: Path, audit_log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert main(["respond", "block-public-access", "--bucket", BUCKET]) == 1
    err = capsys.readouterr().err
    assert f"bucket {BUCKET}" in err and "no AWS credentials found" in err and "Traceback" not in err
