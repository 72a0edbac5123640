"""Queries on a big store (issue 11: a two-word query's count and attention over time in at
most 1 s cold, a five-term boolean query with a phrase in at most 2 s, on the 1M store).

Each run is a fresh process (cold: no connection, no cache) that opens the store read-only,
parses the query and times `Storage.article_count` and `analyze.frequency(by="day")` (the
count and the attention over time) over all time. The queries are matched by a scan of
every article's title and text today (no word index yet): these figures are that scan.

Usage:
    .venv/bin/python bench/bench_query.py --db /tmp/q100k.duckdb --runs 3
    .venv/bin/python bench/bench_query.py --db chdb:///tmp/q100k-chdb --runs 3 \
        --query 'Börsekredit Umfragetrainer'

A store older than the current schema must be migrated first (`monitor --db DB migrate`).
Prints medians (and every run) of elapsed and CPU time, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
from monitor import analyze
from monitor.models import Filters
from monitor.query import parse
from monitor.store import open_store
store = open_store(sys.argv[1], read_only=True)
f = Filters(query=parse(sys.argv[2]))
wall, cpu = time.perf_counter(), time.process_time()
count = store.article_count(f)
buckets = len(analyze.frequency(store, f, by="day"))
print(json.dumps({"count": count, "buckets": buckets,
                  "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""

QUERIES = (
    "Börsekredit Umfragetrainer",
    '(Börsekredit OR Digitallehrer) "Preisenergie" Gemeinde* -Koalitionstadt',
)


def run(db: str, query: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db, query], capture_output=True, text=True, check=False
    )
    if out.returncode:
        sys.exit(f"bench_query: {query!r}: {out.stderr.strip().splitlines()[-1]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--query", action="append", help="(repeatable; default: two queries)")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}")
    for query in args.query or QUERIES:
        runs = [run(args.db, query) for _ in range(args.runs)]
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        each = ", ".join(f"{r['wall']:.2f}" for r in runs)
        print(
            f"{query!r}: {int(runs[0]['count']):,} articles, {int(runs[0]['buckets'])} days: "
            f"median wall {wall:.2f} s, CPU {cpu:.2f} s (runs: {each})"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
