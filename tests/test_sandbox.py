"""The sandbox account: a moto server on loopback, found through a state file, seeded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from s3forensics.errors import SandboxError
from s3forensics.lab import sandbox as sb
from s3forensics.lab.demo import world

pytestmark = pytest.mark.sandbox


def test_sandbox_listens_on_loopback_and_records_state(sandbox: sb.SandboxState) -> None:
    url = urlparse(sandbox.endpoint)
    assert url.hostname == "127.0.0.1" and url.port == sandbox.port
    recorded = json.loads(sb.state_file().read_text())
    assert recorded["endpoint"] == sandbox.endpoint
    assert sb.status()[0] == "running"
    assert os.environ["AWS_ENDPOINT_URL"] == sandbox.endpoint


def test_start_twice_reuses_the_running_server(sandbox: sb.SandboxState) -> None:
    again = sb.start(seed=False)
    assert again.pid == sandbox.pid and again.endpoint == sandbox.endpoint


def test_library_clients_follow_the_standard_chain(sandbox: sb.SandboxState) -> None:
    from s3forensics import aws

    s3 = aws.client("s3")
    assert s3.meta.endpoint_url == sandbox.endpoint
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {world.SITE_BUCKET, world.DATA_BUCKET, world.LOG_BUCKET, world.TRAIL_BUCKET} <= names
    account = aws.client("sts").get_caller_identity()["Account"]
    assert account == world.ACCOUNT_ID


def test_seed_wires_logging_trail_and_gaps(fresh_sandbox: sb.SandboxState) -> None:
    s3 = sb.client(fresh_sandbox, "s3")
    logging_status = s3.get_bucket_logging(Bucket=world.SITE_BUCKET)["LoggingEnabled"]
    assert logging_status["TargetBucket"] == world.LOG_BUCKET
    assert logging_status["TargetPrefix"] == world.SITE_LOG_PREFIX
    # Deliberate gap: the archive bucket writes no access logs.
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=world.ARCHIVE_BUCKET)
    trail = sb.client(fresh_sandbox, "cloudtrail").describe_trails()["trailList"][0]
    assert trail["S3BucketName"] == world.TRAIL_BUCKET
    assert trail["IsMultiRegionTrail"] is False and trail["LogFileValidationEnabled"] is False
    selectors = sb.client(fresh_sandbox, "cloudtrail").get_event_selectors(TrailName=world.TRAIL_NAME)
    assert selectors["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"


def test_seed_is_idempotent(fresh_sandbox: sb.SandboxState) -> None:
    sb.seed_demo_account(fresh_sandbox)
    s3 = sb.client(fresh_sandbox, "s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=world.SITE_BUCKET)["Contents"]]
    assert sorted(keys) == sorted(sb.SITE_FILES)


def test_cli_start_status_stop_in_a_separate_home(tmp_path: Path) -> None:
    env = {**os.environ, "S3FORENSICS_HOME": str(tmp_path)}
    exe = str(Path(sys.executable).with_name("s3forensics"))
    started = subprocess.run([exe, "sandbox", "start", "--no-seed"], env=env, capture_output=True, text=True, timeout=60)
    try:
        assert started.returncode == 0, started.stderr
        exports = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines())
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        status = subprocess.run([exe, "sandbox", "status"], env=env, capture_output=True, text=True)
        assert status.returncode == 0 and status.stdout.startswith("running " + exports["AWS_ENDPOINT_URL"])
    finally:
        stopped = subprocess.run([exe, "sandbox", "stop"], env=env, capture_output=True, text=True)
    assert stopped.returncode == 0
    after = subprocess.run([exe, "sandbox", "status"], env=env, capture_output=True, text=True)
    assert after.returncode == 3 and after.stdout.strip() == "stopped"


def test_stale_state_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3FORENSICS_HOME", str(tmp_path))
    dead = sb.SandboxState("http://127.0.0.1:9", 9, 2**22 + 12345, world.ACCOUNT_ID, world.REGION, 0.0, "x")
    sb.state_file().write_text(json.dumps(dead.__dict__))
    assert sb.status()[0] == "stale"


def test_stop_never_signals_a_process_that_is_not_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """After a reboot the recorded pid can belong to anything: ``stop`` must check it is the
    moto server on the recorded port before signalling its process group."""
    from s3forensics.cli import main

    monkeypatch.setenv("S3FORENSICS_HOME", str(tmp_path))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        reused = sb.SandboxState("http://127.0.0.1:9", 9, other.pid, world.ACCOUNT_ID, world.REGION, 0.0, "x")
        sb.state_file().write_text(json.dumps(reused.__dict__))
        assert sb.status()[0] == "stale"
        with pytest.raises(SandboxError, match=rf"process {other.pid} .* is not the sandbox's moto server.*delete"):
            sb.stop()
        assert main(["sandbox", "stop"]) == 1
        err = capsys.readouterr().err
        assert "nothing was stopped" in err and "Traceback" not in err
        time.sleep(0.2)
        assert other.poll() is None  # still running: not signalled
        assert sb.state_file().exists()
    finally:
        other.kill()
        other.wait()
