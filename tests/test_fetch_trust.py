"""What the fetcher is handed and what it may reach, against a real server on 127.0.0.1.

- Feed state travels from the store to the fetcher as typed records (None for missing),
  so a feed without validators is fetched like any other, run after run.
- A change made on the web page never widens what a feed may reach: article pages of a feed
  whose full text was switched on from the web are vetted like web-added feed URLs.
"""

from __future__ import annotations

from typing import Any

import pytest
from feedgen import Item, rss
from httpserver import Reply, Request, TestServer

from monitor import ingest, subscriptions
from monitor.fetch import FetchSettings
from monitor.models import FeedState
from monitor.store import DuckDBStore

FAST = FetchSettings(connect_timeout=2.0, total_timeout=5.0)
STAMP = "Wed, 18 Nov 2026 10:00:00 GMT"


def _validating(etag: str | None, last_modified: str | None) -> Any:
    """A handler that gives these validators (or none) and answers 304 when they come back."""
    body = rss([Item("Eins", link="https://v.example/1"), Item("Zwei", link="https://v.example/2")])

    def handler(request: Request) -> Reply:
        if etag and request.header("if-none-match") == etag:
            return Reply(304)
        if last_modified and request.header("if-modified-since") == last_modified:
            return Reply(304)
        headers = {"Content-Type": "application/rss+xml"}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        return Reply(200, body, headers)

    return handler


# Path -> validators the server gives. Most real servers send neither header.
VALIDATORS: dict[str, tuple[str | None, str | None]] = {
    "/none.xml": (None, None),
    "/etag.xml": ('"v1"', None),
    "/lm.xml": (None, STAMP),
    "/both.xml": ('"b7"', STAMP),
    "/none-2.xml": (None, None),
}


def test_feeds_with_and_without_validators_fetch_three_times(
    store: DuckDBStore, server: TestServer
) -> None:
    for path, (etag, last_modified) in VALIDATORS.items():
        server.route(path, handler=_validating(etag, last_modified))
    # Mixed in one store: pandas would turn the missing validators of some rows into NaN.
    subscriptions.add_feeds(store, [server.url(p) for p in VALIDATORS])
    for run in (1, 2, 3):
        reports = ingest.fetch_feeds(store, settings=FAST, all_feeds=True)
        assert len(reports) == len(VALIDATORS)
        assert [r for r in reports if r.failed] == [], f"run {run}"
        for report in reports:
            path = "/" + report.source.rsplit("/", 1)[1]
            etag, last_modified = VALIDATORS[path]
            expected = (
                "stored" if run == 1 else ("not-modified" if etag or last_modified else "unchanged")
            )
            assert report.status == expected, (run, path)
    for path, (etag, last_modified) in VALIDATORS.items():
        requests = server.requests_for(path)
        assert len(requests) == 3, path
        assert requests[0].header("if-none-match") is None
        assert requests[0].header("if-modified-since") is None
        for later in requests[1:]:
            assert later.header("if-none-match") == etag, path
            assert later.header("if-modified-since") == last_modified, path
        state = store.feed_state(server.url(path))
        assert state is not None
        assert state["error_count"] == 0 and state["last_error"] is None, path


def test_due_feeds_are_typed_records_with_none_for_missing(
    store: DuckDBStore, server: TestServer
) -> None:
    server.route("/etag.xml", handler=_validating('"v1"', None))
    server.route("/none.xml", handler=_validating(None, None))
    subscriptions.add_feeds(store, [server.url("/etag.xml"), server.url("/none.xml")])
    ingest.fetch_feeds(store, settings=FAST, all_feeds=True)
    due = store.due_feeds(ingest._now(), all_feeds=True)
    assert [type(f) for f in due] == [FeedState, FeedState]
    by_url = {f.url: f for f in due}
    with_etag, without = by_url[server.url("/etag.xml")], by_url[server.url("/none.xml")]
    assert (with_etag.etag, with_etag.last_modified) == ('"v1"', None)
    assert (without.etag, without.last_modified) == (None, None)
    assert without.error_count == 0 and isinstance(without.body_hash, str)
    assert without.full_text is False and without.restricted is False


@pytest.mark.parametrize("value", [float("nan"), 3, b'"bytes"'])
def test_a_validator_that_is_not_text_is_never_sent(server: TestServer, value: Any) -> None:
    # The header code itself refuses anything but clean text, whatever a caller hands it.
    from monitor.fetch import fetch_one
    from monitor.models import FetchRequest

    server.route("/feed.xml", body=b"<rss/>")
    result = fetch_one(FetchRequest(server.url("/feed.xml"), value, value), FAST)
    assert result.error is None and result.status == 200
    request = server.requests_for("/feed.xml")[0]
    assert request.header("if-none-match") is None
    assert request.header("if-modified-since") is None


# -- a change made on the web page never widens what a feed may reach ------------------------

PAGE = "<html><body><article><p>Interne Seite mit vertraulichem Inhalt.</p></article></body></html>"


