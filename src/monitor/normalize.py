"""Turn feedparser entries into `Article` records: URLs, authors, dates, tags, hashes.

Decisions (documented here because callers and the dashboard depend on them):

- ``canonical_url`` keeps only http(s). A scheme-less link whose first segment is a host
  name with a known top-level domain (``example.github.io/post``, ``www.x.de``) is https on
  that host; ``//host/x`` takes the base's scheme; other relative links need a base.
  Tracking parameters removed: every ``utm_*``, plus ``TRACKING_PARAMS`` (click ids,
  mail-campaign ids, heise ``wt_mc``, ...), plus ``source=rss...`` (Medium). Other parameters
  keep their order and spelling. An empty path becomes ``/``.
- Identity: an article's id is the hash of its canonical URL *without* fragment, so one story
  in two feeds is one article. ``Article.url`` keeps a fragment that may name a post
  (``#post-2``; not ``#top``, ``#comments``, ``#:~:text=`` or ``#xtor=RSS-3``), and an entry
  without a guid is known in its feed by that URL. The store (``write.save_many``) gives
  entries of one feed that share a page their own ids, so they are never merged.
- ``split_authors``: an e-mail address beside a name is dropped in every usual form
  (``mail (Name)``, ``Name (mail)``, ``Name <mail>``, ``mailto:``); a bare address with no
  display name is kept whole (``webmaster@fcutrecht.net`` says more than ``webmaster``).
- Dates are parsed from the raw string (see `parse_date`); feedparser's parsed struct is only
  a last fallback (it silently assumes UTC). No zone, or a zone name no parser knows: the
  wall time is taken as UTC, ``date_assumed_utc`` is set, and an unknown name is a warning.
  Dates before 1990 or more than two days after the fetch are not used. The order of
  fields: published, created, updated; none usable: the first time the entry was seen
  (``date_source`` "first-seen").
- A field that cannot be used (a comment count of 3,000,000,000, a date that is none) costs
  that field, never the entry, and is named in ``Article.warnings``.
- Categories holding a comma-separated list of short phrases are split
  (``"Politik, Wirtschaft"``); a tag's display form is trimmed of surrounding punctuation.
- An entry without a title gets the first line of its text, cut to 90 characters, so lists and
  charts have something to show (Mastodon posts have no titles).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from monitor import stories
from monitor import text as textmod
from monitor.errors import one_line
from monitor.models import Article, PageInfo, Tag

__all__ = [
    "TRACKING_PARAMS",
    "apply_page",
    "canonical_url",
    "content_hash",
    "entry_id",
    "page_id",
    "parse_date",
    "parse_relative_date",
    "split_authors",
    "normalize_entry",
    "signed",
]

# Query parameters that only identify a campaign or click, never the document (lower case).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "li_fat_id", "mc_cid", "mc_eid", "igshid", "igsh", "_hsenc",
        "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking", "mkt_tok", "ref_src",
        "ref_url", "wt_mc", "wt_zmc", "wt.mc_id", "wt_mc_id", "at_medium", "at_campaign",
        "at_custom1", "at_custom2", "at_custom3", "at_custom4", "xtor", "_ga", "_gl",
        "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "rb_clickid", "s_cid",
        "spm", "ncid", "sr_share", "cmpid", "campaign_id", "ocid", "feature",
    }
)  # fmt: skip

_ABSURD_PAST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=2)
_TITLE_MAX = 90


# --- URLs -------------------------------------------------------------------------------


def _is_tracking(name: str, value: str) -> bool:
    low = name.lower()
    if low.startswith("utm_") or low in TRACKING_PARAMS:
        return True
    return low == "source" and value.lower().startswith("rss")


# Top-level domains a scheme-less link's first segment must end in to be read as a host
# ("example.github.io/post"): every country code, and the generic ones feeds link to.
_TLDS = frozenset(
    """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo bq
    br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do
    dz ec ee eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu
    gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr
    kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt
    mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps
    pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz
    tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf
    ws ye yt za zm zw
    com net org edu gov mil int info biz name pro mobi asia tel travel jobs app dev blog news
    online site xyz top tech shop store club live life world today media social cloud space
    website digital agency art page wiki one fun email link click berlin hamburg koeln wien
    bayern nrw ruhr saarland tirol swiss london nyc paris brussels amsterdam
    """.split()
)
# Country codes that are also common file extensions: "readme.md" or "notes.pl" alone is a
# relative file name, not a host (with a path after it, "onet.pl/x", it is a host).
_FILE_LIKE_TLDS = frozenset(
    "md py sh pl rs ps cc mk am ml pm la ac so in do mp".split()
)  # fmt: skip
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9\u00c0-\uffff-]{1,63}(?<!-)")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


def _scheme_less_host(raw: str) -> bool:
    """Whether a link without a scheme starts with a host name ("example.github.io/post").

    The first segment must be followed by "/" or nothing, hold at least two dot-separated
    labels of host characters (an optional :port after them), and end in a known top-level
    domain. "./x", "../x", "/x", "post.html", "index.php/2024/x" and "readme.md" stay relative.
    """
    if raw.startswith((".", "/", "?", "#", "~")):
        return False
    end = len(raw)
    for stop in "/?#\\":
        at = raw.find(stop)
        if 0 <= at < end:
            end = at
    if end < len(raw) and raw[end] != "/":
        return False
    segment = raw[:end].lower()
    host, _, port = segment.partition(":")
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return False
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return False
    tld = labels[-1]
    if tld not in _TLDS:
        return False
    return not (len(labels) == 2 and tld in _FILE_LIKE_TLDS and end == len(raw) and not port)


# Fragments that point into the same page as the bare URL: never what tells two posts apart.
_SECTION_FRAGMENTS = re.compile(
    r"(?:top|content|main|main-?content|article|start|page|comments|respond|disqus_thread|"
    r"comment-form|more(?:-\d+)?)",
    re.IGNORECASE,
)
# Parameters in a fragment ("#xtor=RSS-3", "#ref=rss") that only say where a click came from.
_FRAGMENT_TRACKING = frozenset({"ref", "xtor", "src", "from", "echobox", "source", "via"})


def _clean_fragment(fragment: str) -> str:
    """The part of a URL fragment that may identify a post, or "" (see `canonical_url`)."""
    fragment = fragment.split(":~:", 1)[0]  # a text fragment ("#:~:text=...") is a highlight
    if "=" in fragment and not fragment.startswith("!"):
        kept = []
        for pair in fragment.split("&"):
            name, _, value = pair.partition("=")
            low = name.lower()
            if pair and not _is_tracking(name, value) and low not in _FRAGMENT_TRACKING:
                if not low.startswith("at_"):
                    kept.append(pair)
        fragment = "&".join(kept)
    fragment = fragment.strip()
    if not fragment or _SECTION_FRAGMENTS.fullmatch(fragment):
        return ""
    return quote(fragment, safe="/%:@!$&'()*+,;=~-._?")


def canonical_url(
    url: str | None, base: str | None = None, *, keep_fragment: bool = False
) -> str | None:
    """Canonical http(s) form of ``url`` (resolved against ``base``), or None.

    Lower-cases scheme and host, drops default ports, user info and tracking parameters,
    percent-encodes spaces. None for other schemes, junk, or a relative link without base. A
    link without a scheme whose first segment is a host name ("example.github.io/post",
    "www.x.de", "example.com:8080/x") is https on that host, whatever the base; "//host/x"
    takes the base's scheme (https without a base).

    The fragment is dropped, unless ``keep_fragment``: then a fragment that may identify a
    post ("#post-2", "#comment-17", "#!/status/5") is kept, and one that never does is still
    dropped: empty, a text fragment ("#:~:text="), a section of the same page ("#top",
    "#comments", "#more-123", "#content") or click tracking ("#xtor=RSS-3", "#ref=rss").
    """
    if not url or not isinstance(url, str):
        return None
    raw = url.strip().replace("\r", "").replace("\n", "").replace("\t", "")
    if not raw:
        return None
    try:
        lower = raw.lower()
        if lower.startswith("www.") or _scheme_less_host(raw):
            raw = "https://" + raw
        elif raw.startswith("//") and not base:
            raw = "https:" + raw
        elif not _SCHEME.match(raw):
            if not base:
                return None
            base_url = canonical_url(base)
            if base_url is None:
                return None
            raw = urljoin(base_url, raw)
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname.lower().rstrip(".")
        if not host or " " in host:
            return None
        port = parts.port  # may raise ValueError on junk ports
        netloc = host if ":" not in host else f"[{host}]"
        if port is not None and not (
            (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
        ):
            netloc = f"{netloc}:{port}"
        path = quote(parts.path, safe="/%:@!$&'()*+,;=~-._") or "/"
        query = _clean_query(parts.query)
        fragment = _clean_fragment(parts.fragment) if keep_fragment else ""
    except ValueError:
        return None
    return urlunsplit((scheme, netloc, path, query, fragment))


def _clean_query(query: str) -> str:
    if not query:
        return ""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if not _is_tracking(name, value):
            kept.append(quote(pair, safe="/%:@!$&'()*+,;=~-._?"))
    return "&".join(kept)


# --- authors ----------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MAILTO = re.compile(r"mailto:", re.IGNORECASE)
# "<jane@x.org>" looks like a tag to the HTML stripper: made "(jane@x.org)" before it runs.
_ANGLE_EMAIL = re.compile(r"<\s*((?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+)\s*>", re.IGNORECASE)
_BRACKETED = re.compile(r"\([^()]*\)|<[^<>]*>|\[[^\[\]]*\]")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|<\s*>|\[\s*\]")
_BYLINE = re.compile(r"^\s*(?:(?:von|by|autor(?:in)?:|author:|text:)\s+)+", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:[,;|]|\s&\s|&amp;|\s(?:and|und|et|y|e|en)\s)\s*", re.I)
_NAME_EDGES = " \t.,;:-–—\"'"
_PIECE_MAX = 1000


def _pieces(value: str) -> list[str]:
    """Split a byline at the separators that are not inside brackets ("a@x (Doe, Jane)")."""
    spans = [m.span() for m in _BRACKETED.finditer(value)] if "(" in value or "<" in value else []
    pieces: list[str] = []
    start = 0
    inside = 0  # spans are in order and do not overlap: walk them beside the separators
    for match in _SEPARATORS.finditer(value):
        while inside < len(spans) and spans[inside][1] <= match.start():
            inside += 1
        if inside < len(spans) and spans[inside][0] <= match.start():
            continue
        pieces.append(value[start : match.start()])
        start = match.end()
    pieces.append(value[start:])
    return pieces


def _one_author(piece: str) -> list[str]:
    """The name in one piece of a byline: an e-mail address beside a name is dropped
    ("Jane Doe (jane@x.org)", "jane@x.org (Jane Doe)", "Jane <jane@x.org>", "mailto:"); an
    address alone is kept ("<jane@x.org>" -> "jane@x.org"), several alone are each kept."""
    if "@" not in piece:
        return [piece]
    piece = _MAILTO.sub(" ", piece)
    emails = _EMAIL.findall(piece)
    if not emails:
        return [piece]
    rest = _EMAIL.sub(" ", piece)
    while _EMPTY_BRACKETS.search(rest):
        rest = _EMPTY_BRACKETS.sub(" ", rest)
    if any(ch.isalpha() for ch in rest):
        return [rest]
    return emails


_OPENERS = {"(": ")", "[": "]", "<": ">"}


def _trim(name: str) -> str:
    """A name without byline words, surrounding punctuation and quotes, a bracket pair around
    all of it ("(Jane Doe)") or a bracket left open at an end ("(Jane", "Jane)")."""
    while True:
        before = name
        name = _BYLINE.sub("", " ".join(name.split())).strip(_NAME_EDGES)
        if name[:1] in _OPENERS and name.endswith(_OPENERS[name[0]]):
            inner = name[1:-1]
            if inner.count(name[0]) == inner.count(_OPENERS[name[0]]):
                name = inner
        if name[:1] in _OPENERS and _OPENERS[name[0]] not in name:
            name = name[1:]
        if name[-1:] in _OPENERS.values():
            opener = next(o for o, c in _OPENERS.items() if c == name[-1])
            if opener not in name:
                name = name[:-1]
        if name == before:
            return name


def _plain(value: str) -> str:
    """The text of a byline, decoded until decoding changes nothing (``&amp;lt;b&amp;gt;``
    is markup twice escaped), so a name read from it reads the same when split again.
    "<jane@x.org>" is kept as "(jane@x.org)": the tag stripper would take it for a tag."""
    for _ in range(4):
        before = value
        if "<" in value and "@" in value:
            value = _ANGLE_EMAIL.sub(r" (\1) ", value)
        value = textmod.html_to_text(value)
        if value == before or ("<" not in value and "&" not in value):
            break  # plain text: another pass would change nothing
    return value


def split_authors(values: Iterable[str]) -> tuple[str, ...]:
    """Split author strings into single names, in order, without duplicates.

    Splits on commas, semicolons, "|", "&", "and", "und", "et", "y", "e", "en" (not inside
    brackets); an e-mail address beside a name is dropped in any of the usual forms
    (``mail (Name)``, ``Name (mail)``, ``Name <mail>``, ``mailto:``); an address alone is kept
    whole (``webmaster@fcutrecht.net`` says more than ``webmaster``); strips "Von"/"By".
    """
    names: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not value or not isinstance(value, str):
            continue
        for name in _names_in(value) if len(value) <= 200 else _names_in.__wrapped__(value):
            key = name.casefold()
            if key not in seen:
                seen.add(key)
                names.append(name)
    return tuple(names)


@lru_cache(maxsize=4096)  # a feed's bylines repeat: each distinct one is split once
def _names_in(value: str) -> tuple[str, ...]:
    cleaned = _BYLINE.sub("", _plain(value).replace("\n", ", "))
    return tuple(_names(cleaned, depth=3))


def _names(text: str, depth: int) -> Iterator[str]:
    for piece in _pieces(text):
        if len(piece) > _PIECE_MAX:
            continue  # no name is this long: junk, and cleaning it would cost its square
        for found in _one_author(piece):
            name = _trim(found)
            if not name or len(name) > 200:
                continue
            # A name taken out of brackets ("mail (Anna und Bernd)") is split like any other,
            # so that splitting the result again changes nothing.
            if depth and len(_pieces(name)) > 1:
                yield from _names(name, depth - 1)
            else:
                yield name


# --- dates ------------------------------------------------------------------------------


def _month_table() -> dict[str, int]:
    """Month names in en, de, fr, es, it, nl and pt, and every abbreviation of three letters
    or more that names one month only ("sept", "juil"; not "jui", juin or juillet), plus the
    abbreviations that are no prefix ("mrz", "mrt")."""
    months = [
        "january januar jänner janvier enero gennaio januari janeiro",
        "february februar feber février fevrier febrero febbraio februari fevereiro",
        "march märz maerz mrz mars marzo maart mrt março marco",
        "april avril abril aprile",
        "may mai mayo maggio mei maio",
        "june juni juin junio giugno junho",
        "july juli juillet julio luglio julho",
        "august août aout agosto augustus",
        "september septembre septiembre setiembre settembre setembro",
        "october oktober octobre octubre ottobre outubro",
        "november novembre noviembre novembro",
        "december dezember décembre decembre diciembre dicembre dezembro",
    ]
    owners: dict[str, set[int]] = {}
    for number, line in enumerate(months, 1):
        for name in line.split():
            for end in range(3, len(name) + 1):
                owners.setdefault(name[:end], set()).add(number)
    table = {word: next(iter(found)) for word, found in owners.items() if len(found) == 1}
    table["mae"] = 3  # "Mär" written without the umlaut
    return table


_MONTHS = _month_table()

# Zone abbreviations with one fixed offset (minutes east of UTC). Ambiguous names take the
# meaning feeds use: CST/EST/AST are North American (RFC 822), BST is British summer time,
# IST is India.
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "wez": 0, "bst": 60, "ist": 330,
    "cet": 60, "met": 60, "mez": 60, "west": 60, "wesz": 60, "cest": 120, "mest": 120,
    "mesz": 120, "eet": 120, "oez": 120, "eest": 180, "oesz": 180, "msk": 180,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600, "ast": -240,
    "adt": -180, "nst": -210, "ndt": -150, "brt": -180, "brst": -120, "art": -180,
    "clt": -240, "clst": -180, "sast": 120, "wat": 60, "cat": 120, "eat": 180, "pkt": 300,
    "ict": 420, "wib": 420, "sgt": 480, "hkt": 480, "awst": 480, "pht": 480, "jst": 540,
    "kst": 540, "acst": 570, "acdt": 630, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
}  # fmt: skip
_ZONE_TZ = {name: timezone(timedelta(minutes=minutes)) for name, minutes in _ZONES.items()}
# Generic North American zones name a region, not an offset: summer time follows the date.
_REGIONAL_ZONES = {
    "et": "America/New_York",
    "ct": "America/Chicago",
    "mt": "America/Denver",
    "pt": "America/Los_Angeles",
    "at": "America/Halifax",
}

_WORD = r"[^\W\d_]+"
_TIME = (
    r"(?P<hour>\d{1,2})[:h.](?P<minute>\d{2})(?:[:.](?P<second>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m\b\.?)?(?:\s*(?:uhr|h)\b)?"
)
_TIME_SEP = r"(?:\s*[,-]\s*|\s+|t)(?:(?:um|à|a\s+las|às|as|alle|om|at|a)\s+)?"
_ZONE = (
    r"(?:(?:gmt|utc|ut)?\s*(?P<offset>[+\-−]\d{1,2}(?::?\d{2})?)(?![\d:]))?"
    r"\s*(?:\(?(?P<name>[a-z]{1,6})\)?)?"
)
_WEEKDAY = rf"(?:{_WORD}\.?\s*,?\s*)?"
_DAY_MONTH_YEAR = re.compile(
    rf"^\s*{_WEEKDAY}(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|º|ª)?[\s./-]*(?:de\s+)?"
    rf"(?P<month>{_WORD})\.?[\s,./-]*(?:de\s+)?(?P<year>\d{{4}}|\d{{2}})"
    rf"(?:{_TIME_SEP}{_TIME})?\s*{_ZONE}\s*$",
    re.IGNORECASE,
)
_MONTH_DAY_YEAR = re.compile(
    rf"^\s*{_WEEKDAY}(?P<month>{_WORD})\.?[\s-]*(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\.?\s*,?\s*"
    rf"(?P<year>\d{{4}})(?:{_TIME_SEP}{_TIME})?\s*{_ZONE}\s*$",
    re.IGNORECASE,
)
_ASCTIME = re.compile(  # "Mon Sep 24 19:42:40 2018", "Mon Sep 24 19:42:40 UTC 2018"
    rf"^\s*{_WORD}\s+(?P<month>{_WORD})\s+(?P<day>\d{{1,2}})\s+{_TIME}"
    rf"(?:\s+(?P<name>[a-z]{{1,6}}))?\s+(?P<year>\d{{4}})\s*$",
    re.IGNORECASE,
)
_NUMERIC = re.compile(  # "2018-09-24T19:42:40.5+02:00", "2018/09/24 19:42 CEST"
    rf"^\s*(?P<year>\d{{4}})(?P<sep>[-/.])(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}})"
    rf"(?:(?:t|\s+){_TIME})?\s*{_ZONE}\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Date:
    when: datetime  # aware, UTC
    assumed: bool  # no usable zone: the wall time was taken as UTC
    unknown_zone: str | None = None  # the zone name we could not place, if any


@lru_cache(maxsize=512)  # a feed writes the same few offsets on every entry
def _offset(text: str) -> timezone | None:
    digits = text[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    elif len(digits) == 3:
        hours, minutes = int(digits[0]), int(digits[1:])
    else:
        hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    total = hours * 60 + minutes
    return timezone(timedelta(minutes=-total if text[0] in "-−" else total))


def _build(groups: Mapping[str, str | None], month: int | None) -> _Date | None:
    """A `_Date` from a pattern's named groups, or None when a part is out of range."""
    if month is None:
        return None
    year_text = groups["year"] or ""
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year < 50 else 1900
    hour = int(groups.get("hour") or 0)
    minute = int(groups.get("minute") or 0)
    second = min(int(groups.get("second") or 0), 59)  # a leap second is the one before
    micro = int((groups.get("frac") or "0")[:6].ljust(6, "0"))
    ampm = (groups.get("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    try:
        naive = datetime(year, month, int(groups["day"] or 0), hour, minute, second, micro)
    except (ValueError, OverflowError):
        return None
    offset, name = groups.get("offset"), (groups.get("name") or "").lower()
    if offset:
        tz = _offset(offset)
        if tz is not None:
            return _Date(naive.replace(tzinfo=tz).astimezone(UTC), False)
        return _Date(naive.replace(tzinfo=UTC), True, offset)
    if name in _ZONE_TZ:
        return _Date(naive.replace(tzinfo=_ZONE_TZ[name]).astimezone(UTC), False)
    if name in _REGIONAL_ZONES:
        return _Date(naive.replace(tzinfo=ZoneInfo(_REGIONAL_ZONES[name])).astimezone(UTC), False)
    if name:
        return _Date(naive.replace(tzinfo=UTC), True, groups.get("name"))
    return _Date(naive.replace(tzinfo=UTC), True)


def _month(word: str | None) -> int | None:
    if not word:
        return None
    low = word.lower().rstrip(".")
    found = _MONTHS.get(low)
    if found is None:
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c)
        )
        found = _MONTHS.get(plain)
    return found


