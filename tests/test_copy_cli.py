"""`monitor copy SOURCE TARGET` and `monitor migrate`, as a user runs them: real processes, a
DuckDB file and a chDB directory (ClickHouse embedded), the demo store moved there and back."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

MONITOR = Path(sys.executable).with_name("monitor")  # the console script, as a user runs it
needs_chdb = pytest.mark.skipif(
    importlib.util.find_spec("chdb") is None, reason="chdb is not installed (the dev extra has it)"
)


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MONITOR), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stats(location: str) -> dict[str, object]:
    done = monitor("--db", location, "stats", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    data.pop("engine")
    return data


def query(location: str, *args: str) -> object:
    done = monitor("--db", location, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("copy") / "demo.duckdb"
    done = monitor("--db", str(path), "demo")
    assert done.returncode == 0, done.stderr
    return path


@needs_chdb
def test_a_store_copied_to_clickhouse_and_back_answers_the_same(
    demo_db: Path, tmp_path: Path
) -> None:
    ch = f"chdb://{tmp_path / 'ch'}"
    back = str(tmp_path / "back.duckdb")
    there = monitor("copy", str(demo_db), ch, "--batch", "7000")
    assert there.returncode == 0, there.stderr
    assert "every table's count matches" in there.stdout
    assert "article_terms" in there.stderr  # the progress names every table
    home = monitor("copy", ch, back)
    assert home.returncode == 0, home.stderr
    assert stats(str(demo_db)) == stats(ch) == stats(back)
    for args in (
        ("tags", "--limit", "20"),
        ("authors", "--limit", "20"),
        ("frequency", "--by", "week", "--split", "feed", "--tz", "Europe/Berlin"),
        ("terms", "--lang", "de", "--limit", "30"),
    ):
        assert query(str(demo_db), *args) == query(ch, *args) == query(back, *args), args


def test_a_copy_run_again_copies_nothing_and_still_adds_up(demo_db: Path, tmp_path: Path) -> None:
    target = str(tmp_path / "copy.duckdb")
    first = monitor("copy", str(demo_db), target, "--json")
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    assert counts["articles"]["copied"] == counts["articles"]["source"] > 1000
    again = monitor("copy", str(demo_db), target, "--json")
    assert again.returncode == 0, again.stderr
    assert {t: c["copied"] for t, c in json.loads(again.stdout).items()} == dict.fromkeys(counts, 0)
    assert stats(target) == stats(str(demo_db))


def test_a_copy_into_a_store_holding_other_data_is_refused(demo_db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    feed = tmp_path / "one.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        "<item><title>Only here</title><link>https://other.example/a</link>"
        "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>"
    )
    assert monitor("--db", str(other), "ingest", str(feed)).returncode == 0
    before = stats(str(other))
    done = monitor("copy", str(demo_db), str(other))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "holds feeds that are not" in done.stderr
    assert "Traceback" not in done.stderr
    assert stats(str(other)) == before  # nothing was written


def test_copying_a_store_onto_itself_is_refused(demo_db: Path) -> None:
    done = monitor("copy", str(demo_db), str(demo_db))
    assert done.returncode == 2
    assert "same store" in done.stderr and done.stderr.count("\n") == 1


def test_migrate_prints_the_cluster_ddl_and_refuses_a_bad_name(tmp_path: Path) -> None:
    done = monitor("migrate", "--cluster", "newsroom")
    assert done.returncode == 0, done.stderr
    assert "ON CLUSTER 'newsroom'" in done.stdout and "Distributed(" in done.stdout
    bad = monitor("migrate", "--cluster", "x'; DROP TABLE")
    assert bad.returncode == 2 and "not a cluster name" in bad.stderr
    plain = monitor("--db", str(tmp_path / "m.duckdb"), "migrate")
    assert plain.returncode == 0 and "duckdb store at schema version" in plain.stdout
