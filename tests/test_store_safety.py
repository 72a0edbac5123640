"""A store is only ever written when it is a healthy monitor store and writing is allowed.

- Read-only (`MONITOR_READ_ONLY`, `DuckDBStore(read_only=True)`): read-only connections only; a
  missing file is not created, an older schema is read if it can be and never migrated.
- One parser for every MONITOR_* yes/no setting; a value that is neither is an error.
- A damaged store (cut short, bytes flipped) and a file that is not a monitor store (text,
  empty, SQLite, a folder, another program's DuckDB, no permission) get a one-line reason
  that says what to do, on the command line and on every dashboard page, and their bytes,
  modification time and folder stay as they were (no WAL appears).
- DuckDB never installs or loads an extension by itself.

Real DuckDB files throughout; every check compares the file before and after.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from dashboard import Dashboard
from streamlit.testing.v1 import AppTest

from monitor import analyze, settings, subscriptions
from monitor.cli import cli
from monitor.models import Filters
from monitor.store import CONNECTION_CONFIG, SCHEMA_VERSION, DuckDBStore, StoreError
from monitor.store.duckdb import (
    MIGRATIONS,
    READABLE_FROM,
    DuckDBError,
    DuckDBPermissionError,
    raw_connection,
)

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "pages/overview.py",
    "pages/frequency.py",
    "pages/tags.py",
    "pages/clouds.py",
    "pages/authors.py",
    "pages/articles.py",
    "pages/sources.py",
]
FEED = ROOT / "data" / "demo" / "ledger-business.rss.xml"
BLOCK = 262144


# -- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What a path looks like: bytes (hash), modification time, and what is beside it."""

    digest: str | None
    mtime_ns: int | None
    beside: tuple[str, ...]

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        beside = (
            tuple(sorted(p.name for p in path.parent.iterdir())) if path.parent.exists() else ()
        )
        if path.is_dir():
            inside = tuple(sorted(p.name for p in path.iterdir()))
            return cls("dir:" + ",".join(inside), path.stat().st_mtime_ns, beside)
        if not path.exists():
            return cls(None, None, beside)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except PermissionError:
            digest = "unreadable"
        return cls(digest, path.stat().st_mtime_ns, beside)


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store (18 or so 256 kB blocks), built once; tests work on copies."""
    db = tmp_path_factory.mktemp("template") / "demo.duckdb"
    result = run(db, "demo")
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def demo_copy(demo_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store" / "monitor.duckdb"
    target.parent.mkdir()
    shutil.copy(demo_template, target)
    return target


def schema_version(path: Path) -> int:
    con = raw_connection(path, read_only=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def make_old_store(path: Path, version: int) -> None:
    """A store made by a monitor that knew only the first `version` migrations."""
    con = raw_connection(path)
    for number in range(1, version + 1):
        for statement in MIGRATIONS[number - 1]:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(version)])
    con.execute(
        "INSERT INTO feeds (url, kind, subscribed, added_at) "
        "VALUES ('https://old.example/feed', 'http', TRUE, TIMESTAMP '2026-11-01 00:00:00')"
    )
    con.close()


# -- one parser for every yes/no setting ---------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "y", "on", " On ", "enabled"])
def test_flag_on(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_X", value)
    assert settings.flag("MONITOR_X") is True


@pytest.mark.parametrize("value", ["0", "false", "no", "n", "off", "OFF", "disabled", "", "  "])
def test_flag_off(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_X", value)
    assert settings.flag("MONITOR_X") is False


@pytest.mark.parametrize("value", ["maybe", "ture", "2", "onn", "-1", "yes please"])
def test_flag_neither_is_an_error_naming_setting_and_value(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_X", value)
    with pytest.raises(settings.SettingError) as info:
        settings.flag("MONITOR_X")
    assert "MONITOR_X" in str(info.value) and repr(value) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["on", "y", "enabled", "Yes"])
def test_read_only_understands_every_on(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_READ_ONLY", value)
    assert subscriptions.read_only() is True


def test_a_setting_that_is_neither_refuses_web_writes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An unknown MONITOR_READ_ONLY is not "off": a web write is refused, the store untouched."""
    db = tmp_path / "s.duckdb"
    monkeypatch.setenv("MONITOR_READ_ONLY", "maybe")
    with pytest.raises(ValueError, match="MONITOR_READ_ONLY='maybe'"):
        subscriptions.add_feeds(DuckDBStore(db), ["https://a.example/feed"], from_web=True)
    assert not db.exists()
    monkeypatch.delenv("MONITOR_READ_ONLY")
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_NETWORKS", "sure")
    with pytest.raises(ValueError, match="MONITOR_ALLOW_PRIVATE_NETWORKS='sure'"):
        subscriptions.add_feeds(DuckDBStore(db), ["http://127.0.0.1:9/feed"], from_web=True)
    assert not db.exists()


