"""The demo feeds: deterministic, valid, realistic enough to explore, and shipped unedited."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import feedparser
import pytest

from monitor.demo import (
    DEMO_FEED_URLS,
    SHIPPED_ANCHOR,
    WINDOW_DAYS,
    demo_feeds,
    write_demo_feeds,
)

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
# Not the shipped anchor, and its window crosses the March switch to summer time.
ANCHOR = datetime(2026, 4, 10, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def feeds() -> dict[str, bytes]:
    return demo_feeds(ANCHOR)


@pytest.fixture(scope="module")
def parsed(feeds: dict[str, bytes]) -> dict[str, Any]:
    return {name: feedparser.parse(content) for name, content in feeds.items()}


def _published(entry: Any) -> datetime | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*stamp[:6], tzinfo=UTC) if stamp else None


def _body(entry: Any) -> str:
    if entry.get("content"):
        return str(entry.content[0].value)
    return str(entry.get("summary", ""))


def _plain(html_text: str) -> str:
    return re.sub(r"<[^>]+>", " ", html_text)


def _feed(parsed: dict[str, Any], kind: str) -> Any:
    (name,) = [name for name in parsed if kind in name]
    return parsed[name]


def test_same_anchor_and_seed_give_identical_bytes(feeds: dict[str, bytes]) -> None:
    assert demo_feeds(ANCHOR) == feeds
    # A naive anchor is taken as UTC; another zone is converted.
    assert demo_feeds(ANCHOR.replace(tzinfo=None)) == feeds
    assert demo_feeds(ANCHOR.astimezone(datetime.now().astimezone().tzinfo)) == feeds


def test_another_seed_or_anchor_gives_other_feeds(feeds: dict[str, bytes]) -> None:
    other_seed = demo_feeds(ANCHOR, seed=8)
    other_day = demo_feeds(ANCHOR + timedelta(days=1))
    assert other_seed.keys() == feeds.keys() == other_day.keys()
    assert all(other_seed[name] != feeds[name] for name in feeds)
    assert all(other_day[name] != feeds[name] for name in feeds)


def test_every_document_parses_cleanly_with_the_generated_entry_count(
    feeds: dict[str, bytes], parsed: dict[str, Any]
) -> None:
    assert len(feeds) == 8
    for name, content in feeds.items():
        result = parsed[name]
        assert result.bozo == 0, (name, result.get("bozo_exception"))
        # An independent count: the XML elements that are entries.
        root = ElementTree.fromstring(content)
        elements = [el for el in root.iter() if re.search(r"(^|})(item|entry)$", el.tag)]
        assert len(result.entries) == len(elements) > 0, name
    versions = Counter(result.version for result in parsed.values())
    assert versions == Counter({"rss20": 6, "atom10": 1, "rss10": 1})


def test_volume_and_dates_cover_the_window_and_stop_at_the_anchor(parsed: dict[str, Any]) -> None:
    total = sum(len(result.entries) for result in parsed.values())
    assert 900 <= total <= 1200
    dates = [_published(e) for result in parsed.values() for e in result.entries]
    dated = [d for d in dates if d is not None]
    assert 1 <= len(dates) - len(dated) <= 2  # the deliberately undated entries
    assert max(dated) <= ANCHOR
    assert min(dated) >= ANCHOR - timedelta(days=WINDOW_DAYS)
    assert max(dated) - min(dated) >= timedelta(days=90)
    # Uneven volume: the busy news site dwarfs the blogs.
    sizes = {name: len(result.entries) for name, result in parsed.items()}
    assert sizes["nachrichten-politik.rss.xml"] >= 4 * WINDOW_DAYS
    assert sizes["klartext-blog.blog-feed.xml"] <= 4 * WINDOW_DAYS / 7


def test_publishing_rhythm_follows_local_office_hours(feeds: dict[str, bytes]) -> None:
    text = feeds["nachrichten-politik.rss.xml"].decode()
    stamps = [parsedate_to_datetime(s) for s in re.findall(r"<pubDate>([^<]+)</pubDate>", text)]
    offsets = {stamp.utcoffset() for stamp in stamps}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # winter and summer time
    assert all(6 <= stamp.hour <= 21 for stamp in stamps)  # local clock, 6-22 h
    weekdays = Counter(stamp.weekday() for stamp in stamps)
    assert weekdays[0] > 1.5 * weekdays[6]


def test_one_source_goes_silent_for_the_last_weeks(parsed: dict[str, Any]) -> None:
    newest = {
        name: max(d for e in result.entries if (d := _published(e)) is not None)
        for name, result in parsed.items()
    }
    silent = [name for name, last in newest.items() if last < ANCHOR - timedelta(days=18)]
    assert silent == ["rheinland-bote.rss.xml"]
    assert newest["nachrichten-politik.rss.xml"] > ANCHOR - timedelta(days=1)


def test_authors_are_few_per_source_with_one_prolific(parsed: dict[str, Any]) -> None:
    for name, result in parsed.items():
        if "social" in name:  # hashtag timelines carry no bylines
            assert not any(e.get("author") for e in result.entries)
            continue
        people = Counter(
            author.get("name")
            for e in result.entries
            for author in e.get("authors", [])
            if author.get("name")
        )
        top = people.most_common(2)
        assert top[0][1] >= 1.5 * top[1][1], (name, top)
    # Co-authored bylines in both languages.
    regional = [e.get("author", "") for e in _feed(parsed, "rheinland").entries]
    assert any(re.fullmatch(r"[^,]+ und [^,]+", byline) for byline in regional)
    magazine = [e.get("author", "") for e in _feed(parsed, "lantern").entries]
    assert any(re.fullmatch(r"[^,]+, [^,]+ and [^,]+", byline) for byline in magazine)
    business = _feed(parsed, "ledger").entries
    assert all(e.author_detail.email.endswith("@theledger.example.com") for e in business)


def test_german_and_english_side_by_side(parsed: dict[str, Any]) -> None:
    languages = Counter((result.feed.get("language") or "?")[:2] for result in parsed.values())
    assert languages["de"] >= 3 and languages["en"] >= 3
    german = " ".join(_plain(_body(e)) for e in _feed(parsed, "nachrichten").entries[:50])
    english = " ".join(_plain(_body(e)) for e in _feed(parsed, "ledger").entries[:50])
    assert all(f" {word} " in german for word in ("der", "und", "nicht", "die"))
    assert all(f" {word} " in english for word in ("the", "and", "not", "of"))
    social = " ".join(_plain(_body(e)) for e in _feed(parsed, "social").entries)
    assert " und " in social and " the " in social  # the timeline mixes both


def test_article_texts_have_article_length(parsed: dict[str, Any]) -> None:
    for name, result in parsed.items():
        if "social" in name:
            continue
        for entry in result.entries:
            words = len(_plain(_body(entry)).split())
            assert 150 <= words <= 1000, (name, entry.get("title"), words)


def test_wix_blog_items_end_with_a_hashtag_line(parsed: dict[str, Any]) -> None:
    entries = _feed(parsed, "klartext").entries
    for entry in entries:
        last = re.findall(r"<p>(.*?)</p>", entry.content[0].value, re.S)[-1]
        tags = last.split()
        assert 8 <= len(tags) <= 15 and all(tag.startswith("#") for tag in tags), last
        assert len(entry.summary) < len(entry.content[0].value) / 2  # excerpt vs body
    lines = " ".join(entry.content[0].value for entry in entries)
    assert "#Friedensgespräche" in lines and "#Trump" in lines and "#Putin" in lines


def test_tags_rise_and_fall_with_the_story_arcs(parsed: dict[str, Any]) -> None:
    start = ANCHOR - timedelta(days=WINDOW_DAYS)
    first, last = Counter[str](), Counter[str]()
    for result in parsed.values():
        for entry in result.entries:
            when = _published(entry)
            if when is None:
                continue
            bucket = first if when < start + timedelta(days=40) else None
            bucket = last if when >= ANCHOR - timedelta(days=40) else bucket
            if bucket is not None:
                bucket.update(tag.term for tag in entry.get("tags", []))
    assert last["Zollstreit"] > 3 * max(first["Zollstreit"], 1)  # the trade dispute rises
    assert first["Sport"] > 3 * max(last["Sport"], 1)  # the tournament is over


def test_shared_links_tracking_parameters_and_awkward_markup(
    feeds: dict[str, bytes], parsed: dict[str, Any]
) -> None:
    def canonical(url: str) -> str:
        parts = urlsplit(url)
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("utm_"))
        return urlunsplit(parts._replace(query=query))

    links = {name: {e.link for e in result.entries} for name, result in parsed.items()}
    news, regional = links["nachrichten-politik.rss.xml"], links["rheinland-bote.rss.xml"]
    assert news & regional  # the very same link in two feeds
    tracked = [link for names in links.values() for link in names if "utm_" in link]
    assert tracked
    assert any(canonical(link) in news for link in regional if "utm_" in link)
    everything = b"".join(feeds.values())
    for needle in (b"&amp;", b"&#8230;", b"&quot;", b"<strong>", b"<a href="):
        assert needle in everything, needle
    assert all("slash_comments" in e for e in _feed(parsed, "nachrichten").entries)
    assert not any(e.get("title") for e in _feed(parsed, "social").entries)


def test_latin1_feed_is_written_in_its_declared_encoding(
    feeds: dict[str, bytes], parsed: dict[str, Any]
) -> None:
    content = feeds["technik-ticker.rdf"]
    assert content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "ü".encode("latin-1") in content and "ü".encode() not in content
    result = parsed["technik-ticker.rdf"]
    assert result.encoding == "iso-8859-1"
    assert any(ch in e.title for e in result.entries for ch in "äöüß")


def test_urls_are_invented_example_domains(parsed: dict[str, Any]) -> None:
    assert DEMO_FEED_URLS.keys() == parsed.keys()
    urls = list(DEMO_FEED_URLS.values())
    urls += [e.link for result in parsed.values() for e in result.entries]
    for url in urls:
        host = urlsplit(url).hostname or ""
        assert url.startswith("https://") and host.split(".")[-2] == "example", url


def test_write_demo_feeds_writes_every_document(tmp_path: Path, feeds: dict[str, bytes]) -> None:
    paths = write_demo_feeds(tmp_path / "new", ANCHOR)
    assert sorted(path.name for path in paths) == sorted(feeds)
    assert all(path.read_bytes() == feeds[path.name] for path in paths)


def test_shipped_files_are_exactly_what_the_generator_gives() -> None:
    expected = demo_feeds(SHIPPED_ANCHOR)
    shipped = {path.name for path in SHIPPED_DIR.iterdir()} - {"README.md"}
    assert shipped == set(expected), "regenerate with: python -m monitor.demo"
    for name, content in expected.items():
        assert (SHIPPED_DIR / name).read_bytes() == content, f"{name}: run python -m monitor.demo"
    assert sum(len(content) for content in expected.values()) < 3_200_000


def test_generation_is_quick() -> None:
    started = time.process_time()  # CPU time: immune to a busy machine
    demo_feeds(SHIPPED_ANCHOR + timedelta(days=3))
    assert time.process_time() - started < 2.0


def test_every_local_date_carries_its_zones_offset_at_that_instant() -> None:
    # The shipped anchor's window crosses the European (25 Oct) and US (1 Nov) autumn switch.
    documents = demo_feeds(SHIPPED_ANCHOR)
    zones = {
        "nachrichten-politik.rss.xml": ("pubDate", "Europe/Berlin"),
        "ledger-business.rss.xml": ("pubDate", "Europe/London"),
        "lantern-review.rss.xml": ("pubDate", "America/New_York"),
        "circuit-notes.atom.xml": ("published", "Europe/London"),
        "technik-ticker.rdf": ("dc:date", "Europe/Berlin"),
    }
    for name, (element, zone) in zones.items():
        text = documents[name].decode("latin-1")
        found = re.findall(rf"<{element}>([^<]+)</{element}>", text)
        stamps = [
            parsedate_to_datetime(s) if element == "pubDate" else datetime.fromisoformat(s)
            for s in found
        ]
        assert len(stamps) > 20, name
        for stamp in stamps:
            assert stamp.utcoffset() == stamp.astimezone(ZoneInfo(zone)).utcoffset(), (name, stamp)
        assert len({stamp.utcoffset() for stamp in stamps}) == 2, name  # summer and winter


def test_vocabulary_and_sources_are_package_data_that_fit_together() -> None:
    files = resources.files("monitor.demo")
    sources = json.loads(files.joinpath("sources.json").read_text(encoding="utf-8"))
    topics = json.loads(files.joinpath("topics.json").read_text(encoding="utf-8"))
    words = json.loads(files.joinpath("words.json").read_text(encoding="utf-8"))
    keys = {topic["key"] for topic in topics["topics"]}
    assert {source["filename"] for source in sources} == set(DEMO_FEED_URLS)
    for source in sources:
        assert set(source["topics"]) <= keys, source["filename"]
        ZoneInfo(source["zone"])  # an IANA name, not a home-made rule
        assert len(source["weekdays"]) == 7 and set(source["hours"]) <= {str(h) for h in range(24)}
    for topic in topics["topics"]:
        for lang in ("de", "en"):
            vocab = topic[lang]
            if vocab is not None:
                assert vocab["titles"] and vocab["nouns"] and vocab["sentences"], topic["key"]
                places = vocab["places"]
                assert isinstance(places, list) or places in topics["places"]
    assert set(words["generic"]) == set(words["kickers"]) == set(words["weekdays"]) == {"de", "en"}
