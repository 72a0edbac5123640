"""Synthetic but realistic demo feeds, so a machine without network has something to explore.

`demo_feeds(anchor)` builds eight feed documents (German and English; RSS 2.0, Atom 1.0, RSS 1.0;
one ISO-8859-1 file) covering the 120 days that end at `anchor`: uneven volume per source,
per-source weekday/hour rhythm, story arcs that rise and fall (an election, a trade dispute,
peace talks, a storm, a product launch, a football tournament), hashtags and categories that
follow them, one source that falls silent for the last three weeks, and a few awkward entries
(shared links, utm_* parameters, HTML entities, undated items) to exercise the store.

Everything is deterministic: the same anchor and seed give the same bytes. All URLs are
under invented example domains. Run `python -m monitor.demo` to regenerate `data/demo/`.
"""

from __future__ import annotations

import math
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SHIPPED_ANCHOR = datetime(2026, 11, 20, tzinfo=UTC)
WINDOW_DAYS = 120

# ---------------------------------------------------------------------------------------------
# Vocabulary: per topic and language. Nouns are bare plurals or mass nouns so that German
# templates without articles stay grammatical: "über {N}", and "bei {Nd}" with the dative plural.


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


_DE_PLACES = ("Berlin", "Brüssel", "Düsseldorf", "Köln", "Hamburg", "München", "Hannover")
_EN_PLACES = ("London", "Brussels", "Berlin", "Washington", "Paris", "Frankfurt", "New York")

_TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "election",
        _arc_election,
        _Vocab(
            titles=(
                "Landtagswahl: {Ac} setzt im Wahlkampf auf {N}",
                "Umfrage vor der Landtagswahl: Knappes Rennen, Streit über {N}",
                "TV-Duell: Schlagabtausch über {N} und {N2}",
                "Wahlkampf in {P}: Worum es bei {Nd} wirklich geht",
                "Nach der Landtagswahl: Sondierungen über {N} beginnen",
                "Landtagswahl: Was die Parteien zu {Nd} versprechen",
            ),
            nouns=_w(
                "Wahlprogramme | Koalitionsoptionen | Umfragewerte | Direktmandate | "
                "Spitzenkandidaten | Briefwahlunterlagen | Sondierungen | Wahlplakate | "
                "Koalitionsverhandlungen | Wahlversprechen"
            ),
            actors=_w(
                "die Landesregierung | die Opposition | der Ministerpräsident | die "
                "Spitzenkandidatin der Grünen | der Landeswahlleiter | die CDU-Fraktion | die "
                "SPD-Landesvorsitzende"
            ),
            places=("Düsseldorf", "Hannover", "Mainz", "Erfurt", "Magdeburg"),
            sentences=(
                "Die Wahllokale öffnen um 8 Uhr und schließen um 18 Uhr.",
                "Laut der jüngsten Umfrage liegen die beiden großen Parteien nur {z} Punkte "
                "auseinander.",
                "Rund {Z} Prozent der Wahlberechtigten haben bereits per Briefwahl abgestimmt.",
                "Im Wahlkampf spielen {N} eine größere Rolle als erwartet.",
                "Am Wahlabend war die Stimmung in der Parteizentrale eher gedämpft.",
                "Die Wahlbeteiligung lag nach ersten Hochrechnungen bei {Z} Prozent.",
                "Die kleineren Parteien müssen um den Einzug in den Landtag bangen.",
            ),
            hashtags=("#Landtagswahl", "#Wahlkampf", "#Umfrage", "#Koalition", "#TVDuell"),
            categories=("Landtagswahl", "Wahlen", "Parteien"),
        ),
        _Vocab(
            titles=(
                "German state election: {Ac} bets on {N}",
                "Germany's regional vote: what is at stake for {N}",
                "Tight race ahead of German state election as {N} dominate",
                "After the vote: coalition talks over {N} begin",
            ),
            nouns=_w(
                "coalition options | polling numbers | turnout figures | campaign promises | postal"
                " ballots | coalition talks | party manifestos"
            ),
            actors=_w(
                "the state premier | the opposition | the conservative candidate | the Green "
                "party leadership | the election commission"
            ),
            places=("Düsseldorf", "Hanover", "Berlin", "Mainz"),
            sentences=(
                "Polls open at 8 a.m. and close at 6 p.m. local time.",
                "The latest poll puts the two largest parties just {z} points apart.",
                "Turnout was estimated at {Z} percent in early projections.",
                "Campaigning has focused on {N} more than many had expected.",
            ),
            hashtags=("#GermanElection", "#Election", "#Germany", "#Coalition"),
            categories=("Elections", "Germany", "Europe"),
        ),
    ),
    _Topic(
        "trade",
        _arc_trade,
        _Vocab(
            titles=(
                "Zollstreit: {Ac} droht mit Gegenmaßnahmen",
                "Handelskonflikt mit den USA: Was Strafzölle für {N} bedeuten",
                "EU und USA verhandeln über {N}",
                "Zollstreit verschärft sich – Exporteure in {P} in Sorge",
                "Neue Zölle: Wirtschaft schlägt Alarm wegen {N}",
            ),
            nouns=_w(
                "Strafzölle | Stahlexporte | Autoexporte | Gegenzölle | Lieferketten | "
                "Handelsabkommen | Importquoten | Agrarprodukte | Ausnahmeregelungen | "
                "Exportzahlen"
            ),
            actors=_w(
                "die EU-Kommission | das Wirtschaftsministerium | der Handelsbeauftragte der USA "
                "| der Industrieverband | die Bundesregierung | die Handelskammer"
            ),
            places=("Brüssel", "Washington", "Wolfsburg", "Genf", "Hamburg"),
            sentences=(
                "Die USA hatten zuvor Zölle von {Z} Prozent auf europäische Waren angekündigt.",
                "Besonders betroffen wären die Autoindustrie und der Maschinenbau.",
                "Brüssel will bis Ende des Monats eine Liste mit Gegenmaßnahmen vorlegen.",
                "Ökonomen warnen vor einer Spirale aus Zöllen und Gegenzöllen.",
                "Die Aktien der großen Exporteure gaben am {W} deutlich nach.",
            ),
            hashtags=("#Zollstreit", "#Handelskonflikt", "#Zölle", "#Trump", "#EU", "#Freihandel"),
            categories=("Wirtschaft", "Handel", "Zollstreit"),
        ),
        _Vocab(
            titles=(
                "Trade dispute: {Ac} threatens countermeasures",
                "EU and US clash over {N}",
                "Tariff fight escalates as exporters in {P} brace for impact",
                "What new tariffs mean for {N}",
                "Markets wobble as trade talks over {N} stall",
            ),
            nouns=_w(
                "steel tariffs | car exports | retaliatory tariffs | supply chains | import "
                "quotas | farm goods | trade agreements | export numbers"
            ),
            actors=_w(
                "the European Commission | the US trade representative | the White House | the "
                "industry lobby | Brussels"
            ),
            places=("Brussels", "Washington", "Geneva", "Detroit", "Rotterdam"),
            sentences=(
                "Washington had announced tariffs of {Z} percent on European goods.",
                "Carmakers and machine builders would be hit hardest.",
                "Economists warn of a spiral of tariffs and counter-tariffs.",
                "Shares in exporters fell sharply on the news.",
            ),
            hashtags=("#TradeWar", "#Tariffs", "#Trump", "#EU", "#Trade"),
            categories=("Trade", "Markets", "Economy"),
        ),
    ),
    _Topic(
        "peace",
        _arc_peace,
        _Vocab(
            titles=(
                "Friedensgespräche in {P}: {Ac} sieht Bewegung",
                "Waffenruhe in Reichweite? Streit über {N} bleibt",
                "Ukraine-Konflikt: Neue Runde der Friedensgespräche in {P}",
                "Diplomatie im Ukraine-Krieg: Was über {N} bekannt ist",
                "Friedensprozess: Warum {N} alles blockieren",
            ),
            nouns=_w(
                "Sicherheitsgarantien | Gebietsfragen | Gefangenenlisten | Waffenlieferungen |"
                " Sanktionen | Verhandlungen | Friedenstruppen | Grenzlinien"
            ),
            actors=_w(
                "der US-Präsident | der Kreml | die ukrainische Regierung | die Bundesregierung |"
                " die NATO | der Außenminister | die EU-Außenbeauftragte"
            ),
            places=("Genf", "Istanbul", "Kiew", "Moskau", "Washington", "Riad"),
            sentences=(
                "Die Gespräche in {P} sollen nach Angaben von Diplomaten mehrere Tage dauern.",
                "Ein Durchbruch gilt als unwahrscheinlich, doch beide Seiten sprechen von "
                "konstruktiven Gesprächen.",
                "Zentrale Streitpunkte sind weiterhin {N} und {N2}.",
                "Kiew besteht auf Sicherheitsgarantien, bevor es einer Waffenruhe zustimmt.",
                "Moskau stellt dagegen eigene Bedingungen für einen Waffenstillstand.",
            ),
            hashtags=_w(
                "#Friedensgespräche | #UkraineKonflikt | #Waffenstillstand | #Diplomatie | #Putin"
                " | #Trump | #Selenskyj | #Außenpolitik"
            ),
            categories=("Ausland", "Ukraine", "Diplomatie"),
        ),
        _Vocab(
            titles=(
                "Peace talks in {P}: {Ac} sees movement",
                "Ceasefire within reach? Dispute over {N} remains",
                "Ukraine war: new round of peace talks opens in {P}",
                "What we know about {N} in the peace negotiations",
            ),
            nouns=_w(
                "security guarantees | territorial questions | prisoner exchanges | arms "
                "deliveries | sanctions | ceasefire lines | peacekeeping forces"
            ),
            actors=_w(
                "the US president | the Kremlin | the Ukrainian government | NATO | the foreign "
                "minister | the EU's top diplomat"
            ),
            places=("Geneva", "Istanbul", "Kyiv", "Riyadh", "Washington"),
            sentences=(
                "Diplomats said the talks in {P} could last several days.",
                "A breakthrough is considered unlikely, but both sides describe the talks as "
                "constructive.",
                "The main sticking points remain {N} and {N2}.",
                "Kyiv insists on security guarantees before agreeing to a ceasefire.",
            ),
            hashtags=("#PeaceTalks", "#Ukraine", "#Ceasefire", "#Diplomacy", "#Putin", "#Trump"),
            categories=("World", "Ukraine", "Diplomacy"),
        ),
    ),
    _Topic(
        "storm",
        _arc_storm,
        _Vocab(
            titles=(
                "Sturmtief Marit: Hochwasser in {P} steigt weiter",
                "Unwetter: Feuerwehr im Dauereinsatz, Sorge um {N}",
                "Nach dem Hochwasser: Streit über {N}",
                "Pegelstände sinken – Aufräumarbeiten in {P} beginnen",
                "Hochwasserhilfe: Land verspricht {Z} Millionen Euro",
            ),
            nouns=_w(
                "Pegelstände | Deichschäden | Evakuierungen | Soforthilfen | Sandsäcke | "
                "Stromausfälle | Überschwemmungen | Versicherungsschäden | Schutzmauern"
            ),
            actors=_w(
                "der Deutsche Wetterdienst | die Feuerwehr | der Krisenstab | das Technische "
                "Hilfswerk | die Landesregierung | der Bürgermeister"
            ),
            places=("Köln", "Koblenz", "Bonn", "Trier", "Passau", "Neuwied"),
            sentences=(
                "Der Pegel erreichte am {W} den höchsten Stand seit vielen Jahren.",
                "Hunderte Einsatzkräfte füllten die ganze Nacht Sandsäcke.",
                "Der Deutsche Wetterdienst warnt vor weiteren Starkregenfällen.",
                "Mehrere Straßen und Bahnstrecken sind weiterhin gesperrt.",
                "Viele Keller in der Altstadt stehen unter Wasser.",
            ),
            hashtags=("#Hochwasser", "#Unwetter", "#SturmtiefMarit", "#Starkregen"),
            categories=("Unwetter", "Hochwasser", "Panorama"),
        ),
        _Vocab(
            titles=(
                "Storm Marit: flooding in {P} worsens",
                "Floods in Germany: {Ac} warns of {N}",
                "Insurers count the cost of Storm Marit",
                "After the floods: clean-up begins in {P}",
            ),
            nouns=_w(
                "water levels | flood defences | evacuations | power cuts | insurance claims | "
                "emergency funds | damaged roads"
            ),
            actors=_w(
                "the weather service | the fire brigade | the regional government | the insurance"
                " industry | the mayor"
            ),
            places=("Cologne", "Koblenz", "Bonn", "Passau", "Rotterdam"),
            sentences=(
                "Hundreds of volunteers filled sandbags through the night.",
                "Forecasters warned of more heavy rain over the weekend.",
                "Several roads and rail lines remain closed.",
                "Insurers estimate the damage at around {Z} million euros.",
            ),
            hashtags=("#Flooding", "#StormMarit", "#Germany", "#Weather"),
            categories=("Weather", "Europe", "Insurance"),
        ),
    ),
    _Topic(
        "launch",
        _arc_launch,
        _Vocab(
            titles=(
                "Quantix Nova X: Erster Eindruck vom neuen Smartphone",
                "Helix-Chip im Test: Wie gut sind {N}?",
                "Quantix stellt Nova X vor – das ist neu bei {Nd}",
                "Lieferprobleme beim Nova X: Kunden warten auf {N}",
                "Nova X: Datenschützer kritisieren {N}",
            ),
            nouns=_w(
                "KI-Funktionen | Akkulaufzeiten | Kamerasensoren | Vorbestellungen | Lieferzeiten"
                " | Preise | Sicherheitsupdates | Prozessoren | Displays"
            ),
            actors=_w(
                "Quantix | der Hersteller | die Verbraucherzentrale | ein Quantix-Sprecher | die "
                "Konkurrenz"
            ),
            places=("San Francisco", "München", "Berlin", "Shenzhen"),
            sentences=(
                "Das Nova X kostet in der Grundausstattung 999 Euro.",
                "Im Benchmark lag der Helix-Chip deutlich vor dem Vorgänger.",
                "Die Vorbestellungen übertrafen nach Herstellerangaben alle Erwartungen.",
                "Kritik gibt es an der Cloud-Pflicht für einige KI-Funktionen.",
                "Ein Software-Update soll erste Fehler bereits beheben.",
            ),
            hashtags=("#NovaX", "#Quantix", "#Smartphone", "#KI", "#HelixChip"),
            categories=("Technik", "Smartphones", "Hardware"),
        ),
        _Vocab(
            titles=(
                "Quantix Nova X hands-on: first impressions",
                "Inside the Helix chip: how good are the {N}?",
                "Quantix unveils the Nova X with new {N}",
                "Nova X shipping delays frustrate early buyers",
                "Privacy advocates question {N} on the Nova X",
            ),
            nouns=_w(
                "AI features | battery tests | camera sensors | pre-orders | shipping times | "
                "prices | security updates | benchmarks | display panels"
            ),
            actors=_w(
                "Quantix | the manufacturer | one reviewer | a Quantix spokesperson | a rival "
                "phone maker"
            ),
            places=("San Francisco", "Shenzhen", "London", "Austin"),
            sentences=(
                "The Nova X starts at 999 dollars in its base configuration.",
                "In our benchmarks the Helix chip comfortably beat its predecessor.",
                "Pre-orders exceeded expectations, according to the company.",
                "Some AI features only work with a cloud account, which has drawn criticism.",
            ),
            hashtags=("#NovaX", "#Quantix", "#Smartphone", "#AI", "#Gadgets"),
            categories=("Hardware", "Mobile", "Reviews"),
        ),
    ),
    _Topic(
        "tournament",
        _arc_tournament,
        _Vocab(
            titles=(
                "Nations Cup: Nationalmannschaft zieht ins Viertelfinale ein",
                "Nach dem Aus im Halbfinale: Debatte über {N}",
                "Bundestrainer setzt im Nations Cup auf {N}",
                "Public Viewing in {P}: Tausende Fans feiern die Mannschaft",
            ),
            nouns=_w(
                "Aufstellungen | Elfmeterschießen | Nachwuchsspieler | Fanmeilen | Torchancen | "
                "Verletzungssorgen | Ticketpreise"
            ),
            actors=("der Bundestrainer", "der Verband", "die Mannschaft", "der Kapitän"),
            places=("Dortmund", "München", "Leipzig", "Gelsenkirchen", "Köln"),
            sentences=(
                "Das Spiel wurde vor ausverkauftem Haus angepfiffen.",
                "Vor allem in der zweiten Halbzeit fehlte es an Ideen.",
                "Zehntausende Fans verfolgten die Partie beim Public Viewing.",
                "Der Kapitän sprach nach dem Abpfiff von einer bitteren Niederlage.",
            ),
            hashtags=("#NationsCup", "#Nationalmannschaft", "#Fußball"),
            categories=("Sport", "Fußball"),
        ),
        _Vocab(
            titles=(
                "Nations Cup: hosts reach the quarter-finals",
                "After the semi-final exit, questions over {N}",
                "Fans pack fan zones in {P}",
                "Nations Cup final: what to expect",
            ),
            nouns=_w(
                "line-ups | penalty shoot-outs | young players | fan zones | injury worries | "
                "ticket prices"
            ),
            actors=("the head coach", "the football association", "the team", "the captain"),
            places=("Dortmund", "Munich", "Leipzig", "Cologne"),
            sentences=(
                "The match kicked off in front of a sold-out stadium.",
                "Tens of thousands of fans watched the game in public viewing areas.",
                "The captain called it a bitter defeat after the final whistle.",
            ),
            hashtags=("#NationsCup", "#Football", "#Soccer"),
            categories=("Sport", "Football"),
        ),
    ),
    _Topic(
        "energy",
        _arc_energy,
        _Vocab(
            titles=(
                "Energiepreise: {Ac} kündigt Entlastung an",
                "Heizkosten steigen – was Verbraucher über {N} wissen müssen",
                "Netzentgelte und {N}: Streit um die Energiewende",
                "Gasspeicher gut gefüllt, aber {N} bleiben ein Risiko",
            ),
            nouns=_w(
                "Heizkosten | Strompreise | Netzentgelte | Gasspeicher | Wärmepumpen | "
                "Stromtrassen | Förderprogramme | Energiekosten"
            ),
            actors=_w(
                "die Bundesnetzagentur | das Wirtschaftsministerium | die Verbraucherzentrale | "
                "ein großer Energieversorger | der Bundesrat"
            ),
            places=_DE_PLACES,
            sentences=(
                "Die Gasspeicher sind derzeit zu {Z} Prozent gefüllt.",
                "Für einen Vierpersonenhaushalt könnten die Mehrkosten bei mehreren hundert Euro "
                "im Jahr liegen.",
                "Verbraucherschützer raten dazu, Tarife regelmäßig zu vergleichen.",
            ),
            hashtags=("#Energiepreise", "#Energiewende", "#Heizkosten", "#Strompreis"),
            categories=("Energie", "Wirtschaft", "Verbraucher"),
        ),
        _Vocab(
            titles=(
                "Energy prices: {Ac} promises relief",
                "Why {N} are keeping bills high",
                "Gas storage is full, but {N} remain a risk",
            ),
            nouns=_w(
                "heating bills | electricity prices | grid fees | gas reserves | heat pumps | "
                "power lines | subsidy schemes"
            ),
            actors=_w(
                "the energy regulator | the economy ministry | a consumer group | a large utility"
                " | the government"
            ),
            places=_EN_PLACES,
            sentences=(
                "Gas storage facilities are currently {Z} percent full.",
                "For a typical household the extra cost could run to several hundred euros a year.",
            ),
            hashtags=("#Energy", "#EnergyPrices", "#GasPrices"),
            categories=("Energy", "Economy"),
        ),
    ),
    _Topic(
        "climate",
        _arc_flat,
        _Vocab(
            titles=(
                "Klimaschutz: {Ac} legt Plan für {N} vor",
                "Klimabericht: {N} reichen nicht aus",
                "Hitzesommer und Dürre: Bauern fordern {N}",
            ),
            nouns=_w(
                "Klimaziele | Emissionen | CO2-Preise | Dürreschäden | Aufforstungsprogramme | "
                "Solaranlagen | Klimaanpassungen"
            ),
            actors=_w(
                "das Umweltbundesamt | die Klimaschutzministerin | der Bauernverband | ein "
                "Umweltverband | der Expertenrat für Klimafragen"
            ),
            places=_DE_PLACES,
            sentences=(
                "Die Emissionen sind im vergangenen Jahr um {z} Prozent gesunken.",
                "Umweltverbände halten die Maßnahmen für unzureichend.",
                "Der Sommer war einer der trockensten seit Beginn der Aufzeichnungen.",
            ),
            hashtags=("#Klimaschutz", "#Klimakrise", "#Dürre", "#Klimawandel"),
            categories=("Klima", "Umwelt"),
        ),
        _Vocab(
            titles=(
                "Climate targets: {Ac} unveils plan for {N}",
                "New report says {N} fall short",
                "Drought and heat: farmers call for {N}",
            ),
            nouns=_w(
                "climate targets | emissions | carbon prices | drought measures | solar "
                "installations | reforestation schemes"
            ),
            actors=_w(
                "the environment agency | a group of climate scientists | the farmers' union | a "
                "campaign group | the climate council"
            ),
            places=_EN_PLACES,
            sentences=(
                "Emissions fell by {z} percent last year.",
                "Campaigners say the measures do not go far enough.",
                "This summer was among the driest since records began.",
            ),
            hashtags=("#Climate", "#ClimateCrisis", "#Drought", "#NetZero"),
            categories=("Climate", "Environment", "Science"),
        ),
    ),
    _Topic(
        "ai",
        _arc_flat,
        _Vocab(
            titles=(
                "KI-Verordnung: {Ac} sieht Lücken bei {Nd}",
                "Künstliche Intelligenz in Behörden: Was {N} bedeuten",
                "Sprachmodelle im Alltag: Datenschützer prüfen {N}",
            ),
            nouns=_w(
                "Sprachmodelle | Trainingsdaten | Transparenzpflichten | Urheberrechte | "
                "Überwachungskameras | Rechenzentren | KI-Assistenten"
            ),
            actors=_w(
                "die Datenschutzbeauftragte | ein Digitalverband | das Digitalministerium | die "
                "EU-Kommission | ein Forschungsteam"
            ),
            places=_DE_PLACES,
            sentences=(
                "Die KI-Verordnung der EU tritt schrittweise in Kraft.",
                "Datenschützer fordern mehr Transparenz bei den Trainingsdaten.",
                "Viele Unternehmen testen KI-Assistenten bereits im Kundenservice.",
            ),
            hashtags=("#KI", "#KünstlicheIntelligenz", "#AIAct", "#Datenschutz"),
            categories=("Digitales", "KI", "Netzpolitik"),
        ),
        _Vocab(
            titles=(
                "AI Act: {Ac} warns about {N}",
                "How {N} are changing software development",
                "Regulators take a closer look at {N}",
            ),
            nouns=_w(
                "language models | training datasets | transparency rules | copyright claims |"
                " facial recognition systems | data centres | AI assistants | open-weight models"
            ),
            actors=_w(
                "the regulator | the European Commission | one developer | a research team | a "
                "privacy group"
            ),
            places=_EN_PLACES,
            sentences=(
                "The EU AI Act is coming into force in stages.",
                "Privacy advocates want more transparency about training data.",
                "Many companies are already testing AI assistants in customer service.",
            ),
            hashtags=("#AI", "#AIAct", "#MachineLearning", "#Privacy"),
            categories=("AI", "Policy", "Software"),
        ),
    ),
    _Topic(
        "health",
        _arc_flat,
        _Vocab(
            titles=(
                "Krankenhausreform: {Ac} verteidigt Pläne für {N}",
                "Grippewelle: Praxen klagen über {N}",
                "Pflege: Streit über {N} geht weiter",
            ),
            nouns=_w(
                "Krankenhausschließungen | Wartezeiten | Pflegekosten | Impfungen | Notaufnahmen "
                "| Zusatzbeiträge | Fachkräfte"
            ),
            actors=_w(
                "der Gesundheitsminister | die Krankenkasse | die Ärztekammer | der Sozialverband"
                " | das Gesundheitsamt"
            ),
            places=_DE_PLACES,
            sentences=(
                "Die Zusatzbeiträge der Krankenkassen dürften erneut steigen.",
                "Viele Praxen berichten von langen Wartezeiten.",
                "In der Pflege fehlen nach Schätzungen Zehntausende Fachkräfte.",
            ),
            hashtags=("#Gesundheit", "#Pflege", "#Krankenhausreform"),
            categories=("Gesundheit", "Soziales"),
        ),
        None,
    ),
    _Topic(
        "transport",
        _arc_flat,
        _Vocab(
            titles=(
                "Deutschlandticket: Streit über {N} geht weiter",
                "Baustellen auf der A3: Pendler müssen mit {Nd} rechnen",
                "Bahnstreik: Was Reisende über {N} wissen müssen",
            ),
            nouns=_w(
                "Zugausfälle | Baustellen | Ticketpreise | Brückensanierungen | Radwege | "
                "Verspätungen | Umleitungen"
            ),
            actors=_w(
                "die Bahn | der Verkehrsminister | die Lokführergewerkschaft | der "
                "Verkehrsverbund | die Stadtverwaltung"
            ),
            places=("Köln", "Bonn", "Koblenz", "Neuwied", "Andernach"),
            sentences=(
                "Pendler müssen sich auf längere Fahrzeiten einstellen.",
                "Die Sanierung der Brücke soll bis zum Frühjahr dauern.",
                "Der Verkehrsverbund kündigte zusätzliche Busse an.",
            ),
            hashtags=("#Verkehr", "#Bahn", "#Deutschlandticket", "#Pendeln"),
            categories=("Verkehr", "Region"),
        ),
        None,
    ),
    _Topic(
        "culture",
        _arc_flat,
        None,
        _Vocab(
            titles=(
                "Review: a quiet, devastating novel about {N}",
                "The museum show that rethinks {N}",
                "Why {N} are having a moment",
                "Festival season: {N} steal the show in {P}",
            ),
            nouns=_w(
                "debut novels | modern ruins | concert halls | street photographers | film "
                "festivals | archival recordings | public libraries | graphic novels"
            ),
            actors=("the curator", "the author", "one critic", "the festival director"),
            places=("London", "Berlin", "Venice", "Edinburgh", "New York", "Toronto"),
            sentences=(
                "The exhibition runs until the end of next month.",
                "It is a book that rewards patience.",
                "The audience rose to its feet before the final note had faded.",
                "Tickets sold out within hours.",
            ),
            hashtags=("#Books", "#Art", "#Film", "#Music"),
            categories=("Culture", "Books", "Arts"),
        ),
    ),
    _Topic(
        "science",
        _arc_flat,
        None,
        _Vocab(
            titles=(
                "Scientists map {N} in unprecedented detail",
                "What {N} tell us about the early universe",
                "A new study on {N} raises more questions than answers",
                "Inside the lab studying {N}",
            ),
            nouns=_w(
                "deep-sea microbes | exoplanet atmospheres | ancient genomes | gravitational "
                "waves | coral reefs | sleep cycles | bird migration routes | quantum sensors"
            ),
            actors=("the research team", "the lead author", "one astronomer", "the space agency"),
            places=("Cambridge", "Geneva", "Hawaii", "Cape Town", "Boston"),
            sentences=(
                "The findings were published in a peer-reviewed journal this week.",
                "The researchers caution that the sample size is still small.",
                "Further observations are planned for next year.",
                "It is the first time this has been measured directly.",
            ),
            hashtags=("#Science", "#Space", "#Biology", "#Research"),
            categories=("Science", "Research"),
        ),
    ),
)
_TOPIC_BY_KEY = {topic.key: topic for topic in _TOPICS}

