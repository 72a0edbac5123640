from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor import stories
from monitor.models import DATE_SOURCES, Tag
from monitor.normalize import (
    apply_page,
    canonical_url,
    normalize_entry,
    parse_date,
    signed,
    split_authors,
)
from monitor.parse import PageInfo

FETCHED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
FEED = "https://example.org/feed.xml"


def _entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "guid-1",
        "link": "https://Example.org/a?utm_source=x&id=5#top",
        "title": "Friedensgespräche in Genf",
        "summary": "<p>Die Gespräche &amp;quot;laufen&amp;quot;. #Friedensgespräche</p>",
        "published": "Tue, 21 Apr 2026 10:00:00 +0200",
    }
    base.update(fields)
    return base


def _norm(entry: dict[str, Any], **kw: Any) -> Any:
    args: dict[str, Any] = {
        "feed_url": FEED,
        "feed_language": "de-DE",
        "feed_authors": (),
        "fetched_at": FETCHED,
    }
    args.update(kw)
    return normalize_entry(entry, **args)


# --- canonical_url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("HTTPS://WWW.Example.ORG:443/Pfad?b=2&utm_medium=rss&a=1#frag", None,
         "https://www.example.org/Pfad?b=2&a=1"),
        ("http://example.org:80", None, "http://example.org/"),
        ("http://example.org:8080/x", None, "http://example.org:8080/x"),
        ("  https://example.org/a b  ", None, "https://example.org/a%20b"),
        ("https://e.de/x?fbclid=1&gclid=2&mc_cid=3&igshid=4&_hsenc=5&wt_mc=rss.beitrag", None,
         "https://e.de/x"),
        ("https://medium.com/@a/p-1?source=rss-b49------2", None, "https://medium.com/@a/p-1"),
        ("https://e.de/suche?source=web", None, "https://e.de/suche?source=web"),
        ("/news/1", "https://example.org/feed", "https://example.org/news/1"),
        ("news/1", None, None),
        ("//cdn.example.org/x", None, "https://cdn.example.org/x"),
        ("www.example.org/x", None, "https://www.example.org/x"),
        ("javascript:alert(1)", None, None),
        ("data:text/html,hi", "https://example.org/", None),
        ("mailto:a@b.de", None, None),
        ("ftp://example.org/x", None, None),
        ("https://user:pw@example.org/x", None, "https://example.org/x"),
        # A scheme-less link whose first segment is a host name is https on that host.
        ("example.github.io/post", "https://feed.example/rss", "https://example.github.io/post"),
        ("example.github.io/post", None, "https://example.github.io/post"),
        ("news.example.co.uk/a?utm_source=x", None, "https://news.example.co.uk/a"),
        ("example.com:8080/x", "https://f.example/", "https://example.com:8080/x"),
        ("onet.pl/x", "https://f.example/", "https://onet.pl/x"),
        ("t.co/abc", None, "https://t.co/abc"),
        # ... and anything else without a scheme is relative to the base.
        ("readme.md", "https://f.example/d/", "https://f.example/d/readme.md"),
        ("post.html", "https://f.example/d/", "https://f.example/d/post.html"),
        ("index.php/2026/x", "https://f.example/", "https://f.example/index.php/2026/x"),
        ("./a.example.com/x", "https://f.example/d/", "https://f.example/d/a.example.com/x"),
        ("../a.example.com/x", "https://f.example/d/", "https://f.example/a.example.com/x"),
        ("2024.05/x", "https://f.example/", "https://f.example/2024.05/x"),
        ("a.b?x", "https://f.example/", "https://f.example/a.b?x"),
        ("//cdn.example.org/x", "http://f.example/", "http://cdn.example.org/x"),
        ("https://example.org:99999/x", None, None),
        ("", None, None),
        (None, None, None),
    ],
)  # fmt: skip
def test_canonical_url(url: str | None, base: str | None, expected: str | None) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize(
    ("fragment", "kept"),
    [
        ("#post-2", "#post-2"),
        ("#comment-17", "#comment-17"),
        ("#!/user/status/1", "#!/user/status/1"),
        ("#a=1&utm_source=x", "#a=1"),
        ("#sec:~:text=x", "#sec"),
        ("#top", ""),
        ("#", ""),
        ("#:~:text=abc", ""),
        ("#comments", ""),
        ("#more-123", ""),
        ("#xtor=RSS-3", ""),
        ("#ref=rss", ""),
    ],
)
def test_fragments_that_may_name_a_post_are_kept(fragment: str, kept: str) -> None:
    assert (
        canonical_url("https://x.org/p" + fragment, keep_fragment=True) == "https://x.org/p" + kept
    )
    assert canonical_url("https://x.org/p" + fragment) == "https://x.org/p"


