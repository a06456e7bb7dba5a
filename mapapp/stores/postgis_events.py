"""The PostGIS store's ``events`` table (migration ``0003_events``): writing and reading.

Rows go in with the batch's mentions, in the same transaction, and come out
like the mentions (dates as ISO text, the point as a geometry column).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import geopandas
import pandas

from mapapp.stores.schema import CRS, EVENT_COLUMNS, EVENT_DATES, GEOM, JOINED_COLUMNS, typed

_DATE = "to_char({}, 'YYYY-MM-DD')"


def delete_events(conn: Any, ids: list[str]) -> None:
    """Delete the stored events of the articles ``ids`` (reprocessing)."""
    from sqlalchemy import bindparam, text

    if ids:
        conn.execute(
            text("DELETE FROM events WHERE article_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )


def write_events(conn: Any, rows: geopandas.GeoDataFrame | None) -> None:
    """Append event rows in their order (all-placeless batches go in without points)."""
    if rows is None or rows.empty:
        return
    frame = rows[[*EVENT_COLUMNS, rows.geometry.name]].rename_geometry(GEOM)
    for column in EVENT_DATES:
        frame[column] = [
            date.fromisoformat(v) if isinstance(v, str) else None for v in frame[column]
        ]
    if frame[GEOM].notna().any():
        frame.to_postgis("events", conn, if_exists="append", index=False)
    else:
        plain = pandas.DataFrame(frame.drop(columns=GEOM))
        plain.to_sql("events", conn, if_exists="append", index=False, method="multi")


def select_sql(
    start: date | None,
    end: date | None,
    *,
    include_undated: bool,
    by: str,
    article_id: str | None,
    located_only: bool,
    bbox: tuple[float, float, float, float] | None,
) -> tuple[str, dict[str, Any]]:
    """The SELECT of ``events()`` on PostGIS, and its parameters."""
    column = "e.published" if by == "published" else "e.date"
    clause, params = _date_filter(column, start, end, include_undated)
    if article_id is not None:
        clause += " AND e.article_id = :article_id"
        params["article_id"] = article_id.replace("\x00", "\ufffd")
    if located_only:
        clause += f" AND e.{GEOM} IS NOT NULL"
    if bbox is not None:
        clause += f" AND e.{GEOM} && ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
        params.update(zip(("west", "south", "east", "north"), map(float, bbox), strict=False))
    columns = ", ".join(
        _DATE.format(f"e.{name}") + f' AS "{name}"' if name in EVENT_DATES else f'e."{name}"'
        for name in EVENT_COLUMNS
    )
    sql = (
        f'SELECT {columns}, a."headline", a."url", e.{GEOM} FROM events e '
        f"LEFT JOIN articles a ON a.article_id = e.article_id WHERE {clause} "
        f'ORDER BY e.date IS NULL, e.date, e.article_id COLLATE "C", e.trigger_start, e.row_id'
    )
    return sql, params


def read_events(conn: Any, sql: str, params: dict[str, Any]) -> geopandas.GeoDataFrame:
    """Run the events SELECT; the rows typed like every store's."""
    from sqlalchemy import text

    frame = geopandas.read_postgis(text(sql), conn, geom_col=GEOM, crs=CRS, params=params)
    frame = frame.rename_geometry("geometry")
    plain = pandas.DataFrame(frame.drop(columns="geometry"))
    plain["date_assumed"] = plain["date_assumed"].fillna(False).astype(bool)
    rows = typed(plain, {**EVENT_COLUMNS, **JOINED_COLUMNS})
    return geopandas.GeoDataFrame(rows, geometry=frame.geometry, crs=CRS)


def _date_filter(
    column: str, start: date | None, end: date | None, include_undated: bool
) -> tuple[str, dict[str, Any]]:
    if start is None and end is None:
        return "TRUE", {}
    conditions, params = [], {}
    for name, bound, op in (("start", start, ">="), ("end", end, "<=")):
        if bound is not None:
            conditions.append(f"{column} {op} :{name}")
            params[name] = bound.date() if isinstance(bound, datetime) else bound
    clause = " AND ".join(conditions)
    if include_undated:
        clause = f"(({clause}) OR {column} IS NULL)"
    return clause, params
