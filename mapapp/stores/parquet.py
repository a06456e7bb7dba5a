"""A store kept as partitioned GeoParquet: what ``mapapp ingest --engine dask`` writes.

The store is a folder (``archive.parquet/``)::

    manifest.json                        the parts that are in the store
    runs/<run>/part-00000.articles.parquet   articles of partition 0 (ARTICLE_COLUMNS)
    runs/<run>/part-00000.mentions.parquet   its mentions, GeoParquet points (EPSG:4326)

A run writes its part files into a hidden folder inside the store, then moves
that folder under ``runs/`` and replaces ``manifest.json`` (write aside, then
``os.replace``).  Readers list parts from the manifest only, so they see a
run whole or not at all, and a killed run leaves nothing they can see.

`ParquetStore` reads with the same API as `mapapp.stores.geopackage.Store` (``Store(path)``
of such a folder returns one), so the web pages and ``mapapp export/stats``
work on it unchanged.  Writing is one run at a time, under the store's writer
lock that ``mapapp ingest`` holds.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import geopandas
import pandas
import shapely

from mapapp.errors import StoreError
from mapapp.stores.geopackage import (ARTICLE_COLUMNS, CRS, JOINED_COLUMNS, MENTION_COLUMNS, AddResult,
                          Store, _FileLocated, _typed, in_bbox)

MANIFEST = "manifest.json"
FORMAT = "mapapp-geoparquet/1"
PARTITION_SIZE = 500  # articles per part file when parts are added one batch at a time
_SEQ = "seq"  # a mention's position among its article's mentions (the GeoPackage's fid order)


def _iso(bound: date | datetime | None) -> str | None:
    if bound is None:
        return None
    return (bound.date() if isinstance(bound, datetime) else bound).isoformat()


def _in_range(published: pandas.Series, start: date | None, end: date | None,
              include_undated: bool) -> pandas.Series:
    """Rows whose ISO date lies in [start, end] (as `store._date_filter` does in SQL)."""
    if start is None and end is None:
        return pandas.Series(True, index=published.index)
    keep = published.notna()
    if start is not None:
        keep &= published >= _iso(start)
    if end is not None:
        keep &= published <= _iso(end)
    keep = keep.fillna(False).astype(bool)
    return keep | published.isna() if include_undated else keep


class ParquetStore(_FileLocated):
    """Articles and mentions as GeoParquet part files listed by a manifest (read API of Store)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ParquetStore({str(self.path)!r})"

    # -- the manifest -----------------------------------------------------

    def manifest(self) -> dict[str, Any] | None:
        """The store's manifest, or None when there is no store yet.

        :raise StoreError: the folder exists but is not a mapapp GeoParquet store.
        """
        if not self.path.exists():
            return None
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise StoreError(f"{self.path} is not a mapapp GeoParquet store (no readable "
                             f"{MANIFEST}: {err}); point the store setting elsewhere") from err
        if data.get("format") != FORMAT:
            raise StoreError(f"{self.path}: unknown store format {data.get('format')!r} "
                             f"(this mapapp reads {FORMAT!r})")
        return data

    def _files(self, kind: str) -> list[Path]:
        manifest = self.manifest()
        return [self.path / part[kind] for part in (manifest or {}).get("parts", [])]

    def _read(self, kind: str, columns: Sequence[str] | None = None,
              filters: list | None = None) -> pandas.DataFrame:
        """The rows of every ``kind`` part file, in manifest order (pyarrow, filters pushed down)."""
        import pyarrow
        import pyarrow.parquet

        try:
            tables = [pyarrow.parquet.read_table(f, columns=list(columns) if columns else None,
                                                 filters=filters) for f in self._files(kind)]
        except (OSError, pyarrow.ArrowException) as err:
            raise StoreError(f"{self.path}: could not read the store ({err})") from err
        if not tables:
            return pandas.DataFrame(columns=list(columns or []))
        return pyarrow.concat_tables(tables).to_pandas()

    # -- reading (the Store API) --------------------------------------------

    def mentions(self, start: date | None = None, end: date | None = None, *,
                 include_undated: bool = False, article_id: str | None = None,
                 resolved_only: bool = True,
                 bbox: tuple[float, float, float, float] | None = None
                 ) -> geopandas.GeoDataFrame:
        """Mentions published in [start, end] (all when unbounded), with headline and url."""
        columns = [*MENTION_COLUMNS, _SEQ, "geometry"]
        filters = [("article_id", "==", article_id)] if article_id is not None else None
        frame = self._read("mentions", columns, filters)
        frame = frame.reindex(columns=columns)
        frame = frame[_in_range(frame["published"], start, end, include_undated)]
        if resolved_only:
            frame = frame[frame["geometry"].notna()]
        joined = self._read("articles", ["article_id", *JOINED_COLUMNS], filters)
        joined = joined.reindex(columns=["article_id", *JOINED_COLUMNS])
        frame = frame.merge(joined.drop_duplicates("article_id"), on="article_id", how="left")
        frame = frame.assign(_undated=frame["published"].isna()).sort_values(
            ["_undated", "published", "article_id", "start", _SEQ], kind="stable")
        frame = frame.drop(columns=["_undated", _SEQ]).reset_index(drop=True)
        wkb = frame.pop("geometry")
        geometry = geopandas.GeoSeries(shapely.from_wkb(wkb.to_numpy(dtype=object)),
                                       index=frame.index, crs=CRS)
        typed = _typed(frame, {**MENTION_COLUMNS, **JOINED_COLUMNS})
        return in_bbox(geopandas.GeoDataFrame(typed, geometry=geometry, crs=CRS), bbox)

    def articles(self, start: date | None = None, end: date | None = None, *,
                 include_undated: bool = False) -> pandas.DataFrame:
        """Articles published in [start, end] (all when unbounded), by date then headline."""
        frame = self._read("articles", list(ARTICLE_COLUMNS)).reindex(columns=list(ARTICLE_COLUMNS))
        frame = frame[_in_range(frame["published"], start, end, include_undated)]
        frame = frame.assign(_undated=frame["published"].isna()).sort_values(
            ["_undated", "published", "headline", "article_id"], kind="stable")
        return _typed(frame.drop(columns="_undated").reset_index(drop=True), ARTICLE_COLUMNS)

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One stored article as a dict of its columns, or None if it is not stored."""
        frame = self._read("articles", list(ARTICLE_COLUMNS), [("article_id", "==", article_id)])
        if frame.empty:
            return None
        row = frame.iloc[0]
        return {name: (None if pandas.isna(row[name]) else row[name]) for name in ARTICLE_COLUMNS}

    def article_records(self) -> list:
        """Every stored article as an `Article` record."""
        return Store.article_records(self)  # the same code: it reads through self.articles()

    def known_ids(self) -> set[str]:
        """The ids of every stored article (to skip re-ingesting them)."""
        return set(self._read("articles", ["article_id"]).get("article_id", []))

    def stats(self) -> dict[str, Any]:
        """Counts, date range and the ten most mentioned places (as `Store.stats`)."""
        articles = self._read("articles", ["published"]).reindex(columns=["published"])
        mentions = self._read("mentions", ["resolved_name", "country_code", "geometry"])
        mentions = mentions.reindex(columns=["resolved_name", "country_code", "geometry"])
        dated = articles["published"].dropna()
        placed = mentions[mentions["geometry"].notna()]
        top = (placed.groupby(["resolved_name", "country_code"], dropna=False).size()
               .reset_index(name="n"))
        top = top.sort_values(["n", "resolved_name", "country_code"],
                              ascending=[False, True, True], na_position="first", kind="stable")
        return {
            "articles": len(articles), "mentions": len(mentions), "resolved": len(placed),
            "unresolved": len(mentions) - len(placed),
            "undated_articles": int(articles["published"].isna().sum()),
            "first_date": dated.min() if len(dated) else None,
            "last_date": dated.max() if len(dated) else None,
            "top_places": [[None if pandas.isna(name) else name, None if pandas.isna(cc) else cc,
                            int(n)] for name, cc, n in top.head(10).itertuples(index=False)],
        }

    def export(self, out: Path, fmt: str, start: date | None = None,
               end: date | None = None) -> Path:
        """Write the resolved mentions in [start, end] as geojson, csv or gpkg, atomically."""
        return Store.export(self, out, fmt, start, end)  # the same code: it reads self.mentions()

    def replace(self, batch: Any) -> int:
        """Not for this store: reprocessing rewrites mentions in place, which parts never are.

        :raise StoreError: always.
        """
        raise StoreError(f"{self.path}: a GeoParquet store cannot be reprocessed in place; "
                         "ingest the articles again into a new store instead")

    def add(self, batch: Any) -> AddResult:
        """Not for this store: runs write it through `ParquetWriter`.

        :raise StoreError: always.
        """
        raise StoreError(f"{self.path}: a GeoParquet store is written by 'mapapp ingest', "
                         "one run at a time")


class ParquetWriter:
    """One run into a GeoParquet store: part files in a hidden folder, committed at the end.

    ``add(part)`` gathers parts until they hold ``partition_size`` articles,
    then writes one file pair; ``write(index, part)`` writes partition
    ``index`` directly (the Dask engine, whose partitions finish in any order).
    Leaving the ``with`` block commits; an exception leaves the store as it was.
    """

    def __init__(self, path: str | Path, partition_size: int = PARTITION_SIZE) -> None:
        self.store = ParquetStore(path)
        self.path = Path(path)
        self.partition_size = partition_size
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.run = f"{stamp}-{uuid.uuid4().hex[:8]}"
        self.counts: dict[int, int] = {}  # partition index -> articles
        self.buffer: list[Any] = []
        self.scratch: Path | None = None

    def __enter__(self) -> "ParquetWriter":
        self._create_store()
        self.store.manifest()  # refuse a folder that is not a store before any work
        self.scratch = Path(tempfile.mkdtemp(dir=self.path, prefix=f".run-{self.run}-"))
        self.scratch.chmod(0o755)
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if exc_type is None:
            self.commit()
        elif self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _create_store(self) -> None:
        """An empty store (a manifest with no parts), made aside and renamed into place."""
        if self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.new-"))
        try:
            fresh.chmod(0o755)  # readable by the web server, like a GeoPackage file
            _write_json(fresh / MANIFEST, {"format": FORMAT, "parts": []})
            try:
                os.rename(fresh, self.path)
            except OSError:  # another writer created it first
                if not self.path.exists():
                    raise
        except OSError as err:
            raise StoreError(f"{self.path}: could not create the store ({err})") from err
        finally:
            shutil.rmtree(fresh, ignore_errors=True)

    def add(self, part: Any) -> None:
        """Gather ``part``; write a partition once ``partition_size`` articles are gathered."""
        self.buffer.append(part)
        if sum(len(p) for p in self.buffer) >= self.partition_size:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            articles = pandas.concat([p.articles for p in self.buffer], ignore_index=True)
            mentions = pandas.concat([p.mentions for p in self.buffer], ignore_index=True)
            self.write(len(self.counts), _Rows(articles, mentions))
            self.buffer = []

    def write(self, index: int, part: Any) -> None:
        """Write partition ``index`` (again, if a retried task delivers it twice: same files)."""
        assert self.scratch is not None, "use ParquetWriter in a with block"
        articles = part.articles.sort_values("article_id", kind="stable")
        mentions = part.mentions.assign(**{_SEQ: part.mentions.groupby("article_id").cumcount()})
        mentions = mentions.sort_values(["article_id", _SEQ], kind="stable")
        name = f"part-{index:05d}"
        try:
            _replace_into(self.scratch / f"{name}.articles.parquet",
                          lambda p: articles.to_parquet(p, index=False, row_group_size=128))
            _replace_into(self.scratch / f"{name}.mentions.parquet",
                          lambda p: mentions.to_parquet(p, index=False, row_group_size=1024))
        except (OSError, ValueError) as err:
            raise StoreError(f"{self.path}: could not write partition {index} ({err})") from err
        self.counts[index] = len(articles)

    def commit(self) -> int:
        """Move the run's files under runs/ and list them in the manifest; returns articles added."""
        self._flush()
        if self.scratch is None or not self.counts:
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)
            return 0
        runs = self.path / "runs"
        try:
            runs.mkdir(exist_ok=True)
            os.rename(self.scratch, runs / self.run)
            manifest = self.store.manifest() or {"format": FORMAT, "parts": []}
            for index in sorted(self.counts):
                name = f"runs/{self.run}/part-{index:05d}"
                manifest["parts"].append({"articles": f"{name}.articles.parquet",
                                          "mentions": f"{name}.mentions.parquet",
                                          "count": self.counts[index]})
            _write_json(self.path / MANIFEST, manifest)
        except OSError as err:
            raise StoreError(f"{self.path}: could not commit the run ({err})") from err
        self.scratch = None
        return sum(self.counts.values())


class _Rows:
    """Gathered parts as one (articles, mentions) pair."""

    def __init__(self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame) -> None:
        self.articles, self.mentions = articles, mentions


def _replace_into(path: Path, write: Any) -> None:
    """Write a file under a temporary name, then rename it: never seen half-written."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    def dump(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())

    _replace_into(path, dump)
