"""Loading, binding and rendering: headers, parameters, hostile values, table names, golden SQL."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from s3forensics import queries as q
from s3forensics.engines.rewrites import joda_to_strftime, to_duckdb
from s3forensics.errors import ConfigError, ParameterError, QueryError

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("S3F_UPDATE_GOLDEN") == "1"
#: Rewrites every golden file on purpose (``make goldens``); review the diff before committing.
REGENERATE = "make goldens"
DIALECTS = ("athena", "duckdb")
WINDOW = {"start": "2026-11-16T00:00:00Z", "end": "2026-11-23T00:00:00Z"}
#: A fixed value for each required parameter other than the window (one without a default).
REQUIRED = {"actor": "203.0.113.50"}
#: Every query file of the library, read from the folder itself, not through list_queries().
QUERY_IDS = sorted(path.stem for path in q.QUERIES_DIR.glob("*.sql"))


def _params(query: q.Query) -> dict:
    """The window, plus a fixed value for each other required parameter; the rest take their declared defaults."""
    required = [p.name for p in query.params if p.required and p.name not in WINDOW]
    missing = [name for name in required if name not in REQUIRED]
    assert not missing, f"{query.id}: give required parameter(s) {', '.join(missing)} a fixed value in REQUIRED"
    return {**WINDOW, **{name: REQUIRED[name] for name in required}}


def test_every_query_in_the_library_loads() -> None:
    loaded = q.list_queries()
    assert [query.id for query in loaded] == QUERY_IDS
    for query in loaded:
        assert query.description and query.path.is_file()
        assert query.has_window, f"{query.id} takes no start/end window"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("query_id", QUERY_IDS)
def test_rendered_sql_matches_golden(query_id: str, dialect: str) -> None:
    query = q.load_query(query_id)
    tables = {"s3_access": "s3forensics.s3_access", "cloudtrail": "s3forensics.cloudtrail"} if dialect == "athena" else None
    sql = q.render(query, _params(query), dialect=dialect, tables=tables) + "\n"
    path = GOLDEN / f"{query_id}.{dialect}.sql"
    if UPDATE:
        path.write_text(sql)
    assert path.is_file(), f"no golden SQL {path} for {query_id} on {dialect}; review the rendered SQL, then write it on purpose with: {REGENERATE}"
    assert sql == path.read_text(), f"rendered SQL of {query_id} for {dialect} differs from {path}; review, then regenerate on purpose with: {REGENERATE}"
    tree = sqlglot.parse_one(sql, read="trino" if dialect == "athena" else "duckdb")
    assert [node.sql() for node in tree.find_all(exp.Placeholder)] == [], "a parameter was left unbound"


def test_no_stale_golden_file() -> None:
    expected = {f"{query_id}.{dialect}.sql" for query_id in QUERY_IDS for dialect in DIALECTS}
    stale = sorted(path.name for path in GOLDEN.iterdir() if path.name not in expected)
    assert stale == [], f"golden files in {GOLDEN} whose query no longer exists (delete them): {', '.join(stale)}"


def test_athena_partition_predicate_covers_the_window_days() -> None:
    sql = q.render("coverage__access_log_vs_cloudtrail", {"start": "2026-11-16T23:00:00Z", "end": "2026-11-18T00:00:00Z"})
    tree = sqlglot.parse_one(sql, read="trino")
    betweens = [b for b in tree.find_all(exp.Between) if b.this.name == "date"]
    assert [(b.args["low"].this, b.args["high"].this) for b in betweens] == [("2026/11/16", "2026/11/17")] * 2
    # Not on DuckDB, where "date" is not a column of the logical table.
    assert '"date"' not in q.render("coverage__access_log_vs_cloudtrail", WINDOW, dialect="duckdb")


@pytest.mark.parametrize("hostile", ["x' OR 1=1 --", "'; DROP TABLE s3_access; --", "a\\'b", "é'\"\n--"])
@pytest.mark.parametrize("dialect", ["athena", "duckdb"])
def test_hostile_value_stays_one_literal(hostile: str, dialect: str) -> None:
    sql = q.render("s3_access__objects_read_by_actor", {**WINDOW, "actor": hostile}, dialect=dialect)
    tree = sqlglot.parse_one(sql, read="trino" if dialect == "athena" else "duckdb")
    literals = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string and lit.this == hostile]
    assert len(literals) == 2  # requester = :actor OR remote_ip = :actor
    assert len(list(tree.find_all(exp.Drop))) == 0
    assert isinstance(tree, exp.Select)


def test_array_parameter_binds_each_item_as_literal() -> None:
    sql = q.render("s3_access__anonymous_requests", {**WINDOW, "buckets": ["a'b", "s3f-demo-site"]}, dialect="duckdb")
    assert "['a''b', 's3f-demo-site']" in sql
    sql = q.render("s3_access__anonymous_requests", {**WINDOW, "buckets": "s3f-demo-site,s3f-demo-data"})
    assert "ARRAY['s3f-demo-site', 's3f-demo-data']" in sql


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        ("integer", "42", 42),
        ("integer", 7.0, 7),
        ("bigint", 2**40, 2**40),
        ("double", "0.5", 0.5),
        ("boolean", "TRUE", True),
        ("varchar", "x", "x"),
        ("array(varchar)", '["a", "b"]', ("a", "b")),
        ("array(varchar)", "a, b", ("a", "b")),
        ("timestamp", "2026-11-16T01:00:00+01:00", dt.datetime(2026, 11, 16, tzinfo=dt.UTC)),
        ("timestamp", dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 16, tzinfo=dt.UTC)),
        ("timestamp", dt.date(2026, 11, 16), dt.datetime(2026, 11, 16, tzinfo=dt.UTC)),
    ],
)
def test_coerce_accepts(type_: str, value: object, expected: object) -> None:
    assert q.coerce_value(type_, value, "p") == expected


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("integer", "1.5", "is not an integer"),
        ("integer", True, "got a boolean"),
        ("integer", 2**40, "out of range"),
        ("double", "nan", "not a finite number"),
        ("boolean", "yes", "expected true or false"),
        ("varchar", 3, "expected text"),
        ("varchar", "a\x00b", "NUL"),
        ("array(varchar)", [1, 2], "list of strings"),
        ("timestamp", "yesterday", "not an ISO-8601 timestamp"),
        ("timestamp", 1700000000, "expected a timestamp"),
    ],
)
def test_coerce_rejects(type_: str, value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        q.coerce_value(type_, value, "p")


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="unknown query 's3_access__missing'"):
        q.render("s3_access__missing", WINDOW)
    with pytest.raises(QueryError, match="not of the form"):
        q.load_query("../etc/passwd")
    with pytest.raises(ParameterError, match="missing required parameter start"):
        q.render("s3_access__top_remote_ips", {"end": WINDOW["end"]})
    with pytest.raises(ParameterError, match="ends before it starts"):
        q.render("s3_access__top_remote_ips", {"start": WINDOW["end"], "end": WINDOW["start"]})
    with pytest.raises(ParameterError, match="unknown parameter"):
        q.render("s3_access__top_remote_ips", {**WINDOW, "tpo": 3})
    with pytest.raises(ConfigError, match="not a plain name"):
        q.render("s3_access__top_remote_ips", WINDOW, tables={"s3_access": "logs; DROP TABLE x"})
    with pytest.raises(ConfigError, match="not a plain name"):
        q.render("s3_access__top_remote_ips", WINDOW, tables={"s3_access": 'db."x"'})
    with pytest.raises(QueryError, match="unknown logical table"):
        q.render("s3_access__top_remote_ips", WINDOW, tables={"elb": "elb"})
    with pytest.raises(QueryError, match="unknown dialect"):
        q.render("s3_access__top_remote_ips", WINDOW, dialect="mysql")


def test_physical_table_names_replace_logical_ones() -> None:
    sql = q.render("s3_access__top_remote_ips", WINDOW, dialect="duckdb", tables={"s3_access": "forensics.access_2026"})
    tree = sqlglot.parse_one(sql, read="duckdb")
    tables = [(t.db, t.name, t.alias) for t in tree.find_all(exp.Table)]
    assert tables == [("forensics", "access_2026", "s3_access")]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return path


HEADER = "-- description: d\n-- sources: s3_access\n-- param start: timestamp -- s\n-- param end: timestamp -- e\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- sources: s3_access\nSELECT 1", "no '-- description:'"),
        ("-- description: d\nSELECT 1", "no '-- sources:'"),
        ("-- description: d\n-- sources: elb\nSELECT 1", r"q\.sql:2: unknown source 'elb'"),
        (HEADER + "-- param n: int = 3 -- n\nSELECT 1", r"q\.sql:5: parameter line must read|unknown type"),
        (HEADER + "-- param n: integer = x -- n\nSELECT 1", r"q\.sql:5: parameter n: .*not an integer"),
        (HEADER + "-- param n: integer -- n\nSELECT * FROM s3_access WHERE time >= :start AND time < :end", "declared but not used: n"),
        (HEADER + "SELECT * FROM s3_access WHERE time >= :start AND time < :end AND x = :y", "used but not declared: y"),
        (HEADER + "SELECT * FROM cloudtrail WHERE time >= :start AND time < :end", "not declared in '-- sources:': cloudtrail"),
        (HEADER + "DELETE FROM s3_access WHERE time >= :start AND time < :end", "only SELECT"),
        (HEADER + "SELECT 1 FROM s3_access WHERE time >= :start AND time < :end; SELECT 2", "exactly one SQL statement"),
        ("-- description: d\n-- sources: s3_access\nSELECT * FROM s3_access", "must filter on its window :start and :end"),
        ("-- description: d\n-- sources: s3_access\n-- param start: integer -- s\nSELECT * FROM s3_access", "the window parameter start is a required timestamp"),
        ("-- description: d\n-- sources: s3_access\n-- param end: timestamp = 2026-01-01 -- e\nSELECT 1", "the window parameter end is a required timestamp"),
        (HEADER + "SELECT FROM WHERE (", "does not parse"),
    ],
)
def test_ill_formed_query_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "q", text)
    with pytest.raises(QueryError, match=message):
        q.parse_query_text(text, "x__q", path)


def test_users_own_query_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "s3_access__mine", HEADER + "-- param n: integer = 3 -- n\nSELECT count(*) AS c FROM s3_access WHERE time >= :start AND time < :end LIMIT :n")
    monkeypatch.setenv("S3FORENSICS_QUERIES", str(tmp_path))
    assert [query.id for query in q.list_queries()] == ["s3_access__mine"]
    assert "LIMIT 3" in q.render("s3_access__mine", WINDOW, dialect="duckdb")


@pytest.mark.parametrize(
    ("joda", "strftime"),
    [
        ("dd/MMM/yyyy:HH:mm:ss Z", "%d/%b/%Y:%H:%M:%S %z"),
        ("yyyy-MM-dd'T'HH:mm:ss.SSS", "%Y-%m-%dT%H:%M:%S.%g"),
        ("EEE, d MMMM yy h'h'", None),
        ("yyyy '100%'", "%Y 100%%"),
    ],
)
def test_joda_to_strftime(joda: str, strftime: str | None) -> None:
    if strftime is None:
        with pytest.raises(ValueError, match="'h'"):
            joda_to_strftime(joda)
    else:
        assert joda_to_strftime(joda) == strftime


def test_duckdb_rewrites_give_trino_answers() -> None:
    import duckdb

    sql = (
        "SELECT format_datetime(t, 'yyyy-MM-dd HH:mm') AS f,"
        " parse_datetime('06/Feb/2019:00:00:38 +0000', 'dd/MMM/yyyy:HH:mm:ss Z') AS p,"
        " url_extract_host('https://user@www.example.com:8443/a?b=1') AS h,"
        " url_extract_host('not a url') AS n,"
        " (SELECT count_if(x > 1) FROM (SELECT CAST(NULL AS integer) AS x)) AS c"
        " FROM (SELECT TIMESTAMP '2026-11-16 05:07:00' AS t)"
    )
    rendered = to_duckdb(sqlglot.parse_one(sql, read="trino")).sql("duckdb")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    f, p, h, n, c = con.execute(rendered).fetchone()
    assert f == "2026-11-16 05:07"
    assert p == dt.datetime(2019, 2, 6, 0, 0, 38, tzinfo=dt.UTC)
    assert (h, n, c) == ("www.example.com", None, 0)
    with pytest.raises(QueryError, match="literal format"):
        to_duckdb(sqlglot.parse_one("SELECT format_datetime(t, fmt) FROM x", read="trino"), "x__y")


@pytest.mark.parametrize("unit", ["second", "minute", "hour", "day", "month"])
def test_date_trunc_rewrite_equals_duckdb_date_trunc(unit: str) -> None:
    import duckdb

    # The unit is a bound literal on the tree, as in the query files.
    tree = sqlglot.parse_one("SELECT date_trunc(:unit, time) AS t FROM s3_access", read="trino")
    tree = tree.transform(lambda node: exp.Literal.string(unit) if isinstance(node, exp.Placeholder) else node)
    rewritten = to_duckdb(tree).sql("duckdb")
    assert ("EPOCH_US" in rewritten) == (unit != "month")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE s3_access AS SELECT * FROM (VALUES (TIMESTAMPTZ '2026-11-16 23:59:59.999999+00'),"
        " (TIMESTAMPTZ '2026-11-30 05:07:08.5+00'), (TIMESTAMPTZ '2024-02-29 00:00:00+00'), (NULL)) v(time)"
    )
    expected = con.execute("SELECT date_trunc(?, time) FROM s3_access", [unit]).fetchall()
    assert con.execute(rewritten).fetchall() == expected


def test_the_window_is_declared_once_for_every_query_over_logs(tmp_path: Path) -> None:
    """Queries over logs get :start/:end from WINDOW_PARAMS, first, unless a header restates one."""
    plain = "-- description: d\n-- sources: s3_access\n-- param n: integer = 3 -- n\nSELECT count(*) FROM s3_access WHERE time >= :start AND time < :end LIMIT :n"
    query = q.parse_query_text(plain, "s3_access__plain", _write(tmp_path, "plain", plain))
    assert query.params[:2] == q.WINDOW_PARAMS and query.param_names == ("start", "end", "n") and query.has_window
    restated = plain.replace("-- param n:", "-- param start: timestamp -- first hour of history\n-- param n:")
    query = q.parse_query_text(restated, "s3_access__restated", _write(tmp_path, "restated", restated))
    assert query.param_names == ("start", "end", "n")
    assert query.param("start").description == "first hour of history" and query.param("end") == q.WINDOW_PARAMS[1]
    without_logs = q.parse_query_text("-- description: d\n-- sources:\nSELECT 1 AS one", "x__one", _write(tmp_path, "one", ""))
    assert without_logs.params == () and not without_logs.has_window
    assert all(query.params[:2] == q.WINDOW_PARAMS or query.param_names[:2] == ("start", "end") for query in q.list_queries() if query.sources)


def test_a_renamed_query_id_still_loads_under_its_new_name(caplog: pytest.LogCaptureFixture) -> None:
    """Scripts that call `s3forensics query detect__window_rows` keep working after the rename."""
    for old, new in q.RENAMED.items():
        with caplog.at_level("WARNING", logger="s3forensics.queries"):
            assert q.load_query(old).id == new
        assert f"query {old} is now called {new}" in caplog.text
        assert not (q.QUERIES_DIR / f"{old}.sql").exists() and (q.QUERIES_DIR / f"{new}.sql").is_file()


def test_partition_days_keep_four_digit_years() -> None:
    """Athena's partition projection writes ``yyyy/MM/dd``; ``%Y`` gives ``999`` for the year
    999 on glibc, a filter that matched nothing."""
    from datetime import datetime

    from s3forensics.queries import partition_day

    assert partition_day(datetime(999, 1, 2)) == "0999/01/02"
    assert partition_day(datetime(2026, 12, 6)) == "2026/12/06"


def test_only_row_by_row_ctes_are_recomputed_on_duckdb() -> None:
    """A CTE that filters and projects is inlined (NOT MATERIALIZED); one that groups, joins,
    windows or limits keeps DuckDB's materialization, and both give the same rows."""
    import duckdb

    sql = (
        "WITH rows AS (SELECT bucket, bytes_sent FROM s3_access WHERE bytes_sent > 0),"
        " sums AS (SELECT bucket, sum(bytes_sent) AS b FROM rows GROUP BY bucket),"
        " ranked AS (SELECT bucket, row_number() OVER (ORDER BY b) AS r FROM sums),"
        " firsts AS (SELECT bucket FROM rows LIMIT 1),"
        " joined AS (SELECT s.bucket FROM sums AS s JOIN ranked AS k ON k.bucket = s.bucket)"
        " SELECT s.bucket, s.b, k.r, (SELECT count(*) FROM rows) AS n, (SELECT count(*) FROM firsts) AS f"
        " FROM sums AS s JOIN ranked AS k ON k.bucket = s.bucket JOIN joined AS j ON j.bucket = s.bucket"
        " ORDER BY s.bucket"
    )
    tree = to_duckdb(sqlglot.parse_one(sql, read="trino"))
    flags = {cte.alias: cte.args.get("materialized") for cte in tree.find_all(exp.CTE)}
    assert flags == {"rows": False, "sums": None, "ranked": None, "firsts": None, "joined": None}
    con = duckdb.connect()
    con.execute("CREATE TABLE s3_access AS SELECT * FROM (VALUES ('a', 5), ('a', 0), ('b', 7), ('b', 1)) v(bucket, bytes_sent)")
    plain = sqlglot.parse_one(sql, read="trino").sql("duckdb")
    assert con.execute(tree.sql("duckdb")).fetchall() == con.execute(plain).fetchall() == [("a", 5, 1, 3, 1), ("b", 8, 2, 3, 1)]