# A string the fast parsers recognised by its shape but whose values are out of range
# ("2025-13-01", "32 Dec 2018"): not a date, and not one for the slow parser to guess at.
_INVALID = _Date(datetime.min.replace(tzinfo=UTC), True)


def _fast_date(raw: str) -> _Date | None:
    """The hand-written parsers: numeric (ISO 8601 and kin), RFC 822 and its relatives with
    month names in en, de, fr, es, it, nl and pt, month-first and asctime. None when none
    recognises the string, `_INVALID` when one does but its values are out of range."""
    value = raw.strip()
    if value[:4].isdigit():
        match = _NUMERIC.match(value)
        if match:
            return _build(match.groupdict(), int(match.group("month"))) or _INVALID
        try:
            parsed = datetime.fromisoformat(value)  # the rarer ISO forms ("20250329T1000Z")
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return _Date(parsed.replace(tzinfo=UTC), True)
        return _Date(parsed.astimezone(UTC), False)
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _ASCTIME):
        match = pattern.match(value)
        if match:
            month = _month(match.group("month"))
            if month is not None:
                return _build(match.groupdict(), month) or _INVALID
    return None


_SLOW_LANGUAGES = ["de", "en", "fr", "es", "it", "nl", "pt"]
_SLOW_MAX_LENGTH = 80
# dateparser takes 1-30 ms a string (300 ms for its first): a document may send it at most
# this many strings, so a feed of 10,000 odd dates costs seconds, not minutes.
SLOW_DATES_PER_DOCUMENT = 200


