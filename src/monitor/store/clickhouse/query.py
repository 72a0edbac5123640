"""Reads: every aggregate the CLI and the dashboard show, computed inside ClickHouse.

The DuckDB engine's `query` module is the specification (same columns, values, order and
tie-breaks); its docstrings explain each query. Every read runs with the `final` setting, so
each table shows the newest version of every row and no tombstones (see `schema`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from monitor.models import FeedState, Filters, Subscription, Table
from monitor.store.base import (
    ARTICLE_SORTS,
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
from monitor.store.clickhouse.sql import (
    UTC_TIME,
    Params,
    article_where,
    child_where,
    feed_match,
    time_conditions,
    utc_naive,
)
from monitor.store.entries import COPY_COLUMNS, parse_rebuild_mark
from monitor.text import user_stop_keys

# (sql, params) -> (column names, rows)
Run = Callable[[str, Params], tuple[tuple[str, ...], list[tuple[Any, ...]]]]

LABEL = "coalesce(fd.name, nullIf(fd.title, ''), fd.url)"


def _table(run: Run, sql: str, p: Params, columns: tuple[str, ...]) -> Table:
    """Rows with these column names (an empty result from chDB carries no names)."""
    got, rows = run(sql, p)
    if rows and got != columns:
        raise AssertionError(f"columns {got} instead of {columns}")
    return Table(columns, [tuple(_clean(v) for v in row) for row in rows])


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _one(run: Run, sql: str, p: Params) -> tuple[Any, ...]:
    _, rows = run(sql, p)
    return rows[0]


def tag_forms(keys: str) -> str:
    """(key, display): the one display form of each key `keys` yields, chosen over the
    whole store: a form with capitals first, then the most used, then code-point order.
    The uses of each form come from the `tag_displays` rollup (see `schema`)."""
    return f"""
        SELECT key, argMin(display, (display = lowerUTF8(display), -uses, display)) AS display
        FROM (SELECT t.key AS key, t.display AS display, sum(t.uses) AS uses
              FROM tag_displays t WHERE t.key IN ({keys}) GROUP BY t.key, t.display
              HAVING uses > 0)
        GROUP BY key"""


def _story(alias: str, column: str = "article_id") -> str:
    """The story of the article of an `alias` row joined by `_story_join`: its
    `article_stories` story, or (not placed yet) the article's own id."""
    return f"coalesce(sj.story_id, {alias}.{column})"


def _story_join(f: Filters, p: Params, alias: str, column: str = "article_id") -> str:
    """A LEFT JOIN (as `sj`) of each `alias` row to its article's story row, for `_story`
    (the article's id is `{alias}.{column}`). Only the view's articles' story rows are read,
    by id (a story row's `published` is its article's when it was placed, so not by time)."""
    # Only the articles placed in another article's story: most start their own (story id =
    # article id), and leaving them out makes the join's table small.
    where = article_where(f, p)
    narrowed = (
        ""
        if where == "true"
        else f" AND st.article_id IN (SELECT a.id FROM articles a WHERE {where})"
    )
    return (
        " LEFT JOIN (SELECT st.article_id AS article_id, st.story_id AS story_id "
        f"FROM article_stories st WHERE st.story_id != st.article_id{narrowed}) sj "
        f"ON sj.article_id = {alias}.{column}"
    )


def _counted(f: Filters, p: Params, alias: str, column: str = "article_id") -> tuple[str, str]:
    """(aggregate, join) of what the view's counts count over rows of `alias`: `count()`
    (one row per article), or with `f.stories` the distinct stories among them."""
    if not f.stories:
        return "count()", ""
    return f"uniqExact({_story(alias, column)})", _story_join(f, p, alias, column)


def stats(run: Run, f: Filters) -> dict[str, Any]:
    """One round trip: ClickHouse builds the view's set of articles once for the three
    IN subqueries that are the same."""
    p = Params()
    counts = []
    for table, column in (
        ("article_feeds", "feed_id"),
        ("article_authors", "author"),
        ("article_tags", "key"),
    ):
        counts.append(
            f"(SELECT uniqExact(x.{column}) FROM {table} x WHERE {child_where(f, p, 'x')})"
        )
    stories = ""
    if f.stories:  # the view's distinct stories, last
        story_where = article_where(f, p)
        stories = (
            f", (SELECT uniqExact({_story('a', 'id')}) FROM articles a"
            f"{_story_join(f, p, 'a', 'id')} WHERE {story_where})"
        )
    row = _one(
        run,
        "SELECT count(), minOrNull(a.published), maxOrNull(a.published), "
        f"{', '.join(counts)}, (SELECT count() FROM feeds){stories} "
        f"FROM articles a WHERE {article_where(f, p)}",
        p,
    )
    out = {
        "articles": int(row[0]),
        "feeds": int(row[3]),
        "feeds_total": int(row[6]),
        "authors": int(row[4]),
        "tags": int(row[5]),
        "first_published": row[1],
        "last_published": row[2],
    }
    if f.stories:
        out["stories"] = int(row[7])
    return out


def article_count(run: Run, f: Filters, *, with_tag: str | None = None) -> int:
    p = Params()
    where = article_where(f, p)
    if with_tag is not None:
        where += (
            " AND a.aid IN (SELECT t.aid FROM article_tags t "
            f"WHERE t.key = {p.add(with_tag, 'String')})"
        )
    if f.stories:
        join = _story_join(f, p, "a", "id")
        sql = f"SELECT uniqExact({_story('a', 'id')}) FROM articles a{join} WHERE {where}"
        return int(_one(run, sql, p)[0])
    return int(_one(run, f"SELECT count() FROM articles a WHERE {where}", p)[0])


def _window(alias: str, f: Filters, p: Params) -> str:
    """The view's time range on a per-article table (each row carries its article's
    `published`, the first column of its sorting key)."""
    return " AND ".join(time_conditions(f"{alias}.published", f, p)) or "true"


