"""Online geocoders as an opt-in fallback: polite, cached for good, never silently wrong.

The offline gazetteer answers first.  A mention it cannot place, or places
with a score below ``GEOCODER_MIN_SCORE``, is asked of any geopy geocoder
named by ``GEOCODER`` (``nominatim``, ``photon``, ``opencage``, ...):

* `PoliteRateLimiter` is geopy's ``RateLimiter`` at the service's documented
  rate that retries only transient errors (429, 5xx, timeouts) with back-off,
  honours ``Retry-After`` and never swallows a failure;
* `GeocodeCache` keeps every answer, "not found" included, in one SQLite file
  beside the store, keyed by (service, query, options), so that a second run
  over the same articles sends no request at all;
* `CachedGeocoder` puts the two together (built only by `make_geocoder`);
* `OnlineFallback` picks among the service's answers with the article's
  context and turns the pick into the same `Place`/`Resolution` records as
  the gazetteer's (``geonameid`` None, ``provider`` the service's name).  A
  failed lookup is recorded on its mention as a ``reason``.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from geopy.adapters import URLLibAdapter
from geopy.exc import (
    ConfigurationError, GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges,
    GeocoderNotFound, GeocoderQuotaExceeded, GeocoderRateLimited,
    GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable,
)
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service
from geopy.location import Location

from mapapp.settings import Settings
from mapapp.errors import ConfigError, GeocodingError, StoreError
from mapapp.geo import haversine_km
from mapapp.records import MAP_ROLES, Article, Place, Resolution, Toponym

logger = logging.getLogger(__name__)

OFFLINE = "offline"
CACHE_FILE = "geocode-cache.sqlite"
BUSY_TIMEOUT = 30.0  # seconds a process waits for another one writing the cache
DEFAULT_MIN_DELAY = 1.0  # a polite default where a service documents no limit
MIN_DELAY_SECONDS = {  # documented limits of the public services
    "nominatim": 1.0,  # operations.osmfoundation.org/policies/nominatim: at most 1 req/s
    "openmapquest": 1.0,
    "photon": 1.0,  # photon.komoot.io: fair use, no bulk geocoding
    "opencage": 1.0,  # free plan: 1 req/s
    "googlev3": 1 / 50,
}
NEEDS_USER_AGENT = frozenset({"nominatim"})
SECRET_OPTIONS = frozenset({
    "api_key", "apikey", "ak", "sk", "key", "secret", "secret_key", "client_secret",
    "password", "token", "access_token", "app_key", "app_code", "auth_id", "auth_token",
})
API_KEY_PARAMS = ("api_key", "apikey", "ak", "key")
UNKEYED_OPTIONS = frozenset({"timeout", "proxies", "user_agent", "ssl_context", "adapter_factory"})
CALL_DEFAULTS = {"limit": 10, "addressdetails": True}  # sent where the service accepts them
DEFAULT_TIMEOUT = 10
BACKOFF_SECONDS = 2.0
MAX_WAIT_SECONDS = 300.0  # a longer Retry-After means: stop asking this service today
RANK_WEIGHT, COUNTRY_WEIGHT, NEAR_WEIGHT = 1.0, 3.0, 2.0
DOMINANT_SHARE = 0.75  # a country this much of the article points at rules out the others
EARTH_HALF_CIRCUMFERENCE_KM = 20039.0


class LookupFailed(GeocodingError):
    """An online lookup failed for a reason other than "not found"; ``fatal`` stops the service."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass
class OnlineStats:
    """Running counters of one online geocoder (read live by the progress bar)."""

    service: str
    min_delay_seconds: float
    requests: int = 0
    cache_hits: int = 0
    lookups: int = 0
    failures: int = 0
    articles: int = 0

    def eta_seconds(self, total_articles: int) -> float:
        """Seconds the rate limit implies for the articles left, at this run's lookups per article."""
        if not self.articles:
            return 0.0
        per_article = self.lookups / self.articles
        return max(0, total_articles - self.articles) * per_article * self.min_delay_seconds

    def describe(self) -> str:
        """One line for the progress bar and the ingest summary."""
        return (f"{self.service}: {self.requests} requests, {self.cache_hits} from cache, "
                f"{self.failures} failed")


