"""The end of every run: the view written into the address bar, and the sidebar's "Copy link"
(the rolling view, or the same view pinned to the dates it covers now).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import streamlit as st

from monitor.models import Filters
from pages._ui import url, view

LINK_SLOT = "_monitor_link_slot"  # the sidebar's place for "Copy link", filled at the end


def finish(page_path: str) -> None:
    """End of every run (app.py calls it after the page, also when the page stopped early):
    write the view into the URL and fill the sidebar's "Copy link"."""
    wanted = url.run_params()
    params = st.query_params
    current = {name: params.get_all(name) for name in params}
    if current != wanted:
        params.from_dict(wanted)
    slot = st.session_state.get(LINK_SLOT)
    if slot is not None:
        with slot:
            _copy_link(page_path, wanted)


def query_string(params: Mapping[str, Sequence[str]]) -> str:
    """The URL's query string for these parameters, encoded as Streamlit writes it."""
    return urlencode([(k, v) for k, values in params.items() for v in values])


def pinned(view_: view.View, params: Mapping[str, Sequence[str]]) -> dict[str, list[str]] | None:
    """The same parameters with the rolling window replaced by the dates it covers
    (`range=custom&from=…&to=…`), or None when the dates are already fixed."""
    if list(params.get("range") or []) == ["custom"]:
        return None
    zone = ZoneInfo(view_.timezone)
    start, end = view_.dates()
    if start is None:
        first = view.first_published(Filters())
        start = (first or view_.now).astimezone(zone).date()
    if end is None:
        end = view_.now.astimezone(zone).date()
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
    address = urlsplit(st.context.url or "")
    if not address.scheme or not address.netloc:
        return ""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{address.scheme}://{address.netloc}" + (f"/{base}" if base else "")


def _copy_link(page_path: str, params: Mapping[str, list[str]]) -> None:
    current = view.current()
    path = f"{_app_root()}/{page_path}"
    links = {"rolling": f"{path}?{query_string(params)}"}
    fixed = pinned(current, params) if current is not None else None
    if fixed is not None and current is not None:
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
