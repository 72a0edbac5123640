"""Ingest benchmark: feedparser alone vs the whole pipeline into the store, side by side.

Generates two corpus shapes of RSS documents (seeded, German and English, authors,
categories and a closing hashtag line) and measures, in one run and on the same bytes:

- many feeds: 120 documents x 25 items of 150-900 words (12 MB);
- few large feeds: 60 documents x 200 items of long articles, 400-1,200 words (70 MB).

For each shape:
1. feedparser alone: `feedparser.parse` on every document;
2. the whole pipeline into an empty store (parse, normalise, tokenise, store), in one
   process, with two parse processes, and as `monitor ingest` picks (by the amount of work:
   `ingest.parse_workers`);
3. the CPU time of each step per item, one process (about 3,000 items of the shape);
then, for the first shape only:
4. the same corpus again into that store (nothing changed: must be much cheaper);
5. the same corpus again with every feed's stored bytes-hash cleared, so every entry is
   parsed and compared one by one (the cost of a feed that changed one item).

Each timing is repeated (`--repeat`, fresh store each time, variants interleaved) and the
median is printed. Targets (issues 2 and 8): the pipeline as `monitor ingest` runs it
>= 0.6x the feedparser-alone rate on both shapes; second ingest >= 5x faster.

Usage: .venv/bin/python bench/bench_ingest.py [--repeat 3] [--shapes 120x25,60x200L]
(a shape is FEEDSxITEMS, with L for long articles)
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

from monitor import feedwriter, ingest, parse
from monitor.store import DuckDBStore

WORDS_DE = (
    "Regierung Bundestag Koalition Haushalt Energie Wirtschaft Verhandlungen Sicherheit "
    "Kommission Gemeinde Bürger Schule Verkehr Klima Strompreis Außenpolitik Grenze Gipfel "
    "Friedensgespräche Sanktionen Wahlkampf Umfrage Abstimmung Industrie Export Inflation"
).split()
FUNCTION_DE = "der die das und nicht mit für auf dem den ein eine ist sind wird hat".split()
WORDS_EN = (
    "government parliament coalition budget energy economy negotiations security commission "
    "council citizens school traffic climate prices foreign border summit talks sanctions "
    "campaign poll vote industry exports inflation markets"
).split()
FUNCTION_EN = "the and not with for on a an is are will has of to in that".split()
TAGS = (
    "Trump Putin UkraineKonflikt Friedensgespräche Außenpolitik Wahl Energie Klima Haushalt "
    "Sanktionen NATO EU Handel Zölle Inflation"
).split()
AUTHORS = ["Anna Berg", "Jonas Weber", "Claire Dupont", "Mark Ellis", "Lea Vogt", "Sam Price"]


ARTICLE_WORDS = (150, 900)
LONG_ARTICLE_WORDS = (400, 1200)


def make_corpus(
    feeds: int, items: int, seed: int = 11, words_per_article: tuple[int, int] = ARTICLE_WORDS
) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    style = feedwriter.Style(newline="", encoding="UTF-8")
    documents = []
    for f in range(feeds):
        german = f % 2 == 0
        words, function = (WORDS_DE, FUNCTION_DE) if german else (WORDS_EN, FUNCTION_EN)
        entries = []
        for i in range(items):
            # The draws stay in this order: the same seed gives the same corpus as before.
            length = rng.randint(*words_per_article)
            body = " ".join(
                rng.choice(function) if rng.random() < 0.45 else rng.choice(words)
                for _ in range(length)
            )
            tags = " ".join("#" + t for t in rng.sample(TAGS, rng.randint(0, 8)))
            html = f"<p>{escape(body)}</p><h2>Zwischentitel</h2><p>{escape(tags)}</p>"
            when = start + timedelta(minutes=rng.randint(0, 300 * 24 * 60))
            title = " ".join(rng.sample(words, 6))
            author = rng.choice(AUTHORS)
            entries.append(
                feedwriter.Entry(
                    title=title,
                    link=f"https://feed{f}.example/{i}?utm_source=rss",
                    guid=f"https://feed{f}.example/{i}",
                    published=when,
                    authors=(author,),
                    categories=tuple(rng.sample(TAGS, 2)),
                    summary=html,
                )
            )
        channel = feedwriter.Channel(
            title=f"Feed {f}",
            link=f"https://feed{f}.example/",
            description="Bench",
            language="de" if german else "en",
        )
        documents.append(feedwriter.rss(channel, entries, style))
    return documents


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the parse workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_feedparser(corpus: list[bytes]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), cpu_seconds()
    for document in corpus:
        feedparser.parse(io.BytesIO(document))
    return time.perf_counter() - started, cpu_seconds() - cpu


def time_pipeline(store: DuckDBStore, corpus: list[bytes], workers: int) -> tuple[float, int]:
    """The pipeline as `monitor ingest DIR` runs it (documents already in memory)."""
    known = ingest.known_hashes(store)
    documents = [
        ingest.Document(f"feed{n}", f"https://feed{n}.example/rss", "http", content)
        for n, content in enumerate(corpus)
    ]
    started = time.perf_counter()
    reports = ingest.ingest_documents(store, documents, known=known, workers=workers)
    seconds = time.perf_counter() - started
    failed = [r.line() for r in reports if r.failed]
    if failed:
        sys.exit(f"bench: {failed[0]}")
    return seconds, sum(r.counts.new for r in reports)


def forget_hashes(store: DuckDBStore) -> None:
    with store.write() as con:
        con.execute("UPDATE feeds SET body_hash = NULL").fetchall()


def cpu_stages(corpus: list[bytes], repeat: int) -> dict[str, float]:
    """CPU milliseconds per item of each step, one process, median of `repeat`; with the
    garbage collector set as a run sets it (`ingest.collecting_less`)."""
    with ingest.collecting_less():
        return _cpu_stages(corpus, repeat)


def _cpu_stages(corpus: list[bytes], repeat: int) -> dict[str, float]:
    items = sum(document.count(b"<item>") for document in corpus)
    now = datetime.now(UTC)
    stages: dict[str, list[float]] = {"feedparser": [], "pipeline feedparser": [], "parse": []}
    stages["store"] = []
    for _ in range(repeat):
        cpu = cpu_seconds()
        for document in corpus:
            feedparser.parse(io.BytesIO(document))
        stages["feedparser"].append(cpu_seconds() - cpu)
        cpu = cpu_seconds()
        for document in corpus:  # the options parse.parse_feed passes
            feedparser.parse(io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False)
        stages["pipeline feedparser"].append(cpu_seconds() - cpu)
        cpu = cpu_seconds()
        parsed = [
            parse.parse_feed(
                d, source=f"f{n}", feed_url=f"https://feed{n}.example/rss", fetched_at=now
            )
            for n, d in enumerate(corpus)
        ]
        stages["parse"].append(cpu_seconds() - cpu)
        with tempfile.TemporaryDirectory() as tmp:
            store = DuckDBStore(Path(tmp) / "stages.duckdb")
            store.ensure_schema()
            cpu = cpu_seconds()
            with store.session():
                ingest.store_turns(
                    store,
                    [
                        ingest.Turn.parsed(
                            p,
                            feed_url=f"https://feed{n}.example/rss",
                            kind="http",
                            digest=None,
                            now=now,
                        )
                        for n, p in enumerate(parsed)
                    ],
                )
            stages["store"].append(cpu_seconds() - cpu)
    return {name: 1000 * statistics.median(v) / items for name, v in stages.items()}


@dataclass(frozen=True)
class Shape:
    feeds: int
    items: int
    long: bool

    @classmethod
    def parse(cls, text: str) -> Shape:
        match = re.fullmatch(r"(\d+)x(\d+)(L?)", text.strip())
        if not match:
            raise argparse.ArgumentTypeError(f"not a shape: {text!r} (e.g. 120x25 or 60x200L)")
        return cls(int(match[1]), int(match[2]), bool(match[3]))

    @property
    def label(self) -> str:
        return f"{self.feeds}x{self.items}{' long' if self.long else ''}"

    def corpus(self) -> list[bytes]:
        words = LONG_ARTICLE_WORDS if self.long else ARTICLE_WORDS
        return make_corpus(self.feeds, self.items, words_per_article=words)


def measure(corpus: list[bytes], items: int, picked: int, repeat: int) -> dict[str, float]:
    """Median seconds per variant; `second` and `entrywise` come with the one-process runs."""
    times: dict[str, list[float]] = {"fp": [], "one": [], "two": [], "second": [], "entrywise": []}
    for _ in range(repeat):
        # Interleaved, so a burst of load from elsewhere hits every variant alike.
        times["fp"].append(time_feedparser(corpus)[0])
        for variant, count in (("one", 0), ("two", 2)):
            with tempfile.TemporaryDirectory() as tmp:
                store = DuckDBStore(Path(tmp) / "bench.duckdb")
                store.ensure_schema()
                seconds, new = time_pipeline(store, corpus, count)
                if new != items:
                    sys.exit(f"bench: stored {new} new articles, expected {items}")
                times[variant].append(seconds)
                if variant == "one":
                    times["second"].append(time_pipeline(store, corpus, count)[0])
                    forget_hashes(store)
                    times["entrywise"].append(time_pipeline(store, corpus, count)[0])
    median = {k: statistics.median(v) for k, v in times.items() if v}
    median["picked"] = median["two"] if picked else median["one"]
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes",
        type=lambda text: [Shape.parse(part) for part in text.split(",")],
        default=[Shape(120, 25, False), Shape(60, 200, True)],
        help="corpus shapes, FEEDSxITEMS[L] separated by commas (default 120x25,60x200L)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shapes: list[Shape] = args.shapes

    results: list[tuple[Shape, int, int, float, dict[str, float]]] = []
    for shape in shapes:
        corpus = shape.corpus()
        items = shape.feeds * shape.items
        size = sum(map(len, corpus))
        picked = ingest.parse_workers(len(corpus), size)
        print(
            f"corpus {shape.label}: {items} items, {size / 1e6:.1f} MB; "
            f"`monitor ingest` picks {picked} parse processes",
            flush=True,
        )
        results.append((shape, items, picked, size, measure(corpus, items, picked, args.repeat)))

    width = 22
    print(f"\nmedian of {args.repeat} runs, items per second (ratio to feedparser alone):")
    print(" " * 40 + "".join(f"{shape.label:>{width}}" for shape, *_ in results))

    def row(label: str, key: str, ratio: bool = True) -> None:
        cells = []
        for _shape, items, _picked, _size, median in results:
            rate = f"{items / median[key]:,.0f}/s"
            cells.append(f"{rate} ({median['fp'] / median[key]:.2f}x)" if ratio else rate)
        print(f"  {label:38}" + "".join(f"{cell:>{width}}" for cell in cells))

    row("feedparser alone", "fp", ratio=False)
    row("whole pipeline, one process", "one")
    row("whole pipeline, 2 parse processes", "two")
    row("whole pipeline as `monitor ingest` picks", "picked")
    print("  " + " " * 38 + "".join(f"{f'({p} processes)':>{width}}" for _, _, p, _, _ in results))
    print("  target: >= 0.6x feedparser alone, as `monitor ingest` picks, on every shape")

    first_shape, first_items, _, _, first = results[0]
    print(f"\nsecond ingest of {first_shape.label} (one process):")
    print(
        f"  same bytes                            {first_items / first['second']:9,.0f}/s   "
        f"{first['one'] / first['second']:.0f}x faster than the first (target >= 5)"
    )
    print(
        f"  entry by entry (bytes-hash cleared)   {first_items / first['entrywise']:9,.0f}/s   "
        f"{first['one'] / first['entrywise']:.1f}x faster than the first"
    )
    print("\nCPU milliseconds per item, one process (less sensitive to other load than rates):")
    print(" " * 40 + "".join(f"{shape.label:>{width}}" for shape, *_ in results))
    all_stages = []
    for shape, *_ in results:
        corpus = shape.corpus()
        # About 3,000 items of each shape: enough for a stable figure per item.
        all_stages.append(cpu_stages(corpus[: max(1, 3000 // shape.items)], args.repeat))

    def cpu_row(label: str, value: Callable[[dict[str, float]], float], ratio: bool) -> None:
        cells = []
        for stages in all_stages:
            cell = f"{value(stages):.2f}"
            if ratio:
                cell += f" ({value(stages) / stages['feedparser']:.2f}x)"
            cells.append(cell)
        print(f"  {label:38}" + "".join(f"{cell:>{width}}" for cell in cells))

    cpu_row("feedparser alone (default options)", lambda st: st["feedparser"], False)
    cpu_row("feedparser as the pipeline calls it", lambda st: st["pipeline feedparser"], False)
    cpu_row("normalise + tokenise", lambda st: st["parse"] - st["pipeline feedparser"], False)
    cpu_row("store (DuckDB, grouped)", lambda st: st["store"], False)
    cpu_row(
        "our own work (normalise..store)",
        lambda st: st["parse"] - st["pipeline feedparser"] + st["store"],
        True,
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
