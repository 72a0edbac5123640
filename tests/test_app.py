"""The dashboard through Streamlit's AppTest: every page on an empty store, on the demo store,
with filters in the URL, with malformed URLs, with hostile feed content, and read-only.

A real DuckDB file per case (MONITOR_DB), a real HTTP server on 127.0.0.1 for "Fetch now".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from dashboard import APP, Dashboard, run_on
from httpserver import TestServer
from streamlit.testing.v1 import AppTest

from monitor import analyze, ingest, subscriptions
from monitor.models import Filters
from monitor.query import parse
from monitor.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "pages/overview.py",
    "pages/frequency.py",
    "pages/tags.py",
    "pages/clouds.py",
    "pages/topics.py",
    "pages/authors.py",
    "pages/articles.py",
    "pages/stories.py",
    "pages/attention.py",
    "pages/sources.py",
]
TITLES = {
    "pages/overview.py": "Overview",
    "pages/frequency.py": "Publishing frequency",
    "pages/tags.py": "Hashtag trends",
    "pages/clouds.py": "Topic clouds",
    "pages/topics.py": "Topics",
    "pages/authors.py": "Authors",
    "pages/articles.py": "Articles",
    "pages/stories.py": "Stories",
    "pages/attention.py": "Attention",
    "pages/sources.py": "Sources",
}
ARTICLE_PAGES = [p for p in PAGES if p != "pages/sources.py"]
EMPTY = "No articles in this view"
HOSTILE_TITLE = "<script>alert(1)</script> Breaking"
HOSTILE_LINK_TITLE = "[x](javascript:alert(1)) Click me"
HOSTILE_ANCHOR = "<a href=javascript:alert(2)>Anchor</a>"
# Streamlit's caches are process-wide: emptied around every test here, with or without AppTest.
pytestmark = pytest.mark.usefixtures("fresh_caches")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, built once per session by the real `monitor demo` command."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    script = Path(sys.executable).with_name("monitor")
    done = subprocess.run(
        [str(script), "--db", str(path), "demo"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return path


def _rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>&lt;b&gt;Hostile&lt;/b&gt; [feed](javascript:alert(3))</title>"
        "<link>https://hostile.example/</link><description>x</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _item(title: str, link: str, author: str, tag: str, day: int, *, literal: bool = False) -> str:
    """An RSS item. `literal`: escaped twice, so the entry's text itself holds the markup
    (escaped once, feedparser reads it as HTML and strips the tags)."""

    def esc(text: str) -> str:
        once = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return once.replace("&", "&amp;") if literal else once

    published = (datetime.now(UTC) - timedelta(days=day)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"<item><title>{esc(title)}</title><link>{link.replace('&', '&amp;')}</link>"
        f"<guid isPermaLink='false'>{esc(title)}-{day}</guid>"
        f"<dc:creator>{esc(author)}</dc:creator><category>{esc(tag)}</category>"
        f"<pubDate>{published}</pubDate>"
        f"<description>{esc(title)} Friedensgespräche Verhandlungen Ergebnis</description></item>"
    )


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store from a small feed whose titles, authors and tags carry markup and links."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    content = _rss(
        [
            _item(
                HOSTILE_TITLE,
                "javascript:alert(1)",
                "<script>alert(4)</script>",
                "<b>x</b>",
                1,
                literal=True,
            ),
            _item(
                HOSTILE_LINK_TITLE,
                "https://hostile.example/a",
                "[y](javascript:z)",
                "#tag",
                2,
                literal=True,
            ),
            _item(
                HOSTILE_ANCHOR,
                "data:text/html,hi",
                "Eve <eve@example.org>",
                "plain",
                3,
                literal=True,
            ),
        ]
    )
    report = ingest.ingest_bytes(
        DuckDBStore(path), content, source="hostile.xml", feed_url="https://hostile.example/feed"
    )
    assert not report.failed, report.line()
    return path


@pytest.fixture
def app(apptest: Dashboard) -> Callable[..., AppTest]:
    """AppTest of app.py on a store: `app(db, **query_params)` (not yet run)."""
    return partial(apptest.app, timeout=30)


def _open(at: AppTest, page: str) -> AppTest:
    """Run `at` as a browser opening a link straight to `page` (its URL parameters set)."""
    run_on(at, page)
    assert [t.value for t in at.title][:1] == [TITLES[page]], [t.value for t in at.title]
    return at


def _markdown_texts(at: AppTest) -> list[str]:
    """Every text Streamlit renders as markdown (titles, captions, notes, markdown)."""
    texts: list[str] = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
    ):
        texts.extend(str(el.value) for el in at.get(kind))
    return texts


def _figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _title(figure: dict[str, Any]) -> str:
    """A figure's title and subtitle as one text ("" when it has none, e.g. a sparkline)."""
    title = figure["layout"].get("title") or {}
    return " ".join(
        [str(title.get("text") or ""), str((title.get("subtitle") or {}).get("text") or "")]
    ).strip()


def _metric(at: AppTest, label: str) -> int:
    for metric in at.metric:
        if metric.label == label:
            return int(str(metric.value).replace(",", ""))
    raise AssertionError(f"no metric {label!r}")


def _view(at: AppTest) -> Any:
    return at.session_state["_monitor_view"]


