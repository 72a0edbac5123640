"""The pipeline: sources -> bytes -> parse -> (article pages) -> store.

The refresh of a feed is a straight line (miniflux's shape): cache headers -> "modified?" ->
parse -> process entries -> store. A failure is recorded against its feed and the run goes on.
Network and parsing happen outside any store transaction. `fetch` writes each feed in one short
transaction; `ingest` writes parsed feeds in groups (one short transaction per group, each
feed whole or not at all), since DuckDB's cost is per statement and per commit. Either way a
killed run keeps everything it committed and a reader is never locked out long.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from monitor import fetch as fetching
from monitor.errors import one_line
from monitor.models import Article, FeedState, FetchRequest, FetchResult, ParsedFeed
from monitor.normalize import apply_page
from monitor.parse import parse_feed, parse_page
from monitor.store import Store, StoreError, query, write
from monitor.store.base import SaveCounts
from monitor.store.entries import noted

# Bump when parsing or normalising changes what gets stored: a feed whose bytes are unchanged
# is then processed again instead of being skipped as "unchanged".
PIPELINE_VERSION = "2"

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".feed")
# The fetcher's cap (FetchSettings.max_bytes): a file is bounded like a response, so the
# hostile-input bounds (time linear in size, at most 10 s and 500 MB) hold for both.
MAX_FILE_BYTES = 10_000_000
DEFAULT_INTERVAL = timedelta(minutes=15)


@dataclass(frozen=True)
class SourceReport:
    """One source's outcome in a run. `status`: stored, unchanged, not-modified or failed."""

    source: str
    feed_url: str
    status: str
    counts: SaveCounts = field(default_factory=SaveCounts)
    error: str | None = None
    warning: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """The one line the CLI prints for this source."""
        if self.failed:
            return f"{self.source}: failed: {self.error}"
        c = self.counts
        text = (
            f"{self.source}: {self.status}: {c.new} new, {c.updated} updated, "
            f"{c.unchanged} unchanged"
        )
        if c.linked:
            text += f", {c.linked} already stored from another feed"
        if c.merged:
            text += f", {c.merge_text()}"
        if self.warning:
            text += f" (warning: {self.warning})"
        return text


def summarize(reports: Iterable[SourceReport]) -> dict[str, int]:
    """Run totals: sources, failed sources, and articles new, updated, unchanged; entries
    merged into another of their feed (repeated in a document, or a stored entry under a new
    guid) and entries the store could not hold."""
    total = SaveCounts()
    sources = failed = 0
    for report in reports:
        sources += 1
        failed += report.failed
        total = total + report.counts
    return {
        "sources": sources,
        "failed": failed,
        "new": total.new,
        "updated": total.updated,
        "unchanged": total.unchanged,
        "linked": total.linked,
        "merged": total.merged,
        "merged_repeated": total.duplicates,
        "merged_new_guid": total.rekeyed,
        "not_stored": total.dropped,
    }


def body_hash(content: bytes) -> str:
    return hashlib.sha256(PIPELINE_VERSION.encode() + b"\0" + content).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


# -- one document ----------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A parsed document waiting to be stored: which feed, its bytes' hash, what it held."""

    source: str
    feed_url: str
    kind: str
    digest: str
    parsed: ParsedFeed


def store_parsed(
    store: Store,
    parsed: ParsedFeed,
    *,
    feed_url: str,
    kind: str,
    now: datetime,
    digest: str | None,
    subscribed: bool = False,
) -> SourceReport:
    """Write one parsed document and the feed's state in one transaction."""
    return _store_one(
        store, Parsed(parsed.source, feed_url, kind, digest or "", parsed), now, subscribed
    )


def _store_one(store: Store, item: Parsed, now: datetime, subscribed: bool) -> SourceReport:
    return store_many(store, [item], now=now, subscribed=subscribed)[0]


def store_group(
    store: Store, items: Sequence[Parsed], *, now: datetime, subscribed: bool = False
) -> list[SourceReport]:
    """`store_many`, and when the group fails, each document again in its own transaction:
    a store error is then the failure of the one feed that caused it, not of its group."""
    try:
        return store_many(store, items, now=now, subscribed=subscribed)
    except Exception:  # noqa: BLE001 - retried one by one below, each failure reported
        return [
            _guard(item.source, item.feed_url, partial(_store_one, store, item, now, subscribed))
            for item in items
        ]


