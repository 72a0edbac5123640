"""The one storage interface: what the pipeline, the analysis functions and the CLI may ask of
a store, whatever engine holds it.

Two engines implement it, each in its own package with its own schema, migrations and every
line of its SQL: `monitor.store.duckdb` (one file, no server; the default) and
`monitor.store.clickhouse` (a ClickHouse server or cluster, or chDB embedded in the process).
`monitor.store.open_store(location)` picks one from `MONITOR_DB` / `--db`.

Everything crosses this boundary as typed records (`monitor.models`, the dataclasses below)
and `Table`s of plain Python values, with None for missing: never a DataFrame, never a
connection, never NaN. Times are timezone-aware UTC `datetime`s going in; a `Table`'s time
columns are naive UTC `datetime`s (naive local for the bucket of `frequency`, `heatmap`).

The behaviour is specified by the conformance suite (tests/test_conformance.py), which runs
every method on both engines and compares the answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from monitor.models import FeedState, Filters, ParsedFeed, Subscription, Table

if TYPE_CHECKING:
    from monitor.store.storyrows import Placed

# -- shared vocabulary -------------------------------------------------------------------

BUCKETS = ("hour", "day", "week", "month")

# The series of a split that holds the articles without a feed, author or tag. A tag key
# never starts with "(" (`tag_key` drops edge punctuation), so "(no tag)" is never a real tag.
NO_SERIES = {"feed": "(no feed)", "author": "(no author)", "tag": "(no tag)"}
OTHER_SERIES = "other"

# The sort keys `articles_page` accepts.
ARTICLE_SORTS = ("published", "title", "reading_minutes")

# `Storage.stories`: the view's most covered stories, one row each, in this order.
STORIES_COLUMNS = (
    "story_id",
    "title",
    "outlets",
    "articles",
    "first_feed",
    "first_published",
    "last_published",
)
# `Storage.story_articles`: one story's articles, one row per article and feed.
STORY_ARTICLE_COLUMNS = ("id", "published", "title", "url", "feed", "language")

# One row per article in an export, in this order; lists (feed_urls, authors, tags) are
# tuples of text.
EXPORT_COLUMNS = (
    "id",
    "url",
    "feed_urls",
    "title",
    "authors",
    "published",
    "date_source",
    "language",
    "tags",
    "word_count",
    "reading_minutes",
    "comments",
    "text",
)

# The tables a whole store consists of, in the order `monitor copy` moves them, each with its
# key columns (the order rows are read in, and what a resumed copy skips). Rollups such as
# the per-day terms are rebuilt by the target (`finish_copy`), not copied.
TABLES: dict[str, tuple[str, ...]] = {
    "feeds": ("id",),
    "articles": ("id",),
    "article_feeds": ("feed_id", "entry_key"),
    "article_authors": ("article_id", "position"),
    "article_tags": ("article_id", "key"),
    "article_terms": ("article_id", "term"),
    "stopwords": ("language", "word"),
    # Stories (monitor.store.storyrows): each article's story and signature, its band hashes.
    "article_stories": ("article_id",),
    "story_bands": ("band", "article_id"),
    # Saved queries (issue 11): name, text, version (edits so far), edited (naive UTC).
    "saved_queries": ("name",),
}

MERGED_REPEATED = "repeated in the document"
MERGED_REKEYED = "same link and title as a stored entry under another guid"


@dataclass(frozen=True)
class SaveCounts:
    """What saving one feed document did. `linked`: a story already stored from another feed.

    `merged` entries were folded into another entry of the same feed, for the reasons in
    `merge_reasons`; `dropped` ones could not be stored at all (the reasons in `warnings`).
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    duplicates: int = 0  # repeated inside the same document (same guid and link), stored once
    rekeyed: int = 0  # a stored entry of this feed under a new guid (same link and title)
    dropped: int = 0  # entries the store cannot hold (a value out of its range): left out
    warnings: tuple[str, ...] = ()  # one line per dropped entry

    @property
    def merged(self) -> int:
        return self.duplicates + self.rekeyed

    @property
    def merge_reasons(self) -> dict[str, int]:
        """Why entries were merged, with how many each (only reasons that happened)."""
        reasons = {MERGED_REPEATED: self.duplicates, MERGED_REKEYED: self.rekeyed}
        return {reason: n for reason, n in reasons.items() if n}

    def merge_text(self) -> str:
        """ "3 merged (2 repeated in the document, ...)", or "" when nothing was merged."""
        if not self.merged:
            return ""
        why = ", ".join(f"{n} {reason}" for reason, n in self.merge_reasons.items())
        return f"{self.merged} merged ({why})"

    def __add__(self, other: SaveCounts) -> SaveCounts:
        return SaveCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.linked + other.linked,
            self.duplicates + other.duplicates,
            self.rekeyed + other.rekeyed,
            self.dropped + other.dropped,
            self.warnings + other.warnings,
        )


