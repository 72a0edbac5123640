"""The URL is the view: which parameters the app reads, how a widget's value comes from the
address and goes back into it.

Every widget that shapes the view is drawn through `widgets`, never with Streamlit's
`bind="query-params"`: a bound widget leaves its default out of the URL, and several defaults
here depend on the viewer (the browser's zone, "today" there) or on the data (the top tag, the
first author), so a link without them showed each receiver something else. Here the URL is
read once per widget (on the session's first sight of it, and on back or forward), the widget
keeps its value in session state, and at the end of every run `link.finish` writes the whole
view, defaults included, back: the address bar itself is the link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from monitor import analyze
from monitor.models import UNITS
from pages._ui.text import md_escape
from pages._ui.view import BUCKETS, EARLIEST, RANGES, SEARCH_MAX

# Every query parameter the app understands, global or page-specific. Anything else in the URL
# is dropped with a note. Page widgets validate their own values (`check_params` says which
# are dropped first).
GLOBAL_PARAMS = ("range", "from", "to", "tz", "feed", "author", "tag", "lang", "q", "count")
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
    "weight",
    "perlang",
    "k",
    "topic",
    "story",
    # The Attention page's query boxes (pages/_ui/attention.py).
    "aq1",
    "aq2",
    "aq3",
    "aq4",
    "aq5",
    "aq6",
)
SEEDED = "_monitor_seeded"  # widget keys whose URL value has been read in this session
RUN_PARAMS = "_monitor_run_params"  # this run's URL, built as the widgets are drawn


def latest_date() -> date:
    """The last day a date widget or a link may name (a year ahead: clocks differ)."""
    return datetime.now(UTC).date() + timedelta(days=366)


def parse_date(text: str) -> date | None:
    """A YYYY-MM-DD day from a link, or None when it is not one or out of range."""
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if EARLIEST <= value <= latest_date() else None


def values(params: Mapping[str, Any], name: str) -> list[str]:
    """Every value of `name` in the URL (or in a plain mapping), as text."""
    getter = getattr(params, "get_all", None)
    if getter is not None:
        return [str(v) for v in getter(name)]
    raw = params.get(name)
    if raw is None:
        return []
    return [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]


def names_view(params: Mapping[str, Any]) -> bool:
    """Whether an address names a view (any parameter the app knows)."""
    return any(name in GLOBAL_PARAMS or name in PAGE_PARAMS for name in params)


def check_params(options: Mapping[str, list[str]]) -> list[str]:
    """Notes on URL parameters that will be dropped; junk parameter names are removed here.

    The widgets drop invalid values by themselves, silently; this says which and why first.
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
        for value in values(params, name)[:1]:
            if parse_date(value) is None:
                notes.append(
                    f"URL parameter `{name}`: {md_escape(value, limit=30)} is not a date "
                    f"(YYYY-MM-DD, {EARLIEST.year} to next year); ignored"
                )
    for value in values(params, "tz")[:1]:
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
            for v in values(params, name)
            if v not in known
            and not (name == "tag" and analyze.tag_choice(v, known))  # any form of a tag
        ]
        if unknown:
            shown = ", ".join(md_escape(v, limit=40) for v in unknown[:3])
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            notes.append(f"URL parameter `{name}`: not in this store: {shown}{more}; ignored")
    for value in values(params, "q")[:1]:
        if len(value) > SEARCH_MAX:
            notes.append(f"URL parameter `q`: longer than {SEARCH_MAX} characters; ignored")
    for name, allowed in (
        ("count", UNITS),
        ("by", BUCKETS),
        ("split", ("none", "feed", "author")),
        ("sort", ("published", "title", "reading time")),
        ("side", ("authors", "feeds", "tags", "periods")),
        ("weight", analyze.WEIGHTS),
    ):
        for value in values(params, name)[:1]:
            if value not in allowed:
                notes.append(f"URL parameter `{name}`: not one of {', '.join(allowed)}; ignored")
    for name in ("top", "page", "k", "topic"):
        for value in values(params, name)[:1]:
            if not value.isdigit() or int(value) < 1:
                notes.append(f"URL parameter `{name}`: not a positive whole number; ignored")
    for name in ("compare", "asc", "perlang"):
        for value in values(params, name)[:1]:
            if value.lower() not in ("true", "false"):
                notes.append(f"URL parameter `{name}`: not true or false; ignored")
    return notes


def _history_navigation() -> bool:
    """True for a run started by the browser's back or forward button to an address that
    names a view: the URL wins then. An address without any (the page's path before this app
    filled in its parameters, pushed by a page switch or a first visit) keeps the view."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False)) and names_view(st.query_params)


def _url_value(key: str) -> list[str] | None:
    """The URL's values for `key` when they decide the widget this run, else None."""
    seeded = st.session_state.get(SEEDED)
    if not isinstance(seeded, set):
        seeded = set()
        st.session_state[SEEDED] = seeded
    first = key not in seeded
    seeded.add(key)
    if not (first or _history_navigation()):
        return None
    return values(st.query_params, key)


def serialize(value: Any) -> list[str]:
    """A widget's value as URL values (a list, a day, true/false, or text)."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, date):
        return [value.isoformat()]
    return [str(value)]


def prepare(key: str, parse: Callable[[list[str]], Any], default: Any) -> Any:
    """Put the widget's value into session state before it is drawn: the URL's (when it is
    read this run and valid), else the value the widget already has, else `default`.
    Returns that value, for the widget's own default (see `widgets`).

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
        fixed = parse(serialize(state[key]))
        if fixed is None:
            state[key] = default
        elif fixed != state[key]:
            state[key] = fixed
    return state[key]


def publish(key: str, value: Any) -> None:
    """Record the widget's value for this run's URL (empty values are left out)."""
    params = st.session_state.get(RUN_PARAMS)
    if not isinstance(params, dict):
        params = {}
        st.session_state[RUN_PARAMS] = params
    found = serialize(value)
    if found and found != [""]:
        params[key] = found
    else:
        params.pop(key, None)


def start_run() -> None:
    """Forget the last run's URL: this run's widgets publish theirs."""
    st.session_state[RUN_PARAMS] = {}


def run_params() -> dict[str, list[str]]:
    """This run's URL so far, in the app's parameter order."""
    wanted: dict[str, list[str]] = dict(st.session_state.get(RUN_PARAMS) or {})
    order = {name: n for n, name in enumerate((*GLOBAL_PARAMS, *PAGE_PARAMS))}
    return dict(sorted(wanted.items(), key=lambda kv: order.get(kv[0], len(order))))