class _Budget:
    """How many more date strings dateparser may see for the document being normalised."""

    def __init__(self, key: tuple[str, datetime] | None = None) -> None:
        self.key = key
        self.left = SLOW_DATES_PER_DOCUMENT


class _Current(threading.local):
    budget = _Budget()


_current = _Current()


def _document_budget(feed_url: str, fetched_at: datetime) -> _Budget:
    """The budget of the document an entry belongs to: its entries are normalised one after
    the other with the same feed URL and fetch time (a new pair starts a new budget)."""
    key = (feed_url, fetched_at)
    if _current.budget.key != key:
        _current.budget = _Budget(key)
    return _current.budget


@lru_cache(maxsize=4096)
def _slow_date(raw: str) -> _Date | None:
    """dateparser, for what the fast parsers do not know (other languages' month names,
    "24 septembre 2018 à 19h42", numeric day-month orders, more zone names). Only absolute
    dates with a day, month and year; never a relative date or a bare number."""
    import dateparser  # type: ignore[import-untyped]  # slow to import: only when needed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = dateparser.parse(
                raw,
                languages=_SLOW_LANGUAGES,
                settings={
                    "PARSERS": ["custom-formats", "absolute-time"],
                    "REQUIRE_PARTS": ["day", "month", "year"],
                    "PREFER_DAY_OF_MONTH": "first",
                },
            )
        except Exception:  # noqa: BLE001 - a third-party parser on hostile text: no date
            return None
    if not isinstance(parsed, datetime):
        return None
    try:
        if parsed.tzinfo is None:
            return _Date(parsed.replace(tzinfo=UTC), True)
        return _Date(parsed.astimezone(UTC), False)
    except (ValueError, OverflowError):
        return None


