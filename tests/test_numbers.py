"""Numbers that must agree (issue 8, section 3): one display form per tag, splits that account
for every article, a cadence table that follows the filters, rising and falling tags that say
what they are computed from, empty states that name their cause, tables a phone can read.

Real DuckDB files built through the real ingest pipeline from small feeds written here; the
pages through Streamlit's AppTest.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dashboard import Dashboard
from feedgen import Item, rss
from streamlit.testing.v1 import AppTest

from monitor import analyze, ingest
from monitor.models import Filters
from monitor.query import parse
from monitor.store import DuckDBStore

# Streamlit's caches are process-wide: emptied around every test here, with or without AppTest.
pytestmark = pytest.mark.usefixtures("fresh_caches")
NOW = datetime.now(UTC).replace(microsecond=0)
FEED_A = "https://a.example/feed"
FEED_B = "https://b.example/feed"
FEED_C = "https://c.example/feed"
# The last 10 days and the 10 days before them (rising and falling tags compare the two).
WINDOW = Filters(since=NOW - timedelta(days=10), until=NOW)
IN_A = replace(WINDOW, feeds=(FEED_A,))


def _when(days_ago: float) -> str:
    return format_datetime(NOW - timedelta(days=days_ago))


def _current_tags(i: int) -> list[str]:
    """Tags of the i-th of feed A's 20 articles in the last 10 days."""
    tags = []
    if i in (0, 1, 2, 3, 4, 18, 19):
        tags.append("Politik")
    if 2 <= i <= 7:
        tags.append("Wahl")
    if 8 <= i <= 10:
        tags.append("trump")  # lowercase here; the one capitalised use is older
    if i in (11, 12):
        tags.append("ukrainekonflikt")
    if i == 13:
        tags.append("UkraineKonflikt")
    return tags  # 14..17: no tags at all


def _current_author(i: int) -> str | None:
    return [None, "Anna Berg und Jonas Weber", "Anna Berg", "Anna Berg"][i % 4]


def numbers_feeds() -> dict[str, bytes]:
    """Feed A: 20 articles in the last 10 days, 10 in the 10 days before. Feed B: two old
    articles. Feed C: daily for 20 days until 3.5 days ago (silent), tagged every fifth day."""
    a = [
        Item(
            f"Aktuell {i}",
            link=f"https://a.example/now/{i}",
            date=_when(0.4 + i * 0.45),
            author=_current_author(i),
            categories=_current_tags(i),
            body="Ein Text über Wahlen, Zölle und Verhandlungen.",
        )
        for i in range(20)
    ]
    a += [
        Item(
            f"Früher {j}",
            link=f"https://a.example/then/{j}",
            date=_when(10.5 + j * 0.9),
            author="Mark Ellis",
            categories=["Wahl"] if j < 5 else (["Trump"] if j == 5 else ["Politik"]),
            body="Ein älterer Text über Wahlen und Haushalt.",
        )
        for j in range(10)
    ]
    b = [
        Item(
            f"Ausland {k}",
            link=f"https://b.example/{k}",
            date=_when(25 + k),
            author="Mark Ellis",
            categories=["Ausland", "trump"],
            body="Nachrichten aus dem Ausland.",
        )
        for k in range(2)
    ]
    c = [
        Item(
            f"Klima {k}",
            link=f"https://c.example/{k}",
            date=_when(3.5 + k),
            author="Clara Wind",
            categories=["Klima"] if k % 5 == 0 else [],
            body="Wetter und Klima in der Region.",
        )
        for k in range(20)
    ]
    return {
        FEED_A: rss(a, title="Nachrichten A"),
        FEED_B: rss(b, title="Blatt B"),
        FEED_C: rss(c, title="Klimablog C"),
    }


def _ingest(path: Path, feeds: dict[str, bytes]) -> DuckDBStore:
    store = DuckDBStore(path)
    for url, content in feeds.items():
        report = ingest.ingest_bytes(store, content, source=url, feed_url=url, now=NOW)
        assert not report.failed, report.line()
    return store


