"""Stories (monitor.stories): near-duplicates found by MinHash and LSH, on a labelled set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import storyset

from monitor import stories
from monitor.models import Table

ROOT = Path(__file__).resolve().parents[1]


def test_precision_and_recall_on_the_labelled_set_are_at_least_0_9() -> None:
    articles = storyset.build()
    labels = {a.article_id: a.story for a in articles}
    precision, recall = storyset.pairwise(labels, storyset.run(None, articles))
    assert len(articles) == 144 and len(set(labels.values())) == 18
    assert precision >= 0.9, precision
    assert recall >= 0.9, recall


def test_two_different_stories_on_one_topic_stay_apart() -> None:
    """Two storms over Hamburg with the same utility, two Verdi strikes with one negotiator
    and one demand: the same vocabulary, not the same story."""
    articles = storyset.build()
    predicted = storyset.run(None, articles)
    for first, second in (
        ("sturm-0-de", "sturm-2-de"),
        ("streik-0-de", "streik-2-de"),
        ("storm-0-en", "storm-2-en"),
        ("parliament-0-en", "parliament-2-en"),
    ):
        one = {predicted[a.article_id] for a in articles if a.story == first}
        other = {predicted[a.article_id] for a in articles if a.story == second}
        assert one and other and not one & other, (first, second)


def test_every_rewrite_joins_the_story_of_the_agency_original() -> None:
    articles = storyset.build()
    predicted = storyset.run(None, articles)
    for a in articles:
        assert predicted[a.article_id] == predicted[f"{a.story}-original"], a.article_id


def test_a_german_and_an_english_article_on_the_same_event_do_not_merge() -> None:
    """The same storm, the same names and numbers: two languages, two stories."""
    when = storyset.BASE
    text = "Storm Zoltan Hamburg Bremen Vattenfall 140 600 " * 20
    de = stories.StoryDoc("de", "de", when, "Zoltan Hamburg", stories.sign("Zoltan Hamburg", text))
    en = stories.StoryDoc("en", "en", when, "Zoltan Hamburg", stories.sign("Zoltan Hamburg", text))
    assert stories.jaccard(de.signature, en.signature) == 1.0
    assert stories.assign([de, en], []) == {"de": "de", "en": "en"}
    # The same document twice in one language is one story, the first article's id.
    de2 = stories.StoryDoc("de2", "de", when, "Zoltan Hamburg", de.signature)
    assert stories.assign([de, de2], []) == {"de": "de", "de2": "de"}


def test_a_stored_candidate_gives_its_story_and_the_window_is_kept() -> None:
    when = storyset.BASE
    text = " ".join(f"wort{i}" for i in range(200))
    signature = stories.sign("Titel", text)
    stored = stories.Candidate("old", "story-1", "de", when, "Titel", signature)
    doc = stories.StoryDoc("new", "de", when + timedelta(hours=5), "Titel", signature)
    assert stories.assign([doc], [stored]) == {"new": "story-1"}
    late = stories.StoryDoc("late", "de", when + timedelta(days=30), "Titel", signature)
    assert stories.assign([late], [stored]) == {"late": "late"}


def test_shingles_are_normalised_and_capped() -> None:
    assert stories.shingles("Die Zölle!", "STEIGEN, heute.") == [
        b"die z\xc3\xb6lle steigen",
        b"z\xc3\xb6lle steigen heute",
    ]
    # NFD and NFC spellings are one shingle; case folds (ß -> ss).
    assert stories.shingles("Zo\u0308lle", "Straße") == stories.shingles("Zölle", "STRASSE")
    huge = " ".join(f"w{i}" for i in range(1_000_000))
    assert len(stories.shingles("", huge)) == stories.MAX_SHINGLES
    assert stories.shingles("", "") == []
    assert stories.shingles("", "eins") == [b"eins"]


def test_signatures_round_trip_through_bytes() -> None:
    signature = stories.sign("Bundestag beschließt Heizungsgesetz", "Der Bundestag hat heute")
    assert len(signature.values) == stories.NUM_PERM
    assert len(signature.bands) == stories.BANDS + 1  # the title band
    back = stories.Signature.from_bytes(signature.to_bytes(), "Bundestag beschließt Heizungsgesetz")
    assert back == signature
    assert all(-(2**63) <= band < 2**63 for band in signature.bands)


def test_the_store_uses_the_signature_the_parse_step_made_and_signs_when_there_is_none() -> None:
    from monitor.store import storyrows

    when = storyset.BASE.replace(tzinfo=None)
    text = " ".join(f"wort{i}" for i in range(200))
    made = stories.sign("Titel", text)
    looked_up: list[list[int]] = []

    def look_up(bands: list[int], low: object, high: object, exclude: list[str]) -> Table:
        looked_up.append(bands)
        return Table(storyrows.CANDIDATE_COLUMNS, [])

    other = stories.sign("Etwas anderes", "ganz andere Wörter in diesem Text")
    given = storyrows.NewArticle("a", "Titel", text, "de", when, other)
    unsigned = storyrows.NewArticle("b", "Titel", text, "de", when)
    placed = storyrows.place([given, unsigned], look_up, stories.StorySettings())
    # The given signature is taken as it is (the parse step made it from title and text).
    assert [p.signature for p in placed] == [other, made]
    assert looked_up == [sorted({*other.bands, *made.bands})]


def test_story_settings_are_numbers_named_when_wrong() -> None:
    from monitor import settings

    assert settings.story({}) == (0.6, 0.8, 0.2, 3.0)
    assert settings.story({"MONITOR_STORY_THRESHOLD": " 0.7 "})[0] == 0.7
    for bad in ("x", "-1", "nan", "inf"):
        with pytest.raises(settings.SettingError, match="MONITOR_STORY_WINDOW_DAYS="):
            settings.story({"MONITOR_STORY_WINDOW_DAYS": bad})
    assert stories.StorySettings() == stories.StorySettings(*settings.story({}))
