"""A map URL's query read into a ``MapView`` (or a date range, or a bbox), checked once.

Every parser raises ``QueryError`` with a sentence fit to show the reader; the
web layer answers it with a 400, the command line with its message.  ``args``
is any mapping of parameter names to a value or a list of values (Flask's
``request.args``, or ``urllib.parse.parse_qs``'s dict).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from mapapp.errors import QueryError
from mapapp.maps.view import MapView
from mapapp.records import MAP_ROLES

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
MAX_SEARCH = 200  # characters of a search query


def _values(args: Mapping[str, Any], name: str) -> list[str]:
    """Every value given for a query parameter, in order."""
    if hasattr(args, "getlist"):
        return list(args.getlist(name))
    value = args.get(name)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _first(args: Mapping[str, Any], name: str) -> str | None:
    """The first value of a query parameter, or None."""
    values = _values(args, name)
    return values[0] if values else None


def _last(args: Mapping[str, Any], name: str) -> str | None:
    """The last value of a query parameter (a form's hidden default comes first)."""
    values = _values(args, name)
    return values[-1] if values else None


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD query value as a date; blank means no bound.

    :raise QueryError: the value is not a real YYYY-MM-DD date.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    shown = value if len(value) <= 40 else value[:40] + "..."
    raise QueryError(f"Bad date {shown!r}: use YYYY-MM-DD")


def parse_date_range(args: Mapping[str, Any]) -> tuple[date | None, date | None]:
    """The ``start``/``end`` query parameters, checked once for every view.

    :raise QueryError: a date is malformed, or start falls after end.
    """
    start, end = parse_day(_first(args, "start")), parse_day(_first(args, "end"))
    if start and end and start > end:
        raise QueryError(f"Start date {start} is after end date {end}: swap them or clear one")
    return start, end


def parse_bbox(args: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """The ``bbox`` query parameter, ``west,south,east,north`` in degrees, or None.

    :raise QueryError: not four numbers, outside the globe, or west/south past east/north.
    """
    raw = _first(args, "bbox")
    if raw is None or not raw.strip():
        return None
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError:
        raise QueryError("bbox must be four numbers: west,south,east,north (degrees)") from None
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    if not (finite and -180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise QueryError(
            "bbox must be west,south,east,north with -180 <= west <= east <= 180 "
            "and -90 <= south <= north <= 90"
        )
    return west, south, east, north


def _flag(args: Mapping[str, Any], name: str, default: bool) -> bool:
    """A 0/1 (or false/true, off/on) query parameter.

    :raise QueryError: any other value.
    """
    value = _last(args, name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise QueryError(f"Bad {name} {value[:40]!r}: use 1 to show or 0 to hide")


def _number(args: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    """A finite number in [low, high], or None when absent.

    :raise QueryError: not a number, or out of range.
    """
    value = _last(args, name)
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise QueryError(f"Bad {name} {value[:40]!r}: use a number from {low:g} to {high:g}")
    return number


def _roles(args: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``role`` parameter (comma-separated or repeated); absent means every role.

    :raise QueryError: a role that is not drawn on the map.
    """
    values = _values(args, "role")
    if not values:
        return MAP_ROLES
    wanted = {r.strip().lower() for v in values for r in v.split(",") if r.strip()}
    unknown = sorted(wanted - set(MAP_ROLES))
    if unknown:
        raise QueryError(f"Unknown role {unknown[0][:40]!r}: use {', '.join(MAP_ROLES)}")
    return tuple(r for r in MAP_ROLES if r in wanted)


LAYERS = ("events", "mentions")
EVENT_DATES = ("event", "published")


def _choice(args: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default).

    :raise QueryError: any other value.
    """
    value = (_last(args, name) or "").strip().lower()
    if not value:
        return choices[0]
    if value not in choices:
        raise QueryError(f"Bad {name} {value[:40]!r}: use {' or '.join(choices)}")
    return value


def _types(args: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``types`` parameter: event types, comma-separated; absent means every type.

    :raise QueryError: a type the taxonomy does not have.
    """
    from mapapp.events.taxonomy import EVENT_TYPES

    wanted = {t.strip().lower() for v in _values(args, "types") for t in v.split(",") if t.strip()}
    unknown = sorted(wanted - set(EVENT_TYPES))
    if unknown:
        raise QueryError(f"Unknown event type {unknown[0][:40]!r}: use {', '.join(EVENT_TYPES)}")
    return tuple(t for t in EVENT_TYPES if t in wanted)


def parse_view(args: Mapping[str, Any]) -> MapView:
    """The map's filters and view from a query string, checked once for every route.

    :raise QueryError: a bad date, role, country, score or position, with a sentence.
    """
    start, end = parse_date_range(args)
    query = (_last(args, "q") or "").strip()
    if len(query) > MAX_SEARCH:
        raise QueryError(f"Search text is {len(query)} characters long: use at most {MAX_SEARCH}")
    country = (_last(args, "country") or "").strip()
    if country and not _COUNTRY.fullmatch(country):
        raise QueryError(f"Bad country {country[:40]!r}: use a two-letter code such as SY")
    min_score = _number(args, "min_score", 0.0, 1.0) or 0.0
    lat = _number(args, "lat", -90.0, 90.0)
    lon = _number(args, "lon", -1e4, 1e4)
    zoom = _number(args, "zoom", 0, 18)
    if zoom is None or lat is None or lon is None:
        lat = lon = zoom = None
    elif not -180.0 <= lon <= 180.0:  # Leaflet lets the world repeat: wrap it back
        lon = round((lon + 180.0) % 360.0 - 180.0, 6)
    return MapView(
        start=start,
        end=end,
        undated=_flag(args, "undated", True),
        q=query,
        country=country.upper(),
        roles=_roles(args),
        min_score=min_score,
        areas=_flag(args, "areas", True),
        lat=lat,
        lon=lon,
        zoom=None if zoom is None else int(zoom),
        layer=_choice(args, "layer", LAYERS),
        types=_types(args),
        dates=_choice(args, "dates", EVENT_DATES),
    )
