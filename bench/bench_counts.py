"""Counting stories instead of articles (issue 10): what `count=stories` costs on every count
chart, beside the same call counting articles.

Each run is a fresh process (cold: no connection, no cache) that opens the store read-only and
times one analysis function over one view, counting articles or stories; the two modes
alternate in the same loop, so both see the same machine. Prints, per call, the median wall
and CPU seconds of each mode and their ratio, with the load average.

Usage:
    .venv/bin/python bench/generate.py --out /tmp/mb/100k.duckdb --articles 100000
    .venv/bin/monitor --db /tmp/mb/100k.duckdb stories --rebuild   # place the articles
    .venv/bin/python bench/bench_counts.py --db /tmp/mb/100k.duckdb --runs 3
    .venv/bin/python bench/bench_counts.py --db chdb:///tmp/mb/100k-chdb --runs 3
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
from dataclasses import replace
from datetime import timedelta
from monitor import analyze
from monitor.models import Filters
from monitor.query import parse
from monitor.store import open_store

store = open_store(sys.argv[1], read_only=True)
name, days, unit = sys.argv[2], int(sys.argv[3]), sys.argv[4]
last = store.stats(Filters())["last_published"]
now = last.replace(tzinfo=__import__("datetime").UTC) + timedelta(minutes=1)
f = Filters(since=now - timedelta(days=days) if days else None, unit=unit)
calls = {
    "overview numbers": lambda: analyze.compare_windows(store, f, now=now),
    "frequency day": lambda: analyze.frequency(store, f, by="day", timezone="Europe/Berlin"),
    "frequency week by feed": lambda: analyze.frequency(store, f, by="week", split="feed"),
    "frequency day by tag": lambda: analyze.frequency(store, f, by="day", split="tag"),
    "tags": lambda: analyze.tags(store, f, limit=50),
    "tag trends": lambda: analyze.tag_trends(store, f, limit=15, now=now),
    "authors": lambda: analyze.authors(store, f, limit=500),
    "heatmap": lambda: analyze.heatmap(store, f, timezone="Europe/Berlin"),
    "attention 2 queries": lambda: analyze.attention(
        store, f, [parse("Börsekredit"), parse("Umfragetrainer")], by="week", details=False
    ),
}
wall, cpu = time.perf_counter(), time.process_time()
calls[name]()
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""

CALLS = (
    "overview numbers",
    "frequency day",
    "frequency week by feed",
    "frequency day by tag",
    "tags",
    "tag trends",
    "authors",
    "heatmap",
    "attention 2 queries",
)
UNITS = ("articles", "stories")


def run(db: str, name: str, days: int, unit: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db, name, str(days), unit],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{name} ({unit}) failed: {out.stderr.strip().splitlines()[-1]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a DuckDB file or chdb:///dir")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, action="append", help="0: all time (repeatable)")
    args = parser.parse_args()
    windows = args.days or [0, 30]
    print(f"store {args.db}, {args.runs} runs per mode, load {os.getloadavg()[0]:.1f}")
    print("| call | window | articles s (CPU) | stories s (CPU) | ratio |")
    print("|---|---|---:|---:|---:|")
    for days in windows:
        for name in CALLS:
            seen: dict[str, list[dict[str, float]]] = {u: [] for u in UNITS}
            for _ in range(args.runs):
                for unit in UNITS:
                    seen[unit].append(run(args.db, name, days, unit))
            wall = {u: statistics.median(r["wall"] for r in seen[u]) for u in UNITS}
            cpu = {u: statistics.median(r["cpu"] for r in seen[u]) for u in UNITS}
            window = "all time" if not days else f"{days} days"
            print(
                f"| {name} | {window} | {wall['articles']:.2f} ({cpu['articles']:.2f}) | "
                f"{wall['stories']:.2f} ({cpu['stories']:.2f}) | "
                f"{wall['stories'] / wall['articles']:.2f}x |",
                flush=True,
            )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
