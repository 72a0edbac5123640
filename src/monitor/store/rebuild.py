"""Rebuild every stored article's terms from its stored title and text.

Terms are computed once, at ingest (`text.text_stats`). When that computation changes (issue
10 made terms lemmas with display forms and phrases), a schema migration marks a store that
holds articles, and `monitor migrate` runs this: articles in (published, id) order, a batch
at a time, each batch's terms and rollups replaced and the mark moved past it in one write.
Killed, it resumes after the last batch written (that batch's write is all or nothing on
DuckDB; on ClickHouse a half-written batch is written again, replacing equal rows). Articles
ingested meanwhile get new terms from ingest; doing one twice does no harm.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from monitor import text
from monitor.store.base import Storage

__all__ = ["BATCH", "RebuildReport", "rebuild_terms"]

BATCH = 2_000  # articles per write: a few MB of text, about a second of work


@dataclass(frozen=True)
class RebuildReport:
    articles: int  # rebuilt in this run
    total: int  # articles in the store
    seconds: float
    resumed_at: int  # articles already done when this run started


def rebuild_terms(
    store: Storage,
    *,
    batch: int = BATCH,
    progress: Callable[[int, int, float], None] | None = None,
) -> RebuildReport | None:
    """Run the store's pending term rebuild to the end; None when none is pending.

    `progress(done, total, seconds)` is called after every batch."""
    state = store.terms_rebuild()
    if state is None:
        return None
    started = time.perf_counter()
    after, done = state.after, state.done
    rebuilt = 0
    while True:
        texts = store.article_texts(after, batch)
        if not texts:
            break
        rows = [(t, text.text_stats(t.title, t.text, t.language)[1]) for t in texts]
        after = (texts[-1].published, texts[-1].id)
        store.replace_terms(rows, after)
        rebuilt += len(texts)
        done += len(texts)
        if progress is not None:
            progress(done, max(state.total, done), time.perf_counter() - started)
    store.replace_terms([], None)
    return RebuildReport(rebuilt, max(state.total, done), time.perf_counter() - started, state.done)
