"""What every response is guarded by: a CSP nonce, tight headers, refusal of oversized requests.

``init_app`` wires them into an app; ``with_nonce`` puts the request's nonce
on the inline scripts and styles of a map fragment.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from markupsafe import Markup

from mapapp.web.context import app_settings

MAX_QUERY_BYTES = 4096  # a query string; the longest map permalink is well under 1 KiB
MAX_PATH_BYTES = 1024  # a URL path (story ids are 16 hex digits)
MAX_BODY_BYTES = 16 * 1024  # only the upload reads a sizeable body: anything bigger is refused
UPLOAD_ENDPOINT = "uploads.upload"  # whose limit is the UPLOAD_MAX_BYTES setting instead

_OWN_TAGS = re.compile(r"<(script|style)(?=[\s>])")


def init_app(app: Flask) -> None:
    """Give ``app`` a body limit, a nonce per request, the size checks and the headers."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(make_nonce)  # first, so that even a refusal carries its policy
    app.before_request(refuse_oversized)
    app.context_processor(lambda: {"csp_nonce": g.get("csp_nonce", "")})
    app.after_request(secure_headers)


def refuse_oversized() -> None:
    """Refuse over-long URLs and any sizeable body before a view runs.

    :raise 414: the path or the query string is too long.
    :raise 413: the request carries a body bigger than its limit (``body_limit``).
    """
    if len(request.query_string) > MAX_QUERY_BYTES:
        abort(
            414,
            f"The query string is {len(request.query_string)} bytes long: "
            f"use at most {MAX_QUERY_BYTES}.",
        )
    if len(request.path.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        abort(414, f"The address is too long: use at most {MAX_PATH_BYTES} bytes.")
    limit = body_limit()
    request.max_content_length = limit  # what werkzeug lets the form parser read, too
    if limit is not None and (request.content_length or 0) > limit:
        abort(
            413,
            f"The request body is {request.content_length} bytes long: "
            f"mapapp takes at most {limit}.",
        )


def body_limit() -> int | None:
    """The largest body this request may carry: UPLOAD_MAX_BYTES on the upload route,
    MAX_CONTENT_LENGTH (16 KiB unless configured) everywhere else."""
    if request.endpoint == UPLOAD_ENDPOINT:
        return app_settings().upload_max_bytes
    return current_app.config["MAX_CONTENT_LENGTH"]


def make_nonce() -> None:
    """A fresh CSP nonce for this response's own inline scripts and styles."""
    g.csp_nonce = secrets.token_urlsafe(18)


def with_nonce(fragment: Markup) -> Markup:
    """The map fragment with the request's nonce on its own <script> and <style> tags.

    Safe to do by pattern: no data reaches a map fragment as markup (it goes
    in through ``|tojson``, which writes '<' as \\u003c), so every tag found
    is one folium or mapapp.maps wrote.
    """
    nonce = g.get("csp_nonce")
    if not nonce:
        return fragment
    return Markup(_OWN_TAGS.sub(lambda m: f'<{m[1]} nonce="{nonce}"', str(fragment)))


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    """Same-origin only: scripts and styles from our files or carrying this response's nonce.

    No 'unsafe-inline' and no 'unsafe-eval': an injected <script>, event
    handler or javascript: URL would not run even if escaping failed.  The
    tile server's host is added to img-src when tiles are configured.  No page
    may be framed (``frame_ancestors``) but the embed page (``embed.py``).
    """
    images = ["'self'", "data:"]
    tiles = app_settings().tiles
    parts = urlsplit(tiles.replace("{s}", "*"))
    if parts.scheme in ("http", "https") and parts.netloc:
        images.append(f"{parts.scheme}://{parts.netloc}")
    nonce = g.get("csp_nonce")
    own = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        f"default-src 'self'; script-src {own}; style-src {own}; "
        f"img-src {' '.join(images)}; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {frame_ancestors}"
    )


def secure_headers(response: Response) -> Response:
    """Headers every response carries: no sniffing, no framing, a tight referrer."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    return response
