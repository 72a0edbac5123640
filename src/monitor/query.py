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

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from monitor.errors import InputError
from monitor.text import fold, search_words, tag_key

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


# --- parsing -------------------------------------------------------------------------------

QUERY_MAX_CHARS = 2_000
MAX_TERMS = 64
MAX_DEPTH = 32
MAX_SAVED_DEPTH = 8
OPERATORS = ("AND", "OR", "NOT")

Resolve = Callable[[str], "tuple[str, int] | None"]


class QueryError(InputError):
    """A query that cannot be parsed; the message points at the place (1-based)."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "-" "AND" "OR" "NOT" "word" "phrase" "tag" "saved"
    value: str
    at: int  # 1-based position in the text
    field: str | None = None


_SPACE = frozenset(" \t\r\n\f\v\u00a0\u2009\u202f\u3000")
_STOP_WORD = frozenset(' \t\r\n\f\v\u00a0\u2009\u202f\u3000()"')
_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c", "\u00bb": "\u00ab", "\u00ab": "\u00bb"}
_FIELD_NAME = re.compile(r"([A-Za-z]+):")
_SAVED = re.compile(r"@([A-Za-z0-9_-]{1,64})")


def _tokens(text: str) -> list[_Token]:
    """The query's tokens, in one pass over the text."""
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        if ch in "()":
            out.append(_Token(ch, ch, i + 1))
            i += 1
            continue
        start = i
        if ch == "-" and i + 1 < n and text[i + 1] not in _SPACE and text[i + 1] != ")":
            out.append(_Token("-", "-", i + 1))
            i += 1
            continue
        field = None
        named = _FIELD_NAME.match(text, i)
        if named is not None:
            name = named.group(1).lower()
            if name in FIELDS:
                field = name
                i = named.end()
            else:
                close = difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)
                if close:
                    raise QueryError(
                        f'unknown field "{named.group(0)}" at {start + 1} (did you mean '
                        f'"{close[0]}:"?)'
                    )
            if i >= n or text[i] in _SPACE or text[i] == ")":
                if field is not None:
                    raise QueryError(f'nothing after "{named.group(0)}" at {start + 1}')
        if i < n and text[i] in _QUOTES:
            closing = _QUOTES[text[i]]
            end = text.find(closing, i + 1)
            if end < 0 and closing != '"':
                end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(f"unclosed quote at {i + 1}")
            out.append(_Token("phrase", text[i + 1 : end], start + 1, field))
            i = end + 1
            continue
        j = i
        while j < n and text[j] not in _STOP_WORD:
            j += 1
        word = text[i:j]
        i = j
        if field is None and word in OPERATORS:
            out.append(_Token(word, word, start + 1))
        elif field is None and word[:1] in "#\uff03" and len(word) > 1:
            out.append(_Token("word", word[1:], start + 1, "tag"))
        elif field is None and word[:1] == "@":
            saved = _SAVED.fullmatch(word)
            if saved is None:
                raise QueryError(
                    f'bad saved query name "{word}" at {start + 1} (letters, digits, - and _)'
                )
            out.append(_Token("saved", saved.group(1), start + 1))
        else:
            out.append(_Token("word", word, start + 1, field))
    return out


def _match(token: _Token) -> Match:
    value = token.value.strip()
    prefix = value.endswith("*")
    if prefix:
        value = value.rstrip("*")
    field = token.field
    if field == "tag":
        key = tag_key(value)
        if not key:
            raise QueryError(f'no tag in "{token.value}" at {token.at}')
        return Match((key,), "tag", prefix)
    if field == "lang":
        code = value.lower()
        if not re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*", code):
            raise QueryError(f'not a language code "{token.value}" at {token.at} (e.g. lang:de)')
        return Match((code,), "lang", prefix)
    words = tuple(search_words(value))
    if not words:
        raise QueryError(f'no words in "{token.value}" at {token.at}')
    return Match(words, field, prefix)


