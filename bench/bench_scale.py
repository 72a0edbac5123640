"""Scale benchmark (issue 4): the dashboard, the CLI and ingest on a big generated store.

One run, figures side by side (medians of `--runs`):

- every page, default filters (last 30 days) and 'all time': server-side render time through
  AppTest, cold (st.cache_data cleared just before) and warm (the same run again), and which
  `monitor.analyze` calls the cold run spent its time in;
- the floor: the same aggregates as hand-written DuckDB SQL on one connection; each page's
  ratio to it;
- the peer: what a typical Streamlit dashboard does (load the tables into pandas once, then
  aggregate there), in its own process for a clean peak RSS; its ratio to the floor;
- the CLI query commands (frequency, tags, terms, authors) with default filters, as whole
  processes;
- ingest rate into an empty store and into a copy of the big store (the same new articles);
- a real `streamlit run` server: time from page.goto to the first chart in Chromium on a
  nearly empty store (1,000 articles: an empty store draws no chart) and on the big store,
  and the server's peak RSS after visiting every page with both ranges;
- store size on disk per article, machine, load average.

Usage:
    .venv/bin/python bench/generate.py --out /tmp/monitor-bench/1m.duckdb
    .venv/bin/python bench/bench_scale.py --db /tmp/monitor-bench/1m.duckdb

Results: a Markdown table on standard output and JSON in bench/out/scale-<articles>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "tests")]

import generate  # noqa: E402

from monitor.store import DuckDBStore  # noqa: E402
from monitor.store.duckdb import raw_connection  # noqa: E402

APP = str(REPO / "app.py")
PAGES = [
    ("overview", "pages/overview.py"),
    ("frequency", "pages/frequency.py"),
    ("tags", "pages/tags.py"),
    ("clouds", "pages/clouds.py"),
    ("authors", "pages/authors.py"),
    ("articles", "pages/articles.py"),
    ("sources", "pages/sources.py"),
]
# The range filter's URL values (pages/_ui/view.py RANGES): None is the default, last 30 days.
RANGES = {"30 days": None, "all time": "all time"}
CLI_COMMANDS = ("frequency", "tags", "terms", "authors")
TARGETS = {
    "cold": 1.0,
    "warm": 0.2,
    "all_cold": 3.0,
    "cli": 1.0,
    "rss_mb": 1024,
    "ingest_ratio": 0.8,
    "chart_ratio": 1.3,
}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot .main-svg"
APP_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in MB, from /proc (Linux)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0]) // 1024
    return out


def store_size(db: Path) -> int:
    wal = db.with_name(db.name + ".wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def count_articles(db: Path) -> int:
    with raw_connection(db, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    return int(row[0]) if row else 0


def window(range_name: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The UTC window a range stands for, as the dashboard builds it (minute rounded up)."""
    if RANGES[range_name] is None:
        until = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
        return until - timedelta(days=30), until
    return None, None


# -- AppTest ------------------------------------------------------------------------------------


