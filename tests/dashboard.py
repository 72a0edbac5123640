"""The dashboard under Streamlit's AppTest, set up in one place for every test that opens it.

`Dashboard` (the `apptest` fixture in conftest.py) points MONITOR_DB at a real store file and
opens app.py, as a browser would: `open(db, page, **params)` follows a link straight to a page,
`visit(db, page)` opens the app and then picks the page in the menu, `app(db, **params)` leaves
the AppTest unrun. The fixture also empties Streamlit's process-wide caches around the test and
puts the app's own PagesManager fix in place (pages/_ui/routing.py says why).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
OVERVIEW = "pages/overview.py"


class Dashboard:
    """Opens app.py under AppTest on a store; environment changes are undone after the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def app(
        self,
        db: Path,
        *,
        timeout: float = 60,
        read_only: str | None = None,
        **params: str | list[str],
    ) -> AppTest:
        """AppTest of app.py on the store `db`, its URL parameters set, not yet run.

        `read_only`: MONITOR_READ_ONLY's value (None: as it is; the fixture starts it unset)."""
        self._monkeypatch.setenv("MONITOR_DB", str(db))
        if read_only is not None:
            self._monkeypatch.setenv("MONITOR_READ_ONLY", read_only)
        at = AppTest.from_file(APP, default_timeout=timeout)
        for key, value in params.items():
            at.query_params[key] = value
        return at

    def open(
        self,
        db: Path,
        page: str = OVERVIEW,
        *,
        timeout: float = 60,
        read_only: str | None = None,
        **params: str | list[str],
    ) -> AppTest:
        """A link straight to `page` with these parameters, opened (one run, which read the
        page's own parameters) and checked to have raised nothing."""
        return run_on(self.app(db, timeout=timeout, read_only=read_only, **params), page)

    def visit(
        self, db: Path, page: str = OVERVIEW, *, timeout: float = 60, read_only: str | None = None
    ) -> AppTest:
        """The app opened at its root, then `page` picked in the menu (two runs; the second is
        skipped when the first showed an error)."""
        at = self.app(db, timeout=timeout, read_only=read_only)
        at.run()
        if page != OVERVIEW and not at.error:
            at.switch_page(page).run()
        return at


def run_on(at: AppTest, page: str = OVERVIEW) -> AppTest:
    """Run `at` as a browser opening a link straight to `page` (its URL parameters set), and
    check that nothing raised."""
    if page != OVERVIEW:
        # Our url_paths are the file names, so the page is found before the first run too.
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def clear_caches() -> None:
    """Empty st.cache_data and st.cache_resource: they are process-wide, and one test's
    results (or open stores) must not leak into the next."""
    st.cache_data.clear()
    st.cache_resource.clear()


def dashboard(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dashboard]:
    """The body of the `apptest` fixture (conftest.py)."""
    monkeypatch.syspath_prepend(str(ROOT))  # pages/_ui is imported from the root, as app.py does
    from pages._ui.routing import RouterPagesManager  # noqa: PLC0415

    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", RouterPagesManager)
    monkeypatch.delenv("MONITOR_READ_ONLY", raising=False)
    clear_caches()
    yield Dashboard(monkeypatch)
    clear_caches()
