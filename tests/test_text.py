from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.models import Article
from monitor.normalize import normalize_entry
from monitor.parse import parse_feed
from monitor.text import (
    MAX_HASHTAGS,
    MAX_SEARCH_WORD_CHARS,
    MAX_TERMS,
    STOPWORD_LANGUAGES,
    WORD_TEXT,
    WORD_TITLE,
    analyse,
    detect_language,
    find_hashtags,
    fold,
    html_to_text,
    index_words,
    normalize_language,
    reading_minutes,
    search_words,
    split_category,
    stopwords,
    tag_key,
    terms,
    text_stats,
    tokenize,
    word_count,
    word_hash,
)

# --- html_to_text -------------------------------------------------------------------------


def test_html_to_text_drops_tags_scripts_and_keeps_paragraphs() -> None:
    html = (
        "<h1>Titel</h1><p>Erster   Absatz mit <b>fett</b>.</p>"
        "<script>var x = '<p>nope</p>';</script><style>p{color:red}</style>"
        "<noscript>Bitte JavaScript</noscript><p>Zweiter<br>Zeile</p>"
    )
    assert html_to_text(html) == "Titel\nErster Absatz mit fett.\nZweiter\nZeile"


def test_html_to_text_decodes_entities_also_double_escaped() -> None:
    assert html_to_text("Caf&eacute; &#8230; &#x2019; &#160;x") == "Café … ’ x"
    assert html_to_text("<p>Er sagte &amp;quot;Ja&amp;quot; &amp;#40;sic&amp;#41;</p>") == (
        'Er sagte "Ja" (sic)'
    )
    assert html_to_text("a&amp;nbsp;b") == "a b"


def test_html_to_text_removes_soft_hyphens_and_collapses_whitespace() -> None:
    assert html_to_text("Note\u00adbook \t\n  Hybrid") == "Notebook\nHybrid"
    assert html_to_text("<span>Ver\u00adein&shy;barung</span>   jetzt") == "Vereinbarung jetzt"


def test_html_to_text_empty_and_plain() -> None:
    assert html_to_text("") == ""
    assert html_to_text("   ") == ""
    assert html_to_text("5 < 6 and 7 > 3") == "5 < 6 and 7 > 3"


def test_html_to_text_unclosed_and_broken_markup() -> None:
    assert html_to_text("<p>offen <b>fett <i>kursiv") == "offen fett kursiv"
    assert html_to_text("<div><p>a</div></span>b") == "a\nb"


def test_html_to_text_deep_nesting_is_bounded() -> None:
    depth = 100_000
    html = "<div>" * depth + "tief" + "</div>" * depth
    assert html_to_text(html) == "tief"


def test_html_to_text_quoted_attribute_values_may_hold_angle_brackets() -> None:
    assert html_to_text('<img alt="a > b" src=x>Bild <a title="1<2">Link</a>') == "Bild Link"
    # An apostrophe in a value is no quote: the tag still ends at its ">".
    assert html_to_text("<a title=it's>Hallo</a> Bob's") == "Hallo Bob's"


def test_html_to_text_leaves_what_never_closes_as_text() -> None:
    assert html_to_text("<p <p <p x") == "<p <p <p x"
    assert html_to_text("a <b c") == "a <b c"
    assert html_to_text("<script <script x") == "<script <script x"


# --- hashtags -----------------------------------------------------------------------------


def test_find_hashtags_unicode() -> None:
    text = "Neu: #Friedensgespräche und #Außenpolitik, dazu #UkraineKonflikt. #日本"
    assert find_hashtags(text) == ["Friedensgespräche", "Außenpolitik", "UkraineKonflikt", "日本"]


def test_find_hashtags_must_start_with_letter() -> None:
    assert find_hashtags("Platz #1 im Jahr #2024, aber #COVID19 zählt") == ["COVID19"]


def test_find_hashtags_ignores_urls_entities_and_colours() -> None:
    text = (
        "Siehe https://x.de/a#section und page.html#top, https://x.de/#frag "
        "www.example.org/page#anchor &#39; &#x1f680; color: #fff; #a1b2c3 #ABCD #a1b2c3d4"
    )
    assert find_hashtags(text) == []


def test_find_hashtags_requires_boundary() -> None:
    assert find_hashtags("abc#def 12#abc &#x; a/#b") == []
    assert find_hashtags("(#Klima) „#Wahl“ -#Energie") == ["Klima", "Wahl", "Energie"]


def test_find_hashtags_not_colour_when_not_hex_length() -> None:
    # 5 hex digits is not a CSS colour; "#Bad" alone (3 hex) is treated as a colour.
    assert find_hashtags("#cafe1 #beefy #bad") == ["cafe1", "beefy"]


