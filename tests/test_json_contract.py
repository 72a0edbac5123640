"""Every `--json` output against the JSON Schema kept in src/monitor/schemas/ (one per command),
on the demo store, an empty store and a store whose feeds never succeeded.

The output is parsed strictly (`NaN`, `Infinity` are refused), integers must be JSON integers
(not 200.0), and the schemas' keys are the README's JSON table: the documented contract is
the enforced one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from httpserver import Reply, TestServer
from jsoncheck import Strict, check, schema, strict_loads

from monitor import subscriptions
from monitor.cli import cli
from monitor.models import DATE_SOURCES
from monitor.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]
# The README's command names -> schema files.
COMMANDS = {
    "stats": "stats",
    "frequency": "frequency",
    "tags": "tags",
    "terms": "terms",
    "authors": "authors",
    "feeds list": "feeds-list",
    "fetch --json": "fetch",
    "export": "export",
    "stories": "stories",
    "stories --story": "story-articles",
    "terms --weight keyness": "terms-keyness",
    "topics": "topics",
    "queries list": "queries-list",
    "attention": "attention",
}


def run(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == code, (args, result.output)
    return result.stdout


def check_command(db: Path, *args: str) -> Any:
    """Run a query command with --json and check its output; returns it parsed."""
    command = {"feeds": "feeds-list", "queries": "queries-list"}.get(args[0], args[0])
    data = strict_loads(run(db, *args, "--json"))
    check(command, data)
    return data


def check_lines(name: str, text: str) -> list[Any]:
    rows = [strict_loads(line) for line in text.splitlines() if line.strip()]
    for row in rows:
        check(name, row)
    return rows


# -- the stores --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("contract") / "demo.duckdb"
    run(db, "demo")
    return db


@pytest.fixture
def failing_store(tmp_path: Path) -> Iterator[Path]:
    """Feeds that never succeeded: a server error, a 404, a closed port, and a 410 (disabled);
    beside a file source that has articles, so both kinds of row are in `feeds list`."""
    db = tmp_path / "failing.duckdb"
    with TestServer() as server:
        server.route("/500.xml", handler=lambda _r: Reply(500, b"oops"))
        server.route("/gone.xml", handler=lambda _r: Reply(410, b"gone"))
        urls = [server.url("/500.xml"), server.url("/404.xml"), server.url("/gone.xml")]
        subscriptions.add_feeds(DuckDBStore(db), [*urls, "http://127.0.0.1:9/closed.xml"])
        lines = check_lines("fetch", run(db, "fetch", "--json", code=1))
        assert len(lines) == 1 and lines[0]["sources"] == 4 and lines[0]["failed"] == 4
    feed = tmp_path / "one.xml"
    feed.write_bytes((ROOT / "data" / "demo" / "ledger-business.rss.xml").read_bytes())
    run(db, "ingest", str(feed))
    yield db


QUERIES: list[tuple[str, ...]] = [
    ("stats",),
    ("stats", "--since", "7d", "--lang", "de"),
    ("stats", "--tag", "no-such-tag"),
    ("frequency",),
    ("frequency", "--by", "week", "--split", "feed"),
    ("frequency", "--by", "month", "--split", "author", "--tz", "Europe/Berlin"),
    ("frequency", "--by", "day", "--split", "tag", "--since", "30d"),
    ("frequency", "--by", "hour", "--since", "2d", "--tz", "America/Los_Angeles"),
    ("frequency", "--search", "no-such-word-anywhere"),
    ("tags",),
    ("tags", "--lang", "en", "--limit", "5"),
    ("terms",),
    ("terms", "--tag", "politik"),
    ("authors",),
    ("authors", "--limit", "0"),
    ("authors", "--since", "7d"),
    ("feeds", "list"),
]


@pytest.mark.parametrize("args", QUERIES, ids=" ".join)
def test_query_json_on_the_demo_store(demo_store: Path, args: tuple[str, ...]) -> None:
    check_command(demo_store, *args)


@pytest.mark.parametrize("args", QUERIES, ids=" ".join)
def test_query_json_on_an_empty_store(tmp_path: Path, args: tuple[str, ...]) -> None:
    data = check_command(tmp_path / "empty.duckdb", *args)
    if args[0] == "stats":
        assert data["articles"] == 0 and data["first_published"] is None
    elif args[0] != "frequency":
        assert data == []


@pytest.mark.parametrize("args", QUERIES, ids=" ".join)
def test_query_json_with_feeds_that_never_succeeded(
    failing_store: Path, args: tuple[str, ...]
) -> None:
    check_command(failing_store, *args)


def test_feeds_list_says_null_for_what_never_happened(failing_store: Path) -> None:
    """Today's bug: `"last_ok_at": "NaTZ"` for a feed that never succeeded."""
    feeds = check_command(failing_store, "feeds", "list")
    web = [f for f in feeds if f["kind"] == "http"]
    assert len(web) == 4
    assert all(f["last_ok_at"] is None and f["last_published"] is None for f in web)
    assert all(f["articles"] == 0 and f["error_count"] == 1 for f in web)
    assert {f["last_status"] for f in web} == {500, 404, 410, None}
    gone = next(f for f in web if f["url"].endswith("/gone.xml"))
    assert gone["disabled"] is True and gone["disabled_reason"]
    ingested = next(f for f in feeds if f["kind"] == "file")
    assert ingested["last_fetch_at"] is None and ingested["last_status"] is None
    assert ingested["articles"] > 0 and ingested["last_published"] is not None


