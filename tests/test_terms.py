"""Terms for topic clouds (issue 10): lemmas per language, display forms, two-word phrases,
user stopwords on lemmas, the rebuild of an existing store's terms, and the demo store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_conformance import A_URL, ALL, document, item, save

from monitor import text
from monitor.cli import cli
from monitor.models import Filters
from monitor.store.base import Storage
from monitor.store.rebuild import rebuild_terms
from monitor.text import PHRASE_MIN_COUNT, stopwords, term_key, terms, text_stats


def stats(title: str, body: str, language: str | None) -> dict[str, tuple[int, str]]:
    return {key: (n, form) for key, n, form in text_stats(title, body, language)[1]}


def test_inflections_are_one_term_shown_in_their_most_common_form() -> None:
    found = stats(
        "Zölle: USA drohen Brüssel",
        "Die USA erheben Zölle. Brüssel antwortet auf die Zölle mit eigenen Zöllen.",
        "de",
    )
    assert found["zoll"] == (4, "Zölle")
    assert found["usa"] == (2, "USA") and found["brüssel"] == (2, "Brüssel")
    assert "zöllen" not in found and "zölle" not in found
    # A compound is a term of its own (a counter-tariff is not a tariff), its inflections one.
    compound = stats("", "Gegenzöllen, Gegenzölle und Zölle", "de")
    assert compound["gegenzoll"][0] == 2 and compound["zoll"][0] == 1
    assert term_key("Zöllen", "de") == term_key("zölle", "de") == "zoll"


def test_a_headline_capital_loses_to_the_text() -> None:
    # Title Case in the title, lower case in the body: the body's form wins the tie.
    assert stats("Trump Announces Tariffs", "The tariffs rose.", "en")["tariff"] == (2, "tariffs")
    # Only capitals in the text: kept.
    assert stats("", "Donald Trump said so. Trump again.", "en")["trump"] == (2, "Trump")


def test_stopwords_are_matched_on_the_word_and_on_its_lemma() -> None:
    # "mehrere" -> "mehr", "announces" -> "announce", "was" -> "be": stopwords all.
    assert "mehr" in stopwords("de") and "mehrere" not in stopwords("de")
    assert terms("mehrere Minister", "de") == [("minister", 1)]
    assert terms("The minister announces it, he was there", "en") == [("minister", 1)]
    for key, _, _ in text_stats("", "Die Zölle gaben mehrere Male Anlass", "de")[1]:
        for word in key.split():
            assert word not in stopwords("de") | stopwords("en"), key


def test_german_and_english_articles_keep_their_own_lemmas() -> None:
    assert terms("Gaben und Spenden", "de") == [("gabe", 1), ("spende", 1)]
    assert terms("companies raised prices", "en") == [("company", 1), ("price", 1), ("raise", 1)]
    # The same word in a German and an English article: each language's lemma.
    assert term_key("Tarife", "de") == "tarif" and term_key("tariffs", "en") == "tariff"
    assert term_key("Tarife", "en") == "tarife"


def test_a_language_without_lemmas_keeps_the_lower_cased_words() -> None:
    assert terms("Zöllen Zölle", None) == [("zölle", 1), ("zöllen", 1)]
    assert terms("Zöllen Zölle", "ja") == [("zölle", 1), ("zöllen", 1)]
    assert stats("", "Zöllen Zölle", None)["zöllen"] == (1, "Zöllen")


def test_phrases_that_repeat_are_terms_and_their_words_keep_counting() -> None:
    assert PHRASE_MIN_COUNT == 2
    found = stats(
        "Donald Trump in Brüssel",
        "Donald Trump sprach. Die künstliche Intelligenz und der künstlichen Intelligenz "
        "Nutzen; Olaf Scholz, Olaf Scholz.",
        "de",
    )
    assert found["donald trump"] == (2, "Donald Trump")
    assert found["künstlich intelligenz"][0] == 2
    assert found["olaf scholz"] == (2, "Olaf Scholz")
    assert found["trump"][0] == 2 and found["intelligenz"][0] == 2  # not hidden by the phrase
    english = stats("", "The White House said. The White House again.", "en")
    assert english["white house"] == (2, "White House")


def test_pairs_that_are_no_phrases() -> None:
    # Once is no phrase; punctuation ends one; an adverb or a verb does not start or end a
    # German one ("zuvor Zölle", "Exporteure gaben").
    assert not [k for k in stats("", "Donald Trump sprach.", "de") if " " in k]
    assert not [k for k in stats("", "Berlin. Paris. Berlin. Paris.", "de") if " " in k]
    body = "zuvor Zölle, zuvor Zölle. Exporteure gaben, Exporteure gaben."
    assert not [k for k in stats("", body, "de") if " " in k]


def test_user_stopwords_hide_the_lemma(any_store: Storage) -> None:
    save(any_store, A_URL, document(A_URL, [item(1, words="Die Exporteure gaben Zölle an")]))
    keys = set(any_store.terms(ALL, limit=100)["term"])
    assert {"geben", "zoll", "exporteur"} <= keys
    any_store.add_stopwords("de", ["gaben", "Zöllen"])
    for rollup in (True, False):
        keys = set(any_store.terms(ALL, limit=100, rollup=rollup)["term"])
        assert "geben" not in keys and "zoll" not in keys and "exporteur" in keys, rollup


def test_terms_show_display_forms_on_both_engines(any_store: Storage) -> None:
    words = "Die USA und Brüssel: Zölle, Zölle, Zöllen. Donald Trump, Donald Trump."
    save(any_store, A_URL, document(A_URL, [item(1, words=words), item(2, words="Zöllen")]))
    table = any_store.terms(ALL, limit=100)
    assert table.columns == ("term", "count", "articles", "display")
    shown = {r[0]: r for r in table.rows}
    assert shown["zoll"][1:] == (4, 2, "Zölle")  # article 1 says "Zölle" most, 2 "Zöllen"
    assert shown["usa"][3] == "USA" and shown["brüssel"][3] == "Brüssel"
    assert shown["donald trump"][3] == "Donald Trump"
    raw = any_store.terms(ALL, limit=100, rollup=False)
    assert sorted(raw.rows) == sorted(table.rows)
    counts = any_store.term_counts(ALL, limit=100)
    assert counts.columns[-1] == "display" and counts.attrs["total"] > 0


def _fake_old_terms(store: Storage) -> None:
    """Put the store back where an upgrade finds it: lower-cased words, no forms, and the
    mark the schema migration sets."""
    texts = store.article_texts(None, 1000)
    old = []
    for t in texts:
        counts: dict[str, int] = {}
        for word in text.tokenize(f"{t.title} {t.text}"):
            if word not in stopwords("de") | stopwords("en"):
                counts[word] = counts.get(word, 0) + 1
        old.append((t, [(w, n, "") for w, n in sorted(counts.items())]))
    store.replace_terms(old, (datetime(1970, 1, 1), ""))


def test_rebuild_replaces_old_terms_resumes_when_killed_and_keeps_the_rollup(
    any_store: Storage,
) -> None:
    items = [item(i, words=f"Zölle Zöllen Gegenzöllen USA Nummer{i}x") for i in range(1, 6)]
    save(any_store, A_URL, document(A_URL, items))
    fresh = sorted(any_store.terms(ALL, limit=1000).rows)
    assert any_store.terms_rebuild() is None  # a new store needs none
    _fake_old_terms(any_store)
    assert "zöllen" in set(any_store.terms(ALL, limit=1000)["term"])
    state = any_store.terms_rebuild()
    assert state is not None and state.done == 0 and state.total == 5

    seen: list[int] = []

    def killed(done: int, total: int, seconds: float) -> None:
        seen.append(done)
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rebuild_terms(any_store, batch=1, progress=killed)
    state = any_store.terms_rebuild()
    assert state is not None and state.done == 2 and state.total == 5
    report = rebuild_terms(any_store, batch=2)
    assert report is not None and report.articles == 3 and report.resumed_at == 2
    assert any_store.terms_rebuild() is None
    assert rebuild_terms(any_store) is None
    assert sorted(any_store.terms(ALL, limit=1000).rows) == fresh
    assert sorted(any_store.terms(ALL, limit=1000, rollup=False).rows) == fresh
    day = Filters(since=datetime(2000, 1, 1).astimezone(), languages=("de",))
    assert (
        any_store.terms(day, limit=1000).rows == any_store.terms(day, rollup=False, limit=1000).rows
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = CliRunner().invoke(cli, ["--db", str(db), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return db


def demo_terms(db: Path, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["--db", str(db), "terms", "--json", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_demo_store_terms_are_lemmas_with_display_forms(demo_db: Path) -> None:
    rows = demo_terms(demo_db, "--limit", "3000")
    keys = {str(r["term"]): r for r in rows}
    assert "zoll" in keys and "zölle" not in keys and "zöllen" not in keys
    assert keys["zoll"]["display"] == "Zölle"
    assert keys["usa"]["display"] == "USA" and keys["brüssel"]["display"] == "Brüssel"
    assert all(str(r["term"]) == str(r["display"]).lower() or r["display"] for r in rows)
    capitalised = [r for r in rows if str(r["display"])[:1].isupper()]
    assert len(capitalised) > len(rows) / 3  # German nouns and names keep their capitals
    stop = stopwords("de") | stopwords("en")
    for r in rows:
        assert not set(str(r["term"]).split()) & stop, r
    phrases = [r for r in rows if " " in str(r["term"])]
    assert phrases, "no two-word phrase among the demo's terms"
    assert all(" " in str(r["display"]) for r in phrases)


def test_demo_store_month_cloud(demo_db: Path) -> None:
    top = [str(r["term"]) for r in demo_terms(demo_db, "--since", "30d", "--limit", "20")]
    assert "zoll" in top
    # Generic words the issue saw that lemmas and stopwords-on-lemmas remove ("mehrere" is
    # "mehr"; "gaben" is "geben"; "monats" is "monat"): the others need keyness weighting.
    assert "mehrere" not in top and "gaben" not in top and "monats" not in top


# simplemma's dictionaries as cached tries (`text._simplemma`): the same lemmas as simplemma's
# own greedy lemmatiser, whether the trie is built now, loaded from the cache, or cannot be
# cached at all. In child processes: the lemmatiser and its cache directory are per process.
_SAME_LEMMAS = """
import random, sys
import simplemma
from simplemma.strategies.dictionaries import DefaultDictionaryFactory
from monitor import text
for language in ("de", "en"):
    forms = sorted(DefaultDictionaryFactory().get_dictionary(language))
    sample = random.Random(7).sample(forms, 1500)
    sample += [w.capitalize() for w in sample[:500]] + ["Gegenzöllen", "Zöllen", "xqzzt"]
    for word in sample:
        ours = text._lemma(word, language)
        theirs = simplemma.lemmatize(word, lang=language, greedy=True)
        assert ours == theirs, (language, word, ours, theirs)
print(type(text._lemma_dictionaries().get_dictionary("de")).__name__)
"""


def _lemmas_in_child(cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-c", _SAME_LEMMAS], capture_output=True, text=True, env=env, timeout=600
    )


def test_cached_tries_give_simplemmas_lemmas_built_loaded_or_uncacheable(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    built = _lemmas_in_child(cache)
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == "TrieWrapDict" and not built.stderr
    saved = sorted(p.name for p in cache.rglob("*") if p.is_file())
    assert saved == ["de.dic", "en.dic"]  # no half-written `.part` file left behind
    loaded = _lemmas_in_child(cache)  # the second process reads the tries
    assert loaded.returncode == 0 and not loaded.stderr, loaded.stderr
    assert loaded.stdout.strip() == "TrieWrapDict"
    # A cache directory that cannot be made (a file in its place): the dict-backed
    # dictionaries, the same lemmas, and no warning on stderr.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    uncached = _lemmas_in_child(blocked)
    assert uncached.returncode == 0 and not uncached.stderr, uncached.stderr
    assert uncached.stdout.strip() == "MappingStrToByteString"