class _Parser:
    """Recursive descent over the tokens; NOT binds tighter than AND, AND than OR."""

    def __init__(
        self, tokens: list[_Token], text: str, resolve: Resolve | None, saved: tuple[str, ...]
    ):
        self.tokens = tokens
        self.text = text
        self.pos = 0
        self.terms = 0
        self.resolve = resolve
        self.saved = saved
        self.opened: list[int] = []  # where each open parenthesis is

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def end_at(self) -> int:
        return len(self.text) + 1

    def parse(self) -> Node:
        node = self.either(0)
        token = self.peek()
        if token is not None:
            raise QueryError(f'unexpected "{token.value}" at {token.at}')
        return node

    def either(self, depth: int) -> Node:
        parts = [self.both(depth)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.pos += 1
            following = self.peek()
            if following is None or following.kind in (")", "OR", "AND"):
                raise QueryError(f"nothing after OR at {token.at}")
            parts.append(self.both(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def both(self, depth: int) -> Node:
        parts = [self.unary(depth)]
        while (token := self.peek()) is not None and token.kind not in (")", "OR"):
            if token.kind == "AND":
                self.pos += 1
                following = self.peek()
                if following is None or following.kind in (")", "OR", "AND"):
                    raise QueryError(f"nothing after AND at {token.at}")
            parts.append(self.unary(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("NOT", "-"):
            self.pos += 1
            following = self.peek()
            if following is None or following.kind in (")", "OR", "AND"):
                raise QueryError(f"nothing after {token.value} at {token.at}")
            if depth + 1 > MAX_DEPTH:
                raise QueryError(f"nested too deeply at {token.at} (at most {MAX_DEPTH})")
            return Not(self.unary(depth + 1))
        return self.primary(depth)

    def primary(self, depth: int) -> Node:
        token = self.peek()
        if token is None:
            if self.opened:
                raise QueryError(f'unclosed "(" at {self.opened[-1]}')
            raise QueryError(f"query ends too early at {self.end_at()}")
        if token.kind in ("AND", "OR"):
            raise QueryError(f"nothing before {token.kind} at {token.at}")
        if token.kind == ")":
            raise QueryError(f'unexpected ")" at {token.at}')
        self.pos += 1
        if token.kind == "(":
            if depth + 1 > MAX_DEPTH:
                raise QueryError(f"nested too deeply at {token.at} (at most {MAX_DEPTH})")
            if (inner := self.peek()) is not None and inner.kind == ")":
                raise QueryError(f"empty parentheses at {token.at}")
            self.opened.append(token.at)
            node = self.either(depth + 1)
            self.opened.pop()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QueryError(f'unclosed "(" at {token.at}')
            self.pos += 1
            return node
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"too many terms at {token.at} (at most {MAX_TERMS})")
        if token.kind == "saved":
            return _saved(token.value, token.at, self.resolve, self.saved)[0]
        return _match(token)


def _saved(name: str, at: int, resolve: Resolve | None, saved: tuple[str, ...]) -> tuple[Node, int]:
    if resolve is None:
        raise QueryError(f'saved query "@{name}" at {at}: saved queries need a store')
    if name in saved:
        raise QueryError(
            f'saved query "@{name}" refers to itself ({" -> ".join("@" + s for s in saved)})'
        )
    if len(saved) >= MAX_SAVED_DEPTH:
        raise QueryError(
            f'saved query "@{name}" at {at}: saved queries nest at most {MAX_SAVED_DEPTH} deep'
        )
    found = resolve(name)
    if found is None:
        raise QueryError(f'unknown saved query "@{name}" at {at}')
    text, version = found
    try:
        return _parse_tree(text, resolve, (*saved, name)), version
    except QueryError as error:
        raise QueryError(f'saved query "@{name}": {error}') from None


def _parse_tree(text: str, resolve: Resolve | None, saved: tuple[str, ...]) -> Node:
    if len(text) > QUERY_MAX_CHARS:
        raise QueryError(f"query too long: {len(text)} characters (at most {QUERY_MAX_CHARS})")
    tokens = _tokens(text)
    if not tokens:
        raise QueryError("empty query")
    return _Parser(tokens, text, resolve, saved).parse()


def parse(text: str, resolve: Resolve | None = None) -> Query:
    """The query ``text`` as a tree; `QueryError` (one line, with the place) when it is not one.

    ``resolve(name)`` gives a saved query's ``(text, version)`` for ``@name`` (None when
    there is none). A query that is one saved query keeps its name and version.
    """
    stripped = text.strip()
    whole = _SAVED.fullmatch(stripped)
    if whole is not None:
        root, version = _saved(whole.group(1), text.find("@") + 1, resolve, ())
        return Query(text, root, name=whole.group(1), version=version)
    return Query(text, _parse_tree(text, resolve, ()))


def describe(query: Query) -> str:
    """How a chart names a query: ``@eu (version 3)`` for a saved one, else its text."""
    if query.name is not None:
        return f"@{query.name}" + (f" (version {query.version})" if query.version else "")
    return " ".join(query.text.split())


def condition(node: Node, leaf: Callable[[Match], str]) -> str:
    """A query tree as one SQL condition: AND, OR and NOT as SQL writes them on every engine,
    each `Match` as `leaf` makes it (the engine's own SQL, with its parameters)."""
    if isinstance(node, And):
        return "(" + " AND ".join(condition(x, leaf) for x in node.parts) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(condition(x, leaf) for x in node.parts) + ")"
    if isinstance(node, Not):
        return f"(NOT {condition(node.part, leaf)})"
    return leaf(node)


# --- matching words in stored text ---------------------------------------------------------
#
# Where the word index is not there yet (a store whose rebuild has not filled it), and for
# `author:` and `feed:`, the engines match a `Match` by a regular expression over the stored
# text: RE2 syntax, which DuckDB's `regexp_matches` and ClickHouse's `match` share. The
# pattern finds the folded words as `search_words` splits them: each letter may be any
# character that folds to it, "ss" may be "ß", "ae" "ä" and so on, and words are delimited
# by anything that is not a letter or a digit.

_EDGE_BEFORE = r"(?:^|[^\pL\pN])"
_EDGE_AFTER = r"(?:[^\pL\pN]|$)"
_GAP = r"[^\pL\pN]+"


@lru_cache(maxsize=1)
def _folded_from() -> dict[str, frozenset[str]]:
    """Each folded string of one or two characters: the characters that fold to it."""
    sources: dict[str, set[str]] = {}
    for code in range(0x20, 0x3000):
        ch = chr(code)
        if not ch.isalnum():
            continue
        folded = fold(ch)
        if 1 <= len(folded) <= 2 and folded != ch:
            sources.setdefault(folded, set()).add(ch)
    return {k: frozenset(v) for k, v in sources.items()}


def _char_class(chars: set[str]) -> str:
    if len(chars) == 1:
        return re.escape(next(iter(chars)))
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _word_pattern(word: str, prefix: bool = False) -> str:
    sources = _folded_from()
    out = []
    i = 0
    while i < len(word):
        pair = word[i : i + 2]
        one = {word[i]} | set(sources.get(word[i], ()))
        if prefix and i == len(word) - 1:
            # A prefix may end inside a character that folds to two ("zo*" finds "Zölle").
            one |= {c for k, v in sources.items() if len(k) == 2 and k[0] == word[i] for c in v}
        if len(pair) == 2 and pair in sources:
            two = {pair[1]} | set(sources.get(pair[1], ()))
            out.append(
                f"(?:{_char_class(one)}{_char_class(two)}|{_char_class(set(sources[pair]))})"
            )
            i += 2
            continue
        out.append(_char_class(one))
        i += 1
    return "".join(out)


def match_pattern(match: Match) -> str:
    """An RE2 pattern that finds ``match``'s words, in order, as whole words, in a text."""
    last = len(match.words) - 1
    body = _GAP.join(
        _word_pattern(w, match.prefix and i == last) for i, w in enumerate(match.words)
    )
    return _EDGE_BEFORE + body + (r"" if match.prefix else _EDGE_AFTER)