# --- authors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Anna Schmidt und Bernd Meier"], ("Anna Schmidt", "Bernd Meier")),
        (["Anna Schmidt and Bernd Meier"], ("Anna Schmidt", "Bernd Meier")),
        (["Anna, Bernd & Carla"], ("Anna", "Bernd", "Carla")),
        (["Anna &amp; Bernd"], ("Anna", "Bernd")),
        (["redaktion@example.org (Petra Pau)"], ("Petra Pau",)),
        (["Petra Pau <redaktion@example.org>"], ("Petra Pau",)),
        (["webmaster@fcutrecht.net"], ("webmaster@fcutrecht.net",)),
        # An address beside a name is dropped in every form; an address alone is kept.
        (["Jane Doe (noreply@blogger.com)"], ("Jane Doe",)),
        (["noreply@blogger.com (Jane Doe)"], ("Jane Doe",)),
        (["Jane Doe <jane@x.org>"], ("Jane Doe",)),
        (["Jane Doe &lt;jane@x.org&gt;"], ("Jane Doe",)),
        (['"Jane Doe" <jane@x.org>'], ("Jane Doe",)),
        (["<jane@x.org>"], ("jane@x.org",)),
        (["mailto:jane@x.org"], ("jane@x.org",)),
        (["Jane (mailto:jane@x.org)"], ("Jane",)),
        (["Jane Doe (j@x.org), John Roe (r@x.org)"], ("Jane Doe", "John Roe")),
        (["a@x.org b@y.org"], ("a@x.org", "b@y.org")),
        (["Jane Doe (noreply@blogger.com) (Unknown)"], ("Jane Doe (Unknown)",)),
        (["redaktion@x.de (Anna Schmidt und Bernd Meier)"], ("Anna Schmidt", "Bernd Meier")),
        (["Anna (Reuters, dpa)"], ("Anna (Reuters, dpa)",)),
        (["&lt;b&gt;Jane&lt;/b&gt;"], ("Jane",)),
        (["Von Von Hans"], ("Hans",)),
        (["Von Hans Müller"], ("Hans Müller",)),
        (["By Jane Doe"], ("Jane Doe",)),
        (["Jane Doe", "jane doe", "", "  "], ("Jane Doe",)),
        ([], ()),
    ],
)
def test_split_authors(values: list[str], expected: tuple[str, ...]) -> None:
    assert split_authors(values) == expected


# --- dates --------------------------------------------------------------------------------


def test_parse_date_rfc822_offsets_converted() -> None:
    assert parse_date("Wed, 22 Jan 2014 20:31:31 +0600") == (
        datetime(2014, 1, 22, 14, 31, 31, tzinfo=UTC),
        False,
    )
    assert parse_date("Wed, 26 Dec 2018 18:55:22 GMT") == (
        datetime(2018, 12, 26, 18, 55, 22, tzinfo=UTC),
        False,
    )
    assert parse_date("26 Dec 2018 18:55 EST") == (
        datetime(2018, 12, 26, 23, 55, tzinfo=UTC),
        False,
    )


def test_parse_date_zone_less_is_assumed_utc() -> None:
    assert parse_date("Wed, 26 Dec 2018 18:55:22") == (
        datetime(2018, 12, 26, 18, 55, 22, tzinfo=UTC),
        True,
    )
    assert parse_date("2025-03-29T10:00:00") == (datetime(2025, 3, 29, 10, tzinfo=UTC), True)
    assert parse_date("2025-03-29") == (datetime(2025, 3, 29, tzinfo=UTC), True)
    # An unknown zone name is no zone.
    assert parse_date("Wed, 26 Dec 2018 18:55:22 XYZ") is not None
    assert parse_date("Wed, 26 Dec 2018 18:55:22 XYZ")[1] is True  # type: ignore[index]