def test_find_hashtags_dedupes_by_key_first_display_wins() -> None:
    assert find_hashtags("#Trump #trump #TRUMP #Putin") == ["Trump", "Putin"]


def test_find_hashtags_wix_footer_line() -> None:
    text = "Ende des Artikels.\n#Trump #Putin #UkraineKonflikt #Friedensgespräche"
    assert find_hashtags(text) == ["Trump", "Putin", "UkraineKonflikt", "Friedensgespräche"]


def test_find_hashtags_nfd_input_is_one_tag() -> None:
    decomposed = "#Friedensgespra\u0308che"
    assert find_hashtags(decomposed) == ["Friedensgespräche"]


def test_tag_key() -> None:
    assert tag_key("#UkraineKonflikt") == tag_key("ukrainekonflikt") == "ukrainekonflikt"
    assert tag_key("  #Außenpolitik, ") == "aussenpolitik"
    assert tag_key("Gespra\u0308ch") == tag_key("Gespräch")
    assert tag_key("Anime News") == "anime news"
    assert tag_key("#") == ""


# --- stopwords, tokens, terms -------------------------------------------------------------


def test_stopwords_union_for_unknown_language() -> None:
    union = stopwords(None)
    for word in ("der", "und", "nicht", "the", "le", "el", "het", "il"):
        assert word in union
    assert stopwords("xx") == union
    assert "the" not in stopwords("de")
    assert "und" in stopwords("de-DE")
    for word in ("beitrag", "erschien", "zuerst", "continue", "reading", "via", "https", "www"):
        assert word in stopwords("en")
    assert set(STOPWORD_LANGUAGES) == {"de", "en", "fr", "es", "it", "nl"}


def test_tokenize() -> None:
    text = "Die Corona-Krise: Trump’s Plan, #Friedensgespräche in 2024, ab12 x_y so"
    assert tokenize(text) == ["die", "corona-krise", "trump", "plan", "friedensgespräche"]
    # Lower-cased, not case-folded: a cloud shows "straße", not "strasse".
    assert tokenize("STRASSE Straße") == ["strasse", "straße"]
    # Terms are lemmas (lower-cased): "hieß" -> "heißen", "gesperrt" -> "sperren".
    assert terms("Es hieß, die Straße sei gesperrt", "de") == [
        ("heißen", 1),
        ("sperren", 1),
        ("straße", 1),
    ]
    assert tokenize("") == []


def test_terms_never_contain_stopwords_even_for_other_language() -> None:
    text = (
        "Der Kanzler und die Ministerin sprechen nicht über the summit. "
        "Der Kanzler reist nach Brüssel. Der Beitrag erschien zuerst auf Example. "
        "Continue reading on Medium"
    )
    result = terms(text, "fr")
    words = [t for t, _ in result]
    for stop in ("der", "und", "nicht", "the", "die", "beitrag", "erschien", "continue"):
        assert stop not in words
    assert result[0] == ("kanzler", 2)
    assert words[1:] == sorted(words[1:])  # ties ordered by term
    assert ("brüssel", 1) in result


def test_terms_empty() -> None:
    assert terms("", None) == []


def test_word_count_and_reading_minutes() -> None:
    assert word_count("") == 0
    assert word_count("Das ist ein Test-Satz, don't panic 2024.") == 7
    assert reading_minutes(0) == 0
    assert reading_minutes(1) == 1
    assert reading_minutes(220) == 1
    assert reading_minutes(221) == 2
    assert reading_minutes(2200) == 10


# --- language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("de-DE", "de"),
        ("en_us", "en"),
        ("EN", "en"),
        (" de ", "de"),
        ("deu", "de"),
        ("English", "en"),
        ("ru-RU", "ru"),
        ("junk!", None),
        ("", None),
        (None, None),
        ("12", None),
        ("xyz", None),
    ],
)
def test_normalize_language(raw: str | None, expected: str | None) -> None:
    assert normalize_language(raw) == expected


def test_detect_language() -> None:
    assert detect_language("Der Bundestag hat heute über die Friedensgespräche beraten.") == "de"
    assert detect_language("The committee discussed the new budget proposal on Tuesday.") == "en"
    assert detect_language("Кабинет министров обсудил новый бюджет области.") == "ru"
    assert detect_language("kurz") is None
    assert detect_language("") is None
    assert detect_language("1234567890 1234567890 1234567890 !!!") is None


# --- linear on any input, bounded output ---------------------------------------------------


