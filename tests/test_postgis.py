"""The PostGIS store on a real PostgreSQL + PostGIS server: what only a database backend has.

Everything the two backends share (round trip, filters, idempotence, the web
pages, the browser) runs on both through the ``store_location`` fixture; here
are the migrations, the indexes behind the filtered queries, transactions
under failure and ``kill -9``, concurrent ingests, credentials, and
``mapapp store copy`` in both directions.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pandas
import pytest
from click.testing import CliRunner
from conftest import story_records
from sqlalchemy import create_engine, event, pool, text

from mapapp.cli import cli
from mapapp.errors import StoreError
from mapapp.records import Article, Place, Resolution, Toponym
from mapapp.settings import describe_store as describe
from mapapp.settings import is_postgis_url
from mapapp.stores import open_store, postgis_db
from mapapp.stores import postgis as postgis_store
from mapapp.stores.copy import copy_store
from mapapp.stores.locking import writer_lock
from mapapp.stores.postgis import PostgisStore
from mapapp.stores.postgis_db import head_revision

ROOT = Path(__file__).resolve().parent.parent
HOMS = Place(169577, "Homs", 34.72682, 36.72339, "P", "PPLA", "SY", "11", "Homs", 775_404)
GENEVA = Place(2660646, "Geneva", 46.20222, 6.14569, "P", "PPLA", "CH", "GE", "Geneva", 183_981)


def numbered_story(n: int) -> tuple[Article, list[Resolution]]:
    """Story ``n``: three mentions, one of them unresolved, dated by n."""
    text = f"HOMS -- Story {n}: aid reached Homs, then Geneva, then Nowhere Flats."
    resolutions = []
    for name, place in (("Homs", HOMS), ("Geneva", GENEVA), ("Nowhere Flats", None)):
        start = text.index(name, 10)
        toponym = Toponym(
            name, start, start + len(name), role="mention", sentence=text, source="gazetteer"
        )
        resolutions.append(
            Resolution(
                toponym,
                place,
                score=0.7 if place else 0.0,
                reason=None if place else "no gazetteer candidate",
            )
        )
    article = Article(
        f"story-{n:05d}",
        f"Story {n}",
        text,
        date(2024, 1 + n % 12, 1 + n % 28),
        dateline="HOMS",
        source="wire",
    )
    return article, resolutions


def sql(url: str, statement: str, **params):
    """Run one statement on ``url`` outside the store (autocommit); returns all rows."""
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        result = conn.execute(text(statement), params)
        return result.fetchall() if result.returns_rows else []


def migrate_to(url: str, revision: str) -> None:
    """Bring a database to an exact schema ``revision`` (as an older mapapp left it)."""
    from alembic import command

    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=pool.NullPool
    )
    with engine.begin() as conn:
        command.upgrade(postgis_db.alembic_config(conn), revision)


def frames_of(store) -> tuple[pandas.DataFrame, pandas.DataFrame, dict]:
    """Everything a store gives back: all articles, all mentions, stats."""
    mentions = pandas.DataFrame(store.mentions(include_undated=True, resolved_only=False))
    return store.articles(include_undated=True), mentions, store.stats()


def assert_same_contents(one, other) -> None:
    for left, right in zip(frames_of(one), frames_of(other), strict=False):
        if isinstance(left, dict):
            assert left == right
        else:
            pandas.testing.assert_frame_equal(left, right)


# ------------------------------------------------------------------ selection


@pytest.mark.parametrize(
    "location, expected",
    [
        ("postgresql://desk@db.example/mapapp", True),
        ("postgresql+psycopg://desk:pw@127.0.0.1:5432/mapapp", True),
        ("postgres://desk@db/mapapp", True),
        ("instance/mapapp.gpkg", False),
        ("/data/archive.parquet", False),
        ("postgresql.gpkg", False),
    ],
)
def test_a_postgresql_url_selects_postgis(location, expected):
    assert is_postgis_url(location) is expected
    assert isinstance(open_store(location), PostgisStore) is expected


def test_the_password_is_never_shown(postgis_url, postgres_server):
    wrong = postgis_url.replace(":mapapp@", ":s3cret-pw@")
    store = open_store(wrong)
    assert "s3cret-pw" not in repr(store) and "***" in describe(wrong)
    with pytest.raises(StoreError) as caught:
        store.stats()
    assert "s3cret-pw" not in str(caught.value)
    assert "password authentication failed" in str(caught.value)
    assert describe(wrong) in str(caught.value)


def test_an_unreachable_server_is_a_store_error_naming_it():
    store = open_store("postgresql://nobody:pw@127.0.0.1:9/nothing")  # port 9: nothing listens
    with pytest.raises(StoreError, match=r"postgresql://nobody:\*\*\*@127.0.0.1:9/nothing"):
        store.known_ids()


DOWN = "postgresql://nobody:pw@127.0.0.1:9/nothing"


def test_an_unreachable_server_is_one_error_line_on_the_command_line(tmp_path):
    for args in (
        ["stats"],
        ["export", "-o", str(tmp_path / "x.csv")],
        ["ingest", str(tmp_path), "--quiet"],
        ["store", "upgrade"],
    ):
        result = CliRunner().invoke(cli, [*args, "--store", DOWN])
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert result.exit_code == 1 and len(errors) == 1, result.output
        assert "postgresql://nobody:***@127.0.0.1:9/nothing" in errors[0]
        assert ":pw@" not in result.output and "Traceback" not in result.output


def test_an_unreachable_server_is_a_503_page_not_a_crash(tmp_path):
    from mapapp.web import create_app

    client = create_app({"TESTING": True, "STORE": DOWN, "CACHE_DIR": str(tmp_path)}).test_client()
    for path in ("/", "/api/points", "/stories/x", "/api/stats"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert b"could not read the store" in response.data and b":pw@" not in response.data


# ------------------------------------------------------------------ schema and migrations


def test_migrations_create_the_schema_with_its_indexes(postgis_url):
    store = PostgisStore(postgis_url)
    assert store.revision() is None and not store.exists()
    assert store.upgrade() == (None, head_revision())
    assert store.revision() == head_revision()
    indexes = {
        name: definition
        for name, definition in sql(
            postgis_url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
    }
    assert "USING gist (geom)" in indexes["mentions_geom"]
    assert "(published)" in indexes["mentions_published"]
    assert "(published)" in indexes["articles_published"]
    assert "UNIQUE" in indexes["articles_pkey"] and "(article_id)" in indexes["articles_pkey"]
    types = dict(
        sql(
            postgis_url,
            "SELECT table_name || '.' || column_name, data_type FROM "
            "information_schema.columns WHERE column_name = 'published'",
        )
    )
    assert types == {"articles.published": "date", "mentions.published": "date"}
    assert store.upgrade() == (head_revision(), head_revision())  # idempotent
    assert "(name_key)" in indexes["corrections_name_key"]


def test_an_older_store_is_upgraded_never_misread(postgis_url):
    migrate_to(postgis_url, "0001")  # a store made by the first PostGIS mapapp: text dates
    sql(
        postgis_url,
        "INSERT INTO articles (article_id, headline, published, text, ingested_at) "
        "VALUES ('old-1', 'Old story', '2024-03-01', 'Aid reached Homs.', "
        "'2024-03-02T00:00:00+00:00')",
    )
    sql(
        postgis_url,
        'INSERT INTO mentions (article_id, name, start, "end", role, '
        "published, geom) VALUES ('old-1', 'Homs', 12, 16, 'mention', "
        "'2024-03-01', ST_SetSRID(ST_MakePoint(36.72, 34.73), 4326))",
    )
    store = open_store(postgis_url)
    for read in (store.mentions, store.stats, store.known_ids):
        with pytest.raises(StoreError, match="'0001'.*mapapp store upgrade"):
            read()
    result = CliRunner().invoke(cli, ["store", "upgrade", "--store", postgis_url])
    assert result.exit_code == 0, result.output
    assert f"upgraded from 0001 to revision {head_revision()}" in result.output
    assert "mapapp:mapapp@" not in result.output  # the password stays hidden
    frame = store.mentions(date(2024, 3, 1), date(2024, 3, 1))
    assert list(frame["name"]) == ["Homs"] and frame["published"].tolist() == ["2024-03-01"]
    assert store.article("old-1")["published"] == "2024-03-01"


def test_a_writer_upgrades_an_older_store_itself(postgis_url):
    migrate_to(postgis_url, "0001")
    store = open_store(postgis_url)
    assert store.add([numbered_story(1)]).added == 1
    assert store.revision() == head_revision()
    assert store.known_ids() == {"story-00001"}


def test_a_store_from_a_newer_mapapp_is_refused(postgis_url):
    store = open_store(postgis_url)
    store.add([numbered_story(1)])
    sql(postgis_url, "UPDATE mapapp_schema_version SET version_num = '9999'")
    for call in (
        lambda s: s.mentions(),
        lambda s: s.add([numbered_story(2)]),
        lambda s: PostgisStore(postgis_url).upgrade(),
    ):
        with pytest.raises(StoreError, match="newer mapapp"):
            call(open_store(postgis_url))
    assert sql(postgis_url, "SELECT count(*) FROM articles") == [(1,)]


def test_a_database_with_other_tables_is_not_taken_over(postgis_url):
    sql(postgis_url, "CREATE TABLE articles (id int)")
    for call in (lambda s: s.known_ids(), lambda s: s.add([numbered_story(1)])):
        with pytest.raises(StoreError, match="did not make"):
            call(open_store(postgis_url))
    assert sql(postgis_url, "SELECT count(*) FROM articles") == [(0,)]


def test_a_user_who_may_not_create_postgis_is_told_what_to_ask(postgres_server):
    name = f"nopostgis_{os.getpid()}"
    postgres_server.sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    postgres_server.sql("DROP ROLE IF EXISTS mapapp_desk")
    postgres_server.sql("CREATE ROLE mapapp_desk LOGIN PASSWORD 'desk'")
    postgres_server.sql(f'GRANT ALL ON DATABASE "{name}" TO mapapp_desk')
    sql(postgres_server.url(name), "GRANT ALL ON SCHEMA public TO mapapp_desk")
    try:
        url = postgres_server.url(name).replace("mapapp:mapapp@", "mapapp_desk:desk@")
        with pytest.raises(StoreError, match="CREATE EXTENSION postgis"):
            open_store(url).add([numbered_story(1)])
        assert PostgisStore(url).revision() is None  # the failed upgrade left nothing behind
    finally:
        postgres_server.drop_database(name)
        postgres_server.sql("DROP ROLE IF EXISTS mapapp_desk")


# ------------------------------------------------------------------ queries run in SQL


@pytest.fixture
def captured(postgis_url):
    """The SQL statements (and parameters) the store sends, as they are sent."""
    store = open_store(postgis_url)
    store.add([numbered_story(n) for n in range(40)])
    statements = []
    engine = postgis_db.engine_for(postgis_url)

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    yield store, statements
    event.remove(engine, "before_cursor_execute", remember)


def _plan(url: str, statement: str, parameters) -> str:
    """EXPLAIN of a statement with sequential scans ruled out: which indexes can serve it."""
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).fetchall()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    "query, index",
    [
        (lambda s: s.mentions(bbox=(36.0, 34.0, 37.0, 35.0)), "mentions_geom"),
        (lambda s: s.mentions(date(2024, 3, 1), date(2024, 3, 31)), "mentions_published"),
        (lambda s: s.articles(date(2024, 3, 1), date(2024, 3, 31)), "articles_published"),
        (
            lambda s: s.mentions(article_id="story-00007", resolved_only=False),
            "mentions_article_id",
        ),
    ],
)
def test_filters_run_in_sql_on_an_index(captured, postgis_url, query, index):
    store, statements = captured
    got = query(store)
    select = [
        (s, p)
        for s, p in statements
        if s.lstrip().upper().startswith("SELECT")
        and ("FROM mentions" in s or "FROM articles" in s)
    ][-1]
    assert "WHERE" in select[0] and len(got) < 40 * 3  # the database filtered, not pandas
    assert index in _plan(postgis_url, *select)


def test_filtered_results_match_the_filter(captured):
    store, _ = captured
    march = store.mentions(date(2024, 3, 1), date(2024, 3, 31), resolved_only=False)
    assert set(march["published"]) <= {f"2024-03-{d:02d}" for d in range(1, 32)}
    assert len(march) == 3 * sum(1 for n in range(40) if 1 + n % 12 == 3)
    homs = store.mentions(bbox=(36.0, 34.0, 37.0, 35.0))
    assert set(homs["resolved_name"]) == {"Homs"} and len(homs) == 40


# ------------------------------------------------------------------ transactions


def test_a_failed_batch_leaves_no_trace(postgis_url, monkeypatch):
    store = open_store(postgis_url)
    store.add([numbered_story(n) for n in range(3)])
    before = frames_of(store)

    def boom(conn, rows):
        raise RuntimeError("injected failure after the articles went in")

    monkeypatch.setattr(postgis_store, "_write_mentions", boom)
    with pytest.raises(RuntimeError, match="injected"):
        store.add([numbered_story(n) for n in range(3, 6)])
    monkeypatch.undo()
    for left, right in zip(before, frames_of(store), strict=False):
        if isinstance(left, dict):
            assert left == right
        else:
            pandas.testing.assert_frame_equal(left, right)
    assert store.add([numbered_story(n) for n in range(3, 6)]).added == 3


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from test_postgis import numbered_story
    from mapapp.stores import postgis as postgis_store
    from mapapp.stores import open_store

    write = postgis_store._write_mentions
    batches = 0

    def slow_write(conn, rows):
        write(conn, rows)
        if batches == 3:  # the fourth batch: articles and mentions sent, not committed
            print("in-transaction", flush=True)
            time.sleep(60)

    postgis_store._write_mentions = slow_write
    store = open_store(sys.argv[1])
    for first in range(0, 100, 10):
        store.add([numbered_story(n) for n in range(first, first + 10)])
        batches += 1
        print(f"committed {batches}", flush=True)
""")


