"""Feed documents from simple records: RSS 2.0, Atom 1.0 and RSS 1.0 (RDF), as bytes.

The one writer behind the demo feeds, the test fixtures and the benchmarks. It does no I/O
and knows nothing of the store: give it a `Channel` and `Entry` records, get the document.

Text is escaped for XML (`&`, `<`, `>` and `"`; a carriage return as `&#13;` so it survives
parsing); HTML fields (`summary`, `content`) are HTML that the document carries escaped or, for
the fields named in `Style.cdata`, in CDATA sections. Characters XML 1.0 cannot carry at all
(most C0 controls, U+FFFE, U+FFFF, lone surrogates) raise `ValueError` naming the field, since
no escaping could bring them through. Dates are aware datetimes written in their own offset
(convert them to the publisher's zone first); a naive datetime is refused. A date given as a
string is written as it is (escaped), for fixtures of the odd dates real feeds carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

__all__ = ["Channel", "Enclosure", "Entry", "Style", "atom", "rdf", "rss"]


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str = "application/octet-stream"
    length: int = 0


@dataclass(frozen=True)
class Entry:
    """One item or entry; None (or empty) leaves its element out."""

    title: str | None = None
    link: str | None = None
    guid: str | None = None  # RSS <guid>, Atom <id>
    permalink: bool | None = None  # RSS guid's isPermaLink; None writes no attribute
    published: datetime | str | None = None
    updated: datetime | str | None = None  # Atom <updated>; defaults to `published`
    authors: tuple[str, ...] = ()
    byline: str | None = None  # RSS/RDF dc:creator as the site writes it; default "A, B"
    email: str | None = None  # RSS <author>EMAIL (byline)</author> instead of dc:creator
    categories: tuple[str, ...] = ()
    summary: str | None = None  # HTML: RSS/RDF <description>, Atom <summary type="html">
    content: str | None = None  # HTML: RSS <content:encoded>, Atom <content type="html">
    comments: int | None = None  # RSS slash:comments
    enclosure: Enclosure | None = None


@dataclass(frozen=True)
class Channel:
    title: str
    link: str  # the site's home page
    description: str | None = None  # RSS/RDF <description>, Atom <subtitle>
    language: str | None = None  # RSS <language>, RDF dc:language, Atom xml:lang
    self_url: str | None = None  # RSS atom:link rel=self, Atom link rel=self, RDF about
    id: str | None = None  # Atom <id>; defaults to `link`
    updated: datetime | None = None  # RSS lastBuildDate, Atom <updated>, RDF dc:date
    generator: str | None = None
    generator_uri: str | None = None  # Atom only


@dataclass(frozen=True)
class Style:
    """How a particular site writes its feed: none of it changes what the feed says."""

    newline: str = "\n"  # between elements; "" writes the document on one line
    cdata: frozenset[str] = frozenset({"content"})  # of title, summary, content, category, creator
    gmt: bool = False  # RSS dates in UTC written "GMT" instead of "+0000"
    encoding: str = "utf-8"  # as declared; characters it lacks become character references
    atom_title: str = "text"  # Atom title type: "text", or "html" as some generators write it


NS_ATOM = "http://www.w3.org/2005/Atom"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
NS_SLASH = "http://purl.org/rss/1.0/modules/slash/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_RSS1 = "http://purl.org/rss/1.0/"

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _check(text: str, name: str) -> str:
    bad = _FORBIDDEN.search(text)
    if bad:
        raise ValueError(f"{name}: U+{ord(bad.group()):04X} cannot be written in XML 1.0")
    return text


def _text(value: str, name: str) -> str:
    """`value` escaped for element content and attribute values."""
    return (
        _check(value, name)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def _cdata(value: str, name: str) -> str:
    # "]]>" cannot occur inside a section: end it after "]]" and start another for ">".
    return "<![CDATA[" + _check(value, name).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _field(style: Style, kind: str, value: str, name: str) -> str:
    return _cdata(value, name) if kind in style.cdata else _text(value, name)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime {moment.isoformat()} (give it a zone)")
    return moment


def _rfc822(moment: datetime | str, style: Style, name: str) -> str:
    if isinstance(moment, str):
        return _text(moment, name)
    moment = _aware(moment, name)
    gmt = style.gmt and moment.utcoffset() == UTC.utcoffset(None)
    return format_datetime(moment.astimezone(UTC) if gmt else moment, usegmt=gmt)


def _iso(moment: datetime | str, name: str) -> str:
    if isinstance(moment, str):
        return _text(moment, name)
    return _aware(moment, name).isoformat(timespec="seconds")


def _byline(entry: Entry) -> str:
    return entry.byline if entry.byline is not None else ", ".join(entry.authors)


def _finish(lines: list[str], style: Style) -> bytes:
    lines.append("")
    text = style.newline.join(lines)
    return text.encode(style.encoding, errors="xmlcharrefreplace")


def _declaration(style: Style) -> str:
    return f'<?xml version="1.0" encoding="{style.encoding}"?>'


def rss(channel: Channel, entries: Iterable[Entry], style: Style = Style()) -> bytes:
    """An RSS 2.0 document; namespaces are declared for the extensions the entries use."""
    items = list(entries)
    uses_dc = any(e.email is None and (e.authors or e.byline) for e in items)
    namespaces = [
        ("dc", NS_DC, uses_dc),
        ("content", NS_CONTENT, any(e.content is not None for e in items)),
        ("atom", NS_ATOM, channel.self_url is not None),
        ("slash", NS_SLASH, any(e.comments is not None for e in items)),
    ]
    declared = "".join(f' xmlns:{p}="{uri}"' for p, uri, used in namespaces if used)
    lines = [
        _declaration(style),
        f'<rss version="2.0"{declared}>',
        "<channel>",
        f"<title>{_text(channel.title, 'channel title')}</title>",
        f"<link>{_text(channel.link, 'channel link')}</link>",
    ]
    if channel.description is not None:
        lines.append(f"<description>{_text(channel.description, 'description')}</description>")
    if channel.language:
        lines.append(f"<language>{_text(channel.language, 'language')}</language>")
    if channel.updated is not None:
        build = _rfc822(channel.updated, style, "lastBuildDate")
        lines.append(f"<lastBuildDate>{build}</lastBuildDate>")
    if channel.self_url is not None:
        href = _text(channel.self_url, "self link")
        lines.append(f'<atom:link href="{href}" rel="self" type="application/rss+xml"/>')
    if channel.generator is not None:
        lines.append(f"<generator>{_text(channel.generator, 'generator')}</generator>")
    for entry in items:
        lines += _rss_item(entry, style)
    lines += ["</channel>", "</rss>"]
    return _finish(lines, style)


def _rss_item(entry: Entry, style: Style) -> list[str]:
    lines = ["<item>"]
    if entry.title is not None:
        lines.append(f"<title>{_field(style, 'title', entry.title, 'title')}</title>")
    if entry.link is not None:
        lines.append(f"<link>{_text(entry.link, 'link')}</link>")
    if entry.guid is not None:
        attribute = ""
        if entry.permalink is not None:
            attribute = f' isPermaLink="{"true" if entry.permalink else "false"}"'
        lines.append(f"<guid{attribute}>{_text(entry.guid, 'guid')}</guid>")
    if entry.published is not None:
        lines.append(f"<pubDate>{_rfc822(entry.published, style, 'pubDate')}</pubDate>")
    if entry.email is not None:
        lines.append(
            f"<author>{_text(entry.email, 'email')} ({_text(_byline(entry), 'author')})</author>"
        )
    elif entry.authors or entry.byline:
        creator = _field(style, "creator", _byline(entry), "dc:creator")
        lines.append(f"<dc:creator>{creator}</dc:creator>")
    for category in entry.categories:
        lines.append(f"<category>{_field(style, 'category', category, 'category')}</category>")
    if entry.summary is not None:
        summary = _field(style, "summary", entry.summary, "description")
        lines.append(f"<description>{summary}</description>")
    if entry.content is not None:
        content = _field(style, "content", entry.content, "content")
        lines.append(f"<content:encoded>{content}</content:encoded>")
    if entry.enclosure is not None:
        enc = entry.enclosure
        lines.append(
            f'<enclosure url="{_text(enc.url, "enclosure")}" length="{enc.length}" '
            f'type="{_text(enc.type, "enclosure type")}"/>'
        )
    if entry.comments is not None:
        lines.append(f"<slash:comments>{entry.comments}</slash:comments>")
    lines.append("</item>")
    return lines


def atom(channel: Channel, entries: Iterable[Entry], style: Style = Style()) -> bytes:
    """An Atom 1.0 document. Each entry needs an id (`guid`, else `link`) and a date."""
    lang = f' xml:lang="{_text(channel.language, "language")}"' if channel.language else ""
    lines = [
        _declaration(style),
        f'<feed xmlns="{NS_ATOM}"{lang}>',
        f"<title>{_text(channel.title, 'channel title')}</title>",
    ]
    if channel.description is not None:
        lines.append(f"<subtitle>{_text(channel.description, 'subtitle')}</subtitle>")
    lines.append(f'<link href="{_text(channel.link, "link")}" rel="alternate" type="text/html"/>')
    if channel.self_url is not None:
        href = _text(channel.self_url, "self link")
        lines.append(f'<link href="{href}" rel="self" type="application/atom+xml"/>')
    lines.append(f"<id>{_text(channel.id or channel.link, 'id')}</id>")
    if channel.updated is not None:
        lines.append(f"<updated>{_iso(channel.updated, 'updated')}</updated>")
    if channel.generator is not None:
        uri = channel.generator_uri
        attribute = f' uri="{_text(uri, "generator uri")}"' if uri else ""
        lines.append(f"<generator{attribute}>{_text(channel.generator, 'generator')}</generator>")
    for entry in entries:
        lines += _atom_entry(entry, style)
    lines.append("</feed>")
    return _finish(lines, style)


def _atom_entry(entry: Entry, style: Style) -> list[str]:
    lines = ["<entry>"]
    if entry.title is not None:
        title = _text(entry.title, "title")
        lines.append(f'<title type="{style.atom_title}">{title}</title>')
    if entry.link is not None:
        href = _text(entry.link, "link")
        lines.append(f'<link href="{href}" rel="alternate" type="text/html"/>')
    identifier = entry.guid or entry.link
    if identifier is not None:
        lines.append(f"<id>{_text(identifier, 'id')}</id>")
    if entry.published is not None:
        lines.append(f"<published>{_iso(entry.published, 'published')}</published>")
    updated = entry.updated or entry.published
    if updated is not None:
        lines.append(f"<updated>{_iso(updated, 'updated')}</updated>")
    for author in entry.authors:
        lines.append(f"<author><name>{_text(author, 'author')}</name></author>")
    for category in entry.categories:
        lines.append(f'<category term="{_text(category, "category")}"/>')
    if entry.summary is not None:
        lines.append(f'<summary type="html">{_text(entry.summary, "summary")}</summary>')
    if entry.content is not None:
        lines.append(f'<content type="html">{_text(entry.content, "content")}</content>')
    if entry.enclosure is not None:
        enc = entry.enclosure
        lines.append(
            f'<link rel="enclosure" href="{_text(enc.url, "enclosure")}" '
            f'type="{_text(enc.type, "enclosure type")}" length="{enc.length}"/>'
        )
    lines.append("</entry>")
    return lines


def rdf(channel: Channel, entries: Sequence[Entry], style: Style = Style()) -> bytes:
    """An RSS 1.0 (RDF) document with Dublin Core creators, dates and subjects."""
    about = _text(channel.self_url or channel.link, "channel about")
    lines = [
        _declaration(style),
        f'<rdf:RDF xmlns:rdf="{NS_RDF}"',
        f'  xmlns="{NS_RSS1}"',
        f'  xmlns:dc="{NS_DC}">',
        f'<channel rdf:about="{about}">',
        f"<title>{_text(channel.title, 'channel title')}</title>",
        f"<link>{_text(channel.link, 'channel link')}</link>",
    ]
    if channel.description is not None:
        lines.append(f"<description>{_text(channel.description, 'description')}</description>")
    if channel.language:
        lines.append(f"<dc:language>{_text(channel.language, 'language')}</dc:language>")
    if channel.updated is not None:
        lines.append(f"<dc:date>{_iso(channel.updated, 'dc:date')}</dc:date>")
    resources = [_text(entry.link or entry.guid or "", "link") for entry in entries]
    lines += ["<items>", "<rdf:Seq>"]
    lines += [f'<rdf:li rdf:resource="{resource}"/>' for resource in resources]
    lines += ["</rdf:Seq>", "</items>", "</channel>"]
    for entry, resource in zip(entries, resources, strict=True):
        lines.append(f'<item rdf:about="{resource}">')
        if entry.title is not None:
            lines.append(f"<title>{_text(entry.title, 'title')}</title>")
        if entry.link is not None:
            lines.append(f"<link>{_text(entry.link, 'link')}</link>")
        if entry.summary is not None:
            lines.append(f"<description>{_text(entry.summary, 'description')}</description>")
        if entry.authors or entry.byline:
            lines.append(f"<dc:creator>{_text(_byline(entry), 'dc:creator')}</dc:creator>")
        if entry.published is not None:
            lines.append(f"<dc:date>{_iso(entry.published, 'dc:date')}</dc:date>")
        lines += [
            f"<dc:subject>{_text(category, 'dc:subject')}</dc:subject>"
            for category in entry.categories
        ]
        lines.append("</item>")
    lines.append("</rdf:RDF>")
    return _finish(lines, style)
