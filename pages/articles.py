"""Articles: the filtered articles, sorted and paged, with CSV and JSON downloads of them all."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from pages import _ui
from pages._ui import queries

PAGE_SIZE = 50

view = _ui.view()
f = view.filters
st.title("Articles")
st.caption(view.caption())

controls = st.columns([2, 1, 1])
sort = _ui.selectbox(
    "Sort by", ["published", "title", "reading time"], key="sort", where=controls[0]
)
ascending = _ui.toggle("Ascending", key="asc", where=controls[1])
SORT_COLUMN = {"published": "published", "title": "title", "reading time": "reading_minutes"}
first, total = queries.articles(f, sort=SORT_COLUMN[sort], descending=not ascending, limit=1)
if not total:
    st.info(_ui.EMPTY_MESSAGE, icon=":material/inbox:")
    st.stop()
pages = max(1, math.ceil(total / PAGE_SIZE))
number = _ui.number_input(
    f"Page (of {pages})", min_value=1, max_value=pages, value=1, key="page", where=controls[2]
)
rows: pd.DataFrame
rows, total = queries.articles(
    f,
    sort=SORT_COLUMN[sort],
    descending=not ascending,
    limit=PAGE_SIZE,
    offset=(number - 1) * PAGE_SIZE,
)
start = (number - 1) * PAGE_SIZE
st.caption(
    f"Articles {start + 1}–{start + len(rows)} of {total} · times in {_ui.md_escape(view.timezone)}"
)
_ui.article_table(rows, view.timezone, height=min(38 + 35 * len(rows), 900))
if _ui.undated(rows):
    st.caption(_ui.UNDATED_NOTE)

downloads = st.columns(2)
# The export is built only when a button is clicked (a callable), from the same filters.
downloads[0].download_button(
    f"Download all {total} as CSV",
    data=lambda: _ui.export(f, "csv"),
    file_name=view.filename("articles", "csv"),
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    key="dl-articles-csv",
)
downloads[1].download_button(
    f"Download all {total} as JSON",
    data=lambda: _ui.export(f, "json"),
    file_name=view.filename("articles", "json"),
    mime="application/json",
    on_click="ignore",
    icon=":material/download:",
    key="dl-articles-json",
)
