"""Who may read and write: the Host allowlist, CSRF tokens, sessions, editors and read-only mode.

Most checks are about the web layer, not the store, so they run on one
GeoPackage app (``gpkg_app``); what is kept in the store (editors) runs on
both backends through the conftest ``store`` fixture.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import jsonify

from mapapp.cli import cli
from mapapp.settings import load_settings
from mapapp.stores import open_store
from mapapp.stores.editors import hash_password
from mapapp.web import create_app
from mapapp.web.auth import write_access
from mapapp.web.hosts import host_name

REMOTE = {"REMOTE_ADDR": "10.1.2.3"}  # a colleague's machine
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def build_app(store_location: str, tmp_path: Path, **settings):
    """The app on ``store_location`` with a ``POST /test-write`` view behind write_access."""
    app = create_app(
        {
            "TESTING": True,
            "STORE": store_location,
            "CACHE_DIR": str(tmp_path / "cache"),
            **settings,
        }
    )

    @write_access
    def test_write(editor: str):
        return jsonify(editor=editor), 201

    app.add_url_rule("/test-write", "test_write", test_write, methods=["POST"])
    return app


@pytest.fixture
def gpkg_store(tmp_path: Path, articles_records):
    """A GeoPackage store holding the hand-made stories."""
    store = open_store(tmp_path / "store" / "mapapp.gpkg")
    store.add(articles_records)
    return store


@pytest.fixture
def gpkg_app(gpkg_store, tmp_path: Path):
    return build_app(str(gpkg_store.path), tmp_path)


def token_of(client, path: str = "/login", **kwargs) -> str:
    """The CSRF token the page at ``path`` carries in its meta tag."""
    page = client.get(path, **kwargs)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    found = TOKEN.search(page.get_data(as_text=True))
    assert found and found[1], "the page carries no csrf-token meta tag"
    return found[1]


def sign_in(client, name: str, password: str, **kwargs):
    """Post the login form with the page's token."""
    token = token_of(client, **kwargs)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/"},
        **kwargs,
    )


# -- the Host allowlist ------------------------------------------------------

FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:5000",
    "127.0.0.1.evil.example",
    "localhost.evil.example:80",
    "[::2]:5000",
]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
@pytest.mark.parametrize(
    "method, path", [("GET", "/"), ("GET", "/api/stats"), ("POST", "/test-write"), ("GET", "/x")]
)
def test_a_foreign_host_gets_a_400_before_any_view(gpkg_app, host, method, path):
    response = gpkg_app.test_client().open(path, method=method, headers={"Host": host})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "does not answer to the host name" in body and "MAPAPP_ALLOWED_HOSTS" in body
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:5000", "localhost", "LOCALHOST:8080", "[::1]:5000"]
)
def test_loopback_names_are_answered_on_any_port(gpkg_app, host):
    assert gpkg_app.test_client().get("/api/stats", headers={"Host": host}).status_code == 200


def test_allowed_hosts_adds_names(gpkg_store, tmp_path):
    app = build_app(
        str(gpkg_store.path), tmp_path, ALLOWED_HOSTS="maps.example.org, desk.example.org"
    )
    client = app.test_client()
    for host in ("maps.example.org", "desk.example.org:8443"):
        assert client.get("/api/stats", headers={"Host": host}).status_code == 200
    assert client.get("/api/stats", headers={"Host": "example.org"}).status_code == 400


def test_the_bound_address_is_answered(gpkg_store, tmp_path):
    app = build_app(str(gpkg_store.path), tmp_path, HOST="192.168.5.20")
    client = app.test_client()
    assert client.get("/api/stats", headers={"Host": "192.168.5.20:5000"}).status_code == 200
    wildcard = build_app(str(gpkg_store.path), tmp_path, HOST="0.0.0.0").test_client()
    assert wildcard.get("/api/stats", headers={"Host": "0.0.0.0"}).status_code == 400


def test_the_slash_redirect_no_longer_echoes_the_host(gpkg_app):
    client = gpkg_app.test_client()
    foreign = client.get("/api//stats", headers={"Host": "evil.example"})
    assert foreign.status_code == 400 and "Location" not in foreign.headers
    own = client.get("/api//stats?x=1", headers={"Host": "localhost:5000"})
    assert own.status_code == 308
    assert own.headers["Location"] == "/api/stats?x=1"


@pytest.mark.parametrize(
    "header, name",
    [
        ("LocalHost:5000", "localhost"),
        ("[::1]:80", "[::1]"),
        ("[::1]", "[::1]"),
        ("example.org.", "example.org"),
        ("example.org:", "example.org:"),
    ],
)
def test_host_name_drops_the_port(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize("value", ["http://maps.example.org", "maps.example.org:80", "a b/c"])
def test_a_bad_allowed_host_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match="MAPAPP_ALLOWED_HOSTS"):
        load_settings({"ALLOWED_HOSTS": value})


# -- CSRF ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_write_without_the_token_gets_a_403(gpkg_app, method):
    client = gpkg_app.test_client()
    token_of(client)  # the session has a token; this request just does not send it
    response = client.open("/test-write", method=method)
    assert response.status_code == 403
    assert "CSRF token" in response.get_data(as_text=True)


