"""`monitor fetch` end to end against a real HTTP server on 127.0.0.1: conditional GET,
permanent redirects, 410, backoff with Retry-After, full-text pages, hostile responses."""

from __future__ import annotations

import gzip
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from feedgen import Item, rss
from httpserver import Reply, Request, TestServer

from monitor import analyze, ingest, subscriptions
from monitor.fetch import FetchSettings
from monitor.models import Filters
from monitor.store import DuckDBStore

FAST = FetchSettings(connect_timeout=2.0, total_timeout=2.0, max_bytes=2_000_000)
FEED = rss(
    [
        Item("Erster Artikel", link="https://site.example/1", author="Anna Berg"),
        Item("Zweiter Artikel", link="https://site.example/2", author="Jonas Weber"),
    ]
)


def state(store: DuckDBStore, url: str) -> dict[str, Any]:
    row = store.feed_state(url)
    assert row is not None, url
    return row


def fetch(store: DuckDBStore, **kwargs: Any) -> list[ingest.SourceReport]:
    return ingest.fetch_feeds(store, settings=FAST, all_feeds=True, **kwargs)


def test_fetch_stores_then_304_costs_no_parse(store: DuckDBStore, server: TestServer) -> None:
    def handler(request: Request) -> Reply:
        if request.header("if-none-match") == '"v1"':
            return Reply(304)
        return Reply(200, FEED, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    server.route("/feed.xml", handler=handler)
    url = server.url("/feed.xml")
    subscriptions.add_feeds(store, [url])
    first = fetch(store)
    assert [r.status for r in first] == ["stored"] and first[0].counts.new == 2
    assert state(store, url)["etag"] == '"v1"'
    second = fetch(store)
    assert [r.status for r in second] == ["not-modified"]
    assert server.requests_for("/feed.xml")[1].header("if-none-match") == '"v1"'
    assert "monitor/" in (server.requests_for("/feed.xml")[0].header("user-agent") or "")
    assert state(store, url)["last_status"] == 304
    assert analyze.stats(store, Filters())["articles"] == 2


def test_last_modified_round_trip(store: DuckDBStore, server: TestServer) -> None:
    stamp = "Wed, 18 Nov 2026 10:00:00 GMT"

    def handler(request: Request) -> Reply:
        if request.header("if-modified-since") == stamp:
            return Reply(304)
        return Reply(200, FEED, {"Content-Type": "application/rss+xml", "Last-Modified": stamp})

    server.route("/lm.xml", handler=handler)
    subscriptions.add_feeds(store, [server.url("/lm.xml")])
    fetch(store)
    assert [r.status for r in fetch(store)] == ["not-modified"]


def test_permanent_redirect_updates_the_stored_url(store: DuckDBStore, server: TestServer) -> None:
    server.route("/old.xml", status=301, headers={"Location": server.url("/new.xml")})
    server.route("/new.xml", body=FEED, headers={"Content-Type": "application/rss+xml"})
    server.route("/temp.xml", status=302, headers={"Location": server.url("/new2.xml")})
    server.route("/new2.xml", body=FEED, headers={"Content-Type": "application/rss+xml"})
    subscriptions.add_feeds(store, [server.url("/old.xml"), server.url("/temp.xml")])
    fetch(store)
    urls = set(analyze.feeds(store)["url"])
    assert urls == {server.url("/new.xml"), server.url("/temp.xml")}


def test_gone_disables_the_feed_with_its_reason(store: DuckDBStore, server: TestServer) -> None:
    server.route("/gone.xml", status=410)
    subscriptions.add_feeds(store, [server.url("/gone.xml")])
    reports = fetch(store)
    assert reports[0].failed and "410" in (reports[0].error or "")
    row = state(store, server.url("/gone.xml"))
    assert row["disabled"] and "410" in row["disabled_reason"]
    assert fetch(store) == []  # a disabled feed is not fetched again...
    feeds = analyze.feeds(store)
    assert bool(feeds.loc[0, "disabled"])  # ...and it is still listed, with its reason


def test_errors_back_off_and_honour_retry_after(store: DuckDBStore, server: TestServer) -> None:
    server.route("/busy.xml", status=429, headers={"Retry-After": "7200"})
    server.route("/broken.xml", status=500)
    subscriptions.add_feeds(store, [server.url("/busy.xml"), server.url("/broken.xml")])
    before = datetime.now(UTC).replace(tzinfo=None)
    fetch(store)
    busy = state(store, server.url("/busy.xml"))
    broken = state(store, server.url("/broken.xml"))
    assert busy["error_count"] == 1 and "429" in busy["last_error"]
    assert busy["next_due_at"] >= before + timedelta(seconds=7190)
    assert broken["error_count"] == 1 and "500" in broken["last_error"]
    first_due = broken["next_due_at"]
    fetch(store)
    broken = state(store, server.url("/broken.xml"))
    assert broken["error_count"] == 2
    # Exponential: the second wait is longer than the first.
    assert broken["next_due_at"] - broken["last_fetch_at"] > first_due - before
    # Not due: a plain run skips both.
    assert ingest.fetch_feeds(store, settings=FAST) == []


def test_a_recovering_feed_resets_its_error_count(store: DuckDBStore, server: TestServer) -> None:
    calls = {"n": 0}

    def flaky(_: Request) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply(503, headers={"Retry-After": "1"})
        return Reply(200, FEED, {"Content-Type": "application/rss+xml"})

    server.route("/flaky.xml", handler=flaky)
    subscriptions.add_feeds(store, [server.url("/flaky.xml")])
    fetch(store)
    assert state(store, server.url("/flaky.xml"))["error_count"] == 1
    fetch(store)
    row = state(store, server.url("/flaky.xml"))
    assert row["error_count"] == 0 and row["last_error"] is None and row["last_status"] == 200


def test_hostile_responses_fail_alone(store: DuckDBStore, server: TestServer) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * 50_000_000)
    server.route(
        "/bomb.xml",
        body=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
    )
    server.route("/slow.xml", body=FEED, chunk_size=64, chunk_delay=0.5)
    server.route("/huge.xml", body=b"<rss>" + b"x" * 3_000_000)
    server.route(
        "/html.xml",
        body=b"<!doctype html><html><body>Hi</body></html>",
        headers={"Content-Type": "text/html"},
    )
    server.route("/good.xml", body=FEED, headers={"Content-Type": "text/plain"})
    names = ["bomb", "slow", "huge", "html", "good"]
    subscriptions.add_feeds(store, [server.url(f"/{n}.xml") for n in names])
    reports = {r.source.rsplit("/", 1)[1]: r for r in fetch(store)}
    assert reports["good.xml"].status == "stored"
    assert "larger than" in (reports["bomb.xml"].error or "")
    assert "larger than" in (reports["huge.xml"].error or "")
    assert "timed out" in (reports["slow.xml"].error or "")
    assert "not a feed" in (reports["html.xml"].error or "")
    for name in ("bomb", "slow", "huge", "html"):
        assert "\n" not in (reports[f"{name}.xml"].error or "")
        assert state(store, server.url(f"/{name}.xml"))["error_count"] == 1
    assert analyze.stats(store, Filters())["articles"] == 2


