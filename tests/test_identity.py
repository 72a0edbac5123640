"""Identity of entries across fetches and feeds, what the run says it merged, and entries the
store cannot hold (left out one by one, never the whole feed). Real DuckDB files throughout;
the single-document cases are also fixture feeds (tests/fixtures/expect/identity-*.xml)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from feedgen import Item, rss

from monitor import analyze, ingest
from monitor.models import Article, Filters, Tag
from monitor.normalize import canonical_url
from monitor.parse import parse_feed
from monitor.store import DuckDBStore

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOME = "https://ticker.example/"


def _ingest(
    store: DuckDBStore, items: list[Item], url: str = "https://ticker.example/feed", days: int = 0
) -> ingest.SourceReport:
    return ingest.ingest_bytes(
        store, rss(items), source=url, feed_url=url, kind="http", now=NOW + timedelta(days=days)
    )


def _count(store: DuckDBStore, sql: str) -> int:
    with store.read() as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _titles(store: DuckDBStore) -> list[str]:
    return sorted(r["title"] for r in analyze.export_rows(store, Filters()))


def _assert_keys_unique(store: DuckDBStore) -> None:
    for sql in (
        "SELECT count(*) - count(DISTINCT id) FROM articles",
        "SELECT count(*) - count(DISTINCT (feed_id, entry_key)) FROM article_feeds",
        "SELECT count(*) - count(DISTINCT (feed_id, article_id)) FROM article_feeds",
    ):
        assert _count(store, sql) == 0, sql


# --- one feed, many fetches ---------------------------------------------------------------


def test_entries_sharing_a_page_stay_apart_across_fetches(store: DuckDBStore) -> None:
    """A ticker whose items all link to the home page: the first fetch has one item, later
    ones more, items roll off; no item is ever merged into another."""
    first = Item("Meldung 1", link=HOME, guid="t1")
    second = Item("Meldung 2", link=HOME, guid="t2")
    third = Item("Meldung 3", link=HOME, guid="t3")
    assert _ingest(store, [first]).counts.new == 1
    report = _ingest(store, [second, first], days=1)
    assert (report.counts.new, report.counts.unchanged, report.counts.merged) == (1, 1, 0)
    report = _ingest(store, [third, second], days=2)  # "Meldung 1" rolled off
    assert (report.counts.new, report.counts.unchanged, report.counts.merged) == (1, 1, 0)
    assert _titles(store) == ["Meldung 1", "Meldung 2", "Meldung 3"]
    # Fetched again, nothing changes.
    report = _ingest(store, [third, second], days=3)
    assert (report.counts.new, report.counts.updated, report.counts.unchanged) == (0, 0, 2)
    _assert_keys_unique(store)


def test_a_one_item_feed_with_a_new_guid_and_title_each_time_keeps_every_item(
    store: DuckDBStore,
) -> None:
    for day in range(3):
        _ingest(store, [Item(f"Lage am Tag {day}", link=HOME, guid=f"lage-{day}")], days=day)
    assert _titles(store) == ["Lage am Tag 0", "Lage am Tag 1", "Lage am Tag 2"]
    _assert_keys_unique(store)


def test_a_changed_guid_is_the_same_entry(store: DuckDBStore) -> None:
    """The feed's CMS changed every guid: same links, same titles, the old guids gone. The
    stored entries take the new guids (merged, with the reason), nothing is duplicated; the
    next fetch finds them by the new guid."""
    old = [Item("A", link="https://c.example/a", guid="?p=1", body="Alt")]
    old.append(Item("B", link="https://c.example/b", guid="?p=2"))
    _ingest(store, old, "https://c.example/feed")
    new = [Item("A", link="https://c.example/a", guid="tag:a", body="Neu")]
    new.append(Item("B", link="https://c.example/b", guid="tag:b"))
    report = _ingest(store, new, "https://c.example/feed", days=1)
    assert (report.counts.new, report.counts.merged, report.counts.rekeyed) == (0, 2, 2)
    assert report.counts.merge_reasons == {
        "same link and title as a stored entry under another guid": 2
    }
    assert "2 merged (2 same link and title as a stored entry under another guid)" in (
        report.line()
    )
    assert _titles(store) == ["A", "B"]
    texts = {r["title"]: r["text"] for r in analyze.export_rows(store, Filters())}
    assert texts["A"] == "Neu"  # the changed content was stored
    with store.read() as con:
        keys = sorted(k for (k,) in con.execute("SELECT entry_key FROM article_feeds").fetchall())
    assert keys == ["tag:a", "tag:b"]
    again = _ingest(store, new, "https://c.example/feed", days=2)
    assert (again.counts.unchanged, again.counts.merged) == (2, 0)
    _assert_keys_unique(store)


def test_forum_posts_stored_merged_before_are_recovered(store: DuckDBStore) -> None:
    """Before this change, guid-less posts differing only by "#post-2" were one entry (keyed
    by the link without fragment). Read again, the old entry becomes post 1 (same title) and
    post 2 is stored: no duplicate, nothing lost."""
    url = "https://forum.example/feed"
    with store.write() as con:
        con.execute(
            "INSERT INTO feeds (url, kind, subscribed, added_at) VALUES (?, 'http', TRUE, ?)",
            [url, NOW.replace(tzinfo=None)],
        )
    thread = "https://forum.example/t/1"
    parsed = parse_feed(rss([Item("Frage", link=thread)]), source=url, feed_url=url, fetched_at=NOW)
    legacy = replace(parsed.articles[0], entry_key=thread)  # how the old code keyed it
    ingest.store_turns(
        store,
        [
            ingest.Turn.parsed(
                replace(parsed, articles=(legacy,)), feed_url=url, kind="http", digest="x", now=NOW
            )
        ],
    )
    posts = [Item("Frage", link=thread + "#post-1"), Item("Antwort", link=thread + "#post-2")]
    report = _ingest(store, posts, url, days=1)
    assert (report.counts.new, report.counts.rekeyed) == (1, 1)
    assert _titles(store) == ["Antwort", "Frage"]
    urls = sorted(r["url"] for r in analyze.export_rows(store, Filters()))
    assert urls == [thread + "#post-1", thread + "#post-2"]
    _assert_keys_unique(store)


# --- many feeds -----------------------------------------------------------------------------


def test_a_group_of_feeds_sharing_pages_stores_what_one_at_a_time_stores(
    tmp_path: object,
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    docs = {
        "https://a.example/feed": [
            Item("Story", link="https://news.example/story", guid="a1"),
            Item("Home 1", link="https://news.example/", guid="a2"),
            Item("Home 2", link="https://news.example/", guid="a3"),
        ],
        "https://b.example/feed": [
            Item("Story", link="https://news.example/story?utm_source=b", guid="b1"),
            Item("Home", link="https://news.example/", guid="b2"),
        ],
    }
    one = DuckDBStore(tmp_path / "one.duckdb")
    for url, items in docs.items():
        _ingest(one, items, url)
    group = DuckDBStore(tmp_path / "group.duckdb")
    turns = [
        ingest.Turn.parsed(
            parse_feed(rss(items), source=url, feed_url=url, fetched_at=NOW),
            feed_url=url,
            kind="http",
            digest=url,
            now=NOW,
        )
        for url, items in docs.items()
    ]
    reports = ingest.store_turns(group, turns)  # one store call for both feeds
    assert [r.counts.new for r in reports] == [3, 1] and reports[1].counts.linked == 1
    for store in (one, group):
        # The story is one article in both feeds; the two home-page items of feed a are two
        # articles, and b's home-page item is its own article (the page is not the story).
        assert _count(store, "SELECT count(*) FROM articles") == 4
        assert _count(store, "SELECT count(*) FROM article_feeds") == 5
        _assert_keys_unique(store)
    rows = [
        sorted(
            (r["title"], r["id"], tuple(r["feed_urls"])) for r in analyze.export_rows(s, Filters())
        )
        for s in (one, group)
    ]
    assert rows[0] == rows[1]


def test_the_run_summary_counts_merges_and_left_out_entries(store: DuckDBStore) -> None:
    item = Item("Doppelt", link="https://s.example/d", guid="d")
    report = _ingest(store, [item, item, Item("Einmal", link="https://s.example/e")])
    assert (report.counts.new, report.counts.merged, report.counts.duplicates) == (2, 1, 1)
    assert "1 merged (1 repeated in the document)" in report.line()
    summary = ingest.summarize([report, report])
    assert (summary["merged"], summary["merged_repeated"], summary["merged_new_guid"]) == (2, 2, 0)
    assert summary["not_stored"] == 0


# --- what the store can hold ----------------------------------------------------------------


def _article(**changes: object) -> Article:
    parsed = parse_feed(
        rss([Item("Gut", link="https://bad.example/x", guid="x")]),
        source="s",
        feed_url="https://bad.example/feed",
        fetched_at=NOW,
    )
    return replace(parsed.articles[0], **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"comments": 3_000_000_000}, "comments 3000000000 does not fit the store"),
        ({"comments": -1}, "comments -1 does not fit the store"),
        ({"word_count": 2**40}, "word_count"),
        ({"reading_minutes": 1.5}, "reading_minutes '1.5' is not a whole number"),
        ({"title": None}, "title is missing"),
        ({"text": "kaputt \ud800"}, "not valid Unicode"),
        ({"url": "https://bad.example/\udfff"}, "not valid Unicode"),
        ({"authors": ("Anna", None)}, "an author, tag or term is not text"),
        ({"tags": (Tag("k", "Anzeige \ud83d", "category"),)}, "not valid Unicode"),
        ({"terms": (("wort", 0, "Wort"),)}, "a term count does not fit the store"),
        ({"terms": (("wort", 2**31, "Wort"),)}, "a term count does not fit the store"),
        ({"published": None}, "published is not a time"),
    ],
)
def test_an_entry_the_store_cannot_hold_is_left_out_alone(
    store: DuckDBStore, changes: dict[str, object], reason: str
) -> None:
    url = "https://bad.example/feed"
    parsed = parse_feed(
        rss([Item(f"Gut {n}", link=f"https://bad.example/{n}", guid=f"g{n}") for n in range(4)]),
        source=url,
        feed_url=url,
        fetched_at=NOW,
    )
    articles = list(parsed.articles)
    articles[2] = replace(articles[2], **changes)  # type: ignore[arg-type]
    (report,) = ingest.store_turns(
        store,
        [
            ingest.Turn.parsed(
                replace(parsed, articles=tuple(articles)),
                feed_url=url,
                kind="http",
                digest="d",
                now=NOW,
            )
        ],
    )
    assert report.status == "stored"
    assert (report.counts.new, report.counts.dropped) == (3, 1)
    assert report.warning is not None and reason in report.warning and "'g2'" in report.warning
    assert "\n" not in report.warning
    assert _titles(store) == ["Gut 0", "Gut 1", "Gut 3"]
    with store.read() as con:
        stored_warning = con.execute("SELECT warning FROM feeds").fetchone()
    assert stored_warning is not None and reason in stored_warning[0]
    assert ingest.summarize([report])["not_stored"] == 1


def test_scheme_relative_and_scheme_less_links() -> None:
    assert canonical_url("//cdn.example.org/x", "http://f.example/") == "http://cdn.example.org/x"
    assert canonical_url("//cdn.example.org/x") == "https://cdn.example.org/x"
    assert canonical_url("example.github.io/post", "https://f.example/feed") == (
        "https://example.github.io/post"
    )
