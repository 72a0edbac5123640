"""shim for the parallel wave: remove after merge (now `monitor.store.duckdb.schema`)."""

from __future__ import annotations

from monitor.store.duckdb.schema import MIGRATIONS, READABLE_FROM, SCHEMA_VERSION

__all__ = ["MIGRATIONS", "READABLE_FROM", "SCHEMA_VERSION"]
