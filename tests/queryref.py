"""A reference evaluator for the query language, in plain Python, and a query generator.

`matches(node, article)` decides whether an exported article (`Storage.export_batches`'
columns plus its feeds' titles and names) matches a query tree, with nothing but
`monitor.text.search_words`, `fold` and `tag_key`: a phrase is the words at consecutive
positions of one field. It is written to be obviously right, not fast; the engines' SQL is
checked against it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.query import And, Match, Node, Not, Or
from monitor.text import search_words, tag_key


@dataclass(frozen=True)
class Doc:
    title: str
    text: str
    authors: tuple[str, ...]
    feeds: tuple[str, ...]  # each carrying feed's title, name and URL
    tags: tuple[str, ...]  # tag keys
    language: str | None


def _has(words: list[str], match: Match) -> bool:
    want = match.words
    n = len(want)
    for i in range(len(words) - n + 1):
        head = all(words[i + k] == want[k] for k in range(n - 1))
        last = words[i + n - 1]
        if head and (last.startswith(want[-1]) if match.prefix else last == want[-1]):
            return True
    return False


def matches(node: Node, doc: Doc) -> bool:
    if isinstance(node, And):
        return all(matches(p, doc) for p in node.parts)
    if isinstance(node, Or):
        return any(matches(p, doc) for p in node.parts)
    if isinstance(node, Not):
        return not matches(node.part, doc)
    m = node
    if m.field == "tag":
        return any(t.startswith(m.words[0]) if m.prefix else t == m.words[0] for t in doc.tags)
    if m.field == "lang":
        lang = (doc.language or "").lower()
        code = m.words[0]
        return lang.startswith(code) if m.prefix else lang == code or lang.startswith(code + "-")
    fields = {
        None: (doc.title, doc.text),
        "title": (doc.title,),
        "text": (doc.text,),
        "author": doc.authors,
        "feed": doc.feeds,
    }[m.field]
    return any(_has(search_words(value), m) for value in fields)


def doc_of(record: dict[str, object], feeds: dict[str, tuple[str, ...]]) -> Doc:
    """An exported article as a `Doc`; ``feeds`` maps a feed URL to its title, name, URL."""
    urls = record.get("feed_urls") or ()
    return Doc(
        title=str(record.get("title") or ""),
        text=str(record.get("text") or ""),
        authors=tuple(str(a) for a in record.get("authors") or ()),  # type: ignore[union-attr]
        feeds=tuple(v for u in urls for v in feeds.get(str(u), (str(u),))),  # type: ignore[union-attr]
        tags=tuple(tag_key(str(t)) for t in record.get("tags") or ()),  # type: ignore[union-attr]
        language=record.get("language") or None,  # type: ignore[arg-type]
    )


def random_queries(rng: random.Random, vocabulary: Sequence[str], n: int) -> list[str]:
    """``n`` query texts over ``vocabulary``: words in other spellings, phrases, prefixes,
    fields, AND/OR/NOT/-, parentheses."""

    def spelling(word: str) -> str:
        choice = rng.random()
        if choice < 0.25:
            return word.upper()
        if choice < 0.5:
            return word.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
        return word

    def term() -> str:
        kind = rng.random()
        word = spelling(rng.choice(vocabulary))
        if kind < 0.15:
            return f'"{word} {spelling(rng.choice(vocabulary))}"'
        if kind < 0.25 and len(word) > 3:
            return word[: rng.randint(2, len(word) - 1)] + "*"
        if kind < 0.35:
            return f"{rng.choice(('title', 'text', 'author', 'feed'))}:{word}"
        if kind < 0.4:
            return f"lang:{rng.choice(('de', 'en'))}"
        if kind < 0.47:
            return f"#{rng.choice(('Alpha', 'Beta', 'Klima', 'EU', 'Börse'))}"
        return word

    def expr(depth: int) -> str:
        if depth > 2 or rng.random() < 0.4:
            t = term()
            return ("-" + t if rng.random() < 0.1 else t) if depth else t
        left, right = expr(depth + 1), expr(depth + 1)
        op = rng.choice((" ", " AND ", " OR ", " OR ", " AND NOT "))
        out = f"{left}{op}{right}"
        return f"({out})" if rng.random() < 0.5 else out

    return [expr(0) for _ in range(n)]
