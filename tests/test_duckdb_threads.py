"""One DuckDB file, several threads of one process: fetch workers and a dashboard at once.

DuckDB gives a process one database per file, so every store object of a process shares it;
its writes must take turns (two transactions writing at once fail one of them on commit, and
the tables without keys would take the same article twice), and a reader must see only whole
feeds: never a feed's articles without their tags and terms. Real files, real threads; the
writers also store the same story from several feeds and change entries they stored before
(both touch rows another writer may be changing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedgen import Item, rss

from monitor import ingest
from monitor.errors import StoreError
from monitor.models import Filters
from monitor.store import DuckDBStore

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
WRITERS = 4
ROUNDS = 6  # feeds per writer
ITEMS = 12  # articles per feed, each with tags and terms
SHARED = 3  # stories every feed carries (one article each, linked from every feed)

# Articles a reader must never see: stored, but without their tags, terms or feed link.
HALF_WRITTEN = """
    SELECT count(*) FROM articles a
    WHERE NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id)
       OR NOT EXISTS (SELECT 1 FROM article_terms t WHERE t.article_id = a.id)
       OR NOT EXISTS (SELECT 1 FROM article_feeds f WHERE f.article_id = a.id)
"""
ROLLUP_FROM_TERMS = """
    SELECT CAST(t.published AS DATE), coalesce(a.language, ''), t.term, sum(t.n), count(*)
    FROM article_terms t JOIN articles a ON a.id = t.article_id GROUP BY 1, 2, 3
