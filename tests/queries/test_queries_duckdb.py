"""Every investigation query on DuckDB equals the same answer computed in pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import queries_synthetic as synth
from queries_pandas_reference import REFERENCES, records

from s3forensics import queries as q
from s3forensics.engines import get_engine
from s3forensics.engines.duckdb_engine import DuckDBEngine
from s3forensics.errors import ParameterError, QueryError
from s3forensics.schema import CLOUDTRAIL_COLUMNS, S3_ACCESS_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
ANALYTICS = "arn:aws:sts::111122223333:assumed-role/analytics-export/session-1"
# A window that cuts the three synthetic days on both sides.
WINDOW = {"start": "2026-11-16T06:30:00Z", "end": "2026-11-18T12:00:00Z"}
#: Values for required parameters, and a few non-defaults, per query.
EXTRA: dict[str, dict] = {
    "s3_access__objects_read_by_actor": {"actor": ANALYTICS},
    # An assumed role by its role: every session of it.
    "s3_access__actor_activity": {"actor": ANALYTICS.rsplit("/", 1)[0]},
    "cloudtrail__actor_events": {"actor": ANALYTICS.rsplit("/", 1)[0]},
    "s3_access__first_last_seen": {},
    "s3_access__top_remote_ips": {"top": 7, "min_requests": 5},
}


@pytest.fixture(scope="module")
def tables() -> tuple[pa.Table, pa.Table]:
    return synth.s3_access(20_000, seed=11), synth.cloudtrail(3_000, seed=11)


@pytest.fixture(scope="module")
def engine(tables: tuple[pa.Table, pa.Table]) -> DuckDBEngine:
    s3, ct = tables
    eng = DuckDBEngine(cache_dir="/nonexistent", frames={"s3_access": s3.to_pandas(), "cloudtrail": ct})
    yield eng
    eng.close()


def _check_parity(engine: DuckDBEngine, s3: pd.DataFrame, ct: pd.DataFrame, query_id: str, params: dict) -> pd.DataFrame:
    query = q.load_query(query_id)
    got = engine.run(query_id, **params)
    want = REFERENCES[query_id](s3, ct, q.bind_values(query, params))
    assert list(got.columns) == list(want.columns)
    assert records(got) == records(want)
    return got


@pytest.mark.parametrize("query_id", sorted(REFERENCES))
def test_duckdb_matches_pandas_on_synthetic_frames(engine: DuckDBEngine, tables: tuple[pa.Table, pa.Table], query_id: str) -> None:
    s3, ct = (t.to_pandas() for t in tables)
    got = _check_parity(engine, s3, ct, query_id, {**WINDOW, **EXTRA.get(query_id, {})})
    assert len(got) > 0, f"{query_id} returned nothing on synthetic data: the test would prove little"


def test_every_investigation_query_has_a_pandas_reference() -> None:
    ids = {query.id for query in q.list_queries() if not query.id.startswith("detect__")}
    assert ids == set(REFERENCES)


def test_window_edges_start_inclusive_end_exclusive(engine: DuckDBEngine) -> None:
    frame = pd.DataFrame(
        {c: [None, None, None] for c in S3_ACCESS_COLUMNS}
    ).assign(
        time=pd.to_datetime(["2026-11-16T00:00:00Z", "2026-11-16T00:59:59.999999Z", "2026-11-16T01:00:00Z"], utc=True, format="ISO8601"),
        bucket="s3f-demo-site",
        remote_ip=["192.0.2.1", "192.0.2.1", "192.0.2.2"],
        http_status=[200, 403, 200],
        bytes_sent=[10, None, 5],
    )
    eng = DuckDBEngine(cache_dir="/nonexistent", frames={"s3_access": frame})
    got = eng.run("s3_access__top_remote_ips", start="2026-11-16T00:00:00Z", end="2026-11-16T01:00:00Z")
    assert got[["remote_ip", "requests", "errors", "bytes_sent"]].values.tolist() == [["192.0.2.1", 2, 1, 10]]
    # A time given with another offset means the same instant.
    got = eng.run("s3_access__top_remote_ips", start="2026-11-16T01:00:00+01:00", end="2026-11-16T03:00:00+02:00")
    assert got["remote_ip"].tolist() == ["192.0.2.1"]
    assert str(got["first_seen"].dt.tz) == "UTC"


def test_hostile_parameter_matches_nothing_and_stays_one_literal(engine: DuckDBEngine) -> None:
    hostile = "x' OR 1=1 --"
    got = engine.run("s3_access__objects_read_by_actor", **WINDOW, actor=hostile)
    assert got.empty
    assert engine.last_stats.sql.count("'x'' OR 1=1 --'") == 2


def test_parquet_cache_gives_the_same_answers(tmp_path: Path, tables: tuple[pa.Table, pa.Table]) -> None:
    s3, ct = tables
    assert synth.write_cache(s3, tmp_path, "s3_access", "time", rows_per_file=4000) > 3
    synth.write_cache(ct, tmp_path, "cloudtrail", "event_time")
    database = tmp_path / "db" / "s3f.duckdb"
    eng = DuckDBEngine(cache_dir=tmp_path, database=database)
    s3p, ctp = s3.to_pandas(), ct.to_pandas()
    for query_id in ("s3_access__requests_over_time", "coverage__access_log_vs_cloudtrail", "s3_access__egress_by_actor"):
        _check_parity(eng, s3p, ctp, query_id, {**WINDOW, **EXTRA.get(query_id, {})})
    # The hive folder's date never leaks into the logical table.
    assert list(eng.sql("SELECT * FROM s3_access LIMIT 1").columns) == list(S3_ACCESS_COLUMNS)
    eng.close()
    # The views persist in the database file, over the same Parquet files.
    again = DuckDBEngine(cache_dir=tmp_path, database=database)
    assert list(again.sql("SELECT * FROM cloudtrail LIMIT 0").columns) == list(CLOUDTRAIL_COLUMNS)
    again.close()
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("SELECT count(*) FROM s3_access").fetchone()[0] == s3.num_rows
    con.close()


def test_empty_cache_exposes_empty_canonical_tables(tmp_path: Path) -> None:
    eng = get_engine("duckdb", cache_dir=tmp_path)
    for query in q.list_queries():
        if query.id.startswith("detect__"):
            continue  # the detections' own tests own their answers
        params = {"actor": "192.0.2.1"} if "actor" in query.param_names and query.param("actor").required else {}
        got = eng.run(query.id, start="2026-11-16", end="2026-11-17", **params)
        if query.id == "coverage__window_rows":  # one row per source, however empty
            assert got.to_dict("list") == {"source": ["s3_access", "cloudtrail"], "row_count": [0, 0],
                                           "first_time": [pd.NaT, pd.NaT], "last_time": [pd.NaT, pd.NaT]}
        else:
            assert got.empty, query.id
    cols = eng.sql("DESCRIBE s3_access")
    assert cols["column_name"].tolist() == list(S3_ACCESS_COLUMNS)
    assert cols.set_index("column_name").loc["time", "column_type"] == "TIMESTAMP WITH TIME ZONE"
    assert cols.set_index("column_name").loc["http_status", "column_type"] == "INTEGER"


def test_register_rejects_missing_columns_and_unknown_tables() -> None:
    eng = DuckDBEngine(cache_dir="/nonexistent")
    with pytest.raises(QueryError, match=r"lacks canonical columns: .*remote_ip"):
        eng.register("s3_access", pd.DataFrame({"bucket": ["b"]}))
    with pytest.raises(QueryError, match="unknown logical table 'elb'"):
        eng.register("elb", pd.DataFrame())


def test_bad_input_fails_before_running(engine: DuckDBEngine) -> None:
    before = len(engine.history)
    with pytest.raises(QueryError, match="unknown query 's3_access__nope'"):
        engine.run("s3_access__nope", **WINDOW)
    with pytest.raises(ParameterError, match="missing required parameter actor"):
        engine.run("s3_access__objects_read_by_actor", **WINDOW)
    with pytest.raises(ParameterError, match="parameter top: 'ten' is not an integer"):
        engine.run("s3_access__top_remote_ips", **WINDOW, top="ten")
    with pytest.raises(ParameterError, match="ends before it starts"):
        engine.run("s3_access__top_remote_ips", start=WINDOW["end"], end=WINDOW["start"])
    with pytest.raises(ParameterError, match="unknown parameter"):
        engine.run("s3_access__top_remote_ips", **WINDOW, limit=3)
    assert len(engine.history) == before


def test_duckdb_run_never_imports_boto3_or_pyathena() -> None:
    code = (
        "import sys\n"
        "from s3forensics.engines import get_engine\n"
        "e = get_engine('duckdb', cache_dir='/nonexistent')\n"
        "e.run('s3_access__top_remote_ips', start='2026-11-16', end='2026-11-17')\n"
        "import s3forensics.cli.queries\n"
        "bad = [m for m in ('boto3', 'botocore', 'pyathena') if m in sys.modules]\n"
        "print(','.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
