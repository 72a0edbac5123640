"""A seeded, reproducible store of N articles for the scale benchmark (issue 4).

Default: 1,000,000 articles over 2 years from 2,000 feeds of very uneven volume (Zipf: a few
very busy, many quiet), 20,000 authors (each writing mostly for one feed), 5,000 tags with
Zipf popularity, German and English text of 150 to 1,500 words, about 3 % of the articles
carried by two feeds.

Two modes write the same rows:

- `bulk` (the default) computes in numpy exactly what the real pipeline would store (the same
  ids, texts, terms, tags, authors, content hashes) and appends it with DuckDB from Arrow
  tables, block by block;
- `ingest` renders the articles as RSS 2.0 documents (one per feed and block) and pushes them
  through `monitor.ingest.ingest_documents`, the real parse-normalise-store pipeline.

Articles are made in blocks of `BLOCK` with a generator seeded by (seed, block number), so any
slice can be made again on its own: `documents(corpus, start, count)` gives the RSS of exactly
the articles the bulk mode wrote for those indexes (tests compare the two).

Usage:
    .venv/bin/python bench/generate.py --out /tmp/monitor-bench/1m.duckdb
    .venv/bin/python bench/generate.py --out /tmp/monitor-bench/20k.duckdb --articles 20000
    .venv/bin/python bench/generate.py --out /tmp/x.duckdb --articles 2000 --mode ingest
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa

from monitor import feedwriter, ingest, text
from monitor.models import Table
from monitor.normalize import hash_fields, split_authors
from monitor.store import DuckDBStore, open_store
from monitor.store.base import TABLES, Storage
from monitor.store.duckdb import write
from monitor.store.entries import COPY_COLUMNS

BLOCK = 10_000
CONTENT_SHARE = 0.45  # the rest of a text is function words (stopwords)
SENTENCE_END = 1 / 13  # chance a word ends a sentence
PARAGRAPH_END = 1 / 5  # chance a sentence end also ends a paragraph
TWO_FEEDS = 0.03
FAILING_FEEDS = 0.01

# -- vocabulary --------------------------------------------------------------------------------
# Real German and English content words; German compounds and English plurals and hyphenated
# pairs grow them to a few thousand each. Every word is checked against the real tokenizer.

DE_NOUNS = """
Regierung Bundestag Koalition Haushalt Energie Wirtschaft Verhandlung Sicherheit Kommission
Gemeinde Bürger Schule Verkehr Klima Strom Preis Politik Grenze Gipfel Frieden Sanktion
Wahlkampf Umfrage Abstimmung Industrie Export Inflation Markt Bank Zins Steuer Rente Arbeit
Gesundheit Klinik Pflege Polizei Gericht Urteil Gesetz Reform Minister Kanzler Partei Fraktion
Opposition Land Stadt Kreis Bezirk Region Hafen Bahn Flughafen Straße Brücke Wohnung Miete
Bau Forschung Universität Studie Daten Netz Digital Technik Software Plattform Unternehmen
Konzern Handel Zoll Lieferkette Krieg Armee Waffe Hilfe Flucht Migration Asyl Integration
Kultur Theater Museum Musik Film Buch Kunst Sport Verein Stadion Turnier Meister Trainer
Wetter Sturm Hitze Dürre Wasser Wald Landwirtschaft Ernte Tier Umwelt Verbraucher Kosten
Gas Öl Kohle Wind Solar Batterie Auto Motor Fahrrad Zukunft Geschichte Erinnerung Familie
Kinder Jugend Bildung Lehrer Prüfung Gewerkschaft Streik Lohn Tarif Versicherung Schulden
Kredit Anleger Börse Aktie Gewinn Verlust Umsatz Quartal Bilanz Vorstand Aufsicht Skandal
Ermittlung Anklage Prozess Zeuge Opfer Täter Unfall Feuer Rettung Einsatz Bürgermeister
Landrat Verwaltung Behörde Amt Antrag Förderung Programm Projekt Strategie Konferenz Debatte
"""
DE_OTHER = """
fordert kritisiert warnt plant beschließt verhandelt erklärt berichtet bestätigt lehnt
steigt sinkt wächst bleibt zeigt bringt öffentlich politisch wirtschaftlich deutlich
schnell langsam neue hohe niedrige wichtige europäische deutsche regionale umstritten
offenbar erstmals bisher weiterhin zunächst gestern heute morgen
"""
EN_WORDS = """
government parliament coalition budget energy economy negotiation security commission council
citizen school traffic climate price policy border summit peace sanction campaign poll vote
industry export inflation market bank interest tax pension labour health hospital care police
court ruling law reform minister chancellor party opposition country city county district
region harbour railway airport road bridge housing rent construction research university study
data network digital technology software platform company corporation trade tariff supply
chain war army weapon aid refugee migration asylum integration culture theatre museum music
film book art sport club stadium tournament champion coach weather storm heat drought water
forest farming harvest animal environment consumer cost gas oil coal wind solar battery car
engine bicycle future history memory family children youth education teacher exam union
strike wage contract insurance debt credit investor stock share profit loss revenue quarter
balance board oversight scandal investigation charge trial witness victim suspect accident
fire rescue mayor administration authority office application funding programme project
strategy conference debate demands criticises warns plans decides negotiates explains reports
confirms rejects rises falls grows remains shows brings public political economic clearly
quickly slowly new high low important european british regional controversial apparently
yesterday today tomorrow
"""
# Function words: every one is a stopword for de and en alike (checked below).
DE_FUNCTION = """
der die das und nicht mit für auf dem den ein eine ist sind wird hat von zu im in des sich
auch es an werden aus er sie wie bei nach noch oder nur vor zum zur über dass aber als so
wenn schon seit sei habe kann muss soll
""".split()
EN_FUNCTION = """
the and not with for on a an is are will has of to in that it by from at as this be was were
have had but or its their they he she which who would could should been more than also about
after into over
""".split()

DE_FIRST = """Anna Jonas Lea Lukas Mia Felix Hannah Paul Sophie Leon Marie Elias Emma Noah Lena
Ben Clara Finn Laura Max Julia Tim Sarah Jan Katrin Stefan Sabine Thomas Petra Andreas""".split()
DE_LAST = """Berg Weber Vogt Müller Schmidt Schneider Fischer Wagner Becker Hoffmann Schäfer Koch
Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann
Lange Schmitt Werner Krause Meier Lehmann Köhler Herrmann König Walter Mayer Huber Kaiser
Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther""".split()
EN_FIRST = """Mark Claire Sam Emily James Olivia Jack Grace Harry Chloe Oliver Lucy George Ella
Henry Amelia Daniel Sophia Thomas Isla Ryan Zoe Adam Megan Liam Ruth Owen Alice Ethan
Jane""".split()
EN_LAST = """Ellis Price Smith Jones Taylor Brown Wilson Evans Thomas Johnson Roberts Walker
Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke
Clark Turner Hill Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young
Allen Mitchell Bell Carter Parker Collins Bennett Cook Shaw""".split()
INITIALS = "ABCDFGHJKLMNPRSTW"


def _content_word_ok(word: str, seen: set[str]) -> bool:
    token = word.lower()
    return token not in seen and text.terms(word, "de") == [(token, 1)]


def _vocabulary(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """German and English content words (each one term of its own lower-cased form)."""
    de_base = DE_NOUNS.split()
    de: list[str] = []
    seen: set[str] = set()
    for word in [*de_base, *DE_OTHER.split()]:
        if _content_word_ok(word, seen):
            de.append(word)
            seen.add(word.lower())
    pairs = [(a, b) for a in de_base for b in de_base if a != b]
    for i in rng.permutation(len(pairs))[:3500]:
        a, b = pairs[int(i)]
        word = a + b.lower()
        if _content_word_ok(word, seen):
            de.append(word)
            seen.add(word.lower())
    en_base = EN_WORDS.split()
    en: list[str] = []
    for word in en_base:
        if _content_word_ok(word, seen):
            en.append(word)
            seen.add(word)
    for word in en_base:
        plural = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
        if _content_word_ok(plural, seen):
            en.append(plural)
            seen.add(plural)
    pairs = [(a, b) for a in en_base for b in en_base if a != b]
    for i in rng.permutation(len(pairs))[:3000]:
        a, b = pairs[int(i)]
        word = f"{a}-{b}"
        if _content_word_ok(word, seen):
            en.append(word)
            seen.add(word)
    return de, en


def _zipf_cdf(n: int, exponent: float, offset: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.power(np.arange(n) + offset, exponent)
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int | tuple[int, ...]) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size)), len(cdf) - 1)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# -- the corpus: everything fixed before the first article ------------------------------------


@dataclass
class Corpus:
    """The fixed parts (vocabulary, feeds, authors, tags) and the article generator."""

    articles: int = 1_000_000
    feeds: int = 2_000
    authors: int = 20_000
    tags: int = 5_000
    days: int = 730
    seed: int = 7
    end: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    )

    def __post_init__(self) -> None:
        if self.end.tzinfo is None:
            self.end = self.end.replace(tzinfo=UTC)
        rng = np.random.default_rng([self.seed, 0xC0FFEE])
        de, en = _vocabulary(rng)
        # One word table for everything a text is made of: content words, function words, each
        # also with a full stop and with a full stop plus paragraph break; tokens index into it.
        base = [*de, *en, *DE_FUNCTION, *EN_FUNCTION]
        self.words = np.array(
            [*base, *(w + "." for w in base), *(w + ".\n" for w in base)], dtype=object
        )
        self.n_base = len(base)
        self.content = (np.arange(len(de)), np.arange(len(de), len(de) + len(en)))
        start = len(de) + len(en)
        self.function = (
            np.arange(start, start + len(DE_FUNCTION)),
            np.arange(start + len(DE_FUNCTION), self.n_base),
        )
        for words in (DE_FUNCTION, EN_FUNCTION):
            leaks = [w for w in words if text.terms(w, "de")]
            assert not leaks, f"function words that are terms: {leaks}"
        # Terms: content word -> term id; function words -> -1.
        self.term_names: list[str] = [w.lower() for w in [*de, *en]]
        term_of = np.full(self.n_base, -1, dtype=np.int64)
        term_of[: len(de) + len(en)] = np.arange(len(de) + len(en))
        self.term_of = np.concatenate([term_of, term_of, term_of])
        # Content words drawn by Zipf rank, in a shuffled order per language.
        self.content_order = [rng.permutation(c) for c in self.content]
        self.content_cdf = [_zipf_cdf(len(c), 1.05, 2.7) for c in self.content]
        self.function_cdf = [_zipf_cdf(len(f), 0.8) for f in self.function]

        # Feeds: Zipf volume; 60 % German; 30 % close their posts with a line of hashtags
        # (the rest tag by <category>).
        f = self.feeds
        self.feed_weight = 1.0 / np.power(np.arange(f) + 1.0, 1.0)
        rng.shuffle(self.feed_weight)
        self.feed_cdf = np.cumsum(self.feed_weight) / self.feed_weight.sum()
        self.feed_lang = (rng.random(f) < 0.4).astype(np.int8)  # 0 de, 1 en
        self.feed_hashtags = rng.random(f) < 0.3
        self.feed_failing = rng.random(f) < FAILING_FEEDS

        # Authors: each belongs to one feed; busier feeds have more of them (at least one).
        share = np.sqrt(self.feed_weight)
        count = np.maximum(1, np.floor(share / share.sum() * (self.authors - f)).astype(int) + 1)
        count[np.argmax(count)] += self.authors - int(count.sum())
        self.author_count = count
        self.author_start = np.concatenate([[0], np.cumsum(count)[:-1]])
        self.author_names = self._author_names(rng)

        # Tags: CamelCase pairs of content words, Zipf popularity, one display form per key.
        self.tag_display, self.tag_key, self.tag_term = self._tags(rng, de, en)
        self.tag_cdf = _zipf_cdf(self.tags, 1.0, 1.5)

        # Days back from `end`, weekdays busier than weekends; hours follow a newsroom's day.
        day = np.arange(self.days)
        weekday = (self.end.date().weekday() - day) % 7
        day_weight = np.where(weekday >= 5, 0.55, 1.0) * (1.0 - 0.3 * day / self.days)
        self.chrono_cdf = np.cumsum(day_weight[::-1]) / day_weight.sum()
        hours = np.array(
            [1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 9, 9, 9, 9, 8, 8, 8, 7, 6, 5, 4, 3, 2], float
        )
        self.hour_cdf = np.cumsum(hours) / hours.sum()
        self.end_day = int(self.end.replace(hour=0).timestamp())
        self.end_ts = int(self.end.timestamp())
        self.feed_groups: dict[tuple[int, bool], np.ndarray] = {}
        for lang in (0, 1):
            for style in (False, True):
                mask = (self.feed_lang == lang) & (self.feed_hashtags == style)
                self.feed_groups[(lang, style)] = np.flatnonzero(mask)

    def _author_names(self, rng: np.random.Generator) -> list[str]:
        names: list[str] = []
        seen: set[str] = set()
        for feed in range(self.feeds):
            first, last = (DE_FIRST, DE_LAST) if self.feed_lang[feed] == 0 else (EN_FIRST, EN_LAST)
            for _ in range(int(self.author_count[feed])):
                while True:
                    name = f"{first[rng.integers(len(first))]} {last[rng.integers(len(last))]}"
                    if name in seen:
                        initial = INITIALS[rng.integers(len(INITIALS))]
                        name = name.replace(" ", f" {initial}. ", 1)
                    if name not in seen and split_authors([name]) == (name,):
                        break
                seen.add(name)
                names.append(name)
        return names

    def _tags(
        self, rng: np.random.Generator, de: list[str], en: list[str]
    ) -> tuple[list[str], list[str], np.ndarray]:
        displays: list[str] = []
        keys: list[str] = []
        term_ids: list[int] = []
        seen: set[str] = set()
        index = {name: i for i, name in enumerate(self.term_names)}
        simple = [w for w in [*de[:400], *en[:400]] if w.isalpha()]
        while len(displays) < self.tags:
            a = simple[rng.integers(len(simple))]
            b = simple[rng.integers(len(simple))]
            display = a[0].upper() + a[1:] + (b[0].upper() + b[1:] if rng.random() < 0.8 else "")
            key = text.tag_key(display)
            if key in seen or text.find_hashtags("#" + display) != [display]:
                continue
            found = text.terms("#" + display, "de")
            if [t for t, _ in found] != [display.lower()]:
                continue
            seen.add(key)
            displays.append(display)
            keys.append(key)
            term = display.lower()
            if term not in index:
                index[term] = len(self.term_names)
                self.term_names.append(term)
            term_ids.append(index[term])
        return displays, keys, np.array(term_ids, dtype=np.int64)

    @cached_property
    def term_array(self) -> pa.Array:
        return pa.array(self.term_names, pa.string())

    # -- articles ----------------------------------------------------------------------------

    def block(self, number: int) -> dict[str, Any]:
        """Articles number*BLOCK ... (number+1)*BLOCK - 1 as columns (see `rows`)."""
        rng = np.random.default_rng([self.seed, number])
        n = BLOCK
        first = number * BLOCK
        feed = np.searchsorted(self.feed_cdf, rng.random(n)).clip(0, self.feeds - 1)
        lang = self.feed_lang[feed]
        # Time follows the index (with a block of jitter either way): the store fills in about
        # the order a fetch over two years would have filled it, oldest first.
        position = (np.arange(first, first + n) + (rng.random(n) * 2 - 1) * BLOCK) / self.articles
        order = np.searchsorted(self.chrono_cdf, position.clip(0, 1))
        day = self.days - 1 - np.minimum(order, self.days - 1)
        hour = _draw(rng, self.hour_cdf, n)
        ts = self.end_day - day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
        ts = np.where(ts >= self.end_ts, ts - 86400, ts)
        seen_after = rng.integers(60, 1800, n)

        # Authors: 3 % none, 10 % two (both of the feed), favouring a feed's first authors.
        how_many = np.searchsorted([0.03, 0.90], rng.random(n), side="right")
        count = self.author_count[feed]
        a1 = self.author_start[feed] + np.floor(rng.random(n) ** 2 * count).astype(np.int64)
        a2 = self.author_start[feed] + (a1 - self.author_start[feed] + 1) % count
        how_many = np.where((how_many == 2) & (count < 2), 1, how_many)

        # Tags: Poisson(2.2) of them, capped at 8, unique per article in drawn order.
        n_tags = np.minimum(rng.poisson(2.2, n), 8)
        tag_draw = _draw(rng, self.tag_cdf, int(n_tags.sum()))

        # Second feed: same language and tag style (so its copy of the item is the same).
        second = np.full(n, -1, dtype=np.int64)
        for i in np.flatnonzero(rng.random(n) < TWO_FEEDS):
            group = self.feed_groups[(int(lang[i]), bool(self.feed_hashtags[feed[i]]))]
            other = int(group[rng.integers(len(group))])
            second[i] = other if other != feed[i] else -1

        # Body lengths: log-normal around 450 words, 150 to 1,500; titles 6 to 11 words.
        length = np.clip(np.exp(rng.normal(math.log(450), 0.55, n)), 150, 1500).astype(np.int64)
        title_length = rng.integers(6, 12, n)
        body = self._tokens(rng, lang, length, ends=True)
        title = self._tokens(rng, lang, title_length, ends=False)
        return {
            "index": np.arange(first, first + n),
            "feed": feed,
            "second": second,
            "lang": lang,
            "published": ts,
            "first_seen": ts + seen_after,
            "authors": (how_many, a1, a2),
            "tags": (n_tags, tag_draw),
            "body": (length, body),
            "title": (title_length, title),
        }

    def _tokens(
        self, rng: np.random.Generator, lang: np.ndarray, length: np.ndarray, *, ends: bool
    ) -> np.ndarray:
        total = int(length.sum())
        owner_lang = np.repeat(lang, length)
        content = rng.random(total) < CONTENT_SHARE
        tokens = np.empty(total, dtype=np.int64)
        for code in (0, 1):
            mask = owner_lang == code
            pick_content = mask & content
            k = int(pick_content.sum())
            ranks = _draw(rng, self.content_cdf[code], k)
            tokens[pick_content] = self.content_order[code][ranks]
            pick_function = mask & ~content
            k = int(pick_function.sum())
            tokens[pick_function] = self.function[code][_draw(rng, self.function_cdf[code], k)]
        if ends:
            stop = rng.random(total) < SENTENCE_END
            last = np.cumsum(length) - 1
            stop[last] = True
            paragraph = stop & (rng.random(total) < PARAGRAPH_END)
            paragraph[last] = False
            tokens = tokens + self.n_base * stop + self.n_base * paragraph
        return tokens

    def rows(self, number: int, start: int = 0, stop: int = BLOCK) -> dict[str, Any]:
        """The store rows for articles start..stop-1 of a block: Python lists and arrays."""
        b = self.block(number)
        feed = b["feed"]
        how_many, a1, a2 = b["authors"]
        n_tags, tag_draw = b["tags"]
        body_len, body = b["body"]
        title_len, title = b["title"]
        body_off = np.concatenate([[0], np.cumsum(body_len)])
        title_off = np.concatenate([[0], np.cumsum(title_len)])
        tag_off = np.concatenate([[0], np.cumsum(n_tags)])
        body_words = self.words[body]
        title_words = self.words[title]
        out: dict[str, list[Any]] = defaultdict(list)
        term_rows: list[np.ndarray] = []
        for i in range(start, stop):
            idx = int(b["index"][i])
            f = int(feed[i])
            ts = int(b["published"][i])
            when = datetime.fromtimestamp(ts, UTC)
            url = f"https://news{f:04d}.example/{when:%Y/%m}/a{idx:08d}"
            article_id = _sha(url)[:16]
            language = "de" if b["lang"][i] == 0 else "en"
            authors = []
            if how_many[i] >= 1:
                authors.append(self.author_names[int(a1[i])])
            if how_many[i] == 2:
                authors.append(self.author_names[int(a2[i])])
            tag_ids = list(dict.fromkeys(int(t) for t in tag_draw[tag_off[i] : tag_off[i + 1]]))
            hashtags = bool(self.feed_hashtags[f])
            source = "hashtag" if hashtags else "category"
            tags = [[self.tag_key[t], self.tag_display[t], source] for t in tag_ids]
            body_text = " ".join(body_words[body_off[i] : body_off[i + 1]].tolist())
            body_text = body_text.replace("\n ", "\n")
            if hashtags and tag_ids:
                body_text += "\n" + " ".join("#" + self.tag_display[t] for t in tag_ids)
            summary = body_text.split("\n", 1)[0]
            title_text = " ".join(title_words[title_off[i] : title_off[i + 1]].tolist())
            words = int(body_len[i]) + (len(tag_ids) if hashtags else 0)
            content_hash = hash_fields(
                url=url,
                title=title_text,
                summary=summary,
                text=body_text,
                authors=authors,
                tags=[(k, d, s) for k, d, s in tags],
                published=when.isoformat(),
                date_source="feed",
                language=language,
                comments=None,
                fulltext_error=None,
            )
            # Terms: content words of title and body, and each hashtag's word once.
            ids = [
                self.term_of[body[body_off[i] : body_off[i + 1]]],
                self.term_of[title[title_off[i] : title_off[i + 1]]],
            ]
            if hashtags and tag_ids:
                ids.append(self.tag_term[tag_ids])
            term_rows.append(np.concatenate(ids))
            out["id"].append(article_id)
            out["url"].append(url)
            out["title"].append(title_text)
            out["summary"].append(summary)
            out["text"].append(body_text)
            out["published"].append(ts)
            out["first_seen"].append(int(b["first_seen"][i]))
            out["language"].append(language)
            out["word_count"].append(words)
            out["authors"].append(authors)
            out["tags"].append(tags)
            out["hash"].append(content_hash)
            out["feeds"].append([f] if b["second"][i] < 0 else [f, int(b["second"][i])])
            out["index"].append(idx)
        out["terms"] = term_rows  # type: ignore[assignment]
        return out


# -- bulk mode -----------------------------------------------------------------------------------


def _ts(values: Any) -> pa.Array:
    return pa.array(np.asarray(values, dtype="datetime64[s]").astype("datetime64[us]"))


def _feed_table(corpus: Corpus) -> pa.Table:
    f = corpus.feeds
    added = corpus.end - timedelta(days=corpus.days + 1)
    end = corpus.end.replace(tzinfo=None)
    failing = corpus.feed_failing
    return pa.table(
        {
            "id": pa.array(np.arange(1, f + 1), pa.int32()),
            "url": [f"https://news{i:04d}.example/feed.xml" for i in range(f)],
            "title": [
                (f"Tagesblatt {i:04d}" if corpus.feed_lang[i] == 0 else f"Daily Ledger {i:04d}")
                for i in range(f)
            ],
            "site_url": [f"https://news{i:04d}.example/" for i in range(f)],
            "language": ["de" if corpus.feed_lang[i] == 0 else "en" for i in range(f)],
            "added_at": pa.array([added.replace(tzinfo=None)] * f, pa.timestamp("us")),
            "last_fetch_at": pa.array([end] * f, pa.timestamp("us")),
            "last_status": pa.array([503 if x else 200 for x in failing], pa.int32()),
            "last_ok_at": pa.array(
                [end - timedelta(hours=6) if x else end for x in failing], pa.timestamp("us")
            ),
            "error_count": pa.array([3 if x else 0 for x in failing], pa.int32()),
            "last_error": pa.array(
                ["HTTP 503 Service Unavailable" if x else None for x in failing], pa.string()
            ),
            "next_due_at": pa.array([end + timedelta(minutes=15)] * f, pa.timestamp("us")),
        }
    )


def _append(con: Any, name: str, table: pa.Table) -> None:
    _rows = table  # noqa: F841 - read by DuckDB's replacement scan
    columns = ", ".join(table.column_names)
    con.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM _rows")


def _block_tables(corpus: Corpus, rows: dict[str, Any]) -> dict[str, pa.Table]:
    """One block's rows of the five article tables (base.TABLES' columns), as Arrow tables;
    `article_terms` also carries each row's article language (for the per-day rollup)."""
    n = len(rows["id"])
    ids = pa.array(rows["id"], pa.string())
    published = _ts(rows["published"])
    first_seen = _ts(rows["first_seen"])
    words = np.asarray(rows["word_count"], dtype=np.int32)
    tables = {
        "articles": pa.table(
            {
                "id": ids,
                "url": rows["url"],
                "title": rows["title"],
                "summary": rows["summary"],
                "text": rows["text"],
                "published": published,
                "date_source": pa.array(["feed"] * n),
                "date_assumed_utc": pa.array([False] * n),
                "language": rows["language"],
                "word_count": pa.array(words),
                "reading_minutes": pa.array(np.ceil(words / 220).astype(np.int32)),
                "comments": pa.nulls(n, pa.int32()),
                "fulltext_error": pa.nulls(n, pa.string()),
                "first_seen": first_seen,
                "updated_at": first_seen,
            }
        )
    }
    owner = [i for i, feeds in enumerate(rows["feeds"]) for _ in feeds]
    take = pa.array(owner, pa.int64())
    tables["article_feeds"] = pa.table(
        {
            "feed_id": pa.array([f + 1 for fs in rows["feeds"] for f in fs], pa.int32()),
            "entry_key": pa.array(rows["url"]).take(take),
            "article_id": ids.take(take),
            "entry_hash": pa.array(rows["hash"]).take(take),
            "first_seen": first_seen.take(take),
            "published": published.take(take),
        }
    )
    owner = [i for i, names in enumerate(rows["authors"]) for _ in names]
    if owner:
        take = pa.array(owner, pa.int64())
        tables["article_authors"] = pa.table(
            {
                "article_id": ids.take(take),
                "position": pa.array([p for a in rows["authors"] for p in range(len(a))]),
                "author": pa.array([name for a in rows["authors"] for name in a]),
                "published": published.take(take),
            }
        )
    owner = [i for i, tags in enumerate(rows["tags"]) for _ in tags]
    if owner:
        take = pa.array(owner, pa.int64())
        flat = [t for tags in rows["tags"] for t in tags]
        tables["article_tags"] = pa.table(
            {
                "article_id": ids.take(take),
                "key": [t[0] for t in flat],
                "display": [t[1] for t in flat],
                "source": [t[2] for t in flat],
                "published": published.take(take),
            }
        )
    # Terms: what ingest computes from the same title and text (lemmas, display forms and
    # two-word phrases, issue 10: no longer one vocabulary id per word), about 0.4 ms of CPU
    # an article.
    found = [
        text.text_stats(title, body, language)[1]
        for title, body, language in zip(rows["title"], rows["text"], rows["language"], strict=True)
    ]
    take = pa.array([i for i, terms in enumerate(found) for _ in terms], pa.int64())
    flat_terms = [t for terms in found for t in terms]
    tables["article_terms"] = pa.table(
        {
            "article_id": ids.take(take),
            "term": pa.array([t[0] for t in flat_terms], pa.string()),
            "n": pa.array([t[1] for t in flat_terms], pa.int32()),
            "published": published.take(take),
            "display": pa.array([t[2] for t in flat_terms], pa.string()),
            "language": pa.array(rows["language"], pa.string()).take(take),
        }
    )
    return tables