"""


def _feed(writer: int, round_: int, *, edition: int = 1) -> bytes:
    """A German or English feed of ITEMS own stories and SHARED common ones; `edition` 2
    changes every text (an update of each stored entry)."""
    german = writer % 2 == 0
    body = (
        "Der Stadtrat berät über Wasser, Strom und den Haushalt der Gemeinde"
        if german
        else "The council debates water, power and the town's budget"
    )
    items = [
        Item(
            f"{'Meldung' if german else 'Report'} {writer}-{round_}-{n}",
            link=f"https://w{writer}.example/{round_}/{n}",
            date=f"Mon, 02 Nov 2026 {n % 24:02d}:00:00 +0000",
            body=f"{body} ({edition}. Fassung, Punkt {n}).",
            categories=("Politik" if german else "Politics", f"Thema {n % 3}"),
        )
        for n in range(ITEMS)
    ]
    items += [
        Item(
            f"Gemeinsame Geschichte {s}",
            link=f"https://shared.example/story/{s}",
            body=f"Eine Geschichte, die jede Quelle bringt, Nummer {s}, Fassung {edition}.",
            categories=("Überall",),
        )
        for s in range(SHARED)
    ]
    return rss(items, title=f"Feed {writer}-{round_}", language="de" if german else "en")


def _url(writer: int, round_: int) -> str:
    return f"https://w{writer}.example/feed/{round_}.xml"


def _run(threads: list[threading.Thread], errors: list[BaseException]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not [t for t in threads if t.is_alive()], "a thread hung"
    assert not errors, errors


def _writer(
    path: Path | Callable[[], DuckDBStore],
    k: int,
    start: threading.Barrier,
    errors: list[BaseException],
    failed: list[str],
) -> threading.Thread:
    """A thread that stores ROUNDS feeds, each twice (the second time changed), in one
    session, as `monitor fetch` does; its own store object unless given a shared one."""

    def work() -> None:
        try:
            store = path() if callable(path) else DuckDBStore(path)
            start.wait()
            with store.session():
                for r in range(ROUNDS):
                    for edition in (1, 2):
                        report = ingest.ingest_bytes(
                            store,
                            _feed(k, r, edition=edition),
                            source=_url(k, r),
                            feed_url=_url(k, r),
                            kind="http",
                            now=NOW,
                        )
                        if report.failed:
                            failed.append(report.line())
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    return threading.Thread(target=work, name=f"writer-{k}")


def _reader(
    store_for: Callable[[], DuckDBStore],
    done: threading.Event,
    errors: list[BaseException],
    seen: list[int],
) -> threading.Thread:
    """A dashboard-like thread: page after page (a session each) until the writers are
    done; every page must see whole feeds only."""

    def work() -> None:
        try:
            store = store_for()
            while True:
                finished = done.is_set()  # one more page after the writers are done
                with store.session():
                    with store.read() as con:
                        row = con.execute(HALF_WRITTEN).fetchone()
                    assert row is not None and row[0] == 0, f"{row[0]} half-written articles"
                    articles = store.stats(Filters())["articles"]
                    for batch in store.export_batches(Filters()):
                        assert all(batch["tags"]), "an article without its tags"
                seen.append(articles)
                if finished:
                    return
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    return threading.Thread(target=work, name="reader")


def _assert_whole(path: Path) -> None:
    store = DuckDBStore(path)
    expected = WRITERS * ROUNDS * ITEMS + SHARED
    assert store.stats(Filters())["articles"] == expected
    with store.read() as con:
        (twice,) = con.execute(
            "SELECT count(*) FROM (SELECT id FROM articles GROUP BY id HAVING count(*) > 1)"
        ).fetchone() or (None,)
        assert twice == 0, "an article stored twice"
        (feeds,) = con.execute("SELECT count(*) FROM feeds").fetchone() or (None,)
        assert feeds == WRITERS * ROUNDS
        (links,) = con.execute("SELECT count(*) FROM article_feeds").fetchone() or (None,)
        assert links == WRITERS * ROUNDS * (ITEMS + SHARED)
        # Every update reached the rollup: it equals the terms summed again.
        rollup = set(con.execute("SELECT * FROM term_daily").fetchall())
        assert rollup == set(con.execute(ROLLUP_FROM_TERMS).fetchall())
        (old,) = con.execute(
            "SELECT count(*) FROM articles WHERE text LIKE '%1. Fassung%' "
            "OR text LIKE '%Fassung 1.%'"
        ).fetchone() or (None,)
        assert old == 0, "an update was lost"


def test_writer_threads_with_their_own_stores_take_turns_and_a_reader_sees_whole_feeds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "threads.duckdb"
    DuckDBStore(path).ensure_schema()
    errors: list[BaseException] = []
    failed: list[str] = []
    seen: list[int] = []
    done = threading.Event()
    start = threading.Barrier(WRITERS + 1)
    writers = [_writer(path, k, start, errors, failed) for k in range(WRITERS)]
    reader = _reader(lambda: DuckDBStore(path, read_only=True), done, errors, seen)
    reader.start()
    for thread in writers:
        thread.start()
    start.wait()
    for thread in writers:
        thread.join(timeout=300)
    done.set()
    reader.join(timeout=300)
    assert not [t for t in [*writers, reader] if t.is_alive()], "a thread hung"
    assert not errors, errors
    assert not failed, failed
    # The reader read while the writers wrote (not only before or after them).
    # The reader read while the writers wrote, not only before or after them; articles are
    # only added, so each page saw at least what the one before it saw.
    assert any(0 < n < WRITERS * ROUNDS * ITEMS for n in seen), seen
    assert seen == sorted(seen), seen
    _assert_whole(path)


def test_a_new_file_is_created_once_by_threads_that_all_open_it(tmp_path: Path) -> None:
    """Every worker's first call migrates a new file; they take turns, and the later ones
    find it migrated instead of creating its tables again."""
    path = tmp_path / "new.duckdb"
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def work() -> None:
        try:
            store = DuckDBStore(path)
            start.wait()
            assert store.stats(Filters())["articles"] == 0
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    _run([threading.Thread(target=work) for _ in range(WRITERS)], errors)
    assert DuckDBStore(path).info().schema_version > 0


@pytest.mark.parametrize("readers", [1, 3])
def test_threads_sharing_one_store_object(tmp_path: Path, readers: int) -> None:
    """The dashboard keeps one store object for all its script threads: writers (a feed added
    from the web page) and readers share it, each thread with its own session."""
    path = tmp_path / "shared.duckdb"
    shared = DuckDBStore(path)
    shared.ensure_schema()
    errors: list[BaseException] = []
    failed: list[str] = []
    seen: list[int] = []
    done = threading.Event()
    start = threading.Barrier(WRITERS)
    writers = [_writer(lambda: shared, k, start, errors, failed) for k in range(WRITERS)]
    pages = [_reader(lambda: shared, done, errors, seen) for _ in range(readers)]
    for thread in [*pages, *writers]:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    done.set()
    for thread in pages:
        thread.join(timeout=300)
    assert not [t for t in [*writers, *pages] if t.is_alive()], "a thread hung"
    assert not errors, errors
    assert not failed, failed
    assert len(seen) > readers
    _assert_whole(path)


def test_a_reader_gets_in_while_a_writer_thread_holds_the_file(tmp_path: Path) -> None:
    """A fetch thread's session holds the file read-write between its writes; a dashboard
    thread's read joins that database at once instead of waiting for it to let go."""
    path = tmp_path / "held.duckdb"
    written, finish = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def fetcher() -> None:
        try:
            store = DuckDBStore(path)
            with store.session(hold=600):
                ingest.ingest_bytes(
                    store, _feed(0, 0), source=_url(0, 0), feed_url=_url(0, 0), now=NOW
                )
                written.set()
                finish.wait(60)  # still holding the read-write connection
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    thread = threading.Thread(target=fetcher)
    thread.start()
    try:
        assert written.wait(60)
        reader = DuckDBStore(path, read_only=True, lock_timeout=1)
        started = time.monotonic()
        assert reader.stats(Filters())["articles"] == ITEMS + SHARED
        assert time.monotonic() - started < 1
    finally:
        finish.set()
        thread.join(60)
    assert not errors, errors


def test_a_writer_waits_for_reader_threads_and_says_so(tmp_path: Path) -> None:
    """This process reads the file read-only (a page in progress): a write waits for it
    like for another process, and says which when it gives up."""
    path = tmp_path / "reading.duckdb"
    DuckDBStore(path).ensure_schema()
    reading, finish = threading.Event(), threading.Event()

    def page() -> None:
        store = DuckDBStore(path, read_only=True)
        with store.session():
            store.stats(Filters())
            reading.set()
            finish.wait(60)

    thread = threading.Thread(target=page)
    thread.start()
    try:
        assert reading.wait(60)
        writer = DuckDBStore(path, lock_timeout=0.5)
        with pytest.raises(StoreError, match="still locked by another thread of this process"):
            writer.add_feed("https://late.example/feed", now=NOW)
    finally:
        finish.set()
        thread.join(60)
    # The page is done: the write goes through.
    assert DuckDBStore(path).add_feed("https://late.example/feed", now=NOW)[1]
