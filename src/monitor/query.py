"""The query language (issue 11): what a query is, as typed records.

A query (the sidebar's ``q=``, the command line's ``--query``) is parsed into a tree of the
records below. The engines compile the tree to SQL over their word index; the tests'
reference evaluator walks the same tree in plain Python. Words are stored folded
(`monitor.text.fold`), so every comparison is between folded words.

Fields of a `Match`:

- ``None``: the word or phrase in the title or in the text.
- ``"title"``, ``"text"``: in that field only.
- ``"author"``: in one of the article's author names (a phrase within one name).
- ``"feed"``: in the title, name or URL of one of the feeds that carry the article.
- ``"tag"``: a tag key equal to the word (`monitor.text.tag_key`), or starting with it.
- ``"lang"``: the article's language equal to the word ("de" also matches "de-at").
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("title", "text", "author", "feed", "tag", "lang")


@dataclass(frozen=True)
class Match:
    """Folded words that must appear in this order (one word, or a phrase)."""

    words: tuple[str, ...]
    field: str | None = None  # one of FIELDS; None is title or text
    prefix: bool = False  # the last word is a prefix (``klima*``)


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Match | And | Or | Not


@dataclass(frozen=True)
class Query:
    """A parsed query: the text as the user wrote it and its tree.

    ``name`` and ``version`` are set when the query is a saved one (``@NAME``).
    """

    text: str
    root: Node
    name: str | None = None
    version: int | None = None
