"""Every online answer, "not found" included, kept for good in one SQLite file.

`GeocodeCache` is keyed by (service, query, options), so that a second run
over the same articles sends no request at all; `CachedGeocoder` asks it
first and the rate-limited service only on a miss.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geopy.location import Location

from mapapp.errors import StoreError
from mapapp.resolution.online.retry import DEFAULT_MIN_DELAY, OnlineStats

CACHE_FILE = "geocode-cache.sqlite"
BUSY_TIMEOUT = 30.0  # seconds a process waits for another one writing the cache


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
    return (
        None
        if seconds is None
        else datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
    )


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

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS answers (service TEXT NOT NULL, query TEXT NOT NULL, "
        "options TEXT NOT NULL, answer TEXT NOT NULL, fetched_at REAL NOT NULL, "
        "PRIMARY KEY (service, query, options))"
    )

    def __init__(
        self, path: str | Path, *, max_age_days: float = 0, clock: Callable[[], float] = time.time
    ) -> None:
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
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
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
                (service, normalize_query(query), options),
            ).fetchone()
        if row is None or row[1] < self._fresh_since():
            return None
        return [json_location(item) for item in json.loads(row[0])]

    def put(self, service: str, query: str, options: str, answers: Sequence[Location]) -> None:
        """Keep ``answers`` (committed at once; replaces an expired entry)."""
        payload = json.dumps([location_json(a) for a in answers], ensure_ascii=False, default=str)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                (service, normalize_query(query), options, payload, self.clock()),
            )

    def stats(self) -> CacheStats:
        """Entries, "not found" answers, expired entries and services of the file."""
        with self._lock:
            total, empty, expired, oldest, newest = self._conn.execute(
                "SELECT count(*), coalesce(sum(answer = '[]'), 0), "
                "coalesce(sum(fetched_at < ?), 0), min(fetched_at), max(fetched_at) FROM answers",
                (self._fresh_since(),),
            ).fetchone()
            services = dict(
                self._conn.execute(
                    "SELECT service, count(*) FROM answers GROUP BY service ORDER BY service"
                )
            )
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return CacheStats(
            str(self.path), total, empty, expired, services, _iso(oldest), _iso(newest), size
        )

    def clear(self, service: str | None = None, *, expired_only: bool = False) -> int:
        """Forget answers (of one service, or only the expired ones); returns how many."""
        clauses, params = ["fetched_at < ?"], [self._fresh_since() if expired_only else math.inf]
        if service:
            clauses.append("service = ?")
            params.append(service.lower())
        with self._lock:
            cursor = self._conn.execute(
                f"DELETE FROM answers WHERE {' AND '.join(clauses)}", params
            )
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
