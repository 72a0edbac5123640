"""The DuckDB engine: one file, no server (the default store).

`DuckDBStore` implements `monitor.store.base.Storage`; `query` (reads), `write` (writes) and
`schema` (migrations) hold every line of the project's DuckDB SQL. Nothing outside this
package imports duckdb (ruff bans it); tests that need the file itself use `raw_connection`.
"""

from __future__ import annotations

from monitor.store.duckdb.schema import MIGRATIONS, READABLE_FROM, SCHEMA_VERSION
from monitor.store.duckdb.store import (
    CONNECTION_CONFIG,
    DEFAULT_DB,
    Connection,
    DuckDBError,
    DuckDBPermissionError,
    DuckDBStore,
    default_db_path,
    raw_connection,
)

__all__ = [
    "CONNECTION_CONFIG",
    "DEFAULT_DB",
    "MIGRATIONS",
    "READABLE_FROM",
    "SCHEMA_VERSION",
    "Connection",
    "DuckDBError",
    "DuckDBPermissionError",
    "DuckDBStore",
    "default_db_path",
    "raw_connection",
]
