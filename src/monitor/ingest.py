"""The pipeline, one straight line for `monitor fetch` and `monitor ingest` alike:

    bytes -> (unchanged? skip) -> parse + normalize -> (article pages) -> one store call per feed

Each feed's turn becomes a `Turn`: the `FeedUpdate` the store saves (its articles, the bytes'
hash, the fetch attempt) and how to report it when nothing was parsed. `store_turns` hands
turns to `Storage.save_feeds`, each feed whole or not at all. `fetch` stores each feed as its
result arrives; `ingest` stores parsed documents in groups (one call per group, since the
store's cost is per statement and per commit) and, when a group fails, each of its feeds again
on its own, so a store error is the failure of the feed that caused it. A failure is recorded
against its feed and the run goes on (miniflux's shape). Network and parsing happen outside
any store transaction; a killed run keeps everything it committed.

This module talks to the store only through `monitor.store.base.Storage`.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import fetch as fetching
from monitor.errors import StoreError, StoreRefused, one_line
from monitor.models import Article, FeedState, FetchRequest, FetchResult, ParsedFeed
from monitor.normalize import apply_page
from monitor.parse import parse_feed, parse_page
from monitor.store.base import FeedUpdate, FetchRecord, SaveCounts, Storage
from monitor.store.entries import noted

# Bump when parsing or normalising changes what gets stored: a feed whose bytes are unchanged
# is then processed again instead of being skipped as "unchanged".
PIPELINE_VERSION = "2"

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".feed")
# The fetcher's cap (FetchSettings.max_bytes): a file is bounded like a response, so the
# hostile-input bounds (time linear in size, at most 10 s and 500 MB) hold for both.
MAX_FILE_BYTES = 10_000_000
DEFAULT_INTERVAL = timedelta(minutes=15)
GONE = "410 Gone: the feed was removed by its site"


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


def unchanged(content: bytes, known: str | None) -> tuple[str, bool]:
    """The bytes' hash, and whether it is the one last parsed for this feed (`known`): then
    the document is not parsed again, since what it holds is stored already."""
    digest = body_hash(content)
    return digest, known is not None and digest == known


def _now() -> datetime:
    return datetime.now(UTC)


# -- the records that flow through -------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One feed document: its bytes, or the reason they could not be had."""

    source: str  # as the user named it (path or URL), for reports
    feed_url: str  # the feed's identity in the store
    kind: str  # "file", "http" or "demo"
    content: bytes | None = None
    headers: dict[str, str] | None = None
    error: str | None = None


@dataclass(frozen=True)
class Turn:
    """One feed's turn on its way to the store.

    `update` is what the store saves (None: nothing to save, e.g. a file that could not be
    read). When `update.parsed` is None nothing was parsed, and the turn is reported with
    `status` ("unchanged", "not-modified" or "failed") and `error`; otherwise the report
    follows from what the store did with the articles.
    """

    source: str
    feed_url: str
    update: FeedUpdate | None
    status: str = "stored"
    error: str | None = None

    @classmethod
    def parsed(
        cls,
        parsed: ParsedFeed,
        *,
        feed_url: str,
        kind: str,
        digest: str | None,
        source: str | None = None,
        subscribed: bool = False,
        now: datetime | None = None,
    ) -> Turn:
        """A document read from a file or URL, its feed named by URL (registered as `kind`
        if new); `digest` is its bytes' hash (None: no skip next time)."""
        update = FeedUpdate(
            url=feed_url,
            kind=kind,
            subscribed=subscribed,
            parsed=parsed,
            body_hash=digest or None,
            now=now,
        )
        return cls(parsed.source if source is None else source, feed_url, update)

    @classmethod
    def failed(cls, source: str, feed_url: str, error: str) -> Turn:
        return cls(source, feed_url, None, "failed", error)


def _parse(document: Document, now: datetime) -> ParsedFeed:
    """Parse and normalise one document: the CPU-heavy step (feedparser, normalising,
    tokenising), here or in a worker process."""
    return parse_feed(
        document.content or b"",
        source=document.source,
        feed_url=document.feed_url,
        fetched_at=now,
        headers=document.headers,
    )


# -- the store step, one for fetch and ingest ------------------------------------------