PAGE = """<!doctype html><html lang="de"><head><title>Frieden in Sicht?</title>
<meta name="author" content="Mira Schulz"></head><body><article>
<h1>Frieden in Sicht?</h1><p class="byline">Mira Schulz</p>
<p>Die Verhandlungen zwischen den Delegationen gingen am Abend weiter. Beobachter sprachen
von vorsichtigen Fortschritten, doch viele Fragen blieben offen. Die Außenminister wollen sich
in der kommenden Woche erneut treffen, um über Sicherheitsgarantien zu beraten.</p>
<h2>Was auf dem Spiel steht</h2>
<p>Für die Menschen in der Region geht es um viel: Waffenruhe, Wiederaufbau und die Rückkehr
der Geflüchteten. Experten warnen vor zu hohen Erwartungen an das Treffen in Genf.</p>
<p>#Trump #Putin #UkraineKonflikt #Friedensgespräche #Außenpolitik</p>
</article></body></html>"""


def test_full_text_fetches_each_new_page_once(store: DuckDBStore, server: TestServer) -> None:
    page_url = server.url("/post/frieden")
    excerpt = rss(
        [Item("Frieden in Sicht?", link=page_url, body="Die Verhandlungen …", author=None)]
    )
    server.route("/blog-feed.xml", body=excerpt, headers={"Content-Type": "application/xml"})
    server.route("/post/frieden", body=PAGE.encode(), headers={"Content-Type": "text/html"})
    subscriptions.add_feeds(store, [server.url("/blog-feed.xml")], full_text=True)
    fetch(store)
    row = next(iter(analyze.export_rows(store, Filters())))
    assert "Sicherheitsgarantien" in row["text"]
    assert {"Trump", "Putin", "UkraineKonflikt", "Friedensgespräche"} <= set(row["tags"])
    assert row["word_count"] > 50
    # A second run with the same feed: the page is not fetched again, nothing changes.
    fetch(store)
    assert len(server.requests_for("/post/frieden")) == 1
    assert analyze.stats(store, Filters())["articles"] == 1
    assert "Sicherheitsgarantien" in next(iter(analyze.export_rows(store, Filters())))["text"]


