"""The query language (issue 11): the grammar, its one-line errors, hostile input, and the
engines' answers against the reference evaluator (`queryref`) on both engines."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from engines import engine_of
from queryref import Doc, doc_of, matches, random_queries

from monitor import feedwriter
from monitor.models import Filters
from monitor.parse import parse_feed
from monitor.query import And, Match, Not, Or, QueryError, describe, match_pattern, parse
from monitor.store.base import FeedUpdate, Storage
from monitor.store.clickhouse.sql import Params
from monitor.store.rebuild import rebuild_terms
from monitor.text import index_words

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


# -- the grammar -----------------------------------------------------------------------------


def test_words_are_folded_and_implicitly_anded() -> None:
    assert parse("Straße München").root == And((Match(("strasse",)), Match(("muenchen",))))
    assert parse("strasse").root == parse("STRAßE").root


def test_precedence_is_not_then_and_then_or() -> None:
    root = parse("a b OR NOT c -d").root
    assert root == Or(
        (And((Match(("a",)), Match(("b",)))), And((Not(Match(("c",))), Not(Match(("d",))))))
    )
    assert parse("a AND (b OR c)").root == And((Match(("a",)), Or((Match(("b",)), Match(("c",))))))


def test_phrases_keep_stopwords_and_words_with_separators_are_phrases() -> None:
    assert parse('"die Linke"').root == Match(("die", "linke"))
    assert parse("Ukraine-Konflikt").root == Match(("ukraine", "konflikt"))
    assert parse("die").root == Match(("die",))  # a stopword alone is still a word


def test_fields_prefixes_tags_and_languages() -> None:
    assert parse("title:Zölle").root == Match(("zoelle",), "title")
    assert parse('author:"Anna Alt"').root == Match(("anna", "alt"), "author")
    assert parse("klima*").root == Match(("klima",), prefix=True)
    assert parse("#Börse").root == Match(("börse",), "tag")
    assert parse("tag:EU*").root == Match(("eu",), "tag", prefix=True)
    assert parse("lang:DE").root == Match(("de",), "lang")
    assert parse("and or not").root == And((Match(("and",)), Match(("or",)), Match(("not",))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a OR b)", 'unexpected ")" at 7'),
        ("(a OR b", 'unclosed "(" at 1'),
        ("EU OR (", 'unclosed "(" at 7'),
        ("a (b (c", 'unclosed "(" at 6'),
        ('a "b c', "unclosed quote at 3"),
        ("", "empty query"),
        ("   ", "empty query"),
        ("a AND NOT", "nothing after NOT at 7"),
        ("OR a", "nothing before OR at 1"),
        ("a OR", "nothing after OR at 3"),
        ("()", "empty parentheses at 1"),
        ("titel:x", 'unknown field "titel:" at 1 (did you mean "title:"?)'),
        ("title:", 'nothing after "title:" at 1'),
        ("lang:123", 'not a language code "123" at 1 (e.g. lang:de)'),
        ('x "!!"', 'no words in "!!" at 3'),
        ("@a", 'unknown saved query "@a" at 1'),
    ],
)
def test_errors_point_at_the_place(text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text, resolve=lambda name: None)
    assert str(caught.value) == message


def test_saved_queries_nest_and_cycles_are_refused() -> None:
    saved = {"eu": ('EU OR "Europäische Union"', 3), "a": ("@b", 1), "b": ("@a", 1)}
    q = parse("@eu", resolve=saved.get)
    assert (q.name, q.version) == ("eu", 3)
    assert q.root == Or((Match(("eu",)), Match(("europaeische", "union"))))
    assert describe(q) == "@eu (version 3)"
    assert parse("@eu klima", resolve=saved.get).name is None
    with pytest.raises(QueryError, match="refers to itself"):
        parse("@a", resolve=saved.get)


@pytest.mark.parametrize(
    "text",
    ["(" * 1000 + "a" + ")" * 1000, "NOT " * 500 + "a", '"' * 1999, "a " * 999, "x" * 5000],
)
def test_hostile_queries_end_fast_with_one_line(text: str) -> None:
    start = time.process_time()
    try:
        parse(text)
    except QueryError as error:
        assert "\n" not in str(error)
    assert time.process_time() - start < 1.0


def test_random_texts_raise_nothing_but_query_errors() -> None:
    rng = random.Random(7)
    alphabet = 'ab ()"-*:#@ORANDNOTtitle:lang:ßä\t'
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        try:
            parse(text, resolve=lambda name: None)
        except QueryError:
            pass


# -- the engines against the reference -------------------------------------------------------

VOCABULARY = (
    "Straße", "München", "Zölle", "Zöllen", "Gegenzöllen", "die", "Linke", "Klimawandel",
    "Klima", "Börse", "EU", "Europa", "neue", "Trump", "Putin", "Café", "Hafen", "und",
    "tariffs", "the", "union", "Ukraine", "Konflikt",
)  # fmt: skip


def _fill(store: Storage, rng: random.Random) -> None:
    feeds = (
        ("https://de.example/feed.xml", "Nachrichten Süd", "de"),
        ("https://en.example/feed.xml", "World Desk", "en"),
    )
    authors = ("Anna Alt", "Jörg Müller", "Bob Smith", "Straßer")
    tags = ("Alpha", "Beta", "Klima", "EU", "Börse", "Europa")
    for url, title, language in feeds:
        items = []
        for n in range(30):
            words = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 14)))
            joiner = rng.choice((" ", "-", ", ", " die "))
            items.append(
                feedwriter.Entry(
                    title=joiner.join(rng.sample(VOCABULARY, 2)),
                    link=f"{url}/{n}",
                    guid=f"{url}#{n}",
                    published=NOW - timedelta(hours=7 * n),
                    authors=tuple(rng.sample(authors, rng.randint(0, 2))),
                    categories=tuple(rng.sample(tags, rng.randint(0, 2))),
                    content=f"<p>{words}.</p>",
                )
            )
        body = feedwriter.rss(feedwriter.Channel(title, url, language=language), items)
        parsed = parse_feed(body, source=url, feed_url=url, fetched_at=NOW)
        assert parsed.error is None
        store.save_feeds([FeedUpdate(url=url, kind="file", parsed=parsed, body_hash=url, now=NOW)])


def _ids(store: Storage, f: Filters) -> set[str]:
    return {str(i) for batch in store.export_batches(f) for i in batch["id"]}


def test_engines_agree_with_the_reference(any_store: Storage) -> None:
    rng = random.Random(11)
    _fill(any_store, rng)
    feed_rows = any_store.feeds().records()
    feeds = {
        str(r["url"]): tuple(str(r[k]) for k in ("title", "name", "url") if r.get(k))
        for r in feed_rows
    }
    docs: dict[str, Doc] = {}
    for batch in any_store.export_batches(Filters()):
        for record in batch.records():
            docs[str(record["id"])] = doc_of(record, feeds)
    assert len(docs) == 60
    texts = random_queries(rng, VOCABULARY, 300)
    texts += ["strasse", "Muenchen", '"die Linke"', "zoe*", "zo*", "NOT Hafen", "#EU -Europa"]
    nonempty = 0
    for text in texts:
        q = parse(text)
        want = {i for i, d in docs.items() if matches(q.root, d)}
        got = _ids(any_store, Filters(query=q))
        assert got == want, (text, q.root, sorted(got ^ want)[:5])
        nonempty += 0 < len(want) < len(docs)
    assert nonempty > 100  # the queries tell articles apart


def test_counts_follow_the_query_on_every_read(any_store: Storage) -> None:
    _fill(any_store, random.Random(3))
    everything = any_store.article_count(Filters())
    q = Filters(query=parse("Hafen OR Börse"))
    some = any_store.article_count(q)
    assert 0 < some < everything
    assert any_store.stats(q)["articles"] == some
    assert (
        any_store.article_count(Filters(query=parse("NOT (Hafen OR Börse)"))) == everything - some
    )


def test_pattern_matches_whole_words_in_their_spellings() -> None:
    import re

    # Python's re knows no \pL; the classes it stands for are checked with [^\W_].
    def py(pattern: str) -> re.Pattern[str]:
        return re.compile(pattern.replace(r"[^\pL\pN]", r"[\W_]").replace(r"\pL\pN", ""))

    strasse = py(match_pattern(parse("strasse").root))  # type: ignore[arg-type]
    assert strasse.search("Die Straße ist") and strasse.search("STRASSE")
    assert not strasse.search("Hauptstraße") and not strasse.search("Strassen")


# -- the word index follows the stored articles ----------------------------------------------


def _save_one(store: Storage, title: str, text: str, when: datetime) -> None:
    url = "https://index.example/feed.xml"
    item = feedwriter.Entry(
        title=title, link=f"{url}/1", guid=f"{url}#1", published=NOW, content=f"<p>{text}</p>"
    )
    body = feedwriter.rss(feedwriter.Channel("Index", url, language="de"), [item])
    parsed = parse_feed(body, source=url, feed_url=url, fetched_at=when)
    store.save_feeds([FeedUpdate(url=url, kind="file", parsed=parsed, body_hash=text, now=when)])


def _count(store: Storage, text: str) -> int:
    return store.article_count(Filters(query=parse(text)))


def test_the_word_index_follows_edits_and_removals(any_store: Storage) -> None:
    """An edited entry's old words stop matching and its new ones match (words, phrases,
    fields, prefixes); a removed feed's articles match nothing."""
    _save_one(any_store, "Hafen heute", "Die Linke und der Hafen.", NOW)
    before = ("linke", '"die linke"', "title:hafen", "text:hafen", "haf*", '"hafen heute"')
    assert [_count(any_store, q) for q in before] == [1] * len(before)
    assert _count(any_store, '"linke die"') == 0  # the order of a phrase's words counts
    assert _count(any_store, '"heute die"') == 0  # a phrase never spans title and text

    _save_one(any_store, "Börse heute", "Die Börse schließt früh.", NOW + timedelta(hours=1))
    assert [_count(any_store, q) for q in before] == [0] * len(before)
    after = ("boerse", '"Börse schliesst"', "title:börse", "börs*", '"die boerse"')
    assert [_count(any_store, q) for q in after] == [1] * len(after)

    assert any_store.remove_feed("https://index.example/feed.xml") is not None
    assert [_count(any_store, q) for q in after] == [0] * len(after)


