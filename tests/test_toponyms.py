"""Recognition: place mentions with offsets, with spaCy and with the gazetteer alone.

Most tests run twice through the ``recognizer`` fixture: once with the spaCy
model (skipped when it is not installed), once with ``nlp=None``.
"""

from __future__ import annotations

import pytest

from mapapp.recognition.datelines import find_dateline
from mapapp.recognition.gazetteer import Gazetteer
from mapapp.recognition.toponyms import Recognizer
from mapapp.records import ROLES, Article, Toponym

pytest_plugins = ["geo_fixtures"]

SYRIA_STORY = "BEIRUT -- Syrian troops shelled villages near Homs on Sunday, residents said."


def names(recognizer: Recognizer, text: str) -> list[str]:
    """The toponyms recognised (names considered and set aside are not among them)."""
    return [t.name for t in recognizer.recognize_many([text])[0] if t.role != "considered"]


def set_aside(recognizer: Recognizer, text: str) -> dict[str, str]:
    """The names recognition considered and set aside, with why."""
    return {t.name: t.note for t in recognizer.recognize_many([text])[0] if t.role == "considered"}


def mode(recognizer: Recognizer) -> str:
    return "spacy" if recognizer.nlp is not None else "gazetteer-only"


@pytest.mark.parametrize(
    "text",
    [
        SYRIA_STORY,
        "Aid reached the Eastern Ghouta and the Gaza Strip this week.",
        "Talks moved from São Paulo to Zürich, then to Côte d\u2019Ivoire.",
        "Ferries linked Dubrovnik with the island; the U.S. embassy in Zagreb said so.",
        "Tanks rolled toward Donbas\u2014and Kyiv\u2019s allies watched.",
    ],
)
def test_offsets_point_at_the_name(recognizer: Recognizer, text: str) -> None:
    found = recognizer.recognize_many([text])[0]
    assert found, "expected at least one place"
    for top in found:
        assert text[top.start : top.end] == top.name
        assert top.role in ROLES and top.name in top.sentence
    assert [t.start for t in found] == sorted(t.start for t in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))  # no overlaps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Convoys reached Homs and Aleppo by nightfall.", ["Homs", "Aleppo"]),
        (
            "Aid reached Eastern Ghouta and the Gaza Strip this week.",
            ["Eastern Ghouta", "Gaza Strip"],
        ),
        ("Envoys left Damascus for Geneva on Monday.", ["Damascus", "Geneva"]),
    ],
)
def test_finds_the_places(recognizer: Recognizer, text: str, expected: list[str]) -> None:
    assert names(recognizer, text) == expected


# --- roles -------------------------------------------------------------------


def test_dateline_is_the_first_mention(recognizer: Recognizer) -> None:
    article = Article("t1", "Shelling near Homs", SYRIA_STORY, dateline="Beirut")
    first, *rest = recognizer.recognize(article)
    assert (first.name, first.start, first.end, first.role) == ("BEIRUT", 0, 6, "dateline")
    assert [(t.name, t.role) for t in rest] == [("Syrian", "demonym"), ("Homs", "mention")]


@pytest.mark.parametrize(
    ("text", "name", "qualifier"),
    [
        (SYRIA_STORY, "BEIRUT", ""),
        ("TRIPOLI, Lebanon -- Gunfire was heard overnight.", "TRIPOLI", "Lebanon"),
        ("NEW YORK \u2014 Markets opened higher.", "NEW YORK", ""),
    ],
)
def test_find_dateline(text: str, name: str, qualifier: str) -> None:
    top = find_dateline(text)
    assert (top.name, top.start, top.end, top.role, top.qualifier) == (
        name,
        0,
        len(name),
        "dateline",
        qualifier,
    )


def test_no_dateline() -> None:
    assert find_dateline("Troops shelled villages -- residents said -- on Sunday.") is None


