"""Notes that survive a rerun: what a write did, shown once on the next run.

Write handlers rerun the page after a write, so that everything above them is drawn from the
store as it is now; the outcome is left here and shown at the top (or next to its form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from pages._ui.text import lines

FLASH_WARNINGS = 20  # failed feeds named one by one after "Fetch now"; the rest counted


@dataclass(frozen=True)
class Flash:
    """What a write did. Plain text: escaped when shown."""

    success: str | None = None
    warnings: tuple[str, ...] = ()
    log: str | None = None


def _key(place: str) -> str:
    return f"_monitor_flash{place and ':' + place}"


def flash(
    message: str | None,
    *,
    warnings: Sequence[str] = (),
    log: str | None = None,
    place: str = "",
) -> None:
    """Leave a note for the next run: `show_flash(place)` shows it (app.py shows the unplaced
    ones at the top of every page; the Sources page shows its own next to each form)."""
    st.session_state[_key(place)] = Flash(message, tuple(warnings), log)


def show_flash(place: str = "") -> None:
    """Show (and forget) a note left by `flash`."""
    note = st.session_state.pop(_key(place), None)
    if isinstance(note, str):
        note = Flash(note)
    if not isinstance(note, Flash):
        return
    if note.success:
        st.success(lines(note.success.split("\n")), icon=":material/check:")
    if note.warnings:
        shown = list(note.warnings[:FLASH_WARNINGS])
        if len(note.warnings) > FLASH_WARNINGS:
            more = len(note.warnings) - FLASH_WARNINGS
            shown.append(f"… and {more} more (see the table above)")
        st.warning(lines(shown), icon=":material/warning:")
    if note.log:
        st.code(note.log, language=None)
