"""Reads: every aggregate the CLI and the dashboard show, computed inside DuckDB.

Each function takes an open connection and a `Filters`, and returns a small `Table` of plain
Python values (or a dict, or typed records). Nothing here reads the whole corpus into Python.

Filtering: `_where(f)` turns a Filters into a condition on `articles a`. The per-article
tables (authors, tags, terms, feeds) carry `published` themselves, so a view narrowed only by
time filters them by range directly; any other filter adds `article_id IN (matching ids)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import duckdb

from monitor.models import FeedState, Filters, Subscription, Table
from monitor.query import Match, Node, condition, match_pattern
from monitor.store.base import (
    BUCKETS,
    EXPORT_COLUMNS,
    NO_SERIES,
    OTHER_SERIES,
    STORIES_COLUMNS,
    STORY_ARTICLE_COLUMNS,
    ArticleText,
    TermsRebuild,
    TermVectors,
)
from monitor.store.duckdb.rows import first, utc_naive
from monitor.store.entries import parse_rebuild_mark
from monitor.text import WORD_TEXT, WORD_TITLE, user_stop_keys, word_hash

__all__ = ["BUCKETS", "EXPORT_COLUMNS", "NO_SERIES", "OTHER_SERIES"]

Params = list[Any]


def _in_list(column: str, values: Sequence[Any], params: Params) -> str:
    params.extend(values)
    return f"{column} IN ({', '.join('?' for _ in values)})"


def _time_conditions(column: str, f: Filters, params: Params) -> list[str]:
    conditions = []
    if f.since is not None:
        conditions.append(f"{column} >= ?")
        params.append(utc_naive(f.since))
    if f.until is not None:
        conditions.append(f"{column} < ?")
        params.append(utc_naive(f.until))
    return conditions


def tag_match(alias: str, values: Sequence[str], params: Params) -> str:
    """A condition on `article_tags {alias}` for tags given in any form: a key, any display
    form, any case, with or without "#" ("Außen", "#Zollstreit", "ZOLLSTREIT").

    The key (`tag_key`, which drops the "#" and folds case) finds every form; the display
    forms as given, without a leading "#", also match by themselves, so a tag stays findable
    by the form the store shows even if its key was made by an older version of `tag_key`.
    """
    from monitor.text import tag_key

    keys = sorted({tag_key(v) for v in values} - {""})
    forms = sorted({v.strip().lstrip("#\uff03").strip() for v in values} - {""})
    if not keys and not forms:
        return "FALSE"
    parts = []
    if keys:
        parts.append(_in_list(f"{alias}.key", keys, params))
    if forms:
        parts.append(_in_list(f"{alias}.display", forms, params))
    return "(" + " OR ".join(parts) + ")"


def _forms(keys: str) -> str:
    return f"""
        SELECT key, display FROM (
            SELECT t.key, t.display, row_number() OVER (
                PARTITION BY t.key
                ORDER BY (t.display <> lower(t.display)) DESC, count(*) DESC, t.display
            ) AS rank
            FROM article_tags t WHERE t.key IN ({keys}) GROUP BY t.key, t.display
        ) WHERE rank = 1
    """


def tag_forms(con: duckdb.DuckDBPyConnection, keys: str) -> str:
    """SQL of (key, display) rows: the one display form of each tag key that `keys` (a query
    of keys) yields. Every query that shows a tag takes its form from here.

    Chosen over the whole store, not the view, so a tag looks the same on every page and in
    every window: among the forms the feeds used, one with capitals ("UkraineKonflikt",
    "EU") wins over an all-lowercase one; then the most used; then the first in code-point
    order, so the choice never depends on row order.

    Choosing reads every row of `article_tags`. On a read-only connection (every query of
    the dashboard and the command line) the forms of all keys are chosen once per connection
    into a temporary table, so that a page's five tag queries share one scan; nothing can
    change the file while such a connection is open. A read-write connection chooses anew.
    """
    row = first(con.execute("SELECT current_setting('access_mode')"))
    if row is None or row[0] != "read_only":
        return _forms(keys)
    all_keys = "SELECT DISTINCT key FROM article_tags"
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS monitor_tag_forms AS {_forms(all_keys)}")
    return f"SELECT key, display FROM temp.monitor_tag_forms WHERE key IN ({keys})"


def article_where(f: Filters, params: Params, alias: str = "a") -> str:
    """A condition on `articles {alias}` for every filter (TRUE when there are none)."""
    conditions = _time_conditions(f"{alias}.published", f, params)
    if f.languages:
        conditions.append(_in_list(f"{alias}.language", f.languages, params))
    if f.feeds:
        feed_params: Params = []
        urls = _in_list("fd.url", f.feeds, feed_params)
        names = _in_list("fd.name", f.feeds, feed_params)
        titles = _in_list("fd.title", f.feeds, feed_params)
        params.extend(feed_params)
        conditions.append(
            f"{alias}.id IN (SELECT af.article_id FROM article_feeds af "
            f"JOIN feeds fd ON fd.id = af.feed_id WHERE {urls} OR {names} OR {titles})"
        )
    if f.authors:
        conditions.append(
            f"{alias}.id IN (SELECT au.article_id FROM article_authors au WHERE "
            + _in_list("au.author", f.authors, params)
            + ")"
        )
    if f.tags:
        conditions.append(
            f"{alias}.id IN (SELECT tg.article_id FROM article_tags tg WHERE "
            + tag_match("tg", f.tags, params)
            + ")"
        )
    if f.query is not None:
        conditions.append(query_condition(f.query.root, params, alias))
    return " AND ".join(conditions) if conditions else "TRUE"


def query_condition(node: Node, params: Params, alias: str = "a") -> str:
    """A condition on `articles {alias}` for a query tree (`monitor.query`)."""
    return condition(node, lambda m: _match_condition(m, params, alias))


def _match_condition(m: Match, params: Params, alias: str) -> str:
    if m.field == "tag":
        params.append(m.words[0])
        test = "starts_with(tq.key, ?)" if m.prefix else "tq.key = ?"
        return f"{alias}.id IN (SELECT tq.article_id FROM article_tags tq WHERE {test})"
    if m.field == "lang":
        code = m.words[0]
        if m.prefix:
            params.append(code)
            return f"starts_with(coalesce({alias}.language, ''), ?)"
        params.extend([code, code + "-%"])
        return f"({alias}.language = ? OR {alias}.language LIKE ?)"
    words = _WORDS.get()
    if m.field in (None, "title", "text") and (words is None or words.ready()):
        return _indexed_condition(m, params, alias)
    pattern = match_pattern(m)
    if m.field == "author":
        params.append(pattern)
        return (
            f"{alias}.id IN (SELECT aq.article_id FROM article_authors aq "
            "WHERE regexp_matches(aq.author, ?))"
        )
    if m.field == "feed":
        params.extend([pattern] * 3)
        return (
            f"{alias}.id IN (SELECT fq.article_id FROM article_feeds fq JOIN feeds fdq "
            "ON fdq.id = fq.feed_id WHERE regexp_matches(coalesce(fdq.title, ''), ?) "
            "OR regexp_matches(coalesce(fdq.name, ''), ?) OR regexp_matches(fdq.url, ?))"
        )
    # Without the word index (a store whose rebuild has not run): a scan of the texts.
    columns = {"title": ("title",), "text": ("text",)}.get(m.field or "", ("title", "text"))
    params.extend([pattern] * len(columns))
    tests = [f"regexp_matches(coalesce({alias}.{c}, ''), ?)" for c in columns]
    return "(" + " OR ".join(tests) + ")"


def _indexed_condition(m: Match, params: Params, alias: str) -> str:
    """Words, a phrase or a prefix in the title, the text or either, from `article_words`:
    each word a lookup of its hash (a prefix: the hashes of the vocabulary's words that
    start with it), a phrase its words in one field at consecutive positions."""
    tests = []
    for n, word in enumerate(m.words):
        if m.prefix and n == len(m.words) - 1:
            params.append(word)
            tests.append(
                f"w{n}.word IN (SELECT v.hash FROM word_vocabulary v WHERE starts_with(v.word, ?))"
            )
        else:
            params.append(word_hash(word))
            tests.append(f"w{n}.word = ?")
    field = {"title": WORD_TITLE, "text": WORD_TEXT}.get(m.field or "")
    if field is not None:
        tests.append(f"w0.field = {field}")
    # Only the rows that count (`write.CURRENT_WORDS`): an edited or removed article's older
    # rows stay until the index is sorted again.
    current = " AND ".join(f"g.gen = w{n}.gen" for n in range(len(m.words)))
    tests.append(f"(g.gen IS NULL OR ({current}))")
    joins = "".join(
        f" JOIN article_words w{n} ON w{n}.article_id = w0.article_id AND w{n}.field = w0.field"
        for n in range(1, len(m.words))
    )
    joins += " LEFT JOIN article_gen g ON g.article_id = w0.article_id"
    if len(m.words) > 1:
        follows = " AND ".join(
            f"list_contains(w{n}.positions, p + {n})" for n in range(1, len(m.words))
        )
        tests.append(f"len(list_filter(w0.positions, lambda p: {follows})) > 0")
    return (
        f"{alias}.id IN (SELECT w0.article_id FROM article_words w0{joins} "
        f"WHERE {' AND '.join(tests)})"
    )


class _WordIndex:
    """Whether a connection's store has its word index complete (schema 8, and no term
    rebuild pending: `monitor migrate` fills the index), asked once per read."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._ready: bool | None = None

    def ready(self) -> bool:
        if self._ready is None:
            self._ready = words_indexed(self._con)
        return self._ready


