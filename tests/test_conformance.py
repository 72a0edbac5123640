"""The conformance suite: one behaviour, proven on both engines (issue 9, section 3).

Part 1 runs every `Storage` method as a behaviour test on each engine (`any_store`: ids
`duckdb` and `chdb`): what a store must do, stated once, whatever holds it. Part 2 builds
the same data in both engines and asks every analysis function (`monitor.analyze`) the same
questions: the answers must be identical, for the demo store (`monitor demo` with a frozen
now) and for a generated store (`bench/generate.py`, copied into chDB by `monitor.copy`).

Values are compared exactly, with their Python types (3 is not 3.0, a naive datetime is not
an aware one). Floats get a tolerance only where an engine computes them: an author's mean
reading time and a feed's median gaps (`ENGINE_FLOATS`); everything else is integers the
engines count and arithmetic analyze does in Python on them.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engines import (
    HAVE_CHDB,
    NO_CHDB,
    close,
    engine_of,
    exclusive,
    make_store,
)

from monitor import analyze, demo, feedwriter, ingest
from monitor.copy import copy_store
from monitor.errors import StoreError
from monitor.models import FeedState, Filters, ParsedFeed, Subscription, Table
from monitor.parse import parse_feed
from monitor.query import parse
from monitor.store import open_store
from monitor.store.base import (
    EXPORT_COLUMNS,
    TABLES,
    CopyProgress,
    FeedUpdate,
    FetchRecord,
    SaveCounts,
    Storage,
)

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 4, 2, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
A_URL = "file:///feeds/a.xml"
B_URL = "file:///feeds/b.xml"
WEB = "https://news.example/feed.xml"

# Columns whose floats an engine computes (avg, median): compared with a tolerance.
ENGINE_FLOATS = frozenset({"mean_reading_minutes", "median_gap_hours", "feed_gap_hours"})
RAW_TOLERANCE = 1e-9  # on the store's own value
ROUNDED_TOLERANCE = 0.1 + 1e-9  # after analyze rounds it to one decimal


# -- documents -------------------------------------------------------------------------------


def item(
    n: int,
    *,
    site: str = "https://a.example",
    title: str | None = None,
    link: str | None = None,
    guid: str | None = None,
    published: datetime | None | str = "auto",
    authors: tuple[str, ...] = ("Anna Alt",),
    categories: tuple[str, ...] = ("Alpha", "Beta"),
    words: str = "Zebrafische schwimmen im Hafenbecken",
) -> feedwriter.Entry:
    when = NOW - timedelta(hours=5 * n + 1) if published == "auto" else published
    return feedwriter.Entry(
        title=title or f"Meldung {n}",
        link=link or f"{site}/story/{n}?utm_source=feed",
        guid=guid or f"{site}/guid/{n}",
        published=when if not isinstance(when, str) else None,
        authors=authors,
        categories=categories,
        content=f"<p>{words}. Bericht Nummer {n} aus dem Hafen.</p>",
    )


def document(
    url: str,
    items: Sequence[feedwriter.Entry],
    *,
    title: str = "Feed A",
    fetched: datetime = NOW,
    language: str = "de",
) -> ParsedFeed:
    body = feedwriter.rss(feedwriter.Channel(title, "https://a.example/", language=language), items)
    parsed = parse_feed(body, source=url, feed_url=url, fetched_at=fetched)
    assert parsed.error is None, parsed.error
    return parsed


def save(
    store: Storage,
    url: str,
    parsed: ParsedFeed,
    *,
    now: datetime = NOW,
    body_hash: str | None = None,
) -> SaveCounts:
    (counts,) = store.save_feeds(
        [
            FeedUpdate(
                url=url, kind="file", parsed=parsed, body_hash=body_hash or f"h:{url}", now=now
            )
        ]
    )
    return counts


ALL = Filters()
FEED_IDS = ("id", "feed_id")


# -- comparing answers -----------------------------------------------------------------------


def canon(value: Any) -> Any:
    """A value with its type, so that 3 and 3.0 (or aware and naive times) differ; NaN, NA
    and NaT from a DataFrame become None, numpy scalars and Timestamps Python values."""
    if value is None:
        return None
    name = type(value).__name__
    if name in ("NaTType", "NAType"):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    elif hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        value = value.item()
    elif hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy array
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, canon(v)) for k, v in value.items())))
    if isinstance(value, datetime):
        return ("datetime" if value.tzinfo is None else "aware", value)
    return (type(value).__name__, value)


def shape(result: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]], dict[str, Any]]:
    """(columns, rows, attrs) of a Table or a DataFrame, values raw."""
    if isinstance(result, Table):
        return tuple(result.columns), list(result.rows), dict(result.attrs)
    if hasattr(result, "itertuples"):
        rows = [tuple(r) for r in result.itertuples(index=False)]
        return tuple(str(c) for c in result.columns), rows, dict(result.attrs)
    raise TypeError(f"not a table: {type(result).__name__}")


def _close(a: Any, b: Any, tolerance: float) -> bool:
    a, b = canon(a), canon(b)
    if a is None or b is None:
        return a is None and b is None
    a, b = a[1], b[1]
    return abs(float(a) - float(b)) <= tolerance


def _is_table(value: Any) -> bool:
    return isinstance(value, Table) or hasattr(value, "itertuples")


def assert_same(
    a: Any,
    b: Any,
    where: str,
    *,
    tolerance: float = RAW_TOLERANCE,
    drop: tuple[str, ...] = (),
) -> None:
    """Identical answers: Tables and DataFrames cell by cell (in order, with types, and the
    DataFrames' dtypes), without the columns in `drop`; dicts, lists, tuples and scalars
    with `canon`."""
    if isinstance(a, tuple) and any(_is_table(x) for x in a):
        assert isinstance(b, tuple) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where} [{n}]", tolerance=tolerance, drop=drop)
        return
    if _is_table(a):
        if drop and hasattr(a, "drop"):
            a = a.drop(columns=[c for c in drop if c in a.columns])
            b = b.drop(columns=[c for c in drop if c in b.columns])
        ca, ra, aa = shape(a)
        cb, rb, ab = shape(b)
        if drop and isinstance(a, Table):
            keep_a = [i for i, c in enumerate(ca) if c not in drop]
            keep_b = [i for i, c in enumerate(cb) if c not in drop]
            ra = [tuple(r[i] for i in keep_a) for r in ra]
            rb = [tuple(r[i] for i in keep_b) for r in rb]
            ca = tuple(ca[i] for i in keep_a)
            cb = tuple(cb[i] for i in keep_b)
        assert ca == cb, f"{where}: columns {ca} != {cb}"
        if hasattr(a, "dtypes"):
            da = {str(k): str(v) for k, v in a.dtypes.items()}
            db = {str(k): str(v) for k, v in b.dtypes.items()}
            assert da == db, f"{where}: dtypes {da} != {db}"
        assert len(ra) == len(rb), f"{where}: {len(ra)} rows != {len(rb)} rows"
        loose = [i for i, c in enumerate(ca) if c in ENGINE_FLOATS]
        for n, (x, y) in enumerate(zip(ra, rb, strict=True)):
            for i in loose:
                assert _close(x[i], y[i], tolerance), f"{where}: row {n} {ca[i]}: {x[i]} != {y[i]}"
            strict_x = [canon(v) for i, v in enumerate(x) if i not in loose]
            strict_y = [canon(v) for i, v in enumerate(y) if i not in loose]
            assert strict_x == strict_y, f"{where}: row {n}: {x} != {y}"
        assert canon(aa) == canon(ab), f"{where}: attrs {aa} != {ab}"
        return
    assert canon(a) == canon(b), f"{where}: {a!r} != {b!r}"


def snapshot(store: Storage, views: Sequence[Filters] = (ALL,)) -> dict[str, Any]:
    """Everything the store answers about its data, for "nothing changed" checks."""
    out: dict[str, Any] = {}
    for n, f in enumerate(views):
        out[f"{n} stats"] = canon(store.stats(f))
        for name, table in (
            ("tags", store.tags(f, limit=1000)),
            ("terms", store.terms(f, limit=1000)),
            ("terms raw", store.terms(f, limit=1000, rollup=False)),
            ("term_counts", store.term_counts(f, limit=1000)),
            ("authors", store.authors(f)),
            ("frequency", store.frequency(f, by="day", split="tag", top=50)),
            ("heatmap", store.heatmap(f, timezone="Europe/Berlin")),
            (
                "articles",
                store.articles_page(f, sort="published", descending=True, limit=500, offset=0)[0],
            ),
            ("export", Table(EXPORT_COLUMNS, [r for b in store.export_batches(f) for r in b.rows])),
        ):
            c, r, a = shape(table)
            out[f"{n} {name}"] = (c, sorted(map(repr, map(canon, r))), canon(a))
    out["options"] = canon(store.options(limit=100))
    out["body_hashes"] = canon(store.body_hashes())
    return out


def terms_of(store: Storage, f: Filters = ALL) -> dict[bool, set[str]]:
    """Terms in the view from the rollup and from the articles' own terms."""
    return {r: set(store.terms(f, limit=10_000, rollup=r)["term"]) for r in (True, False)}


# == Part 1: every Storage method, as behaviour, on each engine ===================================


def test_store_is_a_storage(any_store: Storage) -> None:
    assert isinstance(any_store, Storage)
    info = any_store.info()
    assert info.name == ("duckdb" if engine_of(any_store) == "duckdb" else "clickhouse")
    assert info.schema_version >= 1 and info.version and info.read_only is False
    any_store.ensure_schema()
    any_store.ensure_schema()  # twice: nothing to do
    assert any_store.stats(ALL) == {
        "articles": 0,
        "feeds": 0,
        "feeds_total": 0,
        "authors": 0,
        "tags": 0,
        "first_published": None,
        "last_published": None,
    }
    assert any_store.feeds().empty and any_store.subscriptions() == []
    assert any_store.due_feeds(NOW, all_feeds=True) == []
    assert any_store.body_hashes() == {}
    assert any_store.options(limit=10) == {"feeds": [], "authors": [], "tags": [], "languages": []}
    assert list(any_store.export_batches(ALL)) == []
    assert (
        any_store.articles_page(ALL, sort="published", descending=True, limit=5, offset=0)[1] == 0
    )


def test_reingest_changes_nothing(any_store: Storage) -> None:
    doc = document(A_URL, [item(n) for n in range(5)])
    assert save(any_store, A_URL, doc) == SaveCounts(new=5)
    before = snapshot(any_store)
    assert save(any_store, A_URL, doc) == SaveCounts(unchanged=5)
    assert snapshot(any_store) == before
    # Fetched again days later: the same entries, nothing new, nothing moved.
    again = document(A_URL, [item(n) for n in range(5)], fetched=LATER)
    assert save(any_store, A_URL, again, now=LATER) == SaveCounts(unchanged=5)
    assert snapshot(any_store) == before
    assert any_store.stats(ALL)["articles"] == 5
    assert terms_of(any_store)[True] == terms_of(any_store)[False]


def test_changed_entry_replaces_the_old_one_with_its_tags_and_terms(any_store: Storage) -> None:
    old = item(1, authors=("Anna Alt",), categories=("Alpha", "Beta"), words="Zebrafische")
    new = item(
        1,
        title="Meldung 1 (korrigiert)",
        authors=("Bert Neu",),
        categories=("Beta", "Gamma"),
        words="Walrosse",
    )
    keep = item(2, authors=("Cora Bleibt",), categories=("Delta",), words="Seehunde")
    assert save(any_store, A_URL, document(A_URL, [old, keep])) == SaveCounts(new=2)
    assert "zebrafisch" in terms_of(any_store)[True]
    counts = save(any_store, A_URL, document(A_URL, [new, keep]))
    assert counts == SaveCounts(updated=1, unchanged=1)
    assert any_store.stats(ALL)["articles"] == 2
    tags = set(any_store.tags(ALL, limit=100)["key"])
    assert {"beta", "gamma", "delta"} <= tags and "alpha" not in tags
    for rollup, terms in terms_of(any_store).items():
        assert "walross" in terms and "seehund" in terms, rollup
        assert "zebrafisch" not in terms, rollup
    assert "zebrafisch" not in set(any_store.term_counts(ALL, limit=1000)["term"])
    assert set(any_store.authors(ALL)["author"]) == {"Bert Neu", "Cora Bleibt"}
    options = any_store.options(limit=100)
    assert "Anna Alt" not in options["authors"] and "Alpha" not in options["tags"]
    series = set(any_store.frequency(ALL, by="day", split="tag", top=50)["series"])
    assert "Alpha" not in series and "alpha" not in series
    assert any_store.article_count(ALL, with_tag="alpha") == 0
    assert any_store.article_count(ALL, with_tag="gamma") == 1
    co = any_store.cooccurring_tags(ALL, "beta", limit=10)
    assert "alpha" not in co["key"] and "gamma" in co["key"]
    assert any_store.stats(Filters(authors=("Anna Alt",)))["articles"] == 0
    assert any_store.stats(Filters(tags=("alpha",)))["articles"] == 0
    (page, total) = any_store.articles_page(ALL, sort="title", descending=False, limit=10, offset=0)
    assert total == 2 and "Meldung 1 (korrigiert)" in page["title"]
    (exported,) = [r for b in any_store.export_batches(Filters(tags=("gamma",))) for r in [b]]
    row = dict(zip(exported.columns, exported.rows[0], strict=True))
    assert row["authors"] == ("Bert Neu",) and row["tags"] == ("Beta", "Gamma")
    # Back to the first version: the old tags, terms and author again, the new ones gone.
    assert save(any_store, A_URL, document(A_URL, [old, keep])) == SaveCounts(
        updated=1, unchanged=1
    )
    assert "gamma" not in set(any_store.tags(ALL, limit=100)["key"])
    for terms in terms_of(any_store).values():
        assert "zebrafisch" in terms and "walross" not in terms


def test_same_story_in_two_feeds_is_one_article(any_store: Storage) -> None:
    shared = [item(n) for n in range(3)]
    mine = item(7, site="https://b.example")
    assert save(any_store, A_URL, document(A_URL, shared)) == SaveCounts(new=3)
    counts = save(any_store, B_URL, document(B_URL, [*shared[:2], mine], title="Feed B"))
    assert counts == SaveCounts(new=1, linked=2)
    stats = any_store.stats(ALL)
    assert stats["articles"] == 4 and stats["feeds"] == 2 and stats["feeds_total"] == 2
    assert any_store.article_count(ALL) == 4
    assert any_store.stats(Filters(feeds=("Feed B",)))["articles"] == 3
    assert any_store.stats(Filters(feeds=(A_URL,)))["articles"] == 3
    # Counted once: per day, per tag, in the terms; once per feed in a feed split.
    assert sum(any_store.frequency(ALL, by="month")["count"]) == 4
    assert dict(zip(*[any_store.tags(ALL)[c] for c in ("key", "articles")], strict=True)) == {
        "alpha": 4,
        "beta": 4,
    }
    split = any_store.frequency(ALL, by="month", split="feed", top=5)
    per_feed: dict[str, int] = {}
    for _, series, n in split.rows:
        per_feed[series] = per_feed.get(series, 0) + n
    assert per_feed == {"Feed A": 3, "Feed B": 3}
    hafen = {r[0]: r for r in any_store.terms(ALL, limit=1000).rows}["hafen"]
    assert hafen[2] == 4  # articles carrying the term
    exported = {r[0]: r for b in any_store.export_batches(ALL) for r in b.rows}
    feed_urls = sorted(r[2] for r in exported.values())
    assert feed_urls == [(A_URL,), (A_URL, B_URL), (A_URL, B_URL), (B_URL,)]
    assert (
        any_store.articles_page(ALL, sort="published", descending=True, limit=10, offset=0)[1] == 4
    )
    # Re-ingesting the second feed links nothing again.
    again = save(any_store, B_URL, document(B_URL, [*shared[:2], mine], title="Feed B"))
    assert again == SaveCounts(unchanged=3)


def test_entries_sharing_a_link_stay_apart(any_store: Storage) -> None:
    """A ticker whose items all link to the home page: three entries, three articles, not
    merged with each other nor with another feed's story of that page."""
    home = "https://a.example/"
    ticker = [item(n, link=home, title=f"Kurz {n}", words=f"Ticker {n}") for n in range(3)]
    assert save(any_store, A_URL, document(A_URL, ticker)) == SaveCounts(new=3)
    assert any_store.stats(ALL)["articles"] == 3
    other = item(9, link=home, title="Startseite", site="https://b.example")
    counts = save(any_store, B_URL, document(B_URL, [other], title="Feed B"))
    assert counts == SaveCounts(new=1)
    assert any_store.stats(ALL)["articles"] == 4
    assert save(any_store, A_URL, document(A_URL, ticker)) == SaveCounts(unchanged=3)
    titles = sorted(
        any_store.articles_page(ALL, sort="title", descending=False, limit=10, offset=0)[0]["title"]
    )
    assert titles == ["Kurz 0", "Kurz 1", "Kurz 2", "Startseite"]


def test_a_repeated_entry_is_stored_once(any_store: Storage) -> None:
    one = item(1)
    counts = save(any_store, A_URL, document(A_URL, [one, one, item(2)]))
    assert counts == SaveCounts(new=2, duplicates=1) and counts.merged == 1
    assert any_store.stats(ALL)["articles"] == 2


def test_guid_change_rekeys(any_store: Storage) -> None:
    first = item(1, guid="urn:old:1")
    assert save(any_store, A_URL, document(A_URL, [first])) == SaveCounts(new=1)
    fid = any_store.feed_state(A_URL)["id"]  # type: ignore[index]
    assert set(any_store.entry_hashes(fid)) == {"urn:old:1"}
    moved = replace(first, guid="urn:new:1")
    counts = save(any_store, A_URL, document(A_URL, [moved]))
    assert counts == SaveCounts(rekeyed=1) and counts.merge_reasons
    assert any_store.stats(ALL)["articles"] == 1
    assert set(any_store.entry_hashes(fid)) == {"urn:new:1"}
    assert save(any_store, A_URL, document(A_URL, [moved])) == SaveCounts(unchanged=1)


def test_first_seen_dates_are_kept(any_store: Storage) -> None:
    undated = item(1, published=None)
    dated = item(2)
    assert save(any_store, A_URL, document(A_URL, [undated, dated])) == SaveCounts(new=2)

    def published() -> dict[str, tuple[datetime, str]]:
        rows = [r for b in any_store.export_batches(ALL) for r in b.rows]
        at, source = EXPORT_COLUMNS.index("published"), EXPORT_COLUMNS.index("date_source")
        return {r[3]: (r[at], r[source]) for r in rows}

    seen = published()
    assert seen["Meldung 1"] == (NOW.replace(tzinfo=None), "first-seen")
    assert seen["Meldung 2"][1] == "feed"
    later = document(A_URL, [undated, dated], fetched=LATER)
    assert save(any_store, A_URL, later, now=LATER) == SaveCounts(unchanged=2)
    assert published() == seen
    changed = replace(undated, title="Meldung 1 neu")
    counts = save(any_store, A_URL, document(A_URL, [changed, dated], fetched=LATER), now=LATER)
    assert counts == SaveCounts(updated=1, unchanged=1)
    assert published()["Meldung 1 neu"] == (NOW.replace(tzinfo=None), "first-seen")
    assert any_store.stats(ALL)["last_published"] == NOW.replace(tzinfo=None)


def test_removing_a_feed_removes_only_the_articles_only_it_carried(any_store: Storage) -> None:
    a_only = item(1, words="Eisbären", categories=("Nur A",), authors=("Ada Allein",))
    shared = item(2, words="Pinguine")
    b_only = item(3, site="https://b.example", words="Robben")
    save(any_store, A_URL, document(A_URL, [a_only, shared]))
    save(any_store, B_URL, document(B_URL, [shared, b_only], title="Feed B"))
    any_store.add_feed(WEB, now=NOW)  # a third feed, nothing stored from it
    assert any_store.stats(ALL)["articles"] == 3
    assert any_store.remove_feed(A_URL) == 1
    assert any_store.remove_feed(A_URL) is None
    assert any_store.feed_state(A_URL) is None
    assert any_store.stats(ALL)["articles"] == 2
    titles = set(
        any_store.articles_page(ALL, sort="title", descending=False, limit=10, offset=0)[0]["title"]
    )
    assert titles == {"Meldung 2", "Meldung 3"}
    for terms in terms_of(any_store).values():
        assert "eisbär" not in terms and {"pinguin", "robbe"} <= terms
    assert "nur-a" not in set(any_store.tags(ALL, limit=100)["key"])
    assert "Ada Allein" not in set(any_store.authors(ALL)["author"])
    assert [r[2] for b in any_store.export_batches(ALL) for r in b.rows] == [(B_URL,), (B_URL,)]
    assert sorted(any_store.feeds()["url"]) == sorted([B_URL, WEB])
    assert any_store.remove_feed(B_URL) == 2
    assert any_store.stats(ALL)["articles"] == 0
    assert all(not t for t in terms_of(any_store).values())
    assert any_store.tags(ALL).empty and any_store.authors(ALL).empty


def test_stopwords_add_and_remove(any_store: Storage) -> None:
    save(any_store, A_URL, document(A_URL, [item(1, words="Zebrafische Walrosse")]))
    assert {"zebrafisch", "walross"} <= terms_of(any_store)[True]
    any_store.add_stopwords("de", ["zebrafische", "oder"])
    any_store.add_stopwords("de", ["oder"])  # already there: still one
    assert any_store.add_stopwords("*", ["walrosse"]) == 1
    listed = any_store.user_stopwords()
    assert listed.columns[:2] == ("language", "word")
    assert [r[:2] for r in listed.rows] == [
        ("*", "walrosse"),
        ("de", "oder"),
        ("de", "zebrafische"),
    ]
    for rollup in (True, False):
        terms = set(any_store.terms(ALL, limit=1000, rollup=rollup)["term"])
        assert "zebrafisch" not in terms and "walross" not in terms
        assert "hafen" in terms
    # A language's list applies to a view of that language, '*' to every view.
    assert "walross" not in set(any_store.terms(Filters(languages=("en",)), limit=1000)["term"])
    assert any_store.remove_stopwords("de", ["oder", "nie"]) == 1
    assert any_store.remove_stopwords("de", ["oder"]) == 0
    assert any_store.remove_stopwords("*", ["walrosse"]) == 1
    assert [r[:2] for r in any_store.user_stopwords().rows] == [("de", "zebrafische")]
    assert "walross" in terms_of(any_store)[True]
    assert any_store.add_stopwords("de", ["oder"]) == 1  # back again after a removal
    assert "oder" in any_store.user_stopwords()["word"]


def test_term_background_language_counts_and_term_vectors(any_store: Storage) -> None:
    """The reads keyness and topics use: all-time counts of given terms, the view's
    articles per language, and a sample's term vectors (first articles by id)."""
    save(
        any_store,
        A_URL,
        document(A_URL, [item(n, words="Zebrafische Zebrafische") for n in (1, 2, 3)]),
    )
    en = [item(n, site="https://b.example", words="Walruses swim") for n in (4, 5)]
    save(any_store, B_URL, document(B_URL, en, title="Feed B", language="en"))
    # The keys as the store makes them (a lemma, or the word itself).
    keys = terms_of(any_store)[True]
    zebra = next(t for t in sorted(keys) if t.startswith("zebrafisch"))
    walrus = next(t for t in sorted(keys) if t.startswith("walrus"))
    background = any_store.term_background([zebra, walrus, "no-such-term"])
    assert background.columns == ("term", "count")
    assert background.rows == sorted([(walrus, 2), (zebra, 6)])
    whole = any_store.term_counts(ALL, limit=10_000).attrs["total"]
    assert background.attrs["total"] == whole > 8
    german = any_store.term_background([zebra, walrus], languages=["de"])
    assert german.rows == [(zebra, 6)]
    assert (
        german.attrs["total"]
        == any_store.term_counts(Filters(languages=("de",)), limit=9).attrs["total"]
    )
    assert any_store.term_background([]).rows == []
    assert any_store.language_counts(ALL).rows == [("de", 3), ("en", 2)]
    assert any_store.language_counts(Filters(query=parse("no-such-word"))).rows == []
    vectors = any_store.term_vectors(ALL, [zebra, walrus, "hafen"], sample=3)
    assert vectors.total == 5
    ids = [r[0] for r in vectors.articles.rows]
    everything = sorted(
        r[0]
        for r in any_store.articles_page(ALL, sort="published", descending=True, limit=9, offset=0)[
            0
        ].rows
    )
    assert ids == everything[:3]  # the first by id
    assert vectors.articles.columns == ("id", "published", "language", "title", "url")
    assert all(r[1].tzinfo is None and r[2] in ("de", "en") for r in vectors.articles.rows)
    assert vectors.counts.columns == ("article_id", "term", "n")
    assert {r[0] for r in vectors.counts.rows} <= set(ids)
    assert vectors.counts.rows == sorted(vectors.counts.rows)
    for _aid, term, n in vectors.counts.rows:
        assert (term, n) in ((zebra, 2), (walrus, 1), ("hafen", 1))
    narrow = any_store.term_vectors(Filters(languages=("en",)), [walrus], sample=10)
    assert narrow.total == 2 and [r[1:] for r in narrow.counts.rows] == [(walrus, 1)] * 2
    assert any_store.term_vectors(ALL, [], sample=10).counts.rows == []


def test_add_stopwords_counts_only_new_words(any_store: Storage) -> None:
    """How many were new: a repeat and a word already there count nothing (FINDING 4)."""
    assert any_store.add_stopwords("de", ["und", "oder", "und"]) == 2
    assert any_store.add_stopwords("de", ["oder"]) == 0
    any_store.remove_stopwords("de", ["oder"])
    assert any_store.add_stopwords("de", ["oder", "und"]) == 1


def _state(store: Storage, url: str) -> dict[str, Any]:
    state = store.feed_state(url)
    assert state is not None, url
    return state


def test_feed_lifecycle(any_store: Storage) -> None:
    fid, created = any_store.add_feed(WEB, now=NOW)
    assert created is True
    assert any_store.add_feed(WEB, now=NOW, name="Nachrichten", full_text=True) == (fid, False)
    other, _ = any_store.add_feed("https://other.example/rss", now=NOW)
    assert other != fid
    assert [s.url for s in any_store.due_feeds(NOW, all_feeds=False)] == [
        WEB,
        "https://other.example/rss",
    ]
    assert any_store.subscriptions() == [
        Subscription(url="https://other.example/rss", title=None, site_url=None),
        Subscription(url=WEB, title="Nachrichten", site_url=None),
    ] or sorted(any_store.subscriptions(), key=lambda s: s.url) == sorted(
        [
            Subscription(url="https://other.example/rss", title=None, site_url=None),
            Subscription(url=WEB, title="Nachrichten", site_url=None),
        ],
        key=lambda s: s.url,
    )
    state = _state(any_store, WEB)
    assert state["name"] == "Nachrichten" and state["full_text"] is True
    assert state["error_count"] == 0 and state["disabled"] is False

    # Failures back off: each raises the count; the feed is not due until next_due.
    for n in (1, 2, 3):
        fail = FetchRecord(status=503, error="HTTP 503", next_due=NOW + timedelta(hours=n))
        any_store.save_feeds([FeedUpdate(feed_id=fid, fetch=fail, now=NOW)])
        state = _state(any_store, WEB)
        assert (state["error_count"], state["last_status"], state["last_error"]) == (
            n,
            503,
            "HTTP 503",
        )
    assert state["next_due_at"] == (NOW + timedelta(hours=3)).replace(tzinfo=None)
    assert [s.url for s in any_store.due_feeds(NOW, all_feeds=False)] == [
        "https://other.example/rss"
    ]
    assert [s.url for s in any_store.due_feeds(NOW + timedelta(hours=4), all_feeds=False)] == [
        WEB,
        "https://other.example/rss",
    ]
    (due,) = [s for s in any_store.due_feeds(NOW, all_feeds=True) if s.url == WEB]
    assert due.error_count == 3 and due.full_text is True
    assert any_store.make_due(WEB) is False
    assert WEB in [s.url for s in any_store.due_feeds(NOW, all_feeds=False)]

    # A success resets the count and keeps the validators.
    ok = FetchRecord(status=200, error=None, next_due=NOW + timedelta(minutes=30), etag='"v1"')
    any_store.save_feeds([FeedUpdate(feed_id=fid, fetch=ok, now=NOW)])
    state = _state(any_store, WEB)
    assert (state["error_count"], state["etag"], state["last_error"]) == (0, '"v1"', None)
    assert state["last_ok_at"] == NOW.replace(tzinfo=None)
    (due,) = [s for s in any_store.due_feeds(NOW, all_feeds=True) if s.url == WEB]
    assert due.etag == '"v1"' and due.last_modified is None

    # 410 Gone: disabled through save_feeds, not fetched again until enabled.
    gone = FetchRecord(status=410, error="HTTP 410 Gone", next_due=None, disable_reason="410 Gone")
    any_store.save_feeds([FeedUpdate(feed_id=fid, fetch=gone, now=LATER)])
    state = _state(any_store, WEB)
    assert state["disabled"] is True and state["disabled_reason"] == "410 Gone"
    assert WEB not in [s.url for s in any_store.due_feeds(LATER, all_feeds=True)]
    assert any_store.make_due(WEB) is True  # disabled: made due, still not fetched
    assert WEB not in [s.url for s in any_store.due_feeds(LATER, all_feeds=False)]
    assert any_store.set_feed_enabled(WEB, True) is True
    state = _state(any_store, WEB)
    assert (state["disabled"], state["disabled_reason"], state["error_count"]) == (False, None, 0)
    assert WEB in [s.url for s in any_store.due_feeds(LATER, all_feeds=False)]
    assert any_store.set_feed_enabled(WEB, False) is True
    assert _state(any_store, WEB)["disabled"] is True
    assert any_store.set_feed_enabled(WEB, True) is True
    assert any_store.set_feed_enabled("https://nowhere.example/", True) is False
    assert any_store.make_due("https://nowhere.example/") is None

    # A permanent redirect renames the feed: same id, its articles with it.
    parsed = document(WEB, [item(1)])
    moved = "https://news.example/new-feed.xml"
    fetched = FetchRecord(status=200, error=None, next_due=None, permanent_url=moved)
    (counts,) = any_store.save_feeds(
        [FeedUpdate(feed_id=fid, parsed=parsed, body_hash="h1", fetch=fetched, now=LATER)]
    )
    assert counts == SaveCounts(new=1)
    assert any_store.feed_state(WEB) is None
    state = _state(any_store, moved)
    assert state["id"] == fid and state["body_hash"] == "h1"
    assert any_store.body_hashes() == {moved: "h1"}
    assert any_store.stats(Filters(feeds=(moved,)))["articles"] == 1
    feeds = any_store.feeds()
    assert sorted(feeds["url"]) == [moved, "https://other.example/rss"]
    assert dict(zip(feeds["url"], feeds["articles"], strict=True))[moved] == 1
    # A new feed at the old address is a feed of its own.
    again, created = any_store.add_feed(WEB, now=LATER)
    assert created is True and again not in (fid, other)
    assert any_store.remove_feed(moved) == 1


def test_due_feeds_are_typed_with_none_for_missing(any_store: Storage) -> None:
    any_store.add_feed(WEB, now=NOW)
    any_store.add_feed("https://b.example/rss", now=NOW, restricted=True)
    fid, _ = any_store.add_feed("https://c.example/rss", now=NOW, full_text=True)
    ok = FetchRecord(
        status=200,
        error=None,
        next_due=None,
        etag='"e"',
        last_modified="Tue, 01 Sep 2026 10:00:00 GMT",
    )
    any_store.save_feeds([FeedUpdate(feed_id=fid, fetch=ok, now=NOW)])
    any_store.add_feed("file:///local.xml", now=NOW, kind="file", subscribed=False)
    states = any_store.due_feeds(NOW, all_feeds=False)
    assert [s.url for s in states] == [WEB, "https://b.example/rss", "https://c.example/rss"]
    for s in states:
        assert type(s) is FeedState
        assert type(s.id) is int and type(s.url) is str and type(s.error_count) is int
        for name in ("etag", "last_modified", "body_hash"):
            assert getattr(s, name) is None or type(getattr(s, name)) is str, name
        for name in ("full_text", "restricted", "pages_restricted"):
            assert type(getattr(s, name)) is bool, name
    web, b, c = states
    assert (web.etag, web.last_modified, web.body_hash, web.error_count) == (None, None, None, 0)
    assert (b.restricted, b.pages_restricted, b.full_text) == (True, True, False)
    assert (c.etag, c.last_modified, c.full_text) == ('"e"', "Tue, 01 Sep 2026 10:00:00 GMT", True)


def test_session_tag_windows_and_cadence(any_store: Storage) -> None:
    """Reads and writes inside one session; the tags of two windows; a feed's cadence."""
    fresh = [item(n, categories=("Neu",)) for n in range(5)]  # the last 24 hours
    older = [item(n, categories=("Alt",)) for n in range(5, 10)]  # the 24 before
    with any_store.session():
        assert save(any_store, A_URL, document(A_URL, fresh + older)) == SaveCounts(new=10)
        assert any_store.stats(ALL)["articles"] == 10
        with any_store.session():  # nested: the outer one still holds
            assert any_store.article_count(ALL) == 10
        any_store.add_feed(WEB, now=NOW)
        assert len(any_store.feeds()) == 2
    assert any_store.stats(ALL)["feeds_total"] == 2  # after the session: kept
    day = Filters(since=NOW - timedelta(hours=24), until=NOW)
    before = Filters(since=NOW - timedelta(hours=48), until=NOW - timedelta(hours=24))
    windows = any_store.tag_windows(day, before)
    assert windows.columns == ("key", "tag", "current", "previous")
    assert sorted(windows.rows) == [("alt", "Alt", 0, 5), ("neu", "Neu", 5, 0)]
    cadence = {r["url"]: r for r in any_store.cadence(ALL).records()}
    assert set(cadence) == {A_URL, WEB}
    a, web = cadence[A_URL], cadence[WEB]
    assert (a["articles"], a["feed"]) == (10, "Feed A")
    assert a["median_gap_hours"] == pytest.approx(5.0)  # engine-computed: a tolerance
    assert a["last_in_view"] == (NOW - timedelta(hours=1)).replace(tzinfo=None)
    assert a["first_in_view"] == (NOW - timedelta(hours=46)).replace(tzinfo=None)
    assert web["articles"] == 0 and web["last_in_view"] is None
    assert {r["url"]: r["articles"] for r in any_store.cadence(day).records()} == {
        A_URL: 5,
        WEB: 0,
    }


def test_export_batches(any_store: Storage) -> None:
    save(any_store, A_URL, document(A_URL, [item(n) for n in range(12)]))
    save(any_store, B_URL, document(B_URL, [item(n) for n in range(3)], title="Feed B"))
    whole = [r for b in any_store.export_batches(ALL) for r in b.rows]
    assert len(whole) == 12
    for size in (1, 5, 12, 100):
        batches = list(any_store.export_batches(ALL, size=size))
        assert all(b.columns == EXPORT_COLUMNS for b in batches)
        assert all(0 < len(b) <= size for b in batches)
        assert [r for b in batches for r in b.rows] == whole
    published = [r[EXPORT_COLUMNS.index("published")] for r in whole]
    assert published == sorted(published, reverse=True)
    assert all(type(p) is datetime and p.tzinfo is None for p in published)
    row = dict(zip(EXPORT_COLUMNS, whole[0], strict=True))
    assert row["feed_urls"] == (A_URL, B_URL) and row["authors"] == ("Anna Alt",)
    assert row["tags"] == ("Alpha", "Beta") and row["language"] == "de"
    assert type(row["word_count"]) is int and type(row["reading_minutes"]) is int
    assert row["comments"] is None and "Hafen" in row["text"]
    assert [r for b in any_store.export_batches(Filters(feeds=("Feed B",))) for r in b.rows] == [
        r for r in whole if B_URL in r[2]
    ]
    assert list(any_store.export_batches(Filters(query=parse("nichts-da-gar-nicht")))) == []


def test_data_version_changes_on_every_write(any_store: Storage) -> None:
    versions = [any_store.data_version()]

    def changed(what: str) -> None:
        now = any_store.data_version()
        assert now not in versions, f"data_version unchanged after {what}"
        versions.append(now)

    fid, _ = any_store.add_feed(WEB, now=NOW)
    changed("add_feed")
    save(any_store, A_URL, document(A_URL, [item(1)]))
    changed("save_feeds (new articles)")
    save(any_store, A_URL, document(A_URL, [item(1, title="neu")]))
    changed("save_feeds (a changed article)")
    any_store.save_feeds(
        [FeedUpdate(feed_id=fid, fetch=FetchRecord(500, "HTTP 500", None), now=NOW)]
    )
    changed("save_feeds (a fetch record)")
    any_store.set_feed_enabled(WEB, False)
    changed("set_feed_enabled")
    due = any_store.feed_state(WEB)["next_due_at"]  # type: ignore[index]
    assert any_store.make_due(WEB) is True  # a disabled feed is left as it is
    assert any_store.feed_state(WEB)["next_due_at"] == due  # type: ignore[index]
    versions.append(any_store.data_version())
    any_store.set_feed_enabled(WEB, True)
    changed("set_feed_enabled (on again)")
    assert any_store.make_due(WEB) is False
    changed("make_due")
    any_store.add_stopwords("de", ["hafen"])
    changed("add_stopwords")
    any_store.remove_stopwords("de", ["hafen"])
    changed("remove_stopwords")
    any_store.remove_feed(A_URL)
    changed("remove_feed")
    stable = any_store.data_version()
    any_store.stats(ALL)
    any_store.terms(ALL)
    assert any_store.data_version() == stable, "a read changed data_version"


def test_read_only_refuses_writes(engine: str, tmp_path: Path) -> None:
    where = tmp_path / engine
    writer = make_store(engine, where)
    save(writer, A_URL, document(A_URL, [item(1)]))
    close(writer)
    reader = make_store(engine, where, read_only=True)
    try:
        assert reader.read_only is True and reader.info().read_only is True
        assert reader.stats(ALL)["articles"] == 1
        attempts: list[tuple[str, Callable[[], Any]]] = [
            ("save_feeds", lambda: save(reader, B_URL, document(B_URL, [item(2)]))),
            ("add_feed", lambda: reader.add_feed(WEB, now=NOW)),
            ("remove_feed", lambda: reader.remove_feed(A_URL)),
            ("set_feed_enabled", lambda: reader.set_feed_enabled(A_URL, False)),
            ("make_due", lambda: reader.make_due(A_URL)),
            ("add_stopwords", lambda: reader.add_stopwords("de", ["x"])),
            ("remove_stopwords", lambda: reader.remove_stopwords("de", ["x"])),
            (
                "write_rows",
                lambda: reader.write_rows(
                    "stopwords", Table(("language", "word", "removed"), [("de", "y", False)])
                ),
            ),
            ("finish_copy", lambda: reader.finish_copy()),
        ]
        for name, attempt in attempts:
            with pytest.raises(StoreError):
                attempt()
            assert reader.stats(ALL)["articles"] == 1, name
        assert reader.user_stopwords().empty
        assert reader.feed_state(A_URL) is not None
    finally:
        close(reader)


def _fill(store: Storage) -> None:
    """A small store with something in every table."""
    save(store, A_URL, document(A_URL, [item(n) for n in range(6)]))
    save(
        store,
        B_URL,
        document(
            B_URL,
            [item(n) for n in (1, 2)] + [item(9, site="https://b.example", authors=("Bo", "Cy"))],
            title="Feed B",
        ),
    )
    save(
        store,
        "file:///en.xml",
        document(
            "file:///en.xml",
            [item(20, site="https://en.example", words="Harbour seals swim", categories=("Sea",))],
            title="English",
            language="en",
        ),
    )
    fid, _ = store.add_feed(WEB, now=NOW, name="Web")
    store.save_feeds(
        [
            FeedUpdate(
                feed_id=fid, fetch=FetchRecord(500, "HTTP 500", NOW + timedelta(hours=1)), now=NOW
            )
        ]
    )
    store.add_stopwords("de", ["bericht"])
    store.add_stopwords("*", ["nummer"])


def _same_answers(a: Storage, b: Storage) -> None:
    assert snapshot(a, VIEWS_SMALL) == snapshot(b, VIEWS_SMALL)
    assert_same(a.user_stopwords(), b.user_stopwords(), "user_stopwords")
    # Feed ids are each engine's own (ClickHouse: a hash of the URL), not compared.
    assert_same(a.feeds(), b.feeds(), "feeds", drop=FEED_IDS)
    for table in TABLES:
        assert a.count_rows(table) == b.count_rows(table), table


VIEWS_SMALL = (
    ALL,
    Filters(languages=("en",)),
    Filters(feeds=("Feed B",)),
    Filters(since=NOW - timedelta(hours=12)),
)

DIRECTIONS = [
    pytest.param(
        ("duckdb", "chdb"),
        id="duckdb-to-chdb",
        marks=pytest.mark.skipif(not HAVE_CHDB, reason=NO_CHDB),
    ),
    pytest.param(
        ("chdb", "duckdb"),
        id="chdb-to-duckdb",
        marks=pytest.mark.skipif(not HAVE_CHDB, reason=NO_CHDB),
    ),
    pytest.param(("duckdb", "duckdb"), id="duckdb-to-duckdb"),
]


class _Stop(Exception):
    pass


@pytest.mark.parametrize("pair", DIRECTIONS)
def test_copy_round_trip_and_resume(pair: tuple[str, str], tmp_path: Path) -> None:
    """read_rows/write_rows/finish_copy through `monitor.copy.copy_store`: the target answers
    as the source does; a copy stopped midway and run again completes, verified by counts;
    a store copied there and back answers the same."""
    source_engine, target_engine = pair
    source = make_store(source_engine, tmp_path / "source")
    _fill(source)
    rows = {t: source.read_rows(t, after=None, size=10**6) for t in TABLES}
    # Never two chDB directories: the pairs are one chDB and one DuckDB store, or two DuckDB.
    target = make_store(target_engine, tmp_path / "target")
    seen: list[CopyProgress] = []

    def stop_midway(p: CopyProgress) -> None:
        seen.append(p)
        if p.table == "article_terms" and 0 < p.done < p.total:
            raise _Stop

    with pytest.raises(_Stop):
        copy_store(source, target, size=7, progress=stop_midway)
    partial = target.count_rows("article_terms")
    assert 0 < partial < len(rows["article_terms"])
    report = copy_store(source, target, size=50)
    assert report.before["article_terms"] == partial
    assert report.copied["feeds"] == 0  # done already: not read again
    assert report.after == report.source == {t: len(r) for t, r in rows.items()}
    for table, keys in TABLES.items():
        mine = target.read_rows(table, after=None, size=10**6)
        assert mine.columns == rows[table].columns, table
        assert_same(mine, rows[table], f"read_rows {table}")
        # Paged by key: the same rows.
        paged: list[tuple[Any, ...]] = []
        after = None
        step = max(3, len(rows[table]) // 4)  # a few pages each
        while True:
            page = target.read_rows(table, after=after, size=step)
            if page.empty:
                break
            paged += page.rows
            after = tuple(page.rows[-1][page.columns.index(k)] for k in keys)
        assert [canon(r) for r in paged] == [canon(r) for r in rows[table].rows], table
    # A third copy of the same store adds nothing.
    assert sum(copy_store(source, target, size=50).copied.values()) == 0
    _same_answers(source, target)
    # The target keeps working: new feeds get ids of their own, new articles store.
    fid, created = target.add_feed("https://new.example/rss", now=LATER)
    assert created and fid not in set(target.feeds()["id"]) - {fid}
    assert save(target, A_URL, document(A_URL, [item(n) for n in range(7)])) == SaveCounts(
        new=1, unchanged=6
    )
    assert terms_of(target)[True] == terms_of(target)[False]
    close(target)
    close(source)


def test_copy_there_and_back(tmp_path: Path) -> None:
    if not HAVE_CHDB:
        pytest.skip(NO_CHDB)
    duck = make_store("duckdb", tmp_path / "one")
    _fill(duck)
    ch = make_store("chdb", tmp_path / "ch")
    copy_store(duck, ch, size=5)
    back = make_store("duckdb", tmp_path / "back")
    copy_store(ch, back, size=5)
    close(ch)
    _same_answers(duck, back)


# == Part 2: the same data, the same answers =====================================================


def _both(run: Callable[[Storage], Any], duck: Storage, ch: Storage) -> tuple[Any, Any]:
    a = run(duck)
    exclusive(ch)
    b = run(ch)
    return a, b


@pytest.mark.skipif(not HAVE_CHDB, reason=NO_CHDB)
def test_a_scenario_answers_the_same_on_both(tmp_path: Path) -> None:
    """Every write of part 1 in sequence on both engines: the same counts, the same answers
    after each step."""
    duck = make_store("duckdb", tmp_path / "d")
    ch = make_store("chdb", tmp_path / "c")
    steps: list[tuple[str, Callable[[Storage], Any]]] = [
        ("fill", _fill),
        ("re-ingest", lambda s: save(s, A_URL, document(A_URL, [item(n) for n in range(6)]))),
        (
            "change",
            lambda s: save(
                s,
                A_URL,
                document(
                    A_URL,
                    [
                        item(0, categories=("Neu",), words="Walrosse"),
                        *[item(n) for n in range(1, 6)],
                    ],
                ),
            ),
        ),
        (
            "rekey",
            lambda s: save(
                s,
                B_URL,
                document(
                    B_URL,
                    [
                        item(1),
                        replace(item(2), guid="urn:x"),
                        item(9, site="https://b.example", authors=("Bo", "Cy")),
                    ],
                    title="Feed B",
                ),
            ),
        ),
        (
            "undated",
            lambda s: save(s, A_URL, document(A_URL, [item(30, published=None)]), now=LATER),
        ),
        (
            "stopwords",
            lambda s: (
                s.add_stopwords("de", ["walrosse", "hafen"]),
                s.remove_stopwords("de", ["hafen", "nie"]),
            ),
        ),
        ("remove", lambda s: s.remove_feed(B_URL)),
        ("disable", lambda s: s.set_feed_enabled(WEB, False)),
    ]
    try:
        for name, step in steps:
            a, b = _both(step, duck, ch)
            assert canon(a) == canon(b), f"{name}: {a} != {b}"
            exclusive(ch)
            _same_answers(duck, ch)
            for when in (NOW, LATER):
                da = [replace(s, id=0) for s in duck.due_feeds(when, all_feeds=True)]
                dc = [replace(s, id=0) for s in ch.due_feeds(when, all_feeds=True)]
                assert da == dc, name
            assert duck.subscriptions() == ch.subscriptions(), name
            for url in (A_URL, B_URL, WEB):
                sa, sc = duck.feed_state(url), ch.feed_state(url)
                assert (sa is None) == (sc is None), (name, url)
                if sa is not None and sc is not None:
                    differ = {
                        k: (sa.get(k), sc.get(k))
                        for k in sorted((set(sa) | set(sc)) - {"id"})
                        if canon(sa.get(k)) != canon(sc.get(k))
                    }
                    assert differ == {}, f"{name}: feed_state({url}) differs (duckdb, chdb)"
    finally:
        close(ch)


# -- the analysis functions ---------------------------------------------------------------------

ZONES = ("UTC", "Europe/Berlin", "America/New_York")
DEMO_NOW = demo.SHIPPED_ANCHOR  # 2026-11-20: the 120 days hold both autumn clock changes


def demo_views(store: Storage) -> list[Filters]:
    options = store.options(limit=5)
    autumn = datetime(2026, 10, 20, 6, tzinfo=UTC)  # Europe moves on 25 Oct, America 1 Nov
    return [
        ALL,
        Filters(since=autumn, until=datetime(2026, 11, 6, 18, tzinfo=UTC)),
        Filters(since=DEMO_NOW - timedelta(days=30)),
        Filters(until=datetime(2026, 9, 1, tzinfo=UTC), languages=("en",)),
        Filters(feeds=(options["feeds"][0],)),
        Filters(authors=tuple(options["authors"][:2])),
        Filters(tags=(options["tags"][0],)),
        Filters(query=parse("wahl")),
        Filters(
            since=autumn, tags=tuple(t.upper() for t in options["tags"][:2]), languages=("de", "en")
        ),
        Filters(query=parse("no-such-word-anywhere")),
    ]


def analyses(
    f: Filters, now: datetime, *, quick: bool = False
) -> Iterator[tuple[str, Callable[[Storage], Any]]]:
    """Every analysis function on one view, as (name, call)."""
    yield "stats", lambda s: analyze.stats(s, f)
    yield "compare_windows", lambda s: analyze.compare_windows(s, f, now=now)
    for by in ("hour", "day", "week", "month"):
        if quick and by == "hour":
            continue
        for zone in ZONES:
            yield (
                f"frequency {by} {zone}",
                lambda s, by=by, zone=zone: analyze.frequency(s, f, by=by, timezone=zone),
            )
    for split in ("feed", "author", "tag"):
        for zone in ZONES:
            yield (
                f"frequency day {zone} split {split}",
                lambda s, zone=zone, split=split: analyze.frequency(
                    s, f, by="day", timezone=zone, split=split, top=4
                ),
            )
        yield (
            f"frequency week split {split} top 8",
            lambda s, split=split: analyze.frequency(s, f, by="week", split=split),
        )
    for zone in ZONES:
        yield f"heatmap {zone}", lambda s, zone=zone: analyze.heatmap(s, f, timezone=zone)
    yield "tags", lambda s: analyze.tags(s, f, limit=40)
    yield "tag_trends", lambda s: analyze.tag_trends(s, f, limit=15, now=now)
    yield "terms", lambda s: analyze.terms(s, f, limit=80)
    yield "keyness", lambda s: analyze.keyness(s, f, limit=60)
    yield "term_clouds", lambda s: analyze.term_clouds(s, f, limit=40)
    yield "store language_counts", lambda s: s.language_counts(f)
    if not quick:
        yield "topics", lambda s: analyze.topics(s, f, k=5)
        yield (
            "store term_vectors",
            lambda s: s.term_vectors(f, ["usa", "zölle", "tariffs"], sample=300),
        )
    yield "store terms raw", lambda s: s.terms(f, limit=80, rollup=False)
    yield "authors", lambda s: analyze.authors(s, f, limit=None)
    yield "authors top 5", lambda s: analyze.authors(s, f, limit=5)
    yield "cadence", lambda s: analyze.cadence(s, f, now=now)
    for need in ("articles", "tags", "authors", "terms"):
        yield f"empty_state {need}", lambda s, need=need: analyze.empty_state(s, f, need=need)
    for sort in ("published", "title", "reading_minutes"):
        for descending in (True, False):
            for offset in (0, 7) if not quick else (0,):
                yield (
                    f"articles {sort} desc={descending} offset {offset}",
                    lambda s, sort=sort, d=descending, o=offset: analyze.articles(
                        s, f, sort=sort, descending=d, limit=25, offset=o
                    ),
                )
    yield "articles past the end", lambda s: analyze.articles(s, f, limit=10, offset=10**6)
    if quick and f == ALL:
        return  # the whole store's export: the demo store's comparison has it
    yield "export csv", lambda s: analyze.export_articles(s, f, "csv")
    yield "export json", lambda s: json.loads(analyze.export_articles(s, f, "json"))


def per_store(
    store: Storage, views: Sequence[Filters], now: datetime, tmp: Path
) -> Iterator[tuple[str, Callable[[Storage], Any]]]:
    """The analyses that take more than a view."""
    yield "options", lambda s: analyze.options(s, limit=500)
    yield "feeds", lambda s: analyze.feeds(s).drop(columns=["id"])
    yield "stopword_lists", lambda s: analyze.stopword_lists(s)
    tags = store.tags(ALL, limit=4)["key"]
    for f in views[:3]:
        for key in tags:
            yield (
                f"cooccurring_tags {key} in {f}",
                lambda s, f=f, key=key: analyze.cooccurring_tags(s, f, key, limit=12),
            )
            yield (
                f"article_count with {key} in {f}",
                lambda s, f=f, key=key: s.article_count(f, with_tag=key),
            )
    yield "tag_displays", lambda s: s.tag_displays([*tags, "no-such-tag"])
    de, en = Filters(languages=("de",)), Filters(languages=("en",))
    yield "compare_terms de/en", lambda s: analyze.compare_terms(s, de, en)
    yield (
        "compare_terms windows",
        lambda s: analyze.compare_terms(
            s,
            views[2],
            replace(views[2], since=views[2].since - timedelta(days=30), until=views[2].since),
        ),
    )  # type: ignore[operator]
    yield "term_counts", lambda s: s.term_counts(ALL, limit=300)
    listed = [str(t) for t in store.terms(ALL, limit=200)["term"]]
    yield "term_background", lambda s: s.term_background(listed)
    yield "term_background de", lambda s: s.term_background(listed, languages=["de"])

    def parquet(s: Storage) -> Any:
        import pyarrow.parquet as pq

        target = tmp / f"{engine_of(s)}.parquet"
        written = analyze.export_parquet(s, views[1], target)
        return written, pq.read_table(target).to_pylist()

    yield "export_parquet", parquet


def compare_all(
    duck: Storage,
    ch: Storage,
    views: Sequence[Filters],
    now: datetime,
    tmp: Path,
    *,
    quick: bool = False,
) -> list[str]:
    """Ask both stores every question; return the differences (one line each)."""
    differences: list[str] = []
    calls = [
        (f"{name} [{n}]", call)
        for n, f in enumerate(views)
        for name, call in analyses(f, now, quick=quick)
    ]
    calls += list(per_store(duck, views, now, tmp))
    answers: dict[str, Any] = {}
    for name, call in calls:
        answers[name] = call(duck)
    exclusive(ch)
    for name, call in calls:
        mine = call(ch)
        try:
            tolerance = ROUNDED_TOLERANCE if not name.startswith("store ") else RAW_TOLERANCE
            assert_same(answers[name], mine, name, tolerance=tolerance)
        except AssertionError as exc:
            differences.append(str(exc).splitlines()[0][:400])
    return differences


@pytest.fixture(scope="session")
def demo_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Storage, Storage]]:
    """The demo store (as `monitor demo` builds it, with a frozen now) on both engines."""
    if not HAVE_CHDB:
        pytest.skip(NO_CHDB)
    base = tmp_path_factory.mktemp("demo")
    stores = []
    for engine_name in ("duckdb", "chdb"):
        store = make_store(engine_name, base / engine_name)
        documents = [
            ingest.Document(name, demo.DEMO_FEED_URLS[name], "demo", content)
            for name, content in demo.demo_feeds(DEMO_NOW).items()
        ]
        reports = ingest.ingest_documents(store, documents, now=DEMO_NOW, workers=0)
        assert not [r for r in reports if r.failed]
        stores.append(store)
    duck, ch = stores
    try:
        yield duck, ch
    finally:
        close(ch)