class _CountingText(str):
    """A text that counts how many characters its find/rfind calls look at."""

    looked = 0

    def _span(self, start: int | None, end: int | None) -> None:
        lo = 0 if start is None else start
        hi = len(self) if end is None else end
        _CountingText.looked += max(0, hi - lo)

    def find(self, sub: str, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        self._span(start, end)
        return super().find(sub, start, end)

    def rfind(self, sub: str, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        self._span(start, end)
        return super().rfind(sub, start, end)


@pytest.mark.parametrize("unit", [".#ab", "x#ab", "http://a#bc", "#tag1,#tag2;"])
def test_find_hashtags_looks_at_each_character_a_bounded_number_of_times(unit: str) -> None:
    """Searching back to the token's start from every "#" made ".#ab" x 250,000 take
    minutes: the searches now move forward with the matches."""
    text = _CountingText(unit * 20_000)
    _CountingText.looked = 0
    find_hashtags(text)
    assert _CountingText.looked <= 8 * len(text)


def test_find_hashtags_limits() -> None:
    many = " ".join(f"#tag{i}x" for i in range(500))
    assert find_hashtags(many) == [f"tag{i}x" for i in range(MAX_HASHTAGS)]
    assert find_hashtags("#" + "a" * 101 + " #kurz") == ["kurz"]
    assert find_hashtags("#" + "a" * 100) == ["a" * 100]


def test_terms_are_the_most_frequent_and_no_longer_than_a_word_can_be() -> None:
    words = " ".join(f"wort{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}"
                     for i in range(3_000))  # fmt: skip
    text = words + " häufig" * 5
    count, found = text_stats("", text, "de")
    assert count == 3_005
    assert len(found) == MAX_TERMS and found[0] == ("häufig", 5, "häufig")
    assert terms("Donau" * 20 + " Schiff", "de") == [("schiff", 1)]  # 100 letters: no term


def test_split_category() -> None:
    assert split_category("Illinois, Local") == ["Illinois", "Local"]
    assert split_category("Bewegung &amp; Natur") == ["Bewegung & Natur"]
    assert split_category("Bewegung &amp;amp; Natur") == ["Bewegung & Natur"]
    assert split_category("Berlin, Germany: A long headline-like thing") == [
        "Berlin, Germany: A long headline-like thing"
    ]
    assert split_category(" #Politik. ") == ["Politik"]
    assert split_category("<b>Fett</b>, Mager") == ["Fett", "Mager"]
    assert split_category("") == split_category(", ,") == []
    assert split_category("x" * 101) == []


def test_split_category_is_the_rule_of_feed_categories() -> None:
    """Page tags and feed categories go through one rule (split_category)."""
    values = ["Illinois, Local", "Bewegung &amp; Natur", "Berlin, Germany: A long headline",
              " #Politik. ", "Wirtschaft", "a, b, c"]  # fmt: skip
    entry = {"title": "t", "id": "x", "tags": [{"term": v} for v in values]}
    article = normalize_entry(
        entry, feed_url="https://f.example/", feed_language="de", feed_authors=(),
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    expected = list(dict.fromkeys(d for v in values for d in split_category(v)))
    assert [t.display for t in article.tags] == expected


HOSTILE_TEXT = """
import json, sys
from monitor.text import html_to_text, find_hashtags, text_stats, tag_key, word_count
n = 1_000_000
shapes = {
    "unclosed": "<p " * (n // 3), "unclosed-nospace": "<p#a" * (n // 4),
    "script": "<script " * (n // 8), "block": "<div " * (n // 5), "dot-hash": ".#ab" * (n // 4),
    "url-fragments": "x://a#bc" * (n // 8), "lt": "<" * n, "quotes": '<a b="' * (n // 6),
    "equals": "<a " + "=      " * (n // 7), "comment": "<!--" * (n // 4),
    "script-end": "<script>" + "</script " * (n // 9), "amp": "&amp;" * (n // 5),
    "words": " ".join(f"w{i}x" for i in range(n // 8)),
    "hashtags": " ".join(f"#h{i}x" for i in range(n // 8)), "long-word": "Wort" * (n // 4),
    "nested": "<div>" * (n // 11) + "x" + "</div>" * (n // 11),
}
for name, value in shapes.items():
    plain = html_to_text(value)
    tags = find_hashtags(plain)
    words, found = text_stats("", plain, "de")
    print(json.dumps({"name": name, "tags": len(tags), "terms": len(found),
                      "keys": len({tag_key(t) for t in tags})}), flush=True)
"""


@pytest.mark.slow
def test_text_functions_finish_on_hostile_text() -> None:
    """Each shape of a megabyte that used to take minutes or hours (a backtracking pattern, a
    rescan from every match). The timeout is a guard against a hang, not a measurement: the
    whole run takes seconds."""
    done = subprocess.run(
        [sys.executable, "-c", HOSTILE_TEXT], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert len(results) == 16
    for result in results.values():
        assert result["tags"] <= MAX_HASHTAGS and result["terms"] <= MAX_TERMS
    assert results["hashtags"]["tags"] == MAX_HASHTAGS
    assert results["dot-hash"]["tags"] == 1


# --- search words: split once with the terms (`analyse`) ---------------------------------

SHARED_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "feeds"


def _runs_of_letters(text: str) -> list[str]:
    """search_words' rule written out directly: the runs of letters and digits of the NFC
    text, an apostrophe a separator even where Unicode calls it a letter (U+02BC), cut and
    folded one by one."""
    text = unicodedata.normalize("NFC", text).replace("\u02bc", "'")
    return [fold(w[:MAX_SEARCH_WORD_CHARS]) for w in re.findall(r"[^\W_]+", text)]


@pytest.mark.parametrize(
    "text",
    [
        "Ukraine-Konflikt: Trump's Zölle, 5G-Netz und die CO2-Steuer",
        "snake_case__words and --dashes-- 'quoted' don\u2019t l\u2019homme can\u02bct",
        "Cafe\u0301 Muenchen Straße ÄÖÜ ﬁnance ①② x\u00adz",  # decomposed, ligature, shy
        "ein" + "Wort" * 40 + "-Ende " + "ab-" * 50 + "cd",  # cut at 64, long hyphen chains
        "Tab\tneue\nZeile\u00a0nbsp\u2011no-break\u2010hyphen ¡Olé! «Guillemets» 東京 2026",
        "",
    ],
)
def test_search_words_are_the_runs_of_letters_and_digits(text: str) -> None:
    assert search_words(text) == _runs_of_letters(text)


def test_search_words_and_the_index_match_decomposed_text_as_typed() -> None:
    # A macOS-written "Café" (e + combining acute) is the word a user types.
    assert search_words("Cafe\u0301 am Markt") == search_words("Café am Markt")
    assert index_words("", "Cafe\u0301 Cafe\u0301")[0][1:] == ("cafe", [0, 1])


def _shared_feed_articles() -> Iterator[Article]:
    """Every article of the shared real feeds, as the pipeline parses them."""
    for path in sorted(SHARED_FEEDS.glob("*.xml")):
        parsed = parse_feed(
            path.read_bytes(),
            source=path.name,
            feed_url="https://x.example/",
            fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
        yield from parsed.articles


def test_analyse_is_text_stats_and_index_words_on_real_feeds() -> None:
    checked = 0
    for a in _shared_feed_articles():
        for language in (a.language, "de", None):
            words, terms, rows = analyse(a.title, a.text, language)
            assert (words, terms) == text_stats(a.title, a.text, language)
            assert rows == index_words(a.title, a.text)
        title_words = [w for field, w, _ in rows if field == WORD_TITLE]
        assert title_words == list(dict.fromkeys(_runs_of_letters(a.title)))
        checked += 1
    assert checked > 100


def _index_written_out(title: str, text: str) -> list[tuple[int, str, list[int]]]:
    """The word index's rule written out: per field (title, then text), each distinct
    search word in first-seen order with every position it has in that field."""
    rows = []
    for field, value in ((WORD_TITLE, title), (WORD_TEXT, text)):
        words = search_words(value)
        for word in dict.fromkeys(words):
            rows.append((field, word, [n for n, w in enumerate(words) if w == word]))
    return rows


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Die Börse", "Die Börse schließt; die BÖRSE öffnet. Börse-Börse die"),
        ("", "ein Wort"),
        ("nur Titel", ""),
        ("", ""),
        ("a a a", "a b a b a b " * 300),  # one word at hundreds of positions
    ],
)
def test_the_packed_word_index_holds_every_position_of_every_word(title: str, text: str) -> None:
    index = index_words(title, text)
    assert list(index) == _index_written_out(title, text)
    assert [index[i] for i in range(len(index))] == list(index)
    assert list(index.hashes) == [word_hash(word) for _, word, _ in index]
    # What the parse processes send the store comes back equal.
    assert pickle.loads(pickle.dumps(index)) == index


def test_the_packed_word_index_on_real_feeds() -> None:
    checked = 0
    for a in _shared_feed_articles():
        assert a.words is not None and list(a.words) == _index_written_out(a.title, a.text)
        checked += 1
    assert checked > 100
