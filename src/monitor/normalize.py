"""Turn feedparser entries into `Article` records: URLs, authors, dates, tags, hashes.

Decisions (documented here because callers and the dashboard depend on them):

- ``canonical_url`` keeps only http(s). A scheme-less link that starts with ``www.`` or
  ``//`` is taken as https (``//`` as the base's scheme when a base is given); other relative
  links need a base. Tracking parameters removed: every ``utm_*``, plus ``TRACKING_PARAMS``
  (click ids, mail-campaign ids, heise ``wt_mc``, ...), plus ``source=rss...`` (Medium). Other
  parameters keep their order and spelling. An empty path becomes ``/``.
- ``split_authors``: a bare e-mail address with no display name is kept whole
  (``webmaster@fcutrecht.net`` says more than ``webmaster``); ``mail@host (Name)`` and
  ``Name <mail@host>`` give ``Name``.
- Dates are parsed from the raw string (RFC 822 with English or German month names, or ISO
  8601); feedparser's parsed struct is only a fallback (it silently assumes UTC). A raw string
  without a zone, or with a zone name we do not know, sets ``date_assumed_utc``.
- Categories holding a comma-separated list of short phrases are split
  (``"Politik, Wirtschaft"``); a tag's display form is trimmed of surrounding punctuation.
- An entry without a title gets the first line of its text, cut to 90 characters, so lists and
  charts have something to show (Mastodon posts have no titles).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from monitor import text as textmod
from monitor.models import Article, Tag

if TYPE_CHECKING:
    from monitor.parse import PageInfo

__all__ = [
    "TRACKING_PARAMS",
    "apply_page",
    "canonical_url",
    "content_hash",
    "parse_date",
    "split_authors",
    "normalize_entry",
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


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Canonical http(s) form of ``url`` (resolved against ``base``), or None.

    Lower-cases scheme and host, drops default ports, the fragment and tracking parameters,
    percent-encodes spaces. None for other schemes, junk, or a relative link without base.
    """
    if not url:
        return None
    raw = url.strip().replace("\r", "").replace("\n", "").replace("\t", "")
    if not raw:
        return None
    try:
        lower = raw.lower()
        if lower.startswith("www."):
            raw = "https://" + raw
        elif raw.startswith("//") and not base:
            raw = "https:" + raw
        elif not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", raw):
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
    except ValueError:
        return None
    return urlunsplit((scheme, netloc, path, query, ""))


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
_MAIL_PAREN = re.compile(r"^\s*([\w.+-]+@[\w.-]+)\s*\((.*)\)\s*$")
_NAME_ANGLE = re.compile(r"^\s*(.*?)\s*<\s*([\w.+-]+@[\w.-]+)\s*>\s*$")
_BYLINE = re.compile(r"^\s*(?:von|by|autor(?:in)?:|author:|text:)\s+", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:[,;|]|\s&\s|&amp;|\s(?:and|und|et|y|e|en)\s)\s*", re.I)


def _one_author(value: str) -> str:
    match = _MAIL_PAREN.match(value)
    if match:
        return match.group(2).strip() or match.group(1)
    match = _NAME_ANGLE.match(value)
    if match:
        return match.group(1).strip().strip("\"'") or match.group(2)
    return value.strip().strip("\"'")


def split_authors(values: Iterable[str]) -> tuple[str, ...]:
    """Split author strings into single names, in order, without duplicates.

    Splits on commas, semicolons, "&", "and", "und"; ``mail@host (Name)`` -> ``Name``;
    ``Name <mail@host>`` -> ``Name``; a bare address stays as it is; strips "Von"/"By".
    """
    names: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not value or not isinstance(value, str):
            continue
        cleaned = textmod.html_to_text(value).replace("\n", ", ")
        whole = _one_author(cleaned)
        if whole != cleaned.strip().strip("\"'"):
            pieces = [whole]  # the "mail (Name)" form: do not split the name part
        else:
            cleaned = _BYLINE.sub("", cleaned)
            pieces = [_one_author(p) for p in _SEPARATORS.split(cleaned)]
        for piece in pieces:
            name = _BYLINE.sub("", piece).strip(" \t.,;:-–—\"'")
            if not name or len(name) > 200:
                continue
            key = name.casefold()
            if key not in seen:
                seen.add(key)
                names.append(name)
    return tuple(names)


