"""The ``mapapp events`` machine interface: JSON lines in, one answer line per line, in order.

A request is ``{"id", "text"[, "published": "YYYY-MM-DD"][, "trigger": [start, end]]}``;
the answer ``{"id", "events": [...]}`` with code-point offsets, or for a line
that cannot be answered ``{"id", "line", "error"}`` (the others are answered
all the same).  With ``"trigger"`` given only that trigger's event is answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO, TextIO

from mapapp.events.extract import EventExtractor
from mapapp.geoparsing import BadLine, batches, read_requests
from mapapp.records import Event

REQUEST_BATCH = 64


def check_request(number: int, obj: dict[str, Any]) -> tuple[date | None, tuple[int, int] | None]:
    """The request's publication date and trigger span; ValueError naming the line if bad."""
    published = obj.get("published")
    if published is not None:
        try:
            published = date.fromisoformat(published) if isinstance(published, str) else None
        except ValueError:
            published = None
        if published is None:
            raise ValueError(f"line {number}: 'published' must be a date as YYYY-MM-DD")
    trigger = obj.get("trigger")
    if trigger is not None:
        if not (
            isinstance(trigger, list)
            and len(trigger) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in trigger)
            and 0 <= trigger[0] < trigger[1] <= len(obj["text"])
        ):
            raise ValueError(f"line {number}: 'trigger' must be [start, end] inside the text")
        trigger = (trigger[0], trigger[1])
    return published, trigger


def event_dict(event: Event) -> dict[str, Any]:
    """The stable JSON shape of one event (``start``/``end`` are the trigger's offsets)."""
    return {
        "start": event.trigger_start,
        "end": event.trigger_end,
        "trigger": event.trigger,
        "sentence": [event.start, event.end],
        "type": event.type,
        "kind": event.kind,
        "date": _iso(event.date),
        "date_start": _iso(event.date_start),
        "date_end": _iso(event.date_end),
        "date_text": event.date_text,
        "date_is_publication": event.date_is_publication,
        "killed": event.killed,
        "injured": event.injured,
        "displaced": event.displaced,
        "arrested": event.arrested,
        "subject": event.subject,
        "object": event.object,
        "score": event.score,
        "places": [
            {
                "start": p.start,
                "end": p.end,
                "name": p.name,
                "lat": p.lat,
                "lon": p.lon,
                "geonameid": p.geonameid,
                "country_code": p.country_code,
                "score": p.score,
            }
            for p in event.places
        ],
    }


def answer_requests(extractor: EventExtractor, stream: TextIO | BinaryIO) -> Iterator[dict]:
    """One answer per request line, in order (bad lines answered with their error)."""
    for chunk in batches(read_requests(stream), REQUEST_BATCH):
        checked: list[tuple[int, dict | BadLine, Any]] = []
        for number, obj in chunk:
            if isinstance(obj, dict):
                try:
                    checked.append((number, obj, check_request(number, obj)))
                except ValueError as err:
                    checked.append((number, BadLine(str(err), obj.get("id")), None))
            else:
                checked.append((number, obj, None))
        good = [(o["text"], *extra) for _, o, extra in checked if isinstance(o, dict)]
        answers = iter(extractor.extract_many(good))
        for number, obj, _ in checked:
            if isinstance(obj, BadLine):
                yield {"id": obj.id, "line": number, "error": obj.message}
            else:
                yield {"id": obj.get("id"), "events": [event_dict(e) for e in next(answers)]}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
