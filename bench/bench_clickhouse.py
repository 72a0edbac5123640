"""Heavy page queries on a DuckDB store and on the same rows in chDB, medians side by side.

    .venv/bin/python bench/generate.py --out /tmp/ck/100k.duckdb --articles 100000
    .venv/bin/python bench/bench_clickhouse.py /tmp/ck/100k.duckdb /tmp/ck/100k-ch [--copy]

`--copy` first moves every table of the DuckDB store into a new chDB directory (straight
inserts of the table's rows, then the term rollup rebuilt, as `finish_copy` does).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from monitor.models import Filters
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


def timed(call: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("duckdb", type=Path)
    parser.add_argument("chdb", type=Path)
    parser.add_argument("--copy", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
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
                (Filters(search="die"),),
                {"sort": "published", "descending": True, "limit": 50, "offset": 0},
            ),
        ]
        print(f"{'query':32} {'duckdb':>9} {'chdb':>9} {'ratio':>6}")
        with ch.session(), duck.session():
            for label, name, call_args, kwargs in cases:
                on_duck = partial(getattr(duck, name), *call_args, **kwargs)
                on_ch = partial(getattr(ch, name), *call_args, **kwargs)
                on_duck(), on_ch()  # warm
                d, c = timed(on_duck, args.runs), timed(on_ch, args.runs)
                print(f"{label:32} {d * 1000:8.0f}ms {c * 1000:8.0f}ms {c / d:6.2f}")
    finally:
        ch.close()
    print(f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, median of {args.runs}")


if __name__ == "__main__":
    main()