@dataclass(frozen=True)
class FetchRecord:
    """One attempt to fetch a feed, as the store keeps it. A success (error None) resets the
    error count and keeps new validators; a failure raises the count."""

    status: int | None
    error: str | None
    next_due: datetime | None
    etag: str | None = None
    last_modified: str | None = None
    disable_reason: str | None = None  # set: the feed is disabled (410 Gone)
    permanent_url: str | None = None  # every hop was permanent: the feed's URL becomes this


@dataclass(frozen=True)
class FeedUpdate:
    """Everything one feed's turn changes, stored by one `save_feeds` call, whole or not at all.

    The feed is named by `feed_id` (a subscribed feed being fetched) or by `url` (a document
    ingested from a file or URL: registered with `kind` if unknown, and subscribed if
    `subscribed`). `parsed` None: the bytes were unchanged or nothing parsed (a 304, a
    failure), so no articles are touched. `body_hash` is kept with the articles it produced.
    """

    feed_id: int | None = None
    url: str | None = None
    kind: str = "http"
    subscribed: bool = False
    parsed: ParsedFeed | None = None
    body_hash: str | None = None
    fetch: FetchRecord | None = None
    now: datetime | None = None  # when this happened (UTC-aware); None: the store's clock


@dataclass(frozen=True)
class CopyProgress:
    """Where `monitor copy` is: rows of `table` moved so far out of `total`."""

    table: str
    done: int
    total: int


@dataclass(frozen=True)
class ArticleText:
    """What an article's terms are computed from (`Storage.article_texts`, the term rebuild)."""

    id: str
    published: datetime  # as stored: naive UTC
    title: str
    text: str
    language: str | None


# An article term as stored: (term key, count, display form), as `Article.terms` holds it.
TermRow = tuple[str, int, str]


@dataclass(frozen=True)
class TermsRebuild:
    """A pending rebuild of every article's terms (`monitor migrate`; see `store.rebuild`).

    Articles are rebuilt in (published, id) order; `after` is the last one done (None: none
    yet), `done` how many articles are at or before it, `total` how many there are."""

    after: tuple[datetime, str] | None
    done: int
    total: int


@dataclass(frozen=True)
class EngineInfo:
    """What `monitor stats --json` reports as `engine`."""

    name: str  # "duckdb" or "clickhouse"
    location: str  # the file, or the DSN without its password
    version: str  # the engine's own version ("1.4.1", "26.9.1.1")
    schema_version: int
    read_only: bool
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TermVectors:
    """A bounded sample of a view's articles as term-count vectors (what topic models read).

    `articles`: id, published (naive UTC), language ('' unknown), title, url: the sample, the
    first `sample` articles of the view in id order (ids are hashes, so that is an even spread
    over time and sources, the same on every engine). `counts`: article_id, term, n for the
    asked terms in those articles, ordered by article_id and term. `total`: articles in the
    view (more than the sample when it was cut).
    """

    articles: Table
    counts: Table
    total: int


