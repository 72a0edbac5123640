"""The analysis functions: what the CLI prints as JSON and the dashboard draws.

Each takes a Store and a Filters and returns a small DataFrame (or dict). The SQL is in
`monitor.store.query`; what happens here is the little that is easier on small results:
filling empty time buckets, weights, and shaping for output.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from monitor.models import Filters
from monitor.store import Store, query

BUCKETS = query.BUCKETS

__all__ = [
    "BUCKETS",
    "authors",
    "check_timezone",
    "feeds",
    "frequency",
    "stats",
    "tags",
    "terms",
]

_PANDAS_FREQ = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}


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
) -> pd.DataFrame:
    """Articles per bucket: columns bucket, series, count; empty buckets are filled with 0.

    Buckets are local times in `timezone` (naive); the range runs from the filter's start (or
    the first article) to its end (or the last article).
    """
    check_timezone(timezone)
    with store.read() as con:
        table = query.frequency(con, f, by=by, timezone=timezone, split=split, top=top)
    if table.empty:
        return pd.DataFrame(
            {
                "bucket": pd.Series([], dtype="datetime64[us]"),
                "series": pd.Series([], dtype=str),
                "count": pd.Series([], dtype="int64"),
            }
        )
    table["bucket"] = pd.to_datetime(table["bucket"])
    table["count"] = table["count"].astype("int64")
    start = table["bucket"].min()
    end = table["bucket"].max()
    zone = ZoneInfo(timezone)
    if f.since is not None:
        start = min(start, _local_bucket(f.since, zone, by))
    if f.until is not None:
        end = max(end, _local_bucket(f.until, zone, by, closing=True))
    full = pd.date_range(start, end, freq=_PANDAS_FREQ[by])
    if by == "week":
        full = pd.date_range(start, end, freq="7D")
    series = list(dict.fromkeys(table["series"]))
    grid = pd.MultiIndex.from_product([full, series], names=["bucket", "series"])
    filled = (
        table.set_index(["bucket", "series"])["count"].reindex(grid, fill_value=0).reset_index()
    )
    return filled


def _local_bucket(moment: datetime, zone: ZoneInfo, by: str, *, closing: bool = False) -> Any:
    local = pd.Timestamp(moment.astimezone(zone).replace(tzinfo=None))
    if closing:
        # `until` is exclusive: the last bucket is the one holding the instant just before it.
        local = local - pd.Timedelta(microseconds=1)
    if by == "hour":
        return local.floor("h")
    if by == "day":
        return local.floor("D")
    if by == "week":
        day = local.floor("D")
        return day - pd.Timedelta(days=day.weekday())
    return local.replace(day=1).floor("D")


def tags(store: Store, f: Filters, *, limit: int = 50) -> pd.DataFrame:
    """Top tags: key, tag (display form), articles."""
    with store.read() as con:
        return query.tags(con, f, limit=limit)


def terms(store: Store, f: Filters, *, limit: int = 100) -> pd.DataFrame:
    """Top terms: term, count, articles, weight (count relative to the top term, 0..1)."""
    with store.read() as con:
        table = query.terms(con, f, limit=limit)
    table["count"] = table["count"].astype("int64")
    top = int(table["count"].max()) if not table.empty else 0
    table["weight"] = (table["count"] / top).round(4) if top else 0.0
    return table


def authors(store: Store, f: Filters) -> pd.DataFrame:
    """Per author: articles, feeds, first and last article, mean reading time, top tags."""
    with store.read() as con:
        table = query.authors(con, f)
    table["mean_reading_minutes"] = table["mean_reading_minutes"].astype(float).round(1)
    return table


def feeds(store: Store) -> pd.DataFrame:
    """Every feed with its health and stored article count."""
    with store.read() as con:
        return query.feeds(con)
