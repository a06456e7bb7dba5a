"""Plain frozen records that flow between the stages (no logic here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ROLES = ("dateline", "focus", "mention", "demonym", "qualifier", "embedded")
# Demonyms ("Syrian"), qualifiers ("Texas" in "Paris, Texas") and places embedded in a
# name ("The Washington Post") are context for the resolver, not markers on the map.
MAP_ROLES = ("dateline", "focus", "mention")


@dataclass(frozen=True)
class Article:
    """One news story as parsed from a file.

    ``text`` is the body (dateline paragraph included); every mention offset
    points into it.  ``published`` is None when no date could be recognised.
    """

    article_id: str
    headline: str
    text: str
    published: date | None = None
    dateline: str | None = None
    deck: str | None = None
    url: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Toponym:
    """A place name as written in an article, with code-point offsets."""

    name: str
    start: int
    end: int
    role: str = "mention"
    sentence: str = ""
    source: str = "ner"  # ner | gazetteer | dateline | given
    qualifier: str = ""  # "Texas" in "Paris, Texas": resolved together with the name


@dataclass(frozen=True)
class Place:
    """One gazetteer entry (a GeoNames row or a reviewed region of our own).

    An online geocoder's answer has no ``geonameid``; ``provider_id`` then
    keeps the service's own id (e.g. ``relation/62422`` for OpenStreetMap).
    """

    geonameid: int | None
    name: str
    latitude: float
    longitude: float
    feature_class: str
    feature_code: str
    country_code: str
    admin1_code: str = ""
    admin1_name: str = ""
    population: int = 0
    provider_id: str | None = None


@dataclass(frozen=True)
class WeighedPlace:
    """One candidate the resolver weighed for a mention, with the model's probability."""

    geonameid: int | None
    name: str
    latitude: float
    longitude: float
    country_code: str = ""
    admin1_name: str = ""
    feature_class: str = ""
    feature_code: str = ""
    population: int = 0
    score: float = 0.0


@dataclass(frozen=True)
class Resolution:
    """The outcome of geocoding one toponym.

    ``place`` is None when the mention could not be resolved; ``reason`` then
    says why.  ``score`` is the resolver's confidence in [0, 1].
    """

    toponym: Toponym
    place: Place | None
    score: float = 0.0
    reason: str | None = None
    provider: str = "offline"
    alternatives: tuple[int, ...] = field(default=())
    candidates: tuple[WeighedPlace, ...] = ()  # the best few weighed, for a reviewer to pick from

    @property
    def resolved(self) -> bool:
        return self.place is not None


@dataclass(frozen=True)
class EventPlace:
    """A place where an event happened: a resolved (or unresolved) mention in the story.

    ``score`` is the calibrated probability that the event happened there.
    """

    start: int
    end: int
    name: str
    lat: float | None = None
    lon: float | None = None
    geonameid: int | None = None
    country_code: str | None = None
    score: float = 0.0


@dataclass(frozen=True)
class Event:
    """One reported event: its trigger, type, date, counts, actors and places.

    ``start``/``end`` bound the sentence, ``trigger_start``/``trigger_end`` the
    word that reports the event (code-point offsets into the story's text).
    ``date_is_publication`` is True when the text says nothing of when it happened.
    """

    start: int
    end: int
    trigger: str
    trigger_start: int
    trigger_end: int
    type: str
    kind: str | None = None  # the disaster's kind (flood, earthquake, ...) for type "disaster"
    date: date | None = None
    date_start: date | None = None
    date_end: date | None = None
    date_text: str | None = None
    date_is_publication: bool = False
    killed: int | None = None
    injured: int | None = None
    displaced: int | None = None
    arrested: int | None = None
    subject: str | None = None
    object: str | None = None
    places: tuple[EventPlace, ...] = ()
    score: float = 0.0
