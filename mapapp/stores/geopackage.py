"""The persisted store: articles and their resolved mentions in one GeoPackage.

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

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import geopandas
import pandas
import pyogrio
import pyogrio.errors
import shapely
from shapely.geometry import Point

from mapapp.settings import is_postgis_url
from mapapp.errors import StoreError
from mapapp.records import Article, Resolution

CRS = "EPSG:4326"
GEOM = "geom"  # the geometry column's name inside the GeoPackage
BUSY_TIMEOUT = 30.0  # seconds a reader or writer waits for another writer
EXPORT_FORMATS = ("geojson", "csv", "gpkg")

MENTION_COLUMNS: dict[str, str] = {
    "article_id": "str", "name": "str", "start": "int64", "end": "int64",
    "role": "str", "source": "str", "sentence": "str", "geonameid": "Int64",
    "resolved_name": "str", "country_code": "str", "admin1_name": "str",
    "feature_class": "str", "feature_code": "str", "population": "Int64",
    "score": "float64", "reason": "str", "provider": "str", "provider_id": "str",
    "published": "str",
}
ARTICLE_COLUMNS: dict[str, str] = {
    name: "str" for name in ("article_id", "headline", "deck", "dateline", "published",
                             "url", "source", "text", "ingested_at")
}
JOINED_COLUMNS: dict[str, str] = {"headline": "str", "url": "str"}

_INDEXES = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "articles_article_id" ON "articles" ("article_id")',
    'CREATE INDEX IF NOT EXISTS "articles_published" ON "articles" ("published")',
    'CREATE INDEX IF NOT EXISTS "mentions_article_id" ON "mentions" ("article_id")',
    'CREATE INDEX IF NOT EXISTS "mentions_published" ON "mentions" ("published")',
)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}  # GeoPackage blob header


@dataclass(frozen=True)
class AddResult:
    """What one ``Store.add`` call did: articles added, those already stored, and the
    mentions stored with the added ones (``resolved`` of them with a point)."""

    added: int
    skipped: int
    mentions: int = 0
    resolved: int = 0


def to_point(lat: float, lon: float) -> Point:
    """Turn a (lat, lon) pair into a shapely Point (x=lon, y=lat): the one place order flips."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"({lat}, {lon}) is not a (lat, lon) pair in degrees")
    return Point(float(lon), float(lat))


def _typed(frame: pandas.DataFrame, columns: dict[str, str]) -> pandas.DataFrame:
    """Give every known column its declared dtype, so all readers see one schema."""
    return frame.astype({name: dtype for name, dtype in columns.items() if name in frame})


def resolutions_frame(article: Article,
                      resolutions: Sequence[Resolution]) -> geopandas.GeoDataFrame:
    """One mention row per Resolution of ``article``; unresolved rows get no geometry."""
    return _mentions_frame([(article, resolutions)])


def _mentions_frame(batch: Sequence[tuple[Article, Sequence[Resolution]]]
                    ) -> geopandas.GeoDataFrame:
    """The mention rows of many articles at once (one frame, not one per article)."""
    rows, points = [], []
    for article, resolutions in batch:
        published = article.published.isoformat() if article.published else None
        for res in resolutions:
            rows.append(_mention_row(article.article_id, published, res))
            points.append(to_point(res.place.latitude, res.place.longitude)
                          if res.place else None)
    frame = pandas.DataFrame(rows, columns=list(MENTION_COLUMNS))
    text = [name for name, dtype in MENTION_COLUMNS.items() if dtype == "str"]
    frame[text] = frame[text].replace("", None)  # empty means absent, in every backend
    geometry = geopandas.GeoSeries(points, index=frame.index, crs=CRS)
    return geopandas.GeoDataFrame(_typed(frame, MENTION_COLUMNS), geometry=geometry, crs=CRS)


