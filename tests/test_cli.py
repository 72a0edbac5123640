"""The command line: every query's JSON, exit codes, one-line errors, OPML, export, demo."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from feedgen import Item, rss
from httpserver import Reply, Request, TestServer

from monitor import analyze, subscriptions
from monitor.cli import cli, parse_duration, parse_moment
from monitor.models import Filters
from monitor.store import SCHEMA_VERSION, DuckDBStore, open_store

GERMAN = rss(
    [
        Item(
            "Gipfel in Genf",
            link="https://de.example/1?utm_source=x",
            date="Mon, 02 Nov 2026 10:00:00 +0100",
            author="Anna Berg und Jonas Weber",
            categories=["Politik"],
            body="Die Friedensgespräche in Genf gehen weiter. #UkraineKonflikt #Trump",
            comments=4,
        ),
        Item(
            "Haushalt beschlossen",
            link="https://de.example/2",
            date="Tue, 03 Nov 2026 08:30:00 +0100",
            author="Anna Berg",
            categories=["Politik", "Haushalt"],
            body="Der Bundestag hat den Haushalt beschlossen. #ukrainekonflikt",
        ),
    ],
    title="Deutsche Nachrichten",
)
ENGLISH = rss(
    [
        Item(
            "Summit in Geneva",
            link="https://en.example/1",
            date="Wed, 04 Nov 2026 15:00:00 +0000",
            author="mail@en.example (Mark Ellis)",
            categories=["World"],
            body="Peace talks in Geneva continue with negotiators. #Geneva",
        )
    ],
    title="English News",
    language="en",
)


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def as_json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "de.xml").write_bytes(GERMAN)
    (tmp_path / "feeds" / "sub").mkdir()
    (tmp_path / "feeds" / "sub" / "en.rss").write_bytes(ENGLISH)
    (tmp_path / "feeds" / "notes.txt").write_text("not a feed, and not picked up by a folder")
    db = tmp_path / "cli.duckdb"
    result = run(db, "ingest", str(tmp_path / "feeds"))
    assert result.exit_code == 0, result.output
    return db


def test_ingest_reads_folders_recursively_and_reports_per_source(filled: Path) -> None:
    stats = as_json(run(filled, "stats", "--json"))
    assert stats == {
        "articles": 3,
        "stories": 3,
        "feeds": 2,
        "feeds_total": 2,
        "authors": 3,
        "tags": 6,
        "first_published": "2026-11-02T09:00:00Z",
        "last_published": "2026-11-04T15:00:00Z",
        "engine": {
            "name": "duckdb",
            "location": str(filled),
            "version": open_store(filled).info().version,  # DuckDB's own, e.g. "1.4.1"
            "schema_version": SCHEMA_VERSION,
        },
    }


def test_stats_with_filters(filled: Path) -> None:
    stats = as_json(run(filled, "stats", "--json", "--lang", "de", "--since", "2026-11-03"))
    assert stats["articles"] == 1
    assert stats["first_published"] == "2026-11-03T07:30:00Z"
    by_tag = as_json(run(filled, "stats", "--json", "--tag", "#UKRAINEKONFLIKT"))
    assert by_tag["articles"] == 2
    by_author = as_json(run(filled, "stats", "--json", "--author", "Mark Ellis"))
    assert by_author["articles"] == 1
    by_feed = as_json(run(filled, "stats", "--json", "--feed", "Deutsche Nachrichten"))
    assert by_feed["articles"] == 2
    by_search = as_json(run(filled, "stats", "--json", "--search", "genf gipfel"))
    assert by_search["articles"] == 1


def test_tags_json(filled: Path) -> None:
    tags = as_json(run(filled, "tags", "--json"))
    assert isinstance(tags, list)
    assert tags[0] == {"key": "politik", "tag": "Politik", "articles": 2}
    ukraine = next(t for t in tags if t["key"] == "ukrainekonflikt")
    assert ukraine["articles"] == 2
    assert (
        ukraine["tag"] == "UkraineKonflikt"
    )  # the form with capitals, though as used as the other
    assert len(as_json(run(filled, "tags", "--json", "--limit", "1"))) == 1


def test_terms_json_drops_stopwords(filled: Path) -> None:
    terms = as_json(run(filled, "terms", "--json", "--lang", "de"))
    assert isinstance(terms, list)
    words = {t["term"] for t in terms}
    assert {"genf", "haushalt", "friedensgespräch"} <= words  # lemmas
    assert not words & {"der", "die", "und", "nicht", "den", "hat"}
    assert set(terms[0]) == {"term", "count", "articles", "display", "weight"}
    shown = {t["term"]: t["display"] for t in terms}
    assert shown["genf"] == "Genf" and shown["friedensgespräch"] == "Friedensgespräche"
    assert terms[0]["weight"] == 1.0
    assert all(0 < t["weight"] <= 1 for t in terms)


def test_authors_json(filled: Path) -> None:
    authors = as_json(run(filled, "authors", "--json"))
    assert isinstance(authors, list)
    anna = next(a for a in authors if a["author"] == "Anna Berg")
    assert anna["articles"] == 2 and anna["feeds"] == 1
    assert anna["first_published"] == "2026-11-02T09:00:00Z"
    assert anna["top_tags"][0] == "Politik"
    assert {a["author"] for a in authors} == {"Anna Berg", "Jonas Weber", "Mark Ellis"}
    assert authors[0]["author"] == "Anna Berg"  # busiest first
    top = as_json(run(filled, "authors", "--json", "--limit", "1"))
    assert top == [authors[0]]
    assert as_json(run(filled, "authors", "--json", "--limit", "0")) == authors
    # The dashboard's caption: how many there are beyond the ones listed.
    assert analyze.authors(DuckDBStore(filled), Filters(), limit=1).attrs["total"] == 3


@pytest.mark.parametrize(
    ("by", "args", "first", "last", "buckets"),
    [
        # Articles at 09:00 and 07:30 UTC on 2 and 3 Nov, 15:00 on 4 Nov: every hour between.
        ("hour", (), "2026-11-02T09:00:00", "2026-11-04T15:00:00", 55),
        # --since/--until (UTC midnights) widen the range to the window, counted in Berlin
        # time: the window ends at 01:00 on 6 Nov there, so 6 Nov is a (partial) bucket.
        (
            "day",
            ("--since", "2026-10-30", "--until", "2026-11-06", "--tz", "Europe/Berlin"),
            "2026-10-30T00:00:00",
            "2026-11-06T00:00:00",
            8,
        ),
        ("week", ("--since", "2026-10-01"), "2026-09-28T00:00:00", "2026-11-02T00:00:00", 6),
        ("month", ("--since", "2025-12-15"), "2025-12-01T00:00:00", "2026-11-01T00:00:00", 12),
    ],
)
def test_frequency_fills_every_bucket_between_the_ends(
    filled: Path, by: str, args: tuple[str, ...], first: str, last: str, buckets: int
) -> None:
    rows = as_json(run(filled, "frequency", "--json", "--by", by, *args))
    assert isinstance(rows, list)
    assert (rows[0]["bucket"], rows[-1]["bucket"], len(rows)) == (first, last, buckets)
    assert sum(r["count"] for r in rows) == 3
    assert len({r["bucket"] for r in rows}) == len(rows)  # one series: one row per bucket


def test_query_commands_do_not_import_pandas(filled: Path) -> None:
    """The query commands print their JSON without pandas (it would be most of their
    start-up time on a big store); the dashboard converts their Tables itself."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from monitor.cli import cli\n"
        "for args in (['stats'], ['frequency', '--split', 'tag'], ['tags'], ['terms'],"
        " ['authors']):\n"
        "    result = CliRunner().invoke(cli, ['--db', sys.argv[1], *args, '--json'])\n"
        "    assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(filled)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_frequency_json_by_day_in_a_time_zone(filled: Path) -> None:
    rows = as_json(run(filled, "frequency", "--json", "--by", "day", "--tz", "Europe/Berlin"))
    assert rows == [
        {"bucket": "2026-11-02T00:00:00", "series": "all", "count": 1},
        {"bucket": "2026-11-03T00:00:00", "series": "all", "count": 1},
        {"bucket": "2026-11-04T00:00:00", "series": "all", "count": 1},
    ]
    split = as_json(run(filled, "frequency", "--json", "--by", "week", "--split", "feed"))
    assert {r["series"] for r in split} == {"Deutsche Nachrichten", "English News"}
    assert sum(r["count"] for r in split) == 3