@dataclass(frozen=True)
class SavedQuery:
    """A named query as stored: its text, its version (1 when added, +1 on each edit) and
    when it was last edited (naive UTC)."""

    name: str
    text: str
    version: int
    edited: datetime


@runtime_checkable
class Storage(Protocol):
    """A monitor store. Cheap to create; connections are the engine's business."""

    read_only: bool

    # -- lifecycle ------------------------------------------------------------------------

    def info(self) -> EngineInfo: ...

    def ensure_schema(self) -> None:
        """Create the store and apply missing migrations (read-only: only check it can be read).
        Refuses, with a StoreError, what is not a monitor store, damaged, or newer."""

    def data_version(self) -> tuple[Any, ...]:
        """Changes whenever the stored data changes: a cache key for query results."""

    def session(self) -> AbstractContextManager[None]:
        """A block of work by this thread (a dashboard page, an ingest run): the engine may keep
        its connection(s) open across the calls inside it, and lets go at the end."""

    def interrupt(self) -> None:
        """From another thread (a signal handler): make this store's running statements stop
        soon. The call inside raises KeyboardInterrupt."""

    # -- reads: aggregates the pages and the CLI show ------------------------------------

    def stats(self, f: Filters) -> dict[str, Any]:
        """articles, feeds (that published in the view), feeds_total, authors, tags,
        first_published, last_published (naive UTC or None)."""

    def article_count(self, f: Filters, *, with_tag: str | None = None) -> int: ...

    def frequency(
        self, f: Filters, *, by: str, timezone: str = "UTC", split: str | None = None, top: int = 8
    ) -> Table:
        """bucket (naive local start), series, count; see the DuckDB engine's docstring."""

    def tags(self, f: Filters, *, limit: int = 50) -> Table:
        """key, tag (display form), articles."""

    def tag_windows(self, f: Filters, before: Filters) -> Table:
        """key, tag, current, previous: every tag of either view."""

    def cooccurring_tags(self, f: Filters, key: str, *, limit: int) -> Table: ...

    def tag_displays(self, keys: Sequence[str]) -> dict[str, str]: ...

    def terms(self, f: Filters, *, limit: int = 100, rollup: bool = True) -> Table: ...

    def term_counts(self, f: Filters, *, limit: int) -> Table: ...

    def term_background(self, terms: Sequence[str], *, languages: Sequence[str] = ()) -> Table:
        """term, count: each asked term's count over the whole store (all time, every feed;
        only `languages` when given, '' for unknown), from the per-day rollup; terms the
        store never saw are left out. `attrs["total"]`: every term occurrence in those
        languages (the background's size)."""

    def language_counts(self, f: Filters) -> Table:
        """language ('' for unknown), articles: the view's articles per language, busiest
        first, then by language."""

    def term_vectors(self, f: Filters, terms: Sequence[str], *, sample: int) -> TermVectors:
        """The view's first `sample` articles by id with their counts of `terms`."""

    def authors(self, f: Filters, *, limit: int | None = None, top_tags: int = 3) -> Table: ...

    def heatmap(self, f: Filters, *, timezone: str) -> Table: ...

    def cadence(self, f: Filters) -> Table: ...

    def articles_page(
        self, f: Filters, *, sort: str, descending: bool, limit: int, offset: int
    ) -> tuple[Table, int]:
        """One page of articles and the number in the view."""

    def export_batches(self, f: Filters, *, size: int = 5000) -> Iterator[Table]:
        """Every article of the view, EXPORT_COLUMNS, newest first, `size` rows at a time."""

    def options(self, *, limit: int) -> dict[str, list[str]]:
        """Values for the filter pickers, busiest first: feeds, authors, tags, languages."""

    def feeds(self) -> Table:
        """Every feed with its state, for the Sources page and `monitor feeds list`."""

    def user_stopwords(self) -> Table:
        """language, word, removed."""

    # -- reads: what the pipeline needs ---------------------------------------------------

    def due_feeds(self, now: datetime, *, all_feeds: bool) -> list[FeedState]: ...

    def subscriptions(self) -> list[Subscription]: ...

    def feed_state(self, url: str) -> dict[str, Any] | None:
        """The feed's stored row by URL (plain values, None for missing), or None."""

    def body_hashes(self) -> dict[str, str]:
        """feed URL -> hash of the bytes last parsed (to skip unchanged documents)."""

    def entry_hashes(self, feed_id: int) -> dict[str, str]: ...

    # -- writes ---------------------------------------------------------------------------

    def save_feeds(self, updates: Sequence[FeedUpdate]) -> list[SaveCounts]:
        """Store each feed's turn, in order; each whole or not at all (the engine may commit a
        group at once). Raises StoreError; the caller then retries one by one."""

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
        """(feed id, created)."""

    def remove_feed(self, url: str) -> int | None:
        """Articles removed with it, or None when no feed has the URL."""

    def set_feed_enabled(self, url: str, enabled: bool) -> bool: ...

    def make_due(self, url: str) -> bool | None: ...

    def add_stopwords(self, language: str, words: Sequence[str]) -> int: ...

    def remove_stopwords(self, language: str, words: Sequence[str]) -> int: ...

    # -- saved queries (issue 11; names checked by monitor.savedqueries) ----------------

    def saved_queries(self) -> list[SavedQuery]:
        """Every saved query, by name."""

    def saved_query(self, name: str) -> SavedQuery | None: ...

    def save_query(self, name: str, text: str, *, now: datetime | None = None) -> SavedQuery:
        """Add the query (version 1) or edit it (its version + 1; the same text again changes
        nothing). `now`: when (UTC-aware; None: the clock)."""

    def remove_query(self, name: str) -> bool:
        """False when no query has the name."""

    # -- stories (monitor.stories, monitor.store.storyrows) --------------------------------

    def stories(self, f: Filters, *, limit: int = 50) -> Table:
        """The view's most covered stories: story_id, title (its first article's), outlets
        (distinct feeds), articles, first_feed, first_published, last_published; most
        outlets first, then most articles, then earliest, then story id."""

    def story_articles(self, f: Filters, story_id: str) -> Table:
        """A story's articles in the view, one row per article and feed, oldest first: id,
        published, title, url, feed, language."""

    def story_sources(self, after: tuple[datetime, str] | None, size: int) -> Table:
        """Up to `size` stored articles (id, title, text, language, published) in
        (published, id) order after `after`: what `monitor stories --rebuild` places."""

    def save_stories(self, placed: Sequence[Placed], *, clear: bool = False) -> None:
        """Store placed articles' story rows and band hashes; `clear`: every stored story
        row goes first (a rebuild's first batch)."""

    # -- whole-store copy (`monitor copy`) ------------------------------------------------

    def count_rows(self, table: str) -> int: ...

    def read_rows(self, table: str, *, after: tuple[Any, ...] | None, size: int) -> Table:
        """Up to `size` rows of one of TABLES in key order, after the key `after` (None: from
        the start). The Table's columns are the same on every engine."""

    def write_rows(self, table: str, rows: Table) -> None:
        """Append rows read by `read_rows` of another store; rows already there are skipped
        (a resumed copy), keys kept."""

    def finish_copy(self) -> None:
        """Rebuild what derives from the copied rows (rollups, id sequences)."""

    # -- the term rebuild (a schema migration marks the store; `monitor migrate` runs it) --

    def terms_rebuild(self) -> TermsRebuild | None:
        """Where a pending term rebuild stands; None when there is none."""

    def article_texts(self, after: tuple[datetime, str] | None, limit: int) -> list[ArticleText]:
        """Up to `limit` articles in (published, id) order after `after` (None: the first)."""

    def replace_terms(
        self,
        rows: Sequence[tuple[ArticleText, Sequence[TermRow]]],
        after: tuple[datetime, str] | None,
    ) -> None:
        """Replace these articles' stored terms (and the rollups) with the given ones, and
        record `after` as where the rebuild stands; `after=None` ends the rebuild. A write
        killed half-way leaves the old mark, so that batch is done again (no harm)."""
