"""The DuckDB engine: one file, no server. Every line of DuckDB SQL lives in this package.

DuckDB lets one process write a file, and while it does, no other process may open it at all.
The dashboard and a `monitor fetch --every` process must share the file, so every use here is a
short-lived connection: open, do one unit of work, close. A connection that finds the file
locked waits and tries again (up to `lock_timeout` seconds) instead of failing; writers keep
their transactions short (one feed at a time) so readers get in between.

A store that is not a monitor store, or is damaged, is never written to: before the first
read-write connection the file is looked at through a read-only one (what it is, its schema,
whether it is shorter than the blocks it uses), and a read that finds damage later marks the
store as such, so no write follows. `DuckDBStore(path, read_only=True)` (a read-only
dashboard) never opens the file read-write itself (it reads through the database this process
has open, when a writer here has it open read-write): it never creates the file and never
migrates its schema.

Within one process, every store object and thread shares one database per file (DuckDB allows
no other): the connections are cursors of it (`_Databases`), writes take turns by a lock per
file, and each read block is one read transaction, so a dashboard thread reading while fetch
threads write sees whole feeds only.

Connections cost: opening one takes about 30-45 ms, closing a read-write one 50-150 ms (the
close checkpoints), more than a dashboard query or storing a typical feed. `session()` keeps
this thread's connection across the calls inside it (see there).
"""

from __future__ import annotations

import os
import random
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from monitor import settings
from monitor.errors import StoreError, StoreRefused
from monitor.models import FeedState, Filters, Subscription, Table
from monitor.store import storyrows
from monitor.store.base import (
    TABLES,
    ArticleText,
    EngineInfo,
    FeedUpdate,
    SaveCounts,
    SavedQuery,
    TermRow,
    TermsRebuild,
    TermVectors,
)
from monitor.store.duckdb import query
from monitor.store.duckdb.rows import first
from monitor.store.duckdb.schema import MIGRATIONS, READABLE_FROM, SCHEMA_VERSION
from monitor.store.entries import COPY_COLUMNS, noted, rebuild_mark
from monitor.text import index_words

DEFAULT_DB = Path("data") / "monitor.duckdb"

__all__ = [
    "CONNECTION_CONFIG",
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "DuckDBStore",
    "StoreError",
    "default_db_path",
    "first",
]

# The writes (`write`, and pyarrow, which they need) are imported by the methods that write:
# a query command prints its JSON without loading either (most of its start-up time).

# Every connection: DuckDB would otherwise download and load extensions by itself when a
# query or a file seems to need one (a SQLite file given as the store made it fetch
# sqlite_scanner), so a store could reach the network. `enable_external_access` stays on:
# turned off, DuckDB refuses `COPY ... TO` a file, which `monitor export --format parquet` is
# (Arrow tables registered from Python still work without it).
CONNECTION_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}

# DuckDB's file: a 4 kB main header and two 4 kB database headers, then the blocks.
_HEADER_BYTES = 3 * 4096
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"  # at offset 8, after the header's checksum
# What DuckDB says when the bytes of a store are not what its headers promise.
_DAMAGE_SIGNS = (
    "Could not read enough bytes",
    "Corrupt database file",
    "checksum",
    "Failed to deserialize",
    "Serialization Error",
)


def _damaged_reason(path: Path, detail: str) -> str:
    return (
        f"{path}: the store is damaged ({detail}); nothing was written to it. Restore it "
        "from a backup; `monitor --db COPY export --out FILE` on a copy of it saves what "
        "can still be read"
    )


def default_db_path() -> Path:
    """`MONITOR_DB` if set, else data/monitor.duckdb (relative to the working directory)."""
    env = settings.db()
    return Path(env) if env else DEFAULT_DB


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return (
        "Could not set lock" in text
        or "Conflicting lock" in text
        or "different configuration" in text
    )


