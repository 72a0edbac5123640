"""Parallel parsing is decided by the amount of work, and changes nothing that is stored.

Speed itself is measured in bench/bench_ingest.py (two corpus shapes side by side); these
tests check the decision and that worker processes store exactly what one process stores.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from feedgen import Item, rss

from monitor import ingest
from monitor.store import DuckDBStore

MB = 1_000_000


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "_cores", lambda: 2)


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize(
    ("documents", "size", "workers"),
    [
        (60, 70 * MB, 2),  # few large feeds: 60 x 200 long articles
        (8, 20 * MB, 2),
        (150, 150 * 2_000, 0),  # many tiny feeds: not worth starting processes
        (60, 1 * MB, 0),
        (1, 50 * MB, 0),  # one document is parsed by one process anyway
        (2, ingest.PARALLEL_BYTES, 2),
        (120, None, 2),  # size unknown: a typical feed document each
        (20, None, 0),
    ],
)
def test_workers_follow_the_amount_of_work(documents: int, size: int | None, workers: int) -> None:
    assert ingest.parse_workers(documents, size) == workers


def test_workers_never_outnumber_documents_or_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "_cores", lambda: 8)
    assert ingest.parse_workers(3, 30 * MB) == 3
    assert ingest.parse_workers(50, 300 * MB) == 4
    monkeypatch.setattr(ingest, "_cores", lambda: 1)
    assert ingest.parse_workers(50, 300 * MB) == 0


def _large_feeds(folder: Path, feeds: int = 4, items: int = 40) -> list[Path]:
    folder.mkdir()
    paths = []
    for f in range(feeds):
        body = " ".join(f"Absatz {n} über Haushalt, Energie und Außenpolitik." for n in range(60))
        entries = [
            Item(
                f"Langer Artikel {f}-{i}",
                link=f"https://large{f}.example/{i}",
                author="Anna Berg und Jonas Weber",
                categories=("Politik", "Energie"),
                body=f"{body} #Haushalt #Energie{i % 3}",
                comments=i,
            )
            for i in range(items)
        ]
        path = folder / f"large-{f}.xml"
        path.write_bytes(rss(entries, title=f"Große Zeitung {f}"))
        paths.append(path)
    return paths


def test_ingest_decides_by_bytes_and_workers_store_what_one_process_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_cores: None
) -> None:
    paths = _large_feeds(tmp_path / "feeds")
    size = sum(p.stat().st_size for p in paths)
    # Four documents are "a lot of work" here, so that the test stays small.
    monkeypatch.setattr(ingest, "PARALLEL_BYTES", size // 2)
    chosen: list[tuple[int, int | None, int]] = []
    real = ingest.parse_workers

    def recording(documents: int, size: int | None = None) -> int:
        workers = real(documents, size)
        chosen.append((documents, size, workers))
        return workers

    monkeypatch.setattr(ingest, "parse_workers", recording)
    pooled, inline = (
        DuckDBStore(tmp_path / "pooled.duckdb"),
        DuckDBStore(tmp_path / "inline.duckdb"),
    )
    two = ingest.ingest_sources(pooled, [str(tmp_path / "feeds")])
    assert chosen == [(4, size, 2)]  # the caller hands over the bytes of its sources
    one = ingest.ingest_sources(inline, [str(tmp_path / "feeds")], workers=0)
    assert [(r.source, r.status, r.counts) for r in one] == [
        (r.source, r.status, r.counts) for r in two
    ]
    assert sum(r.counts.new for r in two) == 160
    queries = {
        "articles": "SELECT * EXCLUDE (first_seen, updated_at) FROM articles ORDER BY id",
        "article_feeds": "SELECT * EXCLUDE (feed_id, first_seen) FROM article_feeds ORDER BY ALL",
        "article_authors": "SELECT * FROM article_authors ORDER BY ALL",
        "article_tags": "SELECT * FROM article_tags ORDER BY ALL",
        "article_terms": "SELECT * FROM article_terms ORDER BY ALL",
        "term_daily": "SELECT * FROM term_daily ORDER BY ALL",
        # The parse processes sign each article for its story; one process signs it itself.
        "article_stories": "SELECT * FROM article_stories ORDER BY ALL",
        "story_bands": "SELECT * FROM story_bands ORDER BY ALL",
    }
    for table, sql in queries.items():
        with pooled.read() as a, inline.read() as b:
            assert a.execute(sql).fetchall() == b.execute(sql).fetchall(), table


class _EndsTheProcess:
    """Unpickled in a parse worker, it ends that process at once, as a crash would."""

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return (os._exit, (3,))


def test_a_worker_that_dies_costs_only_its_own_document(tmp_path: Path) -> None:
    """A dying worker broke the whole pool: every document it held failed with 'A process
    in the process pool was terminated abruptly' (seen in CI, good feeds among them)."""
    store = DuckDBStore(tmp_path / "w.duckdb")
    good = [
        ingest.Document(
            f"good-{n}.xml",
            f"file:///good-{n}.xml",
            "file",
            rss([Item(f"Gut {n}", link=f"https://good.example/{n}")]),
        )
        for n in range(6)
    ]
    killer = ingest.Document(
        "killer.xml",
        "file:///killer.xml",
        "file",
        rss([Item("Nie", link="https://never.example/1")]),
        headers={"x": _EndsTheProcess()},  # type: ignore[dict-item]
    )
    reports = ingest.ingest_documents(store, [*good[:3], killer, *good[3:]], workers=2)
    by_source = {r.source: r for r in reports}
    assert by_source["killer.xml"].failed
    assert "parse process ended" in (by_source["killer.xml"].error or "")
    for document in good:
        report = by_source[document.source]
        assert not report.failed and report.counts.new == 1, report.line()
