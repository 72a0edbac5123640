"""The analysis functions: what the CLI prints as JSON and the dashboard draws.

Each takes a store (any engine: `monitor.store.base.Storage`) and a Filters and returns a
small Table, DataFrame or dict. The SQL is in the engine's package; what happens here is the
little that is easier on small results: filling empty time buckets, weights, and shaping for
output.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor import LazyModule
from monitor.models import Filters, Table
from monitor.query import describe
from monitor.store.base import BUCKETS, EXPORT_COLUMNS, NO_SERIES, Storage
from monitor.text import STOPWORD_LANGUAGES, stopwords, tag_key

__all__ = [
    "BUCKETS",
    "add_stopwords",
    "articles",
    "attention",
    "authors",
    "cadence",
    "check_timezone",
    "compare_terms",
    "compare_windows",
    "keyness",
    "term_clouds",
    "topic_articles",
    "topic_overview",
    "topic_series",
    "topic_terms",
    "topics",
    "weighted_terms",
    "cooccurring_tags",
    "empty_state",
    "export_articles",
    "export_parquet",
    "export_rows",
    "feeds",
    "frequency",
    "heatmap",
    "options",
    "records",
    "remove_stopwords",
    "split_note",
    "split_total",
    "spreadsheet_safe",
    "stats",
    "stopword_lists",
    "tag_choice",
    "tag_trends",
    "tags",
    "terms",
]

if TYPE_CHECKING:
    import pandas as pd
else:
    # The dashboard's functions need pandas; the command line's queries do not, and
    # importing it would be most of their start-up time.
    pd = LazyModule("pandas")


def check_timezone(name: str) -> str:
    """The IANA zone name if it exists, else ValueError with a one-line reason."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def stats(store: Storage, f: Filters) -> dict[str, Any]:
    """Articles, feeds, authors and tags in the view, with the first and last publish time."""
    return store.stats(f)


def frequency(
    store: Storage,
    f: Filters,
    *,
    by: str = "day",
    split: str | None = None,
    timezone: str = "UTC",
    top: int = 8,
) -> Table:
    """Articles per bucket: columns bucket, series, count; empty buckets are filled with 0.

    Buckets are local times in `timezone` (naive); the range runs from the filter's start (or
    the first article) to its end (or the last article). A split (feed, author, tag) keeps
    the `top` series, sums the rest as "other" and counts the articles without a feed,
    author or tag as `NO_SERIES[split]` ("(no author)"); an article with two authors (tags,
    feeds) counts once for each. `attrs["articles"]` is the number of articles in the view,
    `attrs["total"]` the sum of the counts (the same without a split), `attrs["unit"]` what
    is counted: with `f.unit == "stories"` every count is of distinct stories (a story counts
    once in each bucket and series it has an article in), `attrs["articles"]` too.
    """
    check_timezone(timezone)
    with store.session():
        table = store.frequency(f, by=by, timezone=timezone, split=split, top=top)
        articles = store.article_count(f) if split is not None else None
    columns = ("bucket", "series", "count")
    total = sum(int(n) for _, _, n in table.rows)
    attrs: dict[str, Any] = {
        "articles": total if articles is None else articles,
        "total": total,
        "unit": f.unit,
    }
    if split is not None:
        none = NO_SERIES[split]
        attrs["without"] = sum(int(n) for _, s, n in table.rows if s == none)
    if table.empty:
        return Table(columns, [], attrs)
    counts = {(b, s): int(n) for b, s, n in table.rows}
    start = min(b for b, _, _ in table.rows)
    end = max(b for b, _, _ in table.rows)
    zone = ZoneInfo(timezone)
    if f.since is not None:
        start = min(start, _local_bucket(f.since, zone, by))
    if f.until is not None:
        end = max(end, _local_bucket(f.until, zone, by, closing=True))
    series = list(dict.fromkeys(s for _, s, _ in table.rows))
    rows = [
        (bucket, name, counts.get((bucket, name), 0))
        for bucket in _bucket_starts(start, end, by)
        for name in series
    ]
    return Table(columns, rows, attrs)


def split_total(split: str | None, attrs: dict[str, Any]) -> str:
    """What the bars of `frequency` (its attrs) add up to, in a few words: "293 articles",
    or with a split "1,130 article-author pairs from 1,074 articles" (stories likewise)."""
    articles = int(attrs.get("articles", 0))
    total = int(attrs.get("total", articles))
    plural = attrs.get("unit") or "articles"
    if split is None or total == articles:
        return f"{articles:,} {plural}"
    one = {"articles": "article", "stories": "story"}.get(plural, plural)
    return f"{total:,} {one}-{split} pairs from {articles:,} {plural}"


def split_note(split: str | None, attrs: dict[str, Any]) -> str | None:
    """How a split counts, in a sentence (None without a split): "An article with two
    authors counts once for each; (no author): 112 articles without an author"."""
    if split is None:
        return None
    without = int(attrs.get("without", 0))
    one = "an" if split[0] in "aeiou" else "a"
    if attrs.get("unit") == "stories":
        note = f"A story in two {split}s (or in articles with two) counts once for each"
        plural = "stories"
    else:
        note = f"An article with two {split}s counts once for each"
        plural = "articles"
    if without:
        note += f"; {NO_SERIES[split]}: {without:,} {plural} without {one} {split}"
    return note + "."


def _local_bucket(moment: datetime, zone: ZoneInfo, by: str, *, closing: bool = False) -> datetime:
    """The start (naive local time) of the bucket holding `moment`."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    if closing:
        # `until` is exclusive: the last bucket is the one holding the instant just before it.
        local -= timedelta(microseconds=1)
    if by == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _bucket_starts(start: datetime, end: datetime, by: str) -> Iterator[datetime]:
    """Every bucket start from `start` to `end` (both bucket starts), in local wall time."""
    moment = start
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
    while moment <= end:
        yield moment
        if by == "month":
            year, month = divmod(moment.month, 12)
            moment = moment.replace(year=moment.year + year, month=month + 1)
        else:
            moment += step[by]


def tags(store: Storage, f: Filters, *, limit: int = 50) -> Table:
    """Top tags: key, tag (display form), articles."""
    return store.tags(f, limit=limit)


def terms(store: Storage, f: Filters, *, limit: int = 100) -> Table:
    """Top terms: term (the lemma key, "zoll"), count, articles, display (the form the store
    uses most, "Zölle"), weight (count relative to the top term, 0..1)."""
    table = store.terms(f, limit=limit)
    top = max((int(row[1]) for row in table.rows), default=0)
    table.columns = (*table.columns, "weight")
    table.rows = [(*row, round(row[1] / top, 4) if top else 0.0) for row in table.rows]
    return table


def authors(store: Storage, f: Filters, *, limit: int | None = 200) -> Table:
    """Per author, busiest first: articles, feeds, first and last article, mean reading time,
    top tags. At most `limit` authors (None: all); `attrs["total"]` counts them all."""
    table = store.authors(f, limit=limit)
    at = table.columns.index("mean_reading_minutes")
    table.rows = [
        (*row[:at], None if row[at] is None else round(float(row[at]), 1), *row[at + 1 :])
        for row in table.rows
    ]
    return table


def stories(store: Storage, f: Filters, *, limit: int = 50) -> Table:
    """The view's most covered stories (near-duplicate articles across feeds, placed at
    ingest by `monitor.stories`): story_id, title (the first article's), outlets (distinct
    feeds), articles, first_feed, first_published, last_published; most outlets first."""
    return store.stories(f, limit=limit)


def story_articles(store: Storage, f: Filters, story_id: str) -> Table:
    """One story's articles in the view, oldest first, one row per article and feed: id,
    published, title, url, feed, language."""
    return store.story_articles(f, story_id)


def story_spread(
    store: Storage, f: Filters, story_id: str, *, by: str = "hour", timezone: str = "UTC"
) -> Table:
    """How a story spread: its articles per `by` bucket (local time in `timezone`) and feed,
    as `frequency` gives them (bucket, series, count), from the story's few rows."""
    zone = ZoneInfo(check_timezone(timezone))
    counts: dict[tuple[datetime, str], int] = {}
    for row in story_articles(store, f, story_id).records():
        moment = row["published"].replace(tzinfo=UTC).astimezone(zone)
        key = (_local_bucket(moment, zone, by), str(row["feed"]))
        counts[key] = counts.get(key, 0) + 1
    return Table(("bucket", "series", "count"), [(b, s, n) for (b, s), n in sorted(counts.items())])


