"""Records to store rows and back: the frames every backend writes and reads.

Built where a batch is geoparsed (a worker process, a Dask worker), so
whoever writes them only writes; see ``Store.add_frames``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import geopandas
import pandas
from shapely.geometry import Point

from mapapp.records import Article, Resolution
from mapapp.stores.schema import ARTICLE_COLUMNS, CRS, MENTION_COLUMNS, typed

Batch = Sequence[tuple[Article, Sequence[Resolution]]]  # geoparsed articles, as stores take them


def to_point(lat: float, lon: float) -> Point:
    """Turn a (lat, lon) pair into a shapely Point (x=lon, y=lat): the one place order flips."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"({lat}, {lon}) is not a (lat, lon) pair in degrees")
    return Point(float(lon), float(lat))


def utc_now() -> str:
    """The ingestion timestamp: ISO 8601, UTC, whole seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def resolutions_frame(
    article: Article, resolutions: Sequence[Resolution]
) -> geopandas.GeoDataFrame:
    """One mention row per Resolution of ``article``; unresolved rows get no geometry."""
    return mentions_frame([(article, resolutions)])


def mentions_frame(batch: Batch) -> geopandas.GeoDataFrame:
    """The mention rows of many articles at once (one frame, not one per article)."""
    rows, points = [], []
    for article, resolutions in batch:
        published = article.published.isoformat() if article.published else None
        for res in resolutions:
            rows.append(_mention_row(article.article_id, published, res))
            points.append(to_point(res.place.latitude, res.place.longitude) if res.place else None)
    frame = pandas.DataFrame(rows, columns=list(MENTION_COLUMNS))
    text = [name for name, dtype in MENTION_COLUMNS.items() if dtype == "str"]
    frame[text] = frame[text].replace("", None)  # empty means absent, in every backend
    geometry = geopandas.GeoSeries(points, index=frame.index, crs=CRS)
    return geopandas.GeoDataFrame(typed(frame, MENTION_COLUMNS), geometry=geometry, crs=CRS)


def _mention_row(article_id: str, published: str | None, res: Resolution) -> dict[str, Any]:
    """The attribute values of one mention (everything but the point)."""
    top, place = res.toponym, res.place
    return {
        "article_id": article_id,
        "name": top.name,
        "start": top.start,
        "end": top.end,
        "role": top.role,
        "source": top.source,
        "sentence": top.sentence,
        "geonameid": place.geonameid if place else None,
        "resolved_name": place.name if place else None,
        "country_code": place.country_code if place else None,
        "admin1_name": place.admin1_name if place else None,
        "feature_class": place.feature_class if place else None,
        "feature_code": place.feature_code if place else None,
        "population": place.population if place else None,
        "score": float(res.score),
        "reason": res.reason,
        "provider": res.provider,
        "provider_id": getattr(place, "provider_id", None) if place else None,
        "published": published,
        "candidates": candidates_json(res),
    }


def candidates_json(res: Resolution) -> str | None:
    """The places the resolver weighed for a mention, as the JSON stored with it (None: none)."""
    if not res.candidates:
        return None
    return json.dumps(
        [
            {
                "geonameid": c.geonameid,
                "name": c.name,
                "admin1": c.admin1_name,
                "country_code": c.country_code,
                "feature_class": c.feature_class,
                "feature_code": c.feature_code,
                "population": c.population,
                "lat": round(c.latitude, 6),
                "lon": round(c.longitude, 6),
                "score": c.score,
            }
            for c in res.candidates
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def articles_frame(articles: Sequence[Article], ingested_at: str) -> pandas.DataFrame:
    """One row per article for the ``articles`` table."""
    rows = [
        {
            "article_id": a.article_id,
            "headline": a.headline,
            "deck": a.deck,
            "dateline": a.dateline,
            "published": a.published.isoformat() if a.published else None,
            "url": a.url,
            "source": a.source,
            "text": a.text,
            "ingested_at": ingested_at,
        }
        for a in articles
    ]
    return typed(pandas.DataFrame(rows, columns=list(ARTICLE_COLUMNS)), ARTICLE_COLUMNS)


def batch_frames(batch: Batch) -> tuple[pandas.DataFrame, geopandas.GeoDataFrame]:
    """The rows a geoparsed batch adds: its articles and their mentions."""
    return articles_frame([article for article, _ in batch], utc_now()), mentions_frame(batch)


def empty_mentions() -> geopandas.GeoDataFrame:
    """A mentions frame with no rows but the full schema and crs."""
    return mentions_frame([])


def in_bbox(
    frame: geopandas.GeoDataFrame, bbox: tuple[float, float, float, float] | None
) -> geopandas.GeoDataFrame:
    """The rows of ``frame`` whose point lies in (west, south, east, north), edges included."""
    if bbox is None:
        return frame
    west, south, east, north = (float(v) for v in bbox)
    x, y = frame.geometry.x, frame.geometry.y
    keep = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    return frame[keep.fillna(False).astype(bool)].reset_index(drop=True)


def article_records(frame: pandas.DataFrame) -> list[Article]:
    """The rows of an articles frame as `Article` records (for reprocessing)."""
    records = []
    for row in frame.itertuples(index=False):
        published = date.fromisoformat(row.published) if isinstance(row.published, str) else None
        records.append(
            Article(
                article_id=row.article_id,
                headline=_or_none(row.headline) or "",
                text=_or_none(row.text) or "",
                published=published,
                dateline=_or_none(row.dateline),
                deck=_or_none(row.deck),
                url=_or_none(row.url),
                source=_or_none(row.source) or "",
            )
        )
    return records


def _or_none(value: Any) -> Any:
    """pandas' missing values (NaN, None) as None."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
