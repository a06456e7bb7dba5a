"""Uploads: story files sent to ``POST /api/uploads`` (dropped on the map, or chosen with the
form) are ingested by the command line's own ingest and reported file by file.

The route's rules are checked with the test client and a recording ingest; the
real ingest (``mapapp.cli.upload_ingest``, the gazetteer alone for speed) with
a plain-text story and an unreadable file; and the page in headless Chromium,
through the file input and through a drop on the map.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import serving, story_records
from helpers import ROOT, skip_or_fail
from test_browser import READY, Watched, url_params

from mapapp.errors import StoreError

pytest_plugins = ["geo_fixtures"]

STORY = (
    "Ferry service resumes across the harbour\n\n"
    "NAIROBI -- A ferry link that the county runs for commuters from Nairobi reopened on "
    "Monday after repairs, officials in Kenya said.\n\n"
    "A Section on 04/08/2024\n"
)
BAD = b"\x00\x01 this is no story format mapapp knows"
#: Is the place of this name on the map (as a marker, or inside a cluster)?
SHOWN = """(name) => {
    const layer = window.mapapp.layer, at = layer.data.place.name.indexOf(name);
    return at >= 0 && layer.result.placeShown[at] > 0 && !!layer.markers[at];
}"""


class RecordingIngest:
    """An ``ingest_files`` that notes what it was given and answers a fixed summary."""

    def __init__(self, summary=None, error: Exception | None = None) -> None:
        self.calls: list[dict[Path, bytes]] = []
        self.summary = summary
        self.error = error

    def __call__(self, paths, report):
        self.calls.append({Path(p): Path(p).read_bytes() for p in paths})
        report("note: a line for the user")
        if self.error is not None:
            raise self.error
        if self.summary is not None:
            return self.summary(paths)
        return SimpleNamespace(
            articles=len(paths), already_stored=0, places=2, unresolved=0, errors=()
        )


def make_app(store, tmp_path, ingest=None, **settings):
    from mapapp.web import create_app

    config = {"TESTING": True, "STORE": store.location, "CACHE_DIR": str(tmp_path / "c")}
    return create_app({**config, **settings}, ingest_files=ingest)


def files(*pairs: tuple[str, bytes]) -> dict[str, list]:
    return {"files": [(io.BytesIO(data), name) for name, data in pairs]}


def csrf_token(client) -> str:
    """The token the map page gives this client's session (as upload.js reads it)."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]*)">', html)[1]


def upload(client, data, **kwargs):
    """POST ``data`` to /api/uploads as the page does: with the session's CSRF token."""
    headers = {"X-CSRF-Token": csrf_token(client), **kwargs.pop("headers", {})}
    return client.post("/api/uploads", data=data, headers=headers, **kwargs)


# -- the route -------------------------------------------------------------------


def test_without_an_ingest_the_server_says_it_takes_no_uploads(client):
    response = upload(client, files(("a.txt", b"x")))
    assert response.status_code == 501
    assert "takes no uploads" in response.json["error"]
    assert "mapapp ingest" in response.json["error"]
    assert "mapapp-upload" not in client.get("/").get_data(as_text=True)  # no form either


def test_the_map_offers_the_upload_form_when_uploads_are_wired(store, tmp_path):
    html = make_app(store, tmp_path, RecordingIngest()).test_client().get("/").get_data(True)
    assert '<form class="mapapp-upload" method="post" action="/api/uploads"' in html
    assert 'data-max-bytes="33554432"' in html
    assert '<input type="file" name="files" multiple>' in html
    assert "/static/upload.js" in html


