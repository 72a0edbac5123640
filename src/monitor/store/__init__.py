"""The DuckDB store: one file, no server. All SQL of the project lives in this package.

DuckDB lets one process write a file, and while it does, no other process may open it at all.
The dashboard and a `monitor fetch --every` process must share the file, so every use here is a
short-lived connection: open, do one unit of work, close. A connection that finds the file
locked waits and tries again (up to `lock_timeout` seconds) instead of failing; writers keep
their transactions short (one feed at a time) so readers get in between.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from monitor.store.rows import first
from monitor.store.schema import MIGRATIONS, SCHEMA_VERSION

DEFAULT_DB = Path("data") / "monitor.duckdb"

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "Store", "StoreError", "default_db_path", "first"]


class StoreError(Exception):
    """A store problem worth a one-line message (locked too long, newer schema, bad file)."""


def default_db_path() -> Path:
    """`MONITOR_DB` if set, else data/monitor.duckdb (relative to the working directory)."""
    env = os.environ.get("MONITOR_DB")
    return Path(env) if env else DEFAULT_DB


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return (
        "Could not set lock" in text
        or "Conflicting lock" in text
        or "different configuration" in text
    )


class Store:
    """A DuckDB file. Cheap to create; it holds no open connection between uses."""

    def __init__(self, path: str | Path | None = None, *, lock_timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.lock_timeout = lock_timeout
        self._ready = False
        self._ready_lock = threading.Lock()
        self._held: _Held | None = None
        self._readers = threading.local()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections -------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not read_only:
            # This process cannot hold the file read-only and read-write at once.
            self._drop_reader()
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if not _is_lock_conflict(exc):
                    raise StoreError(f"{self.path}: {_first_line(exc)}") from None
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{self.path}: still locked by another process after "
                        f"{self.lock_timeout:.0f} s"
                    ) from None
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: {_first_line(exc)}") from None
            # Jitter keeps two waiting processes from retrying in lock step.
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.1)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, for queries. Creates and migrates the store first if needed."""
        self.ensure_schema()
        held = self._held_here()
        if held is not None:
            yield held.connection()
            return
        if getattr(self._readers, "active", False):
            con = getattr(self._readers, "connection", None)
            if con is None:
                con = self._open(read_only=True)
                self._readers.connection = con
            yield con
            return
        con = self._open(read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection in one transaction: committed on success, else rolled back."""
        self.ensure_schema()
        held = self._held_here()
        con = held.connection() if held is not None else self._open(read_only=False)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            if held is not None:
                held.maybe_release()
            else:
                con.close()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Share one read-only connection among this thread's reads inside the block (a
        dashboard page: opening a connection costs 30-45 ms, and a page makes 4 to 8 queries).
        It is opened at the first read and closed at the end of the block, or as soon as this
        thread writes, so other processes get the file between page loads."""
        if getattr(self._readers, "active", False):
            yield
            return
        self._readers.active = True
        try:
            yield
        finally:
            self._readers.active = False
            self._drop_reader()

    def _drop_reader(self) -> None:
        con = getattr(self._readers, "connection", None)
        if con is not None:
            self._readers.connection = None
            con.close()

    @contextmanager
    def holding(self, *, hold: float = 2.0) -> Iterator[None]:
        """Keep one read-write connection across many short transactions (a whole ingest run).

        Opening and closing a DuckDB file costs about 50-150 ms (the close checkpoints), more
        than storing a typical feed. Inside this block, this thread's `read()` and `write()`
        share one connection; it is let go at the first commit after `hold` seconds, and a
        moment passes before it is taken again, so a dashboard waiting to read gets in.
        """
        if self._held_here() is not None:
            yield
            return
        self.ensure_schema()
        held = _Held(self, hold)
        self._held = held
        try:
            yield
        finally:
            self._held = None
            held.close()

    def _held_here(self) -> _Held | None:
        held = self._held
        if held is not None and held.thread == threading.get_ident():
            return held
        return None

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
        """Create the file and apply any migrations it lacks (once per Store object)."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self._version_read_only() == SCHEMA_VERSION:
                self._ready = True
                return
            con = self._open(read_only=False)
            try:
                version = _schema_version(con)
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {version} is newer than this monitor "
                        f"understands ({SCHEMA_VERSION}); upgrade monitor"
                    )
                for number in range(version + 1, SCHEMA_VERSION + 1):
                    con.execute("BEGIN TRANSACTION")
                    for statement in MIGRATIONS[number - 1]:
                        con.execute(statement)
                    con.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [str(number)],
                    )
                    con.execute("COMMIT")
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: {_first_line(exc)}") from None
            finally:
                con.close()
            self._ready = True

    def _version_read_only(self) -> int:
        try:
            con = self._open(read_only=True)
        except StoreError:
            return -1
        try:
            return _schema_version(con)
        finally:
            con.close()


class _Held:
    """The connection `Store.holding()` keeps, let go now and then for other processes."""

    # How long the connection stays let go before this process takes it again.
    GAP = 0.15

    def __init__(self, store: Store, hold: float) -> None:
        self.store = store
        self.hold = hold
        self.thread = threading.get_ident()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0
        self._released = 0.0

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            wait = self.GAP - (time.monotonic() - self._released)
            if self._released and wait > 0:
                time.sleep(wait)
            self._con = self.store._open(read_only=False)
            self._opened = time.monotonic()
        return self._con

    def maybe_release(self) -> None:
        if self._con is not None and time.monotonic() - self._opened >= self.hold:
            self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._released = time.monotonic()


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = first(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
    )
    if not exists or not exists[0]:
        return 0
    row = first(con.execute("SELECT value FROM meta WHERE key = 'schema_version'"))
    return int(row[0]) if row else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
