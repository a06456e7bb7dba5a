"""A view of the map as a static picture for print: PNG (300 dpi) or SVG, A4 or letter landscape.

What ``/export.png`` and ``/export.svg`` send: the outline basemap (Natural
Earth), a marker for each place the view shows (sized by its stories, a ring
for areas, faded when the resolver was unsure), the busiest places named, a
legend, the title with the view's dates and filters, and the credits.  Drawn
with matplotlib and geopandas, without pyplot (no global state, safe in a
server thread).  Text is set as text, never parsed: matplotlib's mathtext
(``$...$``) is off for every string, and SVG text is written escaped.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas

from mapapp.maps.elements import (
    GEONAMES_ATTRIBUTION,
    LAND_STYLE,
    NATURAL_EARTH_ATTRIBUTION,
    OCEAN_COLOUR,
)
from mapapp.maps.export import export_name
from mapapp.maps.outlines import find_outlines, split_antimeridian
from mapapp.maps.points import LOW_SCORE, country_names, place_keys
from mapapp.maps.view import MapView, cell_text
from mapapp.records import MAP_ROLES

STATIC_FORMATS = ("png", "svg")
#: Landscape paper sizes in inches (width, height).
PAPERS = {"a4": (11.69, 8.27), "letter": (11.0, 8.5)}
PRINT_DPI = 300
NAMED_PLACES = 12  # the busiest places get their name on the map
POINT_COLOUR = "#c0392b"
AREA_COLOUR = "#6c3483"
TITLE = "Reported events"


def view_subtitle(view: MapView) -> str:
    """The view's dates and filters in words, e.g. '2024-03-01 to 2024-04-30 · Syria'."""
    if view.start or view.end:
        dates = f"{view.start or '…'} to {view.end or '…'}"
        if view.undated:
            dates += ", with undated stories"
    else:
        dates = "All dates" if view.undated else "All dated stories"
    parts = [dates]
    if view.country:
        parts.append(country_names().get(view.country, view.country))
    if view.q:
        parts.append(f"matching “{view.q}”")
    if tuple(view.roles) != MAP_ROLES:
        parts.append("roles: " + ", ".join(view.roles))
    if view.min_score:
        parts.append(f"score ≥ {view.min_score:g}")
    if not view.areas:
        parts.append("towns only")
    return " · ".join(parts)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def view_counts(places: int, stories: int, mentions: int) -> str:
    """'9 places in 6 stories (17 mentions)', as the map's side panel says it."""
    return (
        f"{_plural(places, 'place', 'places')} in {_plural(stories, 'story', 'stories')} "
        f"({_plural(mentions, 'mention', 'mentions')})"
    )


def view_places(frame: pandas.DataFrame) -> pandas.DataFrame:
    """One row per place of a filtered mentions frame: name, lat, lon, area, stories, best."""
    columns = ["key", "name", "lat", "lon", "area", "stories", "best"]
    if not len(frame):
        return pandas.DataFrame(columns=columns)
    rows = pandas.DataFrame(
        {
            "key": place_keys(frame),
            "name": [
                cell_text(r) or cell_text(n)
                for r, n in zip(frame["resolved_name"], frame["name"], strict=False)
            ],
            "lat": frame.geometry.y.to_numpy(),
            "lon": frame.geometry.x.to_numpy(),
            "area": (frame["kind"] == "area").to_numpy(),
            "story": frame["article_id"].astype(str).to_numpy(),
            "score": frame["score"].astype(float).fillna(0.0).to_numpy(),
        }
    )
    grouped = rows.groupby("key", sort=False)
    places = grouped.agg(
        name=("name", "first"),
        lat=("lat", "first"),
        lon=("lon", "first"),
        area=("area", "first"),
        stories=("story", "nunique"),
        best=("score", "max"),
    ).reset_index()
    return places.sort_values(["stories", "name"], ascending=[False, True])[columns]


@lru_cache(maxsize=2)
def _outlines(path: str) -> Any:
    """The world-atlas countries as a GeoSeries cut at the antimeridian (read once per file)."""
    import geopandas

    frame = geopandas.read_file(path, layer="countries")
    shapes = [split_antimeridian(g) for g in frame.geometry if g is not None and not g.is_empty]
    return geopandas.GeoSeries(shapes, crs="EPSG:4326")