def _insert(con: Any, corpus: Corpus, rows: dict[str, Any]) -> int:
    """Append one set of rows to the five article tables; returns the article_terms rows."""
    tables = _block_tables(corpus, rows)
    for name, table in tables.items():
        if name != "article_terms":
            _append(con, name, table)
    # The terms with both rollups (per day, display forms), as the real ingest keeps them.
    write.insert_terms(con, tables["article_terms"])
    # And the word index the query language reads, as ingest builds it.
    articles = tables["articles"]
    columns = (articles[c].to_pylist() for c in ("id", "published", "title", "text"))
    write.insert_words(
        con,
        [
            (i, pub, text.index_words(title, body))
            for i, pub, title, body in zip(*columns, strict=True)
        ],
    )
    return tables["article_terms"].num_rows


@dataclass
class Generated:
    articles: int
    links: int
    terms: int
    seconds: float
    bytes: int


_WORKER_CORPUS: Corpus | None = None


def _worker_rows(number: int) -> dict[str, Any]:
    assert _WORKER_CORPUS is not None
    corpus = _WORKER_CORPUS
    return corpus.rows(number, 0, min(BLOCK, corpus.articles - number * BLOCK))


def _block_rows(corpus: Corpus, blocks: int, workers: int) -> Iterator[dict[str, Any]]:
    """Each block's rows, in order; made in `workers` forked processes while this one writes."""
    global _WORKER_CORPUS
    if workers <= 0 or blocks < 2:
        for number in range(blocks):
            yield corpus.rows(number, 0, min(BLOCK, corpus.articles - number * BLOCK))
        return
    _WORKER_CORPUS = corpus  # inherited by the forked workers
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_worker_rows, range(blocks))