def test_demo_store_answers_the_same(demo_pair: tuple[Storage, Storage], tmp_path: Path) -> None:
    duck, ch = demo_pair
    assert duck.stats(ALL)["articles"] > 1000
    differences = compare_all(duck, ch, demo_views(duck), DEMO_NOW, tmp_path)
    assert differences == [], "\n".join(differences)


# -- a generated store ---------------------------------------------------------------------------

SCALE_ARTICLES = int(os.environ.get("MONITOR_TEST_SCALE_ARTICLES", "5000"))
SCALE_END = datetime(2026, 11, 20, tzinfo=UTC)


def _generated(base: Path, articles: int) -> Path:
    out = base / f"{articles}.duckdb"
    if not out.exists():
        command = [
            sys.executable,
            str(REPO / "bench" / "generate.py"),
            "--articles",
            str(articles),
            "--feeds",
            str(max(50, min(2000, articles // 50))),
            "--authors",
            str(max(200, min(20000, articles // 5))),
            "--tags",
            str(max(100, min(5000, articles // 20))),
            "--end",
            SCALE_END.isoformat(),
            "--out",
            str(out),
        ]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        subprocess.run(command, check=True, capture_output=True, env=env, timeout=1800)
    return out


@pytest.fixture(scope="session")
def generated_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Storage, Storage]]:
    """A generated store (bench/generate.py) and its copy into chDB, once per session.
    MONITOR_TEST_SCALE_ARTICLES sets the size (default 5,000; 100,000 is the issue's: see
    the README for the command and the time it takes)."""
    if not HAVE_CHDB:
        pytest.skip(NO_CHDB)
    cache = (
        Path(os.environ["MONITOR_TEST_SCALE_DIR"])
        if os.environ.get("MONITOR_TEST_SCALE_DIR")
        else tmp_path_factory.mktemp("scale")
    )
    path = _generated(cache, SCALE_ARTICLES)
    duck = open_store(str(path), read_only=True)
    where = cache / f"{SCALE_ARTICLES}-chdb"
    ch = make_store("chdb", where)
    done = where / "copied"
    if not done.exists():
        copy_store(duck, ch)
        done.write_text("ok")
    try:
        yield duck, ch
    finally:
        close(ch)


@pytest.mark.slow
def test_generated_store_answers_the_same(
    generated_pair: tuple[Storage, Storage], tmp_path: Path
) -> None:
    duck, ch = generated_pair
    exclusive(ch)
    assert ch.stats(ALL) == duck.stats(ALL)
    tags = tuple(duck.options(limit=2)["tags"])
    views = [
        ALL,
        Filters(since=datetime(2026, 10, 20, tzinfo=UTC), until=datetime(2026, 11, 6, tzinfo=UTC)),
        Filters(since=SCALE_END - timedelta(days=30)),
        Filters(languages=("en",), tags=tags, since=SCALE_END - timedelta(days=90)),
        Filters(query=parse("hafen"), since=SCALE_END - timedelta(days=14)),
    ]
    differences = compare_all(duck, ch, views, SCALE_END, tmp_path, quick=True)
    assert differences == [], "\n".join(differences)


# == Stories (issue 10): placed at ingest, the same on both engines ==============================

STORM = (
    "Sturmtief Zoltan hat in der Nacht zum Dienstag schwere Schäden in Hamburg angerichtet. "
    "Der Deutsche Wetterdienst meldete Böen von bis zu 140 Kilometern pro Stunde. Die "
    "Feuerwehr rückte nach eigenen Angaben zu mehr als 600 Einsätzen aus. In Bremen stürzte "
    "ein Baum auf ein Auto, zwei Menschen wurden verletzt. Die Deutsche Bahn stellte den "
    "Fernverkehr zwischen Hamburg und Bremen ein"
)
OTHER_STORM = (
    "Sturmtief Xaver hat in der Nacht zum Sonntag schwere Schäden in Kiel angerichtet. Der "
    "Deutsche Wetterdienst meldete Böen von bis zu 150 Kilometern pro Stunde. Mehrere Schulen "
    "in Kiel blieben am Morgen geschlossen. Tausende Haushalte waren zeitweise ohne Strom, "
    "teilte der Versorger Vattenfall mit"
)
C_URL = "file:///feeds/c.xml"
D_URL = "file:///feeds/d.xml"


def _stories(store: Storage) -> list[tuple[Any, ...]]:
    return store.stories(ALL, limit=50).rows


def test_copies_of_a_story_in_several_feeds_are_one_story(any_store: Storage) -> None:
    original = item(1, title="Sturmtief Zoltan wütet in Hamburg", words=STORM)
    # An outlet's copy: a new headline, a line added, another URL; an hour later.
    copy = item(
        2,
        site="https://b.example",
        title="Schwere Schäden durch Zoltan",
        words=f"Aktualisiert um 14:20 Uhr. {STORM}",
        published=NOW - timedelta(hours=5),
    )
    other = item(
        3,
        site="https://b.example",
        title="Sturmtief Xaver wütet in Kiel",
        words=OTHER_STORM,
        published=NOW - timedelta(hours=4),
    )
    save(any_store, A_URL, document(A_URL, [original]))
    save(any_store, B_URL, document(B_URL, [copy, other], title="Feed B"))
    rows = _stories(any_store)
    first_id = any_store.articles_page(
        Filters(query=parse("Zoltan wütet")), sort="published", descending=False, limit=1, offset=0
    )[0]["id"][0]
    assert rows[0] == (
        first_id,
        "Sturmtief Zoltan wütet in Hamburg",
        2,
        2,
        "Feed A",
        rows[0][5],
        rows[0][6],
    )
    assert (rows[0][5], rows[0][6]) == (datetime(2026, 4, 2, 6), datetime(2026, 4, 2, 7))
    assert len(rows) == 2 and rows[1][1:4] == ("Sturmtief Xaver wütet in Kiel", 1, 1)
    articles = any_store.story_articles(ALL, first_id)
    assert articles.columns == ("id", "published", "title", "url", "feed", "language")
    assert [r[2] for r in articles.rows] == [
        "Sturmtief Zoltan wütet in Hamburg",
        "Schwere Schäden durch Zoltan",
    ]
    assert [r[4] for r in articles.rows] == ["Feed A", "Feed B"]
    assert any_store.story_articles(ALL, "no such story").empty
    # Filters apply: only feed B's article of the story is in that view.
    assert any_store.stories(Filters(feeds=("Feed B",)), limit=1).rows[0][2:4] == (1, 1)


def test_copies_within_one_batch_are_one_story_and_languages_stay_apart(
    any_store: Storage,
) -> None:
    text = STORM
    german = document(A_URL, [item(1, title="Zoltan", words=text)])
    copy = document(
        B_URL, [item(2, site="https://b.example", title="Zoltan", words=text)], title="Feed B"
    )
    english = document(
        C_URL,
        [item(3, site="https://c.example", title="Zoltan", words=text)],
        title="Feed C",
        language="en",
    )
    any_store.save_feeds(
        [
            FeedUpdate(url=u, kind="file", parsed=d, now=NOW)
            for u, d in ((A_URL, german), (B_URL, copy), (C_URL, english))
        ]
    )
    rows = _stories(any_store)
    assert [(r[2], r[3]) for r in rows] == [(2, 2), (1, 1)]
    assert rows[1][4] == "Feed C"


def test_a_story_whose_first_article_is_removed_keeps_its_id(any_store: Storage) -> None:
    save(any_store, A_URL, document(A_URL, [item(1, title="Zoltan", words=STORM)]))
    save(
        any_store,
        B_URL,
        document(
            B_URL,
            [
                item(
                    2,
                    site="https://b.example",
                    title="Zoltan",
                    words=STORM,
                    published=NOW - timedelta(hours=3),
                )
            ],
            title="Feed B",
        ),
    )
    ((story_id, *_),) = [r for r in _stories(any_store)]
    assert any_store.remove_feed(A_URL) == 1
    rows = _stories(any_store)
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [(story_id, 1, 1, "Feed B")]
    # A later copy still finds the story by its remaining article.
    save(
        any_store,
        C_URL,
        document(
            C_URL,
            [
                item(
                    3,
                    site="https://c.example",
                    title="Zoltan",
                    words=STORM,
                    published=NOW - timedelta(hours=2),
                )
            ],
            title="Feed C",
        ),
    )
    assert [(r[0], r[2], r[3]) for r in _stories(any_store)] == [(story_id, 2, 2)]
    # A changed article keeps its story.
    save(
        any_store,
        C_URL,
        document(
            C_URL,
            [
                item(
                    3,
                    site="https://c.example",
                    title="Zoltan (neu)",
                    words=STORM + " Neu.",
                    published=NOW - timedelta(hours=2),
                )
            ],
            title="Feed C",
        ),
    )
    assert [(r[0], r[2], r[3]) for r in _stories(any_store)] == [(story_id, 2, 2)]
    any_store.remove_feed(B_URL)
    any_store.remove_feed(C_URL)
    assert _stories(any_store) == []


def test_rebuilding_stories_gives_what_ingest_gave(any_store: Storage) -> None:
    from monitor.store import storyrows

    save(
        any_store,
        A_URL,
        document(
            A_URL, [item(1, title="Zoltan", words=STORM), item(4, title="Xaver", words=OTHER_STORM)]
        ),
    )
    save(
        any_store,
        B_URL,
        document(
            B_URL,
            # Published after A's copy, as it was stored: the rebuild (time order) agrees.
            [item(2, site="https://b.example", title="Zoltan", words=STORM, published=NOW)],
            title="Feed B",
        ),
    )
    before = _stories(any_store)
    any_store.save_stories([], clear=True)
    # Unplaced articles are stories of their own.
    assert sorted((r[2], r[3]) for r in _stories(any_store)) == [(1, 1)] * 3
    total = any_store.count_rows("articles")
    done = [
        p.done
        for p in storyrows.rebuild(
            any_store.story_sources,
            lambda placed: any_store.save_stories(placed),
            total,
            size=2,
        )
    ]
    assert done == [2, 3]
    assert _stories(any_store) == before


def test_saved_queries_add_edit_remove(any_store: Storage) -> None:
    """Saved queries (issue 11): versions count edits, the same text changes nothing, the
    time of the last edit is kept (naive UTC), names list in order, removal says so."""
    t1 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    t2 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert any_store.saved_queries() == []
    assert any_store.saved_query("eu") is None
    first = any_store.save_query("eu", "EU OR Brüssel", now=t1)
    assert (first.name, first.text, first.version) == ("eu", "EU OR Brüssel", 1)
    assert first.edited == datetime(2026, 12, 1, 9, 30)
    assert any_store.save_query("eu", "EU OR Brüssel", now=t2).version == 1  # unchanged
    edited = any_store.save_query("eu", 'EU OR "Europäische Union"', now=t2)
    assert (edited.version, edited.edited) == (2, datetime(2026, 12, 2, 10, 0))
    any_store.save_query("Klima_2", "klima*", now=t1)
    listed = any_store.saved_queries()
    assert [(q.name, q.text, q.version, q.edited) for q in listed] == [
        ("Klima_2", "klima*", 1, datetime(2026, 12, 1, 9, 30)),
        ("eu", 'EU OR "Europäische Union"', 2, datetime(2026, 12, 2, 10, 0)),
    ]
    assert any_store.saved_query("eu") == listed[1]
    assert any_store.remove_query("eu") is True
    assert any_store.remove_query("eu") is False
    assert [q.name for q in any_store.saved_queries()] == ["Klima_2"]
