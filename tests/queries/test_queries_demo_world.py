"""Every investigation query on the demo world: DuckDB == pandas, and the incidents show."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from queries_pandas_reference import REFERENCES, records

from s3forensics import queries as q
from s3forensics.engines.duckdb_engine import DuckDBEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(demo_world: Path) -> dict:
    from s3forensics.sources import load_cloudtrail, load_s3_access

    access = load_s3_access([demo_world / "s3f-demo-logs"])
    trail = load_cloudtrail([demo_world / "s3f-demo-cloudtrail"])
    assert access.report.rejected == 0 and trail.report.rejected == 0
    truth = json.loads((demo_world / "ground_truth.json").read_text())
    engine = DuckDBEngine(cache_dir=demo_world / "no-cache", frames={"s3_access": access.frame, "cloudtrail": trail.frame})
    yield {
        "s3": access.frame,
        "ct": trail.frame,
        "truth": truth,
        "scenarios": {s["id"]: s for s in truth["scenarios"]},
        "engine": engine,
        "window": {"start": truth["start"], "end": truth["end"]},
    }
    engine.close()


def _params(world: dict, query_id: str) -> dict:
    exfil = world["scenarios"]["role_exfiltration"]
    extra = {
        "s3_access__objects_read_by_actor": {"actor": exfil["source_ips"][0]},
        "s3_access__actor_activity": {"actor": exfil["source_ips"][0]},
        "cloudtrail__actor_events": {"actor": exfil["principals"][0].rsplit("/", 1)[0]},
    }
    return {**world["window"], **extra.get(query_id, {})}


@pytest.mark.parametrize("query_id", sorted(REFERENCES))
def test_demo_world_duckdb_equals_pandas(world: dict, query_id: str) -> None:
    params = _params(world, query_id)
    got = world["engine"].run(query_id, **params)
    want = REFERENCES[query_id](world["s3"], world["ct"], q.bind_values(q.load_query(query_id), params))
    assert list(got.columns) == list(want.columns)
    assert records(got) == records(want)


def test_demo_world_top_ip_is_the_get_flood(world: dict) -> None:
    top = world["engine"].run("s3_access__top_remote_ips", **world["window"], top=1)
    flood = world["scenarios"]["get_flood"]
    assert top["remote_ip"].tolist() == flood["source_ips"]
    # An incident's addresses appear only in that incident (ground truth), so the count is exact.
    assert top["requests"].iloc[0] == flood["requests"]


def test_demo_world_largest_egress_is_the_exfiltration(world: dict) -> None:
    exfil = world["scenarios"]["role_exfiltration"]
    top = world["engine"].run("s3_access__egress_by_actor", **world["window"], top=1)
    assert top["remote_ip"].iloc[0] == exfil["source_ips"][0]
    assert top["requester"].iloc[0] in exfil["principals"]
    objects = world["engine"].run("s3_access__objects_read_by_actor", **world["window"], actor=exfil["source_ips"][0])
    assert set(exfil["objects"]) <= set(objects["key"])
    assert set(objects["bucket"]) == {exfil["bucket"]}
    seen = world["engine"].run("s3_access__first_last_seen", **world["window"], actor=exfil["source_ips"][0])
    assert seen["first_seen"].min() >= pd.Timestamp(exfil["start"])
    assert seen["last_seen"].max() <= pd.Timestamp(exfil["end"])


def test_demo_world_scanner_is_anonymous_with_access_denied(world: dict) -> None:
    scanner = world["scenarios"]["secret_scanner"]
    anon = world["engine"].run("s3_access__anonymous_requests", **world["window"], buckets=[scanner["bucket"]])
    mine = anon[anon["remote_ip"] == scanner["source_ips"][0]]
    # Every request of the scanner is anonymous, so all of them are here.
    assert mine["requests"].sum() == scanner["requests"]
    assert {403, 404} <= set(mine["http_status"].dropna().astype(int))
    rates = world["engine"].run("s3_access__error_rates", **world["window"])
    hour = pd.Timestamp(scanner["start"]).floor("h")
    row = rates[(rates["hour"] == hour) & (rates["bucket"] == scanner["bucket"])]
    s3 = world["s3"]
    denied_by_scanner = int(((s3["remote_ip"] == scanner["source_ips"][0]) & (s3["time"].dt.floor("h") == hour) & (s3["error_code"] == "AccessDenied")).sum())
    # Others may be denied in that hour too: at least the scanner's own denials.
    assert row["access_denied"].iloc[0] >= denied_by_scanner > 0


def test_demo_world_config_changes_show_archive_made_public(world: dict) -> None:
    changes = world["engine"].run("cloudtrail__bucket_config_changes", **world["window"])
    archive = changes[changes["bucket_name"] == world["scenarios"]["archive_made_public"]["bucket"]]
    assert {"PutBucketPolicy", "PutBucketLogging"} <= set(archive["event_name"])
    assert set(archive["user_identity_arn"]) & set(world["scenarios"]["archive_made_public"]["principals"])


def test_the_drill_down_on_the_mass_delete_actor_shows_its_deletes(world: dict) -> None:
    """01's drill-down printed "0 objects read" for the mass-delete actor and hid its 800
    deletes: everything an actor did is its reads, writes, deletes, listings, denials and
    CloudTrail calls, with first and last seen."""
    from s3forensics.investigation import actor_summary

    wiper = world["scenarios"]["mass_delete"]
    role = wiper["principals"][0].rsplit("/", 1)[0]  # the role, every session of it
    activity = world["engine"].run("s3_access__actor_activity", **world["window"], actor=wiper["source_ips"][0])
    deletes = activity[(activity["action"] == "delete") & (activity["outcome"] == "ok")]
    assert int(deletes["objects"].sum()) == len(wiper["objects"])
    assert set(deletes["bucket"]) == {wiper["bucket"]}
    assert deletes["first_seen"].min() >= pd.Timestamp(wiper["start"]) and deletes["last_seen"].max() <= pd.Timestamp(wiper["end"])
    calls = world["engine"].run("cloudtrail__actor_events", **world["window"], actor=role)
    assert "DeleteObjects" in set(calls.loc[calls["is_change"], "event_name"])
    text = actor_summary(role, world["engine"].run("s3_access__actor_activity", **world["window"], actor=role), calls)
    assert f"on {len(wiper['objects']):,} object(s)" in text and "**delete**" in text and "DeleteObjects" in text
    assert actor_summary("", activity) == "### No actor to drill into (no findings, no FOCUS)"
