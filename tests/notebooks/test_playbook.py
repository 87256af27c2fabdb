"""Playbook library: evidence before change, the containment tree, rankings, summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from s3forensics import playbook
from s3forensics.checks.base import CheckResult, Status
from s3forensics.errors import ActionError, ParameterError


def finding(detection_id: str, ip: str | None, principal: str | None = None, severity: str = "high", bucket: str = "s3f-demo-data", **kw: object) -> dict:
    row = {
        "detection_id": detection_id, "title": detection_id, "severity": severity,
        "first_seen": pd.Timestamp("2026-11-19T22:18:00Z"), "last_seen": pd.Timestamp("2026-11-19T22:22:00Z"),
        "bucket": bucket, "source_ip": ip, "principal": principal, "event_count": 10, "bytes": 1000, "summary": f"{detection_id} from {ip}", "evidence": "{}",
    }
    row.update(kw)
    return row


# -- evidence ----------------------------------------------------------------------------


def test_evidence_is_hashed_verified_and_written_once(tmp_path: Path) -> None:
    import hashlib

    case = tmp_path / "case-1"
    frame = pd.DataFrame({"ip": ["203.0.113.88"], "bytes": [5]})
    manifest = playbook.write_evidence(case, {"findings": frame, "state": {"policy": None}}, meta={"bucket": "b"})
    files = {Path(i.path).name: i for i in manifest.items}
    assert set(files) == {"findings.csv", "state.json"}
    for item in manifest.items:
        assert hashlib.sha256(Path(item.path).read_bytes()).hexdigest() == item.sha256
    body = json.loads(manifest.path.read_text())
    assert body["meta"] == {"bucket": "b"} and len(body["items"]) == 2
    assert playbook.verify_evidence(case)["ok"].all()
    with pytest.raises(ActionError, match="written once"):
        playbook.write_evidence(case, {"findings": frame})


def test_tampered_evidence_stops_containment(tmp_path: Path) -> None:
    case = tmp_path / "case-2"
    manifest = playbook.write_evidence(case, {"findings": pd.DataFrame({"a": [1]})})
    (case / "evidence" / "findings.csv").write_text("a\n2\n")
    check = playbook.verify_evidence(case)
    assert not check["ok"].any()
    decisions = playbook.containment_decisions(playbook.IncidentFacts(bucket="s3f-demo-site", profile="public_site", source_ips=("203.0.113.66",)))
    with pytest.raises(ActionError, match="does not verify"):
        playbook.contain(decisions, manifest)


def test_no_evidence_no_containment(tmp_path: Path) -> None:
    with pytest.raises(ActionError, match="before anything changes"):
        playbook.verify_evidence(tmp_path / "nothing")


@pytest.mark.parametrize("name", ["../x", "a b", "", "x.csv"])
def test_evidence_names_are_plain(tmp_path: Path, name: str) -> None:
    with pytest.raises(ParameterError):
        playbook.write_evidence(tmp_path / "c", {name: pd.DataFrame()})


def test_case_ids_are_plain_and_unique() -> None:
    ids = {playbook.new_case_id() for _ in range(20)}
    assert len(ids) == 20
    with pytest.raises(ParameterError):
        playbook.case_folder("../etc")


# -- the containment tree -------------------------------------------------------------------


def actions_of(facts: playbook.IncidentFacts) -> list[tuple[str, str]]:
    return [(d.action, d.target) for d in playbook.containment_decisions(facts) if d.phase == "containment" and d.action != "none"]


def test_private_bucket_made_public_by_a_user_key() -> None:
    facts = playbook.IncidentFacts(
        bucket="s3f-demo-archive", profile="private_data", source_ips=("203.0.113.77",),
        principals=("arn:aws:iam::111122223333:user/ops-admin",), access_keys=(("ops-admin", "AKIAEXAMPLEKEY000001"),),
        made_public=True, logging_disabled=True,
    )
    decisions = playbook.containment_decisions(facts)
    assert actions_of(facts) == [
        ("block-public-access", "s3f-demo-archive"),
        ("deactivate-access-key", "user ops-admin key AKIAEXAMPLEKEY000001"),
        ("block-ip", "203.0.113.77"),
    ]
    phases = {d.phase for d in decisions}
    assert {"eradication", "recovery"} <= phases
    block = next(d for d in decisions if d.action == "block-ip")
    assert block.params["expires"] is None  # no expiry on private data by default


def test_a_public_site_is_not_blocked_from_the_public() -> None:
    facts = playbook.IncidentFacts(bucket="s3f-demo-site", profile="public_site", source_ips=("192.0.2.201",), anonymous=True, made_public=True)
    acts = actions_of(facts)
    assert ("block-public-access", "s3f-demo-site") not in acts
    assert ("manual", "s3f-demo-site") in acts
    block = next(d for d in playbook.containment_decisions(facts) if d.action == "block-ip")
    assert block.params == {"bucket": "s3f-demo-site", "addresses": ["192.0.2.201"], "expires": "24h"}


def test_presigned_urls_rotate_the_signing_credential() -> None:
    facts = playbook.IncidentFacts(
        bucket="s3f-demo-data", profile="private_data", source_ips=("198.51.100.9",),
        principals=("arn:aws:sts::111122223333:assumed-role/analytics-export/s1",), presigned=True,
    )
    decision = next(d for d in playbook.containment_decisions(facts) if d.action == "revoke-sessions")
    assert decision.params == {"role": "analytics-export"}
    assert "cannot be revoked" in decision.why
    unsigned = playbook.IncidentFacts(bucket="b-unknown", profile="private_data", presigned=True)
    manual = [d for d in playbook.containment_decisions(unsigned) if d.action == "manual"]
    assert manual and "rotate the signing credential" in manual[0].why


def test_a_user_without_a_known_key_is_a_manual_step() -> None:
    facts = playbook.IncidentFacts(bucket="b-data", profile="private_data", principals=("arn:aws:iam::111122223333:user/ops-admin",))
    assert actions_of(facts) == [("manual", "user ops-admin")]


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ParameterError, match="BUCKET_PROFILE"):
        playbook.incident_facts(None, pd.DataFrame([finding("mass_delete", "203.0.113.99")]), bucket="b", profile="website")


# -- analysis helpers ------------------------------------------------------------------------


def test_suspects_group_actors_most_severe_first() -> None:
    findings = pd.DataFrame(
        [
            finding("scanner_user_agent", "192.0.2.201", severity="medium", bucket="s3f-demo-site"),
            finding("secret_file_probing", "192.0.2.201", severity="high", bucket="s3f-demo-site"),
            finding("mass_delete", "203.0.113.99", "arn:aws:sts::111122223333:assumed-role/site-deploy/x", severity="critical"),
            finding("baseline_deviation", None, severity="medium"),
        ]
    )
    who = playbook.suspects(findings)
    assert list(who["source_ip"]) == ["203.0.113.99", "192.0.2.201"]
    assert who.loc[1, "detections"] == "scanner_user_agent, secret_file_probing"
    assert who.loc[1, "severity"] == "high"
    assert list(playbook.suspects(findings, ips=["192.0.2.201"])["source_ip"]) == ["192.0.2.201"]


def test_relevant_findings_filter_bucket_and_kind() -> None:
    findings = pd.DataFrame([finding("large_egress", "203.0.113.88"), finding("mass_delete", "203.0.113.99", bucket="other"), finding("insecure_transport", "192.0.2.1")])
    got = playbook.relevant_findings(findings, bucket="s3f-demo-data", detections=playbook.EXFILTRATION)
    assert list(got["detection_id"]) == ["large_egress"]


def test_pick_actor_takes_the_biggest_taker_or_the_parameter() -> None:
    who = pd.DataFrame({"source_ip": ["192.0.2.5", "203.0.113.88", None], "bytes": [10, 500, 900]})
    assert playbook.pick_actor(who) == "203.0.113.88"
    assert playbook.pick_actor(who, " 192.0.2.5 ") == "192.0.2.5"
    with pytest.raises(ParameterError, match="ACTOR"):
        playbook.pick_actor(who, 5)  # type: ignore[arg-type]


def test_prefixes_and_running_total() -> None:
    objects = pd.DataFrame(
        {
            "key": ["exports/a.csv", "exports/b.csv", "readme.txt"],
            "bytes_sent": [300, 200, 7],
            "requests": [1, 1, 2],
            "first_read": pd.to_datetime(["2026-11-19T22:19:00Z", "2026-11-19T22:18:00Z", "2026-11-19T22:20:00Z"]),
        }
    )
    prefixes = playbook.by_prefix(objects)
    assert prefixes.to_dict("records")[0] == {"prefix": "exports/", "objects": 2, "bytes_sent": 500, "requests": 2}
    assert list(playbook.cumulative_egress(objects)["cumulative_bytes"]) == [200, 500, 507]


def test_fix_first_ranks_severity_then_questions_unlocked() -> None:
    def result(check_id: str, resource: str, status: Status = Status.FAIL) -> CheckResult:
        return CheckResult(check_id, resource, status, "high", "m", "r")

    results = [
        result("cloudwatch_s3_request_metrics_enabled", "b1"),
        result("s3_access_logging_enabled", "b1"),
        result("s3_access_logging_enabled", "b2"),
        result("cloudtrail_s3_data_events_read", "b1", Status.PASS),
    ]
    ranked = playbook.fix_first(results)
    assert list(ranked["check_id"]) == ["s3_access_logging_enabled", "cloudwatch_s3_request_metrics_enabled"]
    assert ranked.loc[0, "resources"] == "b1, b2" and "From which IP?" in ranked.loc[0, "unlocks"]
    assert list(ranked["rank"]) == [1, 2]


def test_an_unreachable_account_stops_with_one_sentence() -> None:
    results = [CheckResult("s3_access_logging_enabled", "b", Status.UNKNOWN, "high", "could not connect to http://127.0.0.1:9", "r")]
    with pytest.raises(Exception, match=r"could not be checked .*could not connect"):
        playbook.require_reachable(results)


@pytest.mark.parametrize(
    ("params", "name"),
    [({"BUCKETS": ("s3f-demo-site", list)}, "BUCKETS"), ({"APPLY": ("yes", bool)}, "APPLY"), ({"TOP": (True, int)}, "TOP"), ({"THRESHOLD": ("9", float)}, "THRESHOLD")],
)
def test_expect_names_the_wrong_parameter(params: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=f"Parameter {name} must be"):
        playbook.expect(**params)


def test_expect_accepts_whole_numbers_for_floats() -> None:
    # It raises on a wrong type (above); here it must return quietly for each right one.
    assert playbook.expect(THRESHOLD=(500, float), APPLY=(False, bool), BUCKETS=([], list)) is None
    with pytest.raises(ParameterError, match="THRESHOLD"):
        playbook.expect(THRESHOLD=(True, float))  # a boolean is not a number, even though bool is an int


def test_alarm_catches_overlap() -> None:
    alarms = pd.DataFrame({"start": pd.to_datetime(["2026-11-18T03:55:00Z"]), "end": pd.to_datetime(["2026-11-18T04:10:00Z"]), "periods": [3], "peak": [1281.0]})
    findings = pd.DataFrame(
        [
            finding("request_rate_spike", "203.0.113.66", bucket="s3f-demo-site", first_seen=pd.Timestamp("2026-11-18T03:52:00Z"), last_seen=pd.Timestamp("2026-11-18T04:09:00Z")),
            finding("request_rate_spike", "203.0.113.67", bucket="s3f-demo-site", first_seen=pd.Timestamp("2026-11-19T03:52:00Z"), last_seen=pd.Timestamp("2026-11-19T04:09:00Z")),
            finding("large_egress", "203.0.113.88", bucket="s3f-demo-site"),
        ]
    )
    caught = playbook.alarm_catches(alarms, findings, bucket="s3f-demo-site")
    assert list(caught["caught"]) == [True, False]


def test_incident_report_names_evidence_and_actions(tmp_path: Path) -> None:
    facts = playbook.IncidentFacts(bucket="s3f-demo-site", profile="public_site", source_ips=("192.0.2.201",), anonymous=True)
    findings = pd.DataFrame([finding("secret_file_probing", "192.0.2.201", bucket="s3f-demo-site", summary="probe | pipe")])
    evidence = playbook.write_evidence(tmp_path / "c", {"findings": findings})
    decisions = playbook.containment_decisions(facts)
    actions = pd.DataFrame([{"action": "block-ip", "target": "192.0.2.201", "status": "dry-run", "action_id": "a-1", "detail": "d", "rollback": None}])
    path = playbook.write_incident_report(
        tmp_path / "c", title="Probe", facts=facts, window=(pd.Timestamp("2026-11-16T00:00:00Z"), pd.Timestamp("2026-11-23T00:00:00Z")),
        findings=findings, evidence=evidence, decisions=decisions, actions=actions, lessons_learned=playbook.lessons(facts), applied=False,
    )
    text = path.read_text()
    assert evidence.items[0].sha256 in text and "dry run" in text and "probe / pipe" in text
    data = json.loads((tmp_path / "c" / "incident_report.json").read_text())
    assert data["actions"][0]["action_id"] == "a-1" and data["facts"]["source_ips"] == ["192.0.2.201"]
    assert any("WAF" in lesson for lesson in data["lessons"])
