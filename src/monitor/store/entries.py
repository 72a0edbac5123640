"""What storing a feed document means, whatever engine stores it: which entries are distinct,
which are the same story as a stored article, which changed, which the store cannot hold.

Engines (`monitor.store.duckdb`, `monitor.store.clickhouse`) look up what is stored, hand it to
these functions, and write what they decide. No SQL here, and no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.models import Article, ParsedFeed
from monitor.normalize import entry_id, page_id
from monitor.store.base import SaveCounts
from monitor.store.rows import utc_naive


@dataclass(frozen=True)
class Checked:
    """One document's entries the store can hold, and what was left out (and why)."""

    feed_id: int
    storable: list[Article]
    dropped: int
    notes: tuple[str, ...]


def check_storable(documents: Sequence[tuple[int, Sequence[Article]]]) -> list[Checked]:
    """Each (feed id, articles) document with the entries the store cannot hold left out."""
    if len({feed_id for feed_id, _ in documents}) != len(documents):
        raise ValueError("save_many: a feed appears twice in one batch")
    checked: list[Checked] = []
    for feed_id, articles in documents:
        storable: list[Article] = []
        notes: list[str] = []
        for article in articles:
            problem = unstorable(article)
            if problem is None:
                storable.append(article)
            else:
                notes.append(f"entry {short(article.entry_key)} not stored: {problem}")
        checked.append(Checked(feed_id, storable, len(articles) - len(storable), tuple(notes)))
    return checked


@dataclass(frozen=True)
class Changed:
    """An article row to write: new (insert) or changed (replace, with its authors, tags and
    terms). `published` and `date_source` are what is stored (naive UTC)."""

    id: str
    article: Article
    published: datetime
    date_source: str
    is_new: bool


@dataclass(frozen=True)
class Link:
    """A (feed, entry) row: a new link to an article (`new`), or an entry whose hash changed."""

    feed_id: int
    article_id: str
    article: Article
    published: datetime


@dataclass(frozen=True)
class Plan:
    """What saving a batch of documents writes, and what each document's counts are."""

    changed: list[Changed]  # one per article id, the last version wins
    new_links: list[Link]
    updated_links: list[Link]
    counts: list[SaveCounts]


def classify(
    batches: Sequence[tuple[int, list[Article], int]],
    checked: Sequence[Checked],
    links: Mapping[tuple[int, str], tuple[str, str]],
    stored: dict[str, tuple[datetime, str]],
    rekeys: Sequence[Rekey],
) -> Plan:
    """Decide, in order, as if each document were saved after the one before: new entries
    are inserted (or linked to a story already stored from another feed), changed ones
    replaced, unchanged ones left alone. "Changed" compares the entry's content hash with
    what *this* feed gave last time.

    `links`: (feed id, entry key) -> (article id, entry hash) of the stored entries of these
    feeds (re-keyed entries under their new key); `stored`: article id -> (published, date
    source) of the stored articles concerned. `stored` is updated as the batch goes."""
    rekeyed_keys = {(r.feed_id, r.new_key) for r in rekeys}
    changed: dict[str, Changed] = {}
    link_rows: list[Link] = []
    upd_rows: list[Link] = []
    counts: list[SaveCounts] = []
    for (feed_id, batch, duplicates), check in zip(batches, checked, strict=True):
        new = updated = unchanged = linked = rekeyed = 0
        for article in batch:
            link = links.get((feed_id, article.entry_key))
            if link is not None:
                moved = (feed_id, article.entry_key) in rekeyed_keys
                rekeyed += moved
                article_id, entry_hash = link
                if entry_hash == article.content_hash:
                    unchanged += not moved
                    continue
                published, source = published_for(article, stored.get(article_id))
                is_new = article_id in changed and changed[article_id].is_new
                changed[article_id] = Changed(article_id, article, published, source, is_new)
                stored[article_id] = (published, source)
                upd_rows.append(Link(feed_id, article_id, article, published))
                updated += not moved
            elif article.id in stored:
                link_rows.append(Link(feed_id, article.id, article, stored[article.id][0]))
                linked += 1
            else:
                published, source = published_for(article, None)
                changed[article.id] = Changed(article.id, article, published, source, True)
                stored[article.id] = (published, source)
                link_rows.append(Link(feed_id, article.id, article, published))
                new += 1
        counts.append(
            SaveCounts(
                new, updated, unchanged, linked, duplicates, rekeyed, check.dropped, check.notes
            )
        )
    return Plan(list(changed.values()), link_rows, upd_rows, counts)