def store_turns(
    store: Storage, turns: Sequence[Turn], stop: Stop | None = None
) -> list[SourceReport]:
    """Save the turns' updates in one `save_feeds` call (each feed whole or not at all) and
    report each turn, in order. When the call fails, each feed is saved again on its own: a
    store error is then the failure of the feed that caused it, not of its group."""
    saving = [turn for turn in turns if turn.update is not None]
    try:
        counts = store.save_feeds([t.update for t in saving if t.update is not None])
    except Exception as exc:  # noqa: BLE001 - one by one below, each failure reported
        _raise_if_stopped(exc, stop)
        if isinstance(exc, StoreError) and not isinstance(exc, StoreRefused):
            raise  # the store's own fault (cannot be written, locked, damaged): the run's
        if len(saving) <= 1:
            return [
                _failed(turn, exc) if turn.update is not None else _report(turn, None)
                for turn in turns
            ]
        return [report for turn in turns for report in store_turns(store, [turn], stop)]
    done = dict(zip(map(id, saving), counts, strict=True))
    return [_report(turn, done.get(id(turn))) for turn in turns]


def _report(turn: Turn, counts: SaveCounts | None) -> SourceReport:
    parsed = turn.update.parsed if turn.update is not None else None
    if parsed is None or counts is None:
        return SourceReport(turn.source, turn.feed_url, turn.status, error=turn.error)
    status = "stored" if counts.new or counts.updated or counts.linked else "unchanged"
    # The store keeps the same warning: the parser's, and the entries it could not hold.
    warning = noted(parsed, counts).warning
    return SourceReport(turn.source, turn.feed_url, status, counts, warning=warning)


def _failed(turn: Turn, exc: BaseException) -> SourceReport:
    return SourceReport(turn.source, turn.feed_url, "failed", error=one_line(exc, first=True))


