"""Plotly figures and word-cloud images from the small tables that `monitor.analyze` returns.

Pure functions: a DataFrame in, a figure out; no Streamlit, no store. plotly.js renders a
subset of HTML (`<a href>`, `<b>`, `<br>`, ...) in every text it draws: titles, tick labels,
legends, hover labels, annotations, bar texts, and whatever a hover template pulls in
(`%{customdata}`). A hostile feed must show as literal text, so no builder escapes a label
itself: each one ends in `escape_figure`, a pass over the finished figure that escapes every
string in it (data and layout alike) and removes bidirectional control characters, and the
dashboard runs every figure through it again before drawing (a second pass is a no-op). Hover
templates are written here with placeholders only; the pass escapes whatever else is in them
except the few tags plotly needs (`<extra>`, `<br>`).

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
    "escape_figure",
    "frequency_chart",
    "heatmap_chart",
    "plain_table",
    "plain_text",
    "plotly_text",
    "selected_rows",
    "sparkline",
    "trend_chart",
    "voice_chart",
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
# The series of a split that hold the articles without a feed, author or tag
# (`monitor.store.base.NO_SERIES`; not imported, so that charts need no store module).
NO_SERIES = frozenset({"(no feed)", "(no author)", "(no tag)"})
NO_SERIES_COLOUR = "#6E6E78"
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
# Bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069),
# the marks (U+200E, U+200F, U+061C). A feed could use them to show a title reversed or to
# move text across a label's edge; the Unicode bidi algorithm lays out Arabic or Hebrew text
# correctly without them.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The only markup a template written in this module may keep.
_TEMPLATE_TAG = re.compile(r"(</?extra>|<br>)")
_TEMPLATE_KEYS = frozenset({"hovertemplate", "texttemplate"})
_ESCAPED = "_monitor_escaped"


def plain_text(value: object) -> str:
    """A value as display text without bidirectional control characters (None: "")."""
    if value is None:
        return ""
    return _BIDI.sub("", str(value))


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_text(value: object) -> str:
    """Make any value safe to show as plotly text: `<`, `>` and `&` become entities.

    plotly.js parses its pseudo-HTML (links, bold, line breaks) out of text before it decodes
    `&lt;`, `&gt;` and `&amp;`, so escaped text shows the characters literally and never turns
    into markup. Whitespace runs (including newlines, which plotly would turn into breaks) are
    collapsed to single spaces and bidirectional controls removed. None becomes "".
    """
    text = _WHITESPACE.sub(" ", plain_text(value)).strip()
    return _entities(text)


def _template_text(text: str) -> str:
    """A hover or text template: everything escaped but the tags plotly itself needs."""
    parts = _TEMPLATE_TAG.split(plain_text(text))
    return "".join(part if _TEMPLATE_TAG.fullmatch(part) else _entities(part) for part in parts)


def _escape_node(node: Any, key: str | None = None) -> Any:
    """`node` with every string escaped (templates by `_template_text`); the same object
    when nothing changed, so that numeric arrays are left alone."""
    if isinstance(node, str):
        return _template_text(node) if key in _TEMPLATE_KEYS else plotly_text(node)
    if isinstance(node, dict):
        changed = {k: _escape_node(v, k) for k, v in node.items()}
        return changed if any(changed[k] is not node[k] for k in node) else node
    if isinstance(node, list | tuple):
        items = [_escape_node(v, key) for v in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if hasattr(node, "dtype") and hasattr(node, "tolist"):
        if getattr(node.dtype, "kind", "") in "OUS":  # text in a numpy array
            values = node.tolist()
            escaped = _escape_node(values, key)
            return escaped if escaped is not values else node
        return node
    return node


def escape_figure(figure: go.Figure) -> go.Figure:
    """Escape every string in a finished figure, in place, and return it.

    Traces (names, labels, texts, customdata, hover templates, ...) and the layout (titles,
    subtitles, axis titles, tick texts, category orders, annotations, legend titles) alike,
    so that no label a builder or a page forgot can turn into markup. Category orders and
    the values they order are escaped the same way, so they still match. A figure escaped
    once is not escaped again (that would show "&amp;lt;"): pass a figure that is changed
    after this call through `plotly_text` by hand, or build it anew.
    """
    if getattr(figure, _ESCAPED, False):
        return figure
    for trace in figure.data:
        spec = trace.to_plotly_json()
        changes = {k: v for k, v in _escape_node(spec).items() if v is not spec.get(k)}
        if changes:
            trace.update(changes)
    layout = figure.layout.to_plotly_json()
    changes = {k: v for k, v in _escape_node(layout).items() if v is not layout.get(k)}
    if changes:
        figure.update_layout(changes, overwrite=True)
    object.__setattr__(figure, _ESCAPED, True)
    return figure


def plain_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table for display (st.dataframe): bidirectional controls removed from every
    text cell and from the texts inside list cells (authors, tags). Grid cells are never
    HTML, so nothing else needs escaping there."""
    shown = table.copy()
    for column in shown.columns:
        values = shown[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            shown[column] = values.map(_plain_cell)
    return shown


def _plain_cell(value: object) -> object:
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, list | tuple):
        return [plain_text(v) if isinstance(v, str) else v for v in value]
    if hasattr(value, "tolist") and not isinstance(value, int | float):
        items = value.tolist()
        if isinstance(items, list):
            return [plain_text(v) if isinstance(v, str) else v for v in items]
    return value


