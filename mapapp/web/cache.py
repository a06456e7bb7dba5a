"""What the app keeps between requests, each piece tied to the store version it was read from.

Reading every mention and building the points payload takes a while at tens
of thousands of mentions, so it is done once per version of the store
(``MapData``); rendered map fragments and story pages are kept in a small LRU
keyed by that version.  One ``AppCache`` lives on each app
(``app.extensions["mapapp"]``), so two apps never share one.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from mapapp.maps.points import country_names, points_payload
from mapapp.maps.view import map_mentions
from mapapp.web.context import get_store, json_body

PAGE_CACHE = 512  # rendered map fragments and story pages kept (least recently used go)


@dataclass(frozen=True)
class MapData:
    """Everything the map pages read, from one snapshot of the store.

    ``frame`` is ``maps.view.map_mentions`` of the store (mention ``i`` of the
    payload is its row ``i``); ``articles`` lists every story as
    (article_id, headline, published) in the store's order (by date, undated last).
    """

    version: str
    frame: Any
    payload: bytes
    payload_gzip: bytes
    articles: tuple[tuple[str, str, str | None], ...]
    countries: tuple[tuple[str, str, int], ...]  # (code, name, mentions), by name


def build_map_data(store: Any, version: str) -> MapData:
    """Read ``store`` (at ``version``) into the map's frame, payload, stories and countries."""
    frame = map_mentions(store.mentions(include_undated=True))
    body = json_body(points_payload(frame, version)).encode("utf-8")
    articles = store.articles(include_undated=True)
    names = country_names()
    counted = frame["country_code"].dropna().astype(str).value_counts()
    countries = sorted(
        ((code, names.get(code, code), int(n)) for code, n in counted.items()), key=lambda c: c[1]
    )
    return MapData(
        version=version,
        frame=frame,
        payload=body,
        payload_gzip=gzip.compress(body, compresslevel=6),
        articles=tuple(
            zip(
                articles["article_id"].astype(str),
                articles["headline"].fillna("").astype(str),
                articles["published"].astype(object).where(articles["published"].notna(), None),
                strict=False,
            )
        ),
        countries=tuple(countries),
    )


class AppCache:
    """One app's cached map data, stats, pages and basemap bytes.

    Keys of anything read from the store start with the store's version, so a
    new ingest is never answered from the cache.
    """

    def __init__(self, pages: int = PAGE_CACHE) -> None:
        self._lock = threading.Lock()
        self._map_data: MapData | None = None
        self._stats: tuple[str, dict[str, Any]] | None = None
        self._pages: OrderedDict[Hashable, Any] = OrderedDict()
        self._pages_lock = threading.Lock()
        self._page_limit = pages
        self.basemap: bytes | None = None  # set by the assets blueprint
        self.basemap_gzip: tuple[str, bytes] | None = None  # (tag of the bytes, gzipped)
        self.labels: bytes | None = None  # the basemap's place names (assets blueprint)
        self.labels_gzip: tuple[str, bytes] | None = None

    def map_data(self, store: Any) -> MapData:
        """The map's data for ``store`` as it is now; rebuilt only when its version changed."""
        version = store.version()
        with self._lock:
            data = self._map_data
            if data is None or data.version != version:
                data = build_map_data(store, version)
                self._map_data = data
        return data

    def stats(self, store: Any) -> dict[str, Any]:
        """``store.stats()``, computed once per version of the store."""
        version = store.version()
        cached = self._stats
        if cached is None or cached[0] != version:
            cached = (version, store.stats())  # read after the version: a change is never missed
            self._stats = cached
        return cached[1]

    def remembered(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()``'s result, kept for later requests with the same ``key`` (an LRU)."""
        with self._pages_lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        value = build()  # outside the lock: two threads may build the same page once each
        with self._pages_lock:
            self._pages[key] = value
            while len(self._pages) > self._page_limit:
                self._pages.popitem(last=False)
        return value


def init_app(app: Flask) -> None:
    """Give ``app`` its own, empty cache."""
    app.extensions["mapapp"] = AppCache()


def app_cache() -> AppCache:
    """The current app's cache."""
    return current_app.extensions["mapapp"]


def map_data() -> MapData:
    """The map's data for the current app's store as it is now."""
    return app_cache().map_data(get_store())


def remembered(key: Hashable, build: Callable[[], Any]) -> Any:
    """``build()``'s result from the current app's page cache (see ``AppCache.remembered``)."""
    return app_cache().remembered(key, build)
