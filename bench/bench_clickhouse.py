"""Heavy page queries on a DuckDB store and on the same rows in chDB, medians side by side.

    .venv/bin/python bench/generate.py --out /tmp/ck/100k.duckdb --articles 100000
    .venv/bin/python bench/bench_clickhouse.py /tmp/ck/100k.duckdb /tmp/ck/100k-ch [--copy]

`--copy` first moves every table of the DuckDB store into a new chDB directory (straight
inserts of the table's rows, then the term rollup rebuilt, as `finish_copy` does).

`--cpu` measures this process's CPU seconds instead of wall seconds (both engines run their
threads in the process): on a machine others load, wall times swing 2-5x, CPU seconds
much less. Runs alternate between the engines, so both see the same load. The "page, all
time" rows are the store calls each dashboard page makes with no filters (every page reads
`stats` and the sidebar's `options` too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from monitor.models import Filters
from monitor.query import parse
from monitor.store.base import TABLES
from monitor.store.clickhouse import COPY_COLUMNS, ClickHouseStore
from monitor.store.duckdb import DuckDBStore

BERLIN = "Europe/Berlin"


def copy(duck: DuckDBStore, ch: ClickHouseStore) -> None:
    ch.ensure_schema()
    for table in TABLES:
        columns = list(COPY_COLUMNS[table])
        select = ", ".join(f"x.{c}" for c in columns)
        extra = ""
        if table == "feeds":
            select += ", x.id"
            columns.append("created")
        if table == "article_terms":
            select += ", coalesce(a.language, '')"
            extra = " JOIN articles a ON a.id = x.article_id"
            columns.append("language")
        started = time.perf_counter()
        done = 0
        with duck.read() as con:
            cursor = con.execute(f"SELECT {select} FROM {table} x{extra}")
            while rows := cursor.fetchmany(200_000):
                ch._writer.put(table, columns, rows)
                done += len(rows)
        print(f"copied {table}: {done:,} rows in {time.perf_counter() - started:.1f} s")
    ch.finish_copy()


def timed_pair(
    a: Callable[[], Any], b: Callable[[], Any], runs: int, clock: Callable[[], float]
) -> tuple[float, float]:
    """Median seconds of `a` and of `b`, run in turns."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for call, out in ((a, times[0]), (b, times[1])):
            started = clock()
            call()
            out.append(clock() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def page_calls(store: Any, key: str) -> dict[str, Callable[[], Any]]:
    """Each page's store calls, all time (the sidebar's `options` and `stats` on each)."""
    f = Filters()
    common = [lambda: store.stats(f), lambda: store.options(limit=200)]
    pages: dict[str, list[Callable[[], Any]]] = {
        "overview": [
            lambda: store.tags(f, limit=50),
            lambda: store.tag_windows(f, f),
            lambda: store.frequency(f, by="day"),
            lambda: store.articles_page(f, sort="published", descending=True, limit=10, offset=0),
        ],
        "frequency": [
            lambda: store.frequency(f, by="day", timezone=BERLIN),
            lambda: store.heatmap(f, timezone=BERLIN),
            lambda: store.cadence(f),
        ],
        "tags": [
            lambda: store.tags(f, limit=50),
            lambda: store.frequency(f, by="week", split="tag"),
            lambda: store.cooccurring_tags(f, key, limit=20),
        ],
        "clouds": [lambda: store.terms(f, limit=100)],
        "authors": [lambda: store.authors(f, limit=50)],
        "articles": [
            lambda: store.articles_page(f, sort="published", descending=True, limit=50, offset=0)
        ],
        "sources": [lambda: store.feeds()],
    }

    def run_all(calls: list[Callable[[], Any]]) -> None:
        for call in calls:
            call()

    return {
        f"page, all time: {name}": partial(run_all, common + calls) for name, calls in pages.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("duckdb", type=Path)
    parser.add_argument("chdb", type=Path)
    parser.add_argument("--copy", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="CPU seconds, not wall seconds")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    duck = DuckDBStore(args.duckdb, read_only=not args.copy)
    ch = ClickHouseStore(f"chdb://{args.chdb}")
    try:
        if args.copy:
            copy(duck, ch)
        with duck.read() as con:
            last = con.execute("SELECT max(published) FROM articles").fetchall()[0][0]
        end = last.replace(tzinfo=UTC)
        month = Filters(since=end - timedelta(days=30), until=end)
        year = Filters(since=end - timedelta(days=365), until=end)
        top = ch.tags(month, limit=1)
        tag, key = top["tag"][0], top["key"][0]
        # The same rows, the same answers: the figures compare like with like.
        assert duck.stats(month) == ch.stats(month)
        cases: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
            ("stats, all", "stats", (Filters(),), {}),
            ("stats, month", "stats", (month,), {}),
            ("options (sidebar)", "options", (), {"limit": 200}),
            ("frequency day Berlin, year", "frequency", (year,), {"by": "day", "timezone": BERLIN}),
            ("frequency split tag, month", "frequency", (month,), {"by": "day", "split": "tag"}),
            ("frequency split feed, year", "frequency", (year,), {"by": "week", "split": "feed"}),
            ("tags, month", "tags", (month,), {"limit": 50}),
            ("terms (rollup), year", "terms", (year,), {"limit": 100}),
            ("terms, month, a tag", "terms", (replace(month, tags=(tag,)),), {"limit": 100}),
            ("authors, month", "authors", (month,), {"limit": 50}),
            ("cooccurring tags, month", "cooccurring_tags", (month, key), {"limit": 20}),
            ("heatmap NY, year", "heatmap", (year,), {"timezone": "America/New_York"}),
            ("cadence, month", "cadence", (month,), {}),
            (
                "articles page, search",
                "articles_page",
                (Filters(query=parse("die")),),
                {"sort": "published", "descending": True, "limit": 50, "offset": 0},
            ),
        ]
        print(f"{'query':32} {'duckdb':>9} {'chdb':>9} {'ratio':>6}")
        pairs = [
            (
                label,
                partial(getattr(duck, name), *call_args, **kwargs),
                partial(getattr(ch, name), *call_args, **kwargs),
            )
            for label, name, call_args, kwargs in cases
        ]
        on_ch_pages = page_calls(ch, key)
        on_duck_pages = page_calls(duck, key)
        pairs += [(label, on_duck_pages[label], on_ch_pages[label]) for label in on_duck_pages]
        with ch.session(), duck.session():
            for label, on_duck, on_ch in pairs:
                on_duck(), on_ch()  # warm
                d, c = timed_pair(on_duck, on_ch, args.runs, clock)
                print(f"{label:32} {d * 1000:8.0f}ms {c * 1000:8.0f}ms {c / d:6.2f}", flush=True)
    finally:
        ch.close()
    what = "CPU" if args.cpu else "wall"
    print(
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {what} seconds, median of "
        f"{args.runs}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
