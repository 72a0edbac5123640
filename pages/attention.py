"""Attention: how much of the coverage each query gets over time, and share of voice."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from monitor import charts
from pages import _ui
from pages._ui import attention as ui

view = _ui.view()
st.title("Attention")
st.caption(view.caption())
st.caption(
    "Up to six queries (or saved ones as @name: saved below or with `monitor queries add NAME "
    f"QUERY`). Attention is a query's {view.noun} divided by all {view.noun} in the same "
    f"bucket and filters; share of voice is its share of the {view.noun} matching any of the "
    "queries."
)


def manage_saved(saved: list[Any]) -> None:
    """Save a query under a name (or edit one: its version goes up), or remove one."""
    _ui.show_flash("queries")
    if _ui.read_only():
        return
    with st.expander("Save a query as @name", expanded=False):
        with st.form("save-query", clear_on_submit=False):
            left, right = st.columns([1, 3])
            name = left.text_input("Name", max_chars=64, placeholder="eu")
            text = right.text_input(
                "Query", max_chars=2000, placeholder='EU OR "Europäische Union"'
            )
            if st.form_submit_button("Save", icon=":material/bookmark_add:"):
                _ui.save_query(name, text)
        if saved:
            with st.form("remove-query"):
                gone = st.selectbox("Saved query", [f"@{s.name}" for s in saved])
                if st.form_submit_button("Remove", icon=":material/delete:") and gone:
                    _ui.remove_query(str(gone)[1:])


def draw() -> None:
    """The page below the title; returns early (not st.stop: the URL is written after)."""
    if not _ui.queries.stats(view.filters)["articles"]:
        _ui.show_empty(view)
        return
    texts = ui.query_boxes()
    by = _ui.selectbox("Bucket", ["day", "week", "month"], index=1, key="by")
    saved = ui.saved()
    if saved:
        st.caption(
            "Saved: "
            + _ui.md_escape(", ".join(f"@{s.name} (version {s.version})" for s in saved), limit=600)
        )
    manage_saved(saved)
    if not texts:
        st.info("Type a query above to see its attention.", icon=":material/search:")
        return
    got = ui.parse_all(texts)
    if got is None:
        return
    parsed, labels = got
    result = ui.attention(view.filters, parsed, labels, by=by, timezone=view.timezone)
    series = result.series.to_pandas()
    if series.empty:
        _ui.show_empty(view)
        return

    counts = pd.DataFrame(
        {"bucket": series["bucket"], "series": series["query"], "count": series["count"]}
    )
    _ui.chart(
        charts.trend_chart(counts, **view.titles(f"{view.Noun} per {by}", "matching each query")),
        counts,
        "attention-counts",
    )
    shares = pd.DataFrame(
        {"day": series["bucket"], "series": series["query"], "share": series["share"]}
    )
    _ui.chart(
        charts.share_chart(
            shares, **view.titles("Attention", f"share of all {view.noun} in the {by} and filters")
        ),
        shares,
        "attention-share",
    )
    st.subheader("Share of voice")
    _ui.chart(
        charts.voice_chart(counts, **view.titles("Share of voice", f"per {by}, 100% stacked")),
        counts,
        "share-of-voice",
    )
    voice = result.voice.to_pandas()
    st.dataframe(
        charts.plain_table(voice),
        hide_index=True,
        column_config={
            "count": st.column_config.NumberColumn(view.noun, format="%d"),
            "share": st.column_config.NumberColumn("share of voice", format="percent"),
        },
    )
    st.caption(
        _ui.md_escape(
            f"{result.total} {view.noun} in the view, {result.union} match at least one query. "
            + result.note(),
            limit=600,
        )
    )

    for index, detail in enumerate(result.details):
        title = f"{_ui.md_escape(detail.query, limit=120)}: {detail.count} {view.noun}"
        with st.expander(title, expanded=index == 0):
            left, middle, right = st.columns(3)
            left.markdown("**Feeds that carry it most**")
            left.dataframe(
                charts.plain_table(detail.feeds.to_pandas()),
                hide_index=True,
                column_config={
                    # Long feed names would push the numbers out of sight.
                    "feed": st.column_config.TextColumn("feed", width="medium"),
                    "count": st.column_config.NumberColumn(view.noun, format="%d", width="small"),
                    "feed_total": st.column_config.NumberColumn(
                        f"feed's {view.noun}", format="%d", width="small"
                    ),
                    "share": st.column_config.NumberColumn(
                        "of the feed's output", format="percent"
                    ),
                },
            )
            middle.markdown("**Top tags**")
            middle.dataframe(
                charts.plain_table(detail.tags.to_pandas()),
                hide_index=True,
                column_config={"articles": st.column_config.NumberColumn(view.noun, format="%d")},
            )
            right.markdown("**Top terms**")
            right.dataframe(charts.plain_table(detail.terms.to_pandas()), hide_index=True)
            st.markdown("**Newest articles**")
            newest = detail.newest.to_pandas()
            newest["url"] = newest["url"].map(_ui.safe_url)
            st.dataframe(
                charts.plain_table(newest),
                hide_index=True,
                column_config={"url": st.column_config.LinkColumn("link")},
            )


draw()
