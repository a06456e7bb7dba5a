"""Mention rows as files others open: GeoJSON, CSV (with lat, lon) or GeoPackage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas
import pandas
import pyogrio
import pyogrio.errors

from mapapp.errors import StoreError
from mapapp.files import atomic_path
from mapapp.text import spreadsheet_safe, strip_bidi, web_url

EXPORT_FORMATS = ("geojson", "csv", "gpkg")


#: RFC 7946 GeoJSON: no ``crs`` member (it is always WGS84 lon/lat), coordinates to 6 decimals
#: (about 10 cm, finer than any gazetteer point).
GEOJSON_OPTIONS = {"RFC7946": "YES", "COORDINATE_PRECISION": "6", "WRITE_NAME": "NO"}


def write_mentions(frame: geopandas.GeoDataFrame, path: Path, fmt: str) -> None:
    """Write ``frame`` to ``path`` in one of EXPORT_FORMATS, its untrusted text made safe.

    Every format drops bidi controls from text and keeps only http(s) URLs; CSV
    also neutralises cells a spreadsheet would run as formulas.  GeoJSON and
    GeoPackage keep such text as it is: nothing evaluates it there.
    """
    if fmt == "csv":
        frame = _text_mapped(frame, lambda text: spreadsheet_safe(strip_bidi(text)))
    else:
        frame = _text_mapped(frame, strip_bidi)
    if "url" in frame.columns:  # after the CSV quoting: a web link never starts a formula
        frame["url"] = frame["url"].map(web_url)
    if fmt == "csv":
        table = pandas.DataFrame(frame.drop(columns=frame.geometry.name))
        table["lat"] = frame.geometry.y
        table["lon"] = frame.geometry.x
        # RFC 4180 line ends: a cell holding a lone CR or LF is quoted, never split in two
        table.to_csv(path, index=False, lineterminator="\r\n")
    elif fmt == "geojson":
        pyogrio.write_dataframe(
            frame, path, driver="GeoJSON", geometry_type="Point", layer_options=GEOJSON_OPTIONS
        )
    else:
        pyogrio.write_dataframe(frame, path, layer="mentions", driver="GPKG", geometry_type="Point")


def _text_mapped(frame: pandas.DataFrame, clean: Callable[[str], str]) -> pandas.DataFrame:
    """A copy of ``frame`` with ``clean`` applied to every text cell (other cells untouched)."""
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if name != getattr(frame, "_geometry_column_name", None) and (
            column.dtype == object or pandas.api.types.is_string_dtype(column)
        ):
            frame[name] = column.map(lambda v: clean(v) if isinstance(v, str) else v)
    return frame


def export_format(fmt: str) -> str:
    """``fmt`` as one of EXPORT_FORMATS (any case).

    :raise StoreError: a format that is not one of them.
    """
    if fmt.lower() not in EXPORT_FORMATS:
        raise StoreError(
            f"unknown export format {fmt.lower()!r}: use one of {', '.join(EXPORT_FORMATS)}"
        )
    return fmt.lower()


def export_mentions(frame: geopandas.GeoDataFrame, out: str | Path, fmt: str) -> Path:
    """Write ``frame`` to ``out`` as ``fmt`` atomically (all of it, or ``out`` untouched).

    :raise StoreError: an unknown format, or the file could not be written.
    """
    fmt, out = export_format(fmt), Path(out)
    frame = frame.drop(columns=["candidates"], errors="ignore")  # the reviewer's, not a reader's
    try:
        with atomic_path(out, kind="export") as written:
            write_mentions(frame, written, fmt)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise StoreError(f"{out}: could not export the store ({err})") from err
    return out
