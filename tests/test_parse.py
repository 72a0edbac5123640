from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.models import ParsedFeed
from monitor.parse import PageInfo, parse_feed, parse_page

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _parse(content: bytes, **kw: object) -> ParsedFeed:
    return parse_feed(
        content, source="test-feed", feed_url="https://fx.example/feed", fetched_at=NOW, **kw
    )  # type: ignore[arg-type]


def _expectation(path: Path) -> dict[str, str]:
    head = path.read_text(encoding="utf-8")[:1000]
    match = re.search(r"<!-- expect: (.*?) -->", head)
    assert match, f"{path.name} states no expectation"
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', match.group(1)))


# --- fixtures with stated expectations ----------------------------------------------------


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.xml")), ids=lambda p: p.name)
def test_fixture_feed_matches_its_stated_expectation(path: Path) -> None:
    expect = _expectation(path)
    parsed = _parse(path.read_bytes())
    assert len(parsed.articles) == int(expect["articles"])
    assert (parsed.error is not None) == (expect["error"] == "yes")
    assert (parsed.warning is not None) == (expect["warning"] == "yes")
    assert parsed.version == expect["version"]
    assert [a.title for a in parsed.articles] == expect["titles"].strip('"').split("|")


def test_fixture_details() -> None:
    atom = _parse((FIXTURES / "atom-xml-lang-zoneless.atom.xml").read_bytes())
    first, second = atom.articles
    assert atom.language == "de"
    assert (first.date_source, first.date_assumed_utc) == ("feed-updated", True)
    assert first.published == datetime(2026, 4, 21, 10, 0, tzinfo=UTC)
    assert first.authors == ("Redaktion Wien",)  # feed-level author as fallback
    assert (second.date_source, second.date_assumed_utc) == ("feed", False)
    assert second.published == datetime(2026, 4, 21, 8, 0, tzinfo=UTC)
    assert second.authors == ("Anna Schmidt",)
    assert [(t.display, t.source) for t in second.tags] == [
        ("Wien", "hashtag"),
        ("Außenpolitik", "hashtag"),
    ]

    bozo = _parse((FIXTURES / "bozo-ampersand-with-entries.rss.xml").read_bytes())
    assert bozo.warning is not None and "not well-formed" in bozo.warning
    assert "\n" not in bozo.warning
    assert bozo.articles[0].url == "https://kaputt.example/1"
    assert bozo.articles[1].url == "https://fx.example/2"  # relative link, feed URL as base
    assert bozo.articles[1].date_source == "first-seen"

    rdf = _parse((FIXTURES / "rdf-rss10-dc.rdf.xml").read_bytes())
    assert rdf.articles[0].authors == ("Anna Schmidt", "Bernd Meier")
    assert [t.display for t in rdf.articles[0].tags] == ["Politik"]


# --- not a feed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "JSON"),
        (bytes(range(256)) * 8, "binary"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "binary"),
        (b"<!DOCTYPE html><html><head><title>Hi</title></head><body>x</body></html>", "HTML"),
        (b"<html><body><p>Kein Feed & kaputt</body>", "HTML"),
        (b"just some words", "not XML"),
        (b'<?xml version="1.0"?><config><a>1</a></config>', "no RSS/Atom/RDF"),
    ],
)
def test_not_a_feed(content: bytes, reason: str) -> None:
    parsed = _parse(content)
    assert parsed.error is not None
    assert parsed.error.startswith("not a feed: test-feed: ")
    assert reason in parsed.error
    assert parsed.articles == ()


def test_bytes_that_look_like_a_path_are_not_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(
        '<rss version="2.0"><channel><title>GEHEIM</title><item><title>GEHEIM</title>'
        "</item></channel></rss>"
    )
    parsed = _parse(str(secret).encode())
    assert parsed.error is not None
    assert parsed.articles == ()


def test_empty_channel_is_a_valid_empty_feed() -> None:
    parsed = _parse(b'<rss version="2.0"><channel><title>Leer</title></channel></rss>')
    assert (parsed.error, parsed.warning, parsed.articles, parsed.title) == (None, None, (), "Leer")


def test_headers_are_used_for_encoding_and_language() -> None:
    body = (
        '<rss version="2.0"><channel><title>Grüße</title><item><title>Übermorgen</title>'
        "<guid>1</guid></item></channel></rss>"
    ).encode("iso-8859-1")
    parsed = _parse(
        body,
        headers={
            "Content-Type": "application/rss+xml; charset=ISO-8859-1",
            "Content-Language": "de",
        },
    )
    assert parsed.error is None
    assert parsed.title == "Grüße"
    assert parsed.articles[0].title == "Übermorgen"
    assert parsed.language == "de"
    assert parsed.articles[0].language == "de"


# --- hostile documents --------------------------------------------------------------------


