"""A store kept as partitioned GeoParquet: what ``mapapp ingest --engine dask`` writes.

The store is a folder (``archive.parquet/``)::

    manifest.json                        the parts that are in the store
    runs/<run>/part-00000.articles.parquet   articles of partition 0 (ARTICLE_COLUMNS)
    runs/<run>/part-00000.mentions.parquet   its mentions, GeoParquet points (EPSG:4326)

A run writes its part files into a hidden folder inside the store, then moves
that folder under ``runs/`` and replaces ``manifest.json`` (write aside, then
``os.replace``).  Readers list parts from the manifest only, so they see a
run whole or not at all, and a killed run leaves nothing they can see.

`ParquetStore` reads with the same API as every store (`mapapp.stores.open_store` of
such a folder returns one), so the web pages and ``mapapp export/stats`` work on
it unchanged.  Writing is one run at a time (`ParquetStore.writer`), under the
store's writer lock that ``mapapp ingest`` and ``mapapp store copy`` hold.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self

import geopandas
import pandas
import shapely

from mapapp.errors import StoreError
from mapapp.files import atomic_path, leftovers
from mapapp.stores.base import FileLocated, StoreBase, WriteResult, stored_result
from mapapp.stores.frames import in_bbox
from mapapp.stores.schema import ARTICLE_COLUMNS, CRS, JOINED_COLUMNS, MENTION_COLUMNS, typed

MANIFEST = "manifest.json"
FORMAT = "mapapp-geoparquet/1"
PARTITION_SIZE = 500  # articles per part file when parts are added one batch at a time
NEW = "new"  # the scratch of a store being created, beside its folder
RUN_SCRATCH = ".run-"  # a run's part files, inside the folder until the run commits
_SEQ = "seq"  # a mention's position among its article's mentions (the GeoPackage's fid order)


def _iso(bound: date | datetime | None) -> str | None:
    """A date bound as ISO text (a datetime's day)."""
    if bound is None:
        return None
    return (bound.date() if isinstance(bound, datetime) else bound).isoformat()


def _in_range(
    published: pandas.Series, start: date | None, end: date | None, include_undated: bool
) -> pandas.Series:
    """Rows whose ISO date lies in [start, end] (as the SQL stores filter)."""
    if start is None and end is None:
        return pandas.Series(True, index=published.index)
    keep = published.notna()
    if start is not None:
        keep &= published >= _iso(start)
    if end is not None:
        keep &= published <= _iso(end)
    keep = keep.fillna(False).astype(bool)
    return keep | published.isna() if include_undated else keep


class ParquetStore(StoreBase, FileLocated):
    """Articles and mentions as GeoParquet part files listed by a manifest."""

    kind = "GeoParquet"
    partitioned = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ParquetStore({str(self.path)!r})"

    @staticmethod
    def recognises(path: Path) -> bool:
        """Does ``path`` name a GeoParquet store (a name ending in .parquet, or a manifest)?"""
        return path.suffix.lower() == ".parquet" or (path / MANIFEST).is_file()

    def check(self) -> None:
        """Refuse a folder that is not a mapapp GeoParquet store (none yet is fine)."""
        self.manifest()

    def scratch_paths(self) -> list[Path]:
        """A half-made store beside the folder, and unfinished runs and manifests in it."""
        return (
            leftovers(self.path, NEW)
            + sorted(self.path.glob(f"{RUN_SCRATCH}*"))
            + leftovers(self.path / MANIFEST, "tmp")
        )

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
            raise StoreError(
                f"{self.path} is not a mapapp GeoParquet store (no readable "
                f"{MANIFEST}: {err}); point the store setting elsewhere"
            ) from err
        if data.get("format") != FORMAT:
            raise StoreError(
                f"{self.path}: unknown store format {data.get('format')!r} "
                f"(this mapapp reads {FORMAT!r})"
            )
        return data

    def _files(self, kind: str) -> list[Path]:
        """The part files of ``kind`` ("articles" or "mentions") the manifest lists."""
        manifest = self.manifest()
        return [self.path / part[kind] for part in (manifest or {}).get("parts", [])]

    def _read(
        self, kind: str, columns: Sequence[str] | None = None, filters: list | None = None
    ) -> pandas.DataFrame:
        """The rows of every ``kind`` part file in manifest order (pyarrow pushes filters down)."""
        import pyarrow
        import pyarrow.parquet

        try:
            tables = [
                pyarrow.parquet.read_table(
                    f, columns=list(columns) if columns else None, filters=filters
                )
                for f in self._files(kind)
            ]
        except (OSError, pyarrow.ArrowException) as err:
            raise StoreError(f"{self.path}: could not read the store ({err})") from err
        if not tables:
            return pandas.DataFrame(columns=list(columns or []))
        return pyarrow.concat_tables(tables).to_pandas()

    # -- reading (the Store API) --------------------------------------------

    def _correction_rows(self) -> list[dict[str, Any]]:
        """None: a GeoParquet store keeps no corrections."""
        return []

    def _correcting(self) -> Any:
        """Refused: corrections need a GeoPackage or PostGIS store."""
        raise StoreError(
            f"{self.path}: a GeoParquet store keeps no corrections; copy it to a GeoPackage "
            "or PostGIS store ('mapapp store copy') to review and correct it"
        )

    def _raw_mentions(
        self,
        start: date | None = None,
        end: date | None = None,
        *,
        include_undated: bool = False,
        article_id: str | None = None,
        resolved_only: bool = True,
        bbox: tuple[float, float, float, float] | None = None,
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
            ["_undated", "published", "article_id", "start", _SEQ], kind="stable"
        )
        frame = frame.drop(columns=["_undated", _SEQ]).reset_index(drop=True)
        wkb = frame.pop("geometry")
        geometry = geopandas.GeoSeries(
            shapely.from_wkb(wkb.to_numpy(dtype=object)), index=frame.index, crs=CRS
        )
        rows = typed(frame, {**MENTION_COLUMNS, **JOINED_COLUMNS})
        return in_bbox(geopandas.GeoDataFrame(rows, geometry=geometry, crs=CRS), bbox)

    def articles(
        self, start: date | None = None, end: date | None = None, *, include_undated: bool = False
    ) -> pandas.DataFrame:
        """Articles published in [start, end] (all when unbounded), by date then headline."""
        frame = self._read("articles", list(ARTICLE_COLUMNS)).reindex(columns=list(ARTICLE_COLUMNS))
        frame = frame[_in_range(frame["published"], start, end, include_undated)]
        frame = frame.assign(_undated=frame["published"].isna()).sort_values(
            ["_undated", "published", "headline", "article_id"], kind="stable"
        )
        return typed(frame.drop(columns="_undated").reset_index(drop=True), ARTICLE_COLUMNS)

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One stored article as a dict of its columns, or None if it is not stored."""
        frame = self._read("articles", list(ARTICLE_COLUMNS), [("article_id", "==", article_id)])
        if frame.empty:
            return None
        row = frame.iloc[0]
        return {name: (None if pandas.isna(row[name]) else row[name]) for name in ARTICLE_COLUMNS}

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
        top = (
            placed.groupby(["resolved_name", "country_code"], dropna=False)
            .size()
            .reset_index(name="n")
        )
        top = top.sort_values(
            ["n", "resolved_name", "country_code"],
            ascending=[False, True, True],
            na_position="first",
            kind="stable",
        )
        return {
            "articles": len(articles),
            "mentions": len(mentions),
            "resolved": len(placed),
            "unresolved": len(mentions) - len(placed),
            "undated_articles": int(articles["published"].isna().sum()),
            "first_date": dated.min() if len(dated) else None,
            "last_date": dated.max() if len(dated) else None,
            "top_places": [
                [None if pandas.isna(name) else name, None if pandas.isna(cc) else cc, int(n)]
                for name, cc, n in top.head(10).itertuples(index=False)
            ],
        }

    def replace(self, batch: Any) -> int:
        """Not for this store: reprocessing rewrites mentions in place, which parts never are.

        :raise StoreError: always.
        """
        raise StoreError(
            f"{self.path}: a GeoParquet store cannot be reprocessed in place; "
            "ingest the articles again into a new store instead"
        )

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Not for this store: runs write it, through `writer`.

        :raise StoreError: always.
        """
        raise StoreError(
            f"{self.path}: a GeoParquet store is written by 'mapapp ingest', one run at a time"
        )

    def writer(self, partition_size: int | None = None) -> ParquetWriter:
        """One run into this store, committed when its ``with`` block ends."""
        return ParquetWriter(self.path, partition_size or PARTITION_SIZE)


class ParquetWriter:
    """One run into a GeoParquet store: part files in a hidden folder, committed at the end.

    ``add_frames(articles, mentions)`` gathers batches (skipping stored ids)
    until they hold ``partition_size`` articles, then writes one file pair;
    ``write(index, articles, mentions)`` writes partition ``index`` directly
    (the Dask engine, whose partitions finish in any order).  Leaving the
    ``with`` block commits; an exception leaves the store as it was.
    """

    def __init__(self, path: str | Path, partition_size: int = PARTITION_SIZE) -> None:
        self.store = ParquetStore(path)
        self.path = Path(path)
        self.partition_size = partition_size
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run = f"{stamp}-{uuid.uuid4().hex[:8]}"
        self.counts: dict[int, int] = {}  # partition index -> articles
        self.buffer: list[tuple[pandas.DataFrame, geopandas.GeoDataFrame]] = []
        self.known: set[str] | None = None  # stored ids and this run's, read on first add
        self.scratch: Path | None = None

    def __enter__(self) -> Self:
        self._create_store()
        self.store.manifest()  # refuse a folder that is not a store before any work
        self.scratch = Path(tempfile.mkdtemp(dir=self.path, prefix=f"{RUN_SCRATCH}{self.run}-"))
        self.scratch.chmod(0o755)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.commit()
        elif self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _create_store(self) -> None:
        """An empty store (a manifest with no parts), made aside and renamed into place."""
        if self.path.exists():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path, kind=NEW, folder=True, exclusive=True) as fresh:
                _write_json(fresh / MANIFEST, {"format": FORMAT, "parts": []})
        except OSError as err:
            if isinstance(err, FileExistsError) and self.path.exists():
                return  # another writer created it first
            raise StoreError(f"{self.path}: could not create the store ({err})") from err

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Gather the rows of unseen articles; write a partition once ``partition_size``
        articles are gathered."""
        if self.known is None:
            self.known = self.store.known_ids()
        fresh = articles[~articles["article_id"].isin(self.known)]
        rows = mentions[mentions["article_id"].isin(set(fresh["article_id"]))]
        self.known.update(fresh["article_id"])
        if len(fresh):
            self.buffer.append((fresh, rows.reset_index(drop=True)))
            if sum(len(gathered) for gathered, _ in self.buffer) >= self.partition_size:
                self._flush()
        return stored_result(len(articles), len(fresh), rows)

    def _flush(self) -> None:
        """Write the gathered batches as the next partition."""
        if self.buffer:
            articles = pandas.concat([a for a, _ in self.buffer], ignore_index=True)
            mentions = pandas.concat([m for _, m in self.buffer], ignore_index=True)
            self.write(len(self.counts), articles, mentions)
            self.buffer = []

    def write(
        self, index: int, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Write partition ``index`` (again, if a retried task delivers it twice: same files)."""
        assert self.scratch is not None, "use ParquetWriter in a with block"
        ordered = articles.sort_values("article_id", kind="stable")
        rows = mentions.assign(**{_SEQ: mentions.groupby("article_id").cumcount()})
        rows = rows.sort_values(["article_id", _SEQ], kind="stable")
        name = f"part-{index:05d}"
        try:
            with atomic_path(self.scratch / f"{name}.articles.parquet") as tmp:
                ordered.to_parquet(tmp, index=False, row_group_size=128)
            with atomic_path(self.scratch / f"{name}.mentions.parquet") as tmp:
                rows.to_parquet(tmp, index=False, row_group_size=1024)
        except (OSError, ValueError) as err:
            raise StoreError(f"{self.path}: could not write partition {index} ({err})") from err
        self.counts[index] = len(ordered)
        return stored_result(len(ordered), len(ordered), mentions)

    def commit(self) -> int:
        """Move the run's files under runs/ and list them in the manifest; return articles added."""
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
                manifest["parts"].append(
                    {
                        "articles": f"{name}.articles.parquet",
                        "mentions": f"{name}.mentions.parquet",
                        "count": self.counts[index],
                    }
                )
            _write_json(self.path / MANIFEST, manifest)
        except OSError as err:
            raise StoreError(f"{self.path}: could not commit the run ({err})") from err
        self.scratch = None
        return sum(self.counts.values())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace the JSON file at ``path`` with ``data``, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
