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
# where, with what result, how much data left, and is it still going on?
# Runs offline on the sandbox demo world by default; point the parameters at real logs.

# %% tags=["parameters"]
S3_ACCESS = ["s3://s3f-demo-logs/s3-access/"]  # list: server access log locations (s3://bucket/prefix or folders)
CLOUDTRAIL = ["s3://s3f-demo-cloudtrail/AWSLogs/"]  # list: CloudTrail locations, [] for none
START = "2026-11-16T00:00:00Z"  # str: window start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: window end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
PROFILES = {"s3f-demo-site": "public_site"}  # dict: bucket -> public_site | private_data (unlisted: private_data)
ALLOW_CIDRS = []  # list: networks never reported (your office, your CDN)
INTERVAL = "hour"  # str: timeline resolution: minute, hour or day
FOCUS = ""  # str: IP or principal ARN to drill into; empty for the source of the worst finding

# %%
from IPython.display import Markdown, display

from s3forensics import plots
from s3forensics.display import paged
from s3forensics.investigation import detection_errors, focus_actor, open_investigation, rank_findings
from s3forensics.lab.demo.job import use_sandbox

plots.use_offline_renderer()
inv = open_investigation(S3_ACCESS, CLOUDTRAIL, START, END, target=use_sandbox() if SANDBOX else None)
inv.load_summary()

# %% [markdown]
# ## What fired?
# Every detection in the catalogue over the window, grouped so that one incident is a few
# findings. Severity first; the summary says what to check next.

# %%
over_time = inv.require_rows(inv.run("s3_access__requests_over_time", interval=INTERVAL))
run = inv.detect(PROFILES, allow_cidrs=ALLOW_CIDRS)
findings = rank_findings(run.findings)
display(Markdown(f"**{len(findings)} findings** from {findings['detection_id'].nunique()} detections; "
                 f"{len(run.errors)} detections could not run."))
paged(findings[["severity", "detection_id", "first_seen", "last_seen", "bucket", "source_ip", "principal", "event_count", "bytes", "summary"]], page_size=15)

# %%
paged(detection_errors(run))

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
paged(inv.run("s3_access__top_requesters"), page_size=10)

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
# The worst finding's source unless `FOCUS` names one: when it was first and last seen,
# which objects it read, and how many bytes.

# %%
actor = focus_actor(findings, FOCUS)
display(Markdown(f"### Actor: `{actor}`" if actor else "### No actor to drill into (no findings, no FOCUS)"))
paged(inv.run("s3_access__first_last_seen", actor=actor or ""), page_size=10)

# %%
objects = inv.run("s3_access__objects_read_by_actor", actor=actor or "")
display(Markdown(f"{len(objects)} objects read, {int(objects['bytes_sent'].sum()):,} bytes sent."))
paged(objects, page_size=15)