def test_frequency_zero_fills_the_asked_window(filled: Path) -> None:
    rows = as_json(
        run(filled, "frequency", "--json", "--since", "2026-11-01", "--until", "2026-11-06")
    )
    assert [r["count"] for r in rows] == [0, 1, 1, 1, 0]


def test_feeds_list_json_shows_state(filled: Path) -> None:
    feeds = as_json(run(filled, "feeds", "list", "--json"))
    assert isinstance(feeds, list) and len(feeds) == 2
    assert {f["title"] for f in feeds} == {"Deutsche Nachrichten", "English News"}
    assert all(f["url"].startswith("file://") for f in feeds)
    assert {f["articles"] for f in feeds} == {2, 1}


def test_export_jsonl_csv_parquet(filled: Path, tmp_path: Path) -> None:
    lines = run(filled, "export", "--format", "jsonl").output.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 3
    first = rows[0]
    assert list(first) == [
        "id", "url", "feed_urls", "title", "authors", "published", "date_source", "language",
        "tags", "word_count", "reading_minutes", "comments", "text",
    ]  # fmt: skip
    geneva = next(r for r in rows if r["title"] == "Gipfel in Genf")
    assert geneva["url"] == "https://de.example/1"
    assert geneva["authors"] == ["Anna Berg", "Jonas Weber"]
    assert geneva["published"] == "2026-11-02T09:00:00Z"
    assert geneva["date_source"] == "feed"
    assert geneva["comments"] == 4
    assert geneva["language"] == "de"
    assert "#UkraineKonflikt" not in geneva["tags"] and "UkraineKonflikt" in geneva["tags"]

    out = tmp_path / "a.csv"
    assert (
        run(filled, "export", "--format", "csv", "--out", str(out), "--lang", "en").exit_code == 0
    )
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(table) == 1 and table[0]["authors"] == "Mark Ellis"

    parquet = tmp_path / "a.parquet"
    assert run(filled, "export", "--format", "parquet", "--out", str(parquet)).exit_code == 0
    data = pq.read_table(parquet).to_pylist()
    assert len(data) == 3 and set(data[0]) >= {"id", "authors", "tags", "published"}


