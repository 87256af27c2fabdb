"""The incident-response playbooks' library: NIST SP 800-61 phases for S3 buckets.

What the playbook notebooks need, so that they stay thin, one module a job:

- ``params``: notebook parameters checked before anything runs (:func:`expect`), and
  setup results that prove the account answered (:func:`require_reachable`).
- ``preparation``: which failing setup check to fix first (:func:`fix_first`), the dry
  fix plans (:func:`fix_plans`), and the request metrics an alarm is tuned on
  (:func:`alarm_metrics`, :func:`alarm_catches`).
- ``analysis``: the suspects behind a set of findings (:func:`suspects`), the facts
  containment depends on (:func:`incident_facts`), and the questions an exfiltration
  investigation must answer (:func:`exfiltration_answers`).
- ``evidence``: before anything changes, :func:`write_evidence` writes every table to a
  case folder with its SHA-256 in a manifest; :func:`verify_evidence` re-hashes it.
  Containment refuses to run without a verified manifest.
- ``containment``: a decision tree (:func:`containment_decisions`) whose leaves are the
  response actions of :mod:`s3forensics.actions` (:data:`PLANNERS`), run dry unless
  ``apply=True`` (:func:`contain`). Presigned URLs cannot be revoked one by one: the tree
  rotates the credential that signed them.
- ``report``: eradication, recovery and lessons learned, and the incident report
  (:func:`write_incident_report`), Markdown plus JSON.

Everything is importable from here (``from s3forensics import playbook``;
``playbook.suspects(...)``).
"""

from s3forensics.playbook.analysis import (
    EXFILTRATION,
    READ_OPERATIONS,
    UNAUTHORIZED_ACCESS,
    IncidentFacts,
    actor_activity,
    by_prefix,
    cumulative_egress,
    exfiltration_answers,
    incident_facts,
    pick_actor,
    qa_markdown,
    relevant_findings,
    suspects,
)
from s3forensics.playbook.containment import PHASES, PLANNERS, Decision, contain, containment_decisions, decisions_frame
from s3forensics.playbook.evidence import (
    EvidenceItem,
    EvidenceManifest,
    aws_state,
    case_folder,
    new_case_id,
    verify_evidence,
    write_evidence,
)
from s3forensics.playbook.params import expect, require_reachable
from s3forensics.playbook.preparation import alarm_catches, alarm_metrics, fix_first, fix_plans
from s3forensics.playbook.report import lessons, write_incident_report

__all__ = [
    "EXFILTRATION",
    "PHASES",
    "PLANNERS",
    "READ_OPERATIONS",
    "UNAUTHORIZED_ACCESS",
    "Decision",
    "EvidenceItem",
    "EvidenceManifest",
    "IncidentFacts",
    "actor_activity",
    "alarm_catches",
    "alarm_metrics",
    "aws_state",
    "by_prefix",
    "case_folder",
    "contain",
    "containment_decisions",
    "cumulative_egress",
    "decisions_frame",
    "exfiltration_answers",
    "expect",
    "fix_first",
    "fix_plans",
    "incident_facts",
    "lessons",
    "new_case_id",
    "pick_actor",
    "qa_markdown",
    "relevant_findings",
    "require_reachable",
    "suspects",
    "verify_evidence",
    "write_evidence",
    "write_incident_report",
]
