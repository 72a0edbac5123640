"""Publishing frequency: articles over time, a weekday x hour heatmap, cadence per feed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import analyze, charts
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Publishing frequency")
st.caption(view.caption())

controls = st.columns(3)
by = _ui.selectbox(
    "Bucket", _ui.BUCKETS, index=_ui.BUCKETS.index(view.bucket), key="by", where=controls[0]
)
split = _ui.selectbox("Split by", ["none", "feed", "author"], key="split", where=controls[1])
top = _ui.number_input(
    "Top series (the rest is 'other')",
    min_value=1,
    max_value=20,
    value=8,
    key="top",
    where=controls[2],
)

by, note = _ui.bucket_for(view, by)
chosen_split = None if split == "none" else split
table: pd.DataFrame = queries.frequency(
    f,
    by=by,
    split=chosen_split,
    timezone=view.timezone,
    top=int(top),
)
if table.empty or not table["count"].sum():
    _ui.show_empty(view)
else:
    what = f"{view.Noun} per {by}" + ("" if chosen_split is None else f" by {split}")
    # What the stacked bars add up to (with a split: article-series pairs), in the subtitle
    # so a screenshot keeps it; how a split counts in a caption, which wraps on a phone.
    counted = analyze.split_total(chosen_split, table.attrs)
    _ui.chart(charts.frequency_chart(table, **view.titles(what, counted)), table, "frequency")
    explained = analyze.split_note(chosen_split, table.attrs)
    if explained:
        st.caption(_ui.md_escape(explained, limit=300))
    if note:
        st.caption(note)

    cells: pd.DataFrame = queries.heatmap(f, timezone=view.timezone)
    _ui.chart(
        charts.heatmap_chart(cells, **view.titles(f"{view.Noun} by weekday and hour")),
        cells,
        "heatmap",
    )

st.subheader("Cadence per feed")
cadence: pd.DataFrame = queries.cadence(f, now=view.now)
if cadence.empty:
    if f.feeds:
        st.info("None of the chosen feeds is in the store.", icon=":material/inbox:")
    else:
        _ui.show_empty(view)
else:
    flags = {"failing": "⚠ failing", "silent": "⚠ silent", "disabled": "⛔ disabled"}
    shown = charts.plain_table(cadence).assign(
        feed_status=cadence["feed_status"].map(lambda s: flags.get(s, s)),
        last_in_view=_ui.local_times(cadence["last_in_view"], view.timezone),
        feed_last_article=_ui.local_times(cadence["feed_last_article"], view.timezone),
        feed_last_fetch=_ui.local_times(cadence["feed_last_fetch"], view.timezone),
    )
    zone = view.timezone
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            # The feed's own state first (what a phone shows without scrolling), then what
            # the view holds; every "Feed: ..." column ignores the filters.
            "feed_status": st.column_config.TextColumn(
                "Feed status",
                help="The feed itself, whatever the filters: failing (its last fetch failed), "
                "silent (nothing for more than three times its usual gap and two days), "
                "disabled, no articles, ok",
            ),
            "feed": "Feed",
            "articles": st.column_config.NumberColumn(
                "Articles in view", format="%d", help="Articles of this feed in the view"
            ),
            "per_day": st.column_config.NumberColumn(
                "Per day in view", format="%.2f", help="Articles in the view per day"
            ),
            "median_gap_hours": st.column_config.NumberColumn(
                "Median gap in view (h)", format="%.1f"
            ),
            "last_in_view": st.column_config.DatetimeColumn(
                f"Last article in view ({zone})", format="YYYY-MM-DD HH:mm"
            ),
            "feed_last_article": st.column_config.DatetimeColumn(
                f"Feed: last article ({zone})",
                format="YYYY-MM-DD HH:mm",
                help="The feed's newest stored article, whatever the filters",
            ),
            "feed_last_fetch": st.column_config.DatetimeColumn(
                f"Feed: last fetch ({zone})", format="YYYY-MM-DD HH:mm"
            ),
            "feed_errors": st.column_config.NumberColumn(
                "Feed: errors", format="%d", help="Failed fetches in a row"
            ),
            "feed_last_error": "Feed: last error",
            "url": None,
        },
    )
    st.caption(
        "Articles, per day, median gap and last article in view follow the filters; "
        "the feed columns are about the feed itself. failing: the last fetch failed · "
        "silent: nothing for more than three times the feed's usual gap (and two days)"
    )
    _ui.download(cadence, "cadence")
