"""The ``mapapp events`` line protocol: order, bad lines, a given trigger (stories written here)."""

from __future__ import annotations

import io
import json

import pytest
from geo_fixtures import NER_MODEL

from mapapp.events.extract import EventExtractor
from mapapp.events.requests import answer_requests
from mapapp.geoparsing import Geoparser

pytest_plugins = ["geo_fixtures"]


@pytest.fixture(scope="module")
def extractor(gazetteer, nlp) -> EventExtractor:
    """The extractor over the real gazetteer, parsing with the full spaCy pipeline."""
    return EventExtractor.from_geoparser(Geoparser(gazetteer, nlp), NER_MODEL)


def _answer(extractor: EventExtractor, *lines: str) -> list[dict]:
    stream = io.BytesIO("\n".join(lines).encode("utf-8") + b"\n")
    return list(answer_requests(extractor, stream))


STORY = "Rebels shelled the town of Harlow on Sunday, killing eight people."


def test_one_answer_per_line_in_order_with_bad_lines_named(extractor) -> None:
    answers = _answer(
        extractor,
        json.dumps({"id": "a", "text": STORY, "published": "2024-03-04"}),
        "not json",
        json.dumps({"id": "c", "text": "Police arrested 12 protesters in Leeds."}),
        json.dumps({"id": "d", "text": "x", "published": "March"}),
        json.dumps({"id": "e", "text": "x", "trigger": [0, 9]}),
        json.dumps({"id": "f", "text": "The market was quiet."}),
    )
    assert [a["id"] for a in answers] == ["a", None, "c", "d", "e", "f"]
    assert [a.get("line") for a in answers] == [None, 2, None, 4, 5, None]
    assert "line 4" in answers[3]["error"] and "published" in answers[3]["error"]
    assert "trigger" in answers[4]["error"]
    assert answers[5]["events"] == []
    shelled = answers[0]["events"][0]
    assert STORY[shelled["start"] : shelled["end"]] == shelled["trigger"] == "shelled"
    assert shelled["type"] == "shelling" and shelled["killed"] == 8
    assert (shelled["date"], shelled["date_text"]) == ("2024-03-03", "Sunday")
    assert [p["name"] for p in shelled["places"]] == ["Harlow"]
    place = shelled["places"][0]
    assert STORY[place["start"] : place["end"]] == "Harlow" and place["country_code"] == "GB"
    arrested = answers[2]["events"][0]
    assert arrested["arrested"] == 12 and arrested["date"] is None


def test_a_given_trigger_is_answered_alone(extractor) -> None:
    start = STORY.index("killing")
    request = {"id": 7, "text": STORY, "published": "2024-03-04", "trigger": [start, start + 7]}
    (answer,) = _answer(extractor, json.dumps(request))
    (event,) = answer["events"]
    assert (event["start"], event["end"], event["trigger"]) == (start, start + 7, "killing")
    assert event["killed"] == 8


def test_code_point_offsets(extractor) -> None:
    text = "Écoliers 🎒 protested in Leeds on Tuesday."
    (answer,) = _answer(extractor, json.dumps({"id": "u", "text": text}, ensure_ascii=False))
    (event,) = answer["events"]
    assert text[event["start"] : event["end"]] == "protested"
    assert [text[p["start"] : p["end"]] for p in event["places"]] == ["Leeds"]
    assert event["date_is_publication"] is False and event["date_text"] == "Tuesday"


def test_the_command_is_registered() -> None:
    from mapapp.cli import cli

    assert "events" in cli.commands
