"""Monitor's settings: every MONITOR_* environment variable is read here and nowhere else.

`load()` reads them all into a frozen `Settings`; the functions below read one each (a command
that does not use a setting is not stopped by a bad value of it). `SETTINGS` names each
setting with its default and what it does; a test checks that README's settings table has
every one.

A mistyped yes/no value must not quietly mean "off": `MONITOR_READ_ONLY=ture` on a shared
dashboard would leave every write control open. So a value is on, off, or an error that names
the setting and the value. Unset and empty mean the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.errors import InputError

__all__ = [
    "OFF",
    "ON",
    "SETTINGS",
    "SettingError",
    "Settings",
    "allow_private_networks",
    "db",
    "debug",
    "flag",
    "load",
    "read_only",
    "story",
]

ON = frozenset({"1", "true", "yes", "y", "on", "enabled"})
OFF = frozenset({"0", "false", "no", "n", "off", "disabled", ""})

DB = "MONITOR_DB"
READ_ONLY = "MONITOR_READ_ONLY"
ALLOW_PRIVATE_NETWORKS = "MONITOR_ALLOW_PRIVATE_NETWORKS"
DEBUG = "MONITOR_DEBUG"
STORY_THRESHOLD = "MONITOR_STORY_THRESHOLD"
STORY_TITLE_THRESHOLD = "MONITOR_STORY_TITLE_THRESHOLD"
STORY_TITLE_TEXT_THRESHOLD = "MONITOR_STORY_TITLE_TEXT_THRESHOLD"
STORY_WINDOW_DAYS = "MONITOR_STORY_WINDOW_DAYS"

# The story settings' defaults, measured on the labelled set (tests/storyset.py).
STORY_DEFAULTS = {
    STORY_THRESHOLD: 0.6,
    STORY_TITLE_THRESHOLD: 0.8,
    STORY_TITLE_TEXT_THRESHOLD: 0.2,
    STORY_WINDOW_DAYS: 3.0,
}

# name -> (default, what it does): the README's settings table lists each of these.
SETTINGS: dict[str, tuple[str, str]] = {
    DB: ("data/monitor.duckdb", "the store (a file path; --db takes the same)"),
    READ_ONLY: ("off", "the dashboard hides and refuses every write, opens the store read-only"),
    ALLOW_PRIVATE_NETWORKS: ("off", "feeds added on the web page may point into private networks"),
    DEBUG: ("off", "the CLI shows a traceback for an internal error instead of one line"),
    STORY_THRESHOLD: (
        "0.6",
        "estimated Jaccard similarity of shingles for an article to join a story",
    ),
    STORY_TITLE_THRESHOLD: ("0.8", "title word similarity that lets a less similar text join"),
    STORY_TITLE_TEXT_THRESHOLD: ("0.2", "the Jaccard similarity enough when the titles match"),
    STORY_WINDOW_DAYS: ("3", "days apart at most for two articles to be one story"),
}


class SettingError(InputError, ValueError):
    """A setting whose value is neither on nor off (one line, naming both). Exit code 2."""


@dataclass(frozen=True)
class Settings:
    """Every setting, typed. `db` is None when MONITOR_DB is unset or empty (the default)."""

    db: str | None = None
    read_only: bool = False
    allow_private_networks: bool = False
    debug: bool = False
    story_threshold: float = 0.6
    story_title_threshold: float = 0.8
    story_title_text_threshold: float = 0.2
    story_window_days: float = 3.0


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def flag(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    """The yes/no setting `name` from the environment; `default` when unset or empty.

    On: 1, true, yes, y, on, enabled. Off: 0, false, no, n, off, disabled. Any case, spaces
    around ignored. Anything else raises SettingError.
    """
    raw = _environ(environ).get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if not value:
        return default
    if value in ON:
        return True
    if value in OFF:
        return False
    raise SettingError(
        f"{name}={raw!r} is neither on nor off "
        "(use 1, true, yes, y, on, enabled, or 0, false, no, n, off, disabled)"
    )


def db(environ: Mapping[str, str] | None = None) -> str | None:
    """MONITOR_DB as given (surrounding spaces dropped); None when unset or empty."""
    value = _environ(environ).get(DB, "").strip()
    return value or None


def read_only(environ: Mapping[str, str] | None = None) -> bool:
    """MONITOR_READ_ONLY: a shared deployment where nothing may be changed from the web."""
    return flag(READ_ONLY, environ=environ)


def allow_private_networks(environ: Mapping[str, str] | None = None) -> bool:
    """MONITOR_ALLOW_PRIVATE_NETWORKS: web-added feeds may point into private networks."""
    return flag(ALLOW_PRIVATE_NETWORKS, environ=environ)


def debug(environ: Mapping[str, str] | None = None) -> bool:
    """MONITOR_DEBUG: an internal error in the CLI shows its traceback."""
    return flag(DEBUG, environ=environ)


def number(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """The number setting `name`; `default` when unset or empty; SettingError (naming it) for
    a value that is not a number from 0 up."""
    raw = _environ(environ).get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise SettingError(f"{name}={raw!r} is not a number from 0 up (such as {default})")
    return value


def story(environ: Mapping[str, str] | None = None) -> tuple[float, float, float, float]:
    """MONITOR_STORY_THRESHOLD, _TITLE_THRESHOLD, _TITLE_TEXT_THRESHOLD and _WINDOW_DAYS:
    when a new article joins a story (see monitor.stories.StorySettings)."""
    a, b, c, d = (number(name, default, environ) for name, default in STORY_DEFAULTS.items())
    return a, b, c, d


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Every setting from `environ` (default: the process environment); SettingError for the
    first yes/no value that is neither on nor off."""
    threshold, title, title_text, window = story(environ)
    return Settings(
        db=db(environ),
        read_only=read_only(environ),
        allow_private_networks=allow_private_networks(environ),
        debug=debug(environ),
        story_threshold=threshold,
        story_title_threshold=title,
        story_title_text_threshold=title_text,
        story_window_days=window,
    )
