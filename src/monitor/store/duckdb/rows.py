"""Small helpers shared by the DuckDB engine's reads and writes.

DuckDB 2 refuses other work on a connection (registering a table, say) while a result is half
read, so single rows are read through `first`, which reads to the end."""

from __future__ import annotations

from typing import Any

import duckdb

from monitor.store.rows import utc_naive

__all__ = ["first", "utc_naive"]


def first(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result (None if empty), with the result read to the end."""
    rows = result.fetchall()
    return rows[0] if rows else None