class DuckDBStore:
    """A DuckDB file (implements `monitor.store.base.Storage`). Cheap to create; it holds no
    open connection between uses, only inside a `session()`."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        lock_timeout: float = 30.0,
        read_only: bool = False,
        salvage: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.lock_timeout = lock_timeout
        self.read_only = read_only
        # Salvage (`monitor export`): read what can still be read from a damaged store.
        self.salvage = salvage
        self._ready = False
        self._ready_lock = threading.Lock()
        self._local = threading.local()  # this thread's _Session, if one is open
        # Connections running a block now, for `interrupt()` (a plain dict: adding, popping
        # and copying one is atomic under the GIL, so a signal handler may read it).
        self._running: dict[object, duckdb.DuckDBPyConnection] = {}
        self._version = SCHEMA_VERSION
        # A copy reading this (read-only) store: the open cursor of the table being read and
        # the last key it returned, so the next page continues it instead of sorting again.
        self._copy_cursor: _CopyCursor | None = None
        # (reason, data_version when found): a damaged file is refused until it changes.
        self._damaged: tuple[str, tuple[int, ...]] | None = None

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"DuckDBStore({str(self.path)!r}{mode})"

    # -- connections -------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not read_only:
            self._refuse_writes()
            # This process cannot hold the file read-only and read-write at once.
            session = self._session_here()
            if session is not None:
                session.drop_reader()
        with nullcontext() if read_only else _DATABASES.waiting_to_write(self.path):
            deadline = time.monotonic() + self.lock_timeout
            delay = 0.02
            while True:
                here = False
                try:
                    return _DATABASES.connect(self.path, read_only)
                except _Busy:
                    here = True  # this process reads it read-only now: wait as for a lock
                except (duckdb.IOException, duckdb.ConnectionException) as exc:
                    if not _is_lock_conflict(exc):
                        raise self._error(exc, writing=not read_only) from None
                except duckdb.Error as exc:
                    raise self._error(exc, writing=not read_only) from None
                if time.monotonic() >= deadline:
                    who = "another thread of this process" if here else "another process"
                    raise StoreError(
                        f"{self.path}: still locked by {who} after {self.lock_timeout:.0f} s"
                    ) from None
                # Jitter keeps two waiting processes from retrying in lock step.
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.1)

    def _refuse_writes(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only; nothing is written to it")
        self._check_damaged(writing=True)

    @property
    def damaged(self) -> str | None:
        """Why the store is known to be damaged (None while nothing says so)."""
        return self._damaged[0] if self._damaged else None

    def _check_damaged(self, *, writing: bool) -> None:
        if self._damaged is None:
            return
        reason, version = self._damaged
        if version != self.data_version():
            # The file was replaced or restored since: look at it again.
            self._damaged = None
            self._ready = False
        elif writing or not self.salvage:
            raise StoreError(reason)

    def _error(self, exc: BaseException, *, writing: bool = False) -> StoreError:
        """The one-line StoreError for a DuckDB error; damage marks the store as damaged."""
        line = _first_line(exc)
        if "Permission denied" in line or isinstance(exc, PermissionError):
            what = "written" if writing else "read"
            return StoreError(
                f"{self.path}: cannot be {what}: permission denied ({line}); fix the "
                "permissions of the file and its folder"
            )
        if any(sign in line for sign in _DAMAGE_SIGNS):
            reason = _damaged_reason(self.path, line)
            self._damaged = (reason, self.data_version())
            return StoreError(reason)
        return StoreError(f"{self.path}: {line}")

    def _translate(self, exc: duckdb.Error) -> StoreError | None:
        """A StoreError for what went wrong with the file (damage, disk, an old schema read
        read-only); None for anything else, which is a bug and raised as it is."""
        line = _first_line(exc)
        if isinstance(exc, duckdb.IOException | duckdb.SerializationException) or any(
            sign in line for sign in _DAMAGE_SIGNS
        ):
            return self._error(exc)
        if (
            self.read_only
            and self._version < SCHEMA_VERSION
            and isinstance(exc, duckdb.CatalogException | duckdb.BinderException)
        ):
            return StoreError(_too_old(self.path, self._version))
        return None

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for queries: read-only, unless this thread's session writes (then its
        read-write one). Creates and migrates the store first if needed (never for a
        read-only store).

        The block is one read transaction: its statements see one snapshot, so an answer
        made of several (stats, a page and its total) never mixes states while a thread of
        this process writes (readers of a file open read-write here share its database)."""
        self.ensure_schema()
        session = self._session_here()
        con = session.connection() if session is not None else self._open(read_only=True)
        # Nested in another read, or in this thread's write: part of that transaction.
        outer = session.enter_read() if session is not None else True
        key = object()
        self._running[key] = con
        try:
            if outer:
                con.execute("BEGIN TRANSACTION")
            try:
                with query.word_index(con):
                    yield con
            except BaseException:
                if outer:
                    with suppress(duckdb.Error):
                        con.execute("ROLLBACK")
                raise
            if outer:
                con.execute("COMMIT")
        except duckdb.Error as exc:
            raise self._problem(exc) from None
        finally:
            self._running.pop(key, None)
            if session is None:
                _DATABASES.release(con)
            else:
                session.leave_read()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection in one transaction: committed on success, else rolled back."""
        self._refuse_writes()
        self.ensure_schema()
        session = self._session_here()
        con = session.writer() if session is not None else self._open(read_only=False)
        key = object()
        self._running[key] = con
        if session is not None:
            session.in_write += 1
        try:
            with self._writing():
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    # A statement that failed may have aborted the transaction already.
                    with suppress(duckdb.Error):
                        con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        except duckdb.Error as exc:
            raise self._problem(exc) from None
        finally:
            self._running.pop(key, None)
            if session is not None:
                session.in_write -= 1
                session.maybe_release()
            else:
                _DATABASES.release(con)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """This process's turn to write the file: one transaction at a time, whichever thread
        or store object (see `_Databases`)."""
        lock = _DATABASES.write_lock(self.path)
        if not lock.acquire(timeout=self.lock_timeout):
            raise StoreError(
                f"{self.path}: another writer of this process held the store for "
                f"{self.lock_timeout:.0f} s"
            )
        try:
            yield
        finally:
            lock.release()

    def _problem(self, exc: duckdb.Error) -> BaseException:
        """What to raise for a DuckDB error: KeyboardInterrupt for an interrupted statement,
        a StoreError for the file's problems, the error itself for anything else (a bug)."""
        if isinstance(exc, duckdb.InterruptException):
            return KeyboardInterrupt(_first_line(exc))
        problem = self._translate(exc)
        return exc if problem is None else problem

    def interrupt(self) -> None:
        """Make the statements running on this store's connections stop now (from a signal
        handler or another thread): the block running one raises KeyboardInterrupt and its
        transaction is rolled back. Takes no lock."""
        for con in list(self._running.values()):
            with suppress(Exception):  # closed meanwhile: nothing left to interrupt
                con.interrupt()

    @contextmanager
    def session(self, *, hold: float = 2.0) -> Iterator[None]:
        """A block of work by this thread (a dashboard page, an ingest run).

        Until the first write, this thread's reads share one read-only connection (opening one
        costs 30-45 ms, and a page makes 4 to 8 queries). From the first write on, one
        read-write connection serves reads and writes (closing one costs 50-150 ms, the close
        checkpoints: more than storing a typical feed); it is let go at the first commit after
        `hold` seconds, and a moment passes before it is taken again, so a dashboard in
        another process waiting to read gets in. Everything is closed at the end of the
        block. Nested sessions are part of the outer one.
        """
        if self._session_here() is not None:
            yield
            return
        session = _Session(self, hold)
        self._local.session = session
        try:
            yield
        finally:
            self._local.session = None
            session.close()

    def _session_here(self) -> _Session | None:
        session: _Session | None = getattr(self._local, "session", None)
        return session

    def data_version(self) -> tuple[int, ...]:
        """Changes whenever the store's files change: a cache key for query results."""
        version: list[int] = []
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                info = path.stat()
            except OSError:
                version.extend((0, 0))
                continue
            version.extend((info.st_mtime_ns, info.st_size))
        return tuple(version)

    # -- schema ------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the file and apply any migrations it lacks (once per Store object).

        Read-only: check that the file is a store this monitor can read, and change nothing.
        Either way a file that is not a monitor store, or is damaged, is refused with a
        one-line reason before any read-write connection is opened.
        """
        self._check_damaged(writing=False)
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            exists = self._look_at_file()
            if not exists and self.read_only:
                raise StoreError(
                    f"{self.path}: no store here, and a read-only dashboard does not create "
                    "one; set MONITOR_DB to an existing store, or fill this one first "
                    "(`monitor demo`, `monitor feeds add URL` and `monitor fetch`)"
                )
            version, damage = self._inspect() if exists else (0, None)
            if damage is not None:
                self._damaged = (damage, self.data_version())
                if not self.salvage:
                    raise StoreError(damage)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this monitor "
                    f"understands ({SCHEMA_VERSION}); upgrade monitor"
                )
            self._version = version
            if self.read_only or damage is not None:
                if self.read_only and version < READABLE_FROM:
                    raise StoreError(_too_old(self.path, version))
                self._ready = True
                return
            if version < SCHEMA_VERSION:
                self._migrate(version)
            self._version = SCHEMA_VERSION
            self._ready = True

    def _look_at_file(self, *, wait: bool = True) -> bool:
        """False when there is no file yet; StoreError when the path is not a DuckDB file
        (a folder, an unreadable file, a SQLite database, text...)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot be read: {exc.strerror or exc}") from None
        if stat.S_ISDIR(info.st_mode):
            raise StoreError(
                f"{self.path}: is a folder, not a store file; give the path of a file "
                "(--db or MONITOR_DB)"
            )
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{self.path}: is not a regular file; give the path of a store file")
        try:
            with self.path.open("rb") as handle:
                head = handle.read(16)
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot be read: {exc.strerror or exc}; fix the permissions of "
                "the file"
            ) from None
        if len(head) < 12:
            # Another process may be creating the store right now (DuckDB holds its lock
            # while it writes the headers): wait for it as for any lock, then look again.
            try:
                if not wait:
                    raise StoreError("still too short")
                _DATABASES.release(self._open(read_only=True))
            except StoreError:
                raise StoreError(
                    f"{self.path}: is an empty file, not a DuckDB store; remove it (a new store "
                    "is then created there) or give another path"
                    if not head
                    else f"{self.path}: is not a DuckDB database (too short for one); give "
                    "the path of a monitor store, or a new file name to start one"
                ) from None
            return self._look_at_file(wait=False)
        if head.startswith(_SQLITE_MAGIC):
            raise StoreError(
                f"{self.path}: is a SQLite database, not a monitor store (DuckDB); give the "
                "path of a monitor store, or a new file name to start one"
            )
        if head[8:12] != _DUCKDB_MAGIC:
            raise StoreError(
                f"{self.path}: is not a DuckDB database (its first bytes are not DuckDB's); "
                "give the path of a monitor store, or a new file name to start one"
            )
        return True

    def _inspect(self) -> tuple[int, str | None]:
        """The schema version of an existing file, read through a read-only connection, and
        why it is damaged when it lacks blocks DuckDB says it uses."""
        con = self._open(read_only=True)
        try:
            # One snapshot for all the looks below: a store being created meanwhile (by a
            # thread here, or another process) is seen before or after, never half-way (no
            # schema version yet, but tables: "a database of something else").
            con.execute("BEGIN TRANSACTION")
            size = first(
                con.execute(
                    "SELECT block_size, used_blocks FROM pragma_database_size() "
                    "WHERE database_name = current_database()"
                )
            )
            damage = None
            if size is not None:
                needed = _HEADER_BYTES + int(size[0]) * int(size[1])
                actual = self.path.stat().st_size
                # A smaller file lost blocks it uses (DuckDB cuts only free blocks off the end).
                if actual < needed:
                    damage = _damaged_reason(
                        self.path,
                        f"{actual:,} bytes, but its blocks need at least {needed:,}: "
                        "the file was cut short",
                    )
                # DuckDB grows and shrinks the file by whole blocks. With free blocks in the
                # middle (a store written over several checkpoints) a cut can leave more bytes
                # than the used blocks need, yet take one of them: it ends inside a block.
                elif (actual - _HEADER_BYTES) % int(size[0]):
                    damage = _damaged_reason(
                        self.path,
                        f"{actual:,} bytes, which ends inside a block of "
                        f"{int(size[0]):,} bytes: the file was cut short",
                    )
            version = _schema_version(con)
            if version == 0 and _has_tables(con):
                raise StoreError(
                    f"{self.path}: is a DuckDB database of something else (it has tables, "
                    "but no monitor schema); give the path of a monitor store, or a new file "
                    "name to start one"
                )
            con.execute("COMMIT")
            return version, damage
        except duckdb.Error as exc:
            raise self._error(exc) from None
        finally:
            _DATABASES.release(con)

    def _migrate(self, version: int) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only=False)
        try:
            with self._writing():
                # Another store object (a thread here, or a process before this one got the
                # file) may have migrated it since `version` was read: read it again, now
                # that no one else can write.
                version = max(version, _schema_version(con))
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {version} is newer than this monitor "
                        f"understands ({SCHEMA_VERSION}); upgrade monitor"
                    )
                for number in range(version + 1, SCHEMA_VERSION + 1):
                    con.execute("BEGIN TRANSACTION")
                    try:
                        for statement in MIGRATIONS[number - 1]:
                            con.execute(statement)
                        con.execute(
                            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            [str(number)],
                        )
                    except BaseException:
                        with suppress(duckdb.Error):
                            con.execute("ROLLBACK")
                        raise
                    con.execute("COMMIT")
        except duckdb.Error as exc:
            raise self._error(exc, writing=True) from None
        finally:
            _DATABASES.release(con)

    # -- lifecycle ---------------------------------------------------------------------

    def info(self) -> EngineInfo:
        """Engine "duckdb", the file, DuckDB's version, the file's schema version."""
        self.ensure_schema()
        return EngineInfo(
            name="duckdb",
            location=str(self.path),
            version=duckdb.__version__,
            schema_version=self._version,
            read_only=self.read_only,
        )

    # -- reads: aggregates -------------------------------------------------------------

    def stats(self, f: Filters) -> dict[str, Any]:
        with self.read() as con:
            return query.stats(con, f)

    def article_count(self, f: Filters, *, with_tag: str | None = None) -> int:
        with self.read() as con:
            return query.article_count(con, f, with_tag=with_tag)

    def frequency(
        self, f: Filters, *, by: str, timezone: str = "UTC", split: str | None = None, top: int = 8
    ) -> Table:
        with self.read() as con:
            return query.frequency(con, f, by=by, timezone=timezone, split=split, top=top)

    def tags(self, f: Filters, *, limit: int = 50) -> Table:
        with self.read() as con:
            return query.tags(con, f, limit=limit)

    def tag_windows(self, f: Filters, before: Filters) -> Table:
        with self.read() as con:
            return query.tag_windows(con, f, before)

    def cooccurring_tags(self, f: Filters, key: str, *, limit: int) -> Table:
        with self.read() as con:
            return query.cooccurring_tags(con, f, key, limit=limit)

    def tag_displays(self, keys: Sequence[str]) -> dict[str, str]:
        with self.read() as con:
            return query.tag_displays(con, keys)

    def terms(self, f: Filters, *, limit: int = 100, rollup: bool = True) -> Table:
        with self.read() as con:
            return query.terms(con, f, limit=limit, rollup=rollup)

    def term_counts(self, f: Filters, *, limit: int) -> Table:
        with self.read() as con:
            return query.term_counts(con, f, limit=limit)

    def term_background(self, terms: Sequence[str], *, languages: Sequence[str] = ()) -> Table:
        with self.read() as con:
            return query.term_background(con, terms, languages=languages)

    def language_counts(self, f: Filters) -> Table:
        with self.read() as con:
            return query.language_counts(con, f)

    def term_vectors(self, f: Filters, terms: Sequence[str], *, sample: int) -> TermVectors:
        with self.read() as con:
            return query.term_vectors(con, f, terms, sample=sample)

    def authors(self, f: Filters, *, limit: int | None = None, top_tags: int = 3) -> Table:
        with self.read() as con:
            return query.authors(con, f, limit=limit, top_tags=top_tags)

    def heatmap(self, f: Filters, *, timezone: str) -> Table:
        with self.read() as con:
            return query.heatmap(con, f, timezone=timezone)

    def cadence(self, f: Filters) -> Table:
        with self.read() as con:
            return query.cadence(con, f)

    def articles_page(
        self, f: Filters, *, sort: str, descending: bool, limit: int, offset: int
    ) -> tuple[Table, int]:
        with self.read() as con:
            return query.articles_page(
                con, f, sort=sort, descending=descending, limit=limit, offset=offset
            )

    def export_batches(self, f: Filters, *, size: int = 5000) -> Iterator[Table]:
        """Every article of the view, EXPORT_COLUMNS, newest first, `size` rows at a time;
        feed_urls, authors and tags as tuples of text (empty when there are none)."""
        with self.read() as con:
            # Built inside the read: a query's words need to know whether the index is ready.
            sql, params = query.export_sql(f)
            cursor = con.execute(sql, params)
            columns = tuple(d[0] for d in cursor.description or [])
            lists = [columns.index(name) for name in ("feed_urls", "authors", "tags")]
            while True:
                chunk = cursor.fetchmany(size)
                if not chunk:
                    return
                rows = []
                for row in chunk:
                    values = list(row)
                    for i in lists:
                        values[i] = tuple(values[i] or ())
                    rows.append(tuple(values))
                yield Table(columns, rows)

    def export_parquet(self, f: Filters, target: str) -> None:
        """Write the view's export rows to a Parquet file (DuckDB writes it, streaming)."""
        with self.read() as con:
            query.export_parquet(con, f, target)

    def options(self, *, limit: int) -> dict[str, list[str]]:
        with self.read() as con:
            return query.options(con, limit=limit)

    def feeds(self) -> Table:
        with self.read() as con:
            return query.feeds(con)

    def user_stopwords(self) -> Table:
        with self.read() as con:
            return query.user_stopwords(con)

    # -- reads: the pipeline -----------------------------------------------------------

    def due_feeds(self, now: datetime, *, all_feeds: bool) -> list[FeedState]:
        with self.read() as con:
            return query.due_feeds(con, now, all_feeds=all_feeds)

    def subscriptions(self) -> list[Subscription]:
        with self.read() as con:
            return query.subscriptions(con)

    def feed_state(self, url: str) -> dict[str, Any] | None:
        with self.read() as con:
            return query.feed_state(con, url)

    def body_hashes(self) -> dict[str, str]:
        with self.read() as con:
            return query.body_hashes(con)

    def entry_hashes(self, feed_id: int) -> dict[str, str]:
        with self.read() as con:
            return query.entry_hashes(con, feed_id)

    # -- writes ------------------------------------------------------------------------

    def save_feeds(self, updates: Sequence[FeedUpdate]) -> list[SaveCounts]:
        """Store each feed's turn in one transaction for the whole group: feeds named by URL
        registered, permanent redirects followed, articles saved, parses and fetches
        recorded. The group is stored whole or not at all: on failure this raises
        (StoreError) and nothing of the group is kept; the caller retries one by one."""
        if not updates:
            return []
        clock = datetime.now(UTC)
        for update in updates:
            if update.feed_id is None and not update.url:
                raise ValueError("a FeedUpdate names its feed by feed_id or url")
        try:
            with self.write() as con:
                return _save_feeds(con, updates, clock)
        except (duckdb.Error, UnicodeError, OverflowError, ValueError) as exc:
            # A value DuckDB (or Arrow on the way to it) refused; the file's own problems are
            # StoreErrors already.
            refused = isinstance(exc, duckdb.Error | UnicodeError | OverflowError)
            if not refused and not type(exc).__module__.startswith("pyarrow"):
                raise
            names = ", ".join(
                str(u.url) if u.feed_id is None else f"feed {u.feed_id}" for u in updates[:3]
            )
            more = f" and {len(updates) - 3} more" if len(updates) > 3 else ""
            raise StoreRefused(
                f"{self.path}: could not store {names}{more}: {_first_line(exc)}"
            ) from None

    def add_feed(
        self,
        url: str,
        *,
        now: datetime,
        kind: str = "http",
        subscribed: bool = True,
        name: str | None = None,
        full_text: bool | None = None,
        restricted: bool = False,
    ) -> tuple[int, bool]:
        from monitor.store.duckdb import write

        with self.write() as con:
            return write.add_feed(
                con,
                url,
                now=now,
                kind=kind,
                subscribed=subscribed,
                name=name,
                full_text=full_text,
                restricted=restricted,
            )

    def remove_feed(self, url: str) -> int | None:
        from monitor.store.duckdb import write

        with self.write() as con:
            return write.remove_feed(con, url)

    def set_feed_enabled(self, url: str, enabled: bool) -> bool:
        from monitor.store.duckdb import write

        with self.write() as con:
            return write.set_feed_enabled(con, url, enabled)

    def make_due(self, url: str) -> bool | None:
        from monitor.store.duckdb import write

        with self.write() as con:
            return write.make_due(con, url)

    def add_stopwords(self, language: str, words: Sequence[str]) -> int:
        from monitor.store.duckdb import write

        with self.write() as con:
            return write.add_stopwords(con, language, words)

    def remove_stopwords(self, language: str, words: Sequence[str]) -> int:
        from monitor.store.duckdb import write

        with self.write() as con:
            return write.remove_stopwords(con, language, words)

    # -- saved queries -----------------------------------------------------------------

    def saved_queries(self) -> list[SavedQuery]:
        return self._saved("")

    def saved_query(self, name: str) -> SavedQuery | None:
        found = self._saved("WHERE name = ?", [name])
        return found[0] if found else None

    def _saved(self, where: str, params: list[Any] | None = None) -> list[SavedQuery]:
        sql = f"SELECT name, text, query_version, edited FROM saved_queries {where} ORDER BY name"
        with self.read() as con:
            try:
                rows = con.execute(sql, params or []).fetchall()
            except duckdb.CatalogException:
                return []  # a read-only store from before the saved queries (schema 7)
        return [SavedQuery(str(n), str(t), int(v), e) for n, t, v, e in rows]

    def save_query(self, name: str, text: str, *, now: datetime | None = None) -> SavedQuery:
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        with self.write() as con:
            row = first(
                con.execute(
                    "SELECT text, query_version, edited FROM saved_queries WHERE name = ?", [name]
                )
            )
            if row is not None and row[0] == text:
                return SavedQuery(name, text, int(row[1]), row[2])
            version = 1 if row is None else int(row[1]) + 1
            con.execute(
                "INSERT OR REPLACE INTO saved_queries (name, text, query_version, edited) "
                "VALUES (?, ?, ?, ?)",
                [name, text, version, moment],
            )
        return SavedQuery(name, text, version, moment)

    def remove_query(self, name: str) -> bool:
        with self.write() as con:
            gone = con.execute(
                "DELETE FROM saved_queries WHERE name = ? RETURNING name", [name]
            ).fetchall()
        return bool(gone)

    # -- stories -----------------------------------------------------------------------

    def stories(self, f: Filters, *, limit: int = 50) -> Table:
        with self.read() as con:
            return query.stories(con, f, limit=limit)

    def story_articles(self, f: Filters, story_id: str) -> Table:
        with self.read() as con:
            return query.story_articles(con, f, story_id)

    def story_sources(self, after: tuple[datetime, str] | None, size: int) -> Table:
        with self.read() as con:
            return query.story_sources(con, after, size)

    def save_stories(self, placed: Sequence[storyrows.Placed], *, clear: bool = False) -> None:
        from monitor.store.duckdb import write

        with self.write() as con:
            if clear:
                con.execute("DELETE FROM article_stories")
                con.execute("DELETE FROM story_bands")
            if placed:
                write.save_stories(con, placed)

    # -- whole-store copy --------------------------------------------------------------

    def count_rows(self, table: str) -> int:
        _copy_table(table)
        with self.read() as con:
            row = first(con.execute(f"SELECT count(*) FROM {table}"))
        return int(row[0]) if row else 0

    def read_rows(self, table: str, *, after: tuple[Any, ...] | None, size: int) -> Table:
        """Up to `size` rows of `table` (COPY_COLUMNS) in key order, after the key `after`."""
        keys = _copy_table(table)
        columns = COPY_COLUMNS[table]
        params: list[Any] = []
        where = "TRUE"
        if after is not None:
            if len(after) != len(keys):
                raise ValueError(f"{table}: a key has {len(keys)} values, not {len(after)}")
            where = _after(keys, after, params)
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {where} ORDER BY {', '.join(keys)}"
        if not self.read_only:
            with self.read() as con:
                return Table(columns, con.execute(f"{sql} LIMIT ?", [*params, size]).fetchall())
        # Read-only (what `monitor copy` opens its source as): one ordered cursor per table,
        # continued page by page. A LIMIT query per page sorts the whole table each time:
        # 6 s a page for the 150 million term rows of a 1M store, 12 hours in all.
        cursor = self._copy_cursor
        if cursor is None or cursor.table != table or cursor.last != after:
            self._close_copy_cursor()
            self.ensure_schema()
            con = self._open(read_only=True)
            try:
                con.execute(sql, params)
            except BaseException:
                _DATABASES.release(con)
                raise
            cursor = self._copy_cursor = _CopyCursor(table, None, con)
        rows = cursor.connection.fetchmany(size)
        if len(rows) < size:
            self._close_copy_cursor()
        elif rows:
            last = rows[-1]
            cursor.last = tuple(last[columns.index(k)] for k in keys)
        return Table(columns, rows)

    def _close_copy_cursor(self) -> None:
        cursor, self._copy_cursor = self._copy_cursor, None
        if cursor is not None:
            _DATABASES.release(cursor.connection)

    def write_rows(self, table: str, rows: Table) -> None:
        """Append rows of `table` read by another store's `read_rows`; rows whose key is
        stored already are skipped (a resumed copy), keys kept as they are."""
        keys = _copy_table(table)
        if rows.empty:
            return
        missing = set(keys) - set(rows.columns)
        if missing:
            raise ValueError(f"{table}: rows without key column(s) {', '.join(sorted(missing))}")
        columns = [c for c in rows.columns if c in COPY_COLUMNS[table]]
        import pyarrow as pa

        batch = pa.table({c: pa.array(rows[c]) for c in columns})
        names = ", ".join(columns)
        match = " AND ".join(f"t.{k} = c.{k}" for k in keys)
        # The batch comes in key order: its first key's range prunes the look-up.
        low, high = min(rows[keys[0]]), max(rows[keys[0]])
        from monitor.store.duckdb import write

        # Copied articles get their word index here: it is derived, not copied.
        returning = " RETURNING id, published, title, text" if table == "articles" else ""
        with self.write() as con, write.registered(con, "_copy", batch):
            added = con.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM _copy c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{keys[0]} BETWEEN ? AND ? "
                f"AND {match}){returning}",
                [low, high],
            ).fetchall()
            if returning:
                write.insert_words(
                    con, [(i, pub, index_words(title, body)) for i, pub, title, body in added]
                )

    def terms_rebuild(self) -> TermsRebuild | None:
        with self.read() as con:
            return query.terms_rebuild(con)

    def article_texts(self, after: tuple[datetime, str] | None, limit: int) -> list[ArticleText]:
        with self.read() as con:
            return query.article_texts(con, after, limit)

    def replace_terms(
        self,
        rows: Sequence[tuple[ArticleText, Sequence[TermRow]]],
        after: tuple[datetime, str] | None,
    ) -> None:
        from monitor.store.duckdb import write

        with self.write() as con:
            write.replace_terms(con, rows, None if after is None else rebuild_mark(after))

    def finish_copy(self) -> None:
        """Rebuild the per-day terms from the copied terms, sort the word index built from
        the copied articles, and move the feed id sequence past the copied ids (new feeds
        get ids of their own)."""
        from monitor.store.duckdb import write

        with self.write() as con:
            write.sort_words(con, force=True)
            con.execute("DELETE FROM term_daily")
            con.execute(
                "INSERT INTO term_daily SELECT CAST(t.published AS DATE), "
                "coalesce(a.language, ''), t.term, sum(t.n), count(*) "
                "FROM article_terms t JOIN articles a ON a.id = t.article_id "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            )
            con.execute("DELETE FROM term_forms")
            con.execute(
                "INSERT INTO term_forms SELECT term, display, count(*) FROM article_terms "
                "WHERE display IS NOT NULL AND display <> '' GROUP BY 1, 2"
            )
            top = first(con.execute("SELECT coalesce(max(id), 0) FROM feeds"))
            highest = int(top[0]) if top else 0
            row = first(con.execute("SELECT nextval('feed_ids')"))
            current = int(row[0]) if row else 0
            if current < highest:
                con.execute(
                    "SELECT max(nextval('feed_ids')) FROM range(?)", [highest - current]
                ).fetchall()