def _slot(column: str) -> str:
    """The UTC quarter hour (see the DuckDB engine: every zone's offset is a multiple)."""
    return f"toStartOfFifteenMinutes({column})"


def _local(column: str, zone: str) -> str:
    return f"toTimeZone(toDateTime({column}, 'UTC'), {zone})"


def _bucket(by: str, column: str, zone: str) -> str:
    """The naive local start of the bucket (Monday weeks, as DuckDB's date_trunc)."""
    local = _local(column, zone)
    start = {
        "hour": f"toStartOfHour({local})",
        "day": f"toStartOfDay({local})",
        "week": f"toMonday({local})",
        "month": f"toStartOfMonth({local})",
    }[by]
    return f"toDateTime64(toString({start}), 0, 'UTC')"


def frequency(
    run: Run, f: Filters, *, by: str, timezone: str = "UTC", split: str | None = None, top: int = 8
) -> Table:
    if by not in BUCKETS:
        raise ValueError(f"unknown bucket {by!r}; use one of {', '.join(BUCKETS)}")
    p = Params()
    if split is None:
        where = article_where(f, p, alias="x")
        if f.stories:
            # A story counts once in each bucket it has an article in: its (slot, story)
            # pairs first, then the distinct stories of each bucket's slots.
            join = _story_join(f, p, "x", "id")
            zone = p.add(timezone, "String")
            sql = f"""
                SELECT {_bucket(by, "s.slot", zone)} AS bucket, 'all' AS series,
                       toInt64(uniqExact(s.story)) AS count
                FROM (SELECT {_slot("x.published")} AS slot, {_story("x", "id")} AS story
                      FROM articles x{join} WHERE {where} GROUP BY slot, story) s
                GROUP BY bucket ORDER BY bucket"""
            return _table(run, sql, p, ("bucket", "series", "count"))
        zone = p.add(timezone, "String")
        sql = f"""
            SELECT {_bucket(by, "s.slot", zone)} AS bucket, 'all' AS series,
                   toInt64(sum(s.n)) AS count
            FROM (SELECT {_slot("x.published")} AS slot, count() AS n
                  FROM articles x WHERE {where} GROUP BY slot) s
            GROUP BY bucket ORDER BY bucket"""
        return _table(run, sql, p, ("bucket", "series", "count"))
    # With f.stories every row carries its article's story, and each count is of distinct
    # stories: the slots are counted per (slot, series, story), then uniqExact per bucket.
    story, story_join = (_story("x"), _story_join(f, p, "x")) if f.stories else ("", "")
    carried = f", {story} AS story" if f.stories else ""
    if split == "feed":
        source = (
            f"SELECT x.published AS published, {LABEL} AS series{carried} "
            f"FROM article_feeds x JOIN feeds fd ON fd.id = x.feed_id{story_join}"
        )
        child = "article_feeds"
    elif split == "author":
        source = (
            f"SELECT x.published AS published, x.author AS series{carried} "
            f"FROM article_authors x{story_join}"
        )
        child = "article_authors"
    elif split == "tag":
        source = (
            f"SELECT x.published AS published, x.key AS series{carried} "
            f"FROM article_tags x{story_join}"
        )
        child = "article_tags"
    else:
        raise ValueError(f"unknown split {split!r}; use feed, author or tag")
    if f.stories:
        rank_count, total = "uniqExact(story)", "toInt64(uniqExact(s.story))"
        named, unnamed, by_story = (
            ", r.story AS story",
            f", {_story('a', 'id')} AS story",
            ", story",
        )
        none_join = _story_join(f, p, "a", "id")
    else:
        rank_count, total = "count()", "toInt64(sum(s.n))"
        named = unnamed = ", count() AS n"
        by_story = none_join = ""
    where = child_where(f, p, "x")
    none_where = article_where(f, p, alias="a")
    zone = p.add(timezone, "String")
    n_top = int(top)
    if split == "tag":
        name = "coalesce(fo.display, s.series)"
        kept = f"SELECT series FROM ranked WHERE rank <= {n_top}"
        forms = f"LEFT JOIN ({tag_forms(kept)}) fo ON fo.key = s.series"
    else:
        name, forms = "s.series", ""
    no_series = p.add(NO_SERIES[split], "String")
    other = p.add(OTHER_SERIES, "String")
    sql = f"""
        WITH rows AS ({source} WHERE {where}),
        ranked AS MATERIALIZED (
            SELECT series, row_number() OVER (ORDER BY {rank_count} DESC, series) AS rank
            FROM rows GROUP BY series
        )
        SELECT {_bucket(by, "s.slot", zone)} AS bucket,
               multiIf(s.is_none = 1, {no_series}, s.folded = 1, {other}, {name}) AS label,
               {total} AS count
        FROM (
            SELECT {_slot("r.published")} AS slot, toUInt8(0) AS is_none,
                   toUInt8(k.rank > {n_top}) AS folded,
                   CAST(if(k.rank > {n_top}, NULL, r.series) AS Nullable(String)) AS series{named}
            FROM rows r JOIN ranked k ON k.series = r.series
            GROUP BY slot, is_none, folded, series{by_story}
            UNION ALL
            SELECT {_slot("a.published")} AS slot, toUInt8(1) AS is_none, toUInt8(0) AS folded,
                   CAST(NULL AS Nullable(String)) AS series{unnamed}
            FROM articles a{none_join}
            WHERE {none_where}
              AND a.aid NOT IN (SELECT c.aid FROM {child} c WHERE {_window("c", f, p)})
            GROUP BY slot{by_story}
        ) s {forms}
        GROUP BY bucket, label ORDER BY bucket, count DESC, label"""
    table = _table(run, sql, p, ("bucket", "label", "count"))
    table.columns = ("bucket", "series", "count")
    return table


