"""The corrections API: what the resolver weighed for a mention, and editors' fixes and undos.

GET    /api/mentions/<mention_id>/candidates  the weighed candidates and the current reading
GET    /api/places/search?q=&limit=           the whole gazetteer (501 when none is wired)
POST   /api/corrections                        {"mention_id", "action", "geonameid", "scope",
                                                "base"}: 201 with the id and the mention now
DELETE /api/corrections/<id>                   undo one correction
GET    /api/corrections                        the log, newest first (``?active=1``: not undone)

Writes go through the Host check, the CSRF token and `write_access`; the
store's version changes with each, so no cache serves the old map after one.
The gazetteer search is handed in by the caller of ``create_app`` (the web
layer never imports the geoparser); see `PlaceFinder`.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

from flask import Blueprint, Response, abort, current_app, request

from mapapp.errors import ConflictError, NotFoundError, QueryError
from mapapp.maps.points import country_names
from mapapp.stores.corrections import ACTIONS, SCOPES
from mapapp.web.auth import write_access
from mapapp.web.context import get_store, json_response

corrections_bp = Blueprint("corrections", __name__, url_prefix="/api")

FINDER_KEY = "mapapp_place_search"  # app.extensions key of the PlaceFinder, if any
FIELDS = ("mention_id", "action", "geonameid", "scope", "base")
MAX_ID = 300  # characters of a mention id (article ids are 16 hex digits)
MAX_QUERY, MAX_LIMIT = 100, 50
CURRENT_FIELDS = (
    "geonameid",
    "resolved_name",
    "admin1_name",
    "country_code",
    "feature_class",
    "feature_code",
    "population",
    "lat",
    "lon",
    "score",
    "provider",
    "corrected",
    "reviewed",
    "correction_id",
    "geoparser_geonameid",
)


class PlaceFinder(Protocol):
    """A gazetteer search (`mapapp.recognition.place_search.PlaceSearch` is one)."""

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Places matching ``query``, best first."""

    def place(self, geonameid: int) -> dict[str, Any] | None:
        """The place with ``geonameid``, or None."""


def finder() -> PlaceFinder | None:
    """The gazetteer search wired into this app, if any."""
    return current_app.extensions.get(FINDER_KEY)


@functools.cache
def _countries() -> dict[str, str]:
    return country_names()


def with_country(place: dict[str, Any]) -> dict[str, Any]:
    """A place dict with its country's English name added (``country``)."""
    code = place.get("country_code") or ""
    return {**place, "country": _countries().get(code, code)}


def mention_or_404(mention_id: str) -> dict[str, Any]:
    """The stored mention with ``mention_id`` (corrections applied).

    :raise 404: the store holds no such mention.
    """
    found = get_store().mention(mention_id)
    if found is None:
        shown = mention_id if len(mention_id) <= 60 else mention_id[:60] + "..."
        abort(404, f"No mention with id {shown!r} is in the store.")
    return found


def current_of(mention: dict[str, Any]) -> dict[str, Any]:
    """How a mention reads now: its place (or none), score, and who decided it."""
    return {name: mention.get(name) for name in CURRENT_FIELDS}


@corrections_bp.get("/mentions/<mention_id>/candidates")
def candidates(mention_id: str) -> Response:
    """The places the resolver weighed for one mention, best first, and its current reading."""
    mention = mention_or_404(mention_id)
    current = mention.get("geonameid")
    weighed = [
        with_country({**c, "chosen": c.get("geonameid") == current})
        for c in mention.get("candidates") or []
    ]
    return json_response(
        {
            "mention_id": mention["mention_id"],
            "name": mention.get("name"),
            "article_id": mention.get("article_id"),
            "headline": mention.get("headline"),
            "sentence": mention.get("sentence"),
            "role": mention.get("role"),
            "current": with_country(current_of(mention)),
            "candidates": weighed,
            "base": int(mention.get("correction_id") or 0),  # send back to detect a conflict
        }
    )


@corrections_bp.get("/places/search")
def search() -> Response:
    """Places over the whole gazetteer by name (or GeoNames id), biggest first.

    :raise 400: no query, a query too long, or a bad limit.
    :raise 501: no gazetteer search is wired into this app.
    """
    query = request.args.get("q", "").strip()
    if not query:
        abort(400, "Give the name to search for as q, e.g. /api/places/search?q=Aleppo.")
    if len(query) > MAX_QUERY:
        abort(400, f"The search q is {len(query)} characters long: use at most {MAX_QUERY}.")
    raw_limit = request.args.get("limit", "10")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        abort(400, f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw_limit[:20]!r}.")
    places = finder()
    if places is None:
        abort(
            501,
            "This server has no gazetteer to search: run it with 'mapapp serve' or run.py "
            "(an app made by create_app alone has none).",
        )
    found = places.search(query, int(raw_limit))
    return json_response({"q": query, "places": [with_country(p) for p in found]})