def test_parse_date_iso8601() -> None:
    assert parse_date("2016-02-01T17:22:00+01:00") == (
        datetime(2016, 2, 1, 16, 22, tzinfo=UTC),
        False,
    )
    assert parse_date("2025-03-29T00:00:00.000Z") == (datetime(2025, 3, 29, tzinfo=UTC), False)


def test_parse_date_german_month_names_and_zones() -> None:
    # Rare in feeds, but some German CMSs localise RFC 822 dates.
    assert parse_date("Mo, 03 Mär 2025 08:00:00 MEZ") == (
        datetime(2025, 3, 3, 7, 0, tzinfo=UTC),
        False,
    )
    assert parse_date("Di, 01 Okt 2024 12:00:00 +0200") == (
        datetime(2024, 10, 1, 10, 0, tzinfo=UTC),
        False,
    )
    assert parse_date("24. Dezember 2024 18:00 CET") == (
        datetime(2024, 12, 24, 17, 0, tzinfo=UTC),
        False,
    )


@pytest.mark.parametrize(
    "raw", ["", "gestern", "32 Dec 2018 10:00:00 GMT", "2025-13-01", "x" * 500]
)
def test_parse_date_junk(raw: str) -> None:
    assert parse_date(raw) is None


def test_entry_date_sources_and_absurd_dates() -> None:
    a = _norm(_entry())
    assert (a.published, a.date_source, a.date_assumed_utc) == (
        datetime(2026, 4, 21, 8, 0, tzinfo=UTC),
        "feed",
        False,
    )
    b = _norm(_entry(published=None, updated="2026-04-20T10:00:00"))
    assert (b.published, b.date_source, b.date_assumed_utc) == (
        datetime(2026, 4, 20, 10, 0, tzinfo=UTC),
        "feed-updated",
        True,
    )
    for bad in ("Mon, 01 Jan 1979 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT", "bald"):
        c = _norm(_entry(published=bad))
        assert (c.published, c.date_source, c.date_assumed_utc) == (FETCHED, "first-seen", False)
    near_future = (FETCHED + timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    assert _norm(_entry(published=near_future)).date_source == "feed"
    assert {a.date_source, b.date_source, c.date_source} <= set(DATE_SOURCES)


def test_entry_uses_feedparser_struct_only_as_fallback() -> None:
    struct = time.struct_time((2026, 4, 1, 6, 0, 0, 2, 91, 0))
    a = _norm(_entry(published="Mittwoch, 1. April 2026, 8 Uhr", published_parsed=struct))
    assert a.published == datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
    assert a.date_assumed_utc is True  # the raw string carries no zone we can see


# --- entries ------------------------------------------------------------------------------


def test_normalize_entry_basic_fields() -> None:
    a = _norm(_entry(author="Anna Schmidt und Bernd Meier"))
    assert a.url == "https://example.org/a?id=5"
    assert a.entry_key == "guid-1"
    assert len(a.id) == 16 and int(a.id, 16) >= 0
    assert a.summary == 'Die Gespräche "laufen". #Friedensgespräche'
    assert a.text == a.summary
    assert a.authors == ("Anna Schmidt", "Bernd Meier")
    assert a.language == "de"
    assert [t.display for t in a.tags] == ["Friedensgespräche"]
    assert a.tags[0].source == "hashtag"
    assert ("friedensgespräch", 2, "Friedensgespräche") in a.terms  # lemma, form as written
    assert all(t not in {"der", "und", "nicht", "die"} for t, _, _ in a.terms)
    assert a.word_count == 4
    assert a.reading_minutes == 1
    assert a.comments is None
    assert len(a.content_hash) == 64


def test_same_url_in_two_feeds_is_one_article() -> None:
    a = _norm(_entry(id="feed-a-1"), feed_url="https://a.example/feed")
    b = _norm(
        _entry(id="b-99", link="https://example.org/a?id=5&utm_campaign=z"),
        feed_url="https://b.example/rss",
    )
    assert a.id == b.id
    c = _norm(_entry(link=None, links=[]))
    d = _norm(_entry(link=None, links=[]), feed_url="https://other.example/feed")
    assert c.url is None and c.id != d.id


def test_entry_key_fallbacks() -> None:
    a = _norm(_entry(id=None))
    assert a.entry_key == "https://example.org/a?id=5"
    b = _norm(_entry(id=None, link=None))
    assert len(b.entry_key) == 16 and b.url is None
    assert b.entry_key == _norm(_entry(id=None, link=None)).entry_key


def test_scheme_less_and_spaced_links() -> None:
    assert _norm(_entry(link="www.example.org/x y")).url == "https://www.example.org/x%20y"
    assert _norm(_entry(link="/relative/1")).url == "https://example.org/relative/1"


def test_text_is_longest_body_and_never_html() -> None:
    entry = _entry(
        summary="<p>Kurz</p>",
        content=[{"value": "<div><p>Ein langer</p><script>x()</script><p>Text #Klima</p></div>"}],
    )
    a = _norm(entry)
    assert a.summary == "Kurz"
    assert a.text == "Ein langer\nText #Klima"
    assert "<" not in a.text
    assert [t.key for t in a.tags] == ["klima"]


def test_authors_from_author_detail_and_feed_fallback() -> None:
    a = _norm(_entry(authors=[{"name": "Mario Taschler"}], author="Mario Taschler"))
    assert a.authors == ("Mario Taschler",)
    b = _norm(_entry(), feed_authors=("heise online",))
    assert b.authors == ("heise online",)
    c = _norm(_entry(author="Eigene Autorin"), feed_authors=("heise online",))
    assert c.authors == ("Eigene Autorin",)
    d = _norm(_entry(authors=[{"email": "webmaster@fcutrecht.net"}]))
    assert d.authors == ("webmaster@fcutrecht.net",)


def test_tags_category_beats_hashtag_and_lists_split() -> None:
    entry = _entry(
        summary="Text mit #Klima und #Politik",
        tags=[{"term": "politik"}, {"term": "Wirtschaft, Energie"}, {"term": "Raum/ "}],
    )
    a = _norm(entry)
    assert [(t.display, t.source) for t in a.tags] == [
        ("politik", "category"),
        ("Wirtschaft", "category"),
        ("Energie", "category"),
        ("Raum", "category"),
        ("Klima", "hashtag"),
    ]
    keys = [t.key for t in a.tags]
    assert len(keys) == len(set(keys))
    assert Tag("politik", "politik", "category") in a.tags


def test_comments_and_language_fallbacks() -> None:
    assert _norm(_entry(slash_comments="3")).comments == 3
    assert _norm(_entry(slash_comments="")).comments is None
    assert _norm(_entry(thr_total="12")).comments == 12


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3000000000", None),
        ("2147483647", 2147483647),
        ("-5", None),
        ("2.5", None),
        ("12.0", 12),
        (" 8 ", 8),
        ("NaN", None),
        ("inf", None),
        ("1e3", None),
        ("²", None),
        ("٣", None),
        ("9" * 5000, None),
        (3_000_000_000, None),
        (-1, None),
        (True, None),
        (7.0, 7),
        (float("nan"), None),
    ],
)
def test_a_comment_count_that_is_no_count_costs_only_that_field(
    value: object, expected: int | None
) -> None:
    article = _norm(_entry(slash_comments=value))
    assert article.comments == expected
    assert article.title == "Friedensgespräche in Genf"  # the rest of the entry is there
    if expected is None:
        assert article.warnings and article.warnings[0].startswith("comments: ")
    else:
        assert article.warnings == ()
    # The other source of a count is tried when the first is junk.
    assert _norm(_entry(slash_comments="NaN", thr_total="4")).comments == 4
    en = _entry(
        title="Peace talks",
        summary="The delegations met again on Tuesday to discuss a ceasefire agreement.",
    )
    assert _norm(en, feed_language=None).language == "en"
    assert _norm(en, feed_language="en_US").language == "en"
    assert _norm(_entry(title="", summary="kurz"), feed_language=None).language is None


