"""Parse feed documents (feedparser) and article pages (trafilatura) into records.

Decisions:
- feedparser is only ever handed an in-memory document: given ``bytes`` it would try to
  ``open()`` them as a file name, given a ``str`` URL it would fetch it. We run its own
  steps (encoding detection, DOCTYPE handling, the strict expat parser, the loose sgmllib
  parser as fallback) ourselves, with subclasses of its parser classes that bound what one
  document can cost (see "Hostile input" below); what comes out is what ``feedparser.parse``
  returns.
- Not a feed -> ``ParsedFeed.error`` ("not a feed: ...") and no articles: empty bytes, JSON
  (JSON Feed is not supported), binary data, an HTML page, or any document in which
  feedparser found neither a feed version nor entries nor a feed title. A channel with zero
  items is a valid empty feed.
- A bad field costs that field, a bad entry that entry, never the feed's others. A bozo feed
  that still yielded entries keeps them (``warning`` holds the bozo reason). An invalid
  character reference (``&#99999999999;``, ``&#xD800;``) becomes U+FFFD in its field; an
  encoding name that is no usable text encoding is ignored; an element whose feedparser
  handler raises (a stray ``</media:player>``, a ``gml:posList`` outside ``georss:where``) is
  skipped; an end tag of nothing open is ignored; an element left open (``<source>``) is
  closed where the next entry starts; an unclosed comment or CDATA section no longer
  swallows the entries after it; an entry that cannot be normalised is skipped. Should
  feedparser still fail on a whole document, each entry is parsed on its own and only the
  ones that fail are lost. Each of these is one note in ``warning``, naming the entry
  (number and title) and the field.

Hostile input: every document ends in time linear in its size with bounded memory (issue 8;
``bench/bench_hostile.py`` prints the figures). Each guard looks at the structure, not at one
layout of it:
- DTDs: the prolog is re-read by a scanner that honours quotes, comments and line breaks in
  any layout; every internal subset is replaced by one that keeps only entities whose value is
  a single character reference or at most 16 plain characters (so expansion stays below the
  size of the references), and nothing else: no parameter, external or unparsed entities, no
  ATTLIST defaults (which would add an attribute to every element), no ENTITY outside a
  DOCTYPE. feedparser would keep any entity without ``&`` in its value and expat expands up to
  100 times the input, and its loose parser without limit.
- The XML declaration: an encoding name that is not a usable text codec (not ASCII, unknown,
  or a codec such as punycode, which decodes in quadratic time) is dropped, as is such a
  ``charset`` in Content-Type; the declaration gets a line of its own (feedparser's encoding
  pattern backtracks over the whole first line). A UTF-16/32 document is made UTF-8 first,
  so every check sees the bytes feedparser's patterns will.
- Entries: more than ``max_entries`` (10,000) items are cut from the bytes before parsing,
  whatever their case or namespace prefix (``<ITEM>``, ``<atom:entry>``, ``<rss:item>``), with
  the warning "feed has N entries, kept the first M".
- Markup: a document with more than ``MARKUP_BUDGET`` markup tokens (``<`` and ``&``) is
  reduced before parsing (`_reduce_markup`): the content of a field that holds much markup is
  taken as text, which is what it becomes anyway (`monitor.text.html_to_text`; the articles
  are the same, tests/test_parse.py checks it); more than ``MAX_SIBLINGS`` elements of one
  name in one entry or channel, more than ``MAX_CHILDREN`` children, markup nested deeper
  than ``MAX_DEPTH``, comments, processing instructions and stray end tags are dropped. A tag
  with more than ``MAX_ATTRIBUTES`` attributes keeps the first ones. Documents below the
  budget reach feedparser byte for byte.
- In the parser: at most ``MAX_ATTRIBUTES`` attributes per element (feedparser's SAX glue
  looks each one up by a linear search), at most ``MAX_TAGS`` categories/keywords per entry
  (its de-duplication compared each with all before), dates cut at 100 and names at 500
  characters before feedparser's own regular expressions see them (its e-mail pattern is
  quadratic), text handed over in pieces of 64 kB (expat's buffering: one call per line break
  or entity reference was millions of calls, and feedparser's XHTML unwrapping deleted
  whitespace pieces one by one from the front of a list).
- After parsing: at most ``MAX_FIELD_CHARS`` characters per text field (``MAX_TITLE_CHARS``
  for a title, ``MAX_URL_CHARS`` for a link or id) and ``MAX_LIST`` items per list field of
  an entry.
Each cut is recorded in ``warning``; documents above ``MAX_FEED_BYTES`` are refused.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
import xml.sax
import xml.sax.expatreader
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from feedparser.encodings import RE_XML_PI_ENCODING, convert_to_utf8
from feedparser.html import _BaseHTMLProcessor
from feedparser.mixin import _FeedParserMixin
from feedparser.parsers.loose import _LooseFeedParser
from feedparser.parsers.strict import _StrictFeedParser
from feedparser.sanitizer import replace_doctype
from feedparser.util import FeedParserDict

from monitor import text as textmod
from monitor.errors import one_line
from monitor.models import Article, PageInfo, ParsedFeed, Tag
from monitor.normalize import (
    canonical_url,
    normalize_entry,
    parse_date,
    parse_relative_date,
    signed,
    split_authors,
)

__all__ = ["MAX_FEED_BYTES", "PageInfo", "parse_feed", "parse_page"]

MAX_FEED_BYTES = 64 * 1024 * 1024
MAX_PAGE_BYTES = 16 * 1024 * 1024

# Markup tokens a document may hold before it is reduced: each "<" counts 1, each "&" a
# quarter for expat (its entity references cost feedparser a cheap call each) and 1 for the
# loose parser (as expensive as a tag there). 100,000 tokens are about 0.7 s of feedparser.
MARKUP_BUDGET = 100_000
MAX_DEPTH = 64  # element nesting kept by the reducer
MAX_SIBLINGS = 256  # elements of one name directly in one entry, channel or root
MAX_CHILDREN = 1_024  # elements directly in one entry, channel or root
FEW_CHILDREN = 32  # ... once the document's markup budget is spent
HEAVY_FIELD = 2_000  # markup tokens in one field that make it text, by budget or not
MAX_ATTRIBUTES = 64  # per element
MAX_TAGS = 100  # categories/keywords per entry (or per feed)
MAX_FIELD_CHARS = 2_000_000  # per text field of an entry (raw, before html_to_text)
MAX_TITLE_CHARS = 2_000  # a title, raw
MAX_URL_CHARS = 4_096  # a link, id or guid
MAX_LIST = 100  # items per list field of an entry (links, authors, enclosures, ...)
MAX_NOTES = 6  # distinct notes spelled out in a warning; the rest are counted
MAX_SAFE_ENTITIES = 256  # kept from a DTD (an HTML entity set has 253)


# --- notes ------------------------------------------------------------------------------


@dataclass
class _Notes:
    """What was cut, repaired or skipped, once per kind: a hostile document can produce a
    million of the same note, the warning names the first place and counts the rest."""

    kinds: dict[str, list[Any]] = field(default_factory=dict)  # what -> [entry, field, count]
    order: list[str] = field(default_factory=list)

    def add(self, what: str, entry: int | None = None, where: str = "") -> None:
        seen = self.kinds.get(what)
        if seen is None:
            self.kinds[what] = [entry, where, 1]
            self.order.append(what)
        else:
            seen[2] += 1

    def merge(self, other: _Notes, offset: int = 0) -> None:
        """Add ``other``'s notes, its entry numbers moved by ``offset``."""
        for what in other.order:
            entry, where, count = other.kinds[what]
            self.add(what, None if entry is None else entry + offset, where)
            self.kinds[what][2] += count - 1

    def render(self, title_of: Callable[[int], str]) -> list[str]:
        lines: list[str] = []
        for what in self.order[:MAX_NOTES]:
            entry, where, count = self.kinds[what]
            place = ""
            if entry is not None:
                title = title_of(entry)
                place = f"entry {entry}" + (f" ({one_line(title, 60)!r})" if title else "")
            if where:
                place = f"{place}, {where}" if place else where
            more = f" (and {count - 1:,} more)" if count > 1 else ""
            lines.append(f"{place}: {what}{more}" if place else f"{what}{more}")
        if len(self.order) > MAX_NOTES:
            lines.append(f"{len(self.order) - MAX_NOTES} more kinds of notes")
        return lines


