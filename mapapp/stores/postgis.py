"""The team store: articles and mentions in PostgreSQL with PostGIS.

``MAPAPP_STORE=postgresql://user@host/db`` (or ``--store``) selects it;
``open_store(url)`` returns a `PostgisStore`, which reads and writes exactly like
the GeoPackage store, so nothing above the store can tell them apart.  What
differs is underneath:

- the schema is made and upgraded by Alembic migrations
  (``mapapp/stores/migrations/versions``), recorded in ``mapapp_schema_version``;
  writers upgrade an older store, readers refuse one rather than misread it,
  and a store made by a newer mapapp is refused by both;
- rows go in through geopandas' ``to_postgis`` and come out through
  ``read_postgis``; date, article and bounding-box filters run in SQL on
  their indexes (a GiST index on the points, B-tree indexes on the dates);
- every batch is one transaction.  Articles are keyed by their content hash
  and inserted with ``ON CONFLICT DO NOTHING`` in id order, and only the
  articles that transaction really inserted get mentions, so concurrent
  ingests by several people never store a story twice and a crash leaves
  whole articles only.

This module knows only records and the store's frames; it must not import
geocoding or toponyms.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas
import pandas

from mapapp.errors import StoreError
from mapapp.settings import describe_store as describe
from mapapp.stores.base import Appending, sql_stats
from mapapp.stores.postgis_db import (
    MIGRATION_LOCK,
    alembic_config,
    engine_for,
    head_revision,
    is_older,
    revision_of,
)
from mapapp.stores.postgis_editors import PostgisEditors
from mapapp.stores.schema import (
    ARTICLE_COLUMNS,
    CRS,
    GEOM,
    JOINED_COLUMNS,
    MENTION_COLUMNS,
    empty_articles,
    empty_view,
    typed,
)

_DATE = "to_char({}, 'YYYY-MM-DD')"


class PostgisStore(PostgisEditors, Appending):
    """Articles and mentions in a PostGIS database; the same reads and writes as every store
    (``add``, ``add_frames`` and ``replace`` come from `Appending`, over ``_append``)."""

    kind = "PostGIS"
    needs_writer_lock = False  # batches are transactions; the unique id keeps ingests apart

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        self._ready = False  # schema known to be at head (checked once per instance)

    @property
    def identity(self) -> str:
        """The same text for every handle on the same database (never its password)."""
        return describe(self.location)

    def __repr__(self) -> str:
        return f"PostgisStore({describe(self.location)!r})"

    # -- connections -----------------------------------------------------

    def _fail(self, err: BaseException, doing: str) -> StoreError:
        """A StoreError naming the database (never its password), for ``raise ... from err``."""
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()
        return StoreError(
            f"{describe(self.location)}: could not {doing} the store "
            f"({reason[0] if reason else type(err).__name__})"
        )

    def _engine(self) -> Any:
        return engine_for(self.location)

    @contextmanager
    def _connection(self, doing: str, *, read_only: bool) -> Iterator[Any]:
        """A connection inside one transaction; database errors become StoreErrors."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine().connect() as conn:
                if read_only:  # one snapshot for every query of the read
                    conn = conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                with conn.begin():
                    yield conn
        except StoreError as err:
            if str(err).startswith(describe(self.location)):
                raise
            raise StoreError(f"{describe(self.location)} {err}") from err
        except (SQLAlchemyError, OSError) as err:
            raise self._fail(err, doing) from err

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A read-only snapshot of a store at the head revision, or None if it has no schema yet.

        :raise StoreError: the schema is older (run ``mapapp store upgrade``) or newer.
        """
        with self._connection("read", read_only=True) as conn:
            revision = revision_of(conn)
            if revision is not None and is_older(revision):
                raise StoreError(
                    f"has schema revision {revision!r}; this mapapp reads {head_revision()!r}. "
                    f"Run 'mapapp store upgrade' (or any ingest) to upgrade it"
                )
            yield None if revision is None else conn

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """One write transaction on a store brought up to the head revision first."""
        if not self._ready:
            self.upgrade()
        with self._connection("write to", read_only=False) as conn:
            yield conn
            conn.exec_driver_sql("UPDATE store_changes SET changes = changes + 1 WHERE id = 1")

    # -- the schema ------------------------------------------------------

    def revision(self) -> str | None:
        """The store's schema revision (None when the database has no mapapp schema yet)."""
        with self._connection("read", read_only=True) as conn:
            return revision_of(conn)

    def upgrade(self) -> tuple[str | None, str]:
        """Create or upgrade the schema to the head revision, in one transaction.

        Concurrent callers queue on an advisory lock, so only the first one
        migrates.  Returns (revision before, revision after).
        """
        from alembic import command
        from sqlalchemy import text

        with self._connection("upgrade", read_only=False) as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            before = revision_of(conn)
            if before is None or is_older(before):
                try:
                    command.upgrade(alembic_config(conn), "head")
                except Exception as err:
                    if "postgis" in str(err).lower() and "extension" in str(err).lower():
                        raise StoreError(
                            "needs the PostGIS extension, which this user may not create: ask "
                            "an administrator to run 'CREATE EXTENSION postgis' in the "
                            f"database ({str(getattr(err, 'orig', err)).splitlines()[0]})"
                        ) from err
                    raise
        self._ready = True
        return before, head_revision()

    def exists(self) -> bool:
        """Is there a store (a mapapp schema) in the database?"""
        return self.revision() is not None

    def check(self) -> None:
        """Refuse a database holding tables mapapp did not make (an empty one is fine)."""
        self.revision()

    def scratch_paths(self) -> list[Path]:
        """None: a failed batch is a rolled-back transaction."""
        return []

    def version(self) -> str:
        """A token that changes with every committed write (readers' caches key on it)."""
        with self._reading() as conn:
            if conn is None:
                return "empty"
            changes = conn.exec_driver_sql("SELECT changes FROM store_changes").scalar()
        return hashlib.sha256(f"{describe(self.location)}|{changes}".encode()).hexdigest()[:16]

    # -- writing ---------------------------------------------------------

    def _append(
        self, articles: pandas.DataFrame, mentions: geopandas.GeoDataFrame, replace: bool = False
    ) -> tuple[int, int, int]:
        """Insert the unseen articles, then the mentions of exactly those; all or nothing;
        returns (articles, mentions, resolved mentions) stored.

        With ``replace``, the given articles' stored mentions are deleted and
        all their new mentions go in (the articles themselves stay).
        """
        from sqlalchemy import bindparam, text

        with self._writing() as conn:
            ids = sorted(set(articles["article_id"]))
            if replace:
                keep = set(
                    conn.execute(
                        text("SELECT article_id FROM articles WHERE article_id IN :ids").bindparams(
                            bindparam("ids", expanding=True)
                        ),
                        {"ids": ids},
                    ).scalars()
                )
                if keep:
                    conn.execute(
                        text("DELETE FROM mentions WHERE article_id IN :ids").bindparams(
                            bindparam("ids", expanding=True)
                        ),
                        {"ids": sorted(keep)},
                    )
                added = 0
            else:
                keep = self._insert_articles(conn, articles)
                added = len(keep)
            rows = mentions[mentions["article_id"].isin(keep)]
            _write_mentions(conn, rows)
        return added, len(rows), int(rows.geometry.notna().sum())

    @staticmethod
    def _insert_articles(conn: Any, articles: pandas.DataFrame) -> set[str]:
        """INSERT the articles whose ids are not stored (in id order: no deadlock between
        concurrent ingests); returns the ids this transaction inserted."""
        if articles.empty:
            return set()
        from sqlalchemy.dialects.postgresql import insert

        frame = articles.drop_duplicates("article_id").sort_values("article_id", kind="stable")
        rows = [
            {name: _plain(value) for name, value in row.items()}
            for row in frame[list(ARTICLE_COLUMNS)].to_dict("records")
        ]
        for row in rows:
            row["published"] = date.fromisoformat(row["published"]) if row["published"] else None
        table = _articles_table()
        statement = (
            insert(table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["article_id"])
            .returning(table.c.article_id)
        )
        return set(conn.execute(statement).scalars())

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

        ``bbox`` (west, south, east, north in degrees) keeps the points inside
        it, found through the GiST index.
        """
        from sqlalchemy import text

        clause, params = _date_filter("m.published", start, end, include_undated)
        if article_id is not None:
            clause += " AND m.article_id = :article_id"
            params["article_id"] = article_id.replace("\x00", "\ufffd")  # matches no id
        if resolved_only:
            clause += f" AND m.{GEOM} IS NOT NULL"
        if bbox is not None:
            clause += f" AND m.{GEOM} && ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
            params.update(zip(("west", "south", "east", "north"), map(float, bbox), strict=False))
        columns = ", ".join(
            _DATE.format("m.published") + ' AS "published"'
            if name == "published"
            else f'm."{name}"'
            for name in MENTION_COLUMNS
        )
        sql = (
            f'SELECT {columns}, a."headline", a."url", m.{GEOM} FROM mentions m '
            f"LEFT JOIN articles a ON a.article_id = m.article_id WHERE {clause} "
            f'ORDER BY m.published IS NULL, m.published, m.article_id COLLATE "C", '
            f"m.start, m.mention_id"
        )
        with self._reading() as conn:
            if conn is None:
                return empty_view()
            frame = geopandas.read_postgis(text(sql), conn, geom_col=GEOM, crs=CRS, params=params)
        frame = frame.rename_geometry("geometry")
        rows = typed(
            pandas.DataFrame(frame.drop(columns="geometry")), {**MENTION_COLUMNS, **JOINED_COLUMNS}
        )
        return geopandas.GeoDataFrame(rows, geometry=frame.geometry, crs=CRS)

    def articles(
        self, start: date | None = None, end: date | None = None, *, include_undated: bool = False
    ) -> pandas.DataFrame:
        """Articles published in [start, end] (all when unbounded), by date then headline."""
        from sqlalchemy import text

        clause, params = _date_filter("published", start, end, include_undated)
        sql = (
            f"SELECT {_article_columns()} FROM articles WHERE {clause} "
            f'ORDER BY published IS NULL, published, headline COLLATE "C", '
            f'article_id COLLATE "C"'
        )
        with self._reading() as conn:
            if conn is None:
                return empty_articles()
            frame = pandas.read_sql_query(text(sql), conn, params=params)
        return typed(frame, ARTICLE_COLUMNS)

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One stored article as a dict of its columns, or None if it is not stored."""
        from sqlalchemy import text

        if "\x00" in article_id:  # PostgreSQL text cannot hold NUL: no such id is stored
            return None
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(
                text(f"SELECT {_article_columns()} FROM articles WHERE article_id = :id"),
                {"id": article_id},
            ).fetchone()
        return dict(zip(ARTICLE_COLUMNS, row, strict=False)) if row else None

    def known_ids(self) -> set[str]:
        """The ids of every stored article (to skip re-ingesting them)."""
        with self._reading() as conn:
            if conn is None:
                return set()
            return set(conn.exec_driver_sql("SELECT article_id FROM articles").scalars())

    def stats(self) -> dict[str, Any]:
        """Counts, date range and the ten most mentioned places, from one snapshot."""
        with self._reading() as conn:
            if conn is None:
                return sql_stats(None)
            return sql_stats(
                lambda sql: conn.exec_driver_sql(sql).fetchall(),
                day=_DATE.format,
                text=lambda column: f'{column} COLLATE "C" NULLS FIRST',
            )


