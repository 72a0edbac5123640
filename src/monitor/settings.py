"""The MONITOR_* yes/no settings, read one way everywhere.

A mistyped value must not quietly mean "off": `MONITOR_READ_ONLY=ture` on a shared dashboard
would leave every write control open. So a value is on, off, or an error that names the
setting and the value. Unset and empty mean the default.
"""

from __future__ import annotations

import os

__all__ = ["OFF", "ON", "SettingError", "flag"]

ON = frozenset({"1", "true", "yes", "y", "on", "enabled"})
OFF = frozenset({"0", "false", "no", "n", "off", "disabled", ""})


class SettingError(ValueError):
    """A setting whose value is neither on nor off (one line, naming both)."""


def flag(name: str, default: bool = False) -> bool:
    """The yes/no setting `name` from the environment; `default` when unset or empty.

    On: 1, true, yes, y, on, enabled. Off: 0, false, no, n, off, disabled. Any case, spaces
    around ignored. Anything else raises SettingError.
    """
    raw = os.environ.get(name)
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
