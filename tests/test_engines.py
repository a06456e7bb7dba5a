"""Ingest engines: worker processes and a Dask cluster store what one process stores.

The articles are the sample corpus in data/; stores are compared through the
read API (mentions, articles, stats), so the GeoParquet store that the Dask
engine writes is checked against the GeoPackage of the local engine too.
The Dask tests start a 2-worker LocalCluster (about 10 s each).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas
import pytest
from geopandas.testing import assert_geodataframe_equal

from mapapp.cli import cli
from mapapp.ingest import engines
from mapapp.ingest.pipeline import ingest
from mapapp.settings import Settings, load_settings
from mapapp.stores import open_store
from mapapp.stores.frames import batch_frames
from mapapp.stores.parquet import ParquetStore, ParquetWriter

pytest_plugins = ["geo_fixtures"]

DATA = Path(__file__).resolve().parent.parent / "data"


def assert_same_store(expected: Path | str, actual: Path | str) -> None:
    """Same articles, same mentions (all columns and points), same stats."""
    want, got = open_store(expected), open_store(actual)
    assert_geodataframe_equal(
        got.mentions(include_undated=True, resolved_only=False),
        want.mentions(include_undated=True, resolved_only=False),
    )
    pandas.testing.assert_frame_equal(
        got.articles(include_undated=True).drop(columns="ingested_at"),
        want.articles(include_undated=True).drop(columns="ingested_at"),
    )
    assert got.stats() == want.stats()


@pytest.fixture(scope="module")
def make_config(gazetteer, gazetteer_cache: Path, data_packages: Path):
    """Settings for a store; workers load the gazetteer from the session's cache."""

    def make(store: Path | str) -> Settings:
        return load_settings(
            {
                "STORE": str(store),
                "CACHE_DIR": str(gazetteer_cache),
                "DATA_PACKAGES": str(data_packages),
                "GEOCODER": "offline",
            }
        )

    return make


@pytest.fixture(scope="module")
def one_process(make_config, tmp_path_factory: pytest.TempPathFactory):
    """data/ ingested by the local engine with one worker: the reference store."""
    store = tmp_path_factory.mktemp("one") / "mapapp.gpkg"
    summary = ingest([DATA], make_config(store))
    assert summary.articles > 30 and not summary.errors, summary
    return store, summary


def test_two_workers_store_what_one_process_stores(one_process, make_config, tmp_path):
    reference, summary = one_process
    store = tmp_path / "two.gpkg"
    assert ingest([DATA], make_config(store), workers=2) == summary
    assert_same_store(reference, store)


def test_dask_local_cluster_stores_what_the_local_engine_stores(one_process, make_config, tmp_path):
    reference, summary = one_process
    store = tmp_path / "archive.parquet"
    config = make_config(store)
    assert ingest([DATA], config, engine="dask", workers=2) == summary
    assert isinstance(open_store(store), ParquetStore)
    assert_same_store(reference, store)
    again = ingest([DATA], config, engine="dask", workers=2)
    assert (again.articles, again.already_stored) == (0, summary.articles)


def test_postgis_stores_what_the_geopackage_stores(one_process, make_config, postgis_url):
    """The same ingest (two worker processes) into a PostGIS store reads back identically."""
    reference, summary = one_process
    assert ingest([DATA], make_config(postgis_url), workers=2) == summary
    assert_same_store(reference, postgis_url)
    again = ingest([DATA], make_config(postgis_url))
    assert (again.articles, again.already_stored) == (0, summary.articles)


def test_dask_recovers_a_killed_worker_without_losing_or_doubling(
    one_process, make_config, tmp_path
):
    from dask.distributed import LocalCluster

    reference, summary = one_process
    store = tmp_path / "killed.parquet"
    scan = engines.scan_articles([DATA], set())
    killed: list[int] = []

    def worker_pids(cluster: LocalCluster) -> set[int]:
        """The worker processes' ids, read off their nannies (a second Client in this
        process would share its futures' event loop with the engine's and break them)."""
        return {nanny.process.pid for nanny in cluster.workers.values() if nanny.process}

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:

        def kill_one_worker(n: int) -> None:  # after the first partition, 9 to go
            if not killed:
                killed.append(min(worker_pids(cluster)))
                os.kill(killed[0], signal.SIGKILL)

        done = engines.run_ingest(
            [DATA],
            scan,
            make_config(store),
            engine="dask",
            scheduler=cluster.scheduler_address,
            partition_size=4,
            advance=kill_one_worker,
        )
        assert killed and killed[0] not in worker_pids(cluster)
    assert done.stored.added == summary.articles == len(scan.fresh)
    ids = open_store(store).articles(include_undated=True)["article_id"]
    assert ids.is_unique and set(ids) == set(scan.fresh)
    assert_same_store(reference, store)


def test_parquet_store_reads_like_the_others(store, articles_records, tmp_path):
    """The hand-made stories (payloads, undated, unresolved) read back the same from
    GeoParquet as from the GeoPackage and PostGIS stores."""
    parquet = tmp_path / "stories.parquet"
    with ParquetWriter(parquet, partition_size=2) as writer:
        for article, resolutions in articles_records:
            writer.add_frames(*batch_frames([(article, resolutions)]))
    assert len(ParquetStore(parquet).manifest()["parts"]) == 3
    assert_same_store(store.location, parquet)
    got, want = open_store(parquet), store
    day = pandas.Timestamp("2024-04-01").date()
    assert_geodataframe_equal(got.mentions(day, None), want.mentions(day, None))
    assert got.article("syria-0301")["headline"] == want.article("syria-0301")["headline"]
    assert got.article("no-such-story") is None
    assert got.known_ids() == want.known_ids()


def test_a_failed_run_leaves_the_parquet_store_as_it_was(articles_records, tmp_path):
    parquet = tmp_path / "stories.parquet"
    with pytest.raises(RuntimeError), ParquetWriter(parquet, partition_size=1) as writer:
        writer.add_frames(*batch_frames(articles_records[:1]))
        raise RuntimeError("killed mid-run")
    assert open_store(parquet).known_ids() == set()
    assert [p.name for p in parquet.iterdir()] == ["manifest.json"]


def test_web_pages_read_a_parquet_store(articles_records, tmp_path):
    from mapapp.web import create_app

    parquet = tmp_path / "stories.parquet"
    with ParquetWriter(parquet) as writer:
        writer.add_frames(*batch_frames(articles_records))
    client = create_app(
        {"TESTING": True, "STORE": str(parquet), "CACHE_DIR": str(tmp_path / "cache")}
    ).test_client()
    for url in ("/", "/stories/syria-0301", "/api/stats", "/export.csv"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.data[:300])
    assert b"Talks open in Damascus" in client.get("/stories/syria-0301").data
    assert client.get("/api/stats").get_json()["articles"] == len(articles_records)


@pytest.mark.parametrize(
    "args, naming",
    [
        (["--engine", "dask"], ".parquet"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "--engine dask"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_engine_options_refuse_what_cannot_work(args, naming, tmp_path):
    from click.testing import CliRunner

    store = tmp_path / "mapapp.gpkg"
    result = CliRunner().invoke(cli, ["ingest", str(DATA), "--quiet", "--store", str(store), *args])
    assert result.exit_code != 0 and naming in result.output, result.output
    assert not store.exists()