def _mention_row(article_id: str, published: str | None, res: Resolution) -> dict[str, Any]:
    """The attribute values of one mention (everything but the point)."""
    top, place = res.toponym, res.place
    return {
        "article_id": article_id, "name": top.name, "start": top.start, "end": top.end,
        "role": top.role, "source": top.source, "sentence": top.sentence,
        "geonameid": place.geonameid if place else None,
        "resolved_name": place.name if place else None,
        "country_code": place.country_code if place else None,
        "admin1_name": place.admin1_name if place else None,
        "feature_class": place.feature_class if place else None,
        "feature_code": place.feature_code if place else None,
        "population": place.population if place else None,
        "score": float(res.score), "reason": res.reason, "provider": res.provider,
        "provider_id": getattr(place, "provider_id", None) if place else None,
        "published": published,
    }


def _articles_frame(articles: Sequence[Article], ingested_at: str) -> pandas.DataFrame:
    """One row per article for the ``articles`` table."""
    rows = [{
        "article_id": a.article_id, "headline": a.headline, "deck": a.deck,
        "dateline": a.dateline, "published": a.published.isoformat() if a.published else None,
        "url": a.url, "source": a.source, "text": a.text, "ingested_at": ingested_at,
    } for a in articles]
    return _typed(pandas.DataFrame(rows, columns=list(ARTICLE_COLUMNS)), ARTICLE_COLUMNS)


def batch_frames(batch: Sequence[tuple[Article, Sequence[Resolution]]]
                 ) -> tuple[pandas.DataFrame, geopandas.GeoDataFrame]:
    """The rows a geoparsed batch adds: its articles and their mentions.

    Built where the batch was geoparsed (a worker process, a Dask worker), so
    whoever writes them only writes; see `Store.add_frames`.
    """
    return _articles_frame([article for article, _ in batch], _utc_now()), _mentions_frame(batch)


def is_parquet_store(path: str | Path) -> bool:
    """Does ``path`` name a GeoParquet store (a folder ending in .parquet, or with a manifest)?"""
    if is_postgis_url(path):
        return False
    path = Path(path)
    return path.suffix.lower() == ".parquet" or (path / "manifest.json").is_file()


def _utc_now() -> str:
    """The ingestion timestamp: ISO 8601, UTC, whole seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_layers(path: Path, articles: pandas.DataFrame,
                  mentions: geopandas.GeoDataFrame) -> None:
    """Write both layers to a new GeoPackage with the store's layout."""
    pyogrio.write_dataframe(
        mentions, path, layer="mentions", driver="GPKG", geometry_type="Point",
        layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": GEOM})
    pyogrio.write_dataframe(articles, path, layer="articles", driver="GPKG")


def _empty_mentions() -> geopandas.GeoDataFrame:
    """A mentions frame with no rows but the full schema and crs."""
    return resolutions_frame(Article(article_id="", headline="", text=""), [])


def _from_gpkg_blobs(blobs: Iterable[bytes | None]) -> list[Any]:
    """Decode GeoPackage geometry blobs (header + WKB) into shapely geometries."""
    wkb = []
    for blob in blobs:
        if blob is None:
            wkb.append(None)
            continue
        envelope = _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]
        wkb.append(bytes(blob[8 + envelope:]))
    return list(shapely.from_wkb(wkb)) if wkb else []


def _date_filter(column: str, start: date | None, end: date | None,
                 include_undated: bool) -> tuple[str, list[str]]:
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
            (x0, y0, x1, y1))
    conn.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
                 " WHERE table_name IN ('mentions', 'articles')")


def file_version(path: Path) -> str:
    """A token that changes whenever the file (or folder) at ``path`` does; 'empty' without one."""
    try:
        st = path.stat()
    except OSError:
        return "empty"
    digest = hashlib.sha256(f"{path.resolve()}|{st.st_mtime_ns}|{st.st_size}|{st.st_ino}"
                            .encode()).hexdigest()
    return digest[:16]


def in_bbox(frame: geopandas.GeoDataFrame,
            bbox: tuple[float, float, float, float] | None) -> geopandas.GeoDataFrame:
    """The rows of ``frame`` whose point lies in (west, south, east, north), edges included."""
    if bbox is None:
        return frame
    west, south, east, north = (float(v) for v in bbox)
    x, y = frame.geometry.x, frame.geometry.y
    keep = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    return frame[keep.fillna(False).astype(bool)].reset_index(drop=True)