def tags(run: Run, f: Filters, *, limit: int = 50) -> Table:
    p = Params()
    count, join = _counted(f, p, "x")
    where = child_where(f, p, "x")
    sql = f"""
        WITH top AS MATERIALIZED (
            SELECT x.key AS key, {count} AS n FROM article_tags x{join} WHERE {where}
            GROUP BY x.key ORDER BY n DESC, x.key LIMIT {int(limit)}
        )
        SELECT t.key AS key, fo.display AS tag, t.n AS articles
        FROM top t JOIN ({tag_forms("SELECT key FROM top")}) fo ON fo.key = t.key
        ORDER BY articles DESC, key"""
    return _table(run, sql, p, ("key", "tag", "articles"))


def tag_windows(run: Run, f: Filters, before: Filters) -> Table:
    p = Params()
    if f.stories:
        # Each window's rows with their stories, counted apart per key.
        now_join, then_join = _story_join(f, p, "x"), _story_join(before, p, "x")
        story = f", {_story('x')} AS story"
        counts = (
            "toInt64(uniqExactIf(story, c = 1)) AS current, "
            "toInt64(uniqExactIf(story, e = 1)) AS previous"
        )
    else:
        now_join = then_join = story = ""
        counts = "toInt64(sum(c)) AS current, toInt64(sum(e)) AS previous"
    now_where = child_where(f, p, "x")
    then_where = child_where(before, p, "x")
    sql = f"""
        WITH both_windows AS MATERIALIZED (
            SELECT key, {counts} FROM (
                SELECT x.key AS key, 1 AS c, 0 AS e{story}
                FROM article_tags x{now_join} WHERE {now_where}
                UNION ALL
                SELECT x.key AS key, 0 AS c, 1 AS e{story}
                FROM article_tags x{then_join} WHERE {then_where}
            ) GROUP BY key
        )
        SELECT b.key AS key, fo.display AS tag, b.current AS current, b.previous AS previous
        FROM both_windows b
        JOIN ({tag_forms("SELECT key FROM both_windows")}) fo ON fo.key = b.key
        ORDER BY key"""
    return _table(run, sql, p, ("key", "tag", "current", "previous"))


def cooccurring_tags(run: Run, f: Filters, key: str, *, limit: int) -> Table:
    """(One row per article and key after FINAL, so count() counts articles; the articles
    with the key are looked for in the view's time range only.)"""
    p = Params()
    count, join = _counted(f, p, "x")
    where = child_where(f, p, "x")
    k = p.add(key, "String")
    sql = f"""
        WITH top AS MATERIALIZED (
            SELECT x.key AS key, toUInt64({count}) AS n FROM article_tags x{join}
            WHERE {where}
              AND x.aid IN (SELECT t.aid FROM article_tags t
                            WHERE {_window("t", f, p)} AND t.key = {k})
              AND x.key <> {k}
            GROUP BY x.key ORDER BY n DESC, x.key LIMIT {int(limit)}
        )
        SELECT t.key AS key, fo.display AS tag, t.n AS articles
        FROM top t JOIN ({tag_forms("SELECT key FROM top")}) fo ON fo.key = t.key
        ORDER BY articles DESC, key"""
    return _table(run, sql, p, ("key", "tag", "articles"))


def tag_displays(run: Run, keys: Sequence[str]) -> dict[str, str]:
    if not keys:
        return {}
    p = Params()
    listed = p.texts(list(keys))
    _, rows = run(f"SELECT key, display FROM ({tag_forms(f'SELECT arrayJoin({listed})')})", p)
    return {str(k): str(d) for k, d in rows}


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def term_rows(f: Filters, p: Params, *, rollup: bool = True) -> str:
    """(term, n, articles) rows whose sums per term are the view's term counts: whole UTC
    days from the `term_daily` rollup when only time and languages narrow the view, the
    partial days at either end (or everything, otherwise) from `article_terms`."""

    def raw(view: Filters) -> str:
        return (
            "SELECT x.term AS term, toInt64(x.n) AS n, toInt64(1) AS articles "
            f"FROM article_terms x WHERE {child_where(view, p, 'x')}"
        )

    if not rollup or f.feeds or f.authors or f.tags or f.query:
        return raw(f)
    since = utc_naive(f.since) if f.since is not None else None
    until = utc_naive(f.until) if f.until is not None else None
    first_day = None if since is None else _day_start(since)
    if first_day is not None and since is not None and first_day < since:
        first_day += timedelta(days=1)
    last_day = None if until is None else _day_start(until)
    if first_day is not None and last_day is not None and first_day >= last_day:
        return raw(f)
    conditions: list[str] = []
    edges: list[str] = []
    if first_day is not None:
        conditions.append(f"r.day >= {p.add(first_day.date(), 'Date')}")
        if since is not None and since < first_day:
            edges.append(raw(replace(f, since=since, until=first_day)))
    if last_day is not None:
        conditions.append(f"r.day < {p.add(last_day.date(), 'Date')}")
        if until is not None and last_day < until:
            edges.append(raw(replace(f, since=last_day, until=until)))
    if f.languages:
        conditions.append(f"r.language IN {p.texts(f.languages)}")
    where = " AND ".join(conditions) if conditions else "true"
    parts = [
        f"SELECT r.term AS term, r.n AS n, r.articles AS articles FROM term_daily r WHERE {where}",
        *edges,
    ]
    return " UNION ALL ".join(parts)


def term_forms(keys: str) -> str:
    """(term, display): the display form of each term `keys` yields, the form most article
    terms of the store use (the `term_forms` rollup), then code-point order. A term without
    one (stored before forms were) has no row: shown as its key."""
    return f"""
        SELECT term, argMin(display, (-uses, display)) AS display
        FROM (SELECT f.term AS term, f.display AS display, sum(f.uses) AS uses
              FROM term_forms f WHERE f.term IN ({keys}) GROUP BY f.term, f.display
              HAVING uses > 0)
        GROUP BY term"""


