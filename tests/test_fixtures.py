"""Fixture feeds that say what the store must hold, in the style of feedparser's suite.

Each file under tests/fixtures/expect/ (and each file under tests/fixtures/feeds/ whose header
has an ``Expect:`` section) is one test: it goes through the real pipeline
(`ingest.ingest_bytes`: parse, normalise, store) into a real DuckDB file, and every check of
its header is made against the stored rows. The syntax is in tests/fixtures/README.md:

    <!--
    Description: three ticker items that all link to the home page stay three articles
    Feed: https://ticker.example/feed
    Expect:
      articles == 3
      article[*].url == "https://ticker.example/"
      article[0].published == 2018-09-24T22:42:40Z
      warning contains "comments"
    -->
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor import analyze, ingest
from monitor.models import Filters
from monitor.parse import parse_feed
from monitor.store import DuckDBStore

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_FETCHED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MISSING = object()  # what a field of an entry the store does not hold reads as

_HEADER = re.compile(r"<!--(.*?)-->", re.DOTALL)
_CHECK = re.compile(
    r"^(?P<target>articles|warning|error|status|summary\.\w+|feed\.\w+|"
    r"article\[(?:\d+|\*)\](?:\.\w+)?)\s+"
    r"(?P<op>==|!=|contains|excludes|>=|<=|>|<|is)\s+(?P<value>.+?)\s*$"
)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")
_ORDER = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Check:
    line: str
    target: str
    op: str
    value: Any


@dataclass(frozen=True)
class Fixture:
    path: Path
    description: str
    feed: str
    fetched: datetime
    before: tuple[Path, ...]
    checks: tuple[Check, ...] = field(default_factory=tuple)


def _value(text: str) -> Any:
    """A check's expected value: JSON (strings, numbers, lists, true, false, null), a bare
    UTC time (2018-09-24T22:42:40Z, compared as text), or the word `missing`."""
    if text == "missing":
        return MISSING
    if _TIME.fullmatch(text):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"not a value (JSON, a UTC time or `missing`): {text}") from None


def header(path: Path) -> dict[str, list[str]] | None:
    """The fields of a fixture's leading comment (`Name: value`, continued on indented
    lines), or None when the file has no such header."""
    match = _HEADER.search(path.read_text(encoding="utf-8", errors="replace")[:20_000])
    if match is None:
        return None
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in match.group(1).splitlines():
        line = raw.strip()
        if not line:
            continue
        named = re.match(r"^([A-Z][A-Za-z-]*):\s*(.*)$", line)
        if named and not raw.startswith((" ", "\t")):
            current = fields.setdefault(named.group(1), [])
            if named.group(2):
                current.append(named.group(2))
        elif current is not None:
            current.append(line)
    return fields


def load(path: Path) -> Fixture:
    fields = header(path)
    if fields is None or "Expect" not in fields:
        raise ValueError(f"{path.name}: no <!-- ... Expect: ... --> header")
    checks = []
    for line in fields["Expect"]:
        match = _CHECK.match(line)
        if match is None:
            raise ValueError(f"{path.name}: cannot read the check {line!r}")
        checks.append(Check(line, match["target"], match["op"], _value(match["value"])))
    fetched = DEFAULT_FETCHED
    if fields.get("Fetched"):
        fetched = datetime.fromisoformat(fields["Fetched"][0].replace("Z", "+00:00"))
    feed = fields["Feed"][0] if fields.get("Feed") else f"https://fixture.example/{path.stem}"
    before = tuple(path.parent / name for line in fields.get("Before", []) for name in line.split())
    description = " ".join(fields.get("Description", []))
    return Fixture(path, description, feed, fetched, before, tuple(checks))


def fixture_files() -> list[Path]:
    """Every fixture with an Expect: header (files without one are only read by others)."""
    found = []
    for folder in ("expect", "feeds"):
        for path in sorted((FIXTURES / folder).glob("*.xml")):
            fields = header(path)
            if fields is not None and "Expect" in fields:
                found.append(path)
    return found


# -- what the store holds ----------------------------------------------------------------


def _feed_url(path: Path) -> str:
    fields = header(path) or {}
    return fields["Feed"][0] if fields.get("Feed") else f"https://fixture.example/{path.stem}"


def _ingest(store: DuckDBStore, path: Path, feed: str, fetched: datetime) -> ingest.SourceReport:
    return ingest.ingest_bytes(
        store, path.read_bytes(), source=path.name, feed_url=feed, kind="http", now=fetched
    )


@dataclass
class Observed:
    report: ingest.SourceReport
    articles: list[dict[str, Any]]  # the feed's stored articles, one per distinct article
    entries: list[dict[str, Any] | None]  # the document's entries in order: their stored rows
    feed: dict[str, Any]


def observe(store: DuckDBStore, fixture: Fixture) -> Observed:
    for earlier in fixture.before:
        report = _ingest(store, earlier, _feed_url(earlier), fixture.fetched)
        assert not report.failed, f"{earlier.name}: {report.error}"
    report = _ingest(store, fixture.path, fixture.feed, fixture.fetched)
    rows = {
        row["id"]: analyze.json_ready(row)
        for row in analyze.export_rows(store, Filters(feeds=(fixture.feed,)))
    }
    with store.read() as con:
        assumed = dict(con.execute("SELECT id, date_assumed_utc FROM articles").fetchall())
        keys = con.execute(
            "SELECT af.entry_key, af.article_id FROM article_feeds af "
            "JOIN feeds f ON f.id = af.feed_id WHERE f.url = ?",
            [fixture.feed],
        ).fetchall()
        cursor = con.execute("SELECT * FROM feeds WHERE url = ?", [fixture.feed])
        names = [d[0] for d in cursor.description or []]
        feed_row = cursor.fetchone()
    for article_id, row in rows.items():
        row["date_assumed_utc"] = assumed.get(article_id)
    by_key = {str(k): str(a) for k, a in keys}
    # The document's entries, in its order, each found by its key in the store (an entry
    # whose guid identified nothing is stored as "guid\nlink").
    parsed = parse_feed(
        fixture.path.read_bytes(),
        source=fixture.path.name,
        feed_url=fixture.feed,
        fetched_at=fixture.fetched,
    )
    entries: list[dict[str, Any] | None] = []
    for article in parsed.articles:
        article_id = by_key.get(article.entry_key) or by_key.get(
            f"{article.entry_key}\n{article.url or 'title:' + article.title}"
        )
        entries.append(rows.get(article_id) if article_id else None)
    feed = dict(zip(names, feed_row, strict=True)) if feed_row else {}
    return Observed(report, list(rows.values()), entries, feed)


def _actual(observed: Observed, target: str) -> list[Any]:
    """The values a check's target names (one per article for article[*])."""
    if target == "articles":
        return [len(observed.articles)]
    if target in ("warning", "error", "status"):
        report = observed.report
        value = {"warning": observed.feed.get("warning") if not report.failed else None}
        value.update(error=report.error, status=report.status)
        return [value[target]]
    if target.startswith("summary."):
        return [ingest.summarize([observed.report]).get(target.split(".", 1)[1], MISSING)]
    if target.startswith("feed."):
        return [observed.feed.get(target.split(".", 1)[1], MISSING)]
    match = re.fullmatch(r"article\[(\d+|\*)\](?:\.(\w+))?", target)
    assert match is not None
    index, name = match.groups()
    if index == "*":
        rows: list[dict[str, Any] | None] = list(observed.articles)
    else:
        position = int(index)
        rows = [observed.entries[position] if position < len(observed.entries) else None]
    if name is None:
        return [MISSING if row is None else "present" for row in rows]
    return [MISSING if row is None else row.get(name, MISSING) for row in rows]


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if op in ("==", "is"):
        return bool(actual == expected) if expected is not MISSING else actual is MISSING
    if op == "!=":
        return not _holds(actual, "==", expected)
    if op in ("contains", "excludes"):
        inside = actual is not None and actual is not MISSING and expected in actual
        return inside if op == "contains" else not inside
    if actual is None or actual is MISSING:
        return False
    return bool(_ORDER[op](actual, expected))


