"""Hostile documents through the real pipeline: time and peak memory per document.

Each case builds one hostile feed document of about ``--size`` bytes (default: the fetcher's
10 MB decoded cap, and half of it, to show the growth is linear), writes it beside a small
good feed, and runs `monitor.ingest.ingest_sources` (what `monitor ingest` runs) on the
folder into a fresh store, in a child process of its own: the wall time of the ingest and
the child's peak RSS (``ru_maxrss``) are printed per case, with what was stored and the
reason recorded for the hostile feed. A case that runs past ``--timeout`` is killed and
shown as such. Targets (issue 8): every document ends within 10 s and 500 MB, and the good
feed beside it is stored.

Usage: .venv/bin/python bench/bench_hostile.py [--size 10000000] [--also-half] [--only NAME]
       [--timeout 120] [--json]
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CAP = 10_000_000  # monitor.fetch.FetchSettings.max_bytes
HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
RSS_OPEN = '<rss version="2.0"><channel><title>Feindlich</title><link>https://h.example/</link>\n'
RSS_CLOSE = "</channel></rss>\n"


def _item(n: int, inner: str = "", body: str = "Ein guter Text.") -> str:
    return (
        f"<item><title>Good {n}</title><link>https://h.example/{n}</link><guid>h{n}</guid>"
        f"<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>{inner}"
        f"<description>{body}</description></item>\n"
    )


def _rss(hostile: str, *, where: str = "item", prolog: str = "") -> bytes:
    """Five good items; the hostile part in the third item (or the channel, or the body)."""
    items = [_item(n) for n in range(1, 6)]
    if where == "item":
        items[2] = _item(3, inner=hostile)
    elif where == "body":
        items[2] = _item(3, body=hostile)
    elif where == "title":
        items[2] = items[2].replace("<title>Good 3</title>", f"<title>Good 3 {hostile}</title>")
    channel = hostile if where == "channel" else ""
    return (HEAD + prolog + RSS_OPEN + channel + "".join(items) + RSS_CLOSE).encode("utf-8")


def _fill(unit: str, size: int, reserve: int = 2_000) -> str:
    return unit * max(1, (size - reserve) // len(unit.encode("utf-8")))


def _entity_doc(size: int, *, one_line: bool, parameter: bool = False) -> bytes:
    value = "x" * 100_000
    sep = "" if one_line else "\n"
    if parameter:
        decl = f"<!ENTITY % p \"<!ENTITY big '{value}'>\">{sep}%p;"
    else:
        decl = f'<!ENTITY big "{value}">'
    prolog = f"<!DOCTYPE rss [{sep}{decl}{sep}]>\n"
    refs = _fill("&big;", size - len(prolog) - 100_000)
    return _rss(refs, where="body", prolog=prolog)


def _laughs(size: int) -> bytes:
    decls = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    prolog = "<!DOCTYPE rss [\n" + "\n".join(decls) + "\n]>\n"
    return _rss(_fill("&l9;", size - len(prolog)), where="body", prolog=prolog)


def _many_small_entities(size: int) -> bytes:
    n = size // 300
    decls = "".join(f'<!ENTITY e{i} "{"y" * 100}">\n' for i in range(n))
    refs = "".join(f"&e{i};" for i in range(n)) * 3
    return _rss(refs, where="body", prolog=f"<!DOCTYPE rss [\n{decls}]>\n")


def _entity_outside_doctype(size: int) -> bytes:
    prolog = f'<!DOCTYPE rss>\n<!ENTITY big "{"x" * 100_000}">\n'
    return _rss(_fill("&big;", size - 100_000), where="body", prolog=prolog)


def _external_entities(size: int) -> bytes:
    prolog = (
        '<!DOCTYPE rss [\n<!ENTITY z SYSTEM "file:///dev/zero">\n'
        '<!ENTITY r SYSTEM "file:///dev/urandom">\n'
        '<!ENTITY w PUBLIC "-//X//Y" "http://127.0.0.1:9/never">\n'
        '<!ENTITY % q SYSTEM "file:///dev/zero">\n%q;\n]>\n'
    )
    return _rss(_fill("&z;&r;&w;", size), where="body", prolog=prolog)


def _nested(size: int, tag: str, where: str) -> bytes:
    depth = (size - 2_000) // (len(tag) * 2 + 5)
    return _rss(f"<{tag}>" * depth + "tief" + f"</{tag}>" * depth, where=where)


def _attributes(size: int, where: str) -> bytes:
    n = (size - 2_000) // 12
    attrs = " ".join(f"a{i}='1'" for i in range(n))
    if where == "root":
        doc = _rss("").decode()
        return doc.replace('<rss version="2.0">', f'<rss version="2.0" {attrs}>', 1).encode()
    return _rss(f"<enclosure {attrs}/>")


def _categories(size: int) -> bytes:
    n = (size - 2_000) // 30
    return _rss("".join(f"<category>c{i}</category>" for i in range(n)))


def _numbered(unit: str, size: int) -> str:
    """``unit`` with ``{n}`` numbered from 1 until the document is about ``size`` bytes."""
    parts: list[str] = []
    total, n = 0, 0
    while total < size - 2_000:
        n += 1
        part = unit.format(n=n)
        parts.append(part)
        total += len(part)
    return "".join(parts)


def _item_flood(size: int, tag: str) -> bytes:
    unit = f"<{tag}><title>t{{n}}</title><guid>g{{n}}</guid></{tag}>"
    return (HEAD + RSS_OPEN + _numbered(unit, size) + RSS_CLOSE).encode()


def _prefixed_entries(size: int) -> bytes:
    unit = "<atom:entry><atom:title>t{n}</atom:title><atom:id>urn:e:{n}</atom:id></atom:entry>"
    return (
        HEAD
        + '<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"><atom:title>A</atom:title>'
        + _numbered(unit, size)
        + "</atom:feed>"
    ).encode()


def _rss10_prefixed(size: int) -> bytes:
    unit = '<rss:item rdf:about="https://h.example/{n}"><rss:title>t{n}</rss:title></rss:item>'
    return (
        HEAD + '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:rss="http://purl.org/rss/1.0/"><rss:channel><rss:title>R</rss:title>'
        "</rss:channel>" + _numbered(unit, size) + "</rdf:RDF>"
    ).encode()


def _declaration_unclosed(size: int) -> bytes:
    # One first line that opens "<?" and never closes it, full of encoding pseudo-attributes.
    doc = _rss("").decode().replace(HEAD, "", 1).replace("\n", " ")
    return ('<?xml version="1.0" ' + _fill("encoding='utf-8' ", size - len(doc)) + doc).encode()


def _attlist_default(size: int) -> bytes:
    prolog = f'<!DOCTYPE rss [\n<!ATTLIST item big CDATA "{"x" * 100_000}">\n]>\n'
    unit = "<item><title>t{n}</title><guid>g{n}</guid></item>"
    return (HEAD + prolog + RSS_OPEN + _numbered(unit, size - 100_000) + RSS_CLOSE).encode()


def _namespaces(size: int) -> bytes:
    parts, total, i = [], 0, 0
    while total < size - 2_000 or not parts:  # declarations grow with i: count the bytes
        parts.append(f'xmlns:p{i}="urn:p:{i}"')
        total += len(parts[-1]) + 1
        i += 1
    decls = " ".join(parts)
    doc = _rss("").decode()
    return doc.replace('<rss version="2.0">', f'<rss version="2.0" {decls}>', 1).encode()


def _xhtml_whitespace(size: int) -> bytes:
    entries = "".join(
        f"<entry><title>Good {n}</title><id>urn:h:{n}</id><updated>2026-11-02T10:00:00Z</updated>"
        "<content type='xhtml'>"
        + ("\n" * max(1, size - 3_000) if n == 3 else "")
        + "<div xmlns='http://www.w3.org/1999/xhtml'><p>Text</p></div></content></entry>\n"
        for n in range(1, 6)
    )
    return (HEAD + '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>' + entries
            + "</feed>").encode()  # fmt: skip


def _malformed(doc: bytes) -> bytes:
    """The same document with a bare "&" in the channel title: not well-formed, so the loose
    parser reads it."""
    return doc.replace(b"<title>Feindlich</title>", b"<title>Feindlich & kaputt</title>", 1)


def _unclosed_in_item(markup: str) -> Callable[[int], bytes]:
    return lambda s: _rss(markup + _fill("x ", s // 2), where="item")


def _utf16(size: int) -> bytes:
    doc = _rss(_fill("<x/>", size // 2 - 4_000)).decode("utf-8")
    doc = doc.replace('encoding="utf-8"', 'encoding="utf-16"', 1)
    return codecs.BOM_UTF16_LE + doc.encode("utf-16-le")


# name -> (what it is, builder(size) -> bytes)
CASES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "entity-100k-x-refs-multiline": (
        "a 100 kB entity referenced to fill the document, DOCTYPE over lines",
        lambda s: _entity_doc(s, one_line=False),
    ),
    "entity-100k-x-refs-one-line": (
        "the same, DOCTYPE on one line",
        lambda s: _entity_doc(s, one_line=True),
    ),
    "entity-parameter": (
        "a parameter entity that declares the 100 kB entity",
        lambda s: _entity_doc(s, one_line=False, parameter=True),
    ),
    "entity-billion-laughs": ("nested entities, ten levels of ten", _laughs),
    "entity-many-small": ("tens of thousands of 100-byte entities", _many_small_entities),
    "entity-outside-doctype": (
        "an <!ENTITY> after a DOCTYPE without subset",
        _entity_outside_doctype,
    ),
    "entity-external": (
        "SYSTEM/PUBLIC entities: /dev/zero, /dev/urandom, http",
        _external_entities,
    ),
    "hashtag-dot-hash": (
        "'.#ab' repeated in a description",
        lambda s: _rss(_fill(".#ab", s), where="body"),
    ),
    "hashtag-dot-hash-title": (
        "'.#ab' repeated in a title",
        lambda s: _rss(_fill(".#ab", s), where="title"),
    ),
    "hashtag-url-fragments": (
        "'x://a#b' without spaces",
        lambda s: _rss(_fill("x://a#bc", s), where="body"),
    ),
    "unclosed-tags-escaped": (
        "'<p ' repeated, escaped in a description",
        lambda s: _rss(_fill("&lt;p ", s), where="body"),
    ),
    "unclosed-tags-nospace": (
        "'<p#a' repeated, escaped (no whitespace)",
        lambda s: _rss(_fill("&lt;p#a", s), where="body"),
    ),
    "unclosed-tags-raw": (
        "'<p ' repeated as raw markup (not well-formed)",
        lambda s: _rss(_fill("<p ", s), where="body"),
    ),
    "unclosed-script-escaped": (
        "'<script ' repeated, escaped",
        lambda s: _rss(_fill("&lt;script ", s), where="body"),
    ),
    "categories": ("hundreds of thousands of <category> in one item", _categories),
    "keywords-commas": (
        "one <itunes:keywords> of comma-separated words",
        lambda s: _rss(
            '<itunes:keywords xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
            + ",".join(f"k{i}" for i in range(s // 8))
            + "</itunes:keywords>"
        ),
    ),
    "attributes-one-element": (
        "hundreds of thousands of attributes on one element",
        lambda s: _attributes(s, "item"),
    ),
    "attributes-root": ("the same on the root element", lambda s: _attributes(s, "root")),
    "huge-attribute-value": (
        "one attribute value of the whole size",
        lambda s: _rss(f"<enclosure url='{_fill('u', s)}'/>"),
    ),
    "nested-div-raw": (
        "<div> nested as raw markup in a description",
        lambda s: _nested(s, "div", "body"),
    ),
    "nested-div-escaped": (
        "<div> nested, escaped in a description",
        lambda s: _rss(
            _fill("&lt;div&gt;", s // 2) + "tief" + _fill("&lt;/div&gt;", s // 2), where="body"
        ),
    ),
    "nested-unknown-channel": (
        "<a> nested at channel level",
        lambda s: _nested(s, "a", "channel"),
    ),
    "nested-unknown-item": ("<x> nested inside an item", lambda s: _nested(s, "x", "item")),
    "flat-elements-item": ("<x/> repeated in one item", lambda s: _rss(_fill("<x/>", s))),
    "flat-elements-channel": (
        "<x/> repeated in the channel",
        lambda s: _rss(_fill("<x/>", s), where="channel"),
    ),
    "long-word": (
        "one word without whitespace as a description",
        lambda s: _rss(_fill("Donaudampfschiff", s), where="body"),
    ),
    "whitespace-title": (
        "a title of whitespace and one word",
        lambda s: _rss(_fill(" \n", s) + "x", where="title"),
    ),
    "amp-entities": ("'&amp;' repeated", lambda s: _rss(_fill("&amp;", s), where="body")),
    "amp-double": ("'&amp;amp;' repeated", lambda s: _rss(_fill("&amp;amp;", s), where="body")),
    "charrefs-invalid": (
        "'&#99999999999;' repeated",
        lambda s: _rss(_fill("&#99999999999;", s), where="body"),
    ),
    "charrefs-valid": ("'&#8217;' repeated", lambda s: _rss(_fill("&#8217;", s), where="body")),
    "cdata-markup": (
        "a CDATA description of HTML paragraphs",
        lambda s: _rss("<![CDATA[" + _fill("<p>Absatz <b>fett</b></p>", s) + "]]>", where="body"),
    ),
    "cdata-unclosed-tags": (
        "a CDATA description of '<p <p <p'",
        lambda s: _rss("<![CDATA[" + _fill("<p ", s) + "]]>", where="body"),
    ),
    "comment-flood-raw": (
        "'<!--' repeated, unclosed, raw",
        lambda s: _rss(_fill("<!--", s), where="body"),
    ),
    "comment-flood-escaped": (
        "'<!--' repeated, escaped",
        lambda s: _rss(_fill("&lt;!--", s), where="body"),
    ),
    "comments-closed-raw": (
        "'<!---->' repeated in an item",
        lambda s: _rss(_fill("<!---->", s)),
    ),
    "lt-flood-raw": ("'<' repeated, raw", lambda s: _rss(_fill("<", s), where="body")),
    "lt-flood-escaped": ("'&lt;' repeated", lambda s: _rss(_fill("&lt;", s), where="body")),
    "processing-instructions": (
        "'<?pi x?>' repeated in an item",
        lambda s: _rss(_fill("<?pi x?>", s)),
    ),
    "cdata-sections-many": (
        "'<![CDATA[x]]>' repeated in a description",
        lambda s: _rss(_fill("<![CDATA[x]]>", s), where="body"),
    ),
    "entries-upper-case": ("<ITEM> repeated", lambda s: _item_flood(s, "ITEM")),
    "entries-lower-case": ("<item> repeated", lambda s: _item_flood(s, "item")),
    "entries-atom-prefixed": ("<atom:entry> repeated", _prefixed_entries),
    "entries-rss10-prefixed": ("<rss:item> repeated (RSS 1.0)", _rss10_prefixed),
    "authors-list": (
        "a dc:creator of comma-separated names",
        lambda s: _rss(
            '<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">'
            + _fill("Anna Berg, ", s)
            + "</dc:creator>"
        ),
    ),
    "links-many": (
        "<link> repeated in one item",
        lambda s: _rss(_fill("<link>https://h.example/x</link>", s)),
    ),
    "xml-declaration-unclosed": (
        "a first line '<?xml ... encoding=... ' that never closes",
        _declaration_unclosed,
    ),
    "attlist-default": ("an ATTLIST default of 100 kB on every <item>", _attlist_default),
    "namespaces-many": ("hundreds of thousands of xmlns declarations on the root", _namespaces),
    "author-email-run": (
        "an <author> of one long run of e-mail characters",
        lambda s: _rss(f"<author>{_fill('a', s)}@</author>"),
    ),
    "date-long": (
        "a <pubDate> of the whole size",
        lambda s: _rss(f"<pubDate>{_fill('Mon, 1 ', s)}</pubDate>"),
    ),
    "xhtml-whitespace": (
        "Atom XHTML content after millions of line breaks",
        _xhtml_whitespace,
    ),
    "loose-entity-flood": (
        "'&amp;' repeated in a document that is not well-formed",
        lambda s: _malformed(_rss(_fill("&amp;", s), where="body")),
    ),
    "loose-tag-flood": (
        "'<x/>' repeated in a document that is not well-formed",
        lambda s: _malformed(_rss(_fill("<x/>", s))),
    ),
    "loose-nested": (
        "<div> nested in a document that is not well-formed",
        lambda s: _malformed(_nested(s, "div", "body")),
    ),
    "unclosed-cdata": (
        "an unclosed CDATA section in the third item",
        _unclosed_in_item("<![CDATA["),
    ),
    "unclosed-source": ("an unclosed <source> in the third item", _unclosed_in_item("<source>")),
    "unclosed-content": (
        "an unclosed <content:encoded> in the third item",
        _unclosed_in_item(
            '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        ),
    ),
    "nested-entries": ("<item> nested in <item>", lambda s: _nested(s, "item", "channel")),
    "hashtags-distinct": (
        "distinct hashtags in a description",
        lambda s: _rss(_numbered("#t{n}x ", s), where="body"),
    ),
    "words-distinct": (
        "distinct words in a description",
        lambda s: _rss(
            _numbered("w{n}x ", s).translate(str.maketrans("0123456789", "abcdefghij")),
            where="body",
        ),
    ),
    "guid-huge": ("a <guid> of the whole size", lambda s: _rss(f"<guid>{_fill('g', s)}</guid>")),
    "utf16-flood": ("a UTF-16 document with <x/> repeated", _utf16),
}


def good_feed() -> bytes:
    """The small good feed stored beside each hostile one, from monitor's feed writer (the
    hostile documents above are raw strings on purpose: no writer would make them)."""
    from monitor import feedwriter

    channel = feedwriter.Channel(title="Gut", link="https://good.example/")
    entries = [
        feedwriter.Entry(title=f"Gut {n}", link=f"https://good.example/{n}", guid=f"good-{n}")
        for n in (1, 2)
    ]
    return feedwriter.rss(channel, entries)


def child(name: str, size: int, folder: Path) -> dict[str, object]:
    """Run one case in this process and describe it: ingest the hostile document and a good
    feed in one `ingest_sources` run into a fresh store in ``folder``."""
    from monitor import ingest
    from monitor.store import DuckDBStore

    content = CASES[name][1](size)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a-hostile.xml").write_bytes(content)
    (folder / "b-good.xml").write_bytes(good_feed())
    store = DuckDBStore(folder / "bench.duckdb")
    started, cpu = time.perf_counter(), time.process_time()
    reports = ingest.ingest_sources(store, [str(folder)], workers=0)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    by_name = {Path(r.source).name: r for r in reports}
    hostile, good = by_name["a-hostile.xml"], by_name["b-good.xml"]
    with store.read() as con:
        most = con.execute(
            "SELECT (SELECT max(n) FROM (SELECT count(*) AS n FROM article_tags GROUP BY "
            "article_id)), (SELECT max(n) FROM (SELECT count(*) AS n FROM article_terms "
            "GROUP BY article_id)), max(length(title)), max(length(text)) FROM articles"
        ).fetchall()[0]
    return {
        "case": name,
        "bytes": len(content),
        "seconds": round(elapsed, 2),
        "cpu": round(cpu, 2),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "stored": hostile.counts.new,
        "good_stored": good.counts.new,
        "failed": hostile.failed,
        "reason": hostile.error or hostile.warning or "",
        "max_tags": most[0] or 0,
        "max_terms": most[1] or 0,
        "max_title": most[2] or 0,
        "max_text": most[3] or 0,
    }


def run(name: str, size: int, timeout: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        command = [sys.executable, __file__, "--child", name, "--size", str(size), "--dir", tmp]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return {
                "case": name,
                "bytes": size,
                "seconds": None,
                "reason": f"killed after {timeout} s",
            }
        if done.returncode != 0 or not done.stdout.strip():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {"case": name, "bytes": size, "seconds": round(time.perf_counter() - started, 2),
                    "reason": f"child failed: {tail}"}  # fmt: skip
        result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=CAP)
    parser.add_argument("--also-half", action="store_true", help="each case at size/2 too")
    parser.add_argument("--only", action="append", default=[], help="case name (repeatable)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true", help="one JSON line per case")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--dir")
    parser.add_argument(
        "--one-process", action="store_true", help="every case in this process (for tests)"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.size, Path(args.dir))))
        return
    if args.one_process:
        for number, name in enumerate(args.only or list(CASES)):
            print(json.dumps(child(name, args.size, Path(args.dir) / str(number))), flush=True)
        return
    if args.list:
        for name, (what, _) in CASES.items():
            print(f"{name:32} {what}")
        return
    names = args.only or list(CASES)
    sizes = [args.size, args.size // 2] if args.also_half else [args.size]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    header = (
        f"{'case':32} {'bytes':>10} {'wall s':>7} {'cpu s':>6} {'peak MB':>8} {'stored':>6} "
        f"{'good':>4}  reason"
    )
    if not args.json:
        print(header)
        print("-" * len(header))
    worst_s, worst_mb = 0.0, 0
    for name in names:
        for size in sizes:
            r = run(name, size, args.timeout)
            if args.json:
                print(json.dumps(r), flush=True)
                continue
            secs = r.get("seconds")
            worst_s = max(worst_s, float(secs) if isinstance(secs, int | float) else float("inf"))
            worst_mb = max(worst_mb, int(str(r.get("peak_mb", 0))))
            reason = str(r.get("reason", ""))
            print(
                f"{name:32} {r['bytes']:>10} {secs if secs is not None else '-':>7} "
                f"{r.get('cpu', '-'):>6} {r.get('peak_mb', '-'):>8} {r.get('stored', '-'):>6} "
                f"{r.get('good_stored', '-'):>4}  {reason[:110]}",
                flush=True,
            )
    if not args.json:
        print(f"worst: {worst_s} s, {worst_mb} MB peak RSS (targets: 10 s, 500 MB)")


if __name__ == "__main__":
    main()
