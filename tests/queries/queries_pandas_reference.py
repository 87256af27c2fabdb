"""Each investigation query answered again in plain pandas, independently of the SQL.

Used by the parity tests (DuckDB answer == pandas answer) and by ``bench/``. Each function
takes the canonical ``s3_access`` and ``cloudtrail`` DataFrames and the query's parameter
values (already typed, defaults filled in) and returns the rows the query must return,
in its order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

Frame = pd.DataFrame
Reference = Callable[[Frame, Frame, Mapping[str, Any]], Frame]


def _window(df: Frame, column: str, p: Mapping[str, Any]) -> Frame:
    t = df[column]
    return df[(t >= pd.Timestamp(p["start"])) & (t < pd.Timestamp(p["end"]))]


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


def _sort(df: Frame, by: list[str], ascending: list[bool], nulls_first: tuple[str, ...] = ()) -> Frame:
    """Sort like SQL: NULLS LAST by default, NULLS FIRST for ``nulls_first`` columns."""
    keys = []
    for col in by:
        is_null = df[col].isna()
        keys.append((f"__null_{col}", (~is_null if col in nulls_first else is_null).astype(int)))
    tmp = df.assign(**dict(keys))
    order: list[str] = []
    asc: list[bool] = []
    for (null_key, _), col, a in zip(keys, by, ascending):
        order += [null_key, col]
        asc += [True, a]
    return tmp.sort_values(order, ascending=asc, kind="stable").drop(columns=[k for k, _ in keys]).reset_index(drop=True)


def requests_over_time(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    freq = {"minute": "min", "hour": "h", "day": "D"}[p["interval"]]
    d = d.assign(period=d["time"].dt.floor(freq), b=_num(d["bytes_sent"]).fillna(0))
    out = (
        d.groupby(["period", "bucket", "http_status"], dropna=False)
        .agg(requests=("b", "size"), bytes_sent=("b", "sum"))
        .reset_index()
    )
    return _sort(out, ["period", "bucket", "http_status"], [True, True, True])


def _actor_stats(d: Frame, keys: list[str]) -> Frame:
    d = d.assign(err=_num(d["http_status"]) >= 400, b=_num(d["bytes_sent"]).fillna(0))
    return d.groupby(keys, dropna=False).agg(
        requests=("time", "size"),
        buckets=("bucket", "nunique"),
        errors=("err", "sum"),
        bytes_sent=("b", "sum"),
        first_seen=("time", "min"),
        last_seen=("time", "max"),
    )


def top_remote_ips(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    out = _actor_stats(d, ["remote_ip"])
    out["requesters"] = d.groupby("remote_ip", dropna=False)["requester"].nunique()
    out = out.reset_index()[["remote_ip", "requests", "buckets", "requesters", "errors", "bytes_sent", "first_seen", "last_seen"]]
    out = out[out["requests"] >= p["min_requests"]]
    return _sort(out, ["requests", "remote_ip"], [False, True]).head(p["top"])


def top_requesters(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    out = _actor_stats(d, ["requester"])
    out["remote_ips"] = d.groupby("requester", dropna=False)["remote_ip"].nunique()
    out = out.reset_index()[["requester", "requests", "remote_ips", "buckets", "errors", "bytes_sent", "first_seen", "last_seen"]]
    return _sort(out, ["requests", "requester"], [False, True], nulls_first=("requester",)).head(p["top"])


def error_rates(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d.assign(hour=d["time"].dt.floor("h"), err=_num(d["http_status"]) >= 400, denied=d["error_code"] == "AccessDenied")
    out = d.groupby(["hour", "bucket"]).agg(requests=("err", "size"), errors=("err", "sum"), access_denied=("denied", "sum")).reset_index()
    out["error_rate"] = out["errors"] / out["requests"]
    out["access_denied_rate"] = out["access_denied"] / out["requests"]
    out = out[out["requests"] >= p["min_requests"]]
    return _sort(out, ["hour", "bucket"], [True, True])


def egress_by_actor(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d.assign(b=_num(d["bytes_sent"]).fillna(0))
    out = (
        d.groupby(["remote_ip", "requester"], dropna=False)
        .agg(
            bytes_sent=("b", "sum"),
            requests=("b", "size"),
            objects=("key", "nunique"),
            buckets=("bucket", "nunique"),
            first_seen=("time", "min"),
            last_seen=("time", "max"),
        )
        .reset_index()
    )
    out = out[out["bytes_sent"] >= p["min_bytes"]]
    return _sort(out, ["bytes_sent", "remote_ip", "requester"], [False, True, True], nulls_first=("requester",)).head(p["top"])


def objects_read_by_actor(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d[((d["requester"] == p["actor"]) | (d["remote_ip"] == p["actor"])).fillna(False) & d["operation"].isin(list(p["operations"]))]
    status = _num(d["http_status"])
    d = d.assign(ok=(status >= 200) & (status <= 299), b=_num(d["bytes_sent"]).fillna(0))
    out = (
        d.groupby(["bucket", "key"], dropna=False)
        .agg(requests=("b", "size"), successful=("ok", "sum"), bytes_sent=("b", "sum"), first_read=("time", "min"), last_read=("time", "max"))
        .reset_index()
    )
    return _sort(out, ["bytes_sent", "bucket", "key"], [False, True, True])


_DELETES = ("REST.DELETE.OBJECT", "BATCH.DELETE.OBJECT", "REST.POST.MULTI_OBJECT_DELETE", "REST.DELETE.UPLOAD")
_READS = ("REST.GET.OBJECT", "WEBSITE.GET.OBJECT", "REST.HEAD.OBJECT", "WEBSITE.HEAD.OBJECT", "REST.COPY.OBJECT_GET", "REST.GET.OBJECT_TAGGING", "REST.GET.ACL")
_WRITES = ("REST.PUT.OBJECT", "REST.POST.UPLOAD", "REST.PUT.PART", "REST.POST.UPLOADS", "REST.COPY.OBJECT", "REST.COPY.PART", "REST.PUT.OBJECT_TAGGING", "REST.PUT.ACL", "REST.POST.OBJECT")
_LISTS = ("REST.GET.BUCKET", "REST.GET.BUCKETVERSIONS", "REST.GET.UPLOADS", "REST.HEAD.BUCKET")


def _matches(principal: pd.Series, address: pd.Series, actor: str) -> pd.Series:
    return ((principal == actor) | (address == actor) | principal.str.startswith(actor + "/")).fillna(False).astype(bool)


def actor_activity(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d[_matches(d["requester"], d["remote_ip"], p["actor"])]
    op = d["operation"]
    configure = op.str.startswith("REST.PUT.") | op.str.startswith("REST.POST.") | op.str.startswith("REST.DELETE.")
    action = np.select([op.isin(_DELETES), op.isin(_READS), op.isin(_WRITES), op.isin(_LISTS), configure.fillna(False)], ["delete", "read", "write", "list", "configure"], "other")
    status = _num(d["http_status"])
    outcome = np.select([status < 400, status == 403, status == 404], ["ok", "denied", "not found"], "error")
    d = d.assign(action=action, outcome=outcome, b=_num(d["bytes_sent"]).fillna(0))
    out = (
        d.groupby(["bucket", "action", "outcome"], dropna=False)
        .agg(requests=("b", "size"), objects=("key", "nunique"), bytes_sent=("b", "sum"), first_seen=("time", "min"), last_seen=("time", "max"),
             operations=("operation", lambda ops: ", ".join(sorted(set(ops.dropna())))))
        .reset_index()
    )
    return _sort(out, ["bucket", "action", "outcome"], [True, True, True])


def actor_events(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(ct, "event_time", p)
    d = d[_matches(d["user_identity_arn"], d["source_ip_address"], p["actor"])]
    d = d.assign(
        bucket=d["bucket_name"].fillna("-"),
        is_change=~d["read_only"].fillna(False).astype(bool),
        outcome=d["error_code"].replace("", None).fillna("ok"),
    )
    out = (
        d.groupby(["event_name", "bucket", "is_change", "outcome"], dropna=False)
        .agg(events=("event_time", "size"), first_seen=("event_time", "min"), last_seen=("event_time", "max"))
        .reset_index()
    )
    return _sort(out, ["is_change", "first_seen", "event_name", "bucket", "outcome"], [False, True, True, True, True])


def first_last_seen(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    if p["actor"]:
        d = d[((d["requester"] == p["actor"]) | (d["remote_ip"] == p["actor"])).fillna(False)]
    out = (
        d.groupby(["remote_ip", "requester"], dropna=False)
        .agg(
            first_seen=("time", "min"),
            last_seen=("time", "max"),
            requests=("time", "size"),
            buckets=("bucket", "nunique"),
            operations=("operation", "nunique"),
        )
        .reset_index()
    )
    return _sort(out, ["first_seen", "remote_ip", "requester"], [True, True, True], nulls_first=("requester",))


def anonymous_requests(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d[d["requester"].isna()]
    if p["buckets"]:
        d = d[d["bucket"].isin(list(p["buckets"]))]
    d = d.assign(b=_num(d["bytes_sent"]).fillna(0))
    out = (
        d.groupby(["bucket", "remote_ip", "operation", "http_status"], dropna=False)
        .agg(requests=("b", "size"), bytes_sent=("b", "sum"), first_seen=("time", "min"), last_seen=("time", "max"))
        .reset_index()
    )
    return _sort(out, ["requests", "bucket", "remote_ip", "operation", "http_status"], [False, True, True, True, True])


def operations_by_user_agent(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d.assign(err=_num(d["http_status"]) >= 400)
    out = (
        d.groupby(["user_agent", "operation"], dropna=False)
        .agg(requests=("err", "size"), remote_ips=("remote_ip", "nunique"), errors=("err", "sum"))
        .reset_index()
    )
    return _sort(out, ["requests", "user_agent", "operation"], [False, True, True], nulls_first=("user_agent",)).head(p["top"])


def presigned_url_access(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d[d["authentication_type"] == "QueryString"]
    d = d.assign(err=_num(d["http_status"]) >= 400, b=_num(d["bytes_sent"]).fillna(0))
    out = (
        d.groupby(["bucket", "key", "remote_ip", "requester"], dropna=False)
        .agg(requests=("b", "size"), errors=("err", "sum"), bytes_sent=("b", "sum"), first_seen=("time", "min"), last_seen=("time", "max"))
        .reset_index()
    )
    return _sort(out, ["first_seen", "bucket", "key", "remote_ip", "requester"], [True] * 5, nulls_first=("requester",))


def bucket_config_changes(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(ct, "event_time", p)
    d = d[(d["event_source"] == "s3.amazonaws.com") & d["event_name"].isin(list(p["event_names"]))]
    cols = ["event_time", "bucket_name", "event_name", "user_identity_arn", "source_ip_address", "user_agent", "error_code", "request_parameters", "event_id"]
    return _sort(d[cols], ["event_time", "event_id"], [True, True])


def access_keys_by_source(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(ct, "event_time", p)
    d = d[d["user_identity_access_key_id"].notna()]
    keys = ["source_ip_address", "user_identity_type", "user_identity_arn", "user_identity_user_name", "user_identity_access_key_id"]
    out = d.groupby(keys, dropna=False).agg(events=("event_time", "size"), first_seen=("event_time", "min"), last_seen=("event_time", "max")).reset_index()
    return _sort(out, ["first_seen", "source_ip_address", "user_identity_access_key_id"], [True, True, True])


def access_log_vs_cloudtrail(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    a = _window(s3, "time", p)
    a = a.assign(hour=a["time"].dt.floor("h")).groupby(["hour", "bucket"]).size().rename("access_log_requests")
    c = _window(ct, "event_time", p)
    c = c[(c["event_source"] == "s3.amazonaws.com") & (c["event_category"] == "Data") & c["bucket_name"].notna()]
    c = c.assign(hour=c["event_time"].dt.floor("h"), bucket=c["bucket_name"]).groupby(["hour", "bucket"]).size().rename("cloudtrail_data_events")
    out = pd.concat([a, c], axis=1).fillna(0).astype(np.int64).reset_index()
    return _sort(out, ["hour", "bucket"], [True, True])


def window_rows(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    rows = []
    for source, frame, column in (("s3_access", s3, "time"), ("cloudtrail", ct, "event_time")):
        times = _window(frame, column, p)[column]
        rows.append({"source": source, "row_count": len(times), "first_time": times.min() if len(times) else None,
                     "last_time": times.max() if len(times) else None})
    return pd.DataFrame(rows)


def bucket_sources(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    a = _window(s3, "time", p)
    a = a.groupby("bucket")["time"].agg(["size", "min", "max"]).reset_index().assign(source="s3_access", management_events=0, data_read_events=0, data_write_events=0)
    c = _window(ct, "event_time", p)
    c = c[(c["event_source"] == "s3.amazonaws.com") & c["bucket_name"].notna()]
    management = c["management_event"].fillna(False).astype(bool)
    c = c.assign(
        m=(c["management_event"] == True).astype(int),  # noqa: E712 (NULL counts as no)
        r=(~management & (c["read_only"] == True)).astype(int),  # noqa: E712
        w=(~management & ~c["read_only"].fillna(True).astype(bool)).astype(int),
    )
    c = c.groupby("bucket_name").agg(size=("event_time", "size"), min=("event_time", "min"), max=("event_time", "max"),
                                     management_events=("m", "sum"), data_read_events=("r", "sum"), data_write_events=("w", "sum"))
    c = c.reset_index().rename(columns={"bucket_name": "bucket"}).assign(source="cloudtrail")
    out = pd.concat([a, c], ignore_index=True).rename(columns={"size": "row_count", "min": "first_time", "max": "last_time"})
    out = out[["bucket", "source", "row_count", "first_time", "last_time", "management_events", "data_read_events", "data_write_events"]]
    return _sort(out, ["bucket", "source"], [True, False])


_GETS = ("REST.GET.OBJECT", "WEBSITE.GET.OBJECT")
_UPLOADS = ("REST.PUT.OBJECT", "REST.PUT.PART", "REST.POST.UPLOAD")


def request_metrics(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d[~d["operation"].str.startswith("BATCH.", na=False) & ~d["operation"].str.startswith("S3.", na=False)]
    seconds = p["period_seconds"]
    epoch = (d["time"] - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)
    op, status = d["operation"], _num(d["http_status"])
    d = d.assign(
        period=pd.to_datetime((epoch // seconds) * seconds, unit="s", utc=True),
        get=op.isin(_GETS),
        put=op.isin(("REST.PUT.OBJECT", "REST.POST.UPLOAD", "REST.PUT.PART", "REST.COPY.OBJECT")),
        delete=op.isin(("REST.DELETE.OBJECT", "REST.POST.MULTI_OBJECT_DELETE")),
        head=op.isin(("REST.HEAD.OBJECT", "WEBSITE.HEAD.OBJECT")),
        list=op.isin(("REST.GET.BUCKET", "REST.GET.BUCKETVERSIONS")),
        e4=(status >= 400) & (status < 500),
        e5=status >= 500,
        down=np.where(op.isin(_GETS), _num(d["bytes_sent"]).fillna(0), 0),
        up=np.where(op.isin(_UPLOADS), _num(d["object_size"]).fillna(0), 0),
    )
    out = d.groupby(["bucket", "period"], dropna=False).agg(
        all_requests=("get", "size"), get_requests=("get", "sum"), put_requests=("put", "sum"),
        delete_requests=("delete", "sum"), head_requests=("head", "sum"), list_requests=("list", "sum"),
        errors_4xx=("e4", "sum"), errors_5xx=("e5", "sum"), bytes_downloaded=("down", "sum"), bytes_uploaded=("up", "sum"),
    ).reset_index()
    return _sort(out, ["bucket", "period"], [True, True])


#: query id -> pandas reference.
def s3_profile_evidence(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(s3, "time", p)
    d = d[d["bucket"].notna()]
    status = _num(d["http_status"])
    ok = status < 400
    anon_ok = d["requester"].isna() & ok
    requester = d["requester"].fillna("")
    cloudfront = (requester == "svc:cloudfront.amazonaws.com") | requester.str.contains("CloudFront Origin Access Identity", regex=False)
    d = d.assign(
        _ok=ok.astype(int), _web=d["operation"].fillna("").str.startswith("WEBSITE.").astype(int), _anon=anon_ok.astype(int),
        _anon_ip=d["remote_ip"].where(anon_ok), _anon_day=pd.to_datetime(d["time"], utc=True).dt.floor("D").where(anon_ok),
        _cf=cloudfront.astype(int),
    )
    out = d.groupby("bucket").agg(
        requests=("bucket", "size"), successes=("_ok", "sum"), website_requests=("_web", "sum"), anonymous_successes=("_anon", "sum"),
        anonymous_addresses=("_anon_ip", "nunique"), anonymous_days=("_anon_day", "nunique"), cloudfront_requests=("_cf", "sum"),
    ).reset_index()
    return _sort(out, ["bucket"], [True]).reset_index(drop=True)


def ct_profile_evidence(s3: Frame, ct: Frame, p: Mapping[str, Any]) -> Frame:
    d = _window(ct, "event_time", p)
    d = d[(d["event_source"] == "s3.amazonaws.com") & d["bucket_name"].notna()]
    ok = d["error_code"].fillna("") == ""
    anon = d["event_name"].isin(["GetObject", "HeadObject"]) & (d["user_identity_account_id"] == "ANONYMOUS_PRINCIPAL") & ok
    params = d["request_parameters"].fillna("")
    names_cloudfront = params.str.contains("cloudfront.amazonaws.com", regex=False) | params.str.contains("CloudFront Origin Access Identity", regex=False)
    d = d.assign(
        _anon=anon.astype(int), _anon_ip=d["source_ip_address"].where(anon),
        _anon_day=pd.to_datetime(d["event_time"], utc=True).dt.floor("D").where(anon),
        _web=((d["event_name"] == "PutBucketWebsite") & ok).astype(int),
        _cf=((d["event_name"] == "PutBucketPolicy") & ok & names_cloudfront).astype(int),
    )
    out = d.groupby("bucket_name").agg(
        anonymous_reads=("_anon", "sum"), anonymous_addresses=("_anon_ip", "nunique"), anonymous_days=("_anon_day", "nunique"),
        website_puts=("_web", "sum"), cloudfront_policies=("_cf", "sum"),
    ).reset_index().rename(columns={"bucket_name": "bucket"})
    return _sort(out, ["bucket"], [True]).reset_index(drop=True)


REFERENCES: dict[str, Reference] = {
    "s3_access__bucket_profile_evidence": s3_profile_evidence,
    "cloudtrail__bucket_profile_evidence": ct_profile_evidence,
    "s3_access__requests_over_time": requests_over_time,
    "s3_access__top_remote_ips": top_remote_ips,
    "s3_access__top_requesters": top_requesters,
    "s3_access__error_rates": error_rates,
    "s3_access__egress_by_actor": egress_by_actor,
    "s3_access__objects_read_by_actor": objects_read_by_actor,
    "s3_access__first_last_seen": first_last_seen,
    "s3_access__anonymous_requests": anonymous_requests,
    "s3_access__operations_by_user_agent": operations_by_user_agent,
    "s3_access__presigned_url_access": presigned_url_access,
    "cloudtrail__bucket_config_changes": bucket_config_changes,
    "cloudtrail__access_keys_by_source": access_keys_by_source,
    "coverage__access_log_vs_cloudtrail": access_log_vs_cloudtrail,
    "coverage__window_rows": window_rows,
    "coverage__bucket_sources": bucket_sources,
    "s3_access__actor_activity": actor_activity,
    "cloudtrail__actor_events": actor_events,
    "s3_access__request_metrics": request_metrics,
}


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        return (ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")).as_unit("us")
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return int(f) if f.is_integer() and abs(f) < 2**53 else round(f, 9)
    return value


def records(frame: Frame) -> list[tuple[Any, ...]]:
    """Rows as tuples of plain Python values (None for any missing value), for equality."""
    return [tuple(_cell(v) for v in row) for row in frame.itertuples(index=False, name=None)]