def test_kill_9_mid_batch_leaves_whole_articles_only(postgis_url):
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, postgis_url, str(ROOT / "tests")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lines = []
    for line in child.stdout:
        lines.append(line.strip())
        if line.strip() == "in-transaction":
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=30)
    assert lines[-2:] == ["committed 3", "in-transaction"], lines
    deadline = time.monotonic() + 30  # the server rolls back once it sees the socket close
    while sql(
        postgis_url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
        "current_database() AND state LIKE 'idle in transaction%'",
    ) != [(0,)]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    store = open_store(postgis_url)
    assert store.known_ids() == {f"story-{n:05d}" for n in range(30)}
    counts = store.mentions(resolved_only=False).groupby("article_id").size()
    assert (counts == 3).all() and len(counts) == 30
    result = store.add([numbered_story(n) for n in range(100)])  # the same ingest again
    assert (result.added, result.skipped) == (70, 30)
    assert store.stats()["mentions"] == 300


def _ingest_shuffled(url: str, seed: int, barrier) -> int:
    stories = [numbered_story(n) for n in range(60)]
    random.Random(seed).shuffle(stories)
    barrier.wait()
    store = open_store(url)
    return sum(store.add(stories[i : i + 7]).added for i in range(0, len(stories), 7))


def test_concurrent_ingests_never_double_an_article(postgis_url):
    """Four processes ingest the same stories, shuffled, into a database with no schema yet:
    one of them migrates while the others wait, and every story lands exactly once."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(4)
        with context.Pool(4) as workers:
            added = workers.starmap(
                _ingest_shuffled, [(postgis_url, seed, barrier) for seed in range(4)]
            )
    assert sum(added) == 60  # each story was added by exactly one of them
    store = open_store(postgis_url)
    counts = store.mentions(resolved_only=False).groupby("article_id").size()
    assert len(counts) == 60 and (counts == 3).all()


def test_team_ingests_do_not_wait_for_each_other(postgis_url):
    with writer_lock(postgis_url):
        with writer_lock(postgis_url):  # a second ingest runs alongside, no file lock
            assert open_store(postgis_url).add([numbered_story(1)]).added == 1


# ------------------------------------------------------------------ store copy


def test_copy_geopackage_to_postgis_and_back_is_lossless(postgis_url, tmp_path):
    original = open_store(tmp_path / "original.gpkg")
    original.add(story_records() + [numbered_story(n) for n in range(25)])
    first = copy_store(original.location, postgis_url, batch_size=7)
    assert (first.added, first.skipped) == (31, 0)
    assert first.mentions == original.stats()["mentions"]
    assert_same_contents(original, open_store(postgis_url))
    back = open_store(tmp_path / "back.gpkg")
    copy_store(postgis_url, back.location)
    assert_same_contents(original, back)
    parquet = open_store(tmp_path / "archive.parquet")
    copy_store(postgis_url, parquet.location)
    assert_same_contents(original, parquet)
    again = copy_store(original.location, postgis_url)  # re-running adds nothing
    assert (again.added, again.skipped) == (0, 31)


def test_copy_postgis_to_geopackage_and_back_is_lossless(postgres_server, postgis_url, tmp_path):
    open_store(postgis_url).add(story_records() + [numbered_story(n) for n in range(5)])
    middle = tmp_path / "middle.gpkg"
    result = CliRunner().invoke(cli, ["store", "copy", postgis_url, str(middle), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "copied 11 articles" in result.output and "mapapp:mapapp@" not in result.output
    name = postgres_server.create_database()
    try:
        target = postgres_server.url(name)
        result = CliRunner().invoke(cli, ["store", "copy", str(middle), target, "--quiet"])
        assert result.exit_code == 0, result.output
        assert_same_contents(open_store(postgis_url), open_store(target))
    finally:
        postgres_server.drop_database(name)


def test_copy_refuses_a_missing_source_and_the_same_store(postgis_url, tmp_path):
    with pytest.raises(StoreError, match="no store at"):
        copy_store(tmp_path / "absent.gpkg", postgis_url)
    open_store(postgis_url).add([numbered_story(1)])
    with pytest.raises(StoreError, match="same store"):
        copy_store(postgis_url, postgis_url)
    result = CliRunner().invoke(
        cli, ["store", "copy", str(tmp_path / "absent.gpkg"), str(tmp_path / "b.gpkg")]
    )
    assert result.exit_code == 1 and "Error: no store at" in result.output
