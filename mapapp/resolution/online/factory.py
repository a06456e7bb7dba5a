"""Build the configured online geocoder and fallback from `Settings`; offline builds nothing.

`make_geocoder` checks the service name, its options and its User-Agent
policy, then puts geopy's geocoder behind the polite rate limiter and the
answer cache; `make_fallback` wraps it for the geoparser.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geopy.adapters import URLLibAdapter
from geopy.exc import ConfigurationError, GeocoderNotFound
from geopy.geocoders import get_geocoder_for_service

from mapapp.errors import ConfigError
from mapapp.resolution.online.cache import CACHE_FILE, CachedGeocoder, GeocodeCache
from mapapp.resolution.online.fallback import OnlineFallback
from mapapp.resolution.online.options import (
    key_options,
    keyword_parameters,
    parse_options,
    split_options,
)
from mapapp.resolution.online.retry import (
    DEFAULT_MIN_DELAY,
    MIN_DELAY_SECONDS,
    OnlineStats,
    PoliteRateLimiter,
)
from mapapp.settings import Settings

OFFLINE = "offline"
NEEDS_USER_AGENT = frozenset({"nominatim"})
API_KEY_PARAMS = ("api_key", "apikey", "ak", "key")
CALL_DEFAULTS = {"limit": 10, "addressdetails": True}  # sent where the service accepts them
DEFAULT_TIMEOUT = 10


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
            "--user-agent 'newsdesk-map/1.0 (maps@example.org)'"
        )
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

        raise ConfigError(
            f"unknown geocoder {service!r}: use 'offline' or one of "
            f"{', '.join(sorted(SERVICE_TO_GEOCODER))}"
        ) from err


def build_geocoder(cls: type, init: Mapping[str, Any], user_agent: str, api_key: str) -> Any:
    """Instantiate the geopy geocoder, the API key going to whichever parameter takes it.

    The adapter is urllib's: requests' adapter would retry a 429 by itself,
    sleeping out its Retry-After unseen by our limiter and its counters.
    """
    params = keyword_parameters(cls.__init__)
    kwargs = {
        "timeout": DEFAULT_TIMEOUT,
        **init,
        "user_agent": user_agent,
        "adapter_factory": URLLibAdapter,
    }
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
    geocoder = build_geocoder(
        cls, init, require_user_agent(service, config), config.geocoder_api_key
    )
    call = {k: v for k, v in CALL_DEFAULTS.items() if k in keyword_parameters(cls.geocode)} | call
    stats = OnlineStats(service, min_delay_for(service, init, config))
    limiter = PoliteRateLimiter(
        geocoder.geocode,
        service=service,
        stats=stats,
        min_delay_seconds=stats.min_delay_seconds,
        max_retries=config.geocoder_max_retries,
    )
    cache = GeocodeCache(geocode_cache_path(config), max_age_days=config.geocode_cache_days)
    return CachedGeocoder(service, limiter, cache, call, key_options(init, call), stats)


def make_fallback(config: Settings) -> OnlineFallback | None:
    """The online fallback the config asks for; None (and no network object) when offline."""
    if service_name(config) == OFFLINE:
        return None
    geocoder = make_geocoder(config)
    return OnlineFallback(
        geocoder,
        service=geocoder.service,
        stats=geocoder.stats,
        min_score=config.geocoder_min_score,
    )