def store_many(
    store: Store, items: Sequence[Parsed], *, now: datetime, subscribed: bool = False
) -> list[SourceReport]:
    """Write parsed documents of different feeds in one transaction, each feed whole or not
    at all, in a fixed number of statements: DuckDB charges per statement and per commit
    (about 2 ms each), which for a feed of 25 entries cost more than parsing it.

    A killed run loses at most this uncommitted group; its feeds' byte hashes are committed
    with their articles, so the next run reads them again. Raises on a store error (the
    caller then stores the group's documents one by one, to name the one that failed).
    """
    with store.write() as con:
        ids = write.ensure_feeds(
            con, [(item.feed_url, item.kind, subscribed) for item in items], now=now
        )
        counts = write.save_many(
            con,
            [(fid, item.parsed.articles) for fid, item in zip(ids, items, strict=True)],
            now=now,
        )
        parsed = [noted(item.parsed, c) for item, c in zip(items, counts, strict=True)]
        write.record_parses(
            con,
            [
                (fid, p, item.digest or None)
                for fid, p, item in zip(ids, parsed, items, strict=True)
            ],
        )
    return [
        SourceReport(
            item.source,
            item.feed_url,
            "stored" if c.new or c.updated or c.linked else "unchanged",
            c,
            warning=p.warning,
        )
        for item, p, c in zip(items, parsed, counts, strict=True)
    ]


def ingest_bytes(
    store: Store,
    content: bytes,
    *,
    source: str,
    feed_url: str,
    kind: str = "file",
    headers: dict[str, str] | None = None,
    now: datetime | None = None,
    known_hash: str | None = None,
    subscribed: bool = False,
) -> SourceReport:
    """Parse and store one feed document. Bytes identical to the last ones stored for this
    feed (`known_hash`) are not parsed again."""
    now = now or _now()
    digest = body_hash(content)
    if known_hash is not None and known_hash == digest:
        return SourceReport(source, feed_url, "unchanged")
    parsed = parse_feed(content, source=source, feed_url=feed_url, fetched_at=now, headers=headers)
    if parsed.error:
        return SourceReport(source, feed_url, "failed", error=parsed.error)
    return store_parsed(
        store, parsed, feed_url=feed_url, kind=kind, now=now, digest=digest, subscribed=subscribed
    )


# -- files and one-off URLs ------------------------------------------------------------


def expand_sources(items: Sequence[str]) -> list[str]:
    """Files stay, folders become the feed files below them (recursive, sorted), URLs stay."""
    out: list[str] = []
    for item in items:
        if item.startswith(("http://", "https://")):
            out.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            out.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in FEED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            out.append(item)
    return out


def read_feed_file(path: Path) -> bytes | str:
    """The file's bytes, or a one-line reason it cannot be read."""
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "is a directory"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if len(content) > MAX_FILE_BYTES:
        return f"file larger than {MAX_FILE_BYTES // 1_000_000} MB"
    return content


@dataclass(frozen=True)
class Document:
    """One feed document to ingest, or the reason it could not be read."""

    source: str  # as the user named it (path or URL)
    feed_url: str  # the feed's identity in the store
    kind: str  # "file", "http" or "demo"
    content: bytes | None = None
    headers: dict[str, str] | None = None
    error: str | None = None


def _parse_document(document: Document, now: datetime) -> ParsedFeed:
    """The CPU-heavy step (feedparser, normalising, tokenising); runs in a worker process."""
    return parse_feed(
        document.content or b"",
        source=document.source,
        feed_url=document.feed_url,
        fetched_at=now,
        headers=document.headers,
    )


