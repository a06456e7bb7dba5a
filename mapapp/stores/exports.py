"""Mention rows as files others open: GeoJSON, CSV (with lat, lon) or GeoPackage."""

from __future__ import annotations

from pathlib import Path

import geopandas
import pandas
import pyogrio
import pyogrio.errors

from mapapp.errors import StoreError
from mapapp.files import atomic_path

EXPORT_FORMATS = ("geojson", "csv", "gpkg")


def write_mentions(frame: geopandas.GeoDataFrame, path: Path, fmt: str) -> None:
    """Write ``frame`` to ``path`` in one of EXPORT_FORMATS."""
    if fmt == "csv":
        table = pandas.DataFrame(frame.drop(columns=frame.geometry.name))
        table["lat"] = frame.geometry.y
        table["lon"] = frame.geometry.x
        table.to_csv(path, index=False)
    elif fmt == "geojson":
        pyogrio.write_dataframe(frame, path, driver="GeoJSON", geometry_type="Point")
    else:
        pyogrio.write_dataframe(frame, path, layer="mentions", driver="GPKG",
                                geometry_type="Point")


def export_format(fmt: str) -> str:
    """``fmt`` as one of EXPORT_FORMATS (any case).

    :raise StoreError: a format that is not one of them.
    """
    if fmt.lower() not in EXPORT_FORMATS:
        raise StoreError(f"unknown export format {fmt.lower()!r}: "
                         f"use one of {', '.join(EXPORT_FORMATS)}")
    return fmt.lower()


def export_mentions(frame: geopandas.GeoDataFrame, out: str | Path, fmt: str) -> Path:
    """Write ``frame`` to ``out`` as ``fmt`` atomically (all of it, or ``out`` untouched).

    :raise StoreError: an unknown format, or the file could not be written.
    """
    fmt, out = export_format(fmt), Path(out)
    try:
        with atomic_path(out, kind="export") as written:
            write_mentions(frame, written, fmt)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise StoreError(f"{out}: could not export the store ({err})") from err
    return out