def feeds(store: Storage) -> pd.DataFrame:
    """Every feed with its health and stored article count."""
    frame: pd.DataFrame = store.feeds().to_pandas()
    return frame


# -- empty views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmptyState:
    """Why a view has nothing to show: `cause` (a code) and `message` (plain text for the
    page; it may quote a filter value, so pages escape it like any untrusted text).

    causes: "empty-store" (no feeds), "not-fetched" (feeds but no articles), "window" (the
    date range holds none of the articles the other filters match), "search", "tags",
    "authors", "feeds", "languages" (that filter alone matches nothing in the store),
    "filters" (each filter matches something, but not all of them together), "no-tags",
    "no-authors", "no-terms" (the view has articles but none with that), "none" (nothing
    is missing: the view is not empty).
    """

    cause: str
    message: str


def _span(first: Any, last: Any, zone: ZoneInfo) -> str:
    def day(value: Any) -> str:
        moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        return str(moment.replace(tzinfo=UTC).astimezone(zone).strftime("%d %b %Y"))

    return f"{day(first)} to {day(last)}"


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"“{v}”" for v in values)


def empty_state(
    store: Storage, f: Filters, *, need: str = "articles", timezone: str = "UTC"
) -> EmptyState:
    """The true cause of an empty view, for the page to say instead of a generic note.

    `need` is what the page draws: "articles", or "tags", "authors", "terms" (the view has
    articles, but are there any with tags, bylines, words?). Only an empty store is told to
    add a feed; a search without hits, a window without articles, a tag-less feed each get
    their own sentence.
    """
    if need not in ("articles", "tags", "authors", "terms"):
        raise ValueError(f"unknown need {need!r}; use articles, tags, authors or terms")
    zone = ZoneInfo(check_timezone(timezone))
    with store.session():
        return _empty_state(store, f, need, zone)


def _empty_state(store: Storage, f: Filters, need: str, zone: ZoneInfo) -> EmptyState:
    everything = store.stats(Filters())
    if not everything["articles"]:
        if not everything["feeds_total"]:
            return EmptyState(
                "empty-store",
                "No articles in this view: the store is empty. Add a feed on the Sources "
                "page, or run “monitor demo” on the command line for sample data.",
            )
        return EmptyState(
            "not-fetched",
            f"No articles in this view: the store has {everything['feeds_total']:,} "
            "feeds but no articles yet. Use “Fetch now” on the Sources page, or run "
            "“monitor fetch”.",
        )
    view = store.stats(f)
    if view["articles"]:
        return _missing_in_view(store, f, need, view)
    span = _span(everything["first_published"], everything["last_published"], zone)
    timeless = replace(f, since=None, until=None)
    anywhere = store.stats(timeless) if not timeless.only_time else everything
    if anywhere["articles"]:
        # The filters match articles, only not in this window.
        found = _span(anywhere["first_published"], anywhere["last_published"], zone)
        narrowed = "" if timeless.only_time else " matching these filters"
        return EmptyState(
            "window",
            f"No articles{narrowed} in this date range. The store has "
            f"{anywhere['articles']:,}{narrowed}, from {found}: choose a longer range.",
        )
    # Which filter alone finds nothing at any time?
    alone = {
        "query": Filters(query=f.query) if f.query else None,
        "tags": Filters(tags=f.tags) if f.tags else None,
        "authors": Filters(authors=f.authors) if f.authors else None,
        "feeds": Filters(feeds=f.feeds) if f.feeds else None,
        "languages": Filters(languages=f.languages) if f.languages else None,
    }
    for cause, only in alone.items():
        if only is not None and not store.article_count(only):
            what = {
                "query": f"the query “{describe(f.query) if f.query else ''}”",
                "tags": f"the tag {_quoted(f.tags)}",
                "authors": f"the author {_quoted(f.authors)}",
                "feeds": f"the feed {_quoted(f.feeds)}",
                "languages": f"the language {_quoted(f.languages)}",
            }[cause]
            return EmptyState(
                cause,
                f"No article in the store matches {what} (it holds "
                f"{everything['articles']:,} articles, from {span}).",
            )
    return EmptyState(
        "filters",
        "No article matches all of these filters together, though each one matches "
        "some: remove one of them in the sidebar.",
    )


def _missing_in_view(store: Storage, f: Filters, need: str, view: dict[str, Any]) -> EmptyState:
    n = int(view["articles"])
    articles = f"{n:,} article" + ("" if n == 1 else "s")
    if need == "tags" and not view["tags"]:
        feeds = int(view["feeds"])
        where = "its feed sends" if feeds == 1 else f"their {feeds:,} feeds send"
        return EmptyState(
            "no-tags",
            f"The {articles} in this view carry no tags: {where} no categories, and "
            "their texts no #hashtags.",
        )
    if need == "authors" and not view["authors"]:
        return EmptyState("no-authors", f"None of the {articles} in this view names an author.")
    if need == "terms" and store.terms(f, limit=1).empty:
        return EmptyState(
            "no-terms",
            f"The {articles} in this view have no words left once the stopwords are removed.",
        )
    return EmptyState("none", f"{articles} in this view.")


# -- comparing windows ---------------------------------------------------------------------


def previous_window(f: Filters, *, now: datetime | None = None) -> Filters | None:
    """The window of equal length just before `f` (None for an open-ended "all time" view)."""
    if f.since is None:
        return None
    end = f.until or now or datetime.now(UTC)
    return replace(f, since=f.since - (end - f.since), until=f.since)


def compare_windows(store: Storage, f: Filters, *, now: datetime | None = None) -> pd.DataFrame:
    """Articles, feeds, authors and tags in the view and in the window before it.

    Columns: metric, current, previous (None for all time), change (current - previous).
    """
    before = previous_window(f, now=now)
    with store.session():
        current = store.stats(f)
        previous = store.stats(before) if before is not None else None
    rows = []
    metrics: tuple[str, ...] = ("articles", "feeds", "authors", "tags")
    if f.stories:  # the view's distinct stories first, beside its articles
        metrics = ("stories", *metrics)
    for metric in metrics:
        now_value = int(current[metric])
        then_value = int(previous[metric]) if previous is not None else None
        rows.append(
            {
                "metric": metric,
                "current": now_value,
                "previous": then_value,
                "change": now_value - then_value if then_value is not None else None,
            }
        )
    return pd.DataFrame(rows)