# Parallel parsing pays from about this much feed text. Starting the worker processes costs
# 1-2 s on a busy 2-core machine (each imports feedparser and the rest): what one process
# takes to parse 3-5 MB. Decided by bytes, not documents: 60 feeds of 200 long articles
# are 70 MB of work in few documents, a folder of 150 tiny feeds is almost none.
PARALLEL_BYTES = 8_000_000
# When the size is not known, a document counts as a typical feed document's size.
TYPICAL_DOCUMENT_BYTES = 80_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_workers(documents: int, size: int | None = None) -> int:
    """Worker processes for parsing `documents` feed documents of `size` bytes in all.

    Parsing is pure Python and CPU-bound; storing is mostly DuckDB. With workers, parsing runs
    on every core while this process stores, in order. They are worth their start-up cost
    only for enough work (PARALLEL_BYTES), and a document is parsed by one process, so
    there are never more workers than documents (nor more than cores, nor more than 4).
    """
    cores = _cores()
    if cores < 2 or documents < 2:
        return 0
    work = size if size is not None else documents * TYPICAL_DOCUMENT_BYTES
    return min(cores, 4, documents) if work >= PARALLEL_BYTES else 0


def source_bytes(sources: Sequence[str], fetched: dict[str, FetchResult] | None = None) -> int:
    """How many bytes of feed text `sources` hold: fetched bodies and file sizes (a file
    that cannot be read counts nothing; it fails alone later)."""
    fetched = fetched or {}
    total = 0
    for source in sources:
        if source in fetched:
            total += len(fetched[source].content or b"")
            continue
        with suppress(OSError):
            total += min(os.stat(source).st_size, MAX_FILE_BYTES)
    return total


# A run stores parsed documents in groups of at most this many feeds or entries, or what
# parsed within this many seconds: one transaction per group, each feed whole or not at all.
GROUP_FEEDS = 100
GROUP_ENTRIES = 2_000
GROUP_SECONDS = 1.0


def ingest_documents(
    store: Store,
    documents: Iterable[Document],
    *,
    now: datetime | None = None,
    known: dict[str, str] | None = None,
    workers: int = 0,
    subscribed: bool = False,
    on_report: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """Parse (in `workers` processes, or here) and store documents.

    Parsed documents are stored in groups (`store_many`): one transaction per group, each
    feed whole or not at all, reported once its group is committed. Reports come back in the
    documents' order. A document whose bytes equal the last ones stored for its feed
    (`known`: feed URL -> body hash) is reported unchanged without parsing.
    """
    now = now or _now()
    known = known or {}
    pool: ProcessPoolExecutor | None = _pool(workers) if workers > 0 else None

    def submit(document: Document) -> Future[ParsedFeed]:
        nonlocal pool
        assert pool is not None
        try:
            return pool.submit(_parse_document, document, now)
        except BrokenProcessPool:  # a worker died earlier: later documents get a new pool
            pool.shutdown(cancel_futures=True)
            pool = _pool(workers)
            return pool.submit(_parse_document, document, now)

    pending: deque[tuple[Document, str, Future[ParsedFeed] | ParsedFeed | SourceReport]] = deque()
    reports: list[SourceReport] = []
    group: list[Parsed | SourceReport] = []  # in document order, parsed or already decided
    group_urls: set[str] = set()
    group_entries = 0
    group_started = 0.0

    def flush() -> None:
        nonlocal group_entries
        items = [g for g in group if isinstance(g, Parsed)]
        done = store_group(store, items, now=now, subscribed=subscribed) if items else []
        stored = iter(done)
        for g in group:
            report = next(stored) if isinstance(g, Parsed) else g
            reports.append(report)
            if on_report:
                on_report(report)
        group.clear()
        group_urls.clear()
        group_entries = 0

    def finish(document: Document, digest: str, job: Any) -> None:
        nonlocal group_entries, group_started
        if isinstance(job, SourceReport):
            group.append(job)
            return
        try:
            parsed = job.result() if isinstance(job, Future) else job
        except BrokenProcessPool:
            # A dying worker breaks every document the pool held, not only its own: each is
            # parsed again in a process of its own, so only one that kills it again fails.
            parsed = _parse_alone(document, now)
        except Exception as exc:  # noqa: BLE001 - a worker died: this source's failure
            parsed = ParsedFeed(
                document.source, "", "", None, None, (), error=one_line(exc, first=True)
            )
        if parsed.error:
            group.append(
                SourceReport(document.source, document.feed_url, "failed", error=parsed.error)
            )
            return
        if document.feed_url in group_urls:  # one feed twice in a run: store the first first
            flush()
        if not group_urls:
            group_started = time.monotonic()
        group.append(Parsed(document.source, document.feed_url, document.kind, digest, parsed))
        group_urls.add(document.feed_url)
        group_entries += len(parsed.articles)
        if (
            len(group_urls) >= GROUP_FEEDS
            or group_entries >= GROUP_ENTRIES
            or time.monotonic() - group_started >= GROUP_SECONDS
        ):
            flush()

    try:
        with store.holding():
            for document in documents:
                digest = ""
                job: Future[ParsedFeed] | ParsedFeed | SourceReport
                if document.error is not None or document.content is None:
                    job = SourceReport(
                        document.source,
                        document.feed_url,
                        "failed",
                        error=document.error or "no content",
                    )
                else:
                    digest = body_hash(document.content)
                    if known.get(document.feed_url) == digest:
                        job = SourceReport(document.source, document.feed_url, "unchanged")
                    elif pool is not None:
                        job = submit(document)
                    else:
                        job = _parse_document(document, now)
                pending.append((document, digest, job))
                # Bounded read-ahead: a folder of large files is never all in memory.
                while pending and (
                    len(pending) > 2 * max(workers, 1)
                    or not isinstance(pending[0][2], Future)
                    or pending[0][2].done()
                ):
                    finish(*pending.popleft())
            while pending:
                finish(*pending.popleft())
            flush()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return reports


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )


