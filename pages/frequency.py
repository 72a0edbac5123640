"""Publishing frequency: articles over time, a weekday x hour heatmap, cadence per feed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import charts
from pages import _ui

view = _ui.view()
f = view.filters
st.title("Publishing frequency")

controls = st.columns(3)
by = controls[0].selectbox(
    "Bucket", _ui.BUCKETS, index=_ui.BUCKETS.index(view.bucket), key="by", bind="query-params"
)
split = controls[1].selectbox(
    "Split by", ["none", "feed", "author"], key="split", bind="query-params"
)
top = controls[2].number_input(
    "Top series (the rest is 'other')",
    min_value=1,
    max_value=20,
    value=8,
    step=1,
    key="top",
    bind="query-params",
)

by, note = _ui.bucket_for(view, by)
table: pd.DataFrame = _ui.call(
    "frequency",
    f,
    by=by,
    split=None if split == "none" else split,
    timezone=view.timezone,
    top=int(top),
)
if not _ui.is_empty(table):
    what = f"Articles per {by}" + ("" if split == "none" else f" by {split}")
    _ui.chart(charts.frequency_chart(table, **view.titles(what)), table, "frequency")
    if note:
        st.caption(note)

    cells: pd.DataFrame = _ui.call("heatmap", f, timezone=view.timezone)
    _ui.chart(
        charts.heatmap_chart(cells, **view.titles("Articles by weekday and hour")),
        cells,
        "heatmap",
    )

st.subheader("Cadence per feed")
cadence: pd.DataFrame = _ui.call("cadence", f, now=view.now)
if cadence.empty:
    st.info("No feeds yet. Add one on the Sources page or run `monitor demo`.")
else:
    flags = {"failing": "⚠ failing", "silent": "⚠ silent", "disabled": "⛔ disabled"}
    shown = cadence.assign(
        status=cadence["status"].map(lambda s: flags.get(s, s)),
        last_published=_ui.local_times(cadence["last_published"], view.timezone),
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "url": None,
            "feed": "Feed",
            "articles": st.column_config.NumberColumn("Articles", format="%d"),
            "per_day": st.column_config.NumberColumn("Per day", format="%.2f"),
            "median_gap_hours": st.column_config.NumberColumn("Median gap (h)", format="%.1f"),
            "last_published": st.column_config.DatetimeColumn(
                f"Last article ({view.timezone})", format="YYYY-MM-DD HH:mm"
            ),
            "status": "Status",
            "last_error": "Last error",
        },
    )
    st.caption(
        "failing: the last fetch failed · silent: nothing for more than three median gaps "
        "(and at least two days)"
    )
    _ui.download(cadence, "cadence")
