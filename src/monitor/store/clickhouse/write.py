"""Writes: feeds, their fetch state, and the articles a feed document held.

ClickHouse has no multi-table transaction, so what a half-done write can leave is decided by
the order of the inserts (see `schema` for the row versions and tombstones):

0. the articles' names in `pending`: a new one's rows stay invisible until 2;
1. an article's authors, tags and terms (the stored ones tombstoned first, so the term
   rollup loses them before it gains the new ones);
2. the article row: from here on queries see the article, with all of its tags and terms
   (a view with filters on articles is narrowed to stored articles; a view narrowed by time
   only skips the pending ones); 2b. the names in `pending` tombstoned;
3. its feed links, with the entry hashes;
4. last, the feed row with the document's byte hash and the fetch state.

A removal names its articles in `pending` first and clears them after their last row is
tombstoned (links included), so a removal killed midway leaves nothing half-visible either.

A writer killed before 4 leaves the feed's old byte hash (and, before 3, the old entry
hashes), so the next fetch or ingest of that feed parses the document again and writes the
same rows again: rows already there are replaced by equal ones, and what was missing lands.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from monitor import text as textmod
from monitor.models import Article, ParsedFeed, Table
from monitor.store import storyrows
from monitor.store.base import ArticleText, FetchRecord, SaveCounts, TermRow
from monitor.store.clickhouse.sql import UTC_TIME, Params, utc_naive
from monitor.store.entries import (
    COPY_COLUMNS,
    Rekey,
    check_storable,
    classify,
    distinct_entries,
    page_of,
    resolve_same_feed,
)

Rows = list[tuple[Any, ...]]
Run = Callable[[str, Params], tuple[tuple[str, ...], Rows]]
Insert = Callable[[str, Sequence[str], Rows], None]

_clock = threading.Lock()
_last = 0


def versions(count: int = 2) -> int:
    """A fresh row version (nanoseconds, strictly increasing in this process); the next
    `count - 1` numbers are reserved too (tombstones take the first, new rows the last)."""
    global _last
    with _clock:
        now = max(time.time_ns(), _last + 1)
        _last = now + count - 1
        return now


# A feed row as the writer reads and writes it: the copied columns and `created` (the
# order feeds were added in; ClickHouse's own bookkeeping, not copied).
FEED_COLUMNS = ("id", "created", *COPY_COLUMNS["feeds"][1:])

ARTICLE_COLUMNS = COPY_COLUMNS["articles"]
LINK_COLUMNS = COPY_COLUMNS["article_feeds"]
CHILD_COLUMNS = {
    "article_authors": ("article_id", "position", "author", "published"),
    "article_tags": ("article_id", "key", "display", "source", "published"),
    "article_terms": ("article_id", "term", "n", "published", "language", "display"),
}
# The sorting key of each table (what a tombstone must repeat).
KEYS = {
    "articles": ("published", "id"),
    "article_feeds": ("published", "feed_id", "entry_key"),
    "article_authors": ("published", "article_id", "position"),
    "article_tags": ("published", "article_id", "key"),
    "article_terms": ("published", "article_id", "term"),
    "feeds": ("id",),
    "stopwords": ("language", "word"),
}

_ID_BITS = 31  # fits DuckDB's INTEGER feed ids, so `monitor copy` goes both ways


WORD_COLUMNS = ("article_id", "published", "field", "word", "positions")


# An article's word index rows: (id, published, `text.index_words` rows).
ArticleWords = tuple[str, datetime, textmod.WordIndex]


def _word_rows(articles: Sequence[ArticleWords]) -> Rows:
    return [
        (article_id, published, field, word, positions)
        for article_id, published, rows in articles
        for field, word, positions in rows
    ]


def words_of_row(row: Sequence[Any], columns: Sequence[str] = ARTICLE_COLUMNS) -> ArticleWords:
    """The word index rows of a stored article row (`columns`: its columns)."""
    values = dict(zip(columns, row, strict=False))
    words = textmod.index_words(values["title"], values["text"])
    return (str(values["id"]), values["published"], words)


def feed_id_for(url: str, attempt: int = 0) -> int:
    """A feed's id: a hash of its URL (see `schema`); `attempt` > 0 when it is taken."""
    text = url if attempt == 0 else f"{url}#{attempt}"
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int(int.from_bytes(digest, "big") % (2**_ID_BITS - 1)) + 1