@contextmanager
def timed_analyze() -> Iterator[dict[str, float]]:
    """Wrap every public `monitor.analyze` function to add its wall time to a dict."""
    from monitor import analyze

    spent: dict[str, float] = defaultdict(float)
    originals: dict[str, Callable[..., Any]] = {}
    for name in analyze.__all__:
        function = getattr(analyze, name)
        if not callable(function):
            continue
        originals[name] = function

        def wrapper(*args: Any, __f: Any = function, __n: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return __f(*args, **kwargs)
            finally:
                spent[__n] += time.perf_counter() - started

        setattr(analyze, name, wrapper)
    try:
        yield spent
    finally:
        for name, function in originals.items():
            setattr(analyze, name, function)


def apptest_pages(db: Path, runs: int) -> dict[str, Any]:
    """Cold and warm render seconds per page and range; the analyze calls of the cold runs."""
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # no bare-mode warnings
    import streamlit as st
    from streamlit.testing.v1 import AppTest, app_test

    from pages._ui.routing import RouterPagesManager  # the app's own fix; it says why

    app_test.PagesManager = RouterPagesManager  # type: ignore[misc]
    os.environ["MONITOR_DB"] = str(db)
    os.environ.pop("MONITOR_READ_ONLY", None)
    results: dict[str, Any] = {}
    calls: dict[str, dict[str, float]] = {}
    errors: list[str] = []
    for range_name, value in RANGES.items():
        cold: dict[str, list[float]] = defaultdict(list)
        warm: dict[str, list[float]] = defaultdict(list)
        for run in range(runs):
            st.cache_data.clear()
            st.cache_resource.clear()
            at = AppTest.from_file(APP, default_timeout=900)
            if value is not None:
                at.query_params["range"] = value
            at.run()
            for name, path in PAGES:
                st.cache_data.clear()
                with timed_analyze() as spent:
                    started = time.perf_counter()
                    (at.switch_page(path) if name != "overview" else at).run()
                    cold[name].append(time.perf_counter() - started)
                if run == 0:
                    calls[f"{name} / {range_name}"] = {k: round(v, 3) for k, v in spent.items()}
                started = time.perf_counter()
                at.run()
                warm[name].append(time.perf_counter() - started)
                if at.exception:
                    errors.append(f"{name} / {range_name}: {at.exception[0].value}")
            log(
                f"AppTest {range_name} run {run + 1}: "
                + ", ".join(f"{n} {cold[n][-1]:.2f}/{warm[n][-1]:.2f}" for n, _ in PAGES)
            )
        results[range_name] = {
            name: {"cold": median(cold[name]), "warm": median(warm[name])} for name, _ in PAGES
        }
    results["calls"] = calls
    results["errors"] = errors
    results["process_rss_mb"] = proc_status()
    return results


# -- the floor: hand-written SQL ----------------------------------------------------------------


def floor_sql(since: datetime | None, until: datetime | None) -> dict[str, list[tuple[str, str]]]:
    """Per page, the SQL that computes what the page shows, written by hand for DuckDB."""

    def lit(moment: datetime) -> str:
        return f"TIMESTAMP '{moment.astimezone(UTC).replace(tzinfo=None).isoformat()}'"

    if since is not None and until is not None:
        w = f"published >= {lit(since)} AND published < {lit(until)}"
        prev = f"published >= {lit(since - (until - since))} AND published < {lit(since)}"
        bucket = "day"
    else:
        w = prev = "TRUE"
        bucket = "week"
    counts = (
        "SELECT (SELECT count(*) FROM articles WHERE {w}), "
        "(SELECT count(DISTINCT feed_id) FROM article_feeds WHERE {w}), "
        "(SELECT count(DISTINCT author) FROM article_authors WHERE {w}), "
        "(SELECT count(DISTINCT key) FROM article_tags WHERE {w})"
    )
    per_bucket = (
        f"SELECT date_trunc('{bucket}', published) b, count(*) FROM articles WHERE {w} GROUP BY b"
    )
    top_tags = (
        "SELECT key, min(display), count(*) n FROM article_tags WHERE {w} "
        "GROUP BY key ORDER BY n DESC LIMIT {k}"
    )
    # The page of articles first, then only its children (pruned by `published` too).
    newest = (
        f"WITH p AS (SELECT id, published, title FROM articles WHERE {w} "
        "ORDER BY published DESC LIMIT {k}), "
        f"au AS (SELECT article_id, string_agg(author, '; ') x FROM article_authors "
        f"WHERE {w} AND article_id IN (SELECT id FROM p) GROUP BY 1), "
        f"tg AS (SELECT article_id, string_agg(display, '; ') x FROM article_tags "
        f"WHERE {w} AND article_id IN (SELECT id FROM p) GROUP BY 1), "
        f"fe AS (SELECT article_id, string_agg(feed_id::VARCHAR, '; ') x FROM article_feeds "
        f"WHERE {w} AND article_id IN (SELECT id FROM p) GROUP BY 1) "
        "SELECT p.*, au.x, tg.x, fe.x FROM p LEFT JOIN au ON au.article_id = p.id "
        "LEFT JOIN tg ON tg.article_id = p.id LEFT JOIN fe ON fe.article_id = p.id"
    )
    return {
        "overview": [
            ("counts", counts.format(w=w)),
            ("counts before", counts.format(w=prev)),
            ("per bucket", per_bucket),
            ("top tags", top_tags.format(w=w, k=15)),
            ("newest", newest.format(k=12)),
        ],
        "frequency": [
            ("per bucket", per_bucket),
            (
                "heatmap",
                f"SELECT isodow(published), hour(published), count(*) FROM articles "
                f"WHERE {w} GROUP BY 1, 2",
            ),
            (
                "cadence",
                f"SELECT feed_id, count(*), median(gap), max(published) FROM ("
                f"SELECT feed_id, published, epoch(published - lag(published) OVER "
                f"(PARTITION BY feed_id ORDER BY published)) gap FROM article_feeds "
                f"WHERE {w}) GROUP BY feed_id",
            ),
        ],
        "tags": [
            (
                "top 8 per bucket",
                f"WITH top AS (SELECT key FROM article_tags WHERE {w} GROUP BY key "
                f"ORDER BY count(*) DESC LIMIT 8) SELECT date_trunc('{bucket}', published), "
                f"key, count(*) FROM article_tags WHERE {w} AND key IN (SELECT key FROM top) "
                "GROUP BY 1, 2",
            ),
            ("top tags", top_tags.format(w=w, k=25)),
            ("tag counts", f"SELECT key, count(*) FROM article_tags WHERE {w} GROUP BY key"),
            (
                "tag counts before",
                f"SELECT key, count(*) FROM article_tags WHERE {prev} GROUP BY key",
            ),
            (
                "co-occurring",
                f"WITH top AS (SELECT key FROM article_tags WHERE {w} GROUP BY key "
                f"ORDER BY count(*) DESC LIMIT 1) SELECT t.key, count(*) n FROM article_tags t "
                f"WHERE {w} AND t.article_id IN (SELECT article_id FROM article_tags "
                f"WHERE key IN (SELECT key FROM top)) GROUP BY t.key ORDER BY n DESC LIMIT 20",
            ),
        ],
        "clouds": [
            (
                "top terms",
                f"SELECT term, sum(n) c, count(*) FROM article_terms WHERE {w} "
                "AND term NOT IN (SELECT word FROM stopwords WHERE NOT removed) "
                "GROUP BY term ORDER BY c DESC LIMIT 100",
            ),
        ],
        "authors": [
            (
                "per author",
                f"WITH r AS (SELECT author, article_id, published FROM article_authors "
                f"WHERE {w}) SELECT author, count(*), count(DISTINCT af.feed_id), "
                f"min(r.published), max(r.published), avg(a.reading_minutes) FROM r "
                f"JOIN articles a ON a.id = r.article_id "
                f"JOIN article_feeds af ON af.article_id = r.article_id GROUP BY author "
                "ORDER BY 2 DESC LIMIT 500",
            ),
            (
                "top tags per author (the 500 listed)",
                f"WITH top AS (SELECT author FROM article_authors WHERE {w} GROUP BY author "
                "ORDER BY count(*) DESC LIMIT 500) "
                f"SELECT author, key, n FROM (SELECT au.author, t.key, count(*) n, "
                f"row_number() OVER (PARTITION BY au.author ORDER BY count(*) DESC) rk "
                f"FROM (SELECT author, article_id FROM article_authors WHERE {w} "
                "AND author IN (SELECT author FROM top)) au "
                "JOIN article_tags t USING (article_id) GROUP BY au.author, t.key) WHERE rk <= 3",
            ),
        ],
        "articles": [
            ("count", f"SELECT count(*) FROM articles WHERE {w}"),
            ("page", newest.format(k=50)),
        ],
        "sources": [
            (
                "feeds",
                "SELECT f.*, x.n, x.last FROM feeds f LEFT JOIN (SELECT feed_id, count(*) n, "
                "max(published) last FROM article_feeds GROUP BY feed_id) x ON x.feed_id = f.id",
            ),
        ],
    }


def floor(db: Path, runs: int, now: datetime) -> dict[str, Any]:
    """Seconds per page for the hand-written SQL (a fresh read-only connection per page)."""
    results: dict[str, Any] = {}
    for range_name in RANGES:
        since, until = window(range_name, now)
        per_page: dict[str, list[float]] = defaultdict(list)
        per_query: dict[str, list[float]] = defaultdict(list)
        for _ in range(runs):
            for page, queries in floor_sql(since, until).items():
                started = time.perf_counter()
                with raw_connection(db, read_only=True) as con:
                    for label, sql in queries:
                        t = time.perf_counter()
                        con.execute(sql).fetchall()
                        per_query[f"{page}: {label}"].append(time.perf_counter() - t)
                per_page[page].append(time.perf_counter() - started)
        results[range_name] = {p: median(v) for p, v in per_page.items()}
        opens = []
        for _ in range(5):
            started = time.perf_counter()
            raw_connection(db, read_only=True).close()
            opens.append(time.perf_counter() - started)
        results["connect_seconds"] = median(opens)
        results[f"{range_name} queries"] = {q: round(median(v), 3) for q, v in per_query.items()}
        log(
            f"floor {range_name}: " + ", ".join(f"{p} {median(v):.2f}" for p, v in per_page.items())
        )
    return results


# -- the peer: pandas --------------------------------------------------------------------------


def peer_main(db: Path, range_name: str, runs: int, max_term_rows: int) -> None:
    """(In a subprocess.) Load the store's tables into pandas, then aggregate each page there."""
    now = datetime.now(UTC)
    since, until = window(range_name, now)
    started = time.perf_counter()
    con = raw_connection(db, read_only=True)
    articles = con.execute(
        "SELECT id, published, title, url, language, reading_minutes FROM articles"
    ).df()
    links = con.execute("SELECT feed_id, article_id, published FROM article_feeds").df()
    authors = con.execute("SELECT article_id, author, published FROM article_authors").df()
    tags = con.execute("SELECT article_id, key, display, published FROM article_tags").df()
    feeds = con.execute("SELECT * FROM feeds").df()
    # Terms: a typical dashboard would tokenise the text itself; this peer gets them ready-made
    # and only loads the rows of the window (all of them for 'all time', if it dares).
    term_filter = ""
    params: list[Any] = []
    if since is not None:
        term_filter = "WHERE published >= ? AND published < ?"
        params = [since.replace(tzinfo=None), until.replace(tzinfo=None) if until else None]
    term_rows = int(
        con.execute(f"SELECT count(*) FROM article_terms {term_filter}", params).fetchone()[0]  # type: ignore[index]
    )
    terms: pd.DataFrame | None = None
    if term_rows <= max_term_rows:
        terms = con.execute(
            f"SELECT article_id, term, n, published FROM article_terms {term_filter}", params
        ).df()
    con.close()
    load = time.perf_counter() - started

    def in_window(frame: pd.DataFrame, lo: datetime | None, hi: datetime | None) -> pd.DataFrame:
        if lo is None or hi is None:
            return frame
        column = frame["published"]
        return frame[(column >= lo.replace(tzinfo=None)) & (column < hi.replace(tzinfo=None))]

    prev = (since - (until - since), since) if since and until else (None, None)
    bucket = "D" if since is not None else "W"

    def overview() -> None:
        for lo, hi in ((since, until), prev) if prev[0] else ((since, until),):
            a = in_window(articles, lo, hi)
            _ = (len(a), in_window(links, lo, hi)["feed_id"].nunique())
            _ = in_window(authors, lo, hi)["author"].nunique()
            _ = in_window(tags, lo, hi)["key"].nunique()
        a = in_window(articles, since, until)
        a.set_index("published").resample(bucket).size()
        in_window(tags, since, until).groupby("key").size().nlargest(15)
        newest = a.nlargest(12, "published")
        authors[authors["article_id"].isin(newest["id"])]
        tags[tags["article_id"].isin(newest["id"])]

    def frequency() -> None:
        a = in_window(articles, since, until)
        a.set_index("published").resample(bucket).size()
        a.groupby([a["published"].dt.dayofweek, a["published"].dt.hour]).size()
        lk = in_window(links, since, until).sort_values(["feed_id", "published"])
        lk = lk.assign(gap=lk.groupby("feed_id")["published"].diff())
        lk.groupby("feed_id").agg(n=("published", "size"), gap=("gap", "median"))

    def tag_page() -> None:
        t = in_window(tags, since, until)
        top = t.groupby("key").size().nlargest(25)
        t[t["key"].isin(top.index[:8])].groupby(
            [pd.Grouper(key="published", freq=bucket), "key"]
        ).size()
        in_window(tags, *prev).groupby("key").size() if prev[0] else None
        with_top = t[t["key"] == top.index[0]]["article_id"] if len(top) else []
        t[t["article_id"].isin(with_top)].groupby("key").size().nlargest(20)

    def clouds() -> None:
        if terms is None:
            raise MemoryError
        t = in_window(terms, since, until)
        t.groupby("term")["n"].agg(["sum", "size"]).nlargest(100, "sum")

    def author_page() -> None:
        au = in_window(authors, since, until)
        merged = au.merge(articles[["id", "reading_minutes"]], left_on="article_id", right_on="id")
        merged = merged.merge(links[["article_id", "feed_id"]], on="article_id")
        merged.groupby("author").agg(
            articles=("article_id", "nunique"),
            feeds=("feed_id", "nunique"),
            first=("published", "min"),
            last=("published", "max"),
            reading=("reading_minutes", "mean"),
        )
        pairs = au.merge(tags[["article_id", "key"]], on="article_id")
        counted = pairs.groupby(["author", "key"]).size().reset_index(name="n")
        counted.sort_values(["author", "n"], ascending=[True, False]).groupby("author").head(3)

    def article_page() -> None:
        a = in_window(articles, since, until)
        page = a.nlargest(50, "published")
        authors[authors["article_id"].isin(page["id"])]
        tags[tags["article_id"].isin(page["id"])]
        links[links["article_id"].isin(page["id"])]

    def sources() -> None:
        links.groupby("feed_id")["published"].agg(["size", "max"]).join(feeds.set_index("id"))

    pages = {
        "overview": overview,
        "frequency": frequency,
        "tags": tag_page,
        "clouds": clouds,
        "authors": author_page,
        "articles": article_page,
        "sources": sources,
    }
    seconds: dict[str, float | None] = {}
    for name, function in pages.items():
        times = []
        try:
            for _ in range(runs):
                t = time.perf_counter()
                function()
                times.append(time.perf_counter() - t)
            seconds[name] = median(times)
        except MemoryError:
            seconds[name] = None
    print(
        json.dumps(
            {
                "load": load,
                "pages": seconds,
                "term_rows": term_rows,
                "terms_loaded": terms is not None,
                "rss": proc_status(),
            }
        )
    )


def peer(db: Path, runs: int, max_term_rows: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for range_name in RANGES:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--peer",
                range_name,
                "--db",
                str(db),
                "--runs",
                str(runs),
                "--peer-max-term-rows",
                str(max_term_rows),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            results[range_name] = {"error": done.stderr.strip().splitlines()[-1:]}
            log(f"peer {range_name} failed: {done.stderr[-500:]}")
            continue
        results[range_name] = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"peer {range_name}: {results[range_name]}")
    return results


# -- CLI ---------------------------------------------------------------------------------------


def cli(db: Path, runs: int) -> dict[str, float]:
    """Wall seconds of `monitor --db DB <command> --json` as whole processes (median)."""
    script = Path(sys.executable).with_name("monitor")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "monitor.cli"]
    results = {}
    for name in CLI_COMMANDS:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                [*command, "--db", str(db), name, "--json"],
                capture_output=True,
                text=True,
                check=False,
            )
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"monitor {name} failed: {done.stderr.strip()}")
        results[name] = median(times)
    log("cli: " + ", ".join(f"{k} {v:.2f}" for k, v in results.items()))
    return results


