"""`monitor fetch --shard K/N`: N fetch workers share the feeds, each feed fetched once.

Four workers run at once against one store and a real HTTP server on 127.0.0.1, which counts
the requests per feed: every feed is asked for exactly once between them. The store is named
by a location (`open_store`), so the same test runs on every engine: the `location` fixture
gives a DuckDB file and a chDB directory. Workers are threads of one process on both engines,
and processes on DuckDB too (chDB opens a directory in one process only).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedgen import Item, rss
from httpserver import TestServer

from monitor import ingest, subscriptions
from monitor.cli import cli
from monitor.fetch import FetchSettings
from monitor.models import Filters
from monitor.store import open_store
from monitor.store.base import Storage

FAST = FetchSettings(connect_timeout=2.0, total_timeout=5.0, max_bytes=2_000_000)
FEEDS = 22  # not a multiple of 4: the shards are uneven, as real ones are
SHARDS = 4
RSS = {"Content-Type": "application/rss+xml"}


def _close(store: Storage) -> None:
    close: Callable[[], None] | None = getattr(store, "close", None)  # chDB must let go
    if close is not None:
        close()


@pytest.fixture(params=["duckdb", "chdb"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the shared store lives: a DuckDB file, or a chDB directory (once the ClickHouse
    engine is there)."""
    if request.param == "duckdb":
        return str(tmp_path / "shards.duckdb")
    if importlib.util.find_spec("monitor.store.clickhouse") is None:
        pytest.skip("the ClickHouse engine (monitor.store.clickhouse) is not in this tree")
    pytest.importorskip("chdb")
    return f"chdb://{tmp_path / 'shards-chdb'}"


@pytest.fixture
def feeds(location: str, server: TestServer) -> Iterator[dict[str, str]]:
    """FEEDS subscribed feeds, each with one article of its own: URL -> path."""
    paths = {}
    for n in range(FEEDS):
        path = f"/feed/{n}.xml"
        body = rss([Item(f"Meldung {n}", link=f"https://s.example/{n}")])
        server.route(path, body=body, headers=RSS)
        paths[server.url(path)] = path
    store = open_store(location)
    try:
        subscriptions.add_feeds(store, list(paths))
    finally:
        _close(store)
    yield paths


def _assert_each_fetched_once(server: TestServer, feeds: dict[str, str], location: str) -> None:
    counts = {path: len(server.requests_for(path)) for path in feeds.values()}
    assert counts == dict.fromkeys(feeds.values(), 1), counts
    store = open_store(location)
    try:
        assert store.stats(Filters())["articles"] == FEEDS
        ids = {f.url: f.id for f in store.due_feeds(ingest._now(), all_feeds=True)}
    finally:
        _close(store)
    assert set(ids) == set(feeds)
    # Every shard had work: the ids spread over all residues (the test would prove little
    # if one worker fetched everything).
    assert {fid % SHARDS for fid in ids.values()} == set(range(SHARDS))


def test_four_shard_threads_fetch_every_feed_once(
    location: str, server: TestServer, feeds: dict[str, str]
) -> None:
    """Threads, each with its own store object (how several workers share one chDB, and
    several fetch workers in one process share a DuckDB file: their writes take turns)."""
    reports: dict[int, list[ingest.SourceReport]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(SHARDS)

    def worker(k: int) -> None:
        store = open_store(location)
        try:
            start.wait()
            reports[k] = ingest.fetch_feeds(store, settings=FAST, shard=(k, SHARDS))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            _close(store)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, SHARDS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not [t for t in threads if t.is_alive()]
    fetched = [r.source for k in reports for r in reports[k]]
    assert sorted(fetched) == sorted(feeds)  # between them all, none twice
    failed = [r.line() for k in reports for r in reports[k] if r.status != "stored"]
    assert not failed, failed
    _assert_each_fetched_once(server, feeds, location)
    # Once fetched, nothing is due for any shard.
    again = open_store(location)
    try:
        for k in range(1, SHARDS + 1):
            assert ingest.fetch_feeds(again, settings=FAST, shard=(k, SHARDS)) == []
    finally:
        _close(again)


def test_a_shard_takes_the_feeds_whose_id_leaves_its_remainder(
    location: str, server: TestServer, feeds: dict[str, str]
) -> None:
    store = open_store(location)
    try:
        ids = {f.url: f.id for f in store.due_feeds(ingest._now(), all_feeds=True)}
        reports = ingest.fetch_feeds(store, settings=FAST, shard=(3, SHARDS))
    finally:
        _close(store)
    assert sorted(r.source for r in reports) == sorted(u for u, i in ids.items() if i % 4 == 2)
    assert all(len(server.requests_for(feeds[u])) == (ids[u] % 4 == 2) for u in feeds)


def test_four_shard_processes_fetch_every_feed_once(
    location: str, server: TestServer, feeds: dict[str, str]
) -> None:
    """`monitor fetch --shard K/4` in four processes at once (DuckDB: one writer at a time;
    each waits its turn for the file)."""
    if "://" in location:
        pytest.skip("chDB opens a directory in one process only")
    code = "from monitor.cli import main; main()"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                "--db",
                location,
                "fetch",
                "--shard",
                f"{k}/{SHARDS}",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for k in range(1, SHARDS + 1)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * SHARDS, outputs
    _assert_each_fetched_once(server, feeds, location)


@pytest.mark.parametrize(
    ("shard", "reason"),
    [
        ("0/4", "K runs from 1 to 4"),
        ("5/4", "K runs from 1 to 4"),
        ("x", "use K/N"),
        ("2/0", "at least 1"),
        ("-1/4", "use K/N"),
    ],
)
def test_a_shard_that_cannot_be_is_refused_in_one_line(
    tmp_path: Path, shard: str, reason: str
) -> None:
    db = tmp_path / "refused.duckdb"
    result = CliRunner().invoke(cli, ["--db", str(db), "fetch", "--shard", shard])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("monitor: --shard") and reason in line and shard in line, line
    assert not db.exists()  # refused before the store was touched