TREND_COLUMNS = [
    "key",
    "tag",
    "z",
    "share",
    "share_before",
    "current",
    "expected",
    "previous",
    "change",
    "direction",
]


def tag_trends(
    store: Storage, f: Filters, *, limit: int = 20, now: datetime | None = None
) -> pd.DataFrame:
    """Rising and falling tags: this window against the one of equal length before it.

    Columns: key, tag, z, share, share_before, current, expected, previous, change,
    direction. `current` and `previous` are the tag's articles in each window, `share` and
    `share_before` the fractions of each window's articles that carry it, and `expected`
    the articles it would have now had its share stayed the same (previous times the ratio
    r of the windows' article totals). The direction is that of share (equivalently, of
    current against expected), not of the raw `change` (current - previous): in a window
    with twice the articles, a tag going from 10 to 12 has fallen.

    `z` is the score test for two Poisson counts with exposures in ratio r,
    (c - r*p) / sqrt(r*(c + p)): the normal approximation of the exact conditional test
    (c given c + p is binomial with success probability r / (1 + r)). A tag going from 1 to
    3 scores 1.0, one going from 20 to 60 scores 4.5 (with r = 1). Rising: z > 0, highest
    first; falling: z < 0, lowest first. `attrs["reason"]` says why the table is empty
    when there is nothing to compare (all time, or a window without articles).
    """
    before = previous_window(f, now=now)
    empty = pd.DataFrame(columns=TREND_COLUMNS)
    if before is None:
        empty.attrs["reason"] = (
            "Rising and falling tags compare with the window before this one: choose a date "
            "range other than all time."
        )
        return empty
    with store.session():
        n_current = store.article_count(f)
        n_previous = store.article_count(before)
        if not n_current or not n_previous:
            which = "this window" if not n_current else "the window before this one"
            empty.attrs["reason"] = f"No articles in {which}: there is nothing to compare."
            return empty
        merged: pd.DataFrame = store.tag_windows(f, before).to_pandas()
    c = merged["current"].astype("int64")
    p = merged["previous"].astype("int64")
    ratio = n_current / n_previous
    merged["expected"] = (p * ratio).round(1)
    merged["change"] = c - p
    merged["share"] = (c / n_current).round(4)
    merged["share_before"] = (p / n_previous).round(4)
    merged["z"] = ((c - p * ratio) / (ratio * (c + p)) ** 0.5).round(2)
    rising = merged[merged["z"] > 0].sort_values(
        ["z", "current", "key"], ascending=[False, False, True]
    )
    falling = merged[merged["z"] < 0].sort_values(
        ["z", "previous", "key"], ascending=[True, False, True]
    )
    rising = rising.head(limit).assign(direction="rising")
    falling = falling.head(limit).assign(direction="falling")
    table = pd.concat([rising, falling], ignore_index=True)[TREND_COLUMNS]
    # With f.stories these are stories, like every count of the table.
    table.attrs.update({"articles": n_current, "articles_before": n_previous, "unit": f.unit})
    return table


def cooccurring_tags(store: Storage, f: Filters, tag: str, *, limit: int = 20) -> pd.DataFrame:
    """Tags that appear on the same articles as `tag`: key, tag, articles, share.

    `share` is the fraction of the chosen tag's articles (in the view) that carry the other tag.
    """
    key = tag_key(tag)
    with store.session():
        table: pd.DataFrame = store.cooccurring_tags(f, key, limit=limit).to_pandas()
        # The view's articles that carry the tag (adding it to f.tags would mean "or").
        base = store.article_count(f, with_tag=key)
    table["share"] = (table["articles"] / base).round(3) if base else 0.0
    return table


def heatmap(store: Storage, f: Filters, *, timezone: str = "UTC") -> pd.DataFrame:
    """Articles per weekday (0 = Monday) and hour in `timezone`: all 168 cells."""
    check_timezone(timezone)
    table: pd.DataFrame = store.heatmap(f, timezone=timezone).to_pandas()
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    counts = table.astype("int64").set_index(["weekday", "hour"])["count"]
    return counts.reindex(grid, fill_value=0).reset_index()


CADENCE_COLUMNS = [
    "feed_status",
    "feed",
    "articles",
    "per_day",
    "median_gap_hours",
    "last_in_view",
    "feed_last_article",
    "feed_last_fetch",
    "feed_errors",
    "feed_last_error",
    "url",
]


def cadence(store: Storage, f: Filters, *, now: datetime | None = None) -> pd.DataFrame:
    """Per feed: how it publishes in the view, and how the feed itself is doing.

    View columns (they follow every filter): articles, per_day, median_gap_hours,
    last_in_view (the last article in the view). Feed columns (the feed as a whole, whatever
    the filters): feed_status, feed_last_article, feed_last_fetch, feed_errors (consecutive
    failed fetches), feed_last_error. feed_status: disabled, failing (its last fetch
    failed), no articles (none stored at all), silent (nothing for more than three times its
    usual gap between articles, over its whole history, and at least two days: an outage is
    not a quiet news day), ok. Status first: it is what a reader on a narrow screen needs.
    """
    moment = now or datetime.now(UTC)
    table: pd.DataFrame = store.cadence(f).to_pandas()
    end = f.until or moment
    end_naive = end.astimezone(UTC).replace(tzinfo=None)
    now_naive = moment.astimezone(UTC).replace(tzinfo=None)
    start_naive = f.since.astimezone(UTC).replace(tzinfo=None) if f.since else None
    statuses = []
    per_day = []
    for row in table.to_dict("records"):
        last = row["last_published"]
        gap = row["feed_gap_hours"]  # the feed's own, not the view's: a filter changes no status
        if row["disabled"]:
            statuses.append("disabled")
        elif row["error_count"]:
            statuses.append("failing")
        elif last is None or pd.isna(last):
            statuses.append("no articles")
        else:
            quiet_hours = (now_naive - pd.Timestamp(last).to_pydatetime()).total_seconds() / 3600
            limit = max(3 * float(gap), 48.0) if gap is not None and not pd.isna(gap) else 48.0
            statuses.append("silent" if quiet_hours > limit else "ok")
        first = start_naive or row["first_in_view"]
        if first is None or pd.isna(first) or not row["articles"]:
            per_day.append(0.0)
        else:
            days = max((end_naive - pd.Timestamp(first).to_pydatetime()).total_seconds(), 3600)
            per_day.append(round(row["articles"] / (days / 86400), 2))
    table["feed_status"] = statuses
    table["per_day"] = per_day
    table["median_gap_hours"] = table["median_gap_hours"].astype(float).round(1)
    table = table.rename(
        columns={
            "last_published": "feed_last_article",
            "last_fetch_at": "feed_last_fetch",
            "error_count": "feed_errors",
            "last_error": "feed_last_error",
        }
    )
    return table[CADENCE_COLUMNS]


