"""Run every benchmark in one go (``make bench``) and keep their outputs under bench/out/.

Each benchmark prints its own table of measurements against the baselines its issue
names. Sizes default to the issues' (1M/10M lines, 10M rows, 1M CloudTrail events);
pass ``--quick`` for a smoke run at a tenth of that.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the issues' sizes")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    runs = {
        "sources": ["bench.bench_sources", "--lines", str(1_000_000 // scale), "--convert-lines", str(10_000_000 // scale)],
        "queries": ["bench.bench_queries", "--rows", str(10_000_000 // scale)],
        "detections": ["bench.bench_detections", "--rows", str(10_000_000 // scale), "--ct-rows", str(1_000_000 // scale)],
        "charts": ["bench.bench_charts", "--rows", str(10_000_000 // scale)],
    }
    OUT.mkdir(exist_ok=True)
    status = 0
    for name, command in runs.items():
        started = time.monotonic()
        log = OUT / f"{name}.txt"
        with log.open("w") as out:
            code = subprocess.call([sys.executable, "-m", *command], stdout=out, stderr=subprocess.STDOUT)
        print(f"{name}: exit {code} in {time.monotonic() - started:.0f}s -> {log}")
        print(log.read_text())
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())
