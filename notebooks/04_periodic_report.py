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
# # Periodic report
#
# The morning report nobody has to run by hand: what fired in the last period, how the
# traffic moved, and which evidence gaps would hamper an investigation today.
# Made for `s3forensics report 04_periodic_report -p DAYS 1` from cron; it exits non-zero
# instead of rendering an empty page when the window holds no logs.

# %% tags=["parameters"]
S3_ACCESS = ["s3://s3f-demo-logs/s3-access/"]  # list: server access log locations
CLOUDTRAIL = ["s3://s3f-demo-cloudtrail/AWSLogs/"]  # list: CloudTrail locations, [] for none
END = "2026-11-23T00:00:00Z"  # str: end of the reported period (exclusive); or now for the current hour
DAYS = 7  # int: length of the period in days (1 for a daily report, 7 for a weekly one)
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
PROFILES = {"s3f-demo-site": "public_site"}  # dict: bucket -> public_site | private_data
BUCKETS = []  # list: buckets for the coverage checks; [] for every bucket in the account
CHECK_SETUP = True  # bool: include the setup checks (needs read access to the account's configuration)

# %%
from IPython.display import Markdown, display

from s3forensics import plots
from s3forensics.display import paged
from s3forensics.investigation import open_investigation, rank_findings, report_window
from s3forensics.lab.demo.job import use_sandbox

plots.use_offline_renderer()
start, end = report_window(END, DAYS)
inv = open_investigation(S3_ACCESS, CLOUDTRAIL, start, end, target=use_sandbox() if SANDBOX else None)
daily = inv.require_rows(inv.run("s3_access__requests_over_time", interval="day"))
run = inv.detect(PROFILES)
findings = rank_findings(run.findings)
display(Markdown(f"## Report for {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({DAYS} days)"))
inv.load_summary()

# %% [markdown]
# ## Findings in the period
# Most severe first. Anything `high` or above deserves a playbook (02 or 03) today.

# %%
by_severity = findings.groupby(["severity", "detection_id"], as_index=False).agg(findings=("title", "size"), events=("event_count", "sum"))
display(Markdown(f"**{len(findings)} findings**; detections that could not run: {len(run.errors)}."))
plots.bar(by_severity.sort_values("findings", ascending=False), x="detection_id", y="findings", color="severity",
          title="Findings per detection", hover=["events"])

# %%
paged(findings[["severity", "detection_id", "first_seen", "bucket", "source_ip", "principal", "event_count", "bytes", "summary"]], page_size=20)

# %% [markdown]
# ## Trends
# Requests, errors and bytes per day and bucket. A step up that stays up is a new normal
# (or a slow exfiltration); a single spike is an event worth a look in notebook 01.

# %%
trend = daily.assign(errors=daily["requests"].where(daily["http_status"] >= 400, 0))
trend = trend.groupby(["period", "bucket"], as_index=False)[["requests", "errors", "bytes_sent"]].sum()
plots.timeline(trend, time_col="period", value_col="requests", color_col="bucket", findings=findings, title="Requests per day and bucket")

# %%
paged(trend, page_size=20)

# %% [markdown]
# ## Coverage gaps
# Which investigation questions this account could not answer today, and the failing
# setup checks behind them (notebook 00 has the details and the fixes).

# %%
checks = inv.setup_checks(BUCKETS, enabled=CHECK_SETUP)
paged(checks.coverage, title="Which questions can each bucket answer today?")

# %%
paged(checks.failing, page_size=15, title="Failing or undecided setup checks")
