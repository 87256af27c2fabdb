"""The demo world's raw logs load completely: every line parses, scenario traffic is there."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from s3forensics.sources import load_cloudtrail, load_s3_access


def _raw(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


@pytest.mark.slow
def test_demo_world_access_logs_and_trail(demo_world):
    truth = json.loads((demo_world / "ground_truth.json").read_text())
    access = load_s3_access(demo_world / "s3f-demo-logs")
    rep = access.report
    # Every line of every log object is a row (counted from the raw files, gzip or not).
    lines = sum(len(_raw(p).splitlines()) for p in (demo_world / "s3f-demo-logs").rglob("*") if p.is_file())
    assert rep.balanced and rep.rejected == 0 and rep.rows == lines, rep.rejects.head().to_dict("records")
    ips = set(access.frame["remote_ip"].dropna())
    for scenario in truth["scenarios"]:
        if scenario["id"] in ("get_flood", "secret_scanner", "role_exfiltration"):
            assert set(scenario["source_ips"]) & ips, scenario["id"]
    trail = load_cloudtrail(demo_world / "s3f-demo-cloudtrail")
    records = sum(len(doc.get("Records", [])) for doc in (json.loads(_raw(p)) for p in (demo_world / "s3f-demo-cloudtrail").rglob("*") if p.is_file()))
    assert trail.report.balanced and trail.report.rejected == 0 and trail.report.rows == records
    assert any("Digest" in s.file for s in trail.report.skipped_files)
    assert "PutBucketPolicy" in set(trail.frame["event_name"])