def _drop_word_index(store: Storage) -> int:
    """Empty the word index (as a store from before it has none) and say how many rows it
    held; the engines' own SQL, as the storage interface has no such call."""
    if engine_of(store) == "duckdb":
        with store.write() as con:  # type: ignore[attr-defined]
            row = con.execute("SELECT count(*) FROM article_words").fetchone()
            con.execute("DELETE FROM article_words")
            con.execute("DELETE FROM word_vocabulary")
        return int(row[0])
    _, rows = store._run("SELECT count() FROM article_words", Params())  # type: ignore[attr-defined]
    store._command("TRUNCATE TABLE article_words")  # type: ignore[attr-defined]
    return int(rows[0][0])


def test_an_upgraded_store_scans_until_the_rebuild_fills_the_index(any_store: Storage) -> None:
    """Schema 8 marks a store with articles for the term rebuild: until it has run, words are
    matched by a scan of the texts (the same answers), and the rebuild fills the index."""
    _fill(any_store, random.Random(5))
    texts = random_queries(random.Random(6), VOCABULARY, 40) + ['"die Linke"', "zoe*"]
    want = [_ids(any_store, Filters(query=parse(t))) for t in texts]
    assert sum(0 < len(w) < 60 for w in want) > 15
    assert _drop_word_index(any_store) > 500
    any_store.replace_terms([], (datetime(1970, 1, 1), ""))  # what the migration marks
    assert [_ids(any_store, Filters(query=parse(t))) for t in texts] == want
    report = rebuild_terms(any_store, batch=25)
    assert report is not None and report.articles == 60
    assert any_store.terms_rebuild() is None
    assert [_ids(any_store, Filters(query=parse(t))) for t in texts] == want
    assert _drop_word_index(any_store) > 500  # filled again


