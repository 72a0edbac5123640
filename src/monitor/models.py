"""The small, frozen records that the pipeline steps hand each other.

fetch -> FetchResult (bytes + headers) -> parse -> ParsedFeed of Article -> store.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.query import Query
    from monitor.stories import Signature
    from monitor.text import WordIndex

# Where an article's published time came from: the entry's published, created or updated
# date; the article page's date, absolute or relative to the fetch ("vor 5 Tagen"); none of
# these, so the first time the entry was seen.
DATE_SOURCES = ("feed", "feed-created", "feed-updated", "page", "page-relative", "first-seen")


@dataclass(frozen=True)
class Tag:
    """A tag on an article: a display form and a case-folded key (one tag per key)."""

    key: str
    display: str
    source: str  # "category" (feed <category>/dc:subject/atom:category) or "hashtag" (#tag in text)


@dataclass(frozen=True)
class Article:
    """One normalised feed entry, ready to store."""

    id: str  # stable article id (hex); the same canonical URL gives the same id across feeds
    entry_key: str  # identity inside its feed: guid, else canonical link, else hash(title, date)
    url: str | None  # canonical http(s) URL, tracking parameters removed
    title: str
    summary: str  # plain text of the feed's summary/description
    text: str  # plain text of the longest body we have (content, page text, else summary)
    authors: tuple[str, ...]
    published: datetime  # timezone-aware, UTC
    date_source: str  # one of DATE_SOURCES
    date_assumed_utc: bool  # the source time carried no zone and was taken as UTC
    language: str | None  # ISO 639-1 ("de", "en"), from the feed, else detected
    tags: tuple[Tag, ...]
    # (term key, count, display form) for topic clouds, stopwords removed: the key is the
    # lower-cased lemma ("zoll"), the form the one the article uses most ("Zölle").
    terms: tuple[tuple[str, int, str], ...]
    word_count: int
    reading_minutes: int
    comments: int | None
    content_hash: str  # changes when anything stored about the entry changes
    fulltext_error: str | None = None  # why the article page could not be used, if tried
    warnings: tuple[str, ...] = ()  # fields that could not be used, and why (not stored)
    # `stories.sign(title, text)`, made where the feed is parsed (`parse.parse_feed` calls
    # `normalize.signed`, in the parse processes), so the store only looks up the article's
    # story candidates; None: the store signs it. A change of title or text must sign it
    # again (`normalize.apply_page` does).
    signature: Signature | None = field(default=None, compare=False, repr=False)
    # `text.index_words(title, text)`, made with the signature (and again by `apply_page`),
    # for the word index; None: the store makes it.
    words: WordIndex | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PageInfo:
    """What an article's web page held (`parse.parse_page` makes it, `normalize.apply_page`
    uses it)."""

    url: str
    text: str = ""
    title: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None  # UTC
    date_assumed_utc: bool = False  # the page date carried no time zone (or no time)
    date_relative: bool = False  # the page said "vor 5 Tagen": counted back from the fetch
    tags: tuple[Tag, ...] = ()  # page categories/tags ("category") + hashtags ("hashtag")
    language: str | None = None
    error: str | None = None  # one-line reason the page could not be used


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed document held. `error` set means: not a feed at all, store nothing."""

    source: str  # URL or path, for messages
    version: str  # feedparser's version string ("rss20", "atom10", ...), "" if unknown
    title: str
    link: str | None
    language: str | None
    articles: tuple[Article, ...]
    warning: str | None = None  # bozo reason or truncation note; entries that parsed are kept
    error: str | None = None  # one-line reason the document is unusable


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FeedState:
    """A subscribed feed as `monitor fetch` reads it from the store; missing values are None.

    Built from plain database rows, never from a DataFrame: pandas turns a missing text into
    NaN (a float) as soon as another row has one, and that reached the header code.
    """

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None  # hash of the feed bytes last parsed
    error_count: int
    full_text: bool
    restricted: bool  # added from the web: the feed URL and every redirect are vetted
    pages_restricted: bool  # its article pages are vetted (restricted, or full text from the web)


@dataclass(frozen=True)
class Subscription:
    """A subscribed feed as an OPML outline shows it; missing values are None."""

    url: str
    title: str | None  # the name given to it, else the feed's own title
    site_url: str | None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one HTTP fetch. Never raised: errors are a one-line `error`."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None  # last HTTP status; None when no response arrived
    content: bytes | None = None  # the (decoded) body on 200
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # set when every hop was a permanent redirect (301/308)
    not_modified: bool = False  # 304
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    gone: bool = False  # 410
    error: str | None = None  # one-line reason; None on 200 and 304
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


UNITS = ("articles", "stories")  # what the counts of a view count (`Filters.unit`)


@dataclass(frozen=True)
class Filters:
    """The view every query takes: the dashboard's sidebar and the CLI's filter options.

    Values inside one field are alternatives (OR); fields combine with AND.
    """

    since: datetime | None = None  # inclusive, timezone-aware
    until: datetime | None = None  # exclusive, timezone-aware
    feeds: tuple[str, ...] = ()  # feed URL, name or title
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # tag keys; display forms are folded to keys
    languages: tuple[str, ...] = ()
    query: Query | None = None  # the query language (monitor.query); the engines compile it
    # What a count counts: "articles", or "stories" (every copy of a story in the group counts
    # once: a story's articles are those `article_stories` gives one story id; an article not
    # placed in a story yet is a story of its own). Narrows nothing: only counts change.
    unit: str = "articles"

    @property
    def only_time(self) -> bool:
        """True when nothing but the date range narrows the view."""
        return not (self.feeds or self.authors or self.tags or self.languages or self.query)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown count {self.unit!r}; use {' or '.join(UNITS)}")

    @property
    def stories(self) -> bool:
        """True when counts count stories instead of articles."""
        return self.unit == "stories"


@dataclass
class Table:
    """A small query result: column names and rows, plus notes such as a total (`attrs`).

    The command line prints it as JSON straight from Python values (a query command starts
    in half a second; importing pandas alone would take 0.35 s of it); the dashboard turns
    it into a DataFrame with `to_pandas()`.
    """

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    attrs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def empty(self) -> bool:
        return not self.rows

    def __getitem__(self, column: str) -> list[Any]:
        """One column's values, in row order."""
        index = self.columns.index(column)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the same rows and columns (attrs kept).

        A column of whole numbers with a missing value becomes pandas' nullable Int64 (what
        DuckDB's own DataFrames give), not float: 500 stays 500, not 500.0, in the JSON and
        on the pages.
        """
        import pandas as pd

        frame = pd.DataFrame.from_records(self.rows, columns=list(self.columns))
        for i, name in enumerate(self.columns):
            values = [row[i] for row in self.rows]
            if (
                None in values
                and any(v is not None for v in values)
                and all(
                    v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values
                )
            ):
                frame[name] = pd.array(values, dtype="Int64")
        frame.attrs.update(self.attrs)
        return frame
