"""Topic clouds: the view's key words (or most used) as clouds and bars, one per language;
two clouds compared; stopwords."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from monitor import analyze, charts
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


LANGUAGE_NAMES = {"de": "German", "en": "English", "fr": "French", "es": "Spanish"}
LANGUAGE_NAMES |= {"it": "Italian", "nl": "Dutch"}


def language_name(code: str | None) -> str:
    if code is None:
        return "All languages"
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


if not compare:
    controls = st.columns([2, 2, 3])
    weight = _ui.selectbox(
        "Weighting",
        list(analyze.WEIGHTS),
        key="weight",
        where=controls[0],
        help="keyness: words used distinctly more often in this view than usual (against the "
        "store's other articles and general language); frequency: times used",
    )
    per_language = _ui.toggle(
        "One cloud per language",
        key="perlang",
        value=True,
        where=controls[1],
        help="Off: one cloud of every language together",
    )
    clouds = queries.term_clouds(f, weight=weight, per_language=per_language, limit=100)
    if all(table.empty for _, table in clouds):
        if weight == "keyness" and not queries.terms(f, limit=1).empty:
            note = clouds[0][1].attrs.get("note") or "no term is distinctive here"
            st.info(
                _ui.md_escape(f"{note}; try the frequency weighting.", limit=300),
                icon=":material/inbox:",
            )
        else:
            _ui.show_empty(view, "terms")
    else:
        for lang, terms in clouds:
            shown_weight = str(terms.attrs.get("weight", weight))
            what = analyze.WEIGHT_TEXT[shown_weight]
            st.subheader(
                f"{language_name(lang)} · {int(terms.attrs.get('articles', 0)):,} articles"
            )
            if terms.attrs.get("note"):
                st.caption(_ui.md_escape(str(terms.attrs["note"]), limit=300))
            if terms.empty:
                st.info("No words to draw for this language.", icon=":material/inbox:")
                continue
            left, right = st.columns([3, 2])
            with left:
                cloud(charts.cloud_words(terms), view.title(f"Word size = {what}"))
            with right:
                top = terms.head(25)
                value = "score" if shown_weight == "keyness" else "count"
                if value == "score":
                    top = top.assign(score=top["score"].round(1))
                label = "display" if "display" in top.columns else "term"
                _ui.chart(
                    charts.bar_chart(
                        top,
                        x=value,
                        y=label,
                        **view.titles(
                            "Top terms by keyness"
                            if shown_weight == "keyness"
                            else "Top terms by times used",
                            note=language_name(lang),
                        ),
                    ),
                    terms,
                    f"terms-{lang or 'all'}",
                )
        unknown = int(clouds[0][1].attrs.get("unknown", 0))
        if unknown:
            st.caption(
                f"{unknown:,} articles without a detected language are only in the combined "
                "cloud (switch off “One cloud per language”)."
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