def _parse(raw: str, budget: _Budget | None = None) -> _Date | None:
    """Fast parsers, then (for what they cannot read, or a zone they cannot place)
    dateparser, while ``budget`` lasts (None: no limit)."""
    if not raw or not isinstance(raw, str) or len(raw) > 100:
        return None
    try:
        fast = _fast_date(raw)
    except (ValueError, OverflowError):  # year 1 or 9999 moved out of range by its zone
        return None
    if fast is _INVALID:
        return None
    if fast is not None and fast.unknown_zone is None:
        return fast
    if len(raw) > _SLOW_MAX_LENGTH or not any(c.isdigit() for c in raw):
        return fast
    if budget is not None:
        budget.left -= 1
        if budget.left < 0:
            return fast
    slow = _slow_date(raw.strip())
    if slow is not None and (fast is None or not slow.assumed):
        return slow
    return fast


def parse_date(raw: str | None) -> tuple[datetime, bool] | None:
    """Parse a date string to (UTC datetime, zone-was-assumed), or None when it is not one.

    Fast paths first (ISO 8601, RFC 822 and its relatives, month names in en, de, fr, es,
    it, nl and pt, "Fri,24 Nov 2023"), then dateparser for the rest. Zone names: the common
    abbreviations have their offsets (ET, CT, MT, PT and AT follow summer time); a time
    without a zone, or with a zone name no parser knows, is taken as UTC and marked assumed.
    """
    parsed = _parse(raw or "")
    return None if parsed is None else (parsed.when, parsed.assumed)