def distinct_entries(
    articles: Sequence[Article], feed_url: Callable[[], str]
) -> tuple[list[Article], int]:
    """The distinct entries of one document, each with a key and an id unique in it, and how
    many were repeats.

    - Same guid and same link (or, without links, same title): one entry repeated; the first
      is kept.
    - Same guid, different links: the guid identifies nothing (some feeds give every item
      the feed's address as guid); each becomes "guid\\nlink".
    - Different entries, same page (a ticker whose items all link to the home page, episodes
      linking to the show, forum posts "#post-1", "#post-2"): the page does not identify
      them. Each takes the id of its own link with fragment when no other entry has that
      link, else an id of its own from (feed, entry key): never merged with each other, nor
      with another feed's story of that page.
    """
    signatures: dict[str, list[str]] = {}
    for article in articles:
        signature = article.url or f"title:{article.title}"
        seen = signatures.setdefault(article.entry_key, [])
        if signature not in seen:
            seen.append(signature)
    kept: list[Article] = []
    taken: set[tuple[str, str]] = set()
    for article in articles:
        signature = article.url or f"title:{article.title}"
        if (article.entry_key, signature) in taken:
            continue
        taken.add((article.entry_key, signature))
        if len(signatures[article.entry_key]) > 1:
            article = replace(article, entry_key=f"{article.entry_key}\n{signature}")
        kept.append(article)
    duplicates = len(articles) - len(kept)

    by_page: dict[str, list[Article]] = {}
    for article in kept:
        by_page.setdefault(article.id, []).append(article)
    links = Counter(a.url for a in kept if len(by_page[a.id]) > 1)
    out: list[Article] = []
    ids: set[str] = set()
    for article in kept:
        group = by_page[article.id]
        new_id = article.id
        if len(group) > 1:
            if article.url and links[article.url] == 1:
                new_id = page_id(article.url)
            else:
                new_id = entry_id(feed_url(), article.entry_key)
        if new_id in ids:
            new_id = entry_id(feed_url(), article.entry_key)
        ids.add(new_id)
        out.append(article if new_id == article.id else replace(article, id=new_id))
    return out, duplicates


@dataclass(frozen=True)
class Rekey:
    """A stored entry of a feed that the current document carries under a new key."""

    feed_id: int
    old_key: str
    new_key: str
    article_id: str
    entry_hash: str


def page_of(article: Article) -> str | None:
    """The id of the page an entry's link names with a fragment ("t/1#post-2" -> "t/1"),
    when it differs from the entry's id, else None."""
    if not article.url or "#" not in article.url:
        return None
    page = page_id(article.url.split("#", 1)[0])
    return page if page != article.id else None


def resolve_same_feed(
    batches: Sequence[tuple[int, list[Article], int]],
    links: Mapping[tuple[int, str], tuple[str, str]],
    same_feed: Mapping[tuple[int, str], list[tuple[str, str, str]]],
    feed_url: Callable[[int], str],
) -> tuple[list[tuple[int, list[Article], int]], list[Rekey], list[str]]:
    """New entries whose article (or, for a link with a fragment, whose page) is already an
    entry of their own feed under another key. The same entry under a new key, when the old
    key is gone from the document and the title is unchanged: it takes over the stored entry
    (a `Rekey`; this also recovers forum posts that older versions merged by page).
    Otherwise an entry whose own article is taken is a different entry that happens to share
    the page: it gets an id of its own. Returns the batches, the re-keyed entries and the
    ids newly given out."""
    rekeys: list[Rekey] = []
    own: list[str] = []
    out: list[tuple[int, list[Article], int]] = []
    for feed_id, batch, duplicates in batches:
        keys = {a.entry_key for a in batch}
        claimed: set[str] = set()
        resolved: list[Article] = []
        for article in batch:
            direct = same_feed.get((feed_id, article.id), [])
            page = page_of(article)
            candidates = [(article.id, c) for c in direct]
            if page is not None:
                candidates += [(page, c) for c in same_feed.get((feed_id, page), [])]
            if not candidates or (feed_id, article.entry_key) in links:
                resolved.append(article)
                continue
            match = next(
                (
                    (article_id, key, entry_hash)
                    for article_id, (key, entry_hash, title) in candidates
                    if key not in keys and key not in claimed and title == article.title
                ),
                None,
            )
            if match is not None:
                article_id, key, entry_hash = match
                claimed.add(key)
                rekeys.append(Rekey(feed_id, key, article.entry_key, article_id, entry_hash))
                resolved.append(article)
            elif direct:
                new_id = entry_id(feed_url(feed_id), article.entry_key)
                own.append(new_id)
                resolved.append(replace(article, id=new_id))
            else:
                resolved.append(article)
        out.append((feed_id, resolved, duplicates))
    return out, rekeys, own


_INT32 = 2**31 - 1


