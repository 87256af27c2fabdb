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
# What happened to these buckets in this window: who sent the requests, from where, with
# what result, and when did the traffic stop looking like the site's usual rhythm?
# Runs offline on the sandbox demo world by default; point the parameters at real logs.

# %% tags=["parameters"]
S3_ACCESS = ["s3://s3f-demo-logs/s3-access/"]  # list: server access log locations (s3://bucket/prefix or folders)
CLOUDTRAIL = ["s3://s3f-demo-cloudtrail/AWSLogs/"]  # list: CloudTrail locations, [] for none
START = "2026-11-16T00:00:00Z"  # str: window start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: window end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
INTERVAL = "hour"  # str: timeline resolution: minute, hour or day

# %%
from IPython.display import display

from s3forensics import plots
from s3forensics.investigation import open_investigation

plots.use_offline_renderer()
inv = open_investigation(S3_ACCESS, CLOUDTRAIL, START, END, sandbox=SANDBOX)

# %% [markdown]
# ## Evidence loaded
# Every line read is either a row or a rejected line kept for review; the last column
# says whether the books balance.

# %%
inv.load_summary()

# %% [markdown]
# ## Requests over time
# The site's benign traffic follows a daily rhythm. Look for towers that break it, and
# for a colour (status) that should not be there.

# %%
over_time = inv.require_rows(inv.run("s3_access__requests_over_time", interval=INTERVAL))
over_time["status"] = (over_time["http_status"] // 100).astype("Int64").astype("string") + "xx"
series = over_time.groupby(["period", "status"], as_index=False)["requests"].sum()
plots.timeline(series, time_col="period", value_col="requests", color_col="status", title=f"Requests per {INTERVAL} by status")

# %% [markdown]
# ## Who sent the most requests
# A single address far above the rest is a flood, a scraper or an exfiltration.

# %%
top_ips = inv.run("s3_access__top_remote_ips", top=15)
plots.bar(top_ips, x="remote_ip", y="requests", title="Top remote IPs by requests", hover=["errors", "bytes_sent", "first_seen", "last_seen"])

# %%
display(top_ips)
