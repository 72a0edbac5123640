"""monitor.feedwriter: what it writes parses back through monitor.parse to what it was given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from monitor import feedwriter
from monitor.feedwriter import Channel, Entry, Style
from monitor.models import ParsedFeed
from monitor.parse import parse_feed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = 'Zölle & "Preise" <b>fett</b> ]]> &amp; <![CDATA[ x ]]> \r\n'

CHANNEL = Channel(
    title='Nachrichten & "Meinung"',
    link="https://w.example/",
    description='Test "feed"',
    language="de",
    self_url="https://w.example/feed?a=1&b=2",
    updated=NOW,
    generator="monitor tests",
)

ENTRIES = (
    Entry(
        title="Zölle & Handel: Streit um „Preise“ ]]>",
        link="https://w.example/a?x=1&y=2",
        guid="https://w.example/a?x=1&y=2",
        permalink=True,
        published=datetime(2026, 11, 19, 9, 30, tzinfo=BERLIN),
        authors=("Katrin Albers",),
        categories=("Wirtschaft", "Handel & Zoll"),
        summary="<p>Ein Text über Zölle &amp; Preise.</p>",
        content="<p>Ein Text über Zölle &amp; Preise, länger ]]> als der Auszug.</p>",
        comments=7,
    ),
    Entry(
        title="Sommerzeit: Uhren werden umgestellt",
        link="https://w.example/b",
        guid="b-2",
        permalink=False,
        # A summer date in New York: written with its own offset, read back as the same instant.
        published=datetime(2026, 7, 1, 22, 15, tzinfo=ZoneInfo("America/New_York")),
        authors=("Martin Oberholz", "Sabine Reuter"),
        byline="Martin Oberholz und Sabine Reuter",
        categories=("Politik",),
        summary="Kurz.",
    ),
)


def _parse(content: bytes, source: str = "test") -> ParsedFeed:
    parsed = parse_feed(content, source=source, feed_url="https://w.example/feed", fetched_at=NOW)
    assert parsed.error is None, parsed.error
    return parsed


def _categories(parsed: ParsedFeed) -> list[list[str]]:
    return [
        [tag.display for tag in article.tags if tag.source == "category"]
        for article in parsed.articles
    ]


@pytest.mark.parametrize("write", [feedwriter.rss, feedwriter.atom, feedwriter.rdf])
@pytest.mark.parametrize("style", [Style(), Style(newline="", cdata=frozenset())])
def test_round_trip(write: object, style: Style) -> None:
    assert callable(write)
    content = write(CHANNEL, ENTRIES, style)
    assert isinstance(content, bytes)
    parsed = _parse(content)
    assert parsed.title == CHANNEL.title
    assert parsed.language == "de"
    assert [a.title for a in parsed.articles] == [e.title for e in ENTRIES]
    assert [a.url for a in parsed.articles] == [
        "https://w.example/a?x=1&y=2",
        "https://w.example/b",
    ]
    assert [a.published for a in parsed.articles] == [
        datetime(2026, 11, 19, 8, 30, tzinfo=UTC),
        datetime(2026, 7, 2, 2, 15, tzinfo=UTC),
    ]
    assert [a.authors for a in parsed.articles] == [
        ("Katrin Albers",),
        ("Martin Oberholz", "Sabine Reuter"),
    ]
    # RSS 1.0 carries subjects, one per entry in most feeds; monitor reads them all.
    assert _categories(parsed) == [["Wirtschaft", "Handel & Zoll"], ["Politik"]]


def test_rss_extensions_parse_back() -> None:
    parsed = _parse(feedwriter.rss(CHANNEL, ENTRIES))
    first = parsed.articles[0]
    assert first.comments == 7
    assert "länger ]]> als der Auszug" in first.text  # the longer body, CDATA split right
    assert parsed.articles[1].comments is None


def _xml_texts(content: bytes) -> list[str]:
    """Every element's text and attribute value, as an XML parser reads them."""
    root = ElementTree.fromstring(content)
    return [text for el in root.iter() for text in (el.text, *el.attrib.values()) if text]


