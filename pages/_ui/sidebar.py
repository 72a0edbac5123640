"""The shared sidebar: date range, display zone and the filters, read into the run's View.

app.py calls `build_view()` before the page runs; each page calls `view()` for the same View.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from monitor import analyze, savedqueries
from monitor.errors import InputError
from monitor.models import UNITS, Filters
from monitor.query import Query
from monitor.text import tag_key
from pages._ui import queries, routing, url
from pages._ui.link import LINK_SLOT
from pages._ui.text import md_escape
from pages._ui.view import (
    DEFAULT_RANGE,
    EARLIEST,
    RANGES,
    SEARCH_MAX,
    VIEW_KEY,
    View,
    first_published,
    suggest_bucket,
)
from pages._ui.widgets import date_input, multiselect, selectbox, tag_matcher, text_input

NOTES_KEY = "_monitor_notes"  # session state: this run's notes about the URL
UTC_NOTE = (
    "This link does not name a time zone, so dates and times are shown in UTC for everyone "
    "who opens it. Choose your own under Display time zone."
)


def _viewer_timezone() -> str:
    try:
        zone = st.context.timezone
    except Exception:  # outside a browser session (AppTest, bare mode) there is none
        zone = None
    if zone:
        try:
            return analyze.check_timezone(zone)
        except ValueError:
            pass
    return "UTC"


@st.cache_resource(show_spinner=False)
def _zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def _zone_choice(notes: list[str]) -> tuple[list[str], str]:
    """The zone list and the default zone: the browser's for a bare visit; UTC for a link
    that names a view but no zone, so that everyone who opens it sees the same."""
    params = st.query_params
    zones = _zones()
    default = _viewer_timezone()
    if "tz" not in st.session_state and url.names_view(params):
        valid = False
        for value in url.values(params, "tz")[:1]:
            try:
                analyze.check_timezone(value)
                valid = True
            except ValueError:
                pass
        if not valid:
            default = "UTC"
            if "tz" not in params:
                notes.append(UTC_NOTE)
    extra = {default}
    for value in url.values(params, "tz")[:1]:
        try:
            extra.add(analyze.check_timezone(value))
        except ValueError:
            pass
    current = st.session_state.get("tz")
    if isinstance(current, str):
        extra.add(current)
    missing = [z for z in extra if z not in zones]
    if missing:
        zones = sorted([*zones, *missing])
    return zones, default


def build_view() -> View:
    """The sidebar filters (every one in the URL) read into a View. Call from app.py,
    before the page runs; the page gets the same View from `view()`."""
    url.start_run()
    options = queries.options()
    notes = url.check_params(options)
    params = st.query_params

    sb = st.sidebar
    sb.header("Filters")
    ranges = list(RANGES)
    # A link with dates but no range means custom dates.
    dated = ("from" in params or "to" in params) and "range" not in params
    range_key = selectbox(
        "Date range",
        ranges,
        index=ranges.index("custom" if dated else DEFAULT_RANGE),
        key="range",
        where=sb,
    )
    zones, default_zone = _zone_choice(notes)
    zone = selectbox(
        "Display time zone",
        zones,
        index=zones.index(default_zone),
        key="tz",
        where=sb,
        help="Charts bucket and show times in this zone; the store keeps UTC. It is part of "
        "the link, so whoever opens it sees the same days and hours.",
    )
    tz = ZoneInfo(zone)
    now = datetime.now(UTC)
    # Rounded up to the minute: the same minute gives the same cache key.
    now_key = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    since: datetime | None = None
    until: datetime | None = None
    length = RANGES[range_key]
    window = "all time" if range_key == "all time" else f"last {range_key}"
    if range_key == "custom":
        today = now.astimezone(tz).date()
        start = date_input(
            "From",
            value=today - timedelta(days=30),
            min_value=EARLIEST,
            max_value=url.latest_date(),
            key="from",
            where=sb,
        )
        end = date_input(
            "To (inclusive)",
            value=today,
            min_value=EARLIEST,
            max_value=url.latest_date(),
            key="to",
            where=sb,
        )
        if end < start:
            notes.append("`to` is before `from`: the two dates were swapped")
            start, end = end, start
        since = datetime.combine(start, time(0), tz).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC)
        window = f"{start:%d %b %Y} – {end:%d %b %Y}"
        length = until - since
    elif length is not None:
        until = now_key
        since = until - length

    feeds = multiselect("Feeds", options.get("feeds", []), key="feed", where=sb)
    authors = multiselect("Authors", options.get("authors", []), key="author", where=sb)
    # A tag picked by clicking a chart is always a choice, even if outside the top few hundred.
    tag_choices = list(options.get("tags", []))
    tag_choices += [t for t in st.session_state.get("tag") or [] if t not in tag_choices]
    tags = multiselect("Tags", tag_choices, key="tag", where=sb, match=tag_matcher(tag_choices))
    languages = multiselect("Language", options.get("languages", []), key="lang", where=sb)
    search = text_input(
        "Query",
        key="q",
        max_chars=SEARCH_MAX,
        where=sb,
        help=QUERY_HELP,
    )
    query = _query(search)
    unit = selectbox(
        "Count",
        list(UNITS),
        key="count",
        where=sb,
        help="What the charts and tables count: articles, or stories (the copies of one "
        "story in other feeds, and its rewrites, count once per bar, line or row; the "
        "Stories page shows which articles are one story).",
    )
    # Filled at the end of the run, when the page's own widgets are in the URL too.
    st.session_state[LINK_SLOT] = sb.container()
    filters = Filters(
        since=since,
        until=until,
        feeds=tuple(feeds),
        authors=tuple(authors),
        tags=tuple(dict.fromkeys(tag_key(t) for t in tags)),  # one view, one cache key
        languages=tuple(languages),
        query=query,
        unit=unit,
    )
    if range_key == "all time":
        # Bucket by how much history there is, not by "forever".
        first = first_published(Filters())
        length = now - first if first else None
    result = View(
        filters=filters,
        timezone=zone,
        window=window,
        bucket=suggest_bucket(length),
        now=now_key,
    )
    st.session_state[VIEW_KEY] = result
    st.session_state[NOTES_KEY] = notes
    return result


def show_notes() -> None:
    """The notes about the URL (dropped parameters, the zone of a link), at the top."""
    for note in st.session_state.get(NOTES_KEY, []):
        if note == UTC_NOTE:
            st.info(note, icon=":material/schedule:")
        else:
            st.warning(note, icon=":material/link_off:")


def view() -> View:
    """The View app.py built for this run (a page run on its own builds it here)."""
    routing.route_through_app()
    current = st.session_state.get(VIEW_KEY)
    if not isinstance(current, View):
        current = build_view()
    return current


QUERY_HELP = (
    "Whole words, any case; umlauts and ß as written or transliterated (strasse, Muenchen). "
    '"quoted phrase", AND (or nothing), OR, NOT or -word, ( ), klima* for a prefix, '
    "fields title: text: author: feed: tag: (or #tag) lang:, and @name for a saved query. "
    'Example: (Zölle OR tariffs) AND title:"Donald Trump" -#Börse lang:de'
)


def _query(text: str) -> Query | None:
    """The box's query, parsed; one line on the page (and nothing else drawn) when it is not
    a query."""
    if not text or not text.strip():
        return None
    from pages._ui.store import store

    try:
        return savedqueries.parse(text, savedqueries.resolver(store()))
    except InputError as exc:
        st.error(f"Query: {md_escape(exc, limit=300)}", icon=":material/error:")
        st.stop()
