"""Plotly figures and word-cloud images from the small tables that `monitor.analyze` returns.

Pure functions: a DataFrame in, a figure out; no Streamlit, no store. Every string that comes
from data (series names, tags, terms) and every caller-given title is passed through
`plotly_text`, because plotly.js renders a subset of HTML (`<a href>`, `<b>`, `<br>`, ...) in
titles, tick labels, legends and hover labels: a hostile feed must show as literal text.

The dashboard should draw these with `st.plotly_chart(fig, theme=None, config=CONFIG)` so that
Streamlit's theme does not replace this module's template.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from PIL import Image
from wordcloud import WordCloud

__all__ = [
    "CONFIG",
    "OTHER_COLOUR",
    "PALETTE",
    "SPARKLINE_CONFIG",
    "WEEKDAYS",
    "bar_chart",
    "frequency_chart",
    "heatmap_chart",
    "plotly_text",
    "selected_labels",
    "sparkline",
    "trend_chart",
    "word_cloud",
]

# Okabe-Ito-like qualitative palette (distinguishable with the common colour-vision
# deficiencies), with grey kept for the "other" series so it never looks like a real source.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#999933",  # olive instead of Okabe-Ito yellow, which vanishes as a thin line on white
    "#332288",
    "#882255",
    "#44AA99",
)
OTHER_COLOUR = "#B0B0B0"
OTHER_SERIES = "other"  # the name analyze.frequency gives to everything outside the top series
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# plotly.js config for st.plotly_chart(config=...): no logo, a trimmed mode bar.
CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "autoScale2d", "toggleSpikelines"],
}
SPARKLINE_CONFIG: dict[str, Any] = {"displayModeBar": False, "staticPlot": False}

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_TEXT = "#262730"
_GRID = "#ECECF0"
_EMPTY_MESSAGE = "Nothing to show for these filters"

_TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": _FONT, "size": 13, "color": _TEXT},
        "title": {"x": 0, "xanchor": "left", "font": {"size": 16}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(PALETTE),
        "margin": {"l": 10, "r": 10, "t": 56, "b": 10},
        "xaxis": {
            "showgrid": False,
            "zeroline": False,
            "showline": True,
            "linecolor": "#C8C8D0",
            "ticks": "outside",
            "tickcolor": "#C8C8D0",
            "automargin": True,
        },
        "yaxis": {
            "showgrid": True,
            "gridcolor": _GRID,
            "zeroline": False,
            "showline": False,
            "automargin": True,
            "rangemode": "tozero",
        },
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"},
        "hoverlabel": {"font": {"family": _FONT}},
    }
)

_WHITESPACE = re.compile(r"\s+")


def plotly_text(value: object) -> str:
    """Make any value safe to show as plotly text: `<`, `>` and `&` become entities.

    plotly.js parses its pseudo-HTML (links, bold, line breaks) out of text before it decodes
    `&lt;`, `&gt;` and `&amp;`, so escaped text shows the characters literally and never turns
    into markup. Whitespace runs (including newlines, which plotly would turn into breaks) are
    collapsed to single spaces. None becomes "".
    """
    if value is None:
        return ""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def selected_labels(selection: Mapping[str, Any] | None) -> list[str]:
    """Labels of the bars clicked in a `bar_chart` (Streamlit's `event.selection`).

    `bar_chart` puts each bar's raw label in `customdata`; this reads it back from the
    selection's `points`, in click order, without duplicates. Anything unexpected is skipped.
    """
    if not selection:
        return []
    points = selection.get("points") or []
    labels: list[str] = []
    for point in points:
        if not isinstance(point, Mapping):
            continue
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, str) and data not in labels:
            labels.append(data)
    return labels


# -- helpers ------------------------------------------------------------------------------


def _title(title: str, subtitle: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"text": plotly_text(title)}
    if subtitle:
        spec["subtitle"] = {"text": plotly_text(subtitle), "font": {"size": 12, "color": "#6B6B76"}}
    return spec


def _base(title: str, subtitle: str | None, *, height: int) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(template=_TEMPLATE, title=_title(title, subtitle), height=height)
    return figure


def _empty(figure: go.Figure) -> go.Figure:
    """An empty view says so instead of drawing bare axes."""
    figure.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": _EMPTY_MESSAGE,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 14, "color": "#6B6B76"},
            }
        ],
    )
    return figure


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: table lacks column(s) {', '.join(missing)}")


def _series_table(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """bucket/series/count cleaned: buckets as datetimes, counts as numbers, names as text."""
    _require(table, ("bucket", "series", "count"), what)
    clean = pd.DataFrame(
        {
            "bucket": pd.to_datetime(table["bucket"]),
            "series": table["series"].fillna("(none)").astype(str),
            "count": pd.to_numeric(table["count"], errors="coerce").fillna(0),
        }
    )
    return clean.dropna(subset=["bucket"])


def _series_order(clean: pd.DataFrame) -> list[str]:
    """Series in the order the table lists them (analyze puts the biggest first), other last."""
    names = list(dict.fromkeys(clean["series"].tolist()))
    if OTHER_SERIES in names:
        names.remove(OTHER_SERIES)
        names.append(OTHER_SERIES)
    return names


def _colour(name: str, index: int) -> str:
    return OTHER_COLOUR if name == OTHER_SERIES else PALETTE[index % len(PALETTE)]


def _count_axis(peak: float) -> dict[str, Any]:
    """Whole-number ticks: counts of 0..5 would otherwise get ticks at 0.2, 0.4, ..."""
    return {"dtick": 1, "tickformat": "d"} if peak <= 5 else {"tickformat": ",d"}


def _bucket_hover_format(buckets: pd.Series) -> str:
    """A hover date format that matches the bucket size (hour, day, week or month)."""
    unique = pd.Series(buckets.drop_duplicates().sort_values())
    if len(unique) < 2:
        return "%a %Y-%m-%d %H:%M"
    step = unique.diff().dropna().min()
    if step < pd.Timedelta(timedelta(days=1)):
        return "%a %Y-%m-%d %H:00"
    if step < pd.Timedelta(timedelta(days=7)):
        return "%a %Y-%m-%d"
    if step < pd.Timedelta(timedelta(days=28)):
        return "week of %Y-%m-%d"
    return "%B %Y"


# -- time series --------------------------------------------------------------------------


def frequency_chart(
    table: pd.DataFrame, *, title: str, subtitle: str | None = None, height: int = 380
) -> go.Figure:
    """Stacked bars of `count` per `bucket`, one colour per `series` (table from
    `analyze.frequency`). Series keep the table's order; "other" is grey and stacked last.
    """
    figure = _base(title, subtitle, height=height)
    clean = _series_table(table, "frequency_chart")
    if clean.empty:
        return _empty(figure)
    names = _series_order(clean)
    hover_format = _bucket_hover_format(clean["bucket"])
    for index, name in enumerate(names):
        part = clean[clean["series"] == name]
        label = plotly_text(name)
        figure.add_trace(
            go.Bar(
                x=part["bucket"].tolist(),
                y=part["count"].tolist(),
                name=label,
                marker={"color": _colour(name, index), "line": {"width": 0}},
                hovertemplate="%{y}<extra>" + label + "</extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        bargap=0.15,
        hovermode="x unified",
        showlegend=len(names) > 1,
        xaxis={"type": "date", "hoverformat": hover_format},
        yaxis=_count_axis(float(clean.groupby("bucket")["count"].sum().max())),
    )
    return figure


def trend_chart(
    table: pd.DataFrame, *, title: str, subtitle: str | None = None, height: int = 380
) -> go.Figure:
    """One line per `series` of `count` over `bucket` (same table shape as `frequency_chart`).

    The "other" series is dotted grey and hidden until clicked in the legend.
    """
    figure = _base(title, subtitle, height=height)
    clean = _series_table(table, "trend_chart")
    if clean.empty:
        return _empty(figure)
    names = _series_order(clean)
    hover_format = _bucket_hover_format(clean["bucket"])
    few_points = clean["bucket"].nunique() <= 40  # markers help only when points are sparse
    for index, name in enumerate(names):
        part = clean[clean["series"] == name].sort_values("bucket")
        label = plotly_text(name)
        figure.add_trace(
            go.Scatter(
                x=part["bucket"].tolist(),
                y=part["count"].tolist(),
                name=label,
                mode="lines+markers" if few_points else "lines",
                line={
                    "color": _colour(name, index),
                    "width": 1.5 if name == OTHER_SERIES else 2,
                    "dash": "dot" if name == OTHER_SERIES else "solid",
                },
                marker={"size": 5},
                # "other" sums everything else and would dwarf the named lines: off until the
                # reader clicks it in the legend.
                visible="legendonly" if name == OTHER_SERIES and len(names) > 1 else True,
                hovertemplate="%{y}<extra>" + label + "</extra>",
            )
        )
    figure.update_layout(
        hovermode="x unified",
        showlegend=len(names) > 1,
        xaxis={"type": "date", "hoverformat": hover_format},
        yaxis=_count_axis(float(clean["count"].max())),
    )
    return figure


def sparkline(table: pd.DataFrame, *, height: int = 70) -> go.Figure:
    """A tiny filled line of the total `count` per `bucket` (all series summed): no axes,
    no legend, no title. Draw it with `config=SPARKLINE_CONFIG`.
    """
    clean = _series_table(table, "sparkline")
    figure = go.Figure()
    figure.update_layout(
        template=_TEMPLATE,
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False, "rangemode": "tozero"},
        hovermode="x",
    )
    if clean.empty:
        return figure
    totals = clean.groupby("bucket", sort=True)["count"].sum()
    hover_format = _bucket_hover_format(pd.Series(totals.index))
    figure.add_trace(
        go.Scatter(
            x=list(totals.index),
            y=totals.tolist(),
            mode="lines",
            line={"color": PALETTE[0], "width": 1.5},
            fill="tozeroy",
            fillcolor="rgba(0, 114, 178, 0.15)",
            hovertemplate="%{x|" + hover_format + "}: %{y}<extra></extra>",
        )
    )
    return figure


# -- heatmap ------------------------------------------------------------------------------


def heatmap_chart(
    table: pd.DataFrame, *, title: str, subtitle: str | None = None, height: int = 340
) -> go.Figure:
    """Weekday (rows Mon..Sun, top to bottom) by hour (columns 0..23): all 7x24 cells, missing
    cells count 0 (table from `analyze.heatmap`: weekday 0 = Monday, hour, count).
    """
    _require(table, ("weekday", "hour", "count"), "heatmap_chart")
    figure = _base(title, subtitle, height=height)
    grid = [[0.0] * 24 for _ in range(7)]
    weekdays = pd.to_numeric(table["weekday"], errors="coerce")
    hours = pd.to_numeric(table["hour"], errors="coerce")
    counts = pd.to_numeric(table["count"], errors="coerce")
    for day, hour, count in zip(weekdays, hours, counts, strict=True):
        if (
            pd.notna(day)
            and pd.notna(hour)
            and pd.notna(count)
            and 0 <= day <= 6
            and 0 <= hour <= 23
        ):
            grid[int(day)][int(hour)] += float(count)
    hour_labels = [f"{h:02d}:00" for h in range(24)]
    figure.add_trace(
        go.Heatmap(
            z=grid,
            x=list(range(24)),
            y=list(WEEKDAYS),
            customdata=[[f"{h:02d}:00–{h:02d}:59" for h in range(24)] for _ in range(7)],
            colorscale="Blues",
            zmin=0,
            xgap=1,
            ygap=1,
            colorbar={"thickness": 10, "outlinewidth": 0, "len": 0.9},
            hovertemplate="%{y} %{customdata}: %{z}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={
            "tickmode": "array",
            "tickvals": list(range(0, 24, 3)),
            "ticktext": hour_labels[::3],
            "showline": False,
            "ticks": "",
        },
        yaxis={"autorange": "reversed", "showgrid": False, "rangemode": "normal"},
    )
    if not any(any(row) for row in grid):
        figure.add_annotation(
            text=_EMPTY_MESSAGE,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"size": 14, "color": "#6B6B76"},
        )
    return figure


# -- ranked bars ----------------------------------------------------------------------------


def bar_chart(
    table: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    horizontal: bool = True,
    subtitle: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Bars for a ranked table (top tags, top terms), in the table's row order (first row on
    top when horizontal, leftmost when vertical).

    Of the two columns `x` and `y`, the numeric one gives the bar length and the other the
    label, so both `x="tag", y="articles"` and `x="articles", y="tag"` work. Each bar carries
    its raw label in `customdata` (never rendered); `selected_labels` reads a click back.
    """
    _require(table, (x, y), "bar_chart")
    x_numeric = pd.api.types.is_numeric_dtype(table[x])
    y_numeric = pd.api.types.is_numeric_dtype(table[y])
    if x_numeric == y_numeric:
        raise ValueError(
            f"bar_chart: exactly one of {x!r} and {y!r} must be numeric (the bar length)"
        )
    value_column, label_column = (x, y) if x_numeric else (y, x)
    raw_labels = ["" if v is None else str(v) for v in table[label_column].tolist()]
    values = pd.to_numeric(table[value_column], errors="coerce").fillna(0).tolist()
    labels = [plotly_text(v) for v in raw_labels]
    if height is None:
        height = max(260, 80 + 24 * len(labels)) if horizontal else 380
    figure = _base(title, subtitle, height=height)
    if not labels:
        return _empty(figure)
    bar = go.Bar(
        x=values if horizontal else labels,
        y=labels if horizontal else values,
        orientation="h" if horizontal else "v",
        customdata=raw_labels,
        marker={"color": PALETTE[0], "line": {"width": 0}},
        text=values,
        textposition="outside",
        cliponaxis=False,
        hovertemplate=("%{y}: %{x}" if horizontal else "%{x}: %{y}") + "<extra></extra>",
    )
    figure.add_trace(bar)
    category_axis = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": labels,
        "showgrid": False,
        "showline": False,
        "ticks": "",
    }
    peak = max([float(v) for v in values] + [0.0])
    # Headroom so the value printed past the longest bar is not cut off at the edge.
    value_axis = {
        "showgrid": not horizontal,
        "gridcolor": _GRID,
        "visible": not horizontal,
        "range": [0, peak * 1.15 if peak > 0 else 1],
    }
    if horizontal:
        category_axis["autorange"] = "reversed"  # first row on top
        figure.update_layout(yaxis=category_axis, xaxis=value_axis, bargap=0.25)
    else:
        figure.update_layout(xaxis=category_axis, yaxis=value_axis, bargap=0.25)
    figure.update_layout(clickmode="event+select", dragmode=False, showlegend=False)
    return figure


