"""The store: idempotent re-ingest, updates in place, one story in two feeds, migrations,
two processes sharing the file, and a process killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from feedgen import Item, rss

from monitor import analyze, ingest
from monitor.models import Filters
from monitor.parse import parse_feed
from monitor.store import SCHEMA_VERSION, Store, StoreError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def ingest_doc(
    store: Store, content: bytes, url: str = "https://a.example/feed"
) -> ingest.SourceReport:
    return ingest.ingest_bytes(store, content, source=url, feed_url=url, kind="http", now=NOW)


def count(store: Store, sql: str) -> int:
    with store.read() as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_new_store_has_current_schema(store: Store) -> None:
    store.ensure_schema()
    with store.read() as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(SCHEMA_VERSION),)


def test_newer_schema_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    Store(path).ensure_schema()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema version 999 is newer"):
        Store(path).ensure_schema()


def test_not_a_database_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("this is not a database\n")
    with pytest.raises(StoreError) as info:
        Store(path).ensure_schema()
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_reingest_same_content_adds_nothing(store: Store) -> None:
    doc = rss(
        [
            Item("Erster", link="https://a.example/1", author="Anna Berg", categories=["Politik"]),
            Item("Zweiter #Wahl", link="https://a.example/2", author="Bernd Kurz"),
        ]
    )
    first = ingest_doc(store, doc)
    assert (first.counts.new, first.counts.updated) == (2, 0)
    before = {t: count(store, f"SELECT count(*) FROM {t}") for t in TABLES}
    # Without the byte-hash shortcut: the same entries are compared one by one.
    second = ingest_doc(store, doc)
    assert (second.counts.new, second.counts.updated, second.counts.unchanged) == (0, 0, 2)
    after = {t: count(store, f"SELECT count(*) FROM {t}") for t in TABLES}
    assert before == after


TABLES = ("articles", "article_feeds", "article_authors", "article_tags", "article_terms")


def test_changed_entry_is_updated_in_place_with_its_tags_and_terms(store: Store) -> None:
    ingest_doc(
        store,
        rss(
            [
                Item(
                    "Alt",
                    guid="g1",
                    link="https://a.example/1",
                    body="Kartoffel #Ernte",
                    categories=["Landwirtschaft"],
                )
            ]
        ),
    )
    report = ingest_doc(
        store,
        rss(
            [
                Item(
                    "Neu",
                    guid="g1",
                    link="https://a.example/1",
                    body="Zwiebel #Markt",
                    categories=["Handel"],
                )
            ]
        ),
    )
    assert (report.counts.new, report.counts.updated) == (0, 1)
    assert count(store, "SELECT count(*) FROM articles") == 1
    with store.read() as con:
        title = con.execute("SELECT title FROM articles").fetchone()
        tags = {r[0] for r in con.execute("SELECT key FROM article_tags").fetchall()}
        terms = {r[0] for r in con.execute("SELECT term FROM article_terms").fetchall()}
    assert title == ("Neu",)
    assert tags == {"handel", "markt"}
    assert "zwiebel" in terms and "kartoffel" not in terms


def test_same_story_in_two_feeds_is_one_article_linked_to_both(store: Store) -> None:
    story = "https://news.example/2026/11/story?utm_source=rss&utm_medium=feed"
    ingest_doc(store, rss([Item("Story", link=story, body="Text A")]), "https://a.example/feed")
    report = ingest_doc(
        store,
        rss([Item("Story", link="https://news.example/2026/11/story", body="Text B")]),
        "https://b.example/feed",
    )
    assert report.counts.linked == 1 and report.counts.new == 0
    assert count(store, "SELECT count(*) FROM articles") == 1
    assert count(store, "SELECT count(*) FROM article_feeds") == 2
    rows = list(analyze.export_rows(store, Filters()))
    assert sorted(rows[0]["feed_urls"]) == ["https://a.example/feed", "https://b.example/feed"]
    assert rows[0]["url"] == "https://news.example/2026/11/story"
    # Ingesting both again in either order changes nothing (no flip-flopping between feeds).
    again_a = ingest_doc(
        store, rss([Item("Story", link=story, body="Text A")]), "https://a.example/feed"
    )
    assert (again_a.counts.updated, again_a.counts.new) == (0, 0)
    assert analyze.stats(store, Filters())["feeds"] == 2


def test_entry_without_date_keeps_its_first_seen_time(store: Store) -> None:
    doc = rss([Item("Ohne Datum", link="https://a.example/x", date=None)])
    ingest.ingest_bytes(store, doc, source="s", feed_url="https://a.example/feed", now=NOW)
    later = datetime(2026, 11, 22, tzinfo=UTC)
    report = ingest.ingest_bytes(
        store, doc, source="s", feed_url="https://a.example/feed", now=later
    )
    assert report.counts.unchanged == 1
    with store.read() as con:
        row = con.execute("SELECT published, date_source FROM articles").fetchone()
    assert row == (NOW.replace(tzinfo=None), "first-seen")


def test_duplicate_entries_inside_one_document_are_stored_once(store: Store) -> None:
    item = Item("Doppelt", link="https://a.example/d")
    report = ingest_doc(store, rss([item, item]))
    assert report.counts.new == 1 and report.counts.duplicates == 1


def test_remove_feed_keeps_articles_other_feeds_carry(store: Store) -> None:
    shared = Item("Geteilt", link="https://news.example/shared")
    ingest_doc(
        store, rss([shared, Item("Nur A", link="https://a.example/only")]), "https://a.example/feed"
    )
    ingest_doc(store, rss([shared]), "https://b.example/feed")
    from monitor import subscriptions

    message = subscriptions.remove_feed(store, "https://a.example/feed")
    assert "1 articles" in message
    assert count(store, "SELECT count(*) FROM articles") == 1
    assert (
        count(
            store,
            "SELECT count(*) FROM article_tags WHERE article_id NOT IN (SELECT id FROM articles)",
        )
        == 0
    )


# -- two processes, and a process killed in the middle ----------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    sys.path.insert(0, {tests!r})
    from feedgen import Item, rss
    from monitor import ingest
    from monitor.store import Store
    store = Store({db!r})
    for n in range({feeds}):
        items = [Item(f"Artikel {{n}}-{{i}}", link=f"https://w.example/{{n}}/{{i}}",
                      body="Wort " * 300) for i in range({items})]
        ingest.ingest_bytes(store, rss(items), source="w", feed_url=f"https://w.example/{{n}}",
                            kind="http")
        print(n, flush=True)
    """
)