def terms(run: Run, f: Filters, *, limit: int = 100, rollup: bool = True) -> Table:
    """Terms by total count, without the user's extra stopwords (matched on the word and on
    its lemma): term (the key), count, articles, display (`term_forms`)."""
    p = Params()
    rows = term_rows(f, p, rollup=rollup)
    _, words = run("SELECT language, word FROM stopwords WHERE NOT removed", Params())
    stop = user_stop_keys([(str(lang), str(word)) for lang, word in words], f.languages)
    hidden = f"WHERE NOT has({p.add(stop, 'Array(String)')}, x.term)" if stop else ""
    sql = f"""
        WITH top AS (
            SELECT x.term AS term, sum(x.n) AS count, sum(x.articles) AS articles
            FROM ({rows}) x
            {hidden}
            GROUP BY x.term
            HAVING sum(x.n) > 0
            ORDER BY count DESC, term
            LIMIT {int(limit)}
        )
        SELECT t.term AS term, t.count AS count, t.articles AS articles,
               coalesce(nullIf(fo.display, ''), t.term) AS display
        FROM top t LEFT JOIN ({term_forms("SELECT term FROM top")}) fo ON fo.term = t.term
        ORDER BY count DESC, term"""
    table = _table(run, sql, p, ("term", "count", "articles", "display"))
    table.rows = [
        (term, int(n), int(articles), display) for term, n, articles, display in table.rows
    ]
    return table


def term_counts(run: Run, f: Filters, *, limit: int) -> Table:
    table = terms(run, f, limit=limit)
    p = Params()
    rows = term_rows(f, p)
    row = _one(run, f"SELECT sum(x.n) FROM ({rows}) x", p)
    table.attrs["total"] = int(row[0]) if row[0] is not None else 0
    return table


def authors(run: Run, f: Filters, *, limit: int | None = None, top_tags: int = 3) -> Table:
    p = Params()
    where = child_where(f, p, "x")
    cut = "" if limit is None else f"LIMIT {int(limit)}"
    # An article's feed links and its row carry its `published`: the joins read the view's
    # time range only (the sorting key), and join on the integer `aid`.
    link_window = _window("af", f, p)
    article_window = _window("a", f, p)
    if f.stories:
        story, join, count = (
            f", {_story('x')} AS story",
            _story_join(f, p, "x"),
            "uniqExact(r.story)",
        )
    else:
        story, join, count = "", "", "count()"
    sql = f"""
        WITH rows AS MATERIALIZED (
            SELECT x.author AS author, x.aid AS aid, x.published AS published{story}
            FROM article_authors x{join} WHERE {where}
        ),
        ranked AS MATERIALIZED (
            SELECT r.author AS author, {count} AS articles, min(r.published) AS first_published,
                   max(r.published) AS last_published
            FROM rows r GROUP BY r.author ORDER BY articles DESC, author {cut}
        ),
        chosen AS MATERIALIZED (SELECT r.author AS author, r.aid AS aid FROM rows r
                   WHERE r.author IN (SELECT author FROM ranked)),
        fe AS (
            SELECT c.author AS author, uniqExact(af.feed_id) AS feeds
            FROM chosen c
            JOIN (SELECT af.aid AS aid, af.feed_id AS feed_id FROM article_feeds af
                  WHERE {link_window}) af ON af.aid = c.aid
            GROUP BY c.author
        ),
        reading AS (
            SELECT c.author AS author, avg(a.reading_minutes) AS mean_reading_minutes
            FROM chosen c
            JOIN (SELECT a.aid AS aid, a.reading_minutes AS reading_minutes FROM articles a
                  WHERE {article_window}) a ON a.aid = c.aid
            GROUP BY c.author
        )
        SELECT k.author AS author, k.articles AS articles, coalesce(fe.feeds, 0) AS feeds,
               k.first_published AS first_published, k.last_published AS last_published,
               reading.mean_reading_minutes AS mean_reading_minutes
        FROM ranked k LEFT JOIN fe ON fe.author = k.author
        LEFT JOIN reading ON reading.author = k.author
        ORDER BY articles DESC, author"""
    table = _table(
        run,
        sql,
        p,
        (
            "author",
            "articles",
            "feeds",
            "first_published",
            "last_published",
            "mean_reading_minutes",
        ),
    )
    table.rows = [(r[0], r[1], int(r[2]), *r[3:]) for r in table.rows]
    if limit is None or len(table) < limit:
        table.attrs["total"] = len(table)
    else:
        q = Params()
        row = _one(
            run,
            f"SELECT uniqExact(x.author) FROM article_authors x WHERE {child_where(f, q, 'x')}",
            q,
        )
        table.attrs["total"] = int(row[0])
    q = Params()
    none_count, none_join = _counted(f, q, "a", "id")
    row = _one(
        run,
        f"SELECT {none_count} FROM articles a{none_join} WHERE {article_where(f, q)} "
        f"AND a.aid NOT IN (SELECT c.aid FROM article_authors c WHERE {_window('c', f, q)})",
        q,
    )
    table.attrs["unattributed"] = int(row[0])
    by_author: dict[str, list[str]] = {}
    if not table.empty:
        q = Params()
        tag_where = child_where(f, q, "x")
        listed = q.texts([str(a) for a in table["author"]])
        window = " AND ".join(time_conditions("tg.published", f, q)) or "true"
        tag_sql = f"""
            WITH listed AS MATERIALIZED (
                SELECT x.author AS author, x.aid AS aid
                FROM article_authors x WHERE {tag_where} AND x.author IN {listed}
            ),
            shown AS MATERIALIZED (
                SELECT author, key, rank FROM (
                    SELECT c.author AS author, tg.key AS key, count() AS n,
                           row_number() OVER (PARTITION BY c.author ORDER BY n DESC, key)
                               AS rank
                    FROM listed c
                    JOIN (SELECT tg.aid AS aid, tg.key AS key FROM article_tags tg
                          WHERE {window} AND tg.aid IN (SELECT aid FROM listed)) tg
                        ON tg.aid = c.aid
                    GROUP BY c.author, tg.key
                ) WHERE rank <= {int(top_tags)}
            )
            SELECT s.author, fo.display FROM shown s
            JOIN ({tag_forms("SELECT key FROM shown")}) fo ON fo.key = s.key
            ORDER BY s.author, s.rank"""
        _, top = run(tag_sql, q)
        for author, display in top:
            by_author.setdefault(str(author), []).append(str(display))
    table.columns = (*table.columns, "top_tags")
    table.rows = [(*row, by_author.get(str(row[0]), [])) for row in table.rows]
    return table


