"""General trigger and place rules checked on sentences written here: attributions are not
events, gunfire is not a blaze, storming is an assault, and who reports is not where."""

from __future__ import annotations

import pytest
from geo_fixtures import NER_MODEL

from mapapp.events.places import Candidate, PlaceModel, choose_places
from mapapp.events.triggers import find_triggers, trigger_at, trigger_type


@pytest.fixture(scope="module")
def nlp():
    spacy = pytest.importorskip("spacy")
    try:
        return spacy.load(NER_MODEL)
    except OSError:
        pytest.skip(f"spaCy model {NER_MODEL!r} is not installed")


def _token(doc, word: str):
    start = doc.text.index(word)
    return trigger_at(doc, start, start + len(word))


@pytest.mark.parametrize(
    ("sentence", "absent"),
    [
        ("Nine farmers were killed near the river, according to the village council.", "according"),
        ("The convoy was ambushed at dawn, according to two drivers who escaped.", "according"),
        ("Soldiers and smugglers traded fire along the canal overnight.", "traded"),
        ("Border guards exchanged fire with a gang near the crossing.", "exchanged"),
    ],
)
def test_words_that_are_not_events(nlp, sentence: str, absent: str) -> None:
    assert absent not in [t.text for t in find_triggers(nlp(sentence))]


@pytest.mark.parametrize(
    ("sentence", "word", "expected"),
    [
        ("Soldiers and smugglers traded fire along the canal overnight.", "fire", "shelling"),
        ("Two porters were hurt by mortar fire on the market road.", "fire", "shelling"),
        ("A fire gutted the old cinema on Friday.", "fire", "disaster"),
        ("Militiamen tried to storm the radio station at noon.", "storm", "armed_clash"),
        ("The storm flattened the harbour sheds.", "storm", "disaster"),
    ],
)
def test_fire_and_storm_read_in_context(nlp, sentence: str, word: str, expected: str) -> None:
    assert trigger_type(_token(nlp(sentence), word))[0] == expected


def _places(nlp, sentence: str, trigger: str, names: list[str]) -> list[str]:
    doc = nlp(sentence)
    candidates = [
        Candidate(sentence.index(n), sentence.index(n) + len(n), n, lat=1.0, lon=1.0) for n in names
    ]
    token = _token(doc, trigger)
    return [p.name for p in choose_places(doc, token, candidates, PlaceModel.load())]


@pytest.mark.parametrize(
    ("sentence", "trigger", "names", "not_chosen"),
    [
        (
            "A bus driver was killed by a roadside bomb in Kandahar, Norway's public "
            "broadcaster reported on Monday.",
            "killed",
            ["Kandahar", "Norway"],
            "Norway",
        ),
        (
            "Six fishermen drowned off Mombasa, according to the Canada-based rescue network.",
            "drowned",
            ["Mombasa", "Canada"],
            "Canada",
        ),
    ],
)
def test_who_reports_is_not_where_it_happened(nlp, sentence, trigger, names, not_chosen) -> None:
    assert not_chosen not in _places(nlp, sentence, trigger, names)


@pytest.mark.parametrize(
    ("sentence", "published", "expected"),
    [
        ("Talks between the two sides are set for Nov. 28.", "2017-11-20", "2017-11-28"),
        ("A runoff is scheduled for Jan. 4 in the north.", "2019-12-30", "2020-01-04"),
        ("The vote was postponed until Dec. 3.", "2017-11-20", "2017-12-03"),
        ("Troops entered the town on Nov. 12.", "2018-01-05", "2017-11-12"),  # reported: past
    ],
)
def test_planned_days_lie_ahead_reported_days_behind(sentence, published, expected) -> None:
    from datetime import date

    from mapapp.events.dates import resolve_date

    assert resolve_date(sentence, date.fromisoformat(published)).date == date.fromisoformat(
        expected
    )
