"""Counting stories instead of articles (issue 10: `Filters(unit="stories")`, `count=stories`
in the URL, `--count stories` on the command line).

Every count an engine returns in story mode is checked against a reference computed here in
plain Python from the demo store's exported articles and its `article_stories` rows: a count
is the number of distinct stories among the articles it counts (an article with no story row
is a story of its own). On both engines. The demo store has copies of stories in other feeds
and rewrites in the same feed, so the two modes differ (checked too).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from engines import ENGINES, close, exclusive, make_store

from monitor import demo, ingest
from monitor.models import Filters
from monitor.query import parse
from monitor.store.base import NO_SERIES, OTHER_SERIES, Storage
from monitor.text import tag_key

NOW = demo.SHIPPED_ANCHOR
ALL = Filters()


@dataclass(frozen=True)
class Row:
    id: str
    story: str
    published: datetime  # naive UTC, as the store gives it
    feeds: tuple[str, ...]  # feed labels, as a split by feed names them
    authors: tuple[str, ...]
    tags: tuple[str, ...]  # keys


@pytest.fixture(scope="module", params=ENGINES)
def demo_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Storage]:
    store = make_store(request.param, tmp_path_factory.mktemp(f"stories-{request.param}"))
    documents = [
        ingest.Document(name, demo.DEMO_FEED_URLS[name], "demo", content)
        for name, content in demo.demo_feeds(NOW).items()
    ]
    reports = ingest.ingest_documents(store, documents, now=NOW, workers=0)
    assert not [r for r in reports if r.failed]
    try:
        yield store
    finally:
        close(store)


def rows_of(store: Storage, f: Filters) -> list[Row]:
    """The view's articles with their stories, from the export and the story table."""
    exclusive(store)
    placed = store.read_rows("article_stories", after=None, size=10**7)
    stories = {str(r[0]): str(r[1]) for r in placed.rows}
    feeds = store.feeds()
    label = {
        url: name or title or url
        for url, name, title in zip(feeds["url"], feeds["name"], feeds["title"], strict=True)
    }
    found = []
    for batch in store.export_batches(replace(f, unit="articles")):
        for r in batch.records():
            found.append(
                Row(
                    id=r["id"],
                    story=stories.get(r["id"], r["id"]),
                    published=r["published"],
                    feeds=tuple(label[u] for u in r["feed_urls"]),
                    authors=tuple(r["authors"]),
                    tags=tuple(sorted({tag_key(t) for t in r["tags"]})),
                )
            )
    return found


def distinct(rows: Iterable[Row]) -> int:
    return len({r.story for r in rows})