_DE_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Topic-independent sentences full of ordinary function words (so stopword removal matters).
_GENERIC: dict[str, tuple[str, ...]] = {
    "de": (
        "{Ac} hat am {W} erneut Stellung zu {Nd} bezogen.",
        "Nach Angaben aus {P} ist bei {Nd} noch keine Entscheidung gefallen.",
        "Bei {Nd} sind sich die Beteiligten nach wie vor nicht einig.",
        "Die Debatte über {N} und {N2} dürfte in den kommenden Wochen weitergehen.",
        "Wie es aus Kreisen in {P} hieß, soll es schon bald weitere Gespräche geben.",
        "Kritiker halten das für zu wenig, denn bei {Nd} sei bislang kaum etwas passiert.",
        "Insgesamt geht es um rund {Z} Millionen Euro, die für {N} eingeplant sind.",
        "Das ist nicht das erste Mal, dass {A} in dieser Frage unter Druck gerät.",
        "Ob es dabei bleibt, ist allerdings noch offen.",
        "Auch in {P} wird die Entwicklung aufmerksam verfolgt.",
        "Eine Umfrage zeigt, dass {Z} Prozent der Befragten {N} für wichtig halten.",
        "Dabei hatte {A} noch vor wenigen Tagen ganz anders geklungen.",
        "Für die kommende Woche ist ein weiteres Treffen in {P} geplant.",
        "Man wolle die Sorgen der Menschen ernst nehmen, sagte eine Sprecherin.",
        "Über {N} wird seit Monaten gestritten, eine Lösung ist aber nicht in Sicht.",
        "{Ac} kündigte an, die Vorschläge zu {Nd} genau zu prüfen.",
        "Ein Sprecher sagte, man sei mit dem bisherigen Verlauf nicht zufrieden.",
        "Es ist noch nicht klar, wie sich das auf {N} auswirken wird.",
        "Für {W} ist dazu eine Sondersitzung angesetzt.",
        "Was das für die Bürgerinnen und Bürger bedeutet, ist derzeit noch schwer abzuschätzen.",
        "Fest steht nur, dass {N} auch in den nächsten Monaten auf der Tagesordnung stehen.",
        "Bereits im Frühjahr hatte {A} vor den Folgen gewarnt.",
        "In {P} gingen am Wochenende mehrere hundert Menschen auf die Straße.",
        "Beobachter rechnen damit, dass sich die Lage erst im Frühjahr entspannt.",
        "„Wir sind noch lange nicht am Ziel“, hieß es am {W} in {P}.",
        "Die Zahlen für das vergangene Quartal fielen besser aus, als viele erwartet hatten.",
        "Am Ende wird viel davon abhängen, wie {A} reagiert.",
        "Es gibt aber auch Stimmen, die in {Nd} eine Chance sehen.",
        "Vor allem {N} und {N2} sorgen für Unmut.",
        "Seit Wochen wird über {N} diskutiert, zuletzt auch im Parlament.",
        "Mit {Nd} befasst sich am {W} auch ein Ausschuss.",
        "Die Kosten für {N} sind deutlich höher als geplant.",
        "Neue Zahlen zu {Nd} sollen Ende des Monats vorliegen.",
        "{Ac} räumte Fehler bei {Nd} ein.",
        "Wer sich mit {Nd} beschäftigt, stößt schnell auf {N2}.",
        "Gerade bei {Nd} gehen die Meinungen weit auseinander.",
        "Ein Gutachten zu {Nd} liegt der Redaktion vor.",
        "Die Verbände fordern mehr Geld für {N}.",
        "{Ac} will {N} und {N2} zügig angehen.",
        "Zuletzt hatten sich {N} spürbar verändert.",
    ),
    "en": (
        "{Ac} returned to the question of {N} on {W}.",
        "Officials in {P} said no decision on {N} had been taken yet.",
        "There is still no agreement on {N}, and the talks could drag on for weeks.",
        "The debate over {N} and {N2} is likely to continue into next month.",
        "According to people familiar with the matter, further meetings are planned in {P}.",
        "Critics say that is not enough, because very little has happened on {N} so far.",
        "Around {Z} million dollars have been set aside for {N}.",
        "It is not the first time that {A} has come under pressure on this issue.",
        "Whether that will hold remains to be seen.",
        "The developments are being watched closely in {P} as well.",
        "A recent survey found that {Z} percent of respondents consider {N} important.",
        "Only a few days ago, {A} had sounded rather different.",
        "Another meeting is scheduled for next week in {P}.",
        "A spokesperson said they were not satisfied with how things had gone so far.",
        "It is not yet clear what this will mean for {N}.",
        "{Ac} said it would look carefully at the proposals on {N}.",
        "What this means for ordinary households is still hard to say.",
        "One thing is certain: {N} will remain on the agenda for months.",
        "As early as spring, {A} had warned about the consequences.",
        "Several hundred protesters gathered in {P} over the weekend.",
        "Observers expect the situation to ease only next year.",
        "But there are also those who see an opportunity in {N}.",
        "The figures for the past quarter were better than many had expected.",
        "That would have been unthinkable just a year ago.",
        "In the end, much will depend on how {A} responds.",
        "Above all, {N} and {N2} have caused frustration.",
        "{Nc} have been debated for weeks, most recently in parliament.",
        "A committee is due to look at {N} on {W}.",
        "The cost of {N} is well above what was planned.",
        "New figures on {N} are expected at the end of the month.",
        "{Ac} admitted mistakes over {N}.",
        "Anyone looking into {N} soon runs into {N2}.",
        "Opinions on {N} differ widely.",
        "A report on {N} has been seen by this publication.",
        "Industry groups are calling for more money for {N}.",
        "{Ac} wants to tackle {N} and {N2} quickly.",
        "{Nc} have changed noticeably in recent months.",
        "“We are nowhere near the finish line,” one of them said in {P} on {W}.",
    ),
}

