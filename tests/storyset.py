# ruff: noqa: E501 - sentences of news copy, one a line
"""A labelled set of news articles for story detection, generated, the same on every run.

Each story is told the ways outlets retell agency copy: the agency's original, lightly edited
copies, a new headline over the same text, a paragraph added, a paragraph cut, an update with
a new line at the top, a syndicated copy with another byline and the outlet's boilerplate, and
the excerpt a summary feed carries. Several stories share a topic (two Bundestag votes, two
storms, two strikes: the same people, places and vocabulary, within the same days), in German
and in English, and each event is told in both languages (kept apart: two stories).

`python tests/storyset.py` prints pairwise precision and recall of `monitor.stories.assign`
on the set for a grid of settings and shingle sizes (how the defaults were chosen).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

BASE = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Labelled:
    article_id: str
    story: str  # the true story: event and language
    language: str
    title: str
    text: str
    published: datetime
    variant: str


# Per language and topic: sentence templates with slots, filled per story. Stories of one
# topic draw overlapping sentences from the same pool with their own names and numbers.
TOPICS: dict[str, dict[str, list[str]]] = {
    "de": {
        "bundestag": [
            "Der Bundestag hat am {day} das {law} mit {yes} Ja-Stimmen beschlossen.",
            "Gegen das Gesetz stimmten {no} Abgeordnete, {abstain} enthielten sich.",
            "{person} von der {party} sprach in der Debatte von einem {adj} Tag für das Land.",
            "Die Opposition kritisierte, das {law} gehe nicht weit genug.",
            "Nach dem Beschluss muss sich noch der Bundesrat mit dem {law} befassen.",
            "Das Gesetz soll am {start} in Kraft treten und betrifft rund {n} Millionen Menschen.",
            "{person} kündigte an, die Umsetzung im {place} genau zu beobachten.",
            "Die Debatte im Plenum dauerte mehr als {hours} Stunden.",
            "Kritik kam auch von Verbänden, die vor höheren Kosten für {group} warnten.",
            "Die Koalition hatte sich erst in der vergangenen Woche auf einen Kompromiss geeinigt.",
            "Im Vorfeld hatte es lange Verhandlungen zwischen {party} und {party2} gegeben.",
            "Nach Angaben der Bundestagsverwaltung nahmen {present} Abgeordnete an der Abstimmung teil.",
        ],
        "sturm": [
            "Sturmtief {storm} hat in der Nacht zum {day} schwere Schäden in {place} angerichtet.",
            "Der Deutsche Wetterdienst meldete Böen von bis zu {speed} Kilometern pro Stunde.",
            "Die Feuerwehr rückte nach eigenen Angaben zu mehr als {n} Einsätzen aus.",
            "In {place2} stürzte ein Baum auf ein Auto, {injured} Menschen wurden verletzt.",
            "Die Deutsche Bahn stellte den Fernverkehr zwischen {place} und {place2} ein.",
            "Zahlreiche Straßen waren wegen umgestürzter Bäume gesperrt.",
            "Der Wetterdienst warnte vor weiteren Unwettern bis zum {later}.",
            "Mehrere Schulen in {place} blieben am Morgen geschlossen.",
            "Tausende Haushalte waren zeitweise ohne Strom, teilte der Versorger {company} mit.",
            "Ein Sprecher der Polizei sagte, die Lage habe sich am Vormittag beruhigt.",
            "Auch am Flughafen {place} fielen {flights} Flüge aus.",
            "Die Aufräumarbeiten dürften nach Angaben der Stadt mehrere Tage dauern.",
        ],
        "streik": [
            "Die Gewerkschaft {union} hat für den {day} zu einem Warnstreik bei {company} aufgerufen.",
            "Betroffen sind nach Angaben der Gewerkschaft rund {n} Beschäftigte in {place}.",
            "Die Gewerkschaft fordert {pct} Prozent mehr Lohn bei einer Laufzeit von {months} Monaten.",
            "{person}, Verhandlungsführer der {union}, sprach von einem {adj} Angebot der Arbeitgeber.",
            "Das Unternehmen bezeichnete den Streik als unverhältnismäßig.",
            "Fahrgäste müssen sich auf Ausfälle und Verspätungen einstellen.",
            "Die nächste Verhandlungsrunde ist für den {later} in {place2} angesetzt.",
            "Bereits in der vergangenen Woche hatten Beschäftigte in {place2} die Arbeit niedergelegt.",
            "Die Arbeitgeber bieten bislang {offer} Prozent mehr Geld an.",
            "Ein Sprecher von {company} rief die Gewerkschaft an den Verhandlungstisch zurück.",
            "Der Streik soll um {hour} Uhr beginnen und bis zum Abend dauern.",
            "Auch in {place} ist mit Einschränkungen zu rechnen.",
        ],
    },
    "en": {
        "parliament": [
            "The House of Commons on {day} passed the {law} by {yes} votes to {no}.",
            "{person} of the {party} called it a {adj} day for the country.",
            "Opposition members said the {law} did not go far enough.",
            "The bill now moves to the House of Lords, where it faces further scrutiny.",
            "Ministers say the law will take effect in {start} and affect around {n} million people.",
            "{person} promised to watch closely how it is put into practice in {place}.",
            "The debate in the chamber lasted more than {hours} hours.",
            "Business groups warned of higher costs for {group}.",
            "The government reached a compromise with its backbenchers only last week.",
            "Talks between the {party} and the {party2} had dragged on for months.",
            "{abstain} members abstained, according to the official record.",
            "A total of {present} members took part in the vote.",
        ],
        "storm": [
            "Storm {storm} caused severe damage across {place} overnight into {day}.",
            "The Met Office recorded gusts of up to {speed} miles per hour.",
            "Fire crews said they had responded to more than {n} calls.",
            "In {place2} a tree fell onto a car, injuring {injured} people.",
            "Rail services between {place} and {place2} were suspended.",
            "Many roads were closed because of fallen trees.",
            "Forecasters warned of further severe weather until {later}.",
            "Several schools in {place} stayed closed in the morning.",
            "Thousands of homes were without power for a time, the utility {company} said.",
            "A police spokesperson said the situation had calmed by late morning.",
            "At {place} airport {flights} flights were cancelled.",
            "The clean-up is expected to take several days, the council said.",
        ],
        "strike": [
            "The union {union} has called a strike at {company} for {day}.",
            "Around {n} workers in {place} are affected, the union said.",
            "The union is demanding a pay rise of {pct} percent over {months} months.",
            "{person}, the union's chief negotiator, called the employers' offer {adj}.",
            "The company described the strike as disproportionate.",
            "Passengers should expect cancellations and delays.",
            "The next round of talks is scheduled for {later} in {place2}.",
            "Workers in {place2} already walked out last week.",
            "Employers have so far offered {offer} percent more.",
            "A spokesperson for {company} urged the union to return to the table.",
            "The strike is due to begin at {hour} and last until the evening.",
            "Disruption is also expected in {place}.",
        ],
    },
}

# Each event has slot values per language (names are the same people and places).
EVENTS: dict[str, list[dict[str, str]]] = {
    "bundestag": [
        dict(
            law="Heizungsgesetz",
            yes="395",
            no="279",
            abstain="12",
            person="Olaf Berger",
            party="SPD",
            party2="FDP",
            adj="guten",
            start="1. Januar",
            n="20",
            place="Alltag",
            hours="drei",
            group="Mieter",
            present="686",
            day="Donnerstag",
        ),
        dict(
            law="Rentenpaket",
            yes="412",
            no="250",
            abstain="25",
            person="Lisa Kramer",
            party="CDU",
            party2="Grünen",
            adj="schwarzen",
            start="1. Juli",
            n="21",
            place="Osten",
            hours="vier",
            group="Arbeitgeber",
            present="687",
            day="Freitag",
        ),
        dict(
            law="Bürgergeld-Gesetz",
            yes="380",
            no="300",
            abstain="8",
            person="Olaf Berger",
            party="SPD",
            party2="Grünen",
            adj="wichtigen",
            start="1. März",
            n="5",
            place="Land",
            hours="zwei",
            group="Kommunen",
            present="688",
            day="Mittwoch",
        ),
    ],
    "sturm": [
        dict(
            storm="Zoltan",
            day="Dienstag",
            place="Hamburg",
            place2="Bremen",
            speed="140",
            n="600",
            injured="zwei",
            later="Mittwochabend",
            company="Vattenfall",
            flights="80",
        ),
        dict(
            storm="Ylenia",
            day="Donnerstag",
            place="Köln",
            place2="Düsseldorf",
            speed="120",
            n="350",
            injured="drei",
            later="Freitagmittag",
            company="Rheinenergie",
            flights="45",
        ),
        dict(
            storm="Xaver",
            day="Sonntag",
            place="Hamburg",
            place2="Kiel",
            speed="150",
            n="800",
            injured="vier",
            later="Montagabend",
            company="Vattenfall",
            flights="120",
        ),
    ],
    "streik": [
        dict(
            union="Verdi",
            company="der BVG",
            day="Montag",
            n="14.000",
            place="Berlin",
            place2="Potsdam",
            pct="12",
            months="zwölf",
            person="Jana Roth",
            adj="enttäuschenden",
            later="18. Dezember",
            offer="5",
            hour="3",
        ),
        dict(
            union="EVG",
            company="der Deutschen Bahn",
            day="Mittwoch",
            n="30.000",
            place="Bayern",
            place2="Frankfurt",
            pct="10",
            months="18",
            person="Kai Weber",
            adj="unzureichenden",
            later="9. Dezember",
            offer="4",
            hour="4",
        ),
        dict(
            union="Verdi",
            company="der Lufthansa",
            day="Freitag",
            n="20.000",
            place="München",
            place2="Frankfurt",
            pct="12",
            months="zwölf",
            person="Jana Roth",
            adj="schwachen",
            later="12. Dezember",
            offer="6",
            hour="5",
        ),
    ],
    "parliament": [
        dict(
            law="Renters Reform Bill",
            yes="395",
            no="279",
            abstain="12",
            person="Olivia Burke",
            party="Labour Party",
            party2="Liberal Democrats",
            adj="good",
            start="January",
            n="20",
            place="every town",
            hours="three",
            group="landlords",
            present="686",
            day="Thursday",
        ),
        dict(
            law="Pensions Bill",
            yes="412",
            no="250",
            abstain="25",
            person="Lewis Cramer",
            party="Conservatives",
            party2="Greens",
            adj="dark",
            start="July",
            n="21",
            place="the north",
            hours="four",
            group="employers",
            present="687",
            day="Friday",
        ),
        dict(
            law="Welfare Reform Bill",
            yes="380",
            no="300",
            abstain="8",
            person="Olivia Burke",
            party="Labour Party",
            party2="Greens",
            adj="important",
            start="March",
            n="5",
            place="the regions",
            hours="two",
            group="councils",
            present="688",
            day="Wednesday",
        ),
    ],
    "storm": [
        dict(
            storm="Zoltan",
            day="Tuesday",
            place="Hamburg",
            place2="Bremen",
            speed="87",
            n="600",
            injured="two",
            later="Wednesday evening",
            company="Vattenfall",
            flights="80",
        ),
        dict(
            storm="Ylenia",
            day="Thursday",
            place="Cologne",
            place2="Dusseldorf",
            speed="75",
            n="350",
            injured="three",
            later="Friday noon",
            company="Rheinenergie",
            flights="45",
        ),
        dict(
            storm="Xaver",
            day="Sunday",
            place="Hamburg",
            place2="Kiel",
            speed="93",
            n="800",
            injured="four",
            later="Monday evening",
            company="Vattenfall",
            flights="120",
        ),
    ],
    "strike": [
        dict(
            union="Unite",
            company="Transport for London",
            day="Monday",
            n="14,000",
            place="London",
            place2="Croydon",
            pct="12",
            months="twelve",
            person="Jane Roth",
            adj="disappointing",
            later="18 December",
            offer="5",
            hour="3am",
        ),
        dict(
            union="RMT",
            company="Network Rail",
            day="Wednesday",
            n="30,000",
            place="the Midlands",
            place2="Birmingham",
            pct="10",
            months="18",
            person="Kai Webb",
            adj="inadequate",
            later="9 December",
            offer="4",
            hour="4am",
        ),
        dict(
            union="Unite",
            company="British Airways",
            day="Friday",
            n="20,000",
            place="Heathrow",
            place2="Gatwick",
            pct="12",
            months="twelve",
            person="Jane Roth",
            adj="weak",
            later="12 December",
            offer="6",
            hour="5am",
        ),
    ],
}

# The same event in the other language: topic pairs (German topic, English topic).
PAIRS = {"bundestag": "parliament", "sturm": "storm", "streik": "strike"}

TITLES = {
    "bundestag": [
        "Bundestag beschließt {law}",
        "{law}: Bundestag stimmt zu",
        "Mehrheit für das {law} im Bundestag",
    ],
    "sturm": [
        "Sturmtief {storm} wütet in {place}",
        "Schwere Schäden durch {storm}",
        "{storm}: Bäume umgestürzt, Züge stehen still",
    ],
    "streik": [
        "{union} ruft zum Warnstreik bei {company} auf",
        "Warnstreik: {company} steht still",
        "Streik bei {company} am {day}",
    ],
    "parliament": [
        "MPs pass the {law}",
        "{law} clears the Commons",
        "Commons majority backs the {law}",
    ],
    "storm": [
        "Storm {storm} batters {place}",
        "Severe damage as Storm {storm} hits",
        "Storm {storm}: trees down, trains halted",
    ],
    "strike": [
        "{union} calls strike at {company}",
        "Strike to halt {company}",
        "{company} strike on {day}",
    ],
}

BOILERPLATE = {
    "de": (
        "Von {byline}, {agency}",
        "Folgen Sie uns auch auf unseren Kanälen in den sozialen "
        "Netzwerken. Dieser Artikel wurde automatisch aus dem Agenturmaterial übernommen.",
    ),
    "en": (
        "By {byline}, {agency}",
        "Copyright 2026 The Associated Press. All rights reserved. "
        "This material may not be published, broadcast, rewritten or redistributed.",
    ),
}
UPDATES = {
    "de": "Aktualisiert um {time} Uhr: Inzwischen liegen neue Angaben vor.",
    "en": "Updated at {time}: New details have emerged since this story was first published.",
}
ADDED = {
    "de": "Hintergrund: Ähnliche Fälle hatte es bereits im vergangenen Jahr gegeben, damals "
    "allerdings mit deutlich geringeren Folgen.",
    "en": "Background: Similar cases were reported last year, although with far smaller "
    "consequences at the time.",
}
SYNONYMS = {
    "de": [
        ("sagte", "erklärte"),
        ("rund", "etwa"),
        ("mehr als", "über"),
        ("Angaben", "Informationen"),
        ("am Morgen", "am Vormittag"),
        ("bis zu", "maximal"),
    ],
    "en": [
        ("said", "stated"),
        ("around", "about"),
        ("more than", "over"),
        ("Many", "Numerous"),
        ("in the morning", "on the morning"),
        ("up to", "as much as"),
    ],
}

VARIANTS = ("original", "edited", "headline", "added", "cut", "update", "syndicated", "excerpt")


def _story_text(topic: str, language: str, slots: dict[str, str], rng: random.Random) -> list[str]:
    pool = TOPICS[language][topic]
    # A news story opens with its lead (who, what, when); the rest is picked per story.
    picks = [0, *sorted(rng.sample(range(1, len(pool)), 6))]
    return [pool[i].format(**slots) for i in picks]


def _edit(sentences: list[str], language: str, rng: random.Random) -> list[str]:
    """A light edit: a few words swapped for synonyms, one sentence's order of clauses kept."""
    text = " ".join(sentences)
    for old, new in rng.sample(SYNONYMS[language], 3):
        text = text.replace(old, new, 1)
    # An outlet trims a word here and there.
    out = text.split(". ")
    out[1] = out[1].replace(" nach eigenen Angaben", "").replace(" the union said", "")
    return [". ".join(out)]


