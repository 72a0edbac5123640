"""The store: one interface (`base.Storage`), two engines, and `open_store` to pick one.

`open_store(location)` reads a location as `MONITOR_DB` / `--db` give it: a file path is a
DuckDB store (the default, `data/monitor.duckdb`); `clickhouse://user:pass@host:8123/db` a
ClickHouse server; `chdb:///path/to/dir` ClickHouse embedded in this process (chDB). Each
engine's package holds all of its SQL; nothing else imports an engine's driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor import settings
from monitor.errors import InputError, StoreError
from monitor.store.base import Storage

if TYPE_CHECKING:
    from monitor.store.duckdb import (
        CONNECTION_CONFIG,
        SCHEMA_VERSION,
        DuckDBStore,
        default_db_path,
    )
    from monitor.store.duckdb.rows import first

# The default store's path, the same as `monitor.store.duckdb.DEFAULT_DB` (written here too:
# a process that opens a ClickHouse store never imports duckdb, 80 ms of every command).
DEFAULT_DB = Path("data") / "monitor.duckdb"

_DUCKDB_NAMES = ("CONNECTION_CONFIG", "SCHEMA_VERSION", "DuckDBStore", "default_db_path")


def __getattr__(name: str) -> Any:
    """The DuckDB engine's names, imported when first asked for."""
    if name in _DUCKDB_NAMES:
        from monitor.store import duckdb

        return getattr(duckdb, name)
    if name == "first":
        from monitor.store.duckdb.rows import first

        return first
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONNECTION_CONFIG",
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "DuckDBStore",
    "Storage",
    "StoreError",
    "default_db_path",
    "default_location",
    "first",
    "open_store",
]

_CLICKHOUSE_SCHEMES = ("clickhouse", "chdb")


def default_location() -> str:
    """`MONITOR_DB` if set (and not empty), else data/monitor.duckdb."""
    return settings.db() or str(DEFAULT_DB)


def open_store(
    location: str | Path | None = None,
    *,
    read_only: bool = False,
    lock_timeout: float = 30.0,
    salvage: bool = False,
) -> Storage:
    """The store at `location` (None: `MONITOR_DB`, else data/monitor.duckdb): a DuckDB file
    for a path, ClickHouse for `clickhouse://...` (a server) or `chdb://...` (embedded).
    Cheap: nothing is opened until the first call. A location that is neither gets a
    one-line InputError naming it."""
    if location is None:
        location = default_location()
    if isinstance(location, Path):
        from monitor.store.duckdb import DuckDBStore

        return DuckDBStore(
            location, read_only=read_only, lock_timeout=lock_timeout, salvage=salvage
        )
    text = location.strip()
    if not text:
        raise InputError("the store location is empty; give a file path, clickhouse:// or chdb://")
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in _CLICKHOUSE_SCHEMES:
        _check_dsn(text, scheme)
        try:
            from monitor.store.clickhouse import (  # type: ignore[import-not-found, unused-ignore]
                ClickHouseStore,
            )
        except ImportError as exc:
            raise StoreError(
                f"{_redacted(text)}: the ClickHouse engine is not installed "
                f"({exc.name or exc}); install monitor[clickhouse]"
            ) from None
        # A server has no file lock to wait for, nor a file to salvage from.
        store: Storage = ClickHouseStore(text, read_only=read_only)
        return store
    if scheme:
        raise InputError(
            f"{_redacted(text)}: unknown store location scheme {scheme!r}; give a file path, "
            "clickhouse://user:pass@host:8123/db or chdb:///path/to/dir"
        )
    if "\x00" in text:
        raise InputError(f"{text!r}: a store path cannot hold a NUL character")
    from monitor.store.duckdb import DuckDBStore

    return DuckDBStore(text, read_only=read_only, lock_timeout=lock_timeout, salvage=salvage)


def _check_dsn(text: str, scheme: str) -> None:
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise InputError(f"{_redacted(text)}: not a valid {scheme}:// location ({exc})") from None
    if scheme == "chdb":
        if not parts.path or parts.path == "/" or parts.netloc:
            raise InputError(
                f"{_redacted(text)}: a chdb location names a folder: chdb:///path/to/dir"
            )
    elif not parts.hostname:
        raise InputError(
            f"{_redacted(text)}: a clickhouse location names a server: "
            "clickhouse://user:pass@host:8123/db"
        )
    del port


def _redacted(text: str) -> str:
    """A location without its password, for messages."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return text.split("://", 1)[0] + "://..." if "://" in text else text
    if parts.password is None:
        return text
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
