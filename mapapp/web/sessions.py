"""Signed session cookies and the CSRF token every write must carry.

The signing key is ``MAPAPP_SECRET_KEY`` or, when that is empty, one made once
with ``secrets`` and kept in ``secret-key`` beside the store (written
atomically, mode 0600), so sessions outlive a restart.  The cookie is
HttpOnly and SameSite=Strict, and Secure when the request came over HTTPS or
``MAPAPP_SECURE_COOKIES`` says a TLS proxy sits in front.

Every POST, PUT, PATCH and DELETE must send the session's token as the
``X-CSRF-Token`` header (or, from the login form, the ``csrf_token`` field);
pages put it in ``<meta name="csrf-token">``.  The check runs before any
view, after the Host check.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from flask import Flask, abort, request, session
from flask.sessions import SecureCookieSessionInterface

from mapapp.errors import ConfigError
from mapapp.files import atomic_path
from mapapp.settings import Settings
from mapapp.web.context import app_settings

SECRET_FILE = "secret-key"
TOKEN_KEY = "csrf"
HEADER, FIELD = "X-CSRF-Token", "csrf_token"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class MapappSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure per request (HTTPS or MAPAPP_SECURE_COOKIES)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when this request came over TLS, or the settings say a TLS proxy is in front."""
        return bool(request.is_secure or app.config["MAPAPP_SETTINGS"].secure_cookies)


def secret_key(settings: Settings) -> str:
    """MAPAPP_SECRET_KEY, or the key kept beside the store (made on first use)."""
    if settings.secret_key:
        if len(settings.secret_key) < 16:
            raise ConfigError("MAPAPP_SECRET_KEY is too short: use 16 characters or more")
        return settings.secret_key
    path = settings.store_folder / SECRET_FILE
    key = _read_key(path)
    if key:
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, kind="new", exclusive=True) as fresh:
            fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
    except FileExistsError:
        pass  # another process made it first: use theirs
    except OSError as err:
        raise ConfigError(
            f"could not keep the session key in {path} ({err}); set MAPAPP_SECRET_KEY"
        ) from err
    key = _read_key(path)
    if not key:
        raise ConfigError(f"{path} holds no session key; delete it or set MAPAPP_SECRET_KEY")
    return key


def _read_key(path: Path) -> str:
    """The key in ``path``, or '' when there is no such file."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"could not read the session key {path} ({err})") from err


def init_app(app: Flask) -> None:
    """Sign sessions with the key, set the cookie's flags, check tokens on every write."""
    app.secret_key = secret_key(app.config["MAPAPP_SETTINGS"])
    app.session_interface = MapappSessions()
    app.config["SESSION_COOKIE_NAME"] = "mapapp_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app.before_request(check_csrf)
    app.context_processor(lambda: {"csrf_token": csrf_token, "read_only": app_settings().read_only})


def csrf_token() -> str:
    """This session's CSRF token, made on first use.

    A cross-site navigation arrives without the (SameSite=Strict) cookie;
    making a token then would replace the visitor's session, logging an
    editor out, so such a page gets no token (a write from it asks for a reload).
    """
    token = session.get(TOKEN_KEY)
    if token:
        return token
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return ""
    token = secrets.token_urlsafe(32)
    session[TOKEN_KEY] = token
    return token


def fresh_session(**values: str) -> None:
    """Start a new session holding ``values`` and a new token (at login and logout)."""
    session.clear()
    session.update(values)
    session[TOKEN_KEY] = secrets.token_urlsafe(32)


def check_csrf() -> None:
    """Refuse a write that does not carry this session's token.

    :raise 403: a POST, PUT, PATCH or DELETE without the X-CSRF-Token header
        (or csrf_token form field) matching the session's token.
    """
    if request.method not in WRITES:
        return
    expected = session.get(TOKEN_KEY)
    sent = request.headers.get(HEADER)
    if sent is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent = request.form.get(FIELD)
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        abort(
            403,
            "This write carries no valid CSRF token: reload the page and try again "
            f"(scripts send the page's csrf-token meta tag as {HEADER}).",
        )
