"""monitor: RSS/Atom feeds and article pages into DuckDB, charts in Streamlit.

The package is a library with no Streamlit in it; app.py and pages/ draw what it returns.
"""

from __future__ import annotations

__version__ = "0.1.0"
USER_AGENT = f"monitor/{__version__} (media-monitoring dashboard; +https://github.com/monitor-dashboard/monitor)"