def heatmap(run: Run, f: Filters, *, timezone: str) -> Table:
    p = Params()
    where = article_where(f, p)
    if f.stories:
        # A story counts once in each cell it has an article in: (slot, story) pairs first.
        join = _story_join(f, p, "a", "id")
        slots = (
            f"SELECT {_slot('a.published')} AS slot, {_story('a', 'id')} AS story "
            f"FROM articles a{join} WHERE {where} GROUP BY slot, story"
        )
        total = "uniqExact(s.story)"
    else:
        slots = (
            f"SELECT {_slot('a.published')} AS slot, count() AS n FROM articles a "
            f"WHERE {where} GROUP BY slot"
        )
        total = "sum(s.n)"
    zone = p.add(timezone, "String")
    local = _local("s.slot", zone)
    sql = f"""
        SELECT toInt64(toDayOfWeek({local}) - 1) AS weekday, toInt64(toHour({local})) AS hour,
               toInt64({total}) AS count
        FROM ({slots}) s
        GROUP BY weekday, hour"""
    return _table(run, sql, p, ("weekday", "hour", "count"))


def _micros(column: str) -> str:
    return f"toUnixTimestamp64Micro({column})"


CADENCE_COLUMNS = (
    "feed_id",
    "url",
    "feed",
    "articles",
    "median_gap_hours",
    "first_in_view",
    "last_in_view",
    "disabled",
    "disabled_reason",
    "error_count",
    "last_error",
    "kind",
    "subscribed",
    "last_ok_at",
    "last_fetch_at",
    "last_published",
    "feed_gap_hours",
)
FEEDS_COLUMNS = (
    "id",
    "url",
    "name",
    "title",
    "site_url",
    "language",
    "kind",
    "subscribed",
    "full_text",
    "added_at",
    "last_fetch_at",
    "last_status",
    "last_ok_at",
    "error_count",
    "last_error",
    "warning",
    "next_due_at",
    "disabled",
    "disabled_reason",
    "articles",
    "last_published",
)


def cadence(run: Run, f: Filters) -> Table:
    p = Params()
    where = child_where(f, p, "x")
    chosen = feed_match("fd", f.feeds, p) if f.feeds else "true"
    sql = f"""
        WITH rows AS (
            SELECT x.feed_id AS feed_id, x.published AS published,
                   ({_micros("x.published")} - {_micros("prev")}) / 1e6 AS gap
            FROM (SELECT x.feed_id, x.published,
                         lagInFrame(toNullable(x.published)) OVER (
                             PARTITION BY x.feed_id ORDER BY x.published
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS prev
                  FROM article_feeds x WHERE {where}) x
        ),
        whole AS (
            SELECT feed_id, max(published) AS last,
                   if(count() > 1,
                      ({_micros("max(published)")} - {_micros("min(published)")}) / 1e6
                          / 3600.0 / (count() - 1),
                      NULL) AS gap
            FROM article_feeds GROUP BY feed_id
        )
        SELECT fd.id AS feed_id, any(fd.url) AS url, any({LABEL}) AS feed,
               count(r.published) AS articles,
               quantileExactInclusive(0.5)(r.gap) / 3600.0 AS median_gap_hours,
               min(r.published) AS first_in_view,
               max(r.published) AS last_in_view,
               any(fd.disabled) AS disabled, any(fd.disabled_reason) AS disabled_reason,
               any(fd.error_count) AS error_count, any(fd.last_error) AS last_error,
               any(fd.kind) AS kind, any(fd.subscribed) AS subscribed,
               any(fd.last_ok_at) AS last_ok_at, any(fd.last_fetch_at) AS last_fetch_at,
               any(w.last) AS last_published, any(w.gap) AS feed_gap_hours
        FROM feeds fd LEFT JOIN rows r ON r.feed_id = fd.id
        LEFT JOIN whole w ON w.feed_id = fd.id
        WHERE {chosen}
        GROUP BY fd.id
        ORDER BY articles DESC, feed"""
    return _table(run, sql, p, CADENCE_COLUMNS)


def feeds(run: Run) -> Table:
    sql = """
        SELECT fd.id AS id, any(fd.url) AS url, any(fd.name) AS name, any(fd.title) AS title,
               any(fd.site_url) AS site_url, any(fd.language) AS language,
               any(fd.kind) AS kind, any(fd.subscribed) AS subscribed,
               any(fd.full_text) AS full_text, any(fd.added_at) AS added_at,
               any(fd.last_fetch_at) AS last_fetch_at, any(fd.last_status) AS last_status,
               any(fd.last_ok_at) AS last_ok_at, any(fd.error_count) AS error_count,
               any(fd.last_error) AS last_error, any(fd.warning) AS warning,
               any(fd.next_due_at) AS next_due_at, any(fd.disabled) AS disabled,
               any(fd.disabled_reason) AS disabled_reason,
               toUInt64(coalesce(any(af.n), 0)) AS articles,
               any(af.last) AS last_published
        FROM feeds fd
        -- links counted per feed first: the join is of 2,000 feeds, not of every link
        LEFT JOIN (SELECT feed_id, count() AS n, max(published) AS last FROM article_feeds
                   GROUP BY feed_id) af ON af.feed_id = fd.id
        GROUP BY fd.id
        ORDER BY added_at, url"""
    return _table(run, sql, Params(), FEEDS_COLUMNS)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def due_feeds(run: Run, now: datetime, *, all_feeds: bool) -> list[FeedState]:
    p = Params()
    due = "true"
    if not all_feeds:
        moment = p.add(utc_naive(now), UTC_TIME)
        due = f"(fd.next_due_at IS NULL OR fd.next_due_at <= {moment})"
    sql = (
        "SELECT fd.id, fd.url, fd.etag, fd.last_modified, fd.body_hash, fd.error_count, "
        "fd.full_text, fd.restricted, fd.restricted OR coalesce(fd.pages_restricted, false) "
        "FROM feeds fd WHERE fd.subscribed AND NOT fd.disabled "
        f"AND fd.kind = 'http' AND {due} ORDER BY fd.created, fd.id"
    )
    _, rows = run(sql, p)
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
        for row in rows
    ]


