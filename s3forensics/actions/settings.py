"""Account settings a check fix changes, as resource kinds of the one change engine.

Each kind reads a setting into a small JSON state (None when nothing is configured),
writes a state back through the API calls :attr:`~ResourceKind.calls` lists (so a dry run
shows exactly what a write would do), and compares states. A fix is then a
:class:`~s3forensics.actions.resources.Plan` from the state read to the state wanted, and
undoing it is a plan back, like every response action.

Reads ignore what changes without anyone changing the setting (delivery times, alarm
state); a read-back holds a written state when every key written has the value written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from s3forensics.actions.kinds import ApiCall, ResourceKind, client, read_or_absent
from s3forensics.errors import ActionError

#: ``(service, read operation)`` -> the error codes that mean "not configured" (the state
#: is None). Any other failure of a read is an error naming the resource.
ABSENT_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("s3", "get_public_access_block"): frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    ("s3control", "get_public_access_block"): frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    ("s3", "get_bucket_metrics_configuration"): frozenset({"NoSuchConfiguration"}),
    ("s3", "get_bucket_policy"): frozenset({"NoSuchBucketPolicy"}),
    ("sns", "get_topic_attributes"): frozenset({"NotFound", "NotFoundException"}),
}

#: The settings of an alarm that ``put_metric_alarm`` takes back (the rest is state).
ALARM_KEYS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
    "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm",
    "Threshold", "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
)


def call(session: Any, api: ApiCall, what: str = "") -> dict[str, Any] | None:
    """Make ``api``; None when AWS answers with a "not configured" code of that read.

    Raises:
        ActionError: any other failure, naming the call and ``what`` it was about.
    """
    method = getattr(client(api.service, session, region_name=api.region), api.operation)
    response = read_or_absent(
        f"{api.describe()} for", what or api.service, lambda: method(**dict(api.params)), ABSENT_CODES.get((api.service, api.operation))
    )
    if response is not None:
        response.pop("ResponseMetadata", None)
    return response


def holds(actual: Any, wanted: Any) -> bool:
    """Every key of ``wanted`` has its value in ``actual`` (recursively; an empty value
    written may read back as missing)."""
    if isinstance(wanted, Mapping):
        if not isinstance(actual, Mapping):
            return False
        return all(holds(actual[k], v) if k in actual else v in (None, [], {}, "") for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(holds(a, w) for a, w in zip(actual, wanted))
    return bool(actual == wanted)


def _logging_holds(actual: Any, wanted: Any) -> bool:
    """As :func:`holds`; a log key format written but not read back is not a difference
    (endpoints that predate the setting, and emulators, accept it and drop it)."""
    on = (wanted or {}).get("LoggingEnabled")
    if on and "TargetObjectKeyFormat" in on and "TargetObjectKeyFormat" not in ((actual or {}).get("LoggingEnabled") or {}):
        wanted = {**wanted, "LoggingEnabled": {k: v for k, v in on.items() if k != "TargetObjectKeyFormat"}}
    return holds(actual, wanted)


def _setting(
    name: str,
    describe: Callable[[Mapping[str, Any]], str],
    read: Callable[[Mapping[str, Any], Any], Any],
    calls: Callable[[Mapping[str, Any], Any, Any], list[ApiCall]],
    check: Callable[[Any, Any], bool] = holds,
) -> ResourceKind:
    def write(target: Mapping[str, Any], state: Any, session: Any, token: Any = None) -> None:
        for api in calls(target, state, session):
            call(session, api, describe(target))

    return ResourceKind(name, describe, read, write, holds=check, calls=calls)


# -- reading: one read call per kind, and the state its answer holds ------------------------
# Each ``_<kind>_state(response, target)`` turns a read's answer (None: "not configured")
# into the kind's state; backups of older versions hold raw answers and are read with them.


def _logging_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, Any]:
    return {"LoggingEnabled": got["LoggingEnabled"]} if (got or {}).get("LoggingEnabled") else {}


def _pab_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, bool] | None:
    return None if not got else dict(got["PublicAccessBlockConfiguration"])


def _versioning_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, str]:
    # A bucket never versioned has no Status; S3 cannot return to that, and it keeps no
    # versions of new objects, like Suspended.
    return {"Status": (got or {}).get("Status") or "Suspended"}


def _metrics_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, Any] | None:
    # The configuration exists under the Id asked for (the read did not say NoSuchConfiguration).
    return None if got is None else {**(got.get("MetricsConfiguration") or {}), "Id": t["id"]}


def _trail_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, bool]:
    trails = (got or {}).get("trailList") or []
    if not trails:
        raise ActionError(f"{_trail_name(t)} does not exist (cloudtrail.describe_trails found nothing)")
    trail = trails[0]
    return {"IsMultiRegionTrail": bool(trail.get("IsMultiRegionTrail")), "LogFileValidationEnabled": bool(trail.get("LogFileValidationEnabled"))}


def _trail_logging_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, bool]:
    return {"IsLogging": bool((got or {}).get("IsLogging"))}


def _selectors_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, Any]:
    got = got or {}
    if got.get("AdvancedEventSelectors"):
        return {"AdvancedEventSelectors": got["AdvancedEventSelectors"]}
    return {"EventSelectors": got.get("EventSelectors") or []}


def _alarm_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, Any] | None:
    alarms = (got or {}).get("MetricAlarms") or []
    return {k: v for k, v in alarms[0].items() if k in ALARM_KEYS} if alarms else None


def _topic_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, str] | None:
    return None if got is None else {"TopicArn": t["arn"]}


def _detector_state(got: Mapping[str, Any] | None, t: Mapping[str, Any]) -> dict[str, str] | None:
    if not got or "DetectorId" not in got:
        return None
    features = {f.get("Name"): f.get("Status") for f in got.get("Features") or []}
    s3 = features.get("S3_DATA_EVENTS") or ((got.get("DataSources") or {}).get("S3Logs") or {}).get("Status") or "DISABLED"
    return {"DetectorId": got["DetectorId"], "Status": str(got.get("Status") or "DISABLED"), "S3_DATA_EVENTS": str(s3)}


def _trail_name(t: Mapping[str, Any]) -> str:
    return f"trail {t['name']}" + (f" ({t['region']})" if t.get("region") else "")


def _detector_name(t: Mapping[str, Any]) -> str:
    return f"GuardDuty in {t.get('region') or 'the default region'}"


def _reader(api: Callable[[Mapping[str, Any]], ApiCall], state: Callable[[Any, Mapping[str, Any]], Any], name: Callable[[Mapping[str, Any]], str]) -> Callable[[Mapping[str, Any], Any], Any]:
    def read(t: Mapping[str, Any], s: Any) -> Any:
        return state(call(s, api(t), name(t)), t)

    return read


def _read_detector(t: Mapping[str, Any], s: Any) -> dict[str, str] | None:
    ids = _detectors(t, s)
    if not ids:
        return None
    got = call(s, ApiCall("guardduty", "get_detector", {"DetectorId": ids[0]}, t.get("region")), _detector_name(t)) or {}
    return _detector_state({**got, "DetectorId": ids[0]}, t)


def _detectors(t: Mapping[str, Any], s: Any) -> list[str]:
    got = call(s, ApiCall("guardduty", "list_detectors", {}, t.get("region")), _detector_name(t)) or {}
    return list(got.get("DetectorIds") or [])


# -- writing: the calls that put a state -----------------------------------------------------


def _logging_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    status = {"LoggingEnabled": state["LoggingEnabled"]} if (state or {}).get("LoggingEnabled") else {}
    return [ApiCall("s3", "put_bucket_logging", {"Bucket": t["bucket"], "BucketLoggingStatus": status})]


def _account_pab_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    if state is None:
        return [ApiCall("s3control", "delete_public_access_block", {"AccountId": t["account_id"]})]
    return [ApiCall("s3control", "put_public_access_block", {"AccountId": t["account_id"], "PublicAccessBlockConfiguration": dict(state)})]


def _versioning_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    status = (state or {}).get("Status") or "Suspended"
    return [ApiCall("s3", "put_bucket_versioning", {"Bucket": t["bucket"], "VersioningConfiguration": {"Status": status}})]


def _metrics_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    ident = {"Bucket": t["bucket"], "Id": t["id"]}
    if state is None:
        return [ApiCall("s3", "delete_bucket_metrics_configuration", ident)]
    return [ApiCall("s3", "put_bucket_metrics_configuration", {**ident, "MetricsConfiguration": {**state, "Id": t["id"]}})]


def _trail_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    params = {"Name": t["name"], "IsMultiRegionTrail": bool(state["IsMultiRegionTrail"]), "EnableLogFileValidation": bool(state["LogFileValidationEnabled"])}
    return [ApiCall("cloudtrail", "update_trail", params, t.get("region"))]


def _trail_logging_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    operation = "start_logging" if (state or {}).get("IsLogging") else "stop_logging"
    return [ApiCall("cloudtrail", operation, {"Name": t["name"]}, t.get("region"))]


def _selectors_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    state = state or {}
    key = "AdvancedEventSelectors" if state.get("AdvancedEventSelectors") else "EventSelectors"
    return [ApiCall("cloudtrail", "put_event_selectors", {"TrailName": t["name"], key: state.get(key) or []}, t.get("region"))]


def _alarm_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    if state is None:
        return [ApiCall("cloudwatch", "delete_alarms", {"AlarmNames": [t["name"]]}, t.get("region"))]
    return [ApiCall("cloudwatch", "put_metric_alarm", {**{k: v for k, v in state.items() if k in ALARM_KEYS}, "AlarmName": t["name"]}, t.get("region"))]


def _topic_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    if state is None:
        return [ApiCall("sns", "delete_topic", {"TopicArn": t["arn"]})]
    return [ApiCall("sns", "create_topic", {"Name": t["name"]})]


def _detector_calls(t: Mapping[str, Any], state: Any, s: Any) -> list[ApiCall]:
    region = t.get("region")
    ids = _detectors(t, s)
    if state is None:
        return [ApiCall("guardduty", "delete_detector", {"DetectorId": d}, region) for d in ids]
    settings = {"Enable": state.get("Status") == "ENABLED", "Features": [{"Name": "S3_DATA_EVENTS", "Status": state.get("S3_DATA_EVENTS") or "DISABLED"}]}
    if not ids:
        return [ApiCall("guardduty", "create_detector", settings, region)]
    return [ApiCall("guardduty", "update_detector", {"DetectorId": ids[0], **settings}, region)]


def _bucket(t: Mapping[str, Any]) -> str:
    return f"bucket {t['bucket']}"


#: kind -> the state a read's answer holds (also how older backups' raw answers are read).
STATE_OF: dict[str, Callable[[Any, Mapping[str, Any]], Any]] = {
    "s3:bucket-logging": _logging_state,
    "s3:public-access-block": _pab_state,
    "s3control:public-access-block": _pab_state,
    "s3:bucket-versioning": _versioning_state,
    "s3:metrics-configuration": _metrics_state,
    "cloudtrail:trail": _trail_state,
    "cloudtrail:trail-logging": _trail_logging_state,
    "cloudtrail:event-selectors": _selectors_state,
    "cloudwatch:alarm": _alarm_state,
    "sns:topic": _topic_state,
    "guardduty:detector": _detector_state,
}


def _trail_api(operation: str, key: str) -> Callable[[Mapping[str, Any]], ApiCall]:
    return lambda t: ApiCall("cloudtrail", operation, {key: [t["name"]] if key == "trailNameList" else t["name"]}, t.get("region"))


#: Every setting a check fix may change (explicit registry; actions add their own kinds).
SETTING_KINDS: tuple[ResourceKind, ...] = (
    _setting(
        "s3:bucket-logging", lambda t: f"server access logging of bucket {t['bucket']}",
        _reader(lambda t: ApiCall("s3", "get_bucket_logging", {"Bucket": t["bucket"]}), _logging_state, _bucket), _logging_calls, _logging_holds,
    ),
    _setting(
        "s3control:public-access-block", lambda t: f"Block Public Access of account {t['account_id']}",
        _reader(lambda t: ApiCall("s3control", "get_public_access_block", {"AccountId": t["account_id"]}), _pab_state, lambda t: f"account {t['account_id']}"),
        _account_pab_calls,
    ),
    _setting(
        "s3:bucket-versioning", lambda t: f"versioning of bucket {t['bucket']}",
        _reader(lambda t: ApiCall("s3", "get_bucket_versioning", {"Bucket": t["bucket"]}), _versioning_state, _bucket), _versioning_calls,
    ),
    _setting(
        "s3:metrics-configuration", lambda t: f"request metrics {t['id']} of bucket {t['bucket']}",
        _reader(lambda t: ApiCall("s3", "get_bucket_metrics_configuration", {"Bucket": t["bucket"], "Id": t["id"]}), _metrics_state, _bucket),
        _metrics_calls,
    ),
    _setting("cloudtrail:trail", lambda t: f"settings of {_trail_name(t)}", _reader(_trail_api("describe_trails", "trailNameList"), _trail_state, _trail_name), _trail_calls),
    _setting(
        "cloudtrail:trail-logging", lambda t: f"logging of {_trail_name(t)}", _reader(_trail_api("get_trail_status", "Name"), _trail_logging_state, _trail_name),
        _trail_logging_calls,
    ),
    _setting(
        "cloudtrail:event-selectors", lambda t: f"event selectors of {_trail_name(t)}",
        _reader(_trail_api("get_event_selectors", "TrailName"), _selectors_state, _trail_name), _selectors_calls,
    ),
    _setting(
        "cloudwatch:alarm", lambda t: f"CloudWatch alarm {t['name']}",
        _reader(lambda t: ApiCall("cloudwatch", "describe_alarms", {"AlarmNames": [t["name"]]}, t.get("region")), _alarm_state, lambda t: f"alarm {t['name']}"),
        _alarm_calls,
    ),
    _setting(
        "sns:topic", lambda t: f"SNS topic {t['arn']}",
        _reader(lambda t: ApiCall("sns", "get_topic_attributes", {"TopicArn": t["arn"]}), _topic_state, lambda t: f"SNS topic {t['arn']}"), _topic_calls,
    ),
    _setting("guardduty:detector", _detector_name, _read_detector, _detector_calls),
)