def compare_terms(
    store: Storage, f_a: Filters, f_b: Filters, *, limit: int = 60, depth: int = 3000
) -> pd.DataFrame:
    """The terms most distinctive of each side: side, term, count_a, count_b, score.

    Weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008):
    terms both sides use a lot score near zero, so the clouds show the difference rather than
    the shared vocabulary. Computed over each side's `depth` most frequent terms.
    """
    with store.session():
        a: pd.DataFrame = store.term_counts(f_a, limit=depth).to_pandas()
        b: pd.DataFrame = store.term_counts(f_b, limit=depth).to_pandas()
    n_a = a.attrs.get("total", 0) or int(a["count"].sum())
    n_b = b.attrs.get("total", 0) or int(b["count"].sum())
    merged = (
        a[["term", "count"]]
        .merge(b[["term", "count"]], on="term", how="outer", suffixes=("_a", "_b"))
        .fillna(0)
    )
    columns = ["side", "term", "count_a", "count_b", "score"]
    if merged.empty or not n_a or not n_b:
        return pd.DataFrame(columns=columns)
    y_a = merged["count_a"].astype(float)
    y_b = merged["count_b"].astype(float)
    prior_total = 1000.0
    alpha = prior_total * (y_a + y_b) / (y_a.sum() + y_b.sum())
    delta = (y_a + alpha).div(n_a + prior_total - y_a - alpha).apply(math.log) - (y_b + alpha).div(
        n_b + prior_total - y_b - alpha
    ).apply(math.log)
    variance = 1.0 / (y_a + alpha) + 1.0 / (y_b + alpha)
    merged["score"] = (delta / variance.pow(0.5)).round(3)
    merged["count_a"] = y_a.astype("int64")
    merged["count_b"] = y_b.astype("int64")
    side_a = merged[merged["score"] > 0].nlargest(limit, "score").assign(side="a")
    side_b = merged[merged["score"] < 0].nsmallest(limit, "score").assign(side="b")
    return pd.concat([side_a, side_b], ignore_index=True)[columns]


# -- term weighting: keyness, one cloud per language -------------------------------------------

WEIGHTS = ("keyness", "frequency")
WEIGHT_TEXT = {
    "keyness": "keyness: how much more often than usual (simple maths, N = 1 per million, "
    "against the store's background and general language)",
    "frequency": "frequency: times used",
}
KEYNESS_MIN_COUNT = 5  # a term used fewer times in the window is never key
KEYNESS_MIN_G2 = 10.83  # Dunning's log-likelihood for p < 0.001 (1 degree of freedom)
KEYNESS_SMOOTHING = 1.0  # Kilgarriff's N, per million tokens
GENERAL_TOKENS = 1_000_000  # the weight of the general-language reference, in tokens
KEYNESS_DEPTH = 3000  # candidates: the window's most used terms
KEYNESS_COLUMNS = (
    "term",
    "display",
    "count",
    "articles",
    "reference",
    "general_per_million",
    "g2",
    "score",
    "weight",
)


@functools.lru_cache(maxsize=65536)
def general_frequency(term: str, language: str) -> float:
    """How often `term` is used in general `language` text, as a share of all words
    (wordfreq's lists: web, subtitles, news, books, Wikipedia), 0.0 when unknown."""
    if language not in _general_languages():
        return 0.0
    from wordfreq import word_frequency  # noqa: PLC0415  (its lists load on first use)

    return float(word_frequency(term, language))


@functools.lru_cache(maxsize=1)
def _general_languages() -> frozenset[str]:
    from wordfreq import available_languages  # noqa: PLC0415

    return frozenset(available_languages())


def _display_of(table: Table) -> list[str]:
    """Each row's display form (the term itself while the store has none)."""
    if "display" in table.columns:
        return [
            str(d) if d else str(t) for t, d in zip(table["term"], table["display"], strict=True)
        ]
    return [str(t) for t in table["term"]]


def keyness(
    store: Storage,
    f: Filters,
    *,
    limit: int = 100,
    general_languages: Sequence[str] | None = None,
) -> Table:
    """The view's key terms: those used distinctly more often in the view than usual.

    The measure is Kilgarriff's "simple maths" keyness (2009; Sketch Engine's keyword score):
    score = (pm_view + N) / (pm_reference + N), the term's frequency per million tokens in
    the view against a reference, with N = 1 per million (`KEYNESS_SMOOTHING`). A ratio, so
    a word every article uses ("prozent", "deutlich") scores near 1 however frequent it is,
    and N keeps terms used about once per million in the view from topping the list. Only
    terms used at least `KEYNESS_MIN_COUNT` times and significantly more often than in the
    reference (Dunning's log-likelihood G2 >= 10.83, p < 0.001) are kept.

    The reference is the store's background: every article of the store in the view's
    languages outside the view (all time, every feed: from the per-day rollup), plus one
    million tokens (`GENERAL_TOKENS`) of general language at wordfreq's frequencies. The
    general part matters while the store is young or a story fills most of it (the demo
    store: a topic's template sentences carry "zuvor" as often as "Zölle"); at a million
    articles the store's own history outweighs it 200 to 1. Frequencies in general
    language count stopwords too; the store's do not: a constant factor the ratio absorbs.
    `general_languages`: whose word lists to use (None: the view's languages, else the
    languages of its articles; the highest frequency across them counts).

    Columns: term, display, count (in the view), articles, reference (the term's count in
    the reference: its other uses in the store plus its share of the general-language
    tokens), general_per_million,
    g2, score, weight (score relative to the top one, 0..1]. `attrs`: weight ("keyness",
    or "frequency" when there is nothing to compare against: the view is the whole store
    in a language wordfreq does not know), note (why, or None).
    """
    with store.session():
        window = store.term_counts(f, limit=KEYNESS_DEPTH)
        n_view = int(window.attrs.get("total", 0) or sum(int(n) for n in window["count"]))
        languages = tuple(f.languages)
        if general_languages is None:
            general_languages = languages or tuple(
                lang for lang in store.language_counts(f)["language"] if lang
            )
        terms = [str(t) for t in window["term"]]
        background = store.term_background(terms, languages=languages)
    known = [lang for lang in general_languages if lang in _general_languages()]
    store_counts = {str(t): int(n) for t, n in background.rows}
    n_rest = max(int(background.attrs.get("total", 0)) - n_view, 0)
    n_general = GENERAL_TOKENS if known else 0
    n_reference = n_rest + n_general
    table = Table(KEYNESS_COLUMNS, [], {"weight": "keyness", "note": None})
    if window.empty or not n_view:
        return table
    if not n_reference:
        table.attrs.update(
            weight="frequency",
            note="nothing to compare against (the view is the whole store, in a language "
            "without a general word list): showing frequency",
        )
        top = max(int(n) for n in window["count"])
        table.rows = [
            (str(r[0]), d, int(r[1]), int(r[2]), 0.0, 0.0, 0.0, 0.0, round(int(r[1]) / top, 4))
            for r, d in zip(window.rows[:limit], _display_of(window), strict=False)
        ]
        return table
    smoothing = KEYNESS_SMOOTHING
    found = []
    for (term, count, articles), display in zip(
        ((r[0], int(r[1]), int(r[2])) for r in window.rows), _display_of(window), strict=True
    ):
        if count < KEYNESS_MIN_COUNT:
            continue
        general = max((general_frequency(term, lang) for lang in known), default=0.0)
        rest = max(store_counts.get(term, 0) - count, 0) + general * n_general
        g2 = log_likelihood(count, n_view, rest, n_reference)
        if count / n_view <= rest / n_reference or g2 < KEYNESS_MIN_G2:
            continue
        score = (count / n_view * 1e6 + smoothing) / (rest / n_reference * 1e6 + smoothing)
        found.append((term, display, count, articles, rest, general * 1e6, g2, score))
    found.sort(key=lambda r: (-r[7], -r[6], r[0]))
    found = found[:limit]
    top_score = found[0][7] if found else 1.0
    table.rows = [
        (t, d, n, a, round(r, 1), round(gen, 3), round(g2, 2), round(s, 4), round(s / top_score, 4))
        for t, d, n, a, r, gen, g2, s in found
    ]
    if not found:
        table.attrs["note"] = "no term is used distinctly more often here than usual"
    return table