def test_files_are_saved_under_clean_names_ingested_and_removed(store, tmp_path):
    ingest = RecordingIngest()
    client = make_app(store, tmp_path, ingest).test_client()
    response = upload(
        client,
        files(("story.txt", b"one"), ("../../etc/story.txt", b"two"), ("\u00e9t\u00e9.csv", b"3")),
    )
    assert response.status_code == 200, response.json
    (given,) = ingest.calls
    assert [p.name for p in given] == ["story.txt", "story.txt", "ete.csv"]
    assert list(given.values()) == [b"one", b"two", b"3"]
    folders = {p.parent.parent for p in given}
    assert len(folders) == 1 and all(".." not in p.parts for p in given)
    assert not next(iter(folders)).exists()  # removed after the ingest
    assert response.json == {
        "files": 3,
        "added": 3,
        "already_stored": 0,
        "places": 2,
        "unresolved": 0,
        "skipped": [],
        "notes": ["note: a line for the user"],
    }


@pytest.mark.parametrize(
    ("sent", "status", "words"),
    [
        ([], 400, "Choose at least one story file"),
        ([("", b"")], 400, "Choose at least one story file"),
        ([(f"s{i}.txt", b"x") for i in range(101)], 413, "send at most 100"),
    ],
)
def test_an_upload_without_files_or_with_too_many_is_refused(store, tmp_path, sent, status, words):
    ingest = RecordingIngest()
    response = upload(make_app(store, tmp_path, ingest).test_client(), files(*sent))
    assert response.status_code == status
    assert words in response.json["error"]
    assert ingest.calls == []


def test_the_upload_has_its_own_size_limit_and_every_other_route_keeps_16_kib(store, tmp_path):
    client = make_app(store, tmp_path, RecordingIngest(), UPLOAD_MAX_BYTES=64 * 1024).test_client()
    big = files(("big.txt", b"x" * 40_000))
    assert upload(client, big).status_code == 200
    too_big = upload(client, files(("huge.txt", b"x" * 70_000)))
    assert too_big.status_code == 413
    assert "mapapp takes at most 65536" in too_big.json["error"]
    elsewhere = client.post("/api/version", data=files(("big.txt", b"x" * 40_000)))
    assert elsewhere.status_code == 413


def test_waitress_is_told_the_bigger_limit_only_when_uploads_are_wired(store, tmp_path):
    from mapapp.web.server import max_body_bytes

    assert max_body_bytes(make_app(store, tmp_path)) == 16 * 1024
    assert max_body_bytes(make_app(store, tmp_path, RecordingIngest())) == 32 * 1024 * 1024


def test_a_failed_ingest_is_a_sentence_without_the_temporary_folder(store, tmp_path):
    ingest = RecordingIngest(error=StoreError("the store is locked"))
    response = upload(make_app(store, tmp_path, ingest).test_client(), files(("a.txt", b"x")))
    assert response.status_code == 500
    assert response.json["error"] == "The files could not be ingested: the store is locked"


def test_skipped_files_are_named_as_sent_with_the_readers_reason(store, tmp_path):
    def summary(paths):
        return SimpleNamespace(
            articles=0,
            already_stored=0,
            places=0,
            unresolved=0,
            errors=(f"{paths[0]}: unknown format '.xyz'", "somewhere else: odd"),
        )

    client = make_app(store, tmp_path, RecordingIngest(summary)).test_client()
    response = upload(client, files(("my notes.xyz", b"x")))
    assert response.json["skipped"] == [
        {"file": "my notes.xyz", "reason": "unknown format '.xyz'"},
        {"file": "", "reason": "somewhere else: odd"},
    ]


# -- who may upload --------------------------------------------------------------


def test_an_upload_without_the_csrf_token_is_refused_unread(store, tmp_path):
    ingest = RecordingIngest()
    client = make_app(store, tmp_path, ingest).test_client()
    csrf_token(client)  # the session has a token; the request does not send it
    response = client.post("/api/uploads", data=files(("a.txt", b"x")))
    assert response.status_code == 403
    assert "CSRF token" in response.json["error"]
    wrong = upload(client, files(("a.txt", b"x")), headers={"X-CSRF-Token": "not-it"})
    assert wrong.status_code == 403
    assert ingest.calls == []


def test_an_upload_to_a_foreign_host_name_is_refused(store, tmp_path):
    ingest = RecordingIngest()
    client = make_app(store, tmp_path, ingest).test_client()
    response = upload(client, files(("a.txt", b"x")), headers={"Host": "rebound.example"})
    assert response.status_code == 400
    assert ingest.calls == []


