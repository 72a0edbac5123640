"""The dashboard's one door to the store: which store, the run's session, cached queries.

Everything the dashboard does with the store goes through `store()`, `session()` and
`cached()` here, and nothing else in app.py or pages/ touches the storage API. Cached results
are keyed on the store's `location` (a path or a URL: a ClickHouse store has no file) and its
data version, so a fetch in another process shows on the next page load.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import streamlit as st

from monitor import analyze, subscriptions
from monitor.errors import MonitorError
from monitor.models import Table
from monitor.store import StoreError, default_location, open_store
from monitor.store.base import Storage
from pages._ui.text import md_escape


def location() -> str:
    """Where the store is: MONITOR_DB (a DuckDB file, `clickhouse://...`, `chdb:///dir`),
    else data/monitor.duckdb."""
    return default_location()


@st.cache_resource(show_spinner=False)
def _open(where: str, read_only: bool) -> Storage:
    # Read-only: the store is never created nor migrated, and refuses every write.
    return open_store(where, read_only=read_only)


def store() -> Storage:
    """The dashboard's store (MONITOR_DB, else data/monitor.duckdb); read-only with
    MONITOR_READ_ONLY. A setting that is neither on nor off, or a location that is not a
    store, stops the page with its reason."""
    try:
        return _open(location(), read_only())
    except MonitorError as exc:
        st.error(f"The store cannot be opened: {md_escape(exc, limit=600)}")
        st.stop()


def session() -> AbstractContextManager[Any]:
    """One read session for a whole script run (app.py holds it around the page)."""
    return store().session()


def read_only() -> bool:
    """MONITOR_READ_ONLY=1: every write control hidden, and refused by the handlers. A value
    that is neither on nor off stops the page with its reason (never taken as off)."""
    try:
        return subscriptions.read_only()
    except ValueError as exc:
        st.error(md_escape(exc, limit=300), icon=":material/error:")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached(
    where: str,
    version: tuple[Any, ...],
    name: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    # `version` is only part of the key: a fetch in another process changes the store, so the
    # next page load asks the database again.
    del version
    result = getattr(analyze, name)(_open(where, read_only()), *args, **dict(kwargs))
    # The command line prints a Table's rows as they are; the pages work on DataFrames.
    return result.to_pandas() if isinstance(result, Table) else result


def cached(name: str, *args: Any, **kwargs: Any) -> Any:
    """`monitor.analyze.<name>(store, *args, **kwargs)`, cached on the arguments, the store's
    location and its data version (a Table comes back as a DataFrame). Called by the typed
    functions of `queries` only. A store problem stops the page with a one-line error."""
    # By name, looked up at call time: the benchmark times `analyze` by replacing its functions.
    s = store()
    try:
        return _cached(location(), s.data_version(), name, args, tuple(sorted(kwargs.items())))
    except StoreError as exc:
        st.error(f"The store cannot be read: {md_escape(exc, limit=600)}")
        st.stop()


def forget() -> None:
    """Forget every cached query result (after a write from this dashboard)."""
    _cached.clear()
