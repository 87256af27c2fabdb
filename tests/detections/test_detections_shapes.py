"""The catalogue on benign worlds of other shapes (a busy one at a million requests a day), scored as a new user runs it: no profile,
no allowlist, no own account. Every incident found by the detections it should trigger,
and at most two false alarms a day on each shape.

The shapes (``s3forensics.lab.demo.shapes``) take their record shapes from AWS's
documentation of server access logs and CloudTrail and from the corpus samples: lifecycle
expiry as requester ``AmazonS3`` / ``S3.EXPIRE.OBJECT`` (corpus s3-access), anonymous
CloudTrail callers as ``accountId: ANONYMOUS_PRINCIPAL`` (S3 user guide, "Identity
information in CloudTrail"), origin access control as CloudFront's service principal
(CloudFront developer guide, "Restrict access to an Amazon S3 origin").
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from s3forensics.cli import main
from s3forensics.detections.config import DetectionConfig
from s3forensics.errors import ConfigError
from s3forensics.lab.demo.shapes import SHAPES, generate_shape
from s3forensics.lab.evaluate import Evaluation, evaluate_shape

BUDGET_PER_DAY = 2


@cache
def scored(shape: str) -> Evaluation:
    return evaluate_shape(shape)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_incident_found_by_its_expected_detections(shape: str) -> None:
    result = scored(shape)
    assert not result.run.errors, result.run.errors
    assert result.scenarios, f"{shape} injects no incident"
    for s in result.scenarios:
        assert s.found and not s.missing, f"{shape}/{s.id}: found by {s.found_by}, expected but silent {s.missing}"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_false_alarms_within_budget(shape: str) -> None:
    result = scored(shape)
    fp = result.false_positives
    assert result.false_positives_per_day <= BUDGET_PER_DAY, fp.groupby("detection_id").size().to_dict()


def test_profiles_inferred_per_shape() -> None:
    """Each shape's bucket gets the profile its evidence shows, with no flag given."""
    expected = {
        "website": "public_site",
        "downloads": "public_site",
        "data_platform": "private_data",
        "cloudfront": "cloudfront",
        "busy": "cloudfront",
    }
    for shape, profile in expected.items():
        profiles = scored(shape).run.profiles
        assert profiles[SHAPES[shape].bucket].profile == profile, profiles[SHAPES[shape].bucket]


def test_ransomware_found_with_cloudtrail_alone(tmp_path: Path) -> None:
    """Without access logs, DeleteObjects names no key (S3 user guide, logging options
    compared: CloudTrail does not record the keys of a batch delete); mass_delete still
    finds the ransomware by the keys each call's request body can hold, and the data lake's
    nightly compaction stays routine."""
    import shutil

    from s3forensics.lab.evaluate import evaluate

    for shape, incident in (("downloads", "ransomware"), ("data_platform", None)):
        out = tmp_path / shape
        generate_shape(shape, out)
        shutil.rmtree(out / "s3f-demo-logs")
        result = evaluate(out, config=DetectionConfig())
        assert result.false_positives_per_day <= BUDGET_PER_DAY, result.false_positives[["detection_id", "summary"]]
        if incident:
            score = next(s for s in result.scenarios if s.id == incident)
            assert "mass_delete" in score.found_by, score
            finding = result.run.findings.query("detection_id == 'mass_delete'").iloc[0]
            truth = next(t for t in json.loads((out / "ground_truth.json").read_text())["scenarios"] if t["id"] == incident)
            deleted = sum(1 for key in truth["objects"] if key != "README-RESTORE-YOUR-FILES.txt")
            estimate = int(finding["summary"].split()[0])
            # An estimate from the request sizes, never more than was deleted, far more than the calls.
            assert "via cloudtrail" in finding["summary"] and truth["cloudtrail_events"] * 10 < estimate <= deleted, (finding["summary"], deleted)


def test_shape_world_is_deterministic_and_validated(tmp_path: Path) -> None:
    a = generate_shape("cloudfront", tmp_path / "a", days=2, seed=3)
    b = generate_shape("cloudfront", tmp_path / "b", days=2, seed=3)
    assert a["access_log_lines"] == b["access_log_lines"] > 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)
    with pytest.raises(ConfigError, match="unknown world shape 'nope'"):
        generate_shape("nope", tmp_path / "c")
    with pytest.raises(ConfigError, match="days must be an integer from 2"):
        generate_shape("website", tmp_path / "c", days=1)


def test_cli_scores_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "score.json"
    code = main(["detect", "--evaluate", "--shape", "cloudfront", "--format", "json", "-o", str(out)])
    score = json.loads(out.read_text())["shapes"]["cloudfront"]
    assert code == 0
    assert [s["id"] for s in score["scenarios"]] == [s.id for s in scored("cloudfront").scenarios]
    assert all(s["found"] for s in score["scenarios"])
    assert score["false_positives_per_day"] <= BUDGET_PER_DAY
    assert main(["detect", "--evaluate", "--shape", "moon"]) == 1  # user error: nothing run
    assert "--shape moon: unknown shape" in capsys.readouterr().err
