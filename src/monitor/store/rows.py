"""Small helpers shared by reads and writes.

DuckDB 2 refuses other work on a connection (registering a table, say) while a result is half
read, so single rows are read through `first`, which reads to the end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb


def first(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result (None if empty), with the result read to the end."""
    rows = result.fetchall()
    return rows[0] if rows else None


def utc_naive(moment: datetime) -> datetime:
    """The store keeps UTC as naive TIMESTAMPs; aware datetimes are converted first."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
