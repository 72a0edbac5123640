"""Managing subscriptions: add, remove, OPML in and out, fetch now.

The CLI and the dashboard's Sources page both call these. A feed added through the web page
(`from_web=True`) must not turn a shared deployment into a way into its internal network: its
URL may not resolve to a loopback, private or link-local address (and it is fetched with the
same rule for every redirect and article page), unless MONITOR_ALLOW_PRIVATE_NETWORKS=1.
Feeds added on the command line are the operator's and are not restricted.

Adding with `check=True` (the CLI and the page do) fetches each new URL once: a feed is
added; a web page is searched for the feeds it announces (`<link rel="alternate">`, see
`monitor.discover`) and its one feed is added instead, or `FeedChoice` lists several to pick
from. A URL without a scheme gets `https://`. Remove, enable (a feed disabled by 410 Gone)
and retry (a feed in backoff) work on one feed by its URL.

A refused change raises a `SubscriptionError` (a `monitor.errors.MonitorError`, and a
ValueError) with a one-line reason; of those `InvalidInput` (an `InputError`) when what was
given cannot be right (not a URL) and `NoSuchFeed` (a `NotFound`) when it names no feed. The
CLI takes the exit code from the class (`exit_code`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from monitor import discover, ingest
from monitor import fetch as fetching
from monitor import settings as monitor_settings
from monitor.discover import FeedLink
from monitor.errors import InputError, MonitorError, NotFound
from monitor.models import FetchRequest
from monitor.opml import OpmlError, Outline, read_opml, write_opml
from monitor.parse import parse_feed
from monitor.store.base import Storage

__all__ = [
    "PRIVATE_HINT",
    "FeedCheck",
    "FeedChoice",
    "FeedLink",
    "InvalidInput",
    "NoSuchFeed",
    "OpmlError",
    "SubscriptionError",
    "add_feeds",
    "check_feeds",
    "complete_url",
    "enable_feed",
    "export_opml",
    "fetch_now",
    "import_opml",
    "private_networks_allowed",
    "read_only",
    "remove_feed",
    "retry_feed",
]

PRIVATE_HINT = (
    "feeds in private networks can be allowed by starting the dashboard with "
    "MONITOR_ALLOW_PRIVATE_NETWORKS=1 (or added on the command line: monitor feeds add URL)"
)


class SubscriptionError(MonitorError, ValueError):
    """A change to the subscriptions that was refused, with a one-line reason. Exit code 1."""


class InvalidInput(SubscriptionError, InputError):
    """What was given cannot be right whatever the store holds (not a URL, say). Exit code 2."""


class NoSuchFeed(SubscriptionError, NotFound):
    """A well-formed URL that no feed in the store has. Exit code 1."""


def read_only() -> bool:
    """MONITOR_READ_ONLY: a shared deployment where nothing may be changed from the web.
    A value that is neither on nor off raises `monitor.settings.SettingError`."""
    return monitor_settings.read_only()


def private_networks_allowed() -> bool:
    """MONITOR_ALLOW_PRIVATE_NETWORKS: web-added feeds may point into private networks."""
    return monitor_settings.allow_private_networks()


def _refuse_read_only(from_web: bool) -> None:
    """A change asked for from the web of a read-only dashboard is refused (one line)."""
    if from_web and read_only():
        raise SubscriptionError("this dashboard is read-only (MONITOR_READ_ONLY=1)")


def _check_url(url: str, from_web: bool) -> None:
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"{url}: not an http(s) URL")
    if from_web and not private_networks_allowed():
        problem = fetching.check_public_url(url)
        if problem:
            # A name that does not resolve is most likely a typo, not a private address.
            hint = "" if problem.startswith("cannot resolve") else f"; {PRIVATE_HINT}"
            raise InvalidInput(f"{url}: {problem}{hint}")


# A host as people type it: a dotted name or IPv4 address, localhost, or an [IPv6] literal,
# with an optional port, then a path, query, fragment or nothing.
_HOST_FIRST = re.compile(
    r"^(?:[^\s/?#:@\[\]]+\.[^\s/?#:@\[\]]+|localhost|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:[/?#]|$)",
    re.IGNORECASE,
)
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def complete_url(text: str) -> str:
    """A URL as typed, made absolute: `example.com/feed` -> `https://example.com/feed`.

    `//host/x` and `feed://host/x` become https as well, `feed:https://...` loses its prefix,
    the scheme is lower-cased. ValueError (one line) for another scheme (`ftp:`,
    `javascript:`) or text that does not start with a host name.
    """
    url = text.strip()
    lower = url.lower()
    if lower.startswith("feed:") and lower[5:].startswith(("http://", "https://")):
        url, lower = url[5:], lower[5:]
    elif lower.startswith("feed://"):
        url, lower = "https://" + url[7:], "https://" + lower[7:]
    elif url.startswith("//"):
        url, lower = "https:" + url, "https:" + lower
    for scheme in ("http://", "https://"):
        if lower.startswith(scheme):
            return scheme + url[len(scheme) :]
    if _HOST_FIRST.match(url):
        return "https://" + url
    shown = url if len(url) <= 80 else url[:79] + "…"
    if _HAS_SCHEME.match(url):
        raise InvalidInput(f"{shown}: not an http(s) URL")
    raise InvalidInput(f"{shown}: not a URL (give a feed's address, e.g. https://example.com/feed)")


@dataclass(frozen=True)
class FeedCheck:
    """What fetching a URL once, before subscribing to it, found.

    `kind`: "feed" (a feed monitor can read), "page" (an HTML page; `links` holds the feeds
    it announces), "unreachable" (no answer, or an answer that may change: a timeout, 5xx,
    429, ...), "refused" (the address is in a private network and the URL came from the web)
    or "not-a-feed" (the server answered with something that is neither: 404, 410, an image,
    a broken document).
    """

    url: str
    final_url: str
    kind: str
    title: str | None = None
    entries: int = 0
    links: tuple[FeedLink, ...] = ()
    error: str | None = None


class FeedChoice(InvalidInput):
    """A web page that announces several feeds: one of `links` has to be chosen."""

    def __init__(self, page_url: str, links: Sequence[FeedLink]) -> None:
        self.page_url = page_url
        self.links = tuple(links)
        listed = "; ".join(link.label() for link in self.links)
        super().__init__(
            f"{page_url} is a web page with {len(self.links)} feed links; add one of them: {listed}"
        )


def check_feeds(
    urls: Sequence[str],
    *,
    from_web: bool = False,
    settings: fetching.FetchSettings | None = None,
) -> list[FeedCheck]:
    """Fetch each URL once (concurrently, with the fetcher's limits) and say what it is.

    From the web (unless MONITOR_ALLOW_PRIVATE_NETWORKS=1) every hop is vetted: a redirect
    into a private network is "refused". Never raises for a bad URL or server.
    """
    restricted = from_web and not private_networks_allowed()
    base = settings or fetching.FetchSettings()
    fetch_settings = replace(base, allow_private=base.allow_private and not restricted)
    results = fetching.fetch_many([FetchRequest(url) for url in urls], fetch_settings)
    now = datetime.now(UTC)
    checks: list[FeedCheck] = []
    for url, result in zip(urls, results, strict=True):
        final = result.final_url or url
        if result.error is not None or result.content is None:
            error = result.error or "no content"
            if restricted and fetching.check_public_url(final):
                kind = "refused"
            elif result.status in (404, 410):
                kind = "not-a-feed"
            else:
                kind = "unreachable"
            checks.append(FeedCheck(url, final, kind, error=error))
            continue
        content_type = result.headers.get("content-type")
        if discover.is_html(result.content, content_type):
            links = discover.feed_links(result.content, final, content_type)
            checks.append(FeedCheck(url, final, "page", links=links))
            continue
        parsed = parse_feed(
            result.content,
            source=url,
            feed_url=final,
            fetched_at=now,
            headers=dict(result.headers),
        )
        if parsed.error:
            checks.append(FeedCheck(url, final, "not-a-feed", error=parsed.error))
            continue
        checks.append(
            FeedCheck(url, final, "feed", title=parsed.title or None, entries=len(parsed.articles))
        )
    return checks


def _resolve(
    store: Storage, urls: list[str], from_web: bool, completed: set[str]
) -> tuple[list[str], list[str]]:
    """The feed URLs to subscribe to for `urls` (completed and vetted already), and notes on
    what the checks found. ValueError (FeedChoice for several feed links) if any URL cannot be
    added; nothing is written here.

    A URL already in the store is not fetched again. A page's one feed link is fetched in turn
    (it has to be a feed). A URL that cannot be reached is refused from the web (most likely a
    typo) and added with a note on the command line (the operator may be offline, or the
    server down for now: `monitor fetch` tries again). `completed`: URLs that got their
    `https://` from us; one that cannot be reached is refused everywhere, saying so.
    """
    with store.session():
        known = {url for url in urls if store.feed_state(url) is not None}
    targets = {url: url for url in urls}
    notes: list[str] = []
    links: list[str] = []
    for check in check_feeds([u for u in urls if u not in known], from_web=from_web):
        if check.kind != "page":
            notes.append(_accepted(check, from_web, check.url in completed))
            continue
        if not check.links:
            raise SubscriptionError(
                f'{check.url} is a web page that names no feed (no <link rel="alternate"> '
                "of type RSS or Atom): give the feed's own address"
            )
        if len(check.links) > 1:
            raise FeedChoice(check.url, check.links)
        link = check.links[0]
        _check_url(link.url, from_web)
        notes.append(f"{check.url} is a web page; the feed it names: {link.label()}")
        targets[check.url] = link.url
        links.append(link.url)
    for check in check_feeds(links, from_web=from_web):
        if check.kind == "page":
            raise SubscriptionError(f"{check.url}: a web page, not a feed")
        notes.append(_accepted(check, from_web, False))
    return list(dict.fromkeys(targets[url] for url in urls)), notes


def _accepted(check: FeedCheck, from_web: bool, completed: bool) -> str:
    """The note for a checked URL that is not a page, or ValueError if it cannot be added."""
    if check.kind == "feed":
        title = f"“{check.title}”, " if check.title else ""
        entries = "1 entry" if check.entries == 1 else f"{check.entries} entries"
        return f"checked {check.url}: a feed ({title}{entries})"
    if check.kind == "refused":
        raise InvalidInput(f"{check.url}: {check.error}; {PRIVATE_HINT}")
    # We chose https for a URL typed without a scheme: say so, the site may serve only http.
    assumed = " (https:// was assumed: type http:// if the site has no https)" if completed else ""
    # A URL we completed is our guess: one that fails is not stored, from anywhere.
    if check.kind == "unreachable" and not from_web and not completed:
        return (
            f"could not check {check.url}: {check.error}{assumed}; added anyway "
            "(`monitor fetch` tries it again)"
        )
    if check.kind == "unreachable":
        raise SubscriptionError(f"{check.url}: {check.error}{assumed}; nothing added")
    raise SubscriptionError(f"{check.url}: {check.error}{assumed}")


def add_feeds(
    store: Storage,
    urls: list[str],
    *,
    name: str | None = None,
    full_text: bool = False,
    from_web: bool = False,
    check: bool = False,
) -> list[str]:
    """Subscribe to feeds. Returns a line per URL; ValueError (one line) if any is refused,
    in which case none is added.

    A URL without a scheme gets `https://`. With `check` each new URL is fetched once first
    (see `_resolve`): a web page is replaced by the one feed it names, or FeedChoice (a
    ValueError) lists its feeds when it names several.

    From the web (unless MONITOR_ALLOW_PRIVATE_NETWORKS=1), a change to a known feed never
    widens what it may reach: full text switched on there fetches only article pages on
    public addresses (vetted like a web-added feed URL, even for the operator's feeds), and
    subscribing a feed nobody subscribed makes it a web-added one. The operator's
    `monitor feeds add URL --full-text` fetches pages as the feed itself is fetched.
    """
    _refuse_read_only(from_web)
    typed = [u.strip() for u in urls if u.strip()]
    cleaned = [complete_url(u) for u in typed]
    completed = {
        url
        for url, raw in zip(cleaned, typed, strict=True)
        if not raw.lower().startswith(("http://", "https://", "feed:http://", "feed:https://"))
    }
    if not cleaned:
        raise InvalidInput("no URL given")
    if name and len(cleaned) > 1:
        raise InvalidInput("a name goes with a single URL")
    for url in cleaned:
        _check_url(url, from_web)
    notes: list[str] = []
    if check:
        cleaned, notes = _resolve(store, cleaned, from_web, completed)
    restricted = from_web and not private_networks_allowed()
    now = datetime.now(UTC)
    lines = []
    with store.session():
        for url in cleaned:
            _, created = store.add_feed(
                url,
                now=now,
                name=name or None,
                full_text=full_text or None,
                restricted=restricted,
            )
            lines.append(f"{'added' if created else 'already subscribed'}: {url}")
    return [*notes, *lines]


def _known_url(url: str) -> str:
    """A stored feed's URL as given: http(s), or file:// for an ingested file."""
    cleaned = url.strip()
    if not cleaned.startswith(("http://", "https://", "file://")):
        raise InvalidInput(f"{cleaned or repr(url)}: not a feed URL (http, https or file)")
    return cleaned


def remove_feed(store: Storage, url: str, *, from_web: bool = False) -> str:
    _refuse_read_only(from_web)
    url = _known_url(url)
    removed = store.remove_feed(url)
    if removed is None:
        raise NoSuchFeed(f"{url}: no such feed")
    return f"removed {url} and {removed} articles only it carried"


def enable_feed(store: Storage, url: str, *, from_web: bool = False) -> str:
    """Fetch a disabled feed again (one a 410 Gone or a hand disabled): its errors are
    forgotten and the next `monitor fetch` takes it. Returns a line; ValueError if refused."""
    _refuse_read_only(from_web)
    url = _known_url(url)
    with store.session():
        disabled = store.make_due(url)
        if disabled is None:
            raise NoSuchFeed(f"{url}: no such feed")
        if not disabled:
            return f"{url} is enabled already"
        store.set_feed_enabled(url, True)
    return f"enabled {url}: the next fetch reads it"


def retry_feed(store: Storage, url: str, *, from_web: bool = False) -> str:
    """End a failing feed's backoff: the next `monitor fetch` takes it (its error count
    stays, so another failure backs off further). A disabled feed is refused: enable it."""
    _refuse_read_only(from_web)
    url = _known_url(url)
    with store.session():
        state = store.feed_state(url)
        if state is None:
            raise NoSuchFeed(f"{url}: no such feed")
        if state.get("disabled"):
            # Left as it is: a disabled feed is not fetched, due or not.
            raise SubscriptionError(f"{url}: the feed is disabled; enable it to fetch it again")
        store.make_due(url)
    return f"{url} is due now: the next fetch reads it"


def import_opml(store: Storage, content: bytes, *, from_web: bool = False) -> list[str]:
    """Subscribe to every http(s) feed in an OPML document. Lines: one summary, then skips."""
    _refuse_read_only(from_web)
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
    with store.session():
        for outline in accepted:
            _, created = store.add_feed(
                outline.url, now=now, name=outline.title, restricted=restricted
            )
            added += created
    return [f"{len(outlines)} feeds in the file, {added} new", *skipped]


def export_opml(store: Storage) -> bytes:
    """The subscribed feeds as an OPML 2.0 document."""
    feeds = store.subscriptions()
    return write_opml([Outline(f.url, f.title, f.site_url) for f in feeds])


def fetch_now(
    store: Storage,
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
    # Which feed failed and why, for a warning that names it (the URL as subscribed).
    summary["failures"] = [(r.source, r.error or "failed") for r in reports if r.failed]
    return summary
