"""One exception hierarchy, one `one_line`, one exit code per kind of fault on every command.

Each fault runs through every command that can meet it (the real command line, on a real
DuckDB file): the same fault gives the same exit code everywhere, and its message is one line
on standard error that names its source (the URL, the file, the option, the store), never a
traceback.
"""

from __future__ import annotations

import errno
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor import errors, opml, settings, subscriptions
from monitor.cli import cli, exit_code
from monitor.errors import InputError, MonitorError, NotFound, one_line
from monitor.store import DuckDBStore

FEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "feeds"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def the_line(result: Result) -> str:
    """The one line a fault prints: nothing else on standard error, no traceback."""
    assert "Traceback" not in result.output, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("monitor: "), lines
    assert "internal error" not in lines[0], lines
    return lines[0]


# -- the hierarchy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "parent", "code"),
    [
        (subscriptions.SubscriptionError, MonitorError, 1),
        (subscriptions.InvalidInput, InputError, 2),
        (subscriptions.FeedChoice, InputError, 2),
        (subscriptions.NoSuchFeed, NotFound, 1),
        (settings.SettingError, InputError, 2),
        (opml.OpmlError, MonitorError, 1),
        (errors.StoreError, MonitorError, 1),
        (errors.NetworkError, MonitorError, 1),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_every_user_facing_error_is_a_monitor_error_with_its_code(
    cls: type[Exception], parent: type[Exception], code: int
) -> None:
    assert issubclass(cls, parent)
    assert cls.exit_code == code  # type: ignore[attr-defined]
    # The pages catch ValueError for a refused change; they still do.
    if cls not in (errors.StoreError, errors.NetworkError):
        assert issubclass(cls, ValueError)


def test_exit_code_is_the_class_s_own() -> None:
    assert exit_code(subscriptions.InvalidInput("x: not a URL")) == 2
    assert exit_code(subscriptions.NoSuchFeed("x: no such feed")) == 1
    assert exit_code(settings.SettingError("MONITOR_X='?' is neither")) == 2
    assert exit_code(FileNotFoundError(errno.ENOENT, "No such file or directory", "f")) == 1
    assert exit_code(BrokenPipeError()) is None
    assert exit_code(ZeroDivisionError("a bug")) is None


# -- one_line ----------------------------------------------------------------------------------


def test_one_line_joins_lines_and_runs_of_space() -> None:
    assert one_line(ValueError("  first\n\n  second\tthird  ")) == "first second third"


def test_one_line_names_the_file_of_an_os_error() -> None:
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/feeds.opml")
    assert one_line(missing) == "/x/feeds.opml: No such file or directory"
    # Without a file (a DNS failure, say) the errno stays: fetch's messages pin it.
    assert one_line(OSError(-2, "Name or service not known")) == (
        "[Errno -2] Name or service not known"
    )


def test_one_line_of_an_empty_message_is_the_class_name() -> None:
    assert one_line(TimeoutError()) == "TimeoutError"
    assert one_line("") == ""


def test_one_line_cuts_to_the_limit_with_an_ellipsis() -> None:
    assert one_line("x" * 10, 10) == "x" * 10
    assert one_line("x" * 11, 10) == "x" * 9 + "…"
    assert one_line(ValueError("y" * 400), 300) == "y" * 299 + "…"


def test_no_module_keeps_a_one_line_of_its_own() -> None:
    """`monitor.errors.one_line` is the one (the store's `_first_line` moves with the store)."""
    src = Path(__file__).resolve().parent.parent / "src" / "monitor"
    own = [
        f"{path.relative_to(src)}: def {name}"
        for path in src.rglob("*.py")
        if path.parent.name != "store" and "duckdb" not in path.parts
        for name in ("_one_line", "_line", "_first_line")
        if f"def {name}(" in path.read_text(encoding="utf-8")
    ]
    assert own == []


# -- the same fault, the same code, on every command ------------------------------------------


@pytest.fixture(scope="module")
def store_with_a_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one ingested feed file; tests work on copies."""
    db = tmp_path_factory.mktemp("faults") / "f.duckdb"
    feed = sorted(FEEDS.glob("*.xml"))[0]
    assert run(db, "ingest", str(feed)).exit_code == 0
    return db


@pytest.fixture
def db(store_with_a_feed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store_with_a_feed.read_bytes())
    return copy


URL_COMMANDS = [("feeds", "add"), ("feeds", "remove"), ("feeds", "enable"), ("feeds", "retry")]


@pytest.mark.parametrize("command", URL_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("url", ["notaurl", "ftp://x.example/feed", "   "])
def test_a_bad_url_is_2_everywhere(db: Path, command: tuple[str, ...], url: str) -> None:
    result = run(db, *command, url)
    assert result.exit_code == 2, result.output
    line = the_line(result)
    assert url.strip() in line and ("URL" in line or "no URL" in line)


@pytest.mark.parametrize("command", URL_COMMANDS[1:], ids=" ".join)
def test_a_feed_not_there_is_1_everywhere(db: Path, command: tuple[str, ...]) -> None:
    result = run(db, *command, "https://nowhere.example/feed")
    assert result.exit_code == 1, result.output
    assert the_line(result) == "monitor: https://nowhere.example/feed: no such feed"


def _file_commands(target: Path) -> list[list[str]]:
    """Every command that reads or writes a file the user names."""
    return [
        ["feeds", "import", str(target)],
        ["feeds", "export", str(target)],
        ["export", "--out", str(target)],
        ["export", "--format", "csv", "--out", str(target)],
        ["export", "--format", "parquet", "--out", str(target)],
    ]


@pytest.mark.parametrize("index", range(5), ids=["import", "export", "jsonl", "csv", "parquet"])
def test_a_missing_file_or_folder_is_1_everywhere(db: Path, tmp_path: Path, index: int) -> None:
    target = tmp_path / "no" / "such" / "file"
    result = run(db, *_file_commands(target)[index])
    assert result.exit_code == 1, result.output
    assert the_line(result) == f"monitor: {target}: No such file or directory"
    assert not target.parent.exists()


@pytest.mark.parametrize("index", range(5), ids=["import", "export", "jsonl", "csv", "parquet"])
def test_a_folder_given_as_a_file_is_1_everywhere(db: Path, tmp_path: Path, index: int) -> None:
    """It was 2 for the commands whose click.Path said dir_okay=False and 1 for --db."""
    folder = tmp_path / "folder"
    folder.mkdir()
    result = run(db, *_file_commands(folder)[index])
    assert result.exit_code == 1, result.output
    assert the_line(result) == f"monitor: {folder}: Is a directory"


def test_a_folder_given_as_the_store_is_1(tmp_path: Path) -> None:
    result = run(tmp_path, "stats")
    assert result.exit_code == 1
    assert the_line(result).startswith(f"monitor: {tmp_path}: is a folder")


FILTER_COMMANDS = ["stats", "frequency", "tags", "terms", "authors", "export"]


@pytest.mark.parametrize("command", FILTER_COMMANDS)
@pytest.mark.parametrize(
    ("option", "value"),
    [("--since", "yesterdayish"), ("--until", "2026-13-01"), ("--since", "100000y")],
)
def test_a_bad_date_is_2_everywhere(db: Path, command: str, option: str, value: str) -> None:
    """--since 100000y was an internal error (OverflowError), exit 1."""
    result = run(db, command, option, value)
    assert result.exit_code == 2, result.output
    line = the_line(result)
    assert line.startswith(f"monitor: {command}: ") and option in line and value in line


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["frequency", "--tz", "Mars/Base"], "--tz"),
        (["frequency", "--by", "century"], "--by"),
        (["fetch", "--every", "soon"], "--every"),
        (["fetch", "--every", "0s"], "--every"),
        (["fetch", "--every", "99999999999999y"], "--every"),
        (["tags", "--limit", "0"], "--limit"),
        (["feeds", "add"], "URLS"),
        (["nope"], "nope"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_bad_option_is_2_in_one_line(db: Path, args: list[str], named: str) -> None:
    """Click's own usage errors too: one line naming the option, not four."""
    result = run(db, *args)
    assert result.exit_code == 2, result.output
    assert named in the_line(result)


WRITE_COMMANDS: list[list[str]] = [
    ["feeds", "add", "https://a.example/feed"],
    ["feeds", "remove", "https://a.example/feed"],
    ["feeds", "enable", "https://a.example/feed"],
    ["feeds", "retry", "https://a.example/feed"],
    ["ingest", str(sorted(FEEDS.glob("*.xml"))[1])],
    ["fetch"],
    ["demo"],
]
READ_COMMANDS: list[list[str]] = [
    ["stats"],
    ["frequency"],
    ["tags"],
    ["terms"],
    ["authors"],
    ["feeds", "list"],
    ["feeds", "export"],
    ["export"],
]


@pytest.fixture
def locked(db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`db` with another process holding DuckDB's write lock; this process waits 0.3 s."""
    monkeypatch.setitem(DuckDBStore.__init__.__kwdefaults__, "lock_timeout", 0.3)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from monitor.store.duckdb import raw_connection; "
            f"c = raw_connection({str(db)!r}); print('held', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield db
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()


@pytest.mark.parametrize("args", WRITE_COMMANDS + READ_COMMANDS, ids=" ".join)
def test_a_locked_store_is_1_everywhere(locked: Path, args: list[str]) -> None:
    result = run(locked, *args)
    assert result.exit_code == 1, result.output
    assert the_line(result).startswith(f"monitor: {locked}: still locked by another process")


def test_a_setting_neither_on_nor_off_is_2_as_a_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()"]
        + ["--db", str(tmp_path / "s.duckdb"), "stats"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "MONITOR_DEBUG": "sometimes", **_pythonpath()},
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("monitor: MONITOR_DEBUG='sometimes' is neither on nor off")


def _pythonpath() -> dict[str, str]:
    import os  # noqa: PLC0415 - only to hand the test's import path to the child

    return {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME")}


def _as_user(*args: str) -> subprocess.CompletedProcess[str]:
    """`monitor ARGS` as a process that file permissions apply to (as root: without the
    capabilities that let root write any file)."""
    import os  # noqa: PLC0415
    import shutil  # noqa: PLC0415

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


@pytest.fixture
def read_only_store(db: Path) -> Iterator[Path]:
    """`db` in a folder nobody may write, the file itself read-only, with a feed due (on a
    port nothing listens on) so that `fetch` has something to write."""
    added = run(db, "feeds", "add", "http://127.0.0.1:9/feed")
    assert added.exit_code == 0, added.output
    db.chmod(0o444)
    db.parent.chmod(0o555)
    try:
        yield db
    finally:
        db.parent.chmod(0o755)
        db.chmod(0o644)


def test_a_store_that_may_only_be_read_is_1_for_every_write(read_only_store: Path) -> None:
    for args in WRITE_COMMANDS:
        done = _as_user("--db", str(read_only_store), *args)
        assert done.returncode == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        (line,) = done.stderr.strip().splitlines()[-1:]
        assert line.startswith(f"monitor: {read_only_store}: cannot be written"), (args, line)
    for args in (["stats"], ["feeds", "export"]):  # reading it is fine
        done = _as_user("--db", str(read_only_store), *args)
        assert done.returncode == 0, (args, done.stderr)