def test_opml_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "o.duckdb"
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="Politik"><outline type="rss" text="Tagesschau" '
        'xmlUrl="https://www.tagesschau.de/index~rss2.xml"/></outline>'
        '<outline type="rss" text="heise" xmlUrl="https://www.heise.de/rss/heise.rdf"/>'
        '<outline type="rss" text="bad" xmlUrl="ftp://x.example/feed"/>'
        "</body></opml>"
    )
    result = run(db, "feeds", "import", str(opml))
    assert result.exit_code == 0, result.output
    assert "3 feeds in the file, 2 new" in result.output
    out = tmp_path / "out.opml"
    assert run(db, "feeds", "export", str(out)).exit_code == 0
    again = tmp_path / "again.duckdb"
    assert "2 feeds in the file, 2 new" in run(again, "feeds", "import", str(out)).output
    listed = as_json(run(again, "feeds", "list", "--json"))
    assert isinstance(listed, list)
    assert {(f["url"], f["name"]) for f in listed} == {
        ("https://www.tagesschau.de/index~rss2.xml", "Tagesschau"),
        ("https://www.heise.de/rss/heise.rdf", "heise"),
    }


def test_feeds_add_remove(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    assert "added" in run(db, "feeds", "add", "https://a.example/feed", "--name", "A").output
    again = run(db, "feeds", "add", "https://a.example/feed")
    assert "already subscribed" in again.output
    refused = run(db, "feeds", "add", "notaurl")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        "monitor: notaurl: not a URL (give a feed's address, e.g. https://example.com/feed)"
    ]
    removed = run(db, "feeds", "remove", "https://a.example/feed")
    assert removed.exit_code == 0
    assert removed.stdout.strip() == "removed https://a.example/feed and 0 articles only it carried"
    assert as_json(run(db, "feeds", "list", "--json")) == []


