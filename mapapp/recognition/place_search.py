"""A search over the whole gazetteer, for an editor picking the place a mention really means.

The web layer may not import the gazetteer (it only reads the store), so the
CLI and ``run.py`` build a `PlaceSearch` and hand it to ``create_app``; it
loads the gazetteer on its first question, not at start-up.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mapapp.recognition.gazetteer import Gazetteer, name_key
from mapapp.settings import Settings

MAX_RESULTS = 50
MIN_PREFIX = 2  # letters before names starting with the query are offered too


class PlaceSearch:
    """Places by name (whole name first, then names starting so) or by GeoNames id."""

    def __init__(self, load: Callable[[], Gazetteer]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._gazetteer: Gazetteer | None = None
        self._keys: list[str] = []

    def _ready(self) -> Gazetteer:
        """The gazetteer and its sorted name keys, loaded once."""
        with self._lock:
            if self._gazetteer is None:
                gazetteer = self._load()
                self._keys = sorted(gazetteer.names)
                self._gazetteer = gazetteer
            return self._gazetteer

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Up to ``limit`` places named ``query`` (or whose name starts with it), biggest first;
        a number is looked up as a GeoNames id."""
        gazetteer = self._ready()
        limit = max(1, min(int(limit), MAX_RESULTS))
        text = query.strip()
        if text.isdigit():
            found = self.place(int(text))
            return [found] if found else []
        key = name_key(text)
        if not key:
            return []
        exact = [c.index for c in gazetteer.candidates(text)]
        prefixed: list[int] = []
        start = bisect.bisect_left(self._keys, key) if len(key) >= MIN_PREFIX else len(self._keys)
        for other in self._keys[start : start + 400]:  # names starting with the query
            if not other.startswith(key):
                break
            if other != key:
                prefixed.extend(c.index for c in gazetteer.candidates(other, fuzzy=False))

        def biggest(rows: list[int]) -> list[int]:
            return sorted(dict.fromkeys(rows), key=lambda r: -gazetteer.population[r])

        rows = list(dict.fromkeys([*biggest(exact), *biggest(prefixed)]))
        seen: set[int] = set()
        places = []
        for row in rows:
            geonameid = gazetteer.geonameid[row]
            if geonameid is None or geonameid in seen:
                continue
            seen.add(geonameid)
            places.append(place_dict(gazetteer, row))
            if len(places) == limit:
                break
        return places

    def place(self, geonameid: int) -> dict[str, Any] | None:
        """The gazetteer entry with ``geonameid``, or None."""
        gazetteer = self._ready()
        row = gazetteer.by_geonameid.get(int(geonameid))
        return None if row is None else place_dict(gazetteer, row)


def place_dict(gazetteer: Gazetteer, row: int) -> dict[str, Any]:
    """Entry ``row`` with the keys a stored candidate has (what the review UI shows)."""
    place = gazetteer.place(row)
    return {
        "geonameid": place.geonameid,
        "name": place.name,
        "admin1": place.admin1_name,
        "country_code": place.country_code,
        "feature_class": place.feature_class,
        "feature_code": place.feature_code,
        "population": int(place.population or 0),
        "lat": round(place.latitude, 6),
        "lon": round(place.longitude, 6),
    }


def place_search_for(settings: Settings) -> PlaceSearch:
    """A search over the gazetteer ``settings`` name, loaded (from its cache) on first use."""
    from mapapp.recognition.gazetteer_cache import load_gazetteer

    return PlaceSearch(lambda: load_gazetteer(Path(settings.data_packages), settings.cache_folder))
