"""Small feed documents written for the tests, so each test says exactly what it feeds in.

A thin front on `monitor.feedwriter` (the one feed writer of the demo, the tests and the
benchmarks): `Item` keeps the tests' short spelling (a date as the feed's text, one byline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor import feedwriter


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


def entry(item: Item) -> feedwriter.Entry:
    """The writer's record for a test item: the guid is never a permalink, the body plain text."""
    return feedwriter.Entry(
        title=item.title,
        link=item.link or None,
        guid=item.guid or None,
        permalink=False if item.guid else None,
        published=item.date or None,
        byline=item.author or None,
        categories=tuple(item.categories),
        summary=item.body,
        comments=item.comments,
    )


def rss(items: Sequence[Item], *, title: str = "Testfeed", language: str | None = "de") -> bytes:
    """An RSS 2.0 document with dc:creator bylines and slash:comments."""
    channel = feedwriter.Channel(
        title=title, link="https://example.org/", description="Test", language=language
    )
    return feedwriter.rss(channel, [entry(item) for item in items])