_WIX_HASHTAGS = (
    "#Frieden",
    "#Außenpolitik",
    "#Geopolitik",
    "#Diplomatie",
    "#Trump",
    "#Putin",
    "#Selenskyj",
    "#NATO",
    "#EU",
    "#USA",
    "#Russland",
    "#Ukraine",
    "#UkraineKonflikt",
    "#Friedensgespräche",
    "#Sicherheitspolitik",
    "#Meinung",
    "#Politik",
    "#Deutschland",
)

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
    zone: str  # "berlin", "london", "new_york": local clock for the publishing rhythm
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


def _weights(spec: str) -> dict[str, float]:
    """Parse "key:weight key:weight ..." (keeps the source table compact)."""
    pairs = (part.split(":") for part in spec.split())
    return {key: float(value) for key, value in pairs}


def _hours(spec: str) -> tuple[float, ...]:
    """24 hourly weights from "hour:weight ..."; hours not named get 0."""
    weights = _weights(spec)
    return tuple(weights.get(str(hour), 0.0) for hour in range(24))


_SOURCES: tuple[_Source, ...] = (
    _Source(
        filename="nachrichten-politik.rss.xml",
        feed_url="https://nachrichten.example.de/politik/feed/",
        site="https://nachrichten.example.de",
        title="Nachrichten Beispielstadt – Politik",
        description="Aktuelle Nachrichten aus Politik, Wirtschaft und Gesellschaft",
        kind="wordpress",
        lang="de",
        zone="berlin",
        rate=5.3,
        weekdays=(1.0, 1.05, 1.0, 1.0, 0.95, 0.5, 0.42),
        hours=_hours("6:2 7:5 8:6 9:5 10:4 11:4 12:5 13:5 14:4 15:4 16:4 17:5 18:5 19:4 20:3 21:2"),
        topics=_weights(
            "election:2.5 trade:1.8 peace:2.5 storm:1.5 tournament:0.5 launch:0.2 energy:1 "
            "climate:0.8 ai:0.4 health:0.7 transport:0.4"
        ),
        authors=(
            "Katrin Albers",
            "Martin Oberholz",
            "Sabine Reuter",
            "Jonas Feldmann",
            "Aylin Demir",
            "Thomas Brenner",
            "Lea Hoffmann",
            "Redaktion",
        ),
        words=(150, 240),
        extra={"election_day_bump": 1.0},
    ),
    _Source(
        filename="klartext-blog.blog-feed.xml",
        feed_url="https://www.klartext-blog.example.de/blog-feed.xml",
        site="https://www.klartext-blog.example.de",
        title="Klartext – Gedanken zu Frieden und Politik",
        description="Ein unabhängiger Blog über Außenpolitik, Diplomatie und Frieden",
        kind="wix",
        lang="de",
        zone="berlin",
        rate=0.24,
        weekdays=(0.6, 0.6, 0.8, 0.7, 0.9, 1.3, 1.7),
        hours=_hours("17:1 18:2 19:4 20:5 21:5 22:3 23:1"),
        topics=_weights("peace:6 trade:1.5 election:0.8 energy:0.8"),
        authors=("Bernd Kallweit", "Gisela Kallweit", "Gastbeitrag"),
        words=(450, 900),
        flavour=(
            "Ich frage mich, warum darüber so wenig gesprochen wird.",
            "Man muss kein Experte sein, um zu sehen, dass hier etwas schiefläuft.",
            "Was wir brauchen, ist endlich ehrliche Diplomatie statt immer neuer Eskalation.",
            "Schreibt mir gerne eure Meinung in die Kommentare!",
            "Die großen Medien berichten darüber kaum, aber das sollte uns nicht davon "
            "abhalten, selbst nachzudenken.",
            "Es geht hier nicht um Parteien, es geht um den Frieden in Europa.",
            "Ich habe in den letzten Tagen viele Zuschriften zu diesem Thema bekommen.",
        ),
        own_titles=(
            "Kommentar: Warum {N} jetzt auf den Tisch gehören",
            "Gedanken zum Wochenende: {N} und die Frage nach dem Frieden",
            "Offener Brief: Mehr Mut bei {Nd}",
            "Was die Medien über {N} verschweigen",
            "Frieden braucht Mut – ein paar Gedanken über {N}",
        ),
    ),
    _Source(
        filename="circuit-notes.atom.xml",
        feed_url="https://circuitnotes.example.com/feed.atom",
        site="https://circuitnotes.example.com",
        title="Circuit Notes",
        description="Notes on hardware, software and the people who make them",
        kind="atom",
        lang="en",
        zone="london",
        rate=0.32,
        weekdays=(0.8, 0.9, 0.9, 1.0, 0.8, 1.3, 1.1),
        hours=_hours("12:1 13:2 14:1 18:1 19:2 20:4 21:5 22:4 23:2"),
        topics=_weights("launch:4 ai:3 trade:0.5 climate:0.3"),
        authors=("Priya Natarajan", "Sam Whitfield", "Ola Berg"),
        words=(400, 900),
        flavour=(
            "I spent the last week poking at this, and here is what I found.",
            "Your mileage may vary, of course.",
            "If you have thoughts, you know where to find me.",
            "Here is the short version for those in a hurry.",
            "I have been wrong about this sort of thing before, so take it with a grain of salt.",
        ),
    ),
    _Source(
        filename="ledger-business.rss.xml",
        feed_url="https://www.theledger.example.com/business/rss.xml",
        site="https://www.theledger.example.com",
        title="The Ledger – Business",
        description="Business, markets and economy news from The Ledger",
        kind="business",
        lang="en",
        zone="london",
        rate=1.1,
        weekdays=(1.0, 1.05, 1.0, 1.0, 0.9, 0.1, 0.08),
        hours=_hours("7:3 8:5 9:5 10:4 11:4 12:3 13:4 14:5 15:4 16:3 17:3 18:2 19:1"),
        topics=_weights("trade:4 energy:2 launch:0.8 ai:1 peace:0.5 storm:0.6 election:0.4"),
        authors=(
            "Helen Marsh",
            "David Okonjo",
            "Rachel Kim",
            "Owen Price",
            "Fatima Rahman",
            "Lucas Grant",
        ),
        words=(150, 350),
    ),
    _Source(
        filename="rheinland-bote.rss.xml",
        feed_url="https://www.rheinland-bote.example.de/rss/region.xml",
        site="https://www.rheinland-bote.example.de",
        title="Rheinland-Bote – Region",
        description="Nachrichten aus Koblenz, Neuwied und dem nördlichen Rheinland",
        kind="regional",
        lang="de",
        zone="berlin",
        rate=1.1,
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.15),
        hours=_hours("4:1 5:6 6:8 7:5 8:3 9:2 10:2 11:2 12:1 13:1 14:2 15:2 16:2 17:2 18:1 19:1"),
        topics=_weights("storm:4 election:2.5 transport:2 tournament:1.2 health:1 energy:1"),
        authors=(
            "Ursula Kemper",
            "Jan-Philipp Roth",
            "Miriam Lenz",
            "Holger Wirtz",
            "Nina Sauer",
        ),
        words=(180, 500),
        coauthor_rate=0.3,
        silent_days=21,
        flavour=(
            "Die Stadtverwaltung bittet die Bürgerinnen und Bürger um Geduld.",
            "Weitere Informationen gibt es auf der Internetseite der Stadt.",
            "Im Rathaus will man das Thema in der nächsten Ratssitzung erneut aufgreifen.",
        ),
    ),
    _Source(
        filename="lantern-review.rss.xml",
        feed_url="https://lanternreview.example.org/feed/",
        site="https://lanternreview.example.org",
        title="The Lantern Review",
        description="Culture and science, slowly",
        kind="magazine",
        lang="en",
        zone="new_york",
        rate=0.55,
        weekdays=(1.0, 1.0, 1.0, 1.1, 1.0, 0.7, 0.3),
        hours=_hours("8:2 9:4 10:5 11:4 12:3 13:3 14:3 15:2 16:2 17:1"),
        topics=_weights("culture:3 science:3 climate:1.2 ai:0.8 tournament:0.3"),
        authors=(
            "Maya Lindqvist",
            "Tom Okafor",
            "Priya Raman",
            "Elena Voss",
            "Marcus Hale",
            "June Adeyemi",
            "Colin Fairweather",
        ),
        words=(400, 800),
        coauthor_rate=0.35,
    ),
    _Source(
        filename="social-tag-politik.rss.xml",
        feed_url="https://social.example.net/tags/politik.rss",
        site="https://social.example.net",
        title="#politik",
        description="Öffentliche Beiträge mit dem Hashtag #politik",
        kind="mastodon",
        lang="mixed",
        zone="berlin",
        rate=0.7,
        weekdays=(1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 1.3),
        hours=_hours(
            "0:1 1:1 2:0.5 3:0.3 4:0.3 5:0.3 6:0.5 7:1 8:2 9:2 10:2 11:2 12:2.5 13:2.5 14:2 15:2 "
            "16:2 17:2.5 18:3 19:4 20:4.5 21:4 22:3 23:2"
        ),
        topics=_weights("peace:3 election:2 trade:1 climate:1 storm:1"),
        authors=(),
        words=(20, 60),
    ),
    _Source(
        filename="technik-ticker.rdf",
        feed_url="https://www.technik-ticker.example.de/ticker.rdf",
        site="https://www.technik-ticker.example.de",
        title="Technik-Ticker",
        description="Nachrichten aus IT, Netzpolitik und Unterhaltungselektronik",
        kind="rdf",
        lang="de",
        zone="berlin",
        rate=0.8,
        weekdays=(1.0, 1.0, 1.0, 1.0, 0.9, 0.05, 0.05),
        hours=_hours("7:2 8:4 9:5 10:5 11:4 12:3 13:3 14:4 15:4 16:3 17:3 18:2 19:1"),
        topics=_weights("launch:3 ai:2 energy:0.8 trade:0.5 storm:0.3"),
        authors=("Frank Heisig", "Julia Kessler", "Deniz Yilmaz", "Peter Lanz"),
        words=(150, 300),
        encoding="iso-8859-1",
    ),
)