# -- every page, empty and full -------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_on_empty_store_says_what_to_do(
    page: str, app: Callable[..., AppTest], tmp_path: Path
) -> None:
    at = _open(app(tmp_path / "empty.duckdb"), page)
    infos = " ".join(str(i.value) for i in at.info)
    if page == "pages/sources.py":
        assert "No feeds yet" in infos
    else:
        assert EMPTY in infos and "monitor demo" in infos
    # An empty view draws no chart at all, never an empty axis.
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("page", PAGES)
def test_page_on_demo_store(page: str, app: Callable[..., AppTest], demo_db: Path) -> None:
    at = _open(app(demo_db), page)
    assert not at.warning
    assert EMPTY not in " ".join(str(i.value) for i in at.info)
    figures = _figures(at)
    if page in ("pages/overview.py", "pages/frequency.py", "pages/tags.py", "pages/clouds.py"):
        assert figures
    titles = [_title(f) for f in figures if _title(f)]
    assert len(titles) >= len(figures) - (page == "pages/overview.py")  # all but the sparkline
    for title in titles:
        # What is counted, over which window, in which zone.
        assert title.startswith(("Articles", "Top", "Other")), title
        assert "last 30 days" in title and "UTC" in title, title
    # Every chart comes with a download of its data.
    downloads = at.get("download_button")
    assert len(downloads) >= len(figures)
    # (AppTest leaves the sidebar out of its tree after a page switch; the state is there.)
    assert at.session_state["range"] == "30 days"


def test_overview_metric_equals_stats_for_the_url_filters(
    app: Callable[..., AppTest], demo_db: Path
) -> None:
    at = _open(app(demo_db, tag="politik", range="7 days", tz="Europe/Berlin"), PAGES[0])
    view = _view(at)
    assert view.filters.tags == ("politik",)
    assert view.filters.until - view.filters.since == timedelta(days=7)
    assert view.timezone == "Europe/Berlin"
    expected = analyze.stats(DuckDBStore(demo_db), view.filters)
    assert 0 < _metric(at, "Articles") == expected["articles"]
    assert _metric(at, "Tags") == expected["tags"]
    everything = analyze.stats(DuckDBStore(demo_db), Filters(since=view.filters.since))
    assert expected["articles"] < everything["articles"]
    # The chart titles name the window and the zone the user chose.
    titles = [_title(f) for f in _figures(at) if _title(f)]
    assert titles and all("last 7 days" in t and "Europe/Berlin" in t for t in titles)


