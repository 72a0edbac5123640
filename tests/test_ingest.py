"""The pipeline over whole runs: the shared real-world feeds, hostile documents beside good
ones. (The --every loop and its stop: test_signals.py.)"""

from __future__ import annotations

import csv
import gc
from pathlib import Path

from feedgen import Item, rss

from monitor import ingest
from monitor.store import DuckDBStore


def test_every_shared_feed_ingests_with_feedparsers_entry_count(
    shared_feeds: Path, store: DuckDBStore
) -> None:
    with (shared_feeds / "SOURCES.tsv").open(encoding="utf-8") as handle:
        expected = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
    reports = ingest.ingest_sources(store, [str(shared_feeds)])
    assert {Path(r.source).name for r in reports} == set(expected)
    assert not [r.line() for r in reports if r.failed]
    with store.read() as con:
        per_feed = {
            Path(str(url)).name: int(n)
            for url, n in con.execute(
                "SELECT fd.url, count(af.article_id) FROM feeds fd "
                "LEFT JOIN article_feeds af ON af.feed_id = fd.id GROUP BY fd.url"
            ).fetchall()
        }
        with_author = {
            Path(str(url)).name: int(n)
            for url, n in con.execute(
                "SELECT fd.url, count(DISTINCT au.article_id) FROM feeds fd "
                "JOIN article_feeds af ON af.feed_id = fd.id "
                "JOIN article_authors au ON au.article_id = af.article_id GROUP BY fd.url"
            ).fetchall()
        }
        with_tags = {
            Path(str(url)).name: int(n)
            for url, n in con.execute(
                "SELECT fd.url, count(DISTINCT tg.article_id) FROM feeds fd "
                "JOIN article_feeds af ON af.feed_id = fd.id "
                "JOIN article_tags tg ON tg.article_id = af.article_id "
                "WHERE tg.source = 'category' GROUP BY fd.url"
            ).fetchall()
        }
        dated = {
            Path(str(url)).name: int(n)
            for url, n in con.execute(
                "SELECT fd.url, count(*) FROM feeds fd JOIN article_feeds af "
                "ON af.feed_id = fd.id JOIN articles a ON a.id = af.article_id "
                "WHERE a.date_source <> 'first-seen' GROUP BY fd.url"
            ).fetchall()
        }
    for name, row in expected.items():
        assert per_feed.get(name, 0) == int(row["fp_entries"]), name
        # Feed-level authors (heise) count for their entries: at least what feedparser saw.
        assert with_author.get(name, 0) >= int(row["fp_entries_with_author"]), name
        assert dated.get(name, 0) == int(row["fp_entries_with_parsed_date"]), name
        if int(row["fp_entries_with_tags"]) and name.startswith(("anime2you", "oren")):
            assert with_tags.get(name, 0) == int(row["fp_entries_with_tags"]), name
    # Idempotent over the whole folder.
    again = ingest.ingest_sources(store, [str(shared_feeds)])
    assert sum(r.counts.new + r.counts.updated for r in again) == 0


