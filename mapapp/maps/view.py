"""What the main map shows: its view (``MapView``) and which stored mentions it draws."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy
import pandas

from mapapp.geo import DRAWN_AREA_CLASSES
from mapapp.records import MAP_ROLES
from mapapp.text import strip_bidi


@dataclass(frozen=True)
class MapView:
    """What the main map shows, exactly as its URL says it.

    The browser applies the same filters to the points it loaded (map.js);
    ``filter_mentions`` is the Python twin used for exports, so a download
    holds what the reader saw.  ``lat``/``lon``/``zoom`` only place the map.
    """

    start: date | None = None
    end: date | None = None
    undated: bool = True  # show stories with no date, whatever the range
    q: str = ""  # place name or headline, case-insensitive
    country: str = ""  # ISO 3166-1 alpha-2, upper case
    roles: tuple[str, ...] = MAP_ROLES
    min_score: float = 0.0
    areas: bool = True  # countries, regions and other areas
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None
    layer: str = "events"  # the events layer is the default view; "mentions" the other
    types: tuple[str, ...] = ()  # event types shown; empty means every type
    dates: str = "event"  # the date filter reads the event's date, or "published"

    def params(self, *, view: bool = True) -> dict[str, str]:
        """The query parameters that differ from the defaults, in map.js's spelling."""
        out: dict[str, str] = {}
        if self.start:
            out["start"] = self.start.isoformat()
        if self.end:
            out["end"] = self.end.isoformat()
        if not self.undated:
            out["undated"] = "0"
        if self.q:
            out["q"] = self.q
        if self.country:
            out["country"] = self.country
        if tuple(self.roles) != MAP_ROLES:
            out["role"] = ",".join(self.roles)
        if self.min_score:
            out["min_score"] = f"{self.min_score:g}"
        if not self.areas:
            out["areas"] = "0"
        if self.layer != "events":
            out["layer"] = self.layer
        if self.types:
            out["types"] = ",".join(self.types)
        if self.dates != "event":
            out["dates"] = self.dates
        if view and self.zoom is not None and self.lat is not None and self.lon is not None:
            out.update(lat=f"{self.lat:.4f}", lon=f"{self.lon:.4f}", zoom=str(self.zoom))
        return out

    def state(self) -> dict[str, Any]:
        """The view as map.js's initial state (JSON-ready)."""
        return {
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "undated": self.undated,
            "q": self.q,
            "country": self.country,
            "roles": list(self.roles),
            "minScore": self.min_score,
            "areas": self.areas,
            "lat": self.lat,
            "lon": self.lon,
            "zoom": self.zoom,
            "layer": self.layer,
            "types": list(self.types),
            "dates": self.dates,
        }

    def without_view(self) -> MapView:
        """The same filters with no centre or zoom (the map fits itself to the places)."""
        return replace(self, lat=None, lon=None, zoom=None)


def cell_text(value: Any) -> str:
    """A frame cell as text for a page: missing values become '', bidi controls are dropped."""
    if value is None or (not isinstance(value, str) and pandas.isna(value)):
        return ""
    return strip_bidi(str(value))


def place_kind(feature_class: Any, feature_code: Any) -> str:
    """'area' for countries, admin divisions, regions, water and terrain; 'point' otherwise."""
    fclass = feature_class if isinstance(feature_class, str) else ""
    fcode = feature_code if isinstance(feature_code, str) else ""
    return "area" if fclass in DRAWN_AREA_CLASSES or fcode.startswith("PCL") else "point"


def place_kinds(frame: pandas.DataFrame) -> pandas.Series:
    """``place_kind`` for every row of a mentions frame, column-wise."""
    fclass = frame["feature_class"].astype(object).where(frame["feature_class"].notna(), "")
    fcode = frame["feature_code"].astype(object).where(frame["feature_code"].notna(), "")
    area = fclass.isin(DRAWN_AREA_CLASSES) | fcode.astype(str).str.startswith("PCL")
    return pandas.Series(numpy.where(area, "area", "point"), index=frame.index)


def score_milli(scores: pandas.Series) -> numpy.ndarray:
    """Scores as whole thousandths: the one rounding both Python and map.js compare."""
    return numpy.rint(scores.astype(float).fillna(0.0).to_numpy() * 1000).astype(int)


def map_mentions(frame: pandas.DataFrame) -> pandas.DataFrame:
    """The rows the map can draw: located, with a map role (never demonyms or qualifiers)."""
    located = frame.geometry.notna() & ~frame.geometry.is_empty
    keep = frame[located & frame["role"].isin(MAP_ROLES)].copy()
    keep["kind"] = place_kinds(keep)
    return keep.reset_index(drop=True)


def _lower(column: pandas.Series) -> pandas.Series:
    return column.astype(object).where(column.notna(), "").astype(str).str.lower()


def filter_mentions(frame: pandas.DataFrame, view: MapView) -> pandas.DataFrame:
    """The rows of a ``map_mentions`` frame that ``view`` shows (map.js does the same)."""
    published = frame["published"].astype(object).where(frame["published"].notna(), "")
    dated = published != ""
    in_range = dated.copy()
    if view.start:
        in_range &= published >= view.start.isoformat()
    if view.end:
        in_range &= published <= view.end.isoformat()
    keep = in_range | (~dated & view.undated)
    keep &= frame["role"].isin(view.roles)
    if view.country:
        keep &= _lower(frame["country_code"]) == view.country.lower()
    if view.min_score:
        keep &= score_milli(frame["score"]) >= round(view.min_score * 1000)
    if not view.areas:
        keep &= frame["kind"] != "area"
    if view.q:
        needle = view.q.lower()
        keep &= _lower(frame["resolved_name"]).str.contains(needle, regex=False) | _lower(
            frame["headline"]
        ).str.contains(needle, regex=False)
    return frame[keep.to_numpy()]