def _extent(places: pandas.DataFrame, ratio: float) -> tuple[float, float, float, float]:
    """(west, east, south, north) around the places, padded, shaped like the map's frame."""
    if not len(places):
        return -180.0, 180.0, -60.0, 85.0
    west, east = float(places["lon"].min()), float(places["lon"].max())
    south, north = float(places["lat"].min()), float(places["lat"].max())
    pad_x, pad_y = max(4.0, (east - west) * 0.12), max(3.0, (north - south) * 0.12)
    west, east, south, north = west - pad_x, east + pad_x, south - pad_y, north + pad_y
    middle = math.radians(max(-70.0, min(70.0, (south + north) / 2)))
    width, height = (east - west) * math.cos(middle), north - south  # in degrees of latitude
    if width / height < ratio:  # widen to fill the frame
        grow = (height * ratio / math.cos(middle) - (east - west)) / 2
        west, east = west - grow, east + grow
    else:
        grow = (width / ratio - height) / 2
        south, north = south - grow, north + grow
    return max(west, -180.0), min(east, 180.0), max(south, -85.0), min(north, 85.0)


def _name_zoom(west: float, east: float) -> int:
    """The web map's zoom whose names suit a print map ``east - west`` degrees wide."""
    span = east - west
    return 2 if span > 150 else 3 if span > 25 else 5 if span > 10 else 6


@lru_cache(maxsize=2)
def _label_features(labels: bytes) -> tuple[dict[str, Any], ...]:
    """The features of the labels GeoJSON, parsed once per version of its bytes."""
    return tuple(json.loads(labels).get("features", []))


def _draw_names(ax: Any, labels: bytes, places: pandas.DataFrame) -> None:
    """The basemap's names (``maps.labels``) the web map shows at this extent, none overlapping.

    Greedy, most important first, as ``static/labels.js`` does; the boxes are
    estimated from the font size, and the spots of the places drawn are kept clear.
    """
    ax.apply_aspect()
    west, east = ax.get_xlim()
    south, north = ax.get_ylim()
    zoom = _name_zoom(west, east)
    scale = ax.figure.dpi / 72  # points to pixels
    to_pixels = ax.transData.transform
    taken = [
        (x - 8 * scale, y - 8 * scale, x + 8 * scale, y + 8 * scale)
        for x, y in to_pixels(places[["lon", "lat"]].to_numpy(dtype=float).reshape(-1, 2))
    ]
    for feature in _label_features(labels):
        props, (lon, lat) = feature["properties"], feature["geometry"]["coordinates"]
        if props["minzoom"] > zoom or not (west < lon < east and south < lat < north):
            continue
        country = props["kind"] == "country"
        size = 7.0 if country else 6.5
        width, height = (len(props["name"]) * size * 0.62 + 6) * scale, size * 1.4 * scale
        x, y = to_pixels((lon, lat))
        left = x - width / 2 if country else x - 2 * scale
        box = (left, y - height / 2, left + width, y + height / 2)
        if any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in taken):
            continue
        taken.append(box)
        ax.text(
            lon, lat, props["name"].upper() if country else "  " + props["name"],
            fontsize=size, color="#625b4d" if country else "#3d3a33",
            ha="center" if country else "left", va="center", zorder=2, parse_math=False,
            weight="bold" if props["kind"] == "capital" else "normal", clip_on=True,
        )  # fmt: skip
        if not country:
            ax.plot(lon, lat, marker="o", ms=1.8, color="#5b5649", zorder=2)


def _legend_handles(low: bool) -> list[Any]:
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [], [], ls="", marker="o", ms=7, mfc=POINT_COLOUR, mec="white", label="Town or city"
        ),
        Line2D(
            [], [], ls="", marker="o", ms=9, mfc="none", mec=AREA_COLOUR, mew=2,
            label="Country or region (an area, not a spot)",
        ),
    ]  # fmt: skip
    if low:
        handles.append(
            Line2D(
                [], [], ls="", marker="o", ms=7, mfc=POINT_COLOUR, mec="white", alpha=0.35,
                label=f"Low confidence (score below {LOW_SCORE:g})",
            )
        )  # fmt: skip
    handles.append(Line2D([], [], ls="", label="Size: number of stories"))
    return handles


