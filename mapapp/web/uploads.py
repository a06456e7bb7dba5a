"""The uploads blueprint: ``POST /api/uploads``, story files dropped on the map, ingested.

The web layer reads the store and never imports the geoparser or the
ingest: whoever starts the server (``mapapp serve``, ``run.py``) hands
``create_app`` an ``ingest_files`` callable, kept in
``app.extensions["mapapp_ingest_files"]``; without one the route answers 501
with a sentence.  The files are saved under cleaned names in a fresh
temporary folder, ingested by the callable (the same readers as
``mapapp ingest``, so the same ``skipped:`` reasons), and the folder is removed
afterwards whatever happened.  The body may be ``UPLOAD_MAX_BYTES`` long
(``security.body_limit``); every other route keeps the 16 KiB limit.

An upload is a write: it needs the session's CSRF token (``sessions``, checked
before any view) and ``auth.write_access`` (the local user on a loopback
server, a signed-in editor beyond it, nobody under MAPAPP_READ_ONLY).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from mapapp.errors import MapappError
from mapapp.web.auth import may_write, write_access
from mapapp.web.context import json_response

log = logging.getLogger(__name__)
uploads_bp = Blueprint("uploads", __name__, url_prefix="/api")

#: Ingests story files: ``ingest_files(paths, report)`` returns a summary with
#: ``articles``, ``already_stored``, ``places``, ``unresolved`` and ``errors``
#: (one "path: reason" line per skipped file); ``report`` gets the user's lines.
IngestFiles = Callable[[Sequence[Path], Callable[[str], None]], Any]

EXTENSION = "mapapp_ingest_files"
MAX_FILES = 100  # files in one upload
FIELD = "files"  # the form field holding them


def init_app(app: Flask, ingest_files: IngestFiles | None) -> None:
    """Let ``app`` take uploads, ingested by ``ingest_files`` (None: uploads answer 501)."""
    if ingest_files is not None:
        app.extensions[EXTENSION] = ingest_files


def uploads_enabled() -> bool:
    """Does the current app take uploads (was it given an ``ingest_files``)?"""
    return EXTENSION in current_app.extensions


def may_upload() -> bool:
    """Should this request's page offer the upload: the app takes uploads and it may write?"""
    return uploads_enabled() and may_write()


def save_files(files: Sequence[FileStorage], folder: Path) -> dict[Path, str]:
    """Each upload saved in its own subfolder of ``folder`` under a cleaned name; returns
    saved path -> the name the reader gave it (so two files of one name both land)."""
    saved: dict[Path, str] = {}
    for number, upload in enumerate(files):
        shown = Path(upload.filename or "").name or f"file {number + 1}"
        name = secure_filename(shown) or f"upload-{number + 1}"
        target = folder / f"{number:03d}" / name
        target.parent.mkdir()
        upload.save(target)
        saved[target] = shown
    return saved


def skipped_files(errors: Sequence[str], saved: dict[Path, str]) -> list[dict[str, str]]:
    """The ingest's "path: reason" lines as {file, reason}, each named as the reader named it."""
    out = []
    for line in errors:
        text = str(line)
        match = next((p for p in saved if text.startswith(f"{p}:")), None)
        if match is None:
            out.append({"file": "", "reason": text})
        else:
            out.append({"file": saved[match], "reason": text[len(str(match)) + 1 :].strip()})
    return out


def _plain(line: str, folder: Path) -> str:
    """A report line without the temporary folder's path in it."""
    return line.replace(f"{folder}/", "").replace(str(folder), "the upload")


@uploads_bp.post("/uploads")
@write_access
def upload(editor: str) -> Response:
    """Ingest the story files of a multipart form (field ``files``); answer what was added.

    :raise 501: this server was started without an ingest (no uploads).
    :raise 401, 403: the request may not write (``auth.current_editor``).
    :raise 400: no file in the form.
    :raise 413: more than MAX_FILES files (or a body over UPLOAD_MAX_BYTES).
    """
    ingest = current_app.extensions.get(EXTENSION)
    if ingest is None:
        abort(
            501,
            "This server takes no uploads: add stories with 'mapapp ingest', or start the "
            "map with 'mapapp serve' to drop them on it.",
        )
    files = [f for f in request.files.getlist(FIELD) if f.filename]
    if not files:
        abort(400, f"Choose at least one story file to upload (form field '{FIELD}').")
    if len(files) > MAX_FILES:
        abort(413, f"{len(files)} files in one upload: send at most {MAX_FILES} at a time.")
    log.info("upload of %d files by %s", len(files), editor)
    folder = Path(tempfile.mkdtemp(prefix="mapapp-upload-"))
    notes: list[str] = []
    try:
        saved = save_files(files, folder)
        try:
            summary = ingest(list(saved), lambda line: notes.append(_plain(str(line), folder)))
        except MapappError as err:
            message = _plain(str(err), folder)
            return json_response(
                {"error": f"The files could not be ingested: {message}", "status": 500}, 500
            )
        skipped = skipped_files(summary.errors, saved)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return json_response(
        {
            "files": len(saved),
            "added": summary.articles,
            "already_stored": summary.already_stored,
            "places": summary.places,
            "unresolved": summary.unresolved,
            "skipped": skipped,
            "notes": [n for n in notes if not n.startswith("skipped:")],
        }
    )