# --- sniffing ---------------------------------------------------------------------------


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


# --- the XML declaration and the character encoding -------------------------------------

# Codecs that decode text but are no document encoding: punycode decodes in quadratic time,
# idna raises on long labels (an error feedparser does not catch), the escapes are not text.
_BAD_CODECS = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"})
# BOMs and the first bytes of "<?" in encodings that are not ASCII-compatible (the order of
# feedparser.encodings: a UTF-32 BOM starts like a UTF-16 one).
_WIDE_STARTS = (
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (b"\x00\x00\x00\x3c", "utf-32-be", 0),
    (b"\x3c\x00\x00\x00", "utf-32-le", 0),
    (b"\x00\x3c\x00\x3f", "utf-16-be", 0),
    (b"\x3c\x00\x3f\x00", "utf-16-le", 0),
    (b"\x4c\x6f\xa7\x94", "cp037", 0),
)
_DECL_ENCODING = re.compile(rb"""(\s+encoding\s*=\s*)(["'])([^"'<>]*)\2""")
_CHARSET = re.compile(r"""(;\s*charset\s*=\s*)("?)([^";\s]*)\2""", re.IGNORECASE)
_FIRST_LINE = 1024


def _usable_codec(name: str) -> bool:
    if not name or len(name) > 40 or not name.isascii():
        return False
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    return bool(getattr(info, "_is_text_encoding", True)) and info.name not in _BAD_CODECS


def _guard_declaration(
    content: bytes, headers: dict[str, str], notes: _Notes
) -> tuple[bytes, dict[str, str]]:
    """Make the document's start and the charset header safe for feedparser's encoding step.

    A document in UTF-16/32 (or EBCDIC) by its BOM or first bytes is decoded here and handed
    on as UTF-8 with the declaration and header saying so, so that the checks below see the
    same bytes feedparser's regular expressions will.
    """
    for start, codec, skip in _WIDE_STARTS:
        if content.startswith(start):
            text = content[skip:].decode(codec, "replace")
            content = text.encode("utf-8")
            content = _set_declared_encoding(content, b"utf-8")
            ctype = headers.get("content-type")
            if ctype is not None and _CHARSET.search(ctype):
                headers = {**headers, "content-type": _CHARSET.sub(r"\1\2utf-8\2", ctype)}
            break
    ctype = headers.get("content-type")
    if ctype is not None:
        match = _CHARSET.search(ctype)
        if match and not _usable_codec(match.group(3)):
            notes.add(f"Content-Type names an unknown encoding {match.group(3)[:40]!r}: ignored")
            headers = {**headers, "content-type": _CHARSET.sub("", ctype)}
    offset = 3 if content.startswith(codecs.BOM_UTF8) else 0
    if not content.startswith(b"<?", offset):
        return content, headers
    end = content.find(b"?>", offset, offset + _FIRST_LINE)
    if end < 0:
        if content.find(b"\n", offset, offset + _FIRST_LINE) < 0:
            # An unclosed "<?" on a long first line: feedparser's declaration pattern would
            # backtrack over all of it; starting the document with a line break stops it.
            notes.add("XML declaration not closed on its first line: ignored")
            content = content[:offset] + b"\n" + content[offset:]
        return content, headers
    end += 2
    decl = content[offset:end]
    # The name as feedparser will read it (its own pattern, now over one short line).
    found = RE_XML_PI_ENCODING.match(decl)
    if found and not _usable_codec(found.group(1).decode("latin-1")):
        name = found.group(1).decode("utf-8", "replace")[:40]
        notes.add(f"XML declaration names an unknown encoding {name!r}: ignored")
        decl = decl[: found.start(1)] + decl[found.end(1) :]
        content = content[:offset] + decl + content[end:]
        end = offset + len(decl)
    if content.find(b"\n", end, end + _FIRST_LINE) < 0 and len(content) > end + _FIRST_LINE:
        content = content[:end] + b"\n" + content[end:]  # keep the first line short
    return content, headers


def _set_declared_encoding(content: bytes, name: bytes) -> bytes:
    if not content.startswith(b"<?xml"):
        return content
    end = content.find(b"?>", 0, _FIRST_LINE)
    if end < 0:
        return content
    decl = content[:end]
    match = _DECL_ENCODING.search(decl)
    if match:
        decl = decl[: match.start(3)] + name + decl[match.end(3) :]
    return decl + content[end:]


# --- the prolog: DOCTYPE and entity declarations ----------------------------------------

_SPACE = re.compile(rb"[ \t\r\n]*")
_QUOTE_OR_GT = re.compile(rb"[\"'>]")
_DOCTYPE_SPECIAL = re.compile(rb"[\"'\[>]")
_SUBSET_NEXT = re.compile(rb"[<\]%]")
_DOCTYPE_NAME = re.compile(rb"[ \t\r\n]+([^ \t\r\n\[>]+)")
_SAFE_ENTITY = re.compile(
    rb"""<!ENTITY[ \t\r\n]+(\w{1,64})[ \t\r\n]+(["'])"""
    rb"""(&#[0-9]{1,7};|&#x[0-9a-fA-F]{1,6};|[^&%<"'\x00-\x1f]{0,16})\2[ \t\r\n]*>\Z"""
)
_ELEMENT_START = re.compile(rb"<[A-Za-z_]")
_WORD_TAG = re.compile(rb"<\w")  # where feedparser's replace_doctype ends its "head"


def _decl_end(data: bytes, pos: int) -> int:
    """End (exclusive) of the markup declaration at ``pos`` (quotes honoured), or -1."""
    while True:
        match = _QUOTE_OR_GT.search(data, pos)
        if match is None:
            return -1
        char = match.group()
        if char == b">":
            return match.end()
        close = data.find(char, match.end())
        if close < 0:
            return -1
        pos = close + 1