def log_likelihood(a: float, n_a: float, b: float, n_b: float) -> float:
    """Dunning's G2 for a term used `a` times in `n_a` tokens and `b` times in `n_b`."""
    total = a + b
    if total <= 0 or n_a <= 0 or n_b <= 0:
        return 0.0
    e_a = n_a * total / (n_a + n_b)
    e_b = n_b * total / (n_a + n_b)
    g2 = 0.0
    if a > 0:
        g2 += a * math.log(a / e_a)
    if b > 0:
        g2 += b * math.log(b / e_b)
    return 2.0 * g2


def weighted_terms(
    store: Storage, f: Filters, *, weight: str = "keyness", limit: int = 100
) -> Table:
    """The terms a cloud draws: `keyness` (the default) or `frequency` (`terms`). Columns
    term, display, count, articles, weight (0..1, what the word's size shows) and, for
    keyness, its other columns; `attrs["weight"]` says which weighting it is."""
    if weight not in WEIGHTS:
        raise ValueError(f"unknown weighting {weight!r}; use keyness or frequency")
    if weight == "keyness":
        return keyness(store, f, limit=limit)
    table = terms(store, f, limit=limit)
    displays = _display_of(table)
    rows = [
        (str(r[0]), d, int(r[1]), int(r[2]), float(r[-1]))
        for r, d in zip(table.rows, displays, strict=True)
    ]
    return Table(
        ("term", "display", "count", "articles", "weight"),
        rows,
        {"weight": "frequency", "note": None},
    )


def term_clouds(
    store: Storage,
    f: Filters,
    *,
    weight: str = "keyness",
    per_language: bool = True,
    limit: int = 100,
) -> list[tuple[str | None, Table]]:
    """One cloud's terms per language of the view (`per_language`, when it mixes several:
    each with its own background and general word list), or one for the whole view.

    Returns (language, table) pairs, the busiest language first; language None is the
    combined cloud. Each table is `weighted_terms`; `attrs["articles"]` counts the articles
    it covers. Articles without a detected language are only in the combined cloud
    (`attrs["unknown"]` of the first table says how many)."""
    with store.session():
        counts = [(str(lang), int(n)) for lang, n in store.language_counts(f).rows]
        known = [(lang, n) for lang, n in counts if lang]
        unknown = sum(n for lang, n in counts if not lang)
        if not per_language or len(known) < 2:
            table = weighted_terms(store, f, weight=weight, limit=limit)
            table.attrs["articles"] = sum(n for _, n in counts)
            table.attrs["unknown"] = 0
            only = known[0][0] if len(known) == 1 and not unknown else None
            return [(only, table)]
        clouds: list[tuple[str | None, Table]] = []
        for lang, n in known:
            table = weighted_terms(store, replace(f, languages=(lang,)), weight=weight, limit=limit)
            table.attrs["articles"] = n
            table.attrs["unknown"] = unknown
            clouds.append((lang, table))
        return clouds


# -- topics: NMF over the view's term vectors ---------------------------------------------------

TOPICS_K = 8  # topics by default; `topics(k=...)` takes 2..TOPICS_MAX
TOPICS_MAX = 20
TOPICS_VOCABULARY = 2000  # the view's most used terms (stopwords removed)
TOPICS_SAMPLE = 3000  # articles modelled: the view's first by id (an even spread)
TOPICS_METHOD = (
    "NMF (scikit-learn, multiplicative updates from an nndsvda start, random_state 0) over "
    "TF-IDF vectors (sublinear term frequency, smoothed idf, unit length) of up to 3,000 "
    "articles and the view's 2,000 most used terms (shared among its languages by their "
    "articles, at least 200 each), minus those in fewer than 2 or more than half of the "
    "articles"
)


@dataclass(frozen=True)
class TopicArticle:
    """An article that is mostly about a topic: `weight` is the topic's share of it (0..1]."""

    id: str
    title: str
    url: str | None
    published: datetime  # naive UTC
    language: str | None
    weight: float


@dataclass(frozen=True)
class Topic:
    """One discovered topic: `label` is its top three terms (display forms, feed content:
    render as text), `share` its share of the modelled articles (0..1), `terms` its top terms
    with weights relative to the top one, `articles` the articles mostly about it (best
    first), `series` its share of each day's articles (day in the view's time zone)."""

    id: int  # 1..k, the largest share first
    label: str
    share: float
    language: str | None  # the language of most of its articles
    terms: tuple[tuple[str, str, float], ...]  # (term, display, weight)
    articles: tuple[TopicArticle, ...]
    series: tuple[tuple[date, float], ...]


@dataclass(frozen=True)
class TopicModel:
    """`topics(...)`: the topics of a view, and what they were computed from."""

    topics: tuple[Topic, ...]
    k: int
    articles: int  # articles modelled (the sample)
    total: int  # articles in the view
    vocabulary: int  # terms in the model
    method: str = TOPICS_METHOD
    note: str | None = None  # why there are fewer topics than asked, or none

    def to_json(self) -> dict[str, Any]:
        """The `monitor topics --json` object (src/monitor/schemas/topics.schema.json)."""
        data: dict[str, Any] = json_ready(
            {
                "method": self.method,
                "k": self.k,
                "articles": self.articles,
                "total": self.total,
                "vocabulary": self.vocabulary,
                "note": self.note,
                "topics": [
                    {
                        "id": t.id,
                        "label": t.label,
                        "share": t.share,
                        "language": t.language,
                        "terms": [
                            {"term": term, "display": display, "weight": weight}
                            for term, display, weight in t.terms
                        ],
                        "articles": [
                            {
                                "id": a.id,
                                "title": a.title,
                                "url": a.url,
                                "published": a.published,
                                "language": a.language,
                                "weight": a.weight,
                            }
                            for a in t.articles
                        ],
                        "series": [{"day": d.isoformat(), "share": s} for d, s in t.series],
                    }
                    for t in self.topics
                ],
            }
        )
        return data


