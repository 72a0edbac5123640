"""Feed discovery: the feeds a web page announces in its `<link rel="alternate">` tags.

A site's home page or an article page usually names its feeds as
`<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="...">` (or
`application/atom+xml`); someone adding "the site" to monitor pastes that page's address.

The scan is a regular expression over `<link>` and `<base>` tags with comments skipped, not an
HTML parser: it runs in time linear in the page (every match attempt stops at the next `<` or
`>`), so a hostile page inside the fetcher's size cap costs no more than reading it once.
JSON Feed links (`application/feed+json`) are not offered: the parser reads RSS and Atom only.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

__all__ = ["FEED_TYPES", "FeedLink", "feed_links", "is_html"]

# MIME type -> the name shown to people.
FEED_TYPES: Mapping[str, str] = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/rdf+xml": "RSS 1.0",
}
MAX_LINKS = 50  # a page listing thousands of "feeds" is not offered them all

_TAG = re.compile(r"<(link|base)\b([^<>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(
    r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>`]+)))?""", re.IGNORECASE
)
_META_CHARSET = re.compile(
    rb"""<meta[^<>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
_URL_NOISE = re.compile(r"[\t\n\r]")
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DOCTYPE_HTML = re.compile(rb"<!doctype\s+html\b", re.IGNORECASE)
_ROOT_NAME = re.compile(rb"<([A-Za-z][A-Za-z0-9:._-]{0,40})")
_HTML_ROOTS = frozenset({b"html", b"head", b"body", b"meta", b"link", b"title", b"script", b"base"})
_FEED_ROOTS = frozenset({b"rss", b"feed", b"rdf:rdf", b"rdf", b"channel"})
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FeedLink:
    """One feed a page announces."""

    url: str  # absolute http(s) URL
    format: str  # "RSS", "Atom", "RSS 1.0"
    title: str | None = None  # the link's own title attribute, plain text

    def label(self) -> str:
        """`https://x/feed.xml (RSS: News)`: what a person picks from."""
        kind = f"{self.format}: {self.title}" if self.title else self.format
        return f"{self.url} ({kind})"


def is_html(content: bytes, content_type: str | None = None) -> bool:
    """True when `content` is a web page rather than a feed document.

    Judged by the first element (after any BOM, XML declaration, comments and doctype): `html`
    (or a fragment's `head`, `meta`, ...) is a page, `rss`/`feed`/`rdf:RDF` a feed. A feed
    served as text/html stays a feed; for other roots the Content-Type decides.
    """
    root = _root_element(content)
    if root in _HTML_ROOTS or root == b"!doctype-html":
        return True
    if root in _FEED_ROOTS:
        return False
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in _HTML_TYPES


def feed_links(
    content: bytes, page_url: str, content_type: str | None = None
) -> tuple[FeedLink, ...]:
    """The RSS and Atom feeds `content` (an HTML page fetched from `page_url`) links to.

    Relative hrefs are resolved against the page's `<base href>` or else `page_url`; only
    http(s) results are kept, each once, in page order, at most MAX_LINKS.
    """
    text = _without_comments(_decode(content, content_type))
    base = page_url
    found: list[FeedLink] = []
    seen: set[str] = set()
    base_seen = False
    for match in _TAG.finditer(text):
        attributes = _attributes(match.group(2))
        if match.group(1).lower() == "base":
            href = attributes.get("href", "").strip()
            if href and not base_seen:
                base_seen = True  # the first <base href> counts (as in browsers)
                base = urljoin(page_url, href)
            continue
        rels = attributes.get("rel", "").lower().split()
        if "alternate" not in rels and "feed" not in rels:
            continue
        media = attributes.get("type", "").split(";", 1)[0].strip().lower()
        kind = FEED_TYPES.get(media)
        # As browsers do: tabs and newlines inside a URL are dropped, spaces encoded.
        href = _URL_NOISE.sub("", attributes.get("href", "")).strip().replace(" ", "%20")
        if kind is None or not href or _URL_CONTROL.search(href):
            continue
        try:
            url = urljoin(base, href)
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            continue  # e.g. an invalid IPv6 literal in the href
        if scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = " ".join(attributes.get("title", "").split())[:200] or None
        found.append(FeedLink(url=url, format=kind, title=title))
        if len(found) >= MAX_LINKS:
            break
    return tuple(found)


def _attributes(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        name = match.group(1).lower()
        if name in values:
            continue  # the first of repeated attributes counts, as in HTML
        raw = next((g for g in match.groups()[1:] if g is not None), "")
        values[name] = html.unescape(raw)
    return values


def _decode(content: bytes, content_type: str | None) -> str:
    """The page as text: the Content-Type charset, else a BOM or `<meta charset>`, else UTF-8."""
    candidates: list[str] = []
    header = _HEADER_CHARSET.search(content_type or "")
    if header:
        candidates.append(header.group(1))
    if content.startswith(codecs.BOM_UTF8):
        candidates.insert(0, "utf-8-sig")
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates.insert(0, "utf-16")
    meta = _META_CHARSET.search(content[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii"))
    for name in candidates:
        try:
            return content.decode(name, errors="replace")
        except LookupError:
            continue  # an unknown charset name: try the next guess
    return content.decode("utf-8", errors="replace")


def _without_comments(text: str) -> str:
    """`text` with `<!-- ... -->` cut out (an unclosed comment runs to the end), linearly."""
    parts: list[str] = []
    position = 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            parts.append(text[position:])
            break
        parts.append(text[position:start])
        end = text.find("-->", start + 4)
        if end < 0:
            break
        position = end + 3
    return "".join(parts)


def _root_element(content: bytes) -> bytes | None:
    """The first element's lower-cased name ("!doctype-html" for an HTML doctype), or None."""
    head = content[:65536]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if head[:1] == b"\x00" or head[1:2] == b"\x00":
        head = head.replace(b"\x00", b"")  # UTF-16 text: its ASCII markup is enough here
    position = 0
    while True:
        start = head.find(b"<", position)
        if start < 0:
            return None
        if head.startswith(b"<?", start):
            end = head.find(b"?>", start + 2)
        elif head.startswith(b"<!--", start):
            end = head.find(b"-->", start + 4)
        elif head.startswith(b"<!", start):
            if _DOCTYPE_HTML.match(head, start):
                return b"!doctype-html"
            end = head.find(b">", start + 2)
        else:
            match = _ROOT_NAME.match(head, start)
            return match.group(1).lower() if match else None
        if end < 0:
            return None
        position = end + 1