def test_counting_stories_from_the_url_changes_every_count_chart(
    app: Callable[..., AppTest], demo_db: Path
) -> None:
    """`count=stories`: the Overview shows the stories beside the articles, and the count
    charts of Overview, Publishing frequency, Hashtag trends and Authors draw the store's story
    counts (fewer than its article counts on the demo store), titled for stories."""
    params = {"range": "all time", "tz": "Europe/Berlin"}
    at = _open(app(demo_db, count="stories", **params), PAGES[0])
    view = _view(at)
    assert view.filters.unit == "stories"
    store = DuckDBStore(demo_db)
    stories = analyze.stats(store, view.filters)
    assert _metric(at, "Stories") == stories["stories"] < _metric(at, "Articles")
    assert _metric(at, "Articles") == stories["articles"]
    titles = [_title(f) for f in _figures(at) if _title(f)]
    assert titles and all("counting stories" in t for t in titles), titles
    assert any(t.startswith("Top tags by stories") for t in titles), titles

    at.switch_page("pages/frequency.py").run()
    assert not at.exception, [e.value for e in at.exception]
    figure = _figures(at)[0]
    assert _title(figure).startswith(f"Stories per {view.bucket}")
    drawn = sum(sum(trace["y"]) for trace in figure["data"] if trace.get("y"))
    as_articles = analyze.frequency(store, replace(view.filters, unit="articles"), by=view.bucket)
    as_stories = analyze.frequency(store, view.filters, by=view.bucket, timezone="Europe/Berlin")
    assert drawn == sum(as_stories["count"]) < sum(as_articles["count"])

    at.switch_page("pages/tags.py").run()
    assert not at.exception, [e.value for e in at.exception]
    bars = [f for f in _figures(at) if _title(f).startswith("Top tags by stories")]
    assert bars, [_title(f) for f in _figures(at)]
    top = analyze.tags(store, view.filters, limit=1)
    assert max(bars[0]["data"][0]["x"]) == top["articles"][0]
    assert (
        top["articles"][0]
        < analyze.tags(store, replace(view.filters, unit="articles"))["articles"][0]
    )

    at.switch_page("pages/authors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    expected = analyze.authors(store, view.filters)
    assert table["articles"].tolist()[:5] == expected["articles"][:5]
    assert at.query_params["count"] in ("stories", ["stories"])


def test_tag_in_url_narrows_the_articles_table(app: Callable[..., AppTest], demo_db: Path) -> None:
    everything = _open(app(demo_db), "pages/articles.py")
    all_rows = everything.dataframe[0].value
    narrowed = _open(app(demo_db, tag="ukraine"), "pages/articles.py")
    rows = narrowed.dataframe[0].value
    assert len(rows) > 0
    assert all("ukraine" in tags.casefold().split(", ") for tags in rows["tags"])
    assert set(rows["title"]) != set(all_rows["title"])
    total = analyze.articles(DuckDBStore(demo_db), _view(narrowed).filters, limit=1)[1]
    # The page's own count line, exactly ("of 3" must not pass for "of 30").
    assert any(
        re.fullmatch(rf"Articles 1–{len(rows)} of {total} · .*", str(c.value))
        for c in narrowed.caption
    ), [c.value for c in narrowed.caption]
    # Links are http(s) or blank.
    assert all(pd.isna(v) or str(v).startswith(("http://", "https://")) for v in rows["link"])


def test_filters_survive_a_page_switch(app: Callable[..., AppTest], demo_db: Path) -> None:
    at = _open(app(demo_db, tag="politik", range="90 days", lang="de"), PAGES[0])
    for page in ("pages/frequency.py", "pages/articles.py", "pages/overview.py"):
        at.switch_page(page).run()
        assert not at.exception
        view = _view(at)
        assert view.filters.tags == ("politik",) and view.filters.languages == ("de",)
        assert at.session_state["range"] == "90 days"


def test_custom_dates_in_the_url(app: Callable[..., AppTest], demo_db: Path) -> None:
    # Dates without a range mean custom dates, read in the display zone.
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=20), today - timedelta(days=10)
    at = _open(
        app(demo_db, **{"from": start.isoformat(), "to": end.isoformat(), "tz": "Asia/Tokyo"}),
        "pages/frequency.py",
    )
    assert not at.warning
    view = _view(at)
    assert at.session_state["range"] == "custom"
    assert view.filters.since == datetime(start.year, start.month, start.day, tzinfo=UTC) - (
        timedelta(hours=9)
    )
    assert view.filters.until - view.filters.since == timedelta(days=11)
    expected = analyze.frequency(
        DuckDBStore(demo_db), view.filters, by=view.bucket, timezone="Asia/Tokyo"
    )
    drawn = _figures(at)[0]["data"]
    drawn_total = sum(sum(trace["y"]) for trace in drawn if trace.get("y"))
    assert drawn_total == sum(expected["count"]) > 0


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"from": "2026-13-45", "range": "custom"}, "`from`"),
        ({"to": "not-a-date"}, "`to`"),
        ({"range": "fortnight"}, "`range`"),
        ({"tz": "Mars/Olympus_Mons"}, "`tz`"),
        ({"utm_source": "newsletter"}, "utm\\_source"),
        ({"tag": "no-such-tag-anywhere"}, "`tag`"),
        ({"by": "minute"}, "`by`"),
        ({"count": "words"}, "`count`"),
        ({"page": "-2"}, "`page`"),
        ({"q": "x" * 500}, "`q`"),
        ({"<script>alert(1)</script>": "1"}, "\\<script\\>"),
    ],
)
def test_malformed_url_gives_a_note_not_a_traceback(
    params: dict[str, str], named: str, app: Callable[..., AppTest], demo_db: Path
) -> None:
    at = app(demo_db, **params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [str(w.value) for w in at.warning]
    assert any(named in w for w in warnings), warnings
    for text in _markdown_texts(at):
        assert "<script>" not in text
    # The rest of the view still works: the defaults stand in for what was dropped.
    expected = analyze.stats(DuckDBStore(demo_db), _view(at).filters)["articles"]
    assert _metric(at, "Articles") == expected > 0
    for page in ("pages/frequency.py", "pages/articles.py", "pages/clouds.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])


@pytest.mark.parametrize(
    ("page", "params", "named"),
    [
        ("pages/authors.py", {"who": "Nobody At All"}, "`who`"),
        ("pages/tags.py", {"with": "no-such-tag-anywhere"}, "`with`"),
        ("pages/clouds.py", {"compare": "true", "side": "authors", "a": "Nobody"}, "`a`"),
        ("pages/clouds.py", {"compare": "true", "side": "feeds", "b": "<b>x</b>"}, "`b`"),
        ("pages/clouds.py", {"swlang": "xx"}, "`swlang`"),
        ("pages/clouds.py", {"compare": "perhaps"}, "`compare`"),
        ("pages/clouds.py", {"weight": "tfidf"}, "`weight`"),
        ("pages/clouds.py", {"perlang": "both"}, "`perlang`"),
        ("pages/topics.py", {"k": "many"}, "`k`"),
        ("pages/topics.py", {"topic": "99"}, "`topic`"),
        ("pages/articles.py", {"asc": "maybe"}, "`asc`"),
    ],
)
def test_malformed_page_parameter_gives_a_note(
    page: str,
    params: dict[str, str],
    named: str,
    app: Callable[..., AppTest],
    demo_db: Path,
) -> None:
    """Parameters whose valid values the page learns from the store (an author, a tag, a
    stopword language) are checked by the page itself."""
    at = _open(app(demo_db, **params), page)
    warnings = [str(w.value) for w in at.warning]
    assert any(named in w for w in warnings), warnings
    for text in _markdown_texts(at):
        assert "<b>" not in text


def test_script_in_search_is_plain_text(app: Callable[..., AppTest], demo_db: Path) -> None:
    attack = "<script>alert(1)</script>"
    at = _open(app(demo_db, q=attack), "pages/articles.py")
    assert at.session_state["q"] == attack
    query = _view(at).filters.query
    assert query is not None and query.text == attack
    for text in _markdown_texts(at):
        assert "<script>" not in text
    assert EMPTY in " ".join(str(i.value) for i in at.info)


# -- a shared link is the same view ------------------------------------------------------

WIDGET_KINDS = (
    "selectbox",
    "multiselect",
    "toggle",
    "checkbox",
    "number_input",
    "date_input",
    "text_input",
    "radio",
)


def _url_values(value: object) -> list[str]:
    """A widget value as the URL spells it (repeated parameters for a list)."""
    if value is None or value == "":
        return []  # nothing chosen, no search: left out of the URL
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


def _query(at: AppTest) -> dict[str, list[str]]:
    return {k: _url_values(v) for k, v in at.query_params.items()}


def _keyed_widgets(at: AppTest) -> dict[str, object]:
    """Every widget of the run with a key of its own (internal ones start with "_")."""
    found: dict[str, object] = {}
    for kind in WIDGET_KINDS:
        for widget in at.get(kind):
            key = getattr(widget, "key", None)
            if key and not str(key).startswith(("_", "$$")):
                found[str(key)] = widget.value
    return found


def _shown(at: AppTest) -> dict[str, Any]:
    """What a reader takes from a page: its numbers, captions, tables and chart data."""
    return {
        "metrics": [(m.label, m.value) for m in at.metric],
        "captions": [str(c.value) for c in at.caption],
        "tables": [df.value.to_csv() for df in at.dataframe],
        "charts": [json.dumps(f["data"], sort_keys=True) for f in _figures(at)],
        "notes": [str(w.value) for w in at.warning] + [str(i.value) for i in at.info],
    }


def test_no_widget_binds_itself_to_the_url() -> None:
    """Streamlit's bind="query-params" leaves a widget's default out of the URL: every widget
    that shapes a view goes through pages/_ui.py, which writes defaults too."""
    for script in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        code = "\n".join(
            line
            for line in script.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        )
        assert 'bind="query-params"' not in code, script.name


@pytest.mark.parametrize("page", PAGES)
def test_the_url_holds_every_widget_defaults_included(
    page: str, app: Callable[..., AppTest], demo_db: Path
) -> None:
    at = _open(app(demo_db), page)
    query = _query(at)
    widgets = _keyed_widgets(at)
    # The sidebar's and the page's own widgets, all drawn in this run.
    assert {"range", "tz", "feed", "tag"} <= set(widgets), sorted(widgets)
    assert query["range"] == ["30 days"] and query["tz"] == ["UTC"], query
    for key, value in widgets.items():
        assert query.get(key, []) == _url_values(value), (key, value, query)
    # Nothing else: a parameter of another page or a stale one would change a later view.
    assert set(query) <= set(widgets), (set(query) - set(widgets), query)


PAGE_LINKS = {
    "pages/overview.py": {},
    "pages/frequency.py": {"by": "week", "split": "feed", "top": "3"},
    "pages/tags.py": {"with": "Wirtschaft"},
    "pages/clouds.py": {"compare": "true", "side": "tags", "a": "Wirtschaft", "b": "Politik"},
    "pages/topics.py": {"k": "5", "topic": "2"},
    "pages/authors.py": {"who": "Helen Marsh"},
    "pages/articles.py": {"sort": "title", "asc": "true", "page": "2"},
    "pages/stories.py": {},
    "pages/attention.py": {"aq1": "Politik", "aq2": "Wirtschaft", "by": "month"},
    "pages/sources.py": {},
}


@pytest.mark.parametrize("page", PAGES)
def test_the_url_a_page_leaves_reopens_the_same_view(
    page: str, app: Callable[..., AppTest], demo_db: Path
) -> None:
    """The address a run leaves behind, opened in a new session, shows the same and
    leaves the same address: the link in the address bar is the view."""
    today = datetime.now(UTC).date()
    link = {
        "range": "custom",
        "from": (today - timedelta(days=60)).isoformat(),
        "to": (today - timedelta(days=5)).isoformat(),
        "tz": "Asia/Tokyo",
        **PAGE_LINKS[page],
    }
    first = _open(app(demo_db, **link), page)
    left = _query(first)
    for key, value in link.items():
        assert left[key] == [value], (key, left)
    again = _open(app(demo_db, **{k: v if len(v) > 1 else v[0] for k, v in left.items()}), page)
    assert _query(again) == left
    assert _shown(again) == _shown(first)
    # (`now` is only the minute the run started; these dates do not depend on it.)
    assert replace(_view(again), now=_view(first).now) == _view(first)


def test_a_page_number_past_the_end_moves_to_the_last_page(
    app: Callable[..., AppTest], demo_db: Path
) -> None:
    """A link's (or the last run's) page 3 of a view that shrinks to one page shows page 1:
    no error box, and the URL says 1."""
    at = _open(app(demo_db, range="all time", page="3", tz="UTC"), "pages/articles.py")
    assert at.number_input(key="page").value == 3
    # The busiest tag that fits one page (the demo moves with the calendar: a fixed tag such
    # as "trump" had 51 articles on some days).
    tags = analyze.tags(DuckDBStore(demo_db), Filters(), limit=200)
    small = next(r["key"] for r in tags.records() if 0 < r["articles"] <= 50)
    at.sidebar.multiselect(key="tag").select(small).run()
    assert not at.exception, [e.value for e in at.exception]
    total = analyze.articles(DuckDBStore(demo_db), _view(at).filters, limit=1)[1]
    assert 0 < total <= 50
    assert at.number_input(key="page").value == 1
    assert _query(at)["page"] == ["1"]
    # A link past the end opens the last page.
    far = _open(app(demo_db, range="all time", page="999", tz="UTC"), "pages/articles.py")
    everything = analyze.articles(DuckDBStore(demo_db), _view(far).filters, limit=1)[1]
    assert far.number_input(key="page").value == -(-everything // 50) > 1
    assert not far.exception


def test_a_link_with_default_dates_keeps_them(app: Callable[..., AppTest], demo_db: Path) -> None:
    """A custom start equal to the date picker's default (30 days before today, where the
    viewer is) was dropped from the URL, and the link then moved with the calendar."""
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=30), today - timedelta(days=11)
    at = _open(
        app(demo_db, range="custom", **{"from": start.isoformat(), "to": end.isoformat()}),
        "pages/overview.py",
    )
    query = _query(at)
    assert query["from"] == [start.isoformat()] and query["to"] == [end.isoformat()], query
    view = _view(at)
    assert view.filters.since == datetime.combine(start, datetime.min.time(), UTC)
    assert view.filters.until == datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)


def test_a_link_without_a_zone_is_read_in_utc_for_everyone(
    app: Callable[..., AppTest], demo_db: Path
) -> None:
    """The browser's zone is the default only for a bare visit; dates in a link that names no
    zone would otherwise mean different days in Tokyo and Los Angeles."""
    at = _open(
        app(demo_db, range="custom", **{"from": "2026-11-01", "to": "2026-11-20"}),
        "pages/overview.py",
    )
    assert _query(at)["tz"] == ["UTC"]
    assert _view(at).timezone == "UTC"
    assert any("does not name a time zone" in str(i.value) for i in at.info)
    assert _view(at).filters.since == datetime(2026, 11, 1, tzinfo=UTC)
    expected = analyze.stats(DuckDBStore(demo_db), _view(at).filters)["articles"]
    assert _metric(at, "Articles") == expected


def test_copy_link_offers_the_rolling_window_or_its_dates(
    app: Callable[..., AppTest], demo_db: Path
) -> None:
    at = _open(
        app(demo_db, range="7 days", tz="Europe/Berlin", tag="politik"), "pages/frequency.py"
    )
    rolling = at.code[0].value
    assert rolling == "/frequency?" + urlencode(
        [(k, v) for k, values in _query(at).items() for v in values]
    )
    assert "range=7+days" in rolling and "tz=Europe%2FBerlin" in rolling
    view = _view(at)
    zone = ZoneInfo("Europe/Berlin")
    start = view.filters.since.astimezone(zone).date()
    end = (view.filters.until - timedelta(microseconds=1)).astimezone(zone).date()
    at.radio(key="_monitor_link_kind").set_value("pinned").run()
    pinned = at.code[0].value
    assert pinned.startswith("/frequency?range=custom&")
    assert f"from={start.isoformat()}&to={end.isoformat()}" in pinned
    assert "tag=Politik" in pinned and "tz=Europe%2FBerlin" in pinned and "by=" in pinned
    # The pinned link, opened, keeps exactly those dates and leaves itself in the URL.
    params = parse_qs(pinned.split("?", 1)[1])
    fixed = _open(app(demo_db, **{k: v[0] for k, v in params.items()}), "pages/frequency.py")
    assert _query(fixed) == params
    assert _view(fixed).filters.since == datetime.combine(start, datetime.min.time(), zone)


@pytest.mark.parametrize("page", PAGES)
def test_the_filters_are_named_under_every_title_and_chart(
    page: str, app: Callable[..., AppTest], demo_db: Path
) -> None:
    """A screenshot keeps its context (on a phone the sidebar is hidden)."""
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=60), today - timedelta(days=1)
    at = _open(
        app(
            demo_db,
            tag="politik",
            lang="de",
            tz="Europe/Berlin",
            range="custom",
            **{"from": start.isoformat(), "to": end.isoformat(), **PAGE_LINKS[page]},
        ),
        page,
    )
    caption = str(at.caption[0].value).replace("\\", "")
    assert "Europe/Berlin" in caption, caption
    if page == "pages/sources.py":
        assert "do not apply" in caption
        return
    assert f"{start:%d %b %Y}" in caption and "tag: politik" in caption, caption
    assert "language: de" in caption, caption
    for figure in _figures(at):
        title = _title(figure)
        if title:  # (the sparkline has none; its caption above it names the view)
            assert "tag: politik" in title and "language: de" in title, title