def topics(
    store: Storage,
    f: Filters,
    *,
    k: int = TOPICS_K,
    timezone: str = "UTC",
    terms_per_topic: int = 30,
    articles_per_topic: int = 10,
    sample: int = TOPICS_SAMPLE,
    vocabulary: int = TOPICS_VOCABULARY,
) -> TopicModel:
    """The view's topics, discovered by non-negative matrix factorisation (`TOPICS_METHOD`).

    The store hands over small tables only (`Storage.term_vectors`: the view's first
    `sample` articles by id, which are hashes, so an even spread, and their counts of the
    view's `vocabulary` most used terms); the model runs on that sparse matrix. TF-IDF
    rather than raw counts, so a term every article repeats does not define a topic; NMF
    with a fixed start (nndsvda) and random_state, so the same view gives the same topics on
    every run and engine: a shared link shows the same topics. Topics are numbered by share.
    """
    if not 2 <= k <= TOPICS_MAX:
        raise ValueError(f"k must be between 2 and {TOPICS_MAX}, not {k}")
    check_timezone(timezone)
    with store.session():
        # The vocabulary per language, in proportion to its articles (at least 200 terms
        # each): the view's most used terms overall would be nearly all of its busiest
        # language, and the other language's articles would be vectors of a few shared words.
        mix = [(str(lang), int(n)) for lang, n in store.language_counts(f).rows if lang]
        views = [(f, vocabulary)]
        if len(mix) > 1:
            in_mix = sum(n for _, n in mix)
            views = [
                (replace(f, languages=(lang,)), max(200, round(vocabulary * n / in_mix)))
                for lang, n in mix
            ]
        displays: dict[str, str] = {}
        for view, size in views:
            top = store.terms(view, limit=size)
            for term, display in zip(top["term"], _display_of(top), strict=True):
                displays.setdefault(str(term), display)
        vectors = store.term_vectors(f, list(displays), sample=sample)
    doc_ids = [str(r[0]) for r in vectors.articles.rows]
    empty = TopicModel((), k, len(doc_ids), vectors.total, 0)
    if len(doc_ids) < max(k, 3) or not vectors.counts.rows:
        return replace(empty, note="too few articles with terms in the view to find topics")
    import numpy as np  # noqa: PLC0415  (the command line's other queries do without)
    from scipy.sparse import csr_matrix  # noqa: PLC0415
    from sklearn.decomposition import NMF  # noqa: PLC0415
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.feature_extraction.text import TfidfTransformer  # noqa: PLC0415

    row_of = {aid: i for i, aid in enumerate(doc_ids)}
    rows = vectors.counts.rows
    # Document frequency within the sample: a term in one article links nothing, one in
    # most articles separates nothing.
    df: dict[str, int] = {}
    for _, term, _ in rows:
        df[term] = df.get(term, 0) + 1
    limit_df = 0.5 * len(doc_ids)
    vocab = [t for t in displays if 2 <= df.get(t, 0) <= limit_df]
    column_of = {t: j for j, t in enumerate(vocab)}
    kept = [r for r in rows if r[1] in column_of and r[0] in row_of]
    if len(vocab) < k or not kept:
        return replace(empty, note="too few shared terms in the view to find topics")
    counts = csr_matrix(
        (
            np.fromiter((r[2] for r in kept), dtype=np.float64, count=len(kept)),
            (
                np.fromiter((row_of[r[0]] for r in kept), dtype=np.int64, count=len(kept)),
                np.fromiter((column_of[r[1]] for r in kept), dtype=np.int64, count=len(kept)),
            ),
        ),
        shape=(len(doc_ids), len(vocab)),
    )
    matrix = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    # Multiplicative updates: on 5,000 articles they settle in tens of iterations where
    # coordinate descent needs hundreds; stopping at max_iter still gives usable topics.
    model = NMF(n_components=k, init="nndsvda", solver="mu", random_state=0, max_iter=300, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        w = model.fit_transform(matrix)
    h = model.components_
    row_sums = w.sum(axis=1, keepdims=True)
    shares = np.divide(w, row_sums, out=np.zeros_like(w), where=row_sums > 0)
    modelled = int((row_sums[:, 0] > 0).sum())
    dominant = shares.argmax(axis=1)
    zone = ZoneInfo(timezone)
    meta = vectors.articles.rows  # id, published, language, title, url
    days = [
        (published.replace(tzinfo=UTC).astimezone(zone).date() if published else None)
        for _, published, _, _, _ in meta
    ]
    per_day: dict[date, int] = {}
    for day, total in zip(days, row_sums[:, 0], strict=True):
        if day is not None and total > 0:
            per_day[day] = per_day.get(day, 0) + 1
    order = sorted(range(k), key=lambda c: (-float(shares[:, c].sum()), c))
    found: list[Topic] = []
    for number, c in enumerate(order, start=1):
        weights = h[c]
        best = np.argsort(-weights, kind="stable")[:terms_per_topic]
        top_weight = float(weights[best[0]]) if len(best) else 0.0
        if top_weight <= 0:
            continue
        top_terms = tuple(
            (vocab[j], displays[vocab[j]], round(float(weights[j]) / top_weight, 4))
            for j in best
            if weights[j] > 0
        )
        # Best first by how strongly the article expresses the topic (its weight in W), not
        # by share: an article with two vocabulary words is 100 % of some topic.
        mine = [i for i in range(len(doc_ids)) if dominant[i] == c and row_sums[i, 0] > 0]
        mine.sort(key=lambda i: (-float(w[i, c]), doc_ids[i]))
        languages: dict[str, int] = {}
        for i in mine:
            lang = str(meta[i][2] or "")
            languages[lang] = languages.get(lang, 0) + 1
        language = max(sorted(languages), key=lambda x: languages[x]) if languages else None
        daily: dict[date, float] = {}
        for i, day in enumerate(days):
            if day is not None and row_sums[i, 0] > 0:
                daily[day] = daily.get(day, 0.0) + float(shares[i, c])
        found.append(
            Topic(
                id=number,
                label=" · ".join(display for _, display, _ in top_terms[:3]),
                share=round(float(shares[:, c].sum()) / modelled, 4) if modelled else 0.0,
                language=language or None,
                terms=top_terms,
                articles=tuple(
                    TopicArticle(
                        id=doc_ids[i],
                        title=str(meta[i][3]),
                        url=meta[i][4],
                        published=meta[i][1],
                        language=meta[i][2] or None,
                        weight=round(float(shares[i, c]), 4),
                    )
                    for i in mine[:articles_per_topic]
                ),
                series=tuple(
                    (day, round(daily.get(day, 0.0) / per_day[day], 4)) for day in sorted(per_day)
                ),
            )
        )
    note = None
    if vectors.total > len(doc_ids):
        note = (
            f"modelled {len(doc_ids):,} of the view's {vectors.total:,} articles (an even sample)"
        )
    return TopicModel(tuple(found), k, len(doc_ids), vectors.total, len(vocab), note=note)


def topic_overview(model: TopicModel) -> pd.DataFrame:
    """For the page: topic, label, share, language, top terms (ten display forms)."""
    rows = [
        {
            "topic": t.id,
            "label": t.label,
            "share": t.share,
            "language": t.language,
            "terms": ", ".join(display for _, display, _ in t.terms[:10]),
        }
        for t in model.topics
    ]
    return pd.DataFrame(rows, columns=["topic", "label", "share", "language", "terms"])


def topic_series(model: TopicModel) -> pd.DataFrame:
    """For the page: day, series ("1 · label"), share: each topic's share per day."""
    rows = [
        {"day": day, "series": f"{t.id} · {t.label}", "share": share}
        for t in model.topics
        for day, share in t.series
    ]
    return pd.DataFrame(rows, columns=["day", "series", "share"])


def topic_terms(topic: Topic) -> pd.DataFrame:
    """For the page: term, display, weight (relative to its top term) of one topic."""
    return pd.DataFrame(list(topic.terms), columns=["term", "display", "weight"])


def topic_articles(topic: Topic) -> pd.DataFrame:
    """For the page: id, published, title, url, language, weight of one topic's articles."""
    rows = [
        {
            "id": a.id,
            "published": a.published,
            "title": a.title,
            "url": a.url,
            "language": a.language,
            "weight": a.weight,
        }
        for a in topic.articles
    ]
    return pd.DataFrame(rows, columns=["id", "published", "title", "url", "language", "weight"])


# -- articles ----------------------------------------------------------------------------


def articles(
    store: Storage,
    f: Filters,
    *,
    sort: str = "published",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """One page of the view's articles and the total count.

    Columns: id, published, date_source, title, url, feeds, authors (list), tags (list),
    reading_minutes, language.
    """
    table, total = store.articles_page(
        f, sort=sort, descending=descending, limit=limit, offset=offset
    )
    frame: pd.DataFrame = table.to_pandas()
    return frame, total


def export_rows(store: Storage, f: Filters) -> Iterator[dict[str, Any]]:
    """Every article in the view as a dict with the export columns (lists as lists), streamed."""
    for batch in store.export_batches(f):
        for row in batch.rows:
            yield {
                name: list(v) if isinstance(v, tuple) else v
                for name, v in zip(batch.columns, row, strict=True)
            }


def export_articles(store: Storage, f: Filters, fmt: str) -> bytes:
    """The view's articles as CSV or JSON bytes (the same rows and columns as `monitor export`)."""
    rows = (json_ready(row) for row in export_rows(store, f))
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=1, allow_nan=False).encode()
    if fmt == "csv":
        buffer = io.StringIO()
        write_csv(buffer, rows)
        return buffer.getvalue().encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; use csv or json")


def export_parquet(store: Storage, f: Filters, target: Path) -> int:
    """Write the view's articles (the export's rows and columns, lists as lists) to a Parquet
    file at `target`, a batch at a time, whatever the engine. Returns the rows written."""
    import pyarrow as pa  # noqa: PLC0415 - only this export needs pyarrow
    import pyarrow.parquet as pq  # noqa: PLC0415

    text, texts = pa.string(), pa.list_(pa.string())
    types = {
        "feed_urls": texts,
        "authors": texts,
        "tags": texts,
        "published": pa.timestamp("us"),  # naive UTC, as the store holds it
        "word_count": pa.int32(),
        "reading_minutes": pa.int32(),
        "comments": pa.int32(),
    }
    schema = pa.schema([(name, types.get(name, text)) for name in EXPORT_COLUMNS])
    written = 0
    with pq.ParquetWriter(str(target), schema) as writer:
        for batch in store.export_batches(f):
            columns = {
                name: [list(v) if isinstance(v, tuple) else v for v in batch[name]]
                for name in EXPORT_COLUMNS
            }
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            written += len(batch)
    return written


def write_csv(
    handle: IO[str], rows: Iterable[Mapping[Any, Any]], columns: Sequence[Any] | None = None
) -> None:
    """Rows as CSV, safe to open in a spreadsheet: the one CSV writer of the project (`monitor
    export`, the Articles download, every chart's data).

    Lists are joined with '; '; every text cell is quoted and passes through
    `spreadsheet_safe`; numbers stay numbers, unquoted. `columns` defaults to the export's.
    """
    names = list(columns) if columns is not None else list(EXPORT_COLUMNS)
    writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(name) for name in names])
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(name)) for name in names])


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"); the full-width forms are folded to them by some spreadsheets' input.
_FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# A plain number, with a sign, decimals, an exponent or a percent: no formula can hide in it.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d+)*|[.,]\d+)([eE][+-]?\d+)?%?")