# --- dates ------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "mär": 3, "mrz": 3, "mae": 3, "apr": 4, "may": 5,
    "mai": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11,
    "dec": 12, "dez": 12,
}  # fmt: skip
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "bst": 60, "cet": 60, "met": 60, "mez": 60,
    "west": 60, "cest": 120, "mest": 120, "mesz": 120, "eet": 120, "eest": 180, "msk": 180,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420, "jst": 540,
}  # fmt: skip
_RFC822 = re.compile(
    r"^\s*(?:[^\W\d]+\.?,?\s+)?(\d{1,2})\.?[\s-]+([^\W\d]+)\.?[\s-]+(\d{2,4})"
    r"(?:[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?"
    r"\s*(?:([+-]\d{2}:?\d{2})|\(?([A-Za-z]{1,5})\)?)?\s*$"
)


def _parse_rfc822(raw: str) -> tuple[datetime, bool] | None:
    match = _RFC822.match(raw)
    if not match:
        return None
    day, mon, year, hour, minute, sec, offset, zone = match.groups()
    month = _MONTHS.get(mon.lower()[:3])
    if month is None:
        return None
    y = int(year)
    if len(year) == 2:
        y += 2000 if y < 50 else 1900
    assumed = False
    if offset:
        digits = offset.replace(":", "")
        minutes = int(digits[1:3]) * 60 + int(digits[3:5])
        tz = timezone(timedelta(minutes=-minutes if digits[0] == "-" else minutes))
    elif zone and zone.lower() in _ZONES:
        tz = timezone(timedelta(minutes=_ZONES[zone.lower()]))
    else:
        tz, assumed = UTC, True
    try:
        value = datetime(y, month, int(day), int(hour or 0), int(minute or 0), int(sec or 0))
    except ValueError:
        return None
    return value.replace(tzinfo=tz).astimezone(UTC), assumed


def _parse_iso(raw: str) -> tuple[datetime, bool] | None:
    value = raw.strip()
    if not re.match(r"\d{4}-?\d{2}-?\d{2}", value):
        return None
    value = re.sub(r"(?i)\s*(?:UTC|GMT)$", "Z", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), True
    return parsed.astimezone(UTC), False


def parse_date(raw: str | None) -> tuple[datetime, bool] | None:
    """Parse an RFC 822 or ISO 8601 date string to (UTC datetime, zone-was-assumed).

    German month names ("Mär", "Okt", "Dez") are understood. None when unparseable.
    """
    if not raw or not isinstance(raw, str) or len(raw) > 100:
        return None
    return _parse_iso(raw) or _parse_rfc822(raw)


def _has_zone(raw: str) -> bool:
    """Whether a date string we could not parse ends in a zone offset or a known zone name."""
    if re.search(r"(?:[+-]\d{2}:?\d{2}|\dZ)\s*$", raw):
        return True
    words = raw.split()
    return bool(words) and words[-1].strip("()").lower() in _ZONES


def _sane(value: datetime, fetched_at: datetime) -> bool:
    return _ABSURD_PAST <= value <= _as_utc(fetched_at) + _FUTURE_SLACK


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _entry_date(entry: Mapping[str, Any], fetched_at: datetime) -> tuple[datetime, str, bool]:
    for key, source in (("published", "feed"), ("updated", "feed-updated")):
        raw = entry.get(key)
        if not raw:
            continue
        parsed = parse_date(str(raw))
        if parsed is None:
            struct = entry.get(f"{key}_parsed")
            if isinstance(struct, time.struct_time):
                try:
                    value = datetime(*struct[:6], tzinfo=UTC)
                except ValueError:
                    value = None
                if value is not None:
                    parsed = (value, not _has_zone(str(raw)))
        if parsed is not None and _sane(parsed[0], fetched_at):
            return parsed[0], source, parsed[1]
    return _as_utc(fetched_at), "first-seen", False


