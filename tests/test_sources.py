"""Managing sources: adding a feed checks it (feed discovery on web pages, a missing scheme,
private-network refusals that say how to allow them), enable and retry, and the Sources page
through AppTest (add, pick a discovered feed, fetch now, retry, re-enable, remove).

Real parts only: a real HTTP server on 127.0.0.1 (tests/httpserver.py), real DuckDB files.
Feeds on 127.0.0.1 added from the web are refused unless MONITOR_ALLOW_PRIVATE_NETWORKS=1,
which the page tests set.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from dashboard import Dashboard
from feedgen import Item, rss
from httpserver import Reply, Request, TestServer
from streamlit.testing.v1 import AppTest

from monitor import discover, ingest, subscriptions
from monitor.cli import cli
from monitor.fetch import FetchSettings
from monitor.store import DuckDBStore
from monitor.store.duckdb import query

# Streamlit's caches are process-wide: emptied around every test here, with or without AppTest.
pytestmark = pytest.mark.usefixtures("fresh_caches")
FAST = FetchSettings(connect_timeout=2.0, total_timeout=5.0)
FEED = rss(
    [Item("Erster", link="https://site.example/1"), Item("Zweiter", link="https://site.example/2")]
)
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom-Feed</title><id>urn:x</id>
<updated>2026-11-02T10:00:00Z</updated>
<entry><title>Eins</title><id>urn:x:1</id><link href="https://site.example/a1"/>
<updated>2026-11-02T10:00:00Z</updated><summary>Ein Text.</summary></entry></feed>"""
RSS_TYPE = {"Content-Type": "application/rss+xml"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}


def page(*links: str, head: str = "") -> bytes:
    """An HTML page whose head holds `links` (raw <link> tags) and `head`."""
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'><title>Blog</title>"
        + head
        + "".join(links)
        + "</head><body><p>Willkommen</p></body></html>"
    ).encode()


def state(store: DuckDBStore, url: str) -> dict[str, Any] | None:
    with store.read() as con:
        return query.feed_state(con, url)


def urls(store: DuckDBStore) -> set[str]:
    with store.read() as con:
        return {str(u) for u in query.feeds(con)["url"]}