def _billion_laughs(one_line: bool) -> bytes:
    sep = "" if one_line else "\n"
    decls = ['<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        decls.append(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">')
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [' + sep + sep.join(decls) + sep + "]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>ok</title>'
        "<guid>b1</guid><description>&lol9;</description></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("one_line", [False, True])
def test_entity_expansion_bomb_is_bounded(one_line: bool) -> None:
    start = time.perf_counter()
    parsed = _parse(_billion_laughs(one_line))
    assert time.perf_counter() - start < 10
    assert parsed.error is None or "not a feed" in parsed.error
    assert parsed.warning is not None and "entity" in parsed.warning.lower()
    for article in parsed.articles:
        assert "lollollol" not in article.text and "lollollol" not in article.title
    assert "lollollol" not in parsed.title


@pytest.mark.parametrize("newline", ["", "\n"])
def test_external_entity_is_not_read(tmp_path: Path, newline: str) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:GEHEIMNIS")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{newline}'
        f'<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<rss version="2.0"><channel><title>t &x;</title><item><title>a &x;</title>'
        "<guid>x1</guid><description>&x;</description></item></channel></rss>"
    ).encode()
    parsed = _parse(doc)
    assert len(parsed.articles) == 1
    assert "GEHEIMNIS" not in repr(parsed)


@pytest.mark.slow
def test_huge_feed_is_cut_at_max_entries() -> None:
    items = "".join(
        f"<item><title>T{i}</title><link>https://e.example/{i}</link><guid>g{i}</guid></item>"
        for i in range(100_000)
    )
    doc = f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
    start = time.perf_counter()
    parsed = _parse(doc.encode())
    assert time.perf_counter() - start < 30
    assert parsed.error is None
    assert len(parsed.articles) == 10_000
    assert parsed.warning == "feed has 100000 entries, kept the first 10000"
    assert parsed.articles[-1].entry_key == "g9999"


def test_max_entries_cut_atom_and_small_limit() -> None:
    entries = "".join(
        f"<entry><title>T{i}</title><id>urn:e:{i}</id><link href='https://e.example/{i}'/>"
        "<updated>2026-04-01T00:00:00Z</updated></entry>"
        for i in range(50)
    )
    doc = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>{entries}</feed>'
    parsed = _parse(doc.encode(), max_entries=7)
    assert parsed.error is None
    assert [a.entry_key for a in parsed.articles] == [f"urn:e:{i}" for i in range(7)]
    assert parsed.warning == "feed has 50 entries, kept the first 7"


@pytest.mark.slow
def test_deeply_nested_description_is_bounded() -> None:
    nested = "<div>" * 100_000 + "tief unten" + "</div>" * 100_000
    doc = (
        '<rss version="2.0"><channel><title>x</title><item><title>Tief</title><guid>d1</guid>'
        f"<description>{html.escape(nested)}</description></item></channel></rss>"
    )
    start = time.perf_counter()
    parsed = _parse(doc.encode())
    assert time.perf_counter() - start < 30
    assert parsed.error is None
    assert parsed.articles[0].text == "tief unten"


# --- pages --------------------------------------------------------------------------------

WIX_LIKE_PAGE = """<!DOCTYPE html><html lang="de"><head>
<title>Friedensgespräche in Genf | Blog</title>
<meta name="author" content="Petra Pau">
<meta property="article:published_time" content="2025-08-14T09:30:00+02:00">
<meta property="article:tag" content="Außenpolitik">
</head><body><header><nav>Home | Blog | Kontakt</nav></header>
<article><h1>Friedensgespräche in Genf</h1>
<p>Die Delegationen trafen sich am Donnerstag in Genf, um über einen Waffenstillstand zu
verhandeln. Beobachter sprachen von einem vorsichtigen Fortschritt, auch wenn die Positionen
weit auseinander liegen.</p>
<p>Der Sondergesandte erklärte nach dem Treffen, man habe sich auf einen Fahrplan für weitere
Gespräche geeinigt. Einzelheiten wurden nicht genannt, die nächste Runde soll im September
stattfinden.</p>
<p>Kritiker bemängeln, dass zentrale Fragen offen bleiben und die humanitäre Lage sich weiter
verschlechtert.</p>
<p>#Trump #Putin #UkraineKonflikt #Friedensgespräche</p>
</article><footer>© 2025 Blog</footer></body></html>"""


def test_parse_page_extracts_text_author_date_and_hashtags() -> None:
    page = parse_page(WIX_LIKE_PAGE.encode(), url="https://blog.example/post/genf")
    assert page.error is None
    assert "Waffenstillstand" in page.text
    assert "Kontakt" not in page.text and "©" not in page.text
    assert page.title == "Friedensgespräche in Genf"
    assert page.authors == ("Petra Pau",)
    assert page.published == datetime(2025, 8, 14, 7, 30, tzinfo=UTC)
    assert page.date_assumed_utc is False
    assert page.language == "de"
    assert [(t.display, t.source) for t in page.tags] == [
        ("Außenpolitik", "category"),
        ("Trump", "hashtag"),
        ("Putin", "hashtag"),
        ("UkraineKonflikt", "hashtag"),
        ("Friedensgespräche", "hashtag"),
    ]


@pytest.mark.parametrize(
    "content", [b"", b"   ", b"<html></html>", b"\x00\x01\x02binary", b"<p>" * 50_000]
)
def test_parse_page_never_raises(content: bytes) -> None:
    page = parse_page(content, url="https://blog.example/x")
    assert isinstance(page, PageInfo)
    assert page.error is not None and page.error.startswith("cannot extract https://blog.example/x")
    assert page.text == ""