def _clean_prolog(data: bytes, notes: _Notes) -> bytes:
    """Rebuild the prolog when it declares anything: only safe entities survive.

    Linear: every step moves forward by a ``find`` or a regular expression that cannot
    backtrack. A document whose prolog declares nothing comes back unchanged.
    """
    pos = 0
    kept: list[bytes] = []  # processing instructions (the XML declaration, stylesheets)
    doctype: bytes | None = None
    changed = False
    while True:
        pos = _SPACE.match(data, pos).end()  # type: ignore[union-attr]
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                break
            kept.append(data[pos : end + 2])
            pos = end + 2
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif data[pos : pos + 9].upper() == b"<!DOCTYPE":
            end, rebuilt, declared = _read_doctype(data, pos, notes)
            changed = changed or declared or end < 0
            if end < 0:  # not terminated: drop it up to the first element
                start = _ELEMENT_START.search(data, pos + 9)
                notes.add("DOCTYPE not terminated: dropped")
                pos = start.start() if start else len(data)
                break
            if doctype is None:
                doctype = rebuilt
            else:
                changed = True
                notes.add("a second DOCTYPE ignored")
            pos = end
        elif data.startswith(b"<!", pos):
            # A declaration outside any DOCTYPE (<!ENTITY ...> on its own): never valid,
            # and feedparser would take an ENTITY from it.
            end = _decl_end(data, pos + 2)
            if end < 0:
                break
            if data.startswith(b"<!ENTITY", pos):
                notes.add("DOCTYPE entity declarations ignored")
            changed = True
            pos = end
        else:
            break
    if not changed and pos < 65_536:
        return _drop_junk_before_root(data, pos, notes)
    head = b"\n".join(kept)
    if doctype is not None:
        head += b"\n" + doctype
    return _drop_junk_before_root(head + b"\n" + data[pos:], len(head) + 1, notes)


def _drop_junk_before_root(data: bytes, pos: int, notes: _Notes) -> bytes:
    """feedparser reads DOCTYPEs from everything before the first ``<`` + word character
    with patterns that are quadratic over many lines; text there is never a feed's."""
    match = _WORD_TAG.search(data, pos)
    start = match.start() if match else len(data)
    if start - pos <= 1024:
        return data
    notes.add(f"{start - pos:,} bytes before the root element dropped")
    return data[:pos] + data[start:]


def _read_doctype(data: bytes, pos: int, notes: _Notes) -> tuple[int, bytes, bool]:
    """Read the DOCTYPE at ``pos``: (end, rebuilt DOCTYPE, whether it declared anything).

    ``end`` is -1 when it is not terminated. The rebuilt one keeps the name, a harmless
    external identifier (feedparser tells RSS 0.91 Netscape by it; it is never fetched) and
    the safe entities, each on its own line as feedparser's own replacement writes them.
    """
    name_match = _DOCTYPE_NAME.match(data, pos + 9)
    if name_match is None:
        return -1, b"", True
    name = name_match.group(1)
    p = name_match.end()
    external = b""
    entities: list[bytes] = []
    declared = False
    while True:
        match = _DOCTYPE_SPECIAL.search(data, p)
        if match is None:
            return -1, b"", True
        char = match.group()
        if char in (b'"', b"'"):
            close = data.find(char, match.end())
            if close < 0:
                return -1, b"", True
            p = close + 1
            continue
        external = data[name_match.end() : match.start()].strip()
        if char == b">":
            end = match.end()
            break
        # The internal subset: declarations, comments, PIs, parameter-entity references.
        p = match.end()
        while True:
            nxt = _SUBSET_NEXT.search(data, p)
            if nxt is None:
                return -1, b"", True
            p = nxt.start()
            if data.startswith(b"]", p):
                gt = data.find(b">", p + 1)
                if gt < 0:
                    return -1, b"", True
                end = gt + 1
                break
            if data.startswith(b"%", p):
                declared = True  # a parameter-entity reference: dropped with the subset
                p += 1
            elif data.startswith(b"<!--", p):
                close = data.find(b"-->", p + 4)
                if close < 0:
                    return -1, b"", True
                p = close + 3
            elif data.startswith(b"<?", p):
                close = data.find(b"?>", p + 2)
                if close < 0:
                    return -1, b"", True
                p = close + 2
            elif data.startswith(b"<!", p):
                close = _decl_end(data, p + 2)
                if close < 0:
                    return -1, b"", True
                declared = True
                decl = data[p:close]
                safe = _SAFE_ENTITY.match(decl)
                if safe and len(entities) < MAX_SAFE_ENTITIES:
                    entities.append(b'<!ENTITY %s "%s">' % (safe.group(1), safe.group(3)))
                p = close
            else:
                p += 1  # a stray "<"
        break
    if declared:
        notes.add("DOCTYPE entity declarations ignored")
    if b">" in external or b"[" in external or external.count(b'"') % 2:
        external = b""
    rebuilt = b"<!DOCTYPE " + name + (b" " + external if external else b"")
    if entities:
        rebuilt += b" [\n" + b"\n".join(entities) + b"\n]>"
    else:
        rebuilt += b">"
    return end, rebuilt, declared


# --- too many entries -------------------------------------------------------------------

_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]", re.IGNORECASE)
_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?(?:rss|feed|rdf))[\s>]", re.IGNORECASE)
_CHANNEL = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?channel)[\s>]", re.IGNORECASE)


def _closers(content: bytes, at: int) -> bytes | None:
    """The end tags that close the document when it is cut at ``at`` (None: unknown)."""
    root = _ROOT.search(content, 0, min(at, 65_536))
    if root is None:
        return None
    name = root.group(1)
    if name.split(b":")[-1].lower() == b"rss":
        channel = _CHANNEL.search(content, root.end(), at)
        if channel is not None:
            return b"</" + channel.group(1) + b"></" + name + b">"
    return b"</" + name + b">"


def _cut_entries(content: bytes, max_entries: int) -> tuple[bytes, int | None]:
    """Cut the document before item ``max_entries + 1``; return (bytes, total count or None).

    Items and entries in any case and with any namespace prefix count; the ones after the
    cut are counted without copying the rest of the document.
    """
    cut_at: int | None = None
    for count, match in enumerate(_ITEM_START.finditer(content), 1):
        if count > max_entries:
            cut_at = match.start()
            break
    if cut_at is None:
        return content, None
    closers = _closers(content, cut_at)
    if closers is None:
        return content, None  # unknown layout: parse it whole rather than break it
    total = max_entries + sum(1 for _ in _ITEM_START.finditer(content, cut_at))
    return content[:cut_at] + closers, total


# --- too much markup --------------------------------------------------------------------

# A tag (name, end slash, self-closing slash), or the start of a comment, CDATA section,
# declaration or processing instruction. A "<" that starts none of these is text, skipped in
# C. "[^<>]*?" stops at the first ">" (a ">" inside a quoted value ends the tag early: the
# reducer only ever cuts at such a boundary, and only in documents over the budget).
_MARKUP = re.compile(
    rb"<(?:(/)?([A-Za-z_:\x80-\xff][^\s/<>]*)[^<>]*?(/)?>|(!--)|(!\[CDATA\[)|[!?])"
)
_STRUCTURE = frozenset({b"rss", b"feed", b"rdf", b"channel"})
# A run of siblings that are empty or hold only text, none an entry: once a parent has had
# more children than it may keep, such a run (a flood of <x/>, of <category>) is dropped
# a thousand at a time in C. Each repetition matches one element one way: no backtracking.
_SIMPLE_RUN = re.compile(
    rb"(?:\s*<(?!(?:[\w.-]+:)?(?:item|entry)[\s/>])([^\s/<>!?]+)(?:\s[^<>]*)?"
    rb"(?:/>|>[^<]*</\1\s*>)){1,1000}",
    re.IGNORECASE,
)
_ENTRIES = frozenset({b"item", b"entry"})
_XHTML_TYPE = re.compile(rb"""(\stype\s*=\s*["'])(?:xhtml|application/xhtml\+xml)(["'])""", re.I)
_END_CHARS = b" \t\r\n>"


