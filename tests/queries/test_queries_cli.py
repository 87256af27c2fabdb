"""``s3forensics query`` and ``s3forensics athena setup``; the Athena DDL itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import queries_synthetic as synth
import sqlglot
from sqlglot import exp

from s3forensics.cli import main
from s3forensics.engines.athena import AthenaLayout, setup_statements
from s3forensics.errors import ConfigError
from s3forensics.sources.s3_access_format import format_line

WINDOW = ["-p", "start", "2026-11-16T00:00:00Z", "-p", "end", "2026-11-19T00:00:00Z"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache")
    synth.write_cache(synth.s3_access(5_000, seed=3), root, "s3_access", "time")
    return root


def test_query_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    assert "s3_access__top_remote_ips" in out and "-p top <integer>" in out


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_query_runs_on_the_cache(cache: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"out.{fmt}"
    code = main(["query", "s3_access__top_remote_ips", *WINDOW, "-p", "top", "3", "--cache-dir", str(cache), "--format", fmt, "-o", str(out)])
    assert code == 0
    assert "3 rows" in capsys.readouterr().err
    text = out.read_text()
    if fmt == "json":
        rows = json.loads(text)
        assert len(rows) == 3 and rows[0]["requests"] >= rows[1]["requests"]
        assert rows[0]["first_seen"].startswith("2026-11-1")
    elif fmt == "csv":
        frame = pd.read_csv(out)
        assert list(frame.columns)[:2] == ["remote_ip", "requests"] and len(frame) == 3
    else:
        assert text.splitlines()[0].split()[:2] == ["remote_ip", "requests"]


def test_query_sql_prints_rendered_sql(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "s3_access__objects_read_by_actor", *WINDOW, "-p", "actor", "x' OR 1=1 --", "--engine", "athena", "--sql"]) == 0
    out = capsys.readouterr().out
    assert "'x'' OR 1=1 --'" in out and "\"date\" BETWEEN '2026/11/16' AND '2026/11/18'" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "s3_access__nope", *WINDOW], "unknown query 's3_access__nope'"),
        (["query", "s3_access__top_remote_ips", "-p", "start", "2026-11-16"], "missing required parameter end"),
        (["query", "s3_access__top_remote_ips", *WINDOW, "-p", "top", "many"], "parameter top: 'many' is not an integer"),
        (["query", "s3_access__top_remote_ips", "-p", "start", "2026-11-19", "-p", "end", "2026-11-16"], "ends before it starts"),
        (["query", "s3_access__top_remote_ips", *WINDOW, "-p", "top", "1", "-p", "top", "2"], "given twice"),
        (["query"], "give a query id"),
        (["athena", "setup", "--bucket", "Bad_Bucket", "--account", "111122223333", "--region", "us-east-1"], "not a valid S3 bucket"),
        (["athena", "setup", "--bucket", "s3f-demo-logs", "--account", "1111", "--region", "us-east-1"], "12 digits"),
        (["athena", "setup", "--bucket", "s3f-demo-logs", "--account", "111122223333", "--region", "us-east-1", "--database", "x-y"], "not a plain name"),
        (["athena", "setup", "--bucket", "s3f-demo-logs", "--account", "111122223333", "--region", "us-east-1", "--prefix", "a b/"], "prefix"),
    ],
)
def test_bad_input_exits_1_with_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_athena_setup_prints_without_applying(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["athena", "setup", "--bucket", "s3f-demo-logs", "--source-bucket", "s3f-demo-site", "--prefix", "s3-access/site/",
            "--cloudtrail-bucket", "s3f-demo-cloudtrail", "--account", "111122223333", "--region", "us-east-1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "--apply" in captured.err
    statements = [s for s in captured.out.split(";\n") if s.strip()]
    assert len(statements) == 5
    assert "s3://s3f-demo-logs/s3-access/site/111122223333/us-east-1/${source_bucket}/${date}/" in captured.out
    assert "s3://s3f-demo-cloudtrail/AWSLogs/${account}/CloudTrail/${region}/${date}/" in captured.out


@pytest.mark.sandbox
def test_athena_setup_apply_runs_each_statement(sandbox: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("S3FORENSICS_ATHENA_OUTPUT", "s3://s3f-demo-logs/athena-results/")
    client = boto3.client("athena", region_name="us-east-1")
    before = set(client.list_query_executions()["QueryExecutionIds"])
    argv = ["athena", "setup", "--bucket", "s3f-demo-logs", "--source-bucket", "s3f-demo-site", "--database", "forensics_test", "--apply"]
    assert main(argv) == 0  # account and region from the sandbox's STS and session
    new = set(client.list_query_executions()["QueryExecutionIds"]) - before
    queries = [client.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in new]
    assert len(queries) == 5
    assert any(q.startswith("CREATE DATABASE IF NOT EXISTS forensics_test") for q in queries)
    assert any("CREATE OR REPLACE VIEW forensics_test.s3_access" in q for q in queries)
    assert any("/111122223333/us-east-1/${source_bucket}/${date}/" in q for q in queries)


def _serde_regex() -> re.Pattern[str]:
    ddl = setup_statements(AthenaLayout("s3f-demo-logs", ("s3f-demo-site",)))[1]
    tree = sqlglot.parse_one(ddl, read="athena")
    values = [p for p in tree.find_all(exp.Property) if p.name == "input.regex"]
    assert len(values) == 1
    # Hive string literals use backslash escapes; Java and Python agree on this regex syntax.
    return re.compile(values[0].args["value"].this.replace("\\\\", "\\"))


def test_access_log_regex_reads_every_field_of_formatted_lines() -> None:
    regex = _serde_regex()
    assert regex.groups == 27
    frame = synth.s3_access(50, seed=5).to_pandas()
    frame.loc[0, "user_agent"] = 'Mozilla/5.0 (X11) "quoted" agent'
    frame.loc[1, "request_uri"] = "GET /a%20b?x=1&y=\"2\" HTTP/1.1"
    frame.loc[2, "operation"] = "BATCH.DELETE.OBJECT"
    for i, row in frame.iterrows():
        record = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        record["time"] = row["time"].to_pydatetime()
        for key in ("http_status", "bytes_sent", "object_size", "total_time", "turn_around_time"):
            if record[key] is not None:
                record[key] = int(record[key])
        line = format_line(record)
        match = regex.fullmatch(line)
        assert match, line
        assert match.group(2) == record["bucket"]
        assert match.group(3) == record["time"].strftime("%d/%b/%Y:%H:%M:%S +0000")
        assert match.group(10) == (str(record["http_status"]) if record["http_status"] is not None else "-")
        assert match.group(22) == (record["authentication_type"] or "-")
        if i == 0:
            assert match.group(17) == '"Mozilla/5.0 (X11) "quoted" agent"'
    # Older 18-field lines leave the newer columns empty (null in Athena).
    old = format_line(record, fields=18)
    match = regex.fullmatch(old)
    assert match and match.group(18) is not None and match.group(19) is None


def test_setup_layout_validation() -> None:
    with pytest.raises(ConfigError, match="at least one source bucket"):
        AthenaLayout("s3f-demo-logs", ())
    with pytest.raises(ConfigError, match="region"):
        AthenaLayout("s3f-demo-logs", ("s3f-demo-site",), regions=("us-east-1; DROP",))
    with pytest.raises(ConfigError, match="yyyy/MM/dd"):
        AthenaLayout("s3f-demo-logs", ("s3f-demo-site",), first_day="2024-01-01")
    statements = setup_statements(AthenaLayout("s3f-demo-logs", ("s3f-demo-site", "s3f-demo-data")), tables={"s3_access": "logs.access"})
    assert "CREATE OR REPLACE VIEW logs.access AS" in statements[3]
    assert "FROM logs.access_raw" in statements[3]
    assert "'projection.source_bucket.values'='s3f-demo-site,s3f-demo-data'" in statements[1]
    # The range ends at NOW, so no other date is baked in: the table keeps working next year.
    assert "'2024/01/01,NOW'" in statements[1]
    assert re.findall(r"\d{4}/\d{2}/\d{2}", statements[1]) == ["2024/01/01"]