def selected_rows(selection: Mapping[str, Any] | None) -> list[int]:
    """Row positions (in the table drawn) of the bars clicked in a `bar_chart`, read from
    Streamlit's `event.selection`, in click order and without duplicates.

    `bar_chart` puts each bar's row position in `customdata` (a number: no feed text needs
    to travel through the browser and back); anything unexpected is skipped.
    """
    if not selection:
        return []
    points = selection.get("points") or []
    rows: list[int] = []
    for point in points:
        if not isinstance(point, Mapping):
            continue
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, bool) or not isinstance(data, int | float):
            continue
        if isinstance(data, float) and not data.is_integer():
            continue
        if int(data) >= 0 and int(data) not in rows:
            rows.append(int(data))
    return rows


# -- helpers ------------------------------------------------------------------------------


def _title(title: str, subtitle: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"text": title}
    if subtitle:
        spec["subtitle"] = {"text": subtitle, "font": {"size": 12, "color": "#6B6B76"}}
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
    """Series in the order the table lists them (analyze puts the biggest first); "other",
    then the articles without a feed, author or tag, last."""
    names = list(dict.fromkeys(clean["series"].tolist()))
    for last in (OTHER_SERIES, *sorted(NO_SERIES)):
        if last in names:
            names.remove(last)
            names.append(last)
    return names


def _quiet(name: str) -> bool:
    """A series that is not one feed, author or tag: "other" and "(no author)"."""
    return name == OTHER_SERIES or name in NO_SERIES


