# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %%

# %% [markdown]
# # Playbook: unauthorized access to a bucket
#
# Someone reached a bucket they should not have (or tried to). This playbook follows the
# NIST SP 800-61 phases: detect and analyse, write the evidence down before anything
# changes, contain (decision tree; actions run dry unless `APPLY = True`), eradicate,
# recover, and learn; it ends with an incident report in the case folder.
# Runs offline on the sandbox demo world by default (the archive that was made public).

# %% tags=["parameters"]
S3_ACCESS = []  # list: server access log locations (folders or s3://bucket/prefix); [] with SANDBOX: the demo world's
CLOUDTRAIL = []  # list: CloudTrail locations, [] for none (with SANDBOX and no S3_ACCESS: the demo world's)
START = "2026-11-16T00:00:00Z"  # str: window start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: window end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
BUCKET = ""  # str: the bucket under investigation ("" with SANDBOX: the demo world's archive)
BUCKET_PROFILE = ""  # str: public_site, private_data or cloudfront; "" to infer it from the logs
SUSPECT_IPS = []  # list: addresses to focus on; [] for every address the findings name
ALLOW_CIDRS = []  # list: your own networks, never reported
CASE_DIR = ""  # str: folder for case folders; "" for <home>/cases
BLOCK_EXPIRES = ""  # str: how long an IP block lasts ("24h", "7d"); "" for 24h on a site, no expiry otherwise
APPLY = False  # bool: really run the containment actions (False: dry run, recorded in the audit log)
PAGE_SIZE = 15  # int: rows per page of long tables

# %%
from IPython.display import Markdown, display

from s3forensics import playbook, plots
from s3forensics.display import paged
from s3forensics.investigation import bucket_profile, open_investigation
from s3forensics.lab.demo.job import notebook_sources, sandbox_default
from s3forensics.lab.demo.world import ARCHIVE_BUCKET

plots.use_offline_renderer()
playbook.expect(
    BUCKET=(BUCKET, str), BUCKET_PROFILE=(BUCKET_PROFILE, str), SUSPECT_IPS=(SUSPECT_IPS, list), ALLOW_CIDRS=(ALLOW_CIDRS, list),
    CASE_DIR=(CASE_DIR, str), BLOCK_EXPIRES=(BLOCK_EXPIRES, str), APPLY=(APPLY, bool), PAGE_SIZE=(PAGE_SIZE, int),
)
s3_access, cloudtrail, target = notebook_sources(S3_ACCESS, CLOUDTRAIL, SANDBOX)
BUCKET = sandbox_default(BUCKET, ARCHIVE_BUCKET, SANDBOX, "BUCKET")
inv = open_investigation(s3_access, cloudtrail, START, END, target=target)
inv.load_summary()

# %% [markdown]
# ## 1. Detect and analyse: what fired on this bucket?
# The detections that mean unauthorized access (public exposure, denied bursts, secret
# probing, new readers, presigned URLs, logging switched off...), most severe first.

# %%
run = inv.detect(profiles={BUCKET: BUCKET_PROFILE} if BUCKET_PROFILE else None, allow_cidrs=ALLOW_CIDRS)
profile = bucket_profile(run, BUCKET, BUCKET_PROFILE)
findings = inv.require_rows(playbook.relevant_findings(run.findings, bucket=BUCKET), f"unauthorized-access findings on {BUCKET}")
paged(findings[["first_seen", "last_seen", "detection_id", "severity", "source_ip", "principal", "event_count", "summary"]], page_size=PAGE_SIZE, title="Findings")

# %%
over_time = inv.run("s3_access__requests_over_time", interval="hour")
plots.timeline(over_time[over_time["bucket"] == BUCKET], time_col="period", value_col="requests", findings=findings, title=f"Requests per hour on {BUCKET}, with the findings")

# %% [markdown]
# ## Who are the suspects, and what did they touch?
# One row per address and identity behind the findings. Anonymous rows have no
# principal. The objects table lists every key each suspect asked for.

# %%
who = playbook.suspects(findings, ips=SUSPECT_IPS)
display(paged(who, page_size=PAGE_SIZE, title="Suspects"))
activity = playbook.actor_activity(inv, who["source_ip"].dropna().tolist(), bucket=BUCKET)
paged(activity, page_size=PAGE_SIZE, title="Objects the suspects asked for")

# %%
changes = inv.run("cloudtrail__bucket_config_changes") if cloudtrail else over_time.iloc[0:0]
changes = changes[changes["bucket_name"] == BUCKET] if len(changes) else changes
display(paged(changes, page_size=PAGE_SIZE, title="Configuration changes to the bucket (CloudTrail)"))

# %% [markdown]
# **What to look for**: a configuration change (policy, logging) by an identity from an
# address it does not normally use; keys that are secrets (`.env`, `id_rsa`); successful
# reads (status 200) by an address that should have none.

# %% [markdown]
# ## 2. Evidence, written before anything changes
# Every table above and the bucket's current policy and Block Public Access are written
# to the case folder with their SHA-256 in `manifest.json`. Containment refuses to run
# if a file is missing or changed.

# %%
facts = playbook.incident_facts(inv, findings, bucket=BUCKET, profile=profile, ips=SUSPECT_IPS)
case_id = playbook.new_case_id()
case_dir = playbook.case_folder(case_id, CASE_DIR)
evidence = playbook.write_evidence(
    case_dir,
    {
        "findings": findings,
        "suspects": who,
        "suspect_objects": activity,
        "config_changes": changes,
        "load_summary": inv.load_summary(),
        "bucket_state_before": playbook.aws_state(BUCKET),
        "facts": facts.as_dict(),
    },
    case_id=case_id,
    meta={"bucket": BUCKET, "start": START, "end": END, "apply": APPLY},
)
print(f"evidence: {evidence.path}")
evidence.frame()

# %% [markdown]
# ## 3. Contain: the decision tree
# Each question is asked of the facts; its answer picks the action. Presigned URLs cannot
# be revoked one by one: the tree rotates the credential that signed them instead.

# %%
decisions = playbook.containment_decisions(facts, block_expires=BLOCK_EXPIRES)
playbook.decisions_frame(decisions)

# %% [markdown]
# ## The containment actions
# With `APPLY = False` (the default) each action is planned and recorded as a dry run;
# the diff shows what it would change. With `APPLY = True` it is applied, the previous
# state saved, and the `rollback` column gives the command that undoes it.

# %%
actions = playbook.contain(decisions, evidence, apply=APPLY)
display(paged(actions[["action", "target", "status", "action_id", "rollback"]], page_size=PAGE_SIZE, title="Containment actions"))
for row in actions.itertuples():
    print(f"--- {row.action} on {row.target} ({row.status})\n{row.detail}\n")

# %% [markdown]
# ## 4. Eradicate and 5. recover
# What remains to be removed or restored once the attacker is out.

# %%
playbook.decisions_frame([d for d in decisions if d.phase in ("eradication", "recovery")])

# %% [markdown]
# ## 6. Lessons learned, and the incident report
# The report (Markdown and JSON) is written to the case folder with the evidence hashes,
# the decisions, the actions and their rollback commands.

# %%
learned = playbook.lessons(facts)
report = playbook.write_incident_report(
    case_dir, title=f"Unauthorized access to {BUCKET}", facts=facts, window=(inv.start, inv.end), findings=findings,
    evidence=evidence, decisions=decisions, actions=actions, lessons_learned=learned, applied=APPLY,
)
print(f"incident report: {report}")
display(Markdown(report.read_text(encoding="utf-8")))
