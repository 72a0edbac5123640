"""Ctrl-C and SIGTERM stop `monitor fetch --every` wherever it is, with committed data intact.

Each test runs the real command in its own process against a real server on 127.0.0.1 and
sends the signal at one moment: while it sleeps between runs, while a server keeps it waiting,
while a DuckDB statement runs inside a feed's transaction, while article pages are fetched.
The process must exit (we wait up to 30 s, then take a stack dump and fail: a hang, not a
slow stop) with 130 after SIGINT and 143 after SIGTERM, one line on standard error, and a
store that opens and holds exactly what was committed.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from feedgen import Item, rss
from httpserver import Reply, Request, TestServer

from monitor import analyze, ingest, subscriptions
from monitor.models import Filters
from monitor.store import DuckDBStore

pytestmark = pytest.mark.slow

SIGNALS = [pytest.param(signal.SIGINT, 130, id="SIGINT"),
           pytest.param(signal.SIGTERM, 143, id="SIGTERM")]  # fmt: skip
EXIT_WAIT = 30.0  # generous: a stop takes well under a second; this only catches a hang
FEED = rss([Item("Eins", link="https://e.example/1", author="Anna Berg")])
RSS = {"Content-Type": "application/rss+xml"}


class Fetcher:
    """`monitor fetch` in its own process; its output is read as it comes."""

    def __init__(self, db: Path, *args: str, prelude: str = "") -> None:
        code = prelude + "\nfrom monitor.cli import main\nmain()\n"
        self.process = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-c", code, "--db", str(db), "fetch", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, is_out: bool) -> None:
        for line in stream:  # type: ignore[attr-defined]
            (self.out if is_out else self.err).append(line.rstrip("\n"))
            if is_out:
                self._lines.put(line.rstrip("\n"))
        if is_out:
            self._lines.put(None)

    def wait_for_line(self, wanted: Callable[[str], bool], timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no such line in time; stderr: {self.err}") from None
            if line is None:
                raise AssertionError(f"the fetcher ended: {self.out} {self.err}")
            if wanted(line):
                return line

    def runs(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out if line.startswith("{")]

    def stop(self, signum: int) -> int:
        """Send `signum`; the exit code once the process ended (fail if it hangs)."""
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            self.process.wait(timeout=30)
            for reader in self._readers:
                reader.join(timeout=5)
            raise AssertionError(
                f"fetch did not stop on {signal.Signals(signum).name}:\n" + "\n".join(self.err)
            ) from None
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def fetchers() -> Iterator[list[Fetcher]]:
    started: list[Fetcher] = []
    yield started
    for fetcher in started:
        fetcher.close()


def _assert_stopped_cleanly(fetcher: Fetcher, code: int, expected: int) -> None:
    assert code == expected, fetcher.err
    text = "\n".join(fetcher.err)
    assert "Traceback" not in text and "internal error" not in text, text
    stopped = [line for line in fetcher.err if "stopped" in line]
    assert len(stopped) == 1 and stopped[0].startswith("monitor: stopped by"), fetcher.err


def _state(store: DuckDBStore, url: str) -> dict[str, object]:
    row = store.feed_state(url)
    assert row is not None
    return row


def _articles(db: Path) -> int:
    return int(analyze.stats(DuckDBStore(db), Filters())["articles"])


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "expected"), SIGNALS)
def test_stop_while_sleeping_between_runs(
    tmp_path: Path, server: TestServer, fetchers: list[Fetcher], signum: int, expected: int
) -> None:
    server.route("/feed.xml", body=FEED, headers=RSS)
    db = tmp_path / "sleep.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/feed.xml")])
    fetcher = Fetcher(db, "--every", "1h", "--json")
    fetchers.append(fetcher)
    fetcher.wait_for_line(lambda line: line.startswith("{"))  # run 1 done: now it sleeps
    _assert_stopped_cleanly(fetcher, fetcher.stop(signum), expected)
    assert _articles(db) == 1
    assert _state(DuckDBStore(db), server.url("/feed.xml"))["error_count"] == 0


@pytest.mark.parametrize(("signum", "expected"), SIGNALS)
def test_stop_while_a_server_keeps_it_waiting(
    tmp_path: Path, server: TestServer, fetchers: list[Fetcher], signum: int, expected: int
) -> None:
    server.route("/fast.xml", body=FEED, headers=RSS)
    server.route("/slow.xml", body=FEED, headers=RSS, delay=600)  # answers when the test ends
    db = tmp_path / "waiting.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/fast.xml"), server.url("/slow.xml")])
    fetcher = Fetcher(db, "--every", "1h", "--timeout", "600")
    fetchers.append(fetcher)
    # The fast feed is committed, and the file let go while the slow one is awaited.
    _wait_until(lambda: bool(server.requests_for("/slow.xml")), "the slow request")
    _wait_until(lambda: _articles(db) == 1, "the fast feed to be stored")
    _assert_stopped_cleanly(fetcher, fetcher.stop(signum), expected)
    assert _articles(db) == 1
    slow = _state(DuckDBStore(db), server.url("/slow.xml"))
    assert slow["error_count"] == 0 and slow["last_fetch_at"] is None  # not taken for an error
    assert fetcher.runs() == []  # the run was cut short: no summary claims it finished


# Runs inside the fetching process: on the second feed document it stores, after the rows are
# written and before the commit, a DuckDB statement that would take the best part of an hour.
SLOW_STATEMENT = """
from monitor.store.duckdb import write
_save = write.save_many
_calls = []
def save_many(con, *args, **kwargs):
    counts = _save(con, *args, **kwargs)
    _calls.append(1)
    if len(_calls) == 2:
        print("statement running", flush=True)
        con.execute("SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3").fetchall()
    return counts
