"""Saved queries and attention (issue 11): the CLI and the analysis on a real DuckDB store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import analyze, savedqueries
from monitor.cli import cli
from monitor.errors import InputError
from monitor.models import Filters
from monitor.store import DuckDBStore


def run(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == code, (args, result.output)
    return result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("attention") / "demo.duckdb"
    run(db, "demo")
    return db


@pytest.fixture
def db(demo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.duckdb"
    copy.write_bytes(demo.read_bytes())
    return copy


def test_queries_add_edit_list_remove(db: Path) -> None:
    assert "version 1" in run(db, "queries", "add", "ukraine", "Ukraine")
    assert "version 2" in run(db, "queries", "add", "ukraine", "Ukraine Kiew")
    listed = json.loads(run(db, "queries", "list", "--json"))
    assert [(q["name"], q["query"], q["version"]) for q in listed] == [
        ("ukraine", "Ukraine Kiew", 2)
    ]
    assert "removed" in run(db, "queries", "remove", "ukraine")
    assert json.loads(run(db, "queries", "list", "--json")) == []


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("add", "bad name", "x"), 2, "letters, digits"),
        (("add", "a/b", "x"), 2, "letters, digits"),
        (("add", "x" * 65, "x"), 2, "letters, digits"),
        (("add", "ok", "   "), 2, "empty"),
        (("add", "ok", "@nowhere"), 2, 'unknown saved query "@nowhere"'),
        (("add", "self", "@self"), 2, "itself"),
        (("remove", "nowhere"), 1, "no saved query named 'nowhere'"),
    ],
)
def test_bad_names_and_texts_get_one_line(
    db: Path, args: tuple[str, ...], code: int, says: str
) -> None:
    out = run(db, "queries", *args, code=code)
    assert says in out and len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_attention_cli_equals_the_analysis(db: Path) -> None:
    """The JSON is analyze.attention's numbers; the totals are the view's articles per
    bucket (frequency's), whatever the query."""
    run(db, "queries", "add", "ukraine", "Ukraine")
    data = json.loads(
        run(
            db,
            "attention",
            "--query",
            "@ukraine",
            "--query",
            "Politik",
            "--by",
            "week",
            "--tz",
            "Europe/Berlin",
            "--json",
        )
    )
    store = DuckDBStore(db)
    parsed = [savedqueries.parse(t, savedqueries.resolver(store)) for t in ("@ukraine", "Politik")]
    result = analyze.attention(store, Filters(), parsed, by="week", timezone="Europe/Berlin")
    assert [r["count"] for r in data["rows"]] == [r[2] for r in result.series.rows]
    freq = analyze.frequency(store, Filters(), by="week", timezone="Europe/Berlin")
    totals = {b.isoformat(timespec="seconds"): n for b, _, n in freq.rows}
    for row in data["rows"]:
        assert row["total"] == totals[row["bucket"]]
        assert row["share"] == (row["count"] / row["total"] if row["total"] else 0.0)
    assert data["articles"] == sum(totals.values())
    assert data["queries"][0]["query"].startswith("@ukraine, version 1, edited ")
    assert {r["query"] for r in data["share_of_voice"]} == {
        data["queries"][0]["query"],
        "Politik",
    }
    assert str(data["matching_several"]) in data["note"] or "no article" in data["note"]
    for detail in data["details"]:
        for article in detail["newest"]:
            assert article["url"] is None or article["url"].startswith(("http://", "https://"))


def test_more_than_six_queries_are_refused(db: Path) -> None:
    args = [a for i in range(7) for a in ("--query", f"w{i}")]
    out = run(db, "attention", *args, code=2)
    assert "at most 6" in out


def test_names_are_checked() -> None:
    assert savedqueries.check_name("@eu-2_x") == "eu-2_x"
    with pytest.raises(InputError):
        savedqueries.check_name("eu;drop")
    with pytest.raises(InputError):
        savedqueries.check_name("")


def test_unknown_saved_query_in_attention(db: Path) -> None:
    with pytest.raises(InputError, match='unknown saved query "@nope"'):
        savedqueries.parse("@nope", savedqueries.resolver(DuckDBStore(db)))


def test_only_web_links_come_out() -> None:
    assert analyze._web_link("javascript:alert(1)") is None
    assert analyze._web_link("data:text/html,x") is None
    assert analyze._web_link(" https://example.org/a ") == "https://example.org/a"
    assert analyze._web_link(None) is None
