"""Overview: the window in four numbers, its publishing line, top tags, newest articles."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import charts
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Overview")
st.caption(view.caption())

compare: pd.DataFrame = queries.compare_windows(f, now=view.now)
labels = {
    "stories": "Stories",
    "articles": "Articles",
    "feeds": "Feeds",
    "authors": "Authors",
    "tags": "Tags",
}
columns = st.columns(len(compare))
for column, row in zip(columns, compare.to_dict("records"), strict=False):
    change = row["change"]
    has_change = change is not None and not pd.isna(change)
    column.metric(
        labels[row["metric"]],
        int(row["current"]),
        delta=int(change) if has_change else None,
        help="Change against the window of equal length just before this one"
        if has_change
        else "All time: there is no earlier window to compare with",
        border=True,
    )

if not int(compare.loc[compare["metric"] == "articles", "current"].iloc[0]):
    _ui.show_empty(view)
    st.stop()

by, note = _ui.bucket_for(view, view.bucket)
series: pd.DataFrame = queries.frequency(f, by=by, timezone=view.timezone)
st.subheader("Publishing")
st.caption(_ui.md_escape(view.title(f"{view.Noun} per {by}"), limit=160))
_ui.chart(
    charts.sparkline(series, unit=view.noun),
    series,
    "overview-publishing",
    config=charts.SPARKLINE_CONFIG,
)
if note:
    st.caption(note)

left, right = st.columns(2)
with left:
    top: pd.DataFrame = queries.tags(f, limit=15)
    if top.empty:
        _ui.show_empty(view, "tags")
    else:
        figure = charts.bar_chart(
            top, x="articles", y="tag", **view.titles(f"Top tags by {view.noun}")
        )
        _ui.chart(figure, top, "overview-top-tags")
with right:
    st.subheader("Newest articles")
    newest, total = queries.articles(f, limit=12)
    _ui.article_table(charts.plain_table(newest), view.timezone)
    st.caption(f"{total} articles in this view; all of them are on the Articles page.")