# -- ingest ------------------------------------------------------------------------------------


def ingest_rates(db: Path, articles: int, count: int, scratch: Path, runs: int) -> dict[str, Any]:
    """Articles per second through the real ingest: into an empty store and into a copy of
    the big store, the same `count` new articles each time (later articles of the same corpus
    for each of `runs` rounds, empty and big interleaved; medians)."""
    corpus = generate.Corpus(articles=articles + runs * count)
    copy = scratch / "ingest-big.duckdb"
    shutil.copyfile(db, copy)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    os.sync()  # the copy's 4 GB reach the disk now, not while the big store is timed
    empty_rates, big_rates, new = [], [], []
    for round_ in range(runs):
        start = articles + round_ * count
        empty = scratch / f"ingest-empty-{round_}.duckdb"
        DuckDBStore(empty).ensure_schema()
        seconds_empty, new_empty = generate.ingest_slice(DuckDBStore(empty), corpus, start, count)
        seconds_big, new_big = generate.ingest_slice(DuckDBStore(copy), corpus, start, count)
        empty_rates.append(new_empty / seconds_empty)
        big_rates.append(new_big / seconds_big)
        new.append([new_empty, new_big])
        for file in (empty, empty.with_name(empty.name + ".wal")):
            file.unlink(missing_ok=True)
    for file in (copy, copy.with_name(copy.name + ".wal")):
        file.unlink(missing_ok=True)
    result = {
        "articles": count,
        "empty_rate": median(empty_rates),
        "big_rate": median(big_rates),
        "empty_rates": empty_rates,
        "big_rates": big_rates,
        "new": new,
    }
    result["ratio"] = result["big_rate"] / result["empty_rate"]
    log(f"ingest: {result}")
    return result


