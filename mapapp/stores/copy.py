"""``mapapp store copy``: move a store between backends (GeoPackage, PostGIS, GeoParquet).

A copy is made of what the store API reads (every article with all its
columns, ``ingested_at`` included, every mention as the geoparser left it,
unresolved ones too, in the store's order, and the editors' corrections,
undone ones included), written with the target's own writer, so it is lossless
in both directions: copying A to B and B back to C gives C == A through every
read.  Articles the target already holds are left as they are (a re-run after
an interruption adds exactly what is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas

from mapapp.errors import StoreError
from mapapp.settings import describe_store
from mapapp.stores import open_store
from mapapp.stores.base import NOTHING, WriteResult
from mapapp.stores.locking import writer_lock
from mapapp.stores.schema import ARTICLE_COLUMNS, MENTION_COLUMNS

COPY_BATCH = 500  # articles per target transaction


def copy_store(
    source: str | Path,
    target: str | Path,
    *,
    batch_size: int = COPY_BATCH,
    advance: Callable[[int], None] | None = None,
) -> WriteResult:
    """Copy every article and mention of ``source`` into ``target``, ``batch_size`` articles
    per write, holding the target's writer lock; returns what the target stored (articles
    it already had are ``skipped``).

    :raise StoreError: no store at ``source``, the same store twice, or a read/write failure.
    """
    src, dst = open_store(source), open_store(target)
    if src.identity == dst.identity:
        raise StoreError(f"{describe_store(source)}: source and target are the same store")
    if not src.exists():
        raise StoreError(f"no store at {describe_store(source)}: nothing to copy")
    corrections = src.corrections()
    if corrections and dst.kind == "GeoParquet":
        raise StoreError(
            f"{describe_store(source)} holds {len(corrections)} editors' corrections, which a "
            f"GeoParquet store cannot keep: copy it to a GeoPackage or PostGIS store instead"
        )
    articles = src.articles(include_undated=True)
    mentions = src.mentions(include_undated=True, resolved_only=False, corrected=False)
    mentions = mentions[[*MENTION_COLUMNS, mentions.geometry.name]]
    by_article = dict(tuple(mentions.groupby("article_id", sort=False)))
    empty = mentions.iloc[0:0]
    done = NOTHING
    with writer_lock(target), dst.writer() as writer:
        for first in range(0, len(articles), batch_size):
            chunk = articles.iloc[first : first + batch_size][list(ARTICLE_COLUMNS)]
            parts = [by_article.get(a, empty) for a in chunk["article_id"]]
            rows = pandas.concat(parts, ignore_index=True) if parts else empty
            done += writer.add_frames(chunk.reset_index(drop=True), rows)
            if advance is not None:
                advance(len(chunk))
    if corrections:  # the editors' decisions go along (keyed by article id and offsets)
        dst.restore_corrections(corrections)
    return done