DEMO_FEED_URLS: dict[str, str] = {source.filename: source.feed_url for source in _SOURCES}

# ---------------------------------------------------------------------------------------------
# Time: local clocks without tz databases (the rules are simple and stable enough for a demo).


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _utc_offset(moment: datetime, zone: str) -> timedelta:
    """UTC offset of `zone` at the UTC instant `moment`."""
    year = moment.year
    if zone in ("berlin", "london"):
        base = 1 if zone == "berlin" else 0
        start = datetime.combine(_last_sunday(year, 3), datetime.min.time(), UTC)
        end = datetime.combine(_last_sunday(year, 10), datetime.min.time(), UTC)
        summer = start + timedelta(hours=1) <= moment < end + timedelta(hours=1)
        return timedelta(hours=base + (1 if summer else 0))
    if zone == "new_york":
        start = datetime.combine(_nth_sunday(year, 3, 2), datetime.min.time(), UTC)
        end = datetime.combine(_nth_sunday(year, 11, 1), datetime.min.time(), UTC)
        summer = start + timedelta(hours=7) <= moment < end + timedelta(hours=6)
        return timedelta(hours=-4 if summer else -5)
    return timedelta(0)


_RFC_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _zone_suffix(offset: timedelta, colon: bool) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}" if colon else f"{sign}{hours:02d}{mins:02d}"


