"""Every command as a tired responder or a hostile client runs it: no credentials, a dead
endpoint, garbage input, absurd values. Each ends in one sentence naming what is wrong, and
nothing readable is never success (exit 1).

The EventBridge schedule forms are those of the EventBridge User Guide ("Schedule
expressions for rules": ``rate(value unit)``, singular unit for 1, ``cron`` with six fields).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from s3forensics.cli import main

NO_CREDENTIALS = {
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    from s3forensics.actions import kinds

    monkeypatch.setattr(kinds, "_SESSIONS", {})


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, err
    return code, out, err


def test_check_with_no_credentials_is_not_success(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: exit 0, every check UNKNOWN."""
    code, out, err = _run(["check"], capsys)
    assert code == 1 and "nothing could be read" in err and "credentials" in err
    assert out  # the report is still written


def test_check_fix_with_no_credentials_plans_nothing_and_says_why(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: "nothing to fix." and exit 0."""
    code, out, err = _run(["check", "--fix", "s3_bucket_versioning_enabled", "--apply"], capsys)
    assert code == 1 and "cannot plan a fix" in err and "nothing to fix" not in out + err


def test_athena_setup_with_no_credentials_is_one_sentence(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: the STS call's NoCredentialsError traceback."""
    code, _, err = _run(["athena", "setup", "--bucket", "s3f-demo-logs"], capsys)
    assert code == 1 and "cannot find the account id" in err and "--account" in err


def test_athena_setup_with_the_account_given_needs_no_call(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["athena", "setup", "--bucket", "s3f-demo-logs", "--account", "111122223333", "--region", "us-east-1"], capsys)
    assert code == 0 and "CREATE" in out.upper()


@pytest.mark.parametrize("schedule", ["whatever", "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(0 12 * *)", "rate(5 minutes); drop"])
def test_automate_plan_refuses_a_schedule_eventbridge_would_refuse(schedule: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["automate", "plan", "--bucket", "s3f-demo-site", "--log-uri", "s3://s3f-demo-logs/x/", "--schedule", schedule], capsys)
    assert code == 1 and "not an EventBridge schedule expression" in err


@pytest.mark.parametrize("schedule", ["rate(1 minute)", "rate(15 minutes)", "rate(2 hours)", "cron(0 12 * * ? *)"])
def test_automate_plan_takes_valid_schedules(schedule: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["automate", "plan", "--bucket", "s3f-demo-site", "--log-uri", "s3://s3f-demo-logs/x/", "--schedule", schedule], capsys)
    assert code == 0 and schedule in out


def test_detect_on_a_garbage_file_says_what_was_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: "give --s3-access/--cloudtrail paths", although paths were given."""
    garbage = tmp_path / "g.log"
    garbage.write_text("garbage\nmore garbage\n")
    code, _, err = _run(["detect", "--s3-access", str(garbage)], capsys)
    assert code == 1 and "hold no row to analyse (2 lines read, 2 rejected" in err and "give --s3-access" not in err


def test_a_file_system_error_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o`` naming a folder: the OSError is named with its path."""
    log = tmp_path / "a.log"
    log.write_text("x\n")
    folder = tmp_path / "out"
    folder.mkdir()
    code, _, err = _run(["convert", "s3-access", str(log), "-o", str(folder)], capsys)
    assert code == 1 and str(folder) in err


def test_dependency_tracebacks_are_one_line_at_default_verbosity(tmp_path: Path) -> None:
    """pyathena logs ``exception()`` on every failed query; a user sees one line, -v the rest."""
    import subprocess
    import sys

    code = (
        "import logging, sys\n"
        "from s3forensics import cli\n"
        "from s3forensics.cli import check\n"
        "def boom(args):\n"
        "    try:\n"
        "        raise ValueError('inner detail')\n"
        "    except ValueError:\n"
        "        logging.getLogger('pyathena.common').exception('Failed to execute query.')\n"
        "    return 0\n"
        "check._list = boom\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    quiet = subprocess.run([sys.executable, "-c", code, "check", "--list"], capture_output=True, text=True, timeout=60)
    loud = subprocess.run([sys.executable, "-c", code, "-v", "check", "--list"], capture_output=True, text=True, timeout=60)
    assert "Failed to execute query." in quiet.stderr and "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and "inner detail" in loud.stderr
