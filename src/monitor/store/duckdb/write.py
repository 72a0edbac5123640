"""Writes: feeds, their fetch state, and the articles a feed document held.

Every function takes an open connection inside the caller's transaction
(`DuckDBStore.write()`), so one feed's articles, tags, terms and fetch state land together or
not at all.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from monitor import text as textmod
from monitor.models import Article, ParsedFeed, Table
from monitor.store import storyrows
from monitor.store.base import ArticleText, SaveCounts, TermRow
from monitor.store.duckdb.rows import first, utc_naive
from monitor.store.duckdb.schema import WORDS_TABLE
from monitor.store.entries import (
    Changed,
    Rekey,
    check_storable,
    classify,
    distinct_entries,
    page_of,
    resolve_same_feed,
)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """`table` visible to SQL as `name` for the block. When the block fails, its error is the
    one raised: DuckDB refuses the unregister too once a statement aborted the transaction."""
    con.register(name, table)
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)


# -- feeds -----------------------------------------------------------------------------


def add_feed(
    con: duckdb.DuckDBPyConnection,
    url: str,
    *,
    now: datetime,
    kind: str = "http",
    subscribed: bool = True,
    name: str | None = None,
    full_text: bool | None = None,
    restricted: bool = False,
) -> tuple[int, bool]:
    """Register a feed (or file source) by URL. Returns (feed id, created).

    Adding a known URL again keeps its state; it may subscribe it, rename it or switch
    full text on, but never silently switches a subscription off. A `restricted` change (from
    the web page) never widens what the feed may reach: subscribing a feed nobody subscribed
    makes it a restricted one, and full text it switches on fetches vetted pages only.
    """
    row = first(con.execute("SELECT id FROM feeds WHERE url = ?", [url]))
    if row:
        feed_id = int(row[0])
        if subscribed:
            con.execute(
                "UPDATE feeds SET restricted = restricted OR (? AND NOT subscribed), "
                "subscribed = TRUE WHERE id = ?",
                [restricted, feed_id],
            )
        if name is not None:
            con.execute("UPDATE feeds SET name = ? WHERE id = ?", [name, feed_id])
        if full_text:
            # Restricted: vetted pages unless full text was on already (the operator's
            # choice stands). Otherwise the operator switched it on: pages as the feed.
            con.execute(
                "UPDATE feeds SET pages_restricted = CASE WHEN ? THEN "
                "coalesce(pages_restricted, FALSE) OR NOT full_text ELSE FALSE END, "
                "full_text = TRUE WHERE id = ?",
                [restricted, feed_id],
            )
        elif full_text is not None:
            con.execute("UPDATE feeds SET full_text = FALSE WHERE id = ?", [feed_id])
        return feed_id, False
    row = first(
        con.execute(
            "INSERT INTO feeds (url, name, kind, subscribed, full_text, restricted, added_at, "
            "next_due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                url,
                name,
                kind,
                subscribed,
                bool(full_text),
                restricted,
                utc_naive(now),
                utc_naive(now),
            ],
        )
    )
    assert row is not None
    return int(row[0]), True


def remove_feed(con: duckdb.DuckDBPyConnection, url: str) -> int | None:
    """Remove a feed and the articles no other feed carries. Returns articles removed, or None
    when no such feed exists."""
    row = first(con.execute("SELECT id FROM feeds WHERE url = ?", [url]))
    if not row:
        return None
    feed_id = int(row[0])
    orphans = [
        r[0]
        for r in con.execute(
            "SELECT article_id FROM article_feeds WHERE feed_id = ? AND article_id NOT IN "
            "(SELECT article_id FROM article_feeds WHERE feed_id <> ?)",
            [feed_id, feed_id],
        ).fetchall()
    ]
    con.execute("DELETE FROM article_feeds WHERE feed_id = ?", [feed_id])
    _delete_articles(con, orphans)
    con.execute("DELETE FROM feeds WHERE id = ?", [feed_id])
    return len(orphans)


def rename_feed_url(con: duckdb.DuckDBPyConnection, feed_id: int, new_url: str) -> bool:
    """Point a feed at its new URL after a permanent redirect (False if another feed has it)."""
    taken = first(con.execute("SELECT id FROM feeds WHERE url = ? AND id <> ?", [new_url, feed_id]))
    if taken:
        return False
    con.execute("UPDATE feeds SET url = ? WHERE id = ?", [new_url, feed_id])
    return True


def record_parse(
    con: duckdb.DuckDBPyConnection, feed_id: int, parsed: ParsedFeed, body_hash: str | None
) -> None:
    """Keep what the feed says about itself, the hash of the bytes and any parse warning."""
    con.execute(
        "UPDATE feeds SET title = coalesce(nullif(?, ''), title), "
        "site_url = coalesce(?, site_url), language = coalesce(?, language), "
        "warning = ?, body_hash = ? WHERE id = ?",
        [parsed.title, parsed.link, parsed.language, parsed.warning, body_hash, feed_id],
    )


def record_fetch(
    con: duckdb.DuckDBPyConnection,
    feed_id: int,
    *,
    now: datetime,
    status: int | None,
    error: str | None,
    next_due: datetime | None,
    etag: str | None = None,
    last_modified: str | None = None,
    disable_reason: str | None = None,
) -> None:
    """Record one attempt to read a feed: success resets the error count, failure raises it."""
    when = utc_naive(now)
    due = utc_naive(next_due) if next_due else None
    if error is None:
        con.execute(
            "UPDATE feeds SET last_fetch_at = ?, last_status = ?, last_ok_at = ?, "
            "error_count = 0, last_error = NULL, next_due_at = ?, "
            "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE id = ?",
            [when, status, when, due, etag, last_modified, feed_id],
        )
    else:
        con.execute(
            "UPDATE feeds SET last_fetch_at = ?, last_status = ?, "
            "error_count = error_count + 1, last_error = ?, next_due_at = ? WHERE id = ?",
            [when, status, error, due, feed_id],
        )
    if disable_reason:
        con.execute(
            "UPDATE feeds SET disabled = TRUE, disabled_reason = ? WHERE id = ?",
            [disable_reason, feed_id],
        )


def set_feed_enabled(con: duckdb.DuckDBPyConnection, url: str, enabled: bool) -> bool:
    row = first(
        con.execute(
            "UPDATE feeds SET disabled = ?, disabled_reason = CASE WHEN ? THEN NULL "
            "ELSE 'disabled by hand' END, error_count = CASE WHEN ? THEN 0 ELSE error_count END "
            "WHERE url = ? RETURNING id",
            [not enabled, enabled, enabled, url],
        )
    )
    return row is not None


def make_due(con: duckdb.DuckDBPyConnection, url: str) -> bool | None:
    """End a feed's backoff: the next fetch takes it. None when no feed has the URL, else
    whether the feed is disabled (then nothing changes: enable it first)."""
    row = first(
        con.execute(
            "UPDATE feeds SET next_due_at = CASE WHEN disabled THEN next_due_at END "
            "WHERE url = ? RETURNING disabled",
            [url],
        )
    )
    return None if row is None else bool(row[0])


# -- articles --------------------------------------------------------------------------


def ensure_feeds(
    con: duckdb.DuckDBPyConnection,
    feeds: Sequence[tuple[str, str, bool]],
    *,
    now: datetime,
) -> list[int]:
    """Ids of many (url, kind, subscribed) feeds at once, registering the unknown ones.

    Like `add_feed` without name or full text: a known feed keeps its state, and is only
    ever switched to subscribed. Three statements whatever the number of feeds.
    """
    if not feeds:
        return []
    with registered(con, "_urls", pa.table({"url": [url for url, _, _ in feeds]})):
        known = {
            str(url): int(fid)
            for fid, url in con.execute(
                "SELECT id, url FROM feeds WHERE url IN (SELECT url FROM _urls)"
            ).fetchall()
        }
    subscribe = [known[url] for url, _, sub in feeds if sub and url in known]
    if subscribe:
        con.execute(
            f"UPDATE feeds SET subscribed = TRUE WHERE id IN ({', '.join('?' for _ in subscribe)})",
            subscribe,
        )
    missing: dict[str, tuple[str, bool]] = {}
    for url, kind, sub in feeds:
        if url not in known and url not in missing:
            missing[url] = (kind, sub)
    if missing:
        when = utc_naive(now)
        _new = pa.table(  # noqa: F841 - read by DuckDB's replacement scan below
            {
                "url": list(missing),
                "kind": [kind for kind, _ in missing.values()],
                "subscribed": [sub for _, sub in missing.values()],
            }
        )
        for fid, url in con.execute(
            "INSERT INTO feeds (url, kind, subscribed, full_text, restricted, added_at, "
            "next_due_at) SELECT url, kind, subscribed, FALSE, FALSE, ?, ? FROM _new "
            "RETURNING id, url",
            [when, when],
        ).fetchall():
            known[str(url)] = int(fid)
    return [known[url] for url, _, _ in feeds]


def record_parses(
    con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[int, ParsedFeed, str | None]]
) -> None:
    """`record_parse` for many feeds in one statement."""
    if not rows:
        return
    _parsed = pa.table(  # noqa: F841 - read by DuckDB's replacement scan below
        {
            "id": pa.array([fid for fid, _, _ in rows], pa.int32()),
            "title": pa.array([p.title for _, p, _ in rows], pa.string()),
            "site_url": pa.array([p.link for _, p, _ in rows], pa.string()),
            "language": pa.array([p.language for _, p, _ in rows], pa.string()),
            "warning": pa.array([p.warning for _, p, _ in rows], pa.string()),
            "body_hash": pa.array([digest for _, _, digest in rows], pa.string()),
        }
    )
    con.execute(
        "UPDATE feeds SET title = coalesce(nullif(p.title, ''), feeds.title), "
        "site_url = coalesce(p.site_url, feeds.site_url), "
        "language = coalesce(p.language, feeds.language), "
        "warning = p.warning, body_hash = p.body_hash FROM _parsed p WHERE feeds.id = p.id"
    )


def save_articles(
    con: duckdb.DuckDBPyConnection,
    feed_id: int,
    articles: Sequence[Article],
    *,
    now: datetime,
) -> SaveCounts:
    """Store one feed document's articles (see `save_many`)."""
    return save_many(con, [(feed_id, articles)], now=now)[0]