def _writer(db: Path, feeds: int, items: int) -> subprocess.Popen[str]:
    code = WRITER.format(tests=str(Path(__file__).parent), db=str(db), feeds=feeds, items=items)
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_reader_and_writer_processes_share_the_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.duckdb"
    store = Store(db)
    store.ensure_schema()
    writer = _writer(db, feeds=30, items=20)
    seen = []
    try:
        while writer.poll() is None:
            seen.append(analyze.stats(store, Filters())["articles"])
            time.sleep(0.05)
    finally:
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert analyze.stats(store, Filters())["articles"] == 600
    # The reader saw the store grow while the other process wrote, feed by feed.
    assert seen == sorted(seen) and len(set(seen)) > 2


def test_killed_process_loses_nothing_it_committed(tmp_path: Path) -> None:
    db = tmp_path / "killed.duckdb"
    Store(db).ensure_schema()
    writer = _writer(db, feeds=200, items=50)
    assert writer.stdout is not None
    finished = []
    for line in writer.stdout:
        finished.append(int(line))
        if len(finished) >= 5:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=30)  # reaps it and closes the pipes
    store = Store(db)
    articles = count(store, "SELECT count(*) FROM articles")
    # Every feed it reported done is there, whole; a feed it was writing is all or nothing.
    assert articles >= 50 * len(finished)
    assert articles % 50 == 0
    assert count(store, "SELECT count(*) FROM article_feeds") == articles
    assert (
        count(
            store,
            "SELECT count(*) FROM article_terms WHERE article_id NOT IN (SELECT id FROM articles)",
        )
        == 0
    )
    # And the store takes more writes afterwards.
    report = ingest_doc(store, rss([Item("Danach", link="https://a.example/after")]))
    assert report.counts.new == 1


