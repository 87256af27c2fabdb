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

# %% [markdown]
# # Anomaly investigation
#
# What happened to these buckets in this window: what fired, who sent the requests, from
# where, how much data left, is it still going on, and what can these logs not show?
# Runs offline on the sandbox demo world by default; give `S3_ACCESS` / `CLOUDTRAIL`
# (folders or `s3://` locations) and `SANDBOX false` for real logs.

# %% tags=["parameters"]
S3_ACCESS = []  # list: server access log locations (folders or s3://bucket/prefix); [] with SANDBOX: the demo world's
CLOUDTRAIL = []  # list: CloudTrail locations, [] for none (with SANDBOX and no S3_ACCESS: the demo world's)
START = "2026-11-16T00:00:00Z"  # str: window start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: window end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
PROFILES = {}  # dict: bucket -> public_site | private_data | cloudfront; unlisted buckets: inferred from the logs
ALLOW_CIDRS = []  # list: networks never reported (your office, your CDN)
ALLOW_PRINCIPALS = []  # list: principal ARNs (fnmatch patterns allowed) never reported: your deploy role, your backup job
INTERVAL = "hour"  # str: timeline resolution: minute, hour or day
FOCUS = ""  # str: IP or principal ARN to drill into; empty for the source of the worst incident

# %%
import pandas as pd
from IPython.display import Markdown, display

from s3forensics import plots
from s3forensics.display import human_bytes, paged, readable
from s3forensics.investigation import actor_summary, detection_errors, focus_actor, open_investigation, rank_findings
from s3forensics.lab.demo.job import notebook_sources

plots.use_offline_renderer()
s3_access, cloudtrail, target = notebook_sources(S3_ACCESS, CLOUDTRAIL, SANDBOX)
inv = open_investigation(s3_access, cloudtrail, START, END, target=target)
over_time = inv.require_rows(inv.run("s3_access__requests_over_time", interval=INTERVAL))
run = inv.detect(PROFILES, allow_cidrs=ALLOW_CIDRS, allow_principals=ALLOW_PRINCIPALS)
findings = rank_findings(run.findings)
verdict = inv.verdict(findings)
display(Markdown(verdict.markdown()))

# %% [markdown]
# ## Incidents, and what to do next
# One row per actor and time: the findings of one incident together. The next step is the
# worst detection's runbook; the known false positives say when it is nothing.

# %%
paged(verdict.table(), page_size=10, title="Incidents, worst first")

# %%
display(Markdown(verdict.next_steps()))

# %% [markdown]
# ## How was each bucket judged?
# What is unusual depends on what a bucket is for: a public site serves anonymous readers by
# design. Each profile is inferred from the logs unless `PROFILES` names it.

# %%
paged(readable(pd.DataFrame([{"bucket": b, "profile": p.profile, "how": p.source, "why": p.reason} for b, p in sorted(run.profiles.items())],
                            columns=["bucket", "profile", "how", "why"])), title="Bucket profiles")

# %% [markdown]
# ## What fired?
# Every finding, most severe first; the summary says what was seen.

# %%
paged(readable(findings[["severity", "detection_id", "first_seen", "last_seen", "bucket", "source_ip", "principal", "event_count", "bytes", "summary"]]),
      page_size=15, title=f"{len(findings):,} findings from {findings['detection_id'].nunique() if len(findings) else 0} detections")

# %%
paged(detection_errors(run), title="Detections that could not run")

# %% [markdown]
# ## When did it happen?
# The site's benign traffic follows a daily rhythm. Shaded spans are findings (hover the
# markers): look for towers that break the rhythm and for status colours that should not be there.

# %%
over_time["status"] = (over_time["http_status"] // 100).astype("Int64").astype("string") + "xx"
series = over_time.groupby(["period", "status"], as_index=False)["requests"].sum()
plots.timeline(series, time_col="period", value_col="requests", color_col="status", findings=findings,
               title=f"Requests per {INTERVAL} by status, findings marked")

# %% [markdown]
# ## Which status codes, when?
# A band of 403s is someone probing what they may not read; a band of 404s is a scanner
# guessing names; 503 SlowDown is S3 throttling a flood.

# %%
by_status = over_time.assign(hour=over_time["period"].dt.floor("h"), status_code=over_time["http_status"].astype("Int64").astype("string"))
plots.heatmap(by_status, x="hour", y="status_code", z="requests", title="Requests per hour and HTTP status", log_color=True)

# %% [markdown]
# ## Who are the top talkers?
# A single address far above the rest is a flood, a scraper or an exfiltration.

# %%
top_ips = inv.run("s3_access__top_remote_ips", top=15)
plots.bar(top_ips, x="remote_ip", y="requests", title="Top remote IPs by requests",
          hover=["errors", "bytes_sent", "first_seen", "last_seen"])

# %%
paged(readable(inv.run("s3_access__top_requesters")), page_size=10, title="Top requesters")

# %% [markdown]
# ## How much data left, and through whom?
# Egress per IP and principal. A private-data principal at the top, from an address it
# has never used, is the shape of a credential theft.

# %%
egress = inv.run("s3_access__egress_by_actor", top=15)
egress["actor"] = egress["remote_ip"].astype("string") + " / " + egress["requester"].fillna("anonymous").astype("string")
plots.bar(egress, x="actor", y="bytes_sent", title="Bytes sent per IP / principal", hover=["requests", "objects", "first_seen", "last_seen"])

# %% [markdown]
# ## Drill-down: everything one actor did
# The worst incident's source unless `FOCUS` names one (an address, a principal, or an
# assumed role by its role: all its sessions): its reads, writes, deletes, listings and
# denials in the access logs, its calls in CloudTrail (changes first), and the objects it read.

# %%
actor = focus_actor(findings, FOCUS)
activity = inv.run("s3_access__actor_activity", actor=actor or "")
calls = inv.run("cloudtrail__actor_events", actor=actor or "") if "cloudtrail" in inv.reports else None
display(Markdown(actor_summary(actor, activity, calls)))
paged(readable(activity), page_size=15, title="Access logs: what it did, per bucket, action and outcome")

# %%
paged(readable(calls if calls is not None else pd.DataFrame()), page_size=15, title="CloudTrail: its calls, changes first")

# %%
objects = inv.run("s3_access__objects_read_by_actor", actor=actor or "")
display(Markdown(f"{len(objects)} objects read, {human_bytes(objects['bytes_sent'].sum())} sent."))
paged(readable(objects), page_size=15, title="Objects read")

# %% [markdown]
# ## Evidence loaded
# What was read for this report: every line accounted for (parsed, rejected with a reason,
# or outside the window).

# %%
readable(inv.load_summary())
