"""The store: idempotent re-ingest, updates in place, one story in two feeds, migrations,
two processes sharing the file, and a process killed mid-run."""

from __future__ import annotations

import ast
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from feedgen import Item, rss

from monitor import analyze, ingest
from monitor.errors import InputError
from monitor.models import Filters, ParsedFeed
from monitor.parse import parse_feed
from monitor.store import SCHEMA_VERSION, DuckDBStore, StoreError, open_store
from monitor.store.base import (
    EXPORT_COLUMNS,
    FeedUpdate,
    FetchRecord,
    SaveCounts,
    Storage,
)
from monitor.store.base import (
    TABLES as COPY_TABLES,
)
from monitor.store.duckdb import raw_connection

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def ingest_doc(
    store: DuckDBStore, content: bytes, url: str = "https://a.example/feed"
) -> ingest.SourceReport:
    return ingest.ingest_bytes(store, content, source=url, feed_url=url, kind="http", now=NOW)


def count(store: DuckDBStore, sql: str) -> int:
    with store.read() as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


ROLLUP_FROM_TERMS = """
    SELECT CAST(t.published AS DATE), coalesce(a.language, ''), t.term, sum(t.n), count(*)
    FROM article_terms t JOIN articles a ON a.id = t.article_id GROUP BY 1, 2, 3
"""


def assert_keys_unique(store: DuckDBStore) -> None:
    """What the store's writer keeps unique (the tables have no key constraints of their own)."""
    for sql in (
        "SELECT count(*) - count(DISTINCT id) FROM articles",
        "SELECT count(*) - count(DISTINCT (feed_id, entry_key)) FROM article_feeds",
        "SELECT count(*) - count(DISTINCT (feed_id, article_id)) FROM article_feeds",
        "SELECT count(*) - count(DISTINCT (article_id, author)) FROM article_authors",
        "SELECT count(*) - count(DISTINCT (article_id, key)) FROM article_tags",
        "SELECT count(*) - count(DISTINCT (article_id, term)) FROM article_terms",
    ):
        assert count(store, sql) == 0, sql


FORMS_FROM_TERMS = """
    SELECT term, display, count(*) FROM article_terms
    WHERE display IS NOT NULL AND display <> '' GROUP BY 1, 2
"""


def assert_rollup_matches_terms(store: DuckDBStore) -> None:
    """The per-day term rollup and the display forms' uses are exactly what the stored terms
    add up to."""
    with store.read() as con:
        kept = sorted(con.execute("SELECT * FROM term_daily").fetchall())
        computed = sorted(con.execute(ROLLUP_FROM_TERMS).fetchall())
        forms = sorted(con.execute("SELECT term, display, uses FROM term_forms").fetchall())
        counted = sorted(con.execute(FORMS_FROM_TERMS).fetchall())
    assert kept == computed
    assert kept, "no terms stored: the comparison would prove nothing"
    assert forms == counted and forms


def test_new_store_has_current_schema(store: DuckDBStore) -> None:
    store.ensure_schema()
    with store.read() as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(SCHEMA_VERSION),)


def test_newer_schema_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    DuckDBStore(path).ensure_schema()
    con = raw_connection(path)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema version 999 is newer"):
        DuckDBStore(path).ensure_schema()


def test_not_a_database_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("this is not a database\n")
    with pytest.raises(StoreError) as info:
        DuckDBStore(path).ensure_schema()
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_reingest_same_content_adds_nothing(store: DuckDBStore) -> None:
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
    assert_keys_unique(store)


TABLES = ("articles", "article_feeds", "article_authors", "article_tags", "article_terms")


def test_changed_entry_is_updated_in_place_with_its_tags_and_terms(store: DuckDBStore) -> None:
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
    assert_rollup_matches_terms(store)
    assert_keys_unique(store)
    assert "kartoffel" not in set(analyze.terms(store, Filters())["term"])


def test_same_story_in_two_feeds_is_one_article_linked_to_both(store: DuckDBStore) -> None:
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


def test_entry_without_date_keeps_its_first_seen_time(store: DuckDBStore) -> None:
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


def test_duplicate_entries_inside_one_document_are_stored_once(store: DuckDBStore) -> None:
    item = Item("Doppelt", link="https://a.example/d")
    report = ingest_doc(store, rss([item, item]))
    assert report.counts.new == 1 and report.counts.duplicates == 1