def sql_stats(fetch: Callable[[str], list[tuple]] | None, *,
              day: Callable[[str], str] = lambda expr: expr,
              text: Callable[[str], str] = lambda column: column) -> dict[str, Any]:
    """`Store.stats` from SQL, for any backend: ``fetch(sql)`` runs a query (None: no store
    yet), ``day`` turns a date expression into ISO text, ``text`` orders a text column
    byte by byte with NULL first (SQLite's order)."""
    result: dict[str, Any] = {"articles": 0, "mentions": 0, "resolved": 0, "unresolved": 0,
                              "undated_articles": 0, "first_date": None, "last_date": None,
                              "top_places": []}
    if fetch is None:
        return result
    first, last = day('min("published")'), day('max("published")')
    (result["articles"], result["undated_articles"], result["first_date"],
     result["last_date"]) = fetch(
        f'SELECT count(*), count(*) - count("published"), {first}, {last} FROM "articles"')[0]
    result["mentions"], result["resolved"] = fetch(
        f'SELECT count(*), count("{GEOM}") FROM "mentions"')[0]
    by_name, by_country = text('"resolved_name"'), text('"country_code"')
    result["top_places"] = [list(row) for row in fetch(
        f'SELECT "resolved_name", "country_code", count(*) AS n FROM "mentions" '
        f'WHERE "{GEOM}" IS NOT NULL GROUP BY "resolved_name", "country_code" '
        f'ORDER BY n DESC, {by_name}, {by_country} LIMIT 10')]
    result["unresolved"] = result["mentions"] - result["resolved"]
    return result


def unique_articles(batch: Iterable[tuple[Article, Sequence[Resolution]]]
                    ) -> tuple[list[tuple[Article, Sequence[Resolution]]], int]:
    """The batch with each article once (its first copy), and how many copies were dropped."""
    pairs, duplicates, seen = [], 0, set()
    for article, resolutions in batch:
        if article.article_id in seen:
            duplicates += 1
            continue
        seen.add(article.article_id)
        pairs.append((article, resolutions))
    return pairs, duplicates


class Appending:
    """``add``, ``add_frames`` and ``replace`` of every writable store.

    Built on the store's ``exists()`` and ``_append(articles, mentions, replace)``,
    which stores the rows of unseen articles in one transaction and returns
    (articles, mentions, resolved mentions) stored.
    """

    def _append(self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame,
                replace: bool = False) -> tuple[int, int, int]:
        raise NotImplementedError

    def add(self, batch: Iterable[tuple[Article, Sequence[Resolution]]]) -> AddResult:
        """Append articles and their mentions in one transaction; stored ids are skipped."""
        pairs, duplicates = unique_articles(batch)
        articles = _articles_frame([article for article, _ in pairs], _utc_now())
        added, n_mentions, resolved = self._append(articles, _mentions_frame(pairs))
        return AddResult(added=added, skipped=len(pairs) - added + duplicates,
                         mentions=n_mentions, resolved=resolved)

    def add_frames(self, articles: pandas.DataFrame,
                   mentions: geopandas.GeoDataFrame) -> AddResult:
        """Append the rows of `batch_frames` in one transaction; stored ids are skipped."""
        added, n_mentions, resolved = self._append(articles, mentions)
        return AddResult(added=added, skipped=len(articles) - added, mentions=n_mentions,
                         resolved=resolved)

    def replace(self, batch: Iterable[tuple[Article, Sequence[Resolution]]]) -> int:
        """Swap the mentions of already-stored articles for new ones, all in one transaction.

        This is how ``mapapp ingest --reprocess`` applies new rules and
        corrections: a crash leaves every article with its old mentions or
        every article with its new ones.  Returns the number of articles redone.
        """
        pairs = list({a.article_id: (a, r) for a, r in batch}.values())
        if not pairs or not self.exists():
            return 0
        articles = _articles_frame([article for article, _ in pairs], _utc_now())
        self._append(articles, _mentions_frame(pairs), replace=True)
        return len(pairs)


class _FileLocated:
    """Where a file (or folder) store is, whether it exists, and its version token."""

    path: Path

    @property
    def location(self) -> str:
        """Where the store is, as given to ``Store(...)`` (printable)."""
        return str(self.path)

    def exists(self) -> bool:
        """Has anything ever been stored here?"""
        return self.path.exists()

    def version(self) -> str:
        """A token that changes with every committed write (readers' caches key on it)."""
        return file_version(self.path)


