"""Plain-text helpers: HTML to text, hashtags, stopwords, terms, language.

Pure functions, no I/O (the stopword lists and the language model are package data, loaded
once and cached). Everything here accepts untrusted feed text and never raises on odd input.

Decisions:
- html_to_text is a few regular-expression passes that run in C and never recurse (100,000
  nested ``<div>`` are nothing special), each linear in its input: a tag cannot contain an
  unquoted ``<``, so an unclosed ``<p <p <p ...`` costs one short look per ``<`` instead of a
  scan to the end of the text per ``<`` (which made 2 MB of them take minutes). Block elements
  become line breaks; lines are stripped and blank lines dropped, so paragraphs are separated
  by exactly one ``\\n``.
- Every function here is linear in its input, whatever the input: no pattern that can
  backtrack over the text, no rescan from each match (tests/test_text.py feeds each one the
  shapes that used to be quadratic).
- Bounded output: at most ``MAX_HASHTAGS`` hashtags of at most ``MAX_TAG_CHARS`` characters per
  text, at most ``MAX_TERMS`` terms per article (the most frequent), and no term longer than
  ``MAX_WORD_CHARS`` characters: a hostile feed cannot make one article carry a million tags or
  terms.
- Entities are decoded twice at most: feeds often double-escape (``&amp;quot;``), and a second
  pass only turns valid entity references into characters.
- Hashtags are returned without the ``#``, de-duplicated by ``tag_key`` (first display form
  wins), in order of appearance.
- Tokens: runs of letters (and digits/underscore, which then drop the token), joined across an
  inner hyphen (``Corona-Krise`` is one token) or an inner apostrophe (``don't``); an English
  possessive ``'s`` is removed (``Trump's`` -> ``trump``). Typographic apostrophes are
  normalised to ``'``. Tokens with fewer than 3 letters, or any digit/underscore, are dropped.
- Terms (`text_stats`) are lemmas: simplemma, per article language, on the word as written
  (German case matters: "Gaben" -> "Gabe", "gaben" -> "geben"), greedy so an inflected
  compound is one term ("Gegenzöllen" -> "gegenzoll"), but a compound stays its own term
  (a counter-tariff is not a tariff). simplemma's dictionary for a language loads on first
  use, once per process: in milliseconds from a trie cached on disk (`_lemma_dictionaries`;
  building it the first time on a machine costs about 3 s for German); after that each
  distinct spelling is lemmatised once (`_TERM_CACHES`).
"""

from __future__ import annotations

import hashlib
import html
import logging
import math
import os
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
from typing import Any

import stopwordsiso

