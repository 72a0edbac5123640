"""Untrusted text made safe to show: markdown escaping, one-line plain text, http(s) links.

Feed titles, authors, tags and URL parameters come from outside; everything the dashboard
writes into markdown or a file name goes through here first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:$~&\"'=/@%^?;,])")
# Bidi controls and other invisible format characters from feed text or a URL would reorder a
# caption or a file name (a right-to-left override shows "gpj.exe" as "exe.jpg").
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
CAPTION_VALUES = 3  # values of one filter named before "and N more"


def md_escape(text: object, *, limit: int = 80) -> str:
    """Text safe inside Streamlit markdown: every punctuation mark backslash-escaped.

    Untrusted values (URL parameters, feed names in messages) go through this before any
    st.warning/st.error/st.caption; lines are joined and long values cut.
    """
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", value)


def lines(texts: Sequence[str]) -> str:
    """Several lines of untrusted text as one markdown block, each escaped."""
    return "  \n".join(md_escape(line, limit=600) for line in texts)


def plain(value: object, limit: int = 40) -> str:
    """One line of text with the invisible format characters removed, cut to `limit`."""
    text = " ".join(_INVISIBLE.sub("", str(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listed(values: Sequence[str], limit: int = 40) -> str:
    """The first few values in plain text, then "and N more"."""
    shown = [plain(v, limit) for v in values[:CAPTION_VALUES]]
    more = len(values) - CAPTION_VALUES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def code_span(url: str) -> str:
    """A URL as a markdown code span: shown as typed, never a link (a click on a choice's
    label selects it instead of leaving the page). A backtick is percent-encoded."""
    return "`" + url.replace("`", "%60")[:300] + "`"


def safe_url(value: object) -> str | None:
    """The URL if it is http(s), else None: a javascript: or data: link is never offered."""
    if isinstance(value, str) and re.match(r"^https?://[^\s]+$", value.strip(), re.IGNORECASE):
        return value.strip()
    return None


def joined(value: object) -> str:
    """A list cell (authors, tags) as one plain string."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "tolist"):
        return joined(value.tolist())
    return str(value)