@pytest.fixture(scope="module")
def numbers_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("numbers") / "numbers.duckdb"
    _ingest(path, numbers_feeds())
    return path


@pytest.fixture(scope="module")
def numbers(numbers_db: Path) -> DuckDBStore:
    return DuckDBStore(numbers_db)


@pytest.fixture(scope="module")
def tagless_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One feed whose entries carry no category and no #hashtag."""
    path = tmp_path_factory.mktemp("tagless") / "tagless.duckdb"
    items = [
        Item(f"Ohne Tags {n}", link=f"https://t.example/{n}", date=_when(n + 0.5), author="Ida")
        for n in range(5)
    ]
    _ingest(path, {"https://t.example/feed": rss(items, title="Ohne Schlagworte")})
    return path


def _sql(store: DuckDBStore, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with store.read() as con:
        return con.execute(sql, params or []).fetchall()


# -- 1. one display form per tag ---------------------------------------------------------------


def test_a_tag_has_one_display_form_in_every_query(numbers: DuckDBStore) -> None:
    # In the last 10 days "trump" is only written in lowercase and "ukrainekonflikt" mostly
    # so; the store also has "Trump" and "UkraineKonflikt": those are the forms shown.
    want = {"trump": "Trump", "ukrainekonflikt": "UkraineKonflikt", "wahl": "Wahl"}

    def forms(pairs: list[tuple[Any, Any]]) -> dict[str, str]:
        return {str(k): str(t) for k, t in pairs if str(k) in want}

    tags = analyze.tags(numbers, WINDOW, limit=50)
    assert forms(list(zip(tags["key"], tags["tag"], strict=True))) == want
    trends = analyze.tag_trends(numbers, WINDOW, limit=50, now=NOW)
    assert forms(list(zip(trends["key"], trends["tag"], strict=True))) == want
    together = analyze.cooccurring_tags(numbers, Filters(), "Politik", limit=50)
    assert {"Wahl"} <= set(together["tag"])
    assert not {"trump", "ukrainekonflikt"} & set(together["tag"])
    assert "Trump" in set(analyze.cooccurring_tags(numbers, Filters(), "Ausland")["tag"])
    split = analyze.frequency(numbers, WINDOW, by="day", split="tag", top=20)
    assert {"Trump", "UkraineKonflikt", "Wahl"} <= set(split["series"])
    assert not {"trump", "ukrainekonflikt", "wahl"} & set(split["series"])
    choices = analyze.options(numbers)["tags"]
    assert {"Trump", "UkraineKonflikt", "Wahl"} <= set(choices)
    assert not {"trump", "ukrainekonflikt", "wahl"} & set(choices)
    authors = analyze.authors(numbers, WINDOW)
    top_tags = {t for row in authors["top_tags"] for t in row}
    assert "Wahl" in top_tags and not {"wahl", "trump", "ukrainekonflikt"} & top_tags
    page, _total = analyze.articles(numbers, WINDOW, limit=100)
    shown = {t for row in page["tags"] for t in row}
    assert {"Trump", "UkraineKonflikt"} <= shown and not {"trump", "ukrainekonflikt"} & shown


def test_the_display_form_prefers_capitals_then_use_whatever_the_window() -> None:
    # Two stores that differ only in how often each form is used.
    from monitor.store.duckdb import query

    def form(tmp: Path, uses: dict[str, int]) -> str:
        items = [
            Item(f"{display} {n}", link=f"https://f.example/{display}/{n}", categories=[display])
            for display, times in uses.items()
            for n in range(times)
        ]
        store = _ingest(tmp, {"https://f.example/feed": rss(items)})
        with store.read() as con:
            return query.tag_displays(con, ["eu"])["eu"]

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert form(Path(tmp) / "1.duckdb", {"eu": 5, "EU": 1}) == "EU"
        assert form(Path(tmp) / "2.duckdb", {"eu": 5, "EU": 2, "Eu": 3}) == "Eu"
        assert form(Path(tmp) / "3.duckdb", {"eu": 4}) == "eu"


@pytest.mark.parametrize("form", ["Wahl", "wahl", "WAHL", "#Wahl", "#wahl", " #Wahl "])
def test_the_tag_filter_finds_a_tag_by_any_form(numbers: DuckDBStore, form: str) -> None:
    assert analyze.stats(numbers, replace(WINDOW, tags=(form,)))["articles"] == 6


def test_the_tag_filter_finds_a_german_tag_by_any_form(tmp_path: Path) -> None:
    items = [Item(f"A {n}", link=f"https://g.example/{n}", categories=["Außen"]) for n in range(3)]
    store = _ingest(tmp_path / "g.duckdb", {"https://g.example/feed": rss(items)})
    for form in ("Außen", "außen", "AUSSEN", "aussen", "#Außen", "＃Außen"):
        assert analyze.stats(store, Filters(tags=(form,)))["articles"] == 3, form
    assert analyze.tag_choice("#AUSSEN", ["Außen", "Innen"]) == "Außen"
    assert analyze.tag_choice("#zollstreit", ["Zollstreit"]) == "Zollstreit"
    assert analyze.tag_choice("nirgends", ["Außen"]) is None


# -- 2. a split accounts for every article -------------------------------------------------------


def test_an_author_split_counts_the_articles_without_one(numbers: DuckDBStore) -> None:
    table = analyze.frequency(numbers, IN_A, by="day", split="author", top=1)
    totals: dict[str, int] = {}
    for _bucket, series, n in table.rows:
        totals[series] = totals.get(series, 0) + int(n)
    # 20 articles: 5 without an author, 5 by two authors, 10 by one.
    assert totals == {"Anna Berg": 15, "other": 5, "(no author)": 5}
    assert table.attrs == {"articles": 20, "total": 25, "without": 5, "unit": "articles"}
    assert sum(totals.values()) == table.attrs["total"]
    assert analyze.split_total("author", table.attrs) == "25 article-author pairs from 20 articles"
    note = analyze.split_note("author", table.attrs)
    assert note is not None and "(no author): 5 articles without an author" in note


def test_a_tag_split_counts_articles_with_two_tags_twice_and_those_without_one(
    numbers: DuckDBStore,
) -> None:
    table = analyze.frequency(numbers, IN_A, by="week", split="tag", top=2)
    totals: dict[str, int] = {}
    for _bucket, series, n in table.rows:
        totals[series] = totals.get(series, 0) + int(n)
    # 19 article-tag pairs on 16 articles, and 4 articles without a tag.
    assert totals == {"Politik": 7, "Wahl": 6, "other": 6, "(no tag)": 4}
    assert table.attrs["total"] == 23 == sum(totals.values())
    assert analyze.split_total("tag", table.attrs) == "23 article-tag pairs from 20 articles"
    note = analyze.split_note("tag", table.attrs)
    assert note is not None and "counts once for each" in note and "(no tag): 4" in note


@pytest.mark.parametrize("split", ["feed", "author", "tag"])
@pytest.mark.parametrize("days", [3, 10, 40, None])
def test_the_bars_of_a_split_sum_to_the_pairs_plus_the_articles_without(
    numbers: DuckDBStore, split: str, days: int | None
) -> None:
    f = Filters() if days is None else Filters(since=NOW - timedelta(days=days), until=NOW)
    table = analyze.frequency(numbers, f, by="day", split=split, top=2)
    child = {"feed": "article_feeds", "author": "article_authors", "tag": "article_tags"}[split]
    window = "" if days is None else "WHERE a.published >= ? AND a.published < ?"
    params = [] if days is None else [NOW.replace(tzinfo=None) - timedelta(days=days)] * 1
    if days is not None:
        params.append(NOW.replace(tzinfo=None))
    ((pairs, without, articles),) = _sql(
        numbers,
        f"""SELECT (SELECT count(*) FROM {child} c JOIN articles a ON a.id = c.article_id
                    {window}),
                   (SELECT count(*) FROM articles a {window} {"AND" if window else "WHERE"}
                    NOT EXISTS (SELECT 1 FROM {child} c WHERE c.article_id = a.id)),
                   (SELECT count(*) FROM articles a {window})""",
        params * 3,
    )
    assert sum(table["count"]) == pairs + without == table.attrs["total"]
    assert table.attrs["articles"] == articles
    none = {"feed": "(no feed)", "author": "(no author)", "tag": "(no tag)"}[split]
    assert sum(n for _, s, n in table.rows if s == none) == without


def test_the_cli_split_has_the_no_author_series(numbers_db: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    result = CliRunner().invoke(
        cli,
        ["--db", str(numbers_db), "frequency", "--json", "--split", "author", "--feed", FEED_A],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sum(r["count"] for r in rows if r["series"] == "(no author)") == 5
    everything = analyze.stats(DuckDBStore(numbers_db), Filters(feeds=(FEED_A,)))["articles"]
    assert everything == 30
    # 30 articles: 5 without an author, 5 by two, 20 by one.
    assert sum(r["count"] for r in rows) == 35


# -- 3. the cadence table -----------------------------------------------------------------------


def test_the_cadence_table_follows_the_filters_and_keeps_the_feeds_own_state(
    numbers: DuckDBStore,
) -> None:
    month = Filters(since=NOW - timedelta(days=30), until=NOW)
    plain = analyze.cadence(numbers, month, now=NOW).set_index("url")
    tagged = analyze.cadence(numbers, replace(month, tags=("Wahl",)), now=NOW).set_index("url")
    # The view's columns follow the tag filter...
    assert plain.loc[FEED_A, "articles"] == 30 and tagged.loc[FEED_A, "articles"] == 11
    assert tagged.loc[FEED_C, "articles"] == 0 and pd.isna(tagged.loc[FEED_C, "last_in_view"])
    newest_wahl = NOW - timedelta(days=0.4 + 2 * 0.45)
    assert _close(tagged.loc[FEED_A, "last_in_view"], newest_wahl)
    # ...the feed's own columns do not.
    assert _close(tagged.loc[FEED_A, "feed_last_article"], NOW - timedelta(days=0.4))
    assert _close(plain.loc[FEED_A, "last_in_view"], NOW - timedelta(days=0.4))
    for url in (FEED_A, FEED_B, FEED_C):
        assert tagged.loc[url, "feed_status"] == plain.loc[url, "feed_status"], url
    assert plain.loc[FEED_B, "feed_status"] == "silent"
    # Feed C wrote daily until 3.5 days ago: silent, also when only every fifth day of it
    # (tag "Klima") is in the view.
    klima = analyze.cadence(numbers, replace(month, tags=("Klima",)), now=NOW).set_index("url")
    assert klima.loc[FEED_C, "feed_status"] == "silent"
    assert klima.loc[FEED_C, "articles"] == 4
    # The feed's health columns say they are the feed's; status comes first.
    columns = list(analyze.cadence(numbers, month, now=NOW).columns)
    assert columns[0] == "feed_status"
    assert {"feed_last_article", "feed_last_fetch", "feed_errors", "feed_last_error"} <= set(
        columns
    )


def test_the_cadence_table_lists_only_the_chosen_feeds(numbers: DuckDBStore) -> None:
    chosen = analyze.cadence(numbers, Filters(feeds=("Blatt B",)), now=NOW)
    assert list(chosen["url"]) == [FEED_B]
    assert int(chosen["articles"].iloc[0]) == 2


def _close(value: Any, moment: datetime) -> bool:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return abs((stamp - pd.Timestamp(moment)).total_seconds()) < 1


# -- 4. rising and falling tags -----------------------------------------------------------------


def test_a_tag_with_more_articles_can_fall_and_the_table_says_why(numbers: DuckDBStore) -> None:
    trends = analyze.tag_trends(numbers, IN_A, limit=50, now=NOW)
    assert trends.attrs["articles"] == 20 and trends.attrs["articles_before"] == 10
    wahl = trends.set_index("key").loc["wahl"]
    # 5 of 10 articles before, 6 of 20 now: more articles, a smaller share.
    assert (wahl["current"], wahl["previous"], wahl["change"]) == (6, 5, 1)
    assert wahl["direction"] == "falling"
    assert wahl["expected"] == 10.0
    assert wahl["share"] == 0.3 and wahl["share_before"] == 0.5
    # The score test for two Poisson counts with exposures in ratio r = 2.
    assert wahl["z"] == round((6 - 2 * 5) / math.sqrt(2 * (6 + 5)), 2)
    # Direction and order agree with what is shown.
    for row in trends.to_dict("records"):
        rising = row["share"] > row["share_before"]
        assert (row["direction"] == "rising") == rising, row
        assert (row["current"] > row["expected"]) == rising, row
    rising_z = list(trends[trends["direction"] == "rising"]["z"])
    falling_z = list(trends[trends["direction"] == "falling"]["z"])
    assert rising_z == sorted(rising_z, reverse=True) and all(z > 0 for z in rising_z)
    assert falling_z == sorted(falling_z) and all(z < 0 for z in falling_z)


@pytest.mark.parametrize(
    ("current", "previous", "z"),
    [
        ((3, 10), (1, 10), 1.0),
        ((60, 100), (20, 100), 4.47),
        ((0, 10), (4, 10), -2.0),
        # Windows of different size (r = 2): the variance under "no change", r (c + p).
        ((6, 20), (5, 10), -0.85),
        ((12, 20), (2, 10), 1.51),
    ],
)
def test_significance_is_the_poisson_score_test(
    tmp_path: Path, current: tuple[int, int], previous: tuple[int, int], z: float
) -> None:
    """(tagged, articles) in each window; z = (c - r p) / sqrt(r (c + p))."""
    items = []
    for window, (tagged, total) in (("now", current), ("then", previous)):
        for n in range(total):
            days = 0.5 + n * 9 / total if window == "now" else 10.5 + n * 9 / total
            items.append(
                Item(
                    f"{window} {n}",
                    link=f"https://z.example/{window}/{n}",
                    date=_when(days),
                    categories=["Wahl" if n < tagged else "Sonst"],
                )
            )
    store = _ingest(tmp_path / "z.duckdb", {"https://z.example/feed": rss(items)})
    trends = analyze.tag_trends(store, WINDOW, now=NOW).set_index("key")
    assert trends.loc["wahl", "z"] == z


def test_no_earlier_articles_means_no_trends_with_a_reason(numbers: DuckDBStore) -> None:
    old = Filters(since=NOW - timedelta(days=40), until=NOW - timedelta(days=20))
    assert analyze.stats(numbers, analyze.previous_window(old) or old)["articles"] == 0
    trends = analyze.tag_trends(numbers, old, now=NOW)
    assert trends.empty and "window before" in trends.attrs["reason"]
    assert "all time" in analyze.tag_trends(numbers, Filters(), now=NOW).attrs["reason"]


def test_cooccurrence_share_is_of_the_chosen_tags_articles_in_the_view(
    numbers: DuckDBStore,
) -> None:
    # In feed A's last 10 days Politik is on 7 articles, 3 of them with Wahl (which is on 6).
    f = replace(IN_A, tags=("Politik",))
    together = analyze.cooccurring_tags(numbers, f, "Wahl").set_index("key")
    assert together.loc["politik", "articles"] == 3
    # Of the view's articles tagged Wahl (3, all with Politik), not of "Politik or Wahl".
    assert together.loc["politik", "share"] == 1.0
    everywhere = analyze.cooccurring_tags(numbers, IN_A, "Wahl").set_index("key")
    assert everywhere.loc["politik", "share"] == 0.5


# -- 5. empty states ------------------------------------------------------------------------------


def test_empty_states_name_their_cause(
    numbers: DuckDBStore, tagless_db: Path, tmp_path: Path
) -> None:
    def state(store: DuckDBStore, f: Filters, need: str = "articles") -> analyze.EmptyState:
        return analyze.empty_state(store, f, need=need)

    empty = DuckDBStore(tmp_path / "empty.duckdb")
    assert state(empty, Filters()).cause == "empty-store"
    assert "Add a feed" in state(empty, Filters()).message
    search = state(numbers, replace(WINDOW, query=parse("Quantenschaum")))
    assert search.cause == "query" and "“Quantenschaum”" in search.message
    window = state(
        numbers, Filters(since=NOW - timedelta(days=400), until=NOW - timedelta(days=300))
    )
    assert window.cause == "window" and "52" in window.message
    narrowed = state(numbers, replace(WINDOW, tags=("Ausland",)))
    assert narrowed.cause == "window" and "matching these filters" in narrowed.message
    together = state(numbers, Filters(tags=("Klima",), authors=("Anna Berg",)))
    assert together.cause == "filters"
    unknown = state(numbers, Filters(authors=("Niemand",)))
    assert unknown.cause == "authors" and "“Niemand”" in unknown.message
    tagless = state(DuckDBStore(tagless_db), Filters(), "tags")
    assert tagless.cause == "no-tags" and "its feed sends no categories" in tagless.message
    assert state(numbers, WINDOW, "tags").cause == "none"
    for found in (search, window, narrowed, together, unknown, tagless):
        assert "add a feed" not in found.message.casefold(), found


# -- the pages ----------------------------------------------------------------------------------


@pytest.fixture
def app(apptest: Dashboard) -> Callable[..., AppTest]:
    """`app(db, page, **query_params)`: AppTest of app.py, run on a link straight to `page`."""
    return apptest.open


def _figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _title(figure: dict[str, Any]) -> str:
    title = figure["layout"].get("title") or {}
    return " ".join([str(title.get("text") or ""), str((title.get("subtitle") or {}).get("text"))])


def _infos(at: AppTest) -> list[str]:
    # Notes are markdown-escaped ("1\\,074"): compare without the backslashes.
    return [str(el.value).replace("\\", "") for el in at.info]


def _column_labels(frame: Any) -> list[str]:
    """The shown column labels of an st.dataframe, in order, hidden ones left out."""
    config = json.loads(frame.proto.columns or "{}")
    labels = []
    for name in frame.value.columns:
        entry = config.get(name) or config.get(f"name:{name}") or {}
        if entry.get("hidden"):
            continue
        labels.append(str(entry.get("label") or name))
    return labels


def test_a_link_names_a_tag_in_any_form(app: Callable[..., AppTest], numbers_db: Path) -> None:
    for form in ("#Wahl", "WAHL", "wahl", "Wahl"):
        at = app(numbers_db, tag=form, range="7 days")
        assert not at.warning, (form, [w.value for w in at.warning])
        view = at.session_state["_monitor_view"]
        assert view.filters.tags == ("wahl",), form
        assert at.sidebar.multiselect(key="tag").value == ["Wahl"], form
        expected = analyze.stats(DuckDBStore(numbers_db), view.filters)["articles"]
        metric = next(m for m in at.metric if m.label == "Articles")
        assert int(str(metric.value).replace(",", "")) == expected > 0


def test_the_frequency_page_bars_sum_to_the_total_its_subtitle_shows(
    app: Callable[..., AppTest], numbers_db: Path
) -> None:
    at = app(numbers_db, "pages/frequency.py", split="author", feed="Nachrichten A")
    figure = _figures(at)[0]
    names = [trace["name"] for trace in figure["data"]]
    assert "(no author)" in names
    drawn = sum(sum(trace["y"]) for trace in figure["data"])
    shown = re.search(r"([\d,]+) article-author pairs from ([\d,]+) articles", _title(figure))
    assert shown is not None, _title(figure)
    assert drawn == int(shown.group(1).replace(",", "")) == 35
    assert int(shown.group(2).replace(",", "")) == 30


def test_the_cadence_table_labels_say_what_follows_the_filters(
    app: Callable[..., AppTest], numbers_db: Path
) -> None:
    at = app(numbers_db, "pages/frequency.py", tag="Wahl")
    (frame,) = at.dataframe
    labels = _column_labels(frame)
    assert labels[0] == "Feed status" and labels[1] == "Feed"
    assert any(label.startswith("Last article in view") for label in labels)
    for name in ("Feed: last article", "Feed: last fetch", "Feed: errors", "Feed: last error"):
        assert any(label.startswith(name) for label in labels), (name, labels)
    rows = frame.value.set_index("url")
    assert rows.loc[FEED_A, "articles"] == 11 and rows.loc[FEED_C, "articles"] == 0


def test_the_trends_tables_show_significance_first_and_what_it_is_computed_from(
    app: Callable[..., AppTest], numbers_db: Path
) -> None:
    at = app(numbers_db, "pages/tags.py", range="7 days")
    frames = at.dataframe
    assert frames, "no trend tables"
    for frame in frames:
        labels = _column_labels(frame)
        assert labels[:2] == ["Tag", "Significance (z)"], labels
        assert {"Share now", "Share before", "Expected"} <= set(labels), labels
    falling = next(
        f for f in frames if not f.value.empty and (f.value["direction"] == "falling").all()
    )
    for row in falling.value.to_dict("records"):
        assert row["current"] < row["expected"] and row["share"] < row["share_before"], row


def test_the_tag_pages_show_one_form_per_tag(app: Callable[..., AppTest], numbers_db: Path) -> None:
    at = app(numbers_db, "pages/tags.py", range="30 days")
    figures = _figures(at)
    # The lines count article-tag pairs, and the subtitle says how many of how many articles.
    over_time = figures[0]
    lines = sum(sum(t["y"]) for t in over_time["data"])
    shown = re.search(r"([\d,]+) article-tag pairs from ([\d,]+) articles", _title(over_time))
    assert shown is not None, _title(over_time)
    assert lines == int(shown.group(1).replace(",", ""))
    assert any("counts once for each" in str(c.value) for c in at.caption)
    text = json.dumps([f["data"] for f in figures], ensure_ascii=False)
    assert "Trump" in text and "UkraineKonflikt" in text
    assert '"trump"' not in text and '"ukrainekonflikt"' not in text
    choices = at.sidebar.multiselect(key="tag").options
    assert "Trump" in choices and "trump" not in choices


@pytest.mark.parametrize(
    "page", ["pages/overview.py", "pages/tags.py", "pages/frequency.py", "pages/authors.py"]
)
def test_a_search_without_hits_says_so(
    app: Callable[..., AppTest], numbers_db: Path, page: str
) -> None:
    at = app(numbers_db, page, q="Quantenschaum")
    infos = _infos(at)
    assert any("matches the query “Quantenschaum”" in i for i in infos), infos
    assert not any("Add a feed" in i or "add a feed" in i for i in infos), infos


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/tags.py"])
def test_a_tagless_feed_is_not_told_to_add_a_feed(
    app: Callable[..., AppTest], tagless_db: Path, page: str
) -> None:
    at = app(tagless_db, page)
    infos = _infos(at)
    assert any("carry no tags" in i for i in infos), infos
    assert not any("add a feed" in i.casefold() for i in infos), infos


def test_a_window_without_articles_says_the_store_has_some(
    app: Callable[..., AppTest], numbers_db: Path
) -> None:
    at = app(
        numbers_db,
        "pages/frequency.py",
        range="custom",
        **{"from": "2020-01-01", "to": "2020-01-31"},
    )
    infos = _infos(at)
    assert any("No articles in this date range" in i and "52" in i for i in infos), infos
    assert not any("add a feed" in i.casefold() for i in infos), infos


def test_only_an_empty_store_is_told_to_add_a_feed(
    app: Callable[..., AppTest], tmp_path: Path
) -> None:
    at = app(tmp_path / "empty.duckdb", "pages/overview.py")
    assert any("Add a feed" in i for i in _infos(at)), _infos(at)
