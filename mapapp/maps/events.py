"""What the events map loads (``/api/events``) and the story page lists: event rows as JSON.

The map draws one marker per (event, place) with a point; the story page lists
every event of its story, placeless ones too.  Text goes out as data (the
browser puts it in with ``textContent``); the trigger is sent as offsets into
the sentence, so the page can mark it without parsing HTML.
"""

from __future__ import annotations

from typing import Any

import pandas

from mapapp.events.taxonomy import EVENT_TYPES
from mapapp.text import strip_bidi

TYPE_LABELS = {
    "armed_clash": "Armed clash",
    "attack": "Attack or bombing",
    "shelling": "Shelling or air strike",
    "violence_against_civilians": "Violence against civilians",
    "protest": "Protest",
    "riot": "Riot",
    "disaster": "Disaster",
    "accident": "Accident",
    "diplomacy": "Diplomacy or talks",
    "election": "Election",
    "crime_justice": "Crime and justice",
    "health": "Health",
    "economy": "Economy",
    "other": "Other",
}
COUNTS = ("killed", "injured", "displaced", "arrested")
SENTENCE_LIMIT = 600  # characters of a long sentence kept around the trigger


def type_label(kind_of: str | None, kind: str | None = None) -> str:
    """ "Disaster (flood)", "Protest": the reader's name for an event type."""
    label = TYPE_LABELS.get(kind_of or "other", (kind_of or "other").replace("_", " "))
    return f"{label} ({kind})" if kind else label


def _text(value: Any) -> str | None:
    return strip_bidi(value) if isinstance(value, str) and value else None


def _count(value: Any) -> int | None:
    return None if value is None or pandas.isna(value) else int(value)


def event_row(row: Any) -> dict[str, Any]:
    """One stored event row as JSON-ready data (no point: see `events_payload`)."""
    sentence = _text(row.sentence) or ""
    start = int(row.trigger_start) - int(row.sentence_start)
    end = int(row.trigger_end) - int(row.sentence_start)
    if len(sentence) > SENTENCE_LIMIT:  # keep the trigger in view
        first = max(0, start - SENTENCE_LIMIT // 2)
        sentence = sentence[first : first + SENTENCE_LIMIT]
        start, end = start - first, end - first
    kind = _text(row.kind)
    return {
        "id": row.event_id,
        "article_id": row.article_id,
        "headline": _text(row.headline),
        "sentence": sentence,
        "trigger": [max(0, start), max(0, min(end, len(sentence)))],
        "type": row.type or "other",
        "kind": kind,
        "label": type_label(row.type, kind),
        "date": _text(row.date),
        "date_start": _text(row.date_start),
        "date_end": _text(row.date_end),
        "date_text": _text(row.date_text),
        "date_assumed": bool(row.date_assumed),
        "published": _text(row.published),
        **{name: _count(getattr(row, name)) for name in COUNTS},
        "place": _text(row.place_name),
        "country_code": _text(row.country_code),
        "place_score": None if pandas.isna(row.place_score) else round(float(row.place_score), 3),
    }


def events_payload(frame: Any, story_urls: dict[str, str], version: str = "") -> dict[str, Any]:
    """The located event rows of ``frame`` (a store's ``events()``) for the map."""
    located = frame[frame.geometry.notna()] if len(frame) else frame
    rows = []
    for row, x, y in zip(
        located.itertuples(index=False),
        located.geometry.x.round(5).tolist() if len(located) else [],
        located.geometry.y.round(5).tolist() if len(located) else [],
        strict=True,
    ):
        item = event_row(row)
        item.update(lat=y, lon=x, story_url=story_urls.get(row.article_id))
        rows.append(item)
    return {
        "version": version,
        "types": [[t, TYPE_LABELS[t]] for t in EVENT_TYPES],
        "events": rows,
    }


def story_events(frame: Any) -> list[dict[str, Any]]:
    """A story's events for its page: one entry per event, its places gathered."""
    out: dict[str, dict[str, Any]] = {}
    for row in frame.itertuples(index=False):
        entry = out.get(row.event_id)
        if entry is None:
            entry = out[row.event_id] = {**event_row(row), "places": []}
            entry["counts"] = [(n, entry[n]) for n in COUNTS if entry[n] is not None]
            entry["before"], entry["word"], entry["after"] = _split(entry)
        place = _text(row.place_name)
        if place and place not in entry["places"]:
            entry["places"].append(place)
    return sorted(out.values(), key=lambda e: (e["date"] or "", e["id"]))


def _split(entry: dict[str, Any]) -> tuple[str, str, str]:
    """The sentence around its trigger: (before, trigger, after)."""
    text, (start, end) = entry["sentence"], entry["trigger"]
    return text[:start], text[start:end], text[end:]
