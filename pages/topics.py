"""Topics: what the view's articles are about, discovered by NMF over their terms; each topic
with its share over time, its cloud and its articles."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor import analyze, charts
from pages import _ui
from pages._ui import queries

view = _ui.view()
f = view.filters
st.title("Topics")
st.caption(view.caption())

k = _ui.number_input(
    "Topics to find",
    key="k",
    min_value=2,
    max_value=analyze.TOPICS_MAX,
    value=analyze.TOPICS_K,
    help="The same view and number give the same topics on every visit (a fixed start).",
)
model = queries.topics(f, k=k, timezone=view.timezone)
if not model.topics:
    if queries.stats(f)["articles"]:
        st.info(_ui.md_escape(model.note or "No topics in this view.", limit=300))
    else:
        _ui.show_empty(view, "terms")
    st.stop()

st.caption(
    _ui.md_escape(
        f"{len(model.topics)} topics in {model.articles:,} articles"
        + (f" ({model.note})" if model.note else "")
        + f"; method: {model.method}.",
        limit=600,
    )
)
overview: pd.DataFrame = analyze.topic_overview(model)
st.dataframe(
    charts.plain_table(overview),
    hide_index=True,
    column_config={
        "topic": st.column_config.NumberColumn("Topic", format="%d"),
        "label": st.column_config.TextColumn("Label (top terms)"),
        "share": st.column_config.ProgressColumn(
            "Share of articles", min_value=0.0, max_value=1.0, format="percent"
        ),
        "language": st.column_config.TextColumn("Language"),
        "terms": st.column_config.TextColumn("Top terms"),
    },
)
series: pd.DataFrame = analyze.topic_series(model)
_ui.chart(
    charts.share_chart(series, **view.titles("Topics: share of each day's articles")),
    series,
    "topic-shares",
)

ids = [t.id for t in model.topics]
labels = {t.id: f"{t.id} · {t.label}" for t in model.topics}
_ui.check_choice("topic", [str(i) for i in ids])
chosen = _ui.selectbox("Topic", ids, key="topic", format_func=lambda i: labels.get(i, str(i)))
topic = next(t for t in model.topics if t.id == chosen)
st.subheader(_ui.md_escape(f"Topic {topic.id} · {topic.label}", limit=300), anchor=False)
left, right = st.columns([3, 2])
with left:
    words: pd.DataFrame = analyze.topic_terms(topic)
    try:
        image = _ui.cloud_image(
            dict(zip(words["display"], words["weight"], strict=True)), width=900, height=420
        )
        st.image(image, caption=view.title("Word size = weight in the topic"), width="stretch")
    except ValueError:
        st.info("No words to draw for this topic.", icon=":material/inbox:")
    _ui.download(words, f"topic-{topic.id}-terms")
with right:
    articles: pd.DataFrame = analyze.topic_articles(topic)
    shown = pd.DataFrame(
        {
            "published": _ui.local_times(articles["published"], view.timezone),
            "title": articles["title"].astype(str),
            "link": articles["url"].map(_ui.safe_url),
            "weight": articles["weight"],
        }
    )
    st.caption("The articles most about this topic (its share of each article)")
    st.dataframe(
        charts.plain_table(shown),
        hide_index=True,
        column_config={
            "published": st.column_config.DatetimeColumn(
                f"Published ({view.timezone})", format="YYYY-MM-DD HH:mm"
            ),
            "link": st.column_config.LinkColumn("Link", display_text="open"),
            "weight": st.column_config.ProgressColumn(
                "Share", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    _ui.download(articles, f"topic-{topic.id}-articles")