def failures(observed: Observed, fixture: Fixture) -> Iterator[str]:
    for check in fixture.checks:
        values = _actual(observed, check.target)
        if not values:
            yield f"{check.line}: no articles to check"
        for value in values:
            if not _holds(value, check.op, check.value):
                shown = "missing" if value is MISSING else json.dumps(value, ensure_ascii=False)
                yield f"{check.line}: got {shown}"
                break


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path, tmp_path: Path) -> None:
    fixture = load(path)
    observed = observe(DuckDBStore(tmp_path / "fixture.duckdb"), fixture)
    problems = list(failures(observed, fixture))
    assert not problems, f"{path.name} ({fixture.description}):\n  " + "\n  ".join(problems)


def test_there_are_fixtures_and_each_has_a_description() -> None:
    files = fixture_files()
    assert len(files) >= 20
    for path in files:
        fixture = load(path)
        assert fixture.description, f"{path.name} has no Description"
        assert fixture.checks, f"{path.name} checks nothing"


def test_a_check_that_does_not_hold_fails(tmp_path: Path) -> None:
    """The runner can fail: a wrong count, a wrong value and a missing entry are reported."""
    path = tmp_path / "wrong.xml"
    path.write_text(
        "<!--\nDescription: expectations that are false\nExpect:\n  articles == 2\n"
        '  article[0].title == "Nein"\n  article[1].title == "Zwei"\n'
        '  warning contains "x"\n-->\n'
        "<rss version='2.0'><channel><title>t</title><item><title>Eins</title>"
        "<link>https://w.example/1</link></item></channel></rss>",
        encoding="utf-8",
    )
    fixture = load(path)
    problems = list(failures(observe(DuckDBStore(tmp_path / "s.duckdb"), fixture), fixture))
    assert problems == [
        "articles == 2: got 1",
        'article[0].title == "Nein": got "Eins"',
        'article[1].title == "Zwei": got missing',
        'warning contains "x": got null',
    ]


def test_header_errors_name_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<!--\nExpect:\n  article[0].title ~ x\n-->\n<rss/>", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.xml: cannot read the check 'article\[0\]"):
        load(path)
