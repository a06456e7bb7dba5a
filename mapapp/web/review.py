"""The review blueprint: ``/review``, the queue of what needs a human eye, and ``/review/log``.

Both pages are plain, accessible HTML (lists and a table) filtered by the
map's own query (``start``, ``end``, ``undated``, ``country``, ``q``: see
``mapapp.maps.query.parse_view``); ``static/review.js`` adds the keyboard
(j/k, 1-9, x, a, u) and sends the decisions to ``/api/corrections``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from mapapp.maps.query import parse_view
from mapapp.maps.review import review_queue
from mapapp.maps.view import MapView
from mapapp.web.cache import map_data
from mapapp.web.context import get_store

review_bp = Blueprint("review", __name__)

MAX_CANDIDATES = 9  # the keys 1-9 pick one


def _filters(view: MapView) -> dict[str, Any]:
    """What both pages' filter form shows: the view, the countries and the date bounds."""
    data = map_data()
    dated = [a[2] for a in data.articles if a[2]]
    return {
        "view": view,
        "countries": data.countries,
        "first_date": min(dated) if dated else None,
        "last_date": max(dated) if dated else None,
    }


@review_bp.get("/review")
def queue() -> str:
    """The review queue for the view in the URL, most touching first."""
    view = parse_view(request.args)
    items = review_queue(get_store(), view)
    for item in items:
        item["candidates"] = (item.get("candidates") or [])[:MAX_CANDIDATES]
    return render_template("review.html", items=items, **_filters(view))


def _in_view(
    correction: dict[str, Any], view: MapView, published: dict[str, Any], in_country: set[str]
) -> bool:
    """Does the map's view keep the story (dates) and the country of ``correction``?"""
    article = correction.get("article_id")
    day = published.get(article)
    if day is None:
        if (view.start or view.end) and not view.undated:
            return False
    elif (view.start and day < view.start.isoformat()) or (view.end and day > view.end.isoformat()):
        return False
    if view.country:
        return correction.get("country_code") == view.country or article in in_country
    return True


@review_bp.get("/review/log")
def log() -> str:
    """Every correction and acceptance, newest first: who, when, old and new, undo per row."""
    view = parse_view(request.args)
    data = map_data()
    published = {a[0]: a[2] for a in data.articles}
    headlines = {a[0]: a[1] for a in data.articles}
    in_country: set[str] = set()
    if view.country:  # stories with a place there, as shown now or as the geoparser had it
        raw = get_store().mentions(include_undated=True, corrected=False)
        for frame in (data.frame, raw):
            rows = frame["country_code"] == view.country
            in_country |= set(frame.loc[rows, "article_id"].astype(str))
    rows = [c for c in get_store().corrections() if _in_view(c, view, published, in_country)]
    for row in rows:
        row["headline"] = headlines.get(row.get("article_id"))
    return render_template("review_log.html", corrections=rows, **_filters(view))
