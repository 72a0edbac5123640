"""Plain-text helpers: HTML to text, hashtags, stopwords, terms, language.

Pure functions, no I/O (the stopword lists and the language model are package data, loaded
once and cached). Everything here accepts untrusted feed text and never raises on odd input.

Decisions:
- html_to_text uses the stdlib ``html.parser``: it is iterative (no recursion, so 100,000
  nested ``<div>`` are fine), tolerant of broken markup, and fast enough (see tests).
  Block elements become line breaks; lines are stripped and blank lines dropped, so paragraphs
  are separated by exactly one ``\\n``.
- Entities are decoded twice at most: feeds often double-escape (``&amp;quot;``), and a second
  pass only turns valid entity references into characters.
- Hashtags are returned without the ``#``, de-duplicated by ``tag_key`` (first display form
  wins), in order of appearance.
- Tokens: runs of letters (and digits/underscore, which then drop the token), joined across an
  inner hyphen (``Corona-Krise`` is one token) or an inner apostrophe (``don't``); an English
  possessive ``'s`` is removed (``Trump's`` -> ``trump``). Typographic apostrophes are
  normalised to ``'``. Tokens with fewer than 3 letters, or any digit/underscore, are dropped.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import stopwordsiso

__all__ = [
    "BOILERPLATE_WORDS",
    "STOPWORD_LANGUAGES",
    "detect_language",
    "find_hashtags",
    "html_to_text",
    "normalize_language",
    "reading_minutes",
    "stopwords",
    "tag_key",
    "terms",
    "tokenize",
    "word_count",
]

STOPWORD_LANGUAGES = ("de", "en", "fr", "es", "it", "nl")

# Web/feed boilerplate seen in the shared feeds (WordPress "Der Beitrag ... erschien zuerst
# auf", Medium "Continue reading on", Google News, Mastodon) that would otherwise top clouds.
BOILERPLATE_WORDS = frozenset(
    {
        "beitrag",
        "erschien",
        "zuerst",
        "weiterlesen",
        "mehr",
        "lesen",
        "continue",
        "reading",
        "read",
        "more",
        "via",
        "http",
        "https",
        "www",
        "html",
        "com",
        "href",
        "nbsp",
        "amp",
        "quot",
        "rss",
        "appeared",
        "first",
    }
)

# Elements whose text content is never article text.
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "math", "head"})
# Elements that start a new line (paragraph-ish structure).
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
# Characters that are invisible in running text and only break words apart.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"), None)
_SPACES = re.compile(r"[^\S\n]+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


class _TextExtractor(HTMLParser):
    """Collects text chunks; iterative, so nesting depth does not matter."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>, <img/>: never open a skipped region.
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            if self._skip:
                self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _tidy(text: str) -> str:
    """Collapse whitespace inside lines, strip lines, drop blank lines."""
    text = text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html_text: str) -> str:
    """Return the plain text of an HTML fragment (or of text that may contain entities).

    Drops script/style/noscript content, decodes entities (also double-escaped ones such as
    ``&amp;quot;``), removes soft hyphens, collapses whitespace and keeps block boundaries as
    newlines. Never raises; ``""`` for empty input.
    """
    if not html_text:
        return ""
    if "<" in html_text:
        parser = _TextExtractor()
        try:
            parser.feed(html_text)
            parser.close()
        except Exception:  # html.parser is lenient, but the input is untrusted
            return _tidy(html.unescape(re.sub(r"<[^>]*>", " ", html_text)))
        text = "".join(parser.parts)
    else:
        text = html.unescape(html_text)
    if "&" in text and _ENTITY.search(text):
        # A second pass for double-escaped entities (&amp;quot; -> &quot; -> ").
        text = html.unescape(text)
    return _tidy(text)


# --- hashtags ---------------------------------------------------------------------------

