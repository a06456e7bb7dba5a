"""The Host allowlist: a page on another name (DNS rebinding) can neither read nor write.

A browser that was tricked into resolving ``evil.example`` to 127.0.0.1 still
sends ``Host: evil.example``; answering only the names in the allowlist
(127.0.0.1, localhost, [::1], the address ``mapapp serve`` binds to, and
``MAPAPP_ALLOWED_HOSTS``) means such a page gets a 400 before any view runs.
Redirects are made relative, so no response ever repeats a Host header.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, abort, request

from mapapp.web.context import app_settings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")


def init_app(app: Flask) -> None:
    """Check every request's Host header first, and keep redirects on the page's own host."""
    app.before_request(check_host)
    app.after_request(relative_redirect)


def host_name(host: str) -> str:
    """A Host header's name without its port, lower-cased: ``[::1]:5000`` -> ``[::1]``."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name.rstrip(".") if name and port.isdigit() else host


def allowed_hosts() -> frozenset[str]:
    """The names this app answers to: loopback, the bound address, MAPAPP_ALLOWED_HOSTS."""
    settings = app_settings()
    bound = settings.host.strip().lower()
    bound = f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound
    names = {*LOOPBACK_NAMES, *settings.allowed_hosts}
    if bound not in WILDCARD_BINDS:
        names.add(bound)
    return frozenset(names)


def check_host() -> None:
    """Refuse a request whose Host header is not in the allowlist.

    :raise 400: the Host header names a host this server is not configured to answer to.
    """
    name = host_name(request.host)
    if name not in allowed_hosts():
        shown = name if len(name) <= 60 else name[:60] + "..."
        abort(
            400,
            f"This server does not answer to the host name {shown!r}; "
            "add it to MAPAPP_ALLOWED_HOSTS if it is yours.",
        )


def relative_redirect(response: Response) -> Response:
    """Make a Location pointing at the request's own host relative (path and query only)."""
    location = response.headers.get("Location")
    if not location:
        return response
    parts = urlsplit(location)
    if parts.netloc and parts.netloc.lower() == request.host.lower():
        response.headers["Location"] = (
            urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)) or "/"
        )
    return response