def ingest_bytes(
    store: Storage,
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
    """Parse and store one feed document (`ingest_documents` with one document). Bytes
    identical to the last ones stored for this feed (`known_hash`) are not parsed again."""
    (report,) = ingest_documents(
        store,
        [Document(source, feed_url, kind, content, headers)],
        now=now,
        known={feed_url: known_hash} if known_hash is not None else None,
        subscribed=subscribed,
    )
    return report


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
# parsed within this many seconds: one store call per group, each feed whole or not at all.
GROUP_FEEDS = 100
GROUP_ENTRIES = 2_000
GROUP_SECONDS = 1.0
# Documents read ahead of the one being stored, in bytes, when workers parse: enough to keep
# them busy while this process stores a group (about 2,000 entries, 10 MB of feed text).
READ_AHEAD = 16_000_000


class _Groups:
    """Turns collected in document order and stored a group at a time (`store_turns`)."""

    def __init__(self, store: Storage, on_report: Callable[[SourceReport], None] | None) -> None:
        self.store = store
        self.on_report = on_report
        self.reports: list[SourceReport] = []
        self.turns: list[Turn] = []
        self.urls: set[str] = set()
        self.entries = 0
        self.started = 0.0

    def add(self, turn: Turn) -> None:
        if turn.update is None:  # decided without the store: reported in its place
            self.turns.append(turn)
            return
        if turn.feed_url in self.urls:  # one feed twice in a run: store the first first
            self.flush()
        if not self.urls:
            self.started = time.monotonic()
        self.turns.append(turn)
        self.urls.add(turn.feed_url)
        parsed = turn.update.parsed
        self.entries += len(parsed.articles) if parsed is not None else 0
        if (
            len(self.urls) >= GROUP_FEEDS
            or self.entries >= GROUP_ENTRIES
            or time.monotonic() - self.started >= GROUP_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        for report in store_turns(self.store, self.turns):
            self.reports.append(report)
            if self.on_report:
                self.on_report(report)
        self.turns.clear()
        self.urls.clear()
        self.entries = 0


def ingest_documents(
    store: Storage,
    documents: Iterable[Document],
    *,
    now: datetime | None = None,
    known: dict[str, str] | None = None,
    workers: int = 0,
    subscribed: bool = False,
    on_report: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """Parse (in `workers` processes, or here) and store documents.

    Parsed documents are stored in groups (`store_turns`), each feed whole or not at all,
    reported once its group is stored. Reports come back in the documents' order. A document
    whose bytes equal the last ones stored for its feed (`known`: feed URL -> body hash) is
    reported unchanged without parsing.
    """
    now = now or _now()
    known = known or {}
    # A store that cannot be written (not a store, damaged, newer, read-only) is the run's
    # one-line failure, said once before any work, not every document's.
    store.ensure_schema()
    pool: ProcessPoolExecutor | None = _pool(workers) if workers > 0 else None

    def submit(document: Document) -> Future[ParsedFeed]:
        nonlocal pool
        assert pool is not None
        try:
            return pool.submit(_parse, document, now)
        except BrokenProcessPool:  # a worker died earlier: later documents get a new pool
            pool.shutdown(cancel_futures=True)
            pool = _pool(workers)
            return pool.submit(_parse, document, now)

    def turn(document: Document, digest: str, job: Future[ParsedFeed] | ParsedFeed) -> Turn:
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
            return Turn.failed(document.source, document.feed_url, parsed.error)
        return Turn.parsed(
            parsed,
            feed_url=document.feed_url,
            kind=document.kind,
            digest=digest,
            source=document.source,
            subscribed=subscribed,
            now=now,
        )

    groups = _Groups(store, on_report)
    pending: deque[tuple[Document, str, Future[ParsedFeed] | ParsedFeed | Turn]] = deque()

    def finish() -> None:
        document, digest, job = pending.popleft()
        groups.add(job if isinstance(job, Turn) else turn(document, digest, job))

    ahead = 0  # bytes of the pending documents
    try:
        with store.session(), collecting_less():
            for document in documents:
                digest = ""
                job: Future[ParsedFeed] | ParsedFeed | Turn
                if document.error is not None or document.content is None:
                    job = Turn.failed(
                        document.source, document.feed_url, document.error or "no content"
                    )
                else:
                    digest, same = unchanged(document.content, known.get(document.feed_url))
                    if same:
                        job = Turn(document.source, document.feed_url, None, "unchanged")
                    elif pool is not None:
                        job = submit(document)
                    else:
                        job = _parse(document, now)
                pending.append((document, digest, job))
                ahead += len(document.content or b"")
                # Bounded read-ahead: a folder of large files is never all in memory. With
                # workers it is measured in bytes, so that they keep parsing while this
                # process stores a group; at least two documents a worker.
                while pending and (
                    (len(pending) > 2 * max(workers, 1) and (not workers or ahead > READ_AHEAD))
                    or not isinstance(pending[0][2], Future)
                    or pending[0][2].done()
                ):
                    ahead -= len(pending[0][0].content or b"")
                    finish()
            while pending:
                finish()
            groups.flush()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return groups.reports


# Python's cyclic garbage collector runs a full pass over every live object each 70,000 or
# so allocations; parsing allocates millions of small objects (feedparser's dicts, each
# article's words and terms), while the live set (the group being stored, the word caches)
# grows, so at the default thresholds a quarter of parsing went to collections that found
# next to nothing. A run collects young objects every COLLECT_EVERY allocations instead.
COLLECT_EVERY = 50_000


@contextmanager
def collecting_less() -> Iterator[None]:
    """The collector's first threshold raised to COLLECT_EVERY while a run parses, then
    restored (a process that calls the library does not keep the run's setting)."""
    thresholds = gc.get_threshold()
    if 0 < thresholds[0] < COLLECT_EVERY:
        gc.set_threshold(COLLECT_EVERY, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    # The forkserver imports this before it forks a worker: the lemma dictionaries load once
    # per run, not once per worker (`text.warm_lemmas`).
    context.set_forkserver_preload(["monitor._parse_preload"])
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_leave_interrupts_to_the_run
    )


def _leave_interrupts_to_the_run() -> None:
    """A parse worker ignores SIGINT: Ctrl-C reaches every process of the terminal's group,
    and the run (the main process) stops, shuts the pool down and says so in one line; a
    worker would die with a traceback of its own (or in the middle of a queue's lock).
    It collects garbage as the run does (`collecting_less`), for as long as it lives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], COLLECT_EVERY), *thresholds[1:])


def _parse_alone(document: Document, now: datetime) -> ParsedFeed:
    """Parse one document in a process of its own; its failure is this document's alone."""
    with _pool(1) as alone:
        try:
            return alone.submit(_parse, document, now).result()
        except Exception as exc:  # noqa: BLE001 - it killed its process again
            error = f"the parse process ended while reading it ({one_line(exc, first=True)})"
            return ParsedFeed(document.source, "", "", None, None, (), error=error)


def ingest_sources(
    store: Storage,
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
        known=store.body_hashes(),
        workers=parse_workers(len(sources), source_bytes(sources, fetched))
        if workers is None
        else workers,
        on_report=on_report,
    )


def known_hashes(store: Storage) -> dict[str, str]:
    """Feed URL -> hash of the bytes last parsed (what `ingest_documents` takes as `known`)."""
    return store.body_hashes()


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

    `request()` cancels the fetches in flight and interrupts the store's running statement
    (`Storage.interrupt`), so the run ends at once wherever it is: the feed being saved then
    is rolled back, everything saved before stays. It takes no lock, so a signal handler may
    call it while the main thread is anywhere, inside a store call included.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        # Plain dicts: adding, popping and copying one is atomic under the GIL.
        self._stores: dict[object, Storage] = {}
        self._cancels: dict[object, Callable[[], None]] = {}

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        for store in list(self._stores.values()):
            with suppress(Exception):  # nothing running: nothing to interrupt
                store.interrupt()
        for cancel in list(self._cancels.values()):
            with suppress(Exception):
                cancel()

    def check(self) -> None:
        """Raise Stopped if a stop was requested."""
        if self.reason is not None:
            raise Stopped(self.reason)

    @contextmanager
    def watching(self, store: Storage) -> Iterator[None]:
        """Inside the block, a stop interrupts what `store` is running.

        A store statement may check for signals while it runs, but a handler that raises
        there only takes effect when the statement is done (minutes for a long one); an
        interrupt ends it at once.
        """
        key = object()
        self._stores[key] = store
        try:
            self.check()
            yield
        finally:
            self._stores.pop(key, None)

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


def _raise_if_stopped(exc: BaseException, stop: Stop | None) -> None:
    """With a stop requested, whatever it interrupted (a store call, a wait) is the stop, not
    a feed's error: taken for one, it was swallowed and the run went on (Ctrl-C did nothing).
    An interrupted store call raises KeyboardInterrupt itself (`Storage.interrupt`)."""
    if stop is not None and stop.requested:
        raise Stopped(stop.reason) from exc


def _guard(
    source: str, feed_url: str, work: Callable[[], SourceReport], stop: Stop | None = None
) -> SourceReport:
    """A bug on one source is that source's failure, not the run's; what a requested stop
    interrupted is the run's stop. A StoreError (a store that cannot be written, is damaged
    or locked) is the store's, not the source's: it ends the run in one line, as it does
    every other command, instead of failing each source with the same reason."""
    try:
        return work()
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as this source's one-line reason
        _raise_if_stopped(exc, stop)
        return SourceReport(source, feed_url, "failed", error=one_line(exc, first=True))


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


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4): the second of four fetch workers. ValueError with a reason otherwise."""
    k, slash, n = text.strip().partition("/")
    if not slash or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"not a shard: {text!r} (use K/N, e.g. 2/4 for the second of four)")
    shard, shards = int(k), int(n)
    if shards < 1:
        raise ValueError(f"not a shard: {text!r} (N, the number of workers, is at least 1)")
    if not 1 <= shard <= shards:
        raise ValueError(f"not a shard: {text!r} (K runs from 1 to {shards})")
    return shard, shards


def in_shard(feed_id: int, shard: tuple[int, int] | None) -> bool:
    """Whether worker K of N fetches this feed: stable by feed id, so N workers share every
    feed between them, each exactly once, whatever order they run in."""
    if shard is None:
        return True
    k, n = shard
    return feed_id % n == k - 1


# `monitor fetch` keeps the store open across a burst of results and lets go of it when no
# result came for this long (opening and closing the file costs 50-150 ms).
IDLE_RELEASE = 0.25


def fetch_feeds(
    store: Storage,
    *,
    settings: fetching.FetchSettings | None = None,
    all_feeds: bool = False,
    interval: timedelta = DEFAULT_INTERVAL,
    on_report: Callable[[SourceReport, int, int], None] | None = None,
    now: datetime | None = None,
    stop: Stop | None = None,
    shard: tuple[int, int] | None = None,
) -> list[SourceReport]:
    """`monitor fetch`: every subscribed, enabled feed that is due (all of them with all_feeds);
    with `shard` (K, N), only those whose id % N == K - 1.

    Fetching runs concurrently in background threads; each result is parsed and stored here
    as it arrives, one store call per feed. Errors raise the feed's error count and push its
    next attempt back (exponential backoff, never before Retry-After); 410 Gone disables the
    feed. `now` is the run's start: feeds due then are fetched, and each is due again
    `interval` after it (after a success). `stop.request()` ends the run at once: Stopped is
    raised here, the feed being written is rolled back. Without `stop`, a KeyboardInterrupt
    does the same.
    """
    settings = settings or _settings()
    started = now or _now()
    # A feed is next due one interval after the start of the run that read it (see
    # _next_due), and the next run of `--every` starts then: a little slack keeps clock
    # jitter from skipping it until the run after.
    slack = min(interval / 100, timedelta(seconds=5))
    with stop.watching(store) if stop is not None else nullcontext():
        due = [
            feed
            for feed in store.due_feeds(started + slack, all_feeds=all_feeds)
            if in_shard(feed.id, shard)
        ]
        if not due:
            return []
        with collecting_less():
            return _fetch_due(store, due, settings, interval, started, on_report, stop)


def _fetch_due(
    store: Storage,
    due: list[FeedState],
    settings: fetching.FetchSettings,
    interval: timedelta,
    started: datetime,
    on_report: Callable[[SourceReport, int, int], None] | None,
    stop: Stop | None,
) -> list[SourceReport]:
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

        def one() -> SourceReport:
            turn = _fetch_turn(store, feed, result, settings, interval, started, stop)
            (report,) = store_turns(store, [turn], stop)
            return report

        report = _guard(feed.url, feed.url, one, stop)
        reports.append(report)
        if on_report:
            on_report(report, len(reports), len(due))

    while running:
        item = results.get()  # a signal interrupts this wait
        # Hold the store while results keep coming, and let go of it while waiting for a
        # slow server: a dashboard in another process must not be locked out for 30 s.
        with store.session():
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


def _fetch_turn(
    store: Storage,
    feed: FeedState,
    result: FetchResult,
    settings: fetching.FetchSettings,
    interval: timedelta,
    started: datetime,
    stop: Stop | None = None,
) -> Turn:
    """What one fetch result changes: the attempt, and what its bytes held."""
    now = _now()
    url = feed.url

    def attempt(error: str | None, status: str) -> Turn:
        """An attempt that parsed no articles: a failure (backoff), a 304 or unchanged bytes."""
        errors = feed.error_count + 1 if error else 0
        record = FetchRecord(
            status=result.status,
            error=error,
            next_due=_next_due(started, now, errors, result.retry_after, interval),
            etag=None if error else result.etag,
            last_modified=None if error else result.last_modified,
            disable_reason=GONE if result.gone else None,
            permanent_url=None if error else result.permanent_url,
        )
        feed_url = url if error else (result.permanent_url or url)
        return Turn(
            url, feed_url, FeedUpdate(feed_id=feed.id, fetch=record, now=now), status, error
        )

    if result.error is not None:
        return attempt(result.error, "failed")
    if result.not_modified or result.content is None:
        return attempt(None, "not-modified")
    digest, same = unchanged(result.content, feed.body_hash)
    if same:
        return attempt(None, "unchanged")
    feed_url = result.permanent_url or url
    document = Document(url, feed_url, "http", result.content, dict(result.headers))
    parsed = _parse(document, now)
    if parsed.error:
        return attempt(parsed.error, "failed")
    if feed.full_text:
        # Pages of a web-added feed, or of one whose full text was switched on from the web,
        # are vetted like a web-added feed URL: a web change never widens what a feed reaches.
        page_settings = replace(settings, allow_private=not feed.pages_restricted)
        parsed = replace(
            parsed, articles=_with_pages(store, feed.id, parsed.articles, page_settings, stop)
        )
    record = FetchRecord(
        status=result.status,
        error=None,
        next_due=_next_due(started, now, 0, None, interval),
        etag=result.etag,
        last_modified=result.last_modified,
        permanent_url=result.permanent_url,
    )
    update = FeedUpdate(feed_id=feed.id, parsed=parsed, body_hash=digest, fetch=record, now=now)
    return Turn(url, feed_url, update)


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
    store: Storage,
    feed_id: int,
    articles: Sequence[Article],
    settings: fetching.FetchSettings,
    stop: Stop | None = None,
) -> tuple[Article, ...]:
    """Fetch the article page of every entry that is new (or changed) in this feed, once.

    The entry's own content hash is kept, so the next run compares feed against feed and does
    not fetch the page again. A page that fails leaves the feed text and records why.
    """
    known = store.entry_hashes(feed_id)
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