# -- the browser -------------------------------------------------------------------------------


def browser(db: Path, baseline: Path, runs: int, scratch: Path) -> dict[str, Any]:
    """First chart after page.goto (tiny store vs big store); the big store's server peak RSS
    after visiting every page with both ranges."""
    from live_server import live_server
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for label, path in (("baseline", baseline), ("big", db)):
                with live_server(path, scratch / f"server-{label}.log") as server:
                    times = []
                    for _ in range(runs + 1):  # the first visit finds the server's caches empty
                        context = chromium.new_context(
                            viewport={"width": 1440, "height": 1000}, timezone_id="UTC"
                        )
                        page = context.new_page()
                        started = time.perf_counter()
                        page.goto(server.url + "/", wait_until="domcontentloaded")
                        page.locator(CHART).first.wait_for(state="visible", timeout=600_000)
                        times.append(time.perf_counter() - started)
                        context.close()
                    results[label] = {"first_visit": times[0], "warm": median(times[1:])}
                    if label == "big":
                        context = chromium.new_context(
                            viewport={"width": 1440, "height": 1000}, timezone_id="UTC"
                        )
                        page = context.new_page()
                        for range_value in RANGES.values():
                            query = "" if range_value is None else "?range=all+time"
                            for name, _ in PAGES:
                                page.goto(f"{server.url}/{name}{query}")
                                page.wait_for_timeout(500)
                                page.wait_for_selector(APP_IDLE, timeout=900_000)
                        context.close()
                        results["server_rss_mb"] = proc_status(server.process.pid)
                    log(f"browser {label}: {results[label]}")
        finally:
            chromium.close()
    results["ratio_first_visit"] = (
        results["big"]["first_visit"] / results["baseline"]["first_visit"]
    )
    results["ratio_warm"] = results["big"]["warm"] / results["baseline"]["warm"]
    return results