def _plain(value: Any) -> Any:
    """A pandas cell as a plain Python value for the driver (missing values as None)."""
    if value is None or (isinstance(value, float) and value != value) or value is pandas.NA:
        return None
    return value


def _article_columns() -> str:
    return ", ".join(
        _DATE.format("published") + ' AS "published"' if name == "published" else f'"{name}"'
        for name in ARTICLE_COLUMNS
    )


@functools.lru_cache(maxsize=1)
def _articles_table() -> Any:
    """The ``articles`` table as SQLAlchemy Core sees it (for INSERT ... ON CONFLICT)."""
    import sqlalchemy as sa

    return sa.Table(
        "articles",
        sa.MetaData(),
        *(
            sa.Column(
                name, sa.Date if name == "published" else sa.Text, primary_key=name == "article_id"
            )
            for name in ARTICLE_COLUMNS
        ),
    )


def _date_filter(
    column: str, start: date | None, end: date | None, include_undated: bool
) -> tuple[str, dict[str, Any]]:
    """An SQL condition keeping rows whose ``column`` date lies in [start, end]."""
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


def _write_mentions(conn: Any, rows: geopandas.GeoDataFrame) -> None:
    """Append mention rows with ``to_postgis`` (COPY), in their order (the mention ids follow it).

    geopandas cannot tell the geometry type of a batch whose mentions are all
    unresolved, so such a batch goes in through pandas without the (NULL) points.
    """
    if rows.empty:
        return
    frame = rows[[*MENTION_COLUMNS, rows.geometry.name]].rename_geometry(GEOM)
    if frame[GEOM].notna().any():
        frame.to_postgis("mentions", conn, if_exists="append", index=False)
    else:
        plain = pandas.DataFrame(frame.drop(columns=GEOM))
        plain["published"] = [
            date.fromisoformat(v) if isinstance(v, str) else None for v in plain["published"]
        ]
        plain.to_sql("mentions", conn, if_exists="append", index=False, method="multi")
