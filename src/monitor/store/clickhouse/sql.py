"""Filters as ClickHouse conditions, with server-side parameters ({name:Type}).

The conditions mirror the DuckDB engine's (`article_where`, `child_where`, `tag_match`): the
same view, the same rows. One difference by design: a per-article table (tags, terms,
authors, feed links) is always narrowed to the articles that are stored (`article_id IN`
the view's articles), because a writer stores an article's tags and terms *before* the
article row (there is no multi-table transaction): what a query sees of an article being
written is nothing, or the article with all of its tags and terms. A view narrowed by time
only does without that join: it leaves out the rows of the articles a writer has named
`pending` (see `write`) that have no article row, which is the same set of rows for less work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from monitor.models import Filters
from monitor.query import Match, Node, condition, match_pattern
from monitor.text import WORD_TEXT, WORD_TITLE

# Whether the store a read's SQL is built for has its word index complete (the store sets
# it before each read, `ClickHouseStore._reads`); without it words are matched by a scan.
WORDS_READY: ContextVar[Callable[[], bool]] = ContextVar(
    "monitor_clickhouse_words", default=lambda: True
)

# Times go in as naive UTC: the type names the zone, or the server would read its own.
UTC_TIME = "DateTime64(6, 'UTC')"


class Params(dict[str, Any]):
    """Named query parameters; `add` returns the placeholder for a value."""

    def add(self, value: Any, kind: str) -> str:
        name = f"p{len(self)}"
        self[name] = value
        return f"{{{name}:{kind}}}"

    def texts(self, values: Sequence[str]) -> str:
        return self.add(list(values), "Array(String)")


def time_conditions(column: str, f: Filters, p: Params) -> list[str]:
    out = []
    if f.since is not None:
        out.append(f"{column} >= {p.add(utc_naive(f.since), UTC_TIME)}")
    if f.until is not None:
        out.append(f"{column} < {p.add(utc_naive(f.until), UTC_TIME)}")
    return out


def tag_match(alias: str, values: Sequence[str], p: Params) -> str:
    """Tags given in any form: by key (`tag_key`) or by a display form as given."""
    from monitor.text import tag_key

    keys = sorted({tag_key(v) for v in values} - {""})
    forms = sorted({v.strip().lstrip("#\uff03").strip() for v in values} - {""})
    if not keys and not forms:
        return "false"
    parts = []
    if keys:
        parts.append(f"{alias}.key IN {p.texts(keys)}")
    if forms:
        parts.append(f"{alias}.display IN {p.texts(forms)}")
    return "(" + " OR ".join(parts) + ")"


def feed_match(alias: str, names: Sequence[str], p: Params) -> str:
    listed = p.texts(names)
    return f"({alias}.url IN {listed} OR {alias}.name IN {listed} OR {alias}.title IN {listed})"


def article_where(f: Filters, p: Params, alias: str = "a") -> str:
    """A condition on `articles {alias}` for every filter ("true" when there are none)."""
    conditions = time_conditions(f"{alias}.published", f, p)
    if f.languages:
        conditions.append(f"{alias}.language IN {p.texts(f.languages)}")
    if f.feeds:
        conditions.append(
            f"{alias}.aid IN (SELECT af.aid FROM article_feeds af WHERE af.feed_id IN "
            f"(SELECT fd.id FROM feeds fd WHERE {feed_match('fd', f.feeds, p)}))"
        )
    if f.authors:
        conditions.append(
            f"{alias}.aid IN (SELECT au.aid FROM article_authors au "
            f"WHERE au.author IN {p.texts(f.authors)})"
        )
    if f.tags:
        conditions.append(
            f"{alias}.aid IN (SELECT tg.aid FROM article_tags tg "
            f"WHERE {tag_match('tg', f.tags, p)})"
        )
    if f.query is not None:
        conditions.append(query_condition(f.query.root, p, alias))
    return " AND ".join(conditions) if conditions else "true"


def query_condition(node: Node, p: Params, alias: str = "a") -> str:
    """A condition on `articles {alias}` for a query tree (`monitor.query`)."""
    return condition(node, lambda m: _match_condition(m, p, alias))


def _match_condition(m: Match, p: Params, alias: str) -> str:
    if m.field == "tag":
        key = p.add(m.words[0], "String")
        test = f"startsWith(tq.key, {key})" if m.prefix else f"tq.key = {key}"
        return f"{alias}.aid IN (SELECT tq.aid FROM article_tags tq WHERE {test})"
    if m.field == "lang":
        code = m.words[0]
        if m.prefix:
            return f"startsWith({alias}.language, {p.add(code, 'String')})"
        same, sub = p.add(code, "String"), p.add(code + "-%", "String")
        return f"({alias}.language = {same} OR {alias}.language LIKE {sub})"
    if m.field in (None, "title", "text") and WORDS_READY.get()():
        return _indexed_condition(m, p, alias)
    pattern = p.add(match_pattern(m), "String")
    if m.field == "author":
        return (
            f"{alias}.aid IN (SELECT aq.aid FROM article_authors aq "
            f"WHERE match(aq.author, {pattern}))"
        )
    if m.field == "feed":
        return (
            f"{alias}.aid IN (SELECT fq.aid FROM article_feeds fq WHERE fq.feed_id IN "
            f"(SELECT fdq.id FROM feeds fdq WHERE match(fdq.title, {pattern}) "
            f"OR match(fdq.name, {pattern}) OR match(fdq.url, {pattern})))"
        )
    columns = {"title": ("title",), "text": ("text",)}.get(m.field or "", ("title", "text"))
    return "(" + " OR ".join(f"match({alias}.{c}, {pattern})" for c in columns) + ")"


def _indexed_condition(m: Match, p: Params, alias: str) -> str:
    """Words, a phrase or a prefix in the title, the text or either, from `article_words`
    (sorted by word: each word reads its own granules, a prefix a range of them); a phrase
    is its words in one field at consecutive positions."""
    field = {"title": WORD_TITLE, "text": WORD_TEXT}.get(m.field or "")
    tests = []
    for n, word in enumerate(m.words):
        value = p.add(word, "String")
        last = n == len(m.words) - 1
        test = f"startsWith(word, {value})" if m.prefix and last else f"word = {value}"
        tests.append(test if field is None else f"{test} AND field = {field}")
    if len(tests) == 1:
        return f"{alias}.aid IN (SELECT aid FROM article_words WHERE {tests[0]})"
    words = [
        f"(SELECT aid, field, positions FROM article_words WHERE {test}) AS w{n}"
        for n, test in enumerate(tests)
    ]
    joins = "".join(
        f" JOIN {w} ON w{n}.aid = w0.aid AND w{n}.field = w0.field"
        for n, w in enumerate(words[1:], start=1)
    )
    follows = " AND ".join(f"has(w{n}.positions, x + {n})" for n in range(1, len(tests)))
    return (
        f"{alias}.aid IN (SELECT w0.aid FROM {words[0]}{joins} "
        f"WHERE arrayExists(x -> {follows}, w0.positions))"
    )


def narrows_articles(f: Filters) -> bool:
    """Whether the view is narrowed by more than time (by a filter on articles)."""
    return bool(f.languages or f.feeds or f.authors or f.tags or f.query)


def child_where(f: Filters, p: Params, alias: str) -> str:
    """A condition on a per-article table: its own time range (the sorting key) and its
    article in the view, and stored (see the module docstring). Narrowed by time only, the
    view's rows are those in its time range (each carries its article's `published`) but
    for the articles named in `pending` that have no row (being written or removed, or
    left by a killed writer): a small set, where joining every row to the stored articles
    costs 25-35% of an all-time count."""
    conditions = time_conditions(f"{alias}.published", f, p)
    if narrows_articles(f):
        conditions.append(
            f"{alias}.aid IN (SELECT a.aid FROM articles a WHERE {article_where(f, p)})"
        )
    else:
        conditions.append(f"{alias}.aid NOT IN ({HIDDEN})")
    return " AND ".join(conditions)


# The pending articles that have no row (being written, removed, or a killed writer's): their
# rows are the per-article rows without a stored article. (A pending article that has its
# row is complete: its writer died, or is about to clear the name, after the article row.)
# The lookup of the few pending ids in `articles` goes through its bloom filter on `id`.
HIDDEN = (
    "SELECT pd.aid FROM pending pd WHERE pd.article_id NOT IN "
    "(SELECT sa.id FROM articles sa WHERE sa.id IN (SELECT pp.article_id FROM pending pp))"
)


def naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc_naive(moment)


def utc_naive(moment: datetime) -> datetime:
    """Times are stored as UTC; aware datetimes are converted first."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