def test_duckdb_keeps_its_word_index_sorted_by_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the rows written since the last sort pass a quarter of the index, a feed write
    sorts it by word again (what lets DuckDB skip the row groups of other words); the
    answers stay those of the reference."""
    from monitor.store import DuckDBStore
    from monitor.store.duckdb import write

    monkeypatch.setattr(write, "WORDS_UNSORTED_MIN", 50)
    store = DuckDBStore(tmp_path / "sorted.duckdb")
    _fill(store, random.Random(8))
    with store.write() as con:
        total, done = con.execute(
            "SELECT (SELECT count(*) FROM article_words), "
            "(SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'words_sorted')"
        ).fetchone()
        words = [r[0] for r in con.execute("SELECT word FROM article_words").fetchall()]
    assert total > 500 and 0 < done <= total and (total - done) * 4 < done + 200
    assert words[:done] == sorted(words[:done])  # the sorted part is in word order
    docs = {
        str(r["id"]): doc_of(r, {}) for b in store.export_batches(Filters()) for r in b.records()
    }
    for text in random_queries(random.Random(9), VOCABULARY, 60):
        q = parse(text)
        if "feed:" in text:  # the reference needs the feeds' names for these
            continue
        want = {i for i, d in docs.items() if matches(q.root, d)}
        assert _ids(store, Filters(query=q)) == want, text


def test_duckdb_word_rows_of_edits_and_removals_go_at_the_next_sort(tmp_path: Path) -> None:
    """An edit or a removal deletes nothing from the big index (that would read all of it):
    the older rows stop counting at once and the next sort drops them."""
    from monitor.store import DuckDBStore
    from monitor.store.duckdb import write

    store = DuckDBStore(tmp_path / "gens.duckdb")
    _save_one(store, "Hafen heute", "Die Linke und der Hafen.", NOW)
    _save_one(store, "Börse heute", "Die Börse schließt früh.", NOW + timedelta(hours=1))
    assert (_count(store, "linke"), _count(store, "boerse")) == (0, 1)

    def rows() -> tuple[int, int]:
        with store.write() as con:
            found = con.execute(
                "SELECT (SELECT count(*) FROM article_words), (SELECT count(*) FROM article_gen)"
            ).fetchone()
        return int(found[0]), int(found[1])

    indexed, named = rows()
    assert named == 1 and indexed > 10  # both versions' rows, the article's generation named
    with store.write() as con:
        assert write.sort_words(con, force=True)
    assert rows() == (len(index_words("Börse heute", "Die Börse schließt früh.")), 0)
    assert (_count(store, "linke"), _count(store, "boerse")) == (0, 1)
    assert store.remove_feed("https://index.example/feed.xml") is not None
    assert _count(store, "boerse") == 0 and rows()[1] == 1
    with store.write() as con:
        write.sort_words(con, force=True)
    assert rows() == (0, 0)
