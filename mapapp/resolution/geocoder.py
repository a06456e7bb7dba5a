"""The offline gazetteer as a real geopy ``Geocoder``; it never touches the network.

``OfflineGeocoder(gazetteer).geocode("Damascus, Ore.")`` returns
`geopy.location.Location` objects whose ``raw`` is the gazetteer row, so any
geopy geocoder can stand in for it (and it for them).  A query is one name
alone, without an article around it: the resolver's context-free features
choose.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from mapapp.recognition.gazetteer import Gazetteer
from mapapp.records import Place, Toponym
from mapapp.resolution.features import COUNTRY_CODES, softmax_with_null
from mapapp.resolution.resolver import Resolver

COUNTRY_BIAS = 5.0  # as strong as an explicit "X, Country"
REVERSE_LIMIT = 10  # nearest towns ``reverse(exactly_one=False)`` returns


def split_query(query: str) -> tuple[str, str]:
    """ "Paris, Texas" -> ("Paris", "Texas"); a bare name has no qualifier."""
    name, _, qualifier = query.partition(",")
    return name.strip(), qualifier.strip()


def place_label(place: Place) -> str:
    """A human address for a place: name, admin-1, country code."""
    parts = [place.name]
    if place.admin1_name and place.admin1_name != place.name:
        parts.append(place.admin1_name)
    if place.country_code and place.feature_code not in COUNTRY_CODES:
        parts.append(place.country_code)
    return ", ".join(parts)


class OfflineGeocoder(Geocoder):
    """A geopy geocoder over the local GeoNames gazetteer; never touches the network."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        *,
        resolver: Resolver | None = None,
        user_agent: str = "mapapp-offline",
    ) -> None:
        super().__init__(user_agent=user_agent)
        self.gazetteer = gazetteer
        self.resolver = resolver or Resolver(gazetteer)

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: object = DEFAULT_SENTINEL,
        country_bias: str | None = None,
        limit: int | None = None,
    ) -> Location | list[Location] | None:
        """Places named ``query`` ("Damascus" or "Damascus, Ore."), best first.

        ``country_bias`` (ISO code) prefers that country's entries, as the
        article's country would.  Returns None when nothing matches.
        """
        name, qualifier = split_query(str(query))
        if not name:
            return None
        toponym = Toponym(name=name, start=0, end=len(name), qualifier=qualifier, source="given")
        cands = self.resolver.candidates(toponym)
        if not cands:
            return None
        feats = self.resolver.features(toponym, cands)
        logits = feats @ self.resolver.vector
        if country_bias:
            logits = logits + COUNTRY_BIAS * np.array(
                [self.gazetteer.country[c.index] == country_bias.upper() for c in cands]
            )
        probs = softmax_with_null(logits, -50.0)[:-1]
        order = np.argsort(-probs)[: (1 if exactly_one else (limit or len(cands)))]
        found = [self._to_location(cands[i].index, float(probs[i])) for i in order]
        return found[0] if exactly_one else found

    def reverse(
        self, query: object, *, exactly_one: bool = True, timeout: object = DEFAULT_SENTINEL
    ) -> Location | list[Location] | None:
        """Nearest populated place to a (lat, lon) point."""
        point = Point(query)
        gaz = self.gazetteer
        lat = np.asarray(gaz.lat)
        lon = np.asarray(gaz.lon)
        east = (lon - point.longitude) * np.cos(np.radians(point.latitude))
        d2 = (lat - point.latitude) ** 2 + east**2
        d2[np.asarray(gaz.fclass) != "P"] = np.inf
        order = np.argsort(d2)[: 1 if exactly_one else REVERSE_LIMIT]
        found = [self._to_location(int(i), 1.0) for i in order]
        return found[0] if exactly_one else found

    def _to_location(self, row: int, score: float) -> Location:
        place = self.gazetteer.place(row)
        raw = asdict(place) | {"score": score}
        return Location(place_label(place), (place.latitude, place.longitude), raw)
