"""shim for the parallel wave: remove after merge.

The old `monitor.store.query` (functions of a DuckDB connection): the functions now live in
`monitor.store.duckdb.query` and return `Table`s; the eight that returned pandas DataFrames
are wrapped here to keep returning DataFrames for the callers not yet moved to `Storage`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from monitor.store.duckdb import query as _query
from monitor.store.duckdb.query import (
    ARTICLE_SORTS,
    BUCKETS,
    EXPORT_COLUMNS,
    NO_SERIES,
    OTHER_SERIES,
    article_count,
    article_where,
    authors,
    body_hashes,
    child_where,
    due_feeds,
    entry_hashes,
    export_parquet,
    export_sql,
    feed_state,
    frequency,
    options,
    stats,
    subscriptions,
    tag_displays,
    tag_forms,
    tag_match,
    tags,
    term_rows,
    terms,
)

if TYPE_CHECKING:
    import pandas as pd


def feeds(con: Any) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.feeds(con).to_pandas())


def tag_windows(con: Any, f: Any, before: Any) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.tag_windows(con, f, before).to_pandas())


def cooccurring_tags(con: Any, f: Any, key: str, *, limit: int) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.cooccurring_tags(con, f, key, limit=limit).to_pandas())


def heatmap(con: Any, f: Any, *, timezone: str) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.heatmap(con, f, timezone=timezone).to_pandas())


def cadence(con: Any, f: Any) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.cadence(con, f).to_pandas())


def term_counts(con: Any, f: Any, *, limit: int) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.term_counts(con, f, limit=limit).to_pandas())


def articles_page(
    con: Any, f: Any, *, sort: str, descending: bool, limit: int, offset: int
) -> tuple[pd.DataFrame, int]:
    table, total = _query.articles_page(
        con, f, sort=sort, descending=descending, limit=limit, offset=offset
    )
    return cast("pd.DataFrame", table.to_pandas()), total


def user_stopwords(con: Any) -> pd.DataFrame:
    return cast("pd.DataFrame", _query.user_stopwords(con).to_pandas())


__all__ = [
    "ARTICLE_SORTS",
    "BUCKETS",
    "EXPORT_COLUMNS",
    "NO_SERIES",
    "OTHER_SERIES",
    "article_count",
    "article_where",
    "articles_page",
    "authors",
    "body_hashes",
    "cadence",
    "child_where",
    "cooccurring_tags",
    "due_feeds",
    "entry_hashes",
    "export_parquet",
    "export_sql",
    "feed_state",
    "feeds",
    "frequency",
    "heatmap",
    "options",
    "stats",
    "subscriptions",
    "tag_displays",
    "tags",
    "tag_forms",
    "tag_match",
    "tag_windows",
    "term_counts",
    "term_rows",
    "terms",
    "user_stopwords",
]
