"""Settings: read in one place (monitor.settings), typed, and every one documented."""

from __future__ import annotations

import ast
import re
from dataclasses import FrozenInstanceError, fields
from pathlib import Path

import pytest

from monitor import settings
from monitor.errors import InputError
from monitor.settings import SETTINGS, SettingError, Settings

ROOT = Path(__file__).resolve().parent.parent
# Everything of monitor's that runs: the library, the dashboard, the scripts, the benchmarks.
CODE = [ROOT / "src", ROOT / "pages", ROOT / "app.py", ROOT / "scripts", ROOT / "bench"]


def test_load_gives_the_defaults_for_an_empty_environment() -> None:
    assert settings.load({}) == Settings(
        db=None, read_only=False, allow_private_networks=False, debug=False
    )


def test_load_reads_every_setting_typed() -> None:
    loaded = settings.load(
        {
            "MONITOR_DB": " chdb:///srv/monitor ",
            "MONITOR_READ_ONLY": "yes",
            "MONITOR_ALLOW_PRIVATE_NETWORKS": "On",
            "MONITOR_DEBUG": "1",
        }
    )
    assert loaded == Settings("chdb:///srv/monitor", True, True, True)
    with pytest.raises(FrozenInstanceError):
        loaded.debug = False  # type: ignore[misc]


@pytest.mark.parametrize("value", ["0", "off", "no", "false", "", "  "])
def test_monitor_debug_0_is_off(value: str) -> None:
    """MONITOR_DEBUG=0 turned debugging on once (any non-empty value did)."""
    assert settings.load({"MONITOR_DEBUG": value}).debug is False
    assert settings.debug({"MONITOR_DEBUG": value}) is False


def test_an_empty_monitor_db_is_the_default() -> None:
    assert settings.db({"MONITOR_DB": ""}) is None
    assert settings.db({"MONITOR_DB": "  "}) is None


@pytest.mark.parametrize(
    "name", ["MONITOR_READ_ONLY", "MONITOR_ALLOW_PRIVATE_NETWORKS", "MONITOR_DEBUG"]
)
def test_a_yes_no_setting_that_is_neither_is_an_input_error_naming_it(name: str) -> None:
    with pytest.raises(SettingError) as info:
        settings.load({name: "ture"})
    assert isinstance(info.value, InputError) and info.value.exit_code == 2
    assert str(info.value).startswith(f"{name}='ture' is neither on nor off")
    assert "\n" not in str(info.value)


def test_each_setting_is_read_alone() -> None:
    """A command that does not use a setting is not stopped by a bad value of it."""
    environ = {"MONITOR_DEBUG": "ture", "MONITOR_DB": "x.duckdb"}
    assert settings.db(environ) == "x.duckdb"
    assert settings.read_only(environ) is False


def test_settings_names_every_field_of_settings() -> None:
    assert {f"MONITOR_{f.name.upper()}" for f in fields(Settings)} == set(SETTINGS)


# -- read in one place -----------------------------------------------------------------------


def _python_files() -> list[Path]:
    found: list[Path] = []
    for place in CODE:
        found += [place] if place.is_file() else sorted(place.rglob("*.py"))
    return found


def _monitor_name(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value.startswith("MONITOR_"):
            return node.value
    return None


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a MONITOR_* variable is read: os.environ.get/[]/in, os.getenv, a flag() call."""
    reads: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("get", "getenv", "flag", "setdefault"):
                name = _monitor_name(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            name = _monitor_name(node.slice)
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) for op in node.ops
        ):
            name = _monitor_name(node.left)
        if name:
            reads.append((getattr(node, "lineno", 0), name))
    return reads


def test_only_settings_reads_monitor_variables() -> None:
    """Setting a variable for a child process (bench, tests) is not reading it; no module but
    monitor/settings.py reads one."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _python_files()
        if path != ROOT / "src" / "monitor" / "settings.py"
        for line, name in _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def test_no_script_reads_a_monitor_variable() -> None:
    shells = [p for p in (ROOT / "scripts").iterdir() if p.is_file() and p.suffix != ".py"]
    offenders = [
        f"{path.relative_to(ROOT)}: {match}"
        for path in shells
        for match in re.findall(r"\$\{?MONITOR_\w+", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_scan_finds_a_read() -> None:
    """The scan above can fail: each way of reading is found."""
    code = (
        "import os\n"
        "a = os.environ.get('MONITOR_A')\n"
        "b = os.environ['MONITOR_B']\n"
        "c = os.getenv('MONITOR_C')\n"
        "d = 'MONITOR_D' in os.environ\n"
        "e = flag('MONITOR_E')\n"
        "os.environ['MONITOR_SET'] = 'x'\n"  # setting is not reading
    )
    assert [name for _, name in _environment_reads(ast.parse(code))] == [
        "MONITOR_A",
        "MONITOR_B",
        "MONITOR_C",
        "MONITOR_D",
        "MONITOR_E",
    ]


# -- documented --------------------------------------------------------------------------------


def readme_settings() -> set[str]:
    """The MONITOR_* names in the first column of README's settings table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Settings\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Settings' section"
    rows = [line for line in section.group(1).splitlines() if line.startswith("|")]
    assert rows, "README.md's settings section has no table"
    return {name for row in rows[2:] for name in re.findall(r"MONITOR_[A-Z_]+", row.split("|")[1])}


def test_every_setting_is_in_the_readme_table() -> None:
    missing = sorted(set(SETTINGS) - readme_settings())
    assert missing == [], f"README.md's settings table lacks {missing}"


def test_the_readme_table_names_no_setting_monitor_does_not_know() -> None:
    unknown = sorted(readme_settings() - set(SETTINGS))
    assert unknown == [], f"README.md documents {unknown}, which monitor.settings does not read"
