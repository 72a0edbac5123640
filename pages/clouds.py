"""Topic clouds: the view's words as a cloud and as bars, two clouds compared, stopwords."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from monitor import charts
from monitor.analyze import previous_window
from monitor.models import Filters
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Topic clouds")
st.caption(view.caption())

compare = _ui.toggle("Compare two clouds", key="compare")


def cloud(weights: dict[str, float], caption: str) -> None:
    """A word-cloud image, or a note when there are no words to draw."""
    try:
        image = _ui.cloud_image(weights, width=900, height=450)
    except ValueError:
        st.info("No words to draw for this side.", icon=":material/inbox:")
        return
    st.image(image, caption=caption, width="stretch")


def why_empty(side: Filters, label: str) -> None:
    """The true cause when one side of a comparison has no words."""
    state = queries.empty_state(side, need="terms", timezone=view.timezone)
    if state.cause != "none":
        st.info(_ui.md_escape(f"{label}: {state.message}", limit=500), icon=":material/inbox:")


if not compare:
    terms: pd.DataFrame = queries.terms(f, limit=100)
    if terms.empty or not terms["count"].sum():
        _ui.show_empty(view, "terms")
    else:
        left, right = st.columns([3, 2])
        with left:
            st.subheader("Word cloud")
            cloud(
                dict(zip(terms["term"], terms["count"], strict=True)),
                view.title("Word size = times used (stopwords removed)"),
            )
        with right:
            top = terms.head(25)
            _ui.chart(
                charts.bar_chart(
                    top, x="count", y="term", **view.titles("Top terms by times used")
                ),
                terms,
                "terms",
            )
else:
    side = _ui.selectbox(
        "Compare",
        ["authors", "feeds", "tags", "periods"],
        key="side",
        help="periods: this window against the one of equal length before it",
    )
    f_a: Filters | None = None
    f_b: Filters | None = None
    label_a = label_b = ""
    if side == "periods":
        before = previous_window(f, now=view.now)
        if before is None:
            st.info(
                "Choose a date range other than all time to compare it with the window before it."
            )
        else:
            f_a, f_b = f, before
            label_a = f"This window ({view.window}, {view.timezone})"
            label_b = "The window of equal length before it"
    else:
        choices: list[str] = list(queries.options()[side])
        if len(choices) < 2:
            st.info(f"Comparing needs at least two {side} in the store.")
        else:
            _ui.check_choice("a", choices)
            _ui.check_choice("b", choices)
            pick = st.columns(2)
            a = _ui.selectbox("Left", choices, index=0, key="a", where=pick[0])
            b = _ui.selectbox("Right", choices, index=1, key="b", where=pick[1])
            field = {"authors": "authors", "feeds": "feeds", "tags": "tags"}[side]
            f_a = replace(f, **{field: (a,)})
            f_b = replace(f, **{field: (b,)})
            label_a, label_b = a, b
    if f_a is not None and f_b is not None:
        scores: pd.DataFrame = queries.compare_terms(f_a, f_b, limit=60)
        if scores.empty:
            why_empty(f_a, "Left" if side != "periods" else "This window")
            why_empty(f_b, "Right" if side != "periods" else "The window before")
            st.info("No words to compare.", icon=":material/inbox:")
        else:
            st.caption(
                "Word size = how distinctive the word is of its side (weighted log-odds); "
                "words both sides use alike are left out."
            )
            columns = st.columns(2)
            for column, key, label in ((columns[0], "a", label_a), (columns[1], "b", label_b)):
                part = scores[scores["side"] == key]
                with column:
                    st.text(charts.plain_text(label))
                    cloud(
                        {
                            str(t): abs(float(s))
                            for t, s in zip(part["term"], part["score"], strict=True)
                        },
                        "Words most typical of this side"
                        + ("" if side == "periods" else f" · {view.window} · {view.timezone}"),
                    )
            _ui.download(scores, "compare-terms")

with st.expander("Stopwords (left out of every cloud)"):
    lists: pd.DataFrame = queries.stopword_lists()
    languages = sorted(set(lists["language"]))
    _ui.check_choice("swlang", languages)
    chosen = _ui.selectbox("Language", languages, key="swlang")
    words = lists[lists["language"] == chosen]
    st.dataframe(words[["word", "origin"]], hide_index=True, height=240)
    _ui.download(lists, "stopwords", named_by_view=False)
    if not _ui.read_only():
        with st.form("stopwords"):
            language = st.text_input(
                "Language code (de, en, … or * for every language)", value=chosen
            )
            typed = st.text_input("Words, separated by spaces or commas")
            add_col, remove_col = st.columns(2)
            add = add_col.form_submit_button("Add")
            remove = remove_col.form_submit_button("Remove (added words only)")
        if add or remove:
            _ui.change_stopwords(language, typed, add=bool(add))
