"""The scale benchmark's smoke test: a small generated store is what the real pipeline would
store, and bench/bench_scale.py runs on it end to end (every page renders). Correctness only:
no timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard import Dashboard

from monitor import analyze, text
from monitor.models import Filters
from monitor.store import DuckDBStore
from monitor.store.duckdb import Connection, raw_connection

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

SMALL = 20_000
END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
CHROMIUM = Path("/usr/bin/chromium")


def small_corpus(articles: int = SMALL, **kwargs: Any) -> generate.Corpus:
    return generate.Corpus(articles=articles, end=END, **kwargs)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, generate.Generated]:
    """A 20,000-article store in bulk mode (one process: no forked workers under pytest)."""
    path = tmp_path_factory.mktemp("bench") / "small.duckdb"
    done = generate.generate(path, small_corpus(), workers=0)
    return path, done


@pytest.fixture
def con(small: tuple[Path, generate.Generated]) -> Iterator[Connection]:
    with raw_connection(small[0], read_only=True) as connection:
        yield connection


def test_stats_match_what_was_generated(
    small: tuple[Path, generate.Generated], con: Connection
) -> None:
    path, done = small
    stats = analyze.stats(DuckDBStore(path), Filters())
    assert stats["articles"] == SMALL == done.articles
    assert stats["feeds_total"] == 2_000
    links = con.execute("SELECT count(*) FROM article_feeds").fetchone()
    assert links is not None and links[0] == done.links > SMALL  # some articles in two feeds
    terms = con.execute("SELECT count(*) FROM article_terms").fetchone()
    assert terms is not None and terms[0] == done.terms
    # Two years up to END, never after it.
    assert stats["last_published"] < END.replace(tzinfo=None)
    assert stats["first_published"] >= (END - timedelta(days=732)).replace(tzinfo=None)
    assert 0 < stats["authors"] <= 20_000 and 0 < stats["tags"] <= 5_000
    # Realistic length: 150 to 1,500 words of body (plus a closing line of hashtags).
    low, high = con.execute("SELECT min(word_count), max(word_count) FROM articles").fetchone()  # type: ignore[misc]
    assert 150 <= low and high <= 1_500 + 8
    languages = dict(con.execute("SELECT language, count(*) FROM articles GROUP BY 1").fetchall())
    assert set(languages) == {"de", "en"}


def test_volume_is_uneven(con: Connection) -> None:
    """A few very busy feeds and many quiet ones; tags with a long tail."""
    feeds = [r[0] for r in con.execute(
        "SELECT count(*) n FROM article_feeds GROUP BY feed_id ORDER BY n DESC"
    ).fetchall()]  # fmt: skip
    assert feeds[0] > 50 * feeds[len(feeds) // 2]
    tags = [r[0] for r in con.execute(
        "SELECT count(*) n FROM article_tags GROUP BY key ORDER BY n DESC"
    ).fetchall()]  # fmt: skip
    assert tags[0] > 100 * tags[len(tags) // 2]


def test_terms_hold_no_stopwords(small: tuple[Path, generate.Generated]) -> None:
    path, _ = small
    with raw_connection(path, read_only=True) as connection:
        stored = {
            r[0] for r in connection.execute("SELECT DISTINCT term FROM article_terms").fetchall()
        }
    stop = text.stopwords("de") | text.stopwords("en")
    assert stored and not stored & stop
    assert all(len(t) >= 3 and not any(ch.isdigit() for ch in t) for t in stored)
    top = analyze.terms(DuckDBStore(path), Filters(), limit=200)
    assert not set(top["term"]) & stop
    assert {"der", "und", "nicht", "the", "and"}.isdisjoint(stored)


def _table(path: Path, sql: str) -> set[tuple[Any, ...]]:
    with raw_connection(path, read_only=True) as connection:
        return set(connection.execute(sql).fetchall())


TABLES = {
    "articles": "SELECT id, url, title, summary, text, published, date_source, date_assumed_utc, "
    "language, word_count, reading_minutes, comments, fulltext_error FROM articles",
    "article_feeds": "SELECT f.url, af.entry_key, af.article_id, af.entry_hash, af.published "
    "FROM article_feeds af JOIN feeds f ON f.id = af.feed_id",
    "article_authors": "SELECT * FROM article_authors",
    "article_tags": "SELECT * FROM article_tags",
    "article_terms": "SELECT * FROM article_terms",
    "term_daily": "SELECT * FROM term_daily",
    "feeds": "SELECT url, title, site_url, language, kind, subscribed FROM feeds "
    "WHERE id IN (SELECT feed_id FROM article_feeds)",
}


def test_bulk_rows_equal_the_real_ingest(tmp_path: Path) -> None:
    """200 generated articles written in bulk and pushed through the real ingest as RSS:
    every table holds the same rows (same ids, text, terms, tags, authors, content hashes)."""
    corpus = small_corpus(200)
    bulk = tmp_path / "bulk.duckdb"
    generate.generate(bulk, corpus, workers=0)
    real = tmp_path / "real.duckdb"
    store = DuckDBStore(real)
    store.ensure_schema()
    _, new = generate.ingest_slice(store, corpus, 0, 200, workers=0)
    assert new == 200
    for name, sql in TABLES.items():
        got, want = _table(bulk, sql), _table(real, sql)
        assert got, name
        assert got == want, (name, sorted(got - want)[:1], sorted(want - got)[:1])
    # Hashtags in the body are tags and terms alike; categories are tags only.
    sources = {r[0] for r in _table(real, "SELECT DISTINCT source FROM article_tags")}
    assert sources == {"hashtag", "category"}


def test_generation_is_reproducible() -> None:
    first = small_corpus().rows(3, 0, 40)
    again = small_corpus().rows(3, 0, 40)
    other = small_corpus(seed=8).rows(3, 0, 40)
    for key in ("id", "text", "authors", "tags", "hash", "published"):
        assert first[key] == again[key]
    assert first["text"] != other["text"]
    # A slice of a block is the same articles as in the whole block.
    assert small_corpus().rows(3, 10, 20)["hash"] == first["hash"][10:20]


def test_overview_counts_the_generated_store(
    small: tuple[Path, generate.Generated], apptest: Dashboard
) -> None:
    path, _ = small
    at = apptest.open(path, timeout=300, range="all time")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Articles"] == f"{SMALL:,}" or metrics["Articles"] == str(SMALL)


@pytest.mark.slow
def test_bench_script_runs_on_the_small_store(
    small: tuple[Path, generate.Generated], tmp_path: Path
) -> None:
    """bench_scale.py end to end, one run: every page renders in AppTest (both ranges) without
    an exception, and every section reports its figures."""
    path, _ = small
    out = tmp_path / "scale.json"
    command = [
        sys.executable,
        str(ROOT / "bench" / "bench_scale.py"),
        "--db",
        str(path),
        "--runs",
        "1",
        "--ingest-articles",
        "100",
        "--json",
        str(out),
    ]
    if not CHROMIUM.exists():
        command += ["--skip", "browser"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    app = figures["apptest"]
    assert app["errors"] == []
    for range_name in ("30 days", "all time"):
        assert set(app[range_name]) == {
            "overview",
            "frequency",
            "tags",
            "clouds",
            "authors",
            "articles",
            "sources",
        }
        assert set(figures["floor"][range_name]) == set(app[range_name])
        assert figures["peer"][range_name]["pages"]["overview"] is not None
    assert set(figures["cli"]) == {"frequency", "tags", "terms", "authors"}
    # Every round stored its 100 new articles in the empty store and in the big one.
    assert figures["ingest"]["new"] == [[100, 100]] * len(figures["ingest"]["big_rates"])
    assert figures["ingest"]["new"]
    if CHROMIUM.exists():
        assert figures["browser"]["server_rss_mb"]["VmHWM"] > 0
    assert "| overview | 30 days |" in figures["report"]