def test_a_wrong_or_foreign_token_gets_a_403(gpkg_app):
    mine, theirs = gpkg_app.test_client(), gpkg_app.test_client()
    token_of(mine)
    their_token = token_of(theirs)
    assert mine.post("/test-write", headers={"X-CSRF-Token": "guess"}).status_code == 403
    assert mine.post("/test-write", headers={"X-CSRF-Token": their_token}).status_code == 403


def test_a_write_with_the_token_from_loopback_is_the_local_users(gpkg_app):
    client = gpkg_app.test_client()
    response = client.post("/test-write", headers={"X-CSRF-Token": token_of(client, "/")})
    assert response.status_code == 201
    assert response.get_json()["editor"]


@pytest.mark.parametrize("path", ["/", "/stories/syria-0301", "/login"])
def test_pages_carry_the_token_and_the_read_only_flag(gpkg_app, path):
    page = gpkg_app.test_client().get(path).get_data(as_text=True)
    assert TOKEN.search(page)[1]
    assert '<meta name="mapapp-read-only" content="0">' in page


def test_a_cross_site_navigation_does_not_replace_the_session(gpkg_app):
    response = gpkg_app.test_client().get("/", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert '<meta name="csrf-token" content="">' in response.get_data(as_text=True)


# -- who may write -------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, environ, headers",
    [
        ({}, REMOTE, {}),  # another machine
        ({}, {}, {"X-Forwarded-For": "10.1.2.3"}),  # a proxy on this machine
        ({}, {}, {"Forwarded": "for=10.1.2.3"}),
        ({"HOST": "0.0.0.0"}, {}, {}),  # bound beyond loopback: even 127.0.0.1 must sign in
    ],
)
def test_beyond_loopback_a_write_needs_a_login(gpkg_store, tmp_path, settings, environ, headers):
    app = build_app(str(gpkg_store.path), tmp_path, **settings)
    client = app.test_client()
    host = {"Host": "localhost"}
    token = token_of(client, environ_base=environ, headers={**headers, **host})
    response = client.post(
        "/test-write",
        headers={**headers, **host, "X-CSRF-Token": token},
        environ_base=environ,
    )
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "needs an editor login" in body and "/login" in body


def test_after_login_a_remote_write_is_the_editors(gpkg_app, gpkg_store):
    gpkg_store.add_editor("amira", hash_password(PASSWORD))
    client = gpkg_app.test_client()
    before = token_of(client, environ_base=REMOTE)
    signed = sign_in(client, "amira", PASSWORD, environ_base=REMOTE)
    assert signed.status_code == 303 and signed.headers["Location"] == "/"
    token = token_of(client, environ_base=REMOTE)
    assert token != before  # a new session at login: a planted one is worth nothing
    response = client.post("/test-write", headers={"X-CSRF-Token": token}, environ_base=REMOTE)
    assert response.status_code == 201
    assert response.get_json() == {"editor": "amira"}
    # removed editors lose their session's rights at once
    gpkg_store.remove_editor("amira")
    again = client.post("/test-write", headers={"X-CSRF-Token": token}, environ_base=REMOTE)
    assert again.status_code == 401


@pytest.mark.parametrize(
    "name, password", [("amira", "wrong password"), ("nobody", PASSWORD), ("", ""), ("a b", "x")]
)
def test_a_wrong_login_is_refused(gpkg_app, gpkg_store, name, password):
    gpkg_store.add_editor("amira", hash_password(PASSWORD))
    client = gpkg_app.test_client()
    refused = sign_in(client, name, password, environ_base=REMOTE)
    assert refused.status_code == 401
    assert "do not match an editor" in refused.get_data(as_text=True)
    token = token_of(client, environ_base=REMOTE)
    response = client.post("/test-write", headers={"X-CSRF-Token": token}, environ_base=REMOTE)
    assert response.status_code == 401