def generate(
    path: Path, corpus: Corpus, *, progress: bool = False, workers: int | None = None
) -> Generated:
    """Write `corpus.articles` articles into a new store at `path` (bulk mode).

    Rows are made in worker processes (one per core by default) while this process appends
    them; the store is written in one transaction per block."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    if path.exists():
        raise SystemExit(f"{path} exists; remove it first")
    started = time.perf_counter()
    store = DuckDBStore(path)
    store.ensure_schema()
    from monitor.store.duckdb import raw_connection

    con = raw_connection(path)
    links = terms = 0
    try:
        con.execute("BEGIN")
        _rows = _feed_table(corpus)  # noqa: F841
        con.execute(
            "INSERT INTO feeds (id, url, title, site_url, language, kind, subscribed, added_at, "
            "last_fetch_at, last_status, last_ok_at, error_count, last_error, next_due_at) "
            "SELECT id, url, title, site_url, language, 'http', TRUE, added_at, last_fetch_at, "
            "last_status, last_ok_at, error_count, last_error, next_due_at FROM _rows"
        )
        # Explicit ids: move the sequence past them so a later real ingest gets fresh ones.
        con.execute(f"SELECT max(nextval('feed_ids')) FROM range({corpus.feeds})").fetchall()
        con.execute("COMMIT")
        blocks = math.ceil(corpus.articles / BLOCK)
        for number, rows in enumerate(_block_rows(corpus, blocks, workers)):
            stop = len(rows["id"])
            con.execute("BEGIN")
            terms += _insert(con, corpus, rows)
            con.execute("COMMIT")
            links += sum(len(f) for f in rows["feeds"])
            if progress:
                done = number * BLOCK + stop
                rate = done / (time.perf_counter() - started)
                print(f"  {done:>9,} articles  {rate:,.0f}/s", file=sys.stderr, flush=True)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return Generated(
        corpus.articles, links, terms, time.perf_counter() - started, path.stat().st_size
    )


# -- bulk mode through the storage interface (any engine) -------------------------------------


def is_location(out: str | Path) -> bool:
    """A DSN (`chdb:///dir`, `clickhouse://...`) rather than a DuckDB file path."""
    return "://" in str(out)


def _as_table(table: pa.Table, columns: tuple[str, ...]) -> Table:
    """An Arrow table as a storage `Table` of `columns` (a column it lacks is all None)."""
    n = table.num_rows
    data = [table.column(c).to_pylist() if c in table.column_names else [None] * n for c in columns]
    return Table(columns, list(zip(*data, strict=True)))


def _feed_rows(corpus: Corpus) -> Table:
    f = corpus.feeds
    table = _feed_table(corpus)
    extra = {
        "kind": pa.array(["http"] * f),
        "subscribed": pa.array([True] * f),
        "full_text": pa.array([False] * f),
        "restricted": pa.array([False] * f),
        "disabled": pa.array([False] * f),
        "pages_restricted": pa.array([False] * f),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    return _as_table(table, COPY_COLUMNS["feeds"])


def generate_into(
    store: Storage, corpus: Corpus, *, progress: bool = False, workers: int | None = None
) -> Generated:
    """The same rows as `generate`, written through the storage interface into an empty
    store of any engine: `write_rows` per table and block (base.TABLES' order), then
    `finish_copy` (the target rebuilds its per-day term rollup)."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    started = time.perf_counter()
    store.ensure_schema()
    if store.count_rows("articles"):
        raise SystemExit(f"{store.info().location} holds articles already; use an empty store")
    store.write_rows("feeds", _feed_rows(corpus))
    links = terms = 0
    blocks = math.ceil(corpus.articles / BLOCK)
    for number, rows in enumerate(_block_rows(corpus, blocks, workers)):
        tables = _block_tables(corpus, rows)
        for name in TABLES:
            if name in tables:
                store.write_rows(name, _as_table(tables[name], COPY_COLUMNS[name]))
        links += tables["article_feeds"].num_rows
        terms += tables["article_terms"].num_rows
        if progress:
            done = number * BLOCK + len(rows["id"])
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>9,} articles  {rate:,.0f}/s", file=sys.stderr, flush=True)
    store.finish_copy()
    return Generated(corpus.articles, links, terms, time.perf_counter() - started, 0)


