"""Feed text in charts and tables is text (issue 8, section 1b): no string plotly may render
carries markup, and no bidirectional control character from a feed reaches a chart label or
a table cell, so a title cannot be shown reversed.

The builders and `charts.escape_figure` on hand-made figures; then every chart and table of
the Overview, Publishing frequency, Hashtag trends, Topic clouds and Authors pages through
AppTest, on a store built through ingest from a feed full of markup and bidi controls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest
from dashboard import Dashboard
from streamlit.testing.v1 import AppTest

from monitor import analyze, charts, ingest
from monitor.models import Filters
from monitor.store import DuckDBStore

# Streamlit's caches are process-wide: emptied around every test here, with or without AppTest.
pytestmark = pytest.mark.usefixtures("fresh_caches")
NOW = datetime.now(UTC).replace(microsecond=0)

LINK = '<a href="https://evil.example">x</a>'
BOLD = "<b>bold</b>"
SCRIPTED = '<a href="javascript:alert(1)">click</a>'
RLO = "\u202eevil txt\u202c"  # shown reversed ("txt live") if the override survives
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ALL_BIDI = "".join(
    chr(c) for c in [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
HOSTILE = [LINK, BOLD, SCRIPTED, RLO, f"a{ALL_BIDI}b", "x<br>y", "AT&T <i>i</i>"]
TEMPLATE_KEYS = {"hovertemplate", "texttemplate"}
ALLOWED_TAG = re.compile(r"</?extra>|<br>")


def texts(node: Any, path: str = "", key: str = "") -> Iterator[tuple[str, str, str]]:
    """Every (path, key, string) in a figure's JSON: data, customdata and layout alike."""
    if isinstance(node, str):
        yield path, key, node
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from texts(value, f"{path}.{name}", name)
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from texts(value, f"{path}[{index}]", key)
    elif hasattr(node, "tolist"):
        yield from texts(node.tolist(), path, key)


def assert_safe(spec: dict[str, Any]) -> None:
    """No markup plotly would act on, no bidi control, anywhere in the figure."""
    for path, key, text in texts(spec):
        assert not BIDI.search(text), f"bidi control at {path}: {text!r}"
        rest = ALLOWED_TAG.sub("", text) if key in TEMPLATE_KEYS else text
        assert "<" not in rest and ">" not in rest, f"markup at {path}: {text!r}"


def hostile_series() -> pd.DataFrame:
    rows = [(f"2026-11-0{1 + n % 3}", name, n + 1) for n, name in enumerate(HOSTILE * 2)]
    return pd.DataFrame(
        {
            "bucket": pd.to_datetime([r[0] for r in rows]),
            "series": [r[1] for r in rows],
            "count": [r[2] for r in rows],
        }
    )


BUILDERS: dict[str, Callable[[str], go.Figure]] = {
    "frequency": lambda text: charts.frequency_chart(hostile_series(), title=text, subtitle=text),
    "trend": lambda text: charts.trend_chart(hostile_series(), title=text, subtitle=text),
    "sparkline": lambda text: charts.sparkline(hostile_series()),
    "heatmap": lambda text: charts.heatmap_chart(
        pd.DataFrame({"weekday": [0, 1], "hour": [2, 3], "count": [4, 5]}),
        title=text,
        subtitle=text,
    ),
    "bar": lambda text: charts.bar_chart(
        pd.DataFrame({"tag": HOSTILE, "articles": range(len(HOSTILE))}),
        x="articles",
        y="tag",
        title=text,
        subtitle=text,
    ),
    "bar-vertical": lambda text: charts.bar_chart(
        pd.DataFrame({"term": HOSTILE, "count": range(len(HOSTILE))}),
        x="term",
        y="count",
        title=text,
        subtitle=text,
        horizontal=False,
    ),
    "empty": lambda text: charts.frequency_chart(hostile_series().head(0), title=text),
}


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_escapes_every_string(name: str, text: str) -> None:
    figure = BUILDERS[name](text)
    spec = figure.to_plotly_json()
    assert_safe(spec)
    # Escaped, not dropped: the text is still there for the reader, as text.
    if name not in ("sparkline", "empty"):
        assert any(charts.plotly_text(text) in t for _, _, t in texts(spec)), text