def test_demonym_has_its_own_role(recognizer: Recognizer) -> None:
    found = recognizer.recognize_many(["Syrian forces and Iranian advisers entered the town."])[0]
    assert [(t.name, t.role) for t in found] == [("Syrian", "demonym"), ("Iranian", "demonym")]


def test_state_after_a_town_qualifies_it(recognizer: Recognizer) -> None:
    text = "The county fair in Paris, Texas, drew ranchers from the whole state."
    found = recognizer.recognize_many([text])[0]
    assert [(t.name, t.start, t.role, t.qualifier) for t in found] == [
        ("Paris", 19, "mention", "Texas"),
        ("Texas", 26, "qualifier", ""),
    ]


# --- what is not a place -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Mobile phones were banned during the hearing.", "Mobile"),
        ("Reading the report, the minister sighed.", "Reading"),
        ("Split was the first stop on the ferry route.", "Split"),
        ("The board said Nice work had been done on the budget.", "Nice"),
    ],
)
def test_common_words_are_not_places(recognizer: Recognizer, text: str, word: str) -> None:
    assert word not in names(recognizer, text)
    assert set_aside(recognizer, text)[word]  # not dropped without a word: listed with why


@pytest.mark.parametrize(
    "text",
    ["Brig. Gen. Smith arrived in Kabul on Monday.", "Col. Jones and Capt. Ward met in Kabul."],
)
def test_title_abbreviations_are_not_places(recognizer: Recognizer, text: str) -> None:
    assert names(recognizer, text) == ["Kabul"]


def test_place_after_of_inside_an_organisation(recognizer: Recognizer) -> None:
    found = names(recognizer, "He studied at the University of Ohio before moving to Columbus.")
    assert found == ["Ohio", "Columbus"]


def test_place_naming_a_company_is_not_a_place(nlp, gazetteer: Gazetteer) -> None:
    """With the model, a place opening a company's name is only embedded (not a marker)."""
    recognizer = Recognizer(gazetteer, nlp)
    found = recognizer.recognize_many(["Shares of Texas Instruments rose after the report."])[0]
    assert [(t.name, t.role) for t in found] in ([], [("Texas", "embedded")])


def test_place_running_a_public_body_is_a_mention(nlp, gazetteer: Gazetteer) -> None:
    recognizer = Recognizer(gazetteer, nlp)
    found = recognizer.recognize_many(["A spokesman for the Gainesville Police Department said."])[
        0
    ]
    assert ("Gainesville", "mention") in [(t.name, t.role) for t in found]


def test_region_the_model_calls_an_organisation(recognizer: Recognizer) -> None:
    """The gazetteer scan should recover a known region spaCy tags ORG ("the Eastern Ghouta")."""
    text = "Aid reached the Eastern Ghouta and the Gaza Strip this week."
    assert names(recognizer, text) == ["Eastern Ghouta", "Gaza Strip"]


def test_sentence_end_does_not_join_the_next_word(recognizer: Recognizer) -> None:
    assert names(recognizer, "The war went on in Kenya. A statement followed.") == ["Kenya"]


# --- corrections as the recogniser sees them ----------------------------------------


def test_deny_and_aliases(gazetteer: Gazetteer) -> None:
    recognizer = Recognizer(gazetteer, None, deny=["Homs"], aliases=["Old Smoke"])
    text = "Trucks left Homs and Old Smoke on the same day."
    found = recognizer.recognize_many([text])[0]
    assert found == [Toponym("Old Smoke", 21, 30, sentence=text, source="gazetteer")]


def test_a_denied_name_stays_out_when_written_run_together(gazetteer: Gazetteer) -> None:
    text = "Rain again over #HongKong tonight."
    assert [t.name for t in Recognizer(gazetteer, None).recognize_many([text])[0]] == ["HongKong"]
    denied = Recognizer(gazetteer, None, deny=["HongKong"]).recognize_many([text])[0]
    assert [t.name for t in denied if t.role != "considered"] == []
