"""monitor: RSS/Atom feeds and article pages into DuckDB, charts in Streamlit.

The package is a library with no Streamlit in it; app.py and pages/ draw what it returns.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
USER_AGENT = f"monitor/{__version__} (media-monitoring dashboard; +https://github.com/monitor-dashboard/monitor)"


class LazyModule:
    """A module imported when one of its attributes is first used.

    The command line's query commands should start fast, so what only some commands need
    (pandas, fetching, parsing, OPML) is imported on first use rather than at start-up.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
