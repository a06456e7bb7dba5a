"""The stories blueprint: ``GET /stories/<article_id>``, one story, its places marked and mapped."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from flask import Blueprint, abort, render_template, request, url_for

from mapapp.errors import QueryError, StoreError
from mapapp.maps.events import story_events
from mapapp.maps.query import parse_view
from mapapp.maps.story import mark_places, mention_spans, render_story_map, story_places, web_link
from mapapp.maps.view import MapView
from mapapp.web.cache import map_data, remembered
from mapapp.web.context import get_store, map_options
from mapapp.web.security import with_nonce

stories_bp = Blueprint("stories", __name__)


@stories_bp.get("/stories/<article_id>")
def show(article_id: str) -> str:
    """One story with every recognised place marked and mapped.

    ``?map=`` is the main map's query the reader came from (viewlinks.js adds
    it): "Back to the map", previous/next and "on the main map" keep that view.
    """
    key = ("story", get_store().version(), article_id, request.script_root)
    page = remembered(key, lambda: story_page(article_id))
    view = came_from(request.args.get("map"))
    return render_template(
        "story.html",
        **page,
        story_map=with_nonce(page["map_fragment"]),
        back_url=url_for("map.index", **(view.params() if view else {})),
        map_query=urlencode(view.params()) if view and view.params() else None,
        map_filters=view.params(view=False) if view else {},
    )


def came_from(query: str | None) -> MapView | None:
    """The map view in a story link's ``map`` parameter; None when absent or unreadable.

    A link that lost or mangled its view still opens the story (it only
    returns to the plain map), so a bad value is dropped rather than refused.
    """
    if not query:
        return None
    try:
        return parse_view(parse_qs(query, keep_blank_values=True))
    except QueryError:
        return None


def get_article(article_id: str) -> dict[str, Any]:
    """The stored article with ``article_id``.

    :raise 404: no stored article has that id.
    """
    article = get_store().article(article_id)
    if article is None:
        shown = article_id if len(article_id) <= 40 else article_id[:40] + "..."
        abort(404, f"No story with id {shown!r} is in the store.")
    return article


def story_page(article_id: str) -> dict[str, Any]:
    """What story.html shows of one story (its small map without this response's nonce).

    :raise 404: no stored article has that id.
    """
    article = get_article(article_id)
    mentions = get_store().mentions(article_id=article_id, resolved_only=False)
    spans = mention_spans(mentions)
    located = mentions[mentions.geometry.notna() & ~mentions.geometry.is_empty]
    older, newer = neighbours(article_id)
    return {
        "article": article,
        "original_url": web_link(article.get("url")),
        "segments": mark_places(article.get("text") or "", spans),
        "places": story_places(located),
        "unplaced": [s for s in spans if s["key"] is None],
        "map_fragment": render_story_map(located, **map_options()),
        "older": older,
        "newer": newer,
        "events": _events_of(article_id),
    }


def _events_of(article_id: str) -> list[dict[str, Any]] | None:
    """The story's events for its page; None for a store that keeps none (GeoParquet)."""
    store = get_store()
    try:
        return story_events(store.events(article_id=article_id))
    except StoreError:
        if store.partitioned:
            return None
        raise


def neighbours(article_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The stories just before and after ``article_id`` by date (undated ones last)."""
    articles = map_data().articles
    index = next((i for i, a in enumerate(articles) if a[0] == article_id), None)
    if index is None:
        return None, None

    def describe(i: int) -> dict[str, Any] | None:
        if not 0 <= i < len(articles):
            return None
        story_id, headline, published = articles[i]
        return {
            "article_id": story_id,
            "headline": headline or "(no headline)",
            "published": published,
        }

    return describe(index - 1), describe(index + 1)
