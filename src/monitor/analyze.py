"""The analysis functions: what the CLI prints as JSON and the dashboard draws.

Each takes a Store and a Filters and returns a small DataFrame (or dict). The SQL is in
`monitor.store.query`; what happens here is the little that is easier on small results:
filling empty time buckets, weights, and shaping for output.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor import LazyModule
from monitor.models import Filters, Table
from monitor.store import Store, query
from monitor.text import STOPWORD_LANGUAGES, stopwords, tag_key

BUCKETS = query.BUCKETS

__all__ = [
    "BUCKETS",
    "add_stopwords",
    "articles",
    "authors",
    "cadence",
    "check_timezone",
    "compare_terms",
    "compare_windows",
    "cooccurring_tags",
    "export_articles",
    "export_rows",
    "feeds",
    "frequency",
    "heatmap",
    "options",
    "records",
    "remove_stopwords",
    "stats",
    "stopword_lists",
    "tag_trends",
    "tags",
    "terms",
]

if TYPE_CHECKING:
    import pandas as pd

    from monitor.store import write
else:
    # The dashboard's functions need pandas and the writes need pyarrow; the command line's
    # queries need neither, and importing them would be most of their start-up time.
    pd = LazyModule("pandas")
    write = LazyModule("monitor.store.write")


def check_timezone(name: str) -> str:
    """The IANA zone name if it exists, else ValueError with a one-line reason."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def stats(store: Store, f: Filters) -> dict[str, Any]:
    """Articles, feeds, authors and tags in the view, with the first and last publish time."""
    with store.read() as con:
        return query.stats(con, f)


def frequency(
    store: Store,
    f: Filters,
    *,
    by: str = "day",
    split: str | None = None,
    timezone: str = "UTC",
    top: int = 8,
) -> Table:
    """Articles per bucket: columns bucket, series, count; empty buckets are filled with 0.

    Buckets are local times in `timezone` (naive); the range runs from the filter's start (or
    the first article) to its end (or the last article).
    """
    check_timezone(timezone)
    with store.read() as con:
        table = query.frequency(con, f, by=by, timezone=timezone, split=split, top=top)
        if split == "tag" and not table.empty:
            # Series by display form ("UkraineKonflikt"), as every other tag view shows them.
            keys = [s for s in dict.fromkeys(table["series"]) if s != "other"]
            names = query.tag_displays(con, keys)
            table.rows = [(b, names.get(s, s), n) for b, s, n in table.rows]
    columns = ("bucket", "series", "count")
    if table.empty:
        return Table(columns, [])
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
    return Table(columns, rows)


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


def tags(store: Store, f: Filters, *, limit: int = 50) -> Table:
    """Top tags: key, tag (display form), articles."""
    with store.read() as con:
        return query.tags(con, f, limit=limit)


def terms(store: Store, f: Filters, *, limit: int = 100) -> Table:
    """Top terms: term, count, articles, weight (count relative to the top term, 0..1)."""
    with store.read() as con:
        table = query.terms(con, f, limit=limit)
    top = max((int(n) for _, n, _ in table.rows), default=0)
    table.columns = (*table.columns, "weight")
    table.rows = [(*row, round(row[1] / top, 4) if top else 0.0) for row in table.rows]
    return table


def authors(store: Store, f: Filters, *, limit: int | None = 200) -> Table:
    """Per author, busiest first: articles, feeds, first and last article, mean reading time,
    top tags. At most `limit` authors (None: all); `attrs["total"]` counts them all."""
    with store.read() as con:
        table = query.authors(con, f, limit=limit)
    at = table.columns.index("mean_reading_minutes")
    table.rows = [
        (*row[:at], None if row[at] is None else round(float(row[at]), 1), *row[at + 1 :])
        for row in table.rows
    ]
    return table


def feeds(store: Store) -> pd.DataFrame:
    """Every feed with its health and stored article count."""
    with store.read() as con:
        return query.feeds(con)


# -- comparing windows ---------------------------------------------------------------------


def previous_window(f: Filters, *, now: datetime | None = None) -> Filters | None:
    """The window of equal length just before `f` (None for an open-ended "all time" view)."""
    if f.since is None:
        return None
    end = f.until or now or datetime.now(UTC)
    return replace(f, since=f.since - (end - f.since), until=f.since)


