"""The ClickHouse engine (on chDB) answers every read exactly as the DuckDB engine does, for
the same documents: real feeds from ../shared/feeds and the demo's; and keeps the
guarantees: re-ingesting changes nothing, a changed entry replaces the old one with its tags
and terms, the same story in two feeds is one article, writers in threads at once.

chDB opens one directory per process: every test closes its store at teardown.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("chdb")

from monitor import demo  # noqa: E402
from monitor.models import Filters, ParsedFeed, Table  # noqa: E402
from monitor.parse import parse_feed  # noqa: E402
from monitor.query import parse
from monitor.store.base import FeedUpdate, SaveCounts, Storage  # noqa: E402
from monitor.store.clickhouse import ClickHouseStore, cluster_ddl  # noqa: E402
from monitor.store.duckdb import DuckDBStore  # noqa: E402

FEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "feeds"
ANCHOR = datetime(2026, 3, 30, 12, tzinfo=UTC)  # the demo's month spans Europe's DST change
NOW = datetime(2026, 4, 2, 12, tzinfo=UTC)


def _documents() -> list[tuple[str, bytes]]:
    docs = [(f"file://{p}", p.read_bytes()) for p in sorted(FEEDS.glob("*.xml"))]
    docs += sorted(demo.demo_feeds(ANCHOR).items())
    return docs


def _parse(url: str, body: bytes) -> ParsedFeed:
    return parse_feed(body, source=url, feed_url=url, fetched_at=NOW)


class Duck:
    """The reference: the DuckDB engine on one file."""

    def __init__(self, path: Path) -> None:
        self.store = DuckDBStore(path)

    def save(self, docs: list[tuple[str, ParsedFeed]]) -> list[SaveCounts]:
        return _save_ch(self.store, docs)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.store, name)(*args, **kwargs)


def _save_ch(store: Storage, docs: list[tuple[str, ParsedFeed]]) -> list[SaveCounts]:
    return store.save_feeds(
        [
            FeedUpdate(url=url, kind="file", parsed=p, body_hash="h:" + url, now=NOW)
            for url, p in docs
        ]
    )


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, ParsedFeed]]:
    return [(url, _parse(url, body)) for url, body in _documents()]


@pytest.fixture
def chstore(tmp_path: Path) -> Iterator[ClickHouseStore]:
    store = ClickHouseStore(f"chdb://{tmp_path / 'ch'}")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def pair(
    tmp_path: Path, parsed: list[tuple[str, ParsedFeed]]
) -> Iterator[tuple[Duck, ClickHouseStore]]:
    base = tmp_path
    duck = Duck(base / "m.duckdb")
    ch = ClickHouseStore(f"chdb://{base / 'ch'}")
    try:
        assert duck.save(parsed) == _save_ch(ch, parsed)
        yield duck, ch
    finally:
        ch.close()


# -- comparing answers ---------------------------------------------------------------------


def _value(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 9)
    if isinstance(v, list | tuple):
        return tuple(_value(x) for x in v)
    if v is not None and type(v).__name__ in ("NaTType", "NAType"):
        return None
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    if hasattr(v, "tolist") and not isinstance(v, str):  # numpy values from a DataFrame
        return _value(v.tolist())
    return v


def _rows(result: Any, drop: tuple[str, ...] = ()) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    if isinstance(result, Table):
        columns, rows = result.columns, result.rows
    else:  # a DataFrame from the old functions
        columns = tuple(result.columns)
        rows = [tuple(r) for r in result.itertuples(index=False)]
    keep = [i for i, c in enumerate(columns) if c not in drop]
    return (
        tuple(columns[i] for i in keep),
        [tuple(_value(r[i]) for i in keep) for r in rows],
    )


def _same(old: Any, new: Any, *, drop: tuple[str, ...] = (), ordered: bool = True) -> None:
    a, b = _rows(old, drop), _rows(new, drop)
    assert a[0] == b[0]
    if not ordered:
        a, b = (a[0], sorted(a[1])), (b[0], sorted(b[1]))
    assert a[1] == b[1]


def _views(parsed: list[tuple[str, ParsedFeed]]) -> list[Filters]:
    feed_title = next(p.title for _, p in parsed if p.title)
    author = next(a for _, p in parsed for art in p.articles for a in art.authors)
    tag = next(t.display for _, p in parsed for art in p.articles for t in art.tags)
    start = datetime(2026, 3, 20, 5, 30, tzinfo=UTC)
    return [
        Filters(),
        Filters(since=start, until=start + timedelta(days=12, hours=7)),
        Filters(since=datetime(2026, 3, 1, tzinfo=UTC)),
        Filters(until=datetime(2026, 3, 25, tzinfo=UTC), languages=("de",)),
        Filters(feeds=(feed_title,)),
        Filters(authors=(author,)),
        Filters(tags=(tag,)),
        Filters(query=parse("die")),
        Filters(since=start, tags=(tag.upper(),), languages=("de", "en")),
    ]


ZONES = ("UTC", "Europe/Berlin", "America/New_York")


def test_every_read_answers_as_duckdb(
    pair: tuple[Duck, ClickHouseStore], parsed: list[tuple[str, ParsedFeed]]
) -> None:
    duck, ch = pair
    for f in _views(parsed):
        assert duck.call("stats", f) == ch.stats(f), f
        assert duck.call("article_count", f) == ch.article_count(f)
        for by in ("hour", "day", "week", "month"):
            for zone in ZONES:
                _same(
                    duck.call("frequency", f, by=by, timezone=zone),
                    ch.frequency(f, by=by, timezone=zone),
                )
        for split in ("feed", "author", "tag"):
            for zone in ("UTC", "Europe/Berlin"):
                _same(
                    duck.call("frequency", f, by="day", timezone=zone, split=split, top=3),
                    ch.frequency(f, by="day", timezone=zone, split=split, top=3),
                )
        for zone in ZONES:
            _same(
                duck.call("heatmap", f, timezone=zone), ch.heatmap(f, timezone=zone), ordered=False
            )
        _same(duck.call("tags", f, limit=20), ch.tags(f, limit=20))
        earlier = replace(f, since=datetime(2025, 1, 1, tzinfo=UTC), until=f.since or NOW)
        _same(duck.call("tag_windows", f, earlier), ch.tag_windows(f, earlier))
        for rollup in (True, False):
            _same(
                duck.call("terms", f, limit=60, rollup=rollup), ch.terms(f, limit=60, rollup=rollup)
            )
        old, new = duck.call("term_counts", f, limit=30), ch.term_counts(f, limit=30)
        _same(old, new)
        assert old.attrs["total"] == new.attrs["total"]
        for limit in (None, 5):
            old, new = duck.call("authors", f, limit=limit), ch.authors(f, limit=limit)
            _same(old, new)
            assert old.attrs == new.attrs
        _same(duck.call("cadence", f), ch.cadence(f), drop=("feed_id",))
        for sort in ("published", "title", "reading_minutes"):
            for descending in (True, False):
                old_page, old_total = duck.call(
                    "articles_page", f, sort=sort, descending=descending, limit=25, offset=5
                )
                new_page, new_total = ch.articles_page(
                    f, sort=sort, descending=descending, limit=25, offset=5
                )
                assert old_total == new_total
                _same(old_page, new_page)
        top = ch.tags(f, limit=3)
        for key in top["key"]:
            _same(
                duck.call("cooccurring_tags", f, key, limit=10),
                ch.cooccurring_tags(f, key, limit=10),
            )
            with_tag = duck.call("article_count", f, with_tag=key)
            assert with_tag == ch.article_count(f, with_tag=key)
        exported = [row for batch in duck.store.export_batches(f, size=70) for row in batch.rows]
        mine = [row for batch in ch.export_batches(f, size=40) for row in batch.rows]
        assert [tuple(_value(v) for v in r) for r in exported] == [
            tuple(_value(v) for v in r) for r in mine
        ]
    keys = list(ch.tags(Filters(), limit=10)["key"]) + ["no-such-tag"]
    assert duck.call("tag_displays", keys) == ch.tag_displays(keys)
    assert duck.call("options", limit=7) == ch.options(limit=7)
    _same(duck.call("feeds"), ch.feeds(), drop=("id",))
    assert duck.call("body_hashes") == ch.body_hashes()


# -- the guarantees ------------------------------------------------------------------------


def _compare_some(duck: Duck, ch: Storage, views: list[Filters]) -> None:
    """The reads a changed or re-ingested store could get wrong, on both engines."""
    for f in views:
        assert duck.call("stats", f) == ch.stats(f)
        _same(
            duck.call("frequency", f, by="day", timezone="Europe/Berlin"),
            ch.frequency(f, by="day", timezone="Europe/Berlin"),
        )
        _same(
            duck.call("frequency", f, by="week", split="tag", top=4),
            ch.frequency(f, by="week", split="tag", top=4),
        )
        _same(duck.call("tags", f, limit=30), ch.tags(f, limit=30))
        for rollup in (True, False):
            _same(
                duck.call("terms", f, limit=80, rollup=rollup), ch.terms(f, limit=80, rollup=rollup)
            )
        _same(duck.call("authors", f), ch.authors(f))
        page = duck.call("articles_page", f, sort="published", descending=True, limit=500, offset=0)
        mine = ch.articles_page(f, sort="published", descending=True, limit=500, offset=0)
        assert page[1] == mine[1]
        _same(page[0], mine[0])
        _same(duck.call("cadence", f), ch.cadence(f), drop=("feed_id",))


def _changed(parsed: ParsedFeed, every: int = 3) -> ParsedFeed:
    """The same document with every `every`-th entry changed: title, a tag gone and one
    new, terms gone and one new, moved two days later."""
    from monitor.models import Tag

    out = []
    for i, a in enumerate(parsed.articles):
        if i % every == 0:
            a = replace(
                a,
                title=a.title + " (updated)",
                tags=(*a.tags[1:], Tag("nachtrag", "Nachtrag", "category")),
                terms=(*a.terms[:-3], ("nachtragswort", 3, "Nachtragswort")),
                published=a.published + timedelta(days=2),
                authors=a.authors[:1],
                content_hash=a.content_hash + "-changed",
            )
        out.append(a)
    return replace(parsed, articles=tuple(out))


@pytest.fixture
def small(parsed: list[tuple[str, ParsedFeed]]) -> list[tuple[str, ParsedFeed]]:
    return [(u, p) for u, p in parsed if u.startswith("file://")]


def test_reingest_changes_nothing_and_changes_replace(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    duck = Duck(tmp_path / "m.duckdb")
    first = _save_ch(chstore, small)
    assert first == duck.save(small)
    views = [Filters(), Filters(since=datetime(2020, 1, 1, tzinfo=UTC))]
    terms_before = chstore.terms(Filters(), limit=1000)
    for _ in range(2):
        again = _save_ch(chstore, small)
        assert again == duck.save(small)
        assert sum(c.new + c.updated + c.linked for c in again) == 0
        assert chstore.terms(Filters(), limit=1000).rows == terms_before.rows
    _compare_some(duck, chstore, views)
    changed = [(u, _changed(p)) for u, p in small]
    counts = _save_ch(chstore, changed)
    assert counts == duck.save(changed)
    assert sum(c.updated for c in counts) > 0
    _compare_some(duck, chstore, views)
    # The rollup lost the old terms: it agrees with the terms themselves.
    assert (
        chstore.terms(Filters(), limit=5000).rows
        == chstore.terms(Filters(), limit=5000, rollup=False).rows
    )
    tags = chstore.tags(Filters(), limit=5000)
    assert "nachtrag" in tags["key"]
    # Back to the first version: everything as before the change.
    assert _save_ch(chstore, small) == duck.save(small)
    _compare_some(duck, chstore, views)


def test_same_story_in_two_feeds_is_one_article(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    url, doc = small[0]
    other = replace(doc, title="Another feed", articles=doc.articles[:3])
    docs = [(url, doc), ("file:///elsewhere.xml", other)]
    duck = Duck(tmp_path / "m.duckdb")
    counts = _save_ch(chstore, docs)
    assert counts == duck.save(docs)
    assert counts[1].linked == 3 and counts[1].new == 0
    assert chstore.stats(Filters())["articles"] == len({a.id for a in doc.articles})
    _compare_some(duck, chstore, [Filters(), Filters(feeds=("Another feed",))])


def _lifecycle(store: Storage) -> list[Any]:
    """The same feed management on a store; what each step answered and left."""
    from monitor.store.base import FetchRecord

    url = "https://example.org/feed.xml"
    seen: list[Any] = []

    def state() -> dict[str, Any] | None:
        found = store.feed_state(url) or store.feed_state("https://example.org/new.xml")
        return None if found is None else {k: v for k, v in found.items() if k != "id"}

    fid, created = store.add_feed(url, now=NOW)
    seen.append(created)
    seen.append(store.add_feed(url, now=NOW, name="Example", full_text=True, restricted=True))
    seen[-1] = (seen[-1][0] == fid, seen[-1][1])
    fetch = FetchRecord(status=500, error="HTTP 500", next_due=NOW + timedelta(hours=1))
    store.save_feeds([FeedUpdate(feed_id=fid, fetch=fetch, now=NOW)])
    seen.append(state())
    seen.append([replace(s, id=0) for s in store.due_feeds(NOW, all_feeds=True)])
    seen.append(store.due_feeds(NOW, all_feeds=False))
    seen.append(store.subscriptions())
    seen.append(store.make_due(url))
    seen.append([s.url for s in store.due_feeds(NOW, all_feeds=False)])
    seen.append(store.set_feed_enabled(url, False))
    seen.append(store.due_feeds(NOW, all_feeds=True))
    seen.append(state())
    seen.append(store.set_feed_enabled(url, True))
    seen.append(state())
    seen.append(store.set_feed_enabled("https://nowhere.example/", True))
    seen.append(store.make_due("https://nowhere.example/"))
    ok = FetchRecord(
        status=200,
        error=None,
        next_due=NOW + timedelta(minutes=15),
        etag='"v1"',
        permanent_url="https://example.org/new.xml",
    )
    store.save_feeds([FeedUpdate(feed_id=fid, fetch=ok, now=NOW)])
    seen.append(state())
    moved = store.feed_state("https://example.org/new.xml")
    seen.append(moved is not None and moved["id"] == fid)
    seen.append(store.remove_feed("https://example.org/new.xml"))
    seen.append(store.remove_feed("https://example.org/new.xml"))
    seen.append(len(store.feeds()))
    return seen


def test_feed_lifecycle_matches_duckdb(tmp_path: Path, chstore: ClickHouseStore) -> None:
    assert _lifecycle(chstore) == _lifecycle(DuckDBStore(tmp_path / "m.duckdb"))


def test_stopwords_match_duckdb(tmp_path: Path, chstore: ClickHouseStore) -> None:
    duck = DuckDBStore(tmp_path / "m.duckdb")
    for store in (duck, chstore):
        store.add_stopwords("fr", ["le"])
    for words in (["und", "oder", "und"], ["so"]):
        assert duck.add_stopwords("de", words) == chstore.add_stopwords("de", words)
    assert duck.remove_stopwords("de", ["oder", "nie"]) == chstore.remove_stopwords(
        "de", ["oder", "nie"]
    )
    _same(duck.user_stopwords(), chstore.user_stopwords())


def test_remove_feed_takes_its_articles_and_their_terms(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    duck = Duck(tmp_path / "m.duckdb")
    _save_ch(chstore, small)
    duck.save(small)
    assert chstore.remove_feed(small[0][0]) == duck.store.remove_feed(small[0][0])
    _compare_some(duck, chstore, [Filters()])
    assert (
        chstore.terms(Filters(), limit=5000).rows
        == chstore.terms(Filters(), limit=5000, rollup=False).rows
    )


def test_writer_killed_midway_leaves_no_half_visible_feed(
    chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    """A writer that dies after an article's tags and terms but before its article row (the
    insert into `articles` fails) leaves nothing visible of the new articles, and the next
    save of the same document completes them."""
    url, doc = small[0]
    real = chstore._insert

    def dying(table: str, columns: Any, rows: Any) -> None:
        if table == "articles":
            raise KeyboardInterrupt  # the process is killed here
        real(table, columns, rows)

    chstore._insert = dying  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        _save_ch(chstore, [(url, doc)])
    chstore._insert = real  # type: ignore[method-assign]
    nothing = Filters()
    assert chstore.stats(nothing)["articles"] == 0
    assert chstore.tags(nothing).empty and chstore.authors(nothing).empty
    assert chstore.terms(nothing, rollup=False).empty
    assert chstore.frequency(nothing, by="day", split="tag").empty
    assert chstore.body_hashes() == {}  # the feed row came last: the next run parses again
    counts = _save_ch(chstore, [(url, doc)])
    assert counts[0].new == len({a.id for a in doc.articles})
    assert (
        chstore.terms(Filters(), limit=5000).rows
        == chstore.terms(Filters(), limit=5000, rollup=False).rows
    )


def _visible_nothing_of(store: ClickHouseStore, views: list[Filters]) -> None:
    """Every per-article count of these views sees no article and no article's rows."""
    for f in views:
        stats = store.stats(f)
        assert (stats["articles"], stats["feeds"], stats["authors"], stats["tags"]) == (0,) * 4
        assert store.tags(f).empty and store.authors(f).empty, f
        assert store.terms(f, rollup=False).empty, f
        assert store.frequency(f, by="day", split="tag").empty, f
        assert store.frequency(f, by="day", split="author").empty, f
        assert store.cadence(f)["articles"] == [0] * len(store.cadence(f)), f