class Store(Appending, _FileLocated):
    """Articles and mentions kept in one GeoPackage file; appended to, never rewritten.

    ``Store(location)`` of a GeoParquet store (`is_parquet_store`) gives a
    `mapapp.stores.parquet.ParquetStore`, and of a ``postgresql://`` URL a
    `mapapp.stores.postgis.PostgisStore`; both read and write the same way.
    """

    def __new__(cls, path: str | Path) -> Any:
        if cls is Store:
            if is_postgis_url(path):
                from mapapp.stores.postgis import PostgisStore

                return PostgisStore(path)
            if is_parquet_store(path):
                from mapapp.stores.parquet import ParquetStore

                return ParquetStore(path)
        return super().__new__(cls)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- opening ---------------------------------------------------------

    def _fail(self, err: BaseException, doing: str) -> StoreError:
        """A StoreError naming the file, for ``raise ... from err``."""
        return StoreError(f"{self.path}: could not {doing} the store ({err})")

    def _check(self, conn: sqlite3.Connection) -> None:
        """Refuse a file that is not a GeoPackage holding our two layers."""
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            wanted = (("mentions", [*MENTION_COLUMNS, GEOM]), ("articles", list(ARTICLE_COLUMNS)))
            for table, columns in wanted:
                have = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
                if "gpkg_contents" not in tables or set(columns) - have:
                    raise StoreError(
                        f"{self.path} is not a mapapp store (layer {table!r} is missing or "
                        f"lacks columns); point the store setting at another file")
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
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode={mode}", uri=True,
                                   timeout=BUSY_TIMEOUT, isolation_level=None)
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

    def _query(self, sql: str, params: Sequence[Any], columns: dict[str, str]) -> pandas.DataFrame:
        """Run one SELECT; an absent store gives an empty frame with ``columns``."""
        with self._reading() as conn:
            if conn is None:
                return _typed(pandas.DataFrame(columns=list(columns)), columns)
            return _typed(pandas.read_sql_query(sql, conn, params=list(params)), columns)

    # -- writing ---------------------------------------------------------

    def _create(self) -> None:
        """Create an empty store atomically: built aside, then linked into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.new-"))
        try:
            fresh = scratch / "store.gpkg"
            _write_layers(fresh, _articles_frame([], ""), _empty_mentions())
            conn = sqlite3.connect(fresh)
            with conn:
                for statement in _INDEXES:
                    conn.execute(statement)
            conn.close()
            try:
                os.link(fresh, self.path)  # fails if another writer created it first
            except FileExistsError:
                pass
            except OSError:  # no hard links on this file system: a smaller race window
                if not self.path.exists():
                    os.replace(fresh, self.path)
        except (OSError, sqlite3.Error, pyogrio.errors.DataSourceError,
                pyogrio.errors.DataLayerError) as err:
            raise self._fail(err, "create") from err
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


    def _append(self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame,
                replace: bool = False) -> tuple[int, int, int]:
        """Stage the rows in a scratch GeoPackage, then copy the new ones in one transaction;
        returns (articles, mentions, resolved mentions) stored."""
        if not replace and not self.path.exists():
            self._create()
        if articles.empty:
            with self._reading():  # still refuse a file that is not a store
                return 0, 0, 0
        try:  # a read-only or full folder fails here, before the store is touched
            scratch = Path(tempfile.mkdtemp(dir=self.path.parent,
                                            prefix=f".{self.path.name}.batch-"))
        except OSError as err:
            raise self._fail(err, "stage a batch for") from err
        try:
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
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _copy_new(self, conn: sqlite3.Connection, mentions: geopandas.GeoDataFrame,
                  replace: bool = False) -> tuple[int, int, int]:
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
                conn.execute('DELETE FROM main."mentions" WHERE "article_id" IN '
                             '(SELECT "article_id" FROM batch."articles")')
                unseen_mentions = 'WHERE "article_id" IN (SELECT "article_id" FROM main."articles")'
            else:
                unseen_mentions = unseen
            known = {row[0] for row in conn.execute(
                'SELECT "article_id" FROM main."articles" '
                'WHERE "article_id" IN (SELECT "article_id" FROM batch."articles")')}
            n_mentions = conn.execute(
                f'INSERT INTO main."mentions" ({m_cols}) SELECT {m_cols} FROM batch."mentions" '
                f'{unseen_mentions} ORDER BY "fid"').rowcount
            added = conn.execute(
                f'INSERT INTO main."articles" ({a_cols}) SELECT {a_cols} FROM batch."articles" '
                f'{unseen} ORDER BY "fid"').rowcount
            stored = mentions if replace else mentions[~mentions["article_id"].isin(known)]
            _touch_contents(conn, stored)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return added, n_mentions, int(stored.geometry.notna().sum())

    # -- reading ---------------------------------------------------------

    def mentions(self, start: date | None = None, end: date | None = None, *,
                 include_undated: bool = False, article_id: str | None = None,
                 resolved_only: bool = True,
                 bbox: tuple[float, float, float, float] | None = None
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
        sql = (f'SELECT {_quoted(MENTION_COLUMNS, "m.")}, a."headline", a."url", m."{GEOM}" '
               f'FROM "mentions" m LEFT JOIN "articles" a ON a."article_id" = m."article_id" '
               f'WHERE {clause} ORDER BY m."published" IS NULL, m."published", '
               f'm."article_id", m."start", m."fid"')
        columns = {**MENTION_COLUMNS, **JOINED_COLUMNS, GEOM: "object"}
        frame = self._query(sql, params, columns)
        geometry = geopandas.GeoSeries(_from_gpkg_blobs(frame.pop(GEOM)), index=frame.index,
                                       crs=CRS)
        return in_bbox(geopandas.GeoDataFrame(frame, geometry=geometry, crs=CRS), bbox)

    def articles(self, start: date | None = None, end: date | None = None, *,
                 include_undated: bool = False) -> pandas.DataFrame:
        """Articles published in [start, end] (all when unbounded), by date then headline."""
        clause, params = _date_filter('"published"', start, end, include_undated)
        sql = (f'SELECT {_quoted(ARTICLE_COLUMNS)} FROM "articles" WHERE {clause} '
               f'ORDER BY "published" IS NULL, "published", "headline", "article_id"')
        return self._query(sql, params, ARTICLE_COLUMNS)

    def article_records(self) -> list[Article]:
        """Every stored article as an `Article` record (for reprocessing)."""
        frame = self.articles(include_undated=True)
        records = []
        for row in frame.itertuples(index=False):
            published = date.fromisoformat(row.published) if isinstance(row.published, str) else None
            records.append(Article(
                article_id=row.article_id, headline=_or_none(row.headline) or "",
                text=_or_none(row.text) or "", published=published,
                dateline=_or_none(row.dateline), deck=_or_none(row.deck),
                url=_or_none(row.url), source=_or_none(row.source) or ""))
        return records

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One stored article as a dict of its columns, or None if it is not stored."""
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(f'SELECT {_quoted(ARTICLE_COLUMNS)} FROM "articles" '
                               f'WHERE "article_id" = ?', (article_id,)).fetchone()
        return dict(zip(ARTICLE_COLUMNS, row)) if row else None

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

    # -- export ----------------------------------------------------------

    def export(self, out: Path, fmt: str, start: date | None = None,
               end: date | None = None) -> Path:
        """Write the resolved mentions in [start, end] as geojson, csv or gpkg, atomically."""
        fmt = fmt.lower()
        if fmt not in EXPORT_FORMATS:
            raise StoreError(f"unknown export format {fmt!r}: "
                             f"use one of {', '.join(EXPORT_FORMATS)}")
        out = Path(out)
        frame = self.mentions(start, end)
        try:
            scratch = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.export-"))
        except OSError as err:
            raise StoreError(f"{out}: could not export the store ({err})") from err
        try:
            written = scratch / f"export.{fmt}"
            write_mentions(frame, written, fmt)
            os.replace(written, out)
        except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
            raise StoreError(f"{out}: could not export the store ({err})") from err
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return out


def _or_none(value: Any) -> Any:
    """pandas' missing values (NaN, None) as None."""
    return None if value is None or (isinstance(value, float) and value != value) else value


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
