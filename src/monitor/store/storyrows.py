"""What storing stories means, whatever engine stores them (`monitor.stories` does the
matching; the engines look up candidates and write the rows decided here). No SQL.

Two tables on every engine:
- `article_stories`: one row per article: its story id, language (`''` unknown), published
  time and MinHash signature (base64 of 64 little-endian 32-bit values);
- `story_bands`: one row per article and LSH band hash (`band`, `article_id`, `published`),
  what a new article's candidates are found by, in any process.

An article is placed once, when it is first stored (a later change of its text keeps its
story and its signature); a removed article's rows go with it, and its story keeps its id
(the id of its first article) for the articles left in it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor import stories
from monitor.models import Table

STORY_COLUMNS = ("article_id", "story_id", "language", "published", "signature")
BAND_COLUMNS = ("band", "article_id", "published")
# What a candidate look-up gives: STORY_COLUMNS and the article's title.
CANDIDATE_COLUMNS = (*STORY_COLUMNS, "title")
# What a rebuild reads, in (published, id) order.
SOURCE_COLUMNS = ("id", "title", "text", "language", "published")


@dataclass(frozen=True)
class Placed:
    """An article placed in a story: its rows in both tables."""

    article_id: str
    story_id: str
    language: str
    published: datetime  # naive UTC, as stored
    signature: stories.Signature

    def story_row(self) -> tuple[str, str, str, datetime, str]:
        encoded = base64.b64encode(self.signature.to_bytes()).decode("ascii")
        return (self.article_id, self.story_id, self.language, self.published, encoded)

    def band_rows(self) -> list[tuple[int, str, datetime]]:
        return [(band, self.article_id, self.published) for band in self.signature.bands]


@dataclass(frozen=True)
class NewArticle:
    """An article the store is about to write for the first time (or one with no story)."""

    article_id: str
    title: str
    text: str
    language: str | None
    published: datetime  # naive UTC
    signature: stories.Signature | None = None  # `stories.sign(title, text)`, if known


def decode(signature: str, title: str) -> stories.Signature:
    return stories.Signature.from_bytes(base64.b64decode(signature), title)


def signatures(articles: Sequence[NewArticle]) -> list[stories.StoryDoc]:
    return [
        stories.StoryDoc(
            a.article_id,
            a.language or "",
            a.published,
            a.title,
            a.signature or stories.sign(a.title, a.text),
        )
        for a in articles
    ]


def window(
    docs: Sequence[stories.StoryDoc], settings: stories.StorySettings
) -> tuple[datetime, datetime]:
    """The published times candidates of these articles can have."""
    days = timedelta(days=settings.window_days)
    return min(d.published for d in docs) - days, max(d.published for d in docs) + days


def candidates(rows: Table) -> list[stories.Candidate]:
    """Candidates from a look-up's rows (CANDIDATE_COLUMNS), each article once."""
    out: dict[str, stories.Candidate] = {}
    for article_id, story_id, language, published, signature, title in rows.rows:
        if article_id in out:
            continue
        out[article_id] = stories.Candidate(
            str(article_id),
            str(story_id),
            str(language),
            published,
            str(title),
            decode(str(signature), str(title)),
        )
    return list(out.values())


def place(
    articles: Sequence[NewArticle],
    look_up: Callable[[list[int], datetime, datetime, list[str]], Table],
    settings: stories.StorySettings | None = None,
) -> list[Placed]:
    """Place new articles in stories, in order. `look_up(bands, low, high, exclude)` gives
    the stored articles (CANDIDATE_COLUMNS) with any of those band hashes, published from
    low to high, other than `exclude`: one look-up for the whole batch."""
    if not articles:
        return []
    settings = settings or stories.StorySettings.from_environment()
    docs = signatures(articles)
    low, high = window(docs, settings)
    bands = sorted({band for d in docs for band in d.signature.bands})
    found = candidates(look_up(bands, low, high, [a.article_id for a in articles]))
    assigned = stories.assign(docs, found, settings)
    return [
        Placed(d.article_id, assigned[d.article_id], d.language, d.published, d.signature)
        for d in docs
    ]


@dataclass(frozen=True)
class Progress:
    """Where a rebuild is: articles placed so far, of `total`."""

    done: int
    total: int


def rebuild(
    read: Callable[[tuple[datetime, str] | None, int], Table],
    write: Callable[[list[Placed]], None],
    total: int,
    *,
    size: int = 5000,
    settings: stories.StorySettings | None = None,
) -> Iterator[Progress]:
    """Place every stored article in a story, in time order, as if each had arrived then:
    `read(after, size)` gives SOURCE_COLUMNS in (published, id) order after a key; `write`
    stores a batch's rows. Only the window's articles are kept in memory. Yields progress
    after each batch."""
    settings = settings or stories.StorySettings.from_environment()
    index = stories.Index(settings)
    days = timedelta(days=settings.window_days)
    after: tuple[datetime, str] | None = None
    done = 0
    while True:
        batch = read(after, size)
        if batch.empty:
            break
        articles = [
            NewArticle(str(i), str(t or ""), str(x or ""), lang, p)
            for i, t, x, lang, p in batch.rows
        ]
        docs = signatures(articles)
        index.evict(docs[0].published - days)
        placed = [
            Placed(d.article_id, index.place(d), d.language, d.published, d.signature) for d in docs
        ]
        write(placed)
        done += len(placed)
        last = batch.rows[-1]
        after = (last[4], str(last[0]))
        yield Progress(done, total)
        if len(batch) < size:
            break
