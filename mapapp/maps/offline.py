"""A view of the map as one self-contained HTML file that opens from disk with no network at all.

What ``/export.html`` sends: Leaflet and its stylesheet, the outline
basemap and its labels, the view's places with their stories, and the script
that draws them (``static/offline.js``), all inlined.  The file's own
Content-Security-Policy allows only those inline scripts and styles (by
hash) and images from ``data:``; it may fetch nothing, so it works offline
and an injected script could not run or phone home.  Data goes in as JSON
blocks (``<``, ``>``, ``&`` and ``'`` written as ``\\u00XX``), and the script
puts every text in with ``textContent``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pandas
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import escape

from mapapp.maps.elements import (
    GEONAMES_ATTRIBUTION,
    LAND_STYLE,
    NATURAL_EARTH_ATTRIBUTION,
    OCEAN_COLOUR,
    vendor_dir,
)
from mapapp.maps.points import LOW_SCORE, place_keys
from mapapp.maps.static import TITLE, view_counts, view_places, view_subtitle
from mapapp.maps.story import web_link
from mapapp.maps.view import MapView, cell_text

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
PLACE_STORIES = 30  # stories listed in a place's popup (the rest are counted)

PAGE_CSS = """
html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, sans-serif; color: #222; }
#map { position: absolute; inset: 0; background: OCEAN; }
.mapapp-offline-title { background: rgba(255,255,255,0.92); padding: 6px 10px; max-width: 26rem;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.mapapp-offline-title h1 { font-size: 16px; margin: 0; }
.mapapp-offline-title p { margin: 2px 0 0; font-size: 12px; color: #444; }
.mapapp-offline-legend { background: rgba(255,255,255,0.92); padding: 6px 10px; font-size: 12px;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.mapapp-offline-legend span { display: inline-block; width: 10px; height: 10px;
  border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
.mapapp-offline-popup h3 { margin: 0 0 4px; font-size: 15px; }
.mapapp-offline-popup ul { margin: 4px 0 0; padding-left: 18px; max-height: 14rem; overflow: auto; }
.mapapp-offline-popup .mapapp-date { color: #555; margin-right: 4px; }
"""


def _stories_by_place(frame: pandas.DataFrame) -> dict[str, list[list[Any]]]:
    """Place key -> its stories as [headline, published, link], newest first, each once."""
    if not len(frame):
        return {}
    rows = pandas.DataFrame(
        {
            "key": place_keys(frame),
            "story": frame["article_id"].astype(str).to_numpy(),
            "headline": [cell_text(h) or "(no headline)" for h in frame["headline"]],
            "published": [cell_text(p) for p in frame["published"]],
            "link": [web_link(u) for u in frame["url"]] if "url" in frame else None,
        }
    ).drop_duplicates(["key", "story"])
    rows = rows.sort_values("published", ascending=False, kind="stable")
    return {
        key: [
            [r.headline, r.published or "undated", r.link if isinstance(r.link, str) else None]
            for r in group.itertuples()
        ]
        for key, group in rows.groupby("key", sort=False)
    }


def offline_payload(frame: pandas.DataFrame, view: MapView, made: date | None = None) -> dict:
    """What offline.js draws: the title, the places with their stories, the legend's threshold."""
    places = view_places(frame)
    stories = _stories_by_place(frame)
    story_count = int(frame["article_id"].nunique()) if len(frame) else 0
    return {
        "title": TITLE,
        "subtitle": view_subtitle(view),
        "counts": view_counts(len(places), story_count, len(frame)),
        "made": (made or date.today()).isoformat(),
        "attribution": [GEONAMES_ATTRIBUTION, NATURAL_EARTH_ATTRIBUTION],
        "lowScore": LOW_SCORE,
        "land": LAND_STYLE,
        "view": {"lat": view.lat, "lon": view.lon, "zoom": view.zoom},
        "storiesShown": PLACE_STORIES,
        "places": [
            {
                "name": p.name,
                "lat": round(float(p.lat), 5),
                "lon": round(float(p.lon), 5),
                "area": bool(p.area),
                "best": round(float(p.best), 3),
                "stories": stories.get(p.key, []),
            }
            for p in places.itertuples()
        ],
    }


def _json_block(element_id: str, data: Any) -> str:
    """A JSON data block (never run as a script): ``<`` ``>`` ``&`` ``'`` as \\u00XX escapes."""
    if isinstance(data, bytes):  # already GeoJSON: parse-free, but made as safe as the rest
        text = data.decode("utf-8")
        for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
            text = text.replace(char, code)
    else:
        text = str(htmlsafe_json_dumps(data, separators=(",", ":"), ensure_ascii=False))
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _code(path: Path) -> str:
    """A script or stylesheet to inline; refused if it could close its own element."""
    text = path.read_text(encoding="utf-8")
    lowered = text.lower()
    if "</script" in lowered or "</style" in lowered or "<!--" in text:
        raise ValueError(f"{path} cannot be inlined: it holds a closing tag or comment opener")
    return text


def render_offline(
    frame: pandas.DataFrame,
    view: MapView,
    *,
    outlines: bytes,
    labels: bytes,
    made: date | None = None,
) -> bytes:
    """The view (``frame``: its filtered mention rows) as one HTML file that needs no network.

    ``outlines`` and ``labels`` are the basemap's GeoJSON bytes (as the app serves them).
    """
    payload = offline_payload(frame, view, made)
    scripts = [
        _code(vendor_dir("leaflet") / "leaflet.js"),
        _code(STATIC_DIR / "labels.js"),
        _code(STATIC_DIR / "offline.js"),
    ]
    styles = [
        _code(vendor_dir("leaflet") / "leaflet.css"),
        _code(STATIC_DIR / "labels.css"),
        PAGE_CSS.replace("OCEAN", OCEAN_COLOUR),
    ]
    policy = (
        "default-src 'none'; "
        f"script-src {' '.join(_sha256(s) for s in scripts)}; "
        f"style-src {' '.join(_sha256(s) for s in styles)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = f"{TITLE}: {payload['subtitle']}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        *(f"<style>{s}</style>" for s in styles),
        '</head><body><div id="map" class="mapapp-map" role="region" '
        f'aria-label="{escape(title)}"></div>',
        _json_block("mapapp-view", payload),
        _json_block("mapapp-outlines", outlines),
        _json_block("mapapp-labels", labels),
        *(f"<script>{s}</script>" for s in scripts),
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")
