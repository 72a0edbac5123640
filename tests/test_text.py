from __future__ import annotations

import time

import pytest

from monitor.text import (
    STOPWORD_LANGUAGES,
    detect_language,
    find_hashtags,
    html_to_text,
    normalize_language,
    reading_minutes,
    stopwords,
    tag_key,
    terms,
    tokenize,
    word_count,
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
    start = time.perf_counter()
    assert html_to_text(html) == "tief"
    assert time.perf_counter() - start < 20  # generous: bounded, not a benchmark


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
    assert terms("Es hieß, die Straße sei gesperrt", "de") == [
        ("gesperrt", 1),
        ("hieß", 1),
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