def test_bidi_controls_are_removed_from_labels() -> None:
    figure = charts.bar_chart(
        pd.DataFrame({"tag": [RLO, "Wahl"], "articles": [2, 1]}), x="articles", y="tag", title="t"
    )
    assert list(figure.data[0].y) == ["evil txt", "Wahl"]
    assert charts.plain_text(f"a{ALL_BIDI}b") == "ab"
    assert charts.plotly_text(f"\u2067{BOLD}\u2069") == "&lt;b&gt;bold&lt;/b&gt;"


def test_labels_that_look_alike_once_cleaned_stay_two_bars() -> None:
    table = pd.DataFrame({"tag": ["Wahl", "Wa\u200ehl", "Wahl "], "articles": [3, 2, 1]})
    bar = charts.bar_chart(table, x="articles", y="tag", title="t").data[0]
    assert len(set(bar.y)) == 3 and list(bar.x) == [3, 2, 1]


def test_escape_figure_reaches_every_place_plotly_renders_text() -> None:
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=[LINK, BOLD],
            y=[1, 2],
            name=SCRIPTED,
            text=[LINK, RLO],
            hovertext=[BOLD, LINK],
            customdata=[[LINK], [BOLD]],
            hovertemplate="%{customdata[0]} " + LINK + "<br>%{y}<extra>" + BOLD + "</extra>",
            texttemplate="%{text}" + BOLD,
            legendgroup=LINK,
            legendgrouptitle={"text": LINK},
        )
    )
    figure.add_trace(
        go.Heatmap(
            z=[[1, 2], [3, 4]],
            x=[LINK, BOLD],
            y=[RLO, SCRIPTED],
            colorbar={"title": {"text": LINK}},
        )
    )
    figure.update_layout(
        title={"text": LINK, "subtitle": {"text": BOLD}},
        xaxis={
            "title": {"text": RLO},
            "tickmode": "array",
            "tickvals": [0, 1],
            "ticktext": [LINK, BOLD],
            "categoryarray": [LINK, BOLD],
        },
        legend={"title": {"text": SCRIPTED}},
        annotations=[{"text": LINK, "x": 0, "y": 0, "hovertext": BOLD}],
        meta=[LINK],
    )
    escaped = charts.escape_figure(figure)
    assert escaped is figure
    spec = figure.to_plotly_json()
    assert_safe(spec)
    template = figure.data[0].hovertemplate
    assert template.startswith("%{customdata[0]} &lt;a") and template.endswith("</extra>")
    assert "<br>%{y}<extra>&lt;b&gt;bold&lt;/b&gt;</extra>" in template
    # The category order still names the categories it orders.
    assert list(figure.layout.xaxis.categoryarray) == list(figure.data[0].x)
    # A second pass changes nothing (no "&amp;lt;").
    before = json.dumps(spec, sort_keys=True, default=str)
    assert "&amp;lt;" not in before
    charts.escape_figure(figure)
    assert json.dumps(figure.to_plotly_json(), sort_keys=True, default=str) == before


def test_plain_table_cleans_text_and_list_cells_only() -> None:
    table = pd.DataFrame(
        {"author": [RLO, "Ann"], "tags": [[RLO, "x"], []], "n": [1, 2], "url": [None, "u"]}
    )
    clean = charts.plain_table(table)
    assert list(clean["author"]) == ["evil txt", "Ann"]
    assert list(clean["tags"].iloc[0]) == ["evil txt", "x"]
    assert list(clean["n"]) == [1, 2] and pd.isna(clean["url"].iloc[0])
    assert list(table["author"]) == [RLO, "Ann"]  # the input is left alone


# -- the pages, on a hostile store ------------------------------------------------------------


def _literal(text: str) -> str:
    """Escaped twice: feedparser and the HTML-to-text step each undo one level, so the
    stored text holds the markup itself."""
    once = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return once.replace("&", "&amp;")