def _body() -> dict[str, Any]:
    """The request's JSON object.

    :raise 400: the body is not JSON, not an object, or has a field no correction has.
    """
    if not request.is_json:
        abort(400, "Send the correction as JSON (Content-Type: application/json).")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, 'The request body must be a JSON object such as {"mention_id": ...}.')
    unknown = sorted(str(k) for k in body if k not in FIELDS)
    if unknown:
        abort(
            400,
            f"Unknown field {unknown[0][:40]!r}: a correction takes " + ", ".join(FIELDS) + ".",
        )
    return body


def _whole(body: dict[str, Any], field: str, *, least: int) -> int | None:
    """``body[field]`` as a whole number of at least ``least`` (None when absent or null).

    :raise 400: anything else.
    """
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        abort(400, f"{field} must be a whole number of {least} or more, not {str(value)[:40]!r}.")
    return value


def parse_correction(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a correction request, each checked.

    :raise 400: a missing or bad field, named in the sentence.
    """
    mention_id = body.get("mention_id")
    if not isinstance(mention_id, str) or not mention_id.strip():
        abort(400, "mention_id is missing: give the id of the mention to correct.")
    if len(mention_id) > MAX_ID:
        abort(400, f"mention_id is {len(mention_id)} characters long: use at most {MAX_ID}.")
    action = body.get("action")
    if action not in ACTIONS:
        abort(400, f"action must be one of {', '.join(ACTIONS)}, not {str(action)[:40]!r}.")
    scope = body.get("scope", "mention")
    scope = "mention" if scope is None else scope
    if scope not in SCOPES:
        abort(400, f"scope must be one of {', '.join(SCOPES)}, not {str(scope)[:40]!r}.")
    geonameid = _whole(body, "geonameid", least=1)
    if action == "place" and geonameid is None:
        abort(400, "geonameid is missing: a 'place' correction names the GeoNames id to use.")
    if action != "place" and geonameid is not None:
        abort(400, f"geonameid goes only with action 'place', not with {action!r}.")
    base = _whole(body, "base", least=0)
    return {
        "mention_id": mention_id.strip(),
        "action": action,
        "scope": scope,
        "geonameid": geonameid,
        "base": base,
    }


def new_place(mention: dict[str, Any], geonameid: int) -> dict[str, Any] | None:
    """The place a 'place' correction moves the mention to: None when it is one of the
    mention's candidates (the store takes it from there), else the gazetteer's entry.

    :raise 400: neither a candidate nor (with a gazetteer wired) a gazetteer entry.
    """
    if any(c.get("geonameid") == geonameid for c in mention.get("candidates") or []):
        return None
    places = finder()
    found = places.place(geonameid) if places is not None else None
    if found is None:
        where = "the gazetteer" if places is not None else "its candidates (no gazetteer is wired)"
        abort(400, f"geonameid {geonameid} is not a place in {where}.")
    return found


def _outcome(result: dict[str, Any], status: int) -> Response:
    """A correction as the API answers it: its id, the correction, the mention now."""
    mention = result.get("mention")
    correction = {k: v for k, v in result.items() if k != "mention"}
    return json_response(
        {"id": result["id"], "correction": correction, "mention": mention}, status=status
    )


@corrections_bp.post("/corrections")
@write_access
def correct(editor: str) -> Response:
    """Record one editor's decision about a mention: 201 with its id and the mention now.

    :raise 400: a bad field. :raise 404: no such mention.
    :raise 409: ``base`` is no longer the correction deciding the mention.
    """
    fields = parse_correction(_body())
    mention = mention_or_404(fields["mention_id"])
    place = new_place(mention, fields["geonameid"]) if fields["action"] == "place" else None
    try:
        result = get_store().add_correction(
            fields["mention_id"],
            fields["action"],
            scope=fields["scope"],
            geonameid=fields["geonameid"],
            place=place,
            editor=editor,
            base=fields["base"],
        )
    except ConflictError as err:
        abort(409, str(err))
    except NotFoundError as err:
        abort(404, str(err))
    except QueryError as err:
        abort(400, str(err))
    return _outcome(result, 201)


@corrections_bp.delete("/corrections/<int:correction_id>")
@write_access
def undo(correction_id: int, editor: str) -> Response:
    """Undo one correction (it stays in the log, flagged): 200 with the mention restored.

    :raise 404: no such correction. :raise 409: it was already undone.
    """
    try:
        result = get_store().undo_correction(correction_id)
    except ConflictError as err:
        abort(409, str(err))
    except NotFoundError as err:
        abort(404, str(err))
    return _outcome(result, 200)


@corrections_bp.get("/corrections")
def log() -> Response:
    """Every correction and acceptance, newest first (``?active=1`` leaves out undone ones)."""
    active = request.args.get("active", "0")
    if active not in ("0", "1"):
        abort(400, f"active must be 0 or 1, not {active[:20]!r}.")
    rows = get_store().corrections(include_undone=active == "0")
    return json_response({"corrections": rows})
