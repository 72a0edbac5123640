"""The one place that keeps Streamlit's legacy `pages/` discovery out of this app.

app.py routes with `st.navigation`, and the pages live in `pages/` (the design names it).
Streamlit 1.67 decides once per process whether an app is an old-style `pages/` app: the first
`PagesManager` sets the class attribute `uses_pages_directory` to "a pages/ folder exists next
to the entrypoint" (streamlit/runtime/pages_manager.py), and only a call of `st.navigation`
sets it back to False (streamlit/commands/navigation.py). While it is True the script runner
runs a requested page's file on its own, not app.py (`_mpa_v1` in
streamlit/runtime/scriptrunner/script_runner.py): a server's first visitor to /authors got the
page without the sidebar. There is no setting for it (`client.showSidebarNavigation` only hides
the legacy menu), and Streamlit's advice is to rename the folder. Streamlit's own review of the
change that made st.navigation the default describes the fall-back to the legacy mode on a
direct URL with a pages/ folder: https://github.com/streamlit/streamlit/pull/10276 ; AppTest
resets the flag before every run since https://github.com/streamlit/streamlit/pull/14217
(issue https://github.com/streamlit/streamlit/issues/9446). Delete this module when the
`pages/` mode is gone from Streamlit or the folder is renamed.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def _leave_legacy_mode() -> bool:
    """Tell Streamlit that app.py routes; True when it had taken this for a pages/ app."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        return True
    return False


def route_through_app() -> None:
    """Make sure app.py is the router, even when the server's first visitor opens a page URL:
    a page run on its own switches the legacy mode off and reruns, through app.py."""
    if _leave_legacy_mode():
        st.rerun()


class RouterPagesManager(PagesManager):
    """For AppTest (tests/dashboard.py and bench/bench_scale.py put it in place of AppTest's
    PagesManager). AppTest forgets before every run what a server learns once, that app.py
    routes, so every run after `switch_page` would first run the page alone and then rerun
    through `route_through_app`: a server's first visit, not the steady state, and an extra
    run in every timing. With this, an AppTest run is what a warm server does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _leave_legacy_mode()
