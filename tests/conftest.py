"""Shared fixtures: a fresh store per test, the shared real-world feeds, the HTTP test server,
and the dashboard under AppTest (tests/dashboard.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from engines import any_store, engine  # noqa: F401 - the engine-parametrised fixtures
from httpserver import TestServer

from monitor.store import DuckDBStore

if TYPE_CHECKING:
    from dashboard import Dashboard

REPO = Path(__file__).resolve().parents[1]
SHARED_FEEDS = REPO.parent / "shared" / "feeds"


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    """An empty store in a real DuckDB file."""
    return DuckDBStore(tmp_path / "monitor.duckdb")


@pytest.fixture
def shared_feeds() -> Path:
    if not SHARED_FEEDS.is_dir():
        pytest.skip(f"{SHARED_FEEDS} is not there (CI clones the repo beside shared/)")
    return SHARED_FEEDS


@pytest.fixture
def server() -> Iterator[TestServer]:
    """A real HTTP server on 127.0.0.1 (see tests/httpserver.py)."""
    with TestServer() as test_server:
        yield test_server


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Streamlit's process-wide caches emptied before and after the test."""
    from dashboard import clear_caches  # noqa: PLC0415 - imports streamlit: only when used

    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def apptest(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dashboard]:
    """The dashboard under AppTest: `apptest.open(db, page, **params)` (see tests/dashboard.py)."""
    from dashboard import dashboard  # noqa: PLC0415

    yield from dashboard(monkeypatch)
