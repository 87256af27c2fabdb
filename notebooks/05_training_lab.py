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
# # Training lab: investigate an injected incident
#
# The demo world hides five incidents. This lab picks one, tells you the symptom, the
# bucket and the day, and asks what an investigator must find out. Fill in the `ANSWER_`
# parameters and run again: each answer is checked against the ground truth, empty or
# wrong ones get a hint, and the last cell prints your score. Each table that would give an
# answer away appears only once that question is answered: until then, find it yourself
# with the queries named (`inv.run(query_id, ...)` in a scratch cell).

# %% tags=["parameters"]
SCENARIO = "role_exfiltration"  # str: get_flood, role_exfiltration, secret_scanner, archive_made_public, mass_delete; "" for a random one
SEED = 0  # int: which random scenario, when SCENARIO is ""
GROUND_TRUTH = ""  # str: path of the demo world's ground_truth.json; "" for the sandbox's
S3_ACCESS = ["s3://s3f-demo-logs/s3-access/"]  # list: server access log locations
CLOUDTRAIL = ["s3://s3f-demo-cloudtrail/AWSLogs/"]  # list: CloudTrail locations
START = "2026-11-16T00:00:00Z"  # str: demo-world start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: demo-world end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
ANSWER_SOURCE_IP = ""  # str: which IP address did it come from?
ANSWER_START = ""  # str: when did it start? ISO-8601 UTC, e.g. 2026-11-19T22:18:00Z
ANSWER_PRINCIPAL = ""  # str: which IAM identity was used (ARN, role or user name)?
ANSWER_OBJECTS = []  # list: what was taken (keys, prefixes ending in "/", or patterns like "*.pem")
ANSWER_BYTES = 0  # int: how many bytes left the bucket? 0 if not answered
ANSWER_DETECTION = ""  # str: which detection fired on it (a detection id)?
PAGE_SIZE = 15  # int: rows per page of long tables

# %%
from IPython.display import Markdown, display

from s3forensics import playbook, plots
from s3forensics.display import paged, readable
from s3forensics.investigation import open_investigation
from s3forensics.lab import training
from s3forensics.lab.demo.job import use_sandbox

plots.use_offline_renderer()
playbook.expect(SCENARIO=(SCENARIO, str), SEED=(SEED, int), GROUND_TRUTH=(GROUND_TRUTH, str), PAGE_SIZE=(PAGE_SIZE, int))
answers = training.Answers.from_params(
    source_ip=ANSWER_SOURCE_IP, start=ANSWER_START, objects=ANSWER_OBJECTS, bytes=ANSWER_BYTES,
    principal=ANSWER_PRINCIPAL, detection=ANSWER_DETECTION,
)
inv = open_investigation(S3_ACCESS, CLOUDTRAIL, START, END, target=use_sandbox() if SANDBOX else None)
truth = training.load_ground_truth(GROUND_TRUTH)
scenario = training.pick_scenario(truth, SCENARIO, seed=SEED)
day_start, day_end = training.focus_window(scenario)

# %% [markdown]
# ## Your briefing

# %%
print(training.briefing(scenario))
print("\nQuestions:")
for q in training.questions(scenario):
    print(f"  {q.parameter}: {q.text}")

# %% [markdown]
# ## The day's traffic on that bucket
# Where does the rhythm break? Hover for the numbers.

# %%
over_time = inv.run("s3_access__requests_over_time", start=day_start, end=day_end, interval="minute")
plots.timeline(over_time[over_time["bucket"] == scenario["bucket"]], time_col="period", value_col="requests", color_col="http_status", title=f"Requests per minute on {scenario['bucket']}")

# %% [markdown]
# ## Who was busiest that day, and who took the most bytes?
# Shown once `ANSWER_SOURCE_IP` is given. Before that: `inv.run("s3_access__top_remote_ips",
# start=day_start, end=day_end)` and `inv.run("s3_access__egress_by_actor", ...)`.

# %%
if answers.source_ip:
    display(paged(readable(inv.run("s3_access__top_remote_ips", start=day_start, end=day_end, top=50)), page_size=PAGE_SIZE, title="Remote IPs that day"))
    display(paged(readable(inv.run("s3_access__egress_by_actor", start=day_start, end=day_end, top=50)), page_size=PAGE_SIZE, title="Bytes sent per actor that day"))
else:
    display(Markdown("*Answer `ANSWER_SOURCE_IP` first: these tables name the busiest addresses of the day.*"))

# %% [markdown]
# ## Configuration changes that day (CloudTrail)
# Shown once `ANSWER_PRINCIPAL` is given (or, for an incident without one, `ANSWER_START`).
# Before that: `inv.run("cloudtrail__bucket_config_changes", start=day_start, end=day_end)`.

# %%
gate = answers.principal if scenario.get("principals") else answers.start
if gate:
    display(paged(readable(inv.run("cloudtrail__bucket_config_changes", start=day_start, end=day_end)), page_size=PAGE_SIZE, title="Configuration changes that day"))
else:
    display(Markdown("*Answer the question above first: these changes name who made them.*"))

# %% [markdown]
# ## What did the detections say?
# Findings on that bucket that day, shown once `ANSWER_DETECTION` is given: several
# detections may fire on one incident, and only the one that names it counts.

# %%
run = inv.detect(profiles={"s3f-demo-site": "public_site", "s3f-demo-data": "private_data", "s3f-demo-archive": "private_data"})
if answers.detection:
    focus = training.findings_in_focus(run.findings, scenario)
    display(paged(readable(focus[["first_seen", "last_seen", "detection_id", "severity", "source_ip", "principal", "event_count", "bytes", "summary"]]),
                  page_size=PAGE_SIZE, title="Findings that day"))
else:
    display(Markdown(f"*Answer `ANSWER_DETECTION` first. The catalogue ran: {len(run.findings):,} finding(s) in the whole week; "
                     "`training.findings_in_focus(run.findings, scenario)` keeps that day's on the bucket.*"))

# %% [markdown]
# ## Your answers, checked
# Wrong or empty answers come with a hint. Change the `ANSWER_` parameters and run again.

# %%
result = training.check_answers(scenario, answers, findings=run.findings)
display(Markdown(result.markdown()))

# %%
print(result.line)