def test_missing_title_uses_first_line() -> None:
    long_text = "Erste Zeile mit sehr vielen Worten " * 5
    a = _norm(_entry(title=None, summary=f"<p>{long_text}</p><p>Zweite</p>"))
    assert a.title.startswith("Erste Zeile") and a.title.endswith("…")
    assert len(a.title) <= 91
    assert _norm(_entry(title=None, summary=None)).title == ""


def test_content_hash_stable_and_sensitive() -> None:
    a = _norm(_entry())
    assert a.content_hash == _norm(_entry()).content_hash
    assert a.content_hash != _norm(_entry(title="Anders")).content_hash
    assert a.content_hash != _norm(_entry(slash_comments="4")).content_hash
    # first-seen dates do not change the hash between two fetches
    x = _norm(_entry(published=None))
    y = _norm(_entry(published=None), fetched_at=FETCHED + timedelta(hours=1))
    assert x.content_hash == y.content_hash


# --- apply_page ---------------------------------------------------------------------------


def test_apply_page_longer_text_authors_date_and_tags() -> None:
    a = _norm(_entry(published=None, summary="Kurz. #Klima", tags=[{"term": "Politik"}]))
    page = PageInfo(
        url="https://example.org/a",
        text="Ein viel längerer Text über Verhandlungen in Genf.\n#Trump #Putin #klima",
        title="Seite",
        authors=("Von Petra Pau",),
        published=datetime(2026, 4, 20, tzinfo=UTC),
        date_assumed_utc=True,
        tags=(Tag("nahost", "Nahost", "category"),),
    )
    b = apply_page(a, page)
    assert b.text == page.text
    assert b.authors == ("Petra Pau",)
    assert (b.published, b.date_source, b.date_assumed_utc) == (
        datetime(2026, 4, 20, tzinfo=UTC),
        "page",
        True,
    )
    assert [t.display for t in b.tags] == ["Politik", "Klima", "Nahost", "Trump", "Putin"]
    assert b.word_count > a.word_count
    assert "verhandlung" in {t for t, _, _ in b.terms}
    assert b.content_hash != a.content_hash
    assert b.id == a.id and b.title == a.title