def save_many(
    con: duckdb.DuckDBPyConnection,
    documents: Sequence[tuple[int, Sequence[Article]]],
    *,
    now: datetime,
) -> list[SaveCounts]:
    """Store the articles of feed documents, (feed id, articles) each, with the same result as
    storing them one after the other, in a fixed number of statements (DuckDB's cost is per
    statement: about 2 ms each, whether it writes 25 rows or 2,500).

    New entries are inserted, changed ones updated in place (their tags, terms and authors
    follow), unchanged ones left alone. "Changed" compares the entry's content hash with what
    *this* feed gave last time, so two feeds carrying different excerpts of one story do not
    overwrite each other on every run.

    Identity (see `entries.distinct_entries`): an entry is known by (feed, entry_key). A new entry
    whose article id (from its canonical URL) is already stored from another feed, or by an
    earlier document of the batch, is linked to that article, not copied. Distinct entries of
    one feed are never merged: entries of a document that share a page get ids of their own,
    and so does a new entry whose page is already an article of this feed under another key,
    unless that key is gone from the document and the title is the same (the feed changed the
    entry's guid: the stored entry takes the new key, counted as merged).

    An entry the store cannot hold (a count beyond its integers, text that is not Unicode) is
    left out and named in `SaveCounts.warnings`; the document's other entries are stored.

    A feed id may appear only once per call.
    """
    checked = check_storable(documents)
    feed_urls = _FeedUrls(con)
    batches: list[tuple[int, list[Article], int]] = []
    for check in checked:
        batch, duplicates = distinct_entries(check.storable, partial(feed_urls.get, check.feed_id))
        batches.append((check.feed_id, batch, duplicates))
    entries = [(feed_id, a) for feed_id, batch, _ in batches for a in batch]
    if not entries:
        return [
            SaveCounts(duplicates=d, dropped=c.dropped, warnings=c.notes)
            for (_, _, d), c in zip(batches, checked, strict=True)
        ]

    batch_table = pa.table(
        {
            "feed_id": pa.array([fid for fid, _ in entries], pa.int32()),
            "entry_key": [a.entry_key for _, a in entries],
            "id": [a.id for _, a in entries],
        }
    )
    with registered(con, "_batch", batch_table):
        links = {
            (int(fid), str(k)): (str(aid), str(h))
            for fid, k, aid, h in con.execute(
                "SELECT af.feed_id, af.entry_key, af.article_id, af.entry_hash "
                "FROM article_feeds af JOIN _batch b "
                "ON af.feed_id = b.feed_id AND af.entry_key = b.entry_key"
            ).fetchall()
        }
        wanted = [aid for aid, _ in links.values()]
        wanted += [page for _, a in entries if (page := page_of(a))]
        with registered(con, "_wanted", pa.table({"id": pa.array(wanted, pa.string())})):
            # IN (subquery) on the primary key: look-ups, not a scan of a million articles.
            stored: dict[str, tuple[datetime, str]] = {
                str(i): (p, str(src))
                for i, p, src in con.execute(
                    "SELECT a.id, a.published, a.date_source FROM articles a "
                    "WHERE a.id IN (SELECT id FROM _batch UNION ALL SELECT id FROM _wanted)"
                ).fetchall()
            }
    # New entries whose article is already stored: is it an entry of the same feed?
    same_feed = _same_feed_links(
        con,
        [
            (feed_id, candidate)
            for feed_id, a in entries
            if (feed_id, a.entry_key) not in links
            for candidate in (a.id, page_of(a))
            if candidate in stored
        ],
    )
    rekeys: list[Rekey] = []
    if same_feed:
        batches, rekeys, own = resolve_same_feed(batches, links, same_feed, feed_urls.get)
        for r in rekeys:
            links[(r.feed_id, r.new_key)] = (r.article_id, r.entry_hash)
        stored.update(_stored_articles(con, own))
    when = utc_naive(now)
    before = {article_id: published for article_id, (published, _) in stored.items()}
    plan = classify(batches, checked, links, stored, rekeys)

    if rekeys:
        _rekey = pa.table(  # noqa: F841 - read by DuckDB's replacement scan below
            {
                "feed_id": pa.array([r.feed_id for r in rekeys], pa.int32()),
                "old_key": [r.old_key for r in rekeys],
                "new_key": [r.new_key for r in rekeys],
            }
        )
        con.execute(
            "UPDATE article_feeds SET entry_key = r.new_key FROM _rekey r "
            "WHERE article_feeds.feed_id = r.feed_id AND article_feeds.entry_key = r.old_key"
        )
    rows = plan.changed
    if rows:
        table = pa.table(
            {
                "id": [r.id for r in rows],
                "url": [r.article.url for r in rows],
                "title": [r.article.title for r in rows],
                "summary": [r.article.summary for r in rows],
                "text": [r.article.text for r in rows],
                "published": pa.array([r.published for r in rows], pa.timestamp("us")),
                "date_source": [r.date_source for r in rows],
                "date_assumed_utc": [r.article.date_assumed_utc for r in rows],
                "language": [r.article.language for r in rows],
                "word_count": pa.array([r.article.word_count for r in rows], pa.int32()),
                "reading_minutes": pa.array([r.article.reading_minutes for r in rows], pa.int32()),
                "comments": pa.array([r.article.comments for r in rows], pa.int32()),
                "fulltext_error": pa.array([r.article.fulltext_error for r in rows], pa.string()),
                "is_new": [r.is_new for r in rows],
            }
        )
        with registered(con, "_changed", table):
            con.execute(
                "INSERT INTO articles (id, url, title, summary, text, published, date_source, "
                "date_assumed_utc, language, word_count, reading_minutes, comments, "
                "fulltext_error, first_seen, updated_at) "
                "SELECT id, url, title, summary, text, published, date_source, date_assumed_utc, "
                "language, word_count, reading_minutes, comments, fulltext_error, ?, ? "
                "FROM _changed WHERE is_new",
                [when, when],
            )
            old_ids = [r.id for r in rows if not r.is_new]
            if old_ids:
                # The old version's terms leave the rollup while its language is still stored.
                span = _span([before[i] for i in old_ids])
                _subtract_terms(con, "SELECT id FROM _changed WHERE NOT is_new", span)
                con.execute(
                    "UPDATE articles SET url = c.url, title = c.title, summary = c.summary, "
                    "text = c.text, published = c.published, date_source = c.date_source, "
                    "date_assumed_utc = c.date_assumed_utc, language = c.language, "
                    "word_count = c.word_count, reading_minutes = c.reading_minutes, "
                    "comments = c.comments, fulltext_error = c.fulltext_error, updated_at = ? "
                    "FROM _changed c WHERE articles.id = c.id AND NOT c.is_new",
                    [when],
                )
                # The old rows carry the old `published`: the range skips all other row groups.
                for table_name in ("article_authors", "article_tags", "article_terms"):
                    con.execute(
                        f"DELETE FROM {table_name} WHERE published BETWEEN ? AND ? "
                        "AND article_id IN (SELECT id FROM _changed WHERE NOT is_new)",
                        list(span),
                    )
        _insert_children(con, rows)
        _place_stories(con, rows)

    if plan.new_links:
        _append(
            con,
            "article_feeds",
            {
                "feed_id": pa.array([r.feed_id for r in plan.new_links], pa.int32()),
                "entry_key": [r.article.entry_key for r in plan.new_links],
                "article_id": [r.article_id for r in plan.new_links],
                "entry_hash": [r.article.content_hash for r in plan.new_links],
                "first_seen": pa.array([when] * len(plan.new_links), pa.timestamp("us")),
                "published": pa.array([r.published for r in plan.new_links], pa.timestamp("us")),
            },
        )
    if plan.updated_links:
        upd_table = pa.table(
            {
                "feed_id": pa.array([r.feed_id for r in plan.updated_links], pa.int32()),
                "entry_key": [r.article.entry_key for r in plan.updated_links],
                "article_id": [r.article_id for r in plan.updated_links],
                "entry_hash": [r.article.content_hash for r in plan.updated_links],
            }
        )
        with registered(con, "_upd", upd_table):
            con.execute(
                "UPDATE article_feeds SET entry_hash = u.entry_hash FROM _upd u "
                "WHERE article_feeds.feed_id = u.feed_id AND article_feeds.entry_key = u.entry_key"
            )
            # Every feed's link to an updated story moves with it in time.
            con.execute(
                "UPDATE article_feeds SET published = a.published FROM articles a "
                "WHERE article_feeds.article_id = a.id "
                "AND a.id IN (SELECT article_id FROM _upd)"
            )
    return plan.counts


