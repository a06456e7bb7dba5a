"""Stores: where articles and their mentions live (GeoPackage, PostGIS, GeoParquet).

`open_store` is the one door: it picks the backend from the location once,
and every caller then talks to a `Store` and asks it what it can do
(``partitioned``, ``needs_writer_lock``) instead of reading the location.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    import geopandas
    import pandas

    from mapapp.records import Article, Resolution
    from mapapp.stores.base import WriteResult


class StoreWriter(Protocol):
    """One run of writes into a store (a ``with`` block: leaving it commits what is pending)."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Store one batch's rows (stored ids are skipped)."""

    def write(
        self, index: int, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Store partition ``index`` of a run whose partitions finish in any order."""


class Store(Protocol):
    """Articles and their mentions, wherever they are kept: the API every backend has."""

    kind: str  # "GeoPackage", "PostGIS" or "GeoParquet", for messages
    partitioned: bool  # written in runs of partitions committed at the end (the Dask engine)
    needs_writer_lock: bool  # one writer at a time (`mapapp.stores.locking` holds the lock)

    # -- where it is ----------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the store is, as given to `open_store` (printable)."""

    @property
    def identity(self) -> str:
        """The same text for every handle on the same store (absolute path, database)."""

    def exists(self) -> bool:
        """Has anything ever been stored here?"""

    def version(self) -> str:
        """A token that changes with every committed write (readers' caches key on it)."""

    def check(self) -> None:
        """Refuse (StoreError) a location holding something that is not a mapapp store."""

    def scratch_paths(self) -> list[Path]:
        """Scratch files and folders a writer that died left (for the lock holder to sweep)."""

    def upgrade(self) -> tuple[str | None, str] | None:
        """Bring the schema to this mapapp's revision: (before, after), or None without one."""

    # -- reading --------------------------------------------------------------
    def mentions(
        self,
        start: date | None = None,
        end: date | None = None,
        *,
        include_undated: bool = False,
        article_id: str | None = None,
        resolved_only: bool = True,
        bbox: tuple[float, float, float, float] | None = None,
        corrected: bool = True,
    ) -> geopandas.GeoDataFrame:
        """Mentions published in [start, end] (all when unbounded), with headline, url and
        ``mention_id``, the editors' corrections applied (unless ``corrected`` is False);
        ``bbox`` (west, south, east, north in degrees) keeps the points inside it."""

    def mention(self, mention_id: str) -> dict[str, Any] | None:
        """One mention (corrections applied) as a dict, candidates parsed; None if not stored."""

    def candidates(self, mention_id: str) -> list[dict[str, Any]]:
        """The places the resolver weighed for a mention, best first (NotFoundError: none)."""

    def corrections(self, include_undone: bool = True) -> list[dict[str, Any]]:
        """The corrections log, newest first."""

    def articles(
        self, start: date | None = None, end: date | None = None, *, include_undated: bool = False
    ) -> pandas.DataFrame:
        """Articles published in [start, end] (all when unbounded), by date then headline."""

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One stored article as a dict of its columns, or None if it is not stored."""

    def article_records(self) -> list[Article]:
        """Every stored article as an `Article` record (for reprocessing)."""

    def known_ids(self) -> set[str]:
        """The ids of every stored article (to skip re-ingesting them)."""

    def stats(self) -> dict[str, Any]:
        """Counts, date range and the ten most mentioned places, from one snapshot."""

    def export(
        self, out: Path, fmt: str, start: date | None = None, end: date | None = None
    ) -> Path:
        """Write the resolved mentions in [start, end] as geojson, csv or gpkg, atomically."""

    # -- writing --------------------------------------------------------------
    def add(self, batch: Iterable[tuple[Article, Sequence[Resolution]]]) -> WriteResult:
        """Store articles and their mentions in one write; stored ids are skipped."""

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Store the rows of `mapapp.stores.frames.batch_frames` in one write."""

    def replace(self, batch: Iterable[tuple[Article, Sequence[Resolution]]]) -> int:
        """Swap the stored articles' mentions for new ones in one write (reprocessing)."""

    def writer(self, partition_size: int | None = None) -> StoreWriter:
        """A run of writes (``partition_size`` articles per file, for partitioned stores)."""

    def add_correction(
        self,
        mention_id: str,
        action: str,
        *,
        scope: str = "mention",
        geonameid: int | None = None,
        place: dict[str, Any] | None = None,
        editor: str = "",
        base: int | None = None,
    ) -> dict[str, Any]:
        """Record an editor's decision (see `mapapp.stores.corrections`); returns the
        correction with its ``id`` and, under ``mention``, the updated mention.
        ConflictError when ``base`` no longer decides the mention."""

    def undo_correction(self, correction_id: int) -> dict[str, Any]:
        """Flag a correction undone; returns it with the mention as it now reads."""

    def restore_corrections(self, rows: Iterable[dict[str, Any]]) -> int:
        """Store corrections from another store or a file, skipping those already stored."""


def open_store(location: str | Path) -> Store:
    """The store at ``location``: a ``postgresql://`` URL is PostGIS, a GeoParquet folder (or
    a name ending in .parquet) GeoParquet, anything else a GeoPackage file."""
    from mapapp.settings import is_postgis_url

    if is_postgis_url(location):
        from mapapp.stores.postgis import PostgisStore

        return PostgisStore(location)
    from mapapp.stores.parquet import ParquetStore

    if ParquetStore.recognises(Path(location)):
        return ParquetStore(location)
    from mapapp.stores.geopackage import GeoPackageStore

    return GeoPackageStore(location)
