"""The View every page draws: the shared filters, the display zone and the window in words.

app.py builds it from the sidebar (`sidebar.build_view`) and keeps it in session state for the
run; `View.caption()`, `titles()` and `filename()` name the same context, so a screenshot, a
chart or a downloaded file keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from monitor.models import Filters
from monitor.query import describe
from pages._ui import queries
from pages._ui.text import CAPTION_VALUES, listed, md_escape, plain

# The choices are their own URL values: a selectbox puts the shown text in the URL.
RANGES: dict[str, timedelta | None] = {
    "24 hours": timedelta(hours=24),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
    "90 days": timedelta(days=90),
    "1 year": timedelta(days=365),
    "all time": None,
    "custom": None,
}
DEFAULT_RANGE = "30 days"
BUCKETS = ("hour", "day", "week", "month")
EARLIEST = date(1990, 1, 1)
SEARCH_MAX = 200
# A chart with more buckets than this is drawn one size coarser: plotly in the browser and the
# zero-filled table both grow with it, and nobody reads 9,000 hourly bars.
MAX_BUCKETS = 2500
VIEW_KEY = "_monitor_view"  # session state: the View of this run
# Dots too: the only dot in a file name is the one before its extension.
_FILE_UNSAFE = re.compile(r"[^\w+-]+")


@dataclass(frozen=True)
class View:
    """What every page draws: the filters, the display zone and words for chart titles.

    `caption()`, `subtitle`/`titles()` and `filename()` all name the same context (window,
    zone, every narrowing filter), so a screenshot, a chart or a downloaded file keeps it.
    """

    filters: Filters
    timezone: str
    window: str  # "last 30 days", "1 Nov 2026 – 10 Nov 2026", "all time"
    bucket: str  # a sensible default bucket for the window
    now: datetime

    def filter_parts(self) -> list[str]:
        """The narrowing filters in words, plain text: "tag: Trump", "feed: A, B", …"""
        f = self.filters
        parts = []
        for label, values in (
            ("feed", f.feeds),
            ("author", f.authors),
            ("tag", f.tags),
            ("language", f.languages),
        ):
            if values:
                parts.append(f"{label}{'s' if len(values) > 1 else ''}: {listed(values)}")
        if f.query:
            parts.append(f"query: “{plain(describe(f.query), 60)}”")
        if f.stories:
            parts.append("counting stories")
        return parts

    @property
    def noun(self) -> str:
        """What the counts count, for titles: "articles" or "stories"."""
        return self.filters.unit

    @property
    def Noun(self) -> str:  # noqa: N802 (the capitalised form, for the start of a title)
        return self.filters.unit.capitalize()

    def _context(self) -> str:
        window = self.window
        if window.startswith("last ") and self.filters.until is not None:
            end = self.filters.until.astimezone(ZoneInfo(self.timezone))
            window += f" to {end:%d %b %Y %H:%M}"
        return " · ".join([window, f"times in {self.timezone}", *self.filter_parts()])

    def caption(self, *, filters: bool = True) -> str:
        """The line under a page title (markdown-safe): window, zone and every active filter.

        `filters=False` for a page the sidebar's filters do not narrow (Sources)."""
        if not filters:
            return md_escape(
                f"times in {self.timezone} · the sidebar's filters do not apply to this page",
                limit=200,
            )
        return md_escape(self._context(), limit=400)

    def title(self, what: str) -> str:
        """A title for an image or a table: what is counted, the window, zone and filters."""
        return " · ".join([what, self.window, self.timezone, *self.filter_parts()])

    @property
    def subtitle(self) -> str:
        """The window, the time zone and the active filters, for under a chart's title."""
        return " · ".join([f"{self.window} · times in {self.timezone}", *self.filter_parts()])

    def titles(self, what: str, note: str | None = None) -> dict[str, str]:
        """`title=` and `subtitle=` for a charts.py figure: what is counted; window, zone,
        filters."""
        return {"title": what, "subtitle": self.subtitle + (f" · {note}" if note else "")}

    def dates(self) -> tuple[date | None, date | None]:
        """The first and last local day the window touches (None: open-ended, all time)."""
        zone = ZoneInfo(self.timezone)
        f = self.filters
        start = f.since.astimezone(zone).date() if f.since else None
        # `until` is exclusive: a window ending at midnight ends the day before.
        end = (f.until - timedelta(microseconds=1)).astimezone(zone).date() if f.until else None
        return start, end

    def filename(self, stem: str, ext: str) -> str:
        """A download's file name that keeps its context, safe on every system:
        `articles_2026-11-01_2026-11-20_tag-Trump.csv`."""
        start, end = self.dates()
        parts = [stem]
        if start is None and end is None:
            parts.append("all-time")
        else:
            parts += [start.isoformat() if start else "start", end.isoformat() if end else "now"]
        f = self.filters
        for label, values in (
            ("feed", f.feeds),
            ("author", f.authors),
            ("tag", f.tags),
            ("lang", f.languages),
        ):
            if values:
                named = "+".join(plain(v, 30) for v in values[:CAPTION_VALUES])
                more = len(values) - CAPTION_VALUES
                parts.append(f"{label}-{named}" + (f"+{more}-more" if more > 0 else ""))
        if f.query:
            parts.append(f"query-{plain(describe(f.query), 30)}")
        if f.stories:
            parts.append("stories")
        name = _FILE_UNSAFE.sub("-", "_".join(parts)).strip("-")
        # Long names break on some systems.
        return f"{name[:150].rstrip('-') or 'download'}.{ext}"


def current() -> View | None:
    """The View built for this session's latest run, or None before the sidebar was built."""
    found = st.session_state.get(VIEW_KEY)
    return found if isinstance(found, View) else None


def first_published(f: Filters) -> datetime | None:
    """When the first article in `f` was published (UTC), or None for an empty view."""
    first = queries.stats(f).get("first_published")
    if not first:
        return None
    stamp: datetime = pd.Timestamp(first).to_pydatetime()
    return stamp.replace(tzinfo=UTC)


def suggest_bucket(length: timedelta | None) -> str:
    """The default bucket for a window of this length (None: all time)."""
    if length is None or length > timedelta(days=400):
        return "month"
    if length <= timedelta(days=3):
        return "hour"
    if length <= timedelta(days=120):
        return "day"
    return "week"


def bucket_for(view_: View, by: str) -> tuple[str, str | None]:
    """`by`, or a coarser bucket (with a note) when the window would need too many bars."""
    f = view_.filters
    start = f.since if f.since is not None else (first_published(f) or view_.now)
    span = ((f.until or view_.now) - start).total_seconds()
    sizes = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400}
    chosen = by
    for candidate in BUCKETS[BUCKETS.index(by) :]:
        chosen = candidate
        if span / sizes[candidate] <= MAX_BUCKETS:
            break
    if chosen != by:
        return chosen, f"{by} buckets would make more than {MAX_BUCKETS} bars: drawn per {chosen}"
    return chosen, None
