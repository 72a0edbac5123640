"""Managing subscriptions: add, remove, OPML in and out, fetch now.

The CLI and the dashboard's Sources page both call these. A feed added through the web page
(`from_web=True`) must not turn a shared deployment into a way into its internal network: its
URL may not resolve to a loopback, private or link-local address (and it is fetched with the
same rule for every redirect and article page), unless MONITOR_ALLOW_PRIVATE_NETWORKS=1.
Feeds added on the command line are the operator's and are not restricted.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor import fetch as fetching
from monitor import ingest
from monitor.opml import OpmlError, Outline, read_opml, write_opml
from monitor.store import Store, query, write

__all__ = [
    "OpmlError",
    "add_feeds",
    "export_opml",
    "fetch_now",
    "import_opml",
    "private_networks_allowed",
    "read_only",
    "remove_feed",
]


def read_only() -> bool:
    """MONITOR_READ_ONLY=1: a shared deployment where nothing may be changed from the web."""
    return os.environ.get("MONITOR_READ_ONLY", "").strip().lower() in {"1", "true", "yes"}


def private_networks_allowed() -> bool:
    return os.environ.get("MONITOR_ALLOW_PRIVATE_NETWORKS", "").strip().lower() in {
        "1",
        "true",
        "yes",
    }


def _check_url(url: str, from_web: bool) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url}: not an http(s) URL")
    if from_web and not private_networks_allowed():
        problem = fetching.check_public_url(url)
        if problem:
            raise ValueError(f"{url}: {problem}")


def add_feeds(
    store: Store,
    urls: list[str],
    *,
    name: str | None = None,
    full_text: bool = False,
    from_web: bool = False,
) -> list[str]:
    """Subscribe to feeds. Returns a line per URL; ValueError (one line) if any is refused,
    in which case none is added.

    From the web (unless MONITOR_ALLOW_PRIVATE_NETWORKS=1), a change to a known feed never
    widens what it may reach: full text switched on there fetches only article pages on
    public addresses (vetted like a web-added feed URL, even for the operator's feeds), and
    subscribing a feed nobody subscribed makes it a web-added one. The operator's
    `monitor feeds add URL --full-text` fetches pages as the feed itself is fetched.
    """
    if from_web and read_only():
        raise ValueError("this dashboard is read-only (MONITOR_READ_ONLY=1)")
    cleaned = [u.strip() for u in urls if u.strip()]
    if not cleaned:
        raise ValueError("no URL given")
    if name and len(cleaned) > 1:
        raise ValueError("a name goes with a single URL")
    for url in cleaned:
        _check_url(url, from_web)
    restricted = from_web and not private_networks_allowed()
    now = datetime.now(UTC)
    lines = []
    with store.write() as con:
        for url in cleaned:
            _, created = write.add_feed(
                con,
                url,
                now=now,
                name=name or None,
                full_text=full_text or None,
                restricted=restricted,
            )
            lines.append(f"{'added' if created else 'already subscribed'}: {url}")
    return lines


def remove_feed(store: Store, url: str, *, from_web: bool = False) -> str:
    if from_web and read_only():
        raise ValueError("this dashboard is read-only (MONITOR_READ_ONLY=1)")
    with store.write() as con:
        removed = write.remove_feed(con, url)
    if removed is None:
        raise ValueError(f"{url}: no such feed")
    return f"removed {url} and {removed} articles only it carried"


def import_opml(store: Store, content: bytes, *, from_web: bool = False) -> list[str]:
    """Subscribe to every http(s) feed in an OPML document. Lines: one summary, then skips."""
    if from_web and read_only():
        raise ValueError("this dashboard is read-only (MONITOR_READ_ONLY=1)")
    outlines = read_opml(content)
    restricted = from_web and not private_networks_allowed()
    skipped: list[str] = []
    accepted: list[Outline] = []
    for outline in outlines:
        try:
            _check_url(outline.url, from_web)
        except ValueError as exc:
            skipped.append(f"skipped {exc}")
            continue
        accepted.append(outline)
    now = datetime.now(UTC)
    added = 0
    with store.write() as con:
        for outline in accepted:
            _, created = write.add_feed(
                con, outline.url, now=now, name=outline.title, restricted=restricted
            )
            added += created
    return [f"{len(outlines)} feeds in the file, {added} new", *skipped]


def export_opml(store: Store) -> bytes:
    """The subscribed feeds as an OPML 2.0 document."""
    with store.read() as con:
        feeds = query.subscriptions(con)
    return write_opml([Outline(f.url, f.title, f.site_url) for f in feeds])


def fetch_now(
    store: Store,
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
    all_feeds: bool = True,
    settings: fetching.FetchSettings | None = None,
) -> dict[str, Any]:
    """Fetch the subscribed feeds now (the Sources page's button). Returns the run summary."""

    def report(item: ingest.SourceReport, done: int, total: int) -> None:
        if on_progress:
            on_progress(done, total, item.line())

    reports = ingest.fetch_feeds(store, settings=settings, all_feeds=all_feeds, on_report=report)
    summary: dict[str, Any] = dict(ingest.summarize(reports))
    summary["errors"] = [r.line() for r in reports if r.failed]
    return summary
