"""The dashboard's one UI helper: shared filters, the URL, cached queries, chart frames.

app.py builds the sidebar through `build_view()` before the page runs; each page calls
`view()` and the small drawing helpers here, so pages stay thin. Only this module and the page
scripts import streamlit; analysis lives in `monitor.analyze` (no SQL or text work here).
"""

from __future__ import annotations

import io
import math
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from monitor import analyze, charts, subscriptions
from monitor.models import Filters, Table
from monitor.store import Store, StoreError, default_db_path
from monitor.text import tag_key

EMPTY_MESSAGE = "No articles in this view. Add a feed on the Sources page or run `monitor demo`."

# The choices are their own URL values: a bound selectbox puts the shown text in the URL.
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

# Every query parameter the app understands, global or page-specific. Anything else in the URL
# is dropped with a note. Page widgets validate their own values (bound widgets drop invalid
# ones; `check_params` says so first).
GLOBAL_PARAMS = ("range", "from", "to", "tz", "feed", "author", "tag", "lang", "q")
PAGE_PARAMS = (
    "by",
    "split",
    "top",
    "with",
    "compare",
    "side",
    "a",
    "b",
    "who",
    "sort",
    "asc",
    "page",
    "swlang",
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:$~&\"'=/@%^?;,])")


def md_escape(text: object, *, limit: int = 80) -> str:
    """Text safe inside Streamlit markdown: every punctuation mark backslash-escaped.

    Untrusted values (URL parameters, feed names in messages) go through this before any
    st.warning/st.error/st.caption; lines are joined and long values cut.
    """
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", value)


# Bidi controls and other invisible format characters from feed text or a URL would reorder a
# caption or a file name (a right-to-left override shows "gpj.exe" as "exe.jpg").
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Dots too: the only dot in a file name is the one before its extension.
_FILE_UNSAFE = re.compile(r"[^\w+-]+")
CAPTION_VALUES = 3  # values of one filter named before "and N more"