def _rfc822(moment: datetime, offset: timedelta, gmt: bool = False) -> str:
    local = moment + offset
    zone = "GMT" if gmt else _zone_suffix(offset, colon=False)
    return (
        f"{_RFC_DAYS[local.weekday()]}, {local.day:02d} {_RFC_MONTHS[local.month - 1]} "
        f"{local.year} {local.hour:02d}:{local.minute:02d}:{local.second:02d} {zone}"
    )


def _iso(moment: datetime, offset: timedelta) -> str:
    local = moment + offset
    return local.strftime("%Y-%m-%dT%H:%M:%S") + _zone_suffix(offset, colon=True)


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


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


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


_KICKERS = {
    "de": ("Analyse: ", "Kommentar: ", "Hintergrund: ", "Liveblog: ", "Update: ", "Interview: "),
    "en": ("Analysis: ", "Opinion: ", "Explainer: ", "Live: ", "Update: ", "Interview: "),
}


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
# Rendering


def _rss_head(source: _Source, namespaces: str, build: str, language: str | None) -> list[str]:
    lines = [
        f'<rss version="2.0"{namespaces}>',
        "<channel>",
        f"<title>{_xml(source.title)}</title>",
        f"<link>{_xml(source.site)}/</link>",
        f"<description>{_xml(source.description)}</description>",
    ]
    if language:
        lines.append(f"<language>{language}</language>")
    lines.append(f"<lastBuildDate>{build}</lastBuildDate>")
    lines.append(
        f'<atom:link href="{_xml(source.feed_url)}" rel="self" type="application/rss+xml"/>'
    )
    return lines


