"""Remediation: the plan changes nothing, --apply saves the previous configuration first
and fixes the check, and restore puts the previous configuration back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3forensics.actions import audit
from s3forensics.checks import run_checks
from s3forensics.checks.base import Context, Status
from s3forensics.checks.fix_plans import FixOptions, plan_fix
from s3forensics.checks.remediation import apply_plan, load_backup, restore
from s3forensics.errors import ActionError, RefusedError
from s3forensics.lab import sandbox as sb
from s3forensics.lab.demo import world

pytestmark = pytest.mark.sandbox


_SESSION: list[object] = []


def _ctx() -> Context:
    """A context on one shared boto3 session (client creation dominates run time)."""
    if not _SESSION:
        from s3forensics import aws

        _SESSION.append(aws.session())
    return Context(_SESSION[0], max_attempts=1)


def _statuses(check_id: str, buckets: list[str] | None = None) -> dict[str, Status]:
    return {r.resource: r.status for r in run_checks(buckets=buckets, ids=[check_id], context=_ctx())}


def test_plan_apply_restore_round_trips(fresh_sandbox: sb.SandboxState) -> None:
    arch, site = world.ARCHIVE_BUCKET, world.SITE_BUCKET
    cases = [
        ("s3_access_logging_enabled", [arch], FixOptions()),
        # Closing a public site is asked for explicitly (it takes the site offline).
        ("s3_block_public_access_bucket", [site, arch], FixOptions(block_public_sites=True)),
        ("s3_bucket_versioning_enabled", [arch], FixOptions()),
        ("cloudtrail_s3_data_events_read", [site, arch], FixOptions()),
        ("cloudtrail_log_file_validation", None, FixOptions()),
        ("cloudtrail_multi_region_logging", None, FixOptions()),
        # The seeded site already has an alarm (to a topic nobody reads); fix the data bucket.
        ("cloudwatch_alarm_s3_get_requests", [world.DATA_BUCKET], FixOptions(get_requests_threshold=500)),
        ("s3_block_public_access_account", None, FixOptions(block_public_sites=True)),
        ("guardduty_s3_protection_enabled", None, FixOptions()),
    ]
    for check_id, buckets, options in cases:
        before = _statuses(check_id, buckets)
        assert Status.FAIL in before.values(), (check_id, before)
        ctx = _ctx()
        plan = plan_fix(check_id, buckets=buckets, options=options, context=ctx)
        assert plan.steps, check_id
        assert _statuses(check_id, buckets) == before, f"planning {check_id} changed something"
        path = apply_plan(plan, context=ctx)
        assert path is not None and path.parent.name == "backups"
        saved = load_backup(path)
        assert saved["check_id"] == check_id and len(saved["changes"]) == len(plan.steps)
        # Every change went through the engine: one applied audit record each, naming it.
        records = {r.id: r for r in audit.latest()}
        for change in saved["changes"]:
            rec = records[change["action_id"]]
            # (a step whose setting already holds, like the data bucket's request metrics, is a no-op)
            assert (rec.action, rec.kind, rec.target) == ("fix", change["kind"], change["target"]), check_id
            assert rec.status in (audit.APPLIED, audit.NOOP) and (rec.status == audit.NOOP) == (rec.before == change["after"]), (check_id, rec)
            assert rec.after == change["after"] and rec.details["check_id"] == check_id
        after = _statuses(check_id, buckets)
        assert set(after.values()) == {Status.PASS}, (check_id, after)
        # The data bucket's request metrics existed before the fix: restore leaves them.
        restore(path, context=_ctx())
        restored = _statuses(check_id, buckets)
        if check_id == "s3_bucket_versioning_enabled":
            # S3 cannot return to "never versioned": restore suspends it (still a FAIL).
            assert restored == before
        else:
            assert restored == before, (check_id, restored)


def test_plans_name_exact_calls(fresh_sandbox: sb.SandboxState) -> None:
    plan = plan_fix("cloudwatch_alarm_s3_get_requests", buckets=[world.DATA_BUCKET], context=_ctx(), options=FixOptions(topic_arn="arn:aws:sns:us-east-1:111122223333:s3f-demo-alerts"))
    text = "\n".join(plan.describe())
    assert "cloudwatch.put_metric_alarm" in text and '"MetricName": "GetRequests"' in text
    assert "s3.put_bucket_metrics_configuration" in text and "sns.create_topic" not in text
    assert '"AlarmActions": ["arn:aws:sns:us-east-1:111122223333:s3f-demo-alerts"]' in text
    assert json.loads(json.dumps(plan.as_dict()))["calls"][-1]["operation"] == "put_metric_alarm"
    # The logging fix guesses the log bucket the account already uses, and skips that bucket.
    plan = plan_fix("s3_access_logging_enabled", context=_ctx())
    targets = {s.call.params["BucketLoggingStatus"]["LoggingEnabled"]["TargetBucket"] for s in plan.steps}
    assert targets == {world.LOG_BUCKET}
    assert world.LOG_BUCKET not in {s.resource for s in plan.steps}
    assert any("must not log into itself" in n for n in plan.notes)


def test_block_public_access_plans_leave_public_sites_out_and_say_why(fresh_sandbox: sb.SandboxState) -> None:
    """00's "fix first" #1 planned Block Public Access on the public website bucket, which
    would take the site offline, with only a note. Now the site is left out of the plan and
    the dry run says what would break; --block-public-sites plans it, still saying so."""
    site, arch = world.SITE_BUCKET, world.ARCHIVE_BUCKET
    plan = plan_fix("s3_block_public_access_bucket", buckets=[site, arch], context=_ctx())
    assert {s.resource for s in plan.steps} == {arch}
    (note,) = [n for n in plan.notes if n.startswith(site)]
    assert "not planned: it has a website configuration" in note and "offline" in note and "--block-public-sites" in note
    # A bucket named public by its profile is left out too, website configuration or not.
    plan = plan_fix("s3_block_public_access_bucket", buckets=[site, arch], context=_ctx(), options=FixOptions(public_sites=(arch,)))
    assert plan.steps == () and any(n.startswith(f"{arch} not planned: its profile is public_site") for n in plan.notes)
    # The account-wide switch would take every site offline: not planned, and the note names the site.
    account = plan_fix("s3_block_public_access_account", context=_ctx())
    assert account.steps == () and site in account.notes[0] and "not planned" in account.notes[0]
    forced = plan_fix("s3_block_public_access_bucket", buckets=[site], context=_ctx(), options=FixOptions(block_public_sites=True))
    assert [s.resource for s in forced.steps] == [site] and "offline" in forced.notes[0]


def test_no_automatic_fix_and_nothing_to_fix(fresh_sandbox: sb.SandboxState) -> None:
    with pytest.raises(ActionError, match="no automatic fix"):
        plan_fix("trusted_advisor_s3_permissions", context=_ctx())
    plan = plan_fix("s3_bucket_versioning_enabled", buckets=[world.DATA_BUCKET], context=_ctx())
    apply_plan(plan, context=_ctx())
    again = plan_fix("s3_bucket_versioning_enabled", buckets=[world.DATA_BUCKET], context=_ctx())
    assert again.steps == () and apply_plan(again) is None


def test_cli_fix_dry_run_then_apply(fresh_sandbox: sb.SandboxState, capsys: pytest.CaptureFixture[str]) -> None:
    from s3forensics.cli import main

    assert main(["check", "--fix", "s3_bucket_versioning_enabled", "--bucket", world.ARCHIVE_BUCKET]) == 0
    out = capsys.readouterr()
    assert "s3.put_bucket_versioning" in out.out and "dry run" in out.err
    assert _statuses("s3_bucket_versioning_enabled", [world.ARCHIVE_BUCKET]) == {world.ARCHIVE_BUCKET: Status.FAIL}
    assert main(["check", "--fix", "s3_bucket_versioning_enabled", "--bucket", world.ARCHIVE_BUCKET, "--apply"]) == 0
    err = capsys.readouterr().err
    backup = Path(err.split("saved in ")[1].split()[0])
    assert backup.is_file()
    assert _statuses("s3_bucket_versioning_enabled", [world.ARCHIVE_BUCKET]) == {world.ARCHIVE_BUCKET: Status.PASS}
    # --restore alone is a dry run: it prints the exact calls and changes nothing.
    assert main(["check", "--restore", str(backup)]) == 0
    out = capsys.readouterr()
    assert "s3.put_bucket_versioning" in out.out and '"Status": "Suspended"' in out.out and "dry run" in out.err
    assert _statuses("s3_bucket_versioning_enabled", [world.ARCHIVE_BUCKET]) == {world.ARCHIVE_BUCKET: Status.PASS}
    # --restore --apply puts the earlier state back.
    assert main(["check", "--restore", str(backup), "--apply"]) == 0
    assert "restored 1 call(s)" in capsys.readouterr().err
    assert _statuses("s3_bucket_versioning_enabled", [world.ARCHIVE_BUCKET]) == {world.ARCHIVE_BUCKET: Status.FAIL}
    # User errors: --apply with neither --fix nor --restore; --force without --restore --apply.
    assert main(["check", "--apply"]) == 1
    assert main(["check", "--restore", str(backup), "--force"]) == 1
    assert "--force only applies" in capsys.readouterr().err


def test_restore_refuses_when_changed_since_fix(fresh_sandbox: sb.SandboxState, capsys: pytest.CaptureFixture[str]) -> None:
    from s3forensics.cli import main

    arch, check_id = world.ARCHIVE_BUCKET, "s3_access_logging_enabled"
    before = _statuses(check_id, [arch])
    assert before == {arch: Status.FAIL}
    path = apply_plan(plan_fix(check_id, buckets=[arch], context=_ctx()), context=_ctx())
    assert path is not None
    after = load_backup(path)["changes"][0]["after"]
    assert after["LoggingEnabled"]["TargetPrefix"] == f"s3-access/{arch}/"
    # Someone changes the prefix by hand after the fix.
    s3 = _ctx().client("s3")
    by_hand = {"TargetBucket": world.LOG_BUCKET, "TargetPrefix": "by-hand/"}
    s3.put_bucket_logging(Bucket=arch, BucketLoggingStatus={"LoggingEnabled": by_hand})
    with pytest.raises(RefusedError, match=rf"{arch}.*TargetPrefix.*by-hand/.*--force"):
        restore(path, context=_ctx())
    assert s3.get_bucket_logging(Bucket=arch)["LoggingEnabled"]["TargetPrefix"] == "by-hand/"  # untouched
    # The CLI dry run warns; --apply refuses (exit 1, naming --force); --force restores.
    assert main(["check", "--restore", str(path)]) == 0
    assert "--apply will refuse" in capsys.readouterr().err
    assert main(["check", "--restore", str(path), "--apply"]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and arch in err and "--force" in err
    assert s3.get_bucket_logging(Bucket=arch)["LoggingEnabled"]["TargetPrefix"] == "by-hand/"
    assert main(["check", "--restore", str(path), "--apply", "--force"]) == 0
    assert _statuses(check_id, [arch]) == before
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=arch)


def test_unreadable_backup_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(ActionError, match=str(bad)):
        load_backup(bad)