def _count_problem(name: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if type(value) is not int:
        return f"{name} {short(value)} is not a whole number"
    if not 0 <= value <= _INT32:
        return f"{name} {value} does not fit the store (0 to {_INT32})"
    return None


def unstorable(article: Article) -> str | None:
    """Why the store cannot hold this article's row (a value beyond a column's type, text
    that is not valid Unicode, a missing value), or None. Checked before anything is written:
    once DuckDB refuses a row, the whole transaction is lost, with the feed's other entries."""
    texts: list[object] = [
        article.id,
        article.entry_key,
        article.title,
        article.summary,
        article.text,
        article.date_source,
        article.content_hash,
    ]
    if not all(isinstance(value, str) for value in texts):
        names = ("id", "entry_key", "title", "summary", "text", "date_source", "content_hash")
        bad = next(n for n, v in zip(names, texts, strict=True) if not isinstance(v, str))
        return f"{bad} is missing"
    for name, value in (
        ("url", article.url),
        ("language", article.language),
        ("fulltext_error", article.fulltext_error),
    ):
        if value is not None and not isinstance(value, str):
            return f"{name} {short(value)} is not text"
        if value is not None:
            texts.append(value)
    if not isinstance(article.published, datetime):
        return "published is not a time"
    if not isinstance(article.date_assumed_utc, bool):
        return "date_assumed_utc is not true or false"
    for problem in (
        _count_problem("word_count", article.word_count),
        _count_problem("reading_minutes", article.reading_minutes),
        _count_problem("comments", article.comments, optional=True),
    ):
        if problem:
            return problem
    try:
        texts.extend(article.authors)
        for tag in article.tags:
            texts.extend((tag.key, tag.display, tag.source))
        terms, counts, forms = zip(*article.terms, strict=True) if article.terms else ((), (), ())
    except (TypeError, ValueError, AttributeError):
        return "authors, tags or terms are malformed"
    # map/min/max run in C: an article has a hundred terms, and this runs for every entry.
    if not set(map(type, texts)) | set(map(type, terms)) | set(map(type, forms)) <= {str}:
        return "an author, tag or term is not text"
    if counts and not (
        set(map(type, counts)) == {int} and min(counts) > 0 and max(counts) <= _INT32
    ):
        return "a term count does not fit the store"
    try:
        "\0".join(texts).encode("utf-8")  # type: ignore[arg-type]
        "\0".join(terms).encode("utf-8")
        "\0".join(forms).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text holds a character that is not valid Unicode ({exc.reason} at {exc.start})"
    return None


def short(value: object, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def published_for(article: Article, stored: tuple[datetime, str] | None) -> tuple[datetime, str]:
    """An entry without a date keeps the first-seen time it was given the first time."""
    if article.date_source == "first-seen" and stored is not None:
        return stored
    return utc_naive(article.published), article.date_source


def noted(parsed: ParsedFeed, counts: SaveCounts) -> ParsedFeed:
    """``parsed`` with the entries the store left out added to its warning (one line)."""
    if not counts.warnings:
        return parsed
    note = f"{counts.dropped} entries not stored ({counts.warnings[0]})"
    return replace(parsed, warning=f"{parsed.warning}; {note}" if parsed.warning else note)


# The columns of each of base.TABLES that `monitor copy` moves, the same on every engine
# (`read_rows` gives them, `write_rows` takes them): what a feed, an article and the rows
# hanging off it are, without any engine's own bookkeeping.
COPY_COLUMNS: dict[str, tuple[str, ...]] = {
    "feeds": (
        "id",
        "url",
        "name",
        "title",
        "site_url",
        "language",
        "kind",
        "subscribed",
        "full_text",
        "restricted",
        "added_at",
        "etag",
        "last_modified",
        "body_hash",
        "last_fetch_at",
        "last_status",
        "last_ok_at",
        "error_count",
        "last_error",
        "warning",
        "next_due_at",
        "disabled",
        "disabled_reason",
        "pages_restricted",
    ),
    "articles": (
        "id",
        "url",
        "title",
        "summary",
        "text",
        "published",
        "date_source",
        "date_assumed_utc",
        "language",
        "word_count",
        "reading_minutes",
        "comments",
        "fulltext_error",
        "first_seen",
        "updated_at",
    ),
    "article_feeds": (
        "feed_id",
        "entry_key",
        "article_id",
        "entry_hash",
        "first_seen",
        "published",
    ),
    "article_authors": ("article_id", "position", "author", "published"),
    "article_tags": ("article_id", "key", "display", "source", "published"),
    "article_terms": ("article_id", "term", "n", "published", "display"),
    "stopwords": ("language", "word", "removed"),
    "article_stories": ("article_id", "story_id", "language", "published", "signature"),
    "story_bands": ("band", "article_id", "published"),
    "saved_queries": ("name", "text", "query_version", "edited"),
}


# The term rebuild's mark in `meta` (key 'terms_rebuild'): '' (nothing done yet) or
# "<published>|<id>" of the last article done, in (published, id) order.


def parse_rebuild_mark(value: str) -> tuple[datetime, str] | None:
    """The (published, id) a rebuild mark names; None for '' (nothing done yet)."""
    if not value:
        return None
    moment, _, article_id = value.partition("|")
    return datetime.fromisoformat(moment), article_id


def rebuild_mark(after: tuple[datetime, str]) -> str:
    return f"{after[0].isoformat()}|{after[1]}"
