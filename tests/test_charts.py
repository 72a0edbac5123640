"""monitor.charts: figure data match the tables, data strings are escaped, word clouds draw."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont
from wordcloud import wordcloud as wordcloud_module

from monitor import charts

HOSTILE = '<a href="javascript:alert(1)">x</a><script>alert(2)</script><b>bold</b>'
HOSTILE_ESCAPED = (
    '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'
    "&lt;script&gt;alert(2)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
)
# Markup plotly.js would act on: links, styling tags, line breaks, and any script-ish tag.
MARKUP = re.compile(r"<\s*/?\s*(a|b|i|em|sup|sub|span|br|script|img|iframe|svg)\b", re.I)


def series_table(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bucket": pd.to_datetime([r[0] for r in rows]),
            "series": [r[1] for r in rows],
            "count": [r[2] for r in rows],
        }
    )


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, string) in a figure's JSON, customdata included (a hover template may
    show it)."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}")
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}[{index}]")
    elif hasattr(node, "tolist"):
        yield from strings(node.tolist(), path)


def assert_escaped(figure: go.Figure, expected_places: int) -> None:
    """No markup from data anywhere; the escaped hostile text appears where data is shown."""
    found = 0
    for path, text in strings(figure.to_plotly_json()):
        assert HOSTILE not in text, f"raw hostile text at {path}"
        assert not MARKUP.search(text), f"markup at {path}: {text!r}"
        found += text.count(HOSTILE_ESCAPED)
    assert found >= expected_places


def three_series() -> pd.DataFrame:
    return series_table(
        [
            ("2026-11-01", "Tagesblatt", 5),
            ("2026-11-01", "other", 2),
            ("2026-11-01", "Blog", 1),
            ("2026-11-02", "Tagesblatt", 3),
            ("2026-11-02", "other", 0),
            ("2026-11-02", "Blog", 4),
            ("2026-11-03", "Tagesblatt", 0),
            ("2026-11-03", "other", 1),
            ("2026-11-03", "Blog", 2),
        ]
    )


# -- plotly_text --------------------------------------------------------------------------


def test_plotly_text_escapes_markup_and_ampersands() -> None:
    assert charts.plotly_text("AT&T <b>") == "AT&amp;T &lt;b&gt;"
    assert charts.plotly_text(HOSTILE) == HOSTILE_ESCAPED
    assert charts.plotly_text("Friedens-\ngespräche\t #Zölle") == "Friedens- gespräche #Zölle"
    assert charts.plotly_text(None) == ""
    assert charts.plotly_text(42) == "42"


# -- frequency_chart ------------------------------------------------------------------------


def test_frequency_chart_stacks_series_in_table_order_with_other_last_in_grey() -> None:
    figure = charts.frequency_chart(three_series(), title="Articles per day (UTC)")
    assert [trace.name for trace in figure.data] == ["Tagesblatt", "Blog", "other"]
    assert figure.layout.barmode == "stack"
    assert all(isinstance(trace, go.Bar) for trace in figure.data)
    by_name = {trace.name: trace for trace in figure.data}
    assert list(by_name["Tagesblatt"].y) == [5, 3, 0]
    assert list(by_name["Blog"].y) == [1, 4, 2]
    assert list(by_name["other"].y) == [2, 0, 1]
    assert pd.Timestamp(by_name["Blog"].x[1]) == pd.Timestamp("2026-11-02")
    assert by_name["other"].marker.color == charts.OTHER_COLOUR
    assert by_name["Tagesblatt"].marker.color != by_name["Blog"].marker.color
    assert figure.layout.title.text == "Articles per day (UTC)"
    assert figure.layout.xaxis.type == "date"
    assert figure.layout.xaxis.hoverformat == "%a %Y-%m-%d"  # daily buckets
    assert figure.layout.showlegend is True
    assert figure.layout.legend.traceorder == "normal"  # the legend reads as the table


def test_frequency_chart_puts_the_articles_without_an_author_last_in_their_own_grey() -> None:
    table = pd.concat(
        [three_series(), series_table([("2026-11-01", "(no author)", 4)])], ignore_index=True
    )
    figure = charts.frequency_chart(table, title="t")
    assert [trace.name for trace in figure.data] == ["Tagesblatt", "Blog", "other", "(no author)"]
    colours = [trace.marker.color for trace in figure.data]
    assert colours[3] == charts.NO_SERIES_COLOUR and len(set(colours)) == 4
    trend = charts.trend_chart(table, title="t")
    assert [t.visible for t in trend.data] == [True, True, "legendonly", "legendonly"]


def test_frequency_chart_single_series_is_one_colour_without_legend() -> None:
    table = series_table([("2026-11-01 08:00", "all", 2), ("2026-11-01 09:00", "all", 7)])
    figure = charts.frequency_chart(table, title="Per hour")
    assert len(figure.data) == 1
    assert figure.data[0].marker.color == charts.PALETTE[0]
    assert list(figure.data[0].y) == [2, 7]
    assert figure.layout.showlegend is False
    assert figure.layout.xaxis.hoverformat == "%a %Y-%m-%d %H:00"  # hourly buckets


def test_frequency_chart_empty_table_says_so() -> None:
    figure = charts.frequency_chart(series_table([]), title="Nothing")
    assert len(figure.data) == 0
    assert "Nothing to show" in figure.layout.annotations[0].text


def test_frequency_chart_rejects_a_table_without_the_columns() -> None:
    with pytest.raises(ValueError, match="count"):
        charts.frequency_chart(pd.DataFrame({"bucket": [], "series": []}), title="t")


# -- trend_chart and sparkline ---------------------------------------------------------------


def test_trend_chart_draws_one_line_per_series() -> None:
    figure = charts.trend_chart(three_series(), title="Tags over time")
    assert [trace.name for trace in figure.data] == ["Tagesblatt", "Blog", "other"]
    assert all(isinstance(t, go.Scatter) and "lines" in t.mode for t in figure.data)
    assert list(figure.data[1].y) == [1, 4, 2]
    assert len({t.line.color for t in figure.data}) == 3
    assert [t.visible for t in figure.data] == [True, True, "legendonly"]  # "other" hidden


def test_trend_chart_shows_a_lone_other_series() -> None:
    table = series_table([("2026-11-01", "other", 3), ("2026-11-02", "other", 1)])
    assert charts.trend_chart(table, title="t").data[0].visible is True


def test_sparkline_sums_series_per_bucket_and_hides_axes() -> None:
    figure = charts.sparkline(three_series())
    assert len(figure.data) == 1
    assert list(figure.data[0].y) == [8, 7, 3]
    assert figure.layout.xaxis.visible is False
    assert figure.layout.yaxis.visible is False
    assert figure.layout.showlegend is False
    assert not figure.layout.title.text
    assert figure.layout.height <= 100
    # Dates and values on hover (a tap on a phone), and no zoom to get stuck in.
    assert figure.data[0].hovertemplate == "%{x|%a %Y-%m-%d}: %{y:,} articles<extra></extra>"
    assert figure.layout.dragmode is False
    assert figure.layout.xaxis.fixedrange and figure.layout.yaxis.fixedrange


# -- heatmap_chart --------------------------------------------------------------------------


def test_heatmap_has_7x24_cells_in_weekday_rows_and_fills_missing_with_zero() -> None:
    table = pd.DataFrame(
        {"weekday": [0, 2, 6, 9], "hour": [0, 5, 23, 1], "count": [4, 11, 2, 99]}
    )  # weekday 9 is out of range and ignored
    figure = charts.heatmap_chart(table, title="When articles appear (Europe/Berlin)")
    (trace,) = figure.data
    z = [list(row) for row in trace.z]
    assert len(z) == 7 and all(len(row) == 24 for row in z)
    assert list(trace.y) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert list(trace.x) == list(range(24))
    assert z[0][0] == 4 and z[2][5] == 11 and z[6][23] == 2
    assert sum(map(sum, z)) == 17
    assert figure.layout.yaxis.autorange == "reversed"  # Monday on top


def test_heatmap_of_a_full_analyze_grid_keeps_every_count() -> None:
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    table = grid.to_frame(index=False)
    table["count"] = table["weekday"] * 100 + table["hour"]
    z = charts.heatmap_chart(table, title="t").data[0].z
    assert all(z[d][h] == d * 100 + h for d in range(7) for h in range(24))


# -- bar_chart ------------------------------------------------------------------------------


def top_tags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": ["friedensgespräche", "wahl", "zölle"],
            "tag": ["Friedensgespräche", "Wahl", "Zölle"],
            "articles": [3, 17, 9],  # deliberately not sorted: the table's order is kept
        }
    )


def test_bar_chart_keeps_row_order_top_down_and_carries_row_positions_in_customdata() -> None:
    figure = charts.bar_chart(top_tags(), x="articles", y="tag", title="Top tags")
    (bar,) = figure.data
    assert bar.orientation == "h"
    assert list(bar.y) == ["Friedensgespräche", "Wahl", "Zölle"]
    assert list(bar.x) == [3, 17, 9]
    assert list(bar.customdata) == [0, 1, 2]
    assert figure.layout.yaxis.autorange == "reversed"
    assert list(figure.layout.yaxis.categoryarray) == list(bar.y)
    assert "select" in figure.layout.clickmode


def test_bar_chart_accepts_label_and_value_in_either_argument() -> None:
    one = charts.bar_chart(top_tags(), x="tag", y="articles", title="t").data[0]
    other = charts.bar_chart(top_tags(), x="articles", y="tag", title="t").data[0]
    assert list(one.y) == list(other.y) and list(one.x) == list(other.x)


def test_bar_chart_vertical_puts_labels_on_x() -> None:
    figure = charts.bar_chart(top_tags(), x="tag", y="articles", title="t", horizontal=False)
    (bar,) = figure.data
    assert bar.orientation == "v"
    assert list(bar.x) == ["Friedensgespräche", "Wahl", "Zölle"]
    assert list(bar.y) == [3, 17, 9]


def test_bar_chart_needs_exactly_one_numeric_column() -> None:
    with pytest.raises(ValueError, match="numeric"):
        charts.bar_chart(top_tags(), x="key", y="tag", title="t")


def test_bar_chart_empty_table_says_so() -> None:
    figure = charts.bar_chart(top_tags().head(0), x="tag", y="articles", title="t")
    assert "Nothing to show" in figure.layout.annotations[0].text


def test_selected_rows_reads_customdata_back() -> None:
    figure = charts.bar_chart(top_tags(), x="articles", y="tag", title="t")
    custom = list(figure.data[0].customdata)
    # The shape Streamlit returns in event.selection for a point click.
    selection = {
        "points": [
            {"curve_number": 0, "point_index": 2, "x": 9, "y": "Zölle", "customdata": custom[2]},
            {"curve_number": 0, "point_index": 2, "customdata": [custom[2]]},
            {"curve_number": 0, "point_index": 0, "customdata": custom[0]},
            {"customdata": "Wahl"},  # text is never a row
            {"customdata": True},
            {"customdata": -1},
            "junk",
        ],
        "point_indices": [2, 0],
    }
    assert charts.selected_rows(selection) == [2, 0]
    assert [top_tags()["tag"].iloc[r] for r in charts.selected_rows(selection)] == [
        "Zölle",
        "Friedensgespräche",
    ]
    assert charts.selected_rows({}) == []
    assert charts.selected_rows(None) == []


def test_bar_chart_carries_no_feed_text_in_customdata_for_a_hostile_tag() -> None:
    table = pd.DataFrame({"tag": [HOSTILE], "articles": [1]})
    figure = charts.bar_chart(table, x="articles", y="tag", title="t")
    assert list(figure.data[0].customdata) == [0]
    assert list(figure.data[0].y) == [HOSTILE_ESCAPED]


# -- escaping, for every builder ----------------------------------------------------------------

HOSTILE_SERIES = series_table(
    [("2026-11-01", HOSTILE, 1), ("2026-11-02", HOSTILE, 2), ("2026-11-02", "Blog", 1)]
)
BUILDERS: dict[str, tuple[Callable[[], go.Figure], int]] = {
    "frequency": (lambda: charts.frequency_chart(HOSTILE_SERIES, title=HOSTILE), 2),
    "frequency-subtitle": (
        lambda: charts.frequency_chart(HOSTILE_SERIES, title="t", subtitle=HOSTILE),
        2,
    ),
    "trend": (lambda: charts.trend_chart(HOSTILE_SERIES, title=HOSTILE), 2),
    "sparkline": (lambda: charts.sparkline(HOSTILE_SERIES), 0),
    "heatmap": (
        lambda: charts.heatmap_chart(
            pd.DataFrame({"weekday": [0], "hour": [1], "count": [2]}), title=HOSTILE
        ),
        1,
    ),
    "bar": (
        lambda: charts.bar_chart(
            pd.DataFrame({"term": [HOSTILE, "ok"], "count": [2, 1]}),
            x="term",
            y="count",
            title=HOSTILE,
        ),
        3,  # title, the label on the bar and in the category order
    ),
    "bar-vertical": (
        lambda: charts.bar_chart(
            pd.DataFrame({"term": [HOSTILE], "count": [2]}),
            x="term",
            y="count",
            title=HOSTILE,
            horizontal=False,
        ),
        3,
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_escapes_data_and_titles(name: str) -> None:
    build, places = BUILDERS[name]
    assert_escaped(build(), places)


def test_escaped_series_name_is_the_trace_name() -> None:
    figure = charts.frequency_chart(HOSTILE_SERIES, title=HOSTILE)
    assert figure.data[0].name == HOSTILE_ESCAPED
    assert figure.layout.title.text == HOSTILE_ESCAPED


# -- word_cloud -------------------------------------------------------------------------------

WORDS = {
    "Friedensgespräche": 40.0,
    "Zölle": 22.0,
    "Bürger": 18.0,
    "Straße": 12.0,
    "Wahl": 10.0,
    "election": 9.0,
    "storm": 7.0,
    "Übergang": 6.0,
    "tariffs": 5.0,
    "Größe": 4.0,
    "Haushalt": 3.0,
    "launch": 2.0,
}


def non_white(image: Image.Image) -> int:
    white = Image.new("RGB", image.size, "white")
    difference = ImageChops.difference(image.convert("RGB"), white).convert("L")
    return sum(difference.histogram()[41:])


def glyph(font: ImageFont.FreeTypeFont, letter: str) -> bytes:
    canvas = Image.new("L", (64, 64))
    ImageDraw.Draw(canvas).text((8, 4), letter, font=font, fill=255)
    return canvas.tobytes()


def test_word_cloud_has_the_asked_size_and_the_top_word() -> None:
    image = charts.word_cloud(WORDS, width=640, height=320)
    assert image.size == (640, 320)
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (255, 255, 255)
    words = image.info["words"]
    assert words[0] == "Friedensgespräche"
    assert set(words) <= set(WORDS)
    assert len(words) >= 8
    assert non_white(image) > 2000


def test_word_cloud_is_deterministic_for_a_seed() -> None:
    first = charts.word_cloud(WORDS, seed=3)
    again = charts.word_cloud(WORDS, seed=3)
    other = charts.word_cloud(WORDS, seed=4)
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_word_cloud_keeps_umlauts_and_the_bundled_font_has_their_glyphs() -> None:
    image = charts.word_cloud({"Straße": 5, "Größe": 4, "Übergang": 3, "fähig": 2})
    assert set(image.info["words"]) == {"Straße", "Größe", "Übergang", "fähig"}
    font = ImageFont.truetype(wordcloud_module.FONT_PATH, 48)
    missing = glyph(font, "\ue000")  # a private-use code point: the "no glyph" box
    for letter in "äöüÄÖÜß":
        drawn = glyph(font, letter)
        assert drawn != missing and any(drawn), letter


def test_word_cloud_does_not_drop_stopword_lookalikes_the_caller_kept() -> None:
    # The caller filters stopwords; the cloud must not apply wordcloud's English list.
    image = charts.word_cloud({"the": 5, "und": 3, "not": 2})
    assert set(image.info["words"]) == {"the", "und", "not"}


@pytest.mark.parametrize("empty", [{}, {"x": 0.0}, {"y": -1.0}, {"": 3.0}, {"z": float("nan")}])
def test_word_cloud_without_usable_words_raises_a_clear_error(empty: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="no words"):
        charts.word_cloud(empty)


def test_word_cloud_rejects_a_non_positive_size() -> None:
    with pytest.raises(ValueError, match="size"):
        charts.word_cloud(WORDS, width=0)


def test_small_counts_get_whole_number_ticks() -> None:
    small = series_table([("2026-11-01", "a", 1), ("2026-11-02", "a", 0)])
    big = series_table([("2026-11-01", "a", 120), ("2026-11-02", "a", 3)])
    for build in (charts.frequency_chart, charts.trend_chart):
        assert build(small, title="t").layout.yaxis.dtick == 1
        assert build(big, title="t").layout.yaxis.dtick is None


def test_bar_chart_leaves_room_for_the_printed_value() -> None:
    figure = charts.bar_chart(top_tags(), x="articles", y="tag", title="t")
    low, high = figure.layout.xaxis.range
    assert low == 0 and high > 17