write.save_many = save_many
"""


@pytest.mark.parametrize(("signum", "expected"), SIGNALS)
def test_stop_while_a_duckdb_statement_runs(
    tmp_path: Path, server: TestServer, fetchers: list[Fetcher], signum: int, expected: int
) -> None:
    calls: list[int] = []

    def growing(_: Request) -> Reply:  # one more entry per request: every run stores
        calls.append(1)
        items = [Item(f"Meldung {n}", link=f"https://g.example/{n}") for n in range(len(calls))]
        return Reply(200, rss(items), RSS)

    server.route("/grow.xml", handler=growing)
    db = tmp_path / "statement.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/grow.xml")])
    fetcher = Fetcher(db, "--every", "1s", "--json", prelude=SLOW_STATEMENT)
    fetchers.append(fetcher)
    fetcher.wait_for_line(lambda line: line == "statement running")
    time.sleep(0.5)  # let it get into the statement (were it still before, it stops there)
    _assert_stopped_cleanly(fetcher, fetcher.stop(signum), expected)
    assert [(run["sources"], run["new"]) for run in fetcher.runs()] == [(1, 1)]
    # Run 2's rows were written inside the interrupted transaction: rolled back, all of them.
    assert _articles(db) == 1
    state = _state(DuckDBStore(db), server.url("/grow.xml"))
    assert state["error_count"] == 0 and state["last_error"] is None


PAGE = "<html><body><article><p>Der ganze Text.</p></article></body></html>"


def test_stop_while_article_pages_are_fetched(
    tmp_path: Path, server: TestServer, fetchers: list[Fetcher]
) -> None:
    server.route("/ft.xml", body=rss([Item("Anriss", link=server.url("/post/1"))]), headers=RSS)
    server.route("/post/1", body=PAGE, headers={"Content-Type": "text/html"}, delay=600)
    db = tmp_path / "pages.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/ft.xml")], full_text=True)
    fetcher = Fetcher(db, "--every", "1h", "--timeout", "600")
    fetchers.append(fetcher)
    _wait_until(lambda: bool(server.requests_for("/post/1")), "the page request")
    _assert_stopped_cleanly(fetcher, fetcher.stop(signal.SIGTERM), 143)
    # The feed is written after its pages: nothing of it is stored, nothing counted as error.
    assert _articles(db) == 0
    state = _state(DuckDBStore(db), server.url("/ft.xml"))
    assert state["error_count"] == 0 and state["last_fetch_at"] is None


def test_fetch_every_runs_until_interrupted(
    tmp_path: Path, server: TestServer, fetchers: list[Fetcher]
) -> None:
    server.route("/feed.xml", body=FEED, headers=RSS)
    db = tmp_path / "every.duckdb"
    subscriptions.add_feeds(DuckDBStore(db), [server.url("/feed.xml")])
    fetcher = Fetcher(db, "--every", "1s", "--json")
    fetchers.append(fetcher)
    # Two finished runs, read from its output: not guessed from the server's request count,
    # which runs ahead of what the process has committed and printed.
    for _ in range(2):
        fetcher.wait_for_line(lambda line: line.startswith("{"))
    _assert_stopped_cleanly(fetcher, fetcher.stop(signal.SIGINT), 130)
    runs = fetcher.runs()
    assert len(runs) >= 2 and runs[0]["new"] == 1
    # Every run fetches the feed: it is due one interval after the run that read it began.
    assert all(run["sources"] == 1 and run["failed"] == 0 for run in runs), runs
    assert all(run["new"] == 0 for run in runs[1:]), runs
    assert _articles(db) == 1
    assert _state(DuckDBStore(db), server.url("/feed.xml"))["error_count"] == 0


# -- monitor ingest ---------------------------------------------------------------------------

INGEST_FILES = 240
INGEST_ITEMS = 25  # articles per file, each with tags and terms


def _ingest_folder(folder: Path) -> Path:
    """INGEST_FILES feed files (10 MB), German and English, INGEST_ITEMS articles each."""
    folder.mkdir()
    for f in range(INGEST_FILES):
        german = f % 2 == 0
        body = (
            "Der Landtag streitet über Schulen, Straßen und das Wasser der Stadt. " * 24
            if german
            else "The assembly argues about schools, roads and the city's water. " * 24
        )
        items = [
            Item(
                f"{'Meldung' if german else 'Report'} {f}-{n}",
                link=f"https://i{f}.example/{n}",
                body=body,
                categories=("Politik" if german else "Politics",),
            )
            for n in range(INGEST_ITEMS)
        ]
        (folder / f"feed-{f:03d}.xml").write_bytes(
            rss(items, title=f"Feed {f}", language="de" if german else "en")
        )
    return folder


def _ingest(db: Path, folder: Path) -> subprocess.Popen[str]:
    # A session of its own: the test sends Ctrl-C to the process group, as a terminal does
    # (the parse workers get it too).
    return subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", "from monitor.cli import main; main()",
         "--db", str(db), "ingest", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def _assert_whole_feeds(db: Path) -> int:
    """Every stored feed has all its articles, each with its tags, terms and feed link, and
    the per-day terms match the terms; the number of feeds stored."""
    store = DuckDBStore(db, read_only=True)
    with store.read() as con:
        per_feed = con.execute(
            "SELECT f.url, count(af.article_id) FROM feeds f "
            "LEFT JOIN article_feeds af ON af.feed_id = f.id GROUP BY f.url"
        ).fetchall()
        half = con.execute(
            "SELECT count(*) FROM articles a "
            "WHERE NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id) "
            "OR NOT EXISTS (SELECT 1 FROM article_terms t WHERE t.article_id = a.id) "
            "OR NOT EXISTS (SELECT 1 FROM article_feeds f WHERE f.article_id = a.id)"
        ).fetchone()
        rollup = set(con.execute("SELECT * FROM term_daily").fetchall())
        summed = set(
            con.execute(
                "SELECT CAST(t.published AS DATE), coalesce(a.language, ''), t.term, "
                "sum(t.n), count(*) FROM article_terms t JOIN articles a "
                "ON a.id = t.article_id GROUP BY 1, 2, 3"
            ).fetchall()
        )
    assert half == (0,), half
    assert all(n == INGEST_ITEMS for _, n in per_feed), per_feed  # whole, or not there
    assert rollup == summed
    assert _articles(db) == INGEST_ITEMS * len(per_feed)
    return len(per_feed)


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c-to-the-group", "kill-int"])
def test_ingest_stopped_by_sigint_keeps_whole_feeds_and_a_second_run_completes_it(
    tmp_path: Path, group: bool
) -> None:
    folder = _ingest_folder(tmp_path / "feeds")
    # Enough bytes for parse workers: Ctrl-C reaches them too, and they must not speak.
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert ingest.parse_workers(INGEST_FILES, size) > 0
    db = tmp_path / "ingest.duckdb"
    process = _ingest(db, folder)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the first group is committed: it is mid-run now
        assert ": stored: " in first, first
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            out, err = process.communicate(timeout=30)
            raise AssertionError(f"ingest did not stop on SIGINT:\n{err}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.strip().splitlines() == [
        "monitor: stopped by SIGINT (Ctrl-C); everything stored until then is kept (a feed "
        "it was writing is rolled back and ingested again next time)"
    ], err
    assert "sources," not in out  # no summary claims the run finished
    stored = _assert_whole_feeds(db)
    assert 0 < stored < INGEST_FILES, stored  # it was stopped in the middle
    # The same command again stores the rest and leaves what was stored as it is.
    again = subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()",
         "--db", str(db), "ingest", str(folder)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert sum(": unchanged: " in line for line in lines) == stored, lines[:5]
    assert lines[-1].startswith(f"{INGEST_FILES} sources, 0 failed"), lines[-1]
    assert _assert_whole_feeds(db) == INGEST_FILES