def subscriptions(run: Run) -> list[Subscription]:
    _, rows = run(
        "SELECT url, name, title, site_url FROM feeds WHERE subscribed ORDER BY created, id",
        Params(),
    )
    return [
        Subscription(str(url), _text(name) or _text(title), _text(site))
        for url, name, title, site in rows
    ]


def body_hashes(run: Run) -> dict[str, str]:
    _, rows = run("SELECT url, body_hash FROM feeds WHERE body_hash IS NOT NULL", Params())
    return {str(u): str(h) for u, h in rows}


def entry_hashes(run: Run, feed_id: int) -> dict[str, str]:
    p = Params()
    _, rows = run(
        "SELECT entry_key, entry_hash FROM article_feeds "
        f"WHERE feed_id = {p.add(feed_id, 'Int64')}",
        p,
    )
    return {str(k): str(h) for k, h in rows}


# A feed row as `feed_state` and the writer read it: the columns a copy carries.
FEED_COLUMNS = COPY_COLUMNS["feeds"]


def feed_state(run: Run, url: str) -> dict[str, Any] | None:
    p = Params()
    _, rows = run(
        f"SELECT {', '.join(FEED_COLUMNS[:-1])}, coalesce(pages_restricted, false) "
        f"FROM feeds WHERE url = {p.add(url, 'String')} "
        "ORDER BY created LIMIT 1",
        p,
    )
    return dict(zip(FEED_COLUMNS, rows[0], strict=True)) if rows else None


# -- pages of articles ---------------------------------------------------------------------


def _children(
    run: Run, ids: list[str], times: Sequence[datetime], *, forms: bool
) -> tuple[dict[str, Any], ...]:
    """For these article ids (published at `times`): feed labels (by creation), feed URLs
    (sorted), authors (by position), tags (by key; their chosen display forms, or the
    stored ones). Each per-article row carries its article's `published`, the first column
    of its sorting key: the rows are looked up at those times, not over the whole table."""
    labels: dict[str, list[str]] = {}
    urls: dict[str, list[str]] = {}
    by_author: dict[str, list[str]] = {}
    by_tag: dict[str, list[str]] = {}
    if not ids:
        return labels, urls, by_author, by_tag
    p = Params()
    listed = p.texts(ids)
    at = p.add(sorted(set(times)), f"Array({UTC_TIME})")
    _, rows = run(
        f"SELECT af.article_id, {LABEL}, fd.url FROM article_feeds af "
        f"JOIN feeds fd ON fd.id = af.feed_id "
        f"WHERE af.published IN {at} AND af.article_id IN {listed} "
        f"ORDER BY af.article_id, {LABEL}, fd.url",
        p,
    )
    for article_id, label, url in rows:
        labels.setdefault(article_id, []).append(label)
        urls.setdefault(article_id, []).append(url)
    _, rows = run(
        "SELECT article_id, author FROM article_authors "
        f"WHERE published IN {at} AND article_id IN {listed} ORDER BY article_id, position",
        p,
    )
    for article_id, author in rows:
        by_author.setdefault(article_id, []).append(author)
    if forms:
        keys = f"SELECT key FROM article_tags WHERE published IN {at} AND article_id IN {listed}"
        # The page's tags narrowed first, then joined (joined first, the narrowing came
        # after FINAL over every row: 4x slower).
        sql = (
            "SELECT t.article_id, fo.display FROM (SELECT x.article_id AS article_id, "
            f"x.key AS key FROM article_tags x WHERE x.published IN {at} "
            f"AND x.article_id IN {listed}) t JOIN ({tag_forms(keys)}) fo "
            "ON fo.key = t.key ORDER BY t.article_id, t.key"
        )
    else:
        sql = (
            "SELECT article_id, display FROM article_tags "
            f"WHERE published IN {at} AND article_id IN {listed} ORDER BY article_id, key"
        )
    _, rows = run(sql, p)
    for article_id, display in rows:
        by_tag.setdefault(article_id, []).append(display)
    return labels, urls, by_author, by_tag


_SORTS = {"published": "a.published", "title": "a.title", "reading_minutes": "a.reading_minutes"}


