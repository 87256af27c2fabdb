"""The Athena engine against the sandbox's moto Athena (results seeded through moto's API)."""

from __future__ import annotations

import json
import urllib.request

import pandas as pd
import pytest

from s3forensics.config import Settings
from s3forensics.engines.athena import MIN_BILLED_BYTES, AthenaEngine, BytesScannedLimitError, cost_estimate
from s3forensics.errors import ConfigError, ParameterError

pytestmark = pytest.mark.sandbox

START = "2026-11-16T00:00:00Z"
END = "2026-11-23T00:00:00Z"


def _seed(endpoint: str, header: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Queue one Athena result in moto, shaped as Athena returns it (header row first)."""
    def row(values: list[str | None]) -> dict:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    body = {
        "account_id": "111122223333",
        "region": "us-east-1",
        "results": [
            {
                "rows": [row([name for name, _ in header]), *[row(r) for r in rows]],
                "column_info": [
                    {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name, "Type": type_, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}
                    for name, type_ in header
                ],
            }
        ],
    }
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 201


@pytest.fixture()
def athena(sandbox: object) -> AthenaEngine:
    settings = Settings(athena_database="s3forensics", athena_output="s3://s3f-demo-logs/athena-results/")
    engine = AthenaEngine(settings, poll_interval=0.01)
    yield engine
    engine.close()


def test_athena_run_returns_typed_frame_and_stats(sandbox: object, athena: AthenaEngine) -> None:
    _seed(
        sandbox.endpoint,
        [("remote_ip", "varchar"), ("requests", "bigint"), ("bytes_sent", "bigint"), ("first_seen", "timestamp")],
        [["203.0.113.7", "1200", "5000", "2026-11-16 01:00:00.000"], ["198.51.100.4", "3", None, "2026-11-17 02:00:00.000"]],
    )
    frame = athena.run("s3_access__top_remote_ips", start=START, end=END, top=5)
    assert list(frame.columns) == ["remote_ip", "requests", "bytes_sent", "first_seen"]
    assert frame["remote_ip"].tolist() == ["203.0.113.7", "198.51.100.4"]
    assert frame["requests"].tolist() == [1200, 3]
    assert pd.isna(frame["bytes_sent"].iloc[1])
    assert frame["first_seen"].iloc[0] == pd.Timestamp("2026-11-16 01:00:00")
    stats = athena.last_stats
    assert stats is not None and stats.engine == "athena" and stats.query_id == "s3_access__top_remote_ips"
    assert stats.bytes_scanned == 0 and stats.cost_usd == 0.0
    assert stats.execution_id and stats.rows == 2 and stats.seconds > 0
    # The SQL that ran is the Athena rendering, with the partition predicate and bound literals.
    assert "\"date\" BETWEEN '2026/11/16' AND '2026/11/22'" in stats.sql
    assert "LIMIT 5" in stats.sql


def test_athena_execution_recorded_in_sandbox(sandbox: object, athena: AthenaEngine) -> None:
    import boto3

    _seed(sandbox.endpoint, [("n", "bigint")], [["1"]])
    athena.run("s3_access__presigned_url_access", start=START, end=END)
    client = boto3.client("athena", region_name="us-east-1")
    execution = client.get_query_execution(QueryExecutionId=athena.last_stats.execution_id)["QueryExecution"]
    assert execution["WorkGroup"] == "primary"
    assert execution["QueryExecutionContext"]["Database"] == "s3forensics"
    assert "authentication_type = 'QueryString'" in execution["Query"]
    assert execution["ResultConfiguration"]["OutputLocation"].startswith("s3://s3f-demo-logs/athena-results/")


def test_athena_bad_parameters_fail_before_running(sandbox: object, athena: AthenaEngine) -> None:
    with pytest.raises(ParameterError, match="ends before it starts"):
        athena.run("s3_access__top_remote_ips", start=END, end=START)
    assert athena.last_stats is None


def test_athena_bytes_ceiling_checked_after_run(sandbox: object, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = AthenaEngine(Settings(athena_output="s3://s3f-demo-logs/athena-results/"), poll_interval=0.01, max_bytes_scanned=1000)
    from pyathena.cursor import Cursor

    monkeypatch.setattr(Cursor, "data_scanned_in_bytes", property(lambda self: 5000))
    _seed(sandbox.endpoint, [("n", "bigint")], [["1"]])
    with pytest.raises(BytesScannedLimitError, match="5000 bytes, above the limit of 1000"):
        engine.run("s3_access__presigned_url_access", start=START, end=END)


def test_cost_estimate() -> None:
    assert cost_estimate(None) is None
    assert cost_estimate(0) == 0.0
    assert cost_estimate(1) == pytest.approx(MIN_BILLED_BYTES / 2**40 * 5.0)
    assert cost_estimate(2**40) == pytest.approx(5.0)


def test_athena_config_errors() -> None:
    with pytest.raises(ConfigError, match="must start with s3://"):
        AthenaEngine(Settings(), output_location="/tmp/results")
    with pytest.raises(ConfigError, match="database"):
        AthenaEngine(Settings(), database="bad-name; DROP")
    with pytest.raises(ConfigError, match="unload"):
        AthenaEngine(Settings(athena_output=None), unload=True)