HOSTILE_AUTHOR = '<a href="https://evil.example">Mallory</a>'
# What the store keeps of it: normalising takes markup out of a byline, so the pages get the
# name; titles and tags still carry markup to them.
STORED_AUTHOR = "Mallory"
HOSTILE_ENTRIES = [
    (f"{LINK} Wahl", HOSTILE_AUTHOR, [LINK, "Zölle"]),
    (f"{BOLD} Titel", "<b>Eve</b>", [BOLD, "javascript:alert(1)"]),
    (f"{RLO} Titel", "\u202eEve Wrong", ["\u202egat\u202c", "Zölle"]),
    (f"{SCRIPTED} Zölle", "Ann", [SCRIPTED, "Wahl"]),
]


def hostile_feed() -> bytes:
    items = []
    for n in range(12):
        title, author, tags = HOSTILE_ENTRIES[n % len(HOSTILE_ENTRIES)]
        categories = "".join(f"<category>{_literal(t)}</category>" for t in tags)
        items.append(
            f"<item><title>{_literal(title)} {n}</title><link>javascript:alert({n})</link>"
            f"<guid isPermaLink='false'>hostile-{n}</guid>"
            f"<dc:creator>{_literal(author)}</dc:creator>{categories}"
            f"<pubDate>{format_datetime(NOW - timedelta(days=n % 9, hours=3))}</pubDate>"
            f"<description>{_literal(title)} Zölle Verhandlungen #Friedensgespräche"
            "</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{_literal(LINK + ' feed ' + RLO)}</title>"
        "<link>https://hostile.example/</link><description>x</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    store = DuckDBStore(path)
    report = ingest.ingest_bytes(
        store, hostile_feed(), source="hostile.xml", feed_url="https://hostile.example/feed"
    )
    assert not report.failed, report.line()
    authors = analyze.options(store)["authors"]
    tags = list(analyze.tags(store, Filters())["tag"])
    # The payloads survived ingest: the pages really get them.
    assert STORED_AUTHOR in authors and HOSTILE_AUTHOR not in authors, authors
    assert LINK in tags, tags
    assert any("\u202e" in t for t in tags), tags
    assert analyze.stats(store, Filters(since=NOW - timedelta(days=30)))["articles"] == 12
    return path


@pytest.fixture
def page_at(apptest: Dashboard, hostile_db: Path) -> Callable[..., AppTest]:
    """`page_at(page, **query_params)`: AppTest of app.py on the hostile store, run on a link
    straight to `page`."""
    return partial(apptest.open, hostile_db)


def _cells(frame: pd.DataFrame) -> Iterator[str]:
    for value in frame.to_numpy().ravel():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list | tuple) or hasattr(value, "tolist"):
            items = value.tolist() if hasattr(value, "tolist") else value
            if isinstance(items, list):
                yield from (v for v in items if isinstance(v, str))


PAGE_VIEWS = [
    ("pages/overview.py", {}),
    ("pages/frequency.py", {"split": "author"}),
    ("pages/frequency.py", {"split": "feed"}),
    ("pages/tags.py", {}),
    ("pages/tags.py", {"with": LINK}),
    ("pages/clouds.py", {}),
    ("pages/clouds.py", {"compare": "true", "side": "authors"}),
    (
        "pages/clouds.py",
        {"compare": "true", "side": "authors", "a": "\u202eEve Wrong", "b": STORED_AUTHOR},
    ),
    ("pages/clouds.py", {"compare": "true", "side": "tags"}),
    ("pages/authors.py", {"who": STORED_AUTHOR}),
    ("pages/authors.py", {"who": "\u202eEve Wrong"}),
]


@pytest.mark.parametrize(("page", "params"), PAGE_VIEWS)
def test_no_feed_text_is_markup_or_reversed_on_the_page(
    page_at: Callable[..., AppTest], page: str, params: dict[str, str]
) -> None:
    at = page_at(page, **params)
    figures = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    if page != "pages/clouds.py" or not params:
        assert figures, "the page drew no chart"
    for figure in figures:
        assert_safe(figure)
    if page in ("pages/overview.py", "pages/tags.py"):
        # The hostile tag is in the chart, as escaped text.
        escaped = charts.plotly_text(LINK)
        assert any(escaped in t for f in figures for _, _, t in texts(f)), page
    for frame in at.dataframe:
        for cell in _cells(frame.value):
            assert not BIDI.search(cell), f"bidi control in a table cell: {cell!r}"
    for element in at.text:
        assert not BIDI.search(str(element.value)), f"bidi control in {element.value!r}"