def _time_views(docs: list[tuple[str, ParsedFeed]]) -> list[Filters]:
    """All time, and a window around the documents' articles that starts and ends mid-day
    (the views narrowed by time only: the ones that skip the join to stored articles)."""
    times = sorted(a.published for _, d in docs for a in d.articles if a.published is not None)
    start = times[0].replace(minute=0, second=0, microsecond=0)
    return [
        Filters(),
        Filters(since=start + timedelta(hours=5, minutes=7), until=times[-1] - timedelta(hours=3)),
        Filters(until=times[len(times) // 2]),
    ]


def test_writer_killed_midway_named_pending_for_time_views(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    """A view narrowed by time only does not join rows to stored articles: what keeps a
    killed writer's rows invisible there is the `pending` name it wrote first. Killed
    before the article rows, then killed before the names are cleared (the articles are
    complete: visible), then saved whole: the same answers as DuckDB's on every view."""
    url, doc = small[0]
    views = _time_views([(url, doc)])
    real = chstore._insert
    dying_at = {"table": "articles"}

    def dying(table: str, columns: Any, rows: Any) -> None:
        if table == dying_at["table"] and (table != "pending" or any(r[-1] for r in rows)):
            raise KeyboardInterrupt  # the process is killed here
        real(table, columns, rows)

    chstore._insert = dying  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        _save_ch(chstore, [(url, doc)])
    chstore._insert = real  # type: ignore[method-assign]
    assert chstore.stats(Filters())["articles"] == 0
    _visible_nothing_of(chstore, views)
    # The next write dies after the article rows, before it clears the names.
    dying_at["table"] = "pending"
    chstore._insert = dying  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        _save_ch(chstore, [(url, doc)])
    chstore._insert = real  # type: ignore[method-assign]
    duck = Duck(tmp_path / "m.duckdb")
    duck.save([(url, doc)])
    # The articles have their rows: complete, with every tag and term, though still named.
    assert chstore.stats(Filters())["articles"] == len({a.id for a in doc.articles})
    assert chstore._raw("SELECT count() FROM pending FINAL")[1][0][0] > 0
    for f in views:
        assert chstore.tags(f).rows == duck.store.tags(f).rows
        assert chstore.terms(f, rollup=False).rows == duck.store.terms(f, rollup=False).rows
    _save_ch(chstore, [(url, doc)])  # complete: the names cleared
    assert chstore._raw("SELECT count() FROM pending FINAL")[1] == [(0,)]
    _compare_some(duck, chstore, views)


def test_removal_killed_midway_leaves_nothing_half_visible(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    """`feeds remove` killed after the article rows are tombstoned but before their tags:
    the views narrowed by time only see nothing of the removed articles; the retried
    removal ends as DuckDB's."""
    docs = small[:2]
    _save_ch(chstore, docs)
    real = chstore._insert

    def dying(table: str, columns: Any, rows: Any) -> None:
        if table == "article_tags":
            raise KeyboardInterrupt
        real(table, columns, rows)

    chstore._insert = dying  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        chstore.remove_feed(docs[0][0])
    chstore._insert = real  # type: ignore[method-assign]
    duck = Duck(tmp_path / "m.duckdb")
    duck.save(docs)
    removed = duck.store.remove_feed(docs[0][0])
    assert removed
    views = _time_views(docs)
    for f in views:
        # The killed removal left the feed (and its links) but none of its own articles.
        assert chstore.tags(f).rows == duck.store.tags(f).rows
        assert chstore.authors(f).rows == duck.store.authors(f).rows
        assert chstore.terms(f, rollup=False).rows == duck.store.terms(f, rollup=False).rows
    assert chstore.remove_feed(docs[0][0]) == removed  # the retry finds the same ones
    _compare_some(duck, chstore, views)
    assert chstore._raw("SELECT count() FROM pending FINAL")[1] == [(0,)]


def test_migration_names_a_killed_writers_leftovers_pending(
    tmp_path: Path, small: list[tuple[str, ParsedFeed]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store of schema 3 with a killed writer's rows (tags and terms of an article with
    no row): migration 4 names them pending, so the views narrowed by time only (which no
    longer join to stored articles) still see nothing of them."""
    from monitor.store.clickhouse import schema

    url, doc = small[0]
    from monitor.store.clickhouse.write import Writer

    location = f"chdb://{tmp_path / 'old'}"
    old = ClickHouseStore(location)
    # The writer of schema 3 named nothing pending.
    monkeypatch.setattr(Writer, "mark_pending", lambda self, ids: None)
    monkeypatch.setattr(Writer, "clear_pending", lambda self, ids: None)
    # Nor placed stories (their tables came with migration 5).
    monkeypatch.setattr(Writer, "place_stories", lambda self, changed, before: None)
    # Nor indexed words (migration 8).
    monkeypatch.setattr(Writer, "put_words", lambda self, *args, **kwargs: None)
    try:
        saved = schema.MIGRATIONS[:]
        del schema.MIGRATIONS[3:]
        try:
            import monitor.store.clickhouse as engine

            engine.SCHEMA_VERSION, before = 3, engine.SCHEMA_VERSION
            real = old._insert

            def dying(table: str, columns: Any, rows: Any) -> None:
                if table == "articles":
                    raise KeyboardInterrupt
                real(table, columns, rows)

            old._insert = dying  # type: ignore[method-assign]
            with pytest.raises(KeyboardInterrupt):
                _save_ch(old, [(url, doc)])
            assert old._raw("SELECT count() FROM article_tags FINAL")[1][0][0] > 0
        finally:
            schema.MIGRATIONS[:] = saved
            engine.SCHEMA_VERSION = before
    finally:
        old.close()
    monkeypatch.undo()
    new = ClickHouseStore(location)
    try:
        assert new.info().schema_version == schema.SCHEMA_VERSION
        _visible_nothing_of(new, _time_views([(url, doc)]))
        _save_ch(new, [(url, doc)])
        duck = Duck(tmp_path / "m.duckdb")
        duck.save([(url, doc)])
        _compare_some(duck, new, _time_views([(url, doc)]))
    finally:
        new.close()


def test_writer_threads_at_once(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    """Four writer threads (chDB: one process) store a quarter of the feeds each, while a
    reader reads; the result equals one writer's."""
    errors: list[BaseException] = []

    def writer(part: list[tuple[str, ParsedFeed]]) -> None:
        try:
            for doc in part:
                _save_ch(chstore, [doc])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(small[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        chstore.stats(Filters())
    for thread in threads:
        thread.join()
    assert errors == []
    duck = Duck(tmp_path / "m.duckdb")
    duck.save(small)
    views = [Filters()]
    _compare_some(duck, chstore, views)


def test_copy_rows_from_duckdb_and_back(
    tmp_path: Path, chstore: ClickHouseStore, small: list[tuple[str, ParsedFeed]]
) -> None:
    """Every table read from DuckDB with `read_rows` and written with `write_rows` (twice,
    the second time whole: a resumed copy) gives the same answers; and back again."""
    from monitor.store.base import TABLES

    duck = Duck(tmp_path / "m.duckdb")
    duck.save(small)
    duck.store.add_stopwords("en", ["the"])

    def move(source: Storage, target: Storage) -> None:
        for table, keys in TABLES.items():
            rows: list[tuple[Any, ...]] = []
            after = None
            while True:
                page = source.read_rows(table, after=after, size=997)
                if page.empty:
                    break
                rows += page.rows
                after = tuple(page.rows[-1][page.columns.index(k)] for k in keys)
            whole = Table(page.columns, rows)
            target.write_rows(table, Table(page.columns, rows[: len(rows) // 2]))
            target.write_rows(table, whole)
            assert target.count_rows(table) == source.count_rows(table) == len(rows)
        target.finish_copy()

    move(duck.store, chstore)
    views = [Filters(), Filters(since=datetime(2020, 1, 1, tzinfo=UTC))]
    _compare_some(duck, chstore, views)
    back = Duck(tmp_path / "back.duckdb")
    move(chstore, back.store)
    _compare_some(back, chstore, views)
    assert _rows(back.store.feeds()) == _rows(duck.store.feeds())


def test_info_version_and_cluster_plan(chstore: ClickHouseStore) -> None:
    info = chstore.info()
    assert info.name == "clickhouse" and info.schema_version >= 1
    assert info.version.split(".")[0].isdigit()
    before = chstore.data_version()
    chstore.add_feed("https://example.org/a.xml", now=NOW)
    assert chstore.data_version() != before
    ddl = cluster_ddl("prod")
    assert all("ON CLUSTER 'prod'" in s for s in ddl)
    assert any("ReplicatedReplacingMergeTree" in s and "articles_local" in s for s in ddl)
    assert any("Distributed('prod', 'monitor', 'articles_local', cityHash64(id))" in s for s in ddl)
    with pytest.raises(ValueError):
        cluster_ddl("x'; DROP")


def test_location_forms_and_read_only(tmp_path: Path) -> None:
    from monitor.errors import StoreError
    from monitor.store.clickhouse import _Location

    server = _Location("clickhouse://me:secret@db.example:9000/news")
    assert (server.host, server.port, server.username, server.password, server.database) == (
        "db.example",
        9000,
        "me",
        "secret",
        "news",
    )
    assert "secret" not in server.shown
    assert _Location("clickhouses://db.example/news").secure
    assert _Location("clickhouse://db.example/news?secure=1").port == 8443
    with pytest.raises(StoreError):
        _Location("postgres://db.example/news")
    store = ClickHouseStore(f"chdb://{tmp_path / 'none'}", read_only=True)
    try:
        with pytest.raises(StoreError, match="read-only"):
            store.stats(Filters())
    finally:
        store.close()


def test_session_lets_go_and_interrupt_stops(tmp_path: Path) -> None:
    """After the last session the client is kept (the next session opens nothing), and let
    go `HOLD` seconds later, or at once when another store opens another chDB directory;
    `interrupt` makes the next statement raise KeyboardInterrupt, and the store works again
    after it."""
    first = ClickHouseStore(f"chdb://{tmp_path / 'a'}")
    with first.session():
        first.add_feed("https://example.org/a.xml", now=NOW)
        with first.session():
            assert first.stats(Filters())["feeds_total"] == 1
        assert first._client is not None
    held = first._client
    assert held is not None
    with first.session():
        assert first.stats(Filters())["feeds_total"] == 1
    assert first._client is held
    second = ClickHouseStore(f"chdb://{tmp_path / 'b'}")
    try:
        second.interrupt()
        with pytest.raises(KeyboardInterrupt):
            second.stats(Filters())
        assert second.stats(Filters())["feeds_total"] == 0
        assert first._client is None
        second.HOLD = 0.05
        with second.session():
            second.stats(Filters())
        assert second._client is not None
        for _ in range(100):
            if second._client is None:
                break
            threading.Event().wait(0.05)
        assert second._client is None
    finally:
        second.close()
        first.close()
