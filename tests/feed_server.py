"""A local HTTP server for the feed, page and NewsML tests: documents by path, ETag and
Last-Modified on each, 304 to a conditional GET that matches, and a log of every request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Document:
    """One served document."""

    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Site:
    """What the server serves (change it between requests) and the requests it saw."""

    documents: dict[str, Document] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base: str = ""

    def put(self, path: str, body: str | bytes, content_type: str, *, version: str = "1") -> str:
        """Serve ``body`` at ``path`` with validators naming ``version``; returns its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.documents[path] = Document(
            data,
            content_type,
            etag=f'"{path.strip("/").replace("/", "-")}-v{version}"',
            last_modified=f"Wed, 02 Sep 2026 10:0{min(int(version), 9)}:00 GMT",
        )
        return self.base + path

    def requested(self, path: str) -> list[dict[str, str]]:
        """The headers of every request made for ``path``."""
        return [headers for seen, headers in self.requests if seen == path]


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        """The document, a 304 when the request's validators match, or a 404."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.site.requests.append((self.path, headers))
        if self.path in self.site.redirects:
            self.send_response(302)
            self.send_header("Location", self.site.redirects[self.path])
            self.end_headers()
            return
        document = self.site.documents.get(self.path)
        if document is None:
            self.send_error(404)
            return
        etag_matches = document.etag and headers.get("if-none-match") == document.etag
        date_matches = (
            document.last_modified and headers.get("if-modified-since") == document.last_modified
        )
        if etag_matches or (date_matches and "if-none-match" not in headers):
            self.send_response(304)
            self.send_header("ETag", document.etag or "")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", document.content_type)
        self.send_header("Content-Length", str(len(document.body)))
        if document.etag:
            self.send_header("ETag", document.etag)
        if document.last_modified:
            self.send_header("Last-Modified", document.last_modified)
        self.end_headers()
        self.wfile.write(document.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read ``site.requests`` instead."""


@contextmanager
def serving_site() -> Iterator[Site]:
    """A `Site` served on a free port of 127.0.0.1 in a thread, until the block ends."""
    site = Site()
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    site.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