def _parse_alone(document: Document, now: datetime) -> ParsedFeed:
    """Parse one document in a process of its own; its failure is this document's alone."""
    with _pool(1) as alone:
        try:
            return alone.submit(_parse_document, document, now).result()
        except Exception as exc:  # noqa: BLE001 - it killed its process again
            error = f"the parse process ended while reading it ({one_line(exc, first=True)})"
            return ParsedFeed(document.source, "", "", None, None, (), error=error)


def ingest_sources(
    store: Store,
    items: Sequence[str],
    *,
    settings: fetching.FetchSettings | None = None,
    on_report: Callable[[SourceReport], None] | None = None,
    now: datetime | None = None,
    workers: int | None = None,
) -> list[SourceReport]:
    """`monitor ingest`: feed files, folders of them, and URLs fetched once."""
    sources = expand_sources(items)
    urls = [s for s in sources if s.startswith(("http://", "https://"))]
    fetched: dict[str, FetchResult] = {}
    if urls:
        results = fetching.fetch_many([FetchRequest(u) for u in urls], settings or _settings())
        fetched = dict(zip(urls, results, strict=True))

    def documents() -> Iterator[Document]:
        for source in sources:
            if source in fetched:
                result = fetched[source]
                yield Document(
                    source,
                    source,
                    "http",
                    result.content,
                    dict(result.headers),
                    None if result.content is not None else (result.error or "no body"),
                )
                continue
            path = Path(source)
            feed_url = path.resolve().as_uri() if path.exists() else source
            content = read_feed_file(path)
            if isinstance(content, str):
                yield Document(source, feed_url, "file", error=content)
            else:
                yield Document(source, feed_url, "file", content)

    return ingest_documents(
        store,
        documents(),
        now=now,
        known=known_hashes(store),
        workers=parse_workers(len(sources), source_bytes(sources, fetched))
        if workers is None
        else workers,
        on_report=on_report,
    )


def known_hashes(store: Store) -> dict[str, str]:
    with store.read() as con:
        return query.body_hashes(con)


def _guard(
    source: str, feed_url: str, work: Callable[[], SourceReport], stop: Stop | None = None
) -> SourceReport:
    """A bug or a database error on one source is that source's failure, not the run's; an
    interrupt that DuckDB turned into an ordinary error is the run's stop. A StoreError (a
    store that cannot be written, is damaged or locked) is the store's, not the source's: it
    ends the run in one line, as it does every other command, instead of failing each source
    with the same reason."""
    try:
        return work()
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as this source's one-line reason
        interrupt = _interrupted(exc, stop)
        if interrupt is not None:
            raise interrupt from exc
        return SourceReport(source, feed_url, "failed", error=one_line(exc, first=True))