_NS_ATOM = ' xmlns:atom="http://www.w3.org/2005/Atom"'
_NS_DC = ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
_NS_CONTENT = ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
_NS_SLASH = ' xmlns:slash="http://purl.org/rss/1.0/modules/slash/"'


def _newest(items: list[_Item], anchor: datetime) -> datetime:
    dated = [item.published for item in items if item.published is not None]
    return max(dated) if dated else anchor


def _render_rss(source: _Source, items: list[_Item], anchor: datetime) -> str:
    kind = source.kind
    # Mastodon and Wix write UTC; the others their local clock.
    gmt = kind == "wix"
    utc_only = kind in ("wix", "mastodon")

    def offset_of(moment: datetime) -> timedelta:
        return timedelta(0) if utc_only else _utc_offset(moment, source.zone)

    newest = _newest(items, anchor)
    build = _rfc822(newest, offset_of(newest), gmt=gmt)
    namespaces = _NS_ATOM
    if kind in ("wordpress", "wix", "regional", "magazine"):
        namespaces = _NS_DC + _NS_CONTENT + namespaces
    if kind == "business":
        namespaces = _NS_CONTENT + namespaces
    if kind == "wordpress":
        namespaces += _NS_SLASH
    language = {"wordpress": "de-DE", "regional": "de", "business": "en-gb", "magazine": "en-US"}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines += _rss_head(source, namespaces, build, language.get(kind))
    if kind == "wix":
        lines.append("<generator>RSS for Node</generator>")
    elif kind == "wordpress":
        lines.append("<generator>https://wordpress.org/?v=6.6.2</generator>")
    elif kind == "mastodon":
        lines.append("<generator>Mastodon v4.3.1</generator>")
    for item in items:
        lines.append("<item>")
        if item.title is not None:
            title = _cdata(item.title) if kind in ("wix", "wordpress") else _xml(item.title)
            lines.append(f"<title>{title}</title>")
        lines.append(f"<link>{_xml(item.link)}</link>")
        permalink = "true" if item.guid == item.link else "false"
        lines.append(f'<guid isPermaLink="{permalink}">{_xml(item.guid)}</guid>')
        if item.published is not None:
            lines.append(
                f"<pubDate>{_rfc822(item.published, offset_of(item.published), gmt)}</pubDate>"
            )
        if item.authors:
            if kind == "business":
                name = item.authors[0]
                mail = name.lower().replace(" ", ".") + "@theledger.example.com"
                lines.append(f"<author>{_xml(mail)} ({_xml(name)})</author>")
            else:
                lines.append(f"<dc:creator>{_cdata(_byline(item.authors, item.lang))}</dc:creator>")
        for category in item.categories:
            value = _cdata(category) if kind == "wordpress" else _xml(category)
            lines.append(f"<category>{value}</category>")
        if kind == "mastodon":
            lines.append(f"<description>{_xml(item.body_html)}</description>")
        elif kind in ("wix", "wordpress"):
            lines.append(f"<description>{_cdata(item.summary_html)}</description>")
            lines.append(f"<content:encoded>{_cdata(item.body_html)}</content:encoded>")
        else:
            lines.append(f"<description>{_xml(item.summary_html)}</description>")
            lines.append(f"<content:encoded>{_cdata(item.body_html)}</content:encoded>")
        if item.image:
            lines.append(f'<enclosure url="{_xml(item.image)}" length="0" type="image/jpeg"/>')
        if item.comments is not None:
            lines.append(f"<slash:comments>{item.comments}</slash:comments>")
        lines.append("</item>")
    lines += ["</channel>", "</rss>", ""]
    separator = "" if kind == "wix" else "\n"  # Wix writes everything on one line
    return separator.join(lines)


