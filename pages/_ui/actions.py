"""What the dashboard writes: feeds added, fetched, retried, enabled and removed, OPML in and
out, stopwords, and the article exports.

Each handler refuses in read-only mode on its own (the controls are hidden too), shows a bad
input's one-line reason, and after a write forgets the cached results and reruns the page so
that it shows the store as it is now, with the outcome next to the control used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

from monitor import analyze, savedqueries, subscriptions
from monitor.errors import MonitorError
from monitor.models import Filters
from monitor.store import StoreError
from pages._ui import queries
from pages._ui.flash import flash
from pages._ui.store import forget, read_only, store
from pages._ui.text import code_span, md_escape

_CHOICE = "_monitor_feed_choice"
READ_ONLY_MESSAGE = "This dashboard is read-only (MONITOR_READ_ONLY=1)."


@dataclass(frozen=True)
class _PendingChoice:
    """A web page typed into "Add a feed" that names several feeds: offered to pick from."""

    page_url: str
    links: tuple[subscriptions.FeedLink, ...]
    name: str
    full_text: bool


def _refuse_read_only() -> bool:
    if read_only():
        st.error(READ_ONLY_MESSAGE)
        return True
    return False


def _written(message: str | None, *, place: str, **note: Any) -> None:
    """After a write: forget every cached query result and rerun, so the feeds table and the
    counts show the store as it is now, with the outcome shown next to the form used."""
    forget()
    flash(message, place=place, **note)
    st.rerun()  # raises: nothing after a call to this runs


def export(f: Filters, fmt: str) -> bytes:
    """Every article in the view as CSV or JSON bytes (the rows and columns of `monitor export`)."""
    return analyze.export_articles(store(), f, fmt)


def export_opml() -> bytes:
    """Every subscribed feed as an OPML 2.0 document."""
    return subscriptions.export_opml(store())


def change_stopwords(language: str, typed: str, *, add: bool) -> None:
    """Add or remove user stopwords; refused in read-only mode (the form is hidden too)."""
    if _refuse_read_only():
        return
    words = [w for w in re.split(r"[\s,;]+", typed) if w]
    if not words:
        st.warning("Type at least one word.")
        return
    try:
        if add:
            count = analyze.add_stopwords(store(), language, words)
        else:
            count = analyze.remove_stopwords(store(), language, words)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=200))
        return
    # Rerun so the clouds above are drawn without the words; the note survives the rerun.
    flash(f"{'Added' if add else 'Removed'} {count} words.")
    st.rerun()


def save_query(name: str, text: str) -> None:
    """Add or edit a saved query typed on the Attention page (`savedqueries.add`: the name
    and the query checked, an unknown @name or a parse error shown as one line)."""
    if _refuse_read_only():
        return
    try:
        saved = savedqueries.add(store(), name, text)
    except (MonitorError, ValueError) as exc:
        st.error(md_escape(exc, limit=300), icon=":material/error:")
        return
    action = "Saved" if saved.version == 1 else f"Edited (now version {saved.version})"
    _written(f"{action}: @{saved.name}", place="queries")


def remove_query(name: str) -> None:
    if _refuse_read_only():
        return
    try:
        gone = store().remove_query(savedqueries.check_name(name))
    except (MonitorError, ValueError) as exc:
        st.error(md_escape(exc, limit=300), icon=":material/error:")
        return
    _written(f"Removed @{name}" if gone else f"No saved query @{name}", place="queries")


def add_feed(url: str, name: str, full_text: bool) -> None:
    """Subscribe to a feed typed into the page: fetched once to check it, a web page searched
    for its feeds (several: offered by `feed_choice`), private addresses refused (from_web)."""
    if _refuse_read_only():
        return
    st.session_state.pop(_CHOICE, None)
    try:
        with st.spinner("Checking the feed…"):
            lines = subscriptions.add_feeds(
                store(),
                [url],
                name=name.strip() or None,
                full_text=full_text,
                from_web=True,
                check=True,
            )
    except subscriptions.FeedChoice as choice:
        st.session_state.pop("feed-choice", None)
        st.session_state[_CHOICE] = _PendingChoice(choice.page_url, choice.links, name, full_text)
        return
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=600))
        return
    _written("\n".join([*lines, "Fetch now (below) to get its articles."]), place="add")


def _link_choice(link: subscriptions.FeedLink) -> str:
    """A feed link as a radio label (markdown): format and title, then the URL."""
    title = f": {md_escape(link.title, limit=120)}" if link.title else ""
    return f"{link.format}{title} · {code_span(link.url)}"


def feed_choice() -> None:
    """The feeds a web page named, to pick one (drawn under "Add a feed" while one waits)."""
    pending = st.session_state.get(_CHOICE)
    if not isinstance(pending, _PendingChoice) or read_only():
        return
    links = pending.links
    st.info(
        f"{code_span(pending.page_url)} is a web page that names {len(links)} feeds. "
        "Pick the one to add:",
        icon=":material/rss_feed:",
    )
    index = st.radio(
        "Feeds named by the page",
        range(len(links)),
        format_func=lambda i: _link_choice(links[i]),
        key="feed-choice",
        label_visibility="collapsed",
    )
    add, cancel = st.columns(2)
    if add.button("Add the chosen feed", icon=":material/add:", key="add-chosen"):
        add_feed(links[int(index or 0)].url, pending.name, pending.full_text)
    if cancel.button("Cancel", key="cancel-choice"):
        st.session_state.pop(_CHOICE, None)
        st.rerun()


def import_opml(content: bytes | None) -> None:
    """Subscribe to every feed in an uploaded OPML file."""
    if _refuse_read_only():
        return
    if not content:
        st.warning("Choose an OPML file first.")
        return
    try:
        lines = subscriptions.import_opml(store(), content, from_web=True)
    except (ValueError, StoreError, subscriptions.OpmlError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    _written(lines[0], warnings=lines[1:], place="opml")


def _feed_names() -> dict[str, str]:
    """Feed URL -> the name the table shows (its own name, else its title, else the URL)."""
    names: dict[str, str] = {}
    for row in queries.feeds().to_dict("records"):
        label = next((v for v in (row["name"], row["title"]) if isinstance(v, str) and v), None)
        names[str(row["url"])] = f"{label} ({row['url']})" if label else str(row["url"])
    return names


def _feeds(count: int) -> str:
    return "1 feed" if count == 1 else f"{count} feeds"


def fetch_now(*, all_feeds: bool = True, first: str | None = None, place: str = "fetch") -> None:
    """Fetch every subscribed feed (only the due ones without all_feeds), with a progress bar;
    then the page is drawn again: counts, a warning naming each feed that failed, the log."""
    if _refuse_read_only():
        return
    names = _feed_names()
    bar = st.progress(0.0, text="Starting…")
    log: list[str] = []

    def progress(done: int, total: int, line: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"{done} of {total} feeds")
        log.append(line)

    try:
        summary = subscriptions.fetch_now(store(), on_progress=progress, all_feeds=all_feeds)
    except StoreError as exc:
        st.error(md_escape(exc, limit=300))
        return
    bar.progress(1.0, text="Done")
    if not log:
        _written("\n".join(filter(None, [first, "No feeds to fetch."])), place=place)
        return
    counts = (
        f"{_feeds(summary['sources'])} fetched: {summary['new']} new, {summary['updated']} "
        f"updated, {summary['unchanged']} unchanged articles; {summary['failed']} failed"
    )
    failures = [f"{names.get(url, url)}: {error}" for url, error in summary["failures"]]
    _written(
        "\n".join(filter(None, [first, counts])),
        warnings=[f"{_feeds(len(failures))} failed:", *failures] if failures else (),
        log="\n".join(log),
        place=place,
    )


def remove_feed(url: str) -> None:
    """Unsubscribe and delete the articles only this feed carried."""
    if _refuse_read_only():
        return
    try:
        line = subscriptions.remove_feed(store(), url, from_web=True)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    _written(line, place="manage")


def retry_feed(url: str) -> None:
    """A feed in backoff made due now, then the due feeds fetched (this one among them)."""
    if _refuse_read_only():
        return
    try:
        line = subscriptions.retry_feed(store(), url, from_web=True)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    fetch_now(all_feeds=False, first=line, place="manage")


def enable_feed(url: str) -> None:
    """A disabled feed (410 Gone, or by hand) enabled again and fetched with the due feeds."""
    if _refuse_read_only():
        return
    try:
        line = subscriptions.enable_feed(store(), url, from_web=True)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    fetch_now(all_feeds=False, first=line, place="manage")