def test_download_names_keep_the_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from pages import _ui  # noqa: PLC0415

    tokyo = ZoneInfo("Asia/Tokyo")
    view = _ui.View(
        filters=Filters(
            since=datetime(2026, 11, 1, tzinfo=tokyo),
            until=datetime(2026, 11, 21, tzinfo=tokyo),
            tags=("Trump",),
        ),
        timezone="Asia/Tokyo",
        window="01 Nov 2026 – 20 Nov 2026",
        bucket="day",
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert view.filename("articles", "csv") == "articles_2026-11-01_2026-11-20_tag-Trump.csv"
    hostile = replace(
        view,
        filters=replace(
            view.filters,
            tags=("../../etc/passwd", "a\u202egpj.exe", "x\ny"),
            feeds=("Ärger & Co: <b>News</b>",),
            query=parse("x" * 500),
        ),
    )
    name = hostile.filename("frequency", "csv")
    assert re.fullmatch(r"[\w+-]+\.csv", name), name
    assert len(name) <= 160 and "\u202e" not in name, name
    assert name.startswith("frequency_2026-11-01_2026-11-20_feed-Ärger-Co-b-News-b"), name
    everything = replace(view, filters=Filters()).filename("tags", "csv")
    assert everything == "tags_all-time.csv"
    # The caption says the same, and a bidi override cannot reverse it.
    assert "\u202e" not in hostile.caption() and "tag" in hostile.caption()


def test_first_seen_dates_are_marked_on_the_articles_page(
    app: Callable[..., AppTest], tmp_path: Path
) -> None:
    db = tmp_path / "undated.duckdb"
    dated = _item("Dated story", "https://d.example/1", "Ann", "t", 2)
    undated = re.sub(
        r"<pubDate>.*?</pubDate>", "", _item("Undated story", "https://d.example/2", "Ann", "t", 0)
    )
    ingest.ingest_bytes(
        DuckDBStore(db), _rss([dated, undated]), source="d.xml", feed_url="https://d.example/feed"
    )
    at = _open(app(db, range="all time"), "pages/articles.py")
    rows = at.dataframe[0].value
    marks = dict(zip(rows["title"], rows["dated_by"], strict=True))
    assert marks["Undated story"].startswith("⚠ first seen"), marks
    assert marks["Dated story"] == "", marks
    assert any(
        "first seen" in str(c.value) and "not when it was published" in str(c.value)
        for c in at.caption
    )


# -- hostile feed content ----------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_hostile_feed_content_never_becomes_markup(
    page: str, app: Callable[..., AppTest], hostile_db: Path
) -> None:
    # The Attention page shows feed content once it has a query (one every hostile item has).
    links = {"aq1": "Breaking", "aq2": "Click"} if page == "pages/attention.py" else {}
    at = _open(app(hostile_db, **links), page)
    for text in _markdown_texts(at):
        for raw in ("<script", "javascript:", "<a href", "<b>"):
            assert raw not in text, (raw, text)
    for figure in _figures(at):
        shown = json.dumps(
            [
                figure["layout"].get("title"),
                [t.get("x") for t in figure["data"]],
                [t.get("y") for t in figure["data"]],
                [t.get("name") for t in figure["data"]],
            ]
        )
        assert "<script" not in shown and "<a href" not in shown
    # The hostile content did reach the page (as text), so the checks above looked at it.
    everything = " ".join(
        [*_markdown_texts(at), *(df.value.to_csv() for df in at.dataframe)]
        + [json.dumps(f["data"]) for f in _figures(at)]
    ).casefold()
    markers = ("alert", "hostile", "breaking", "anchor", "&lt;b&gt;x", "[y](javascript:z)")
    if page == "pages/topics.py":
        # Three articles are too few for topics: the page says so and shows no feed content
        # (tests/test_topics.py checks hostile titles there on a store with topics).
        return
    assert any(m in everything for m in markers), page


