"""shim for the parallel wave: remove after merge (now `monitor.store.duckdb.write`)."""

from __future__ import annotations

from monitor.store.duckdb.write import (
    add_feed,
    add_stopwords,
    add_term_rollup,
    ensure_feeds,
    make_due,
    record_fetch,
    record_parse,
    record_parses,
    registered,
    remove_feed,
    remove_stopwords,
    rename_feed_url,
    save_articles,
    save_many,
    set_feed_enabled,
)

__all__ = [
    "add_feed",
    "add_stopwords",
    "add_term_rollup",
    "ensure_feeds",
    "make_due",
    "record_fetch",
    "record_parse",
    "record_parses",
    "registered",
    "remove_feed",
    "remove_stopwords",
    "rename_feed_url",
    "save_articles",
    "save_many",
    "set_feed_enabled",
]
