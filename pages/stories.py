"""Stories: the view's most covered stories (the same story in several outlets), one in detail:
how it spread over time and its articles. Feed content is shown as plain text only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import charts
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Stories")
st.caption(view.caption())

SHOWN = 100
table: pd.DataFrame = queries.stories(f, limit=SHOWN)
if table.empty:
    _ui.show_empty(view, "articles")
    st.stop()
st.caption(
    f"The {len(table):,} most covered stories in this view: articles that are near-copies of "
    "each other (agency copy, rewrites, updates), by the number of feeds that carried them."
)
clean = charts.plain_table(table)  # no bidi controls from feeds in the grid
shown = clean.assign(
    first_published=_ui.local_times(table["first_published"], view.timezone),
    last_published=_ui.local_times(table["last_published"], view.timezone),
)
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "story_id": None,
        "title": "Story (first article's title)",
        "outlets": st.column_config.NumberColumn("Outlets", format="%d"),
        "articles": st.column_config.NumberColumn("Articles", format="%d"),
        "first_feed": "First outlet",
        "first_published": st.column_config.DatetimeColumn(
            f"First ({view.timezone})", format="YYYY-MM-DD HH:mm"
        ),
        "last_published": st.column_config.DatetimeColumn(
            f"Last ({view.timezone})", format="YYYY-MM-DD HH:mm"
        ),
    },
)
_ui.download(table, "stories")

ids = [str(i) for i in table["story_id"]]
titles = dict(zip(ids, (charts.plain_text(str(t)) for t in table["title"]), strict=True))
_ui.check_choice("story", ids)
story = _ui.selectbox(
    "Show one story",
    ids,
    index=None,
    placeholder="Choose a story",
    key="story",
    format_func=lambda i: f"{titles.get(i, i)} ({i})",
)
if story:
    st.subheader("How it spread")
    st.text(f"Story: {titles.get(story, story)}")
    by, note = _ui.bucket_for(view, "hour")
    spread: pd.DataFrame = queries.story_spread(f, story, by=by, timezone=view.timezone)
    _ui.chart(
        charts.frequency_chart(spread, **view.titles(f"Articles per {by} in this story, by feed")),
        spread,
        "story-spread",
    )
    if note:
        st.caption(note)
    articles: pd.DataFrame = queries.story_articles(f, story)
    plain = charts.plain_table(articles)
    st.dataframe(
        plain.assign(
            published=_ui.local_times(articles["published"], view.timezone),
            url=[_ui.safe_url(u) for u in articles["url"]],
        ),
        hide_index=True,
        column_config={
            "id": None,
            "published": st.column_config.DatetimeColumn(
                f"Published ({view.timezone})", format="YYYY-MM-DD HH:mm"
            ),
            "title": "Title",
            "url": st.column_config.LinkColumn("Link", display_text="open"),
            "feed": "Feed",
            "language": "Language",
        },
    )
    _ui.download(articles, "story-articles")
