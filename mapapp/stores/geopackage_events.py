"""The GeoPackage store's ``events`` layer: a second point layer beside ``mentions``.

Staged with every batch like the mentions and copied in by the same SQLite
transaction, so a story's events land with its mentions or not at all.  A
store made before events had no such layer: the first batch that brings
events creates it inside that same transaction, from the staged layer's own
definition (table, triggers and GeoPackage metadata rows), so an old store is
upgraded without a rewrite and nothing it holds is touched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas
import pyogrio

from mapapp.stores.event_frames import empty_events
from mapapp.stores.schema import EVENT_COLUMNS, GEOM

LAYER = "events"
INDEXES = (
    'CREATE INDEX IF NOT EXISTS "events_article_id" ON "events" ("article_id")',
    'CREATE INDEX IF NOT EXISTS "events_date" ON "events" ("date")',
)
_METADATA = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents")


def empty() -> geopandas.GeoDataFrame:
    """No events, every column (the layer a new store is made with)."""
    return empty_events()


def write_layer(path: Path, events: geopandas.GeoDataFrame) -> None:
    """Add the events layer to the (new, scratch) GeoPackage at ``path``."""
    pyogrio.write_dataframe(
        events,
        path,
        layer=LAYER,
        driver="GPKG",
        geometry_type="Point",
        layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": GEOM},
    )


def has_layer(conn: sqlite3.Connection, schema: str = "main") -> bool:
    """Does the database ``schema`` hold an events table?"""
    row = conn.execute(
        f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?", (LAYER,)
    ).fetchone()
    return row is not None


def _create_from_staged(conn: sqlite3.Connection) -> None:
    """Create the events layer in ``main`` as the attached ``batch`` defines it (in the
    caller's transaction)."""
    for (sql,) in conn.execute(
        "SELECT sql FROM batch.sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type = 'trigger'",
        (LAYER,),
    ).fetchall():
        conn.execute(sql)
    for table in _METADATA:
        conn.execute(
            f"INSERT OR REPLACE INTO main.{table} SELECT * FROM batch.{table} WHERE table_name = ?",
            (LAYER,),
        )
    conn.execute(
        f"UPDATE main.gpkg_ogr_contents SET feature_count = 0 WHERE table_name = '{LAYER}'"
    )
    for statement in INDEXES:
        conn.execute(statement)


def copy_staged(conn: sqlite3.Connection, where: str, *, replace: bool) -> int:
    """Copy the staged events rows matching ``where`` (an SQL WHERE on ``article_id``) into
    the store, in the caller's transaction; with ``replace`` the staged articles' stored
    events go first.  Returns the rows copied."""
    if not has_layer(conn, "batch"):
        return 0
    if not has_layer(conn):
        _create_from_staged(conn)
    if replace:
        conn.execute(
            'DELETE FROM main."events" WHERE "article_id" IN '
            '(SELECT "article_id" FROM batch."articles")'
        )
    columns = _quoted([*EVENT_COLUMNS, GEOM])
    copied = conn.execute(
        f'INSERT INTO main."events" ({columns}) SELECT {columns} FROM batch."events" '
        f'{where} ORDER BY "fid"'
    ).rowcount
    conn.execute(
        "UPDATE main.gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        f" WHERE table_name = '{LAYER}'"
    )
    return copied


def select_sql(
    start: date | None,
    end: date | None,
    *,
    include_undated: bool,
    by: str,
    article_id: str | None,
    located_only: bool,
) -> tuple[str, list[Any]]:
    """The SELECT of ``events()`` on a GeoPackage (rows joined with their story's headline/url)."""
    column = 'e."published"' if by == "published" else 'e."date"'
    clause, params = _date_filter(column, start, end, include_undated)
    if article_id is not None:
        clause += ' AND e."article_id" = ?'
        params.append(article_id)
    if located_only:
        clause += f' AND e."{GEOM}" IS NOT NULL'
    sql = (
        f'SELECT {_quoted(EVENT_COLUMNS, "e.")}, a."headline", a."url", e."{GEOM}" '
        f'FROM "events" e LEFT JOIN "articles" a ON a."article_id" = e."article_id" '
        f'WHERE {clause} ORDER BY e."date" IS NULL, e."date", e."article_id", '
        f'e."trigger_start", e."fid"'
    )
    return sql, params


def _date_filter(
    column: str, start: date | None, end: date | None, include_undated: bool
) -> tuple[str, list[Any]]:
    if start is None and end is None:
        return "1", []
    conditions, params = [], []
    for bound, op in ((start, ">="), (end, "<=")):
        if bound is not None:
            day = bound.date() if isinstance(bound, datetime) else bound
            conditions.append(f"{column} {op} ?")
            params.append(day.isoformat())
    clause = " AND ".join(conditions)
    if include_undated:
        clause = f"(({clause}) OR {column} IS NULL)"
    return clause, params


def _quoted(names: Iterable[str], prefix: str = "") -> str:
    return ", ".join(f'{prefix}"{name}"' for name in names)