def _settings() -> fetching.FetchSettings:
    return fetching.FetchSettings()


# -- stopping a run ----------------------------------------------------------------------


class Stopped(KeyboardInterrupt):
    """A run ended early on request (`Stop.request`): a signal, not a failure of any feed.

    A KeyboardInterrupt, so no `except Exception` takes it for a feed's error, and asyncio
    hands it straight out of a running loop.
    """


class Stop:
    """A request to end a run early, made from a signal handler or another thread.

    `request()` cancels the fetches in flight and interrupts the DuckDB statement the run is
    executing, so the run ends at once wherever it is: the transaction open then is rolled
    back, everything committed before stays. It takes no lock, so a signal handler may call
    it while the main thread is anywhere, a DuckDB statement included.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        # Plain dicts: adding, popping and copying one is atomic under the GIL.
        self._connections: dict[object, duckdb.DuckDBPyConnection] = {}
        self._cancels: dict[object, Callable[[], None]] = {}

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        for con in list(self._connections.values()):
            with suppress(Exception):  # closed meanwhile: nothing left to interrupt
                con.interrupt()
        for cancel in list(self._cancels.values()):
            with suppress(Exception):
                cancel()

    def check(self) -> None:
        """Raise Stopped if a stop was requested."""
        if self.reason is not None:
            raise Stopped(self.reason)

    @contextmanager
    def watching(self, con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        """Inside the block, a stop interrupts the statement running on `con`.

        DuckDB checks for signals while it runs a statement, but a handler that raises there
        only takes effect when the statement is done (minutes for a long one); an interrupt
        ends it at once.
        """
        key = object()
        self._connections[key] = con
        try:
            self.check()
            yield con
        finally:
            self._connections.pop(key, None)

    @contextmanager
    def on_request(self, cancel: Callable[[], None]) -> Iterator[None]:
        """Inside the block, a stop calls `cancel` (at once if one was requested already)."""
        key = object()
        self._cancels[key] = cancel
        try:
            if self.requested:
                cancel()
            yield
        finally:
            self._cancels.pop(key, None)


def _interrupted(exc: BaseException, stop: Stop | None) -> BaseException | None:
    """The stop that `exc` really is, or None when it is an ordinary error.

    DuckDB turns a KeyboardInterrupt that arrives during a statement into an ordinary
    exception ("Query interrupted"; InterruptException after `interrupt()`). Taken for a
    feed's store error, it was swallowed and the run went on: Ctrl-C did nothing.
    """
    if stop is not None and stop.requested:
        return Stopped(stop.reason)
    if isinstance(exc, duckdb.InterruptException) or (
        type(exc) is RuntimeError and str(exc) == "Query interrupted"
    ):
        return KeyboardInterrupt()
    return None


def _watch(
    stop: Stop | None, con: duckdb.DuckDBPyConnection
) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    return stop.watching(con) if stop is not None else nullcontext(con)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _fetch_in_background(
    requests: Sequence[FetchRequest],
    settings: fetching.FetchSettings,
    on_result: Callable[[FetchResult], None] | None,
    on_end: Callable[[list[FetchResult] | None], None],
    stop: Stop | None,
) -> threading.Thread:
    """Fetch on a daemon thread with its own event loop; `on_end` gets the results in
    request order (None when the fetch was cancelled or broke), always, as its last call.

    The caller's thread only waits on a queue, which a signal interrupts at once; a stop
    cancels the loop's tasks, so no request outlives the run.
    """

    def work() -> None:
        results: list[FetchResult] | None = None
        try:
            with asyncio.Runner() as runner:
                loop = runner.get_loop()

                def cancel() -> None:
                    loop.call_soon_threadsafe(_cancel_all, loop)

                with stop.on_request(cancel) if stop is not None else nullcontext():
                    results = runner.run(fetching.fetch_all(requests, settings, on_result))
        except BaseException:  # noqa: BLE001 - cancelled, or a bug: the waiting side is told
            results = None
        finally:
            on_end(results)

    thread = threading.Thread(target=work, name="monitor-fetch", daemon=True)
    thread.start()
    return thread


# -- subscribed feeds ------------------------------------------------------------------


# `monitor fetch` keeps the store open across a burst of results and lets go of it when no
# result came for this long (opening and closing the file costs 50-150 ms).
IDLE_RELEASE = 0.25


def fetch_feeds(
    store: Store,
    *,
    settings: fetching.FetchSettings | None = None,
    all_feeds: bool = False,
    interval: timedelta = DEFAULT_INTERVAL,
    on_report: Callable[[SourceReport, int, int], None] | None = None,
    now: datetime | None = None,
    stop: Stop | None = None,
) -> list[SourceReport]:
    """`monitor fetch`: every subscribed, enabled feed that is due (all of them with all_feeds).

    Fetching runs concurrently in background threads; each result is parsed and stored here
    as it arrives. Errors raise the feed's error count and push its next attempt back
    (exponential backoff, never before Retry-After); 410 Gone disables the feed. `now` is
    the run's start: feeds due then are fetched, and each is due again `interval` after it
    (after a success). `stop.request()` ends the run at once: Stopped is raised here, the
    feed being written is rolled back. Without `stop`, a KeyboardInterrupt does the same.
    """
    settings = settings or _settings()
    started = now or _now()
    # A feed is next due one interval after the start of the run that read it (see
    # _next_due), and the next run of `--every` starts then: a little slack keeps clock
    # jitter from skipping it until the run after.
    slack = min(interval / 100, timedelta(seconds=5))
    with store.read() as con, _watch(stop, con):
        due = query.due_feeds(con, started + slack, all_feeds=all_feeds)
    if not due:
        return []
    results: queue.Queue[tuple[FeedState, FetchResult] | None] = queue.Queue()

    def start(batch: list[FeedState], batch_settings: fetching.FetchSettings) -> int:
        if not batch:
            return 0
        by_url = {feed.url: feed for feed in batch}  # feed URLs are unique in the store
        _fetch_in_background(
            [FetchRequest(feed.url, feed.etag, feed.last_modified) for feed in batch],
            batch_settings,
            lambda res: results.put((by_url[res.url], res)),
            lambda _: results.put(None),
            stop,
        )
        return 1

    # Feeds added from the web page are fetched with private addresses refused.
    running = start([f for f in due if not f.restricted], settings)
    running += start([f for f in due if f.restricted], replace(settings, allow_private=False))
    reports: list[SourceReport] = []
    waiting = {feed.url: feed for feed in due}

    def store_result(feed: FeedState, result: FetchResult) -> None:
        waiting.pop(feed.url, None)
        report = _guard(
            feed.url,
            feed.url,
            partial(_store_fetch, store, feed, result, settings, interval, started, stop),
            stop,
        )
        reports.append(report)
        if on_report:
            on_report(report, len(reports), len(due))

    while running:
        item = results.get()  # a signal interrupts this wait
        # Hold the file while results keep coming, and let go of it while waiting for a slow
        # server: a dashboard in another process must not be locked out for 30 s.
        with store.holding():  # opens the file at the first write only
            while True:
                if item is None:
                    running -= 1  # one fetch thread is done
                else:
                    store_result(*item)
                if not running:
                    break
                try:
                    item = results.get(timeout=IDLE_RELEASE)
                except queue.Empty:
                    break
    for feed in waiting.values():  # a fetch thread that ended early (a bug): say so per feed
        report = SourceReport(feed.url, feed.url, "failed", error="fetch ended without a result")
        reports.append(report)
        if on_report:
            on_report(report, len(reports), len(due))
    return reports


def _store_fetch(
    store: Store,
    feed: FeedState,
    result: FetchResult,
    settings: fetching.FetchSettings,
    interval: timedelta,
    started: datetime,
    stop: Stop | None = None,
) -> SourceReport:
    now = _now()
    feed_id = feed.id
    url = feed.url

    def record(error: str | None) -> None:
        """One attempt that stored no articles: a failure (backoff) or a 304."""
        errors = feed.error_count + 1 if error else 0
        with store.write() as con, _watch(stop, con):
            write.record_fetch(
                con,
                feed_id,
                now=now,
                status=result.status,
                error=error,
                next_due=_next_due(started, now, errors, result.retry_after, interval),
                disable_reason="410 Gone: the feed was removed by its site"
                if result.gone
                else None,
            )
            if result.permanent_url and not error:
                write.rename_feed_url(con, feed_id, result.permanent_url)

    if result.error is not None or result.not_modified or result.content is None:
        record(result.error)
        if result.error is not None:
            return SourceReport(url, url, "failed", error=result.error)
        return SourceReport(url, url, "not-modified")

    digest = body_hash(result.content)
    feed_url = result.permanent_url or url
    if digest == feed.body_hash:
        parsed_articles: tuple[Article, ...] = ()
        parsed = None
    else:
        parsed = parse_feed(
            result.content,
            source=url,
            feed_url=feed_url,
            fetched_at=now,
            headers=dict(result.headers),
        )
        parsed_articles = parsed.articles
    if parsed is not None and parsed.error:
        record(parsed.error)
        return SourceReport(url, url, "failed", error=parsed.error)
    if parsed is not None and feed.full_text:
        # Pages of a web-added feed, or of one whose full text was switched on from the web,
        # are vetted like a web-added feed URL: a web change never widens what a feed reaches.
        page_settings = replace(settings, allow_private=not feed.pages_restricted)
        parsed = replace(
            parsed, articles=_with_pages(store, feed_id, parsed_articles, page_settings, stop)
        )
    with store.write() as con, _watch(stop, con):
        if result.permanent_url and result.permanent_url != url:
            write.rename_feed_url(con, feed_id, result.permanent_url)
        counts = SaveCounts()
        if parsed is not None:
            counts = write.save_articles(con, feed_id, parsed.articles, now=now)
            parsed = noted(parsed, counts)
            write.record_parse(con, feed_id, parsed, digest)
        write.record_fetch(
            con,
            feed_id,
            now=now,
            status=result.status,
            error=None,
            next_due=_next_due(started, now, 0, None, interval),
            etag=result.etag,
            last_modified=result.last_modified,
        )
    status = "stored" if counts.new or counts.updated or counts.linked else "unchanged"
    warning = parsed.warning if parsed is not None else None
    return SourceReport(url, feed_url, status, counts, warning=warning)


def _next_due(
    started: datetime,
    now: datetime,
    errors: int,
    retry_after: float | None,
    interval: timedelta,
) -> datetime:
    """The schedule counts from the start of the run, not from when this feed was stored: a
    feed stored late in a run was otherwise not yet due when `--every` started the next run,
    and was fetched every other run. Retry-After counts from the response."""
    due = fetching.next_due(started, errors, None, interval)
    if retry_after is not None:
        due = max(due, fetching.next_due(now, 0, retry_after, timedelta(0)))
    return due


def _with_pages(
    store: Store,
    feed_id: int,
    articles: Sequence[Article],
    settings: fetching.FetchSettings,
    stop: Stop | None = None,
) -> tuple[Article, ...]:
    """Fetch the article page of every entry that is new (or changed) in this feed, once.

    The entry's own content hash is kept, so the next run compares feed against feed and does
    not fetch the page again. A page that fails leaves the feed text and records why.
    """
    with store.read() as con, _watch(stop, con):
        known = query.entry_hashes(con, feed_id)
    wanted = [a for a in articles if a.url and known.get(a.entry_key) != a.content_hash]
    if not wanted:
        return tuple(articles)
    done: queue.Queue[list[FetchResult] | None] = queue.Queue()
    _fetch_in_background(
        [FetchRequest(a.url or "") for a in wanted], settings, None, done.put, stop
    )
    results = done.get()  # a signal interrupts this wait
    if results is None:
        if stop is not None:
            stop.check()
        raise RuntimeError("article pages: the fetch ended without results")
    enriched: dict[str, Article] = {}
    for article, result in zip(wanted, results, strict=True):
        if result.error or result.content is None:
            enriched[article.entry_key] = replace(
                article, fulltext_error=f"article page: {result.error or 'no body'}"
            )
            continue
        page = parse_page(result.content, url=result.final_url)
        better = apply_page(article, page)
        enriched[article.entry_key] = replace(better, content_hash=article.content_hash)
    return tuple(enriched.get(a.entry_key, a) for a in articles)
