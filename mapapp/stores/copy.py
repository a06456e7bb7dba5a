"""``mapapp store copy``: move a store between backends (GeoPackage, PostGIS, GeoParquet).

A copy is made of what the store API reads (every article with all its
columns, ``ingested_at`` included, and every mention, unresolved ones too, in
the store's order), written with the target's own batch writer, so it is
lossless in both directions: copying A to B and B back to C gives C == A
through every read.  Articles the target already holds are left as they are
(a re-run after an interruption adds exactly what is missing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas

from mapapp.settings import describe_store, is_postgis_url
from mapapp.errors import StoreError
from mapapp.stores.geopackage import ARTICLE_COLUMNS, MENTION_COLUMNS, Store, is_parquet_store

COPY_BATCH = 500  # articles per target transaction


@dataclass(frozen=True)
class CopyResult:
    """What a copy did: articles and mentions written, articles the target already had."""

    articles: int
    mentions: int
    already_there: int


def _same_place(source: str, target: str) -> bool:
    if is_postgis_url(source) or is_postgis_url(target):
        return describe_store(source) == describe_store(target)
    return Path(source).resolve() == Path(target).resolve()


def copy_store(source: str | Path, target: str | Path, *, batch_size: int = COPY_BATCH,
               advance: Callable[[int], None] | None = None) -> CopyResult:
    """Copy every article and mention of ``source`` into ``target``, ``batch_size`` articles
    per transaction.

    :raise StoreError: no store at ``source``, the same store twice, or a read/write failure.
    """
    source, target = str(source), str(target)
    if _same_place(source, target):
        raise StoreError(f"{describe_store(source)}: source and target are the same store")
    src = Store(source)
    if not src.exists():
        raise StoreError(f"no store at {describe_store(source)}: nothing to copy")
    articles = src.articles(include_undated=True)
    mentions = src.mentions(include_undated=True, resolved_only=False)
    mentions = mentions[[*MENTION_COLUMNS, mentions.geometry.name]]
    by_article = dict(tuple(mentions.groupby("article_id", sort=False)))
    empty = mentions.iloc[0:0]
    written = n_mentions = 0
    with _target_writer(target) as add:
        for first in range(0, len(articles), batch_size):
            chunk = articles.iloc[first:first + batch_size][list(ARTICLE_COLUMNS)]
            parts = [by_article.get(a, empty) for a in chunk["article_id"]]
            rows = pandas.concat(parts, ignore_index=True) if parts else empty
            added, stored = add(chunk.reset_index(drop=True), rows)
            written += added
            n_mentions += stored
            if advance is not None:
                advance(len(chunk))
    return CopyResult(articles=written, mentions=n_mentions,
                      already_there=len(articles) - written)


Adder = Callable[[pandas.DataFrame, pandas.DataFrame], tuple[int, int]]


@contextmanager
def _target_writer(target: str) -> Iterator[Adder]:
    """``add(articles, mentions) -> (articles, mentions) stored`` into ``target``, holding
    its writer lock; a GeoParquet target is one run, committed when the copy ends."""
    from mapapp.stores.locking import writer_lock

    with writer_lock(target):
        if not is_parquet_store(target):
            store = Store(target)

            def add(articles: pandas.DataFrame, mentions: pandas.DataFrame) -> tuple[int, int]:
                result = store.add_frames(articles, mentions)
                return result.added, result.mentions

            yield add
            return
        from mapapp.ingest.engines import Part
        from mapapp.stores.parquet import ParquetWriter

        known = Store(target).known_ids()
        with ParquetWriter(target) as writer:
            def add_part(articles: pandas.DataFrame,
                         mentions: pandas.DataFrame) -> tuple[int, int]:
                fresh = articles[~articles["article_id"].isin(known)]
                rows = mentions[mentions["article_id"].isin(set(fresh["article_id"]))]
                if len(fresh):
                    placed = int(rows.geometry.notna().sum())
                    writer.add(Part(fresh, rows.reset_index(drop=True), placed,
                                    len(rows) - placed, has_model=True))
                return len(fresh), len(rows)

            yield add_part
