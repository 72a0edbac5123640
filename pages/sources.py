"""Sources: every feed and its health; add feeds, OPML in and out, fetch now; retry, re-enable
or remove one feed.

Every write reruns the page (pages/_ui/actions.py), so the table is always the store as it is
now, and its outcome is shown next to the control used. With MONITOR_READ_ONLY=1 the write
controls are not drawn and the handlers refuse as well.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages import _ui
from pages._ui import queries

view = _ui.view()
st.title("Sources")
st.caption(view.caption(filters=False))

feeds: pd.DataFrame = queries.feeds()
if feeds.empty:
    st.info("No feeds yet. Add one below (or run `monitor feeds add URL` or `monitor demo`).")
else:
    health = feeds.assign(
        name=feeds["name"].fillna(feeds["title"]).fillna(""),
        last_fetch_at=_ui.local_times(feeds["last_fetch_at"], view.timezone),
        next_due_at=_ui.local_times(feeds["next_due_at"], view.timezone),
        last_published=_ui.local_times(feeds["last_published"], view.timezone),
        link=feeds["url"].map(_ui.safe_url),
        status=[
            "⛔ disabled" if d else ("⚠ failing" if e else ("ok" if s else "never fetched"))
            for d, e, s in zip(
                feeds["disabled"],
                feeds["error_count"],
                feeds["last_status"].notna(),
                strict=True,
            )
        ],
    )
    time_format = "YYYY-MM-DD HH:mm"
    st.dataframe(
        health[
            [
                "name",
                "link",
                "kind",
                "subscribed",
                "status",
                "last_fetch_at",
                "last_status",
                "error_count",
                "last_error",
                "disabled_reason",
                "next_due_at",
                "warning",
                "articles",
                "last_published",
            ]
        ],
        hide_index=True,
        column_config={
            "name": "Feed",
            "link": st.column_config.LinkColumn("URL", help="Only http(s) URLs are shown"),
            "kind": "Kind",
            "subscribed": st.column_config.CheckboxColumn("Subscribed"),
            "status": "Health",
            "last_fetch_at": st.column_config.DatetimeColumn(
                f"Last fetch ({view.timezone})", format=time_format
            ),
            "last_status": st.column_config.NumberColumn("HTTP status", format="%d"),
            "error_count": st.column_config.NumberColumn("Errors in a row", format="%d"),
            "last_error": "Last error",
            "disabled_reason": "Why disabled",
            "next_due_at": st.column_config.DatetimeColumn(
                f"Next fetch ({view.timezone})", format=time_format
            ),
            "warning": "Warning",
            "articles": st.column_config.NumberColumn("Articles", format="%d"),
            "last_published": st.column_config.DatetimeColumn(
                f"Last article ({view.timezone})", format=time_format
            ),
        },
    )
    _ui.download(feeds, "feeds", named_by_view=False)

st.download_button(
    "Export subscriptions (OPML)",
    data=lambda: _ui.export_opml(),
    file_name="monitor-feeds.opml",
    mime="text/x-opml",
    on_click="ignore",
    icon=":material/download:",
    key="dl-opml",
)

if _ui.read_only():
    st.caption("This dashboard is read-only: feeds are managed with the `monitor` command.")
    st.stop()

st.subheader("Add a feed")
_ui.show_flash("add")
with st.form("add-feed", clear_on_submit=False):
    url = st.text_input(
        "Feed URL, or the address of a page that links to its feed",
        max_chars=2000,
        placeholder="example.com/feed (https:// is assumed)",
    )
    name = st.text_input("Name (optional)", max_chars=200)
    full_text = st.checkbox(
        "Fetch the full article pages",
        help="For feeds that carry only "
        "a teaser: each new article's page is fetched and its text used.",
    )
    if st.form_submit_button("Add feed", icon=":material/add:"):
        _ui.add_feed(url, name, full_text)
_ui.feed_choice()

st.subheader("Import OPML")
_ui.show_flash("opml")
with st.form("import-opml", clear_on_submit=True):
    upload = st.file_uploader("OPML file", type=["opml", "xml"])
    if st.form_submit_button("Import", icon=":material/upload:"):
        _ui.import_opml(upload.getvalue() if upload is not None else None)

st.subheader("Fetch now")
_ui.show_flash("fetch")
if st.button("Fetch all subscribed feeds now", icon=":material/refresh:", key="fetch-now"):
    _ui.fetch_now()

if not feeds.empty:
    st.subheader("One feed")
    _ui.show_flash("manage")
    rows = {str(r["url"]): r for r in feeds.to_dict("records")}
    # Option labels of a selectbox are plain text (no markdown): shown as they are.
    chosen = st.selectbox(
        "Feed",
        list(rows),
        format_func=lambda u: (
            f"{rows[u]['name'] or rows[u]['title'] or u} · {u}"
            + (" · disabled" if rows[u]["disabled"] else "")
        ),
        key="_manage-feed",  # an action, not part of the view: not in the URL
    )
    row = rows[str(chosen)]
    retry, enable, remove = st.columns(3)
    if row["kind"] != "http":
        retry.caption("Read from a file, not fetched: `monitor ingest` reads it again.")
    elif row["disabled"]:
        enable.caption(f"Disabled: {_ui.md_escape(row['disabled_reason'] or 'by hand', limit=120)}")
        if enable.button("Re-enable and fetch", icon=":material/restart_alt:", key="enable-feed"):
            _ui.enable_feed(str(chosen))
    else:
        retry.caption(
            f"{int(row['error_count'])} errors in a row" if row["error_count"] else "Healthy"
        )
        if retry.button("Retry now", icon=":material/refresh:", key="retry-feed"):
            _ui.retry_feed(str(chosen))
    confirmed = remove.checkbox(
        f"Yes, remove it, with those of its {int(row['articles'])} articles no other feed carries",
        key="_confirm-remove",  # an action, not part of the view
    )
    if remove.button(
        "Remove feed", icon=":material/delete:", key="remove-feed", disabled=not confirmed
    ):
        _ui.remove_feed(str(chosen))