@pytest.mark.parametrize(
    ("settings", "remote", "status", "words"),
    [
        ({"READ_ONLY": True}, "127.0.0.1", 403, "read-only"),
        ({}, "192.0.2.7", 401, "needs an editor login"),
    ],
)
def test_only_a_writer_may_upload_or_is_offered_the_form(
    store, tmp_path, settings, remote, status, words
):
    ingest = RecordingIngest()
    client = make_app(store, tmp_path, ingest, **settings).test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    assert "mapapp-upload" not in client.get("/").get_data(as_text=True)
    response = upload(client, files(("a.txt", b"x")))
    assert response.status_code == status
    assert words in response.json["error"]
    assert ingest.calls == []


# -- the real ingest ---------------------------------------------------------------


@pytest.fixture
def ingest_config(tmp_path, gazetteer, gazetteer_cache):
    """Settings for a real ingest into a fresh store (the gazetteer alone: no model load)."""
    from mapapp.settings import load_settings

    return load_settings(
        {
            "STORE": str(tmp_path / "uploads.gpkg"),
            "CACHE_DIR": str(gazetteer_cache),
            "NER_MODEL": "none",
        },
        environ={},
    )


def test_a_story_and_a_bad_file_go_through_the_command_lines_ingest(ingest_config, tmp_path):
    from mapapp.cli import upload_ingest
    from mapapp.ingest.pipeline import ingest
    from mapapp.stores import open_store
    from mapapp.web import create_app

    app = create_app(
        {"TESTING": True, "STORE": ingest_config.store, "CACHE_DIR": ingest_config.cache_dir},
        ingest_files=upload_ingest(ingest_config),
    )
    client = app.test_client()
    sent = files(("harbour.txt", STORY.encode()), ("notes.xyz", BAD))
    body = upload(client, sent).json
    assert (body["files"], body["added"], body["already_stored"]) == (2, 1, 0)
    assert body["places"] >= 1
    (skipped,) = body["skipped"]
    assert skipped["file"] == "notes.xyz"
    # The very reason `mapapp ingest` gives for the same file.
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "notes.xyz").write_bytes(BAD)
    cli = ingest([tmp_path / "cli" / "notes.xyz"], ingest_config)
    assert cli.errors == (f"{tmp_path / 'cli' / 'notes.xyz'}: {skipped['reason']}",)
    stored = open_store(ingest_config.store).articles(include_undated=True)
    assert list(stored["headline"]) == ["Ferry service resumes across the harbour"]
    again = upload(client, files(("copy.txt", STORY.encode()))).json
    assert (again["added"], again["already_stored"]) == (0, 1)  # same story, nothing new


# -- in the browser ----------------------------------------------------------------


@pytest.fixture
def upload_site(ingest_config):
    """A live server of the usual stories that takes uploads; yields its base URL."""
    from mapapp.cli import upload_ingest
    from mapapp.stores import open_store
    from mapapp.web import create_app

    open_store(ingest_config.store).add(story_records())
    app = create_app(
        {
            "TESTING": True,
            "STORE": ingest_config.store,
            "CACHE_DIR": ingest_config.cache_dir,
            "LIVE_POLL_SECONDS": 0,
        },
        ingest_files=upload_ingest(ingest_config),
    )
    with serving(app) as base_url:
        yield base_url


