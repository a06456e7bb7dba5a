"""`mapapp events` through the real command: one answer per line, in order, errors named."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mapapp.cli import cli

pytest_plugins = ["geo_fixtures"]


def test_events_answers_each_line_in_order(nlp, gazetteer, gazetteer_cache, monkeypatch) -> None:
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(gazetteer_cache))
    lines = [
        {
            "id": "a",
            "text": "Floods killed at least 12 people in Lagos on Sunday.",
            "published": "2026-11-16",
        },
        "not json",
        {"id": "c", "text": "The weather was mild and the sky was blue."},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    done = CliRunner().invoke(cli, ["events"], input=stdin)
    assert done.exit_code == 2, done.output
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [a.get("id") for a in answers] == ["a", None, "c"]
    assert "error" in answers[1] and answers[2]["events"] == []
    [event] = [e for e in answers[0]["events"] if e["trigger"] == "killed"]
    assert event["killed"] == 12 and event["date"] == "2026-11-15"
    assert [p["name"] for p in event["places"]] == ["Lagos"]


def _events(stdin_lines: list[dict]) -> list[dict]:
    """Answers of `mapapp events` for these request lines."""
    stdin = "\n".join(json.dumps(x) for x in stdin_lines) + "\n"
    done = CliRunner().invoke(cli, ["events"], input=stdin)
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_events_in_caseless_text(nlp, gazetteer, gazetteer_cache, monkeypatch) -> None:
    """An archive written in lower case or in capitals is read like any story, names as written."""
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(gazetteer_cache))
    texts = {
        "lower": "police fired tear gas at hundreds of marchers in karachi on friday.",
        "upper": "POLICE FIRED TEAR GAS AT HUNDREDS OF MARCHERS IN KARACHI ON FRIDAY.",
    }
    answers = _events([{"id": k, "text": v, "published": "2026-11-16"} for k, v in texts.items()])
    for answer in answers:
        text = texts[answer["id"]]
        [event] = answer["events"]
        assert event["trigger"] == text[event["start"] : event["end"]]
        assert event["type"] == "protest" and event["date"] == "2026-11-13"
        [place] = event["places"]
        assert place["name"] == text[place["start"] : place["end"]]
        assert (place["name"].lower(), place["country_code"]) == ("karachi", "PK")


def test_events_place_from_the_paragraph_then_the_dateline(
    nlp, gazetteer, gazetteer_cache, monkeypatch
) -> None:
    """The filing city is not where the march was: a later sentence of the paragraph that
    names no place is placed with the march; a new paragraph falls back to the dateline,
    and the headline's event never does."""
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(gazetteer_cache))
    text = (
        "Farmers protest wheat prices\n\n"
        "KARACHI -- Thousands of farmers marched through Multan on Sunday to demand higher "
        "wheat prices. The protest ended at dusk.\n\n"
        "Police arrested four men on Monday."
    )
    [answer] = _events([{"id": "m", "text": text, "published": "2026-11-17"}])
    placed = [(e["trigger"], [p["name"] for p in e["places"]]) for e in answer["events"]]
    assert placed == [
        ("protest", []),
        ("marched", ["Multan"]),
        ("protest", ["Multan"]),
        ("arrested", ["KARACHI"]),
    ]
