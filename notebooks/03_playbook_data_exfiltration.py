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
# # Playbook: data exfiltration
#
# Data may have left a bucket. An exfiltration investigation must answer: what was taken,
# by whom, how much, where to, when (and is it still going on), and with which credential.
# This notebook answers each from the logs, shows how the data left over time, and
# writes the evidence to a case folder. Runs offline on the sandbox demo world by default.

# %% tags=["parameters"]
S3_ACCESS = []  # list: server access log locations (folders or s3://bucket/prefix); [] with SANDBOX: the demo world's
CLOUDTRAIL = []  # list: CloudTrail locations, [] for none (with SANDBOX and no S3_ACCESS: the demo world's)
START = "2026-11-16T00:00:00Z"  # str: window start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: window end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
BUCKET = ""  # str: the bucket data may have left; "" for every bucket (with SANDBOX: the demo world's data bucket)
BUCKET_PROFILE = ""  # str: public_site, private_data or cloudfront; "" to infer it from the logs
ACTOR = ""  # str: remote IP or principal ARN to follow; "" for the suspect that took the most bytes
ALLOW_CIDRS = []  # list: your own networks (a destination inside them is yours)
PREFIX_DEPTH = 1  # int: folder depth of the "what was taken" breakdown
CASE_DIR = ""  # str: folder for case folders; "" for <home>/cases
PAGE_SIZE = 15  # int: rows per page of long tables

# %%
from IPython.display import Markdown, display

from s3forensics import playbook, plots
from s3forensics.display import paged
from s3forensics.investigation import open_investigation
from s3forensics.lab.demo.job import notebook_sources, sandbox_default
from s3forensics.lab.demo.world import DATA_BUCKET

plots.use_offline_renderer()
playbook.expect(
    BUCKET=(BUCKET, str), BUCKET_PROFILE=(BUCKET_PROFILE, str), ACTOR=(ACTOR, str), ALLOW_CIDRS=(ALLOW_CIDRS, list),
    PREFIX_DEPTH=(PREFIX_DEPTH, int), CASE_DIR=(CASE_DIR, str), PAGE_SIZE=(PAGE_SIZE, int),
)
s3_access, cloudtrail, target = notebook_sources(S3_ACCESS, CLOUDTRAIL, SANDBOX)
BUCKET = sandbox_default(BUCKET, DATA_BUCKET, SANDBOX, "BUCKET", required=False)
inv = open_investigation(s3_access, cloudtrail, START, END, target=target)
inv.load_summary()

# %% [markdown]
# ## Which findings point at data leaving?
# Large egress, new readers, presigned URL abuse, cross-account copies, anonymous reads of
# private data, request spikes.

# %%
run = inv.detect(profiles={BUCKET: BUCKET_PROFILE} if BUCKET and BUCKET_PROFILE else None, allow_cidrs=ALLOW_CIDRS)
findings = playbook.relevant_findings(run.findings, bucket=BUCKET, detections=playbook.EXFILTRATION)
who = playbook.suspects(findings)
display(paged(who, page_size=PAGE_SIZE, title="Suspects"))
actor = playbook.pick_actor(who, ACTOR)
print(f"following {actor}")

# %% [markdown]
# ## Who sent the most bytes?
# The actor followed should stand out; a second address of the same identity is its
# usual host (the baseline).

# %%
egress = inv.require_rows(inv.run("s3_access__egress_by_actor", top=15), "bytes sent")
plots.bar(egress.assign(actor=egress["remote_ip"]), x="actor", y="bytes_sent", title="Bytes sent per remote IP", hover=["requester", "requests", "objects", "first_seen", "last_seen"])

# %% [markdown]
# ## The answers
# Each answer names the query or finding behind it.

# %%
answers = playbook.exfiltration_answers(inv, actor, bucket=BUCKET, findings=run.findings, allow_cidrs=ALLOW_CIDRS)
display(Markdown(playbook.qa_markdown(answers)))

# %% [markdown]
# ## What was taken, by folder
# Sensitive folders (exports, backups, keys) at the top are the business impact.

# %%
objects = playbook.actor_activity(inv, [actor], bucket=BUCKET)
taken = objects[objects["successful"].fillna(0) > 0]
prefixes = playbook.by_prefix(taken, depth=PREFIX_DEPTH)
plots.bar(prefixes, x="prefix", y="bytes_sent", title=f"Bytes taken by {actor}, per prefix", hover=["objects", "requests"])

# %%
paged(taken.sort_values("bytes_sent", ascending=False), page_size=PAGE_SIZE, title=f"Objects read by {actor}")

# %% [markdown]
# ## How fast did it leave?
# A steep staircase over a few minutes is a tool downloading everything (`aws s3 cp
# --recursive`); a slow trickle over days is harder to see and often deliberate.

# %%
progress = playbook.cumulative_egress(taken)
plots.cumulative(progress, time_col="time", value_col="cumulative_bytes", title=f"Bytes taken by {actor} over time", hover=["key", "bytes_sent"])

# %% [markdown]
# ## Evidence
# The answers and the tables behind them go to a case folder with their SHA-256, before
# any containment (see the unauthorized-access playbook for the containment tree: a
# role's sessions are revoked, a user's key deactivated, the address denied).

# %%
case_id = playbook.new_case_id("exfil")
evidence = playbook.write_evidence(
    playbook.case_folder(case_id, CASE_DIR),
    {"answers": answers, "findings": findings, "suspects": who, "objects_taken": taken, "by_prefix": prefixes, "egress": egress},
    case_id=case_id,
    meta={"bucket": BUCKET, "actor": actor, "start": START, "end": END},
)
print(f"evidence: {evidence.path}")
evidence.frame()
