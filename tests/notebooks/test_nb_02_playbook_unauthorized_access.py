"""02_playbook_unauthorized_access: evidence first, decision tree, dry run by default, real block with APPLY."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import assert_charts_drawn
from nb_outputs import assert_ran_clean, joined

from s3forensics.errors import NotebookError
from s3forensics.reports import run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

NOTEBOOK = "02_playbook_unauthorized_access"


def case_report(cases: Path | list[Path]) -> tuple[Path, dict]:
    (folder,) = [p for p in cases.iterdir() if p.is_dir()] if isinstance(cases, Path) else cases
    return folder, json.loads((folder / "incident_report.json").read_text())


@pytest.fixture()
def default_run(default_runs):
    """The session's default run and the one case folder it wrote (CASE_DIR "" : <home>/cases)."""
    return default_runs[NOTEBOOK], default_runs.cases(NOTEBOOK)


def test_default_is_a_dry_run_on_the_public_archive(default_run, demo_sandbox) -> None:
    from s3forensics.lab import sandbox as sb

    _report, cases = default_run
    folder, data = case_report(cases)
    assert data["mode"] == "dry run"
    assert data["facts"]["made_public"] and data["facts"]["logging_disabled"]
    assert data["facts"]["source_ips"] == ["203.0.113.77"]
    statuses = {(a["action"], a["status"]) for a in data["actions"]}
    assert ("block-public-access", "dry-run") in statuses and ("block-ip", "dry-run") in statuses
    # Nothing changed: the archive still has no Block Public Access configuration.
    s3 = sb.client(demo_sandbox, "s3")
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="s3f-demo-archive")
    assert (folder / "incident_report.md").read_text().startswith("# Incident report: Unauthorized access to s3f-demo-archive")


def test_evidence_was_written_before_containment_and_verifies(default_run) -> None:
    from s3forensics import playbook

    _, cases = default_run
    folder, data = case_report(cases)
    assert playbook.verify_evidence(folder)["ok"].all()
    names = {item["name"] for item in data["evidence"]["items"]}
    assert {"findings", "suspects", "bucket_state_before", "config_changes"} <= names
    state = json.loads((folder / "evidence" / "bucket_state_before.json").read_text())
    assert state["policy"]["Statement"][0]["Principal"] == "*"
    assert data["evidence"]["written_at"] <= min(a["action_id"] for a in data["actions"] if a["action_id"]).replace("a-", "9")


def test_shows_the_findings_and_the_tree(default_run) -> None:
    report, _ = default_run
    text = joined(report.executed)
    assert "bucket_made_public" in text and "logging_evasion" in text
    assert "Was the bucket opened to everyone?" in text
    assert 'class="plotly-graph-div"' in report.html.read_text()


def test_apply_blocks_the_scanner_on_the_site_and_rolls_back(demo_sandbox, tmp_path: Path) -> None:
    from s3forensics.actions.rollback import rollback
    from s3forensics.lab import sandbox as sb

    s3 = sb.client(demo_sandbox, "s3")
    before = json.loads(s3.get_bucket_policy(Bucket="s3f-demo-site")["Policy"])
    cases = tmp_path / "cases"
    run_report(
        NOTEBOOK,
        {"BUCKET": "s3f-demo-site", "BUCKET_PROFILE": "public_site", "APPLY": True, "CASE_DIR": str(cases)},
        tmp_path / "out",
    )
    _, data = case_report(cases)
    (applied,) = [a for a in data["actions"] if a["action"] == "block-ip"]
    try:
        assert applied["status"] == "applied" and applied["rollback"].endswith("--apply")
        during = s3.get_bucket_policy(Bucket="s3f-demo-site")["Policy"]
        assert "192.0.2.201/32" in during and '"Deny"' in during
        assert data["facts"]["anonymous"] and data["facts"]["principals"] == []
    finally:
        rollback(applied["action_id"], apply=True)
    assert json.loads(s3.get_bucket_policy(Bucket="s3f-demo-site")["Policy"]) == before


def test_wrong_type_stops_early_with_the_parameter_named(demo_sandbox, tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="Parameter APPLY must be True or False"):
        run_report(NOTEBOOK, {"APPLY": "yes"}, tmp_path)
    assert not (tmp_path / f"{NOTEBOOK}.html").exists()


@pytest.mark.chromium
def test_charts_draw_offline_in_chromium(default_run, browser) -> None:
    report, _ = default_run
    assert_charts_drawn(browser, report.html, charts=1)


def test_every_code_cell_ran_in_order_without_error(default_run) -> None:
    assert_ran_clean(NOTEBOOK, default_run[0].executed)
