"""Benchmark: every investigation query on DuckDB over the Parquet cache vs pandas group-bys.

    python -m bench.bench_queries --rows 10000000 [--cache DIR] [--keep]

Generates synthetic canonical rows (vectorised numpy, one day per chunk) into a Parquet
cache laid out as the loaders write it, runs all investigation queries on DuckDB, then
loads the same rows into one pandas DataFrame and answers the same questions with the
pandas references of the parity tests, and checks both agree. Reports seconds per query,
totals and peak RSS (the DuckDB phase runs first, so its peak is measured alone).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "queries"))

import pandas as pd  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import queries_synthetic as synth  # noqa: E402
from queries_pandas_reference import REFERENCES, records  # noqa: E402

from s3forensics import queries as q  # noqa: E402
from s3forensics.engines.duckdb_engine import DuckDBEngine  # noqa: E402

#: Columns the pandas side loads (what the investigation queries read).
PANDAS_COLUMNS = [
    "bucket", "time", "remote_ip", "requester", "operation", "key", "http_status",
    "error_code", "bytes_sent", "user_agent", "authentication_type",
]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(cache: Path, rows: int, days: int, seed: int) -> float:
    """Write ``rows`` access-log rows over ``days`` days plus a little CloudTrail; seconds taken."""
    started = time.perf_counter()
    per_day = rows // days
    for day in range(days):
        n = per_day + (rows - per_day * days if day == days - 1 else 0)
        table = synth.s3_access(n, seed=seed + day, days=1, start=synth.START + pd.Timedelta(days=day))
        synth.write_cache(table, cache, "s3_access", "time")
        del table
    synth.write_cache(synth.cloudtrail(max(rows // 1000, 1000), seed=seed, days=days), cache, "cloudtrail", "event_time")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, help="cache folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated cache")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory limit")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas side")
    args = parser.parse_args(argv)

    cache = args.cache or Path(tempfile.mkdtemp(prefix="s3f-bench-"))
    try:
        if not (cache / "s3_access").is_dir():
            print(f"generating {args.rows:,} rows into {cache} ...", flush=True)
            print(f"  generated in {generate(cache, args.rows, args.days, args.seed):.1f}s", flush=True)
        window = {"start": synth.START, "end": synth.START + pd.Timedelta(days=args.days)}
        actor = f"arn:aws:sts::{synth.ACCOUNT}:assumed-role/analytics-export/session-1"
        params = {qid: {**window, **({"actor": actor} if qid.endswith("by_actor") and "objects" in qid else {})} for qid in REFERENCES}

        engine = DuckDBEngine(cache_dir=cache, memory_limit=args.memory_limit)
        duck: dict[str, tuple[float, pd.DataFrame]] = {}
        for qid in sorted(REFERENCES):
            started = time.perf_counter()
            frame = engine.run(qid, **params[qid])
            duck[qid] = (time.perf_counter() - started, frame)
        engine.close()
        duck_total = sum(s for s, _ in duck.values())
        duck_rss = peak_rss_mb()

        print(f"\n{'query':45s} {'duckdb s':>9s} {'pandas s':>9s} {'rows':>7s}  same")
        if args.no_pandas:
            for qid, (seconds, frame) in duck.items():
                print(f"{qid:45s} {seconds:9.3f} {'-':>9s} {len(frame):7d}")
        else:
            started = time.perf_counter()
            s3 = pq.read_table(cache / "s3_access", columns=PANDAS_COLUMNS).to_pandas()
            ct = pq.read_table(cache / "cloudtrail").to_pandas()
            load_seconds = time.perf_counter() - started
            pandas_total = 0.0
            for qid in sorted(REFERENCES):
                bound = q.bind_values(q.load_query(qid), params[qid])
                started = time.perf_counter()
                want = REFERENCES[qid](s3, ct, bound)
                seconds = time.perf_counter() - started
                pandas_total += seconds
                same = records(duck[qid][1]) == records(want)
                print(f"{qid:45s} {duck[qid][0]:9.3f} {seconds:9.3f} {len(want):7d}  {'yes' if same else 'NO'}")
            print(f"{'pandas: load Parquet into one DataFrame':45s} {'':9s} {load_seconds:9.3f}")
            print(f"{'TOTAL (pandas without load)':45s} {duck_total:9.3f} {pandas_total:9.3f}")
        print(f"\nrows: {args.rows:,}; DuckDB total {duck_total:.2f}s (goal < 10 s); "
              f"peak RSS after DuckDB {duck_rss:.0f} MB, after pandas {peak_rss_mb():.0f} MB (goal < 4096 MB)")
    finally:
        if args.cache is None and not args.keep:
            shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