def disk_bytes(location: str | Path) -> int:
    """Bytes a store takes on disk: a DuckDB file and its WAL, or a chDB directory's files
    (0 for a server: its disk is not ours to measure)."""
    text_ = str(location)
    if text_.startswith("chdb://"):
        root = Path(text_[len("chdb://") :].split("?", 1)[0])
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    if is_location(text_):
        return 0
    path = Path(text_)
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def generate_location(
    out: str | Path, corpus: Corpus, *, progress: bool = False, workers: int | None = None
) -> Generated:
    """`generate` for a DuckDB path (bulk SQL appends), `generate_into` for a DSN."""
    if not is_location(out):
        return generate(Path(out), corpus, progress=progress, workers=workers)
    store = open_store(str(out))
    try:
        done = generate_into(store, corpus, progress=progress, workers=workers)
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    done.bytes = disk_bytes(out)
    return done


# -- ingest mode: RSS documents through the real pipeline -----------------------------------------


def _entry(rows: dict[str, Any], i: int) -> feedwriter.Entry:
    body = rows["text"][i].split("\n")
    return feedwriter.Entry(
        title=rows["title"][i],
        link=rows["url"][i],
        guid=rows["url"][i],
        permalink=True,
        published=datetime.fromtimestamp(rows["published"][i], UTC),
        authors=tuple(rows["authors"][i]),
        categories=tuple(
            display for _key, display, source in rows["tags"][i] if source == "category"
        ),
        summary="<p>" + escape(rows["summary"][i]) + "</p>",
        content="".join(f"<p>{escape(p)}</p>" for p in body),
    )