# What a relative date must hold before dateparser sees it: a day word ("gestern"), or an
# amount of a unit of time with a word that makes it past ("vor", "ago", "il y a", "fa").
_RELATIVE_DAY = re.compile(
    r"\b(?:gestern|vorgestern|heute|yesterday|today|hier|avant-hier|aujourd'hui|ayer|"
    r"anteayer|hoy|ieri|l'altro\s+ieri|oggi|gisteren|eergisteren|vandaag|ontem|anteontem|"
    r"hoje)\b",
    re.IGNORECASE,
)
_RELATIVE_AGO = re.compile(r"\b(?:ago|vor|il\s+y\s+a|hace|fa|geleden|há|ha)\b", re.IGNORECASE)
_RELATIVE_UNIT = re.compile(
    r"(?:\d|\b)(?:sek|sec|min|std|stunde|hour|hr|h\b|tag|day|woche|week|monat|month|jahr|"
    r"year|jour|heure|semaine|mois|an\b|ann|d[ií]a|hora|semana|mes|año|ano|giorn|or[ae]\b|"
    r"settiman|mese|ann[oi]|dag|uur|maand|jaar)",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\d{1,2}[:h.]\d{2}")


def parse_relative_date(text: str | None, anchor: datetime) -> tuple[datetime, bool] | None:
    """A relative date on a page ("vor 5 Tagen", "2 hours ago", "gestern", "yesterday",
    "il y a 3 jours", "hace 2 días", "2 giorni fa", "3 dagen geleden", "há 2 dias") as a UTC
    time counted back from ``anchor`` (the fetch time), with whether a clock time in it
    ("gestern, 14:30") had to be taken as UTC. None for anything else."""
    if not text or not isinstance(text, str) or len(text) > 60:
        return None
    value = " ".join(text.split())
    if not _RELATIVE_DAY.search(value) and not (
        _RELATIVE_AGO.search(value) and _RELATIVE_UNIT.search(value)
    ):
        return None
    base = _as_utc(anchor).replace(tzinfo=None)
    # The whole text, then the phrase in it ("Posted 3 days ago" -> "3 days ago").
    for candidate in (value, *(m.group(0) for m in _RELATIVE_PHRASE.finditer(value))):
        parsed = _relative_dateparser(candidate, base)
        if parsed is None:
            continue
        when = _as_utc(parsed)
        if _ABSURD_PAST <= when <= _as_utc(anchor) + _FUTURE_SLACK:
            return when, _CLOCK.search(candidate) is not None
    return None


_RELATIVE_PHRASE = re.compile(
    r"\b(?:vor|il\s+y\s+a|hace|há|ha)\s+[\w.]+\s+[\w.]+|[\w.]+\s+[\w.]+\s+(?:ago|fa|geleden)\b",
    re.IGNORECASE,
)


def _relative_dateparser(text: str, base: datetime) -> datetime | None:
    import dateparser  # type: ignore[import-untyped]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = dateparser.parse(
                text,
                languages=_SLOW_LANGUAGES,
                settings={
                    "PARSERS": ["relative-time", "absolute-time"],
                    "RELATIVE_BASE": base,
                    "PREFER_DATES_FROM": "past",
                },
            )
        except Exception:  # noqa: BLE001 - a third-party parser on hostile text: no date
            return None
    return parsed if isinstance(parsed, datetime) else None


