"""Ingest benchmark: feedparser alone vs the whole pipeline into the store, side by side.

Generates a corpus of RSS documents (seeded, German and English, realistic article length,
authors, categories and a closing hashtag line), then in one run and on the same bytes:

1. feedparser alone: `feedparser.parse` on every document;
2. the whole pipeline into an empty store (parse, normalise, tokenise, store), in one
   process and with the parse worker processes `monitor ingest` starts for 100+ documents;
3. the same corpus again into that store (nothing changed: must be much cheaper);
4. the same corpus again with every feed's stored bytes-hash cleared, so every entry is
   parsed and compared one by one (the cost of a feed that changed one item).

Each timing is repeated (`--repeat`, fresh store each time, variants interleaved) and the
median is printed; then the CPU time of each step, measured in one process.
Targets (issue 2): pipeline >= 0.6x the feedparser-alone rate; second ingest >= 5x faster.

Usage: .venv/bin/python bench/bench_ingest.py [--feeds 120] [--items 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

from monitor import ingest, parse
from monitor.store import Store

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


def make_corpus(feeds: int, items: int, seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    documents = []
    for f in range(feeds):
        german = f % 2 == 0
        words, function = (WORDS_DE, FUNCTION_DE) if german else (WORDS_EN, FUNCTION_EN)
        out = io.StringIO()
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        )
        out.write(f"<title>Feed {f}</title><link>https://feed{f}.example/</link>")
        out.write(
            f"<description>Bench</description><language>{'de' if german else 'en'}</language>"
        )
        for i in range(items):
            length = rng.randint(150, 900)
            body = " ".join(
                rng.choice(function) if rng.random() < 0.45 else rng.choice(words)
                for _ in range(length)
            )
            tags = " ".join("#" + t for t in rng.sample(TAGS, rng.randint(0, 8)))
            html = f"<p>{escape(body)}</p><h2>Zwischentitel</h2><p>{escape(tags)}</p>"
            when = start + timedelta(minutes=rng.randint(0, 300 * 24 * 60))
            out.write("<item>")
            out.write(f"<title>{escape(' '.join(rng.sample(words, 6)))}</title>")
            out.write(f"<link>https://feed{f}.example/{i}?utm_source=rss</link>")
            out.write(f"<guid>https://feed{f}.example/{i}</guid>")
            out.write(f"<pubDate>{format_datetime(when)}</pubDate>")
            out.write(f"<dc:creator>{rng.choice(AUTHORS)}</dc:creator>")
            for category in rng.sample(TAGS, 2):
                out.write(f"<category>{category}</category>")
            out.write(f"<description>{escape(html)}</description>")
            out.write("</item>")
        out.write("</channel></rss>")
        documents.append(out.getvalue().encode("utf-8"))
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


def time_pipeline(store: Store, corpus: list[bytes], workers: int) -> tuple[float, int]:
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


def forget_hashes(store: Store) -> None:
    with store.write() as con:
        con.execute("UPDATE feeds SET body_hash = NULL").fetchall()


def cpu_stages(corpus: list[bytes], repeat: int) -> dict[str, float]:
    """CPU milliseconds per item of each step, one process, median of `repeat`."""
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
            store = Store(Path(tmp) / "stages.duckdb")
            store.ensure_schema()
            cpu = cpu_seconds()
            with store.holding():
                ingest.store_group(
                    store,
                    [
                        ingest.Parsed(p.source, f"https://feed{n}.example/rss", "http", "", p)
                        for n, p in enumerate(parsed)
                    ],
                    now=now,
                )
            stages["store"].append(cpu_seconds() - cpu)
    return {name: 1000 * statistics.median(v) / items for name, v in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=120)
    parser.add_argument("--items", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, help="parse processes (default: as ingest picks)")
    args = parser.parse_args()

    corpus = make_corpus(args.feeds, args.items)
    items = args.feeds * args.items
    megabytes = sum(map(len, corpus)) / 1e6
    print(f"corpus: {args.feeds} feeds x {args.items} items = {items} items, {megabytes:.1f} MB")

    workers = ingest.parse_workers(len(corpus)) if args.workers is None else args.workers
    print(
        f"parse worker processes as `monitor ingest` picks them: {workers} "
        f"(os.cpu_count() = {os.cpu_count()})"
    )
    times: dict[str, list[float]] = {
        "fp": [],
        "one": [],
        "workers": [],
        "second": [],
        "entrywise": [],
    }
    for _ in range(args.repeat):
        # Interleaved, so a burst of load from elsewhere hits every variant alike.
        times["fp"].append(time_feedparser(corpus)[0])
        for variant, count in (("one", 0), ("workers", workers)):
            if variant == "workers" and not workers:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "bench.duckdb")
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
    fp, first = median["fp"], median["one"]
    print(f"median of {args.repeat} runs, items per second:")
    print(f"  feedparser alone                      {items / fp:9.0f}/s")
    print(
        f"  whole pipeline, one process           {items / first:9.0f}/s   "
        f"ratio to feedparser {fp / first:.2f} (target >= 0.6)"
    )
    if "workers" in median:
        print(
            f"  whole pipeline, {workers} parse processes     {items / median['workers']:9.0f}/s   "
            f"ratio to feedparser {fp / median['workers']:.2f} (target >= 0.6)"
        )
    second, entrywise = median["second"], median["entrywise"]
    print(
        f"  second ingest, same bytes             {items / second:9.0f}/s   "
        f"{first / second:.0f}x faster than the first (target >= 5)"
    )
    print(
        f"  second ingest, entry by entry         {items / entrywise:9.0f}/s   "
        f"{first / entrywise:.1f}x faster than the first"
    )
    stages = cpu_stages(corpus, args.repeat)
    ours = stages["parse"] - stages["pipeline feedparser"] + stages["store"]
    print("CPU milliseconds per item, one process (less sensitive to other load):")
    print(f"  feedparser alone (default options)    {stages['feedparser']:9.2f}")
    print(f"  feedparser as the pipeline calls it   {stages['pipeline feedparser']:9.2f}")
    normalise = stages["parse"] - stages["pipeline feedparser"]
    print(f"  normalise + tokenise                  {normalise:9.2f}")
    print(f"  store (DuckDB, grouped)               {stages['store']:9.2f}")
    print(
        f"  our own work (normalise..store)       {ours:9.2f}   "
        f"{ours / stages['feedparser']:.2f}x feedparser alone"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