def test_parse_helpers() -> None:
    assert parse_duration("1h30m").total_seconds() == 5400
    with pytest.raises(ValueError):
        parse_duration("soon")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert parse_moment("7d", now=now) == datetime(2026, 11, 13, 12, tzinfo=UTC)
    assert parse_moment("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment("2026-11-01T08:00+01:00").hour == 8
    with pytest.raises(ValueError, match="not a date"):
        parse_moment("yesterday-ish")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    assert run(db, "stats", "--since", "someday").exit_code == 2
    assert run(db, "frequency", "--by", "decade").exit_code == 2
    assert run(db, "frequency", "--tz", "Mars/Olympus").exit_code == 2
    assert run(db, "fetch", "--every", "often").exit_code == 2
    assert run(db, "ingest").exit_code == 2


# -- bad input, as a real process: exit codes and one line, never a traceback ---------------


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_sources_fail_alone_with_one_line_each(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_bytes(GERMAN)
    html_page = tmp_path / "page.xml"
    html_page.write_text("<!doctype html><html><head><title>Hi</title></head><body>x</body></html>")
    binary = tmp_path / "image.rss"
    binary.write_bytes(bytes(range(256)) * 40)
    db = tmp_path / "bad.duckdb"
    result = monitor(
        "--db", str(db), "ingest", str(tmp_path / "missing.xml"), str(html_page), str(binary),
        str(good), "http://127.0.0.1:9/feed.xml",
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 4, result.stderr
    assert any("missing.xml: failed: no such file" in e for e in errors)
    assert any("page.xml: failed: not a feed" in e for e in errors)
    assert any("image.rss: failed: not a feed" in e for e in errors)
    assert any("127.0.0.1:9/feed.xml: failed: cannot connect" in e for e in errors)
    # The good source is stored, and nothing of the bad ones.
    assert analyze.stats(DuckDBStore(db), Filters())["articles"] == 2
    assert analyze.stats(DuckDBStore(db), Filters())["feeds_total"] == 1


def test_unparseable_date_falls_back_to_first_seen(tmp_path: Path) -> None:
    feed = tmp_path / "dates.xml"
    feed.write_bytes(
        rss([Item("Komisches Datum", link="https://x.example/1", date="am Dienstag nach Ostern")])
    )
    db = tmp_path / "d.duckdb"
    assert monitor("--db", str(db), "ingest", str(feed)).returncode == 0
    rows = list(analyze.export_rows(DuckDBStore(db), Filters()))
    assert rows[0]["date_source"] == "first-seen"


def test_store_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("hello")
    result = monitor("--db", str(bogus), "stats", "--json")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"monitor: {bogus}: is not a DuckDB database")
    assert bogus.read_text() == "hello"


# -- feeds enable and retry; one exit code per fault -----------------------------------------


def _feed_server(server: TestServer, path: str, replies: list[Reply]) -> str:
    """`path` answers with `replies` in turn (the last one from then on)."""
    queue = list(replies)

    def answer(_request: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    server.route(path, handler=answer)
    return server.url(path)


FEED_OK = Reply(200, GERMAN, {"Content-Type": "application/rss+xml"})


def _subscribe(db: Path, url: str) -> None:
    """Subscribe without `feeds add`'s check fetch: these servers fail from the start."""
    subscriptions.add_feeds(DuckDBStore(db), [url])


def test_feeds_enable_fetches_a_feed_disabled_by_410_again(
    tmp_path: Path, server: TestServer
) -> None:
    db = tmp_path / "e.duckdb"
    url = _feed_server(server, "/gone.xml", [Reply(410, b"gone"), FEED_OK])
    _subscribe(db, url)
    assert run(db, "fetch").exit_code == 1
    (feed,) = as_json(run(db, "feeds", "list", "--json"))
    assert feed["disabled"] is True and "410" in feed["disabled_reason"]
    # Disabled: not even --all fetches it.
    run(db, "fetch", "--all")
    assert len(server.requests_for("/gone.xml")) == 1

    result = run(db, "feeds", "enable", url)
    assert result.exit_code == 0 and f"enabled {url}" in result.stdout
    (feed,) = as_json(run(db, "feeds", "list", "--json"))
    assert (feed["disabled"], feed["disabled_reason"], feed["error_count"]) == (False, None, 0)
    assert feed["next_due_at"] is None
    assert run(db, "fetch").exit_code == 0
    assert len(server.requests_for("/gone.xml")) == 2
    assert as_json(run(db, "stats", "--json"))["articles"] == 2


def test_feeds_retry_ends_the_backoff(tmp_path: Path, server: TestServer) -> None:
    db = tmp_path / "r.duckdb"
    url = _feed_server(server, "/flaky.xml", [Reply(500, b"down"), FEED_OK])
    _subscribe(db, url)
    assert run(db, "fetch").exit_code == 1
    # In backoff: the next run leaves it alone.
    assert run(db, "fetch").exit_code == 0
    assert len(server.requests_for("/flaky.xml")) == 1

    result = run(db, "feeds", "retry", url)
    assert result.exit_code == 0 and "the next fetch reads it" in result.stdout
    assert run(db, "fetch").exit_code == 0
    assert len(server.requests_for("/flaky.xml")) == 2
    (feed,) = as_json(run(db, "feeds", "list", "--json"))
    assert (feed["error_count"], feed["last_status"]) == (0, 200)


def test_feeds_retry_refuses_a_disabled_feed(tmp_path: Path, server: TestServer) -> None:
    db = tmp_path / "d.duckdb"
    url = _feed_server(server, "/gone.xml", [Reply(410, b"gone")])
    _subscribe(db, url)
    run(db, "fetch")
    result = run(db, "feeds", "retry", url)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"monitor: {url}: the feed is disabled; enable it to fetch it again"
    ]
    (feed,) = as_json(run(db, "feeds", "list", "--json"))
    assert feed["next_due_at"] is not None  # the refused retry changed nothing


@pytest.mark.parametrize(
    "command",
    [
        ("feeds", "add"),
        ("feeds", "remove"),
        ("feeds", "enable"),
        ("feeds", "retry"),
    ],
    ids=" ".join,
)
def test_the_same_fault_gives_the_same_exit_code(tmp_path: Path, command: tuple[str, ...]) -> None:
    """Today `feeds add notaurl` exits 2 and `feeds remove notaurl` exits 1."""
    db = tmp_path / "x.duckdb"
    # Not a URL at all: what was typed cannot be right, 2.
    result = run(db, *command, "notaurl")
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("monitor: notaurl: not a") and "URL" in line
    if command[1] != "add":
        # A URL no feed has: well formed, refused by the store, 1.
        result = run(db, *command, "https://nowhere.example/feed")
        assert result.exit_code == 1, result.output
        assert result.stderr.strip().splitlines() == [
            "monitor: https://nowhere.example/feed: no such feed"
        ]


def test_feeds_import_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "i.duckdb"
    missing = run(db, "feeds", "import", str(tmp_path / "missing.opml"))
    assert missing.exit_code == 1
    assert missing.stderr.strip().splitlines() == [
        f"monitor: {tmp_path / 'missing.opml'}: No such file or directory"
    ]
    text = tmp_path / "notes.opml"
    text.write_text("just some notes")
    broken = run(db, "feeds", "import", str(text))
    assert broken.exit_code == 1
    (line,) = broken.stderr.strip().splitlines()
    assert line.startswith(f"monitor: {text}: ")
    # A bad URL inside a good file is skipped with a line, as `feeds add` would refuse it.
    mixed = tmp_path / "mixed.opml"
    mixed.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline type="rss" text="ok" xmlUrl="https://ok.example/feed"/>'
        '<outline type="rss" text="bad" xmlUrl="notaurl"/></body></opml>'
    )
    result = run(db, "feeds", "import", str(mixed))
    assert result.exit_code == 0
    assert "2 feeds in the file, 1 new" in result.stdout
    assert "notaurl" in result.stderr


def test_feeds_list_text_has_no_missing_markers(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    run(db, "feeds", "add", "https://never.example/feed")
    feed = tmp_path / "de.xml"
    feed.write_bytes(GERMAN)
    run(db, "ingest", str(feed))
    lines = run(db, "feeds", "list").stdout.strip().splitlines()
    assert len(lines) == 2
    for bad in ("NaT", "nan", "NaN", "None", "<NA>"):
        assert not any(bad in line for line in lines), lines
    assert lines[0] == "[ok] https://never.example/feed  (0 articles)"
