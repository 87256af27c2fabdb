"""The demo world's raw logs load completely: every line parses, scenario traffic is there."""

from __future__ import annotations

import json

import pytest

from s3forensics.sources import load_cloudtrail, load_s3_access


@pytest.mark.slow
def test_demo_world_access_logs_and_trail(demo_world):
    truth = json.loads((demo_world / "ground_truth.json").read_text())
    access = load_s3_access(demo_world / "s3f-demo-logs")
    rep = access.report
    assert rep.balanced and rep.rejected == 0 and rep.rows > 0, rep.rejects.head().to_dict("records")
    ips = set(access.frame["remote_ip"].dropna())
    for scenario in truth["scenarios"]:
        if scenario["id"] in ("get_flood", "secret_scanner", "role_exfiltration"):
            assert set(scenario["source_ips"]) & ips, scenario["id"]
    trail = load_cloudtrail(demo_world / "s3f-demo-cloudtrail")
    assert trail.report.balanced and trail.report.rejected == 0 and trail.report.rows > 0
    assert any("Digest" in s.file for s in trail.report.skipped_files)
    assert "PutBucketPolicy" in set(trail.frame["event_name"])