def test_hostile_links_are_blank_in_the_articles_table(
    app: Callable[..., AppTest], hostile_db: Path
) -> None:
    at = _open(app(hostile_db, range="all time"), "pages/articles.py")
    rows = at.dataframe[0].value
    # Shown as plain text in the grid, exactly as the feed had it.
    assert {HOSTILE_TITLE, HOSTILE_LINK_TITLE, HOSTILE_ANCHOR} <= set(rows["title"])
    assert any("javascript:z" in a for a in rows["authors"])  # markup in a name is dropped
    by_title = dict(zip(rows["title"], rows["link"], strict=True))
    for title, link in by_title.items():
        assert pd.isna(link) or str(link).startswith(("http://", "https://")), (title, link)
    assert by_title[HOSTILE_LINK_TITLE] == "https://hostile.example/a"


# -- data freshness, writes, read-only ---------------------------------------------------


def test_new_data_appears_on_the_next_run_without_restart(
    app: Callable[..., AppTest], tmp_path: Path
) -> None:
    db = tmp_path / "grows.duckdb"
    at = _open(app(db), PAGES[0])
    assert _metric(at, "Articles") == 0
    # Another writer (here: the library, as `monitor fetch` would) adds articles.
    content = _rss(
        [_item(f"Story {n}", f"https://news.example/{n}", "Ann", "t", n) for n in range(3)]
    )
    ingest.ingest_bytes(
        DuckDBStore(db), content, source="f.xml", feed_url="https://news.example/feed"
    )
    at.run()
    assert _metric(at, "Articles") == 3