@pytest.mark.parametrize("store_kind", ["demo", "empty", "failing"])
def test_export_jsonl_and_fetch_json(
    store_kind: str, demo_store: Path, failing_store: Path, tmp_path: Path
) -> None:
    db = {"demo": demo_store, "empty": tmp_path / "e.duckdb", "failing": failing_store}[store_kind]
    rows = check_lines("export", run(db, "export", "--format", "jsonl"))
    assert all(r["date_source"] in DATE_SOURCES for r in rows)
    if store_kind == "empty":
        assert rows == []
    else:
        assert rows
    # A fetch with nothing due (the demo feeds are not subscribed; the failing ones back off).
    check_lines("fetch", run(db, "fetch", "--json"))


def test_the_articles_json_download_is_the_export_contract(demo_store: Path) -> None:
    from monitor import analyze  # noqa: PLC0415
    from monitor.models import Filters  # noqa: PLC0415

    rows = strict_loads(
        analyze.export_articles(DuckDBStore(demo_store), Filters(), "json").decode()
    )
    assert rows
    for row in rows:
        check("export", row)


def test_schemas_are_valid_and_cover_the_readme_table() -> None:
    """Each command of the README's JSON table has a schema with exactly the documented keys
    (every key required, no other key allowed)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| command | keys |") :].split("\n\n", 1)[0]
    documented: dict[str, list[str]] = {}
    for line in table.splitlines()[2:]:
        _, command_cell, keys_cell, _ = line.split("|")
        command = command_cell.strip().strip("`")
        # Keys are the backticked words outside parentheses (inside are values and notes).
        keys = re.findall(r"`([a-z_0-9]+)`", re.sub(r"\([^)]*\)", "", keys_cell))
        documented[command] = keys
    assert set(documented) == set(COMMANDS)
    for command, name in COMMANDS.items():
        body = schema(name)
        Strict.check_schema(body)
        item = body["items"] if body["type"] == "array" else body
        assert list(item["properties"]) == documented[command], command
        assert item["required"] == documented[command], command
        assert item["additionalProperties"] is False, command


def test_strict_parsing_refuses_what_python_would_print() -> None:
    with pytest.raises(ValueError):
        strict_loads('{"x": NaN}')
    with pytest.raises(jsonschema.ValidationError):
        check(
            "fetch",
            strict_loads(
                '{"sources": 1.0, "failed": 0, "new": 0, "updated": 0, '
                '"unchanged": 0, "linked": 0, "at": "2026-11-01T00:00:00Z"}'
            ),
        )


# Stories (issue 10), with one story's articles; `terms --weight keyness` and `topics` are
# checked against their schemas in tests/test_topics.py.
STORY_QUERIES: list[tuple[str, ...]] = [
    ("stories",),
    ("stories", "--since", "30d", "--lang", "de", "--limit", "5"),
    ("stories", "--search", "no-such-word-anywhere"),
]


@pytest.mark.parametrize("args", STORY_QUERIES, ids=" ".join)
def test_stories_json(demo_store: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    data = check_command(demo_store, *args)
    if args == ("stories",):
        assert data and data[0]["outlets"] >= 2
        story = strict_loads(run(demo_store, "stories", "--story", data[0]["story_id"], "--json"))
        check("story-articles", story)
        assert len({row["id"] for row in story}) == data[0]["articles"]
        assert len({row["feed"] for row in story}) == data[0]["outlets"]
    assert check_command(tmp_path / "empty.duckdb", *args) == []


@pytest.mark.parametrize("store_kind", ["demo", "empty"])
def test_attention_and_saved_queries_json(
    store_kind: str, demo_store: Path, tmp_path: Path
) -> None:
    """`queries list` and `attention` against their schemas, with a saved query in use."""
    db = demo_store if store_kind == "demo" else tmp_path / "e.duckdb"
    if store_kind == "demo":
        db = tmp_path / "demo.duckdb"
        db.write_bytes(demo_store.read_bytes())  # the module's store stays unchanged
    assert check_command(db, "queries", "list") == []
    run(db, "queries", "add", "ukraine", "Ukraine")
    listed = check_command(db, "queries", "list")
    assert [(q["name"], q["version"]) for q in listed] == [("ukraine", 1)]
    for by in ("day", "week", "month"):
        data = strict_loads(
            run(db, "attention", "--query", "@ukraine", "--query", "Politik", "--by", by, "--json")
        )
        check("attention", data)
        assert data["queries"][0]["name"] == "ukraine"
        assert data["queries"][0]["query"].startswith("@ukraine, version 1, edited ")