@pytest.fixture
def web_check(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The web page's URL check, told that these feed URLs are public (everything on the test
    server is on 127.0.0.1); every other URL gets the real check. Fetching is never faked."""
    from monitor import fetch as fetching

    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_NETWORKS", raising=False)
    public: set[str] = set()
    real = fetching.check_public_url

    def check(url: str) -> str | None:
        return None if url in public else real(url)

    monkeypatch.setattr(fetching, "check_public_url", check)
    return public


def _operator_feed(store: DuckDBStore, server: TestServer, **options: Any) -> str:
    """A feed the operator added on the command line whose article links point into the
    private network (here: 127.0.0.1)."""
    server.route(
        "/feed.xml",
        body=rss([Item("Intern", link=server.url("/intranet/1"), body="Nur der Anriss.")]),
        headers={"Content-Type": "application/rss+xml"},
    )
    server.route("/intranet/1", body=PAGE, headers={"Content-Type": "text/html"})
    url = server.url("/feed.xml")
    subscriptions.add_feeds(store, [url], **options)
    return url


def _page_errors(store: DuckDBStore) -> list[str | None]:
    with store.read() as con:
        return [r[0] for r in con.execute("SELECT fulltext_error FROM articles").fetchall()]


def test_full_text_switched_on_from_the_web_fetches_vetted_pages_only(
    store: DuckDBStore, server: TestServer, web_check: set[str]
) -> None:
    url = _operator_feed(store, server)
    web_check.add(url)  # the feed's own address passes the web page's check
    lines = subscriptions.add_feeds(store, [url], full_text=True, from_web=True)
    assert lines == [f"already subscribed: {url}"]
    reports = ingest.fetch_feeds(store, settings=FAST, all_feeds=True)
    assert [r.status for r in reports] == ["stored"]  # the operator's feed itself is fetched
    assert server.requests_for("/intranet/1") == []  # its private page never is
    assert _page_errors(store) == ["article page: refused: 127.0.0.1, a loopback address"]


def test_full_text_the_operator_switched_on_stays_as_it_was(
    store: DuckDBStore, server: TestServer, web_check: set[str]
) -> None:
    url = _operator_feed(store, server, full_text=True)
    web_check.add(url)
    subscriptions.add_feeds(store, [url], full_text=True, from_web=True)  # changes nothing
    ingest.fetch_feeds(store, settings=FAST, all_feeds=True)
    assert len(server.requests_for("/intranet/1")) == 1
    assert _page_errors(store) == [None]


def test_the_operator_switching_full_text_on_lifts_the_vetting_of_pages(
    store: DuckDBStore, server: TestServer, web_check: set[str]
) -> None:
    url = _operator_feed(store, server)
    web_check.add(url)
    subscriptions.add_feeds(store, [url], full_text=True, from_web=True)
    subscriptions.add_feeds(store, [url], full_text=True)  # `monitor feeds add URL --full-text`
    ingest.fetch_feeds(store, settings=FAST, all_feeds=True)
    assert len(server.requests_for("/intranet/1")) == 1 and _page_errors(store) == [None]


def test_subscribing_from_the_web_a_feed_nobody_subscribed_restricts_it(
    store: DuckDBStore, server: TestServer, web_check: set[str]
) -> None:
    server.route("/once.xml", body=rss([Item("Einmal", link="https://o.example/1")]))
    url = server.url("/once.xml")
    ingest.ingest_sources(store, [url])  # `monitor ingest URL`: known, not subscribed
    web_check.add(url)
    assert subscriptions.add_feeds(store, [url], from_web=True) == [f"already subscribed: {url}"]
    reports = ingest.fetch_feeds(store, settings=FAST, all_feeds=True)
    assert [r.error for r in reports] == ["refused: 127.0.0.1, a loopback address"]
    assert len(server.requests_for("/once.xml")) == 1  # only the operator's own ingest


def test_the_web_cannot_touch_an_operator_feed_on_a_private_address(
    store: DuckDBStore, server: TestServer, web_check: set[str]
) -> None:
    url = _operator_feed(store, server)
    with pytest.raises(ValueError, match="loopback"):
        subscriptions.add_feeds(store, [url], full_text=True, from_web=True)
    state = store.feed_state(url)
    assert state is not None and state["full_text"] is False


def test_opml_export_with_a_named_and_an_unnamed_feed(store: DuckDBStore) -> None:
    # The same defect outside fetching: feed rows went through a DataFrame, the missing name
    # beside a given one became NaN, and the OPML writer failed ("cannot serialize nan").
    subscriptions.add_feeds(store, ["https://a.example/feed"], name="Erste Zeitung")
    subscriptions.add_feeds(store, ["https://b.example/feed"])
    document = subscriptions.export_opml(store).decode()
    assert 'text="Erste Zeitung" xmlUrl="https://a.example/feed" title="Erste Zeitung"' in document
    assert (
        '<outline type="rss" text="https://b.example/feed" xmlUrl="https://b.example/feed" />'
        in document
    )
    assert "nan" not in document.lower()  # no NaN written as a title


def test_a_store_from_before_page_vetting_migrates_with_its_feeds(tmp_path: Any) -> None:
    from monitor.store.duckdb import raw_connection

    path = tmp_path / "v3.duckdb"
    subscriptions.add_feeds(DuckDBStore(path), ["https://a.example/feed"], full_text=True)
    con = raw_connection(path)  # back to schema 3: no pages_restricted column
    con.execute("ALTER TABLE feeds DROP COLUMN pages_restricted")
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    (feed,) = DuckDBStore(path).due_feeds(ingest._now(), all_feeds=True)
    assert (feed.url, feed.full_text, feed.pages_restricted) == (
        "https://a.example/feed",
        True,
        False,
    )