# -- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(r: dict[str, Any]) -> str:
    lines = [
        f"Store: {r['articles']:,} articles, {r['size_mb']:,.0f} MB on disk "
        f"({r['kb_per_article']:.1f} kB per article). Machine: {r['machine']}. "
        f"Load average before/after: {r['load_before']} / {r['load_after']}.",
        "",
    ]
    app = r.get("apptest")
    fl = r.get("floor")
    pe = r.get("peer")
    if app:
        lines += [
            "| page | range | cold s | warm s | floor s | cold / floor | peer s | peer / floor |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for range_name in RANGES:
            for name, _ in PAGES:
                a = app[range_name][name]
                f = fl[range_name].get(name) if fl else None
                p = None
                if pe and isinstance(pe.get(range_name), dict):
                    p = (pe[range_name].get("pages") or {}).get(name)
                lines.append(
                    f"| {name} | {range_name} | {a['cold']:.2f} | {a['warm']:.2f} | "
                    + (f"{f:.2f} | {a['cold'] / f:.1f}x | " if f else "– | – | ")
                    + (f"{p:.2f} | {p / f:.1f}x |" if p is not None and f else "– | – |")
                )
        lines.append("")
    if pe:
        for range_name in RANGES:
            x = pe.get(range_name) or {}
            if "load" in x:
                lines.append(
                    f"Peer ({range_name}): loading the tables into pandas {x['load']:.1f} s, "
                    f"peak RSS {x['rss'].get('VmHWM', 0):,} MB; article_terms rows in the "
                    f"window {x['term_rows']:,}" + ("" if x["terms_loaded"] else " (not loaded)")
                )
        lines.append("")
    lines += ["| target | figure | verdict |", "|---|---|---|"]
    if app:
        worst_cold = max(app["30 days"][n]["cold"] for n, _ in PAGES)
        worst_warm = max(app["30 days"][n]["warm"] for n, _ in PAGES)
        worst_all = max(app["all time"][n]["cold"] for n, _ in PAGES)
        lines += [
            f"| every page, 30 days, cold <= 1.0 s | slowest {worst_cold:.2f} s | "
            f"{verdict(worst_cold <= TARGETS['cold'])} |",
            f"| every page, 30 days, warm <= 0.2 s | slowest {worst_warm:.2f} s | "
            f"{verdict(worst_warm <= TARGETS['warm'])} |",
            f"| every page, all time, cold <= 3 s | slowest {worst_all:.2f} s | "
            f"{verdict(worst_all <= TARGETS['all_cold'])} |",
        ]
    if r.get("cli"):
        for name, seconds in r["cli"].items():
            lines.append(
                f"| `monitor {name} --json` <= 1 s | {seconds:.2f} s | "
                f"{verdict(seconds <= TARGETS['cli'])} |"
            )
    if r.get("browser"):
        b = r["browser"]
        rss = b["server_rss_mb"].get("VmHWM", 0)
        lines += [
            f"| streamlit server peak RSS <= 1 GB | {rss:,} MB | "
            f"{verdict(rss <= TARGETS['rss_mb'])} |",
            f"| first chart, big / tiny store <= 1.3 | first visit {b['big']['first_visit']:.2f} s"
            f" / {b['baseline']['first_visit']:.2f} s = {b['ratio_first_visit']:.2f}; later "
            f"visits {b['big']['warm']:.2f} / {b['baseline']['warm']:.2f} s = "
            f"{b['ratio_warm']:.2f} | {verdict(b['ratio_first_visit'] <= TARGETS['chart_ratio'])}"
            " |",
        ]
    if r.get("ingest"):
        i = r["ingest"]
        lines.append(
            f"| ingest into the big store >= 0.8x empty | {i['big_rate']:.0f}/s vs "
            f"{i['empty_rate']:.0f}/s = {i['ratio']:.2f}x | {verdict(i['ratio'] >= 0.8)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a store made by generate.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ingest-articles", type=int, default=3000)
    parser.add_argument("--peer-max-term-rows", type=int, default=60_000_000)
    parser.add_argument(
        "--skip", action="append", default=[], help="apptest, floor, peer, cli, ingest, browser"
    )
    parser.add_argument("--json", type=Path, help="where to write the figures as JSON")
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer_main(args.db, args.peer, args.runs, args.peer_max_term_rows)
        return
    if not args.db.exists():
        raise SystemExit(f"{args.db} does not exist: make it with bench/generate.py")
    articles = count_articles(args.db)
    size = store_size(args.db)
    engine = DuckDBStore(args.db, read_only=True).info()
    results: dict[str, Any] = {
        "articles": articles,
        "size_mb": size / 1e6,
        "kb_per_article": size / max(articles, 1) / 1e3,
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, duckdb {engine.version}",
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        scratch = Path(tmp)
        if "floor" not in args.skip:
            results["floor"] = floor(args.db, args.runs, now)
        if "apptest" not in args.skip:
            results["apptest"] = apptest_pages(args.db, args.runs)
        if "peer" not in args.skip:
            results["peer"] = peer(args.db, args.runs, args.peer_max_term_rows)
        if "cli" not in args.skip:
            results["cli"] = cli(args.db, args.runs)
        if "browser" not in args.skip:
            baseline = scratch / "baseline.duckdb"
            generate.generate(baseline, generate.Corpus(articles=1000), workers=0)
            results["browser"] = browser(args.db, baseline, args.runs, scratch)
        if "ingest" not in args.skip:
            results["ingest"] = ingest_rates(
                args.db, articles, args.ingest_articles, scratch, args.runs
            )
    results["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(results)
    print(text)
    out = args.json or REPO / "bench" / "out" / f"scale-{articles}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results, "report": text}, indent=1, default=str))
    log(f"figures written to {out}")


if __name__ == "__main__":
    main()