def spreadsheet_safe(value: Any) -> str | int | float:
    """A CSV cell that a spreadsheet shows as it is and never runs as a formula.

    Numbers (int, float, bool) are kept. Text that, after any leading blanks and
    invisible characters, starts with = + - @ (or their full-width forms), and text that
    starts with a tab, CR or LF, gets a leading single quote, the way OWASP describes:
    `=HYPERLINK(...)` becomes `'=HYPERLINK(...)`. Text that is just a number (`-5`, `+3.2%`)
    is left alone. Missing values (None, NaN, NaT) are empty; lists are joined with '; '.
    """
    if _is_missing(value):
        return ""
    if isinstance(value, int | float):  # bool included: True stays True
        return value
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return spreadsheet_safe(value.tolist())
    if isinstance(value, list | tuple):
        # Only the start of the joined cell can be read as a formula.
        text = "; ".join(
            v if isinstance(v, str) else str(spreadsheet_safe(v))
            for v in value
            if not _is_missing(v)
        )
    else:
        text = str(value)
    return "'" + text if _runs_as_formula(text) else text


def _runs_as_formula(text: str) -> bool:
    if not text or text[0] in "\t\r\n":
        return bool(text)
    start = 0
    while start < len(text) and (
        text[start].isspace() or unicodedata.category(text[start]) in ("Cc", "Cf")
    ):
        start += 1
    if start == len(text) or text[start] not in _FORMULA_STARTS:
        return False
    return not _PLAIN_NUMBER.fullmatch(text[start:].strip())


def _is_missing(value: Any) -> bool:
    """None, NaN and pandas' NaT and NA (checked without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    return type(value).__name__ in ("NaTType", "NAType")


def json_ready(value: Any) -> Any:
    """JSON-ready values: times as ISO 8601 UTC with Z, arrays as lists, and every form of
    missing (None, NaN, NaT, pandas NA; also infinity, which JSON cannot hold) as None."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if _is_missing(value):
        return None
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp (checked without importing pandas)
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return json_ready(value.tolist())
    if hasattr(value, "item"):
        return json_ready(value.item())
    if isinstance(value, Decimal):
        return json_ready(float(value))
    return value


def records(table: Table | pd.DataFrame) -> list[dict[str, Any]]:
    """A Table or DataFrame as JSON-ready dicts (what every `--json` prints): missing values
    are None, whatever form a DataFrame gave them (NaT, NaN, NA)."""
    rows = table.records() if isinstance(table, Table) else table.to_dict("records")
    return [json_ready(row) for row in rows]


# -- filter choices and stopwords ----------------------------------------------------------


def tag_choice(value: str, choices: Iterable[str]) -> str | None:
    """The one of `choices` (tags in their display form, as `options` gives them) that
    `value` names in any of its forms: itself, any case, with or without "#", or its key
    ("ukrainekonflikt", "#UKRAINEKONFLIKT" -> "UkraineKonflikt"). None if none does."""
    listed = list(choices)
    if value in listed:
        return value
    key = tag_key(value)
    if not key:
        return None
    for choice in listed:
        if tag_key(choice) == key:
            return choice
    return None


def options(store: Storage, *, limit: int = 500) -> dict[str, list[str]]:
    """Choices for the filter pickers, busiest first: feeds, authors, tags, languages."""
    return store.options(limit=limit)


def stopword_lists(store: Storage) -> pd.DataFrame:
    """Every stopword per language: the built-in lists and the words users added.

    Columns: language ('*' = every language), word, origin ("built-in" or "added").
    """
    rows = [
        {"language": lang, "word": word, "origin": "built-in"}
        for lang in STOPWORD_LANGUAGES
        for word in sorted(stopwords(lang))
    ]
    added = store.user_stopwords()
    rows.extend(
        {"language": r["language"], "word": r["word"], "origin": "added"} for r in added.records()
    )
    return pd.DataFrame(rows, columns=["language", "word", "origin"])


def _clean_words(words: Iterable[str]) -> list[str]:
    return sorted({w.strip().casefold() for w in words if w and w.strip()})


def _check_language(language: str) -> str:
    language = language.strip().lower()
    if language != "*" and not (language.isalpha() and 2 <= len(language) <= 3):
        raise ValueError(f"not a language code: {language!r} (use de, en, ... or *)")
    return language


