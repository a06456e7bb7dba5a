"""What every store holds: the columns of articles and mentions, their dtypes and crs.

Each backend reads back exactly these columns with these dtypes, so nothing
above the store can tell the backends apart.
"""

from __future__ import annotations

import geopandas
import pandas

CRS = "EPSG:4326"
GEOM = "geom"  # the geometry column's name inside the GeoPackage and the database

MENTION_COLUMNS: dict[str, str] = {
    "article_id": "str",
    "name": "str",
    "start": "int64",
    "end": "int64",
    "role": "str",
    "source": "str",
    "sentence": "str",
    "geonameid": "Int64",
    "resolved_name": "str",
    "country_code": "str",
    "admin1_name": "str",
    "feature_class": "str",
    "feature_code": "str",
    "population": "Int64",
    "score": "float64",
    "reason": "str",
    "provider": "str",
    "provider_id": "str",
    "published": "str",
    "candidates": "str",  # JSON: the places the resolver weighed (`mapapp.stores.corrections`)
}
ADDED_MENTION_COLUMNS = ("candidates",)  # added after the first schema: stores may lack them
ARTICLE_COLUMNS: dict[str, str] = {
    name: "str"
    for name in (
        "article_id",
        "headline",
        "deck",
        "dateline",
        "published",
        "url",
        "source",
        "text",
        "ingested_at",
    )
}
JOINED_COLUMNS: dict[str, str] = {"headline": "str", "url": "str"}  # mentions read with these
# what ``mentions()`` adds to every row: the stable id, and the editors' corrections applied
CORRECTED_COLUMNS: dict[str, str] = {
    "mention_id": "str",
    "corrected": "str",  # the action of the correction applied ('place', 'not_a_place', ...)
    "reviewed": "bool",  # a human decided this mention (corrected or accepted as is)
    "correction_id": "Int64",
    "geoparser_geonameid": "Int64",  # what the geoparser said, before any correction
}
# the corrections table (both backends): one row per editor's decision, never deleted
CORRECTION_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "mention_id": "str",
    "article_id": "str",
    "start": "Int64",
    "end": "Int64",
    "name": "str",
    "name_key": "str",
    "action": "str",
    "scope": "str",
    "geonameid": "Int64",
    "place_name": "str",
    "lat": "float64",
    "lon": "float64",
    "country_code": "str",
    "admin1_name": "str",
    "feature_class": "str",
    "feature_code": "str",
    "population": "Int64",
    "editor": "str",
    "created": "str",
    "old": "str",  # JSON: the resolution it replaced (geonameid, name, lat, lon, score)
    "undone": "bool",
    "undone_at": "str",
}


def typed(frame: pandas.DataFrame, columns: dict[str, str]) -> pandas.DataFrame:
    """Give every known column its declared dtype, so all readers see one schema."""
    return frame.astype({name: dtype for name, dtype in columns.items() if name in frame})


def empty_articles() -> pandas.DataFrame:
    """An articles frame with no rows but every column, typed."""
    return typed(pandas.DataFrame(columns=list(ARTICLE_COLUMNS)), ARTICLE_COLUMNS)


def empty_view() -> geopandas.GeoDataFrame:
    """What ``mentions()`` reads from a store with nothing in it: no rows, every column."""
    columns = {**MENTION_COLUMNS, **JOINED_COLUMNS}
    frame = typed(pandas.DataFrame(columns=list(columns)), columns)
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries([], crs=CRS), crs=CRS)
