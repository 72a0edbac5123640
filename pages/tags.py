"""Hashtag trends: top tags over time, rising and falling tags, tags that go together."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import charts
from pages import _ui

view = _ui.view()
f = view.filters
st.title("Hashtag trends")

by, note = _ui.bucket_for(view, view.bucket)
over_time: pd.DataFrame = _ui.call(
    "frequency", f, by=by, split="tag", timezone=view.timezone, top=8
)
if _ui.is_empty(over_time):
    st.stop()
_ui.chart(
    charts.trend_chart(over_time, **view.titles(f"Articles per {by} for the top tags")),
    over_time,
    "tags-over-time",
)
if note:
    st.caption(note)

top: pd.DataFrame = _ui.call("tags", f, limit=25)


def _pick_tag() -> None:
    """A click on a bar adds that tag to the sidebar's tag filter (and so to the URL)."""
    event = st.session_state.get("chart-tags-top")
    selection = getattr(event, "selection", None) or (
        event.get("selection") if isinstance(event, dict) else None
    )
    keys = _ui.tag_keys_for(top, charts.selected_labels(selection))
    if keys:
        current = list(st.session_state.get("tag") or [])
        st.session_state["tag"] = current + [k for k in keys if k not in current]


left, right = st.columns(2)
with left:
    _ui.chart(
        charts.bar_chart(
            top,
            x="articles",
            y="tag",
            **view.titles("Top tags by articles", "click a bar to filter by that tag"),
        ),
        top,
        "tags-top",
        on_select=_pick_tag,
    )
with right:
    trends: pd.DataFrame = _ui.call("tag_trends", f, limit=15, now=view.now)
    if f.since is None:
        st.info(
            "Rising and falling tags compare with the window before this one: choose a "
            "date range other than all time."
        )
    else:
        columns = {
            "tag": "Tag",
            "current": st.column_config.NumberColumn("This window", format="%d"),
            "previous": st.column_config.NumberColumn("Window before", format="%d"),
            "change": st.column_config.NumberColumn("Change", format="%+d"),
            "z": st.column_config.NumberColumn(
                "Significance (z)",
                format="%.1f",
                help="How surprising the change is for a Poisson count, allowing for the "
                "windows' different article totals; |z| above 2 is notable",
            ),
            "key": None,
            "direction": None,
        }
        st.subheader("Rising")
        st.dataframe(
            trends[trends["direction"] == "rising"], hide_index=True, column_config=columns
        )
        st.subheader("Falling")
        st.dataframe(
            trends[trends["direction"] == "falling"], hide_index=True, column_config=columns
        )
        _ui.download(trends, "tag-trends")

st.subheader("Tags that appear together")
all_tags: list[str] = list(_ui.call("options")["tags"])
default = f.tags[0] if f.tags else (str(top["key"].iloc[0]) if not top.empty else None)
if all_tags:
    _ui.check_choice("with", all_tags)
    chosen = st.selectbox(
        "Tags co-occurring with",
        all_tags,
        index=all_tags.index(default) if default in all_tags else 0,
        key="with",
        bind="query-params",
    )
    together: pd.DataFrame = _ui.call("cooccurring_tags", f, chosen, limit=20)
    if together.empty:
        st.info("No other tag appears on these articles.")
    else:
        _ui.chart(
            charts.bar_chart(
                together,
                x="articles",
                y="tag",
                **view.titles(f"Other tags on articles tagged #{chosen}"),
            ),
            together,
            "tags-cooccurring",
        )