def _has_zone(raw: str) -> bool:
    """Whether a date string we could not parse ends in a zone offset or a known zone name."""
    if re.search(r"(?:[+-]\d{2}:?\d{2}|\dZ)\s*$", raw):
        return True
    words = raw.split()
    if not words:
        return False
    last = words[-1].strip("()").lower()
    return last in _ZONES or last in _REGIONAL_ZONES


def _sane(value: datetime, fetched_at: datetime) -> bool:
    return _ABSURD_PAST <= value <= _as_utc(fetched_at) + _FUTURE_SLACK


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _short(value: object, limit: int = 60) -> str:
    return repr(one_line(value, limit))


# Date fields of an entry in the order they are tried, with the date_source each gives.
# Atom 0.3 <created> and dcterms:created are when the entry was written: after its
# publication date, before its last change.
_DATE_FIELDS = (("published", "feed"), ("created", "feed-created"), ("updated", "feed-updated"))


def _own(entry: Mapping[str, Any], key: str) -> Any:
    """The entry's own value for ``key``: feedparser's dict answers a missing "updated" with
    "published" (and a DeprecationWarning), which would try one date twice."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _entry_date(
    entry: Mapping[str, Any], fetched_at: datetime, notes: list[str], budget: _Budget | None
) -> tuple[datetime, str, bool]:
    for key, source in _DATE_FIELDS:
        raw = _own(entry, key)
        if not raw:
            continue
        parsed = _parse(str(raw), budget)
        if parsed is None:
            struct = _own(entry, f"{key}_parsed")
            if isinstance(struct, time.struct_time):
                try:
                    value = datetime(*struct[:6], tzinfo=UTC)
                except (ValueError, OverflowError, TypeError):
                    value = None
                if value is not None:
                    parsed = _Date(value, not _has_zone(str(raw)))
        if parsed is None:
            if budget is not None and budget.left < 0:
                notes.append(
                    f"{key}: {_short(raw)} not read (more than {SLOW_DATES_PER_DOCUMENT} "
                    "dates in this document needed the slow parser)"
                )
            else:
                notes.append(f"{key}: {_short(raw)} is not a date")
            continue
        if not _sane(parsed.when, fetched_at):
            notes.append(
                f"{key}: {parsed.when:%Y-%m-%d} is outside the accepted dates "
                "(1990 to two days after the fetch)"
            )
            continue
        if parsed.unknown_zone:
            notes.append(
                f"{key}: unknown time zone {_short(parsed.unknown_zone)} in {_short(raw)}, "
                "the time was taken as UTC"
            )
        return parsed.when, source, parsed.assumed
    return _as_utc(fetched_at), "first-seen", False


# --- tags -------------------------------------------------------------------------------


def _category_terms(entry: Mapping[str, Any]) -> list[str]:
    """Display forms of the entry's categories (`text.split_category`: the one rule for feed
    categories and page tags)."""
    out: list[str] = []
    for item in entry.get("tags") or ():
        if isinstance(item, Mapping):
            term = item.get("term") or item.get("label") or ""
            if isinstance(term, str):
                out.extend(textmod.split_category(term))
    return out


def _merge_tags(*groups: Iterable[Tag]) -> tuple[Tag, ...]:
    """One Tag per key, first wins; categories beat hashtags for the same key."""
    by_key: dict[str, Tag] = {}
    for group in groups:
        for tag in group:
            old = by_key.get(tag.key)
            if old is None or (old.source == "hashtag" and tag.source == "category"):
                by_key[tag.key] = tag
    return tuple(by_key.values())


def _hashtag_tags(*texts: str) -> list[Tag]:
    tags: list[Tag] = []
    for value in dict.fromkeys(texts):  # summary and body are often the same text
        for display in textmod.find_hashtags(value):
            key = textmod.tag_key(display)
            if key:
                tags.append(Tag(key=key, display=display, source="hashtag"))
    return tags


def _category_tags(displays: Iterable[str]) -> list[Tag]:
    return [Tag(key=textmod.tag_key(d), display=d, source="category") for d in displays]


# --- hashing ----------------------------------------------------------------------------


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def page_id(url: str) -> str:
    """The article id of a canonical URL: the same story in two feeds is one article."""
    return _sha(url)[:16]


def entry_id(feed_url: str, entry_key: str) -> str:
    """The article id of an entry that its URL does not identify (it has none, or shares its
    page with other entries of its feed): from the feed and the entry's key."""
    return _sha(f"{feed_url}\n{entry_key}")[:16]