BUGGY_MAIN = (
    "import monitor.analyze as a\n"
    "def broken(*args, **kwargs):\n"
    "    raise ZeroDivisionError('a bug')\n"
    "a.stats = broken\n"
    "from monitor.cli import main\n"
    "main()\n"
)


@pytest.mark.parametrize(
    ("value", "traceback", "code"),
    [("0", False, 1), ("off", False, 1), ("", False, 1), ("1", True, 1), ("on", True, 1)],
)
def test_monitor_debug_uses_the_same_parser(
    value: str, traceback: bool, code: int, tmp_path: Path
) -> None:
    """MONITOR_DEBUG=0 turned debugging on (any non-empty value did)."""
    env = {**os.environ, "MONITOR_DEBUG": value}
    done = subprocess.run(
        [sys.executable, "-c", BUGGY_MAIN, "--db", str(tmp_path / "d.duckdb"), "stats"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == code, done.stderr
    assert ("Traceback" in done.stderr) is traceback, done.stderr
    if not traceback:
        assert done.stderr.strip().splitlines() == [
            "monitor: internal error: ZeroDivisionError: a bug (MONITOR_DEBUG=1 shows where)"
        ]


def test_monitor_debug_neither_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "MONITOR_DEBUG": "verbose"}
    done = subprocess.run(
        [sys.executable, "-c", BUGGY_MAIN, "--db", str(tmp_path / "d.duckdb"), "stats"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "monitor: MONITOR_DEBUG='verbose' is neither on nor off (use 1, true, yes, y, on, "
        "enabled, or 0, false, no, n, off, disabled)"
    ]


# -- read-only Store -------------------------------------------------------------------------


def test_read_only_never_creates_a_store(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "monitor.duckdb"
    store = DuckDBStore(path, read_only=True)
    with pytest.raises(StoreError) as info:
        analyze.stats(store, Filters())
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "does not create" in message
    assert not (tmp_path / "not").exists()
    # The next look finds it once another process made it.
    DuckDBStore(path).ensure_schema()
    assert analyze.stats(store, Filters())["articles"] == 0


@pytest.mark.parametrize("version", range(READABLE_FROM, SCHEMA_VERSION))
def test_read_only_reads_an_older_schema_it_can_and_never_migrates(
    version: int, tmp_path: Path
) -> None:
    path = tmp_path / "old.duckdb"
    make_old_store(path, version)
    before = Snapshot.of(path)
    store = DuckDBStore(path, read_only=True)
    assert analyze.stats(store, Filters())["feeds_total"] == 1
    assert analyze.feeds(store)["url"].tolist() == ["https://old.example/feed"]
    assert analyze.terms(store, Filters()).rows == []
    assert Snapshot.of(path) == before
    assert schema_version(path) == version


def test_read_only_on_an_older_schema_says_so_when_a_query_needs_what_is_newer(
    tmp_path: Path,
) -> None:
    """Should a page need a table a later migration made (here: stopwords taken away from an
    old store, as if a migration after it had added them), the reason is the schema's age."""
    if READABLE_FROM == SCHEMA_VERSION:
        pytest.skip(f"no older schema is readable read-only now (READABLE_FROM {READABLE_FROM})")
    path = tmp_path / "old.duckdb"
    make_old_store(path, SCHEMA_VERSION - 1)
    con = raw_connection(path)
    con.execute("DROP TABLE stopwords")
    con.close()
    before = Snapshot.of(path)
    store = DuckDBStore(path, read_only=True)
    assert analyze.stats(store, Filters())["feeds_total"] == 1
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION - 1} is older"):
        analyze.stopword_lists(store)
    assert Snapshot.of(path) == before


@pytest.mark.parametrize("version", range(1, READABLE_FROM))
def test_read_only_refuses_a_schema_too_old_in_one_line(version: int, tmp_path: Path) -> None:
    path = tmp_path / "older.duckdb"
    make_old_store(path, version)
    before = Snapshot.of(path)
    with pytest.raises(StoreError) as info:
        analyze.stats(DuckDBStore(path, read_only=True), Filters())
    message = str(info.value)
    assert "\n" not in message and f"schema version {version}" in message
    assert "without MONITOR_READ_ONLY" in message
    assert Snapshot.of(path) == before
    assert schema_version(path) == version


def test_read_only_store_refuses_every_write(demo_copy: Path) -> None:
    before = Snapshot.of(demo_copy)
    store = DuckDBStore(demo_copy, read_only=True)
    assert analyze.stats(store, Filters())["articles"] > 0
    with pytest.raises(StoreError, match="read-only"):
        subscriptions.add_feeds(store, ["https://a.example/feed"])
    with pytest.raises(StoreError, match="read-only"):
        analyze.add_stopwords(store, "de", ["wort"])
    with pytest.raises(StoreError, match="read-only"):
        with store.write():
            pass
    assert Snapshot.of(demo_copy) == before


# -- extensions -------------------------------------------------------------------------------


def test_every_connection_has_extension_autoloading_off(demo_copy: Path) -> None:
    store = DuckDBStore(demo_copy)
    wanted = {k: str(v).lower() for k, v in CONNECTION_CONFIG.items()}
    assert wanted == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "allow_community_extensions": "false",
    }
    sql = "SELECT name, value FROM duckdb_settings() WHERE name IN (SELECT unnest(?))"
    for opened in (store.read, store.write, DuckDBStore(demo_copy, read_only=True).read):
        with opened() as con:
            assert dict(con.execute(sql, [list(wanted)]).fetchall()) == wanted
    with store.session(), store.write() as con:
        assert dict(con.execute(sql, [list(wanted)]).fetchall()) == wanted


def test_external_access_stays_on_because_the_parquet_export_needs_it(
    demo_copy: Path, tmp_path: Path
) -> None:
    closed = raw_connection(
        tmp_path / "x.duckdb", config={**CONNECTION_CONFIG, "enable_external_access": False}
    )
    with pytest.raises(DuckDBPermissionError):
        closed.execute(f"COPY (SELECT 1 AS x) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)")
    closed.close()
    out = tmp_path / "export.parquet"
    result = run(demo_copy, "export", "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_a_connection_of_our_own_with_default_settings_is_joined(demo_copy: Path) -> None:
    """DuckDB shares one database per file in a process; one opened elsewhere with its default
    settings (a notebook) is joined at once, not waited on as if locked, and its extension
    downloads are turned off too."""
    theirs = raw_connection(demo_copy, read_only=True)
    try:
        store = DuckDBStore(demo_copy, lock_timeout=1)
        assert analyze.stats(store, Filters())["articles"] > 0
        sql = "SELECT value FROM duckdb_settings() WHERE name = 'autoload_known_extensions'"
        assert theirs.execute(sql).fetchall() == [("false",)]
    finally:
        theirs.close()


def test_a_sqlite_file_is_refused_before_duckdb_sees_it(tmp_path: Path) -> None:
    """It made DuckDB try to download sqlite_scanner; now our reason, and no extension."""
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = Snapshot.of(path)
    for store in (DuckDBStore(path), DuckDBStore(path, read_only=True)):
        with pytest.raises(StoreError) as info:
            analyze.stats(store, Filters())
        assert str(info.value) == (
            f"{path}: is a SQLite database, not a monitor store (DuckDB); give the path of a "
            "monitor store, or a new file name to start one"
        )
    assert Snapshot.of(path) == before
    # And should DuckDB be handed one anyway, it refuses instead of fetching an extension.
    with pytest.raises(DuckDBError) as raw:
        raw_connection(path, read_only=True, config=dict(CONNECTION_CONFIG))
    assert "INSTALL" in str(raw.value) or "not found" in str(raw.value)
    assert Snapshot.of(path) == before


# -- damaged and foreign files, on the command line ------------------------------------------


def _cut(fraction: float) -> Callable[[Path, Path], None]:
    def make(template: Path, path: Path) -> None:
        data = template.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return make


def _text(_template: Path, path: Path) -> None:
    path.write_text("this is not a database\n")


def _empty(_template: Path, path: Path) -> None:
    path.write_bytes(b"")


def _sqlite(_template: Path, path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE articles (id TEXT)")
    con.commit()
    con.close()


def _folder(_template: Path, path: Path) -> None:
    path.mkdir()
    (path / "keep.txt").write_text("x")


def _foreign(_template: Path, path: Path) -> None:
    con = raw_connection(path)
    con.execute("CREATE TABLE sales AS SELECT range AS id FROM range(10)")
    con.close()


BAD_FILES: dict[str, Callable[[Path, Path], None]] = {
    "cut in half": _cut(0.5),
    "cut by a block": _cut(0.95),
    "cut to 100 kB": lambda t, p: p.write_bytes(t.read_bytes()[:100_000]),
    "text": _text,
    "empty": _empty,
    "sqlite": _sqlite,
    "folder": _folder,
    "another program's duckdb": _foreign,
}
REASONS = {
    "cut in half": "the store is damaged",
    "cut by a block": "the store is damaged",
    "cut to 100 kB": "the store is damaged",
    "text": "is not a DuckDB database",
    "empty": "is an empty file",
    "sqlite": "is a SQLite database",
    "folder": "is a folder",
    "another program's duckdb": "is a DuckDB database of something else",
}
COMMANDS: list[tuple[str, ...]] = [
    ("stats", "--json"),
    ("tags", "--json"),
    ("authors", "--json"),
    ("feeds", "list", "--json"),
    ("feeds", "add", "https://a.example/feed"),
    ("feeds", "remove", "https://a.example/feed"),
    ("feeds", "enable", "https://a.example/feed"),
    ("feeds", "export"),
    ("ingest", str(FEED)),
    ("demo",),
    ("fetch",),
]


@pytest.fixture
def bad_file(request: pytest.FixtureRequest, demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store" / "monitor.duckdb"
    path.parent.mkdir()
    BAD_FILES[request.param](demo_template, path)
    return path


@pytest.mark.parametrize("bad_file", list(BAD_FILES), indirect=True)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_bad_store_gets_one_line_and_is_never_written(
    bad_file: Path, command: tuple[str, ...], request: pytest.FixtureRequest
) -> None:
    kind = request.node.callspec.params["bad_file"]
    before = Snapshot.of(bad_file)
    result = CliRunner().invoke(cli, ["--db", str(bad_file), *command])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    line = one_line(result)
    assert line.startswith(f"monitor: {bad_file}: ") or line.startswith("monitor: ")
    assert str(bad_file) in line and REASONS[kind] in line, line
    assert Snapshot.of(bad_file) == before


def test_the_damage_reason_says_what_to_do(demo_copy: Path) -> None:
    demo_copy.write_bytes(demo_copy.read_bytes()[: 5 * BLOCK])
    result = run(demo_copy, "feeds", "add", "https://a.example/feed")
    line = one_line(result)
    assert "cut short" in line and "nothing was written to it" in line
    assert "Restore it from a backup" in line and "export" in line


def test_a_cut_store_as_a_real_process(demo_copy: Path) -> None:
    """The command that wrote into a cut file before (`demo`), as a real process."""
    demo_copy.write_bytes(demo_copy.read_bytes()[: -BLOCK // 2 - BLOCK])
    before = Snapshot.of(demo_copy)
    for args in (("demo",), ("stats", "--json"), ("ingest", str(FEED))):
        done = subprocess.run(
            [sys.executable, "-c", "from monitor.cli import main; main()", "--db", str(demo_copy)]
            + list(args),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "the store is damaged" in done.stderr and "Traceback" not in done.stderr
        assert Snapshot.of(demo_copy) == before


def test_damage_found_by_a_read_stops_every_later_write(
    demo_copy: Path, demo_template: Path
) -> None:
    """Flipped bytes in a data block are only found when the block is read; from then on this
    Store writes nothing, and the file is as it was."""
    con = raw_connection(demo_copy, read_only=True)
    blocks = con.execute(
        "SELECT DISTINCT block_id FROM pragma_storage_info('article_feeds') WHERE block_id >= 0"
    ).fetchall()
    con.close()
    data = bytearray(demo_copy.read_bytes())
    at = 3 * 4096 + int(blocks[0][0]) * BLOCK + 100
    data[at : at + 64] = bytes(b ^ 0xFF for b in data[at : at + 64])
    demo_copy.write_bytes(bytes(data))
    before = Snapshot.of(demo_copy)
    store = DuckDBStore(demo_copy)
    with pytest.raises(StoreError) as info:
        analyze.stats(store, Filters())
    assert "the store is damaged" in str(info.value) and "Corrupt" in str(info.value)
    assert store.damaged
    with pytest.raises(StoreError, match="the store is damaged"):
        subscriptions.add_feeds(store, ["https://a.example/feed"])
    with pytest.raises(StoreError, match="the store is damaged"):
        analyze.add_stopwords(store, "de", ["wort"])
    assert Snapshot.of(demo_copy) == before
    # A restored file is looked at again.
    shutil.copy(demo_template, demo_copy)
    assert analyze.stats(store, Filters())["articles"] > 0


def test_export_saves_what_a_damaged_store_still_holds(tmp_path: Path) -> None:
    """The reason says: `monitor export` on a copy. Cut off blocks that only other data used:
    every article is still exported, the exit code says the store is damaged, nothing written."""
    path = tmp_path / "cut.duckdb"
    result = run(path, "ingest", str(FEED))
    assert result.exit_code == 0, result.output
    con = raw_connection(path)
    con.execute(
        "CREATE TABLE filler AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(300000)"
    )
    con.execute("CHECKPOINT")
    total, filler_first = con.execute(
        "SELECT (SELECT total_blocks FROM pragma_database_size()), "
        "min(block_id) FROM pragma_storage_info('filler') WHERE block_id >= 0"
    ).fetchone() or (0, 0)
    con.close()
    assert int(total) - int(filler_first) > 2, "the filler should sit at the end of the file"
    path.write_bytes(path.read_bytes()[: path.stat().st_size - BLOCK])
    before = Snapshot.of(path)
    result = run(path, "export", "--format", "jsonl")
    assert result.exit_code == 1
    assert len(result.stdout.strip().splitlines()) == 119  # every article of the feed
    assert "the store is damaged" in result.stderr
    assert "exporting what can still be read" in result.stderr
    assert Snapshot.of(path) == before


def _without_override(*args: str) -> subprocess.CompletedProcess[str]:
    """`monitor ARGS` as a process that file permissions apply to: as root, without the
    capabilities that let root read and write any file."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, and no setpriv to drop the file capabilities")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run(
        [*prefix, sys.executable, "-c", "from monitor.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_store_without_permission_is_one_line(demo_copy: Path) -> None:
    demo_copy.chmod(0o000)
    before = Snapshot.of(demo_copy)
    try:
        done = _without_override("--db", str(demo_copy), "stats", "--json")
        assert done.returncode == 1, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert "cannot be read" in done.stderr and "Permission denied" in done.stderr
        assert Snapshot.of(demo_copy) == before
    finally:
        demo_copy.chmod(0o644)


def test_a_store_that_may_only_be_read_is_read_and_refuses_writes(demo_copy: Path) -> None:
    demo_copy.chmod(0o444)
    demo_copy.parent.chmod(0o555)
    try:
        before = Snapshot.of(demo_copy)
        done = _without_override("--db", str(demo_copy), "stats", "--json")
        assert done.returncode == 0, done.stderr
        done = _without_override("--db", str(demo_copy), "feeds", "add", "https://a.example/f")
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert "cannot be written: permission denied" in done.stderr
        assert Snapshot.of(demo_copy) == before
    finally:
        demo_copy.parent.chmod(0o755)
        demo_copy.chmod(0o644)


# -- the dashboard ---------------------------------------------------------------------------


@pytest.fixture
def dashboard(apptest: Dashboard) -> Callable[..., AppTest]:
    """`dashboard(db, page, read_only=None)`: AppTest of app.py, the page picked in the menu."""
    return partial(apptest.visit, timeout=30)


def errors(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    return " ".join(str(e.value).replace("\\", "") for e in at.error)


@pytest.mark.parametrize("page", PAGES)
def test_read_only_dashboard_on_a_missing_store(
    page: str, dashboard: Callable[..., AppTest], tmp_path: Path
) -> None:
    db = tmp_path / "data" / "monitor.duckdb"
    at = dashboard(db, page, read_only="1")
    shown = errors(at)
    assert "no store here" in shown and str(db) in shown
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("value", ["on", "y", "enabled"])
def test_read_only_dashboard_never_migrates(
    value: str, dashboard: Callable[..., AppTest], tmp_path: Path
) -> None:
    """`on`, `y` and `enabled` were taken as off, and an older store was migrated."""
    db = tmp_path / "old.duckdb"
    make_old_store(db, SCHEMA_VERSION - 1)
    before = Snapshot.of(db)
    readable = SCHEMA_VERSION - 1 >= READABLE_FROM
    for page in PAGES:
        at = dashboard(db, page, read_only=value)
        if readable:
            assert not errors(at), page
        else:  # too old to read as it is: said on the page, and still never migrated
            assert "read-only never upgrades it" in errors(at), page
    # The Sources page draws no write control.
    labels = [b.label for b in at.button]
    assert not any("Fetch" in label or "Add feed" in label for label in labels)
    assert Snapshot.of(db) == before
    assert schema_version(db) == SCHEMA_VERSION - 1


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/sources.py"])
def test_read_only_neither_on_nor_off_stops_every_page(
    page: str, dashboard: Callable[..., AppTest], demo_copy: Path
) -> None:
    before = Snapshot.of(demo_copy)
    at = dashboard(demo_copy, page, read_only="perhaps")
    shown = errors(at)
    assert "MONITOR_READ_ONLY='perhaps' is neither on nor off" in shown
    assert not at.get("plotly_chart") and not at.button
    assert Snapshot.of(demo_copy) == before


@pytest.mark.parametrize("read_only", [None, "1"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_why_a_damaged_store_cannot_be_read(
    page: str, read_only: str | None, dashboard: Callable[..., AppTest], demo_copy: Path
) -> None:
    demo_copy.write_bytes(demo_copy.read_bytes()[: 4 * BLOCK])
    before = Snapshot.of(demo_copy)
    at = dashboard(demo_copy, page, read_only=read_only)
    shown = errors(at)
    assert "the store is damaged" in shown and "Restore it from a backup" in shown
    assert Snapshot.of(demo_copy) == before


@pytest.mark.parametrize("kind", ["text", "sqlite", "folder"])
def test_the_dashboard_on_a_file_that_is_not_a_store(
    kind: str, dashboard: Callable[..., AppTest], demo_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "s" / "monitor.duckdb"
    path.parent.mkdir()
    BAD_FILES[kind](demo_template, path)
    before = Snapshot.of(path)
    shown = errors(dashboard(path, "pages/overview.py"))
    assert REASONS[kind] in shown
    assert Snapshot.of(path) == before
