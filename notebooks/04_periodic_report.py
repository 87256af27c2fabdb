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
# The morning report nobody has to run by hand: what happened in the last period and
# whether it goes on, how the traffic moved against the period before, and what the logs
# and the account could not show. Made for `s3forensics report 04_periodic_report -p DAYS 1`
# from cron; it exits non-zero instead of rendering an empty page when the window holds no logs.

# %% tags=["parameters"]
S3_ACCESS = []  # list: server access log locations (folders or s3://bucket/prefix); [] with SANDBOX: the demo world's
CLOUDTRAIL = []  # list: CloudTrail locations, [] for none (with SANDBOX and no S3_ACCESS: the demo world's)
END = "2026-11-23T00:00:00Z"  # str: end of the reported period (exclusive); or now for the current hour
DAYS = 7  # int: length of the period in days (1 for a daily report, 7 for a weekly one)
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
PROFILES = {}  # dict: bucket -> public_site | private_data | cloudfront; unlisted buckets: inferred from the logs
ALLOW_CIDRS = []  # list: networks never reported (your office, your CDN)
ALLOW_PRINCIPALS = []  # list: principal ARNs (fnmatch patterns allowed) never reported: your deploy role, your backup job
BUCKETS = []  # list: buckets for the coverage checks; [] for every bucket in the account
CHECK_SETUP = True  # bool: include the setup checks (needs read access to the account's configuration)

# %%
from dataclasses import replace

from IPython.display import Markdown, display

from s3forensics import plots
from s3forensics.display import paged, readable
from s3forensics.investigation import compare_periods, open_investigation, rank_findings, report_window
from s3forensics.lab.demo.job import notebook_sources

plots.use_offline_renderer()
start, end = report_window(END, DAYS)
s3_access, cloudtrail, target = notebook_sources(S3_ACCESS, CLOUDTRAIL, SANDBOX)
# The period and the one before it, loaded once: the one before is the comparison.
both = open_investigation(s3_access, cloudtrail, start - (end - start), end, target=target)
inv, before = replace(both, start=start), replace(both, end=start)
daily = inv.require_rows(inv.run("s3_access__requests_over_time", interval="day"))
run = inv.detect(PROFILES, allow_cidrs=ALLOW_CIDRS, allow_principals=ALLOW_PRINCIPALS)
findings = rank_findings(run.findings)
verdict = inv.verdict(findings)
display(Markdown(f"## Report for {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({DAYS} days)\n\n{verdict.markdown()}"))

# %% [markdown]
# ## Incidents, and what to do next
# Anything `high` or above deserves a playbook (02 or 03) today.

# %%
paged(verdict.table(), page_size=10, title="Incidents, worst first")

# %%
display(Markdown(verdict.next_steps()))

# %% [markdown]
# ## Against the period before
# The same length of time just before this period: a step up that stays up is a new normal
# (or a slow exfiltration); a detection that fires now and not before is news.

# %%
earlier = before.detect(PROFILES, allow_cidrs=ALLOW_CIDRS, allow_principals=ALLOW_PRINCIPALS).findings
comparison = compare_periods(daily, before.run("s3_access__requests_over_time", interval="day"), findings, earlier)
display(Markdown(comparison.summary))
paged(comparison.table, page_size=20, title="This period and the one before, per bucket")

# %% [markdown]
# ## Findings in the period
# Every finding, most severe first, in the same colours on every page.

# %%
by_severity = findings.groupby(["severity", "detection_id"], as_index=False).agg(findings=("title", "size"), events=("event_count", "sum"))
plots.bar(by_severity.sort_values("findings", ascending=False), x="detection_id", y="findings", color="severity",
          title="Findings per detection", hover=["events"])

# %%
paged(readable(findings[["severity", "detection_id", "first_seen", "bucket", "source_ip", "principal", "event_count", "bytes", "summary"]]),
      page_size=20, title=f"{len(findings):,} findings")

# %% [markdown]
# ## Trends
# Requests per day and bucket; each bar spans its day. Findings are marked where they began.

# %%
trend = daily.assign(errors=daily["requests"].where(daily["http_status"] >= 400, 0))
trend = trend.groupby(["period", "bucket"], as_index=False)[["requests", "errors", "bytes_sent"]].sum()
plots.timeline(trend, time_col="period", value_col="requests", color_col="bucket", findings=findings, title="Requests per day and bucket")

# %%
paged(readable(trend), page_size=20, title="Requests, errors and bytes per day and bucket")

# %% [markdown]
# ## Coverage gaps
# Which investigation questions each bucket could answer, from the setup checks, and from
# the logs in hand where the account could not be read ("yes (logs)"); then the failing
# setup checks behind the gaps (notebook 00 has the details and the fixes).

# %%
checks = inv.setup_checks(BUCKETS, enabled=CHECK_SETUP)
paged(checks.coverage.reset_index(), title="Which questions can each bucket answer?")

# %%
paged(checks.failing, page_size=15, title="Failing or undecided setup checks")