# -- stories ---------------------------------------------------------------------------


def _place_stories(con: duckdb.DuckDBPyConnection, rows: Sequence[Changed]) -> None:
    """New articles (and changed ones without a story yet) placed in stories: candidates
    looked up by band hash in one statement, the rows appended (monitor.store.storyrows)."""
    old = [r.id for r in rows if not r.is_new]
    placed_before: set[str] = set()
    if old:
        with registered(con, "_old", pa.table({"id": old})):
            placed_before = {
                str(i)
                for (i,) in con.execute(
                    "SELECT article_id FROM article_stories "
                    "WHERE article_id IN (SELECT id FROM _old)"
                ).fetchall()
            }
    new = [
        storyrows.NewArticle(
            r.id,
            r.article.title,
            r.article.text,
            r.article.language,
            r.published,
            r.article.signature,
        )
        for r in rows
        if r.id not in placed_before
    ]
    placed = storyrows.place(new, partial(story_candidates, con))
    if placed:
        save_stories(con, placed)


def story_candidates(
    con: duckdb.DuckDBPyConnection,
    bands: list[int],
    low: datetime,
    high: datetime,
    exclude: list[str],
) -> Table:
    """Stored articles with any of `bands`, published from low to high (storyrows.place)."""
    if not bands:
        return Table(storyrows.CANDIDATE_COLUMNS, [])
    with (
        registered(con, "_bands", pa.table({"band": pa.array(bands, pa.int64())})),
        registered(con, "_exclude", pa.table({"id": pa.array(exclude, pa.string())})),
    ):
        # The band table grows in time order: the time range skips all other row groups.
        found = con.execute(
            "WITH hit AS (SELECT DISTINCT article_id FROM story_bands "
            "WHERE published BETWEEN ? AND ? AND band IN (SELECT band FROM _bands) "
            "AND article_id NOT IN (SELECT id FROM _exclude)) "
            "SELECT s.article_id, s.story_id, s.language, s.published, s.signature, a.title "
            "FROM article_stories s JOIN hit USING (article_id) "
            "JOIN articles a ON a.id = s.article_id "
            "WHERE s.published BETWEEN ? AND ? AND a.published BETWEEN ? AND ? "
            "ORDER BY s.published, s.article_id",
            [low, high, low, high, low - _SLACK, high + _SLACK],
        ).fetchall()
    return Table(storyrows.CANDIDATE_COLUMNS, found)