def build(seed: int = 10) -> list[Labelled]:
    """The labelled articles, in publication order."""
    rng = random.Random(seed)
    articles: list[Labelled] = []
    for de_topic, en_topic in PAIRS.items():
        for number in range(3):
            # One event, its German story and its English one; the same sentence picks.
            pick_seed = rng.random()
            for language, topic in (("de", de_topic), ("en", en_topic)):
                slots = EVENTS[topic][number]
                story = f"{topic}-{number}-{language}"
                local = random.Random(pick_seed)
                sentences = _story_text(topic, language, slots, local)
                titles = [t.format(**slots) for t in TITLES[topic]]
                start = BASE + timedelta(hours=5 * number + 2 * (language == "en"))
                byline, agency = ("Anna Schmidt", "dpa") if language == "de" else ("Tom Hale", "AP")
                head, tail = BOILERPLATE[language]
                variants = {
                    "original": (titles[0], sentences),
                    "edited": (titles[0], _edit(sentences, language, local)),
                    "headline": (titles[1], sentences),
                    "added": (titles[0], [*sentences, ADDED[language]]),
                    "cut": (titles[0], sentences[:-2]),
                    "update": (
                        titles[2],
                        [UPDATES[language].format(time="14:20"), *sentences],
                    ),
                    "syndicated": (
                        titles[0],
                        [
                            head.format(
                                byline="Max Vogel" if language == "de" else "Ann Lee", agency=agency
                            ),
                            *sentences,
                            tail,
                        ],
                    ),
                    "excerpt": (titles[0], sentences[:2]),
                }
                for i, variant in enumerate(VARIANTS):
                    title, body = variants[variant]
                    articles.append(
                        Labelled(
                            article_id=f"{story}-{variant}",
                            story=story,
                            language=language,
                            title=title,
                            text=" ".join(body),
                            published=start + timedelta(minutes=17 * i),
                            variant=variant,
                        )
                    )
    articles.sort(key=lambda a: (a.published, a.article_id))
    return articles


