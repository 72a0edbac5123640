"""Saved queries (issue 11): named queries kept in the store, used as ``@NAME``.

The store keeps each one's text, version (1 when added, +1 on each edit) and when it was
last edited (`Storage.saved_queries`); this module checks names and texts before they are
stored, resolves ``@NAME`` for the parser, and says on a chart which query and version it
shows ("@eu, version 3, edited 2026-12-01").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.errors import InputError, NotFound

if TYPE_CHECKING:
    from monitor.query import Query
    from monitor.store.base import SavedQuery, Storage

NAME_MAX = 64
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
TEXT_MAX = 2000

Resolve = Callable[[str], "tuple[str, int] | None"]


def check_name(name: str) -> str:
    """The name as stored; InputError (one line) for a name outside letters, digits, - _."""
    bare = name[1:] if name.startswith("@") else name
    if not _NAME.fullmatch(bare):
        shown = bare if len(bare) <= NAME_MAX else bare[:NAME_MAX] + "..."
        raise InputError(
            f"saved query name {shown!r}: use 1 to {NAME_MAX} letters, digits, '-' or '_'"
        )
    return bare


def resolver(store: Storage) -> Resolve:
    """``resolve(name) -> (text, version) | None`` for `monitor.query.parse`."""

    def resolve(name: str) -> tuple[str, int] | None:
        found = store.saved_query(name)
        return None if found is None else (found.text, found.version)

    return resolve


def parse(text: str, resolve: Resolve | None = None) -> Query:
    """`monitor.query.parse`: the query, or a one-line `QueryError` (an InputError)."""
    from monitor import query as q

    return q.parse(text, resolve=resolve)


def label(query: Query, saved: SavedQuery | None = None) -> str:
    """How a chart names a query: its text, or ``@eu, version 3, edited 2026-12-01``."""
    if query.name is None:
        return query.text
    out = f"@{query.name}"
    if query.version is not None:
        out += f", version {query.version}"
    if saved is not None and saved.version == query.version:
        out += f", edited {saved.edited:%Y-%m-%d}"
    return out


def add(store: Storage, name: str, text: str) -> SavedQuery:
    """Add or edit a saved query, checked first."""
    bare = check_name(name)
    clean = " ".join(text.split())
    if clean == f"@{bare}":
        raise InputError(f"saved query {bare!r} cannot be itself")
    check_text_length(clean)
    parse(clean, resolver(store))  # parse errors, unknown @names: one line
    return store.save_query(bare, clean)


def check_text_length(text: str) -> str:
    if not text:
        raise InputError("saved query: the query is empty")
    if len(text) > TEXT_MAX:
        raise InputError(f"saved query: at most {TEXT_MAX} characters, not {len(text)}")
    return text


def remove(store: Storage, name: str) -> None:
    bare = check_name(name)
    if not store.remove_query(bare):
        raise NotFound(f"no saved query named {bare!r} (monitor queries list)")