# An article's stored time can move after it was placed (a changed date): look a little wider.
_SLACK = timedelta(days=30)


def save_stories(con: duckdb.DuckDBPyConnection, placed: Sequence[storyrows.Placed]) -> None:
    story_rows = [p.story_row() for p in placed]
    band_rows = [row for p in placed for row in p.band_rows()]
    _append(
        con,
        "article_stories",
        {
            name: pa.array([r[i] for r in story_rows], _STORY_TYPES[name])
            for i, name in enumerate(storyrows.STORY_COLUMNS)
        },
    )
    _append(
        con,
        "story_bands",
        {
            "band": pa.array([r[0] for r in band_rows], pa.int64()),
            "article_id": pa.array([r[1] for r in band_rows], pa.string()),
            "published": pa.array([r[2] for r in band_rows], pa.timestamp("us")),
        },
    )


_STORY_TYPES: dict[str, pa.DataType] = {
    "article_id": pa.string(),
    "story_id": pa.string(),
    "language": pa.string(),
    "published": pa.timestamp("us"),
    "signature": pa.string(),
}


# -- identity of entries ---------------------------------------------------------------


class _FeedUrls:
    """Feed URLs by id, read only when an entry needs an id of its own (rarely)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._urls: dict[int, str] = {}

    def get(self, feed_id: int) -> str:
        if feed_id not in self._urls:
            row = first(self._con.execute("SELECT url FROM feeds WHERE id = ?", [feed_id]))
            self._urls[feed_id] = str(row[0]) if row else f"feed:{feed_id}"
        return self._urls[feed_id]


def _same_feed_links(
    con: duckdb.DuckDBPyConnection, pairs: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], list[tuple[str, str, str]]]:
    """For (feed, article id) pairs: the entries of that feed stored as that article, as
    (entry key, entry hash, article title). One statement, only when there are pairs."""
    if not pairs:
        return {}
    table = pa.table(
        {
            "feed_id": pa.array([fid for fid, _ in pairs], pa.int32()),
            "id": [aid for _, aid in pairs],
        }
    )
    found: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
    with registered(con, "_pairs", table):
        for fid, aid, key, entry_hash, title in con.execute(
            "SELECT af.feed_id, af.article_id, af.entry_key, af.entry_hash, a.title "
            "FROM article_feeds af JOIN (SELECT DISTINCT feed_id, id FROM _pairs) p "
            "ON af.feed_id = p.feed_id AND af.article_id = p.id "
            "JOIN articles a ON a.id = af.article_id ORDER BY af.first_seen, af.entry_key"
        ).fetchall():
            found.setdefault((int(fid), str(aid)), []).append(
                (str(key), str(entry_hash), str(title))
            )
    return found


def _stored_articles(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str]
) -> dict[str, tuple[datetime, str]]:
    if not ids:
        return {}
    with registered(con, "_own", pa.table({"id": list(ids)})):
        return {
            str(i): (p, str(src))
            for i, p, src in con.execute(
                "SELECT id, published, date_source FROM articles WHERE id IN (SELECT id FROM _own)"
            ).fetchall()
        }


# -- what the store can hold -----------------------------------------------------------


def _insert_children(con: duckdb.DuckDBPyConnection, rows: Sequence[Changed]) -> None:
    ids = [row.id for row in rows]
    times = [row.published for row in rows]
    articles = [row.article for row in rows]
    # Each article's id and time on each of its rows: whole columns (`_repeated`).
    authors: dict[str, Any] = {"position": [], "author": []}
    tags: dict[str, Any] = {"key": [], "display": [], "source": []}
    for article in articles:
        authors["position"].extend(range(len(article.authors)))
        authors["author"].extend(article.authors)
        tags["key"].extend([t.key for t in article.tags])
        tags["display"].extend([t.display for t in article.tags])
        tags["source"].extend([t.source for t in article.tags])
    for name, columns, counts in (
        ("article_authors", authors, [len(a.authors) for a in articles]),
        ("article_tags", tags, [len(a.tags) for a in articles]),
    ):
        if sum(counts):
            columns["article_id"] = _repeated(ids, counts, pa.string())
            columns["published"] = _repeated(times, counts, _TYPES["published"])
            _append(con, name, columns)
    terms = _term_columns(ids, times, [a.language for a in articles], [a.terms for a in articles])
    if terms is not None:
        insert_terms(con, terms)
    insert_words(
        con,
        [(r.id, r.published, textmod.words_of(r.article)) for r in rows],
        replacing=[r.id for r in rows if not r.is_new],
    )


# The word index is kept sorted by word, so that a word's rows sit in a few row groups and
# DuckDB's zone maps skip the rest (a word over 200M rows: 0.2 s instead of 0.9 s). Rows
# written since the last sort are appended unsorted; once they are more than a quarter of
# the sorted ones (and at least this many), the next feed write sorts the table again:
# each sort costs a pass over the index, after it has grown by a quarter.
WORDS_UNSORTED_MIN = 200_000


# The rows of `article_words w` that count: of no re-indexed article, or of its current
# generation (schema migration 8).
CURRENT_WORDS = (
    "LEFT JOIN article_gen g ON g.article_id = w.article_id WHERE (g.gen IS NULL OR g.gen = w.gen)"
)


def sort_words(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Rewrite `article_words` in (word, article_id) order, without the rows that no longer
    count, when the unsorted tail is large (`force`: always); True when it did. In the
    caller's transaction."""
    total = int(_one(con, "SELECT count(*) FROM article_words"))
    done = int(
        _one(
            con,
            "SELECT coalesce(max(CAST(value AS BIGINT)), 0) FROM meta WHERE key = 'words_sorted'",
        )
    )
    unsorted = total - done
    if not force and (unsorted < WORDS_UNSORTED_MIN or unsorted * 4 < done):
        return False
    con.execute(WORDS_TABLE.format(name="article_words_sorted"))
    con.execute(
        f"INSERT INTO article_words_sorted SELECT w.* FROM article_words w {CURRENT_WORDS} "
        "ORDER BY w.word, w.article_id"
    )
    con.execute("DROP TABLE article_words")
    con.execute("ALTER TABLE article_words_sorted RENAME TO article_words")
    con.execute("DELETE FROM article_gen")
    total = int(_one(con, "SELECT count(*) FROM article_words"))
    con.execute(
        "INSERT INTO meta (key, value) VALUES ('words_sorted', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(total)],
    )
    return True


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = first(con.execute(sql))
    return row[0] if row else 0


