"""Parse feed documents (feedparser) and article pages (trafilatura) into records.

Decisions:
- feedparser is only ever handed an in-memory stream: given ``bytes`` it would try to
  ``open()`` them as a file name, given a ``str`` URL it would fetch it.
- Not a feed -> ``ParsedFeed.error`` ("not a feed: ...") and no articles: empty bytes, JSON
  (JSON Feed is not supported), binary data, an HTML page, or any document in which
  feedparser found neither a feed version nor entries nor a feed title. A channel with zero
  items is a valid empty feed.
- A bozo feed that still yielded entries or feed metadata keeps them; ``warning`` holds the
  bozo reason on one line. Entries that fail to normalise are skipped and counted in
  ``warning``.
- Hostile input: more than ``max_entries`` items are cut from the *bytes* before parsing
  (feedparser needs ~20 s for 100,000 minimal items; the cut keeps it to ~2 s), with the
  warning "feed has N entries, kept the first M". Documents above ``MAX_FEED_BYTES`` are
  refused. feedparser itself drops non-trivial ``<!ENTITY>`` declarations (entity bombs) and
  disables external entities (XXE); we record "entity declarations ignored" when a DOCTYPE
  declares entities.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor import text as textmod
from monitor.models import Article, ParsedFeed, Tag
from monitor.normalize import (
    canonical_url,
    normalize_entry,
    parse_date,
    parse_relative_date,
    split_authors,
)

__all__ = ["MAX_FEED_BYTES", "PageInfo", "parse_feed", "parse_page"]

MAX_FEED_BYTES = 64 * 1024 * 1024
MAX_PAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class PageInfo:
    """What an article's web page held (see `monitor.normalize.apply_page`)."""

    url: str
    text: str = ""
    title: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None  # UTC
    date_assumed_utc: bool = False  # the page date carried no time zone (or no time)
    date_relative: bool = False  # the page said "vor 5 Tagen": counted back from the fetch
    tags: tuple[Tag, ...] = ()  # page categories/tags ("category") + hashtags ("hashtag")
    language: str | None = None
    error: str | None = None  # one-line reason the page could not be used


# --- feeds ------------------------------------------------------------------------------

_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF))[\s>]")


