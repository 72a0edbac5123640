"""The dashboard's UI helpers: what app.py and the pages share, so the pages stay thin.

- `store`: the one door to the storage (which store, the run's session, the cache);
- `queries`: the analysis as typed, cached functions (`queries.tags(f, limit=25)`);
- `view`, `url`, `link`, `widgets`, `sidebar`: the View, and the URL that holds it;
- `draw`, `flash`, `actions`: charts and tables, notes across reruns, the write handlers;
- `text`: escaping of untrusted text; `routing`: the one Streamlit workaround.

app.py builds the sidebar through `build_view()` before the page runs; each page calls
`view()` and the helpers re-exported here. Only app.py and pages/ import streamlit; analysis
lives in `monitor.analyze` (no SQL or text work here).
"""

from __future__ import annotations

from pages._ui import queries
from pages._ui.actions import (
    add_feed,
    change_stopwords,
    enable_feed,
    export,
    export_opml,
    feed_choice,
    fetch_now,
    import_opml,
    remove_feed,
    remove_query,
    retry_feed,
    save_query,
)
from pages._ui.draw import (
    EMPTY_MESSAGE,
    UNDATED_NOTE,
    article_table,
    chart,
    cloud_image,
    csv_bytes,
    download,
    is_empty,
    local_times,
    show_empty,
    tag_keys_for,
    undated,
)
from pages._ui.flash import flash, show_flash
from pages._ui.link import finish
from pages._ui.sidebar import build_view, show_notes, view
from pages._ui.store import read_only, session
from pages._ui.text import joined, md_escape, safe_url
from pages._ui.view import BUCKETS, RANGES, View, bucket_for
from pages._ui.widgets import (
    check_choice,
    date_input,
    multiselect,
    number_input,
    selectbox,
    tag_matcher,
    text_input,
    toggle,
)

__all__ = [
    "BUCKETS",
    "EMPTY_MESSAGE",
    "RANGES",
    "UNDATED_NOTE",
    "View",
    "add_feed",
    "article_table",
    "bucket_for",
    "build_view",
    "change_stopwords",
    "chart",
    "check_choice",
    "cloud_image",
    "csv_bytes",
    "date_input",
    "download",
    "enable_feed",
    "export",
    "export_opml",
    "feed_choice",
    "fetch_now",
    "finish",
    "flash",
    "import_opml",
    "is_empty",
    "joined",
    "local_times",
    "md_escape",
    "multiselect",
    "number_input",
    "queries",
    "read_only",
    "remove_feed",
    "remove_query",
    "retry_feed",
    "safe_url",
    "save_query",
    "selectbox",
    "session",
    "show_empty",
    "show_flash",
    "show_notes",
    "tag_keys_for",
    "tag_matcher",
    "text_input",
    "toggle",
    "undated",
    "view",
]