def _tables(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every stored row that does not depend on the order of writing."""
    sql = {
        "articles": "SELECT * EXCLUDE (first_seen, updated_at) FROM articles",
        "article_feeds": "SELECT f.url, af.entry_key, af.article_id, af.entry_hash, af.published "
        "FROM article_feeds af JOIN feeds f ON f.id = af.feed_id",
        "article_authors": "SELECT * FROM article_authors",
        "article_tags": "SELECT * FROM article_tags",
        "article_terms": "SELECT * FROM article_terms",
        "feeds": "SELECT url, title, language, body_hash, warning FROM feeds",
    }
    with store.read() as con:
        return {name: sorted(con.execute(q).fetchall(), key=repr) for name, q in sql.items()}


def test_a_group_of_feeds_stores_what_one_feed_at_a_time_stores(tmp_path: Path) -> None:
    story = "https://news.example/story"
    first_run = [
        ("https://a.example/feed", rss([Item("Story", link=story, body="Text A #Gipfel")])),
        (
            "https://b.example/feed",
            rss([Item("Story", link=story + "?utm_source=x", body="Text B")]),
        ),
        (
            "https://c.example/feed",
            rss([Item("Eins", link="https://c.example/1"), Item("Ohne", date=None)]),
        ),
        # The same feed again in one run (a file named twice): its second document wins.
        (
            "https://c.example/feed",
            rss([Item("Eins, neu", link="https://c.example/1", author="Lea Vogt")]),
        ),
    ]
    second_run = [
        ("https://a.example/feed", rss([Item("Story", link=story, body="Text A2 #Gipfel")])),
        ("https://b.example/feed", rss([Item("Story", link=story, body="Text B")])),
    ]
    grouped, single = Store(tmp_path / "grouped.duckdb"), Store(tmp_path / "single.duckdb")
    for run, when in ((first_run, NOW), (second_run, datetime(2026, 11, 21, tzinfo=UTC))):
        documents = [ingest.Document(url, url, "http", content) for url, content in run]
        together = ingest.ingest_documents(grouped, documents, now=when)
        alone = [
            ingest.ingest_bytes(single, content, source=url, feed_url=url, kind="http", now=when)
            for url, content in run
        ]
        assert [(r.status, r.counts) for r in together] == [(r.status, r.counts) for r in alone]
    assert [r.counts.linked for r in together] == [0, 0]
    assert _tables(grouped) == _tables(single)
    assert count(grouped, "SELECT count(*) FROM articles") == 3
    assert count(grouped, "SELECT count(*) FROM article_feeds") == 4


def test_a_feed_the_store_refuses_fails_alone_in_its_group(store: Store) -> None:
    def parsed(url: str, title: object) -> ingest.Parsed:
        report = parse_feed(
            rss([Item("Gut", link=url + "/1")]), source=url, feed_url=url, fetched_at=NOW
        )
        articles = tuple(replace(a, title=title) for a in report.articles)  # type: ignore[arg-type]
        return ingest.Parsed(url, url, "http", "hash-" + url, replace(report, articles=articles))

    group = [
        parsed("https://a.example/feed", "Gut"),
        parsed("https://b.example/feed", None),  # NOT NULL: the store refuses this one
        parsed("https://c.example/feed", "Auch gut"),
    ]
    reports = ingest.store_group(store, group, now=NOW)
    assert [r.status for r in reports] == ["stored", "failed", "stored"]
    assert reports[1].error is not None and "\n" not in reports[1].error
    assert "title" in reports[1].error
    assert count(store, "SELECT count(*) FROM articles") == 2
    # Nothing of the refused feed was kept, not even its bytes' hash.
    assert count(store, "SELECT count(*) FROM feeds WHERE url = 'https://b.example/feed'") == 0
