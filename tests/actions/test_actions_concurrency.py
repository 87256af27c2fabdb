"""Changes that cannot be lost or misreported: concurrent writers, an audit log that cannot be
written, a corrupt audit line, a read-back that does not hold.

The concurrent writers are real processes (``s3forensics respond block-ip --apply``) against
the sandbox: before the change engine took a lock per resource, five at once all printed
``status: applied`` while the policy kept one address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from s3forensics.actions import audit
from s3forensics.actions.block import plan_block_ip
from s3forensics.actions.resources import execute
from s3forensics.actions.rollback import rollback
from s3forensics.cli import main
from s3forensics.errors import ActionError
from s3forensics.lab.demo import world

pytestmark = pytest.mark.sandbox

BUCKET = world.SITE_BUCKET
#: Documentation addresses (RFC 5737), never real sources.
ADDRESSES = [f"203.0.113.{i}" for i in range(10, 15)]
MY_IP = "198.51.100.7"


def _blocked(s3: object) -> set[str]:
    text = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]  # type: ignore[attr-defined]
    found: set[str] = set()
    for statement in json.loads(text)["Statement"]:
        ips = (statement.get("Condition") or {}).get("IpAddress", {}).get("aws:SourceIp", [])
        found.update([ips] if isinstance(ips, str) else ips)
    return {ip.split("/")[0] for ip in found}


def test_five_concurrent_block_ip_all_land(fresh_sandbox: object, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    env = {**os.environ, "S3FORENSICS_AUDIT_LOG": str(log), "S3FORENSICS_MY_IP": MY_IP}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "s3forensics.cli", "respond", "block-ip", "--bucket", BUCKET, ip, "--apply"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for ip in ADDRESSES
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "status: applied" in out and "Traceback" not in err
    # Every run that said applied got its address in: none was silently undone.
    assert _blocked(boto3.client("s3")) >= set(ADDRESSES)
    applied = [r for r in audit.latest(log) if r.status == audit.APPLIED]
    assert len(applied) == 5 and len({r.id for r in applied}) == 5
    # Each record's state after is what that run read back, and holds its own address.
    for rec in applied:
        assert any(ip in rec.after for ip in rec.details["added"])


def test_an_unwritable_audit_log_stops_the_change_before_it_is_made(fresh_sandbox: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s3 = boto3.client("s3")
    before = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    log = tmp_path / "a-directory"
    log.mkdir()  # a directory where the log file should be
    code = main(["respond", "block-ip", "--audit-log", str(log), "--bucket", BUCKET, ADDRESSES[0], "--my-ip", MY_IP, "--apply"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot write the audit log" in err and str(log) in err and "Traceback" not in err
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == before  # nothing changed


def test_a_corrupt_audit_line_is_skipped_and_rollback_still_works(fresh_sandbox: object, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = tmp_path / "audit.jsonl"
    s3 = boto3.client("s3")
    before = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    result = execute(plan_block_ip(BUCKET, [ADDRESSES[0]], my_ips=[MY_IP]), apply=True, audit_log=log)
    with open(log, "a", encoding="utf-8") as out:
        out.write('{"id": "a-cut-short", "time": "2026-')  # a crash mid-line
    assert [r.id for r in audit.latest(log)] == [result.action_id]
    assert "line 3 is not a valid record, skipped" in caplog.text
    assert rollback(result.action_id, apply=True, audit_log=log).applied
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == json.loads(before)


def test_a_read_back_that_does_not_hold_is_failed_not_applied(fresh_sandbox: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer outside the kit changes the policy between the write and the read-back."""
    from s3forensics.actions import resources

    log = tmp_path / "audit.jsonl"
    spec = resources.KINDS["s3:bucket-policy"]
    real_write = spec.write

    def write_then_overwritten(target, state, session, token=None):  # type: ignore[no-untyped-def]
        real_write(target, state, session, token=token)
        boto3.client("s3").delete_bucket_policy(Bucket=BUCKET)

    monkeypatch.setitem(resources.KINDS, "s3:bucket-policy", resources.ResourceKind(**{**spec.__dict__, "write": write_then_overwritten}))
    monkeypatch.setattr(resources, "READ_BACK_WAITS", (0.0, 0.0))
    with pytest.raises(ActionError, match="does not hold what action"):
        execute(plan_block_ip(BUCKET, [ADDRESSES[0]], my_ips=[MY_IP]), apply=True, audit_log=log)
    statuses = [r.status for r in audit.iter_records(log)]
    assert statuses == [audit.STARTED, audit.FAILED]
