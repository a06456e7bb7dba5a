"""Events to store rows and back: one row per (event, place), built where a batch is parsed.

An event with no place keeps one row with no point (listed on its story's
page, never on the map); an event at two places is two rows sharing its
``event_id`` (the article id and the trigger's offsets, stable across
reprocessing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import geopandas
import pandas

from mapapp.records import Article, Event, EventPlace
from mapapp.stores.frames import to_point
from mapapp.stores.schema import CRS, EVENT_COLUMNS, typed

EventBatch = Sequence[tuple[Article, Sequence[Event]]]  # each article with its events


def event_id(article_id: str, event: Event) -> str:
    """The event's stable id: its story's id and its trigger's offsets."""
    return f"{article_id}:{event.trigger_start}-{event.trigger_end}"


def events_frame(batch: EventBatch) -> geopandas.GeoDataFrame:
    """The event rows of many articles (one per event and place; placeless events once)."""
    rows, points = [], []
    for article, events in batch:
        published = article.published.isoformat() if article.published else None
        for event in events:
            for place in event.places or (None,):
                rows.append(_event_row(article, published, event, place))
                located = place is not None and place.lat is not None and place.lon is not None
                points.append(to_point(place.lat, place.lon) if located else None)
    frame = pandas.DataFrame(rows, columns=list(EVENT_COLUMNS))
    text = [name for name, dtype in EVENT_COLUMNS.items() if dtype == "str"]
    frame[text] = frame[text].replace("", None)
    geometry = geopandas.GeoSeries(points, index=frame.index, crs=CRS)
    return geopandas.GeoDataFrame(typed(frame, EVENT_COLUMNS), geometry=geometry, crs=CRS)


def empty_events() -> geopandas.GeoDataFrame:
    """An events frame with no rows but the full schema and crs."""
    return events_frame([])


def _event_row(
    article: Article, published: str | None, event: Event, place: EventPlace | None
) -> dict[str, Any]:
    """The attribute values of one (event, place) row (everything but the point)."""
    return {
        "event_id": event_id(article.article_id, event),
        "article_id": article.article_id,
        "sentence_start": event.start,
        "sentence_end": event.end,
        "sentence": article.text[event.start : event.end],
        "trigger": event.trigger,
        "trigger_start": event.trigger_start,
        "trigger_end": event.trigger_end,
        "type": event.type,
        "kind": event.kind,
        "date": _iso(event.date),
        "date_start": _iso(event.date_start),
        "date_end": _iso(event.date_end),
        "date_text": event.date_text,
        "date_assumed": bool(event.date_is_publication),
        "killed": event.killed,
        "injured": event.injured,
        "displaced": event.displaced,
        "arrested": event.arrested,
        "subject": event.subject,
        "object": event.object,
        "score": float(event.score),
        "place_start": place.start if place else None,
        "place_end": place.end if place else None,
        "place_name": place.name if place else None,
        "geonameid": place.geonameid if place else None,
        "country_code": place.country_code if place else None,
        "place_score": float(place.score) if place else None,
        "published": published,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