def insert_words(
    con: duckdb.DuckDBPyConnection,
    articles: Sequence[tuple[str, datetime, textmod.WordIndex]],
    *,
    replacing: Sequence[str] = (),
) -> None:
    """Index these articles' words (id, published, `text.index_words` rows): `article_words`
    and the new words of `word_vocabulary` (schema migration 8), under a new generation.
    `replacing`: the ids among them that were indexed before (edited, rebuilt), whose older
    rows stop counting; so do those of a removed article stored again."""
    gen = int(_one(con, "SELECT nextval('word_gens')"))
    named = pa.table({"id": pa.array([a[0] for a in articles], pa.string())})
    with registered(con, "_indexed", named):
        con.execute(
            "UPDATE article_gen SET gen = ? WHERE article_id IN (SELECT id FROM _indexed)", [gen]
        )
    if replacing:
        again = pa.table({"id": pa.array(list(dict.fromkeys(replacing)), pa.string())})
        with registered(con, "_again", again):
            con.execute(
                "INSERT INTO article_gen (article_id, gen) SELECT id, ? FROM _again "
                "ON CONFLICT (article_id) DO UPDATE SET gen = excluded.gen",
                [gen],
            )
    # The packed rows (`text.WordIndex`) of all the articles joined into whole columns.
    ids: list[str] = []
    times: list[datetime] = []
    counts: list[int] = []
    fields = bytearray()
    hashes = array("q")
    positions = array("I")
    starts: list[np.ndarray] = []
    vocabulary: dict[int, str] = {}
    for article_id, published, index in articles:
        if not index.words:
            continue
        ids.append(article_id)
        times.append(published)
        counts.append(len(index.words))
        first = np.frombuffer(index.offsets, np.uint32)[:-1].astype(np.int64)
        starts.append(first + len(positions))
        fields += index.fields
        hashes.extend(index.hashes)
        positions.extend(index.positions)
        vocabulary.update(zip(index.hashes, index.words, strict=True))
    if not ids:
        return
    # 64-bit offsets (a large list): a write's positions are never too many to count.
    offsets = np.concatenate([*starts, np.array([len(positions)], np.int64)])
    columns = {
        "article_id": _repeated(ids, counts, pa.string()),
        "published": _repeated(times, counts, pa.timestamp("us")),
        "field": pa.array(np.frombuffer(bytes(fields), np.uint8)),
        "word": pa.array(np.frombuffer(hashes, np.int64)),
        "positions": pa.LargeListArray.from_arrays(
            pa.array(offsets), pa.array(np.frombuffer(positions, np.uint32))
        ),
        "gen": pa.array(np.full(len(fields), gen, np.int64)),
    }
    _append(con, "article_words", columns)
    new = pa.table(
        {
            "hash": pa.array(list(vocabulary), pa.int64()),
            "word": pa.array(list(vocabulary.values()), pa.string()),
        }
    )
    with registered(con, "_new_words", new):
        con.execute(
            "INSERT INTO word_vocabulary (hash, word) SELECT n.hash, n.word FROM _new_words n "
            "WHERE n.hash NOT IN (SELECT v.hash FROM word_vocabulary v)"
        ).fetchall()


