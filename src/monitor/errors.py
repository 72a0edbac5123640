"""The errors monitor reports to its users, as one line each.

Every fault a user can cause or meet (a bad argument, a feed that is not there, a store that
is locked, damaged or newer than this monitor, a network that refused) is a `MonitorError`.
The command line maps each class to its exit code in one place (`exit_code`), and prints
`one_line(exc)`; the dashboard shows the same line. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "MonitorError", "NetworkError", "NotFound", "StoreError", "one_line"]


class MonitorError(Exception):
    """A fault worth a one-line message. `exit_code` is what the command line exits with."""

    exit_code = 1


class InputError(MonitorError):
    """What the user gave cannot be used: a malformed URL, option, file or link parameter."""

    exit_code = 2


class NotFound(MonitorError):
    """The user named something the store does not hold (a feed URL, a saved view)."""

    exit_code = 1


class StoreError(MonitorError):
    """The store cannot do this: locked too long, damaged, newer schema, not a store, read-only,
    an engine that cannot be reached."""

    exit_code = 1


class StoreRefused(StoreError):
    """The store refused one feed's data (a value it cannot hold); the store itself is fine,
    so the run goes on with the other feeds."""


class NetworkError(MonitorError):
    """A fetch that could not be made at all (refused address, DNS, TLS), named by its URL."""

    exit_code = 1


def one_line(exc: object, limit: int | None = None, *, first: bool = False) -> str:
    """The message of an error (or any value) on one line: whitespace runs (newlines too)
    become one space; an OSError about a file reads "file: reason" (one without a file keeps
    its "[Errno N] reason"); an empty message gives the class name; cut to `limit` characters
    with "…" at the end. `first`: only the first non-empty line (a database error goes on
    with the SQL it failed in, which says nothing to a user)."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc)
    if first:
        text = next((line for line in text.splitlines() if line.strip()), "")
    text = " ".join(text.split())
    if not text and isinstance(exc, BaseException):
        text = type(exc).__name__
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