def test_remove_feed_keeps_articles_other_feeds_carry(store: DuckDBStore) -> None:
    shared = Item("Geteilt", link="https://news.example/shared")
    ingest_doc(
        store, rss([shared, Item("Nur A", link="https://a.example/only")]), "https://a.example/feed"
    )
    ingest_doc(store, rss([shared]), "https://b.example/feed")
    from monitor import subscriptions

    message = subscriptions.remove_feed(store, "https://a.example/feed")
    assert "1 articles" in message
    assert count(store, "SELECT count(*) FROM articles") == 1
    assert_rollup_matches_terms(store)
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
    from monitor.store import DuckDBStore
    store = DuckDBStore({db!r})
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
    store = DuckDBStore(db)
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
    DuckDBStore(db).ensure_schema()
    writer = _writer(db, feeds=200, items=50)
    assert writer.stdout is not None
    finished = []
    for line in writer.stdout:
        finished.append(int(line))
        if len(finished) >= 5:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=30)  # reaps it and closes the pipes
    store = DuckDBStore(db)
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


def _tables(store: DuckDBStore) -> dict[str, list[tuple[object, ...]]]:
    """Every stored row that does not depend on the order of writing."""
    sql = {
        "articles": "SELECT * EXCLUDE (first_seen, updated_at) FROM articles",
        "article_feeds": "SELECT f.url, af.entry_key, af.article_id, af.entry_hash, af.published "
        "FROM article_feeds af JOIN feeds f ON f.id = af.feed_id",
        "article_authors": "SELECT * FROM article_authors",
        "article_tags": "SELECT * FROM article_tags",
        "article_terms": "SELECT * FROM article_terms",
        "term_daily": "SELECT * FROM term_daily",
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
    grouped, single = (
        DuckDBStore(tmp_path / "grouped.duckdb"),
        DuckDBStore(tmp_path / "single.duckdb"),
    )
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
    assert_rollup_matches_terms(grouped)
    assert_keys_unique(grouped)
    assert_keys_unique(single)
    assert count(grouped, "SELECT count(*) FROM articles") == 3
    assert count(grouped, "SELECT count(*) FROM article_feeds") == 4


def test_a_feed_the_store_refuses_fails_alone_in_its_group(store: DuckDBStore) -> None:
    def parsed(url: str, title: object) -> ingest.Turn:
        site = url.replace("\ud800", "")
        report = parse_feed(
            rss([Item("Gut", link=site + "/1"), Item("Zwei", link=site + "/2")]),
            source=url,
            feed_url=url,
            fetched_at=NOW,
        )
        first, *rest = report.articles
        articles = (replace(first, title=title), *rest)  # type: ignore[arg-type]
        return ingest.Turn.parsed(
            replace(report, articles=articles),
            feed_url=url,
            kind="http",
            digest="hash-" + url,
            now=NOW,
        )

    group = [
        parsed("https://a.example/feed", "Gut"),
        parsed("https://b.example/feed", None),  # NOT NULL: the store leaves out this entry
        parsed("https://c.example/feed\ud800", "Gut"),  # not Unicode: the store refuses it
        parsed("https://d.example/feed", "Auch gut"),
    ]
    reports = ingest.store_turns(store, group)
    assert [r.status for r in reports] == ["stored", "stored", "failed", "stored"]
    assert reports[2].error is not None and "\n" not in reports[2].error
    # A bad entry costs that entry, named in the feed's warning; its other entry is stored.
    assert (reports[1].counts.new, reports[1].counts.dropped) == (1, 1)
    assert reports[1].warning is not None and "title is missing" in reports[1].warning
    assert count(store, "SELECT count(*) FROM articles") == 5
    # Nothing of the refused feed was kept, not even its bytes' hash.
    assert count(store, "SELECT count(*) FROM feeds WHERE url LIKE 'https://c.example/%'") == 0


# -- the per-day term rollup --------------------------------------------------------------


def _dated(day: int, hour: int, body: str, link: str) -> Item:
    return Item(link, link=link, date=f"{day:02d} Nov 2026 {hour:02d}:30:00 +0000", body=body)


def test_rollup_follows_updates_that_move_an_article_to_another_day_and_language(
    store: DuckDBStore,
) -> None:
    url = "https://a.example/feed"
    first = _dated(3, 23, "Kartoffel Kartoffel Zwiebel", "https://a.example/1")
    ingest_doc(store, rss([first, _dated(4, 1, "Zwiebel Lauch", "https://a.example/2")]), url)
    assert_rollup_matches_terms(store)
    # The same entry, now dated a day later, in English, with other words.
    moved = replace(first, date="04 Nov 2026 08:00:00 +0000", body="potato leek leek")
    report = ingest_doc(
        store,
        rss([moved, _dated(4, 1, "Zwiebel Lauch", "https://a.example/2")], language="en"),
        url,
    )
    assert report.counts.updated == 2
    assert_rollup_matches_terms(store)
    with store.read() as con:
        days = {str(r[0]) for r in con.execute("SELECT DISTINCT day FROM term_daily").fetchall()}
    assert days == {"2026-11-04"}  # nothing left behind on the 3rd


def test_migration_builds_the_rollup_for_a_store_made_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    store = DuckDBStore(path)
    ingest_doc(
        store,
        rss(
            [_dated(d, 9, f"Wahl Gipfel Nummer{d}", f"https://a.example/{d}") for d in range(1, 6)]
        ),
    )
    con = raw_connection(path)
    con.execute("DROP TABLE term_daily")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    again = DuckDBStore(path)
    again.ensure_schema()
    assert_rollup_matches_terms(again)


@pytest.fixture(scope="module")
def spread_store(tmp_path_factory: pytest.TempPathFactory) -> DuckDBStore:
    """Two feeds (de, en) with articles at every few hours over ten days."""
    store = DuckDBStore(tmp_path_factory.mktemp("spread") / "spread.duckdb")
    words_de = ["Wahl", "Gipfel", "Zoll", "Hafen", "Streik", "Ernte", "Sturm"]
    words_en = ["election", "summit", "tariff", "harbour", "strike", "harvest", "storm"]
    for lang, words in (("de", words_de), ("en", words_en)):
        items = []
        for n in range(60):
            day, hour = 1 + n // 6, (n * 4) % 24
            body = " ".join(words[(n + k) % len(words)] for k in range(1 + n % 5))
            items.append(_dated(day, hour, body, f"https://{lang}.example/{n}"))
        ingest_doc(store, rss(items, language=lang), f"https://{lang}.example/feed")
    return store


WINDOWS = [
    (None, None),
    (datetime(2026, 11, 3, tzinfo=UTC), None),  # from midnight
    (datetime(2026, 11, 3, 7, 15, tzinfo=UTC), None),  # from inside a day
    (None, datetime(2026, 11, 6, 13, 0, tzinfo=UTC)),
    (datetime(2026, 11, 2, 22, 0, tzinfo=UTC), datetime(2026, 11, 8, 2, 0, tzinfo=UTC)),
    (datetime(2026, 11, 4, 1, 0, tzinfo=UTC), datetime(2026, 11, 4, 20, 0, tzinfo=UTC)),
    (datetime(2026, 11, 4, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC)),  # one whole day
    (datetime(2026, 11, 4, 12, 0, tzinfo=UTC), datetime(2026, 11, 5, 12, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize("since, until", WINDOWS)
@pytest.mark.parametrize("languages", [(), ("en",), ("de", "en")])
def test_terms_from_the_rollup_equal_terms_from_every_article(
    spread_store: DuckDBStore,
    since: datetime | None,
    until: datetime | None,
    languages: tuple[str, ...],
) -> None:
    from monitor.store.duckdb import query

    f = Filters(since=since, until=until, languages=languages)
    with spread_store.read() as con:
        rolled = query.terms(con, f, limit=1000)
        direct = query.terms(con, f, limit=1000, rollup=False)
        total = query.term_counts(con, f, limit=5).attrs["total"]
        direct_total = con.execute(
            "SELECT coalesce(sum(x.n), 0) FROM ("
            + query.term_rows(f, p := [], rollup=False)
            + ") x",
            p,
        ).fetchone()
    assert not direct.empty or (since, until) == WINDOWS[5]
    assert rolled.records() == direct.records()
    assert direct_total is not None and total == int(direct_total[0])


# -- time buckets in the display time zone -------------------------------------------------


@pytest.fixture(scope="module")
def odd_times(tmp_path_factory: pytest.TempPathFactory) -> tuple[DuckDBStore, list[datetime]]:
    """Articles at irregular minutes across both autumn DST changes (EU and US), with two
    authors and tags so the splits have series."""
    import random

    rng = random.Random(5)
    store = DuckDBStore(tmp_path_factory.mktemp("odd") / "odd.duckdb")
    start = datetime(2026, 10, 20, tzinfo=UTC)
    moments = sorted(start + timedelta(minutes=rng.randrange(0, 17 * 24 * 60)) for _ in range(400))
    items = [
        Item(
            f"A{n}",
            link=f"https://t.example/{n}",
            date=format_datetime(when),
            author=["Ada", "Bo", "Cy"][n % 3],
            categories=[f"T{n % 11}"],
        )
        for n, when in enumerate(moments)
    ]
    ingest_doc(store, rss(items), "https://t.example/feed")
    return store, moments


ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Australia/Lord_Howe",
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("by", ["hour", "day", "week"])
def test_buckets_in_a_time_zone_match_converting_every_article(
    odd_times: tuple[DuckDBStore, list[datetime]], zone: str, by: str
) -> None:
    from collections import Counter
    from zoneinfo import ZoneInfo

    store, moments = odd_times
    local = [m.astimezone(ZoneInfo(zone)).replace(tzinfo=None) for m in moments]

    def start_of(t: datetime) -> datetime:
        if by == "hour":
            return t.replace(minute=0, second=0)
        day = t.replace(hour=0, minute=0, second=0)
        return day if by == "day" else day - timedelta(days=day.weekday())

    want = Counter(start_of(t) for t in local)
    with store.read() as con:
        from monitor.store.duckdb import query

        got = query.frequency(con, Filters(), by=by, timezone=zone)
        split = query.frequency(con, Filters(), by=by, timezone=zone, split="author", top=2)
        grid = query.heatmap(con, Filters(), timezone=zone)
    assert dict(zip(got["bucket"], got["count"], strict=True)) == want
    per_bucket: Counter[datetime] = Counter()
    for bucket, _series, n in split.rows:
        per_bucket[bucket] += n
    assert per_bucket == want
    assert set(split["series"]) == {"Ada", "Bo", "other"}
    cells = Counter((t.weekday(), t.hour) for t in local)
    assert {(int(w), int(h)): int(c) for w, h, c in grid.rows} == cells


def test_reading_shares_one_connection_and_lets_go_for_writes(store: DuckDBStore) -> None:
    ingest_doc(store, rss([Item("Eins", link="https://a.example/1")]))
    with store.session():
        with store.read() as first_con, store.read() as second_con:
            assert first_con is second_con
        # A write in the same thread gives the read connection up first...
        ingest_doc(store, rss([Item("Zwei", link="https://a.example/2")]))
        # ...and the next read sees what was written.
        assert count(store, "SELECT count(*) FROM articles") == 2
    # After the block the file is free: another process can write at once.
    code = (
        "import sys; from monitor.store.duckdb import raw_connection; "
        "c = raw_connection(sys.argv[1]); "
        "c.execute('CREATE TABLE x (i INTEGER)'); c.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(store.path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# -- the Storage interface of the DuckDB engine ----------------------------------------------


def _parsed(url: str, items: list[Item], title: str = "Testfeed") -> ParsedFeed:
    return parse_feed(rss(items, title=title), source=url, feed_url=url, fetched_at=NOW)


def test_duckdb_store_implements_every_storage_method() -> None:
    wanted = {
        name
        for name, value in vars(Storage).items()
        if callable(value) and not name.startswith("_")
    }
    missing = {name for name in wanted if not callable(getattr(DuckDBStore, name, None))}
    assert not missing
    assert isinstance(DuckDBStore("unused.duckdb"), Storage)


def test_save_feeds_stores_a_group_with_its_fetch_records(store: DuckDBStore) -> None:
    known, _ = store.add_feed("https://a.example/feed", now=NOW)
    gone, _ = store.add_feed("https://b.example/feed", now=NOW)
    moved, _ = store.add_feed("https://c.example/old", now=NOW)
    later = NOW + timedelta(hours=1)
    ok = FetchRecord(status=200, error=None, next_due=later, etag='"v1"', last_modified="Mon")
    updates = [
        # a subscribed feed fetched: articles, its parse and its fetch
        FeedUpdate(
            feed_id=known,
            parsed=_parsed("https://a.example/feed", [Item("Eins", link="https://a.example/1")]),
            body_hash="hash-a",
            fetch=ok,
            now=NOW,
        ),
        # a document ingested from a file: the feed is registered by its URL
        FeedUpdate(
            url="file:///tmp/x.xml",
            kind="file",
            parsed=_parsed("file:///tmp/x.xml", [Item("Zwei", link="https://x.example/2")]),
            body_hash="hash-x",
            now=NOW,
        ),
        # 410 Gone: no articles, the feed disabled
        FeedUpdate(
            feed_id=gone,
            fetch=FetchRecord(
                status=410, error="410 Gone", next_due=None, disable_reason="410 Gone: removed"
            ),
            now=NOW,
        ),
        # a permanent redirect: the feed takes its new URL
        FeedUpdate(
            feed_id=moved,
            parsed=_parsed("https://c.example/new", [Item("Drei", link="https://c.example/3")]),
            fetch=replace(ok, permanent_url="https://c.example/new"),
            now=NOW,
        ),
    ]
    counts = store.save_feeds(updates)
    assert [c.new for c in counts] == [1, 1, 0, 1]
    a = store.feed_state("https://a.example/feed")
    assert a is not None
    assert (a["etag"], a["last_modified"], a["last_status"], a["error_count"]) == (
        '"v1"',
        "Mon",
        200,
        0,
    )
    assert (a["body_hash"], a["title"], a["next_due_at"]) == (
        "hash-a",
        "Testfeed",
        later.replace(tzinfo=None),
    )
    x = store.feed_state("file:///tmp/x.xml")
    assert x is not None and (x["kind"], x["subscribed"], x["body_hash"]) == (
        "file",
        False,
        "hash-x",
    )
    b = store.feed_state("https://b.example/feed")
    assert b is not None
    assert (b["disabled"], b["disabled_reason"], b["error_count"]) == (True, "410 Gone: removed", 1)
    assert store.feed_state("https://c.example/old") is None
    c = store.feed_state("https://c.example/new")
    assert c is not None and c["id"] == moved
    assert store.stats(Filters())["articles"] == 3
    # Again: nothing new; a turn without a parse (a 304) touches no articles.
    again = store.save_feeds([replace(updates[0], parsed=None, fetch=replace(ok, status=304))])
    assert again == [SaveCounts()]
    assert store.entry_hashes(known) and store.stats(Filters())["articles"] == 3
    a = store.feed_state("https://a.example/feed")
    assert a is not None and (a["last_status"], a["body_hash"]) == (304, "hash-a")


def test_save_feeds_keeps_nothing_of_a_failing_group(store: DuckDBStore) -> None:
    def update(url: str) -> FeedUpdate:
        link = url.replace("\ud800", "") + "/1"
        return FeedUpdate(url=url, parsed=_parsed(url, [Item("Eins", link=link)]), now=NOW)

    group = [
        update("https://a.example/feed"),
        update("https://b.example/feed\ud800"),  # not Unicode: the store refuses it
        update("https://c.example/feed"),
    ]
    with pytest.raises(StoreError) as info:
        store.save_feeds(group)
    assert "\n" not in str(info.value) and "could not store" in str(info.value)
    assert store.feeds().empty and store.stats(Filters())["articles"] == 0
    # One by one (what the caller does next): only the bad feed fails.
    outcomes = []
    for one in group:
        try:
            outcomes.append(store.save_feeds([one])[0].new)
        except StoreError:
            outcomes.append(None)
    assert outcomes == [1, None, 1]
    assert store.feed_state("https://a.example/feed") is not None
    assert len(store.feeds()) == 2


def test_save_feeds_takes_the_same_feed_twice_in_a_group(store: DuckDBStore) -> None:
    url = "https://a.example/feed"
    first_doc = _parsed(url, [Item("Eins", link="https://a.example/1", body="alt")])
    second_doc = _parsed(url, [Item("Eins", link="https://a.example/1", body="neu und anders")])
    counts = store.save_feeds(
        [FeedUpdate(url=url, parsed=first_doc, now=NOW), FeedUpdate(url=url, parsed=second_doc)]
    )
    assert [(c.new, c.updated) for c in counts] == [(1, 0), (0, 1)]


def _other_process_can_write(path: Path) -> bool:
    code = (
        "import sys\n"
        "from monitor.store.duckdb import raw_connection\n"
        "try:\n"
        "    c = raw_connection(sys.argv[1])\n"
        "except Exception:\n"
        "    sys.exit(3)\n"
        "c.execute('CREATE TABLE IF NOT EXISTS x (i INTEGER)')\n"
        "c.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, timeout=60)
    assert done.returncode in (0, 3), done.stderr
    return done.returncode == 0


def test_session_shares_a_reader_then_holds_one_writer(store: DuckDBStore) -> None:
    ingest_doc(store, rss([Item("Eins", link="https://a.example/1")]))
    with store.session(hold=60):
        with store.read() as one, store.read() as two:
            assert one is two
        store.add_stopwords("de", ["wort"])  # the first write: the reader is given up
        with store.write() as writer, store.read() as reader:
            assert writer is reader
        assert store.user_stopwords()["word"] == ["wort"]
        # Held across commits: no other process gets the file until hold seconds pass.
        assert not _other_process_can_write(store.path)
    assert _other_process_can_write(store.path)


def test_session_lets_the_writer_go_at_a_commit_after_hold(store: DuckDBStore) -> None:
    store.ensure_schema()
    with store.session(hold=0):
        store.add_stopwords("de", ["wort"])
        # Let go at that commit: another process writes while the session goes on...
        assert _other_process_can_write(store.path)
        # ...and the next write takes the file again.
        assert store.remove_stopwords("de", ["wort"]) == 1
    assert store.user_stopwords().empty


def test_interrupt_stops_a_running_statement_as_keyboard_interrupt(store: DuckDBStore) -> None:
    store.ensure_schema()
    timer = threading.Timer(0.5, store.interrupt)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt), store.read() as con:
            con.execute("SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3")
    finally:
        timer.cancel()
    assert time.monotonic() - started < 20
    assert store.stats(Filters())["articles"] == 0  # the store works on
    # In a write, the transaction is rolled back.
    store.add_stopwords("de", ["wort"])
    timer = threading.Timer(0.5, store.interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt), store.write() as con:
            con.execute("DELETE FROM stopwords")
            con.execute("SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3")
    finally:
        timer.cancel()
    assert store.user_stopwords()["word"] == ["wort"]


def _fill(store: DuckDBStore, shared_feeds: Path) -> None:
    documents = [
        ingest.Document(str(p), f"https://feeds.example/{p.name}", "http", p.read_bytes())
        for p in sorted(shared_feeds.glob("*.xml"))[:6]
    ]
    ingest.ingest_documents(store, documents, now=NOW)
    store.add_stopwords("de", ["wort", "noch"])
    store.remove_stopwords("de", ["noch"])


def _copy(source: DuckDBStore, target: DuckDBStore, *, size: int, stop_after: int | None) -> int:
    """`monitor copy` in miniature; stops (as if killed) after `stop_after` pages."""
    with source.session(), target.session():
        return _copy_tables(source, target, size=size, stop_after=stop_after)


def _copy_tables(
    source: DuckDBStore, target: DuckDBStore, *, size: int, stop_after: int | None
) -> int:
    pages = 0
    for table, keys in COPY_TABLES.items():
        after: tuple[object, ...] | None = None
        while True:
            rows = source.read_rows(table, after=after, size=size)
            if rows.empty:
                break
            target.write_rows(table, rows)
            pages += 1
            if stop_after is not None and pages >= stop_after:
                return pages
            last = rows.records()[-1]
            after = tuple(last[k] for k in keys)
    target.finish_copy()
    return pages


def test_copy_between_two_duckdb_stores_resumes_and_rebuilds(
    tmp_path: Path, shared_feeds: Path
) -> None:
    source = DuckDBStore(tmp_path / "source.duckdb")
    _fill(source, shared_feeds)
    target = DuckDBStore(tmp_path / "target.duckdb")
    # Killed halfway, then run again from the start: the rows already there are skipped.
    _copy(source, target, size=40, stop_after=2)  # the feeds, then a page of articles
    assert target.count_rows("articles") == 40 < source.count_rows("articles")
    _copy(source, target, size=500, stop_after=None)
    with source.session(), target.session():
        for table in COPY_TABLES:
            big = source.count_rows(table) + 1
            assert target.read_rows(table, after=None, size=big) == source.read_rows(
                table, after=None, size=big
            ), table
        assert source.count_rows("article_terms") > 100  # the comparison proves something
        rollup = "SELECT * FROM term_daily ORDER BY ALL"
        with source.read() as theirs, target.read() as ours:
            assert ours.execute(rollup).fetchall() == theirs.execute(rollup).fetchall()
    assert target.terms(Filters(), limit=20) == source.terms(Filters(), limit=20)
    assert target.stats(Filters()) == source.stats(Filters())
    # New feeds of the copy get ids of their own, past the copied ones.
    highest = max(target.feeds()["id"])
    new_id, created = target.add_feed("https://new.example/feed", now=NOW)
    assert created and new_id > highest


def test_read_rows_pages_by_key(store: DuckDBStore) -> None:
    ingest_doc(store, rss([Item(f"T{i}", link=f"https://a.example/{i}") for i in range(7)]))
    seen: list[str] = []
    after: tuple[object, ...] | None = None
    while not (page := store.read_rows("articles", after=after, size=3)).empty:
        seen.extend(page["id"])
        after = (page["id"][-1],)
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 7
    with pytest.raises(ValueError, match="unknown table"):
        store.read_rows("meta; DROP TABLE feeds", after=None, size=1)


def test_export_batches_give_every_article_newest_first(
    store: DuckDBStore, shared_feeds: Path
) -> None:
    _fill(store, shared_feeds)
    batches = list(store.export_batches(Filters(), size=17))
    assert all(b.columns == EXPORT_COLUMNS for b in batches)
    assert [len(b) for b in batches[:-1]] == [17] * (len(batches) - 1)
    rows = [r for b in batches for r in b.records()]
    assert len(rows) == store.stats(Filters())["articles"] > 17
    published = [r["published"] for r in rows]
    assert published == sorted(published, reverse=True)
    for row in rows:
        assert isinstance(row["feed_urls"], tuple) and row["feed_urls"]
        assert isinstance(row["authors"], tuple) and isinstance(row["tags"], tuple)
    # The same as the old export (the columns, the lists as lists).
    old = list(analyze.export_rows(store, Filters()))
    assert [r["id"] for r in old] == [r["id"] for r in rows]


def test_info_and_data_version(store: DuckDBStore) -> None:
    info = store.info()
    assert (info.name, info.location, info.schema_version, info.read_only) == (
        "duckdb",
        str(store.path),
        SCHEMA_VERSION,
        False,
    )
    assert info.version.count(".") >= 2
    before = store.data_version()
    store.add_stopwords("de", ["wort"])
    assert store.data_version() != before


def test_open_store_reads_every_form_of_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_DB", raising=False)
    default = open_store()
    assert isinstance(default, DuckDBStore) and default.path == Path("data/monitor.duckdb")
    monkeypatch.setenv("MONITOR_DB", str(tmp_path / "env.duckdb"))
    env = open_store(read_only=True, lock_timeout=3)
    assert isinstance(env, DuckDBStore)
    assert (env.path, env.read_only, env.lock_timeout) == (tmp_path / "env.duckdb", True, 3)
    assert isinstance(open_store(tmp_path / "p.duckdb"), DuckDBStore)
    assert isinstance(open_store(str(tmp_path / "s.duckdb"), salvage=True), DuckDBStore)
    for bad, why in (
        ("ftp://host/x", "unknown store location scheme 'ftp'"),
        ("clickhouse://user:secret@host:port/db", "not a valid clickhouse:// location"),
        ("clickhouse:///db", "names a server"),
        ("chdb://", "names a folder"),
        ("", "empty"),
    ):
        with pytest.raises(InputError, match=why) as info:
            open_store(bad)
        assert "secret" not in str(info.value) and "\n" not in str(info.value)
    if importlib.util.find_spec("monitor.store.clickhouse") is None:
        with pytest.raises(StoreError, match=r"install monitor\[clickhouse\]"):
            open_store(f"chdb://{tmp_path}/ch")


DRIVERS = {"duckdb", "clickhouse_connect", "chdb"}
ENGINES = ("src/monitor/store/duckdb/", "src/monitor/store/clickhouse/")


def test_only_the_engines_import_their_drivers() -> None:
    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted(root.glob("**/*.py")):
        name = path.relative_to(root).as_posix()
        if name.startswith((".venv/", "build/")) or name.startswith(ENGINES):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            found += [f"{name}:{node.lineno}" for m in modules if m.split(".")[0] in DRIVERS]
    assert found == []
