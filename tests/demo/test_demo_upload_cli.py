"""``upload`` into the sandbox buckets and the ``demo-data`` command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from s3forensics.cli import demo as demo_cli
from s3forensics.errors import ConfigError, S3ForensicsError, SandboxError
from s3forensics.lab import sandbox as sb
from s3forensics.lab.demo import world
from s3forensics.lab.demo.generate import generate, iter_objects, upload


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="s3forensics")
    demo_cli.register(parser.add_subparsers(dest="command"))
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return args.handler(args)


def _keys(s3: object, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):  # type: ignore[attr-defined]
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


@pytest.mark.sandbox
def test_upload_lands_every_file_in_its_bucket(fresh_sandbox: sb.SandboxState, tmp_path: Path) -> None:
    generate(tmp_path, days=1, seed=3)
    counts = upload(tmp_path)
    expected: dict[str, dict[str, bytes]] = {}
    for bucket, key, path in iter_objects(tmp_path):
        expected.setdefault(bucket, {})[key] = path.read_bytes()
    assert counts == {b: len(v) for b, v in expected.items()}
    s3 = sb.client(fresh_sandbox, "s3")
    for bucket, files in expected.items():
        assert _keys(s3, bucket) == set(files)
        key = sorted(files)[len(files) // 2]
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == files[key]


@pytest.mark.sandbox
def test_upload_names_a_missing_bucket(fresh_sandbox: sb.SandboxState, tmp_path: Path) -> None:
    (tmp_path / "no-such-demo-bucket").mkdir()
    (tmp_path / "no-such-demo-bucket" / "x.log").write_text("x\n")
    with pytest.raises(S3ForensicsError, match="no-such-demo-bucket"):
        upload(tmp_path)


def test_upload_of_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        upload(tmp_path / "nowhere")


def test_cli_writes_the_world_and_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["demo-data", "--days", "1", "--seed", "5", "--start", "2026-01-05", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path)
    assert "access logs of s3f-demo-site" in err and "CloudTrail:" in err and "mass_delete" in err
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    assert (truth["seed"], truth["start"]) == (5, "2026-01-05T00:00:00Z")


def test_cli_refuses_out_together_with_upload(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["demo-data", "--upload", "--out", str(tmp_path)])


def test_cli_upload_without_a_target_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(sb, "status", lambda: ("stopped", None))
    with pytest.raises(SandboxError, match="sandbox"):
        _run(["demo-data", "--days", "1", "--upload"])


@pytest.mark.sandbox
def test_cli_upload_into_the_sandbox(fresh_sandbox: sb.SandboxState, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["demo-data", "--days", "1", "--seed", "9", "--upload"]) == 0
    err = capsys.readouterr().err
    assert f"s3://{world.LOG_BUCKET}/" in err and f"s3://{world.TRAIL_BUCKET}/" in err
    s3 = sb.client(fresh_sandbox, "s3")
    logs = _keys(s3, world.LOG_BUCKET)
    assert any(k.startswith("s3-access/site/111122223333/us-east-1/s3f-demo-site/") for k in logs)
    assert any(k.startswith("s3-access/data/") for k in logs)
    assert any("/CloudTrail/us-east-1/" in k for k in _keys(s3, world.TRAIL_BUCKET))


def test_main_runs_demo_data_once_registered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from s3forensics import cli

    assert cli.COMMANDS["demo-data"][0] == "s3forensics.cli.demo"
    assert cli.main(["demo-data", "--days", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "ground_truth.json").is_file()
    assert cli.main(["demo-data", "--days", "0", "--out", str(tmp_path)]) == 1
    assert "--days" in capsys.readouterr().err


def test_upload_never_falls_back_to_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    generate(tmp_path, days=1, seed=1)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(sb, "status", lambda: ("stopped", None))
    with pytest.raises(SandboxError, match="AWS_ENDPOINT_URL"):
        upload(tmp_path)


@pytest.mark.sandbox
def test_upload_finds_the_running_sandbox(fresh_sandbox: sb.SandboxState, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    generate(tmp_path, days=1, seed=2)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    counts = upload(tmp_path, session=sb.boto_session(fresh_sandbox))  # what `s3forensics demo` does
    assert counts[world.LOG_BUCKET] > 50
    assert len(_keys(sb.client(fresh_sandbox, "s3"), world.LOG_BUCKET)) == counts[world.LOG_BUCKET]