def pairwise(labels: dict[str, str], predicted: dict[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall: over all pairs of articles, a pair is predicted
    together when both got one story id, truly together when both have one label.
    Precision = true pairs predicted / pairs predicted; recall = true pairs predicted /
    true pairs."""
    ids = sorted(labels)
    predicted_pairs = true_pairs = both = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            same_true = labels[a] == labels[b]
            same_pred = predicted[a] == predicted[b]
            true_pairs += same_true
            predicted_pairs += same_pred
            both += same_true and same_pred
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall


def run(settings: object | None = None, articles: list[Labelled] | None = None) -> dict[str, str]:
    """Story ids for the set, each article placed against the ones before it."""
    from monitor import stories

    articles = articles if articles is not None else build()
    docs = [
        stories.StoryDoc(
            a.article_id, a.language, a.published, a.title, stories.sign(a.title, a.text)
        )
        for a in articles
    ]
    return stories.assign(docs, [], settings)  # type: ignore[arg-type]


def best(size: int) -> tuple[float, float, float, float, float]:
    """The best (precision + recall) over the settings grid with `size`-word shingles."""
    from dataclasses import replace

    from monitor import stories

    articles = build()
    labels = {a.article_id: a.story for a in articles}
    old, stories.SHINGLE_WORDS = stories.SHINGLE_WORDS, size
    try:
        found = []
        for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            for title in (0.6, 0.7, 0.8, 0.9, 1.01):
                for text in (0.1, 0.2, 0.3):
                    s = replace(
                        stories.StorySettings(),
                        threshold=threshold,
                        title_threshold=title,
                        title_threshold_text=text,
                    )
                    p, r = pairwise(labels, run(s, articles))
                    found.append((min(p, r), p, r, threshold, title, text))
        return max(found)[1:]
    finally:
        stories.SHINGLE_WORDS = old


def main() -> None:
    articles = build()
    labels = {a.article_id: a.story for a in articles}
    p, r = pairwise(labels, run(None, articles))
    print(f"{len(articles)} articles, {len(set(labels.values()))} stories")
    print(f"defaults: pairwise precision {p:.3f} recall {r:.3f}")
    for size in (1, 2, 3, 4, 5):
        p, r, threshold, title, text = best(size)
        print(
            f"{size}-word shingles: best precision {p:.3f} recall {r:.3f} "
            f"(threshold {threshold}, title {title}, text {text})"
        )


if __name__ == "__main__":
    main()
