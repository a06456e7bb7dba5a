"""The GeoPackage store: articles and their resolved mentions in one file.

The file holds a point layer ``mentions`` (EPSG:4326, one row per Resolution,
NULL geometry when unresolved) and an attribute table ``articles``.  The
layers are created once with pyogrio; after that every batch is staged in a
scratch GeoPackage beside the store (so GDAL encodes the geometry blobs) and
copied in with ``INSERT ... SELECT`` inside one SQLite transaction.  A batch
therefore lands whole or not at all, existing rows are never rewritten, and
readers (who query with SQLite too) never see half of one.

This module knows only records; it must not import geocoding or toponyms.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas
import pandas
import pyogrio
import pyogrio.errors
import shapely

from mapapp.errors import StoreError
from mapapp.files import atomic_path, leftovers, scratch_folder
from mapapp.stores.base import Appending, FileLocated, sql_stats
from mapapp.stores.frames import articles_frame, empty_mentions, in_bbox
from mapapp.stores.geopackage_editors import GeoPackageEditors
from mapapp.stores.schema import ARTICLE_COLUMNS, CRS, GEOM, JOINED_COLUMNS, MENTION_COLUMNS, typed

BUSY_TIMEOUT = 30.0  # seconds a reader or writer waits for another writer
NEW, BATCH = "new", "batch"  # the scratch this store leaves beside its file (see scratch_paths)

_INDEXES = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "articles_article_id" ON "articles" ("article_id")',
    'CREATE INDEX IF NOT EXISTS "articles_published" ON "articles" ("published")',
    'CREATE INDEX IF NOT EXISTS "mentions_article_id" ON "mentions" ("article_id")',
    'CREATE INDEX IF NOT EXISTS "mentions_published" ON "mentions" ("published")',
)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}  # GeoPackage blob header


def _write_layers(path: Path, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame) -> None:
    """Write both layers to a new GeoPackage with the store's layout."""
    pyogrio.write_dataframe(
        mentions,
        path,
        layer="mentions",
        driver="GPKG",
        geometry_type="Point",
        layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": GEOM},
    )
    pyogrio.write_dataframe(articles, path, layer="articles", driver="GPKG")


def _from_gpkg_blobs(blobs: Iterable[bytes | None]) -> list[Any]:
    """Decode GeoPackage geometry blobs (header + WKB) into shapely geometries."""
    wkb = []
    for blob in blobs:
        if blob is None:
            wkb.append(None)
            continue
        envelope = _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]
        wkb.append(bytes(blob[8 + envelope :]))
    return list(shapely.from_wkb(wkb)) if wkb else []


def _date_filter(
    column: str, start: date | None, end: date | None, include_undated: bool
) -> tuple[str, list[str]]:
    """An SQL condition keeping rows whose ISO date ``column`` lies in [start, end]."""
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
    """A comma-separated list of quoted column names."""
    return ", ".join(f'{prefix}"{name}"' for name in names)


def _touch_contents(conn: sqlite3.Connection, added: geopandas.GeoDataFrame) -> None:
    """Widen the mentions extent in gpkg_contents and stamp both layers' last_change."""
    located = added.geometry.dropna()
    if not located.empty:
        x0, y0, x1, y1 = (float(v) for v in located.total_bounds)
        conn.execute(
            "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?1), ?1),"
            " min_y = min(coalesce(min_y, ?2), ?2), max_x = max(coalesce(max_x, ?3), ?3),"
            " max_y = max(coalesce(max_y, ?4), ?4) WHERE table_name = 'mentions'",
            (x0, y0, x1, y1),
        )
    conn.execute(
        "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        " WHERE table_name IN ('mentions', 'articles')"
    )