def _plain(value: object, limit: int = 40) -> str:
    """One line of text with the invisible format characters removed, cut to `limit`."""
    text = " ".join(_INVISIBLE.sub("", str(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listed(values: Sequence[str], limit: int = 40) -> str:
    shown = [_plain(v, limit) for v in values[:CAPTION_VALUES]]
    more = len(values) - CAPTION_VALUES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


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
                parts.append(f"{label}{'s' if len(values) > 1 else ''}: {_listed(values)}")
        if f.search:
            parts.append(f"search: “{_plain(f.search, 60)}”")
        return parts

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
                named = "+".join(_plain(v, 30) for v in values[:CAPTION_VALUES])
                more = len(values) - CAPTION_VALUES
                parts.append(f"{label}-{named}" + (f"+{more}-more" if more > 0 else ""))
        if f.search:
            parts.append(f"search-{_plain(f.search, 30)}")
        name = _FILE_UNSAFE.sub("-", "_".join(parts)).strip("-")
        # Long names break on some systems.
        return f"{name[:150].rstrip('-') or 'download'}.{ext}"


# -- store and cached queries ---------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _store(path: str, read_only: bool) -> Store:
    # Read-only: read-only connections only; the file is never created nor migrated.
    return Store(path, read_only=read_only)


def store() -> Store:
    """The dashboard's store (MONITOR_DB, else data/monitor.duckdb); read-only with
    MONITOR_READ_ONLY. A setting that is neither on nor off stops the page with its reason."""
    return _store(str(default_db_path()), read_only())


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached(
    path: str,
    version: tuple[int, ...],
    name: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    # `version` is only part of the key: a fetch in another process changes the file, so the
    # next page load asks the database again.
    del version
    result = getattr(analyze, name)(_store(path, read_only()), *args, **dict(kwargs))
    # The command line prints a Table's rows as they are; the pages work on DataFrames.
    return result.to_pandas() if isinstance(result, Table) else result


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """`monitor.analyze.<name>(store, *args, **kwargs)`, cached on the arguments and the
    store's data version. A store problem stops the page with a one-line error."""
    s = store()
    try:
        return _cached(str(s.path), s.data_version(), name, args, tuple(sorted(kwargs.items())))
    except StoreError as exc:
        st.error(f"The store cannot be read: {md_escape(exc, limit=600)}")
        st.stop()


def read_only() -> bool:
    """MONITOR_READ_ONLY=1: every write control hidden, and refused by the handlers. A value
    that is neither on nor off stops the page with its reason (never taken as off)."""
    try:
        return subscriptions.read_only()
    except ValueError as exc:
        st.error(md_escape(exc, limit=300), icon=":material/error:")
        st.stop()


# -- the URL --------------------------------------------------------------------------------


def _parse_date(text: str) -> date | None:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if EARLIEST <= value <= _latest_date() else None


def _latest_date() -> date:
    return datetime.now(UTC).date() + timedelta(days=366)


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    getter = getattr(params, "get_all", None)
    if getter is not None:
        return [str(v) for v in getter(name)]
    raw = params.get(name)
    if raw is None:
        return []
    return [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]


def check_params(options: Mapping[str, list[str]]) -> list[str]:
    """Notes on URL parameters that will be dropped; junk parameter names are removed here.

    Bound widgets drop invalid values by themselves, silently; this says which and why first.
    """
    notes: list[str] = []
    params = st.query_params
    for name in list(params.keys()):
        if name not in GLOBAL_PARAMS and name not in PAGE_PARAMS:
            notes.append(f"unknown URL parameter {md_escape(name, limit=40)} ignored")
            del params[name]
    if "range" in params and params["range"] not in RANGES:
        notes.append("URL parameter `range`: not one of " + ", ".join(RANGES) + "; ignored")
    for name in ("from", "to"):
        for value in _values(params, name)[:1]:
            if _parse_date(value) is None:
                notes.append(
                    f"URL parameter `{name}`: {md_escape(value, limit=30)} is not a date "
                    f"(YYYY-MM-DD, {EARLIEST.year} to next year); ignored"
                )
    for value in _values(params, "tz")[:1]:
        try:
            analyze.check_timezone(value)
        except ValueError:
            notes.append(
                f"URL parameter `tz`: unknown time zone {md_escape(value, limit=40)}; ignored"
            )
    for name, choices_key in (
        ("feed", "feeds"),
        ("author", "authors"),
        ("tag", "tags"),
        ("lang", "languages"),
    ):
        known = set(options.get(choices_key, []))
        unknown = [
            v
            for v in _values(params, name)
            if v not in known
            and not (name == "tag" and analyze.tag_choice(v, known))  # any form of a tag
        ]
        if unknown:
            shown = ", ".join(md_escape(v, limit=40) for v in unknown[:3])
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            notes.append(f"URL parameter `{name}`: not in this store: {shown}{more}; ignored")
    for value in _values(params, "q")[:1]:
        if len(value) > SEARCH_MAX:
            notes.append(f"URL parameter `q`: longer than {SEARCH_MAX} characters; ignored")
    for name, allowed in (
        ("by", BUCKETS),
        ("split", ("none", "feed", "author")),
        ("sort", ("published", "title", "reading time")),
        ("side", ("authors", "feeds", "tags", "periods")),
    ):
        for value in _values(params, name)[:1]:
            if value not in allowed:
                notes.append(f"URL parameter `{name}`: not one of {', '.join(allowed)}; ignored")
    for name in ("top", "page"):
        for value in _values(params, name)[:1]:
            if not value.isdigit() or int(value) < 1:
                notes.append(f"URL parameter `{name}`: not a positive whole number; ignored")
    for name in ("compare", "asc"):
        for value in _values(params, name)[:1]:
            if value.lower() not in ("true", "false"):
                notes.append(f"URL parameter `{name}`: not true or false; ignored")
    return notes


def tag_matcher(choices: Sequence[str]) -> Callable[[str], str | None]:
    """For a tag widget: the one of `choices` that a URL value names in any of its forms
    ("ukrainekonflikt", "#Zollstreit"), or None, so that a link finds a tag by any form."""
    listed = list(choices)
    return lambda value: analyze.tag_choice(value, listed)


def check_choice(
    name: str, choices: Sequence[str], *, match: Callable[[str], Any] | None = None
) -> None:
    """A visible note when the URL's `name` is not one of a page's `choices` (authors, tags,
    languages known only once the page has read them; with `match`, nor names one): the
    widget would drop it silently."""
    for value in _values(st.query_params, name)[:1]:
        if value not in choices and (match is None or match(value) is None):
            st.warning(
                f"URL parameter `{name}`: {md_escape(value, limit=40)} is not one of the "
                "choices on this page; ignored",
                icon=":material/link_off:",
            )


# -- widgets that live in the URL -------------------------------------------------------------
#
# Every widget that shapes the view is drawn through the helpers below, never with Streamlit's
# `bind="query-params"`: a bound widget leaves its default out of the URL, and several
# defaults here depend on the viewer (the browser's zone, "today" there) or on the data (the
# top tag, the first author), so a link without them showed each receiver something else.
# Here the URL is read once per widget (on the session's first sight of it, and on back or
# forward), the widget keeps its value in session state, and at the end of every run the
# whole view — defaults included — is written back: the address bar itself is the link.

_SEEDED = "_monitor_seeded"  # widget keys whose URL value has been read in this session
_RUN_PARAMS = "_monitor_run_params"  # this run's URL, built as the widgets are drawn
_LINK_SLOT = "_monitor_link_slot"  # the sidebar's place for "Copy link", filled at the end
UTC_NOTE = (
    "This link does not name a time zone, so dates and times are shown in UTC for everyone "
    "who opens it. Choose your own under Display time zone."
)


def _history_navigation() -> bool:
    """True for a run started by the browser's back or forward button to an address that
    names a view: the URL wins then. An address without any (the page's path before this app
    filled in its parameters, pushed by a page switch or a first visit) keeps the view."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False)) and _link_names_view(st.query_params)


def _url_value(key: str) -> list[str] | None:
    """The URL's values for `key` when they decide the widget this run, else None."""
    seeded = st.session_state.get(_SEEDED)
    if not isinstance(seeded, set):
        seeded = set()
        st.session_state[_SEEDED] = seeded
    first = key not in seeded
    seeded.add(key)
    if not (first or _history_navigation()):
        return None
    return _values(st.query_params, key)


def _prepare(key: str, parse: Callable[[list[str]], Any], default: Any) -> None:
    """Put the widget's value into session state before it is drawn: the URL's (when it is
    read this run and valid), else the value the widget already has, else `default`.

    `parse` returns the value for URL values, or None when they are not valid."""
    raw = _url_value(key)
    state = st.session_state
    if raw is not None:
        value = parse(raw) if raw else None
        state[key] = default if value is None else value
    elif key not in state:  # not drawn last run: Streamlit forgot its value
        state[key] = default
    elif state[key] != default:
        # The choices or bounds may have changed since (fewer pages, a feed gone).
        fixed = parse(_serialize(state[key]))
        if fixed is None:
            state[key] = default
        elif fixed != state[key]:
            state[key] = fixed


def _serialize(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, date):
        return [value.isoformat()]
    return [str(value)]


def _publish(key: str, value: Any) -> None:
    """Record the widget's value for this run's URL (empty values are left out)."""
    params = st.session_state.get(_RUN_PARAMS)
    if not isinstance(params, dict):
        params = {}
        st.session_state[_RUN_PARAMS] = params
    values = _serialize(value)
    if values and values != [""]:
        params[key] = values
    else:
        params.pop(key, None)


def _where(where: Any) -> Any:
    return st if where is None else where


def selectbox(
    label: str,
    options: Sequence[Any],
    *,
    key: str,
    index: int | None = 0,
    where: Any = None,
    match: Callable[[str], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """`st.selectbox` whose value is in the URL as `key`, always (default included).

    `index` picks the default as in Streamlit (None: nothing chosen, left out of the URL);
    `where` is the container (st.sidebar, a column); `match` finds the choice a URL value
    names in another form (see `tag_matcher`); other arguments go to Streamlit."""
    choices = list(options)
    by_text = {str(o): o for o in choices}
    default = choices[index] if index is not None and 0 <= index < len(choices) else None

    def parse(raw: list[str]) -> Any:
        if not raw:
            return None
        found = by_text.get(raw[0])
        if found is None and match is not None:
            found = by_text.get(str(match(raw[0])))
        return found

    _prepare(key, parse, default)
    if index is None:
        kwargs["index"] = None  # nothing chosen is a state of its own (a placeholder shows)
    value = _where(where).selectbox(label, choices, key=key, **kwargs)
    _publish(key, value)
    return value


def multiselect(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    where: Any = None,
    match: Callable[[str], str | None] | None = None,
    **kwargs: Any,
) -> list[str]:
    """`st.multiselect` in the URL as repeated `key` parameters (unknown values dropped;
    `match` finds the choice a value names in another form, see `tag_matcher`)."""
    choices = [str(o) for o in options]
    known = set(choices)

    def named(value: str) -> str | None:
        if value in known:
            return value
        found = match(value) if match is not None else None
        return found if found in known else None

    def parse(raw: list[str]) -> list[str] | None:
        picked = list(dict.fromkeys(c for c in map(named, raw) if c is not None))
        return picked or None

    _prepare(key, parse, [])
    value = list(_where(where).multiselect(label, choices, key=key, **kwargs))
    _publish(key, value)
    return value


def toggle(label: str, *, key: str, value: bool = False, where: Any = None, **kwargs: Any) -> bool:
    """`st.toggle` in the URL as `key=true` or `key=false`."""

    def parse(raw: list[str]) -> bool | None:
        text = raw[0].strip().lower() if raw else ""
        return {"true": True, "false": False}.get(text)

    _prepare(key, parse, bool(value))
    result = bool(_where(where).toggle(label, key=key, **kwargs))
    _publish(key, result)
    return result


def number_input(
    label: str,
    *,
    key: str,
    min_value: int,
    max_value: int,
    value: int,
    step: int = 1,
    where: Any = None,
    **kwargs: Any,
) -> int:
    """A whole-number `st.number_input` in the URL as `key`; a value outside
    [min_value, max_value] from a link is moved to the nearest end."""

    def parse(raw: list[str]) -> int | None:
        text = raw[0].strip() if raw else ""
        if not text.isdigit():
            return None
        return min(max(int(text), min_value), max_value)

    _prepare(key, parse, min(max(int(value), min_value), max_value))
    result = _where(where).number_input(
        label, key=key, min_value=min_value, max_value=max_value, step=step, **kwargs
    )
    _publish(key, int(result))
    return int(result)


def text_input(label: str, *, key: str, max_chars: int, where: Any = None, **kwargs: Any) -> str:
    """`st.text_input` in the URL as `key` (left out when empty; too long: ignored)."""

    def parse(raw: list[str]) -> str | None:
        return raw[0] if raw and len(raw[0]) <= max_chars else None

    _prepare(key, parse, "")
    result = str(_where(where).text_input(label, key=key, max_chars=max_chars, **kwargs))
    _publish(key, result)
    return result


def date_input(
    label: str,
    *,
    key: str,
    value: date,
    min_value: date,
    max_value: date,
    where: Any = None,
    **kwargs: Any,
) -> date:
    """One day in the URL as `key=YYYY-MM-DD` (outside the bounds: ignored, with a note
    from `check_params`)."""

    def parse(raw: list[str]) -> date | None:
        day = _parse_date(raw[0]) if raw else None
        return day if day is not None and min_value <= day <= max_value else None

    _prepare(key, parse, min(max(value, min_value), max_value))
    result = _where(where).date_input(
        label, key=key, min_value=min_value, max_value=max_value, **kwargs
    )
    day = result if isinstance(result, date) else value
    _publish(key, day)
    return day


def finish(page_path: str) -> None:
    """End of every run (app.py calls it after the page, also when the page stopped early):
    write the view into the URL and fill the sidebar's "Copy link"."""
    wanted: dict[str, list[str]] = dict(st.session_state.get(_RUN_PARAMS) or {})
    order = {name: n for n, name in enumerate((*GLOBAL_PARAMS, *PAGE_PARAMS))}
    wanted = dict(sorted(wanted.items(), key=lambda kv: order.get(kv[0], len(order))))
    params = st.query_params
    current = {name: params.get_all(name) for name in params}
    if current != wanted:
        params.from_dict(wanted)
    slot = st.session_state.get(_LINK_SLOT)
    if slot is not None:
        with slot:
            _copy_link(page_path, wanted)


def query_string(params: Mapping[str, Sequence[str]]) -> str:
    """The URL's query string for these parameters, encoded as Streamlit writes it."""
    return urlencode([(k, v) for k, values in params.items() for v in values])


def pinned(view_: View, params: Mapping[str, Sequence[str]]) -> dict[str, list[str]] | None:
    """The same parameters with the rolling window replaced by the dates it covers
    (`range=custom&from=…&to=…`), or None when the dates are already fixed."""
    if list(params.get("range") or []) == ["custom"]:
        return None
    start, end = view_.dates()
    if start is None:
        first = call("stats", Filters()).get("first_published")
        zone = ZoneInfo(view_.timezone)
        start = (
            pd.Timestamp(first).to_pydatetime().replace(tzinfo=UTC).astimezone(zone).date()
            if first
            else view_.now.astimezone(zone).date()
        )
    if end is None:
        end = view_.now.astimezone(ZoneInfo(view_.timezone)).date()
    result: dict[str, list[str]] = {}
    for name, values in params.items():
        if name == "range":
            result["range"] = ["custom"]
            result["from"] = [start.isoformat()]
            result["to"] = [end.isoformat()]
        elif name not in ("from", "to"):
            result[name] = list(values)
    return result


def _app_root() -> str:
    """scheme://host[:port][/base path] of the app as the browser reached it ("" outside a
    browser): the page's own path is not part of it."""
    url = urlsplit(st.context.url or "")
    if not url.scheme or not url.netloc:
        return ""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{url.scheme}://{url.netloc}" + (f"/{base}" if base else "")


def _copy_link(page_path: str, params: Mapping[str, list[str]]) -> None:
    current = st.session_state.get("_monitor_view")
    path = f"{_app_root()}/{page_path}"
    links = {"rolling": f"{path}?{query_string(params)}"}
    fixed = pinned(current, params) if isinstance(current, View) else None
    if fixed is not None and isinstance(current, View):
        start, end = fixed["from"][0], fixed["to"][0]
        links["pinned"] = f"{path}?{query_string(fixed)}"
        labels = {
            "rolling": f"{current.window}, moving on (what the address bar holds)",
            "pinned": f"the dates {start} to {end}, fixed (whole days in {current.timezone})",
        }
    else:
        labels = {"rolling": "this view (its dates are fixed)"}
    with st.popover("Copy link", icon=":material/link:", width="stretch"):
        kind = "rolling"
        if len(links) > 1:
            kind = st.radio(
                "The link shows",
                list(links),
                format_func=labels.__getitem__,
                key="_monitor_link_kind",
            )
        st.code(links[kind], language=None, wrap_lines=True)
        st.caption(
            "Everything on this page is in the link: filters, time zone and the page's own "
            "choices. Copy it with the button at the right of the box."
        )


# -- the sidebar ------------------------------------------------------------------------------


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


def _suggest_bucket(length: timedelta | None) -> str:
    if length is None or length > timedelta(days=400):
        return "month"
    if length <= timedelta(days=3):
        return "hour"
    if length <= timedelta(days=120):
        return "day"
    return "week"


def _link_names_view(params: Mapping[str, Any]) -> bool:
    return any(name in GLOBAL_PARAMS or name in PAGE_PARAMS for name in params)


def _zone_choice(notes: list[str]) -> tuple[list[str], str]:
    """The zone list and the default zone: the browser's for a bare visit; UTC for a link
    that names a view but no zone, so that everyone who opens it sees the same."""
    params = st.query_params
    zones = _zones()
    default = _viewer_timezone()
    if "tz" not in st.session_state and _link_names_view(params):
        valid = False
        for value in _values(params, "tz")[:1]:
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
    for value in _values(params, "tz")[:1]:
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
    st.session_state[_RUN_PARAMS] = {}
    options: dict[str, list[str]] = call("options")
    notes = check_params(options)
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
            max_value=_latest_date(),
            key="from",
            where=sb,
        )
        end = date_input(
            "To (inclusive)",
            value=today,
            min_value=EARLIEST,
            max_value=_latest_date(),
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
    search = text_input("Search title and text", key="q", max_chars=SEARCH_MAX, where=sb)
    # Filled at the end of the run, when the page's own widgets are in the URL too.
    st.session_state[_LINK_SLOT] = sb.container()
    filters = Filters(
        since=since,
        until=until,
        feeds=tuple(feeds),
        authors=tuple(authors),
        tags=tuple(dict.fromkeys(tag_key(t) for t in tags)),  # one view, one cache key
        languages=tuple(languages),
        search=search.strip() or None,
    )
    if range_key == "all time":
        # Bucket by how much history there is, not by "forever".
        first = call("stats", Filters()).get("first_published")
        length = now - pd.Timestamp(first).to_pydatetime().replace(tzinfo=UTC) if first else None
    result = View(
        filters=filters,
        timezone=zone,
        window=window,
        bucket=_suggest_bucket(length),
        now=now_key,
    )
    st.session_state["_monitor_view"] = result
    st.session_state["_monitor_notes"] = notes
    return result


def show_notes() -> None:
    """The notes about the URL (dropped parameters, the zone of a link), at the top."""
    for note in st.session_state.get("_monitor_notes", []):
        if note == UTC_NOTE:
            st.info(note, icon=":material/schedule:")
        else:
            st.warning(note, icon=":material/link_off:")


def _route_through_app() -> None:
    """Make sure app.py is the router, even when the server's first visitor opens a page URL.

    Streamlit treats an app with a pages/ folder as an old-style multipage app until app.py
    has called st.navigation once; a server's very first request for /authors would then run
    pages/authors.py on its own, without the sidebar and the page list, for every session.
    Switching that mode off and rerunning makes the same URL go through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager  # noqa: PLC0415 - see above

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def view() -> View:
    """The View app.py built for this run (a page run on its own builds it here)."""
    _route_through_app()
    current = st.session_state.get("_monitor_view")
    if not isinstance(current, View):
        current = build_view()
    return current


def bucket_for(view_: View, by: str) -> tuple[str, str | None]:
    """`by`, or a coarser bucket (with a note) when the window would need too many bars."""
    f = view_.filters
    if f.since is None:
        first = call("stats", f).get("first_published")
        start = pd.Timestamp(first).to_pydatetime().replace(tzinfo=UTC) if first else view_.now
    else:
        start = f.since
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


# -- drawing --------------------------------------------------------------------------------


def is_empty(table: pd.DataFrame | None, *, column: str | None = "count") -> bool:
    """True (and the empty-state note shown) when a table has nothing to draw."""
    if (
        table is None
        or table.empty
        or (column is not None and column in table and not table[column].astype(float).sum())
    ):
        st.info(EMPTY_MESSAGE, icon=":material/inbox:")
        return True
    return False


def show_empty(view_: View, need: str = "articles") -> None:
    """The empty state with its true cause (`analyze.empty_state`): an empty store, a date
    range without articles, a search without hits, a view whose articles have no tags..."""
    state = call("empty_state", view_.filters, need=need, timezone=view_.timezone)
    st.info(md_escape(state.message, limit=400), icon=":material/inbox:")


def _csv(table: pd.DataFrame) -> bytes:
    # The project's one CSV writer: feed text that a spreadsheet would run as a formula is
    # neutralised there, for every chart's data as for the article exports.
    out = io.StringIO()
    analyze.write_csv(out, table.to_dict("records"), columns=list(table.columns))
    return out.getvalue().encode("utf-8")


def download(
    table: pd.DataFrame,
    name: str,
    *,
    label: str = "Download data (CSV)",
    named_by_view: bool = True,
) -> None:
    """A CSV download of exactly the table a chart was drawn from (made only on a click),
    named after its view: `frequency_2026-11-01_2026-11-20_tag-trump.csv`.
    `named_by_view=False` for a table the filters do not narrow (feeds, stopwords)."""
    current = st.session_state.get("_monitor_view")
    named = named_by_view and isinstance(current, View)
    st.download_button(
        label,
        data=lambda: _csv(table),
        file_name=current.filename(name, "csv") if named else f"{name}.csv",
        mime="text/csv",
        key=f"dl-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _cloud_png(words: tuple[tuple[str, float], ...], width: int, height: int) -> bytes:
    image = charts.word_cloud(dict(words), width=width, height=height)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def cloud_image(weights: Mapping[str, float], *, width: int, height: int) -> bytes:
    """A word cloud as PNG bytes, drawn once per set of words and size (drawing one takes
    about 0.4 s, more than every query of the page). ValueError when there is nothing to
    draw."""
    words = tuple((str(k), float(v)) for k, v in weights.items())
    return _cloud_png(words, width, height)


def chart(
    figure: Any,
    table: pd.DataFrame,
    name: str,
    *,
    on_select: Callable[[], None] | None = None,
    config: dict[str, Any] | None = None,
) -> None:
    """A plotly figure (charts.py styles it: Streamlit's theme off) and its data as CSV."""
    figure = charts.escape_figure(figure)  # a no-op for charts.py's; a page's own is escaped
    options: dict[str, Any] = {"theme": None, "config": config or charts.CONFIG}
    if on_select is not None:
        st.plotly_chart(
            figure, key=f"chart-{name}", on_select=on_select, selection_mode="points", **options
        )
    else:
        st.plotly_chart(figure, key=f"chart-{name}", **options)
    download(table, name)


def safe_url(value: object) -> str | None:
    """The URL if it is http(s), else None: a javascript: or data: link is never offered."""
    if isinstance(value, str) and re.match(r"^https?://[^\s]+$", value.strip(), re.IGNORECASE):
        return value.strip()
    return None


def _joined(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "tolist"):
        return _joined(value.tolist())
    return str(value)


def local_times(series: pd.Series, zone: str) -> pd.Series:
    """Naive UTC timestamps from the store as naive local times in `zone`, for display."""
    stamps = pd.to_datetime(series)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert(zone).dt.tz_localize(None)


# Where an article's time came from, in words; "first seen" is marked: the feed gave no usable
# date, so the time is when monitor first fetched the entry, not when it was published.
DATE_SOURCE_LABELS = {
    "feed": "",
    "feed-updated": "feed's updated time",
    "page": "article page",
    "page-relative": "article page (relative, e.g. “2 hours ago”)",
    "first-seen": "⚠ first seen",
    "first_seen": "⚠ first seen",
}
UNDATED_NOTE = (
    "⚠ first seen: the feed gave no usable date for the article, so its time is when monitor "
    "first fetched it, not when it was published."
)


def _date_label(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return DATE_SOURCE_LABELS.get(text, text)


def undated(table: pd.DataFrame) -> bool:
    """Whether any row's time is its first-seen time (the table then says what that means)."""
    if "date_source" not in table:
        return False
    return bool(table["date_source"].map(_date_label).str.startswith("⚠").any())


def article_table(table: pd.DataFrame, zone: str, *, height: int | str = "auto") -> None:
    """Articles as a table: published (local), where that time came from (first-seen times
    marked), title, a link (http/https only), feed, authors, tags, reading time. Every value
    is plain text in the grid."""
    sources = table["date_source"] if "date_source" in table else pd.Series([None] * len(table))
    shown = pd.DataFrame(
        {
            "published": local_times(table["published"], zone),
            "dated_by": [_date_label(v) for v in sources],
            "title": table["title"].astype(str),
            "link": table["url"].map(safe_url),
            "feed": table["feeds"].map(_joined),
            "authors": table["authors"].map(_joined),
            "tags": table["tags"].map(lambda v: _joined(v)),
            "reading_minutes": table["reading_minutes"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        height=height,
        column_config={
            "published": st.column_config.DatetimeColumn(
                f"Published ({zone})", format="YYYY-MM-DD HH:mm"
            ),
            "dated_by": st.column_config.TextColumn(
                "Date from",
                help="Blank: the feed's publication date. ⚠ first seen: the feed gave no usable "
                "date; the time is when monitor first fetched the article.",
            ),
            "title": st.column_config.TextColumn("Title", width="large"),
            "link": st.column_config.LinkColumn(
                "Link", display_text="open ↗", help="Only http(s) links are shown"
            ),
            "feed": "Feed",
            "authors": "Authors",
            "tags": "Tags",
            "reading_minutes": st.column_config.NumberColumn("Reading (min)", format="%d"),
        },
    )


def joined(value: object) -> str:
    """A list cell (authors, tags) as one plain string."""
    return _joined(value)


def tag_keys_for(table: pd.DataFrame, labels: list[str]) -> list[str]:
    """Tag keys for labels clicked in a tags bar chart (display forms or keys)."""
    by_label = {str(r["tag"]): str(r["key"]) for r in table.to_dict("records")}
    keys = {str(k) for k in table["key"]}
    found = []
    for label in labels:
        key = by_label.get(label) or (label if label in keys else None)
        if key and key not in found:
            found.append(key)
    return found


def change_stopwords(language: str, typed: str, *, add: bool) -> None:
    """Add or remove user stopwords; refused in read-only mode (the form is hidden too)."""
    if read_only():
        st.error("This dashboard is read-only (MONITOR_READ_ONLY=1).")
        return
    words = [w for w in re.split(r"[\s,;]+", typed) if w]
    if not words:
        st.warning("Type at least one word.")
        return
    try:
        if add:
            count = analyze.add_stopwords(store(), language, words)
        else:
            count = analyze.remove_stopwords(store(), language, words)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=200))
        return
    # Rerun so the clouds above are drawn without the words; the note survives the rerun.
    flash(f"{'Added' if add else 'Removed'} {count} words.")
    st.rerun()


FLASH_WARNINGS = 20  # failed feeds named one by one after "Fetch now"; the rest counted


@dataclass(frozen=True)
class Flash:
    """What a write did, shown once on the next run (handlers rerun the page after a write, so
    that everything above them is drawn from the store as it is now). Plain text: escaped when
    shown."""

    success: str | None = None
    warnings: tuple[str, ...] = ()
    log: str | None = None


def flash(
    message: str | None,
    *,
    warnings: Sequence[str] = (),
    log: str | None = None,
    place: str = "",
) -> None:
    """Leave a note for the next run: `show_flash(place)` shows it (app.py shows the unplaced
    ones at the top of every page; the Sources page shows its own next to each form)."""
    st.session_state[f"_monitor_flash{place and ':' + place}"] = Flash(
        message, tuple(warnings), log
    )


def show_flash(place: str = "") -> None:
    """Show (and forget) a note left by `flash`."""
    note = st.session_state.pop(f"_monitor_flash{place and ':' + place}", None)
    if isinstance(note, str):
        note = Flash(note)
    if not isinstance(note, Flash):
        return
    if note.success:
        st.success(_lines(note.success.split("\n")), icon=":material/check:")
    if note.warnings:
        shown = list(note.warnings[:FLASH_WARNINGS])
        if len(note.warnings) > FLASH_WARNINGS:
            more = len(note.warnings) - FLASH_WARNINGS
            shown.append(f"… and {more} more (see the table above)")
        st.warning(_lines(shown), icon=":material/warning:")
    if note.log:
        st.code(note.log, language=None)


def export(f: Filters, fmt: str) -> bytes:
    """Every article in the view as CSV or JSON bytes (the rows and columns of `monitor export`)."""
    return analyze.export_articles(store(), f, fmt)


# -- write handlers (the Sources page); each refuses in read-only mode on its own -----------

_CHOICE = "_monitor_feed_choice"


@dataclass(frozen=True)
class _PendingChoice:
    """A web page typed into "Add a feed" that names several feeds: offered to pick from."""

    page_url: str
    links: tuple[subscriptions.FeedLink, ...]
    name: str
    full_text: bool


def _refuse_read_only() -> bool:
    if read_only():
        st.error("This dashboard is read-only (MONITOR_READ_ONLY=1).")
        return True
    return False


def _lines(lines: Sequence[str]) -> str:
    return "  \n".join(md_escape(line, limit=600) for line in lines)


def _written(message: str | None, *, place: str, **note: Any) -> None:
    """After a write: forget every cached query result and rerun, so the feeds table and the
    counts show the store as it is now, with the outcome shown next to the form used."""
    _cached.clear()
    flash(message, place=place, **note)
    st.rerun()  # raises: nothing after a call to this runs


def add_feed(url: str, name: str, full_text: bool) -> None:
    """Subscribe to a feed typed into the page: fetched once to check it, a web page searched
    for its feeds (several: offered by `feed_choice`), private addresses refused (from_web)."""
    if _refuse_read_only():
        return
    st.session_state.pop(_CHOICE, None)
    try:
        with st.spinner("Checking the feed…"):
            lines = subscriptions.add_feeds(
                store(),
                [url],
                name=name.strip() or None,
                full_text=full_text,
                from_web=True,
                check=True,
            )
    except subscriptions.FeedChoice as choice:
        st.session_state.pop("feed-choice", None)
        st.session_state[_CHOICE] = _PendingChoice(choice.page_url, choice.links, name, full_text)
        return
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=600))
        return
    _written("\n".join([*lines, "Fetch now (below) to get its articles."]), place="add")


def feed_choice() -> None:
    """The feeds a web page named, to pick one (drawn under "Add a feed" while one waits)."""
    pending = st.session_state.get(_CHOICE)
    if not isinstance(pending, _PendingChoice) or read_only():
        return
    links = pending.links
    st.info(
        f"{_code(pending.page_url)} is a web page that names {len(links)} feeds. "
        "Pick the one to add:",
        icon=":material/rss_feed:",
    )
    index = st.radio(
        "Feeds named by the page",
        range(len(links)),
        format_func=lambda i: _link_choice(links[i]),
        key="feed-choice",
        label_visibility="collapsed",
    )
    add, cancel = st.columns(2)
    if add.button("Add the chosen feed", icon=":material/add:", key="add-chosen"):
        add_feed(links[int(index or 0)].url, pending.name, pending.full_text)
    if cancel.button("Cancel", key="cancel-choice"):
        st.session_state.pop(_CHOICE, None)
        st.rerun()


def _code(url: str) -> str:
    """A URL as a markdown code span: shown as typed, never a link (a click on a choice's
    label selects it instead of leaving the page). A backtick is percent-encoded."""
    return "`" + url.replace("`", "%60")[:300] + "`"


def _link_choice(link: subscriptions.FeedLink) -> str:
    """A feed link as a radio label (markdown): format and title, then the URL."""
    title = f": {md_escape(link.title, limit=120)}" if link.title else ""
    return f"{link.format}{title} · {_code(link.url)}"


def import_opml(content: bytes | None) -> None:
    """Subscribe to every feed in an uploaded OPML file."""
    if _refuse_read_only():
        return
    if not content:
        st.warning("Choose an OPML file first.")
        return
    try:
        lines = subscriptions.import_opml(store(), content, from_web=True)
    except (ValueError, StoreError, subscriptions.OpmlError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    _written(lines[0], warnings=lines[1:], place="opml")


def _feed_names() -> dict[str, str]:
    """Feed URL -> the name the table shows (its own name, else its title, else the URL)."""
    feeds: pd.DataFrame = call("feeds")
    names: dict[str, str] = {}
    for row in feeds.to_dict("records"):
        label = next((v for v in (row["name"], row["title"]) if isinstance(v, str) and v), None)
        names[str(row["url"])] = f"{label} ({row['url']})" if label else str(row["url"])
    return names


def _feeds(count: int) -> str:
    return "1 feed" if count == 1 else f"{count} feeds"


def fetch_now(*, all_feeds: bool = True, first: str | None = None, place: str = "fetch") -> None:
    """Fetch every subscribed feed (only the due ones without all_feeds), with a progress bar;
    then the page is drawn again: counts, a warning naming each feed that failed, the log."""
    if _refuse_read_only():
        return
    names = _feed_names()
    bar = st.progress(0.0, text="Starting…")
    log: list[str] = []

    def progress(done: int, total: int, line: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"{done} of {total} feeds")
        log.append(line)

    try:
        summary = subscriptions.fetch_now(store(), on_progress=progress, all_feeds=all_feeds)
    except StoreError as exc:
        st.error(md_escape(exc, limit=300))
        return
    bar.progress(1.0, text="Done")
    if not log:
        _written("\n".join(filter(None, [first, "No feeds to fetch."])), place=place)
        return
    counts = (
        f"{_feeds(summary['sources'])} fetched: {summary['new']} new, {summary['updated']} "
        f"updated, {summary['unchanged']} unchanged articles; {summary['failed']} failed"
    )
    failures = [f"{names.get(url, url)}: {error}" for url, error in summary["failures"]]
    _written(
        "\n".join(filter(None, [first, counts])),
        warnings=[f"{_feeds(len(failures))} failed:", *failures] if failures else (),
        log="\n".join(log),
        place=place,
    )


def remove_feed(url: str) -> None:
    """Unsubscribe and delete the articles only this feed carried."""
    if _refuse_read_only():
        return
    try:
        line = subscriptions.remove_feed(store(), url, from_web=True)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    _written(line, place="manage")


def retry_feed(url: str) -> None:
    """A feed in backoff made due now, then the due feeds fetched (this one among them)."""
    if _refuse_read_only():
        return
    try:
        line = subscriptions.retry_feed(store(), url, from_web=True)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    fetch_now(all_feeds=False, first=line, place="manage")


def enable_feed(url: str) -> None:
    """A disabled feed (410 Gone, or by hand) enabled again and fetched with the due feeds."""
    if _refuse_read_only():
        return
    try:
        line = subscriptions.enable_feed(store(), url, from_web=True)
    except (ValueError, StoreError) as exc:
        st.error(md_escape(exc, limit=300))
        return
    fetch_now(all_feeds=False, first=line, place="manage")