# -- options -------------------------------------------------------------------

def option_value(text: str) -> Any:
    """A ``key=value`` value with its obvious type: true/false, int, float, else the text."""
    lowered = text.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_option(text: str) -> tuple[str, Any]:
    """ "domain=nominatim.example.org" -> ("domain", "nominatim.example.org")."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"geocoder option {text!r} is not key=value")
    return key.strip(), option_value(value.strip())


def parse_options(options: str | Iterable[str] | None) -> dict[str, Any]:
    """Space-separated ``key=value`` pairs (a string) or a list of them, as a dict."""
    items = options.split() if isinstance(options, str) else list(options or ())
    return dict(parse_option(item) for item in items)


def refuse_secret(key: str) -> None:
    """A secret never goes on a command line (shell history, ``ps``): point to the env var."""
    if key.lower() in SECRET_OPTIONS:
        raise ConfigError(f"geocoder option {key!r} looks like a secret: set "
                          "MAPAPP_GEOCODER_API_KEY in the environment instead of passing it "
                          "on the command line")


def _parameters(func: Callable[..., Any]) -> set[str]:
    """Names of the keyword parameters ``func`` accepts."""
    return {name for name, p in inspect.signature(func).parameters.items()
            if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def split_options(cls: type, options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options for the geocoder's constructor, and those for each ``geocode`` call."""
    init, call = _parameters(cls.__init__), _parameters(cls.geocode) - {"query", "exactly_one"}
    unknown = sorted(set(options) - init - call)
    if unknown:
        raise ConfigError(f"{cls.__name__} has no option {', '.join(map(repr, unknown))}; "
                          f"it takes {', '.join(sorted((init | call) - {'user_agent'}))}")
    return ({k: v for k, v in options.items() if k in init},
            {k: v for k, v in options.items() if k in call})


def key_options(init: Mapping[str, Any], call: Mapping[str, Any]) -> str:
    """The options that can change an answer, as canonical JSON (no secrets, no timeouts)."""
    kept = {k: v for k, v in {**init, **call}.items()
            if k not in UNKEYED_OPTIONS and k.lower() not in SECRET_OPTIONS}
    return json.dumps(kept, sort_keys=True, default=str)


# -- errors and retries ----------------------------------------------------------

def http_status(err: BaseException) -> int | None:
    """The HTTP status behind a geopy error, when there was one."""
    return getattr(err.__cause__, "status_code", None)


def describe_error(err: GeocoderServiceError) -> str:
    """A short, user-facing name for a geopy failure: "HTTP 500", "timed out", ..."""
    status = http_status(err)
    if status is not None:
        return f"HTTP {status}"
    if isinstance(err, GeocoderTimedOut):
        return "timed out"
    if isinstance(err, GeocoderUnavailable):
        return "unreachable"
    return f"{type(err).__name__}: {err}"


def is_transient(err: GeocoderServiceError) -> bool:
    """429, 5xx, timeouts and unreachable hosts are worth another try; the rest are not."""
    status = http_status(err)
    if status is not None:
        return status in (408, 429) or status >= 500
    return (isinstance(err, (GeocoderTimedOut, GeocoderUnavailable))
            or type(err) is GeocoderServiceError)


def is_fatal(err: GeocoderServiceError) -> bool:
    """Refused keys, blocks and spent quotas: asking again would only be rude."""
    if isinstance(err, GeocoderRateLimited):
        return False
    return isinstance(err, (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges,
                            GeocoderQuotaExceeded))


