"""The analysis the pages draw, as typed functions: `monitor.analyze` on the dashboard's store,
cached (see `store.cached`), tables as DataFrames. Pages call these, never `monitor.analyze`
with a store of their own.

One function per analysis the pages use, with the same arguments as `monitor.analyze` minus the
store; a store problem stops the page with a one-line error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from monitor.models import Filters
from pages._ui.store import cached


def stats(f: Filters) -> dict[str, Any]:
    """Counts and the first and last publication time of the articles in `f`."""
    result: dict[str, Any] = cached("stats", f)
    return result


def options(*, limit: int = 500) -> dict[str, list[str]]:
    """The sidebar's choices: feeds, authors, tags and languages in the store."""
    result: dict[str, list[str]] = cached("options", limit=limit)
    return result


def empty_state(f: Filters, *, need: str = "articles", timezone: str = "UTC") -> Any:
    """Why a view is empty (`analyze.EmptyState`: its message names the true cause)."""
    return cached("empty_state", f, need=need, timezone=timezone)


def frequency(
    f: Filters, *, by: str = "day", split: str | None = None, timezone: str = "UTC", top: int = 8
) -> pd.DataFrame:
    """Articles per bucket (optionally split by feed or author), zero-filled."""
    result: pd.DataFrame = cached("frequency", f, by=by, split=split, timezone=timezone, top=top)
    return result


def tags(f: Filters, *, limit: int = 50) -> pd.DataFrame:
    """The most used tags in the view, one row per tag."""
    result: pd.DataFrame = cached("tags", f, limit=limit)
    return result


def terms(f: Filters, *, limit: int = 100) -> pd.DataFrame:
    """The most weighted terms of the articles in the view (for clouds)."""
    result: pd.DataFrame = cached("terms", f, limit=limit)
    return result


def authors(f: Filters, *, limit: int | None = 200) -> pd.DataFrame:
    """Authors in the view with their counts."""
    result: pd.DataFrame = cached("authors", f, limit=limit)
    return result


def feeds() -> pd.DataFrame:
    """Every subscribed feed and its health (not narrowed by the filters)."""
    result: pd.DataFrame = cached("feeds")
    return result


def compare_windows(f: Filters, *, now: datetime | None = None) -> pd.DataFrame:
    """The view's counts against the window of equal length just before it."""
    result: pd.DataFrame = cached("compare_windows", f, now=now)
    return result


def tag_trends(f: Filters, *, limit: int = 20, now: datetime | None = None) -> pd.DataFrame:
    """The tags rising fastest in the view."""
    result: pd.DataFrame = cached("tag_trends", f, limit=limit, now=now)
    return result


def cooccurring_tags(f: Filters, tag: str, *, limit: int = 20) -> pd.DataFrame:
    """The tags used together with `tag`."""
    result: pd.DataFrame = cached("cooccurring_tags", f, tag, limit=limit)
    return result


def heatmap(f: Filters, *, timezone: str = "UTC") -> pd.DataFrame:
    """Articles per weekday and hour in `timezone`."""
    result: pd.DataFrame = cached("heatmap", f, timezone=timezone)
    return result


def cadence(f: Filters, *, now: datetime | None = None) -> pd.DataFrame:
    """Per feed: how often it publishes and when it last did."""
    result: pd.DataFrame = cached("cadence", f, now=now)
    return result


def compare_terms(f_a: Filters, f_b: Filters, *, limit: int = 60) -> pd.DataFrame:
    """The terms that set side A apart from side B, and B from A."""
    result: pd.DataFrame = cached("compare_terms", f_a, f_b, limit=limit)
    return result


def articles(
    f: Filters,
    *,
    sort: str = "published",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """One page of the view's articles and the view's total count."""
    rows, total = cached(
        "articles", f, sort=sort, descending=descending, limit=limit, offset=offset
    )
    return rows, int(total)


def stopword_lists() -> pd.DataFrame:
    """The stopword lists per language: built in and the user's own."""
    result: pd.DataFrame = cached("stopword_lists")
    return result


def term_clouds(
    f: Filters, *, weight: str = "keyness", per_language: bool = True, limit: int = 100
) -> list[tuple[str | None, pd.DataFrame]]:
    """One cloud's terms per language of the view (or one combined), weighted by keyness or
    frequency; each DataFrame's attrs say which weighting it is and how many articles."""
    result = cached("term_clouds", f, weight=weight, per_language=per_language, limit=limit)
    return [(lang, table.to_pandas()) for lang, table in result]


def topics(f: Filters, *, k: int = 8, timezone: str = "UTC") -> Any:
    """The view's topics (`analyze.TopicModel`), computed once per view and data version."""
    return cached("topics", f, k=k, timezone=timezone)


def stories(f: Filters, *, limit: int = 50) -> pd.DataFrame:
    """analyze.stories."""
    result: pd.DataFrame = cached("stories", f, limit=limit)
    return result


def story_articles(f: Filters, story_id: str) -> pd.DataFrame:
    """analyze.story_articles."""
    result: pd.DataFrame = cached("story_articles", f, story_id)
    return result


def story_spread(f: Filters, story_id: str, *, by: str, timezone: str) -> pd.DataFrame:
    """analyze.story_spread."""
    result: pd.DataFrame = cached("story_spread", f, story_id, by=by, timezone=timezone)
    return result