def cli_run(db: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server is on 127.0.0.1: web-added feeds may reach it only with this."""
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_NETWORKS", "1")


# -- discovery on a page: one, two, no feed links --------------------------------------------


def test_a_page_with_one_feed_link_adds_that_feed(store: DuckDBStore, server: TestServer) -> None:
    server.route(
        "/blog/",
        body=page('<link rel="alternate" type="application/rss+xml" title="Blog &amp; Co" '
                  'href="feed.xml">'),
        headers=HTML_TYPE,
    )  # fmt: skip
    server.route("/blog/feed.xml", body=FEED, headers=RSS_TYPE)
    lines = subscriptions.add_feeds(store, [server.url("/blog/")], check=True)
    feed = server.url("/blog/feed.xml")  # the relative href, resolved against the page
    assert urls(store) == {feed}
    assert any("web page" in line and feed in line and "Blog & Co" in line for line in lines)
    assert f"added: {feed}" in lines
    # The page was fetched once, and the feed it named once (it has to be a feed).
    assert len(server.requests_for("/blog/")) == 1
    assert len(server.requests_for("/blog/feed.xml")) == 1


def test_the_command_line_says_which_feed_a_page_names(server: TestServer, tmp_path: Path) -> None:
    server.route(
        "/",
        body=page('<link rel="alternate" type="application/atom+xml" href="/atom.xml">'),
        headers=HTML_TYPE,
    )
    server.route("/atom.xml", body=ATOM, headers={"Content-Type": "application/atom+xml"})
    db = tmp_path / "cli.duckdb"
    result = cli_run(db, "feeds", "add", server.url("/"))
    assert result.exit_code == 0, result.output
    feed = server.url("/atom.xml")
    assert f"the feed it names: {feed} (Atom)" in result.output
    assert f"added: {feed}" in result.output.splitlines()
    assert urls(DuckDBStore(db)) == {feed}


def test_a_base_href_and_entities_in_the_link_are_honoured(
    store: DuckDBStore, server: TestServer
) -> None:
    server.route(
        "/start",
        body=page(
            "<!-- <link rel='alternate' type='application/rss+xml' href='/commented.xml'> -->",
            "<link rel='alternate stylesheet' type='text/css' href='/style.css'>",
            "<link rel='alternate' type='application/feed+json' href='/feed.json'>",
            "<LINK REL=Alternate TYPE='Application/RSS+XML; charset=utf-8' HREF='rss?a=1&amp;b=2'>",
            head="<base href='/news/'>",
        ),
        headers=HTML_TYPE,
    )
    server.route("/news/rss", body=FEED, headers=RSS_TYPE)
    subscriptions.add_feeds(store, [server.url("/start")], check=True)
    assert urls(store) == {server.url("/news/rss?a=1&b=2")}


def test_a_page_with_two_feed_links_offers_both_and_adds_none(
    store: DuckDBStore, server: TestServer, tmp_path: Path
) -> None:
    server.route(
        "/",
        body=page(
            '<link rel="alternate" type="application/rss+xml" title="Alles" href="/rss.xml">',
            '<link rel="alternate" type="application/atom+xml" title="Alles" href="/atom.xml">',
        ),
        headers=HTML_TYPE,
    )
    with pytest.raises(subscriptions.FeedChoice) as raised:
        subscriptions.add_feeds(store, [server.url("/")], check=True)
    choice = raised.value
    assert choice.page_url == server.url("/")
    assert [(link.url, link.format) for link in choice.links] == [
        (server.url("/rss.xml"), "RSS"),
        (server.url("/atom.xml"), "Atom"),
    ]
    assert urls(store) == set()
    # The command line lists them and exits with a usage error; nothing is added.
    db = tmp_path / "cli.duckdb"
    result = cli_run(db, "feeds", "add", server.url("/"))
    assert result.exit_code == 2
    assert server.url("/rss.xml") in result.output and server.url("/atom.xml") in result.output
    assert urls(DuckDBStore(db)) == set()


def test_a_page_with_no_feed_link_is_refused(store: DuckDBStore, server: TestServer) -> None:
    server.route("/plain", body=page(), headers=HTML_TYPE)
    with pytest.raises(ValueError, match="names no feed"):
        subscriptions.add_feeds(store, [server.url("/plain")], check=True)
    assert urls(store) == set()


def test_a_feed_served_as_html_is_still_a_feed(store: DuckDBStore, server: TestServer) -> None:
    server.route("/mislabelled.xml", body=FEED, headers=HTML_TYPE)
    lines = subscriptions.add_feeds(store, [server.url("/mislabelled.xml")], check=True)
    assert any("a feed" in line and "2 entries" in line for line in lines)
    assert urls(store) == {server.url("/mislabelled.xml")}


def test_what_is_not_a_feed_is_refused(store: DuckDBStore, server: TestServer) -> None:
    server.route("/missing.xml", status=404)
    server.route("/data.json", body=b'{"a": 1}', headers={"Content-Type": "application/json"})
    for path, reason in (("/missing.xml", "404"), ("/data.json", "not a feed")):
        with pytest.raises(ValueError, match=reason):
            subscriptions.add_feeds(store, [server.url(path)], check=True)
    assert urls(store) == set()


def test_an_unreachable_feed_is_added_from_the_command_line_but_not_from_the_web(
    store: DuckDBStore, server: TestServer, private_allowed: None
) -> None:
    server.route("/busy.xml", status=503)
    url = server.url("/busy.xml")
    with pytest.raises(ValueError, match="503"):
        subscriptions.add_feeds(store, [url], check=True, from_web=True)
    assert urls(store) == set()
    lines = subscriptions.add_feeds(store, [url], check=True)
    assert any("could not check" in line and "503" in line for line in lines)
    assert urls(store) == {url}


# -- a missing scheme ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.com/feed", "https://example.com/feed"),
        ("  example.com  ", "https://example.com"),
        ("www.example.org/rss?x=1", "https://www.example.org/rss?x=1"),
        ("localhost:8080/feed.xml", "https://localhost:8080/feed.xml"),
        ("127.0.0.1:9/feed", "https://127.0.0.1:9/feed"),
        ("[::1]:8000/x", "https://[::1]:8000/x"),
        ("//example.com/feed", "https://example.com/feed"),
        ("feed://example.com/feed", "https://example.com/feed"),
        ("feed:http://example.com/feed", "http://example.com/feed"),
        ("HTTP://Example.com/Feed", "http://Example.com/Feed"),
        ("http://example.com/feed", "http://example.com/feed"),
    ],
)
def test_a_missing_scheme_becomes_https(typed: str, expected: str) -> None:
    assert subscriptions.complete_url(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("notaurl", "not a URL"),
        ("ftp://example.com/feed", "not an http"),
        ("javascript:alert(1)", "not an http"),
        ("mailto:a@example.com", "not an http"),
        ("anna@example.com", "not a URL"),
    ],
)
def test_what_is_no_url_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        subscriptions.complete_url(typed)


def test_a_url_typed_without_a_scheme_is_fetched_over_https(
    store: DuckDBStore, server: TestServer, private_allowed: None
) -> None:
    server.route("/feed.xml", body=FEED, headers=RSS_TYPE)
    typed = f"127.0.0.1:{server.port}/feed.xml"
    # The test server speaks plain HTTP, so the https fetch fails: nothing is added and the
    # reason says https was assumed; no plain-http request was made behind the user's back.
    with pytest.raises(ValueError, match="https:// was assumed") as raised:
        subscriptions.add_feeds(store, [typed], check=True, from_web=True)
    assert str(raised.value).startswith(f"https://{typed}: ")
    assert not server.requests_for("/feed.xml")
    # On the command line too: the https URL was our guess, and it failed.
    with pytest.raises(ValueError, match="https:// was assumed"):
        subscriptions.add_feeds(store, [typed], check=True)
    assert urls(store) == set()


# -- private networks ------------------------------------------------------------------------


def test_a_web_refusal_says_how_to_allow_private_networks(
    store: DuckDBStore, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_NETWORKS", raising=False)
    server.route("/feed.xml", body=FEED, headers=RSS_TYPE)
    with pytest.raises(ValueError, match="MONITOR_ALLOW_PRIVATE_NETWORKS=1") as raised:
        subscriptions.add_feeds(store, [server.url("/feed.xml")], from_web=True, check=True)
    assert "loopback" in str(raised.value)
    assert not server.requests  # refused before any request
    assert urls(store) == set()


def test_a_check_from_the_web_refuses_before_any_request(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_NETWORKS", raising=False)
    checks = subscriptions.check_feeds([server.url("/x")], from_web=True, settings=FAST)
    assert checks[0].kind == "refused" and not server.requests


# -- enable and retry -------------------------------------------------------------------------


def test_enable_feed_brings_back_a_feed_disabled_by_410(
    store: DuckDBStore, server: TestServer
) -> None:
    answers = {"status": 410}

    def handler(_: Request) -> Reply:
        if answers["status"] == 410:
            return Reply(410)
        return Reply(200, FEED, RSS_TYPE)

    server.route("/gone.xml", handler=handler)
    url = server.url("/gone.xml")
    subscriptions.add_feeds(store, [url])
    ingest.fetch_feeds(store, settings=FAST)
    row = state(store, url)
    assert row is not None and row["disabled"] and "410" in row["disabled_reason"]
    assert ingest.fetch_feeds(store, settings=FAST, all_feeds=True) == []
    answers["status"] = 200
    assert "enabled" in subscriptions.enable_feed(store, url)
    row = state(store, url)
    assert row is not None and not row["disabled"] and row["disabled_reason"] is None
    assert row["error_count"] == 0
    # Due at once, without --all.
    reports = ingest.fetch_feeds(store, settings=FAST)
    assert [r.status for r in reports] == ["stored"]
    assert "already" in subscriptions.enable_feed(store, url)


def test_retry_feed_makes_a_feed_in_backoff_due_now(store: DuckDBStore, server: TestServer) -> None:
    server.route("/broken.xml", status=500)
    url = server.url("/broken.xml")
    subscriptions.add_feeds(store, [url])
    ingest.fetch_feeds(store, settings=FAST)
    assert ingest.fetch_feeds(store, settings=FAST) == []  # in backoff
    assert "due now" in subscriptions.retry_feed(store, url)
    server.route("/broken.xml", body=FEED, headers=RSS_TYPE)
    reports = ingest.fetch_feeds(store, settings=FAST)
    assert [r.status for r in reports] == ["stored"]
    row = state(store, url)
    assert row is not None and row["error_count"] == 0


def test_enable_and_retry_refuse_unknown_disabled_and_read_only(
    store: DuckDBStore, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for action in (subscriptions.enable_feed, subscriptions.retry_feed):
        with pytest.raises(ValueError, match="no such feed"):
            action(store, "https://unknown.example/feed")
    server.route("/gone.xml", status=410)
    url = server.url("/gone.xml")
    subscriptions.add_feeds(store, [url])
    ingest.fetch_feeds(store, settings=FAST)
    with pytest.raises(ValueError, match="enable it"):
        subscriptions.retry_feed(store, url)
    monkeypatch.setenv("MONITOR_READ_ONLY", "1")
    for action in (subscriptions.enable_feed, subscriptions.retry_feed):
        with pytest.raises(ValueError, match="read-only"):
            action(store, url, from_web=True)
    row = state(store, url)
    assert row is not None and row["disabled"]


# -- the scan itself ---------------------------------------------------------------------------


def test_feed_links_ignore_what_is_not_a_feed_link() -> None:
    content = page(
        '<link rel="stylesheet" type="application/rss+xml" href="/not-alternate.xml">',
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">',
        '<link rel="alternate" type="application/rss+xml">',
        '<link rel="alternate" hreflang="en" href="/en/">',
        '<link rel="alternate" type="application/atom+xml" href="https://other.example/a">',
        '<link rel="alternate" type="application/atom+xml" href="https://other.example/a">',
        '<link rel="alternate" type="application/rss+xml" href="/bad\x01url">',
        '<link rel="alternate" type="application/rss+xml" href="\n /news\n/all feeds.xml ">',
    )
    links = discover.feed_links(content, "https://site.example/")
    assert [link.url for link in links] == [
        "https://other.example/a",
        "https://site.example/news/all%20feeds.xml",
    ]


def test_feed_links_stay_linear_on_hostile_pages() -> None:
    # Unclosed tags and comments, quotes that never end: each would make a backtracking or
    # parser-based scan go quadratic. These finish (and find nothing, or the one real link).
    real = b'<link rel="alternate" type="application/rss+xml" href="/f.xml">'
    for junk in (b"<link " * 400_000, b"<!--" * 400_000, b'<link title="' * 200_000):
        assert discover.feed_links(junk, "https://x.example/") == ()
        links = discover.feed_links(real + junk, "https://x.example/")
        assert [link.url for link in links] == ["https://x.example/f.xml"]


def test_is_html_tells_pages_from_feeds() -> None:
    assert discover.is_html(page())
    assert discover.is_html(b"\xef\xbb\xbf  <!-- x --><html><body>hi")
    assert discover.is_html(b"<head><link rel=alternate></head>")
    assert not discover.is_html(FEED, "text/html")
    assert not discover.is_html(ATOM)
    assert not discover.is_html(b'<?xml version="1.0"?><rdf:RDF></rdf:RDF>', "text/html")
    assert discover.is_html(b"<div>fragment</div>", "text/html; charset=utf-8")
    assert not discover.is_html(b"<div>fragment</div>", "application/xml")


# -- the Sources page ------------------------------------------------------------------------


@pytest.fixture
def sources(apptest: Dashboard, private_allowed: None) -> Callable[[Path], AppTest]:
    """The Sources page of app.py on a store, picked in the menu."""

    def open_page(db: Path) -> AppTest:
        at = apptest.visit(db, "pages/sources.py")
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


def table(at: AppTest) -> pd.DataFrame:
    frame: pd.DataFrame = at.dataframe[0].value
    return frame.set_index("link")


def texts(at: AppTest, kind: str) -> str:
    return " ".join(str(el.value).replace("\\", "") for el in at.get(kind))


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_adds_a_feed_picked_from_a_page_that_names_two(
    sources: Callable[[Path], AppTest], server: TestServer, tmp_path: Path
) -> None:
    server.route(
        "/",
        body=page(
            '<link rel="alternate" type="application/rss+xml" title="RSS-Feed" href="/rss.xml">',
            '<link rel="alternate" type="application/atom+xml" title="Atom-Feed" href="/atom.xml">',
        ),
        headers=HTML_TYPE,
    )
    server.route("/rss.xml", body=FEED, headers=RSS_TYPE)
    server.route("/atom.xml", body=ATOM, headers={"Content-Type": "application/atom+xml"})
    db = tmp_path / "pick.duckdb"
    at = sources(db)
    at.main.text_input[0].input(server.url("/"))
    click(at, "Add feed")
    choice = at.radio(key="feed-choice")
    assert len(choice.options) == 2 and "Atom-Feed" in choice.options[1].replace("\\", "")
    assert urls(DuckDBStore(db)) == set()
    choice.set_value(1).run()
    click(at, "Add the chosen feed")
    assert urls(DuckDBStore(db)) == {server.url("/atom.xml")}
    # The table drawn after the click already holds the new feed, and the choice is gone.
    assert list(table(at).index) == [server.url("/atom.xml")]
    assert "added" in texts(at, "success")
    assert not [r for r in at.radio if r.key == "feed-choice"]


def test_page_adds_a_page_with_one_feed_and_completes_the_scheme(
    sources: Callable[[Path], AppTest], server: TestServer, tmp_path: Path
) -> None:
    server.route(
        "/",
        body=page('<link rel="alternate" type="application/rss+xml" href="/rss.xml">'),
        headers=HTML_TYPE,
    )
    server.route("/rss.xml", body=FEED, headers=RSS_TYPE)
    db = tmp_path / "one.duckdb"
    at = sources(db)
    at.main.text_input[0].input(server.url("/"))
    click(at, "Add feed")
    assert list(table(at).index) == [server.url("/rss.xml")]
    assert "the feed it names" in texts(at, "success")
    # Without a scheme: https is tried (the server has none), and the error says so.
    at.main.text_input[0].input(f"127.0.0.1:{server.port}/rss.xml")
    click(at, "Add feed")
    assert "https:// was assumed" in texts(at, "error")
    assert urls(DuckDBStore(db)) == {server.url("/rss.xml")}


def test_page_refusal_says_how_to_allow_private_networks(
    sources: Callable[[Path], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = sources(tmp_path / "refuse.duckdb")
    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_NETWORKS")
    at.main.text_input[0].input("http://127.0.0.1:9/feed.xml")
    click(at, "Add feed")
    assert "MONITOR_ALLOW_PRIVATE_NETWORKS=1" in texts(at, "error")


def test_fetch_now_updates_the_table_and_names_the_failed_feeds(
    sources: Callable[[Path], AppTest], server: TestServer, tmp_path: Path
) -> None:
    server.route("/good.xml", body=FEED, headers=RSS_TYPE)
    server.route("/bad.xml", status=500)
    db = tmp_path / "fetch.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/good.xml")], name="Gute Quelle")
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/bad.xml")], name="Kaputte Quelle")
    at = sources(db)
    before = table(at)
    assert set(before["status"]) == {"never fetched"}
    click(at, "Fetch all subscribed feeds now")
    after = table(at)
    good, bad = after.loc[server.url("/good.xml")], after.loc[server.url("/bad.xml")]
    assert good["status"] == "ok" and good["last_status"] == 200 and good["articles"] == 2
    assert bad["status"] == "⚠ failing" and bad["error_count"] == 1
    assert "500" in str(bad["last_error"])
    warning = texts(at, "warning")
    assert "Kaputte Quelle" in warning and server.url("/bad.xml") in warning
    assert "500" in warning and "Gute Quelle" not in warning
    assert "2 new" in texts(at, "success")


def test_retry_re_enable_and_remove_from_the_page(
    sources: Callable[[Path], AppTest], server: TestServer, tmp_path: Path
) -> None:
    server.route("/gone.xml", status=410)
    server.route("/broken.xml", status=500)
    server.route("/stays.xml", body=FEED, headers=RSS_TYPE)
    gone, broken, stays = (server.url(f"/{n}.xml") for n in ("gone", "broken", "stays"))
    db = tmp_path / "manage.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [gone, broken, stays])
    ingest.fetch_feeds(DuckDBStore(db), settings=FAST)
    at = sources(db)
    assert table(at).loc[gone, "status"] == "⛔ disabled"
    assert "410" in str(table(at).loc[gone, "disabled_reason"])

    # Re-enable the feed disabled by 410; it answers again now.
    server.route("/gone.xml", body=FEED, headers=RSS_TYPE)
    at.selectbox(key="_manage-feed").set_value(gone).run()
    click(at, "Re-enable and fetch")
    row = table(at).loc[gone]
    assert row["status"] == "ok" and row["articles"] == 2
    assert "enabled" in texts(at, "success")

    # Retry the feed in backoff; it answers again now.
    server.route("/broken.xml", body=FEED, headers=RSS_TYPE)
    at.selectbox(key="_manage-feed").set_value(broken).run()
    click(at, "Retry now")
    assert table(at).loc[broken, "status"] == "ok"

    # Remove: only after the confirmation is ticked.
    at.selectbox(key="_manage-feed").set_value(stays).run()
    assert next(b for b in at.button if b.label == "Remove feed").disabled
    at.checkbox(key="_confirm-remove").check().run()
    click(at, "Remove feed")
    assert set(table(at).index) == {gone, broken}
    assert urls(DuckDBStore(db)) == {gone, broken}
    assert "removed" in texts(at, "success")