class PoliteRateLimiter(RateLimiter):
    """geopy's RateLimiter that retries transient errors only, backs off and honours Retry-After.

    It never swallows a failure: after the last try it raises `LookupFailed`
    naming the service, the error and the number of tries.  ``_clock`` and
    ``_sleep`` are the inherited methods, so tests patch time, not sleep.
    """

    def __init__(self, func: Callable[..., Any], *, service: str, min_delay_seconds: float,
                 max_retries: int = 2, backoff_seconds: float = BACKOFF_SECONDS,
                 max_wait_seconds: float = MAX_WAIT_SECONDS,
                 stats: OnlineStats | None = None) -> None:
        super().__init__(func, min_delay_seconds=min_delay_seconds, max_retries=max_retries,
                         error_wait_seconds=max(backoff_seconds, min_delay_seconds),
                         swallow_exceptions=False)
        self.service = service
        self.max_wait_seconds = max_wait_seconds
        self.stats = stats or OnlineStats(service, min_delay_seconds)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, self.max_retries + 2):
            self._acquire_request_slot()
            self.stats.requests += 1
            try:
                return self.func(*args, **kwargs)
            except GeocoderServiceError as err:
                self._sleep(self._wait_after(err, attempt))
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def _wait_after(self, err: GeocoderServiceError, attempt: int) -> float:
        """Seconds to wait before the next try, or `LookupFailed` when there is none."""
        what = f"{self.service}: {describe_error(err)}"
        if not is_transient(err):
            raise LookupFailed(what, fatal=is_fatal(err)) from err
        tries = "try" if attempt == 1 else "tries"
        if attempt > self.max_retries:
            raise LookupFailed(f"{what} after {attempt} {tries}") from err
        wait = self.retry_wait(err, attempt)
        if wait > self.max_wait_seconds:
            raise LookupFailed(f"{what}; asked to wait {wait:.0f} s", fatal=True) from err
        logger.warning("%s; retrying in %.1f s (%d/%d)", what, wait, attempt, self.max_retries)
        return wait

    def retry_wait(self, err: GeocoderServiceError, attempt: int) -> float:
        """Exponential back-off, or the server's ``Retry-After`` when that is longer."""
        backoff = self.error_wait_seconds * 2 ** (attempt - 1)
        return max(backoff, float(getattr(err, "retry_after", None) or 0.0))


# -- the persistent cache -----------------------------------------------------------

@dataclass(frozen=True)
class CacheStats:
    """What a geocode cache file holds."""

    path: str
    entries: int
    not_found: int
    expired: int
    by_service: Mapping[str, int]
    oldest: str | None
    newest: str | None
    size_bytes: int


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc).isoformat(
        timespec="seconds")


def normalize_query(query: str) -> str:
    """The cache's spelling of a query: whitespace collapsed, case folded."""
    return " ".join(str(query).split()).casefold()


def location_json(location: Location) -> list[Any]:
    """A geopy Location as [address, lat, lon, raw]."""
    return [location.address, location.latitude, location.longitude, location.raw]


def json_location(item: Sequence[Any]) -> Location:
    """The inverse of `location_json`."""
    address, lat, lon, raw = item
    return Location(address, (lat, lon), raw)


