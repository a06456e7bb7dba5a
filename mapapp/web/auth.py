"""Who may write: the local user on a loopback server, otherwise a signed-in editor.

``GET/POST /login`` signs an editor in (a CSRF-protected form checked against
the salted hash ``mapapp editors add`` stored), ``POST /logout`` signs out.
Write views are wrapped in ``write_access``, which refuses every write under
``MAPAPP_READ_ONLY`` and passes the editor's name to the view as ``editor``.

A request is the local user's when the server is bound to loopback, the
request comes from a loopback address, and no proxy forwarded it (a
``Forwarded``/``X-Forwarded-For``/``X-Real-IP`` header means someone else's).
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from mapapp.stores.editors import NAME, editor_store
from mapapp.web.context import app_settings, get_store
from mapapp.web.sessions import fresh_session

auth_bp = Blueprint("auth", __name__)

LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1", "[::1]")
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
EDITOR_KEY = "editor"
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DECOY = generate_password_hash("not a password of anyone")

View = TypeVar("View", bound=Callable[..., Any])


def password_matches(name: str, password: str) -> bool:
    """Does ``password`` match editor ``name``'s stored hash? (False for an unknown name.)"""
    stored = editor_store(get_store()).editor_hash(name) if NAME.match(name) else None
    matches = check_password_hash(stored or _DECOY, password)
    return stored is not None and matches


def local_editor_name() -> str:
    """The name the local user's corrections are signed with: the OS user, else 'local'."""
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "local"
    return name if NAME.match(name or "") else "local"


def is_local_request() -> bool:
    """Is this request the local user's (loopback server, loopback client, not proxied)?"""
    if app_settings().host.strip().lower() not in LOOPBACK_BINDS:
        return False
    remote = request.remote_addr or ""
    if not (remote == "::1" or remote.startswith("127.")):
        return False
    return not any(header in request.headers for header in FORWARDING_HEADERS)


def signed_in_editor() -> str | None:
    """The editor this session signed in as, if they are still an editor."""
    name = session.get(EDITOR_KEY)
    if not isinstance(name, str):
        return None
    return name if editor_store(get_store()).editor_hash(name) is not None else None


def current_editor() -> str:
    """Who is writing: the local user or the signed-in editor.

    :raise 403: the map is read-only (MAPAPP_READ_ONLY).
    :raise 401: the request is from beyond loopback and no editor is signed in.
    """
    if app_settings().read_only:
        abort(403, "This map is read-only (MAPAPP_READ_ONLY is set): nothing can be changed here.")
    if is_local_request():
        return local_editor_name()
    name = signed_in_editor()
    if name is None:
        abort(
            401,
            "Changing the map from another machine needs an editor login: "
            f"sign in at {url_for('auth.login')}.",
        )
    return name


def may_write() -> bool:
    """Could this request write (for the pages' meta tag), without refusing it?"""
    if app_settings().read_only:
        return False
    return is_local_request() or signed_in_editor() is not None


def write_access(view: View) -> View:
    """Wrap a write view: it runs only for a writer, and receives their name as ``editor``."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        return view(*args, editor=current_editor(), **kwargs)

    return guarded  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("map.index")
    return target


@auth_bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form, and signing in with it."""
    error = None
    status = 200
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        if name and password and password_matches(name, password):
            fresh_session(**{EDITOR_KEY: name})
            return redirect(target, code=303)
        error = "That name and password do not match an editor."
        status = 401
    return render_template(
        "login.html",
        error=error,
        next=target,
        editor=session.get(EDITOR_KEY),
        local=is_local_request(),
        read_only=app_settings().read_only,
    ), status


@auth_bp.post("/logout")
def logout() -> Response:
    """Sign out: the session is replaced by a new, empty one."""
    fresh_session()
    return redirect(url_for("auth.login"), code=303)
