"""Hand-made events for the conftest stories (no spaCy needed): what the store, the map
and the story page are tested on.

Each event is built from a trigger word and its place's name as written, offsets
found in the story's text; one event has no place, one has two, and the Quito
event carries the script-injection payloads in its sentence and place name.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from mapapp.records import Article, Event, EventPlace, Resolution

# article id -> (trigger, type, kind, date, date assumed, killed, injured, [place names])
PLANNED: dict[str, list[tuple]] = {
    "syria-0301": [
        ("Talks", "diplomacy", None, date(2024, 3, 1), False, None, None, ["Damascus"]),
        ("left", "other", None, date(2024, 3, 1), True, None, None, []),
    ],
    "geneva-0315": [("met", "diplomacy", None, date(2024, 3, 15), True, None, None, ["Geneva"])],
    "lagos-0410": [("Flooding", "disaster", "flood", date(2024, 4, 9), False, 12, 30, ["Lagos"])],
    "xss-0420": [("gathered", "protest", None, date(2024, 4, 19), False, None, None, ["Quito"])],
    "tokyo-0502": [("rallied", "economy", None, date(2024, 5, 2), False, None, None, ["Tokyo"])],
}


def events_for(article: Article, resolutions: list[Resolution]) -> list[Event]:
    """The planned events of one conftest story, places taken from its resolutions."""
    out = []
    for trigger, kind_of, kind, when, assumed, killed, injured, names in PLANNED.get(
        article.article_id, []
    ):
        start = article.text.index(trigger)
        s_start = article.text.rfind(".", 0, start) + 1
        s_end = article.text.find(".", start) + 1 or len(article.text)
        places = []
        for name in names:
            r = next(
                r
                for r in resolutions
                if r.toponym.name.startswith(name) and r.toponym.role != "dateline"
            )
            p = r.place
            places.append(
                EventPlace(
                    r.toponym.start,
                    r.toponym.end,
                    r.toponym.name,
                    p.latitude,
                    p.longitude,
                    p.geonameid,
                    p.country_code,
                    0.8,
                )
            )
        out.append(
            Event(
                start=s_start,
                end=s_end,
                trigger=trigger,
                trigger_start=start,
                trigger_end=start + len(trigger),
                type=kind_of,
                kind=kind,
                date=when,
                date_start=when,
                date_end=when,
                date_text=None if assumed else "on the day",
                date_is_publication=assumed,
                killed=killed,
                injured=injured,
                places=tuple(places),
                score=0.8 if places else 0.0,
            )
        )
    return out


def with_two_places(event: Event, extra: EventPlace) -> Event:
    """The event at one more place (two rows in the store)."""
    return replace(event, places=(*event.places, extra))


def event_records(records: list[tuple[Article, list[Resolution]]]) -> list[tuple]:
    """(article, resolutions, events) for every conftest story."""
    return [(a, r, events_for(a, r)) for a, r in records]