def _colour(name: str, index: int) -> str:
    if name == OTHER_SERIES:
        return OTHER_COLOUR
    if name in NO_SERIES:
        return NO_SERIES_COLOUR
    return PALETTE[index % len(PALETTE)]


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
        return escape_figure(_empty(figure))
    names = _series_order(clean)
    hover_format = _bucket_hover_format(clean["bucket"])
    for index, name in enumerate(names):
        part = clean[clean["series"] == name]
        figure.add_trace(
            go.Bar(
                x=part["bucket"].to_numpy(),  # datetime64: cheap to copy and to serialise
                y=part["count"].tolist(),
                name=name,
                marker={"color": _colour(name, index), "line": {"width": 0}},
                hovertemplate="%{y}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        bargap=0.15,
        hovermode="x unified",
        showlegend=len(names) > 1,
        # Biggest first, "other" and "(no author)" last, as in the table (plotly reverses a
        # stacked chart's legend by default).
        legend={"traceorder": "normal"},
        xaxis={"type": "date", "hoverformat": hover_format},
        yaxis=_count_axis(float(clean.groupby("bucket")["count"].sum().max())),
    )
    return escape_figure(figure)


def trend_chart(
    table: pd.DataFrame, *, title: str, subtitle: str | None = None, height: int = 380
) -> go.Figure:
    """One line per `series` of `count` over `bucket` (same table shape as `frequency_chart`).

    The "other" series is dotted grey and hidden until clicked in the legend.
    """
    figure = _base(title, subtitle, height=height)
    clean = _series_table(table, "trend_chart")
    if clean.empty:
        return escape_figure(_empty(figure))
    names = _series_order(clean)
    hover_format = _bucket_hover_format(clean["bucket"])
    few_points = clean["bucket"].nunique() <= 40  # markers help only when points are sparse
    named = any(not _quiet(name) for name in names)
    for index, name in enumerate(names):
        part = clean[clean["series"] == name].sort_values("bucket")
        quiet = _quiet(name)
        figure.add_trace(
            go.Scatter(
                x=part["bucket"].to_numpy(),  # datetime64: cheap to copy and to serialise
                y=part["count"].tolist(),
                name=name,
                mode="lines+markers" if few_points else "lines",
                line={
                    "color": _colour(name, index),
                    "width": 1.5 if quiet else 2,
                    "dash": "dot" if quiet else "solid",
                },
                marker={"size": 5},
                # "other" sums everything else and would dwarf the named lines, and the
                # articles without a tag are not a tag: off until clicked in the legend.
                visible="legendonly" if quiet and named else True,
                hovertemplate="%{y}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        hovermode="x unified",
        showlegend=len(names) > 1,
        xaxis={"type": "date", "hoverformat": hover_format},
        yaxis=_count_axis(float(clean["count"].max())),
    )
    return escape_figure(figure)


def sparkline(table: pd.DataFrame, *, height: int = 70, unit: str = "articles") -> go.Figure:
    """A tiny filled line of the total `count` per `bucket` (all series summed): no axes,
    no legend, no title; hovering (a tap on a phone) shows the bucket's date and its count
    ("Fri 2026-11-13: 14 articles"). Draw it with `config=SPARKLINE_CONFIG`.

    Zooming and panning are off: on a touch screen a swipe across the line must scroll the
    page, not zoom a chart that has no axes to zoom back with.
    """
    clean = _series_table(table, "sparkline")
    figure = go.Figure()
    figure.update_layout(
        template=_TEMPLATE,
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        xaxis={"visible": False, "fixedrange": True},
        yaxis={"visible": False, "rangemode": "tozero", "fixedrange": True},
        hovermode="x",
        dragmode=False,
    )
    if clean.empty:
        return escape_figure(figure)
    totals = clean.groupby("bucket", sort=True)["count"].sum()
    hover_format = _bucket_hover_format(pd.Series(totals.index))
    figure.add_trace(
        go.Scatter(
            x=totals.index.to_numpy(),
            y=totals.tolist(),
            mode="lines",
            line={"color": PALETTE[0], "width": 1.5},
            fill="tozeroy",
            fillcolor="rgba(0, 114, 178, 0.15)",
            hovertemplate="%{x|" + hover_format + "}: %{y:,} " + unit + "<extra></extra>",
        )
    )
    return escape_figure(figure)


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
    return escape_figure(figure)


# -- ranked bars ----------------------------------------------------------------------------


def _distinct_labels(values: Sequence[object]) -> list[str]:
    """Labels as text, numbered where two would show the same ("Wahl", "Wahl (2)")."""
    seen: dict[str, int] = {}
    labels = []
    for value in values:
        label = "" if value is None else str(value)
        shown = plotly_text(label)
        if shown in seen:
            seen[shown] += 1
            label = f"{label} ({seen[shown]})"
        else:
            seen[shown] = 1
        labels.append(label)
    return labels


def _value_text(value: Any) -> str:
    """A bar's printed value as plotly shows it by default (about: 136.5, 12, 1.2k)."""
    number = float(value)
    return f"{number:g}" if abs(number) < 100_000 else f"{number / 1000:.0f}k"


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
    its row position in `customdata`; `selected_rows` reads a click back. Labels that would
    look the same once escaped (they differ only in spacing or bidi controls) get a number,
    so that no two bars share a category and one hides the other.
    """
    _require(table, (x, y), "bar_chart")
    x_numeric = pd.api.types.is_numeric_dtype(table[x])
    y_numeric = pd.api.types.is_numeric_dtype(table[y])
    if x_numeric == y_numeric:
        raise ValueError(
            f"bar_chart: exactly one of {x!r} and {y!r} must be numeric (the bar length)"
        )
    value_column, label_column = (x, y) if x_numeric else (y, x)
    labels = _distinct_labels(table[label_column].tolist())
    values = pd.to_numeric(table[value_column], errors="coerce").fillna(0).tolist()
    if height is None:
        height = max(260, 80 + 24 * len(labels)) if horizontal else 380
    figure = _base(title, subtitle, height=height)
    if not labels:
        return escape_figure(_empty(figure))
    bar = go.Bar(
        x=values if horizontal else labels,
        y=labels if horizontal else values,
        orientation="h" if horizontal else "v",
        customdata=list(range(len(labels))),
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
        # And room right of the plot for the longest printed value, however narrow the
        # chart's column: in a third of a page 15 % of the axis is a few pixels.
        widest = max(len(_value_text(v)) for v in values)
        figure.update_layout(margin={"r": 16 + 8 * widest})
    else:
        figure.update_layout(xaxis=category_axis, yaxis=value_axis, bargap=0.25)
    figure.update_layout(clickmode="event+select", dragmode=False, showlegend=False)
    return escape_figure(figure)


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


def cloud_words(table: pd.DataFrame) -> dict[str, float]:
    """A cloud's words and sizes from `analyze.weighted_terms` (or `keyness`): each term's
    display form sized by its keyness score, or by its count under frequency."""
    size = "score" if "score" in table.columns and table["score"].gt(0).any() else "count"
    label = "display" if "display" in table.columns else "term"
    words: dict[str, float] = {}
    for word, value in zip(table[label], table[size], strict=True):
        words[str(word)] = words.get(str(word), 0.0) + float(value)
    return words


def share_chart(
    table: pd.DataFrame, *, title: str, subtitle: str | None = None, height: int = 380
) -> go.Figure:
    """One line per `series` of `share` (0..1) over `day`: each topic's share of the day's
    articles (`analyze.topic_series`). The legend keeps the table's order (largest first)."""
    _require(table, ("day", "series", "share"), "share_chart")
    figure = _base(title, subtitle, height=height)
    clean = pd.DataFrame(
        {
            "day": pd.to_datetime(table["day"]),
            "series": table["series"].fillna("(none)").astype(str),
            "share": pd.to_numeric(table["share"], errors="coerce").fillna(0),
        }
    ).dropna(subset=["day"])
    if clean.empty:
        return escape_figure(_empty(figure))
    names = list(dict.fromkeys(clean["series"]))
    for index, name in enumerate(names):
        part = clean[clean["series"] == name].sort_values("day")
        figure.add_trace(
            go.Scatter(
                x=part["day"].to_numpy(),
                y=part["share"].tolist(),
                name=name,
                mode="lines",
                line={"color": _colour(name, index), "width": 2},
                hovertemplate="%{y:.0%}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        hovermode="x unified",
        showlegend=len(names) > 1,
        xaxis={"type": "date", "hoverformat": "%a %d %b %Y"},
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
    )
    return escape_figure(figure)


def voice_chart(
    table: pd.DataFrame, *, title: str, subtitle: str | None = None, height: int = 380
) -> go.Figure:
    """Share of voice: 100% stacked bars of each `series`' `count` per `bucket` (the
    per-query counts of `analyze.attention`); each bar is the bucket's matching articles."""
    figure = _base(title, subtitle, height=height)
    clean = _series_table(table, "voice_chart")
    if clean.empty or not clean["count"].sum():
        return escape_figure(_empty(figure))
    names = list(dict.fromkeys(clean["series"].tolist()))
    hover_format = _bucket_hover_format(clean["bucket"])
    for index, name in enumerate(names):
        part = clean[clean["series"] == name]
        figure.add_trace(
            go.Bar(
                x=part["bucket"].to_numpy(),
                y=part["count"].tolist(),
                name=name,
                marker={"color": PALETTE[index % len(PALETTE)], "line": {"width": 0}},
                hovertemplate="%{y:.0f}%<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        barnorm="percent",
        bargap=0.15,
        hovermode="x unified",
        showlegend=True,
        legend={"traceorder": "normal"},
        xaxis={"type": "date", "hoverformat": hover_format},
        yaxis={"ticksuffix": "%", "range": [0, 100]},
    )
    return escape_figure(figure)