def _draw_places(ax: Any, places: pandas.DataFrame) -> None:
    """Markers sized by stories (rings for areas, faded when unsure) and the busiest named."""
    if not len(places):
        return
    sizes = 30 + 45 * places["stories"].astype(float).map(math.sqrt)
    sure = places["best"] >= LOW_SCORE
    for area, colour in ((False, POINT_COLOUR), (True, AREA_COLOUR)):
        for confident in (True, False):
            chosen = (places["area"] == area) & (sure == confident)
            if not chosen.any():
                continue
            style = (
                {"facecolors": "none", "edgecolors": colour, "linewidths": 2.0}
                if area
                else {"c": colour, "edgecolors": "white", "linewidths": 0.8}
            )
            ax.scatter(
                places.loc[chosen, "lon"],
                places.loc[chosen, "lat"],
                s=sizes[chosen],
                alpha=1.0 if confident else 0.35,
                zorder=4 if area else 5,
                **style,
            )
    for place in places.head(NAMED_PLACES).itertuples():
        ax.annotate(
            place.name,
            (place.lon, place.lat),
            xytext=(6, 5),
            textcoords="offset points",
            fontsize=8,
            color="#222222",
            zorder=6,
            parse_math=False,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
        )


def render_static(
    frame: pandas.DataFrame,
    view: MapView,
    fmt: str,
    *,
    data_packages: str | Path,
    paper: str = "a4",
    labels: bytes | None = None,
    made: date | None = None,
) -> bytes:
    """The view (``frame``: its filtered mention rows) as a PNG or SVG print map's bytes.

    ``labels`` is the basemap's names as GeoJSON (``maps.labels``); without it, none.

    :raise ValueError: an unknown format or paper size.
    """
    if fmt not in STATIC_FORMATS:
        raise ValueError(f"no static map format {fmt!r}: use {', '.join(STATIC_FORMATS)}")
    if paper not in PAPERS:
        raise ValueError(f"no paper size {paper!r}: use {', '.join(PAPERS)}")
    import matplotlib
    from matplotlib.figure import Figure

    places = view_places(frame)
    width, height = PAPERS[paper]
    rc = {"svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "mapapp"}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width, height), dpi=PRINT_DPI)
        ax = fig.add_axes((0.03, 0.1, 0.94, 0.76))
        ax.set_facecolor(OCEAN_COLOUR)
        west, east, south, north = _extent(places, (0.94 * width) / (0.76 * height))
        outlines = find_outlines(data_packages)
        if outlines is not None:
            _outlines(str(outlines)).clip_by_rect(west - 2, south - 2, east + 2, north + 2).plot(
                ax=ax,
                color=LAND_STYLE["fillColor"],
                edgecolor=LAND_STYLE["color"],
                linewidth=0.4,
                zorder=1,
            )
        _draw_places(ax, places)
        ax.set_xlim(west, east)
        ax.set_ylim(south, north)
        ax.set_aspect(1 / math.cos(math.radians((south + north) / 2)), adjustable="box")
        if labels:
            _draw_names(ax, labels, places)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        if not len(places):
            ax.text(
                0.5, 0.5, "No stories match this view", ha="center", va="center", fontsize=16,
                color="#555555", transform=ax.transAxes, parse_math=False, zorder=7,
            )  # fmt: skip
        for spine in ax.spines.values():
            spine.set_edgecolor("#888888")
        text = {"parse_math": False, "transform": fig.transFigure}
        fig.text(0.03, 0.95, TITLE, fontsize=18, weight="bold", va="top", **text)
        stories = int(frame["article_id"].nunique()) if len(frame) else 0
        counts = view_counts(len(places), stories, len(frame))
        fig.text(0.03, 0.905, f"{view_subtitle(view)} — {counts}", fontsize=10, va="top", **text)
        legend = ax.legend(
            handles=_legend_handles(bool((places["best"] < LOW_SCORE).any())),
            loc="lower left",
            fontsize=8,
            title="Legend",
            title_fontsize=9,
            framealpha=0.9,
        )
        legend.set_zorder(10)
        credits = (
            f"{GEONAMES_ATTRIBUTION} · {NATURAL_EARTH_ATTRIBUTION} · "
            f"Made with mapapp on {(made or date.today()).isoformat()}"
        )
        fig.text(0.03, 0.05, credits, fontsize=8, color="#555555", va="top", **text)
        out = io.BytesIO()
        metadata = {"Title": f"{TITLE}: {view_subtitle(view)}"}
        if fmt == "svg":
            metadata["Date"] = None  # the same view gives the same file
        fig.savefig(out, format=fmt, dpi=PRINT_DPI, metadata=metadata)
    return out.getvalue()


def map_file_name(view: MapView, fmt: str, paper: str | None = None) -> str:
    """A map download's file name: the dates it covers, that it is a map, and its paper."""
    stem = export_name(view, fmt).rsplit(".", 1)[0]
    if fmt == "html":
        return f"{stem}-map-offline.html"
    return f"{stem}-map-{paper or 'a4'}.{fmt}"
