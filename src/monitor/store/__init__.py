"""The DuckDB store: one file, no server. All SQL of the project lives in this package.

DuckDB lets one process write a file, and while it does, no other process may open it at all.
The dashboard and a `monitor fetch --every` process must share the file, so every use here is a
short-lived connection: open, do one unit of work, close. A connection that finds the file
locked waits and tries again (up to `lock_timeout` seconds) instead of failing; writers keep
their transactions short (one feed at a time) so readers get in between.

A store that is not a monitor store, or is damaged, is never written to: before the first
read-write connection the file is looked at through a read-only one (what it is, its schema,
whether it is shorter than the blocks it uses), and a read that finds damage later marks the
store as such, so no write follows. `Store(path, read_only=True)` (a read-only dashboard)
opens read-only connections only: it never creates the file and never migrates its schema.
"""

from __future__ import annotations

import os
import random
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from monitor.store.rows import first
from monitor.store.schema import MIGRATIONS, READABLE_FROM, SCHEMA_VERSION

DEFAULT_DB = Path("data") / "monitor.duckdb"

__all__ = [
    "CONNECTION_CONFIG",
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
    "default_db_path",
    "first",
]

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


class StoreError(Exception):
    """A store problem worth a one-line message (locked too long, newer schema, bad file)."""


def _damaged_reason(path: Path, detail: str) -> str:
    return (
        f"{path}: the store is damaged ({detail}); nothing was written to it. Restore it "
        "from a backup; `monitor --db COPY export --out FILE` on a copy of it saves what "
        "can still be read"
    )


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
        self._held: _Held | None = None
        self._readers = threading.local()
        self._version = SCHEMA_VERSION
        # (reason, data_version when found): a damaged file is refused until it changes.
        self._damaged: tuple[str, tuple[int, ...]] | None = None

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"Store({str(self.path)!r}{mode})"

    # -- connections -------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not read_only:
            self._refuse_writes()
            # This process cannot hold the file read-only and read-write at once.
            self._drop_reader()
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return _connect(self.path, read_only)
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if not _is_lock_conflict(exc):
                    raise self._error(exc, writing=not read_only) from None
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{self.path}: still locked by another process after "
                        f"{self.lock_timeout:.0f} s"
                    ) from None
            except duckdb.Error as exc:
                raise self._error(exc, writing=not read_only) from None
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
        """A read-only connection, for queries. Creates and migrates the store first if needed
        (never for a read-only Store)."""
        self.ensure_schema()
        held = self._held_here()
        con: duckdb.DuckDBPyConnection
        if held is not None:
            con = held.connection()
            close = False
        elif getattr(self._readers, "active", False):
            shared = getattr(self._readers, "connection", None)
            if shared is None:
                shared = self._open(read_only=True)
                self._readers.connection = shared
            con = shared
            close = False
        else:
            con = self._open(read_only=True)
            close = True
        try:
            yield con
        except duckdb.Error as exc:
            problem = self._translate(exc)
            if problem is None:
                raise
            raise problem from None
        finally:
            if close:
                con.close()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection in one transaction: committed on success, else rolled back."""
        self._refuse_writes()
        self.ensure_schema()
        held = self._held_here()
        con = held.connection() if held is not None else self._open(read_only=False)
        try:
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
            problem = self._translate(exc)
            if problem is None:
                raise
            raise problem from None
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
        self._refuse_writes()
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
                self._open(read_only=True).close()
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
            version = _schema_version(con)
            if version == 0 and _has_tables(con):
                raise StoreError(
                    f"{self.path}: is a DuckDB database of something else (it has tables, "
                    "but no monitor schema); give the path of a monitor store, or a new file "
                    "name to start one"
                )
            return version, damage
        except duckdb.Error as exc:
            raise self._error(exc) from None
        finally:
            con.close()

    def _migrate(self, version: int) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only=False)
        try:
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
            raise self._error(exc, writing=True) from None
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