def test_an_article_carries_its_story_signature_and_a_longer_page_text_signs_it_again() -> None:
    unsigned = _norm(_entry(summary="Kurz gesagt: die Gespräche in Genf laufen weiter."))
    assert unsigned.signature is None  # parse.parse_feed signs a feed's articles together
    (a,) = signed([unsigned])
    assert a.signature == stories.sign(a.title, a.text) and a == unsigned
    longer = "Ein viel längerer Text über die Verhandlungen in Genf, die heute weitergehen."
    b = apply_page(a, PageInfo(url="https://example.org/a", text=longer))
    assert b.text == longer
    assert b.signature == stories.sign(b.title, longer) != a.signature
    # No new text: the signature stays.
    assert apply_page(a, PageInfo(url="https://example.org/a", error="HTTP 404")).signature == (
        a.signature
    )


def test_apply_page_keeps_feed_data_when_feed_has_it() -> None:
    a = _norm(_entry(author="Anna", summary="Ein langer Text " * 20))
    page = PageInfo(
        url="https://example.org/a",
        text="kurz",
        authors=("Bernd",),
        published=datetime(2020, 1, 1, tzinfo=UTC),
    )
    b = apply_page(a, page)
    assert (b.text, b.authors, b.published, b.date_source) == (
        a.text,
        a.authors,
        a.published,
        a.date_source,
    )


def test_apply_page_error_is_recorded() -> None:
    a = _norm(_entry())
    b = apply_page(a, PageInfo(url="https://example.org/a", error="HTTP 404"))
    assert b.fulltext_error == "HTTP 404"
    assert b.text == a.text
    assert b.content_hash != a.content_hash
