"""Hashtag trends: top tags over time, rising and falling tags, tags that go together."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import analyze, charts
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Hashtag trends")
st.caption(view.caption())

top: pd.DataFrame = queries.tags(f, limit=25)
if top.empty:
    # No articles, or articles without a single tag: the empty state says which.
    _ui.show_empty(view, "tags")
    st.stop()

by, note = _ui.bucket_for(view, view.bucket)
over_time: pd.DataFrame = queries.frequency(f, by=by, split="tag", timezone=view.timezone, top=8)
# What the lines add up to in the subtitle (a screenshot keeps it); how a tag split counts
# in a caption, which wraps on a phone.
counted = analyze.split_total("tag", over_time.attrs)
_ui.chart(
    charts.trend_chart(over_time, **view.titles(f"{view.Noun} per {by} for the top tags", counted)),
    over_time,
    "tags-over-time",
)
st.caption(
    _ui.md_escape(
        f"{analyze.split_note('tag', over_time.attrs)} The lines for “other” (every tag "
        "outside the top 8) and “(no tag)” are hidden until you click them in the legend.",
        limit=400,
    )
)
if note:
    st.caption(note)


def _pick_tag() -> None:
    """A click on a bar adds that tag to the sidebar's tag filter (and so to the URL)."""
    event = st.session_state.get("chart-tags-top")
    selection = getattr(event, "selection", None) or (
        event.get("selection") if isinstance(event, dict) else None
    )
    # Bars carry their row in the table; the filter takes the display form (its choices).
    picked = [str(top["tag"].iloc[r]) for r in charts.selected_rows(selection) if r < len(top)]
    if picked:
        current = list(st.session_state.get("tag") or [])
        st.session_state["tag"] = current + [t for t in picked if t not in current]


left, right = st.columns(2)
with left:
    _ui.chart(
        charts.bar_chart(
            top,
            x="articles",
            y="tag",
            **view.titles(f"Top tags by {view.noun}", "click a bar to filter by that tag"),
        ),
        top,
        "tags-top",
        on_select=_pick_tag,
    )
with right:
    trends: pd.DataFrame = queries.tag_trends(f, limit=15, now=view.now)
    reason = trends.attrs.get("reason")
    if reason:
        st.info(_ui.md_escape(reason, limit=300), icon=":material/compare_arrows:")
    else:
        # Significance first (a phone shows the first columns), then what it is computed
        # from: the share of the window's articles, and the count expected at the old share.
        columns = {
            "tag": "Tag",
            "z": st.column_config.NumberColumn(
                "Significance (z)",
                format="%.1f",
                help="How surprising the change in share is for Poisson counts, allowing for "
                "the windows' different article totals; |z| above 2 is notable. The rows are "
                "sorted by it",
            ),
            "share": st.column_config.NumberColumn(
                "Share now", format="percent", help="Of this window's articles, with the tag"
            ),
            "share_before": st.column_config.NumberColumn(
                "Share before", format="percent", help="Of the earlier window's articles"
            ),
            "current": st.column_config.NumberColumn("This window", format="%d"),
            "expected": st.column_config.NumberColumn(
                "Expected",
                format="%.1f",
                help="Articles the tag would have in this window had its share stayed the "
                "same: rising means more than expected, falling fewer",
            ),
            "previous": st.column_config.NumberColumn("Window before", format="%d"),
            "change": st.column_config.NumberColumn(
                "Change",
                format="%+d",
                help="This window minus the window before, in articles; it can be positive "
                "for a falling tag when this window has more articles",
            ),
            "key": None,
            "direction": None,
        }
        n_now = int(trends.attrs.get("articles", 0))
        n_before = int(trends.attrs.get("articles_before", 0))
        st.caption(
            f"{n_now:,} {view.noun} in this window, {n_before:,} in the one before: a tag "
            f"rises when its share of the {view.noun} grows."
        )
        for heading, direction in (("Rising", "rising"), ("Falling", "falling")):
            st.subheader(heading)
            part = trends[trends["direction"] == direction]
            if part.empty:
                st.caption(f"No {direction} tags.")
            else:
                st.dataframe(charts.plain_table(part), hide_index=True, column_config=columns)
        _ui.download(trends, "tag-trends")

st.subheader("Tags that appear together")
all_tags: list[str] = list(queries.options()["tags"])
shown = [str(t) for t in top["tag"]]
default = next(
    (analyze.tag_choice(t, all_tags) for t in f.tags if analyze.tag_choice(t, all_tags)),
    shown[0] if shown else None,
)
if all_tags:
    # A link may name the tag in any of its forms ("ukrainekonflikt", "#Zollstreit").
    in_any_form = _ui.tag_matcher(all_tags)
    _ui.check_choice("with", all_tags, match=in_any_form)
    chosen = _ui.selectbox(
        "Tags co-occurring with",
        all_tags,
        index=all_tags.index(default) if default in all_tags else 0,
        key="with",
        match=in_any_form,
    )
    together: pd.DataFrame = queries.cooccurring_tags(f, chosen, limit=20)
    if together.empty:
        alone = f"No other tag appears on the articles tagged {chosen} in this view."
        st.info(_ui.md_escape(alone, limit=200))
    else:
        _ui.chart(
            charts.bar_chart(
                together,
                x="articles",
                y="tag",
                **view.titles(f"Other tags on {view.noun} tagged #{chosen}"),
            ),
            together,
            "tags-cooccurring",
        )