class GeoPackageStore(GeoPackageEditors, Appending, FileLocated):
    """Articles and mentions kept in one GeoPackage file; appended to, never rewritten."""

    kind = "GeoPackage"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    # -- opening ---------------------------------------------------------

    def _fail(self, err: BaseException, doing: str) -> StoreError:
        """A StoreError naming the file, for ``raise ... from err``."""
        return StoreError(f"{self.path}: could not {doing} the store ({err})")

    def _check(self, conn: sqlite3.Connection) -> None:
        """Refuse a file that is not a GeoPackage holding our two layers."""
        try:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            wanted = (("mentions", [*MENTION_COLUMNS, GEOM]), ("articles", list(ARTICLE_COLUMNS)))
            for table, columns in wanted:
                have = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
                if "gpkg_contents" not in tables or set(columns) - have:
                    raise StoreError(
                        f"{self.path} is not a mapapp store (layer {table!r} is missing or "
                        f"lacks columns); point the store setting at another file"
                    )
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path} is not a mapapp store: {err}") from err

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A checked connection holding one read snapshot, or None if there is no file yet."""
        if not self.path.exists():
            yield None
            return
        mode = "rw" if os.access(self.path, os.W_OK) else "ro"
        try:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={mode}",
                uri=True,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,
            )
        except sqlite3.Error as err:
            raise self._fail(err, "open") from err
        try:
            conn.execute("PRAGMA query_only = 1")
            conn.execute("BEGIN")
            self._check(conn)
            yield conn
        except (sqlite3.Error, pandas.errors.DatabaseError) as err:
            raise self._fail(err, "read") from err
        finally:
            conn.close()

    def check(self) -> None:
        """Refuse a file that is not a GeoPackage holding our two layers (none yet is fine)."""
        with self._reading():
            pass

    def scratch_paths(self) -> list[Path]:
        """Half-made stores and staged batches of writers that died, beside the file."""
        return leftovers(self.path, NEW) + leftovers(self.path, BATCH)

    def _query(self, sql: str, params: Sequence[Any], columns: dict[str, str]) -> pandas.DataFrame:
        """Run one SELECT; an absent store gives an empty frame with ``columns``."""
        with self._reading() as conn:
            if conn is None:
                return typed(pandas.DataFrame(columns=list(columns)), columns)
            return typed(pandas.read_sql_query(sql, conn, params=list(params)), columns)

    # -- writing ---------------------------------------------------------

    def _create(self) -> None:
        """Create an empty store atomically: built aside, then linked into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(self.path, kind=NEW, exclusive=True) as fresh:
                _write_layers(fresh, articles_frame([], ""), empty_mentions())
                conn = sqlite3.connect(fresh)
                with conn:
                    for statement in _INDEXES:
                        conn.execute(statement)
                conn.close()
        except FileExistsError:
            pass  # another writer created it first
        except (
            OSError,
            sqlite3.Error,
            pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError,
        ) as err:
            raise self._fail(err, "create") from err

    def _append(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame, replace: bool = False
    ) -> tuple[int, int, int]:
        """Stage the rows in a scratch GeoPackage, then copy the new ones in one transaction;
        returns (articles, mentions, resolved mentions) stored."""
        if not replace and not self.path.exists():
            self._create()
        if articles.empty:
            with self._reading():  # still refuse a file that is not a store
                return 0, 0, 0
        with ExitStack() as cleanup:
            try:  # a read-only or full folder fails here, before the store is touched
                scratch = cleanup.enter_context(scratch_folder(self.path, BATCH))
            except OSError as err:
                raise self._fail(err, "stage a batch for") from err
            staged = scratch / "batch.gpkg"
            try:
                _write_layers(staged, articles, mentions)
            except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
                raise self._fail(err, "stage a batch for") from err
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            try:
                self._check(conn)
                conn.execute("ATTACH DATABASE ? AS batch", (str(staged),))
                return self._copy_new(conn, mentions, replace=replace)
            except sqlite3.Error as err:
                raise self._fail(err, "append to") from err
            finally:
                conn.close()

    def _copy_new(
        self, conn: sqlite3.Connection, mentions: geopandas.GeoDataFrame, replace: bool = False
    ) -> tuple[int, int, int]:
        """INSERT ... SELECT the staged rows of unseen articles; all or nothing.

        With ``replace``, the staged articles' stored mentions are deleted
        first and all staged mentions go in (the articles themselves stay).
        """
        unseen = 'WHERE "article_id" NOT IN (SELECT "article_id" FROM main."articles")'
        m_cols = _quoted([*MENTION_COLUMNS, GEOM])
        a_cols = _quoted(ARTICLE_COLUMNS)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if replace:
                conn.execute(
                    'DELETE FROM main."mentions" WHERE "article_id" IN '
                    '(SELECT "article_id" FROM batch."articles")'
                )
                unseen_mentions = 'WHERE "article_id" IN (SELECT "article_id" FROM main."articles")'
            else:
                unseen_mentions = unseen
            known = {
                row[0]
                for row in conn.execute(
                    'SELECT "article_id" FROM main."articles" '
                    'WHERE "article_id" IN (SELECT "article_id" FROM batch."articles")'
                )
            }
            n_mentions = conn.execute(
                f'INSERT INTO main."mentions" ({m_cols}) SELECT {m_cols} FROM batch."mentions" '
                f'{unseen_mentions} ORDER BY "fid"'
            ).rowcount
            added = conn.execute(
                f'INSERT INTO main."articles" ({a_cols}) SELECT {a_cols} FROM batch."articles" '
                f'{unseen} ORDER BY "fid"'
            ).rowcount
            stored = mentions if replace else mentions[~mentions["article_id"].isin(known)]
            _touch_contents(conn, stored)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return added, n_mentions, int(stored.geometry.notna().sum())

    # -- reading ---------------------------------------------------------

    def mentions(
        self,
        start: date | None = None,
        end: date | None = None,
        *,
        include_undated: bool = False,
        article_id: str | None = None,
        resolved_only: bool = True,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> geopandas.GeoDataFrame:
        """Mentions published in [start, end] (all when unbounded), with headline and url.

        ``bbox`` (west, south, east, north in degrees) keeps the points inside it.
        """
        clause, params = _date_filter('m."published"', start, end, include_undated)
        if article_id is not None:
            clause += ' AND m."article_id" = ?'
            params.append(article_id)
        if resolved_only:
            clause += f' AND m."{GEOM}" IS NOT NULL'
        sql = (
            f'SELECT {_quoted(MENTION_COLUMNS, "m.")}, a."headline", a."url", m."{GEOM}" '
            f'FROM "mentions" m LEFT JOIN "articles" a ON a."article_id" = m."article_id" '
            f'WHERE {clause} ORDER BY m."published" IS NULL, m."published", '
            f'm."article_id", m."start", m."fid"'
        )
        columns = {**MENTION_COLUMNS, **JOINED_COLUMNS, GEOM: "object"}
        frame = self._query(sql, params, columns)
        geometry = geopandas.GeoSeries(
            _from_gpkg_blobs(frame.pop(GEOM)), index=frame.index, crs=CRS
        )
        return in_bbox(geopandas.GeoDataFrame(frame, geometry=geometry, crs=CRS), bbox)

    def articles(
        self, start: date | None = None, end: date | None = None, *, include_undated: bool = False
    ) -> pandas.DataFrame:
        """Articles published in [start, end] (all when unbounded), by date then headline."""
        clause, params = _date_filter('"published"', start, end, include_undated)
        sql = (
            f'SELECT {_quoted(ARTICLE_COLUMNS)} FROM "articles" WHERE {clause} '
            f'ORDER BY "published" IS NULL, "published", "headline", "article_id"'
        )
        return self._query(sql, params, ARTICLE_COLUMNS)

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One stored article as a dict of its columns, or None if it is not stored."""
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(
                f'SELECT {_quoted(ARTICLE_COLUMNS)} FROM "articles" WHERE "article_id" = ?',
                (article_id,),
            ).fetchone()
        return dict(zip(ARTICLE_COLUMNS, row, strict=False)) if row else None

    def known_ids(self) -> set[str]:
        """The ids of every stored article (to skip re-ingesting them)."""
        with self._reading() as conn:
            if conn is None:
                return set()
            return {row[0] for row in conn.execute('SELECT "article_id" FROM "articles"')}

    def stats(self) -> dict[str, Any]:
        """Counts, date range and the ten most mentioned places, from one snapshot."""
        with self._reading() as conn:
            if conn is None:
                return sql_stats(None)
            return sql_stats(lambda sql: conn.execute(sql).fetchall())