# Combining marks keep a tag going (NFD input, Indic scripts); zero-width (non-)joiners too.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0900-\u0903" + (
    "\u093a-\u094f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u200c\u200d\u3099\u309a"
)
_HASHTAG = re.compile(rf"(?<![\w&/#{_MARKS}])#([^\W\d_][\w{_MARKS}]*)")
_HEX_COLOUR = re.compile(r"(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def _inside_url(text: str, pos: int) -> bool:
    """True when the ``#`` at ``pos`` belongs to a whitespace-delimited URL-like token."""
    start = max(text.rfind(" ", 0, pos), text.rfind("\n", 0, pos), text.rfind("\t", 0, pos))
    token = text[start + 1 : pos]
    return "://" in token or token.lower().startswith("www.")


def find_hashtags(text: str) -> list[str]:
    """Return the hashtags in ``text`` (display form, without ``#``), unique by ``tag_key``.

    A tag starts with a letter, needs a boundary before the ``#`` (start, whitespace or
    punctuation other than ``&``/``/``), and is not a URL fragment, an HTML entity or a
    hex CSS colour.
    """
    if not text or "#" not in text:
        return []
    text = unicodedata.normalize("NFC", text)
    found: dict[str, str] = {}
    for match in _HASHTAG.finditer(text):
        body = match.group(1).rstrip("_\u200c\u200d")
        if not body or _HEX_COLOUR.fullmatch(body) or _inside_url(text, match.start()):
            continue
        key = tag_key(body)
        if key and key not in found:
            found[key] = body
    return list(found.values())


def _is_edge_junk(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZC"


def tag_key(display: str) -> str:
    """Case-folded, NFC-normalised key of a tag: ``#UkraineKonflikt`` -> ``ukrainekonflikt``."""
    value = unicodedata.normalize("NFC", display or "")
    start, end = 0, len(value)
    while start < end and _is_edge_junk(value[start]):
        start += 1
    while end > start and _is_edge_junk(value[end - 1]):
        end -= 1
    value = _SPACES.sub(" ", value[start:end].replace("\n", " "))
    return unicodedata.normalize("NFC", value.casefold())


# --- words, stopwords, terms ------------------------------------------------------------

_WORD = re.compile(r"\w+(?:[-'][\w]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})


@lru_cache(maxsize=32)
def stopwords(lang: str | None) -> frozenset[str]:
    """Stopwords for ``lang`` (stopwords-iso) plus feed boilerplate, case-folded.

    For ``None`` or a language stopwords-iso does not know, the union of
    ``STOPWORD_LANGUAGES``.
    """
    code = normalize_language(lang)
    if code is not None and stopwordsiso.has_lang(code):
        words: set[str] = set(stopwordsiso.stopwords(code))
    else:
        words = set()
        for each in STOPWORD_LANGUAGES:
            words |= set(stopwordsiso.stopwords(each))
    folded = {unicodedata.normalize("NFC", w.translate(_APOSTROPHES).casefold()) for w in words}
    return frozenset(folded | BOILERPLATE_WORDS)


@lru_cache(maxsize=32)
def _term_stopwords(lang: str | None) -> frozenset[str]:
    return stopwords(lang) | stopwords("de") | stopwords("en")


def tokenize(text: str) -> list[str]:
    """Lower-cased (case-folded) word tokens of at least 3 letters, no digits.

    Hashtags contribute their word (``#Trump`` -> ``trump``). Inner hyphens and apostrophes
    keep a word together; a trailing English ``'s`` is dropped.
    """
    if not text:
        return []
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).translate(_HYPHENS)
    tokens: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        if word.endswith("'s") or word.endswith("'S"):
            word = word[:-2]
        if "_" in word or any(ch.isdigit() for ch in word):
            continue
        if sum(ch.isalpha() for ch in word) < 3:
            continue
        tokens.append(word.casefold())
    return tokens


def terms(text: str, language: str | None) -> list[tuple[str, int]]:
    """(term, count) pairs of ``text`` without stopwords, most frequent first, then by term.

    English and German stopwords are always removed too (mixed-language articles).
    """
    stop = _term_stopwords(normalize_language(language))
    counts = Counter(t for t in tokenize(text) if t not in stop)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def word_count(text: str) -> int:
    """Number of words (any run of letters/digits, inner hyphen/apostrophe joined)."""
    if not text:
        return 0
    return len(_WORD.findall(text.translate(_APOSTROPHES)))


def reading_minutes(words: int) -> int:
    """Reading time at about 220 words a minute: 0 for no words, else at least 1."""
    if words <= 0:
        return 0
    return max(1, math.ceil(words / 220))


# --- language ---------------------------------------------------------------------------

# Languages we let the detector choose from: short texts otherwise come out as exotic ones.
_DETECT_LANGUAGES = (
    "de", "en", "fr", "es", "it", "nl", "pt", "pl", "cs", "da", "sv", "no", "fi", "ru", "uk",
    "tr", "el", "hu", "ro", "ar", "he", "fa", "ja", "zh", "ko",
)  # fmt: skip
_MIN_LETTERS = 20
_MIN_CONFIDENCE = 0.5

_THREE_LETTER = {
    "deu": "de", "ger": "de", "eng": "en", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it",
    "nld": "nl", "dut": "nl", "rus": "ru", "por": "pt", "pol": "pl", "ukr": "uk", "tur": "tr",
    "jpn": "ja", "zho": "zh", "chi": "zh", "swe": "sv", "dan": "da", "nor": "no", "fin": "fi",
    "ces": "cs", "cze": "cs", "ara": "ar", "kor": "ko",
}  # fmt: skip
_NAMES = {
    "german": "de", "deutsch": "de", "english": "en", "englisch": "en", "french": "fr",
    "francais": "fr", "français": "fr", "spanish": "es", "español": "es", "italian": "it",
    "italiano": "it", "dutch": "nl", "nederlands": "nl", "russian": "ru",
}  # fmt: skip
_LANG_CODE = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")


def normalize_language(code: str | None) -> str | None:
    """ISO 639-1 code from a feed/HTTP language value: ``de-DE`` -> ``de``, junk -> None."""
    if not code:
        return None
    value = code.strip().strip("\"'").lower()
    if value in _NAMES:
        return _NAMES[value]
    match = _LANG_CODE.fullmatch(value)
    if not match:
        return None
    primary = match.group(1)
    if len(primary) == 3:
        return _THREE_LETTER.get(primary)
    if primary in {"xx", "zz", "un", "na"}:
        return None
    return primary


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_DETECT_LANGUAGES))
    return identifier


def detect_language(text: str) -> str | None:
    """Guess the ISO 639-1 language of ``text`` (py3langid, offline).

    None when the text has fewer than 20 letters or the guess is not confident.
    """
    if not text or sum(ch.isalpha() for ch in text[:2000]) < _MIN_LETTERS:
        return None
    try:
        lang, prob = _identifier().classify(text[:20_000])
    except Exception:  # a model problem must not stop ingestion
        return None
    if float(prob) < _MIN_CONFIDENCE:
        return None
    return str(lang)
