"""What the backends share: the one record of what a write stored, and the store API
parts written once (adding records, reprocessing, reading records, exports, stats in SQL).

Each backend imports this module (and `schema`, `frames`), never another backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Self

import geopandas
import pandas

from mapapp.records import Article, Resolution
from mapapp.stores.corrections import Correcting
from mapapp.stores.exports import export_format, export_mentions
from mapapp.stores.frames import article_records, batch_frames
from mapapp.stores.schema import GEOM


@dataclass(frozen=True)
class WriteResult:
    """What one write stored: articles added, articles it was given that were already
    stored (or given twice), and the mentions stored with the added ones (``resolved``
    of them with a point)."""

    added: int
    skipped: int
    mentions: int = 0
    resolved: int = 0

    @property
    def unresolved(self) -> int:
        """Stored mentions without a point."""
        return self.mentions - self.resolved

    def __add__(self, other: WriteResult) -> WriteResult:
        """Two writes' results as one (a run of batches, a copy)."""
        return WriteResult(
            self.added + other.added,
            self.skipped + other.skipped,
            self.mentions + other.mentions,
            self.resolved + other.resolved,
        )


NOTHING = WriteResult(added=0, skipped=0)  # the sum of no writes


def stored_result(given: int, articles: int, mentions: geopandas.GeoDataFrame) -> WriteResult:
    """The result of storing ``articles`` of ``given`` articles, with ``mentions`` (their rows)."""
    return WriteResult(
        added=articles,
        skipped=given - articles,
        mentions=len(mentions),
        resolved=int(mentions.geometry.notna().sum()),
    )


def unique_articles(
    batch: Iterable[tuple[Article, Sequence[Resolution]]],
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


def file_version(path: Path) -> str:
    """A token that changes whenever the file (or folder) at ``path`` does; 'empty' without one."""
    try:
        st = path.stat()
    except OSError:
        return "empty"
    digest = hashlib.sha256(
        f"{path.resolve()}|{st.st_mtime_ns}|{st.st_size}|{st.st_ino}".encode()
    ).hexdigest()
    return digest[:16]


def sql_stats(
    fetch: Callable[[str], list[tuple]] | None,
    *,
    day: Callable[[str], str] = lambda expr: expr,
    text: Callable[[str], str] = lambda column: column,
) -> dict[str, Any]:
    """``Store.stats`` from SQL, for any backend: ``fetch(sql)`` runs a query (None: no store
    yet), ``day`` turns a date expression into ISO text, ``text`` orders a text column
    byte by byte with NULL first (SQLite's order)."""
    result: dict[str, Any] = {
        "articles": 0,
        "mentions": 0,
        "resolved": 0,
        "unresolved": 0,
        "undated_articles": 0,
        "first_date": None,
        "last_date": None,
        "top_places": [],
    }
    if fetch is None:
        return result
    first, last = day('min("published")'), day('max("published")')
    (result["articles"], result["undated_articles"], result["first_date"], result["last_date"]) = (
        fetch(f'SELECT count(*), count(*) - count("published"), {first}, {last} FROM "articles"')[0]
    )
    result["mentions"], result["resolved"] = fetch(
        f'SELECT count(*), count("{GEOM}") FROM "mentions"'
    )[0]
    by_name, by_country = text('"resolved_name"'), text('"country_code"')
    result["top_places"] = [
        list(row)
        for row in fetch(
            f'SELECT "resolved_name", "country_code", count(*) AS n FROM "mentions" '
            f'WHERE "{GEOM}" IS NOT NULL GROUP BY "resolved_name", "country_code" '
            f"ORDER BY n DESC, {by_name}, {by_country} LIMIT 10"
        )
    ]
    result["unresolved"] = result["mentions"] - result["resolved"]
    return result


class StoreBase(Correcting):
    """The store API written once over a backend's own ``articles``, ``_raw_mentions`` and
    ``add_frames``: adding records, reading records back, exporting, corrections."""

    def add(self, batch: Iterable[tuple[Article, Sequence[Resolution]]]) -> WriteResult:
        """Store articles and their mentions in one write; stored ids are skipped."""
        pairs, duplicates = unique_articles(batch)
        result = self.add_frames(*batch_frames(pairs))
        return dataclasses.replace(result, skipped=result.skipped + duplicates)

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Store the rows of `batch_frames` in one write; stored ids are skipped."""
        raise NotImplementedError

    def article_records(self) -> list[Article]:
        """Every stored article as an `Article` record (for reprocessing)."""
        return article_records(self.articles(include_undated=True))

    def export(
        self, out: Path, fmt: str, start: date | None = None, end: date | None = None
    ) -> Path:
        """Write the resolved mentions in [start, end] as geojson, csv or gpkg, atomically."""
        fmt = export_format(fmt)
        return export_mentions(self.mentions(start, end), out, fmt)


class Appending(StoreBase):
    """``add_frames``, ``replace`` and ``writer`` of a store that takes each batch in one
    transaction, built on its ``exists()`` and ``_append(articles, mentions, replace)``
    (which stores the rows of unseen articles and returns (articles, mentions, resolved
    mentions) stored)."""

    partitioned = False

    def _append(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame, replace: bool = False
    ) -> tuple[int, int, int]:
        raise NotImplementedError

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Append the rows of `batch_frames` in one transaction; stored ids are skipped."""
        added, n_mentions, resolved = self._append(articles, mentions)
        return WriteResult(
            added=added, skipped=len(articles) - added, mentions=n_mentions, resolved=resolved
        )

    def replace(self, batch: Iterable[tuple[Article, Sequence[Resolution]]]) -> int:
        """Swap the mentions of already-stored articles for new ones, all in one transaction.

        This is how ``mapapp ingest --reprocess`` applies new rules and
        corrections: a crash leaves every article with its old mentions or
        every article with its new ones.  Returns the articles given.
        """
        pairs, _ = unique_articles(batch)
        if not pairs or not self.exists():
            return 0
        self._append(*batch_frames(pairs), replace=True)
        return len(pairs)

    def writer(self, partition_size: int | None = None) -> BatchWriter:
        """A writer whose every batch is its own transaction (``partition_size`` is unused)."""
        return BatchWriter(self)


class BatchWriter:
    """The writer of an `Appending` store: each batch lands in its own transaction, in
    the order given (a partition index changes nothing: stored ids are skipped)."""

    def __init__(self, store: Appending) -> None:
        self.store = store

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_frames(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Store one batch's rows now, in one transaction."""
        return self.store.add_frames(articles, mentions)

    def write(
        self, index: int, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame
    ) -> WriteResult:
        """Store partition ``index`` now (as `add_frames`)."""
        return self.add_frames(articles, mentions)


class FileLocated:
    """Where a file (or folder) store is, whether it exists, and its version token."""

    path: Path
    needs_writer_lock = True  # one writer at a time, under a lock file beside the store

    @property
    def location(self) -> str:
        """Where the store is, as given to ``open_store`` (printable)."""
        return str(self.path)

    @property
    def identity(self) -> str:
        """The same text for every handle on the same store (the absolute path)."""
        return str(self.path.resolve())

    def exists(self) -> bool:
        """Has anything ever been stored here?"""
        return self.path.exists()

    def version(self) -> str:
        """A token that changes with every committed write (readers' caches key on it)."""
        return file_version(self.path)

    def upgrade(self) -> None:
        """A file store has no schema revisions: nothing to upgrade (None)."""
