"""The monitor dashboard: `streamlit run app.py` from the repository root.

This file is the router: it builds the shared sidebar filters (all of them in the URL) and then
runs the chosen page from pages/. Pages are thin; the analysis is `monitor.analyze`.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from pages import _ui

# An emoji favicon is drawn by the browser itself; a ":material/...:" one is fetched from
# fonts.gstatic.com, and nothing in the browser may leave the machine.
st.set_page_config(page_title="monitor", page_icon="📡", layout="wide")

OVERVIEW = "pages/overview.py"
PAGES = [
    # Streamlit serves the default page at "/" only, never at its url_path (a link to /overview
    # said "Page not found"): that path is the hidden entry at the end.
    st.Page(OVERVIEW, title="Overview", icon=":material/dashboard:", url_path="", default=True),
    st.Page(
        "pages/frequency.py",
        title="Publishing frequency",
        icon=":material/bar_chart:",
        url_path="frequency",
    ),
    st.Page("pages/tags.py", title="Hashtag trends", icon=":material/tag:", url_path="tags"),
    st.Page("pages/clouds.py", title="Topic clouds", icon=":material/cloud:", url_path="clouds"),
    st.Page("pages/topics.py", title="Topics", icon=":material/hub:", url_path="topics"),
    st.Page("pages/authors.py", title="Authors", icon=":material/person:", url_path="authors"),
    st.Page("pages/articles.py", title="Articles", icon=":material/article:", url_path="articles"),
    st.Page("pages/stories.py", title="Stories", icon=":material/layers:", url_path="stories"),
    st.Page(
        "pages/attention.py", title="Attention", icon=":material/query_stats:", url_path="attention"
    ),
    st.Page("pages/sources.py", title="Sources", icon=":material/rss_feed:", url_path="sources"),
    # The Overview under its own path as well, for links that name it; not in the menu.
    st.Page(
        OVERVIEW,
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        visibility="hidden",
    ),
]

page = st.navigation(PAGES)
# One read connection for the whole script run (closed at its end, or when the page writes).
with _ui.session():
    _ui.build_view()
    _ui.show_notes()
    _ui.show_flash()
    try:
        page.run()
    except StopException:
        # A page that stops early (an empty view) still leaves its view in the URL.
        _ui.finish(page.url_path)
        raise
    _ui.finish(page.url_path)