def _term_columns(
    ids: Sequence[str],
    times: Sequence[datetime],
    languages: Sequence[str | None],
    terms: Sequence[Sequence[TermRow]],
) -> pa.Table | None:
    """The `insert_terms` table of these articles' terms (None: they have none)."""
    counts = [len(found) for found in terms]
    if not sum(counts):
        return None
    return pa.table(
        {
            "article_id": _repeated(ids, counts, pa.string()),
            "term": pa.array([term for found in terms for term, _, _ in found], pa.string()),
            "n": pa.array([n for found in terms for _, n, _ in found], pa.int32()),
            "published": _repeated(times, counts, _TYPES["published"]),
            "language": _repeated([lang or "" for lang in languages], counts, pa.string()),
            "display": pa.array([form for found in terms for _, _, form in found], pa.string()),
        }
    )


def insert_terms(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """Store article terms (columns article_id, term, n, published, language, display) and
    add them to both rollups: one Arrow table (150 terms an article) for all three."""
    with registered(con, "_new_terms", rows):
        con.execute(
            "INSERT INTO article_terms (article_id, term, n, published, display) "
            "SELECT article_id, term, n, published, display FROM _new_terms"
        ).fetchall()
        add_term_rollup(con, "_new_terms")
        _apply_forms_delta(
            con,
            "SELECT term, display, count(*) AS uses FROM _new_terms "
            "WHERE display IS NOT NULL AND display <> '' GROUP BY 1, 2",
            [],
        )


def add_term_rollup(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Add newly stored terms to `term_daily`. `source` names a table or view with columns
    published, language ('' when unknown), term, n: one row per article and term."""
    _apply_term_delta(
        con,
        f"SELECT CAST(published AS DATE) AS day, language, term, sum(n) AS n, "
        f"count(*) AS articles FROM {source} GROUP BY 1, 2, 3",
        [],
    )


def _subtract_terms(
    con: duckdb.DuckDBPyConnection, ids_sql: str, span: tuple[datetime, datetime] | None
) -> None:
    """Take the stored terms of the articles `ids_sql` selects out of `term_daily` (before
    those articles are changed or deleted)."""
    params: list[Any] = []
    prune = ""
    if span is not None:
        prune = "t.published BETWEEN ? AND ? AND "
        params.extend(span)
    _apply_term_delta(
        con,
        "SELECT CAST(t.published AS DATE) AS day, coalesce(a.language, '') AS language, "
        "t.term, -sum(t.n) AS n, -count(*) AS articles "
        "FROM article_terms t JOIN articles a ON a.id = t.article_id "
        f"WHERE {prune}t.article_id IN ({ids_sql}) GROUP BY 1, 2, 3",
        params,
    )
    _apply_forms_delta(
        con,
        "SELECT t.term, t.display, -count(*) AS uses FROM article_terms t "
        f"WHERE {prune}t.article_id IN ({ids_sql}) AND t.display IS NOT NULL "
        "AND t.display <> '' GROUP BY 1, 2",
        params,
    )


def _apply_forms_delta(con: duckdb.DuckDBPyConnection, delta_sql: str, params: list[Any]) -> None:
    """Add (term, display, uses) deltas to `term_forms`; forms no article uses any more go."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _form_delta AS {delta_sql}", params)
    try:
        row = first(con.execute("SELECT count(*), min(uses) FROM _form_delta"))
        if row is None or not row[0]:
            return
        con.execute(
            "UPDATE term_forms SET uses = term_forms.uses + d.uses FROM _form_delta d "
            "WHERE term_forms.term = d.term AND term_forms.display = d.display"
        )
        con.execute(
            "INSERT INTO term_forms (term, display, uses) "
            "SELECT d.term, d.display, d.uses FROM _form_delta d WHERE NOT EXISTS "
            "(SELECT 1 FROM term_forms f WHERE f.term = d.term AND f.display = d.display)"
        )
        if row[1] < 0:
            con.execute(
                "DELETE FROM term_forms WHERE uses <= 0 AND term IN (SELECT term FROM _form_delta)"
            )
    finally:
        con.execute("DROP TABLE IF EXISTS _form_delta")


def _apply_term_delta(con: duckdb.DuckDBPyConnection, delta_sql: str, params: list[Any]) -> None:
    """Add (day, language, term, n, articles) deltas to `term_daily`: existing rows are
    updated, new keys inserted, rows that fall to zero deleted. The rollup is kept in day
    order by how it grows, so the day range confines every statement to a few row groups."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _term_delta AS {delta_sql}", params)
    try:
        _term_delta_to_daily(con)
    except BaseException:
        # A failed statement aborted the transaction, and the DROP would then fail too and
        # hide why ("Current transaction is aborted" instead of the real error).
        with suppress(duckdb.Error):
            con.execute("DROP TABLE IF EXISTS _term_delta")
        raise
    con.execute("DROP TABLE IF EXISTS _term_delta")


def _term_delta_to_daily(con: duckdb.DuckDBPyConnection) -> None:
    """The rows of `_term_delta` added to `term_daily` (see `_apply_term_delta`)."""
    row = first(con.execute("SELECT min(day), max(day), min(articles) FROM _term_delta"))
    if row is None or row[0] is None:
        return
    low, high, smallest = row
    con.execute(
        "UPDATE term_daily SET n = term_daily.n + d.n, "
        "articles = term_daily.articles + d.articles FROM _term_delta d "
        "WHERE term_daily.day BETWEEN ? AND ? AND term_daily.day = d.day "
        "AND term_daily.language = d.language AND term_daily.term = d.term",
        [low, high],
    )
    con.execute(
        "INSERT INTO term_daily (day, language, term, n, articles) "
        "SELECT d.day, d.language, d.term, d.n, d.articles FROM _term_delta d "
        "WHERE NOT EXISTS (SELECT 1 FROM term_daily t WHERE t.day BETWEEN ? AND ? "
        "AND t.day = d.day AND t.language = d.language AND t.term = d.term) "
        "ORDER BY d.day",
        [low, high],
    )
    if smallest < 0:
        con.execute(
            "DELETE FROM term_daily WHERE day BETWEEN ? AND ? AND articles <= 0",
            [low, high],
        )


def _span(moments: Sequence[datetime]) -> tuple[datetime, datetime]:
    return min(moments), max(moments)


def _repeated(values: Sequence[Any], counts: Sequence[int], kind: pa.DataType) -> pa.Array:
    """Each of `values` `counts` times over, as one Arrow array: a value is converted once,
    not once for each of its rows (an article's id and time on each of its 150 terms)."""
    picks = np.repeat(np.arange(len(values), dtype=np.int64), np.asarray(counts, np.int64))
    return pa.array(values, kind).take(pa.array(picks))


def _arrow(columns: dict[str, Any]) -> pa.Table:
    return pa.table(
        {
            name: values if isinstance(values, pa.Array) else pa.array(values, _TYPES.get(name))
            for name, values in columns.items()
        }
    )


_TYPES: dict[str, pa.DataType] = {
    "published": pa.timestamp("us"),
    "first_seen": pa.timestamp("us"),
    "position": pa.int32(),
    "n": pa.int32(),
    "feed_id": pa.int32(),
    "field": pa.uint8(),
    "word": pa.int64(),
    "positions": pa.list_(pa.uint32()),
    "gen": pa.int64(),
}


def _append(con: duckdb.DuckDBPyConnection, table_name: str, columns: dict[str, Any]) -> None:
    _rows = _arrow(columns)  # noqa: F841 - read by DuckDB's replacement scan below
    names = ", ".join(columns)
    con.execute(f"INSERT INTO {table_name} ({names}) SELECT {names} FROM _rows").fetchall()


def _delete_articles(con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> None:
    ids = list(article_ids)
    if not ids:
        return
    with registered(con, "_gone", pa.table({"id": ids})):
        _subtract_terms(con, "SELECT id FROM _gone", None)
        for table_name in (
            "article_authors",
            "article_tags",
            "article_terms",
            "article_stories",
            "story_bands",
        ):
            con.execute(f"DELETE FROM {table_name} WHERE article_id IN (SELECT id FROM _gone)")
        con.execute("DELETE FROM articles WHERE id IN (SELECT id FROM _gone)")
        # Their indexed words no longer count (the next sort drops them).
        con.execute(
            "INSERT INTO article_gen (article_id, gen) SELECT id, -1 FROM _gone "
            "ON CONFLICT (article_id) DO UPDATE SET gen = -1"
        )


def add_stopwords(con: duckdb.DuckDBPyConnection, language: str, words: Iterable[str]) -> int:
    """Add user stopwords for a language ('*': every language). Returns how many were new: a
    word given twice counts once, a word already there not at all (one taken back counts)."""
    added = 0
    for word in dict.fromkeys(words):
        row = first(
            con.execute(
                "SELECT removed FROM stopwords WHERE language = ? AND word = ?", [language, word]
            )
        )
        if row is not None and not row[0]:
            continue
        con.execute(
            "INSERT INTO stopwords (language, word, removed) VALUES (?, ?, FALSE) "
            "ON CONFLICT (language, word) DO UPDATE SET removed = FALSE",
            [language, word],
        )
        added += 1
    return added


def remove_stopwords(con: duckdb.DuckDBPyConnection, language: str, words: Iterable[str]) -> int:
    removed = 0
    for word in words:
        row = first(
            con.execute(
                "DELETE FROM stopwords WHERE language = ? AND word = ? RETURNING word",
                [language, word],
            )
        )
        removed += row is not None
    return removed


def replace_terms(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[tuple[ArticleText, Sequence[TermRow]]],
    mark: str | None,
) -> None:
    """Replace the stored terms of these articles (and both rollups) with the given ones,
    and their indexed words with those of their texts, and set the rebuild mark
    (`mark=None`: the rebuild is over), in the caller's transaction."""
    if rows:
        ids = pa.table({"id": [text.id for text, _ in rows]})
        span = _span([text.published for text, _ in rows])
        with registered(con, "_rebuilt", ids):
            _subtract_terms(con, "SELECT id FROM _rebuilt", span)
            con.execute(
                "DELETE FROM article_terms WHERE published BETWEEN ? AND ? "
                "AND article_id IN (SELECT id FROM _rebuilt)",
                list(span),
            )
        insert_words(
            con,
            [(t.id, t.published, textmod.index_words(t.title, t.text)) for t, _ in rows],
            replacing=[t.id for t, _ in rows],
        )
        terms = _term_columns(
            [text.id for text, _ in rows],
            [text.published for text, _ in rows],
            [text.language for text, _ in rows],
            [found for _, found in rows],
        )
        if terms is not None:
            insert_terms(con, terms)
    if mark is None:
        con.execute("DELETE FROM meta WHERE key = 'terms_rebuild'")
        sort_words(con, force=True)
    else:
        con.execute(
            "INSERT INTO meta (key, value) VALUES ('terms_rebuild', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [mark],
        )