def test_hostile_text_is_escaped() -> None:
    """Markup, entities, CDATA ends and a CR in text arrive as the same text, never as markup.

    At the XML level each field reads back exactly; through monitor.parse (which reads feed
    text as HTML, as feedparser does) every format and every CDATA choice gives one article.
    """
    entry = Entry(
        title=HOSTILE,
        link='https://w.example/h?q=<x>&r="y"',
        guid=HOSTILE,
        published=NOW,
        authors=(HOSTILE.strip(),),
        categories=(HOSTILE.strip(),),
        summary=HOSTILE,
        content=HOSTILE,
    )
    channel = Channel(title=HOSTILE, link="https://w.example/")
    seen = set()
    for write in (feedwriter.rss, feedwriter.atom, feedwriter.rdf):
        for style in (Style(), Style(cdata=frozenset({"title", "category", "creator"}))):
            content = write(channel, [entry], style)
            texts = _xml_texts(content)
            assert texts.count(HOSTILE) >= 3  # channel title, entry title, guid/summary/...
            assert entry.link in texts
            assert not ElementTree.fromstring(content).findall(".//b")  # text stayed text
            parsed = _parse(content, source=f"{write.__name__} {sorted(style.cdata)}")
            assert parsed.warning is None, parsed.warning  # well-formed: no bozo
            (article,) = parsed.articles
            seen.add((parsed.title, article.title, article.url, article.authors))
    assert seen == {
        (
            'Zölle & "Preise" fett ]]> &',
            'Zölle & "Preise" fett ]]> &',
            "https://w.example/h?q=%3Cx%3E&r=%22y%22",
            ("Zölle", 'Preise" fett ]]> &'),
        )
    }


def test_unwritable_characters_and_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="title: U\\+0001"):
        feedwriter.rss(CHANNEL, [Entry(title="a\x01b")])
    with pytest.raises(ValueError, match="naive"):
        feedwriter.atom(CHANNEL, [Entry(title="t", published=datetime(2026, 1, 1))])


def test_dates_in_their_own_offset() -> None:
    plus_five = timezone(timedelta(hours=5, minutes=30))
    entry = Entry(title="t", link="https://w.example/t", published=NOW.astimezone(plus_five))
    assert b"<pubDate>Fri, 20 Nov 2026 17:30:00 +0530</pubDate>" in feedwriter.rss(CHANNEL, [entry])
    assert b"<published>2026-11-20T17:30:00+05:30</published>" in feedwriter.atom(CHANNEL, [entry])
    gmt = feedwriter.rss(CHANNEL, [Entry(title="t", published=NOW)], Style(gmt=True))
    assert b"<pubDate>Fri, 20 Nov 2026 12:00:00 GMT</pubDate>" in gmt
    # A date given as text is the feed's own spelling, written as it is.
    odd = feedwriter.rss(CHANNEL, [Entry(title="t", published="am Dienstag nach Ostern")])
    assert b"<pubDate>am Dienstag nach Ostern</pubDate>" in odd


def test_namespaces_only_for_what_is_used() -> None:
    bare = feedwriter.rss(Channel(title="t", link="https://w.example/"), [Entry(title="x")])
    assert b"xmlns:" not in bare
    full = feedwriter.rss(CHANNEL, ENTRIES)
    for prefix in (b"dc", b"content", b"atom", b"slash"):
        assert b"xmlns:" + prefix + b'="' in full


def test_declared_encoding_and_character_references() -> None:
    content = feedwriter.rdf(CHANNEL, ENTRIES, Style(encoding="ISO-8859-1"))
    assert content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "„".encode() not in content and b"&#8222;" in content
    assert _parse(content).articles[0].title == ENTRIES[0].title