def test_read_only_hides_and_refuses_writes(
    app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "ro.duckdb"
    DuckDBStore(db).ensure_schema()  # read-only never creates a store
    make = app
    at = make(db)
    monkeypatch.setenv("MONITOR_READ_ONLY", "1")
    at = _open(at, "pages/sources.py")
    labels = [b.label for b in at.button]
    assert not any("Fetch" in label or "Add feed" in label or "Import" in label for label in labels)
    assert not at.main.text_input
    assert any("read-only" in str(c.value) for c in at.caption)
    at.switch_page("pages/clouds.py").run()
    assert not [b for b in at.button if b.label.startswith(("Add", "Remove"))]
    # The handlers refuse on their own as well.
    monkeypatch.syspath_prepend(str(ROOT))
    from pages import _ui  # noqa: PLC0415 - the app's helper, importable from the repo root

    _ui.add_feed("https://feeds.example/rss", "", False)
    _ui.fetch_now()
    assert analyze.feeds(DuckDBStore(db)).empty


def test_add_feed_refuses_a_private_address(app: Callable[..., AppTest], tmp_path: Path) -> None:
    db = tmp_path / "add.duckdb"
    at = _open(app(db), "pages/sources.py")
    at.main.text_input[0].input("http://127.0.0.1:9/feed.xml")
    next(b for b in at.button if b.label == "Add feed").click().run()
    assert not at.exception
    assert at.error and "127.0.0.1" in str(at.error[0].value).replace("\\", "")
    assert analyze.feeds(DuckDBStore(db)).empty


def test_fetch_now_reads_a_feed_from_a_local_server(
    app: Callable[..., AppTest], tmp_path: Path
) -> None:
    db = tmp_path / "fetch.duckdb"
    content = _rss(
        [_item(f"Local {n}", f"https://local.example/{n}", "Bo", "lokal", n) for n in range(4)]
    )
    with TestServer() as server:
        server.route("/feed.xml", body=content, headers={"Content-Type": "application/rss+xml"})
        # Subscribed from the command line (an operator may use loopback addresses).
        subscriptions.add_feeds(DuckDBStore(db), [server.url("/feed.xml")])
        at = _open(app(db), "pages/sources.py")
        next(b for b in at.button if "Fetch all" in b.label).click().run()
        assert not at.exception
        assert server.requests_for("/feed.xml")
    assert at.success
    assert analyze.stats(DuckDBStore(db), Filters())["articles"] == 4
    # The feed's own line (not any "4": the server's port has digits too).
    assert re.search(r"(?<!\d)4 new, 0 updated", at.code[0].value), at.code[0].value
    table = analyze.feeds(DuckDBStore(db))
    assert table["last_status"].iloc[0] == 200


# -- pieces that AppTest cannot click ----------------------------------------------------


def test_clicked_bar_labels_map_to_tag_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from pages import _ui  # noqa: PLC0415

    table = pd.DataFrame({"key": ["friedensgespräche", "ki"], "tag": ["Friedensgespräche", "KI"]})
    assert _ui.tag_keys_for(table, ["KI", "Friedensgespräche", "KI", "unknown"]) == [
        "ki",
        "friedensgespräche",
    ]
    assert _ui.safe_url("javascript:alert(1)") is None
    assert _ui.safe_url(" https://a.example/x ") == "https://a.example/x"
    assert _ui.safe_url("data:text/html,x") is None
    assert _ui.md_escape("[x](javascript:alert(1))") == "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"


def test_a_page_url_on_first_visit_still_goes_through_app_py(
    monkeypatch: pytest.MonkeyPatch, demo_db: Path
) -> None:
    # Plain AppTest: every run starts as a server's very first one, where Streamlit would run
    # pages/<page>.py alone (no router, no sidebar filters) because a pages/ folder exists.
    monkeypatch.setenv("MONITOR_DB", str(demo_db))
    monkeypatch.delenv("MONITOR_READ_ONLY", raising=False)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["tag"] = "politik"
    at.run()
    at.switch_page("pages/frequency.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Publishing frequency"]
    assert at.sidebar.selectbox(key="range").value == "30 days"
    assert at.sidebar.multiselect(key="tag").value == ["Politik"]  # its display form


def test_a_stopword_added_on_the_clouds_page_leaves_the_cloud(
    app: Callable[..., AppTest], tmp_path: Path
) -> None:
    db = tmp_path / "words.duckdb"
    content = _rss([_item(f"Story {n}", f"https://w.example/{n}", "Ann", "t", n) for n in range(3)])
    ingest.ingest_bytes(DuckDBStore(db), content, source="w.xml", feed_url="https://w.example/feed")
    before = set(analyze.terms(DuckDBStore(db), Filters())["term"])
    assert "verhandlung" in before  # the lemma of "Verhandlungen"
    at = _open(app(db), "pages/clouds.py")
    language, words = at.main.text_input[0], at.main.text_input[1]
    language.input("*")
    words.input("Verhandlungen")
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception
    assert at.success and "Added 1" in str(at.success[0].value)
    added = analyze.stopword_lists(DuckDBStore(db))
    assert ((added["origin"] == "added") & (added["word"] == "verhandlungen")).any()
    # The page's own table of terms (the bar chart's data) no longer has it.
    figure = next(f for f in _figures(at) if "terms" in _title(f).casefold())
    assert "verhandlung" not in json.dumps(figure["data"])  # the lemma goes too


def test_stories_page_shows_a_story_from_the_url(
    app: Callable[..., AppTest], demo_db: Path
) -> None:
    top = analyze.stories(DuckDBStore(demo_db), Filters(), limit=1).records()[0]
    at = _open(app(demo_db, story=top["story_id"], range="all time"), "pages/stories.py")
    assert not at.warning and not at.exception
    assert at.session_state["story"] == top["story_id"]
    frames = at.dataframe
    assert len(frames) == 2  # the stories, and this story's articles
    figures = _figures(at)
    assert len(figures) == 1 and _title(figures[0]).startswith("Articles per")
    # The story's title is plain text, never Markdown.
    assert any(top["title"] in str(t.value) for t in at.get("text"))


# -- the Attention page (issue 11) ----------------------------------------------------------


def test_attention_page_counts_equal_the_cli(
    app: Callable[..., AppTest], demo_db: Path, tmp_path: Path
) -> None:
    """Queries from the URL (a saved one among them) give the numbers `monitor attention`
    prints; the saved query shows by name and version; a bad one shows one line."""
    import json  # noqa: PLC0415

    from click.testing import CliRunner  # noqa: PLC0415

    from monitor.cli import cli  # noqa: PLC0415

    db = tmp_path / "demo.duckdb"
    db.write_bytes(demo_db.read_bytes())
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "queries", "add", "ukr", "Ukraine"]).exit_code == 0
    out = runner.invoke(
        cli,
        [
            "--db",
            str(db),
            "attention",
            "--query",
            "@ukr",
            "--query",
            "Politik",
            "--by",
            "month",
            "--tz",
            "Europe/Berlin",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    cli_data = json.loads(out.output)
    at = _open(
        app(db, aq1="@ukr", aq2="Politik", by="month", range="all time", tz="Europe/Berlin"),
        "pages/attention.py",
    )
    assert not at.error, [e.value for e in at.error]
    figures = _figures(at)
    assert len(figures) == 3
    counts = figures[0]
    names = [trace["name"] for trace in counts["data"]]
    assert names[0].startswith("@ukr, version 1, edited ") and names[1] == "Politik"
    page_counts = {(t["name"], i): y for t in counts["data"] for i, y in enumerate(t["y"])}
    cli_counts: dict[tuple[str, int], int] = {}
    for name in names:
        rows = [r["count"] for r in cli_data["rows"] if r["query"] == name]
        cli_counts.update({(name, i): n for i, n in enumerate(rows)})
    assert page_counts == cli_counts
    voice = at.dataframe[0].value
    assert voice["count"].tolist() == [r["count"] for r in cli_data["share_of_voice"]]
    captions = " ".join(str(c.value) for c in at.caption)
    assert f"{cli_data['matching_any']} match at least one query" in captions
    assert at.query_params["aq1"] in ("@ukr", ["@ukr"])

    bad = _open(app(db, aq1="@nowhere", range="all time"), "pages/attention.py")
    said = [str(e.value).replace("\\", "") for e in bad.error]
    assert said == ['Query 1: unknown saved query "@nowhere" at 1']
    assert not _figures(bad)


def test_attention_page_saves_edits_and_removes_a_query(
    app: Callable[..., AppTest], demo_db: Path, tmp_path: Path
) -> None:
    """The page's form saves a query under a name (usable as @name at once), an edit raises
    its version, a bad name or query gets one line and saves nothing, and Remove removes it;
    a read-only dashboard shows no form."""
    db = tmp_path / "demo.duckdb"
    db.write_bytes(demo_db.read_bytes())
    at = _open(app(db, range="all time"), "pages/attention.py")

    def save(name: str, text: str) -> AppTest:
        boxes = {t.label: t for t in at.main.text_input}
        boxes["Name"].input(name)
        boxes["Query"].input(text)
        next(b for b in at.button if b.label == "Save").click().run()
        assert not at.exception
        return at

    save("ukr", "Ukraine")
    assert [(q.name, q.text, q.version) for q in DuckDBStore(db).saved_queries()] == [
        ("ukr", "Ukraine", 1)
    ]
    assert [str(s.value).replace("\\", "") for s in at.success] == ["Saved: @ukr"]
    save("ukr", "Ukraine OR Kiew")
    assert DuckDBStore(db).saved_query("ukr").version == 2  # type: ignore[union-attr]
    for name, text, said in (
        ("two words", "x", "saved query name 'two words'"),
        ("ok", "a OR", "nothing after OR at 3"),
        ("ok", "@nowhere", 'unknown saved query "@nowhere" at 1'),
    ):
        save(name, text)
        assert any(said in str(e.value).replace("\\", "") for e in at.error), (name, text)
    assert [q.name for q in DuckDBStore(db).saved_queries()] == ["ukr"]

    at.main.text_input(key="aq1").input("@ukr").run()
    assert not at.error and _figures(at)
    next(b for b in at.button if b.label == "Remove").click().run()
    assert DuckDBStore(db).saved_queries() == []

    shown = _open(app(db, range="all time", read_only="1"), "pages/attention.py")
    assert not [b for b in shown.button if b.label in ("Save", "Remove")]