def articles_page(
    run: Run, f: Filters, *, sort: str, descending: bool, limit: int, offset: int
) -> tuple[Table, int]:
    if sort not in ARTICLE_SORTS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(ARTICLE_SORTS)}")
    p = Params()
    where = article_where(f, p)
    total = int(_one(run, f"SELECT count() FROM articles a WHERE {where}", p)[0])
    order = f"{_SORTS[sort]} {'DESC' if descending else 'ASC'}, a.id"
    # The page's keys first (the sort's columns only), then its rows by key: sorting every
    # article's title, URL and the rest cost 3x more.
    _, keys = run(
        f"SELECT a.id, a.published FROM articles a WHERE {where} ORDER BY {order} "
        f"LIMIT {int(limit)} OFFSET {int(offset)}",
        p,
    )
    rows: list[tuple[Any, ...]] = []
    if keys:
        q = Params()
        _, found = run(
            "SELECT a.id, a.published, a.date_source, a.title, a.url, a.reading_minutes, "
            "a.language FROM articles a "
            f"WHERE a.published IN {q.add(sorted({k[1] for k in keys}), f'Array({UTC_TIME})')} "
            f"AND a.id IN {q.texts([k[0] for k in keys])}",
            q,
        )
        by_id = {row[0]: row for row in found}
        rows = [by_id[k[0]] for k in keys if k[0] in by_id]
    labels, _, by_author, by_tag = _children(
        run, [r[0] for r in rows], [r[1] for r in rows], forms=True
    )
    columns = (
        "id",
        "published",
        "date_source",
        "title",
        "url",
        "feeds",
        "authors",
        "tags",
        "reading_minutes",
        "language",
    )
    out = [
        (
            aid,
            published,
            source,
            title,
            url,
            "; ".join(labels[aid]) if aid in labels else None,
            by_author.get(aid, []),
            by_tag.get(aid, []),
            minutes,
            language,
        )
        for aid, published, source, title, url, minutes, language in rows
    ]
    return Table(columns, out), total


def export_batches(run: Run, f: Filters, *, size: int = 5000) -> Iterator[Table]:
    """The view's articles newest first (then by id), `size` at a time, keyset-paged."""
    after: tuple[datetime, str] | None = None
    while True:
        p = Params()
        where = article_where(f, p)
        if after is not None:
            at = p.add(after[0], UTC_TIME)
            last = p.add(after[1], "String")
            where += f" AND (a.published < {at} OR (a.published = {at} AND a.id > {last}))"
        _, rows = run(
            "SELECT a.id, a.url, a.title, a.published, a.date_source, a.language, a.word_count, "
            f"a.reading_minutes, a.comments, a.text FROM articles a WHERE {where} "
            f"ORDER BY a.published DESC, a.id LIMIT {int(size)}",
            p,
        )
        if not rows:
            return
        _, urls, by_author, by_tag = _children(
            run, [r[0] for r in rows], [r[3] for r in rows], forms=False
        )
        yield Table(
            EXPORT_COLUMNS,
            [
                (
                    aid,
                    url,
                    tuple(sorted(urls.get(aid, []))),
                    title,
                    tuple(by_author.get(aid, [])),
                    published,
                    source,
                    language,
                    tuple(by_tag.get(aid, [])),
                    words,
                    minutes,
                    comments,
                    text,
                )
                for (
                    aid,
                    url,
                    title,
                    published,
                    source,
                    language,
                    words,
                    minutes,
                    comments,
                    text,
                ) in rows
            ],
        )
        if len(rows) < size:
            return
        after = (rows[-1][3], rows[-1][0])


def options(run: Run, *, limit: int) -> dict[str, list[str]]:
    n = int(limit)
    _, feeds_rows = run(
        # Links counted per feed first: the join is of 2,000 feeds, not of every link.
        f"SELECT {LABEL} AS label, toUInt64(sum(coalesce(af.n, 0))) AS n "
        "FROM feeds fd LEFT JOIN (SELECT feed_id, count() AS n FROM article_feeds "
        "GROUP BY feed_id) af ON af.feed_id = fd.id "
        f"GROUP BY label ORDER BY n DESC, label LIMIT {n}",
        Params(),
    )
    _, author_rows = run(
        "SELECT author, count() AS n FROM article_authors GROUP BY author "
        f"ORDER BY n DESC, author LIMIT {n}",
        Params(),
    )
    _, tag_rows = run(
        f"""
        WITH top AS MATERIALIZED (
            SELECT key, count() AS n FROM article_tags GROUP BY key ORDER BY n DESC, key
            LIMIT {n}
        )
        SELECT fo.display, t.n FROM top t
        JOIN ({tag_forms("SELECT key FROM top")}) fo ON fo.key = t.key
        ORDER BY t.n DESC, t.key""",
        Params(),
    )
    _, language_rows = run(
        "SELECT language, count() AS n FROM articles WHERE language IS NOT NULL "
        "GROUP BY language ORDER BY n DESC, language",
        Params(),
    )
    return {
        "feeds": [str(r[0]) for r in feeds_rows],
        "authors": [str(r[0]) for r in author_rows],
        "tags": [str(r[0]) for r in tag_rows],
        "languages": [str(r[0]) for r in language_rows],
    }


def user_stopwords(run: Run) -> Table:
    return _table(
        run,
        "SELECT language, word FROM stopwords WHERE NOT removed ORDER BY language, word",
        Params(),
        ("language", "word"),
    )


# -- keyness and topics --------------------------------------------------------------------


def term_background(run: Run, terms: Sequence[str], *, languages: Sequence[str] = ()) -> Table:
    """See the DuckDB engine: all-time counts from the `term_daily` rollup (summed: a
    SummingMergeTree holds a term's +1 and -1 rows until it merges them)."""
    p = Params()
    lang = f"r.language IN {p.texts(languages)}" if languages else "true"
    total = _one(run, f"SELECT sum(r.n) FROM term_daily r WHERE {lang}", p)[0]
    table = Table(("term", "count"), [])
    table.attrs["total"] = int(total) if total is not None else 0
    if not terms:
        return table
    sql = f"""
        SELECT r.term AS term, sum(r.n) AS count FROM term_daily r
        WHERE {lang} AND r.term IN {p.texts(terms)}
        GROUP BY r.term HAVING count > 0 ORDER BY term"""
    got = _table(run, sql, p, ("term", "count"))
    table.rows = [(term, int(n)) for term, n in got.rows]
    return table