def stories_per(rows: Iterable[Row], keys: Callable[[Row], Iterable[str]]) -> dict[str, int]:
    """key -> the distinct stories of the rows that have it (a tag, an author, ...)."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for key in keys(r):
            found[key].add(r.story)
    return {k: len(v) for k, v in found.items()}


def local(moment: datetime, zone: str) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def bucket(moment: datetime, by: str, zone: str) -> datetime:
    t = local(moment, zone)
    if by == "day":
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    if by == "week":
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=day.weekday())
    if by == "month":
        return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(by)


def views(store: Storage) -> list[Filters]:
    options = store.options(limit=5)
    return [
        ALL,
        Filters(since=NOW - timedelta(days=30)),
        Filters(feeds=(options["feeds"][0],)),
        Filters(tags=(options["tags"][0],), languages=("de",)),
        Filters(query=parse("wahl OR election")),
    ]


def series_of(row: Row, split: str) -> tuple[str, ...]:
    return {"feed": row.feeds, "author": row.authors, "tag": row.tags}[split]


def expected_split(rows: list[Row], split: str, by: str, zone: str, top: int) -> dict[Any, int]:
    """(bucket, label) -> distinct stories: the top series by stories keep their name, the
    rest are "other", the articles without one are their own series."""
    per_series: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for s in series_of(r, split):
            per_series[s].add(r.story)
    ranked = sorted(per_series, key=lambda s: (-len(per_series[s]), s))
    kept = set(ranked[:top])
    cells: dict[Any, set[str]] = defaultdict(set)
    for r in rows:
        names = series_of(r, split)
        b = bucket(r.published, by, zone)
        if not names:
            cells[(b, NO_SERIES[split])].add(r.story)
        for s in names:
            cells[(b, s if s in kept else OTHER_SERIES)].add(r.story)
    return {k: len(v) for k, v in cells.items()}


def test_the_two_modes_differ_on_the_demo_store(demo_store: Storage) -> None:
    rows = rows_of(demo_store, ALL)
    assert distinct(rows) < len(rows)
    copies = Counter(r.story for r in rows)
    assert max(copies.values()) >= 3  # a story in three or more articles
    same_feed = Counter((r.story, f) for r in rows for f in r.feeds)
    assert max(same_feed.values()) >= 2  # a rewrite in the feed that ran the story


def test_counts_and_stats_count_distinct_stories(demo_store: Storage) -> None:
    for f in views(demo_store):
        rows = rows_of(demo_store, f)
        s = replace(f, unit="stories")
        assert demo_store.article_count(s) == distinct(rows), f
        assert demo_store.article_count(f) == len(rows), f
        stats = demo_store.stats(s)
        assert stats["stories"] == distinct(rows), f
        assert stats["articles"] == len(rows), f
        assert "stories" not in demo_store.stats(f)
        key = "politik"
        tagged = [r for r in rows if key in r.tags]
        assert demo_store.article_count(s, with_tag=key) == distinct(tagged), f


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_frequency_counts_a_story_once_in_each_bucket(demo_store: Storage, zone: str) -> None:
    for f in views(demo_store):
        rows = rows_of(demo_store, f)
        s = replace(f, unit="stories")
        for by in ("day", "week", "month"):
            got = {(b, n) for b, _, n in demo_store.frequency(s, by=by, timezone=zone).rows}
            cells: dict[datetime, set[str]] = defaultdict(set)
            for r in rows:
                cells[bucket(r.published, by, zone)].add(r.story)
            assert got == {(b, len(v)) for b, v in cells.items()}, (f, by)


@pytest.mark.parametrize("split", ["feed", "author", "tag"])
@pytest.mark.parametrize("top", [2, 50])
def test_a_split_counts_distinct_stories_per_series(
    demo_store: Storage, split: str, top: int
) -> None:
    for f in views(demo_store)[:3]:
        rows = rows_of(demo_store, f)
        s = replace(f, unit="stories")
        table = demo_store.frequency(s, by="week", timezone="Europe/Berlin", split=split, top=top)
        got = {(b, label): n for b, label, n in table.rows}
        want = expected_split(rows, split, "week", "Europe/Berlin", top)
        if split == "tag":  # the chart names a tag by its display form
            displays = demo_store.tag_displays(sorted({t for r in rows for t in r.tags}))
            want = {(b, displays.get(k, k)): n for (b, k), n in want.items()}
        assert got == want, (f, split, top)


def test_tags_trends_and_cooccurrence_count_stories(demo_store: Storage) -> None:
    for f in views(demo_store):
        rows = rows_of(demo_store, f)
        s = replace(f, unit="stories")
        want = stories_per(rows, lambda r: r.tags)
        table = demo_store.tags(s, limit=1000)
        assert dict(zip(table["key"], table["articles"], strict=True)) == want, f
        shown = table["articles"]
        assert shown == sorted(shown, reverse=True)
        before = replace(f, since=NOW - timedelta(days=60), until=NOW - timedelta(days=30))
        earlier = stories_per(rows_of(demo_store, before), lambda r: r.tags)
        windows = demo_store.tag_windows(s, replace(before, unit="stories"))
        for key, current, previous in zip(
            windows["key"], windows["current"], windows["previous"], strict=True
        ):
            assert (current, previous) == (want.get(key, 0), earlier.get(key, 0)), key
        for key in ("politik", "ukraine"):
            tagged = [r for r in rows if key in r.tags]
            both = stories_per(tagged, lambda r, key=key: [t for t in r.tags if t != key])
            co = demo_store.cooccurring_tags(s, key, limit=1000)
            assert dict(zip(co["key"], co["articles"], strict=True)) == both, (f, key)


def test_authors_and_the_heatmap_count_stories(demo_store: Storage) -> None:
    for f in views(demo_store):
        rows = rows_of(demo_store, f)
        s = replace(f, unit="stories")
        table = demo_store.authors(s)
        assert dict(zip(table["author"], table["articles"], strict=True)) == stories_per(
            rows, lambda r: r.authors
        ), f
        assert table.attrs["unattributed"] == distinct(r for r in rows if not r.authors)
        for zone in ("UTC", "Asia/Kolkata"):
            cells: dict[tuple[int, int], set[str]] = defaultdict(set)
            for r in rows:
                t = local(r.published, zone)
                cells[(t.weekday(), t.hour)].add(r.story)
            got = {(w, h): n for w, h, n in demo_store.heatmap(s, timezone=zone).rows}
            assert got == {k: len(v) for k, v in cells.items()}, (f, zone)


def test_an_unknown_unit_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="'words'"):
        Filters(unit="words")


def test_story_mode_leaves_the_article_lists_alone(demo_store: Storage) -> None:
    f = Filters(since=NOW - timedelta(days=30))
    s = replace(f, unit="stories")
    a_page = demo_store.articles_page(f, sort="published", descending=True, limit=20, offset=0)
    s_page = demo_store.articles_page(s, sort="published", descending=True, limit=20, offset=0)
    assert a_page[1] == s_page[1] == len(rows_of(demo_store, f))
    assert a_page[0].rows == s_page[0].rows
