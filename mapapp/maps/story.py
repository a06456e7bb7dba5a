"""What a story page shows: its text with the places marked, its places, and their small map.

Each placed mention and its place share one anchor (``point_key``): the text's
link, the places list's item and the small map's marker (``data-point``) all
carry it, which is how ``static/story.js`` finds the marker of a clicked name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import folium
from markupsafe import Markup

from mapapp.maps.elements import BASEMAP_URL, WORLD_CENTRE, PointLabel, base_map, map_fragment
from mapapp.maps.view import cell_text, place_kind


@dataclass(frozen=True)
class StoryPlace:
    """One distinct resolved place of an article, as listed on its story page."""

    key: str
    name: str
    admin1_name: str
    country_code: str
    feature_code: str
    kind: str
    latitude: float
    longitude: float
    written: tuple[str, ...]
    mention_id: str = ""  # its first mention's, for "Wrong place?" (none before mention ids)


@dataclass(frozen=True)
class Segment:
    """A run of article text; ``mention`` is set when it is a recognised place."""

    text: str
    mention: Mapping[str, Any] | None = None


def point_key(geonameid: Any, latitude: float, longitude: float) -> str:
    """A stable anchor for a place: its GeoNames id, else its rounded position."""
    gid = cell_text(geonameid)
    if gid:
        return f"place-{int(float(gid))}"
    return f"place-{latitude:.4f}_{longitude:.4f}".replace("-", "m").replace(".", "d")


def web_link(url: Any) -> str | None:
    """The article's own URL when it is a plain web link (never javascript: and the like)."""
    text = cell_text(url)
    return text if text and urlsplit(text).scheme in ("http", "https") else None


def story_places(mentions: Any) -> list[StoryPlace]:
    """The distinct resolved places of a mentions frame, in order of first mention."""
    places: dict[str, dict[str, Any]] = {}
    for row in mentions.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        key = point_key(row.geonameid, geom.y, geom.x)
        entry = places.setdefault(
            key,
            {
                "key": key,
                "name": cell_text(row.resolved_name) or cell_text(row.name),
                "admin1_name": cell_text(row.admin1_name),
                "country_code": cell_text(row.country_code),
                "feature_code": cell_text(row.feature_code),
                "kind": place_kind(cell_text(row.feature_class), cell_text(row.feature_code)),
                "latitude": float(geom.y),
                "longitude": float(geom.x),
                "written": [],
                "mention_id": cell_text(getattr(row, "mention_id", None)),
            },
        )
        if cell_text(row.name) and cell_text(row.name) not in entry["written"]:
            entry["written"].append(cell_text(row.name))
    return [StoryPlace(**{**e, "written": tuple(e["written"])}) for e in places.values()]


def mention_spans(mentions: Any) -> list[dict[str, Any]]:
    """Each mention as a highlightable span with its place's anchor (None if unplaced)."""
    spans = []
    for row in mentions.itertuples(index=False):
        geom = row.geometry
        placed = geom is not None and not geom.is_empty
        key = point_key(row.geonameid, geom.y, geom.x) if placed else None
        where = ", ".join(
            p
            for p in (
                cell_text(row.resolved_name),
                cell_text(row.admin1_name),
                cell_text(row.country_code),
            )
            if p
        )
        label = where if placed else f"Not placed: {cell_text(row.reason) or 'unresolved'}"
        spans.append(
            {
                "start": row.start,
                "end": row.end,
                "name": cell_text(row.name) or None,
                "role": cell_text(row.role) or None,
                "key": key,
                "label": label,
                "reason": cell_text(row.reason) or None,
                "mention_id": cell_text(getattr(row, "mention_id", None)) or None,
            }
        )
    return spans


def mark_places(text: str, spans: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """Split ``text`` at each span's [start, end) code-point offsets.

    Spans outside the text, empty or overlapping an earlier span are left out;
    the segments' texts always join back into ``text``.  Escaping is the
    template's job (autoescape), so segments hold plain text.
    """
    segments: list[Segment] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"]))):
        start, end = int(span["start"]), int(span["end"])
        if start < cursor or end <= start or end > len(text):
            continue
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], span))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


def render_story_map(
    mentions: Any,
    *,
    basemap_url: str = BASEMAP_URL,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    asset_root: str = "/",
    labels_url: str | None = None,
) -> Markup:
    """A small map of one article's resolved places (few markers, labelled safely)."""
    places = story_places(mentions)
    m = base_map(
        WORLD_CENTRE,
        1,
        asset_root=asset_root,
        basemap_url=basemap_url,
        tiles=tiles,
        tiles_attribution=tiles_attribution,
        labels_url=labels_url,
        position="relative",
    )
    for place in places:
        area = place.kind == "area"
        style = (
            {
                "radius": 9,
                "weight": 3,
                "color": "#6c3483",
                "fill": False,
                "class_name": "mapapp-story-area",
                "pane": "markerPane",  # above the basemap's names
            }
            if area
            else {
                "radius": 6,
                "weight": 2,
                "color": "#ffffff",
                "fill_color": "#c0392b",
                "fill_opacity": 0.9,
                "class_name": "mapapp-story-point",
                "pane": "markerPane",
            }
        )
        marker = folium.CircleMarker((place.latitude, place.longitude), **style)
        label = ", ".join(p for p in (place.name, place.admin1_name, place.country_code) if p)
        PointLabel(label, place.key).add_to(marker)
        marker.add_to(m)
    if places:
        lats = [p.latitude for p in places]
        lons = [p.longitude for p in places]
        m.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(30, 30), max_zoom=6)
    return map_fragment(m)