def language_counts(run: Run, f: Filters) -> Table:
    p = Params()
    sql = f"""
        SELECT ifNull(a.language, '') AS language, count() AS articles
        FROM articles a WHERE {article_where(f, p)}
        GROUP BY language ORDER BY articles DESC, language"""
    table = _table(run, sql, p, ("language", "articles"))
    table.rows = [(str(lang), int(n)) for lang, n in table.rows]
    return table


def term_vectors(run: Run, f: Filters, terms: Sequence[str], *, sample: int) -> TermVectors:
    """See the DuckDB engine: the same sample (the first articles by id) and rows."""
    p = Params()
    where = article_where(f, p)
    total = int(_one(run, f"SELECT count() FROM articles a WHERE {where}", p)[0])
    sql = f"""
        SELECT a.id AS id, a.published AS published, ifNull(a.language, '') AS language,
               a.title AS title, a.url AS url
        FROM articles a WHERE {where} ORDER BY a.id LIMIT {int(sample)}"""
    columns = ("id", "published", "language", "title", "url")
    articles = _table(run, sql, p, columns)
    articles.rows = [
        (aid, utc_naive(published), str(lang), title, url)
        for aid, published, lang, title, url in articles.rows
    ]
    counts = Table(("article_id", "term", "n"), [])
    if terms and articles.rows:
        q = Params()
        chosen = (
            f"SELECT a.aid FROM articles a WHERE {article_where(f, q)} "
            f"ORDER BY a.id LIMIT {int(sample)}"
        )
        sql = f"""
            SELECT x.article_id AS article_id, x.term AS term, toInt64(x.n) AS n
            FROM article_terms x
            WHERE {_window("x", f, q)} AND x.aid IN ({chosen}) AND x.term IN {q.texts(terms)}
            ORDER BY article_id, term"""
        got = _table(run, sql, q, ("article_id", "term", "n"))
        counts.rows = [(aid, term, int(n)) for aid, term, n in got.rows]
    return TermVectors(articles, counts, total)


# -- stories ---------------------------------------------------------------------------


def _story_view(f: Filters, p: Params) -> str:
    """The view's articles with their story (an article not placed yet is its own story)
    and each feed that carries them: one row per article and feed."""
    return f"""
        v AS (
            SELECT a.id AS id, a.title AS title, a.published AS published, a.url AS url,
                   a.language AS language, {_story("a", "id")} AS story_id
            FROM articles a{_story_join(f, p, "a", "id")}
            WHERE {article_where(f, p)}
        ),
        vf AS (
            SELECT v.story_id AS story_id, v.id AS id, v.title AS title,
                   v.published AS published, v.url AS url, v.language AS language,
                   af.feed_id AS feed_id, af.first_seen AS first_seen,
                   coalesce(fd.name, nullif(fd.title, ''), fd.url) AS feed
            FROM v
            JOIN (SELECT article_id, feed_id, first_seen FROM article_feeds
                  WHERE article_id IN (SELECT id FROM v)) af ON af.article_id = v.id
            JOIN feeds fd ON fd.id = af.feed_id
        )"""


def stories(run: Run, f: Filters, *, limit: int) -> Table:
    """The DuckDB engine's `stories`, the same answer."""
    p = Params()
    sql = f"""
        WITH {_story_view(f, p)}
        SELECT story_id,
               argMin(title, (published, id)) AS title,
               uniqExact(feed_id) AS outlets,
               uniqExact(id) AS articles,
               argMin(feed, (published, first_seen, id, feed)) AS first_feed,
               min(published) AS first_published,
               max(published) AS last_published
        FROM vf GROUP BY story_id
        ORDER BY outlets DESC, articles DESC, first_published, story_id
        LIMIT {int(limit)}
    """
    return _table(run, sql, p, STORIES_COLUMNS)


def story_articles(run: Run, f: Filters, story_id: str) -> Table:
    p = Params()
    sql = f"""
        WITH {_story_view(f, p)}
        SELECT id, published, title, url, feed, language FROM vf
        WHERE story_id = {p.add(story_id, "String")}
        ORDER BY published, first_seen, id, feed
    """
    return _table(run, sql, p, STORY_ARTICLE_COLUMNS)


def story_sources(run: Run, after: tuple[datetime, str] | None, size: int) -> Table:
    p = Params()
    where = "true"
    if after is not None:
        at = p.add(after[0], UTC_TIME)
        where = f"(published > {at} OR (published = {at} AND id > {p.add(after[1], 'String')}))"
    sql = (
        f"SELECT id, title, text, language, published FROM articles WHERE {where} "
        f"ORDER BY published, id LIMIT {int(size)}"
    )
    return _table(run, sql, p, ("id", "title", "text", "language", "published"))


# -- the term rebuild ---------------------------------------------------------------------


def terms_rebuild(run: Run) -> TermsRebuild | None:
    _, rows = run("SELECT value FROM meta WHERE key = 'terms_rebuild'", Params())
    if not rows:
        return None
    after = parse_rebuild_mark(str(rows[0][0]))
    p = Params()
    where = _after(after, p)
    total, left = _one(run, f"SELECT count(), countIf({where}) FROM articles", p)
    return TermsRebuild(after=after, done=int(total) - int(left), total=int(total))


def _after(after: tuple[datetime, str] | None, p: Params) -> str:
    if after is None:
        return "true"
    return f"(published, id) > ({p.add(after[0], UTC_TIME)}, {p.add(after[1], 'String')})"


def article_texts(run: Run, after: tuple[datetime, str] | None, limit: int) -> list[ArticleText]:
    """Up to `limit` articles after `after` in (published, id) order: the sorting key, so
    each batch reads its own granules."""
    p = Params()
    _, rows = run(
        f"SELECT id, published, title, text, language FROM articles WHERE {_after(after, p)} "
        f"ORDER BY published, id LIMIT {int(limit)}",
        p,
    )
    return [
        ArticleText(str(i), utc_naive(pub), str(t), str(x), lang) for i, pub, t, x, lang in rows
    ]
