"""Fetching feeds and pages over HTTP, politely: a User-Agent with a contact, a timeout, a
size cap, one request per host every ``FETCH_MIN_DELAY`` seconds, http and https only,
and conditional GETs (ETag / Last-Modified) whose validators the caller keeps (`state`).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

from mapapp import __version__
from mapapp.errors import ArticleParseError, ConfigError
from mapapp.settings import Settings

SCHEMES = ("http", "https")
_CHUNK = 64 * 1024


def is_url(value: object) -> bool:
    """Whether a command-line source names a URL (``http://`` or ``https://``)."""
    return isinstance(value, str) and value.split(":", 1)[0].lower() in SCHEMES and "://" in value


def user_agent(contact: str) -> str:
    """``mapapp/<version> (+contact)``: who is asking, and how to reach them."""
    return f"mapapp/{__version__} (+{contact})" if contact else f"mapapp/{__version__}"


@dataclass(frozen=True)
class Validators:
    """A response's cache validators, sent back on the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """The If-None-Match / If-Modified-Since request headers."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class Response:
    """A fetched document (``body`` empty when the server said 304 Not Modified)."""

    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http and https URLs (never file:, ftp: ...)."""

    max_redirections = 5

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str):  # noqa: ANN201
        if urllib.parse.urlsplit(newurl).scheme.lower() not in SCHEMES:
            raise ArticleParseError(f"{req.full_url}: redirected to {newurl}, not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Fetcher:
    """GETs with the settings' timeout, size cap, User-Agent and per-host delay."""

    def __init__(self, settings: Settings) -> None:
        if settings.fetch_timeout <= 0:
            raise ConfigError("MAPAPP_FETCH_TIMEOUT must be more than 0 seconds")
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.fetch_max_bytes
        self.min_delay = settings.fetch_min_delay
        self.user_agent = user_agent(settings.fetch_contact)
        self._opener = urllib.request.build_opener(_Redirects())
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0

    # time, as methods so that a test can replace them
    def _clock(self) -> float:
        return time.monotonic()

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _wait_for(self, host: str) -> None:
        """Sleep until ``min_delay`` has passed since the last request to ``host``."""
        with self._lock:
            last = self._last.get(host)
            if last is not None:
                wait = last + self.min_delay - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._last[host] = self._clock()

    def get(self, url: str, validators: Validators | None = None) -> Response:
        """GET ``url`` (conditionally, with ``validators``).

        :raise ArticleParseError: not http(s), a network or HTTP error, or too big; the
            message names the URL and fits on one line.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            raise ArticleParseError(f"{url}: only http:// and https:// URLs are fetched")
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "application/rss+xml, application/atom+xml, application/xml, "
            "text/html;q=0.9, */*;q=0.5",
            **(validators.headers() if validators else {}),
        }
        request = urllib.request.Request(url, headers=headers)
        self._wait_for(parts.hostname.lower())
        self.requests += 1
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                body = self._read(answer, url)
                return _response(answer.geturl(), answer.status, answer.headers, body)
        except urllib.error.HTTPError as err:
            if err.code == 304:
                return _response(url, 304, err.headers, b"", fallback=validators)
            raise ArticleParseError(f"{url}: the server answered {err.code} {err.reason}") from err
        except urllib.error.URLError as err:
            raise ArticleParseError(f"{url}: cannot fetch ({err.reason})") from err
        except (TimeoutError, OSError) as err:
            raise ArticleParseError(f"{url}: cannot fetch ({err})") from err

    def _read(self, answer: Any, url: str) -> bytes:
        """The body, refused past ``max_bytes`` (read in chunks, never all at once)."""
        declared = answer.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise ArticleParseError(
                f"{url}: {int(declared):,} bytes, more than MAPAPP_FETCH_MAX_BYTES "
                f"({self.max_bytes:,}); skipped"
            )
        chunks, size = [], 0
        while chunk := answer.read(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise ArticleParseError(
                    f"{url}: more than MAPAPP_FETCH_MAX_BYTES ({self.max_bytes:,} bytes); skipped"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _response(
    url: str, status: int, headers: Message, body: bytes, fallback: Validators | None = None
) -> Response:
    """A Response from urllib's pieces (a 304 keeps the old validators it does not renew)."""
    old = fallback or Validators()
    return Response(
        url=url,
        status=status,
        content_type=headers.get("Content-Type", "") if headers else "",
        body=body,
        validators=Validators(
            etag=(headers.get("ETag") if headers else None) or old.etag,
            last_modified=(headers.get("Last-Modified") if headers else None) or old.last_modified,
        ),
    )