# --- tags -------------------------------------------------------------------------------


def _clean_display(value: str) -> str:
    value = textmod.html_to_text(value).replace("\n", " ")
    value = re.sub(r"\s+", " ", value)
    return value.strip(" \t/\\|,;:.-–—\"'#»«„“”")


def _category_terms(entry: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for item in entry.get("tags") or ():
        if not isinstance(item, Mapping):
            continue
        term = item.get("term") or item.get("label") or ""
        if not isinstance(term, str):
            continue
        parts = [p for p in (x.strip() for x in term.split(",")) if p]
        # Split "Politik, Wirtschaft" but not "Berlin, Germany: A long headline-like thing".
        if len(parts) > 1 and all(len(p.split()) <= 4 for p in parts):
            out.extend(parts)
        else:
            out.append(term)
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


def _category_tags(terms: Iterable[str]) -> list[Tag]:
    tags: list[Tag] = []
    for term in terms:
        display = _clean_display(term)
        key = textmod.tag_key(display)
        if key and len(display) <= 100:
            tags.append(Tag(key=key, display=display, source="category"))
    return tags


# --- hashing ----------------------------------------------------------------------------


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


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


def _comments(entry: Mapping[str, Any]) -> int | None:
    for key in ("slash_comments", "thr_total"):
        value = entry.get(key)
        if isinstance(value, int):
            return value if value >= 0 else None
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
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


def normalize_entry(
    entry: Mapping[str, Any],
    *,
    feed_url: str,
    feed_language: str | None,
    feed_authors: Sequence[str],
    fetched_at: datetime,
) -> Article:
    """Build an `Article` from one feedparser entry (see the module docstring for rules)."""
    link = _str(entry.get("link"))
    if not link:
        for item in entry.get("links") or ():
            if isinstance(item, Mapping) and item.get("rel", "alternate") == "alternate":
                link = _str(item.get("href"))
                break
    url = canonical_url(link, base=feed_url)

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

    published, date_source, assumed = _entry_date(entry, fetched_at)

    guid = _str(entry.get("id")).strip()
    if guid:
        entry_key = guid
    elif url:
        entry_key = url
    else:
        raw_date = _str(entry.get("published")) or _str(entry.get("updated"))
        entry_key = _sha(f"{title}\n{raw_date}\n{summary[:500]}")[:16]
    article_id = _sha(url)[:16] if url else _sha(f"{feed_url}\n{entry_key}")[:16]

    authors = _entry_authors(entry) or split_authors(feed_authors)
    language = (
        _entry_language(entry)
        or textmod.normalize_language(feed_language)
        or textmod.detect_language(f"{title}\n{body}")
    )
    tags = _merge_tags(_category_tags(_category_terms(entry)), _hashtag_tags(title, summary, body))
    words, terms = textmod.text_stats(title, body, language)
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
        word_count=words,
        reading_minutes=textmod.reading_minutes(words),
        comments=_comments(entry),
        content_hash="",
    )
    return _finish(article)


def apply_page(article: Article, page: PageInfo) -> Article:
    """Enrich ``article`` with what its web page held.

    A page error is recorded in ``fulltext_error`` and nothing else changes. A longer page
    text replaces the text (hashtags, terms, word count, reading time recomputed); page
    categories and hashtags are added to the tags; page authors and date are used only when
    the feed had none.
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
            date_source="page",
            date_assumed_utc=page.date_assumed_utc,
        )
    if not article.title and page.title:
        changes["title"] = page.title
    return _finish(replace(article, **changes))