def content_hash(article: Article) -> str:
    """sha256 over everything stored about an article (not its id or hash itself)."""
    dated = article.date_source != "first-seen"
    return hash_fields(
        url=article.url,
        title=article.title,
        summary=article.summary,
        text=article.text,
        authors=article.authors,
        tags=[(t.key, t.display, t.source) for t in article.tags],
        published=article.published.isoformat() if dated else None,
        date_source=article.date_source if dated else None,
        language=article.language,
        comments=article.comments,
        fulltext_error=article.fulltext_error,
    )


def hash_fields(
    *,
    url: str | None,
    title: str,
    summary: str,
    text: str,
    authors: Sequence[str],
    tags: Sequence[tuple[str, str, str]],
    published: str | None,
    date_source: str | None,
    language: str | None,
    comments: int | None,
    fulltext_error: str | None,
) -> str:
    """The content hash of an article's stored fields (tags as (key, display, source))."""
    parts: list[str] = []

    def put(value: str | None) -> None:
        # Every value with its length (or "-" for none): no two different articles give the
        # same string, whatever characters their fields hold.
        parts.append("-" if value is None else f"{len(value)}:{value}")

    for value in (url, title, summary, text):
        put(value)
    put(str(len(authors)))
    for author in authors:
        put(author)
    put(str(len(tags)))
    for key, display, source in tags:
        put(key)
        put(display)
        put(source)
    put(published)
    put(date_source)
    put(language)
    put(None if comments is None else str(comments))
    put(fulltext_error)
    return _sha("".join(parts))


# --- entries ----------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entry_authors(entry: Mapping[str, Any]) -> tuple[str, ...]:
    single = _str(entry.get("author"))
    details = [i for i in entry.get("authors") or () if isinstance(i, Mapping)]
    if single and len(details) <= 1:
        # feedparser's own split of "mail@host (Name)" mangles it ("ple (Name", "mail@ho");
        # the raw string through split_authors is right, and also handles "A und B".
        return split_authors([single])
    raw: list[str] = []
    for item in entry.get("authors") or ():
        if isinstance(item, Mapping):
            name, email = _str(item.get("name")), _str(item.get("email"))
            if name:
                raw.append(name)
            elif email:
                raw.append(email)
    if not raw:
        raw.append(_str(entry.get("author")))
    return split_authors(raw)


# The store keeps counts in 32-bit integers; a count above this is junk, not a count.
MAX_COUNT = 2**31 - 1
_COUNT = re.compile(r"\s*\+?([0-9]{1,12})(?:\.0*)?\s*")