# One line per document, content in CDATA, as the big CMSs write it.
_STYLE = feedwriter.Style(newline="", encoding="UTF-8")


def documents(corpus: Corpus, start: int, count: int) -> list[ingest.Document]:
    """Articles start..start+count-1 as RSS 2.0 documents, one per feed that carries any."""
    entries: dict[int, list[feedwriter.Entry]] = defaultdict(list)
    index = start
    while index < start + count:
        number, offset = divmod(index, BLOCK)
        stop = min(BLOCK, offset + (start + count - index))
        rows = corpus.rows(number, offset, stop)
        for i in range(len(rows["id"])):
            entry = _entry(rows, i)
            for f in rows["feeds"][i]:
                entries[f].append(entry)
        index += stop - offset
    docs = []
    for f in sorted(entries):
        url = f"https://news{f:04d}.example/feed.xml"
        lang = "de" if corpus.feed_lang[f] == 0 else "en"
        title = f"Tagesblatt {f:04d}" if lang == "de" else f"Daily Ledger {f:04d}"
        channel = feedwriter.Channel(
            title=title, link=f"https://news{f:04d}.example/", description=title, language=lang
        )
        content = feedwriter.rss(channel, entries[f], _STYLE)
        docs.append(ingest.Document(url, url, "http", content))
    return docs


