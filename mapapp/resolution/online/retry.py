"""Errors and retries of online lookups: polite to the service, never silently wrong.

`PoliteRateLimiter` is geopy's ``RateLimiter`` at the service's documented
rate that retries only transient errors (429, 5xx, timeouts) with back-off,
honours ``Retry-After`` and raises `OnlineLookupError` instead of swallowing a
failure.  `OnlineStats` counts what it did, for the progress bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderQuotaExceeded,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)
from geopy.extra.rate_limiter import RateLimiter

from mapapp.errors import GeocodingError

logger = logging.getLogger(__name__)

DEFAULT_MIN_DELAY = 1.0  # a polite default where a service documents no limit
MIN_DELAY_SECONDS = {  # documented limits of the public services
    "nominatim": 1.0,  # operations.osmfoundation.org/policies/nominatim: at most 1 req/s
    "openmapquest": 1.0,
    "photon": 1.0,  # photon.komoot.io: fair use, no bulk geocoding
    "opencage": 1.0,  # free plan: 1 req/s
    "googlev3": 1 / 50,
}
BACKOFF_SECONDS = 2.0
MAX_WAIT_SECONDS = 300.0  # a longer Retry-After means: stop asking this service today


class OnlineLookupError(GeocodingError):
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
        """Seconds the rate limit implies for the articles left, at this run's lookups each."""
        if not self.articles:
            return 0.0
        per_article = self.lookups / self.articles
        return max(0, total_articles - self.articles) * per_article * self.min_delay_seconds

    def describe(self) -> str:
        """One line for the progress bar and the ingest summary."""
        return (
            f"{self.service}: {self.requests} requests, {self.cache_hits} from cache, "
            f"{self.failures} failed"
        )


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
    return (
        isinstance(err, (GeocoderTimedOut, GeocoderUnavailable))
        or type(err) is GeocoderServiceError
    )


def is_fatal(err: GeocoderServiceError) -> bool:
    """Refused keys, blocks and spent quotas: asking again would only be rude."""
    if isinstance(err, GeocoderRateLimited):
        return False
    return isinstance(
        err, (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges, GeocoderQuotaExceeded)
    )


class PoliteRateLimiter(RateLimiter):
    """geopy's RateLimiter that retries transient errors only, backs off and honours Retry-After.

    It never swallows a failure: after the last try it raises `OnlineLookupError`
    naming the service, the error and the number of tries (``max_retries`` is
    the ``GEOCODER_MAX_RETRIES`` setting).  ``_clock`` and ``_sleep`` are the
    inherited methods, so tests patch time, not sleep.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        service: str,
        min_delay_seconds: float,
        max_retries: int,
        backoff_seconds: float = BACKOFF_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        stats: OnlineStats | None = None,
    ) -> None:
        super().__init__(
            func,
            min_delay_seconds=min_delay_seconds,
            max_retries=max_retries,
            error_wait_seconds=max(backoff_seconds, min_delay_seconds),
            swallow_exceptions=False,
        )
        self.service = service
        self.max_wait_seconds = max_wait_seconds
        self.stats = stats or OnlineStats(service, min_delay_seconds)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the service at its rate; retry transient errors, raise the rest."""
        for attempt in range(1, self.max_retries + 2):
            self._acquire_request_slot()
            self.stats.requests += 1
            try:
                return self.func(*args, **kwargs)
            except GeocoderServiceError as err:
                self._sleep(self._wait_after(err, attempt))
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def _wait_after(self, err: GeocoderServiceError, attempt: int) -> float:
        """Seconds to wait before the next try, or `OnlineLookupError` when there is none."""
        what = f"{self.service}: {describe_error(err)}"
        if not is_transient(err):
            raise OnlineLookupError(what, fatal=is_fatal(err)) from err
        tries = "try" if attempt == 1 else "tries"
        if attempt > self.max_retries:
            raise OnlineLookupError(f"{what} after {attempt} {tries}") from err
        wait = self.retry_wait(err, attempt)
        if wait > self.max_wait_seconds:
            raise OnlineLookupError(f"{what}; asked to wait {wait:.0f} s", fatal=True) from err
        logger.warning("%s; retrying in %.1f s (%d/%d)", what, wait, attempt, self.max_retries)
        return wait

    def retry_wait(self, err: GeocoderServiceError, attempt: int) -> float:
        """Exponential back-off, or the server's ``Retry-After`` when that is longer."""
        backoff = self.error_wait_seconds * 2 ** (attempt - 1)
        return max(backoff, float(getattr(err, "retry_after", None) or 0.0))
