"""Widgets whose values live in the URL, defaults included (see `url` for why not Streamlit's
`bind="query-params"`), and the notes for link values a page cannot use.

Each takes `key` (the URL parameter and the session-state key) and `where` (st.sidebar, a
column; the page by default); other arguments go to Streamlit.

Each also gives Streamlit the value in session state as the widget's own default (`index`,
`default`, `value`). Session state decides what the script reads, but the browser draws a
widget from its own copy of the value, and after a page switch it sometimes has none: it
then drew the widget's default, the first choice ("24 hours"), while the URL and the data
said "90 days", and the next click anywhere sent that first choice back as the user's
(tests/test_browser.py `test_a_page_switch_keeps_the_sidebar`). With a key the default is
not part of a widget's identity in Streamlit 1.67, so this changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import streamlit as st

from monitor import analyze
from pages._ui.text import md_escape
from pages._ui.url import parse_date, prepare, publish, values


def _where(where: Any) -> Any:
    return st if where is None else where


def _index(choices: Sequence[Any], value: Any) -> int | None:
    for n, choice in enumerate(choices):
        if choice == value:
            return n
    return None


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
    `match` finds the choice a URL value names in another form (see `tag_matcher`)."""
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

    current = prepare(key, parse, default)
    # None: nothing chosen is a state of its own (a placeholder shows).
    kwargs["index"] = _index(choices, current)
    value = _where(where).selectbox(label, choices, key=key, **kwargs)
    publish(key, value)
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

    current = prepare(key, parse, [])
    value = list(
        _where(where).multiselect(label, choices, key=key, default=list(current), **kwargs)
    )
    publish(key, value)
    return value


def toggle(label: str, *, key: str, value: bool = False, where: Any = None, **kwargs: Any) -> bool:
    """`st.toggle` in the URL as `key=true` or `key=false`."""

    def parse(raw: list[str]) -> bool | None:
        text = raw[0].strip().lower() if raw else ""
        return {"true": True, "false": False}.get(text)

    current = prepare(key, parse, bool(value))
    result = bool(_where(where).toggle(label, key=key, value=bool(current), **kwargs))
    publish(key, result)
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

    current = prepare(key, parse, min(max(int(value), min_value), max_value))
    result = _where(where).number_input(
        label,
        key=key,
        min_value=min_value,
        max_value=max_value,
        step=step,
        value=current,
        **kwargs,
    )
    publish(key, int(result))
    return int(result)


def text_input(label: str, *, key: str, max_chars: int, where: Any = None, **kwargs: Any) -> str:
    """`st.text_input` in the URL as `key` (left out when empty; too long: ignored)."""

    def parse(raw: list[str]) -> str | None:
        return raw[0] if raw and len(raw[0]) <= max_chars else None

    current = prepare(key, parse, "")
    result = str(
        _where(where).text_input(label, key=key, max_chars=max_chars, value=str(current), **kwargs)
    )
    publish(key, result)
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
    from `url.check_params`)."""

    def parse(raw: list[str]) -> date | None:
        day = parse_date(raw[0]) if raw else None
        return day if day is not None and min_value <= day <= max_value else None

    current = prepare(key, parse, min(max(value, min_value), max_value))
    result = _where(where).date_input(
        label, key=key, min_value=min_value, max_value=max_value, value=current, **kwargs
    )
    day = result if isinstance(result, date) else value
    publish(key, day)
    return day


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
    for value in values(st.query_params, name)[:1]:
        if value not in choices and (match is None or match(value) is None):
            st.warning(
                f"URL parameter `{name}`: {md_escape(value, limit=40)} is not one of the "
                "choices on this page; ignored",
                icon=":material/link_off:",
            )