def compare_windows(store: Store, f: Filters, *, now: datetime | None = None) -> pd.DataFrame:
    """Articles, feeds, authors and tags in the view and in the window before it.

    Columns: metric, current, previous (None for all time), change (current - previous).
    """
    before = previous_window(f, now=now)
    with store.read() as con:
        current = query.stats(con, f)
        previous = query.stats(con, before) if before is not None else None
    rows = []
    for metric in ("articles", "feeds", "authors", "tags"):
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


def tag_trends(
    store: Store, f: Filters, *, limit: int = 20, now: datetime | None = None
) -> pd.DataFrame:
    """Rising and falling tags: this window against the one before it.

    Columns: key, tag, current, previous, change, z, direction. `z` is the difference of two
    Poisson counts over its standard error, (c - r*p) / sqrt(c + r*r*p), with r the ratio of the
    two windows' article totals (so a busier window does not make every tag "rise"). A tag
    going from 1 to 3 scores about 1, far below one going from 20 to 60 (about 5.5).
    """
    before = previous_window(f, now=now)
    columns = ["key", "tag", "current", "previous", "change", "z", "direction"]
    if before is None:
        return pd.DataFrame(columns=columns)
    with store.read() as con:
        current = query.tag_counts(con, f)
        previous = query.tag_counts(con, before)
        n_current = query.article_count(con, f)
        n_previous = query.article_count(con, before)
    merged = current.merge(previous, on="key", how="outer", suffixes=("", "_prev"))
    merged["tag"] = merged["tag"].fillna(merged["tag_prev"])
    merged["current"] = merged["articles"].fillna(0).astype("int64")
    merged["previous"] = merged["articles_prev"].fillna(0).astype("int64")
    ratio = (n_current / n_previous) if n_previous else 1.0
    expected = merged["previous"] * ratio
    merged["change"] = merged["current"] - merged["previous"]
    merged["z"] = (merged["current"] - expected) / (merged["current"] + expected * ratio) ** 0.5
    merged["z"] = merged["z"].round(2)
    rising = merged[merged["z"] > 0].sort_values(["z", "current"], ascending=[False, False])
    falling = merged[merged["z"] < 0].sort_values(["z", "previous"], ascending=[True, False])
    rising = rising.head(limit).assign(direction="rising")
    falling = falling.head(limit).assign(direction="falling")
    return pd.concat([rising, falling], ignore_index=True)[columns]


def cooccurring_tags(store: Store, f: Filters, tag: str, *, limit: int = 20) -> pd.DataFrame:
    """Tags that appear on the same articles as `tag`: key, tag, articles, share.

    `share` is the fraction of the chosen tag's articles (in the view) that carry the other tag.
    """
    key = tag_key(tag)
    with store.read() as con:
        table = query.cooccurring_tags(con, f, key, limit=limit)
        base = query.article_count(con, replace(f, tags=(*f.tags, key)) if key not in f.tags else f)
    table["share"] = (table["articles"] / base).round(3) if base else 0.0
    return table


def heatmap(store: Store, f: Filters, *, timezone: str = "UTC") -> pd.DataFrame:
    """Articles per weekday (0 = Monday) and hour in `timezone`: all 168 cells."""
    check_timezone(timezone)
    with store.read() as con:
        table = query.heatmap(con, f, timezone=timezone)
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    counts = table.astype("int64").set_index(["weekday", "hour"])["count"]
    return counts.reindex(grid, fill_value=0).reset_index()


def cadence(store: Store, f: Filters, *, now: datetime | None = None) -> pd.DataFrame:
    """Per feed: articles in the view, articles per day, median gap, last article, status.

    status: disabled, failing (its last fetch failed), no articles, silent (nothing for more
    than three median gaps and at least two days: an outage is not a quiet news day), ok.
    """
    moment = now or datetime.now(UTC)
    with store.read() as con:
        table = query.cadence(con, f)
    end = f.until or moment
    end_naive = end.astimezone(UTC).replace(tzinfo=None)
    now_naive = moment.astimezone(UTC).replace(tzinfo=None)
    start_naive = f.since.astimezone(UTC).replace(tzinfo=None) if f.since else None
    statuses = []
    per_day = []
    for row in table.to_dict("records"):
        last = row["last_published"]
        gap = row["median_gap_hours"]
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
    table["status"] = statuses
    table["per_day"] = per_day
    table["median_gap_hours"] = table["median_gap_hours"].astype(float).round(1)
    return table[
        [
            "url",
            "feed",
            "articles",
            "per_day",
            "median_gap_hours",
            "last_published",
            "status",
            "last_error",
        ]
    ]