def test_the_login_form_needs_its_token(gpkg_app, gpkg_store):
    gpkg_store.add_editor("amira", hash_password(PASSWORD))
    client = gpkg_app.test_client()
    token_of(client)
    response = client.post("/login", data={"name": "amira", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "target, lands", [("/stories/syria-0301", "/stories/syria-0301"), ("//evil.example/", "/")]
)
def test_login_goes_back_only_to_this_site(gpkg_app, gpkg_store, target, lands):
    gpkg_store.add_editor("amira", hash_password(PASSWORD))
    client = gpkg_app.test_client()
    token = token_of(client)
    response = client.post(
        "/login",
        data={"name": "amira", "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.status_code == 303 and response.headers["Location"] == lands


def test_logout_ends_the_editors_session(gpkg_app, gpkg_store):
    gpkg_store.add_editor("amira", hash_password(PASSWORD))
    client = gpkg_app.test_client()
    sign_in(client, "amira", PASSWORD, environ_base=REMOTE)
    token = token_of(client, environ_base=REMOTE)
    assert "Signed in as" in client.get("/login", environ_base=REMOTE).get_data(as_text=True)
    out = client.post("/logout", headers={"X-CSRF-Token": token}, environ_base=REMOTE)
    assert out.status_code == 303
    token = token_of(client, environ_base=REMOTE)
    response = client.post("/test-write", headers={"X-CSRF-Token": token}, environ_base=REMOTE)
    assert response.status_code == 401


def test_read_only_refuses_every_write(gpkg_store, tmp_path):
    app = build_app(str(gpkg_store.path), tmp_path, READ_ONLY="1")
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="mapapp-read-only" content="1">' in page
    response = client.post("/test-write", headers={"X-CSRF-Token": TOKEN.search(page)[1]})
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True)


# -- the session cookie and its key ----------------------------------------------


@pytest.mark.parametrize(
    "settings, base_url, secure",
    [
        ({}, "http://localhost/", False),
        ({}, "https://localhost/", True),
        ({"SECURE_COOKIES": "1"}, "http://localhost/", True),
    ],
)
def test_the_session_cookie_flags(gpkg_store, tmp_path, settings, base_url, secure):
    app = build_app(str(gpkg_store.path), tmp_path, **settings)
    response = app.test_client().get("/login", base_url=base_url)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("mapapp_session=")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite"} <= flags
    assert "SameSite=Strict" in cookie
    assert ("secure" in flags) is secure


def test_the_generated_key_is_kept_private_and_reused(gpkg_store, tmp_path):
    first = build_app(str(gpkg_store.path), tmp_path)
    key_file = gpkg_store.path.parent / "secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 48
    second = build_app(str(gpkg_store.path), tmp_path)
    assert first.secret_key == second.secret_key == key_file.read_text().strip()


def test_a_given_key_is_used_and_nothing_is_written(gpkg_store, tmp_path):
    app = build_app(str(gpkg_store.path), tmp_path, SECRET_KEY="k" * 32)
    assert app.secret_key == "k" * 32
    assert not (gpkg_store.path.parent / "secret-key").exists()
    with pytest.raises(ValueError, match="MAPAPP_SECRET_KEY is too short"):
        build_app(str(gpkg_store.path), tmp_path, SECRET_KEY="short")


# -- editors in the store, and their CLI (both backends) -------------------------


def test_editors_cli_add_list_remove(store):
    runner = CliRunner()
    where = ["--store", store.location]
    added = runner.invoke(
        cli, ["editors", "add", "amira", *where, "--password-stdin"], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        cli, ["editors", "add", "bo.chen@desk", *where], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(cli, ["editors", "list", *where])
    assert listed.exit_code == 0, listed.output
    names = [line.split("\t")[0] for line in listed.output.splitlines()]
    assert names == ["amira", "bo.chen@desk"]
    assert PASSWORD not in listed.output and "scrypt" not in listed.output

    stored = store.editor_hash("amira")
    assert stored and PASSWORD not in stored  # a salted hash, never the password
    assert store.editor_hash("bo.chen@desk") != stored

    twice = runner.invoke(
        cli, ["editors", "add", "amira", *where, "--password-stdin"], input=PASSWORD + "\n"
    )
    assert twice.exit_code != 0 and "already an editor" in twice.output
    assert store.editor_hash("amira") == stored
    renewed = runner.invoke(
        cli,
        ["editors", "add", "amira", *where, "--password-stdin", "--replace"],
        input="another long password\n",
    )
    assert renewed.exit_code == 0, renewed.output
    assert store.editor_hash("amira") != stored

    removed = runner.invoke(cli, ["editors", "remove", "amira", *where])
    assert removed.exit_code == 0, removed.output
    assert store.editor_hash("amira") is None
    gone = runner.invoke(cli, ["editors", "remove", "amira", *where])
    assert gone.exit_code != 0 and "is not an editor" in gone.output
    assert [e["name"] for e in store.editors()] == ["bo.chen@desk"]


@pytest.mark.parametrize(
    "name, typed, message",
    [
        ("amira", "short\n", "too short"),
        ("amira", f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n", None),
        ("no spaces please", f"{PASSWORD}\n{PASSWORD}\n", "cannot name an editor"),
    ],
)
def test_editors_cli_refuses_bad_input(store, name, typed, message):
    args = ["editors", "add", name, "--store", store.location]
    if message == "too short":
        args.append("--password-stdin")
    result = CliRunner().invoke(cli, args, input=typed)
    if message is None:  # a mistyped confirmation is asked again, then accepted
        assert result.exit_code == 0, result.output
        assert "do not match" in result.output
        return
    assert result.exit_code != 0 and message in result.output
    assert store.editor_hash(name) is None


def test_a_login_works_on_either_store(app, store):
    store.add_editor("amira", hash_password(PASSWORD))
    client = app.test_client()
    assert sign_in(client, "amira", "not it at all", environ_base=REMOTE).status_code == 401
    assert sign_in(client, "amira", PASSWORD, environ_base=REMOTE).status_code == 303
    assert "Signed in as" in client.get("/login", environ_base=REMOTE).get_data(as_text=True)