@pytest.fixture
def upload_page(browser, upload_site, tmp_path):
    """That map open in Chromium."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    watch = Watched(context.new_page(), upload_site, tmp_path)
    yield watch
    watch.assert_clean()
    context.close()


@pytest.mark.browser
def test_files_chosen_in_the_form_are_ingested_and_shown(upload_page, tmp_path):
    watched, page = upload_page, upload_page.page
    watched.goto("/?lat=0.0000&lon=30.0000&zoom=3")
    page.wait_for_selector(READY, state="attached")
    before = url_params(page)
    (tmp_path / "harbour.txt").write_text(STORY)
    (tmp_path / "notes.xyz").write_bytes(BAD)
    page.set_input_files(
        "form.mapapp-upload input[type=file]", [tmp_path / "harbour.txt", tmp_path / "notes.xyz"]
    )
    page.click("form.mapapp-upload button[type=submit]")
    page.wait_for_selector("form.mapapp-upload[data-state=done]", timeout=60_000)
    report = page.locator(".mapapp-upload-report")
    counts = report.locator(".mapapp-upload-counts").inner_text()
    assert counts.startswith("2 files: 1 story added (")
    assert counts.endswith("0 already stored, 1 skipped.")
    assert (
        report.locator(".mapapp-upload-skipped li")
        .inner_text()
        .startswith("notes.xyz: unknown format '.xyz'")
    )
    assert page.locator("form.mapapp-upload progress").is_hidden()
    # The new story is drawn at once, in the same view.
    page.wait_for_function(SHOWN, arg="Nairobi")
    assert "Ferry service resumes" in page.locator(".mapapp-list").inner_text()
    page.wait_for_selector(READY, state="attached")
    assert url_params(page) == before
    watched.shot("upload-done")


@pytest.mark.browser
def test_files_dropped_on_the_map_are_uploaded(upload_page):
    watched, page = upload_page, upload_page.page
    watched.goto("/")
    page.wait_for_selector(READY, state="attached")
    drop = page.locator(".mapapp-drop")
    send = """([kind, text]) => {
        const files = new DataTransfer();
        files.items.add(new File([text], "dropped.txt", {type: "text/plain"}));
        const pane = document.querySelector(".map-pane .leaflet-container");
        const options = {dataTransfer: files, bubbles: true, cancelable: true};
        pane.dispatchEvent(new DragEvent(kind, options));
    }"""
    page.evaluate(send, ["dragenter", ""])
    assert drop.is_visible()
    watched.shot("upload-drop-zone")
    page.evaluate(send, ["drop", STORY])
    assert drop.is_hidden()
    page.wait_for_selector("form.mapapp-upload[data-state=done]", timeout=60_000)
    assert page.locator(".mapapp-upload-counts").inner_text().startswith("1 file: 1 story added (")
    page.wait_for_function(SHOWN, arg="Nairobi")


@pytest.mark.browser
def test_the_upload_form_live_button_and_notices_pass_axe(browser, upload_site):
    """axe-core (from npm) finds nothing wrong with what this issue added to the page."""
    axe = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists():
        skip_or_fail(f"{axe} not found: run 'npm ci'", needed_by="the accessibility check")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(upload_site + "/?q=atlantis")
    page.wait_for_selector(READY, state="attached")
    page.locator(".mapapp-empty").wait_for(state="visible")
    page.evaluate(
        """() => { const b = document.querySelector('.mapapp-live-show');
                   b.hidden = false; b.textContent = '1 new story \\u2014 show'; }"""
    )
    page.add_script_tag(path=str(axe))
    found = page.evaluate(
        """() => axe.run(
            {include: [['.mapapp-live'], ['.mapapp-upload-panel'], ['.mapapp-empty'],
                       ['.mapapp-loading']]}
        ).then(r => ({
            passes: r.passes.length,
            violations: r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(', ')),
        }))"""
    )
    context.close()
    assert found["violations"] == []
    assert found["passes"] >= 5  # axe did look at them


def test_mapapp_serve_hands_the_app_its_ingest(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from mapapp.cli import cli
    from mapapp.web import server
    from mapapp.web.uploads import EXTENSION

    served = []
    monkeypatch.setattr(server, "serve", lambda app, host, port: served.append(app))
    result = CliRunner().invoke(cli, ["serve", "--store", str(tmp_path / "s.gpkg")])
    assert result.exit_code == 0, result.output
    (app,) = served
    assert callable(app.extensions[EXTENSION])
    assert server.max_body_bytes(app) == app.config["MAPAPP_SETTINGS"].upload_max_bytes