def _local(name: bytes) -> bytes:
    return name.rpartition(b":")[2].lower()


@dataclass
class _Open:
    """An element the reducer walks into: the root, a channel, an entry (``structural``), or
    an element whose end it could not find (its content is walked tag by tag)."""

    name: bytes
    structural: bool
    unwrap: bool = False  # its start tag was dropped: drop its end tag too
    children: int = 0
    names: dict[bytes, int] = field(default_factory=dict)


class _Reducer:
    """One pass over a document that holds more markup than feedparser can take in time.

    Walks the root, channels and entries tag by tag (a few tags per entry), and jumps over
    each field (a direct child of those) with one ``find`` of its end tag: a field whose
    content holds more than ``HEAVY_FIELD`` tokens, or any but a tiny one once the
    document's budget is spent, is taken as text (its markup becomes characters of a CDATA
    section, as `html_to_text` would treat it anyway), so a flood of markup inside a field
    costs a few C calls. Elements beyond ``MAX_SIBLINGS`` of one name or ``MAX_CHILDREN`` in
    one parent (``FEW_CHILDREN`` once the budget is spent) are dropped with their content;
    markup nested deeper than ``MAX_DEPTH``, or inside a field without an end tag once the
    budget is spent, is unwrapped; comments, processing instructions and stray end tags
    inside the root are dropped. Every step moves forward: linear in the document.
    """

    def __init__(self, data: bytes, notes: _Notes, *, loose: bool) -> None:
        self.data = data
        self.notes = notes
        self.amp_weight = 1 if loose else 4  # "&" per token
        self.out: list[bytes] = []
        self.chunks: list[bytes] = []
        self.last = 0  # data[last:] is not yet copied to out
        self.stack: list[_Open] = []
        self.open: dict[bytes, int] = {}  # name -> how many are open
        self.budget = MARKUP_BUDGET  # tokens feedparser may still get
        self.next_entry = -1  # cached: the first entry start at or after next_entry_from
        self.next_entry_from = -1
        # Past these no "-->" or ">" follows: a flood of unclosed "<!--" or "<!" then costs
        # one failed search, not one per marker.
        self.no_comment_end = len(data) + 1
        self.no_gt = len(data) + 1

    # -- output: kept pieces, joined 10,000 at a time (bytes.join holds a buffer record of
    # about 80 bytes per piece: millions of dropped tags between kept text took gigabytes)
    def keep_to(self, start: int) -> None:
        if start > self.last:
            self.out.append(self.data[self.last : start])
            if len(self.out) >= 10_000:
                self.chunks.append(b"".join(self.out))
                self.out.clear()

    def drop(self, start: int, end: int) -> None:
        self.keep_to(start)
        self.last = max(self.last, end)

    def replace(self, start: int, end: int, new: bytes) -> None:
        self.keep_to(start)
        self.out.append(new)
        self.last = end

    # -- lookups
    def entry_after(self, pos: int) -> int:
        """Start of the first entry tag at or after ``pos`` (len(data) if none); cached so
        that all lookups together scan the document once."""
        if not (self.next_entry_from <= pos <= self.next_entry):
            match = _ITEM_START.search(self.data, pos)
            self.next_entry = match.start() if match else len(self.data)
            self.next_entry_from = pos
        return self.next_entry

    def end_tag(self, name: bytes, pos: int, limit: int) -> tuple[int, int] | None:
        """(start, end) of the first ``</name>`` after ``pos`` and before ``limit``."""
        needle = b"</" + name
        data = self.data
        while True:
            at = data.find(needle, pos, limit)
            if at < 0:
                return None
            after = at + len(needle)
            if after < len(data) and data[after] in _END_CHARS:
                gt = data.find(b">", after, limit)
                return None if gt < 0 else (at, gt + 1)
            pos = after

    def tokens(self, start: int, end: int) -> int:
        amps = self.data.count(b"&", start, end)
        return self.data.count(b"<", start, end) + amps // self.amp_weight

    # -- the walk
    def run(self) -> bytes:
        data = self.data
        pos = 0
        while True:
            match = _MARKUP.search(data, pos)
            if match is None:
                self.text(pos, len(data))
                break
            start, end = match.span()
            self.text(pos, start)
            if match.group(4):  # <!--
                pos = self.comment(start, end)
            elif match.group(5):  # <![CDATA[
                close = data.find(b"]]>", end)
                pos = len(data) if close < 0 else close + 3
            elif match.group(2) is None:  # <!...> or <?...?>
                close = -1 if end >= self.no_gt else data.find(b">", end)
                if close < 0:
                    self.no_gt = min(self.no_gt, end)
                    if self.stack:
                        self.drop(start, end)
                    pos = end
                    continue
                pos = close + 1
                if self.stack:  # in the prolog they stay (the DOCTYPE's safe entities)
                    self.drop(start, pos)
            elif match.group(1):
                self.end_element(match.group(2), start, end)
                pos = end
            else:
                pos = self.start_element(match.group(2), start, end, bool(match.group(3)))
        self.keep_to(len(data))
        return b"".join([*self.chunks, b"".join(self.out)])

    def text(self, start: int, end: int) -> None:
        """Text between tags: directly in the root, a channel or an entry feedparser ignores
        it, yet a flood of entity references in it would cost a call each."""
        if end - start <= 64 or not self.stack:
            return
        top = self.stack[-1]
        if (top.structural or self.budget <= 0) and self.data.count(b"&", start, end) > 16:
            if top.structural:
                self.drop(start, end)
                self.notes.add("text between elements dropped")
            else:
                self.replace(start, end, _cdata(self.data[start:end]))

    def comment(self, start: int, end: int) -> int:
        close = -1 if end >= self.no_comment_end else self.data.find(b"-->", end)
        if close < 0:
            self.no_comment_end = min(self.no_comment_end, end)
            # An unclosed comment would swallow the rest of the document, entries and all;
            # dropping its marker keeps them.
            self.drop(start, end)
            self.notes.add("unclosed comment marker dropped")
            return end
        if self.stack:
            self.drop(start, close + 3)
        return close + 3

    def end_element(self, name: bytes, start: int, end: int) -> None:
        if not self.open.get(name):
            self.drop(start, end)  # an end tag of nothing open
            self.notes.add("stray end tags dropped")
            return
        while self.stack:
            top = self.stack.pop()
            self.open[top.name] -= 1
            if top.name == name:
                if top.unwrap:
                    self.drop(start, end)
                return

    def push(self, item: _Open) -> None:
        self.stack.append(item)
        self.open[item.name] = self.open.get(item.name, 0) + 1

    def start_element(self, name: bytes, start: int, end: int, empty: bool) -> int:
        """Decide about a start tag; return where the walk goes on."""
        parent = self.stack[-1] if self.stack else None
        local = _local(name)
        structural = parent is None or local in _STRUCTURE or local in _ENTRIES
        if parent is not None and parent.structural and not structural:
            return self.field(parent, name, start, end, empty)
        if len(self.stack) >= MAX_DEPTH or (not structural and self.budget <= 0):
            self.drop(start, end)
            self.notes.add(f"markup nested deeper than {MAX_DEPTH} levels or over the "
                           "document's budget unwrapped")  # fmt: skip
            if not empty:
                self.push(_Open(name, False, unwrap=True))
            return end
        self.budget -= 1
        if not empty:
            self.push(_Open(name, structural))
        return end

    def field(self, parent: _Open, name: bytes, start: int, end: int, empty: bool) -> int:
        """A direct child of the root, a channel or an entry: kept, taken as text, or
        dropped, decided from counts over its content without walking it."""
        parent.children += 1
        same = parent.names[name] = parent.names.get(name, 0) + 1
        close = None if empty else self.end_tag(name, end, self.entry_after(end))
        most = MAX_CHILDREN if self.budget > 0 else FEW_CHILDREN
        if same > MAX_SIBLINGS or parent.children > most:
            self.notes.add(f"more than {MAX_SIBLINGS} elements of one name or {most} in all "
                           "in one entry or channel: the rest dropped")  # fmt: skip
            if close is None and not empty:
                self.drop(start, end)
                self.push(_Open(name, False, unwrap=True))
                return end
            after = end if close is None else close[1]
            if parent.children > most:  # everything else in this parent goes too
                # At most 1,000 siblings per call: the regex engine keeps a frame per
                # repetition, and 2.5 million of them took a gigabyte.
                while (run := _SIMPLE_RUN.match(self.data, after)) is not None:
                    after = run.end()
            self.drop(start, after)
            return after
        if empty:
            self.budget -= 1
            return end
        if close is None:  # no end tag before the next entry: walk its content
            self.budget -= 1
            self.push(_Open(name, False))
            return end
        inner = self.tokens(end, close[0])
        if inner <= HEAVY_FIELD and (inner <= 16 or self.budget > inner):
            self.budget -= inner + 2
            return close[1]
        tag = _XHTML_TYPE.sub(rb"\1html\2", self.data[start:end])
        self.replace(start, close[0], tag + _cdata(self.data[end : close[0]]))
        self.budget -= 3
        self.notes.add("markup taken as text", where=name.decode("utf-8", "replace")[:40])
        return close[1]


