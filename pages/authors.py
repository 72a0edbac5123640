"""Authors: who writes how much, where and about what; one author in detail."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from monitor import charts
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Authors")
st.caption(view.caption())

SHOWN = 500
table: pd.DataFrame = queries.authors(f, limit=SHOWN)
if table.empty:
    _ui.show_empty(view, "authors")
    st.stop()
total = int(table.attrs.get("total", len(table)))
if total > len(table):
    st.caption(
        f"The {len(table):,} most prolific of {total:,} authors in this view; "
        "choose others with the sidebar's author filter."
    )
unattributed = int(table.attrs.get("unattributed", 0))
if unattributed:
    st.caption(
        f"{unattributed:,} {view.noun} in this view name no author; they are not in this table "
        "(the Publishing frequency page shows them as “(no author)”)."
    )
clean = charts.plain_table(table)  # no bidi controls from feeds in the grid
shown = clean.assign(
    top_tags=clean["top_tags"].map(_ui.joined),
    first_published=_ui.local_times(table["first_published"], view.timezone),
    last_published=_ui.local_times(table["last_published"], view.timezone),
)
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "author": "Author",
        "articles": st.column_config.NumberColumn(view.Noun, format="%d"),
        "feeds": st.column_config.NumberColumn("Feeds", format="%d"),
        "first_published": st.column_config.DatetimeColumn(
            f"First article ({view.timezone})", format="YYYY-MM-DD HH:mm"
        ),
        "last_published": st.column_config.DatetimeColumn(
            f"Last article ({view.timezone})", format="YYYY-MM-DD HH:mm"
        ),
        "mean_reading_minutes": st.column_config.NumberColumn("Mean reading (min)", format="%.1f"),
        "top_tags": "Top tags",
    },
)
_ui.download(table, "authors")

names = [str(a) for a in table["author"]]
_ui.check_choice("who", names)
who = _ui.selectbox("Show one author", names, index=None, placeholder="Choose an author", key="who")
if who:
    one = replace(f, authors=(who,))
    by, note = _ui.bucket_for(view, view.bucket)
    series: pd.DataFrame = queries.frequency(one, by=by, timezone=view.timezone)
    st.subheader("Publishing")
    st.text(f"Author: {charts.plain_text(who)}")
    _ui.chart(
        charts.frequency_chart(series, **view.titles(f"{view.Noun} per {by} by this author")),
        series,
        "author-frequency",
    )
    if note:
        st.caption(note)
    left, right = st.columns(2)
    with left:
        tags: pd.DataFrame = queries.tags(one, limit=15)
        if tags.empty:
            st.info("This author's articles carry no tags.")
        else:
            _ui.chart(
                charts.bar_chart(
                    tags, x="articles", y="tag", **view.titles("This author's top tags")
                ),
                tags,
                "author-tags",
            )
    with right:
        terms: pd.DataFrame = queries.terms(one, limit=80)
        if terms.empty:
            st.info("No words to draw for this author.")
        else:
            image = _ui.cloud_image(
                dict(zip(terms["term"], terms["count"], strict=True)), width=700, height=420
            )
            st.image(image, caption=view.title("This author's words"), width="stretch")
            _ui.download(terms, "author-terms")