__all__ = [
    "BOILERPLATE_WORDS",
    "LEMMA_LANGUAGES",
    "PHRASE_MIN_COUNT",
    "STOPWORD_LANGUAGES",
    "detect_language",
    "MAX_HASHTAGS",
    "MAX_TAG_CHARS",
    "MAX_TERMS",
    "MAX_WORD_CHARS",
    "find_hashtags",
    "html_to_text",
    "normalize_language",
    "reading_minutes",
    "split_category",
    "stopwords",
    "tag_key",
    "term_key",
    "terms",
    "text_stats",
    "tokenize",
    "word_count",
    "user_stop_keys",
    "word_keys",
    "WORD_TEXT",
    "WORD_TITLE",
    "fold",
    "index_words",
    "analyse",
    "search_words",
    "word_hash",
    "words_of",
    "WordIndex",
    "WordRow",
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
_SPACES = re.compile(r"[^\S\n]+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


# Regular expressions rather than an HTML parser: they run in C, never recurse (100,000
# nested <div> are nothing special), and feed HTML needs no more than tags to drop, a few
# elements whose content is never text, and block boundaries kept as line breaks.
# The rest of a tag: an attribute value quoted after "=" may hold "<" and ">" (as in a
# browser); failing that, the tag ends at the first ">" before any "<". Each repetition takes
# one character or one quoted value (never a run that could be split another way), so a tag
# that does not close fails after one look ahead, as far as the next unquoted "<": no pattern
# here rescans the text from every "<".
_REST = r"""(?:(?:[^<>"'=]|=\s*"[^"]*"|=\s*'[^']*'|=)*>|[^<>]*>)"""
# "(?=...)" after "<": a "<" that starts no tag is rejected before the names are tried.
_SKIPPED = re.compile(
    r"<(?=[sSnNtTmMhH])(script|style|noscript|template|svg|math|head)\b"
    + _REST
    + r".*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_BLOCK = re.compile(
    r"<(?=/?[A-Za-z])/?(?:" + "|".join(sorted(_BLOCK_TAGS)) + r")\b" + _REST, re.IGNORECASE
)
# A tag starts with a letter, "/", "!" or "?": "a < b" stays text.
_TAG = re.compile(r"<[A-Za-z/!?]" + _REST)
_INVISIBLE_CHARS = re.compile("[\u00ad\u200b\u2060\ufeff]")


def _tidy(text: str) -> str:
    """Collapse whitespace inside lines, strip lines, drop blank lines."""
    if _INVISIBLE_CHARS.search(text):
        text = _INVISIBLE_CHARS.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # str.split() without arguments splits on any whitespace run and drops the ends, in C.
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html_text: str) -> str:
    """Return the plain text of an HTML fragment (or of text that may contain entities).

    Drops script/style/noscript content and comments, decodes entities (also double-escaped
    ones such as ``&amp;quot;``), removes soft hyphens, collapses whitespace and keeps block
    boundaries as newlines. Never raises; ``""`` for empty input.
    """
    if not html_text:
        return ""
    text = html_text
    if "<" in text:
        if "<!--" in text:
            text = _COMMENT.sub(" ", text)
        text = _SKIPPED.sub(" ", text)
        text = _BLOCK.sub("\n", text)
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
        if "&" in text and _ENTITY.search(text):
            # A second pass for double-escaped entities (&amp;quot; -> &quot; -> ").
            text = html.unescape(text)
    return _tidy(text)


# --- hashtags ---------------------------------------------------------------------------

# Combining marks keep a tag going (NFD input, Indic scripts); zero-width (non-)joiners too.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0900-\u0903" + (
    "\u093a-\u094f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u200c\u200d\u3099\u309a"
)
# The pattern starts with its literal "#", so the regex engine jumps from "#" to "#" through
# a long text; the boundary before it is checked on that one character (_NOT_BEFORE).
_HASHTAG = re.compile(rf"#([^\W\d_][\w{_MARKS}]*)")
_NOT_BEFORE = re.compile(rf"[\w&/#{_MARKS}]")
_HEX_COLOUR = re.compile(r"(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


MAX_HASHTAGS = 100  # per text: a post with more is a tag cloud, not an article
MAX_TAG_CHARS = 100  # the limit feed categories have too (normalize._category_tags)


def find_hashtags(text: str, limit: int = MAX_HASHTAGS) -> list[str]:
    """Return the hashtags in ``text`` (display form, without ``#``), unique by ``tag_key``.

    A tag starts with a letter, needs a boundary before the ``#`` (start, whitespace or
    punctuation other than ``&``/``/``), and is not a URL fragment (its whitespace-delimited
    token has ``://`` before it or starts with ``www.``), an HTML entity or a hex CSS colour.
    At most ``limit`` tags, each at most ``MAX_TAG_CHARS`` characters; linear in the text.
    """
    if not text or "#" not in text:
        return []
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    found: dict[str, str] = {}
    # The token around each "#" is tracked as the matches move forward, so every character is
    # looked at a bounded number of times: searching back to the last space from each "#"
    # took minutes on ".#ab" repeated 250,000 times (one token of a megabyte).
    token_start = 0  # where the whitespace-delimited token holding the current "#" starts
    scanned = 0  # text[:scanned] has been searched for token breaks and "://"
    in_url = False  # the token so far holds "://"
    for match in _HASHTAG.finditer(text):
        body = match.group(1).rstrip("_\u200c\u200d")
        if not body or len(body) > MAX_TAG_CHARS:
            continue
        if len(body) in (3, 4, 6, 8) and _HEX_COLOUR.fullmatch(body):
            continue
        key = tag_key(body)
        if not key or key in found:
            continue  # nothing new: the token tracking below catches up when needed
        start = match.start()
        if start and _NOT_BEFORE.match(text, start - 1):
            continue
        brk = max(
            text.rfind(" ", scanned, start),
            text.rfind("\n", scanned, start),
            text.rfind("\t", scanned, start),
        )
        if brk >= 0:
            token_start, in_url = brk + 1, False
        if not in_url:
            in_url = text.find("://", max(token_start, scanned - 2), start) >= 0
        scanned = start
        if in_url or text[token_start : token_start + 4].lower() == "www.":
            continue
        found[key] = body
        if len(found) >= limit:
            break
    return list(found.values())


def _is_edge_junk(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZC"


@lru_cache(maxsize=65_536)  # a corpus repeats its tags endlessly
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


_DISPLAY_EDGES = " \t/\\|,;:.-–—\"'#»«„“”"


def split_category(value: str) -> list[str]:
    """Display forms of the tags in one category, keyword or page-tag value.

    Markup is dropped and entities decoded first (``Bewegung &amp; Natur`` is one tag,
    ``Bewegung & Natur``); then a comma-separated list of short phrases (at most four words
    each) is split (``Illinois, Local`` is two tags), a longer phrase with a comma is not
    (``Berlin, Germany: A long headline-like thing``). Each part is trimmed of surrounding
    punctuation and ``#``; empty parts and parts longer than ``MAX_TAG_CHARS`` are dropped.
    The one rule for feed categories and page tags alike.
    """
    if not value or not isinstance(value, str):
        return []
    decoded = html_to_text(value).replace("\n", " ")
    parts = [p for p in (x.strip() for x in decoded.split(",")) if p]
    if not (len(parts) > 1 and all(len(p.split()) <= 4 for p in parts)):
        parts = [decoded]
    out: list[str] = []
    for part in parts:
        display = part.strip(_DISPLAY_EDGES)
        if display and len(display) <= MAX_TAG_CHARS and tag_key(display):
            out.append(display)
    return out


# --- words, stopwords, terms ------------------------------------------------------------

_WORD = re.compile(r"\w+(?:[-'][\w]+)*")


@lru_cache(maxsize=32)
def stopwords(lang: str | None) -> frozenset[str]:
    """Stopwords for ``lang`` (stopwords-iso) plus feed boilerplate, lower-cased.

    For ``None`` or a language stopwords-iso does not know, the union of
    ``STOPWORD_LANGUAGES``. Both the lower-cased and the case-folded spelling are included
    ("daß" and "dass"), since tokens keep ß.
    """
    code = normalize_language(lang)
    if code is not None and stopwordsiso.has_lang(code):
        words: set[str] = set(stopwordsiso.stopwords(code))
    else:
        words = set()
        for each in STOPWORD_LANGUAGES:
            words |= set(stopwordsiso.stopwords(each))
    lowered: set[str] = set()
    for word in words:
        plain = unicodedata.normalize("NFC", _apostrophes(word))
        lowered.add(plain.lower())
        lowered.add(plain.casefold())
    return frozenset(lowered | BOILERPLATE_WORDS)


@lru_cache(maxsize=32)
def _term_stopwords(lang: str | None) -> frozenset[str]:
    return stopwords(lang) | stopwords("de") | stopwords("en")


_ODD_MARKS = re.compile("[\u2019\u2018\u02bc\u00b4\u2010\u2011]")
_MARK_MAP = {"\u2010": "-", "\u2011": "-"}


def _apostrophes(text: str) -> str:
    """Typographic apostrophes to ', non-breaking hyphens to - (only when there are any)."""
    if not _ODD_MARKS.search(text):
        return text
    return _ODD_MARKS.sub(lambda m: _MARK_MAP.get(m.group(0), "'"), text)


# Per distinct word: its token, or "" when it is no token. Words repeat a great deal across a
# corpus, so deciding once per word is what keeps tokenising cheap; the cache is bounded.
_TOKEN_CACHE: dict[str, str] = {}
_TOKEN_CACHE_LIMIT = 500_000


MAX_WORD_CHARS = 64  # longer "words" are base64, hashes or junk, never terms
MAX_TERMS = 1_000  # per article, the most frequent (a long article has a few hundred)
_CACHED_CHUNK_CHARS = 100  # longer chunks are rare and would only fill the caches


def _token(word: str) -> str:
    if len(word) > MAX_WORD_CHARS:
        return ""
    if word.endswith("'s"):
        word = word[:-2]
    letters = word.replace("-", "").replace("'", "")
    if letters.isalpha():  # the usual case, decided in C: no digit, no "_"
        return word if len(letters) >= 3 else ""
    if "_" in word or any(ch.isdigit() for ch in word):
        return ""
    if sum(ch.isalpha() for ch in word) < 3:
        return ""
    return word


def _lowered_words(text: str) -> list[str]:
    """Every word of ``text``, NFC, apostrophes normalised, lower-cased (not yet filtered)."""
    if not text:
        return []
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _WORD.findall(_apostrophes(text).lower())


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of at least 3 letters, no digits (ß is kept: "straße").

    Hashtags contribute their word (``#Trump`` -> ``trump``). Inner hyphens and apostrophes
    keep a word together; a trailing English ``'s`` is dropped.
    """
    cache = _TOKEN_CACHE
    tokens: list[str] = []
    for word in _lowered_words(text):
        token = cache.get(word)
        if token is None:
            token = _cached_token(word)
        if token:
            tokens.append(token)
    return tokens


def _cached_token(word: str) -> str:
    token = _token(word)
    if len(_TOKEN_CACHE) < _TOKEN_CACHE_LIMIT and len(word) <= _CACHED_CHUNK_CHARS:
        _TOKEN_CACHE[word] = token
    return token


def terms(text: str, language: str | None) -> list[tuple[str, int]]:
    """(term key, count) pairs of ``text`` without stopwords, most frequent first, then by
    key (see `text_stats`, which also gives each term's display form).

    English and German stopwords are always removed too (mixed-language articles). At most
    ``MAX_TERMS`` pairs.
    """
    return [(key, n) for key, n, _ in text_stats("", text, language)[1]]


# --- terms: lemmas, display forms, phrases ------------------------------------------

# Languages simplemma has a dictionary for (data shipped in its wheel, loaded on first use).
LEMMA_LANGUAGES = frozenset(
    "ar ast bg ca cs cy da de el en enm eo es et fa fi fr ga gd gl grc gv hbs he hi hu hy id is "
    "it ka la lb lt lv mk ml ms nb nl nn pl pt ro ru se sk sl sq sv sw tl tr uk".split()
)
# A word, or one punctuation mark that ends a phrase (a phrase never spans "Berlin. Paris").
_BREAK_MARKS = ".,;:!?()[]{}\"'“”„«»‹›…–—-|/•·"
_PIECE = re.compile(r"\w+(?:[-'][\w]+)*|[" + re.escape(_BREAK_MARKS) + "]")
_BREAK_SET = frozenset(_BREAK_MARKS)
_TITLE_WEIGHT, _BODY_WEIGHT = 1, 2  # votes for a display form: titles are often Title Case
PHRASE_MIN_COUNT = 2  # a two-word phrase is a term when it occurs this often in an article

# Per language, per distinct piece as written: (term key, display form, 1 for a word / 0 for
# a punctuation mark); key "" when the piece is no term (stopword, short, digits, mark).
# Lemmatising is the dear part of ingest, and a corpus repeats its words endlessly: each
# distinct spelling is decided once. Bounded per language.
_TermEntry = tuple[str, str, int]
_TERM_CACHES: dict[str | None, dict[str, _TermEntry]] = {}
_TERM_CACHE_LIMIT = 300_000
_NO_WORD: _TermEntry = ("", "", 1)
_MARK: _TermEntry = ("", "", 0)


@lru_cache(maxsize=1)
def _simplemma() -> Any:
    """simplemma's greedy lemmatiser over `_lemma_dictionaries`."""
    import simplemma
    from simplemma.strategies import DefaultStrategy

    strategy = DefaultStrategy(greedy=True, dictionary_factory=_lemma_dictionaries())
    return simplemma.Lemmatizer(lemmatization_strategy=strategy)


@lru_cache(maxsize=1)
def _lemma_dictionaries() -> Any:
    """simplemma's dictionaries as MARISA tries cached on disk.

    simplemma ships each dictionary compressed; decoding German into a dict costs about
    1 s of CPU and 200 MB in every process that lemmatises. Built once into a trie (about
    3 s, 7.5 MB for German) and saved in simplemma's cache directory
    (``platformdirs.user_cache_dir("simplemma")``), a dictionary loads in milliseconds,
    with the same lemmas (a look-up costs some microseconds more, once per spelling).
    """
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory, TrieDictionaryFactory

    # A trie that cannot be saved is simplemma's warning on stderr; here it is the dict.
    logging.getLogger("simplemma").addHandler(logging.NullHandler())
    logging.getLogger("simplemma").propagate = False

    class CachedTries(TrieDictionaryFactory):  # type: ignore[misc]
        """Saves a trie under a temporary name and renames it: a process that loads the
        cache while another writes it never reads half a file. Where no trie is cached and
        none can be saved (a read-only home), the dict-backed default: building a trie
        only to drop it costs three times as much."""

        def _get_dictionary_uncached(self, lang: str) -> Any:
            if self._usable(lang):
                return super()._get_dictionary_uncached(lang)
            return DefaultDictionaryFactory().get_dictionary(lang)

        def _usable(self, lang: str) -> bool:
            try:
                if (self._cache_dir / f"{lang}.dic").is_file():
                    return True
                self._cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError:  # no home, a file in the way, no permission
                return False
            return os.access(self._cache_dir, os.W_OK)

        def _write_trie_to_disk(self, lang: str, trie: Any) -> None:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            target = self._cache_dir / f"{lang}.dic"
            partial = target.with_name(f"{lang}.dic.{os.getpid()}.part")
            try:
                trie.save(str(partial))
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)

    return CachedTries()


# The dictionaries a parse process loads before it forks its workers (`warm_lemmas`): German
# and English, the languages monitor is made for. Loading one costs about a second of CPU
# (German; English 0.15 s); loaded in the forkserver, every worker shares it instead of
# loading its own.
WARM_LANGUAGES = ("de", "en")


def warm_lemmas(languages: tuple[str, ...] = WARM_LANGUAGES) -> None:
    """Load simplemma's dictionaries for ``languages`` now (they load on first use)."""
    for language in languages:
        _lemma("Zölle" if language == "de" else "tariffs", language)


def _lemma(word: str, language: str) -> str:
    """simplemma's lemma of ``word`` as written (case matters in German: "Gaben" -> "Gabe",
    "gaben" -> "geben"); greedy, so that inflected compounds merge ("Gegenzöllen" ->
    "Gegenzoll"). The word itself when simplemma fails."""
    try:
        return str(_simplemma().lemmatize(word, lang=language))
    except Exception:  # a lemmatiser problem must not stop ingestion
        return word


def _entry(piece: str, language: str | None, stop: frozenset[str]) -> _TermEntry:
    if len(piece) == 1 and piece in _BREAK_SET:
        return _MARK
    if len(piece) > MAX_WORD_CHARS:
        return _NO_WORD
    lower = piece.lower()
    token = _TOKEN_CACHE.get(lower)
    if token is None:
        token = _cached_token(lower)
    if not token or token in stop:
        return _NO_WORD
    form = piece[:-2] if lower.endswith("'s") else piece
    key = token
    if language is not None and language in LEMMA_LANGUAGES:
        lemma = _lemma(form, language)
        if lemma != form:
            # A lemma is a word too: the same rules (3 letters, no digits, no stopword).
            key = _token(unicodedata.normalize("NFC", lemma.lower())) or token
            if key in stop:
                return _NO_WORD
    return (key, form, 1)


def _entries(language: str | None) -> dict[str, _TermEntry]:
    cache = _TERM_CACHES.get(language)
    if cache is None:
        cache = _TERM_CACHES.setdefault(language, {})
    return cache


def term_key(word: str, language: str | None) -> str:
    """The term key a word is stored under in an article of ``language``: its lemma,
    lower-cased ("Zöllen" -> "zoll"), or the lower-cased word for a language without
    lemmas; "" when the word is no term (too short, digits, a stopword)."""
    code = normalize_language(language)
    plain = _apostrophes(unicodedata.normalize("NFC", word.strip()))
    return _entry(plain, code, _term_stopwords(code))[0] if plain else ""


_ALL_LANGUAGE_LEMMAS = ("de", "en")  # the stopword lists every article's terms go through


@lru_cache(maxsize=4_096)
def word_keys(word: str, language: str | None) -> frozenset[str]:
    """The term keys a user stopword hides: the word itself (lower-cased) and its lemma in
    ``language``, as a lower-case word and as a capitalised one ("gaben" -> "geben", and
    "Gaben" -> "gabe"); for ``None`` or "*", its lemmas in German and English (the lists
    every article's terms go through, whatever its language). Phrases are not touched."""
    plain = _apostrophes(unicodedata.normalize("NFC", word.strip())).lower()
    if not plain:
        return frozenset()
    code = normalize_language(language) if language and language != "*" else None
    keys = {plain}
    for each in (code,) if code else _ALL_LANGUAGE_LEMMAS:
        if each in LEMMA_LANGUAGES:
            for form in (plain, plain[:1].upper() + plain[1:]):
                keys.add(unicodedata.normalize("NFC", _lemma(form, each).lower()))
    return frozenset(keys)


def user_stop_keys(stopwords: Iterable[tuple[str, str]], languages: Sequence[str]) -> list[str]:
    """The term keys the user's ``(language, word)`` stopwords hide in a view of
    ``languages`` (all languages when empty): the words of '*' and of those languages, each
    with its lemmas (`word_keys`). Sorted, so a query's parameters never depend on order."""
    wanted = set(languages)
    keys: set[str] = set()
    for language, word in stopwords:
        if language == "*" or not wanted or language in wanted:
            keys |= word_keys(word, language)
    return sorted(keys)


def _pieces(text: str) -> list[str]:
    if not text:
        return []
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _PIECE.findall(_apostrophes(text))


def _german_phrase(first_key: str, first: str, second: str) -> bool:
    """German capitalises nouns and names: a phrase ends in one ("künstliche Intelligenz",
    "Olaf Scholz"), and starts with one or with an inflected word, an adjective ("höhere
    Zölle"): not with an adverb ("zuvor Zölle") or a verb ("Exporteure gaben")."""
    return second[:1].isupper() and (first[:1].isupper() or first.lower() != first_key)


def _pick_form(votes: dict[str, int]) -> str:
    """The form with the most votes; on a tie the one with fewer capitals (sentence starts
    and headlines add capitals, they never take them away), then code-point order."""
    return min(votes.items(), key=lambda kv: (-kv[1], sum(ch.isupper() for ch in kv[0]), kv[0]))[0]


def text_stats(
    title: str, body: str, language: str | None
) -> tuple[int, list[tuple[str, int, str]]]:
    """The body's word count and the terms of title and body, in one pass.

    A term is (key, count, display): the key is the lower-cased lemma in the article's
    language ("Zölle" and "Zöllen" are "zoll"; a language simplemma lacks, or none, keeps
    the lower-cased word), stopwords removed on the word and on its lemma ("gaben" ->
    "geben", a stopword); the display is the form the article uses most ("Zölle", "USA").
    Two adjacent terms with no stopword or punctuation between them that occur together
    at least `PHRASE_MIN_COUNT` times in title and body are a phrase term too ("donald
    trump", shown as its words are: "Donald Trump"); in German a phrase ends in a capital
    (a noun or name) and starts with one or with an inflected word ("künstliche
    Intelligenz", "Olaf Scholz"). Its words keep their own counts. At most ``MAX_TERMS`` terms:
    the most frequent, ties by key. Linear in the text.
    """
    return _text_stats(_pieces(title), _pieces(body), language)


def analyse(
    title: str, body: str, language: str | None
) -> tuple[int, list[tuple[str, int, str]], WordIndex]:
    """`text_stats` and `index_words` of one article from one split of its text into
    pieces (the split is a third of their cost)."""
    title_pieces, body_pieces = _pieces(title), _pieces(body)
    words, terms = _text_stats(title_pieces, body_pieces, language)
    return words, terms, _index_rows(title_pieces, body_pieces)


def _text_stats(
    title_pieces: list[str], body_pieces: list[str], language: str | None
) -> tuple[int, list[tuple[str, int, str]]]:
    code = normalize_language(language)
    stop = _term_stopwords(code)
    cache = _entries(code)
    kept: dict[str, int] = {}
    votes: dict[str, dict[str, int]] = {}
    pairs: Counter[tuple[str, str]] = Counter()
    words = 0
    for pieces, weight in ((body_pieces, _BODY_WEIGHT), (title_pieces, _TITLE_WEIGHT)):
        if not pieces:
            continue
        key_of: dict[str, str] = {}
        for piece, n in Counter(pieces).items():
            entry = cache.get(piece)
            if entry is None:
                entry = _entry(piece, code, stop)
                if len(cache) < _TERM_CACHE_LIMIT and len(piece) <= _CACHED_CHUNK_CHARS:
                    cache[piece] = entry
            if weight == _BODY_WEIGHT:
                words += n * entry[2]
            key = key_of[piece] = entry[0]
            if key:
                kept[key] = kept.get(key, 0) + n
                forms = votes.get(key)
                if forms is None:
                    votes[key] = {entry[1]: n * weight}
                else:
                    forms[entry[1]] = forms.get(entry[1], 0) + n * weight
        # Phrases: the sequence of keys ("" for a stopword or a mark), adjacent keys
        # counted in C.
        keys = [key_of[piece] for piece in pieces]
        pairs.update(zip(keys, keys[1:], strict=False))
    shown = {
        key: next(iter(forms)) if len(forms) == 1 else _pick_form(forms)
        for key, forms in votes.items()
    }
    german = code == "de"
    for (a, b), n in pairs.items():
        if n < PHRASE_MIN_COUNT or not a or not b or a == b:
            continue
        if german and not _german_phrase(a, shown[a], shown[b]):
            continue
        key = f"{a} {b}"
        kept[key] = n
        shown[key] = f"{shown[a]} {shown[b]}"
    ordered = sorted(kept.items())  # by term, then (stable) by count, highest first
    ordered.sort(key=itemgetter(1), reverse=True)
    return words, [(key, n, shown[key]) for key, n in ordered[:MAX_TERMS]]


def word_count(text: str) -> int:
    """Number of words (any run of letters/digits, inner hyphen/apostrophe joined)."""
    if not text:
        return 0
    return len(_WORD.findall(_apostrophes(text)))


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


# --- search words (the query language's index, issue 11) ---------------------------------

_SEARCH_WORD = re.compile(r"[^\W_]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
MAX_SEARCH_WORD_CHARS = 64  # a longer run of letters is junk; it is cut, not dropped


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """A word as search compares it: case-folded, umlauts transliterated, other marks dropped.

    ``Straße`` and ``strasse`` fold to ``strasse``, ``München`` and ``Muenchen`` to
    ``muenchen``, ``Café`` to ``cafe``. Text and query words are folded the same way, so a
    query matches a word as written and in its transliteration.
    """
    word = unicodedata.normalize("NFKC", word).casefold().translate(_UMLAUTS)
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_words(text: str) -> list[str]:
    """The folded words of ``text`` in order, stopwords included (a phrase may hold them).

    A word is a run of letters and digits in the NFC text: hyphens, apostrophes and ``_``
    separate words ("Ukraine-Konflikt" is ``ukraine``, ``konflikt``). Position ``i`` of the
    list is the word's position for phrase matching.
    """
    return _words_of_pieces(_pieces(text))


# Per distinct piece (`_pieces`): its folded search words; a mark has none. Bounded.
_PIECE_WORDS: dict[str, tuple[str, ...]] = {}
_PIECE_WORDS_LIMIT = 300_000


def _words_of_pieces(pieces: list[str]) -> list[str]:
    """The search words of a text split into pieces: the pieces' runs of letters and digits
    (a piece is a word, words joined by hyphens or apostrophes, or a mark; every run of
    letters and digits of the text is inside one), each folded."""
    out: list[str] = []
    cache = _PIECE_WORDS
    for piece in pieces:
        found = cache.get(piece)
        if found is None:
            found = tuple(fold(w[:MAX_SEARCH_WORD_CHARS]) for w in _SEARCH_WORD.findall(piece))
            if len(cache) < _PIECE_WORDS_LIMIT and len(piece) <= _CACHED_CHUNK_CHARS:
                cache[piece] = found
        if len(found) == 1:
            out.append(found[0])
        elif found:
            out.extend(found)
    return out


# Where a word was found, in the word index (`index_words`): one row per article, field and
# word. A phrase matches inside one field, never across the end of the title.
WORD_TITLE = 1
WORD_TEXT = 2
# A row of the word index: (field, folded word, its positions in that field).
WordRow = tuple[int, str, list[int]]


@lru_cache(maxsize=200_000)
def word_hash(word: str) -> int:
    """A folded word as a signed 64-bit number (blake2b): what the DuckDB word index stores
    and looks up, as integers compare and join several times faster than strings. Two words
    share a number about once in 10^12 pairs of a ten-million-word vocabulary."""
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


@dataclass(frozen=True, slots=True)
class WordIndex:
    """One article's word index rows, packed: row ``i`` is ``(fields[i], words[i],
    positions[offsets[i]:offsets[i + 1]])``, the title's rows first, each field's words in
    first-seen order, a word's positions ascending; ``hashes[i]`` is ``word_hash(words[i])``.

    Packed because it crosses from the parse processes to the one that stores: a few byte
    strings and arrays pickle, unpickle and reach Arrow as whole buffers, where a list of
    rows was two Python objects a distinct word for the garbage collector to walk (on long
    articles the main cost of the store's process). Iterating, indexing and ``len`` give
    the rows (`WordRow`).
    """

    fields: bytes
    words: tuple[str, ...]
    hashes: array[int]  # "q": signed 64-bit
    offsets: array[int]  # "I": len(words) + 1 entries, from 0
    positions: array[int]  # "I"

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, i: int) -> WordRow:
        if not -len(self.words) <= i < len(self.words):
            raise IndexError(i)
        i %= len(self.words)
        where = self.positions[self.offsets[i] : self.offsets[i + 1]]
        return self.fields[i], self.words[i], where.tolist()

    def __iter__(self) -> Iterator[WordRow]:
        offsets, positions = self.offsets, self.positions
        for i, (field, word) in enumerate(zip(self.fields, self.words, strict=True)):
            yield field, word, positions[offsets[i] : offsets[i + 1]].tolist()


EMPTY_WORD_INDEX = WordIndex(b"", (), array("q"), array("I", [0]), array("I"))


def index_words(title: str, text: str) -> WordIndex:
    """The word index rows of one article: (field, folded word, its positions in that
    field), for `WORD_TITLE` and `WORD_TEXT`, in first-seen order. Positions are those of
    `search_words`, so a phrase's words sit at consecutive positions."""
    return _index_rows(_pieces(title), _pieces(text))


# From this many words a field's positions are sorted in numpy (below it, its call costs more).
_NUMPY_WORDS = 64


def _index_rows(title_pieces: list[str], text_pieces: list[str]) -> WordIndex:
    fields = bytearray()
    words: list[str] = []
    counts: list[int] = []
    positions = array("I")
    for field, pieces in ((WORD_TITLE, title_pieces), (WORD_TEXT, text_pieces)):
        found = _words_of_pieces(pieces)
        if not found:
            continue
        # Linear work in C: each word's number (first-seen order), the positions ordered by
        # it (a stable sort keeps each word's ascending) and counted; Python only walks the
        # distinct words.
        distinct = list(dict.fromkeys(found))
        number = dict(zip(distinct, range(len(distinct)), strict=True))
        if len(found) < _NUMPY_WORDS:
            codes = list(map(number.__getitem__, found))
            positions.extend(sorted(range(len(codes)), key=codes.__getitem__))
            counted = Counter(codes)
            counts.extend(map(counted.__getitem__, range(len(distinct))))
        else:  # the same in numpy: a third faster on an article's text
            import numpy as np  # noqa: PLC0415 - the query commands do without it

            numbers = np.fromiter(map(number.__getitem__, found), np.int64, len(found))
            positions.frombytes(np.argsort(numbers, kind="stable").astype(np.uint32).tobytes())
            counts.extend(np.bincount(numbers, minlength=len(distinct)).tolist())
        words.extend(distinct)
        fields.extend(bytes((field,)) * len(distinct))
    if not words:
        return EMPTY_WORD_INDEX
    return WordIndex(
        bytes(fields),
        tuple(words),
        array("q", map(word_hash, words)),
        array("I", accumulate(counts, initial=0)),
        positions,
    )


def words_of(article: Any) -> WordIndex:
    """An `Article`'s word index rows: made where it was parsed (`Article.words`), else now."""
    words: WordIndex | None = article.words
    return index_words(article.title, article.text) if words is None else words