def _one_line(value: object, limit: int = 300) -> str:
    line = " ".join(str(value).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _sniff_not_feed(content: bytes) -> str | None:
    """A reason when ``content`` is obviously not an XML feed, else None."""
    if not content or not content.strip():
        return "empty document"
    head = content[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return None  # a BOM: text, let feedparser decide
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "JSON document (JSON Feed is not supported)"
    if b"\x00" in head and not re.search(rb"<\x00|\x00<", head):
        return "binary data"
    lower = stripped.lower()
    if lower.startswith((b"%pdf", b"\x89png", b"gif8", b"pk\x03\x04", b"\x1f\x8b")):
        return "binary data"
    return None


def _html_reason(content: bytes) -> str | None:
    head = content[:4096].lower()
    if b"<html" in head or b"<!doctype html" in head:
        return "an HTML page (look for its <link rel=alternate> feed)"
    return None


def _cut_entries(content: bytes, max_entries: int) -> tuple[bytes, int | None]:
    """Cut the document before item ``max_entries + 1``; return (bytes, total count or None)."""
    starts = _ITEM_START.finditer(content)
    cut_at: int | None = None
    count = 0
    for match in starts:
        count += 1
        if count == max_entries + 1:
            cut_at = match.start()
    if cut_at is None:
        return content, None
    root = _ROOT.search(content[:65536])
    if root is None:
        return content, None  # unknown layout: parse it whole rather than break it
    name = root.group(1)
    local = name.split(b":")[-1]
    closers = b"</channel></" + name + b">" if local == b"rss" else b"</" + name + b">"
    return content[:cut_at] + closers, count


def _feed_authors(feed: Mapping[str, Any]) -> tuple[str, ...]:
    raw: list[str] = []
    for item in feed.get("authors") or ():
        if isinstance(item, Mapping):
            value = item.get("name") or item.get("email")
            if isinstance(value, str):
                raw.append(value)
    if not raw and isinstance(feed.get("author"), str):
        raw.append(feed["author"])
    return split_authors(raw)


def parse_feed(
    content: bytes,
    *,
    source: str,
    feed_url: str,
    fetched_at: datetime,
    headers: Mapping[str, str] | None = None,
    max_entries: int = 10_000,
) -> ParsedFeed:
    """Parse a feed document into normalised articles. Never raises.

    ``source`` names the document in messages; ``feed_url`` is the base for relative links
    and part of the article id when an entry has no URL.
    """
    try:
        return _parse_feed(content, source, feed_url, fetched_at, headers, max_entries)
    except Exception as exc:  # last line of defence: bad input must not stop an ingest run
        return _failed(source, f"cannot parse {source}: {type(exc).__name__}: {_one_line(exc)}")


def _failed(source: str, error: str) -> ParsedFeed:
    return ParsedFeed(
        source=source, version="", title="", link=None, language=None, articles=(), error=error
    )


def _parse_feed(
    content: bytes,
    source: str,
    feed_url: str,
    fetched_at: datetime,
    headers: Mapping[str, str] | None,
    max_entries: int,
) -> ParsedFeed:
    if not isinstance(content, bytes | bytearray):
        return _failed(source, f"not a feed: {source}: content is not bytes")
    content = bytes(content)
    if len(content) > MAX_FEED_BYTES:
        return _failed(source, f"not a feed: {source}: document larger than {MAX_FEED_BYTES} bytes")
    reason = _sniff_not_feed(content)
    if reason:
        return _failed(source, f"not a feed: {source}: {reason}")

    notes: list[str] = []
    content, total = _cut_entries(content, max(0, max_entries))
    if total is not None:
        notes.append(f"feed has {total} entries, kept the first {max_entries}")
    if re.search(rb"<!ENTITY", content[:65536]):
        notes.append("DOCTYPE entity declarations ignored")

    response_headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    # Without a Content-Type feedparser flags every document as bozo ("no Content-type
    # specified"); no headers at all makes it sniff the XML declaration instead. We do not
    # pass Content-Location: feedparser would then resolve non-URL GUIDs into URLs.
    response_headers.pop("content-location", None)
    passed = response_headers if "content-type" in response_headers else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feedparser/sgmllib chatter is not our caller's problem
        # Its HTML sanitiser and relative-URI rewriting are about a third of its time, and
        # wasted here: every HTML field becomes plain text (html_to_text) and is never
        # rendered as HTML; links are resolved by normalize.canonical_url.
        result = feedparser.parse(
            io.BytesIO(content),
            response_headers=passed,
            sanitize_html=False,
            resolve_relative_uris=False,
        )

    feed: Mapping[str, Any] = result.get("feed") or {}
    entries: list[Any] = list(result.get("entries") or [])
    version = str(result.get("version") or "")
    title = textmod.html_to_text(str(feed.get("title") or "")).replace("\n", " ")
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        notes.insert(0, f"not well-formed XML: {_one_line(exc)}")
        if not entries and not title and not version:
            what = _html_reason(content) or f"not XML ({_one_line(exc)})"
            return _failed(source, f"not a feed: {source}: {what}")
    if not version and not entries and not title:
        what = _html_reason(content) or "no RSS/Atom/RDF root element"
        return _failed(source, f"not a feed: {source}: {what}")
    if len(entries) > max_entries:  # a layout the byte cut did not recognise
        notes.append(f"feed has {len(entries)} entries, kept the first {max_entries}")
        entries = entries[:max_entries]

    language = textmod.normalize_language(
        str(feed.get("language") or response_headers.get("content-language") or "")
    )
    link = canonical_url(str(feed.get("link") or ""), base=feed_url)
    authors = _feed_authors(feed)
    articles: list[Article] = []
    failed: list[str] = []
    for entry in entries:
        try:
            articles.append(
                normalize_entry(
                    entry,
                    feed_url=feed_url,
                    feed_language=language,
                    feed_authors=authors,
                    fetched_at=fetched_at,
                )
            )
        except Exception as exc:  # one bad entry must not cost the others
            failed.append(f"{type(exc).__name__}: {_one_line(exc, 120)}")
    if failed:
        notes.append(f"skipped {len(failed)} entries that could not be normalised ({failed[0]})")
    dropped = [note for article in articles for note in article.warnings]
    if dropped:
        notes.append(f"{len(dropped)} fields of entries not used ({dropped[0]})")
    return ParsedFeed(
        source=source,
        version=version,
        title=title,
        link=link,
        language=language,
        articles=tuple(articles),
        warning="; ".join(notes) if notes else None,
    )


# --- pages ------------------------------------------------------------------------------


# Where a page shows a relative date: <time>, or an element whose class, id or itemprop says
# date/time/published/posted/ago. Bounded repeats: linear in the page, whatever it holds.
_DATED_OPENING = re.compile(r"<(time|span|div|p|small|a|li|abbr)\b([^>]{0,600})>", re.IGNORECASE)
_DATED_ATTRIBUTE = re.compile(
    r"\b(?:class|id|itemprop)\s*=\s*[\"']?[^\"'>]*(?:date|time|publish|posted|ago|datum|fecha)",
    re.IGNORECASE,
)
_INNER = {
    tag: re.compile(rf"(.{{1,200}}?)</{tag}\s*>", re.IGNORECASE | re.DOTALL)
    for tag in ("time", "span", "div", "p", "small", "a", "li", "abbr")
}
_INNER_TAG = re.compile(r"<[^>]{0,600}>")
_PAGE_SCAN_BYTES = 512 * 1024
_RELATIVE_TRIES = 20  # elements whose text is read as a relative date, at most


def _relative_page_date(html: bytes, fetched_at: datetime) -> tuple[datetime, bool] | None:
    """A relative date ("vor 5 Tagen", "2 hours ago") in a dated element of the page: a
    <time>, or an element whose class, id or itemprop names a date. Each opening tag is
    looked at once and its text read at most 200 characters on: linear in the page."""
    head = html[:_PAGE_SCAN_BYTES].decode("utf-8", "replace")
    tries = 0
    for opening in _DATED_OPENING.finditer(head):
        tag, attributes = opening.group(1).lower(), opening.group(2)
        if tag != "time" and not _DATED_ATTRIBUTE.search(attributes):
            continue
        inner = _INNER[tag].match(head, opening.end())
        if inner is None:
            continue
        words = textmod.html_to_text(_INNER_TAG.sub(" ", inner.group(1))).replace("\n", " ")
        found = parse_relative_date(words, fetched_at)
        if found is not None:
            return found
        tries += 1
        if tries >= _RELATIVE_TRIES:
            break
    return None


def _page_date(
    value: object, html: bytes = b"", fetched_at: datetime | None = None
) -> tuple[datetime | None, bool, bool]:
    """The page's date from trafilatura's ``value``, else a relative date shown on the page
    counted back from ``fetched_at``: (UTC time or None, zone assumed, relative)."""
    if isinstance(value, str) and value:
        parsed = parse_date(value)
        if parsed is not None:
            when, assumed = parsed
            # A date without a time ("2024-05-01") is midnight of an unknown zone.
            date_only = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) is not None
            return when.astimezone(UTC), assumed or date_only, False
    if html and fetched_at is not None:
        relative = _relative_page_date(html, fetched_at)
        if relative is not None:
            return relative[0], relative[1], True
    return None, False, False


def _page_terms(value: object) -> list[str]:
    if isinstance(value, str):
        return [p for p in (x.strip() for x in re.split(r"[,;]", value)) if p]
    if isinstance(value, list | tuple):
        return [str(x).strip() for x in value if str(x).strip()]
    return []


def parse_page(html: bytes, *, url: str, fetched_at: datetime | None = None) -> PageInfo:
    """Extract main text, title, authors, date and tags from an article page. Never raises.

    Uses trafilatura; tags are the page's categories and tags plus the hashtags in its text
    (a Wix post ends with a line like "#Trump #Putin #UkraineKonflikt"). A date the page
    gives relative to now ("vor 5 Tagen") counts back from ``fetched_at`` (default: now).
    """
    try:
        return _parse_page(html, url, fetched_at or datetime.now(UTC))
    except Exception as exc:  # trafilatura/lxml on hostile markup
        return PageInfo(url=url, error=f"cannot extract {url}: {type(exc).__name__}: {exc}")


def _parse_page(html: bytes, url: str, fetched_at: datetime) -> PageInfo:
    import trafilatura  # heavy import, only needed for pages

    if not html or not html.strip():
        return PageInfo(url=url, error=f"cannot extract {url}: empty page")
    if len(html) > MAX_PAGE_BYTES:
        return PageInfo(url=url, error=f"cannot extract {url}: page larger than {MAX_PAGE_BYTES}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_recall=True,
            date_extraction_params={
                "extensive_search": True,
                "original_date": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            },
        )
    if doc is None:
        return PageInfo(url=url, error=f"cannot extract {url}: no main text found")
    data: Mapping[str, Any] = doc if isinstance(doc, Mapping) else doc.as_dict()
    body = textmod.html_to_text(str(data.get("text") or ""))
    if not body:
        return PageInfo(url=url, error=f"cannot extract {url}: no main text found")
    title = textmod.html_to_text(str(data.get("title") or "")).replace("\n", " ")
    author = data.get("author")
    authors = split_authors(re.split(r"\s*;\s*", author)) if isinstance(author, str) else ()
    raw_date = data.get("date")
    if isinstance(raw_date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00", raw_date):
        raw_date = raw_date[:10]  # htmldate found only a day
    published, assumed, relative = _page_date(raw_date, html, fetched_at)
    tags: dict[str, Tag] = {}
    for term in _page_terms(data.get("categories")) + _page_terms(data.get("tags")):
        display = term.strip(" #")
        key = textmod.tag_key(display)
        if key and key not in tags and len(display) <= 100:
            tags[key] = Tag(key=key, display=display, source="category")
    for display in textmod.find_hashtags(body):
        key = textmod.tag_key(display)
        if key and key not in tags:
            tags[key] = Tag(key=key, display=display, source="hashtag")
    language = textmod.normalize_language(str(data.get("language") or "")) or (
        textmod.detect_language(body)
    )
    return PageInfo(
        url=url,
        text=body,
        title=title,
        authors=authors,
        published=published,
        date_assumed_utc=assumed,
        date_relative=relative,
        tags=tuple(tags.values()),
        language=language,
    )
