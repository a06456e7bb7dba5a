"""Online geocoders as an opt-in fallback: polite, cached for good, never silently wrong.

The offline gazetteer answers first.  A mention it cannot place, or places
with a score below ``GEOCODER_MIN_SCORE``, is asked of any geopy geocoder
named by ``GEOCODER`` (``nominatim``, ``photon``, ``opencage``, ...):

* `options`: ``GEOCODER_OPTIONS`` items, split between the geopy class's
  constructor and each call; secrets refused on the command line;
* `retry`: `PoliteRateLimiter`, geopy's ``RateLimiter`` at the service's
  documented rate that retries only transient errors (429, 5xx, timeouts)
  with back-off, honours ``Retry-After`` and never swallows a failure;
* `cache`: `GeocodeCache` keeps every answer, "not found" included, in one
  SQLite file beside the store, keyed by (service, query, options), so that a
  second run over the same articles sends no request at all; `CachedGeocoder`
  asks it before the rate-limited service;
* `answers`: an answer as the same `Place` record as the gazetteer's
  (``geonameid`` None, the service's id as ``provider_id``);
* `context`: the pick among the service's answers, with the article's context;
* `fallback`: `OnlineFallback`, what the geoparser calls; a failed lookup is
  recorded on its mention as a ``reason``;
* `factory`: `make_geocoder` and `make_fallback` from `Settings` (offline
  builds nothing).
"""
