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
# # Setup audit: can this account investigate an S3 incident?
#
# Before an incident, check that the evidence will exist: access logs, CloudTrail data
# events, request metrics and alarms. This notebook runs the setup checks, shows which
# investigation questions each bucket can answer today, and what to fix first.
# Runs on the sandbox account by default; point it at a real account with `SANDBOX = False`.

# %% tags=["parameters"]
SANDBOX = True  # bool: check the local sandbox account (started with the demo world if needed)
BUCKETS = []  # list: buckets to check; [] for every bucket the credentials can list
REGION = ""  # str: region of CloudTrail/CloudWatch; "" for the profile's default
TOP = 5  # int: how many fixes to plan
PAGE_SIZE = 15  # int: rows per page of long tables

# %%
from IPython.display import display

from s3forensics import aws, playbook, plots
from s3forensics.checks import results_frame, run_checks
from s3forensics.checks.coverage import coverage_frame, sources_frame
from s3forensics.display import paged
from s3forensics.lab.demo.job import use_sandbox

plots.use_offline_renderer()
playbook.expect(SANDBOX=(SANDBOX, bool), BUCKETS=(BUCKETS, list), REGION=(REGION, str), TOP=(TOP, int), PAGE_SIZE=(PAGE_SIZE, int))
if SANDBOX:
    use_sandbox()
results = playbook.require_reachable(run_checks(aws.session(region=REGION or None), buckets=BUCKETS or None))
checks = results_frame(results)

# %% [markdown]
# ## How do the checks stand?
# One bar per severity, split by status. FAIL on a critical or high check means an
# incident there could not be investigated; UNKNOWN names a missing permission.

# %%
counts = checks.groupby(["severity", "status"], as_index=False).size().rename(columns={"size": "checks"})
plots.bar(counts, x="severity", y="checks", color="status", title="Setup check results by severity", hover=["status"])

# %%
paged(checks.sort_values(["status", "severity"]), page_size=PAGE_SIZE, title="Every check and resource")

# %% [markdown]
# ## Which evidence exists per bucket?
# Green: the source exists; red: it does not; grey: it could not be checked.

# %%
plots.status_matrix(sources_frame(results), title="Evidence sources per bucket")

# %% [markdown]
# ## Which questions can an investigation answer today?
# "no" in a row is a question you would have to leave unanswered after an incident.
# Logs are not retroactive: what is not collected now is lost.

# %%
plots.status_matrix(coverage_frame(results), title="Investigation questions per bucket")

# %% [markdown]
# ## What to fix first
# Failing checks ranked by severity, then by how many investigation questions fixing
# them unlocks.

# %%
priorities = playbook.fix_first(results, top=TOP)
display(paged(priorities, page_size=PAGE_SIZE, title="Fix first"))

# %% [markdown]
# ## What the fixes would do (dry run)
# The exact API calls, planned by reading the account only. Apply one with
# `s3forensics check --fix CHECK_ID --apply`: the previous configuration is saved first,
# and `s3forensics check --restore BACKUP` puts it back.

# %%
plans = playbook.fix_plans(priorities.loc[priorities["automatic_fix"], "check_id"].tolist(), buckets=BUCKETS or None)
paged(plans, page_size=PAGE_SIZE, title="Planned API calls")
