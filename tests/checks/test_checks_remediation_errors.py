"""Remediation safeguards that the shared moto server cannot provoke: a failed read of the
previous configuration (throttling, service errors) is queued with botocore's Stubber in
the error shape AWS documents; and CLI output to a folder that does not exist."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from s3forensics.actions import audit
from s3forensics.checks.base import Context
from s3forensics.checks.fix_plans import ALL_PAB, ApiCall, FixPlan, FixStep
from s3forensics.checks.remediation import apply_plan, load_backup, restore_plan
from s3forensics.errors import ActionError

BUCKET = "s3f-demo-site"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("S3FORENSICS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _stubbed() -> tuple[Context, Stubber]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    ctx = Context(session, max_attempts=1)
    stub = Stubber(ctx.client("s3"))
    stub.activate()
    return ctx, stub


def _pab_plan() -> FixPlan:
    step = FixStep(
        ApiCall("s3", "put_public_access_block", {"Bucket": BUCKET, "PublicAccessBlockConfiguration": ALL_PAB}),
        ApiCall("s3", "get_public_access_block", {"Bucket": BUCKET}),
        "bucket_pab",
        BUCKET,
    )
    return FixPlan("s3_block_public_access_bucket", (step,))


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalError", "InvalidRequest", "NoSuchBucketPolicy"])
def test_failed_read_of_previous_state_aborts_before_any_write(home: Path, code: str) -> None:
    ctx, stub = _stubbed()
    stub.add_client_error("get_public_access_block", service_error_code=code, http_status_code=400)
    with pytest.raises(ActionError, match=rf"previous configuration of {BUCKET} \(s3.get_public_access_block .*{code}.*nothing was changed"):
        apply_plan(_pab_plan(), context=ctx)
    assert ("s3", "PutPublicAccessBlock") not in ctx.calls
    assert list((home / "backups").glob("**/*")) == []  # no backup claiming "absent" (nor the folder's contents)


def test_not_configured_is_saved_as_absent_with_the_state_after(home: Path) -> None:
    ctx, stub = _stubbed()
    # Read while planning, read again under the engine's lock, write, read back.
    for _ in range(2):
        stub.add_client_error("get_public_access_block", service_error_code="NoSuchPublicAccessBlockConfiguration", http_status_code=404)
    stub.add_response("put_public_access_block", {}, {"Bucket": BUCKET, "PublicAccessBlockConfiguration": ALL_PAB})
    stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": ALL_PAB}, {"Bucket": BUCKET})
    path = apply_plan(_pab_plan(), context=ctx)
    stub.assert_no_pending_responses()
    assert path is not None and path.parent == home / "backups"
    change = load_backup(path)["changes"][0]
    assert (change["kind"], change["target"], change["before"], change["after"]) == ("s3:public-access-block", {"bucket": BUCKET}, None, ALL_PAB)
    # The audit log holds the intent before the write and the outcome after it.
    records = [r for r in audit.iter_records() if r.id == change["action_id"]]
    assert [r.status for r in records] == [audit.STARTED, audit.APPLIED]
    assert (home / "backups" / f"{change['action_id']}.before.json").is_file()
    calls = restore_plan(path, context=ctx)
    assert [(c.service, c.operation, dict(c.params)) for c in calls] == [("s3", "delete_public_access_block", {"Bucket": BUCKET})]


def test_backups_of_the_earlier_format_still_restore(home: Path) -> None:
    """A backup as versions before the change engine wrote it (raw read answers per step)
    is read as changes, and its restore plan is the same."""
    ctx, _ = _stubbed()
    old = {
        "check_id": "s3_block_public_access_bucket",
        "created": "20261101T000000Z",
        "steps": [
            {
                "call": {"service": "s3", "operation": "put_public_access_block", "params": {"Bucket": BUCKET, "PublicAccessBlockConfiguration": ALL_PAB}, "region": None},
                "restore": "bucket_pab",
                "resource": BUCKET,
                "previous": None,
                "previous_error": "NoSuchPublicAccessBlockConfiguration",
                "read": {"service": "s3", "operation": "get_public_access_block", "params": {"Bucket": BUCKET}, "region": None},
                "after": {"PublicAccessBlockConfiguration": ALL_PAB},
                "after_error": None,
            },
            {
                "call": {"service": "s3", "operation": "put_bucket_versioning", "params": {"Bucket": BUCKET, "VersioningConfiguration": {"Status": "Enabled"}}, "region": None},
                "restore": "bucket_versioning",
                "resource": BUCKET,
                "previous": {},
                "previous_error": None,
                "read": {"service": "s3", "operation": "get_bucket_versioning", "params": {"Bucket": BUCKET}, "region": None},
                "after": {"Status": "Enabled"},
                "after_error": None,
            },
        ],
    }
    path = home / "old.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(old))
    changes = load_backup(path)["changes"]
    assert [(c["kind"], c["before"], c["after"]) for c in changes] == [
        ("s3:public-access-block", None, ALL_PAB),
        ("s3:bucket-versioning", {"Status": "Suspended"}, {"Status": "Enabled"}),
    ]
    calls = restore_plan(path, context=ctx)
    assert [(c.operation, dict(c.params)) for c in calls] == [
        ("put_bucket_versioning", {"Bucket": BUCKET, "VersioningConfiguration": {"Status": "Suspended"}}),
        ("delete_public_access_block", {"Bucket": BUCKET}),
    ]
    # An unknown setting is named, not a traceback.
    old["steps"][0]["restore"] = "no_such_setting"
    path.write_text(json.dumps(old))
    with pytest.raises(ActionError, match=r"old.json is not readable.*no_such_setting"):
        load_backup(path)


def test_output_into_missing_folder_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from s3forensics.cli import main

    target = tmp_path / "no-such-folder" / "checks.txt"
    assert main(["check", "--list", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and "No such file or directory" in err and "Traceback" not in err
    assert not target.exists()