def _byline(authors: tuple[str, ...], lang: str) -> str:
    if len(authors) < 2:
        return authors[0] if authors else ""
    joiner = " und " if lang == "de" else " and "
    return ", ".join(authors[:-1]) + joiner + authors[-1]


def _render_atom(source: _Source, items: list[_Item], anchor: datetime) -> str:
    newest = _newest(items, anchor)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"<title>{_xml(source.title)}</title>",
        f"<subtitle>{_xml(source.description)}</subtitle>",
        f'<link href="{_xml(source.site)}/" rel="alternate" type="text/html"/>',
        f'<link href="{_xml(source.feed_url)}" rel="self" type="application/atom+xml"/>',
        f"<id>{_xml(source.site)}/</id>",
        f"<updated>{_iso(newest, timedelta(0))}</updated>",
        '<generator uri="https://gohugo.io/">Hugo</generator>',
    ]
    for item in items:
        assert item.published is not None and item.title is not None
        offset = _utc_offset(item.published, source.zone)
        lines += [
            "<entry>",
            f'<title type="html">{_xml(item.title)}</title>',
            f'<link href="{_xml(item.link)}" rel="alternate" type="text/html"/>',
            f"<id>{_xml(item.guid)}</id>",
            f"<published>{_iso(item.published, offset)}</published>",
            f"<updated>{_iso(item.published, offset)}</updated>",
        ]
        for author in item.authors:
            lines.append(f"<author><name>{_xml(author)}</name></author>")
        for category in item.categories:
            lines.append(f'<category term="{_xml(category)}"/>')
        lines.append(f'<summary type="html">{_xml(item.summary_html)}</summary>')
        lines.append(f'<content type="html">{_xml(item.body_html)}</content>')
        lines.append("</entry>")
    lines += ["</feed>", ""]
    return "\n".join(lines)


def _render_rdf(source: _Source, items: list[_Item], anchor: datetime) -> str:
    newest = _newest(items, anchor)
    lines = [
        f'<?xml version="1.0" encoding="{source.encoding.upper()}"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
        '  xmlns="http://purl.org/rss/1.0/"',
        '  xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f'<channel rdf:about="{_xml(source.feed_url)}">',
        f"<title>{_xml(source.title)}</title>",
        f"<link>{_xml(source.site)}/</link>",
        f"<description>{_xml(source.description)}</description>",
        "<dc:language>de</dc:language>",
        f"<dc:date>{_iso(newest, _utc_offset(newest, source.zone))}</dc:date>",
        "<items>",
        "<rdf:Seq>",
    ]
    lines += [f'<rdf:li rdf:resource="{_xml(item.link)}"/>' for item in items]
    lines += ["</rdf:Seq>", "</items>", "</channel>"]
    for item in items:
        assert item.published is not None and item.title is not None
        lines += [
            f'<item rdf:about="{_xml(item.link)}">',
            f"<title>{_xml(item.title)}</title>",
            f"<link>{_xml(item.link)}</link>",
            f"<description>{_xml(item.body_html)}</description>",
            f"<dc:creator>{_xml(_byline(item.authors, 'de'))}</dc:creator>",
            f"<dc:date>{_iso(item.published, _utc_offset(item.published, source.zone))}</dc:date>",
        ]
        lines += [f"<dc:subject>{_xml(category)}</dc:subject>" for category in item.categories[:1]]
        lines.append("</item>")
    lines += ["</rdf:RDF>", ""]
    return "\n".join(lines)


def _render(source: _Source, items: list[_Item], anchor: datetime) -> bytes:
    if source.kind == "atom":
        text = _render_atom(source, items, anchor)
    elif source.kind == "rdf":
        text = _render_rdf(source, items, anchor)
    else:
        text = _render_rss(source, items, anchor)
    # Characters the declared encoding lacks become character references (only outside CDATA:
    # the renderers keep such feeds free of CDATA).
    return text.encode(source.encoding, errors="xmlcharrefreplace")


# ---------------------------------------------------------------------------------------------
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
    target = Path(__file__).resolve().parents[2] / "data" / "demo"
    for path in write_demo_feeds(target, SHIPPED_ANCHOR):
        print(f"{path.stat().st_size:>9,} bytes  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