def ingest_slice(
    store: Storage, corpus: Corpus, start: int, count: int, *, workers: int | None = None
) -> tuple[float, int]:
    """Push articles start..start+count-1 through the real ingest. Returns (seconds, new)."""
    docs = documents(corpus, start, count)
    now = max(corpus.end, datetime.now(UTC))
    chosen = ingest.parse_workers(len(docs)) if workers is None else workers
    started = time.perf_counter()
    reports = ingest.ingest_documents(store, docs, now=now, workers=chosen, subscribed=True)
    seconds = time.perf_counter() - started
    failed = [r.line() for r in reports if r.failed]
    if failed:
        raise SystemExit(f"ingest failed: {failed[0]}")
    return seconds, sum(r.counts.new for r in reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", required=True, help="a DuckDB file, or chdb:///dir or clickhouse://... (empty)"
    )
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=2_000)
    parser.add_argument("--authors", type=int, default=20_000)
    parser.add_argument("--tags", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", help="ISO time the history ends (default: this hour, UTC)")
    parser.add_argument("--mode", choices=("bulk", "ingest"), default="bulk")
    args = parser.parse_args()
    corpus = Corpus(
        articles=args.articles,
        feeds=args.feeds,
        authors=args.authors,
        tags=args.tags,
        days=args.days,
        seed=args.seed,
        **({"end": datetime.fromisoformat(args.end)} if args.end else {}),
    )
    if not is_location(args.out):
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.mode == "bulk":
        done = generate_location(args.out, corpus, progress=True)
        print(
            f"{done.articles:,} articles, {done.links:,} feed links, {done.terms:,} term rows "
            f"in {done.seconds:.0f} s; {done.bytes / 1e6:,.0f} MB "
            f"({done.bytes / done.articles / 1e3:.1f} kB per article)"
        )
    else:
        store = open_store(args.out)
        store.ensure_schema()
        total = 0.0
        for start in range(0, args.articles, BLOCK):
            count = min(BLOCK, args.articles - start)
            seconds, new = ingest_slice(store, corpus, start, count)
            total += seconds
            print(f"  {start + count:>9,} articles, {new} new, {count / seconds:,.0f}/s")
        print(f"{args.articles:,} articles through the real ingest in {total:.0f} s")


if __name__ == "__main__":
    main()