# -- word cloud -----------------------------------------------------------------------------


def word_cloud(
    frequencies: Mapping[str, float],
    *,
    width: int = 800,
    height: int = 400,
    seed: int = 1,
    max_words: int = 120,
) -> Image.Image:
    """A word-cloud image (RGB, `width` x `height`, white background) sized by `frequencies`.

    Uses wordcloud's bundled font (it has ä ö ü ß), no collocations and no built-in stopwords:
    the caller passes already-filtered terms. The same input and `seed` give the same image.
    The words that fitted, largest first, are in `image.info["words"]`.
    Raises ValueError when there is no positive, finite frequency (the page shows an empty
    state) or the size is not positive.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"word_cloud: size must be positive, got {width}x{height}")
    usable: dict[str, float] = {}
    for word, weight in frequencies.items():
        text = str(word).strip()
        try:
            value = float(weight)
        except (TypeError, ValueError):
            continue
        if text and math.isfinite(value) and value > 0:
            usable[text] = usable.get(text, 0.0) + value
    if not usable:
        raise ValueError("word_cloud: no words with a positive frequency to draw")
    cloud = WordCloud(
        width=width,
        height=height,
        background_color="white",
        colormap="Dark2",  # dark qualitative colours stay readable on white
        random_state=seed,
        collocations=False,
        stopwords=set(),
        normalize_plurals=False,
        max_words=max_words,
        min_font_size=9,  # smaller words are unreadable specks
        prefer_horizontal=0.9,
        margin=4,
    )
    cloud.generate_from_frequencies(usable)
    image: Image.Image = cloud.to_image().convert("RGB")
    image.info["words"] = tuple(entry[0][0] for entry in cloud.layout_)
    return image