def add_stopwords(store: Storage, language: str, words: Iterable[str]) -> int:
    """Add stopwords for a language ('*' for all); clouds and `terms` drop them at once."""
    language = _check_language(language)
    return store.add_stopwords(language, _clean_words(words))


def remove_stopwords(store: Storage, language: str, words: Iterable[str]) -> int:
    """Take back words a user added (the built-in lists stay as they are)."""
    language = _check_language(language)
    return store.remove_stopwords(language, _clean_words(words))


# -- attention and share of voice (issue 11) -------------------------------------------

ATTENTION_MAX_QUERIES = 6
ATTENTION_COLUMNS = ("bucket", "query", "count", "total", "share")
VOICE_COLUMNS = ("query", "count", "share")


@dataclass(frozen=True)
class QueryDetail:
    """Where one query's articles are: the feeds that carry it most (feed, count, feed_total,
    share of the feed's output in the view), its top tags and terms, its newest articles
    (title, published, url: http/https only, else None; feeds)."""

    query: str
    count: int
    feeds: Table
    tags: Table
    terms: Table
    newest: Table


@dataclass(frozen=True)
class Attention:
    """`attention`'s answer. `series`: ATTENTION_COLUMNS, one row per bucket and query
    (share = count / total, the view's articles in that bucket; 0.0 when total is 0).
    `voice`: VOICE_COLUMNS, each query's articles and its share of the articles matching
    any of them (`union`). Queries overlap: an article matching two counts for both, so the
    shares add up to more than 1 when `overlap` (articles matching more than one) > 0."""

    by: str
    timezone: str
    labels: tuple[str, ...]
    series: Table
    voice: Table
    total: int  # articles in the view
    union: int  # articles matching at least one query
    overlap: int  # articles matching more than one query
    details: tuple[QueryDetail, ...]
    # "stories" (Filters.unit): every count above is of distinct stories instead of articles.
    unit: str = "articles"

    def note(self) -> str:
        """The overlap, said plainly (the page and the JSON carry it)."""
        if len(self.labels) < 2:
            return "one query: share of voice is 100%"
        one, plural = ("story", "stories") if self.unit == "stories" else ("article", "articles")
        if not self.overlap:
            return f"no {one} matches more than one query: the shares of voice add up to 100%"
        summed = sum(int(r[1]) for r in self.voice.rows)
        return (
            f"{self.overlap} of {self.union} {plural} match more than one query and count for "
            f"each: the queries' counts add up to {summed}, their shares of voice to "
            f"{100 * summed / max(self.union, 1):.0f}%"
        )


def _web_link(url: Any) -> str | None:
    """The URL when it is http(s); feed content is untrusted (no javascript:, data:)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    return text if re.match(r"(?i)^https?://[^\s]+$", text) else None


def attention(
    store: Storage,
    f: Filters,
    queries: Sequence[Any],
    *,
    by: str = "day",
    timezone: str = "UTC",
    labels: Sequence[str] | None = None,
    details: bool = True,
    top: int = 5,
    sample: int = 5,
) -> Attention:
    """Each query's articles per bucket and its share of all the view's articles in the same
    bucket (normalised attention), share of voice between the queries, and per query the
    feeds, tags, terms and newest articles. `queries`: parsed `monitor.query.Query`s (1 to
    ATTENTION_MAX_QUERIES); `f.query` is replaced by each (the rest of the view stays)."""
    from monitor.query import And, Or, Query

    if not 1 <= len(queries) <= ATTENTION_MAX_QUERIES:
        raise ValueError(
            f"attention takes 1 to {ATTENTION_MAX_QUERIES} queries, not {len(queries)}"
        )
    if by not in BUCKETS or by == "hour":
        raise ValueError(f"unknown bucket {by!r}; use day, week or month")
    names = tuple(labels) if labels is not None else tuple(q.text for q in queries)
    base = replace(f, query=None)
    with store.session():
        totals = frequency(store, base, by=by, timezone=timezone)
        per_bucket = {b: int(n) for b, _, n in totals.rows}
        rows: list[tuple[Any, ...]] = []
        counts: list[int] = []
        for name, q in zip(names, queries, strict=True):
            fq = replace(f, query=q)
            got = store.frequency(fq, by=by, timezone=timezone)
            mine: dict[Any, int] = {}
            for b, _, n in got.rows:
                mine[b] = mine.get(b, 0) + int(n)
            # A story with articles in two buckets counts in each: its total is counted apart.
            counts.append(store.article_count(fq) if f.stories else sum(mine.values()))
            for bucket, total in per_bucket.items():
                n = mine.get(bucket, 0)
                rows.append((bucket, name, n, total, n / total if total else 0.0))
        roots = tuple(q.root for q in queries)
        if len(queries) == 1:
            union, overlap = counts[0], 0
        else:
            union = store.article_count(replace(f, query=Query("(any)", Or(roots))))
            pairs = tuple(
                And((roots[i], roots[j]))
                for i in range(len(roots))
                for j in range(i + 1, len(roots))
            )
            both = pairs[0] if len(pairs) == 1 else Or(pairs)
            overlap = store.article_count(replace(f, query=Query("(overlap)", both)))
        voice = Table(
            VOICE_COLUMNS,
            [(name, n, n / union if union else 0.0) for name, n in zip(names, counts, strict=True)],
        )
        infos = (
            tuple(
                _query_detail(store, f, name, q, n, top=top, sample=sample)
                for name, q, n in zip(names, queries, counts, strict=True)
            )
            if details
            else ()
        )
    rows.sort(key=lambda r: (r[0], names.index(r[1])))
    return Attention(
        by,
        timezone,
        names,
        Table(ATTENTION_COLUMNS, rows),
        voice,
        store.article_count(base) if f.stories else sum(per_bucket.values()),
        union,
        overlap,
        infos,
        f.unit,
    )


def _query_detail(
    store: Storage, f: Filters, name: str, q: Any, count: int, *, top: int, sample: int
) -> QueryDetail:
    fq = replace(f, query=q)
    split = store.frequency(fq, by="month", timezone="UTC", split="feed", top=top)
    per_feed: dict[str, int] = {}
    for _, series, n in split.rows:
        if series not in (NO_SERIES["feed"], "other"):
            per_feed[series] = per_feed.get(series, 0) + int(n)
    feed_rows = []
    for feed, n in sorted(per_feed.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        if f.stories:  # the monthly counts hold a story once per month: count it once
            n = store.article_count(replace(fq, feeds=(feed,)))
        output = store.article_count(replace(f, query=None, feeds=(feed,)))
        feed_rows.append((feed, n, output, n / output if output else 0.0))
    feed_rows.sort(key=lambda r: (-r[1], r[0]))  # story counts may reorder them
    tag_table = store.tags(fq, limit=top * 2)
    term_table = store.terms(fq, limit=top * 2)
    page, _ = store.articles_page(fq, sort="published", descending=True, limit=sample, offset=0)
    newest = [
        (r["title"], r["published"], _web_link(r["url"]), r.get("feeds")) for r in page.records()
    ]
    return QueryDetail(
        name,
        count,
        Table(("feed", "count", "feed_total", "share"), feed_rows),
        Table(("tag", "articles"), [(r["tag"], int(r["articles"])) for r in tag_table.records()]),
        Table(
            ("term", "count"),
            [(r.get("display") or r["term"], int(r["count"])) for r in term_table.records()],
        ),
        Table(("title", "published", "url", "feeds"), newest),
    )
