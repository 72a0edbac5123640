"""Dates: zone names, month names in seven languages, the slow parser kept off the hot path,
relative dates on pages, the accepted window, and how `published` and `date_source` reach
exports. (The fixture feeds in tests/fixtures/expect/dates-*.xml check the same through the
store for RSS 2.0, RSS 1.0 and Atom.)"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from feedgen import Item, rss
from httpserver import TestServer

from monitor import analyze, ingest, normalize, subscriptions
from monitor.models import DATE_SOURCES, Filters
from monitor.normalize import apply_page, normalize_entry, parse_date, parse_relative_date
from monitor.parse import PageInfo, parse_page
from monitor.store import DuckDBStore

FETCHED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
FEED = "https://dates.example/feed"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _norm(**fields: Any) -> Any:
    entry = {"id": "d-1", "link": "https://dates.example/1", "title": "Ein Datum"}
    entry.update(fields)
    return normalize_entry(
        entry, feed_url=FEED, feed_language="de", feed_authors=(), fetched_at=FETCHED
    )


# --- zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 26 January 2004 16:31:00 ET", _utc(2004, 1, 26, 21, 31)),  # EST in winter
        ("Mon, 26 July 2004 16:31:00 ET", _utc(2004, 7, 26, 20, 31)),  # EDT in summer
        ("Wed, 26 Dec 2018 18:55:22 CT", _utc(2018, 12, 27, 0, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 CT", _utc(2018, 6, 26, 23, 55, 22)),
        ("Wed, 26 Dec 2018 18:55:22 MT", _utc(2018, 12, 27, 1, 55, 22)),
        ("Wed, 26 Dec 2018 18:55:22 PT", _utc(2018, 12, 27, 2, 55, 22)),
        ("Wed, 26 Dec 2018 18:55:22 AT", _utc(2018, 12, 26, 22, 55, 22)),
        ("Wed, 26 Dec 2018 18:55:22 EST", _utc(2018, 12, 26, 23, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 EDT", _utc(2018, 6, 26, 22, 55, 22)),
        ("Wed, 26 Dec 2018 18:55:22 CET", _utc(2018, 12, 26, 17, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 CEST", _utc(2018, 6, 26, 16, 55, 22)),
        ("Mi, 26 Dez 2018 18:55:22 MEZ", _utc(2018, 12, 26, 17, 55, 22)),
        ("Di, 26 Jun 2018 18:55:22 MESZ", _utc(2018, 6, 26, 16, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 BST", _utc(2018, 6, 26, 17, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 (CEST)", _utc(2018, 6, 26, 16, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 +0100 (CET)", _utc(2018, 6, 26, 17, 55, 22)),  # offset wins
        ("Tue, 26 Jun 2018 18:55:22 GMT+2", _utc(2018, 6, 26, 16, 55, 22)),
        ("Tue, 26 Jun 2018 18:55:22 UTC-03:00", _utc(2018, 6, 26, 21, 55, 22)),
        ("2018-06-26T18:55:22 CEST", _utc(2018, 6, 26, 16, 55, 22)),
        ("2018-06-26 18:55:22 -0300", _utc(2018, 6, 26, 21, 55, 22)),
        ("Mon, 26 Jan 2004 16:31:00 NZDT", _utc(2004, 1, 26, 3, 31)),  # dateparser knows it
    ],
)
def test_zone_names_have_their_offsets(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == (expected, False)


def test_an_unknown_zone_name_is_never_silently_utc() -> None:
    # The wall time is kept, the zone marked as assumed, and the entry says which name it was.
    assert parse_date("Mon, 26 Jan 2004 16:31:00 XYZ") == (_utc(2004, 1, 26, 16, 31), True)
    a = _norm(published="Mon, 26 Jan 2004 16:31:00 XYZ")
    assert (a.published, a.date_source, a.date_assumed_utc) == (
        _utc(2004, 1, 26, 16, 31),
        "feed",
        True,
    )
    assert any("unknown time zone 'XYZ'" in w for w in a.warnings)
    # A known zone carries no warning and no assumption.
    b = _norm(published="Mon, 26 Jan 2004 16:31:00 ET")
    assert (b.published, b.date_assumed_utc, b.warnings) == (_utc(2004, 1, 26, 21, 31), False, ())


def test_an_offset_out_of_range_is_no_zone() -> None:
    parsed = normalize._parse("Mon, 26 Jan 2004 16:31:00 +9900")
    assert parsed is not None and parsed.assumed and parsed.unknown_zone == "+9900"


# --- languages and shapes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", _utc(2018, 9, 24, 22, 42, 40)),  # pt
        ("Qua, 10 Out 2018 08:00:00 -0300", _utc(2018, 10, 10, 11)),  # pt: outubro
        ("24 de setembro de 2018 19:42 -0300", _utc(2018, 9, 24, 22, 42)),  # pt, long
        ("lun., 24 sept. 2018 19:42:40 +0200", _utc(2018, 9, 24, 17, 42, 40)),  # fr
        ("mer., 15 août 2018 10:30:00 +0200", _utc(2018, 8, 15, 8, 30)),  # fr
        ("jeu., 5 juil. 2018 10:00 +0200", _utc(2018, 7, 5, 8)),  # fr: juillet, not juin
        ("ven., 8 juin 2018 10:00 +0200", _utc(2018, 6, 8, 8)),  # fr: juin
        ("1er décembre 2018 10:00 +0100", _utc(2018, 12, 1, 9)),  # fr: 1er
        ("lun, 24 dic 2018 10:00:00 +0100", _utc(2018, 12, 24, 9)),  # es
        ("mié, 10 ene 2018 10:00:00 +0100", _utc(2018, 1, 10, 9)),  # es: enero
        ("mer, 14 febbraio 2018 10:00:00 +0100", _utc(2018, 2, 14, 9)),  # it
        ("sab, 9 giu 2018 10:00 +0200", _utc(2018, 6, 9, 8)),  # it: giugno
        ("za, 24 mrt 2018 10:00:00 +0100", _utc(2018, 3, 24, 9)),  # nl
        ("di, 1 mei 2018 10:00 +0200", _utc(2018, 5, 1, 8)),  # nl: mei
        ("Mo, 03 Mär 2025 08:00:00 MEZ", _utc(2025, 3, 3, 7)),  # de
        ("Di, 24. Dez. 2024 um 18:00 Uhr +0100", _utc(2024, 12, 24, 17)),  # de, long
        ("Mo, 13 Jänner 2025 08:00 +0100", _utc(2025, 1, 13, 7)),  # de-AT
        ("Fri,24 Nov 2023 10:00:00 GMT", _utc(2023, 11, 24, 10)),  # no space after the comma
        ("Sep 24, 2018 7:42 PM EDT", _utc(2018, 9, 24, 23, 42)),  # month first, 12-hour clock
        ("Mon Sep 24 19:42:40 UTC 2018", _utc(2018, 9, 24, 19, 42, 40)),  # asctime / date(1)
        ("2018-09-24T19:42:40.123456789Z", _utc(2018, 9, 24, 19, 42, 40, 123456)),
        ("24 septembre 2018 à 19h42 +0200", _utc(2018, 9, 24, 17, 42)),
    ],
)
def test_month_and_weekday_names_in_seven_languages(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == (expected, False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fri,24 Nov 2023", _utc(2023, 11, 24)),
        ("24.09.2018 19:42", _utc(2018, 9, 24, 19, 42)),  # dateparser: day first
        ("September 24, 2018", _utc(2018, 9, 24)),
    ],
)
def test_dates_without_a_zone_are_marked_assumed(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == (expected, True)


@pytest.mark.parametrize(
    "raw",
    ["2025-13-01", "32 Dec 2018 10:00 GMT", "Mai 2018", "gestern", "vor 5 Tagen", "12", "x" * 90],
)
def test_not_dates(raw: str) -> None:
    assert parse_date(raw) is None


def test_well_formed_dates_never_reach_the_slow_parser() -> None:
    normalize._slow_date.cache_clear()
    for raw in [
        "Wed, 22 Jan 2014 20:31:31 +0600",
        "Tue, 10 Jun 2003 04:00:00 GMT",
        "26 Dec 2018 18:55 EST",
        "2016-02-01T17:22:00+01:00",
        "2025-03-29T00:00:00.000Z",
        "2025-03-29",
        "Seg, 24 Set 2018 19:42:40 -0300",
        "Mon, 26 January 2004 16:31:00 ET",
        "Fri,24 Nov 2023",
    ]:
        assert parse_date(raw) is not None
    assert normalize._slow_date.cache_info().misses == 0


def test_a_document_of_odd_dates_is_bounded_in_slow_parser_work() -> None:
    """A feed of thousands of dates only dateparser could read gives it a bounded number of
    strings; the rest fall back (first seen) and say why."""
    normalize._slow_date.cache_clear()
    limit = normalize.SLOW_DATES_PER_DOCUMENT
    articles = [
        normalize_entry(
            {"id": f"o-{n}", "title": f"T{n}", "published": f"{n % 28 + 1}/{n % 12 + 1}/2019 x{n}"},
            feed_url="https://odd.example/feed",
            feed_language=None,
            feed_authors=(),
            fetched_at=FETCHED,
        )
        for n in range(limit + 50)
    ]
    assert normalize._slow_date.cache_info().misses == limit
    assert all(a.date_source == "first-seen" for a in articles[limit:])
    assert "slow parser" in articles[-1].warnings[0]
    # Another document starts with a budget of its own.
    normalize_entry(
        {"id": "o", "title": "T", "published": "3/4/2019 y"},
        feed_url="https://other.example/feed",
        feed_language=None,
        feed_authors=(),
        fetched_at=FETCHED,
    )
    assert normalize._slow_date.cache_info().misses == limit + 1


# --- entries --------------------------------------------------------------------------------


def test_created_is_used_between_published_and_updated() -> None:
    a = _norm(created="2018-09-24T19:42:40-03:00", updated="2019-01-01T00:00:00Z")
    assert (a.published, a.date_source) == (_utc(2018, 9, 24, 22, 42, 40), "feed-created")
    b = _norm(published="2018-01-01T00:00:00Z", created="2017-01-01T00:00:00Z")
    assert (b.published, b.date_source) == (_utc(2018, 1, 1), "feed")


def test_the_accepted_window_and_first_seen() -> None:
    too_old = _norm(published="Mon, 01 Jan 1979 00:00:00 GMT")
    too_new = _norm(published=(FETCHED + timedelta(days=2, hours=1)).isoformat())
    fine = _norm(published=(FETCHED + timedelta(days=1, hours=23)).isoformat())
    assert (too_old.published, too_old.date_source) == (FETCHED, "first-seen")
    assert (too_new.published, too_new.date_source) == (FETCHED, "first-seen")
    assert "outside the accepted dates" in too_old.warnings[0]
    assert fine.date_source == "feed"
    # A bad published date falls back to updated, and says so.
    c = _norm(published="bald", updated="2026-04-30T10:00:00Z")
    assert (c.date_source, c.warnings) == ("feed-updated", ("published: 'bald' is not a date",))
    assert {"feed-created", "page-relative", "first-seen"} <= set(DATE_SOURCES)


# --- relative dates on pages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "assumed"),
    [
        ("vor 5 Tagen", FETCHED - timedelta(days=5), False),
        ("vor einer Stunde", FETCHED - timedelta(hours=1), False),
        ("Veröffentlicht vor 2 Stunden", FETCHED - timedelta(hours=2), False),
        ("2 hours ago", FETCHED - timedelta(hours=2), False),
        ("Posted 3 days ago", FETCHED - timedelta(days=3), False),
        ("gestern", FETCHED - timedelta(days=1), False),
        ("yesterday", FETCHED - timedelta(days=1), False),
        ("gestern, 14:30", _utc(2026, 4, 30, 14, 30), True),
        ("il y a 3 jours", FETCHED - timedelta(days=3), False),
        ("hace 2 días", FETCHED - timedelta(days=2), False),
        ("2 giorni fa", FETCHED - timedelta(days=2), False),
        ("3 dagen geleden", FETCHED - timedelta(days=3), False),
        ("há 2 dias", FETCHED - timedelta(days=2), False),
    ],
)
def test_relative_dates_count_back_from_the_fetch(
    text: str, expected: datetime, assumed: bool
) -> None:
    assert parse_relative_date(text, FETCHED) == (expected, assumed)


@pytest.mark.parametrize("text", ["ago", "vor dem Haus", "Mai", "in 2 days", "", "vor " * 40])
def test_relative_date_needs_an_amount_or_a_day_word(text: str) -> None:
    assert parse_relative_date(text, FETCHED) is None


RELATIVE_PAGE = """<!doctype html><html lang="de"><head><title>Ein Beitrag</title></head>
<body><article><h1>Ein Beitrag</h1>
<div class="meta"><span class="post-date"><i class="icon"></i> vor 5 Tagen</span></div>
<p>Der Rat hat am Dienstag über den Haushalt beraten und nach langer Debatte mit großer
Mehrheit beschlossen, die Mittel für Schulen und Kitas im kommenden Jahr deutlich zu erhöhen.
Die Opposition kritisierte die Finanzierung, stimmte aber in Teilen zu.</p>
<p>Die Stadtverwaltung soll nun bis zum Frühjahr einen Plan vorlegen, wie das Geld verteilt
wird. Eltern und Lehrer begrüßten den Beschluss, mahnten aber eine schnelle Umsetzung an.</p>
</article></body></html>"""


def test_a_page_with_a_relative_date_is_dated_from_the_fetch() -> None:
    page = parse_page(RELATIVE_PAGE.encode(), url="https://p.example/a", fetched_at=FETCHED)
    assert (page.published, page.date_relative) == (FETCHED - timedelta(days=5), True)
    article = apply_page(_norm(), page)
    assert (article.published, article.date_source) == (
        FETCHED - timedelta(days=5),
        "page-relative",
    )
    # An absolute page date stays "page".
    absolute = PageInfo(url="https://p.example/a", text="x", published=_utc(2026, 4, 2))
    assert apply_page(_norm(), absolute).date_source == "page"


def test_full_text_fetch_stores_a_relative_page_date(
    store: DuckDBStore, server: TestServer
) -> None:
    page_url = server.url("/beitrag")
    feed = rss([Item("Ein Beitrag", link=page_url, body="Der Rat …", date=None)])
    server.route("/feed.xml", body=feed, headers={"Content-Type": "application/rss+xml"})
    server.route("/beitrag", body=RELATIVE_PAGE.encode(), headers={"Content-Type": "text/html"})
    subscriptions.add_feeds(store, [server.url("/feed.xml")], full_text=True)
    before = datetime.now(UTC)
    ingest.fetch_feeds(store)
    after = datetime.now(UTC)
    row = next(iter(analyze.export_rows(store, Filters())))
    assert row["date_source"] == "page-relative"
    published = row["published"].replace(tzinfo=UTC)
    assert before - timedelta(days=5, seconds=1) <= published <= after - timedelta(days=5)


# --- exports --------------------------------------------------------------------------------


def test_published_and_date_source_round_trip_into_exports(store: DuckDBStore) -> None:
    doc = rss(
        [
            Item("Mit Datum", link="https://x.example/1", date="Seg, 24 Set 2018 19:42:40 -0300"),
            Item("Ohne Datum", link="https://x.example/2", date=None),
        ]
    )
    ingest.ingest_bytes(store, doc, source="s", feed_url="https://x.example/feed", now=FETCHED)
    by_title = {r["title"]: r for r in analyze.export_rows(store, Filters())}
    assert (by_title["Mit Datum"]["published"], by_title["Mit Datum"]["date_source"]) == (
        datetime(2018, 9, 24, 22, 42, 40),
        "feed",
    )
    assert by_title["Ohne Datum"]["date_source"] == "first-seen"
    as_json = {r["title"]: r for r in json.loads(analyze.export_articles(store, Filters(), "json"))}
    assert as_json["Mit Datum"]["published"] == "2018-09-24T22:42:40Z"
    assert as_json["Ohne Datum"]["published"] == "2026-05-01T12:00:00Z"
    assert as_json["Ohne Datum"]["date_source"] == "first-seen"
    text = analyze.export_articles(store, Filters(), "csv").decode()
    rows = {r["title"]: r for r in csv.DictReader(io.StringIO(text))}
    assert (rows["Mit Datum"]["published"], rows["Mit Datum"]["date_source"]) == (
        "2018-09-24T22:42:40Z",
        "feed",
    )
    assert rows["Ohne Datum"]["date_source"] == "first-seen"