def _count(value: object) -> int | None:
    """A non-negative whole number the store can hold, from an int or a string of ASCII
    digits ("12", " 12 ", "12.0"), else None (negative, huge, fractional, NaN, "²", ...)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        number = int(value)
    elif isinstance(value, str):
        match = _COUNT.fullmatch(value)
        if match is None:
            return None
        number = int(match.group(1))
    else:
        return None
    return number if 0 <= number <= MAX_COUNT else None


def _comments(entry: Mapping[str, Any], notes: list[str]) -> int | None:
    for key in ("slash_comments", "thr_total"):
        value = entry.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        number = _count(value)
        if number is None:
            notes.append(f"comments: {_short(value)} is not a count, dropped")
            continue
        return number
    return None


def _first_line_title(body: str) -> str:
    line = next((ln for ln in body.split("\n") if ln.strip()), "").strip()
    if len(line) <= _TITLE_MAX:
        return line
    cut = line[:_TITLE_MAX].rsplit(" ", 1)[0] or line[:_TITLE_MAX]
    return cut.rstrip(" ,;:.-") + "…"


def _entry_language(entry: Mapping[str, Any]) -> str | None:
    candidates: list[Any] = [entry.get("language")]
    for key in ("content",):
        for item in entry.get(key) or ():
            if isinstance(item, Mapping):
                candidates.append(item.get("language"))
    for key in ("summary_detail", "title_detail"):
        detail = entry.get(key)
        if isinstance(detail, Mapping):
            candidates.append(detail.get("language"))
    for candidate in candidates:
        code = textmod.normalize_language(_str(candidate))
        if code:
            return code
    return None


def _finish(article: Article) -> Article:
    return replace(article, content_hash=content_hash(article))


def signed(articles: Iterable[Article]) -> list[Article]:
    """The articles with their story signatures (`stories.sign`) and indexed words
    (`text.index_words`): pure per-article work,
    done where a feed is parsed (the parse processes), not in the store's one writing
    process; after all the feed's entries, as signing them one after another is cheaper
    than one between each two entries."""
    return [
        a
        if a.signature is not None and a.words is not None
        else replace(
            a,
            signature=stories.sign(a.title, a.text) if a.signature is None else a.signature,
            words=textmod.index_words(a.title, a.text) if a.words is None else a.words,
        )
        for a in articles
    ]


def normalize_entry(
    entry: Mapping[str, Any],
    *,
    feed_url: str,
    feed_language: str | None,
    feed_authors: Sequence[str],
    fetched_at: datetime,
) -> Article:
    """Build an `Article` from one feedparser entry (see the module docstring for rules).

    A field that cannot be used is left out (None, or the fallback the rules give) and says
    why in ``Article.warnings``.
    """
    notes: list[str] = []
    link = _str(entry.get("link"))
    if not link:
        for item in entry.get("links") or ():
            if isinstance(item, Mapping) and item.get("rel", "alternate") == "alternate":
                link = _str(item.get("href"))
                break
    # The page, for cross-feed identity; the link as shown keeps a fragment naming a post.
    url = canonical_url(link, base=feed_url, keep_fragment=True)
    page = url.split("#", 1)[0] if url else None  # "#" in a path or query is "%23"

    title = textmod.html_to_text(_str(entry.get("title"))).replace("\n", " ")
    summary = textmod.html_to_text(_str(entry.get("summary")))
    bodies = [summary]
    for item in entry.get("content") or ():
        if isinstance(item, Mapping):
            bodies.append(textmod.html_to_text(_str(item.get("value"))))
    bodies.append(textmod.html_to_text(_str(entry.get("yandex_full-text"))))
    body = max(bodies, key=len)
    if not title:
        title = _first_line_title(body)

    budget = _document_budget(feed_url, fetched_at)
    published, date_source, assumed = _entry_date(entry, fetched_at, notes, budget)

    guid = _str(entry.get("id")).strip()
    if guid:
        entry_key = guid
    elif url:
        entry_key = url
    else:
        raw_date = _str(entry.get("published")) or _str(entry.get("updated"))
        entry_key = _sha(f"{title}\n{raw_date}\n{summary[:500]}")[:16]
    article_id = page_id(page) if page else entry_id(feed_url, entry_key)

    authors = _entry_authors(entry) or split_authors(feed_authors)
    language = (
        _entry_language(entry)
        or textmod.normalize_language(feed_language)
        or textmod.detect_language(f"{title}\n{body}")
    )
    tags = _merge_tags(_category_tags(_category_terms(entry)), _hashtag_tags(title, summary, body))
    words, terms, indexed = textmod.analyse(title, body, language)
    article = Article(
        id=article_id,
        entry_key=entry_key,
        url=url,
        title=title,
        summary=summary,
        text=body,
        authors=authors,
        published=published,
        date_source=date_source,
        date_assumed_utc=assumed,
        language=language,
        tags=tags,
        terms=tuple(terms),
        words=indexed,
        word_count=words,
        reading_minutes=textmod.reading_minutes(words),
        comments=_comments(entry, notes),
        content_hash="",
        warnings=tuple(notes),
    )
    return _finish(article)


def apply_page(article: Article, page: PageInfo) -> Article:
    """Enrich ``article`` with what its web page held.

    A page error is recorded in ``fulltext_error`` and nothing else changes. A longer page
    text replaces the text (hashtags, terms, word count, reading time recomputed); page
    categories and hashtags are added to the tags; page authors and date are used only when
    the feed had none (a date the page gave relative to the fetch, "vor 5 Tagen", has
    date_source "page-relative").
    """
    if page.error:
        return _finish(replace(article, fulltext_error=page.error))
    changes: dict[str, Any] = {"fulltext_error": None}
    new_text = page.text.strip()
    page_tags: list[Tag] = list(page.tags)
    if len(new_text) > len(article.text):
        language = article.language or textmod.detect_language(new_text)
        words, terms = textmod.text_stats(article.title, new_text, language)
        changes.update(
            text=new_text,
            language=language,
            word_count=words,
            reading_minutes=textmod.reading_minutes(words),
            terms=tuple(terms),
        )
        page_tags.extend(_hashtag_tags(new_text))
    changes["tags"] = _merge_tags(article.tags, page_tags)
    if not article.authors and page.authors:
        changes["authors"] = split_authors(page.authors)
    if article.date_source == "first-seen" and page.published is not None:
        changes.update(
            published=_as_utc(page.published),
            date_source="page-relative" if page.date_relative else "page",
            date_assumed_utc=page.date_assumed_utc,
        )
    if not article.title and page.title:
        changes["title"] = page.title
    better = replace(article, **changes)
    if "text" in changes or "title" in changes:  # signed and indexed again for the new text
        better = replace(
            better,
            signature=stories.sign(better.title, better.text),
            words=textmod.index_words(better.title, better.text),
        )
    return _finish(better)
