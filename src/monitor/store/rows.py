"""Small helpers for values on their way into any store (no engine here)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_naive(moment: datetime) -> datetime:
    """The stores keep UTC as naive timestamps; aware datetimes are converted first."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