# None (outside a read: a write's connection): the index is taken as there.
_WORDS: ContextVar[_WordIndex | None] = ContextVar("monitor_duckdb_words", default=None)


@contextmanager
def word_index(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The queries in this block match words from the index when `con`'s store has it."""
    token = _WORDS.set(_WordIndex(con))
    try:
        yield
    finally:
        _WORDS.reset(token)


def words_indexed(con: duckdb.DuckDBPyConnection) -> bool:
    row = first(
        con.execute(
            "SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'article_words' "
            "AND database_name = current_database()) > 0 "
            "AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'terms_rebuild')"
        )
    )
    return bool(row and row[0])


def child_where(f: Filters, params: Params, alias: str) -> str:
    """A condition on a per-article table (`article_tags`, `article_terms`, ...)."""
    conditions = _time_conditions(f"{alias}.published", f, params)
    if not f.only_time:
        inner: Params = []
        where = article_where(f, inner)
        params.extend(inner)
        conditions.append(f"{alias}.article_id IN (SELECT a.id FROM articles a WHERE {where})")
    return " AND ".join(conditions) if conditions else "TRUE"


def story_of(alias: str, id_column: str = "article_id") -> tuple[str, str]:
    """(expression, join): the story of each row of `{alias}` (whose article id is
    `id_column`): its `article_stories` story, or its own article id when it has none."""
    # Only the articles placed in another article's story are joined: most articles start
    # their own (story id = article id), and leaving them out makes the join's table small.
    st = f"st_{alias}"
    return (
        f"coalesce({st}.story_id, {alias}.{id_column})",
        " LEFT JOIN (SELECT article_id, story_id FROM article_stories "
        f"WHERE story_id <> article_id) {st} ON {st}.article_id = {alias}.{id_column}",
    )


def counted(f: Filters, alias: str, id_column: str = "article_id") -> tuple[str, str]:
    """(aggregate, join) of what the view's counts count over rows of `{alias}`: `count(*)`,
    or with `f.stories` the distinct stories among them (`story_of`)."""
    if not f.stories:
        return "count(*)", ""
    story, join = story_of(alias, id_column)
    return f"count(DISTINCT {story})", join


def _table(con: duckdb.DuckDBPyConnection, sql: str, params: Params) -> Table:
    """A result as plain Python rows (no pandas: what the command line's queries use)."""
    cursor = con.execute(sql, params)
    columns = tuple(d[0] for d in cursor.description or [])
    return Table(columns, cursor.fetchall())


# -- overview --------------------------------------------------------------------------


def stats(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, Any]:
    """Counts in the view: articles, feeds that published, authors, tags, first and last time."""
    params: Params = []
    where = article_where(f, params)
    row = first(
        con.execute(
            f"SELECT count(*), min(a.published), max(a.published) FROM articles a WHERE {where}",
            params,
        )
    )
    assert row is not None
    counts = {}
    for key, table, column in (
        ("feeds", "article_feeds", "feed_id"),
        ("authors", "article_authors", "author"),
        ("tags", "article_tags", "key"),
    ):
        p: Params = []
        cond = child_where(f, p, "x")
        r = con.execute(f"SELECT count(DISTINCT x.{column}) FROM {table} x WHERE {cond}", p)
        one = first(r)
        counts[key] = int(one[0]) if one else 0
    total = first(con.execute("SELECT count(*) FROM feeds"))
    extra = {}
    if f.stories:  # the view's distinct stories, beside its articles
        sp: Params = []
        cond = article_where(f, sp)
        story, join = story_of("a", "id")
        one = first(
            con.execute(f"SELECT count(DISTINCT {story}) FROM articles a{join} WHERE {cond}", sp)
        )
        extra["stories"] = int(one[0]) if one else 0
    return {
        "articles": int(row[0]),
        "feeds": counts["feeds"],
        "feeds_total": int(total[0]) if total else 0,
        "authors": counts["authors"],
        "tags": counts["tags"],
        "first_published": row[1],
        "last_published": row[2],
        **extra,
    }


# -- publishing frequency --------------------------------------------------------------


def _slot(column: str) -> str:
    """The UTC quarter hour a time falls in. Counting per quarter hour first and converting
    only those to local time gives the same buckets as converting every row (every zone's
    offset and every DST change is a multiple of 15 minutes) at a fraction of the cost."""
    return f"(date_trunc('hour', {column}) + (minute({column}) // 15) * INTERVAL 15 MINUTE)"


def _slots(f: Filters, alias: str, where: str) -> tuple[str, str]:
    """(query, aggregate): the view's articles (`articles {alias}` where `where`) per UTC
    quarter hour, as (slot, n) rows, and what sums them per bucket: their count, or with
    `f.stories` each story once per slot (n is the story; a bucket counts distinct ones)."""
    slot = _slot(f"{alias}.published")
    if f.stories:
        story, join = story_of(alias, "id")
        query = f"SELECT DISTINCT {slot} AS slot, {story} AS n FROM articles {alias}{join}"
        return f"{query} WHERE {where}", "count(DISTINCT s.n)"
    query = f"SELECT {slot} AS slot, count(*) AS n FROM articles {alias} WHERE {where} GROUP BY 1"
    return query, "CAST(sum(s.n) AS BIGINT)"


def _local(column: str) -> str:
    return f"(({column}) AT TIME ZONE 'UTC') AT TIME ZONE ?"


def frequency(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    *,
    by: str,
    timezone: str = "UTC",
    split: str | None = None,
    top: int = 8,
) -> Table:
    """Articles per time bucket (in `timezone`), optionally split by feed, author or tag.

    Columns: bucket (naive local time of the bucket start), series, count. With a split, the
    `top` series by total keep their name (a tag its display form), the rest are summed as
    "other", and the articles without a feed, author or tag are their own series,
    `NO_SERIES[split]`, never folded into "other": every article in the view is counted.
    An article in two feeds (or with two authors, or two tags) counts once in each of its
    series, so the counts of a split sum to the article-series pairs, not the articles.
    """
    if by not in BUCKETS:
        raise ValueError(f"unknown bucket {by!r}; use one of {', '.join(BUCKETS)}")
    bucket = f"date_trunc('{by}', {_local('s.slot')})"
    params: Params = []
    if split is None:
        where = article_where(f, params, alias="x")
        params.append(timezone)
        slots, total = _slots(f, "x", where)
        sql = f"""
            WITH slots AS ({slots})
            SELECT {bucket} AS bucket, 'all' AS series, {total} AS count
            FROM slots s GROUP BY 1, 2 ORDER BY 1
        """
        return _table(con, sql, params)
    # With f.stories every row carries its story; each count is then of distinct stories.
    story, story_join = story_of("x") if f.stories else ("NULL", "")
    if split == "feed":
        source = (
            f"SELECT x.published, {story} AS story, "
            "coalesce(fd.name, nullif(fd.title, ''), fd.url) AS series "
            f"FROM article_feeds x JOIN feeds fd ON fd.id = x.feed_id{story_join}"
        )
        child = "article_feeds"
    elif split == "author":
        source = (
            f"SELECT x.published, {story} AS story, x.author AS series "
            f"FROM article_authors x{story_join}"
        )
        child = "article_authors"
    elif split == "tag":
        source = (
            f"SELECT x.published, {story} AS story, x.key AS series FROM article_tags x{story_join}"
        )
        child = "article_tags"
    else:
        raise ValueError(f"unknown split {split!r}; use feed, author or tag")
    if f.stories:
        rank_count, slot_count, total = (
            "count(DISTINCT story)",
            "r.story AS n",
            "count(DISTINCT s.n)",
        )
        unnamed_story, unnamed_join = story_of("a", "id")
        unnamed_count = f"{unnamed_story} AS n"
        group_named, group_unnamed = "1, 2, 3, 4, 5", "1, 5"
    else:
        rank_count, slot_count, total = "count(*)", "count(*) AS n", "CAST(sum(s.n) AS BIGINT)"
        unnamed_count, unnamed_join = "count(*) AS n", ""
        group_named, group_unnamed = "1, 2, 3, 4", "1"
    where = child_where(f, params, "x")
    params.extend([top, top])
    none_where = article_where(f, params, alias="a")
    params.extend([timezone, NO_SERIES[split], OTHER_SERIES])
    # Rank the named series, fold the rest into "other" (`folded`, so a folded row never
    # picks up a tag's display form), count per quarter hour, and only then convert to local
    # time: a few thousand conversions instead of one per row. The articles without a row in
    # the child table (`unnamed`) are counted apart and joined in as counted slots: inside
    # `rows` their anti-join would cost more than the rest of the query.
    if split == "tag":
        kept = f"SELECT series FROM ranked WHERE rank <= {int(top)}"
        name = "coalesce(fo.display, s.series)"
        forms = f"LEFT JOIN ({tag_forms(con, kept)}) fo ON fo.key = s.series"
    else:
        name, forms = "s.series", ""
    sql = f"""
        WITH rows AS ({source} WHERE {where}),
        ranked AS (
            SELECT series, row_number() OVER (ORDER BY {rank_count} DESC, series) AS rank
            FROM rows GROUP BY series
        ),
        named AS (
            SELECT {_slot("r.published")} AS slot, FALSE AS none, k.rank > ? AS folded,
                   CASE WHEN k.rank > ? THEN NULL ELSE r.series END AS series,
                   {slot_count}
            FROM rows r JOIN ranked k ON k.series = r.series
            GROUP BY {group_named}
        ),
        unnamed AS (
            SELECT {_slot("a.published")} AS slot, TRUE AS none, FALSE AS folded,
                   NULL AS series, {unnamed_count}
            FROM articles a{unnamed_join}
            WHERE {none_where}
              AND NOT EXISTS (SELECT 1 FROM {child} c WHERE c.article_id = a.id)
            GROUP BY {group_unnamed}
        ),
        slots AS (SELECT * FROM named UNION ALL SELECT * FROM unnamed)
        SELECT {bucket} AS bucket,
               CASE WHEN s.none THEN ? WHEN s.folded THEN ? ELSE {name} END AS series,
               {total} AS count
        FROM slots s {forms}
        GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2
    """
    return _table(con, sql, params)


# -- tags, terms, authors --------------------------------------------------------------


def tags(con: duckdb.DuckDBPyConnection, f: Filters, *, limit: int = 50) -> Table:
    """Tags by number of articles: key, tag (its display form, `tag_forms`), articles."""
    params: Params = []
    where = child_where(f, params, "x")
    params.append(limit)
    count, join = counted(f, "x")
    sql = f"""
        WITH top AS (
            SELECT x.key, {count} AS articles FROM article_tags x{join} WHERE {where}
            GROUP BY x.key ORDER BY articles DESC, x.key LIMIT ?
        )
        SELECT t.key, fo.display AS tag, t.articles
        FROM top t JOIN ({tag_forms(con, "SELECT key FROM top")}) fo ON fo.key = t.key
        ORDER BY t.articles DESC, t.key
    """
    return _table(con, sql, params)


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def term_rows(f: Filters, params: Params, *, rollup: bool = True) -> str:
    """A query of (term, n, articles) rows whose sums per term are the view's term counts.

    When only the time range and languages narrow the view, whole UTC days come from the
    `term_daily` rollup and only the partial days at either end from `article_terms`; any
    other filter (or `rollup=False`) reads `article_terms` for the whole window.
    """
    raw = "SELECT x.term, x.n, 1 AS articles FROM article_terms x WHERE "
    if not rollup or f.feeds or f.authors or f.tags or f.query:
        return raw + child_where(f, params, "x")
    since = utc_naive(f.since) if f.since is not None else None
    until = utc_naive(f.until) if f.until is not None else None
    first_day = None if since is None else _day_start(since)
    if first_day is not None and since is not None and first_day < since:
        first_day += timedelta(days=1)
    last_day = None if until is None else _day_start(until)
    if first_day is not None and last_day is not None and first_day >= last_day:
        return raw + child_where(f, params, "x")  # less than one whole day
    conditions: list[str] = []
    rollup_params: Params = []
    edges: list[str] = []
    edge_params: Params = []
    if first_day is not None:
        conditions.append("r.day >= ?")
        rollup_params.append(first_day.date())
        if since is not None and since < first_day:
            inner = replace(f, since=since, until=first_day)
            edges.append(raw + child_where(inner, edge_params, "x"))
    if last_day is not None:
        conditions.append("r.day < ?")
        rollup_params.append(last_day.date())
        if until is not None and last_day < until:
            inner = replace(f, since=last_day, until=until)
            edges.append(raw + child_where(inner, edge_params, "x"))
    if f.languages:
        conditions.append(_in_list("r.language", f.languages, rollup_params))
    where = " AND ".join(conditions) if conditions else "TRUE"
    params.extend(rollup_params)
    params.extend(edge_params)
    parts = [f"SELECT r.term, r.n, r.articles FROM term_daily r WHERE {where}", *edges]
    return " UNION ALL ".join(parts)


def _user_stop_keys(con: duckdb.DuckDBPyConnection, f: Filters) -> list[str]:
    """The term keys the user's stopwords hide in this view: each word and its lemma
    (`text.word_keys`), for the stopwords of every language ('*') and the view's."""
    rows = con.execute("SELECT language, word FROM stopwords WHERE NOT removed").fetchall()
    return user_stop_keys([(str(lang), str(word)) for lang, word in rows], f.languages)


def term_forms(keys: str) -> str:
    """SQL of (term, display): the display form of each term `keys` (a query of terms)
    yields, the form most article terms of the store use (`term_forms`), then code-point
    order. A term without one (stored before forms were) has no row: shown as its key."""
    return f"""
        SELECT term, display FROM (
            SELECT f.term, f.display, row_number() OVER (
                PARTITION BY f.term ORDER BY f.uses DESC, f.display) AS rank
            FROM term_forms f WHERE f.uses > 0 AND f.term IN ({keys})
        ) WHERE rank = 1
    """


def terms(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    *,
    limit: int = 100,
    rollup: bool = True,
) -> Table:
    """Terms by total count, without the user's extra stopwords (matched on the word and on
    its lemma): term (the key), count, articles, display (`term_forms`)."""
    params: Params = []
    rows = term_rows(f, params, rollup=rollup)
    stop = _user_stop_keys(con, f)
    hidden = ""
    if stop:
        hidden = "WHERE NOT list_contains(?::VARCHAR[], x.term)"
        params.append(stop)
    params.append(limit)
    sql = f"""
        WITH top AS (
            SELECT x.term, sum(x.n) AS count, sum(x.articles) AS articles
            FROM ({rows}) x
            {hidden}
            GROUP BY x.term
            HAVING sum(x.n) > 0
            ORDER BY count DESC, x.term
            LIMIT ?
        )
        SELECT t.term, t.count, t.articles, coalesce(fo.display, t.term) AS display
        FROM top t LEFT JOIN ({term_forms("SELECT term FROM top")}) fo ON fo.term = t.term
        ORDER BY t.count DESC, t.term
    """
    table = _table(con, sql, params)
    table.rows = [
        (term, int(n), int(articles), display) for term, n, articles, display in table.rows
    ]
    return table


def authors(
    con: duckdb.DuckDBPyConnection, f: Filters, *, limit: int | None = None, top_tags: int = 3
) -> Table:
    """Per author, busiest first: articles, feeds, first and last article, mean reading time,
    top tags (display forms). With `limit`, only that many authors; `attrs["total"]` holds
    how many there are, `attrs["unattributed"]` how many articles in the view have none.

    An author is stored once per article, and `article_authors` carries `published`, so the
    ranking is one group-by over that table; feeds, reading times and tags are then joined
    for the chosen authors only.
    """
    params: Params = []
    where = child_where(f, params, "x")
    cut = ""
    if limit is not None:
        cut = "LIMIT ?"
        params.append(limit)
    story, join = story_of("x") if f.stories else ("NULL", "")
    count = "count(DISTINCT r.story)" if f.stories else "count(*)"
    sql = f"""
        WITH rows AS (
            SELECT x.author, x.article_id, x.published, {story} AS story
            FROM article_authors x{join} WHERE {where}
        ),
        ranked AS (
            SELECT r.author, {count} AS articles, min(r.published) AS first_published,
                   max(r.published) AS last_published
            FROM rows r GROUP BY r.author ORDER BY articles DESC, r.author {cut}
        ),
        chosen AS (SELECT r.author, r.article_id FROM rows r
                   WHERE r.author IN (SELECT author FROM ranked)),
        fe AS (
            SELECT c.author, count(DISTINCT af.feed_id) AS feeds
            FROM chosen c JOIN article_feeds af ON af.article_id = c.article_id
            GROUP BY c.author
        ),
        reading AS (
            SELECT c.author, avg(a.reading_minutes) AS mean_reading_minutes
            FROM chosen c JOIN articles a ON a.id = c.article_id GROUP BY c.author
        )
        SELECT k.author, k.articles, coalesce(fe.feeds, 0) AS feeds, k.first_published,
               k.last_published, reading.mean_reading_minutes
        FROM ranked k LEFT JOIN fe ON fe.author = k.author
        LEFT JOIN reading ON reading.author = k.author
        ORDER BY k.articles DESC, k.author
    """
    table = _table(con, sql, params)
    if limit is None or len(table) < limit:
        table.attrs["total"] = len(table)
    else:
        total_params: Params = []
        total_where = child_where(f, total_params, "x")
        row = first(
            con.execute(
                f"SELECT count(DISTINCT x.author) FROM article_authors x WHERE {total_where}",
                total_params,
            )
        )
        table.attrs["total"] = int(row[0]) if row else len(table)
    none_params: Params = []
    none_where = article_where(f, none_params)
    none_count, none_join = counted(f, "a", "id")
    row = first(
        con.execute(
            f"SELECT {none_count} FROM articles a{none_join} WHERE {none_where} AND NOT EXISTS "
            "(SELECT 1 FROM article_authors c WHERE c.article_id = a.id)",
            none_params,
        )
    )
    # The view's articles without an author: in no row here, but counted by a split.
    table.attrs["unattributed"] = int(row[0]) if row else 0
    by_author: dict[str, list[str]] = {}
    if not table.empty:
        tag_params: Params = []
        tag_where = child_where(f, tag_params, "x")
        listed = _in_list("x.author", [str(a) for a in table["author"]], tag_params)
        # A tag row carries its article's `published`: the window skips the other row groups.
        tag_window = " AND ".join(_time_conditions("tg.published", f, tag_params)) or "TRUE"
        tag_sql = f"""
            WITH chosen AS (
                SELECT x.author, x.article_id FROM article_authors x
                WHERE {tag_where} AND {listed}
            ),
            counted AS (
                SELECT c.author, tg.key, count(*) AS n
                FROM chosen c JOIN article_tags tg ON tg.article_id = c.article_id
                WHERE {tag_window}
                GROUP BY c.author, tg.key
            ),
            ranked AS (
                SELECT author, key, n,
                       row_number() OVER (PARTITION BY author ORDER BY n DESC, key) AS rank
                FROM counted
            ),
            shown AS (SELECT * FROM ranked WHERE rank <= ?)
            SELECT s.author, fo.display FROM shown s
            JOIN ({tag_forms(con, "SELECT key FROM shown")}) fo ON fo.key = s.key
            ORDER BY s.author, s.rank
        """
        tag_params.append(top_tags)
        top = con.execute(tag_sql, tag_params).fetchall()
        for author, key in top:
            by_author.setdefault(str(author), []).append(str(key))
    table.columns = (*table.columns, "top_tags")
    table.rows = [(*row, by_author.get(str(row[0]), [])) for row in table.rows]
    return table


# -- feeds -----------------------------------------------------------------------------


def feeds(con: duckdb.DuckDBPyConnection) -> Table:
    """Every feed with its state and how many articles it has stored, in the order they were
    added (then by URL): the same on every engine, whatever ids it gave them."""
    sql = """
        SELECT fd.id, fd.url, fd.name, fd.title, fd.site_url, fd.language, fd.kind,
               fd.subscribed, fd.full_text, fd.added_at, fd.last_fetch_at, fd.last_status,
               fd.last_ok_at, fd.error_count, fd.last_error, fd.warning, fd.next_due_at,
               fd.disabled, fd.disabled_reason,
               count(af.article_id) AS articles, max(af.published) AS last_published
        FROM feeds fd LEFT JOIN article_feeds af ON af.feed_id = fd.id
        GROUP BY ALL
        ORDER BY fd.added_at, fd.url
    """
    return _table(con, sql, [])


def due_feeds(con: duckdb.DuckDBPyConnection, now: datetime, *, all_feeds: bool) -> list[FeedState]:
    """Subscribed, enabled web feeds whose next fetch is due (all of them with all_feeds).

    Typed records from plain rows: a missing validator is None, never NaN.
    """
    params: Params = []
    due = "TRUE"
    if not all_feeds:
        due = "(fd.next_due_at IS NULL OR fd.next_due_at <= ?)"
        params.append(utc_naive(now))
    sql = (
        "SELECT fd.id, fd.url, fd.etag, fd.last_modified, fd.body_hash, fd.error_count, "
        "fd.full_text, fd.restricted, fd.restricted OR coalesce(fd.pages_restricted, FALSE) "
        "FROM feeds fd WHERE fd.subscribed AND NOT fd.disabled "
        f"AND fd.kind = 'http' AND {due} ORDER BY fd.id"
    )
    return [
        FeedState(
            id=int(row[0]),
            url=str(row[1]),
            etag=_text(row[2]),
            last_modified=_text(row[3]),
            body_hash=_text(row[4]),
            error_count=int(row[5] or 0),
            full_text=bool(row[6]),
            restricted=bool(row[7]),
            pages_restricted=bool(row[8]),
        )
        for row in con.execute(sql, params).fetchall()
    ]


def subscriptions(con: duckdb.DuckDBPyConnection) -> list[Subscription]:
    """Subscribed feeds in the order they were added, as typed records (no DataFrame: a name
    missing beside one given became NaN, and the OPML writer failed on it)."""
    rows = con.execute(
        "SELECT url, name, title, site_url FROM feeds WHERE subscribed ORDER BY id"
    ).fetchall()
    return [
        Subscription(str(url), _text(name) or _text(title), _text(site))
        for url, name, title, site in rows
    ]


def _text(value: Any) -> str | None:
    """A stored text, or None when it is missing or empty (an empty validator is none)."""
    return value if isinstance(value, str) and value else None


def body_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Feed URL -> hash of the feed bytes last parsed (to skip unchanged documents)."""
    rows = con.execute("SELECT url, body_hash FROM feeds WHERE body_hash IS NOT NULL")
    return {str(u): str(h) for u, h in rows.fetchall()}


def entry_hashes(con: duckdb.DuckDBPyConnection, feed_id: int) -> dict[str, str]:
    """A feed's entries: entry key -> content hash of what the feed gave last time."""
    rows = con.execute(
        "SELECT entry_key, entry_hash FROM article_feeds WHERE feed_id = ?", [feed_id]
    )
    return {str(k): str(h) for k, h in rows.fetchall()}


def feed_state(con: duckdb.DuckDBPyConnection, url: str) -> dict[str, Any] | None:
    cursor = con.execute("SELECT * FROM feeds WHERE url = ?", [url])
    row = first(cursor)
    if row is None:
        return None
    names = [d[0] for d in cursor.description or []]
    return dict(zip(names, row, strict=True))


# -- export ----------------------------------------------------------------------------


def export_sql(f: Filters) -> tuple[str, Params]:
    """One row per article in the view, lists as SQL arrays, newest first."""
    params: Params = []
    where = article_where(f, params)
    sql = f"""
        SELECT a.id, a.url,
            (SELECT array_agg(fd.url ORDER BY fd.url) FROM article_feeds af
                JOIN feeds fd ON fd.id = af.feed_id WHERE af.article_id = a.id) AS feed_urls,
            a.title,
            coalesce((SELECT array_agg(au.author ORDER BY au.position) FROM article_authors au
                WHERE au.article_id = a.id), []) AS authors,
            a.published, a.date_source, a.language,
            coalesce((SELECT array_agg(tg.display ORDER BY tg.key) FROM article_tags tg
                WHERE tg.article_id = a.id), []) AS tags,
            a.word_count, a.reading_minutes, a.comments, a.text
        FROM articles a WHERE {where}
        ORDER BY a.published DESC, a.id
    """
    return sql, params


# -- dashboard aggregates ----------------------------------------------------------------


def tag_windows(con: duckdb.DuckDBPyConnection, f: Filters, before: Filters) -> Table:
    """Every tag of either view with its articles in each: key, tag (display form), current,
    previous (0 where the tag is absent), in one query (for comparing two windows)."""
    params: Params = []
    now_where = child_where(f, params, "x")
    then_where = child_where(before, params, "x")
    count, join = counted(f, "x")
    sql = f"""
        WITH now AS (
            SELECT x.key, {count} AS n FROM article_tags x{join} WHERE {now_where}
            GROUP BY x.key
        ),
        earlier AS (
            SELECT x.key, {count} AS n FROM article_tags x{join} WHERE {then_where}
            GROUP BY x.key
        ),
        both_windows AS (
            SELECT coalesce(n.key, e.key) AS key, coalesce(n.n, 0) AS current,
                   coalesce(e.n, 0) AS previous
            FROM now n FULL OUTER JOIN earlier e ON e.key = n.key
        )
        SELECT b.key, fo.display AS tag, b.current, b.previous
        FROM both_windows b
        JOIN ({tag_forms(con, "SELECT key FROM both_windows")}) fo ON fo.key = b.key
        ORDER BY b.key
    """
    return _table(con, sql, params)


def article_count(
    con: duckdb.DuckDBPyConnection, f: Filters, *, with_tag: str | None = None
) -> int:
    """Articles in the view; with `with_tag` (a key), only those that carry that tag too."""
    params: Params = []
    where = article_where(f, params)
    if with_tag is not None:
        where += " AND a.id IN (SELECT t.article_id FROM article_tags t WHERE t.key = ?)"
        params.append(with_tag)
    count, join = counted(f, "a", "id")
    row = first(con.execute(f"SELECT {count} FROM articles a{join} WHERE {where}", params))
    return int(row[0]) if row else 0


def cooccurring_tags(con: duckdb.DuckDBPyConnection, f: Filters, key: str, *, limit: int) -> Table:
    """Tags on the articles that carry `key`: key, tag (its display form), articles (with
    both)."""
    params: Params = []
    where = child_where(f, params, "x")
    params.extend([key, key, limit])
    story, join = story_of("x") if f.stories else ("x.article_id", "")
    sql = f"""
        WITH top AS (
            SELECT x.key, count(DISTINCT {story}) AS articles
            FROM article_tags x{join}
            WHERE {where}
              AND x.article_id IN (SELECT t.article_id FROM article_tags t WHERE t.key = ?)
              AND x.key <> ?
            GROUP BY x.key ORDER BY articles DESC, x.key LIMIT ?
        )
        SELECT t.key, fo.display AS tag, t.articles
        FROM top t JOIN ({tag_forms(con, "SELECT key FROM top")}) fo ON fo.key = t.key
        ORDER BY t.articles DESC, t.key
    """
    return _table(con, sql, params)


def heatmap(con: duckdb.DuckDBPyConnection, f: Filters, *, timezone: str) -> Table:
    """Articles per local weekday (0 = Monday) and hour."""
    params: Params = []
    where = article_where(f, params)
    params.extend([timezone, timezone])
    slots, total = _slots(f, "a", where)
    sql = f"""
        WITH slots AS ({slots})
        SELECT (isodow({_local("s.slot")}) - 1) AS weekday, hour({_local("s.slot")}) AS hour,
               {total} AS count
        FROM slots s GROUP BY 1, 2
    """
    return _table(con, sql, params)


def cadence(con: duckdb.DuckDBPyConnection, f: Filters) -> Table:
    """Per feed: articles in the view, the median gap between them, the first and last of
    them; and the feed's own state, whatever the view: its last article, its mean gap
    between articles over its whole history, last fetch, consecutive errors. Every feed is
    listed (a failing feed with nothing in the view is the point of the table), only the
    chosen ones when the view names feeds."""
    params: Params = []
    where = child_where(f, params, "x")
    chosen = "TRUE"
    if f.feeds:
        urls = _in_list("fd.url", f.feeds, params)
        names = _in_list("fd.name", f.feeds, params)
        titles = _in_list("fd.title", f.feeds, params)
        chosen = f"({urls} OR {names} OR {titles})"
    sql = f"""
        WITH rows AS (
            SELECT x.feed_id, x.published,
                   x.published - lag(x.published) OVER (
                       PARTITION BY x.feed_id ORDER BY x.published) AS gap
            FROM article_feeds x WHERE {where}
        ),
        whole AS (
            SELECT feed_id, max(published) AS last,
                   CASE WHEN count(*) > 1 THEN
                       epoch(max(published) - min(published)) / 3600.0 / (count(*) - 1)
                   END AS gap
            FROM article_feeds GROUP BY feed_id
        )
        SELECT fd.id AS feed_id, fd.url, coalesce(fd.name, nullif(fd.title, ''), fd.url) AS feed,
               count(r.published) AS articles,
               median(epoch(r.gap)) / 3600.0 AS median_gap_hours,
               min(r.published) AS first_in_view,
               max(r.published) AS last_in_view,
               fd.disabled, fd.disabled_reason, fd.error_count, fd.last_error, fd.kind,
               fd.subscribed, fd.last_ok_at, fd.last_fetch_at,
               any_value(w.last) AS last_published, any_value(w.gap) AS feed_gap_hours
        FROM feeds fd LEFT JOIN rows r ON r.feed_id = fd.id
        LEFT JOIN whole w ON w.feed_id = fd.id
        WHERE {chosen}
        GROUP BY ALL
        ORDER BY articles DESC, feed
    """
    return _table(con, sql, params)


def term_counts(con: duckdb.DuckDBPyConnection, f: Filters, *, limit: int) -> Table:
    """Top terms in the view with their counts and the view's total term count."""
    table = terms(con, f, limit=limit)
    params: Params = []
    rows = term_rows(f, params)
    row = first(con.execute(f"SELECT sum(x.n) FROM ({rows}) x", params))
    table.attrs["total"] = int(row[0]) if row and row[0] is not None else 0
    return table


ARTICLE_SORTS = {
    "published": "a.published",
    "title": "a.title",
    "reading_minutes": "a.reading_minutes",
}


def articles_page(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    *,
    sort: str,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[Table, int]:
    """One page of the view's articles with their feeds, authors and tags; and the total."""
    if sort not in ARTICLE_SORTS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(ARTICLE_SORTS)}")
    params: Params = []
    where = article_where(f, params)
    total = first(con.execute(f"SELECT count(*) FROM articles a WHERE {where}", params))
    order = f"{ARTICLE_SORTS[sort]} {'DESC' if descending else 'ASC'}, a.id"
    # The page's 50 rows first, then their feeds, authors and tags: correlated subqueries
    # were turned into aggregations over the whole child tables (seconds on 1M articles).
    sql = f"""
        WITH page AS (
            SELECT a.id, a.published, a.date_source, a.title, a.url, a.reading_minutes,
                   a.language
            FROM articles a WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?
        ),
        fe AS (
            SELECT af.article_id,
                   string_agg(coalesce(fd.name, nullif(fd.title, ''), fd.url), '; '
                              ORDER BY coalesce(fd.name, nullif(fd.title, ''), fd.url), fd.url)
                       AS feeds
            FROM article_feeds af JOIN feeds fd ON fd.id = af.feed_id
            WHERE af.article_id IN (SELECT id FROM page) GROUP BY af.article_id
        ),
        au AS (
            SELECT article_id, array_agg(author ORDER BY position) AS authors
            FROM article_authors WHERE article_id IN (SELECT id FROM page) GROUP BY article_id
        ),
        page_tags AS (
            SELECT article_id, key FROM article_tags WHERE article_id IN (SELECT id FROM page)
        ),
        tg AS (
            SELECT pt.article_id, array_agg(fo.display ORDER BY pt.key) AS tags
            FROM page_tags pt JOIN ({tag_forms(con, "SELECT key FROM page_tags")}) fo
                 ON fo.key = pt.key
            GROUP BY pt.article_id
        )
        SELECT p.id, p.published, p.date_source, p.title, p.url, fe.feeds,
               coalesce(au.authors, []) AS authors, coalesce(tg.tags, []) AS tags,
               p.reading_minutes, p.language
        FROM page p
        LEFT JOIN fe ON fe.article_id = p.id
        LEFT JOIN au ON au.article_id = p.id
        LEFT JOIN tg ON tg.article_id = p.id
        ORDER BY {order.replace("a.", "p.")}
    """
    table = _table(con, sql, [*params, limit, offset])
    return table, int(total[0]) if total else 0


def options(con: duckdb.DuckDBPyConnection, *, limit: int) -> dict[str, list[str]]:
    """Values for filter pickers, busiest first: feeds, authors, tags, languages."""
    feeds_rows = con.execute(
        "SELECT coalesce(fd.name, nullif(fd.title, ''), fd.url) AS label, count(af.article_id) n "
        "FROM feeds fd LEFT JOIN article_feeds af ON af.feed_id = fd.id "
        "GROUP BY ALL ORDER BY n DESC, label LIMIT ?",
        [limit],
    ).fetchall()
    author_rows = con.execute(
        "SELECT author, count(*) n FROM article_authors GROUP BY author "
        "ORDER BY n DESC, author LIMIT ?",
        [limit],
    ).fetchall()
    # Tags by their display form: the choice the sidebar shows is the form every chart shows
    # (`tag_match` finds a tag by any form, so the choice works as a filter value).
    tag_rows = con.execute(
        f"""
        WITH top AS (
            SELECT key, count(*) AS n FROM article_tags GROUP BY key
            ORDER BY n DESC, key LIMIT ?
        )
        SELECT fo.display, t.n FROM top t
        JOIN ({tag_forms(con, "SELECT key FROM top")}) fo ON fo.key = t.key
        ORDER BY t.n DESC, t.key
        """,
        [limit],
    ).fetchall()
    language_rows = con.execute(
        "SELECT language, count(*) n FROM articles WHERE language IS NOT NULL "
        "GROUP BY language ORDER BY n DESC, language"
    ).fetchall()
    return {
        "feeds": [str(r[0]) for r in feeds_rows],
        "authors": [str(r[0]) for r in author_rows],
        "tags": [str(r[0]) for r in tag_rows],
        "languages": [str(r[0]) for r in language_rows],
    }


def user_stopwords(con: duckdb.DuckDBPyConnection) -> Table:
    return _table(
        con, "SELECT language, word FROM stopwords WHERE NOT removed ORDER BY language, word", []
    )


def export_parquet(con: duckdb.DuckDBPyConnection, f: Filters, target: str) -> None:
    """Write the view's export rows to a Parquet file (DuckDB writes it, streaming)."""
    sql, params = export_sql(f)
    quoted = "'" + target.replace("'", "''") + "'"
    con.execute(f"COPY ({sql}) TO {quoted} (FORMAT parquet)", params).fetchall()


def tag_displays(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> dict[str, str]:
    """The display form (`tag_forms`) of each of these tag keys that the store holds."""
    if not keys:
        return {}
    params: Params = []
    listed = ", ".join("(?)" for _ in keys)
    params.extend(keys)
    sql = f"SELECT key, display FROM ({tag_forms(con, f'SELECT * FROM (VALUES {listed})')})"
    return {str(k): str(d) for k, d in con.execute(sql, params).fetchall()}


# -- keyness and topics --------------------------------------------------------------------


def term_background(
    con: duckdb.DuckDBPyConnection, terms: Sequence[str], *, languages: Sequence[str] = ()
) -> Table:
    """Each term's all-time count in `languages` (all when empty) from `term_daily`, and the
    background's size in `attrs["total"]`: two aggregates over the rollup, no article rows."""
    params: Params = []
    lang = _in_list("r.language", languages, params) if languages else "TRUE"
    total = first(con.execute(f"SELECT sum(r.n) FROM term_daily r WHERE {lang}", params))
    table = Table(("term", "count"), [])
    table.attrs["total"] = int(total[0]) if total and total[0] is not None else 0
    if not terms:
        return table
    params.append(list(terms))
    sql = f"""
        SELECT r.term, sum(r.n) AS count FROM term_daily r
        WHERE {lang} AND r.term IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY r.term HAVING sum(r.n) > 0 ORDER BY r.term
    """
    table.rows = [(term, int(n)) for term, n in con.execute(sql, params).fetchall()]
    return table


def language_counts(con: duckdb.DuckDBPyConnection, f: Filters) -> Table:
    """The view's articles per language ('' unknown), busiest first."""
    params: Params = []
    where = article_where(f, params)
    sql = f"""
        SELECT coalesce(a.language, '') AS language, count(*) AS articles
        FROM articles a WHERE {where} GROUP BY 1 ORDER BY articles DESC, language
    """
    table = _table(con, sql, params)
    table.rows = [(lang, int(n)) for lang, n in table.rows]
    return table


def term_vectors(
    con: duckdb.DuckDBPyConnection, f: Filters, terms: Sequence[str], *, sample: int
) -> TermVectors:
    """The view's first `sample` articles by id and their counts of `terms` (see
    `base.TermVectors`): the database picks the sample and the rows; Python gets
    at most `sample` x len(terms) small rows."""
    params: Params = []
    where = article_where(f, params)
    total = first(con.execute(f"SELECT count(*) FROM articles a WHERE {where}", params))
    params.append(int(sample))
    chosen = f"SELECT a.id FROM articles a WHERE {where} ORDER BY a.id LIMIT ?"
    articles = _table(
        con,
        f"""SELECT a.id, a.published, coalesce(a.language, '') AS language, a.title, a.url
            FROM articles a WHERE a.id IN ({chosen}) ORDER BY a.id""",
        list(params),
    )
    counts = Table(("article_id", "term", "n"), [])
    if terms and articles.rows:
        time_params: Params = []
        window = " AND ".join(_time_conditions("x.published", f, time_params)) or "TRUE"
        sql = f"""
            SELECT x.article_id, x.term, x.n FROM article_terms x
            WHERE {window} AND x.article_id IN ({chosen})
              AND x.term IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY x.article_id, x.term
        """
        rows = con.execute(sql, [*time_params, *params, list(terms)]).fetchall()
        counts.rows = [(aid, term, int(n)) for aid, term, n in rows]
    return TermVectors(articles, counts, int(total[0]) if total else 0)


# -- stories ---------------------------------------------------------------------------


_FEED_NAME = "coalesce(fd.name, nullif(fd.title, ''), fd.url)"


# The story id of an article (one not placed yet is a story of its own), `story_of`. (A
# read-only store is at least READABLE_FROM, after the story tables came.)


def _story_view(where: str) -> str:
    """The view's articles with their story (an article not placed yet is its own story)
    and each feed that carries them: one row per article and feed."""
    story, join = story_of("a", "id")
    return f"""
        v AS (
            SELECT a.id, a.title, a.published, a.url, a.language, {story} AS story_id
            FROM articles a{join}
            WHERE {where}
        ),
        vf AS (
            SELECT v.story_id, v.id, v.title, v.published, v.url, v.language, af.feed_id,
                   af.first_seen,
                   {_FEED_NAME} AS feed
            FROM v JOIN article_feeds af ON af.article_id = v.id
            JOIN feeds fd ON fd.id = af.feed_id
        )"""


def stories(con: duckdb.DuckDBPyConnection, f: Filters, *, limit: int) -> Table:
    """The view's most covered stories: most outlets (distinct feeds), then most articles,
    then earliest. Title, first feed and first time are the story's first article in the
    view (then the feed that carried it first). Counted over narrow columns first; titles
    and feed names are read for the `limit` stories shown (half the time at 100k articles)."""
    params: Params = []
    where = article_where(f, params)
    story, join = story_of("a", "id")
    sql = f"""
        WITH v AS (
            SELECT a.id, a.published, {story} AS story_id
            FROM articles a{join}
            WHERE {where}
        ),
        per AS (
            SELECT v.story_id, count(DISTINCT v.id) AS articles,
                   count(DISTINCT af.feed_id) AS outlets,
                   min(v.published) AS first_published, max(v.published) AS last_published,
                   arg_min(v.id, (v.published, v.id)) AS first_id
            FROM v JOIN article_feeds af ON af.article_id = v.id
            GROUP BY v.story_id
            ORDER BY outlets DESC, articles DESC, first_published, story_id
            LIMIT ?
        )
        SELECT per.story_id, a.title, per.outlets, per.articles,
               (SELECT arg_min({_FEED_NAME}, (af.first_seen, {_FEED_NAME}))
                FROM article_feeds af JOIN feeds fd ON fd.id = af.feed_id
                WHERE af.article_id = per.first_id) AS first_feed,
               per.first_published, per.last_published
        FROM per JOIN articles a ON a.id = per.first_id
        ORDER BY per.outlets DESC, per.articles DESC, per.first_published, per.story_id
    """
    return Table(STORIES_COLUMNS, con.execute(sql, [*params, limit]).fetchall())


def story_articles(con: duckdb.DuckDBPyConnection, f: Filters, story_id: str) -> Table:
    """One story's articles in the view, oldest first, one row per article and feed."""
    params: Params = []
    where = article_where(f, params)
    sql = f"""
        WITH {_story_view(where)}
        SELECT id, published, title, url, feed, language FROM vf
        WHERE story_id = ? ORDER BY published, first_seen, id, feed
    """
    return Table(STORY_ARTICLE_COLUMNS, con.execute(sql, [*params, story_id]).fetchall())


def story_sources(
    con: duckdb.DuckDBPyConnection, after: tuple[datetime, str] | None, size: int
) -> Table:
    """Stored articles in (published, id) order after `after`: what a rebuild places. The
    page's keys first (two narrow columns), then its rows by time range and id: a LIMIT over
    the text column sorted the whole table for every page."""
    params: list[Any] = []
    where = "TRUE"
    if after is not None:
        where = "(published > ? OR (published = ? AND id > ?))"
        params = [after[0], after[0], after[1]]
    keys = con.execute(
        f"SELECT id, published FROM articles WHERE {where} ORDER BY published, id LIMIT ?",
        [*params, size],
    ).fetchall()
    columns = ("id", "title", "text", "language", "published")
    if not keys:
        return Table(columns, [])
    import pyarrow as pa

    ids = pa.table({"id": pa.array([k[0] for k in keys], pa.string())})
    con.register("_page", ids)
    try:
        rows = con.execute(
            "SELECT id, title, text, language, published FROM articles "
            "WHERE published BETWEEN ? AND ? AND id IN (SELECT id FROM _page)",
            [keys[0][1], keys[-1][1]],
        ).fetchall()
    finally:
        con.unregister("_page")
    rows.sort(key=lambda r: (r[4], r[0]))
    return Table(columns, rows)


# -- the term rebuild ---------------------------------------------------------------------


def _after(after: tuple[datetime, str] | None, params: Params) -> str:
    if after is None:
        return "TRUE"
    # `published >= ?` alone prunes row groups by their min/max (the OR cannot).
    params.extend([after[0], after[0], after[1]])
    return "published >= ? AND (published > ? OR id > ?)"


def terms_rebuild(con: duckdb.DuckDBPyConnection) -> TermsRebuild | None:
    row = first(con.execute("SELECT value FROM meta WHERE key = 'terms_rebuild'"))
    if row is None:
        return None
    after = parse_rebuild_mark(str(row[0]))
    total = first(con.execute("SELECT count(*) FROM articles"))
    params: Params = []
    remaining = first(
        con.execute(f"SELECT count(*) FROM articles WHERE {_after(after, params)}", params)
    )
    total_n = int(total[0]) if total else 0
    left = int(remaining[0]) if remaining else 0
    return TermsRebuild(after=after, done=total_n - left, total=total_n)


def article_texts(
    con: duckdb.DuckDBPyConnection, after: tuple[datetime, str] | None, limit: int
) -> list[ArticleText]:
    """Up to `limit` articles after `after` in (published, id) order. The batch's last key is
    found on two narrow columns first, so the texts are read for the batch's rows only."""
    params: Params = []
    where = _after(after, params)
    last = first(
        con.execute(
            f"SELECT published, id FROM articles WHERE {where} ORDER BY published, id "
            "LIMIT 1 OFFSET ?",
            [*params, max(0, limit - 1)],
        )
    )
    if last is not None:
        where += " AND published <= ? AND (published < ? OR id <= ?)"
        params.extend([last[0], last[0], last[1]])
    rows = con.execute(
        f"SELECT id, published, title, text, language FROM articles WHERE {where} "
        "ORDER BY published, id",
        params,
    ).fetchall()
    return [ArticleText(str(i), p, str(t), str(x), lang) for i, p, t, x, lang in rows]