def _entity_bomb() -> bytes:
    """A billion laughs: ten levels of ten references each (10**10 "lol"s if expanded)."""
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE rss [", '<!ENTITY lol0 "lol">']
    for n in range(1, 11):
        lines.append(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">')
    lines.append("]>")
    lines.append("<rss version='2.0'><channel><title>&lol10;</title>")
    lines.append("<item><title>Bombe &lol10;</title><link>https://bomb.example/1</link></item>")
    lines.append("</channel></rss>")
    return "\n".join(lines).encode()


def test_hostile_documents_end_in_bounded_time_and_others_are_stored(
    tmp_path: Path, store: DuckDBStore
) -> None:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "a-bomb.xml").write_bytes(_entity_bomb())
    items = "".join(
        f"<item><title>t{n}</title><link>https://many.example/{n}</link></item>"
        for n in range(100_000)
    )
    (folder / "b-many.xml").write_bytes(
        f"<rss version='2.0'><channel><title>Many</title>{items}</channel></rss>".encode()
    )
    nested = "<div>" * 100_000 + "tief" + "</div>" * 100_000
    (folder / "c-nested.xml").write_bytes(
        rss([Item("Verschachtelt", link="https://nested.example/1", body=nested)])
    )
    (folder / "d-good.xml").write_bytes(
        rss([Item("Gut", link="https://good.example/1", author="Anna Berg")])
    )
    # No clock here: bench/bench_hostile.py measures these shapes; this checks what is kept.
    reports = {Path(r.source).name: r for r in ingest.ingest_sources(store, [str(folder)])}
    assert reports["d-good.xml"].counts.new == 1
    many = reports["b-many.xml"]
    assert many.counts.new == 10_000 and "kept the first 10000" in (many.warning or "")
    assert reports["c-nested.xml"].counts.new == 1
    bomb = reports["a-bomb.xml"]
    assert not bomb.failed and bomb.counts.new == 1, bomb.line()
    assert "entity declarations ignored" in (bomb.warning or "")
    with store.read() as con:
        longest = con.execute("SELECT max(length(title)) FROM articles").fetchall()[0][0]
        warnings = dict(con.execute("SELECT url, warning FROM feeds").fetchall())
    assert longest < 10_000  # the entity never expanded into a huge title
    assert "kept the first 10000" in (warnings[(folder / "b-many.xml").resolve().as_uri()] or "")


ISOLATION = Path(__file__).resolve().parent / "fixtures" / "feeds"


def test_one_odd_entry_costs_only_itself_in_a_run(tmp_path: Path, store: DuckDBStore) -> None:
    """Each of these documents stored nothing on the code of 1 Dec (an exception in
    feedparser, or an unclosed comment or CDATA section swallowing the rest); all five of
    their entries are stored now, the reason is the feed's warning, and a good feed in the
    same run is stored as always."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    names = [
        "isolation-charref-out-of-range.rss.xml",
        "isolation-charref-surrogate.rss.xml",
        "isolation-stray-end-tag.rss.xml",
        "isolation-element-handler-fails.rss.xml",
        "isolation-encoding-not-utf8.rss.xml",
        "isolation-encoding-punycode.rss.xml",
        "isolation-unclosed-comment.rss.xml",
        "isolation-unclosed-cdata.rss.xml",
        "isolation-unclosed-source.rss.xml",
    ]
    for name in names:
        (folder / name).write_bytes((ISOLATION / name).read_bytes())
    (folder / "z-good.xml").write_bytes(rss([Item("Gut", link="https://good.example/1")]))
    reports = {Path(r.source).name: r for r in ingest.ingest_sources(store, [str(folder)])}
    assert reports["z-good.xml"].counts.new == 1
    for name in names:
        report = reports[name]
        assert not report.failed and report.counts.new == 5, report.line()
        assert report.warning, name
    with store.read() as con:
        titles = {t for (t,) in con.execute("SELECT title FROM articles").fetchall()}
    assert {f"Good {n}" for n in (1, 2, 4, 5)} <= titles


def test_parse_workers_give_the_same_store_as_one_process(
    shared_feeds: Path, tmp_path: Path
) -> None:
    inline, pooled = (
        DuckDBStore(tmp_path / "inline.duckdb"),
        DuckDBStore(tmp_path / "pooled.duckdb"),
    )
    one = ingest.ingest_sources(inline, [str(shared_feeds)], workers=0)
    two = ingest.ingest_sources(pooled, [str(shared_feeds)], workers=2)
    assert [(r.source, r.status, r.counts) for r in one] == [
        (r.source, r.status, r.counts) for r in two
    ]
    tables = ("articles", "article_tags", "article_terms", "article_authors")
    for table in tables:
        with inline.read() as a, pooled.read() as b:
            sql = f"SELECT * EXCLUDE (published) FROM {table} ORDER BY ALL"
            if table == "articles":
                sql = "SELECT id, title, text, date_source FROM articles ORDER BY id"
            assert a.execute(sql).fetchall() == b.execute(sql).fetchall(), table


def test_a_file_above_the_fetchers_cap_is_refused_in_one_line(
    tmp_path: Path, store: DuckDBStore
) -> None:
    """Files are bounded like responses (10 MB): a 20 MB file of nested markup kept the
    ingest busy for minutes and over a GB on 1 Dec; now it is refused, the others stored."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title><item><title>'
    big = head + b"<b>" * ((20_000_000 - len(head)) // 3)
    (folder / "big.xml").write_bytes(big)
    (folder / "good.xml").write_bytes(rss([Item("Gut", link="https://good.example/1")]))
    reports = {Path(r.source).name: r for r in ingest.ingest_sources(store, [str(folder)])}
    assert reports["good.xml"].counts.new == 1
    assert reports["big.xml"].failed
    (line,) = reports["big.xml"].line().splitlines()
    assert "file larger than 10 MB" in line and "big.xml" in line, line


def test_a_run_collects_garbage_less_while_it_parses_and_gives_the_setting_back(
    shared_feeds: Path, store: DuckDBStore
) -> None:
    before = gc.get_threshold()
    during: list[int] = []
    reports = ingest.ingest_sources(
        store, [str(shared_feeds)], on_report=lambda _: during.append(gc.get_threshold()[0])
    )
    assert len(during) == len(reports) > 10
    assert min(during) >= ingest.COLLECT_EVERY
    assert gc.get_threshold() == before