class Writer:
    """The writes of one store, on its `run` (a query) and `insert` (rows with versions)."""

    def __init__(self, run: Run, insert: Insert) -> None:
        self.run = run
        self._insert = insert

    # -- plumbing ---------------------------------------------------------------------

    def put(
        self,
        table: str,
        columns: Sequence[str],
        rows: Rows,
        *,
        tombstones: Rows = (),  # type: ignore[assignment]
        version: int | None = None,
    ) -> None:
        """Insert `rows` (full rows of `columns`) as a new version, after `tombstones` (rows
        of the same columns whose keys are to disappear) with the version before it."""
        if not rows and not tombstones:
            return
        v = versions() if version is None else version
        out = [(*row, v - 1, 1) for row in tombstones] + [(*row, v, 0) for row in rows]
        self._insert(table, [*columns, "version", "is_deleted"], out)

    def select(self, sql: str, p: Params | None = None) -> Rows:
        return self.run(sql, p or Params())[1]

    # -- feeds ------------------------------------------------------------------------

    def feed_rows(self, where: str, p: Params) -> list[dict[str, Any]]:
        rows = self.select(f"SELECT {', '.join(FEED_COLUMNS)} FROM feeds WHERE {where}", p)
        return [dict(zip(FEED_COLUMNS, row, strict=True)) for row in rows]

    def feeds_by_id(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        p = Params()
        listed = p.add(sorted(set(ids)), "Array(Int64)")
        return {int(r["id"]): r for r in self.feed_rows(f"id IN {listed}", p)}

    def feed_by_url(self, url: str) -> dict[str, Any] | None:
        p = Params()
        rows = self.feed_rows(f"url = {p.add(url, 'String')} ORDER BY created LIMIT 1", p)
        return rows[0] if rows else None

    def put_feeds(self, rows: Sequence[dict[str, Any]]) -> None:
        self.put("feeds", FEED_COLUMNS, [tuple(r[c] for c in FEED_COLUMNS) for r in rows])

    def _free_ids(self, urls: Sequence[str]) -> dict[str, int]:
        """An unused id for each URL (its hash, or the next free attempt)."""
        chosen: dict[str, int] = {}
        attempt = 0
        pending = list(dict.fromkeys(urls))
        while pending:
            wanted = {url: feed_id_for(url, attempt) for url in pending}
            p = Params()
            listed = p.add(sorted(set(wanted.values())), "Array(Int64)")
            taken = {
                int(i) for (i,) in self.select(f"SELECT id FROM feeds WHERE id IN {listed}", p)
            }
            taken |= set(chosen.values())
            retry = []
            for url, fid in wanted.items():
                if fid in taken:
                    retry.append(url)
                else:
                    chosen[url] = fid
                    taken.add(fid)
            pending = retry
            attempt += 1
        return chosen

    def new_feed(
        self, url: str, fid: int, created: int, *, when: datetime, **values: Any
    ) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(FEED_COLUMNS)
        row.update(
            id=fid,
            created=created,
            url=url,
            kind="http",
            subscribed=True,
            full_text=False,
            restricted=False,
            pages_restricted=False,
            added_at=when,
            next_due_at=when,
            error_count=0,
            disabled=False,
        )
        row.update(values)
        return row

    def add_feed(
        self,
        url: str,
        *,
        now: datetime,
        kind: str = "http",
        subscribed: bool = True,
        name: str | None = None,
        full_text: bool | None = None,
        restricted: bool = False,
    ) -> tuple[int, bool]:
        """See the DuckDB engine's `add_feed`: a known URL keeps its state; it may be
        subscribed, renamed or get full text, and a web change never widens its reach."""
        row = self.feed_by_url(url)
        if row is not None:
            old = dict(row)
            if subscribed:
                row["restricted"] = bool(old["restricted"]) or (
                    restricted and not old["subscribed"]
                )
                row["subscribed"] = True
            if name is not None:
                row["name"] = name
            if full_text:
                row["pages_restricted"] = (
                    bool(old["pages_restricted"]) or not old["full_text"] if restricted else False
                )
                row["full_text"] = True
            elif full_text is not None:
                row["full_text"] = False
            if row != old:
                self.put_feeds([row])
            return int(row["id"]), False
        when = utc_naive(now)
        fid = self._free_ids([url])[url]
        self.put_feeds(
            [
                self.new_feed(
                    url,
                    fid,
                    versions(1),
                    when=when,
                    kind=kind,
                    subscribed=subscribed,
                    name=name,
                    full_text=bool(full_text),
                    restricted=restricted,
                )
            ]
        )
        return fid, True

    def ensure_feeds(self, feeds: Sequence[tuple[str, str, bool]], *, now: datetime) -> list[int]:
        """Ids of (url, kind, subscribed) feeds, registering the unknown ones; a known feed
        keeps its state and is only ever switched to subscribed."""
        if not feeds:
            return []
        p = Params()
        listed = p.texts(sorted({url for url, _, _ in feeds}))
        known: dict[str, dict[str, Any]] = {}
        for row in self.feed_rows(f"url IN {listed} ORDER BY created", p):
            known.setdefault(str(row["url"]), row)
        changed = []
        for url, _, sub in feeds:
            had = known.get(url)
            if had is not None and sub and not had["subscribed"]:
                had["subscribed"] = True
                changed.append(had)
        missing: dict[str, tuple[str, bool]] = {}
        for url, kind, sub in feeds:
            if url not in known and url not in missing:
                missing[url] = (kind, sub)
        if missing:
            when = utc_naive(now)
            ids = self._free_ids(list(missing))
            first = versions(len(missing))
            for i, (url, (kind, sub)) in enumerate(missing.items()):
                row = self.new_feed(url, ids[url], first + i, when=when, kind=kind, subscribed=sub)
                known[url] = row
                changed.append(row)
        self.put_feeds(changed)
        return [int(known[url]["id"]) for url, _, _ in feeds]

    def rename(self, row: dict[str, Any], new_url: str) -> bool:
        p = Params()
        taken = self.select(
            f"SELECT id FROM feeds WHERE url = {p.add(new_url, 'String')} "
            f"AND id <> {p.add(row['id'], 'Int64')}",
            p,
        )
        if taken:
            return False
        row["url"] = new_url
        return True

    @staticmethod
    def record_parse(row: dict[str, Any], parsed: ParsedFeed, body_hash: str | None) -> None:
        row["title"] = parsed.title or row["title"]
        row["site_url"] = parsed.link if parsed.link is not None else row["site_url"]
        row["language"] = parsed.language if parsed.language is not None else row["language"]
        row["warning"] = parsed.warning
        row["body_hash"] = body_hash

    @staticmethod
    def record_fetch(row: dict[str, Any], fetch: FetchRecord, when: datetime) -> None:
        due = utc_naive(fetch.next_due) if fetch.next_due else None
        row["last_fetch_at"] = when
        row["last_status"] = fetch.status
        row["next_due_at"] = due
        if fetch.error is None:
            row["last_ok_at"] = when
            row["error_count"] = 0
            row["last_error"] = None
            row["etag"] = fetch.etag if fetch.etag is not None else row["etag"]
            if fetch.last_modified is not None:
                row["last_modified"] = fetch.last_modified
        else:
            row["error_count"] = int(row["error_count"] or 0) + 1
            row["last_error"] = fetch.error
        if fetch.disable_reason:
            row["disabled"] = True
            row["disabled_reason"] = fetch.disable_reason

    def remove_feed(self, url: str) -> int | None:
        """Remove a feed and the articles no other feed carries (articles first: they
        vanish from every query at once; then links, their rows, the feed)."""
        row = self.feed_by_url(url)
        if row is None:
            return None
        p = Params()
        fid = p.add(row["id"], "Int64")
        links = self.select(
            f"SELECT {', '.join(LINK_COLUMNS)} FROM article_feeds WHERE feed_id = {fid}", p
        )
        ids = sorted({r[2] for r in links})
        orphans: list[str] = []
        if ids:
            q = Params()
            listed = q.texts(ids)
            others = {
                r[0]
                for r in self.select(
                    f"SELECT DISTINCT article_id FROM article_feeds WHERE article_id IN {listed} "
                    f"AND feed_id <> {q.add(row['id'], 'Int64')}",
                    q,
                )
            }
            orphans = [i for i in ids if i not in others]
        self.delete_articles(orphans, clear=False)
        self.put("article_feeds", LINK_COLUMNS, [], tombstones=links)
        self.clear_pending(orphans)
        self.put("feeds", FEED_COLUMNS, [], tombstones=[tuple(row[c] for c in FEED_COLUMNS)])
        return len(orphans)

    def mark_pending(self, ids: Sequence[str]) -> None:
        """Name these articles in `pending`: their per-article rows are invisible from now."""
        self.put("pending", ("article_id",), [(i,) for i in sorted(set(ids))])

    def clear_pending(self, ids: Sequence[str]) -> None:
        self.put("pending", ("article_id",), [], tombstones=[(i,) for i in sorted(set(ids))])

    def delete_articles(self, ids: Sequence[str], *, clear: bool = True) -> None:
        """The articles and their rows tombstoned, named pending meanwhile (`clear=False`:
        the caller clears them after it tombstones their links)."""
        if not ids:
            return
        self.mark_pending(ids)
        p = Params()
        listed = p.texts(list(ids))
        stored = self.select(
            f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE id IN {listed}", p
        )
        self.put("articles", ARTICLE_COLUMNS, [], tombstones=stored)
        self.put_words([], replacing=[words_of_row(row) for row in stored])
        self.delete_stories(ids, {str(row[0]): str(row[2]) for row in stored})
        for table, columns in CHILD_COLUMNS.items():
            old = self.children(table, ids)
            self.put(table, columns, [], tombstones=old)
        if clear:
            self.clear_pending(ids)

    def put_words(
        self,
        articles: Sequence[ArticleWords],
        *,
        replacing: Sequence[ArticleWords] = (),
        version: int | None = None,
    ) -> None:
        """Index the words of `articles`, after tombstoning those of `replacing` (the stored
        versions): `article_words` is sorted by the word, so an article's stored rows are
        computed from its stored text (`words_of_row`), not read."""
        self.put(
            "article_words",
            WORD_COLUMNS,
            _word_rows(articles),
            tombstones=_word_rows(replacing),
            version=version,
        )

    def children(
        self,
        table: str,
        ids: Sequence[str],
        at: dict[str, set[datetime]] | None = None,
    ) -> Rows:
        """The stored rows of `table` for these articles. With `at` (the times each article's
        rows can carry: each row carries its article's `published`, the first column of the
        sorting key), only those times are read for the ids in it, not the whole table
        (a bloom filter over a few hundred ids skips next to nothing)."""
        if not ids:
            return []
        columns = CHILD_COLUMNS[table]
        # PREWHERE on sorting-key columns only (safe before FINAL): the other columns are
        # read for the matching rows alone.
        select = f"SELECT {', '.join(columns)} FROM {table} PREWHERE "
        narrow = [i for i in ids if at is not None and i in at]
        wide = [i for i in ids if at is None or i not in at]
        rows: Rows = []
        if narrow and at is not None:
            p = Params()
            times = sorted({t for i in narrow for t in at[i]})
            rows += self.select(
                f"{select}published IN {p.add(times, f'Array({UTC_TIME})')} "
                f"AND article_id IN {p.texts(narrow)}",
                p,
            )
        if wide:
            p = Params()
            rows += self.select(f"{select}article_id IN {p.texts(wide)}", p)
        return rows

    # -- articles ---------------------------------------------------------------------

    def feed_url(self, cache: dict[int, str], feed_id: int) -> str:
        if feed_id not in cache:
            p = Params()
            rows = self.select(f"SELECT url FROM feeds WHERE id = {p.add(feed_id, 'Int64')}", p)
            cache[feed_id] = str(rows[0][0]) if rows else f"feed:{feed_id}"
        return cache[feed_id]

    def stored(self, ids: Iterable[str]) -> dict[str, tuple[datetime, str]]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        p = Params()
        rows = self.select(
            f"SELECT id, published, date_source FROM articles PREWHERE id IN {p.texts(wanted)}",
            p,
        )
        return {str(i): (pub, str(src)) for i, pub, src in rows}

    def save_many(
        self, documents: Sequence[tuple[int, Sequence[Article]]], *, now: datetime
    ) -> list[SaveCounts]:
        """Store feed documents' articles with the same result as the DuckDB engine's
        `save_many` (same identity rules, through `monitor.store.entries`)."""
        checked = check_storable(documents)
        urls: dict[int, str] = {}
        feed_url = partial(self.feed_url, urls)
        batches: list[tuple[int, list[Article], int]] = []
        for check in checked:
            batch, duplicates = distinct_entries(check.storable, partial(feed_url, check.feed_id))
            batches.append((check.feed_id, batch, duplicates))
        entries = [(fid, a) for fid, batch, _ in batches for a in batch]
        if not entries:
            return [
                SaveCounts(duplicates=d, dropped=c.dropped, warnings=c.notes)
                for (_, _, d), c in zip(batches, checked, strict=True)
            ]
        p = Params()
        fids = p.add(sorted({fid for fid, _ in entries}), "Array(Int64)")
        keys = p.texts(sorted({a.entry_key for _, a in entries}))
        pairs = {(fid, a.entry_key) for fid, a in entries}
        links: dict[tuple[int, str], tuple[str, str]] = {}
        for fid, key, aid, digest in self.select(
            "SELECT feed_id, entry_key, article_id, entry_hash FROM article_feeds "
            f"PREWHERE feed_id IN {fids} AND entry_key IN {keys}",
            p,
        ):
            if (int(fid), str(key)) in pairs:
                links[(int(fid), str(key))] = (str(aid), str(digest))
        wanted = [aid for aid, _ in links.values()] + [a.id for _, a in entries]
        wanted += [page for _, a in entries if (page := page_of(a))]
        stored = self.stored(wanted)
        same_feed = self._same_feed_links(
            [
                (fid, candidate)
                for fid, a in entries
                if (fid, a.entry_key) not in links
                for candidate in (a.id, page_of(a))
                if candidate in stored
            ]
        )
        rekeys: list[Rekey] = []
        if same_feed:
            batches, rekeys, own = resolve_same_feed(batches, links, same_feed, feed_url)
            for r in rekeys:
                links[(r.feed_id, r.new_key)] = (r.article_id, r.entry_hash)
            stored.update(self.stored(own))
        when = utc_naive(now)
        # What is stored now (classify adds the articles it is about to write to `stored`).
        before = dict(stored)
        plan = classify(batches, checked, links, stored, rekeys)
        v = versions()
        changed = plan.changed
        ids = [c.id for c in changed]
        # 1. authors, tags, terms: whatever is stored for these ids goes (also what a
        # killed writer left of a new article), the new rows come.
        new_children: dict[str, Rows] = {name: [] for name in CHILD_COLUMNS}
        for c in changed:
            a, pub = c.article, c.published
            new_children["article_authors"] += [
                (c.id, i, author, pub) for i, author in enumerate(a.authors)
            ]
            new_children["article_tags"] += [
                (c.id, t.key, t.display, t.source, pub) for t in a.tags
            ]
            new_children["article_terms"] += [
                (c.id, term, n, pub, a.language or "", form) for term, n, form in a.terms
            ]
        # Where their rows can be: at the stored article's time, or at the new time (what
        # a killed writer left of a new article), unless that time was the moment of the
        # write (an entry without a date): then anywhere.
        at: dict[str, set[datetime]] = {}
        for c in changed:
            if c.id in before:
                at[c.id] = {before[c.id][0], c.published}
            elif c.date_source != "first-seen":
                at[c.id] = {c.published}
        # 0. the articles named pending (what hides a new one's rows until its row lands;
        # a stored one has its row throughout, and is named so that what a killed writer
        # named of it is cleared below too).
        if ids:
            self.mark_pending(ids)
        for table, columns in CHILD_COLUMNS.items():
            self.put(
                table,
                columns,
                new_children[table],
                tombstones=self.children(table, ids, at),
                version=v,
            )
        # The stored versions of the stored ones (their words go, and their first_seen stays).
        old_rows: dict[str, tuple[Any, ...]] = {}
        there = [i for i in ids if i in before]
        if there:
            q = Params()
            times = q.add(sorted({before[i][0] for i in there}), f"Array({UTC_TIME})")
            for row in self.select(
                f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles "
                f"PREWHERE published IN {times} AND id IN {q.texts(there)}",
                q,
            ):
                old_rows[str(row[0])] = row
        self.put_words(
            [(c.id, c.published, textmod.words_of(c.article)) for c in changed],
            replacing=[words_of_row(row) for row in old_rows.values()],
            version=v,
        )
        # Stories: placed before the article row appears, so a visible article has its story.
        self.place_stories(changed, before)
        # 2. the article rows (only the stored ones can have a row, at its stored time).
        article_rows: Rows = []
        gone: Rows = []
        for c in changed:
            a = c.article
            old = old_rows.get(c.id)
            first_seen = old[13] if old is not None else when
            article_rows.append(
                (
                    c.id,
                    a.url,
                    a.title,
                    a.summary,
                    a.text,
                    c.published,
                    c.date_source,
                    a.date_assumed_utc,
                    a.language,
                    a.word_count,
                    a.reading_minutes,
                    a.comments,
                    a.fulltext_error,
                    first_seen,
                    when,
                )
            )
            if old is not None and old[5] != c.published:
                gone.append(old)
        self.put("articles", ARTICLE_COLUMNS, article_rows, tombstones=gone, version=v)
        # 2b. the names cleared: this write's, and a killed writer's of the stored articles
        # this document holds (complete now; the next save of an unchanged document
        # writes no article, so this is where they go).
        stale: list[str] = []
        if before:
            q = Params()
            stale = [
                str(r[0])
                for r in self.select(
                    f"SELECT article_id FROM pending WHERE article_id IN {q.texts(sorted(before))}",
                    q,
                )
            ]
        if ids or stale:
            self.clear_pending([*ids, *stale])
        # 3. the links: re-keyed, updated (every link of a changed story moves with it in
        # time), new.
        published = {c.id: c.published for c in changed}
        moved = {r.article_id for r in rekeys} | {r.article_id for r in plan.updated_links}
        moved |= {c.id for c in changed if not c.is_new}
        current: dict[tuple[int, str], list[Any]] = {}
        original: dict[tuple[int, str], tuple[Any, ...]] = {}
        if moved:
            q = Params()
            for link_row in self.select(
                f"SELECT {', '.join(LINK_COLUMNS)} FROM article_feeds "
                f"WHERE article_id IN {q.texts(sorted(moved))}",
                q,
            ):
                key = (int(link_row[0]), str(link_row[1]))
                current[key] = list(link_row)
                original[key] = link_row
        dirty: set[tuple[int, str]] = set()
        tombs: Rows = []
        for r in rekeys:
            old_key = (r.feed_id, r.old_key)
            moving = current.pop(old_key, None)
            if moving is None:
                continue
            tombs.append(original.pop(old_key))
            moving[1] = r.new_key
            current[(r.feed_id, r.new_key)] = moving
            dirty.add((r.feed_id, r.new_key))
        for link in plan.updated_links:
            key = (link.feed_id, link.article.entry_key)
            if key in current:
                current[key][3] = link.article.content_hash
                dirty.add(key)
        for key, values in current.items():
            new_time = published.get(values[2])
            if new_time is not None and values[5] != new_time:
                values[5] = new_time
                dirty.add(key)
        link_rows: Rows = []
        for key in sorted(dirty):
            values = current[key]
            was = original.get(key)
            if was is not None and was[5] != values[5]:
                tombs.append(was)
            link_rows.append(tuple(values))
        for link in plan.new_links:
            link_rows.append(
                (
                    link.feed_id,
                    link.article.entry_key,
                    link.article_id,
                    link.article.content_hash,
                    when,
                    link.published,
                )
            )
        self.put("article_feeds", LINK_COLUMNS, link_rows, tombstones=tombs, version=v)
        return plan.counts

    # -- stories ------------------------------------------------------------------------

    def place_stories(self, changed: Sequence[Any], before: dict[str, Any]) -> None:
        """New articles (and stored ones without a story yet) placed in stories: candidates
        by band hash (the band table's primary key), rows written (monitor.store.storyrows)."""
        old = [c.id for c in changed if c.id in before]
        placed_before: set[str] = set()
        if old:
            p = Params()
            placed_before = {
                str(r[0])
                for r in self.select(
                    f"SELECT article_id FROM article_stories PREWHERE article_id IN {p.texts(old)}",
                    p,
                )
            }
        new = [
            storyrows.NewArticle(
                c.id,
                c.article.title,
                c.article.text,
                c.article.language,
                c.published,
                c.article.signature,
            )
            for c in changed
            if c.id not in placed_before
        ]
        self.save_stories(storyrows.place(new, self.story_candidates))

    def story_candidates(
        self, bands: list[int], low: datetime, high: datetime, exclude: list[str]
    ) -> Table:
        if not bands:
            return Table(storyrows.CANDIDATE_COLUMNS, [])
        p = Params()
        lo, hi = p.add(low, UTC_TIME), p.add(high, UTC_TIME)
        ids = self.select(
            "SELECT DISTINCT article_id FROM story_bands "
            f"PREWHERE band IN {p.add(bands, 'Array(Int64)')} "
            f"WHERE published BETWEEN {lo} AND {hi} "
            f"AND article_id NOT IN {p.texts(exclude)}",
            p,
        )
        if not ids:
            return Table(storyrows.CANDIDATE_COLUMNS, [])
        q = Params()
        listed = q.texts(sorted(str(r[0]) for r in ids))
        rows = self.select(
            "SELECT article_id, story_id, language, published, signature FROM article_stories "
            f"PREWHERE published BETWEEN {q.add(low, UTC_TIME)} AND {q.add(high, UTC_TIME)} "
            f"AND article_id IN {listed}",
            q,
        )
        titles = {
            str(i): str(t)
            for i, t in self.select(f"SELECT id, title FROM articles PREWHERE id IN {listed}", q)
        }
        return Table(
            storyrows.CANDIDATE_COLUMNS,
            [(*row, titles[str(row[0])]) for row in rows if str(row[0]) in titles],
        )

    def save_stories(
        self, placed: Sequence[storyrows.Placed], *, version: int | None = None
    ) -> None:
        if not placed:
            return
        v = versions() if version is None else version
        self.put(
            "article_stories",
            storyrows.STORY_COLUMNS,
            [p.story_row() for p in placed],
            version=v,
        )
        self.put(
            "story_bands",
            storyrows.BAND_COLUMNS,
            [row for p in placed for row in p.band_rows()],
            version=v,
        )

    def delete_stories(self, ids: Sequence[str], titles: dict[str, str]) -> None:
        """Tombstones for the story rows and band hashes of removed articles."""
        if not ids:
            return
        p = Params()
        stored = self.select(
            f"SELECT {', '.join(storyrows.STORY_COLUMNS)} FROM article_stories "
            f"PREWHERE article_id IN {p.texts(list(ids))}",
            p,
        )
        self.put("article_stories", storyrows.STORY_COLUMNS, [], tombstones=stored)
        bands: Rows = []
        for article_id, _, _, published, signature in stored:
            decoded = storyrows.decode(str(signature), titles.get(str(article_id), ""))
            bands += [(band, article_id, published) for band in decoded.bands]
        self.put("story_bands", storyrows.BAND_COLUMNS, [], tombstones=bands)

    def _same_feed_links(
        self, pairs: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], list[tuple[str, str, str]]]:
        if not pairs:
            return {}
        wanted = set(pairs)
        p = Params()
        fids = p.add(sorted({fid for fid, _ in pairs}), "Array(Int64)")
        aids = p.texts(sorted({aid for _, aid in pairs}))
        found: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
        for fid, aid, key, digest, title in self.select(
            "SELECT af.feed_id, af.article_id, af.entry_key, af.entry_hash, a.title "
            "FROM article_feeds af JOIN articles a ON a.id = af.article_id "
            f"WHERE af.feed_id IN {fids} AND af.article_id IN {aids} "
            "ORDER BY af.first_seen, af.entry_key",
            p,
        ):
            if (int(fid), str(aid)) in wanted:
                found.setdefault((int(fid), str(aid)), []).append(
                    (str(key), str(digest), str(title))
                )
        return found

    # -- the term rebuild ---------------------------------------------------------------

    def replace_terms(
        self, rows: Sequence[tuple[ArticleText, Sequence[TermRow]]], mark: str | None
    ) -> None:
        """Tombstone these articles' stored terms and write the given ones (the views keep
        term_daily and term_forms), then set the rebuild mark (None: the rebuild is over)."""
        if rows:
            v = versions()
            at = {text.id: {text.published} for text, _ in rows}
            new = [
                (text.id, term, n, text.published, text.language or "", form)
                for text, terms in rows
                for term, n, form in terms
            ]
            columns = CHILD_COLUMNS["article_terms"]
            old = self.children("article_terms", list(at), at)
            self.put("article_terms", columns, new, tombstones=old, version=v)
            # The same texts give the same keys: the new rows replace any stored ones.
            self.put_words(
                [(t.id, t.published, textmod.index_words(t.title, t.text)) for t, _ in rows],
                version=v,
            )
        if mark is None:
            self.put("meta", ("key", "value"), [], tombstones=[("terms_rebuild", "")])
        else:
            self.put("meta", ("key", "value"), [("terms_rebuild", mark)])

    # -- stopwords ----------------------------------------------------------------------

    def stopwords(self, language: str, words: Sequence[str], *, add: bool) -> int:
        if not words:
            return 0
        p = Params()
        rows = self.select(
            f"SELECT word, removed FROM stopwords WHERE language = {p.add(language, 'String')} "
            f"AND word IN {p.texts(list(words))}",
            p,
        )
        there = {str(w): bool(r) for w, r in rows}
        unique = list(dict.fromkeys(words))
        if add:
            # As the DuckDB engine: the words that were new count (a word given twice once,
            # one already there not at all, one taken back once).
            new = [w for w in unique if there.get(w, True)]
            self.put(
                "stopwords", ("language", "word", "removed"), [(language, w, False) for w in new]
            )
            return len(new)
        gone = [(language, w, there[w]) for w in unique if w in there]
        self.put("stopwords", ("language", "word", "removed"), [], tombstones=gone)
        return len(gone)