class GeocodeCache:
    """Every answer of the online geocoders, "not found" included, in one SQLite file.

    The file is shared by runs and processes (WAL journal, busy timeout);
    each answer is committed as soon as it arrives, so a crash loses none.
    ``max_age_days`` 0 keeps answers forever.
    """

    SCHEMA = ('CREATE TABLE IF NOT EXISTS answers (service TEXT NOT NULL, query TEXT NOT NULL, '
              'options TEXT NOT NULL, answer TEXT NOT NULL, fetched_at REAL NOT NULL, '
              'PRIMARY KEY (service, query, options))')

    def __init__(self, path: str | Path, *, max_age_days: float = 0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_age_seconds = float(max_age_days) * 86400.0
        self.clock = clock
        self._lock = threading.Lock()
        self._conn = self._open()

    def __repr__(self) -> str:
        return f"GeocodeCache({str(self.path)!r})"

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            conn.execute(self.SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"{self.path}: cannot open the geocode cache ({err})") from err
        return conn

    def _fresh_since(self) -> float:
        return self.clock() - self.max_age_seconds if self.max_age_seconds > 0 else -math.inf

    def get(self, service: str, query: str, options: str) -> list[Location] | None:
        """The cached answers (``[]`` for "not found"), or None when unknown or expired."""
        with self._lock:
            row = self._conn.execute(
                "SELECT answer, fetched_at FROM answers WHERE service=? AND query=? AND options=?",
                (service, normalize_query(query), options)).fetchone()
        if row is None or row[1] < self._fresh_since():
            return None
        return [json_location(item) for item in json.loads(row[0])]

    def put(self, service: str, query: str, options: str, answers: Sequence[Location]) -> None:
        """Keep ``answers`` (committed at once; replaces an expired entry)."""
        payload = json.dumps([location_json(a) for a in answers], ensure_ascii=False, default=str)
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                               (service, normalize_query(query), options, payload, self.clock()))

    def stats(self) -> CacheStats:
        """Entries, "not found" answers, expired entries and services of the file."""
        with self._lock:
            total, empty, expired, oldest, newest = self._conn.execute(
                "SELECT count(*), coalesce(sum(answer = '[]'), 0), "
                "coalesce(sum(fetched_at < ?), 0), min(fetched_at), max(fetched_at) FROM answers",
                (self._fresh_since(),)).fetchone()
            services = dict(self._conn.execute(
                "SELECT service, count(*) FROM answers GROUP BY service ORDER BY service"))
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return CacheStats(str(self.path), total, empty, expired, services, _iso(oldest),
                          _iso(newest), size)

    def clear(self, service: str | None = None, *, expired_only: bool = False) -> int:
        """Forget answers (of one service, or only the expired ones); returns how many."""
        clauses, params = ["fetched_at < ?"], [self._fresh_since() if expired_only else math.inf]
        if service:
            clauses.append("service = ?")
            params.append(service.lower())
        with self._lock:
            cursor = self._conn.execute(
                f"DELETE FROM answers WHERE {' AND '.join(clauses)}", params)
        return cursor.rowcount

    def close(self) -> None:
        """Close the connection (the answers are already on disk)."""
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class CachedGeocoder:
    """Ask the cache first and the rate-limited service only on a miss; keep every answer."""

    service: str
    geocode: Callable[..., Any]
    cache: GeocodeCache
    options: Mapping[str, Any] = field(default_factory=dict)
    key: str = "{}"
    stats: OnlineStats = field(default_factory=lambda: OnlineStats("online", DEFAULT_MIN_DELAY))

    def __call__(self, query: str) -> list[Location]:
        """Every answer for ``query``, best first (``[]`` when the service knows none)."""
        cached = self.cache.get(self.service, query, self.key)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        self.stats.lookups += 1
        found = self.geocode(query, exactly_one=False, **self.options)
        answers = [] if found is None else [found] if isinstance(found, Location) else list(found)
        self.cache.put(self.service, query, self.key, answers)
        return answers

    def close(self) -> None:
        """Close the cache file."""
        self.cache.close()


# -- answers as records ------------------------------------------------------------------

OSM_CLASSES = {
    "place": "P", "boundary": "A", "highway": "R", "railway": "R", "natural": "T",
    "waterway": "H", "water": "H", "landuse": "L", "leisure": "L",
}
ADDRESS_TYPES = {
    "country": ("A", "PCLI"), "state": ("A", "ADM1"), "province": ("A", "ADM1"),
    "region": ("A", "ADM1"), "county": ("A", "ADM2"), "district": ("A", "ADM2"),
    "city": ("P", "PPL"), "town": ("P", "PPL"), "village": ("P", "PPL"), "hamlet": ("P", "PPL"),
    "suburb": ("P", "PPLX"), "quarter": ("P", "PPLX"), "neighbourhood": ("P", "PPLX"),
}
OSM_TYPES = {"N": "node", "W": "way", "R": "relation"}


