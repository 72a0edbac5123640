"""Synthetic but realistic demo feeds, so a machine without network has something to explore.

`demo_feeds(anchor)` builds eight feed documents (German and English; RSS 2.0, Atom 1.0, RSS 1.0;
one ISO-8859-1 file) covering the 120 days that end at `anchor`: uneven volume per source,
per-source weekday/hour rhythm, story arcs that rise and fall (an election, a trade dispute,
peace talks, a storm, a product launch, a football tournament), hashtags and categories that
follow them, one source that falls silent for the last three weeks, and a few awkward entries
(shared links, utm_* parameters, HTML entities, undated items) to exercise the store.

Everything is deterministic: the same anchor and seed give the same bytes. All URLs are
under invented example domains. Run `python -m monitor.demo` to regenerate `data/demo/`.
The word lists and the sources are data: `topics.json`, `sources.json` and `words.json` here.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor import feedwriter

SHIPPED_ANCHOR = datetime(2026, 11, 20, tzinfo=UTC)
WINDOW_DAYS = 120

# ---------------------------------------------------------------------------------------------
# Vocabulary: per topic and language (in topics.json). Nouns are bare plurals or mass nouns so
# that German templates without articles stay grammatical: "über {N}", and "bei {Nd}" with the
# dative plural.


@dataclass(frozen=True)
class _Vocab:
    titles: tuple[str, ...]
    nouns: tuple[str, ...]
    actors: tuple[str, ...]  # grammatically singular subjects, lower-case where a noun allows
    places: tuple[str, ...]
    sentences: tuple[str, ...]
    hashtags: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True)
class _Topic:
    key: str
    arc: Callable[[float], float]  # day index (0 = window start) -> relative intensity
    de: _Vocab | None
    en: _Vocab | None


def _w(text: str) -> tuple[str, ...]:
    """Split a " | "-separated word list (keeps the vocabulary tables compact)."""
    return tuple(part.strip() for part in text.split("|"))


def _gauss(t: float, centre: float, width: float) -> float:
    return math.exp(-(((t - centre) / width) ** 2) / 2)


def _arc_election(t: float) -> float:
    # Campaign builds up to election day (day 62), then the subject collapses.
    if t <= 62:
        return 0.3 + 2.7 * (t / 62) ** 2
    return 0.15 + 1.2 * math.exp(-(t - 62) / 4)


def _arc_trade(t: float) -> float:
    return 0.15 + 2.8 / (1 + math.exp(-(t - 82) / 7))


def _arc_peace(t: float) -> float:
    return 0.4 + 2.6 * _gauss(t, 92, 14)


def _arc_storm(t: float) -> float:
    if t < 34:
        return 0.03
    return 0.05 + 4.5 * math.exp(-(t - 34) / 6)


def _arc_launch(t: float) -> float:
    return 0.15 + 0.8 * _gauss(t, 74, 6) + 3.2 * _gauss(t, 88, 5)


def _arc_tournament(t: float) -> float:
    if t < 24:
        return 2.4
    return 0.03 + 2.4 * math.exp(-(t - 24) / 4)


def _arc_energy(t: float) -> float:
    return 0.6 + 0.8 * t / WINDOW_DAYS  # heating season approaches


def _arc_flat(t: float) -> float:
    return 1.0


# ---------------------------------------------------------------------------------------------
# Vocabulary and sources live in JSON next to this module (topics.json, sources.json,
# words.json); only the story arcs, which are functions of time, stay here.

_ARCS: dict[str, Callable[[float], float]] = {
    "election": _arc_election,
    "trade": _arc_trade,
    "peace": _arc_peace,
    "storm": _arc_storm,
    "launch": _arc_launch,
    "tournament": _arc_tournament,
    "energy": _arc_energy,
    "flat": _arc_flat,
}


def _load(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


def _load_vocab(data: dict[str, Any] | None, places: dict[str, list[str]]) -> _Vocab | None:
    if data is None:
        return None
    where = data["places"]
    return _Vocab(
        titles=tuple(data["titles"]),
        nouns=tuple(data["nouns"]),
        actors=tuple(data["actors"]),
        # A string names a shared list ("de", "en") instead of repeating it.
        places=tuple(places[where] if isinstance(where, str) else where),
        sentences=tuple(data["sentences"]),
        hashtags=tuple(data["hashtags"]),
        categories=tuple(data["categories"]),
    )


def _load_topics() -> tuple[_Topic, ...]:
    data = _load("topics.json")
    places = data["places"]
    return tuple(
        _Topic(
            topic["key"],
            _ARCS[topic["arc"]],
            _load_vocab(topic["de"], places),
            _load_vocab(topic["en"], places),
        )
        for topic in data["topics"]
    )


_TOPICS = _load_topics()
_TOPIC_BY_KEY = {topic.key: topic for topic in _TOPICS}

_WORDS = _load("words.json")
_DE_WEEKDAYS: tuple[str, ...] = tuple(_WORDS["weekdays"]["de"])
_EN_WEEKDAYS: tuple[str, ...] = tuple(_WORDS["weekdays"]["en"])
# Topic-independent sentences full of ordinary function words (so stopword removal matters).
_GENERIC: dict[str, tuple[str, ...]] = {
    lang: tuple(sentences) for lang, sentences in _WORDS["generic"].items()
}
_KICKERS: dict[str, tuple[str, ...]] = {
    lang: tuple(kickers) for lang, kickers in _WORDS["kickers"].items()
}
_WIX_HASHTAGS: tuple[str, ...] = tuple(_WORDS["wix_hashtags"])

# ---------------------------------------------------------------------------------------------
# Sources


@dataclass(frozen=True)
class _Source:
    filename: str
    feed_url: str
    site: str  # home page, no trailing slash
    title: str
    description: str
    kind: str  # renderer: "wordpress", "wix", "atom", "business", "regional", "magazine", ...
    lang: str  # "de", "en" or "mixed"
    zone: ZoneInfo  # local clock for the publishing rhythm and the feed's dates
    rate: float  # mean posts per day on a weekday with weight 1
    weekdays: tuple[float, ...]  # Monday..Sunday
    hours: tuple[float, ...]  # 24 weights, local time
    topics: dict[str, float]
    authors: tuple[str, ...]  # the first one is the prolific one
    words: tuple[int, int]  # body length range
    coauthor_rate: float = 0.0
    silent_days: int = 0  # no posts in the last N days (an outage)
    flavour: tuple[str, ...] = ()
    own_titles: tuple[str, ...] = ()
    encoding: str = "utf-8"
    extra: dict[str, float] = field(default_factory=dict)


def _load_source(data: dict[str, Any]) -> _Source:
    data = dict(data)
    hours, zone = data.pop("hours"), data.pop("zone")
    fields: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
    }
    return _Source(
        **fields,
        # 24 hourly weights, local time; hours the file does not name get 0.
        hours=tuple(float(hours.get(str(hour), 0.0)) for hour in range(24)),
        zone=ZoneInfo(zone),
    )


_SOURCES: tuple[_Source, ...] = tuple(_load_source(source) for source in _load("sources.json"))

DEMO_FEED_URLS: dict[str, str] = {source.filename: source.feed_url for source in _SOURCES}


def _utc_offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    """UTC offset of `zone` at the UTC instant `moment`."""
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


# ---------------------------------------------------------------------------------------------
# Composition


@dataclass(frozen=True)
class _Item:
    title: str | None
    link: str
    guid: str
    published: datetime | None  # UTC; None for the deliberately undated entries
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    hashtags: tuple[str, ...]
    summary_html: str
    body_html: str
    lang: str
    topic: str
    comments: int | None = None
    image: str | None = None


def _dative_plural(noun: str) -> str:
    # German plurals take -n in the dative unless they already end in -n or -s.
    return noun if noun.endswith(("n", "s")) else noun + "n"


def _choice(rng: random.Random, options: Sequence[str]) -> str:
    # Cheaper than rng.choice in the hot text loop; still fully determined by the seed.
    return options[int(rng.random() * len(options))]


class _Slots(dict[str, str]):
    """Template values drawn on first use, so a sentence only consumes what it needs."""

    def __init__(self, rng: random.Random, vocab: _Vocab, lang: str) -> None:
        super().__init__()
        self._rng = rng
        self._vocab = vocab
        self._german = lang == "de"
        self._weekdays = _DE_WEEKDAYS if self._german else _EN_WEEKDAYS

    def __missing__(self, key: str) -> str:
        rng, vocab = self._rng, self._vocab
        if key == "N":
            value = _choice(rng, vocab.nouns)
        elif key == "N2":
            first = self["N"]
            others = [noun for noun in vocab.nouns if noun != first]
            value = _choice(rng, others)
        elif key == "Nd":
            value = _dative_plural(self["N"]) if self._german else self["N"]
        elif key == "Nc":
            value = self["N"][:1].upper() + self["N"][1:]
        elif key == "A":
            value = _choice(rng, vocab.actors)
        elif key == "Ac":
            actor = self["A"]
            value = actor[:1].upper() + actor[1:]
        elif key == "P":
            value = _choice(rng, vocab.places)
        elif key == "Z":
            value = str(rng.randint(12, 88))
        elif key == "z":
            value = str(rng.randint(2, 9))
        elif key == "W":
            value = _choice(rng, self._weekdays)
        else:
            value = key
        self[key] = value
        return value


def _fill(template: str, rng: random.Random, vocab: _Vocab, lang: str) -> str:
    return template.format_map(_Slots(rng, vocab, lang))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(title: str) -> str:
    text = _NON_SLUG.sub("-", title.translate(_UMLAUTS).lower()).strip("-")
    return text[:70].rstrip("-") or "beitrag"


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def _poisson(rng: random.Random, mean: float) -> int:
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _pick_authors(rng: random.Random, source: _Source) -> tuple[str, ...]:
    if not source.authors:
        return ()
    # Zipf-like skew: the first author writes far more than the rest.
    weights = [1.0 / (rank + 1) ** 1.6 for rank in range(len(source.authors))]
    first = rng.choices(source.authors, weights=weights)[0]
    if rng.random() >= source.coauthor_rate:
        return (first,)
    others = [name for name in source.authors if name != first]
    # "A und B" on the regional paper; "A and B" or "A, B and C" on the magazine.
    count = 1 if source.kind != "magazine" else rng.choice((1, 1, 2))
    return (first, *rng.sample(others, min(count, len(others))))


def _paragraphs(rng: random.Random, sentences: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    index = 0
    while index < len(sentences):
        size = rng.randint(2, 5)
        paragraphs.append(sentences[index : index + size])
        index += size
    return paragraphs


def _compose_text(
    rng: random.Random, source: _Source, vocab: _Vocab, lang: str, target: int
) -> list[str]:
    used: set[str] = set()

    def pick(pool: Sequence[str]) -> str:
        # Prefer templates not yet used in this article; long ones must repeat some.
        template = _choice(rng, pool)
        for _ in range(3):
            if template not in used:
                break
            template = _choice(rng, pool)
        used.add(template)
        return template

    sentences = [_fill(pick(vocab.sentences), rng, vocab, lang)]
    words = sentences[0].count(" ") + 1
    generic = _GENERIC[lang]
    while words < target:
        roll = rng.random()
        if roll < 0.12 and source.flavour and not used.issuperset(source.flavour):
            sentence = pick(source.flavour)
        elif roll < 0.72:
            # Mostly topic sentences (they repeat in long texts, with other names and numbers
            # filled in): the generic ones are shared by every topic, and if they made up
            # most of the text their words would fill every cloud instead of the topics'.
            sentence = _fill(pick(vocab.sentences), rng, vocab, lang)
        else:
            sentence = _fill(pick(generic), rng, vocab, lang)
        if sentence == sentences[-1]:
            continue
        sentences.append(sentence)
        words += sentence.count(" ") + 1
    return sentences


def _html_body(
    rng: random.Random, sentences: list[str], lang: str, related: tuple[str, str] | None
) -> str:
    parts: list[str] = []
    for number, paragraph in enumerate(_paragraphs(rng, sentences)):
        text = " ".join(_escape(sentence) for sentence in paragraph)
        if number == 0 and rng.random() < 0.3:
            first = _escape(paragraph[0])
            text = f"<strong>{first}</strong>" + text[len(first) :]
        parts.append(f"<p>{text}</p>")
    if related is not None:
        href, label = related
        lead = "Lesen Sie auch" if lang == "de" else "Read more"
        parts.insert(
            min(2, len(parts)), f'<p>{lead}: <a href="{_xml(href)}">{_escape(label)}</a></p>'
        )
    return "\n".join(parts)


def _entitise(html_text: str) -> str:
    """Spell quotes and ellipses as HTML entities, as some CMSs do."""
    for plain, entity in (("„", "&quot;"), ("“", "&quot;"), ("”", "&quot;"), ("…", "&#8230;")):
        html_text = html_text.replace(plain, entity)
    return html_text.replace(" und ", " &amp; ", 1).replace(" and ", " &amp; ", 1)


def _excerpt(sentences: list[str], words: int, ellipsis: str) -> str:
    tokens = " ".join(sentences).split()
    if len(tokens) <= words:
        return " ".join(tokens)
    return " ".join(tokens[:words]) + ellipsis


@dataclass(frozen=True)
class _Slot:
    """One publication: when, and which story it tells."""

    when: datetime
    day: float  # days since window start
    topic: str
    lang: str


def _schedule(
    rng: random.Random, source: _Source, start: datetime, anchor: datetime
) -> list[_Slot]:
    slots: list[_Slot] = []
    base = _utc_offset(start, source.zone)
    first_day = (start + base).date() - timedelta(days=1)
    cutoff = anchor - timedelta(days=source.silent_days)
    hours = list(range(24))
    for index in range(WINDOW_DAYS + 3):
        local_day = first_day + timedelta(days=index)
        approx = datetime.combine(local_day, datetime.min.time(), UTC)
        offset = _utc_offset(approx, source.zone)
        day = (approx - start).total_seconds() / 86400
        mean = source.rate * source.weekdays[local_day.weekday()]
        if "election_day_bump" in source.extra:
            mean *= 1 + source.extra["election_day_bump"] * _gauss(day, 62, 1.5)
        for _ in range(_poisson(rng, mean)):
            hour = rng.choices(hours, weights=source.hours)[0]
            local = approx + timedelta(
                hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60)
            )
            when = local - offset
            if not start <= when <= cutoff:
                continue
            t = (when - start).total_seconds() / 86400
            lang = source.lang
            if lang == "mixed":
                lang = "de" if rng.random() < 0.7 else "en"
            weights = {
                key: weight * _TOPIC_BY_KEY[key].arc(t)
                for key, weight in source.topics.items()
                if getattr(_TOPIC_BY_KEY[key], lang) is not None
            }
            slots.append(_Slot(when, t, _weighted(rng, weights), lang))
    slots.sort(key=lambda slot: slot.when, reverse=True)
    return slots


def _vocab(topic: str, lang: str) -> _Vocab:
    vocab = getattr(_TOPIC_BY_KEY[topic], lang)
    assert isinstance(vocab, _Vocab)
    return vocab


def _unique_link(link: str, seen: set[str]) -> str:
    """Make a link unique within its feed the way CMSs do: slug-2, slug-3, ..."""
    candidate, number = link, 1
    while candidate in seen:
        number += 1
        for end in ("/", ".html", ""):
            if link.endswith(end):
                base = link[: len(link) - len(end)] if end else link
                candidate = f"{base}-{number}{end}"
                break
    seen.add(candidate)
    return candidate


def _make_items(rng: random.Random, source: _Source, slots: list[_Slot]) -> list[_Item]:
    items: list[_Item] = []
    previous: tuple[str, str] | None = None
    seen_titles: set[str] = set()
    seen_links: set[str] = set()
    for number, slot in enumerate(slots):
        vocab = _vocab(slot.topic, slot.lang)
        template = rng.choice(vocab.titles)
        if source.own_titles and rng.random() < 0.6:
            template = rng.choice(source.own_titles)
        title = _fill(template, rng, vocab, slot.lang)
        title = title[:1].upper() + title[1:]
        base = title
        for _ in range(len(_KICKERS[slot.lang])):
            if title not in seen_titles:
                break
            # Sites do not run the same headline twice; they add a kicker.
            title = rng.choice(_KICKERS[slot.lang]) + base
        seen_titles.add(title)
        target = rng.randint(*source.words)
        sentences = _compose_text(rng, source, vocab, slot.lang, target)
        link, guid = _link_and_guid(rng, source, slot, title, number)
        unique = _unique_link(link, seen_links)
        link, guid = unique, (unique if guid == link else guid)
        related = previous if previous and rng.random() < 0.12 else None
        body = _html_body(rng, sentences, slot.lang, related)
        if rng.random() < 0.06:
            body = _entitise(body)
        categories = tuple(rng.sample(vocab.categories, rng.randint(1, len(vocab.categories))))
        hashtags = tuple(rng.sample(vocab.hashtags, rng.randint(1, min(3, len(vocab.hashtags)))))
        summary = _escape(_excerpt(sentences, rng.randint(25, 45), " […]"))
        items.append(
            _Item(
                title=title,
                link=link,
                guid=guid,
                published=slot.when,
                authors=_pick_authors(rng, source),
                categories=categories,
                hashtags=hashtags,
                summary_html=summary,
                body_html=body,
                lang=slot.lang,
                topic=slot.topic,
            )
        )
        previous = (link, title)
    return items


def _link_and_guid(
    rng: random.Random, source: _Source, slot: _Slot, title: str, number: int
) -> tuple[str, str]:
    serial = 400000 + int(slot.day * 1000) + number
    stamp = slot.when
    slug = _slug(title)
    if source.kind == "wordpress":
        link = f"{source.site}/politik/{stamp:%Y/%m}/{slug}/"
        return link, f"{source.site}/?p={serial}"
    if source.kind == "wix":
        link = f"{source.site}/post/{slug}"
        return link, f"{rng.getrandbits(96):024x}"
    if source.kind == "atom":
        link = f"{source.site}/{stamp:%Y/%m}/{slug}"
        return link, f"tag:circuitnotes.example.com,{stamp:%Y}:post-{serial}"
    if source.kind == "business":
        link = f"{source.site}/business/{slug}-{serial}"
        return link, link
    if source.kind == "regional":
        link = f"{source.site}/region/{slug}-{serial}.html"
        return link, f"rb-{serial}"
    if source.kind == "magazine":
        link = f"{source.site}/{stamp:%Y/%m/%d}/{slug}/"
        return link, f"{source.site}/?p={serial}"
    if source.kind == "rdf":
        link = f"{source.site}/news/{slug}-{serial}.html"
        return link, link
    link = f"{source.site}/@user{rng.randint(100, 999)}/{113000000000000000 + serial * 7919}"
    return link, link


# Per-source touches that make each feed look like its kind of site.


def _finish_wordpress(rng: random.Random, items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for item in items:
        # Readers argue most about the war and the election.
        mean = 18.0 if item.topic in ("peace", "election") else 6.0
        comments = int(rng.expovariate(1 / mean))
        extra = ("Politik",) if "Politik" not in item.categories else ()
        summary = item.summary_html.replace(" […]", " [&#8230;]")
        out.append(
            replace(
                item, comments=comments, categories=extra + item.categories, summary_html=summary
            )
        )
    return out


def _finish_wix(rng: random.Random, items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for item in items:
        pool = list(dict.fromkeys(_vocab(item.topic, "de").hashtags + _WIX_HASHTAGS))
        tags = tuple(rng.sample(pool, rng.randint(8, min(15, len(pool)))))
        body = item.body_html + "\n<p>" + " ".join(tags) + "</p>"
        image = f"https://static.klartext-blog.example.de/media/{rng.getrandbits(64):016x}~mv2.jpg"
        out.append(replace(item, body_html=body, hashtags=tags, categories=(), image=image))
    return out


def _finish_business(rng: random.Random, items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for item in items:
        link = item.link
        if rng.random() < 0.12:
            link += "?utm_source=rss&utm_medium=feed&utm_campaign=business"
        out.append(replace(item, link=link, categories=item.categories[:1]))
    return out


def _finish_mastodon(rng: random.Random, items: list[_Item], news: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    linkable = [item for item in news if item.published is not None]
    for item in items:
        vocab = _vocab(item.topic, item.lang)
        text = " ".join(
            _fill(rng.choice(vocab.sentences + _GENERIC[item.lang]), rng, vocab, item.lang)
            for _ in range(rng.randint(1, 3))
        )
        tags = ("#Politik",) + tuple(rng.sample(vocab.hashtags, min(3, len(vocab.hashtags))))
        links = " ".join(
            f'<a href="https://social.example.net/tags/{tag[1:]}" class="mention hashtag" '
            f'rel="tag">#<span>{tag[1:]}</span></a>'
            for tag in tags
        )
        html_parts = [f"<p>{_escape(text)}</p>"]
        if item.published is not None and rng.random() < 0.3:
            # Toots often share a news link, with the tracking parameters still on it.
            earlier = [n for n in linkable if n.published and n.published < item.published]
            if earlier:
                shared = earlier[0].link
                target = shared + "?utm_source=mastodon&utm_medium=social"
                shown = shared.removeprefix("https://")[:30] + "…"
                html_parts.append(
                    f'<p><a href="{_xml(target)}" rel="nofollow noopener" target="_blank">'
                    f"{_escape(shown)}</a></p>"
                )
        html_parts.append(f"<p>{links}</p>")
        out.append(
            replace(
                item,
                title=None,
                body_html="".join(html_parts),
                summary_html="",
                hashtags=tags,
                categories=tuple(tag[1:].lower() for tag in tags),
            )
        )
    return out


def _syndicate(rng: random.Random, news: list[_Item], regional: list[_Item]) -> list[_Item]:
    """Copy a few news-site stories into the regional feed under the same link."""
    newest = regional[0].published if regional else None
    candidates = [
        item
        for item in news
        if item.published is not None
        and newest is not None
        and item.published < newest - timedelta(days=3)
        and item.topic in ("election", "storm", "energy")
    ]
    picked = rng.sample(candidates, min(6, len(candidates)))
    copies: list[_Item] = []
    for number, item in enumerate(picked):
        assert item.published is not None
        link = item.link
        if number == 0:
            link += "?utm_source=rheinland-bote&utm_medium=rss&utm_campaign=syndication"
        copies.append(
            replace(
                item,
                link=link,
                guid=f"rb-syn-{number + 1:03d}",
                published=item.published + timedelta(minutes=rng.randint(20, 90)),
                categories=("Region", *item.categories[:1]),
                comments=None,
            )
        )
    merged = regional + copies
    merged.sort(key=lambda item: item.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    return merged


def _undate(items: list[_Item], index: int) -> list[_Item]:
    if not items:
        return items
    index = min(index, len(items) - 1)
    return [replace(item, published=None) if n == index else item for n, item in enumerate(items)]


# ---------------------------------------------------------------------------------------------
# Rendering: each kind of site writes its feed its own way (what goes in CDATA, which clock,
# one line or many); monitor.feedwriter writes the documents.

_LANGUAGES = {"wordpress": "de-DE", "regional": "de", "business": "en-gb", "magazine": "en-US"}
_GENERATORS = {
    "wix": "RSS for Node",
    "wordpress": "https://wordpress.org/?v=6.6.2",
    "mastodon": "Mastodon v4.3.1",
}
_STYLES = {
    "wordpress": feedwriter.Style(
        encoding="UTF-8", cdata=frozenset({"title", "category", "creator", "summary", "content"})
    ),
    # Wix writes everything on one line, in UTC spelled GMT.
    "wix": feedwriter.Style(
        encoding="UTF-8",
        newline="",
        gmt=True,
        cdata=frozenset({"title", "creator", "summary", "content"}),
    ),
}
_RSS_STYLE = feedwriter.Style(encoding="UTF-8", cdata=frozenset({"creator", "content"}))


def _newest(items: list[_Item], anchor: datetime) -> datetime:
    dated = [item.published for item in items if item.published is not None]
    return max(dated) if dated else anchor


def _byline(authors: tuple[str, ...], lang: str) -> str:
    if len(authors) < 2:
        return authors[0] if authors else ""
    joiner = " und " if lang == "de" else " and "
    return ", ".join(authors[:-1]) + joiner + authors[-1]


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


def _rss_entry(item: _Item, kind: str, zone: tzinfo) -> feedwriter.Entry:
    authors, email = item.authors, None
    if kind == "business" and authors:
        # The Ledger writes RSS 2.0's own <author>: the first author's address and name.
        authors = authors[:1]
        email = authors[0].lower().replace(" ", ".") + "@theledger.example.com"
    if kind == "mastodon":
        summary, content = item.body_html, None
    else:
        summary, content = item.summary_html, item.body_html
    return feedwriter.Entry(
        title=item.title,
        link=item.link,
        guid=item.guid,
        permalink=item.guid == item.link,
        published=_local(item.published, zone),
        authors=authors,
        byline=_byline(authors, item.lang) if authors else None,
        email=email,
        categories=item.categories,
        summary=summary,
        content=content,
        comments=item.comments,
        enclosure=feedwriter.Enclosure(item.image, "image/jpeg") if item.image else None,
    )


def _render_rss(source: _Source, items: list[_Item], anchor: datetime) -> bytes:
    # Mastodon and Wix write UTC; the others their local clock.
    zone: tzinfo = UTC if source.kind in ("wix", "mastodon") else source.zone
    channel = feedwriter.Channel(
        title=source.title,
        link=source.site + "/",
        description=source.description,
        language=_LANGUAGES.get(source.kind),
        self_url=source.feed_url,
        updated=_newest(items, anchor).astimezone(zone),
        generator=_GENERATORS.get(source.kind),
    )
    entries = [_rss_entry(item, source.kind, zone) for item in items]
    return feedwriter.rss(channel, entries, _STYLES.get(source.kind, _RSS_STYLE))


def _render_atom(source: _Source, items: list[_Item], anchor: datetime) -> bytes:
    channel = feedwriter.Channel(
        title=source.title,
        link=source.site + "/",
        description=source.description,
        language="en",
        self_url=source.feed_url,
        updated=_newest(items, anchor).astimezone(UTC),
        generator="Hugo",
        generator_uri="https://gohugo.io/",
    )
    entries = []
    for item in items:
        assert item.published is not None and item.title is not None
        entries.append(
            feedwriter.Entry(
                title=item.title,
                link=item.link,
                guid=item.guid,
                published=item.published.astimezone(source.zone),
                authors=item.authors,
                categories=item.categories,
                summary=item.summary_html,
                content=item.body_html,
            )
        )
    # Hugo's template declares titles as HTML.
    return feedwriter.atom(channel, entries, feedwriter.Style(atom_title="html"))


def _render_rdf(source: _Source, items: list[_Item], anchor: datetime) -> bytes:
    channel = feedwriter.Channel(
        title=source.title,
        link=source.site + "/",
        description=source.description,
        language="de",
        self_url=source.feed_url,
        updated=_newest(items, anchor).astimezone(source.zone),
    )
    entries = []
    for item in items:
        assert item.published is not None and item.title is not None
        entries.append(
            feedwriter.Entry(
                title=item.title,
                link=item.link,
                published=item.published.astimezone(source.zone),
                authors=item.authors,
                byline=_byline(item.authors, "de"),
                categories=item.categories[:1],
                summary=item.body_html,
            )
        )
    # The declared encoding lacks some characters: they become character references.
    style = feedwriter.Style(encoding=source.encoding.upper(), cdata=frozenset())
    return feedwriter.rdf(channel, entries, style)


def _render(source: _Source, items: list[_Item], anchor: datetime) -> bytes:
    if source.kind == "atom":
        return _render_atom(source, items, anchor)
    if source.kind == "rdf":
        return _render_rdf(source, items, anchor)
    return _render_rss(source, items, anchor)


# Public API


def _as_utc(anchor: datetime) -> datetime:
    if anchor.tzinfo is None:
        return anchor.replace(tzinfo=UTC)
    return anchor.astimezone(UTC)


def demo_feeds(anchor: datetime, seed: int = 7) -> dict[str, bytes]:
    """Build the demo feed documents: filename -> feed bytes, newest entries first.

    Articles cover the `WINDOW_DAYS` (120) days ending at `anchor` (a naive anchor is taken as
    UTC); none is dated after it. The same anchor and seed always give the same bytes.
    """
    anchor = _as_utc(anchor).replace(microsecond=0)
    start = anchor - timedelta(days=WINDOW_DAYS)
    generated: dict[str, list[_Item]] = {}
    for source in _SOURCES:
        # A string seed is hashed with SHA-512 by `random`, so it is stable across runs.
        rng = random.Random(f"{seed}:{source.filename}")
        slots = _schedule(rng, source, start, anchor)
        generated[source.filename] = _make_items(rng, source, slots)

    rng = random.Random(f"{seed}:finish")
    by_kind = {source.kind: source.filename for source in _SOURCES}
    news = _finish_wordpress(rng, generated[by_kind["wordpress"]])
    generated[by_kind["wordpress"]] = news
    generated[by_kind["wix"]] = _finish_wix(rng, generated[by_kind["wix"]])
    generated[by_kind["business"]] = _finish_business(rng, generated[by_kind["business"]])
    generated[by_kind["mastodon"]] = _finish_mastodon(rng, generated[by_kind["mastodon"]], news)
    regional = _syndicate(rng, news, generated[by_kind["regional"]])
    generated[by_kind["regional"]] = _undate(regional, 17)
    generated[by_kind["magazine"]] = _undate(generated[by_kind["magazine"]], 5)

    return {
        source.filename: _render(source, generated[source.filename], anchor) for source in _SOURCES
    }


def write_demo_feeds(directory: Path, anchor: datetime, seed: int = 7) -> list[Path]:
    """Write `demo_feeds(anchor, seed)` into `directory` (created if needed); return the paths.

    Raises OSError when the directory cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for filename, content in sorted(demo_feeds(anchor, seed).items()):
        path = directory / filename
        path.write_bytes(content)
        paths.append(path)
    return paths


def _main() -> int:
    target = Path(__file__).resolve().parents[3] / "data" / "demo"
    for path in write_demo_feeds(target, SHIPPED_ANCHOR):
        print(f"{path.stat().st_size:>9,} bytes  {path}")
    return 0
