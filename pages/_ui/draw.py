"""Drawing helpers the pages share: charts with their data download, article tables, word
clouds, the empty state. Every value from a feed is shown as plain text.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import pandas as pd
import streamlit as st

from monitor import analyze, charts
from pages._ui import queries, view
from pages._ui.text import joined, md_escape, safe_url

EMPTY_MESSAGE = "No articles in this view. Add a feed on the Sources page or run `monitor demo`."


def is_empty(table: pd.DataFrame | None, *, column: str | None = "count") -> bool:
    """True (and the empty-state note shown) when a table has nothing to draw."""
    if (
        table is None
        or table.empty
        or (column is not None and column in table and not table[column].astype(float).sum())
    ):
        st.info(EMPTY_MESSAGE, icon=":material/inbox:")
        return True
    return False


def show_empty(view_: view.View, need: str = "articles") -> None:
    """The empty state with its true cause (`analyze.empty_state`): an empty store, a date
    range without articles, a search without hits, a view whose articles have no tags..."""
    state = queries.empty_state(view_.filters, need=need, timezone=view_.timezone)
    st.info(md_escape(state.message, limit=400), icon=":material/inbox:")


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as CSV through the project's one CSV writer: feed text that a spreadsheet
    would run as a formula is neutralised there, for every chart's data as for the exports."""
    out = io.StringIO()
    analyze.write_csv(out, table.to_dict("records"), columns=list(table.columns))
    return out.getvalue().encode("utf-8")


def download(
    table: pd.DataFrame,
    name: str,
    *,
    label: str = "Download data (CSV)",
    named_by_view: bool = True,
) -> None:
    """A CSV download of exactly the table a chart was drawn from (made only on a click),
    named after its view: `frequency_2026-11-01_2026-11-20_tag-trump.csv`.
    `named_by_view=False` for a table the filters do not narrow (feeds, stopwords)."""
    current = view.current()
    st.download_button(
        label,
        data=lambda: csv_bytes(table),
        file_name=current.filename(name, "csv")
        if named_by_view and current is not None
        else f"{name}.csv",
        mime="text/csv",
        key=f"dl-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _cloud_png(words: tuple[tuple[str, float], ...], width: int, height: int) -> bytes:
    image = charts.word_cloud(dict(words), width=width, height=height)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def cloud_image(weights: Mapping[str, float], *, width: int, height: int) -> bytes:
    """A word cloud as PNG bytes, drawn once per set of words and size (drawing one takes
    about 0.4 s, more than every query of the page). ValueError when there is nothing to
    draw."""
    words = tuple((str(k), float(v)) for k, v in weights.items())
    return _cloud_png(words, width, height)


def chart(
    figure: Any,
    table: pd.DataFrame,
    name: str,
    *,
    on_select: Callable[[], None] | None = None,
    config: dict[str, Any] | None = None,
) -> None:
    """A plotly figure (charts.py styles it: Streamlit's theme off) and its data as CSV."""
    figure = charts.escape_figure(figure)  # a no-op for charts.py's; a page's own is escaped
    options: dict[str, Any] = {"theme": None, "config": config or charts.CONFIG}
    if on_select is not None:
        st.plotly_chart(
            figure, key=f"chart-{name}", on_select=on_select, selection_mode="points", **options
        )
    else:
        st.plotly_chart(figure, key=f"chart-{name}", **options)
    download(table, name)


def local_times(series: pd.Series, zone: str) -> pd.Series:
    """Naive UTC timestamps from the store as naive local times in `zone`, for display."""
    stamps = pd.to_datetime(series)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert(zone).dt.tz_localize(None)


# Where an article's time came from, in words; "first seen" is marked: the feed gave no usable
# date, so the time is when monitor first fetched the entry, not when it was published.
DATE_SOURCE_LABELS = {
    "feed": "",
    "feed-updated": "feed's updated time",
    "page": "article page",
    "page-relative": "article page (relative, e.g. “2 hours ago”)",
    "first-seen": "⚠ first seen",
    "first_seen": "⚠ first seen",
}
UNDATED_NOTE = (
    "⚠ first seen: the feed gave no usable date for the article, so its time is when monitor "
    "first fetched it, not when it was published."
)


def _date_label(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return DATE_SOURCE_LABELS.get(text, text)


def undated(table: pd.DataFrame) -> bool:
    """Whether any row's time is its first-seen time (the table then says what that means)."""
    if "date_source" not in table:
        return False
    return bool(table["date_source"].map(_date_label).str.startswith("⚠").any())


def article_table(
    table: pd.DataFrame, zone: str, *, height: int | Literal["auto", "stretch", "content"] = "auto"
) -> None:
    """Articles as a table: published (local), where that time came from (first-seen times
    marked), title, a link (http/https only), feed, authors, tags, reading time. Every value
    is plain text in the grid."""
    sources = table["date_source"] if "date_source" in table else pd.Series([None] * len(table))
    shown = pd.DataFrame(
        {
            "published": local_times(table["published"], zone),
            "dated_by": [_date_label(v) for v in sources],
            "title": table["title"].astype(str),
            "link": table["url"].map(safe_url),
            "feed": table["feeds"].map(joined),
            "authors": table["authors"].map(joined),
            "tags": table["tags"].map(joined),
            "reading_minutes": table["reading_minutes"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        height=height,
        column_config={
            "published": st.column_config.DatetimeColumn(
                f"Published ({zone})", format="YYYY-MM-DD HH:mm"
            ),
            "dated_by": st.column_config.TextColumn(
                "Date from",
                help="Blank: the feed's publication date. ⚠ first seen: the feed gave no usable "
                "date; the time is when monitor first fetched the article.",
            ),
            "title": st.column_config.TextColumn("Title", width="large"),
            "link": st.column_config.LinkColumn(
                "Link", display_text="open ↗", help="Only http(s) links are shown"
            ),
            "feed": "Feed",
            "authors": "Authors",
            "tags": "Tags",
            "reading_minutes": st.column_config.NumberColumn("Reading (min)", format="%d"),
        },
    )


def tag_keys_for(table: pd.DataFrame, labels: list[str]) -> list[str]:
    """Tag keys for labels clicked in a tags bar chart (display forms or keys)."""
    by_label = {str(r["tag"]): str(r["key"]) for r in table.to_dict("records")}
    keys = {str(k) for k in table["key"]}
    found = []
    for label in labels:
        key = by_label.get(label) or (label if label in keys else None)
        if key and key not in found:
            found.append(key)
    return found
