"""Eradication, recovery and lessons learned, and the incident report (Markdown plus JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from s3forensics.playbook.analysis import IncidentFacts
from s3forensics.playbook.containment import Decision
from s3forensics.playbook.evidence import EvidenceManifest
from s3forensics.playbook.values import iso, plain
from s3forensics.vocabulary import utc_now


def lessons(facts: IncidentFacts, coverage_gaps: Sequence[str] = ()) -> list[str]:
    """Lessons learned that follow from the facts (and from setup checks that failed)."""
    out = []
    if facts.made_public:
        out.append("Turn on account-level Block Public Access, and alarm on PutBucketPolicy/PutBucketAcl (CloudTrail metric filter).")
    if facts.logging_disabled:
        out.append("Alarm on PutBucketLogging, and deny s3:PutBucketLogging to everyone but the admin role (SCP or permission boundary).")
    if any(":user/" in p for p in facts.principals):
        out.append("Replace long-term IAM user keys with roles (IAM Identity Center, OIDC for CI); require MFA for console users.")
    if any(":assumed-role/" in p for p in facts.principals):
        out.append("Pin role sessions to their network (aws:SourceIp / aws:SourceVpc / aws:ec2InstanceSourceVPC conditions) so stolen credentials fail elsewhere.")
    if facts.presigned:
        out.append("Keep presigned URL lifetimes short and sign them with a dedicated role, so rotating it revokes the URLs.")
    if facts.anonymous:
        out.append("Put the site behind CloudFront with WAF rate-based rules, so floods and scanners are stopped before S3.")
    if facts.deleted:
        out.append("Turn on versioning (and MFA delete or Object Lock on critical data), so deletes can be undone.")
    out += [f"Fix the setup gap: {gap}" for gap in coverage_gaps]
    out.append("Review this playbook run: which step was slow, which evidence was missing?")
    return out


def write_incident_report(
    case_dir: str | Path,
    *,
    title: str,
    facts: IncidentFacts,
    window: tuple[Any, Any],
    findings: pd.DataFrame,
    evidence: EvidenceManifest,
    decisions: Sequence[Decision],
    actions: pd.DataFrame,
    lessons_learned: Sequence[str],
    applied: bool,
) -> Path:
    """Write ``incident_report.md`` and ``incident_report.json`` to the case folder.

    Returns:
        The Markdown report's path.
    """
    folder = Path(case_dir)
    folder.mkdir(parents=True, exist_ok=True)
    timeline = findings.sort_values("first_seen")[["first_seen", "detection_id", "severity", "source_ip", "principal", "summary"]] if len(findings) else findings
    data = {
        "case_id": evidence.case_id,
        "title": title,
        "written_at": iso(utc_now()),
        "window": {"start": iso(window[0]), "end": iso(window[1])},
        "mode": "applied" if applied else "dry run",
        "facts": facts.as_dict(),
        "findings": [plain(r) for r in timeline.to_dict("records")],
        "evidence": {"manifest": str(evidence.path), "written_at": evidence.written_at, "items": [asdict(i) for i in evidence.items]},
        "decisions": [asdict(d) for d in decisions],
        "actions": [plain(r) for r in actions.to_dict("records")],
        "lessons": list(lessons_learned),
    }
    (folder / "incident_report.json").write_text(json.dumps(plain(data), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    lines = [
        f"# Incident report: {title}",
        "",
        f"Case `{evidence.case_id}`, written {data['written_at']}; containment mode: **{data['mode']}**.",
        f"Window: {data['window']['start']} to {data['window']['end']}. Bucket: `{facts.bucket}` ({facts.profile}).",
        "",
        "## Detection and analysis",
        "",
        f"Suspect addresses: {', '.join(facts.source_ips) or 'none'}. Principals: {', '.join(facts.principals) or 'none (anonymous)'}.",
        "",
        "| first seen | detection | severity | source IP | summary |",
        "|---|---|---|---|---|",
    ]
    for r in data["findings"]:
        lines.append(f"| {r['first_seen']} | {r['detection_id']} | {r['severity']} | {r['source_ip'] or ''} | {str(r['summary']).replace('|', '/')} |")
    lines += ["", "## Evidence (written before any change)", "", f"Manifest: `{evidence.path}` ({evidence.written_at}).", "", "| file | rows | sha256 |", "|---|---|---|"]
    lines += [f"| {Path(i.path).name} | {'' if i.rows is None else i.rows} | `{i.sha256}` |" for i in evidence.items]
    for phase in ("containment", "eradication", "recovery"):
        lines += ["", f"## {phase.capitalize()}", ""]
        chosen = [d for d in decisions if d.phase == phase]
        lines += [f"- {d.question} **{d.answer}** → `{d.action}` on {d.target}: {d.why}" for d in chosen] or ["- nothing to do"]
        if phase == "containment" and len(actions):
            lines += ["", "| action | target | status | action id | rollback |", "|---|---|---|---|---|"]
            lines += [f"| {a['action']} | {a['target']} | {a['status']} | {a['action_id'] or ''} | {a['rollback'] or ''} |" for a in data["actions"]]
    lines += ["", "## Lessons learned", ""] + [f"- {lesson}" for lesson in lessons_learned]
    path = folder / "incident_report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
