"""Small feed documents written for the tests, so each test says exactly what it feeds in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    title: str
    link: str | None = None
    guid: str | None = None
    date: str | None = "Mon, 02 Nov 2026 10:00:00 +0000"
    body: str = "Ein kurzer Text über Politik und Wirtschaft."
    author: str | None = None
    categories: Sequence[str] = field(default_factory=tuple)
    comments: int | None = None


def rss(items: Sequence[Item], *, title: str = "Testfeed", language: str | None = "de") -> bytes:
    """An RSS 2.0 document with dc:creator bylines and slash:comments."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/">',
        "<channel>",
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>Test</description>",
    ]
    if language:
        parts.append(f"<language>{language}</language>")
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.date:
            parts.append(f"<pubDate>{escape(item.date)}</pubDate>")
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        for category in item.categories:
            parts.append(f"<category>{escape(category)}</category>")
        if item.comments is not None:
            parts.append(f"<slash:comments>{item.comments}</slash:comments>")
        parts.append(f"<description>{escape(item.body)}</description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")