def _cdata(inner: bytes) -> bytes:
    """A CDATA section of the text an XML parser would make of ``inner`` (its markup kept as
    characters, for `html_to_text`): XML's own escapes decoded, inner CDATA markers gone."""
    inner = inner.replace(b"<![CDATA[", b"").replace(b"]]>", b"")
    for escaped, plain in _XML_ESCAPES:
        if escaped in inner:
            inner = inner.replace(escaped, plain)
    return b"<![CDATA[" + inner.replace(b"]]>", b"]]&gt;") + b"]]>"


_XML_ESCAPES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"),
                (b"&amp;", b"&"))  # fmt: skip


def _reduce_markup(data: bytes, notes: _Notes, *, loose: bool = False) -> bytes:
    """`_Reducer` when the document holds more markup tokens than ``MARKUP_BUDGET``."""
    amps = data.count(b"&")
    if data.count(b"<") + (amps if loose else amps // 4) <= MARKUP_BUDGET:
        return data
    return _Reducer(data, notes, loose=loose).run()


# A tag of 16 kB or more: found in C (each "<" costs a look as far as the next "<" or ">").
_LONG_TAG = re.compile(rb"<[^<>]{16384,}>")
_ATTRIBUTE = re.compile(rb"""\s+[^\s=<>/]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s<>"']*)""")


def _shorten_long_tags(data: bytes, notes: _Notes) -> bytes:
    """Keep the first ``MAX_ATTRIBUTES`` attributes of a tag that has more: expat and the
    SAX glue build several dictionaries of all of them (700,000 took 580 MB) before any
    handler could drop one. A long tag with few attributes (one huge value) stays."""
    parts: list[bytes] = []
    done = 0
    for match in _LONG_TAG.finditer(data):
        start, end = match.span()
        if data.count(b"=", start, end) <= MAX_ATTRIBUTES:
            continue
        kept = list(islice(_ATTRIBUTE.finditer(data, start, end), MAX_ATTRIBUTES))
        last = kept[-1] if kept else None
        name_end = start + 1
        while name_end < end and data[name_end] not in b" \t\r\n/>":
            name_end += 1
        keep_to = last.end() if last is not None else name_end
        closing = b"/>" if data[end - 2 : end - 1] == b"/" else b">"
        parts += [data[done:keep_to], closing]
        done = end
        notes.add(f"more than {MAX_ATTRIBUTES} attributes on one element: the rest dropped")
    if not parts:
        return data
    return b"".join(parts) + data[done:]


def _close_open_sections(data: bytes, notes: _Notes) -> bytes:
    """An unclosed comment or CDATA section swallows the rest of the document, every entry
    after it too (the loose parser drops it). Markers of comments with no "-->" after them
    are dropped; a CDATA section with no "]]>" after it is closed at the next end tag (for at
    most 10 of them). Two ``rfind`` and nothing else for a document without either."""
    last_close = data.rfind(b"-->")
    if data.find(b"<!--", last_close + 1 if last_close >= 0 else 0) >= 0:
        cut = last_close + 3 if last_close >= 0 else 0
        data = data[:cut] + data[cut:].replace(b"<!--", b"")
        notes.add("unclosed comment marker dropped")
    last_close = data.rfind(b"]]>")
    pos = last_close + 3 if last_close >= 0 else 0
    parts: list[bytes] = []
    done = 0
    for _ in range(10):
        opening = data.find(b"<![CDATA[", pos)
        if opening < 0:
            break
        at = data.find(b"</", opening + 9)
        at = len(data) if at < 0 else at
        parts += [data[done:at], b"]]>"]
        done = pos = at
        notes.add("unclosed CDATA section closed at the next end tag")
    if parts:
        data = b"".join(parts) + data[done:]
    return data


# --- feedparser, bounded ----------------------------------------------------------------

# Element names (as feedparser pushes them) whose text its own code runs patterns over.
_DATE_FIELDS = frozenset({"published", "updated", "created", "expired", "validity"})
_NAME_FIELDS = frozenset({"author", "name", "email", "publisher", "contributor", "credit"})
# Keyword lists are split into one tag per word before MAX_TAGS applies.
_KEYWORD_FIELDS = frozenset({"itunes_keywords", "media_keywords", "tags", "category"})
_TEXT_CAPS = {
    **dict.fromkeys(_DATE_FIELDS, 100),
    **dict.fromkeys(_NAME_FIELDS, 500),
    **dict.fromkeys(_KEYWORD_FIELDS, 10_000),
}
# feedparser's e-mail pattern in _sync_author_detail, with one change: a match may only start
# where a run of local-part characters starts. The leftmost match is the same (a match inside
# a run extends to the run's start), but a long run without "@" is tried once, not once per
# character: the original is quadratic (8,000 letters took 0.3 s, per author element).
_AUTHOR_EMAIL = re.compile(
    r"(?<![a-zA-Z0-9_\-.+])(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|"
    r"(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"
)


class _Bounded:
    """Limits mixed into feedparser's strict and loose parser classes (placed first, so its
    methods run before feedparser's). Each limit is checked where it costs one comparison."""

    notes: _Notes
    _tags_seen: dict[int, set[tuple[Any, Any, Any]]]

    def _bounds_start(self) -> None:
        self.notes = _Notes()
        self._tags_seen = {}

    def _where(self) -> tuple[int | None, str]:
        entry = len(self.entries) if self.inentry else None  # type: ignore[attr-defined]
        stack = self.elementstack  # type: ignore[attr-defined]
        return entry, (str(stack[-1][0]) if stack else "")

    def unknown_starttag(self, tag: str, attrs: list[tuple[str, str]]) -> Any:
        if len(attrs) > MAX_ATTRIBUTES:
            entry, _ = self._where()
            self.notes.add(f"more than {MAX_ATTRIBUTES} attributes on one element: the rest "
                           "dropped", entry, tag[:40])  # fmt: skip
            attrs = attrs[:MAX_ATTRIBUTES]
        try:
            return super().unknown_starttag(tag, attrs)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - this element's loss, not the feed's
            # feedparser's handler for this element failed after its own bookkeeping (the
            # stacks the end tag unwinds): the element is lost, the document goes on.
            self._failed_element(tag, exc)
            return None

    def unknown_endtag(self, tag: str) -> Any:
        try:
            return super().unknown_endtag(tag)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - this element's loss, not the feed's
            # The handler failed before feedparser unwound its base-URI and language stacks
            # for this element; unwind them as it would have.
            self._failed_element(tag, exc)
            if self.basestack:  # type: ignore[attr-defined]
                self.basestack.pop()  # type: ignore[attr-defined]
                if self.basestack and self.basestack[-1]:  # type: ignore[attr-defined]
                    self.baseuri = self.basestack[-1]  # type: ignore[attr-defined]
            if self.langstack:  # type: ignore[attr-defined]
                self.langstack.pop()  # type: ignore[attr-defined]
                if self.langstack:  # type: ignore[attr-defined]
                    self.lang = self.langstack[-1]  # type: ignore[attr-defined]
            self.depth -= 1  # type: ignore[attr-defined]
            return None

    def _failed_element(self, tag: str, exc: Exception) -> None:
        entry, _ = self._where()
        what = f"<{tag[:40]}> could not be read ({type(exc).__name__}: {one_line(exc, 60)})"
        self.notes.add(what + ": skipped", entry)

    def handle_charref(self, ref: str) -> Any:
        # feedparser's loose parser raises on a reference to no character (OverflowError for
        # &#99999999999;, UnicodeEncodeError for a surrogate), which lost the whole feed.
        try:
            code = int(ref[1:], 16) if ref[:1] in ("x", "X") else int(ref)
        except ValueError:
            code = -1
        if len(ref) > 8 or not (0 < code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
            entry, where = self._where()
            self.notes.add(f"invalid character reference &#{ref[:12]}; replaced by U+FFFD",
                           entry, where)  # fmt: skip
            ref = "xfffd"
        return super().handle_charref(ref)  # type: ignore[misc]

    def pop(self, element: str, strip_whitespace: int = 1) -> Any:
        stack = self.elementstack  # type: ignore[attr-defined]
        cap = _TEXT_CAPS.get(element)
        if cap is None and stack and len(stack[-1][2]) > 32:
            cap = MAX_FIELD_CHARS  # before feedparser joins a huge field into one string
        if cap is not None and stack and stack[-1][0] == element:
            pieces = stack[-1][2]
            total = 0
            for i, piece in enumerate(pieces):
                total += len(piece)
                if total > cap:
                    entry, _ = self._where()
                    self.notes.add(f"cut at {cap:,} characters", entry, element)
                    keep = len(piece) - (total - cap)
                    pieces[i:] = [piece[:keep]] if isinstance(piece, str) else []
                    break
        return super().pop(element, strip_whitespace)  # type: ignore[misc]

    def _add_tag(self, term: Any, scheme: Any, label: Any) -> None:
        # feedparser checks each new tag against all earlier ones (quadratic over 300,000
        # categories, or a keywords list of a million words); a set per context is linear.
        context = self._get_context()  # type: ignore[attr-defined]
        tags = context.setdefault("tags", [])
        if not term and not scheme and not label:
            return
        key = (term, scheme, label)
        seen = self._tags_seen.setdefault(id(context), set())
        if key in seen:
            return
        if len(tags) >= MAX_TAGS:
            entry, _ = self._where()
            self.notes.add(f"more than {MAX_TAGS} categories: the rest dropped", entry)
            return
        seen.add(key)
        tags.append(FeedParserDict(term=term, scheme=scheme, label=label))

    def _sync_author_detail(self, key: str = "author") -> None:
        # feedparser's own (Copyright Kurt McKee, Mark Pilgrim; BSD-2-Clause), with its e-mail
        # pattern made linear (_AUTHOR_EMAIL).
        context = self._get_context()  # type: ignore[attr-defined]
        detail = context.get(f"{key}s", [FeedParserDict()])[-1]
        if detail:
            name = detail.get("name")
            email = detail.get("email")
            if name and email:
                context[key] = f"{name} ({email})"
            elif name:
                context[key] = name
            elif email:
                context[key] = email
            return
        author, email = context.get(key), None
        if not author:
            return
        emailmatch = _AUTHOR_EMAIL.search(author)
        if emailmatch:
            email = emailmatch.group(0)
            author = author.replace(email, "")
            author = author.replace("()", "")
            author = author.replace("<>", "")
            author = author.replace("&lt;&gt;", "")
            author = author.strip()
            if author and (author[0] == "("):
                author = author[1:]
            if author and (author[-1] == ")"):
                author = author[:-1]
            author = author.strip()
        if author or email:
            context.setdefault(f"{key}_detail", detail)
        if author:
            detail["name"] = author
        if email:
            detail["email"] = email


class _FewAttributes(xml.sax.xmlreader.AttributesNSImpl):  # type: ignore[misc]
    """The first ``MAX_ATTRIBUTES`` attributes of an element, with a constant-time lookup by
    qualified name (the standard one searches all of them, once per attribute)."""

    def __init__(self, attrs: Any) -> None:
        items = list(islice(attrs.items(), MAX_ATTRIBUTES))
        qnames = {name: attrs.getQNameByName(name) for name, _ in items}
        super().__init__(dict(items), qnames)
        values = dict(items)
        self._by_qname = {qname: values[name] for name, qname in qnames.items()}

    def getValueByQName(self, name: str) -> Any:  # noqa: N802 - the SAX interface's name
        return self._by_qname[name]


# feedparser's classes are untyped (Any to mypy): subclassing them needs the ignores.
class _StrictParser(
    _Bounded,
    _StrictFeedParser,  # type: ignore[misc]
    _FeedParserMixin,  # type: ignore[misc]
    xml.sax.handler.ContentHandler,
):
    def __init__(self, baselang: str | None) -> None:
        super().__init__("", baselang, "utf-8")
        self._bounds_start()

    def startElementNS(self, name: Any, qname: Any, attrs: Any) -> Any:  # noqa: N802
        if len(attrs) > 8:
            if len(attrs) > MAX_ATTRIBUTES:
                what = f"more than {MAX_ATTRIBUTES} attributes on one element: the rest dropped"
                self.notes.add(what, self._where()[0], str(qname or name[1])[:40])
            attrs = _FewAttributes(attrs)
        return super().startElementNS(name, qname, attrs)


class _LooseParser(
    _Bounded,
    _LooseFeedParser,  # type: ignore[misc]
    _FeedParserMixin,  # type: ignore[misc]
    _BaseHTMLProcessor,  # type: ignore[misc]
):
    inentry: int  # feedparser's state flags (set in its __init__)
    incontent: int
    insource: int

    def __init__(self, baselang: str | None, entities: dict[str, str]) -> None:
        super().__init__("", baselang, "utf-8", entities)
        self._bounds_start()
        self._open: dict[str, int] = {}

    # sgmllib hands every end tag to feedparser, also one of an element that was never
    # opened, and some of feedparser's end handlers then fail (a stray </media:player>
    # raised KeyError and lost the whole feed): an end tag of nothing open is ignored.
    def unknown_starttag(self, tag: str, attrs: list[tuple[str, str]]) -> Any:
        self._open[tag] = self._open.get(tag, 0) + 1
        if tag.rpartition(":")[2] in ("item", "entry") and (
            self.inentry or self.incontent or self.insource
        ):
            self._entry_restart()
        return super().unknown_starttag(tag, attrs)

    def _entry_restart(self) -> None:
        """A new entry starts while the last one still has an element open (an unclosed
        <source> or <content> made feedparser file every later entry's fields into it, or
        take the entries for inline markup): the state an entry's elements set is reset, so
        the unclosed element costs its own entry only."""
        if self.incontent or self.insource:
            self.notes.add("an element left open: closed at the next entry", len(self.entries))
        self.incontent = 0
        self.contentparams = FeedParserDict()
        self.insource = 0
        self.sourcedata = FeedParserDict()
        self.intextinput = self.inimage = 0
        self.inauthor = self.incontributor = self.inpublisher = 0
        self.svgOK = 0

    def unknown_endtag(self, tag: str) -> Any:
        count = self._open.get(tag, 0)
        if not count:
            self.notes.add(f"stray end tag </{tag[:40]}> ignored", self._where()[0])
            return None
        self._open[tag] = count - 1
        return super().unknown_endtag(tag)


class _ExpatReader(xml.sax.expatreader.ExpatParser):
    """xml.sax's expat reader (what feedparser gets when libxml2's bindings are not
    installed) with expat's text buffering on: text reaches feedparser in pieces of 64 kB,
    not in one call per line or entity reference (10 million line breaks were 10 million
    calls). The text is the same."""

    def reset(self) -> None:
        super().reset()
        parser: Any = self._parser  # type: ignore[attr-defined]
        parser.buffer_text = True
        parser.buffer_size = 65_536


@dataclass
class _Parsed:
    """What feedparser's two parsers made of a prepared document."""

    feed: Mapping[str, Any]
    entries: list[Any]
    version: str
    bozo: Exception | None
    notes: _Notes


def _run_parsers(data: bytes, *, strict: bool, baselang: str | None, notes: _Notes) -> _Parsed:
    """feedparser.parse from the DOCTYPE step on: expat first, the loose parser if expat
    finds the document not well-formed (or anything in feedparser's handlers raises); each
    gets the document reduced to what it can take in time (`_reduce_markup`)."""
    raw = data
    version, data, entities = replace_doctype(_reduce_markup(raw, notes) if strict else raw)
    bozo: Exception | None = None
    parser: Any = None
    if strict:
        parser = _StrictParser(baselang)
        parser.resolve_relative_uris = False  # links are resolved by canonical_url
        parser.sanitize_html = False  # every HTML field becomes plain text
        sax = _ExpatReader()
        sax.setFeature(xml.sax.handler.feature_namespaces, 1)
        try:
            sax.setFeature(xml.sax.handler.feature_external_ges, 0)
        except xml.sax.SAXNotSupportedException:
            pass
        sax.setContentHandler(parser)
        sax.setErrorHandler(parser)
        source = xml.sax.xmlreader.InputSource()
        source.setByteStream(io.BytesIO(data))
        try:
            sax.parse(source)
        except Exception as exc:  # noqa: BLE001 - not well-formed: the loose parser's turn
            bozo = parser.exc or exc
            strict = False
    if not strict:
        version, data, entities = replace_doctype(_reduce_markup(raw, notes, loose=True))
        parser = _LooseParser(baselang, entities)
        parser.resolve_relative_uris = False
        parser.sanitize_html = False
        parser.feed(data.decode("utf-8", "replace"))
    return _Parsed(
        feed=parser.feeddata,
        entries=list(parser.entries),
        version=version or parser.version or "",
        bozo=bozo,
        notes=parser.notes,
    )


@dataclass
class _Prepared:
    """A document ready for feedparser's parsers (see `_prepare`)."""

    data: bytes  # UTF-8, prolog cleaned, entries cut, markup reduced
    strict: bool  # the encoding is known: expat may try
    baselang: str | None
    encoding_problem: Exception | None  # feedparser's bozo exception from the encoding step
    total_entries: int | None  # when entries were cut


def _prepare(
    content: bytes, headers: dict[str, str] | None, notes: _Notes, max_entries: int
) -> _Prepared:
    """feedparser.parse up to its DOCTYPE step (the encoding made UTF-8), with the byte-level
    guards around it: the declaration first, then the prolog, unclosed sections, the entry
    cut and over-long tags. Each is linear and returns its input when it has nothing to do."""
    http_headers = dict(headers or {})
    content, http_headers = _guard_declaration(content, http_headers, notes)
    result = FeedParserDict(bozo=False, entries=[], feed=FeedParserDict(), headers={})
    result["headers"].update(http_headers if headers is not None else {})
    data = convert_to_utf8(result["headers"], content, result)
    data = _clean_prolog(data, notes)
    data = _close_open_sections(data, notes)
    data, total = _cut_entries(data, max_entries)
    data = _shorten_long_tags(data, notes)
    baselang = result["headers"].get("content-language")
    return _Prepared(
        data=data,
        strict=bool(result.get("encoding")),
        baselang=str(baselang) if baselang else None,
        encoding_problem=result.get("bozo_exception"),
        total_entries=total,
    )


def _entries_one_by_one(prepared: _Prepared, notes: _Notes) -> _Parsed:
    """Parse the head and every entry as a document of its own, after feedparser failed on
    the whole: an entry that fails costs that entry. Each part gets the prolog (when small),
    the root's and channel's start tags and the closing tags."""
    data = prepared.data
    starts = [m.start() for m in _ITEM_START.finditer(data)]
    first = starts[0] if starts else len(data)
    root = _ROOT.search(data, 0, min(first, 65_536))
    opening = b""
    if root is not None:
        tag = _MARKUP.match(data, root.start())
        root_end = tag.end() if tag else root.end()
        prolog = data[: root.start()] if root.start() <= 4096 else b""
        opening = prolog + data[root.start() : root_end]
        channel = _CHANNEL.search(data, root_end, first)
        if channel is not None and _local(root.group(1)) == b"rss":
            ctag = _MARKUP.match(data, channel.start())
            opening += data[channel.start() : ctag.end() if ctag else channel.end()]
    closers = _closers(data, first) or b""
    parts: list[tuple[int | None, bytes]] = [(None, data[:first] + closers)]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        tail = closers if i + 1 < len(starts) else b""
        parts.append((i + 1, opening + data[start:end] + tail))
    feed: Mapping[str, Any] = {}
    entries: list[Any] = []
    version = ""
    for number, part in parts:
        try:
            done = _run_parsers(
                part, strict=prepared.strict, baselang=prepared.baselang, notes=notes
            )
        except Exception as exc:  # noqa: BLE001 - this part's failure only
            what = f"could not be parsed ({type(exc).__name__}: {one_line(exc, 80)}): skipped"
            if number is None:
                notes.add(what, None, "feed metadata")
                continue
            # A placeholder keeps the entries' numbers those of the document (and this
            # one's title, for the warning); it is never normalised.
            title = _RAW_TITLE.search(part, 0, 65_536)
            raw = title.group(1).decode("utf-8", "replace") if title else ""
            entries.append(FeedParserDict(title=raw, monitor_unparsed=True))
            notes.add(what, len(entries))
            continue
        if number is None:
            feed, version = done.feed, done.version
            notes.merge(done.notes)
        else:
            notes.merge(done.notes, offset=len(entries))
            entries.extend(done.entries)
            version = version or done.version
    return _Parsed(feed=feed, entries=entries, version=version, bozo=None, notes=_Notes())


_RAW_TITLE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?title[^<>]*>([^<]{1,200})", re.IGNORECASE)


_FIELD_CAPS = {
    "title": MAX_TITLE_CHARS,
    **dict.fromkeys(("link", "href", "id", "guid", "url", "comments"), MAX_URL_CHARS),
}


def _bound_entry(entry: Any, number: int, notes: _Notes) -> None:
    """At most ``MAX_FIELD_CHARS`` characters per text field (``MAX_TITLE_CHARS`` for a
    title, ``MAX_URL_CHARS`` for a link or id) and ``MAX_LIST`` items per list (and in the
    mappings inside lists), in place."""
    for key, value in list(entry.items()):
        if isinstance(value, str):
            cap = _FIELD_CAPS.get(key, MAX_FIELD_CHARS)
            if len(value) > cap:
                cut = value[:cap]
                lt = cut.rfind("<")
                if lt > cut.rfind(">"):
                    cut = cut[:lt]  # no half tag at the end
                entry[key] = cut
                notes.add(f"cut at {cap:,} characters", number, str(key))
        elif isinstance(value, list):
            if len(value) > MAX_LIST:
                notes.add(f"more than {MAX_LIST} items: the rest dropped", number, str(key))
                value = entry[key] = value[:MAX_LIST]
            for item in value:
                if isinstance(item, dict):
                    _bound_entry(item, number, notes)
        elif isinstance(value, dict):
            _bound_entry(value, number, notes)


# --- parse_feed -------------------------------------------------------------------------


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
        return _failed(source, f"cannot parse {source}: {type(exc).__name__}: {one_line(exc, 300)}")


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

    max_entries = max(0, max_entries)
    response_headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    # Without a Content-Type feedparser flags every document as bozo ("no Content-type
    # specified"); no headers at all makes it sniff the XML declaration instead. We do not
    # pass Content-Location: feedparser would then resolve non-URL GUIDs into URLs.
    response_headers.pop("content-location", None)
    passed = response_headers if "content-type" in response_headers else None
    notes = _Notes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feedparser/sgmllib chatter is not our caller's problem
        prepared = _prepare(content, passed, notes, max_entries)
        if prepared.total_entries is not None:
            notes.add(f"feed has {prepared.total_entries} entries, kept the first {max_entries}")
        try:
            parsed = _run_parsers(
                prepared.data, strict=prepared.strict, baselang=prepared.baselang, notes=notes
            )
        except Exception as exc:  # noqa: BLE001 - feedparser failed on the whole: entry by entry
            notes.add(f"feedparser failed ({type(exc).__name__}: {one_line(exc, 80)}); each "
                      "entry parsed on its own")  # fmt: skip
            parsed = _entries_one_by_one(prepared, notes)
    notes.merge(parsed.notes)

    feed: Mapping[str, Any] = parsed.feed or {}
    entries = parsed.entries
    version = parsed.version
    title = textmod.html_to_text(str(feed.get("title") or "")[:MAX_TITLE_CHARS])
    title = title.replace("\n", " ")
    bozo = parsed.bozo or prepared.encoding_problem
    if bozo is not None:
        if not entries and not title and not version:
            what = _html_reason(content) or f"not XML ({one_line(bozo, 300)})"
            return _failed(source, f"not a feed: {source}: {what}")
    if not version and not entries and not title:
        what = _html_reason(content) or "no RSS/Atom/RDF root element"
        return _failed(source, f"not a feed: {source}: {what}")
    if len(entries) > max_entries:  # a layout the byte cut did not recognise
        notes.add(f"feed has {len(entries)} entries, kept the first {max_entries}")
        entries = entries[:max_entries]

    language = textmod.normalize_language(
        str(feed.get("language") or response_headers.get("content-language") or "")
    )
    link = canonical_url(str(feed.get("link") or "")[:4096], base=feed_url)
    authors = _feed_authors(feed)
    articles: list[Article] = []
    with warnings.catch_warnings():
        # Reading an entry can warn too (feedparser's "updated" -> "published" mapping); a
        # caller that turns warnings into errors must not lose the entry for it.
        warnings.simplefilter("ignore")
        for number, entry in enumerate(entries, 1):
            if entry.get("monitor_unparsed"):
                continue  # noted where it failed
            try:
                _bound_entry(entry, number, notes)
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
                what = f"skipped, could not be normalised ({type(exc).__name__}: "
                notes.add(what + f"{one_line(exc, 80)})", number)

    def title_of(number: int) -> str:
        if 0 < number <= len(entries):
            value = entries[number - 1].get("title")
            return textmod.html_to_text(value[:200]) if isinstance(value, str) else ""
        return ""

    lines = notes.render(title_of)
    dropped = [note for article in articles for note in article.warnings]
    if dropped:
        lines.append(f"{len(dropped)} fields of entries not used ({dropped[0]})")
    if bozo is not None:
        lines.insert(0, f"not well-formed XML: {one_line(bozo, 300)}")
    return ParsedFeed(
        source=source,
        version=version,
        title=title,
        link=link,
        language=language,
        articles=tuple(signed(articles)),
        warning="; ".join(lines) if lines else None,
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
    """Tag display forms from trafilatura's categories or tags: a string or a list of them,
    each possibly a comma-joined list, split and decoded exactly as feed categories are."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []
    out: list[str] = []
    for item in values:
        if isinstance(item, str):
            out.extend(textmod.split_category(item))
    return out


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
    for display in _page_terms(data.get("categories")) + _page_terms(data.get("tags")):
        key = textmod.tag_key(display)
        if key and key not in tags:
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