def compare_terms(
    store: Store, f_a: Filters, f_b: Filters, *, limit: int = 60, depth: int = 3000
) -> pd.DataFrame:
    """The terms most distinctive of each side: side, term, count_a, count_b, score.

    Weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008):
    terms both sides use a lot score near zero, so the clouds show the difference rather than
    the shared vocabulary. Computed over each side's `depth` most frequent terms.
    """
    with store.read() as con:
        a = query.term_counts(con, f_a, limit=depth)
        b = query.term_counts(con, f_b, limit=depth)
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


# -- articles ----------------------------------------------------------------------------


def articles(
    store: Store,
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
    with store.read() as con:
        return query.articles_page(
            con, f, sort=sort, descending=descending, limit=limit, offset=offset
        )


def export_rows(store: Store, f: Filters) -> Iterator[dict[str, Any]]:
    """Every article in the view as a dict with the export columns (lists as lists), streamed."""
    sql, params = query.export_sql(f)
    with store.read() as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description or []]
        while True:
            chunk = cursor.fetchmany(2000)
            if not chunk:
                break
            for row in chunk:
                yield dict(zip(names, row, strict=True))


def export_articles(store: Store, f: Filters, fmt: str) -> bytes:
    """The view's articles as CSV or JSON bytes (the same rows and columns as `monitor export`)."""
    rows = (json_ready(row) for row in export_rows(store, f))
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "csv":
        buffer = io.StringIO()
        write_csv(buffer, rows)
        return buffer.getvalue().encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; use csv or json")


def write_csv(handle: IO[str], rows: Iterable[dict[str, Any]]) -> None:
    """Export rows as CSV; list columns are joined with '; '."""
    writer = csv.DictWriter(handle, fieldnames=list(query.EXPORT_COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})


def json_ready(value: Any) -> Any:
    """JSON-ready values: times as ISO 8601 UTC with Z, NaN as null, arrays as lists."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp (checked without importing pandas)
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "tolist"):
        return json_ready(value.tolist())
    if hasattr(value, "item"):
        return json_ready(value.item())
    return value


def records(table: Table | pd.DataFrame) -> list[dict[str, Any]]:
    """A Table or DataFrame as JSON-ready dicts (what every `--json` prints)."""
    rows = table.records() if isinstance(table, Table) else table.to_dict("records")
    return [json_ready(row) for row in rows]


# -- filter choices and stopwords ----------------------------------------------------------


def options(store: Store, *, limit: int = 500) -> dict[str, list[str]]:
    """Choices for the filter pickers, busiest first: feeds, authors, tags, languages."""
    with store.read() as con:
        return query.options(con, limit=limit)


def stopword_lists(store: Store) -> pd.DataFrame:
    """Every stopword per language: the built-in lists and the words users added.

    Columns: language ('*' = every language), word, origin ("built-in" or "added").
    """
    rows = [
        {"language": lang, "word": word, "origin": "built-in"}
        for lang in STOPWORD_LANGUAGES
        for word in sorted(stopwords(lang))
    ]
    with store.read() as con:
        added = query.user_stopwords(con)
    rows.extend(
        {"language": r["language"], "word": r["word"], "origin": "added"}
        for r in added.to_dict("records")
    )
    return pd.DataFrame(rows, columns=["language", "word", "origin"])


def _clean_words(words: Iterable[str]) -> list[str]:
    return sorted({w.strip().casefold() for w in words if w and w.strip()})


def _check_language(language: str) -> str:
    language = language.strip().lower()
    if language != "*" and not (language.isalpha() and 2 <= len(language) <= 3):
        raise ValueError(f"not a language code: {language!r} (use de, en, ... or *)")
    return language


def add_stopwords(store: Store, language: str, words: Iterable[str]) -> int:
    """Add stopwords for a language ('*' for all); clouds and `terms` drop them at once."""
    language = _check_language(language)
    with store.write() as con:
        return write.add_stopwords(con, language, _clean_words(words))


def remove_stopwords(store: Store, language: str, words: Iterable[str]) -> int:
    """Take back words a user added (the built-in lists stay as they are)."""
    language = _check_language(language)
    with store.write() as con:
        return write.remove_stopwords(con, language, _clean_words(words))
