"""The Attention page's UI helpers: up to six query boxes in the URL (`aq1`..`aq6`), their
parsing (saved queries resolved in the dashboard's store), and the cached analysis."""

from __future__ import annotations

from typing import Any

import streamlit as st

from monitor import analyze, savedqueries
from monitor.errors import MonitorError
from monitor.models import Filters
from pages._ui.store import cached, store
from pages._ui.text import md_escape
from pages._ui.widgets import text_input

KEYS = tuple(f"aq{i}" for i in range(1, analyze.ATTENTION_MAX_QUERIES + 1))
MAX_CHARS = 500


def query_boxes() -> list[str]:
    """The query texts typed (or linked) in the six boxes, in order, empty ones left out."""
    texts: list[str] = []
    columns = st.columns(3)
    for index, key in enumerate(KEYS):
        text = text_input(
            f"Query {index + 1}",
            key=key,
            max_chars=MAX_CHARS,
            where=columns[index % 3],
            placeholder="@name, or EU OR Brüssel" if index == 0 else "",
        )
        if text.strip():
            texts.append(text.strip())
    return texts


def parse_all(texts: list[str]) -> tuple[list[Any], list[str]] | None:
    """The parsed queries and their chart labels; a query that cannot be used shows one line
    (which box, why) and gives None."""
    s = store()
    resolve = savedqueries.resolver(s)
    parsed: list[Any] = []
    labels: list[str] = []
    for index, text in enumerate(texts):
        try:
            q = savedqueries.parse(text, resolve)
        except MonitorError as exc:
            st.error(f"Query {index + 1}: {md_escape(exc, limit=300)}", icon=":material/error:")
            return None
        parsed.append(q)
        labels.append(savedqueries.label(q, s.saved_query(q.name) if q.name else None))
    return parsed, labels


def saved() -> list[Any]:
    """The saved queries (name, text, version, edited)."""
    return store().saved_queries()


def attention(
    f: Filters, parsed: list[Any], labels: list[str], *, by: str, timezone: str
) -> analyze.Attention:
    result: analyze.Attention = cached(
        "attention", f, tuple(parsed), by=by, timezone=timezone, labels=tuple(labels)
    )
    return result
