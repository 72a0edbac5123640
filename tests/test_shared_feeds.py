"""Every real feed in ../shared/feeds parses as STATS.txt (feedparser 6.0.14) says.

Counting rules: an article "has an author" when `Article.authors` is non-empty; heise's entries
have none of their own, so the feed-level <author> ("heise online") counts (documented
fallback), which is why heise reports 15 where feedparser's entry count is 0. An article "has
a date" when its date did not fall back to first-seen. "Has tags" counts hashtags too, so
it may exceed feedparser's category count.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from monitor.models import ParsedFeed
from monitor.parse import parse_feed
from monitor.text import find_hashtags, tag_key

SHARED = Path(__file__).resolve().parents[2] / "shared" / "feeds"
# A fixed "fetch time" after every item in the corpus (the newest is June 2026), so no date
# is rejected as "in the future" and results do not depend on the day the tests run.
FETCHED = datetime(2026, 11, 25, tzinfo=UTC)
FEED_LEVEL_AUTHORS = {"heise-developer-2016.atom.xml": 15}


def _stats() -> dict[str, dict[str, int]]:
    rows: dict[str, dict[str, int]] = {}
    lines = (SHARED / "STATS.txt").read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("file "))
    names = header.split()
    for line in lines:
        parts = line.split()
        if len(parts) >= len(names) - 1 and parts[0].endswith(".xml"):
            rows[parts[0]] = {
                name: int(value)
                for name, value in zip(names[1:], parts[1:], strict=False)
                if value.isdigit()
            }
    return rows


FILES = sorted(p.name for p in SHARED.glob("*.xml")) if SHARED.is_dir() else []


@cache
def _parsed(name: str) -> ParsedFeed:
    return parse_feed(
        (SHARED / name).read_bytes(),
        source=name,
        feed_url=f"https://feeds.example/{name}",
        fetched_at=FETCHED,
    )


@pytest.fixture(scope="module")
def stats() -> dict[str, dict[str, int]]:
    if not SHARED.is_dir():
        pytest.skip(f"shared feeds folder absent: {SHARED}")
    return _stats()


def test_shared_folder_is_complete(stats: dict[str, dict[str, int]]) -> None:
    assert sorted(stats) == FILES
    assert len(FILES) == 13


@pytest.mark.parametrize("name", FILES or ["(shared folder absent)"])
def test_shared_feed_matches_stats(name: str, stats: dict[str, dict[str, int]]) -> None:
    row = stats[name]
    parsed = _parsed(name)
    assert parsed.error is None, parsed.error
    assert parsed.warning is None, parsed.warning
    assert parsed.version == ("atom10" if name.endswith(".atom.xml") else "rss20")
    articles = parsed.articles
    assert len(articles) == row["entries"]
    with_author = sum(1 for a in articles if a.authors)
    assert with_author == FEED_LEVEL_AUTHORS.get(name, row["with_author"])
    assert sum(1 for a in articles if a.date_source != "first-seen") == row["with_date_parsed"]
    assert sum(1 for a in articles if a.tags) >= row["with_tags"]
    for article in articles:
        assert article.published.tzinfo is not None
        assert article.published.utcoffset() is not None
        assert not article.published.utcoffset()  # UTC
        for value in (article.title, article.summary, article.text):
            assert "<p" not in value and "<div" not in value and "\u00ad" not in value
            assert not re.search(r"&(?:#\d+|#x[0-9a-f]+|amp|quot|nbsp|lt|gt);", value)
        assert article.url is None or article.url.startswith(("http://", "https://"))
        assert len({t.key for t in article.tags}) == len(article.tags)
        terms = {t for t, *_ in article.terms}
        assert not terms & {"der", "und", "nicht", "the", "and", "beitrag", "erschien"}
    assert len({a.entry_key for a in articles}) == len(articles)


def _need(name: str) -> ParsedFeed:
    if not (SHARED / name).is_file():
        pytest.skip(f"shared feeds folder absent: {SHARED}")
    return _parsed(name)


def test_anime2you_german_categories_and_footer() -> None:
    parsed = _need("anime2you-wordpress-2023.rss.xml")
    first = parsed.articles[0]
    assert first.language == "de"
    assert first.authors == ("Mario Taschler",)
    assert [(t.display, t.source) for t in first.tags] == [
        ("Japan", "category"),
        ("Nachrichten aus der Branche", "category"),
    ]
    assert first.comments == 3
    assert all(a.tags for a in parsed.articles)
    assert "erschien zuerst auf" in first.text  # kept in text, but never a term
    assert all(a.published.year == 2023 for a in parsed.articles)


def test_golem_iso_8859_1_umlauts_decoded() -> None:
    (article,) = _need("golem-de-1item-2017.iso8859-1.rss.xml").articles
    assert "größte Vorbestellung" in article.text
    assert "Ã" not in article.text
    assert article.comments is None  # empty <slash:comments/>
    assert article.published == datetime(2017, 12, 9, 14, 44, tzinfo=UTC)


def test_oren_windows_1251_russian_decoded() -> None:
    parsed = _need("oren-ru-yandex-2014.windows-1251.rss.xml")
    first = parsed.articles[0]
    assert first.title == "В Бузулуке главные стройплощадки – детсад и Ледовый дворец"
    assert first.language == "ru"
    assert first.published == datetime(2014, 1, 22, 14, 31, 31, tzinfo=UTC)  # +0600 converted
    assert not first.date_assumed_utc
    assert first.tags[0].display == "Раздел Новости"
    assert len(first.text) > len(first.summary)  # yandex:full-text is the body


def test_mastodon_items_without_titles_and_hashtags() -> None:
    parsed = _need("mastodon-hachyderm-tag-kubernetes-2023.rss.xml")
    assert len(parsed.articles) == 4
    for article in parsed.articles:
        assert article.title  # derived from the first line of the post
        assert len(article.title) <= 91
        keys = {t.key for t in article.tags}
        assert "kubernetes" in keys
        assert {tag_key(h) for h in find_hashtags(article.text)} <= keys
    first = parsed.articles[0]
    assert "OpenBSD" in find_hashtags(first.text)
    assert first.title == "Shameless blog series plug"


def test_volpeon_soft_hyphen_removed_and_updated_dates() -> None:
    parsed = _need("volpeon-notebook-hybrid-2025.rss.xml")
    titles = [a.title for a in parsed.articles]
    assert "Microblogging's core design is inherently bad" in titles
    assert all(a.date_source == "feed-updated" for a in parsed.articles)


def test_tagesschau_40_items_with_uuid_guids() -> None:
    parsed = _need("tagesschau-alle-meldungen-2026.rss.xml")
    assert len(parsed.articles) == 40
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    # 38 GUIDs are bare UUIDs, two are "tagesschau_fm-story-..." ids; none is a URL, and none
    # may be turned into one (feedparser would, given a Content-Location base).
    assert sum(1 for a in parsed.articles if uuid.fullmatch(a.entry_key)) == 38
    assert not any(a.entry_key.startswith("http") for a in parsed.articles)
    assert all(
        a.url is not None and a.url.startswith("https://www.tagesschau.de/")
        for a in parsed.articles
    )
    assert all(a.language == "de" and a.date_source == "feed" for a in parsed.articles)
    assert len({a.id for a in parsed.articles}) == 40


def test_wix_empty_feed() -> None:
    parsed = _need("wix-mechnido-empty-2023.blog-feed.xml")
    assert (parsed.error, parsed.articles, parsed.title) == (None, (), "mechnido")


def test_fcutrecht_broken_declaration_still_parses() -> None:
    parsed = _need("fcutrecht-net-phpxml-2021.rss.xml")
    assert len(parsed.articles) == 20
    assert all(a.authors == ("webmaster@fcutrecht.net",) for a in parsed.articles)
    assert all(a.title == a.title.strip() and "\n" not in a.title for a in parsed.articles)
    assert all(a.language == "nl" for a in parsed.articles)


def test_heise_feed_level_author_and_double_escaped_summary() -> None:
    parsed = _need("heise-developer-2016.atom.xml")
    assert all(a.authors == ("heise online",) for a in parsed.articles)
    assert all(a.url and "wt_mc" not in a.url for a in parsed.articles)
    assert any('"' in a.summary for a in parsed.articles)  # &amp;quot; decoded
    assert all(a.language == "de" for a in parsed.articles)  # detected: feed states none


def test_medium_tracking_source_removed_and_boilerplate_not_terms() -> None:
    parsed = _need("medium-user-emarley-2016.rss.xml")
    assert all(a.url and "source=" not in a.url for a in parsed.articles)
    assert all(a.authors == ("Liz Marley",) for a in parsed.articles)
    terms = {t for a in parsed.articles for t, *_ in a.terms}
    assert not terms & {"continue", "reading"}


def test_googlenews_and_bbc() -> None:
    google = _need("googlenews-search-chemnitz-2023.rss.xml")
    assert all("\xa0" not in a.text and "nbsp" not in a.text for a in google.articles)
    assert google.articles[0].language == "de"
    bbc = _need("bbc-news-business-2018.rss.xml")
    assert bbc.language == "en"
    assert bbc.articles[0].published == datetime(2018, 12, 26, 18, 55, 22, tzinfo=UTC)


def test_substack_long_content_is_text() -> None:
    parsed = _need("substack-snitik-2026.rss.xml")
    for article in parsed.articles:
        assert article.word_count > 1000
        assert article.reading_minutes >= 5
        assert len(article.text) > len(article.summary)
        assert "<svg" not in article.text
