"""Queries on a big store (issue 11: a two-word query's count and attention over time in at
most 1 s cold, a five-term boolean query with a phrase in at most 2 s, on the 1M store).

Each run is a fresh process (cold: no connection, no cache) that opens the store read-only,
parses the query and times `Storage.article_count` and `analyze.frequency(by="day")` (the
count and the attention over time) over all time. Each query runs from the word index
(`article_words`, schema 8) and, side by side in the same loop, by the full scan of every
article's title and text that a store uses until its rebuild has filled the index (forced
here by telling the engine its index is not ready); the two must find the same articles.

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
if sys.argv[3] == "scan":  # what a store whose word index is not filled yet does
    import monitor.store.duckdb.query as duckdb_query
    duckdb_query.words_indexed = lambda con: False
    try:
        from monitor.store.clickhouse import ClickHouseStore
        ClickHouseStore._words_ready = lambda self: False
    except ImportError:
        pass
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
    '(Börsekredit OR Digitallehrer) "Geschichteurteil nicht" Koalition* -Umfragetrainer',
)
MODES = ("index", "scan")


def run(db: str, query: str, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db, query, mode],
        capture_output=True,
        text=True,
        check=False,
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
    parser.add_argument("--no-scan", action="store_true", help="time the word index only")
    args = parser.parse_args()
    modes = MODES[:1] if args.no_scan else MODES
    print(f"load before: {os.getloadavg()[0]:.2f}")
    for query in args.query or QUERIES:
        runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
        for _ in range(args.runs):  # alternating: both modes see the same load
            for mode in modes:
                runs[mode].append(run(args.db, query, mode))
        counts = {(int(r["count"]), int(r["buckets"])) for rs in runs.values() for r in rs}
        if len(counts) != 1:
            sys.exit(f"bench_query: {query!r}: index and scan disagree: {sorted(counts)}")
        count, buckets = counts.pop()
        print(f"{query!r}: {count:,} articles, {buckets} days")
        medians = {}
        for mode, rs in runs.items():
            wall = medians[mode] = statistics.median(r["wall"] for r in rs)
            cpu = statistics.median(r["cpu"] for r in rs)
            each = ", ".join(f"{r['wall']:.2f}" for r in rs)
            print(f"  {mode:5}: median wall {wall:.2f} s, CPU {cpu:.2f} s (runs: {each})")
        if "scan" in medians:
            print(f"  scan / index: {medians['scan'] / medians['index']:.1f}x")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