@dataclass
class _CopyCursor:
    table: str
    last: tuple[Any, ...] | None  # the key of the last row handed out
    connection: duckdb.DuckDBPyConnection


def _copy_table(table: str) -> tuple[str, ...]:
    """The key columns of one of TABLES; ValueError for any other name (never into SQL)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; use one of {', '.join(TABLES)}")
    return TABLES[table]


def _after(keys: Sequence[str], after: Sequence[Any], params: list[Any]) -> str:
    """(k1, k2, ...) > (v1, v2, ...) in key order, spelled out."""
    parts = []
    for i, key in enumerate(keys):
        equal = [f"{k} = ?" for k in keys[:i]]
        params.extend(after[:i])
        params.append(after[i])
        parts.append("(" + " AND ".join([*equal, f"{key} > ?"]) + ")")
    return "(" + " OR ".join(parts) + ")"


def _save_feeds(
    con: duckdb.DuckDBPyConnection, updates: Sequence[FeedUpdate], clock: datetime
) -> list[SaveCounts]:
    """`DuckDBStore.save_feeds` inside its transaction."""
    from monitor.store.duckdb import write

    named = [u for u in updates if u.feed_id is None]
    earliest = min((u.now or clock for u in named), default=clock)
    new_ids = iter(
        write.ensure_feeds(con, [(str(u.url), u.kind, u.subscribed) for u in named], now=earliest)
    )
    ids = [u.feed_id if u.feed_id is not None else next(new_ids) for u in updates]
    for fid, update in zip(ids, updates, strict=True):
        fetch = update.fetch
        if fetch is not None and fetch.permanent_url and fetch.error is None:
            write.rename_feed_url(con, fid, fetch.permanent_url)
    counts = [SaveCounts()] * len(updates)
    # save_many takes a feed once per call and one time: runs of updates that keep to that.
    run: list[int] = []
    for i, update in enumerate(updates):
        if update.parsed is None:
            continue
        if run and (
            ids[i] in {ids[j] for j in run}
            or (update.now or clock) != (updates[run[0]].now or clock)
        ):
            _save_run(con, run, ids, updates, counts, clock)
            run = []
        run.append(i)
    if run:
        _save_run(con, run, ids, updates, counts, clock)
    for fid, update in zip(ids, updates, strict=True):
        fetch = update.fetch
        if fetch is None:
            continue
        write.record_fetch(
            con,
            fid,
            now=update.now or clock,
            status=fetch.status,
            error=fetch.error,
            next_due=fetch.next_due,
            etag=fetch.etag,
            last_modified=fetch.last_modified,
            disable_reason=fetch.disable_reason,
        )
    return counts


def _save_run(
    con: duckdb.DuckDBPyConnection,
    run: Sequence[int],
    ids: Sequence[int],
    updates: Sequence[FeedUpdate],
    counts: list[SaveCounts],
    clock: datetime,
) -> None:
    from monitor.store.duckdb import write

    parsed = [updates[i].parsed for i in run]
    saved = write.save_many(
        con,
        [(ids[i], p.articles) for i, p in zip(run, parsed, strict=True) if p is not None],
        now=updates[run[0]].now or clock,
    )
    rows = []
    for i, p, c in zip(run, parsed, saved, strict=True):
        assert p is not None
        counts[i] = c
        rows.append((ids[i], noted(p, c), updates[i].body_hash))
    write.record_parses(con, rows)
    write.sort_words(con)


class _Session:
    """This thread's connections inside `DuckDBStore.session()`: a shared read-only one until
    the first write, then a held read-write one, let go now and then for other processes."""

    # How long the connection stays let go before this process takes it again.
    GAP = 0.15

    def __init__(self, store: DuckDBStore, hold: float) -> None:
        self.store = store
        self.hold = hold
        self.writing = False
        self._reader: duckdb.DuckDBPyConnection | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0
        self._released = 0.0
        self.in_write = 0  # write() blocks open now
        self._reads = 0  # read() blocks open now

    def enter_read(self) -> bool:
        """Count a read block in; True for the outermost one outside any write (the one that
        begins and ends the read transaction)."""
        self._reads += 1
        return self._reads == 1 and not self.in_write

    def leave_read(self) -> None:
        self._reads -= 1

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The connection for a read."""
        if self.writing:
            return self.writer()
        if self._reader is None:
            self._reader = self.store._open(read_only=True)
        return self._reader

    def start_writing(self) -> None:
        if not self.writing:
            self.drop_reader()
            self.writing = True

    def writer(self) -> duckdb.DuckDBPyConnection:
        """The held read-write connection, opened (again) if it was let go."""
        self.start_writing()
        if self._con is None:
            self._wait_turn()
            self._con = self.store._open(read_only=False)
            self._opened = time.monotonic()
        return self._con

    def _wait_turn(self) -> None:
        """Before taking the file read-write (again). The holding and letting go is the
        process's, not this thread's: the file stays open while any thread of this process
        holds it, so once it has been open `hold` seconds every session lets go at its next
        commit, none takes it again until it is closed, and then only after `GAP`. Several
        writer threads of one process thus give another process its turn as one does."""
        path = self.store.path
        deadline = time.monotonic() + self.store.lock_timeout
        while (now := time.monotonic()) < deadline:
            since = _DATABASES.writing_since(path)
            if since is not None:
                if now - since < self.hold:
                    return  # open read-write, and young: join it
                time.sleep(0.01)  # the others are letting go of it
                continue
            wait = self.GAP - (now - _DATABASES.closed_at(path))
            if wait <= 0:
                return
            time.sleep(wait)

    def drop_reader(self) -> None:
        if self._reader is not None:
            con, self._reader = self._reader, None
            _DATABASES.release(con)

    def maybe_release(self) -> None:
        if self._con is None:
            return
        since = _DATABASES.writing_since(self.store.path)
        if time.monotonic() - (self._opened if since is None else since) >= self.hold:
            self._release()

    def _release(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            _DATABASES.release(con)
            self._released = time.monotonic()

    def close(self) -> None:
        self.drop_reader()
        self._release()


class _Busy(Exception):
    """The file is open in this process in a mode that cannot serve the request yet (read-only
    while a write is wanted): waited out like another process's lock."""


@dataclass
class _Database:
    """One file's DuckDB database in this process: the connection that opened it, the cursors
    handed out (by the thread that holds each) and when it was opened."""

    root: duckdb.DuckDBPyConnection
    read_only: bool
    opened: float
    holders: dict[int, int]  # id(cursor) -> the thread that holds it


class _Databases:
    """Every DuckDB file this process has open, shared by all its store objects and threads.

    DuckDB serves one process one database per file, opened read-only or read-write, and a
    connection of the other mode is refused ("different configuration") while any is open.
    So the connections handed out here are cursors of one database per file: a read joins a
    read-write database already open (snapshot isolation keeps it from seeing a transaction
    that is not committed), a write waits until this process's read-only users let go (as it
    waits for another process), and while a write waits, new readers of other threads wait
    too, so a busy dashboard cannot starve it. The database is closed with its last cursor:
    other processes get the file between uses, as before.

    Writes to one file are serialised by its `write_lock`: DuckDB lets two connections of one
    database write at once and fails one of them on commit ("Conflict on update", then
    "Current transaction is aborted"), and the tables without keys rely on one writer
    checking them (write.save_many). Between processes the file lock does the same.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, _Database] = {}
        self._owner: dict[int, tuple[str, duckdb.DuckDBPyConnection]] = {}
        self._writers_waiting: dict[str, int] = {}
        self._write_locks: dict[str, threading.RLock] = {}
        self._closed: dict[str, float] = {}  # when a read-write database was last closed

    @staticmethod
    def key(path: Path) -> str:
        return os.path.realpath(path)

    def connect(self, path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A cursor of the file's database, opening it if needed. `_Busy` when it is open
        read-only and a write is wanted, or a write is waiting for this reader's turn."""
        key = self.key(path)
        me = threading.get_ident()
        with self._lock:
            db = self._open.get(key)
            if db is not None and db.read_only and not read_only:
                raise _Busy(key)
            if (
                read_only
                and self._writers_waiting.get(key)
                and (db is None or db.read_only)
                and me not in (db.holders.values() if db is not None else ())
            ):
                raise _Busy(key)
            if db is None:
                root = _connect(path, read_only)
                db = self._open[key] = _Database(root, read_only, time.monotonic(), {})
            try:
                cursor = db.root.cursor()
            except BaseException:
                if not db.holders:
                    self._close(key, db)
                raise
            db.holders[id(cursor)] = me
            self._owner[id(cursor)] = (key, cursor)
            return cursor

    @contextmanager
    def waiting_to_write(self, path: Path) -> Iterator[None]:
        key = self.key(path)
        with self._lock:
            self._writers_waiting[key] = self._writers_waiting.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._writers_waiting[key] - 1
                if left:
                    self._writers_waiting[key] = left
                else:
                    del self._writers_waiting[key]

    def release(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Close a cursor from `connect`; the database closes with its last one."""
        with self._lock:
            owned = self._owner.pop(id(cursor), None)
            with suppress(duckdb.Error):
                cursor.close()
            if owned is None:
                return
            key = owned[0]
            db = self._open.get(key)
            if db is None:
                return
            db.holders.pop(id(cursor), None)
            if not db.holders:
                self._close(key, db)

    def _close(self, key: str, db: _Database) -> None:
        del self._open[key]
        if not db.read_only:
            self._closed[key] = time.monotonic()
        db.root.close()  # read-write: checkpoints the file

    def write_lock(self, path: Path) -> threading.RLock:
        key = self.key(path)
        with self._lock:
            lock = self._write_locks.get(key)
            if lock is None:
                lock = self._write_locks[key] = threading.RLock()
            return lock

    def writing_since(self, path: Path) -> float | None:
        """When this process opened the file read-write (None: not open read-write)."""
        db = self._open.get(self.key(path))
        return db.opened if db is not None and not db.read_only else None

    def closed_at(self, path: Path) -> float:
        """When this process last closed the file read-write (0: never)."""
        return self._closed.get(self.key(path), 0.0)


_DATABASES = _Databases()


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = first(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
    )
    if not exists or not exists[0]:
        return 0
    row = first(con.execute("SELECT value FROM meta WHERE key = 'schema_version'"))
    return int(row[0]) if row else 0


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=dict(CONNECTION_CONFIG))
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
    # Someone in this process (a notebook, a test) holds the file with DuckDB's default
    # settings, and DuckDB shares one database per file per process: join it, and turn the
    # extension downloads off for all of it. A read-only/read-write clash still raises, and
    # is waited out like a lock.
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        for name, value in CONNECTION_CONFIG.items():
            con.execute(f"SET GLOBAL {name} = {str(value).lower()}")
    except BaseException:
        con.close()
        raise
    return con


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    row = first(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        )
    )
    return bool(row and row[0])


def _too_old(path: Path, version: int) -> str:
    return (
        f"{path}: schema version {version} is older than a read-only dashboard can read "
        f"({READABLE_FROM} to {SCHEMA_VERSION}), and read-only never upgrades it; run any "
        f"monitor command on it once without MONITOR_READ_ONLY (`monitor --db {path} stats`)"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# For tests and benchmarks that look at the file itself (they import no duckdb of their own).
Connection = duckdb.DuckDBPyConnection
DuckDBError = duckdb.Error
DuckDBPermissionError = duckdb.PermissionException


def raw_connection(
    path: str | Path, *, read_only: bool = False, config: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB connection to a store file with DuckDB's own settings (unless `config`),
    for tests and benchmarks that look at (or tamper with) the file itself; the monitor never
    uses one."""
    return duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
