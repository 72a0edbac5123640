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
from monitor.store import Store, query, write  # noqa: E402
from monitor.store.base import FeedUpdate, SaveCounts, Storage  # noqa: E402
from monitor.store.clickhouse import ClickHouseStore, cluster_ddl  # noqa: E402
from monitor.store.entries import noted  # noqa: E402

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
    """The reference: the DuckDB engine's functions on one file."""

    def __init__(self, path: Path) -> None:
        self.store = Store(path)

    def save(self, docs: list[tuple[str, ParsedFeed]]) -> list[SaveCounts]:
        with self.store.write() as con:
            ids = write.ensure_feeds(con, [(url, "file", False) for url, _ in docs], now=NOW)
            counts = write.save_many(
                con, [(fid, p.articles) for fid, (_, p) in zip(ids, docs, strict=True)], now=NOW
            )
            write.record_parses(
                con,
                [
                    (fid, noted(p, c), "h:" + url)
                    for fid, (url, p), c in zip(ids, docs, counts, strict=True)
                ],
            )
        return counts

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self.store.read() as con:
            result = getattr(query, name)(con, *args, **kwargs)
        return result


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


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, parsed: list[tuple[str, ParsedFeed]]
) -> Iterator[tuple[Duck, ClickHouseStore]]:
    base = tmp_path_factory.mktemp("pair")
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
    if v is not None and type(v).__name__ == "NaTType":
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
        Filters(search="die"),
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
        sql, params = query.export_sql(f)
        with duck.store.read() as con:
            exported = con.execute(sql, params).fetchall()
        mine = [row for batch in ch.export_batches(f, size=40) for row in batch.rows]
        assert [tuple(_value(v) for v in r) for r in exported] == [
            tuple(_value(v) for v in r) for r in mine
        ]
    keys = list(ch.tags(Filters(), limit=10)["key"]) + ["no-such-tag"]
    assert duck.call("tag_displays", keys) == ch.tag_displays(keys)
    assert duck.call("options", limit=7) == ch.options(limit=7)
    _same(duck.call("feeds"), ch.feeds(), drop=("id",))
    assert duck.call("body_hashes") == ch.body_hashes()