def _parts(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(address details, properties) of a Nominatim, Photon or OpenCage answer."""
    props = raw.get("properties") if isinstance(raw.get("properties"), Mapping) else {}
    address = raw.get("address") or raw.get("components") or {}
    return (address if isinstance(address, Mapping) else {}), props


def country_of(raw: Mapping[str, Any]) -> str:
    """ISO 3166-1 alpha-2 code of an answer, "" when the service did not say."""
    address, props = _parts(raw)
    code = (address.get("country_code") or address.get("ISO_3166-1_alpha-2")
            or props.get("countrycode") or "")
    return str(code).upper() if len(str(code)) == 2 else ""


def admin1_of(raw: Mapping[str, Any]) -> str:
    """The state or province an answer lies in, when known."""
    address, props = _parts(raw)
    return str(address.get("state") or props.get("state") or "")


def feature_of(raw: Mapping[str, Any]) -> tuple[str, str]:
    """A GeoNames-style (feature class, feature code) guessed from OSM tags; S for a spot."""
    address, props = _parts(raw)
    kind = raw.get("addresstype") or props.get("type") or raw.get("type") or ""
    if kind in ADDRESS_TYPES:
        return ADDRESS_TYPES[kind]
    osm_class = raw.get("class") or raw.get("category") or props.get("osm_key") or ""
    fclass = OSM_CLASSES.get(osm_class, "S")
    return fclass, {"P": "PPL", "A": "ADMD"}.get(fclass, "")


def provider_id_of(raw: Mapping[str, Any]) -> str | None:
    """The service's id of an answer: "relation/62422" for OSM-based ones, else its own id."""
    _, props = _parts(raw)
    osm_type = raw.get("osm_type") or props.get("osm_type")
    osm_id = raw.get("osm_id") or props.get("osm_id")
    if osm_type and osm_id:
        return f"{OSM_TYPES.get(str(osm_type), osm_type)}/{osm_id}"
    found = raw.get("place_id") or raw.get("id") or props.get("gid") or props.get("id")
    return None if found is None else str(found)


def to_place(location: Location) -> Place:
    """An online answer as a `Place` (no geonameid; the provider's id kept)."""
    raw = location.raw if isinstance(location.raw, Mapping) else {}
    fclass, fcode = feature_of(raw)
    name = str(raw.get("name") or location.address.split(",")[0]).strip()
    return Place(None, name or location.address, float(location.latitude),
                 float(location.longitude), fclass, fcode, country_of(raw),
                 admin1_name=admin1_of(raw), provider_id=provider_id_of(raw))


def query_for(toponym: Toponym) -> str:
    """The text sent to the service: the name, with its qualifier ("Paris, Texas")."""
    return f"{toponym.name}, {toponym.qualifier}" if toponym.qualifier else toponym.name


# -- disambiguation in context ---------------------------------------------------------

@dataclass(frozen=True)
class ArticleContext:
    """Where the rest of an article points: shares of countries, and confident points."""

    countries: Mapping[str, float]
    points: tuple[tuple[float, float], ...] = ()

    @property
    def dominant(self) -> str | None:
        """The country most of the article is about, when one clearly is."""
        if not self.countries:
            return None
        code, share = max(self.countries.items(), key=lambda kv: kv[1])
        return code if share >= DOMINANT_SHARE else None


def article_context(resolutions: Sequence[Resolution], leave_out: str) -> ArticleContext:
    """Context from the article's placed mentions other than those named ``leave_out``."""
    weights: dict[str, float] = defaultdict(float)
    points = []
    for r in resolutions:
        place = r.place
        if place is None or normalize_query(r.toponym.name) == normalize_query(leave_out):
            continue
        weight = (2.0 if r.toponym.role == "dateline" else 1.0) * max(r.score, 0.05)
        if place.country_code:
            weights[place.country_code] += weight
        if place.feature_class in ("P", "S") and r.score >= 0.5:
            points.append((place.latitude, place.longitude))
    total = sum(weights.values())
    shares = {k: v / total for k, v in weights.items()} if total else {}
    return ArticleContext(shares, tuple(points))


def nearness(lat: float, lon: float, points: Sequence[tuple[float, float]]) -> float:
    """1 on top of the nearest context point, 0 at the antipode (0 without points)."""
    if not points:
        return 0.0
    km = min(haversine_km(lat, lon, p_lat, p_lon) for p_lat, p_lon in points)
    return 1.0 - math.log1p(km) / math.log1p(EARTH_HALF_CIRCUMFERENCE_KM)


def pick_answer(answers: Sequence[Location], context: ArticleContext
                ) -> tuple[int, float] | str:
    """(index, confidence) of the answer that fits the article best, or why none does."""
    countries = [country_of(a.raw) for a in answers]
    dominant = context.dominant
    if dominant and any(countries) and dominant not in countries:
        return f"no answer in {dominant}, where the rest of the article is"
    logits = [RANK_WEIGHT / (1 + rank) + COUNTRY_WEIGHT * context.countries.get(cc, 0.0)
              + NEAR_WEIGHT * nearness(a.latitude, a.longitude, context.points)
              for rank, (a, cc) in enumerate(zip(answers, countries))]
    top = max(logits)
    probs = [math.exp(z - top) for z in logits]
    best = max(range(len(answers)), key=logits.__getitem__)
    return best, probs[best] / sum(probs)


# -- the fallback the geoparser calls --------------------------------------------------

class OnlineFallback:
    """Re-ask an online geocoder about the mentions the gazetteer left unplaced or unsure."""

    def __init__(self, geocoder: Callable[[str], list[Location]], *, service: str,
                 min_score: float, stats: OnlineStats | None = None) -> None:
        self.geocoder = geocoder
        self.service = service
        self.min_score = min_score
        self.stats = stats or OnlineStats(service, DEFAULT_MIN_DELAY)
        self.gave_up: str | None = None  # set by a fatal error: no more requests this run

    def wants(self, resolution: Resolution) -> bool:
        """Map-worthy mentions that are unresolved or scored below ``min_score``."""
        return resolution.toponym.role in MAP_ROLES and (
            resolution.place is None or resolution.score < self.min_score)

    def __call__(self, article: Article, resolutions: list[Resolution]) -> list[Resolution]:
        """The article's resolutions, with the unsure ones re-asked online."""
        self.stats.articles += 1
        return [self.revisit(r, resolutions) if self.wants(r) else r for r in resolutions]

    def revisit(self, resolution: Resolution, resolutions: Sequence[Resolution]) -> Resolution:
        """One mention asked online: a new place, the old answer kept, or the failure recorded."""
        try:
            answers = self.lookup(query_for(resolution.toponym))
        except LookupFailed as err:
            self.stats.failures += 1
            return self.failed(resolution, str(err))
        picked = pick_answer(answers, article_context(resolutions, resolution.toponym.name)) \
            if answers else "not found"
        if isinstance(picked, str):
            return self.not_placed(resolution, f"{self.service}: {picked}")
        index, confidence = picked
        return Resolution(resolution.toponym, to_place(answers[index]), round(confidence, 4),
                          provider=self.service)

    def lookup(self, query: str) -> list[Location]:
        """The service's answers (from the cache when known); fails fast once it gave up."""
        if self.gave_up is not None:
            raise LookupFailed(f"{self.gave_up} (no more requests this run)")
        try:
            return self.geocoder(query)
        except LookupFailed as err:
            if err.fatal:
                self.gave_up = str(err)
            raise

    def failed(self, resolution: Resolution, why: str) -> Resolution:
        """Keep the gazetteer's unsure answer if any; record the failure either way."""
        if resolution.place is not None:
            return replace(resolution, reason=f"kept the gazetteer's answer; {why}")
        return replace(resolution, reason=why, provider=self.service)

    def not_placed(self, resolution: Resolution, why: str) -> Resolution:
        """The service had no fitting answer: the gazetteer's answer, or both reasons."""
        if resolution.place is not None:
            return resolution
        reason = f"{resolution.reason}; {why}" if resolution.reason else why
        return replace(resolution, reason=reason)

    def close(self) -> None:
        """Release the geocoder's cache file."""
        close = getattr(self.geocoder, "close", None)
        if close is not None:
            close()


# -- factories -----------------------------------------------------------------------

def service_name(config: Settings) -> str:
    """The configured geocoder's geopy name, lower case; ``offline`` by default."""
    return (config.geocoder or OFFLINE).strip().lower()


def geocode_cache_path(config: Settings) -> Path:
    """``GEOCODE_CACHE``, else geocode-cache.sqlite beside the store."""
    if config.geocode_cache:
        return Path(config.geocode_cache)

    return config.store_folder / CACHE_FILE


def require_user_agent(service: str, config: Settings) -> str:
    """The configured User-Agent; services whose policy demands one refuse to start without it."""
    agent = config.user_agent.strip()
    if not agent and service in NEEDS_USER_AGENT:
        raise ConfigError(
            f"{service} requires a User-Agent that names your application and a contact "
            "(its usage policy: https://operations.osmfoundation.org/policies/nominatim/); "
            "set MAPAPP_USER_AGENT or pass --user-agent, e.g. "
            "--user-agent 'newsdesk-map/1.0 (maps@example.org)'")
    if not agent:
        from importlib.metadata import PackageNotFoundError, version

        try:
            agent = f"mapapp/{version('mapapp')}"
        except PackageNotFoundError:
            agent = "mapapp"
    return agent


def min_delay_for(service: str, init: Mapping[str, Any], config: Settings) -> float:
    """Seconds between requests: the documented limit; slower if asked, faster only self-hosted."""
    documented = MIN_DELAY_SECONDS.get(service, DEFAULT_MIN_DELAY)
    asked = config.geocoder_min_delay
    if asked <= 0:
        return documented
    return asked if asked >= documented or "domain" in init else documented


def geocoder_class(service: str) -> type:
    """geopy's geocoder class for ``service``; a clear error for a name it does not know."""
    try:
        return get_geocoder_for_service(service)
    except GeocoderNotFound as err:
        from geopy.geocoders import SERVICE_TO_GEOCODER

        raise ConfigError(f"unknown geocoder {service!r}: use 'offline' or one of "
                          f"{', '.join(sorted(SERVICE_TO_GEOCODER))}") from err


def build_geocoder(cls: type, init: Mapping[str, Any], user_agent: str, api_key: str) -> Any:
    """Instantiate the geopy geocoder, the API key going to whichever parameter takes it.

    The adapter is urllib's: requests' adapter would retry a 429 by itself,
    sleeping out its Retry-After unseen by our limiter and its counters.
    """
    params = _parameters(cls.__init__)
    kwargs = {"timeout": DEFAULT_TIMEOUT, **init, "user_agent": user_agent,
              "adapter_factory": URLLibAdapter}
    if api_key:
        slot = next((name for name in API_KEY_PARAMS if name in params), None)
        if slot is None:
            raise ConfigError(f"{cls.__name__} takes no API key; unset MAPAPP_GEOCODER_API_KEY")
        kwargs[slot] = api_key
    try:
        return cls(**kwargs)
    except (ConfigurationError, TypeError) as err:
        raise ConfigError(f"cannot set up {cls.__name__}: {err}") from err


def make_geocoder(config: Settings) -> CachedGeocoder:
    """The configured online geocoder: rate-limited, retrying, never swallowing, cached."""
    service = service_name(config)
    if service == OFFLINE:
        raise ConfigError("GEOCODER is 'offline': there is no online geocoder to build")
    cls = geocoder_class(service)
    init, call = split_options(cls, parse_options(config.geocoder_options))
    geocoder = build_geocoder(cls, init, require_user_agent(service, config),
                              config.geocoder_api_key)
    call = {k: v for k, v in CALL_DEFAULTS.items() if k in _parameters(cls.geocode)} | call
    stats = OnlineStats(service, min_delay_for(service, init, config))
    limiter = PoliteRateLimiter(geocoder.geocode, service=service, stats=stats,
                                min_delay_seconds=stats.min_delay_seconds,
                                max_retries=config.geocoder_max_retries)
    cache = GeocodeCache(geocode_cache_path(config),
                         max_age_days=config.geocode_cache_days)
    return CachedGeocoder(service, limiter, cache, call, key_options(init, call), stats)


def make_fallback(config: Settings) -> OnlineFallback | None:
    """The online fallback the config asks for; None (and no network object) when offline."""
    if service_name(config) == OFFLINE:
        return None
    geocoder = make_geocoder(config)
    return OnlineFallback(geocoder, service=geocoder.service, stats=geocoder.stats,
                          min_score=config.geocoder_min_score)