def test_a_failing_page_keeps_the_feed_text_and_says_why(
    store: DuckDBStore, server: TestServer
) -> None:
    excerpt = rss([Item("Kaputt", link=server.url("/post/missing"), body="Nur der Anriss.")])
    server.route("/ft.xml", body=excerpt, headers={"Content-Type": "application/rss+xml"})
    subscriptions.add_feeds(store, [server.url("/ft.xml")], full_text=True)
    reports = fetch(store)
    assert reports[0].status == "stored"
    with store.read() as con:
        text, reason = con.execute("SELECT text, fulltext_error FROM articles").fetchall()[0]
    assert text == "Nur der Anriss."
    assert "404" in reason


def test_web_added_feeds_may_not_reach_private_networks(
    store: DuckDBStore, server: TestServer, monkeypatch: Any
) -> None:
    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_NETWORKS", raising=False)
    import pytest

    with pytest.raises(ValueError, match="loopback"):
        subscriptions.add_feeds(store, [server.url("/feed.xml")], from_web=True)
    assert analyze.feeds(store).empty
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_NETWORKS", "1")
    assert subscriptions.add_feeds(store, [server.url("/feed.xml")], from_web=True)


def test_fetch_runs_while_another_thread_reads(store: DuckDBStore, server: TestServer) -> None:
    for n in range(12):
        server.route(
            f"/f{n}.xml",
            body=rss([Item(f"A{n}-{i}", link=f"https://s.example/{n}/{i}") for i in range(5)]),
            headers={"Content-Type": "application/rss+xml"},
        )
    subscriptions.add_feeds(store, [server.url(f"/f{n}.xml") for n in range(12)])
    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        other = DuckDBStore(store.path)
        while not stop.is_set():
            seen.append(analyze.stats(other, Filters())["articles"])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        reports = fetch(store)
    finally:
        stop.set()
        thread.join()
    assert all(r.status == "stored" for r in reports)
    assert analyze.stats(store, Filters())["articles"] == 60
    assert seen  # the reader got in while the fetch ran


def test_a_feed_is_due_again_one_interval_after_the_run_began(
    store: DuckDBStore, server: TestServer
) -> None:
    # `monitor fetch --every 15m` starts a run every 15 minutes: a feed stored a moment into
    # one run must be due at the start of the next, not skipped until the run after.
    server.route("/feed.xml", body=FEED, headers={"Content-Type": "application/rss+xml"})
    subscriptions.add_feeds(store, [server.url("/feed.xml")])
    interval = timedelta(minutes=15)
    began = datetime.now(UTC)
    first = ingest.fetch_feeds(store, settings=FAST, interval=interval, now=began)
    assert [r.status for r in first] == ["stored"]
    assert ingest.fetch_feeds(store, settings=FAST, interval=interval, now=began) == []
    second = ingest.fetch_feeds(store, settings=FAST, interval=interval, now=began + interval)
    assert [r.status for r in second] == ["unchanged"]
    assert len(server.requests_for("/feed.xml")) == 2
