"""``s3forensics query`` and ``s3forensics athena setup``: run the SQL library from a shell.

    s3forensics query --list
    s3forensics query s3_access__top_remote_ips -p start 2026-11-16 -p end 2026-11-23 -p top 10
    s3forensics query ID ... --engine athena --format json -o out.json
    s3forensics query ID ... --sql            # print the rendered SQL, run nothing
    s3forensics athena setup --bucket LOG_BUCKET --source-bucket SITE [--apply]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from s3forensics import queries
from s3forensics.config import Settings
from s3forensics.errors import ConfigError, ParameterError, QueryError

FORMATS = ("table", "json", "csv")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``query`` and ``athena`` command groups."""
    query = subparsers.add_parser("query", help="run a query of the SQL library (DuckDB by default, or Athena)")
    query.add_argument("query_id", nargs="?", metavar="ID", help="query id (file stem in queries/)")
    query.add_argument("--list", action="store_true", help="list the queries and their parameters")
    query.add_argument(
        "-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="a parameter value (repeatable)"
    )
    query.add_argument("--engine", choices=("duckdb", "athena"), default="duckdb", help="engine (default duckdb)")
    query.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    query.add_argument("-o", "--output", type=Path, help="write the result to FILE instead of stdout")
    query.add_argument("--sql", action="store_true", help="print the rendered SQL for the engine and run nothing")
    query.add_argument("--cache-dir", type=Path, help="DuckDB: Parquet cache root (default: S3FORENSICS_CACHE)")
    query.add_argument("--database", help="DuckDB: database file (default: in memory)")
    query.add_argument("--max-bytes-scanned", type=int, help="Athena: fail a query that scans more bytes than this")
    query.set_defaults(handler=_query)

    athena = subparsers.add_parser("athena", help="Athena tables and views over the log buckets")
    actions = athena.add_subparsers(dest="athena_action", metavar="ACTION", required=True)
    setup = actions.add_parser("setup", help="print (and with --apply run) the Athena DDL")
    setup.add_argument("--bucket", required=True, help="bucket receiving the server access logs")
    setup.add_argument(
        "--source-bucket", action="append", default=[], help="bucket whose date-partitioned access logs to read (repeatable)"
    )
    setup.add_argument("--prefix", default="s3-access/", help="access-log target prefix (default s3-access/)")
    setup.add_argument("--cloudtrail-bucket", help="bucket receiving CloudTrail logs (default: --bucket)")
    setup.add_argument("--account", default=None, help="account id (default: the caller's, from STS)")
    setup.add_argument("--region", action="append", default=[], help="trail region (repeatable; default: the session's)")
    setup.add_argument("--first-day", default="2024/01/01", help="first day partition projection covers (yyyy/MM/dd)")
    setup.add_argument("--database", help="Athena database (default: S3FORENSICS_ATHENA_DATABASE or s3forensics)")
    setup.add_argument("--apply", action="store_true", help="run the DDL on Athena (default: print it only)")
    setup.set_defaults(handler=_setup)


def _list() -> int:
    for query in queries.list_queries():
        print(f"{query.id}\n    {query.description}\n    sources: {', '.join(query.sources) or '-'}")
        for p in query.params:
            default = "required" if p.required else f"default {p.default!r}"
            print(f"    -p {p.name} <{p.type}>  {p.description} ({default})")
    return 0


def _write(frame: Any, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        text = frame.to_json(orient="records", date_format="iso", date_unit="us", indent=2)
    elif fmt == "csv":
        text = frame.to_csv(index=False)
    else:
        text = frame.to_string(index=False) if len(frame) else f"(no rows; columns: {', '.join(map(str, frame.columns))})"
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def _query(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if not args.query_id:
        raise QueryError("give a query id, or --list to see them")
    params: dict[str, str] = {}
    for name, value in args.param:
        if name in params:
            raise ParameterError(f"parameter {name} given twice")
        params[name] = value
    query = queries.load_query(args.query_id)
    settings = Settings.from_env()
    dialect = "athena" if args.engine == "athena" else "duckdb"
    if args.sql:
        print(queries.render(query, params, dialect=dialect, tables=settings.table_map))
        return 0
    # Check everything before an engine (and its connections) is built.
    queries.render(query, params, dialect=dialect, tables=settings.table_map)
    from s3forensics.engines import get_engine

    if args.engine == "duckdb":
        engine = get_engine("duckdb", cache_dir=args.cache_dir, database=args.database or settings.duckdb_path or ":memory:", settings=settings)
    else:
        engine = get_engine("athena", settings=settings, max_bytes_scanned=args.max_bytes_scanned)
    with engine:
        frame = engine.run(query, **params)
        stats = engine.last_stats
    _write(frame, args.format, args.output)
    if stats is not None:
        extra = ""
        if stats.bytes_scanned is not None:
            extra = f", {stats.bytes_scanned} bytes scanned, ~${stats.cost_usd or 0:.4f}, execution {stats.execution_id}"
        print(f"{query.id}: {stats.rows} rows in {stats.seconds:.2f}s on {stats.engine}{extra}", file=sys.stderr)
    return 0


def _setup(args: argparse.Namespace) -> int:
    from s3forensics.engines.athena import AthenaLayout, setup_statements

    settings = Settings.from_env()
    database = args.database or settings.athena_database
    account = args.account
    regions = list(args.region)
    if account is None or not regions:
        from s3forensics import aws

        session = aws.session()
        if not regions:
            regions = [session.region_name]
        if account is None:
            try:
                account = aws.client("sts", session).get_caller_identity()["Account"]
            except Exception as exc:
                raise ConfigError(f"cannot find the account id ({aws.explain(exc)}); give it with --account") from exc
    layout = AthenaLayout(
        log_bucket=args.bucket,
        source_buckets=tuple(args.source_bucket) or (args.bucket,),
        access_prefix=args.prefix,
        account_id=account,
        regions=tuple(regions),
        cloudtrail_bucket=args.cloudtrail_bucket,
        first_day=args.first_day,
    )
    statements = setup_statements(layout, database=database, tables=settings.table_map)
    for statement in statements:
        print(statement.rstrip() + ";\n")
    if not args.apply:
        print("-- printed only; run again with --apply to create these on Athena", file=sys.stderr)
        return 0
    from s3forensics.engines.athena import AthenaEngine

    with AthenaEngine(settings, database=database) as engine:
        for statement in statements:
            engine.sql(statement)
            stats = engine.last_stats
            print(f"applied ({stats.execution_id if stats else '?'}): {statement.splitlines()[0]}", file=sys.stderr)
    return 0
