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
# # Alarm tuning: would a CloudWatch alarm have paged, and how often?
#
# A GetRequests alarm on a bucket's request metrics catches floods, but a threshold too
# low pages every night and gets ignored. This notebook recomputes the S3 request metrics
# from the access logs, replays an alarm over that history, suggests the lowest readable
# threshold within a budget of alarms per week, and checks it still catches the floods
# the detections found. Runs offline on the sandbox demo world by default.

# %% tags=["parameters"]
S3_ACCESS = []  # list: server access log locations (folders or s3://bucket/prefix); [] with SANDBOX: the demo world's
START = "2026-11-16T00:00:00Z"  # str: history start, ISO-8601 UTC
END = "2026-11-23T00:00:00Z"  # str: history end, exclusive
SANDBOX = True  # bool: start the local sandbox with the demo world when none is running
BUCKET = ""  # str: the bucket the alarm watches ("" with SANDBOX: the demo world's site)
BUCKET_PROFILE = ""  # str: public_site, private_data or cloudfront (for the detections compared against); "" to infer it
METRIC = "GetRequests"  # str: AllRequests, GetRequests, 4xxErrors, BytesDownloaded...
PERIOD_SECONDS = 300  # int: metric period (a multiple of 60)
EVALUATION_PERIODS = 1  # int: N, periods looked at
DATAPOINTS_TO_ALARM = 1  # int: M of N breaching periods that raise the alarm
THRESHOLD = 1000.0  # float: the current (or proposed) threshold to replay
TARGET_PER_WEEK = 1.0  # float: alarms per week you accept from normal traffic
ALARM_ACTIONS = []  # list: SNS topic ARNs for the suggested alarm's parameters

# %%
from IPython.display import display

from s3forensics import playbook, plots
from s3forensics.detections.alarm_backtest import AlarmDefinition, replay, suggest_threshold
from s3forensics.display import paged
from s3forensics.investigation import open_investigation
from s3forensics.lab.demo.job import notebook_sources, sandbox_default
from s3forensics.lab.demo.world import SITE_BUCKET

plots.use_offline_renderer()
s3_access, _, target = notebook_sources(S3_ACCESS, [], SANDBOX)
BUCKET = sandbox_default(BUCKET, SITE_BUCKET, SANDBOX, "BUCKET")
playbook.expect(
    BUCKET=(BUCKET, str), METRIC=(METRIC, str), PERIOD_SECONDS=(PERIOD_SECONDS, int), EVALUATION_PERIODS=(EVALUATION_PERIODS, int),
    DATAPOINTS_TO_ALARM=(DATAPOINTS_TO_ALARM, int), THRESHOLD=(THRESHOLD, float), TARGET_PER_WEEK=(TARGET_PER_WEEK, float),
    ALARM_ACTIONS=(ALARM_ACTIONS, list),
)
alarm = AlarmDefinition(
    bucket=BUCKET, metric=METRIC, threshold=float(THRESHOLD), period_seconds=PERIOD_SECONDS,
    evaluation_periods=EVALUATION_PERIODS, datapoints_to_alarm=DATAPOINTS_TO_ALARM,
)
inv = open_investigation(s3_access, [], START, END, target=target)
metrics = playbook.alarm_metrics(inv, PERIOD_SECONDS)
bucket_metrics = inv.require_rows(metrics[metrics["bucket"] == BUCKET], f"requests on {BUCKET}")
paged(bucket_metrics, page_size=12, title=f"Request metrics of {BUCKET} per period")

# %% [markdown]
# ## The current threshold, replayed
# Each shaded band is one OK → ALARM transition: one page.

# %%
current = replay(metrics, alarm, start=inv.start, end=inv.end)
print(f"threshold {alarm.threshold:,.0f}: {len(current.alarms)} alarm(s) in {current.weeks:.1f} week(s), {current.alarms_per_week:.1f} per week")
plots.alarm_replay(current.states, threshold=alarm.threshold, alarms=current.alarms, title=f"{METRIC} per {PERIOD_SECONDS // 60} min on {BUCKET}: threshold {alarm.threshold:,.0f}")

# %%
display(paged(current.alarms, title="ALARM episodes at the current threshold"))

# %% [markdown]
# ## The suggested threshold
# The lowest readable threshold (1, 2, 2.5 or 5 × 10ⁿ, with a 20 % margin) that raised at
# most `TARGET_PER_WEEK` alarms per week over this history.

# %%
suggestion = suggest_threshold(metrics, alarm, target_per_week=TARGET_PER_WEEK, start=inv.start, end=inv.end)
print(f"suggested threshold {suggestion.alarm.threshold:,.0f}: {suggestion.expected_alarms_per_week:.1f} alarm(s) per week over this history")
plots.alarm_replay(suggestion.backtest.states, threshold=suggestion.alarm.threshold, alarms=suggestion.backtest.alarms, title=f"{METRIC} on {BUCKET}: suggested threshold {suggestion.alarm.threshold:,.0f}")

# %% [markdown]
# ## Would it still catch the floods?
# The request spikes the detections found on this bucket, and whether the suggested
# alarm paged during each. A flood it misses means the budget is too tight.

# %%
run = inv.detect(profiles={BUCKET: BUCKET_PROFILE} if BUCKET_PROFILE else None, ids=["request_rate_spike", "baseline_deviation"])
playbook.alarm_catches(suggestion.backtest.alarms, run.findings, bucket=BUCKET)

# %% [markdown]
# ## The alarm's parameters
# For `cloudwatch.put_metric_alarm` (or `s3forensics check --fix cloudwatch_alarm_s3_get_requests
# --threshold N`). The bucket needs a request-metrics configuration (`FilterId`).

# %%
suggestion.alarm.put_metric_alarm_params(alarm_actions=tuple(ALARM_ACTIONS))
